/*
 * relay_fwd.c - direct-tcpip forwards (docs/ARCHITECTURE.md, "Port
 * forwards").
 *
 * A forward goes from the bastion itself to a device port that the policy
 * lists for the engineer's vendor. The child checks the request
 * (relay_forward_check, which the monitor applies again), then asks its
 * monitor for the TCP connection and goes on relaying: the engineer's
 * channel-open request waits, unanswered, in the relay's list (struct
 * fwd_wait) until the monitor's answer comes on the request socket
 * (relay_mon.c), then is accepted or refused. A device port that
 * black-holes therefore costs the engineer that one forward, not their
 * session. Once open, a forward's bytes are pumped both ways within the
 * SSH window and recorded before they are relayed.
 */
#include <poll.h>
#include <sys/socket.h>
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

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

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
	struct relay *R = S->R;
	struct fwd **pp;

	for (pp = &R->fwds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	char in[24], out[24];

	R->nfwds--;
	snprintf(in, sizeof(in), "%llu", (unsigned long long)f->bytes_in);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)f->bytes_out);
	if (S->rec != NULL && !S->rec_failed)
		(void)sess_rec_check(S, rec_client_fwd_close(S->rec,
		    f->rec_chan));
	audit_ev(BEV_FORWARD_CLOSE, "session", S->sid, "user",
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
	struct relay *R = S->R;
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
			R->bytes_in += (uint64_t)n;
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
		R->lim.last_activity = relay_now(R);
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
		R->bytes_out += (uint64_t)n;
		R->lim.last_activity = relay_now(R);
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
relay_connect_start(const struct netaddr *a, uint16_t port, int *fdp,
    char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = netaddr_to_sockaddr(a, port, &ss);
	int fd;

	*fdp = -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		*fdp = fd;
		return (1);
	}
	*fdp = fd;
	return (0);
fail:
	snprintf(why, len, "%s", strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

int
relay_connect_finish(int fd, char *why, size_t len)
{
	socklen_t el = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err != 0) {
		snprintf(why, len, "%s", strerror(err));
		return (-1);
	}
	return (0);
}

int
relay_connect(const struct netaddr *a, uint16_t port, unsigned ms,
    char *why, size_t len)
{
	struct pollfd pfd;
	int fd, r;

	if ((r = relay_connect_start(a, port, &fd, why, len)) <= 0)
		return (r == 0 ? fd : -1);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	while ((r = poll(&pfd, 1, (int)ms)) < 0 && errno == EINTR)
		continue;
	if (r != 1) {
		snprintf(why, len, "%s", strerror(r == 0 ? ETIMEDOUT : errno));
		close(fd);
		return (-1);
	}
	if (relay_connect_finish(fd, why, len) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
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

const char *
relay_forward_refusal(const struct sess *S, const char *host, int port,
    const struct policy_device **dp, char *need, size_t needlen)
{
	const struct relay *R = S->R;
	const char *why;

	why = relay_forward_check(S, host, port, dp, need, needlen);
	if (why == NULL && R->nfwds + R->nwaits >= RELAY_MAX_FORWARDS) {
		*dp = NULL;
		why = "too many forwards open";
	}
	return (why);
}

struct fwd_wait *
relay_wait_add(struct relay *R, ssh_message m,
    const struct policy_device *d, int port, const char *dest)
{
	struct fwd_wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (NULL);
	w->id = ++R->next_wait;
	w->m = m;
	w->d = d;
	w->port = port;
	snprintf(w->dest, sizeof(w->dest), "%s", dest);
	w->next = R->waits;
	R->waits = w;
	R->nwaits++;
	return (w);
}

struct fwd_wait *
relay_wait_take(struct relay *R, uint32_t id)
{
	struct fwd_wait **pp, *w;

	for (pp = &R->waits; (w = *pp) != NULL; pp = &w->next)
		if (w->id == id) {
			*pp = w->next;
			R->nwaits--;
			w->next = NULL;
			return (w);
		}
	return (NULL);
}

/*
 * Decide a direct-tcpip request (the child): the policy check above, for
 * the engineer's message, then the monitor, which checks again and makes
 * the connection (the child can make none). The request waits for the
 * monitor's answer (relay_forward_answered) while the session goes on.
 */
int
relay_forward_ask(struct sess *S, ssh_message m)
{
	struct relay *R = S->R;
	const char *host = ssh_message_channel_request_open_destination(m);
	int port = ssh_message_channel_request_open_destination_port(m);
	const struct policy_device *d = NULL;
	const char *why = NULL;
	char dest[96], need[256];
	struct fwd_wait *w;

	snprintf(dest, sizeof(dest), "%.64s:%d", host ? host : "?", port);
	why = relay_forward_refusal(S, host, port, &d, need, sizeof(need));
	if (why != NULL) {
		audit_ev(BEV_FORWARD_REFUSED, "session", S->sid, "user",
		    S->au.who->name, "vendor", S->au.who->vendor->name, "from",
		    S->peerstr, "to", dest, "reason", why, NULL);
		sess_tell(S, "bastion: forward to %s refused: %s\n", dest, why);
		(void)sess_rec_event(S, "forward.refused", dest);
		ssh_message_reply_default(m);
		return (0);
	}
	if (S->rec == NULL || S->rec_failed ||
	    (w = relay_wait_add(R, m, d, port, dest)) == NULL) {
		/* fail closed: nothing unrecorded */
		ssh_message_reply_default(m);
		return (0);
	}
	mm_forward_ask(w->id, host, port);
	return (1);
}

void
relay_forward_answered(struct sess *S, uint32_t id, int st, int fd,
    const char *why)
{
	struct relay *R = S->R;
	struct fwd_wait *w;
	ssh_message m;
	char addr[64];
	struct fwd *f = NULL;

	if ((w = relay_wait_take(R, id)) == NULL) {
		/* not one we asked for: the monitor is not ours */
		if (fd != -1)
			close(fd);
		log_error("session %s: the monitor answered a forward that was "
		    "not asked for", S->sid);
		relay_end(S, "session monitor broke the protocol");
		return;
	}
	m = w->m;
	netaddr_str(&w->d->addr, addr, sizeof(addr));
	if (st == MM_FWD_OK && fd == -1)
		st = MM_FWD_FAILED;
	if (R->done || S->rec == NULL || S->rec_failed)
		st = -1;		/* ending: refused without a word */
	else if (st == MM_FWD_FAILED)
		/* the monitor audited forward.open result=fail */
		sess_tell(S, "bastion: forward to %s: cannot connect to %s "
		    "port %d: %s\n", w->d->name, addr, w->port, why);
	else if (st != MM_FWD_OK)
		sess_tell(S, "bastion: forward to %s refused: %s\n", w->dest,
		    why);
	if (st != MM_FWD_OK || (f = calloc(1, sizeof(*f))) == NULL)
		goto refuse;
	f->S = S;
	f->fd = fd;
	f->rec_chan = ++R->next_chan;
	snprintf(f->dest, sizeof(f->dest), "%s:%d", addr, w->port);
	if (sess_rec_check(S, rec_client_fwd_open(S->rec, f->rec_chan, addr,
	    (uint32_t)w->port, ssh_message_channel_request_open_originator(m) ?
	    ssh_message_channel_request_open_originator(m) : "-",
	    (uint32_t)ssh_message_channel_request_open_originator_port(m))) !=
	    0)
		goto refuse;
	if ((f->ch = ssh_message_channel_request_open_reply_accept(m)) ==
	    NULL)
		goto out;
	uv_poll_init(R->loop, &f->poll, fd);
	f->poll.data = f;
	f->next = R->fwds;
	R->fwds = f;
	R->nfwds++;
	f = NULL;
	fd = -1;
	/* forward.open result=ok: audited by the monitor, which made it */
	goto out;
refuse:
	ssh_message_reply_default(m);
out:
	if (fd != -1)
		close(fd);
	free(f);
	ssh_message_free(m);
	free(w);
}

void
relay_forwards_pump(struct sess *S)
{
	struct relay *R = S->R;
	struct fwd *f, *next;

	for (f = R->fwds; f != NULL; f = next) {
		next = f->next;
		if (fwd_pump(S, f) != 0)
			fwd_destroy(S, f);
	}
}

void
relay_forwards_close(struct sess *S)
{
	struct relay *R = S->R;
	struct fwd_wait *w;

	while (R->fwds != NULL)
		fwd_destroy(S, R->fwds);
	while ((w = R->waits) != NULL) {
		R->waits = w->next;
		R->nwaits--;
		ssh_message_reply_default(w->m);
		ssh_message_free(w->m);
		free(w);
	}
}
