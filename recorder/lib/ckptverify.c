/*
 * ckptverify.c - the offline check of a group's signed audit checkpoints
 * against each other and against the nodes' chains (ckptverify.h).
 *
 * Rows are checked alone as they are added (parse, key, signature, the
 * node's seqs growing), then together by ckptv_check(): the peers each row
 * commits, and each chain given against its node's rows. Rows are kept as
 * compact records with their peers in one array; every lookup by (node,
 * seq) is a binary search over the node's rows, whose seqs grow.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditlog.h"
#include "ckptverify.h"
#include "err.h"
#include "hex.h"
#include "reckey.h"

struct vrow {
	int64_t id;
	int64_t ts;
	uint64_t seq;
	uint64_t lineno;
	size_t peer0;
	unsigned node;
	unsigned npeers;
	int found;			/* its line was found in the chain */
	char hash[AUDITLOG_HEX_LEN + 1];
};

struct vnode {
	struct ckptv_node pub;
	struct reckey *key;
	size_t *idx;			/* its rows, in id (and seq) order */
	size_t nidx;
};

struct ckptv {
	FILE *err;
	struct vrow *rows;
	size_t nrows, cap;
	struct ckpt_peer *peers;
	size_t npeers, pcap;
	struct vnode nodes[CKPTV_NODES_MAX];
	size_t nnodes;
	int64_t last_id;
	uint64_t failures;
};

static void ckptv_fail(struct ckptv *v, struct vnode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ckptv_fail(struct ckptv *v, struct vnode *n, const char *fmt, ...)
{
	char why[CKPTV_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	v->failures++;
	if (n != NULL) {
		if (n->pub.failures++ == 0)
			snprintf(n->pub.why, sizeof(n->pub.why), "%s", why);
	}
	if (v->err != NULL)
		fprintf(v->err, "ALTERED: %s\n", why);
}

int
ckptv_new(FILE *err, struct ckptv **out)
{
	struct ckptv *v;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return (BERR_NOMEM);
	v->err = err;
	*out = v;
	return (0);
}

void
ckptv_free(struct ckptv *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nnodes; i++) {
		reckey_free(v->nodes[i].key);
		free(v->nodes[i].idx);
	}
	free(v->rows);
	free(v->peers);
	free(v);
}

/* The node called name, added if new; NULL when it is not a name or the
 * table is full. */
static struct vnode *
ckptv_node(struct ckptv *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nnodes; i++)
		if (strcmp(v->nodes[i].pub.name, name) == 0)
			return (&v->nodes[i]);
	if (!ckpt_node_ok(name) || v->nnodes == CKPTV_NODES_MAX)
		return (NULL);
	snprintf(v->nodes[v->nnodes].pub.name,
	    sizeof(v->nodes[v->nnodes].pub.name), "%s", name);
	return (&v->nodes[v->nnodes++]);
}

int
ckptv_key(struct ckptv *v, const char *node, struct reckey *k)
{
	struct vnode *n;

	if ((n = ckptv_node(v, node)) == NULL) {
		reckey_free(k);
		return (ckpt_node_ok(node) ? BERR_LIMIT : BERR_INVAL);
	}
	if (n->key != NULL) {
		reckey_free(k);
		return (BERR_EXISTS);
	}
	n->key = k;
	n->pub.has_key = 1;
	return (0);
}

int
ckptv_chain(struct ckptv *v, const char *node, const char *path)
{
	struct vnode *n;

	if ((n = ckptv_node(v, node)) == NULL)
		return (ckpt_node_ok(node) ? BERR_LIMIT : BERR_INVAL);
	if (n->pub.chain != NULL)
		return (BERR_EXISTS);
	n->pub.chain = path;
	return (0);
}

/* Room for one more row and c's peers. */
static int
ckptv_grow(struct ckptv *v, size_t npeers)
{
	void *p;
	size_t cap;

	if (v->nrows == CKPTV_ROWS_MAX)
		return (BERR_LIMIT);
	if (v->nrows == v->cap) {
		cap = v->cap ? v->cap * 2 : 256;
		if ((p = realloc(v->rows, cap * sizeof(*v->rows))) == NULL)
			return (BERR_NOMEM);
		v->rows = p;
		v->cap = cap;
	}
	if (v->npeers + npeers > v->pcap) {
		cap = v->pcap ? v->pcap * 2 : 256;
		while (cap < v->npeers + npeers)
			cap *= 2;
		if ((p = realloc(v->peers, cap * sizeof(*v->peers))) == NULL)
			return (BERR_NOMEM);
		v->peers = p;
		v->pcap = cap;
	}
	return (0);
}

