/*
 * auditsess.h - what the audit chain says of recorded sessions: who, from
 * where, to where, how they were let in and by whom, how they ended, and
 * the work record (docs/AUDIT.md, sections 6 and 8).
 *
 * One reader for every tool that summarises sessions from the chain: the
 * monthly report (bastionctl report), bastion-replay's header (--audit),
 * the evidence export's admission, and the web console to come. Events are
 * recognised only through the schema's roles (events.h: BEV_ROLE_*), so a
 * reader never compares event names of its own.
 *
 * A session is the worker that served one connection: its lines carry
 * session=N (bastiond's session number) and the worker's pid. It starts at
 * its anchor (the role BEV_ROLE_ANCHOR, session.recording: one per session
 * that reached a device). Everything taken from the chain is untrusted
 * text, parsed with the bounded logfmt parser of auditlog.h and kept in
 * fixed fields (cut, never overflowing); a caller shows it through text.h.
 */
#ifndef BASTION_AUDITSESS_H
#define BASTION_AUDITSESS_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

#define AUDITSESS_MAX		100000	/* sessions read at most */
#define AUDITSESS_MAX_APPROVALS	100000	/* approval.approve lines kept */

/* One session, as the chain tells it. */
struct auditsess {
	char sid[32], pid[16];
	uint64_t first_seq;		/* its anchor's seq */
	char start[32], end[32];	/* ts of the anchor and of the end */
	long long seconds;		/* -1: no end event */
	char engineer[80], vendor[80], from[64], source[96];
	char device[80], to[96], kind[16];
	char local[96];			/* the bastion's end toward the device
					   (device.connect local=) */
	char recording[80], rec_path[2048];
	char bytes_in[24], bytes_out[24], end_reason[160];
	char admission[16];		/* "", window, grant, request */
	char request[32], grant[32], approvers[256];
	char work[1024];		/* the work record's fields, logfmt */
	int has_work;
	char grant_start[32];		/* session.start's grant= */
	/* left for the caller (the report): */
	int live;			/* no end yet, and the store says live */
	const char *rec_status;
	char rec_detail[1024];
};

/* An approval.approve line: who approved which request, giving which
 * grant. */
struct auditsess_approval {
	char request[32], grant[32], admin[80];
};

struct auditsess_set {
	struct auditsess *s;		/* in chain order (first_seq) */
	size_t n, cap;
	struct auditsess_approval *a;
	size_t na, capa;
	int overflow;			/* more than AUDITSESS_MAX sessions */
};

/*
 * Read the chain at path (every line that parses: a broken chain is still
 * read; verify it first with auditlog_verify_file()) into set (zeroed by
 * the caller, or cleared): with recording NULL, the sessions whose anchor
 * has a time that starts with month ("2026-11"; "" for all); with a
 * recording id, only the session whose anchor (or session.start) names it.
 * Then everything the chain says of them, and their approvers from the
 * approval.approve lines (request <-> grant filled in from them).
 * 0, or BERR_* (BERR_NOTFOUND: no such file; BERR_NOMEM; BERR_SYS).
 */
int auditsess_read(const char *path, const char *month,
    const char *recording, struct auditsess_set *set);
/*
 * How the session of recording recid was let in, as the chain at path
 * says it, with the chain's state (one line, for bastion-replay's header):
 * "grant 3, request 5 approved by bob (audit chain verified intact)",
 * "not found: the audit chain has no line for this recording (...)", ...
 * The text in out and 1 when the chain names who let the session in (its
 * approvers, or a window), 0 when it does not (no line, no approval line:
 * another node's chain may hold it), or -1 with why the chain cannot be
 * read.
 */
int auditsess_approval_text(const char *path, const char *recid, char *out,
    size_t len, char *why, size_t whylen);
/* Free what set holds (not set itself); safe on a zeroed set. */
void auditsess_set_clear(struct auditsess_set *set);

/* What one line (its body, untrusted) of session s says of it. */
void auditsess_learn(struct auditsess *s, const char *body, size_t len);

/* How a session was let in, for an event of an ADMIT_* role: "window",
 * "grant", "request"; NULL for any other event. */
const char *auditsess_admission(enum bev ev);

/* Add name to a ", "-separated list of whole names (no duplicates, cut at
 * len). */
void auditsess_add_name(char *list, size_t len, const char *name);

#endif
