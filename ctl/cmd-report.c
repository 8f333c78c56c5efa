/*
 * cmd-report.c - "bastionctl report [--month YYYY-MM] [--json | --csv]
 * [--tz ZONE]": the monthly record of maintenance sessions the MHLW
 * guideline asks for. --csv is the same record for a spreadsheet (the web
 * console's download): UTF-8 with a BOM, CRLF, every cell quoted, times
 * in ISO 8601 with the offset of ZONE (an IANA name, default UTC).
 *
 * The source is the hash-chained audit log (STATE_DIR/audit.log), which
 * is verified first: the report says in its header whether the chain is
 * intact, and warns loudly when it is not (the lines after the break are
 * still reported, but they are not proven). For every session that
 * started in the month (UTC) it lists when (start, end, duration), who
 * (engineer, vendor), from where (the engineer's address), to where
 * (device and the address connected to), how it was let in (not required,
 * a pre-approved window, a request and who approved it, or a grant), the
 * work record if the engineer gave one (the session.work_record event),
 * and the recording: present, and what bastion-verify says of it (sealed,
 * not sealed, altered), checked with the recorder's public key. Then the
 * files moved through the airlock and the file declarations still open
 * (report_files.c).
 *
 * The sessions and what the chain says of them come from
 * auditsess_read() (store/auditsess.h: one reader for the report, replay
 * and export, matching events through the schema of events.h); this file
 * adds what only the report needs (approvers the chain does not name, from
 * the state store; whether a session is live; each recording verified) and
 * prints. Everything taken from the chain is untrusted text: it is made
 * printable before it reaches a terminal, and JSON strings are escaped.
 *
 * The text form is a table of the month (newest first, under 100
 * columns; --wide cuts nothing), then each session in full, wrapped.
 *
 * Exit status: 0 the chain is intact and every recording is sealed, or
 * still being written by a session that is running ("live": no end in
 * the chain, and the state store has it running); 1 the report was made
 * but something needs looking at (the chain is broken or torn, a
 * recording is altered, missing or not sealed); 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auditlog.h"
#include "auditsess.h"
#include "ctl.h"
#include "err.h"
#include "log.h"
#include "recfmt.h"
#include "reckey.h"
#include "recverify.h"
#include "report_files.h"
#include "table.h"
#include "text.h"

struct report {
	struct ctl *c;
	const char *month;		/* "2026-11" */
	char chain[4096];
	struct auditlog_verify cv;
	struct auditsess_set set;	/* the month's sessions */
	int store_failed;	/* ctl_state() said why once */
	struct report_nodes *nodes;	/* the group's checkpoints */
	struct report_files *files;	/* the files section, or NULL */
	size_t width;		/* TABLE_WIDTH, 0 with --wide */
};

/* ---- approvals and recordings ------------------------------------------ */

/* Who approved, when the chain does not say (auditsess_read() took the
 * chain's approval.approve lines): the state store. */
static void
report_approvers(struct report *R, struct auditsess *s)
{
	struct state_grant g;
	struct state_request rq;
	struct state *st;
	int found;

	if (s->approvers[0] != '\0' || (s->request[0] == '\0' &&
	    s->grant[0] == '\0'))
		return;
	/* not in the chain (it began later): the state store knows */
	if (R->c->st == NULL && R->store_failed)
		return;
	if ((st = ctl_state(R->c)) == NULL) {
		R->store_failed = 1;
		return;
	}
	if (s->request[0] == '\0' && state_grant_get(st, strtoll(s->grant,
	    NULL, 10), &g, &found) == 0 && found)
		snprintf(s->request, sizeof(s->request), "%lld",
		    (long long)g.request_id);
	if (s->request[0] != '\0' && state_request_get(st,
	    strtoll(s->request, NULL, 10), &rq, &found) == 0 && found)
		snprintf(s->approvers, sizeof(s->approvers), "%s",
		    rq.approvers);
}

/* Where the recording is: the path the chain names if it lies under
 * recordings_dir, else RECDIR/YYYY/MM/DD/ID.brec. */
