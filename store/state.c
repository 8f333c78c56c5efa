/*
 * state.c - the state store's front (see state.h for the contract): the
 * `struct state` handle, and one thin function per operation that checks
 * the caller's arguments, clears its out-parameters and dispatches to the
 * backend's table of operations (store.h). The backends (store_sqlite*.c)
 * see only valid arguments and non-NULL out-pointers.
 *
 * Also here: which backend this process opens itself (state_configure,
 * from the policy's store: section). And, because they are the same for
 * every backend: telling the
 * store actor (store_client.h) when an operation that makes a decision
 * has committed, and subscribing to what it pushes; and the per-key
 * guard's waiting loop. A guard is a lease row taken by one atomic
 * backend step; this file names the holder (host, pid and a sequence
 * number), retries until the caller's timeout, and takes over a guard
 * whose holder, on this host, has died (as a flock would have been
 * released with it).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "policy.h"
#include "state_int.h"
#include "store.h"
#include "store_call.h"
#include "store_client.h"
#include "store_sqlite.h"

struct state_sub {
	int fd;
};

struct state_guard {
	struct state *st;
	char fp[128];
	char holder[128];
};

#define STATE_WHY_LEN	512

static int
state_open_with(const struct store_ops *ops, const char *dir, unsigned flags,
    struct state **out, char *why, size_t whylen)
{
	struct state *st;
	int r;

	if (out == NULL)
		return (BERR_INVAL);
	*out = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if (dir == NULL)
		return (BERR_INVAL);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (BERR_NOMEM);
	st->ops = ops;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	if ((r = ops->open(dir, flags, &st->s, why, whylen)) != 0) {
		free(st);
		return (r);
	}
	*out = st;
	return (0);
}

/* ---- the backend ----------------------------------------------------- */

static const struct store_ops *state_backend = &store_sqlite_ops;

const struct store_ops *
state_local_ops(void)
{
	return (state_backend);
}

const struct store_bus_ops *
state_local_bus(void)
{
	return (state_backend == &store_pg_ops ? &store_pg_bus : NULL);
}

int
state_use_postgresql(const char *conninfo, const char *password_file)
{
	int r;

	if ((r = store_pg_configure(conninfo, password_file)) == 0)
		state_backend = conninfo != NULL ? &store_pg_ops :
		    &store_sqlite_ops;
	return (r);
}

int
state_configure(const struct policy *pol)
{
	if (pol == NULL)
		return (BERR_INVAL);
	return (state_use_postgresql(pol->store_postgresql ?
	    pol->store_conninfo : NULL, pol->store_password_file));
}

int
state_open(const char *state_dir, struct state **out)
{
	char why[STATE_WHY_LEN];

	/* through bastiond's store actor when it runs and admits us; else
	 * the store itself (bastionctl with bastiond stopped, the tests) */
	if (state_open_with(&store_remote_ops, state_dir, STORE_OPEN_QUIET,
	    out, why, sizeof(why)) == 0)
		return (0);
	/* the backend logged its failure */
	return (state_open_with(state_local_ops(), state_dir, 0, out, why,
	    sizeof(why)));
}

int
state_open_ro(const char *state_dir, struct state **out, char *why,
    size_t whylen)
{
	return (state_open_with(state_local_ops(), state_dir,
	    STORE_OPEN_RDONLY | STORE_OPEN_QUIET, out, why, whylen));
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	st->ops->close(st->s);
	free(st);
}

struct store *
state_sql_store(struct state *st)
{
	return (st != NULL && (st->ops == &store_sqlite_ops ||
	    st->ops == &store_pg_ops) ? st->s : NULL);
}

const char *
state_errmsg(const struct state *st)
{
	return (st != NULL ? st->ops->errmsg(st->s) : "no state store");
}

/* ---- pushed decisions ------------------------------------------------ */

/* A decision committed: tell the store actor, which pushes it on. Best
 * effort: without an actor, waiters find it when they look again. */
static int
state_decided(struct state *st, int r, int kind, int64_t id)
{
	if (r == 0)
		(void)store_client_notify(st->dir, kind, id);
	return (r);
}

int
state_subscribe(struct state *st, int kind, int64_t id,
    struct state_sub **out)
{
	struct state_sub *sub;
	int r;

