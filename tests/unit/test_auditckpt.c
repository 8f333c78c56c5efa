/*
 * test_auditckpt.c - the signed audit checkpoints: their text form
 * (store/auditckpt.c: what is signed, the export line, the strict parser
 * over bad lines), their rows in the state store (auditckpt_db.c), and
 * the offline cluster check (recorder/lib/ckptverify.c) over real chains
 * written by the chain's own appender: intact, a forged row, a peer
 * commitment that disagrees, a chain rewritten and re-chained, a chain
 * cut back below its last checkpoint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditckpt.h"
#include "ckptverify.h"
#include "err.h"
#include "hex.h"
#include "reckey.h"

#include "store_fixture.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

static struct reckey *
seed_key(uint8_t b)
{
	uint8_t seed[RECKEY_SEED_LEN];
	struct reckey *k;

	memset(seed, b, sizeof(seed));
	assert_int_equal(reckey_from_seed(seed, &k), 0);
	return (k);
}

static void
sign(struct ckpt *c, const struct reckey *k)
{
	char msg[CKPT_LINE_MAX];
	uint8_t sig[CKPT_SIG_LEN];
	size_t n;

	assert_int_equal(ckpt_signed_text(c, msg, sizeof(msg), &n), 0);
	assert_int_equal(reckey_sign(k, msg, n, sig), 0);
	hex_encode(sig, sizeof(sig), c->sig);
}

static void
mk(struct ckpt *c, int64_t id, const char *node, uint64_t seq,
    const char *hash)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	snprintf(c->node, sizeof(c->node), "%s", node);
	c->seq = seq;
	snprintf(c->hash, sizeof(c->hash), "%s", hash);
	c->ts = 1765000000 + id;
}

/* ---- the text form ----------------------------------------------------- */

static void
test_text_roundtrip(void **state)
{
	struct reckey *k = seed_key(1);
	char line[CKPT_LINE_MAX], msg[CKPT_LINE_MAX];
	struct ckpt c, back;
	size_t n;

	(void)state;
	mk(&c, 7, "bastion-a", 42, H1);
	/* added out of order, kept sorted; a node again replaces itself */
	assert_int_equal(ckpt_peer_add(&c, "node-c", 3, H2), 0);
	assert_int_equal(ckpt_peer_add(&c, "bastion-b", 9, H1), 0);
	assert_int_equal(ckpt_peer_add(&c, "node-c", 4, H2), 0);
	assert_int_equal(c.npeers, 2);
	assert_int_equal(ckpt_peer_add(&c, "-bad", 4, H2), BERR_INVAL);
	assert_int_equal(ckpt_peer_add(&c, "x", 4, "abc"), BERR_INVAL);
	assert_int_equal(ckpt_signed_text(&c, msg, sizeof(msg), &n), 0);
	assert_string_equal(msg, "bastion-checkpoint-v1 node=bastion-a seq=42 "
	    "hash=" H1 " ts=1765000007 peers=bastion-b:9:" H1 ",node-c:4:"
	    H2);
	assert_int_equal(n, strlen(msg));
	/* no line without a signature and an id */
	assert_int_equal(ckpt_line(&c, line, sizeof(line)), BERR_INVAL);
	sign(&c, k);
	assert_int_equal(ckpt_line(&c, line, sizeof(line)), 0);
	assert_int_equal(ckpt_line_parse(line, strlen(line), &back), 0);
	assert_int_equal(back.id, 7);
	assert_string_equal(back.node, "bastion-a");
	assert_int_equal(back.seq, 42);
	assert_int_equal(back.npeers, 2);
	assert_string_equal(back.peers[1].node, "node-c");
	assert_int_equal(back.peers[1].seq, 4);
	assert_string_equal(back.sig, c.sig);
	reckey_free(k);
}

