/*
 * peerwatch.c - `watch` of a session that runs on another node of a shared
 * store (issue 20; docs/SCALE-OUT.md "Watching a session of another
 * node"): the watcher's side (the chunks' encryption both sides use is
 * recorder/lib/peerchunk.c).
 *
 * The live output of a session is in the recorder of its node only. No
 * node listens for another: the nodes already trust the shared database
 * for decisions, so the watch goes through it. The watcher (the admin's
 * monitor, control worker or web worker on node B) makes an ephemeral
 * X25519 key for this one watch and files a request naming the session,
 * the admin, both nodes and the key's public half, signed with this
 * node's audit key (peerwatch_sign.c; state_watch_open, pushed to node A
 * by NOTIFY). Node A's helper (peerwatch_serve.c) checks
 * the request against its own policy and registry, reads the recorder's
 * WATCH and appends the output as chunks, each an age file (age.c:
 * X25519, ChaCha20-Poly1305) encrypted to that key; B takes them in
 * order, deletes them as it reads, decrypts them in memory and shows them
 * sanitised like a local watch. The secret half never leaves this
 * process and is wiped when the watch ends, so what the database, its WAL
 * and its backups hold of the output cannot be read afterwards by anyone.
 *
 * A chunk is untrusted input here: its order is checked (seq one more
 * than the last), its text is decoded by the one base64 decoder with a
 * bound, its age header parsed with caps, its payload authenticated and
 * at most PEERCHUNK_MAX bytes; anything else ends the watch with a
 * sentence, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "age.h"
#include "bastiond.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "peerchunk.h"
#include "peerwatch.h"
#include "sanitize.h"
#include "state.h"
#include "verb.h"

#define PEERWATCH_POLL_MS	200

int
peerwatch_elsewhere(const struct policy *pol, const struct state_session *s)
{
	return (s->node[0] != '\0' && pol->store_node != NULL &&
	    strcmp(s->node, pol->store_node) != 0);
}

/* One watch, as the chunks come. */
struct pw_watch {
	struct verb_ctx *c;
	struct sanitize *san;
	struct buf *ob;
	uint8_t sec[AGE_KEY_LEN];
	uint8_t plain[PEERCHUNK_MAX];
	int64_t seq;		/* the last chunk's */
	time_t heard;		/* the last chunk came then */
	int ended, failed;
	char why[256];
};

