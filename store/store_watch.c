/*
 * store_watch.c - watching a session of another node, in the SQL store
 * (issue 20; docs/SCALE-OUT.md "Watching a session of another node").
 *
 * The shared database is the only channel between two nodes: an admin's
 * node files a request (peer_watch: session, admin, both nodes, the
 * watcher's ephemeral X25519 public key, a hard cap), the session's node
 * claims it once and appends the live output as chunks (peer_watch_chunk,
 * each an age file encrypted to that key, so the database, its WAL and
 * its backups hold ciphertext only), and the watcher takes them in order,
 * deleting them as it reads and noting that it is still there (seen). A
 * request whose cap passed or whose watcher fell silent is forgotten with
 * its chunks by the next node that looks (state_watch_each); a watcher
 * that does not keep up finds chunks missing and a count of the bytes,
 * never a held-up session. The operations are written once in the SQL
 * SQLite and PostgreSQL both understand (store_sqlite.h); the tables are
 * schema step SQ_SCHEMA_WATCH (store_sqlite.c lists it).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store_sqlite.h"

static const struct sq_col sq_watch_cols[] = {
	SQC(SQC_I64, state_watch, id),
	SQC(SQC_I64, state_watch, session),
	SQC(SQC_TEXT, state_watch, admin),
	SQC(SQC_TEXT, state_watch, from_node),
	SQC(SQC_TEXT, state_watch, to_node),
	SQC(SQC_TEXT, state_watch, recipient),
	SQC(SQC_TIME, state_watch, created),
	SQC(SQC_TIME, state_watch, expires),
	SQC(SQC_TIME, state_watch, seen),
	SQC(SQC_INT, state_watch, claimed),
	SQC(SQC_TEXT, state_watch, nonce),
	SQC(SQC_TEXT, state_watch, sig),
};
const struct sq_map sq_watch_map = SQ_MAP(state_watch, sq_watch_cols);

static const struct sq_col sq_watchc_cols[] = {
	SQC(SQC_I64, state_watch_chunk, watch),
	SQC(SQC_I64, state_watch_chunk, seq),
	SQC(SQC_I64, state_watch_chunk, skipped),
	SQC(SQC_TEXT, state_watch_chunk, kind),
	SQC(SQC_TEXT, state_watch_chunk, data),
};
const struct sq_map sq_watchc_map = SQ_MAP(state_watch_chunk,
    sq_watchc_cols);

#define SQ_WATCH_SELECT "SELECT id, session, admin, from_node, to_node, " \
	"recipient, created, expires, seen, claimed, nonce, sig FROM " \
	"peer_watch "

int
sq_watch_open(struct store *s, const struct state_watch *w, int64_t *id)
{
	time_t now = time(NULL);

	return (sq_insert_id(s, "INSERT INTO peer_watch(session, admin, "
	    "from_node, to_node, recipient, created, expires, seen, nonce, "
	    "sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?8, ?9) RETURNING id",
	    SQ_ARGS(SQ_I(w->session), SQ_T(w->admin), SQ_T(w->from_node),
	    SQ_T(w->to_node), SQ_T(w->recipient), SQ_I(now),
	    SQ_I(w->expires), SQ_T(w->nonce), SQ_T(w->sig)), id));
}

int
sq_watch_each(struct store *s, const char *node, time_t now,
    int (*fn)(const struct state_watch *w, void *arg), void *arg)
{
	struct sq_walk wk = SQ_WALK(fn, arg);
	struct state_watch w;
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	r = sq_run(s, "DELETE FROM peer_watch WHERE expires <= ?1 OR "
	    "seen < ?2", SQ_ARGS(SQ_I(now), SQ_I(now - STATE_WATCH_STALE_S)),
	    NULL);
	if (r == 0)
		r = sq_run(s, "DELETE FROM peer_watch_chunk WHERE watch NOT IN "
		    "(SELECT id FROM peer_watch)", SQ_NOARGS, NULL);
	if ((r = sq_end(s, r)) != 0)
		return (r);
	return (sq_each(s, SQ_WATCH_SELECT "WHERE to_node = ?1 AND claimed = 0 "
	    "ORDER BY id", SQ_ARGS(SQ_T(node)), &sq_watch_map, &w,
	    sq_walk_row, &wk));
}

int
sq_watch_claim(struct store *s, int64_t id, const char *node, time_t now,
    struct state_watch *w, int *found)
{
	int r, n = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	r = sq_run(s, "UPDATE peer_watch SET claimed = 1 WHERE id = ?1 AND "
	    "to_node = ?2 AND claimed = 0 AND expires > ?3",
	    SQ_ARGS(SQ_I(id), SQ_T(node), SQ_I(now)), &n);
	if (r == 0 && n == 1)
		r = sq_get(s, SQ_WATCH_SELECT "WHERE id = ?1", SQ_ARGS(SQ_I(id)),
		    &sq_watch_map, w, found);
	if ((r = sq_end(s, r)) != 0 || !*found) {
		memset(w, 0, sizeof(*w));
		*found = 0;
	}
	return (r);
}

int
sq_watch_put(struct store *s, const struct state_watch_chunk *c, time_t now,
    int *status)
{
	struct state_watch w;
	int r, found = 0, n = 0;

	*status = 0;
	if ((r = sq_begin(s)) != 0)
		return (r);
	r = sq_get(s, SQ_WATCH_SELECT "WHERE id = ?1", SQ_ARGS(SQ_I(c->watch)),
	    &sq_watch_map, &w, &found);
	if (r == 0 && found && w.expires > now &&
	    w.seen >= now - STATE_WATCH_STALE_S) {
		/* stored only while fewer than STATE_WATCH_BACKLOG wait */
		r = sq_run(s, "INSERT INTO peer_watch_chunk(watch, seq, "
		    "skipped, kind, data) SELECT ?1, ?2, ?3, ?4, ?5 WHERE "
		    "(SELECT count(*) FROM peer_watch_chunk WHERE watch = ?1) "
		    "< ?6", SQ_ARGS(SQ_I(c->watch), SQ_I(c->seq),
		    SQ_I(c->skipped), SQ_T(c->kind), SQ_T(c->data),
		    SQ_I(STATE_WATCH_BACKLOG)), &n);
		*status = n == 1 ? 1 : 2;
	}
	if ((r = sq_end(s, r)) != 0)
		*status = 0;
	return (r);
}

