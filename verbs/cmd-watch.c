/*
 * cmd-watch.c - "watch SESSION [--from-start]": follow a live vendor
 * session read-only, sanitised, until it ends or the caller stops (^C).
 * The checks and the audit event (session.watch) are here; following the
 * recording as it is written is bastiond's, handed in as c->follow (over
 * ssh and through the control socket; bastionctl on the store directly
 * has none). A session of another node of a shared store is followed
 * through the store (bastion/peerwatch.c, docs/SCALE-OUT.md "Watching a
 * session of another node"): refused here if that node fell silent, and
 * audited with node= naming it.
 */
#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "log.h"
#include "monitor.h"

static int
cmd_watch_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct state_session s;
	char sidstr[32];
	int rc, elsewhere;

	if (a->n != 1) {
		fprintf(c->err, "watch: give one session number (see "
		    "\"sessions\")\n");
		return (2);
	}
	if ((rc = appr_session(c, "watch", a->pos[0], &s)) != 0)
		return (rc);
	if (s.ended != 0) {
		fprintf(c->err, "watch: session %lld has ended (%s); an "
		    "auditor can replay its recording\n", (long long)s.sid,
		    s.end_reason);
		return (1);
	}
	/* the live stream is in the recorder of the session's node: another
	 * node asks it through the store, if it is alive */
	elsewhere = s.node[0] != '\0' && c->pol->store_node != NULL &&
	    strcmp(s.node, c->pol->store_node) != 0;
	if (elsewhere && s.lost) {
		fprintf(c->err, "watch: session %lld runs on node %s, which has "
		    "fallen silent (no heartbeat within store: lost_after): its "
		    "live output cannot be reached; see \"sessions\"\n",
		    (long long)s.sid, s.node);
		return (1);
	}
	/* that node checks the admin against its own policy: a Unix login
	 * that maps to no admin means nothing there */
	if (elsewhere && !c->admin_is_policy) {
		fprintf(c->err, "watch: session %lld runs on node %s, which "
		    "checks the watching admin against its policy: %s is no "
		    "policy admin (give an admin unix_user: %s, or use ssh "
		    "ADMIN@bastion watch %lld)\n", (long long)s.sid, s.node,
		    c->admin, c->admin, (long long)s.sid);
		return (1);
	}
	if (!elsewhere && !mon_recording_ok(c->pol, s.recording)) {
		fprintf(c->err, "watch: the recording of session %lld is not "
		    "below recordings_dir (%s); refusing to read it\n",
		    (long long)s.sid, c->pol->recordings_dir);
		return (1);
	}
	if (c->follow == NULL) {
		fprintf(c->err, "watch: not available here; use "
		    "ssh ADMIN@bastion watch %lld\n", (long long)s.sid);
		return (1);
	}
	snprintf(sidstr, sizeof(sidstr), "%lld", (long long)s.sid);
	/* nobody watches a session unrecorded in the audit chain */
	if (audit_ev(BEV_SESSION_WATCH, "session", sidstr, "admin", c->admin,
	    "via", c->via, "user", s.engineer, "device", s.device,
	    elsewhere ? "node" : NULL, s.node, NULL) != 0) {
		fprintf(c->err, "watch: the audit log cannot be written, so "
		    "watching is refused; see the bastion's log\n");
		return (1);
	}
	fprintf(c->err, "bastion: watching session %lld: %s (%s) on %s from "
	    "%s%s%s; read-only, %s\n", (long long)s.sid, s.engineer, s.vendor,
	    s.device, s.source, elsewhere ? ", on node " : "",
	    elsewhere ? s.node : "", c->terminal ? "press Ctrl-C to stop" :
	    "close the connection to stop");
	fflush(c->err);
	rc = c->follow(c, &s, (a->opts & VO_START) != 0);
	fflush(c->out);
	return (rc);
}

const struct cmd_entry cmd_watch_entry = {
	"watch", NULL,
	"SESSION [--from-start]",
	"follow a live session read-only (its output, sanitised); ^C stops",
	"(read-only; Ctrl-C stops)",
	VO_START,
	VERB_ADMIN | VERB_STORE,
	cmd_watch_exec,
	NULL
};
