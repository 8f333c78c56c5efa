/*
 * control_web_auth.c - signing in to the web console and enrolling a key
 * for it, in the web control worker (root, one request per process).
 *
 *	login-begin USER	a fresh challenge (store, 120 s, single use) and
 *				the ids of USER's credentials; for a name that
 *				is no admin or auditor the same shape with a
 *				made-up id, so names cannot be probed
 *	login-finish USER	assert + secret: the challenge consumed, the
 *				assertion verified (proto/webauthn.c) and its
 *				counter advanced, then PAM service
 *				"bastion-web" with the secret; a token (32
 *				random bytes, the store keeps SHA-256 of it)
 *	enroll-begin USER	code: the one-time code from `web-enroll` (ssh
 *				console or bastionctl) consumed; a creation
 *				challenge
 *	enroll-finish USER	attest + secret: the registration verified,
 *				PAM, the credential stored
 *
 * Every failure answers the same "sign-in failed" (or "enrolment failed")
 * and audits the reason (web.login / web.enroll). Engineers never get a
 * token. docs/WEB.md, "Signing in".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <security/pam_appl.h>

#include "control_web.h"
#include "err.h"
#include "hex.h"
#include "log.h"

/* The answer to every refused sign-in; the reason goes to the audit. */
#define WEB_LOGIN_FAILED	"sign-in failed"
/* At most this many failed sign-ins of one person in WEB_FAIL_WINDOW_S */
#define WEB_FAIL_MAX		5
#define WEB_FAIL_WINDOW_S	(15 * 60)
#define WEB_ENROLL_FAILED	"enrolment failed"

/* ---- PAM with the secret ----------------------------------------------- */

static int
web_pam_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	const char *secret = arg;
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > 16 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return (PAM_CONV_ERR);
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if ((r[i].resp = strdup(secret)) == NULL) {
			while (i-- > 0)
				if (r[i].resp != NULL) {
					explicit_bzero(r[i].resp,
					    strlen(r[i].resp));
					free(r[i].resp);
				}
			free(r);
			return (PAM_CONV_ERR);
		}
	}
	*resp = r;
	return (PAM_SUCCESS);
}

/* PAM service "bastion-web" for person with secret: 0 or BERR_AUTH. */
static int
web_pam(struct web *w, const char *person, const char *secret,
    const char **why)
{
	struct pam_conv conv = { web_pam_conv, (void *)secret };
	pam_handle_t *ph = NULL;
	int pr;

	pr = w->pol->pam_service_dir != NULL ?
	    pam_start_confdir("bastion-web", person, &conv,
	    w->pol->pam_service_dir, &ph) :
	    pam_start("bastion-web", person, &conv, &ph);
	if (pr != PAM_SUCCESS) {
		*why = "pam_start failed";
		return (BERR_AUTH);
	}
	if (w->from[0] != '\0')
		(void)pam_set_item(ph, PAM_RHOST, w->from);
	if ((pr = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK)) ==
	    PAM_SUCCESS)
		pr = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (pr != PAM_SUCCESS)
		*why = "the PAM secret was refused";
	pam_end(ph, pr);
	return (pr == PAM_SUCCESS ? 0 : BERR_AUTH);
}

/* ---- sign-in --------------------------------------------------------- */

/* A new single-use challenge of kind for person into ch (and the store). */
static int
web_challenge_new(struct web *w, const char *person, const char *kind,
    const char *data, unsigned ttl, uint8_t ch[CTLP_CHALLENGE_LEN])
{
	struct state_web_challenge row;

	memset(&row, 0, sizeof(row));
	if (RAND_bytes(ch, CTLP_CHALLENGE_LEN) != 1)
		return (BERR_CRYPTO);
	web_sha256_hex(ch, CTLP_CHALLENGE_LEN, row.hash);
	snprintf(row.person, sizeof(row.person), "%s", person);
	snprintf(row.kind, sizeof(row.kind), "%s", kind);
	snprintf(row.data, sizeof(row.data), "%s", data);
	row.not_after = time(NULL) + (time_t)ttl;
	return (state_web_challenge_put(w->st, &row));
}

struct web_allow {
	FILE *f;
	size_t n;
};

static int
web_allow_one(const struct state_web_cred *c, void *arg)
{
	struct web_allow *a = arg;

	fprintf(a->f, "%s\"%s\"", a->n++ > 0 ? "," : "", c->cred_id);
	return (0);
}

