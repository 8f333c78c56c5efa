/*
 * cmd-sessions.c - "bastionctl sessions [--all] [--json]": the live vendor
 * sessions (engineer, vendor, device, from where, since when, idle,
 * recorded bytes, grant); --all adds the last ended ones with the reason.
 * The verb itself is verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_sessions_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_sessions, argc, argv));
}

const struct ctl_cmd ctl_cmd_sessions = {
	"sessions",
	"[--all] [--json] [--wide]",
	"live vendor sessions (--all: the last 200, ended ones too)",
	cmd_sessions_exec,
	CTL_REMOTE
};
