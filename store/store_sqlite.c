/*
 * store_sqlite.c - the SQLite backend of the state store (store.h): the
 * connection, the versioned schema, the one query runner and row mapper
 * every operation uses, and the key operations (counters, key locks,
 * guards, enrolments). The approval, session, engineer-lock and
 * touch-window operations and the ops table are in store_sqlite_ops.c.
 *
 * One file, STATE_DIR/state.db, in WAL mode so that readers never wait for
 * a writer, with a busy timeout so that concurrent writers (one worker per
 * connection, bastionctl) queue instead of failing. Every write is one
 * BEGIN IMMEDIATE transaction (or one statement): the read and the write
 * of a check-and-set happen under one write lock, and the counter's
 * compare-and-advance is one conditional upsert.
 *
 * The schema is versioned with PRAGMA user_version and upgraded in order by
 * the steps in sq_schema[]; later issues append steps, never edit old
 * ones. Step 2 holds the approvals: requests, the approvals of each (one
 * row per admin: four eyes count distinct rows) and the grants they
 * produced. Step 3 holds the session registry the listener keeps (one row
 * per vendor session, with an admin's kill request) and engineer locks.
 * Step 4 holds the touch transfer windows; whatever ends an engineer's
 * access (an engineer lock, a key lock, a revoked grant, a kill) deletes
 * the windows it concerns in the same transaction. Step 5 holds the
 * per-key guards as lease rows (they used to be flock(2) files under
 * STATE_DIR/locks/): one conditional upsert takes a guard, which a
 * backend shared by several nodes can do too.
 *
 * A read-only open (pam_bastion.so) uses SQLITE_OPEN_READONLY, never sets
 * a pragma that writes, never upgrades, and reads only the tables its
 * schema version has.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "err.h"
#include "log.h"
#include "store_sqlite.h"

#define SQ_BUSY_TIMEOUT_MS	STATE_BUSY_TIMEOUT_MS

/* Schema steps: sq_schema[i] takes user_version i to i + 1. The
 * PostgreSQL backend runs the same steps, translated (store_pg.c): write
 * INTEGER and TEXT columns only. */
