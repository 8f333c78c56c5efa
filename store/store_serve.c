/*
 * store_serve.c - the store actor's side of forwarded state operations
 * (store_call.h): the table of calls, store_calls[], and for each one a
 * small adapter that runs it on the actor's own SQLite backend with the
 * decoded arguments and leaves its out-values for the answer. Rows the
 * operation produces go to the context's row_fn (the actor queues each as
 * a ROW datagram). Runs on the actor's thread only.
 *
 * The arguments were decoded strictly by the call's shape, so x->in[k]
 * has the tag the shape says ('T' never NULL); what state.c checks for
 * direct callers (NULL pointers, cleared out-parameters) is thereby true
 * here too, and the values themselves are checked by the backend as for
 * any caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_call.h"

#define DB		(&store_sqlite_ops)
#define T(k)		(x->in[k].s)
#define I(k)		(x->in[k].i)
#define OUT_I(k, v)	(x->out[k].tag = STORE_VAL_INT, x->out[k].i = (v))
/* the row callback, as the typed one each operation takes */
#define ROWS(type)	((int (*)(const struct type *, void *)) \
	(void (*)(void))x->row_fn), x->row_arg
#define VROWS(type)	((void (*)(const struct type *, void *)) \
	(void (*)(void))x->row_fn), x->row_arg

static int
sv_hello(struct store_call_ctx *x)
{
	(void)x;
	return (0);
}

static int
sv_counter_advance(struct store_call_ctx *x)
{
	uint32_t prev = 0;
	int had = 0, r;

	if (I(1) < 0 || I(1) > UINT32_MAX)
		return (BERR_INVAL);
	r = DB->counter_advance(x->s, T(0), (uint32_t)I(1), &prev, &had);
	OUT_I(0, prev);
	OUT_I(1, had);
	return (r);
}

static int
sv_counter_get(struct store_call_ctx *x)
{
	uint32_t c = 0;
	int found = 0, r;

	r = DB->counter_get(x->s, T(0), &c, &found);
	OUT_I(0, c);
	OUT_I(1, found);
	return (r);
}

static int
sv_counter_forget(struct store_call_ctx *x)
{
	return (DB->counter_forget(x->s, T(0)));
}

static int
sv_key_lock(struct store_call_ctx *x)
{
	return (DB->key_lock(x->s, T(0), T(1), T(2)));
}

static int
sv_key_locked(struct store_call_ctx *x)
{
	int locked = 0, r;

	r = DB->key_locked(x->s, T(0), &locked, &x->row.lock);
	OUT_I(0, locked);
	return (r);
}

static int
sv_key_lock_oldest(struct store_call_ctx *x)
{
	int locked = 0, r;

	r = DB->key_lock_oldest(x->s, T(0), &locked, &x->row.lock);
	OUT_I(0, locked);
	return (r);
}

/* key_unlock_engineer names the fingerprints: sent as lock rows */
static void
sv_unlocked_fp(const char *fp, void *arg)
{
	struct store_call_ctx *x = arg;

	memset(&x->row.lock, 0, sizeof(x->row.lock));
	snprintf(x->row.lock.fp, sizeof(x->row.lock.fp), "%s", fp);
	(void)x->row_fn(&x->row.lock, x->row_arg);
}

static int
sv_key_unlock_engineer(struct store_call_ctx *x)
{
	size_t n = 0;
	int r;

	r = DB->key_unlock_engineer(x->s, T(0), &n, sv_unlocked_fp, x);
	OUT_I(0, n);
	return (r);
}

static int
sv_key_lock_count(struct store_call_ctx *x)
{
	size_t n = 0;
	int r;

	r = DB->key_lock_count(x->s, T(0), &n);
	OUT_I(0, n);
	return (r);
}

static int
sv_guard_try(struct store_call_ctx *x)
{
	return (DB->guard_try(x->s, T(0), T(1), (time_t)I(2), (time_t)I(3),
	    T(4)));
}

static int
sv_guard_holder(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->guard_holder(x->s, T(0), x->text, sizeof(x->text), &found);
	OUT_I(0, found);
	x->out[1].tag = STORE_VAL_TEXT;
	x->out[1].s = found ? x->text : "";
	return (r);
}

static int
sv_guard_release(struct store_call_ctx *x)
{
	return (DB->guard_release(x->s, T(0), T(1)));
}

static int
sv_enroll_put(struct store_call_ctx *x)
{
	return (x->row.enroll.key_line == NULL ? BERR_INVAL :
	    DB->enroll_put(x->s, &x->row.enroll));
}

static int
sv_enroll_each(struct store_call_ctx *x)
{
	return (DB->enroll_each(x->s, T(0), ROWS(state_enrollment)));
}

