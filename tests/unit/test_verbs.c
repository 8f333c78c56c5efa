/*
 * test_verbs.c - the one verb table (verbs/verb.c) as every front end
 * uses it: lookup by name and alias, an unknown verb, a verb refused to a
 * front end that may not run it, argument errors with the usage made
 * from the table, help texts from the table, and a verb run end to end
 * through verb_ctx_init() and verb_exec() against a temporary state
 * store (issue 16, item 3).
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
#include "export_fixture.h"
#include "buf.h"
#include "err.h"
#include "policy.h"
#include "state.h"
#include "verb.h"

/* A front end in memory: output and errors into strings. */
struct front {
	struct verb_ctx c;
	char *out, *err;
	size_t olen, elen;
};

static void
front_open(struct front *f, const struct policy *pol, unsigned mask,
    const char *via, const char *name)
{
	memset(f, 0, sizeof(*f));
	verb_ctx_init(&f->c, pol, mask, via, name,
	    open_memstream(&f->out, &f->olen),
	    open_memstream(&f->err, &f->elen));
	assert_non_null(f->c.out);
	assert_non_null(f->c.err);
}

/* Run argv[0] as the front end finds it; output readable after. */
static int
front_run(struct front *f, int argc, char **argv)
{
	int r;

	r = verb_exec(&f->c, verb_find(argv[0], f->c.front), argc, argv);
	fflush(f->c.out);
	fflush(f->c.err);
	return (r);
}

static void
front_close(struct front *f)
{
	fclose(f->c.out);
	fclose(f->c.err);
	free(f->out);
	free(f->err);
}

