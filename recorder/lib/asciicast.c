/*
 * asciicast.c - asciicast v2 writer (see asciicast.h). Its strings are
 * escaped by base/json.c, which makes any bytes a valid JSON string.
 */
#include <stdio.h>
#include <string.h>

#include "asciicast.h"
#include "buf.h"
#include "err.h"
#include "json.h"

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
	    (r = json_string(b, title, strlen(title))) != 0))
		return (r);
	if (term != NULL && ((r = buf_putf(b, ", \"env\": {\"TERM\": ")) != 0 ||
	    (r = json_string(b, term, strlen(term))) != 0 ||
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
	    (r = json_string(b, type, strlen(type))) != 0 ||
	    (r = buf_put(b, ", ", 2)) != 0 ||
	    (r = json_string(b, data, len)) != 0)
		return (r);
	return (buf_put(b, "]\n", 2));
}
