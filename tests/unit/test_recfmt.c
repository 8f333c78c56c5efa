/*
 * test_recfmt.c - recording format v1: encode/decode round trips, payload
 * schemas, the chain and signature test vectors of docs/RECORDING-FORMAT.md,
 * the writer's checkpoint rule and its files. The verifier against altered
 * recordings is in test_recverify.c; both share recfmt_fixture.h.
 *
 * REC_PRINT_VECTORS=1 prints the vectors instead of testing them; that is
 * how the tables in docs/RECORDING-FORMAT.md were made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "recfmt.h"
#include "reckey.h"
#include "recverify.h"
#include "text.h"
#include "recwriter.h"

#include "recfmt_fixture.h"

/* Vectors (docs/RECORDING-FORMAT.md, "Test vectors"). */
static const char vec_pub_fp[] =
    "SHA256:Vkdap1RjR0wChd9dvyvKtz2mUTWIOem3dIGy6rEHcIw";
static const char vec_seed_head[] =
    "305f94f9f8218ea47baa723853ae771d971468e4a245285e62315780e5f68cfe";
static const char *vec_heads[] = {
	"6a4b8ded398a67f56a09592438d2abb772032f11015a186258ea161ca4f30cf9",
	"102acc7118e28aa07d84861f04b29ac4d26613bf32439b1715e889eabc31d96b",
	"58d5b554dab87ebef55a618a3f06a8d3cd22a9170dea6cd949068c25368d500b",
	"909f0768b1210262f47c9fdbae4e16430226cb6736cd6374603bb1c61ef1b758",
	"7c76498c829da4411c7526efe53e6fb06b0db89fdd00d1238dc8d50bc2c50ab8",
	"03ef97217cdd6bf793e10ea5311c5ece9010e65e454988e2fbec693b37bd2fc2",
	"e873bb07d3e33bb04fd2497046d00c8e60541dcec06fe7db56c41691ea00c285",
	"cd7b8ce0440b3a9ce54f4a723809b8bfd93dd64f5024a13bc09b9fbc149f2201",
	"1ec07c94a2305c9288a7f76ed59ddfe04ef25a16c0601c9a707f1d3c5b3c1dd7",
};
static const char vec_file_sha256[] =
    "aef63d319fc9e48b6fc630440c9811508903ddb0d0473de97047f8ccd2f9cece";

static int print_vectors;

/* ---- helpers ---------------------------------------------------------- */

/* Chain heads computed from the file alone (no writer involved). */
static size_t
walk_heads(const uint8_t *p, size_t len, const char *sid,
    uint8_t heads[][REC_HASH_LEN])
{
	uint8_t h[REC_HASH_LEN];
	size_t off[32], nf, i, clen;

	nf = frame_offsets(p, len, off, 31);
	recfmt_chain_seed(sid, h);
	for (i = 0; i < nf; i++) {
		clen = off[i + 1] - off[i] - REC_HASH_LEN;
		recfmt_chain_step(h, p + off[i], clen, h);
		memcpy(heads[i], h, REC_HASH_LEN);
	}
	return (nf);
}

/* A FWD_OPEN payload: the device's host and port, the originator's. */
static void
put_fwd_open(struct buf *b, const char *host, uint32_t port,
    const char *orig, uint32_t orig_port)
{
	assert_int_equal(buf_put_cstring(b, host), 0);
	assert_int_equal(buf_put_u32(b, port), 0);
	assert_int_equal(buf_put_cstring(b, orig), 0);
	assert_int_equal(buf_put_u32(b, orig_port), 0);
}

/* ---- format ----------------------------------------------------------- */

