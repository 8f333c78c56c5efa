/*
 * store_serve.c - the store actor's side of forwarded state operations
 * (store_call.h): the table of calls, store_calls[], and for each one a
 * one-line adapter that runs it on the actor's own SQLite backend with the
 * decoded arguments, its out-values left in the context's members that
 * the entry's out-spec names (store_call.h). Rows the
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

#define DB		(state_local_ops())
#define T(k)		(x->in[k].s)
#define I(k)		(x->in[k].i)
#define U32(k)		(I(k) >= 0 && I(k) <= UINT32_MAX)
/* one adapter: sv_name(x) returns expr */
#define SERVE(name, expr) \
	static int sv_##name(struct store_call_ctx *x) { return (expr); }
/* the row callback, as the typed one each operation takes */
#define ROWS(type)	((int (*)(const struct type *, void *)) \
	(void (*)(void))x->row_fn), x->row_arg
#define VROWS(type)	((void (*)(const struct type *, void *)) \
	(void (*)(void))x->row_fn), x->row_arg

SERVE(hello, ((void)x, 0))
SERVE(counter_advance, !U32(1) ? BERR_INVAL : DB->counter_advance(x->s, T(0),
    (uint32_t)I(1), &x->u32, &x->flag))
SERVE(counter_get, DB->counter_get(x->s, T(0), &x->u32, &x->flag))
SERVE(counter_forget, DB->counter_forget(x->s, T(0)))
SERVE(key_lock, DB->key_lock(x->s, T(0), T(1), T(2)))
SERVE(key_locked, DB->key_locked(x->s, T(0), &x->flag, &x->row.lock))
SERVE(key_lock_oldest, DB->key_lock_oldest(x->s, T(0), &x->flag,
    &x->row.lock))

/* key_unlock_engineer names the fingerprints: sent as lock rows */
static void
sv_unlocked_fp(const char *fp, void *arg)
{
	struct store_call_ctx *x = arg;
	struct state_lock l;

	memset(&l, 0, sizeof(l));
	snprintf(l.fp, sizeof(l.fp), "%s", fp);
	(void)x->row_fn(&l, x->row_arg);
}

SERVE(key_unlock_engineer, DB->key_unlock_engineer(x->s, T(0), &x->n,
    sv_unlocked_fp, x))
SERVE(key_lock_count, DB->key_lock_count(x->s, T(0), &x->n))
SERVE(guard_try, DB->guard_try(x->s, T(0), T(1), (time_t)I(2), (time_t)I(3),
    T(4)))
SERVE(guard_holder, DB->guard_holder(x->s, T(0), x->text, sizeof(x->text),
    &x->flag))
SERVE(guard_release, DB->guard_release(x->s, T(0), T(1)))
SERVE(enroll_put, x->row.enroll.key_line == NULL ? BERR_INVAL :
    DB->enroll_put(x->s, &x->row.enroll))
SERVE(enroll_each, DB->enroll_each(x->s, T(0), ROWS(state_enrollment)))

/* its key_line is the backend's heap copy, freed after the answer */
static int
sv_enroll_get(struct store_call_ctx *x)
{
	int r;

	r = DB->enroll_get(x->s, T(0), &x->row.enroll, &x->flag);
	x->heap = x->row.enroll.key_line;
	return (r);
}

SERVE(request_create, DB->request_create(x->s, T(0), T(1), T(2), T(3),
    &x->id))
SERVE(request_get, DB->request_get(x->s, I(0), &x->row.request, &x->flag))
SERVE(request_each, !U32(1) ? BERR_INVAL : DB->request_each(x->s, T(0),
    (unsigned)I(1), ROWS(state_request)))
SERVE(request_finish, DB->request_finish(x->s, I(0), T(1), T(2), T(3)))
SERVE(request_approve, !U32(2) || I(2) == 0 || I(3) < INT32_MIN ||
    I(3) > INT32_MAX ? BERR_INVAL : DB->request_approve(x->s, I(0), T(1),
    (unsigned)I(2), (int)I(3), &x->id))
SERVE(grant_live, DB->grant_live(x->s, T(0), T(1), (time_t)I(2),
    &x->row.grant, &x->flag))
