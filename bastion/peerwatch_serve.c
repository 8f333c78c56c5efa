/*
 * peerwatch_serve.c - the session's node's side of a watch from another
 * node (issue 20; docs/SCALE-OUT.md "Watching a session of another
 * node"; the watcher's side and the chunks' encryption are peerwatch.c).
 *
 * The listener (peerwatch_check, on every pushed decision and on its
 * tick) asks the store for requests addressed to this node that nobody
 * has claimed (which also forgets requests past their cap or whose
 * watcher fell silent) and starts one helper for each,
 * `bastiond --peer-watch ID` under the listener's adopted policy, at most
 * PEERWATCH_MAX at once. The listener itself reads nothing of the
 * request but its number.
 *
 * The helper (peerwatch_main) is root, as a monitor is, because only root
 * may read the recorder's WATCH; it confines itself with its own seccomp
 * filter (pwsandbox.c) before it reads the request. It claims the request (once: a second
 * helper for it finds it taken and leaves), and checks it against this
 * node's own facts, not the other node's word: the asking node signed it
 * with the audit key this node's policy pins for it (peerwatch_sign.c);
 * the session is live and
 * runs here; the admin named is an active admin of this node's policy;
 * the key is an age X25519 recipient. A refusal is a "refused" chunk with
 * the reason, and audited. Otherwise it audits session.watch_remote
 * (admin, node, session) and copies the recorder's live output into
 * chunks of at most PEERCHUNK_MAX bytes, gathered for
 * PEERWATCH_GATHER_MS, each encrypted to the watcher's key; the store
 * keeps at most STATE_WATCH_BACKLOG unread, and output that finds no room
 * is counted and announced in the next chunk ("[... N bytes not shown]")
 * rather than waited for. Idle, it sends an empty chunk every
 * PEERWATCH_KEEPALIVE_MS, which is also how it learns that the watcher
 * left (the request is gone). It ends when the session ends (an "end"
 * chunk with the recorder's reason), when the watcher stops or falls
 * silent, or at the cap.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "age.h"
#include "auditlog.h"
#include "bastiond.h"
#include "bclock.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "peerwatch.h"
#include "policy.h"
#include "rec_client.h"
#include "recfmt.h"
#include "spawnfd.h"
#include "state.h"

/* ---- the listener: one helper per new request ------------------------ */

struct pw_proc {
	uv_process_t proc;
	int64_t id;
	struct pw_proc *next;
};

static struct pw_proc *pw_procs;
static unsigned pw_nprocs;

static void
pw_proc_closed(uv_handle_t *h)
{
	struct pw_proc *p = h->data, **pp;

	for (pp = &pw_procs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			pw_nprocs--;
			break;
		}
	free(p);
}

static void
pw_proc_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct pw_proc *p = proc->data;

	if (sig != 0 || status != 0)
		log_warn("watch request %lld: its helper ended (status %lld, "
		    "signal %d)", (long long)p->id, (long long)status, sig);
	uv_close((uv_handle_t *)proc, pw_proc_closed);
}

