/*
 * json.c - the one JSON string escaper (see json.h).
 *
 * json_next() decides what stands for the next character; the two writers
 * differ only in where it goes (a bounded buffer, a stream).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "utf8.h"

/*
 * What to write for the character at p (len > 0): either p itself (its
 * length returned, *emit = p) or an escape in esc. *used is set to the
 * input bytes it stands for.
 */
static size_t
json_next(const uint8_t *p, size_t len, char esc[8], const void **emit,
    size_t *used)
{
	static const char shorts[] = "\"\"\\\\\nn\rr\tt\bb\ff";
	const char *q;
	uint32_t cp;
	int n;

	*emit = esc;
	if ((n = utf8_decode(p, len, &cp)) <= 0) {
		/* invalid, or cut off at the end of the data */
		*used = 1;
		snprintf(esc, 8, "\\ufffd");
		return (6);
	}
	*used = (size_t)n;
	/* the characters with a short escape, each followed by its letter */
	if (cp != 0 && cp < 0x80 && (q = strchr(shorts, (int)cp)) != NULL &&
	    (q - shorts) % 2 == 0) {
		esc[0] = '\\';
		esc[1] = q[1];
		return (2);
	}
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 ||
	    cp == 0x2029) {
		snprintf(esc, 8, "\\u%04x", (unsigned)cp);
		return (6);
	}
	*emit = p;
	return ((size_t)n);
}

int
json_string(struct buf *b, const void *data, size_t len)
{
	const uint8_t *p = data;
	const void *emit;
	size_t i = 0, k, used;
	char esc[8];
	int r;

	if ((r = buf_put(b, "\"", 1)) != 0)
		return (r);
	while (i < len) {
		k = json_next(p + i, len - i, esc, &emit, &used);
		if ((r = buf_put(b, emit, k)) != 0)
			return (r);
		i += used;
	}
	return (buf_put(b, "\"", 1));
}

void
json_fwrite(FILE *f, const void *data, size_t len)
{
	const uint8_t *p = data;
	const void *emit;
	size_t i = 0, k, used;
	char esc[8];

	fputc('"', f);
	while (i < len) {
		k = json_next(p + i, len - i, esc, &emit, &used);
		fwrite(emit, 1, k, f);
		i += used;
	}
	fputc('"', f);
}