const char *const sq_schema[] = {
	/* 1: touch check (issue 5) */
	"CREATE TABLE key_counter ("
	"  fingerprint TEXT PRIMARY KEY,"
	"  counter INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE key_lock ("
	"  fingerprint TEXT PRIMARY KEY,"
	"  engineer TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  locked_at INTEGER NOT NULL);"
	"CREATE INDEX key_lock_engineer ON key_lock(engineer);"
	"CREATE TABLE enrollment ("
	"  fingerprint TEXT PRIMARY KEY,"
	"  engineer TEXT NOT NULL,"
	"  key_type TEXT NOT NULL,"
	"  key_line TEXT NOT NULL,"
	"  attested INTEGER NOT NULL,"
	"  aaguid TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  issuer TEXT NOT NULL,"
	"  enrolled_at INTEGER NOT NULL);"
	"CREATE INDEX enrollment_engineer ON enrollment(engineer);",
	/* 2: approvals (issue 6) */
	"CREATE TABLE request ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  engineer TEXT NOT NULL,"
	"  vendor TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  decided_by TEXT NOT NULL DEFAULT '',"
	"  decided_at INTEGER NOT NULL DEFAULT 0,"
	"  deny_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX request_status ON request(status);"
	"CREATE TABLE request_approval ("
	"  request_id INTEGER NOT NULL REFERENCES request(id),"
	"  admin TEXT NOT NULL,"
	"  duration INTEGER NOT NULL,"
	"  approved_at INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, admin));"
	"CREATE TABLE access_grant ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  request_id INTEGER NOT NULL REFERENCES request(id),"
	"  engineer TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  until INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  revoked_by TEXT NOT NULL DEFAULT '',"
	"  revoked_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX access_grant_who ON access_grant(engineer, device);",
	/* 3: session registry and engineer locks (issue 6) */
	"CREATE TABLE session ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sid INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  engineer TEXT NOT NULL,"
	"  vendor TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  grant_id INTEGER NOT NULL DEFAULT 0,"
	"  recording TEXT NOT NULL,"
	"  ended INTEGER NOT NULL DEFAULT 0,"
	"  end_reason TEXT NOT NULL DEFAULT '',"
	"  kill_requested INTEGER NOT NULL DEFAULT 0,"
	"  kill_reason TEXT NOT NULL DEFAULT '',"
	"  killed_by TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX session_sid ON session(sid);"
	"CREATE INDEX session_open ON session(ended);"
	"CREATE TABLE engineer_lock ("
	"  engineer TEXT PRIMARY KEY,"
	"  reason TEXT NOT NULL,"
	"  locked_by TEXT NOT NULL,"
	"  locked_at INTEGER NOT NULL);",
	/* 4: transfer windows: a touch admits agentless transfers of the
	 * same engineer to the same device from the same source (issue 15) */
	"CREATE TABLE touch_window ("
	"  engineer TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  session TEXT NOT NULL,"
	"  grant_id INTEGER NOT NULL DEFAULT 0,"
	"  opened INTEGER NOT NULL,"
	"  until INTEGER NOT NULL,"
	"  PRIMARY KEY (engineer, device, source));"
	"CREATE INDEX touch_window_key ON touch_window(fingerprint);",
	/* 5: per-key guards as lease rows, instead of flock files (issue 16) */
	"CREATE TABLE key_guard ("
	"  fingerprint TEXT PRIMARY KEY,"
	"  holder TEXT NOT NULL,"
	"  until INTEGER NOT NULL);",
	/* 6: the web console's credentials, sessions and single-use
	 * challenges (issue 17, docs/WEB.md) */
	"CREATE TABLE web_credential ("
	"  cred_id TEXT PRIMARY KEY,"
	"  person TEXT NOT NULL,"
	"  alg INTEGER NOT NULL,"
	"  pubkey TEXT NOT NULL,"
	"  aaguid TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  enrolled_by TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX web_credential_person ON web_credential(person);"
	"CREATE TABLE web_session ("
	"  hash TEXT PRIMARY KEY,"
	"  person TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  source TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL,"
	"  idle_until INTEGER NOT NULL,"
	"  abs_until INTEGER NOT NULL,"
	"  ended INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE web_challenge ("
	"  hash TEXT PRIMARY KEY,"
	"  person TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  data TEXT NOT NULL DEFAULT '',"
	"  not_after INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE web_login_fail ("
	"  person TEXT NOT NULL,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX web_login_fail_person ON web_login_fail(person, at);",
	/* 7: the node a session runs on (issue 20, docs/SCALE-OUT.md) */
	"ALTER TABLE session ADD COLUMN node TEXT NOT NULL DEFAULT '';",
	/* 8: file export requests: downloads held for an admin (issue 18,
	 * docs/FILES.md "Export approval") */
	"CREATE TABLE file_export ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  session TEXT NOT NULL,"
	"  engineer TEXT NOT NULL,"
	"  vendor TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  decided_by TEXT NOT NULL DEFAULT '',"
	"  decided_at INTEGER NOT NULL DEFAULT 0,"
	"  deny_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX file_export_status ON file_export(status);",
	/* 9: signed checkpoints of each node's audit chain and the nodes'
	 * audit keys (issue 20, store/auditckpt.h, docs/AUDIT.md 10) */
	"CREATE TABLE audit_checkpoint ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  node TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  peers TEXT NOT NULL,"
	"  sig TEXT NOT NULL);"
	"CREATE INDEX audit_checkpoint_node ON audit_checkpoint(node, id);"
	"CREATE TABLE audit_node_key ("
	"  node TEXT PRIMARY KEY,"
	"  pubkey TEXT NOT NULL,"
	"  published INTEGER NOT NULL);"
	/* ... and each node's heartbeat, and the sessions of a node gone
	 * silent (store/nodebeat.c) */
	"CREATE TABLE node_heartbeat ("
	"  node TEXT PRIMARY KEY,"
	"  seen INTEGER NOT NULL);"
	"ALTER TABLE session ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;",
	/* 10: file declarations (issue 18, store_decl.c) */
	SQ_SCHEMA_DECL,
	/* 11: watching a session of another node (issue 20, store_watch.c) */
	SQ_SCHEMA_WATCH,
	/* 12: ... its requests signed by the asking node */
	SQ_SCHEMA_WATCH_SIGNED,
};
#define SQ_SCHEMA_VERSION ((int)(sizeof(sq_schema) / sizeof(sq_schema[0])))
const int sq_schema_version = SQ_SCHEMA_VERSION;

