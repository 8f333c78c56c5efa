/*
 * auditckpt_db.c - the audit checkpoints' rows in the state store
 * (auditckpt.h): the tables audit_checkpoint and audit_node_key of schema
 * step 9, on SQLite or PostgreSQL alike (the common SQL of
 * store_sqlite.h).
 *
 * These operations stay outside the store_ops table on purpose: only the
 * listener (which writes checkpoints on its own store connection) and
 * bastionctl's read-only export and report use them, never a process
 * that goes through the store actor, so they need no call on the actor's
 * wire. Through the actor (state_sql_store() NULL) they are BERR_DENIED.
 * A row is read back through the same text parser an auditor's export
 * goes through: a row that does not parse is an error, never skipped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auditckpt.h"
#include "err.h"
#include "store_sqlite.h"

struct ckpt_row {
	int64_t id;
	char node[CKPT_NODE_MAX + 1];
	int64_t seq;
	char hash[AUDITLOG_HEX_LEN + 1];
	int64_t ts;
	char peers[CKPT_PEERS_TEXT_MAX];
	char sig[CKPT_SIG_HEX + 1];
};

static const struct sq_col ckpt_cols[] = {
	SQC(SQC_I64, ckpt_row, id),
	SQC(SQC_TEXT, ckpt_row, node),
	SQC(SQC_I64, ckpt_row, seq),
	SQC(SQC_TEXT, ckpt_row, hash),
	SQC(SQC_I64, ckpt_row, ts),
	SQC(SQC_TEXT, ckpt_row, peers),
	SQC(SQC_TEXT, ckpt_row, sig),
};
static const struct sq_map ckpt_map = SQ_MAP(ckpt_row, ckpt_cols);

#define CKPT_SELECT "SELECT id, node, seq, hash, ts, peers, sig " \
	"FROM audit_checkpoint "

struct key_row {
	char node[CKPT_NODE_MAX + 1];
	char pem[CKPT_KEY_PEM_MAX];
};

static const struct sq_col key_cols[] = {
	SQC(SQC_TEXT, key_row, node),
	SQC(SQC_TEXT, key_row, pem),
};
static const struct sq_map key_map = SQ_MAP(key_row, key_cols);

static struct store *
ckpt_store(struct state *st)
{
	return (state_sql_store(st));
}

int
state_ckpt_put(struct state *st, const struct ckpt *c, int64_t *id)
{
	char peers[CKPT_PEERS_TEXT_MAX];
	struct store *s = ckpt_store(st);
	int64_t nid = 0;
	int r;

	if (id != NULL)
		*id = 0;
	if (s == NULL)
		return (BERR_DENIED);
	if (c == NULL || !ckpt_node_ok(c->node) || c->seq == 0 ||
	    c->seq > INT64_MAX || strlen(c->sig) != CKPT_SIG_HEX ||
	    ckpt_peers_format(c, peers, sizeof(peers)) != 0)
		return (BERR_INVAL);
	if ((r = sq_insert_id(s, "INSERT INTO audit_checkpoint(node, seq, "
	    "hash, ts, peers, sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "RETURNING id", SQ_ARGS(SQ_T(c->node), SQ_I(c->seq),
	    SQ_T(c->hash), SQ_I(c->ts), SQ_T(peers), SQ_T(c->sig)),
	    &nid)) != 0)
		return (r);
	if (id != NULL)
		*id = nid;
	return (0);
}

/* A row as the export would carry it, through the same parser. */
static int
ckpt_from_row(struct store *s, const struct ckpt_row *row, struct ckpt *c)
{
	char line[CKPT_LINE_MAX];
	int n;

	n = snprintf(line, sizeof(line), CKPT_MAGIC " id=%lld node=%s "
	    "seq=%lld hash=%s ts=%lld peers=%s sig=%s", (long long)row->id,
	    row->node, (long long)row->seq, row->hash, (long long)row->ts,
	    row->peers, row->sig);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    ckpt_line_parse(line, (size_t)n, c) != 0) {
		sq_note(s, "audit checkpoint row %lld is not well formed",
		    (long long)row->id);
		return (BERR_FORMAT);
	}
	return (0);
}

