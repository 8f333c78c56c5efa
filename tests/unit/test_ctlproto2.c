/*
 * test_ctlproto2.c - control protocol version 2 (proto/ctlproto.c), the
 * web.sock wire format between bastion-webd and the web control worker.
 *
 * The worker (root) decodes what a network-facing daemon sends, and the
 * daemon decodes what the worker answers: attributes must come from the
 * fixed table within their caps, assertions and attestations must have
 * exactly their parts, typed frames their shapes; v1 must be unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "buf.h"
#include "ctlproto.h"
#include "err.h"

static const uint8_t tok[CTLP_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

/* An assertion value with recognisable parts. */
static struct buf *
sample_assertion(void)
{
	struct ctlp_assertion a = {
		.cred_id = (const uint8_t *)"CRED", .cred_id_len = 4,
		.authdata = (const uint8_t *)"AUTHDATA", .authdata_len = 8,
		.clientdata = (const uint8_t *)"{\"type\"}", .clientdata_len = 9,
		.sig = (const uint8_t *)"SIG", .sig_len = 3,
		.user = NULL, .user_len = 0,
	};
	struct buf *b = buf_new(4096);

	assert_non_null(b);
	assert_int_equal(ctlp_assertion_encode(b, &a), 0);
	return (b);
}

static void
test_v2_roundtrip(void **state)
{
	char *argv[] = { "approve", "42", "2h" };
	struct buf *ab = sample_assertion();
	struct ctlp_attr at[] = {
		{ "token", tok, sizeof(tok) },
		{ "assert", buf_ptr(ab), buf_len(ab) },
		{ "format", (const uint8_t *)"json", 4 },
		{ "from", (const uint8_t *)"[2001:db8::1]:55012", 19 },
	};
	const struct ctlp_attr *x;
	struct ctlp_assertion a;
	struct ctlp_req *r;
	uint8_t *p;
	size_t len, i;
	char *s;

	(void)state;
	assert_int_equal(ctlp_request2_encode(3, argv, at, 4, &p, &len), 0);
	assert_int_equal(p[4], CTLP_VERSION2);
	assert_int_equal(ctlp_request2_decode(p, len, &r), 0);
	assert_int_equal(r->argc, 3);
	assert_string_equal(r->argv[0], "approve");
	assert_string_equal(r->argv[2], "2h");
	assert_null(r->argv[3]);
	assert_int_equal(r->nattr, 4);
	x = ctlp_req_attr(r, "token");
	assert_non_null(x);
	assert_int_equal(x->len, CTLP_TOKEN_LEN);
	assert_memory_equal(x->value, tok, CTLP_TOKEN_LEN);
	assert_null(ctlp_req_attr(r, "secret"));
	assert_int_equal(ctlp_req_attr_str(r, "from", &s), 0);
	assert_string_equal(s, "[2001:db8::1]:55012");
	free(s);
	assert_int_equal(ctlp_req_attr_str(r, "secret", &s), 0);
	assert_null(s);
	x = ctlp_req_attr(r, "assert");
	assert_int_equal(ctlp_assertion_decode(x->value, x->len, &a), 0);
	assert_int_equal(a.cred_id_len, 4);
	assert_memory_equal(a.cred_id, "CRED", 4);
	assert_memory_equal(a.authdata, "AUTHDATA", 8);
	assert_memory_equal(a.sig, "SIG", 3);
	assert_int_equal(a.user_len, 0);
	ctlp_req_free(r);
	/* every strict prefix refused; v1 decoder refuses v2 and back */
	for (i = 0; i < len; i++) {
		assert_int_not_equal(ctlp_request2_decode(p, i, &r), 0);
		assert_null(r);
	}
	{
		char **av;
		int ac;

		assert_int_equal(ctlp_request_decode(p, len, &av, &ac),
		    BERR_FORMAT);
	}
	free(p);
	assert_int_equal(ctlp_request_encode(3, argv, &p, &len), 0);
	assert_int_equal(ctlp_request2_decode(p, len, &r), BERR_FORMAT);
	free(p);
	buf_free(ab);
}

