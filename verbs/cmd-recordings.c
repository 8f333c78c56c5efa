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
 *
 * With several nodes on one state store (docs/SCALE-OUT.md) it lists
 * every node's recordings: this node's spool as above, and, from the
 * shared store's session rows (newest first, at most
 * RECORDINGS_OTHERS_MAX, the same filters), the recordings of other nodes
 * (and this node's no longer in its spool). Where there are such rows,
 * or an object store, each row says its NODE and WHERE it is: "spool" (this node's; "spool+store" once bastion-ship's
 * ledger has it), "store" (the object store has it: `bastion-ship list`
 * asked, sealed or cut by a crash), "node-disk" (only on that node's
 * disk, not shipped yet), or "gone" (this node's, neither in its spool
 * nor in the store). --json: "node", "where", "shipped".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approvals.h"
#include "audstore.h"
#include "audverb.h"
#include "recreader.h"
#include "state.h"
#include "table.h"
#include "text.h"

#define RECORDINGS_OTHERS_MAX	100	/* rows from the shared store (at
					   most SHIP_LIST_MAX) */

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
	const struct policy *pol;
	const char *here;		/* this node's name (store: node:) */
	struct audverb_filter *AF;	/* the filters */
	struct state_session *others;	/* recorded sessions not in this
					   spool, from the shared store */
	size_t nothers;
	int more;			/* more of them than are listed */
	int nodes;			/* several nodes, or an object store:
					   the NODE and WHERE columns */
};

static const struct table_col recordings_cols[] = {
	{ "SESSION", TABLE_KEEP }, { "START (UTC)", TABLE_KEEP },
	{ "DURATION", TABLE_KEEP }, { "STATUS", TABLE_KEEP },
	{ "ENGINEER", 0 }, { "VENDOR", 0 }, { "DEVICE", 0 },
	{ "FROM", TABLE_KEEP }, { "NODE", 0 }, { "WHERE", TABLE_KEEP },
	{ "RECORDING", TABLE_KEEP },
};
#define RECORDINGS_COLS	(sizeof(recordings_cols) / sizeof(recordings_cols[0]))
#define RECORDINGS_COL_NODE	8	/* NODE and WHERE: with nodes only */
#define RECORDINGS_COL_REC	10	/* RECORDING: --wide only */

/* Is column i shown? NODE and WHERE only where recordings may be on
 * other nodes or in the object store (a shared PostgreSQL store, or
 * recordings: store: s3): a single node's table stays as it was. */
static int
recordings_col(const struct recordings_list *F, size_t i)
{
	if (i == RECORDINGS_COL_NODE || i == RECORDINGS_COL_NODE + 1)
		return (F->nodes);
	return (i != RECORDINGS_COL_REC || F->wide);
}

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

/* One row of the listing: from a HEADER of this node's spool, or from a
 * session row of the shared state store (another node's recording). */
struct recordings_item {
	const char *ref, *recording, *engineer, *vendor, *device, *approval;
	const char *from, *status, *node, *where;
	time_t start;
	long long secs;			/* -1: unknown */
	int version;			/* 2: encrypted; 0: not known here */
	int shipped;			/* in the object store: 1, 0, -1 not
					   known */
};

/* One element of --json's array: every string through text_json (the
 * header's fields are the worker's words, the store's rows some node's,
 * never trusted as JSON). */
