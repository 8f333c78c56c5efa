/*
 * cmd-grants.c - "grants [--all] [--json] [--wide]": the live grants,
 * newest first (--all: revoked and ended ones too).
 */
#include <stdio.h>
#include <time.h>

#include "approvals.h"
#include "table.h"

static const struct table_col appr_grant_cols[] = {
	{ "ID", TABLE_KEEP }, { "REQUEST", TABLE_KEEP }, { "ENGINEER", 0 },
	{ "DEVICE", 0 }, { "UNTIL (UTC)", TABLE_KEEP }, { "STATE", TABLE_FREE },
};

static int
appr_grant_line(const struct state_grant *g, void *arg)
{
	struct appr_list *l = arg;
	char id[24], req[24], until[32], state[120];

	if (appr_list_json(l)) {
		appr_grant_json(l->c->out, g);
		return (0);
	}
	snprintf(id, sizeof(id), "%lld", (long long)g->id);
	snprintf(req, sizeof(req), "%lld", (long long)g->request_id);
	appr_tcell(g->until, until, sizeof(until));
	snprintf(state, sizeof(state), "%s%s", g->revoked ? "revoked by " :
	    g->until <= l->now ? "ended" : "live",
	    g->revoked ? g->revoked_by : "");
	return (appr_list_row(l, (const char *[]){ id, req, g->engineer,
	    g->device, until, state }));
}

/* newest first: the store gives them by id, descending */
static int
appr_grant_walk(struct appr_list *l, const struct verb_args *a)
{
	return (state_grant_each(l->c->st, a->all, l->now, appr_grant_line,
	    l));
}

static const struct appr_listing appr_grant_listing = {
	appr_grant_cols,
	sizeof(appr_grant_cols) / sizeof(appr_grant_cols[0]),
	appr_grant_walk, "the state store failed",
	"no live grants", "no grants"
};

const struct cmd_entry cmd_grants_entry = {
	"grants", NULL,
	"[--all] [--json] [--wide]",
	"list live grants (--all: every one)",
	NULL,
	VO_JSON | VO_ALL | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	appr_list_exec,
	&appr_grant_listing
};
