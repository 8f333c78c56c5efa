/*
 * cmd-kill.c - "bastionctl kill SESSION [REASON...] [--json]": end a live
 * vendor session; the engineer is told the reason, and the verb waits a
 * few seconds to report that it ended. The verb itself is
 * verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_kill_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_kill, argc, argv));
}

const struct ctl_cmd ctl_cmd_kill = {
	"kill",
	"SESSION [REASON...] [--json]",
	"end a live session; the engineer sees the reason",
	cmd_kill_exec,
	CTL_REMOTE
};
