/*
 * state.h - the state that outlives one connection: per-key signature
 * counters, key locks, security-key enrolments, approval requests and
 * grants, the session registry and engineer locks.
 *
 * This is the store's one interface for its callers (bastiond's listener,
 * monitors and control workers, bastionctl, pam_bastion.so, the tests).
 * A `struct state` is an opaque handle on one backend (store.h: a table of
 * operations; the embedded default is SQLite, the file STATE_DIR/state.db,
 * in store_sqlite*.c), so that a shared PostgreSQL for an HA pair is one
 * more backend and no caller changes: every operation is one transaction
 * on plain values, nothing hands out SQL or row handles, and the one
 * long-lived exclusion (state_key_guard) is a lease row in the store, not
 * a lock file.
 *
 * Keys are named by their OpenSSH SHA-256 fingerprint ("SHA256:...", as
 * `ssh-keygen -lf` prints it), which both bastiond and bastionctl compute
 * from the key blob (sk.h).
 *
 * Errors are BERR_* codes (err.h); the backend's own message is logged
 * where it happens (and kept for state_errmsg()). While bastiond runs,
 * the other processes (monitors, control workers, bastionctl) do not open
 * the file: their operations are forwarded to the store actor in
 * bastiond's listener, which runs them on its own connection (the
 * "remote" backend, store_call.h). Without an actor each process opens it
 * itself: the SQLite backend uses WAL mode with a busy timeout, and every
 * write is one IMMEDIATE transaction.
 */
#ifndef BASTION_STATE_H
#define BASTION_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STATE_FILE		"state.db"
#define STATE_BUSY_TIMEOUT_MS	5000

struct state;

/*
 * Open the store of state_dir: through its store actor when one answers
 * and admits this process (every operation then runs in the actor), else
 * STATE_DIR/state.db itself, created if needed, its schema brought up to
 * date. *out is NULL on entry and on failure. BERR_SYS when the directory
 * or file cannot be opened, BERR_INTERNAL for a database error.
 */
int state_open(const char *state_dir, struct state **out);
/*
 * Open an existing store read-only: nothing is created, migrated or
 * written (its write operations return BERR_DENIED), and nothing is
 * logged: on failure why (whylen bytes) says what was wrong. For a module
 * loaded into other programs (pam_bastion.so). BERR_NOTFOUND when there
 * is no store yet, BERR_SYS when it cannot be opened (not a regular file,
 * no access), BERR_INTERNAL when it is not a readable store.
 */
int state_open_ro(const char *state_dir, struct state **out, char *why,
    size_t whylen);
/* Close; state_close(NULL) is a no-op. */
void state_close(struct state *st);

struct policy;
/*
 * The backend this process opens when it opens the store itself (no
 * store actor, the actor itself, state_open_ro): the policy's store:
 * section (SQLite, the default, or PostgreSQL; docs/SCALE-OUT.md). Call
 * once after loading the policy, before opening the store. 0, or
 * BERR_NOMEM.
 */
int state_configure(const struct policy *pol);
/* The same without a policy (tests): PostgreSQL at conninfo, its password
 * (may be NULL) in password_file; conninfo NULL returns to SQLite. */
int state_use_postgresql(const char *conninfo, const char *password_file);
/* The backend's description of the last failure on st; never NULL. */
const char *state_errmsg(const struct state *st);

/* ---- pushed decisions ------------------------------------------------ */

/*
 * Decisions (approve, deny, expire, cancel; kill; engineer lock; grant
 * revoke; key lock) and new requests are pushed, not polled: when one of the state_*
 * operations below that makes one succeeds, the store tells the store
 * actor (store_actor.h, running in bastiond's listener), which passes it
 * on to whoever subscribed to that kind and id. With a shared backend
 * (PostgreSQL) the same calls map onto LISTEN/NOTIFY.
 */
enum state_event {
	STATE_EV_REQUEST = 1,	/* id: the request */
	STATE_EV_SESSION,	/* id: the session number (kill) */
	STATE_EV_GRANT,		/* id: the grant (revoke) */
	STATE_EV_ENGINEER,	/* id: 0 (an engineer lock) */
	STATE_EV_KEY,		/* id: 0 (a key lock) */
	STATE_EV_EXPORT,	/* id: the file export request */
	STATE_EV_WATCH,		/* id: a new request to watch a session of
				   another node (its node's listener) */
	STATE_EV_WATCH_DATA,	/* id: that request, a new chunk (its
				   watcher only: the listener is not woken) */
};
#define STATE_EV_MAX	STATE_EV_WATCH_DATA	/* the last kind */