struct ckpt_walk {
	struct store *s;
	int (*fn)(const struct ckpt *c, void *arg);
	void *arg;
	struct ckpt c;
};

static int
ckpt_walk_row(void *row, void *arg)
{
	struct ckpt_walk *w = arg;
	int r;

	if ((r = ckpt_from_row(w->s, row, &w->c)) != 0)
		return (r);
	return (w->fn(&w->c, w->arg));
}

int
state_ckpt_each(struct state *st, const char *node,
    int (*fn)(const struct ckpt *c, void *arg), void *arg)
{
	struct ckpt_walk w = { ckpt_store(st), fn, arg, { 0 } };
	struct ckpt_row row;

	if (w.s == NULL)
		return (BERR_DENIED);
	if (fn == NULL)
		return (BERR_INVAL);
	if (node == NULL)
		return (sq_each(w.s, CKPT_SELECT "ORDER BY id", SQ_NOARGS,
		    &ckpt_map, &row, ckpt_walk_row, &w));
	return (sq_each(w.s, CKPT_SELECT "WHERE node = ?1 ORDER BY id",
	    SQ_ARGS(SQ_T(node)), &ckpt_map, &row, ckpt_walk_row, &w));
}

static int
ckpt_head_add(const struct ckpt *h, void *arg)
{
	return (ckpt_peer_add(arg, h->node, h->seq, h->hash));
}

int
state_ckpt_heads(struct state *st, const char *except, struct ckpt *c)
{
	struct ckpt_walk w = { ckpt_store(st), ckpt_head_add, c, { 0 } };
	struct ckpt_row row;

	if (w.s == NULL)
		return (BERR_DENIED);
	if (c == NULL || except == NULL)
		return (BERR_INVAL);
	c->npeers = 0;
	return (sq_each(w.s, CKPT_SELECT "WHERE id IN (SELECT max(id) FROM "
	    "audit_checkpoint WHERE node != ?1 GROUP BY node) ORDER BY node",
	    SQ_ARGS(SQ_T(except)), &ckpt_map, &row, ckpt_walk_row, &w));
}

int
state_ckpt_key_put(struct state *st, const char *node, const char *pem,
    int *same)
{
	struct store *s = ckpt_store(st);
	struct key_row row;
	int r, found = 0;

	if (same != NULL)
		*same = 0;
	if (s == NULL)
		return (BERR_DENIED);
	if (!ckpt_node_ok(node) || pem == NULL ||
	    strlen(pem) >= CKPT_KEY_PEM_MAX || same == NULL)
		return (BERR_INVAL);
	if ((r = sq_run(s, "INSERT INTO audit_node_key(node, pubkey, "
	    "published) VALUES (?1, ?2, ?3) ON CONFLICT (node) DO NOTHING",
	    SQ_ARGS(SQ_T(node), SQ_T(pem), SQ_I(time(NULL))), NULL)) != 0 ||
	    (r = sq_get(s, "SELECT node, pubkey FROM audit_node_key WHERE "
	    "node = ?1", SQ_ARGS(SQ_T(node)), &key_map, &row, &found)) != 0)
		return (r);
	if (!found)
		return (BERR_NOTFOUND);
	*same = strcmp(row.pem, pem) == 0;
	return (0);
}

struct key_walk {
	int (*fn)(const char *node, const char *pem, void *arg);
	void *arg;
};

static int
ckpt_key_row(void *row, void *arg)
{
	const struct key_row *k = row;
	struct key_walk *w = arg;

	return (w->fn(k->node, k->pem, w->arg));
}

int
state_ckpt_key_each(struct state *st,
    int (*fn)(const char *node, const char *pem, void *arg), void *arg)
{
	struct key_walk w = { fn, arg };
	struct store *s = ckpt_store(st);
	struct key_row row;

	if (s == NULL)
		return (BERR_DENIED);
	if (fn == NULL)
		return (BERR_INVAL);
	return (sq_each(s, "SELECT node, pubkey FROM audit_node_key ORDER BY "
	    "node", SQ_NOARGS, &key_map, &row, ckpt_key_row, &w));
}
