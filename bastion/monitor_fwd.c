/*
 * monitor_fwd.c - the monitor's side of a forward's connection
 * (MREQ_FORWARD_CONNECT, privsep.h), without holding up the monitor or
 * the session.
 *
 * The request is checked as strictly as ever (the table's phase and
 * count; an engineer with a recording open; relay_forward_check, the
 * child's own rule: a child that asks for what it refuses is not the
 * child we started, and is killed), then the TCP connection is started
 * non-blocking and the request is done. The connection waits in the
 * monitor's list (struct mon_fwd) while mon_loop() goes on answering the
 * child (its audit events above all); when it is made, fails or reaches
 * MON_FORWARD_CONNECT_MS, forward.open is audited and the answer
 * (MANS_FORWARD, with the child's id and, when made, the socket) goes to
 * the child, whose relay has been running all along. At most
 * MON_FORWARD_WAIT_MAX wait at once: the child never asks for more (its
 * own limit is lower), so more is a violation.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor_req.h"
#include "netaddr.h"

#define MON_FORWARD_CONNECT_MS	5000

/* A forward's connection under way. */
struct mon_fwd {
	uint32_t id;			/* the child's */
	int fd;
	int64_t deadline;		/* monotonic ms */
	const struct policy_device *d;
	uint32_t port;
	char dest[96];			/* as the child asked */
	struct mon_fwd *next;
};

/*
 * The bastion's own end of a connection it made (ADDR:PORT, as the
 * session's source and destination are written): what the device's sshd
 * or service logs as the peer, so that its log lines can be tied to one
 * session when several run (docs/AUDIT.md, "Matching the device's log").
 */
void
mon_local_end(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct netaddr a;
	char addr[64];
	unsigned port;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    netaddr_from_sockaddr((struct sockaddr *)&ss, &a) != 0) {
		snprintf(out, len, "?");
		return;
	}
	port = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	snprintf(out, len, "%s:%u", netaddr_str(&a, addr, sizeof(addr)), port);
}


/* Audit the outcome, answer the child (fd on success: passed on, then
 * ours closed), forget f. */
static void
mon_fwd_done(struct mon *M, struct mon_fwd *f, const char *cwhy)
{
	char addr[64], to[96], local[96];
	enum mm_fwd st = MM_FWD_OK;
	struct buf *a;
	int fd = f->fd;

	netaddr_str(&f->d->addr, addr, sizeof(addr));
	snprintf(to, sizeof(to), "%s:%u", addr, f->port);
	if (cwhy != NULL) {
		audit_ev(BEV_FORWARD_OPEN, "session", M->S.sid, "user",
		    M->S.au.who->name, "from", M->S.peerstr, "device",
		    f->d->name, "to", addr, "port", f->dest, "result", "fail",
		    "reason", cwhy, NULL);
		st = MM_FWD_FAILED;
		if (fd != -1)
			close(fd);
		fd = -1;
	} else {
		M->forwards++;
		mon_local_end(fd, local, sizeof(local));
		audit_ev(BEV_FORWARD_OPEN, "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "device", f->d->name, "to", to,
		    "local", local, "result", "ok", NULL);
	}
	if ((a = mon_body()) != NULL && buf_put_u32(a, f->id) == 0 &&
	    buf_put_u32(a, (uint32_t)st) == 0 &&
	    buf_put_cstring(a, fd == -1 ? cwhy : "") == 0)
		(void)mon_reply(M, MANS_FORWARD, a, &fd, fd != -1 ? 1 : 0);
	buf_free(a);
	if (fd != -1)
		close(fd);
	free(f);
}

const char *
mon_answer_forward_connect(struct mon *M, struct buf *req)
{
	const struct policy_device *d = NULL;
	char host[256], need[256], dest[96], cwhy[256];
	const char *why;
	struct mon_fwd *f;
	uint32_t port, id;
	int r;

	if (!mon_is_engineer(M) || !M->rec_open)
		return ("no session");
	if (buf_get_u32(req, &id) != 0 ||
	    mon_get_str(req, host, sizeof(host)) != 0 ||
	    buf_get_u32(req, &port) != 0 || port > 65535)
		return ("malformed");
	if (M->nfwd_wait >= MON_FORWARD_WAIT_MAX)
		return ("too many forward connections under way");
	snprintf(dest, sizeof(dest), "%.64s:%u", host, port);
	/* the same rules the child applies before it asks: a child that
	 * asks for what they refuse is not the child we started */
	if ((why = relay_forward_check(&M->S, host, (int)port, &d, need,
	    sizeof(need))) != NULL) {
		char v[400];

		snprintf(v, sizeof(v), "a forward to %s: %s", dest, why);
		audit_ev(BEV_FORWARD_REFUSED, "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "to", dest, "reason", why, "by",
		    "monitor", NULL);
		mon_violation(M, "forward.connect", v);
		return (NULL);
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ("out of memory");
	f->id = id;
	f->d = d;
	f->port = port;
	snprintf(f->dest, sizeof(f->dest), "%s", dest);
	if (M->ending) {	/* killed, locked, revoked, or no listener */
		f->fd = -1;
		mon_fwd_done(M, f, "the session is ending");
		return (NULL);
	}
	r = relay_connect_start(&d->addr, (uint16_t)port, &f->fd, cwhy,
	    sizeof(cwhy));
	if (r <= 0) {			/* made at once, or failed at once */
		mon_fwd_done(M, f, r == 0 ? NULL : cwhy);
		return (NULL);
	}
	f->deadline = bclock_mono_ms(NULL) + MON_FORWARD_CONNECT_MS;
	f->next = M->fwd_wait;
	M->fwd_wait = f;
	M->nfwd_wait++;
	return (NULL);
}

int
mon_fwd_poll(struct mon *M, struct pollfd *pfd, int room, int *timeout)
{
	const struct mon_fwd *f;
	int64_t now = bclock_mono_ms(NULL), left;
	int n = 0;

	for (f = M->fwd_wait; f != NULL && n < room; f = f->next) {
		pfd[n].fd = f->fd;
		pfd[n].events = POLLOUT;
		pfd[n++].revents = 0;
		left = f->deadline > now ? f->deadline - now : 0;
		if (*timeout < 0 || left < *timeout)
			*timeout = (int)left;
	}
	return (n);
}

void
mon_fwd_ready(struct mon *M, const struct pollfd *pfd, int n)
{
	struct mon_fwd **pp, *f;
	int64_t now = bclock_mono_ms(NULL);
	char cwhy[256];
	int i;

	for (pp = &M->fwd_wait; (f = *pp) != NULL;) {
		for (i = 0; i < n && pfd[i].fd != f->fd; i++)
			continue;
		if (i < n && pfd[i].revents != 0) {
			*pp = f->next;
			M->nfwd_wait--;
			mon_fwd_done(M, f, relay_connect_finish(f->fd, cwhy,
			    sizeof(cwhy)) == 0 ? NULL : cwhy);
		} else if (now >= f->deadline) {
			*pp = f->next;
			M->nfwd_wait--;
			mon_fwd_done(M, f, strerror(ETIMEDOUT));
		} else
			pp = &f->next;
		if (M->violation)
			return;
	}
}

void
mon_fwd_free(struct mon *M)
{
	struct mon_fwd *f;

	while ((f = M->fwd_wait) != NULL) {
		M->fwd_wait = f->next;
		close(f->fd);
		free(f);
	}
	M->nfwd_wait = 0;
}
