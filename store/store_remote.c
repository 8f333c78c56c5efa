/*
 * store_remote.c - the "remote" backend of store_ops: every operation is
 * forwarded to the store actor (store_actor.h) of the state directory as
 * one CALL on STATE_DIR/store.sock (store_call.h), and its answer (the
 * rows, then the status, the actor's message and the out-values) decoded
 * strictly. The actor runs it on its own SQLite connection, so that
 * processes other than bastiond's listener (monitors, control workers,
 * bastionctl while bastiond runs) do not open state.db at all.
 *
 * A whole answer is read before any of its rows is handed to the
 * caller's callback, so that a callback may itself use the store (the
 * connection carries one call at a time). The connection is opened again
 * in a forked child (its parent keeps its own), and after an answer that
 * broke off (the next call connects anew).
 *
 * This backend has its own `struct store` (this file's connection); the
 * SQLite backend's is another, private to store_sqlite*.c.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "err.h"
#include "store_call.h"
#include "store_client.h"
#include "store_wire.h"

struct store {
	char dir[PATH_MAX];
	int fd;			/* -1: connect at the next call */
	pid_t pid;		/* the process that connected */
	char err[512];		/* the last failure */
	struct store_call_msg m;
	uint8_t buf[STORE_CALL_MAX + 1];
};

/* What one call answered. */
struct rc_out {
	int64_t i[STORE_CALL_VALS];	/* the out-integers, in order */
	char text[256];			/* an out-text */
	void *row;			/* where an 'R' out goes, or NULL */
	void **rows;			/* streamed rows, each map->size */
	size_t nrows, cap;
	const struct sq_map *map;
};

static void
rc_note(struct store *s, int r, const char *what)
{
	snprintf(s->err, sizeof(s->err), "store actor: %s (%s)", what,
	    berr_str(r));
}

static void
rc_disconnect(struct store *s)
{
	if (s->fd != -1 && s->pid == getpid())
		close(s->fd);
	s->fd = -1;
}

static int
rc_connect(struct store *s)
{
	int r;

	if (s->fd != -1 && s->pid == getpid())
		return (0);
	s->fd = -1;		/* a parent's connection is the parent's */
	if ((r = store_client_connect(s->dir, &s->fd)) != 0) {
		rc_note(s, r, "cannot reach bastiond's store actor");
		return (r);
	}
	s->pid = getpid();
	return (0);
}

/* An SQLC_TEXTP member of a decoded row points into the message: copy. */
static int
rc_keep_row(const struct sq_map *map, void *row)
{
	const char **p;
	size_t i;

	for (i = 0; i < map->ncols; i++) {
		if (map->cols[i].type != SQC_TEXTP)
			continue;
		p = (const char **)(void *)((uint8_t *)row + map->cols[i].off);
		if (*p != NULL && (*p = strdup(*p)) == NULL)
			return (BERR_NOMEM);
	}
	return (0);
}

/* Free what rc_keep_row copied; the row itself is the caller's. */
static void
rc_free_texts(const struct sq_map *map, void *row)
{
	size_t i;

	for (i = 0; i < map->ncols; i++)
		if (map->cols[i].type == SQC_TEXTP)
			free(*(char **)(void *)((uint8_t *)row +
			    map->cols[i].off));
}

static void
rc_free_row(const struct sq_map *map, void *row)
{
	rc_free_texts(map, row);
	free(row);
}

static void
rc_done(struct rc_out *o)
{
	size_t i;

	for (i = 0; i < o->nrows; i++)
		rc_free_row(o->map, o->rows[i]);
	free(o->rows);
	o->rows = NULL;
	o->nrows = o->cap = 0;
}

/* One ROW: decoded and kept until the answer is whole. */
static int
rc_row(struct store *s, const struct store_call *k, size_t n,
    struct rc_out *o)
{
	void *row, **v;

	if (o->nrows == STORE_CALL_ROWS)
		return (BERR_LIMIT);
	if ((row = calloc(1, k->map->size)) == NULL)
		return (BERR_NOMEM);
	if (store_call_decode(s->buf, n, "R", k->map, &s->m, row) != 0) {
		free(row);
		return (BERR_FORMAT);
	}
	if (rc_keep_row(k->map, row) != 0) {
		rc_free_row(k->map, row);
		return (BERR_NOMEM);
	}
	if (o->nrows == o->cap) {
		if ((v = reallocarray(o->rows, o->cap ? o->cap * 2 : 16,
		    sizeof(*v))) == NULL) {
			rc_free_row(k->map, row);
			return (BERR_NOMEM);
		}
		o->rows = v;
		o->cap = o->cap ? o->cap * 2 : 16;
	}
	o->rows[o->nrows++] = row;
	return (0);
}