static void
test_frame_roundtrip(void **state)
{
	static const uint8_t data[] = "hello\r\n\x1b[31mred";
	struct rec_frame f, g;
	struct buf *b;
	int t;

	(void)state;
	for (t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++) {
		b = buf_new(1024);
		f.type = (uint8_t)t;
		f.seq = 0x0102030405060708ULL + (uint64_t)t;
		f.time_us = 123456789;
		f.channel = (uint32_t)t * 7;
		f.payload = data;
		f.len = sizeof(data) - 1;
		assert_int_equal(recfmt_frame_encode(b, &f), 0);
		assert_int_equal(buf_len(b), 4 + REC_FRAME_FIXED + f.len);
		assert_int_equal(recfmt_frame_decode(b, &g), 0);
		assert_int_equal(buf_len(b), 0);
		assert_int_equal(g.type, t);
		assert_true(g.seq == f.seq);
		assert_true(g.time_us == f.time_us);
		assert_int_equal(g.channel, f.channel);
		assert_int_equal(g.len, f.len);
		assert_memory_equal(g.payload, data, f.len);
		buf_free(b);
	}
	assert_string_equal(recfmt_type_name(REC_FWD_DATA), "FWD_DATA");
	assert_int_equal(recfmt_type_from_name("SEAL"), REC_SEAL);
	assert_int_equal(recfmt_type_from_name("NOPE"), -1);
	assert_string_equal(recfmt_type_name(0), "UNKNOWN");
	assert_string_equal(recfmt_type_name(99), "UNKNOWN");
}

static void
test_frame_bounds(void **state)
{
	struct rec_frame f, g;
	struct buf *b;
	uint8_t *big;

	(void)state;
	big = calloc(1, REC_MAX_PAYLOAD + 1);
	assert_non_null(big);
	b = buf_new(REC_FRAME_MAX * 2);
	memset(&f, 0, sizeof(f));
	f.type = REC_OUTPUT;
	f.payload = big;
	f.len = REC_MAX_PAYLOAD;
	assert_int_equal(recfmt_frame_encode(b, &f), 0);
	assert_int_equal(recfmt_frame_decode(b, &g), 0);
	assert_int_equal(g.len, REC_MAX_PAYLOAD);
	f.len = REC_MAX_PAYLOAD + 1;
	assert_int_equal(recfmt_frame_encode(b, &f), BERR_LIMIT);
	f.len = 1;
	f.type = 0;
	assert_int_equal(recfmt_frame_encode(b, &f), BERR_INVAL);
	buf_free(b);

	/* declared length over the cap */
	b = buf_new(64);
	assert_int_equal(buf_put_u32(b, REC_FRAME_FIXED + REC_MAX_PAYLOAD + 1),
	    0);
	assert_int_equal(recfmt_frame_decode(b, &g), BERR_LIMIT);
	buf_free(b);
	/* declared length under the fixed part */
	b = buf_new(64);
	assert_int_equal(buf_put_u32(b, 3), 0);
	assert_int_equal(recfmt_frame_decode(b, &g), BERR_FORMAT);
	buf_free(b);
	/* lengths disagree */
	b = buf_new(64);
	assert_int_equal(buf_put_u32(b, REC_FRAME_FIXED + 2), 0);
	assert_int_equal(buf_put_u8(b, REC_OUTPUT), 0);
	assert_int_equal(buf_put_u64(b, 0), 0);
	assert_int_equal(buf_put_u64(b, 0), 0);
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(buf_put_string(b, "a", 1), 0);
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_equal(recfmt_frame_decode(b, &g), BERR_FORMAT);
	buf_free(b);
	/* unknown type */
	b = buf_new(64);
	assert_int_equal(buf_put_u32(b, REC_FRAME_FIXED), 0);
	assert_int_equal(buf_put_u8(b, 200), 0);
	assert_int_equal(buf_put_u64(b, 0), 0);
	assert_int_equal(buf_put_u64(b, 0), 0);
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(buf_put_string(b, "", 0), 0);
	assert_int_equal(recfmt_frame_decode(b, &g), BERR_FORMAT);
	buf_free(b);
	/* short */
	b = buf_new(64);
	assert_int_equal(buf_put_u32(b, REC_FRAME_FIXED + 10), 0);
	assert_int_equal(buf_put_u8(b, REC_OUTPUT), 0);
	assert_int_equal(recfmt_frame_decode(b, &g), BERR_TRUNC);
	buf_free(b);
	free(big);
}

