/*
 * test_peerwatch_sign.c - a watch request signed by the asking node's
 * audit key and checked against the key the session's node pins for it
 * (bastion/peerwatch_sign.c): a request signed with a real key in a
 * state directory verifies against that key's pinned base64 line; any
 * field changed after signing (session, admin, either node, recipient,
 * expiry, request id) fails; so do a request without a signature, a
 * malformed one, one from a node with no key pinned, one verified
 * against another node's key, and a state directory without a key (the
 * asking side refuses to file it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditckpt.h"
#include "err.h"
#include "peerwatch.h"
#include "policy.h"
#include "reckey.h"
#include "state.h"

static char dir[64];
static char pinned[128], other[128];
static struct policy_node_key pins[1];
static struct policy pol;

/* The base64 line of a new key's public PEM into out; the key saved as
 * path when path is not NULL. */
static void
new_key(const char *path, char *out, size_t len)
{
	struct reckey *k = NULL;
	char *pem = NULL, *b, *e;

	assert_int_equal(reckey_generate(&k), 0);
	assert_int_equal(reckey_public_pem(k, &pem), 0);
	assert_non_null(b = strchr(pem, '\n'));
	b++;
	assert_non_null(e = strchr(b, '\n'));
	assert_true((size_t)(e - b) < len);
	snprintf(out, len, "%.*s", (int)(e - b), b);
	if (path != NULL)
		assert_int_equal(reckey_save(k, path), 0);
	free(pem);
	reckey_free(k);
}

static int
setup(void **state)
{
	char path[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_peerwatch_sign.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(path, sizeof(path), "%s/" CKPT_KEY_FILE, dir);
	new_key(path, pinned, sizeof(pinned));
	new_key(NULL, other, sizeof(other));
	pins[0].node = "bastion-b";
	pins[0].key = pinned;
	pol.state_dir = dir;
	pol.store_nodes = pins;
	pol.nstore_nodes = 1;
	return (0);
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/" CKPT_KEY_FILE, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" CKPT_KEY_FILE ".pub", dir);
	unlink(path);
	rmdir(dir);
	return (0);
}

static void
request(struct state_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->session = 17;
	snprintf(w->admin, sizeof(w->admin), "bob");
	snprintf(w->from_node, sizeof(w->from_node), "bastion-b");
	snprintf(w->to_node, sizeof(w->to_node), "bastion-a");
	snprintf(w->recipient, sizeof(w->recipient), "age1ql3z7hjy54pw3hyww5"
	    "ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p");
	w->expires = 1900000000;
	assert_int_equal(peerwatch_sign(&pol, w), 0);
	assert_int_equal(strlen(w->nonce), STATE_WATCH_NONCE_HEX);
	assert_int_equal(strlen(w->sig), STATE_WATCH_SIG_HEX);
}

static void
expect_refused(const struct state_watch *w, const char *why)
{
	const char *no = peerwatch_verify(&pol, w);

	if (no == NULL || strstr(no, why) == NULL)
		fail_msg("want \"%s\", got %s", why, no != NULL ? no : "ok");
}

static void
test_signed_verifies(void **state)
{
	struct state_watch w, w2;

	(void)state;
	request(&w);
	assert_null(peerwatch_verify(&pol, &w));
	/* each request its own id */
	request(&w2);
	assert_string_not_equal(w.nonce, w2.nonce);
	assert_null(peerwatch_verify(&pol, &w2));
}

static void
test_each_field_is_signed(void **state)
{
	const char *bad = "not the asking node's pinned key's";
	struct state_watch w;

	(void)state;
	request(&w);
	w.session = 18;
	expect_refused(&w, bad);
	request(&w);
	snprintf(w.admin, sizeof(w.admin), "boc");
	expect_refused(&w, bad);
	request(&w);
	snprintf(w.to_node, sizeof(w.to_node), "bastion-c");
	expect_refused(&w, bad);
	request(&w);
	w.recipient[10] = w.recipient[10] == 'q' ? 'p' : 'q';
	expect_refused(&w, bad);
	request(&w);
	w.expires++;
	expect_refused(&w, bad);
	request(&w);
	w.nonce[0] = w.nonce[0] == 'a' ? 'b' : 'a';
	expect_refused(&w, bad);
	/* the fields' boundaries are part of what is signed */
	request(&w);
	snprintf(w.admin, sizeof(w.admin), "bob\n9:bastion-b");
	expect_refused(&w, bad);
}

static void
test_unsigned_and_malformed(void **state)
{
	struct state_watch w;

	(void)state;
	request(&w);
	w.sig[0] = '\0';
	expect_refused(&w, "not signed by the asking node");
	request(&w);
	w.sig[5] = 'x';
	expect_refused(&w, "malformed");
	request(&w);
	w.sig[STATE_WATCH_SIG_HEX - 1] = '\0';
	expect_refused(&w, "malformed");
	request(&w);
	w.nonce[3] = '\0';
	expect_refused(&w, "malformed");
}

static void
test_pins(void **state)
{
	struct state_watch w;

	(void)state;
	/* signed by B's key, but claimed from a node with no key pinned */
	request(&w);
	snprintf(w.from_node, sizeof(w.from_node), "bastion-c");
	expect_refused(&w, "has no audit key pinned in this node's policy");
	/* B's pinned key replaced by another: B's signature fails */
	request(&w);
	pins[0].key = other;
	expect_refused(&w, "not the asking node's pinned key's");
	/* a pinned value that is no key at all */
	pins[0].key = "bm90IGEga2V5";
	expect_refused(&w, "pinned key cannot be read");
	pins[0].key = pinned;
	assert_null(peerwatch_verify(&pol, &w));
	/* no pins at all: refused */
	pol.nstore_nodes = 0;
	expect_refused(&w, "has no audit key pinned");
	pol.nstore_nodes = 1;
}

static void
test_no_key_no_request(void **state)
{
	struct policy nokey = pol;
	struct state_watch w;

	(void)state;
	memset(&w, 0, sizeof(w));
	nokey.state_dir = "/nonexistent-state-dir";
	assert_int_not_equal(peerwatch_sign(&nokey, &w), 0);
	assert_string_equal(w.sig, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_verifies),
		cmocka_unit_test(test_each_field_is_signed),
		cmocka_unit_test(test_unsigned_and_malformed),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_no_key_no_request),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