/* DONE: the status, or BERR_FORMAT. */
static int
rc_finish(struct store *s, const struct store_call *k, size_t n,
    struct rc_out *o, int *status)
{
	union store_call_row row;
	char shape[2 + STORE_CALL_VALS + 1];
	size_t i;

	if (store_call_decode(s->buf, n, store_call_done_shape(k, shape,
	    sizeof(shape)), k->map, &s->m, &row) != 0 ||
	    s->m.v[0].i > 1 || s->m.v[0].i < -1000)
		return (BERR_FORMAT);
	*status = (int)s->m.v[0].i;
	if (*status < 0) {
		n = strnlen(s->m.v[1].s, sizeof(s->err) - 1);
		memcpy(s->err, s->m.v[1].s, n);
		s->err[n] = '\0';
	}
	for (i = 2; i < s->m.n; i++) {
		o->i[i - 2] = s->m.v[i].i;
		if (s->m.v[i].tag == STORE_VAL_TEXT)
			snprintf(o->text, sizeof(o->text), "%s", s->m.v[i].s);
	}
	if (strchr(k->out, 'R') != NULL && o->row != NULL) {
		if (rc_keep_row(k->map, &row) != 0)
			return (BERR_NOMEM);
		memcpy(o->row, &row, k->map->size);
	}
	return (0);
}

/* One datagram of the answer within the deadline: its length, or BERR_*. */
static int
rc_recv(struct store *s, const struct timespec *t0, size_t *len)
{
	struct pollfd pfd = { s->fd, POLLIN, 0 };
	struct timespec t1;
	long spent;
	ssize_t n;
	int k;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0->tv_sec) * 1000 +
		    (t1.tv_nsec - t0->tv_nsec) / 1000000;
		if (spent >= STORE_CALL_TIMEOUT_MS)
			return (BERR_TIMEOUT);
		if ((k = poll(&pfd, 1, (int)(STORE_CALL_TIMEOUT_MS -
		    spent))) < 0 && errno != EINTR)
			return (BERR_CLOSED);
		if (k > 0)
			break;
	}
	do
		n = recv(s->fd, s->buf, sizeof(s->buf), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (BERR_CLOSED);
	if ((size_t)n > STORE_CALL_MAX)
		return (BERR_FORMAT);
	*len = (size_t)n;
	return (0);
}

/* Read the answer to call k: the status, or BERR_* of the connection. */
static int
rc_answer(struct store *s, const struct store_call *k, uint8_t call,
    struct rc_out *o, int *status)
{
	struct store_msg em;
	struct timespec t0;
	uint8_t type, c;
	size_t n;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((r = rc_recv(s, &t0, &n)) != 0)
			return (r);
		if (store_msg_decode(s->buf, n, &em) == 0 &&
		    em.type == STORE_MSG_ERROR) {
			/* refused, or our request was found malformed */
			snprintf(s->err, sizeof(s->err), "store actor: %.400s",
			    em.text);
			*status = em.code;
			return (BERR_CLOSED);
		}
		if (store_call_head(s->buf, n, &type, &c) != 0 || c != call)
			return (BERR_FORMAT);
		if (type == STORE_MSG_DONE)
			return (rc_finish(s, k, n, o, status));
		if (type != STORE_MSG_ROW || !store_call_rows(k) || o == NULL)
			return (BERR_FORMAT);
		if ((r = rc_row(s, k, n, o)) != 0)
			return (r);
	}
}

/*
 * Run call with the scalars args (and, for an 'R' argument, inrow): its
 * status (0, 1 or a BERR_* code), with o (may be NULL when the call has
 * no out-values or rows) filled. A broken connection is closed (the next
 * call connects again) and its BERR_* returned.
 */
