/*
 * cmd-requests.c - "requests [--all] [--json] [--wide]": the pending
 * access requests, newest first (--all: the last 200 of every status),
 * as a table or a JSON array.
 */
#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "err.h"
#include "table.h"

static const struct table_col appr_request_cols[] = {
	{ "ID", TABLE_KEEP }, { "STATUS", TABLE_KEEP }, { "ENGINEER", 0 },
	{ "VENDOR", 0 }, { "DEVICE", 0 }, { "CREATED (UTC)", TABLE_KEEP },
	{ "APPROVED BY", 0 }, { "REASON", TABLE_FREE },
};

static int
appr_request_line(const struct state_request *r, void *arg)
{
	struct appr_list *l = arg;
	char id[24], when[32], why[600];

	if (l->json) {
		fputs(l->n ? ",\n " : "", l->c->out);
		appr_request_json(l->c->out, r);
	} else {
		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		appr_tcell(r->created, when, sizeof(when));
		snprintf(why, sizeof(why), "%s%s%s", r->reason,
		    r->deny_reason[0] != '\0' ? " / denied: " : "",
		    r->deny_reason);
		if (table_add(l->t, (const char *[]){ id, r->status,
		    r->engineer, r->vendor, r->device, when, r->approvers,
		    why }) != 0)
			return (BERR_NOMEM);
	}
	l->n++;
	return (0);
}
static int
cmd_requests_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct appr_list l = { c, a->json, 0, NULL };

	if (a->n != 0) {
		fprintf(c->err, "requests: takes no arguments\n");
		return (2);
	}
	if (appr_list_start(&l, a, "requests", appr_request_cols,
	    sizeof(appr_request_cols) / sizeof(appr_request_cols[0])) != 0)
		return (1);
	/* newest first: the store gives them by id, descending */
	if (state_request_each(c->st, a->all ? NULL : STATE_REQ_PENDING,
	    a->all ? 200 : 0, appr_request_line, &l) != 0) {
		fprintf(c->err, "requests: the state store failed (see the "
		    "bastion's log)\n");
		table_free(l.t);
		return (1);
	}
	return (appr_list_end(&l, a, a->all ? "no requests" :
	    "no pending requests"));
}

const struct cmd_entry cmd_requests_entry = {
	"requests", NULL,
	"[--all] [--json] [--wide]",
	"list pending access requests (--all: every one)",
	NULL,
	VO_JSON | VO_ALL | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	cmd_requests_exec
};
