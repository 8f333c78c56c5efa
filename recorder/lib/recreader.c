/*
 * recreader.c - bounded frame reader (see recreader.h).
 *
 * A frame is read in two steps: the 4-byte length, checked against
 * REC_FRAME_FIXED..REC_FRAME_FIXED + REC_MAX_PAYLOAD, then exactly that many
 * bytes plus the 32-byte chain hash into a scratch area of fixed size. The
 * canonical bytes are then parsed through struct buf like any other input.
 *
 * Version 2 (recenc.h): the key block after the magic line is read whole
 * (its length checked against RECENC_KEYBLOCK_MAX first) and kept for
 * recenc.c; frames may carry up to REC_MAX_STORED bytes; with a file key
 * set, encrypted payloads are opened into a second buffer, wiped when the
 * reader is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/crypto.h>

#include "age.h"
#include "buf.h"
#include "err.h"
#include "recenc.h"
#include "recreader.h"

struct recreader {
	FILE *fp;
	int own;
	uint64_t pos;		/* offset of the next unread byte */
	uint64_t frame_off;	/* offset of the last frame read */
	uint8_t *raw;		/* canonical bytes + hash, REC_FRAME_MAX */
	size_t canon_len;
	/* parsed copy of the canonical bytes; a new one per frame, since
	 * buf_reset() wipes the whole allocation and frames vary from 30
	 * bytes to 1 MiB */
	struct buf *fb;
	uint8_t hash[REC_HASH_LEN];
	int version;		/* 1 or 2, after recreader_magic */
	uint64_t base;		/* offset of frame 0 */
	uint8_t *kb;		/* version 2: the key block */
	size_t kblen;
	struct age_payload *dec;	/* set: decrypt payloads */
	uint8_t *plain;		/* REC_MAX_PAYLOAD: the clear payload */
};

static int
reader_new(FILE *fp, int own, struct recreader **out)
{
	struct recreader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->raw = malloc(REC_FRAME_MAX)) == NULL) {
		free(r);
		return (BERR_NOMEM);
	}
	r->fp = fp;
	r->own = own;
	*out = r;
	return (0);
}

int
recreader_open(const char *path, struct recreader **out)
{
	FILE *fp;
	int r;

	*out = NULL;
	if ((fp = fopen(path, "rbe")) == NULL)
		return (errno == ENOENT ? BERR_NOTFOUND : BERR_SYS);
	if ((r = reader_new(fp, 1, out)) != 0)
		fclose(fp);
	return (r);
}

int
recreader_open_fp(FILE *fp, struct recreader **out)
{
	return (reader_new(fp, 0, out));
}

