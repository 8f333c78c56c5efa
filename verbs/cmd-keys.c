/*
 * cmd-keys.c - "bastionctl keys [ENGINEER]" (local): every engineer's
 * keys as the policy lists them, with what the state store knows about
 * each: the last signature counter, a lock and why, the enrolment
 * (attested or not, the authenticator's AAGUID and certificate subject).
 * Enrolments of keys not yet in the policy are listed as pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"
#include "sk.h"
#include "text.h"
#include "verb.h"

static int
keys_show_enrolment(FILE *out, const struct state_enrollment *e,
    const char *indent)
{
	char when[32], aaguid[80], subject[300], issuer[300];

	local_time(e->enrolled, when, sizeof(when));
	/* the certificate's names are the key maker's (or whoever made the
	 * attestation): cleaned for the terminal (text.h) */
	text_clean(aaguid, sizeof(aaguid), e->aaguid);
	text_clean(subject, sizeof(subject), e->subject);
	text_clean(issuer, sizeof(issuer), e->issuer);
	if (e->attested)
		fprintf(out, "%senrolled %s, attested: aaguid %s, subject "
		    "\"%s\", issuer \"%s\"\n", indent, when, aaguid, subject,
		    issuer);
	else
		fprintf(out, "%senrolled %s, not attested\n", indent, when);
	return (0);
}

static int
keys_show_key(FILE *out, struct state *st, const struct policy_key *k)
{
	struct state_enrollment e;
	struct state_lock lk;
	char fp[SK_FP_LEN], when[32];
	uint32_t counter;
	int have_counter, locked, enrolled;

	if (sk_fingerprint_base64(k->base64, fp, sizeof(fp)) != 0)
		snprintf(fp, sizeof(fp), "(unreadable key)");
	fprintf(out, "  %s %s%s%s\n", fp, k->type, k->verify_required ?
	    " verify-required" : "", k->no_touch_required ?
	    " no-touch-required" : "");
	if (state_counter_get(st, fp, &counter, &have_counter) != 0 ||
	    state_key_locked(st, fp, &locked, &lk) != 0 ||
	    state_enroll_get(st, fp, &e, &enrolled) != 0)
		return (-1);
	if (have_counter)
		fprintf(out, "    counter %lu\n", (unsigned long)counter);
	else
		fprintf(out, "    counter: no touch checked yet\n");
	if (locked) {
		local_time(lk.since, when, sizeof(when));
		fprintf(out, "    LOCKED since %s: %s (bastionctl unlock "
		    "%s)\n", when, lk.reason, lk.engineer);
	}
	if (enrolled)
		keys_show_enrolment(out, &e, "    ");
	else
		fprintf(out, "    not enrolled with bastionctl enroll\n");
	free(e.key_line);
	return (0);
}

static int
keys_show_person(FILE *out, struct state *st,
    const struct policy_person *p)
{
	size_t i;

	fprintf(out, "%s (vendor %s)%s\n", p->name, p->vendor->name,
	    p->enabled ? "" : " disabled");
	for (i = 0; i < p->nkeys; i++)
		if (keys_show_key(out, st, &p->keys[i]) != 0)
			return (-1);
	return (0);
}

struct keys_pending {
	struct verb_ctx *c;
	int header;
};

static int
keys_pending_one(const struct state_enrollment *e, void *arg)
{
	struct keys_pending *kp = arg;
	FILE *out = kp->c->out;

	if (local_key_owner(kp->c->pol, e->fp, NULL) != NULL)
		return (0);
	if (!kp->header) {
		fprintf(out, "pending (enrolled, not in the policy yet)\n");
		kp->header = 1;
	}
	fprintf(out, "  %s %s for %s\n", e->fp, e->key_type, e->engineer);
	keys_show_enrolment(out, e, "    ");
	fprintf(out, "    policy line: %s\n", e->key_line);
	return (0);
}

static int
cmd_keys_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct keys_pending kp = { c, 0 };
	const struct policy_person *who = NULL;
	struct state *st;
	size_t v, i;
	int argc = a->argc;
	char **argv = a->argv;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		verb_usage(c->err, "bastionctl [-f POLICY]", &cmd_keys_entry);
		return (2);
	}
	if (argc == 2 && (who = local_engineer(c, argv[1])) == NULL)
		return (1);
	if ((st = local_state(c->pol, &c->st, c->err)) == NULL)
		return (1);
	for (v = 0; v < c->pol->nvendors; v++)
		for (i = 0; i < c->pol->vendors[v].nengineers; i++) {
			const struct policy_person *p =
			    &c->pol->vendors[v].engineers[i];

			if ((who == NULL || who == p) &&
			    keys_show_person(c->out, st, p) != 0)
				return (1);
		}
	if (state_enroll_each(st, who != NULL ? who->name : NULL,
	    keys_pending_one, &kp) != 0)
		return (1);
	return (0);
}

const struct cmd_entry cmd_keys_entry = {
	"keys", NULL,
	"[ENGINEER]",
	"list engineers' keys: counter, lock, enrolment (AAGUID, "
	"certificate subject)",
	NULL,
	0,
	VERB_LOCAL | VERB_OWN_ARGS,
	cmd_keys_exec,
	NULL
};
