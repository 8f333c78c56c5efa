/*
 * rec_client.h - what a session worker calls to have its session recorded.
 *
 * The worker never writes a recording itself and never sees the signing
 * key: it streams frames to bastion-recorder over a Unix socket
 * (recproto.h). Recording is fail-closed, so the rule for the caller is
 * simple: every function returns 0 or a negative BERR_* code, and on any
 * error the session must end (tell the engineer rec_client_error(c)).
 *
 *	struct rec_header facts = { .engineer = "alice", .device = "ct-1",
 *	    ... };
 *	char err[256];
 *	if (rec_client_open(sock, &facts, &rc, err, sizeof(err)) != 0)
 *		refuse the session, showing err;
 *	rec_client_pty_req(rc, ch, "xterm", 80, 24); rec_client_shell(rc, ch);
 *	rec_client_output(rc, ch, buf, n); rec_client_input(rc, ch, buf, n);
 *	...
 *	rec_client_exit_status(rc, ch, 0);
 *	rec_client_close(rc, err, sizeof(err));
 *	rec_client_free(rc);
 *
 * Frames are sent without waiting for an answer: the recorder speaks only
 * to refuse (it then closes the connection). Each call first checks,
 * without blocking, whether such a refusal has arrived. Sends are blocking
 * with a send timeout (REC_CLIENT_TIMEOUT_MS): a recorder that stops
 * reading makes the call fail with BERR_TIMEOUT instead of hanging the
 * session. A worker that polls may watch rec_client_fd() for readability:
 * anything readable during a session means the recorder refused or left.
 * The fd may be left blocking or made non-blocking (uv_poll_init does
 * that): sends wait for room up to the same timeout either way.
 *
 * Not thread-safe: one rec_client per worker, used from one thread.
 * SIGPIPE is never raised (MSG_NOSIGNAL).
 */
#ifndef BASTION_REC_CLIENT_H
#define BASTION_REC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "recfmt.h"

#define REC_CLIENT_TIMEOUT_MS	5000

/* Session facts for the HEADER. engineer and device are required; the
 * others may be NULL (recorded as "-"). The recorder adds the session id,
 * start time, its key fingerprint and host, and the worker's pid and uid
 * as the kernel reports them. Values must be UTF-8 without control
 * characters, at most REC_HDR_VALUE_MAX bytes. */
struct rec_header {
	const char *engineer;		/* vendor engineer's user name */
	const char *vendor;		/* vendor name from the policy */
	const char *source;		/* engineer's address "ip:port" */
	const char *device;		/* device name from the policy */
	const char *device_addr;	/* address connected to, "ip:port" */
	const char *approval;		/* approval id, or NULL/"none" */
	const char *policy_sha256;	/* hex SHA-256 of the policy file */
	const char *ref;		/* bastiond's own session number */
	const char *recipients;		/* the policy's recipients
					   (recenc_recipients_id), or NULL:
					   the recorder refuses if its own
					   differ (not written to the HEADER) */
};

struct rec_client;

/*
 * Connect to the recorder at socket_path, send OPEN and wait (at most
 * REC_CLIENT_TIMEOUT_MS) for its answer. 0: *out is the client, the
 * recording exists and holds the HEADER. Otherwise *out is NULL and err
 * holds a sentence for the engineer: the recorder's own reason ("recording
 * refused: only 12 MiB free on the recording disk ...") or why it could
 * not be reached.
 */
int rec_client_open(const char *socket_path, const struct rec_header *facts,
    struct rec_client **out, char *err, size_t errlen);

/*
 * Send one frame. type is any enum rec_type but REC_HEADER, REC_CHECKPOINT
 * and REC_SEAL; data/len is its payload encoded as docs/RECORDING-FORMAT.md
 * says (for OUTPUT, STDERR and INPUT simply the bytes). len must be at most
 * REC_MAX_PAYLOAD (BERR_LIMIT). channel must not be REC_CHANNEL_RECORDER.
 * A payload the recorder finds malformed makes it end the recording.
 */
int rec_client_frame(struct rec_client *c, int type, uint32_t channel,
    const void *data, size_t len);

/*
 * Convenience wrappers: they encode the payload. Data of any length is
 * split into frames of at most REC_MAX_PAYLOAD. Text fields the format
 * requires to be clean (term, subsystem, host, originator, signal) are
 * made so (text_clean, text.h: control characters and bytes that are not
 * UTF-8 become '?'), and they are cut at their cap between characters, so
 * a hostile client's odd terminal name cannot end its own session. kind must be [a-z0-9._-]{1,32} (BERR_INVAL otherwise).
 */
int rec_client_pty_req(struct rec_client *c, uint32_t channel,
    const char *term, uint32_t cols, uint32_t rows);
int rec_client_window_change(struct rec_client *c, uint32_t channel,
    uint32_t cols, uint32_t rows);
