/*
 * relay_sftp.c - the airlock on an sftp subsystem channel (issue 18,
 * docs/FILES.md): instead of relaying opaque bytes, the child reassembles
 * the SFTP packets of both directions (proto/sftp.h), checks each against
 * the codec and the vendor's or device's files: policy, and forwards,
 * refuses or answers it.
 *
 * What the recording holds, so that bastion-replay --extract-files can
 * run the same tracker over it: one INPUT frame per packet the engineer
 * sent and one OUTPUT frame per packet the device sent, each recorded
 * before it goes on; a packet the bastion does not forward is preceded by
 * an EVENT "sftp.refused" naming its direction and id; the bastion's own
 * answers and its REMOVE of a refused upload are EVENT frames too. Every
 * finished file is an EVENT "file.transfer" and the audit event of the
 * same name.
 *
 * A malformed packet from either side ends this channel (an error on the
 * engineer's stderr, exit status 1, audited), nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "burst.h"
#include "err.h"
#include "log.h"
#include "record.h"
#include "relay.h"
#include "relay_sftp_int.h"
#include "sftp.h"
#include "touch.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

int
sftp_q_push(struct sftp_q *q, const uint8_t *p, size_t n)
{
	if (q->off > 0 && q->off == q->n)
		q->off = q->n = 0;
	if (q->n + n > SFTP_Q_MAX) {
		if (q->off == 0)
			return (BERR_LIMIT);
		memmove(q->d, q->d + q->off, q->n - q->off);
		q->n -= q->off;
		q->off = 0;
		if (q->n + n > SFTP_Q_MAX)
			return (BERR_LIMIT);
	}
	if (q->d == NULL && (q->d = malloc(SFTP_Q_MAX)) == NULL)
		return (BERR_NOMEM);
	memcpy(q->d + q->n, p, n);
	q->n += n;
	return (0);
}

/* Write what the window takes: bytes written, or -1 on a channel error. */
ssize_t
sftp_q_flush(ssh_channel dst, struct sftp_q *q)
{
	size_t before = q->n - q->off;

	while (q->off < q->n) {
		uint32_t win = ssh_channel_window_size(dst);
		uint32_t n = (uint32_t)(q->n - q->off);
		int w;

		if (!ssh_channel_is_open(dst))
			return (-1);
		if (win == 0)
			break;
		if (n > win)
			n = win;
		if ((w = ssh_channel_write(dst, q->d + q->off, n)) < 0)
			return (-1);
		if (w == 0)
			break;
		q->off += (size_t)w;
	}
	if (q->off == q->n)
		q->off = q->n = 0;
	return ((ssize_t)(before - (q->n - q->off)));
}

ssize_t
sftp_q_flush_both(struct sess *S)
{
	struct relay_sftp *F = S->R->sftp;
	ssize_t a, b;

	if ((a = sftp_q_flush(S->dch, &F->to_dev)) < 0 && !F->closed)
		return (-1);
	if ((b = sftp_q_flush(S->vch, &F->to_vendor)) < 0 && !F->closed)
		return (-1);
	return ((a > 0 ? a : 0) + (b > 0 ? b : 0));
}

static size_t
sftp_q_len(const struct sftp_q *q)
{
	return (q->n - q->off);
}

/* A file finished: the recording's EVENT and the audit event. */
void
sftp_record_cb(void *arg, const struct sftp_record *r)
{
	struct sess *S = arg;
	char text[SFTP_MAX_PATH * 4 + 512], path[SFTP_MAX_PATH * 4 + 8];
	char reason[600], file[16], bytes[24], size[24];
	const char *outcome = relay_export_outcome(r->outcome, r->reason);

	(void)burst_take(&S->R->sftp->recs, relay_now(S->R),
	    MON_AUDIT_WINDOW, SFTP_RECORDS_BURST);

	log_escape(path, sizeof(path), r->path);
	log_escape(reason, sizeof(reason), r->reason[0] != '\0' ? r->reason :
	    "-");
	snprintf(file, sizeof(file), "%u", r->serial);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)r->bytes);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)r->size);
	relay_fmt(text, sizeof(text), "file=%s direction=%s path=%s bytes=%s "
	    "size=%s sha256=%s sequential=%s result=%s reason=%s", file,
	    r->dir == SFTP_DIR_IN ? "in" : "out", path, bytes, size,
	    r->sha256, r->sequential ? "yes" : "no", outcome, reason);
	if (S->rec != NULL && !S->rec_failed)
		(void)sess_rec_event(S, "file.transfer", text);
	audit_ev(BEV_FILE_TRANSFER, "session", S->sid, "user",
	    S->au.who->name, "vendor", S->au.who->vendor->name, "device",
	    S->dev != NULL ? S->dev->name : NULL, "file", file, "direction",
	    r->dir == SFTP_DIR_IN ? "in" : "out", "path", r->path, "bytes",
	    bytes, "size", size, "sha256", r->sha256, "sequential",
	    r->sequential ? "yes" : "no", "result", outcome, "reason",
	    r->reason[0] != '\0' ? r->reason : NULL, NULL);
}