struct state_sub;
/*
 * Subscribe to the decisions of kind about id (0: any). *out is NULL on
 * entry and on failure; BERR_NOTFOUND when no store actor runs (the caller
 * then looks again after a while, state_await(NULL, ...) sleeps).
 */
int state_subscribe(struct state *st, int kind, int64_t id,
    struct state_sub **out);
/* Wait up to timeout_ms for a pushed decision: 1 when one came (look at
 * the store again), 0 when none did. With sub NULL: sleeps, returns 0. */
int state_await(struct state_sub *sub, unsigned timeout_ms);
/* The descriptor a pushed decision makes readable (for poll), or -1
 * when sub is NULL or no actor runs (then look again after a while). */
int state_sub_fd(const struct state_sub *sub);
/* state_unsubscribe(NULL) is a no-op. */
void state_unsubscribe(struct state_sub *sub);

/* ---- signature counters ---------------------------------------------- */

/*
 * Accept a security key's signature counter for key fp, atomically:
 * stored when there is no earlier counter, when it is greater than the
 * stored one, or when both are 0 (an authenticator without a counter,
 * as WebAuthn allows). Returns 0 when accepted (and stored); BERR_DENIED
 * when it does not increase, leaving the stored value. *prev (may be NULL)
 * receives the stored counter before the call, *had_prev (may be NULL)
 * whether there was one.
 */
int state_counter_advance(struct state *st, const char *fp, uint32_t counter,
    uint32_t *prev, int *had_prev);
/* The stored counter of fp: 0 with *found set, or 0 with *found = 0. */
int state_counter_get(struct state *st, const char *fp, uint32_t *counter,
    int *found);
/* Forget the counter of fp (the next signature sets a new baseline). */
int state_counter_forget(struct state *st, const char *fp);

/* ---- key locks ----------------------------------------------------------- */

struct state_lock {
	char fp[96];
	char engineer[80];
	char reason[256];
	time_t since;
};

/* Lock key fp of engineer with a reason (kept if already locked). */
int state_key_lock(struct state *st, const char *fp, const char *engineer,
    const char *reason);
/* 0 with *locked set (and *info filled if not NULL) or cleared. */
int state_key_locked(struct state *st, const char *fp, int *locked,
    struct state_lock *info);
/* The oldest key lock of engineer: 0 with *locked set (and *info filled
 * if not NULL) or cleared. */
int state_key_lock_oldest(struct state *st, const char *engineer,
    int *locked, struct state_lock *info);
/*
 * Remove the locks of every key locked for engineer; *n (may be NULL)
 * receives how many. If fps is not NULL, the unlocked fingerprints are
 * passed to it one by one (arg is passed through).
 */
int state_key_unlock_engineer(struct state *st, const char *engineer,
    size_t *n, void (*fps)(const char *fp, void *arg), void *arg);

/*
 * Serialise the use of one key across processes (and, with a shared
 * backend, across nodes): while a guard is held, no other guard for the
 * same fp can be taken, so that signatures of one key are checked in the
 * order they were made (otherwise two sessions opened at once could see
 * each other's counters out of order and lock the key as cloned). Waits
 * up to timeout_ms; BERR_TIMEOUT if still held by someone else. *out is
 * NULL on entry and on failure. The guard is a lease row in the store,
 * released by state_guard_release(); should its holder die first, the
 * next taker finds it expired (STATE_GUARD_LEASE_S) or, on the same host,
 * its process gone. The guard keeps a reference to st: release it before
 * closing st.
 */
#define STATE_GUARD_LEASE_S	300
struct state_guard;
int state_key_guard(struct state *st, const char *fp, unsigned timeout_ms,
    struct state_guard **out);
void state_guard_release(struct state_guard *g);

/* ---- enrolments ---------------------------------------------------------- */

struct state_enrollment {
	char fp[96];
	char engineer[80];
	char key_type[64];
	char *key_line;		/* the authorized_keys line */
	int attested;		/* attestation verified */
	char aaguid[40];	/* hex, "" if none */
	char subject[256];	/* attestation certificate subject */
	char issuer[256];
	time_t enrolled;
};

