/*
 * store.h - the state store's backend interface: a table of operations in
 * the bastion's own terms (counters, key locks and guards, enrolments,
 * requests, approvals, grants, sessions, engineer locks, touch windows),
 * behind which sits one backend.
 *
 * Callers never see this file: they call the state_* functions of state.h
 * on a `struct state` handle, and state.c checks their arguments, clears
 * their out-parameters and dispatches through the handle's store_ops. A
 * backend therefore receives only valid arguments (non-NULL where state.h
 * says so, out-parameters cleared) and implements the domain operation
 * whole: its atomicity (what state.h calls "in the same transaction") is
 * the backend's business, not the caller's. There is no SQL, no row
 * handle and no database type in this interface, so that a second backend
 * (PostgreSQL via libpq, for an HA pair) is one more table, as SQLite's
 * VFS or tlog's writer types are.
 *
 * The embedded default is store_sqlite_ops (store_sqlite*.c, the file
 * STATE_DIR/state.db). Errors are BERR_* codes (err.h); a backend keeps a
 * one-line description of its last failure for state_errmsg().
 *
 * Things a backend must guarantee (the next backends included):
 *  - counter_advance is a compare-and-advance: of two callers racing with
 *    the same or lower counters, at most one succeeds, on any node;
 *  - key_guard excludes every other holder of the same fingerprint, on
 *    any node, and is released by guard_release or, should its holder
 *    die, by lease expiry (STATE_GUARD_LEASE_S);
 *  - a read-only open (STORE_OPEN_RDONLY) never creates, migrates or
 *    writes anything; its write operations fail with BERR_DENIED.
 */
#ifndef BASTION_STORE_H
#define BASTION_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "state.h"

struct store;		/* a backend's own connection, opaque */

/* store_ops.open flags */
#define STORE_OPEN_RDONLY	0x1	/* never create, migrate or write */
#define STORE_OPEN_QUIET	0x2	/* no log_error: callers report */

struct store_ops {
	const char *name;

	/* Open the store in dir: *out NULL on entry and on failure, why
	 * (whylen bytes) says what went wrong. BERR_NOTFOUND when
	 * STORE_OPEN_RDONLY and there is no store yet. */
	int (*open)(const char *dir, unsigned flags, struct store **out,
	    char *why, size_t whylen);
	void (*close)(struct store *s);
	/* The last failure, one line; "" if none. Never NULL. */
	const char *(*errmsg)(const struct store *s);

	int (*counter_advance)(struct store *s, const char *fp,
	    uint32_t counter, uint32_t *prev, int *had_prev);
	int (*counter_get)(struct store *s, const char *fp, uint32_t *counter,
	    int *found);
	int (*counter_forget)(struct store *s, const char *fp);

	int (*key_lock)(struct store *s, const char *fp, const char *engineer,
	    const char *reason);
	int (*key_locked)(struct store *s, const char *fp, int *locked,
	    struct state_lock *info);
	int (*key_lock_oldest)(struct store *s, const char *engineer,
	    int *locked, struct state_lock *info);
	int (*key_unlock_engineer)(struct store *s, const char *engineer,
	    size_t *n, void (*fps)(const char *fp, void *arg), void *arg);
	int (*key_lock_count)(struct store *s, const char *engineer,
	    size_t *n);
	/*
	 * Take the guard of fp for holder (a string unique to this guard)
	 * until lease_until, if it is free, its lease ended at now, or it is
	 * held by stale (may be NULL: a holder known to be dead): 1 taken,
	 * 0 held by someone else, or a BERR_* code. One atomic step.
	 */
	int (*guard_try)(struct store *s, const char *fp, const char *holder,
	    time_t now, time_t lease_until, const char *stale);
	/* The holder of fp's guard: 0 with *found set (and holder filled)
	 * or cleared. */
	int (*guard_holder)(struct store *s, const char *fp, char *holder,
	    size_t len, int *found);
	int (*guard_release)(struct store *s, const char *fp,
	    const char *holder);

	int (*enroll_put)(struct store *s, const struct state_enrollment *e);
	int (*enroll_each)(struct store *s, const char *engineer,
	    int (*fn)(const struct state_enrollment *e, void *arg), void *arg);
	int (*enroll_get)(struct store *s, const char *fp,
	    struct state_enrollment *e, int *found);

	int (*request_create)(struct store *s, const char *engineer,
	    const char *vendor, const char *device, const char *reason,
	    int64_t *id);
	int (*request_get)(struct store *s, int64_t id,
	    struct state_request *r, int *found);
	int (*request_each)(struct store *s, const char *status,
	    unsigned limit,
	    int (*fn)(const struct state_request *r, void *arg), void *arg);
	int (*request_finish)(struct store *s, int64_t id, const char *status,
	    const char *by, const char *reason);
	int (*request_approve)(struct store *s, int64_t id, const char *admin,
	    unsigned duration, int needed, int64_t *grant_id);

