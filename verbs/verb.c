/*
 * verb.c - the one verb table (see verb.h): lookup by name or alias for a
 * front end, the options every verb shares, who the admin is, the one
 * context builder, and the help texts of every front end, all made from
 * the table.
 *
 * A verb is added by writing verbs/cmd-VERB.c with its cmd_entry and
 * listing it in verb_table[] below; no front end changes
 * (docs/APPROVALS.md, "Adding a verb").
 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "approvals.h"
#include "err.h"
#include "table.h"
#include "verb.h"

static int
verb_report_exec(struct verb_ctx *c, const struct verb_args *a)
{
	if (c->report == NULL) {
		fprintf(c->err, "%s: only bastionctl runs it, on the "
		    "bastion host\n", a->argc > 0 ? a->argv[0] : "report");
		return (1);
	}
	return (c->report(c, a->argc, a->argv));
}

/*
 * report: the month's record from the audit chain. Its code is still
 * bastionctl's (ctl/cmd-report.c, moving onto the event schema), so
 * bastionctl hands it in as c->report.
 */
const struct cmd_entry cmd_report_entry = {
	"report", NULL,
	"[--month YYYY-MM] [--json | --csv] [--tz ZONE] [--wide]",
	"the month's sessions (default: this month, UTC) from the verified "
	"audit chain",
	NULL,
	0,
	VERB_LOCAL | VERB_OWN_ARGS,
	verb_report_exec,
	NULL
};

/*
 * checkpoints: the audit chains' signed checkpoints, exported for
 * bastion-verify --cluster (docs/AUDIT.md section 10). bastionctl's own,
 * like report (ctl/cmd-checkpoints.c), reached through c->report.
 */
const struct cmd_entry cmd_checkpoints_entry = {
	"checkpoints", NULL,
	"[--export FILE] [--keys DIR]",
	"the audit checkpoints of every node, signed, for bastion-verify "
	"--cluster",
	NULL,
	0,
	VERB_LOCAL | VERB_OWN_ARGS,
	verb_report_exec,
	NULL
};

/* The order is the order of every help text. */
static const struct cmd_entry *const verb_table[] = {
	&cmd_enroll_entry,
	&cmd_keys_entry,
	&cmd_requests_entry,
	&cmd_approve_entry,
	&cmd_deny_entry,
	&cmd_file_requests_entry,
	&cmd_file_approve_entry,
	&cmd_file_deny_entry,
	&cmd_grants_entry,
	&cmd_revoke_entry,
	&cmd_sessions_entry,
	&cmd_watch_entry,
	&cmd_kill_entry,
	&cmd_lock_entry,
	&cmd_unlock_entry,
	&cmd_vendors_entry,
	&cmd_report_entry,
	&cmd_checkpoints_entry,
	&cmd_recordings_entry,
	&cmd_verify_entry,
	&cmd_replay_entry,
	&cmd_export_entry,
	&cmd_web_enroll_entry,
	&cmd_cast_entry,
	&cmd_declare_entry,
	NULL
};

static const struct {
	const char *name;
	unsigned bit;
} verb_opts[] = {
	{ "--json", VO_JSON },
	{ "--all", VO_ALL },
	{ "--keys", VO_KEYS },
	{ "--account", VO_ACCOUNT },
	{ "--reset-counter", VO_RESET },
	{ "--from-start", VO_START },
	{ "--wide", VO_WIDE },
};

/* Options anywhere; -- ends them. 0 or 2 (usage). */
static int
verb_args(struct verb_ctx *c, int argc, char **argv, unsigned allowed,
    struct verb_args *a)
{
	size_t k;
	int i, dashdash = 0;

	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
	for (i = 1; i < argc && a->n < VERB_MAX_WORDS; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || argv[i][0] != '-' || argv[i][1] == '\0') {
			a->pos[a->n++] = argv[i];
			continue;
		}
		for (k = 0; k < sizeof(verb_opts) / sizeof(verb_opts[0]); k++)
			if (strcmp(argv[i], verb_opts[k].name) == 0 &&
			    (allowed & verb_opts[k].bit) != 0)
				break;
		if (k == sizeof(verb_opts) / sizeof(verb_opts[0])) {
			fprintf(c->err, "%s: unknown option %s%s\n", argv[0],
			    argv[i], argv[i][1] != '-' ? "" : " (a word that "
			    "starts with - goes after --)");
			return (2);
		}
		a->opts |= verb_opts[k].bit;
	}
	a->json = (a->opts & VO_JSON) != 0;
	a->all = (a->opts & VO_ALL) != 0;
	a->width = (a->opts & VO_WIDE) ? 0 : TABLE_WIDTH;
	return (0);
}

const struct cmd_entry *
verb_find(const char *name, unsigned front)
{
	const struct cmd_entry *e;
	size_t i;

	for (i = 0; name != NULL && (e = verb_table[i]) != NULL; i++)
		if ((e->flags & front) != 0 && (strcmp(name, e->name) == 0 ||
		    (e->alias != NULL && strcmp(name, e->alias) == 0)))
			return (e);
	return (NULL);
}

const struct cmd_entry *
verb_line(const char *line, unsigned front, char ***argv, int *argc)
{
	*argv = NULL;
	*argc = 0;
	if (line == NULL || appr_split(line, argv, argc) != 0 || *argc == 0)
		return (NULL);
	return (verb_find((*argv)[0], front));
}