static void
tmp_remove(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_lookup(void **unused)
{
	const struct cmd_entry *e;

	(void)unused;
	/* by name, for the front ends that may run it */
	assert_non_null(e = verb_find("approve", VERB_ADMIN));
	assert_string_equal(e->name, "approve");
	assert_ptr_equal(verb_find("approve", VERB_ADMIN | VERB_LOCAL), e);
	assert_non_null(verb_find("unlock", VERB_ADMIN));
	assert_non_null(verb_find("enroll", VERB_LOCAL));
	assert_non_null(verb_find("report", VERB_LOCAL));
	/* unknown verbs, devices, nothing */
	assert_null(verb_find("ct-scanner", VERB_ADMIN | VERB_LOCAL));
	assert_null(verb_find("", VERB_ADMIN));
	assert_null(verb_find(NULL, VERB_ADMIN));
	assert_null(verb_find("APPROVE", VERB_ADMIN));
	/* the wrong role or front end */
	assert_null(verb_find("approve", VERB_AUDITOR));
	assert_null(verb_find("approve", 0));
	assert_null(verb_find("enroll", VERB_ADMIN));	/* local only */
	assert_null(verb_find("keys", VERB_ADMIN));
	assert_null(verb_find("report", VERB_ADMIN | VERB_AUDITOR));
	assert_null(verb_find("recordings", VERB_ADMIN | VERB_LOCAL));
	assert_null(verb_find("kill", VERB_AUDITOR));
	/* by alias: the same entry */
	assert_non_null(e = verb_find("recordings", VERB_AUDITOR));
	assert_ptr_equal(verb_find("ls", VERB_AUDITOR), e);
	assert_null(verb_find("ls", VERB_ADMIN));
	assert_non_null(verb_find("export", VERB_AUDITOR));
}

/* A temporary directory dir and a policy of one admin (bob) and one
 * device (pacs) behind approval, its store there. */
static void
site_policy(struct policy *pol, struct policy_person admins[1],
    struct policy_device devs[1], char *dir)
{
	assert_non_null(mkdtemp(dir));
	memset(admins, 0, sizeof(admins[0]));
	memset(devs, 0, sizeof(devs[0]));
	memset(pol, 0, sizeof(*pol));
	admins[0].name = "bob";
	admins[0].enabled = 1;
	devs[0].name = "pacs";
	pol->admins = admins;
	pol->nadmins = 1;
	pol->devices = devs;
	pol->ndevices = 1;
	pol->state_dir = dir;
	pol->approval.required = 1;
	pol->approval_timeout = 3600;
	pol->default_max_grant = 7200;
}

/* The canonical action of words as describe gives it: into *out (a copy
 * the caller frees), its length in *len; the verb's status. */
static int
describe(struct front *f, int argc, char **argv, uint8_t **out, size_t *len)
{
	struct buf *canon = buf_new(4096);
	char *sum = NULL;
	size_t slen = 0;
	FILE *sf = open_memstream(&sum, &slen);
	int r;

	assert_non_null(canon);
	assert_non_null(sf);
	r = verb_describe(&f->c, verb_find(argv[0], f->c.front), argc, argv,
	    canon, sf);
	fclose(sf);
	*len = buf_len(canon);
	*out = malloc(*len + 1);
	assert_non_null(*out);
	memcpy(*out, buf_ptr(canon), *len);
	if (r == 0)
		assert_true(sum[0] == '{' && sum[slen - 1] == '}');
	free(sum);
	buf_free(canon);
	return (r);
}

/* The web console's canonical actions (issue 17): the same words on the
 * same row give the same bytes; another duration, reason or a changed
 * row gives others; a decided request gives none; a verb without a
 * describe cannot be approved in a browser. And the web identity: the
 * token's person, admins only deciding. */
static void
test_web_actions(void **unused)
{
	char dir[] = "/tmp/test_verbs_web.XXXXXX";
	struct policy_person admins[1], auditors[1];
	struct policy_device devs[1];
	struct policy pol;
	struct state *st;
	struct front f;
	uint8_t *a, *b;
	size_t alen, blen;
	int64_t id;

	(void)unused;
	site_policy(&pol, admins, devs, dir);
	memset(auditors, 0, sizeof(auditors));
	auditors[0].name = "carol";
	auditors[0].enabled = 1;
	pol.auditors = auditors;
	pol.nauditors = 1;
	assert_int_equal(state_open(dir, &st), 0);
	assert_int_equal(state_request_create(st, "gina", "globex", "pacs",
	    "ticket 4711", &id), 0);

	front_open(&f, &pol, VERB_ADMIN, "web", "bob");
	assert_string_equal(f.c.admin, "bob");
	assert_true(f.c.admin_is_policy);
	assert_int_equal(describe(&f, 3, (char *[]){ "approve", "1", "1h",
	    NULL }, &a, &alen), 0);
	assert_int_equal(describe(&f, 3, (char *[]){ "approve", "1", "60m",
	    NULL }, &b, &blen), 0);
	/* 1h and 60m are one duration: the same action */
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_non_null(memmem(a, alen, "ticket 4711", 11));
	free(b);
	assert_int_equal(describe(&f, 3, (char *[]){ "approve", "1", "2h",
	    NULL }, &b, &blen), 0);
	assert_true(alen != blen || memcmp(a, b, alen) != 0);
	free(b);
	/* describing decides nothing */
	assert_int_equal(front_run(&f, 1, (char *[]){ "requests", NULL }), 0);
	assert_non_null(strstr(f.out, "ticket 4711"));
	/* decided meanwhile: no action to describe */
	assert_int_equal(state_request_finish(st, id, STATE_REQ_DENIED, "dave",
	    "no"), 0);
	assert_int_equal(describe(&f, 3, (char *[]){ "approve", "1", "1h",
	    NULL }, &b, &blen), 1);
	free(b);
	/* a verb without describe */
	assert_null(verb_describer(verb_find("requests", VERB_ADMIN)));
	assert_int_equal(describe(&f, 1, (char *[]){ "requests", NULL }, &b,
	    &blen), 2);
	free(b);
	free(a);
	/* revoke: the grant row as it stands; revoked, no action */
	assert_int_equal(state_request_create(st, "gina", "globex", "pacs",
	    "t2", &id), 0);
	assert_int_equal(state_request_approve(st, id, "bob", 600, 1, &id),
	    0);
	assert_int_equal(describe(&f, 2, (char *[]){ "revoke", "1", NULL }, &a,
	    &alen), 0);
	assert_non_null(memmem(a, alen, "gina", 4));
	free(a);
	assert_int_equal(state_grant_revoke(st, 1, "dave"), 0);
	assert_int_equal(describe(&f, 2, (char *[]){ "revoke", "1", NULL }, &a,
	    &alen), 1);
	free(a);
	/* kill: no such session */
	assert_int_equal(describe(&f, 3, (char *[]){ "kill", "7", "stop",
	    NULL }, &a, &alen), 1);
	free(a);
	front_close(&f);

	/* an auditor on the web is carol, and never an admin */
	front_open(&f, &pol, VERB_AUDITOR, "web", "carol");
	assert_string_equal(f.c.admin, "carol");
	assert_false(f.c.admin_is_policy);
	front_close(&f);
	/* a disabled admin maps to nobody */
	admins[0].enabled = 0;
	front_open(&f, &pol, VERB_ADMIN, "web", "bob");
	assert_false(f.c.admin_is_policy);
	front_close(&f);
	state_close(st);
	tmp_remove(dir);
}

/* A console's line: words and the verb at once. */
static void
test_line(void **unused)
{
	char **argv = NULL;
	int argc = 0;

	(void)unused;
	assert_ptr_equal(verb_line(" deny 42 'no ticket' ", VERB_ADMIN, &argv,
	    &argc), verb_find("deny", VERB_ADMIN));
	assert_int_equal(argc, 3);
	assert_string_equal(argv[2], "no ticket");
	appr_free_words(argv);
	assert_null(verb_line("deny 42 'open", VERB_ADMIN, &argv, &argc));
	appr_free_words(argv);
	assert_null(verb_line("", VERB_ADMIN, &argv, &argc));
	appr_free_words(argv);
	assert_null(verb_line(NULL, VERB_ADMIN, &argv, &argc));
	assert_null(argv);
	assert_null(verb_line("ls", VERB_ADMIN, &argv, &argc));
	appr_free_words(argv);
	assert_non_null(verb_line("ls --wide", VERB_AUDITOR, &argv, &argc));
	appr_free_words(argv);
}

/* A verb handed to a front end that may not run it is refused there,
 * even when it was found elsewhere. */
static void
test_wrong_front(void **unused)
{
	struct front f;
	const struct cmd_entry *e;

	(void)unused;
	assert_non_null(e = verb_find("requests", VERB_ADMIN));
	front_open(&f, NULL, VERB_AUDITOR, "ssh", "carol");
	assert_int_equal(verb_exec(&f.c, e, 1, (char *[]){ "requests",
	    NULL }), 2);
	assert_int_equal(verb_exec(&f.c, NULL, 1, (char *[]){ "x", NULL }),
	    2);
	fflush(f.c.out);
	assert_int_equal(f.olen, 0);
	front_close(&f);
	/* a local verb over the control socket */
	assert_non_null(e = verb_find("keys", VERB_LOCAL));
	front_open(&f, NULL, VERB_ADMIN, "bastionctl", "root");
	assert_int_equal(verb_exec(&f.c, e, 1, (char *[]){ "keys", NULL }),
	    2);
	front_close(&f);
}

static void
test_argument_errors(void **unused)
{
	char dir[] = "/tmp/test_verbs.XXXXXX";
	struct policy pol;
	struct front f;
	char *u = NULL;
	size_t ulen = 0;
	FILE *uf;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	memset(&pol, 0, sizeof(pol));
	pol.state_dir = dir;
	front_open(&f, &pol, VERB_ADMIN, "ssh", "bob");
	/* an option of another verb, an unknown one, a word after -- */
	assert_int_equal(front_run(&f, 2, (char *[]){ "requests", "--keys",
	    NULL }), 2);
	assert_non_null(strstr(f.err, "requests: unknown option --keys (a "
	    "word that starts with - goes after --)"));
	assert_int_equal(front_run(&f, 2, (char *[]){ "grants", "-x",
	    NULL }), 2);
	assert_non_null(strstr(f.err, "grants: unknown option -x\n"));
	/* counts, ids and durations */
	assert_int_equal(front_run(&f, 2, (char *[]){ "approve", "42",
	    NULL }), 2);
	assert_non_null(strstr(f.err, "approve: give a request id and a "
	    "duration"));
	assert_int_equal(front_run(&f, 3, (char *[]){ "approve", "x", "2h",
	    NULL }), 2);
	assert_non_null(strstr(f.err, "\"x\" is not an id"));
	assert_int_equal(front_run(&f, 3, (char *[]){ "approve", "4", "2w",
	    NULL }), 2);
	assert_non_null(strstr(f.err, "\"2w\" is not a duration"));
	assert_int_equal(f.olen, 0);
	front_close(&f);
	tmp_remove(dir);

	/* the usage each front end prints is the table's */
	assert_non_null(uf = open_memstream(&u, &ulen));
	verb_usage(uf, "bastionctl [-f POLICY]", verb_find("approve",
	    VERB_ADMIN));
	verb_help(uf, VERB_ADMIN, "usage: ");
	fclose(uf);
	assert_non_null(strstr(u, "usage: bastionctl [-f POLICY] approve ID "
	    "DURATION [--json]\n  approve a request for DURATION"));
	assert_non_null(strstr(u, "\nusage: approve ID DURATION [--json]   "
	    "(DURATION: 90m, 2h, 1d)\n"));
	assert_non_null(strstr(u, "\nusage: watch SESSION [--from-start]   "
	    "(read-only; Ctrl-C stops)\n"));
	/* a console's help lists only its verbs */
	assert_null(strstr(u, "usage: enroll"));
	assert_null(strstr(u, "usage: report"));
	free(u);
	u = NULL;
	assert_non_null(uf = open_memstream(&u, &ulen));
	verb_help_long(uf, VERB_ADMIN | VERB_LOCAL);
	fclose(uf);
	assert_non_null(strstr(u, "  enroll   ENGINEER --key KEY.pub"));
	assert_non_null(strstr(u, "  report   [--month YYYY-MM]"));
	assert_non_null(strstr(u, "  unlock   ENGINEER [--account | --keys "
	    "[--reset-counter]] [--json]\n           lift"));
	assert_null(strstr(u, "recordings"));
	free(u);
}

/*
 * The auditor console's verbs: their usage errors print the console's
 * help, made from the table; a recording that is not there is said so,
 * and nothing is audited as read.
 */
static void
test_auditor_verbs(void **unused)
{
	char dir[] = "/tmp/test_verbs.XXXXXX";
	struct policy pol;
	struct front f;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	memset(&pol, 0, sizeof(pol));
	pol.state_dir = dir;
	pol.recordings_dir = dir;
	front_open(&f, &pol, VERB_AUDITOR, "ssh", "carol");
	assert_string_equal(f.c.admin, "carol");
	assert_int_equal(f.c.admin_is_policy, 0);
	assert_int_equal(front_run(&f, 1, (char *[]){ "verify", NULL }), 2);
	assert_non_null(strstr(f.err, "bastion: auditor console: ssh "
	    "carol@bastion VERB\n  recordings [--engineer N] [--vendor N] "
	    "[--device N] [--date YYYY-MM-DD] [--wide] [--json]\n  verify SESSION\n"
	    "  replay SESSION\n  export SESSION > evidence.tar   (check it "
	    "with bastion-verify evidence.tar)\n"));
	assert_null(strstr(f.err, "approve"));
	assert_int_equal(front_run(&f, 2, (char *[]){ "ls", "--engineer",
	    NULL }), 2);
	assert_int_equal(front_run(&f, 3, (char *[]){ "recordings", "--bogus",
	    "x", NULL }), 2);
	assert_int_equal(f.olen, 0);
	assert_int_equal(front_run(&f, 2, (char *[]){ "replay", "17",
	    NULL }), 1);
	assert_non_null(strstr(f.err, "bastion: no recording 17 (see "
	    "`recordings`)\n"));
	/* an empty recordings_dir, through the alias */
	assert_int_equal(front_run(&f, 3, (char *[]){ "ls", "--engineer",
	    "gina", NULL }), 0);
	assert_string_equal(f.out, "no recordings match\n");
	front_close(&f);
	tmp_remove(dir);
}

/* The report is bastionctl's: elsewhere it says so, there it is called
 * with the verb's words. */
static int report_called;

static int
fake_report(struct verb_ctx *c, int argc, char **argv)
{
	(void)c;
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "--json");
	report_called++;
	return (0);
}

