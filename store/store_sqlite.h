/*
 * store_sqlite.h - what the SQL backends' files share (store/ only): the
 * connection, typed parameters, the one row mapper and query runner, and
 * transactions. The SQLite backend (store_sqlite.c) and the PostgreSQL
 * backend (store_pg.c) each supply a driver (struct sq_driver) under the
 * same runner, so that every operation (store_sqlite.c, store_sqlite_ops.c)
 * is written once, in the SQL both understand: ?N parameters (the
 * PostgreSQL driver turns them into $N), INSERT ... ON CONFLICT, RETURNING
 * for new ids (sq_insert_id), group_concat (an aggregate of the
 * PostgreSQL schema), no LIMIT -1.
 *
 * Every statement goes through sq_run (no rows), sq_each (rows mapped into
 * a caller's struct, one callback per row) or sq_get (the first row).
 * Parameters are typed (SQ_T text, SQ_I integer bound with
 * sqlite3_bind_int64, never as text); a row is mapped by a table of
 * column descriptors (type, offset and size of the struct member, via
 * offsetof), so no operation copies columns by hand.
 */
#ifndef BASTION_STORE_SQLITE_H
#define BASTION_STORE_SQLITE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "store_row.h"

struct sq_arg;
struct sq_map;
struct pg_conn;

/* A backend's way to run statements (store_sqlite.c, store_pg.c). */
struct sq_driver {
	/* one statement without rows; *changes as in sq_run */
	int (*run)(struct store *s, const char *sql,
	    const struct sq_arg *args, int *changes);
	/* rows mapped one at a time, as in sq_each */
	int (*each)(struct store *s, const char *sql,
	    const struct sq_arg *args, const struct sq_map *map, void *row,
	    int (*fn)(void *row, void *arg), void *arg);
	/* a statement without parameters (BEGIN, COMMIT, a schema step) */
	int (*exec)(struct store *s, const char *sql);
	/* inside a transaction now */
	int (*in_txn)(struct store *s);
	void (*close)(struct store *s);
	const char *begin;	/* what opens a write transaction */
	/* the next cluster-wide session number; NULL: one node's store */
	const char *next_sid;
};

struct store {
	const struct sq_driver *drv;
	sqlite3 *db;		/* SQLite */
	struct pg_conn *pg;	/* PostgreSQL (store_pg.c) */
	char dir[PATH_MAX];
	char where[PATH_MAX + 64];	/* what failure messages name */
	unsigned flags;		/* STORE_OPEN_* */
	int version;		/* schema version (user_version) */
	char err[PATH_MAX + 512];	/* the last failure */
};

/* ---- typed parameters ------------------------------------------------ */

enum sq_type { SQ_END, SQ_TEXT, SQ_I64 };

struct sq_arg {
	enum sq_type type;
	const char *s;		/* SQ_TEXT; NULL binds SQL NULL */
	int64_t i;		/* SQ_I64 */
};

#define SQ_T(v)		{ SQ_TEXT, (v), 0 }
#define SQ_I(v)		{ SQ_I64, NULL, (int64_t)(v) }
/* A parameter list ?1, ?2, ...: SQ_ARGS(SQ_T(a), SQ_I(b)). */
#define SQ_ARGS(...)	((const struct sq_arg[]){ __VA_ARGS__, \
	{ SQ_END, NULL, 0 } })
#define SQ_NOARGS	((const struct sq_arg[]){ { SQ_END, NULL, 0 } })

/* ---- running statements ---------------------------------------------- */

