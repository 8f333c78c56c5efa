/*
 * ctlproto.c - framing for the control sockets (see ctlproto.h): version 1
 * (bastionctl on control.sock) and version 2 (bastion-webd on web.sock).
 * Every decoder here reads untrusted bytes through struct buf, with the
 * caps of ctlproto.h; what decodes encodes again to the same bytes (the
 * fuzz targets check it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctlproto.h"
#include "err.h"
#include "io.h"

/* End of an encoder: when r is 0, b's bytes become a heap copy *out of
 * *len bytes; b is freed either way. */
static int
buf_take(struct buf *b, int r, uint8_t **out, size_t *len)
{
	if (r == 0 && (*out = malloc(buf_len(b))) == NULL)
		r = BERR_NOMEM;
	if (r == 0) {
		*len = buf_len(b);
		memcpy(*out, buf_ptr(b), *len);
	}
	buf_free(b);
	return (r);
}

int
ctlp_request_encode(int argc, char *const argv[], uint8_t **out, size_t *len)
{
	struct buf *b;
	int i, r;

	*out = NULL;
	*len = 0;
	if (argc < 1 || argc > CTLP_MAX_ARGS)
		return (BERR_LIMIT);
	if ((b = buf_new(CTLP_MAX_REQUEST)) == NULL)
		return (BERR_NOMEM);
	r = buf_put(b, CTLP_MAGIC, 4);
	if (r == 0)
		r = buf_put_u8(b, CTLP_VERSION);
	if (r == 0)
		r = buf_put_u32(b, (uint32_t)argc);
	for (i = 0; r == 0 && i < argc; i++) {
		if (strlen(argv[i]) > CTLP_MAX_ARG)
			r = BERR_LIMIT;
		else
			r = buf_put_cstring(b, argv[i]);
	}
	return (buf_take(b, r, out, len));
}

void
ctlp_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* The part v1 and v2 share: magic, version, argv. */
static int
request_head(struct buf *b, uint8_t version, char ***argvp, int *argcp)
{
	char magic[4], **argv = NULL;
	uint8_t ver;
	uint32_t argc = 0, i;
	int r;

	if ((r = buf_get(b, magic, 4)) != 0 ||
	    (r = buf_get_u8(b, &ver)) != 0 ||
	    (r = buf_get_u32(b, &argc)) != 0)
		return (r);
	if (memcmp(magic, CTLP_MAGIC, 4) != 0 || ver != version)
		return (BERR_FORMAT);
	if (argc < 1 || argc > CTLP_MAX_ARGS)
		return (BERR_LIMIT);
	if ((argv = calloc(argc + 1, sizeof(*argv))) == NULL)
		return (BERR_NOMEM);
	for (i = 0; i < argc; i++)
		if ((r = buf_get_cstring(b, &argv[i], CTLP_MAX_ARG)) != 0) {
			ctlp_argv_free(argv);
			return (r);
		}
	*argvp = argv;
	*argcp = (int)argc;
	return (0);
}

