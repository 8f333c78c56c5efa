/*
 * auth.c - two factors for every account: a registered public key, then a
 * secret checked by the PAM service "bastion" over keyboard-interactive.
 *
 * Runs in the worker's blocking phase (under the login grace alarm). PAM's
 * conversation is synchronous, so it is answered from here: the conversation
 * function sends the keyboard-interactive request and waits for the client's
 * answer message before returning to PAM.
 *
 * PAM cannot be turned against the people it protects. Its failures count
 * (pam_faillock locks an account after 5, SSSD locks the directory
 * account), so it is consulted only for a person whose own registered key
 * has signed on this connection, from an address that person may use, and
 * who passes every other check that needs no secret (enabled, not expired,
 * not locked, key type, attestation). Everyone else gets exactly what a
 * wrong secret gets, and PAM never hears of them:
 *
 *   - any key with a valid signature gets a partial success (registered or
 *     not, for a known user or not), so the key step says nothing;
 *   - every keyboard-interactive try starts with the same prompt, sent
 *     before anything about the person is looked at; PAM's own first
 *     echo-off prompt is answered with that answer (later prompts of a
 *     longer stack go to the client);
 *   - every failure is answered AUTH_FAIL_DELAY_MS after the client's last
 *     answer, whether PAM said no or was never asked (PAM's own failure
 *     delay is taken over: see auth_pam_delay), with the same "Permission
 *     denied";
 *   - at most AUTH_MAX_SECRETS tries per connection, below the shipped
 *     faillock's deny=5.
 *
 * So a client without a registered key cannot lock anyone out, and cannot
 * tell a right secret from a wrong one, a known user from an unknown one,
 * or which check failed. The audit log says exactly why. The one refusal
 * that is explained to the client is a key that lacks the attestation the
 * policy requires: only its holder, from an allowed address, can get that
 * far (see auth_attestation).
 */
#include <security/pam_appl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bastiond.h"
#include "device.h"
#include "err.h"
#include "log.h"
#include "sk.h"
#include "state.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define AUTH_MAX_FAILURES	6	/* failed requests of any method */
#define AUTH_MAX_SECRETS	3	/* secret tries per connection, below
					   pam_faillock's deny=5 (pam/bastion) */
#define AUTH_FAIL_DELAY_MS	2000	/* after the answer, for every failure */
#define AUTH_MAX_PROMPTS	8
#define AUTH_MAX_ANSWER		1024
#define AUTH_PROMPT		"Password: "
#define AUTH_INSTRUCTION	"Second factor: your bastion secret."

struct auth_state {
	ssh_session s;
	const struct policy *pol;
	const struct netaddr *peer;
	const char *peerstr;
	const char *sid;
	ssh_message msg;		/* the message we still owe a reply */
	char user[128];			/* user name of the attempt in progress */
	int key_signed;			/* a key signature verified for user */
	char *keyb64;			/* ... by this key (libssh's base64) */
	enum ssh_keytypes_e keytype;
	char keyfp[160];
	const struct policy_key *key;	/* the gate: it is user's, or NULL */
	char *answer;			/* the try's first answer (wiped) */
	int answer_used;		/* ... handed to PAM */
	int64_t answered_ms;		/* when the client last answered */
	unsigned pam_delay_us;		/* what PAM's modules asked for */
	char tell[640];			/* a refusal the client may read */
};

static int64_t
auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
auth_forget_answer(struct auth_state *st)
{
	if (st->answer != NULL) {
		explicit_bzero(st->answer, strlen(st->answer));
		free(st->answer);
		st->answer = NULL;
	}
	st->answer_used = 0;
}

static void
auth_forget_key(struct auth_state *st)
{
	if (st->keyb64 != NULL)
		ssh_string_free_char(st->keyb64);
	st->keyb64 = NULL;
	st->key_signed = 0;
	st->key = NULL;
	st->keyfp[0] = '\0';
}

/* Split "alice+ct-scanner" into person and device. */
static void
auth_split_login(const char *login, char *person, size_t plen, char *device,
    size_t dlen)
{
	const char *plus = strchr(login, '+');

	device[0] = '\0';
	if (plus == NULL) {
		snprintf(person, plen, "%s", login);
		return;
	}
	snprintf(person, plen, "%.*s", (int)(plus - login), login);
	snprintf(device, dlen, "%s", plus + 1);
}