/* The other node's end reason, as text for the admin's terminal. */
static void
pw_reason(char *why, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		why[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	why[i] = '\0';
}

static int
pw_chunk(const struct state_watch_chunk *k, void *arg)
{
	struct pw_watch *w = arg;
	size_t n;
	int r = BERR_FORMAT;

	if (w->ended || w->failed)
		return (0);	/* the rest is not ours to show */
	if (k->seq != w->seq + 1 || k->skipped < 0) {
		w->failed = 1;
		snprintf(w->why, sizeof(w->why), "chunk %lld came after %lld: "
		    "out of order; stopped", (long long)k->seq,
		    (long long)w->seq);
		return (0);
	}
	w->seq = k->seq;
	w->heard = time(NULL);
	if (k->skipped > 0)
		fprintf(w->c->out, "\r\n[... %lld bytes not shown]\r\n",
		    (long long)k->skipped);
	if (strcmp(k->kind, "end") == 0 || strcmp(k->kind, "refused") == 0) {
		w->ended = k->kind[0] == 'e';
		w->failed = !w->ended;
		pw_reason(w->why, sizeof(w->why), k->data);
		return (0);
	}
	if (strcmp(k->kind, "data") != 0 ||
	    (r = peerchunk_open(w->sec, k->data, w->plain, &n)) != 0) {
		w->failed = 1;
		snprintf(w->why, sizeof(w->why), "chunk %lld cannot be opened "
		    "(%s); stopped", (long long)k->seq, strcmp(k->kind,
		    "data") != 0 ? "unknown kind" : berr_str(r));
		return (0);
	}
	console_emit(w->c, w->san, w->ob, w->plain, n);
	OPENSSL_cleanse(w->plain, n);
	return (0);
}

/* Ask s's node; 0 with *id, or 1 after saying why. */
static int
pw_ask(struct pw_watch *w, const struct state_session *s, int64_t *id)
{
	struct verb_ctx *c = w->c;
	struct state_watch q;
	uint8_t pub[AGE_KEY_LEN];
	int r;

	memset(&q, 0, sizeof(q));
	q.session = s->sid;
	snprintf(q.admin, sizeof(q.admin), "%s", c->admin);
	snprintf(q.from_node, sizeof(q.from_node), "%s", c->pol->store_node);
	snprintf(q.to_node, sizeof(q.to_node), "%s", s->node);
	q.expires = time(NULL) + PEERWATCH_CAP_S;
	if ((r = age_identity_generate(w->sec)) != 0 ||
	    (r = age_identity_public(w->sec, pub)) != 0 ||
	    (r = age_recipient_encode(pub, q.recipient,
	    sizeof(q.recipient))) != 0) {
		fprintf(c->err, "watch: cannot ask node %s for session %lld "
		    "(%s)\n", s->node, (long long)s->sid, berr_str(r));
		return (1);
	}
	/* signed with this node's audit key: A serves only that */
	if ((r = peerwatch_sign(c->pol, &q)) != 0) {
		fprintf(c->err, "watch: cannot sign the request to node %s "
		    "with this node's audit key (%s)\n", s->node,
		    berr_str(r));
		return (1);
	}
	if ((r = state_watch_open(c->st, &q, id)) != 0) {
		fprintf(c->err, "watch: cannot ask node %s for session %lld "
		    "(%s: %s)\n", s->node, (long long)s->sid, berr_str(r),
		    state_errmsg(c->st));
		return (1);
	}
	return (0);
}

int
peerwatch_follow(struct verb_ctx *c, const struct state_session *s,
    int from_start)
{
	struct pw_watch *w;
	struct state_sub *sub = NULL;
	time_t asked;
	int64_t id = 0;
	int r, found, stopped = 0, rc = 1;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->san = sanitize_new(c->terminal ? 0 : SANITIZE_TEXT)) == NULL ||
	    (w->ob = buf_new(3 * PEERCHUNK_MAX + SANITIZE_SLACK)) == NULL) {
		fprintf(c->err, "watch: out of memory\n");
		goto out;
	}
	w->c = c;
	if (from_start)
		fprintf(c->err, "watch: session %lld runs on node %s, whose "
		    "recorder shows its last output and what follows, not the "
		    "start\n", (long long)s->sid, s->node);
	if (pw_ask(w, s, &id) != 0)
		goto out;
	/* woken by each chunk's push; without one, a poll */
	(void)state_subscribe(c->st, STATE_EV_WATCH_DATA, id, &sub);
	asked = w->heard = time(NULL);
	for (;;) {
		r = state_watch_take(c->st, id, time(NULL), pw_chunk, w,
		    &found);
		fflush(c->out);
		if (r != 0) {
			snprintf(w->why, sizeof(w->why), "the store failed "
			    "(%s); stopped", state_errmsg(c->st));
			w->failed = 1;
			break;
		}
		if (w->ended || w->failed)
			break;
		if (!found) {
			snprintf(w->why, sizeof(w->why), "the watch request "
			    "is gone from the store (its time ran out, or "
			    "this node read nothing for %d seconds)",
			    STATE_WATCH_STALE_S);
			break;
		}
		if (w->seq == 0 && time(NULL) - asked > PEERWATCH_ANSWER_S) {
			snprintf(w->why, sizeof(w->why), "node %s did not "
			    "answer within %d seconds: is its bastiond "
			    "running?", s->node, PEERWATCH_ANSWER_S);
			w->failed = 1;
			break;
		}
		if (w->seq > 0 && time(NULL) - w->heard > STATE_WATCH_STALE_S) {
			snprintf(w->why, sizeof(w->why), "node %s fell silent "
			    "(nothing for %d seconds)", s->node,
			    STATE_WATCH_STALE_S);
			w->failed = 1;
			break;
		}
		(void)state_await(sub, PEERWATCH_POLL_MS);
		if (c->cancelled != NULL ? c->cancelled(c->cancel_arg, 0) :
		    0) {
			stopped = 1;
			break;
		}
	}
	/* A's helper finds the request gone and stops */
	(void)state_watch_close(c->st, id);
	if (w->failed) {
		fprintf(c->err, "%swatch: session %lld: %s\n", w->seq > 1 ?
		    "\n" : "", (long long)s->sid, w->why);
		goto out;
	}
	console_watch_done(c, s, w->san, w->ob, stopped, w->why);
	rc = 0;
out:
	state_unsubscribe(sub);
	if (w != NULL) {
		buf_free(w->ob);
		sanitize_free(w->san);
		OPENSSL_clear_free(w, sizeof(*w));
	}
	return (rc);
}