static void
test_v1_unchanged(void **state)
{
	/* the exact bytes bastionctl has always sent for `list` */
	static const uint8_t v1[] = { 'B', 'C', 'T', 'L', 1, 0, 0, 0, 1,
	    0, 0, 0, 4, 'l', 'i', 's', 't' };
	char *argv[] = { "list" };
	uint8_t *p;
	size_t len;

	(void)state;
	assert_int_equal(ctlp_request_encode(1, argv, &p, &len), 0);
	assert_int_equal(len, sizeof(v1));
	assert_memory_equal(p, v1, sizeof(v1));
	free(p);
}

/* Encode argv "whoami" with one attribute of raw name/value (bypassing the
 * encoder's checks) and decode it. */
static int
decode_with_attr(const char *name, const void *val, size_t vlen,
    int count)
{
	struct buf *b = buf_new(CTLP_MAX_REQUEST * 2);
	struct ctlp_req *r;
	int rc, i;

	assert_non_null(b);
	assert_int_equal(buf_put(b, "BCTL\x02", 5), 0);
	assert_int_equal(buf_put_u32(b, 1), 0);
	assert_int_equal(buf_put_cstring(b, "whoami"), 0);
	assert_int_equal(buf_put_u32(b, (uint32_t)count), 0);
	for (i = 0; i < count; i++) {
		assert_int_equal(buf_put_cstring(b, name), 0);
		assert_int_equal(buf_put_string(b, val, vlen), 0);
	}
	rc = ctlp_request2_decode(buf_ptr(b), buf_len(b), &r);
	if (rc == 0)
		assert_non_null(r);
	else
		assert_null(r);
	ctlp_req_free(r);
	buf_free(b);
	return (rc);
}

static void
test_v2_attr_rules(void **state)
{
	static uint8_t big[2048];

	(void)state;
	assert_int_equal(decode_with_attr("token", tok, 32, 1), 0);
	assert_int_equal(decode_with_attr("format", "json", 4, 1), 0);
	assert_int_equal(decode_with_attr("lang", "ja", 2, 1), 0);
	/* unknown name, repeated name */
	assert_int_equal(decode_with_attr("tokens", tok, 32, 1), BERR_FORMAT);
	assert_int_equal(decode_with_attr("token", tok, 32, 2), BERR_FORMAT);
	/* a token of the wrong length */
	assert_int_equal(decode_with_attr("token", tok, 31, 1), BERR_LIMIT);
	/* enumerated values */
	assert_int_equal(decode_with_attr("format", "html", 4, 1),
	    BERR_FORMAT);
	assert_int_equal(decode_with_attr("lang", "de", 2, 1), BERR_FORMAT);
	/* text with a NUL, and text over its cap */
	assert_int_equal(decode_with_attr("secret", "a\0b", 3, 1),
	    BERR_FORMAT);
	memset(big, 'a', sizeof(big));
	assert_int_equal(decode_with_attr("secret", big, 1025, 1),
	    BERR_LIMIT);
	assert_int_equal(decode_with_attr("secret", big, 1024, 1), 0);
	/* an assertion that is not five strings */
	assert_int_not_equal(decode_with_attr("assert", big, 100, 1), 0);
	/* too many attributes */
	assert_int_equal(decode_with_attr("from", "x", 1, CTLP_MAX_ATTRS + 1),
	    BERR_LIMIT);
}

static void
test_v2_encoder_refuses(void **state)
{
	char *argv[] = { "whoami" };
	struct ctlp_attr dup[] = {
		{ "from", (const uint8_t *)"a", 1 },
		{ "from", (const uint8_t *)"b", 1 },
	};
	struct ctlp_attr bad[] = { { "cookie", (const uint8_t *)"a", 1 } };
	struct ctlp_attr shorttok[] = { { "token", tok, 16 } };
	uint8_t *p;
	size_t len;

	(void)state;
	assert_int_equal(ctlp_request2_encode(1, argv, dup, 2, &p, &len),
	    BERR_INVAL);
	assert_null(p);
	assert_int_equal(ctlp_request2_encode(1, argv, bad, 1, &p, &len),
	    BERR_INVAL);
	assert_int_equal(ctlp_request2_encode(1, argv, shorttok, 1, &p, &len),
	    BERR_LIMIT);
	assert_int_equal(ctlp_request2_encode(1, argv, NULL, 0, &p, &len), 0);
	free(p);
}

