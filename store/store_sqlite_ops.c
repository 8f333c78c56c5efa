/*
 * store_sqlite_ops.c - the SQL backends' access operations (requests,
 * approvals and grants; the session registry; engineer locks; touch
 * transfer windows) and their tables of operations, store_sqlite_ops and
 * store_pg_ops: the same operations on either driver (store_sqlite.h).
 * The SQLite connection, schema, runner and key operations are in
 * store_sqlite.c, PostgreSQL's connection and schema in store_pg.c.
 *
 * Each operation is one statement or one write transaction; rows are
 * mapped by the column tables below (sq_each/sq_get), parameters are
 * typed (store_sqlite.h), the SQL is what both databases understand.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store_sqlite.h"

/* ---- approvals ------------------------------------------------------- */

static const struct sq_col sq_request_cols[] = {
	SQC(SQC_I64, state_request, id),
	SQC(SQC_TEXT, state_request, engineer),
	SQC(SQC_TEXT, state_request, vendor),
	SQC(SQC_TEXT, state_request, device),
	SQC(SQC_TEXT, state_request, reason),
	SQC(SQC_TIME, state_request, created),
	SQC(SQC_TEXT, state_request, status),
	SQC(SQC_TEXT, state_request, decided_by),
	SQC(SQC_TIME, state_request, decided_at),
	SQC(SQC_TEXT, state_request, deny_reason),
	SQC(SQC_INT, state_request, napprovals),
	SQC(SQC_TEXT, state_request, approvers),
};
const struct sq_map sq_request_map =
    SQ_MAP(state_request, sq_request_cols);
#define SQ_REQUEST_SELECT "SELECT r.id, r.engineer, r.vendor, r.device, " \
	"r.reason, r.created, r.status, r.decided_by, r.decided_at, " \
	"r.deny_reason, " \
	"(SELECT count(*) FROM request_approval a WHERE a.request_id = r.id), " \
	"(SELECT group_concat(admin, ',') FROM request_approval a " \
	"WHERE a.request_id = r.id) FROM request r "

static const struct sq_col sq_grant_cols[] = {
	SQC(SQC_I64, state_grant, id),
	SQC(SQC_I64, state_grant, request_id),
	SQC(SQC_TEXT, state_grant, engineer),
	SQC(SQC_TEXT, state_grant, device),
	SQC(SQC_TIME, state_grant, created),
	SQC(SQC_TIME, state_grant, until),
	SQC(SQC_INT, state_grant, revoked),
	SQC(SQC_TEXT, state_grant, revoked_by),
	SQC(SQC_TIME, state_grant, revoked_at),
};
const struct sq_map sq_grant_map = SQ_MAP(state_grant, sq_grant_cols);
#define SQ_GRANT_SELECT "SELECT id, request_id, engineer, device, created, " \
	"until, revoked, revoked_by, revoked_at FROM access_grant "

static int
sq_request_create(struct store *s, const char *engineer, const char *vendor,
    const char *device, const char *reason, int64_t *id)
{
	return (sq_insert_id(s, "INSERT INTO request(engineer, vendor, device, "
	    "reason, created, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "RETURNING id",
	    SQ_ARGS(SQ_T(engineer), SQ_T(vendor), SQ_T(device),
	    SQ_T(reason != NULL ? reason : ""), SQ_I(time(NULL)),
	    SQ_T(STATE_REQ_PENDING)), id));
}

static int
sq_request_get(struct store *s, int64_t id, struct state_request *req,
    int *found)
{
	return (sq_get(s, SQ_REQUEST_SELECT "WHERE r.id = ?1",
	    SQ_ARGS(SQ_I(id)), &sq_request_map, req, found));
}

