/*
 * test_store.c - the store interface (store/state.h over store/store.h) and
 * what its SQL backends (SQLite; PostgreSQL under make check-unit-pg)
 * promise every caller: typed values round-trip
 * (integers stored as integers, text with quotes as text), the counter's
 * compare-and-advance accepts each value once even when processes race,
 * concurrent writers from several processes lose no update, a read-only
 * open never creates or writes, the per-key guard is a lease that a dead
 * holder or an expired lease gives up, and bad arguments are refused.
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

#include "store_fixture.h"

#define NPROC	4

/* Run child(dir, n) in NPROC processes at once; each one's exit status
 * into status[]. */
static void
fork_all(const struct fixture *f, int (*child)(const char *, int), int n,
    int status[NPROC])
{
	pid_t pids[NPROC];
	int i, ws;

	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child(f->dir, n));
	}
	for (i = 0; i < NPROC; i++) {
		assert_int_equal(waitpid(pids[i], &ws, 0), pids[i]);
		assert_true(WIFEXITED(ws));
		status[i] = WEXITSTATUS(ws);
	}
}

static void
test_typed_values_round_trip(void **state)
{
	struct fixture *f = *state;
	struct state_session s, got;
	struct state_enrollment e;
	struct state_request req;
	int64_t id, rid, gid;
	int found;

	memset(&s, 0, sizeof(s));
	s.sid = INT64_C(1) << 40;
	s.pid = 2147483000;
	s.grant_id = INT64_C(9007199254740993);	/* not a double */
	s.started = (time_t)4102444800;		/* 2100-01-01 */
	snprintf(s.engineer, sizeof(s.engineer), "o'brien\"; DROP TABLE x;--");
	snprintf(s.vendor, sizeof(s.vendor), "ベンダー");
	snprintf(s.device, sizeof(s.device), "ct-1");
	snprintf(s.source, sizeof(s.source), "2001:db8::1");
	snprintf(s.recording, sizeof(s.recording), "/var/lib/x y/%%s.rec");
	assert_int_equal(state_session_start(f->st, &s, &id), 0);
	assert_int_equal(state_session_get(f->st, s.sid, &got, &found), 0);
	assert_true(found);
	assert_int_equal(got.id, id);
	assert_int_equal(got.sid, s.sid);
	assert_int_equal(got.pid, s.pid);
	assert_int_equal(got.grant_id, s.grant_id);
	assert_int_equal((int64_t)got.started, (int64_t)s.started);
	assert_string_equal(got.engineer, s.engineer);
	assert_string_equal(got.vendor, s.vendor);
	assert_string_equal(got.recording, s.recording);
	/* integers are stored as integers, not as text */
	assert_int_equal(raw_int(f, FIXTURE_SQL("SELECT count(*) FROM session "
	    "WHERE typeof(sid) = 'integer' AND typeof(pid) = 'integer' AND "
	    "typeof(grant_id) = 'integer' AND typeof(started) = 'integer'",
	    "SELECT count(*) FROM session WHERE pg_typeof(sid) = "
	    "'bigint'::regtype AND pg_typeof(pid) = 'bigint'::regtype AND "
	    "pg_typeof(grant_id) = 'bigint'::regtype AND pg_typeof(started) = "
	    "'bigint'::regtype")), 1);

	memset(&e, 0, sizeof(e));
	snprintf(e.fp, sizeof(e.fp), "%s", FP_A);
	snprintf(e.engineer, sizeof(e.engineer), "alice");
	snprintf(e.key_type, sizeof(e.key_type), "sk-ssh-ed25519@openssh.com");
	e.key_line = (char *)"sk-ssh-ed25519@openssh.com AAAA 'c'";
	e.attested = 1;
	assert_int_equal(state_enroll_put(f->st, &e), 0);
	assert_int_equal(state_key_lock(f->st, FP_A, "alice", "clone?"), 0);
	assert_int_equal(state_counter_advance(f->st, FP_A, UINT32_MAX, NULL,
	    NULL), 0);
	assert_int_equal(state_request_create(f->st, "alice", "acme", "ct-1",
	    NULL, &rid), 0);
	assert_int_equal(state_request_approve(f->st, rid, "bob", 7200, 1,
	    &gid), 0);
	assert_true(gid > 0);
	assert_int_equal(state_request_get(f->st, rid, &req, &found), 0);
	assert_string_equal(req.status, STATE_REQ_APPROVED);
	assert_int_equal(req.napprovals, 1);
	assert_int_equal(raw_int(f, "SELECT counter FROM key_counter"),
	    UINT32_MAX);
	assert_int_equal(raw_int(f, FIXTURE_SQL("SELECT (SELECT "
	    "typeof(attested) || typeof(enrolled_at) FROM enrollment) || "
	    "(SELECT typeof(locked_at) FROM key_lock) || (SELECT "
	    "typeof(duration) || typeof(approved_at) FROM request_approval) || "
	    "(SELECT typeof(until) FROM access_grant) = 'integerintegerinteger"
	    "integerintegerinteger'",
	    "SELECT count(*) = 6 FROM information_schema.columns WHERE "
	    "data_type = 'bigint' AND (table_name, column_name) IN "
	    "(('enrollment', 'attested'), ('enrollment', 'enrolled_at'), "
	    "('key_lock', 'locked_at'), ('request_approval', 'duration'), "
	    "('request_approval', 'approved_at'), ('access_grant', 'until'))")),
	    1);
}

