/*
 * monitor_decl.c - the monitor's part of file declarations (issue 18,
 * item 6; docs/FILES.md "Work record and declarations"). When the
 * vendor's policy asks for a work record, every file of the session that
 * crossed the airlock (the child's file.transfer event, which the monitor
 * has just checked and appended) is noted in the state store, where it
 * opens the session's declaration. The child may then ask (MREQ_DECL) how
 * many of the engineer's declarations are open (the greeting), list them
 * for the work record at the end of an interactive session, and hand
 * over the engineer's answer for exactly those listed: the monitor keeps
 * the list, answers each one in the store and audits
 * session.file_declaration. The child never names a session itself, so
 * it cannot answer for another engineer's files.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor_req.h"
#include "state.h"
#include "text.h"

/* The value of key among the event's fields, or NULL. */
static const char *
mon_decl_field(const char *const *k, const char *const *v, size_t n,
    const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (k[i] != NULL && strcmp(k[i], key) == 0)
			return (v[i]);
	return (NULL);
}

/* Does this connection's work keep declarations? An engineer's, when the
 * vendor's policy asks for a work record. */
static int
mon_decl_applies(const struct mon *M)
{
	return (mon_is_engineer(M) && policy_work_record(M->S.pol,
	    M->S.au.who->vendor));
}

void
mon_decl_file(struct mon *M, const char *const *k, const char *const *v,
    size_t n)
{
	const char *dir = mon_decl_field(k, v, n, "direction");
	const char *path = mon_decl_field(k, v, n, "path");
	const char *size = mon_decl_field(k, v, n, "size");
	const char *sha = mon_decl_field(k, v, n, "sha256");
	const char *res = mon_decl_field(k, v, n, "result");
	struct state_decl_file f;
	struct state *st = NULL;
	char *end;
	long long sz;
	int r;

	/* a refused file never reached the device nor left it */
	if (!mon_decl_applies(M) || dir == NULL || path == NULL ||
	    res == NULL || strcmp(res, "refused") == 0)
		return;
	memset(&f, 0, sizeof(f));
	sz = size != NULL ? strtoll(size, &end, 10) : -1;
	if (size == NULL || *end != '\0' || sz < 0)
		sz = 0;
	f.session = strtoll(M->S.sid, NULL, 10);
	snprintf(f.engineer, sizeof(f.engineer), "%s", M->S.au.who->name);
	snprintf(f.vendor, sizeof(f.vendor), "%s",
	    M->S.au.who->vendor->name);
	snprintf(f.device, sizeof(f.device), "%s", M->S.dev != NULL ?
	    M->S.dev->name : "");
	snprintf(f.direction, sizeof(f.direction), "%s", dir);
	snprintf(f.path, sizeof(f.path), "%s", path);
	f.size = sz;
	snprintf(f.sha256, sizeof(f.sha256), "%s", sha != NULL ? sha : "");
	f.at = bclock_wall_s(NULL);
	if ((r = state_open(M->S.pol->state_dir, &st)) == 0)
		r = state_decl_file_add(st, &f);
	state_close(st);
	if (r != 0)
		log_error("session %s: the file %s cannot be noted for its "
		    "declaration: %s", M->S.sid, f.path, berr_str(r));
}

/* ---- what the child asks -------------------------------------------- */

struct mon_decl_walk {
	struct mon *M;
	unsigned n, files;
	struct buf *text;	/* NULL: count only */
};

/* "  DIR PATH SIZE SHA" of the store's line, as shown: cleaned, with
 * words (the path may hold spaces: it lies between the first and the
 * two last words). */
static void
mon_decl_line(const char *line, size_t len, void *arg)
{
	struct buf *out = arg;
	char raw[1200], path[1100], shown[1200];
	const char *sp1, *sp2, *sp3;
	size_t plen;

	if (len >= sizeof(raw))
		len = sizeof(raw) - 1;
	memcpy(raw, line, len);
	raw[len] = '\0';
	if ((sp1 = strchr(raw, ' ')) == NULL ||
	    (sp3 = strrchr(raw, ' ')) == sp1)
		return;
	for (sp2 = sp3 - 1; sp2 > sp1 && *sp2 != ' '; sp2--)
		;
	if (sp2 == sp1)
		return;
	plen = (size_t)(sp2 - sp1 - 1);
	if (plen >= sizeof(path))
		plen = sizeof(path) - 1;
	memcpy(path, sp1 + 1, plen);
	path[plen] = '\0';
	text_clean(shown, sizeof(shown), path);
	(void)buf_putf(out, "    %-3.*s %s, %.*s bytes, sha256 %s...\n",
	    (int)(sp1 - raw), raw, shown, (int)(sp3 - sp2 - 1), sp2 + 1,
	    sp3 + 1);
}

