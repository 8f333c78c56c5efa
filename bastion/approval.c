/*
 * approval.c - the approval flow, and the admin console.
 *
 * After the device is chosen and before it is touched (touch check,
 * recording, connect), approval_gate() (the child) asks the monitor
 * (approval_mon_*, privsep.h) to apply the device's effective approval
 * rule: no approval needed, a pre-approved window covering the local time
 * now, or a live grant for (engineer, device) let the session go on.
 * Otherwise the monitor files a request, emits approval.requested and runs
 * the policy's notify_command and/or bastion-notify (approval_notify.c)
 * with the request as JSON on stdin; the child tells the engineer its
 * number and asks the monitor once a second until an admin approves (a
 * grant exists: go on), denies (the engineer sees the reason) or the
 * approval timeout, which the monitor keeps, passes (expired). The
 * engineer may give up with ^C or by closing the connection (cancelled):
 * the child watches for that, the monitor never reads the vendor's socket.
 *
 * The admin console (console_run, in the monitor) is a transport for the
 * one verb table (verbs/verb.h), as bastionctl is: an admin's exec request
 * is one verb, whose output streams to the admin's channel (through the
 * child) as it is written; console_follow() is how `watch` follows a live
 * recording there (and on the control socket).
 * docs/APPROVALS.md.
 *
 * Revoked grants are no longer polled here: the listener's session monitor
 * tells a running session (relay.c), so the relay needs no state store.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "approvals.h"
#include "bastiond.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "privsep.h"
#include "rec_client.h"
#include "recfmt.h"
#include "recreader.h"
#include "sanitize.h"
#include "session.h"
#include "verb.h"

#define APPROVAL_PUSH_WAIT_MS	900	/* a decision is pushed within it */
#define WATCH_TAIL_BYTES	4096	/* output shown from before the start */
#define WATCH_RING		256	/* output frames remembered for that */
#define WATCH_CHUNK		4096	/* sanitised per step */
#define WATCH_POLL_MS		200

int
approval_take_reason(struct sess *S)
{
	const char *c, *end;
	size_t n;

	if (S->kind != SESS_EXEC || S->command == NULL)
		return (0);
	c = S->command;
	while (*c == ' ')
		c++;
	if (strncmp(c, "--reason", 8) != 0 || (c[8] != ' ' && c[8] != '=' &&
	    c[8] != '\0'))
		return (0);
	c += 8;
	while (*c == ' ' || *c == '=')
		c++;
	if (*c == '\'' || *c == '"') {
		if ((end = strchr(c + 1, *c)) == NULL) {
			sess_tell(S, "bastion: --reason: the quote %c is not "
			    "closed\n", *c);
			return (-1);
		}
		n = (size_t)(end - c - 1);
		c++;
		end++;
	} else {
		end = c + strcspn(c, " ");
		n = (size_t)(end - c);
	}
	snprintf(S->reason, sizeof(S->reason), "%.*s", (int)n, c);
	for (n = 0; S->reason[n] != '\0'; n++)
		if ((unsigned char)S->reason[n] < 0x20)
			S->reason[n] = ' ';
	return (sess_command_rest(S, end));
}

/* ---- the monitor's side: the state store -------------------------------- */

void
approval_mon_check(struct sess *S, struct mm_approval *out)
{
	struct policy_approval rule;
	struct state_grant g;
	struct state *st = NULL;
	struct tm tm;
	time_t now = time(NULL);
	char gstr[32];
	size_t i;
	int found = 0;

	memset(out, 0, sizeof(*out));
	out->status = MM_APPR_NOT_NEEDED;
	if (S->dev == NULL || S->au.role != ROLE_ENGINEER)
		return;
	policy_device_approval(S->pol, S->dev, &rule);
	if (!rule.required)
		return;
	localtime_r(&now, &tm);
	for (i = 0; i < rule.nwindows; i++)
		if (policy_window_match(&rule.windows[i], &tm)) {
			audit_ev(BEV_APPROVAL_WINDOW, "session", S->sid,
			    "user", S->au.who->name, "device", S->dev->name,
			    "result", "pre-approved", NULL);
			out->status = MM_APPR_WINDOW;
			return;
		}
	if (state_open(S->pol->state_dir, &st) != 0 ||
	    state_grant_live(st, S->au.who->name, S->dev->name, now, &g,
	    &found) != 0) {
		out->status = MM_APPR_ERROR;
		goto out;
	}
	if (found) {
		S->grant_id = g.id;
		snprintf(gstr, sizeof(gstr), "%lld", (long long)g.id);
		audit_ev(BEV_APPROVAL_GRANT_USED, "session", S->sid, "user",
		    S->au.who->name, "device", S->dev->name, "grant", gstr,
		    NULL);
		out->status = MM_APPR_GRANT;
		out->id = g.id;
		goto out;
	}
	out->status = MM_APPR_NEEDED;
	out->timeout_s = S->pol->approval_timeout;
out:
	state_close(st);
}

