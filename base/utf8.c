/*
 * utf8.c - strict UTF-8 decoder and encoder (see utf8.h).
 *
 * Written as an explicit table of lead-byte ranges (RFC 3629, section 4)
 * rather than a bit-twiddling loop so that each rejected form is visible.
 */
#include "utf8.h"

/* RFC 3629, section 4: each lead byte range, the continuation bytes after
 * it, the range of the first of them, and the lead's bits. */
static const struct utf8_range {
	uint8_t first, last;
	uint8_t need, lo, hi, mask;
} utf8_ranges[] = {
	{ 0x00, 0x7f, 0, 0x80, 0xbf, 0x7f },
	{ 0xc2, 0xdf, 1, 0x80, 0xbf, 0x1f },
	{ 0xe0, 0xe0, 2, 0xa0, 0xbf, 0x0f },	/* no overlong 3-byte */
	{ 0xe1, 0xec, 2, 0x80, 0xbf, 0x0f },
	{ 0xed, 0xed, 2, 0x80, 0x9f, 0x0f },	/* no surrogates */
	{ 0xee, 0xef, 2, 0x80, 0xbf, 0x0f },
	{ 0xf0, 0xf0, 3, 0x90, 0xbf, 0x07 },	/* no overlong 4-byte */
	{ 0xf1, 0xf3, 3, 0x80, 0xbf, 0x07 },
	{ 0xf4, 0xf4, 3, 0x80, 0x8f, 0x07 },	/* to U+10FFFF only */
};

int
utf8_lead(uint8_t b, unsigned *need, uint8_t *lo, uint8_t *hi, uint32_t *cp)
{
	const struct utf8_range *r;
	size_t i;

	for (i = 0; i < sizeof(utf8_ranges) / sizeof(utf8_ranges[0]); i++) {
		r = &utf8_ranges[i];
		if (b < r->first || b > r->last)
			continue;
		*need = r->need;
		*lo = r->lo;
		*hi = r->hi;
		*cp = b & r->mask;
		return (0);
	}
	return (-1);	/* 0x80..0xc1 (continuations, overlong), 0xf5.. */
}

int
utf8_decode(const uint8_t *p, size_t len, uint32_t *cp)
{
	uint8_t lo, hi;
	uint32_t c;
	unsigned need;
	size_t i;

	if (len == 0)
		return (0);
	if (utf8_lead(p[0], &need, &lo, &hi, &c) != 0)
		return (-1);
	for (i = 1; i <= need; i++) {
		if (i >= len)
			return (0);
		if (p[i] < lo || p[i] > hi)
			return (-1);
		lo = 0x80;
		hi = 0xbf;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*cp = c;
	return ((int)need + 1);
}

size_t
utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return (0);
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return (3);
	}
	if (cp <= 0x10ffff) {
		out[0] = (uint8_t)(0xf0 | (cp >> 18));
		out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (uint8_t)(0x80 | (cp & 0x3f));
		return (4);
	}
	return (0);
}
