/*
 * relay.c - move a session's bytes between engineer and device.
 *
 * Both SSH sessions are non-blocking and registered in one ssh_event; a
 * uv_poll_t on each socket wakes the loop, ssh_event_dopoll(ev, 0) lets
 * libssh process what arrived, and relay_pump() moves channel data.
 *
 * Memory stays bounded end to end: a pump reads from its source channel at
 * most what the destination channel's window accepts (plus one 32 KiB
 * carry-over), so a fast device and a slow reader stall the device through
 * SSH flow control instead of growing buffers. libssh itself keeps at most
 * one local window (about 1.2 MiB) per channel.
 *
 * Forwards (direct-tcpip) go from the bastion itself to a device port that
 * the policy lists for the engineer's vendor; the connection is the
 * monitor's to make (privsep.h); see relay_forward_open().
 *
 * The relay needs no state store: it registers the session through its
 * monitor (MREQ_SESSION_REGISTER; the monitor tells the listener) and
 * watches fd 4, where the monitor passes on the listener's word that an
 * admin killed the session, locked the engineer or revoked the grant
 * (relay_mon_*). When the
 * policy asks for a work record, an interactive session whose device side
 * has ended asks the engineer, before their channel closes, whether
 * personal information was accessed and which records (relay_wr_*).
 *
 * One worker serves one session, so the monitor link and the work-record
 * dialogue are kept in one file-static struct relay_x beside struct sess.
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include <libssh/callbacks.h>

#include "err.h"
#include "log.h"
#include "monitor.h"
#include "privsep.h"
#include "record.h"
#include "session.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define RELAY_CHUNK		32768
#define RELAY_MAX_FORWARDS	64
#define RELAY_LINGER_S		10
#define RELAY_EOF_HOLD_S	2	/* wait this long for the device's exit
					   status before passing on its EOF */
#define WR_TIMEOUT_S		120	/* the work-record question */
#define WR_ANSWER_MAX		16	/* y / n */
#define WR_RECORDS_MAX		400	/* record identifiers */

enum wr_state { WR_NONE, WR_ASK_PERSONAL, WR_ASK_RECORDS, WR_DONE };
enum wr_result { WR_YES, WR_NO, WR_UNANSWERED };

/* What the relay keeps beside struct sess (see the file comment). */
struct relay_x {
	uv_poll_t monpoll;		/* fd 4: the listener's monitor */
	int monpoll_on;
	struct mon_reader mon;
	enum wr_state wr;		/* the work-record dialogue */
	time_t wr_deadline;
	unsigned wr_timeout;		/* seconds */
	char wr_line[WR_RECORDS_MAX + 1];
	size_t wr_n;
	int wr_esc;			/* inside an escape sequence (keys) */
	int wr_cr;			/* the last key was CR */
	int wr_logged;			/* the answer (or none) is recorded */
	int dev_eof_recorded;
	time_t dev_eof_at;		/* the device's output ended (drained) */
	int exit_fwd;			/* its exit status went to the engineer */
};

static struct relay_x X;

static void relay_step(struct sess *S);
static void relay_finish_vendor(struct sess *S);

/* Write a pending carry-over; returns 1 when it is empty. */
static int
relay_flush(ssh_channel dst, struct pend *p, int is_stderr)
{
	int w;

	while (p->off < p->n) {
		uint32_t win = ssh_channel_window_size(dst);
		uint32_t n = (uint32_t)(p->n - p->off);

		if (win == 0)
			return (0);
		if (n > win)
			n = win;
		w = is_stderr ? ssh_channel_write_stderr(dst, p->d + p->off, n)
		    : ssh_channel_write(dst, p->d + p->off, n);
		if (w <= 0)
			return (0);
		p->off += (size_t)w;
	}
	p->n = p->off = 0;
	return (1);
}

/*
 * Move data from src to dst (stdout or stderr stream) within dst's window.
 * Returns the number of bytes moved, or -1 on a channel error.
 */
static ssize_t
relay_pump(struct sess *S, ssh_channel src, ssh_channel dst, struct pend *p,
    int is_stderr, int to_stderr, int rec_type)
{
	ssize_t moved = 0;
	int r;

	if (src == NULL || dst == NULL || !ssh_channel_is_open(dst))
		return (0);
	for (;;) {
		uint32_t win;

		if (!relay_flush(dst, p, to_stderr))
			return (moved);
		win = ssh_channel_window_size(dst);
		if (win == 0)
			return (moved);
		if (win > sizeof(p->d))
			win = sizeof(p->d);
		r = ssh_channel_read_nonblocking(src, p->d, win, is_stderr);
		if (r == SSH_EOF || r == 0)
			return (moved);
		if (r < 0)
			return (-1);
		/* recorded before it is relayed: fail closed */
		if (S->rec != NULL && sess_rec_check(S, rec_client_frame(
		    S->rec, rec_type, 0, p->d, (size_t)r)) != 0)
			return (-1);
		p->n = (size_t)r;
		p->off = 0;
		moved += r;
	}
}

static void
relay_end(struct sess *S, const char *reason)
{
	/* the first reason given is the one reported */
	if (S->end_reason[0] == '\0' && reason != S->end_reason)
		snprintf(S->end_reason, sizeof(S->end_reason), "%s", reason);
	S->done = 1;
}

/* A pump failed: because recording failed (tell the engineer), or the
 * channel broke. */
static void
relay_rec_or_channel_failed(struct sess *S)
{
	if (S->rec_failed) {
		sess_tell(S, "\nbastion: session ended: it can no longer be "
		    "recorded (%s)\n", rec_client_error(S->rec));
		relay_end(S, "recording failed");
	} else
		relay_end(S, "channel error");
}

/* --- the session monitor (the listener, over fd 4) ---------------------- */

