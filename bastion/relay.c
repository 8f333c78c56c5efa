/*
 * relay.c - move a session's bytes between engineer and device: the loop.
 *
 * Both SSH sessions are non-blocking and registered in one ssh_event; a
 * uv_poll_t on each socket wakes the loop, ssh_event_dopoll(ev, 0) lets
 * libssh process what arrived, and relay_step() runs one round: the
 * engineer's requests (from libssh's message queue, so that a forward's
 * request can be answered later), the session channels' pumps
 * (relay_pump.c) or the work-record question (relay_wr.c), the forwards
 * (relay_fwd.c). A one-second timer applies the idle and maximum-length
 * limits (relay_limits.c) and sends keepalives. The monitor link is
 * relay_mon.c. The relay's state is struct relay (relay.h), made here.
 *
 * Ending: the first reason given is the one reported; while the engineer
 * is still connected their channel is closed (with the exit status) and
 * the relay lingers, RELAY_LINGER_S at most, until they disconnect.
 */
#include <fcntl.h>
#include <malloc.h>
#include <errno.h>
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
#include "uvloop.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

void
relay_end(struct sess *S, const char *reason)
{
	struct relay *R = S->R;

	/* the first reason given is the one reported */
	if (R->end_reason[0] == '\0' && reason != R->end_reason)
		snprintf(R->end_reason, sizeof(R->end_reason), "%s", reason);
	R->done = 1;
}

/* A pump failed: because recording failed (tell the engineer), or the
 * channel broke. */
void
relay_rec_or_channel_failed(struct sess *S)
{
	if (S->rec_failed) {
		sess_tell(S, "\nbastion: session ended: it can no longer be "
		    "recorded (%s)\n", rec_client_error(S->rec));
		relay_end(S, "recording failed");
	} else
		relay_end(S, "channel error");
}

time_t
relay_now(const struct relay *R)
{
	return (bclock_wall_s(R->clock));
}

/* snprintf for texts that may be cut (reasons, messages). */
void
relay_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/*
 * One request of the engineer's: 0 answered, 1 to be refused (the
 * default answer), 2 kept (a forward waiting for its connection: the
 * relay answers and frees it later).
 */
