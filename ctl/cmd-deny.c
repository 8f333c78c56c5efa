/*
 * cmd-deny.c - "bastionctl deny ID REASON... [--json]": deny a request; the waiting engineer sees the reason.
 * The verb itself is verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_deny_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_deny, argc, argv));
}

const struct ctl_cmd ctl_cmd_deny = {
	"deny",
	"ID REASON... [--json]",
	"deny a request; the waiting engineer sees the reason",
	cmd_deny_exec,
	CTL_REMOTE
};