/* snprintf for texts that may be cut (reasons, messages). */
static void
relay_fmt(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
relay_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* "S ...": the device is connected and the relay starts; the monitor
 * tells the listener what it knows itself (privsep.h). 0 or -1. */
static int
relay_mon_register(struct sess *S)
{
	(void)S;
	return (mm_session_register());
}

/* Tell the monitor why the session ended (it marks the registry). */
static void
relay_mon_end(struct sess *S)
{
	mm_session_end(S->end_reason[0] != '\0' ? S->end_reason : "ended");
}

static void relay_wr_done(struct sess *S, enum wr_result res,
    const char *records, const char *why);

static int
relay_wr_asking(void)
{
	return (X.wr == WR_ASK_PERSONAL || X.wr == WR_ASK_RECORDS);
}

/* The monitor ended the session (admin kill or lock, revoked grant). */
static void
relay_mon_act(struct sess *S, const struct mon_msg *m)
{
	char why[sizeof(S->end_reason)], ev[MON_TEXT_MAX + 96];

	if (S->done || S->finishing != 0)
		return;		/* ending anyway */
	switch (m->type) {
	case MON_KILL:
		if (strcmp(m->by, "-") == 0) {
			sess_tell(S, "\nbastion: session closed: %s\n", m->text);
			relay_fmt(why, sizeof(why), "ended by the bastion: %s",
			    m->text);
		} else {
			sess_tell(S, "\nbastion: session closed by an admin "
			    "(%s): %s\n", m->by, m->text);
			relay_fmt(why, sizeof(why), "killed by an admin (%s): %s",
			    m->by, m->text);
		}
		relay_fmt(ev, sizeof(ev), "by %s: %s", m->by, m->text);
		(void)sess_rec_event(S, "admin.kill", ev);
		break;
	case MON_LOCK:
		sess_tell(S, "\nbastion: session closed: an admin (%s) locked "
		    "your account: %s\n", m->by, m->text);
		relay_fmt(why, sizeof(why), "engineer locked by an admin "
		    "(%s): %s", m->by, m->text);
		relay_fmt(ev, sizeof(ev), "by %s: %s", m->by, m->text);
		(void)sess_rec_event(S, "admin.lock", ev);
		break;
	case MON_REVOKE:
		sess_tell(S, "\nbastion: session closed: an admin revoked "
		    "the grant it ran under\n");
		audit_event("session.revoked", "session", S->sid, "user",
		    S->au.who->name, "device", S->dev ? S->dev->name : NULL,
		    NULL);
		snprintf(why, sizeof(why), "grant revoked");
		(void)sess_rec_event(S, "grant.revoked", why);
		break;
	default:
		log_warn("session %s: the monitor sent a line a worker does "
		    "not take; ignored", S->sid);
		return;
	}
	if (relay_wr_asking())
		relay_wr_done(S, WR_UNANSWERED, NULL, why);
	relay_end(S, why);
}

static int
relay_mon_line(const char *line, size_t len, void *arg)
{
	struct sess *S = arg;
	struct mon_msg m;

	if (mon_parse(line, len, &m) != 0) {
		log_warn("session %s: malformed line from the monitor (%zu "
		    "bytes); ignored", S->sid, len);
		return (0);
	}
	relay_mon_act(S, &m);
	return (0);
}

/* Without its monitor no admin could end the session: end it. */
static void
relay_mon_gone(struct sess *S, const char *why)
{
	if (X.monpoll_on) {
		uv_poll_stop(&X.monpoll);
		X.monpoll_on = 0;
	}
	log_error("session %s: %s", S->sid, why);
	if (S->done || S->finishing != 0)
		return;
	sess_tell(S, "\nbastion: session closed: the bastion's session "
	    "monitor stopped\n");
	if (relay_wr_asking())
		relay_wr_done(S, WR_UNANSWERED, NULL, "session monitor gone");
	relay_end(S, "session monitor gone");
}

static void
relay_mon_cb(uv_poll_t *h, int status, int events)
{
	struct sess *S = h->data;
	char b[MON_LINE_MAX];
	ssize_t n;

	(void)events;
	n = read(WORKER_FD_CONTROL, b, sizeof(b));
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && status == 0)
		return;
	if (n <= 0)
		relay_mon_gone(S, "the listener closed the control pipe");
	else if (mon_reader_feed(&X.mon, b, (size_t)n, relay_mon_line, S) ==
	    BERR_LIMIT)
		relay_mon_gone(S, "the listener sent an overlong line");
	relay_step(S);
}

/* --- the work record (policy work_record) -------------------------------- */

/* Is the engineer asked at the end? Interactive sessions (a terminal)
 * only: without one there is nobody to answer. */
static int
relay_wr_applies(const struct sess *S)
{
	return (policy_work_record(S->pol, S->au.who->vendor) && S->has_pty &&
	    (S->kind == SESS_SHELL || S->kind == SESS_EXEC));
}

/* Record the answer (or that there is none) in the recording and the
 * audit log, once. */
static void
relay_wr_done(struct sess *S, enum wr_result res, const char *records,
    const char *why)
{
	const char *pi = res == WR_YES ? "yes" : res == WR_NO ? "no" :
	    "unanswered";
	char text[WR_RECORDS_MAX + 256];

	if (relay_wr_asking())
		X.wr = WR_DONE;
	if (X.wr_logged)
		return;
	X.wr_logged = 1;
	if (records != NULL && records[0] == '\0')
		records = NULL;
	snprintf(text, sizeof(text), "personal_info=%s; records=%s%s%s", pi,
	    records != NULL ? records : "-", why != NULL ? "; " : "",
	    why != NULL ? why : "");
	(void)sess_rec_event(S, "work.record", text);
	audit_event("session.work_record", "session", S->sid, "user",
	    S->au.who->name, "vendor", S->au.who->vendor->name, "device",
	    S->dev ? S->dev->name : NULL, "personal_info", pi, "records",
	    records, "reason", why, NULL);
}

static void
relay_wr_start(struct sess *S)
{
	unsigned t = WR_TIMEOUT_S;

	/* nobody waits longer than the idle limit would let them */
	if (S->pol->idle_timeout > 0 && S->pol->idle_timeout < t)
		t = S->pol->idle_timeout;
	X.wr = WR_ASK_PERSONAL;
	X.wr_timeout = t;
	X.wr_deadline = time(NULL) + (time_t)t;
	X.wr_n = 0;
	if (S->dpoll_on) {
		/* the device is done: nothing more to read there */
		uv_poll_stop(&S->dpoll);
		S->dpoll_ev = 0;
	}
	sess_tell(S, "\nbastion: work record for session %s on %s (the "
	    "policy asks for one)\nWas personal (patient) information accessed "
	    "during this session? [y/n] ", S->sid, S->dev ? S->dev->name :
	    "-");
}

