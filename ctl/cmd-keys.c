/*
 * cmd-keys.c - "bastionctl keys [ENGINEER]": every engineer's keys as the
 * policy lists them, with what the state store knows about each: the last
 * signature counter, a lock and why, the enrolment (attested or not, the
 * authenticator's AAGUID and certificate subject). Enrolments of keys not
 * yet in the policy are listed as pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sk.h"
#include "text.h"

static int
keys_show_enrolment(const struct state_enrollment *e, const char *indent)
{
	char when[32], aaguid[80], subject[300], issuer[300];

	ctl_time(e->enrolled, when, sizeof(when));
	/* the certificate's names are the key maker's (or whoever made the
	 * attestation): cleaned for the terminal (text.h) */
	text_clean(aaguid, sizeof(aaguid), e->aaguid);
	text_clean(subject, sizeof(subject), e->subject);
	text_clean(issuer, sizeof(issuer), e->issuer);
	if (e->attested)
		printf("%senrolled %s, attested: aaguid %s, subject \"%s\", "
		    "issuer \"%s\"\n", indent, when, aaguid, subject, issuer);
	else
		printf("%senrolled %s, not attested\n", indent, when);
	return (0);
}

static int
keys_show_key(struct state *st, const struct policy_key *k)
{
	struct state_enrollment e;
	struct state_lock lk;
	char fp[SK_FP_LEN], when[32];
	uint32_t counter;
	int have_counter, locked, enrolled;

	if (sk_fingerprint_base64(k->base64, fp, sizeof(fp)) != 0)
		snprintf(fp, sizeof(fp), "(unreadable key)");
	printf("  %s %s%s%s\n", fp, k->type, k->verify_required ?
	    " verify-required" : "", k->no_touch_required ?
	    " no-touch-required" : "");
	if (state_counter_get(st, fp, &counter, &have_counter) != 0 ||
	    state_key_locked(st, fp, &locked, &lk) != 0 ||
	    state_enroll_get(st, fp, &e, &enrolled) != 0)
		return (-1);
	if (have_counter)
		printf("    counter %lu\n", (unsigned long)counter);
	else
		printf("    counter: no touch checked yet\n");
	if (locked) {
		ctl_time(lk.since, when, sizeof(when));
		printf("    LOCKED since %s: %s (bastionctl unlock %s)\n", when,
		    lk.reason, lk.engineer);
	}
	if (enrolled)
		keys_show_enrolment(&e, "    ");
	else
		printf("    not enrolled with bastionctl enroll\n");
	free(e.key_line);
	return (0);
}

static int
keys_show_person(struct state *st, const struct policy_person *p)
{
	size_t i;

	printf("%s (vendor %s)%s\n", p->name, p->vendor->name, p->enabled ?
	    "" : " disabled");
	for (i = 0; i < p->nkeys; i++)
		if (keys_show_key(st, &p->keys[i]) != 0)
			return (-1);
	return (0);
}

struct keys_pending {
	struct ctl *c;
	int header;
};

static int
keys_pending_one(const struct state_enrollment *e, void *arg)
{
	struct keys_pending *kp = arg;

	if (ctl_key_owner(kp->c, e->fp, NULL) != NULL)
		return (0);
	if (!kp->header) {
		printf("pending (enrolled, not in the policy yet)\n");
		kp->header = 1;
	}
	printf("  %s %s for %s\n", e->fp, e->key_type, e->engineer);
	keys_show_enrolment(e, "    ");
	printf("    policy line: %s\n", e->key_line);
	return (0);
}

static int
cmd_keys_exec(struct ctl *c, int argc, char **argv)
{
	struct keys_pending kp = { c, 0 };
	const struct policy_person *who = NULL;
	struct state *st;
	size_t v, i;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		ctl_usage(&ctl_cmd_keys, stderr);
		return (CTL_EXIT_USAGE);
	}
	if (argc == 2 && (who = ctl_engineer(c, argv[1])) == NULL)
		return (CTL_EXIT_FAIL);
	if ((st = ctl_state(c)) == NULL)
		return (CTL_EXIT_FAIL);
	for (v = 0; v < c->pol->nvendors; v++)
		for (i = 0; i < c->pol->vendors[v].nengineers; i++) {
			const struct policy_person *p =
			    &c->pol->vendors[v].engineers[i];

			if ((who == NULL || who == p) &&
			    keys_show_person(st, p) != 0)
				return (CTL_EXIT_FAIL);
		}
	if (state_enroll_each(st, who != NULL ? who->name : NULL,
	    keys_pending_one, &kp) != 0)
		return (CTL_EXIT_FAIL);
	return (CTL_EXIT_OK);
}

const struct ctl_cmd ctl_cmd_keys = {
	"keys",
	"[ENGINEER]",
	"list engineers' keys: counter, lock, enrolment (AAGUID, "
	"certificate subject)",
	cmd_keys_exec,
	0
};
