/*
 * auditlog.h - the hash-chained local audit log (docs/AUDIT.md).
 *
 * Every audit event (log.h, audit_event) is also appended, as one line, to
 * STATE_DIR/audit.log. Each line names its place in the chain and proves
 * its own content:
 *
 *	seq=N prev=HEX64 ts=... event=... pid=... k=v ... hash=HEX64\n
 *
 * seq counts from 1 without gaps; prev is the previous line's hash (64
 * zeros for seq 1); the middle is the event exactly as audit_event()
 * formats it (logfmt); hash is SHA-256 over "bastion-audit-v1\n" and the
 * line's bytes before " hash=". Editing, deleting, inserting or reordering
 * a line therefore breaks the chain at that line.
 *
 * Several processes append at once (the bastiond listener, one worker per
 * connection, bastionctl): an append takes an exclusive flock(2) on the
 * file (waiting at most AUDITLOG_LOCK_TIMEOUT_MS), reads the previous
 * line's seq and hash from the file's tail with one bounded read, writes
 * its line with one write(2) and fdatasync(2)s before unlocking. A short
 * write is cut back off, so the file only ever grows by whole lines. A
 * torn last line (power loss mid-write) is sealed off by the next append
 * with an "audit.torn_tail" line that records its length and SHA-256, so
 * the chain goes on and the verifier can show exactly what was torn.
 *
 * Errors are BERR_* codes (err.h). The library never prints: the words of
 * the last failure are in auditlog_error(); the process-wide chain
 * (auditlog_open) logs them through log.h, so that this file can also be
 * linked into the PAM module, which must never write to stderr.
 */
#ifndef BASTION_AUDITLOG_H
#define BASTION_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "events.h"

#define AUDITLOG_FILE		"audit.log"
#define AUDITLOG_LINE_MAX	8192	/* one chain line, newline included */
#define AUDITLOG_BODY_MAX	(AUDITLOG_LINE_MAX - 200)
#define AUDITLOG_HEX_LEN	64	/* a SHA-256 in lowercase hex */
#define AUDITLOG_LOCK_TIMEOUT_MS 5000
#define AUDITLOG_TORN_EVENT	"audit.torn_tail"
#define AUDITLOG_DOMAIN		"bastion-audit-v1\n"

/* ---- the process-wide chain (used by audit_event) ---------------------- */

enum auditlog_open_flags {
	AUDITLOG_EAGER = 0,	/* open (creating) now; fail now */
	AUDITLOG_LAZY = 1,	/* open on the first event */
};

/*
 * Chain this process's audit events to STATE_DIR/audit.log: installs the
 * audit sink of log.h, so that audit_event() appends every event and
 * returns non-zero when it could not. EAGER opens (creating the file 0640
 * if needed) now and returns BERR_* after logging what went wrong and what
 * to do; LAZY only remembers the path (bastionctl: a read-only verb must
 * not need write access). A child process after fork() reopens the file by
 * itself at its first event (flock must not be shared with the parent).
 */
int auditlog_open(const char *state_dir, int flags);
/* Stop chaining (removes the sink); safe when not open. */
void auditlog_close(void);
/* The chained file's path (canonical when the state directory exists),
 * or NULL when auditlog_open() was not called. */
const char *auditlog_path(void);
/* The descriptor this process appends through, or -1 when not open yet:
 * a sandbox that closes descriptors must keep it. */
int auditlog_fd(void);
/* The seq and hash of the line this process's last audit event became
 * (the sink's, set only when it was appended): 0, or BERR_NOTFOUND
 * before the first. Read it on the thread that emitted the event. */
int auditlog_last(uint64_t *seq, char hash[AUDITLOG_HEX_LEN + 1]);
/* "STATE_DIR/audit.log" into out; BERR_LIMIT if it does not fit. */
int auditlog_path_for(const char *state_dir, char *out, size_t outlen);

/* ---- one chain file ---------------------------------------------------- */

struct auditlog;

/*
 * A handle on the chain at path (nothing is opened yet). create: the first
 * append may create the file (mode 0640); otherwise a missing file is
 * BERR_NOTFOUND. *out is NULL on entry and on failure.
 */
int auditlog_new(const char *path, int create, struct auditlog **out);
/* auditlog_free(NULL) is a no-op. */
void auditlog_free(struct auditlog *al);
/*
 * Append one event (the logfmt body, no newline; at most AUDITLOG_BODY_MAX
 * bytes, no control characters) as the next line of the chain. *seq and
 * hash (either may be NULL) receive the line's number and hash. Returns 0,
 * BERR_INVAL (bad body), BERR_TIMEOUT (lock held too long), BERR_FORMAT
 * (the file's tail is not a chain line: the chain cannot continue),
 * BERR_NOTFOUND, BERR_SYS. Nothing is written on failure.
 */
int auditlog_append(struct auditlog *al, const char *body, uint64_t *seq,
    char hash[AUDITLOG_HEX_LEN + 1]);
/* Words for the last failure of al (what went wrong); "" if none. */
const char *auditlog_error(const struct auditlog *al);

/* ---- lines and fields -------------------------------------------------- */

struct auditlog_line {
	uint64_t seq;
	char prev[AUDITLOG_HEX_LEN + 1];
	char hash[AUDITLOG_HEX_LEN + 1];
	const char *body;	/* points into the parsed text */
	size_t bodylen;
};

/*
 * Parse one chain line (text of len bytes, without the newline; untrusted)
 * into *l: structure only. 0 or BERR_FORMAT. auditlog_line_hash_ok() then
 * says whether the stored hash is the hash of the line (1) or not (0).
 */
