/*
 * state.c - the state store on SQLite (see state.h for the contract).
 *
 * One file, STATE_DIR/state.db, in WAL mode so that readers never wait for
 * a writer, with a busy timeout so that concurrent writers (one worker per
 * connection, bastionctl) queue instead of failing. Every write is one
 * BEGIN IMMEDIATE transaction: the read and the write of a check-and-set
 * (the counter) happen under one write lock.
 *
 * The schema is versioned with PRAGMA user_version and upgraded in order by
 * the steps in state_schema[]; later issues append steps, never edit old
 * ones. Step 2 holds the approvals: requests, the approvals of each (one
 * row per admin: four eyes count distinct rows) and the grants they
 * produced. Step 3 holds the session registry the listener keeps (one row
 * per vendor session, with an admin's kill request) and engineer locks.
 * Step 4 holds the touch transfer windows; whatever ends an engineer's
 * access (an engineer lock, a key lock, a revoked grant, a kill) deletes
 * the windows it concerns in the same transaction.
 *
 * Per-key guards are flock(2) locks on STATE_DIR/locks/<fingerprint>.lock:
 * they must be held across a network round trip (the engineer's touch),
 * which no database transaction should be.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "state.h"

struct state {
	sqlite3 *db;
	char dir[PATH_MAX];
};

struct state_guard {
	int fd;
};

/* Schema steps: state_schema[i] takes user_version i to i + 1. */
static const char *const state_schema[] = {
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
};
#define STATE_SCHEMA_VERSION \
	((int)(sizeof(state_schema) / sizeof(state_schema[0])))

static int
state_dberr(struct state *st, const char *what)
{
	log_error("state store %s/%s: %s: %s", st->dir, STATE_FILE, what,
	    sqlite3_errmsg(st->db));
	return (BERR_INTERNAL);
}

static int
state_exec(struct state *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("state store %s/%s: %s", st->dir, STATE_FILE,
		    msg != NULL ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return (BERR_INTERNAL);
	}
	return (0);
}

static int
state_prepare(struct state *st, const char *sql, sqlite3_stmt **out)
{
	*out = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return (state_dberr(st, "prepare"));
	return (0);
}

/* Bind text parameters 1..n from a NULL-terminated list. */
static int
state_bind_textv(struct state *st, sqlite3_stmt *q, va_list ap)
{
	const char *s;
	int i = 1;

	while ((s = va_arg(ap, const char *)) != NULL)
		if (sqlite3_bind_text(q, i++, s, -1, SQLITE_TRANSIENT) !=
		    SQLITE_OK)
			return (state_dberr(st, "bind"));
	return (0);
}

static int
state_bind_texts(struct state *st, sqlite3_stmt *q, ...)
{
	va_list ap;
	int r;

	va_start(ap, q);
	r = state_bind_textv(st, q, ap);
	va_end(ap);
	return (r);
}

static int
state_version(struct state *st, int *v)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = state_prepare(st, "PRAGMA user_version", &q)) != 0)
		return (r);
	if (sqlite3_step(q) != SQLITE_ROW)
		r = state_dberr(st, "user_version");
	else
		*v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (r == 0 && *v > STATE_SCHEMA_VERSION) {
		log_error("state store %s/%s has schema version %d, newer than "
		    "this program (%d): upgrade the bastion programs", st->dir,
		    STATE_FILE, *v, STATE_SCHEMA_VERSION);
		r = BERR_INTERNAL;
	}
	return (r);
}

static int
state_upgrade(struct state *st)
{
	char sql[64];
	int v = 0, r;

	/* the common case, up to date, takes no write lock */
	if ((r = state_version(st, &v)) != 0 || v == STATE_SCHEMA_VERSION)
		return (r);
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_version(st, &v)) != 0)	/* another process won */
		goto fail;
	for (; v < STATE_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((r = state_exec(st, state_schema[v])) != 0 ||
		    (r = state_exec(st, sql)) != 0)
			goto fail;
	}
	return (state_exec(st, "COMMIT"));
fail:
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

int
state_open(const char *state_dir, struct state **out)
{
	struct state *st;
	char path[PATH_MAX];
	int r;

	if (out == NULL)
		return (BERR_INVAL);
	*out = NULL;
	if (state_dir == NULL)
		return (BERR_INVAL);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (BERR_NOMEM);
	if (snprintf(st->dir, sizeof(st->dir), "%s", state_dir) >=
	    (int)sizeof(st->dir) ||
	    snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_FILE) >=
	    (int)sizeof(path)) {
		free(st);
		return (BERR_LIMIT);
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		log_error("cannot open the state store %s: %s (is the state "
		    "directory there and writable?)", path, st->db != NULL ?
		    sqlite3_errmsg(st->db) : "out of memory");
		state_close(st);
		return (BERR_SYS);
	}
	sqlite3_busy_timeout(st->db, STATE_BUSY_TIMEOUT_MS);
	if ((r = state_exec(st, "PRAGMA journal_mode=WAL")) != 0 ||
	    (r = state_exec(st, "PRAGMA synchronous=NORMAL")) != 0 ||
	    (r = state_exec(st, "PRAGMA foreign_keys=ON")) != 0 ||
	    (r = state_upgrade(st)) != 0) {
		state_close(st);
		return (r);
	}
	*out = st;
	return (0);
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

/* ---- counters ------------------------------------------------------------ */

