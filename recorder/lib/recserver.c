/*
 * recserver.c - bastion-recorder's connections (see recserver.h and the
 * program's own comment in recorder/bastion-recorder.c): replies,
 * durability (checkpoints synced on the thread pool), sealing, the
 * messages OPEN, FRAME, CLOSE and NOTARIZE, and accepting a peer.
 *
 * Every byte a peer sends is untrusted: messages are length-capped
 * (recproto.h) and read through bounded buffers; a peer that misbehaves
 * only ever ends its own connection, whose recording is sealed as
 * abnormal so that it still verifies.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "buf.h"
#include "auditlog.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "recbundle.h"
#include "recnotary.h"
#include "recfmt.h"
#include "reckey.h"
#include "recproto.h"
#include "recserver.h"
#include "recserver_int.h"
#include "recenc.h"
#include "recwriter.h"
#include "text.h"

#define HELLO_TIMEOUT_MS	10000	/* OPEN must come within this */
#define LINGER_MS		2000	/* ERR/OK delivery before closing */
#define READ_CHUNK		RECSERVER_READ_CHUNK
#define OUTQ_MAX		(1024 * 1024)	/* unsent replies per peer */

/* Facts a worker may state in OPEN; everything else the recorder adds. */
static const char *const open_keys[] = {
	"engineer", "vendor", "source", "device", "device_addr", "approval",
	"policy_sha256", "ref", "recipients", NULL
};
static const char *const open_required[] = { "engineer", "device", NULL };





static void alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
static void conn_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
static uint64_t
now_mono_us(void)
{
	return (uv_hrtime() / 1000);
}

static uint64_t
now_unix_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* µs since this connection's recording started. */
static uint64_t
conn_now(const struct conn *c)
{
	return (now_mono_us() - c->t0);
}

/* ---- replies ---------------------------------------------------------- */

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

static void
write_cb(uv_write_t *req, int status)
{
	struct wreq *wr = (struct wreq *)req;

	(void)status;
	wr->c->outq -= wr->len;
	free(wr);
}

/* Queue msg for the peer. A peer that does not read its replies is cut
 * off: it cannot make us buffer without bound. */
int
recserver_conn_send(struct conn *c, const struct buf *msg)
{
	struct wreq *wr;
	uv_buf_t ub;
	size_t len = buf_len(msg);

	if (c->outq + len > OUTQ_MAX)
		return (BERR_LIMIT);
	if ((wr = malloc(sizeof(*wr) + len)) == NULL)
		return (BERR_NOMEM);
	memcpy(wr->data, buf_ptr(msg), len);
	wr->c = c;
	wr->len = len;
	ub = uv_buf_init((char *)wr->data, (unsigned int)len);
	if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &ub, 1,
	    write_cb) != 0) {
		free(wr);
		return (BERR_CLOSED);
	}
	c->outq += len;
	return (0);
}

void
recserver_send_err(struct conn *c, const char *reason)
{
	struct buf *b;

	if ((b = buf_new(RECPROTO_REPLY_MAX)) == NULL)
		return;
	if (recproto_put_err(b, reason) == 0)
		(void)recserver_conn_send(c, b);
	buf_free(b);
}

static int
send_ok(struct conn *c)
{
	char hex[2 * REC_HASH_LEN + 1];
	struct buf *b;
	int r;

	hex_encode(recwriter_head(c->w), REC_HASH_LEN, hex);
	if ((b = buf_new(RECPROTO_REPLY_MAX)) == NULL)
		return (BERR_NOMEM);
	if ((r = recproto_put_ok(b, c->sid, c->path, recwriter_frames(c->w),
	    hex)) == 0)
		r = recserver_conn_send(c, b);
	buf_free(b);
	return (r);
}

/* ---- durability ------------------------------------------------------- */