/* The device's side is over (output drained): ask, or close. */
static void
relay_wrap_up(struct sess *S)
{
	if (relay_wr_asking())
		return;
	if (X.wr == WR_NONE && relay_wr_applies(S) && !S->done &&
	    S->vch != NULL && ssh_channel_is_open(S->vch) &&
	    ssh_is_connected(S->vs)) {
		relay_wr_start(S);
		return;
	}
	relay_finish_vendor(S);
}

/* Enter on an answer. */
static void
relay_wr_submit(struct sess *S)
{
	char line[WR_RECORDS_MAX + 1];
	size_t a = 0, n = X.wr_n;

	while (a < n && X.wr_line[a] == ' ')
		a++;
	while (n > a && X.wr_line[n - 1] == ' ')
		n--;
	snprintf(line, sizeof(line), "%.*s", (int)(n - a), X.wr_line + a);
	X.wr_n = 0;
	if (X.wr == WR_ASK_PERSONAL) {
		if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0) {
			X.wr = WR_ASK_RECORDS;
			sess_tell(S, "Which records (identifiers only, never the "
			    "data; comma-separated): ");
		} else if (strcasecmp(line, "n") == 0 ||
		    strcasecmp(line, "no") == 0) {
			relay_wr_done(S, WR_NO, NULL, NULL);
			sess_tell(S, "bastion: work record saved: no personal "
			    "information accessed\n");
			relay_finish_vendor(S);
		} else
			sess_tell(S, "Please answer y or n: ");
		return;
	}
	if (line[0] == '\0') {
		sess_tell(S, "Please give the record identifiers (or "
		    "\"unknown\"): ");
		return;
	}
	relay_wr_done(S, WR_YES, line, NULL);
	sess_tell(S, "bastion: work record saved: personal information "
	    "accessed, records %s\n", line);
	relay_finish_vendor(S);
}

/* One key of the answer: printable ASCII with echo, backspace, ^U; ^C or
 * ^D declines; escape sequences (arrow keys) are skipped. */
static void
relay_wr_key(struct sess *S, uint8_t c)
{
	size_t max = X.wr == WR_ASK_PERSONAL ? WR_ANSWER_MAX : WR_RECORDS_MAX;
	int cr = X.wr_cr;

	X.wr_cr = 0;
	if (X.wr_esc == 1) {
		X.wr_esc = c == '[' || c == 'O' ? 2 : 0;
		return;
	}
	if (X.wr_esc == 2) {
		if (c >= 0x40 && c <= 0x7e)
			X.wr_esc = 0;
		return;
	}
	switch (c) {
	case 0x1b:
		X.wr_esc = 1;
		return;
	case '\n':
		if (cr)
			return;		/* CR LF is one Enter */
		/* FALLTHROUGH */
	case '\r':
		X.wr_cr = c == '\r';
		sess_tell(S, "\n");
		relay_wr_submit(S);
		return;
	case 3:
	case 4:
		sess_tell(S, "^%c\n", c + '@');
		relay_wr_done(S, WR_UNANSWERED, NULL, "the engineer declined "
		    "to answer");
		sess_tell(S, "bastion: work record saved: not answered\n");
		relay_finish_vendor(S);
		return;
	case 0x7f:
	case 8:
		if (X.wr_n > 0) {
			X.wr_n--;
			sess_tell(S, "\b \b");
		}
		return;
	case 0x15:
		for (; X.wr_n > 0; X.wr_n--)
			sess_tell(S, "\b \b");
		return;
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f && X.wr_n < max) {
		X.wr_line[X.wr_n++] = (char)c;
		sess_tell(S, "%c", c);
	}
}

/* The engineer's keys while the question is open; never sent on. */
static void
relay_wr_input(struct sess *S)
{
	uint8_t b[256];
	int n, i;

	while (relay_wr_asking()) {
		n = ssh_channel_read_nonblocking(S->vch, b, sizeof(b), 0);
		if (n == SSH_ERROR || n == SSH_EOF ||
		    ssh_channel_is_closed(S->vch)) {
			relay_wr_done(S, WR_UNANSWERED, NULL, "the engineer "
			    "closed the session");
			relay_end(S, "engineer closed the session");
			return;
		}
		if (n <= 0)
			return;
		for (i = 0; i < n && relay_wr_asking(); i++)
			relay_wr_key(S, b[i]);
	}
}

/* At the end: a session that was not asked gets its "unanswered" line. */
static void
relay_wr_settle(struct sess *S)
{
	char why[sizeof(S->end_reason) + 16];

	if (!policy_work_record(S->pol, S->au.who->vendor) || X.wr_logged)
		return;
	if (!relay_wr_applies(S))
		relay_wr_done(S, WR_UNANSWERED, NULL, "not asked: the session "
		    "had no terminal");
	else {
		snprintf(why, sizeof(why), "not asked: %s", S->end_reason[0] ?
		    S->end_reason : "session ended");
		relay_wr_done(S, WR_UNANSWERED, NULL, why);
	}
}

/* --- forwards ----------------------------------------------------------- */

static void fwd_poll_cb(uv_poll_t *h, int status, int events);

static void
fwd_close_cb(uv_handle_t *h)
{
	struct fwd *f = h->data;

	close(f->fd);
	free(f);
}

static void
fwd_destroy(struct sess *S, struct fwd *f)
{
	struct fwd **pp;

	for (pp = &S->fwds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	char in[24], out[24];

	S->nfwds--;
	snprintf(in, sizeof(in), "%llu", (unsigned long long)f->bytes_in);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)f->bytes_out);
	if (S->rec != NULL && !S->rec_failed)
		(void)sess_rec_check(S, rec_client_fwd_close(S->rec,
		    f->rec_chan));
	audit_event("forward.close", "session", S->sid, "user",
	    S->au.who->name, "to", f->dest, "bytes_in", in, "bytes_out", out,
	    NULL);
	if (f->ch != NULL) {
		if (ssh_channel_is_open(f->ch)) {
			ssh_channel_send_eof(f->ch);
			ssh_channel_close(f->ch);
		}
		ssh_channel_free(f->ch);
	}
	/* libuv must let go of the descriptor before it is closed: the
	 * close callback closes it and frees f */
	uv_close((uv_handle_t *)&f->poll, fwd_close_cb);
}

