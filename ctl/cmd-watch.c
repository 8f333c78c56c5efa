/*
 * cmd-watch.c - "bastionctl watch SESSION [--from-start]": follow a live
 * vendor session read-only, sanitised, until it ends or ^C. Streams through
 * bastiond's control socket (bastion/control.c), which reads the session's
 * recording as it is written; the verb itself is verbs/approvals.c, shared
 * with the admin console over ssh.
 */
#include "ctl.h"

static int
cmd_watch_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_watch, argc, argv));
}

const struct ctl_cmd ctl_cmd_watch = {
	"watch",
	"SESSION [--from-start]",
	"follow a live session read-only (its output, sanitised); ^C stops",
	cmd_watch_exec,
	CTL_REMOTE
};