/* Record (or replace) the enrolment of a key. */
int state_enroll_put(struct state *st, const struct state_enrollment *e);
/*
 * Call fn for every enrolment of engineer (NULL: of everyone), oldest
 * first. e is only valid during the call. fn returning non-zero stops the
 * walk and becomes the return value.
 */
int state_enroll_each(struct state *st, const char *engineer,
    int (*fn)(const struct state_enrollment *e, void *arg), void *arg);
/* One enrolment by fingerprint: 0 with *found. e->key_line is heap
 * memory the caller frees (NULL when not found). */
int state_enroll_get(struct state *st, const char *fp,
    struct state_enrollment *e, int *found);

/* ---- approvals ----------------------------------------------------------- */

/* A request's status, as stored (and printed). */
#define STATE_REQ_PENDING	"pending"
#define STATE_REQ_APPROVED	"approved"
#define STATE_REQ_DENIED	"denied"
#define STATE_REQ_EXPIRED	"expired"
#define STATE_REQ_CANCELLED	"cancelled"

struct state_request {
	int64_t id;
	char engineer[80];
	char vendor[80];
	char device[80];
	char reason[256];	/* "" when none was given */
	time_t created;
	char status[16];	/* STATE_REQ_* */
	char decided_by[200];	/* admin(s), comma separated; "" */
	time_t decided_at;	/* 0 while pending */
	char deny_reason[256];
	int napprovals;		/* distinct admins who approved so far */
	char approvers[200];	/* their names, comma separated */
};

struct state_grant {
	int64_t id;
	int64_t request_id;
	char engineer[80];
	char device[80];
	time_t created;
	time_t until;		/* the grant ends at this time */
	int revoked;
	char revoked_by[80];
	time_t revoked_at;
};

/* A new pending request; *id receives its number. */
int state_request_create(struct state *st, const char *engineer,
    const char *vendor, const char *device, const char *reason, int64_t *id);
/* One request: 0 with *found set (and *r filled) or cleared. */
int state_request_get(struct state *st, int64_t id, struct state_request *r,
    int *found);
/*
 * Call fn for every request with the given status (NULL: all), newest
 * first, at most limit of them (0: no limit). fn returning non-zero stops
 * the walk and becomes the return value.
 */
int state_request_each(struct state *st, const char *status, unsigned limit,
    int (*fn)(const struct state_request *r, void *arg), void *arg);
/*
 * End a pending request as status (denied, expired, cancelled), by whom
 * and why (both may be NULL). BERR_NOTFOUND when there is no such request,
 * BERR_EXISTS when it was not pending any more (nothing changed).
 */
int state_request_finish(struct state *st, int64_t id, const char *status,
    const char *by, const char *reason);
/*
 * Record admin's approval of pending request id for duration seconds. When
 * needed distinct admins have approved, the request becomes approved and a
 * grant is created, lasting the shortest duration they gave, from now:
 * *grant_id (may be NULL) receives its id, else 0. BERR_NOTFOUND: no such
 * request; BERR_EXISTS: not pending any more; BERR_DENIED: this admin has
 * approved it already (four eyes need two different admins).
 */
int state_request_approve(struct state *st, int64_t id, const char *admin,
    unsigned duration, int needed, int64_t *grant_id);

/* The live grant (not revoked, not ended at now) of engineer for device
 * that lasts longest: 0 with *found set (and *g filled) or cleared. */
int state_grant_live(struct state *st, const char *engineer,
    const char *device, time_t now, struct state_grant *g, int *found);
/* One grant by id: 0 with *found set or cleared. */
int state_grant_get(struct state *st, int64_t id, struct state_grant *g,
    int *found);
/* Call fn for every grant still live at now (all: every grant), newest
 * first. fn returning non-zero stops the walk and is returned. */
int state_grant_each(struct state *st, int all, time_t now,
    int (*fn)(const struct state_grant *g, void *arg), void *arg);
/* Revoke grant id. BERR_NOTFOUND: no such grant; BERR_EXISTS: it was
 * revoked already. */
int state_grant_revoke(struct state *st, int64_t id, const char *by);

/* ---- file export requests (issue 18, docs/FILES.md "Export approval") -- */

/*
 * A download the files: policy holds for an admin (approve: out): the
 * file as the bastion read it into its quarantine, its size and SHA-256.
 * Statuses are STATE_REQ_* (pending, approved, denied, expired,
 * cancelled); one admin decides (no four eyes for a file).
 */
