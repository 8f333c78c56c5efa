/*
 * hex.h - lower-case hexadecimal, the one encoder (and the one digit
 * decoder and byte decoder, which take either case).
 *
 * Hashes (the policy's SHA-256, the audit chain, recording heads, bundle
 * members), random identifiers (recording and PAM ids), the attestation's
 * AAGUID and the \xNN escapes of the log and text writers all spell bytes
 * the same way: two lower-case digits per byte, most significant first.
 */
#ifndef BASTION_HEX_H
#define BASTION_HEX_H

#include <stddef.h>

/* Write 2 * n digits and a NUL into out, which must hold 2 * n + 1 bytes.
 * p may be NULL when n is 0 (out is then ""). */
void hex_encode(const void *p, size_t n, char *out);
/* The value (0-15) of one hexadecimal digit, either case; -1 if c is not
 * one. */
int hex_digit(int c);
/* Exactly n bytes from the 2 * n digits (either case) of the NUL-terminated
 * s, nothing before or after: 0, or BERR_FORMAT (out is then partly
 * written). */
int hex_decode(const char *s, unsigned char *out, size_t n);

#endif
