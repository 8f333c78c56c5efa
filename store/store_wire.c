/*
 * store_wire.c - encoding and strict decoding of the store actor's
 * messages (format in store_wire.h), through the bounded buffer of
 * base/buf.h, so that no byte of a datagram is indexed by hand.
 */
#include <string.h>

#include "buf.h"
#include "err.h"
#include "state.h"
#include "store_wire.h"

static int
store_kind_ok(uint8_t kind)
{
	return (kind >= STATE_EV_REQUEST && kind <= STATE_EV_MAX);
}

struct buf *
store_wire_begin(uint8_t type, size_t max)
{
	struct buf *b;

	if ((b = buf_new(max)) == NULL)
		return (NULL);
	if (buf_put_u8(b, STORE_WIRE_VERSION) != 0 ||
	    buf_put_u8(b, type) != 0) {
		buf_free(b);
		return (NULL);
	}
	return (b);
}

int
store_wire_end(struct buf *b, int r, uint8_t *out, size_t outlen,
    size_t *len)
{
	if (r == 0 && buf_len(b) > outlen)
		r = BERR_LIMIT;
	if (r == 0) {
		memcpy(out, buf_ptr(b), buf_len(b));
		*len = buf_len(b);
	}
	buf_free(b);
	return (r);
}

int
store_msg_encode(const struct store_msg *m, uint8_t *out, size_t outlen,
    size_t *len)
{
	struct buf *b;
	int r;

	*len = 0;
	if ((b = store_wire_begin(m->type, outlen < STORE_MSG_MAX ? outlen :
	    STORE_MSG_MAX)) == NULL)
		return (BERR_NOMEM);
	switch (m->type) {
	case STORE_MSG_APPEND:
		r = buf_put_cstring(b, m->text);
		break;
	case STORE_MSG_APPENDED:
		if ((r = buf_put_u64(b, m->seq)) == 0)
			r = strlen(m->hash) != AUDITLOG_HEX_LEN ? BERR_INVAL :
			    buf_put(b, m->hash, AUDITLOG_HEX_LEN);
		break;
	case STORE_MSG_ERROR:
		if ((r = buf_put_u32(b, (uint32_t)-m->code)) == 0)
			r = buf_put_cstring(b, m->text);
		break;
	case STORE_MSG_NOTIFY:
	case STORE_MSG_SUBSCRIBE:
	case STORE_MSG_EVENT:
		if ((r = buf_put_u8(b, m->kind)) == 0)
			r = buf_put_u64(b, (uint64_t)m->id);
		break;
	default:
		r = BERR_INVAL;
	}
	return (store_wire_end(b, r, out, outlen, len));
}

/* A text field: at most STORE_TEXT_MAX bytes, no NUL. */
static int
store_get_text(struct buf *b, char *out)
{
	const uint8_t *p;
	size_t n;

	if (buf_get_string_direct(b, &p, &n, STORE_TEXT_MAX) != 0 ||
	    memchr(p, '\0', n) != NULL)
		return (BERR_FORMAT);
	memcpy(out, p, n);
	out[n] = '\0';
	return (0);
}

static int
store_msg_fields(struct buf *b, struct store_msg *m)
{
	uint64_t v;
	uint32_t code;

	switch (m->type) {
	case STORE_MSG_APPEND:
		return (store_get_text(b, m->text));
	case STORE_MSG_APPENDED:
		if (buf_get_u64(b, &m->seq) != 0 ||
		    buf_get(b, m->hash, AUDITLOG_HEX_LEN) != 0)
			return (BERR_FORMAT);
		m->hash[AUDITLOG_HEX_LEN] = '\0';
		return (strspn(m->hash, "0123456789abcdef") ==
		    AUDITLOG_HEX_LEN ? 0 : BERR_FORMAT);
	case STORE_MSG_ERROR:
		if (buf_get_u32(b, &code) != 0 || code == 0 || code > 1000)
			return (BERR_FORMAT);
		m->code = -(int)code;
		return (store_get_text(b, m->text));
	case STORE_MSG_NOTIFY:
	case STORE_MSG_SUBSCRIBE:
	case STORE_MSG_EVENT:
		if (buf_get_u8(b, &m->kind) != 0 || !store_kind_ok(m->kind) ||
		    buf_get_u64(b, &v) != 0 || v > INT64_MAX)
			return (BERR_FORMAT);
		m->id = (int64_t)v;
		return (0);
	default:
		return (BERR_FORMAT);
	}
}

int
store_msg_decode(const uint8_t *p, size_t len, struct store_msg *m)
{
	struct buf *b;
	uint8_t version;
	int r;

	memset(m, 0, sizeof(*m));
	if (len == 0 || len > STORE_MSG_MAX)
		return (BERR_FORMAT);
	if ((b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	r = buf_get_u8(b, &version) != 0 || version != STORE_WIRE_VERSION ||
	    buf_get_u8(b, &m->type) != 0 || store_msg_fields(b, m) != 0 ||
	    buf_len(b) != 0 ? BERR_FORMAT : 0;
	buf_free(b);
	return (r);
}