/* Record a failure (with SQLite's message) and return BERR_INTERNAL. */
int sq_fail(struct store *s, const char *what);
/* Record a failure: s->err, logged unless STORE_OPEN_QUIET. */
void sq_note(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One statement without rows; *changes (may be NULL) receives how many
 * rows it changed. */
int sq_run(struct store *s, const char *sql, const struct sq_arg *args,
    int *changes);
/*
 * Map each row into row (map->size bytes, cleared before each row) and
 * call fn(row, arg); fn returning non-zero stops and is returned.
 */
int sq_each(struct store *s, const char *sql, const struct sq_arg *args,
    const struct sq_map *map, void *row, int (*fn)(void *row, void *arg),
    void *arg);
/* The first row into row (cleared first): 0 with *found set or cleared.
 * SQC_TEXTP members are not valid after the call. */
int sq_get(struct store *s, const char *sql, const struct sq_arg *args,
    const struct sq_map *map, void *row, int *found);
/* The first column of the first row as an integer: 0 if no row, when
 * *found (may be NULL) is cleared. */
int sq_int(struct store *s, const char *sql, const struct sq_arg *args,
    int64_t *v, int *found);

/*
 * A walk for the state_*_each callbacks: sq_each(..., sq_walk_row, &w)
 * with struct sq_walk w = SQ_WALK(fn, arg) calls the caller's typed
 * fn(const struct state_X *, arg) with each mapped row.
 */
struct sq_walk {
	void (*fn)(void);
	void *arg;
};
#define SQ_WALK(f, a)	{ (void (*)(void))(f), (a) }
int sq_walk_row(void *row, void *arg);
/* A count(*) with one text parameter ?1 into *n. */
int sq_count(struct store *s, const char *sql, const char *param, size_t *n);
/* An INSERT ... RETURNING id: the new row's id into *id (BERR_DENIED on a
 * read-only store). */
int sq_insert_id(struct store *s, const char *sql, const struct sq_arg *args,
    int64_t *id);

/* The driver's begin (BERR_DENIED on a read-only store): BEGIN IMMEDIATE
 * for SQLite, BEGIN and the cluster-wide writers' lock for PostgreSQL;
 * COMMIT, ROLLBACK. */
int sq_begin(struct store *s);
int sq_commit(struct store *s);
void sq_rollback(struct store *s);
/* Commit when r is 0, else roll back; returns r or the commit's error. */
int sq_end(struct store *s, int r);

/* ---- opening, the schema --------------------------------------------- */

/* The schema steps (store_sqlite.c): sq_schema[i] takes version i to
 * i + 1, on either backend. */
extern const char *const sq_schema[];
extern const int sq_schema_version;
/* The store's schema version is v: 0, or BERR_INTERNAL (noted) when this
 * program is older than the store. */
int sq_version_is(struct store *s, int64_t v);
/* An open that failed: why gets s's message, s is closed; returns r. */
int sq_open_fail(struct store *s, int r, char *why, size_t whylen);
/* The end of an open: r 0 sets *out to s, else as sq_open_fail. */
int sq_open_done(struct store *s, int r, struct store **out, char *why,
    size_t whylen);

/* ---- store_sqlite.c's operations, for store_sqlite_ops.c's table ----- */

int sq_open(const char *dir, unsigned flags, struct store **out, char *why,
    size_t whylen);
void sq_close(struct store *s);
const char *sq_errmsg(const struct store *s);
/* store_sqlite_web.c: the web console's tables */
int sq_web_cred_put(struct store *s, const struct state_web_cred *w);
int sq_web_cred_each(struct store *s, const char *person,
    int (*fn)(const struct state_web_cred *w, void *arg), void *arg);
int sq_web_session_new(struct store *s, const struct state_web_session *ws);
int sq_web_session_touch(struct store *s, const char *hash, time_t now,
    time_t idle_until, struct state_web_session *ws, int *found);
int sq_web_session_end(struct store *s, const char *hash);
int sq_web_challenge_put(struct store *s,
    const struct state_web_challenge *ch);
int sq_web_challenge_take(struct store *s, const char *hash,
    const char *person, const char *kind, time_t now,
    struct state_web_challenge *ch, int *found);
int sq_web_login_fail(struct store *s, const char *person, time_t now);
int sq_web_login_fails(struct store *s, const char *person, time_t since,
    size_t *n);
int sq_counter_advance(struct store *s, const char *fp, uint32_t counter,
    uint32_t *prev, int *had_prev);
int sq_counter_get(struct store *s, const char *fp, uint32_t *counter,
    int *found);
int sq_counter_forget(struct store *s, const char *fp);
int sq_key_lock(struct store *s, const char *fp, const char *engineer,
    const char *reason);
int sq_key_locked(struct store *s, const char *fp, int *locked,
    struct state_lock *info);
int sq_key_lock_oldest(struct store *s, const char *engineer, int *locked,
    struct state_lock *info);
int sq_key_unlock_engineer(struct store *s, const char *engineer, size_t *n,
    void (*fps)(const char *fp, void *arg), void *arg);
int sq_key_lock_count(struct store *s, const char *engineer, size_t *n);
int sq_guard_try(struct store *s, const char *fp, const char *holder,
    time_t now, time_t lease_until, const char *stale);
int sq_guard_holder(struct store *s, const char *fp, char *holder,
    size_t len, int *found);
int sq_guard_release(struct store *s, const char *fp, const char *holder);
int sq_enroll_put(struct store *s, const struct state_enrollment *e);
int sq_enroll_each(struct store *s, const char *engineer,
    int (*fn)(const struct state_enrollment *e, void *arg), void *arg);
int sq_enroll_get(struct store *s, const char *fp, struct state_enrollment *e,
    int *found);

/* store_sqlite_export.c: file export requests (schema step 8) */
int sq_export_create(struct store *s, const struct state_export *e,
    int64_t *id);
int sq_export_get(struct store *s, int64_t id, struct state_export *e,
    int *found);
int sq_export_each(struct store *s, const char *status, unsigned limit,
    int (*fn)(const struct state_export *e, void *arg), void *arg);
int sq_export_finish(struct store *s, int64_t id, const char *status,
    const char *by, const char *reason);
/* The SQL connection under st when this process opened the store itself
 * (SQLite or PostgreSQL; state.c), NULL through the store actor: for the
 * operations kept outside store_ops (auditckpt_db.c). */
struct store *state_sql_store(struct state *st);
/* store_decl.c: file declarations (issue 18). Their schema step, listed
 * in sq_schema[] (store_sqlite.c): */
#define SQ_SCHEMA_DECL \
	"CREATE TABLE file_decl (" \
	"  session INTEGER PRIMARY KEY," \
	"  engineer TEXT NOT NULL," \
	"  vendor TEXT NOT NULL," \
	"  device TEXT NOT NULL DEFAULT ''," \
	"  opened INTEGER NOT NULL," \
	"  status TEXT NOT NULL DEFAULT 'open'," \
	"  personal TEXT NOT NULL DEFAULT ''," \
	"  erased TEXT NOT NULL DEFAULT ''," \
	"  via TEXT NOT NULL DEFAULT ''," \
	"  answered INTEGER NOT NULL DEFAULT 0);" \
	"CREATE INDEX file_decl_open ON file_decl(status, engineer);" \
	"CREATE TABLE file_decl_file (" \
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," \
	"  session INTEGER NOT NULL," \
	"  direction TEXT NOT NULL," \
	"  path TEXT NOT NULL," \
	"  size INTEGER NOT NULL," \
	"  sha256 TEXT NOT NULL," \
	"  at INTEGER NOT NULL);" \
	"CREATE INDEX file_decl_file_session ON file_decl_file(session);"