/* ---- failures -------------------------------------------------------- */

void
sq_note(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	if (!(s->flags & STORE_OPEN_QUIET))
		log_error("state store %s: %s", s->where, s->err);
}

int
sq_fail(struct store *s, const char *what)
{
	sq_note(s, "%s: %s", what, sqlite3_errmsg(s->db));
	return (BERR_INTERNAL);
}

/* ---- the runner ------------------------------------------------------ */

static int
sq_prepare(struct store *s, const char *sql, const struct sq_arg *args,
    sqlite3_stmt **out)
{
	sqlite3_stmt *q = NULL;
	int i, rc = SQLITE_OK;

	*out = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return (sq_fail(s, "prepare"));
	for (i = 0; rc == SQLITE_OK && args[i].type != SQ_END; i++) {
		if (args[i].type == SQ_I64)
			rc = sqlite3_bind_int64(q, i + 1,
			    (sqlite3_int64)args[i].i);
		else if (args[i].s != NULL)
			rc = sqlite3_bind_text(q, i + 1, args[i].s, -1,
			    SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(q, i + 1);
	}
	if (rc != SQLITE_OK) {
		sqlite3_finalize(q);
		return (sq_fail(s, "bind"));
	}
	*out = q;
	return (0);
}

/* The runner every backend shares: the checks, then the driver. */
int
sq_run(struct store *s, const char *sql, const struct sq_arg *args,
    int *changes)
{
	if (changes != NULL)
		*changes = 0;
	if (s->flags & STORE_OPEN_RDONLY)
		return (BERR_DENIED);
	return (s->drv->run(s, sql, args, changes));
}

int
sq_each(struct store *s, const char *sql, const struct sq_arg *args,
    const struct sq_map *map, void *row, int (*fn)(void *row, void *arg),
    void *arg)
{
	return (s->drv->each(s, sql, args, map, row, fn, arg));
}

static int
lite_run(struct store *s, const char *sql, const struct sq_arg *args,
    int *changes)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = sq_prepare(s, sql, args, &q)) != 0)
		return (r);
	if (sqlite3_step(q) != SQLITE_DONE)
		r = sq_fail(s, "write");
	else if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	sqlite3_finalize(q);
	return (r);
}

static void
sq_map_row(sqlite3_stmt *q, const struct sq_map *map, void *row)
{
	const struct sq_col *c;
	const unsigned char *t;
	size_t i;

	memset(row, 0, map->size);
	for (i = 0; i < map->ncols; i++) {
		c = &map->cols[i];
		if (c->type != SQC_TEXT && c->type != SQC_TEXTP) {
			sq_col_set(c, row, NULL, sqlite3_column_int64(q,
			    (int)i));
			continue;
		}
		/* a text's pointer lives until the next step */
		t = sqlite3_column_text(q, (int)i);
		sq_col_set(c, row, t != NULL ? (const char *)t : "", 0);
	}
}