/* Pump one forward both ways; returns 0, or -1 when it should be closed. */
static int
fwd_pump(struct sess *S, struct fwd *f)
{
	uint8_t buf[RELAY_CHUNK];
	int events = 0, r;
	ssize_t n;

	/* channel -> socket */
	for (;;) {
		if (f->opend < f->npend) {
			n = write(f->fd, f->pend + f->opend,
			    f->npend - f->opend);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0)
				return (-1);
			f->opend += (size_t)n;
			f->bytes_in += (uint64_t)n;
			S->bytes_in += (uint64_t)n;
			continue;
		}
		f->npend = f->opend = 0;
		r = ssh_channel_read_nonblocking(f->ch, f->pend,
		    sizeof(f->pend), 0);
		if (r == SSH_EOF) {
			if (!f->ch_eof_seen)
				shutdown(f->fd, SHUT_WR);
			f->ch_eof_seen = 1;
			break;
		}
		if (r < 0)
			return (-1);
		if (r == 0)
			break;
		if (S->rec != NULL && sess_rec_check(S, rec_client_fwd_data(
		    S->rec, f->rec_chan, REC_DIR_TO_DEVICE, f->pend,
		    (size_t)r)) != 0)
			return (-1);
		f->npend = (size_t)r;
		S->last_activity = time(NULL);
	}
	/* socket -> channel: first what libssh could not take last time
	 * (it accepts nothing during a key re-exchange; that is not an
	 * error), then new bytes within the channel's window */
	while (f->soff < f->sn) {
		r = ssh_channel_write(f->ch, f->spend + f->soff,
		    (uint32_t)(f->sn - f->soff));
		if (r == SSH_ERROR)
			return (-1);
		if (r == 0)
			break;
		f->soff += (size_t)r;
	}
	if (f->soff >= f->sn)
		f->sn = f->soff = 0;
	while (!f->sock_eof_seen && f->sn == 0) {
		uint32_t win = ssh_channel_window_size(f->ch);

		if (win == 0)
			break;
		if (win > sizeof(buf))
			win = sizeof(buf);
		n = read(f->fd, buf, win);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			f->sock_eof_seen = 1;
			ssh_channel_send_eof(f->ch);
			break;
		}
		if (S->rec != NULL && sess_rec_check(S, rec_client_fwd_data(
		    S->rec, f->rec_chan, REC_DIR_FROM_DEVICE, buf,
		    (size_t)n)) != 0)
			return (-1);
		r = ssh_channel_write(f->ch, buf, (uint32_t)n);
		if (r == SSH_ERROR)
			return (-1);
		if (r < n) {
			/* keep the rest for the next round */
			memcpy(f->spend, buf + r, (size_t)(n - r));
			f->sn = (size_t)(n - r);
			f->soff = 0;
		}
		f->bytes_out += (uint64_t)n;
		S->bytes_out += (uint64_t)n;
		S->last_activity = time(NULL);
	}
	if ((f->ch_eof_seen && f->sock_eof_seen && f->opend >= f->npend) ||
	    ssh_channel_is_closed(f->ch))
		return (-1);
	if (!f->sock_eof_seen && f->sn == 0 &&
	    ssh_channel_window_size(f->ch) > 0)
		events |= UV_READABLE;
	if (f->opend < f->npend)
		events |= UV_WRITABLE;
	if (events != f->poll_events) {
		f->poll_events = events;
		if (events)
			uv_poll_start(&f->poll, events, fwd_poll_cb);
		else
			uv_poll_stop(&f->poll);
	}
	return (0);
}

static void
fwd_poll_cb(uv_poll_t *h, int status, int events)
{
	struct fwd *f = h->data;

	(void)status;
	(void)events;
	relay_step(f->S);
}

int
relay_connect(const struct netaddr *a, uint16_t port, unsigned ms,
    char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = netaddr_to_sockaddr(a, port, &ss);
	struct pollfd pfd;
	socklen_t el = sizeof(int);
	int fd, err = 0;

	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)ms) != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	return (fd);
