/*
 * store_sqlite_web.c - the web console's tables in the SQLite store
 * (schema step 6, issue 17): WebAuthn credentials of admins and auditors,
 * web sessions (by the SHA-256 of their token, never the token) and
 * single-use challenges, each consumed in the one statement that checks
 * it, so two requests can never both use one challenge. docs/WEB.md.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store_sqlite.h"

/* A read of a store older than schema step 6 (read-only) finds nothing. */
#define SQ_HAS_WEB(s)	((s)->version >= 6)

static const struct sq_col sq_wcred_cols[] = {
	SQC(SQC_TEXT, state_web_cred, person),
	SQC(SQC_TEXT, state_web_cred, cred_id),
	SQC(SQC_INT, state_web_cred, alg),
	SQC(SQC_TEXT, state_web_cred, pubkey),
	SQC(SQC_TEXT, state_web_cred, aaguid),
	SQC(SQC_TIME, state_web_cred, created),
	SQC(SQC_TEXT, state_web_cred, enrolled_by),
	SQC(SQC_INT, state_web_cred, enabled),
};
const struct sq_map sq_wcred_map = SQ_MAP(state_web_cred, sq_wcred_cols);

int
sq_web_cred_put(struct store *s, const struct state_web_cred *w)
{
	int64_t n = 0;
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_int(s, "SELECT count(*) FROM web_credential WHERE "
	    "cred_id = ?1", SQ_ARGS(SQ_T(w->cred_id)), &n, NULL)) == 0 &&
	    n != 0)
		r = BERR_EXISTS;
	if (r == 0)
		r = sq_run(s, "INSERT INTO web_credential(person, cred_id, alg, "
		    "pubkey, aaguid, created, enrolled_by, enabled) VALUES "
		    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)", SQ_ARGS(SQ_T(w->person),
		    SQ_T(w->cred_id), SQ_I(w->alg), SQ_T(w->pubkey),
		    SQ_T(w->aaguid), SQ_I(w->created), SQ_T(w->enrolled_by)),
		    NULL);
	return (sq_end(s, r));
}

int
sq_web_cred_each(struct store *s, const char *person,
    int (*fn)(const struct state_web_cred *w, void *arg), void *arg)
{
	struct sq_walk wk = SQ_WALK(fn, arg);
	struct state_web_cred w;

	if (!SQ_HAS_WEB(s))
		return (0);
	return (sq_each(s, "SELECT person, cred_id, alg, pubkey, aaguid, "
	    "created, enrolled_by, enabled FROM web_credential WHERE enabled <> 0 "
	    "AND (?1 IS NULL OR person = ?1) ORDER BY person, created, "
	    "cred_id", SQ_ARGS(SQ_T(person)), &sq_wcred_map, &w, sq_walk_row,
	    &wk));
}

static const struct sq_col sq_wsess_cols[] = {
	SQC(SQC_TEXT, state_web_session, hash),
	SQC(SQC_TEXT, state_web_session, person),
	SQC(SQC_TEXT, state_web_session, role),
	SQC(SQC_TEXT, state_web_session, from),
	SQC(SQC_TIME, state_web_session, created),
	SQC(SQC_TIME, state_web_session, last_used),
	SQC(SQC_TIME, state_web_session, idle_until),
	SQC(SQC_TIME, state_web_session, abs_until),
};
const struct sq_map sq_wsess_map = SQ_MAP(state_web_session, sq_wsess_cols);

int
sq_web_session_new(struct store *s, const struct state_web_session *ws)
{
	return (sq_run(s, "INSERT INTO web_session(hash, person, role, "
	    "source, created, last_used, idle_until, abs_until) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", SQ_ARGS(SQ_T(ws->hash),
	    SQ_T(ws->person), SQ_T(ws->role), SQ_T(ws->from),
	    SQ_I(ws->created), SQ_I(ws->last_used), SQ_I(ws->idle_until),
	    SQ_I(ws->abs_until)), NULL));
}

