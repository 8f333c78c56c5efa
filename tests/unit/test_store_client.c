/*
 * test_store_client.c - state operations through the store actor
 * (store/store_remote.c, store_serve.c, store_call.c): every operation
 * gives through the actor what it gives on the store itself (one table of
 * steps, each run on a direct store and on one behind an actor, their
 * transcripts compared); errors and the backend's words carry through; a
 * peer the actor does not admit is refused and opens the store itself; a
 * malformed call ends only its own connection; processes writing at once
 * lose no update; lists longer than many datagrams come back whole, and a
 * callback may use the store while a list is walked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "err.h"
#include "state.h"
#include "store_actor.h"
#include "store_call.h"
#include "store_client.h"
#include "store_wire.h"

#include "export_fixture.h"
#include "store_fixture.h"

struct cfix {
	struct fixture *f;		/* no actor: the SQLite backend */
	char actor_dir[PATH_MAX];	/* an actor: the remote backend */
	struct store_actor *a;
	struct state *direct;		/* f->st */
	struct state *remote;
};

static uint64_t
calls_of(struct cfix *x)
{
	struct store_actor_stats st;

	store_actor_stats(x->a, &st);
	return (st.calls);
}

static int
csetup(void **state)
{
	struct cfix *x = calloc(1, sizeof(*x));
	void *inner;
	uint64_t before;

	assert_non_null(x);
	assert_int_equal(setup(&inner), 0);
	x->f = inner;
	x->direct = x->f->st;
	snprintf(x->actor_dir, sizeof(x->actor_dir), "%.200s.actor",
	    x->f->dir);
	assert_int_equal(mkdir(x->actor_dir, 0700), 0);
	assert_int_equal(store_actor_start(x->actor_dir, NULL, NULL, NULL,
	    &x->a), 0);
	before = calls_of(x);
	assert_int_equal(state_open(x->actor_dir, &x->remote), 0);
	assert_true(calls_of(x) > before);	/* it asked the actor */
	*state = x;
	return (0);
}

static int
cteardown(void **state)
{
	struct cfix *x = *state;
	void *inner = x->f;

	state_close(x->remote);
	store_actor_stop(x->a);
	fixture_rmdir(x->actor_dir);
	free(x);
	return (teardown(&inner));
}

/* ---- one table of steps, run on both backends ------------------------ */

struct tr {
	char s[65536];
	size_t len;
};

static void
trf(struct tr *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, sizeof(t->s) - t->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(t->s) - t->len);
	t->len += (size_t)n;
}

/*
 * A row as text, by its column table (store_row.h): each member in table
 * order; times vary by a second between the runs, so only whether one is
 * set.
 */
static void
tr_row(struct tr *t, const struct sq_map *map, const void *row)
{
	const uint8_t *p;
	size_t i;

	trf(t, "{");
	for (i = 0; i < map->ncols; i++) {
		p = (const uint8_t *)row + map->cols[i].off;
		switch (map->cols[i].type) {
		case SQC_TEXT:
			trf(t, " [%s]", (const char *)p);
			break;
		case SQC_TEXTP:
			trf(t, " [%s]", *(const char *const *)(const void *)p);
			break;
		case SQC_I64:
			trf(t, " %lld", (long long)*(const int64_t *)
			    (const void *)p);
			break;
		case SQC_INT:
			trf(t, " %d", *(const int *)(const void *)p);
			break;
		case SQC_TIME:
			trf(t, " %d", *(const time_t *)(const void *)p != 0);
			break;
		}
	}
	trf(t, " }\n");
}

/* A walk's callback, printing each row by its table. */
struct trw {
	struct tr *t;
	const struct sq_map *map;
};

static int
each_row(const void *row, void *arg)
{
	struct trw *w = arg;

	tr_row(w->t, w->map, row);
	return (0);
}

/* each_row as the typed callback of a walk over struct type */
#define EACH(type, t, map) \
	((int (*)(const struct type *, void *))(void (*)(void))each_row), \
	(&(struct trw){ (t), (map) })

/* the first row only: its return value ends the walk */
static int
each_stop(const struct state_request *q, void *arg)
{
	trf(arg, "first %lld, then stop\n", (long long)q->id);
	return (7);
}

static void
unlocked_fp(const char *fp, void *arg)
{
	trf(arg, "unlocked %s\n", fp);
}