fail:
	snprintf(why, len, "%s", strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

/*
 * Decide a direct-tcpip request. The destination must name a device the
 * engineer's vendor owns (by name, or by its canonical literal address) and
 * a port the policy lists for it. Nothing is resolved through DNS, and
 * alternate spellings of an address (127.1, 2130706433, 0x7f...,
 * ::ffff:...) are refused: the bastion connects to the address written in
 * the policy, nowhere else.
 */
const char *
relay_forward_check(const struct sess *S, const char *host, int port,
    const struct policy_device **dp, char *need, size_t needlen)
{
	const struct policy_device *d = NULL;
	const char *why = NULL;
	struct netaddr na;
	size_t i;

	*dp = NULL;
	if (S->touch_window)	/* touch.c: a window admits transfers only */
		why = "a transfer admitted without a touch (transfer window) "
		    "carries no forwards: connect with ssh -A for them";
	else if (host == NULL || port < 1 || port > 65535)
		why = "bad destination";
	else if ((d = policy_device(S->pol, host)) == NULL) {
		/* an address must be spelled exactly as in the policy */
		if (netaddr_parse(host, &na) != 0)
			why = "name the device (or its exact address as in "
			    "the policy)";
		else
			for (i = 0; i < S->pol->ndevices; i++)
				if (netaddr_equal(&S->pol->devices[i].addr,
				    &na) && strcmp(S->pol->devices[i].address,
				    host) == 0 && S->pol->devices[i].vendor ==
				    S->au.who->vendor)
					d = &S->pol->devices[i];
		if (why == NULL && d == NULL)
			why = "not an address of your vendor's devices";
	}
	if (why == NULL && !sess_device_allowed(S, d))
		why = "not one of your vendor's devices";
	if (why == NULL && S->dev != NULL && d != S->dev)
		why = "this connection is for another device";
	if (why == NULL && S->dev == NULL) {
		/*
		 * No device was named at login, so no approval was asked
		 * for (approval_gate): a device that needs approval is
		 * reached only through a connection made for it.
		 */
		struct policy_approval rule;

		policy_device_approval(S->pol, d, &rule);
		if (rule.required) {
			snprintf(need, needlen, "%s needs an admin's "
			    "approval: connect as %s+%s@bastion, so the "
			    "approval applies to the connection", d->name,
			    S->au.who->name, d->name);
			why = need;
		}
	}
	if (why == NULL) {
		why = "port not listed for forwarding on this device";
		for (i = 0; i < d->nforward_ports; i++)
			if (d->forward_ports[i] == port)
				why = NULL;
	}
	if (why == NULL)
		*dp = d;
	return (why);
}

/*
 * Decide a direct-tcpip request (the child): the policy check above, for
 * the engineer's message, then the monitor, which checks again and makes
 * the connection (the child can make none).
 */
void
relay_forward_open(struct sess *S, ssh_message m)
{
	const char *host = ssh_message_channel_request_open_destination(m);
	int port = ssh_message_channel_request_open_destination_port(m);
	const struct policy_device *d = NULL;
	const char *why = NULL;
	char dest[96], addr[64], cwhy[256], need[256];
	struct fwd *f;
	int fd;

	snprintf(dest, sizeof(dest), "%.64s:%d", host ? host : "?", port);
	why = relay_forward_check(S, host, port, &d, need, sizeof(need));
	if (why == NULL && S->nfwds >= RELAY_MAX_FORWARDS)
		why = "too many forwards open";
	if (why != NULL) {
		audit_event("forward.refused", "session", S->sid, "user",
		    S->au.who->name, "vendor", S->au.who->vendor->name, "from",
		    S->peerstr, "to", dest, "reason", why, NULL);
		sess_tell(S, "bastion: forward to %s refused: %s\n", dest, why);
		(void)sess_rec_event(S, "forward.refused", dest);
		ssh_message_reply_default(m);
		return;
	}
	if (S->rec == NULL || S->rec_failed) {
		/* fail closed: nothing unrecorded */
		ssh_message_reply_default(m);
		return;
	}
	netaddr_str(&d->addr, addr, sizeof(addr));
	switch (mm_forward_connect(host, port, &fd, cwhy, sizeof(cwhy))) {
	case MM_FWD_OK:
		break;
	case MM_FWD_FAILED:
		/* the monitor audited forward.open result=fail */
		sess_tell(S, "bastion: forward to %s: cannot connect to %s "
		    "port %d: %s\n", d->name, addr, port, cwhy);
		ssh_message_reply_default(m);
		return;
	default:
		sess_tell(S, "bastion: forward to %s refused: %s\n", dest,
		    cwhy);
		ssh_message_reply_default(m);
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		close(fd);
		ssh_message_reply_default(m);
		return;
	}
	f->S = S;
	f->fd = fd;
	f->rec_chan = ++S->next_chan;
	snprintf(f->dest, sizeof(f->dest), "%s:%d", addr, port);
	if (sess_rec_check(S, rec_client_fwd_open(S->rec, f->rec_chan, addr,
	    (uint32_t)port, ssh_message_channel_request_open_originator(m) ?
	    ssh_message_channel_request_open_originator(m) : "-",
	    (uint32_t)ssh_message_channel_request_open_originator_port(m))) !=
	    0) {
		close(fd);
		free(f);
		ssh_message_reply_default(m);
		return;
	}
	if ((f->ch = ssh_message_channel_request_open_reply_accept(m)) ==
	    NULL) {
		close(fd);
		free(f);
		return;
	}
	uv_poll_init(S->loop, &f->poll, fd);
	f->poll.data = f;
	f->next = S->fwds;
	S->fwds = f;
	S->nfwds++;
	/* forward.open result=ok: audited by the monitor, which made it */
}

/* --- the engineer's session channel ---------------------------------- */

static int
relay_msg_cb(ssh_session s, ssh_message m, void *arg)
{
	struct sess *S = arg;
	int type = ssh_message_type(m), sub = ssh_message_subtype(m);

	(void)s;
	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP) {
		relay_forward_open(S, m);
		return (0);
	}
	if (type == SSH_REQUEST_CHANNEL && S->vch != NULL &&
	    ssh_message_channel_request_channel(m) == S->vch &&
	    sub == SSH_CHANNEL_REQUEST_WINDOW_CHANGE) {
		S->cols = ssh_message_channel_request_pty_width(m);
		S->rows = ssh_message_channel_request_pty_height(m);
		if (S->rec != NULL && sess_rec_check(S,
		    rec_client_window_change(S->rec, 0, (uint32_t)S->cols,
		    (uint32_t)S->rows)) != 0) {
			relay_rec_or_channel_failed(S);
			return (1);
		}
		if (S->dch != NULL)
			ssh_channel_change_pty_size(S->dch, S->cols, S->rows);
		ssh_message_channel_request_reply_success(m);
		return (0);
	}
	if (type == SSH_REQUEST_GLOBAL &&
	    sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
		audit_event("forward.refused", "session", S->sid, "user",
		    S->au.who->name, "from", S->peerstr, "kind", "remote",
		    "reason", "remote forwarding is not allowed", NULL);
		sess_tell(S, "bastion: remote forwarding (-R) is not "
		    "allowed\n");
		return (1);
	}
	if (type == SSH_REQUEST_CHANNEL_OPEN) {
		sess_tell(S, "bastion: only one session per connection; "
		    "open another ssh connection\n");
		return (1);
	}
	return (1);	/* default: refuse */
}

/*
 * Messages that arrived during the blocking phase, behind the one that
 * ended it, sit in libssh's queue: the message callback only sees new ones.
 * (In non-blocking mode ssh_message_get() returns the queue head or NULL.)
 */
static void
relay_drain_queued(struct sess *S)
{
	ssh_message m;

	while (!S->done && (m = ssh_message_get(S->vs)) != NULL) {
		if (relay_msg_cb(S->vs, m, S) != 0)
			ssh_message_reply_default(m);
		ssh_message_free(m);
	}
}

static void
relay_exit_status_cb(ssh_session s, ssh_channel c, int status, void *arg)
{
	struct sess *S = arg;

	(void)s;
	(void)c;
	S->got_exit_status = 1;
	S->exit_status = status;
}

static void
relay_exit_signal_cb(ssh_session s, ssh_channel c, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct sess *S = arg;

	(void)s;
	(void)c;
	(void)errmsg;
	(void)lang;
	S->got_exit_signal = 1;
	S->exit_core = core;
	snprintf(S->exit_signal, sizeof(S->exit_signal), "%s", sig);
}