/* Find the registered key of who equal to key, or NULL. */
static const struct policy_key *
auth_match_key(const struct policy_person *who, ssh_key key)
{
	size_t i;

	if (who == NULL || key == NULL)
		return (NULL);
	for (i = 0; i < who->nkeys; i++) {
		ssh_key k = NULL;
		int eq;

		if (ssh_pki_import_pubkey_base64(who->keys[i].base64,
		    ssh_key_type_from_name(who->keys[i].type), &k) != SSH_OK)
			continue;
		eq = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
		ssh_key_free(k);
		if (eq)
			return (&who->keys[i]);
	}
	return (NULL);
}

static void
auth_key_fingerprint(ssh_key key, char *out, size_t len)
{
	char fp[96];

	device_fingerprint(key, fp, sizeof(fp));
	snprintf(out, len, "%.40s %s", ssh_key_type_to_char(ssh_key_type(key)),
	    fp);
}

static void
auth_reply_failure(struct auth_state *st)
{
	ssh_set_auth_methods(st->s, st->key_signed ?
	    SSH_AUTH_METHOD_INTERACTIVE : SSH_AUTH_METHOD_PUBLICKEY);
	if (st->msg != NULL) {
		ssh_message_reply_default(st->msg);
		ssh_message_free(st->msg);
		st->msg = NULL;
	}
}

/*
 * The failure of a secret: never sooner than AUTH_FAIL_DELAY_MS after the
 * client's last answer, whatever was (or was not) checked meanwhile.
 */
static void
auth_fail_secret(struct auth_state *st)
{
	int64_t left = st->answered_ms + AUTH_FAIL_DELAY_MS - auth_now_ms();
	struct timespec ts;

	auth_forget_answer(st);
	if (st->answered_ms != 0 && left > 0) {
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0)
			continue;
	}
	auth_reply_failure(st);
}

/* Wait for the client's keyboard-interactive answer; it becomes st->msg. */
static int
auth_wait_kbdint_answer(struct auth_state *st)
{
	ssh_message m;

	if ((m = ssh_message_get(st->s)) == NULL)
		return (BERR_CLOSED);
	/* anything else aborts the conversation: fail it, and keep the new
	 * request so that it gets a reply */
	st->msg = m;
	if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
	    ssh_message_subtype(m) == SSH_AUTH_METHOD_INTERACTIVE &&
	    ssh_message_auth_kbdint_is_response(m)) {
		st->answered_ms = auth_now_ms();
		return (0);
	}
	return (BERR_AUTH);
}

/*
 * One keyboard-interactive round: the prompts as an info request in reply
 * to st->msg, then the client's answers, which become st->msg. 0 with
 * exactly np answers of at most AUTH_MAX_ANSWER bytes each; BERR_CLOSED
 * when the client went away (or the request cannot be sent); BERR_AUTH
 * when it answered badly or sent another request (kept in st->msg).
 */
static int
auth_kbdint_round(struct auth_state *st, const char *instruction,
    unsigned np, const char **prompts, char *echo)
{
	unsigned i;
	int r;

	if (st->msg == NULL || ssh_message_auth_interactive_request(st->msg,
	    "bastion", instruction, np, prompts, echo) != SSH_OK)
		return (BERR_CLOSED);
	ssh_message_free(st->msg);
	st->msg = NULL;
	if ((r = auth_wait_kbdint_answer(st)) != 0)
		return (r);
	if (ssh_userauth_kbdint_getnanswers(st->s) != (int)np)
		return (BERR_AUTH);
	for (i = 0; i < np; i++) {
		const char *a = ssh_userauth_kbdint_getanswer(st->s, i);

		if (a == NULL || strlen(a) > AUTH_MAX_ANSWER)
			return (BERR_AUTH);
	}
	return (0);
}

static int
auth_pam_conv(int n, const struct pam_message **msgs,
    struct pam_response **resp, void *arg)
{
	struct auth_state *st = arg;
	struct pam_response *rs = NULL;
	const char *prompts[AUTH_MAX_PROMPTS];
	char echo[AUTH_MAX_PROMPTS];
	int idx[AUTH_MAX_PROMPTS];
	char info[1024] = "";
	int i, np = 0;