static void
st_counters(struct state *st, struct tr *t)
{
	uint32_t prev = 9, c = 9;
	int had = 9, found = 9, r;

	trf(t, "%d ", state_counter_advance(st, FP_A, 5, &prev, &had));
	trf(t, "prev=%u had=%d ", prev, had);
	trf(t, "%d ", state_counter_advance(st, FP_A, 4, &prev, &had));
	trf(t, "prev=%u had=%d ", prev, had);
	trf(t, "%d ", state_counter_advance(st, FP_A, 4000000000u, &prev,
	    &had));
	r = state_counter_get(st, FP_A, &c, &found);
	trf(t, "%d c=%u f=%d ", r, c, found);
	trf(t, "%d ", state_counter_forget(st, FP_A));
	r = state_counter_get(st, FP_A, &c, &found);
	trf(t, "%d c=%u f=%d\n", r, c, found);
}

static void
st_key_locks(struct state *st, struct tr *t)
{
	struct state_lock l;
	size_t n = 9;
	int r, locked;

	trf(t, "%d ", state_key_lock(st, FP_A, "erin", "a clone"));
	trf(t, "%d ", state_key_lock(st, FP_B, "erin", "another"));
	r = state_key_locked(st, FP_A, &locked, &l);
	trf(t, "r=%d locked=%d ", r, locked);
	tr_row(t, &sq_lock_map, &l);
	r = state_key_locked(st, "SHA256:none", &locked, &l);
	trf(t, "r=%d locked=%d ", r, locked);
	tr_row(t, &sq_lock_map, &l);
	r = state_key_lock_oldest(st, "erin", &locked, &l);
	trf(t, "r=%d locked=%d ", r, locked);
	tr_row(t, &sq_lock_map, &l);
	r = state_key_lock_count(st, "erin", &n);
	trf(t, "%d n=%zu ", r, n);
	trf(t, "%d ", state_key_unlock_engineer(st, "erin", &n, unlocked_fp,
	    t));
	trf(t, "n=%zu ", n);
	r = state_key_lock_count(st, "erin", &n);
	trf(t, "%d n=%zu\n", r, n);
}

static void
st_guards(struct state *st, struct tr *t)
{
	struct state_guard *g = NULL, *h = NULL;

	trf(t, "%d ", state_key_guard(st, FP_A, 0, &g));
	trf(t, "%d ", state_key_guard(st, FP_A, 50, &h));
	state_guard_release(g);
	trf(t, "%d\n", state_key_guard(st, FP_A, 0, &h));
	state_guard_release(h);
}

static void
st_enrolments(struct state *st, struct tr *t)
{
	struct state_enrollment e = {
		.fp = FP_A, .engineer = "erin",
		.key_type = "sk-ssh-ed25519@openssh.com",
		.key_line = (char *)"sk-ssh-ed25519@openssh.com AAAA erin@pc",
		.attested = 1, .aaguid = "00112233", .subject = "CN=Yubico",
		.enrolled = 1700000000,
	}, got;
	int found, r;

	trf(t, "%d ", state_enroll_put(st, &e));
	snprintf(e.fp, sizeof(e.fp), "%s", FP_B);
	snprintf(e.engineer, sizeof(e.engineer), "frank");
	trf(t, "%d\n", state_enroll_put(st, &e));
	trf(t, "%d\n", state_enroll_each(st, NULL, EACH(state_enrollment, t,
	    &sq_enroll_map)));
	trf(t, "%d\n", state_enroll_each(st, "frank", EACH(state_enrollment, t,
	    &sq_enroll_map)));
	r = state_enroll_get(st, FP_A, &got, &found);
	trf(t, "%d f=%d ", r, found);
	tr_row(t, &sq_enroll_map, &got);
	free(got.key_line);
	r = state_enroll_get(st, "SHA256:none", &got, &found);
	trf(t, "%d f=%d %p\n", r, found, (void *)got.key_line);
}

