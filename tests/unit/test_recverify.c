/*
 * test_recverify.c - the recording verifier (recorder/lib/recverify.c)
 * against the vector recording of docs/RECORDING-FORMAT.md altered every
 * way a file can be: every single-byte flip, every truncation, dropped,
 * duplicated and reordered frames, re-hashed forgeries, a forged unsigned
 * tail, and random mutations (run under ASan by `make check-asan`). The
 * format itself, the vectors and the writer are in test_recfmt.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "recfmt.h"
#include "reckey.h"
#include "recverify.h"

#include "recfmt_fixture.h"

/* ---- helpers ---------------------------------------------------------- */

/* A key that did not sign the vector recording. */
static struct reckey *
other_key(void)
{
	uint8_t seed[RECKEY_SEED_LEN];
	struct reckey *k;

	memset(seed, 0xa5, sizeof(seed));
	assert_int_equal(reckey_from_seed(seed, &k), 0);
	return (k);
}

/* Rewrite every stored chain hash, and the heads that CHECKPOINT and SEAL
 * repeat, as a forger who edited a frame would: only the signatures can
 * catch that. */
static void
rehash(uint8_t *p, size_t len, const char *sid)
{
	uint8_t h[REC_HASH_LEN];
	size_t off[32], nf, i, clen, pl, hpos;
	uint32_t rlen;

	nf = frame_offsets(p, len, off, 31);
	recfmt_chain_seed(sid, h);
	for (i = 0; i < nf; i++) {
		clen = off[i + 1] - off[i] - REC_HASH_LEN;
		pl = off[i] + 4 + REC_FRAME_FIXED;	/* payload start */
		hpos = 0;
		if (p[off[i] + 4] == REC_CHECKPOINT)
			hpos = pl;
		else if (p[off[i] + 4] == REC_SEAL) {
			rlen = (uint32_t)p[pl + 1] << 24 |
			    (uint32_t)p[pl + 2] << 16 |
			    (uint32_t)p[pl + 3] << 8 | p[pl + 4];
			hpos = pl + 1 + 4 + rlen + 40;
		}
		if (hpos != 0)
			memcpy(p + hpos, h, REC_HASH_LEN);
		recfmt_chain_step(h, p + off[i], clen, h);
		memcpy(p + off[i] + clen, h, REC_HASH_LEN);
	}
}

/* The first place text stands in the recording p; fails the test if it
 * is not there (the forgery tests edit bytes they know are present). */
static char *
find_text(uint8_t *p, size_t len, const char *text)
{
	size_t i, n = strlen(text);

	for (i = 0; i + n < len; i++)
		if (memcmp(p + i, text, n) == 0)
			return ((char *)p + i);
	fail_msg("\"%s\" is not in the recording", text);
	return (NULL);
}

/* The recording p (len bytes) verifies with key k as ALTERED, the first
 * bad frame being bad_seq and, if why is not NULL, the reason naming it. */
static void
assert_altered_at(const uint8_t *p, size_t len, const struct reckey *k,
    uint64_t bad_seq, const char *why)
{
	struct recverify_report rep;

	assert_int_equal(verify_mem(p, len, k, &rep), RECVERIFY_ALTERED);
	assert_int_equal(rep.bad_seq, bad_seq);
	if (why != NULL && strstr(rep.why, why) == NULL)
		fail_msg("the verifier's reason \"%s\" does not name \"%s\"",
		    rep.why, why);
	recverify_report_clear(&rep);
}

/* ---- verifier --------------------------------------------------------- */

static void
test_verify_flips(void **state)
{
	struct recverify_report rep;
	struct reckey *k = test_key();
	size_t len, i;
	uint8_t *p;
	int bit;

	(void)state;
	p = vector_recording(k, 1, &len, NULL, NULL);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			p[i] ^= (uint8_t)(1 << bit);
			if (verify_mem(p, len, k, &rep) != RECVERIFY_ALTERED)
				fail_msg("flip of bit %d at offset %zu gave "
				    "verdict %d (%s)", bit, i, rep.verdict,
				    rep.why);
			/* the first bad frame is at or before the flip */
			assert_true(rep.bad_offset <= i);
			recverify_report_clear(&rep);
			p[i] ^= (uint8_t)(1 << bit);
		}
	}
	free(p);
	reckey_free(k);
}

