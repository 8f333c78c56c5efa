/*
 * relay_mon.c - the relay's link with its monitor (privsep.h).
 *
 * The relay registers the session through its monitor
 * (MREQ_SESSION_REGISTER; the monitor tells the listener), then watches
 * two descriptors: fd 4, where the monitor passes on the listener's word
 * that an admin killed the session, locked the engineer or revoked the
 * grant (K, L, R), and the request socket, where the monitor's late
 * answers arrive (a forward's connection, which the session does not wait
 * for: relay_fwd.c) and where requests that could not be sent at once
 * wait for room (monitor_wrap.c's one queue). Without its monitor no
 * admin could end the session: it ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privsep.h"
#include "record.h"
#include "relay.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* "S ...": the device is connected and the relay starts; the monitor
 * tells the listener what it knows itself (privsep.h). 0 or -1. */
static int
relay_mon_register(struct sess *S)
{
	(void)S;
	return (mm_session_register());
}

/* Tell the monitor why the session ended (it marks the registry). */
void
relay_mon_end(struct sess *S)
{
	struct relay *R = S->R;

	mm_session_end(R->end_reason[0] != '\0' ? R->end_reason : "ended");
}

/* The monitor ended the session (admin kill or lock, revoked grant). */
static void
relay_mon_act(struct sess *S, const struct mon_msg *m)
{
	struct relay *R = S->R;
	char why[sizeof(R->end_reason)], ev[MON_TEXT_MAX + 96];

	if (R->done || R->finishing != 0)
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
		audit_ev(BEV_SESSION_REVOKED, "session", S->sid, "user",
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
	if (relay_wr_asking(S))
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
	struct relay *R = S->R;

	if (R->monpoll_on) {
		uv_poll_stop(&R->monpoll);
		R->monpoll_on = 0;
	}
	log_error("session %s: %s", S->sid, why);
	if (R->done || R->finishing != 0)
		return;
	sess_tell(S, "\nbastion: session closed: the bastion's session "
	    "monitor stopped\n");
	if (relay_wr_asking(S))
		relay_wr_done(S, WR_UNANSWERED, NULL, "session monitor gone");
	relay_end(S, "session monitor gone");
}

static void
relay_mon_cb(uv_poll_t *h, int status, int events)
{
	struct sess *S = h->data;
	struct relay *R = S->R;
	char b[MON_LINE_MAX];
	ssize_t n;

	(void)events;
	n = read(WORKER_FD_CONTROL, b, sizeof(b));
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && status == 0)
		return;
	if (n <= 0)
		relay_mon_gone(S, "the listener closed the control pipe");
	else if (mon_reader_feed(&R->mon, b, (size_t)n, relay_mon_line, S) ==
	    BERR_LIMIT)
		relay_mon_gone(S, "the listener sent an overlong line");
	relay_step(S);
}

/* The monitor's late answers (forwards, file export decisions): those put
 * aside while the child waited for another answer, then those on the
 * socket now. */
static void
relay_mon_answers(struct sess *S)
{
	char why[256], by[200], text[256];
	enum mm_fwd st;
	uint32_t id;
	int64_t xid;
	int fd, r, xst;

	while ((r = mm_forward_answer(&id, &st, &fd, why, sizeof(why))) == 1)
		relay_forward_answered(S, id, (int)st, fd, why);
	/* file export decisions (relay_export.c) */
	while (mm_export_answer(&xid, &xst, by, sizeof(by), text,
	    sizeof(text)) == 1)
		relay_export_decided(S, xid, xst, by, text);
	if (r < 0 && S->R->mmpoll_on) {
		uv_poll_stop(&S->R->mmpoll);
		relay_mon_gone(S, "the monitor closed the request socket");
	}
}

/* The request socket: answers, and room for what waits in
 * monitor_wrap.c's queue. */
static void
relay_mm_cb(uv_poll_t *h, int status, int events)
{
	struct sess *S = h->data;

	(void)status;
	if (events & UV_WRITABLE)
		mm_flush_queue();
	relay_mon_answers(S);
	relay_step(S);
}

/* Answers put aside during a round: taken on the next turn of the loop,
 * since the socket may never say readable for them again. */
static void
relay_mm_late_cb(uv_timer_t *t)
{
	struct sess *S = t->data;

	relay_mon_answers(S);
	relay_step(S);
}

int
relay_mon_start(struct sess *S)
{
	struct relay *R = S->R;
	int fl;

	mon_reader_init(&R->mon);
	if (relay_mon_register(S) != 0 ||
	    uv_poll_init(R->loop, &R->monpoll, WORKER_FD_CONTROL) != 0)
		return (-1);
	R->monpoll.data = S;
	R->monpoll_on = 1;
	uv_poll_start(&R->monpoll, UV_READABLE, relay_mon_cb);
	if (uv_poll_init(R->loop, &R->mmpoll, mm_fd()) != 0)
		return (-1);
	/* uv_poll_init made the socket non-blocking; the requests the
	 * relay still waits for (audit, session.end) need it blocking */
	if ((fl = fcntl(mm_fd(), F_GETFL)) != -1)
		(void)fcntl(mm_fd(), F_SETFL, fl & ~O_NONBLOCK);
	R->mmpoll.data = S;
	R->mmpoll_on = 1;
	uv_timer_init(R->loop, &R->mmlate);
	R->mmlate.data = S;
	R->mmlate_on = 1;
	relay_mon_update(S);
	return (0);
}

void
relay_mon_update(struct sess *S)
{
	struct relay *R = S->R;
	int ev;

	if (!R->mmpoll_on)
		return;
	ev = UV_READABLE | (mm_queue_len() > 0 ? UV_WRITABLE : 0);
	if (ev != R->mmpoll_ev) {
		R->mmpoll_ev = ev;
		uv_poll_start(&R->mmpoll, ev, relay_mm_cb);
	}
	if (R->mmlate_on && mm_late_len() > 0)
		uv_timer_start(&R->mmlate, relay_mm_late_cb, 0, 0);
}