static void
test_payloads(void **state)
{
	struct rec_payload pl;
	struct buf *b;
	uint8_t x;

	(void)state;
	b = buf_new(4096);
	put_pty(b, "xterm", 132, 43);
	assert_int_equal(recfmt_payload_decode(REC_PTY_REQ, buf_ptr(b),
	    buf_len(b), &pl), 0);
	assert_int_equal(pl.cols, 132);
	assert_int_equal(pl.rows, 43);
	assert_int_equal(pl.str_len, 5);
	assert_memory_equal(pl.str, "xterm", 5);
	/* trailing byte */
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_equal(recfmt_payload_decode(REC_PTY_REQ, buf_ptr(b),
	    buf_len(b), &pl), BERR_FORMAT);
	assert_null(pl.str);
	buf_reset(b);
	/* control characters in the terminal name */
	put_pty(b, "xt\x1b]52;", 80, 24);
	assert_int_equal(recfmt_payload_decode(REC_PTY_REQ, buf_ptr(b),
	    buf_len(b), NULL), BERR_FORMAT);
	buf_reset(b);
	put_pty(b, "xterm", 80, 1000000);
	assert_int_equal(recfmt_payload_decode(REC_PTY_REQ, buf_ptr(b),
	    buf_len(b), NULL), BERR_LIMIT);
	buf_reset(b);

	assert_int_equal(buf_put_cstring(b, "uname -a"), 0);
	assert_int_equal(recfmt_payload_decode(REC_EXEC, buf_ptr(b),
	    buf_len(b), &pl), 0);
	assert_memory_equal(pl.str, "uname -a", 8);
	buf_reset(b);

	assert_int_equal(recfmt_payload_decode(REC_SHELL, NULL, 0, NULL), 0);
	x = 0;
	assert_int_equal(recfmt_payload_decode(REC_SHELL, &x, 1, NULL),
	    BERR_FORMAT);
	assert_int_equal(recfmt_payload_decode(REC_FWD_CLOSE, NULL, 0, NULL),
	    0);

	x = REC_DIR_TO_DEVICE;
	assert_int_equal(recfmt_payload_decode(REC_EOF, &x, 1, &pl), 0);
	assert_int_equal(pl.dir, REC_DIR_TO_DEVICE);
	x = 2;
	assert_int_equal(recfmt_payload_decode(REC_EOF, &x, 1, NULL),
	    BERR_FORMAT);
	assert_int_equal(recfmt_payload_decode(REC_EOF, &x, 0, NULL),
	    BERR_TRUNC);

	assert_int_equal(buf_put_u8(b, REC_DIR_FROM_DEVICE), 0);
	assert_int_equal(buf_put(b, "GET /", 5), 0);
	assert_int_equal(recfmt_payload_decode(REC_FWD_DATA, buf_ptr(b),
	    buf_len(b), &pl), 0);
	assert_int_equal(pl.data_len, 5);
	assert_memory_equal(pl.data, "GET /", 5);
	/* the pointer is into the caller's payload, not a copy */
	assert_ptr_equal(pl.data, buf_ptr(b) + 1);
	buf_reset(b);

	put_fwd_open(b, "ct-scanner-1", 104, "127.0.0.1", 50000);
	assert_int_equal(recfmt_payload_decode(REC_FWD_OPEN, buf_ptr(b),
	    buf_len(b), &pl), 0);
	assert_int_equal(pl.port, 104);
	assert_int_equal(pl.orig_port, 50000);
	buf_reset(b);
	/* a port past 65535 */
	put_fwd_open(b, "h", 70000, "o", 1);
	assert_int_equal(recfmt_payload_decode(REC_FWD_OPEN, buf_ptr(b),
	    buf_len(b), NULL), BERR_FORMAT);
	buf_reset(b);

	assert_int_equal(buf_put_cstring(b, "TERM"), 0);
	assert_int_equal(buf_put_u8(b, 1), 0);
	assert_int_equal(buf_put_cstring(b, "killed"), 0);
	assert_int_equal(recfmt_payload_decode(REC_EXIT_SIGNAL, buf_ptr(b),
	    buf_len(b), &pl), 0);
	assert_int_equal(pl.core, 1);
	buf_reset(b);

	assert_int_equal(buf_put_cstring(b, "idle-warning"), 0);
	assert_int_equal(buf_put_cstring(b, "5 minutes without input"), 0);
	assert_int_equal(recfmt_payload_decode(REC_EVENT, buf_ptr(b),
	    buf_len(b), &pl), 0);
	buf_reset(b);
	assert_int_equal(buf_put_cstring(b, "Bad Kind"), 0);
	assert_int_equal(buf_put_cstring(b, "x"), 0);
	assert_int_equal(recfmt_payload_decode(REC_EVENT, buf_ptr(b),
	    buf_len(b), NULL), BERR_FORMAT);
	buf_reset(b);

	/* a string length pointing past the end */
	assert_int_equal(buf_put_u32(b, 0xffff), 0);
	assert_int_equal(recfmt_payload_decode(REC_EXEC, buf_ptr(b),
	    buf_len(b), NULL), BERR_TRUNC);
	assert_int_equal(recfmt_payload_decode(REC_SUBSYSTEM, buf_ptr(b),
	    buf_len(b), NULL), BERR_LIMIT);
	buf_reset(b);
	assert_int_equal(recfmt_payload_decode(REC_CHECKPOINT, buf_ptr(b),
	    0, NULL), BERR_TRUNC);
	assert_int_equal(recfmt_payload_decode(99, NULL, 0, NULL),
	    BERR_FORMAT);
	buf_free(b);
}