static int
lite_each(struct store *s, const char *sql, const struct sq_arg *args,
    const struct sq_map *map, void *row, int (*fn)(void *row, void *arg),
    void *arg)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if ((r = sq_prepare(s, sql, args, &q)) != 0)
		return (r);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sq_map_row(q, map, row);
		if ((r = fn(row, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = sq_fail(s, "read");
out:
	sqlite3_finalize(q);
	return (r);
}

static int
sq_first(void *row, void *arg)
{
	(void)row;
	*(int *)arg = 1;
	return (1);
}

int
sq_get(struct store *s, const char *sql, const struct sq_arg *args,
    const struct sq_map *map, void *row, int *found)
{
	int r;

	*found = 0;
	memset(row, 0, map->size);
	r = sq_each(s, sql, args, map, row, sq_first, found);
	return (r == 1 ? 0 : r);
}

struct sq_i64_row {
	int64_t v;
};

int
sq_int(struct store *s, const char *sql, const struct sq_arg *args,
    int64_t *v, int *found)
{
	static const struct sq_col cols[] = {
		SQC(SQC_I64, sq_i64_row, v),
	};
	static const struct sq_map map = SQ_MAP(sq_i64_row, cols);
	struct sq_i64_row row;
	int r, got = 0;

	r = sq_get(s, sql, args, &map, &row, &got);
	*v = r == 0 && got ? row.v : 0;
	if (found != NULL)
		*found = r == 0 && got;
	return (r);
}

int
sq_insert_id(struct store *s, const char *sql, const struct sq_arg *args,
    int64_t *id)
{
	int r, found = 0;

	*id = 0;
	if (s->flags & STORE_OPEN_RDONLY)
		return (BERR_DENIED);
	if ((r = sq_int(s, sql, args, id, &found)) == 0 && !found)
		r = BERR_NOTFOUND;
	return (r);
}

static int
lite_exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sq_note(s, "%s", msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return (BERR_INTERNAL);
	}
	return (0);
}

static int
lite_in_txn(struct store *s)
{
	return (!sqlite3_get_autocommit(s->db));
}

static const struct sq_driver sq_lite_driver = {
	.run = lite_run,
	.each = lite_each,
	.exec = lite_exec,
	.in_txn = lite_in_txn,
	.close = sq_close,
	.begin = "BEGIN IMMEDIATE",
};

int
sq_begin(struct store *s)
{
	if (s->flags & STORE_OPEN_RDONLY)
		return (BERR_DENIED);
	return (s->drv->exec(s, s->drv->begin));
}

int
sq_commit(struct store *s)
{
	return (s->drv->exec(s, "COMMIT"));
}

void
sq_rollback(struct store *s)
{
	if (s->drv->in_txn(s))
		(void)s->drv->exec(s, "ROLLBACK");
}

int
sq_end(struct store *s, int r)
{
	if (r == 0)
		return (sq_commit(s));
	sq_rollback(s);
	return (r);
}

/* ---- open, schema ---------------------------------------------------- */

int
sq_version_is(struct store *s, int64_t v)
{
	s->version = v < 0 || v > INT_MAX ? INT_MAX : (int)v;
	if (v > SQ_SCHEMA_VERSION || v < 0) {
		sq_note(s, "schema version %d, newer than this program (%d): "
		    "upgrade the bastion programs", s->version,
		    SQ_SCHEMA_VERSION);
		return (BERR_INTERNAL);
	}
	return (0);
}

static int
sq_version(struct store *s)
{
	int64_t v = 0;
	int r;

	if ((r = sq_int(s, "PRAGMA user_version", SQ_NOARGS, &v, NULL)) != 0)
		return (r);
	return (sq_version_is(s, v));
}

static int
sq_upgrade(struct store *s)
{
	char sql[64];
	int r;

	/* the common case, up to date, takes no write lock */
	if ((r = sq_version(s)) != 0 || s->version == SQ_SCHEMA_VERSION)
		return (r);
	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_version(s)) != 0)	/* another process won */
		return (sq_end(s, r));
	for (; s->version < SQ_SCHEMA_VERSION && r == 0; s->version++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    s->version + 1);
		if ((r = lite_exec(s, sq_schema[s->version])) == 0)
			r = lite_exec(s, sql);
	}
	return (sq_end(s, r));
}

int
sq_open_fail(struct store *s, int r, char *why, size_t whylen)
{
	if (whylen > 0)
		snprintf(why, whylen, "%s", s->err);
	s->drv->close(s);
	return (r);
}

int
sq_open_done(struct store *s, int r, struct store **out, char *why,
    size_t whylen)
{
	if (r != 0)
		return (sq_open_fail(s, r, why, whylen));
	*out = s;
	return (0);
}

