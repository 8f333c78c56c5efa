/*
 * bastionctl.c - the dispatcher: global options, the verb from the one
 * verb table (verbs/verb.h), help made from that table.
 *
 *	bastionctl [-f POLICY] VERB [ARGS...]
 *
 * Each verb lives in its own verbs/cmd-VERB.c (see ctl.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditlog.h"
#include "ctl.h"
#include "local.h"
#include "log.h"
#include "prog.h"
#include "state.h"

/* bastionctl runs the admin verbs and its local ones. */
#define CTL_FRONT	(VERB_ADMIN | VERB_LOCAL)

static void
usage(FILE *f)
{
	fprintf(f, "usage: bastionctl [-f POLICY] VERB [ARGS...]\n"
	    "  -f, --policy FILE  policy file (default %s)\n\nverbs:\n",
	    CTL_DEFAULT_POLICY);
	verb_help_long(f, CTL_FRONT);
}

/* A local verb, run here as the caller. */
static int
ctl_local(struct ctl *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct verb_ctx v;
	int rc;

	verb_ctx_init(&v, c->pol, VERB_LOCAL, "bastionctl", local_login(),
	    stdout, stderr);
	v.st = c->st;
	v.report = ctl_report;
	v.report_arg = c;
	rc = verb_exec(&v, e, argc, argv);
	if (v.st != c->st)
		state_close(v.st);
	return (rc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'f' },
		PROG_OPTS_END
	};
	/* stop at the verb: its options are its own */
	static const struct prog prog = { "+f:h", opts, usage,
	    CTL_EXIT_USAGE, 1, -1 };
	struct ctl c = { CTL_DEFAULT_POLICY, NULL, NULL };
	const struct cmd_entry *cmd;
	int ch, rc, explicit = 0;

	/*
	 * ^C always stops bastionctl (watch runs until the session ends).
	 * A disposition of "ignore" survives exec: a shell without job
	 * control starts `cmd &` with SIGINT ignored, and so does everything
	 * under it (a `make check &`, a CI runner), so without this the
	 * admin's ^C, or a kill -INT, did nothing.
	 */
	(void)signal(SIGINT, SIG_DFL);

	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		switch (ch) {
		case 'f':
			c.policy_path = optarg;
			explicit = 1;
			break;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return (CTL_EXIT_OK);
	}
	if ((cmd = verb_find(argv[optind], CTL_FRONT)) == NULL) {
		fprintf(stderr, "bastionctl: unknown verb \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	log_init("bastionctl", 1, LOG_LVL_WARN);
	/*
	 * A local admin (a member of admin_group) need not read the policy
	 * (0640 root): verbs that run in bastiond only need its socket, at
	 * the installed place. -f names a policy the caller must read.
	 */
	if (!explicit && (cmd->flags & VERB_ADMIN) &&
	    access(c.policy_path, R_OK) != 0 && errno == EACCES)
		;	/* c.pol stays NULL: through the socket only */
	else if (policy_load(c.policy_path, stderr, NULL, &c.pol) != 0) {
		fprintf(stderr, "bastionctl: cannot use the policy %s (see "
		    "above; bastiond -f %s --check says the same)\n",
		    c.policy_path, c.policy_path);
		return (CTL_EXIT_FAIL);
	}
	/* audit chain (docs/AUDIT.md), opened at the first event; the
	 * store's backend (the policy's store:) */
	if (c.pol != NULL) {
		(void)auditlog_open(c.pol->state_dir, AUDITLOG_LAZY);
		if (state_configure(c.pol) != 0)
			return (CTL_EXIT_FAIL);
	}
	optind++;
	argc -= optind - 1;
	argv += optind - 1;
	rc = (cmd->flags & VERB_ADMIN) ? ctl_admin(&c, cmd, argc, argv) :
	    ctl_local(&c, cmd, argc, argv);
	state_close(c.st);
	policy_free(c.pol);
	return (rc);
}
