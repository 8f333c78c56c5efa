/*
 * store_actor.c - the store actor (see store_actor.h): one thread, one
 * libuv loop, one listening SOCK_SEQPACKET socket, the connections of the
 * processes that use it, and the audit chain it alone appends to.
 *
 * A turn of the loop reads what every readable connection sent (at most
 * STORE_ACTOR_READS datagrams each, so one busy client cannot starve the
 * others), queues the audit appends, and pushes decisions at once; the
 * check phase, which libuv runs right after the I/O phase, then commits
 * the queue: one write, one fdatasync, one answer per event. Clients wait
 * for their answer, so what arrives while a commit syncs forms the next
 * group. The queue holds connection pointers only until that check phase,
 * before the closing phase frees any connection.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "auditlog_int.h"
#include "err.h"
#include "log.h"
#include "state.h"
#include "store.h"
#include "store_actor.h"
#include "store_call.h"
#include "store_client.h"
#include "store_wire.h"

#define STORE_ACTOR_READS	32	/* datagrams per connection per turn */
#define STORE_ACTOR_BUS_RETRY_MS 5000	/* the other nodes' bus lost: again */

struct actor_conn {
	struct store_actor *a;
	uv_poll_t poll;
	int fd;
	int closing;
	int refused;		/* peer credentials: answer, then end */
	unsigned perm;		/* STORE_PERM_* this peer has */
	int subscribed;
	uint8_t sub_kind;
	int64_t sub_id;
	struct actor_conn *next;
	/* the answer to a CALL still going out (its rows, then DONE): no
	 * other request is read meanwhile */
	struct actor_out *qhead, **qtail;
	size_t qrows;
	int qerr;		/* a row that could not be queued */
};

struct actor_out {
	struct actor_out *next;
	size_t len;
	uint8_t data[];
};

struct actor_pending {
	struct actor_conn *c;
	char *body;
};

struct store_actor {
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t stop;
	uv_poll_t listen;
	uv_check_t commit;
	int lfd;
	struct auditlog *al;
	struct store *db;		/* its own SQLite connection, or NULL */
	/* the other nodes' decisions (store.h's store_bus; PostgreSQL) */
	const struct store_bus_ops *busops;	/* NULL: one node */
	struct store_bus *bus;
	uv_poll_t bus_poll;
	uv_timer_t bus_retry;
	int bus_polling;
	struct actor_conn *conns;
	struct actor_pending pend[AUDITLOG_BATCH_MAX];
	size_t npend;
	/* the owner's side */
	uv_async_t told;
	int has_owner;
	void (*decided)(void *arg);
	void *arg;
	uv_mutex_t mu;			/* guards stats */
	struct store_actor_stats stats;
	/* the thread's scratch: one datagram and its decoding */
	uint8_t in[STORE_CALL_MAX + 1];
	uint8_t out[STORE_CALL_MAX];
	struct store_msg msg;
	struct store_call_msg cm;
	struct store_call_ctx cx;
};

static void
actor_count(struct store_actor *a, uint64_t *field, uint64_t n)
{
	uv_mutex_lock(&a->mu);
	*field += n;
	uv_mutex_unlock(&a->mu);
}

