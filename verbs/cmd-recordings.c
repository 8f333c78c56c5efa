/*
 * cmd-recordings.c - the auditor's "recordings [--engineer N] [--vendor N]
 * [--device N] [--date YYYY-MM-DD] [--wide] [--json]": the recordings
 * below recordings_dir, newest first, with their session, start,
 * duration, status (sealed, abnormal, live, unsealed), engineer, vendor,
 * device and source (--wide: the recording id too; --json: a JSON array
 * with the start in Unix seconds, the approval the recording names and
 * whether it is encrypted, for the web console). Each file is read only through
 * the bounded recorder reader (its HEADER, and the SEAL found from the
 * file's size): a listing, not a verification (`verify` checks them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audverb.h"
#include "recreader.h"
#include "state.h"
#include "table.h"
#include "text.h"

/* One element of --json's array, with what it is sorted by. */
struct recordings_elem {
	long long start, session;
	char *json;
};

/* The listing being filled by the walk. */
struct recordings_list {
	struct table *t;
	int wide;			/* --wide: the recording id too */
	int as_json;			/* --json */
	struct recordings_elem *elems;	/* --json: the array's elements */
	size_t nelems;
	char **live;			/* recordings of live sessions */
	size_t nlive;
	time_t now;
};

static const struct table_col recordings_cols[] = {
	{ "SESSION", TABLE_KEEP }, { "START (UTC)", TABLE_KEEP },
	{ "DURATION", TABLE_KEEP }, { "STATUS", TABLE_KEEP },
	{ "ENGINEER", 0 }, { "VENDOR", 0 }, { "DEVICE", 0 },
	{ "FROM", TABLE_KEEP }, { "RECORDING", TABLE_KEEP },
};
#define RECORDINGS_NCOLS(wide) \
	(sizeof(recordings_cols) / sizeof(recordings_cols[0]) - !(wide))

/*
 * The SEAL, if the recording ends with one: it is the last frame and its
 * payload names the offset it starts at, so it is found from the file's
 * size without reading the rest (a SEAL frame is 202 bytes plus its
 * reason, RECORDING-FORMAT.md sections 1 and 3). This is a listing, not a
 * verification: `verify` checks the signatures. 1 and the seal's time
 * (microseconds since the start) and status, or 0.
 */
static int
recordings_seal(const char *path, off_t size, uint64_t *time_us,
    uint32_t *status, int *version)
{
	struct recreader *r = NULL;
	struct rec_payload pl;
	struct rec_frame f;
	off_t off;
	uint64_t sbase;
	size_t reason;
	int found = 0;

	if (recreader_open(path, &r) != 0)
		return (0);
	/* format 2: after the key block; the seal counts from frame 0 */
	if (recreader_magic(r) != 0) {
		recreader_free(r);
		return (0);
	}
	*version = (int)recreader_version(r);
	sbase = *version == 2 ? recreader_base(r) : 0;
	for (reason = 0; reason <= REC_REASON_MAX && !found; reason++) {
		off = size - (off_t)(202 + reason);
		if (off < (off_t)recreader_base(r))
			break;
		if (recreader_seek(r, (uint64_t)off) != 0 ||
		    recreader_next(r, &f) != 0 || f.type != REC_SEAL ||
		    recfmt_payload_decode(f.type, f.payload, f.len, &pl) != 0 ||
		    pl.offset + sbase != (uint64_t)off)
			continue;
		*time_us = f.time_us;
		*status = pl.status;
		found = 1;
	}
	recreader_free(r);
	return (found);
}

/* "1:02:03" */
static void
recordings_duration(long long secs, char *out, size_t len)
{
	if (secs < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%lld:%02lld:%02lld", secs / 3600,
		    secs / 60 % 60, secs % 60);
}

/* The header's start ("2026-11-05T14:05:01.123456Z") as a time_t. */
static time_t
recordings_start_time(const char *iso)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return (0);
	return (timegm(&tm));
}