static int
pw_spawn(const struct state_watch *w, void *arg)
{
	struct listener *L = arg;
	struct pw_proc *p;
	char ids[32];
	int r;

	for (p = pw_procs; p != NULL; p = p->next)
		if (p->id == w->id)
			return (0);	/* started; its claim is under way */
	if (pw_nprocs >= PEERWATCH_MAX) {
		log_warn("watch request %lld of %s on node %s waits: %d "
		    "watches of this node's sessions run already",
		    (long long)w->id, w->admin, w->from_node, PEERWATCH_MAX);
		return (0);
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (0);
	p->id = w->id;
	snprintf(ids, sizeof(ids), "%lld", (long long)w->id);
	p->proc.data = p;
	p->next = pw_procs;
	pw_procs = p;
	pw_nprocs++;
	if ((r = spawnfd_bastiond(L->loop, &p->proc, pw_proc_exit, L->self,
	    "--peer-watch", ids, L->policy_path, L->policy_fd, L->debug,
	    -1)) != 0) {
		log_error("watch request %lld: cannot start its helper: %s",
		    (long long)w->id, uv_strerror(r));
		uv_close((uv_handle_t *)&p->proc, pw_proc_closed);
	}
	return (0);
}

void
peerwatch_check(struct listener *L)
{
	/* one node (SQLite): nobody else can ask */
	if (!L->pol->store_postgresql || L->pol->store_node == NULL ||
	    L->st == NULL || L->stopping)
		return;
	if (state_watch_each(L->st, L->pol->store_node, time(NULL), pw_spawn,
	    L) != 0)
		log_warn("watch requests: the store: %s",
		    state_errmsg(L->st));
}

void
peerwatch_stop(void)
{
	struct pw_proc *p;

	/* the helpers end on their own with the sessions; not waited for */
	for (p = pw_procs; p != NULL; p = p->next)
		(void)uv_process_kill(&p->proc, SIGTERM);
}

/* ---- the helper: bastiond --peer-watch ID ---------------------------- */

struct pw_serve {
	struct state *st;
	struct state_watch w;
	uint8_t pub[AGE_KEY_LEN];
	struct state_watch_chunk k;
	uint8_t buf[PEERCHUNK_MAX];
	size_t len;
	int64_t seq, skipped;	/* the last chunk stored; bytes dropped */
	int64_t first_ms, put_ms;	/* the oldest byte held; the last put */
};

/*
 * Put the next chunk: kind "data" (the bytes held, sealed) or another kind
 * with text. 1 stored (or, with no room, its bytes counted as skipped), 0
 * the watcher is gone (stop), or a BERR_* code.
 */
static int
pw_put(struct pw_serve *v, const char *kind, const char *text)
{
	int r, status = 0;

	memset(&v->k, 0, sizeof(v->k));
	v->k.watch = v->w.id;
	v->k.seq = v->seq + 1;
	v->k.skipped = v->skipped;
	snprintf(v->k.kind, sizeof(v->k.kind), "%s", kind);
	if (text != NULL)
		snprintf(v->k.data, sizeof(v->k.data), "%s", text);
	else if ((r = peerchunk_seal(v->pub, v->buf, v->len, v->k.data,
	    sizeof(v->k.data))) != 0)
		return (r);
	if ((r = state_watch_put(v->st, &v->k, time(NULL), &status)) != 0)
		return (r);
	v->put_ms = bclock_mono_ms(NULL);
	if (status == 1) {
		v->seq = v->k.seq;
		v->skipped = 0;
	} else if (status == 2)
		v->skipped += (int64_t)v->len;
	v->len = 0;
	v->first_ms = 0;
	OPENSSL_cleanse(v->buf, sizeof(v->buf));
	return (status != 0);
}

/* The request's checks against this node's own facts: NULL, or why not
 * (for the watcher and the audit). */
static const char *
pw_refuse(const struct policy *pol, struct pw_serve *v,
    const struct state_session *s, int found)
{
	struct policy_person *who;
	enum policy_role role = ROLE_NONE;
	const char *no;

	/* first: that the asking node asks at all */
	if ((no = peerwatch_verify(pol, &v->w)) != NULL)
		return (no);
	if (!found || s->ended != 0)
		return ("the session is not live on this node");
	if (strcmp(s->node, pol->store_node) != 0)
		return ("the session does not run on this node");
	if ((who = policy_person(pol, v->w.admin, &role)) == NULL ||
	    role != ROLE_ADMIN || !policy_person_active(who, time(NULL)))
		return ("the admin is not an active admin in this node's "
		    "policy");
	if (age_recipient_decode(v->w.recipient, v->pub) != 0)
		return ("the request's key is not an X25519 recipient");
	return (NULL);
}

/* 0, or not chained (the watch is then refused: nobody watches a session
 * unrecorded in this node's chain). */
static int
pw_audit(const struct pw_serve *v, const struct state_session *s,
    const char *status, const char *reason)
{
	char sid[32];

	snprintf(sid, sizeof(sid), "%lld", (long long)v->w.session);
	return (audit_ev(BEV_SESSION_WATCH_REMOTE, "session", sid, "admin",
	    v->w.admin, "node", v->w.from_node, "status", status, "user",
	    s->engineer[0] ? s->engineer : "-", "device", s->device[0] ?
	    s->device : "-", "reason", reason != NULL ? reason : "-", NULL));
}

/* Copy the recorder's live output until the session or the watcher ends. */
static void
pw_copy(struct pw_serve *v, struct rec_client *rc)
{
	const uint8_t *p;
	size_t len, k;
	char why[512];
	int r, type;

	/* the first chunk soon, with the screen's tail or empty: the
	 * watcher knows this node answered */
	v->put_ms = bclock_mono_ms(NULL) - PEERWATCH_KEEPALIVE_MS +
	    PEERWATCH_GATHER_MS;
	for (;;) {
		why[0] = '\0';
		r = rec_client_watch_next(rc, 100, &type, &p, &len, why,
		    sizeof(why));
		for (; r == 1 && len > 0; p += k, len -= k) {
			if (v->len == 0)
				v->first_ms = bclock_mono_ms(NULL);
			k = sizeof(v->buf) - v->len < len ?
			    sizeof(v->buf) - v->len : len;
			memcpy(v->buf + v->len, p, k);
			v->len += k;
			if (v->len == sizeof(v->buf) && pw_put(v, "data",
			    NULL) != 1)
				return;
		}
		/* the session ended (0: why is the recorder's reason), or
		 * the recorder stopped this watch (why says why) */
		if (r != 1 && r != BERR_AGAIN) {
			if (why[0] == '\0')
				snprintf(why, sizeof(why), "%s", r == 0 ?
				    "the recording closed" : berr_str(r));
			if (v->len == 0 || pw_put(v, "data", NULL) == 1)
				(void)pw_put(v, r == 0 ? "end" : "refused",
				    why);
			return;
		}
		if ((v->len > 0 && bclock_mono_ms(NULL) - v->first_ms >=
		    PEERWATCH_GATHER_MS) || bclock_mono_ms(NULL) - v->put_ms >=
		    PEERWATCH_KEEPALIVE_MS) {
			if ((r = pw_put(v, "data", NULL)) != 1) {
				if (r != 0)
					log_warn("watch request %lld: %s",
					    (long long)v->w.id, berr_str(r));
				return;
			}
		}
	}
}

/* Claimed v->w: check it, audit, serve. */
static int
pw_serve_one(const struct policy *pol, struct pw_serve *v)
{
	struct state_session s;
	struct rec_client *rc = NULL;
	char id[REC_SESSION_ID_MAX + 1], why[512];
	const char *no;
	int found = 0;

	memset(&s, 0, sizeof(s));
	if (state_session_get(v->st, v->w.session, &s, &found) != 0) {
		(void)pw_put(v, "refused", "the session's node cannot read its "
		    "store now");
		return (1);
	}
	if ((no = pw_refuse(pol, v, &s, found)) == NULL &&
	    console_recording_id(&s, id, sizeof(id)) != 0)
		no = "the session has no live recording";
	if (no == NULL && rec_client_watch(pol->recorder_socket, id, &rc, why,
	    sizeof(why)) != 0)
		no = why;
	if (pw_audit(v, &s, no == NULL ? "ok" : "refused", no) != 0 &&
	    no == NULL)
		no = "the session's node cannot write its audit chain";
	if (no != NULL) {
		log_warn("watch request %lld (session %lld, %s on node %s) "
		    "refused: %s", (long long)v->w.id, (long long)v->w.session,
		    v->w.admin, v->w.from_node, no);
		(void)pw_put(v, "refused", no);
		rec_client_free(rc);
		return (1);
	}
	log_info("watch request %lld: %s on node %s watches session %lld",
	    (long long)v->w.id, v->w.admin, v->w.from_node,
	    (long long)v->w.session);
	pw_copy(v, rc);
	rec_client_free(rc);
	return (0);
}

int
peerwatch_main(const char *policy_path, const char *idstr, int debug)
{
	struct policy *pol = NULL;
	struct pw_serve *v = NULL;
	char *end;
	long long id;
	int r, found = 0, rc = 1;

	log_init(PEERWATCH_HELPER, !debug, debug ? LOG_LVL_DEBUG :
	    LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	id = strtoll(idstr, &end, 10);
	if (*idstr == '\0' || *end != '\0' || id <= 0) {
		log_error("--peer-watch: not a request number: %s", idstr);
		return (2);
	}
	if (policy_load(policy_path, NULL, NULL, &pol) != 0 ||
	    pol->store_node == NULL) {
		log_error("watch request %lld: the policy cannot be loaded or "
		    "names no store node", id);
		goto out;
	}
	/* the chain held open: appended to without an open() if the store
	 * actor does not take the event */
	(void)auditlog_open(pol->state_dir, 0);
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (r = state_configure(pol)) != 0 ||
	    (r = state_open(pol->state_dir, &v->st)) != 0) {
		log_error("watch request %lld: the store cannot be opened", id);
		goto out;
	}
	/* confined before the first byte of the request (pwsandbox.c), the
	 * time zone read first (syslog's stamps would open it lazily) */
	tzset();
	if (peerwatch_sandbox() != 0) {
		log_error("watch request %lld: cannot install the helper's "
		    "seccomp filter: not served", id);
		goto out;
	}
	if ((r = state_watch_claim(v->st, id, pol->store_node, time(NULL),
	    &v->w, &found)) != 0 || !found) {
		rc = r == 0 ? 0 : 1;	/* another helper has it, or gone */
		goto out;
	}
	rc = pw_serve_one(pol, v);
out:
	if (v != NULL) {
		state_close(v->st);
		OPENSSL_clear_free(v, sizeof(*v));
	}
	policy_free(pol);
	auditlog_close();
	return (rc);
}
