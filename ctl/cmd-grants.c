/*
 * cmd-grants.c - "bastionctl grants [--all] [--json]": list live grants (--all: every one).
 * The verb itself is verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_grants_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_grants, argc, argv));
}

const struct ctl_cmd ctl_cmd_grants = {
	"grants",
	"[--all] [--json] [--wide]",
	"list live grants (--all: every one)",
	cmd_grants_exec,
	CTL_REMOTE
};
