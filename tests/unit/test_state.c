/*
 * test_state.c - the state store (store/state.c): counters only move
 * forward, locks and their removal per engineer, enrolments, the per-key
 * guard across processes, the schema version and WAL mode, and that the
 * data outlives the process; the session registry and engineer locks
 * (schema step 3) and the upgrade of a step-2 store; and that
 * pam_bastion.so's read-only lock check (pam/locks.c, compiled in here as
 * test_pam_bastion.c does with hours.c) sees engineer locks, and an older
 * store without them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "state.h"

#include "pam_bastion.h"

#include "export_fixture.h"
#include "store_fixture.h"

static void
test_counter_moves_forward_only(void **state)
{
	struct fixture *f = *state;
	uint32_t prev, c;
	int had, found;

	assert_int_equal(state_counter_get(f->st, FP_A, &c, &found), 0);
	assert_false(found);
	/* the first counter is taken as it is */
	assert_int_equal(state_counter_advance(f->st, FP_A, 5, &prev, &had), 0);
	assert_false(had);
	assert_int_equal(state_counter_advance(f->st, FP_A, 6, &prev, &had), 0);
	assert_true(had);
	assert_int_equal(prev, 5);
	/* equal and lower are refused, and leave the stored value */
	assert_int_equal(state_counter_advance(f->st, FP_A, 6, &prev, &had),
	    BERR_DENIED);
	assert_int_equal(prev, 6);
	assert_int_equal(state_counter_advance(f->st, FP_A, 1, NULL, NULL),
	    BERR_DENIED);
	assert_int_equal(state_counter_get(f->st, FP_A, &c, &found), 0);
	assert_true(found);
	assert_int_equal(c, 6);
	/* per key */
	assert_int_equal(state_counter_advance(f->st, FP_B, 1, NULL, NULL), 0);
	/* the top of the range */
	assert_int_equal(state_counter_advance(f->st, FP_A, UINT32_MAX, NULL,
	    NULL), 0);
	assert_int_equal(state_counter_advance(f->st, FP_A, UINT32_MAX, NULL,
	    NULL), BERR_DENIED);
	/* forgetting sets a new baseline */
	assert_int_equal(state_counter_forget(f->st, FP_A), 0);
	assert_int_equal(state_counter_advance(f->st, FP_A, 2, NULL, &had), 0);
	assert_false(had);
}

static void
test_counter_zero_means_no_counter(void **state)
{
	struct fixture *f = *state;

	/* an authenticator without a counter always says 0 (WebAuthn) */
	assert_int_equal(state_counter_advance(f->st, FP_A, 0, NULL, NULL), 0);
	assert_int_equal(state_counter_advance(f->st, FP_A, 0, NULL, NULL), 0);
	assert_int_equal(state_counter_advance(f->st, FP_A, 3, NULL, NULL), 0);
	/* but once it counted, 0 is a step back */
	assert_int_equal(state_counter_advance(f->st, FP_A, 0, NULL, NULL),
	    BERR_DENIED);
}

static int unlocked_n;

static void
count_unlocked(const char *fp, void *arg)
{
	(void)arg;
	assert_true(strcmp(fp, FP_A) == 0 || strcmp(fp, FP_B) == 0);
	unlocked_n++;
}

