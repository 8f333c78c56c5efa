/*
 * peerchunk.h - one chunk of a watch of another node's session: output
 * sealed to the watcher's X25519 key as an age file, base64 text (see
 * peerchunk.c).
 */
#ifndef BASTION_PEERCHUNK_H
#define BASTION_PEERCHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "age.h"

#define PEERCHUNK_MAX	4096	/* output bytes in one chunk, at most */

/*
 * Encrypt pt[0..n-1] (n <= PEERCHUNK_MAX) to the X25519 public key pub
 * as one age file (a fresh file key) and write it base64-encoded, NUL-
 * terminated, into out (outlen bytes). 0, BERR_LIMIT (too long for out),
 * BERR_CRYPTO, BERR_NOMEM.
 */
int peerchunk_seal(const uint8_t pub[AGE_KEY_LEN], const uint8_t *pt,
    size_t n, char *out, size_t outlen);
/*
 * The reverse, for untrusted text (at most STATE_WATCH_DATA_MAX bytes
 * decoded) with the secret key sec: 0 with out[0..*n-1]; BERR_FORMAT,
 * BERR_TRUNC (not base64, not an age file), BERR_AUTH (not for this key,
 * or altered), BERR_LIMIT (more than PEERCHUNK_MAX bytes), BERR_NOMEM.
 * *n is 0 on failure.
 */
int peerchunk_open(const uint8_t sec[AGE_KEY_LEN], const char *text,
    uint8_t out[PEERCHUNK_MAX], size_t *n);

#endif