/* The rows handed on, and the last seq among them (deleted after). */
struct sq_watch_take {
	int (*fn)(const struct state_watch_chunk *c, void *arg);
	void *arg;
	int64_t last;
};

static int
sq_watch_take_row(void *row, void *arg)
{
	struct sq_watch_take *t = arg;
	const struct state_watch_chunk *c = row;

	t->last = c->seq;
	return (t->fn(c, t->arg));
}

int
sq_watch_take(struct store *s, int64_t id, time_t now,
    int (*fn)(const struct state_watch_chunk *c, void *arg), void *arg,
    int *found)
{
	struct sq_watch_take t = { fn, arg, 0 };
	struct state_watch_chunk c;
	int r, n = 0;

	if ((r = sq_begin(s)) != 0)
		return (r);
	r = sq_run(s, "UPDATE peer_watch SET seen = ?2 WHERE id = ?1",
	    SQ_ARGS(SQ_I(id), SQ_I(now)), &n);
	*found = n == 1;
	if (r == 0 && *found)
		r = sq_each(s, "SELECT watch, seq, skipped, kind, data FROM "
		    "peer_watch_chunk WHERE watch = ?1 ORDER BY seq",
		    SQ_ARGS(SQ_I(id)), &sq_watchc_map, &c, sq_watch_take_row,
		    &t);
	if (r == 0 && t.last > 0)
		r = sq_run(s, "DELETE FROM peer_watch_chunk WHERE watch = ?1 "
		    "AND seq <= ?2", SQ_ARGS(SQ_I(id), SQ_I(t.last)), NULL);
	return (sq_end(s, r));
}

int
sq_watch_close(struct store *s, int64_t id)
{
	int r;

	if ((r = sq_begin(s)) != 0)
		return (r);
	r = sq_run(s, "DELETE FROM peer_watch_chunk WHERE watch = ?1",
	    SQ_ARGS(SQ_I(id)), NULL);
	if (r == 0)
		r = sq_run(s, "DELETE FROM peer_watch WHERE id = ?1",
		    SQ_ARGS(SQ_I(id)), NULL);
	return (sq_end(s, r));
}
