/*
 * fuzz_notify.c - bastion-notify's mail (notify/mail.c) for any engineer,
 * vendor, device and reason: whatever they hold, the message must keep
 * the shape tests/unit/notify_fixture.h checks (ASCII, only the headers
 * mail.c writes, encoded words of at most 75 characters, a base64 body)
 * and the body must decode to text without a CR. A value
 * that slipped into a header or out of base64 would be a header or SMTP
 * injection.
 *
 * Input: engineer, vendor, device, reason and path, separated by 0x1f
 * bytes; a path makes it a file export request's mail (path, size,
 * SHA-256: docs/APPROVALS.md "File export requests").
 */
#include "fuzz.h"

#include "buf.h"
#include "notify.h"
#include "../tests/unit/notify_fixture.h"

static const struct notify_view view = {
	"https://bastion.example:8443/#/admin/requests/42",
	"ssh -A ADMIN@bastion.example approve 42 2h",
	"ssh -A ADMIN@bastion.example deny 42 REASON",
};

static void
field(char *out, size_t outlen, const char **p, const char *end)
{
	const char *q = memchr(*p, 0x1f, (size_t)(end - *p));
	size_t n;

	if (q == NULL)
		q = end;
	n = (size_t)(q - *p);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = q < end ? q + 1 : end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *to[] = { "it@hospital.example" };
	struct notify_req r;
	struct buf *m = NULL;
	char *head, *body;

	memset(&r, 0, sizeof(r));
	r.id = 42;
	field(r.engineer, sizeof(r.engineer), &p, end);
	field(r.vendor, sizeof(r.vendor), &p, end);
	field(r.device, sizeof(r.device), &p, end);
	field(r.reason, sizeof(r.reason), &p, end);
	field(r.path, sizeof(r.path), &p, end);
	if (r.path[0] != '\0') {
		r.file = 1;
		r.size = (long long)size;
		memset(r.sha256, 'a', 64);
	}
	if (notify_mail_build(&r, &view, "bastion@hospital.example", to, 1,
	    "0123abcd", 1765000000, &m) != 0)
		return (0);
	if (notify_fixture_split(buf_ptr(m), buf_len(m), &head, &body) != 0 ||
	    strchr(body, '\r') != NULL)
		abort();
	free(head);
	free(body);
	buf_free(m);
	return (0);
}
