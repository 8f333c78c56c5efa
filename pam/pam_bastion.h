/*
 * pam_bastion.h - the pieces of pam_bastion.so behind its PAM entry points
 * (pam_bastion.c): allowed hours (hours.c) and the read-only look at the
 * state store's key locks (locks.c).
 *
 * Everything here is internal to the module: the Makefile builds it with
 * -fvisibility=hidden, so only the pam_sm_* entry points are exported and
 * none of these names (nor those of the layers it links) can collide with the host
 * program's (sshd, login, bastiond).
 */
#ifndef BASTION_PAM_BASTION_H
#define BASTION_PAM_BASTION_H

#include <stddef.h>
#include <time.h>

#include "policy.h"

/* ---- allowed hours (hours.c) ------------------------------------------ */

/*
 * One allowed-hours rule from a module argument
 *
 *	hours=VENDOR:DAYS HH:MM-HH:MM
 *
 * (in a PAM file, in brackets because of the space:
 * "[hours=acme:mon-fri 08:00-18:00]"). DAYS and times have the syntax of
 * the policy's maintenance windows (docs/POLICY.md), in the local time
 * zone. VENDOR "*" applies to every vendor that has no rule of its own.
 */
struct hours_rule {
	char vendor[POLICY_MAX_NAME + 1];
	struct policy_window w;
};

/* Parse "DAYS HH:MM-HH:MM" into *w. 0, or BERR_FORMAT (w zeroed). */
int hours_window_parse(const char *s, struct policy_window *w);

/* Parse "VENDOR:DAYS HH:MM-HH:MM" into *out. 0, or BERR_FORMAT. */
int hours_rule_parse(const char *s, struct hours_rule *out);

/* 1 if the local time tm (tm_wday, tm_hour, tm_min) lies inside w. */
int hours_window_match(const struct policy_window *w, const struct tm *tm);

/*
 * May an engineer of vendor work at local time tm? The rules naming the
 * vendor apply; if none does, the "*" rules; if there are none of those
 * either, the vendor is unrestricted. Returns 1 (allowed) or 0; *restricted
 * (may be NULL) says whether any rule applied.
 */
int hours_allowed(const struct hours_rule *rules, size_t nrules,
    const char *vendor, const struct tm *tm, int *restricted);

/* ---- key locks (locks.c) ---------------------------------------------- */

/* The first lock found: whom it was recorded for, and why. */
struct locks_hit {
	char engineer[80];	/* the name `bastionctl unlock` takes */
	char reason[256];
};

/*
 * Is person locked in the state store of state_dir? A person is locked
 * when the store holds a lock recorded for that person (key_lock.engineer)
 * or for any of the key fingerprints fps[0..nfps-1] (their keys in the
 * policy). The store (STATE_DIR/state.db) is opened read-only and never
 * created; if it does not exist yet there are no locks and *absent is set.
 *
 * Returns 0 with *locked set (and, when locked, *hit filled) or a BERR_*
 * code with a sentence for the log in err (errlen bytes, NUL-terminated).
 */
int locks_check(const char *state_dir, const char *person,
    char *const *fps, size_t nfps, int *locked, int *absent,
    struct locks_hit *hit, char *err, size_t errlen);

#endif
