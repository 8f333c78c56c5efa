/*
 * cmd-approve.c - "bastionctl approve ID DURATION [--json]": approve a request for DURATION (90m, 2h; capped at max_grant).
 * The verb itself is verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_approve_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_approve, argc, argv));
}

const struct ctl_cmd ctl_cmd_approve = {
	"approve",
	"ID DURATION [--json]",
	"approve a request for DURATION (90m, 2h; capped at max_grant)",
	cmd_approve_exec,
	CTL_REMOTE
};
