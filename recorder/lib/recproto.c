/*
 * recproto.c - encode and split recorder protocol messages (recproto.h).
 *
 * Messages are built whole into a struct buf, then sent; a message's length
 * prefix is patched in by building the body first. Splitting relies on
 * buf_get_string_direct(), which checks the declared length against the cap
 * before anything else, so a peer cannot make us buffer more than the cap.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "recbundle.h"
#include "recproto.h"

/*
 * A message is built as a body, begun by msg_begin() (its type byte) and
 * ended by msg_end(), which appends it to b as u32 length + body if all
 * went well (r == 0) and frees it either way.
 */
static int
msg_begin(struct buf **body, size_t max, int msg)
{
	if ((*body = buf_new(max)) == NULL)
		return (BERR_NOMEM);
	return (buf_put_u8(*body, (uint8_t)msg));
}

static int
msg_end(struct buf *b, struct buf *body, int r)
{
	if (r == 0)
		r = buf_put_string(b, buf_ptr(body), buf_len(body));
	buf_free(body);
	return (r);
}

int
recproto_put_open(struct buf *b, const struct rec_hdr *facts)
{
	struct buf *body;
	int r;

	if ((r = msg_begin(&body, RECPROTO_HELLO_MAX, RECPROTO_OPEN)) == 0 &&
	    (r = buf_put_u32(body, RECPROTO_VERSION)) == 0)
		r = recfmt_hdr_encode(facts, body);
	return (msg_end(b, body, r));
}

int
recproto_put_frame_head(struct buf *b, int type, uint32_t channel,
    size_t len)
{
	int r;

	if (len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	if ((r = buf_put_u32(b, (uint32_t)(RECPROTO_FRAME_OVERHEAD + len))) !=
	    0 ||
	    (r = buf_put_u8(b, RECPROTO_FRAME)) != 0 ||
	    (r = buf_put_u8(b, (uint8_t)type)) != 0 ||
	    (r = buf_put_u32(b, channel)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)len)) != 0)
		return (r);
	return (0);
}

int
recproto_put_empty(struct buf *b, int msg)
{
	int r;

	if ((r = buf_put_u32(b, 1)) != 0 ||
	    (r = buf_put_u8(b, (uint8_t)msg)) != 0)
		return (r);
	return (0);
}

int
recproto_put_ok(struct buf *b, const char *session_id, const char *path,
    uint64_t frames, const char *head_hex)
{
	struct buf *body;
	int r;

	if ((r = msg_begin(&body, RECPROTO_REPLY_MAX, RECPROTO_OK)) == 0 &&
	    (r = buf_put_cstring(body, session_id)) == 0 &&
	    (r = buf_put_cstring(body, path)) == 0 &&
	    (r = buf_put_u64(body, frames)) == 0)
		r = buf_put_cstring(body, head_hex);
	return (msg_end(b, body, r));
}

int
recproto_put_err(struct buf *b, const char *reason)
{
	struct buf *body;
	size_t n = strlen(reason);
	int r;

	if (n > RECPROTO_REPLY_MAX - 16)
		n = RECPROTO_REPLY_MAX - 16;
	if ((r = msg_begin(&body, RECPROTO_REPLY_MAX, RECPROTO_ERR)) == 0)
		r = buf_put_string(body, reason, n);
	return (msg_end(b, body, r));
}

int
recproto_put_notarize(struct buf *b, const char *recid, const void *manifest,
    size_t mlen, uint64_t chain_seq)
{
	struct buf *body;
	int r;

	if (mlen > RECBUNDLE_MANIFEST_MAX)
		return (BERR_LIMIT);
	r = msg_begin(&body, RECPROTO_HELLO_MAX, RECPROTO_NOTARIZE);
	if (r == 0 && (r = buf_put_cstring(body, recid)) == 0 &&
	    (r = buf_put_string(body, manifest, mlen)) == 0)
		r = buf_put_u64(body, chain_seq);
	return (msg_end(b, body, r));
}

int
recproto_put_signature(struct buf *b, const uint8_t sig[REC_SIG_LEN])
{
	struct buf *body;
	int r;

	r = msg_begin(&body, RECPROTO_REPLY_MAX, RECPROTO_SIGNATURE);
	if (r == 0)
		r = buf_put_string(body, sig, REC_SIG_LEN);
	return (msg_end(b, body, r));
}

int
recproto_get_notarize(struct buf *body, char **recid,
    const uint8_t **manifest, size_t *mlen, uint64_t *chain_seq)
{
	*recid = NULL;
	*manifest = NULL;
	*mlen = 0;
	*chain_seq = 0;
	if (buf_get_cstring(body, recid, REC_SESSION_ID_MAX) != 0 ||
	    buf_get_string_direct(body, manifest, mlen,
	    RECBUNDLE_MANIFEST_MAX) != 0 ||
	    buf_get_u64(body, chain_seq) != 0 || buf_len(body) != 0) {
		free(*recid);
		*recid = NULL;
		return (BERR_FORMAT);
	}
	return (0);
}

int
recproto_put_watch(struct buf *b, const char *recid)
{
	struct buf *body;
	int r;

	if ((r = msg_begin(&body, RECPROTO_REPLY_MAX, RECPROTO_WATCH)) == 0)
		r = buf_put_cstring(body, recid);
	return (msg_end(b, body, r));
}

int
recproto_put_live(struct buf *b, int type, const void *p, size_t len)
{
	struct buf *body;
	int r;

	if (len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	r = msg_begin(&body, RECPROTO_MSG_MAX, RECPROTO_LIVE);
	if (r == 0 && (r = buf_put_u8(body, (uint8_t)type)) == 0)
		r = buf_put_string(body, p, len);
	return (msg_end(b, body, r));
}

int
recproto_put_end(struct buf *b, const char *reason)
{
	struct buf *body;
	int r;

	if ((r = msg_begin(&body, RECPROTO_REPLY_MAX, RECPROTO_END)) == 0)
		r = buf_put_string(body, reason, strnlen(reason,
		    RECPROTO_REPLY_MAX - 16));
	return (msg_end(b, body, r));
}

int
recproto_get_watch(struct buf *body, char **recid)
{
	*recid = NULL;
	if (buf_get_cstring(body, recid, REC_SESSION_ID_MAX) != 0 ||
	    buf_len(body) != 0 || !recfmt_session_id_valid(*recid)) {
		free(*recid);
		*recid = NULL;
		return (BERR_FORMAT);
	}
	return (0);
}

int
recproto_take_direct(struct buf *in, size_t max, const uint8_t **p,
    size_t *len)
{
	int r;

	r = buf_get_string_direct(in, p, len, max);
	if (r == BERR_TRUNC)
		return (BERR_AGAIN);
	if (r != 0)
		return (r);
	return (*len == 0 ? BERR_FORMAT : 0);
}

int
recproto_take(struct buf *in, size_t max, int *msg, struct buf **body)
{
	const uint8_t *p;
	size_t len;
	int r;

	*body = NULL;
	*msg = 0;
	if ((r = recproto_take_direct(in, max, &p, &len)) != 0)
		return (r);
	if ((*body = buf_from(p + 1, len - 1)) == NULL)
		return (BERR_NOMEM);
	*msg = p[0];
	return (0);
}
