/*
 * softsk.h - internals of the test-only software security key.
 *
 * softsk.so is a FIDO2 authenticator made of OpenSSL calls and a state
 * directory, loaded by the real ssh, ssh-keygen and ssh-agent through
 * OpenSSH's provider API (sk-api.h).  It exists only so the end-to-end
 * tests can exercise touch, PIN and counter handling without hardware; it
 * is never installed.  docs/SOFTSK.md describes the switches.
 *
 * Modules, one per file:
 *   softsk.c        the four exported sk_* entry points
 *   softsk_state.c  state directory, switches, counter, log, debug output
 *   softsk_buf.c    bounded growable byte buffer
 *   softsk_cbor.c   the few CBOR encodings attestation needs
 *   softsk_key.c    credential keys: generate, wrap into key handles, sign
 *   softsk_attest.c test CA, attestation certificate, "packed" statement
 *
 * Every fallible internal function returns 0 or a negative SSH_SK_ERR_*
 * code from sk-api.h, so errors pass straight back to OpenSSH.  Nothing
 * here writes to stdout: inside ssh-sk-helper stdout is the protocol pipe.
 */
#ifndef SOFTSK_H
#define SOFTSK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "sk-api.h"

/* Only the sk_* entry points are exported from softsk.so. */
#pragma GCC visibility push(hidden)

/* Limits on what the key reads and writes. */
#define SOFTSK_BUF_MAX		(64 * 1024)	/* any encoded object */
#define SOFTSK_FILE_MAX		(64 * 1024)	/* any state file */
#define SOFTSK_SHA256_LEN	32
#define SOFTSK_AAGUID_LEN	16

/* Authenticator-data flag bits (WebAuthn section 6.1). */
#define SOFTSK_AD_UP		0x01	/* user present (touched) */
#define SOFTSK_AD_UV		0x04	/* user verified (PIN) */
#define SOFTSK_AD_AT		0x40	/* attested credential data follows */

/* ---- softsk_state.c: the state directory, read afresh on every call ---- */

struct softsk_state {
	char dir[PATH_MAX];
};

/*
 * Resolves the state directory ($SOFTSK_DIR, else $HOME/.softsk) and
 * creates it with mode 0700 if missing.  Returns 0 or SSH_SK_ERR_GENERAL.
 */
int softsk_state_open(struct softsk_state *st);

/* Writes "<dir>/<name>" into out; SSH_SK_ERR_GENERAL if it does not fit. */
int softsk_state_path(const struct softsk_state *st, const char *name,
    char *out, size_t outlen);

/* 1 if the switch file "<dir>/<name>" exists, else 0. */
int softsk_state_switch(const struct softsk_state *st, const char *name);

/*
 * Takes the state directory's exclusive lock ("<dir>/lock", flock) and
 * stores its descriptor in *fdp; softsk_state_unlock() releases it.
 * Creating shared files and moving the counter happen under this lock.
 */
int softsk_state_lock(const struct softsk_state *st, int *fdp);
void softsk_state_unlock(int fd);

/*
 * Reads the whole of "<dir>/<name>" (at most SOFTSK_FILE_MAX bytes) into a
 * new NUL-terminated buffer the caller frees (wipe first: it may be a key).
 * A missing file gives SSH_SK_ERR_DEVICE_NOT_FOUND with *datap NULL, any
 * other failure SSH_SK_ERR_GENERAL.
 */
int softsk_state_read(const struct softsk_state *st, const char *name,
    uint8_t **datap, size_t *lenp);

/*
 * Replaces "<dir>/<name>" atomically (temporary file, fsync, rename) with
 * the given bytes and mode.  Call with the lock held.
 */
int softsk_state_write(const struct softsk_state *st, const char *name,
    const void *data, size_t len, unsigned int mode);

/* The current counter (0 when the file is missing), without moving it. */
int softsk_state_counter_get(const struct softsk_state *st, uint32_t *valp);

/*
 * Increments the persistent signature counter under the lock and stores
 * the new value in *valp, so concurrent signers never share a value.
 */
int softsk_state_counter_next(const struct softsk_state *st, uint32_t *valp);

/* The AAGUID from "<dir>/aaguid" (32 hex digits), else the built-in one. */
int softsk_state_aaguid(const struct softsk_state *st,
    uint8_t aaguid[SOFTSK_AAGUID_LEN]);