static void
test_assertion_parts(void **state)
{
	struct ctlp_assertion a;
	struct ctlp_attestation t;
	struct buf *b = buf_new(16384);
	static uint8_t big[CTLP_MAX_ATTOBJ + 1];

	(void)state;
	assert_non_null(b);
	/* empty signature: refused by the encoder and the decoder */
	memset(&a, 0, sizeof(a));
	a.cred_id = big; a.cred_id_len = 1;
	a.authdata = big; a.authdata_len = 37;
	a.clientdata = big; a.clientdata_len = 10;
	a.sig = big; a.sig_len = 0;
	assert_int_equal(ctlp_assertion_encode(b, &a), BERR_LIMIT);
	a.sig_len = CTLP_MAX_SIG + 1;
	assert_int_equal(ctlp_assertion_encode(b, &a), BERR_LIMIT);
	a.sig_len = 70;
	a.cred_id_len = CTLP_MAX_CRED_ID;
	assert_int_equal(ctlp_assertion_encode(b, &a), 0);
	assert_int_equal(ctlp_assertion_decode(buf_ptr(b), buf_len(b), &a), 0);
	assert_int_equal(a.cred_id_len, CTLP_MAX_CRED_ID);
	assert_int_equal(a.sig_len, 70);
	/* one byte more after the five parts */
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_equal(ctlp_assertion_decode(buf_ptr(b), buf_len(b), &a),
	    BERR_FORMAT);
	buf_reset(b);
	/* attestation: two parts, the object within its cap */
	memset(&t, 0, sizeof(t));
	t.attobj = big; t.attobj_len = CTLP_MAX_ATTOBJ + 1;
	t.clientdata = big; t.clientdata_len = 5;
	assert_int_equal(ctlp_attestation_encode(b, &t), BERR_LIMIT);
	t.attobj_len = CTLP_MAX_ATTOBJ;
	assert_int_equal(ctlp_attestation_encode(b, &t), 0);
	assert_int_equal(ctlp_attestation_decode(buf_ptr(b), buf_len(b), &t),
	    0);
	assert_int_equal(t.attobj_len, CTLP_MAX_ATTOBJ);
	assert_int_equal(t.clientdata_len, 5);
	buf_free(b);
}

