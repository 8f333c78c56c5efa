/*
 * report_files.c - the monthly report's files section (report_files.h):
 * the month's file.transfer events of the chain, summed per session and
 * per vendor and direction, and the open file declarations of the state
 * store. Everything from the chain or the store is untrusted text: it is
 * parsed with the chain's bounded field reader, kept in fixed fields, and
 * shown through text_clean()/text_json().
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditlog.h"
#include "err.h"
#include "events.h"
#include "report_files.h"
#include "table.h"
#include "text.h"
#include "verb.h"

#define RF_SESSIONS_MAX	100000	/* sessions with files, kept at most */
#define RF_DECLS_MAX	10000	/* open declarations listed at most */

/* One session's files in the month. */
struct rf_sess {
	char sid[32], vendor[80];
	uint64_t n[2], bytes[2], refused[2];	/* [0] in, [1] out */
};

struct report_files {
	const char *month;
	struct rf_sess *s;
	size_t n, cap;
	int overflow;
	struct state_decl *d;		/* the open declarations */
	size_t nd, capd;
	int decls_read;			/* 0: the store could not say */
};

static struct rf_sess *
rf_session(struct report_files *F, const char *sid, const char *vendor)
{
	struct rf_sess *s;
	size_t i;

	/* a session's lines mostly come together: look from the end */
	for (i = F->n; i-- > 0; )
		if (strcmp(F->s[i].sid, sid) == 0)
			return (&F->s[i]);
	if (F->n == F->cap) {
		size_t cap = F->cap ? F->cap * 2 : 64;

		if (F->n >= RF_SESSIONS_MAX || (s = realloc(F->s, cap *
		    sizeof(*s))) == NULL) {
			F->overflow = 1;
			return (NULL);
		}
		F->s = s;
		F->cap = cap;
	}
	s = &F->s[F->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	snprintf(s->vendor, sizeof(s->vendor), "%s", vendor);
	return (s);
}

static int
rf_line(const struct auditlog_line *l, const char *text, size_t len,
    void *arg)
{
	struct report_files *F = arg;
	char ts[40], sid[32], vendor[80], dir[8], bytes[24], res[16];
	struct rf_sess *s;
	char *end;
	unsigned long long b;

	(void)text;
	(void)len;
	if (auditlog_event(l->body, l->bodylen) != BEV_FILE_TRANSFER ||
	    auditlog_field(l->body, l->bodylen, "ts", ts, sizeof(ts)) != 0 ||
	    strncmp(ts, F->month, strlen(F->month)) != 0 ||
	    auditlog_field(l->body, l->bodylen, "session", sid,
	    sizeof(sid)) != 0 ||
	    auditlog_field(l->body, l->bodylen, "direction", dir,
	    sizeof(dir)) != 0 ||
	    (strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0))
		return (0);
	if (auditlog_field(l->body, l->bodylen, "vendor", vendor,
	    sizeof(vendor)) != 0)
		snprintf(vendor, sizeof(vendor), "-");
	if (auditlog_field(l->body, l->bodylen, "bytes", bytes,
	    sizeof(bytes)) != 0 || (b = strtoull(bytes, &end, 10),
	    *end != '\0'))
		b = 0;
	if (auditlog_field(l->body, l->bodylen, "result", res,
	    sizeof(res)) != 0)
		res[0] = '\0';
	if ((s = rf_session(F, sid, vendor)) == NULL)
		return (0);
	if (strcmp(res, "refused") == 0)
		s->refused[dir[0] == 'o']++;
	else {
		s->n[dir[0] == 'o']++;
		s->bytes[dir[0] == 'o'] += b;
	}
	return (0);
}

int
report_files_read(const char *path, const char *month,
    struct report_files **out)
{
	struct report_files *F;
	int r;

	*out = NULL;
	if ((F = calloc(1, sizeof(*F))) == NULL)
		return (BERR_NOMEM);
	F->month = month;
	if ((r = auditlog_each(path, rf_line, F)) != 0) {
		report_files_free(F);
		return (r);
	}
	*out = F;
	return (0);
}

static int
rf_decl(const struct state_decl *d, void *arg)
{
	struct report_files *F = arg;
	struct state_decl *n;

	if (F->nd == F->capd) {
		size_t cap = F->capd ? F->capd * 2 : 16;

		if (F->nd >= RF_DECLS_MAX || (n = realloc(F->d, cap *
		    sizeof(*n))) == NULL)
			return (0);
		F->d = n;
		F->capd = cap;
	}
	F->d[F->nd++] = *d;
	return (0);
}

int
report_files_decls(struct report_files *F, struct state *st)
{
	int r;

	if (st == NULL)
		return (BERR_INVAL);
	if ((r = state_decl_each(st, NULL, 0, 1, rf_decl, F)) == 0)
		F->decls_read = 1;
	return (r);
}

void
report_files_free(struct report_files *F)
{
	if (F == NULL)
		return;
	free(F->s);
	free(F->d);
	free(F);
}

/* ---- totals per vendor and direction --------------------------------- */

struct rf_total {
	char vendor[80];
	int out;
	uint64_t n, bytes, refused;
};

static int
rf_total_cmp(const void *a, const void *b)
{
	const struct rf_total *x = a, *y = b;
	int c = strcmp(x->vendor, y->vendor);

	return (c != 0 ? c : x->out - y->out);
}

/* The totals, sorted; *n of them (the caller frees). NULL when none or
 * out of memory. */
static struct rf_total *
rf_totals(const struct report_files *F, size_t *n)
{
	struct rf_total *t;
	size_t i, k, d;

	*n = 0;
	if (F->n == 0 || (t = calloc(F->n * 2, sizeof(*t))) == NULL)
		return (NULL);
	for (i = 0; i < F->n; i++)
		for (d = 0; d < 2; d++) {
			const struct rf_sess *s = &F->s[i];

			if (s->n[d] == 0 && s->refused[d] == 0)
				continue;
			for (k = 0; k < *n; k++)
				if (t[k].out == (int)d &&
				    strcmp(t[k].vendor, s->vendor) == 0)
					break;
			if (k == *n) {
				snprintf(t[k].vendor, sizeof(t[k].vendor),
				    "%s", s->vendor);
				t[k].out = (int)d;
				(*n)++;
			}
			t[k].n += s->n[d];
			t[k].bytes += s->bytes[d];
			t[k].refused += s->refused[d];
		}
	qsort(t, *n, sizeof(*t), rf_total_cmp);
	return (t);
}

static void
rf_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, len,
	    "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, len, "-");
}