static int
state_counter_read(struct state *st, const char *fp, uint32_t *counter,
    int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	*counter = 0;
	*found = 0;
	if ((r = state_prepare(st, "SELECT counter FROM key_counter "
	    "WHERE fingerprint = ?1", &q)) != 0 ||
	    (r = state_bind_texts(st, q, fp, NULL)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(q, 0);

		*counter = v < 0 || v > UINT32_MAX ? 0 : (uint32_t)v;
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read counter");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_counter_get(struct state *st, const char *fp, uint32_t *counter,
    int *found)
{
	if (st == NULL || fp == NULL || counter == NULL || found == NULL)
		return (BERR_INVAL);
	return (state_counter_read(st, fp, counter, found));
}

int
state_counter_advance(struct state *st, const char *fp, uint32_t counter,
    uint32_t *prev, int *had_prev)
{
	sqlite3_stmt *q = NULL;
	uint32_t old;
	int found, r;

	if (st == NULL || fp == NULL)
		return (BERR_INVAL);
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_counter_read(st, fp, &old, &found)) != 0)
		goto fail;
	if (prev != NULL)
		*prev = old;
	if (had_prev != NULL)
		*had_prev = found;
	if (found && counter <= old && !(counter == 0 && old == 0)) {
		(void)state_exec(st, "ROLLBACK");
		return (BERR_DENIED);
	}
	if ((r = state_prepare(st, "INSERT INTO key_counter(fingerprint, "
	    "counter, updated) VALUES (?1, ?2, ?3) ON CONFLICT(fingerprint) "
	    "DO UPDATE SET counter = excluded.counter, "
	    "updated = excluded.updated", &q)) != 0 ||
	    (r = state_bind_texts(st, q, fp, NULL)) != 0)
		goto fail;
	if (sqlite3_bind_int64(q, 2, counter) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_DONE) {
		r = state_dberr(st, "store counter");
		goto fail;
	}
	sqlite3_finalize(q);
	return (state_exec(st, "COMMIT"));
fail:
	sqlite3_finalize(q);
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

/* Run one statement with text parameters; *changes (may be NULL). */
static int
state_run(struct state *st, int *changes, const char *sql, ...)
{
	sqlite3_stmt *q = NULL;
	va_list ap;
	int r;

	if ((r = state_prepare(st, sql, &q)) != 0)
		return (r);
	va_start(ap, sql);
	r = state_bind_textv(st, q, ap);
	va_end(ap);
	if (r == 0 && sqlite3_step(q) != SQLITE_DONE)
		r = state_dberr(st, "write");
	if (r == 0 && changes != NULL)
		*changes = sqlite3_changes(st->db);
	sqlite3_finalize(q);
	return (r);
}

int
state_counter_forget(struct state *st, const char *fp)
{
	if (st == NULL || fp == NULL)
		return (BERR_INVAL);
	return (state_run(st, NULL, "DELETE FROM key_counter WHERE "
	    "fingerprint = ?1", fp, NULL));
}

/* ---- locks --------------------------------------------------------------- */

int
state_key_lock(struct state *st, const char *fp, const char *engineer,
    const char *reason)
{
	char now[32];
	int r;

	if (st == NULL || fp == NULL || engineer == NULL || reason == NULL)
		return (BERR_INVAL);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_run(st, NULL, "INSERT OR IGNORE INTO key_lock("
	    "fingerprint, engineer, reason, locked_at) VALUES (?1, ?2, ?3, "
	    "CAST(?4 AS INTEGER))", fp, engineer, reason, now, NULL)) != 0 ||
	    /* a locked key's touches admit nothing any more */
	    (r = state_run(st, NULL, "DELETE FROM touch_window WHERE "
	    "fingerprint = ?1", fp, NULL)) != 0) {
		(void)state_exec(st, "ROLLBACK");
		return (r);
	}
	return (state_exec(st, "COMMIT"));
}