/* Appends one line to "<dir>/log"; failures are ignored. */
void softsk_state_log(const struct softsk_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints to stderr only when SOFTSK_DEBUG is set and non-empty. */
void softsk_debug(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- softsk_buf.c: bounded byte buffer ---- */

/*
 * A growable buffer capped at SOFTSK_BUF_MAX.  Appends never fail loudly:
 * a failed append (allocation or cap) marks the buffer, and
 * softsk_buf_status() reports it once the whole object is built.  The
 * buffer's memory is wiped whenever it is released.
 */
struct softsk_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int failed;
};

void softsk_buf_init(struct softsk_buf *b);
void softsk_buf_free(struct softsk_buf *b);	/* wipes; NULL is a no-op */
void softsk_buf_put(struct softsk_buf *b, const void *p, size_t n);
void softsk_buf_put_u8(struct softsk_buf *b, uint8_t v);
void softsk_buf_put_u16(struct softsk_buf *b, uint16_t v);	/* big-endian */
void softsk_buf_put_u32(struct softsk_buf *b, uint32_t v);	/* big-endian */
int softsk_buf_status(const struct softsk_buf *b);	/* 0 or SSH_SK_ERR_GENERAL */

/*
 * Hands the contents over as a malloc'd block (caller frees) and resets
 * the buffer.  Fails if an append failed or the buffer is empty.
 */
int softsk_buf_steal(struct softsk_buf *b, uint8_t **datap, size_t *lenp);

/* ---- softsk_cbor.c: CBOR encoding (RFC 8949), just what is needed ---- */

void softsk_cbor_int(struct softsk_buf *b, int64_t v);
void softsk_cbor_bytes(struct softsk_buf *b, const void *p, size_t n);
void softsk_cbor_map(struct softsk_buf *b, size_t npairs);

/* ---- softsk_key.c: credential keys ---- */

/* A short name for logs: "ecdsa", "ed25519" or "unknown". */
const char *softsk_key_alg_name(uint32_t alg);

/* Generates a fresh credential key; caller frees with EVP_PKEY_free. */
int softsk_key_generate(uint32_t alg, EVP_PKEY **pkeyp);

/*
 * The public key in the form sk_enroll returns (32 raw bytes for Ed25519,
 * 65-byte uncompressed point for P-256) as a malloc'd block.
 */
int softsk_key_public(uint32_t alg, EVP_PKEY *pkey, uint8_t **pubp,
    size_t *lenp);

/* Appends the public key as a COSE_Key map (RFC 8152) to b. */
int softsk_key_cose(uint32_t alg, EVP_PKEY *pkey, struct softsk_buf *b);

/*
 * Seals the private key into a key handle bound to this state directory's
 * wrapping key (created on first use; call with the lock held), the
 * algorithm and the application.  The handle is a malloc'd block.
 */
int softsk_key_wrap(const struct softsk_state *st, uint32_t alg,
    const char *application, EVP_PKEY *pkey, uint8_t **handlep,
    size_t *lenp);

/*
 * Opens a key handle made by softsk_key_wrap.  A handle this key did not
 * make (other state directory, algorithm or application) gives
 * SSH_SK_ERR_DEVICE_NOT_FOUND, as when no plugged-in key claims it.
 */
int softsk_key_unwrap(const struct softsk_state *st, uint32_t alg,
    const char *application, const uint8_t *handle, size_t len,
    EVP_PKEY **pkeyp);

/*
 * Signs msg (authenticatorData || clientDataHash) as a FIDO2 assertion:
 * Ed25519 puts the 64-byte signature in sig_r; ECDSA signs SHA-256(msg)
 * and puts r and s, big-endian, in sig_r and sig_s.
 */
int softsk_key_sign(uint32_t alg, EVP_PKEY *pkey, const uint8_t *msg,
    size_t msglen, struct sk_sign_response *resp);

/* ---- softsk_attest.c: attestation ---- */

/*
 * Fills resp->authdata (CBOR-wrapped authenticator data with the attested
 * credential), resp->signature (DER ECDSA "packed" signature over
 * authData || SHA256(challenge)) and resp->attestation_cert (DER X.509
 * issued by the state directory's test CA, created on first use).  Call
 * with the lock held.  ad_flags are the authenticator-data flags.
 */
int softsk_attest_fill(const struct softsk_state *st, uint32_t alg,
    const char *application, const uint8_t *challenge, size_t challenge_len,
    uint8_t ad_flags, EVP_PKEY *pkey, struct sk_enroll_response *resp);

#pragma GCC visibility pop

#endif /* SOFTSK_H */
