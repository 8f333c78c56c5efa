/*
 * auth.c - two factors for every account: a registered public key, then a
 * secret checked by the PAM service "bastion" over keyboard-interactive.
 *
 * Privilege separation (privsep.h) splits it in two. The child speaks SSH
 * with the client (auth_run, at the bottom): it answers key probes, lets
 * libssh verify signatures, sends the one prompt every client gets and
 * shows PAM's further prompts. The monitor decides (auth_mon_*): it is
 * told which key signed for which user name, runs the gate and PAM (whose
 * conversation crosses the socketpair: MANS_PAM_PROMPT, MREQ_PAM_ANSWERS),
 * keeps the failure delay and the count of tries, writes every auth.*
 * audit event and alone says that a person is logged in. A child that
 * lies can only lie about the key (libssh 0.10 does not hand the
 * signature out for the monitor to check; the touch check, verified in
 * the monitor, is the proof of the security key); it cannot skip PAM, the
 * delay, the tries or the gate.
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
#include "bclock.h"
#include "device.h"
#include "err.h"
#include "log.h"
#include "privsep.h"
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

/* ==== the monitor's side ================================================= */

/* The last field of an auth.result: via=BALANCER behind a load balancer
 * (docs/SCALE-OUT.md), else nothing (the key NULL ends the list). */
#define AUTH_VIA(st)	(st)->via != NULL ? "via" : NULL, (st)->via

/* What the monitor knows of the login in progress. */
struct auth_mon {
	const struct policy *pol;
	const struct netaddr *peer;
	const char *peerstr;
	const char *via;		/* the balancer it came through, or
					   NULL (a direct connection) */
	const char *sid;
	char user[128];			/* user name of the attempt in progress */
	int key_signed;			/* the child says a key signed for user */
	char *keyb64;			/* ... this key (libssh's base64) */
	enum ssh_keytypes_e keytype;
	char keyfp[160];
	const struct policy_key *key;	/* the gate: it is user's, or NULL */
	char *answer;			/* the try's first answer (wiped) */
	int answer_used;		/* ... handed to PAM */
	int64_t answered_ms;		/* when the client last answered */
	unsigned pam_delay_us;		/* what PAM's modules asked for */
	char tell[640];			/* a refusal the client may read */
	struct mm_kbdint_io *io;	/* the child, for PAM's prompts */
	int conv_closed;		/* ... the client left meanwhile */
	int conv_aborted;		/* ... it sent another request */
	int secrets, failures;
};

static void
auth_forget_answer(struct auth_mon *st)
{
	if (st->answer != NULL) {
		explicit_bzero(st->answer, strlen(st->answer));
		free(st->answer);
		st->answer = NULL;
	}
	st->answer_used = 0;
}

static void
auth_forget_key(struct auth_mon *st)
{
	free(st->keyb64);
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

/*
 * The failure of a secret: never sooner than AUTH_FAIL_DELAY_MS after the
 * client's last answer, whatever was (or was not) checked meanwhile. The
 * monitor waits before it answers the child, so a child cannot shorten it.
 */
static void
auth_fail_delay(struct auth_mon *st)
{
	int64_t left = st->answered_ms + AUTH_FAIL_DELAY_MS - bclock_mono_ms(NULL);
	struct timespec ts;

	auth_forget_answer(st);
	if (st->answered_ms != 0 && left > 0) {
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0)
			continue;
	}
}

