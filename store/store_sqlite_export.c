/*
 * store_sqlite_export.c - file export requests in the SQL store (schema
 * step 8, issue 18, docs/FILES.md "Export approval"): a download the
 * files: policy holds (approve: out) is one row naming the session, the
 * engineer, vendor and device, the path and the size and SHA-256 of the
 * bytes the bastion holds in its quarantine; an admin's decision moves it
 * from pending to approved or denied (or the waiting session's monitor to
 * expired or cancelled) in one conditional UPDATE, so of two racing
 * decisions one wins. The same statements run on PostgreSQL (store_pg.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store_sqlite.h"

/* A read of a store older than schema step 8 (read-only) finds nothing. */
#define SQ_HAS_EXPORT(s)	((s)->version >= 8)

static const struct sq_col sq_export_cols[] = {
	SQC(SQC_I64, state_export, id),
	SQC(SQC_TEXT, state_export, session),
	SQC(SQC_TEXT, state_export, engineer),
	SQC(SQC_TEXT, state_export, vendor),
	SQC(SQC_TEXT, state_export, device),
	SQC(SQC_TEXT, state_export, path),
	SQC(SQC_I64, state_export, size),
	SQC(SQC_TEXT, state_export, sha256),
	SQC(SQC_TIME, state_export, created),
	SQC(SQC_TEXT, state_export, status),
	SQC(SQC_TEXT, state_export, decided_by),
	SQC(SQC_TIME, state_export, decided_at),
	SQC(SQC_TEXT, state_export, deny_reason),
};
const struct sq_map sq_export_map = SQ_MAP(state_export, sq_export_cols);

#define SQ_EXPORT_SELECT "SELECT id, session, engineer, vendor, device, " \
	"path, size, sha256, created, status, decided_by, decided_at, " \
	"deny_reason FROM file_export "

int
sq_export_create(struct store *s, const struct state_export *e, int64_t *id)
{
	return (sq_insert_id(s, "INSERT INTO file_export(session, engineer, "
	    "vendor, device, path, size, sha256, created, status) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
	    SQ_ARGS(SQ_T(e->session), SQ_T(e->engineer), SQ_T(e->vendor),
	    SQ_T(e->device), SQ_T(e->path), SQ_I(e->size), SQ_T(e->sha256),
	    SQ_I(time(NULL)), SQ_T(STATE_REQ_PENDING)), id));
}

int
sq_export_get(struct store *s, int64_t id, struct state_export *e,
    int *found)
{
	if (!SQ_HAS_EXPORT(s))
		return (0);
	return (sq_get(s, SQ_EXPORT_SELECT "WHERE id = ?1", SQ_ARGS(SQ_I(id)),
	    &sq_export_map, e, found));
}

int
sq_export_each(struct store *s, const char *status, unsigned limit,
    int (*fn)(const struct state_export *e, void *arg), void *arg)
{
	struct sq_walk w = SQ_WALK(fn, arg);
	struct state_export e;

	if (!SQ_HAS_EXPORT(s))
		return (0);
	return (sq_each(s, SQ_EXPORT_SELECT "WHERE ?1 IS NULL OR status = ?1 "
	    "ORDER BY id DESC LIMIT ?2", SQ_ARGS(SQ_T(status),
	    SQ_I(limit ? (int64_t)limit : INT64_MAX)), &sq_export_map, &e,
	    sq_walk_row, &w));
}

int
sq_export_finish(struct store *s, int64_t id, const char *status,
    const char *by, const char *reason)
{
	struct state_export e;
	int r, found = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	if ((r = sq_export_get(s, id, &e, &found)) == 0 && !found)
		r = BERR_NOTFOUND;
	else if (r == 0 && strcmp(e.status, STATE_REQ_PENDING) != 0)
		r = BERR_EXISTS;
	if (r == 0)
		r = sq_run(s, "UPDATE file_export SET status = ?1, decided_by = "
		    "?2, deny_reason = ?3, decided_at = ?4 WHERE id = ?5 AND "
		    "status = ?6", SQ_ARGS(SQ_T(status), SQ_T(by != NULL ? by :
		    ""), SQ_T(reason != NULL ? reason : ""), SQ_I(time(NULL)),
		    SQ_I(id), SQ_T(STATE_REQ_PENDING)), NULL);
	return (sq_end(s, r));
}
