/*
 * test_store_actor.c - the store actor (store/store_actor.c) and its wire
 * (store_wire.c) and client (store_client.c): appends that arrive while a
 * commit waits are group-committed (one fdatasync for many) and the chain
 * verifies; audit_event() goes through the actor when one runs and
 * appends itself when none does; peers other than root are refused; a
 * malformed request ends only its own connection; decisions are pushed
 * to the subscribers of that kind and id and to the owner's loop, and not
 * to others; on PostgreSQL, a decision told to one node's actor reaches
 * the subscribers of another's; the wire decoder refuses what is not
 * exactly a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <uv.h>

#include "auditlog.h"
#include "err.h"
#include "log.h"
#include "state.h"
#include "store_actor.h"
#include "store_client.h"
#include "store_wire.h"

#include "store_fixture.h"

struct afix {
	struct fixture f;
	struct store_actor *a;
	char chain[PATH_MAX + 16];
};

static int
asetup(void **state)
{
	struct afix *x = calloc(1, sizeof(*x));
	void *inner;

	assert_non_null(x);
	assert_int_equal(setup(&inner), 0);
	x->f = *(struct fixture *)inner;
	free(inner);
	snprintf(x->chain, sizeof(x->chain), "%s/%s", x->f.dir, AUDITLOG_FILE);
	assert_int_equal(store_actor_start(x->f.dir, NULL, NULL, NULL, &x->a),
	    0);
	*state = x;
	return (0);
}

static int
ateardown(void **state)
{
	struct afix *x = *state;
	struct fixture *f = malloc(sizeof(*f));
	void *inner = f;

	store_actor_stop(x->a);
	auditlog_close();
	assert_non_null(f);
	*f = x->f;
	free(x);
	return (teardown(&inner));
}

static void
nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static void
send_append(int fd, const char *body)
{
	struct store_msg m;
	uint8_t out[STORE_MSG_MAX];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = STORE_MSG_APPEND;
	snprintf(m.text, sizeof(m.text), "%s", body);
	assert_int_equal(store_msg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(send(fd, out, len, 0), (ssize_t)len);
}

static void
test_group_commit(void **state)
{
	struct afix *x = *state;
	struct store_actor_stats st;
	struct auditlog_verify v;
	struct store_msg m;
	uint8_t in[STORE_MSG_MAX];
	char body[96];
	uint64_t last = 0;
	ssize_t n;
	int fd, lock, i;

	/* hold the chain's lock: the actor's first commit waits on it */
	assert_true((lock = open(x->chain, O_RDWR | O_CREAT, 0640)) >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0);
	assert_int_equal(store_client_connect(x->f.dir, &fd), 0);
	send_append(fd, "ts=2026-12-07T00:00:00.000Z event=test.first pid=1");
	nap_ms(150);
	for (i = 0; i < 20; i++) {
		snprintf(body, sizeof(body), "ts=2026-12-07T00:00:00.000Z "
		    "event=test.more pid=1 n=%d", i);
		send_append(fd, body);
	}
	nap_ms(150);
	flock(lock, LOCK_UN);
	close(lock);
	for (i = 0; i < 21; i++) {
		n = recv(fd, in, sizeof(in), 0);
		assert_true(n > 0);
		assert_int_equal(store_msg_decode(in, (size_t)n, &m), 0);
		assert_int_equal(m.type, STORE_MSG_APPENDED);
		assert_int_equal(m.seq, last + 1);	/* in order */
		last = m.seq;
	}
	close(fd);
	store_actor_stats(x->a, &st);
	assert_int_equal(st.appends, 21);
	/* the first commit, then the 20 that waited, in one */
	assert_int_equal(st.commits, 2);
	assert_int_equal(auditlog_verify_file(x->chain, &v), AUDITLOG_OK);
	assert_int_equal(v.lines, 21);
}

