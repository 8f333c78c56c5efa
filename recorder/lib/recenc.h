/*
 * recenc.h - recording format version 2: what makes a recording encrypted
 * (docs/RECORDING-FORMAT.md, section 13).
 *
 * A version 2 recording is the magic line "bastion-rec v2\n", a key block,
 * then frames exactly as in version 1 except that the payload of every
 * frame but HEADER, CHECKPOINT and SEAL is an age payload (age.h) under the
 * recording's file key. The key block is
 *
 *	uint32 length of what follows (at most RECENC_KEYBLOCK_MAX)
 *	string age header: the file key wrapped to each recipient
 *	uint32 n rewraps (at most RECENC_MAX_REWRAPS)
 *	n x (byte[32] old header hash, byte[32] new header hash,
 *	     uint64 unix µs, byte[64] Ed25519 signature of the recorder key)
 *
 * The key block is outside the hash chain so that recipients can be added
 * or removed (bastion-rekey) without touching a frame; it is bound to the
 * chain instead by the HEADER's "keys_sha256" (SHA-256 of the age header
 * first written) and by the signed rewraps that lead from it to the age
 * header now in the file. Everything here but recenc_unlock works with
 * public information only: bastion-verify checks a version 2 recording
 * with the recorder's public key and no secret.
 */
#ifndef BASTION_RECENC_H
#define BASTION_RECENC_H

#include <stddef.h>
#include <stdint.h>

#include "age.h"
#include "recfmt.h"

struct buf;
struct reckey;
struct recreader;

#define RECENC_MAX_REWRAPS	64
#define RECENC_REWRAP_LEN	(32 + 32 + 8 + 64)
#define RECENC_KEYBLOCK_MAX	(4 + AGE_HEADER_MAX + 4 + \
				 RECENC_MAX_REWRAPS * RECENC_REWRAP_LEN)
#define RECENC_REWRAP_CONTEXT	"bastion-rec-v2 rewrap"

struct recenc_rewrap {
	uint8_t old_hash[32];
	uint8_t new_hash[32];
	uint64_t unix_us;
	uint8_t sig[64];
};

/* A key block taken apart; age points into the parsed bytes. */
struct recenc_keyblock {
	const uint8_t *age;
	size_t age_len;
	struct age_header hdr;
	size_t nrewraps;
	struct recenc_rewrap rw[RECENC_MAX_REWRAPS];
};

/*
 * Parse a key block (the bytes after its uint32 length; untrusted) into
 * *kb, which points into p afterwards. 0; BERR_FORMAT, BERR_TRUNC or
 * BERR_LIMIT for anything but one well-formed age header and rewrap list
 * with nothing after them.
 */
int recenc_keyblock_parse(const uint8_t *p, size_t len,
    struct recenc_keyblock *kb);

/* Append a key block (its uint32 length first) for the age header age and
 * the rewraps rw[0..n-1] to out. */
int recenc_keyblock_encode(const uint8_t *age, size_t age_len,
    const struct recenc_rewrap *rw, size_t n, struct buf *out);

/*
 * For a new recording: a random file key, the age header wrapping it to
 * recipients[0..n-1] (appended to age_out), and the HEADER fields that
 * bind them ("format" 2, "keys_sha256") added to hdr. The file key goes
 * to file_key (the caller wipes it).
 */
int recenc_prepare(const uint8_t (*recipients)[AGE_KEY_LEN], size_t n,
    struct rec_hdr *hdr, struct buf *age_out,
    uint8_t file_key[AGE_FILE_KEY_LEN]);

/* The message a rewrap's signature covers: RECENC_REWRAP_CONTEXT, 0x00,
 * string session id, old hash, new hash, uint64 time. */
int recenc_rewrap_message(struct buf *b, const char *session_id,
    const struct recenc_rewrap *rw);

/*
 * Check that the key block belongs to the recording whose HEADER is hdr:
 * the rewraps, each signed by pub, lead from the HEADER's keys_sha256 to
 * the hash of the age header in the block. 0, or BERR_AUTH with a
 * sentence in why.
 */
int recenc_keyblock_check(const struct recenc_keyblock *kb,
    const struct rec_hdr *hdr, const struct reckey *pub, char *why,
    size_t whylen);

/*
 * Read identities from identity_path (age identity file) and, with the key
 * block of the reader r (after recreader_magic), set the reader to decrypt
 * (recreader_set_key). 0, or BERR_* with a sentence for a person in why
 * (no key in the file, not a recipient, not a version 2 recording).
 */
int recenc_unlock(struct recreader *r, const char *identity_path,
    char *why, size_t whylen);

/* The same with keys already in memory. */
int recenc_unlock_keys(struct recreader *r,
    const uint8_t (*keys)[AGE_KEY_LEN], size_t n, char *why, size_t whylen);

/*
 * The identity of a recipient set, whatever the order it is written in:
 * hex SHA-256 over the sorted 32-byte keys (out: 65 bytes). The session's
 * monitor sends it in OPEN ("recipients") from the policy and the recorder
 * refuses to record if its own set (-r) differs, so a recorder that was
 * not given the policy's recipients (a separate service, a policy reload
 * without a restart) never writes in clear what the policy wants
 * encrypted. _str: from "age1..." strings; BERR_FORMAT for one that is no
 * recipient.
 */
int recenc_recipients_id(const uint8_t (*keys)[AGE_KEY_LEN], size_t n,
    char out[65]);
int recenc_recipients_id_str(char *const *recipients, size_t n,
    char out[65]);

/*
 * Rewrap the sealed format 2 recording at path to the recipients
 * rcpts[0..nr-1] without touching a frame: the file is verified first
 * with key (the recorder's, private: it signs the rewrap), the file key
 * is unwrapped with one of the identities ids[0..nids-1], a new age header
 * wraps it to the new set, a rewrap entry (old and new header hash, now,
 * signature) is appended to the key block, and a copy with the new key
 * block and the same frames replaces the file (written beside it, synced,
 * verified again, renamed over it, mode kept). The old and new header
 * hashes go to old_hex and new_hex (65 bytes each). 0, or BERR_* with a
 * sentence in why; on failure the recording is untouched.
 */
int recenc_rewrap(const char *path, const struct reckey *key,
    const uint8_t (*ids)[AGE_KEY_LEN], size_t nids,
    const uint8_t (*rcpts)[AGE_KEY_LEN], size_t nr, uint64_t now_unix_us,
    char old_hex[65], char new_hex[65], char *why, size_t whylen);

#endif