static void
report_rec_path(struct report *R, struct auditsess *s, char *out, size_t len)
{
	const char *dir = R->c->pol->recordings_dir;
	size_t dl = strlen(dir);
	char want[128];

	snprintf(want, sizeof(want), "/%s.brec", s->recording);
	if (strncmp(s->rec_path, dir, dl) == 0 && s->rec_path[dl] == '/' &&
	    strstr(s->rec_path, "/../") == NULL &&
	    strlen(s->rec_path) > strlen(want) &&
	    strcmp(s->rec_path + strlen(s->rec_path) - strlen(want),
	    want) == 0) {
		snprintf(out, len, "%s", s->rec_path);
		return;
	}
	snprintf(out, len, "%s/%.4s/%.2s/%.2s/%s.brec", dir, s->recording,
	    s->recording + 4, s->recording + 6, s->recording);
}

/* A session the chain has not seen end: is it still running? The state
 * store knows (the same session number and worker, not ended). */
static void
report_live(struct report *R, struct auditsess *s)
{
	struct state_session ss;
	struct state *st;
	int found = 0;

	if (s->end[0] != '\0' || (R->c->st == NULL && R->store_failed))
		return;
	if ((st = ctl_state(R->c)) == NULL) {
		R->store_failed = 1;
		return;
	}
	if (state_session_get(st, strtoll(s->sid, NULL, 10), &ss, &found) ==
	    0 && found && ss.ended == 0 && ss.pid == atoi(s->pid))
		s->live = 1;
}

static void
report_recording(struct report *R, struct auditsess *s, const struct reckey *pub)
{
	struct recverify_report rep;
	char path[2048];
	struct stat st;

	if (s->recording[0] == '\0' || !recfmt_session_id_valid(s->recording) ||
	    strlen(s->recording) < 8) {
		s->rec_status = "none";
		snprintf(s->rec_detail, sizeof(s->rec_detail), "no recording "
		    "is named in the audit chain");
		return;
	}
	report_rec_path(R, s, path, sizeof(path));
	snprintf(s->rec_path, sizeof(s->rec_path), "%s", path);
	if (stat(path, &st) != 0) {
		s->rec_status = "MISSING";
		snprintf(s->rec_detail, sizeof(s->rec_detail), "%s",
		    strerror(errno));
		return;
	}
	if (pub == NULL) {
		s->rec_status = "present";
		snprintf(s->rec_detail, sizeof(s->rec_detail), "not verified: "
		    "the recorder's public key cannot be read");
		return;
	}
	switch (recverify_file(path, pub, &rep)) {
	case RECVERIFY_OK:
		s->rec_status = "sealed";
		if (rep.end_status != REC_END_NORMAL)
			snprintf(s->rec_detail, sizeof(s->rec_detail), "ended "
			    "abnormally: %s", rep.end_reason);
		break;
	case RECVERIFY_UNSEALED:
		if (s->live) {
			/* still being written: sealed when it ends */
			s->rec_status = "live";
			snprintf(s->rec_detail, sizeof(s->rec_detail), "the "
			    "session is still running; the recording is "
			    "sealed when it ends");
			break;
		}
		s->rec_status = "not sealed";
		snprintf(s->rec_detail, sizeof(s->rec_detail), "%llu trailing "
		    "frame(s) unverified", (unsigned long long)rep.unverified);
		break;
	case RECVERIFY_ALTERED:
		s->rec_status = "ALTERED";
		snprintf(s->rec_detail, sizeof(s->rec_detail),
		    "frame seq %llu: %s", (unsigned long long)rep.bad_seq,
		    rep.why);
		break;
	default:
		s->rec_status = "unreadable";
		snprintf(s->rec_detail, sizeof(s->rec_detail), "%s", rep.why);
	}
	recverify_report_clear(&rep);
}

/* ---- output ------------------------------------------------------------ */

static const char *
report_chain_state(const struct auditlog_verify *v)
{
	static const char *const names[] = {
		[AUDITLOG_OK] = "intact",
		[AUDITLOG_ALTERED] = "altered",
		[AUDITLOG_TRUNCATED] = "torn",
	};

	if (v->verdict < 0 || (size_t)v->verdict >= sizeof(names) /
	    sizeof(names[0]) || names[v->verdict] == NULL)
		return ("unreadable");
	return (names[v->verdict]);
}

static void
report_duration(const struct auditsess *s, char *out, size_t len)
{
	if (s->seconds < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%lld:%02lld:%02lld", s->seconds / 3600,
		    s->seconds / 60 % 60, s->seconds % 60);
}

