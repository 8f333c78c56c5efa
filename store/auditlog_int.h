/*
 * auditlog_int.h - what the audit chain's three parts share inside store/:
 * auditlog.c (line format, hashing, parsing), auditlog_write.c (appending,
 * the process-wide chain, group commits for the store actor) and
 * auditread.c (reading, selection, verification). Not for use outside
 * store/.
 */
#ifndef BASTION_AUDITLOG_INT_H
#define BASTION_AUDITLOG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"

#define AUDITLOG_TAIL		(2 * AUDITLOG_LINE_MAX)
#define AUDITLOG_HASH_SUFFIX	(6 + AUDITLOG_HEX_LEN)	/* " hash=" HEX */

/* 64 zeros: the prev of seq 1. */
extern const char auditlog_zero[AUDITLOG_HEX_LEN + 1];

/* Lowercase hex SHA-256 of a (alen bytes) followed by b (blen bytes; b may
 * be NULL with blen 0) into out. 0, BERR_NOMEM or BERR_CRYPTO. */
int auditlog_sha256(const void *a, size_t alen, const void *b, size_t blen,
    char out[AUDITLOG_HEX_LEN + 1]);
/* Bytes allowed in an event body: not empty, no C0 controls, no DEL. */
int auditlog_body_ok(const char *p, size_t n);

/*
 * Append n (at most AUDITLOG_BATCH_MAX) bodies as consecutive lines under
 * one lock, with one write and one fdatasync: the store actor's group
 * commit. res[i] is 0 (seqs[i] and hashes[i] set) or BERR_INVAL for a
 * body that cannot be a line (skipped). Returns 0 when the others were
 * written, else a BERR_* code for all of them (nothing was written;
 * auditlog_error() says why).
 */
#define AUDITLOG_BATCH_MAX	64
int auditlog_append_batch(struct auditlog *al, const char *const *bodies,
    size_t n, uint64_t *seqs, char (*hashes)[AUDITLOG_HEX_LEN + 1],
    int *res);

#endif