static void
test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"bastion-checkpoint-v2 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=01 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=0 hash=" H1 " ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 node=a id=1 seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=1 node=.a seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 "0 ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=AB" H1 " ts=1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=-1 "
		    "peers=- sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers= sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=c:1:" H1 ",b:1:" H1 " sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=b:1:" H1 ",b:2:" H1 " sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=b:1:" H1 ", sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=b::" H1 " sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s ",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s extra=1",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=- sig=%s0",
		"bastion-checkpoint-v1 id=1 node=a seq=1 hash=" H1 " ts=1 "
		    "peers=-  sig=%s",
		"bastion-checkpoint-v1 id=1 node=a seq=99999999999999999999 "
		    "hash=" H1 " ts=1 peers=- sig=%s",
	};
	char sig[CKPT_SIG_HEX + 1], line[CKPT_LINE_MAX];
	struct ckpt c;
	size_t i;

	(void)state;
	memset(sig, 'a', CKPT_SIG_HEX);
	sig[CKPT_SIG_HEX] = '\0';
	/* the good one first, so that each bad one fails for its fault */
	snprintf(line, sizeof(line), "bastion-checkpoint-v1 id=1 node=a seq=1 "
	    "hash=" H1 " ts=1 peers=b:1:" H1 " sig=%s", sig);
	assert_int_equal(ckpt_line_parse(line, strlen(line), &c), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), bad[i], sig);
		if (ckpt_line_parse(line, strlen(line), &c) != BERR_FORMAT)
			fail_msg("accepted: %s", line);
	}
	/* a NUL inside the line */
	snprintf(line, sizeof(line), "bastion-checkpoint-v1 id=1 node=a seq=1 "
	    "hash=" H1 " ts=1 peers=- sig=%s", sig);
	line[30] = '\0';
	assert_int_equal(ckpt_line_parse(line, strlen(line + 31) + 31, &c),
	    BERR_FORMAT);
}

/* ---- the rows ---------------------------------------------------------- */

struct seen {
	struct ckpt c[4];
	size_t n;
};

static int
collect(const struct ckpt *c, void *arg)
{
	struct seen *s = arg;

	if (s->n < 4)
		s->c[s->n] = *c;
	s->n++;
	return (0);
}

static int
count_key(const char *node, const char *pem, void *arg)
{
	(void)pem;
	assert_true(ckpt_node_ok(node));
	(*(int *)arg)++;
	return (0);
}