void
approval_mon_request(struct sess *S, const char *reason,
    struct mm_approval *out, struct notify_job **jobs)
{
	struct state_request r;
	struct state *st = NULL;
	char idstr[32];
	int64_t id;
	int found = 0;

	memset(out, 0, sizeof(*out));
	out->status = MM_APPR_ERROR;
	snprintf(S->reason, sizeof(S->reason), "%s", reason);
	if (state_open(S->pol->state_dir, &st) != 0 ||
	    state_request_create(st, S->au.who->name, S->au.who->vendor->name,
	    S->dev->name, S->reason, &id) != 0 ||
	    state_request_get(st, id, &r, &found) != 0 || !found) {
		state_close(st);
		return;
	}
	state_close(st);
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	audit_ev(BEV_APPROVAL_REQUESTED, "session", S->sid, "request", idstr,
	    "user", S->au.who->name, "vendor", S->au.who->vendor->name,
	    "from", S->peerstr, "device", S->dev->name, "reason",
	    S->reason[0] ? S->reason : NULL, NULL);
	approval_notify(S, &r, jobs);
	out->status = MM_APPR_PENDING;
	out->id = id;
	out->timeout_s = S->pol->approval_timeout;
}

void
approval_mon_poll(struct sess *S, int64_t id, time_t deadline,
    struct mm_approval *out)
{
	struct state_request r;
	struct state_grant g;
	struct state *st = NULL;
	struct state_sub *sub = NULL;
	char idstr[32];
	int found, tries;

	memset(out, 0, sizeof(*out));
	out->status = MM_APPR_ERROR;
	out->id = id;
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	if (state_open(S->pol->state_dir, &st) != 0)
		return;
	/* before reading, so that no decision falls in between */
	(void)state_subscribe(st, STATE_EV_REQUEST, id, &sub);
	for (tries = 0; tries < 3; tries++) {
		if (state_request_get(st, id, &r, &found) != 0 || !found)
			break;
		if (strcmp(r.status, STATE_REQ_APPROVED) == 0) {
			snprintf(out->by, sizeof(out->by), "%s", r.decided_by);
			if (state_grant_live(st, r.engineer, r.device,
			    time(NULL), &g, &found) != 0 || !found) {
				out->status = MM_APPR_REVOKED;
				break;
			}
			S->grant_id = g.id;
			out->status = MM_APPR_APPROVED;
			out->id = g.id;
			break;
		}
		if (strcmp(r.status, STATE_REQ_DENIED) == 0) {
			out->status = MM_APPR_DENIED;
			snprintf(out->by, sizeof(out->by), "%s", r.decided_by);
			snprintf(out->text, sizeof(out->text), "%s",
			    r.deny_reason);
			break;
		}
		if (strcmp(r.status, STATE_REQ_PENDING) != 0) {
			out->status = MM_APPR_OTHER;
			snprintf(out->text, sizeof(out->text), "%s", r.status);
			break;
		}
		if (time(NULL) < deadline) {
			/* pushed by the store actor (or, without one, the
			 * pace of a poll) */
			if (tries == 0 && state_await(sub,
			    APPROVAL_PUSH_WAIT_MS) == 1)
				continue;
			out->status = MM_APPR_PENDING;
			break;
		}
		if (state_request_finish(st, id, STATE_REQ_EXPIRED, NULL,
		    "no decision before the timeout") == BERR_EXISTS)
			continue;	/* decided just now */
		audit_ev(BEV_APPROVAL_EXPIRED, "session", S->sid, "request",
		    idstr, "user", S->au.who->name, "device", S->dev->name,
		    NULL);
		out->status = MM_APPR_EXPIRED;
		out->timeout_s = S->pol->approval_timeout;
		break;
	}
	state_unsubscribe(sub);
	state_close(st);
}