static void
test_v2_frames(void **state)
{
	uint8_t ch[CTLP_CHALLENGE_LEN], got[CTLP_TOKEN_LEN];
	uint8_t *buf = malloc(CTLP2_MAX_FRAME), *all = malloc(1 << 21);
	uint8_t code = 0;
	const uint8_t *pl, *js;
	size_t n, total = 0, used, plen, jlen;
	uint64_t ms, exp;
	int sv[2], type;

	(void)state;
	assert_non_null(buf);
	assert_non_null(all);
	memset(ch, 0xab, sizeof(ch));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (fork() == 0) {
		close(sv[0]);
		(void)ctlp_json_write(sv[1], "{\"id\":42}", 9);
		(void)ctlp_term_write(sv[1], 1500, "ls\r\n", 4);
		(void)ctlp_challenge_write(sv[1], ch, "{\"verb\":\"approve\"}");
		(void)ctlp_auth_write(sv[1], tok, 1765000000,
		    "{\"person\":\"bob\"}");
		(void)ctlp_frame_write(sv[1], CTLP_EXIT, &code, 1);
		_exit(0);
	}
	close(sv[1]);
	/* the blocking reader */
	assert_int_equal(ctlp_frame2_read(sv[0], &type, buf, CTLP2_MAX_FRAME,
	    &n), 0);
	assert_int_equal(type, CTLP_JSON);
	assert_memory_equal(buf, "{\"id\":42}", 9);
	memcpy(all, "j\0\0\0\x09", 5);
	memcpy(all + 5, buf, n);
	total = 5 + n;
	/* the rest read raw, for the incremental parser */
	while ((n = (size_t)read(sv[0], all + total, 4096)) > 0 &&
	    n != (size_t)-1)
		total += n;
	close(sv[0]);
	/* a partial frame asks for more */
	assert_int_equal(ctlp_frame2_parse(all, 4, &type, &pl, &plen, &used),
	    BERR_AGAIN);
	assert_int_equal(ctlp_frame2_parse(all, 13, &type, &pl, &plen, &used),
	    BERR_AGAIN);
	assert_int_equal(ctlp_frame2_parse(all, total, &type, &pl, &plen,
	    &used), 0);
	assert_int_equal(type, CTLP_JSON);
	assert_int_equal(used, 14);
	n = used;
	assert_int_equal(ctlp_frame2_parse(all + n, total - n, &type, &pl,
	    &plen, &used), 0);
	assert_int_equal(type, CTLP_TERM);
	assert_int_equal(ctlp_term_decode(pl, plen, &ms, &js, &jlen), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(jlen, 4);
	assert_memory_equal(js, "ls\r\n", 4);
	n += used;
	assert_int_equal(ctlp_frame2_parse(all + n, total - n, &type, &pl,
	    &plen, &used), 0);
	assert_int_equal(type, CTLP_CHALLENGE);
	assert_int_equal(ctlp_challenge_decode(pl, plen, got, &js, &jlen), 0);
	assert_memory_equal(got, ch, sizeof(ch));
	assert_int_equal(jlen, 18);
	n += used;
	assert_int_equal(ctlp_frame2_parse(all + n, total - n, &type, &pl,
	    &plen, &used), 0);
	assert_int_equal(type, CTLP_AUTH);
	assert_int_equal(ctlp_auth_decode(pl, plen, got, &exp, &js, &jlen), 0);
	assert_memory_equal(got, tok, sizeof(tok));
	assert_int_equal(exp, 1765000000);
	assert_memory_equal(js, "{\"person\":\"bob\"}", jlen);
	n += used;
	assert_int_equal(ctlp_frame2_parse(all + n, total - n, &type, &pl,
	    &plen, &used), 0);
	assert_int_equal(type, CTLP_EXIT);
	assert_int_equal(n + used, total);
	free(buf);
	free(all);
}

static void
test_v2_frames_malformed(void **state)
{
	uint8_t f[64] = { 0 };
	const uint8_t *pl;
	size_t plen, used;
	int type;

	(void)state;
	/* unknown type */
	f[0] = 'q';
	assert_int_equal(ctlp_frame2_parse(f, 5, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	/* a 't' frame shorter than its time stamp, a short 'c' and 'a' */
	f[0] = CTLP_TERM;
	f[4] = 7;
	assert_int_equal(ctlp_frame2_parse(f, 12, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	f[0] = CTLP_CHALLENGE;
	f[4] = 31;
	assert_int_equal(ctlp_frame2_parse(f, 36, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	f[0] = CTLP_AUTH;
	f[4] = 39;
	assert_int_equal(ctlp_frame2_parse(f, 44, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	/* an empty 'j', an 'x' of two bytes */
	f[0] = CTLP_JSON;
	f[4] = 0;
	assert_int_equal(ctlp_frame2_parse(f, 5, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	f[0] = CTLP_EXIT;
	f[4] = 2;
	assert_int_equal(ctlp_frame2_parse(f, 7, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	/* lengths over each type's limit: 'o' over 64 KiB, 'j' over 1 MiB */
	f[0] = CTLP_OUT;
	f[2] = 1;
	f[3] = 0;
	f[4] = 1;
	assert_int_equal(ctlp_frame2_parse(f, 5, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	f[0] = CTLP_JSON;
	assert_int_equal(ctlp_frame2_parse(f, 5, &type, &pl, &plen, &used),
	    BERR_AGAIN);
	f[1] = 0;
	f[2] = 0x10;
	f[3] = 0;
	f[4] = 1;
	assert_int_equal(ctlp_frame2_parse(f, 5, &type, &pl, &plen, &used),
	    BERR_FORMAT);
	/* the writer refuses an empty or oversized 'j' */
	assert_int_equal(ctlp_json_write(-1, "", 0), BERR_INVAL);
	assert_int_equal(ctlp_json_write(-1, f, CTLP2_MAX_FRAME + 1),
	    BERR_LIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_roundtrip),
		cmocka_unit_test(test_v1_unchanged),
		cmocka_unit_test(test_v2_attr_rules),
		cmocka_unit_test(test_v2_encoder_refuses),
		cmocka_unit_test(test_assertion_parts),
		cmocka_unit_test(test_v2_frames),
		cmocka_unit_test(test_v2_frames_malformed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