static int
sq_request_each(struct store *s, const char *status, unsigned limit,
    int (*fn)(const struct state_request *r, void *arg), void *arg)
{
	struct sq_walk w = SQ_WALK(fn, arg);
	struct state_request req;

	return (sq_each(s, SQ_REQUEST_SELECT "WHERE ?1 IS NULL OR "
	    "r.status = ?1 ORDER BY r.id DESC LIMIT ?2",
	    SQ_ARGS(SQ_T(status), SQ_I(limit ? (int64_t)limit : INT64_MAX)),
	    &sq_request_map, &req, sq_walk_row, &w));
}

/* In a transaction: BERR_NOTFOUND, BERR_EXISTS (decided) or 0 (pending). */
static int
sq_request_pending(struct store *s, int64_t id)
{
	struct state_request req;
	int r, found;

	if ((r = sq_request_get(s, id, &req, &found)) != 0)
		return (r);
	if (!found)
		return (BERR_NOTFOUND);
	return (strcmp(req.status, STATE_REQ_PENDING) != 0 ? BERR_EXISTS : 0);
}

static int
sq_request_finish(struct store *s, int64_t id, const char *status,
    const char *by, const char *reason)
{
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_request_pending(s, id)) == 0)
		r = sq_run(s, "UPDATE request SET status = ?1, decided_by = ?2, "
		    "deny_reason = ?3, decided_at = ?4 WHERE id = ?5",
		    SQ_ARGS(SQ_T(status), SQ_T(by != NULL ? by : ""),
		    SQ_T(reason != NULL ? reason : ""), SQ_I(time(NULL)),
		    SQ_I(id)), NULL);
	return (sq_end(s, r));
}

struct sq_tally {
	int64_t n;
	int64_t shortest;
	char by[200];
};

static const struct sq_col sq_tally_cols[] = {
	SQC(SQC_I64, sq_tally, n),
	SQC(SQC_I64, sq_tally, shortest),
	SQC(SQC_TEXT, sq_tally, by),
};
static const struct sq_map sq_tally_map = SQ_MAP(sq_tally, sq_tally_cols);

static int
sq_request_approve(struct store *s, int64_t id, const char *admin,
    unsigned duration, int needed, int64_t *grant_id)
{
	struct sq_tally t;
	int64_t now = (int64_t)time(NULL);
	int r, changes = 0, found = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_request_pending(s, id)) != 0 ||
	    (r = sq_run(s, "INSERT INTO request_approval("
	    "request_id, admin, duration, approved_at) VALUES (?1, ?2, ?3, "
	    "?4) ON CONFLICT DO NOTHING", SQ_ARGS(SQ_I(id), SQ_T(admin), SQ_I(duration), SQ_I(now)),
	    &changes)) != 0)
		return (sq_end(s, r));
	if (changes == 0)	/* this admin approved it already */
		return (sq_end(s, BERR_DENIED));
	if ((r = sq_get(s, "SELECT count(*), min(duration), "
	    "group_concat(admin, ',') FROM request_approval WHERE "
	    "request_id = ?1", SQ_ARGS(SQ_I(id)), &sq_tally_map, &t,
	    &found)) != 0)
		return (sq_end(s, r));
	if (t.n < (needed < 1 ? 1 : needed))
		return (sq_end(s, 0));
	if ((r = sq_run(s, "UPDATE request SET status = ?1, decided_by = ?2, "
	    "decided_at = ?3 WHERE id = ?4", SQ_ARGS(SQ_T(STATE_REQ_APPROVED),
	    SQ_T(t.by), SQ_I(now), SQ_I(id)), NULL)) == 0)
		r = sq_insert_id(s, "INSERT INTO access_grant(request_id, "
		    "engineer, device, created, until) SELECT id, engineer, "
		    "device, ?1, ?2 FROM request WHERE id = ?3 RETURNING id",
		    SQ_ARGS(SQ_I(now), SQ_I(now + t.shortest), SQ_I(id)),
		    grant_id);
	return (sq_end(s, r));
}