static void
st_approvals(struct state *st, struct tr *t)
{
	struct state_request q;
	struct state_grant g;
	int64_t id = 0, id2 = 0, gid = 9;
	int found, r;

	trf(t, "%d ", state_request_create(st, "erin", "acme", "mri",
	    "a ticket", &id));
	trf(t, "%d ", state_request_create(st, "erin", "acme", "ct", NULL,
	    &id2));
	trf(t, "id=%lld id2=%lld\n", (long long)id, (long long)id2);
	r = state_request_get(st, id, &q, &found);
	trf(t, "%d f=%d ", r, found);
	tr_row(t, &sq_request_map, &q);
	r = state_request_get(st, 999, &q, &found);
	trf(t, "%d f=%d\n", r, found);
	trf(t, "%d\n", state_request_approve(st, id, "alice", 3600, 2, &gid));
	trf(t, "gid=%lld\n", (long long)gid);
	trf(t, "%d\n", state_request_approve(st, id, "alice", 3600, 2, &gid));
	trf(t, "%d\n", state_request_approve(st, id, "bob", 1800, 2, &gid));
	trf(t, "gid=%lld\n", (long long)gid);
	trf(t, "%d\n", state_request_approve(st, 999, "bob", 1800, 2, NULL));
	trf(t, "%d ", state_request_finish(st, id2, STATE_REQ_DENIED, "bob",
	    "no ticket"));
	trf(t, "%d ", state_request_finish(st, id2, STATE_REQ_DENIED, NULL,
	    NULL));
	trf(t, "%d\n", state_request_finish(st, 999, STATE_REQ_EXPIRED, NULL,
	    NULL));
	trf(t, "%d\n", state_request_each(st, NULL, 0, EACH(state_request, t,
	    &sq_request_map)));
	trf(t, "%d\n", state_request_each(st, STATE_REQ_DENIED, 1,
	    EACH(state_request, t,
	    &sq_request_map)));
	trf(t, "%d\n", state_request_each(st, NULL, 0, each_stop, t));
	r = state_grant_live(st, "erin", "mri", time(NULL), &g, &found);
	trf(t, "%d f=%d ", r, found);
	tr_row(t, &sq_grant_map, &g);
	r = state_grant_get(st, gid, &g, &found);
	trf(t, "%d f=%d ", r, found);
	tr_row(t, &sq_grant_map, &g);
	trf(t, "%d\n", state_grant_each(st, 0, time(NULL), EACH(state_grant, t, &sq_grant_map)));
	trf(t, "%d ", state_grant_revoke(st, gid, "carol"));
	trf(t, "%d ", state_grant_revoke(st, gid, "carol"));
	trf(t, "%d\n", state_grant_revoke(st, 999, "carol"));
	trf(t, "%d\n", state_grant_each(st, 1, time(NULL), EACH(state_grant, t, &sq_grant_map)));
}

static void
st_sessions(struct state *st, struct tr *t)
{
	struct state_session s, got;
	int64_t id1 = 0, id2 = 0;
	size_t n = 9;
	int found, r;

	memset(&s, 0, sizeof(s));
	s.sid = 41;
	s.pid = 1234;
	snprintf(s.engineer, sizeof(s.engineer), "erin");
	snprintf(s.vendor, sizeof(s.vendor), "acme");
	snprintf(s.device, sizeof(s.device), "mri");
	snprintf(s.source, sizeof(s.source), "192.0.2.7");
	s.started = time(NULL);
	snprintf(s.recording, sizeof(s.recording), "/var/lib/rec/41.brec");
	trf(t, "%d ", state_session_start(st, &s, &id1));
	s.sid = 42;
	r = state_session_start(st, &s, &id2);
	trf(t, "%d ids=%lld,%lld\n", r, (long long)id1, (long long)id2);
	r = state_session_count(st, "erin", &n);
	trf(t, "%d n=%zu\n", r, n);
	r = state_session_get(st, 41, &got, &found);
	trf(t, "%d f=%d ", r, found);
	tr_row(t, &sq_session_map, &got);
	r = state_session_get(st, 99, &got, &found);
	trf(t, "%d f=%d\n", r, found);
	trf(t, "%d ", state_session_kill(st, 42, "alice", "enough", &got));
	tr_row(t, &sq_session_map, &got);
	trf(t, "%d\n", state_session_kill(st, 99, "alice", "enough", NULL));
	trf(t, "%d\n", state_session_controls(st, EACH(state_session_ctl, t,
	    &sq_ctl_map)));
	trf(t, "%d\n", state_session_each(st, 0, 0, EACH(state_session, t,
	    &sq_session_map)));
	trf(t, "%d\n", state_session_end(st, id1, "the engineer left"));
	trf(t, "%d\n", state_session_each(st, 1, 1, EACH(state_session, t,
	    &sq_session_map)));
	trf(t, "%d ", state_session_end_open(st, "", "restart",
	    (void (*)(const struct state_session *, void *))
	    (void (*)(void))each_row, &(struct trw){ t, &sq_session_map },
	    &n));
	trf(t, "n=%zu\n", n);
	trf(t, "%d\n", state_session_end_open(st, "", "restart", NULL,
	    NULL, &n));
}

static void
st_engineer_locks(struct state *st, struct tr *t)
{
	struct state_engineer_lock l;
	int locked, r;

	trf(t, "%d ", state_engineer_lock(st, "erin", "alice", "left"));
	trf(t, "%d ", state_engineer_lock(st, "erin", "bob", "again"));
	r = state_engineer_locked(st, "erin", &locked, &l);
	trf(t, "locked=%d ", locked);
	trf(t, "r=%d ", r);
	tr_row(t, &sq_elock_map, &l);
	r = state_engineer_unlock(st, "erin", &l);
	trf(t, "r=%d ", r);
	tr_row(t, &sq_elock_map, &l);
	r = state_engineer_unlock(st, "erin", &l);
	trf(t, "r=%d ", r);
	tr_row(t, &sq_elock_map, &l);
	trf(t, "%d\n", state_engineer_unlock(st, "nobody", NULL));
}