static int
rc_call(struct store *s, uint8_t call, const struct store_val *args,
    const void *inrow, struct rc_out *o)
{
	const struct store_call *k = &store_calls[call];
	size_t len;
	ssize_t n;
	int r, status = 0;

	if (o != NULL)
		o->map = k->map;
	if ((r = rc_connect(s)) != 0)
		return (r);
	if ((r = store_call_encode(STORE_MSG_CALL, call, k->in, args, k->map,
	    inrow, s->buf, sizeof(s->buf), &len)) != 0) {
		rc_note(s, r, "the request is too long for one message");
		return (r);
	}
	do
		n = send(s->fd, s->buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	r = n == (ssize_t)len ? rc_answer(s, k, call, o, &status) :
	    BERR_CLOSED;
	if (r != 0) {
		if (status == 0) {
			rc_note(s, r, "no whole answer");
			status = r;
		}
		if (o != NULL)
			rc_done(o);
		rc_disconnect(s);
	}
	return (status);
}

/* Hand the rows of o to the caller's typed callback, in order. */
static int
rc_each(struct rc_out *o, int (*fn)(const void *row, void *arg), void *arg)
{
	size_t i;
	int r = 0;

	for (i = 0; i < o->nrows && r == 0; i++)
		r = fn(o->rows[i], arg);
	rc_done(o);
	return (r);
}

#define ARGS(...)	((const struct store_val[]){ __VA_ARGS__, SV_I(0) })
#define NOARGS		ARGS(SV_I(0))
#define EACH_FN(fn)	((int (*)(const void *, void *))(void (*)(void))(fn))
/* one adapter: rc_name params returns expr */
#define REMOTE(name, params, expr) \
	static int rc_##name params { return (expr); }

/* ---- the table's functions ------------------------------------------- */

static int
rc_open(const char *dir, unsigned flags, struct store **out, char *why,
    size_t whylen)
{
	struct store *s;
	int r;

	*out = NULL;
	if (flags & STORE_OPEN_RDONLY)
		return (BERR_INVAL);	/* read-only users open it directly */
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (BERR_NOMEM);
	s->fd = -1;
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >=
	    (int)sizeof(s->dir))
		r = BERR_LIMIT;
	else
		r = rc_call(s, SC_HELLO, NOARGS, NULL, NULL);
	if (r != 0) {
		snprintf(why, whylen, "%s", s->err);
		rc_disconnect(s);
		free(s);
		return (r);
	}
	*out = s;
	return (0);
}

static void
rc_close(struct store *s)
{
	if (s == NULL)
		return;
	rc_disconnect(s);
	free(s);
}

static const char *
rc_errmsg(const struct store *s)
{
	return (s->err);
}

/* An operation answering a counter and a flag ("uf"). */
static int
rc_counter(struct store *s, uint8_t call, const struct store_val *args,
    uint32_t *counter, int *flag)
{
	struct rc_out o = { 0 };
	int r;

	r = rc_call(s, call, args, NULL, &o);
	*counter = (uint32_t)o.i[0];
	*flag = o.i[1] != 0;
	return (r);
}

REMOTE(counter_advance, (struct store *s, const char *fp, uint32_t counter,
    uint32_t *prev, int *had_prev),
    rc_counter(s, SC_COUNTER_ADVANCE, ARGS(SV_T(fp), SV_I(counter)), prev,
    had_prev))

REMOTE(counter_get, (struct store *s, const char *fp, uint32_t *counter,
    int *found),
    rc_counter(s, SC_COUNTER_GET, ARGS(SV_T(fp)), counter, found))

/* An operation answering a new row's id ("d"). */
static int
rc_id(struct store *s, uint8_t call, const struct store_val *args,
    const void *inrow, int64_t *id)
{
	struct rc_out o = { 0 };
	int r;

	r = rc_call(s, call, args, inrow, &o);
	*id = o.i[0];
	return (r);
}

/* An operation answering a row ("R"): into row (may be NULL). */
static int
rc_row_out(struct store *s, uint8_t call, const struct store_val *args,
    void *row)
{
	struct rc_out o = { 0 };

	o.row = row;
	return (rc_call(s, call, args, NULL, &o));
}

REMOTE(counter_forget, (struct store *s, const char *fp),
    rc_call(s, SC_COUNTER_FORGET, ARGS(SV_T(fp)), NULL, NULL))

REMOTE(key_lock, (struct store *s, const char *fp, const char *engineer,
    const char *reason),
    rc_call(s, SC_KEY_LOCK, ARGS(SV_T(fp), SV_T(engineer), SV_T(reason)),
    NULL, NULL))