SERVE(grant_get, DB->grant_get(x->s, I(0), &x->row.grant, &x->flag))
SERVE(grant_each, DB->grant_each(x->s, I(0) != 0, (time_t)I(1),
    ROWS(state_grant)))
SERVE(grant_revoke, DB->grant_revoke(x->s, I(0), T(1)))
SERVE(session_start, DB->session_start(x->s, &x->row.session, &x->id))
SERVE(session_end, DB->session_end(x->s, I(0), T(1)))
SERVE(session_end_open, DB->session_end_open(x->s, T(0), T(1),
    VROWS(state_session), &x->n))
SERVE(session_get, DB->session_get(x->s, I(0), &x->row.session, &x->flag))
SERVE(session_each, !U32(1) ? BERR_INVAL : DB->session_each(x->s, I(0) != 0,
    (unsigned)I(1), ROWS(state_session)))
SERVE(session_kill, DB->session_kill(x->s, I(0), T(1), T(2), &x->row.session))
SERVE(session_controls, DB->session_controls(x->s, ROWS(state_session_ctl)))
SERVE(session_count, DB->session_count(x->s, T(0), &x->n))
SERVE(engineer_lock, DB->engineer_lock(x->s, T(0), T(1), T(2)))
SERVE(engineer_locked, DB->engineer_locked(x->s, T(0), &x->flag,
    &x->row.elock))
SERVE(engineer_unlock, DB->engineer_unlock(x->s, T(0), &x->row.elock))

static int
sv_touch_window_open(struct store_call_ctx *x)
{
	const struct state_touch_window *w = &x->row.window;

	if (w->engineer[0] == '\0' || w->device[0] == '\0' ||
	    w->source[0] == '\0' || w->fp[0] == '\0' || w->until <= w->opened)
		return (BERR_INVAL);
	return (DB->touch_window_open(x->s, w));
}

SERVE(touch_window_get, DB->touch_window_get(x->s, T(0), T(1), T(2),
    (time_t)I(3), &x->row.window, &x->flag))
SERVE(touch_window_close, DB->touch_window_close(x->s, T(0), T(1), &x->n))
SERVE(touch_window_expire, DB->touch_window_expire(x->s, (time_t)I(0)))
SERVE(web_cred_put, DB->web_cred_put(x->s, &x->row.wcred))
SERVE(web_cred_each, DB->web_cred_each(x->s, T(0), ROWS(state_web_cred)))
SERVE(web_session_new, DB->web_session_new(x->s, &x->row.wsess))
SERVE(web_session_touch, DB->web_session_touch(x->s, T(0), (time_t)I(1),
    (time_t)I(2), &x->row.wsess, &x->flag))
SERVE(web_session_end, DB->web_session_end(x->s, T(0)))
SERVE(web_challenge_put, DB->web_challenge_put(x->s, &x->row.wchal))
SERVE(web_challenge_take, DB->web_challenge_take(x->s, T(0), T(1), T(2),
    (time_t)I(3), &x->row.wchal, &x->flag))
SERVE(web_login_fail, DB->web_login_fail(x->s, T(0), (time_t)I(1)))
SERVE(web_login_fails, DB->web_login_fails(x->s, T(0), (time_t)I(1), &x->n))
SERVE(export_create, DB->export_create(x->s, &x->row.fexport, &x->id))
SERVE(export_get, DB->export_get(x->s, I(0), &x->row.fexport, &x->flag))
SERVE(export_each, !U32(1) ? BERR_INVAL : DB->export_each(x->s, T(0),
    (unsigned)I(1), ROWS(state_export)))
SERVE(export_finish, DB->export_finish(x->s, I(0), T(1), T(2), T(3)))

static int
sv_decl_file_add(struct store_call_ctx *x)
{
	const struct state_decl_file *f = &x->row.declf;

	if (f->session <= 0 || f->engineer[0] == '\0' ||
	    f->vendor[0] == '\0' || f->size < 0 ||
	    (strcmp(f->direction, "in") != 0 &&
	    strcmp(f->direction, "out") != 0))
		return (BERR_INVAL);
	return (DB->decl_file_add(x->s, f));
}

