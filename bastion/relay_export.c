/*
 * relay_export.c - export approval (issue 18, docs/FILES.md "Export
 * approval"): with files: approve: out, a download does not leave the
 * device as the engineer's client reads it. On the client's OPEN the
 * child reads the whole file from the device itself (the import
 * airlock's channel and requests, relay_airlock_dev.c) into a quarantine
 * file the monitor opened, bounded by max_file_size, hashing it; then it
 * asks the monitor to file a file export request (path, size, SHA-256)
 * and holds the OPEN's answer. The engineer's client waits, as for a
 * session's approval; the relay goes on with everything else.
 *
 * The decision comes as the monitor's late answer MANS_EXPORT (pushed by
 * the store actor when an admin runs file-approve or file-deny, or the
 * timeout): approved, the OPEN gets a handle of the bastion's own and
 * every READ is answered from the quarantine, so the engineer gets
 * exactly the bytes the admin saw hashed, never a second read of the
 * device; denied or expired, the OPEN gets SSH_FX_PERMISSION_DENIED or
 * SSH_FX_FAILURE "export denied: REASON" and nothing of the file leaves.
 *
 * The recording: the OPEN is an INPUT frame when it arrives; EVENTs
 * export.held (path, bytes, sha256), export.requested, export.approved or
 * export.denied; the bastion's answers (HANDLE, DATA, STATUS, ATTRS) are
 * OUTPUT frames after EVENT airlock.answer, as the import airlock's, so
 * bastion-replay --extract-files follows them. The file.transfer record
 * says result=ok with the hash of what left, or result=denied / expired
 * with the reason.
 *
 * Answers to READs are queued here and written as the queue towards the
 * engineer has room (relay_export_pump, called by the SFTP pump): a
 * client keeps up to 64 reads of 32 KiB under way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "privsep.h"
#include "record.h"
#include "relay.h"
#include "relay_airlock_int.h"
#include "relay_sftp_int.h"
#include "sftp.h"
#include "tell.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define EXPORT_FILES		16		/* held or open at once */
#define EXPORT_QUEUE		1024		/* answers waiting for room */
#define EXPORT_CHUNK		(SFTP_MAX_PACKET - 1024) /* bytes in one DATA:
					   what sftp-server allows, so a
					   client never reads short */
#define EXPORT_DEFAULT_MAX	(1ULL << 30)	/* without max_file_size */
#define EXPORT_DENIED		"export denied: "
#define EXPORT_EXPIRED		"export expired: "

enum export_state { EXP_FREE = 0, EXP_HELD, EXP_OPEN };

struct export_file {
	enum export_state state;
	int64_t req;			/* the file export request */
	uint8_t *open;			/* the held OPEN packet (length first) */
	size_t open_len;
	char path[SFTP_MAX_PATH + 1];
	int fd;				/* the quarantine */
	uint64_t size;
	char sha256[65];
	char handle[24];		/* "export-N" */
	size_t hlen;
};

struct export_answer {
	uint8_t type;			/* READ, CLOSE or FSTAT */
	uint8_t file;			/* index into f[] */
	uint32_t id;
	uint64_t off;
	uint32_t len;
};

struct relay_export {
	struct export_file f[EXPORT_FILES];
	struct export_answer q[EXPORT_QUEUE];
	size_t qhead, qn;
	unsigned serial;
};

int
relay_export_start(struct relay_airlock *A)
{
	size_t i;

	if ((A->exports = calloc(1, sizeof(*A->exports))) == NULL)
		return (-1);
	for (i = 0; i < EXPORT_FILES; i++)
		A->exports->f[i].fd = -1;
	return (0);
}

static void
export_drop(struct export_file *xf)
{
	if (xf->fd != -1)
		close(xf->fd);
	free(xf->open);
	memset(xf, 0, sizeof(*xf));
	xf->fd = -1;
}

void
relay_export_end(struct relay_airlock *A)
{
	size_t i;

	if (A == NULL || A->exports == NULL)
		return;
	for (i = 0; i < EXPORT_FILES; i++)
		export_drop(&A->exports->f[i]);
	free(A->exports);
	A->exports = NULL;
}