/* The signature of c with its node's key: 0, or why not (recorded). */
static int
ckptv_signature(struct ckptv *v, struct vnode *n, const struct ckpt *c)
{
	uint8_t sig[CKPT_SIG_LEN];
	char msg[CKPT_LINE_MAX];
	size_t len;

	if (n->key == NULL) {
		ckptv_fail(v, n, "checkpoint id %lld is node %s's, but no key "
		    "was given for %s (-k %s=AUDIT.key.pub): it cannot be "
		    "trusted", (long long)c->id, c->node, c->node, c->node);
		return (BERR_DENIED);
	}
	if (ckpt_signed_text(c, msg, sizeof(msg), &len) != 0 ||
	    hex_decode(c->sig, sig, sizeof(sig)) != 0 ||
	    reckey_verify(n->key, msg, len, sig) != 0) {
		ckptv_fail(v, n, "checkpoint id %lld (node %s, seq %llu) is "
		    "not signed by node %s's audit key: forged or edited",
		    (long long)c->id, c->node, (unsigned long long)c->seq,
		    c->node);
		return (BERR_CRYPTO);
	}
	return (0);
}

int
ckptv_add(struct ckptv *v, const struct ckpt *c)
{
	struct vnode *n;
	struct vrow *w;
	int r;

	if ((n = ckptv_node(v, c->node)) == NULL) {
		ckptv_fail(v, NULL, "checkpoint id %lld: more than %d nodes",
		    (long long)c->id, CKPTV_NODES_MAX);
		return (BERR_LIMIT);
	}
	if (c->id <= v->last_id)
		ckptv_fail(v, n, "checkpoint id %lld comes after id %lld: the "
		    "export is not in id order (rows moved or reinserted)",
		    (long long)c->id, (long long)v->last_id);
	v->last_id = c->id > v->last_id ? c->id : v->last_id;
	if (n->pub.rows > 0 && c->seq <= n->pub.last_seq)
		ckptv_fail(v, n, "checkpoint id %lld of node %s commits seq "
		    "%llu, not after its previous one (seq %llu): its chain "
		    "went back", (long long)c->id, c->node,
		    (unsigned long long)c->seq,
		    (unsigned long long)n->pub.last_seq);
	if (ckptv_signature(v, n, c) != 0)
		return (0);	/* not kept: nothing may rest on it */
	if ((r = ckptv_grow(v, c->npeers)) != 0)
		return (r);
	w = &v->rows[v->nrows++];
	memset(w, 0, sizeof(*w));
	w->id = c->id;
	w->ts = c->ts;
	w->seq = c->seq;
	w->node = (unsigned)(n - v->nodes);
	w->peer0 = v->npeers;
	w->npeers = (unsigned)c->npeers;
	memcpy(w->hash, c->hash, sizeof(w->hash));
	if (c->npeers > 0) {	/* v->peers is NULL until the first */
		memcpy(&v->peers[v->npeers], c->peers,
		    c->npeers * sizeof(*c->peers));
		v->npeers += c->npeers;
	}
	if (n->pub.rows == 0 || c->seq > n->pub.last_seq) {
		n->pub.last_seq = c->seq;
		n->pub.last_id = c->id;
		n->pub.last_ts = c->ts;
	}
	n->pub.rows++;
	return (0);
}

int
ckptv_add_line(struct ckptv *v, const char *text, size_t len,
    uint64_t lineno)
{
	struct ckpt c;

	if (ckpt_line_parse(text, len, &c) != 0) {
		ckptv_fail(v, NULL, "line %llu is not a checkpoint line "
		    "(" CKPT_MAGIC " id= node= seq= hash= ts= peers= sig=)",
		    (unsigned long long)lineno);
		return (BERR_FORMAT);
	}
	return (ckptv_add(v, &c));
}

int
ckptv_read(struct ckptv *v, FILE *in)
{
	struct auditlog_reader *rd = NULL;
	const char *text;
	size_t len;
	int r;

	if ((r = auditlog_reader_open_fp(in, &rd)) != 0)
		return (r);
	while ((r = auditlog_reader_next(rd, &text, &len)) == 0 ||
	    r == BERR_TRUNC) {
		int last = r == BERR_TRUNC;

		if ((r = ckptv_add_line(v, text, len,
		    auditlog_reader_lineno(rd))) != 0 && r != BERR_FORMAT)
			break;
		r = 0;
		if (last)
			break;
	}
	auditlog_reader_free(rd);
	return (r == BERR_NOTFOUND ? 0 : r);
}