/*
 * Checkpoints and the seal are synced with uv_fs_fdatasync on libuv's
 * thread pool, one sync at a time per recording (recwriter_sync_start), so
 * a slow disk delays no other session. While a sync runs, frames keep going
 * to the file (page cache: a killed recorder loses nothing it wrote); when
 * a second checkpoint is written behind it, this worker is not read until
 * the sync is done (recwriter_sync_behind), so a machine crash loses at
 * most the run being synced and the one after it. The connection is not
 * freed while its sync is in flight: the request counts as a handle.
 */

static void sync_cb(uv_fs_t *);
static void conn_drain(struct conn *);

/* Start the sync of whatever is signed and not yet synced, unless one is in
 * flight. 0, or BERR_SYS if it ran here and failed. */
static int
conn_sync_kick(struct conn *c)
{
	int fd;

	if (c->w == NULL || !recwriter_sync_start(c->w, &fd))
		return (0);
	c->sync.data = c;
	if (uv_fs_fdatasync(&c->srv->loop, &c->sync, fd, sync_cb) == 0) {
		c->handles++;
		return (0);
	}
	/* libuv refuses only bad arguments: sync here rather than not at all */
	return (recwriter_sync_done(c->w, fdatasync(fd) == 0 ? 0 : errno));
}

/* After frames or a checkpoint were written: start their sync, and stop
 * reading this worker while the syncs are a checkpoint behind. 0 or
 * BERR_SYS. */
static int
conn_after_write(struct conn *c)
{
	int r;

	if ((r = conn_sync_kick(c)) != 0)
		return (r);
	if (!c->paused && recwriter_sync_behind(c->w)) {
		c->paused = 1;
		uv_read_stop((uv_stream_t *)&c->pipe);
	}
	return (0);
}

/* The seal is synced: the recording is complete. Say so in the journal and
 * answer a CLOSE. */
static void
conn_sealed(struct conn *c)
{
	char hex[2 * REC_HASH_LEN + 1], frames[32];

	if (c->seal_reported)
		return;
	c->seal_reported = 1;
	hex_encode(recwriter_head(c->w), REC_HASH_LEN, hex);
	snprintf(frames, sizeof(frames), "%llu",
	    (unsigned long long)recwriter_frames(c->w));
	/* The sealed chain head also goes to the journal: a witness outside
	 * the file, so cutting a sealed file back to an earlier checkpoint
	 * is caught by comparing the two. */
	audit_ev(BEV_RECORDING_SEALED, "session", c->sid, "path", c->path,
	    "status", c->seal_status == REC_END_NORMAL ? "normal" :
	    "abnormal", "reason", c->seal_reason, "frames", frames, "head", hex,
	    NULL);
	if (c->state == CONN_SEALING) {
		(void)send_ok(c);
		recserver_conn_close(c);
	}
}

/* The seal could not be written or synced (why: a sentence). */
static void
conn_unsealed(struct conn *c, const char *why)
{
	char reason[300];

	if (c->seal_reported)
		return;
	c->seal_reported = 1;
	log_error("session %s: cannot seal %s: %s", c->sid, c->path, why);
	audit_ev(BEV_RECORDING_UNSEALED, "session", c->sid, "path", c->path,
	    "reason", c->seal_reason, "error", why, NULL);
	if (c->state == CONN_SEALING) {
		snprintf(reason, sizeof(reason), "cannot seal the recording: %s",
		    why);
		recserver_send_err(c, reason);
		recserver_conn_close(c);
	}
}

/* A sync failed: nothing written since the last good sync is promised to
 * survive a crash, so the recording has failed (fail closed). */
static void
conn_sync_failed(struct conn *c)
{
	char reason[300];

	snprintf(reason, sizeof(reason), "cannot write the recording: "
	    "syncing it to disk failed: %s", strerror(recwriter_errno(c->w)));
	if (c->state == CONN_OPEN)
		recserver_conn_fail(c, reason);	/* event, abnormal seal, ERR */
	else if (recwriter_sealed(c->w))
		conn_unsealed(c, reason + strlen("cannot write the recording: "));
}