/* An operation answering a flag and a row: the row goes to info (may be
 * NULL). */
static int
rc_flag_row(struct store *s, uint8_t call, const struct store_val *args,
    int *flag, void *info, size_t size)
{
	union store_call_row row;
	struct rc_out o = { 0 };
	int r;

	o.row = &row;
	memset(&row, 0, sizeof(row));
	r = rc_call(s, call, args, NULL, &o);
	*flag = r == 0 && o.i[0] != 0;
	if (info != NULL && *flag)
		memcpy(info, &row, size);	/* its copied texts included */
	else {
		rc_free_texts(o.map, &row);
		if (info != NULL)
			memset(info, 0, size);	/* as the store leaves it */
	}
	return (r);
}

REMOTE(key_locked, (struct store *s, const char *fp, int *locked,
    struct state_lock *info),
    rc_flag_row(s, SC_KEY_LOCKED, ARGS(SV_T(fp)), locked, info,
    sizeof(*info)))

REMOTE(key_lock_oldest, (struct store *s, const char *engineer, int *locked,
    struct state_lock *info),
    rc_flag_row(s, SC_KEY_LOCK_OLDEST, ARGS(SV_T(engineer)), locked, info,
    sizeof(*info)))

static int
rc_key_unlock_engineer(struct store *s, const char *engineer, size_t *n,
    void (*fps)(const char *fp, void *arg), void *arg)
{
	struct rc_out o = { 0 };
	size_t i;
	int r;

	r = rc_call(s, SC_KEY_UNLOCK_ENGINEER, ARGS(SV_T(engineer)), NULL, &o);
	for (i = 0; r == 0 && fps != NULL && i < o.nrows; i++)
		fps(((const struct state_lock *)o.rows[i])->fp, arg);
	rc_done(&o);
	*n = (size_t)o.i[0];
	return (r);
}

/* An operation answering one count. */
static int
rc_count(struct store *s, uint8_t call, const struct store_val *args,
    size_t *n)
{
	struct rc_out o = { 0 };
	int r;

	r = rc_call(s, call, args, NULL, &o);
	*n = r == 0 && o.i[0] > 0 ? (size_t)o.i[0] : 0;
	return (r);
}

REMOTE(key_lock_count, (struct store *s, const char *engineer, size_t *n),
    rc_count(s, SC_KEY_LOCK_COUNT, ARGS(SV_T(engineer)), n))

REMOTE(guard_try, (struct store *s, const char *fp, const char *holder,
    time_t now, time_t lease_until, const char *stale),
    rc_call(s, SC_GUARD_TRY, ARGS(SV_T(fp), SV_T(holder), SV_I(now),
    SV_I(lease_until), SV_T(stale)), NULL, NULL))

static int
rc_guard_holder(struct store *s, const char *fp, char *holder, size_t len,
    int *found)
{
	struct rc_out o = { 0 };
	int r;

	r = rc_call(s, SC_GUARD_HOLDER, ARGS(SV_T(fp)), NULL, &o);
	*found = r == 0 && o.i[0] != 0;
	if (*found)
		snprintf(holder, len, "%s", o.text);
	return (r);
}

REMOTE(guard_release, (struct store *s, const char *fp, const char *holder),
    rc_call(s, SC_GUARD_RELEASE, ARGS(SV_T(fp), SV_T(holder)), NULL, NULL))

REMOTE(enroll_put, (struct store *s, const struct state_enrollment *e),
    rc_call(s, SC_ENROLL_PUT, NOARGS, e, NULL))

/* An operation streaming rows to the caller's fn. */
static int
rc_walk(struct store *s, uint8_t call, const struct store_val *args,
    int (*fn)(const void *row, void *arg), void *arg)
{
	struct rc_out o = { 0 };
	int r;

	if ((r = rc_call(s, call, args, NULL, &o)) != 0) {
		rc_done(&o);
		return (r);
	}
	return (rc_each(&o, fn, arg));
}

REMOTE(enroll_each, (struct store *s, const char *engineer,
    int (*fn)(const struct state_enrollment *e, void *arg), void *arg),
    rc_walk(s, SC_ENROLL_EACH, ARGS(SV_T(engineer)), EACH_FN(fn), arg))