/* ---- together ---------------------------------------------------------- */

/* Each node's rows, in id order. */
static int
ckptv_index(struct ckptv *v)
{
	size_t i;

	for (i = 0; i < v->nnodes; i++) {
		free(v->nodes[i].idx);
		v->nodes[i].nidx = 0;
		if ((v->nodes[i].idx = calloc(v->nodes[i].pub.rows + 1,
		    sizeof(size_t))) == NULL)
			return (BERR_NOMEM);
	}
	for (i = 0; i < v->nrows; i++) {
		struct vnode *n = &v->nodes[v->rows[i].node];

		n->idx[n->nidx++] = i;
	}
	return (0);
}

/* n's row with seq, or NULL (its seqs grow with its ids, checked). */
static struct vrow *
ckptv_find(struct ckptv *v, const struct vnode *n, uint64_t seq)
{
	size_t lo = 0, hi = n->nidx, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v->rows[n->idx[mid]].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < n->nidx && v->rows[n->idx[lo]].seq == seq ?
	    &v->rows[n->idx[lo]] : NULL);
}

/* Every peer committed is a row of that node with that hash. */
static void
ckptv_peers(struct ckptv *v)
{
	const struct ckpt_peer *p;
	struct vnode *y, *x;
	struct vrow *w, *o;
	size_t i, j;

	for (i = 0; i < v->nrows; i++) {
		w = &v->rows[i];
		x = &v->nodes[w->node];
		for (j = 0; j < w->npeers; j++) {
			p = &v->peers[w->peer0 + j];
			y = ckptv_node(v, p->node);
			o = y != NULL ? ckptv_find(v, y, p->seq) : NULL;
			if (o == NULL)
				ckptv_fail(v, y, "node %s's checkpoint id %lld "
				    "commits node %s's head at seq %llu, but "
				    "%s has no signed checkpoint of that seq: "
				    "%s's checkpoints were rewritten or "
				    "removed", x->pub.name, (long long)w->id,
				    p->node, (unsigned long long)p->seq,
				    p->node, p->node);
			else if (strcmp(o->hash, p->hash) != 0)
				ckptv_fail(v, y, "node %s's checkpoint id %lld "
				    "commits node %s's seq %llu as %.16s..., "
				    "but %s's own checkpoint id %lld says "
				    "%.16s...: one of them was rewritten",
				    x->pub.name, (long long)w->id, p->node,
				    (unsigned long long)p->seq, p->hash,
				    p->node, (long long)o->id, o->hash);
		}
	}
}

struct chain_walk {
	struct ckptv *v;
	struct vnode *n;
	uint64_t last;
};

/* One chain line: a checkpointed one must be the row's. */
static int
ckptv_chain_line(const struct auditlog_line *l, const char *text,
    size_t len, void *arg)
{
	char peers[CKPT_PEERS_TEXT_MAX], want[CKPT_PEERS_TEXT_MAX];
	char node[CKPT_NODE_MAX + 1];
	struct chain_walk *cw = arg;
	struct ckpt c;
	struct vrow *w;
	int is_ckpt;

	(void)text;
	(void)len;
	cw->last = l->seq > cw->last ? l->seq : cw->last;
	is_ckpt = auditlog_event(l->body, l->bodylen) ==
	    BEV_AUDIT_CHECKPOINT && auditlog_field(l->body, l->bodylen,
	    "node", node, sizeof(node)) == 0 &&
	    strcmp(node, cw->n->pub.name) == 0;
	if ((w = ckptv_find(cw->v, cw->n, l->seq)) == NULL) {
		if (is_ckpt)
			cw->n->pub.orphans++;
		return (0);
	}
	w->found = 1;
	if (strcmp(w->hash, l->hash) != 0) {
		ckptv_fail(cw->v, cw->n, "%s line seq %llu has hash %.16s..., "
		    "but node %s signed %.16s... for it in checkpoint id %lld: "
		    "the chain was rewritten at or before that line",
		    cw->n->pub.chain, (unsigned long long)l->seq, l->hash,
		    cw->n->pub.name, w->hash, (long long)w->id);
		return (0);
	}
	memset(&c, 0, sizeof(c));
	c.npeers = w->npeers;
	if (w->npeers > 0)
		memcpy(c.peers, &cw->v->peers[w->peer0],
		    w->npeers * sizeof(*c.peers));
	if (!is_ckpt || auditlog_field(l->body, l->bodylen, "peers", peers,
	    sizeof(peers)) != 0 || ckpt_peers_format(&c, want,
	    sizeof(want)) != 0 || strcmp(peers, want) != 0)
		ckptv_fail(cw->v, cw->n, "%s line seq %llu is not the "
		    "audit.checkpoint of node %s with the peers of checkpoint "
		    "id %lld", cw->n->pub.chain, (unsigned long long)l->seq,
		    cw->n->pub.name, (long long)w->id);
	else if (w->seq > cw->n->pub.checked_seq) {
		cw->n->pub.checked_seq = w->seq;
		cw->n->pub.checked_id = w->id;
	}
	return (0);
}