static void
sync_cb(uv_fs_t *req)
{
	struct conn *c = req->data;
	int err = req->result < 0 ? (int)-req->result : 0;

	uv_fs_req_cleanup(req);
	if (recwriter_sync_done(c->w, err) != 0 || conn_sync_kick(c) != 0)
		conn_sync_failed(c);
	else if (recwriter_durable(c->w))
		conn_sealed(c);
	else if (c->paused && !recwriter_sync_behind(c->w)) {
		/* caught up: take this worker's frames again, first those
		 * already read */
		c->paused = 0;
		conn_drain(c);
		if (!c->paused && c->state == CONN_OPEN)
			uv_read_start((uv_stream_t *)&c->pipe, alloc_cb,
			    conn_read_cb);
	}
	if (--c->handles == 0)
		recserver_conn_free(c);
}

/* ---- ending a recording ----------------------------------------------- */

/*
 * Finish the recording with an EVENT (kind, text) and a SEAL. Best effort:
 * if the disk is gone the file keeps what it has, and the verifier reports
 * it unsealed.
 */
static void
conn_seal(struct conn *c, int status, const char *kind, const char *text,
    const char *reason)
{
	struct buf *ev;
	uint64_t t;
	int r;

	if (c->w == NULL || recwriter_sealed(c->w))
		return;
	recserver_watch_end(c, reason);
	t = conn_now(c);
	if (kind != NULL && (ev = buf_new(REC_TEXT_MAX + 64)) != NULL) {
		if (buf_put_cstring(ev, kind) == 0 &&
		    buf_put_cstring(ev, text) == 0 &&
		    (r = recwriter_append(c->w, REC_EVENT,
		    REC_CHANNEL_RECORDER, buf_ptr(ev), buf_len(ev), t)) != 0)
			log_warn("session %s: cannot record the end event: %s",
			    c->sid, r == BERR_SYS ?
			    strerror(recwriter_errno(c->w)) : berr_str(r));
		buf_free(ev);
	}
	c->seal_status = status;
	/* the SEAL's reason is a clean string: whatever went wrong, and a
	 * worker may have said part of it, the seal must still be written */
	text_clean(c->seal_reason, sizeof(c->seal_reason), reason);
	if ((r = recwriter_seal(c->w, status, c->seal_reason, t)) != 0 &&
	    !recwriter_sealed(c->w)) {
		conn_unsealed(c, r == BERR_SYS ?
		    strerror(recwriter_errno(c->w)) : berr_str(r));
		return;
	}
	/* the seal counts once it is synced: conn_sealed() then */
	if (conn_sync_kick(c) != 0)
		conn_unsealed(c, strerror(recwriter_errno(c->w)));
	else if (recwriter_durable(c->w))
		conn_sealed(c);
}

/* Tell the peer why, end the recording abnormally, close. */
void
recserver_conn_fail(struct conn *c, const char *reason)
{
	char r2[REC_REASON_MAX + 1];

	if (c->state == CONN_DONE)
		return;
	log_warn("connection %lu (pid %ld uid %ld)%s%s: %s", c->id,
	    (long)c->pid, (long)c->uid, c->sid[0] ? " session " : "", c->sid,
	    reason);
	if (c->state == CONN_OPEN) {
		snprintf(r2, sizeof(r2), "%s", reason);
		conn_seal(c, REC_END_ABNORMAL, "recorder-error", reason, r2);
	}
	recserver_send_err(c, reason);
	recserver_conn_close(c);
}

/* ---- connection lifetime ---------------------------------------------- */

void
recserver_conn_free(struct conn *c)
{
	recserver_watch_end(c, "the recording's connection closed");
	recserver_watch_detach(c);
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	recwriter_free(c->w);
	buf_free(c->in);
	free(c);
}

static void
handle_close_cb(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->handles == 0)
		recserver_conn_free(c);
}

static void
shutdown_cb(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;

	(void)status;
	free(req);
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, handle_close_cb);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, handle_close_cb);
}

static void
linger_cb(uv_timer_t *t)
{
	struct conn *c = t->data;

	/* the peer did not take its last reply in time */
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, handle_close_cb);
	uv_close((uv_handle_t *)&c->timer, handle_close_cb);
}