int
ctlp_request_decode(const uint8_t *p, size_t len, char ***argvp, int *argcp)
{
	struct buf *b;
	int r;

	*argvp = NULL;
	*argcp = 0;
	if (len > CTLP_MAX_REQUEST)
		return (BERR_LIMIT);
	if ((b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	r = request_head(b, CTLP_VERSION, argvp, argcp);
	if (r == 0 && buf_len(b) != 0) {
		r = BERR_FORMAT;	/* trailing bytes */
		ctlp_argv_free(*argvp);
		*argvp = NULL;
		*argcp = 0;
	}
	buf_free(b);
	return (r);
}

/* Read a whole request (up to the peer's shutdown) into *pp / *lenp. */
static int
request_slurp(int fd, uint8_t **pp, size_t *lenp)
{
	uint8_t *p;
	size_t len = 0;
	ssize_t n;

	*pp = NULL;
	*lenp = 0;
	if ((p = malloc(CTLP_MAX_REQUEST + 1)) == NULL)
		return (BERR_NOMEM);
	if (io_read_upto(fd, p, CTLP_MAX_REQUEST + 1, &len) != 0) {
		free(p);
		return (BERR_SYS);
	}
	if (len > CTLP_MAX_REQUEST) {
		/* Swallow a bounded rest so the refusal is not lost to a
		 * connection reset, then refuse. */
		size_t extra = 0;

		while (extra < 64 * CTLP_MAX_REQUEST &&
		    (n = read(fd, p, CTLP_MAX_REQUEST)) != 0) {
			if (n < 0 && errno != EINTR)
				break;
			if (n > 0)
				extra += (size_t)n;
		}
		free(p);
		return (BERR_LIMIT);
	}
	if (len == 0) {
		free(p);
		return (BERR_TRUNC);
	}
	*pp = p;
	*lenp = len;
	return (0);
}

int
ctlp_request_read(int fd, char ***argvp, int *argcp)
{
	uint8_t *p;
	size_t len;
	int r;

	*argvp = NULL;
	*argcp = 0;
	if ((r = request_slurp(fd, &p, &len)) != 0)
		return (r);
	r = ctlp_request_decode(p, len, argvp, argcp);
	free(p);
	return (r);
}

/* A frame made of a fixed head (hn bytes) and a tail, as one write. */
static int
frame_head_tail(int fd, int type, const uint8_t *head, size_t hn,
    const void *tail, size_t tn)
{
	struct buf *b;
	int r;

	if (hn + tn > (type == CTLP_JSON ? CTLP2_MAX_FRAME : CTLP_MAX_FRAME))
		return (BERR_LIMIT);
	if ((b = buf_new(5 + hn + tn)) == NULL)
		return (BERR_NOMEM);
	if ((r = buf_put_u8(b, (uint8_t)type)) == 0 &&
	    (r = buf_put_u32(b, (uint32_t)(hn + tn))) == 0 &&
	    (r = buf_put(b, head, hn)) == 0 &&
	    (r = buf_put(b, tail, tn)) == 0)
		r = io_write_all(fd, buf_ptr(b), buf_len(b));
	buf_free(b);
	return (r);
}

/* Frames of one type, each the same head and a part of p (at least one
 * frame, even for n == 0). */
static int
frames_split(int fd, int type, const uint8_t *head, size_t hn, const void *p,
    size_t n)
{
	const uint8_t *q = p;
	size_t chunk;
	int r;

	do {
		chunk = n > CTLP_MAX_FRAME - hn ? CTLP_MAX_FRAME - hn : n;
		if ((r = frame_head_tail(fd, type, head, hn, q, chunk)) != 0)
			return (r);
		q += chunk;
		n -= chunk;
	} while (n > 0);
	return (0);
}

int
ctlp_frame_write(int fd, int type, const void *p, size_t n)
{
	return (frames_split(fd, type, NULL, 0, p, n));
}

static uint32_t
get32(const uint8_t *h)
{
	return ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3]);
}

int
ctlp_frame_read(int fd, int *type, uint8_t *buf, size_t cap, size_t *n)
{
	uint8_t h[5];
	uint32_t len;
	size_t got;
	int r;

	*n = 0;
	if ((r = io_read_all(fd, h, sizeof(h), &got)) != 0)
		return (r == BERR_TRUNC && got == 0 ? BERR_CLOSED : r);
	len = get32(h + 1);
	if ((h[0] != CTLP_OUT && h[0] != CTLP_ERR && h[0] != CTLP_EXIT) ||
	    len > CTLP_MAX_FRAME || len > cap || (h[0] == CTLP_EXIT &&
	    len != 1))
		return (BERR_FORMAT);
	if (len > 0 && (r = io_read_all(fd, buf, len, NULL)) != 0)
		return (r);
	*type = h[0];
	*n = len;
	return (0);
}

/* ---- version 2 ------------------------------------------------------- */

enum attr_kind { AK_BIN, AK_TEXT, AK_ASSERT, AK_ATTEST, AK_FORMAT, AK_LANG };

