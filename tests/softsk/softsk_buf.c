/*
 * softsk_buf.c - a bounded, growable byte buffer for building the objects
 * the key hands to OpenSSH (key handles, authenticator data, CBOR).
 *
 * Appends record failure in the buffer instead of returning it, so an
 * encoder is a straight run of puts followed by one softsk_buf_status()
 * check.  Old storage is wiped before it is freed because some buffers
 * hold key material on its way into a key handle.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "softsk.h"

void
softsk_buf_init(struct softsk_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
softsk_buf_free(struct softsk_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	softsk_buf_init(b);
}

/* Makes room for n more bytes; marks the buffer failed if it cannot. */
static int
softsk_buf_reserve(struct softsk_buf *b, size_t n)
{
	size_t want, ncap;
	uint8_t *nd;

	if (b->failed)
		return -1;
	if (n > SOFTSK_BUF_MAX - b->len) {
		b->failed = 1;
		return -1;
	}
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	ncap = b->cap == 0 ? 256 : b->cap;
	while (ncap < want)
		ncap *= 2;
	if (ncap > SOFTSK_BUF_MAX)
		ncap = SOFTSK_BUF_MAX;
	if ((nd = malloc(ncap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	if (b->data != NULL) {
		memcpy(nd, b->data, b->len);
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = nd;
	b->cap = ncap;
	return 0;
}

void
softsk_buf_put(struct softsk_buf *b, const void *p, size_t n)
{
	if (n == 0 || softsk_buf_reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
softsk_buf_put_u8(struct softsk_buf *b, uint8_t v)
{
	softsk_buf_put(b, &v, 1);
}

void
softsk_buf_put_u16(struct softsk_buf *b, uint16_t v)
{
	uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	softsk_buf_put(b, be, sizeof(be));
}

void
softsk_buf_put_u32(struct softsk_buf *b, uint32_t v)
{
	uint8_t be[4] = {
		(uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v
	};

	softsk_buf_put(b, be, sizeof(be));
}

int
softsk_buf_status(const struct softsk_buf *b)
{
	return b->failed ? SSH_SK_ERR_GENERAL : 0;
}

int
softsk_buf_steal(struct softsk_buf *b, uint8_t **datap, size_t *lenp)
{
	uint8_t *out;

	*datap = NULL;
	*lenp = 0;
	if (b->failed || b->len == 0)
		return SSH_SK_ERR_GENERAL;
	if ((out = malloc(b->len)) == NULL)
		return SSH_SK_ERR_GENERAL;
	memcpy(out, b->data, b->len);
	*datap = out;
	*lenp = b->len;
	softsk_buf_free(b);
	return 0;
}
