/*
 * test_nodebeat.c - the nodes' heartbeats and the lost mark of a silent
 * node's sessions (store/nodebeat.c), on the store of the fixture
 * (SQLite, or PostgreSQL under make check-unit-pg): only open sessions
 * of nodes whose heartbeat is too old are marked, each once (the first
 * caller gets it), nothing is ended, a node that beats again clears its
 * own rows' mark, and a node that never beat is left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "nodebeat.h"

#include "store_fixture.h"

static int64_t
start(struct state *st, int64_t sid, const char *node)
{
	struct state_session s;
	int64_t id = 0;

	memset(&s, 0, sizeof(s));
	s.sid = sid;
	s.pid = 4242;
	snprintf(s.engineer, sizeof(s.engineer), "alice");
	snprintf(s.vendor, sizeof(s.vendor), "acme");
	snprintf(s.device, sizeof(s.device), "ct-scanner");
	snprintf(s.source, sizeof(s.source), "192.0.2.7");
	snprintf(s.recording, sizeof(s.recording), "/rec/%lld.brec",
	    (long long)sid);
	snprintf(s.node, sizeof(s.node), "%s", node);
	assert_int_equal(state_session_start(st, &s, &id), 0);
	return (id);
}

struct marked {
	int64_t sid[8];
	char node[8][64];
	time_t seen[8];
	size_t n;
};

static void
mark_cb(const struct nodebeat_lost *l, void *arg)
{
	struct marked *m = arg;

	assert_true(m->n < 8);
	m->sid[m->n] = l->sid;
	snprintf(m->node[m->n], sizeof(m->node[m->n]), "%s", l->node);
	m->seen[m->n] = l->seen;
	m->n++;
}

static int
lost_of(struct state *st, int64_t sid)
{
	struct state_session s;
	int found = 0;

	assert_int_equal(state_session_get(st, sid, &s, &found), 0);
	assert_true(found);
	assert_int_equal(s.ended, 0);	/* never ended by this */
	return (s.lost);
}

static void
test_lost_once(void **state)
{
	struct fixture *f = *state;
	struct marked m = { .n = 0 };
	size_t back = 99;
	int64_t ended;

	start(f->st, 1, "node-a");
	start(f->st, 2, "node-b");
	ended = start(f->st, 3, "node-a");
	start(f->st, 4, "node-c");	/* never beat: left alone */
	assert_int_equal(state_session_end(f->st, ended, "done"), 0);
	assert_int_equal(state_node_beat(f->st, "node-a", 1000, &back), 0);
	assert_int_equal(back, 0);
	assert_int_equal(state_node_beat(f->st, "node-b", 1000, NULL), 0);
	/* b is alive at 1100, a silent since 1000 */
	assert_int_equal(state_node_beat(f->st, "node-b", 1100, NULL), 0);
	assert_int_equal(state_node_lost(f->st, "node-b", 1050, mark_cb, &m),
	    0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.sid[0], 1);
	assert_string_equal(m.node[0], "node-a");
	assert_int_equal(m.seen[0], 1000);
	assert_int_equal(lost_of(f->st, 1), 1);
	assert_int_equal(lost_of(f->st, 2), 0);
	assert_int_equal(lost_of(f->st, 4), 0);
	/* a second node noticing later marks nothing again */
	m.n = 0;
	assert_int_equal(state_node_lost(f->st, "node-c", 1050, mark_cb, &m),
	    0);
	assert_int_equal(m.n, 0);
	/* a node never marks its own */
	assert_int_equal(state_node_lost(f->st, "node-b", 2000, mark_cb, &m),
	    0);
	assert_int_equal(m.n, 0);
	assert_int_equal(lost_of(f->st, 2), 0);
	/* a beats again: its session is live again */
	assert_int_equal(state_node_beat(f->st, "node-a", 1200, &back), 0);
	assert_int_equal(back, 1);
	assert_int_equal(lost_of(f->st, 1), 0);
	/* the listing carries the mark */
	m.n = 0;
	assert_int_equal(state_node_lost(f->st, "node-b", 1300, mark_cb, &m),
	    0);
	assert_int_equal(m.n, 1);
	assert_int_equal(lost_of(f->st, 1), 1);
}

static void
test_refuses(void **state)
{
	struct fixture *f = *state;
	struct marked m = { .n = 0 };

	assert_int_equal(state_node_beat(f->st, "", 1, NULL), BERR_INVAL);
	assert_int_equal(state_node_lost(f->st, NULL, 1, mark_cb, &m),
	    BERR_INVAL);
	assert_int_equal(state_node_beat(NULL, "a", 1, NULL), BERR_DENIED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lost_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuses, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