/* Read exactly n bytes; returns how many arrived (short at EOF), or -1. */
static ssize_t
read_n(struct recreader *r, uint8_t *p, size_t n)
{
	size_t got = fread(p, 1, n, r->fp);

	if (got < n && ferror(r->fp))
		return (-1);
	r->pos += got;
	return ((ssize_t)got);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* Version 2: the key block after the magic line. */
static int
read_keyblock(struct recreader *r)
{
	uint8_t lb[4];
	uint32_t len;
	ssize_t n;

	if ((n = read_n(r, lb, sizeof(lb))) < 0)
		return (BERR_SYS);
	if ((size_t)n < sizeof(lb))
		return (BERR_TRUNC);
	if ((len = get_be32(lb)) > RECENC_KEYBLOCK_MAX)
		return (BERR_LIMIT);
	free(r->kb);
	if ((r->kb = malloc(len > 0 ? len : 1)) == NULL)
		return (BERR_NOMEM);
	if ((n = read_n(r, r->kb, len)) < 0)
		return (BERR_SYS);
	if ((size_t)n < len)
		return (BERR_TRUNC);
	r->kblen = len;
	return (0);
}

int
recreader_magic(struct recreader *r)
{
	uint8_t m[REC_MAGIC_LEN];
	ssize_t n;
	int rc;

	r->frame_off = 0;
	r->version = 0;
	if ((n = read_n(r, m, sizeof(m))) < 0)
		return (BERR_SYS);
	if ((size_t)n < sizeof(m))
		return (memcmp(m, REC_MAGIC, (size_t)n) == 0 ||
		    memcmp(m, REC_MAGIC_V2, (size_t)n) == 0 ? BERR_TRUNC :
		    BERR_FORMAT);
	if (memcmp(m, REC_MAGIC, sizeof(m)) == 0)
		r->version = 1;
	else if (memcmp(m, REC_MAGIC_V2, sizeof(m)) == 0) {
		if ((rc = read_keyblock(r)) != 0)
			return (rc);
		r->version = 2;
	} else
		return (BERR_FORMAT);
	r->base = r->pos;
	return (0);
}

int
recreader_version(const struct recreader *r)
{
	return (r->version);
}

uint64_t
recreader_base(const struct recreader *r)
{
	return (r->base);
}

const uint8_t *
recreader_keyblock(const struct recreader *r, size_t *len)
{
	*len = r->version == 2 ? r->kblen : 0;
	return (r->version == 2 ? r->kb : NULL);
}

int
recreader_set_key(struct recreader *r, const uint8_t file_key[16])
{
	int rc;

	if (r->version != 2)
		return (BERR_INVAL);
	if (r->plain == NULL && (r->plain = malloc(REC_MAX_PAYLOAD)) == NULL)
		return (BERR_NOMEM);
	age_payload_free(r->dec);
	r->dec = NULL;
	if ((rc = age_payload_new(file_key, &r->dec)) != 0)
		return (rc);
	return (0);
}

int
recreader_decrypts(const struct recreader *r)
{
	return (r->dec != NULL);
}

/* Replace an encrypted payload by its clear text (in r->plain). */
static int
open_payload(struct recreader *r, struct rec_frame *f)
{
	size_t plen = 0;
	int rc;

	if ((rc = age_payload_plain_len(f->len, &plen)) != 0)
		return (rc);
	if (plen > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	if ((rc = age_payload_open(r->dec, f->payload, f->len, r->plain,
	    &plen)) != 0)
		return (rc);
	f->payload = r->plain;
	f->len = plen;
	return (0);
}

int
recreader_next(struct recreader *r, struct rec_frame *f)
{
	struct buf *lb;
	uint32_t len;
	ssize_t n;
	int rc;

	memset(f, 0, sizeof(*f));
	r->frame_off = r->pos;
	r->canon_len = 0;
	if ((n = read_n(r, r->raw, 4)) < 0)
		return (BERR_SYS);
	if (n == 0)
		return (BERR_NOTFOUND);
	if (n < 4)
		return (BERR_TRUNC);
	if ((lb = buf_from(r->raw, 4)) == NULL)
		return (BERR_NOMEM);
	rc = buf_get_u32(lb, &len);
	buf_free(lb);
	if (rc != 0)
		return (rc);
	if (len < REC_FRAME_FIXED)
		return (BERR_FORMAT);
	if (len > REC_FRAME_FIXED + (r->version == 2 ? REC_MAX_STORED :
	    REC_MAX_PAYLOAD))
		return (BERR_LIMIT);
	if ((n = read_n(r, r->raw + 4, (size_t)len + REC_HASH_LEN)) < 0)
		return (BERR_SYS);
	if ((size_t)n < (size_t)len + REC_HASH_LEN)
		return (BERR_TRUNC);
	buf_free(r->fb);
	if ((r->fb = buf_from(r->raw, 4 + (size_t)len)) == NULL)
		return (BERR_NOMEM);
	if ((rc = recfmt_frame_decode_max(r->fb, f, r->version == 2 ?
	    REC_MAX_STORED : REC_MAX_PAYLOAD)) != 0)
		return (rc);
	if (buf_len(r->fb) != 0)
		return (BERR_FORMAT);
	r->canon_len = 4 + (size_t)len;
	memcpy(r->hash, r->raw + r->canon_len, REC_HASH_LEN);
	if (r->dec != NULL && recfmt_type_encrypted(f->type))
		return (open_payload(r, f));
	return (0);
}

uint64_t
recreader_offset(const struct recreader *r)
{
	return (r->frame_off);
}

const uint8_t *
recreader_canon(const struct recreader *r, size_t *len)
{
	*len = r->canon_len;
	return (r->raw);
}

const uint8_t *
recreader_hash(const struct recreader *r)
{
	return (r->hash);
}

int
recreader_seek(struct recreader *r, uint64_t offset)
{
	if (fseeko(r->fp, (off_t)offset, SEEK_SET) != 0)
		return (BERR_SYS);
	r->pos = offset;
	return (0);
}

void
recreader_free(struct recreader *r)
{
	if (r == NULL)
		return;
	if (r->own && r->fp != NULL)
		fclose(r->fp);
	buf_free(r->fb);
	free(r->raw);
	free(r->kb);
	age_payload_free(r->dec);
	if (r->plain != NULL)
		OPENSSL_clear_free(r->plain, REC_MAX_PAYLOAD);
	free(r);
}

int
recreader_header(const char *path, struct rec_hdr *h)
{
	struct recreader *r = NULL;
	struct rec_frame f;
	int err;

	memset(h, 0, sizeof(*h));
	if ((err = recreader_open(path, &r)) != 0)
		return (err);
	if ((err = recreader_magic(r)) == 0 &&
	    (err = recreader_next(r, &f)) == 0) {
		if (f.type != REC_HEADER)
			err = BERR_FORMAT;
		else
			err = recfmt_hdr_decode(f.payload, f.len, h);
	}
	recreader_free(r);
	return (err);
}
