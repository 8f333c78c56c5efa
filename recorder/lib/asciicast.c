/*
 * asciicast.c - asciicast v2 writer (see asciicast.h).
 *
 * JSON (RFC 8259) strings must be valid Unicode; we escape '"', '\\', every
 * control character (C0, DEL and C1) and U+2028/U+2029 (which some JSON
 * consumers written in JavaScript mishandle), pass the rest of valid UTF-8
 * through, and write \ufffd for each byte that is not part of a valid
 * character.
 */
#include <stdio.h>
#include <string.h>

#include "asciicast.h"
#include "buf.h"
#include "err.h"
#include "utf8.h"

int
asciicast_json_string(struct buf *b, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i = 0;
	uint32_t cp;
	char esc[8];
	int n, r;

	if ((r = buf_put(b, "\"", 1)) != 0)
		return (r);
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (n <= 0) {
			/* invalid, or cut off at the end of the data */
			r = buf_put(b, "\\ufffd", 6);
			i++;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			r = buf_put(b, esc, 2);
			i += (size_t)n;
		} else if (cp == '\n' || cp == '\r' || cp == '\t' ||
		    cp == '\b' || cp == '\f') {
			esc[0] = '\\';
			esc[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' :
			    cp == '\t' ? 't' : cp == '\b' ? 'b' : 'f';
			r = buf_put(b, esc, 2);
			i += (size_t)n;
		} else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    cp == 0x2028 || cp == 0x2029) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			r = buf_put(b, esc, 6);
			i += (size_t)n;
		} else {
			r = buf_put(b, p + i, (size_t)n);
			i += (size_t)n;
		}
		if (r != 0)
			return (r);
	}
	return (buf_put(b, "\"", 1));
}

int
asciicast_header(struct buf *b, unsigned width, unsigned height,
    uint64_t timestamp, const char *title, const char *term,
    unsigned idle_limit_s)
{
	int r;

	if ((r = buf_putf(b, "{\"version\": 2, \"width\": %u, \"height\": %u, "
	    "\"timestamp\": %llu", width, height,
	    (unsigned long long)timestamp)) != 0)
		return (r);
	if (idle_limit_s > 0 && (r = buf_putf(b, ", \"idle_time_limit\": %u",
	    idle_limit_s)) != 0)
		return (r);
	if (title != NULL && ((r = buf_putf(b, ", \"title\": ")) != 0 ||
	    (r = asciicast_json_string(b, title, strlen(title))) != 0))
		return (r);
	if (term != NULL && ((r = buf_putf(b, ", \"env\": {\"TERM\": ")) != 0 ||
	    (r = asciicast_json_string(b, term, strlen(term))) != 0 ||
	    (r = buf_put(b, "}", 1)) != 0))
		return (r);
	return (buf_put(b, "}\n", 2));
}

int
asciicast_event(struct buf *b, uint64_t time_us, const char *type,
    const void *data, size_t len)
{
	int r;

	if ((r = buf_putf(b, "[%llu.%06llu, ",
	    (unsigned long long)(time_us / 1000000),
	    (unsigned long long)(time_us % 1000000))) != 0 ||
	    (r = asciicast_json_string(b, type, strlen(type))) != 0 ||
	    (r = buf_put(b, ", ", 2)) != 0 ||
	    (r = asciicast_json_string(b, data, len)) != 0)
		return (r);
	return (buf_put(b, "]\n", 2));
}