	if (out == NULL)
		return (BERR_INVAL);
	*out = NULL;
	if (st == NULL || kind < STATE_EV_REQUEST || kind > STATE_EV_MAX ||
	    id < 0)
		return (BERR_INVAL);
	if ((sub = calloc(1, sizeof(*sub))) == NULL)
		return (BERR_NOMEM);
	if ((r = store_client_subscribe(st->dir, kind, id, &sub->fd)) != 0) {
		free(sub);
		return (r);
	}
	*out = sub;
	return (0);
}

int
state_await(struct state_sub *sub, unsigned timeout_ms)
{
	struct timespec nap;
	int r;

	if (sub != NULL && sub->fd != -1) {
		if ((r = store_client_await(sub->fd, timeout_ms)) >= 0)
			return (r);
		/* the actor went away: from now on, keep the pace of a poll */
		close(sub->fd);
		sub->fd = -1;
	}
	nap.tv_sec = timeout_ms / 1000;
	nap.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
	nanosleep(&nap, NULL);
	return (0);
}

int
state_sub_fd(const struct state_sub *sub)
{
	return (sub != NULL ? sub->fd : -1);
}

void
state_unsubscribe(struct state_sub *sub)
{
	if (sub == NULL)
		return;
	if (sub->fd != -1)
		close(sub->fd);
	free(sub);
}

/* The out-parameters of a lookup, cleared on entry whatever comes next
 * (either may be NULL). */
static void
state_out_clear(int *flag, void *obj, size_t size)
{
	if (flag != NULL)
		*flag = 0;
	if (obj != NULL)
		memset(obj, 0, size);
}

/* ---- signature counters ---------------------------------------------- */

int
state_counter_advance(struct state *st, const char *fp, uint32_t counter,
    uint32_t *prev, int *had_prev)
{
	uint32_t p = 0;
	int h = 0, r;

	if (st == NULL || fp == NULL)
		return (BERR_INVAL);
	r = st->ops->counter_advance(st->s, fp, counter, &p, &h);
	if (prev != NULL)
		*prev = p;
	if (had_prev != NULL)
		*had_prev = h;
	return (r);
}

int
state_counter_get(struct state *st, const char *fp, uint32_t *counter,
    int *found)
{
	if (st == NULL || fp == NULL || counter == NULL || found == NULL)
		return (BERR_INVAL);
	*counter = 0;
	*found = 0;
	return (st->ops->counter_get(st->s, fp, counter, found));
}

int
state_counter_forget(struct state *st, const char *fp)
{
	if (st == NULL || fp == NULL)
		return (BERR_INVAL);
	return (st->ops->counter_forget(st->s, fp));
}

/* ---- key locks ------------------------------------------------------- */

int
state_key_lock(struct state *st, const char *fp, const char *engineer,
    const char *reason)
{
	if (st == NULL || fp == NULL || engineer == NULL || reason == NULL)
		return (BERR_INVAL);
	return (state_decided(st, st->ops->key_lock(st->s, fp, engineer,
	    reason), STATE_EV_KEY, 0));
}

int
state_key_locked(struct state *st, const char *fp, int *locked,
    struct state_lock *info)
{
	state_out_clear(locked, info, sizeof(*info));
	if (st == NULL || fp == NULL || locked == NULL)
		return (BERR_INVAL);
	return (st->ops->key_locked(st->s, fp, locked, info));
}

int
state_key_lock_oldest(struct state *st, const char *engineer, int *locked,
    struct state_lock *info)
{
	state_out_clear(locked, info, sizeof(*info));
	if (st == NULL || engineer == NULL || locked == NULL)
		return (BERR_INVAL);
	return (st->ops->key_lock_oldest(st->s, engineer, locked, info));
}

int
state_key_unlock_engineer(struct state *st, const char *engineer, size_t *n,
    void (*fps)(const char *fp, void *arg), void *arg)
{
	size_t k = 0;
	int r;

	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL)
		return (BERR_INVAL);
	r = st->ops->key_unlock_engineer(st->s, engineer, &k, fps, arg);
	if (r == 0 && n != NULL)
		*n = k;
	return (r);
}

/* A count operation: *n cleared, arguments checked. */
static int
state_count(struct state *st, const char *engineer, size_t *n,
    int (*op)(struct store *, const char *, size_t *))
{
	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL || n == NULL)
		return (BERR_INVAL);
	return (op(st->s, engineer, n));
}

int
state_key_lock_count(struct state *st, const char *engineer, size_t *n)
{
	return (state_count(st, engineer, n, st != NULL ?
	    st->ops->key_lock_count : NULL));
}

/* ---- guards ---------------------------------------------------------- */

