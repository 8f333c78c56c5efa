/*
 * utf8.c - strict UTF-8 decoder and encoder (see utf8.h).
 *
 * Written as an explicit table of lead-byte ranges (RFC 3629, section 4)
 * rather than a bit-twiddling loop so that each rejected form is visible.
 */
#include "utf8.h"

int
utf8_lead(uint8_t b, unsigned *need, uint8_t *lo, uint8_t *hi, uint32_t *cp)
{
	uint8_t l = 0x80, h = 0xbf;
	unsigned n;
	uint32_t c;

	if (b < 0x80) {
		n = 0;
		c = b;
	} else if (b >= 0xc2 && b <= 0xdf) {
		n = 1;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 2;
		if (b == 0xe0)
			l = 0xa0;	/* no overlong 3-byte forms */
		else if (b == 0xed)
			h = 0x9f;	/* no UTF-16 surrogates */
		c = b & 0x0f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 3;
		if (b == 0xf0)
			l = 0x90;	/* no overlong 4-byte forms */
		else if (b == 0xf4)
			h = 0x8f;	/* nothing above U+10FFFF */
		c = b & 0x07;
	} else
		return (-1);
	*need = n;
	*lo = l;
	*hi = h;
	*cp = c;
	return (0);
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