static void
recordings_json(struct recordings_list *F, const struct recordings_item *it)
{
	struct recordings_elem *ne, e;
	size_t len;
	FILE *f;

	if (F->nelems >= 100000 || (ne = realloc(F->elems, (F->nelems + 1) *
	    sizeof(*ne))) == NULL)
		return;
	F->elems = ne;
	memset(&e, 0, sizeof(e));
	e.start = (long long)it->start;
	e.session = strtoll(it->ref, NULL, 10);
	if ((f = open_memstream(&e.json, &len)) == NULL)
		return;
	fputs("{\"session\":", f);
	text_json(f, it->ref);
	fputs(",\"recording\":", f);
	text_json(f, it->recording);
	fprintf(f, ",\"start\":%lld", (long long)it->start);
	if (it->secs >= 0)
		fprintf(f, ",\"duration\":%lld", it->secs);
	else
		fputs(",\"duration\":null", f);
	appr_json_strs(f, (const char *const []){ "status", it->status,
	    "engineer", it->engineer, "vendor", it->vendor, "device",
	    it->device, "approval", it->approval, "from", it->from, NULL });
	fprintf(f, ",\"encrypted\":%s", it->version == 2 ? "true" :
	    it->version == 0 ? "null" : "false");
	appr_json_strs(f, (const char *const []){ "node", it->node, "where",
	    it->where, NULL });
	fprintf(f, ",\"shipped\":%s}", it->shipped < 0 ? "null" :
	    it->shipped ? "true" : "false");
	if (fclose(f) != 0) {
		free(e.json);
		return;
	}
	F->elems[F->nelems++] = e;
}

/* The row of it: in the table, or --json's array. */
static void
recordings_add(struct recordings_list *F, const struct recordings_item *it)
{
	const char *all[RECORDINGS_COLS], *cells[RECORDINGS_COLS];
	char start[32], dur[32];
	struct tm tm;
	size_t i, n;

	if (F->as_json) {
		recordings_json(F, it);
		return;
	}
	if (it->start == 0 || gmtime_r(&it->start, &tm) == NULL)
		snprintf(start, sizeof(start), "-");
	else
		strftime(start, sizeof(start), "%Y-%m-%d %H:%M:%S", &tm);
	recordings_duration(it->secs, dur, sizeof(dur));
	all[0] = it->ref;
	all[1] = start;
	all[2] = dur;
	all[3] = it->status;
	all[4] = it->engineer;
	all[5] = it->vendor;
	all[6] = it->device;
	all[7] = it->from;
	all[8] = it->node;
	all[9] = it->where;
	all[10] = it->recording;
	for (i = 0, n = 0; i < RECORDINGS_COLS; i++)
		if (recordings_col(F, i))
			cells[n++] = all[i];
	(void)table_add(F->t, cells);
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

/* Is recording id in this node's ledger of shipped recordings (bastion-
 * ship's, docs/RECORDING-STORE.md)? 1, 0; -1 without an object store. */
static int
recordings_ledger(const struct policy *pol, const char *id)
{
	char path[PATH_MAX];
	int n;

	if (!pol->recstore.s3 || !recfmt_session_id_valid(id))
		return (-1);
	if (pol->recstore.ledger_dir != NULL)
		n = snprintf(path, sizeof(path), "%s/%s",
		    pol->recstore.ledger_dir, id);
	else
		n = snprintf(path, sizeof(path), "%s/shipped/%s",
		    pol->state_dir, id);
	return (n > 0 && (size_t)n < sizeof(path) &&
	    access(path, F_OK) == 0 ? 1 : 0);
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
	struct recordings_item it;
	char from[96], *colon;
	const char *iso = audverb_get(h, "start");
	uint64_t us;
	uint32_t end;
	size_t i;

	memset(&it, 0, sizeof(it));
	it.start = recordings_start_time(iso);
	it.secs = -1;
	it.version = 1;
	if (recordings_seal(path, sb->st_size, &us, &end, &it.version)) {
		it.status = end == REC_END_NORMAL ? "sealed" : "abnormal";
		it.secs = (long long)(us / 1000000);
	} else {
		it.status = "unsealed";
		for (i = 0; i < F->nlive; i++)
			if (strcmp(F->live[i], path) == 0)
				it.status = "live";
		if (it.start != 0)
			it.secs = (long long)((strcmp(it.status, "live") == 0 ?
			    F->now : sb->st_mtime) - it.start);
		if (it.secs < 0)
			it.secs = 0;
	}
	/* the address without its port: the column stays narrow */
	snprintf(from, sizeof(from), "%s", audverb_get(h, "source"));
	if ((colon = strrchr(from, ':')) != NULL && colon != from &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1))
		*colon = '\0';
	it.ref = audverb_get(h, "ref");
	it.recording = audverb_get(h, "session");
	it.engineer = audverb_get(h, "engineer");
	it.vendor = audverb_get(h, "vendor");
	it.device = audverb_get(h, "device");
	it.approval = audverb_get(h, "approval");
	it.from = from;
	it.node = F->here;
	it.shipped = recordings_ledger(F->pol, it.recording);
	it.where = it.shipped == 1 ? "spool+store" : "spool";
	recordings_add(F, &it);
}