void
approval_mon_cancel(struct sess *S, int64_t id, struct mm_approval *out)
{
	struct state *st = NULL;
	char idstr[32];
	int r;

	memset(out, 0, sizeof(*out));
	out->status = MM_APPR_CANCELLED;
	if (id == 0) {
		audit_ev(BEV_APPROVAL_CANCELLED, "session", S->sid, "user",
		    S->au.who->name, "device", S->dev->name, "reason",
		    "cancelled at the reason prompt", NULL);
		return;
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	if ((r = state_open(S->pol->state_dir, &st)) == 0)
		r = state_request_finish(st, id, STATE_REQ_CANCELLED,
		    S->au.who->name, "the engineer gave up");
	state_close(st);
	if (r == BERR_EXISTS) {
		out->status = MM_APPR_DECIDED;	/* decided just now */
		return;
	}
	audit_ev(BEV_APPROVAL_CANCELLED, "session", S->sid, "request", idstr,
	    "user", S->au.who->name, "device", S->dev->name, NULL);
}

/* ---- the child's side: the engineer ------------------------------------- */

/*
 * Has the engineer given up (^C on a terminal, closed, disconnected)?
 * Waits up to 100 ms (the monitor's answer, which waits for a pushed
 * decision, paces the loop). Without a terminal, stdin is meant for the
 * device: it is left in the channel, unread.
 */
static int
approval_gave_up(struct sess *S)
{
	struct pollfd pfd;
	char buf[64];
	int n, i;

	if (S->vch == NULL || !ssh_is_connected(S->vs) ||
	    ssh_channel_is_closed(S->vch))
		return (1);
	if (S->has_pty) {
		n = ssh_channel_read_nonblocking(S->vch, buf, sizeof(buf), 0);
		for (i = 0; i < n; i++)
			if (buf[i] == 3 || buf[i] == 4)	/* ^C, ^D */
				return (1);
	} else
		n = ssh_channel_poll(S->vch, 0);	/* reads packets */
	if (n == SSH_ERROR)
		return (1);
	/* a killed client closes its TCP connection */
	pfd.fd = ssh_get_fd(S->vs);
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (pfd.fd < 0 || (poll(&pfd, 1, 100) > 0 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0))
		return (1);
	if (pfd.revents & POLLIN) {	/* read by libssh on the next turn */
		struct timespec nap = { 0, 200 * 1000 * 1000 };

		nanosleep(&nap, NULL);
	}
	return (!ssh_is_connected(S->vs) || ssh_channel_is_closed(S->vch));
}

/* The wait itself: 0 approved, -1 otherwise (engineer told). */
static int
approval_wait(struct sess *S, int64_t id)
{
	struct mm_approval a;

	for (;;) {
		mm_approval_poll(&a);
		switch (a.status) {
		case MM_APPR_APPROVED:
			S->grant_id = a.id;
			sess_tell(S, "bastion: request %lld approved by %s\n",
			    (long long)id, a.by);
			return (0);
		case MM_APPR_REVOKED:
			sess_tell(S, "bastion: request %lld was approved but "
			    "its grant is gone (revoked)\n", (long long)id);
			return (-1);
		case MM_APPR_DENIED:
			sess_tell(S, "bastion: request %lld was denied by %s: "
			    "%s\n", (long long)id, a.by, a.text);
			return (-1);
		case MM_APPR_OTHER:
			sess_tell(S, "bastion: request %lld is %s\n",
			    (long long)id, a.text);
			return (-1);
		case MM_APPR_EXPIRED:
			sess_tell(S, "bastion: request %lld expired: no admin "
			    "decided within %us; access refused\n",
			    (long long)id, a.timeout_s);
			return (-1);
		case MM_APPR_PENDING:
			break;
		default:
			sess_tell(S, "bastion: the approval cannot be checked "
			    "(state store failure); try again later\n");
			return (-1);
		}
		if (approval_gave_up(S)) {
			mm_approval_cancel(0, &a);
			if (a.status == MM_APPR_DECIDED)
				continue;	/* decided just now */
			return (-1);
		}
	}
}

static int
approval_gate_run(struct sess *S)
{
	struct mm_approval a;

	mm_approval_check(&a);
	switch (a.status) {
	case MM_APPR_NOT_NEEDED:
	case MM_APPR_WINDOW:
		return (0);
	case MM_APPR_GRANT:
		S->grant_id = a.id;
		return (0);
	case MM_APPR_NEEDED:
		break;
	default:
		sess_tell(S, "bastion: approvals cannot be checked (state "
		    "store failure); try again later\n");
		return (-1);
	}
	if (S->vch == NULL) {
		sess_tell(S, "bastion: %s needs an admin's approval first\n",
		    S->dev->name);
		return (-1);
	}
	if (S->reason[0] == '\0' && S->has_pty && S->kind == SESS_SHELL) {
		/* no --reason: ask on the terminal (Enter: none) */
		sess_tell(S, "bastion: %s needs an admin's approval. Reason "
		    "for the access (e.g. a ticket number; Enter for none): ",
		    S->dev->name);
		if (sess_read_line(S, S->reason, sizeof(S->reason)) != 0) {
			sess_tell(S, "bastion: cancelled; no request was "
			    "filed\n");
			mm_approval_cancel(1, &a);
			return (-1);
		}
	}
	mm_approval_request(S->reason, &a);
	if (a.status != MM_APPR_PENDING) {
		sess_tell(S, "bastion: the approval request cannot be filed "
		    "(state store failure); try again later\n");
		return (-1);
	}
	sess_tell(S, "bastion: waiting for approval: request %lld for %s "
	    "(reason: %s) — an admin has been notified\n", (long long)a.id,
	    S->dev->name, S->reason[0] ? S->reason : "none given");
	return (approval_wait(S, a.id));
}

int
approval_gate(struct sess *S)
{
	unsigned left;
	int r;

	if (S->dev == NULL || S->au.role != ROLE_ENGINEER)
		return (0);
	/* waiting for an admin is not part of the login grace */
	left = alarm(0);
	r = approval_gate_run(S);
	if (left != 0)
		alarm(left);
	return (r);
}

/* ---- admin console ------------------------------------------------------ */

/* A verb's stdout or stderr, streamed to the admin's channel as written. */
struct console_stream {
	struct sess *S;
	int err;	/* the channel's stderr */
	int cr;		/* the last byte written was CR */
};

static int
console_put(struct console_stream *cs, const char *t, size_t n)
{
	int w;

	if (n == 0)
		return (0);
	w = sess_write(cs->S, cs->err, t, n);
	return (w < 0 ? -1 : 0);
}

/* Write text, a lone LF becoming CR LF on a terminal (output that has
 * CR LF already, like a watched terminal, passes as it is). */
static ssize_t
console_cookie_write(void *cookie, const char *t, size_t n)
{
	struct console_stream *cs = cookie;
	size_t i, s = 0;

	if (!sess_writable(cs->S)) {
		errno = EPIPE;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (cs->S->has_pty && t[i] == '\n' && !(i > 0 ? t[i - 1] ==
		    '\r' : cs->cr)) {
			if (console_put(cs, t + s, i - s) != 0 ||
			    console_put(cs, "\r", 1) != 0)
				goto fail;
			s = i;
		}
	}
	if (console_put(cs, t + s, n - s) != 0)
		goto fail;
	cs->cr = n > 0 && t[n - 1] == '\r';
	return ((ssize_t)n);
fail:
	errno = EPIPE;
	return (-1);
}

static FILE *
console_stream_open(struct console_stream *cs, struct sess *S, int err)
{
	cookie_io_functions_t io = { .write = console_cookie_write };
	FILE *f;

	cs->S = S;
	cs->err = err;
	cs->cr = 0;
	if ((f = fopencookie(cs, "w", io)) != NULL)
		(void)setvbuf(f, NULL, err ? _IOLBF : _IOFBF, 16384);
	return (f);
}

/*
 * Has the admin left or asked to stop? Waits up to wait_ms. What the admin
 * types is read and dropped (it goes nowhere); on a terminal ^C, ^D or q
 * stop. Without a terminal only closing the connection does (so that
 * `ssh bob@bastion watch 17 </dev/null` keeps watching).
 */
int
console_gave_up(void *arg, unsigned wait_ms)
{
	struct sess *S = arg;
	struct pollfd pfd;
	char buf[256];
	int n, i;

	/* the monitor asks the child, which watches the channel */
	if (S->cancel_fn != NULL)
		return (S->cancel_fn(S, wait_ms));
	if (S->vch == NULL || !ssh_is_connected(S->vs) ||
	    ssh_channel_is_closed(S->vch))
		return (1);
	while ((n = ssh_channel_read_nonblocking(S->vch, buf, sizeof(buf),
	    0)) > 0)
		for (i = 0; i < n; i++)
			if (S->has_pty && (buf[i] == 3 || buf[i] == 4 ||
			    buf[i] == 'q'))
				return (1);
	if (n == SSH_ERROR)
		return (1);
	pfd.fd = ssh_get_fd(S->vs);
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (pfd.fd < 0 || (poll(&pfd, 1, (int)wait_ms) > 0 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0))
		return (1);
	return (!ssh_is_connected(S->vs) || ssh_channel_is_closed(S->vch));
}

/* Sanitise device output and write it to the admin. */
void
console_emit(struct verb_ctx *c, struct sanitize *san, struct buf *ob,
    const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		k = n > WATCH_CHUNK ? WATCH_CHUNK : n;
		buf_reset(ob);
		if (sanitize_feed(san, p, k, ob) != 0)
			sanitize_reset(san);	/* cannot happen: room */
		else if (buf_len(ob) > 0)
			(void)fwrite(buf_ptr(ob), 1, buf_len(ob), c->out);
		p += k;
		n -= k;
	}
}

