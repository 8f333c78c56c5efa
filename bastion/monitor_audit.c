/*
 * monitor_audit.c - the audit events a child hands its monitor
 * (MREQ_AUDIT, privsep.h). The child has no descriptor on the chain: the
 * monitor keeps only the fields, stamps the time, its own pid and the
 * session, checks that user, vendor, role and from agree with what it
 * decided, that the event is one the child's phase may report, and that
 * the child does not flood; then appends the line. A refused event is
 * audited (monitor.audit_refused) and kills the child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditlog.h"
#include "bclock.h"
#include "buf.h"
#include "burst.h"
#include "err.h"
#include "events.h"
#include "log.h"
#include "monitor_req.h"

#define MON_AUDIT_FIELDS	24

/*
 * The events a child may hand over, by phase: what only it can see (the
 * engineer's agent, the relay's byte counts, the engineer's requests).
 * Every decision (auth.*, approval.*, touch.ok, device.connect,
 * forward.open, session.start, ...) is the monitor's own.
 */
static const struct {
	enum bev event;
	int phases;
} mon_audit_events[] = {
	{ BEV_FORWARD_REFUSED, MPH_AUTHED | MPH_RELAY },
	{ BEV_TOUCH_NO_AGENT, MPH_AUTHED },
	{ BEV_TOUCH_NO_TOUCH, MPH_AUTHED },
	{ BEV_TOUCH_BAD_SIGNATURE, MPH_AUTHED },
	{ BEV_TOUCH_ERROR, MPH_AUTHED },
	{ BEV_SESSION_RECORDING_FAILED, MPH_AUTHED | MPH_RELAY },
	{ BEV_FORWARD_CLOSE, MPH_RELAY },
	{ BEV_SESSION_IDLE_WARNING, MPH_RELAY },
	{ BEV_SESSION_WORK_RECORD, MPH_RELAY },
	{ BEV_SESSION_REVOKED, MPH_RELAY },
	{ BEV_SESSION_END, MPH_RELAY },
	{ BEV_FILE_TRANSFER, MPH_RELAY },	/* the SFTP airlock */
	{ BEV_SFTP_MALFORMED, MPH_RELAY },
	{ BEV_SFTP_REFUSED, MPH_AUTHED | MPH_RELAY },	/* scp -O: before */
};

/* The monitor's own value for a field it stamps, or NULL if it does not
 * stamp key. "-" (a field the child left empty) always agrees. */
static const char *
mon_stamp(const struct mon *M, const char *key)
{
	const struct auth_result *au = &M->S.au;

	if (strcmp(key, "user") == 0)
		return (au->who != NULL ? au->who->name : "-");
	if (strcmp(key, "vendor") == 0)
		return (au->who != NULL && au->who->vendor != NULL ?
		    au->who->vendor->name : "-");
	if (strcmp(key, "role") == 0)
		return (au->role == ROLE_ADMIN ? "admin" : au->role ==
		    ROLE_AUDITOR ? "auditor" : "-");
	if (strcmp(key, "from") == 0)
		return (M->S.peerstr);
	return (NULL);
}