	*resp = NULL;
	if (n <= 0 || n > AUTH_MAX_PROMPTS)
		return (PAM_CONV_ERR);
	if ((rs = calloc((size_t)n, sizeof(*rs))) == NULL)
		return (PAM_BUF_ERR);
	for (i = 0; i < n; i++) {
		const char *text = msgs[i]->msg != NULL ? msgs[i]->msg : "";

		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (st->answer != NULL && !st->answer_used) {
				/* the secret: asked already, in the round
				 * every client gets (see the file comment) */
				if ((rs[i].resp = strdup(st->answer)) == NULL)
					goto fail;
				st->answer_used = 1;
				break;
			}
			/* FALLTHROUGH */
		case PAM_PROMPT_ECHO_ON:
			prompts[np] = text;
			echo[np] = msgs[i]->msg_style == PAM_PROMPT_ECHO_ON;
			idx[np++] = i;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			snprintf(info + strlen(info), sizeof(info) -
			    strlen(info), "%s\n", text);
			break;
		default:
			goto fail;
		}
	}
	if (np == 0) {
		/* only shown with a further prompt: such text ("account
		 * locked", ...) must not tell a client what failed */
		if (info[0] != '\0')
			log_debug("session %s: PAM says: %s", st->sid, info);
		*resp = rs;
		return (PAM_SUCCESS);
	}
	if (auth_kbdint_round(st, info[0] ? info : AUTH_INSTRUCTION,
	    (unsigned)np, prompts, echo) != 0)
		goto fail;
	for (i = 0; i < np; i++)
		if ((rs[idx[i]].resp = strdup(ssh_userauth_kbdint_getanswer(
		    st->s, (unsigned)i))) == NULL)
			goto fail;
	*resp = rs;
	return (PAM_SUCCESS);
fail:
	for (i = 0; i < n; i++) {
		if (rs[i].resp != NULL) {
			explicit_bzero(rs[i].resp, strlen(rs[i].resp));
			free(rs[i].resp);
		}
	}
	free(rs);
	return (PAM_CONV_ERR);
}

/*
 * libpam's failure delay, taken over (PAM_FAIL_DELAY): libpam would sleep
 * for what its modules asked (pam_unix 2 s, pam_faildelay), but a client
 * that never reaches PAM must wait just as long, so every failure waits
 * AUTH_FAIL_DELAY_MS instead (auth_fail_secret). Only noted here.
 */
static void
auth_pam_delay(int status, unsigned usec, void *arg)
{
	struct auth_state *st = arg;

	(void)status;
	if (st != NULL)
		st->pam_delay_us = usec;
}

/* The PAM factor for person; 0 or BERR_AUTH with *why set. */
static int
auth_pam(struct auth_state *st, const char *person, const char **why)
{
	struct pam_conv conv = { auth_pam_conv, st };
	void (*delay_fn)(int, unsigned, void *) = auth_pam_delay;
	pam_handle_t *ph = NULL;
	int pr;

	pr = st->pol->pam_service_dir != NULL ?
	    pam_start_confdir("bastion", person, &conv,
	    st->pol->pam_service_dir, &ph) :
	    pam_start("bastion", person, &conv, &ph);
	if (pr != PAM_SUCCESS) {
		*why = "pam_start failed";
		return (BERR_AUTH);
	}
	(void)pam_set_item(ph, PAM_RHOST, st->peerstr);
	(void)pam_set_item(ph, PAM_RUSER, person);
	if (pam_set_item(ph, PAM_FAIL_DELAY, (const void *)delay_fn) !=
	    PAM_SUCCESS)
		log_warn("session %s: cannot take over PAM's failure delay; "
		    "failures may take longer than %d ms", st->sid,
		    AUTH_FAIL_DELAY_MS);
	if ((pr = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK)) !=
	    PAM_SUCCESS) {
		*why = pam_strerror(ph, pr);
		*why = *why ? *why : "pam_authenticate failed";
		pam_end(ph, pr);
		return (BERR_AUTH);
	}
	if ((pr = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK)) !=
	    PAM_SUCCESS) {
		*why = pam_strerror(ph, pr);
		*why = *why ? *why : "pam_acct_mgmt failed";
		pam_end(ph, pr);
		return (BERR_AUTH);
	}
	pam_end(ph, PAM_SUCCESS);
	return (0);
}

/*
 * Has an admin locked this engineer (`lock`, state store)? NULL if not,
 * else the reason for the audit log. Fails closed: a store that cannot be
 * read refuses the login, as the touch check does.
 */