static void
st_touch_windows(struct state *st, struct tr *t)
{
	struct state_touch_window w, got;
	size_t n = 9;
	int found, r;

	memset(&w, 0, sizeof(w));
	snprintf(w.engineer, sizeof(w.engineer), "erin");
	snprintf(w.device, sizeof(w.device), "mri");
	snprintf(w.source, sizeof(w.source), "192.0.2.7");
	snprintf(w.fp, sizeof(w.fp), "%s", FP_A);
	snprintf(w.session, sizeof(w.session), "41");
	w.grant_id = 3;
	w.opened = 1000;
	w.until = 2000;
	trf(t, "%d ", state_touch_window_open(st, &w));
	snprintf(w.device, sizeof(w.device), "ct");
	trf(t, "%d\n", state_touch_window_open(st, &w));
	r = state_touch_window_get(st, "erin", "mri", "192.0.2.7", 1500, &got,
	    &found);
	trf(t, "r=%d found=%d ", r, found);
	tr_row(t, &sq_window_map, &got);
	r = state_touch_window_get(st, "erin", "mri", "192.0.2.7", 2500, &got,
	    &found);
	trf(t, "r=%d found=%d ", r, found);
	tr_row(t, &sq_window_map, &got);
	trf(t, "%d ", state_touch_window_close(st, "erin", "mri", &n));
	trf(t, "n=%zu ", n);
	trf(t, "%d ", state_touch_window_expire(st, 2000));
	r = state_touch_window_close(st, "erin", NULL, &n);
	trf(t, "%d n=%zu\n", r, n);
}

static int
tr_wcred(const struct state_web_cred *w, void *arg)
{
	tr_row(arg, &sq_wcred_map, w);
	return (0);
}

static void
st_web(struct state *st, struct tr *t)
{
	struct state_web_challenge ch, got;
	struct state_web_session ws, wg;
	struct state_web_cred wc;
	int found, r;

	memset(&ch, 0, sizeof(ch));
	snprintf(ch.hash, sizeof(ch.hash), "%064d", 7);
	snprintf(ch.person, sizeof(ch.person), "bob");
	snprintf(ch.kind, sizeof(ch.kind), "action");
	memset(ch.data, 'A', sizeof(ch.data) - 1);	/* the longest */
	ch.not_after = 4102444800;
	trf(t, "%d ", state_web_challenge_put(st, &ch));
	r = state_web_challenge_take(st, ch.hash, "bob", "action", 1000, &got,
	    &found);
	trf(t, "r=%d found=%d ", r, found);
	tr_row(t, &sq_wchal_map, &got);
	r = state_web_challenge_take(st, ch.hash, "bob", "action", 1000, &got,
	    &found);
	trf(t, "r=%d found=%d\n", r, found);
	memset(&ws, 0, sizeof(ws));
	snprintf(ws.hash, sizeof(ws.hash), "%064d", 8);
	snprintf(ws.person, sizeof(ws.person), "bob");
	snprintf(ws.role, sizeof(ws.role), "admin");
	snprintf(ws.from, sizeof(ws.from), "192.0.2.9");
	ws.created = ws.last_used = 1000;
	ws.idle_until = 1900;
	ws.abs_until = 29800;
	trf(t, "%d ", state_web_session_new(st, &ws));
	r = state_web_session_touch(st, ws.hash, 1500, 2400, &wg, &found);
	trf(t, "r=%d found=%d ", r, found);
	tr_row(t, &sq_wsess_map, &wg);
	trf(t, "%d ", state_web_session_end(st, ws.hash));
	r = state_web_session_touch(st, ws.hash, 1600, 2500, &wg, &found);
	trf(t, "r=%d found=%d\n", r, found);
	memset(&wc, 0, sizeof(wc));
	snprintf(wc.person, sizeof(wc.person), "bob");
	memset(wc.cred_id, 'c', sizeof(wc.cred_id) - 1);
	snprintf(wc.pubkey, sizeof(wc.pubkey), "04ab");
	wc.alg = -7;
	wc.created = 1000;
	trf(t, "%d ", state_web_cred_put(st, &wc));
	trf(t, "%d ", state_web_cred_put(st, &wc));
	trf(t, "%d\n", state_web_cred_each(st, "bob", tr_wcred, t));
	{
		size_t n = 9;

		trf(t, "%d ", state_web_login_fail(st, "bob", 5000));
		trf(t, "%d ", state_web_login_fail(st, "bob", 6000));
		r = state_web_login_fails(st, "bob", 5500, &n);
		trf(t, "r=%d n=%zu\n", r, n);
	}
}