static void
test_rows(void **state)
{
	struct fixture *f = *state;
	struct reckey *k = seed_key(2);
	struct ckpt c, heads;
	struct seen s = { .n = 0 };
	int64_t id = 0;
	int same = -1, nkeys = 0;

	mk(&c, 0, "a", 5, H1);
	assert_int_equal(state_ckpt_put(f->st, &c, &id), BERR_INVAL);
	sign(&c, k);
	assert_int_equal(state_ckpt_put(f->st, &c, &id), 0);
	assert_true(id > 0);
	mk(&c, 0, "b", 3, H2);
	assert_int_equal(ckpt_peer_add(&c, "a", 5, H1), 0);
	sign(&c, k);
	assert_int_equal(state_ckpt_put(f->st, &c, NULL), 0);
	mk(&c, 0, "a", 9, H2);
	sign(&c, k);
	assert_int_equal(state_ckpt_put(f->st, &c, NULL), 0);

	assert_int_equal(state_ckpt_each(f->st, NULL, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.c[1].node, "b");
	assert_int_equal(s.c[1].npeers, 1);
	assert_string_equal(s.c[1].peers[0].hash, H1);
	s.n = 0;
	assert_int_equal(state_ckpt_each(f->st, "a", collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.c[1].seq, 9);

	/* the newest of every other node */
	memset(&heads, 0, sizeof(heads));
	assert_int_equal(state_ckpt_heads(f->st, "b", &heads), 0);
	assert_int_equal(heads.npeers, 1);
	assert_string_equal(heads.peers[0].node, "a");
	assert_int_equal(heads.peers[0].seq, 9);
	assert_int_equal(state_ckpt_heads(f->st, "c", &heads), 0);
	assert_int_equal(heads.npeers, 2);

	/* the first published key stays */
	assert_int_equal(state_ckpt_key_put(f->st, "a", "PEM-1", &same), 0);
	assert_int_equal(same, 1);
	assert_int_equal(state_ckpt_key_put(f->st, "a", "PEM-2", &same), 0);
	assert_int_equal(same, 0);
	assert_int_equal(state_ckpt_key_put(f->st, "b", "PEM-3", &same), 0);
	assert_int_equal(state_ckpt_key_each(f->st, count_key, &nkeys), 0);
	assert_int_equal(nkeys, 2);
	reckey_free(k);
}

/* ---- the cluster check ------------------------------------------------- */

struct group {
	struct reckey *ka, *kb;
	char chain_a[PATH_MAX + 16];
	struct ckpt rows[3];
};

/* Node a's chain: three lines, a checkpoint (seq 2), two more, a second
 * checkpoint (seq 5); node b's one checkpoint commits a's first. */
static void
group_make(struct fixture *f, struct group *g)
{
	struct auditlog *al;
	char hash[AUDITLOG_HEX_LEN + 1], peers[CKPT_PEERS_TEXT_MAX];
	char body[CKPT_PEERS_TEXT_MAX + 128];
	uint64_t seq;

	g->ka = seed_key(3);
	g->kb = seed_key(4);
	snprintf(g->chain_a, sizeof(g->chain_a), "%s", f->path);
	assert_int_equal(auditlog_new(f->path, 1, &al), 0);
	assert_int_equal(auditlog_append(al, "ts=2026-12-07T10:00:00.000Z "
	    "event=bastion.start pid=1 policy=/p", NULL, NULL), 0);
	assert_int_equal(auditlog_append(al, "ts=2026-12-07T10:05:00.000Z "
	    "event=audit.checkpoint pid=1 node=a peers=- reason=interval",
	    &seq, hash), 0);
	mk(&g->rows[0], 1, "a", seq, hash);
	sign(&g->rows[0], g->ka);

	mk(&g->rows[1], 2, "b", 77, H2);
	assert_int_equal(ckpt_peer_add(&g->rows[1], "a", seq, hash), 0);
	sign(&g->rows[1], g->kb);

	assert_int_equal(auditlog_append(al, "ts=2026-12-07T10:06:00.000Z "
	    "event=bastion.stop pid=1", NULL, NULL), 0);
	assert_int_equal(auditlog_append(al, "ts=2026-12-07T10:07:00.000Z "
	    "event=bastion.start pid=2 policy=/p", NULL, NULL), 0);
	mk(&g->rows[2], 3, "a", 0, H1);
	assert_int_equal(ckpt_peer_add(&g->rows[2], "b", 77, H2), 0);
	assert_int_equal(ckpt_peers_format(&g->rows[2], peers, sizeof(peers)),
	    0);
	snprintf(body, sizeof(body), "ts=2026-12-07T10:10:00.000Z "
	    "event=audit.checkpoint pid=2 node=a peers=%s reason=stop", peers);
	assert_int_equal(auditlog_append(al, body, &seq, hash), 0);
	g->rows[2].seq = seq;
	snprintf(g->rows[2].hash, sizeof(g->rows[2].hash), "%s", hash);
	sign(&g->rows[2], g->ka);
	auditlog_free(al);
}

/* Check rows (n of them) with both keys and a's chain: the failures. */
static uint64_t
group_check(struct group *g, const struct ckpt *rows, size_t n,
    const char *chain)
{
	struct ckptv *v = NULL;
	uint8_t sa[RECKEY_SEED_LEN], sb[RECKEY_SEED_LEN];
	struct reckey *ka, *kb;
	uint64_t bad;
	size_t i;

	(void)g;
	memset(sa, 3, sizeof(sa));
	memset(sb, 4, sizeof(sb));
	assert_int_equal(reckey_from_seed(sa, &ka), 0);
	assert_int_equal(reckey_from_seed(sb, &kb), 0);
	/* CKPTV_VERBOSE=1: each failure found, on stderr */
	assert_int_equal(ckptv_new(getenv("CKPTV_VERBOSE") != NULL ? stderr :
	    NULL, &v), 0);
	assert_int_equal(ckptv_key(v, "a", ka), 0);
	assert_int_equal(ckptv_key(v, "b", kb), 0);
	if (chain != NULL)
		assert_int_equal(ckptv_chain(v, "a", chain), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(ckptv_add(v, &rows[i]), 0);
	bad = ckptv_check(v);
	if (bad == 0 && chain != NULL) {
		const struct ckptv_node *a = ckptv_node_at(v, 0);

		assert_string_equal(a->name, "a");
		assert_int_equal(a->checked_id, 3);
	}
	ckptv_free(v);
	return (bad);
}

static void
group_free(struct group *g)
{
	reckey_free(g->ka);
	reckey_free(g->kb);
}

static void
test_cluster_intact(void **state)
{
	struct group g;
	struct ckptv *v = NULL;
	char line[CKPT_LINE_MAX];
	FILE *fp;
	size_t i;

	group_make(*state, &g);
	assert_int_equal(group_check(&g, g.rows, 3, g.chain_a), 0);
	/* the same through an export file and the reader */
	assert_non_null(fp = tmpfile());
	for (i = 0; i < 3; i++) {
		assert_int_equal(ckpt_line(&g.rows[i], line, sizeof(line)), 0);
		fprintf(fp, "%s\n", line);
	}
	fprintf(fp, "not a checkpoint\n");
	rewind(fp);
	assert_int_equal(ckptv_new(NULL, &v), 0);
	assert_int_equal(ckptv_key(v, "a", seed_key(3)), 0);
	assert_int_equal(ckptv_key(v, "b", seed_key(4)), 0);
	assert_int_equal(ckptv_key(v, "b", seed_key(4)), BERR_EXISTS);
	assert_int_equal(ckptv_read(v, fp), 0);
	/* the one bad line, nothing else */
	assert_int_equal(ckptv_check(v), 1);
	assert_int_equal(ckptv_nnodes(v), 2);
	ckptv_free(v);
	fclose(fp);
	group_free(&g);
}

static void
test_cluster_forged_row(void **state)
{
	struct group g;
	struct ckpt rows[3];

	group_make(*state, &g);
	memcpy(rows, g.rows, sizeof(rows));
	/* a's second checkpoint, re-signed with b's key */
	sign(&rows[2], g.kb);
	assert_true(group_check(&g, rows, 3, NULL) > 0);
	/* edited after signing */
	memcpy(rows, g.rows, sizeof(rows));
	rows[0].ts++;
	assert_true(group_check(&g, rows, 3, NULL) > 0);
	/* a node nobody gave a key for */
	memcpy(rows, g.rows, sizeof(rows));
	snprintf(rows[1].node, sizeof(rows[1].node), "c");
	assert_true(group_check(&g, rows, 3, NULL) > 0);
	group_free(&g);
}

static void
test_cluster_peers_disagree(void **state)
{
	struct group g;
	struct ckpt rows[3];

	group_make(*state, &g);
	/* a rewrote its first checkpoint (it holds its key): b's row, which
	 * committed the old head, no longer agrees */
	memcpy(rows, g.rows, sizeof(rows));
	snprintf(rows[0].hash, sizeof(rows[0].hash), "%s", H1);
	sign(&rows[0], g.ka);
	assert_true(group_check(&g, rows, 3, NULL) > 0);
	/* a dropped its first checkpoint altogether */
	assert_true(group_check(&g, rows + 1, 2, NULL) > 0);
	/* seqs of a node going back */
	memcpy(rows, g.rows, sizeof(rows));
	rows[2].seq = 1;
	sign(&rows[2], g.ka);
	assert_true(group_check(&g, rows, 3, NULL) > 0);
	group_free(&g);
}

/* Rewrite line 1 of the chain and re-chain every hash after it, as
 * someone who can write the file can. */
static void
rechain(const char *path)
{
	char lines[8][1024], out[8][1200], prev[AUDITLOG_HEX_LEN + 1];
	char hash[AUDITLOG_HEX_LEN + 1];
	struct auditlog_line l;
	FILE *fp;
	size_t n = 0, i;

	assert_non_null(fp = fopen(path, "r"));
	while (n < 8 && fgets(lines[n], sizeof(lines[n]), fp) != NULL) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(fp);
	memset(prev, '0', AUDITLOG_HEX_LEN);
	prev[AUDITLOG_HEX_LEN] = '\0';
	for (i = 0; i < n; i++) {
		assert_int_equal(auditlog_line_parse(lines[i], strlen(lines[i]),
		    &l), 0);
		snprintf(out[i], sizeof(out[i]), "seq=%zu prev=%s %.*s%s", i + 1,
		    prev, (int)l.bodylen, l.body, i == 0 ? " policy2=/x" : "");
		assert_int_equal(auditlog_hash(out[i], strlen(out[i]), hash), 0);
		snprintf(out[i] + strlen(out[i]), sizeof(out[i]) -
		    strlen(out[i]), " hash=%s", hash);
		memcpy(prev, hash, sizeof(prev));
	}
	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < n; i++)
		fprintf(fp, "%s\n", out[i]);
	fclose(fp);
}

static void
test_cluster_chain_rewritten(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify av;
	struct group g;

	group_make(f, &g);
	rechain(g.chain_a);
	/* the chain alone still verifies: only the checkpoints can tell */
	assert_int_equal(auditlog_verify_file(g.chain_a, &av), AUDITLOG_OK);
	assert_true(group_check(&g, g.rows, 3, g.chain_a) > 0);
	group_free(&g);
}

static void
test_cluster_chain_cut(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify av;
	struct group g;
	char line[1200];
	long keep = 0;
	FILE *fp;
	int i;

	group_make(f, &g);
	/* keep the first four lines: below the last checkpoint (seq 5) */
	assert_non_null(fp = fopen(g.chain_a, "r"));
	for (i = 0; i < 4 && fgets(line, sizeof(line), fp) != NULL; i++)
		keep = ftell(fp);
	fclose(fp);
	assert_int_equal(truncate(g.chain_a, keep), 0);
	assert_int_equal(auditlog_verify_file(g.chain_a, &av), AUDITLOG_OK);
	assert_true(group_check(&g, g.rows, 3, g.chain_a) > 0);
	/* without the chain, the rows alone still agree */
	assert_int_equal(group_check(&g, g.rows, 3, NULL), 0);
	group_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_roundtrip),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_intact,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_forged_row,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_peers_disagree,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_chain_rewritten,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_chain_cut,
		    setup_audit, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