/*
 * Stop reading, let queued replies drain (uv_shutdown waits for them), then
 * close both handles. A linger timer bounds the wait.
 */
void
recserver_conn_close(struct conn *c)
{
	uv_shutdown_t *req;

	if (c->state == CONN_DONE && uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	c->state = CONN_DONE;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_timer_stop(&c->timer);
	uv_timer_start(&c->timer, linger_cb, LINGER_MS, 0);
	if ((req = calloc(1, sizeof(*req))) != NULL) {
		req->data = c;
		if (uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_cb) == 0)
			return;
		free(req);
	}
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, handle_close_cb);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, handle_close_cb);
}

/* ---- checkpoints ------------------------------------------------------ */

static void ckpt_cb(uv_timer_t *);

/* Arm the timer for the next checkpoint the writer has due. */
static void
ckpt_arm(struct conn *c)
{
	uint64_t due = recwriter_ckpt_due(c->w), now = conn_now(c);

	if (due == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	uv_timer_start(&c->timer, ckpt_cb,
	    due > now ? (due - now + 999) / 1000 : 0, 0);
}

/* 1 if the recording disk has at least min bytes free for us. */
static int
disk_free(const char *dir, uint64_t min, uint64_t *avail)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) != 0) {
		*avail = 0;
		return (0);
	}
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return (*avail >= min);
}

static void
ckpt_cb(uv_timer_t *t)
{
	struct conn *c = t->data;
	char reason[256];
	uint64_t avail;
	int r;

	if (c->state != CONN_OPEN)
		return;
	if ((r = recwriter_checkpoint(c->w, conn_now(c))) != 0 ||
	    (r = conn_after_write(c)) != 0) {
		snprintf(reason, sizeof(reason), "cannot write the recording: "
		    "%s", r == BERR_SYS ? strerror(recwriter_errno(c->w)) :
		    berr_str(r));
		recserver_conn_fail(c, reason);
		return;
	}
	/* Stop while there is still room to seal properly, rather than
	 * run into ENOSPC halfway through a frame. */
	if (!disk_free(c->srv->recdir, c->srv->min_free / 4, &avail)) {
		snprintf(reason, sizeof(reason), "the recording disk is nearly "
		    "full (%llu MiB left): session ended",
		    (unsigned long long)(avail >> 20));
		recserver_conn_fail(c, reason);
		return;
	}
	ckpt_arm(c);
}

static void
hello_timeout_cb(uv_timer_t *t)
{
	recserver_conn_fail(t->data, "no OPEN within 10 seconds");
}

/* ---- messages --------------------------------------------------------- */

static int
key_listed(const char *const *list, const char *k)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, k) == 0)
			return (1);
	return (0);
}

/* The HEADER: what the worker said, then what only the recorder knows. */
static int
build_header(struct conn *c, const struct rec_hdr *facts, uint64_t start,
    struct rec_hdr *h)
{
	static const char *const order[] = {
		"ref", "engineer", "vendor", "source", "device", "device_addr",
		"approval", "policy_sha256", NULL
	};
	char tbuf[40], num[32];
	const char *v;
	size_t i;
	int r;

	if ((r = recfmt_hdr_add(h, "session", c->sid)) != 0)
		return (r);
	for (i = 0; order[i] != NULL; i++) {
		if ((v = recfmt_hdr_get(facts, order[i])) == NULL)
			v = strcmp(order[i], "ref") == 0 ? NULL : "-";
		if (v != NULL && (r = recfmt_hdr_add(h, order[i], v)) != 0)
			return (r);
	}
	recfmt_fmt_time(start, tbuf, sizeof(tbuf));
	if ((r = recfmt_hdr_add(h, "start", tbuf)) != 0 ||
	    (r = recfmt_hdr_add(h, "recorder_key", c->srv->keyfp)) != 0 ||
	    (r = recfmt_hdr_add(h, "recorder_host", c->srv->host)) != 0)
		return (r);
	snprintf(num, sizeof(num), "%ld", (long)c->pid);
	if ((r = recfmt_hdr_add(h, "worker_pid", num)) != 0)
		return (r);
	snprintf(num, sizeof(num), "%ld", (long)c->uid);
	return (recfmt_hdr_add(h, "worker_uid", num));
}