const char *
mon_answer_audit(struct mon *M, struct buf *req)
{
	static const char *const first[] = { "ts", "event", "pid" };
	char *line = NULL, key[64], *vals = NULL, event[64];
	const char *k[MON_AUDIT_FIELDS], *v[MON_AUDIT_FIELDS], *p, *end;
	const char *why = NULL, *stamp;
	size_t i, nf = 0, vo = 0, e;
	enum bev ev;
	time_t now = bclock_wall_s(NULL);
	struct buf *a;
	int r, kept = -1, allowed = 0;

	if (!burst_take(&M->aud, now, MON_AUDIT_WINDOW, MON_AUDIT_BURST))
		return ("an audit event flood");
	if (buf_get_cstring(req, &line, MON_AUDIT_MAX) != 0)
		return ("malformed");
	if ((vals = malloc(MON_AUDIT_MAX * 2 + 2)) == NULL) {
		free(line);
		return ("out of memory");
	}
	memset(k, 0, sizeof(k));
	memset(v, 0, sizeof(v));
	k[nf] = "session";
	v[nf++] = M->S.sid;
	event[0] = '\0';
	p = line;
	end = line + strlen(line);
	for (i = 0; why == NULL; i++) {
		char *val = vals + vo;

		r = auditlog_field_next(&p, end, key, sizeof(key), val,
		    MON_AUDIT_MAX * 2 + 2 - vo);
		if (r == BERR_NOTFOUND)
			break;
		if (r != 0) {
			why = "a malformed audit line";
			break;
		}
		if (i < 3) {
			if (strcmp(key, first[i]) != 0)
				why = "not an audit line";
			else if (i == 1)
				snprintf(event, sizeof(event), "%s", val);
			continue;	/* ts and pid: the monitor's */
		}
		if (strcmp(key, "session") == 0) {
			if (strcmp(val, M->S.sid) != 0)
				why = "another session";
			continue;
		}
		if (strcmp(key, "chain") == 0 || strcmp(key, "ts") == 0 ||
		    strcmp(key, "pid") == 0 || strcmp(key, "event") == 0) {
			why = "a field only the monitor writes";
			break;
		}
		if ((stamp = mon_stamp(M, key)) != NULL &&
		    strcmp(val, "-") != 0 && strcmp(val, stamp) != 0) {
			why = "a user, vendor, role or address that is not "
			    "the session's";
			break;
		}
		if (nf >= MON_AUDIT_FIELDS) {
			why = "too many fields";
			break;
		}
		vo += strlen(val) + 1;
		for (e = 0; e < nf; e++)
			if (strcmp(k[e], key) == 0)
				why = "a field twice";
		/* keys live in the line as written: copy them beside */
		k[nf] = strcpy(vals + vo, key);
		vo += strlen(key) + 1;
		v[nf++] = val;
	}
	if (why == NULL && i < 3)
		why = "not an audit line";
	/* by the schema's constant: a name the schema does not declare, or
	 * one it does not mark as the child's (BEV_BY_CHILD), never passes */
	ev = bev_lookup(event, strlen(event));
	for (e = 0; why == NULL && ev != BEV_NONE && (bev_by(ev) &
	    BEV_BY_CHILD) != 0 && e < sizeof(mon_audit_events) /
	    sizeof(mon_audit_events[0]); e++)
		if (ev == mon_audit_events[e].event &&
		    (mon_audit_events[e].phases & M->phase) != 0)
			allowed = 1;
	if (why == NULL && !allowed)
		why = "an event this phase of the session may not report";
	if (why != NULL) {
		char shown[MON_TEXT_MAX + 1];

		mon_text_clean(event, shown, sizeof(shown));
		log_warn("session %s: the child's audit event \"%s\" is "
		    "refused: %s", M->S.sid, shown, why);
		audit_ev(BEV_MONITOR_AUDIT_REFUSED, "session", M->S.sid,
		    "user", mon_stamp(M, "user"), "from", M->S.peerstr,
		    "event_name", shown, "reason", why, NULL);
		free(line);
		free(vals);
		return (why);
	}
	/* stamped: the monitor's time, pid and session, the child's fields */
	kept = audit_event(event, k[0], v[0], k[1], v[1], k[2], v[2], k[3],
	    v[3], k[4], v[4], k[5], v[5], k[6], v[6], k[7], v[7], k[8], v[8],
	    k[9], v[9], k[10], v[10], k[11], v[11], k[12], v[12], k[13], v[13],
	    k[14], v[14], k[15], v[15], k[16], v[16], k[17], v[17], k[18],
	    v[18], k[19], v[19], k[20], v[20], k[21], v[21], k[22], v[22],
	    k[23], v[23], NULL);
	/* a file that moved waits for the engineer's declaration */
	if (kept == 0 && ev == BEV_FILE_TRANSFER)
		mon_decl_file(M, k, v, nf);
	free(line);
	free(vals);
	if ((a = mon_body()) != NULL && buf_put_u32(a, kept == 0 ? 0 : 1) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}