	int (*grant_live)(struct store *s, const char *engineer,
	    const char *device, time_t now, struct state_grant *g, int *found);
	int (*grant_get)(struct store *s, int64_t id, struct state_grant *g,
	    int *found);
	int (*grant_each)(struct store *s, int all, time_t now,
	    int (*fn)(const struct state_grant *g, void *arg), void *arg);
	int (*grant_revoke)(struct store *s, int64_t id, const char *by);

	int (*session_start)(struct store *s, const struct state_session *ss,
	    int64_t *id);
	int (*session_end)(struct store *s, int64_t id, const char *reason);
	int (*session_end_open)(struct store *s, const char *node,
	    const char *reason,
	    void (*fn)(const struct state_session *ss, void *arg), void *arg,
	    size_t *n);
	int (*session_get)(struct store *s, int64_t sid,
	    struct state_session *ss, int *found);
	int (*session_each)(struct store *s, int all, unsigned limit,
	    int (*fn)(const struct state_session *ss, void *arg), void *arg);
	int (*session_kill)(struct store *s, int64_t sid, const char *by,
	    const char *reason, struct state_session *ss);
	int (*session_controls)(struct store *s,
	    int (*fn)(const struct state_session_ctl *c, void *arg),
	    void *arg);
	int (*session_count)(struct store *s, const char *engineer,
	    size_t *n);

	int (*engineer_lock)(struct store *s, const char *engineer,
	    const char *by, const char *reason);
	int (*engineer_locked)(struct store *s, const char *engineer,
	    int *locked, struct state_engineer_lock *info);
	int (*engineer_unlock)(struct store *s, const char *engineer,
	    struct state_engineer_lock *info);

	int (*touch_window_open)(struct store *s,
	    const struct state_touch_window *w);
	int (*touch_window_get)(struct store *s, const char *engineer,
	    const char *device, const char *source, time_t now,
	    struct state_touch_window *w, int *found);
	int (*touch_window_close)(struct store *s, const char *engineer,
	    const char *device, size_t *n);
	int (*touch_window_expire)(struct store *s, time_t now);

	int (*web_cred_put)(struct store *s, const struct state_web_cred *w);
	int (*web_cred_each)(struct store *s, const char *person,
	    int (*fn)(const struct state_web_cred *w, void *arg), void *arg);
	int (*web_session_new)(struct store *s,
	    const struct state_web_session *ws);
	int (*web_session_touch)(struct store *s, const char *hash,
	    time_t now, time_t idle_until, struct state_web_session *ws,
	    int *found);
	int (*web_session_end)(struct store *s, const char *hash);
	int (*web_challenge_put)(struct store *s,
	    const struct state_web_challenge *ch);
	int (*web_challenge_take)(struct store *s, const char *hash,
	    const char *person, const char *kind, time_t now,
	    struct state_web_challenge *ch, int *found);
	/* The next session number of a store shared by several nodes (each
	 * number once, cluster-wide); BERR_NOTFOUND: this store is one node's
	 * (the listener numbers its sessions itself). */
	int (*session_next_sid)(struct store *s, int64_t *sid);
	int (*web_login_fail)(struct store *s, const char *person, time_t now);
	int (*web_login_fails)(struct store *s, const char *person,
	    time_t since, size_t *n);

	int (*export_create)(struct store *s, const struct state_export *e,
	    int64_t *id);
	int (*export_get)(struct store *s, int64_t id, struct state_export *e,
	    int *found);
	int (*export_each)(struct store *s, const char *status,
	    unsigned limit,
	    int (*fn)(const struct state_export *e, void *arg), void *arg);
	int (*export_finish)(struct store *s, int64_t id, const char *status,
	    const char *by, const char *reason);
	/* file declarations (store_decl.c; state.h says what each does) */
	int (*decl_file_add)(struct store *s, const struct state_decl_file *f);
	int (*decl_each)(struct store *s, const char *engineer,
	    int64_t session, int open_only,
	    int (*fn)(const struct state_decl *d, void *arg), void *arg);
	/* d is never NULL here */
	int (*decl_answer)(struct store *s, int64_t session,
	    const char *engineer, const char *personal, const char *erased,
	    const char *via, time_t now, struct state_decl *d);
	/* watching another node's session (store_watch.c; state.h) */
	int (*watch_open)(struct store *s, const struct state_watch *w,
	    int64_t *id);
	int (*watch_each)(struct store *s, const char *node, time_t now,
	    int (*fn)(const struct state_watch *w, void *arg), void *arg);
	int (*watch_claim)(struct store *s, int64_t id, const char *node,
	    time_t now, struct state_watch *w, int *found);
	int (*watch_put)(struct store *s, const struct state_watch_chunk *c,
	    time_t now, int *status);
	int (*watch_take)(struct store *s, int64_t id, time_t now,
	    int (*fn)(const struct state_watch_chunk *c, void *arg),
	    void *arg, int *found);
	int (*watch_close)(struct store *s, int64_t id);
};

/* The table of a backend named n whose functions are p_<operation>. */
#define STORE_OPS_TABLE(n, p) STORE_OPS_TABLE_OPEN(n, p, p)
/* The same, with open, close and errmsg named o_<operation>: a backend
 * that runs another's operations on a connection of its own. */