/* ---- other nodes' recordings (the shared state store) ------------------ */

/* A session row of the store: a recording that this listing must take
 * from the store (another node's; or this node's no longer in its spool)
 * and that the filters match? */
static int
recordings_other(const struct state_session *s, void *arg)
{
	struct recordings_list *F = arg;
	const struct audverb_filter *AF = F->AF;
	char id[REC_SESSION_ID_MAX + 1], day[16];
	struct state_session *n;
	struct tm tm;

	if (audstore_id_of(s->recording, id, sizeof(id)) != 0)
		return (0);
	/* this node's own: listed from its spool while it is there; once
	 * gone from it, only where an object store may have it */
	if ((s->node[0] == '\0' || strcmp(s->node, F->here) == 0) &&
	    (!F->pol->recstore.s3 || access(s->recording, F_OK) == 0))
		return (0);
	day[0] = '\0';
	if (gmtime_r(&s->started, &tm) != NULL)
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if ((AF->engineer && strcmp(s->engineer, AF->engineer) != 0) ||
	    (AF->vendor && strcmp(s->vendor, AF->vendor) != 0) ||
	    (AF->device && strcmp(s->device, AF->device) != 0) ||
	    (AF->date && strncmp(day, AF->date, strlen(AF->date)) != 0))
		return (0);
	if (F->nothers == RECORDINGS_OTHERS_MAX) {
		F->more = 1;
		return (1);
	}
	if ((n = realloc(F->others, (F->nothers + 1) * sizeof(*n))) == NULL)
		return (1);
	F->others = n;
	F->others[F->nothers++] = *s;
	return (0);
}

/*
 * Where the object store has each of the other recordings: bastion-ship
 * list (beside bastiond, no shell; it alone talks to the store), its
 * lines "ID sealed KEY", "ID cut KEY", "ID absent", "ID error WHY" into
 * state[i]: 's' sealed, 'c' cut, 'a' absent, '?' not known.
 */
static void
recordings_shipped(struct verb_ctx *c, struct recordings_list *F,
    char *state)
{
	char *argv[RECORDINGS_OTHERS_MAX + 5], pol[PATH_MAX];
	char ids[RECORDINGS_OTHERS_MAX][REC_SESSION_ID_MAX + 1];
	char *out = NULL, *err = NULL, *line, *save = NULL;
	char id[REC_SESSION_ID_MAX + 1], what[16];
	struct verb_ctx q;
	size_t olen = 0, elen = 0, i;
	int n = 0;

	memset(state, '?', F->nothers);
	if (!c->pol->recstore.s3 || c->pol->path == NULL || F->nothers == 0)
		return;
	snprintf(pol, sizeof(pol), "%s", c->pol->path);
	argv[n++] = "-f";
	argv[n++] = pol;
	argv[n++] = "list";
	for (i = 0; i < F->nothers; i++) {
		(void)audstore_id_of(F->others[i].recording, ids[i],
		    sizeof(ids[i]));
		argv[n++] = ids[i];
	}
	argv[n] = NULL;
	q = *c;
	if ((q.out = open_memstream(&out, &olen)) == NULL ||
	    (q.err = open_memstream(&err, &elen)) == NULL) {
		if (q.out != NULL)
			fclose(q.out);
		free(out);
		return;
	}
	(void)audverb_tool_split(&q, "bastion-ship", argv);
	fclose(q.out);
	fclose(q.err);
	free(err);
	/* our own tool's lines; still read with bounds */
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%64s %15s", id, what) != 2)
			continue;
		for (i = 0; i < F->nothers; i++)
			if (strcmp(ids[i], id) == 0)
				state[i] = strcmp(what, "sealed") == 0 ? 's' :
				    strcmp(what, "cut") == 0 ? 'c' :
				    strcmp(what, "absent") == 0 ? 'a' : '?';
	}
	free(out);
}

