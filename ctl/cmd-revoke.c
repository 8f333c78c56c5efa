/*
 * cmd-revoke.c - "bastionctl revoke ID [--json]": revoke a grant: no new sessions, running ones end.
 * The verb itself is verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_revoke_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_revoke, argc, argv));
}

const struct ctl_cmd ctl_cmd_revoke = {
	"revoke",
	"ID [--json]",
	"revoke a grant: no new sessions, running ones end",
	cmd_revoke_exec,
	CTL_REMOTE
};
