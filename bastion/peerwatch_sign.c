/*
 * peerwatch_sign.c - a watch request from another node is signed by the
 * asking node and checked against the key the session's node pins for it
 * in its own policy (docs/SCALE-OUT.md "Watching a session of another
 * node"). Without it, whoever can write to the shared database could ask
 * a node to stream a live session to a key of their choosing.
 *
 * The asking node (B: the admin's monitor, control or web worker, all
 * root) draws a random request id of its own (the row's number is the
 * database's, known only after the row exists) and signs, with its audit
 * key (Ed25519, STATE_DIR/audit.key, made by the listener at its first
 * start: bastion/checkpoint.c), the message
 *
 *   bastion-watch-v1\n  then, one a line, each field as LENGTH:VALUE\n:
 *   session, admin, from node, to node, recipient, expires, nonce
 *
 * (lengths make it unambiguous whatever a field holds). The session's
 * node (A's helper) finds the asking node's key in its policy's store:
 * nodes: and verifies; no key pinned for that node, a signature missing,
 * malformed or not that key's: refused, with the reason in the refusal
 * chunk and in A's audit chain. A key published in the same database
 * (audit_node_key) is not used: a database writer could replace it.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "auditckpt.h"
#include "bastiond.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "peerwatch.h"
#include "policy.h"
#include "reckey.h"
#include "state.h"

#define PW_MSG_MAX	1024
#define PW_PEM_MAX	256

/* The signed message of w into out: its length, or 0 if too long. */
static size_t
pw_message(const struct state_watch *w, char *out, size_t len)
{
	char session[32], expires[32];
	int n;

	snprintf(session, sizeof(session), "%lld", (long long)w->session);
	snprintf(expires, sizeof(expires), "%lld", (long long)w->expires);
	n = snprintf(out, len, "bastion-watch-v1\n%zu:%s\n%zu:%s\n%zu:%s\n"
	    "%zu:%s\n%zu:%s\n%zu:%s\n%zu:%s\n", strlen(session), session,
	    strlen(w->admin), w->admin, strlen(w->from_node), w->from_node,
	    strlen(w->to_node), w->to_node, strlen(w->recipient),
	    w->recipient, strlen(expires), expires, strlen(w->nonce),
	    w->nonce);
	return (n < 0 || (size_t)n >= len ? 0 : (size_t)n);
}

int
peerwatch_sign(const struct policy *pol, struct state_watch *w)
{
	uint8_t nonce[STATE_WATCH_NONCE_HEX / 2], sig[REC_SIG_LEN];
	char path[4096], msg[PW_MSG_MAX];
	struct reckey *k = NULL;
	size_t n;
	int r;

	if (snprintf(path, sizeof(path), "%s/" CKPT_KEY_FILE,
	    pol->state_dir) >= (int)sizeof(path))
		return (BERR_LIMIT);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return (BERR_CRYPTO);
	hex_encode(nonce, sizeof(nonce), w->nonce);
	if ((n = pw_message(w, msg, sizeof(msg))) == 0)
		return (BERR_LIMIT);
	if ((r = reckey_load_private(path, &k)) != 0) {
		log_error("watch request: this node's audit key %s: %s", path,
		    berr_str(r));
		return (r);
	}
	if ((r = reckey_sign(k, msg, n, sig)) == 0)
		hex_encode(sig, sizeof(sig), w->sig);
	reckey_free(k);
	return (r);
}

const char *
peerwatch_verify(const struct policy *pol, const struct state_watch *w)
{
	uint8_t sig[REC_SIG_LEN];
	char pem[PW_PEM_MAX], msg[PW_MSG_MAX];
	struct reckey *k = NULL;
	const char *key;
	size_t n;
	int r;

	if ((key = policy_node_key(pol, w->from_node)) == NULL)
		return ("the asking node has no audit key pinned in this "
		    "node's policy (store: nodes)");
	if (w->sig[0] == '\0')
		return ("the request is not signed by the asking node");
	if (strlen(w->nonce) != STATE_WATCH_NONCE_HEX ||
	    strlen(w->sig) != STATE_WATCH_SIG_HEX ||
	    hex_decode(w->sig, sig, sizeof(sig)) != 0 ||
	    (n = pw_message(w, msg, sizeof(msg))) == 0)
		return ("the request's signature is malformed");
	if (snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n%s\n"
	    "-----END PUBLIC KEY-----\n", key) >= (int)sizeof(pem) ||
	    reckey_from_public_pem(pem, strlen(pem), &k) != 0)
		return ("the asking node's pinned key cannot be read");
	r = reckey_verify(k, msg, n, sig);
	reckey_free(k);
	return (r != 0 ? "the request's signature is not the asking node's "
	    "pinned key's" : NULL);
}