static void
test_verify_truncations(void **state)
{
	struct recverify_report rep;
	struct reckey *k = test_key();
	size_t len, i, off[32], nf, j;
	uint8_t *p;
	int v, boundary;

	(void)state;
	p = vector_recording(k, 1, &len, NULL, NULL);
	nf = frame_offsets(p, len, off, 31);
	assert_int_equal(nf, 9);
	for (i = 0; i < len; i++) {
		v = verify_mem(p, i, k, &rep);
		boundary = 0;
		for (j = 1; j <= nf; j++)
			if (off[j] == i)
				boundary = 1;
		if (boundary)
			assert_int_equal(v, RECVERIFY_UNSEALED);
		else
			assert_int_equal(v, RECVERIFY_ALTERED);
		if (v == RECVERIFY_UNSEALED && i < off[6]) {
			/* cut before the checkpoint: nothing is proven */
			assert_int_equal(rep.verified, 0);
			assert_int_equal(rep.unverified, rep.frames);
		} else if (v == RECVERIFY_UNSEALED) {
			assert_int_equal(rep.verified, 6);
			assert_int_equal(rep.unverified, rep.frames - 6);
		}
		recverify_report_clear(&rep);
	}
	free(p);
	reckey_free(k);
}

static void
test_verify_reorder(void **state)
{
	struct recverify_report rep;
	struct reckey *k = test_key();
	size_t len, off[32], nf, a, b, la, lb, i;
	uint8_t *p, *q;

	(void)state;
	p = vector_recording(k, 1, &len, NULL, NULL);
	nf = frame_offsets(p, len, off, 31);
	q = malloc(2 * len);
	assert_non_null(q);
	for (i = 0; i < nf; i++) {
		/* drop frame i */
		memcpy(q, p, off[i]);
		memcpy(q + off[i], p + off[i + 1], len - off[i + 1]);
		assert_int_equal(verify_mem(q, len - (off[i + 1] - off[i]), k,
		    &rep), i == nf - 1 ? RECVERIFY_UNSEALED :
		    RECVERIFY_ALTERED);
		if (i != nf - 1) {
			assert_int_equal(rep.bad_seq, i);
			assert_int_equal(rep.bad_offset, off[i]);
			assert_true(rep.bad_frame);
		}
		recverify_report_clear(&rep);
		/* duplicate frame i */
		memcpy(q, p, off[i + 1]);
		memcpy(q + off[i + 1], p + off[i], off[i + 1] - off[i]);
		memcpy(q + off[i + 1] + (off[i + 1] - off[i]), p + off[i + 1],
		    len - off[i + 1]);
		assert_int_equal(verify_mem(q, len + (off[i + 1] - off[i]), k,
		    &rep), RECVERIFY_ALTERED);
		assert_int_equal(rep.bad_seq, i + 1);
		assert_int_equal(rep.bad_offset, off[i + 1]);
		recverify_report_clear(&rep);
	}
	/* swap each adjacent pair */
	for (i = 0; i + 1 < nf; i++) {
		a = off[i];
		b = off[i + 1];
		la = b - a;
		lb = off[i + 2] - b;
		memcpy(q, p, len);
		memcpy(q + a, p + b, lb);
		memcpy(q + a + lb, p + a, la);
		assert_altered_at(q, len, k, i, NULL);
	}
	free(q);
	free(p);
	reckey_free(k);
}