int sq_decl_file_add(struct store *s, const struct state_decl_file *f);
int sq_decl_each(struct store *s, const char *engineer, int64_t session,
    int open_only, int (*fn)(const struct state_decl *d, void *arg),
    void *arg);
int sq_decl_answer(struct store *s, int64_t session, const char *engineer,
    const char *personal, const char *erased, const char *via, time_t now,
    struct state_decl *d);

/* store_watch.c: watching a session of another node (issue 20). Its
 * schema step, listed in sq_schema[] (store_sqlite.c): */
#define SQ_SCHEMA_WATCH \
	"CREATE TABLE peer_watch (" \
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," \
	"  session INTEGER NOT NULL," \
	"  admin TEXT NOT NULL," \
	"  from_node TEXT NOT NULL," \
	"  to_node TEXT NOT NULL," \
	"  recipient TEXT NOT NULL," \
	"  created INTEGER NOT NULL," \
	"  expires INTEGER NOT NULL," \
	"  seen INTEGER NOT NULL," \
	"  claimed INTEGER NOT NULL DEFAULT 0);" \
	"CREATE INDEX peer_watch_node ON peer_watch(to_node, claimed);" \
	"CREATE TABLE peer_watch_chunk (" \
	"  watch INTEGER NOT NULL," \
	"  seq INTEGER NOT NULL," \
	"  skipped INTEGER NOT NULL," \
	"  kind TEXT NOT NULL," \
	"  data TEXT NOT NULL," \
	"  PRIMARY KEY (watch, seq));"
/* 12: a watch request signed by the asking node (bastion/peerwatch_sign.c) */
#define SQ_SCHEMA_WATCH_SIGNED \
	"ALTER TABLE peer_watch ADD COLUMN nonce TEXT NOT NULL DEFAULT '';" \
	"ALTER TABLE peer_watch ADD COLUMN sig TEXT NOT NULL DEFAULT '';"
int sq_watch_open(struct store *s, const struct state_watch *w, int64_t *id);
int sq_watch_each(struct store *s, const char *node, time_t now,
    int (*fn)(const struct state_watch *w, void *arg), void *arg);
int sq_watch_claim(struct store *s, int64_t id, const char *node, time_t now,
    struct state_watch *w, int *found);
int sq_watch_put(struct store *s, const struct state_watch_chunk *c,
    time_t now, int *status);
int sq_watch_take(struct store *s, int64_t id, time_t now,
    int (*fn)(const struct state_watch_chunk *c, void *arg), void *arg,
    int *found);
int sq_watch_close(struct store *s, int64_t id);

/* ---- the PostgreSQL backend's connection (store_pg.c) ---------------- */

int pg_open(const char *dir, unsigned flags, struct store **out, char *why,
    size_t whylen);
void pg_close(struct store *s);
#define pg_errmsg sq_errmsg

#endif
