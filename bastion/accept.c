/*
 * accept.c - accepted connections before their worker (docs/
 * ARCHITECTURE.md, "Pre-authentication limits").
 *
 * The listener parses no byte from the network: it only peeks (MSG_PEEK)
 * at a client's first four bytes, which stay in the socket for the
 * worker. A connection first waits here, cheaply (a descriptor and a
 * small struct, no process), up to PRE_IDENT_MS: "SSH-" gets a worker at
 * once; anything else is dropped at once; silence (a client that waits
 * for the server to speak first, a probe, an idle attacker) gets a worker
 * only from the small shared pool. A source in its penalty period, or
 * over its per-source limit, is refused with one line and closed once
 * the client closes. The rules themselves (penalties, limits, pools and
 * their random early drop) are preauth.c's; this file does the I/O and
 * the counting, and hands admitted connections to registry_spawn().
 *
 * From a load balancer listed in the policy's proxy_protocol.from, a
 * connection must first bring a PROXY protocol header (v2 or v1,
 * proto/proxyproto.c) within the login grace; it is taken from the
 * socket to its last byte and no further, and its source address is the
 * engineer's from then on: the vendor's pool, the penalties, the
 * per-source limits and the worker all see it, with the balancer kept
 * as "via". No header, a bad one or silence: dropped (fail closed).
 * From anywhere else no header is read, so a forged one is just bytes
 * that are not "SSH-".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "proxyproto.h"

#define PRE_MAX			4096	/* connections waiting for first bytes */
#define PRE_IDENT_MS		100	/* ...at most this long: SSH clients
					   send "SSH-" right after connecting */
#define PRE_RECHECK_MS		20	/* "S", "SS", "SSH" so far: look again */
#define PRE_LINGER_MS		2000	/* after a refusal line: the client's
					   FIN, so that no RST eats the line */
#define PRE_DRAIN_MAX		4096	/* bytes read and dropped meanwhile */
#define PRE_LINGER_MAX		1024	/* refused ones waiting so; beyond,
					   closed at once (a flood) */

static void
client_close_cb(uv_handle_t *h)
{
	free(h);
}

/*
 * conn.refused, rate-limited: every refused connection of a flood would
 * otherwise be a synced line in the audit chain (filling the disk, and
 * holding up this loop). At most REFUSED_PER_S events a second; the rest
 * are counted and reported once the flood ebbs (conn.refused_suppressed).
 */
#define REFUSED_PER_S	5

static void
accept_refused(const struct listener *L, const char *addr, const char *why,
    const char *via)
{
	static time_t sec;
	static unsigned n, suppressed;
	time_t now = bclock_wall_s(L->clock);
	char cnt[24];

	if (now != sec) {
		if (suppressed > 0) {
			snprintf(cnt, sizeof(cnt), "%u", suppressed);
			audit_ev(BEV_CONN_REFUSED_SUPPRESSED, "count", cnt,
			    "reason", "more refused connections than the "
			    "audit log takes per second (a flood?)", NULL);
		}
		sec = now;
		n = suppressed = 0;
	}
	if (++n > REFUSED_PER_S) {
		suppressed++;
		return;
	}
	audit_ev(BEV_CONN_REFUSED, "from", addr, "reason", why,
	    via != NULL ? "via" : NULL, via, NULL);
}

/* accept_refused for p: its address and, behind a balancer, the
 * balancer's. */
static void
pre_refused(const struct preconn *p, const char *why)
{
	char addr[64], via[64];

	netaddr_str(&p->peer, addr, sizeof(addr));
	if (p->via_set)
		netaddr_str(&p->via, via, sizeof(via));
	accept_refused(p->L, addr, why, p->via_set ? via : NULL);
}

/* ---- before the worker: first bytes, per-source limits, pools ------- */

/* Unauthenticated connections that share a's source (waiting here or in
 * workers), and workers per pool (vendor's own for POOL_VENDOR). */