static void
test_report_hook(void **unused)
{
	struct front f;

	(void)unused;
	front_open(&f, NULL, VERB_LOCAL, "bastionctl", "root");
	assert_int_equal(front_run(&f, 2, (char *[]){ "report", "--json",
	    NULL }), 1);
	assert_non_null(strstr(f.err, "report: only bastionctl runs it"));
	f.c.report = fake_report;
	assert_int_equal(front_run(&f, 2, (char *[]){ "report", "--json",
	    NULL }), 0);
	assert_int_equal(report_called, 1);
	front_close(&f);
}

/*
 * approve and deny end to end: the front end gives only the policy, who
 * asks and where output goes; verb_exec opens the state store of the
 * policy's state_dir, the identity decides who is recorded.
 */
static void
test_run_against_store(void **unused)
{
	char dir[] = "/tmp/test_verbs.XXXXXX";
	struct policy_person admins[1];
	struct policy_device devs[1];
	struct policy pol;
	struct state *st = NULL;
	struct state_request r;
	struct front f;
	int64_t id, id2;
	int found = 0;

	(void)unused;
	site_policy(&pol, admins, devs, dir);
	admins[0].unix_user = "it-bob";
	assert_int_equal(state_open(dir, &st), 0);
	assert_int_equal(state_request_create(st, "gina", "globex", "pacs",
	    "ticket 4711", &id), 0);
	assert_int_equal(state_request_create(st, "gina", "globex", "pacs",
	    "again", &id2), 0);

	/* bastionctl run by the login mapped to bob: recorded as bob; the
	 * duration is capped at the longest grant */
	front_open(&f, &pol, VERB_ADMIN, "bastionctl", "it-bob");
	assert_string_equal(f.c.admin, "bob");
	assert_int_equal(front_run(&f, 3, (char *[]){ "approve", "1", "1d",
	    NULL }), 0);
	assert_null(f.c.st);	/* opened and closed by verb_exec */
	assert_non_null(strstr(f.out, "request 1 approved: grant 1 lets gina "
	    "reach pacs for 2h"));
	assert_non_null(strstr(f.err, "granting 2h"));
	/* decided: not again */
	assert_int_equal(front_run(&f, 3, (char *[]){ "approve", "1", "1h",
	    NULL }), 1);
	assert_non_null(strstr(f.err, "request 1 is approved already by "
	    "bob"));
	front_close(&f);
	assert_int_equal(state_request_get(st, id, &r, &found), 0);
	assert_true(found);
	assert_string_equal(r.status, STATE_REQ_APPROVED);
	assert_string_equal(r.decided_by, "bob");

	/* over ssh a JSON answer; the deny reason is what the engineer
	 * sees */
	front_open(&f, &pol, VERB_ADMIN, "ssh", "bob");
	assert_int_equal(front_run(&f, 5, (char *[]){ "deny", "--json", "2",
	    "no", "ticket", NULL }), 0);
	assert_string_equal(f.out, "{\"request\":2,\"status\":\"denied\","
	    "\"reason\":\"no ticket\"}\n");
	assert_int_equal(front_run(&f, 1, (char *[]){ "requests", NULL }), 0);
	assert_non_null(strstr(f.out, "no pending requests\n"));
	front_close(&f);
	assert_int_equal(state_request_get(st, id2, &r, &found), 0);
	assert_string_equal(r.status, STATE_REQ_DENIED);
	assert_string_equal(r.deny_reason, "no ticket");

	/* no store: the verb says so and does nothing */
	pol.state_dir = "/nonexistent/test_verbs";
	front_open(&f, &pol, VERB_ADMIN, "ssh", "bob");
	assert_int_equal(front_run(&f, 1, (char *[]){ "grants", NULL }), 1);
	assert_non_null(strstr(f.err, "the state store cannot be opened"));
	assert_int_equal(f.olen, 0);
	front_close(&f);

	state_close(st);
	tmp_remove(dir);
}