/* The allow (or exclude) list of person's credentials as a JSON array;
 * for someone who may not sign in, and (allow) for staff without a
 * credential, one id made up from the name: the answer never tells which
 * names are staff or enrolled. */
static void
web_allow_list(struct web *w, const char *name, int staff, int allow,
    FILE *f)
{
	struct web_allow a = { f, 0 };
	uint8_t fake[SHA256_DIGEST_LENGTH], in[32 + 80];
	char id[64];
	size_t n;

	fputc('[', f);
	if (staff)
		(void)state_web_cred_each(w->st, name, web_allow_one, &a);
	if (allow && a.n == 0) {
		/* stable per name and policy, unknowable without the policy */
		n = strnlen(name, 80);
		memcpy(in, w->pol->sha256, 32);
		memcpy(in + 32, name, n);
		SHA256(in, 32 + n, fake);
		web_b64url(fake, sizeof(fake), id, sizeof(id));
		fprintf(f, "\"%s\"", id);
	}
	fputc(']', f);
}

/* A 'c' frame: the challenge and the options the page passes on. */
static int
web_answer_challenge(struct web *w, const uint8_t ch[CTLP_CHALLENGE_LEN],
    const char *name, int staff, const char *list)
{
	char *json = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((f = open_memstream(&json, &len)) == NULL)
		return (BERR_NOMEM);
	fprintf(f, "{\"rp_id\":\"%s\",\"user_verification\":\"%s\","
	    "\"timeout\":%d,", w->pol->web.rp_id,
	    w->pol->web.require_uv ? "required" : "discouraged",
	    WEB_CHALLENGE_S * 1000);
	if (strcmp(list, "exclude") == 0) {
		/* creation: the user handle, 16 bytes fixed per person (not
		 * the name itself: authenticators may show or keep it) */
		uint8_t h[SHA256_DIGEST_LENGTH], in[16 + 80];
		char uid[32];
		size_t n = strnlen(name, 80);

		memcpy(in, "bastion-web-user", 16);
		memcpy(in + 16, name, n);
		SHA256(in, 16 + n, h);
		web_b64url(h, 16, uid, sizeof(uid));
		fprintf(f, "\"user_id\":\"%s\",\"user_name\":\"%s\",", uid,
		    name);
	}
	fprintf(f, "\"%s\":", list);
	web_allow_list(w, name, staff, strcmp(list, "allow") == 0, f);
	fputc('}', f);
	fclose(f);
	r = ctlp_challenge_write(WEB_FD, ch, json);
	free(json);
	return (r);
}

int
web_login_begin(struct web *w, int argc, char **argv)
{
	uint8_t ch[CTLP_CHALLENGE_LEN];
	enum policy_role role;
	int staff;

	if (argc != 2 || strlen(argv[1]) >= 80) {
		web_fail(2, "usage: login-begin USER");
		return (2);
	}
	staff = web_staff(w->pol, argv[1], &role) != NULL;
	/* the same answer whoever asks: a challenge is stored either way */
	if (web_challenge_new(w, argv[1], "login", "", WEB_CHALLENGE_S,
	    ch) != 0 ||
	    web_answer_challenge(w, ch, argv[1], staff, "allow") != 0) {
		web_fail(1, "the bastion cannot start a sign-in now; see its "
		    "log");
		return (1);
	}
	web_exit(0);
	return (0);
}

/* Consume the challenge the clientDataJSON of a names (type, kind). */
static int
web_take_challenge(struct web *w, const char *person, const char *type,
    const char *kind, const uint8_t *cd, size_t cdlen,
    uint8_t ch[CTLP_CHALLENGE_LEN], struct state_web_challenge *row,
    const char **why)
{
	char hash[WEB_HASH_HEX];
	int found = 0;

	if (web_cdj_challenge(cd, cdlen, type, ch) != 0) {
		*why = "client data names no challenge";
		return (BERR_AUTH);
	}
	web_sha256_hex(ch, CTLP_CHALLENGE_LEN, hash);
	if (state_web_challenge_take(w->st, hash, person, kind, time(NULL),
	    row, &found) != 0 || !found) {
		*why = "no unused challenge (replayed, expired or another "
		    "person's)";
		return (BERR_AUTH);
	}
	return (0);
}

