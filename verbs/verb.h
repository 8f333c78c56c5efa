/*
 * verb.h - the one verb table: every admin and auditor verb, whichever
 * front end asks for it.
 *
 * Each verb lives in its own verbs/cmd-VERB.c, in the manner of tmux's
 * cmd-*.c: one `const struct cmd_entry` with its name, alias, usage,
 * options, the front ends that may run it, and its exec function; verb.c
 * lists them all in one table. The front ends are transports only: they
 * build the context with verb_ctx_init() (who asks, decided once by
 * verb_identity(); where output goes), find the verb with verb_find() and
 * run it with verb_exec():
 *
 *	ssh admin console	bastion/approval.c	VERB_ADMIN
 *	bastionctl's socket	bastion/control.c	VERB_ADMIN
 *	bastionctl		ctl/bastionctl.c	VERB_ADMIN (through the
 *							socket, or on the store
 *							when bastiond is
 *							stopped), VERB_LOCAL
 *	ssh auditor console	bastion/auditor.c	VERB_AUDITOR
 *	ssh engineer console	bastion/approval.c	VERB_ENGINEER
 *
 * Verbs write tables (or --json) to out and what went wrong to err, and
 * never talk to the network: a streaming verb (watch, kill's wait) writes
 * as it goes and polls cancelled(). What only bastiond can do (follow a
 * live recording) it hands in through the context. Help texts of every
 * front end are made from the table (verb_help(), verb_usage()).
 * docs/APPROVALS.md, "Where the verbs live".
 */
#ifndef BASTION_VERB_H
#define BASTION_VERB_H

#include <stdio.h>

#include "policy.h"
#include "state.h"

struct buf;

#define VERB_MAX_WORDS	64

/* Who may run a verb (struct cmd_entry.flags), and a front end's mask. */
#define VERB_ADMIN	0x01	/* admins: ssh console, bastionctl, socket */
#define VERB_AUDITOR	0x02	/* auditors: the ssh auditor console */
#define VERB_LOCAL	0x04	/* bastionctl on the host only, in its own
				 * process (reads files of the caller's) */
#define VERB_ENGINEER	0x08	/* engineers: ssh NAME@bastion VERB (their
				 * own file declarations); c->admin is then
				 * the engineer */
#define VERB_OWN_ARGS	0x10	/* exec parses argc/argv itself (getopt) */
#define VERB_STORE	0x20	/* needs the state store: verb_exec opens
				 * it when the front end has not */

/* Options the shared parser knows (struct cmd_entry.opts). */
#define VO_JSON		0x01
#define VO_ALL		0x02
#define VO_KEYS		0x04
#define VO_ACCOUNT	0x08
#define VO_RESET	0x10
#define VO_START	0x20
#define VO_WIDE		0x40	/* tables: no width limit, nothing cut */

struct verb_ctx {
	const struct policy *pol;
	struct state *st;
	unsigned front;		/* VERB_* this front end may run */
	/* Set by verb_identity(), never by hand: */
	const char *admin;	/* who decides, as recorded and audited: the
				 * policy admin, or the caller's Unix login
				 * when it maps to none */
	int admin_is_policy;	/* admin is a policy admin (may count as
				 * one of the two of four eyes) */
	const char *via;	/* "ssh" or "bastionctl", for audit events */
	/* The ssh session asking (audit fields of the console), or NULL: */
	const char *session;
	const char *from;
	FILE *out;		/* tables or JSON */
	FILE *err;		/* what went wrong and what to do */
	int terminal;		/* out is a terminal: watch keeps the screen's
				 * (sanitised) control sequences; else text */
	/*
	 * Streaming verbs call this while they wait (may be NULL: they then
	 * just sleep): wait up to wait_ms for the caller's side, return 1
	 * once the caller has left or asked to stop (^C), else 0.
	 */
	int (*cancelled)(void *arg, unsigned wait_ms);
	void *cancel_arg;
	/*
	 * watch: follow the live recording of session s (its path is checked
	 * to lie below recordings_dir) and write the device's output,
	 * sanitised, to out until the session ends or cancelled() says stop;
	 * returns 0, or 1 after saying why on err. Following a live file is
	 * bastiond's business, so it provides it: console_follow() in
	 * bastion/approval.c. NULL: watch is refused here.
	 */
	int (*follow)(struct verb_ctx *c, const struct state_session *s,
	    int from_start);
	/*
	 * report: bastionctl's monthly report (ctl/cmd-report.c), called with
	 * the verb's words; NULL where there is none.
	 */
	int (*report)(struct verb_ctx *c, int argc, char **argv);
	void *report_arg;
	/*
	 * The web console (bastion/control_web.c): the hex challenge of the
	 * WebAuthn assertion that authorised this action, or NULL. Decision
	 * events carry it as assertion=, which points at the web.assertion
	 * event holding the signed action (docs/WEB.md).
	 */
	const char *assertion;
};