static void
state_copy_col(sqlite3_stmt *q, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

int
state_key_locked(struct state *st, const char *fp, int *locked,
    struct state_lock *info)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fp == NULL || locked == NULL)
		return (BERR_INVAL);
	*locked = 0;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((r = state_prepare(st, "SELECT fingerprint, engineer, reason, "
	    "locked_at FROM key_lock WHERE fingerprint = ?1", &q)) != 0 ||
	    (r = state_bind_texts(st, q, fp, NULL)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*locked = 1;
		if (info != NULL) {
			state_copy_col(q, 0, info->fp, sizeof(info->fp));
			state_copy_col(q, 1, info->engineer,
			    sizeof(info->engineer));
			state_copy_col(q, 2, info->reason, sizeof(info->reason));
			info->since = (time_t)sqlite3_column_int64(q, 3);
		}
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read lock");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_key_unlock_engineer(struct state *st, const char *engineer, size_t *n,
    void (*fps)(const char *fp, void *arg), void *arg)
{
	sqlite3_stmt *q = NULL;
	int r, rc, changes = 0;

	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL)
		return (BERR_INVAL);
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if (fps != NULL) {
		if ((r = state_prepare(st, "SELECT fingerprint FROM key_lock "
		    "WHERE engineer = ?1 ORDER BY locked_at", &q)) != 0 ||
		    (r = state_bind_texts(st, q, engineer, NULL)) != 0)
			goto fail;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			fps((const char *)sqlite3_column_text(q, 0), arg);
		if (rc != SQLITE_DONE) {
			r = state_dberr(st, "list locks");
			goto fail;
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	if ((r = state_run(st, &changes, "DELETE FROM key_lock WHERE "
	    "engineer = ?1", engineer, NULL)) != 0)
		goto fail;
	if (n != NULL)
		*n = (size_t)changes;
	return (state_exec(st, "COMMIT"));
fail:
	sqlite3_finalize(q);
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

/* ---- guards -------------------------------------------------------------- */

int
state_key_guard(struct state *st, const char *fp, unsigned timeout_ms,
    struct state_guard **out)
{
	char path[PATH_MAX], name[128];
	struct state_guard *g;
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	unsigned waited = 0;
	size_t i;
	int fd;

	if (out == NULL)
		return (BERR_INVAL);
	*out = NULL;
	if (st == NULL || fp == NULL || strlen(fp) >= sizeof(name))
		return (BERR_INVAL);
	/* base64 of a fingerprint may hold '/': make it a file name */
	for (i = 0; fp[i] != '\0'; i++)
		name[i] = fp[i] == '/' ? '_' : fp[i] == ':' ? '-' : fp[i];
	name[i] = '\0';
	if (snprintf(path, sizeof(path), "%s/locks", st->dir) >=
	    (int)sizeof(path))
		return (BERR_LIMIT);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_error("state store: mkdir %s: %s", path, strerror(errno));
		return (BERR_SYS);
	}
	if (snprintf(path, sizeof(path), "%s/locks/%s.lock", st->dir, name) >=
	    (int)sizeof(path))
		return (BERR_LIMIT);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		log_error("state store: open %s: %s", path, strerror(errno));
		return (BERR_SYS);
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_error("state store: flock %s: %s", path,
			    strerror(errno));
			close(fd);
			return (BERR_SYS);
		}
		if (waited >= timeout_ms) {
			close(fd);
			return (BERR_TIMEOUT);
		}
		nanosleep(&nap, NULL);
		waited += 20;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	g->fd = fd;
	*out = g;
	return (0);
}

void
state_guard_release(struct state_guard *g)
{
	if (g == NULL)
		return;
	(void)flock(g->fd, LOCK_UN);
	close(g->fd);
	free(g);
}

/* ---- enrolments ---------------------------------------------------------- */

int
state_enroll_put(struct state *st, const struct state_enrollment *e)
{
	char attested[4], when[32];

	if (st == NULL || e == NULL || e->key_line == NULL)
		return (BERR_INVAL);
	snprintf(attested, sizeof(attested), "%d", e->attested ? 1 : 0);
	snprintf(when, sizeof(when), "%lld", (long long)(e->enrolled ?
	    e->enrolled : time(NULL)));
	return (state_run(st, NULL, "INSERT OR REPLACE INTO enrollment("
	    "fingerprint, engineer, key_type, key_line, attested, aaguid, "
	    "subject, issuer, enrolled_at) VALUES (?1, ?2, ?3, ?4, "
	    "CAST(?5 AS INTEGER), ?6, ?7, ?8, CAST(?9 AS INTEGER))", e->fp,
	    e->engineer, e->key_type, e->key_line, attested, e->aaguid,
	    e->subject, e->issuer, when, NULL));
}

#define STATE_ENROLL_COLS "fingerprint, engineer, key_type, key_line, " \
	"attested, aaguid, subject, issuer, enrolled_at"

/* Fill e from a row of STATE_ENROLL_COLS; key_line points into the row. */
static void
state_enroll_row(sqlite3_stmt *q, struct state_enrollment *e)
{
	memset(e, 0, sizeof(*e));
	state_copy_col(q, 0, e->fp, sizeof(e->fp));
	state_copy_col(q, 1, e->engineer, sizeof(e->engineer));
	state_copy_col(q, 2, e->key_type, sizeof(e->key_type));
	e->key_line = (char *)sqlite3_column_text(q, 3);
	e->attested = sqlite3_column_int(q, 4);
	state_copy_col(q, 5, e->aaguid, sizeof(e->aaguid));
	state_copy_col(q, 6, e->subject, sizeof(e->subject));
	state_copy_col(q, 7, e->issuer, sizeof(e->issuer));
	e->enrolled = (time_t)sqlite3_column_int64(q, 8);
}

int
state_enroll_each(struct state *st, const char *engineer,
    int (*fn)(const struct state_enrollment *e, void *arg), void *arg)
{
	struct state_enrollment e;
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, engineer != NULL ?
	    "SELECT " STATE_ENROLL_COLS " FROM enrollment WHERE engineer = ?1 "
	    "ORDER BY enrolled_at, fingerprint" :
	    "SELECT " STATE_ENROLL_COLS " FROM enrollment "
	    "ORDER BY engineer, enrolled_at, fingerprint", &q)) != 0)
		return (r);
	if (engineer != NULL &&
	    (r = state_bind_texts(st, q, engineer, NULL)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_enroll_row(q, &e);
		if ((r = fn(&e, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = state_dberr(st, "list enrolments");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_enroll_get(struct state *st, const char *fp, struct state_enrollment *e,
    int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fp == NULL || e == NULL || found == NULL)
		return (BERR_INVAL);
	memset(e, 0, sizeof(*e));
	*found = 0;
	if ((r = state_prepare(st, "SELECT " STATE_ENROLL_COLS " FROM "
	    "enrollment WHERE fingerprint = ?1", &q)) != 0 ||
	    (r = state_bind_texts(st, q, fp, NULL)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_enroll_row(q, e);
		if ((e->key_line = strdup(e->key_line != NULL ? e->key_line :
		    "")) == NULL)
			r = BERR_NOMEM;
		else
			*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read enrolment");
out:
	sqlite3_finalize(q);
	return (r);
}

/* ---- approvals ----------------------------------------------------------- */

#define STATE_REQ_COLS "r.id, r.engineer, r.vendor, r.device, r.reason, " \
	"r.created, r.status, r.decided_by, r.decided_at, r.deny_reason, " \
	"(SELECT count(*) FROM request_approval a WHERE a.request_id = r.id), " \
	"(SELECT group_concat(admin, ',') FROM request_approval a " \
	"WHERE a.request_id = r.id)"

static void
state_request_row(sqlite3_stmt *q, struct state_request *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	state_copy_col(q, 1, r->engineer, sizeof(r->engineer));
	state_copy_col(q, 2, r->vendor, sizeof(r->vendor));
	state_copy_col(q, 3, r->device, sizeof(r->device));
	state_copy_col(q, 4, r->reason, sizeof(r->reason));
	r->created = (time_t)sqlite3_column_int64(q, 5);
	state_copy_col(q, 6, r->status, sizeof(r->status));
	state_copy_col(q, 7, r->decided_by, sizeof(r->decided_by));
	r->decided_at = (time_t)sqlite3_column_int64(q, 8);
	state_copy_col(q, 9, r->deny_reason, sizeof(r->deny_reason));
	r->napprovals = sqlite3_column_int(q, 10);
	state_copy_col(q, 11, r->approvers, sizeof(r->approvers));
}

#define STATE_GRANT_COLS "id, request_id, engineer, device, created, " \
	"until, revoked, revoked_by, revoked_at"

static void
state_grant_row(sqlite3_stmt *q, struct state_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->id = sqlite3_column_int64(q, 0);
	g->request_id = sqlite3_column_int64(q, 1);
	state_copy_col(q, 2, g->engineer, sizeof(g->engineer));
	state_copy_col(q, 3, g->device, sizeof(g->device));
	g->created = (time_t)sqlite3_column_int64(q, 4);
	g->until = (time_t)sqlite3_column_int64(q, 5);
	g->revoked = sqlite3_column_int(q, 6);
	state_copy_col(q, 7, g->revoked_by, sizeof(g->revoked_by));
	g->revoked_at = (time_t)sqlite3_column_int64(q, 8);
}

/* Bind integer parameter i. */
static int
state_bind_i64(struct state *st, sqlite3_stmt *q, int i, int64_t v)
{
	if (sqlite3_bind_int64(q, i, (sqlite3_int64)v) != SQLITE_OK)
		return (state_dberr(st, "bind"));
	return (0);
}

int
state_request_create(struct state *st, const char *engineer,
    const char *vendor, const char *device, const char *reason, int64_t *id)
{
	sqlite3_stmt *q = NULL;
	int r;

	if (st == NULL || engineer == NULL || vendor == NULL ||
	    device == NULL || id == NULL)
		return (BERR_INVAL);
	*id = 0;
	if ((r = state_prepare(st, "INSERT INTO request(engineer, vendor, "
	    "device, reason, created, status) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "'" STATE_REQ_PENDING "')", &q)) != 0 ||
	    (r = state_bind_texts(st, q, engineer, vendor, device,
	    reason != NULL ? reason : "", NULL)) != 0 ||
	    (r = state_bind_i64(st, q, 5, (int64_t)time(NULL))) != 0)
		goto out;
	if (sqlite3_step(q) != SQLITE_DONE)
		r = state_dberr(st, "create request");
	else
		*id = (int64_t)sqlite3_last_insert_rowid(st->db);
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_request_get(struct state *st, int64_t id, struct state_request *req,
    int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || req == NULL || found == NULL)
		return (BERR_INVAL);
	*found = 0;
	memset(req, 0, sizeof(*req));
	if ((r = state_prepare(st, "SELECT " STATE_REQ_COLS " FROM request r "
	    "WHERE r.id = ?1", &q)) != 0 ||
	    (r = state_bind_i64(st, q, 1, id)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_request_row(q, req);
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read request");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_request_each(struct state *st, const char *status, unsigned limit,
    int (*fn)(const struct state_request *r, void *arg), void *arg)
{
	struct state_request req;
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, "SELECT " STATE_REQ_COLS " FROM request r "
	    "WHERE ?1 IS NULL OR r.status = ?1 ORDER BY r.id DESC "
	    "LIMIT ?2", &q)) != 0)
		return (r);
	if ((status != NULL && (r = state_bind_texts(st, q, status,
	    NULL)) != 0) ||
	    (r = state_bind_i64(st, q, 2, limit ? (int64_t)limit : -1)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_request_row(q, &req);
		if ((r = fn(&req, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = state_dberr(st, "list requests");
out:
	sqlite3_finalize(q);
	return (r);
}

/* In a transaction: the status of request id; BERR_NOTFOUND if none. */
static int
state_request_status(struct state *st, int64_t id, char *status, size_t len)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if ((r = state_prepare(st, "SELECT status FROM request WHERE id = ?1",
	    &q)) != 0 || (r = state_bind_i64(st, q, 1, id)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		state_copy_col(q, 0, status, len);
	else
		r = rc == SQLITE_DONE ? BERR_NOTFOUND :
		    state_dberr(st, "read request");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_request_finish(struct state *st, int64_t id, const char *status,
    const char *by, const char *reason)
{
	char idstr[32], now[32], cur[16];
	int r;

	if (st == NULL || status == NULL)
		return (BERR_INVAL);
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_request_status(st, id, cur, sizeof(cur))) != 0)
		goto fail;
	if (strcmp(cur, STATE_REQ_PENDING) != 0) {
		r = BERR_EXISTS;
		goto fail;
	}
	if ((r = state_run(st, NULL, "UPDATE request SET status = ?1, "
	    "decided_by = ?2, deny_reason = ?3, decided_at = CAST(?4 AS "
	    "INTEGER) WHERE id = CAST(?5 AS INTEGER)", status,
	    by != NULL ? by : "", reason != NULL ? reason : "", now, idstr,
	    NULL)) != 0)
		goto fail;
	return (state_exec(st, "COMMIT"));
fail:
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

int
state_request_approve(struct state *st, int64_t id, const char *admin,
    unsigned duration, int needed, int64_t *grant_id)
{
	sqlite3_stmt *q = NULL;
	char idstr[32], now[32], dur[32], cur[16];
	int r, rc, changes = 0, n = 0;
	int64_t shortest = 0;

	if (grant_id != NULL)
		*grant_id = 0;
	if (st == NULL || admin == NULL || duration == 0)
		return (BERR_INVAL);
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(dur, sizeof(dur), "%u", duration);
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_request_status(st, id, cur, sizeof(cur))) != 0)
		goto fail;
	if (strcmp(cur, STATE_REQ_PENDING) != 0) {
		r = BERR_EXISTS;
		goto fail;
	}
	if ((r = state_run(st, &changes, "INSERT OR IGNORE INTO "
	    "request_approval(request_id, admin, duration, approved_at) "
	    "VALUES (CAST(?1 AS INTEGER), ?2, CAST(?3 AS INTEGER), "
	    "CAST(?4 AS INTEGER))", idstr, admin, dur, now, NULL)) != 0)
		goto fail;
	if (changes == 0) {
		r = BERR_DENIED;
		goto fail;
	}
	if ((r = state_prepare(st, "SELECT count(*), min(duration), "
	    "group_concat(admin, ',') FROM request_approval WHERE "
	    "request_id = ?1", &q)) != 0 ||
	    (r = state_bind_i64(st, q, 1, id)) != 0)
		goto fail;
	if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
		r = state_dberr(st, "count approvals");
		goto fail;
	}
	n = sqlite3_column_int(q, 0);
	shortest = sqlite3_column_int64(q, 1);
	if (n >= (needed < 1 ? 1 : needed)) {
		char by[200], until[32];

		state_copy_col(q, 2, by, sizeof(by));
		snprintf(until, sizeof(until), "%lld", (long long)time(NULL) +
		    (long long)shortest);
		sqlite3_finalize(q);
		q = NULL;
		if ((r = state_run(st, NULL, "UPDATE request SET status = '"
		    STATE_REQ_APPROVED "', decided_by = ?1, decided_at = "
		    "CAST(?2 AS INTEGER) WHERE id = CAST(?3 AS INTEGER)", by,
		    now, idstr, NULL)) != 0 ||
		    (r = state_run(st, NULL, "INSERT INTO access_grant("
		    "request_id, engineer, device, created, until) SELECT id, "
		    "engineer, device, CAST(?1 AS INTEGER), CAST(?2 AS INTEGER) "
		    "FROM request WHERE id = CAST(?3 AS INTEGER)", now, until,
		    idstr, NULL)) != 0)
			goto fail;
		if (grant_id != NULL)
			*grant_id = (int64_t)sqlite3_last_insert_rowid(st->db);
	}
	sqlite3_finalize(q);
	return (state_exec(st, "COMMIT"));
fail:
	sqlite3_finalize(q);
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

int
state_grant_live(struct state *st, const char *engineer, const char *device,
    time_t now, struct state_grant *g, int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || engineer == NULL || device == NULL || g == NULL ||
	    found == NULL)
		return (BERR_INVAL);
	*found = 0;
	memset(g, 0, sizeof(*g));
	if ((r = state_prepare(st, "SELECT " STATE_GRANT_COLS " FROM "
	    "access_grant WHERE engineer = ?1 AND device = ?2 AND "
	    "revoked = 0 AND until > ?3 ORDER BY until DESC LIMIT 1",
	    &q)) != 0 ||
	    (r = state_bind_texts(st, q, engineer, device, NULL)) != 0 ||
	    (r = state_bind_i64(st, q, 3, (int64_t)now)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_grant_row(q, g);
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read grant");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_grant_get(struct state *st, int64_t id, struct state_grant *g,
    int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || g == NULL || found == NULL)
		return (BERR_INVAL);
	*found = 0;
	memset(g, 0, sizeof(*g));
	if ((r = state_prepare(st, "SELECT " STATE_GRANT_COLS " FROM "
	    "access_grant WHERE id = ?1", &q)) != 0 ||
	    (r = state_bind_i64(st, q, 1, id)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_grant_row(q, g);
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read grant");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_grant_each(struct state *st, int all, time_t now,
    int (*fn)(const struct state_grant *g, void *arg), void *arg)
{
	struct state_grant g;
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, "SELECT " STATE_GRANT_COLS " FROM "
	    "access_grant WHERE ?1 OR (revoked = 0 AND until > ?2) "
	    "ORDER BY id DESC", &q)) != 0)
		return (r);
	if ((r = state_bind_i64(st, q, 1, all ? 1 : 0)) != 0 ||
	    (r = state_bind_i64(st, q, 2, (int64_t)now)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_grant_row(q, &g);
		if ((r = fn(&g, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = state_dberr(st, "list grants");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_grant_revoke(struct state *st, int64_t id, const char *by)
{
	struct state_grant g;
	char idstr[32], now[32];
	int r, found = 0, changes = 0;

	if (st == NULL || by == NULL)
		return (BERR_INVAL);
	if ((r = state_grant_get(st, id, &g, &found)) != 0)
		return (r);
	if (!found)
		return (BERR_NOTFOUND);
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_run(st, &changes, "UPDATE access_grant SET revoked = 1, "
	    "revoked_by = ?1, revoked_at = CAST(?2 AS INTEGER) WHERE "
	    "id = CAST(?3 AS INTEGER) AND revoked = 0", by, now, idstr,
	    NULL)) != 0 ||
	    /* the touches made under it admit nothing more */
	    (r = state_run(st, NULL, "DELETE FROM touch_window WHERE "
	    "grant_id = CAST(?1 AS INTEGER)", idstr, NULL)) != 0) {
		(void)state_exec(st, "ROLLBACK");
		return (r);
	}
	if ((r = state_exec(st, "COMMIT")) != 0)
		return (r);
	return (changes == 0 ? BERR_EXISTS : 0);
}

/* ---- sessions ------------------------------------------------------------ */

#define STATE_SESSION_COLS "id, sid, pid, engineer, vendor, device, " \
	"source, started, grant_id, recording, ended, end_reason, " \
	"kill_requested, kill_reason, killed_by"

static void
state_session_row(sqlite3_stmt *q, struct state_session *s)
{
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(q, 0);
	s->sid = sqlite3_column_int64(q, 1);
	s->pid = sqlite3_column_int(q, 2);
	state_copy_col(q, 3, s->engineer, sizeof(s->engineer));
	state_copy_col(q, 4, s->vendor, sizeof(s->vendor));
	state_copy_col(q, 5, s->device, sizeof(s->device));
	state_copy_col(q, 6, s->source, sizeof(s->source));
	s->started = (time_t)sqlite3_column_int64(q, 7);
	s->grant_id = sqlite3_column_int64(q, 8);
	state_copy_col(q, 9, s->recording, sizeof(s->recording));
	s->ended = (time_t)sqlite3_column_int64(q, 10);
	state_copy_col(q, 11, s->end_reason, sizeof(s->end_reason));
	s->kill_requested = sqlite3_column_int(q, 12);
	state_copy_col(q, 13, s->kill_reason, sizeof(s->kill_reason));
	state_copy_col(q, 14, s->killed_by, sizeof(s->killed_by));
}

int
state_session_start(struct state *st, const struct state_session *s,
    int64_t *id)
{
	sqlite3_stmt *q = NULL;
	int r;

	if (id != NULL)
		*id = 0;
	if (st == NULL || s == NULL || id == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, "INSERT INTO session(sid, pid, engineer, "
	    "vendor, device, source, started, grant_id, recording) VALUES "
	    "(?7, ?8, ?1, ?2, ?3, ?4, ?9, ?10, ?5)", &q)) != 0 ||
	    (r = state_bind_texts(st, q, s->engineer, s->vendor, s->device,
	    s->source, s->recording, NULL)) != 0 ||
	    (r = state_bind_i64(st, q, 7, s->sid)) != 0 ||
	    (r = state_bind_i64(st, q, 8, s->pid)) != 0 ||
	    (r = state_bind_i64(st, q, 9, (int64_t)(s->started ? s->started :
	    time(NULL)))) != 0 ||
	    (r = state_bind_i64(st, q, 10, s->grant_id)) != 0)
		goto out;
	if (sqlite3_step(q) != SQLITE_DONE)
		r = state_dberr(st, "register session");
	else
		*id = (int64_t)sqlite3_last_insert_rowid(st->db);
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_session_end(struct state *st, int64_t id, const char *reason)
{
	char idstr[32], now[32];

	if (st == NULL || reason == NULL)
		return (BERR_INVAL);
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	return (state_run(st, NULL, "UPDATE session SET ended = CAST(?1 AS "
	    "INTEGER), end_reason = ?2 WHERE id = CAST(?3 AS INTEGER) AND "
	    "ended = 0", now, reason, idstr, NULL));
}

int
state_session_end_open(struct state *st, const char *reason,
    void (*fn)(const struct state_session *s, void *arg), void *arg,
    size_t *n)
{
	struct state_session s;
	sqlite3_stmt *q = NULL;
	char now[32];
	int r, rc, changes = 0;

	if (n != NULL)
		*n = 0;
	if (st == NULL || reason == NULL)
		return (BERR_INVAL);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if (fn != NULL) {
		if ((r = state_prepare(st, "SELECT " STATE_SESSION_COLS " FROM "
		    "session WHERE ended = 0 ORDER BY id", &q)) != 0)
			goto fail;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			state_session_row(q, &s);
			fn(&s, arg);
		}
		if (rc != SQLITE_DONE) {
			r = state_dberr(st, "list open sessions");
			goto fail;
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	if ((r = state_run(st, &changes, "UPDATE session SET ended = CAST(?1 "
	    "AS INTEGER), end_reason = ?2 WHERE ended = 0", now, reason,
	    NULL)) != 0)
		goto fail;
	if (n != NULL)
		*n = (size_t)changes;
	return (state_exec(st, "COMMIT"));
fail:
	sqlite3_finalize(q);
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

int
state_session_get(struct state *st, int64_t sid, struct state_session *s,
    int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || s == NULL || found == NULL)
		return (BERR_INVAL);
	*found = 0;
	memset(s, 0, sizeof(*s));
	if ((r = state_prepare(st, "SELECT " STATE_SESSION_COLS " FROM "
	    "session WHERE sid = ?1 ORDER BY id DESC LIMIT 1", &q)) != 0 ||
	    (r = state_bind_i64(st, q, 1, sid)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_session_row(q, s);
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read session");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_session_each(struct state *st, int all, unsigned limit,
    int (*fn)(const struct state_session *s, void *arg), void *arg)
{
	struct state_session s;
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, all ?
	    "SELECT " STATE_SESSION_COLS " FROM session ORDER BY id DESC "
	    "LIMIT ?1" :
	    "SELECT " STATE_SESSION_COLS " FROM session WHERE ended = 0 "
	    "ORDER BY id LIMIT ?1", &q)) != 0)
		return (r);
	if ((r = state_bind_i64(st, q, 1, limit ? (int64_t)limit : -1)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_session_row(q, &s);
		if ((r = fn(&s, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = state_dberr(st, "list sessions");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_session_kill(struct state *st, int64_t sid, const char *by,
    const char *reason, struct state_session *out)
{
	struct state_session s;
	char idstr[32];
	int r, found = 0;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || by == NULL || reason == NULL)
		return (BERR_INVAL);
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_session_get(st, sid, &s, &found)) != 0)
		goto fail;
	if (!found) {
		r = BERR_NOTFOUND;
		goto fail;
	}
	if (out != NULL)
		*out = s;
	if (s.ended != 0) {
		r = BERR_EXISTS;
		goto fail;
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)s.id);
	/* a second kill keeps the first admin's reason */
	if ((r = state_run(st, NULL, "UPDATE session SET kill_requested = 1, "
	    "killed_by = ?1, kill_reason = ?2 WHERE id = CAST(?3 AS INTEGER) "
	    "AND kill_requested = 0", by, reason, idstr, NULL)) != 0)
		goto fail;
	/* a killed session's engineer must touch again for that device */
	if ((r = state_run(st, NULL, "DELETE FROM touch_window WHERE "
	    "engineer = ?1 AND device = ?2", s.engineer, s.device,
	    NULL)) != 0)
		goto fail;
	return (state_exec(st, "COMMIT"));
fail:
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

int
state_session_controls(struct state *st,
    int (*fn)(const struct state_session_ctl *c, void *arg), void *arg)
{
	struct state_session_ctl c;
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fn == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, "SELECT s.id, s.sid, s.kill_requested, "
	    "s.kill_reason, s.killed_by, coalesce(g.revoked, 0), "
	    "l.engineer IS NOT NULL, coalesce(l.reason, ''), "
	    "coalesce(l.locked_by, '') FROM session s "
	    "LEFT JOIN access_grant g ON g.id = s.grant_id AND s.grant_id != 0 "
	    "LEFT JOIN engineer_lock l ON l.engineer = s.engineer "
	    "WHERE s.ended = 0 ORDER BY s.id", &q)) != 0)
		return (r);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.id = sqlite3_column_int64(q, 0);
		c.sid = sqlite3_column_int64(q, 1);
		c.kill_requested = sqlite3_column_int(q, 2);
		state_copy_col(q, 3, c.kill_reason, sizeof(c.kill_reason));
		state_copy_col(q, 4, c.killed_by, sizeof(c.killed_by));
		c.grant_revoked = sqlite3_column_int(q, 5);
		c.engineer_locked = sqlite3_column_int(q, 6);
		state_copy_col(q, 7, c.lock_reason, sizeof(c.lock_reason));
		state_copy_col(q, 8, c.locked_by, sizeof(c.locked_by));
		if ((r = fn(&c, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = state_dberr(st, "read session controls");
out:
	sqlite3_finalize(q);
	return (r);
}

/* One count(*) with one text parameter. */
static int
state_count(struct state *st, const char *sql, const char *param, size_t *n)
{
	sqlite3_stmt *q = NULL;
	int r;

	*n = 0;
	if ((r = state_prepare(st, sql, &q)) != 0 ||
	    (r = state_bind_texts(st, q, param, NULL)) != 0)
		goto out;
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(q, 0);
	else
		r = state_dberr(st, "count");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_session_count(struct state *st, const char *engineer, size_t *n)
{
	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL || n == NULL)
		return (BERR_INVAL);
	return (state_count(st, "SELECT count(*) FROM session WHERE "
	    "engineer = ?1 AND ended = 0", engineer, n));
}

/* ---- engineer locks ------------------------------------------------------- */

int
state_engineer_lock(struct state *st, const char *engineer, const char *by,
    const char *reason)
{
	char now[32];
	int r, changes = 0;

	if (st == NULL || engineer == NULL || by == NULL || reason == NULL)
		return (BERR_INVAL);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_run(st, &changes, "INSERT OR IGNORE INTO engineer_lock("
	    "engineer, reason, locked_by, locked_at) VALUES (?1, ?2, ?3, "
	    "CAST(?4 AS INTEGER))", engineer, reason, by, now, NULL)) != 0 ||
	    /* a locked engineer's touches admit nothing, even after unlock */
	    (r = state_run(st, NULL, "DELETE FROM touch_window WHERE "
	    "engineer = ?1", engineer, NULL)) != 0) {
		(void)state_exec(st, "ROLLBACK");
		return (r);
	}
	if ((r = state_exec(st, "COMMIT")) != 0)
		return (r);
	return (changes == 0 ? BERR_EXISTS : 0);
}

int
state_engineer_locked(struct state *st, const char *engineer, int *locked,
    struct state_engineer_lock *info)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (locked != NULL)
		*locked = 0;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (st == NULL || engineer == NULL || locked == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, "SELECT engineer, reason, locked_by, "
	    "locked_at FROM engineer_lock WHERE engineer = ?1", &q)) != 0 ||
	    (r = state_bind_texts(st, q, engineer, NULL)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*locked = 1;
		if (info != NULL) {
			state_copy_col(q, 0, info->engineer,
			    sizeof(info->engineer));
			state_copy_col(q, 1, info->reason, sizeof(info->reason));
			state_copy_col(q, 2, info->locked_by,
			    sizeof(info->locked_by));
			info->since = (time_t)sqlite3_column_int64(q, 3);
		}
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read engineer lock");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_engineer_unlock(struct state *st, const char *engineer,
    struct state_engineer_lock *info)
{
	struct state_engineer_lock lk;
	int r, locked = 0, changes = 0;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (st == NULL || engineer == NULL)
		return (BERR_INVAL);
	if ((r = state_exec(st, "BEGIN IMMEDIATE")) != 0)
		return (r);
	if ((r = state_engineer_locked(st, engineer, &locked, &lk)) != 0)
		goto fail;
	if (!locked) {
		r = BERR_NOTFOUND;
		goto fail;
	}
	if ((r = state_run(st, &changes, "DELETE FROM engineer_lock WHERE "
	    "engineer = ?1", engineer, NULL)) != 0)
		goto fail;
	if (info != NULL)
		*info = lk;
	return (state_exec(st, "COMMIT"));
fail:
	(void)state_exec(st, "ROLLBACK");
	return (r);
}

int
state_key_lock_count(struct state *st, const char *engineer, size_t *n)
{
	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL || n == NULL)
		return (BERR_INVAL);
	return (state_count(st, "SELECT count(*) FROM key_lock WHERE "
	    "engineer = ?1", engineer, n));
}

/* ---- touch transfer windows ----------------------------------------------- */

int
state_touch_window_open(struct state *st, const struct state_touch_window *w)
{
	char opened[32], until[32], grant[32];

	if (st == NULL || w == NULL || w->engineer[0] == '\0' ||
	    w->device[0] == '\0' || w->source[0] == '\0' ||
	    w->fp[0] == '\0' || w->until <= w->opened)
		return (BERR_INVAL);
	snprintf(opened, sizeof(opened), "%lld", (long long)w->opened);
	snprintf(until, sizeof(until), "%lld", (long long)w->until);
	snprintf(grant, sizeof(grant), "%lld", (long long)w->grant_id);
	/* one window per (engineer, device, source): a new touch renews it */
	return (state_run(st, NULL, "INSERT OR REPLACE INTO touch_window("
	    "engineer, device, source, fingerprint, session, grant_id, opened, "
	    "until) VALUES (?1, ?2, ?3, ?4, ?5, CAST(?6 AS INTEGER), "
	    "CAST(?7 AS INTEGER), CAST(?8 AS INTEGER))", w->engineer,
	    w->device, w->source, w->fp, w->session, grant, opened, until,
	    NULL));
}

int
state_touch_window_get(struct state *st, const char *engineer,
    const char *device, const char *source, time_t now,
    struct state_touch_window *w, int *found)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (found != NULL)
		*found = 0;
	if (w != NULL)
		memset(w, 0, sizeof(*w));
	if (st == NULL || engineer == NULL || device == NULL ||
	    source == NULL || w == NULL || found == NULL)
		return (BERR_INVAL);
	if ((r = state_prepare(st, "SELECT engineer, device, source, "
	    "fingerprint, session, grant_id, opened, until FROM touch_window "
	    "WHERE engineer = ?1 AND device = ?2 AND source = ?3 AND "
	    "until > ?4", &q)) != 0 ||
	    (r = state_bind_texts(st, q, engineer, device, source,
	    NULL)) != 0 ||
	    (r = state_bind_i64(st, q, 4, (int64_t)now)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state_copy_col(q, 0, w->engineer, sizeof(w->engineer));
		state_copy_col(q, 1, w->device, sizeof(w->device));
		state_copy_col(q, 2, w->source, sizeof(w->source));
		state_copy_col(q, 3, w->fp, sizeof(w->fp));
		state_copy_col(q, 4, w->session, sizeof(w->session));
		w->grant_id = sqlite3_column_int64(q, 5);
		w->opened = (time_t)sqlite3_column_int64(q, 6);
		w->until = (time_t)sqlite3_column_int64(q, 7);
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = state_dberr(st, "read touch window");
out:
	sqlite3_finalize(q);
	return (r);
}

int
state_touch_window_close(struct state *st, const char *engineer,
    const char *device, size_t *n)
{
	int r, changes = 0;

	if (n != NULL)
		*n = 0;
	if (st == NULL || engineer == NULL)
		return (BERR_INVAL);
	if (device != NULL)
		r = state_run(st, &changes, "DELETE FROM touch_window WHERE "
		    "engineer = ?1 AND device = ?2", engineer, device, NULL);
	else
		r = state_run(st, &changes, "DELETE FROM touch_window WHERE "
		    "engineer = ?1", engineer, NULL);
	if (r == 0 && n != NULL)
		*n = (size_t)changes;
	return (r);
}

int
state_touch_window_expire(struct state *st, time_t now)
{
	char t[32];

	if (st == NULL)
		return (BERR_INVAL);
	snprintf(t, sizeof(t), "%lld", (long long)now);
	return (state_run(st, NULL, "DELETE FROM touch_window WHERE "
	    "until <= CAST(?1 AS INTEGER)", t, NULL));
}
