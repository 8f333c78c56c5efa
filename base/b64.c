/*
 * b64.c - the one base64 decoder (see b64.h).
 *
 * Two passes: the first checks the whole text (alphabet, padding, length)
 * before anything is allocated, the second decodes what is known good.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"

/* The value of a base64 digit, -1 for anything else ('=' included). */
static int
b64_value(char c)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *q;

	if (c == '\0' || (q = strchr(digits, c)) == NULL)
		return (-1);
	return ((int)(q - digits));
}

int
b64_decode(const char *s, size_t maxlen, int flags, uint8_t **out,
    size_t *outlen)
{
	size_t len, i, pad = 0, o = 0;
	uint32_t acc = 0;
	uint8_t *d;

	if (out == NULL || outlen == NULL)
		return (BERR_INVAL);
	*out = NULL;
	*outlen = 0;
	if (s == NULL)
		return (BERR_INVAL);
	len = strlen(s);
	if (len / 4 * 3 > maxlen + 2 || len > (size_t)INT32_MAX)
		return (BERR_LIMIT);
	if (len == 0 || len % 4 != 0)
		return (BERR_FORMAT);
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i < len - 2)
				return (BERR_FORMAT);
			pad++;
		} else if (pad != 0 || b64_value(s[i]) < 0)
			return (BERR_FORMAT);
	}
	/* the bits the padding leaves over */
	if ((flags & B64_CANONICAL) && pad > 0 &&
	    (b64_value(s[len - pad - 1]) & (pad == 1 ? 0x03 : 0x0f)) != 0)
		return (BERR_FORMAT);
	if (len / 4 * 3 - pad > maxlen)
		return (BERR_FORMAT);
	if ((d = malloc(len / 4 * 3 + 1)) == NULL)
		return (BERR_NOMEM);
	for (i = 0; i < len; i += 4) {
		acc = (uint32_t)b64_value(s[i]) << 18 |
		    (uint32_t)b64_value(s[i + 1]) << 12;
		d[o++] = (uint8_t)(acc >> 16);
		if (s[i + 2] == '=')
			break;
		acc |= (uint32_t)b64_value(s[i + 2]) << 6;
		d[o++] = (uint8_t)(acc >> 8);
		if (s[i + 3] == '=')
			break;
		acc |= (uint32_t)b64_value(s[i + 3]);
		d[o++] = (uint8_t)acc;
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return (0);
}