/* enroll_get's key_line is the backend's heap copy: answered, then
 * freed by the actor (x->heap) */
static int
sv_enroll_get(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->enroll_get(x->s, T(0), &x->row.enroll, &found);
	x->heap = x->row.enroll.key_line;
	OUT_I(0, found);
	return (r);
}

static int
sv_request_create(struct store_call_ctx *x)
{
	int64_t id = 0;
	int r;

	r = DB->request_create(x->s, T(0), T(1), T(2), T(3), &id);
	OUT_I(0, id);
	return (r);
}

static int
sv_request_get(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->request_get(x->s, I(0), &x->row.request, &found);
	OUT_I(0, found);
	return (r);
}

static int
sv_request_each(struct store_call_ctx *x)
{
	if (I(1) < 0 || I(1) > UINT32_MAX)
		return (BERR_INVAL);
	return (DB->request_each(x->s, T(0), (unsigned)I(1),
	    ROWS(state_request)));
}

static int
sv_request_finish(struct store_call_ctx *x)
{
	return (DB->request_finish(x->s, I(0), T(1), T(2), T(3)));
}

static int
sv_request_approve(struct store_call_ctx *x)
{
	int64_t g = 0;
	int r;

	if (I(2) <= 0 || I(2) > UINT32_MAX || I(3) < INT32_MIN ||
	    I(3) > INT32_MAX)
		return (BERR_INVAL);
	r = DB->request_approve(x->s, I(0), T(1), (unsigned)I(2), (int)I(3),
	    &g);
	OUT_I(0, g);
	return (r);
}

static int
sv_grant_live(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->grant_live(x->s, T(0), T(1), (time_t)I(2), &x->row.grant,
	    &found);
	OUT_I(0, found);
	return (r);
}

static int
sv_grant_get(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->grant_get(x->s, I(0), &x->row.grant, &found);
	OUT_I(0, found);
	return (r);
}

static int
sv_grant_each(struct store_call_ctx *x)
{
	return (DB->grant_each(x->s, I(0) != 0, (time_t)I(1),
	    ROWS(state_grant)));
}

static int
sv_grant_revoke(struct store_call_ctx *x)
{
	return (DB->grant_revoke(x->s, I(0), T(1)));
}

static int
sv_session_start(struct store_call_ctx *x)
{
	int64_t id = 0;
	int r;

	r = DB->session_start(x->s, &x->row.session, &id);
	OUT_I(0, id);
	return (r);
}

static int
sv_session_end(struct store_call_ctx *x)
{
	return (DB->session_end(x->s, I(0), T(1)));
}

static int
sv_session_end_open(struct store_call_ctx *x)
{
	size_t n = 0;
	int r;

	r = DB->session_end_open(x->s, T(0), VROWS(state_session), &n);
	OUT_I(0, n);
	return (r);
}

static int
sv_session_get(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->session_get(x->s, I(0), &x->row.session, &found);
	OUT_I(0, found);
	return (r);
}

static int
sv_session_each(struct store_call_ctx *x)
{
	if (I(1) < 0 || I(1) > UINT32_MAX)
		return (BERR_INVAL);
	return (DB->session_each(x->s, I(0) != 0, (unsigned)I(1),
	    ROWS(state_session)));
}

static int
sv_session_kill(struct store_call_ctx *x)
{
	return (DB->session_kill(x->s, I(0), T(1), T(2), &x->row.session));
}

static int
sv_session_controls(struct store_call_ctx *x)
{
	return (DB->session_controls(x->s, ROWS(state_session_ctl)));
}

static int
sv_session_count(struct store_call_ctx *x)
{
	size_t n = 0;
	int r;

	r = DB->session_count(x->s, T(0), &n);
	OUT_I(0, n);
	return (r);
}

static int
sv_engineer_lock(struct store_call_ctx *x)
{
	return (DB->engineer_lock(x->s, T(0), T(1), T(2)));
}

static int
sv_engineer_locked(struct store_call_ctx *x)
{
	int locked = 0, r;

	r = DB->engineer_locked(x->s, T(0), &locked, &x->row.elock);
	OUT_I(0, locked);
	return (r);
}

static int
sv_engineer_unlock(struct store_call_ctx *x)
{
	return (DB->engineer_unlock(x->s, T(0), &x->row.elock));
}

static int
sv_touch_window_open(struct store_call_ctx *x)
{
	const struct state_touch_window *w = &x->row.window;

	if (w->engineer[0] == '\0' || w->device[0] == '\0' ||
	    w->source[0] == '\0' || w->fp[0] == '\0' || w->until <= w->opened)
		return (BERR_INVAL);
	return (DB->touch_window_open(x->s, w));
}