/* Issue the session's token: the 'a' frame. */
static int
web_token_issue(struct web *w, const char *person, enum policy_role role)
{
	struct state_web_session ws;
	uint8_t tok[CTLP_TOKEN_LEN];
	char json[256];
	time_t now = time(NULL);
	int r;

	memset(&ws, 0, sizeof(ws));
	if (RAND_bytes(tok, sizeof(tok)) != 1)
		return (BERR_CRYPTO);
	web_sha256_hex(tok, sizeof(tok), ws.hash);
	snprintf(ws.person, sizeof(ws.person), "%s", person);
	snprintf(ws.role, sizeof(ws.role), "%s", policy_role_name(role));
	snprintf(ws.from, sizeof(ws.from), "%s", w->from);
	ws.created = ws.last_used = now;
	ws.idle_until = now + WEB_IDLE_S;
	ws.abs_until = now + WEB_ABS_S;
	if ((r = state_web_session_new(w->st, &ws)) == 0) {
		snprintf(json, sizeof(json), "{\"person\":\"%s\",\"role\":"
		    "\"%s\",\"idle\":%d}", ws.person, ws.role, WEB_IDLE_S);
		r = ctlp_auth_write(WEB_FD, tok, (uint64_t)ws.abs_until, json);
	}
	explicit_bzero(tok, sizeof(tok));
	return (r);
}

int
web_login_finish(struct web *w, int argc, char **argv)
{
	const struct ctlp_attr *aa;
	struct ctlp_assertion as;
	struct state_web_challenge row;
	struct state_web_cred cred;
	uint8_t ch[CTLP_CHALLENGE_LEN];
	enum policy_role role = ROLE_NONE;
	const char *why = NULL, *person;
	char *secret = NULL, ctr[16] = "";
	uint32_t counter = 0;
	time_t now = time(NULL);
	size_t fails = 0;
	int r = BERR_AUTH;

	memset(&cred, 0, sizeof(cred));
	if (argc != 2 || (aa = ctlp_req_attr(w->req, "assert")) == NULL ||
	    ctlp_assertion_decode(aa->value, aa->len, &as) != 0 ||
	    ctlp_req_attr_str(w->req, "secret", &secret) != 0 ||
	    secret == NULL) {
		web_fail(2, "usage: login-finish USER with the assert and "
		    "secret attributes");
		free(secret);
		return (2);
	}
	person = argv[1];
	/* a limit per person, kept in the store (webd limits per address) */
	if (state_web_login_fails(w->st, person, now - WEB_FAIL_WINDOW_S,
	    &fails) != 0 || fails >= WEB_FAIL_MAX) {
		why = "too many failed sign-ins (5 in 15 minutes)";
		goto out;
	}
	if (web_take_challenge(w, person, "webauthn.get", "login",
	    as.clientdata, as.clientdata_len, ch, &row, &why) != 0)
		goto out;
	if (web_staff(w->pol, person, &role) == NULL) {
		why = role == ROLE_ENGINEER ? "engineers do not use the "
		    "console" : "no active admin or auditor of that name";
		goto out;
	}
	if (web_assertion_check(w, person, ch, &as, &cred, &counter,
	    &why) != 0)
		goto out;
	snprintf(ctr, sizeof(ctr), "%u", counter);
	if (web_pam(w, person, secret, &why) != 0)
		goto out;
	if (web_token_issue(w, person, role) != 0) {
		why = "the session could not be stored";
		goto out;
	}
	r = 0;
out:
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	audit_ev(BEV_WEB_LOGIN, "person", person, "from", w->from, "result",
	    r == 0 ? "ok" : "refused", "cred", cred.cred_id[0] != '\0' ?
	    cred.cred_id : NULL, "counter", ctr[0] != '\0' ? ctr : NULL,
	    "role", r == 0 ? policy_role_name(role) : NULL, "reason", why,
	    NULL);
	if (r != 0) {
		(void)state_web_login_fail(w->st, person, now);
		log_info("web sign-in of %s refused: %s", person, why);
		web_fail(1, WEB_LOGIN_FAILED);
		return (1);
	}
	web_exit(0);
	return (0);
}

/* ---- enrolment ------------------------------------------------------- */