/* Is holder ("HOST PID SEQ") a process of this host that is gone? */
static int
state_holder_dead(const char *holder)
{
	char host[64], mine[64];
	long pid;

	if (sscanf(holder, "%63s %ld", host, &pid) != 2 || pid <= 0 ||
	    gethostname(mine, sizeof(mine)) != 0)
		return (0);
	mine[sizeof(mine) - 1] = '\0';
	return (strcmp(host, mine) == 0 && kill((pid_t)pid, 0) != 0 &&
	    errno == ESRCH);
}

int
state_key_guard(struct state *st, const char *fp, unsigned timeout_ms,
    struct state_guard **out)
{
	static unsigned long seq;
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	struct state_guard *g;
	char host[64], stale[128];
	unsigned waited = 0;
	time_t now;
	int r, found;

	if (out == NULL)
		return (BERR_INVAL);
	*out = NULL;
	if (st == NULL || fp == NULL || strlen(fp) >= sizeof(g->fp))
		return (BERR_INVAL);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return (BERR_NOMEM);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	g->st = st;
	snprintf(g->fp, sizeof(g->fp), "%s", fp);
	snprintf(g->holder, sizeof(g->holder), "%s %ld %lu", host,
	    (long)getpid(), ++seq);
	stale[0] = '\0';
	for (;;) {
		now = time(NULL);
		if ((r = st->ops->guard_try(st->s, fp, g->holder, now,
		    now + STATE_GUARD_LEASE_S, stale[0] != '\0' ? stale :
		    NULL)) == 1)
			break;
		if (r == 0 && (r = st->ops->guard_holder(st->s, fp, stale,
		    sizeof(stale), &found)) == 0 && found &&
		    state_holder_dead(stale))
			continue;	/* take it over at once */
		stale[0] = '\0';
		if (r == 0 && waited >= timeout_ms)
			r = BERR_TIMEOUT;
		if (r != 0) {
			free(g);
			return (r);
		}
		nanosleep(&nap, NULL);
		waited += 20;
	}
	*out = g;
	return (0);
}

void
state_guard_release(struct state_guard *g)
{
	if (g == NULL)
		return;
	if (g->st->ops->guard_release(g->st->s, g->fp, g->holder) != 0)
		log_warn("state store: the guard of %s stays until its lease "
		    "ends", g->fp);
	free(g);
}

/* ---- enrolments ------------------------------------------------------ */

int
state_enroll_put(struct state *st, const struct state_enrollment *e)
{
	if (st == NULL || e == NULL || e->key_line == NULL)
		return (BERR_INVAL);
	return (st->ops->enroll_put(st->s, e));
}

int
state_enroll_each(struct state *st, const char *engineer,
    int (*fn)(const struct state_enrollment *e, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->enroll_each(st->s, engineer, fn, arg));
}

int
state_enroll_get(struct state *st, const char *fp, struct state_enrollment *e,
    int *found)
{
	if (st == NULL || fp == NULL || e == NULL || found == NULL)
		return (BERR_INVAL);
	memset(e, 0, sizeof(*e));
	*found = 0;
	return (st->ops->enroll_get(st->s, fp, e, found));
}

/* ---- approvals ------------------------------------------------------- */

int
state_request_create(struct state *st, const char *engineer,
    const char *vendor, const char *device, const char *reason, int64_t *id)
{
	if (st == NULL || engineer == NULL || vendor == NULL ||
	    device == NULL || id == NULL)
		return (BERR_INVAL);
	*id = 0;
	/* a new request is pushed too: the web console's feed waits for it
	 * (subscribers of one request id never see another's) */
	return (state_decided(st, st->ops->request_create(st->s, engineer,
	    vendor, device, reason, id), STATE_EV_REQUEST, *id));
}

int
state_request_get(struct state *st, int64_t id, struct state_request *r,
    int *found)
{
	if (st == NULL || r == NULL || found == NULL)
		return (BERR_INVAL);
	return (st->ops->request_get(st->s, id, r, found));
}

int
state_request_each(struct state *st, const char *status, unsigned limit,
    int (*fn)(const struct state_request *r, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->request_each(st->s, status, limit, fn, arg));
}

int
state_request_finish(struct state *st, int64_t id, const char *status,
    const char *by, const char *reason)
{
	if (st == NULL || status == NULL)
		return (BERR_INVAL);
	return (state_decided(st, st->ops->request_finish(st->s, id, status,
	    by, reason), STATE_EV_REQUEST, id));
}