static void
test_audit_event_goes_through_the_actor(void **state)
{
	struct afix *x = *state;
	struct store_actor_stats st;
	struct auditlog_verify v;
	pid_t pid;
	int status, i;

	assert_int_equal(auditlog_open(x->f.dir, AUDITLOG_LAZY), 0);
	assert_int_equal(audit_event("bastion.stop", NULL), 0);
	/* several processes at once, each through its own connection */
	for (i = 0; i < 3; i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int k, bad = 0;

			for (k = 0; k < 20; k++)
				bad |= audit_event("bastion.stop",
				    NULL) != 0;
			_exit(bad);
		}
	}
	for (i = 0; i < 3; i++) {
		assert_true(wait(&status) > 0);
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	store_actor_stats(x->a, &st);
	assert_int_equal(st.appends, 61);
	/* no actor: the process appends itself, to the same chain */
	store_actor_stop(x->a);
	x->a = NULL;
	assert_int_equal(audit_event("bastion.start", "policy", "direct", NULL), 0);
	assert_int_equal(auditlog_verify_file(x->chain, &v), AUDITLOG_OK);
	assert_int_equal(v.lines, 62);
	assert_int_equal(store_actor_start(x->f.dir, NULL, NULL, NULL, &x->a),
	    0);
	assert_int_equal(audit_event("bastion.start", "policy", "again", NULL), 0);
	store_actor_stats(x->a, &st);
	assert_int_equal(st.appends, 1);
}