struct state_export {
	int64_t id;
	char session[64];	/* the vendor session that asked */
	char engineer[80];
	char vendor[80];
	char device[80];
	char path[4097];	/* as the engineer's client named it */
	int64_t size;
	char sha256[65];	/* lowercase hex */
	time_t created;
	char status[16];	/* STATE_REQ_* */
	char decided_by[200];
	time_t decided_at;	/* 0 while pending */
	char deny_reason[256];
};

/* A new pending export request from e (its id, created, status and
 * decision ignored); *id receives its number. Pushed (STATE_EV_EXPORT). */
int state_export_create(struct state *st, const struct state_export *e,
    int64_t *id);
/* One export request: 0 with *found set (and *e filled) or cleared. */
int state_export_get(struct state *st, int64_t id, struct state_export *e,
    int *found);
/* fn for each export request with status (NULL: all), newest first, at
 * most limit (0: no limit); fn's non-zero return ends the walk. */
int state_export_each(struct state *st, const char *status, unsigned limit,
    int (*fn)(const struct state_export *e, void *arg), void *arg);
/*
 * Decide a pending export request: status approved, denied, expired or
 * cancelled, by whom and why (may be NULL). BERR_NOTFOUND: no such
 * request; BERR_EXISTS: not pending any more (nothing changed). Pushed.
 */
int state_export_finish(struct state *st, int64_t id, const char *status,
    const char *by, const char *reason);

/* ---- sessions (the registry the listener keeps) ------------------------- */

/*
 * One vendor session as the listener registered it (schema step 3). The
 * listener writes a row when the worker reports that its relay starts,
 * marks it ended when the worker exits, and acts on kill_requested (set by
 * an admin's `kill`). A session number (sid) is unique in normal use; rows
 * have their own id so that a reused number never overwrites history.
 */
struct state_session {
	int64_t id;		/* row */
	int64_t sid;		/* bastiond's session number */
	int pid;		/* the worker */
	char engineer[80];
	char vendor[80];
	char device[80];	/* "-": forwards only, no device named */
	char source[64];	/* the engineer's address */
	time_t started;
	int64_t grant_id;	/* 0: none */
	char recording[512];	/* path of the recording file */
	time_t ended;		/* 0 while live */
	char end_reason[256];
	int kill_requested;
	char kill_reason[256];
	char killed_by[80];
	char node[64];		/* the bastiond node it runs on (store:
				   node:, docs/SCALE-OUT.md); "" before */
	int lost;		/* not ended, but its node fell silent
				   (store: lost_after; store/nodebeat.h) */
};

/* What the monitor needs about one live session every second. */
struct state_session_ctl {
	int64_t id;		/* row */
	int64_t sid;
	int kill_requested;
	char kill_reason[256];
	char killed_by[80];
	int grant_revoked;	/* its grant exists and is revoked */
	int engineer_locked;	/* the engineer has an account lock */
	char lock_reason[256];
	char locked_by[80];
};

/* Register a live session (s->id, ended and the kill fields are
 * ignored); *id receives the row. */
int state_session_start(struct state *st, const struct state_session *s,
    int64_t *id);
/* Mark row id ended now, with a reason (kept if it was ended already). */
int state_session_end(struct state *st, int64_t id, const char *reason);
/*
 * Mark every row of node still open as ended with reason (bastiond
 * starting: no session of its earlier run is alive; other nodes' sessions
 * are theirs; rows written before nodes were named count as anyone's). fn
 * (may be NULL) is called with each such session before; *n (may be NULL)
 * receives how many.
 */
int state_session_end_open(struct state *st, const char *node,
    const char *reason,
    void (*fn)(const struct state_session *s, void *arg), void *arg,
    size_t *n);
/* The newest row with session number sid: 0 with *found set or cleared. */
int state_session_get(struct state *st, int64_t sid, struct state_session *s,
    int *found);
/*
 * Call fn for the live sessions, oldest first (all: also ended ones, the
 * newest limit rows, newest first; limit 0: no limit). fn returning
 * non-zero stops the walk and is returned.
 */
int state_session_each(struct state *st, int all, unsigned limit,
    int (*fn)(const struct state_session *s, void *arg), void *arg);
/* Ask for live session sid to be ended (by whom, why). BERR_NOTFOUND: no
 * such session; BERR_EXISTS: it has ended. *s (may be NULL) receives the
 * session as it was. */
