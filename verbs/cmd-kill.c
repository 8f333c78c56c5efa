/*
 * cmd-kill.c - "kill SESSION [REASON...] [--json]": end a live vendor
 * session. The engineer is told the reason; the session monitor ends it
 * within a second, and the verb waits up to 10 seconds to say whether it
 * ended. Audit: session.killed.
 */
#include <stdio.h>
#include <time.h>

#include "approvals.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "text.h"

/* The words and the session, checked: what exec and describe share. */
static int
kill_check(struct verb_ctx *c, const struct verb_args *a, char *why,
    size_t whylen, struct state_session *s)
{
	if (a->n < 1) {
		fprintf(c->err, "kill: give a session number (see "
		    "\"sessions\") and a reason the engineer will see\n");
		return (2);
	}
	appr_join(a, 1, "no reason given", why, whylen);
	if (!appr_reason_ok(c, "kill", why))
		return (2);
	return (appr_session(c, "kill", a->pos[0], s));
}

int
cmd_kill_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	struct state_session s;
	char why[APPR_TEXT_MAX * 2], sid[32], row[32], started[32];
	int rc;

	if ((rc = kill_check(c, a, why, sizeof(why), &s)) != 0)
		return (rc);
	if (s.ended != 0 || s.kill_requested) {
		fprintf(c->err, "kill: session %lld has ended already\n",
		    (long long)s.sid);
		return (1);
	}
	snprintf(sid, sizeof(sid), "%lld", (long long)s.sid);
	snprintf(row, sizeof(row), "%lld", (long long)s.id);
	snprintf(started, sizeof(started), "%lld", (long long)s.started);
	return (appr_canon_kv(canon, summary, (const char *const []){
	    "verb", "kill", "session", sid, "row", row, "engineer",
	    s.engineer, "vendor", s.vendor, "device", s.device, "from",
	    s.source, "started", started, "reason", why, NULL }) != 0 ? 1 : 0);
}

static int
cmd_kill_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct state_session s, now_s;
	char why[APPR_TEXT_MAX * 2], sidstr[32];
	time_t deadline;
	int rc, found = 0, ended = 0;

	if ((rc = kill_check(c, a, why, sizeof(why), &s)) != 0)
		return (rc);
	rc = state_session_kill(c->st, s.sid, c->admin, why, &s);
	if (rc == BERR_EXISTS) {
		fprintf(c->err, "kill: session %lld has ended already (%s)\n",
		    (long long)s.sid, s.end_reason);
		return (1);
	}
	if (rc != 0) {
		fprintf(c->err, "kill: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	snprintf(sidstr, sizeof(sidstr), "%lld", (long long)s.sid);
	audit_ev(BEV_SESSION_KILLED, "session", sidstr, "admin", c->admin,
	    "via", c->via, "user", s.engineer, "vendor", s.vendor, "device",
	    s.device, "from", s.source, "reason", why, VERB_ASSERTION(c),
	    NULL);
	/* the monitor looks once a second; the worker then closes */
	deadline = time(NULL) + APPR_KILL_WAIT_S;
	while (time(NULL) < deadline) {
		if (state_session_get(c->st, s.sid, &now_s, &found) == 0 &&
		    found && now_s.id == s.id && now_s.ended != 0) {
			ended = 1;
			break;
		}
		if (appr_wait(c, 250))
			break;
	}
	if (a->json) {
		fprintf(c->out, "{\"session\":%lld,\"status\":\"%s\","
		    "\"reason\":", (long long)s.sid, ended ? "ended" :
		    "requested");
		text_json(c->out, why);
		fputs("}\n", c->out);
	} else {
		char eng[40], dev[40], shown[APPR_TEXT_MAX + 1];

		appr_cell(s.engineer, eng, sizeof(eng));
		appr_cell(s.device, dev, sizeof(dev));
		text_clean(shown, sizeof(shown), why);
		if (ended)
			fprintf(c->out, "session %lld (%s on %s) ended; %s was "
			    "told: %s\n", (long long)s.sid, eng, dev, eng,
			    shown);
		else
			fprintf(c->out, "session %lld (%s on %s): kill "
			    "requested; it has not ended yet (see \"sessions\"; "
			    "the bastion ends it within seconds)\n",
			    (long long)s.sid, eng, dev);
	}
	return (0);
}

const struct cmd_entry cmd_kill_entry = {
	"kill", NULL,
	"SESSION [REASON...] [--json]",
	"end a live session; the engineer sees the reason",
	NULL,
	VO_JSON,
	VERB_ADMIN | VERB_STORE,
	cmd_kill_exec,
	NULL
};
