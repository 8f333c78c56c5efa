/*
 * cmd-requests.c - "requests [--all] [--json] [--wide]": the pending
 * access requests, newest first (--all: the last 200 of every status),
 * as a table or a JSON array.
 */
#include <stdio.h>
#include <string.h>

#include "approvals.h"
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

	if (appr_list_json(l)) {
		appr_request_json(l->c->out, r);
		return (0);
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	appr_tcell(r->created, when, sizeof(when));
	snprintf(why, sizeof(why), "%s%s%s", r->reason,
	    r->deny_reason[0] != '\0' ? " / denied: " : "", r->deny_reason);
	return (appr_list_row(l, (const char *[]){ id, r->status,
	    r->engineer, r->vendor, r->device, when, r->approvers, why }));
}

/* newest first: the store gives them by id, descending */
static int
appr_request_walk(struct appr_list *l, const struct verb_args *a)
{
	return (state_request_each(l->c->st, a->all ? NULL :
	    STATE_REQ_PENDING, a->all ? 200 : 0, appr_request_line, l));
}

static const struct appr_listing appr_request_listing = {
	appr_request_cols,
	sizeof(appr_request_cols) / sizeof(appr_request_cols[0]),
	appr_request_walk,
	"the state store failed (see the bastion's log)",
	"no pending requests", "no requests"
};

const struct cmd_entry cmd_requests_entry = {
	"requests", NULL,
	"[--all] [--json] [--wide]",
	"list pending access requests (--all: every one)",
	NULL,
	VO_JSON | VO_ALL | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	appr_list_exec,
	&appr_request_listing
};
