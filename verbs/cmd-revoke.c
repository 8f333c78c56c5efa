/*
 * cmd-revoke.c - "revoke ID [--json]": revoke a grant. New connections
 * need a new approval, and the session monitor ends the sessions running
 * under it within seconds. Audit: grant.revoke.
 */
#include <stdio.h>

#include "approvals.h"
#include "buf.h"
#include "err.h"
#include "log.h"

/* The words: one grant id. */
static int
revoke_check(struct verb_ctx *c, const struct verb_args *a, int64_t *id)
{
	if (a->n != 1) {
		fprintf(c->err, "revoke: give one grant id (see \"grants\")\n");
		return (2);
	}
	return (appr_id(c, "revoke", a->pos[0], id) != 0 ? 2 : 0);
}

int
cmd_revoke_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	struct state_grant g;
	char id[32], req[32], made[32], until[32];
	int64_t gid;
	int rc, found = 0;

	if ((rc = revoke_check(c, a, &gid)) != 0)
		return (rc);
	if (state_grant_get(c->st, gid, &g, &found) != 0 || !found ||
	    g.revoked) {
		fprintf(c->err, "revoke: %s grant %lld\n", found ?
		    "already revoked:" : "there is no", (long long)gid);
		return (1);
	}
	snprintf(id, sizeof(id), "%lld", (long long)g.id);
	snprintf(req, sizeof(req), "%lld", (long long)g.request_id);
	snprintf(made, sizeof(made), "%lld", (long long)g.created);
	snprintf(until, sizeof(until), "%lld", (long long)g.until);
	return (appr_canon_kv(canon, summary, (const char *const []){
	    "verb", "revoke", "grant", id, "request", req, "engineer",
	    g.engineer, "device", g.device, "created", made, "until", until,
	    NULL }) != 0 ? 1 : 0);
}

static int
cmd_revoke_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct state_grant g;
	char idstr[32];
	int64_t id;
	int rc, found = 0;

	if ((rc = revoke_check(c, a, &id)) != 0)
		return (rc);
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
	    c->via, "engineer", g.engineer, "device", g.device,
	    VERB_ASSERTION(c), NULL);
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