/* Format 1, or format 2 when the recorder has recipients: a new file key
 * wrapped to them, the key block written with the HEADER. fd is the
 * writer's (closed on failure). */
static int
writer_open(struct recserver *srv, int fd, struct rec_hdr *h,
    struct recwriter **w)
{
	uint8_t fk[AGE_FILE_KEY_LEN];
	struct buf *age = NULL, *kb = NULL;
	int r;

	if (srv->nrecipients == 0)
		return (recwriter_open(fd, srv->key, h, w));
	if ((age = buf_new(AGE_HEADER_MAX)) == NULL ||
	    (kb = buf_new(RECENC_KEYBLOCK_MAX)) == NULL) {
		r = BERR_NOMEM;
		close(fd);
		goto out;
	}
	if ((r = recenc_prepare((const uint8_t (*)[AGE_KEY_LEN])
	    srv->recipients, srv->nrecipients, h, age, fk)) != 0 ||
	    (r = recenc_keyblock_encode(buf_ptr(age), buf_len(age), NULL, 0,
	    kb)) != 0) {
		close(fd);
		goto out;
	}
	r = recwriter_open_v2(fd, srv->key, h, buf_ptr(kb), buf_len(kb), fk,
	    w);
 out:
	OPENSSL_cleanse(fk, sizeof(fk));
	buf_free(age);
	buf_free(kb);
	return (r);
}

/* The session's policy names the recipients (OPEN "recipients"): they
 * must be ours, or nothing is recorded (fail closed, never in clear). */
static int
recipients_match(const struct recserver *srv, const struct rec_hdr *facts,
    char *why, size_t whylen)
{
	const char *want = recfmt_hdr_get(facts, "recipients");
	char have[65];

	if (want == NULL)
		return (0);
	if (srv->nrecipients == 0)
		return (berr_why(why, whylen, BERR_DENIED, "recording refused: "
		    "the policy encrypts recordings (recordings: recipients) "
		    "but this recorder writes them in clear: give it the "
		    "recipients with -r and restart it"));
	if (recenc_recipients_id((const uint8_t (*)[AGE_KEY_LEN])
	    srv->recipients, srv->nrecipients, have) != 0 ||
	    strcmp(have, want) != 0)
		return (berr_why(why, whylen, BERR_DENIED, "recording refused: "
		    "this recorder encrypts to other recipients than the "
		    "policy's (recordings: recipients): restart it with the "
		    "policy's (bastiond does on restart)"));
	return (0);
}

