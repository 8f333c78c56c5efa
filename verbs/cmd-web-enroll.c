/*
 * cmd-web-enroll.c - "web-enroll [PERSON] [--json]": a one-time code with
 * which an admin or auditor enrols a security key for the web console.
 *
 * The web console's credential is a second WebAuthn credential of the
 * person's key (rpId = the console's host, not ssh's "ssh:"), so it must
 * be enrolled on its own. The code is what vouches for it: whoever asks
 * for it has just signed in over ssh (key, touch and PAM) or is a local
 * admin on the bastion host (bastionctl web-enroll PERSON, for auditors
 * who never use ssh). The code is 10 characters of base32 (50 bits), good
 * for 10 minutes and once; the store keeps only its SHA-256 with the
 * person and who asked (web_challenge, kind "code"). The person then
 * opens ORIGIN/#/enroll, types name, code and PAM secret, and touches the
 * key (enroll-begin / enroll-finish on web.sock, control_web_auth.c).
 * Over ssh only the caller's own code is made. Audit: web.enroll
 * result=code.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "approvals.h"
#include "hex.h"
#include "log.h"

#define WEB_ENROLL_CODE_LEN	10
#define WEB_ENROLL_CODE_S	600

static int
cmd_web_enroll_exec(struct verb_ctx *c, const struct verb_args *a)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	struct state_web_challenge row;
	const struct policy_person *p;
	enum policy_role role = ROLE_NONE;
	uint8_t rnd[WEB_ENROLL_CODE_LEN], h[SHA256_DIGEST_LENGTH];
	char code[WEB_ENROLL_CODE_LEN + 1];
	const char *person;
	size_t i;

	if (c->pol == NULL || !c->pol->web.set) {
		fprintf(c->err, "web-enroll: this bastion has no web console "
		    "(no web: section in the policy)\n");
		return (1);
	}
	if (a->n > 1) {
		fprintf(c->err, "web-enroll: at most one name\n");
		return (2);
	}
	person = a->n == 1 ? a->pos[0] : c->admin;
	/* over ssh, only for oneself: the ssh login is what vouches */
	if (strcmp(c->via, "bastionctl") != 0 && strcmp(person,
	    c->admin) != 0) {
		fprintf(c->err, "web-enroll: over ssh you enrol only yourself "
		    "(%s); a local admin enrols others with bastionctl "
		    "web-enroll NAME\n", c->admin);
		return (1);
	}
	if ((p = policy_person(c->pol, person, &role)) == NULL ||
	    (role != ROLE_ADMIN && role != ROLE_AUDITOR) || !p->enabled ||
	    !policy_person_active(p, time(NULL))) {
		fprintf(c->err, "web-enroll: \"%s\" is no active admin or "
		    "auditor of the policy (engineers do not use the web "
		    "console)\n", person);
		return (1);
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		fprintf(c->err, "web-enroll: no random bytes\n");
		return (1);
	}
	for (i = 0; i < sizeof(rnd); i++)
		code[i] = alphabet[rnd[i] & 31];
	code[sizeof(rnd)] = '\0';
	memset(&row, 0, sizeof(row));
	SHA256((const uint8_t *)code, strlen(code), h);
	hex_encode(h, sizeof(h), row.hash);
	snprintf(row.person, sizeof(row.person), "%s", person);
	snprintf(row.kind, sizeof(row.kind), "code");
	snprintf(row.data, sizeof(row.data), "%s:%s%s%s", c->via, c->admin,
	    c->session != NULL ? " session " : "", c->session != NULL ?
	    c->session : "");
	row.not_after = time(NULL) + WEB_ENROLL_CODE_S;
	if (state_web_challenge_put(c->st, &row) != 0) {
		fprintf(c->err, "web-enroll: the state store failed\n");
		return (1);
	}
	audit_ev(BEV_WEB_ENROLL, "person", person, "result", "code", "by",
	    c->admin, "via", c->via, NULL);
	if (a->json)
		fprintf(c->out, "{\"person\":\"%s\",\"code\":\"%s\","
		    "\"expires\":%lld,\"url\":\"%s/#/enroll\"}\n", person, code,
		    (long long)row.not_after, c->pol->web.origin);
	else
		fprintf(c->out, "web enrolment code for %s: %s (once, within "
		    "10 minutes)\nopen %s/#/enroll, give your name, this code "
		    "and your secret, then touch your key\n", person, code,
		    c->pol->web.origin);
	explicit_bzero(code, sizeof(code));
	return (0);
}

const struct cmd_entry cmd_web_enroll_entry = {
	"web-enroll", NULL,
	"[PERSON] [--json]",
	"a one-time code to enrol a security key for the web console",
	NULL,
	VO_JSON,
	VERB_ADMIN | VERB_AUDITOR | VERB_STORE,
	cmd_web_enroll_exec,
	NULL
};
