/*
 * store_decl.c - file declarations in the SQL store (issue 18, item 6;
 * docs/FILES.md "Work record and declarations"): the files that crossed
 * the airlock in a session whose vendor's policy asks for a work record,
 * and the engineer's answer for them (did any hold personal data; was it
 * erased). A session's declaration opens with its first file and closes
 * only on personal=no or erased=yes; a file moved after an answer opens
 * it again. The operations are written once, in the SQL SQLite and
 * PostgreSQL both understand (store_sqlite.h), and run on either driver;
 * the tables are schema step SQ_SCHEMA_DECL (store_sqlite.c lists it).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store_sqlite.h"

static const struct sq_col sq_declf_cols[] = {
	SQC(SQC_I64, state_decl_file, session),
	SQC(SQC_TEXT, state_decl_file, engineer),
	SQC(SQC_TEXT, state_decl_file, vendor),
	SQC(SQC_TEXT, state_decl_file, device),
	SQC(SQC_TEXT, state_decl_file, direction),
	SQC(SQC_TEXT, state_decl_file, path),
	SQC(SQC_I64, state_decl_file, size),
	SQC(SQC_TEXT, state_decl_file, sha256),
	SQC(SQC_TIME, state_decl_file, at),
};
const struct sq_map sq_declf_map = SQ_MAP(state_decl_file, sq_declf_cols);

static const struct sq_col sq_decl_cols[] = {
	SQC(SQC_I64, state_decl, session),
	SQC(SQC_TEXT, state_decl, engineer),
	SQC(SQC_TEXT, state_decl, vendor),
	SQC(SQC_TEXT, state_decl, device),
	SQC(SQC_TIME, state_decl, opened),
	SQC(SQC_TEXT, state_decl, status),
	SQC(SQC_TEXT, state_decl, personal),
	SQC(SQC_TEXT, state_decl, erased),
	SQC(SQC_TEXT, state_decl, via),
	SQC(SQC_TIME, state_decl, answered),
	SQC(SQC_I64, state_decl, nfiles),
	SQC(SQC_I64, state_decl, bytes),
	SQC(SQC_TEXT, state_decl, files),
};
const struct sq_map sq_decl_map = SQ_MAP(state_decl, sq_decl_cols);

/* The files as lines, oldest first: an ordered inner select, whose order
 * group_concat keeps on both databases. The separator is a newline. */
#define SQ_DECL_SELECT "SELECT d.session, d.engineer, d.vendor, d.device, " \
	"d.opened, d.status, d.personal, d.erased, d.via, d.answered, " \
	"(SELECT count(*) FROM file_decl_file f WHERE f.session = " \
	"d.session), (SELECT coalesce(sum(f.size), 0) FROM file_decl_file f " \
	"WHERE f.session = d.session), (SELECT group_concat(x.line, '\n') " \
	"FROM (SELECT f.direction || ' ' || f.path || ' ' || f.size || ' ' " \
	"|| substr(f.sha256, 1, 16) AS line FROM file_decl_file f WHERE " \
	"f.session = d.session ORDER BY f.id) x) FROM file_decl d "

int
sq_decl_file_add(struct store *s, const struct state_decl_file *f)
{
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	/* a closed declaration opens again: this file has no answer yet */
	r = sq_run(s, "INSERT INTO file_decl(session, engineer, vendor, "
	    "device, opened) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(session) "
	    "DO UPDATE SET status = 'open', personal = '', erased = '', "
	    "via = '', answered = 0 WHERE file_decl.status = 'closed'",
	    SQ_ARGS(SQ_I(f->session), SQ_T(f->engineer), SQ_T(f->vendor),
	    SQ_T(f->device), SQ_I(f->at)), NULL);
	if (r == 0)
		r = sq_run(s, "INSERT INTO file_decl_file(session, direction, "
		    "path, size, sha256, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		    SQ_ARGS(SQ_I(f->session), SQ_T(f->direction),
		    SQ_T(f->path), SQ_I(f->size), SQ_T(f->sha256),
		    SQ_I(f->at)), NULL);
	return (sq_end(s, r));
}

int
sq_decl_each(struct store *s, const char *engineer, int64_t session,
    int open_only, int (*fn)(const struct state_decl *d, void *arg),
    void *arg)
{
	struct sq_walk wk = SQ_WALK(fn, arg);
	struct state_decl d;

	return (sq_each(s, SQ_DECL_SELECT "WHERE (?1 IS NULL OR d.engineer = "
	    "?1) AND (?2 = 0 OR d.session = ?2) AND (?3 = 0 OR d.status = "
	    "'open') ORDER BY d.opened, d.session", SQ_ARGS(SQ_T(engineer),
	    SQ_I(session), SQ_I(open_only)), &sq_decl_map, &d, sq_walk_row,
	    &wk));
}

int
sq_decl_answer(struct store *s, int64_t session, const char *engineer,
    const char *personal, const char *erased, const char *via, time_t now,
    struct state_decl *d)
{
	int r, found = 0;
	const char *status = strcmp(personal, "no") == 0 ||
	    strcmp(erased, "yes") == 0 ? "closed" : "open";

	if ((r = sq_begin(s)) != 0)
		return (r);
	r = sq_get(s, SQ_DECL_SELECT "WHERE d.session = ?1",
	    SQ_ARGS(SQ_I(session)), &sq_decl_map, d, &found);
	if (r == 0 && !found)
		r = BERR_NOTFOUND;
	else if (r == 0 && strcmp(d->engineer, engineer) != 0)
		r = BERR_DENIED;
	else if (r == 0 && strcmp(d->status, "closed") == 0)
		r = BERR_EXISTS;
	if (r == 0)
		r = sq_run(s, "UPDATE file_decl SET status = ?2, personal = ?3, "
		    "erased = ?4, via = ?5, answered = ?6 WHERE session = ?1",
		    SQ_ARGS(SQ_I(session), SQ_T(status), SQ_T(personal),
		    SQ_T(erased), SQ_T(via), SQ_I(now)), NULL);
	if (r == 0)
		r = sq_get(s, SQ_DECL_SELECT "WHERE d.session = ?1",
		    SQ_ARGS(SQ_I(session)), &sq_decl_map, d, &found);
	if ((r = sq_end(s, r)) != 0)
		memset(d, 0, sizeof(*d));	/* nothing of another's */
	return (r);
}