/* The attribute names v2 knows, each with its cap (docs/WEB.md). */
static const struct {
	const char	*name;
	size_t		 min, max;
	enum attr_kind	 kind;
} attr_names[] = {
	{ "token",	CTLP_TOKEN_LEN,	CTLP_TOKEN_LEN,	AK_BIN },
	{ "assert",	20,	4 * 5 + CTLP_MAX_CRED_ID + CTLP_MAX_AUTHDATA +
	    CTLP_MAX_CLIENTDATA + CTLP_MAX_SIG + CTLP_MAX_USERHANDLE,
	    AK_ASSERT },
	{ "attest",	8,	8 + CTLP_MAX_ATTOBJ + CTLP_MAX_CLIENTDATA,
	    AK_ATTEST },
	{ "secret",	0,	1024,	AK_TEXT },
	{ "code",	1,	64,	AK_TEXT },
	{ "from",	0,	128,	AK_TEXT },
	{ "format",	4,	4,	AK_FORMAT },
	{ "lang",	2,	2,	AK_LANG },
};
#define NATTR_NAMES (sizeof(attr_names) / sizeof(attr_names[0]))

/* Index of the table entry for name (n bytes), or -1. */
static int
attr_lookup(const void *name, size_t n)
{
	size_t i;

	for (i = 0; i < NATTR_NAMES; i++)
		if (strlen(attr_names[i].name) == n &&
		    memcmp(attr_names[i].name, name, n) == 0)
			return ((int)i);
	return (-1);
}

/* Is value acceptable for table entry i? */
static int
attr_check(int i, const uint8_t *v, size_t n)
{
	struct ctlp_assertion a;
	struct ctlp_attestation t;

	if (n < attr_names[i].min || n > attr_names[i].max)
		return (BERR_LIMIT);
	switch (attr_names[i].kind) {
	case AK_BIN:
		return (0);
	case AK_TEXT:
		return (memchr(v, '\0', n) != NULL ? BERR_FORMAT : 0);
	case AK_ASSERT:
		return (ctlp_assertion_decode(v, n, &a));
	case AK_ATTEST:
		return (ctlp_attestation_decode(v, n, &t));
	case AK_FORMAT:
		return (memcmp(v, "json", 4) == 0 || memcmp(v, "text", 4) == 0 ?
		    0 : BERR_FORMAT);
	case AK_LANG:
		return (memcmp(v, "ja", 2) == 0 || memcmp(v, "en", 2) == 0 ?
		    0 : BERR_FORMAT);
	}
	return (BERR_FORMAT);
}

int
ctlp_request2_encode(int argc, char *const argv[],
    const struct ctlp_attr *attr, size_t nattr, uint8_t **out, size_t *len)
{
	struct buf *b;
	uint8_t *v1 = NULL;
	size_t v1len, i, j;
	int r, k;

	*out = NULL;
	*len = 0;
	if (nattr > CTLP_MAX_ATTRS)
		return (BERR_LIMIT);
	for (i = 0; i < nattr; i++) {
		if (attr[i].name == NULL ||
		    (k = attr_lookup(attr[i].name, strlen(attr[i].name))) < 0)
			return (BERR_INVAL);
		for (j = 0; j < i; j++)
			if (strcmp(attr[j].name, attr[i].name) == 0)
				return (BERR_INVAL);
		if ((r = attr_check(k, attr[i].value, attr[i].len)) != 0)
			return (r);
	}
	if ((r = ctlp_request_encode(argc, argv, &v1, &v1len)) != 0)
		return (r);
	v1[4] = CTLP_VERSION2;
	if ((b = buf_new(CTLP_MAX_REQUEST)) == NULL) {
		free(v1);
		return (BERR_NOMEM);
	}
	r = buf_put(b, v1, v1len);
	free(v1);
	if (r == 0)
		r = buf_put_u32(b, (uint32_t)nattr);
	for (i = 0; r == 0 && i < nattr; i++)
		if ((r = buf_put_cstring(b, attr[i].name)) == 0)
			r = buf_put_string(b, attr[i].value, attr[i].len);
	return (buf_take(b, r, out, len));
}

void
ctlp_req_free(struct ctlp_req *r)
{
	if (r == NULL)
		return;
	ctlp_argv_free(r->argv);
	if (r->raw != NULL) {
		explicit_bzero(r->raw, r->rawlen);
		free(r->raw);
	}
	free(r);
}