static struct relay_export *
export_of(struct sess *S)
{
	struct relay_sftp *F = S->R->sftp;

	return (F != NULL && F->airlock != NULL ? F->airlock->exports : NULL);
}

const char *
relay_export_outcome(const char *outcome, const char *reason)
{
	if (strcmp(outcome, "refused") != 0 || reason == NULL)
		return (outcome);
	if (strncmp(reason, EXPORT_DENIED, strlen(EXPORT_DENIED)) == 0)
		return ("denied");
	if (strncmp(reason, EXPORT_EXPIRED, strlen(EXPORT_EXPIRED)) == 0)
		return ("expired");
	return (outcome);
}

/* A download refused before anything was held or asked: recorded as
 * refused, the engineer told, answered with code. 0 or -1. */
static int
export_refuse(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m, uint32_t code, const char *why, int tell)
{
	struct relay_sftp *F = S->R->sftp;

	if (sftp_rec_packet(S, 0, pkt, len, m, code, why) != 0)
		return (-1);
	(void)sftp_track_request(F->track, m, why);
	if (tell)
		sess_tell(S, "%s\n", why);
	return (sftp_answer(F, m->id, code, why));
}

struct export_sink {
	EVP_MD_CTX *md;
	int fd;
};

static int
export_sink(void *arg, uint64_t off, const uint8_t *p, size_t n)
{
	struct export_sink *k = arg;
	ssize_t w;

	do
		w = pwrite(k->fd, p, n, (off_t)off);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n)
		return (-1);
	EVP_DigestUpdate(k->md, p, n);
	return (0);
}

/* Read xf->path from the device into its quarantine, hash it. 0; or the
 * STATUS code to refuse with and why. */
