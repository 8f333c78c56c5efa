/*
 * bech32.h - Bech32 (BIP 173) encoding of short binary strings, bounded.
 *
 * The age encryption format spells its keys in Bech32: an X25519 public
 * key as "age1..." (human-readable part "age") and a secret key as
 * "AGE-SECRET-KEY-1..." (upper case). The policy names recording
 * recipients that way and auditors keep identity files that way, so the
 * policy loader and the recorder tools share this one codec. Decoding
 * treats its input as untrusted: total length, part lengths and the
 * character set are checked before anything is written, mixed case is
 * refused, the checksum must hold and the 5-to-8-bit conversion must have
 * no stray padding bits. BIP 173's 90-character limit is not applied (age
 * does not apply it either); BECH32_MAX_STR is.
 */
#ifndef BASTION_BECH32_H
#define BASTION_BECH32_H

#include <stddef.h>
#include <stdint.h>

#define BECH32_MAX_STR	256	/* longest string accepted or produced */
#define BECH32_MAX_HRP	32

/*
 * Encode data (datalen bytes) under the human-readable part hrp (lower
 * case, 1..BECH32_MAX_HRP printable ASCII) into out (outlen bytes with the
 * NUL). upper: the whole string in upper case (age secret keys).
 * 0, BERR_INVAL (bad hrp), BERR_LIMIT (out too small or over
 * BECH32_MAX_STR).
 */
int bech32_encode(const char *hrp, const uint8_t *data, size_t datalen,
    int upper, char *out, size_t outlen);

/*
 * Decode s. Its human-readable part, compared without regard to case,
 * must be hrp; the data (at most outmax bytes) goes to out, its length to
 * *outlen. 0; BERR_FORMAT for a wrong hrp, mixed case, a character outside
 * the set, a bad checksum or padding; BERR_LIMIT for a string over
 * BECH32_MAX_STR or data over outmax.
 */
int bech32_decode(const char *s, const char *hrp, uint8_t *out,
    size_t outmax, size_t *outlen);

#endif
