/*
 * recfmt.c - encode, decode and check recording frames (see recfmt.h and
 * docs/RECORDING-FORMAT.md).
 *
 * Everything read here may come from a hostile file or a compromised worker,
 * so every field goes through base/buf.h with an explicit cap, and every
 * payload type has exactly one accepted shape: trailing bytes are an error.
 * That keeps "what the recorder accepted" and "what the verifier accepts"
 * the same set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "recfmt.h"
#include "text.h"

#define PTY_TERM_MAX	REC_TERM_MAX
#define PTY_DIM_MAX	REC_DIM_MAX
#define SUBSYS_MAX	REC_SUBSYS_MAX
#define SIGNAL_MAX	REC_SIGNAL_MAX
#define SIGMSG_MAX	REC_SIGMSG_MAX
#define HOST_MAX	REC_HOST_MAX
#define EVENT_KIND_MAX	REC_KIND_MAX
#define EVENT_TEXT_MAX	REC_TEXT_MAX
#define REASON_MAX	REC_REASON_MAX

static const char *type_names[] = {
	[REC_HEADER] = "HEADER",
	[REC_PTY_REQ] = "PTY_REQ",
	[REC_WINDOW_CHANGE] = "WINDOW_CHANGE",
	[REC_EXEC] = "EXEC",
	[REC_SHELL] = "SHELL",
	[REC_SUBSYSTEM] = "SUBSYSTEM",
	[REC_OUTPUT] = "OUTPUT",
	[REC_STDERR] = "STDERR",
	[REC_INPUT] = "INPUT",
	[REC_EOF] = "EOF",
	[REC_EXIT_STATUS] = "EXIT_STATUS",
	[REC_EXIT_SIGNAL] = "EXIT_SIGNAL",
	[REC_FWD_OPEN] = "FWD_OPEN",
	[REC_FWD_DATA] = "FWD_DATA",
	[REC_FWD_CLOSE] = "FWD_CLOSE",
	[REC_EVENT] = "EVENT",
	[REC_CHECKPOINT] = "CHECKPOINT",
	[REC_SEAL] = "SEAL",
};

const char *
recfmt_type_name(int type)
{
	if (type < REC_TYPE_MIN || type > REC_TYPE_MAX)
		return ("UNKNOWN");
	return (type_names[type]);
}

int
recfmt_type_from_name(const char *name)
{
	int t;

	for (t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
		if (strcmp(type_names[t], name) == 0)
			return (t);
	return (-1);
}

int
recfmt_frame_encode(struct buf *b, const struct rec_frame *f)
{
	int r;

	if (f->type < REC_TYPE_MIN || f->type > REC_TYPE_MAX)
		return (BERR_INVAL);
	if (f->len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	if ((r = buf_put_u32(b, (uint32_t)(REC_FRAME_FIXED + f->len))) != 0 ||
	    (r = buf_put_u8(b, f->type)) != 0 ||
	    (r = buf_put_u64(b, f->seq)) != 0 ||
	    (r = buf_put_u64(b, f->time_us)) != 0 ||
	    (r = buf_put_u32(b, f->channel)) != 0 ||
	    (r = buf_put_string(b, f->payload, f->len)) != 0)
		return (r);
	return (0);
}

int
recfmt_frame_decode(struct buf *b, struct rec_frame *f)
{
	return (recfmt_frame_decode_max(b, f, REC_MAX_PAYLOAD));
}

int
recfmt_type_encrypted(int type)
{
	return (type >= REC_TYPE_MIN && type <= REC_TYPE_MAX &&
	    type != REC_HEADER && type != REC_CHECKPOINT && type != REC_SEAL);
}

int
recfmt_frame_decode_max(struct buf *b, struct rec_frame *f,
    size_t max_payload)
{
	uint32_t len;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = buf_get_u32(b, &len)) != 0)
		return (r);
	if (len < REC_FRAME_FIXED)
		return (BERR_FORMAT);
	if (max_payload > REC_MAX_STORED)
		return (BERR_INVAL);
	if (len > REC_FRAME_FIXED + max_payload)
		return (BERR_LIMIT);
	if (buf_len(b) < len)
		return (BERR_TRUNC);
	if ((r = buf_get_u8(b, &f->type)) != 0 ||
	    (r = buf_get_u64(b, &f->seq)) != 0 ||
	    (r = buf_get_u64(b, &f->time_us)) != 0 ||
	    (r = buf_get_u32(b, &f->channel)) != 0 ||
	    (r = buf_get_string_direct(b, &f->payload, &f->len,
	    max_payload)) != 0)
		return (r == BERR_LIMIT ? BERR_FORMAT : r);
	if (f->len + REC_FRAME_FIXED != len)
		return (BERR_FORMAT);
	if (f->type < REC_TYPE_MIN || f->type > REC_TYPE_MAX)
		return (BERR_FORMAT);
	return (0);
}

static int
sha256_two(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[REC_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	uint8_t md[REC_HASH_LEN];
	unsigned int mdlen = 0;
	int r = BERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (BERR_CRYPTO);
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == sizeof(md)) {
		memcpy(out, md, sizeof(md));
		r = 0;
	}
	EVP_MD_CTX_free(ctx);
	return (r);
}

int
recfmt_chain_seed(const char *session_id, uint8_t out[REC_HASH_LEN])
{
	static const char ctx[] = REC_SEED_CONTEXT;

	/* sizeof(ctx) includes the NUL: the 0x00 separator. */
	return (sha256_two(ctx, sizeof(ctx), session_id, strlen(session_id),
	    out));
}

