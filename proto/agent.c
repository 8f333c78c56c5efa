/*
 * agent.c - ssh-agent protocol messages (see agent.h for the contract).
 */
#include <string.h>

#include "agent.h"
#include "buf.h"
#include "err.h"

/* Append body to out as one framed message: u32 length, then body. */
static int
agent_frame(struct buf *out, struct buf *body)
{
	int r;

	if ((r = buf_put_u32(out, (uint32_t)buf_len(body))) != 0 ||
	    (r = buf_put(out, buf_ptr(body), buf_len(body))) != 0)
		return (r);
	return (0);
}

int
agent_msg_identities(struct buf *out)
{
	int r;

	if (out == NULL)
		return (BERR_INVAL);
	if ((r = buf_put_u32(out, 1)) != 0 ||
	    (r = buf_put_u8(out, SSH_AGENTC_REQUEST_IDENTITIES)) != 0)
		return (r);
	return (0);
}

int
agent_msg_sign(struct buf *out, const uint8_t *key, size_t keylen,
    const uint8_t *data, size_t datalen)
{
	struct buf *body;
	int r;

	if (out == NULL || key == NULL || data == NULL)
		return (BERR_INVAL);
	if ((body = buf_new(16 + keylen + datalen)) == NULL)
		return (BERR_NOMEM);
	if ((r = buf_put_u8(body, SSH_AGENTC_SIGN_REQUEST)) != 0 ||
	    (r = buf_put_string(body, key, keylen)) != 0 ||
	    (r = buf_put_string(body, data, datalen)) != 0 ||
	    (r = buf_put_u32(body, 0)) != 0 ||	/* flags: none for sk keys */
	    (r = agent_frame(out, body)) != 0) {
		buf_free(body);
		return (r);
	}
	buf_free(body);
	return (0);
}

int
agent_frame_len(const uint8_t hdr[4], size_t max, size_t *len)
{
	uint32_t n;

	if (hdr == NULL || len == NULL)
		return (BERR_INVAL);
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	*len = 0;
	if (n == 0 || n > max)
		return (BERR_LIMIT);
	*len = n;
	return (0);
}

/* Read the type byte; failure codes (5, and the extension failures 28,
 * 30) become BERR_DENIED, an unexpected type BERR_FORMAT. */
static int
agent_get_type(struct buf *b, uint8_t want)
{
	uint8_t t;

	if (buf_get_u8(b, &t) != 0)
		return (BERR_FORMAT);
	if (t == want)
		return (0);
	if (t == SSH_AGENT_FAILURE || t == 28 || t == 30)
		return (BERR_DENIED);
	return (BERR_FORMAT);
}

int
agent_parse_sign(const uint8_t *msg, size_t len, const uint8_t **sig,
    size_t *siglen)
{
	struct buf *b;
	const uint8_t *p;
	size_t n;
	int r;

	if (sig == NULL || siglen == NULL)
		return (BERR_INVAL);
	*sig = NULL;
	*siglen = 0;
	if ((r = buf_open(msg, len, AGENT_MAX_SIGN_REPLY, &b)) != 0 ||
	    (r = agent_get_type(b, SSH_AGENT_SIGN_RESPONSE)) != 0)
		goto out;
	if (buf_get_string_direct(b, &p, &n, AGENT_MAX_SIGN_REPLY) != 0 ||
	    n == 0 || buf_len(b) != 0) {
		r = BERR_FORMAT;
		goto out;
	}
	/* point into the caller's bytes, not into b */
	*sig = msg + (len - n);
	*siglen = n;
out:
	buf_free(b);
	return (r);
}

int
agent_parse_identities(const uint8_t *msg, size_t len, const uint8_t *key,
    size_t keylen, int *has)
{
	struct buf *b;
	const uint8_t *p, *c;
	size_t n, cn;
	uint32_t count, i;
	int r;

	if (has == NULL || key == NULL)
		return (BERR_INVAL);
	*has = 0;
	if ((r = buf_open(msg, len, AGENT_MAX_REPLY, &b)) != 0 ||
	    (r = agent_get_type(b, SSH_AGENT_IDENTITIES_ANSWER)) != 0)
		goto out;
	if (buf_get_u32(b, &count) != 0 || count > AGENT_MAX_IDENTITIES) {
		r = BERR_FORMAT;
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (buf_get_string_direct(b, &p, &n, AGENT_MAX_REPLY) != 0 ||
		    buf_get_string_direct(b, &c, &cn, AGENT_MAX_REPLY) != 0) {
			r = BERR_FORMAT;
			goto out;
		}
		if (n == keylen && memcmp(p, key, n) == 0)
			*has = 1;
	}
	if (buf_len(b) != 0) {
		*has = 0;
		r = BERR_FORMAT;
	}
out:
	buf_free(b);
	return (r);
}