static int
st_export_row(const struct state_export *e, void *arg)
{
	tr_row(arg, &sq_export_map, e);
	return (0);
}

static void
st_exports(struct state *st, struct tr *t)
{
	struct state_export e, got;
	int64_t id = 0;
	int found = 0, r;

	export_fixture(&e, "", 5000000000LL, 3);
	memset(e.path, 'p', sizeof(e.path) - 1);	/* the longest */
	e.path[0] = '/';
	r = state_export_create(st, &e, &id);
	trf(t, "create r=%d id=%lld\n", r, (long long)id);
	r = state_export_get(st, id, &got, &found);
	trf(t, "get r=%d found=%d ", r, found);
	tr_row(t, &sq_export_map, &got);
	trf(t, "\ndeny r=%d ", state_export_finish(st, id, STATE_REQ_DENIED,
	    "bob", "patient data"));
	trf(t, "again r=%d ", state_export_finish(st, id, STATE_REQ_APPROVED,
	    "dave", NULL));
	trf(t, "none r=%d\n", state_export_finish(st, id + 9,
	    STATE_REQ_APPROVED, "dave", NULL));
	r = state_export_each(st, NULL, 0, st_export_row, t);
	trf(t, "\neach r=%d\n", r);
}

static int
tr_decl(const struct state_decl *d, void *arg)
{
	tr_row(arg, &sq_decl_map, d);
	return (0);
}

/* File declarations (store_decl.c; their semantics: test_decl.c). */
static void
st_decl(struct state *st, struct tr *t)
{
	struct state_decl_file f;
	struct state_decl d;

	memset(&f, 0, sizeof(f));
	f.session = 17;
	snprintf(f.engineer, sizeof(f.engineer), "gina");
	snprintf(f.vendor, sizeof(f.vendor), "globex");
	snprintf(f.device, sizeof(f.device), "pacs");
	snprintf(f.direction, sizeof(f.direction), "in");
	memset(f.path, 'p', sizeof(f.path) - 1);	/* the longest */
	f.size = 300000;
	snprintf(f.sha256, sizeof(f.sha256), "%064d", 9);
	f.at = 1000;
	trf(t, "%d ", state_decl_file_add(st, &f));
	snprintf(f.direction, sizeof(f.direction), "out");
	trf(t, "%d ", state_decl_file_add(st, &f));
	snprintf(f.direction, sizeof(f.direction), "up");
	trf(t, "%d\n", state_decl_file_add(st, &f));
	trf(t, "%d\n", state_decl_each(st, "gina", 0, 1, tr_decl, t));
	trf(t, "%d ", state_decl_answer(st, 17, "dave", "no", NULL, "declare",
	    2000, &d));
	trf(t, "%d ", state_decl_answer(st, 17, "gina", "yes", "pending",
	    "declare", 2000, &d));
	tr_row(t, &sq_decl_map, &d);
	trf(t, "%d ", state_decl_answer(st, 17, "gina", "no", NULL, "declare",
	    2100, &d));
	tr_row(t, &sq_decl_map, &d);
	trf(t, "%d ", state_decl_answer(st, 17, "gina", "no", NULL, "declare",
	    2200, &d));
	trf(t, "%d\n", state_decl_each(st, NULL, 17, 0, tr_decl, t));
}

static int
tr_watch(const struct state_watch *w, void *arg)
{
	trf(arg, "[%lld %s %s %s %s %lld %d] ", (long long)w->session,
	    w->admin, w->from_node, w->to_node, w->recipient,
	    (long long)w->expires, w->claimed);
	return (0);
}

static int
tr_watchc(const struct state_watch_chunk *c, void *arg)
{
	tr_row(arg, &sq_watchc_map, c);
	return (0);
}

/* Watching another node's session (store_watch.c; test_peerwatch.c). */
static void
st_watch(struct state *st, struct tr *t)
{
	struct state_watch w;
	struct state_watch_chunk c;
	time_t now = time(NULL);
	int64_t id = 0;
	int found = -1, status = -1;

	memset(&w, 0, sizeof(w));
	w.session = 17;
	snprintf(w.admin, sizeof(w.admin), "bob");
	snprintf(w.from_node, sizeof(w.from_node), "b");
	snprintf(w.to_node, sizeof(w.to_node), "a");
	memset(w.recipient, 'r', sizeof(w.recipient) - 1);	/* longest */
	w.expires = 4000000000;
	trf(t, "%d ", state_watch_open(st, &w, &id));
	trf(t, "%d\n", state_watch_each(st, "a", now, tr_watch, t));
	trf(t, "%d ", state_watch_claim(st, id, "a", now, &w, &found));
	tr_watch(&w, t);
	trf(t, "%d %d\n", state_watch_claim(st, id, "a", now, &w, &found),
	    found);
	memset(&c, 0, sizeof(c));
	c.watch = id;
	c.seq = 1;
	snprintf(c.kind, sizeof(c.kind), "data");
	memset(c.data, 'x', sizeof(c.data) - 1);	/* the longest */
	trf(t, "%d ", state_watch_put(st, &c, now, &status));
	trf(t, "%d ", status);
	c.seq = 2;
	snprintf(c.kind, sizeof(c.kind), "end");
	snprintf(c.data, sizeof(c.data), "bye");
	trf(t, "%d %d\n", state_watch_put(st, &c, now, &status), status);
	trf(t, "%d ", state_watch_take(st, id, now, tr_watchc, t, &found));
	trf(t, "%d %d ", state_watch_take(st, id, now, tr_watchc, t, &found),
	    found);
	trf(t, "%d ", state_watch_close(st, id));
	trf(t, "%d %d\n", state_watch_take(st, id, now, tr_watchc, t, &found),
	    found);
}