int
sq_web_session_touch(struct store *s, const char *hash, time_t now,
    time_t idle_until, struct state_web_session *ws, int *found)
{
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_get(s, "SELECT hash, person, role, source, created, "
	    "last_used, idle_until, abs_until FROM web_session WHERE hash = ?1 "
	    "AND ended = 0 AND idle_until > ?2 AND abs_until > ?2",
	    SQ_ARGS(SQ_T(hash), SQ_I(now)), &sq_wsess_map, ws, found)) != 0 ||
	    !*found)
		return (sq_end(s, r));
	if (idle_until > ws->abs_until)
		idle_until = ws->abs_until;
	ws->last_used = now;
	ws->idle_until = idle_until;
	r = sq_run(s, "UPDATE web_session SET last_used = ?2, idle_until = ?3 "
	    "WHERE hash = ?1", SQ_ARGS(SQ_T(hash), SQ_I(now),
	    SQ_I(idle_until)), NULL);
	return (sq_end(s, r));
}

int
sq_web_session_end(struct store *s, const char *hash)
{
	return (sq_run(s, "UPDATE web_session SET ended = 1 WHERE hash = ?1",
	    SQ_ARGS(SQ_T(hash)), NULL));
}

static const struct sq_col sq_wchal_cols[] = {
	SQC(SQC_TEXT, state_web_challenge, hash),
	SQC(SQC_TEXT, state_web_challenge, person),
	SQC(SQC_TEXT, state_web_challenge, kind),
	SQC(SQC_TEXT, state_web_challenge, data),
	SQC(SQC_TIME, state_web_challenge, not_after),
};
const struct sq_map sq_wchal_map = SQ_MAP(state_web_challenge, sq_wchal_cols);

int
sq_web_challenge_put(struct store *s, const struct state_web_challenge *ch)
{
	int r;

	/* spent and expired rows go as new ones come */
	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_run(s, "DELETE FROM web_challenge WHERE not_after < ?1",
	    SQ_ARGS(SQ_I(time(NULL) - 3600)), NULL)) == 0)
		r = sq_run(s, "INSERT INTO web_challenge(hash, person, kind, "
		    "data, not_after) VALUES (?1, ?2, ?3, ?4, ?5)",
		    SQ_ARGS(SQ_T(ch->hash), SQ_T(ch->person), SQ_T(ch->kind),
		    SQ_T(ch->data), SQ_I(ch->not_after)), NULL);
	return (sq_end(s, r));
}

int
sq_web_challenge_take(struct store *s, const char *hash, const char *person,
    const char *kind, time_t now, struct state_web_challenge *ch, int *found)
{
	int r, changes = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	/* the UPDATE is the check: one row or none */
	if ((r = sq_run(s, "UPDATE web_challenge SET used = 1 WHERE hash = ?1 "
	    "AND person = ?2 AND kind = ?3 AND used = 0 AND not_after > ?4",
	    SQ_ARGS(SQ_T(hash), SQ_T(person), SQ_T(kind), SQ_I(now)),
	    &changes)) != 0 || changes != 1)
		return (sq_end(s, r));
	r = sq_get(s, "SELECT hash, person, kind, data, not_after FROM "
	    "web_challenge WHERE hash = ?1", SQ_ARGS(SQ_T(hash)),
	    &sq_wchal_map, ch, found);
	return (sq_end(s, r));
}

int
sq_web_login_fail(struct store *s, const char *person, time_t now)
{
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_run(s, "DELETE FROM web_login_fail WHERE at < ?1",
	    SQ_ARGS(SQ_I(now - 86400)), NULL)) == 0)
		r = sq_run(s, "INSERT INTO web_login_fail(person, at) VALUES "
		    "(?1, ?2)", SQ_ARGS(SQ_T(person), SQ_I(now)), NULL);
	return (sq_end(s, r));
}

int
sq_web_login_fails(struct store *s, const char *person, time_t since,
    size_t *n)
{
	int64_t v = 0;
	int r;

	*n = 0;
	if (!SQ_HAS_WEB(s))
		return (0);
	if ((r = sq_int(s, "SELECT count(*) FROM web_login_fail WHERE "
	    "person = ?1 AND at >= ?2", SQ_ARGS(SQ_T(person), SQ_I(since)), &v,
	    NULL)) == 0)
		*n = (size_t)v;
	return (r);
}