/* Each child advances the same key through 1..n; returns its wins. */
static int
race_counter(const char *dir, int n)
{
	struct state *st = NULL;
	int c;
	int wins = 0, r;

	if (state_open(dir, &st) != 0)
		return (255);
	for (c = 1; c <= n; c++) {
		r = state_counter_advance(st, FP_A, (uint32_t)c, NULL, NULL);
		if (r == 0)
			wins++;
		else if (r != BERR_DENIED) {
			wins = 254;
			break;
		}
	}
	state_close(st);
	return (wins);
}

static void
test_counter_race_accepts_each_value_once(void **state)
{
	struct fixture *f = *state;
	uint32_t c;
	int i, status[NPROC], total = 0, found;

	fork_all(f, race_counter, 60, status);
	for (i = 0; i < NPROC; i++) {
		assert_true(status[i] <= 60);
		total += status[i];
	}
	/* no value was accepted twice, and the last one stands */
	assert_true(total >= 1 && total <= 60);
	assert_int_equal(state_counter_get(f->st, FP_A, &c, &found), 0);
	assert_int_equal(c, 60);
	/* going back is refused, and reports what is stored */
	{
		uint32_t prev = 0;
		int had = 0;

		assert_int_equal(state_counter_advance(f->st, FP_A, 59, &prev,
		    &had), BERR_DENIED);
		assert_true(had);
		assert_int_equal(prev, 60);
	}
}

static int
writer(const char *dir, int n)
{
	struct state *st = NULL;
	int64_t id;
	char who[32];
	int i;

	if (state_open(dir, &st) != 0)
		return (10);
	snprintf(who, sizeof(who), "eng%d", (int)getpid());
	for (i = 0; i < n; i++)
		if (state_request_create(st, who, "acme", "ct-1", "r", &id) !=
		    0 || state_engineer_lock(st, who, "bob", "x") !=
		    (i == 0 ? 0 : BERR_EXISTS))
			return (11);
	state_close(st);
	return (0);
}

static int
count_req(const struct state_request *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return (0);
}

static void
test_concurrent_writers_lose_nothing(void **state)
{
	struct fixture *f = *state;
	int i, status[NPROC], n = 0;

	fork_all(f, writer, 40, status);
	for (i = 0; i < NPROC; i++)
		assert_int_equal(status[i], 0);
	assert_int_equal(state_request_each(f->st, NULL, 0, count_req, &n), 0);
	assert_int_equal(n, NPROC * 40);
	assert_int_equal(raw_int(f, "SELECT count(DISTINCT id) FROM request"),
	    NPROC * 40);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM engineer_lock"),
	    NPROC);
}

static void
test_read_only_open_never_writes(void **state)
{
	struct fixture *f = *state;
	struct state *ro = NULL;
	struct state_guard *g = NULL;
	struct state_lock lk;
	struct stat sb;
	char why[256], missing[PATH_MAX + 16];
	int64_t id;
	int locked;

	/* no store: nothing created */
	snprintf(missing, sizeof(missing), "%s/none", f->dir);
	assert_int_equal(mkdir(missing, 0700), 0);
	if (fixture_pg() != NULL) {
		/* an empty database: no tables made */
		state_close(f->st);
		f->st = NULL;
		raw_exec(f, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	}
	assert_int_equal(state_open_ro(missing, &ro, why, sizeof(why)),
	    BERR_NOTFOUND);
	assert_null(ro);
	snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
	    "/%s", STATE_FILE);
	assert_int_equal(stat(missing, &sb), -1);
	if (fixture_pg() != NULL) {
		assert_int_equal(raw_int(f, "SELECT count(*) FROM pg_tables "
		    "WHERE schemaname = 'public'"), 0);
		assert_int_equal(state_open(f->dir, &f->st), 0);
	}

	assert_int_equal(state_key_lock(f->st, FP_A, "alice", "clone?"), 0);
	assert_int_equal(state_open_ro(f->dir, &ro, why, sizeof(why)), 0);
	assert_int_equal(state_key_locked(ro, FP_A, &locked, &lk), 0);
	assert_true(locked);
	assert_string_equal(lk.reason, "clone?");
	assert_int_equal(state_key_lock_oldest(ro, "alice", &locked, NULL), 0);
	assert_true(locked);
	/* every write is refused, nothing changes */
	assert_int_equal(state_key_lock(ro, "SHA256:x", "gina", "y"),
	    BERR_DENIED);
	assert_int_equal(state_request_create(ro, "a", "b", "c", NULL, &id),
	    BERR_DENIED);
	assert_int_equal(state_counter_advance(ro, FP_A, 5, NULL, NULL),
	    BERR_DENIED);
	assert_int_equal(state_engineer_lock(ro, "alice", "bob", "x"),
	    BERR_DENIED);
	assert_int_equal(state_key_guard(ro, FP_A, 0, &g), BERR_DENIED);
	assert_null(g);
	state_close(ro);
	assert_int_equal(raw_int(f, "SELECT (SELECT count(*) FROM key_lock) + "
	    "(SELECT count(*) FROM request) + (SELECT count(*) FROM "
	    "key_counter) + (SELECT count(*) FROM engineer_lock)"), 1);

	/* not a store, and a store from the future */
	raw_exec(f, FIXTURE_SQL("PRAGMA user_version = 999",
	    "UPDATE bastion_schema SET version = 999"));
	assert_int_equal(state_open_ro(f->dir, &ro, why, sizeof(why)),
	    BERR_INTERNAL);
	assert_non_null(strstr(why, "newer than this program"));
}