static int
sq_grant_live(struct store *s, const char *engineer, const char *device,
    time_t now, struct state_grant *g, int *found)
{
	return (sq_get(s, SQ_GRANT_SELECT "WHERE engineer = ?1 AND "
	    "device = ?2 AND revoked = 0 AND until > ?3 ORDER BY until DESC "
	    "LIMIT 1", SQ_ARGS(SQ_T(engineer), SQ_T(device), SQ_I(now)),
	    &sq_grant_map, g, found));
}

static int
sq_grant_get(struct store *s, int64_t id, struct state_grant *g, int *found)
{
	return (sq_get(s, SQ_GRANT_SELECT "WHERE id = ?1", SQ_ARGS(SQ_I(id)),
	    &sq_grant_map, g, found));
}

static int
sq_grant_each(struct store *s, int all, time_t now,
    int (*fn)(const struct state_grant *g, void *arg), void *arg)
{
	struct sq_walk w = SQ_WALK(fn, arg);
	struct state_grant g;

	return (sq_each(s, SQ_GRANT_SELECT "WHERE ?1 != 0 OR (revoked = 0 AND "
	    "until > ?2) ORDER BY id DESC", SQ_ARGS(SQ_I(all ? 1 : 0),
	    SQ_I(now)), &sq_grant_map, &g, sq_walk_row, &w));
}

static int
sq_grant_revoke(struct store *s, int64_t id, const char *by)
{
	struct state_grant g;
	int r, found = 0, changes = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_grant_get(s, id, &g, &found)) != 0)
		return (sq_end(s, r));
	if (!found)
		return (sq_end(s, BERR_NOTFOUND));
	if ((r = sq_run(s, "UPDATE access_grant SET revoked = 1, "
	    "revoked_by = ?1, revoked_at = ?2 WHERE id = ?3 AND revoked = 0",
	    SQ_ARGS(SQ_T(by), SQ_I(time(NULL)), SQ_I(id)), &changes)) == 0)
		/* the touches made under it admit nothing more */
		r = sq_run(s, "DELETE FROM touch_window WHERE grant_id = ?1",
		    SQ_ARGS(SQ_I(id)), NULL);
	if ((r = sq_end(s, r)) != 0)
		return (r);
	return (changes == 0 ? BERR_EXISTS : 0);
}

/* ---- sessions -------------------------------------------------------- */

static const struct sq_col sq_session_cols[] = {
	SQC(SQC_I64, state_session, id),
	SQC(SQC_I64, state_session, sid),
	SQC(SQC_INT, state_session, pid),
	SQC(SQC_TEXT, state_session, engineer),
	SQC(SQC_TEXT, state_session, vendor),
	SQC(SQC_TEXT, state_session, device),
	SQC(SQC_TEXT, state_session, source),
	SQC(SQC_TIME, state_session, started),
	SQC(SQC_I64, state_session, grant_id),
	SQC(SQC_TEXT, state_session, recording),
	SQC(SQC_TIME, state_session, ended),
	SQC(SQC_TEXT, state_session, end_reason),
	SQC(SQC_INT, state_session, kill_requested),
	SQC(SQC_TEXT, state_session, kill_reason),
	SQC(SQC_TEXT, state_session, killed_by),
	SQC(SQC_TEXT, state_session, node),
	SQC(SQC_INT, state_session, lost),
};
const struct sq_map sq_session_map =
    SQ_MAP(state_session, sq_session_cols);
#define SQ_SESSION_SELECT "SELECT id, sid, pid, engineer, vendor, device, " \
	"source, started, grant_id, recording, ended, end_reason, " \
	"kill_requested, kill_reason, killed_by, node, lost FROM session "

static int
sq_session_start(struct store *s, const struct state_session *ss,
    int64_t *id)
{
	return (sq_insert_id(s, "INSERT INTO session(sid, pid, engineer, "
	    "vendor, device, source, started, grant_id, recording, node) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
	    SQ_ARGS(SQ_I(ss->sid), SQ_I(ss->pid), SQ_T(ss->engineer),
	    SQ_T(ss->vendor), SQ_T(ss->device), SQ_T(ss->source),
	    SQ_I(ss->started ? ss->started : time(NULL)), SQ_I(ss->grant_id),
	    SQ_T(ss->recording), SQ_T(ss->node)), id));
}