#define STORE_OPS_TABLE_OPEN(n, o, p) { \
	.name = (n), \
	.open = o##_open, \
	.close = o##_close, \
	.errmsg = o##_errmsg, \
	.counter_advance = p##_counter_advance, \
	.counter_get = p##_counter_get, \
	.counter_forget = p##_counter_forget, \
	.key_lock = p##_key_lock, \
	.key_locked = p##_key_locked, \
	.key_lock_oldest = p##_key_lock_oldest, \
	.key_unlock_engineer = p##_key_unlock_engineer, \
	.key_lock_count = p##_key_lock_count, \
	.guard_try = p##_guard_try, \
	.guard_holder = p##_guard_holder, \
	.guard_release = p##_guard_release, \
	.enroll_put = p##_enroll_put, \
	.enroll_each = p##_enroll_each, \
	.enroll_get = p##_enroll_get, \
	.request_create = p##_request_create, \
	.request_get = p##_request_get, \
	.request_each = p##_request_each, \
	.request_finish = p##_request_finish, \
	.request_approve = p##_request_approve, \
	.grant_live = p##_grant_live, \
	.grant_get = p##_grant_get, \
	.grant_each = p##_grant_each, \
	.grant_revoke = p##_grant_revoke, \
	.session_start = p##_session_start, \
	.session_end = p##_session_end, \
	.session_end_open = p##_session_end_open, \
	.session_get = p##_session_get, \
	.session_each = p##_session_each, \
	.session_kill = p##_session_kill, \
	.session_controls = p##_session_controls, \
	.session_count = p##_session_count, \
	.engineer_lock = p##_engineer_lock, \
	.engineer_locked = p##_engineer_locked, \
	.engineer_unlock = p##_engineer_unlock, \
	.touch_window_open = p##_touch_window_open, \
	.touch_window_get = p##_touch_window_get, \
	.touch_window_close = p##_touch_window_close, \
	.touch_window_expire = p##_touch_window_expire, \
	.web_cred_put = p##_web_cred_put, \
	.web_cred_each = p##_web_cred_each, \
	.web_session_new = p##_web_session_new, \
	.web_session_touch = p##_web_session_touch, \
	.web_session_end = p##_web_session_end, \
	.web_challenge_put = p##_web_challenge_put, \
	.web_challenge_take = p##_web_challenge_take, \
	.session_next_sid = p##_session_next_sid, \
	.web_login_fail = p##_web_login_fail, \
	.web_login_fails = p##_web_login_fails, \
	.export_create = p##_export_create, \
	.export_get = p##_export_get, \
	.export_each = p##_export_each, \
	.export_finish = p##_export_finish, \
	.decl_file_add = p##_decl_file_add, \
	.decl_each = p##_decl_each, \
	.decl_answer = p##_decl_answer, \
	.watch_open = p##_watch_open, \
	.watch_each = p##_watch_each, \
	.watch_claim = p##_watch_claim, \
	.watch_put = p##_watch_put, \
	.watch_take = p##_watch_take, \
	.watch_close = p##_watch_close, \
}

/* The embedded default: SQLite, STATE_DIR/state.db (store_sqlite*.c). */
extern const struct store_ops store_sqlite_ops;
/* PostgreSQL through libpq, shared by several nodes (store_pg.c, the same
 * operations as SQLite's; docs/SCALE-OUT.md). */
extern const struct store_ops store_pg_ops;

/* The backend this process opens itself (state_open without an actor,
 * state_open_ro, the store actor): store_sqlite_ops unless
 * state_configure() chose another. */
const struct store_ops *state_local_ops(void);
/*
 * Cluster-wide decisions: a backend shared by several nodes carries each
 * decision that one node's store actor was told (store_actor.h) to the
 * actors of the others, which push it on as if told themselves. Used on
 * the actor's thread only.
 */
struct store_bus;
struct store_bus_ops {
	/* *out NULL on entry and on failure, why says what went wrong */
	int (*open)(struct store_bus **out, char *why, size_t whylen);
	/* the descriptor to poll for reading */
	int (*fd)(struct store_bus *b);
	/* tell the other nodes */
	int (*tell)(struct store_bus *b, int kind, int64_t id);
	/* when fd is readable: fn for each decision another node told; an
	 * error means the connection is lost (close, open again) */
	int (*read)(struct store_bus *b, void (*fn)(int kind, int64_t id,
	    void *arg), void *arg);
	const char *(*errmsg)(struct store_bus *b);
	void (*close)(struct store_bus *b);
};
/* PostgreSQL's LISTEN/NOTIFY (store_pg.c). */
extern const struct store_bus_ops store_pg_bus;
/* The bus of this process's backend, or NULL (SQLite: one node). */
const struct store_bus_ops *state_local_bus(void);

/* The PostgreSQL backend's connection string and password file (may be
 * NULL), copied; conninfo NULL forgets them. 0 or BERR_NOMEM. */
int store_pg_configure(const char *conninfo, const char *password_file);

#endif