static struct ssh_channel_callbacks_struct relay_dch_cb = {
	.channel_exit_status_function = relay_exit_status_cb,
	.channel_exit_signal_function = relay_exit_signal_cb,
};

/*
 * The device's exit status or signal to the engineer (and the recording),
 * once. Sent before the engineer's channel gets its EOF when the device
 * has said it by then: PuTTY closes its channel as soon as both sides sent
 * EOF, and an exit status that comes after that is lost to plink.
 */
static void
relay_forward_exit(struct sess *S)
{
	if (X.exit_fwd || !(S->got_exit_status || S->got_exit_signal))
		return;
	X.exit_fwd = 1;
	if (S->rec != NULL && !S->rec_failed) {
		if (S->got_exit_signal)
			(void)sess_rec_check(S, rec_client_exit_signal(S->rec,
			    0, S->exit_signal, S->exit_core, ""));
		else
			(void)sess_rec_check(S, rec_client_exit_status(S->rec,
			    0, (uint32_t)S->exit_status));
	}
	if (S->got_exit_signal)
		ssh_channel_request_send_exit_signal(S->vch, S->exit_signal,
		    S->exit_core, "", "");
	else
		ssh_channel_request_send_exit_status(S->vch, S->exit_status);
}

/*
 * Forward the device's end to the engineer, then close the engineer's
 * channel; or, when the engineer closed it first, answer with our close.
 */
static void
relay_finish_vendor(struct sess *S)
{
	if (S->vch == NULL)
		return;
	if (ssh_channel_is_open(S->vch)) {
		relay_forward_exit(S);
		if (!S->dch_eof_fwd)
			ssh_channel_send_eof(S->vch);
		S->dch_eof_fwd = 1;
	}
	/* libssh sends our CLOSE once, also after the client's own */
	ssh_channel_close(S->vch);
	/*
	 * Do not disconnect yet: the client may still hold up to a window of
	 * output it has not written to its stdout, and a DISCONNECT that
	 * arrives with our CLOSE makes PuTTY abort ("Remote side sent
	 * disconnect message type 11") before it has seen the close. OpenSSH
	 * and PuTTY answer our close and then disconnect themselves once
	 * their output is drained; wait for that (relay_step), or
	 * RELAY_LINGER_S at most (relay_timer_cb).
	 */
	if (S->finishing == 0)
		S->finishing = time(NULL);
}

static void
relay_session_channels(struct sess *S)
{
	ssize_t a, b, c;

	if (S->vch == NULL || S->dch == NULL || S->finishing != 0 ||
	    relay_wr_asking())
		return;
	a = relay_pump(S, S->dch, S->vch, &S->to_vendor, 0, 0, REC_OUTPUT);
	b = relay_pump(S, S->dch, S->vch, &S->to_vendor_err, 1, 1, REC_STDERR);
	c = relay_pump(S, S->vch, S->dch, &S->to_dev, 0, 0, REC_INPUT);
	if (a < 0 || b < 0 || c < 0) {
		relay_rec_or_channel_failed(S);
		return;
	}
	if (a > 0 || b > 0)
		S->bytes_out += (uint64_t)(a + b);
	if (c > 0)
		S->bytes_in += (uint64_t)c;
	if (a > 0 || b > 0 || c > 0)
		S->last_activity = time(NULL);

	/* engineer sent EOF (stdin closed): pass it on once drained */
	if (!S->vch_eof_fwd && ssh_channel_is_eof(S->vch) &&
	    S->to_dev.n == 0 && ssh_channel_poll(S->vch, 0) <= 0) {
		if (S->rec != NULL && sess_rec_check(S, rec_client_eof(S->rec,
		    0, REC_DIR_TO_DEVICE)) != 0) {
			relay_rec_or_channel_failed(S);
			return;
		}
		ssh_channel_send_eof(S->dch);
		S->vch_eof_fwd = 1;
	}
	/* device finished: forward status once all its output is through */
	if ((ssh_channel_is_eof(S->dch) || ssh_channel_is_closed(S->dch)) &&
	    S->to_vendor.n == 0 && S->to_vendor_err.n == 0 &&
	    ssh_channel_poll(S->dch, 0) <= 0 &&
	    ssh_channel_poll(S->dch, 1) <= 0) {
		if (!S->dch_eof_fwd && !X.dev_eof_recorded) {
			if (S->rec != NULL && sess_rec_check(S,
			    rec_client_eof(S->rec, 0, REC_DIR_FROM_DEVICE)) !=
			    0) {
				relay_rec_or_channel_failed(S);
				return;
			}
			X.dev_eof_recorded = 1;
		}
		if (X.dev_eof_at == 0)
			X.dev_eof_at = time(NULL);
		/* no EOF to the engineer while a work record may still be
		 * asked on their channel; the exit status first when the
		 * device gives it within RELAY_EOF_HOLD_S */
		if (!S->dch_eof_fwd && (!relay_wr_applies(S) ||
		    X.wr == WR_DONE) && (S->got_exit_status ||
		    S->got_exit_signal || ssh_channel_is_closed(S->dch) ||
		    time(NULL) - X.dev_eof_at >= RELAY_EOF_HOLD_S)) {
			relay_forward_exit(S);
			ssh_channel_send_eof(S->vch);
			S->dch_eof_fwd = 1;
		}
		if (ssh_channel_is_closed(S->dch)) {
			snprintf(S->end_reason, sizeof(S->end_reason),
			    "device closed the session");
			relay_wrap_up(S);
			return;
		}
	}
	/* the engineer closed first: answer with our close and let them
	 * disconnect (relay_finish_vendor), never the other way round */
	if (ssh_channel_is_closed(S->vch) && S->finishing == 0) {
		if (S->end_reason[0] == '\0')
			snprintf(S->end_reason, sizeof(S->end_reason),
			    "engineer closed the session");
		relay_finish_vendor(S);
	}
}

static void relay_poll_cb(uv_poll_t *h, int status, int events);

static void
relay_update_poll(uv_poll_t *p, ssh_session s, int *cur)
{
	int ev = UV_READABLE;

	if (ssh_get_poll_flags(s) & SSH_WRITE_PENDING)
		ev |= UV_WRITABLE;
	if (ev != *cur) {
		*cur = ev;
		uv_poll_start(p, ev, relay_poll_cb);
	}
}