int state_session_kill(struct state *st, int64_t sid, const char *by,
    const char *reason, struct state_session *s);
/* Call fn for every live session with its kill request, its grant's
 * revocation and its engineer's lock. */
int state_session_controls(struct state *st,
    int (*fn)(const struct state_session_ctl *c, void *arg), void *arg);
/* Number of live sessions of engineer. */
int state_session_count(struct state *st, const char *engineer, size_t *n);
/* The next session number when the store is shared by several nodes
 * (PostgreSQL: a sequence, each number once in the cluster); BERR_NOTFOUND
 * when it is this node's alone (SQLite, or through the store actor). */
int state_session_next_sid(struct state *st, int64_t *sid);

/* ---- engineer locks (admins' `lock`) --------------------------------------- */

struct state_engineer_lock {
	char engineer[80];
	char reason[256];
	char locked_by[80];
	time_t since;
};

/* Lock engineer (no new logins; the monitor ends live sessions).
 * BERR_EXISTS when locked already (the first lock is kept). */
int state_engineer_lock(struct state *st, const char *engineer,
    const char *by, const char *reason);
/* 0 with *locked set (and *info filled if not NULL) or cleared. */
int state_engineer_locked(struct state *st, const char *engineer,
    int *locked, struct state_engineer_lock *info);
/* Lift the lock. BERR_NOTFOUND when there was none. *info (may be NULL)
 * receives the lock that was lifted. */
int state_engineer_unlock(struct state *st, const char *engineer,
    struct state_engineer_lock *info);
/* Number of key locks recorded for engineer (counter regressions). */
int state_key_lock_count(struct state *st, const char *engineer, size_t *n);

/* ---- touch transfer windows (limits.touch_transfer_window) -------------- */

/*
 * A touch with the security key fp, in session `session`, opens a window
 * until `until` in which transfers of the same engineer to the same
 * device from the same source address are admitted without an agent
 * (touch.c). One row per (engineer, device, source): a new touch renews
 * it. The monitor alone writes and reads them. state_engineer_lock,
 * state_key_lock (of fp), state_grant_revoke (of grant_id) and
 * state_session_kill (the engineer and device of that session) delete
 * the windows they concern in the same transaction.
 */
struct state_touch_window {
	char engineer[80];
	char device[80];
	char source[64];	/* the engineer's address, no port */
	char fp[96];		/* the security key that was touched */
	char session[32];	/* the session that opened it */
	int64_t grant_id;	/* the grant that session ran on, or 0 */
	time_t opened;
	time_t until;
};
/* Open or renew the window of (engineer, device, source). */
int state_touch_window_open(struct state *st,
    const struct state_touch_window *w);
/* The window of (engineer, device, source) still open at now: 0 with
 * *found set (and *w filled) or cleared. */
int state_touch_window_get(struct state *st, const char *engineer,
    const char *device, const char *source, time_t now,
    struct state_touch_window *w, int *found);
/* Close the windows of engineer (to device; NULL: every device); *n (may
 * be NULL) receives how many. */
int state_touch_window_close(struct state *st, const char *engineer,
    const char *device, size_t *n);
/* Forget windows that ended at now or before. */
int state_touch_window_expire(struct state *st, time_t now);

/* ---- web console (issue 17, docs/WEB.md) ------------------------------- */

/*
 * A WebAuthn credential of a person for the web console (rpId = the
 * console's host). Its signature counter lives in key_counter under
 * "webauthn:" + base64url(SHA-256(credential id)), so counters and clone
 * locks work as for ssh keys.
 */
struct state_web_cred {
	char person[80];
	char cred_id[1400];	/* base64url of the credential id */
	int alg;		/* COSE: -7 ES256, -8 EdDSA */
	char pubkey[160];	/* hex: ES256 04||X||Y, EdDSA the 32 bytes */
	char aaguid[40];	/* hex, "" when none */
	time_t created;
	char enrolled_by[128];	/* the ssh key or login that asked */
	int enabled;
};
/* Store a new credential: BERR_EXISTS when that id is already there. */
int state_web_cred_put(struct state *st, const struct state_web_cred *w);
/* Each enabled credential of person (NULL: everyone's). */
int state_web_cred_each(struct state *st, const char *person,
    int (*fn)(const struct state_web_cred *w, void *arg), void *arg);

