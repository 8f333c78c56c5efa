/*
 * checkpoint.c - the listener's signed checkpoints of its audit chain
 * (docs/AUDIT.md section 10; the row and its text: store/auditckpt.h).
 *
 * Every store: checkpoint_interval (default 5 minutes) and once more at a
 * clean stop (after bastion.stop), the listener
 *
 *   1. reads the newest checkpoint row of every other node in the state
 *      store (their chains' heads as they signed them: the peers);
 *   2. appends "audit.checkpoint node=NAME peers=... reason=..." to its
 *      own chain: that line, its seq and hash, is the head it commits,
 *      so the chain names the checkpoint and the row names the line;
 *   3. signs node, seq, hash, time and peers with the node's audit key
 *      and inserts the row.
 *
 * The audit key is Ed25519 (OpenSSL, recorder/lib/reckey.h), STATE_DIR/
 * audit.key, mode 0600, bastiond's alone; STATE_DIR/audit.key.pub is the
 * public half for auditors, also published in the store (audit_node_key)
 * at the first start. It is made at the first start when there is none,
 * as `bastiond --init` makes host keys: a bastiond that can neither load
 * nor make it does not start. Everything runs on the listener's loop and
 * its own store connection; a checkpoint that fails is logged and tried
 * again at the next interval (the chain goes on regardless).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "auditckpt.h"
#include "auditlog.h"
#include "err.h"
#include "hex.h"
#include "listener.h"
#include "log.h"
#include "reckey.h"
#include "state.h"

static struct checkpoint {
	uv_timer_t timer;
	int open;
	struct reckey *key;
	char node[CKPT_NODE_MAX + 1];
} K;

/* STATE_DIR/audit.key into out. */
static int
checkpoint_key_path(const struct policy *pol, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/" CKPT_KEY_FILE, pol->state_dir);

	return (n < 0 || (size_t)n >= len ? BERR_LIMIT : 0);
}

/* Load the node's audit key, making it at the first start. */
static int
checkpoint_key(const struct policy *pol, struct reckey **out)
{
	char path[4096];
	struct reckey *k = NULL;
	int r;

	if ((r = checkpoint_key_path(pol, path, sizeof(path))) != 0)
		return (r);
	if ((r = reckey_load_private(path, out)) != BERR_NOTFOUND)
		return (r);
	if ((r = reckey_generate(&k)) == 0 && (r = reckey_save(k, path)) == 0)
		log_info("audit key %s made (its public half: %s.pub)", path,
		    path);
	reckey_free(k);
	return (r != 0 ? r : reckey_load_private(path, out));
}

static void
checkpoint_timer_cb(uv_timer_t *t)
{
	checkpoint_write(t->data, "interval");
}

int
checkpoint_start(struct listener *L)
{
	const struct policy *pol = L->boot;
	char fp[RECKEY_FP_LEN], *pem = NULL;
	int r, same = 0;

	memset(&K, 0, sizeof(K));
	snprintf(K.node, sizeof(K.node), "%s", pol->store_node != NULL ?
	    pol->store_node : "bastion");
	if ((r = checkpoint_key(pol, &K.key)) != 0) {
		log_error("audit key %s/" CKPT_KEY_FILE ": %s " "\xe2\x80"
		    "\x94 it must be bastiond's, mode 0600; move a damaged one "
		    "aside and start again to make a new one", pol->state_dir,
		    berr_str(r));
		return (r);
	}
	reckey_fingerprint(K.key, fp);
	if ((r = reckey_public_pem(K.key, &pem)) == 0)
		r = state_ckpt_key_put(L->st, K.node, pem, &same);
	free(pem);
	if (r != 0)
		log_error("audit key of node %s not published in the state "
		    "store: %s (%s)", K.node, berr_str(r), state_errmsg(L->st));
	else if (!same)
		log_warn("the state store holds another audit key for node %s "
		    "than %s/" CKPT_KEY_FILE ".pub (%s): auditors must "
		    "be given this node's new key", K.node, pol->state_dir, fp);
	log_info("audit checkpoints of node %s every %u s, signed with %s",
	    K.node, pol->store_checkpoint_s, fp);
	uv_timer_init(L->loop, &K.timer);
	K.timer.data = L;
	K.open = 1;
	uv_timer_start(&K.timer, checkpoint_timer_cb,
	    (uint64_t)pol->store_checkpoint_s * 1000,
	    (uint64_t)pol->store_checkpoint_s * 1000);
	return (0);
}

void
checkpoint_write(struct listener *L, const char *reason)
{
	char peers[CKPT_PEERS_TEXT_MAX], msg[CKPT_LINE_MAX];
	uint8_t sig[CKPT_SIG_LEN];
	char before_hash[AUDITLOG_HEX_LEN + 1];
	struct ckpt c;
	uint64_t before = 0;
	size_t n;
	int r;

	if (K.key == NULL)
		return;
	memset(&c, 0, sizeof(c));
	snprintf(c.node, sizeof(c.node), "%s", K.node);
	if ((r = state_ckpt_heads(L->st, c.node, &c)) != 0 ||
	    (r = ckpt_peers_format(&c, peers, sizeof(peers))) != 0) {
		log_error("audit checkpoint: the other nodes' heads cannot be "
		    "read: %s (%s); trying again in %u s", berr_str(r),
		    state_errmsg(L->st), L->boot->store_checkpoint_s);
		return;
	}
	(void)auditlog_last(&before, before_hash);
	if (audit_ev(BEV_AUDIT_CHECKPOINT, "node", c.node, "peers", peers,
	    "reason", reason, NULL) != 0 ||
	    auditlog_last(&c.seq, c.hash) != 0 || c.seq == before) {
		log_error("audit checkpoint: its line is not in the chain; "
		    "trying again in %u s", L->boot->store_checkpoint_s);
		return;
	}
	c.ts = (int64_t)time(NULL);
	if ((r = ckpt_signed_text(&c, msg, sizeof(msg), &n)) != 0 ||
	    (r = reckey_sign(K.key, msg, n, sig)) != 0) {
		log_error("audit checkpoint: cannot sign: %s", berr_str(r));
		return;
	}
	hex_encode(sig, sizeof(sig), c.sig);
	if ((r = state_ckpt_put(L->st, &c, &c.id)) != 0) {
		log_error("audit checkpoint of seq %llu not stored: %s (%s); "
		    "the next one commits it", (unsigned long long)c.seq,
		    berr_str(r), state_errmsg(L->st));
		return;
	}
	log_info("audit checkpoint %lld: node %s seq %llu, %zu other "
	    "node%s", (long long)c.id, c.node, (unsigned long long)c.seq,
	    c.npeers, c.npeers == 1 ? "" : "s");
}

void
checkpoint_stop(void)
{
	if (K.open && !uv_is_closing((uv_handle_t *)&K.timer))
		uv_close((uv_handle_t *)&K.timer, NULL);
	K.open = 0;
}

void
checkpoint_free(void)
{
	reckey_free(K.key);
	K.key = NULL;
}