static const struct policy_files relay_sftp_open_policy = {
	.directions = POLICY_FILES_IN | POLICY_FILES_OUT,
};

const struct policy_files *
relay_sftp_policy(const struct sess *S)
{
	return (S->dev != NULL && S->dev->files.set ? &S->dev->files :
	    &relay_sftp_open_policy);
}

int
relay_sftp_start(struct sess *S)
{
	struct relay_sftp *F;

	if ((F = calloc(1, sizeof(*F))) == NULL)
		return (-1);
	if ((F->track = sftp_track_new(sftp_record_cb, NULL, S)) == NULL) {
		free(F);
		return (-1);
	}
	F->next_own = 0xb5000000u;
	S->R->sftp = F;
	if ((relay_sftp_policy(S)->scan || relay_sftp_policy(S)->approve_out) &&
	    relay_airlock_start(S) != 0) {
		relay_sftp_end(S);
		return (-1);
	}
	return (0);
}

void
relay_sftp_end(struct sess *S)
{
	struct relay_sftp *F = S->R->sftp;

	if (F == NULL)
		return;
	relay_scp_end(S);		/* scp -O: relay_scp.c */
	relay_airlock_end(S);		/* quarantined bytes vanish */
	sftp_track_free(F->track);	/* open files: "incomplete" */
	sftp_reasm_clear(&F->from_v);
	sftp_reasm_clear(&F->from_d);
	free(F->to_dev.d);
	free(F->to_vendor.d);
	free(F);
	S->R->sftp = NULL;
}

int
relay_sftp_idle(const struct sess *S, int to_device)
{
	const struct relay_sftp *F = S->R->sftp;

	if (F == NULL)
		return (1);
	return (sftp_q_len(to_device ? &F->to_dev : &F->to_vendor) == 0 &&
	    relay_scp_idle(S, to_device));
}

/* Pure: what the files: policy pf says of request m (fi: the file its
 * handle names, if any; sent: file bytes of the session so far). */
