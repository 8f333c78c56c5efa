/*
 * recwriter.h - append frames to one recording, chain them, sign them.
 *
 * Only bastion-recorder uses this: it is the code that holds the private key.
 * A writer owns one file descriptor opened on a new, empty file. Each frame
 * goes to the file in a single write() (retried on short writes) together
 * with its chain hash; if the write fails the file is truncated back to the
 * previous frame boundary, so a failed append never leaves half a frame.
 *
 * Checkpoints (see recfmt.h): recwriter_append() writes one first whenever
 * the new frame would stretch the unsigned run past REC_CKPT_INTERVAL_US or
 * REC_CKPT_BYTES; the caller runs a timer to recwriter_ckpt_due() and calls
 * recwriter_checkpoint() then, so an idle session is signed too. Checkpoints
 * and the seal are followed by fdatasync().
 *
 * Time is passed in by the caller (µs since the session started) so tests
 * can drive the clock; a time earlier than the last frame's is raised to it.
 */
#ifndef BASTION_RECWRITER_H
#define BASTION_RECWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "recfmt.h"

struct reckey;
struct recwriter;

/* "20250121T101502Z-0123456789abcdef": UTC start second + 64 random bits.
 * out needs at least 34 bytes. 0 or BERR_SYS (no randomness). */
int recwriter_new_session_id(uint64_t start_unix_us, char *out,
    size_t outlen);

/*
 * Create RECDIR/YYYY/MM/DD/SESSIONID.brec (UTC date of start_unix_us),
 * making the date directories (0750) as needed. The file is created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0640: an existing recording is never
 * opened, let alone overwritten (BERR_EXISTS). The path goes to path, the
 * open descriptor to *fdp. On failure errno is kept for the caller's
 * message and nothing is left open.
 */
int recwriter_create_file(const char *recdir, const char *session_id,
    uint64_t start_unix_us, char *path, size_t pathlen, int *fdp);

/*
 * Start a recording on fd (empty, ours from now on: recwriter_free closes
 * it): writes the magic line and the HEADER frame built from hdr at time 0,
 * in one write. hdr must have a valid "session" field (it seeds the chain);
 * key must hold a private key. *out is NULL on failure and fd is closed.
 */
int recwriter_open(int fd, const struct reckey *key, const struct rec_hdr *hdr,
    struct recwriter **out);

/*
 * Append one frame (any type but HEADER, CHECKPOINT and SEAL; the payload
 * must already satisfy recfmt_payload_decode). May write a CHECKPOINT first.
 * BERR_SYS on a write error (recwriter_errno() tells which; the recording is
 * still consistent and can be sealed if the disk recovers), BERR_INVAL after
 * the seal or for a reserved type, BERR_LIMIT for an oversized payload.
 */
int recwriter_append(struct recwriter *w, int type, uint32_t channel,
    const void *payload, size_t len, uint64_t now_us);

/* Sign the chain head now, if any frame is unsigned (else a no-op). */
int recwriter_checkpoint(struct recwriter *w, uint64_t now_us);

/* The time (µs since start) by which a checkpoint is due, or UINT64_MAX if
 * every frame is signed. */
uint64_t recwriter_ckpt_due(const struct recwriter *w);

/*
 * Write the SEAL (status enum rec_end, reason text without control
 * characters, at most 256 bytes) and make the file read-only (0440). After
 * this only recwriter_free is useful.
 */
int recwriter_seal(struct recwriter *w, int status, const char *reason,
    uint64_t now_us);

/* errno of the last failed write, 0 if none. */
int recwriter_errno(const struct recwriter *w);
/* Frames written so far (= the next seq). */
uint64_t recwriter_frames(const struct recwriter *w);
/* Current chain head (REC_HASH_LEN bytes). */
const uint8_t *recwriter_head(const struct recwriter *w);
int recwriter_sealed(const struct recwriter *w);

/* Close the file (not sealing it) and free; NULL is a no-op. */
void recwriter_free(struct recwriter *w);

#endif