static int
sq_session_end(struct store *s, int64_t id, const char *reason)
{
	return (sq_run(s, "UPDATE session SET ended = ?1, end_reason = ?2 "
	    "WHERE id = ?3 AND ended = 0", SQ_ARGS(SQ_I(time(NULL)),
	    SQ_T(reason), SQ_I(id)), NULL));
}

struct sq_visit {
	void (*fn)(const struct state_session *ss, void *arg);
	void *arg;
};

static int
sq_visit_row(void *row, void *arg)
{
	struct sq_visit *v = arg;

	v->fn(row, v->arg);
	return (0);
}

static int
sq_session_end_open(struct store *s, const char *node, const char *reason,
    void (*fn)(const struct state_session *ss, void *arg), void *arg,
    size_t *n)
{
	struct sq_visit v = { fn, arg };
	struct state_session ss;
	int r, changes = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	/* this node's rows, and those written before nodes had names */
	if (fn != NULL && (r = sq_each(s, SQ_SESSION_SELECT "WHERE ended = 0 "
	    "AND (node = ?1 OR node = '') ORDER BY id", SQ_ARGS(SQ_T(node)),
	    &sq_session_map, &ss, sq_visit_row, &v)) != 0)
		return (sq_end(s, r));
	if ((r = sq_run(s, "UPDATE session SET ended = ?1, end_reason = ?2 "
	    "WHERE ended = 0 AND (node = ?3 OR node = '')",
	    SQ_ARGS(SQ_I(time(NULL)), SQ_T(reason), SQ_T(node)),
	    &changes)) == 0 && n != NULL)
		*n = (size_t)changes;
	return (sq_end(s, r));
}

static int
sq_session_get(struct store *s, int64_t sid, struct state_session *ss,
    int *found)
{
	return (sq_get(s, SQ_SESSION_SELECT "WHERE sid = ?1 ORDER BY id DESC "
	    "LIMIT 1", SQ_ARGS(SQ_I(sid)), &sq_session_map, ss, found));
}

static int
sq_session_each(struct store *s, int all, unsigned limit,
    int (*fn)(const struct state_session *ss, void *arg), void *arg)
{
	struct sq_walk w = SQ_WALK(fn, arg);
	struct state_session ss;

	return (sq_each(s, all ?
	    SQ_SESSION_SELECT "ORDER BY id DESC LIMIT ?1" :
	    SQ_SESSION_SELECT "WHERE ended = 0 ORDER BY id LIMIT ?1",
	    SQ_ARGS(SQ_I(limit ? (int64_t)limit : INT64_MAX)), &sq_session_map,
	    &ss,
	    sq_walk_row, &w));
}

static int
sq_session_kill(struct store *s, int64_t sid, const char *by,
    const char *reason, struct state_session *out)
{
	struct state_session ss;
	int r, found = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_session_get(s, sid, &ss, &found)) != 0)
		return (sq_end(s, r));
	if (!found)
		return (sq_end(s, BERR_NOTFOUND));
	if (out != NULL)
		*out = ss;
	if (ss.ended != 0)
		return (sq_end(s, BERR_EXISTS));
	/* a second kill keeps the first admin's reason */
	if ((r = sq_run(s, "UPDATE session SET kill_requested = 1, "
	    "killed_by = ?1, kill_reason = ?2 WHERE id = ?3 AND "
	    "kill_requested = 0", SQ_ARGS(SQ_T(by), SQ_T(reason),
	    SQ_I(ss.id)), NULL)) == 0)
		/* a killed session's engineer must touch again for that
		 * device */
		r = sq_run(s, "DELETE FROM touch_window WHERE engineer = ?1 "
		    "AND device = ?2", SQ_ARGS(SQ_T(ss.engineer),
		    SQ_T(ss.device)), NULL);
	return (sq_end(s, r));
}