static void
actor_send(struct actor_conn *c, const struct store_msg *m)
{
	uint8_t out[STORE_MSG_MAX];
	size_t len;

	if (c->closing || store_msg_encode(m, out, sizeof(out), &len) != 0)
		return;
	/* a client that does not read its answers loses them, not us */
	(void)send(c->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
actor_error(struct actor_conn *c, int code, const char *text)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	m.type = STORE_MSG_ERROR;
	m.code = code;
	snprintf(m.text, sizeof(m.text), "%s", text);
	actor_send(c, &m);
}

static void
actor_conn_freed(uv_handle_t *h)
{
	struct actor_conn *c = h->data;
	struct actor_out *o;

	while ((o = c->qhead) != NULL) {
		c->qhead = o->next;
		free(o);
	}
	close(c->fd);
	free(c);
}

static void
actor_conn_close(struct actor_conn *c)
{
	struct actor_conn **pp;

	if (c->closing)
		return;
	c->closing = 1;
	for (pp = &c->a->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	uv_close((uv_handle_t *)&c->poll, actor_conn_freed);
}

/* ---- group commit ---------------------------------------------------- */

static void
actor_commit(struct store_actor *a)
{
	const char *bodies[AUDITLOG_BATCH_MAX];
	char hashes[AUDITLOG_BATCH_MAX][AUDITLOG_HEX_LEN + 1];
	uint64_t seqs[AUDITLOG_BATCH_MAX];
	int res[AUDITLOG_BATCH_MAX], r;
	struct store_msg m;
	size_t i, n = a->npend;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		bodies[i] = a->pend[i].body;
	r = auditlog_append_batch(a->al, bodies, n, seqs, hashes, res);
	if (r != 0)
		log_error("store actor: %zu audit events NOT in the chain: %s",
		    n, auditlog_error(a->al));
	else if (auditlog_error(a->al)[0] != '\0')
		log_warn("audit chain: %s", auditlog_error(a->al));
	/* counted before anyone is answered */
	actor_count(a, &a->stats.appends, r == 0 ? n : 0);
	actor_count(a, &a->stats.commits, 1);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		if (r == 0 && res[i] == 0) {
			m.type = STORE_MSG_APPENDED;
			m.seq = seqs[i];
			memcpy(m.hash, hashes[i], sizeof(m.hash));
			actor_send(a->pend[i].c, &m);
		} else
			actor_error(a->pend[i].c, r != 0 ? r : res[i], r != 0 ?
			    auditlog_error(a->al) : "the event is empty, too "
			    "long or holds control characters");
		free(a->pend[i].body);
	}
	a->npend = 0;
}

static void
actor_commit_cb(uv_check_t *h)
{
	actor_commit(h->data);
}

/* ---- requests -------------------------------------------------------- */

/* A decision, told here or by another node: pushed to its subscribers
 * and the owner. */
static void
actor_event(struct store_actor *a, int kind, int64_t id)
{
	struct actor_conn *c;
	struct store_msg ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = STORE_MSG_EVENT;
	ev.kind = (uint8_t)kind;
	ev.id = id;
	for (c = a->conns; c != NULL; c = c->next)
		if (c->subscribed && c->sub_kind == kind &&
		    (c->sub_id == 0 || c->sub_id == id))
			actor_send(c, &ev);
	actor_count(a, &a->stats.notices, 1);
	/* a watch's chunk is for its watcher alone (peerwatch.c) */
	if (a->has_owner && kind != STATE_EV_WATCH_DATA)
		uv_async_send(&a->told);	/* coalesced by libuv */
}

static void actor_bus_heard(int kind, int64_t id, void *arg);

static void
actor_told(struct store_actor *a, const struct store_msg *req)
{
	actor_event(a, req->kind, req->id);
	/* and to the other nodes, whose waiters may be waiting for it */
	if (!a->bus_polling)
		return;
	if (a->busops->tell(a->bus, req->kind, req->id) != 0)
		log_warn("store actor: the other nodes were not told: %s",
		    a->busops->errmsg(a->bus));
	/* what the other nodes told meanwhile was read with the answer, and
	 * will not make the socket readable again */
	else if (a->busops->read(a->bus, actor_bus_heard, a) != 0)
		log_warn("store actor: the other nodes' decisions: %s",
		    a->busops->errmsg(a->bus));
}

/* ---- the other nodes' decisions (store_bus) -------------------------- */

static void actor_bus_open(struct store_actor *a);

static void
actor_bus_retry_cb(uv_timer_t *h)
{
	actor_bus_open(h->data);
}

static void
actor_bus_heard(int kind, int64_t id, void *arg)
{
	/* rare (an admin's decision) and worth a line in each node's log;
	 * not a watch's every chunk */
	if (kind != STATE_EV_WATCH_DATA)
		log_info("store actor: a decision of another node (kind %d, "
		    "id %lld)", kind, (long long)id);
	actor_event(arg, kind, id);
}

static void
actor_bus_closed(uv_handle_t *h)
{
	struct store_actor *a = h->data;

	a->busops->close(a->bus);
	a->bus = NULL;
	(void)uv_timer_start(&a->bus_retry, actor_bus_retry_cb,
	    STORE_ACTOR_BUS_RETRY_MS, 0);
}

static void
actor_bus_read_cb(uv_poll_t *h, int status, int events)
{
	struct store_actor *a = h->data;

	(void)events;
	if (status == 0 && a->busops->read(a->bus, actor_bus_heard, a) == 0)
		return;
	log_error("store actor: lost the other nodes' decisions (waiters "
	    "here see them when they look again): %s",
	    a->busops->errmsg(a->bus));
	a->bus_polling = 0;
	uv_close((uv_handle_t *)&a->bus_poll, actor_bus_closed);
}

static void
actor_bus_open(struct store_actor *a)
{
	char why[512];

	if (a->busops->open(&a->bus, why, sizeof(why)) != 0) {
		log_error("store actor: the other nodes' decisions reach this "
		    "one only when it looks again (retrying): %s", why);
		(void)uv_timer_start(&a->bus_retry, actor_bus_retry_cb,
		    STORE_ACTOR_BUS_RETRY_MS, 0);
		return;
	}
	uv_poll_init(&a->loop, &a->bus_poll, a->busops->fd(a->bus));
	a->bus_poll.data = a;
	uv_poll_start(&a->bus_poll, UV_READABLE, actor_bus_read_cb);
	a->bus_polling = 1;
}

/* One request; 0, or BERR_FORMAT when the connection must end. */
static int
actor_request(struct actor_conn *c, const struct store_msg *m)
{
	struct store_actor *a = c->a;
	unsigned need = m->type == STORE_MSG_SUBSCRIBE ? STORE_PERM_READ :
	    STORE_PERM_WRITE;

	/* appends and decisions write, subscriptions read: the same
	 * permissions as the forwarded operations */
	if ((m->type == STORE_MSG_APPEND || m->type == STORE_MSG_NOTIFY ||
	    m->type == STORE_MSG_SUBSCRIBE) && (c->perm & need) != need) {
		actor_error(c, BERR_DENIED, "not allowed to this peer");
		return (0);
	}
	switch (m->type) {
	case STORE_MSG_APPEND:
		if (a->npend == AUDITLOG_BATCH_MAX)
			actor_commit(a);
		if ((a->pend[a->npend].body = strdup(m->text)) == NULL) {
			actor_error(c, BERR_NOMEM, "out of memory");
			return (0);
		}
		a->pend[a->npend++].c = c;
		return (0);
	case STORE_MSG_NOTIFY:
		actor_told(a, m);
		return (0);
	case STORE_MSG_SUBSCRIBE:
		c->subscribed = 1;
		c->sub_kind = m->kind;
		c->sub_id = m->id;
		return (0);
	default:
		return (BERR_FORMAT);
	}
}

/* ---- forwarded state operations (store_call.h) ---------------------- */

static int
actor_queue(struct actor_conn *c, const uint8_t *p, size_t len)
{
	struct actor_out *o;

	if ((o = malloc(sizeof(*o) + len)) == NULL)
		return (BERR_NOMEM);
	o->next = NULL;
	o->len = len;
	memcpy(o->data, p, len);
	*c->qtail = o;
	c->qtail = &o->next;
	return (0);
}

/* Send what is queued: 0 all sent, 1 the peer's socket is full (wait
 * until it is writable), BERR_CLOSED. */
static int
actor_flush(struct actor_conn *c)
{
	struct actor_out *o;
	ssize_t n;

	while ((o = c->qhead) != NULL) {
		n = send(c->fd, o->data, o->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return (1);
		if (n != (ssize_t)o->len)
			return (BERR_CLOSED);
		c->qhead = o->next;
		free(o);
	}
	c->qtail = &c->qhead;
	return (0);
}

/* Each row an operation produces: one ROW datagram, queued. */
static int
actor_call_row(const void *row, void *arg)
{
	struct actor_conn *c = arg;
	struct store_actor *a = c->a;
	size_t len;
	int r;

	if (c->qerr != 0)
		return (c->qerr);
	if (c->qrows >= STORE_CALL_ROWS)
		r = BERR_LIMIT;
	else if ((r = store_call_encode(STORE_MSG_ROW, a->cm.call, "R", NULL,
	    store_calls[a->cm.call].map, row, a->out, sizeof(a->out),
	    &len)) == 0)
		r = actor_queue(c, a->out, len);
	c->qrows++;
	return (c->qerr = r);
}

/* The answer: status, message, out-values (and row). */
static int
actor_call_done(struct actor_conn *c, const struct store_call *k, int r,
    const char *msg)
{
	struct store_actor *a = c->a;
	struct store_val v[2 + STORE_CALL_VALS];
	char shape[2 + STORE_CALL_VALS + 1];
	size_t len;

	store_call_done_shape(k, shape, sizeof(shape));
	v[0] = (struct store_val)SV_I(r);
	v[1] = (struct store_val)SV_T(msg);
	store_call_outs(k, &a->cx, v + 2);
	if (store_call_encode(STORE_MSG_DONE, a->cm.call, shape, v, k->map,
	    &a->cx.row, a->out, sizeof(a->out), &len) != 0) {
		/* too long for one datagram: say so, values cleared */
		v[0] = (struct store_val)SV_I(BERR_LIMIT);
		v[1] = (struct store_val)SV_T("the answer does not fit "
		    "in one message");
		a->cx.flag = 0;
		a->cx.n = 0;
		a->cx.id = 0;
		a->cx.u32 = 0;
		a->cx.text[0] = '\0';
		memset(&a->cx.row, 0, sizeof(a->cx.row));
		store_call_outs(k, &a->cx, v + 2);
		if (store_call_encode(STORE_MSG_DONE, a->cm.call, shape, v,
		    k->map, &a->cx.row, a->out, sizeof(a->out), &len) != 0)
			return (BERR_INTERNAL);
	}
	return (actor_queue(c, a->out, len));
}

/*
 * One CALL: decoded strictly by its table entry, checked against what the
 * peer may do, run on the actor's own connection, answered. 0, or
 * BERR_FORMAT when the connection must end.
 */
static int
actor_call(struct actor_conn *c, const uint8_t *p, size_t n)
{
	struct store_actor *a = c->a;
	struct store_call_ctx *x = &a->cx;
	const struct store_call *k;
	const char *msg = "";
	uint8_t type, call;
	int r;

	if (store_call_head(p, n, &type, &call) != 0 ||
	    type != STORE_MSG_CALL || call >= SC_NCALLS)
		return (BERR_FORMAT);
	k = &store_calls[call];
	memset(x, 0, sizeof(*x));
	if (store_call_decode(p, n, k->in, k->map, &a->cm, &x->row) != 0)
		return (BERR_FORMAT);
	memcpy(x->in, a->cm.v, sizeof(x->in));
	x->s = a->db;
	x->row_fn = actor_call_row;
	x->row_arg = c;
	c->qrows = 0;
	c->qerr = 0;
	if ((c->perm & k->perm) != k->perm) {
		r = BERR_DENIED;
		msg = "the store actor does not let this user do that";
	} else if (a->db == NULL) {
		r = BERR_INTERNAL;
		msg = "the store actor could not open the store: see "
		    "bastiond's log";
	} else {
		if ((r = k->serve(x)) == 0 && c->qerr != 0)
			r = c->qerr;
		if (r < 0)
			msg = state_local_ops()->errmsg(a->db);
		actor_count(a, &a->stats.calls, 1);
	}
	r = actor_call_done(c, k, r, msg);
	free(x->heap);
	if (r != 0) {
		log_error("store actor: cannot answer a %s call: %s", k->name,
		    berr_str(r));
		return (BERR_FORMAT);
	}
	return (0);
}

static void
actor_read_cb(uv_poll_t *h, int status, int events);

/* Send what is queued; the connection waits until it is writable when
 * the peer's socket is full. 0, 1 (waiting) or BERR_CLOSED. */
static int
actor_drain(struct actor_conn *c)
{
	int r;

	if (c->qhead == NULL)
		return (0);
	if ((r = actor_flush(c)) < 0)
		return (r);
	uv_poll_start(&c->poll, r == 1 ? UV_WRITABLE : UV_READABLE,
	    actor_read_cb);
	return (r);
}

static void
actor_read_cb(uv_poll_t *h, int status, int events)
{
	struct actor_conn *c = h->data;
	uint8_t *in = c->a->in;
	struct store_msg *m = &c->a->msg;
	uint8_t type, call;
	ssize_t n;
	int i, r;

	(void)events;
	if (status < 0 || (r = actor_drain(c)) < 0) {
		actor_conn_close(c);
		return;
	}
	if (r == 1)
		return;		/* the answer still going out comes first */
	for (i = 0; i < STORE_ACTOR_READS && !c->closing; i++) {
		n = recv(c->fd, in, sizeof(c->a->in), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			actor_conn_close(c);
			return;
		}
		if (c->refused) {
			/* told only once its request was read: closing with
			 * unread data would reset the connection and lose
			 * the answer */
			actor_error(c, BERR_DENIED, "the store actor admits "
			    "only root and its own user");
			actor_conn_close(c);
			return;
		}
		if ((size_t)n <= STORE_CALL_MAX && store_call_head(in,
		    (size_t)n, &type, &call) == 0 && type == STORE_MSG_CALL)
			r = actor_call(c, in, (size_t)n);
		else
			r = (size_t)n > STORE_MSG_MAX ||
			    store_msg_decode(in, (size_t)n, m) != 0 ||
			    actor_request(c, m) != 0 ? BERR_FORMAT : 0;
		if (r != 0) {
			log_warn("store actor: a malformed request (%zd bytes); "
			    "ending that connection", n);
			actor_error(c, BERR_FORMAT, "malformed request");
			actor_count(c->a, &c->a->stats.violations, 1);
			actor_conn_close(c);
			return;
		}
		if ((r = actor_drain(c)) < 0) {
			actor_conn_close(c);
			return;
		}
		if (r == 1)
			return;
	}
}

static void
actor_accept_cb(uv_poll_t *h, int status, int events)
{
	struct store_actor *a = h->data;
	struct actor_conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)events;
	if (status < 0)
		return;
	while ((fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->a = a;
		c->fd = fd;
		c->qtail = &c->qhead;
		if (uv_poll_init(&a->loop, &c->poll, fd) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->poll.data = c;
		c->next = a->conns;
		a->conns = c;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		    (cred.uid != 0 && cred.uid != geteuid())) {
			c->refused = 1;
			actor_count(a, &a->stats.refused, 1);
		} else
			c->perm = STORE_PERM_READ | STORE_PERM_WRITE;
		uv_poll_start(&c->poll, UV_READABLE, actor_read_cb);
	}
}

/* ---- the thread ------------------------------------------------------ */

static void
actor_close_all(uv_handle_t *h, void *arg)
{
	struct store_actor *a = arg;

	if (h->type == UV_POLL && h != (uv_handle_t *)&a->listen &&
	    h != (uv_handle_t *)&a->bus_poll) {
		actor_conn_close(h->data);
		return;
	}
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void
actor_stop_cb(uv_async_t *h)
{
	struct store_actor *a = h->data;

	actor_commit(a);
	uv_walk(&a->loop, actor_close_all, a);
}

static void
actor_main(void *arg)
{
	struct store_actor *a = arg;

	uv_run(&a->loop, UV_RUN_DEFAULT);
}

static void
actor_told_cb(uv_async_t *h)
{
	struct store_actor *a = h->data;

	if (a->decided != NULL)
		a->decided(a->arg);
}

/* Bind the socket; another live actor on the same directory: BERR_EXISTS. */
static int
actor_bind(struct store_actor *a, const char *state_dir)
{
	struct sockaddr_un sun;
	int fd;

	if (store_client_connect(state_dir, &fd) == 0) {
		close(fd);
		log_error("store actor: another one already serves %s/%s",
		    state_dir, STORE_SOCK_FILE);
		return (BERR_EXISTS);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", state_dir,
	    STORE_SOCK_FILE) >= (int)sizeof(sun.sun_path)) {
		log_error("store actor: the socket path under %s is too long "
		    "(at most %zu bytes)", state_dir, sizeof(sun.sun_path) - 1);
		return (BERR_LIMIT);
	}
	memcpy(a->sock, sun.sun_path, sizeof(a->sock));
	(void)unlink(a->sock);		/* stale: nobody answered */
	if ((a->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0 ||
	    bind(a->lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(a->sock, 0600) != 0 || listen(a->lfd, 64) != 0) {
		log_error("store actor: cannot serve %s: %s", a->sock,
		    strerror(errno));
		return (BERR_SYS);
	}
	return (0);
}

static void
actor_freed(uv_handle_t *h)
{
	struct store_actor *a = h->data;

	uv_mutex_destroy(&a->mu);
	free(a);
}

/* After the thread's loop ended: release everything, on the owner's
 * thread (the owner's handle is freed in its close callback). */
static void
actor_teardown(struct store_actor *a)
{
	uv_loop_close(&a->loop);
	close(a->lfd);
	(void)unlink(a->sock);
	auditlog_free(a->al);
	state_local_ops()->close(a->db);
	if (a->bus != NULL)
		a->busops->close(a->bus);
	if (a->has_owner)
		uv_close((uv_handle_t *)&a->told, actor_freed);
	else
		actor_freed((uv_handle_t *)&a->stop);
}

int
store_actor_start(const char *state_dir, uv_loop_t *owner_loop,
    void (*decided)(void *arg), void *arg, struct store_actor **out)
{
	struct store_actor *a;
	char path[PATH_MAX], why[512];
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return (BERR_NOMEM);
	a->lfd = -1;
	if ((r = auditlog_path_for(state_dir, path, sizeof(path))) != 0 ||
	    (r = auditlog_new(path, 1, &a->al)) != 0 ||
	    (r = actor_bind(a, state_dir)) != 0)
		goto fail;
	/* its own connection, used on its thread only; without one the calls
	 * are refused and every process opens the store itself */
	if (state_local_ops()->open(state_dir, 0, &a->db, why,
	    sizeof(why)) != 0)
		log_error("store actor: state operations stay in each "
		    "process: %s", why);
	uv_mutex_init(&a->mu);
	uv_loop_init(&a->loop);
	uv_async_init(&a->loop, &a->stop, actor_stop_cb);
	uv_poll_init(&a->loop, &a->listen, a->lfd);
	uv_check_init(&a->loop, &a->commit);
	uv_timer_init(&a->loop, &a->bus_retry);
	a->stop.data = a->listen.data = a->commit.data = a;
	a->bus_retry.data = a;
	uv_poll_start(&a->listen, UV_READABLE, actor_accept_cb);
	uv_check_start(&a->commit, actor_commit_cb);
	if ((a->busops = state_local_bus()) != NULL)
		actor_bus_open(a);
	if (owner_loop != NULL) {
		uv_async_init(owner_loop, &a->told, actor_told_cb);
		uv_unref((uv_handle_t *)&a->told);	/* never keeps it up */
		a->told.data = a;
		a->has_owner = 1;
	}
	a->decided = decided;
	a->arg = arg;
	if (uv_thread_create(&a->thread, actor_main, a) != 0) {
		log_error("store actor: cannot start its thread");
		actor_stop_cb(&a->stop);
		uv_run(&a->loop, UV_RUN_DEFAULT);
		actor_teardown(a);
		return (BERR_SYS);
	}
	log_info("store actor: serving %s", a->sock);
	*out = a;
	return (0);
fail:
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->sock[0] != '\0')
		(void)unlink(a->sock);
	auditlog_free(a->al);
	free(a);
	return (r);
}

void
store_actor_stats(struct store_actor *a, struct store_actor_stats *s)
{
	uv_mutex_lock(&a->mu);
	*s = a->stats;
	uv_mutex_unlock(&a->mu);
}

void
store_actor_stop(struct store_actor *a)
{
	if (a == NULL)
		return;
	uv_async_send(&a->stop);
	uv_thread_join(&a->thread);
	actor_teardown(a);
}
