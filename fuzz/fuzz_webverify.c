/*
 * fuzz_webverify.c - the offline WebAuthn proof of the web console's
 * decisions (recorder/lib/webverify.c, `bastion-verify --audit
 * --webauthn`): an audit chain handed to an auditor is untrusted. Every
 * web.enroll, web.login, web.assertion and decision line goes through
 * the bounded field reader, hex and base64 decoders, the canonical action
 * parser and proto/webauthn.c. The counts must agree with the items.
 *
 * Input: an audit.log.
 */
#include "fuzz.h"

#include <stdio.h>

#include "err.h"
#include "webverify.h"

struct tally {
	uint64_t items, ok, failed, orphans, decided;
};

static void
count(const struct webverify_item *it, void *arg)
{
	struct tally *t = arg;

	t->items++;
	if (it->ok && !it->orphan) {
		t->ok++;
		if (it->decision_seq != 0)
			t->decided++;
	}
	if (!it->ok)
		t->failed++;
	if (it->orphan)
		t->orphans++;
	/* the texts are NUL-terminated within their arrays */
	if (strlen(it->why) >= sizeof(it->why) ||
	    strlen(it->challenge) >= sizeof(it->challenge) ||
	    strlen(it->target) >= sizeof(it->target))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webverify_summary s;
	struct tally t;
	FILE *fp;
	int r;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return (0);
	memset(&t, 0, sizeof(t));
	r = webverify_fp(fp, count, &t, &s);
	fclose(fp);
	if (r != 0)
		return (0);
	if (t.ok != s.verified || t.decided != s.decided ||
	    t.failed != s.failed || s.verified > s.assertions ||
	    s.decided > s.verified || t.items - t.orphans != s.assertions)
		abort();
	return (0);
}