/*
 * Where to start when not from the start: at a frame boundary early enough
 * that about WATCH_TAIL_BYTES of output come before the live part (the
 * last screenful, roughly). Reads the recording to its current end; sets
 * *sealed when that end is the seal. 0, or a BERR_* code.
 */
static int
console_tail_start(struct recreader *r, uint64_t *start, int *sealed)
{
	uint64_t off[WATCH_RING];
	size_t len[WATCH_RING], sum = 0, n = 0, i;
	struct rec_frame f;
	int err;

	*sealed = 0;
	for (;;) {
		if ((err = recreader_next(r, &f)) != 0)
			break;
		if (f.type == REC_OUTPUT || f.type == REC_STDERR) {
			off[n % WATCH_RING] = recreader_offset(r);
			len[n % WATCH_RING] = f.len;
			n++;
		} else if (f.type == REC_SEAL)
			*sealed = 1;
	}
	if (err != BERR_NOTFOUND && err != BERR_TRUNC)
		return (err);
	*start = recreader_offset(r);	/* nothing to show: the end */
	for (i = 0; i < n && i < WATCH_RING && sum < WATCH_TAIL_BYTES; i++) {
		size_t k = (n - 1 - i) % WATCH_RING;

		*start = off[k];
		sum += len[k];
	}
	return (0);
}

