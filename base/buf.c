/*
 * buf.c - bounded byte buffer (see buf.h for the contract).
 *
 * Storage grows geometrically up to max_size. Consumed bytes at the front are
 * reclaimed lazily, when a write would otherwise have to grow the region.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

struct buf {
	uint8_t *d;
	size_t off;	/* first unread byte */
	size_t end;	/* one past the last written byte */
	size_t alloc;
	size_t max;
};

struct buf *
buf_new(size_t max_size)
{
	struct buf *b;

	if (max_size == 0)
		return (NULL);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->max = max_size;
	return (b);
}

struct buf *
buf_from(const void *data, size_t len)
{
	struct buf *b;

	if ((b = buf_new(len == 0 ? 1 : len)) == NULL)
		return (NULL);
	if (buf_put(b, data, len) != 0) {
		buf_free(b);
		return (NULL);
	}
	return (b);
}

int
buf_open(const void *data, size_t len, size_t max, struct buf **out)
{
	*out = NULL;
	if (data == NULL || len == 0 || len > max)
		return (BERR_FORMAT);
	if ((*out = buf_from(data, len)) == NULL)
		return (BERR_NOMEM);
	return (0);
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		explicit_bzero(b->d, b->alloc);
		free(b->d);
	}
	free(b);
}

void
buf_reset(struct buf *b)
{
	if (b->d != NULL)
		explicit_bzero(b->d, b->alloc);
	b->off = b->end = 0;
}

size_t
buf_len(const struct buf *b)
{
	return (b->end - b->off);
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	static const uint8_t empty[1];

	return (b->d == NULL ? empty : b->d + b->off);
}

size_t
buf_max_size(const struct buf *b)
{
	return (b->max);
}

/* Make room for len more bytes at the end; BERR_LIMIT past max. */
static int
buf_reserve(struct buf *b, size_t len)
{
	size_t need, nalloc;
	uint8_t *nd;

	if (len > b->max || buf_len(b) > b->max - len)
		return (BERR_LIMIT);
	if (b->alloc - b->end >= len)
		return (0);
	if (b->off > 0) {
		memmove(b->d, b->d + b->off, buf_len(b));
		b->end -= b->off;
		b->off = 0;
		if (b->alloc - b->end >= len)
			return (0);
	}
	need = b->end + len;
	nalloc = b->alloc == 0 ? 256 : b->alloc;
	while (nalloc < need)
		nalloc = nalloc > b->max / 2 ? b->max : nalloc * 2;
	if (nalloc > b->max)
		nalloc = b->max;
	if ((nd = realloc(b->d, nalloc)) == NULL)
		return (BERR_NOMEM);
	b->d = nd;
	b->alloc = nalloc;
	return (0);
}

int
buf_room(struct buf *b, size_t want, uint8_t **room, size_t *got)
{
	size_t left = b->max - buf_len(b);
	int r;

	*room = NULL;
	*got = 0;
	if (left == 0)
		return (BERR_LIMIT);
	if (want > left)
		want = left;
	if ((r = buf_reserve(b, want)) != 0)
		return (r);
	*room = b->d + b->end;
	*got = want;
	return (0);
}

void
buf_wrote(struct buf *b, size_t n)
{
	if (n <= b->alloc - b->end)
		b->end += n;
}

int
buf_put(struct buf *b, const void *data, size_t len)
{
	int r;

	if (len == 0)
		return (0);
	if ((r = buf_reserve(b, len)) != 0)
		return (r);
	memcpy(b->d + b->end, data, len);
	b->end += len;
	return (0);
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return (buf_put(b, &v, 1));
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	return (buf_put(b, x, sizeof(x)));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return (r);
	return (buf_put_u32(b, (uint32_t)v));
}

int
buf_put_string(struct buf *b, const void *data, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return (BERR_LIMIT);
	if ((r = buf_reserve(b, 4 + len)) != 0)
		return (r);
	(void)buf_put_u32(b, (uint32_t)len);
	return (buf_put(b, data, len));
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return (buf_put_string(b, s, strlen(s)));
}

int
buf_putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (BERR_FORMAT);
	if ((r = buf_reserve(b, (size_t)n + 1)) != 0)
		return (r);
	va_start(ap, fmt);
	vsnprintf((char *)b->d + b->end, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->end += (size_t)n;
	return (0);
}

int
buf_get(struct buf *b, void *out, size_t len)
{
	if (len > buf_len(b))
		return (BERR_TRUNC);
	if (len > 0 && out != NULL)
		memcpy(out, b->d + b->off, len);
	b->off += len;
	return (0);
}

int
buf_skip(struct buf *b, size_t len)
{
	return (buf_get(b, NULL, len));
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return (buf_get(b, v, 1));
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint8_t x[4];
	int r;

	if ((r = buf_get(b, x, 4)) != 0)
		return (r);
	*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
	    (uint32_t)x[2] << 8 | x[3];
	return (0);
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if (buf_len(b) < 8)
		return (BERR_TRUNC);
	if ((r = buf_get_u32(b, &hi)) != 0 || (r = buf_get_u32(b, &lo)) != 0)
		return (r);
	*v = (uint64_t)hi << 32 | lo;
	return (0);
}

int
buf_get_string_direct(struct buf *b, const uint8_t **out, size_t *lenp,
    size_t max_len)
{
	uint32_t len;

	*out = NULL;
	*lenp = 0;
	if (buf_len(b) < 4)
		return (BERR_TRUNC);
	len = (uint32_t)b->d[b->off] << 24 | (uint32_t)b->d[b->off + 1] << 16 |
	    (uint32_t)b->d[b->off + 2] << 8 | b->d[b->off + 3];
	if (len > max_len)
		return (BERR_LIMIT);
	if (len > buf_len(b) - 4)
		return (BERR_TRUNC);
	*out = b->d + b->off + 4;
	*lenp = len;
	b->off += 4 + (size_t)len;
	return (0);
}

int
buf_get_cstring(struct buf *b, char **out, size_t max_len)
{
	const uint8_t *p;
	size_t len;
	int r;

	*out = NULL;
	if ((r = buf_get_string_direct(b, &p, &len, max_len)) != 0)
		return (r);
	if (memchr(p, '\0', len) != NULL)
		return (BERR_FORMAT);
	if ((*out = malloc(len + 1)) == NULL)
		return (BERR_NOMEM);
	memcpy(*out, p, len);
	(*out)[len] = '\0';
	return (0);
}