static void
report_approval_text(const struct auditsess *s, char *out, size_t len)
{
	if (strcmp(s->admission, "window") == 0)
		snprintf(out, len, "pre-approved window");
	else if (strcmp(s->admission, "grant") == 0)
		snprintf(out, len, "grant %s (request %s: %s)", s->grant,
		    s->request[0] ? s->request : "?",
		    s->approvers[0] ? s->approvers : "?");
	else if (strcmp(s->admission, "request") == 0)
		snprintf(out, len, "request %s: %s", s->request,
		    s->approvers[0] ? s->approvers : "no approval found");
	else
		snprintf(out, len, "not required");
}

/* "2026-11-02T10:00:01.123Z" -> "2026-11-02 10:00:01" */
static void
report_time(const char *ts, char *out, size_t len)
{
	snprintf(out, len, "%.10s %.8s", ts, strlen(ts) > 11 ? ts + 11 : "");
	if (*ts == '\0')
		snprintf(out, len, "-");
}

/* The approval in a few words, for the table. */
static void
report_approval_short(const struct auditsess *s, char *out, size_t len)
{
	if (strcmp(s->admission, "window") == 0)
		snprintf(out, len, "window");
	else if (strcmp(s->admission, "grant") == 0)
		snprintf(out, len, "grant %s", s->grant);
	else if (strcmp(s->admission, "request") == 0)
		snprintf(out, len, "request %s", s->request);
	else
		snprintf(out, len, "not required");
}

/* The work record's known fields (empty when absent). */
struct work_fields {
	char pi[32], rec[1024], why[1024];
};

static void
report_work_fields(const struct auditsess *s, struct work_fields *w)
{
	const char *p = s->work, *end = s->work + strlen(s->work);
	char key[64], val[1024];

	memset(w, 0, sizeof(*w));
	while (auditlog_field_next(&p, end, key, sizeof(key), val,
	    sizeof(val)) == 0) {
		if (strcmp(key, "personal_info") == 0)
			snprintf(w->pi, sizeof(w->pi), "%.16s", val);
		else if (strcmp(key, "records") == 0)
			snprintf(w->rec, sizeof(w->rec), "%s", val);
		else if (strcmp(key, "reason") == 0)
			snprintf(w->why, sizeof(w->why), "%s", val);
	}
}

/*
 * The work record in words (session.work_record: personal_info=yes|no|
 * unanswered, records, reason, and whatever else a later bastiond adds):
 * "patient data accessed; records: P-100, P-200", "no patient data",
 * "not answered: not asked: the session had no terminal". "-" if none.
 */
static void
report_work_text(const struct auditsess *s, char *out, size_t len)
{
	const char *p = s->work, *end = s->work + strlen(s->work);
	char key[64], val[1024];
	struct work_fields w;
	const char *pi = w.pi, *rec = w.rec, *why = w.why;
	size_t o;

	if (!s->has_work) {
		snprintf(out, len, "-");
		return;
	}
	report_work_fields(s, &w);
	if (strcmp(pi, "yes") == 0)
		o = (size_t)snprintf(out, len, "patient data accessed");
	else if (strcmp(pi, "no") == 0)
		o = (size_t)snprintf(out, len, "no patient data");
	else if (strcmp(pi, "unanswered") == 0)
		o = (size_t)snprintf(out, len, "not answered");
	else
		o = (size_t)snprintf(out, len, "given");
	if (o < len && rec[0] != '\0' && strcmp(rec, "-") != 0)
		o += (size_t)snprintf(out + o, len - o, "; records: %s", rec);
	if (o < len && why[0] != '\0')
		o += (size_t)snprintf(out + o, len - o, "; %s", why);
	/* anything else, as it is named */
	for (p = s->work; o < len && auditlog_field_next(&p, end, key,
	    sizeof(key), val, sizeof(val)) == 0; )
		if (strcmp(key, "personal_info") != 0 &&
		    strcmp(key, "records") != 0 && strcmp(key, "reason") != 0)
			o += (size_t)snprintf(out + o, len - o, "; %s: %s", key,
			    val);
}

/* The work record in the table: did the engineer see patient data, and
 * which records ("yes: P-100, P-200", "no", "not answered"); the rest is
 * in the session's details below the table. */
static void
report_work_short(const struct auditsess *s, char *out, size_t len)
{
	struct work_fields w;
	const char *pi = w.pi, *rec = w.rec;

	if (!s->has_work) {
		snprintf(out, len, "-");
		return;
	}
	report_work_fields(s, &w);
	if (strcmp(pi, "yes") == 0 && rec[0] != '\0' &&
	    strcmp(rec, "-") != 0)
		snprintf(out, len, "yes: %s", rec);
	else if (strcmp(pi, "yes") == 0 || strcmp(pi, "no") == 0)
		snprintf(out, len, "%s", pi);
	else if (strcmp(pi, "unanswered") == 0)
		snprintf(out, len, "not answered");
	else
		snprintf(out, len, "given");
}