static void
test_verify_forgery(void **state)
{
	struct reckey *k = test_key(), *o = other_key();
	size_t len;
	uint8_t *p;
	char *s;

	(void)state;
	p = vector_recording(k, 1, &len, NULL, NULL);
	/* edit the output "uid=1000" into "uid=0000" and re-hash */
	s = find_text(p, len, "uid=1000");
	s[4] = '0';
	rehash(p, len, VEC_SESSION);
	/* the SEAL signs frame 6 */
	assert_altered_at(p, len, k, 8, "signature");
	free(p);

	/* an edit before the checkpoint is caught by the checkpoint */
	p = vector_recording(k, 1, &len, NULL, NULL);
	s = find_text(p, len, "xterm-");
	s[0] = 'X';
	rehash(p, len, VEC_SESSION);
	assert_altered_at(p, len, k, 5, NULL);
	free(p);

	/* the wrong public key */
	p = vector_recording(k, 1, &len, NULL, NULL);
	assert_altered_at(p, len, o, 0, "key");
	free(p);
	reckey_free(k);
	reckey_free(o);
}

static void
test_verify_unsealed(void **state)
{
	struct recverify_report rep;
	struct reckey *k = test_key();
	struct rec_frame f;
	struct buf *b;
	size_t len, off[32], nf;
	uint8_t *p, *q, h[REC_HASH_LEN];

	(void)state;
	p = vector_recording(k, 0, &len, NULL, NULL);
	assert_int_equal(verify_mem(p, len, k, &rep), RECVERIFY_UNSEALED);
	assert_int_equal(rep.frames, 8);
	assert_int_equal(rep.verified, 6);
	assert_int_equal(rep.unverified, 2);
	assert_false(rep.sealed);
	recverify_report_clear(&rep);

	/* a forger appends a consistent frame 2 s later: the unsigned tail
	 * is longer than the recorder ever leaves it */
	nf = frame_offsets(p, len, off, 31);
	assert_int_equal(nf, 8);
	b = buf_new(1024);
	memset(&f, 0, sizeof(f));
	f.type = REC_OUTPUT;
	f.seq = 8;
	f.time_us = 3300000;
	f.payload = (const uint8_t *)"forged";
	f.len = 6;
	assert_int_equal(recfmt_frame_encode(b, &f), 0);
	recfmt_chain_step(p + len - REC_HASH_LEN, buf_ptr(b), buf_len(b), h);
	assert_int_equal(buf_put(b, h, sizeof(h)), 0);
	q = malloc(len + buf_len(b));
	memcpy(q, p, len);
	memcpy(q + len, buf_ptr(b), buf_len(b));
	assert_altered_at(q, len + buf_len(b), k, 8, "checkpoint");
	free(q);
	buf_free(b);
	free(p);
	reckey_free(k);
}

static void
test_verify_mutations(void **state)
{
	struct recverify_report rep;
	struct reckey *k = test_key();
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t len, n, i, j, pos;
	uint8_t *p, *q;
	int v;

	(void)state;
	p = vector_recording(k, 1, &len, NULL, NULL);
	q = malloc(len + 64);
	assert_non_null(q);
	for (i = 0; i < 3000; i++) {
		memcpy(q, p, len);
		n = len;
		for (j = 0; j < 1 + i % 4; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			pos = (size_t)(x % n);
			switch ((x >> 32) % 4) {
			case 0:		/* random byte */
				q[pos] = (uint8_t)(x >> 40);
				break;
			case 1:		/* delete a byte */
				memmove(q + pos, q + pos + 1, n - pos - 1);
				n--;
				break;
			case 2:		/* insert a byte */
				memmove(q + pos + 1, q + pos, n - pos);
				q[pos] = (uint8_t)(x >> 48);
				n++;
				break;
			default:	/* a huge length somewhere */
				if (pos + 4 <= n)
					memset(q + pos, 0xff, 4);
				break;
			}
			if (n < 2 || n > len + 32)
				break;
		}
		v = verify_mem(q, n, k, &rep);
		if (n != len || memcmp(p, q, len) != 0)
			assert_int_not_equal(v, RECVERIFY_OK);
		recverify_report_clear(&rep);
	}
	free(q);
	free(p);
	reckey_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_flips),
		cmocka_unit_test(test_verify_truncations),
		cmocka_unit_test(test_verify_reorder),
		cmocka_unit_test(test_verify_forgery),
		cmocka_unit_test(test_verify_unsealed),
		cmocka_unit_test(test_verify_mutations),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
