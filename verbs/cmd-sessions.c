/*
 * cmd-sessions.c - "sessions [--all] [--json] [--wide]": the live vendor
 * sessions (engineer, vendor, device, from where, since when, idle time
 * and recorded bytes from the recording file, grant, state, and the
 * bastiond node it runs on: every node's, when several share one store),
 * newest first; --all: the last 200, ended ones with their end reason.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "approvals.h"
#include "monitor.h"
#include "table.h"

/* "1.2 MiB" */
static void
appr_bytes(long long n, char *out, size_t len)
{
	if (n < 0)
		snprintf(out, len, "-");
	else if (n < 1024)
		snprintf(out, len, "%lld B", n);
	else if (n < 1024 * 1024)
		snprintf(out, len, "%.1f KiB", (double)n / 1024);
	else
		snprintf(out, len, "%.1f MiB", (double)n / (1024 * 1024));
}

/*
 * The recording's size and how long ago it last grew (the recorder writes
 * every frame as it comes and nothing while the session is quiet, so that
 * is the session's idle time, give or take its one-second checkpoints).
 * -1 when unknown.
 */
static void
appr_rec_stat(const struct verb_ctx *c, const struct state_session *s,
    time_t now, long long *bytes, long long *idle)
{
	struct stat sb;

	*bytes = *idle = -1;
	if (!mon_recording_ok(c->pol, s->recording) ||
	    stat(s->recording, &sb) != 0)
		return;
	*bytes = (long long)sb.st_size;
	if (s->ended == 0)
		*idle = now > sb.st_mtime ? (long long)(now - sb.st_mtime) : 0;
}

static void
appr_session_json(const struct verb_ctx *c, const struct state_session *s,
    time_t now)
{
	long long bytes, idle;

	appr_rec_stat(c, s, now, &bytes, &idle);
	fprintf(c->out, "{\"sid\":%lld,\"pid\":%d", (long long)s->sid,
	    s->pid);
	appr_json_strs(c->out, (const char *const []){ "node", s->node,
	    "engineer",
	    s->engineer, "vendor", s->vendor, "device", s->device, "from",
	    s->source, NULL });
	fprintf(c->out, ",\"started\":%lld,\"ended\":%lld",
	    (long long)s->started, (long long)s->ended);
	appr_json_strs(c->out, (const char *const []){ "end_reason",
	    s->end_reason, NULL });
	fprintf(c->out, ",\"grant\":%lld", (long long)s->grant_id);
	appr_json_strs(c->out, (const char *const []){ "recording",
	    s->recording, NULL });
	fprintf(c->out, ",\"recorded_bytes\":%lld,\"idle_seconds\":%lld,"
	    "\"kill_requested\":%s,\"lost\":%s", bytes, idle,
	    s->kill_requested ? "true" : "false", s->lost ? "true" : "false");
	appr_json_strs(c->out, (const char *const []){ "killed_by",
	    s->killed_by, "kill_reason", s->kill_reason, NULL });
	fputc('}', c->out);
}

static const struct table_col appr_session_cols[] = {
	{ "SID", TABLE_KEEP }, { "NODE", 0 }, { "ENGINEER", 0 }, { "VENDOR", 0 },
	{ "DEVICE", 0 }, { "FROM", TABLE_KEEP }, { "STARTED (UTC)", TABLE_KEEP },
	{ "IDLE", TABLE_KEEP }, { "RECORDED", TABLE_KEEP },
	{ "GRANT", TABLE_KEEP }, { "STATE", TABLE_FREE },
};

static int
appr_session_line(const struct state_session *s, void *arg)
{
	struct appr_list *l = arg;
	char when[32], idle[24], sid[24];
	char rec[24], state[400], grant[24];
	long long bytes, isec;

	if (appr_list_json(l)) {
		appr_session_json(l->c, s, l->now);
		return (0);
	}
	snprintf(sid, sizeof(sid), "%lld", (long long)s->sid);
	/* "12-07 14:05": the year is this one (JSON has it all), and the
	 * room goes to the state */
	appr_tcell(s->started, when, sizeof(when));
	if (strlen(when) == 19) {
		memmove(when, when + 5, 11);
		when[11] = '\0';
	}
	appr_rec_stat(l->c, s, l->now, &bytes, &isec);
	if (isec < 0)
		snprintf(idle, sizeof(idle), "-");
	else
		appr_duration_str((unsigned)isec, idle, sizeof(idle));
	appr_bytes(bytes, rec, sizeof(rec));
	if (s->grant_id != 0)
		snprintf(grant, sizeof(grant), "%lld", (long long)s->grant_id);
	else
		snprintf(grant, sizeof(grant), "-");
	if (s->ended != 0)
		snprintf(state, sizeof(state), "ended: %s", s->end_reason[0] ?
		    s->end_reason : "-");
	else if (s->lost)
		snprintf(state, sizeof(state), "lost (node %s silent)",
		    s->node[0] ? s->node : "-");
	else if (s->kill_requested)
		snprintf(state, sizeof(state), "ending (killed by %s)",
		    s->killed_by[0] ? s->killed_by : "-");
	else
		snprintf(state, sizeof(state), "live");
	return (appr_list_row(l, (const char *[]){ sid, s->node[0] ?
	    s->node : "-", s->engineer,
	    s->vendor, s->device, s->source, when, idle, rec, grant, state }));
}

static int
appr_session_walk(struct appr_list *l, const struct verb_args *a)
{
	if (state_session_each(l->c->st, a->all, a->all ? 200 : 0,
	    appr_session_line, l) != 0)
		return (-1);
	/* newest first (the store gives live sessions oldest first) */
	if (l->t != NULL)
		table_sort(l->t, 0, TABLE_DESC | TABLE_NUM);
	return (0);
}

static const struct appr_listing appr_session_listing = {
	appr_session_cols,
	sizeof(appr_session_cols) / sizeof(appr_session_cols[0]),
	appr_session_walk,
	"the state store failed (see the bastion's log)",
	"no live sessions", "no sessions"
};

const struct cmd_entry cmd_sessions_entry = {
	"sessions", NULL,
	"[--all] [--json] [--wide]",
	"live vendor sessions (--all: the last 200, ended ones too)",
	NULL,
	VO_JSON | VO_ALL | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	appr_list_exec,
	&appr_session_listing
};
