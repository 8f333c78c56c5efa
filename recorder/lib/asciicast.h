/*
 * asciicast.h - write asciicast v2 (asciinema's recording format).
 *
 * One JSON header line, then one JSON array per event:
 *	{"version": 2, "width": 80, "height": 24, "timestamp": 1700000000, ...}
 *	[0.250000, "o", "$ "]
 * The event data must be a JSON string of valid UTF-8, and recorded bytes are
 * not always that: json_string() (base/json.h) turns every invalid byte into
 * U+FFFD and escapes every control character, so any byte sequence yields a
 * line `asciinema` accepts. Terminal output should be sanitised first
 * (sanitize.h): asciinema plays it to a real terminal.
 */
#ifndef BASTION_ASCIICAST_H
#define BASTION_ASCIICAST_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Append the header line. title and term may be NULL; idle_limit_s 0 for
 * none. */
int asciicast_header(struct buf *b, unsigned width, unsigned height,
    uint64_t timestamp, const char *title, const char *term,
    unsigned idle_limit_s);

/* Append an event line: [seconds, "type", "data"]\n. type is "o", "i",
 * "r" (resize, data "COLSxROWS") or "m" (marker). */
int asciicast_event(struct buf *b, uint64_t time_us, const char *type,
    const void *data, size_t len);

#endif
