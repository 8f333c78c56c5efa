/*
 * age.h - the age file format (age-encryption.org/v1), X25519 recipients
 * only, written with OpenSSL's primitives.
 *
 * Recordings of format version 2 (docs/RECORDING-FORMAT.md, section 13)
 * encrypt every frame's payload as an age payload under one file key per
 * recording, and keep the age header (the file key wrapped to each
 * recipient) beside the frames. An auditor can therefore open any payload
 * with the stock `age` tool as well as with bastion-replay. This module is
 * the whole of that cryptography:
 *
 *   keys        "age1..." recipients and "AGE-SECRET-KEY-1..." identities
 *               (Bech32, base/bech32.h), identity files (one key a line,
 *               '#' comments), key generation;
 *   header      written for a list of recipients with a fresh ephemeral
 *               X25519 key per stanza (HKDF-SHA256, ChaCha20-Poly1305 key
 *               wrap, HMAC-SHA256 header MAC); parsed from untrusted bytes
 *               with every line, argument and body checked against caps
 *               (stanzas of other types are parsed and skipped, as age
 *               does), and unwrapped with an identity;
 *   payload     16-byte nonce, payload key HKDF-SHA256(file key, nonce,
 *               "payload"), STREAM of ChaCha20-Poly1305 chunks of 64 KiB
 *               with an 11-byte counter and a last-chunk flag.
 *
 * Secrets (file keys, identities, derived keys) are wiped after use.
 */
#ifndef BASTION_AGE_H
#define BASTION_AGE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define AGE_KEY_LEN		32	/* X25519 public or secret key */
#define AGE_FILE_KEY_LEN	16
#define AGE_NONCE_LEN		16
#define AGE_TAG_LEN		16
#define AGE_CHUNK		65536
#define AGE_MAX_STANZAS		64	/* stanzas of any type in a header */
#define AGE_MAX_RECIPIENTS	32	/* X25519 stanzas we write */
#define AGE_HEADER_MAX		32768	/* bytes of a header we parse */
#define AGE_STR_MAX		100	/* a recipient or identity string */
#define AGE_MAX_IDENTITIES	16	/* keys in one identity file */

/* Keys in their text form. *_decode: 0 or BERR_FORMAT / BERR_LIMIT (the
 * string is not a key of that kind). *_encode: out needs AGE_STR_MAX. */
int age_recipient_decode(const char *s, uint8_t pub[AGE_KEY_LEN]);
int age_recipient_encode(const uint8_t pub[AGE_KEY_LEN], char *out,
    size_t outlen);
int age_identity_decode(const char *s, uint8_t sec[AGE_KEY_LEN]);
int age_identity_encode(const uint8_t sec[AGE_KEY_LEN], char *out,
    size_t outlen);
/* The public key (recipient) of a secret key. 0 or BERR_CRYPTO. */
int age_identity_public(const uint8_t sec[AGE_KEY_LEN],
    uint8_t pub[AGE_KEY_LEN]);
/* A new random secret key. 0 or BERR_CRYPTO. */
int age_identity_generate(uint8_t sec[AGE_KEY_LEN]);

/*
 * Read an identity file (age-keygen's format: lines "AGE-SECRET-KEY-1...",
 * blank lines and '#' comments; at most 64 KiB) into keys[0..*n-1], at
 * most max. 0; BERR_SYS (errno kept); BERR_FORMAT with the line number in
 * *badline for a line that is none of these; BERR_NOTFOUND if the file
 * holds no key; BERR_LIMIT past max. keys are wiped on failure.
 */
int age_identity_file_read(const char *path, uint8_t (*keys)[AGE_KEY_LEN],
    size_t max, size_t *n, unsigned *badline);

