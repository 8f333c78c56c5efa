/*
 * cmd-unlock.c - "bastionctl unlock ENGINEER [--reset-counter]": lift the
 * lock the touch check put on an engineer's security keys after their
 * signature counter went backwards (a possible cloned key, touch.c).
 *
 * Unlock after finding out why: a key reset or replaced by its owner, or
 * a copy. --reset-counter also forgets the last counter seen, so that a
 * key whose counter really restarted (some keys do after a reset) sets a
 * new baseline instead of being locked again at the next login.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

struct unlock_walk {
	struct state *st;
	const char *engineer;
	int reset;
	int failed;
};

static void
unlock_one(const char *fp, void *arg)
{
	struct unlock_walk *w = arg;

	printf("unlocked: %s %s%s\n", w->engineer, fp, w->reset ?
	    " (counter forgotten)" : "");
	if (w->reset && state_counter_forget(w->st, fp) != 0)
		w->failed = 1;
	audit_event("key.unlock", "user", ctl_operator(), "engineer",
	    w->engineer, "key", fp, "result", "ok", "reset_counter",
	    w->reset ? "yes" : "no", NULL);
}

static int
cmd_unlock_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reset-counter", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct unlock_walk w = { NULL, NULL, 0, 0 };
	enum policy_role role;
	size_t n = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "r", opts, NULL)) != -1) {
		if (ch != 'r') {
			ctl_usage(&ctl_cmd_unlock, stderr);
			return (CTL_EXIT_USAGE);
		}
		w.reset = 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "bastionctl: unlock: name one engineer\n");
		ctl_usage(&ctl_cmd_unlock, stderr);
		return (CTL_EXIT_USAGE);
	}
	w.engineer = argv[optind];
	if ((w.st = ctl_state(c)) == NULL)
		return (CTL_EXIT_FAIL);
	if (state_key_unlock_engineer(w.st, w.engineer, &n, unlock_one,
	    &w) != 0 || w.failed) {
		fprintf(stderr, "bastionctl: could not unlock the keys of %s "
		    "(see the log above)\n", w.engineer);
		return (CTL_EXIT_FAIL);
	}
	if (n == 0)
		printf("%s has no locked keys%s\n", w.engineer,
		    policy_person(c->pol, w.engineer, &role) == NULL ?
		    " (and is not in the policy)" : "");
	return (CTL_EXIT_OK);
}

const struct ctl_cmd ctl_cmd_unlock = {
	"unlock",
	"ENGINEER [--reset-counter]",
	"lift the locks on an engineer's keys (after a counter regression)",
	cmd_unlock_exec
};
