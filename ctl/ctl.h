/*
 * ctl.h - bastionctl, the hospital admin's local tool: a transport for
 * the one verb table (verbs/verb.h).
 *
 *	bastionctl [-f POLICY] VERB [ARGS...]
 *
 * The dispatcher (bastionctl.c) finds the verb in the table. An admin verb
 * (VERB_ADMIN) goes to bastiond's control socket, which runs it (ctl.c),
 * or, with bastiond stopped, runs here on the state store; a local verb
 * (VERB_LOCAL: enroll, keys, report) runs here. The policy (the source of
 * truth for people and keys) is loaded and validated before any verb runs.
 * Exit status: CTL_EXIT_*, what went wrong and what to do on stderr.
 */
#ifndef BASTION_CTL_H
#define BASTION_CTL_H

#include <stdio.h>

#include "policy.h"
#include "state.h"
#include "verb.h"

#define CTL_EXIT_OK	0
#define CTL_EXIT_FAIL	1	/* the verb ran and refused or failed */
#define CTL_EXIT_USAGE	2	/* bad command line */

#define CTL_DEFAULT_POLICY	"/etc/bastion/policy.yaml"
/* Where the installed bastiond listens (paths.run_dir of the installed
 * policy), for callers who may not read that policy. */
#define CTL_DEFAULT_RUN_DIR	"/run/bastion"
#define CTL_DEFAULT_ADMIN_GROUP	"bastion-admin"
/* What help and usage lines call the program. */
#define CTL_PROGRAM		"bastionctl [-f POLICY]"

struct ctl {
	const char *policy_path;
	struct policy *pol;	/* NULL: not readable, admin verb */
	struct state *st;	/* ctl_state() opens it on first use */
};

/*
 * The report's own entry (cmd-report.c), reached from the verb table's
 * "report" through verb_ctx.report until it moves into verbs/ with the
 * event schema; its name, usage and help come from the table.
 */
struct ctl_cmd {
	const char *name;
	const char *args;
	const char *summary;
	int (*exec)(struct ctl *c, int argc, char **argv);
	unsigned flags;
};
extern const struct ctl_cmd ctl_cmd_report;
/* bastionctl checkpoints (cmd-checkpoints.c), reached the same way. */
extern const struct ctl_cmd ctl_cmd_checkpoints;

/*
 * The report's part about the group of nodes (report-nodes.c): the signed
 * audit checkpoints of every node, checked (this node's chain, given as
 * chain, up to its last checkpoint), and the sessions other nodes ran in
 * month. *out NULL on entry; 0 (what could not be read is said in the
 * part itself) or BERR_NOMEM.
 */
struct report_nodes;
int report_nodes_read(const struct policy *pol, const char *chain,
    const char *month, struct report_nodes **out);
/* 1 when a check failed (the report then exits 1). */
int report_nodes_failed(const struct report_nodes *n);
void report_nodes_text(const struct report_nodes *n, FILE *f, size_t width);
/* ,"checkpoints":{...},"other_nodes_sessions":[...] */
void report_nodes_json(const struct report_nodes *n, FILE *f);
void report_nodes_free(struct report_nodes *n);

/* Run admin verb e (argv[0] is the verb): through bastiond's control
 * socket, or with bastiond stopped on the state store directly. */
int ctl_admin(struct ctl *c, const struct cmd_entry *e, int argc,
    char **argv);
/* verb_ctx.report: run ctl_cmd_report with c->report_arg (a struct ctl). */
int ctl_report(struct verb_ctx *v, int argc, char **argv);
/* The state store of the policy's state_dir; NULL after saying why. */
struct state *ctl_state(struct ctl *c);
/* Print "usage: bastionctl VERB ARGS" for cmd, from the verb table. */
void ctl_usage(const struct ctl_cmd *cmd, FILE *f);

#endif