int
relay_sftp_decide(const struct policy_files *pf, const struct sftp_msg *m,
    const struct sftp_file_info *fi, uint64_t sent, uint32_t *code,
    char *why, size_t whylen, int *remove)
{
	int in = (pf->directions & POLICY_FILES_IN) != 0;
	int out = (pf->directions & POLICY_FILES_OUT) != 0;

	*remove = 0;
	*code = SSH_FX_PERMISSION_DENIED;
	switch (m->type) {
	case SSH_FXP_OPEN:
		if ((m->pflags & (SSH_FXF_WRITE | SSH_FXF_APPEND |
		    SSH_FXF_CREAT | SSH_FXF_TRUNC)) && !in) {
			relay_fmt(why, whylen, "bastion: files may not be "
			    "copied to this device (policy: files: "
			    "directions)");
			return (1);
		}
		if ((m->pflags & SSH_FXF_READ) && !out) {
			relay_fmt(why, whylen, "bastion: files may not be "
			    "copied from this device (policy: files: "
			    "directions)");
			return (1);
		}
		return (0);
	case SSH_FXP_READ:
	case SSH_FXP_WRITE:
		*code = SSH_FX_FAILURE;
		if (fi == NULL) {
			relay_fmt(why, whylen, "bastion: %s on a handle the "
			    "bastion does not know", sftp_type_name(m->type));
			return (1);
		}
		if (fi->refused) {
			relay_fmt(why, whylen, "bastion: the transfer of %s "
			    "was refused", fi->path);
			return (1);
		}
		if (m->type == SSH_FXP_READ)
			return (0);
		if (pf->max_file_size > 0 && (m->offset > pf->max_file_size ||
		    m->data_len > pf->max_file_size - m->offset)) {
			relay_fmt(why, whylen, "bastion: %s is larger than "
			    "the limit of %llu bytes for one file; the upload "
			    "is refused and the partial file removed", fi->path,
			    (unsigned long long)pf->max_file_size);
			*remove = 1;
			return (1);
		}
		if (pf->max_session_bytes > 0 && m->data_len >
		    pf->max_session_bytes - (sent < pf->max_session_bytes ?
		    sent : pf->max_session_bytes)) {
			relay_fmt(why, whylen, "bastion: this session has "
			    "moved its limit of %llu bytes; the upload of %s is "
			    "refused and the partial file removed",
			    (unsigned long long)pf->max_session_bytes, fi->path);
			*remove = 1;
			return (1);
		}
		return (0);
	case SSH_FXP_SETSTAT:
	case SSH_FXP_FSETSTAT:
	case SSH_FXP_REMOVE:
	case SSH_FXP_MKDIR:
	case SSH_FXP_RMDIR:
	case SSH_FXP_RENAME:
	case SSH_FXP_SYMLINK:
		if (!in) {
			relay_fmt(why, whylen, "bastion: %s changes the device, "
			    "and files may not be copied to it (policy: files: "
			    "directions)", sftp_type_name(m->type));
			return (1);
		}
		return (0);
	case SSH_FXP_EXTENDED:
		if (m->ext_id == SFTP_EXT_UNKNOWN) {
			*code = SSH_FX_OP_UNSUPPORTED;
			relay_fmt(why, whylen, "bastion: the extension %.*s is "
			    "not supported through the bastion",
			    (int)(m->ext_len > 64 ? 64 : m->ext_len),
			    (const char *)m->ext);
			return (1);
		}
		if (!in && (m->ext_id == SFTP_EXT_POSIX_RENAME ||
		    m->ext_id == SFTP_EXT_HARDLINK ||
		    m->ext_id == SFTP_EXT_LSETSTAT ||
		    m->ext_id == SFTP_EXT_COPY_DATA)) {
			relay_fmt(why, whylen, "bastion: %.*s changes the "
			    "device, and files may not be copied to it (policy: "
			    "files: directions)", (int)m->ext_len,
			    (const char *)m->ext);
			return (1);
		}
		return (0);
	default:
		return (0);
	}
}

/* The channel ends: a malformed packet (from_device: the device's). */
void
sftp_malformed(struct sess *S, int from_device, const char *why)
{
	struct relay *R = S->R;
	struct relay_sftp *F = R->sftp;
	char text[512];

	if (F->closed)
		return;
	F->closed = 1;
	relay_fmt(text, sizeof(text), "%s: %s", from_device ? "from the "
	    "device" : "from the client", why);
	(void)sess_rec_event(S, "sftp.malformed", text);
	audit_ev(BEV_SFTP_MALFORMED, "session", S->sid, "user",
	    S->au.who->name, "device", S->dev != NULL ? S->dev->name : NULL,
	    "from", S->peerstr, "reason", text, NULL);
	sess_tell(S, "bastion: sftp: a malformed packet %s (%s); this "
	    "transfer channel is closed\n", from_device ? "from the device" :
	    "from your client", why);
	relay_fmt(text, sizeof(text), "malformed sftp packet %s", from_device ?
	    "from the device" : "from the client");
	sftp_close_channel(S, text);
}

void
sftp_close_channel(struct sess *S, const char *end_reason)
{
	struct relay *R = S->R;

	R->sftp->closed = 1;
	if (!R->got_exit_status && !R->got_exit_signal) {
		R->got_exit_status = 1;
		R->exit_status = 1;
	}
	relay_fmt(R->end_reason, sizeof(R->end_reason), "%s", end_reason);
	if (S->dch != NULL && ssh_channel_is_open(S->dch))
		ssh_channel_close(S->dch);
	relay_finish_vendor(S);
}

