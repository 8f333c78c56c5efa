/*
 * ckptverify.h - the offline check of a group's audit checkpoints
 * (`bastion-verify --cluster CHECKPOINTS -k NODE=KEY.pub ... [--chain
 * NODE=AUDIT.log ...]`, and the node lines of `bastionctl report`;
 * docs/AUDIT.md section 10).
 *
 * The checkpoints are the rows `bastionctl checkpoints --export` writes
 * (store/auditckpt.h, one line each, oldest first); the keys are the
 * nodes' audit keys as the auditor copied them (STATE_DIR/audit.key.pub of
 * each node); the chains are nodes' audit.log files. Nothing here talks
 * to a database: the rows carry their own proof. The checks:
 *
 *   1. every row parses and its signature verifies with the key given
 *      for its node (a node without a key given fails: fail closed);
 *   2. each node's rows, in id order, commit strictly growing seqs;
 *   3. every peer a row commits (NODE:SEQ:HASH) is a row of that node,
 *      with that seq and exactly that hash;
 *   4. for each chain given: the chain verifies (auditlog_verify), every
 *      checkpoint of its node names a line that is there, with exactly
 *      the row's hash, and that line is the node's audit.checkpoint
 *      event with the same peers. A chain edited and re-chained fails at
 *      the first checkpoint after the edit; a chain cut back below its
 *      last checkpoint fails as cut.
 *
 * Rows and peers are kept compactly (a year of 5-minute checkpoints of a
 * few nodes is well within CKPTV_ROWS_MAX); the input is untrusted and
 * bounded everywhere.
 */
#ifndef BASTION_CKPTVERIFY_H
#define BASTION_CKPTVERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "auditckpt.h"

#define CKPTV_ROWS_MAX		1000000
#define CKPTV_NODES_MAX		64
#define CKPTV_WHY_MAX		320

struct reckey;
struct ckptv;

/* What was found of one node. */
struct ckptv_node {
	char name[CKPT_NODE_MAX + 1];
	int has_key;
	uint64_t rows;			/* its checkpoints */
	int64_t last_id;		/* the newest of them */
	uint64_t last_seq;
	int64_t last_ts;
	const char *chain;		/* the chain checked, or NULL */
	uint64_t chain_seq;		/* its last seq that verifies */
	uint64_t checked_seq;		/* the last checkpoint found in it */
	int64_t checked_id;
	uint64_t orphans;		/* checkpoint lines without a row */
	uint64_t failures;
	char why[CKPTV_WHY_MAX];	/* the first failure */
};

/* A new check whose failures are written to err (may be NULL) as
 * "ALTERED: ..." when found: give the keys first, then the rows. *out
 * NULL on entry and on failure: 0 or BERR_NOMEM. */
int ckptv_new(FILE *err, struct ckptv **out);
void ckptv_free(struct ckptv *v);
/* The key of node (taken: freed with v, also on failure). 0, BERR_INVAL
 * (not a node name), BERR_EXISTS (a second key), BERR_LIMIT. */
int ckptv_key(struct ckptv *v, const char *node, struct reckey *k);
/* Check node's chain at path (kept, not copied). */
int ckptv_chain(struct ckptv *v, const char *node, const char *path);
/* One row: from an export line (lineno for messages) or a parsed one.
 * 0, BERR_FORMAT (recorded as a failure), BERR_LIMIT, BERR_NOMEM. */
int ckptv_add_line(struct ckptv *v, const char *text, size_t len,
    uint64_t lineno);
int ckptv_add(struct ckptv *v, const struct ckpt *c);
/* Read an export (every line a row); lines that are not fail. 0, or
 * BERR_SYS / BERR_LIMIT when it cannot be read. */
int ckptv_read(struct ckptv *v, FILE *in);
/*
 * Run the checks over the rows added (the rows' own checks, signatures
 * included, ran as they were added). Returns the number of failures of
 * the whole check (0: everything holds).
 */
uint64_t ckptv_check(struct ckptv *v);
/* The nodes seen (rows, keys or chains), by name. */
size_t ckptv_nnodes(const struct ckptv *v);
const struct ckptv_node *ckptv_node_at(const struct ckptv *v, size_t i);
/* One line per node on out: what was checked up to which checkpoint. */
void ckptv_summary(const struct ckptv *v, FILE *out);

#endif
