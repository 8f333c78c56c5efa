/*
 * locks.c - pam_bastion.so's read-only look at the state store's key locks.
 *
 * bastiond locks a security key whose signature counter went backwards (a
 * possible clone; bastion/touch.c), an admin locks an engineer (`lock
 * ENGINEER`), and `bastionctl unlock ENGINEER` lifts both. The module
 * refuses a person while any such lock stands.
 *
 * Why state_open_ro() and not state_open() (store/state.h)? The latter
 * opens the store read-write, creates it when missing and upgrades its
 * schema: right for bastiond and bastionctl, wrong for a module loaded into
 * other programs (sshd as root would create a root-owned store in the
 * bastion's state directory). The read-only open never creates, migrates
 * or writes, logs nothing (the module reports through PAM), and answers
 * "no engineer lock" from an older store that has none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "pam_bastion.h"
#include "state.h"

static void
locks_hit_key(struct locks_hit *hit, const struct state_lock *lk)
{
	snprintf(hit->engineer, sizeof(hit->engineer), "%s", lk->engineer);
	snprintf(hit->reason, sizeof(hit->reason), "%s", lk->reason);
}

int
locks_check(const char *state_dir, const char *person, char *const *fps,
    size_t nfps, int *locked, int *absent, struct locks_hit *hit, char *err,
    size_t errlen)
{
	struct state_engineer_lock el;
	struct state_lock lk;
	struct state *st = NULL;
	char why[1024];
	size_t i;
	int r;

	*locked = 0;
	*absent = 0;
	memset(hit, 0, sizeof(*hit));
	if (errlen > 0)
		err[0] = '\0';
	if ((r = state_open_ro(state_dir, &st, why, sizeof(why))) != 0) {
		if (r == BERR_NOTFOUND) {
			*absent = 1;
			return (0);
		}
		return (berr_why(err, errlen, r, "cannot open the state "
		    "store in %s read-only: %s", state_dir, why));
	}
	if ((r = state_key_lock_oldest(st, person, locked, &lk)) != 0)
		goto dberr;
	for (i = 0; !*locked && i < nfps; i++)
		if ((r = state_key_locked(st, fps[i], locked, &lk)) != 0)
			goto dberr;
	if (*locked)
		locks_hit_key(hit, &lk);
	else if ((r = state_engineer_locked(st, person, locked, &el)) != 0)
		goto dberr;
	else if (*locked) {
		snprintf(hit->engineer, sizeof(hit->engineer), "%s",
		    el.engineer);
		snprintf(hit->reason, sizeof(hit->reason), "locked by %.80s: "
		    "%.160s", el.locked_by, el.reason);
	}
	state_close(st);
	return (0);
dberr:
	*locked = 0;
	r = berr_why(err, errlen, r, "cannot read the key locks in the "
	    "state store in %s: %s", state_dir, state_errmsg(st));
	state_close(st);
	return (r);
}