static void
pre_count(const struct listener *L, const struct netaddr *a,
    const char *vendor, struct preauth_count *n)
{
	const struct preconn *p;
	const struct worker *w;

	memset(n, 0, sizeof(*n));
	for (p = L->pre; p != NULL; p = p->next)
		if (!p->refusing && !p->proxy &&
		    preauth_source_same(&p->peer, a))
			n->source++;
	for (w = L->workers; w != NULL; w = w->next) {
		if (w->authed)
			continue;
		if (preauth_source_same(&w->peer, a))
			n->source++;
		if (w->pool == POOL_SILENT)
			n->silent++;
		else if (w->pool == POOL_GENERAL)
			n->general++;
		else if (strcmp(w->vendor, vendor) == 0)
			n->vendor++;
	}
}

static void
pre_close_cb(uv_handle_t *h)
{
	struct preconn *p = h->data;

	if (--p->nopen == 0)
		free(p);
}

/* Done with it here: refused, dropped, gone, or its worker has a copy. */
void
accept_close(struct preconn *p)
{
	if (p->fd == -1)
		return;
	/* stops polling at once; only then may the descriptor go */
	uv_close((uv_handle_t *)&p->poll, pre_close_cb);
	uv_close((uv_handle_t *)&p->timer, pre_close_cb);
	close(p->fd);
	p->fd = -1;
	if ((*p->prevp = p->next) != NULL)
		p->next->prevp = p->prevp;
	p->L->npre--;
	if (p->refusing)
		p->L->nlinger--;
}

/* Handoff: a worker if the pool has room, else closed without a word. */
static void
pre_handoff(struct preconn *p, enum pre_pool pool)
{
	struct listener *L = p->L;
	struct preauth_count n;
	const char *why;
	uint32_t rnd;
	char addr[64], via[64], proxied[160];

	pre_count(L, &p->peer, p->vendor, &n);
	why = preauth_pool_refused(L->pol, pool, &n,
	    getrandom(&rnd, sizeof(rnd), 0) == sizeof(rnd) ? (int64_t)rnd : -1);
	if (why != NULL)
		pre_refused(p, why);
	else {
		if (p->via_set)
			snprintf(proxied, sizeof(proxied), "%s,%u,%s",
			    netaddr_str(&p->peer, addr, sizeof(addr)),
			    (unsigned)p->port,
			    netaddr_str(&p->via, via, sizeof(via)));
		registry_spawn(L, p->fd, &p->peer, pool, p->vendor,
		    p->via_set ? proxied : NULL);
	}
	accept_close(p);
}

static void pre_timer_cb(uv_timer_t *t);
static void pre_poll_cb(uv_poll_t *h, int status, int events);
static int pre_admit(struct preconn *p);
static void pre_check(struct preconn *p, int final);

/* Some bytes are there, not all: look again shortly (a readable socket
 * would only spin), by the deadline at the latest. */
static void
pre_recheck(struct preconn *p)
{
	uint64_t now = uv_now(p->L->loop), left;

	uv_poll_stop(&p->poll);
	left = p->deadline > now ? p->deadline - now : 0;
	uv_timer_start(&p->timer, pre_timer_cb, left < PRE_RECHECK_MS ?
	    left : PRE_RECHECK_MS, 0);
}

/*
 * From a trusted balancer: its PROXY header first. Peeked until whole,
 * then exactly its bytes taken; the SSH identification behind it stays
 * in the socket. Then the connection goes on as one from the address
 * the header names (a LOCAL header, the balancer's own check: from the
 * balancer).
 */
static void
pre_proxy(struct preconn *p, int final)
{
	uint8_t b[PROXYPROTO_MAX];
	struct proxyproto_hdr h;
	const char *why;
	ssize_t n;
	int r;

	n = recv(p->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		accept_close(p);		/* gone before it said anything */
		return;
	}
	r = proxyproto_parse(b, n > 0 ? (size_t)n : 0, &h, &why);
	if (r == PROXYPROTO_MORE && !final) {
		if (n > 0)
			pre_recheck(p);
		return;
	}
	if (r == PROXYPROTO_MORE)
		why = "the load balancer sent no whole PROXY protocol header "
		    "within the login grace";
	else if (r > 0 && recv(p->fd, b, (size_t)r, MSG_DONTWAIT) != r) {
		r = -1;
		why = "the PROXY protocol header could not be read";
	}
	if (r <= 0) {
		pre_refused(p, why);
		accept_close(p);
		return;
	}
	p->proxy = 0;
	if (!h.local) {
		p->via = p->peer;
		p->via_set = 1;
		p->peer = h.src;
		p->port = h.sport;
	}
	/* now as any connection: its first bytes, from the address named */
	p->deadline = uv_now(p->L->loop) + PRE_IDENT_MS;
	uv_poll_start(&p->poll, UV_READABLE, pre_poll_cb);
	uv_timer_start(&p->timer, pre_timer_cb, PRE_IDENT_MS, 0);
	if (pre_admit(p) == 0)
		pre_check(p, 0);
}