static int
auth_pam_conv(int n, const struct pam_message **msgs,
    struct pam_response **resp, void *arg)
{
	struct auth_mon *st = arg;
	struct pam_response *rs = NULL;
	const char *prompts[AUTH_MAX_PROMPTS];
	char echo[AUTH_MAX_PROMPTS];
	int idx[AUTH_MAX_PROMPTS];
	char info[1024] = "", **ans = NULL;
	int i, np = 0, r;

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
	/* the child asks the client; a client that left or sent another
	 * request ends the conversation */
	if (st->io == NULL || st->conv_closed || st->conv_aborted)
		goto fail;
	r = st->io->round(st->io->arg, info[0] ? info : AUTH_INSTRUCTION,
	    (unsigned)np, prompts, echo, &ans);
	st->answered_ms = bclock_mono_ms(NULL);
	if (r == BERR_CLOSED)
		st->conv_closed = 1;
	else if (r != 0)
		st->conv_aborted = 1;
	if (r != 0)
		goto fail;
	for (i = 0; i < np; i++) {
		rs[idx[i]].resp = ans[i];
		ans[i] = NULL;
	}
	free(ans);
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
 * AUTH_FAIL_DELAY_MS instead (auth_fail_delay). Only noted here.
 */
static void
auth_pam_delay(int status, unsigned usec, void *arg)
{
	struct auth_mon *st = arg;

	(void)status;
	if (st != NULL)
		st->pam_delay_us = usec;
}

/* The PAM factor for person; 0 or BERR_AUTH with *why set. */
static int
auth_pam(struct auth_mon *st, const char *person, const char **why)
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
auth_attestation(struct auth_mon *st, const struct policy_person *who)
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
auth_gate(struct auth_mon *st, const char *person, const char *device,
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

struct auth_mon *
auth_mon_new(const struct policy *pol, const struct netaddr *peer,
    const char *peerstr, const char *via, const char *sid)
{
	struct auth_mon *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (NULL);
	st->pol = pol;
	st->peer = peer;
	st->peerstr = peerstr;
	st->via = via != NULL && via[0] != '\0' ? via : NULL;
	st->sid = sid;
	return (st);
}

void
auth_mon_free(struct auth_mon *st)
{
	if (st == NULL)
		return;
	auth_forget_answer(st);
	auth_forget_key(st);
	free(st);
}

/* Too many tries on this connection: said once, in the audit log. */
static int
auth_mon_enough(struct auth_mon *st, const char *person)
{
	if (st->secrets < AUTH_MAX_SECRETS && st->failures < AUTH_MAX_FAILURES)
		return (0);
	audit_ev(BEV_AUTH_RESULT, "session", st->sid, "user", person, "from",
	    st->peerstr, "result", "denied", "reason", "too many attempts",
	    AUTH_VIA(st), NULL);
	return (1);
}

int
auth_mon_pubkey(struct auth_mon *st, int kind, const char *user,
    const char *keytype, const char *keyb64)
{
	char person[128], device[128];
	ssh_key key = NULL;

	if (strlen(user) >= sizeof(st->user))
		return (-1);
	if (strcmp(user, st->user) != 0) {
		/* a different user starts over, as the child does */
		snprintf(st->user, sizeof(st->user), "%s", user);
		auth_forget_key(st);
	}
	auth_split_login(st->user, person, sizeof(person), device,
	    sizeof(device));
	switch (kind) {
	case MM_PK_OK:
		/* one key per user: the child answers any later one itself */
		if (st->key_signed || ssh_pki_import_pubkey_base64(keyb64,
		    ssh_key_type_from_name(keytype), &key) != SSH_OK)
			return (-1);
		if ((st->keyb64 = strdup(keyb64)) == NULL) {
			ssh_key_free(key);
			return (-1);
		}
		st->key_signed = 1;
		st->keytype = ssh_key_type(key);
		auth_key_fingerprint(key, st->keyfp, sizeof(st->keyfp));
		ssh_key_free(key);
		/* "ok": the signature verified (the child's libssh says so);
		 * whether the key is this person's is decided before PAM and
		 * reported in auth.result */
		audit_ev(BEV_AUTH_FACTOR, "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "publickey", "result", "ok",
		    "key", st->keyfp, NULL);
		return (0);
	case MM_PK_BADSIG:
		audit_ev(BEV_AUTH_FACTOR, "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "publickey", "result",
		    "fail", "reason", "bad signature", NULL);
		st->failures++;
		break;
	case MM_PK_NOKEY:
		st->failures++;
		break;
	default:
		return (-1);
	}
	return (auth_mon_enough(st, person));
}

int
auth_mon_kbdint(struct auth_mon *st, const char *user, const char *answer,
    struct mm_kbdint_io *io, struct mm_auth_result *res,
    struct auth_result *au)
{
	char person[128], device[128];
	struct policy_person *who = NULL;
	enum policy_role role = ROLE_NONE;
	const char *why = NULL, *pamwhy = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	/* the child asks only after a key signed for this very user name */
	if (!st->key_signed || strcmp(user, st->user) != 0 ||
	    st->secrets >= AUTH_MAX_SECRETS)
		return (-1);
	st->secrets++;
	auth_split_login(st->user, person, sizeof(person), device,
	    sizeof(device));
	auth_forget_answer(st);
	st->answered_ms = bclock_mono_ms(NULL);
	st->tell[0] = '\0';
	st->io = io;
	st->conv_closed = st->conv_aborted = 0;
	/* 1. the same round for everyone (the child asked it) */
	if (answer == NULL)
		why = "malformed or missing answer to the secret prompt";
	else if ((st->answer = strdup(answer)) == NULL)
		why = "out of memory";
	/* 2. everything that needs no secret */
	if (why == NULL && (why = auth_gate(st, person, device, &who,
	    &role)) != NULL && st->tell[0] != '\0') {
		audit_ev(BEV_AUTH_RESULT, "session", st->sid, "user", person,
		    "from", st->peerstr, "result", "denied", "reason", why,
		    "key", st->keyfp, AUTH_VIA(st), NULL);
		log_warn("session %s: %s refused: %s", st->sid, person, why);
		auth_forget_answer(st);
		res->status = MM_AUTH_DENIED;
		snprintf(res->tell, sizeof(res->tell), "%s", st->tell);
		return (0);
	}
	/* 3. only now PAM, and only for this person's own key */
	if (why == NULL) {
		r = auth_pam(st, person, &pamwhy);
		audit_ev(BEV_AUTH_FACTOR, "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "pam", "result", r == 0 ?
		    "ok" : "fail", "reason", pamwhy, NULL);
		if (st->conv_closed) {
			/* the client went away mid-conversation */
			auth_forget_answer(st);
			res->status = MM_AUTH_CLOSED;
			return (0);
		}
		if (r != 0) {
			why = "second factor failed";
			log_debug("session %s: PAM asked for a failure delay of "
			    "%u us; the bastion's %d ms applies instead",
			    st->sid, st->pam_delay_us, AUTH_FAIL_DELAY_MS);
		}
		if (st->conv_aborted)
			why = "keyboard-interactive conversation aborted";
	} else
		audit_ev(BEV_AUTH_FACTOR, "session", st->sid, "user", person,
		    "from", st->peerstr, "factor", "pam", "result", "skipped",
		    "reason", "PAM not consulted: the checks before it failed",
		    NULL);
	if (why != NULL) {
		audit_ev(BEV_AUTH_RESULT, "session", st->sid, "user", person,
		    "from", st->peerstr, "result", "denied", "reason", why,
		    "key", st->keyfp, AUTH_VIA(st), NULL);
		auth_fail_delay(st);
		(void)auth_mon_enough(st, person);
		res->status = MM_AUTH_FAIL;
		return (0);
	}
	auth_forget_answer(st);
	memset(au, 0, sizeof(*au));
	au->who = who;
	au->role = role;
	au->key = st->key;
	snprintf(au->login, sizeof(au->login), "%s", st->user);
	snprintf(au->device, sizeof(au->device), "%.*s", POLICY_MAX_NAME,
	    device);
	res->status = MM_AUTH_OK;
	snprintf(res->person, sizeof(res->person), "%s", who->name);
	res->role = role;
	res->key_index = (unsigned)(st->key - who->keys);
	snprintf(res->device, sizeof(res->device), "%s", device);
	audit_ev(BEV_AUTH_RESULT, "session", st->sid, "user", person, "role",
	    role == ROLE_ENGINEER ? "engineer" : role == ROLE_ADMIN ? "admin" :
	    "auditor", "vendor", who->vendor ? who->vendor->name : NULL, "from",
	    st->peerstr, "result", "ok", "key", st->keyfp, AUTH_VIA(st), NULL);
	return (0);
}

/* ==== the child's side =================================================== */

/* What the child keeps of the login in progress. */
struct auth_child {
	ssh_session s;
	const char *sid;
	ssh_message msg;		/* the message we still owe a reply */
	char user[128];			/* user name of the attempt in progress */
	int key_signed;			/* a key signature verified for user */
};

static void
auth_reply_failure(struct auth_child *st)
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
auth_wait_kbdint_answer(struct auth_child *st)
{
	ssh_message m;

	if ((m = ssh_message_get(st->s)) == NULL)
		return (BERR_CLOSED);
	/* anything else aborts the conversation: fail it, and keep the new
	 * request so that it gets a reply */
	st->msg = m;
	if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
	    ssh_message_subtype(m) == SSH_AUTH_METHOD_INTERACTIVE &&
	    ssh_message_auth_kbdint_is_response(m))
		return (0);
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
auth_kbdint_round(struct auth_child *st, const char *instruction,
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

/* PAM's further prompts, asked of the client for the monitor. */
static int
auth_child_round(void *arg, const char *instruction, unsigned n,
    const char **prompts, const char *echo, char ***answers)
{
	struct auth_child *st = arg;
	char e[AUTH_MAX_PROMPTS], **a;
	unsigned i;
	int r;

	*answers = NULL;
	if (n == 0 || n > AUTH_MAX_PROMPTS)
		return (BERR_AUTH);
	memcpy(e, echo, n);
	if ((r = auth_kbdint_round(st, instruction, n, prompts, e)) != 0)
		return (r);
	if ((a = calloc(n, sizeof(*a))) == NULL)
		return (BERR_AUTH);
	for (i = 0; i < n; i++)
		if ((a[i] = strdup(ssh_userauth_kbdint_getanswer(st->s,
		    i))) == NULL) {
			while (i-- > 0) {
				explicit_bzero(a[i], strlen(a[i]));
				free(a[i]);
			}
			free(a);
			return (BERR_AUTH);
		}
	*answers = a;
	return (0);
}

/*
 * One try of the second factor: the prompt every client gets, then the
 * monitor's verdict (it waited out the failure delay already). Returns 0
 * when the person is in (*res filled, the client told); BERR_AUTH after a
 * failure the client has been sent; BERR_DENIED when the connection must
 * end with *tell as its disconnect message; BERR_CLOSED when the client
 * left.
 */
static int
auth_secret(struct auth_child *st, const struct policy *pol,
    struct auth_result *res, char *tell, size_t tellen)
{
	const char *prompts[1] = { AUTH_PROMPT };
	char echo[1] = { 0 };
	struct mm_kbdint_io io = { auth_child_round, st };
	struct mm_auth_result mr;
	const char *answer = NULL;
	struct policy_person *who;
	enum policy_role role = ROLE_NONE;
	int r;

	r = auth_kbdint_round(st, AUTH_INSTRUCTION, 1, prompts, echo);
	if (r == BERR_CLOSED)
		return (BERR_CLOSED);
	if (r == 0)
		answer = ssh_userauth_kbdint_getanswer(st->s, 0);
	if (mm_auth_kbdint(st->user, answer, &io, &mr) != 0)
		return (BERR_CLOSED);
	switch (mr.status) {
	case MM_AUTH_OK:
		break;
	case MM_AUTH_DENIED:
		snprintf(tell, tellen, "%s", mr.tell);
		return (BERR_DENIED);
	case MM_AUTH_CLOSED:
		return (BERR_CLOSED);
	default:
		auth_reply_failure(st);
		return (BERR_AUTH);
	}
	/* the monitor's word, resolved in our copy of the same policy */
	who = policy_person(pol, mr.person, &role);
	if (who == NULL || role != mr.role || mr.key_index >= who->nkeys) {
		log_error("session %s: the monitor's login does not match the "
		    "policy", st->sid);
		return (BERR_CLOSED);
	}
	ssh_message_auth_reply_success(st->msg, 0);
	ssh_message_free(st->msg);
	st->msg = NULL;
	res->who = who;
	res->role = role;
	res->key = &who->keys[mr.key_index];
	snprintf(res->login, sizeof(res->login), "%s", st->user);
	snprintf(res->device, sizeof(res->device), "%.*s", POLICY_MAX_NAME,
	    mr.device);
	return (0);
}

/*
 * A publickey request. Probes (no signature) and valid signatures get the
 * same answer for every key and user: which keys are registered to whom is
 * looked at only later, by the monitor's gate. Returns 1 when the monitor
 * says the connection has failed often enough, else 0.
 */
static int
auth_publickey(struct auth_child *st)
{
	ssh_key key = ssh_message_auth_pubkey(st->msg);
	enum ssh_publickey_state_e ps =
	    ssh_message_auth_publickey_state(st->msg);
	char *b64 = NULL;
	int stop;

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
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		auth_reply_failure(st);
		return (mm_auth_pubkey(MM_PK_BADSIG, st->user, "", ""));
	}
	stop = mm_auth_pubkey(MM_PK_OK, st->user,
	    ssh_key_type_to_char(ssh_key_type(key)), b64);
	ssh_string_free_char(b64);
	st->key_signed = 1;
	ssh_set_auth_methods(st->s, SSH_AUTH_METHOD_INTERACTIVE);
	ssh_message_auth_reply_success(st->msg, 1);
	ssh_message_free(st->msg);
	st->msg = NULL;
	return (stop);
}

int
auth_run(ssh_session s, const struct policy *pol, const char *sid,
    struct auth_result *res)
{
	struct auth_child st;
	char tell[640];
	int secrets = 0, stop = 0, r = BERR_AUTH;
	ssh_message m;

	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	st.s = s;
	st.sid = sid;
	ssh_set_auth_methods(s, SSH_AUTH_METHOD_PUBLICKEY);

	while (!stop && (m = ssh_message_get(s)) != NULL) {
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
			}
		}

		switch (ssh_message_subtype(m)) {
		case SSH_AUTH_METHOD_PUBLICKEY:
			stop = auth_publickey(&st);
			break;
		case SSH_AUTH_METHOD_INTERACTIVE:
			if (!st.key_signed) {
				/* the key comes first */
				auth_reply_failure(&st);
				stop = mm_auth_pubkey(MM_PK_NOKEY, st.user, "",
				    "");
				break;
			}
			secrets++;
			tell[0] = '\0';
			if ((r = auth_secret(&st, pol, res, tell,
			    sizeof(tell))) == 0 || r == BERR_CLOSED)
				goto out;
			if (r == BERR_DENIED) {
				ssh_session_set_disconnect_message(s, tell);
				r = BERR_AUTH;
				goto out;
			}
			if (secrets >= AUTH_MAX_SECRETS)
				stop = 1;
			break;
		default:
			auth_reply_failure(&st);
			break;
		}
	}
	r = BERR_AUTH;
out:
	if (st.msg != NULL)
		ssh_message_free(st.msg);
	return (r);
}