int rec_client_shell(struct rec_client *c, uint32_t channel);
int rec_client_exec(struct rec_client *c, uint32_t channel,
    const void *command, size_t len);
int rec_client_subsystem(struct rec_client *c, uint32_t channel,
    const char *name);
int rec_client_output(struct rec_client *c, uint32_t channel,
    const void *data, size_t len);
int rec_client_stderr(struct rec_client *c, uint32_t channel,
    const void *data, size_t len);
int rec_client_input(struct rec_client *c, uint32_t channel,
    const void *data, size_t len);
/* dir: REC_DIR_FROM_DEVICE or REC_DIR_TO_DEVICE. */
int rec_client_eof(struct rec_client *c, uint32_t channel, int dir);
int rec_client_exit_status(struct rec_client *c, uint32_t channel,
    uint32_t status);
int rec_client_exit_signal(struct rec_client *c, uint32_t channel,
    const char *signal, int core_dumped, const char *message);
int rec_client_fwd_open(struct rec_client *c, uint32_t channel,
    const char *host, uint32_t port, const char *originator,
    uint32_t originator_port);
int rec_client_fwd_data(struct rec_client *c, uint32_t channel, int dir,
    const void *data, size_t len);
int rec_client_fwd_close(struct rec_client *c, uint32_t channel);
/* text: any bytes, cut at REC_TEXT_MAX. */
int rec_client_event(struct rec_client *c, uint32_t channel,
    const char *kind, const char *text);

/* Wait until the recorder has written everything sent so far (not a
 * checkpoint: see docs). 0 or BERR_*. */
int rec_client_sync(struct rec_client *c);

/*
 * Send CLOSE and wait for the recorder to seal the recording. 0: sealed
 * (the worker should log rec_client_session_id()). On failure err says
 * why; the recording then ends abnormally. Afterwards only
 * rec_client_free() and the getters may be called.
 */
int rec_client_close(struct rec_client *c, char *err, size_t errlen);

/* Close the connection and free. Without rec_client_close() first the
 * recorder seals the recording as "worker disconnected". NULL is a no-op. */
void rec_client_free(struct rec_client *c);

/*
 * Not a recording: ask the recorder to sign an evidence bundle's MANIFEST
 * (recbundle.h; the auditor console's export). The recorder checks the
 * hashes it can against its own files first, which takes about as long as
 * reading the recording: wait_ms bounds the wait. 0 with the Ed25519
 * signature in sig; otherwise err says why (the recorder's refusal, or
 * why it could not be asked).
 */
int rec_client_notarize(const char *socket_path, const char *recid,
    const void *manifest, size_t mlen, uint64_t chain_seq, unsigned wait_ms,
    uint8_t sig[REC_SIG_LEN], char *err, size_t errlen);

/*
 * Not a recording either: watch a live recording's output (WATCH, root
 * only: the admin console's watch in a monitor). The output comes from
 * the recorder's memory, never from a file, so an encrypted recording is
 * watched without any key. rec_client_watch: connected and asked, or an
 * error with err. rec_client_watch_next: wait up to wait_ms; 1 with an
 * OUTPUT or STDERR payload in *type, *p, *len (valid until the next call),
 * BERR_AGAIN if nothing came, 0 when the recording ended (why holds the
 * recorder's reason), another BERR_* with why when the watch failed (the
 * recorder's refusal: no such live recording, too slow).
 */
int rec_client_watch(const char *socket_path, const char *recid,
    struct rec_client **out, char *err, size_t errlen);
int rec_client_watch_next(struct rec_client *c, unsigned wait_ms, int *type,
    const uint8_t **p, size_t *len, char *why, size_t whylen);

/*
 * Binding a connection to its recording (privilege separation): the
 * session's monitor opens the recording (rec_client_open, as root, with
 * the facts it decided) and hands the connected socket to the session's
 * child, which can then only add frames to that one recording and close
 * it; the child itself cannot reach the recorder's socket.
 *
 * rec_client_detach(): free c and return its socket (the caller's now),
 * or -1 when c failed (its socket is closed then); nothing is sent.
 * rec_client_adopt(): a client over fd, a connection whose OPEN was
 * answered with session_id and path. 0 with *out; BERR_INVAL, BERR_NOMEM
 * (fd is not closed then).
 */
int rec_client_detach(struct rec_client *c);
int rec_client_adopt(int fd, const char *session_id, const char *path,
    struct rec_client **out);

/* The socket, for poll(): readable means the recorder refused or left. */
int rec_client_fd(const struct rec_client *c);
/* Session id and recording path the recorder assigned. */
const char *rec_client_session_id(const struct rec_client *c);
const char *rec_client_path(const struct rec_client *c);
/* The last error as a sentence ("" if none). */
const char *rec_client_error(const struct rec_client *c);

#endif
