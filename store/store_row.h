/*
 * store_row.h - the row structs' column tables (store/ only): each struct
 * of state.h that travels whole (a request, a grant, a session, ...) is
 * described once by a table of columns (type, offset and size of the
 * member, via offsetof). The SQLite backend maps result rows with them
 * (sq_each, sq_get: the SELECTs list their columns in this order), and
 * the store actor's call wire (store_call.h) encodes and strictly decodes
 * the same structs with them, so that a new operation needs a table entry
 * and no hand-written (de)serialiser.
 */
#ifndef BASTION_STORE_ROW_H
#define BASTION_STORE_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

enum sq_ctype {
	SQC_TEXT,	/* char[len], truncated, NUL-terminated; NULL -> "" */
	SQC_TEXTP,	/* const char *, into the row: valid in the callback */
	SQC_I64,	/* int64_t */
	SQC_INT,	/* int */
	SQC_TIME,	/* time_t */
};

struct sq_col {
	enum sq_ctype type;
	size_t off;
	size_t len;
};

/* A column of struct type's member m, of kind t. */
#define SQC(t, type, m) \
	{ (t), offsetof(struct type, m), sizeof(((struct type *)0)->m) }

struct sq_map {
	const struct sq_col *cols;	/* in SELECT order */
	size_t ncols;
	size_t size;			/* of the row struct */
};

#define SQ_MAP(type, cols) \
	{ (cols), sizeof(cols) / sizeof((cols)[0]), sizeof(struct type) }

/* Set the member of row that c describes: a text (SQC_TEXT truncated to
 * its size, NULL as ""; SQC_TEXTP points at t, which must outlive the row's
 * use) or, for the others, v. */
void sq_col_set(const struct sq_col *c, void *row, const char *t, int64_t v);

/* The tables (store_sqlite.c, store_sqlite_ops.c, beside their SELECTs). */
extern const struct sq_map sq_lock_map;		/* struct state_lock */
extern const struct sq_map sq_enroll_map;	/* struct state_enrollment */
extern const struct sq_map sq_request_map;	/* struct state_request */
extern const struct sq_map sq_grant_map;	/* struct state_grant */
extern const struct sq_map sq_session_map;	/* struct state_session */
extern const struct sq_map sq_ctl_map;		/* struct state_session_ctl */
extern const struct sq_map sq_elock_map;	/* struct state_engineer_lock */
extern const struct sq_map sq_window_map;	/* struct state_touch_window */
extern const struct sq_map sq_wcred_map;	/* struct state_web_cred */
extern const struct sq_map sq_wsess_map;	/* struct state_web_session */
extern const struct sq_map sq_wchal_map;	/* struct state_web_challenge */
extern const struct sq_map sq_export_map;	/* struct state_export */
extern const struct sq_map sq_declf_map;	/* struct state_decl_file */
extern const struct sq_map sq_decl_map;		/* struct state_decl */
extern const struct sq_map sq_watch_map;	/* struct state_watch */
extern const struct sq_map sq_watchc_map;	/* struct state_watch_chunk */

#endif