static const struct step {
	const char *name;
	void (*run)(struct state *st, struct tr *t);
} steps[] = {
	{ "counters", st_counters },
	{ "key locks", st_key_locks },
	{ "guards", st_guards },
	{ "enrolments", st_enrolments },
	{ "approvals and grants", st_approvals },
	{ "sessions", st_sessions },
	{ "engineer locks", st_engineer_locks },
	{ "touch windows", st_touch_windows },
	{ "web console", st_web },
	{ "file exports", st_exports },
	{ "file declarations", st_decl },
	{ "watches of another node", st_watch },
};

#define NSTEPS	(sizeof(steps) / sizeof(steps[0]))

static void
test_every_op_as_direct(void **state)
{
	struct cfix *x = *state;
	struct tr *d = calloc(NSTEPS, sizeof(*d)), *r = calloc(NSTEPS,
	    sizeof(*r));
	uint64_t before;
	size_t i, k;

	assert_non_null(d);
	assert_non_null(r);
	/* every step on one store, then every step on the other */
	for (i = 0; i < NSTEPS; i++)
		steps[i].run(x->direct, &d[i]);
	/* on PostgreSQL both are one database: emptied in between */
	if (fixture_pg() != NULL)
		raw_exec(x->f, "DO $$ DECLARE t text; BEGIN FOR t IN SELECT "
		    "tablename FROM pg_tables WHERE schemaname = 'public' AND "
		    "tablename <> 'bastion_schema' LOOP EXECUTE 'TRUNCATE ' || "
		    "quote_ident(t) || ' RESTART IDENTITY CASCADE'; END LOOP; "
		    "END $$");
	for (i = 0; i < NSTEPS; i++) {
		before = calls_of(x);
		steps[i].run(x->remote, &r[i]);
		assert_true(calls_of(x) > before);	/* through the actor */
	}
	for (i = 0; i < NSTEPS; i++) {
		if (strcmp(d[i].s, r[i].s) != 0) {
			for (k = 0; d[i].s[k] == r[i].s[k]; k++)
				;
			while (k > 0 && d[i].s[k - 1] != '\n')
				k--;
			fail_msg("%s differs:\ndirect %.300s\nremote %.300s",
			    steps[i].name, d[i].s + k, r[i].s + k);
		}
	}
	free(d);
	free(r);
}

/* ---- errors ---------------------------------------------------------- */

static void
test_errors_carry_through(void **state)
{
	struct cfix *x = *state;
	struct state_enrollment e;
	int64_t id;
	char *line;

	assert_int_equal(state_request_create(x->remote, "erin", "acme",
	    "mri", NULL, &id), 0);
	assert_int_equal(state_request_approve(x->remote, id, "alice", 60, 2,
	    NULL), 0);
	assert_int_equal(state_request_approve(x->remote, id, "alice", 60, 2,
	    NULL), BERR_DENIED);
	assert_int_equal(state_request_finish(x->remote, 77, STATE_REQ_DENIED,
	    NULL, NULL), BERR_NOTFOUND);
	/* the backend's own words come along */
	assert_int_equal(state_request_finish(x->direct, 77, STATE_REQ_DENIED,
	    NULL, NULL), BERR_NOTFOUND);
	assert_string_equal(state_errmsg(x->remote), state_errmsg(x->direct));
	/* a key line longer than one value is refused, nothing sent */
	memset(&e, 0, sizeof(e));
	snprintf(e.fp, sizeof(e.fp), "%s", FP_A);
	snprintf(e.engineer, sizeof(e.engineer), "erin");
	assert_non_null(line = malloc(STORE_CALL_TEXT_MAX + 10));
	memset(line, 'a', STORE_CALL_TEXT_MAX + 9);
	line[STORE_CALL_TEXT_MAX + 9] = '\0';
	e.key_line = line;
	assert_int_equal(state_enroll_put(x->remote, &e), BERR_LIMIT);
	free(line);
	/* the handle still works */
	assert_int_equal(state_request_create(x->remote, "erin", "acme",
	    "mri", NULL, &id), 0);
	/* the actor gone: an error that says so, not a hang */
	store_actor_stop(x->a);
	assert_true(state_request_create(x->remote, "erin", "acme", "mri",
	    NULL, &id) < 0);
	assert_non_null(strstr(state_errmsg(x->remote), "store actor"));
	assert_int_equal(store_actor_start(x->actor_dir, NULL, NULL, NULL,
	    &x->a), 0);
	/* and back: the next call connects again */
	assert_int_equal(state_request_create(x->remote, "erin", "acme",
	    "mri", NULL, &id), 0);
}