/* A header taken apart by age_header_parse(). */
struct age_stanza {
	uint8_t share[AGE_KEY_LEN];	/* the ephemeral X25519 share */
	uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN];	/* wrapped key */
};
struct age_header {
	size_t len;		/* bytes of the header, final newline included */
	size_t mac_off;		/* the MAC covers bytes [0, mac_off): up to
				   and including "---" */
	size_t nstanzas;	/* stanzas of every type */
	size_t nx25519;		/* X25519 stanzas, in x[] */
	struct age_stanza x[AGE_MAX_STANZAS];
	uint8_t mac[32];
};

/*
 * Append a header wrapping file_key to the n recipients pubs (1..
 * AGE_MAX_RECIPIENTS) to out. 0, BERR_INVAL, BERR_LIMIT, BERR_CRYPTO.
 */
int age_header_write(const uint8_t file_key[AGE_FILE_KEY_LEN],
    const uint8_t (*pubs)[AGE_KEY_LEN], size_t n, struct buf *out);

/* The same with the ephemeral secrets given (ephs[i] for pubs[i]): for
 * test vectors only; age_header_write draws them at random. */
int age_header_write_eph(const uint8_t file_key[AGE_FILE_KEY_LEN],
    const uint8_t (*pubs)[AGE_KEY_LEN], const uint8_t (*ephs)[AGE_KEY_LEN],
    size_t n, struct buf *out);

/*
 * Parse the header at the start of p (untrusted; len bytes, anything may
 * follow it) into *h. 0; BERR_TRUNC if p ends inside it; BERR_FORMAT for
 * anything that is not a well-formed v1 header (wrong version line, a bad
 * stanza line, non-canonical base64, an X25519 stanza of the wrong shape,
 * a bad footer); BERR_LIMIT past AGE_MAX_STANZAS or AGE_HEADER_MAX. The
 * MAC is only checked by age_header_unwrap (it needs the file key).
 */
int age_header_parse(const uint8_t *p, size_t len, struct age_header *h);

/*
 * Find the file key with the identities keys[0..n-1]: try each X25519
 * stanza with each key, then check the header MAC over hdr (the bytes h
 * was parsed from). 0 and file_key set; BERR_AUTH if no key opens any
 * stanza (or the header was tampered with: its MAC does not verify);
 * BERR_CRYPTO.
 */
int age_header_unwrap(const struct age_header *h, const uint8_t *hdr,
    const uint8_t (*keys)[AGE_KEY_LEN], size_t n,
    uint8_t file_key[AGE_FILE_KEY_LEN]);

/* Payload encryption with one file key; reuses its OpenSSL objects. */
struct age_payload;

int age_payload_new(const uint8_t file_key[AGE_FILE_KEY_LEN],
    struct age_payload **out);
void age_payload_free(struct age_payload *p);

/* Bytes of the sealed payload (nonce, chunks, tags) for plen bytes. */
size_t age_payload_sealed_len(size_t plen);
/* Plain length of a sealed payload of clen bytes; BERR_FORMAT if no
 * payload has that length (shorter than nonce + one tag, or a last chunk
 * that would be empty though it is not the only one). */
int age_payload_plain_len(size_t clen, size_t *plen);

/* Seal plen bytes of pt into out (age_payload_sealed_len(plen) bytes,
 * not overlapping pt) with a fresh random nonce. 0 or BERR_CRYPTO. */
int age_payload_seal(struct age_payload *p, const uint8_t *pt, size_t plen,
    uint8_t *out);
/* The same with the nonce given: for test vectors only. */
int age_payload_seal_nonce(struct age_payload *p,
    const uint8_t nonce[AGE_NONCE_LEN], const uint8_t *pt, size_t plen,
    uint8_t *out);
/* Open a sealed payload ct (clen bytes) into out (room for the plain
 * length). 0; BERR_FORMAT for an impossible length; BERR_AUTH if a chunk
 * does not authenticate (altered, truncated, reordered, wrong key). */
int age_payload_open(struct age_payload *p, const uint8_t *ct, size_t clen,
    uint8_t *out, size_t *plen);

#endif