int
state_request_approve(struct state *st, int64_t id, const char *admin,
    unsigned duration, int needed, int64_t *grant_id)
{
	int64_t g = 0;
	int r;

	if (grant_id != NULL)
		*grant_id = 0;
	if (st == NULL || admin == NULL || duration == 0)
		return (BERR_INVAL);
	r = state_decided(st, st->ops->request_approve(st->s, id, admin,
	    duration, needed, &g), STATE_EV_REQUEST, id);
	if (r == 0 && grant_id != NULL)
		*grant_id = g;
	return (r);
}

/* ---- file export requests -------------------------------------------- */

int
state_export_create(struct state *st, const struct state_export *e,
    int64_t *id)
{
	if (st == NULL || e == NULL || id == NULL || e->size < 0)
		return (BERR_INVAL);
	*id = 0;
	return (state_decided(st, st->ops->export_create(st->s, e, id),
	    STATE_EV_EXPORT, *id));
}

int
state_export_get(struct state *st, int64_t id, struct state_export *e,
    int *found)
{
	if (st == NULL || e == NULL || found == NULL)
		return (BERR_INVAL);
	memset(e, 0, sizeof(*e));
	*found = 0;
	return (st->ops->export_get(st->s, id, e, found));
}

int
state_export_each(struct state *st, const char *status, unsigned limit,
    int (*fn)(const struct state_export *e, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->export_each(st->s, status, limit, fn, arg));
}

int
state_export_finish(struct state *st, int64_t id, const char *status,
    const char *by, const char *reason)
{
	if (st == NULL || status == NULL || strcmp(status,
	    STATE_REQ_PENDING) == 0)
		return (BERR_INVAL);
	return (state_decided(st, st->ops->export_finish(st->s, id, status,
	    by, reason), STATE_EV_EXPORT, id));
}

int
state_grant_live(struct state *st, const char *engineer, const char *device,
    time_t now, struct state_grant *g, int *found)
{
	if (st == NULL || engineer == NULL || device == NULL || g == NULL ||
	    found == NULL)
		return (BERR_INVAL);
	return (st->ops->grant_live(st->s, engineer, device, now, g, found));
}

int
state_grant_get(struct state *st, int64_t id, struct state_grant *g,
    int *found)
{
	if (st == NULL || g == NULL || found == NULL)
		return (BERR_INVAL);
	return (st->ops->grant_get(st->s, id, g, found));
}

int
state_grant_each(struct state *st, int all, time_t now,
    int (*fn)(const struct state_grant *g, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->grant_each(st->s, all, now, fn, arg));
}

int
state_grant_revoke(struct state *st, int64_t id, const char *by)
{
	if (st == NULL || by == NULL)
		return (BERR_INVAL);
	return (state_decided(st, st->ops->grant_revoke(st->s, id, by),
	    STATE_EV_GRANT, id));
}

/* ---- sessions -------------------------------------------------------- */

int
state_session_start(struct state *st, const struct state_session *s,
    int64_t *id)
{
	if (id != NULL)
		*id = 0;
	if (st == NULL || s == NULL || id == NULL)
		return (BERR_INVAL);
	return (st->ops->session_start(st->s, s, id));
}

int
state_session_end(struct state *st, int64_t id, const char *reason)
{
	if (st == NULL || reason == NULL)
		return (BERR_INVAL);
	return (st->ops->session_end(st->s, id, reason));
}

int
state_session_end_open(struct state *st, const char *node,
    const char *reason,
    void (*fn)(const struct state_session *s, void *arg), void *arg,
    size_t *n)
{
	size_t k = 0;
	int r;

	if (n != NULL)
		*n = 0;
	if (st == NULL || node == NULL || reason == NULL)
		return (BERR_INVAL);
	r = st->ops->session_end_open(st->s, node, reason, fn, arg, &k);
	if (r == 0 && n != NULL)
		*n = k;
	return (r);
}

int
state_session_get(struct state *st, int64_t sid, struct state_session *s,
    int *found)
{
	if (st == NULL || s == NULL || found == NULL)
		return (BERR_INVAL);
	return (st->ops->session_get(st->s, sid, s, found));
}

int
state_session_each(struct state *st, int all, unsigned limit,
    int (*fn)(const struct state_session *s, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->session_each(st->s, all, limit, fn, arg));
}

int
state_session_kill(struct state *st, int64_t sid, const char *by,
    const char *reason, struct state_session *s)
{
	if (s != NULL)
		memset(s, 0, sizeof(*s));
	if (st == NULL || by == NULL || reason == NULL)
		return (BERR_INVAL);
	return (state_decided(st, st->ops->session_kill(st->s, sid, by, reason,
	    s), STATE_EV_SESSION, sid));
}