/* ---- peers ----------------------------------------------------------- */

static void
test_other_users_are_refused(void **state)
{
	struct cfix *x = *state;
	char path[PATH_MAX + 32];
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/%s", x->actor_dir, STORE_SOCK_FILE);
	assert_int_equal(chmod(x->actor_dir, 0711), 0);
	assert_int_equal(chmod(path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *s = NULL;
		char why[512];
		int r;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		r = store_remote_ops.open(x->actor_dir, 0, &s, why,
		    sizeof(why));
		if (r != BERR_DENIED || s != NULL)
			_exit(11);
		if (strstr(why, "admits only root") == NULL)
			_exit(12);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(chmod(x->actor_dir, 0700), 0);
}

/* ---- malformed calls ------------------------------------------------- */

static void
test_malformed_call_ends_only_its_connection(void **state)
{
	struct cfix *x = *state;
	static const uint8_t junk[][12] = {
		{ 1, STORE_MSG_CALL, SC_NCALLS },	/* no such call */
		{ 1, STORE_MSG_CALL, SC_COUNTER_FORGET, 2, 0, 0, 0, 0, 0, 0,
		    0, 1 },				/* int for a text */
		{ 1, STORE_MSG_CALL, SC_COUNTER_FORGET, 1, 0, 0, 0, 9, 'a' },
							/* text runs over */
		{ 1, STORE_MSG_CALL, SC_COUNTER_FORGET, 1, 0, 0, 0, 1, 0 },
							/* a NUL */
		{ 1, STORE_MSG_CALL, SC_COUNTER_FORGET, 0 },	/* NULL: 'T' */
		{ 1, STORE_MSG_CALL, SC_HELLO, 0 },	/* bytes left over */
		{ 1, STORE_MSG_DONE, SC_HELLO },	/* not a request */
	};
	static const size_t lens[] = { 3, 12, 9, 9, 4, 4, 3 };
	struct store_actor_stats st0, st1;
	int64_t id;
	size_t i;

	store_actor_stats(x->a, &st0);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		fixture_expect_ended(x->actor_dir, junk[i], lens[i]);
	/* the open handle, its connection and others are served */
	assert_int_equal(state_request_create(x->remote, "erin", "acme",
	    "mri", NULL, &id), 0);
	store_actor_stats(x->a, &st1);
	assert_int_equal(st1.violations - st0.violations,
	    sizeof(junk) / sizeof(junk[0]));
}

/* ---- concurrency ----------------------------------------------------- */

#define WRITERS		4
#define WRITES		50

static int
count_request(const struct state_request *q, void *arg)
{
	int64_t *seen = arg;

	assert_true(q->id >= 1 && q->id <= WRITERS * WRITES);
	assert_int_equal(seen[q->id - 1], 0);
	seen[q->id - 1] = 1;
	seen[WRITERS * WRITES]++;
	return (0);
}

static void
test_concurrent_clients_lose_no_update(void **state)
{
	struct cfix *x = *state;
	int64_t seen[WRITERS * WRITES + 1];
	uint32_t c;
	pid_t pids[WRITERS];
	uint64_t before = calls_of(x);
	int i, k, status, found, accepted = 0;

	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct state *st = NULL;
			int64_t id;
			uint32_t prev;
			int had, ok = 0;

			if (state_open(x->actor_dir, &st) != 0)
				_exit(10);
			for (k = 0; k < WRITES; k++) {
				if (state_request_create(st, "erin", "acme",
				    "mri", NULL, &id) != 0)
					_exit(11);
				/* everyone offers the same counters: each
				 * value is accepted once */
				if (state_counter_advance(st, FP_A,
				    (uint32_t)k + 1, &prev, &had) == 0)
					ok++;
			}
			state_close(st);
			_exit(20 + ok);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) >= 20);
		accepted += WEXITSTATUS(status) - 20;
	}
	/* all of it through the actor: nobody else opened state.db */
	assert_true(calls_of(x) - before >= 2 * WRITERS * WRITES);
	memset(seen, 0, sizeof(seen));
	assert_int_equal(state_request_each(x->remote, NULL, 0, count_request,
	    seen), 0);
	assert_int_equal(seen[WRITERS * WRITES], WRITERS * WRITES);
	assert_int_equal(state_counter_get(x->remote, FP_A, &c, &found), 0);
	assert_int_equal(c, WRITES);
	assert_true(accepted >= 1 && accepted <= WRITES);
}