static void
relay_stop(struct sess *S)
{
	struct fwd *f;

	if (S->vpoll_on)
		uv_poll_stop(&S->vpoll);
	if (S->dpoll_on)
		uv_poll_stop(&S->dpoll);
	if (S->timer_on)
		uv_timer_stop(&S->timer);
	if (S->recpoll_on)
		uv_poll_stop(&S->recpoll);
	if (X.monpoll_on)
		uv_poll_stop(&X.monpoll);
	while ((f = S->fwds) != NULL)
		fwd_destroy(S, f);
	S->stopped = 1;
	uv_stop(S->loop);
}

static void
relay_step(struct sess *S)
{
	struct fwd *f, *next;

	if (S->stopped)
		return;
	if (!S->done) {
		if (ssh_event_dopoll(S->ev, 0) == SSH_ERROR) {
			if (!ssh_is_connected(S->vs))
				relay_end(S, "engineer disconnected");
			else if (S->dc.s != NULL &&
			    !ssh_is_connected(S->dc.s) && !relay_wr_asking())
				relay_end(S, "device disconnected");
		}
		relay_drain_queued(S);
		if (relay_wr_asking())
			relay_wr_input(S);
		else
			relay_session_channels(S);
		for (f = S->fwds; f != NULL; f = next) {
			next = f->next;
			if (fwd_pump(S, f) != 0)
				fwd_destroy(S, f);
		}
		if (!ssh_is_connected(S->vs))
			relay_end(S, S->finishing ? S->end_reason :
			    "engineer disconnected");
		if (!S->done && S->dc.s != NULL &&
		    !ssh_is_connected(S->dc.s) && S->to_vendor.n == 0 &&
		    S->finishing == 0 && X.wr == WR_NONE) {
			snprintf(S->end_reason, sizeof(S->end_reason),
			    "device disconnected");
			relay_wrap_up(S);
		}
	}
	/*
	 * Ending while the engineer is still connected: close their channel
	 * (with the exit status) and linger until they have drained and
	 * disconnected (relay_finish_vendor, relay_timer_cb).
	 */
	if (S->done && S->finishing == 0 && S->vch != NULL &&
	    ssh_channel_is_open(S->vch) && ssh_is_connected(S->vs)) {
		relay_finish_vendor(S);
		if (S->finishing != 0)
			S->done = 0;
	}
	if (S->done) {
		relay_stop(S);
		return;
	}
	relay_update_poll(&S->vpoll, S->vs, &S->vpoll_ev);
	if (S->dc.s != NULL && !relay_wr_asking())
		relay_update_poll(&S->dpoll, S->dc.s, &S->dpoll_ev);
}

static void
relay_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	relay_step(h->data);
}

/* The recorder only speaks to refuse or when it goes away. */
static void
relay_rec_poll_cb(uv_poll_t *h, int status, int events)
{
	struct sess *S = h->data;

	(void)status;
	(void)events;
	uv_poll_stop(h);
	/* read the recorder's refusal, if any, into rec_client_error() */
	(void)rec_client_sync(S->rec);
	(void)sess_rec_check(S, BERR_CLOSED);
	relay_rec_or_channel_failed(S);
	relay_step(S);
}

static void
relay_fmt_duration(unsigned s, char *out, size_t len)
{
	if (s % 3600 == 0 && s >= 3600)
		snprintf(out, len, "%u hour%s", s / 3600, s == 3600 ? "" : "s");
	else if (s % 60 == 0 && s >= 60)
		snprintf(out, len, "%u minute%s", s / 60, s == 60 ? "" : "s");
	else
		snprintf(out, len, "%u second%s", s, s == 1 ? "" : "s");
}

/* Once a second: idle and maximum-length limits with a warning, and
 * keepalives. */
static void
relay_timer_cb(uv_timer_t *t)
{
	struct sess *S = t->data;
	const struct policy *p = S->pol;
	time_t now = time(NULL);
	char d[64], w[64];

	if (S->finishing != 0)
		goto linger;
	/* (kill, lock and revoke come from the monitor: relay_mon_cb) */
	if (relay_wr_asking()) {
		if (now >= X.wr_deadline) {
			relay_fmt_duration(X.wr_timeout, d, sizeof(d));
			relay_fmt(w, sizeof(w), "no answer within %s", d);
			sess_tell(S, "\nbastion: %s; the work record says: "
			    "not answered\n", w);
			relay_wr_done(S, WR_UNANSWERED, NULL, w);
			relay_finish_vendor(S);
		}
		goto linger;
	}
	if (!S->done && p->idle_timeout > 0) {
		unsigned idle = (unsigned)(now - S->last_activity);
		unsigned warn_at = p->idle_timeout > p->idle_warning ?
		    p->idle_timeout - p->idle_warning : 0;

		if (idle < warn_at)
			S->warned_idle = 0;
		else if (!S->warned_idle && idle < p->idle_timeout) {
			relay_fmt_duration(p->idle_timeout - idle, w, sizeof(w));
			sess_tell(S, "\nbastion: this session is idle and will "
			    "be closed in %s unless there is activity\n", w);
			audit_event("session.idle_warning", "session", S->sid,
			    "user", S->au.who->name, NULL);
			(void)sess_rec_event(S, "idle.warning", w);
			S->warned_idle = 1;
		}
		if (idle >= p->idle_timeout) {
			relay_fmt_duration(p->idle_timeout, d, sizeof(d));
			sess_tell(S, "\nbastion: session closed: idle for "
			    "%s\n", d);
			relay_end(S, "idle timeout");
		}
	}
	if (!S->done && p->max_session > 0) {
		unsigned age = (unsigned)(now - S->start);
		unsigned warn_at = p->max_session > p->idle_warning ?
		    p->max_session - p->idle_warning : 0;

		if (!S->warned_max && age >= warn_at && age < p->max_session) {
			relay_fmt_duration(p->max_session - age, w, sizeof(w));
			sess_tell(S, "\nbastion: the maximum session length "
			    "is reached in %s; save your work\n", w);
			S->warned_max = 1;
		}
		if (age >= p->max_session) {
			relay_fmt_duration(p->max_session, d, sizeof(d));
			sess_tell(S, "\nbastion: session closed: maximum "
			    "session length (%s) reached\n", d);
			relay_end(S, "maximum session length");
		}
	}
	if (!S->done && p->keepalive > 0 &&
	    now - S->last_keepalive >= (time_t)p->keepalive) {
		ssh_send_keepalive(S->vs);
		if (S->dc.s != NULL)
			ssh_send_keepalive(S->dc.s);
		S->last_keepalive = now;
	}
linger:
	if (S->finishing != 0 && now - S->finishing >= RELAY_LINGER_S) {
		/* a client that does not answer our close (the hangs PuTTY
		 * had): worth a line, the session ends all the same */
		log_info("session %s: the engineer's client did not close the "
		    "connection within %d s of the session's end; the bastion "
		    "disconnects it", S->sid, RELAY_LINGER_S);
		relay_end(S, S->end_reason);
		S->done = 1;
		relay_stop(S);
		return;
	}
	relay_step(S);
}

