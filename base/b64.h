/*
 * b64.h - the one base64 decoder (RFC 4648, standard alphabet, padded),
 * for key blobs: the second field of an authorized_keys line, a policy's
 * keys, an attestation's public key.
 *
 * Every byte is checked against the alphabet (no blanks, no line breaks,
 * '=' only as the padding at the end), so a key has one spelling that
 * matters; B64_CANONICAL also insists that the bits the padding leaves
 * over are zero, so each blob has exactly one spelling.
 */
#ifndef BASTION_B64_H
#define BASTION_B64_H

#include <stddef.h>
#include <stdint.h>

#define B64_CANONICAL	0x01	/* no non-zero bits under the padding */

/*
 * Decode the NUL-terminated s into a new heap buffer *out of *outlen bytes
 * (at most maxlen; the buffer has one byte more, a NUL, for callers that
 * read text). *out is NULL on entry and on failure. BERR_INVAL for NULL
 * arguments; BERR_LIMIT if s is too long for maxlen bytes; BERR_FORMAT for
 * an empty string, a length that is not a multiple of 4, a byte outside
 * the alphabet, misplaced padding (or, with B64_CANONICAL, a non-canonical
 * last digit); BERR_NOMEM.
 */
int b64_decode(const char *s, size_t maxlen, int flags, uint8_t **out,
    size_t *outlen);

#endif