const struct policy_person *
verb_identity(struct verb_ctx *c, const char *via, const char *name)
{
	struct policy_person *p = NULL;
	enum policy_role role = ROLE_NONE;

	c->via = via;
	c->admin = name;
	c->admin_is_policy = 0;
	if (c->pol == NULL || name == NULL)
		return (NULL);
	/* ssh and the web console: name is the policy person (the key, or
	 * the web token, authenticated as); only admins decide */
	if (strcmp(via, "ssh") == 0 || strcmp(via, "web") == 0) {
		if ((p = policy_person(c->pol, name, &role)) != NULL &&
		    role != ROLE_ADMIN)
			p = NULL;
	} else
		p = policy_admin_by_unix_user(c->pol, name);
	if (p == NULL || !p->enabled || !policy_person_active(p, time(NULL)))
		return (NULL);
	c->admin = p->name;
	c->admin_is_policy = 1;
	return (p);
}

void
verb_ctx_init(struct verb_ctx *c, const struct policy *pol, unsigned front,
    const char *via, const char *name, FILE *out, FILE *err)
{
	memset(c, 0, sizeof(*c));
	c->pol = pol;
	c->front = front;
	c->out = out;
	c->err = err;
	(void)verb_identity(c, via, name);
}

int
verb_ctx_streams_ok(struct verb_ctx *c)
{
	if (c->out != NULL && c->err != NULL)
		return (1);
	if (c->out != NULL)
		fclose(c->out);
	if (c->err != NULL)
		fclose(c->err);
	c->out = c->err = NULL;
	return (0);
}

/* What verb_exec and verb_describe share: parse, open the store, run. */
struct verb_run {
	struct buf *canon;
	FILE *summary;
	verb_describe_fn describe;	/* NULL: exec */
};

static int
verb_run(struct verb_ctx *c, const struct cmd_entry *e, int argc,
    char **argv, const struct verb_run *run)
{
	struct verb_args a;
	int r, opened = 0;

	if (e == NULL || argc < 1 || (e->flags & c->front) == 0)
		return (2);
	if (e->flags & VERB_OWN_ARGS) {
		memset(&a, 0, sizeof(a));
		a.argc = argc;
		a.argv = argv;
		optind = 0;	/* glibc: start afresh (permuting) */
	} else if ((r = verb_args(c, argc, argv, e->opts, &a)) != 0)
		return (r);
	a.entry = e;
	if ((e->flags & VERB_STORE) && c->st == NULL) {
		if (c->pol == NULL || state_open(c->pol->state_dir,
		    &c->st) != 0) {
			fprintf(c->err, "the state store cannot be opened (see "
			    "the bastion's log)\n");
			return (1);
		}
		opened = 1;
	}
	r = run->describe != NULL ? run->describe(c, &a, run->canon,
	    run->summary) : e->exec(c, &a);
	if (opened) {
		state_close(c->st);
		c->st = NULL;
	}
	return (r);
}

int
verb_exec(struct verb_ctx *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct verb_run run = { NULL, NULL, NULL };

	return (verb_run(c, e, argc, argv, &run));
}

/* The verbs the web console may run after an assertion, and how each
 * describes its action. */
static const struct {
	const struct cmd_entry *e;
	verb_describe_fn fn;
} verb_describers[] = {
	{ &cmd_approve_entry, cmd_approve_describe },
	{ &cmd_deny_entry, cmd_deny_describe },
	{ &cmd_kill_entry, cmd_kill_describe },
	{ &cmd_revoke_entry, cmd_revoke_describe },
	{ &cmd_lock_entry, cmd_lock_describe },
	{ &cmd_unlock_entry, cmd_unlock_describe },
	{ &cmd_export_entry, cmd_export_describe },
	{ &cmd_file_approve_entry, cmd_file_approve_describe },
	{ &cmd_file_deny_entry, cmd_file_deny_describe },
};

verb_describe_fn
verb_describer(const struct cmd_entry *e)
{
	size_t i;

	for (i = 0; i < sizeof(verb_describers) / sizeof(verb_describers[0]);
	    i++)
		if (verb_describers[i].e == e)
			return (verb_describers[i].fn);
	return (NULL);
}

int
verb_describe(struct verb_ctx *c, const struct cmd_entry *e, int argc,
    char **argv, struct buf *canon, FILE *summary)
{
	struct verb_run run = { canon, summary, verb_describer(e) };

	if (run.describe == NULL)
		return (2);
	return (verb_run(c, e, argc, argv, &run));
}

void
verb_help(FILE *f, unsigned front, const char *prefix)
{
	const struct cmd_entry *e;
	size_t i;

	for (i = 0; (e = verb_table[i]) != NULL; i++)
		if ((e->flags & front) != 0)
			fprintf(f, "%s%s%s%s%s%s\n", prefix, e->name,
			    e->usage[0] != '\0' ? " " : "", e->usage,
			    e->hint != NULL ? "   " : "",
			    e->hint != NULL ? e->hint : "");
}

void
verb_help_long(FILE *f, unsigned front)
{
	const struct cmd_entry *e;
	size_t i;

	for (i = 0; (e = verb_table[i]) != NULL; i++)
		if ((e->flags & front) != 0)
			fprintf(f, "  %-8s %s\n           %s\n", e->name,
			    e->usage, e->summary);
}

void
verb_usage(FILE *f, const char *program, const struct cmd_entry *e)
{
	fprintf(f, "usage: %s %s %s\n  %s\n", program, e->name, e->usage,
	    e->summary);
}