int
sq_open(const char *dir, unsigned flags, struct store **out, char *why,
    size_t whylen)
{
	struct store *s;
	struct stat sb;
	char path[PATH_MAX];
	int r, rdonly = (flags & STORE_OPEN_RDONLY) != 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (BERR_NOMEM);
	s->flags = flags;
	s->drv = &sq_lite_driver;
	snprintf(s->where, sizeof(s->where), "%.*s/%s", PATH_MAX, dir,
	    STATE_FILE);
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >=
	    (int)sizeof(s->dir) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >=
	    (int)sizeof(path)) {
		sq_note(s, "the path of the state store under %.64s... is "
		    "too long", dir);
		return (sq_open_fail(s, BERR_LIMIT, why, whylen));
	}
	if (rdonly && stat(path, &sb) != 0) {
		r = errno == ENOENT ? BERR_NOTFOUND : BERR_SYS;
		snprintf(s->err, sizeof(s->err), "cannot read the state store "
		    "%s: %s", path, strerror(errno));
		return (sq_open_fail(s, r, why, whylen));
	}
	if (rdonly && !S_ISREG(sb.st_mode)) {
		snprintf(s->err, sizeof(s->err), "state store %s is not a "
		    "regular file", path);
		return (sq_open_fail(s, BERR_SYS, why, whylen));
	}
	if (sqlite3_open_v2(path, &s->db, rdonly ? SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		sq_note(s, "cannot open it%s: %s (is the state directory "
		    "there and %s?)", rdonly ? " read-only" : "", s->db != NULL ?
		    sqlite3_errmsg(s->db) : "out of memory", rdonly ?
		    "readable" : "writable");
		return (sq_open_fail(s, BERR_SYS, why, whylen));
	}
	sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
	if (rdonly) {
		if ((r = sq_version(s)) == 0 && s->version < 1) {
			sq_note(s, "%s is not a state store (no schema)",
			    path);
			r = BERR_INTERNAL;
		}
	} else if ((r = lite_exec(s, "PRAGMA journal_mode=WAL")) == 0 &&
	    (r = lite_exec(s, "PRAGMA synchronous=NORMAL")) == 0 &&
	    (r = lite_exec(s, "PRAGMA foreign_keys=ON")) == 0)
		r = sq_upgrade(s);
	return (sq_open_done(s, r, out, why, whylen));
}

void
sq_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s);
}

const char *
sq_errmsg(const struct store *s)
{
	return (s->err);
}

/* ---- counters -------------------------------------------------------- */

int
sq_counter_get(struct store *s, const char *fp, uint32_t *counter,
    int *found)
{
	int64_t v = 0;
	int r;

	r = sq_int(s, "SELECT counter FROM key_counter WHERE fingerprint = ?1",
	    SQ_ARGS(SQ_T(fp)), &v, found);
	*counter = v < 0 || v > UINT32_MAX ? 0 : (uint32_t)v;
	return (r);
}

int
sq_counter_advance(struct store *s, const char *fp, uint32_t counter,
    uint32_t *prev, int *had_prev)
{
	int r, changes = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	/* prev is read under the same write lock as the advance */
	if ((r = sq_counter_get(s, fp, prev, had_prev)) != 0)
		return (sq_end(s, r));
	/* the compare-and-advance itself: one statement */
	if ((r = sq_run(s, "INSERT INTO key_counter(fingerprint, counter, "
	    "updated) VALUES (?1, ?2, ?3) ON CONFLICT(fingerprint) DO UPDATE "
	    "SET counter = excluded.counter, updated = excluded.updated "
	    "WHERE excluded.counter > key_counter.counter OR "
	    "(excluded.counter = 0 AND key_counter.counter = 0)",
	    SQ_ARGS(SQ_T(fp), SQ_I(counter), SQ_I(time(NULL))),
	    &changes)) != 0)
		return (sq_end(s, r));
	return (sq_end(s, changes == 1 ? 0 : BERR_DENIED));
}

int
sq_counter_forget(struct store *s, const char *fp)
{
	return (sq_run(s, "DELETE FROM key_counter WHERE fingerprint = ?1",
	    SQ_ARGS(SQ_T(fp)), NULL));
}

/* ---- key locks ------------------------------------------------------- */

static const struct sq_col sq_lock_cols[] = {
	SQC(SQC_TEXT, state_lock, fp),
	SQC(SQC_TEXT, state_lock, engineer),
	SQC(SQC_TEXT, state_lock, reason),
	SQC(SQC_TIME, state_lock, since),
};
const struct sq_map sq_lock_map = SQ_MAP(state_lock, sq_lock_cols);
#define SQ_LOCK_SELECT "SELECT fingerprint, engineer, reason, locked_at " \
	"FROM key_lock "

