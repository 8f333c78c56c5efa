/*
 * monitor.h - the control pipe between bastiond's listener and a session
 * worker (the worker's fd 4): a line protocol, both directions, every line
 * bounded and checked before anything acts on it.
 *
 * The listener is the session monitor: it keeps the list of live vendor
 * sessions in the state store (table `session`), and it alone polls that
 * store for admins' kill requests, revoked grants and locked engineers, so
 * that a worker in its relay phase needs no state store at all (it can be
 * demoted and sandboxed there). docs/ARCHITECTURE.md, "Session monitor".
 *
 *   worker -> listener
 *	A                                   authenticated
 *	S SID ENGINEER VENDOR DEVICE GRANT RECORDING
 *	                                    the device is connected; the relay
 *	                                    starts (DEVICE "-": forwards only;
 *	                                    GRANT 0: none; RECORDING: the rest
 *	                                    of the line, an absolute path)
 *	E REASON                            the session is ending, and why
 *	V AUDITLINE                         an audit event of a sandboxed
 *	                                    worker (log.h's line format, at
 *	                                    most MON_AUDIT_MAX bytes): the
 *	                                    listener checks it names this
 *	                                    worker's pid and session, then
 *	                                    appends it to the audit chain
 *   listener -> worker
 *	K BY REASON                         an admin killed the session
 *	                                    (BY "-": the bastion itself)
 *	L BY REASON                         an admin locked the engineer
 *	R                                   its grant was revoked
 *
 * Lines end in "\n" and are at most MON_CTL_LINE_MAX bytes with it (V lines:
 * MON_LINE_MAX). Names
 * (ENGINEER, VENDOR, DEVICE, BY) have the policy's charset [a-z0-9._-],
 * starting with a letter or digit, at most POLICY_MAX_NAME bytes; SID and
 * GRANT are decimal; REASON is UTF-8 without control characters (C0, DEL,
 * C1), at most MON_TEXT_MAX bytes. Anything else is malformed.
 *
 * The listener treats what a worker sends as untrusted: a line too long
 * or more than MON_MAX_LINES of them gets the worker killed, malformed or
 * unexpected lines are logged and ignored, and an S line must agree with
 * the policy and with what the listener knows itself (the session number).
 * Nothing here does I/O: the parser and the line assembler are pure, so
 * tests/unit/test_monitor.c feeds them anything.
 */
#ifndef BASTION_MONITOR_H
#define BASTION_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define MON_CTL_LINE_MAX 512	/* one control line, newline included */
#define MON_AUDIT_MAX	4096	/* a V line's audit line (log.h: 4 KiB) */
#define MON_LINE_MAX	(MON_AUDIT_MAX + 4)	/* the longest: "V " line \n */
#define MON_TEXT_MAX	200	/* REASON */
#define MON_PATH_MAX	400	/* RECORDING */
#define MON_SID_MAX	20	/* digits of SID and GRANT */
#define MON_MAX_LINES	32	/* a worker needs 3; more is a flood */
#define MON_AUDIT_BURST	1000	/* V lines per MON_AUDIT_WINDOW seconds */
#define MON_AUDIT_WINDOW 10

enum mon_type {
	MON_NONE = 0,
	MON_AUTH,	/* A */
	MON_SESSION,	/* S */
	MON_END,	/* E */
	MON_KILL,	/* K */
	MON_LOCK,	/* L */
	MON_REVOKE,	/* R */
	MON_AUDIT	/* V */
};

struct mon_msg {
	enum mon_type type;
	char sid[MON_SID_MAX + 1];
	char engineer[POLICY_MAX_NAME + 1];
	char vendor[POLICY_MAX_NAME + 1];
	char device[POLICY_MAX_NAME + 1];	/* "-": none */
	int64_t grant;				/* 0: none */
	char path[MON_PATH_MAX + 1];
	char by[POLICY_MAX_NAME + 1];		/* "-": the bastion */
	char text[MON_TEXT_MAX + 1];
	const char *audit;	/* V: the audit line, inside the parsed line */
	size_t auditlen;
};

/* Splits a byte stream into lines without ever holding more than one. */
struct mon_reader {
	char buf[MON_LINE_MAX];
	size_t n;
	int broken;	/* a line was too long: everything after is refused */
};

void mon_reader_init(struct mon_reader *r);
/*
 * Append len bytes and call fn once for every complete line (without its
 * newline; line[len] is NUL, but the line may hold NUL bytes itself, so
 * use len). Returns 0; BERR_LIMIT once a line exceeds MON_LINE_MAX (the
 * reader then refuses everything: the peer is broken); or what fn
 * returned when it returned non-zero (which stops the walk).
 */
int mon_reader_feed(struct mon_reader *r, const void *data, size_t len,
    int (*fn)(const char *line, size_t len, void *arg), void *arg);

/* Parse one line (without its newline) into *m. 0 or BERR_FORMAT (m is
 * then zeroed). */
int mon_parse(const char *line, size_t len, struct mon_msg *m);

/*
 * Format *m as one line with its newline into out. Text is made clean
 * first (mon_text_clean), so an admin's reason can always be sent. 0;
 * BERR_INVAL when a name or number is not valid for the line; BERR_LIMIT
 * when out is too small.
 */
int mon_format(const struct mon_msg *m, char *out, size_t len);

/*
 * Does an S line agree with the policy and with the listener's own facts
 * (sid: the session number it gave the worker; recordings_dir from the
 * policy)? The engineer must be an engineer of that vendor, the device
 * one of the vendor's (or "-"), the recording a .brec file below the
 * policy's recordings_dir named as the recorder names them. NULL when it
 * does, else a short reason for the log.
 */
const char *mon_session_check(const struct mon_msg *m, const char *sid,
    const struct policy *pol);

/* 1 if path names a recording file below the policy's recordings_dir
 * (components [A-Za-z0-9._-], none "." or "..", ending in .brec). */
int mon_recording_ok(const struct policy *pol, const char *path);

/*
 * Is a V line's audit line one this worker may write? It must be well
 * formed (no control character, ts=, event=, pid= first, then key=value
 * fields with keys [a-z0-9_.]), carry the worker's own pid, name no other session than
 * sid, and bring no chain= field of its own. NULL when it is, else a
 * short reason for the log.
 */
const char *mon_audit_check(const char *line, size_t len, const char *sid,
    long pid);

/* 1 if s is a name: [a-z0-9][a-z0-9._-]*, 1..POLICY_MAX_NAME bytes. */
int mon_name_ok(const char *s);
/* 1 if s[0..len-1] is clean text: strict UTF-8 without C0, DEL or C1. */
int mon_text_ok(const char *s, size_t len);
/* Copy in to out (len bytes with the NUL, at most MON_TEXT_MAX + 1 used):
 * controls and invalid bytes become '?', cut on a character boundary. */
void mon_text_clean(const char *in, char *out, size_t len);

#endif
