/*
 * test_notify.c - bastion-notify's pieces that must be exactly right:
 * HMAC-SHA256 against RFC 4231's vectors and the webhook signature
 * against one computed by Python's hmac module; the mail: a Subject in
 * RFC 2047 encoded words (each at most 75 characters, whole UTF-8
 * characters, decoding back to the text), and a message whose reason
 * holds CR LF, a lone ".", a header-looking "Bcc:" line and Japanese,
 * none of which may reach the header block or appear outside base64;
 * the address check that keeps names, commas and line breaks out of
 * headers. The message's shape is notify_fixture.h's (fuzz_notify.c
 * checks the same for any input), and a file export request's mail. notify/,
 * docs/APPROVALS.md "Notifications".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "hex.h"
#include "mailaddr.h"
#include "notify.h"
#include "notify_fixture.h"

/* ---- HMAC and signature ------------------------------------------------ */

static void
hmac_check(const void *key, size_t keylen, const char *data,
    const char *want)
{
	uint8_t mac[32];
	char hex[65];

	assert_int_equal(notify_hmac_sha256(key, keylen, data, strlen(data),
	    mac), 0);
	hex_encode(mac, sizeof(mac), hex);
	assert_string_equal(hex, want);
}

static void
test_hmac_rfc4231(void **state)
{
	uint8_t k1[20], k3[20], k6[131];

	(void)state;
	memset(k1, 0x0b, sizeof(k1));
	memset(k3, 0xaa, sizeof(k3));
	memset(k6, 0xaa, sizeof(k6));
	/* test case 1 */
	hmac_check(k1, sizeof(k1), "Hi There", "b0344c61d8db38535ca8afceaf0bf1"
	    "2b881dc200c9833da726e9376c2e32cff7");
	/* test case 2: a key shorter than the block */
	hmac_check("Jefe", 4, "what do ya want for nothing?", "5bdcc146bf6075"
	    "4e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than the block (hashed first) */
	hmac_check(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - "
	    "Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5"
	    "140546040f0ee37f54");
	/* a wrong key gives another value (the check can fail) */
	{
		uint8_t a[32], b[32];

		assert_int_equal(notify_hmac_sha256(k1, sizeof(k1), "x", 1, a),
		    0);
		assert_int_equal(notify_hmac_sha256(k3, sizeof(k3), "x", 1, b),
		    0);
		assert_memory_not_equal(a, b, sizeof(a));
	}
}

static void
test_signature(void **state)
{
	const char *body = "{\"event\":\"request.pending\"}";
	char sig[NOTIFY_SIG_LEN], sig2[NOTIFY_SIG_LEN];

	(void)state;
	/* python3: hmac.new(b"whsec-test", b"1700000000." + body,
	 * hashlib.sha256).hexdigest() */
	assert_int_equal(notify_signature("whsec-test", 10, 1700000000LL,
	    body, strlen(body), sig), 0);
	assert_string_equal(sig, "v1=92e0a862a3f93623349c9f6abb9bd5a56ffeea"
	    "75889de5b98cc0ffc3303112d9");
	/* the timestamp is signed: another one, another signature */
	assert_int_equal(notify_signature("whsec-test", 10, 1700000001LL,
	    body, strlen(body), sig2), 0);
	assert_string_not_equal(sig, sig2);
}

static void
test_uuid(void **state)
{
	char a[NOTIFY_UUID_LEN], b[NOTIFY_UUID_LEN];

	(void)state;
	assert_int_equal(notify_uuid(a), 0);
	assert_int_equal(notify_uuid(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_string_not_equal(a, b);
}

/* ---- RFC 2047 ----------------------------------------------------------- */

/* Decode one header's encoded words back to text (the test's reader). */
static char *
ew_decode(const char *hdr)
{
	static char out[1024];
	const char *p = hdr, *e;
	uint8_t *dec;
	size_t n = 0, len;
	char word[128];

	out[0] = '\0';
	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		p += 10;
		assert_non_null(e = strstr(p, "?="));
		assert_true((size_t)(e - p) < sizeof(word));
		memcpy(word, p, (size_t)(e - p));
		word[e - p] = '\0';
		assert_int_equal(b64_decode(word, 64, 0, &dec, &len), 0);
		assert_true(n + len < sizeof(out));
		memcpy(out + n, dec, len);
		n += len;
		out[n] = '\0';
		free(dec);
		p = e + 2;
	}
	return (out);
}

static void
test_header_encoded(void **state)
{
	const char *subj = "[bastion] 承認待ち / approval pending #42 gina -> "
	    "pacs, 日本語の長い件名でも一語は七十五文字まで";
	struct buf *b = buf_new(4096);
	char *h, *line, *save = NULL;
	size_t nlines = 0;

	(void)state;
	assert_int_equal(notify_header_encoded(b, "Subject", subj), 0);
	assert_non_null(h = strndup((const char *)buf_ptr(b), buf_len(b)));
	assert_int_equal(strncmp(h, "Subject: =?UTF-8?B?", 19), 0);
	assert_string_equal(ew_decode(h), subj);
	/* every line: one encoded word of at most 75 characters, the line
	 * at most 76; the continuation lines start with a blank (folding) */
	for (line = strtok_r(h, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), nlines++) {
		const char *w = strstr(line, "=?UTF-8?B?");

		assert_non_null(w);
		assert_true(strlen(w) <= 75);
		assert_true(strlen(line) <= 76);	/* RFC 2047, 2 */
		assert_string_equal(w + strlen(w) - 2, "?=");
		if (nlines > 0)
			assert_int_equal(line[0], ' ');
	}
	assert_true(nlines >= 3);
	free(h);
	/* text that could end the header is refused, nothing written */
	buf_reset(b);
	assert_int_equal(notify_header_encoded(b, "Subject",
	    "x\r\nBcc: evil@example.org"), BERR_FORMAT);
	assert_int_equal(notify_header_encoded(b, "Subject", "x\nTo: y"),
	    BERR_FORMAT);
	assert_int_equal(notify_header_encoded(b, "Subject", "\xff\xfe"),
	    BERR_FORMAT);
	assert_int_equal(buf_len(b), 0);
	buf_free(b);
}

/* ---- the whole mail ---------------------------------------------------- */

static const struct notify_view view = {
	"https://bastion.example:8443/#/admin/requests/42",
	"ssh -A ADMIN@bastion.example approve 42 2h",
	"ssh -A ADMIN@bastion.example deny 42 REASON",
};

/* The message split at the first blank line (notify_fixture.h checks
 * its shape); the body decoded. */
static void
mail_split(const struct buf *m, char **head, char **body)
{
	assert_int_equal(notify_fixture_split(buf_ptr(m), buf_len(m), head,
	    body), 0);
}

/* A body where vendor-supplied text went in with CR LF, "." and "Bcc:"
 * lines: no CR, no lone ".", no line that looks like a header. */
static void
body_harmless(const char *body)
{
	assert_null(strchr(body, '\r'));
	assert_null(strstr(body, "\n.\n"));
	assert_null(strstr(body, "\nBcc:"));
}

static void
test_mail_hostile_reason(void **state)
{
	struct notify_req r;
	const char *to[] = { "it@hospital.example", "ward-7@hospital.example" };
	struct buf *m = NULL;
	char *head, *body;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 42;
	r.created = 1765000000;
	snprintf(r.engineer, sizeof(r.engineer), "gina");
	snprintf(r.vendor, sizeof(r.vendor), "globex");
	snprintf(r.device, sizeof(r.device), "pacs");
	snprintf(r.reason, sizeof(r.reason), "ticket 4711\r\n.\r\nBcc: "
	    "evil@example.org\r\nSubject: free money\n.\nCT 装置の点検");
	assert_int_equal(notify_mail_build(&r, &view, "bastion@hospital.example",
	    to, 2, "0123abcd-0000", 1765000000, &m), 0);
	mail_split(m, &head, &body);
	/* the header block (only mail.c's headers: notify_fixture.h) has
	 * nothing of the reason */
	assert_null(strchr(head, '\r'));
	assert_null(strstr(head, "evil"));
	assert_null(strstr(head, "Bcc"));
	assert_null(strstr(head, "free money"));
	assert_null(strstr(head, "4711"));
	free(head);
	/* the body: both languages, the request, the reason made harmless
	 * (no CR, no line that is a lone "."), the link, the commands */
	assert_non_null(strstr(body, "承認待ちの要求があります"));
	assert_non_null(strstr(body, "A request is waiting"));
	assert_non_null(strstr(body, "gina (globex)"));
	assert_non_null(strstr(body, "ticket 4711"));
	assert_non_null(strstr(body, "CT 装置の点検"));
	body_harmless(body);
	assert_non_null(strstr(body, "https://bastion.example:8443/#/"
	    "admin/requests/42"));
	assert_non_null(strstr(body, "ssh -A ADMIN@bastion.example approve 42 "
	    "2h"));
	assert_non_null(strstr(body, "ssh -A ADMIN@bastion.example deny 42 "
	    "REASON"));
	free(body);
	buf_free(m);
}

/* The decoded Subject of r's mail (v: the link or none); *body for the
 * caller to free. */
static const char *
subject_of(const struct notify_req *r, const struct notify_view *v,
    char **body)
{
	const char *to[] = { "it@hospital.example" };
	struct buf *m = NULL;
	const char *subj;
	char *head;

	assert_int_equal(notify_mail_build(r, v, "b@h.example", to, 1, "ab", 0,
	    &m), 0);
	mail_split(m, &head, body);
	buf_free(m);
	assert_non_null(subj = strstr(head, "Subject:"));
	subj = ew_decode(subj);
	free(head);
	return (subj);
}

static void
test_mail_subject_names(void **state)
{
	struct notify_req r;
	struct notify_view nolink = view;
	char *body;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 7;
	snprintf(r.engineer, sizeof(r.engineer), "gina");
	snprintf(r.vendor, sizeof(r.vendor), "globex");
	snprintf(r.device, sizeof(r.device), "pacs");
	nolink.link = NULL;
	assert_string_equal(subject_of(&r, &nolink, &body),
	    "[bastion] 承認待ち / approval pending #7 gina -> pacs");
	assert_null(strstr(body, "console"));	/* no link, no line for it */
	free(body);
	/* a name that is not a plain one stays out of the Subject */
	snprintf(r.device, sizeof(r.device), "pacs\nBcc: x@y");
	assert_string_equal(subject_of(&r, &view, &body),
	    "[bastion] 承認待ち / approval pending #7");
	free(body);
}

/* A file export request's mail: its own Subject and header, the file's
 * path (hostile: CR LF, "Bcc:", "." lines, 4 KiB long) in the body only,
 * size, SHA-256, the link to its page and file-approve / file-deny. */
static void
test_mail_file_request(void **state)
{
	static const struct notify_view fview = {
		"https://bastion.example:8443/#/admin/files/7",
		"ssh -A ADMIN@bastion.example file-approve 7",
		"ssh -A ADMIN@bastion.example file-deny 7 REASON",
	};
	struct notify_req r;
	const char *to[] = { "it@hospital.example" };
	const char *const want[] = { "ファイルの持ち出しが承認を待っています",
	    "A file download is waiting", "alice (acme)", "70000 bytes",
	    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n",
	    "画像.dcm", "pppppppppp" /* the long path */, fview.link,
	    fview.ssh_approve, fview.ssh_deny };
	const char *const unwanted[] = { "X-Bastion-Request:", "evil", "dcm" };
	struct buf *m = NULL;
	char *head, *body;
	const char *subj;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.file = 1;
	r.id = 7;
	r.size = 70000;
	memset(r.sha256, 'c', 64);
	snprintf(r.engineer, sizeof(r.engineer), "alice");
	snprintf(r.vendor, sizeof(r.vendor), "acme");
	snprintf(r.device, sizeof(r.device), "ct-scanner");
	memset(r.path, 'p', sizeof(r.path) - 1);
	memcpy(r.path, "/log\r\n.\r\nBcc: evil@example.org\r\n画像.dcm",
	    strlen("/log\r\n.\r\nBcc: evil@example.org\r\n画像.dcm"));
	subj = subject_of(&r, &fview, &body);
	assert_string_equal(subj, "[bastion] 持ち出し承認待ち / file export "
	    "pending #7 alice <- ct-scanner");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(body, want[i]) == NULL)
			fail_msg("the body lacks \"%s\":\n%s", want[i], body);
	assert_null(strstr(body, "approve 7 2h"));
	body_harmless(body);
	free(body);
	/* the header block: the file request's number, nothing of the path */
	assert_int_equal(notify_mail_build(&r, &fview, "b@h.example", to, 1,
	    "ab", 0, &m), 0);
	mail_split(m, &head, &body);
	assert_non_null(strstr(head, "X-Bastion-File-Request: 7"));
	for (i = 0; i < sizeof(unwanted) / sizeof(unwanted[0]); i++)
		if (strstr(head, unwanted[i]) != NULL)
			fail_msg("the headers hold \"%s\":\n%s", unwanted[i],
			    head);
	free(head);
	free(body);
	buf_free(m);
}

static void
test_mail_bad_addresses(void **state)
{
	struct notify_req r;
	const char *good[] = { "it@hospital.example" };
	const char *bad[] = { "it@hospital.example, evil@example.org" };
	const char *crlf[] = { "it@hospital.example\r\nBcc: e@x" };
	struct buf *m = (struct buf *)&r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 1;
	assert_int_equal(notify_mail_build(&r, &view, "b@h.example", bad, 1,
	    "ab", 0, &m), BERR_INVAL);
	assert_null(m);
	assert_int_equal(notify_mail_build(&r, &view, "b@h.example", crlf, 1,
	    "ab", 0, &m), BERR_INVAL);
	assert_int_equal(notify_mail_build(&r, &view, "Bastion <b@h.example>",
	    good, 1, "ab", 0, &m), BERR_INVAL);
	assert_int_equal(notify_mail_build(&r, &view, "b@h.example", good, 0,
	    "ab", 0, &m), BERR_INVAL);
	assert_int_equal(notify_mail_build(&r, &view, "b@h.example", good, 1,
	    "a\nb", 0, &m), BERR_INVAL);
	assert_true(mailaddr_ok("it@hospital.example"));
	assert_true(mailaddr_ok("first.last+tag@h-1.example"));
	assert_false(mailaddr_ok("it"));
	assert_false(mailaddr_ok("@h.example"));
	assert_false(mailaddr_ok("it@"));
	assert_false(mailaddr_ok("a@b@c"));
	assert_false(mailaddr_ok("it @h.example"));
	assert_false(mailaddr_ok("i\"t\"@h.example"));
	assert_false(mailaddr_ok("it@h.example\n"));
	assert_false(mailaddr_ok("it@日本.example"));
	assert_false(mailaddr_ok(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_header_encoded),
		cmocka_unit_test(test_mail_hostile_reason),
		cmocka_unit_test(test_mail_subject_names),
		cmocka_unit_test(test_mail_file_request),
		cmocka_unit_test(test_mail_bad_addresses),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