/* A web session: the token itself is never stored, only its hash. */
struct state_web_session {
	char hash[72];		/* hex SHA-256 of the token */
	char person[80];
	char role[16];		/* "admin" or "auditor" */
	char from[128];
	time_t created;
	time_t last_used;
	time_t idle_until;	/* last_used + the idle limit */
	time_t abs_until;	/* created + the absolute limit */
};
int state_web_session_new(struct state *st,
    const struct state_web_session *ws);
/*
 * The session of hash alive at now (not ended, idle_until and abs_until
 * after now): 0 with *found set and *ws filled, its last_used set to now
 * and idle_until to idle_until (never past abs_until) in the same step;
 * or 0 with *found cleared.
 */
int state_web_session_touch(struct state *st, const char *hash, time_t now,
    time_t idle_until, struct state_web_session *ws, int *found);
/* End the session of hash (logout); 0 also when there was none. */
int state_web_session_end(struct state *st, const char *hash);

/* A single-use challenge (or enrolment code) of the web console. */
struct state_web_challenge {
	char hash[72];		/* hex SHA-256 of the challenge or code */
	char person[80];
	char kind[16];		/* "login", "action", "code", "create" */
	char data[6000];	/* the kind's payload (e.g. canonical action,
				 * base64) */
	time_t not_after;
};
int state_web_challenge_put(struct state *st,
    const struct state_web_challenge *ch);
/*
 * Consume the unused challenge (hash, person, kind) valid at now: 0 with
 * *found set and *ch filled, the row used up in the same step (a second
 * take finds nothing); or 0 with *found cleared.
 */
int state_web_challenge_take(struct state *st, const char *hash,
    const char *person, const char *kind, time_t now,
    struct state_web_challenge *ch, int *found);

/*
 * Failed web sign-ins, for the limit per person: note one at now (rows
 * older than a day go in the same step), or count those of person at or
 * after since into *n.
 */
int state_web_login_fail(struct state *st, const char *person, time_t now);
int state_web_login_fails(struct state *st, const char *person, time_t since,
    size_t *n);


/* ---- file declarations (issue 18, docs/FILES.md "Work record and
 * declarations") ------------------------------------------------------ */

#define STATE_DECL_FILES_MAX	2048	/* the files' lines, cut */

/*
 * One file that crossed the airlock in a session whose vendor's policy asks
 * for a work record: kept so that the engineer declares whether it held
 * personal data (and whether that was erased).
 */
struct state_decl_file {
	int64_t session;
	char engineer[80], vendor[80], device[80];
	char direction[8];	/* in, out */
	char path[1024];	/* as the client named it, cut */
	int64_t size;
	char sha256[72];	/* hex */
	time_t at;
};

/*
 * A session's declaration: open from its first file until the engineer
 * answers personal=no, or personal=yes erased=yes. personal/erased are ""
 * until answered; erased "no" or "pending" keeps it open.
 */
struct state_decl {
	int64_t session;
	char engineer[80], vendor[80], device[80];
	time_t opened;		/* its first file */
	char status[8];		/* open, closed */
	char personal[8];	/* "", yes, no */
	char erased[8];		/* "", yes, no, pending */
	char via[16];		/* work_record, declare */
	time_t answered;	/* 0: never */
	int64_t nfiles, bytes;
	/* one line per file, oldest first, cut at the size:
	 * "DIRECTION PATH SIZE SHA256-PREFIX\n" */
	char files[STATE_DECL_FILES_MAX];
};

/*
 * Note a file of f->session: the session's declaration is created (open)
 * with its first file, and opened again if it was closed (a file moved
 * after the answer needs an answer of its own). BERR_INVAL for a missing
 * field or a direction other than in/out.
 */
int state_decl_file_add(struct state *st, const struct state_decl_file *f);
/*
 * Each declaration (with its files) of engineer (NULL: everyone's), of
 * session (0: any), open ones only when open_only; oldest first.
 */
int state_decl_each(struct state *st, const char *engineer, int64_t session,
    int open_only, int (*fn)(const struct state_decl *d, void *arg),
    void *arg);