/* The assertion field of a decision event, last before the NULL of an
 * audit_ev() list: left out (the list ends there) when there is none. */
#define VERB_ASSERTION(c) \
	((c)->assertion != NULL ? "assertion" : NULL), (c)->assertion

/* A verb's arguments after the shared parser: options anywhere, "--"
 * ends them; argc/argv as given (argv[0] is the verb). */
struct verb_args {
	int json, all;
	size_t width;			/* tables: TABLE_WIDTH, 0 with --wide */
	unsigned opts;			/* VO_* given */
	int n;
	char *pos[VERB_MAX_WORDS];	/* positional arguments */
	int argc;
	char **argv;
	const struct cmd_entry *entry;	/* the verb being run */
};

struct cmd_entry {
	const char *name;
	const char *alias;	/* another name, or NULL */
	const char *usage;	/* what follows the verb */
	const char *summary;	/* one line for bastionctl's help */
	const char *hint;	/* shown after the usage in the consoles'
				 * help, or NULL */
	unsigned opts;		/* VO_* it takes (not with VERB_OWN_ARGS) */
	unsigned flags;		/* VERB_* */
	/* 0 done, 1 refused or failed (said why on c->err), 2 usage */
	int (*exec)(struct verb_ctx *c, const struct verb_args *a);
	/* What an exec that several verbs share needs to know of this one
	 * (a listing's columns, an auditor verb's run), as a->entry->data;
	 * else NULL. */
	const void *data;
};

/*
 * The one context builder: every front end calls it first. Clears c, sets
 * the policy, the verbs this front end may run (front: a VERB_* mask),
 * where output and errors go, and who asks (verb_identity(), with via
 * and name). Front ends then set only what is theirs: session and from,
 * terminal, cancelled, follow, report, and st when they hold the store.
 */
void verb_ctx_init(struct verb_ctx *c, const struct policy *pol,
    unsigned front, const char *via, const char *name, FILE *out, FILE *err);

/*
 * After verb_ctx_init() with streams the front end opened: 1 if both out
 * and err are there; else 0, after closing the one that is (NULL-safe).
 */
int verb_ctx_streams_ok(struct verb_ctx *c);

/*
 * Who the admin is: the one rule every front end follows (through
 * verb_ctx_init()).
 *  - via "ssh" (the admin console): name is the policy admin the key
 *    authenticated as;
 *  - via "bastionctl" (local, or over bastiond's control socket): name is
 *    the caller's Unix login, and the admin is the one whose unix_user:
 *    is that login (policy.h). There is no default: a policy name equal
 *    to the login does not map.
 * Sets c->admin, c->admin_is_policy and c->via, and returns the policy
 * admin, or NULL when the caller maps to none (or to a disabled or
 * expired admin): c->admin is then the name itself, and that caller may
 * still take single-approver decisions (recorded under the login) but
 * never counts as one of the two admins of a second_approver rule.
 * Either way, two approvals that resolve to the same admin are one.
 */
const struct policy_person *verb_identity(struct verb_ctx *c,
    const char *via, const char *name);

