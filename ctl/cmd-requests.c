/*
 * cmd-requests.c - "bastionctl requests [--all] [--json]": list pending access requests (--all: every one).
 * The verb itself is verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_requests_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_requests, argc, argv));
}

const struct ctl_cmd ctl_cmd_requests = {
	"requests",
	"[--all] [--json] [--wide]",
	"list pending access requests (--all: every one)",
	cmd_requests_exec,
	CTL_REMOTE
};