static void
test_other_users_are_refused(void **state)
{
	struct afix *x = *state;
	struct store_actor_stats st;
	char path[PATH_MAX + 32], hash[AUDITLOG_HEX_LEN + 1], err[128];
	uint64_t seq;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/%s", x->f.dir, STORE_SOCK_FILE);
	assert_int_equal(chmod(x->f.dir, 0711), 0);
	assert_int_equal(chmod(path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		if (store_client_connect(x->f.dir, &fd) != 0)
			_exit(11);
		_exit(store_client_append(fd, "ts=x event=test.nobody pid=1",
		    &seq, hash, err, sizeof(err)) == BERR_DENIED ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	store_actor_stats(x->a, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.appends, 0);
}

static void
test_malformed_request_ends_only_its_connection(void **state)
{
	struct afix *x = *state;
	static const uint8_t junk[][6] = {
		{ 9, 1, 0, 0, 0, 0 },		/* version */
		{ 1, 99, 0, 0, 0, 0 },		/* type */
		{ 1, STORE_MSG_APPEND, 0, 0, 0, 9 },	/* text runs over */
		{ 1, STORE_MSG_APPENDED, 0, 0, 0, 0 },	/* not a request */
	};
	struct store_actor_stats st;
	char hash[AUDITLOG_HEX_LEN + 1], err[128];
	uint8_t in[STORE_MSG_MAX], *big;
	uint64_t seq;
	size_t i;
	int fd, good;

	assert_int_equal(store_client_connect(x->f.dir, &good), 0);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		fixture_expect_ended(x->f.dir, junk[i], sizeof(junk[i]));
	/* longer than any message */
	assert_non_null(big = calloc(1, STORE_MSG_MAX + 100));
	big[0] = 1;
	big[1] = STORE_MSG_APPEND;
	assert_int_equal(store_client_connect(x->f.dir, &fd), 0);
	assert_int_equal(send(fd, big, STORE_MSG_MAX + 100, 0),
	    STORE_MSG_MAX + 100);
	assert_true(recv(fd, in, sizeof(in), 0) > 0);
	assert_int_equal(recv(fd, in, sizeof(in), 0), 0);
	close(fd);
	free(big);
	/* an event with a control character is refused, nothing else */
	assert_int_equal(store_client_append(good, "ts=x event=a\tb pid=1",
	    &seq, hash, err, sizeof(err)), BERR_INVAL);
	/* the others, old and new, are served */
	assert_int_equal(store_client_append(good, "ts=x event=test.ok pid=1",
	    &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 1);
	close(good);
	store_actor_stats(x->a, &st);
	assert_int_equal(st.violations, 5);
}

static int owner_calls;

static void
owner_decided(void *arg)
{
	(void)arg;
	owner_calls++;
	uv_stop(uv_default_loop());
}

static void
owner_timeout(uv_timer_t *t)
{
	(void)t;
	uv_stop(uv_default_loop());
}

static void
test_decisions_are_pushed(void **state)
{
	struct afix *x = *state;
	struct state_sub *mine = NULL, *other = NULL, *any = NULL;
	struct store_actor *owned = NULL;
	struct timespec t0, t1;
	uv_timer_t timer;
	int64_t id, id2;

	assert_int_equal(state_request_create(x->f.st, "alice", "acme", "ct",
	    NULL, &id), 0);
	assert_int_equal(state_request_create(x->f.st, "gina", "acme", "ct",
	    NULL, &id2), 0);
	assert_int_equal(state_subscribe(x->f.st, STATE_EV_REQUEST, id, &mine),
	    0);
	assert_int_equal(state_subscribe(x->f.st, STATE_EV_REQUEST, id2,
	    &other), 0);
	assert_int_equal(state_subscribe(x->f.st, STATE_EV_SESSION, 0, &any),
	    0);
	/* nothing decided: nothing comes */
	assert_int_equal(state_await(mine, 50), 0);
	/* a decision by another process reaches the subscriber of that id */
	if (fork() == 0) {
		struct state *st = NULL;

		_exit(state_open(x->f.dir, &st) != 0 ||
		    state_request_finish(st, id, STATE_REQ_DENIED, "bob",
		    "no ticket") != 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(state_await(mine, 5000), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(state_await(other, 100), 0);
	assert_int_equal(state_await(any, 10), 0);
	(void)wait(NULL);
	/* a refused decision (not pending any more) pushes nothing */
	assert_int_equal(state_request_finish(x->f.st, id, STATE_REQ_DENIED,
	    "bob", "again"), BERR_EXISTS);
	assert_int_equal(state_await(mine, 100), 0);
	state_unsubscribe(mine);
	state_unsubscribe(other);
	state_unsubscribe(any);
	state_unsubscribe(NULL);
	/* without an actor: no subscription, and await just waits */
	store_actor_stop(x->a);
	x->a = NULL;
	assert_int_equal(state_subscribe(x->f.st, STATE_EV_REQUEST, id, &mine),
	    BERR_NOTFOUND);
	assert_null(mine);
	assert_int_equal(state_await(NULL, 20), 0);
	/* the owner's loop hears of it on its own thread */
	assert_int_equal(store_actor_start(x->f.dir, uv_default_loop(),
	    owner_decided, NULL, &owned), 0);
	assert_int_equal(state_engineer_lock(x->f.st, "alice", "bob", "x"), 0);
	uv_timer_init(uv_default_loop(), &timer);
	uv_timer_start(&timer, owner_timeout, 5000, 0);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	assert_int_equal(owner_calls, 1);
	uv_close((uv_handle_t *)&timer, NULL);
	store_actor_stop(owned);
	uv_run(uv_default_loop(), UV_RUN_NOWAIT);
}

/* Two nodes on one PostgreSQL database (issue 20): a decision told to
 * one node's actor wakes a subscriber of the other's at once, through
 * LISTEN/NOTIFY; other ids stay asleep. */
static void
test_decisions_reach_other_nodes(void **state)
{
	struct afix *x = *state;
	struct store_actor *b = NULL;
	struct state *on_b = NULL;
	struct state_sub *mine = NULL, *other = NULL;
	struct timespec t0, t1;
	char dir_b[PATH_MAX], sql[128];
	int64_t id, id2;
	int i, woke;

	if (fixture_pg() == NULL) {
		print_message("PostgreSQL only (make check-unit-pg): SQLite "
		    "stores are one node each\n");
		skip();
	}
	snprintf(dir_b, sizeof(dir_b), "%.200s.b", x->f.dir);
	assert_int_equal(mkdir(dir_b, 0700), 0);
	assert_int_equal(store_actor_start(dir_b, NULL, NULL, NULL, &b), 0);
	assert_int_equal(state_open(dir_b, &on_b), 0);
	/* node A's request, seen from node B */
	assert_int_equal(state_request_create(x->f.st, "alice", "acme", "ct",
	    NULL, &id), 0);
	assert_int_equal(state_request_create(x->f.st, "gina", "acme", "ct",
	    NULL, &id2), 0);
	assert_int_equal(state_subscribe(on_b, STATE_EV_REQUEST, id, &mine),
	    0);
	assert_int_equal(state_subscribe(on_b, STATE_EV_REQUEST, id2, &other),
	    0);
	assert_int_equal(state_await(mine, 50), 0);
	/* decided on node A (its actor is told) */
	assert_int_equal(state_request_finish(x->f.st, id, STATE_REQ_DENIED,
	    "bob", "no ticket"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(state_await(mine, 5000), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(state_await(other, 200), 0);
	/* what is not a decision as the actors write them is dropped; one
	 * that is wakes the subscriber, whoever sent it */
	assert_int_equal(fixture_pg_sql("SELECT pg_notify("
	    "'bastion_decision', '1'), pg_notify('bastion_decision', '1 2 3'), "
	    "pg_notify('bastion_decision', '9 2'), pg_notify("
	    "'bastion_decision', '1 -2'), pg_notify('bastion_decision', "
	    "'1 99999999999999999999'), pg_notify('bastion_decision', "
	    "' 1 2'), pg_notify('bastion_decision', '1 +2'), "
	    "pg_notify('bastion_decision', '')") >= 0, 1);
	assert_int_equal(state_await(other, 300), 0);
	snprintf(sql, sizeof(sql), "SELECT pg_notify('bastion_decision', "
	    "'%d %lld')", STATE_EV_REQUEST, (long long)id2);
	assert_int_equal(fixture_pg_sql(sql) >= 0, 1);
	assert_int_equal(state_await(other, 5000), 1);
	/* the server drops every bastiond connection (a restart, a
	 * failover): node B's actor listens again by itself */
	(void)fixture_pg_sql("SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE application_name = 'bastiond'");
	for (i = 0, woke = 0; i < 40 && !woke; i++) {
		assert_int_equal(fixture_pg_sql(sql) >= 0, 1);
		woke = state_await(other, 500) == 1;
	}
	assert_true(woke);
	/* and the other way round: decided on B, heard on A */
	state_unsubscribe(mine);
	assert_int_equal(state_subscribe(x->f.st, STATE_EV_REQUEST, id2,
	    &mine), 0);
	assert_int_equal(state_request_finish(on_b, id2, STATE_REQ_DENIED,
	    "bob", "no ticket"), 0);
	assert_int_equal(state_await(mine, 5000), 1);
	state_unsubscribe(mine);
	state_unsubscribe(other);
	state_close(on_b);
	store_actor_stop(b);
	fixture_rmdir(dir_b);
}

static void
test_wire_refuses_what_is_not_a_message(void **state)
{
	struct store_msg m, back;
	uint8_t out[STORE_MSG_MAX];
	size_t len, cut;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = STORE_MSG_APPENDED;
	m.seq = UINT64_MAX;
	memset(m.hash, 'a', AUDITLOG_HEX_LEN);
	assert_int_equal(store_msg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(store_msg_decode(out, len, &back), 0);
	assert_int_equal(back.seq, UINT64_MAX);
	assert_string_equal(back.hash, m.hash);
	/* every truncation, and one byte more, is refused */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(store_msg_decode(out, cut, &back),
		    BERR_FORMAT);
	out[len] = 0;
	assert_int_equal(store_msg_decode(out, len + 1, &back), BERR_FORMAT);
	/* a hash that is not lowercase hex */
	out[len - 1] = 'G';
	assert_int_equal(store_msg_decode(out, len, &back), BERR_FORMAT);
	/* an unknown kind, an id out of range */
	memset(&m, 0, sizeof(m));
	m.type = STORE_MSG_NOTIFY;
	m.kind = STATE_EV_SESSION;
	m.id = 7;
	assert_int_equal(store_msg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(store_msg_decode(out, len, &back), 0);
	assert_int_equal(back.id, 7);
	out[2] = 0;
	assert_int_equal(store_msg_decode(out, len, &back), BERR_FORMAT);
	out[2] = STATE_EV_SESSION;
	out[3] = 0x80;
	assert_int_equal(store_msg_decode(out, len, &back), BERR_FORMAT);
	/* a text with a NUL in it */
	memset(&m, 0, sizeof(m));
	m.type = STORE_MSG_APPEND;
	snprintf(m.text, sizeof(m.text), "abc");
	assert_int_equal(store_msg_encode(&m, out, sizeof(out), &len), 0);
	out[len - 2] = '\0';
	assert_int_equal(store_msg_decode(out, len, &back), BERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, asetup,
		    ateardown),
		cmocka_unit_test_setup_teardown(
		    test_audit_event_goes_through_the_actor, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_other_users_are_refused,
		    asetup, ateardown),
		cmocka_unit_test_setup_teardown(
		    test_malformed_request_ends_only_its_connection, asetup,
		    ateardown),
		cmocka_unit_test_setup_teardown(test_decisions_are_pushed,
		    asetup, ateardown),
		cmocka_unit_test_setup_teardown(
		    test_decisions_reach_other_nodes, asetup, ateardown),
		cmocka_unit_test(test_wire_refuses_what_is_not_a_message),
	};

	log_init("test_store_actor", 0, LOG_LVL_ERROR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