/* Anything still open at the end (nothing should be) is closed. */
static void
relay_close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
relay_run(struct sess *S, ssh_message first_fwd)
{
	uv_loop_t loop;
	char in[24], out[24], secs[24];

	if (uv_loop_init(&loop) != 0)
		return (WORKER_EXIT_ERROR);
	S->loop = &loop;
	S->start = S->last_activity = S->last_keepalive = time(NULL);
	S->ev = ssh_event_new();
	ssh_set_blocking(S->vs, 0);
	ssh_event_add_session(S->ev, S->vs);
	ssh_set_message_callback(S->vs, relay_msg_cb, S);
	uv_poll_init(&loop, &S->vpoll, ssh_get_fd(S->vs));
	S->vpoll.data = S;
	S->vpoll_on = 1;
	if (S->dc.s != NULL) {
		ssh_set_blocking(S->dc.s, 0);
		ssh_event_add_session(S->ev, S->dc.s);
		relay_dch_cb.userdata = S;
		ssh_callbacks_init(&relay_dch_cb);
		ssh_set_channel_callbacks(S->dch, &relay_dch_cb);
		uv_poll_init(&loop, &S->dpoll, ssh_get_fd(S->dc.s));
		S->dpoll.data = S;
		S->dpoll_on = 1;
	}
	uv_timer_init(&loop, &S->timer);
	S->timer.data = S;
	uv_timer_start(&S->timer, relay_timer_cb, 1000, 1000);
	S->timer_on = 1;

	if (S->rec != NULL) {
		int fl;

		uv_poll_init(&loop, &S->recpoll, rec_client_fd(S->rec));
		/* uv_poll_init made the socket non-blocking; rec_client relies
		 * on blocking sends with a timeout (readiness polling does not
		 * care either way) */
		if ((fl = fcntl(rec_client_fd(S->rec), F_GETFL)) != -1)
			(void)fcntl(rec_client_fd(S->rec), F_SETFL,
			    fl & ~O_NONBLOCK);
		S->recpoll.data = S;
		S->recpoll_on = 1;
		uv_poll_start(&S->recpoll, UV_READABLE, relay_rec_poll_cb);
	}
	/* the listener's monitor: register, then hear from it */
	memset(&X, 0, sizeof(X));
	mon_reader_init(&X.mon);
	if (relay_mon_register(S) != 0 ||
	    uv_poll_init(&loop, &X.monpoll, WORKER_FD_CONTROL) != 0) {
		log_error("session %s: cannot reach the session monitor on "
		    "fd %d: %s", S->sid, WORKER_FD_CONTROL, strerror(errno));
		sess_tell(S, "bastion: the session cannot be registered with "
		    "the bastion's session monitor, so it will not start; try "
		    "again later\n");
		relay_end(S, "session monitor unavailable");
	} else {
		X.monpoll.data = S;
		X.monpoll_on = 1;
		uv_poll_start(&X.monpoll, UV_READABLE, relay_mon_cb);
		/* key exchange, authentication and the device login are
		 * done: give their freed memory back before hours of relay */
		(void)malloc_trim(0);
		privsep_selftest(S);	/* off unless bastiond's env says */
	}
	if (first_fwd != NULL) {
		if (!S->done)
			relay_forward_open(S, first_fwd);
		else
			ssh_message_reply_default(first_fwd);
		ssh_message_free(first_fwd);
	}
	relay_step(S);
	if (!S->done)
		uv_run(&loop, UV_RUN_DEFAULT);

	/* flush what is left towards the engineer before leaving */
	if (S->dc.s != NULL)
		ssh_event_remove_session(S->ev, S->dc.s);
	ssh_event_remove_session(S->ev, S->vs);
	ssh_event_free(S->ev);
	S->ev = NULL;
	if (S->vpoll_on)
		uv_close((uv_handle_t *)&S->vpoll, NULL);
	if (S->dpoll_on)
		uv_close((uv_handle_t *)&S->dpoll, NULL);
	uv_close((uv_handle_t *)&S->timer, NULL);
	if (S->recpoll_on)
		uv_close((uv_handle_t *)&S->recpoll, NULL);
	if (X.monpoll_on)
		uv_close((uv_handle_t *)&X.monpoll, NULL);
	uv_walk(&loop, relay_close_walk, NULL);
	/* a uv_stop() made outside uv_run() is still pending: the first run
	 * consumes it, the second runs the close callbacks */
	uv_run(&loop, UV_RUN_NOWAIT);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		log_error("session %s: event loop still busy at exit", S->sid);
	ssh_set_blocking(S->vs, 1);
	ssh_blocking_flush(S->vs, 5000);

	snprintf(in, sizeof(in), "%llu", (unsigned long long)S->bytes_in);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)S->bytes_out);
	snprintf(secs, sizeof(secs), "%lld",
	    (long long)(time(NULL) - S->start));
	relay_wr_settle(S);	/* before the seal */
	if (S->rec != NULL && !S->rec_failed) {
		char text[256];

		snprintf(text, sizeof(text), "%s; bytes in %s, out %s",
		    S->end_reason, in, out);
		(void)sess_rec_event(S, "session.end", text);
	}
	sess_rec_close(S);
	audit_event("session.end", "session", S->sid, "user",
	    S->au.who->name, "vendor", S->au.who->vendor->name, "from",
	    S->peerstr, "device", S->dev ? S->dev->name : NULL, "reason",
	    S->end_reason, "bytes_in", in, "bytes_out", out, "seconds", secs,
	    NULL);
	relay_mon_end(S);
	return (WORKER_EXIT_OK);
}
