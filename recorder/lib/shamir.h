/*
 * shamir.h - Shamir secret sharing over GF(256), for the escrow key of
 * encrypted recordings (docs/RECORDING-FORMAT.md, section 13.5).
 *
 * The hospital keeps the escrow recipient's age secret key in n pieces of
 * which any k put it back together (k-of-n, 2 <= k <= n <= 255) and fewer
 * than k say nothing about it: each byte of the secret is the constant
 * term of its own random polynomial of degree k-1, share x holds the
 * polynomials' values at x (x = 1..n). Field arithmetic is GF(2^8) with
 * the AES polynomial x^8+x^4+x^3+x+1, done without tables or
 * secret-dependent branches.
 *
 * A share is printed as one Bech32 string (upper case, a checksum that
 * catches typing errors), human-readable part "bastion-share-":
 *
 *	uint8 version (1), uint8 k, uint8 x, byte[8] set id, byte[32] y
 *
 * The set id (the first 8 bytes of SHA-256 of the secret's public key)
 * keeps shares of different keys from being mixed: combining checks that
 * all shares name the same set and k, and that the result's public key
 * has that id.
 */
#ifndef BASTION_SHAMIR_H
#define BASTION_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define SHAMIR_SECRET_LEN	32
#define SHAMIR_MAX_SHARES	255
#define SHAMIR_SET_ID_LEN	8
#define SHAMIR_SHARE_STR	128	/* a share string with its NUL */

struct shamir_share {
	uint8_t k;
	uint8_t x;
	uint8_t set_id[SHAMIR_SET_ID_LEN];
	uint8_t y[SHAMIR_SECRET_LEN];
};

/* Split secret into n shares (out[0..n-1], x = 1..n) any k of which
 * recover it. 0, BERR_INVAL (k, n out of range), BERR_CRYPTO (no
 * randomness). set_id is copied into each share. */
int shamir_split(const uint8_t secret[SHAMIR_SECRET_LEN], unsigned k,
    unsigned n, const uint8_t set_id[SHAMIR_SET_ID_LEN],
    struct shamir_share *out);

/* Recover the secret from shares s[0..n-1]: at least k of them (the k the
 * shares carry), all of one set and k, no x twice. 0; BERR_INVAL for
 * shares that do not belong together (with a sentence in why), BERR_LIMIT
 * for fewer than k. */
int shamir_combine(const struct shamir_share *s, size_t n,
    uint8_t secret[SHAMIR_SECRET_LEN], char *why, size_t whylen);

/* A share as its printable string / back (untrusted: checksum, version,
 * ranges checked; BERR_FORMAT). */
int shamir_share_encode(const struct shamir_share *s, char *out,
    size_t outlen);
int shamir_share_decode(const char *str, struct shamir_share *s);

/* The set id of an age secret key: SHA-256 of its public key, first
 * bytes. 0 or BERR_CRYPTO. */
int shamir_set_id(const uint8_t secret[SHAMIR_SECRET_LEN],
    uint8_t set_id[SHAMIR_SET_ID_LEN]);

#endif
