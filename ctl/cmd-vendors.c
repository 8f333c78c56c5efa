/*
 * cmd-vendors.c - "bastionctl vendors [--json]": every vendor with its
 * segments, sources, approval rule, devices (address, ports, rule) and
 * engineers (enabled, expired, locked, live sessions). The verb itself is
 * verbs/approvals.c, shared with the admin console.
 */
#include "ctl.h"

static int
cmd_vendors_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_vendors, argc, argv));
}

const struct ctl_cmd ctl_cmd_vendors = {
	"vendors",
	"[--json] [--wide]",
	"vendors, their devices and engineers, and the approval rules",
	cmd_vendors_exec,
	CTL_REMOTE
};
