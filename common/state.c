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
 * the steps in state_schema[]; later issues append steps (approvals,
 * session index), never edit old ones.
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

	if (st == NULL || fp == NULL || engineer == NULL || reason == NULL)
		return (BERR_INVAL);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	return (state_run(st, NULL, "INSERT OR IGNORE INTO key_lock("
	    "fingerprint, engineer, reason, locked_at) VALUES (?1, ?2, ?3, "
	    "CAST(?4 AS INTEGER))", fp, engineer, reason, now, NULL));
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
