/*
 * cmd-grants.c - "grants [--all] [--json] [--wide]": the live grants,
 * newest first (--all: revoked and ended ones too).
 */
#include <stdio.h>
#include <time.h>

#include "approvals.h"
#include "err.h"
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
	time_t now = time(NULL);

	if (l->json) {
		fputs(l->n ? ",\n " : "", l->c->out);
		appr_grant_json(l->c->out, g);
	} else {
		snprintf(id, sizeof(id), "%lld", (long long)g->id);
		snprintf(req, sizeof(req), "%lld", (long long)g->request_id);
		appr_tcell(g->until, until, sizeof(until));
		snprintf(state, sizeof(state), "%s%s", g->revoked ?
		    "revoked by " : g->until <= now ? "ended" : "live",
		    g->revoked ? g->revoked_by : "");
		if (table_add(l->t, (const char *[]){ id, req, g->engineer,
		    g->device, until, state }) != 0)
			return (BERR_NOMEM);
	}
	l->n++;
	return (0);
}

static int
cmd_grants_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct appr_list l = { c, a->json, 0, NULL };

	if (a->n != 0) {
		fprintf(c->err, "grants: takes no arguments\n");
		return (2);
	}
	if (appr_list_start(&l, a, "grants", appr_grant_cols,
	    sizeof(appr_grant_cols) / sizeof(appr_grant_cols[0])) != 0)
		return (1);
	/* newest first: the store gives them by id, descending */
	if (state_grant_each(c->st, a->all, time(NULL), appr_grant_line,
	    &l) != 0) {
		fprintf(c->err, "grants: the state store failed\n");
		table_free(l.t);
		return (1);
	}
	return (appr_list_end(&l, a, a->all ? "no grants" : "no live grants"));
}

const struct cmd_entry cmd_grants_entry = {
	"grants", NULL,
	"[--all] [--json] [--wide]",
	"list live grants (--all: every one)",
	NULL,
	VO_JSON | VO_ALL | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	cmd_grants_exec
};