static void
on_open(struct conn *c, struct buf *body)
{
	struct recserver *srv = c->srv;
	struct rec_hdr facts, h;
	char reason[PATH_MAX + 256];
	uint64_t start, avail;
	uint32_t version;
	size_t i;
	int r, fd = -1, tries;

	memset(&facts, 0, sizeof(facts));
	memset(&h, 0, sizeof(h));
	if (c->state != CONN_HELLO) {
		recserver_conn_fail(c, "protocol error: OPEN on an open recording");
		return;
	}
	if (buf_get_u32(body, &version) != 0 || version != RECPROTO_VERSION) {
		recserver_conn_fail(c, "protocol error: unsupported OPEN version");
		return;
	}
	if ((r = recfmt_hdr_decode(buf_ptr(body), buf_len(body), &facts)) !=
	    0) {
		snprintf(reason, sizeof(reason), "protocol error: malformed "
		    "session facts (%s)", berr_str(r));
		recserver_conn_fail(c, reason);
		return;
	}
	for (i = 0; i < facts.n; i++)
		if (!key_listed(open_keys, facts.key[i])) {
			snprintf(reason, sizeof(reason), "protocol error: "
			    "unknown session fact \"%s\"", facts.key[i]);
			goto fail;
		}
	for (i = 0; open_required[i] != NULL; i++)
		if (recfmt_hdr_get(&facts, open_required[i]) == NULL) {
			snprintf(reason, sizeof(reason), "protocol error: "
			    "session fact \"%s\" missing", open_required[i]);
			goto fail;
		}
	if ((r = recipients_match(srv, &facts, reason, sizeof(reason))) != 0)
		goto fail;
	if (!disk_free(srv->recdir, srv->min_free, &avail)) {
		snprintf(reason, sizeof(reason), "recording refused: only %llu "
		    "MiB free on the recording disk (%s), at least %llu MiB "
		    "required: free space there or lower -m",
		    (unsigned long long)(avail >> 20), srv->recdir,
		    (unsigned long long)(srv->min_free >> 20));
		goto fail;
	}
	start = now_unix_us();
	for (tries = 0; tries < 3; tries++) {
		if ((r = recwriter_new_session_id(start, c->sid,
		    sizeof(c->sid))) != 0)
			break;
		r = recwriter_create_file(srv->recdir, c->sid, start, c->path,
		    sizeof(c->path), &fd);
		if (r != BERR_EXISTS)
			break;
	}
	if (r != 0) {
		snprintf(reason, sizeof(reason), "recording refused: cannot "
		    "create the recording file under %s: %s", srv->recdir,
		    r == BERR_SYS ? strerror(errno) : berr_str(r));
		c->sid[0] = '\0';
		goto fail;
	}
	c->t0 = now_mono_us();
	if ((r = build_header(c, &facts, start, &h)) != 0 ||
	    (r = writer_open(srv, fd, &h, &c->w)) != 0) {
		snprintf(reason, sizeof(reason), "recording refused: cannot "
		    "write %s: %s", c->path,
		    r == BERR_SYS ? strerror(errno) : berr_str(r));
		(void)unlink(c->path);	/* ours, just made, holds nothing */
		goto fail;
	}
	recwriter_defer_sync(c->w);
	c->state = CONN_OPEN;
	audit_ev(BEV_RECORDING_START, "session", c->sid, "path", c->path,
	    "engineer", recfmt_hdr_get(&h, "engineer"),
	    "device", recfmt_hdr_get(&h, "device"),
	    "source", recfmt_hdr_get(&h, "source"), NULL);
	recfmt_hdr_clear(&facts);
	recfmt_hdr_clear(&h);
	if (send_ok(c) != 0) {
		recserver_conn_fail(c, "cannot answer the worker");
		return;
	}
	ckpt_arm(c);
	return;
 fail:
	audit_ev(BEV_RECORDING_REFUSED, "reason", reason,
	    "engineer", recfmt_hdr_get(&facts, "engineer"),
	    "device", recfmt_hdr_get(&facts, "device"), NULL);
	recfmt_hdr_clear(&facts);
	recfmt_hdr_clear(&h);
	recserver_conn_fail(c, reason);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/*
 * A FRAME's body in place (b, n bytes: uint8 type, uint32 channel, string
 * payload and nothing after it), read where the socket's bytes landed:
 * the payload is hashed and written from there, never copied.
 */
static void
on_frame(struct conn *c, const uint8_t *b, size_t n)
{
	char reason[300];
	const uint8_t *p;
	uint32_t channel;
	uint8_t type;
	size_t len;
	int r;

	if (c->state != CONN_OPEN) {
		recserver_conn_fail(c, "protocol error: FRAME before OPEN");
		return;
	}
	if (n < 9 || (len = get_be32(b + 5)) > REC_MAX_PAYLOAD ||
	    len != n - 9) {
		recserver_conn_fail(c, "protocol error: malformed FRAME");
		return;
	}
	type = b[0];
	channel = get_be32(b + 1);
	p = b + 9;
	if (type < REC_TYPE_MIN || type > REC_TYPE_MAX ||
	    type == REC_HEADER || type == REC_CHECKPOINT || type == REC_SEAL ||
	    channel == REC_CHANNEL_RECORDER) {
		snprintf(reason, sizeof(reason), "protocol error: a worker may "
		    "not send frame type %u on channel %lu", type,
		    (unsigned long)channel);
		recserver_conn_fail(c, reason);
		return;
	}
	if ((r = recfmt_payload_decode(type, p, len, NULL)) != 0) {
		snprintf(reason, sizeof(reason), "protocol error: malformed %s "
		    "payload (%s)", recfmt_type_name(type), berr_str(r));
		recserver_conn_fail(c, reason);
		return;
	}
	if ((r = recwriter_append(c->w, type, channel, p, len,
	    conn_now(c))) != 0 || (r = conn_after_write(c)) != 0) {
		snprintf(reason, sizeof(reason), "cannot write the recording: "
		    "%s", r == BERR_SYS ? strerror(recwriter_errno(c->w)) :
		    berr_str(r));
		recserver_conn_fail(c, reason);
		return;
	}
	/* written (encrypted, in format 2): the clear output to watchers */
	recserver_watch_feed(c, type, p, len);
	ckpt_arm(c);
}

static void
on_close_msg(struct conn *c)
{
	if (c->state != CONN_OPEN) {
		recserver_conn_fail(c, "protocol error: CLOSE before OPEN");
		return;
	}
	/* read nothing more; OK goes out once the seal is synced
	 * (conn_sealed), ERR if it cannot be written or synced
	 * (conn_unsealed) */
	c->state = CONN_SEALING;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_timer_stop(&c->timer);
	conn_seal(c, REC_END_NORMAL, NULL, NULL, "worker closed the session");
}


/* Handle one message; the connection may be closed afterwards. */
static void
conn_dispatch(struct conn *c, int msg, struct buf *body)
{
	switch (msg) {
	case RECPROTO_OPEN:
		on_open(c, body);
		break;
	case RECPROTO_NOTARIZE:
		recserver_on_notarize(c, body);
		break;
	case RECPROTO_WATCH:
		recserver_on_watch(c, body);
		break;
	case RECPROTO_SYNC:
		if (c->state != CONN_OPEN || buf_len(body) != 0)
			recserver_conn_fail(c, "protocol error: bad SYNC");
		else if (send_ok(c) != 0)
			recserver_conn_fail(c, "worker does not read its replies");
		break;
	case RECPROTO_CLOSE:
		on_close_msg(c);
		break;
	default:
		recserver_conn_fail(c, "protocol error: unknown message type");
		break;
	}
}

/* Reads land in the connection's own buffer, after what it holds (the
 * part of a message read before): no bounce buffer, no copy. Pages are
 * touched only as far as reads fill them. */
static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *ub)
{
	struct conn *c = h->data;
	uint8_t *room;
	size_t got;

	(void)suggested;
	if (buf_room(c->in, READ_CHUNK, &room, &got) != 0)
		*ub = uv_buf_init(NULL, 0);	/* UV_ENOBUFS: read_cb */
	else
		*ub = uv_buf_init((char *)room, (unsigned)got);
}