static const struct table_col report_cols[] = {
	{ "SID", TABLE_KEEP }, { "START (UTC)", TABLE_KEEP },
	{ "DURATION", TABLE_KEEP }, { "ENGINEER", 0 }, { "VENDOR", 0 },
	{ "DEVICE", 0 }, { "APPROVAL", TABLE_KEEP },
	{ "PATIENT DATA", TABLE_FREE }, { "RECORDING", TABLE_KEEP },
};

/* The month at a glance: one line per session, newest first. */
static void
report_table(struct report *R)
{
	struct table *t;
	char start[32], dur[32], appr[64], work[1400];
	size_t i;

	if ((t = table_new(report_cols, sizeof(report_cols) /
	    sizeof(report_cols[0]))) == NULL) {
		fprintf(stderr, "bastionctl: report: out of memory\n");
		return;
	}
	for (i = R->set.n; i-- > 0; ) {
		const struct auditsess *s = &R->set.s[i];

		/* the month is in the title: day and minute here, the
		 * seconds in the details */
		report_time(s->start, start, sizeof(start));
		if (strlen(start) >= 16)
			memmove(start, start + 5, 11);
		start[strlen(start) >= 11 ? 11 : strlen(start)] = '\0';
		if (s->live)
			snprintf(dur, sizeof(dur), "live");
		else
			report_duration(s, dur, sizeof(dur));
		report_approval_short(s, appr, sizeof(appr));
		report_work_short(s, work, sizeof(work));
		if (table_add(t, (const char *[]){ s->sid, start, dur,
		    s->engineer, s->vendor, s->device, appr, work,
		    s->rec_status }) != 0) {
			fprintf(stderr, "bastionctl: report: out of memory\n");
			break;
		}
	}
	(void)table_print(t, stdout, NULL, R->width);
	table_free(t);
}

/* Everything the chain says of each session, newest first, wrapped. */
static void
report_details(struct report *R)
{
	char buf[2600], a[400], b[400], when[32], until[32], dur[32];
	size_t i;

	printf("\nEach session (newest first):\n");
	for (i = R->set.n; i-- > 0; ) {
		const struct auditsess *s = &R->set.s[i];

		report_time(s->start, when, sizeof(when));
		report_time(s->end, until, sizeof(until));
		report_duration(s, dur, sizeof(dur));
		printf("\n");
		if (s->live)
			snprintf(buf, sizeof(buf), "%s  %s UTC, still running",
			    s->sid, when);
		else
			snprintf(buf, sizeof(buf), "%s  %s to %s UTC (%s)",
			    s->sid, when, s->end[0] == '\0' ? "?" :
			    strncmp(when, until, 10) == 0 ? until + 11 : until,
			    dur);
		table_para(stdout, NULL, "    ", buf, R->width);
		snprintf(buf, sizeof(buf), "%s (%s) from %s to %s at %s%s%s%s",
		    s->engineer[0] ? s->engineer : "?",
		    s->vendor[0] ? s->vendor : "?",
		    s->source[0] ? s->source : s->from[0] ? s->from : "?",
		    s->device[0] ? s->device : "?", s->to[0] ? s->to : "?",
		    s->kind[0] ? " (" : "", s->kind, s->kind[0] ? ")" : "");
		table_para(stdout, "    ", "      ", buf, R->width);
		if (s->local[0] != '\0') {
			/* what the device logs as its peer (AUDIT.md) */
			snprintf(buf, sizeof(buf), "device saw: %s", s->local);
			table_para(stdout, "    ", "      ", buf, R->width);
		}
		report_approval_text(s, a, sizeof(a));
		snprintf(buf, sizeof(buf), "approval: %s", a);
		table_para(stdout, "    ", "      ", buf, R->width);
		if (s->has_work) {
			report_work_text(s, b, sizeof(b));
			snprintf(buf, sizeof(buf), "work record: %s", b);
			table_para(stdout, "    ", "      ", buf, R->width);
		}
		snprintf(buf, sizeof(buf), "recording %s: %s%s%s",
		    s->recording[0] ? s->recording : "-", s->rec_status,
		    s->rec_detail[0] ? " (" : "", s->rec_detail);
		if (s->rec_detail[0])
			strncat(buf, ")", sizeof(buf) - strlen(buf) - 1);
		table_para(stdout, "    ", "      ", buf, R->width);
		if (s->end_reason[0] != '\0') {
			snprintf(buf, sizeof(buf), "ended: %s", s->end_reason);
			table_para(stdout, "    ", "      ", buf, R->width);
		}
	}
}

