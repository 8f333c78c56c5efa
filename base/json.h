/*
 * json.h - the one JSON string escaper.
 *
 * JSON (RFC 8259) strings must be valid Unicode, and what the bastion
 * writes as JSON (asciicast recordings, bastionctl --json, the approval
 * notice, an export's approval.json) carries bytes someone else chose.
 * Escaped: '"' and '\\'; \n \r \t \b \f by their short forms; every other
 * control character (C0, DEL and C1) and U+2028/U+2029 (which JSON
 * consumers written in JavaScript mishandle) as \u00XX / \u2028; each byte
 * that is not part of a valid character (strict UTF-8, utf8.h) as \ufffd.
 * The rest of valid UTF-8 passes as it is. So any byte string yields a
 * valid JSON string that cannot act on a terminal it is printed to.
 */
#ifndef BASTION_JSON_H
#define BASTION_JSON_H

#include <stddef.h>
#include <stdio.h>

struct buf;

/* Append data[0..len-1] as a quoted JSON string to b. BERR_LIMIT if b is
 * too small (it may need 6 bytes per input byte, plus 2); b then holds a
 * part of the string. data may be NULL when len is 0. */
int json_string(struct buf *b, const void *data, size_t len);

/* Write data[0..len-1] as a quoted JSON string to f. */
void json_fwrite(FILE *f, const void *data, size_t len);

#endif