/* The verb called name (or by that alias) that a front end allowed
 * front (VERB_* mask) may run; NULL if none. */
const struct cmd_entry *verb_find(const char *name, unsigned front);
/*
 * Run verb e with argv (argv[0] the verb): the shared option parser
 * (unless VERB_OWN_ARGS), the state store opened if the verb needs it and
 * the front end has not (closed again after), then e->exec. 0 done,
 * 1 refused or failed, 2 usage (said why on c->err).
 */
int verb_exec(struct verb_ctx *c, const struct cmd_entry *e, int argc,
    char **argv);
/*
 * A console's command line (line may be NULL): cut into words as
 * appr_split() does, the first being a verb front may run. That verb's
 * entry, or NULL (none, a bad line or an unknown verb). *argv, which
 * may be set either way, is freed with appr_free_words().
 */
const struct cmd_entry *verb_line(const char *line, unsigned front,
    char ***argv, int *argc);
/* One line per verb front may run: "PREFIXname usage   hint". */
void verb_help(FILE *f, unsigned front, const char *prefix);
/* bastionctl's help: "  name     usage\n           summary" per verb. */
void verb_help_long(FILE *f, unsigned front);
/* "usage: PROGRAM name usage\n  summary" for one verb. */
void verb_usage(FILE *f, const char *program, const struct cmd_entry *e);

/*
 * Canonical actions for the web console (plan §3, docs/WEB.md "Actions"):
 * a state-changing verb that can be approved in a browser has a describe
 * function. It checks its words as exec would, without acting, and writes
 * what would be done as SSH strings to canon (the verb, its normalised
 * arguments and the target row as it stands: any change of the row
 * changes the bytes) and a JSON object for the confirmation dialog to
 * summary. 0, or exec's status (1, 2) after saying why on c->err.
 */
typedef int (*verb_describe_fn)(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
/* The describe function of e, or NULL: such a verb cannot be run from
 * the web console. */
verb_describe_fn verb_describer(const struct cmd_entry *e);
/* verb_exec() for describe: the shared parser and the store, then the
 * verb's describe (2 when it has none). */
int verb_describe(struct verb_ctx *c, const struct cmd_entry *e, int argc,
    char **argv, struct buf *canon, FILE *summary);

int cmd_approve_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_deny_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_kill_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_revoke_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_lock_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_unlock_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_export_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_file_approve_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);
int cmd_file_deny_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary);

/* The verbs (verbs/cmd-*.c). */
extern const struct cmd_entry cmd_requests_entry;
extern const struct cmd_entry cmd_approve_entry;
extern const struct cmd_entry cmd_deny_entry;
extern const struct cmd_entry cmd_grants_entry;
extern const struct cmd_entry cmd_revoke_entry;
extern const struct cmd_entry cmd_sessions_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_lock_entry;
extern const struct cmd_entry cmd_unlock_entry;	/* cmd-lock.c */
extern const struct cmd_entry cmd_vendors_entry;
extern const struct cmd_entry cmd_enroll_entry;
extern const struct cmd_entry cmd_keys_entry;
extern const struct cmd_entry cmd_report_entry;	/* verb.c */
extern const struct cmd_entry cmd_checkpoints_entry;	/* verb.c */
extern const struct cmd_entry cmd_recordings_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_replay_entry;
extern const struct cmd_entry cmd_cast_entry;		/* cmd-replay.c */
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_web_enroll_entry;
extern const struct cmd_entry cmd_file_requests_entry;	/* cmd-files.c */
extern const struct cmd_entry cmd_file_approve_entry;
extern const struct cmd_entry cmd_file_deny_entry;
extern const struct cmd_entry cmd_declare_entry;	/* engineers */
/* One file declaration as a JSON object (declare --json, the report's
 * open_declarations): session, engineer, vendor, device, since (Unix
 * seconds), files, bytes, personal, erased, list (its files' lines). */
void cmd_declare_json(FILE *f, const struct state_decl *d);

#endif