int
recfmt_chain_step(const uint8_t prev[REC_HASH_LEN], const void *frame,
    size_t len, uint8_t out[REC_HASH_LEN])
{
	uint8_t p[REC_HASH_LEN];

	memcpy(p, prev, sizeof(p));
	return (sha256_two(p, sizeof(p), frame, len, out));
}

/*
 * The payload parsers work on a private copy in a struct buf; pointers they
 * hand out are translated back into the caller's payload by offset, since
 * the copy is freed on return.
 */
struct pcur {
	struct buf *b;
	const uint8_t *base;	/* start of the copy */
	const uint8_t *orig;	/* start of the caller's payload */
};

static const uint8_t *
pcur_rebase(const struct pcur *c, const uint8_t *q)
{
	return (c->orig + (q - c->base));
}

static int
pcur_string(struct pcur *c, size_t max, int clean, const uint8_t **s,
    size_t *slen)
{
	const uint8_t *q;
	int r;

	if ((r = buf_get_string_direct(c->b, &q, slen, max)) != 0)
		return (r);
	if (clean && !text_is_clean(q, *slen))
		return (BERR_FORMAT);
	*s = *slen == 0 ? c->orig : pcur_rebase(c, q);
	return (0);
}

static int
pcur_bytes(struct pcur *c, size_t n, const uint8_t **s)
{
	const uint8_t *q = buf_ptr(c->b);
	int r;

	if ((r = buf_skip(c->b, n)) != 0)
		return (r);
	*s = pcur_rebase(c, q);
	return (0);
}

/* A direction byte: from or to the device, nothing else. */
static int
pcur_dir(struct pcur *c, uint8_t *dir)
{
	int r;

	if ((r = buf_get_u8(c->b, dir)) != 0)
		return (r);
	return (*dir == REC_DIR_FROM_DEVICE || *dir == REC_DIR_TO_DEVICE ? 0 :
	    BERR_FORMAT);
}

static int
event_kind_ok(const uint8_t *p, size_t len)
{
	size_t i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
		    p[i] == '-' || p[i] == '_'))
			return (0);
	}
	return (1);
}

