/*
 * recwriter.h - append frames to one recording, chain them, sign them.
 *
 * Only bastion-recorder uses this: it is the code that holds the private key.
 * A writer owns one file descriptor opened on a new, empty file. Each frame
 * goes to the file in a single writev() (retried on short writes) together
 * with its chain hash, straight from the caller's payload (no copy); if the
 * write fails the file is truncated back to the previous frame boundary, so
 * a failed append never leaves half a frame.
 *
 * Checkpoints (see recfmt.h): recwriter_append() writes one first whenever
 * the new frame would stretch the unsigned run past REC_CKPT_INTERVAL_US or
 * REC_CKPT_BYTES; the caller runs a timer to recwriter_ckpt_due() and calls
 * recwriter_checkpoint() then, so an idle session is signed too.
 *
 * Durability: a checkpoint or the seal bounds what a machine crash can lose
 * only once it is on stable storage. By default recwriter_checkpoint() and
 * recwriter_seal() call fdatasync() themselves, in the caller's thread. A
 * caller with an event loop (bastion-recorder) calls recwriter_defer_sync()
 * instead and runs the syncs elsewhere, one at a time per writer:
 *
 *	if (recwriter_sync_start(w, &fd))
 *		fdatasync(fd) on a worker thread, then on the loop:
 *		recwriter_sync_done(w, 0 or errno);
 *	if (recwriter_sync_behind(w))
 *		stop reading frames until the next recwriter_sync_done();
 *
 * While a sync runs frames keep being written behind it (page cache, so
 * nothing is lost if the process dies); only a machine crash can lose what
 * is not yet synced: the run whose checkpoint is being synced and the one
 * after it (recwriter_sync_behind() stops the caller there), plus one frame.
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
 * The same for format 2 (recenc.h): keyblock (kblen bytes, its uint32
 * length included, from recenc_keyblock_encode) follows the magic line
 * "bastion-rec v2", and every later payload of an encrypted type is sealed
 * with file_key (copied; the caller wipes its own) before it is written.
 * hdr must carry the fields recenc_prepare() added.
 */
int recwriter_open_v2(int fd, const struct reckey *key,
    const struct rec_hdr *hdr, const uint8_t *keyblock, size_t kblen,
    const uint8_t file_key[16], struct recwriter **out);

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
 * characters, at most 256 bytes), sync it and make the file read-only
 * (0440); with deferred syncing the last two wait for recwriter_sync_done.
 * After this only the sync calls and recwriter_free are useful.
 */
int recwriter_seal(struct recwriter *w, int status, const char *reason,
    uint64_t now_us);

/*
 * Deferred syncing (see the top of this file). Call once, right after
 * recwriter_open(); from then on checkpoints and the seal are written but
 * not synced by the writer, and the file is made read-only only when the
 * seal is synced (recwriter_sync_done).
 */
void recwriter_defer_sync(struct recwriter *w);

/*
 * 1 if a checkpoint or the seal is written but not yet synced and no sync
 * is in flight: *fdp is the descriptor to fdatasync() and the writer counts
 * a sync as in flight until recwriter_sync_done(). 0 if there is nothing to
 * start (*fdp is -1). The descriptor stays open until recwriter_free(),
 * which must not be called while a sync is in flight.
 */
int recwriter_sync_start(struct recwriter *w, int *fdp);

/*
 * The sync from recwriter_sync_start() ended with err (0 or an errno).
 * 0: what it covered is durable, and once that includes the seal the file
 * is made read-only (0440). BERR_SYS: the sync failed (recwriter_errno()
 * says why); the recording can no longer promise anything and its session
 * must end. Later appends and the seal are still attempted (best effort).
 */
int recwriter_sync_done(struct recwriter *w, int err);

/* 1 while a sync is in flight and a later checkpoint (or the seal) is
 * already written behind it: feed no more frames until it is done. */
int recwriter_sync_behind(const struct recwriter *w);

/* 1 if a sync is in flight. */
int recwriter_sync_busy(const struct recwriter *w);

/* 1 once the seal is written and synced (with deferred syncing: by a
 * successful recwriter_sync_done; otherwise by recwriter_seal itself). */
int recwriter_durable(const struct recwriter *w);

/* errno of the last failed write or sync, 0 if none. */
int recwriter_errno(const struct recwriter *w);
/* Frames written so far (= the next seq). */
uint64_t recwriter_frames(const struct recwriter *w);
/* Current chain head (REC_HASH_LEN bytes). */
const uint8_t *recwriter_head(const struct recwriter *w);
int recwriter_sealed(const struct recwriter *w);

/* Close the file (not sealing it) and free; NULL is a no-op. Not while a
 * sync is in flight (recwriter_sync_busy). */
void recwriter_free(struct recwriter *w);

#endif
