/*
 * recproto.h - messages between a session worker and bastion-recorder.
 *
 * A Unix stream socket carries length-prefixed messages (SSH wire types):
 *
 *	uint32 len      length of what follows, at most RECPROTO_MSG_MAX
 *	                (RECPROTO_HELLO_MAX until the recording is open)
 *	uint8  type     enum recproto_msg
 *	...    body
 *
 *	OPEN   uint32 version (RECPROTO_VERSION), then the session facts as
 *	       a HEADER-style key/value list (recfmt_hdr_encode)
 *	FRAME  uint8 frame type, uint32 channel, string payload
 *	SYNC   (empty)
 *	CLOSE  (empty)
 *	OK     string session id, string path, uint64 frames, string head hex
 *	ERR    string reason (for a person: it is shown to the engineer)
 *
 *	NOTARIZE   string recording id, string MANIFEST, uint64 chain seq:
 *	           instead of OPEN, the auditor console's export asks for the
 *	           recorder's signature over an evidence bundle's MANIFEST
 *	           (recbundle.h); answered with SIGNATURE or ERR, then closed
 *	SIGNATURE  string signature (64 bytes, Ed25519)
 *
 *	WATCH  string recording id: instead of OPEN, from root only (the
 *	       admin console's watch in a monitor): the clear output of that
 *	       live recording, from the recorder's memory (never a file), as
 *	       LIVE messages: first the last RECPROTO_WATCH_TAIL bytes, then
 *	       each OUTPUT/STDERR frame as it is recorded; END when the
 *	       recording ends; ERR if there is no such live recording
 *	LIVE   uint8 frame type (OUTPUT or STDERR), string payload
 *	END    string reason
 *
 * The worker sends OPEN and waits for OK or ERR. Then it streams FRAMEs
 * without waiting: the recorder answers a FRAME only when it fails (ERR,
 * then it closes the connection). SYNC gets an OK once everything before
 * it is written; CLOSE gets an OK once the recording is sealed. The
 * recorder is the one that decides the session id and the file; a worker
 * can only ever append to the recording its own connection opened.
 * docs/RECORDING-FORMAT.md, "Recorder protocol", is the full description.
 */
#ifndef BASTION_RECPROTO_H
#define BASTION_RECPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "recfmt.h"

struct buf;

#define RECPROTO_VERSION	1
/* FRAME: type 1 + frame type 1 + channel 4 + string 4 + payload. */
#define RECPROTO_FRAME_OVERHEAD	10
#define RECPROTO_MSG_MAX	(REC_MAX_PAYLOAD + RECPROTO_FRAME_OVERHEAD)
/* Before OPEN succeeded a peer gets far less room. */
#define RECPROTO_HELLO_MAX	(64 * 1024)
/* Replies (OK, ERR) are small. */
#define RECPROTO_REPLY_MAX	4096
/* WATCH: output the recorder keeps in memory per live recording, for a
 * watcher that joins late (the last screenful, roughly). */
#define RECPROTO_WATCH_TAIL	4096

enum recproto_msg {
	RECPROTO_OPEN = 1,
	RECPROTO_FRAME = 2,
	RECPROTO_SYNC = 3,
	RECPROTO_CLOSE = 4,
	RECPROTO_NOTARIZE = 5,
	RECPROTO_WATCH = 6,
	RECPROTO_OK = 0x81,
	RECPROTO_ERR = 0x82,
	RECPROTO_SIGNATURE = 0x83,
	RECPROTO_LIVE = 0x84,
	RECPROTO_END = 0x85,
};

/* Append a whole OPEN message. */
int recproto_put_open(struct buf *b, const struct rec_hdr *facts);
/* Append the first bytes of a FRAME message, up to and including the
 * payload's length: the payload itself follows (sent separately to avoid
 * a copy). BERR_LIMIT if len > REC_MAX_PAYLOAD. */
int recproto_put_frame_head(struct buf *b, int type, uint32_t channel,
    size_t len);
/* Append a message with an empty body (SYNC, CLOSE). */
int recproto_put_empty(struct buf *b, int msg);
/* Append OK / ERR. */
int recproto_put_ok(struct buf *b, const char *session_id, const char *path,
    uint64_t frames, const char *head_hex);
int recproto_put_err(struct buf *b, const char *reason);
/* Append NOTARIZE / SIGNATURE (recbundle.h). */
int recproto_put_notarize(struct buf *b, const char *recid,
    const void *manifest, size_t mlen, uint64_t chain_seq);
int recproto_put_signature(struct buf *b, const uint8_t sig[REC_SIG_LEN]);
/*
 * Take a NOTARIZE body apart (body as recproto_take() left it): *recid is
 * new (caller frees), *manifest points into body (mlen bytes, at most
 * RECBUNDLE_MANIFEST_MAX). 0 or BERR_FORMAT; *recid NULL on failure.
 */
int recproto_get_notarize(struct buf *body, char **recid,
    const uint8_t **manifest, size_t *mlen, uint64_t *chain_seq);

/* Append WATCH / LIVE / END. */
int recproto_put_watch(struct buf *b, const char *recid);
int recproto_put_live(struct buf *b, int type, const void *p, size_t len);
int recproto_put_end(struct buf *b, const char *reason);
/* A WATCH body's recording id (new string, caller frees); BERR_FORMAT. */
int recproto_get_watch(struct buf *body, char **recid);

/*
 * Take one whole message off the front of in. 0: *msg is its type and
 * *body a new buffer holding the rest (caller frees). BERR_AGAIN if in holds
 * only part of a message (nothing consumed). BERR_LIMIT if the declared
 * length exceeds max, BERR_FORMAT for an empty message: the connection is
 * then beyond repair.
 */
int recproto_take(struct buf *in, size_t max, int *msg, struct buf **body);
/*
 * The same without a copy: *p and *len the message's type byte and body
 * in place (valid until in is written to; p[0] is the type, len >= 1).
 */
int recproto_take_direct(struct buf *in, size_t max, const uint8_t **p,
    size_t *len);

#endif