/* Record one packet (preceded by its refusal, if refused). 0 or -1. */
int
sftp_rec_packet(struct sess *S, int from_device, const uint8_t *pkt,
    size_t len, const struct sftp_msg *m, uint32_t code, const char *why)
{
	char text[1024], esc[700];

	if (S->rec == NULL)
		return (0);
	if (why != NULL) {
		log_escape(esc, sizeof(esc), why);
		relay_fmt(text, sizeof(text), "dir=%s id=%u type=%s code=%u "
		    "reason=%s", from_device ? "out" : "in", m->id,
		    sftp_type_name(m->type), code, esc);
		if (sess_rec_event(S, "sftp.refused", text) != 0)
			return (-1);
	}
	return (sess_rec_check(S, rec_client_frame(S->rec, from_device ?
	    REC_OUTPUT : REC_INPUT, 0, pkt, len)));
}

/* Queue a packet built by build (a STATUS or a REMOVE of ours). */
static int
sftp_q_built(struct sftp_q *q, struct buf *b, int built)
{
	int r = built == 0 ? sftp_q_push(q, buf_ptr(b), buf_len(b)) : built;

	buf_free(b);
	return (r == 0 ? 0 : -1);
}

/* Answer request id with a STATUS of our own. 0 or -1. */
int
sftp_answer(struct relay_sftp *F, uint32_t id, uint32_t code,
    const char *msg)
{
	struct buf *b = buf_new(SFTP_MAX_PATH + 64);

	if (b == NULL)
		return (-1);
	return (sftp_q_built(&F->to_vendor, b, sftp_build_status(b, id, code,
	    msg)));
}

/* Remove the partial file of a refused upload from the device. */
int
sftp_remove(struct sess *S, const char *path)
{
	struct relay_sftp *F = S->R->sftp;
	struct buf *b;
	uint32_t id;

	if (F->nown == SFTP_OWN_MAX) {
		log_info("session %s: %s not removed: too many removals under "
		    "way", S->sid, path);
		return (0);
	}
	do
		id = F->next_own++;
	while (sftp_track_id_busy(F->track, id));
	if (sess_rec_event(S, "sftp.remove", path) != 0 ||
	    (b = buf_new(SFTP_MAX_PATH + 32)) == NULL ||
	    sftp_q_built(&F->to_dev, b, sftp_build_remove(b, id, path)) != 0)
		return (-1);
	F->own[F->nown++] = id;
	return (0);
}

/* One whole packet from the engineer. 0 or -1 (recording failed). */
static int
sftp_from_vendor(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *mp)
{
	struct relay_sftp *F = S->R->sftp;
	struct sftp_file_info fi, *fip = NULL;
	struct sftp_msg m = *mp;
	char why[SFTP_MAX_PATH + 300], path[SFTP_MAX_PATH + 1];
	uint32_t code = 0;
	int refuse = 0, remove = 0, first = 0;

	if (F->airlock != NULL && (refuse = relay_airlock_request(S, pkt,
	    len, &m)) != 0)
		return (refuse < 0 ? -1 : 0);
	if ((m.type == SSH_FXP_READ || m.type == SSH_FXP_WRITE) &&
	    sftp_track_file(F->track, m.handle, m.handle_len, &fi) == 0)
		fip = &fi;
	if (m.type != SSH_FXP_INIT)
		refuse = relay_sftp_decide(relay_sftp_policy(S), &m, fip,
		    sftp_track_bytes(F->track), &code, why, sizeof(why),
		    &remove);
	if (!refuse && m.type != SSH_FXP_INIT && sftp_track_id_busy(F->track,
	    m.id)) {
		refuse = 1;
		code = SSH_FX_FAILURE;
		relay_fmt(why, sizeof(why), "bastion: request id %u is "
		    "already under way", m.id);
	}
	if (refuse) {
		first = fip == NULL || !fip->refused;
		if (m.path_len > 0)	/* <= SFTP_MAX_PATH */
			memcpy(path, m.path, m.path_len);
		path[m.path_len] = '\0';
		if (sftp_rec_packet(S, 0, pkt, len, &m, code, why) != 0)
			return (-1);
		(void)sftp_track_request(F->track, &m, why);
		if (first) {
			sess_tell(S, "%s\n", why);
			if (F->refusals++ < SFTP_AUDIT_REFUSALS)
				audit_ev(BEV_SFTP_REFUSED, "session", S->sid,
				    "user", S->au.who->name, "device",
				    S->dev != NULL ? S->dev->name : NULL,
				    "kind", sftp_type_name(m.type), "path",
				    fip != NULL ? fip->path : path, "reason", why,
				    NULL);
		}
		if (remove && first && fip != NULL &&
		    sftp_remove(S, fip->path) != 0)
			return (-1);
		return (sftp_answer(F, m.id, code, why));
	}
	if (sftp_rec_packet(S, 0, pkt, len, &m, 0, NULL) != 0)
		return (-1);
	if (sftp_track_request(F->track, &m, NULL) != 0) {
		/* too many under way: the tracker kept nothing of it */
		relay_fmt(why, sizeof(why), "bastion: too many requests or "
		    "open files at once");
		return (sftp_answer(F, m.id, SSH_FX_FAILURE, why));
	}
	return (sftp_q_push(&F->to_dev, pkt, len) == 0 ? 0 : -1);
}