static int
sv_touch_window_get(struct store_call_ctx *x)
{
	int found = 0, r;

	r = DB->touch_window_get(x->s, T(0), T(1), T(2), (time_t)I(3),
	    &x->row.window, &found);
	OUT_I(0, found);
	return (r);
}

static int
sv_touch_window_close(struct store_call_ctx *x)
{
	size_t n = 0;
	int r;

	r = DB->touch_window_close(x->s, T(0), T(1), &n);
	OUT_I(0, n);
	return (r);
}

static int
sv_touch_window_expire(struct store_call_ctx *x)
{
	return (DB->touch_window_expire(x->s, (time_t)I(0)));
}

#define RD	STORE_PERM_READ
#define WR	STORE_PERM_WRITE
#define CALL(id, n, in, out, map, perm) \
	[SC_##id] = { #n, in, out, map, perm, sv_##n }

const struct store_call store_calls[SC_NCALLS] = {
	CALL(HELLO, hello, "", "", NULL, RD),
	CALL(COUNTER_ADVANCE, counter_advance, "TI", "II", NULL, WR),
	CALL(COUNTER_GET, counter_get, "T", "II", NULL, RD),
	CALL(COUNTER_FORGET, counter_forget, "T", "", NULL, WR),
	CALL(KEY_LOCK, key_lock, "TTT", "", NULL, WR),
	CALL(KEY_LOCKED, key_locked, "T", "IR", &sq_lock_map, RD),
	CALL(KEY_LOCK_OLDEST, key_lock_oldest, "T", "IR", &sq_lock_map, RD),
	CALL(KEY_UNLOCK_ENGINEER, key_unlock_engineer, "T", "I", &sq_lock_map,
	    WR),
	CALL(KEY_LOCK_COUNT, key_lock_count, "T", "I", NULL, RD),
	CALL(GUARD_TRY, guard_try, "TTIIt", "", NULL, WR),
	CALL(GUARD_HOLDER, guard_holder, "T", "IT", NULL, RD),
	CALL(GUARD_RELEASE, guard_release, "TT", "", NULL, WR),
	CALL(ENROLL_PUT, enroll_put, "R", "", &sq_enroll_map, WR),
	CALL(ENROLL_EACH, enroll_each, "t", "", &sq_enroll_map, RD),
	CALL(ENROLL_GET, enroll_get, "T", "IR", &sq_enroll_map, RD),
	CALL(REQUEST_CREATE, request_create, "TTTt", "I", NULL, WR),
	CALL(REQUEST_GET, request_get, "I", "IR", &sq_request_map, RD),
	CALL(REQUEST_EACH, request_each, "tI", "", &sq_request_map, RD),
	CALL(REQUEST_FINISH, request_finish, "ITtt", "", NULL, WR),
	CALL(REQUEST_APPROVE, request_approve, "ITII", "I", NULL, WR),
	CALL(GRANT_LIVE, grant_live, "TTI", "IR", &sq_grant_map, RD),
	CALL(GRANT_GET, grant_get, "I", "IR", &sq_grant_map, RD),
	CALL(GRANT_EACH, grant_each, "II", "", &sq_grant_map, RD),
	CALL(GRANT_REVOKE, grant_revoke, "IT", "", NULL, WR),
	CALL(SESSION_START, session_start, "R", "I", &sq_session_map, WR),
	CALL(SESSION_END, session_end, "IT", "", NULL, WR),
	CALL(SESSION_END_OPEN, session_end_open, "T", "I", &sq_session_map,
	    WR),
	CALL(SESSION_GET, session_get, "I", "IR", &sq_session_map, RD),
	CALL(SESSION_EACH, session_each, "II", "", &sq_session_map, RD),
	CALL(SESSION_KILL, session_kill, "ITT", "R", &sq_session_map, WR),
	CALL(SESSION_CONTROLS, session_controls, "", "", &sq_ctl_map, RD),
	CALL(SESSION_COUNT, session_count, "T", "I", NULL, RD),
	CALL(ENGINEER_LOCK, engineer_lock, "TTT", "", NULL, WR),
	CALL(ENGINEER_LOCKED, engineer_locked, "T", "IR", &sq_elock_map, RD),
	CALL(ENGINEER_UNLOCK, engineer_unlock, "T", "R", &sq_elock_map, WR),
	CALL(TOUCH_WINDOW_OPEN, touch_window_open, "R", "", &sq_window_map,
	    WR),
	CALL(TOUCH_WINDOW_GET, touch_window_get, "TTTI", "IR", &sq_window_map,
	    RD),
	CALL(TOUCH_WINDOW_CLOSE, touch_window_close, "Tt", "I", NULL, WR),
	CALL(TOUCH_WINDOW_EXPIRE, touch_window_expire, "I", "", NULL, WR),
};