/* Decode the attribute list that starts at the buffer's read position:
 * the names point into the table, the values into r->raw. */
static int
attrs_decode(struct buf *b, struct ctlp_req *r)
{
	const uint8_t *name, *val;
	uint32_t n, i;
	size_t nlen, vlen, j;
	int k, rc;

	if ((rc = buf_get_u32(b, &n)) != 0)
		return (rc);
	if (n > CTLP_MAX_ATTRS)
		return (BERR_LIMIT);
	for (i = 0; i < n; i++) {
		if ((rc = buf_get_string_direct(b, &name, &nlen, 16)) != 0 ||
		    (rc = buf_get_string_direct(b, &val, &vlen,
		    CTLP_MAX_REQUEST)) != 0)
			return (rc);
		if ((k = attr_lookup(name, nlen)) < 0)
			return (BERR_FORMAT);
		for (j = 0; j < r->nattr; j++)
			if (r->attr[j].name == attr_names[k].name)
				return (BERR_FORMAT);
		if ((rc = attr_check(k, val, vlen)) != 0)
			return (rc);
		r->attr[r->nattr].name = attr_names[k].name;
		/* val points into b's copy; rebase onto r->raw */
		r->attr[r->nattr].value = r->raw + (r->rawlen -
		    buf_len(b) - vlen);
		r->attr[r->nattr].len = vlen;
		r->nattr++;
	}
	return (buf_len(b) == 0 ? 0 : BERR_FORMAT);
}

int
ctlp_request2_decode(const uint8_t *p, size_t len, struct ctlp_req **out)
{
	struct ctlp_req *r;
	struct buf *b = NULL;
	int rc;

	*out = NULL;
	if (len > CTLP_MAX_REQUEST)
		return (BERR_LIMIT);
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->raw = malloc(len > 0 ? len : 1)) == NULL ||
	    (b = buf_from(p, len)) == NULL) {
		ctlp_req_free(r);
		return (BERR_NOMEM);
	}
	if (len > 0)
		memcpy(r->raw, p, len);
	r->rawlen = len;
	if ((rc = request_head(b, CTLP_VERSION2, &r->argv, &r->argc)) == 0)
		rc = attrs_decode(b, r);
	buf_free(b);
	if (rc != 0) {
		ctlp_req_free(r);
		return (rc);
	}
	*out = r;
	return (0);
}

int
ctlp_request2_read(int fd, struct ctlp_req **out)
{
	uint8_t *p;
	size_t len;
	int r;

	*out = NULL;
	if ((r = request_slurp(fd, &p, &len)) != 0)
		return (r);
	r = ctlp_request2_decode(p, len, out);
	explicit_bzero(p, len);
	free(p);
	return (r);
}

const struct ctlp_attr *
ctlp_req_attr(const struct ctlp_req *r, const char *name)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nattr; i++)
		if (strcmp(r->attr[i].name, name) == 0)
			return (&r->attr[i]);
	return (NULL);
}

int
ctlp_req_attr_str(const struct ctlp_req *r, const char *name, char **out)
{
	const struct ctlp_attr *a;

	*out = NULL;
	if ((a = ctlp_req_attr(r, name)) == NULL)
		return (0);
	if ((*out = malloc(a->len + 1)) == NULL)
		return (BERR_NOMEM);
	memcpy(*out, a->value, a->len);
	(*out)[a->len] = '\0';
	return (0);
}

/* Read SSH strings from b into (ptr, len) pairs with their caps; nothing
 * may follow. */