static const struct sq_col sq_ctl_cols[] = {
	SQC(SQC_I64, state_session_ctl, id),
	SQC(SQC_I64, state_session_ctl, sid),
	SQC(SQC_INT, state_session_ctl, kill_requested),
	SQC(SQC_TEXT, state_session_ctl, kill_reason),
	SQC(SQC_TEXT, state_session_ctl, killed_by),
	SQC(SQC_INT, state_session_ctl, grant_revoked),
	SQC(SQC_INT, state_session_ctl, engineer_locked),
	SQC(SQC_TEXT, state_session_ctl, lock_reason),
	SQC(SQC_TEXT, state_session_ctl, locked_by),
};
const struct sq_map sq_ctl_map = SQ_MAP(state_session_ctl, sq_ctl_cols);

static int
sq_session_controls(struct store *s,
    int (*fn)(const struct state_session_ctl *c, void *arg), void *arg)
{
	struct sq_walk w = SQ_WALK(fn, arg);
	struct state_session_ctl c;

	return (sq_each(s, "SELECT s.id, s.sid, s.kill_requested, "
	    "s.kill_reason, s.killed_by, coalesce(g.revoked, 0), "
	    "CASE WHEN l.engineer IS NULL THEN 0 ELSE 1 END, "
	    "coalesce(l.reason, ''), "
	    "coalesce(l.locked_by, '') FROM session s "
	    "LEFT JOIN access_grant g ON g.id = s.grant_id AND s.grant_id != 0 "
	    "LEFT JOIN engineer_lock l ON l.engineer = s.engineer "
	    "WHERE s.ended = 0 ORDER BY s.id", SQ_NOARGS, &sq_ctl_map, &c,
	    sq_walk_row, &w));
}

static int
sq_session_next_sid(struct store *s, int64_t *sid)
{
	if (s->drv->next_sid == NULL)
		return (BERR_NOTFOUND);
	return (sq_insert_id(s, s->drv->next_sid, SQ_NOARGS, sid));
}

static int
sq_session_count(struct store *s, const char *engineer, size_t *n)
{
	return (sq_count(s, "SELECT count(*) FROM session WHERE engineer = ?1 "
	    "AND ended = 0", engineer, n));
}

/* ---- engineer locks -------------------------------------------------- */

static const struct sq_col sq_elock_cols[] = {
	SQC(SQC_TEXT, state_engineer_lock, engineer),
	SQC(SQC_TEXT, state_engineer_lock, reason),
	SQC(SQC_TEXT, state_engineer_lock, locked_by),
	SQC(SQC_TIME, state_engineer_lock, since),
};
const struct sq_map sq_elock_map =
    SQ_MAP(state_engineer_lock, sq_elock_cols);

static int
sq_engineer_lock(struct store *s, const char *engineer, const char *by,
    const char *reason)
{
	int r, changes = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_run(s, "INSERT INTO engineer_lock(engineer, "
	    "reason, locked_by, locked_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT DO NOTHING",
	    SQ_ARGS(SQ_T(engineer), SQ_T(reason), SQ_T(by), SQ_I(time(NULL))),
	    &changes)) == 0)
		/* a locked engineer's touches admit nothing, even after
		 * unlock */
		r = sq_run(s, "DELETE FROM touch_window WHERE engineer = ?1",
		    SQ_ARGS(SQ_T(engineer)), NULL);
	if ((r = sq_end(s, r)) != 0)
		return (r);
	return (changes == 0 ? BERR_EXISTS : 0);
}

static int
sq_engineer_locked(struct store *s, const char *engineer, int *locked,
    struct state_engineer_lock *info)
{
	struct state_engineer_lock scratch;