static int
recordings_live_path(const struct state_session *s, void *arg)
{
	struct recordings_list *F = arg;
	char **nl;

	if (s->recording[0] == '\0' || F->nlive >= 4096 ||
	    (nl = realloc(F->live, (F->nlive + 1) * sizeof(*nl))) == NULL)
		return (0);
	F->live = nl;
	if ((F->live[F->nlive] = strdup(s->recording)) != NULL)
		F->nlive++;
	return (0);
}

/* Which recordings belong to live sessions (the state store knows; if it
 * cannot be read, an unsealed recording is shown as "unsealed"). */
static void
recordings_live_load(const struct policy *pol, struct recordings_list *F)
{
	struct state *st = NULL;

	if (state_open(pol->state_dir, &st) != 0)
		return;
	(void)state_session_each(st, 0, 0, recordings_live_path, F);
	state_close(st);
}

static void
recordings_live_free(struct recordings_list *F)
{
	size_t i;

	for (i = 0; i < F->nlive; i++)
		free(F->live[i]);
	free(F->live);
	F->live = NULL;
	F->nlive = 0;
}

/* One element of --json's array: every string through text_json (the
 * header's fields are the worker's words, never trusted as JSON). */
static void
recordings_json(struct recordings_list *F, time_t t0, long long secs,
    const char *status, const char *from, int version,
    const struct rec_hdr *h)
{
	static const char *const keys[] = { "engineer", "vendor", "device",
	    "approval" };
	const char *ref = audverb_get(h, "ref");
	struct recordings_elem *ne, e;
	size_t k, len;
	FILE *f;

	if (F->nelems >= 100000 || (ne = realloc(F->elems, (F->nelems + 1) *
	    sizeof(*ne))) == NULL)
		return;
	F->elems = ne;
	memset(&e, 0, sizeof(e));
	e.start = (long long)t0;
	e.session = strtoll(ref, NULL, 10);
	if ((f = open_memstream(&e.json, &len)) == NULL)
		return;
	fputs("{\"session\":", f);
	text_json(f, ref);
	fputs(",\"recording\":", f);
	text_json(f, audverb_get(h, "session"));
	fprintf(f, ",\"start\":%lld", (long long)t0);
	if (secs >= 0)
		fprintf(f, ",\"duration\":%lld", secs);
	else
		fputs(",\"duration\":null", f);
	fputs(",\"status\":", f);
	text_json(f, status);
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		fprintf(f, ",\"%s\":", keys[k]);
		text_json(f, audverb_get(h, keys[k]));
	}
	fputs(",\"from\":", f);
	text_json(f, from);
	fprintf(f, ",\"encrypted\":%s}", version == 2 ? "true" : "false");
	if (fclose(f) != 0) {
		free(e.json);
		return;
	}
	F->elems[F->nelems++] = e;
}

/* newest first: by start, then by session number */
static int
recordings_elem_cmp(const void *a, const void *b)
{
	const struct recordings_elem *x = a, *y = b;

	if (x->start != y->start)
		return (x->start < y->start ? 1 : -1);
	if (x->session != y->session)
		return (x->session < y->session ? 1 : -1);
	return (0);
}

/* --json: the array, newest first; the elements freed */
static void
recordings_json_print(struct recordings_list *F, FILE *out)
{
	size_t i;

	if (F->nelems > 0)
		qsort(F->elems, F->nelems, sizeof(F->elems[0]),
		    recordings_elem_cmp);
	fputc('[', out);
	for (i = 0; i < F->nelems; i++) {
		fprintf(out, "%s%s", i > 0 ? ",\n" : "", F->elems[i].json);
		free(F->elems[i].json);
	}
	fputs("]\n", out);
	free(F->elems);
	F->elems = NULL;
	F->nelems = 0;
}

/* One row of the listing for the recording at path. The header fields
 * are cleaned for the auditor's terminal by the table (text.h): the
 * worker stated most of them, and the reader's check that they are clean
 * text is not relied on. */