/* Export approval's verbs (cmd-files.c): listed with size and SHA-256,
 * decided once, the reason checked, the canonical action bound to the
 * row. */
static void
test_file_verbs(void **unused)
{
	char dir[] = "/tmp/test_verbs_files.XXXXXX";
	struct policy_person admins[1];
	struct policy_device devs[1];
	struct policy pol;
	struct state *st = NULL;
	struct state_export e, got;
	struct front f;
	uint8_t *a, *b;
	size_t alen, blen;
	int64_t id, id2;
	int found = 0;

	(void)unused;
	site_policy(&pol, admins, devs, dir);
	assert_int_equal(state_open(dir, &st), 0);
	export_fixture(&e, "/srv/images.tar", 4096, 0x5eed);
	assert_int_equal(state_export_create(st, &e, &id), 0);
	snprintf(e.path, sizeof(e.path), "/srv/log\x1b[2J.txt");
	assert_int_equal(state_export_create(st, &e, &id2), 0);

	front_open(&f, &pol, VERB_ADMIN, "ssh", "bob");
	assert_int_equal(front_run(&f, 2, (char *[]){ "file-requests",
	    "--wide", NULL }), 0);
	assert_non_null(strstr(f.out, "/srv/images.tar"));
	assert_non_null(strstr(f.out, e.sha256));
	assert_non_null(strstr(f.out, "4096"));
	assert_null(strchr(f.out, 0x1b));	/* a path shown clean */
	/* the action names the row; a changed row changes it */
	assert_int_equal(describe(&f, 2, (char *[]){ "file-approve", "1",
	    NULL }, &a, &alen), 0);
	assert_non_null(memmem(a, alen, e.sha256, 64));
	assert_non_null(memmem(a, alen, "/srv/images.tar", 15));
	assert_int_equal(describe(&f, 3, (char *[]){ "file-deny", "1", "no",
	    NULL }, &b, &blen), 0);
	assert_true(alen != blen || memcmp(a, b, alen) != 0);
	free(a);
	free(b);
	/* usage: no id, no reason, a reason with a control character */
	assert_int_equal(front_run(&f, 1, (char *[]){ "file-approve", NULL }),
	    2);
	assert_int_equal(front_run(&f, 2, (char *[]){ "file-deny", "1",
	    NULL }), 2);
	assert_int_equal(front_run(&f, 3, (char *[]){ "file-deny", "1",
	    "a\033b", NULL }), 2);
	assert_int_equal(front_run(&f, 2, (char *[]){ "file-approve", "9",
	    NULL }), 1);
	assert_non_null(strstr(f.err, "there is no file request 9"));
	/* approve, then not again, not denied after */
	assert_int_equal(front_run(&f, 2, (char *[]){ "file-approve", "1",
	    NULL }), 0);
	assert_non_null(strstr(f.out, "file request 1 approved: gina gets "
	    "the 4096 bytes"));
	assert_int_equal(front_run(&f, 4, (char *[]){ "file-deny", "1",
	    "too", "late", NULL }), 1);
	assert_non_null(strstr(f.err, "file request 1 is approved already"));
	assert_int_equal(front_run(&f, 5, (char *[]){ "file-deny", "--json",
	    "2", "patient", "data", NULL }), 0);
	assert_non_null(strstr(f.out, "{\"file_request\":2,\"status\":"
	    "\"denied\",\"reason\":\"patient data\"}\n"));
	assert_int_equal(front_run(&f, 1, (char *[]){ "file-requests",
	    NULL }), 0);
	assert_non_null(strstr(f.out, "no file exports waiting"));
	front_close(&f);
	assert_int_equal(state_export_get(st, id, &got, &found), 0);
	assert_string_equal(got.status, STATE_REQ_APPROVED);
	assert_string_equal(got.decided_by, "bob");
	assert_int_equal(state_export_get(st, id2, &got, &found), 0);
	assert_string_equal(got.deny_reason, "patient data");
	/* not a verb of the auditor's console */
	assert_null(verb_find("file-approve", VERB_AUDITOR));
	state_close(st);
	tmp_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_web_actions),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_wrong_front),
		cmocka_unit_test(test_argument_errors),
		cmocka_unit_test(test_report_hook),
		cmocka_unit_test(test_auditor_verbs),
		cmocka_unit_test(test_run_against_store),
		cmocka_unit_test(test_file_verbs),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
