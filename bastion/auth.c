/*
 * auth.c - two factors for every account: a registered public key, then a
 * secret checked by the PAM service "bastion" over keyboard-interactive.
 *
 * Runs in the worker's blocking phase (under the login grace alarm). PAM's
 * conversation is synchronous, so it is answered from here: the conversation
 * function sends the keyboard-interactive request and waits for the client's
 * answer message before returning to PAM.
 *
 * Uniform failure: any public key with a valid signature is given a partial
 * success, whether or not it is registered for the user (or the user exists,
 * is enabled, unexpired, connecting from an allowed network). Every check is
 * made at the end, and a failure of any of them looks the same to the client:
 * "Permission denied". So an unauthenticated client learns nothing about
 * which factor failed; the audit log says exactly why.
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bastiond.h"
#include "device.h"
#include "err.h"
#include "log.h"
#include "state.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define AUTH_MAX_TRIES		6
#define AUTH_MAX_PROMPTS	8
#define AUTH_MAX_ANSWER		1024

struct auth_state {
	ssh_session s;
	const struct policy *pol;
	const struct netaddr *peer;
	const char *peerstr;
	const char *sid;
	ssh_message msg;		/* the message we still owe a reply */
	char user[128];			/* user name of the attempt in progress */
	int key_signed;			/* a key signature verified for user */
	const struct policy_key *key;	/* ... and it is registered (or NULL) */
	char keyfp[160];
};

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

/* Wait for the client's keyboard-interactive answer; it becomes st->msg. */
static int
auth_wait_kbdint_answer(struct auth_state *st)
{
	ssh_message m;

	while ((m = ssh_message_get(st->s)) != NULL) {
		if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
		    ssh_message_subtype(m) == SSH_AUTH_METHOD_INTERACTIVE &&
		    ssh_message_auth_kbdint_is_response(m)) {
			st->msg = m;
			return (0);
		}
		/* anything else aborts the conversation: fail it, and keep
		 * the new request so it gets a reply */
		st->msg = m;
		return (BERR_AUTH);
	}
	return (BERR_CLOSED);
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
	if (n <= 0 || n > AUTH_MAX_PROMPTS || st->msg == NULL)
		return (PAM_CONV_ERR);
	if ((rs = calloc((size_t)n, sizeof(*rs))) == NULL)
		return (PAM_BUF_ERR);
	for (i = 0; i < n; i++) {
		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			prompts[np] = msgs[i]->msg;
			echo[np] = msgs[i]->msg_style == PAM_PROMPT_ECHO_ON;
			idx[np++] = i;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			snprintf(info + strlen(info), sizeof(info) -
			    strlen(info), "%s\n", msgs[i]->msg);
			break;
		default:
			goto fail;
		}
	}
	if (np == 0) {
		/* informational only: shown with the next prompt */
		*resp = rs;
		return (PAM_SUCCESS);
	}
	if (ssh_message_auth_interactive_request(st->msg, "bastion",
	    info[0] ? info : "Second factor: your bastion secret.",
	    (unsigned)np, prompts, echo) != SSH_OK)
		goto fail;
	ssh_message_free(st->msg);
	st->msg = NULL;
	if (auth_wait_kbdint_answer(st) != 0)
		goto fail;
	if (ssh_userauth_kbdint_getnanswers(st->s) != np)
		goto fail;
	for (i = 0; i < np; i++) {
		const char *a = ssh_userauth_kbdint_getanswer(st->s,
		    (unsigned)i);

		if (a == NULL || strlen(a) > AUTH_MAX_ANSWER ||
		    (rs[idx[i]].resp = strdup(a)) == NULL)
			goto fail;
	}
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

