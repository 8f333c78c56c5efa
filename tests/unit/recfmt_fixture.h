/*
 * recfmt_fixture.h - what the recording-format tests share (test_recfmt.c,
 * test_recverify.c): the fixed recorder key, the vector recording of
 * docs/RECORDING-FORMAT.md ("Test vectors") made with the real writer, a
 * verifier run over bytes in memory, and the frame boundaries of a file.
 * Header-only (static functions), as every tests/unit/test_*.c is its own
 * program; include it after <cmocka.h>.
 */
#ifndef BASTION_RECFMT_FIXTURE_H
#define BASTION_RECFMT_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "buf.h"
#include "recfmt.h"
#include "reckey.h"
#include "recverify.h"
#include "recwriter.h"

#define VEC_SESSION	"20250101T000000Z-0001020304050607"

/* The recorder key of the vectors: seed bytes 0, 1, ..., 31. */
static struct reckey *
test_key(void)
{
	uint8_t seed[RECKEY_SEED_LEN];
	struct reckey *k;
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	assert_int_equal(reckey_from_seed(seed, &k), 0);
	return (k);
}

/* The HEADER fields of the vector recording, signed by k. */
static void
vec_header(struct rec_hdr *h, const struct reckey *k)
{
	char fp[RECKEY_FP_LEN];

	reckey_fingerprint(k, fp);
	memset(h, 0, sizeof(*h));
	assert_int_equal(recfmt_hdr_add(h, "session", VEC_SESSION), 0);
	assert_int_equal(recfmt_hdr_add(h, "engineer", "alice"), 0);
	assert_int_equal(recfmt_hdr_add(h, "vendor", "acme"), 0);
	assert_int_equal(recfmt_hdr_add(h, "source", "192.0.2.10:50000"), 0);
	assert_int_equal(recfmt_hdr_add(h, "device", "ct-scanner-1"), 0);
	assert_int_equal(recfmt_hdr_add(h, "device_addr", "198.51.100.5:22"),
	    0);
	assert_int_equal(recfmt_hdr_add(h, "approval", "42"), 0);
	assert_int_equal(recfmt_hdr_add(h, "policy_sha256",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	    0);
	assert_int_equal(recfmt_hdr_add(h, "start",
	    "2025-01-01T00:00:00.000000Z"), 0);
	assert_int_equal(recfmt_hdr_add(h, "recorder_key", fp), 0);
}

/* Read all of fd (from offset 0) into a new buffer. */
static uint8_t *
slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *p;

	assert_true(end >= 0);
	p = malloc((size_t)end + 1);
	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)end, 0), end);
	*len = (size_t)end;
	return (p);
}

static void
put_pty(struct buf *b, const char *term, uint32_t c, uint32_t r)
{
	assert_int_equal(buf_put_cstring(b, term), 0);
	assert_int_equal(buf_put_u32(b, c), 0);
	assert_int_equal(buf_put_u32(b, r), 0);
}

/*
 * The vector recording: HEADER, PTY_REQ, SHELL, OUTPUT, INPUT, (a
 * CHECKPOINT the writer inserts at 1.1 s), OUTPUT, EXIT_STATUS, SEAL.
 * heads (if not NULL) receives the chain head after each frame.
 */
static uint8_t *
vector_recording(const struct reckey *k, int seal, size_t *len,
    uint8_t heads[][REC_HASH_LEN], size_t *nheads)
{
	static const char out1[] = "$ ";
	static const char in1[] = "id\r";
	static const char out2[] = "id\r\nuid=1000(alice) gid=1000(alice)\r\n$ ";
	struct rec_hdr h;
	struct recwriter *w;
	struct buf *b;
	uint8_t *p, st[4] = { 0, 0, 0, 0 };
	size_t n = 0;
	int fd, keep;

	vec_header(&h, k);
	fd = memfd_create("rec", 0);
	assert_true(fd >= 0);
	keep = dup(fd);
	assert_int_equal(recwriter_open(fd, k, &h, &w), 0);
	recfmt_hdr_clear(&h);
#define HEAD() do { if (heads != NULL) \
	memcpy(heads[n++], recwriter_head(w), REC_HASH_LEN); } while (0)
	HEAD();
	b = buf_new(256);
	put_pty(b, "xterm-256color", 80, 24);
	assert_int_equal(recwriter_append(w, REC_PTY_REQ, 0, buf_ptr(b),
	    buf_len(b), 1000), 0);
	buf_free(b);
	HEAD();
	assert_int_equal(recwriter_append(w, REC_SHELL, 0, NULL, 0, 1500), 0);
	HEAD();
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, out1,
	    strlen(out1), 250000), 0);
	HEAD();
	assert_int_equal(recwriter_append(w, REC_INPUT, 0, in1, strlen(in1),
	    900000), 0);
	HEAD();
	assert_int_equal(recwriter_frames(w), 5);
	assert_int_equal(recwriter_ckpt_due(w), REC_CKPT_INTERVAL_US);
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, out2,
	    strlen(out2), 1100000), 0);
	/* the writer put a CHECKPOINT before it */
	assert_int_equal(recwriter_frames(w), 7);
	if (heads != NULL) {
		memset(heads[n++], 0, REC_HASH_LEN);	/* filled below */
		HEAD();
	}
	assert_int_equal(recwriter_append(w, REC_EXIT_STATUS, 0, st,
	    sizeof(st), 1200000), 0);
	HEAD();
	if (seal) {
		assert_int_equal(recwriter_seal(w, REC_END_NORMAL,
		    "worker closed the session", 1300000), 0);
		HEAD();
	}
#undef HEAD
	recwriter_free(w);
	p = slurp(keep, len);
	close(keep);
	if (nheads != NULL)
		*nheads = n;
	return (p);
}

static int
verify_mem(const uint8_t *p, size_t len, const struct reckey *k,
    struct recverify_report *rep)
{
	static const uint8_t one[1];
	FILE *fp;
	int v;

	/* fmemopen() of zero bytes is not portable: use a 1-byte buffer
	 * opened for a 0-byte read instead */
	fp = fmemopen((void *)(len ? p : one), len ? len : 1, "r");
	assert_non_null(fp);
	if (len == 0)
		(void)fseek(fp, 1, SEEK_SET);
	v = recverify_fp(fp, k, rep);
	fclose(fp);
	return (v);
}

/* Frame boundaries of a recording (offsets), for drop/dup/reorder. */
static size_t
frame_offsets(const uint8_t *p, size_t len, size_t *off, size_t max)
{
	size_t o = REC_MAGIC_LEN, n = 0;
	uint32_t flen;

	while (o + 4 <= len && n < max) {
		off[n++] = o;
		flen = (uint32_t)p[o] << 24 | (uint32_t)p[o + 1] << 16 |
		    (uint32_t)p[o + 2] << 8 | p[o + 3];
		o += 4 + flen + REC_HASH_LEN;
	}
	off[n] = o;
	return (n);
}

#endif