SERVE(decl_each, I(1) < 0 ? BERR_INVAL : DB->decl_each(x->s, T(0), I(1),
    I(2) != 0, ROWS(state_decl)))

static int
sv_decl_answer(struct store_call_ctx *x)
{
	const char *why;

	if (I(0) <= 0 || T(1)[0] == '\0' ||
	    state_decl_answer_check(T(2), T(3), &why) != 0)
		return (BERR_INVAL);
	return (DB->decl_answer(x->s, I(0), T(1), T(2), T(3), T(4),
	    (time_t)I(5), &x->row.decl));
}

SERVE(watch_open, DB->watch_open(x->s, &x->row.watch, &x->id))
SERVE(watch_each, DB->watch_each(x->s, T(0), (time_t)I(1),
    ROWS(state_watch)))
SERVE(watch_claim, DB->watch_claim(x->s, I(0), T(1), (time_t)I(2),
    &x->row.watch, &x->flag))

/* the chunk travels as scalars: checked against its columns here */
static int
sv_watch_put(struct store_call_ctx *x)
{
	struct state_watch_chunk *c = &x->row.watchc;

	if (strlen(T(3)) >= sizeof(c->kind) ||
	    strlen(T(4)) >= sizeof(c->data))
		return (BERR_LIMIT);
	c->watch = I(0);
	c->seq = I(1);
	c->skipped = I(2);
	snprintf(c->kind, sizeof(c->kind), "%s", T(3));
	snprintf(c->data, sizeof(c->data), "%s", T(4));
	return (DB->watch_put(x->s, c, (time_t)I(5), &x->flag));
}

SERVE(watch_take, DB->watch_take(x->s, I(0), (time_t)I(1),
    ROWS(state_watch_chunk), &x->flag))
SERVE(watch_close, DB->watch_close(x->s, I(0)))

