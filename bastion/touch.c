/*
 * touch.c - proof that a person touched their security key before a
 * device is reached, or before an admin's or auditor's first verb (see
 * touch.h; the design in docs/FIDO2.md).
 *
 * Everyone connects with `ssh -A`; the client then sends
 * auth-agent-req@openssh.com on its session channel (touch_watch_channel
 * notices it). The check is split between the two processes of a
 * connection (privsep.h):
 *
 *   monitor (touch_mon_begin)
 *   1. refuses a key the state store has locked (a cloned key);
 *   2. skips the check where the policy says so (touch: off, a key that
 *      is not a security key);
 *   3. waits for any other session of the same key to finish its check
 *      (state_key_guard), so counters are seen in the order they were
 *      made, and makes a fresh challenge bound to this connection, person
 *      and device (or console);
 *   child (touch_check)
 *   4. opens an auth-agent@openssh.com channel back to the client, asks
 *      the agent whether it holds the login key, then asks it to sign the
 *      monitor's challenge;
 *   monitor (touch_mon_verify)
 *   5. verifies the answer with libfido2 (sk.c): the signature over its
 *      own challenge, user presence always, user verification when the
 *      key is verify-required;
 *   6. accepts the signature counter only if it moved forward, else locks
 *      the key and raises touch.counter_regression.
 *
 * So the proof is checked where the child cannot reach it: a child that
 * lies gets no touch.ok. Blocking channel I/O is fine in the child: it
 * serves one connection and this runs outside any libssh callback (a
 * blocking call inside one would hang forever). Every outcome is one
 * touch.* audit event (the monitor's, or, for what only the child sees,
 * such as an agent that does not answer, the child's, stamped by the
 * monitor) and a message that tells the person what to do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "agent.h"
#include "b64.h"
#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "privsep.h"
#include "sk.h"
#include "state.h"
#include "touch.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "touch_int.h"

/* ---- noticing agent forwarding ------------------------------------------- */

static void
touch_agent_req_cb(ssh_session s, ssh_channel ch, void *arg)
{
	struct sess *S = arg;

	(void)s;
	/* only note it: no I/O inside a libssh callback */
	if (ch == S->vch)
		S->agent_req = 1;
}

void
touch_watch_channel(struct sess *S)
{
	if (S == NULL || S->vch == NULL)
		return;
	memset(&S->vch_cb, 0, sizeof(S->vch_cb));
	S->vch_cb.userdata = S;
	S->vch_cb.channel_auth_agent_req_function = touch_agent_req_cb;
	ssh_callbacks_init(&S->vch_cb);
	if (ssh_set_channel_callbacks(S->vch, &S->vch_cb) != SSH_OK)
		log_warn("session %s: cannot watch for agent forwarding; the "
		    "touch check will refuse", S->sid);
}

/* ---- telling the engineer and the auditor -------------------------------- */

static void
touch_audit(struct touch *t, const char *event, const char *result,
    const char *reason, const char *alert)
{
	struct sess *S = t->S;

	audit_event(event, "session", S->sid, "user", S->au.who->name,
	    "role", S->au.role == ROLE_ADMIN ? "admin" : S->au.role ==
	    ROLE_AUDITOR ? "auditor" : NULL, "vendor", S->au.who->vendor ?
	    S->au.who->vendor->name : NULL, "from", S->peerstr, "device",
	    t->device, "key", t->fp[0] != '\0' ? t->fp : NULL, "result",
	    result, "counter", t->counter[0] != '\0' ? t->counter : NULL,
	    "flags", t->flags[0] != '\0' ? t->flags : NULL, "reason", reason,
	    "alert", alert, NULL);
}

/*
 * Tell the engineer: on the session channel, or, on a connection without
 * one (ssh -N, -W), as the disconnect message (one line: OpenSSH prints it
 * as "Received disconnect from ...").
 */