static void
test_guard_lease_dead_or_expired(void **state)
{
	struct fixture *f = *state;
	struct state_guard *g = NULL;
	int status;
	pid_t pid;

	/* a holder that dies without releasing: taken over at once */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *st = NULL;
		struct state_guard *cg = NULL;

		if (state_open(f->dir, &st) != 0 ||
		    state_key_guard(st, FP_A, 0, &cg) != 0)
			_exit(1);
		_exit(0);	/* no release */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM key_guard"), 1);
	assert_int_equal(state_key_guard(f->st, FP_A, 0, &g), 0);
	state_guard_release(g);
	g = NULL;
	assert_int_equal(raw_int(f, "SELECT count(*) FROM key_guard"), 0);

	/* another node's live lease holds; an expired one does not */
	raw_exec(f, "INSERT INTO key_guard VALUES ('" FP_A "', "
	    "'elsewhere 1 1', 32503680000)");
	assert_int_equal(state_key_guard(f->st, FP_A, 60, &g), BERR_TIMEOUT);
	assert_null(g);
	raw_exec(f, "UPDATE key_guard SET until = 1");
	assert_int_equal(state_key_guard(f->st, FP_A, 0, &g), 0);
	state_guard_release(g);
}

/* Session numbers: a store shared by several nodes hands each out once
 * (PostgreSQL: two connections, as two nodes, never get the same); one
 * node's store (SQLite) has none to give. */
static void
test_session_numbers(void **state)
{
	struct fixture *f = *state;
	struct state *other = NULL;
	int64_t a = 0, b = 0, c = 0;

	if (fixture_pg() == NULL) {
		assert_int_equal(state_session_next_sid(f->st, &a),
		    BERR_NOTFOUND);
		assert_int_equal(a, 0);
		return;
	}
	assert_int_equal(state_open(f->dir, &other), 0);
	assert_int_equal(state_session_next_sid(f->st, &a), 0);
	assert_int_equal(state_session_next_sid(other, &b), 0);
	assert_int_equal(state_session_next_sid(f->st, &c), 0);
	assert_true(a > 0 && b > a && c > b);
	state_close(other);
	assert_int_equal(state_session_next_sid(NULL, &a), BERR_INVAL);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct state *st = (struct state *)1;
	struct state_grant g;
	size_t n = 7;
	int found = 1;

	assert_int_equal(state_open(NULL, &st), BERR_INVAL);
	assert_null(st);
	assert_int_equal(state_open(f->dir, NULL), BERR_INVAL);
	assert_int_equal(state_session_count(NULL, "x", &n), BERR_INVAL);
	assert_int_equal(n, 0);
	assert_int_equal(state_key_lock_count(f->st, NULL, &n), BERR_INVAL);
	assert_int_equal(state_grant_get(f->st, 1, &g, NULL), BERR_INVAL);
	assert_int_equal(state_grant_get(f->st, 99, &g, &found), 0);
	assert_false(found);
	assert_int_equal(state_request_approve(f->st, 99, "bob", 60, 1, NULL),
	    BERR_NOTFOUND);
	assert_int_equal(state_touch_window_expire(NULL, 0), BERR_INVAL);
	assert_string_equal(state_errmsg(NULL), "no state store");
	state_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_typed_values_round_trip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_counter_race_accepts_each_value_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrent_writers_lose_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_read_only_open_never_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_guard_lease_dead_or_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_numbers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
		    teardown),
	};

	log_init("test_store", 0, LOG_LVL_ERROR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