/* The rows of the recordings other nodes made (or this node no longer
 * holds), collected from the shared store's session rows
 * (recordings_other), with where the object store has them. */
static void
recordings_others(struct verb_ctx *c, struct recordings_list *F)
{
	char state[RECORDINGS_OTHERS_MAX], ref[24], from[80];
	char id[REC_SESSION_ID_MAX + 1];
	struct recordings_item it;
	const struct state_session *s;
	size_t i;

	recordings_shipped(c, F, state);
	for (i = 0; i < F->nothers; i++) {
		s = &F->others[i];
		memset(&it, 0, sizeof(it));
		(void)audstore_id_of(s->recording, id, sizeof(id));
		snprintf(ref, sizeof(ref), "%lld", (long long)s->sid);
		snprintf(from, sizeof(from), "%s", s->source);
		it.ref = ref;
		it.recording = id;
		it.engineer = s->engineer;
		it.vendor = s->vendor;
		it.device = s->device;
		it.approval = "-";
		it.from = from;
		it.node = s->node[0] != '\0' ? s->node : "-";
		it.start = s->started;
		it.secs = (long long)((s->ended != 0 ? s->ended : F->now) -
		    s->started);
		if (it.secs < 0)
			it.secs = 0;
		it.shipped = state[i] == 's' || state[i] == 'c' ? 1 :
		    state[i] == 'a' ? 0 : -1;
		/* in the store: what bastion-ship shipped (only what verified
		 * sealed, or cut by a crash); else what the row says */
		it.status = state[i] == 's' ? "sealed" : state[i] == 'c' ?
		    "cut" : s->ended == 0 ? (s->lost ? "lost" : "live") :
		    "ended";
		it.where = it.shipped == 1 ? "store" : strcmp(it.node,
		    F->here) == 0 ? "gone" : "node-disk";
		recordings_add(F, &it);
	}
	if (F->more)
		fprintf(c->err, "bastion: only the %d newest recordings of "
		    "other nodes are listed; narrow it with --engineer, "
		    "--vendor, --device or --date\n", RECORDINGS_OTHERS_MAX);
	free(F->others);
	F->others = NULL;
	F->nothers = 0;
}

static int
cmd_recordings_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct audverb_filter AF;
	struct recordings_list F;
	char **words = a->argv;
	struct table_col cols[RECORDINGS_COLS];
	size_t k, ncols;
	int nw = a->argc, rc, i, opened;

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
	F.now = time(NULL);
	F.pol = c->pol;
	F.here = c->pol->store_node != NULL ? c->pol->store_node : "-";
	F.AF = &AF;
	/* the recordings the shared store knows and this spool has not */
	opened = audverb_state(c);
	if (c->st != NULL && state_session_each(c->st, 1, AUDSTORE_SCAN,
	    recordings_other, &F) < 0) {
		free(F.others);
		F.others = NULL;
		F.nothers = 0;
	}
	/* NODE and WHERE only where a recording may be elsewhere: a single
	 * node's table stays as it was */
	F.nodes = c->pol->recstore.s3 || F.nothers > 0;
	for (k = 0, ncols = 0; k < RECORDINGS_COLS; k++)
		if (recordings_col(&F, k))
			cols[ncols++] = recordings_cols[k];
	if ((F.t = table_new(cols, ncols)) == NULL) {
		fprintf(c->err, "bastion: out of memory\n");
		free(F.others);
		audverb_state_done(c, opened);
		return (1);
	}
	AF.row = recordings_row;
	AF.arg = &F;
	recordings_live_load(c->pol, &F);
	rc = audverb_walk(c->pol, &AF) == 0 ? 0 : 1;
	recordings_others(c, &F);
	audverb_state_done(c, opened);
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