/* The PAM factor for person; 0 or BERR_AUTH with *why set. */
static int
auth_pam(struct auth_state *st, const char *person, const char **why)
{
	struct pam_conv conv = { auth_pam_conv, st };
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
 * All checks other than the two factors themselves: does the person exist
 * and may log in now, from here, with this key type? NULL if allowed, else
 * the reason for the audit log.
 */
static const char *
auth_person_check(const struct auth_state *st, const struct policy_person *who,
    enum policy_role role, const char *device)
{
	size_t i;
	int ok;

	if (who == NULL)
		return ("unknown user");
	if (!who->enabled)
		return ("account disabled");
	if (!policy_person_active(who, time(NULL)))
		return ("account expired");
	if (st->key == NULL)
		return ("public key not registered for this user");
	if (role == ROLE_ENGINEER) {
		const struct policy_vendor *v = who->vendor;

		if (!st->key->is_sk && !v->allow_non_sk_keys)
			return ("key is not a security key and the vendor "
			    "requires one");
		for (ok = 0, i = 0; i < v->nsources; i++)
			if (netaddr_in_cidr(st->peer, &v->sources[i]))
				ok = 1;
		if (!ok)
			return ("source address outside the vendor's "
			    "source networks");
		return (auth_engineer_lock(st->pol, who->name));
	} else if (device[0] != '\0')
		return ("only engineers can name a device");
	return (NULL);
}

int
auth_run(ssh_session s, const struct policy *pol, const struct netaddr *peer,
    const char *peerstr, const char *sid, struct auth_result *res)
{
	struct auth_state st;
	char person[128], device[128];
	int tries = 0, r = BERR_AUTH;
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
				st.key_signed = 0;
				st.key = NULL;
			}
		}
		auth_split_login(st.user, person, sizeof(person), device,
		    sizeof(device));

		switch (ssh_message_subtype(m)) {
		case SSH_AUTH_METHOD_PUBLICKEY: {
			ssh_key key = ssh_message_auth_pubkey(m);
			enum ssh_publickey_state_e ps =
			    ssh_message_auth_publickey_state(m);
			enum policy_role role;
			struct policy_person *who =
			    policy_person(pol, person, &role);

			if (key == NULL || st.key_signed) {
				auth_reply_failure(&st);
				break;
			}
			if (ps == SSH_PUBLICKEY_STATE_NONE) {
				/* probe: every key may try (uniform) */
				ssh_message_auth_reply_pk_ok_simple(m);
				ssh_message_free(m);
				st.msg = NULL;
				break;
			}
			if (ps != SSH_PUBLICKEY_STATE_VALID) {
				audit_event("auth.factor", "session", sid,
				    "user", person, "from", peerstr,
				    "factor", "publickey", "result", "fail",
				    "reason", "bad signature", NULL);
				tries++;
				auth_reply_failure(&st);
				break;
			}
			st.key_signed = 1;
			st.key = auth_match_key(who, key);
			auth_key_fingerprint(key, st.keyfp, sizeof(st.keyfp));
			audit_event("auth.factor", "session", sid, "user",
			    person, "from", peerstr, "factor", "publickey",
			    "result", st.key ? "ok" : "fail", "key", st.keyfp,
			    "reason", st.key ? NULL : "key not registered",
			    NULL);
			/* partial success either way: see the file comment */
			ssh_set_auth_methods(s, SSH_AUTH_METHOD_INTERACTIVE);
			ssh_message_auth_reply_success(m, 1);
			ssh_message_free(m);
			st.msg = NULL;
			break;
		}
		case SSH_AUTH_METHOD_INTERACTIVE: {
			enum policy_role role = ROLE_NONE;
			struct policy_person *who;
			const char *why = NULL;
			int pam_ok;

			if (!st.key_signed) {
				auth_reply_failure(&st);
				break;
			}
			who = policy_person(pol, person, &role);
			pam_ok = auth_pam(&st, person, &why) == 0;
			audit_event("auth.factor", "session", sid, "user",
			    person, "from", peerstr, "factor", "pam",
			    "result", pam_ok ? "ok" : "fail", "reason", why,
			    NULL);
			tries++;
			if (st.msg == NULL) {
				/* client went away mid-conversation */
				return (BERR_CLOSED);
			}
			if (ssh_message_subtype(st.msg) !=
			    SSH_AUTH_METHOD_INTERACTIVE) {
				/* conversation aborted by a new request */
				auth_reply_failure(&st);
				break;
			}
			why = pam_ok ? auth_person_check(&st, who, role,
			    device) : "second factor failed";
			if (why == NULL && device[0] != '\0' &&
			    policy_device(pol, device) == NULL)
				why = NULL; /* reported after login */
			if (why != NULL) {
				audit_event("auth.result", "session", sid,
				    "user", person, "from", peerstr, "result",
				    "denied", "reason", why, NULL);
				auth_reply_failure(&st);
				break;
			}
			ssh_message_auth_reply_success(st.msg, 0);
			ssh_message_free(st.msg);
			st.msg = NULL;
			res->who = who;
			res->role = role;
			res->key = st.key;
			snprintf(res->login, sizeof(res->login), "%s",
			    st.user);
			snprintf(res->device, sizeof(res->device), "%s",
			    device);
			audit_event("auth.result", "session", sid, "user",
			    person, "role", role == ROLE_ENGINEER ?
			    "engineer" : role == ROLE_ADMIN ? "admin" :
			    "auditor", "vendor", who->vendor ?
			    who->vendor->name : NULL, "from", peerstr,
			    "result", "ok", "key", st.keyfp, NULL);
			return (0);
		}
		default:
			auth_reply_failure(&st);
			break;
		}
		if (tries >= AUTH_MAX_TRIES) {
			audit_event("auth.result", "session", sid, "user",
			    person, "from", peerstr, "result", "denied",
			    "reason", "too many attempts", NULL);
			break;
		}
	}
	if (st.msg != NULL)
		ssh_message_free(st.msg);
	return (r);
}