/* Types whose payload is taken apart field by field. */
static int
decode_fields(int type, struct pcur *c, struct rec_payload *o)
{
	uint8_t u8;
	int r = 0;

	switch (type) {
	case REC_PTY_REQ:
		if ((r = pcur_string(c, PTY_TERM_MAX, 1, &o->str,
		    &o->str_len)) != 0)
			return (r);
		/* FALLTHROUGH */
	case REC_WINDOW_CHANGE:
		if ((r = buf_get_u32(c->b, &o->cols)) != 0 ||
		    (r = buf_get_u32(c->b, &o->rows)) != 0)
			return (r);
		if (o->cols > PTY_DIM_MAX || o->rows > PTY_DIM_MAX)
			return (BERR_LIMIT);
		break;
	case REC_EXEC:
		r = pcur_string(c, REC_MAX_PAYLOAD, 0, &o->str, &o->str_len);
		break;
	case REC_SUBSYSTEM:
		r = pcur_string(c, SUBSYS_MAX, 1, &o->str, &o->str_len);
		break;
	case REC_EOF:
		r = pcur_dir(c, &o->dir);
		break;
	case REC_EXIT_STATUS:
		r = buf_get_u32(c->b, &o->status);
		break;
	case REC_EXIT_SIGNAL:
		if ((r = pcur_string(c, SIGNAL_MAX, 1, &o->str,
		    &o->str_len)) != 0 ||
		    (r = buf_get_u8(c->b, &o->core)) != 0 ||
		    (r = pcur_string(c, SIGMSG_MAX, 0, &o->str2,
		    &o->str2_len)) != 0)
			return (r);
		if (o->core > 1)
			return (BERR_FORMAT);
		break;
	case REC_FWD_OPEN:
		if ((r = pcur_string(c, HOST_MAX, 1, &o->str,
		    &o->str_len)) != 0 ||
		    (r = buf_get_u32(c->b, &o->port)) != 0 ||
		    (r = pcur_string(c, HOST_MAX, 1, &o->str2,
		    &o->str2_len)) != 0 ||
		    (r = buf_get_u32(c->b, &o->orig_port)) != 0)
			return (r);
		if (o->port > 65535 || o->orig_port > 65535)
			return (BERR_FORMAT);
		break;
	case REC_FWD_DATA:
		if ((r = pcur_dir(c, &o->dir)) != 0)
			return (r);
		o->data_len = buf_len(c->b);
		r = pcur_bytes(c, o->data_len, &o->data);
		break;
	case REC_EVENT:
		if ((r = pcur_string(c, EVENT_KIND_MAX, 0, &o->str,
		    &o->str_len)) != 0 ||
		    (r = pcur_string(c, EVENT_TEXT_MAX, 0, &o->str2,
		    &o->str2_len)) != 0)
			return (r);
		if (!event_kind_ok(o->str, o->str_len))
			return (BERR_FORMAT);
		break;
	case REC_CHECKPOINT:
		if ((r = pcur_bytes(c, REC_HASH_LEN, &o->head)) != 0 ||
		    (r = pcur_bytes(c, REC_SIG_LEN, &o->sig)) != 0)
			return (r);
		break;
	case REC_SEAL:
		if ((r = buf_get_u8(c->b, &u8)) != 0 ||
		    (r = pcur_string(c, REASON_MAX, 1, &o->str,
		    &o->str_len)) != 0 ||
		    (r = buf_get_u64(c->b, &o->frames)) != 0 ||
		    (r = buf_get_u64(c->b, &o->out_bytes)) != 0 ||
		    (r = buf_get_u64(c->b, &o->in_bytes)) != 0 ||
		    (r = buf_get_u64(c->b, &o->fwd_bytes)) != 0 ||
		    (r = buf_get_u64(c->b, &o->offset)) != 0 ||
		    (r = pcur_bytes(c, REC_HASH_LEN, &o->head)) != 0 ||
		    (r = pcur_bytes(c, REC_SIG_LEN, &o->sig)) != 0)
			return (r);
		if (u8 != REC_END_NORMAL && u8 != REC_END_ABNORMAL)
			return (BERR_FORMAT);
		o->status = u8;
		break;
	default:
		return (BERR_FORMAT);
	}
	if (r != 0)
		return (r);
	return (buf_len(c->b) == 0 ? 0 : BERR_FORMAT);
}

int
recfmt_payload_decode(int type, const uint8_t *p, size_t len,
    struct rec_payload *out)
{
	struct rec_payload scratch;
	struct rec_hdr h;
	struct pcur c;
	int r;

	if (out == NULL)
		out = &scratch;
	memset(out, 0, sizeof(*out));
	if (len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	switch (type) {
	case REC_HEADER:
		memset(&h, 0, sizeof(h));
		r = recfmt_hdr_decode(p, len, &h);
		recfmt_hdr_clear(&h);
		return (r);
	case REC_SHELL:
	case REC_FWD_CLOSE:
		return (len == 0 ? 0 : BERR_FORMAT);
	case REC_OUTPUT:
	case REC_STDERR:
	case REC_INPUT:
		out->data = p;
		out->data_len = len;
		return (0);
	default:
		break;
	}
	if (type < REC_TYPE_MIN || type > REC_TYPE_MAX)
		return (BERR_FORMAT);
	if ((c.b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	c.base = buf_ptr(c.b);
	c.orig = p;
	r = decode_fields(type, &c, out);
	buf_free(c.b);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return (r);
}

int
recfmt_signed_message(struct buf *b, int type, const uint8_t *canon,
    size_t canon_len)
{
	static const char ckpt[] = REC_CKPT_CONTEXT;
	static const char seal[] = REC_SEAL_CONTEXT;
	int r;

	if (canon_len < REC_SIG_LEN)
		return (BERR_INVAL);
	if (type == REC_CHECKPOINT)
		r = buf_put(b, ckpt, sizeof(ckpt));	/* with the NUL */
	else if (type == REC_SEAL)
		r = buf_put(b, seal, sizeof(seal));
	else
		return (BERR_INVAL);
	if (r != 0)
		return (r);
	return (buf_put(b, canon, canon_len - REC_SIG_LEN));
}

static int
hdr_key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > REC_HDR_KEY_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return (0);
	return (1);
}

int
recfmt_hdr_add(struct rec_hdr *h, const char *key, const char *value)
{
	size_t vlen = strlen(value);
	char *k, *v;

	if (h->n >= REC_HDR_MAX_FIELDS || vlen > REC_HDR_VALUE_MAX ||
	    strlen(key) > REC_HDR_KEY_MAX)
		return (BERR_LIMIT);
	if (!hdr_key_ok(key) || !text_is_clean(value, vlen))
		return (BERR_FORMAT);
	if (recfmt_hdr_get(h, key) != NULL)
		return (BERR_FORMAT);
	if ((k = strdup(key)) == NULL)
		return (BERR_NOMEM);
	if ((v = strdup(value)) == NULL) {
		free(k);
		return (BERR_NOMEM);
	}
	h->key[h->n] = k;
	h->value[h->n] = v;
	h->n++;
	return (0);
}

const char *
recfmt_hdr_get(const struct rec_hdr *h, const char *key)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->key[i], key) == 0)
			return (h->value[i]);
	return (NULL);
}

