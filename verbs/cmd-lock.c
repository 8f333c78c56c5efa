/*
 * cmd-lock.c - "lock ENGINEER [REASON...]" and
 * "unlock ENGINEER [--account | --keys [--reset-counter]]".
 *
 * An engineer can be locked two ways, and unlock tells them apart:
 *  - an admin's account lock (`lock`): new logins are refused and the
 *    engineer's live sessions end; `unlock --account` lifts only that;
 *  - key locks the touch check sets when a security key's signature
 *    counter goes backwards (a possible clone, bastion/touch.c);
 *    `unlock --keys` lifts only those, `--reset-counter` also forgets the
 *    counter so a key that really restarted sets a new baseline.
 * Without --account or --keys, unlock lifts both and lists each lock it
 * lifted ("unlocked: erin SHA256:..." for a key). The two share a file
 * because they are one pair. Audit: engineer.lock, engineer.unlock,
 * key.unlock.
 */
#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "text.h"

/* The words: an engineer of the policy and a reason. */
static int
lock_check(struct verb_ctx *c, const struct verb_args *a, char *why,
    size_t whylen)
{
	enum policy_role role = ROLE_NONE;

	if (a->n < 1) {
		fprintf(c->err, "lock: name the engineer (lock alice "
		    "\"left the company\")\n");
		return (2);
	}
	appr_join(a, 1, "no reason given", why, whylen);
	if (!appr_reason_ok(c, "lock", why))
		return (2);
	if (policy_person(c->pol, a->pos[0], &role) == NULL ||
	    role != ROLE_ENGINEER) {
		fprintf(c->err, "lock: \"%s\" is not a vendor engineer in the "
		    "policy%s\n", a->pos[0], role != ROLE_NONE ? " (admins and "
		    "auditors are disabled in the policy instead)" : "");
		return (1);
	}
	return (0);
}

int
cmd_lock_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	char why[APPR_TEXT_MAX * 2];
	int rc, locked = 0;

	if ((rc = lock_check(c, a, why, sizeof(why))) != 0)
		return (rc);
	if (state_engineer_locked(c->st, a->pos[0], &locked, NULL) != 0 ||
	    locked) {
		fprintf(c->err, "lock: %s is locked already\n", a->pos[0]);
		return (1);
	}
	return (appr_canon_kv(canon, summary, (const char *const []){
	    "verb", "lock", "engineer", a->pos[0], "reason", why, NULL }) !=
	    0 ? 1 : 0);
}

static int
cmd_lock_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct state_engineer_lock lk;
	char why[APPR_TEXT_MAX * 2], since[40];
	const char *name;
	size_t n = 0;
	int rc;

	if ((rc = lock_check(c, a, why, sizeof(why))) != 0)
		return (rc);
	name = a->pos[0];
	rc = state_engineer_lock(c->st, name, c->admin, why);
	if (rc == BERR_EXISTS) {
		char by[40], was[APPR_TEXT_MAX + 1];

		(void)state_engineer_locked(c->st, name, &(int){ 0 }, &lk);
		appr_time(lk.since, since, sizeof(since));
		appr_cell(lk.locked_by, by, sizeof(by));
		text_clean(was, sizeof(was), lk.reason);
		fprintf(c->err, "lock: %s is locked already (by %s since %s: "
		    "%s)\n", name, by, since, was);
		return (1);
	}
	if (rc != 0 || state_session_count(c->st, name, &n) != 0) {
		fprintf(c->err, "lock: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	snprintf(since, sizeof(since), "%zu", n);
	audit_ev(BEV_ENGINEER_LOCK, "engineer", name, "admin", c->admin,
	    "via", c->via, "reason", why, "live_sessions", since,
	    VERB_ASSERTION(c), NULL);
	if (a->json) {
		fputs("{\"engineer\":", c->out);
		text_json(c->out, name);
		fputs(",\"locked\":true,\"by\":", c->out);
		text_json(c->out, c->admin);
		fputs(",\"reason\":", c->out);
		text_json(c->out, why);
		fprintf(c->out, ",\"live_sessions\":%zu}\n", n);
	} else if (n == 0)
		fprintf(c->out, "%s is locked: new logins are refused\n", name);
	else
		fprintf(c->out, "%s is locked: new logins are refused; %zu live "
		    "session%s end%s within seconds\n", name, n, n == 1 ? "" :
		    "s", n == 1 ? "s" : "");
	return (0);
}

struct appr_unlock {
	struct verb_ctx *c;
	const char *engineer;
	int reset, failed;
	size_t n;
};

static void
appr_unlock_key(const char *fp, void *arg)
{
	struct appr_unlock *u = arg;

	if (u->c->out != NULL && !u->failed) {
		/* the line bastionctl printed before (kept for scripts) */
		fprintf(u->c->out, "unlocked: %s %s%s\n", u->engineer, fp,
		    u->reset ? " (counter forgotten)" : "");
	}
	if (u->reset && state_counter_forget(u->c->st, fp) != 0)
		u->failed = 1;
	u->n++;
	audit_ev(BEV_KEY_UNLOCK, "user", u->c->admin, "via", u->c->via,
	    "engineer", u->engineer, "key", fp, "result", "ok",
	    "reset_counter", u->reset ? "yes" : "no", NULL);
}

/* The words: one engineer, which locks (both unless one is named). */
static int
unlock_check(struct verb_ctx *c, const struct verb_args *a, int *account,
    int *keys)
{
	if (a->n != 1) {
		fprintf(c->err, "unlock: name one engineer\n");
		return (2);
	}
	*account = (a->opts & VO_ACCOUNT) != 0 || (a->opts & VO_KEYS) == 0;
	*keys = (a->opts & VO_KEYS) != 0 || (a->opts & VO_ACCOUNT) == 0;
	if ((a->opts & VO_RESET) != 0 && !*keys) {
		fprintf(c->err, "unlock: --reset-counter is about key locks; "
		    "leave out --account\n");
		return (2);
	}
	return (0);
}

int
cmd_unlock_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	struct state_engineer_lock lk;
	char since[32], nkeys[32];
	size_t n = 0;
	int account, keys, rc, locked = 0;

	if ((rc = unlock_check(c, a, &account, &keys)) != 0)
		return (rc);
	memset(&lk, 0, sizeof(lk));
	if (state_engineer_locked(c->st, a->pos[0], &locked, &lk) != 0 ||
	    state_key_lock_count(c->st, a->pos[0], &n) != 0) {
		fprintf(c->err, "unlock: the state store failed\n");
		return (1);
	}
	snprintf(since, sizeof(since), "%lld", (long long)lk.since);
	snprintf(nkeys, sizeof(nkeys), "%zu", n);
	return (appr_canon_kv(canon, summary, (const char *const []){
	    "verb", "unlock", "engineer", a->pos[0], "account",
	    account ? "yes" : "no", "keys", keys ? "yes" : "no",
	    "reset_counter", (a->opts & VO_RESET) ? "yes" : "no",
	    "locked_by", locked ? lk.locked_by : "", "lock_reason",
	    locked ? lk.reason : "", "since", since, "locked_keys", nkeys,
	    NULL }) != 0 ? 1 : 0);
}