static const char *
auth_engineer_lock(const struct policy *pol, const char *name)
{
	static char why[400];
	struct state_engineer_lock lk;
	struct state *st = NULL;
	int locked = 0, r;

	if ((r = state_open(pol->state_dir, &st)) == 0)
		r = state_engineer_locked(st, name, &locked, &lk);
	state_close(st);
	if (r != 0)
		return ("the state store cannot be read (engineer locks)");
	if (!locked)
		return (NULL);
	snprintf(why, sizeof(why), "engineer locked by an admin (%.80s): "
	    "%.256s", lk.locked_by, lk.reason);
	return (why);
}

/*
 * require_attestation (policy): was the engineer's login key enrolled
 * (`bastionctl enroll --attestation ... --require-attestation`) with an
 * attestation that verified? NULL if so or if not required, else the reason
 * for the audit log; then st->tell holds what the engineer is told when it
 * is about the key itself (not for a state store that cannot be read,
 * which fails closed like any other failure).
 *
 * Telling is safe: only a client that signed with this person's registered
 * key, from an address the vendor allows, for an enabled and unlocked
 * account, gets here, and it learns nothing about the secret.
 */
static const char *
auth_attestation(struct auth_state *st, const struct policy_person *who)
{
	static char why[512];
	const struct policy_vendor *v = who->vendor;
	struct state_enrollment e;
	struct state *ss = NULL;
	char fp[SK_FP_LEN];
	const char *what;
	int found = 0, r;

	if (!policy_require_attestation(st->pol, v))
		return (NULL);
	if (sk_fingerprint_base64(st->key->base64, fp, sizeof(fp)) != 0)
		snprintf(fp, sizeof(fp), "?");
	memset(&e, 0, sizeof(e));
	if (!st->key->is_sk)
		what = "is not a security key, so it has no attestation";
	else {
		if ((r = state_open(st->pol->state_dir, &ss)) == 0)
			r = state_enroll_get(ss, fp, &e, &found);
		state_close(ss);
		free(e.key_line);
		if (r != 0)
			return ("the state store cannot be read (enrolments)");
		what = !found || strcmp(e.engineer, who->name) != 0 ?
		    "was never enrolled" : !e.attested ? "was enrolled "
		    "without an attestation" : NULL;
		if (what == NULL)
			return (NULL);
	}
	snprintf(why, sizeof(why), "key %s %s, and vendor %s requires a "
	    "verified attestation (require_attestation); an admin enrols it "
	    "with: bastionctl enroll %s --key KEY.pub --attestation FILE "
	    "--challenge FILE --roots DIR --require-attestation", fp, what,
	    v->name, who->name);
	/* one line that OpenSSH shows whole (it cuts at 400 bytes) */
	snprintf(st->tell, sizeof(st->tell), "bastion: key %s %s; vendor %s "
	    "requires keys enrolled with a verified attestation. Make one "
	    "with ssh-keygen -t ed25519-sk -O challenge=C -O "
	    "write-attestation=A and give the bastion admin KEY.pub, A and C "
	    "to run: bastionctl enroll %s --require-attestation", fp, what,
	    v->name, who->name);
	return (why);
}

/*
 * Every check that needs no secret, made before PAM may be consulted:
 * does the person exist, may log in now, from here, with the key that
 * signed? NULL if so (*whop and *rolep set, st->key the registered key),
 * else the reason for the audit log.
 */
static const char *
auth_gate(struct auth_state *st, const char *person, const char *device,
    struct policy_person **whop, enum policy_role *rolep)
{
	struct policy_person *who;
	enum policy_role role = ROLE_NONE;
	ssh_key key = NULL;
	const char *why;
	size_t i;
	int ok;

	*whop = who = policy_person(st->pol, person, &role);
	*rolep = role;
	st->key = NULL;
	if (who != NULL && ssh_pki_import_pubkey_base64(st->keyb64,
	    st->keytype, &key) == SSH_OK) {
		st->key = auth_match_key(who, key);
		ssh_key_free(key);
	}
	if (who == NULL)
		return ("unknown user");
	if (!who->enabled)
		return ("account disabled");
	if (!policy_person_active(who, time(NULL)))
		return ("account expired");
	if (st->key == NULL)
		return ("public key not registered for this user");
	if (role != ROLE_ENGINEER)
		return (device[0] != '\0' ? "only engineers can name a device" :
		    NULL);
	if (!st->key->is_sk && !who->vendor->allow_non_sk_keys)
		return ("key is not a security key and the vendor requires one");
	for (ok = 0, i = 0; i < who->vendor->nsources; i++)
		if (netaddr_in_cidr(st->peer, &who->vendor->sources[i]))
			ok = 1;
	if (!ok)
		return ("source address outside the vendor's source networks");
	if ((why = auth_engineer_lock(st->pol, who->name)) != NULL)
		return (why);
	return (auth_attestation(st, who));
}