void
recfmt_hdr_clear(struct rec_hdr *h)
{
	size_t i;

	for (i = 0; i < h->n && i < REC_HDR_MAX_FIELDS; i++) {
		free(h->key[i]);
		free(h->value[i]);
		h->key[i] = h->value[i] = NULL;
	}
	h->n = 0;
}

int
recfmt_hdr_encode(const struct rec_hdr *h, struct buf *b)
{
	size_t i;
	int r;

	if ((r = buf_put_u32(b, (uint32_t)h->n)) != 0)
		return (r);
	for (i = 0; i < h->n; i++) {
		if ((r = buf_put_cstring(b, h->key[i])) != 0 ||
		    (r = buf_put_cstring(b, h->value[i])) != 0)
			return (r);
	}
	return (0);
}

int
recfmt_hdr_decode(const uint8_t *p, size_t len, struct rec_hdr *h)
{
	struct buf *b;
	char *k = NULL, *v = NULL;
	uint32_t n, i;
	int r;

	h->n = 0;
	if ((b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	if ((r = buf_get_u32(b, &n)) != 0)
		goto out;
	if (n > REC_HDR_MAX_FIELDS) {
		r = BERR_LIMIT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, &k, REC_HDR_KEY_MAX)) != 0 ||
		    (r = buf_get_cstring(b, &v, REC_HDR_VALUE_MAX)) != 0 ||
		    (r = recfmt_hdr_add(h, k, v)) != 0)
			goto out;
		free(k);
		free(v);
		k = v = NULL;
	}
	r = buf_len(b) == 0 ? 0 : BERR_FORMAT;
 out:
	free(k);
	free(v);
	buf_free(b);
	if (r != 0)
		recfmt_hdr_clear(h);
	return (r);
}

int
recfmt_session_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > REC_SESSION_ID_MAX || id[0] == '.')
		return (0);
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '.' ||
		    id[i] == '-' || id[i] == '_'))
			return (0);
	return (1);
}

void
recfmt_fmt_time(uint64_t unix_us, char *out, size_t outlen)
{
	time_t sec = (time_t)(unix_us / 1000000);
	struct tm tm;
	char tmp[32];

	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, outlen, "?");
		return;
	}
	snprintf(out, outlen, "%s.%06uZ", tmp,
	    (unsigned)(unix_us % 1000000));
}

/* n decimal digits from s into *v; 0 or -1. */
static int
digits(const char *s, int n, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return (0);
}

int
recfmt_parse_time(const char *s, uint64_t *unix_us)
{
	unsigned y, mo, d, h, mi, se, us;
	struct tm tm;
	time_t t;

	/* 2025-01-21T10:15:02.123456Z */
	if (strlen(s) != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z')
		return (BERR_FORMAT);
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
	    digits(s + 20, 6, &us))
		return (BERR_FORMAT);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return (BERR_FORMAT);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)se;
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return (BERR_FORMAT);
	*unix_us = (uint64_t)t * 1000000 + us;
	return (0);
}

void
recfmt_fmt_duration(uint64_t us, char *out, size_t outlen)
{
	uint64_t ms = us / 1000;

	snprintf(out, outlen, "%02llu:%02llu:%02llu.%03llu",
	    (unsigned long long)(ms / 3600000),
	    (unsigned long long)(ms / 60000 % 60),
	    (unsigned long long)(ms / 1000 % 60),
	    (unsigned long long)(ms % 1000));
}