static void
report_text(struct report *R, const char *generated)
{
	char why[300], t[1100], sid[32], rec[80];
	size_t i, sealed = 0, live = 0, other = 0;

	/* paths and the head on lines of their own: under 100 columns for
	 * the usual paths, and never cut */
	printf("Maintenance sessions %s (UTC), generated %s\n", R->month,
	    generated);
	printf("Policy\n  %s\n", R->c->policy_path);
	text_clean(why, sizeof(why), R->cv.why);
	switch (R->cv.verdict) {
	case AUDITLOG_OK:
		printf("Audit chain: verified intact, %llu lines (seq 1..%llu)"
		    "\n  %s\n  head %s\n", (unsigned long long)R->cv.lines,
		    (unsigned long long)R->cv.last_seq, R->chain,
		    R->cv.head[0] ? R->cv.head : "-");
		break;
	case AUDITLOG_TRUNCATED:
		snprintf(t, sizeof(t), "Audit chain: lines 1..%llu verify; "
		    "WARNING: the last line (%llu) is torn (a crash, or the "
		    "file was cut): %s", (unsigned long long)R->cv.lines,
		    (unsigned long long)R->cv.bad_line, why);
		table_para(stdout, NULL, "  ", t, R->width);
		printf("  %s\n", R->chain);
		break;
	default:
		printf("\n!!! WARNING: THE AUDIT CHAIN IS %s: %s line %llu: "
		    "%s\n!!! Only lines 1..%llu are proven. Sessions after "
		    "that may be missing, altered or forged.\n!!! Check it: "
		    "bastion-verify --audit %s, and compare with the "
		    "journal's chain=SEQ:HASH witnesses.\n\n",
		    R->cv.verdict == AUDITLOG_ALTERED ? "BROKEN" :
		    "UNREADABLE", R->chain, (unsigned long long)R->cv.bad_line,
		    why, (unsigned long long)R->cv.lines, R->chain);
	}
	if (R->set.overflow)
		printf("WARNING: more than %d sessions: the rest are left "
		    "out\n", AUDITSESS_MAX);
	if (R->nodes != NULL)
		report_nodes_text(R->nodes, stdout, R->width);
	printf("\n");
	if (R->set.n == 0) {
		printf("No sessions started in %s.\n", R->month);
		return;
	}
	report_table(R);
	for (i = 0; i < R->set.n; i++)
		if (strcmp(R->set.s[i].rec_status, "sealed") == 0)
			sealed++;
		else if (strcmp(R->set.s[i].rec_status, "live") == 0)
			live++;
		else
			other++;
	printf("\n%zu session(s); recordings: %zu sealed, %zu live, %zu need "
	    "attention\n", R->set.n, sealed, live, other);
	for (i = R->set.n; i-- > 0; ) {
		const struct auditsess *s = &R->set.s[i];

		if (strcmp(s->rec_status, "sealed") == 0 ||
		    strcmp(s->rec_status, "live") == 0)
			continue;
		text_clean(t, sizeof(t), s->rec_detail);
		text_clean(sid, sizeof(sid), s->sid);
		text_clean(rec, sizeof(rec), s->recording[0] ? s->recording :
		    "-");
		printf("  session %s: recording %s: %s%s%s\n", sid, rec,
		    s->rec_status, t[0] ? ": " : "", t);
	}
	report_details(R);
}

static void
report_json_field(FILE *f, const char *key, const char *val, int comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	if (val == NULL || *val == '\0')
		fputs("null", f);
	else
		text_json(f, val);
}

/* The work record as an object of its fields. */
static void
report_json_work(FILE *f, const struct auditsess *s)
{
	const char *p = s->work, *end = s->work + strlen(s->work);
	char key[64], val[1024];
	int first = 1;

	if (!s->has_work) {
		fputs("null", f);
		return;
	}
	fputc('{', f);
	while (auditlog_field_next(&p, end, key, sizeof(key), val,
	    sizeof(val)) == 0) {
		report_json_field(f, key, val, !first);
		first = 0;
	}
	fputc('}', f);
}