static uint32_t
export_hold(struct sess *S, struct export_file *xf, char *why, size_t whylen)
{
	const struct policy_files *pf = relay_sftp_policy(S);
	uint64_t lim = pf->max_file_size > 0 ? pf->max_file_size :
	    EXPORT_DEFAULT_MAX, sent = sftp_track_bytes(S->R->sftp->track);
	struct export_sink k = { NULL, -1 };
	char qwhy[600], fwhy[600];
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	uint32_t status = SSH_FX_FAILURE;
	int r;

	if ((xf->fd = mm_airlock(AIRLOCK_QUARANTINE, qwhy, sizeof(qwhy))) ==
	    -1) {
		relay_fmt(why, whylen, "bastion: the download of %s is "
		    "refused: it cannot be held for approval (%s)", xf->path,
		    qwhy);
		return (SSH_FX_FAILURE);
	}
	if ((k.md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(k.md,
	    EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(k.md);
		relay_fmt(why, whylen, "bastion: out of memory");
		return (SSH_FX_FAILURE);
	}
	k.fd = xf->fd;
	r = relay_airlock_fetch(S, xf->path, lim, export_sink, &k, &xf->size,
	    &status, fwhy, sizeof(fwhy));
	EVP_DigestFinal_ex(k.md, d, &dl);
	EVP_MD_CTX_free(k.md);
	if (r == 1) {
		relay_fmt(why, whylen, "bastion: %s is larger than the limit "
		    "of %llu bytes for one file; the download is refused (no "
		    "export request was filed)", xf->path,
		    (unsigned long long)lim);
		return (SSH_FX_FAILURE);
	}
	if (r == 0 && pf->max_session_bytes > 0 && xf->size >
	    pf->max_session_bytes - (sent < pf->max_session_bytes ? sent :
	    pf->max_session_bytes)) {
		relay_fmt(why, whylen, "bastion: %s would take this session "
		    "past its limit of %llu bytes; the download is refused (no "
		    "export request was filed)", xf->path,
		    (unsigned long long)pf->max_session_bytes);
		return (SSH_FX_FAILURE);
	}
	if (r != 0) {
		relay_fmt(why, whylen, "bastion: %s cannot be held for export "
		    "approval: %s", xf->path, fwhy);
		return (status == SSH_FX_OK || status == SSH_FX_EOF ?
		    SSH_FX_FAILURE : status);
	}
	hex_encode(d, dl > 32 ? 32 : dl, xf->sha256);
	return (SSH_FX_OK);
}

/* The engineer's download OPEN: read, hash, file the request, hold. */
static int
export_open(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m)
{
	struct relay_export *X = export_of(S);
	struct export_file *xf = NULL;
	char why[SFTP_MAX_PATH + 800], mwhy[600], esc[SFTP_MAX_PATH * 4 + 8];
	char text[SFTP_MAX_PATH * 4 + 300];
	unsigned timeout_s = 0;
	uint32_t code;
	size_t i;

	for (i = 0; i < EXPORT_FILES; i++)
		if (X->f[i].state == EXP_FREE) {
			xf = &X->f[i];
			break;
		}
	if (xf == NULL) {
		relay_fmt(why, sizeof(why), "bastion: more than %d downloads "
		    "held for approval at once; wait for those first",
		    EXPORT_FILES);
		return (export_refuse(S, pkt, len, m, SSH_FX_FAILURE, why, 1));
	}
	memcpy(xf->path, m->path, m->path_len);	/* <= SFTP_MAX_PATH */
	xf->path[m->path_len] = '\0';
	if ((code = export_hold(S, xf, why, sizeof(why))) != SSH_FX_OK) {
		export_drop(xf);
		return (export_refuse(S, pkt, len, m, code, why, 1));
	}
	log_escape(esc, sizeof(esc), xf->path);
	relay_fmt(text, sizeof(text), "path=%s bytes=%llu sha256=%s", esc,
	    (unsigned long long)xf->size, xf->sha256);
	if (sess_rec_event(S, "export.held", text) != 0) {
		export_drop(xf);
		return (-1);
	}
	if (mm_export_request(xf->path, xf->size, xf->sha256, &xf->req,
	    &timeout_s, mwhy, sizeof(mwhy)) != 0) {
		relay_fmt(why, sizeof(why), "bastion: the download of %s is "
		    "refused: %s", xf->path, mwhy);
		export_drop(xf);
		return (export_refuse(S, pkt, len, m, SSH_FX_FAILURE, why, 1));
	}
	relay_fmt(text, sizeof(text), "request=%lld path=%s",
	    (long long)xf->req, esc);
	if (sftp_rec_packet(S, 0, pkt, len, m, 0, NULL) != 0 ||
	    sess_rec_event(S, "export.requested", text) != 0 ||
	    (xf->open = malloc(len)) == NULL) {
		export_drop(xf);
		return (-1);
	}
	memcpy(xf->open, pkt, len);
	xf->open_len = len;
	xf->state = EXP_HELD;
	sess_tell(S, "bastion: the download of %s (%llu bytes, SHA-256 %s) "
	    "waits for an admin's approval: file request %lld (up to %u s)\n",
	    xf->path, (unsigned long long)xf->size, xf->sha256,
	    (long long)xf->req, timeout_s);
	return (0);
}

int
relay_export_waiting(struct sess *S)
{
	struct relay_export *X = export_of(S);
	size_t i;

	for (i = 0; X != NULL && i < EXPORT_FILES; i++)
		if (X->f[i].state == EXP_HELD)
			return (1);
	return (0);
}

void
relay_export_decided(struct sess *S, int64_t id, int status, const char *by,
    const char *text)
{
	struct relay_export *X = export_of(S);
	struct relay_sftp *F = S->R->sftp;
	struct export_file *xf = NULL;
	struct buf *copy = NULL, *b = NULL;
	struct sftp_msg m;
	char why[700], pwhy[256], ev[800];
	uint32_t code = SSH_FX_FAILURE;
	size_t i;
	int r = -1;

	for (i = 0; X != NULL && i < EXPORT_FILES; i++)
		if (X->f[i].state == EXP_HELD && X->f[i].req == id)
			xf = &X->f[i];
	if (xf == NULL) {
		log_warn("session %s: a decision on file request %lld, which "
		    "this session does not hold; ignored", S->sid,
		    (long long)id);
		return;
	}
	if ((copy = buf_new(xf->open_len)) == NULL || buf_put(copy,
	    xf->open + 4, xf->open_len - 4) != 0 || sftp_parse(0, copy, &m,
	    pwhy, sizeof(pwhy)) != 0)
		goto out;
	if (status == MM_EXP_APPROVED) {
		relay_fmt(ev, sizeof(ev), "request=%lld by=%s", (long long)id,
		    by);
		if (sess_rec_event(S, "export.approved", ev) != 0)
			goto out;
		if (sftp_track_request(F->track, &m, NULL) != 0) {
			r = sftp_answer(F, m.id, SSH_FX_FAILURE, "bastion: too "
			    "many requests or open files at once");
			export_drop(xf);
			goto out;
		}
		xf->hlen = (size_t)snprintf(xf->handle, sizeof(xf->handle),
		    "export-%u", ++X->serial);
		if ((b = buf_new(64)) == NULL || buf_put_u8(b,
		    SSH_FXP_HANDLE) != 0 || buf_put_u32(b, m.id) != 0 ||
		    buf_put_string(b, xf->handle, xf->hlen) != 0)
			goto out;
		xf->state = EXP_OPEN;
		free(xf->open);
		xf->open = NULL;
		sess_tell(S, "bastion: file request %lld approved by %s: %s "
		    "follows (%llu bytes, as held)\n", (long long)id, by,
		    xf->path, (unsigned long long)xf->size);
		r = relay_airlock_answer(S, b);
		goto out;
	}
	if (status == MM_EXP_DENIED) {
		code = SSH_FX_PERMISSION_DENIED;
		relay_fmt(why, sizeof(why), EXPORT_DENIED "%s (file request "
		    "%lld, by %s)", text[0] != '\0' ? text : "no reason given",
		    (long long)id, by);
	} else if (status == MM_EXP_EXPIRED)
		relay_fmt(why, sizeof(why), EXPORT_EXPIRED "no admin decided "
		    "file request %lld in time", (long long)id);
	else
		relay_fmt(why, sizeof(why), "export refused: file request "
		    "%lld is %s", (long long)id, text);
	relay_fmt(ev, sizeof(ev), "request=%lld reason=%s", (long long)id,
	    why);
	if (sess_rec_event(S, "export.denied", ev) != 0)
		goto out;
	(void)sftp_track_request(F->track, &m, why);
	sess_tell(S, "bastion: %s\n", why);
	export_drop(xf);
	r = relay_airlock_status(S, m.id, code, why);
out:
	buf_free(copy);
	buf_free(b);
	if (r != 0) {
		log_error("session %s: file request %lld: the answer failed",
		    S->sid, (long long)id);
		if (xf->state != EXP_FREE)
			export_drop(xf);
		relay_end(S, "recording failed");
	}
}

/* One queued answer, from the quarantine. 0 or -1. */
static int
export_answer_one(struct sess *S, struct relay_export *X,
    const struct export_answer *a)
{
	struct export_file *xf = &X->f[a->file];
	struct buf *b = NULL;
	uint8_t *data = NULL;
	size_t n;
	ssize_t got;
	int r = -1;

	if (xf->state != EXP_OPEN)	/* closed meanwhile */
		return (relay_airlock_status(S, a->id, SSH_FX_FAILURE,
		    "bastion: the file is closed"));
	if (a->type == SSH_FXP_CLOSE) {
		export_drop(xf);
		return (relay_airlock_status(S, a->id, SSH_FX_OK, "Success"));
	}
	if ((b = buf_new(EXPORT_CHUNK + 64)) == NULL)
		return (-1);
	if (a->type == SSH_FXP_FSTAT) {
		if (buf_put_u8(b, SSH_FXP_ATTRS) == 0 && buf_put_u32(b,
		    a->id) == 0 && buf_put_u32(b, 1) == 0 &&	/* SIZE */
		    buf_put_u64(b, xf->size) == 0)
			r = relay_airlock_answer(S, b);
		buf_free(b);
		return (r);
	}
	if (a->off >= xf->size) {
		buf_free(b);
		return (relay_airlock_status(S, a->id, SSH_FX_EOF,
		    "End of file"));
	}
	n = a->len > EXPORT_CHUNK ? EXPORT_CHUNK : a->len;
	if (n > xf->size - a->off)
		n = (size_t)(xf->size - a->off);
	if ((data = malloc(n > 0 ? n : 1)) == NULL)
		goto out;
	got = pread(xf->fd, data, n, (off_t)a->off);
	if (got != (ssize_t)n) {
		r = relay_airlock_status(S, a->id, SSH_FX_FAILURE, "bastion: "
		    "the quarantined file cannot be read");
		goto out;
	}
	if (buf_put_u8(b, SSH_FXP_DATA) == 0 && buf_put_u32(b, a->id) == 0 &&
	    buf_put_string(b, data, n) == 0)
		r = relay_airlock_answer(S, b);
out:
	free(data);
	buf_free(b);
	return (r);
}

int
relay_export_pump(struct sess *S)
{
	struct relay_export *X = export_of(S);
	struct relay_sftp *F = S->R->sftp;
	struct export_answer a;

	while (X != NULL && X->qn > 0 && F->to_vendor.n - F->to_vendor.off <=
	    SFTP_Q_SOFT) {
		a = X->q[X->qhead];
		X->qhead = (X->qhead + 1) % EXPORT_QUEUE;
		X->qn--;
		if (export_answer_one(S, X, &a) != 0)
			return (-1);
	}
	return (0);
}

/* A request on the handle of an approved export: READ, CLOSE and FSTAT
 * queued for an answer from the quarantine, anything else refused. */
static int
export_handle(struct sess *S, struct relay_export *X, size_t i,
    const uint8_t *pkt, size_t len, const struct sftp_msg *m)
{
	struct relay_sftp *F = S->R->sftp;
	struct export_answer *a;
	char why[200];

	if (m->type != SSH_FXP_READ && m->type != SSH_FXP_CLOSE &&
	    m->type != SSH_FXP_FSTAT) {
		relay_fmt(why, sizeof(why), "bastion: %s is not possible on a "
		    "file released by export approval", sftp_type_name(
		    m->type));
		return (export_refuse(S, pkt, len, m, SSH_FX_OP_UNSUPPORTED,
		    why, 0));
	}
	if (sftp_track_id_busy(F->track, m->id)) {
		relay_fmt(why, sizeof(why), "bastion: request id %u is "
		    "already under way", m->id);
		return (export_refuse(S, pkt, len, m, SSH_FX_FAILURE, why, 0));
	}
	if (sftp_rec_packet(S, 0, pkt, len, m, 0, NULL) != 0)
		return (-1);
	if (X->qn == EXPORT_QUEUE || sftp_track_request(F->track, m,
	    NULL) != 0)
		return (sftp_answer(F, m->id, SSH_FX_FAILURE, "bastion: too "
		    "many requests at once"));
	a = &X->q[(X->qhead + X->qn++) % EXPORT_QUEUE];
	a->type = m->type;
	a->file = (uint8_t)i;
	a->id = m->id;
	a->off = m->offset;
	a->len = m->type == SSH_FXP_READ ? (uint32_t)m->length : 0;
	return (relay_export_pump(S));
}

int
relay_export_request(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m)
{
	struct relay_export *X = export_of(S);
	size_t i;

	if (m->type == SSH_FXP_OPEN) {
		if ((m->pflags & (SSH_FXF_WRITE | SSH_FXF_APPEND |
		    SSH_FXF_CREAT | SSH_FXF_TRUNC)) ||
		    !(m->pflags & SSH_FXF_READ) ||
		    !(relay_sftp_policy(S)->directions & POLICY_FILES_OUT))
			return (0);	/* an upload, or refused anyway */
		return (export_open(S, pkt, len, m) != 0 ? -1 : 1);
	}
	if (m->handle_len == 0)
		return (0);
	for (i = 0; i < EXPORT_FILES; i++)
		if (X->f[i].state == EXP_OPEN && X->f[i].hlen ==
		    m->handle_len && memcmp(X->f[i].handle, m->handle,
		    m->handle_len) == 0)
			return (export_handle(S, X, i, pkt, len, m) != 0 ?
			    -1 : 1);
	return (0);
}