/* One whole packet from the device. 0 or -1. */
int
sftp_from_device(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *mp)
{
	struct relay_sftp *F = S->R->sftp;
	const struct policy_files *pf = relay_sftp_policy(S);
	struct sftp_pending_info pi;
	struct sftp_msg m = *mp;
	char why[SFTP_MAX_PATH + 300];
	size_t i;
	uint64_t sent;

	for (i = 0; m.type != SSH_FXP_VERSION && i < F->nown; i++)
		if (F->own[i] == m.id) {	/* our REMOVE's answer */
			F->own[i] = F->own[--F->nown];
			relay_fmt(why, sizeof(why), "status %u", m.status);
			if (sftp_rec_packet(S, 1, pkt, len, &m, 0, NULL) != 0 ||
			    sess_rec_event(S, "sftp.removed", why) != 0)
				return (-1);
			return (0);
		}
	/* a download over a limit: the DATA does not go on */
	sent = sftp_track_bytes(F->track);
	if (m.type == SSH_FXP_DATA && sftp_track_pending(F->track, m.id,
	    &pi) == 0 && pi.type == SSH_FXP_READ && ((pf->max_file_size > 0 &&
	    (pi.offset > pf->max_file_size || m.data_len >
	    pf->max_file_size - pi.offset)) || (pf->max_session_bytes > 0 &&
	    sent + m.data_len > pf->max_session_bytes))) {
		relay_fmt(why, sizeof(why), "bastion: %s is over the limit "
		    "of %llu bytes %s; the download is refused", pi.path,
		    (unsigned long long)(pf->max_file_size > 0 &&
		    m.data_len + pi.offset > pf->max_file_size ?
		    pf->max_file_size : pf->max_session_bytes),
		    pf->max_file_size > 0 && m.data_len + pi.offset >
		    pf->max_file_size ? "for one file" : "for the session");
		if (sftp_rec_packet(S, 1, pkt, len, &m, SSH_FX_FAILURE,
		    why) != 0)
			return (-1);
		if (!pi.refused)
			sess_tell(S, "%s\n", why);
		(void)sftp_track_reply(F->track, &m, why);
		return (sftp_answer(F, m.id, SSH_FX_FAILURE, why));
	}
	if (sftp_rec_packet(S, 1, pkt, len, &m, 0, NULL) != 0)
		return (-1);
	(void)sftp_track_reply(F->track, &m, NULL);
	return (sftp_q_push(&F->to_vendor, pkt, len) == 0 ? 0 : -1);
}