static void
test_header(void **state)
{
	struct rec_hdr h, g;
	struct buf *b;
	char big[REC_HDR_VALUE_MAX + 2];
	int i;

	(void)state;
	memset(&h, 0, sizeof(h));
	memset(&g, 0, sizeof(g));
	assert_int_equal(recfmt_hdr_add(&h, "engineer", "alice"), 0);
	assert_int_equal(recfmt_hdr_add(&h, "device", "MRI \xe7\x97\x85\xe9\x99\xa2"), 0);
	assert_int_equal(recfmt_hdr_add(&h, "engineer", "bob"), BERR_FORMAT);
	assert_int_equal(recfmt_hdr_add(&h, "Bad", "x"), BERR_FORMAT);
	assert_int_equal(recfmt_hdr_add(&h, "", "x"), BERR_FORMAT);
	assert_int_equal(recfmt_hdr_add(&h, "x", "a\nb"), BERR_FORMAT);
	assert_int_equal(recfmt_hdr_add(&h, "x", "a\x1b]0;t\a"), BERR_FORMAT);
	assert_int_equal(recfmt_hdr_add(&h, "x", "\xc2\x9b" "6n"),
	    BERR_FORMAT);
	assert_int_equal(recfmt_hdr_add(&h, "x", "\xff"), BERR_FORMAT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(recfmt_hdr_add(&h, "x", big), BERR_LIMIT);
	assert_string_equal(recfmt_hdr_get(&h, "engineer"), "alice");
	assert_null(recfmt_hdr_get(&h, "vendor"));

	b = buf_new(65536);
	assert_int_equal(recfmt_hdr_encode(&h, b), 0);
	assert_int_equal(recfmt_hdr_decode(buf_ptr(b), buf_len(b), &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(recfmt_hdr_get(&g, "device"),
	    "MRI \xe7\x97\x85\xe9\x99\xa2");
	recfmt_hdr_clear(&g);
	/* trailing garbage, truncation */
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_equal(recfmt_hdr_decode(buf_ptr(b), buf_len(b), &g),
	    BERR_FORMAT);
	assert_int_equal(g.n, 0);
	for (i = 0; i < (int)buf_len(b) - 1; i++)
		assert_int_not_equal(recfmt_hdr_decode(buf_ptr(b), (size_t)i,
		    &g), 0);
	buf_reset(b);
	/* too many fields */
	assert_int_equal(buf_put_u32(b, REC_HDR_MAX_FIELDS + 1), 0);
	assert_int_equal(recfmt_hdr_decode(buf_ptr(b), buf_len(b), &g),
	    BERR_LIMIT);
	buf_reset(b);
	/* duplicate keys on the wire */
	assert_int_equal(buf_put_u32(b, 2), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(buf_put_cstring(b, "k"), 0);
		assert_int_equal(buf_put_cstring(b, "v"), 0);
	}
	assert_int_equal(recfmt_hdr_decode(buf_ptr(b), buf_len(b), &g),
	    BERR_FORMAT);
	buf_free(b);
	recfmt_hdr_clear(&h);
	recfmt_hdr_clear(&h);	/* twice is fine */
}

static void
test_text_helpers(void **state)
{
	char out[64];
	uint64_t us;

	(void)state;
	recfmt_fmt_time(1735689600123456ULL, out, sizeof(out));
	assert_string_equal(out, "2025-01-01T00:00:00.123456Z");
	assert_int_equal(recfmt_parse_time(out, &us), 0);
	assert_true(us == 1735689600123456ULL);
	assert_int_equal(recfmt_parse_time("2025-01-01 00:00:00", &us),
	    BERR_FORMAT);
	assert_int_equal(recfmt_parse_time("2025-13-01T00:00:00.000000Z", &us),
	    BERR_FORMAT);
	recfmt_fmt_duration(3723456789ULL, out, sizeof(out));
	assert_string_equal(out, "01:02:03.456");
	text_clean_buf(out, sizeof(out),
	    "a\x1b]52;c;x\a\\\xff\xc2\x9b\xe2\x86\x92", 17, TEXT_ESCAPE |
	    TEXT_ELLIPSIS);
	assert_string_equal(out,
	    "a\\e]52;c;x\\x07\\\\\\xff\\xc2\\x9b\xe2\x86\x92");
	text_clean_buf(out, 8, "abcdefghij", 10, TEXT_ESCAPE | TEXT_ELLIPSIS);
	assert_string_equal(out, "abcd...");
	assert_true(recfmt_session_id_valid(VEC_SESSION));
	assert_false(recfmt_session_id_valid("../etc/passwd"));
	assert_false(recfmt_session_id_valid(".hidden"));
	assert_false(recfmt_session_id_valid(""));
	assert_false(recfmt_session_id_valid("a/b"));
}

/* ---- keys ------------------------------------------------------------- */

static void
test_keys(void **state)
{
	char dir[] = "/tmp/test_recfmt.XXXXXX", path[256], pub[300];
	char fp1[RECKEY_FP_LEN], fp2[RECKEY_FP_LEN], *pem = NULL;
	struct reckey *k, *l, *m;
	uint8_t sig[REC_SIG_LEN];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.key", dir);
	snprintf(pub, sizeof(pub), "%s/rec.key.pub", dir);
	assert_int_equal(reckey_generate(&k), 0);
	assert_int_equal(reckey_save(k, path), 0);
	assert_int_equal(reckey_save(k, path), BERR_EXISTS);
	assert_int_equal(reckey_load_private(path, &l), 0);
	assert_int_equal(reckey_load_public(pub, &m), 0);
	assert_false(reckey_has_private(m));
	reckey_fingerprint(k, fp1);
	reckey_fingerprint(m, fp2);
	assert_string_equal(fp1, fp2);
	assert_int_equal(strlen(fp1), 7 + 43);
	assert_int_equal(reckey_sign(l, "msg", 3, sig), 0);
	assert_int_equal(reckey_verify(m, "msg", 3, sig), 0);
	assert_int_equal(reckey_verify(m, "msh", 3, sig), BERR_CRYPTO);
	assert_int_equal(reckey_sign(m, "msg", 3, sig), BERR_INVAL);
	assert_int_equal(reckey_public_pem(m, &pem), 0);
	assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
	free(pem);
	reckey_free(m);
	/* the private file given as "public" key: only the public half */
	assert_int_equal(reckey_load_public(path, &m), 0);
	assert_false(reckey_has_private(m));
	reckey_free(m);
	/* loose permissions are refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(reckey_load_private(path, &m), BERR_DENIED);
	assert_null(m);
	assert_int_equal(reckey_load_private("/nonexistent/key", &m),
	    BERR_NOTFOUND);
	unlink(path);
	unlink(pub);
	rmdir(dir);
	reckey_free(k);
	reckey_free(l);
	reckey_free(NULL);
}

/* ---- vectors ---------------------------------------------------------- */

static void
test_vectors(void **state)
{
	uint8_t heads[16][REC_HASH_LEN], walk[16][REC_HASH_LEN];
	uint8_t seed[REC_HASH_LEN], md[32];
	char hex[2 * REC_HASH_LEN + 1], fp[RECKEY_FP_LEN];
	struct recverify_report rep;
	struct reckey *k = test_key();
	unsigned int mdlen;
	size_t len, n, i;
	uint8_t *p;

	(void)state;
	reckey_fingerprint(k, fp);
	assert_int_equal(recfmt_chain_seed(VEC_SESSION, seed), 0);
	p = vector_recording(k, 1, &len, heads, &n);
	assert_int_equal(n, 9);
	assert_int_equal(walk_heads(p, len, VEC_SESSION, walk), 9);
	/* the writer's heads are the file's (frame 5, the CHECKPOINT the
	 * writer inserted, is only in the file) */
	for (i = 0; i < n; i++)
		if (i != 5)
			assert_memory_equal(heads[i], walk[i], REC_HASH_LEN);
	assert_int_equal(EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	if (print_vectors) {
		printf("fingerprint %s\n", fp);
		hex_encode(seed, REC_HASH_LEN, hex);
		printf("h_-1 %s\n", hex);
		for (i = 0; i < n; i++) {
			hex_encode(walk[i], REC_HASH_LEN, hex);
			printf("h_%zu %s\n", i, hex);
		}
		hex_encode(md, 32, hex);
		printf("file sha256 %s (%zu bytes)\n", hex, len);
		for (i = 0; i < len; i++)
			printf("%02x%s", p[i], i % 32 == 31 ? "\n" : "");
		printf("\n");
		free(p);
		reckey_free(k);
		return;
	}
	assert_string_equal(fp, vec_pub_fp);
	hex_encode(seed, REC_HASH_LEN, hex);
	assert_string_equal(hex, vec_seed_head);
	for (i = 0; i < n; i++) {
		hex_encode(walk[i], REC_HASH_LEN, hex);
		assert_string_equal(hex, vec_heads[i]);
	}
	hex_encode(md, 32, hex);
	assert_string_equal(hex, vec_file_sha256);
	assert_int_equal(verify_mem(p, len, k, &rep), RECVERIFY_OK);
	assert_int_equal(rep.frames, 9);
	assert_int_equal(rep.checkpoints, 1);
	assert_true(rep.sealed);
	assert_int_equal(rep.end_status, REC_END_NORMAL);
	assert_string_equal(rep.end_reason, "worker closed the session");
	assert_true(rep.duration_us == 1300000);
	assert_int_equal(rep.out_bytes, 2 + 39);
	assert_int_equal(rep.in_bytes, 3);
	assert_int_equal(rep.file_bytes, len);
	assert_string_equal(recfmt_hdr_get(&rep.hdr, "engineer"), "alice");
	recverify_report_clear(&rep);
	free(p);
	reckey_free(k);
}

/* The same numbers must be in the document (when run from the source
 * tree, as `make check-unit` does). */
static void
test_vectors_in_doc(void **state)
{
	static const char *path = "docs/RECORDING-FORMAT.md";
	char *doc;
	size_t i;
	FILE *fp;
	long n;

	(void)state;
	if ((fp = fopen(path, "r")) == NULL) {
		print_message("%s not found from here: not compared\n", path);
		return;
	}
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	doc = calloc(1, (size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	assert_non_null(strstr(doc, vec_pub_fp));
	assert_non_null(strstr(doc, vec_seed_head));
	assert_non_null(strstr(doc, vec_file_sha256));
	for (i = 0; i < sizeof(vec_heads) / sizeof(vec_heads[0]); i++)
		assert_non_null(strstr(doc, vec_heads[i]));
	free(doc);
}

/* ---- writer ----------------------------------------------------------- */

static void
test_writer_checkpoints(void **state)
{
	struct recverify_report rep;
	struct reckey *k = test_key();
	struct rec_hdr h;
	struct recwriter *w;
	uint8_t *chunk, *p;
	size_t len;
	int fd, keep, i;

	(void)state;
	chunk = calloc(1, 300 * 1024);
	assert_non_null(chunk);
	vec_header(&h, k);
	fd = memfd_create("rec", 0);
	keep = dup(fd);
	assert_int_equal(recwriter_open(fd, k, &h, &w), 0);
	recfmt_hdr_clear(&h);
	/* 1: HEADER; a checkpoint falls due 1 s after it */
	assert_true(recwriter_ckpt_due(w) == REC_CKPT_INTERVAL_US);
	/* a timer checkpoint at 0.2 s */
	assert_int_equal(recwriter_checkpoint(w, 200000), 0);
	assert_int_equal(recwriter_frames(w), 2);
	assert_true(recwriter_ckpt_due(w) == UINT64_MAX);
	assert_int_equal(recwriter_checkpoint(w, 300000), 0);	/* no-op */
	assert_int_equal(recwriter_frames(w), 2);
	/* bytes: three 300 KiB frames fit in 1 MiB, the fourth does not */
	for (i = 0; i < 4; i++)
		assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, chunk,
		    300 * 1024, 400000 + (uint64_t)i), 0);
	assert_int_equal(recwriter_frames(w), 2 + 3 + 1 + 1);
	/* time going backwards is raised to the last frame's */
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, "x", 1, 5), 0);
	/* reserved types */
	assert_int_equal(recwriter_append(w, REC_SEAL, 0, "x", 1, 5),
	    BERR_INVAL);
	assert_int_equal(recwriter_append(w, REC_HEADER, 0, "x", 1, 5),
	    BERR_INVAL);
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, chunk,
	    REC_MAX_PAYLOAD + 1, 5), BERR_LIMIT);
	assert_int_equal(recwriter_seal(w, REC_END_ABNORMAL,
	    "bad\nreason", 10), BERR_INVAL);
	assert_int_equal(recwriter_seal(w, REC_END_ABNORMAL,
	    "worker disconnected", 2000000), 0);
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, "x", 1, 5),
	    BERR_INVAL);
	recwriter_free(w);
	p = slurp(keep, &len);
	close(keep);
	assert_int_equal(verify_mem(p, len, k, &rep), RECVERIFY_OK);
	assert_int_equal(rep.checkpoints, 2);
	assert_int_equal(rep.end_status, REC_END_ABNORMAL);
	assert_int_equal(rep.out_bytes, 4 * 300 * 1024 + 1);
	recverify_report_clear(&rep);
	free(p);
	free(chunk);
	reckey_free(k);
}