static int
strings_decode(const uint8_t *p, size_t len, size_t n, const uint8_t **ptr[],
    size_t *lens[], const size_t caps[], size_t base)
{
	struct buf *b;
	const uint8_t *v;
	size_t i;
	int r = 0;

	if ((b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	for (i = 0; r == 0 && i < n; i++)
		if ((r = buf_get_string_direct(b, &v, lens[i], caps[i])) == 0)
			*ptr[i] = p + (len - buf_len(b) - *lens[i]);
	if (r == 0 && buf_len(b) != 0)
		r = BERR_FORMAT;
	/* the first `base` strings may not be empty */
	for (i = 0; r == 0 && i < base; i++)
		if (*lens[i] == 0)
			r = BERR_FORMAT;
	buf_free(b);
	return (r);
}

int
ctlp_assertion_decode(const uint8_t *p, size_t len, struct ctlp_assertion *a)
{
	const uint8_t **ptr[] = { &a->cred_id, &a->authdata, &a->clientdata,
	    &a->sig, &a->user };
	size_t *lens[] = { &a->cred_id_len, &a->authdata_len,
	    &a->clientdata_len, &a->sig_len, &a->user_len };
	static const size_t caps[] = { CTLP_MAX_CRED_ID, CTLP_MAX_AUTHDATA,
	    CTLP_MAX_CLIENTDATA, CTLP_MAX_SIG, CTLP_MAX_USERHANDLE };

	memset(a, 0, sizeof(*a));
	return (strings_decode(p, len, 5, ptr, lens, caps, 4));
}

int
ctlp_attestation_decode(const uint8_t *p, size_t len,
    struct ctlp_attestation *a)
{
	const uint8_t **ptr[] = { &a->attobj, &a->clientdata };
	size_t *lens[] = { &a->attobj_len, &a->clientdata_len };
	static const size_t caps[] = { CTLP_MAX_ATTOBJ, CTLP_MAX_CLIENTDATA };

	memset(a, 0, sizeof(*a));
	return (strings_decode(p, len, 2, ptr, lens, caps, 2));
}

int
ctlp_assertion_encode(struct buf *b, const struct ctlp_assertion *a)
{
	int r;

	if (a->cred_id_len == 0 || a->cred_id_len > CTLP_MAX_CRED_ID ||
	    a->authdata_len == 0 || a->authdata_len > CTLP_MAX_AUTHDATA ||
	    a->clientdata_len == 0 || a->clientdata_len > CTLP_MAX_CLIENTDATA ||
	    a->sig_len == 0 || a->sig_len > CTLP_MAX_SIG ||
	    a->user_len > CTLP_MAX_USERHANDLE)
		return (BERR_LIMIT);
	if ((r = buf_put_string(b, a->cred_id, a->cred_id_len)) != 0 ||
	    (r = buf_put_string(b, a->authdata, a->authdata_len)) != 0 ||
	    (r = buf_put_string(b, a->clientdata, a->clientdata_len)) != 0 ||
	    (r = buf_put_string(b, a->sig, a->sig_len)) != 0 ||
	    (r = buf_put_string(b, a->user, a->user_len)) != 0)
		return (r);
	return (0);
}

int
ctlp_attestation_encode(struct buf *b, const struct ctlp_attestation *a)
{
	int r;

	if (a->attobj_len == 0 || a->attobj_len > CTLP_MAX_ATTOBJ ||
	    a->clientdata_len == 0 || a->clientdata_len > CTLP_MAX_CLIENTDATA)
		return (BERR_LIMIT);
	if ((r = buf_put_string(b, a->attobj, a->attobj_len)) != 0 ||
	    (r = buf_put_string(b, a->clientdata, a->clientdata_len)) != 0)
		return (r);
	return (0);
}

/* ---- v2 frames ------------------------------------------------------- */

int
ctlp_json_write(int fd, const void *json, size_t n)
{
	if (n == 0)
		return (BERR_INVAL);
	return (frame_head_tail(fd, CTLP_JSON, NULL, 0, json, n));
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

int
ctlp_term_write(int fd, uint64_t ms, const void *p, size_t n)
{
	uint8_t h[8];

	put64(h, ms);
	return (frames_split(fd, CTLP_TERM, h, sizeof(h), p, n));
}

int
ctlp_challenge_write(int fd, const uint8_t ch[CTLP_CHALLENGE_LEN],
    const char *json)
{
	return (frame_head_tail(fd, CTLP_CHALLENGE, ch, CTLP_CHALLENGE_LEN,
	    json, strlen(json)));
}

int
ctlp_auth_write(int fd, const uint8_t token[CTLP_TOKEN_LEN], uint64_t expiry,
    const char *json)
{
	uint8_t h[CTLP_TOKEN_LEN + 8];
	int r;

	memcpy(h, token, CTLP_TOKEN_LEN);
	put64(h + CTLP_TOKEN_LEN, expiry);
	r = frame_head_tail(fd, CTLP_AUTH, h, sizeof(h), json, strlen(json));
	explicit_bzero(h, sizeof(h));
	return (r);
}

/* Largest and smallest payload of each v2 frame type; 0 max: unknown. */
static int
frame2_bounds(int type, size_t *min, size_t *max)
{
	*min = 0;
	*max = CTLP_MAX_FRAME;
	switch (type) {
	case CTLP_OUT:
	case CTLP_ERR:
		return (0);
	case CTLP_EXIT:
		*min = *max = 1;
		return (0);
	case CTLP_JSON:
		*min = 1;
		*max = CTLP2_MAX_FRAME;
		return (0);
	case CTLP_TERM:
		*min = 8;
		return (0);
	case CTLP_CHALLENGE:
		*min = CTLP_CHALLENGE_LEN;
		return (0);
	case CTLP_AUTH:
		*min = CTLP_TOKEN_LEN + 8;
		return (0);
	}
	return (BERR_FORMAT);
}

int
ctlp_frame2_parse(const uint8_t *p, size_t len, int *type,
    const uint8_t **payload, size_t *plen, size_t *used)
{
	size_t min, max;
	uint32_t n;

	*payload = NULL;
	*plen = *used = 0;
	if (len < 5)
		return (BERR_AGAIN);
	n = get32(p + 1);
	if (frame2_bounds(p[0], &min, &max) != 0 || n < min || n > max)
		return (BERR_FORMAT);
	if (len - 5 < n)
		return (BERR_AGAIN);
	*type = p[0];
	*payload = p + 5;
	*plen = n;
	*used = 5 + (size_t)n;
	return (0);
}

int
ctlp_frame2_read(int fd, int *type, uint8_t *buf, size_t cap, size_t *n)
{
	uint8_t h[5];
	size_t got, min, max;
	uint32_t len;
	int r;

	*n = 0;
	if ((r = io_read_all(fd, h, sizeof(h), &got)) != 0)
		return (r == BERR_TRUNC && got == 0 ? BERR_CLOSED : r);
	len = get32(h + 1);
	if (frame2_bounds(h[0], &min, &max) != 0 || len < min || len > max ||
	    len > cap)
		return (BERR_FORMAT);
	if (len > 0 && (r = io_read_all(fd, buf, len, NULL)) != 0)
		return (r);
	*type = h[0];
	*n = len;
	return (0);
}

int
ctlp_term_decode(const uint8_t *p, size_t n, uint64_t *ms,
    const uint8_t **bytes, size_t *blen)
{
	if (n < 8)
		return (BERR_FORMAT);
	*ms = get64(p);
	*bytes = p + 8;
	*blen = n - 8;
	return (0);
}

int
ctlp_challenge_decode(const uint8_t *p, size_t n,
    uint8_t ch[CTLP_CHALLENGE_LEN], const uint8_t **json, size_t *jlen)
{
	if (n < CTLP_CHALLENGE_LEN)
		return (BERR_FORMAT);
	memcpy(ch, p, CTLP_CHALLENGE_LEN);
	*json = p + CTLP_CHALLENGE_LEN;
	*jlen = n - CTLP_CHALLENGE_LEN;
	return (0);
}

int
ctlp_auth_decode(const uint8_t *p, size_t n, uint8_t token[CTLP_TOKEN_LEN],
    uint64_t *expiry, const uint8_t **json, size_t *jlen)
{
	if (n < CTLP_TOKEN_LEN + 8)
		return (BERR_FORMAT);
	memcpy(token, p, CTLP_TOKEN_LEN);
	*expiry = get64(p + CTLP_TOKEN_LEN);
	*json = p + CTLP_TOKEN_LEN + 8;
	*jlen = n - CTLP_TOKEN_LEN - 8;
	return (0);
}