/* The end of a watch: the sanitiser's rest, then why it ended. */
void
console_watch_done(struct verb_ctx *c, const struct state_session *s,
    struct sanitize *san, struct buf *ob, int stopped, const char *why)
{
	buf_reset(ob);
	if (sanitize_finish(san, ob) == 0 && buf_len(ob) > 0)
		(void)fwrite(buf_ptr(ob), 1, buf_len(ob), c->out);
	fflush(c->out);
	if (stopped)
		fprintf(c->err, "\nbastion: stopped watching session %lld\n",
		    (long long)s->sid);
	else
		fprintf(c->err, "\nbastion: session %lld ended%s%s%s\n",
		    (long long)s->sid, why[0] ? " (" : "", why,
		    why[0] ? ")" : "");
}

int
console_recording_id(const struct state_session *s, char *id, size_t len)
{
	const char *base;
	size_t n;

	base = strrchr(s->recording, '/');
	base = base != NULL ? base + 1 : s->recording;
	n = strlen(base);
	if (n <= 5 || n - 5 > REC_SESSION_ID_MAX || n - 5 >= len ||
	    strcmp(base + n - 5, ".brec") != 0)
		return (BERR_FORMAT);
	snprintf(id, len, "%.*s", (int)(n - 5), base);
	return (0);
}

