/*
 * cmd-deny.c - "deny ID REASON... [--json]": deny a pending request; the
 * rest of the line is the reason the waiting engineer sees (clean text,
 * at most 200 bytes). Audit: approval.deny.
 */
#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "buf.h"
#include "log.h"
#include "text.h"

/* The words and the request, checked: what exec and describe share. */
static int
deny_check(struct verb_ctx *c, const struct verb_args *a, int64_t *id,
    char *why, size_t whylen, struct state_request *r)
{
	const struct policy_device *d = NULL;

	if (a->n < 2) {
		fprintf(c->err, "deny: give a request id and a reason the "
		    "engineer will see (deny 42 \"no ticket\")\n");
		return (2);
	}
	if (appr_id(c, "deny", a->pos[0], id) != 0)
		return (2);
	appr_join(a, 1, "", why, whylen);
	if (!appr_reason_ok(c, "deny", why))
		return (2);
	if (appr_pending(c, "deny", *id, r, &d) != 0)
		return (1);
	return (0);
}

int
cmd_deny_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	struct state_request r;
	char why[256];
	int64_t id;
	int rc;

	if ((rc = deny_check(c, a, &id, why, sizeof(why), &r)) != 0)
		return (rc);
	return (appr_canon_request(canon, summary, "deny", &r, 0, why) != 0 ?
	    1 : 0);
}

static int
cmd_deny_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct state_request r;
	char why[256], idstr[32];
	int64_t id;
	int rc;

	if ((rc = deny_check(c, a, &id, why, sizeof(why), &r)) != 0)
		return (rc);
	if (state_request_finish(c->st, id, STATE_REQ_DENIED, c->admin,
	    why) != 0) {
		fprintf(c->err, "deny: request %lld was decided meanwhile "
		    "(see \"requests --all\")\n", (long long)id);
		return (1);
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	audit_ev(BEV_APPROVAL_DENY, "request", idstr, "admin", c->admin,
	    "via", c->via, "engineer", r.engineer, "vendor", r.vendor,
	    "device", r.device, "reason", why, VERB_ASSERTION(c),
	    NULL);
	if (a->json) {
		fprintf(c->out, "{\"request\":%lld,\"status\":\"denied\","
		    "\"reason\":", (long long)id);
		text_json(c->out, why);
		fputs("}\n", c->out);
	} else {
		char eng[40], shown[256];

		appr_cell(r.engineer, eng, sizeof(eng));
		text_clean(shown, sizeof(shown), why);
		fprintf(c->out, "request %lld denied; %s is told: %s\n",
		    (long long)id, eng, shown);
	}
	return (0);
}

const struct cmd_entry cmd_deny_entry = {
	"deny", NULL,
	"ID REASON... [--json]",
	"deny a request; the waiting engineer sees the reason",
	NULL,
	VO_JSON | VO_ALL,
	VERB_ADMIN | VERB_STORE,
	cmd_deny_exec,
	NULL
};
