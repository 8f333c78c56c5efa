/*
 * approvals.h - what the admin verbs (verbs/cmd-*.c) share: durations,
 * the approval rule of a device, command lines cut into words, times and
 * cells for tables, JSON of requests and grants, and the lookups and
 * checks several verbs make (an id, a pending request, a session, a
 * reason, waiting for the caller). The verbs themselves and their table
 * are verb.h; the flow of a waiting engineer is bastion/approval.c;
 * docs/APPROVALS.md describes both.
 *
 * Tables (base/table.h) list the newest first and stay under 100
 * columns, cutting long text with "..."; --wide cuts nothing.
 */
#ifndef BASTION_APPROVALS_H
#define BASTION_APPROVALS_H

#include <stdio.h>
#include <time.h>

#include "policy.h"
#include "state.h"
#include "table.h"
#include "verb.h"

#define APPR_KILL_WAIT_S	10	/* kill waits this long for the end */
#define APPR_TEXT_MAX		200	/* reasons (deny, kill, lock) */

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

/* ,"KEY":VALUE for each pair of the NULL-terminated kv (KEY, VALUE, ...),
 * the values through text_json() (text.h): the string fields of a JSON
 * object after its first field. */
void appr_json_strs(FILE *f, const char *const *kv);
/* Write request r (grant g) as one JSON object (no newline); strings
 * through text_json() (text.h). */
void appr_request_json(FILE *f, const struct state_request *r);
void appr_grant_json(FILE *f, const struct state_grant *g);
/* appr_grant_json() without the closing brace, for more fields. */
void appr_grant_json_open(FILE *f, const struct state_grant *g);
/* File export request e as file-requests --json writes it, without the
 * closing brace (the notification adds its kind). */
void appr_export_json_open(FILE *f, const struct state_export *e);

/* t as strftime(fmt) in UTC, or "-" for 0. */
void appr_strftime(time_t t, const char *fmt, char *out, size_t len);
/* "2026-11-05 14:05:01 UTC", or "-" for 0. */
void appr_time(time_t t, char *out, size_t len);
/* A time in a table whose header says (UTC): "2026-11-05 14:05:01". */
void appr_tcell(time_t t, char *out, size_t len);
/* A table cell: the text cleaned for a terminal (text.h), "-" if none. */
void appr_cell(const char *s, char *out, size_t len);

/* The id in s (a positive number); 0, or -1 after saying on c->err
 * which listing the numbers come from. */
int appr_id(struct verb_ctx *c, const char *verb, const char *s,
    int64_t *id);
/* Request id, pending and not past its timeout, and its device; 0, or
 * -1 after saying why. */
int appr_pending(struct verb_ctx *c, const char *verb, int64_t id,
    struct state_request *r, const struct policy_device **dev);
/* The session numbered arg (kill, watch); 0, or the exit status (1, or 2
 * for a word that is no number) after saying why. */
int appr_session(struct verb_ctx *c, const char *verb, const char *arg,
    struct state_session *s);
/* Reasons reach the engineer's terminal and the audit log: 1 if why is
 * clean text of at most APPR_TEXT_MAX bytes, else 0 after saying so. */
int appr_reason_ok(struct verb_ctx *c, const char *verb, const char *why);
/*
 * The canonical action of a decision on request r (verb_describe_fn): the
 * verb, the request row as it stands, the duration (approve) or the
 * reason (deny), as SSH strings to canon, and the summary JSON. 0 or
 * BERR_LIMIT / BERR_NOMEM.
 */
int appr_canon_request(struct buf *canon, FILE *summary, const char *verb,
    const struct state_request *r, unsigned dur, const char *why);
/* The same for any action: kv (name, value, ..., NULL; the first pair
 * "verb") as strings to canon and as a JSON object of strings. */
int appr_canon_kv(struct buf *canon, FILE *summary, const char *const *kv);
/* The positional words from i on, joined by blanks (a reason); dflt if
 * there are none. */
void appr_join(const struct verb_args *a, int i, const char *dflt,
    char *out, size_t len);
/* Wait up to ms for the caller's side; 1 when they left or asked to
 * stop. */
int appr_wait(struct verb_ctx *c, unsigned ms);

/*
 * A listing verb (requests, grants, sessions): "VERB [--all] [--json]
 * [--wide]", no other words. Its walk over the state store fills l
 * through appr_list_json() and appr_list_row(), and returns 0, or
 * nonzero when the store failed.
 */
struct appr_list {
	struct verb_ctx *c;
	int json;
	time_t now;		/* when the listing began */
	size_t n;		/* rows (or JSON objects) so far */
	struct table *t;	/* NULL with --json */
};

struct appr_listing {
	const struct table_col *cols;
	size_t ncols;
	int (*walk)(struct appr_list *l, const struct verb_args *a);
	const char *failed;	/* said after "VERB: " when walk fails */
	const char *none;	/* said when there is nothing to list */
	const char *none_all;	/* the same with --all */
};

/* The exec of every listing verb, whose cmd_entry's data is its struct
 * appr_listing: a JSON array, or a table of its cols, or its none; the
 * exit status (0, 1 after saying why, 2 for extra words). */
int appr_list_exec(struct verb_ctx *c, const struct verb_args *a);
/* For a walk: 1 when the listing is JSON, the separator before the next
 * object written (the caller writes the object); else 0. */
int appr_list_json(struct appr_list *l);
/* For a walk: one row of the table; 0 or BERR_NOMEM. */
int appr_list_row(struct appr_list *l, const char *const *cells);

#endif