int
state_session_controls(struct state *st,
    int (*fn)(const struct state_session_ctl *c, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->session_controls(st->s, fn, arg));
}

int
state_session_count(struct state *st, const char *engineer, size_t *n)
{
	return (state_count(st, engineer, n, st != NULL ?
	    st->ops->session_count : NULL));
}

int
state_session_next_sid(struct state *st, int64_t *sid)
{
	if (sid != NULL)
		*sid = 0;
	if (st == NULL || sid == NULL)
		return (BERR_INVAL);
	return (st->ops->session_next_sid(st->s, sid));
}

/* ---- engineer locks -------------------------------------------------- */

int
state_engineer_lock(struct state *st, const char *engineer, const char *by,
    const char *reason)
{
	if (st == NULL || engineer == NULL || by == NULL || reason == NULL)
		return (BERR_INVAL);
	return (state_decided(st, st->ops->engineer_lock(st->s, engineer, by,
	    reason), STATE_EV_ENGINEER, 0));
}

int
state_engineer_locked(struct state *st, const char *engineer, int *locked,
    struct state_engineer_lock *info)
{
	state_out_clear(locked, info, sizeof(*info));
	if (st == NULL || engineer == NULL || locked == NULL)
		return (BERR_INVAL);
	return (st->ops->engineer_locked(st->s, engineer, locked, info));
}

int
state_engineer_unlock(struct state *st, const char *engineer,
    struct state_engineer_lock *info)
{
	state_out_clear(NULL, info, sizeof(*info));
	if (st == NULL || engineer == NULL)
		return (BERR_INVAL);
	return (st->ops->engineer_unlock(st->s, engineer, info));
}

/* ---- touch transfer windows ------------------------------------------ */

int
state_touch_window_open(struct state *st, const struct state_touch_window *w)
{
	if (st == NULL || w == NULL || w->engineer[0] == '\0' ||
	    w->device[0] == '\0' || w->source[0] == '\0' ||
	    w->fp[0] == '\0' || w->until <= w->opened)
		return (BERR_INVAL);
	return (st->ops->touch_window_open(st->s, w));
}

int
state_touch_window_get(struct state *st, const char *engineer,
    const char *device, const char *source, time_t now,
    struct state_touch_window *w, int *found)
{
	state_out_clear(found, w, sizeof(*w));
	if (st == NULL || engineer == NULL || device == NULL ||
	    source == NULL || w == NULL || found == NULL)
		return (BERR_INVAL);
	return (st->ops->touch_window_get(st->s, engineer, device, source,
	    now, w, found));
}

int
state_touch_window_close(struct state *st, const char *engineer,
    const char *device, size_t *n)
{
	size_t k = 0;
	int r;

	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL)
		return (BERR_INVAL);
	r = st->ops->touch_window_close(st->s, engineer, device, &k);
	if (r == 0 && n != NULL)
		*n = k;
	return (r);
}

int
state_touch_window_expire(struct state *st, time_t now)
{
	if (st == NULL)
		return (BERR_INVAL);
	return (st->ops->touch_window_expire(st->s, now));
}

/* ---- web console ----------------------------------------------------- */

int
state_web_cred_put(struct state *st, const struct state_web_cred *w)
{
	if (st == NULL || w == NULL || w->person[0] == '\0' ||
	    w->cred_id[0] == '\0' || w->pubkey[0] == '\0')
		return (BERR_INVAL);
	return (st->ops->web_cred_put(st->s, w));
}

int
state_web_cred_each(struct state *st, const char *person,
    int (*fn)(const struct state_web_cred *w, void *arg), void *arg)
{
	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->web_cred_each(st->s, person, fn, arg));
}

int
state_web_session_new(struct state *st, const struct state_web_session *ws)
{
	if (st == NULL || ws == NULL || ws->hash[0] == '\0' ||
	    ws->person[0] == '\0' || ws->abs_until <= ws->created)
		return (BERR_INVAL);
	return (st->ops->web_session_new(st->s, ws));
}

int
state_web_session_touch(struct state *st, const char *hash, time_t now,
    time_t idle_until, struct state_web_session *ws, int *found)
{
	state_out_clear(found, ws, sizeof(*ws));
	if (st == NULL || hash == NULL || ws == NULL || found == NULL)
		return (BERR_INVAL);
	return (st->ops->web_session_touch(st->s, hash, now, idle_until, ws,
	    found));
}

