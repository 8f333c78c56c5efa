/*
 * auditckpt.h - signed checkpoints of the audit chains of a group of
 * nodes (docs/AUDIT.md section 10, docs/SCALE-OUT.md "Audit chains").
 *
 * Each bastiond node keeps its own hash chain (auditlog.h). Every
 * store: checkpoint_interval and at a clean stop, the node appends an
 * audit.checkpoint event to its chain and writes a row into the shared
 * state store: its name, that line's seq and hash (the chain's head), the
 * time, and the heads of every other node as their latest rows say
 * (peers), all signed with the node's audit key (Ed25519, STATE_DIR/
 * audit.key; bastion/checkpoint.c). A node that rewrites or cuts its
 * chain cannot also rewrite the rows the other nodes signed about it.
 *
 * This file is the row's one text form, which is both what is signed
 * and, with the row id and the signature, one line of the export that
 * `bastionctl checkpoints` writes and `bastion-verify --cluster` reads:
 *
 *   bastion-checkpoint-v1 id=ID node=NAME seq=N hash=HEX64 ts=UNIX
 *       peers=NODE:SEQ:HEX64,... sig=HEX128          (one line)
 *
 * The signed message is the same line without " id=ID" and " sig=...":
 * "bastion-checkpoint-v1 node=... seq=... hash=... ts=... peers=...";
 * peers is "-" when there are none, else at most CKPT_PEERS_MAX entries
 * sorted by node name. Node names are those of the policy's store: node
 * (1..63 of [A-Za-z0-9._-]), so no value needs quoting. The parser takes
 * untrusted text: fixed keys in a fixed order, bounded values, nothing
 * else on the line (BERR_FORMAT otherwise).
 *
 * The rows live in two tables of the state store (store/auditckpt_db.c,
 * either backend): audit_checkpoint and audit_node_key (each node's
 * public key, published at its first start).
 */
#ifndef BASTION_AUDITCKPT_H
#define BASTION_AUDITCKPT_H

#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"

#define CKPT_MAGIC		"bastion-checkpoint-v1"
#define CKPT_NODE_MAX		63
#define CKPT_PEERS_MAX		32
#define CKPT_SIG_LEN		64	/* Ed25519 */
#define CKPT_SIG_HEX		(2 * CKPT_SIG_LEN)
/* peers: "-", or up to CKPT_PEERS_MAX of NODE:SEQ:HEX64 and commas */
#define CKPT_PEERS_TEXT_MAX	(CKPT_PEERS_MAX * (CKPT_NODE_MAX + 22 + \
				    AUDITLOG_HEX_LEN) + 2)
#define CKPT_LINE_MAX		(CKPT_PEERS_TEXT_MAX + 512)
#define CKPT_KEY_PEM_MAX	512
#define CKPT_KEY_FILE		"audit.key"	/* in STATE_DIR; .pub beside */

struct ckpt_peer {
	char node[CKPT_NODE_MAX + 1];
	uint64_t seq;
	char hash[AUDITLOG_HEX_LEN + 1];
};

struct ckpt {
	int64_t id;			/* the row's id; 0 before it has one */
	char node[CKPT_NODE_MAX + 1];
	uint64_t seq;			/* the audit.checkpoint line */
	char hash[AUDITLOG_HEX_LEN + 1];	/* its hash */
	int64_t ts;			/* when, Unix seconds */
	struct ckpt_peer peers[CKPT_PEERS_MAX];
	size_t npeers;
	char sig[CKPT_SIG_HEX + 1];	/* "" before it is signed */
};

/* 1 if s is a node name (1..63 of [A-Za-z0-9._-], not starting with a
 * dot or dash), else 0. */
int ckpt_node_ok(const char *s);

/* c's peers as text ("-" for none) into out: 0 or BERR_LIMIT. */
int ckpt_peers_format(const struct ckpt *c, char *out, size_t len);
/* Peers from text (untrusted): c->peers, c->npeers. 0 or BERR_FORMAT. */
int ckpt_peers_parse(const char *s, struct ckpt *c);
/* Add a peer, kept sorted by node (a node already there is replaced):
 * 0, BERR_INVAL (a bad name or hash), BERR_LIMIT (full). */
int ckpt_peer_add(struct ckpt *c, const char *node, uint64_t seq,
    const char *hash);

/* The message a node signs (no newline) into out; *n its length.
 * 0, BERR_INVAL (a field that is not valid), BERR_LIMIT. */
int ckpt_signed_text(const struct ckpt *c, char *out, size_t len, size_t *n);
/* The export line (no newline), with id and signature. */
int ckpt_line(const struct ckpt *c, char *out, size_t len);
/* One export line (len bytes, no newline; untrusted) into *c.
 * 0 or BERR_FORMAT. */
int ckpt_line_parse(const char *text, size_t len, struct ckpt *c);

/* ---- the rows (auditckpt_db.c) ----------------------------------------- */

struct state;

/* Insert c (signed) as a new row; *id (may be NULL) its id. */
int state_ckpt_put(struct state *st, const struct ckpt *c, int64_t *id);
/* Every row, oldest first (node NULL: every node's). fn returning
 * non-zero stops the walk and is returned. */
int state_ckpt_each(struct state *st, const char *node,
    int (*fn)(const struct ckpt *c, void *arg), void *arg);
/* The newest row of every node but except's, as peers of c. */
int state_ckpt_heads(struct state *st, const char *except, struct ckpt *c);
/*
 * Publish node's public key (PEM): a node's first key stays; *same is
 * set to 1 when the stored key is pem, 0 when another one is stored (the
 * caller says so: a replaced key must be published by hand).
 */
int state_ckpt_key_put(struct state *st, const char *node, const char *pem,
    int *same);
/* Every published key: fn(node, pem, arg). */
int state_ckpt_key_each(struct state *st,
    int (*fn)(const char *node, const char *pem, void *arg), void *arg);

#endif