int auditlog_line_parse(const char *text, size_t len, struct auditlog_line *l);
int auditlog_line_hash_ok(const char *text, size_t len,
    const struct auditlog_line *l);
/* The hash a line must carry: over the text before " hash=" (hashed is the
 * length of that part). 0 or BERR_CRYPTO. */
int auditlog_hash(const char *hashed, size_t len,
    char out[AUDITLOG_HEX_LEN + 1]);

/*
 * Walk the logfmt fields of a body (untrusted): *pos starts at body, end is
 * body + bodylen. Each call unescapes the next key=value into key and val
 * (NUL-terminated; quoted values lose their quotes and escapes). 0 with a
 * field, BERR_NOTFOUND at the end, BERR_FORMAT for a malformed field,
 * BERR_LIMIT if the key or value does not fit.
 */
int auditlog_field_next(const char **pos, const char *end, char *key,
    size_t keylen, char *val, size_t vallen);
/* The value of key in a body: 0, BERR_NOTFOUND, BERR_FORMAT, BERR_LIMIT. */
int auditlog_field(const char *body, size_t len, const char *key, char *val,
    size_t vallen);
/* The event of a body as the schema's constant (an enum bev of events.h),
 * or BEV_NONE when it has none or one that is not declared: how readers of
 * the chain recognise events. */
enum bev auditlog_event(const char *body, size_t len);

/* ---- reading a chain file ---------------------------------------------- */

struct auditlog_reader;

/* Read path / fp (not closed by auditlog_reader_free) line by line. */
int auditlog_reader_open(const char *path, struct auditlog_reader **out);
int auditlog_reader_open_fp(FILE *fp, struct auditlog_reader **out);
/*
 * The next line (without its newline; valid until the next call): 0;
 * BERR_NOTFOUND at the end; BERR_TRUNC for a last line without a newline
 * (*text, *len are set to it); BERR_LIMIT for a line longer than
 * AUDITLOG_LINE_MAX (the reader cannot go on); BERR_SYS on a read error.
 */
int auditlog_reader_next(struct auditlog_reader *r, const char **text,
    size_t *len);
/* 1-based number of the line last returned. */
uint64_t auditlog_reader_lineno(const struct auditlog_reader *r);
void auditlog_reader_free(struct auditlog_reader *r);

/*
 * Call fn for every line of the chain at path that parses (a broken chain
 * is still read; a torn last line is not), in file order, with the parsed
 * line and its text (len bytes, no newline). fn returns 0 to go on, 1 to
 * stop, or a BERR_* code that ends the walk and is returned. 0 at the end
 * (or when fn stopped); BERR_NOTFOUND: no such file; what the reader says
 * (BERR_SYS, BERR_LIMIT).
 */
typedef int (*auditlog_each_fn)(const struct auditlog_line *l,
    const char *text, size_t len, void *arg);
int auditlog_each(const char *path, auditlog_each_fn fn, void *arg);

/* ---- the lines of one recorded session --------------------------------- */

/*
 * Which chain lines belong to one recorded session (the evidence bundle,
 * the monthly report). The anchor is the worker's "session.recording"
 * line naming both bastiond's session number (ref, the recording's "ref"
 * header) and the recording id; the session's lines are then those with
 * session=ref from the same worker process (pid), plus, transitively,
 * every line naming a request or grant one of them names (the approval,
 * even when it was filed by an earlier connection), plus lines with
 * session=RECORDING (the recorder's own events).
 *
 * Feed every line's body to auditlog_sel_learn(), in file order, and
 * repeat the walk while auditlog_sel_changed() says something was learned
 * (at most AUDITLOG_SEL_PASSES walks); then auditlog_sel_match() says
 * whether a line belongs.
 */
#define AUDITLOG_SEL_PASSES	4
#define AUDITLOG_SEL_IDS	64	/* requests, and grants, per session */

struct auditlog_sel;

/* *out is NULL on entry and on failure (BERR_NOMEM, BERR_INVAL). */
int auditlog_sel_new(const char *ref, const char *recording,
    struct auditlog_sel **out);
void auditlog_sel_free(struct auditlog_sel *s);
void auditlog_sel_learn(struct auditlog_sel *s, const char *body,
    size_t len);
/* 1 if the walk since the last call learned something (and resets). */
int auditlog_sel_changed(struct auditlog_sel *s);
/* 1 once the anchor line was seen. */
int auditlog_sel_anchored(const struct auditlog_sel *s);
int auditlog_sel_match(const struct auditlog_sel *s, const char *body,
    size_t len);

/* ---- verification ------------------------------------------------------ */

enum auditlog_verdict {
	AUDITLOG_OK = 0,	/* every line chains and proves its content */
	AUDITLOG_ALTERED = 1,	/* bad_line is the first line that does not */
	AUDITLOG_TRUNCATED = 2,	/* all whole lines verify; the last line
				   has no newline (torn write or cut file) */
	AUDITLOG_ERROR = 3,	/* could not be read */
};

struct auditlog_verify {
	int verdict;
	uint64_t lines;		/* lines that verify (1..lines) */
	uint64_t last_seq;	/* seq of the last of them */
	char head[AUDITLOG_HEX_LEN + 1];	/* its hash; "" if none */
	uint64_t torn;		/* torn writes sealed by audit.torn_tail */
	uint64_t bad_line;	/* ALTERED/TRUNCATED: 1-based line number */
	char why[256];		/* what is wrong with it */
};

/* Verify a whole chain file (from seq 1). Returns and fills v->verdict. */
int auditlog_verify_file(const char *path, struct auditlog_verify *v);
int auditlog_verify_fp(FILE *fp, struct auditlog_verify *v);

#endif
