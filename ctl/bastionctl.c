/*
 * bastionctl.c - the dispatcher: global options, the verb table, help.
 *
 *	bastionctl [-f POLICY] VERB [ARGS...]
 *
 * Each verb lives in its own cmd-VERB.c (see ctl.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditlog.h"
#include "ctl.h"
#include "log.h"

static const struct ctl_cmd *const ctl_table[] = {
	&ctl_cmd_enroll,
	&ctl_cmd_keys,
	&ctl_cmd_unlock_locks,	/* cmd-lock.c; was cmd-unlock.c (keys only) */
	&ctl_cmd_requests,
	&ctl_cmd_approve,
	&ctl_cmd_deny,
	&ctl_cmd_grants,
	&ctl_cmd_revoke,
	&ctl_cmd_sessions,
	&ctl_cmd_watch,
	&ctl_cmd_kill,
	&ctl_cmd_lock,
	&ctl_cmd_vendors,
	&ctl_cmd_report,
	NULL
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: bastionctl [-f POLICY] VERB [ARGS...]\n"
	    "  -f, --policy FILE  policy file (default %s)\n\nverbs:\n",
	    CTL_DEFAULT_POLICY);
	for (i = 0; ctl_table[i] != NULL; i++)
		fprintf(f, "  %-8s %s\n           %s\n", ctl_table[i]->name,
		    ctl_table[i]->args, ctl_table[i]->summary);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl c = { CTL_DEFAULT_POLICY, NULL, NULL };
	const struct ctl_cmd *cmd = NULL;
	int ch, rc, explicit = 0;
	size_t i;

	/*
	 * ^C always stops bastionctl (watch runs until the session ends).
	 * A disposition of "ignore" survives exec: a shell without job
	 * control starts `cmd &` with SIGINT ignored, and so does everything
	 * under it (a `make check &`, a CI runner), so without this the
	 * admin's ^C, or a kill -INT, did nothing.
	 */
	(void)signal(SIGINT, SIG_DFL);

	/* stop at the verb: its options are its own */
	while ((ch = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			c.policy_path = optarg;
			explicit = 1;
			break;
		case 'h':
			usage(stdout);
			return (CTL_EXIT_OK);
		default:
			usage(stderr);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return (CTL_EXIT_OK);
	}
	for (i = 0; ctl_table[i] != NULL; i++)
		if (strcmp(ctl_table[i]->name, argv[optind]) == 0)
			cmd = ctl_table[i];
	if (cmd == NULL) {
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
	if (!explicit && (cmd->flags & CTL_REMOTE) &&
	    access(c.policy_path, R_OK) != 0 && errno == EACCES)
		;	/* c.pol stays NULL: through the socket only */
	else if (policy_load(c.policy_path, stderr, NULL, &c.pol) != 0) {
		fprintf(stderr, "bastionctl: cannot use the policy %s (see "
		    "above; bastiond -f %s --check says the same)\n",
		    c.policy_path, c.policy_path);
		return (CTL_EXIT_FAIL);
	}
	/* audit chain (docs/AUDIT.md), opened at the first event */
	if (c.pol != NULL)
		(void)auditlog_open(c.pol->state_dir, AUDITLOG_LAZY);
	optind++;
	argc -= optind - 1;
	argv += optind - 1;
	optind = 0;	/* glibc: start afresh for the verb (permuting) */
	rc = cmd->exec(&c, argc, argv);
	state_close(c.st);
	policy_free(c.pol);
	return (rc);
}