/*
 * Look at (never take) the client's first bytes. "SSH-" goes to a worker;
 * anything else is dropped; a prefix of it ("S", "SS", "SSH") is looked at
 * again shortly. At the deadline (final), silence goes to the silent pool
 * and an unfinished "SSH-" is dropped.
 */
static void
pre_check(struct preconn *p, int final)
{
	char b[4];
	ssize_t n;

	if (p->proxy) {
		pre_proxy(p, final);
		return;
	}
	n = recv(p->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		accept_close(p);		/* gone before it said anything */
		return;
	}
	if (n < 0)
		n = 0;
	if (n == (ssize_t)sizeof(b) && memcmp(b, "SSH-", 4) == 0) {
		pre_handoff(p, p->vendor[0] != '\0' ? POOL_VENDOR :
		    POOL_GENERAL);
		return;
	}
	if (n > 0 && (memcmp(b, "SSH-", (size_t)n) != 0 || final)) {
		pre_refused(p, "the client did not begin with an SSH "
		    "identification");
		accept_close(p);
		return;
	}
	if (final) {
		pre_handoff(p, POOL_SILENT);
		return;
	}
	if (n > 0)
		pre_recheck(p);		/* the rest is on its way */
}

/* After a refusal line: read and drop what the client still sends until
 * it closes (closing on unread bytes would send an RST, which may destroy
 * the line before the client reads it). */
static void
pre_drain(struct preconn *p)
{
	char b[512];
	ssize_t n;
	int i;

	for (i = 0; i < 8; i++) {
		n = recv(p->fd, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n <= 0 || (p->drained += (size_t)n) > PRE_DRAIN_MAX)
			break;
	}
	if (i == 8 && p->drained <= PRE_DRAIN_MAX)
		return;			/* more next time round the loop */
	accept_close(p);
}

static void
pre_poll_cb(uv_poll_t *h, int status, int events)
{
	struct preconn *p = h->data;

	(void)events;
	if (status < 0)
		accept_close(p);
	else if (p->refusing)
		pre_drain(p);
	else
		pre_check(p, 0);
}

static void
pre_timer_cb(uv_timer_t *t)
{
	struct preconn *p = t->data;

	if (p->refusing)
		accept_close(p);
	else
		pre_check(p, uv_now(p->L->loop) >= p->deadline);
}

/* Refuse with one line of text (RFC 4253 4.2 lets a server send lines
 * before its identification; OpenSSH's ssh -v shows it as "banner line"),
 * then wait for the client to close. */
static void
pre_refuse(struct preconn *p, const char *line)
{
	(void)send(p->fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(p->fd, SHUT_WR);
	p->refusing = 1;
	p->L->nlinger++;
	if (p->L->nlinger > PRE_LINGER_MAX) {
		/* a flood of refusals: no time to be polite */
		pre_drain(p);
		accept_close(p);
		return;
	}
	uv_timer_start(&p->timer, pre_timer_cb, PRE_LINGER_MS, 0);
}

/* Hold fd (ours) until the client's first bytes; NULL (fd closed) when the
 * handles cannot be set up. */
static struct preconn *
pre_new(struct listener *L, int fd, const struct netaddr *a)
{
	struct preconn *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return (NULL);
	}
	if (uv_poll_init_socket(L->loop, &p->poll, fd) != 0) {
		close(fd);
		free(p);
		return (NULL);
	}
	uv_timer_init(L->loop, &p->timer);
	p->poll.data = p->timer.data = p;
	p->nopen = 2;
	p->L = L;
	p->fd = fd;
	p->peer = *a;
	p->deadline = uv_now(L->loop) + PRE_IDENT_MS;
	if ((p->next = L->pre) != NULL)
		L->pre->prevp = &p->next;
	p->prevp = &L->pre;
	L->pre = p;
	L->npre++;
	uv_poll_start(&p->poll, UV_READABLE, pre_poll_cb);
	uv_timer_start(&p->timer, pre_timer_cb, PRE_IDENT_MS, 0);
	return (p);
}