/*
 * The engineer's answer for session's declaration, in one step: personal
 * "yes" or "no"; erased "yes", "no" or "pending" with personal=yes, NULL
 * or "" with personal=no (else BERR_INVAL); via names where it was given.
 * It closes with personal=no or erased=yes, else it stays open with the
 * answer noted. *d (may be NULL) is the declaration after the answer.
 * BERR_NOTFOUND: no declaration of that session; BERR_DENIED: another
 * engineer's; BERR_EXISTS: already closed.
 */
int state_decl_answer(struct state *st, int64_t session, const char *engineer,
    const char *personal, const char *erased, const char *via, time_t now,
    struct state_decl *d);
/* Each whole line of d->files (a line the store cut is left out):
 * fn(line, its length without the newline, arg). Returns how many. */
int64_t state_decl_lines(const struct state_decl *d,
    void (*fn)(const char *line, size_t len, void *arg), void *arg);
/* Is personal/erased an answer state_decl_answer takes? 0, or BERR_INVAL
 * with *why (a sentence for the engineer) set. */
int state_decl_answer_check(const char *personal, const char *erased,
    const char **why);

/* ---- watching a session of another node (issue 20; docs/SCALE-OUT.md
 * "Watching a session of another node", store_watch.c) -------------- */

#define STATE_WATCH_DATA_MAX	7168	/* a chunk's text (base64 of an age
					   file holding <= 4 KiB) */
#define STATE_WATCH_BACKLOG	32	/* chunks unread before the next are
					   dropped (and counted) */
#define STATE_WATCH_STALE_S	15	/* the watcher silent this long: gone */

/*
 * A request by an admin on node from_node to watch session (running on
 * to_node): the watcher's ephemeral X25519 public key (an age recipient,
 * "age1..."), to which every chunk is encrypted; expires is the hard cap;
 * seen the watcher's last read; claimed set once to_node's helper took
 * it.
 */
#define STATE_WATCH_NONCE_HEX	32	/* 16 random bytes */
#define STATE_WATCH_SIG_HEX	128	/* Ed25519 */

struct state_watch {
	int64_t id;
	int64_t session;
	char admin[80];
	char from_node[64], to_node[64];
	char recipient[100];
	time_t created, expires, seen;
	int claimed;
	/* the asking node's own request id (random, hex) and its audit
	 * key's signature (bastion/peerwatch_sign.c); "" when unsigned */
	char nonce[STATE_WATCH_NONCE_HEX + 1];
	char sig[STATE_WATCH_SIG_HEX + 1];
};

/* One chunk of live output, for the watcher: kind "data" (data: base64 of
 * an age file), "end" (data: why, in clear: the recorder's end reason) or
 * "refused" (data: why the session's node refused); skipped: bytes dropped before it (the watcher
 * did not keep up). */
struct state_watch_chunk {
	int64_t watch, seq, skipped;
	char kind[8];
	char data[STATE_WATCH_DATA_MAX];
};

/* File a request (w->id, claimed ignored; created set by the store);
 * *id its number. Pushed (STATE_EV_WATCH) so that to_node hears it. */
int state_watch_open(struct state *st, const struct state_watch *w,
    int64_t *id);
/*
 * For to_node's listener: forget requests whose cap passed or whose
 * watcher fell silent (STATE_WATCH_STALE_S) before now, with their chunks;
 * then fn for each request for node nobody claimed yet.
 */
int state_watch_each(struct state *st, const char *node, time_t now,
    int (*fn)(const struct state_watch *w, void *arg), void *arg);
/* Claim request id for node, once: 0 with *found set and *w filled, or
 * *found cleared (no such request for node, claimed already, expired). */
int state_watch_claim(struct state *st, int64_t id, const char *node,
    time_t now, struct state_watch *w, int *found);
/*
 * Add a chunk (c->seq increasing from 1): *status 1 stored (and pushed),
 * 2 not stored (STATE_WATCH_BACKLOG chunks unread: count it as skipped),
 * 0 the request is gone (the watcher stopped, fell silent or the cap
 * passed: stop).
 */
int state_watch_put(struct state *st, const struct state_watch_chunk *c,
    time_t now, int *status);
/*
 * For the watcher: note it is alive at now, and take (fn, then delete)
 * the chunks of request id in order. *found cleared: the request is gone.
 */
int state_watch_take(struct state *st, int64_t id, time_t now,
    int (*fn)(const struct state_watch_chunk *c, void *arg), void *arg,
    int *found);
/* Forget request id and its chunks (either side, when it stops). */
int state_watch_close(struct state *st, int64_t id);

#endif