/*
 * One try of the second factor: a keyboard-interactive request after a
 * verified signature (see the file comment for the order). Returns 0 when
 * the person is in (*res filled, the client told); BERR_AUTH after a
 * failure the client has been sent; BERR_DENIED when the connection must
 * end with st->tell as its disconnect message; BERR_CLOSED when the client
 * left.
 */
static int
auth_secret(struct auth_state *st, const char *person, const char *device,
    struct auth_result *res)
{
	const char *prompts[1] = { AUTH_PROMPT };
	char echo[1] = { 0 };
	struct policy_person *who = NULL;
	enum policy_role role = ROLE_NONE;
	const char *why = NULL, *pamwhy = NULL;
	int r;

	auth_forget_answer(st);
	st->answered_ms = 0;
	st->tell[0] = '\0';
	/* 1. the same round for everyone, before the person is looked at */
	r = auth_kbdint_round(st, AUTH_INSTRUCTION, 1, prompts, echo);
	if (r == BERR_CLOSED)
		return (BERR_CLOSED);
	if (r == 0 && (st->answer = strdup(ssh_userauth_kbdint_getanswer(
	    st->s, 0))) == NULL)
		r = BERR_NOMEM;
	if (r != 0)
		why = "malformed or missing answer to the secret prompt";
	/* 2. everything that needs no secret */
	if (why == NULL && (why = auth_gate(st, person, device, &who,
	    &role)) != NULL && st->tell[0] != '\0') {
		audit_event("auth.result", "session", st->sid, "user", person,
		    "from", st->peerstr, "result", "denied", "reason", why,
		    "key", st->keyfp, NULL);
		log_warn("session %s: %s refused: %s", st->sid, person, why);
		auth_forget_answer(st);
		return (BERR_DENIED);
	}
	/* 3. only now PAM, and only for this person's own key */
	if (why == NULL) {
		r = auth_pam(st, person, &pamwhy);
		audit_event("auth.factor", "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "pam", "result", r == 0 ?
		    "ok" : "fail", "reason", pamwhy, NULL);
		if (st->msg == NULL) {
			/* the client went away mid-conversation */
			auth_forget_answer(st);
			return (BERR_CLOSED);
		}
		if (r != 0) {
			why = "second factor failed";
			log_debug("session %s: PAM asked for a failure delay of "
			    "%u us; the bastion's %d ms applies instead",
			    st->sid, st->pam_delay_us, AUTH_FAIL_DELAY_MS);
		}
		if (ssh_message_type(st->msg) != SSH_REQUEST_AUTH ||
		    ssh_message_subtype(st->msg) != SSH_AUTH_METHOD_INTERACTIVE
		    || !ssh_message_auth_kbdint_is_response(st->msg))
			why = "keyboard-interactive conversation aborted";
	} else
		audit_event("auth.factor", "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "pam", "result", "skipped",
		    "reason", "PAM not consulted: the checks before it failed",
		    NULL);
	if (why != NULL) {
		audit_event("auth.result", "session", st->sid, "user", person,
		    "from", st->peerstr, "result", "denied", "reason", why,
		    "key", st->keyfp, NULL);
		auth_fail_secret(st);
		return (BERR_AUTH);
	}
	auth_forget_answer(st);
	ssh_message_auth_reply_success(st->msg, 0);
	ssh_message_free(st->msg);
	st->msg = NULL;
	res->who = who;
	res->role = role;
	res->key = st->key;
	snprintf(res->login, sizeof(res->login), "%s", st->user);
	snprintf(res->device, sizeof(res->device), "%s", device);
	audit_event("auth.result", "session", st->sid, "user", person, "role",
	    role == ROLE_ENGINEER ? "engineer" : role == ROLE_ADMIN ? "admin" :
	    "auditor", "vendor", who->vendor ? who->vendor->name : NULL, "from",
	    st->peerstr, "result", "ok", "key", st->keyfp, NULL);
	return (0);
}