int
sq_key_lock(struct store *s, const char *fp, const char *engineer,
    const char *reason)
{
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_run(s, "INSERT INTO key_lock(fingerprint, "
	    "engineer, reason, locked_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT DO NOTHING",
	    SQ_ARGS(SQ_T(fp), SQ_T(engineer), SQ_T(reason), SQ_I(time(NULL))),
	    NULL)) == 0)
		/* a locked key's touches admit nothing any more */
		r = sq_run(s, "DELETE FROM touch_window WHERE fingerprint = ?1",
		    SQ_ARGS(SQ_T(fp)), NULL);
	return (sq_end(s, r));
}

/* One key_lock row (or none) into *info, or a scratch row. */
static int
sq_lock_get(struct store *s, const char *sql, const char *param,
    int *locked, struct state_lock *info)
{
	struct state_lock scratch;

	return (sq_get(s, sql, SQ_ARGS(SQ_T(param)), &sq_lock_map,
	    info != NULL ? info : &scratch, locked));
}

int
sq_key_locked(struct store *s, const char *fp, int *locked,
    struct state_lock *info)
{
	return (sq_lock_get(s, SQ_LOCK_SELECT "WHERE fingerprint = ?1", fp,
	    locked, info));
}

int
sq_key_lock_oldest(struct store *s, const char *engineer, int *locked,
    struct state_lock *info)
{
	return (sq_lock_get(s, SQ_LOCK_SELECT "WHERE engineer = ?1 "
	    "ORDER BY locked_at LIMIT 1", engineer, locked, info));
}

struct sq_fps {
	void (*fn)(const char *fp, void *arg);
	void *arg;
};

static int
sq_fps_row(void *row, void *arg)
{
	struct sq_fps *f = arg;

	f->fn(((struct state_lock *)row)->fp, f->arg);
	return (0);
}

int
sq_key_unlock_engineer(struct store *s, const char *engineer, size_t *n,
    void (*fps)(const char *fp, void *arg), void *arg)
{
	struct sq_fps f = { fps, arg };
	struct state_lock row;
	int r, changes = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if (fps != NULL && (r = sq_each(s, SQ_LOCK_SELECT "WHERE engineer = "
	    "?1 ORDER BY locked_at", SQ_ARGS(SQ_T(engineer)), &sq_lock_map,
	    &row, sq_fps_row, &f)) != 0)
		return (sq_end(s, r));
	if ((r = sq_run(s, "DELETE FROM key_lock WHERE engineer = ?1",
	    SQ_ARGS(SQ_T(engineer)), &changes)) == 0 && n != NULL)
		*n = (size_t)changes;
	return (sq_end(s, r));
}

int
sq_count(struct store *s, const char *sql, const char *param, size_t *n)
{
	int64_t v = 0;
	int r;

	r = sq_int(s, sql, SQ_ARGS(SQ_T(param)), &v, NULL);
	*n = v < 0 ? 0 : (size_t)v;
	return (r);
}

int
sq_key_lock_count(struct store *s, const char *engineer, size_t *n)
{
	return (sq_count(s, "SELECT count(*) FROM key_lock WHERE engineer = ?1",
	    engineer, n));
}

/* ---- guards ---------------------------------------------------------- */

int
sq_guard_try(struct store *s, const char *fp, const char *holder,
    time_t now, time_t lease_until, const char *stale)
{
	int r, changes = 0;

	/* one statement: taken when free, expired, or held by the dead */
	r = sq_run(s, "INSERT INTO key_guard(fingerprint, holder, until) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT(fingerprint) DO UPDATE SET "
	    "holder = excluded.holder, until = excluded.until WHERE "
	    "key_guard.until <= ?4 OR key_guard.holder = ?5",
	    SQ_ARGS(SQ_T(fp), SQ_T(holder), SQ_I(lease_until), SQ_I(now),
	    SQ_T(stale)), &changes);
	return (r != 0 ? r : changes == 1);
}

int
sq_guard_release(struct store *s, const char *fp, const char *holder)
{
	return (sq_run(s, "DELETE FROM key_guard WHERE fingerprint = ?1 AND "
	    "holder = ?2", SQ_ARGS(SQ_T(fp), SQ_T(holder)), NULL));
}

struct sq_holder_row {
	char holder[128];
};