static void
report_json(struct report *R, const char *generated)
{
	size_t i;

	fputs("{", stdout);
	report_json_field(stdout, "month", R->month, 0);
	report_json_field(stdout, "generated", generated, 1);
	fputs(",\"audit_chain\":{", stdout);
	report_json_field(stdout, "path", R->chain, 0);
	report_json_field(stdout, "status", report_chain_state(&R->cv), 1);
	printf(",\"lines\":%llu,\"last_seq\":%llu",
	    (unsigned long long)R->cv.lines,
	    (unsigned long long)R->cv.last_seq);
	report_json_field(stdout, "head", R->cv.head, 1);
	if (R->cv.verdict != AUDITLOG_OK) {
		printf(",\"bad_line\":%llu",
		    (unsigned long long)R->cv.bad_line);
		report_json_field(stdout, "why", R->cv.why, 1);
	}
	fputs("}", stdout);
	if (R->nodes != NULL)
		report_nodes_json(R->nodes, stdout);
	printf(",\"truncated\":%s,\"sessions\":[", R->set.overflow ? "true" :
	    "false");
	for (i = 0; i < R->set.n; i++) {
		const struct auditsess *s = &R->set.s[i];

		fputs(i > 0 ? ",{" : "{", stdout);
		report_json_field(stdout, "session", s->sid, 0);
		report_json_field(stdout, "recording", s->recording, 1);
		report_json_field(stdout, "start", s->start, 1);
		report_json_field(stdout, "end", s->end, 1);
		printf(",\"live\":%s", s->live ? "true" : "false");
		if (s->seconds >= 0)
			printf(",\"seconds\":%lld", s->seconds);
		else
			fputs(",\"seconds\":null", stdout);
		report_json_field(stdout, "engineer", s->engineer, 1);
		report_json_field(stdout, "vendor", s->vendor, 1);
		report_json_field(stdout, "from", s->from, 1);
		report_json_field(stdout, "source", s->source, 1);
		report_json_field(stdout, "device", s->device, 1);
		report_json_field(stdout, "to", s->to, 1);
		report_json_field(stdout, "local", s->local, 1);
		report_json_field(stdout, "kind", s->kind, 1);
		report_json_field(stdout, "bytes_in", s->bytes_in, 1);
		report_json_field(stdout, "bytes_out", s->bytes_out, 1);
		report_json_field(stdout, "end_reason", s->end_reason, 1);
		fputs(",\"approval\":{", stdout);
		report_json_field(stdout, "kind", s->admission[0] ?
		    s->admission : "not required", 0);
		report_json_field(stdout, "request", s->request, 1);
		report_json_field(stdout, "grant", s->grant, 1);
		report_json_field(stdout, "approvers", s->approvers, 1);
		fputs("},\"work_record\":", stdout);
		report_json_work(stdout, s);
		fputs(",\"recording_status\":{", stdout);
		report_json_field(stdout, "status", s->rec_status, 0);
		report_json_field(stdout, "path", s->rec_path, 1);
		report_json_field(stdout, "detail", s->rec_detail, 1);
		fputs("}}", stdout);
	}
	fputs("]", stdout);
	if (R->files != NULL)
		report_files_json(R->files, stdout);
	fputs("}\n", stdout);
}

/* ---- CSV -------------------------------------------------------------- */

/* A chain time ("2026-11-02T10:00:01.123Z") in the zone TZ names, ISO 8601
 * with its offset ("2026-11-02T19:00:01+09:00"); "" if there is none. */