static void
test_locks(void **state)
{
	struct fixture *f = *state;
	struct state_lock lk;
	size_t n;
	int locked;

	assert_int_equal(state_key_locked(f->st, FP_A, &locked, &lk), 0);
	assert_false(locked);
	assert_int_equal(state_key_lock(f->st, FP_A, "alice", "counter 3 "
	    "after 9"), 0);
	/* a second lock keeps the first reason */
	assert_int_equal(state_key_lock(f->st, FP_A, "alice", "other"), 0);
	assert_int_equal(state_key_lock(f->st, FP_B, "alice", "b"), 0);
	assert_int_equal(state_key_locked(f->st, FP_A, &locked, &lk), 0);
	assert_true(locked);
	assert_string_equal(lk.engineer, "alice");
	assert_string_equal(lk.reason, "counter 3 after 9");
	assert_true(lk.since > 0);
	/* another engineer's unlock does nothing */
	assert_int_equal(state_key_unlock_engineer(f->st, "gina", &n, NULL,
	    NULL), 0);
	assert_int_equal(n, 0);
	unlocked_n = 0;
	assert_int_equal(state_key_unlock_engineer(f->st, "alice", &n,
	    count_unlocked, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(unlocked_n, 2);
	assert_int_equal(state_key_locked(f->st, FP_A, &locked, NULL), 0);
	assert_false(locked);
}

static int
collect(const struct state_enrollment *e, void *arg)
{
	int *n = arg;

	assert_string_equal(e->engineer, "erin");
	(*n)++;
	return (0);
}

static int
stop_walk(const struct state_enrollment *e, void *arg)
{
	(void)e;
	(void)arg;
	return (42);
}

static void
test_enrollments(void **state)
{
	struct fixture *f = *state;
	struct state_enrollment e, got;
	int found, n = 0;

	memset(&e, 0, sizeof(e));
	snprintf(e.fp, sizeof(e.fp), "%s", FP_A);
	snprintf(e.engineer, sizeof(e.engineer), "erin");
	snprintf(e.key_type, sizeof(e.key_type), "sk-ssh-ed25519@openssh.com");
	e.key_line = "sk-ssh-ed25519@openssh.com AAAA erin@laptop";
	e.attested = 1;
	snprintf(e.aaguid, sizeof(e.aaguid), "536f6674534b2d546573742d4f6e6c79");
	snprintf(e.subject, sizeof(e.subject), "CN=x,OU=Authenticator "
	    "Attestation");
	assert_int_equal(state_enroll_put(f->st, &e), 0);
	snprintf(e.fp, sizeof(e.fp), "%s", FP_B);
	e.attested = 0;
	assert_int_equal(state_enroll_put(f->st, &e), 0);
	/* replacing keeps one record per key */
	assert_int_equal(state_enroll_put(f->st, &e), 0);
	assert_int_equal(state_enroll_each(f->st, "erin", collect, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(state_enroll_each(f->st, "gina", collect, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(state_enroll_each(f->st, NULL, stop_walk, NULL), 42);
	assert_int_equal(state_enroll_get(f->st, FP_A, &got, &found), 0);
	assert_true(found);
	assert_true(got.attested);
	assert_string_equal(got.key_line, e.key_line);
	assert_string_equal(got.aaguid, "536f6674534b2d546573742d4f6e6c79");
	free(got.key_line);
	assert_int_equal(state_enroll_get(f->st, "SHA256:none", &got, &found),
	    0);
	assert_false(found);
	assert_null(got.key_line);
}

static void
test_guard_excludes_other_processes(void **state)
{
	struct fixture *f = *state;
	struct state_guard *g = NULL, *g2 = NULL;
	int status;
	pid_t pid;

	assert_int_equal(state_key_guard(f->st, FP_A, 0, &g), 0);
	assert_non_null(g);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *st = NULL;
		struct state_guard *cg = NULL;
		int r;

		if (state_open(f->dir, &st) != 0)
			_exit(10);
		/* held by the parent: times out; another key is free */
		r = state_key_guard(st, FP_A, 100, &cg);
		if (r != BERR_TIMEOUT || cg != NULL)
			_exit(11);
		if (state_key_guard(st, FP_B, 0, &cg) != 0)
			_exit(12);
		state_guard_release(cg);
		state_close(st);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	state_guard_release(g);
	/* released: free again */
	assert_int_equal(state_key_guard(f->st, FP_A, 0, &g2), 0);
	state_guard_release(g2);
	state_guard_release(NULL);
}

static void
test_persistence_wal_and_version(void **state)
{
	struct fixture *f = *state;
	struct state *st = NULL;
	char path[PATH_MAX + 16];
	sqlite3 *db;
	sqlite3_stmt *q;
	uint32_t c;
	int found;

	assert_int_equal(state_counter_advance(f->st, FP_A, 77, NULL, NULL), 0);
	state_close(f->st);
	f->st = NULL;
	assert_int_equal(state_open(f->dir, &f->st), 0);
	assert_int_equal(state_counter_get(f->st, FP_A, &c, &found), 0);
	assert_true(found);
	assert_int_equal(c, 77);
	if (fixture_pg() != NULL) {
		/* a store written by a newer program is not touched */
		raw_exec(f, "UPDATE bastion_schema SET version = 999");
		assert_int_equal(state_open(f->dir, &st), BERR_INTERNAL);
		assert_null(st);
		return;
	}

	snprintf(path, sizeof(path), "%s/%s", f->dir, STATE_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	/* a store written by a newer program is not touched */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_open(f->dir, &st), BERR_INTERNAL);
	assert_null(st);
}

static void
test_open_errors(void **state)
{
	struct state *st = (struct state *)1;

	(void)state;
	if (fixture_pg() != NULL)	/* no server there */
		assert_int_equal(state_use_postgresql("host=/nonexistent "
		    "dbname=x connect_timeout=2", NULL), 0);
	assert_int_equal(state_open("/nonexistent/dir/for/state", &st),
	    BERR_SYS);
	assert_null(st);
	assert_int_equal(state_open(NULL, &st), BERR_INVAL);
	state_close(NULL);
}

/* The PostgreSQL password file: refused before connecting unless only its
 * owner, this process's user, may read it; one line. */
static void
test_pg_password_file(void **state)
{
	struct fixture *f = *state;
	struct state *st = (struct state *)1;
	char path[PATH_MAX + 16];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/pg.pass", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("secret\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(state_use_postgresql("host=/nonexistent dbname=x",
	    path), 0);
	assert_int_equal(state_open(f->dir, &st), BERR_DENIED);
	assert_null(st);
	/* mode 0600 passes that check (and fails to connect: no server) */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(state_open(f->dir, &st), BERR_SYS);
	/* two lines, or none */
	assert_non_null(fp = fopen(path, "w"));
	fputs("secret\nmore\n", fp);
	fclose(fp);
	assert_int_equal(state_open(f->dir, &st), BERR_FORMAT);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(state_open(f->dir, &st), BERR_FORMAT);
	/* not a regular file, or a link */
	assert_int_equal(state_use_postgresql("host=/nonexistent dbname=x",
	    f->dir), 0);
	assert_int_equal(state_open(f->dir, &st), BERR_SYS);
	assert_null(st);
	fixture_backend();	/* back to the backend under test */
	if (fixture_pg() == NULL)
		assert_int_equal(state_use_postgresql(NULL, NULL), 0);
}

static struct state_session
sess(int64_t sid, const char *engineer, const char *device, int64_t grant)
{
	struct state_session s;

	memset(&s, 0, sizeof(s));
	s.sid = sid;
	s.pid = 4242;
	snprintf(s.engineer, sizeof(s.engineer), "%s", engineer);
	snprintf(s.vendor, sizeof(s.vendor), "acme");
	snprintf(s.device, sizeof(s.device), "%s", device);
	snprintf(s.source, sizeof(s.source), "192.0.2.7");
	snprintf(s.recording, sizeof(s.recording), "/rec/%lld.brec",
	    (long long)sid);
	s.grant_id = grant;
	return (s);
}

static int
count_cb(const struct state_session *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return (0);
}

struct ctl_seen {
	int n;
	struct state_session_ctl c[8];
};

static int
ctl_cb(const struct state_session_ctl *c, void *arg)
{
	struct ctl_seen *seen = arg;

	if (seen->n < 8)
		seen->c[seen->n] = *c;
	seen->n++;
	return (0);
}

static void
recovered_cb(const struct state_session *s, void *arg)
{
	assert_int_equal(s->ended, 0);
	(*(int *)arg)++;
}

static void
test_sessions(void **state)
{
	struct fixture *f = *state;
	struct state_session s, got;
	struct ctl_seen seen;
	int64_t id1, id2, id3, gid;
	size_t n;
	int found, live, rec = 0;

	s = sess(17, "alice", "ct-scanner", 0);
	assert_int_equal(state_session_start(f->st, &s, &id1), 0);
	assert_true(id1 > 0);
	assert_int_equal(state_session_get(f->st, 17, &got, &found), 0);
	assert_true(found);
	assert_int_equal(got.id, id1);
	assert_int_equal(got.pid, 4242);
	assert_string_equal(got.device, "ct-scanner");
	assert_string_equal(got.recording, "/rec/17.brec");
	assert_int_equal(got.ended, 0);
	assert_true(got.started > 0);
	assert_int_equal(state_session_get(f->st, 99, &got, &found), 0);
	assert_false(found);

	/* a grant that gets revoked, an engineer who gets locked */
	assert_int_equal(state_request_create(f->st, "gina", "globex", "pacs",
	    "", &gid), 0);
	assert_int_equal(state_request_approve(f->st, gid, "bob", 3600, 1,
	    &gid), 0);
	s = sess(18, "gina", "pacs", gid);
	assert_int_equal(state_session_start(f->st, &s, &id2), 0);
	s = sess(19, "alice", "-", 0);
	assert_int_equal(state_session_start(f->st, &s, &id3), 0);
	assert_int_equal(state_session_count(f->st, "alice", &n), 0);
	assert_int_equal(n, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(state_session_controls(f->st, ctl_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_false(seen.c[0].kill_requested || seen.c[1].grant_revoked ||
	    seen.c[2].engineer_locked);

	/* kill: the first admin's reason stays */
	assert_int_equal(state_session_kill(f->st, 17, "bob", "go home",
	    &got), 0);
	assert_int_equal(got.id, id1);
	assert_int_equal(state_session_kill(f->st, 17, "dave", "other", NULL),
	    0);
	assert_int_equal(state_session_kill(f->st, 99, "bob", "x", NULL),
	    BERR_NOTFOUND);
	assert_int_equal(state_grant_revoke(f->st, gid, "bob"), 0);
	assert_int_equal(state_engineer_lock(f->st, "alice", "bob", "audit"),
	    0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(state_session_controls(f->st, ctl_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.c[0].id, id1);
	assert_true(seen.c[0].kill_requested);
	assert_string_equal(seen.c[0].killed_by, "bob");
	assert_string_equal(seen.c[0].kill_reason, "go home");
	assert_true(seen.c[0].engineer_locked);
	assert_int_equal(seen.c[1].sid, 18);
	assert_true(seen.c[1].grant_revoked);
	assert_false(seen.c[1].engineer_locked || seen.c[1].kill_requested);
	assert_true(seen.c[2].engineer_locked);
	assert_string_equal(seen.c[2].locked_by, "bob");
	assert_string_equal(seen.c[2].lock_reason, "audit");
	assert_false(seen.c[2].grant_revoked);	/* no grant: never revoked */

	/* ending: once, first reason kept; ended ones cannot be killed */
	assert_int_equal(state_session_end(f->st, id1, "killed"), 0);
	assert_int_equal(state_session_end(f->st, id1, "again"), 0);
	assert_int_equal(state_session_get(f->st, 17, &got, &found), 0);
	assert_true(got.ended > 0);
	assert_string_equal(got.end_reason, "killed");
	assert_int_equal(state_session_kill(f->st, 17, "bob", "x", NULL),
	    BERR_EXISTS);
	live = 0;
	assert_int_equal(state_session_each(f->st, 0, 0, count_cb, &live), 0);
	assert_int_equal(live, 2);
	live = 0;
	assert_int_equal(state_session_each(f->st, 1, 2, count_cb, &live), 0);
	assert_int_equal(live, 2);		/* the limit */

	/* a reused number: the newest row answers, history stays */
	s = sess(17, "alice", "ct-scanner", 0);
	assert_int_equal(state_session_start(f->st, &s, &id1), 0);
	assert_int_equal(state_session_get(f->st, 17, &got, &found), 0);
	assert_int_equal(got.id, id1);
	assert_int_equal(got.ended, 0);

	/* bastiond starting: whatever is open was left by an earlier run */
	assert_int_equal(state_session_end_open(f->st, "", "bastiond restarted",
	    recovered_cb, &rec, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rec, 3);
	assert_int_equal(state_session_get(f->st, 18, &got, &found), 0);
	assert_string_equal(got.end_reason, "bastiond restarted");
	live = 0;
	assert_int_equal(state_session_each(f->st, 0, 0, count_cb, &live), 0);
	assert_int_equal(live, 0);
	assert_int_equal(state_session_start(NULL, &s, &id1), BERR_INVAL);
}

static void
test_engineer_locks(void **state)
{
	struct fixture *f = *state;
	struct state_engineer_lock lk;
	int locked;
	size_t n;

	assert_int_equal(state_engineer_locked(f->st, "alice", &locked, &lk),
	    0);
	assert_false(locked);
	assert_int_equal(state_engineer_lock(f->st, "alice", "bob",
	    "left the company"), 0);
	/* the first lock is kept */
	assert_int_equal(state_engineer_lock(f->st, "alice", "dave", "x"),
	    BERR_EXISTS);
	assert_int_equal(state_engineer_locked(f->st, "alice", &locked, &lk),
	    0);
	assert_true(locked);
	assert_string_equal(lk.locked_by, "bob");
	assert_string_equal(lk.reason, "left the company");
	assert_true(lk.since > 0);
	assert_int_equal(state_engineer_locked(f->st, "gina", &locked, NULL),
	    0);
	assert_false(locked);
	/* key locks are another thing, counted apart */
	assert_int_equal(state_key_lock(f->st, FP_A, "alice", "cloned"), 0);
	assert_int_equal(state_key_lock_count(f->st, "alice", &n), 0);
	assert_int_equal(n, 1);
	memset(&lk, 0, sizeof(lk));
	assert_int_equal(state_engineer_unlock(f->st, "alice", &lk), 0);
	assert_string_equal(lk.reason, "left the company");
	assert_int_equal(state_engineer_unlock(f->st, "alice", NULL),
	    BERR_NOTFOUND);
	assert_int_equal(state_key_lock_count(f->st, "alice", &n), 0);
	assert_int_equal(n, 1);
}

/* A store at schema version 2 (before sessions) is upgraded in place. */
/* Transfer windows (issue 15): one per (engineer, device, source),
 * renewed by a new touch, ended by time, and deleted by what ends an
 * engineer's access: engineer lock, key lock, grant revocation, kill. */
static struct state_touch_window
win(const char *eng, const char *dev, const char *src, const char *fp,
    int64_t grant, time_t until)
{
	struct state_touch_window w;

	memset(&w, 0, sizeof(w));
	snprintf(w.engineer, sizeof(w.engineer), "%s", eng);
	snprintf(w.device, sizeof(w.device), "%s", dev);
	snprintf(w.source, sizeof(w.source), "%s", src);
	snprintf(w.fp, sizeof(w.fp), "%s", fp);
	snprintf(w.session, sizeof(w.session), "7");
	w.grant_id = grant;
	w.opened = until - 300;
	w.until = until;
	return (w);
}

static int
has_win(struct state *st, const char *eng, const char *dev, const char *src,
    time_t now)
{
	struct state_touch_window w;
	int found = -1;

	assert_int_equal(state_touch_window_get(st, eng, dev, src, now, &w,
	    &found), 0);
	return (found);
}

static void
test_touch_windows(void **state)
{
	struct fixture *f = *state;
	struct state_touch_window w, got;
	struct state_session s;
	time_t now = time(NULL);
	int64_t gid, sid;
	size_t n;
	int found;

	/* bad arguments */
	w = win("alice", "ct", "192.0.2.7", FP_A, 0, now);
	w.opened = now;			/* ends as it opens */
	assert_int_equal(state_touch_window_open(f->st, &w), BERR_INVAL);
	assert_int_equal(state_touch_window_open(NULL, &w), BERR_INVAL);

	w = win("alice", "ct", "192.0.2.7", FP_A, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	assert_int_equal(state_touch_window_get(f->st, "alice", "ct",
	    "192.0.2.7", now, &got, &found), 0);
	assert_true(found);
	assert_string_equal(got.fp, FP_A);
	assert_string_equal(got.session, "7");
	assert_int_equal(got.until, now + 300);
	/* bound to all three, and to the time */
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.8", now), 0);
	assert_int_equal(has_win(f->st, "alice", "mri", "192.0.2.7", now), 0);
	assert_int_equal(has_win(f->st, "bob", "ct", "192.0.2.7", now), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7",
	    now + 300), 0);
	/* a new touch renews it: still one row */
	w.until = now + 600;
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7",
	    now + 400), 1);
	assert_int_equal(state_touch_window_expire(f->st, now + 600), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7", now), 0);

	/* closed by hand, per device or all */
	w = win("alice", "ct", "192.0.2.7", FP_A, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	w = win("alice", "mri", "192.0.2.7", FP_A, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	assert_int_equal(state_touch_window_close(f->st, "alice", "ct", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(has_win(f->st, "alice", "mri", "192.0.2.7", now), 1);
	assert_int_equal(state_touch_window_close(f->st, "alice", NULL, &n), 0);
	assert_int_equal(n, 1);

	/* an engineer lock closes every window of the engineer */
	w = win("alice", "ct", "192.0.2.7", FP_A, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	w = win("gina", "pacs", "192.0.2.9", FP_B, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	assert_int_equal(state_engineer_lock(f->st, "alice", "bob", "x"), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7", now), 0);
	assert_int_equal(has_win(f->st, "gina", "pacs", "192.0.2.9", now), 1);
	assert_int_equal(state_engineer_unlock(f->st, "alice", NULL), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7", now), 0);

	/* a key lock closes the windows that key opened */
	assert_int_equal(state_key_lock(f->st, FP_B, "gina", "cloned"), 0);
	assert_int_equal(has_win(f->st, "gina", "pacs", "192.0.2.9", now), 0);

	/* a revoked grant closes the windows opened under it */
	assert_int_equal(state_request_create(f->st, "alice", "acme", "ct", "",
	    &gid), 0);
	assert_int_equal(state_request_approve(f->st, gid, "bob", 3600, 1,
	    &gid), 0);
	w = win("alice", "ct", "192.0.2.7", FP_A, gid, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	w = win("alice", "mri", "192.0.2.7", FP_A, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	assert_int_equal(state_grant_revoke(f->st, gid, "bob"), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7", now), 0);
	assert_int_equal(has_win(f->st, "alice", "mri", "192.0.2.7", now), 1);
	assert_int_equal(state_grant_revoke(f->st, gid, "bob"), BERR_EXISTS);

	/* a kill closes the engineer's windows for that session's device */
	s = sess(31, "alice", "mri", 0);
	assert_int_equal(state_session_start(f->st, &s, &sid), 0);
	w = win("alice", "ct", "192.0.2.7", FP_A, 0, now + 300);
	assert_int_equal(state_touch_window_open(f->st, &w), 0);
	assert_int_equal(state_session_kill(f->st, 31, "bob", "stop", NULL),
	    0);
	assert_int_equal(has_win(f->st, "alice", "mri", "192.0.2.7", now), 0);
	assert_int_equal(has_win(f->st, "alice", "ct", "192.0.2.7", now), 1);
}

static int
count_cred(const struct state_web_cred *w, void *arg)
{
	(void)w;
	(*(int *)arg)++;
	return (0);
}

/* The web console's rows: a challenge is consumed once, within its time,
 * by its person and kind; a session lives until idle or absolute expiry
 * or its end; a credential id is enrolled once. */
static void
test_web_tables(void **state)
{
	struct fixture *f = *state;
	struct state_web_challenge ch, got;
	struct state_web_session ws, wg;
	struct state_web_cred wc;
	time_t now = time(NULL);
	int found, n = 0;

	memset(&ch, 0, sizeof(ch));
	snprintf(ch.hash, sizeof(ch.hash), "%064d", 1);
	snprintf(ch.person, sizeof(ch.person), "bob");
	snprintf(ch.kind, sizeof(ch.kind), "action");
	snprintf(ch.data, sizeof(ch.data), "Y2Fub25pY2Fs");
	ch.not_after = now + 120;
	assert_int_equal(state_web_challenge_put(f->st, &ch), 0);
	/* another person or kind does not find it */
	assert_int_equal(state_web_challenge_take(f->st, ch.hash, "carol",
	    "action", now, &got, &found), 0);
	assert_false(found);
	assert_int_equal(state_web_challenge_take(f->st, ch.hash, "bob",
	    "login", now, &got, &found), 0);
	assert_false(found);
	/* past its time it is gone */
	assert_int_equal(state_web_challenge_take(f->st, ch.hash, "bob",
	    "action", now + 121, &got, &found), 0);
	assert_false(found);
	assert_int_equal(state_web_challenge_take(f->st, ch.hash, "bob",
	    "action", now, &got, &found), 0);
	assert_true(found);
	assert_string_equal(got.data, "Y2Fub25pY2Fs");
	/* the second take finds nothing: single use */
	assert_int_equal(state_web_challenge_take(f->st, ch.hash, "bob",
	    "action", now, &got, &found), 0);
	assert_false(found);

	memset(&ws, 0, sizeof(ws));
	snprintf(ws.hash, sizeof(ws.hash), "%064d", 2);
	snprintf(ws.person, sizeof(ws.person), "bob");
	snprintf(ws.role, sizeof(ws.role), "admin");
	ws.created = ws.last_used = now;
	ws.idle_until = now + 900;
	ws.abs_until = now + 8 * 3600;
	assert_int_equal(state_web_session_new(f->st, &ws), 0);
	assert_int_equal(state_web_session_touch(f->st, ws.hash, now + 800,
	    now + 1700, &wg, &found), 0);
	assert_true(found);
	assert_string_equal(wg.person, "bob");
	assert_int_equal(wg.idle_until, now + 1700);
	/* idle past the renewed limit: dead */
	assert_int_equal(state_web_session_touch(f->st, ws.hash, now + 1701,
	    now + 2600, &wg, &found), 0);
	assert_false(found);
	/* renewal never passes the absolute limit */
	snprintf(ws.hash, sizeof(ws.hash), "%064d", 3);
	assert_int_equal(state_web_session_new(f->st, &ws), 0);
	assert_int_equal(state_web_session_touch(f->st, ws.hash, now + 10,
	    now + 9 * 3600, &wg, &found), 0);
	assert_true(found);
	assert_int_equal(wg.idle_until, now + 8 * 3600);
	assert_int_equal(state_web_session_end(f->st, ws.hash), 0);
	assert_int_equal(state_web_session_touch(f->st, ws.hash, now + 20,
	    now + 900, &wg, &found), 0);
	assert_false(found);

	memset(&wc, 0, sizeof(wc));
	snprintf(wc.person, sizeof(wc.person), "bob");
	snprintf(wc.cred_id, sizeof(wc.cred_id), "AAEC");
	snprintf(wc.pubkey, sizeof(wc.pubkey), "04ab");
	wc.alg = -7;
	wc.created = now;
	assert_int_equal(state_web_cred_put(f->st, &wc), 0);
	assert_int_equal(state_web_cred_put(f->st, &wc), BERR_EXISTS);
	assert_int_equal(state_web_cred_each(f->st, "bob", count_cred, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(state_web_cred_each(f->st, "carol", count_cred, &n),
	    0);
	assert_int_equal(n, 0);

	/* failed sign-ins: counted per person from a time on */
	size_t nf = 9;

	assert_int_equal(state_web_login_fail(f->st, "bob", now - 100), 0);
	assert_int_equal(state_web_login_fail(f->st, "bob", now), 0);
	assert_int_equal(state_web_login_fail(f->st, "carol", now), 0);
	assert_int_equal(state_web_login_fails(f->st, "bob", now - 900, &nf),
	    0);
	assert_int_equal(nf, 2);
	assert_int_equal(state_web_login_fails(f->st, "bob", now - 50, &nf),
	    0);
	assert_int_equal(nf, 1);
	assert_int_equal(state_web_login_fails(f->st, "dave", 0, &nf), 0);
	assert_int_equal(nf, 0);
}

/* Close the store and take its file back to what a version-2 program
 * wrote: no session, engineer_lock, touch_window or key_guard table. */
static void
close_as_v2(struct fixture *f)
{
	state_close(f->st);
	f->st = NULL;
	raw_exec(f, FIXTURE_SQL("DROP TABLE session; DROP TABLE engineer_lock; "
	    "DROP TABLE touch_window; DROP TABLE key_guard; "
	    "DROP TABLE web_credential; DROP TABLE web_session; "
	    "DROP TABLE web_challenge; DROP TABLE web_login_fail; "
	    "DROP TABLE file_export; "
	    "DROP TABLE audit_checkpoint; DROP TABLE audit_node_key; "
	    "DROP TABLE node_heartbeat; "
	    "DROP TABLE file_decl; DROP TABLE file_decl_file; "
	    "DROP TABLE peer_watch; DROP TABLE peer_watch_chunk; "
	    "PRAGMA user_version = 2",
	    "DROP TABLE session; DROP TABLE engineer_lock; "
	    "DROP TABLE touch_window; DROP TABLE key_guard; "
	    "DROP TABLE web_credential; DROP TABLE web_session; "
	    "DROP TABLE web_challenge; DROP TABLE web_login_fail; "
	    "DROP TABLE file_export; "
	    "DROP TABLE audit_checkpoint; DROP TABLE audit_node_key; "
	    "DROP TABLE node_heartbeat; "
	    "DROP TABLE file_decl; DROP TABLE file_decl_file; "
	    "DROP TABLE peer_watch; DROP TABLE peer_watch_chunk; "
	    "UPDATE bastion_schema SET version = 2"));
}

static void
test_upgrade_from_v2(void **state)
{
	struct fixture *f = *state;
	struct state_request r;
	struct state_session s;
	int64_t id, sid;
	int found;

	assert_int_equal(state_request_create(f->st, "gina", "globex", "pacs",
	    "ticket 1", &id), 0);
	close_as_v2(f);
	assert_int_equal(state_open(f->dir, &f->st), 0);
	assert_int_equal(state_request_get(f->st, id, &r, &found), 0);
	assert_true(found);
	assert_string_equal(r.reason, "ticket 1");
	s = sess(1, "alice", "ct-scanner", 0);
	assert_int_equal(state_session_start(f->st, &s, &sid), 0);
	assert_int_equal(state_engineer_lock(f->st, "alice", "bob", "x"), 0);
	assert_int_equal(raw_int(f, FIXTURE_SQL("PRAGMA user_version",
	    "SELECT version FROM bastion_schema")), 12);
}

/* Several nodes on one store: each row names its node; a node starting
 * ends its own rows (and unnamed ones from before), not the others'. */
static void
test_session_nodes(void **state)
{
	struct fixture *f = *state;
	struct state_session s, got;
	int64_t id;
	size_t n;
	int found, live;

	s = sess(31, "alice", "ct-scanner", 0);
	snprintf(s.node, sizeof(s.node), "bastion-a");
	assert_int_equal(state_session_start(f->st, &s, &id), 0);
	s = sess(32, "gina", "pacs", 0);
	snprintf(s.node, sizeof(s.node), "bastion-b");
	assert_int_equal(state_session_start(f->st, &s, &id), 0);
	s = sess(33, "gina", "pacs", 0);	/* written before names */
	assert_int_equal(state_session_start(f->st, &s, &id), 0);
	assert_int_equal(state_session_get(f->st, 32, &got, &found), 0);
	assert_true(found);
	assert_string_equal(got.node, "bastion-b");

	assert_int_equal(state_session_end_open(f->st, "bastion-a",
	    "bastiond restarted", NULL, NULL, &n), 0);
	assert_int_equal(n, 2);
	live = 0;
	assert_int_equal(state_session_each(f->st, 0, 0, count_cb, &live), 0);
	assert_int_equal(live, 1);
	assert_int_equal(state_session_get(f->st, 32, &got, &found), 0);
	assert_int_equal(got.ended, 0);		/* B's session goes on */
	assert_int_equal(state_session_get(f->st, 31, &got, &found), 0);
	assert_string_equal(got.end_reason, "bastiond restarted");
	assert_int_equal(state_session_end_open(f->st, NULL, "x", NULL, NULL,
	    &n), BERR_INVAL);
}

/* pam_bastion.so refuses a locked engineer; an older store has no such
 * table and no such lock. */
static void
test_pam_sees_engineer_lock(void **state)
{
	struct fixture *f = *state;
	struct locks_hit hit;
	char err[256];
	int locked, absent;

	assert_int_equal(locks_check(f->dir, "alice", NULL, 0, &locked,
	    &absent, &hit, err, sizeof(err)), 0);
	assert_false(locked);
	assert_int_equal(state_engineer_lock(f->st, "alice", "bob",
	    "ticket 9"), 0);
	assert_int_equal(locks_check(f->dir, "alice", NULL, 0, &locked,
	    &absent, &hit, err, sizeof(err)), 0);
	assert_true(locked);
	assert_string_equal(hit.engineer, "alice");
	assert_string_equal(hit.reason, "locked by bob: ticket 9");
	assert_int_equal(locks_check(f->dir, "gina", NULL, 0, &locked,
	    &absent, &hit, err, sizeof(err)), 0);
	assert_false(locked);
	/* a version-2 store */
	close_as_v2(f);
	assert_int_equal(locks_check(f->dir, "alice", NULL, 0, &locked,
	    &absent, &hit, err, sizeof(err)), 0);
	assert_false(locked);
}

/* File export requests (issue 18): filed, listed, decided once. */
static int
export_count(const struct state_export *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return (0);
}

static void
test_file_exports(void **state)
{
	struct fixture *f = *state;
	struct state_export e, got;
	int64_t id = 0, id2 = 0;
	int found = 1, n = 0;

	export_fixture(&e, "/var/log/pacs/ü 1.log", 300000, 0xabc);
	assert_int_equal(state_export_create(f->st, &e, &id), 0);
	assert_true(id > 0);
	assert_int_equal(state_export_create(f->st, &e, &id2), 0);
	assert_true(id2 > id);
	e.size = -1;
	assert_int_equal(state_export_create(f->st, &e, &id2), BERR_INVAL);

	assert_int_equal(state_export_get(f->st, id, &got, &found), 0);
	assert_true(found);
	assert_string_equal(got.path, "/var/log/pacs/ü 1.log");
	assert_int_equal(got.size, 300000);
	assert_string_equal(got.sha256, e.sha256);
	assert_string_equal(got.status, STATE_REQ_PENDING);
	assert_string_equal(got.session, "17");
	assert_true(got.created > 0 && got.decided_at == 0);
	assert_int_equal(state_export_get(f->st, id + 100, &got, &found), 0);
	assert_false(found);

	assert_int_equal(state_export_each(f->st, STATE_REQ_PENDING, 0,
	    export_count, &n), 0);
	assert_int_equal(n, 2);

	/* decided once: the second decision changes nothing */
	assert_int_equal(state_export_finish(f->st, id, STATE_REQ_DENIED,
	    "bob", "patient data"), 0);
	assert_int_equal(state_export_finish(f->st, id, STATE_REQ_APPROVED,
	    "dave", NULL), BERR_EXISTS);
	assert_int_equal(state_export_finish(f->st, id + 100,
	    STATE_REQ_APPROVED, "dave", NULL), BERR_NOTFOUND);
	assert_int_equal(state_export_finish(f->st, id, STATE_REQ_PENDING,
	    NULL, NULL), BERR_INVAL);
	assert_int_equal(state_export_get(f->st, id, &got, &found), 0);
	assert_string_equal(got.status, STATE_REQ_DENIED);
	assert_string_equal(got.decided_by, "bob");
	assert_string_equal(got.deny_reason, "patient data");
	assert_true(got.decided_at > 0);

	n = 0;
	assert_int_equal(state_export_each(f->st, STATE_REQ_PENDING, 0,
	    export_count, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(state_export_each(f->st, NULL, 1, export_count, &n),
	    0);
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counter_moves_forward_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_counter_zero_means_no_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enrollments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_guard_excludes_other_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_persistence_wal_and_version, setup, teardown),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_pg_password_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engineer_locks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_touch_windows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_web_tables, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_exports, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_session_nodes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v2, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pam_sees_engineer_lock,
		    setup, teardown),
	};

	log_init("test_state", 0, LOG_LVL_ERROR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