static int
rc_enroll_get(struct store *s, const char *fp, struct state_enrollment *e,
    int *found)
{
	int r;

	r = rc_flag_row(s, SC_ENROLL_GET, ARGS(SV_T(fp)), found, e,
	    sizeof(*e));
	if (!*found)
		memset(e, 0, sizeof(*e));
	return (r);
}

REMOTE(request_create, (struct store *s, const char *engineer,
    const char *vendor, const char *device, const char *reason, int64_t *id),
    rc_id(s, SC_REQUEST_CREATE, ARGS(SV_T(engineer), SV_T(vendor),
    SV_T(device), SV_T(reason)), NULL, id))

REMOTE(request_get, (struct store *s, int64_t id, struct state_request *req,
    int *found),
    rc_flag_row(s, SC_REQUEST_GET, ARGS(SV_I(id)), found, req, sizeof(*req)))

REMOTE(request_each, (struct store *s, const char *status, unsigned limit,
    int (*fn)(const struct state_request *r, void *arg), void *arg),
    rc_walk(s, SC_REQUEST_EACH, ARGS(SV_T(status), SV_I(limit)), EACH_FN(fn),
    arg))

REMOTE(request_finish, (struct store *s, int64_t id, const char *status,
    const char *by, const char *reason),
    rc_call(s, SC_REQUEST_FINISH, ARGS(SV_I(id), SV_T(status), SV_T(by),
    SV_T(reason)), NULL, NULL))

REMOTE(request_approve, (struct store *s, int64_t id, const char *admin,
    unsigned duration, int needed, int64_t *grant_id),
    rc_id(s, SC_REQUEST_APPROVE, ARGS(SV_I(id), SV_T(admin), SV_I(duration),
    SV_I(needed)), NULL, grant_id))

REMOTE(grant_live, (struct store *s, const char *engineer,
    const char *device, time_t now, struct state_grant *g, int *found),
    rc_flag_row(s, SC_GRANT_LIVE, ARGS(SV_T(engineer), SV_T(device),
    SV_I(now)), found, g, sizeof(*g)))

REMOTE(grant_get, (struct store *s, int64_t id, struct state_grant *g,
    int *found),
    rc_flag_row(s, SC_GRANT_GET, ARGS(SV_I(id)), found, g, sizeof(*g)))

REMOTE(grant_each, (struct store *s, int all, time_t now,
    int (*fn)(const struct state_grant *g, void *arg), void *arg),
    rc_walk(s, SC_GRANT_EACH, ARGS(SV_I(all), SV_I(now)), EACH_FN(fn), arg))

REMOTE(grant_revoke, (struct store *s, int64_t id, const char *by),
    rc_call(s, SC_GRANT_REVOKE, ARGS(SV_I(id), SV_T(by)), NULL, NULL))

REMOTE(session_start, (struct store *s, const struct state_session *ss,
    int64_t *id),
    rc_id(s, SC_SESSION_START, NOARGS, ss, id))

REMOTE(session_end, (struct store *s, int64_t id, const char *reason),
    rc_call(s, SC_SESSION_END, ARGS(SV_I(id), SV_T(reason)), NULL, NULL))

static int
rc_session_end_open(struct store *s, const char *node, const char *reason,
    void (*fn)(const struct state_session *ss, void *arg), void *arg,
    size_t *n)
{
	struct rc_out o = { 0 };
	size_t i;
	int r;

	r = rc_call(s, SC_SESSION_END_OPEN, ARGS(SV_T(node), SV_T(reason)), NULL,
	    &o);
	for (i = 0; r == 0 && fn != NULL && i < o.nrows; i++)
		fn(o.rows[i], arg);
	rc_done(&o);
	*n = (size_t)o.i[0];
	return (r);
}

REMOTE(session_get, (struct store *s, int64_t sid, struct state_session *ss,
    int *found),
    rc_flag_row(s, SC_SESSION_GET, ARGS(SV_I(sid)), found, ss, sizeof(*ss)))

REMOTE(session_each, (struct store *s, int all, unsigned limit,
    int (*fn)(const struct state_session *ss, void *arg), void *arg),
    rc_walk(s, SC_SESSION_EACH, ARGS(SV_I(all), SV_I(limit)), EACH_FN(fn),
    arg))

REMOTE(session_kill, (struct store *s, int64_t sid, const char *by,
    const char *reason, struct state_session *ss),
    rc_row_out(s, SC_SESSION_KILL, ARGS(SV_I(sid), SV_T(by), SV_T(reason)),
    ss))

