/*
 * utf8.c - strict UTF-8 decoder and encoder (see utf8.h).
 *
 * Written as an explicit table of lead-byte ranges (RFC 3629, section 4)
 * rather than a bit-twiddling loop so that each rejected form is visible.
 */
#include "utf8.h"

int
utf8_decode(const uint8_t *p, size_t len, uint32_t *cp)
{
	uint8_t lo = 0x80, hi = 0xbf;
	uint32_t c;
	size_t need, i;

	if (len == 0)
		return (0);
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return (1);
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;	/* no overlong 3-byte forms */
		else if (c == 0xed)
			hi = 0x9f;	/* no UTF-16 surrogates */
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;	/* no overlong 4-byte forms */
		else if (c == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
		c &= 0x07;
	} else
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
