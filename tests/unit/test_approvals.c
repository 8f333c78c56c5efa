/*
 * test_approvals.c - common/approvals.c and the approval tables of
 * common/state.c: durations, splitting command lines, four eyes (two
 * distinct admins, the shortest duration wins), finishing only pending
 * requests, live grants and revocation.
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
#include <time.h>

#include "approvals.h"
#include "err.h"
#include "state.h"

static void
test_durations(void **unused)
{
	unsigned s;
	char buf[32];

	(void)unused;
	assert_int_equal(appr_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(appr_parse_duration("45m", &s), 0);
	assert_int_equal(s, 2700);
	assert_int_equal(appr_parse_duration("1h30m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(appr_parse_duration("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(appr_parse_duration("2h10s", &s), 0);
	assert_int_equal(s, 7210);
	assert_int_equal(appr_parse_duration("0", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("h", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("1h30", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("-5m", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("2w", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("400d", &s), BERR_FORMAT);
	assert_int_equal(appr_parse_duration("99999999999999999999", &s),
	    BERR_FORMAT);
	appr_duration_str(5400, buf, sizeof(buf));
	assert_string_equal(buf, "1h30m");
	appr_duration_str(90061, buf, sizeof(buf));
	assert_string_equal(buf, "1d1h1m1s");
	appr_duration_str(7200, buf, sizeof(buf));
	assert_string_equal(buf, "2h");
}

static void
test_split(void **unused)
{
	char **v = NULL;
	int n = 0;

	(void)unused;
	assert_int_equal(appr_split("  deny 42 \"no ticket\"  x\\ y '' ", &v,
	    &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0], "deny");
	assert_string_equal(v[1], "42");
	assert_string_equal(v[2], "no ticket");
	assert_string_equal(v[3], "x y");
	assert_string_equal(v[4], "");
	assert_null(v[5]);
	appr_free_words(v);
	assert_int_equal(appr_split("deny 'open", &v, &n), BERR_FORMAT);
	assert_null(v);
	assert_int_equal(appr_split("", &v, &n), 0);
	assert_int_equal(n, 0);
	appr_free_words(v);
	assert_true(appr_is_verb("approve"));
	assert_false(appr_is_verb("ct-scanner"));
	assert_false(appr_is_verb(NULL));
}

static void
test_four_eyes(void **unused)
{
	char dir[] = "/tmp/test_approvals.XXXXXX", cmd[PATH_MAX + 16];
	struct state *st = NULL;
	struct state_request r;
	struct state_grant g;
	int64_t id, id2, gid = -1, other = -1;
	int found = 0;
	time_t now = time(NULL);

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(state_open(dir, &st), 0);
	assert_int_equal(state_request_create(st, "gina", "globex", "pacs",
	    "ticket 4711", &id), 0);
	assert_true(id > 0);
	assert_int_equal(state_request_approve(st, id, "bob", 7200, 2, &gid),
	    0);
	assert_int_equal(gid, 0);		/* one is not enough */
	assert_int_equal(state_request_approve(st, id, "bob", 3600, 2, &gid),
	    BERR_DENIED);			/* the same admin twice */
	assert_int_equal(state_request_get(st, id, &r, &found), 0);
	assert_true(found);
	assert_string_equal(r.status, STATE_REQ_PENDING);
	assert_int_equal(r.napprovals, 1);
	assert_int_equal(state_grant_live(st, "gina", "pacs", now, &g,
	    &found), 0);
	assert_false(found);
	assert_int_equal(state_request_approve(st, id, "dave", 1800, 2, &gid),
	    0);
	assert_true(gid > 0);
	assert_int_equal(state_request_get(st, id, &r, &found), 0);
	assert_string_equal(r.status, STATE_REQ_APPROVED);
	assert_string_equal(r.decided_by, "bob,dave");
	assert_int_equal(state_grant_live(st, "gina", "pacs", now, &g,
	    &found), 0);
	assert_true(found);
	assert_int_equal(g.id, gid);
	assert_true(g.until >= now + 1800 && g.until <= now + 1810);
	assert_false(state_grant_live(st, "gina", "pacs", g.until, &g,
	    &found) != 0 || found);		/* ended */
	/* decided requests stay decided */
	assert_int_equal(state_request_approve(st, id, "erin", 60, 2,
	    &other), BERR_EXISTS);
	assert_int_equal(other, 0);
	assert_int_equal(state_request_finish(st, id, STATE_REQ_DENIED, "x",
	    "y"), BERR_EXISTS);
	assert_int_equal(state_request_finish(st, 999, STATE_REQ_DENIED, "x",
	    "y"), BERR_NOTFOUND);
	/* deny */
	assert_int_equal(state_request_create(st, "gina", "globex", "pacs",
	    NULL, &id2), 0);
	assert_int_equal(state_request_finish(st, id2, STATE_REQ_DENIED, "bob",
	    "no ticket"), 0);
	assert_int_equal(state_request_get(st, id2, &r, &found), 0);
	assert_string_equal(r.status, STATE_REQ_DENIED);
	assert_string_equal(r.deny_reason, "no ticket");
	/* revoke */
	assert_int_equal(state_grant_revoke(st, gid, "bob"), 0);
	assert_int_equal(state_grant_revoke(st, gid, "bob"), BERR_EXISTS);
	assert_int_equal(state_grant_revoke(st, 4242, "bob"), BERR_NOTFOUND);
	assert_int_equal(state_grant_live(st, "gina", "pacs", now, &g,
	    &found), 0);
	assert_false(found);
	state_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_four_eyes),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