REMOTE(session_controls, (struct store *s,
    int (*fn)(const struct state_session_ctl *c, void *arg), void *arg),
    rc_walk(s, SC_SESSION_CONTROLS, NOARGS, EACH_FN(fn), arg))

REMOTE(session_count, (struct store *s, const char *engineer, size_t *n),
    rc_count(s, SC_SESSION_COUNT, ARGS(SV_T(engineer)), n))

/* Not forwarded: only the listener numbers sessions, on the connection
 * of its own it opens before its actor starts. */
static int
rc_session_next_sid(struct store *s, int64_t *sid)
{
	(void)s;
	(void)sid;
	return (BERR_NOTFOUND);
}

REMOTE(engineer_lock, (struct store *s, const char *engineer, const char *by,
    const char *reason),
    rc_call(s, SC_ENGINEER_LOCK, ARGS(SV_T(engineer), SV_T(by),
    SV_T(reason)), NULL, NULL))

REMOTE(engineer_locked, (struct store *s, const char *engineer, int *locked,
    struct state_engineer_lock *info),
    rc_flag_row(s, SC_ENGINEER_LOCKED, ARGS(SV_T(engineer)), locked, info,
    sizeof(*info)))

REMOTE(engineer_unlock, (struct store *s, const char *engineer,
    struct state_engineer_lock *info),
    rc_row_out(s, SC_ENGINEER_UNLOCK, ARGS(SV_T(engineer)), info))

REMOTE(touch_window_open, (struct store *s,
    const struct state_touch_window *w),
    rc_call(s, SC_TOUCH_WINDOW_OPEN, NOARGS, w, NULL))

REMOTE(touch_window_get, (struct store *s, const char *engineer,
    const char *device, const char *source, time_t now,
    struct state_touch_window *w, int *found),
    rc_flag_row(s, SC_TOUCH_WINDOW_GET, ARGS(SV_T(engineer), SV_T(device),
    SV_T(source), SV_I(now)), found, w, sizeof(*w)))

REMOTE(touch_window_close, (struct store *s, const char *engineer,
    const char *device, size_t *n),
    rc_count(s, SC_TOUCH_WINDOW_CLOSE, ARGS(SV_T(engineer), SV_T(device)), n))

REMOTE(touch_window_expire, (struct store *s, time_t now),
    rc_call(s, SC_TOUCH_WINDOW_EXPIRE, ARGS(SV_I(now)), NULL, NULL))

REMOTE(web_cred_put, (struct store *s, const struct state_web_cred *w),
    rc_call(s, SC_WEB_CRED_PUT, NOARGS, w, NULL))

REMOTE(web_cred_each, (struct store *s, const char *person,
    int (*fn)(const struct state_web_cred *w, void *arg), void *arg),
    rc_walk(s, SC_WEB_CRED_EACH, ARGS(SV_T(person)), EACH_FN(fn), arg))

REMOTE(web_session_new, (struct store *s,
    const struct state_web_session *ws),
    rc_call(s, SC_WEB_SESSION_NEW, NOARGS, ws, NULL))

REMOTE(web_session_touch, (struct store *s, const char *hash, time_t now,
    time_t idle_until, struct state_web_session *ws, int *found),
    rc_flag_row(s, SC_WEB_SESSION_TOUCH, ARGS(SV_T(hash), SV_I(now),
    SV_I(idle_until)), found, ws, sizeof(*ws)))

REMOTE(web_session_end, (struct store *s, const char *hash),
    rc_call(s, SC_WEB_SESSION_END, ARGS(SV_T(hash)), NULL, NULL))

REMOTE(web_challenge_put, (struct store *s,
    const struct state_web_challenge *ch),
    rc_call(s, SC_WEB_CHALLENGE_PUT, NOARGS, ch, NULL))

REMOTE(web_challenge_take, (struct store *s, const char *hash,
    const char *person, const char *kind, time_t now,
    struct state_web_challenge *ch, int *found),
    rc_flag_row(s, SC_WEB_CHALLENGE_TAKE, ARGS(SV_T(hash), SV_T(person),
    SV_T(kind), SV_I(now)), found, ch, sizeof(*ch)))