/*
 * The rules on p's source address: its vendor's pool, a penalty period,
 * the per-source limit. 0: admitted (waiting for its first bytes), -1:
 * refused with a line.
 */
static int
pre_admit(struct preconn *p)
{
	struct listener *L = p->L;
	const struct policy_vendor *v;
	struct preauth_count n;
	time_t left;
	const char *why;
	char line[128];

	if ((v = preauth_source_vendor(L->pol, &p->peer)) != NULL)
		snprintf(p->vendor, sizeof(p->vendor), "%s", v->name);
	if ((left = preauth_penalty_left(&L->pa, &p->peer,
	    bclock_wall_s(L->clock))) > 0) {
		pre_refused(p, "source address is in a penalty period "
		    "after repeated authentication failures");
		snprintf(line, sizeof(line), "bastion: too many failed logins "
		    "from your address; try again in %lld s\r\n",
		    (long long)left);
		pre_refuse(p, line);
		return (-1);
	}
	pre_count(L, &p->peer, p->vendor, &n);	/* p itself included */
	if ((why = preauth_source_refused(L->pol, v != NULL, &n)) != NULL) {
		pre_refused(p, why);
		pre_refuse(p, "bastion: too many unfinished logins from your "
		    "address; try again in a few seconds\r\n");
		return (-1);
	}
	return (0);
}

/* 1 if a is one of the policy's proxy_protocol.from balancers. */
static int
pre_from_balancer(const struct policy *pol, const struct netaddr *a)
{
	size_t i;

	for (i = 0; i < pol->nproxy_from; i++)
		if (netaddr_in_cidr(a, &pol->proxy_from[i]))
			return (1);
	return (0);
}

/* A new connection on fd (the accepted socket, which stays the caller's). */
static void
pre_start(struct listener *L, int fd, const struct netaddr *a)
{
	struct preconn *p;
	char addr[64];
	int nfd;

	netaddr_str(a, addr, sizeof(addr));
	if (L->npre - L->nlinger >= PRE_MAX) {
		accept_refused(L, addr, "too many connections waiting for their "
		    "SSH identification", NULL);
		return;
	}
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		log_warn("connection from %s dropped: %s", addr,
		    strerror(errno));
		return;
	}
	if ((p = pre_new(L, nfd, a)) == NULL) {
		log_warn("connection from %s dropped: out of memory", addr);
		return;
	}
	if (pre_from_balancer(L->pol, a)) {
		/* its header first, within the login grace; the rules
		 * apply to the address it names */
		p->proxy = 1;
		p->deadline = uv_now(L->loop) + (uint64_t)L->pol->login_grace *
		    1000;
		uv_timer_start(&p->timer, pre_timer_cb, (uint64_t)
		    L->pol->login_grace * 1000, 0);
		return;
	}
	(void)pre_admit(p);
}

void
accept_conn_cb(uv_stream_t *server, int status)
{
	struct listener *L = server->data;
	struct sockaddr_storage ss;
	int sl = sizeof(ss), fd;
	struct netaddr a;
	uv_tcp_t *c;

	if (status < 0 || L->stopping)
		return;
	if ((c = malloc(sizeof(*c))) == NULL)
		return;
	uv_tcp_init(L->loop, c);
	if (uv_accept(server, (uv_stream_t *)c) == 0 &&
	    uv_tcp_getpeername(c, (struct sockaddr *)&ss, &sl) == 0 &&
	    netaddr_from_sockaddr((struct sockaddr *)&ss, &a) == 0 &&
	    uv_fileno((uv_handle_t *)c, &fd) == 0)
		pre_start(L, fd, &a);
	/* what goes on holds its own copy of the socket */
	uv_close((uv_handle_t *)c, client_close_cb);
}