/*
 * An encrypted recording (format 2) is not read: its live output comes
 * from the recorder's memory (WATCH, recproto.h), which holds the last
 * screenful and each frame as it is recorded; nothing is decrypted and
 * no key is needed. from_start cannot be had that way: said, not faked.
 */
static int
console_follow_live(struct verb_ctx *c, const struct state_session *s,
    int from_start, struct sanitize *san, struct buf *ob)
{
	struct rec_client *w = NULL;
	const uint8_t *p;
	char id[REC_SESSION_ID_MAX + 1], why[512];
	size_t len;
	int r, type, stopped = 0;

	if (console_recording_id(s, id, sizeof(id)) != 0) {
		fprintf(c->err, "watch: the recording of session %lld has no "
		    "recording id\n", (long long)s->sid);
		return (1);
	}
	if (from_start)
		fprintf(c->err, "watch: the recording of session %lld is "
		    "encrypted; the recorder shows its last output and what "
		    "follows, not the start\n", (long long)s->sid);
	if (rec_client_watch(c->pol->recorder_socket, id, &w, why,
	    sizeof(why)) != 0) {
		fprintf(c->err, "watch: session %lld: %s\n", (long long)s->sid,
		    why);
		return (1);
	}
	why[0] = '\0';
	for (;;) {
		r = rec_client_watch_next(w, WATCH_POLL_MS, &type, &p, &len,
		    why, sizeof(why));
		if (r == 1)
			console_emit(c, san, ob, p, len);
		fflush(c->out);
		if (r != 1 && r != BERR_AGAIN)
			break;		/* ended (0) or failed: why says */
		/* the admin's side, after every step, busy or not */
		if (c->cancelled != NULL && c->cancelled(c->cancel_arg, 0)) {
			stopped = 1;
			break;
		}
	}
	rec_client_free(w);
	console_watch_done(c, s, san, ob, stopped, why);
	return (0);
}

