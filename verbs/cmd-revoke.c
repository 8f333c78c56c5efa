/*
 * cmd-revoke.c - "revoke ID [--json]": revoke a grant. New connections
 * need a new approval, and the session monitor ends the sessions running
 * under it within seconds. Audit: grant.revoke.
 */
#include <stdio.h>

#include "approvals.h"
#include "err.h"
#include "log.h"

static int
cmd_revoke_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct state_grant g;
	char idstr[32];
	int64_t id;
	int rc, found = 0;

	if (a->n != 1) {
		fprintf(c->err, "revoke: give one grant id (see \"grants\")\n");
		return (2);
	}
	if (appr_id(c, "revoke", a->pos[0], &id) != 0)
		return (2);
	rc = state_grant_revoke(c->st, id, c->admin);
	if (rc == BERR_NOTFOUND || rc == BERR_EXISTS) {
		fprintf(c->err, "revoke: %s grant %lld\n", rc == BERR_EXISTS ?
		    "already revoked:" : "there is no", (long long)id);
		return (1);
	}
	if (rc != 0 || state_grant_get(c->st, id, &g, &found) != 0 || !found) {
		fprintf(c->err, "revoke: the state store failed\n");
		return (1);
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	audit_ev(BEV_GRANT_REVOKE, "grant", idstr, "admin", c->admin, "via",
	    c->via, "engineer", g.engineer, "device", g.device, NULL);
	if (a->json) {
		appr_grant_json(c->out, &g);
		fputc('\n', c->out);
	} else
		fprintf(c->out, "grant %lld revoked: %s may not reach %s "
		    "without a new approval; sessions running under it end\n",
		    (long long)id, g.engineer, g.device);
	return (0);
}

const struct cmd_entry cmd_revoke_entry = {
	"revoke", NULL,
	"ID [--json]",
	"revoke a grant: no new sessions, running ones end",
	NULL,
	VO_JSON | VO_ALL,
	VERB_ADMIN | VERB_STORE,
	cmd_revoke_exec,
	NULL
};