	if (s->version < 3)	/* an older store (read-only) has none */
		return (0);
	return (sq_get(s, "SELECT engineer, reason, locked_by, locked_at "
	    "FROM engineer_lock WHERE engineer = ?1", SQ_ARGS(SQ_T(engineer)),
	    &sq_elock_map, info != NULL ? info : &scratch, locked));
}

static int
sq_engineer_unlock(struct store *s, const char *engineer,
    struct state_engineer_lock *info)
{
	struct state_engineer_lock lk;
	int r, locked = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_engineer_locked(s, engineer, &locked, &lk)) != 0)
		return (sq_end(s, r));
	if (!locked)
		return (sq_end(s, BERR_NOTFOUND));
	if ((r = sq_run(s, "DELETE FROM engineer_lock WHERE engineer = ?1",
	    SQ_ARGS(SQ_T(engineer)), NULL)) == 0 && info != NULL)
		*info = lk;
	return (sq_end(s, r));
}

/* ---- touch transfer windows ------------------------------------------ */

static const struct sq_col sq_window_cols[] = {
	SQC(SQC_TEXT, state_touch_window, engineer),
	SQC(SQC_TEXT, state_touch_window, device),
	SQC(SQC_TEXT, state_touch_window, source),
	SQC(SQC_TEXT, state_touch_window, fp),
	SQC(SQC_TEXT, state_touch_window, session),
	SQC(SQC_I64, state_touch_window, grant_id),
	SQC(SQC_TIME, state_touch_window, opened),
	SQC(SQC_TIME, state_touch_window, until),
};
const struct sq_map sq_window_map =
    SQ_MAP(state_touch_window, sq_window_cols);

static int
sq_touch_window_open(struct store *s, const struct state_touch_window *w)
{
	/* one window per (engineer, device, source): a new touch renews it */
	return (sq_run(s, "INSERT INTO touch_window(engineer, "
	    "device, source, fingerprint, session, grant_id, opened, until) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(engineer, "
	    "device, source) DO UPDATE SET fingerprint = excluded.fingerprint, "
	    "session = excluded.session, grant_id = excluded.grant_id, "
	    "opened = excluded.opened, until = excluded.until", SQ_ARGS(SQ_T(w->engineer),
	    SQ_T(w->device), SQ_T(w->source), SQ_T(w->fp), SQ_T(w->session),
	    SQ_I(w->grant_id), SQ_I(w->opened), SQ_I(w->until)), NULL));
}

static int
sq_touch_window_get(struct store *s, const char *engineer,
    const char *device, const char *source, time_t now,
    struct state_touch_window *w, int *found)
{
	return (sq_get(s, "SELECT engineer, device, source, fingerprint, "
	    "session, grant_id, opened, until FROM touch_window WHERE "
	    "engineer = ?1 AND device = ?2 AND source = ?3 AND until > ?4",
	    SQ_ARGS(SQ_T(engineer), SQ_T(device), SQ_T(source), SQ_I(now)),
	    &sq_window_map, w, found));
}

static int
sq_touch_window_close(struct store *s, const char *engineer,
    const char *device, size_t *n)
{
	int r, changes = 0;

	if ((r = sq_run(s, "DELETE FROM touch_window WHERE engineer = ?1 AND "
	    "(?2 IS NULL OR device = ?2)", SQ_ARGS(SQ_T(engineer),
	    SQ_T(device)), &changes)) == 0 && n != NULL)
		*n = (size_t)changes;
	return (r);
}

static int
sq_touch_window_expire(struct store *s, time_t now)
{
	return (sq_run(s, "DELETE FROM touch_window WHERE until <= ?1",
	    SQ_ARGS(SQ_I(now)), NULL));
}

/* ---- the table ------------------------------------------------------- */

const struct store_ops store_sqlite_ops = STORE_OPS_TABLE("sqlite", sq);
/* the same operations on a PostgreSQL connection (store_pg.c) */
const struct store_ops store_pg_ops = STORE_OPS_TABLE_OPEN("postgresql", pg,
    sq);