/* Bytes read from one side, through the reassembler. 0 or -1. */
static int
sftp_feed(struct sess *S, int from_device, const uint8_t *p, size_t n)
{
	struct relay_sftp *F = S->R->sftp;
	struct sftp_reasm *ra = from_device ? &F->from_d : &F->from_v;
	struct sftp_msg m;
	const uint8_t *pkt;
	char why[256];
	size_t len;
	int r;

	if ((r = sftp_reasm_put(ra, p, n)) != 0) {
		sftp_malformed(S, from_device, berr_str(r));
		return (0);
	}
	while (!F->closed) {
		r = sftp_reasm_next(ra, from_device, &pkt, &len, &m, why,
		    sizeof(why));
		if (r == 0)
			break;
		if (r < 0) {
			/* the bad packet itself, when whole, is recorded */
			if (pkt != NULL && S->rec != NULL &&
			    sess_rec_check(S, rec_client_frame(S->rec,
			    from_device ? REC_OUTPUT : REC_INPUT, 0, pkt,
			    len)) != 0)
				return (-1);
			sftp_malformed(S, from_device, why);
			break;
		}
		if ((from_device ? sftp_from_device(S, pkt, len, &m) :
		    sftp_from_vendor(S, pkt, len, &m)) != 0)
			return (-1);
	}
	return (0);
}

/* So many files were recorded in this window that the engineer's next
 * requests wait for the next (the 1 s timer pumps again). */
int
sftp_records_full(struct sess *S)
{
	const struct burst *b = &S->R->sftp->recs;

	return (b->count >= SFTP_RECORDS_BURST &&
	    relay_now(S->R) - b->window < MON_AUDIT_WINDOW);
}

/* One direction: queues written, packets read, checked and queued.
 * Bytes read (*moved) and written (the return), or -1. */
static ssize_t
sftp_pump(struct sess *S, int from_device, ssize_t *moved)
{
	struct relay_sftp *F = S->R->sftp;
	ssh_channel src = from_device ? S->dch : S->vch;
	uint8_t buf[32768];
	ssize_t wrote = 0, w;
	int r;

	*moved = 0;
	for (;;) {
		if ((w = sftp_q_flush_both(S)) < 0)
			return (-1);
		wrote += w;
		/* answers of an approved export, as room allows */
		if (F->airlock != NULL && relay_export_pump(S) != 0)
			return (-1);
		if (F->closed || sftp_q_len(&F->to_dev) > SFTP_Q_SOFT ||
		    sftp_q_len(&F->to_vendor) > SFTP_Q_SOFT ||
		    (!from_device && sftp_records_full(S)))
			return (wrote);
		r = ssh_channel_read_nonblocking(src, buf, sizeof(buf), 0);
		if (r == SSH_EOF || r == 0)
			return (wrote);
		if (r < 0)
			return (-1);
		*moved += r;
		if (sftp_feed(S, from_device, buf, (size_t)r) != 0)
			return (-1);
	}
}

/* Bytes wait in a channel's buffer that its pump would read now. */
static int
sftp_buffered(struct sess *S)
{
	struct relay_sftp *F = S->R->sftp;

	if (F->closed || sftp_q_len(&F->to_dev) > SFTP_Q_SOFT ||
	    sftp_q_len(&F->to_vendor) > SFTP_Q_SOFT)
		return (0);
	/* polling an empty channel handles packets of both sessions: the
	 * device's channel once more after the engineer's */
	return (ssh_channel_poll(S->dch, 0) > 0 ||
	    (!sftp_records_full(S) && ssh_channel_poll(S->vch, 0) > 0) ||
	    ssh_channel_poll(S->dch, 0) > 0);
}

/*
 * Both directions, in rounds until one moves nothing and nothing waits
 * (at most SFTP_ROUNDS). The two sessions share one libssh event, so a
 * read or write on one may take the other's packets off its socket into
 * its channel's buffer, after that side was pumped: with nothing left on
 * the socket, nothing would wake the loop before its 1 s timer.
 */
#define SFTP_ROUNDS	64
int
relay_sftp_pump(struct sess *S, ssize_t *from_dev, ssize_t *to_dev)
{
	ssize_t a, c, wa, wc;
	int i;

	*from_dev = *to_dev = 0;
	if (S->vch == NULL || S->dch == NULL)
		return (0);
	if (S->R->sftp->scp != NULL)	/* scp -O: relay_scp.c */
		return (relay_scp_pump(S, from_dev, to_dev));
	for (i = 0; i < SFTP_ROUNDS; i++) {
		if ((wa = sftp_pump(S, 1, &a)) < 0 ||
		    (wc = sftp_pump(S, 0, &c)) < 0)
			return (-1);
		*from_dev += a;
		*to_dev += c;
		if (a + c + wa + wc == 0 && !sftp_buffered(S))
			break;
	}
	return (0);
}