static void
touch_tell(struct touch *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
touch_tell(struct touch *t, const char *fmt, ...)
{
	struct sess *S = t->S;
	char msg[1024];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (S->vch != NULL && ssh_channel_is_open(S->vch)) {
		sess_tell(S, "%s", msg);
		return;
	}
	for (i = 0; msg[i] != '\0'; i++)
		if (msg[i] == '\n')
			msg[i] = ' ';
	ssh_session_set_disconnect_message(S->vs, msg);
}

/* The ~/.ssh/config lines that make the check work. */
static void
touch_hint(struct touch *t)
{
	const char *id = t->sk.alg == SK_ALG_ECDSA ? "id_ecdsa_sk" :
	    "id_ed25519_sk";

	touch_tell(t, "bastion: connect with agent forwarding: ssh -A (for "
	    "sftp and scp: sftp -A, scp -A), or put this in ~/.ssh/config:\n"
	    "\n"
	    "    Host bastion\n"
	    "        ForwardAgent yes\n"
	    "        IdentityFile ~/.ssh/%s\n"
	    "        AddKeysToAgent yes\n"
	    "\n"
	    "bastion: and keep the key in your agent (ssh-add ~/.ssh/%s). A "
	    "key added with ssh-add -h (destination constraints) cannot "
	    "answer this check: add it again without -h.\n", id, id);
}

/* ---- agent I/O --------------------------------------------------------------- */

/* Read exactly n bytes from the agent channel before deadline. */
static int
touch_read(struct touch *t, uint8_t *p, size_t n, int64_t deadline)
{
	int64_t left;
	int r;

	while (n > 0) {
		if ((left = deadline - bclock_mono_ms(NULL)) <= 0)
			return (BERR_TIMEOUT);
		r = ssh_channel_read_timeout(t->ach, p, (uint32_t)n, 0,
		    (int)left);
		if (r == SSH_ERROR)
			return (BERR_SSH);
		if (r == 0) {
			if (ssh_channel_is_eof(t->ach) ||
			    ssh_channel_is_closed(t->ach) ||
			    !ssh_is_connected(t->S->vs))
				return (BERR_CLOSED);
			continue;
		}
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

/*
 * Send one framed request and read one reply of at most max bytes within
 * wait_s seconds. *reply (heap, caller frees) holds the body.
 */
static int
touch_roundtrip(struct touch *t, const struct buf *req, unsigned wait_s,
    size_t max, uint8_t **reply, size_t *len)
{
	int64_t deadline = bclock_mono_ms(NULL) + (int64_t)wait_s * 1000;
	uint8_t hdr[4];
	int r;

	*reply = NULL;
	*len = 0;
	if (ssh_channel_write(t->ach, buf_ptr(req), (uint32_t)buf_len(req)) !=
	    (int)buf_len(req))
		return (BERR_SSH);
	if ((r = touch_read(t, hdr, sizeof(hdr), deadline)) != 0 ||
	    (r = agent_frame_len(hdr, max, len)) != 0)
		return (r);
	if ((*reply = malloc(*len)) == NULL)
		return (BERR_NOMEM);
	if ((r = touch_read(t, *reply, *len, deadline)) != 0) {
		free(*reply);
		*reply = NULL;
	}
	return (r);
}

/* The challenge: SHA-256 over what binds it to this connection, engineer
 * and device, and 32 fresh random bytes. */
static int
touch_challenge(struct touch *t, uint8_t out[SHA256_DIGEST_LENGTH])
{
	struct sess *S = t->S;
	uint8_t nonce[32];
	char peer[96];
	struct buf *b;
	int r;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return (BERR_CRYPTO);
	if ((b = buf_new(4096)) == NULL)
		return (BERR_NOMEM);
	snprintf(peer, sizeof(peer), "%s %d", S->peerstr, S->peerport);
	if ((r = buf_put_cstring(b, TOUCH_CHALLENGE_TAG)) == 0 &&
	    (r = buf_put_cstring(b, S->sid)) == 0 &&
	    (r = buf_put_cstring(b, S->au.who->name)) == 0 &&
	    (r = buf_put_cstring(b, t->device != NULL ? t->device :
	    t->what)) == 0 &&
	    (r = buf_put_cstring(b, peer)) == 0 &&
	    (r = buf_put_u64(b, (uint64_t)time(NULL))) == 0 &&
	    (r = buf_put_string(b, nonce, sizeof(nonce))) == 0)
		SHA256(buf_ptr(b), buf_len(b), out);
	buf_free(b);
	return (r);
}

/* ---- both sides ---------------------------------------------------------- */

/* Who is checked, for what, and the login key decoded; -1 if the login
 * is incomplete (a broken invariant) or the key cannot be read. */
static int
touch_init(struct touch *t, struct sess *S)
{
	memset(t, 0, sizeof(*t));
	t->S = S;
	t->key = S->au.key;
	if (S->au.who == NULL || S->au.role == ROLE_NONE || t->key == NULL ||
	    (S->au.role == ROLE_ENGINEER && S->au.who->vendor == NULL)) {
		log_error("session %s: touch check without a complete login",
		    S->sid);	/* a broken invariant: refuse */
		return (-1);
	}
	if (S->au.role == ROLE_ENGINEER) {
		t->device = S->dev != NULL ? S->dev->name :
		    S->au.device[0] != '\0' ? S->au.device : "-";
		snprintf(t->what, sizeof(t->what), "reach %s", t->device);
		snprintf(t->doing, sizeof(t->doing), "reaching %s", t->device);
	} else {
		/* every role proves presence before its first verb */
		const char *con = S->au.role == ROLE_ADMIN ? "admin" :
		    "auditor";

		snprintf(t->what, sizeof(t->what), "use the %s console", con);
		snprintf(t->doing, sizeof(t->doing), "using the %s console",
		    con);
	}
	if (b64_decode(t->key->base64, SK_MAX_BLOB, B64_CANONICAL, &t->blob,
	    &t->bloblen) != 0 ||
	    sk_fingerprint(t->blob, t->bloblen, t->fp, sizeof(t->fp)) != 0 ||
	    (t->key->is_sk && sk_key_from_blob(t->blob, t->bloblen,
	    &t->sk) != 0))
		return (-2);
	return (0);
}

static void
touch_fini(struct touch *t)
{
	if (t->ach != NULL) {
		ssh_channel_close(t->ach);
		ssh_channel_free(t->ach);
		t->ach = NULL;
	}
	free(t->blob);
	t->blob = NULL;
}

/* ---- the monitor's side ------------------------------------------------- */

static void
touch_mon_error(struct touch *t, const char *why, struct mm_touch_ask *out)
{
	touch_audit(t, bev_name(BEV_TOUCH_ERROR), "refused", why, NULL);
	out->status = MM_TOUCH_ERROR;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

void
touch_mon_release(struct state **stp, struct state_guard **guardp)
{
	state_guard_release(*guardp);
	*guardp = NULL;
	state_close(*stp);
	*stp = NULL;
}

void
touch_mon_begin(struct sess *S, int agent_req, int has_channel, int wait,
    int transfer, struct state **stp, struct state_guard **guardp,
    uint8_t challenge[32], struct mm_touch_ask *out)
{
	const struct policy_vendor *v;
	struct state_lock lk;
	struct touch t;
	int locked, r, plain_needs = 0;

	memset(out, 0, sizeof(*out));
	out->window_s = S->pol->touch_transfer_window;
	touch_mon_release(stp, guardp);
	if ((r = touch_init(&t, S)) != 0) {
		if (r == -2)
			touch_mon_error(&t, "the login key cannot be read", out);
		else {
			out->status = MM_TOUCH_ERROR;
			snprintf(out->why, sizeof(out->why), "no complete login");
		}
		goto out;
	}
	v = S->au.who->vendor;		/* or NULL */
	if (state_open(S->pol->state_dir, &t.st) != 0 ||
	    state_key_locked(t.st, t.fp, &locked, &lk) != 0) {
		touch_mon_error(&t, "its state store is unavailable", out);
		goto out;
	}
	if (locked) {
		touch_audit(&t, bev_name(BEV_TOUCH_LOCKED),
		    "refused", lk.reason, NULL);
		out->status = MM_TOUCH_LOCKED;
		snprintf(out->why, sizeof(out->why), "%s", lk.reason);
		goto out;
	}
	if (v != NULL && v->touch == POLICY_TOUCH_OFF) {
		touch_audit(&t, bev_name(BEV_TOUCH_SKIPPED),
		    "ok", "vendor has touch: off",
		    NULL);
		out->status = MM_TOUCH_SKIP;
		goto out;
	}
	if (!t.key->is_sk && (v == NULL || !touch_person_has_sk(S->au.who))) {
		touch_audit(&t, bev_name(BEV_TOUCH_SKIPPED),
		    "ok", v != NULL ? "not a "
		    "security key (the vendor allows non-sk keys)" : "not a "
		    "security key (admins and auditors may use any key type)",
		    NULL);
		out->status = MM_TOUCH_SKIP;
		goto out;
	}
	/* an engineer who has a security key and logs in with a plain key
	 * (PuTTY, which has no security keys) proves no touch with it: only
	 * a transfer window made by a touch of the security key admits */
	plain_needs = !t.key->is_sk;
	if (!agent_req || plain_needs) {
		switch (touch_mon_window(&t, transfer, out)) {
		case 1:
			out->status = MM_TOUCH_WINDOW;
			goto out;
		case -1:
			touch_mon_error(&t, "its state store is unavailable",
			    out);
			goto out;
		default:
			break;
		}
	}
	if (plain_needs) {
		touch_audit(&t, bev_name(BEV_TOUCH_NO_AGENT),
		    "refused", "a key that is "
		    "not a security key proves no touch, and no transfer "
		    "window admits this session", NULL);
		out->status = MM_TOUCH_NO_AGENT;
		goto out;
	}
	if (!agent_req) {
		touch_audit(&t, bev_name(BEV_TOUCH_NO_AGENT),
		    "refused", !has_channel ?
		    "forward-only connection: no session channel carries an "
		    "agent request" : "no agent forwarding (ssh -A)", NULL);
		out->status = MM_TOUCH_NO_AGENT;
		goto out;
	}
	r = state_key_guard(t.st, t.fp, wait ? TOUCH_GUARD_WAIT_S * 1000 : 0,
	    &t.guard);
	if (r == BERR_TIMEOUT && !wait) {
		out->status = MM_TOUCH_BUSY;
		goto out;
	}
	if (r != 0) {
		touch_mon_error(&t, r == BERR_TIMEOUT ? "another session of "
		    "this key is still waiting for its touch" : "cannot take "
		    "the key's lock", out);
		goto out;
	}
	if (touch_challenge(&t, challenge) != 0) {
		touch_mon_error(&t, "no random challenge", out);
		goto out;
	}
	memcpy(out->challenge, challenge, sizeof(out->challenge));
	out->status = MM_TOUCH_ASK;
	/* the guard is held until the answer (touch_mon_verify) */
	*stp = t.st;
	*guardp = t.guard;
	t.st = NULL;
	t.guard = NULL;
out:
	state_guard_release(t.guard);
	state_close(t.st);
	touch_fini(&t);
}

int
touch_mon_verify(struct sess *S, struct state *st, const uint8_t *challenge,
    const uint8_t *sigblob, size_t siglen, uint32_t *counter, uint32_t *prev,
    time_t *until)
{
	enum sk_verdict verdict;
	struct sk_sig sig;
	struct touch t;
	char reason[200];
	enum mm_verdict v = MM_V_ERROR;
	int had = 0, r;

	*counter = *prev = 0;
	*until = 0;
	if (touch_init(&t, S) != 0 || st == NULL || !t.key->is_sk) {
		touch_fini(&t);
		return (MM_V_ERROR);
	}
	if (sk_sig_parse(sigblob, siglen, &sig) != 0) {
		touch_audit(&t, bev_name(BEV_TOUCH_BAD_SIGNATURE),
		    "refused", "malformed "
		    "answer from the agent", NULL);
		v = MM_V_BAD_SIGNATURE;
		goto out;
	}
	snprintf(t.counter, sizeof(t.counter), "%lu",
	    (unsigned long)sig.counter);
	snprintf(t.flags, sizeof(t.flags), "0x%02x", sig.flags);
	if (sk_sig_verify(&t.sk, &sig, challenge, 32, t.key->verify_required,
	    &verdict) != 0) {
		touch_audit(&t, bev_name(BEV_TOUCH_ERROR),
		    "refused", "signature check "
		    "failed", NULL);
		goto out;
	}
	switch (verdict) {
	case SK_VERDICT_OK:
		break;
	case SK_VERDICT_BAD_SIGNATURE:
		touch_audit(&t, bev_name(BEV_TOUCH_BAD_SIGNATURE), "refused",
		    sk_verdict_str(verdict), NULL);
		v = MM_V_BAD_SIGNATURE;
		goto out;
	case SK_VERDICT_NO_TOUCH:
		touch_audit(&t, bev_name(BEV_TOUCH_NO_TOUCH), "refused",
		    sk_verdict_str(verdict), NULL);
		v = MM_V_NO_TOUCH;
		goto out;
	case SK_VERDICT_NO_PIN:
		touch_audit(&t, bev_name(BEV_TOUCH_NO_PIN), "refused",
		    sk_verdict_str(verdict), NULL);
		v = MM_V_NO_PIN;
		goto out;
	}
	/* accept the counter if it moved forward; else lock the key */
	r = state_counter_advance(st, t.fp, sig.counter, prev, &had);
	if (r != 0 && r != BERR_DENIED) {
		touch_audit(&t, bev_name(BEV_TOUCH_ERROR),
		    "refused", "the state store "
		    "cannot record the key's counter", NULL);
		goto out;
	}
	if (r == BERR_DENIED) {
		*counter = sig.counter;
		snprintf(reason, sizeof(reason), "signature counter %lu is not "
		    "above the last one seen, %lu", (unsigned long)sig.counter,
		    (unsigned long)*prev);
		if (state_key_lock(st, t.fp, S->au.who->name, reason) != 0)
			log_error("session %s: could not lock key %s of %s: "
			    "refusing anyway", S->sid, t.fp, S->au.who->name);
		touch_audit(&t, bev_name(BEV_TOUCH_COUNTER_REGRESSION),
		    "refused", reason,
		    "possible cloned authenticator");
		log_warn("ALERT: possible cloned authenticator: key %s of %s "
		    "(%s); key locked until bastionctl unlock %s", t.fp,
		    S->au.who->name, reason, S->au.who->name);
		v = MM_V_REGRESSION;
		goto out;
	}
	touch_audit(&t, bev_name(BEV_TOUCH_OK), "ok", NULL, NULL);
	v = MM_V_OK;
	*until = touch_mon_window_open(&t, st);
out:
	touch_fini(&t);
	return (v);
}

/* ---- the child's side ---------------------------------------------------- */

/* The monitor could not check (its state store, say): it audited why. */
static void
touch_cannot(struct touch *t, const char *why)
{
	touch_tell(t, "bastion: the bastion cannot check your security key "
	    "right now (%s). Try again later, or call the hospital's IT.\n",
	    why);
}

/* The child cannot go on (its own failure): audited here, told. */
static void
touch_internal(struct touch *t, const char *why)
{
	touch_audit(t, bev_name(BEV_TOUCH_ERROR), "refused", why, NULL);
	touch_cannot(t, why);
}

/* An I/O failure talking to the agent, as the engineer should hear it. */
static void
touch_agent_failed(struct touch *t, int r, const char *doing)
{
	char why[160];

	snprintf(why, sizeof(why), "agent connection failed while %s: %s",
	    doing, berr_str(r));
	touch_audit(t, bev_name(BEV_TOUCH_NO_AGENT), "refused", why, NULL);
	touch_tell(t, "bastion: talking to your ssh agent failed while %s "
	    "(%s).\n", doing, berr_str(r));
	touch_hint(t);
}

/* Does the forwarded agent hold the login key? 0 if so. */
static int
touch_agent_has_key(struct touch *t)
{
	struct buf *req;
	uint8_t *reply = NULL;
	size_t len;
	int r, has = 0;

	if ((req = buf_new(16)) == NULL) {
		touch_internal(t, "out of memory");
		return (-1);
	}
	if ((r = agent_msg_identities(req)) == 0 &&
	    (r = touch_roundtrip(t, req, TOUCH_LIST_WAIT_S, AGENT_MAX_REPLY,
	    &reply, &len)) == 0)
		r = agent_parse_identities(reply, len, t->blob, t->bloblen,
		    &has);
	buf_free(req);
	free(reply);
	if (r != 0 && r != BERR_DENIED) {
		touch_agent_failed(t, r, "listing its keys");
		return (-1);
	}
	if (!has) {
		touch_audit(t, bev_name(BEV_TOUCH_NO_AGENT),
		    "refused", "the forwarded "
		    "agent does not hold the login key", NULL);
		touch_tell(t, "bastion: your ssh agent does not hold the "
		    "security key you logged in with (%s %s).\n",
		    sk_key_type(&t->sk), t->fp);
		touch_hint(t);
		return (-1);
	}
	return (0);
}

/* Ask the agent to sign the challenge; *sig (heap, caller frees) is the
 * signature blob as the agent gave it (the monitor takes it apart). */
static int
touch_agent_sign(struct touch *t, const uint8_t *chal, size_t challen,
    uint8_t **sig, size_t *siglen)
{
	const uint8_t *blob;
	struct buf *req;
	uint8_t *reply = NULL;
	size_t len, bloblen;
	int r;

	*sig = NULL;
	*siglen = 0;
	if ((req = buf_new(SK_MAX_BLOB + 256)) == NULL) {
		touch_internal(t, "out of memory");
		return (-1);
	}
	r = agent_msg_sign(req, t->blob, t->bloblen, chal, challen);
	if (r == 0)
		r = touch_roundtrip(t, req, TOUCH_WAIT_S, AGENT_MAX_SIGN_REPLY,
		    &reply, &len);
	buf_free(req);
	if (r == BERR_TIMEOUT) {
		touch_audit(t, bev_name(BEV_TOUCH_NO_TOUCH), "refused",
		    "no answer within 60 seconds", NULL);
		touch_tell(t, "bastion: your security key was not touched "
		    "within %d seconds.\n", TOUCH_WAIT_S);
		return (-1);
	}
	if (r != 0) {
		touch_agent_failed(t, r, "asking for the signature");
		return (-1);
	}
	r = agent_parse_sign(reply, len, &blob, &bloblen);
	if (r == 0 && (*sig = malloc(bloblen)) == NULL)
		r = BERR_NOMEM;
	if (r == 0) {
		memcpy(*sig, blob, bloblen);
		*siglen = bloblen;
	}
	free(reply);
	if (r == BERR_DENIED) {
		touch_audit(t, bev_name(BEV_TOUCH_NO_AGENT), "refused",
		    "the agent refused to sign", NULL);
		touch_tell(t, "bastion: your ssh agent refused to sign with "
		    "your security key. It was not touched in time, is not "
		    "plugged in, the PIN was not given, or the key was added "
		    "with ssh-add -h (destination constraints), which cannot "
		    "answer this check: add it again without -h.\n");
		return (-1);
	}
	if (r != 0) {
		touch_audit(t, bev_name(BEV_TOUCH_BAD_SIGNATURE),
		    "refused", "malformed "
		    "answer from the agent", NULL);
		touch_tell(t, "bastion: your ssh agent's answer is not a "
		    "security-key signature; refused.\n");
		return (-1);
	}
	return (0);
}

/* The agent's part (4): list, ask, then the monitor's verdict (5, 6). */
static int
touch_ask(struct touch *t, const uint8_t *chal, size_t challen)
{
	struct sess *S = t->S;
	enum mm_verdict v;
	uint32_t counter, prev;
	time_t until = 0;
	char hhmm[32];
	size_t siglen;
	uint8_t *sig = NULL;

	/* -2: failed before the monitor was asked (it holds the key's
	 * guard until told) */
	if ((t->ach = ssh_channel_new(S->vs)) == NULL ||
	    ssh_channel_open_auth_agent(t->ach) != SSH_OK) {
		touch_audit(t, bev_name(BEV_TOUCH_NO_AGENT),
		    "refused", "the client "
		    "refused the agent channel", NULL);
		touch_tell(t, "bastion: your ssh client forwards an agent but "
		    "has none to reach (is ssh-agent running, and "
		    "SSH_AUTH_SOCK set where you run ssh?).\n");
		touch_hint(t);
		return (-2);
	}
	if (touch_agent_has_key(t) != 0)
		return (-2);
	touch_tell(t, "bastion: touch your security key to %s%s\n",
	    t->what, t->key->verify_required ? " (and enter its PIN if "
	    "asked)" : "");
	if (touch_agent_sign(t, chal, challen, &sig, &siglen) != 0)
		return (-2);
	v = mm_touch_verify(sig, siglen, &counter, &prev, &until);
	free(sig);
	switch (v) {
	case MM_V_OK:
		if (until != 0) {
			/* the monitor audited touch.window_opened */
			touch_hhmm(until, hhmm, sizeof(hhmm));
			touch_tell(t, "bastion: transfers from this computer "
			    "to %s are admitted without a touch until %s "
			    "(pscp, psftp, WinSCP, or sftp and scp without "
			    "-A)\n", t->device, hhmm);
		}
		return (0);
	case MM_V_BAD_SIGNATURE:
		touch_tell(t, "bastion: the answer from your agent is not your "
		    "security key's signature over this session's challenge; "
		    "refused.\n");
		return (-1);
	case MM_V_NO_TOUCH:
		touch_tell(t, "bastion: your security key signed without being "
		    "touched. Touch it when it blinks.\n");
		return (-1);
	case MM_V_NO_PIN:
		touch_tell(t, "bastion: your security key is registered as "
		    "verify-required, but it signed without verifying your "
		    "PIN. Enter the PIN when your agent asks for it.\n");
		return (-1);
	case MM_V_REGRESSION:
		touch_tell(t, "bastion: your security key's signature counter "
		    "went backwards (%lu after %lu). That is how a copied key "
		    "shows itself, so the key is now locked. Call the "
		    "hospital's bastion administrator.\n",
		    (unsigned long)counter, (unsigned long)prev);
		return (-1);
	default:
		touch_cannot(t, "signature check failed");
		return (-1);
	}
}

/* "5 minutes", "30 seconds" */
static void
touch_span(unsigned s, char *out, size_t len)
{
	if (s >= 60 && s % 60 == 0)
		snprintf(out, len, "%u minute%s", s / 60, s == 60 ? "" : "s");
	else
		snprintf(out, len, "%u second%s", s, s == 1 ? "" : "s");
}

/* What a PuTTY user does: PuTTY's pscp, psftp and WinSCP forward no
 * agent, so a touch made beforehand in a session that does opens a
 * transfer window for them (the monitor's touch_mon_window). */
static void
touch_putty_hint(struct touch *t, unsigned window_s)
{
	struct sess *S = t->S;
	const char *who = S->au.who->name, *dev = t->device;
	char span[32];

	if (window_s == 0) {
		touch_tell(t, "bastion: with PuTTY: pscp, psftp and WinSCP "
		    "cannot forward an agent, and this bastion admits no "
		    "transfer without a touch of its own "
		    "(limits.touch_transfer_window is 0). Use plink -A or "
		    "OpenSSH's sftp -A / scp -A instead.\n");
		return;
	}
	touch_span(window_s, span, sizeof(span));
	touch_tell(t, "bastion: with PuTTY (pscp, psftp, WinSCP), which cannot "
	    "forward an agent: from this computer, first make a session with "
	    "agent forwarding and touch your security key:\n"
	    "\n"
	    "    plink -A %s+%s@bastion true\n"
	    "    (or: ssh -A %s+%s@bastion true)\n"
	    "\n"
	    "bastion: then run pscp, psftp or WinSCP (SFTP) to %s within %s: "
	    "transfers from this computer to %s are admitted without a "
	    "touch for %s after it.\n", who, dev, who, dev, dev, span, dev,
	    span);
}

/* No agent to ask: what the person should do (the monitor audited it). */
static void
touch_no_agent(struct touch *t, int transfer, unsigned window_s)
{
	struct sess *S = t->S;

	if (!t->key->is_sk && S->vch != NULL) {
		/* an engineer with a security key who logged in with
		 * another key (touch_mon_begin) */
		touch_tell(t, "bastion: %s needs a touch of your security "
		    "key, and the key you logged in with (%s) is not a "
		    "security key.\n", t->doing, t->fp);
		if (transfer && window_s > 0)
			touch_tell(t, "bastion: no transfer window is open for "
			    "%s from this computer (it may have ended).\n",
			    t->device);
		else if (!transfer)
			touch_tell(t, "bastion: only a file transfer (sftp, "
			    "scp, pscp, psftp, WinSCP) can be admitted "
			    "without a touch; for anything else log in with "
			    "your security key: ssh -A %s+%s@bastion\n",
			    S->au.who->name, t->device);
		touch_putty_hint(t, window_s);
		return;
	}

	if (S->vch == NULL) {
		if (S->au.role == ROLE_ENGINEER)
			touch_tell(t, "bastion: port forwarding needs a touch "
			    "of your security key first, and a connection "
			    "without a session (ssh -N, ssh -W) cannot carry "
			    "that request. Keep a session open instead: ssh -A "
			    "-L PORT:DEVICE:PORT %s+DEVICE@bastion",
			    S->au.who->name);
		else
			touch_tell(t, "bastion: the %s console needs a touch "
			    "of your security key first, and a connection "
			    "without a session (ssh -N, ssh -W) cannot carry "
			    "that request. Connect with: ssh -A %s@bastion "
			    "VERB", S->au.role == ROLE_ADMIN ? "admin" :
			    "auditor", S->au.who->name);
		return;
	}
	touch_tell(t, "bastion: %s needs a touch of your security key, asked "
	    "through your ssh agent, but this connection does not forward "
	    "your agent.\n", t->doing);
	touch_hint(t);
	if (S->au.role == ROLE_ENGINEER)
		touch_putty_hint(t, window_s);
	(void)transfer;
}

int
touch_check(struct sess *S)
{
	struct mm_touch_ask ask;
	struct touch t;
	unsigned left;
	char hhmm[32];
	int r = -1, transfer;

	if (touch_init(&t, S) == -1) {
		touch_fini(&t);
		return (-1);
	}
	transfer = S->au.role == ROLE_ENGINEER && S->vch != NULL &&
	    touch_is_transfer(S->kind, S->command);
	/* the touch is not part of the login grace: give it its own time */
	left = alarm(0);
	alarm(TOUCH_GUARD_WAIT_S + TOUCH_LIST_WAIT_S + TOUCH_WAIT_S + 30);
	mm_touch_begin(S->agent_req, S->vch != NULL, 0, transfer, &ask);
	if (ask.status == MM_TOUCH_BUSY) {
		touch_tell(&t, "bastion: another session of your security key "
		    "is being checked; waiting for it.\n");
		mm_touch_begin(S->agent_req, S->vch != NULL, 1, transfer,
		    &ask);
	}
	switch (ask.status) {
	case MM_TOUCH_SKIP:
		r = 0;
		break;
	case MM_TOUCH_WINDOW:
		/* the monitor audited touch.window_used */
		touch_hhmm(ask.until, hhmm, sizeof(hhmm));
		if (S->vch != NULL)
			sess_tell(S, "bastion: admitted without a touch: your "
			    "security key was touched for %s from this "
			    "computer; transfers from this computer to %s are "
			    "admitted without a touch until %s\n", t.device,
			    t.device, hhmm);
		S->touch_window = 1;	/* no forwards (relay_forward_check) */
		r = 0;
		break;
	case MM_TOUCH_ASK:
		if ((r = touch_ask(&t, ask.challenge,
		    sizeof(ask.challenge))) == -2) {
			uint32_t c, p;
			time_t u;

			(void)mm_touch_verify(NULL, 0, &c, &p, &u);
			r = -1;
		}
		break;
	case MM_TOUCH_LOCKED:
		touch_tell(&t, "bastion: your security key %s is locked (%s). "
		    "Ask the hospital's bastion administrator to check it; "
		    "they unlock it with: bastionctl unlock %s\n", t.fp,
		    ask.why, S->au.who->name);
		break;
	case MM_TOUCH_NO_AGENT:
		touch_no_agent(&t, transfer, ask.window_s);
		break;
	default:
		touch_cannot(&t, ask.why[0] != '\0' ? ask.why :
		    "internal error");
		break;
	}
	touch_fini(&t);
	alarm(left);
	if (r == 0)
		S->touch_ok = 1;
	return (r);
}
