/*
 * approvals.h - the admin verbs, shared by bastionctl (ctl/cmd-*.c), the
 * local control socket (bastion/control.c) and the admin console over ssh
 * (bastion/approval.c), so all run the same code:
 *
 *	requests [--all] [--json]     pending requests (--all: every one)
 *	approve ID DURATION [--json]  approve (capped at the rule's max_grant;
 *	                              four eyes: two distinct admins)
 *	deny ID REASON... [--json]    deny, with a reason the engineer sees
 *	grants [--all] [--json]       live grants (--all: every one)
 *	revoke ID [--json]            revoke a grant
 *	sessions [--all] [--json]     live vendor sessions (--all: ended too)
 *	watch SESSION [--from-start]  follow a live session, read-only
 *	kill SESSION [REASON...]      end a live session, with a reason the
 *	                              engineer sees
 *	lock ENGINEER [REASON...]     refuse the engineer's logins, end their
 *	                              sessions
 *	unlock ENGINEER [--account | --keys [--reset-counter]]
 *	                              lift the engineer's locks (both kinds by
 *	                              default: an admin's lock and the touch
 *	                              check's key locks)
 *	vendors [--json]              vendors, devices, engineers and rules
 *
 * Tables (base/table.h) list the newest first and stay under 100
 * columns, cutting long text with "..."; --wide (requests, grants,
 * sessions, vendors) cuts nothing.
 *
 * Verbs write tables (or --json) to out and what went wrong to err, and
 * never talk to the network: a streaming verb (watch, kill's wait) writes
 * as it goes and polls cancelled(). The flow itself (the waiting engineer)
 * is bastion/approval.c; docs/APPROVALS.md describes both.
 */
#ifndef BASTION_APPROVALS_H
#define BASTION_APPROVALS_H

#include <stdio.h>
#include <time.h>

#include "policy.h"
#include "state.h"

struct appr_ctx {
	const struct policy *pol;
	struct state *st;
	/* Set by appr_identity(), never by hand: */
	const char *admin;	/* who decides, as recorded and audited: the
				 * policy admin, or the caller's Unix login
				 * when it maps to none */
	int admin_is_policy;	/* admin is a policy admin (may count as
				 * one of the two of four eyes) */
	const char *via;	/* "ssh" or "bastionctl", for audit events */
	FILE *out;		/* tables or JSON */
	FILE *err;		/* what went wrong and what to do */
	int terminal;		/* out is a terminal: watch keeps the screen's
				 * (sanitised) control sequences; else text */
	/*
	 * Streaming verbs call this while they wait (may be NULL: they then
	 * just sleep): wait up to wait_ms for the admin's side, return 1 once
	 * the admin has left or asked to stop (^C), else 0.
	 */
	int (*cancelled)(void *arg, unsigned wait_ms);
	void *cancel_arg;
	/*
	 * watch: follow the live recording of session s (its path is checked
	 * to lie below recordings_dir) and write the device's output,
	 * sanitised, to out until the session ends or cancelled() says stop;
	 * returns 0, or 1 after saying why on err. Reading recordings is
	 * bastiond's (the recording format library sits beside this layer, and
	 * following a live file is the listener's business), so it provides it: console_follow() in
	 * bastion/approval.c. NULL: watch is refused here.
	 */
	int (*follow)(struct appr_ctx *c, const struct state_session *s,
	    int from_start);
};

/*
 * Who the admin is: the one rule every front end calls, after setting
 * c->pol and before appr_run().
 *  - via "ssh" (the admin console): name is the policy admin the key
 *    authenticated as;
 *  - via "bastionctl" (local, or over bastiond's control socket): name is
 *    the caller's Unix login, and the admin is the one whose unix_user:
 *    is that login (policy.h). There is no default: a policy name equal
 *    to the login does not map.
 * Sets c->admin, c->admin_is_policy and c->via, and returns the policy
 * admin, or NULL when the caller maps to none (or to a disabled or
 * expired admin): c->admin is then the login itself, and that caller may
 * still take single-approver decisions (recorded under the login) but
 * never counts as one of the two admins of a second_approver rule.
 * Either way, two approvals that resolve to the same admin are one.
 */
const struct policy_person *appr_identity(struct appr_ctx *c,
    const char *via, const char *name);

/* 1 if name is one of the verbs above. */
int appr_is_verb(const char *name);
/* Run verb argv[0] with its arguments; returns 0 (done), 1 (refused or
 * failed, said why on c->err) or 2 (usage). */
int appr_run(struct appr_ctx *c, int argc, char **argv);
/* One line per verb, for help texts. */
void appr_usage(FILE *f, const char *prefix);

/*
 * Durations: a number of seconds, or numbers with units s, m, h, d
 * ("90", "45m", "2h", "1h30m", "1d"). 0 and BERR_FORMAT for anything
 * else, zero, or more than 366 days.
 */
int appr_parse_duration(const char *s, unsigned *secs);
/* "2h", "1h30m", "45s" (shortest exact form). */
void appr_duration_str(unsigned secs, char *out, size_t len);

/* How many distinct admins a request for device needs (1 or 2) and the
 * longest grant for it, from the effective rule. */
void appr_rule(const struct policy *pol, const struct policy_device *d,
    int *needed, unsigned *max_grant);

/*
 * Split a command line into words: blanks separate, '...' and "..." quote
 * (no escapes inside single quotes; backslash escapes in double quotes and
 * outside). *argv is a NULL-terminated heap array the caller frees with
 * appr_free_words(). 0, BERR_FORMAT (unbalanced quote), BERR_LIMIT (more
 * than 64 words) or BERR_NOMEM.
 */
int appr_split(const char *line, char ***argv, int *argc);
void appr_free_words(char **argv);

/* Write request r as one JSON object (no newline); strings through
 * text_json() (text.h). */
void appr_request_json(FILE *f, const struct state_request *r);

#endif
