/*
 * cmd-approve.c - "approve ID DURATION [--json]": approve a pending
 * request for DURATION (90m, 2h; capped at the rule's max_grant). With a
 * second_approver rule the first approval is recorded and a second,
 * different admin (verb_identity()) must approve too; the grant lasts the
 * shortest duration they gave. Audit: approval.approve.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "approvals.h"
#include "buf.h"
#include "err.h"
#include "log.h"

/* The words and the request, checked: what exec and describe share. */
static int
approve_check(struct verb_ctx *c, const struct verb_args *a, int64_t *id,
    unsigned *dur, struct state_request *r, const struct policy_device **d,
    int *needed, unsigned *max)
{
	if (a->n != 2) {
		fprintf(c->err, "approve: give a request id and a duration "
		    "(approve 42 2h)\n");
		return (2);
	}
	if (appr_id(c, "approve", a->pos[0], id) != 0)
		return (2);
	if (appr_parse_duration(a->pos[1], dur) != 0) {
		fprintf(c->err, "approve: \"%s\" is not a duration (use 90m, "
		    "2h, 1h30m, 1d)\n", a->pos[1]);
		return (2);
	}
	if (appr_pending(c, "approve", *id, r, d) != 0)
		return (1);
	appr_rule(c->pol, *d, needed, max);
	return (0);
}

int
cmd_approve_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	const struct policy_device *d = NULL;
	struct state_request r;
	unsigned dur, max;
	int64_t id;
	int needed, rc;

	if ((rc = approve_check(c, a, &id, &dur, &r, &d, &needed, &max)) != 0)
		return (rc);
	return (appr_canon_request(canon, summary, "approve", &r,
	    dur > max ? max : dur, "") != 0 ? 1 : 0);
}

static int
cmd_approve_exec(struct verb_ctx *c, const struct verb_args *a)
{
	const struct policy_device *d = NULL;
	struct state_request r;
	struct state_grant g;
	char dstr[32], mstr[32], idstr[32], gstr[32], cnt[16], until[40];
	unsigned dur, max;
	int64_t id, gid = 0;
	int needed, found = 0, rc;

	if ((rc = approve_check(c, a, &id, &dur, &r, &d, &needed, &max)) != 0)
		return (rc);
	if (needed > 1 && !c->admin_is_policy) {
		fprintf(c->err, "approve: request %lld needs two admins (four "
		    "eyes), and your Unix login (%s) is the unix_user "
		    "of no active admin in the policy, so you cannot be "
		    "one of them: add \"unix_user: "
		    "%s\" to your admin entry in %s (bastiond reload), or "
		    "approve over ssh (ssh -A ADMIN@bastion approve %lld "
		    "%s)\n", (long long)id, c->admin, c->admin,
		    c->pol->path != NULL ? c->pol->path : "the policy",
		    (long long)id, a->pos[1]);
		return (1);
	}
	if (dur > max) {
		appr_duration_str(max, mstr, sizeof(mstr));
		fprintf(c->err, "approve: %s is longer than the longest grant "
		    "for %s (%s): granting %s\n", a->pos[1], d->name, mstr,
		    mstr);
		dur = max;
	}
	rc = state_request_approve(c->st, id, c->admin, dur, needed, &gid);
	if (rc == BERR_DENIED) {
		fprintf(c->err, "approve: you (%s) have approved request %lld "
		    "already; four eyes: a second, different admin must "
		    "approve it\n", c->admin, (long long)id);
		return (1);
	}
	if (rc == BERR_EXISTS || rc == BERR_NOTFOUND) {
		fprintf(c->err, "approve: request %lld was decided meanwhile "
		    "(see \"requests --all\")\n", (long long)id);
		return (1);
	}
	if (rc != 0) {
		fprintf(c->err, "approve: the state store failed\n");
		return (1);
	}
	appr_duration_str(dur, dstr, sizeof(dstr));
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(gstr, sizeof(gstr), "%lld", (long long)gid);
	snprintf(cnt, sizeof(cnt), "%d/%d", gid != 0 ? needed :
	    r.napprovals + 1, needed);
	audit_ev(BEV_APPROVAL_APPROVE, "request", idstr, "admin", c->admin,
	    "via", c->via, "engineer", r.engineer, "vendor", r.vendor,
	    "device", r.device, "duration", dstr, "approvals", cnt,
	    "grant", gid != 0 ? gstr : NULL, "result", gid != 0 ? "granted" :
	    "needs_second", VERB_ASSERTION(c), NULL);
	g.until = 0;
	if (gid != 0)
		(void)state_grant_get(c->st, gid, &g, &found);
	appr_time(found ? g.until : 0, until, sizeof(until));
	if (a->json) {
		fprintf(c->out, "{\"request\":%lld,\"status\":\"%s\","
		    "\"approvals\":%d,\"needed\":%d,\"duration\":%u,"
		    "\"grant\":%lld,\"until\":%lld}\n", (long long)id,
		    gid != 0 ? STATE_REQ_APPROVED : STATE_REQ_PENDING,
		    gid != 0 ? needed : r.napprovals + 1, needed, dur,
		    (long long)gid, (long long)(found ? g.until : 0));
	} else if (gid != 0) {
		char eng[40], dev[40];

		appr_cell(r.engineer, eng, sizeof(eng));
		appr_cell(r.device, dev, sizeof(dev));
		fprintf(c->out, "request %lld approved: grant %lld lets %s "
		    "reach %s for %s (until %s)\n", (long long)id,
		    (long long)gid, eng, dev, dstr, until);
	}
	else
		fprintf(c->out, "request %lld: your approval is recorded "
		    "(%s); four eyes: a second, different admin must approve "
		    "it too\n", (long long)id, cnt);
	return (0);
}

const struct cmd_entry cmd_approve_entry = {
	"approve", NULL,
	"ID DURATION [--json]",
	"approve a request for DURATION (90m, 2h; capped at max_grant)",
	"(DURATION: 90m, 2h, 1d)",
	VO_JSON | VO_ALL,
	VERB_ADMIN | VERB_STORE,
	cmd_approve_exec,
	NULL
};