int
web_enroll_begin(struct web *w, int argc, char **argv)
{
	struct state_web_challenge row;
	uint8_t ch[CTLP_CHALLENGE_LEN];
	enum policy_role role;
	char *code = NULL, hash[WEB_HASH_HEX];
	const char *why = NULL;
	int found = 0;

	if (argc != 2 || ctlp_req_attr_str(w->req, "code", &code) != 0 ||
	    code == NULL) {
		web_fail(2, "usage: enroll-begin USER with the code attribute");
		free(code);
		return (2);
	}
	web_sha256_hex(code, strlen(code), hash);
	explicit_bzero(code, strlen(code));
	free(code);
	if (web_staff(w->pol, argv[1], &role) == NULL)
		why = "no active admin or auditor of that name";
	else if (state_web_challenge_take(w->st, hash, argv[1], "code",
	    time(NULL), &row, &found) != 0 || !found)
		why = "no unused enrolment code of that person";
	else if (web_challenge_new(w, argv[1], "create", row.data,
	    WEB_CODE_S, ch) != 0 ||
	    web_answer_challenge(w, ch, argv[1], 1, "exclude") != 0)
		why = "the store failed";
	if (why != NULL) {
		audit_ev(BEV_WEB_ENROLL, "person", argv[1], "result",
		    "refused", "from", w->from, "reason", why, NULL);
		web_fail(1, WEB_ENROLL_FAILED);
		return (1);
	}
	web_exit(0);
	return (0);
}

int
web_enroll_finish(struct web *w, int argc, char **argv)
{
	struct webauthn_expect x;
	struct webauthn_cred wc;
	struct ctlp_attestation at;
	struct state_web_challenge row;
	struct state_web_cred cred;
	const struct ctlp_attr *aa;
	uint8_t ch[CTLP_CHALLENGE_LEN];
	enum webauthn_verdict v;
	enum policy_role role;
	const char *why = NULL;
	char *secret = NULL, fp[WEB_FP_MAX];
	int r = BERR_AUTH;

	memset(&cred, 0, sizeof(cred));
	if (argc != 2 || (aa = ctlp_req_attr(w->req, "attest")) == NULL ||
	    ctlp_attestation_decode(aa->value, aa->len, &at) != 0 ||
	    ctlp_req_attr_str(w->req, "secret", &secret) != 0 ||
	    secret == NULL) {
		web_fail(2, "usage: enroll-finish USER with the attest and "
		    "secret attributes");
		free(secret);
		return (2);
	}
	if (web_staff(w->pol, argv[1], &role) == NULL) {
		why = "no active admin or auditor of that name";
		goto out;
	}
	if (web_take_challenge(w, argv[1], "webauthn.create", "create",
	    at.clientdata, at.clientdata_len, ch, &row, &why) != 0)
		goto out;
	x.rp_id = w->pol->web.rp_id;
	x.origin = w->pol->web.origin;
	x.challenge = ch;
	x.challen = sizeof(ch);
	x.require_uv = w->pol->web.require_uv;
	if (webauthn_register_verify(&x, at.attobj, at.attobj_len,
	    at.clientdata, at.clientdata_len, &wc, &v) != 0 ||
	    v != WA_VERDICT_OK) {
		why = webauthn_verdict_str(v);
		goto out;
	}
	if (web_pam(w, argv[1], secret, &why) != 0)
		goto out;
	snprintf(cred.person, sizeof(cred.person), "%s", argv[1]);
	web_b64url(wc.id, wc.idlen, cred.cred_id, sizeof(cred.cred_id));
	cred.alg = wc.key.alg == SK_ALG_ED25519 ? -8 : -7;
	hex_encode(wc.key.pub, wc.key.publen, cred.pubkey);
	hex_encode(wc.aaguid, sizeof(wc.aaguid), cred.aaguid);
	cred.created = time(NULL);
	snprintf(cred.enrolled_by, sizeof(cred.enrolled_by), "%.127s",
	    row.data);
	cred.enabled = 1;
	if ((r = state_web_cred_put(w->st, &cred)) != 0) {
		why = r == BERR_EXISTS ? "that credential is enrolled already" :
		    "the store failed";
		goto out;
	}
	/* the first counter is the baseline of the credential's */
	web_cred_fp(wc.id, wc.idlen, fp);
	(void)state_counter_forget(w->st, fp);
	r = 0;
out:
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	audit_ev(BEV_WEB_ENROLL, "person", argv[1], "result", r == 0 ? "ok" :
	    "refused", "cred", r == 0 ? cred.cred_id : NULL, "alg", r == 0 ?
	    (cred.alg == -8 ? "EdDSA" : "ES256") : NULL, "pubkey", r == 0 ?
	    cred.pubkey : NULL, "aaguid", r == 0 ? cred.aaguid : NULL, "by",
	    r == 0 ? cred.enrolled_by : NULL, "from", w->from, "reason", why,
	    NULL);
	if (r != 0) {
		web_fail(1, WEB_ENROLL_FAILED);
		return (1);
	}
	web_exit(0);
	return (0);
}