static void
recordings_row(struct audverb_filter *AF, const char *path,
    const struct stat *sb, const struct rec_hdr *h)
{
	struct recordings_list *F = AF->arg;
	char start[32], dur[32], from[96], *colon;
	const char *iso = audverb_get(h, "start"), *status;
	time_t t0 = recordings_start_time(iso);
	long long secs = -1;
	uint64_t us;
	uint32_t end;
	size_t i;
	int version = 0;

	/* "2026-11-05T14:05:01.123456Z" -> "2026-11-05 14:05:01" */
	snprintf(start, sizeof(start), "%.10s %.8s", iso, strlen(iso) > 11 ?
	    iso + 11 : "");
	if (recordings_seal(path, sb->st_size, &us, &end, &version)) {
		status = end == REC_END_NORMAL ? "sealed" : "abnormal";
		secs = (long long)(us / 1000000);
	} else {
		status = "unsealed";
		for (i = 0; i < F->nlive; i++)
			if (strcmp(F->live[i], path) == 0)
				status = "live";
		if (t0 != 0)
			secs = (long long)((strcmp(status, "live") == 0 ?
			    F->now : sb->st_mtime) - t0);
		if (secs < 0)
			secs = 0;
	}
	recordings_duration(secs, dur, sizeof(dur));
	/* the address without its port: the column stays narrow */
	snprintf(from, sizeof(from), "%s", audverb_get(h, "source"));
	if ((colon = strrchr(from, ':')) != NULL && colon != from &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1))
		*colon = '\0';
	if (F->as_json) {
		recordings_json(F, t0, secs, status, from, version, h);
		return;
	}
	(void)table_add(F->t, (const char *[]){ audverb_get(h, "ref"), start,
	    dur, status, audverb_get(h, "engineer"), audverb_get(h, "vendor"),
	    audverb_get(h, "device"), from, audverb_get(h, "session") });
}

static int
cmd_recordings_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct audverb_filter AF;
	struct recordings_list F;
	char **words = a->argv;
	int nw = a->argc, rc, i;

	memset(&AF, 0, sizeof(AF));
	memset(&F, 0, sizeof(F));
	for (i = 1; i < nw; i += 2) {
		if (strcmp(words[i], "--wide") == 0 ||
		    strcmp(words[i], "--json") == 0) {
			if (words[i][2] == 'w')
				F.wide = 1;
			else
				F.as_json = 1;
			i--;
			continue;
		}
		if (i + 1 >= nw)
			return (audverb_usage(c));
		if (strcmp(words[i], "--engineer") == 0)
			AF.engineer = words[i + 1];
		else if (strcmp(words[i], "--vendor") == 0)
			AF.vendor = words[i + 1];
		else if (strcmp(words[i], "--device") == 0)
			AF.device = words[i + 1];
		else if (strcmp(words[i], "--date") == 0)
			AF.date = words[i + 1];
		else
			return (audverb_usage(c));
	}
	if ((F.t = table_new(recordings_cols,
	    RECORDINGS_NCOLS(F.wide))) == NULL) {
		fprintf(c->err, "bastion: out of memory\n");
		return (1);
	}
	AF.row = recordings_row;
	AF.arg = &F;
	F.now = time(NULL);
	recordings_live_load(c->pol, &F);
	rc = audverb_walk(c->pol, &AF) == 0 ? 0 : 1;
	/* newest first (nftw visits in directory order): by start, and by
	 * session number within a second (the sort is stable) */
	table_sort(F.t, 0, TABLE_DESC | TABLE_NUM);
	table_sort(F.t, 1, TABLE_DESC);
	if (F.as_json)
		recordings_json_print(&F, c->out);
	else if (table_rows(F.t) == 0)
		fprintf(c->out, "no recordings%s\n", AF.engineer || AF.vendor ||
		    AF.device || AF.date ? " match" : "");
	else
		(void)table_print(F.t, c->out, NULL, F.wide ? 0 : TABLE_WIDTH);
	table_free(F.t);
	recordings_live_free(&F);
	fflush(c->out);
	audverb_done(c, "recordings", NULL, rc);
	return (rc);
}

const struct cmd_entry cmd_recordings_entry = {
	"recordings", "ls",
	"[--engineer N] [--vendor N] [--device N] [--date YYYY-MM-DD] "
	"[--wide] [--json]",
	"the recordings, newest first, with their status",
	NULL,
	0,
	VERB_AUDITOR | VERB_OWN_ARGS,
	cmd_recordings_exec,
	NULL
};
