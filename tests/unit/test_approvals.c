/*
 * test_approvals.c - verbs/approvals.c (what the admin verbs share),
 * verb_identity() (verbs/verb.c) and the approval tables of
 * store/state.c: durations, splitting command lines, four eyes (two
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
#include "text.h"
#include "verb.h"

#include "store_fixture.h"

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
	assert_non_null(verb_find("approve", VERB_ADMIN));
	assert_null(verb_find("ct-scanner", VERB_ADMIN));
	assert_null(verb_find(NULL, VERB_ADMIN));
}

static void
test_four_eyes(void **state)
{
	struct fixture *f = *state;
	struct state *st = f->st;
	struct state_request r;
	struct state_grant g;
	int64_t id, id2, gid = -1, other = -1;
	int found = 0;
	time_t now = time(NULL);

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
}

/* Every line of text (lines split at \n) is clean text: strict UTF-8
 * without C0, DEL or C1 controls. */
static void
assert_lines_clean(const char *text)
{
	const char *l = text, *nl;

	for (; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			nl = l + strlen(l) - 1;
		if (!text_is_clean(l, (size_t)(nl - l)))
			fail_msg("not clean: %.*s", (int)(nl - l), l);
		if (nl[0] == '\0' || nl[1] == '\0')
			break;
	}
}

/*
 * Issue 16, item 3: one function decides who the admin is. Over ssh the
 * authenticated policy admin; through bastionctl the admin whose
 * unix_user: is the caller's login, never by a name that merely matches.
 */
static void
test_identity(void **unused)
{
	struct policy_person admins[4];
	struct policy pol;
	struct verb_ctx c;
	const struct policy_person *p;

	(void)unused;
	memset(admins, 0, sizeof(admins));
	memset(&pol, 0, sizeof(pol));
	admins[0].name = "bob";
	admins[0].unix_user = "it-bob";
	admins[1].name = "dan";
	admins[1].unix_user = "root";
	admins[2].name = "eve";		/* disabled */
	admins[2].unix_user = "eve";
	admins[3].name = "fay";		/* expired */
	admins[3].unix_user = "fay";
	admins[3].valid_until = time(NULL) - 86400;
	admins[0].enabled = admins[1].enabled = admins[3].enabled = 1;
	pol.admins = admins;
	pol.nadmins = 4;
	memset(&c, 0, sizeof(c));
	c.pol = &pol;

	/* ssh: the authenticated admin */
	p = verb_identity(&c, "ssh", "bob");
	assert_ptr_equal(p, &admins[0]);
	assert_string_equal(c.admin, "bob");
	assert_string_equal(c.via, "ssh");
	assert_int_equal(c.admin_is_policy, 1);
	/* bastionctl: through unix_user */
	p = verb_identity(&c, "bastionctl", "it-bob");
	assert_ptr_equal(p, &admins[0]);
	assert_string_equal(c.admin, "bob");
	assert_string_equal(c.via, "bastionctl");
	assert_int_equal(c.admin_is_policy, 1);
	p = verb_identity(&c, "bastionctl", "root");
	assert_ptr_equal(p, &admins[1]);
	assert_string_equal(c.admin, "dan");
	/* no default: a login equal to a policy name does not map */
	assert_null(verb_identity(&c, "bastionctl", "bob"));
	assert_string_equal(c.admin, "bob");
	assert_int_equal(c.admin_is_policy, 0);
	assert_null(verb_identity(&c, "bastionctl", "nobody"));
	assert_string_equal(c.admin, "nobody");
	assert_int_equal(c.admin_is_policy, 0);
	/* a login over ssh is not looked up as a unix_user */
	assert_null(verb_identity(&c, "ssh", "it-bob"));
	assert_int_equal(c.admin_is_policy, 0);
	/* disabled or expired admins count as nobody */
	assert_null(verb_identity(&c, "bastionctl", "eve"));
	assert_null(verb_identity(&c, "ssh", "eve"));
	assert_null(verb_identity(&c, "bastionctl", "fay"));
	assert_int_equal(c.admin_is_policy, 0);

	assert_true(policy_unix_user_ok("root"));
	assert_true(policy_unix_user_ok("it-bob"));
	assert_true(policy_unix_user_ok("_svc"));
	assert_true(policy_unix_user_ok("host$"));
	assert_false(policy_unix_user_ok(""));
	assert_false(policy_unix_user_ok("Bob"));
	assert_false(policy_unix_user_ok("1bob"));
	assert_false(policy_unix_user_ok("-bob"));
	assert_false(policy_unix_user_ok("bob smith"));
	assert_false(policy_unix_user_ok("a$b"));
	assert_false(policy_unix_user_ok("abcdefghijklmnopqrstuvwxyz0123456"));
}

/* Run a verb, its output and errors into *out and *err (caller frees). */
static int
run_verb(struct state *st, char **out, char **err, int argc, char **argv)
{
	struct verb_ctx c;
	size_t olen = 0, elen = 0;
	int r;

	verb_ctx_init(&c, NULL, VERB_ADMIN, "ssh", "bob",
	    open_memstream(out, &olen), open_memstream(err, &elen));
	assert_non_null(c.out);
	assert_non_null(c.err);
	c.st = st;
	r = verb_exec(&c, verb_find(argv[0], VERB_ADMIN), argc, argv);
	fclose(c.out);
	fclose(c.err);
	return (r);
}

/* `requests` (with option opt, if not NULL) succeeds, and its output holds
 * want and is clean text on every line. */
static void
assert_requests_show(struct state *st, const char *opt, const char *want)
{
	char *argv[] = { "requests", (char *)opt, NULL };
	char *out, *err;

	assert_int_equal(run_verb(st, &out, &err, opt != NULL ? 2 : 1, argv),
	    0);
	assert_non_null(strstr(out, want));
	assert_lines_clean(out);
	free(out);
	free(err);
}

/*
 * Issue 13, item 6: an engineer's reason carrying a raw C1 CSI (0x9b), an
 * encoded one (U+009B), ESC sequences, DEL and bytes that are not UTF-8
 * reaches the admin's requests table and JSON inert; an admin's deny
 * reason, which the engineer sees, must be clean text.
 */
static void
test_reasons_shown_clean(void **state)
{
	static const char reason[] = "fix CT \x9b" "2J\xc2\x9b" "31m"
	    "\x1b]0;owned\a\x7f\xff done";
	struct fixture *f = *state;
	struct state *st = f->st;
	char *out, *err;
	int64_t id;

	assert_int_equal(state_request_create(st, "gina", "globex\x9b", "pacs",
	    reason, &id), 0);

	/* the table keeps under 100 columns: the reason is cut, cleaned */
	assert_requests_show(st, NULL, "fix CT ?2J?31m?]0;");
	/* --wide: nothing cut */
	assert_requests_show(st, "--wide", "fix CT ?2J?31m?]0;owned??? done");
	assert_requests_show(st, "--json", "\"fix CT \\ufffd2J\\u009b31m"
	    "\\u001b]0;owned\\u0007\\u007f\\ufffd done\"");

	/* the deny reason reaches the engineer's terminal */
	assert_int_equal(run_verb(st, &out, &err, 3, (char *[]){ "deny", "1",
	    "no\x1b[2Jticket", NULL }), 2);
	assert_non_null(strstr(err, "without control characters"));
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_four_eyes, setup,
		    teardown),
		cmocka_unit_test(test_identity),
		cmocka_unit_test_setup_teardown(test_reasons_shown_clean, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
