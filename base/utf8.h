/*
 * utf8.h - strict, bounded UTF-8 decoding (base layer: logs, recordings, display).
 *
 * Recordings carry whatever bytes a device printed. The sanitiser, the JSON
 * escaper and the safe printer all need to tell valid UTF-8 from junk, and to
 * do it on chunks that may end in the middle of a character. This decoder is
 * strict (no overlong forms, no surrogates, nothing above U+10FFFF), so a
 * C1 control can never hide inside an overlong encoding.
 */
#ifndef BASTION_UTF8_H
#define BASTION_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xfffdU

/*
 * Decode one character from p[0..len-1].
 * Returns the number of bytes used (1..4) and sets *cp; 0 if p holds a valid
 * but incomplete prefix (more bytes are needed; len may be 0); -1 if p[0]
 * does not start a valid character (the caller skips one byte).
 */
int utf8_decode(const uint8_t *p, size_t len, uint32_t *cp);

/*
 * The table both decoders read (this one, and the byte-at-a-time one of
 * recorder/lib/sanitize.c): for a first byte b, the number of continuation
 * bytes that follow (*need, 0..3), the range the first of them must lie in
 * (*lo..*hi; any later one 0x80..0xbf) and the bits b gives the code point
 * (*cp). 0, or -1 if b cannot start a character (a continuation byte,
 * 0xc0, 0xc1, 0xf5..0xff); the outputs are then unchanged.
 */
int utf8_lead(uint8_t b, unsigned *need, uint8_t *lo, uint8_t *hi,
    uint32_t *cp);

/* Encode cp (must be <= 0x10ffff, not a surrogate) into out; returns the
 * length 1..4, or 0 for an invalid code point. */
size_t utf8_encode(uint32_t cp, uint8_t out[4]);

#endif