static void
report_csv_time(const char *ts, char *out, size_t len)
{
	struct tm tm;
	time_t t;
	size_t n;

	memset(&tm, 0, sizeof(tm));
	out[0] = '\0';
	if (*ts == '\0' || strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return;
	t = timegm(&tm);
	if (localtime_r(&t, &tm) == NULL ||
	    (n = strftime(out, len, "%Y-%m-%dT%H:%M:%S%z", &tm)) < 5 ||
	    n + 2 > len) {
		out[0] = '\0';
		return;
	}
	/* "+0900" -> "+09:00" */
	memmove(out + n - 1, out + n - 2, 3);
	out[n - 2] = ':';
}

/* One cell: cleaned, quoted, quotes doubled; a cell a spreadsheet would
 * take for a formula (= + - @) starts with an apostrophe. */
static void
report_csv_cell(FILE *f, const char *val, int last)
{
	char clean[2048];
	const char *p;

	text_clean(clean, sizeof(clean), val);
	fputc('"', f);
	if (strchr("=+-@", clean[0]) != NULL && clean[0] != '\0')
		fputc('\'', f);
	for (p = clean; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

static void
report_csv(struct report *R)
{
	static const char *const head[] = { "session", "start", "end",
	    "seconds", "engineer", "vendor", "from", "device", "to",
	    "approval", "request", "grant", "approvers", "work_record",
	    "recording", "recording_status", "audit_chain", "files",
	    "file_declaration" };
	const size_t nh = sizeof(head) / sizeof(head[0]);
	char start[48], end[48], secs[24], work[2048], files[160], decl[160];
	size_t i;

	fputs("\xef\xbb\xbf", stdout);
	for (i = 0; i < nh; i++)
		report_csv_cell(stdout, head[i], i + 1 == nh);
	for (i = 0; i < R->set.n; i++) {
		const struct auditsess *s = &R->set.s[i];
		const char *row[sizeof(head) / sizeof(head[0])];
		size_t k;

		report_csv_time(s->start, start, sizeof(start));
		report_csv_time(s->end, end, sizeof(end));
		if (s->seconds >= 0)
			snprintf(secs, sizeof(secs), "%lld", s->seconds);
		else
			secs[0] = '\0';
		if (s->has_work)
			report_work_text(s, work, sizeof(work));
		else
			work[0] = '\0';
		row[0] = s->sid; row[1] = start; row[2] = end; row[3] = secs;
		row[4] = s->engineer; row[5] = s->vendor; row[6] = s->from;
		row[7] = s->device; row[8] = s->to;
		row[9] = s->admission[0] ? s->admission : "not required";
		row[10] = s->request; row[11] = s->grant;
		row[12] = s->approvers; row[13] = work;
		row[14] = s->recording; row[15] = s->rec_status;
		row[16] = report_chain_state(&R->cv);
		files[0] = decl[0] = '\0';
		if (R->files != NULL)
			report_files_session(R->files, R->store_failed ? NULL :
			    R->c->st, s->sid, files, sizeof(files), decl,
			    sizeof(decl));
		row[17] = files;
		row[18] = decl;
		for (k = 0; k < nh; k++)
			report_csv_cell(stdout, row[k] != NULL ? row[k] : "",
			    k + 1 == nh);
	}
}

/* The files section: the chain's file.transfer events of the month and
 * the store's open declarations (left out, with a warning, when the chain
 * cannot be read again). */
static void
report_files_add(struct report *R)
{
	struct state *st = R->store_failed ? NULL : ctl_state(R->c);
	int r;

	if (st == NULL)
		R->store_failed = 1;
	if ((r = report_files_read(R->chain, R->month, &R->files)) != 0) {
		fprintf(stderr, "bastionctl: report: the files moved cannot be "
		    "read from %s: %s\n", R->chain, berr_str(r));
		return;
	}
	if (st != NULL && (r = report_files_decls(R->files, st)) != 0)
		fprintf(stderr, "bastionctl: report: the open file declarations "
		    "cannot be read: %s\n", berr_str(r));
}

/* --tz: the CSV's zone (nothing else reads it), an IANA name (letters,
 * digits, "/_+-", no "..", not absolute). 0 or the exit status. */
static int
report_tz(const char *z)
{
	size_t n = strlen(z);

	if (n == 0 || n >= 64 || z[0] == '/' || strstr(z, "..") != NULL ||
	    strspn(z, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789/_+-") != n) {
		fprintf(stderr, "bastionctl: report: --tz \"%s\" is not a time "
		    "zone name (e.g. Asia/Tokyo)\n", z);
		return (CTL_EXIT_USAGE);
	}
	if (setenv("TZ", z, 1) != 0)
		return (CTL_EXIT_FAIL);
	tzset();
	return (0);
}

/* ---- the verb ---------------------------------------------------------- */

/* "YYYY-MM", month 01..12 */
static int
report_month_ok(const char *m)
{
	static const char shape[] = "dddd-dd";
	size_t i;

	if (strlen(m) != sizeof(shape) - 1)
		return (0);
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? (m[i] < '0' || m[i] > '9') : m[i] != '-')
			return (0);
	return (atoi(m + 5) >= 1 && atoi(m + 5) <= 12);
}

static int
cmd_report_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "month", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "tz", required_argument, NULL, 'z' },
		{ "wide", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct report R;
	struct reckey *pub = NULL;
	char month[16], pubpath[4096], generated[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int ch, json = 0, zone = 0, rc = CTL_EXIT_OK, r;

	memset(&R, 0, sizeof(R));
	R.c = c;
	R.width = TABLE_WIDTH;
	gmtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	strftime(generated, sizeof(generated), "%Y-%m-%d %H:%M UTC", &tm);
	while ((ch = getopt_long(argc, argv, "m:jcz:w", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (!report_month_ok(optarg)) {
				fprintf(stderr, "bastionctl: report: --month "
				    "\"%s\" is not YYYY-MM (e.g. --month "
				    "2026-11)\n", optarg);
				return (CTL_EXIT_USAGE);
			}
			snprintf(month, sizeof(month), "%s", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			json = 2;
			break;
		case 'z':
			if ((r = report_tz(optarg)) != 0)
				return (r);
			zone = 1;
			break;
		case 'w':
			R.width = 0;
			break;
		default:
			ctl_usage(&ctl_cmd_report, stderr);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind != argc) {
		ctl_usage(&ctl_cmd_report, stderr);
		return (CTL_EXIT_USAGE);
	}
	R.month = month;
	if (json == 2 && !zone) {
		(void)setenv("TZ", "UTC", 1);
		tzset();
	}
	if (auditlog_path_for(c->pol->state_dir, R.chain,
	    sizeof(R.chain)) != 0) {
		fprintf(stderr, "bastionctl: report: state_dir %s is too "
		    "long; use a shorter path in %s\n", c->pol->state_dir,
		    c->policy_path);
		return (CTL_EXIT_FAIL);
	}
	/* 1: is the record itself intact? */
	auditlog_verify_file(R.chain, &R.cv);
	if (R.cv.verdict == AUDITLOG_ERROR) {
		fprintf(stderr, "bastionctl: report: cannot read the audit "
		    "chain %s: %s (run bastionctl as the bastion's user; the "
		    "chain is created when bastiond starts)\n", R.chain,
		    R.cv.why);
		return (CTL_EXIT_FAIL);
	}
	/* 2: the month's sessions, then what the chain says about them */
	if ((r = auditsess_read(R.chain, R.month, NULL, &R.set)) != 0) {
		fprintf(stderr, "bastionctl: report: reading %s failed: %s\n",
		    R.chain, berr_str(r));
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	/* the group's signed checkpoints, this node's chain against its own */
	if (report_nodes_read(c->pol, R.chain, R.month, &R.nodes) != 0 ||
	    report_nodes_failed(R.nodes))
		rc = CTL_EXIT_FAIL;
	snprintf(pubpath, sizeof(pubpath), "%s/recorder.key.pub",
	    c->pol->state_dir);
	if (reckey_load_public(pubpath, &pub) != 0)
		fprintf(stderr, "bastionctl: report: cannot load the "
		    "recorder's public key %s: recordings are not verified "
		    "(bastiond --init creates it)\n", pubpath);
	for (i = 0; i < R.set.n; i++) {
		report_approvers(&R, &R.set.s[i]);
		report_live(&R, &R.set.s[i]);
		report_recording(&R, &R.set.s[i], pub);
		/* a session still running is not a problem: it is "live" */
		if (strcmp(R.set.s[i].rec_status, "sealed") != 0 &&
		    strcmp(R.set.s[i].rec_status, "live") != 0)
			rc = CTL_EXIT_FAIL;
	}
	if (R.cv.verdict != AUDITLOG_OK || R.set.overflow)
		rc = CTL_EXIT_FAIL;
	/* 3: the files moved, and the declarations still open */
	report_files_add(&R);
	if (json == 2)
		report_csv(&R);
	else if (json)
		report_json(&R, generated);
	else
		report_text(&R, generated);
	if (json == 0 && R.files != NULL)
		report_files_text(R.files, stdout, R.width);
out:
	report_files_free(R.files);
	reckey_free(pub);
	report_nodes_free(R.nodes);
	auditsess_set_clear(&R.set);
	return (rc);
}

const struct ctl_cmd ctl_cmd_report = {
	"report",
	"[--month YYYY-MM] [--json | --csv] [--tz ZONE] [--wide]",
	"the month's sessions (default: this month, UTC) from the verified "
	"audit chain",
	cmd_report_exec,
	0
};