void
report_files_text(const struct report_files *F, FILE *f, size_t width)
{
	struct rf_total *t;
	char v[80], e[80], dev[80], since[40], line[600];
	size_t n, i;

	t = rf_totals(F, &n);
	fprintf(f, "\nFiles moved through the airlock in %s\n", F->month);
	if (n == 0)
		fprintf(f, "  none\n");
	else
		fprintf(f, "  %-20s %-9s %8s %16s %8s\n", "VENDOR",
		    "DIRECTION", "FILES", "BYTES", "REFUSED");
	for (i = 0; i < n; i++) {
		text_clean(v, width ? 21 : sizeof(v), t[i].vendor);
		fprintf(f, "  %-20s %-9s %8" PRIu64 " %16" PRIu64 " %8" PRIu64
		    "\n", v, t[i].out ? "out" : "in", t[i].n, t[i].bytes,
		    t[i].refused);
	}
	free(t);
	if (F->overflow)
		fprintf(f, "  WARNING: more than %d sessions with files: the "
		    "rest are left out\n", RF_SESSIONS_MAX);
	fprintf(f, "\nOpen file declarations (as they stand now)\n");
	if (!F->decls_read)
		fprintf(f, "  unknown: the state store could not be read\n");
	else if (F->nd == 0)
		fprintf(f, "  none\n");
	for (i = 0; i < F->nd; i++) {
		const struct state_decl *d = &F->d[i];

		text_clean(e, sizeof(e), d->engineer);
		text_clean(v, sizeof(v), d->vendor);
		text_clean(dev, sizeof(dev), d->device[0] ? d->device : "-");
		rf_time(d->opened, since, sizeof(since));
		snprintf(line, sizeof(line), "session %" PRId64 ": %s (%s) on "
		    "%s, since %s: %" PRId64 " file(s), %" PRId64 " bytes%s%s",
		    d->session, e, v, dev, since, d->nfiles, d->bytes,
		    d->erased[0] ? "; erased: " : "", d->erased);
		table_para(f, "  ", "    ", line, width);
	}
}

void
report_files_json(const struct report_files *F, FILE *f)
{
	struct rf_total *t;
	size_t n, i;

	t = rf_totals(F, &n);
	fputs(",\"files\":{\"moved\":[", f);
	for (i = 0; i < n; i++) {
		fputs(i ? ",{\"vendor\":" : "{\"vendor\":", f);
		text_json(f, t[i].vendor);
		fprintf(f, ",\"direction\":\"%s\",\"files\":%" PRIu64
		    ",\"bytes\":%" PRIu64 ",\"refused\":%" PRIu64 "}",
		    t[i].out ? "out" : "in", t[i].n, t[i].bytes, t[i].refused);
	}
	free(t);
	fprintf(f, "],\"truncated\":%s,\"open_declarations\":",
	    F->overflow ? "true" : "false");
	if (!F->decls_read) {
		fputs("null}", f);
		return;
	}
	fputs("[", f);
	for (i = 0; i < F->nd; i++) {
		fputs(i ? "," : "", f);
		cmd_declare_json(f, &F->d[i]);
	}
	fputs("]}", f);
}

struct rf_one {
	struct state_decl d;
	int found;
};

static int
rf_one(const struct state_decl *d, void *arg)
{
	struct rf_one *o = arg;

	o->d = *d;
	o->found = 1;
	return (0);
}

void
report_files_session(const struct report_files *F, struct state *st,
    const char *sid, char *files, size_t flen, char *decl, size_t dlen)
{
	struct rf_one *o;
	char since[40];
	size_t i;
	long long v;
	char *end;

	files[0] = decl[0] = '\0';
	for (i = 0; i < F->n; i++)
		if (strcmp(F->s[i].sid, sid) == 0) {
			const struct rf_sess *s = &F->s[i];

			snprintf(files, flen, "in %" PRIu64 " (%" PRIu64
			    " bytes); out %" PRIu64 " (%" PRIu64 " bytes)%s",
			    s->n[0], s->bytes[0], s->n[1], s->bytes[1],
			    s->refused[0] + s->refused[1] ? "; some refused" :
			    "");
			break;
		}
	v = strtoll(sid, &end, 10);
	if (st == NULL || *end != '\0' || v <= 0 ||
	    (o = calloc(1, sizeof(*o))) == NULL)
		return;
	if (state_decl_each(st, NULL, v, 0, rf_one, o) == 0 && o->found) {
		rf_time(o->d.opened, since, sizeof(since));
		if (strcmp(o->d.status, "open") == 0)
			snprintf(decl, dlen, "open since %s%s%s", since,
			    o->d.erased[0] ? "; erased: " : "", o->d.erased);
		else
			snprintf(decl, dlen, "closed: personal=%s%s%s",
			    o->d.personal, o->d.erased[0] ? ", erased=" : "",
			    o->d.erased);
	}
	free(o);
}
