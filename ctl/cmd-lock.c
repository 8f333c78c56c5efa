/*
 * cmd-lock.c - "bastionctl lock ENGINEER [REASON...]" and
 * "bastionctl unlock ENGINEER [--account | --keys [--reset-counter]]".
 *
 * An engineer can be locked two ways, and unlock tells them apart:
 *  - an admin's account lock (`lock`): new logins are refused and the
 *    engineer's live sessions end; `unlock --account` lifts only that;
 *  - key locks the touch check sets when a security key's signature
 *    counter goes backwards (a possible clone, bastion/touch.c);
 *    `unlock --keys` lifts only those, `--reset-counter` also forgets the
 *    counter so a key that really restarted sets a new baseline.
 * Without --account or --keys, unlock lifts both and lists each lock it
 * lifted ("unlocked: erin SHA256:..." for a key, as before). The verbs
 * themselves are verbs/approvals.c, shared with the admin console.
 *
 * (The two share a file because they are one pair; unlock replaces the
 * key-only cmd-unlock.c in the verb table.)
 */
#include "ctl.h"

static int
cmd_lock_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_lock, argc, argv));
}

static int
cmd_unlock_exec(struct ctl *c, int argc, char **argv)
{
	return (ctl_approvals(c, &ctl_cmd_unlock_locks, argc, argv));
}

const struct ctl_cmd ctl_cmd_lock = {
	"lock",
	"ENGINEER [REASON...] [--json]",
	"refuse the engineer's logins and end their live sessions",
	cmd_lock_exec,
	CTL_REMOTE
};

const struct ctl_cmd ctl_cmd_unlock_locks = {
	"unlock",
	"ENGINEER [--account | --keys [--reset-counter]] [--json]",
	"lift an engineer's locks: an admin's lock and key locks (after a "
	"counter regression)",
	cmd_unlock_exec,
	CTL_REMOTE
};