static void
ckptv_chain_check(struct ckptv *v, struct vnode *n)
{
	struct chain_walk cw = { v, n, 0 };
	struct auditlog_verify av;
	struct vrow *w;
	size_t i;
	int r;

	memset(&av, 0, sizeof(av));
	auditlog_verify_file(n->pub.chain, &av);
	if (av.verdict == AUDITLOG_ERROR) {
		ckptv_fail(v, n, "%s (node %s's chain) cannot be read: %s",
		    n->pub.chain, n->pub.name, av.why);
		return;
	}
	if (av.verdict == AUDITLOG_ALTERED)
		ckptv_fail(v, n, "%s (node %s's chain): line %llu: %s",
		    n->pub.chain, n->pub.name,
		    (unsigned long long)av.bad_line, av.why);
	n->pub.chain_seq = av.last_seq;
	if ((r = auditlog_each(n->pub.chain, ckptv_chain_line, &cw)) != 0) {
		ckptv_fail(v, n, "%s cannot be read: %s", n->pub.chain,
		    berr_str(r));
		return;
	}
	for (i = 0; i < n->nidx; i++) {
		w = &v->rows[n->idx[i]];
		if (w->found)
			continue;
		if (w->seq > cw.last)
			ckptv_fail(v, n, "%s ends at seq %llu, but node %s "
			    "signed checkpoint id %lld of seq %llu: the chain "
			    "was cut back", n->pub.chain,
			    (unsigned long long)cw.last, n->pub.name,
			    (long long)w->id, (unsigned long long)w->seq);
		else
			ckptv_fail(v, n, "%s has no line seq %llu, which node "
			    "%s signed in checkpoint id %lld", n->pub.chain,
			    (unsigned long long)w->seq, n->pub.name,
			    (long long)w->id);
	}
}

uint64_t
ckptv_check(struct ckptv *v)
{
	size_t i;

	if (ckptv_index(v) != 0) {
		ckptv_fail(v, NULL, "out of memory");
		return (v->failures);
	}
	ckptv_peers(v);
	for (i = 0; i < v->nnodes; i++)
		if (v->nodes[i].pub.chain != NULL)
			ckptv_chain_check(v, &v->nodes[i]);
	return (v->failures);
}

size_t
ckptv_nnodes(const struct ckptv *v)
{
	return (v->nnodes);
}

const struct ckptv_node *
ckptv_node_at(const struct ckptv *v, size_t i)
{
	return (i < v->nnodes ? &v->nodes[i].pub : NULL);
}

void
ckptv_summary(const struct ckptv *v, FILE *out)
{
	const struct ckptv_node *n;
	char when[32];
	struct tm tm;
	time_t t;
	size_t i;

	for (i = 0; i < v->nnodes; i++) {
		n = &v->nodes[i].pub;
		t = (time_t)n->last_ts;
		if (n->rows == 0 || gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		    &tm) == 0)
			snprintf(when, sizeof(when), "-");
		fprintf(out, "node %s: %llu signed checkpoint(s)", n->name,
		    (unsigned long long)n->rows);
		if (n->rows > 0)
			fprintf(out, ", the last id %lld of seq %llu at %s",
			    (long long)n->last_id,
			    (unsigned long long)n->last_seq, when);
		if (n->chain == NULL)
			fprintf(out, "; chain not checked here");
		else if (n->checked_id > 0)
			fprintf(out, "; chain %s (to seq %llu) matches up to "
			    "checkpoint id %lld (seq %llu)", n->chain,
			    (unsigned long long)n->chain_seq,
			    (long long)n->checked_id,
			    (unsigned long long)n->checked_seq);
		else
			fprintf(out, "; chain %s (to seq %llu) has no "
			    "checkpoint that matches", n->chain,
			    (unsigned long long)n->chain_seq);
		if (n->orphans > 0)
			fprintf(out, "; %llu checkpoint line(s) without a row "
			    "in the export", (unsigned long long)n->orphans);
		fprintf(out, "%s\n", n->failures > 0 ? ": ALTERED" : "");
	}
}