int
sq_guard_holder(struct store *s, const char *fp, char *holder, size_t len,
    int *found)
{
	static const struct sq_col cols[] = {
		SQC(SQC_TEXT, sq_holder_row, holder),
	};
	static const struct sq_map map = SQ_MAP(sq_holder_row, cols);
	struct sq_holder_row row;
	int r;

	if ((r = sq_get(s, "SELECT holder FROM key_guard WHERE "
	    "fingerprint = ?1", SQ_ARGS(SQ_T(fp)), &map, &row, found)) == 0)
		snprintf(holder, len, "%s", row.holder);
	return (r);
}

/* ---- enrolments ------------------------------------------------------ */

int
sq_enroll_put(struct store *s, const struct state_enrollment *e)
{
	return (sq_run(s, "INSERT INTO enrollment(fingerprint, "
	    "engineer, key_type, key_line, attested, aaguid, subject, issuer, "
	    "enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT(fingerprint) DO UPDATE SET engineer = "
	    "excluded.engineer, key_type = excluded.key_type, key_line = "
	    "excluded.key_line, attested = excluded.attested, aaguid = "
	    "excluded.aaguid, subject = excluded.subject, issuer = "
	    "excluded.issuer, enrolled_at = excluded.enrolled_at",
	    SQ_ARGS(SQ_T(e->fp), SQ_T(e->engineer), SQ_T(e->key_type),
	    SQ_T(e->key_line), SQ_I(e->attested ? 1 : 0), SQ_T(e->aaguid),
	    SQ_T(e->subject), SQ_T(e->issuer),
	    SQ_I(e->enrolled ? e->enrolled : time(NULL))), NULL));
}

static const struct sq_col sq_enroll_cols[] = {
	SQC(SQC_TEXT, state_enrollment, fp),
	SQC(SQC_TEXT, state_enrollment, engineer),
	SQC(SQC_TEXT, state_enrollment, key_type),
	SQC(SQC_TEXTP, state_enrollment, key_line),
	SQC(SQC_INT, state_enrollment, attested),
	SQC(SQC_TEXT, state_enrollment, aaguid),
	SQC(SQC_TEXT, state_enrollment, subject),
	SQC(SQC_TEXT, state_enrollment, issuer),
	SQC(SQC_TIME, state_enrollment, enrolled),
};
const struct sq_map sq_enroll_map =
    SQ_MAP(state_enrollment, sq_enroll_cols);
#define SQ_ENROLL_SELECT "SELECT fingerprint, engineer, key_type, key_line, " \
	"attested, aaguid, subject, issuer, enrolled_at FROM enrollment "

/* sq_each's callback for any walk: the row struct is what w->fn takes. */
int
sq_walk_row(void *row, void *arg)
{
	struct sq_walk *w = arg;

	return (((int (*)(const void *, void *))w->fn)(row, w->arg));
}

int
sq_enroll_each(struct store *s, const char *engineer,
    int (*fn)(const struct state_enrollment *e, void *arg), void *arg)
{
	struct sq_walk w = SQ_WALK(fn, arg);
	struct state_enrollment e;

	return (sq_each(s, engineer != NULL ?
	    SQ_ENROLL_SELECT "WHERE engineer = ?1 ORDER BY enrolled_at, "
	    "fingerprint" :
	    SQ_ENROLL_SELECT "ORDER BY engineer, enrolled_at, fingerprint",
	    engineer != NULL ? SQ_ARGS(SQ_T(engineer)) : SQ_NOARGS,
	    &sq_enroll_map, &e, sq_walk_row, &w));
}

static int
sq_enroll_copy(void *row, void *arg)
{
	struct state_enrollment *e = row, *out = arg;

	*out = *e;
	return ((out->key_line = strdup(e->key_line)) == NULL ? BERR_NOMEM :
	    1);
}

int
sq_enroll_get(struct store *s, const char *fp, struct state_enrollment *e,
    int *found)
{
	struct state_enrollment row;
	int r;

	r = sq_each(s, SQ_ENROLL_SELECT "WHERE fingerprint = ?1",
	    SQ_ARGS(SQ_T(fp)), &sq_enroll_map, &row, sq_enroll_copy, e);
	*found = r == 1;
	return (r == 1 ? 0 : r);
}