static int
cmd_unlock_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct appr_unlock u;
	struct state_engineer_lock lk;
	enum policy_role role = ROLE_NONE;
	int account, keys, rc, had_account = 0;
	char since[40];
	FILE *saved = c->out;

	if ((rc = unlock_check(c, a, &account, &keys)) != 0)
		return (rc);
	memset(&u, 0, sizeof(u));
	u.c = c;
	u.engineer = a->pos[0];
	u.reset = (a->opts & VO_RESET) != 0;
	if (a->json) {
		fputs("{\"engineer\":", c->out);
		text_json(c->out, u.engineer);
		fputs(",\"account\":", c->out);
	}
	if (account) {
		rc = state_engineer_unlock(c->st, u.engineer, &lk);
		if (rc != 0 && rc != BERR_NOTFOUND) {
			fprintf(c->err, "unlock: the state store failed (see "
			    "the bastion's log)\n");
			return (1);
		}
		if (rc == 0) {
			had_account = 1;
			appr_time(lk.since, since, sizeof(since));
			audit_ev(BEV_ENGINEER_UNLOCK, "engineer", u.engineer,
			    "admin", c->admin, "via", c->via, "locked_by",
			    lk.locked_by, "lock_reason", lk.reason,
			    VERB_ASSERTION(c), NULL);
			if (!a->json) {
				char by[40], was[APPR_TEXT_MAX + 1];

				appr_cell(lk.locked_by, by, sizeof(by));
				text_clean(was, sizeof(was), lk.reason);
				fprintf(c->out, "unlocked: %s (account lock by "
				    "%s since %s: %s)\n", u.engineer, by, since,
				    was);
			}
		}
	}
	if (a->json) {
		if (had_account) {
			fputs("{\"by\":", c->out);
			text_json(c->out, lk.locked_by);
			fputs(",\"reason\":", c->out);
			text_json(c->out, lk.reason);
			fprintf(c->out, ",\"since\":%lld}", (long long)lk.since);
		} else
			fputs("null", c->out);
		c->out = NULL;	/* no key lines inside the JSON */
	}
	rc = keys ? state_key_unlock_engineer(c->st, u.engineer, NULL,
	    appr_unlock_key, &u) : 0;
	c->out = saved;
	if (rc != 0 || u.failed) {
		fprintf(c->err, "unlock: could not unlock the keys of %s (see "
		    "the bastion's log)\n", u.engineer);
		return (1);
	}
	if (a->json)
		fprintf(c->out, ",\"keys_unlocked\":%zu,\"reset_counter\":"
		    "%s}\n", u.n, u.reset ? "true" : "false");
	else if (!had_account && u.n == 0)
		fprintf(c->out, "%s has no %s%s%s%s\n", u.engineer,
		    keys ? "locked keys" : "", keys && account ? " and no " :
		    "", account ? "account lock" :
		    "", policy_person(c->pol, u.engineer, &role) == NULL ?
		    " (and is not in the policy)" : "");
	return (0);
}

const struct cmd_entry cmd_lock_entry = {
	"lock", NULL,
	"ENGINEER [REASON...] [--json]",
	"refuse the engineer's logins and end their live sessions",
	NULL,
	VO_JSON,
	VERB_ADMIN | VERB_STORE,
	cmd_lock_exec,
	NULL
};

const struct cmd_entry cmd_unlock_entry = {
	"unlock", NULL,
	"ENGINEER [--account | --keys [--reset-counter]] [--json]",
	"lift an engineer's locks: an admin's lock and key locks (after a "
	"counter regression)",
	NULL,
	VO_JSON | VO_KEYS | VO_ACCOUNT | VO_RESET,
	VERB_ADMIN | VERB_STORE,
	cmd_unlock_exec,
	NULL
};