int
console_follow(struct verb_ctx *c, const struct state_session *s,
    int from_start)
{
	struct recreader *r = NULL;
	struct sanitize *san = NULL;
	struct buf *ob = NULL;
	struct state_session now_s;
	struct rec_frame f;
	uint64_t start = 0;
	time_t checked = 0;
	char why[256];
	int err, rc = 1, ended = 0, sealed = 0, stopped = 0, found;

	why[0] = '\0';
	/* another node's session: through the store (peerwatch.c) */
	if (peerwatch_elsewhere(c->pol, s))
		return (peerwatch_follow(c, s, from_start));
	if (!mon_recording_ok(c->pol, s->recording)) {
		fprintf(c->err, "watch: the recording path of session %lld is "
		    "not below recordings_dir; refusing to read it\n",
		    (long long)s->sid);
		return (1);
	}
	if ((err = recreader_open(s->recording, &r)) != 0 ||
	    (err = recreader_magic(r)) != 0) {
		fprintf(c->err, "watch: cannot read the recording of session "
		    "%lld (%s: %s)\n", (long long)s->sid, s->recording,
		    berr_str(err));
		goto out;
	}
	if ((san = sanitize_new(c->terminal ? 0 : SANITIZE_TEXT)) == NULL ||
	    (ob = buf_new(3 * WATCH_CHUNK + SANITIZE_SLACK)) == NULL) {
		fprintf(c->err, "watch: out of memory\n");
		goto out;
	}
	if (recreader_version(r) == 2) {
		rc = console_follow_live(c, s, from_start, san, ob);
		goto out;
	}
	if (!from_start) {
		if ((err = console_tail_start(r, &start, &sealed)) != 0 ||
		    (err = recreader_seek(r, start)) != 0) {
			fprintf(c->err, "watch: the recording of session %lld "
			    "cannot be read (%s)\n", (long long)s->sid,
			    berr_str(err));
			goto out;
		}
	}
	/* follow: only whole frames; at the end, wait and read again */
	for (;;) {
		if ((err = recreader_next(r, &f)) == 0) {
			if (f.type == REC_OUTPUT || f.type == REC_STDERR)
				console_emit(c, san, ob, f.payload, f.len);
			else if (f.type == REC_SEAL) {
				sealed = 1;
				break;
			}
			continue;
		}
		if (err != BERR_NOTFOUND && err != BERR_TRUNC) {
			fprintf(c->err, "\nwatch: the recording of session %lld "
			    "cannot be read at offset %llu (%s); stopped\n",
			    (long long)s->sid,
			    (unsigned long long)recreader_offset(r),
			    berr_str(err));
			goto out;
		}
		/* a frame still being written: back to its start */
		if ((err = recreader_seek(r, recreader_offset(r))) != 0)
			goto out;
		fflush(c->out);
		if (ended || sealed)
			break;		/* what came after the end is read */
		if (time(NULL) != checked) {
			checked = time(NULL);
			if (state_session_get(c->st, s->sid, &now_s, &found) ==
			    0 && found && now_s.id == s->id && now_s.ended) {
				ended = 1;
				snprintf(why, sizeof(why), "%s",
				    now_s.end_reason);
				continue;
			}
		}
		if (c->cancelled != NULL ? c->cancelled(c->cancel_arg,
		    WATCH_POLL_MS) : usleep(WATCH_POLL_MS * 1000) != 0) {
			stopped = 1;
			break;
		}
	}
	console_watch_done(c, s, san, ob, stopped, why);
	rc = 0;
out:
	buf_free(ob);
	sanitize_free(san);
	recreader_free(r);
	return (rc);
}

int
console_run(struct sess *S)
{
	struct console_stream so, se;
	const struct cmd_entry *e = NULL;
	struct verb_ctx c;
	char **argv = NULL;
	int argc = 0, rc = 2;
	/* an engineer's console has the engineers' verbs only (declare) */
	unsigned front = S->au.role == ROLE_ENGINEER ? VERB_ENGINEER :
	    VERB_ADMIN;

	verb_ctx_init(&c, S->pol, front, "ssh", S->au.who->name,
	    console_stream_open(&so, S, 0), console_stream_open(&se, S, 1));
	if (!verb_ctx_streams_ok(&c))
		return (1);
	if (S->kind != SESS_EXEC || (e = verb_line(S->command, front,
	    &argv, &argc)) == NULL) {
		fprintf(c.err, "bastion: %s console: run one verb, e.g. "
		    "ssh %s@bastion %s\n", front == VERB_ADMIN ? "admin" :
		    "engineer", S->au.who->name, front == VERB_ADMIN ?
		    "requests" : "declare");
		verb_help(c.err, front, "  ");
		rc = 2;
		goto out;
	}
	c.session = S->sid;
	c.from = S->peerstr;
	c.terminal = S->has_pty;
	c.cancelled = console_gave_up;
	c.cancel_arg = S;
	c.follow = console_follow;
	rc = verb_exec(&c, e, argc, argv);
	audit_ev(BEV_CONSOLE_VERB, "session", S->sid, "user",
	    S->au.who->name, "from", S->peerstr, "verb", argv[0], "status",
	    rc == 0 ? "ok" : rc == 2 ? "usage" : "refused", NULL);
	if (rc == 2)
		verb_help(c.err, front, "usage: ");
out:
	fclose(c.out);
	fclose(c.err);
	appr_free_words(argv);
	return (rc);
}
