/*
 * ctl.h - bastionctl, the hospital admin's local tool: one file per verb
 * (cmd-*.c), each exporting a struct ctl_cmd that the table in
 * bastionctl.c lists, in the manner of tmux's cmd-*.c.
 *
 *	bastionctl [-f POLICY] VERB [ARGS...]
 *
 * The dispatcher loads and validates the policy (the source of truth for
 * people and keys) before any verb runs; verbs that need the state store
 * (state.h) open it through ctl_state(). Verbs return a CTL_EXIT_* code
 * and say what went wrong and what to do on stderr.
 */
#ifndef BASTION_CTL_H
#define BASTION_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "state.h"

#define CTL_EXIT_OK	0
#define CTL_EXIT_FAIL	1	/* the verb ran and refused or failed */
#define CTL_EXIT_USAGE	2	/* bad command line */

#define CTL_DEFAULT_POLICY	"/etc/bastion/policy.yaml"
/* Where the installed bastiond listens (paths.run_dir of the installed
 * policy), for callers who may not read that policy. */
#define CTL_DEFAULT_RUN_DIR	"/run/bastion"
#define CTL_DEFAULT_ADMIN_GROUP	"bastion-admin"

struct ctl {
	const char *policy_path;
	struct policy *pol;	/* NULL: not readable, CTL_REMOTE verb */
	struct state *st;	/* ctl_state() opens it on first use */
};

struct ctl_cmd {
	const char *name;
	const char *args;	/* usage after the verb */
	const char *summary;
	/* argv[0] is the verb; getopt-ready */
	int (*exec)(struct ctl *c, int argc, char **argv);
	unsigned flags;		/* CTL_REMOTE */
};

/* The verb runs in bastiond, through its control socket (ctl_approvals):
 * a member of admin_group who cannot read the policy may still run it. */
#define CTL_REMOTE	0x1

extern const struct ctl_cmd ctl_cmd_enroll;
extern const struct ctl_cmd ctl_cmd_keys;
extern const struct ctl_cmd ctl_cmd_requests;
extern const struct ctl_cmd ctl_cmd_approve;
extern const struct ctl_cmd ctl_cmd_deny;
extern const struct ctl_cmd ctl_cmd_grants;
extern const struct ctl_cmd ctl_cmd_revoke;
extern const struct ctl_cmd ctl_cmd_sessions;
extern const struct ctl_cmd ctl_cmd_watch;
extern const struct ctl_cmd ctl_cmd_kill;
extern const struct ctl_cmd ctl_cmd_lock;
extern const struct ctl_cmd ctl_cmd_unlock_locks;	/* cmd-lock.c */
extern const struct ctl_cmd ctl_cmd_vendors;
extern const struct ctl_cmd ctl_cmd_report;

/* Run an approvals verb (verbs/approvals.c, the same code as the admin
 * console over ssh) as the local operator. */
int ctl_approvals(struct ctl *c, const struct ctl_cmd *cmd, int argc,
    char **argv);
/* The state store of the policy's state_dir; NULL after saying why. */
struct state *ctl_state(struct ctl *c);
/* The engineer called name; NULL after saying why on stderr. */
struct policy_person *ctl_engineer(struct ctl *c, const char *name);
/* Find who holds the key with fingerprint fp in the policy (NULL if
 * nobody); *key (may be NULL) receives the key. */
struct policy_person *ctl_key_owner(struct ctl *c, const char *fp,
    const struct policy_key **key);
/* Read a whole file of at most max bytes (heap, caller frees; one NUL
 * byte is appended, not counted). 0, or -1 after saying why. */
int ctl_read_file(const char *path, size_t max, uint8_t **out, size_t *len);
/* Print "usage: bastionctl VERB ARGS" for cmd. */
void ctl_usage(const struct ctl_cmd *cmd, FILE *f);
/* Who runs this (login name of the real uid), for audit events. */
const char *ctl_operator(void);
/* "2026-01-31 14:05 UTC" */
void ctl_time(time_t t, char *out, size_t len);

#endif