#define RD	STORE_PERM_READ
#define WR	STORE_PERM_WRITE
#define CALL(id, n, in, out, map, perm) \
	[SC_##id] = { #n, in, out, map, perm, sv_##n }

const struct store_call store_calls[SC_NCALLS] = {
	CALL(HELLO, hello, "", "", NULL, RD),
	CALL(COUNTER_ADVANCE, counter_advance, "TI", "uf", NULL, WR),
	CALL(COUNTER_GET, counter_get, "T", "uf", NULL, RD),
	CALL(COUNTER_FORGET, counter_forget, "T", "", NULL, WR),
	CALL(KEY_LOCK, key_lock, "TTT", "", NULL, WR),
	CALL(KEY_LOCKED, key_locked, "T", "fR", &sq_lock_map, RD),
	CALL(KEY_LOCK_OLDEST, key_lock_oldest, "T", "fR", &sq_lock_map, RD),
	CALL(KEY_UNLOCK_ENGINEER, key_unlock_engineer, "T", "n", &sq_lock_map,
	    WR),
	CALL(KEY_LOCK_COUNT, key_lock_count, "T", "n", NULL, RD),
	CALL(GUARD_TRY, guard_try, "TTIIt", "", NULL, WR),
	CALL(GUARD_HOLDER, guard_holder, "T", "fT", NULL, RD),
	CALL(GUARD_RELEASE, guard_release, "TT", "", NULL, WR),
	CALL(ENROLL_PUT, enroll_put, "R", "", &sq_enroll_map, WR),
	CALL(ENROLL_EACH, enroll_each, "t", "", &sq_enroll_map, RD),
	CALL(ENROLL_GET, enroll_get, "T", "fR", &sq_enroll_map, RD),
	CALL(REQUEST_CREATE, request_create, "TTTt", "d", NULL, WR),
	CALL(REQUEST_GET, request_get, "I", "fR", &sq_request_map, RD),
	CALL(REQUEST_EACH, request_each, "tI", "", &sq_request_map, RD),
	CALL(REQUEST_FINISH, request_finish, "ITtt", "", NULL, WR),
	CALL(REQUEST_APPROVE, request_approve, "ITII", "d", NULL, WR),
	CALL(GRANT_LIVE, grant_live, "TTI", "fR", &sq_grant_map, RD),
	CALL(GRANT_GET, grant_get, "I", "fR", &sq_grant_map, RD),
	CALL(GRANT_EACH, grant_each, "II", "", &sq_grant_map, RD),
	CALL(GRANT_REVOKE, grant_revoke, "IT", "", NULL, WR),
	CALL(SESSION_START, session_start, "R", "d", &sq_session_map, WR),
	CALL(SESSION_END, session_end, "IT", "", NULL, WR),
	CALL(SESSION_END_OPEN, session_end_open, "TT", "n", &sq_session_map,
	    WR),
	CALL(SESSION_GET, session_get, "I", "fR", &sq_session_map, RD),
	CALL(SESSION_EACH, session_each, "II", "", &sq_session_map, RD),
	CALL(SESSION_KILL, session_kill, "ITT", "R", &sq_session_map, WR),
	CALL(SESSION_CONTROLS, session_controls, "", "", &sq_ctl_map, RD),
	CALL(SESSION_COUNT, session_count, "T", "n", NULL, RD),
	CALL(ENGINEER_LOCK, engineer_lock, "TTT", "", NULL, WR),
	CALL(ENGINEER_LOCKED, engineer_locked, "T", "fR", &sq_elock_map, RD),
	CALL(ENGINEER_UNLOCK, engineer_unlock, "T", "R", &sq_elock_map, WR),
	CALL(TOUCH_WINDOW_OPEN, touch_window_open, "R", "", &sq_window_map,
	    WR),
	CALL(TOUCH_WINDOW_GET, touch_window_get, "TTTI", "fR", &sq_window_map,
	    RD),
	CALL(TOUCH_WINDOW_CLOSE, touch_window_close, "Tt", "n", NULL, WR),
	CALL(TOUCH_WINDOW_EXPIRE, touch_window_expire, "I", "", NULL, WR),
	CALL(WEB_CRED_PUT, web_cred_put, "R", "", &sq_wcred_map, WR),
	CALL(WEB_CRED_EACH, web_cred_each, "t", "", &sq_wcred_map, RD),
	CALL(WEB_SESSION_NEW, web_session_new, "R", "", &sq_wsess_map, WR),
	CALL(WEB_SESSION_TOUCH, web_session_touch, "TII", "fR", &sq_wsess_map,
	    WR),
	CALL(WEB_SESSION_END, web_session_end, "T", "", NULL, WR),
	CALL(WEB_CHALLENGE_PUT, web_challenge_put, "R", "", &sq_wchal_map, WR),
	CALL(WEB_CHALLENGE_TAKE, web_challenge_take, "TTTI", "fR",
	    &sq_wchal_map, WR),
	CALL(WEB_LOGIN_FAIL, web_login_fail, "TI", "", NULL, WR),
	CALL(WEB_LOGIN_FAILS, web_login_fails, "TI", "n", NULL, RD),
	CALL(EXPORT_CREATE, export_create, "R", "d", &sq_export_map, WR),
	CALL(EXPORT_GET, export_get, "I", "fR", &sq_export_map, RD),
	CALL(EXPORT_EACH, export_each, "tI", "", &sq_export_map, RD),
	CALL(EXPORT_FINISH, export_finish, "ITtt", "", NULL, WR),
	CALL(DECL_FILE_ADD, decl_file_add, "R", "", &sq_declf_map, WR),
	CALL(DECL_EACH, decl_each, "tII", "", &sq_decl_map, RD),
	CALL(DECL_ANSWER, decl_answer, "ITTTTI", "R", &sq_decl_map, WR),
	CALL(WATCH_OPEN, watch_open, "R", "d", &sq_watch_map, WR),
	CALL(WATCH_EACH, watch_each, "TI", "", &sq_watch_map, WR),
	CALL(WATCH_CLAIM, watch_claim, "ITI", "fR", &sq_watch_map, WR),
	CALL(WATCH_PUT, watch_put, "IIITTI", "f", NULL, WR),
	CALL(WATCH_TAKE, watch_take, "II", "f", &sq_watchc_map, WR),
	CALL(WATCH_CLOSE, watch_close, "I", "", NULL, WR),
};