/* ---- long lists ------------------------------------------------------ */

#define MANY	3000

struct walk {
	struct state *st;
	int64_t next;
	size_t n;
};

/* newest first, whole, and the store usable from inside the walk */
static int
walk_request(const struct state_request *q, void *arg)
{
	struct walk *w = arg;
	struct state_request again;
	int found;

	assert_int_equal(q->id, w->next);
	assert_int_equal(strlen(q->reason), 250);
	w->next--;
	w->n++;
	if (w->n % 500 == 0) {
		assert_int_equal(state_request_get(w->st, q->id, &again,
		    &found), 0);
		assert_true(found);
		assert_string_equal(again.reason, q->reason);
	}
	return (0);
}

static void
test_long_lists_come_back_whole(void **state)
{
	struct cfix *x = *state;
	struct walk w = { x->remote, MANY, 0 };
	char reason[251];
	int64_t id;
	int i;

	memset(reason, 'r', 250);
	reason[250] = '\0';
	/* on PostgreSQL the two stores are one database: half the rows
	 * written directly, the rest through the actor */
	for (i = 0; i < (fixture_pg() != NULL ? MANY / 2 : MANY); i++)
		assert_int_equal(state_request_create(x->direct, "erin", "acme",
		    "mri", reason, &id), 0);
	/* the same rows in the actor's store, written through it */
	for (i = fixture_pg() != NULL ? MANY / 2 : 0; i < MANY; i++)
		assert_int_equal(state_request_create(x->remote, "erin", "acme",
		    "mri", reason, &id), 0);
	assert_int_equal(id, MANY);
	assert_int_equal(state_request_each(x->remote, NULL, 0, walk_request,
	    &w), 0);
	assert_int_equal(w.n, MANY);
	w.next = MANY;
	w.n = 0;
	w.st = x->direct;
	assert_int_equal(state_request_each(x->direct, NULL, 0, walk_request,
	    &w), 0);
	assert_int_equal(w.n, MANY);
}

/* ---- the wire -------------------------------------------------------- */

static void
test_rows_round_trip_by_their_column_table(void **state)
{
	struct state_session s, got;
	struct store_call_msg *m = calloc(1, sizeof(*m));
	uint8_t out[STORE_CALL_MAX];
	size_t len;

	(void)state;
	assert_non_null(m);
	memset(&s, 0, sizeof(s));
	s.id = -5;
	s.sid = INT64_MAX;
	s.pid = -1;
	snprintf(s.engineer, sizeof(s.engineer), "%079d", 7);	/* full */
	s.started = 1700000000;
	assert_int_equal(store_call_encode(STORE_MSG_ROW, SC_SESSION_EACH, "R",
	    NULL, &sq_session_map, &s, out, sizeof(out), &len), 0);
	assert_int_equal(store_call_decode(out, len, "R", &sq_session_map, m,
	    &got), 0);
	assert_memory_equal(&s, &got, sizeof(s));
	/* one byte short, one byte more: refused */
	assert_int_equal(store_call_decode(out, len - 1, "R", &sq_session_map,
	    m, &got), BERR_FORMAT);
	out[len] = 0;
	assert_int_equal(store_call_decode(out, len + 1, "R", &sq_session_map,
	    m, &got), BERR_FORMAT);
	/* a text too long for its member */
	s.engineer[79] = 'x';
	assert_int_equal(store_call_encode(STORE_MSG_ROW, SC_SESSION_EACH, "R",
	    NULL, &sq_session_map, &s, out, sizeof(out), &len), 0);
	assert_int_equal(store_call_decode(out, len, "R", &sq_session_map, m,
	    &got), BERR_FORMAT);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_op_as_direct,
		    csetup, cteardown),
		cmocka_unit_test_setup_teardown(test_errors_carry_through,
		    csetup, cteardown),
		cmocka_unit_test_setup_teardown(test_other_users_are_refused,
		    csetup, cteardown),
		cmocka_unit_test_setup_teardown(
		    test_malformed_call_ends_only_its_connection, csetup,
		    cteardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrent_clients_lose_no_update, csetup, cteardown),
		cmocka_unit_test_setup_teardown(
		    test_long_lists_come_back_whole, csetup, cteardown),
		cmocka_unit_test(test_rows_round_trip_by_their_column_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