int
state_web_session_end(struct state *st, const char *hash)
{
	if (st == NULL || hash == NULL)
		return (BERR_INVAL);
	return (st->ops->web_session_end(st->s, hash));
}

int
state_web_challenge_put(struct state *st,
    const struct state_web_challenge *ch)
{
	if (st == NULL || ch == NULL || ch->hash[0] == '\0' ||
	    ch->kind[0] == '\0')
		return (BERR_INVAL);
	return (st->ops->web_challenge_put(st->s, ch));
}

int
state_web_challenge_take(struct state *st, const char *hash,
    const char *person, const char *kind, time_t now,
    struct state_web_challenge *ch, int *found)
{
	state_out_clear(found, ch, sizeof(*ch));
	if (st == NULL || hash == NULL || person == NULL || kind == NULL ||
	    ch == NULL || found == NULL)
		return (BERR_INVAL);
	return (st->ops->web_challenge_take(st->s, hash, person, kind, now,
	    ch, found));
}

int
state_web_login_fail(struct state *st, const char *person, time_t now)
{
	if (st == NULL || person == NULL)
		return (BERR_INVAL);
	return (st->ops->web_login_fail(st->s, person, now));
}

int
state_web_login_fails(struct state *st, const char *person, time_t since,
    size_t *n)
{
	size_t k = 0;
	int r;

	if (n == NULL)
		return (BERR_INVAL);
	*n = 0;
	if (st == NULL || person == NULL)
		return (BERR_INVAL);
	if ((r = st->ops->web_login_fails(st->s, person, since, &k)) == 0)
		*n = k;
	return (r);
}

/* ---- file declarations ----------------------------------------------- */

int
state_decl_file_add(struct state *st, const struct state_decl_file *f)
{
	if (st == NULL || f == NULL || f->session <= 0 ||
	    f->engineer[0] == '\0' || f->vendor[0] == '\0' ||
	    (strcmp(f->direction, "in") != 0 &&
	    strcmp(f->direction, "out") != 0) || f->size < 0)
		return (BERR_INVAL);
	return (st->ops->decl_file_add(st->s, f));
}

int
state_decl_each(struct state *st, const char *engineer, int64_t session,
    int open_only, int (*fn)(const struct state_decl *d, void *arg),
    void *arg)
{
	if (st == NULL || fn == NULL || session < 0)
		return (BERR_INVAL);
	return (st->ops->decl_each(st->s, engineer, session, open_only != 0,
	    fn, arg));
}

int64_t
state_decl_lines(const struct state_decl *d,
    void (*fn)(const char *line, size_t len, void *arg), void *arg)
{
	const char *p, *nl;
	int64_t n = 0;

	for (p = d->files; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		/* the store cut the list in this line */
		if (*nl == '\0' && (size_t)(nl - d->files) >=
		    sizeof(d->files) - 1)
			break;
		fn(p, (size_t)(nl - p), arg);
		n++;
	}
	return (n);
}

int
state_decl_answer_check(const char *personal, const char *erased,
    const char **why)
{
	int none = erased == NULL || erased[0] == '\0';

	*why = NULL;
	if (personal == NULL || (strcmp(personal, "yes") != 0 &&
	    strcmp(personal, "no") != 0))
		*why = "personal= must be yes or no";
	else if (strcmp(personal, "no") == 0 && !none)
		*why = "erased= goes only with personal=yes";
	else if (strcmp(personal, "yes") == 0 && (none ||
	    (strcmp(erased, "yes") != 0 && strcmp(erased, "no") != 0 &&
	    strcmp(erased, "pending") != 0)))
		*why = "personal=yes needs erased=yes, erased=no or "
		    "erased=pending";
	return (*why != NULL ? BERR_INVAL : 0);
}

int
state_decl_answer(struct state *st, int64_t session, const char *engineer,
    const char *personal, const char *erased, const char *via, time_t now,
    struct state_decl *d)
{
	struct state_decl mine;
	const char *why;

	if (d == NULL)
		d = &mine;
	memset(d, 0, sizeof(*d));
	if (st == NULL || session <= 0 || engineer == NULL ||
	    engineer[0] == '\0' || via == NULL ||
	    state_decl_answer_check(personal, erased, &why) != 0)
		return (BERR_INVAL);
	return (st->ops->decl_answer(st->s, session, engineer, personal,
	    erased != NULL ? erased : "", via, now, d));
}