static void
conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *ub)
{
	struct conn *c = s->data;

	(void)ub;
	if (nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		recserver_conn_fail(c, "protocol error: message too long");
		return;
	}
	if (nread < 0) {
		if (c->state == CONN_OPEN) {
			log_warn("session %s: worker disconnected without "
			    "CLOSE", c->sid);
			conn_seal(c, REC_END_ABNORMAL, "worker-disconnected",
			    "the session worker closed its connection without "
			    "CLOSE", "worker disconnected");
		}
		recserver_conn_close(c);
		return;
	}
	buf_wrote(c->in, (size_t)nread);
	conn_drain(c);
}

/* Handle the whole messages read so far, until the connection ends or is
 * paused (conn_after_write); the rest waits in c->in. */
static void
conn_drain(struct conn *c)
{
	struct buf *body;
	const uint8_t *p;
	char reason[128];
	int r;
	size_t max, len;

	while ((c->state == CONN_HELLO || c->state == CONN_OPEN) &&
	    !c->paused) {
		max = c->state == CONN_HELLO ? RECPROTO_HELLO_MAX :
		    RECPROTO_MSG_MAX;
		r = recproto_take_direct(c->in, max, &p, &len);
		if (r == BERR_AGAIN)
			break;
		if (r != 0) {
			snprintf(reason, sizeof(reason), "protocol error: %s",
			    r == BERR_LIMIT ? "message over the size limit" :
			    berr_str(r));
			recserver_conn_fail(c, reason);
			return;
		}
		/* the bulk of the traffic in place; the rest from a copy */
		if (p[0] == RECPROTO_FRAME) {
			on_frame(c, p + 1, len - 1);
			continue;
		}
		if ((body = buf_from(p + 1, len - 1)) == NULL) {
			recserver_conn_fail(c, "out of memory");
			return;
		}
		conn_dispatch(c, p[0], body);
		buf_free(body);
	}
}

