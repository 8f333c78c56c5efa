/*
 * log.h - diagnostics and structured audit events.
 *
 * Diagnostics (log_*) are for operators: free text with a level, written to
 * stderr and, once log_init() enabled it, to syslog/the journal.
 *
 * Audit events (audit_event) are the record the MHLW guideline asks for:
 * when, who, from where, to where, what and why. Each event is one line of
 * logfmt (key=value, values quoted when needed) prefixed "AUDIT", so it can be
 * grepped on stderr, parsed from the journal, and appended to the
 * hash-chained audit log (auditlog.h, docs/AUDIT.md). Values are escaped so
 * that a hostile user name cannot forge a second field or a second line.
 */
#ifndef BASTION_LOG_H
#define BASTION_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "events.h"

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* ident: program name; to_syslog: also send to syslog; level: the most
 * verbose level printed. Safe to call again (after fork) to change ident. */
void log_init(const char *ident, int to_syslog, enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Hook called with every formatted audit line (without the "AUDIT " prefix
 * or newline) before it is printed: the audit chain (auditlog.h) installs
 * itself here. It returns 0 when the event is kept, or a BERR_* code, and
 * may write a short note (" chain=SEQ:HASH") that is appended to the
 * printed line, so the journal holds a witness of every chain line. NULL
 * removes the hook.
 */
typedef int (*audit_sink_fn)(const char *line, char *note, size_t notelen,
    void *arg);
void audit_set_sink(audit_sink_fn fn, void *arg);

/*
 * Emit an audit event: event name, then key, value pairs (both const char *),
 * terminated by NULL. NULL values are written as "-". The time stamp (UTC,
 * RFC 3339 with milliseconds) and pid are added automatically. A field that
 * does not fit in the line (4 KiB) is left out whole and "truncated=yes"
 * says so.
 *
 *	audit_event("auth.factor", "user", "alice", "factor", "publickey",
 *	    "result", "ok", NULL);
 *
 * Returns 0 when the event reached the sink (or there is none), else the
 * sink's BERR_* code: a caller that must not go on without a durable
 * record of the event (session start, docs/AUDIT.md) checks it; everyone
 * else may ignore it, since the failure is logged.
 */
int audit_event(const char *event, ...) __attribute__((sentinel));
/* The same with the event's constant from the schema (events.h), so that
 * an undeclared event does not compile: what every emitter writes.
 * audit_event() by name is for names that arrive at run time (a child's
 * events relayed by its monitor); it refuses a name that is not declared
 * (logged, nothing written, BERR_INVAL). Fields that do not match the
 * schema are logged as an error, and the line is still written. */
int audit_ev(enum bev ev, ...) __attribute__((sentinel));
/* A formatted audit line (as the sink gets it) from elsewhere: a sandboxed
 * worker's, relayed by the listener (monitor.h "V"). Sink, then print. */
int audit_line(const char *line);
/* Do not print audit lines here (the sink hands them to a process that
 * prints them, with the chain's witness). */
void audit_set_quiet(int quiet);
int audit_eventv(const char *event, va_list ap);

/* stderr, or, when stderr is the journal, a stream that gives each of its
 * lines the priority of lvl (for problem lists printed as they are found,
 * such as the policy loader's). */
FILE *log_stream(enum log_level lvl);

/* Copy in to out (always NUL-terminated, cut at outlen) with every
 * control character (C0, DEL, C1) and every byte that is not valid UTF-8
 * written as \xNN: what every diagnostic line goes through. */
void log_clean(char *out, size_t outlen, const char *in);

/* Escape a value for logfmt into out (always NUL-terminated, truncated with
 * "..." if needed). Exposed for tests. */
void log_escape(char *out, size_t outlen, const char *in);

#endif
