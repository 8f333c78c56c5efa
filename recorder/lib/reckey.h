/*
 * reckey.h - the recorder's Ed25519 signing key (OpenSSL EVP_PKEY_ED25519).
 *
 * The private key lives in one PEM file (PKCS#8, mode 0600) that only
 * bastion-recorder reads; the public key (SubjectPublicKeyInfo PEM, the
 * same path + ".pub") is all an auditor needs. Both are plain OpenSSL
 * formats, so `openssl pkey -pubin -in KEY.pub -text` shows them too.
 *
 * The fingerprint is "SHA256:" + unpadded base64 of SHA-256 over the raw
 * 32-byte public key: short enough to read over the phone, and written into
 * every recording's HEADER so the verifier can say "this was signed by a
 * different key" instead of just "bad signature".
 */
#ifndef BASTION_RECKEY_H
#define BASTION_RECKEY_H

#include <stddef.h>
#include <stdint.h>

#include "recfmt.h"

#define RECKEY_FP_LEN	(7 + 43 + 1)	/* "SHA256:" + base64 + NUL */
#define RECKEY_SEED_LEN	32

struct reckey;

/* New random key pair. *out is NULL on failure. */
int reckey_generate(struct reckey **out);
/* Key pair from a 32-byte private seed (test vectors only). */
int reckey_from_seed(const uint8_t seed[RECKEY_SEED_LEN],
    struct reckey **out);
/*
 * Load a private key PEM. Refuses (BERR_DENIED) a file that group or others
 * may read or write, like ssh does, and anything that is not Ed25519
 * (BERR_FORMAT). BERR_NOTFOUND if it does not exist, BERR_SYS otherwise.
 */
int reckey_load_private(const char *path, struct reckey **out);
/* Load a public key PEM (a private one is accepted too; only the public
 * half is kept). */
int reckey_load_public(const char *path, struct reckey **out);
/* A public key PEM held in memory (len bytes, untrusted): BERR_FORMAT
 * when it is not an Ed25519 public key. */
int reckey_from_public_pem(const char *pem, size_t len,
    struct reckey **out);
/*
 * Write path (private, 0600) and path.pub (public, 0644), both created with
 * O_EXCL: BERR_EXISTS if either exists; nothing is left behind on failure.
 */
int reckey_save(const struct reckey *k, const char *path);
/* Public key PEM into a new NUL-terminated string the caller frees. */
int reckey_public_pem(const struct reckey *k, char **pem);
void reckey_fingerprint(const struct reckey *k, char out[RECKEY_FP_LEN]);
/* 1 if the key holds a private half. */
int reckey_has_private(const struct reckey *k);

/* Ed25519 signature over msg; BERR_CRYPTO, BERR_INVAL without private. */
int reckey_sign(const struct reckey *k, const void *msg, size_t len,
    uint8_t sig[REC_SIG_LEN]);
/* 0 if sig is a valid signature of msg, BERR_CRYPTO otherwise. */
int reckey_verify(const struct reckey *k, const void *msg, size_t len,
    const uint8_t sig[REC_SIG_LEN]);

void reckey_free(struct reckey *k);

#endif