REMOTE(web_login_fail, (struct store *s, const char *person, time_t now),
    rc_call(s, SC_WEB_LOGIN_FAIL, ARGS(SV_T(person), SV_I(now)), NULL,
    NULL))

REMOTE(web_login_fails, (struct store *s, const char *person, time_t since,
    size_t *n),
    rc_count(s, SC_WEB_LOGIN_FAILS, ARGS(SV_T(person), SV_I(since)), n))

REMOTE(export_create, (struct store *s, const struct state_export *e,
    int64_t *id),
    rc_id(s, SC_EXPORT_CREATE, NOARGS, e, id))

REMOTE(export_get, (struct store *s, int64_t id, struct state_export *e,
    int *found),
    rc_flag_row(s, SC_EXPORT_GET, ARGS(SV_I(id)), found, e, sizeof(*e)))

REMOTE(export_each, (struct store *s, const char *status, unsigned limit,
    int (*fn)(const struct state_export *e, void *arg), void *arg),
    rc_walk(s, SC_EXPORT_EACH, ARGS(SV_T(status), SV_I(limit)), EACH_FN(fn),
    arg))

REMOTE(export_finish, (struct store *s, int64_t id, const char *status,
    const char *by, const char *reason),
    rc_call(s, SC_EXPORT_FINISH, ARGS(SV_I(id), SV_T(status), SV_T(by),
    SV_T(reason)), NULL, NULL))

REMOTE(decl_file_add, (struct store *s, const struct state_decl_file *f),
    rc_call(s, SC_DECL_FILE_ADD, NOARGS, f, NULL))

REMOTE(decl_each, (struct store *s, const char *engineer, int64_t session,
    int open_only, int (*fn)(const struct state_decl *d, void *arg),
    void *arg),
    rc_walk(s, SC_DECL_EACH, ARGS(SV_T(engineer), SV_I(session),
    SV_I(open_only)), EACH_FN(fn), arg))

REMOTE(decl_answer, (struct store *s, int64_t session, const char *engineer,
    const char *personal, const char *erased, const char *via, time_t now,
    struct state_decl *d),
    rc_row_out(s, SC_DECL_ANSWER, ARGS(SV_I(session), SV_T(engineer),
    SV_T(personal), SV_T(erased), SV_T(via), SV_I(now)), d))

REMOTE(watch_open, (struct store *s, const struct state_watch *w,
    int64_t *id),
    rc_id(s, SC_WATCH_OPEN, NOARGS, w, id))

REMOTE(watch_each, (struct store *s, const char *node, time_t now,
    int (*fn)(const struct state_watch *w, void *arg), void *arg),
    rc_walk(s, SC_WATCH_EACH, ARGS(SV_T(node), SV_I(now)), EACH_FN(fn),
    arg))

REMOTE(watch_claim, (struct store *s, int64_t id, const char *node,
    time_t now, struct state_watch *w, int *found),
    rc_flag_row(s, SC_WATCH_CLAIM, ARGS(SV_I(id), SV_T(node), SV_I(now)),
    found, w, sizeof(*w)))

static int
rc_watch_put(struct store *s, const struct state_watch_chunk *c, time_t now,
    int *status)
{
	struct rc_out o = { 0 };
	int r;

	r = rc_call(s, SC_WATCH_PUT, ARGS(SV_I(c->watch), SV_I(c->seq),
	    SV_I(c->skipped), SV_T(c->kind), SV_T(c->data), SV_I(now)), NULL,
	    &o);
	*status = r == 0 ? (int)o.i[0] : 0;
	return (r);
}

/* the chunks, then whether the request is still there */
static int
rc_watch_take(struct store *s, int64_t id, time_t now,
    int (*fn)(const struct state_watch_chunk *c, void *arg), void *arg,
    int *found)
{
	struct rc_out o = { 0 };
	int r;

	if ((r = rc_call(s, SC_WATCH_TAKE, ARGS(SV_I(id), SV_I(now)), NULL,
	    &o)) != 0) {
		rc_done(&o);
		return (r);
	}
	*found = o.i[0] != 0;
	return (rc_each(&o, EACH_FN(fn), arg));
}

REMOTE(watch_close, (struct store *s, int64_t id),
    rc_call(s, SC_WATCH_CLOSE, ARGS(SV_I(id)), NULL, NULL))

const struct store_ops store_remote_ops = STORE_OPS_TABLE("remote", rc);