/* ---- accepting --------------------------------------------------------- */

static int
uid_allowed(const struct recserver *srv, uid_t uid)
{
	size_t i;

	for (i = 0; i < srv->nallowed; i++)
		if (srv->allowed[i] == uid)
			return (1);
	return (0);
}

void
recserver_on_connection(uv_stream_t *l, int status)
{
	struct recserver *srv = l->data;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct conn *c;
	char reason[128], uidbuf[32], pidbuf[32];
	uv_os_fd_t fd;

	if (status < 0 || srv->stopping)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = buf_new(RECPROTO_MSG_MAX + 4 + READ_CHUNK)) == NULL) {
		free(c);
		log_error("out of memory accepting a connection");
		return;
	}
	c->srv = srv;
	c->id = ++srv->next_id;
	c->state = CONN_HELLO;
	TAILQ_INIT(&c->watchers);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	uv_pipe_init(&srv->loop, &c->pipe, 0);
	uv_timer_init(&srv->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->handles = 2;
	if (uv_accept(l, (uv_stream_t *)&c->pipe) != 0 ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		log_error("cannot accept or identify a peer: %s",
		    strerror(errno));
		c->state = CONN_DONE;
		uv_close((uv_handle_t *)&c->pipe, handle_close_cb);
		uv_close((uv_handle_t *)&c->timer, handle_close_cb);
		return;
	}
	c->pid = cred.pid;
	c->uid = cred.uid;
	if (!uid_allowed(srv, cred.uid)) {
		snprintf(uidbuf, sizeof(uidbuf), "%ld", (long)cred.uid);
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)cred.pid);
		audit_ev(BEV_RECORDING_PEER_REFUSED, "uid", uidbuf, "pid",
		    pidbuf, NULL);
		snprintf(reason, sizeof(reason), "uid %ld is not allowed to "
		    "record (bastion-recorder -u)", (long)cred.uid);
		recserver_conn_fail(c, reason);
		return;
	}
	log_debug("connection %lu from pid %ld uid %ld", c->id,
	    (long)c->pid, (long)c->uid);
	uv_timer_start(&c->timer, hello_timeout_cb, HELLO_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, conn_read_cb);
}

void
recserver_stop(struct recserver *srv, int signum)
{
	struct conn *c, *next;
	char reason[64];

	if (srv->stopping)
		return;
	srv->stopping = 1;
	log_info("signal %d: sealing open recordings and exiting", signum);
	snprintf(reason, sizeof(reason), "recorder stopped (signal %d)",
	    signum);
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CONN_OPEN)
			conn_seal(c, REC_END_ABNORMAL, "recorder-shutdown",
			    "the recorder was stopped; the session ends",
			    reason);
		/* a sealing connection gets its OK once the seal is synced;
		 * the loop runs until every sync is done */
		if (c->state != CONN_DONE && c->state != CONN_SEALING) {
			recserver_send_err(c, "the recorder is shutting down");
			recserver_conn_close(c);
		}
	}
	uv_close((uv_handle_t *)&srv->listener, NULL);
	(void)unlink(srv->sockpath);
}

