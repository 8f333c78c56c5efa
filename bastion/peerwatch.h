/*
 * peerwatch.h - what the two sides of a watch of another node's session
 * share (peerwatch.c the watcher, peerwatch_serve.c the session's node):
 * the limits and the encryption of one chunk. The functions the rest of
 * bastiond calls are declared in bastiond.h; docs/SCALE-OUT.md "Watching
 * a session of another node" describes the exchange.
 */
#ifndef BASTION_PEERWATCH_H
#define BASTION_PEERWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "age.h"

#define PEERWATCH_CHUNK		4096	/* output bytes in one chunk, at most */
#define PEERWATCH_CAP_S		(8 * 3600)	/* a watch's hard cap */
#define PEERWATCH_ANSWER_S	10	/* the session's node answers within */
#define PEERWATCH_GATHER_MS	150	/* output gathered into one chunk */
#define PEERWATCH_KEEPALIVE_MS	2000	/* an empty chunk when idle */
#define PEERWATCH_MAX		16	/* helpers at once on one node */

/*
 * Encrypt pt[0..n-1] (n <= PEERWATCH_CHUNK) to the X25519 public key pub
 * as one age file (a fresh file key) and write it base64-encoded, NUL-
 * terminated, into out (outlen bytes). 0, BERR_LIMIT (too long for out),
 * BERR_CRYPTO, BERR_NOMEM.
 */
int peerwatch_seal(const uint8_t pub[AGE_KEY_LEN], const uint8_t *pt,
    size_t n, char *out, size_t outlen);
/*
 * The reverse, for untrusted text (at most STATE_WATCH_DATA_MAX bytes
 * decoded) with the secret key sec: 0 with out[0..*n-1]; BERR_FORMAT,
 * BERR_TRUNC (not base64, not an age file), BERR_AUTH (not for this key,
 * or altered), BERR_LIMIT (more than PEERWATCH_CHUNK bytes), BERR_NOMEM.
 */
int peerwatch_open(const uint8_t sec[AGE_KEY_LEN], const char *text,
    uint8_t out[PEERWATCH_CHUNK], size_t *n);

#endif