/*
 * A publickey request. Probes (no signature) and valid signatures get the
 * same answer for every key and user: which keys are registered to whom is
 * looked at only later, in auth_gate(). Returns 1 for a failure that
 * counts towards AUTH_MAX_FAILURES, else 0.
 */
static int
auth_publickey(struct auth_state *st, const char *person)
{
	ssh_key key = ssh_message_auth_pubkey(st->msg);
	enum ssh_publickey_state_e ps =
	    ssh_message_auth_publickey_state(st->msg);

	if (key == NULL || st->key_signed) {
		auth_reply_failure(st);
		return (0);
	}
	if (ps == SSH_PUBLICKEY_STATE_NONE) {
		/* probe: every key may try (uniform) */
		ssh_message_auth_reply_pk_ok_simple(st->msg);
		ssh_message_free(st->msg);
		st->msg = NULL;
		return (0);
	}
	if (ps != SSH_PUBLICKEY_STATE_VALID ||
	    ssh_pki_export_pubkey_base64(key, &st->keyb64) != SSH_OK) {
		audit_event("auth.factor", "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "publickey", "result",
		    "fail", "reason", "bad signature", NULL);
		st->keyb64 = NULL;
		auth_reply_failure(st);
		return (1);
	}
	st->key_signed = 1;
	st->keytype = ssh_key_type(key);
	auth_key_fingerprint(key, st->keyfp, sizeof(st->keyfp));
	/* "ok": the signature verified; whether the key is this person's
	 * is decided before PAM and reported in auth.result */
	audit_event("auth.factor", "session", st->sid, "user", person, "from",
	    st->peerstr, "factor", "publickey", "result", "ok", "key",
	    st->keyfp, NULL);
	ssh_set_auth_methods(st->s, SSH_AUTH_METHOD_INTERACTIVE);
	ssh_message_auth_reply_success(st->msg, 1);
	ssh_message_free(st->msg);
	st->msg = NULL;
	return (0);
}

int
auth_run(ssh_session s, const struct policy *pol, const struct netaddr *peer,
    const char *peerstr, const char *sid, struct auth_result *res)
{
	struct auth_state st;
	char person[128], device[128];
	int failures = 0, secrets = 0, r = BERR_AUTH;
	ssh_message m;

	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	st.s = s;
	st.pol = pol;
	st.peer = peer;
	st.peerstr = peerstr;
	st.sid = sid;
	ssh_set_auth_methods(s, SSH_AUTH_METHOD_PUBLICKEY);

	while ((m = ssh_message_get(s)) != NULL) {
		const char *user;

		if (ssh_message_type(m) != SSH_REQUEST_AUTH) {
			ssh_message_reply_default(m);
			ssh_message_free(m);
			continue;
		}
		st.msg = m;
		user = ssh_message_auth_user(m);
		if (user != NULL) {
			if (strlen(user) >= sizeof(st.user)) {
				auth_reply_failure(&st);
				continue;
			}
			if (strcmp(user, st.user) != 0) {
				/* a different user starts over */
				snprintf(st.user, sizeof(st.user), "%s", user);
				auth_forget_key(&st);
			}
		}
		auth_split_login(st.user, person, sizeof(person), device,
		    sizeof(device));

		switch (ssh_message_subtype(m)) {
		case SSH_AUTH_METHOD_PUBLICKEY:
			failures += auth_publickey(&st, person);
			break;
		case SSH_AUTH_METHOD_INTERACTIVE:
			if (!st.key_signed) {
				/* the key comes first */
				failures++;
				auth_reply_failure(&st);
				break;
			}
			secrets++;
			if ((r = auth_secret(&st, person, device, res)) == 0 ||
			    r == BERR_CLOSED)
				goto out;
			if (r == BERR_DENIED) {
				ssh_session_set_disconnect_message(s, st.tell);
				r = BERR_AUTH;
				goto out;
			}
			break;
		default:
			auth_reply_failure(&st);
			break;
		}
		if (secrets >= AUTH_MAX_SECRETS ||
		    failures >= AUTH_MAX_FAILURES) {
			audit_event("auth.result", "session", sid, "user",
			    person, "from", peerstr, "result", "denied",
			    "reason", "too many attempts", NULL);
			break;
		}
	}
	r = BERR_AUTH;
out:
	if (st.msg != NULL)
		ssh_message_free(st.msg);
	auth_forget_answer(&st);
	auth_forget_key(&st);
	return (r);
}