static int
mon_decl_each(const struct state_decl *d, void *arg)
{
	struct mon_decl_walk *w = arg;
	char dev[96];
	int64_t shown;

	if (w->text != NULL) {
		/* the rest: at the next work record */
		if (w->n >= MON_DECL_LIST_MAX ||
		    buf_len(w->text) > DECL_TEXT_MAX - 6144)
			return (0);
		w->M->decl_listed[w->n] = d->session;
		text_clean(dev, sizeof(dev), d->device[0] ? d->device : "-");
		(void)buf_putf(w->text, "  session %" PRId64 " on %s, %" PRId64
		    " file(s):\n", d->session, dev, d->nfiles);
		shown = state_decl_lines(d, mon_decl_line, w->text);
		if (shown < d->nfiles)
			(void)buf_putf(w->text, "    ... and %" PRId64 " more\n",
			    d->nfiles - shown);
	}
	w->n++;
	w->files += (unsigned)d->nfiles;
	return (0);
}

/* Walk the engineer's open declarations. 0 or BERR_*. */
static int
mon_decl_walk(struct mon *M, struct mon_decl_walk *w)
{
	struct state *st = NULL;
	int r;

	if ((r = state_open(M->S.pol->state_dir, &st)) == 0)
		r = state_decl_each(st, M->S.au.who->name, 0, 1,
		    mon_decl_each, w);
	state_close(st);
	if (r != 0)
		log_error("session %s: the open file declarations cannot be "
		    "read: %s", M->S.sid, berr_str(r));
	return (r);
}

/* The answer for the declarations listed, each audited. */
static void
mon_decl_answer(struct mon *M, int personal, int erased, unsigned *closed,
    unsigned *still_open)
{
	static const char *const er[] = { "", "yes", "no", "pending" };
	struct state_decl d;
	struct state *st = NULL;
	char sid[24], files[24];
	unsigned i;
	int r;

	*closed = *still_open = 0;
	if ((r = state_open(M->S.pol->state_dir, &st)) != 0) {
		log_error("session %s: the file declarations cannot be "
		    "answered: %s", M->S.sid, berr_str(r));
		return;
	}
	for (i = 0; i < M->ndecl_listed; i++) {
		r = state_decl_answer(st, M->decl_listed[i], M->S.au.who->name,
		    personal ? "yes" : "no", er[erased], "work_record",
		    bclock_wall_s(NULL), &d);
		snprintf(sid, sizeof(sid), "%" PRId64, M->decl_listed[i]);
		snprintf(files, sizeof(files), "%" PRId64, d.nfiles);
		audit_ev(BEV_SESSION_FILE_DECLARATION, "session", sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "device", r == 0 && d.device[0] ? d.device : "-", "files",
		    files, "personal", personal ? "yes" : "no", "erased",
		    er[erased][0] ? er[erased] : "-", "via", "work_record",
		    "result", r != 0 ? "failed" : d.status, "answered_in",
		    M->S.sid, "reason", r != 0 ? berr_str(r) : NULL, NULL);
		if (r == 0 && strcmp(d.status, "closed") == 0)
			(*closed)++;
		else if (r == 0)
			(*still_open)++;
	}
	state_close(st);
}

const char *
mon_answer_decl(struct mon *M, struct buf *req)
{
	struct mon_decl_walk w;
	struct buf *a = NULL;
	uint8_t kind, personal = 0, erased = 0;
	unsigned closed = 0, still_open = 0;

	if (buf_get_u8(req, &kind) != 0)
		return ("malformed");
	if (!mon_is_engineer(M))
		return ("no declarations for this login");
	memset(&w, 0, sizeof(w));
	w.M = M;
	switch (kind) {
	case DECL_COUNT:
		if (mon_decl_applies(M))
			(void)mon_decl_walk(M, &w);
		if ((a = mon_body()) != NULL && buf_put_u32(a, w.n) == 0)
			(void)mon_reply(M, MANS_OK, a, NULL, 0);
		break;
	case DECL_LIST:
		/* once, at the work record, in the relay */
		if (!(M->phase & MPH_RELAY) || M->decl_state != 0)
			return ("no work record due");
		M->decl_state = 1;
		if ((w.text = buf_new(DECL_TEXT_MAX)) == NULL)
			return ("out of memory");
		if (mon_decl_applies(M))
			(void)mon_decl_walk(M, &w);
		M->ndecl_listed = w.n < MON_DECL_LIST_MAX ? w.n :
		    MON_DECL_LIST_MAX;
		if ((a = mon_body()) != NULL &&
		    buf_put_u32(a, M->ndecl_listed) == 0 &&
		    buf_put_u32(a, w.files) == 0 &&
		    buf_put_string(a, buf_ptr(w.text), buf_len(w.text)) == 0)
			(void)mon_reply(M, MANS_OK, a, NULL, 0);
		buf_free(w.text);
		break;
	case DECL_ANSWER:
		if (M->decl_state != 1 || M->ndecl_listed == 0)
			return ("nothing listed to answer");
		if (buf_get_u8(req, &personal) != 0 ||
		    buf_get_u8(req, &erased) != 0 || personal > 1 ||
		    erased > DECL_ERASED_PENDING ||
		    (personal == 0) != (erased == DECL_ERASED_NONE))
			return ("malformed");
		M->decl_state = 2;
		mon_decl_answer(M, personal, erased, &closed, &still_open);
		if ((a = mon_body()) != NULL && buf_put_u32(a, closed) == 0 &&
		    buf_put_u32(a, still_open) == 0)
			(void)mon_reply(M, MANS_OK, a, NULL, 0);
		break;
	default:
		return ("malformed");
	}
	buf_free(a);
	return (NULL);
}