static void
test_writer_file(void **state)
{
	char dir[] = "/tmp/test_recfmt.XXXXXX", path[512], id[64], cmd[600];
	int fd, fd2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(recwriter_new_session_id(1735689600000000ULL, id,
	    sizeof(id)), 0);
	assert_int_equal(strncmp(id, "20250101T000000Z-", 17), 0);
	assert_int_equal(strlen(id), 33);
	assert_true(recfmt_session_id_valid(id));
	assert_int_equal(recwriter_create_file(dir, id, 1735689600000000ULL,
	    path, sizeof(path), &fd), 0);
	assert_non_null(strstr(path, "/2025/01/01/"));
	assert_int_equal(recwriter_create_file(dir, id, 1735689600000000ULL,
	    path, sizeof(path), &fd2), BERR_EXISTS);
	assert_int_equal(fd2, -1);
	assert_int_equal(recwriter_create_file(dir, "../x",
	    1735689600000000ULL, path, sizeof(path), &fd2), BERR_INVAL);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_frame_bounds),
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_text_helpers),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_vectors_in_doc),
		cmocka_unit_test(test_writer_checkpoints),
		cmocka_unit_test(test_writer_file),
	};
	const char *pv = getenv("REC_PRINT_VECTORS");

	if (pv != NULL && strcmp(pv, "1") == 0) {
		print_vectors = 1;
		test_vectors(NULL);
		return (0);
	}
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