static int
relay_msg(struct sess *S, ssh_message m)
{
	int type = ssh_message_type(m), sub = ssh_message_subtype(m);

	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP)
		return (relay_forward_ask(S, m) ? 2 : 0);
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
		audit_ev(BEV_FORWARD_REFUSED, "session", S->sid, "user",
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
 * The engineer's requests, from libssh's queue: those that arrived during
 * the blocking phase, behind the one that ended it, and every one since
 * (no message callback is set, so that a forward's request can outlive
 * the round that read it). In non-blocking mode ssh_message_get()
 * returns the queue head or NULL.
 */
static void
relay_drain_queued(struct sess *S)
{
	struct relay *R = S->R;
	ssh_message m;
	int r;

	while (!R->done && (m = ssh_message_get(S->vs)) != NULL) {
		if ((r = relay_msg(S, m)) == 2)
			continue;
		if (r != 0)
			ssh_message_reply_default(m);
		ssh_message_free(m);
	}
}

/*
 * Forward the device's end to the engineer, then close the engineer's
 * channel; or, when the engineer closed it first, answer with our close.
 */
void
relay_finish_vendor(struct sess *S)
{
	struct relay *R = S->R;

	if (S->vch == NULL)
		return;
	if (ssh_channel_is_open(S->vch)) {
		relay_forward_exit(S);
		if (!R->dch_eof_fwd)
			ssh_channel_send_eof(S->vch);
		R->dch_eof_fwd = 1;
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
	if (R->finishing == 0)
		R->finishing = relay_now(R);
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
	struct relay *R = S->R;

	uvloop_stop(R->loop);	/* every watcher, the monitor link's too */
	relay_forwards_close(S);
	R->stopped = 1;
}

void
relay_step(struct sess *S)
{
	struct relay *R = S->R;

	if (R->stopped)
		return;
	if (!R->done) {
		if (ssh_event_dopoll(R->ev, 0) == SSH_ERROR) {
			if (!ssh_is_connected(S->vs))
				relay_end(S, "engineer disconnected");
			else if (S->dc.s != NULL &&
			    !ssh_is_connected(S->dc.s) && !relay_wr_asking(S))
				relay_end(S, "device disconnected");
		}
		relay_drain_queued(S);
		if (relay_wr_asking(S))
			relay_wr_input(S);
		else
			relay_session_channels(S);
		relay_forwards_pump(S);
		if (!ssh_is_connected(S->vs))
			relay_end(S, R->finishing ? R->end_reason :
			    "engineer disconnected");
		if (!R->done && S->dc.s != NULL &&
		    !ssh_is_connected(S->dc.s) && R->to_vendor.n == 0 &&
		    R->finishing == 0 && R->wr == WR_NONE) {
			snprintf(R->end_reason, sizeof(R->end_reason),
			    "device disconnected");
			relay_wrap_up(S);
		}
	}
	/*
	 * Ending while the engineer is still connected: close their channel
	 * (with the exit status) and linger until they have drained and
	 * disconnected (relay_finish_vendor, relay_timer_cb).
	 */
	if (R->done && R->finishing == 0 && S->vch != NULL &&
	    ssh_channel_is_open(S->vch) && ssh_is_connected(S->vs)) {
		relay_finish_vendor(S);
		if (R->finishing != 0)
			R->done = 0;
	}
	if (R->done) {
		relay_stop(S);
		return;
	}
	relay_update_poll(&R->vpoll, S->vs, &R->vpoll_ev);
	if (S->dc.s != NULL && !relay_wr_asking(S))
		relay_update_poll(&R->dpoll, S->dc.s, &R->dpoll_ev);
	relay_mon_update(S);
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

/* Once a second: idle and maximum-length limits with a warning, and
 * keepalives. */
static void
relay_timer_cb(uv_timer_t *t)
{
	struct sess *S = t->data;
	struct relay *R = S->R;
	const struct policy *p = S->pol;
	time_t now = relay_now(R);
	struct relay_limits_out lo;
	char d[64], w[64];

	memset(&lo, 0, sizeof(lo));
	if (R->finishing != 0)
		goto linger;
	/* (kill, lock and revoke come from the monitor: relay_mon.c) */
	if (relay_wr_asking(S)) {
		relay_wr_tick(S, now);
		goto linger;
	}
	if (!R->done) {
		if (relay_export_waiting(S))	/* the engineer waits for us */
			R->lim.last_activity = now;
		relay_limits_check(p, &R->lim, now, &lo);
		if (lo.idle_warn_in > 0) {
			relay_fmt_duration(lo.idle_warn_in, w, sizeof(w));
			sess_tell(S, "\nbastion: this session is idle and will "
			    "be closed in %s unless there is activity\n", w);
			audit_ev(BEV_SESSION_IDLE_WARNING, "session", S->sid,
			    "user", S->au.who->name, NULL);
			(void)sess_rec_event(S, "idle.warning", w);
		}
		if (lo.idle_close) {
			relay_fmt_duration(p->idle_timeout, d, sizeof(d));
			sess_tell(S, "\nbastion: session closed: idle for "
			    "%s\n", d);
			relay_end(S, "idle timeout");
		}
	}
	if (!R->done && (lo.max_warn_in > 0 || lo.max_close)) {
		if (lo.max_warn_in > 0) {
			relay_fmt_duration(lo.max_warn_in, w, sizeof(w));
			sess_tell(S, "\nbastion: the maximum session length "
			    "is reached in %s; save your work\n", w);
		}
		if (lo.max_close) {
			relay_fmt_duration(p->max_session, d, sizeof(d));
			sess_tell(S, "\nbastion: session closed: maximum "
			    "session length (%s) reached\n", d);
			relay_end(S, "maximum session length");
		}
	}
	if (!R->done && p->keepalive > 0 &&
	    now - R->last_keepalive >= (time_t)p->keepalive) {
		ssh_send_keepalive(S->vs);
		if (S->dc.s != NULL)
			ssh_send_keepalive(S->dc.s);
		R->last_keepalive = now;
	}
linger:
	if (R->finishing != 0 && now - R->finishing >= RELAY_LINGER_S) {
		/* a client that does not answer our close (the hangs PuTTY
		 * had): worth a line, the session ends all the same */
		log_info("session %s: the engineer's client did not close the "
		    "connection within %d s of the session's end; the bastion "
		    "disconnects it", S->sid, RELAY_LINGER_S);
		relay_end(S, R->end_reason);
		R->done = 1;
		relay_stop(S);
		return;
	}
	relay_step(S);
}

int
relay_run(struct sess *S, ssh_message first_fwd)
{
	struct relay *R;
	uv_loop_t loop;
	char in[24], out[24], secs[24];

	if ((R = calloc(1, sizeof(*R))) == NULL)
		return (WORKER_EXIT_ERROR);
	if (uv_loop_init(&loop) != 0) {
		free(R);
		return (WORKER_EXIT_ERROR);
	}
	S->R = R;
	R->S = S;
	R->clock = bclock_system();
	R->loop = &loop;
	R->lim.start = R->lim.last_activity = R->last_keepalive = relay_now(R);
	R->ev = ssh_event_new();
	ssh_set_blocking(S->vs, 0);
	ssh_set_counters(S->vs, &R->vctr, NULL);	/* relay_gather() */
	ssh_event_add_session(R->ev, S->vs);
	uv_poll_init(&loop, &R->vpoll, ssh_get_fd(S->vs));
	R->vpoll.data = S;
	if (S->dc.s != NULL) {
		ssh_set_blocking(S->dc.s, 0);
		ssh_set_counters(S->dc.s, &R->dctr, NULL);
		ssh_event_add_session(R->ev, S->dc.s);
		relay_dch_cb.userdata = S;
		ssh_callbacks_init(&relay_dch_cb);
		ssh_set_channel_callbacks(S->dch, &relay_dch_cb);
		uv_poll_init(&loop, &R->dpoll, ssh_get_fd(S->dc.s));
		R->dpoll.data = S;
		R->dpoll_on = 1;
	}
	uv_timer_init(&loop, &R->timer);
	R->timer.data = S;
	uv_timer_start(&R->timer, relay_timer_cb, 1000, 1000);

	if (S->rec != NULL) {
		int fl;

		uv_poll_init(&loop, &R->recpoll, rec_client_fd(S->rec));
		/* uv_poll_init made the socket non-blocking; rec_client relies
		 * on blocking sends with a timeout (readiness polling does not
		 * care either way) */
		if ((fl = fcntl(rec_client_fd(S->rec), F_GETFL)) != -1)
			(void)fcntl(rec_client_fd(S->rec), F_SETFL,
			    fl & ~O_NONBLOCK);
		R->recpoll.data = S;
		uv_poll_start(&R->recpoll, UV_READABLE, relay_rec_poll_cb);
	}
	/* the listener's monitor: register, then hear from it */
	if (relay_mon_start(S) != 0) {
		log_error("session %s: cannot reach the session monitor on "
		    "fd %d: %s", S->sid, WORKER_FD_CONTROL, strerror(errno));
		sess_tell(S, "bastion: the session cannot be registered with "
		    "the bastion's session monitor, so it will not start; try "
		    "again later\n");
		relay_end(S, "session monitor unavailable");
	} else {
		/* key exchange, authentication and the device login are
		 * done: give their freed memory back before hours of relay */
		(void)malloc_trim(0);
		privsep_selftest(S);	/* off unless bastiond's env says */
	}
	/* the sftp airlock (relay_sftp.c, docs/FILES.md) */
	if (!R->done && S->kind == SESS_SUBSYSTEM && S->command != NULL &&
	    strcmp(S->command, "sftp") == 0 && relay_sftp_start(S) != 0)
		relay_end(S, "out of memory");
	if (first_fwd != NULL) {
		if (R->done)
			ssh_message_reply_default(first_fwd);
		if (R->done || !relay_forward_ask(S, first_fwd))
			ssh_message_free(first_fwd);
	}
	relay_step(S);
	if (!R->done)
		uv_run(&loop, UV_RUN_DEFAULT);

	/* flush what is left towards the engineer before leaving */
	if (S->dc.s != NULL)
		ssh_event_remove_session(R->ev, S->dc.s);
	ssh_event_remove_session(R->ev, S->vs);
	ssh_event_free(R->ev);
	R->ev = NULL;
	if (uvloop_close(&loop) != 0)
		log_error("session %s: event loop still busy at exit", S->sid);
	ssh_set_blocking(S->vs, 1);
	ssh_blocking_flush(S->vs, 5000);

	snprintf(in, sizeof(in), "%llu", (unsigned long long)R->bytes_in);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)R->bytes_out);
	snprintf(secs, sizeof(secs), "%lld",
	    (long long)(relay_now(R) - R->lim.start));
	relay_sftp_end(S);	/* files left open: "incomplete" */
	relay_wr_settle(S);	/* before the seal */
	if (S->rec != NULL && !S->rec_failed) {
		char text[256];

		snprintf(text, sizeof(text), "%s; bytes in %s, out %s",
		    R->end_reason, in, out);
		(void)sess_rec_event(S, "session.end", text);
	}
	sess_rec_close(S);
	audit_ev(BEV_SESSION_END, "session", S->sid, "user",
	    S->au.who->name, "vendor", S->au.who->vendor->name, "from",
	    S->peerstr, "device", S->dev ? S->dev->name : NULL, "reason",
	    R->end_reason, "bytes_in", in, "bytes_out", out, "seconds", secs,
	    NULL);
	relay_mon_end(S);
	S->R = NULL;
	free(R);
	return (WORKER_EXIT_OK);
}
