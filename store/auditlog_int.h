/*
 * auditlog_int.h - what auditlog.c (line format, appending) and
 * auditread.c (reading, selection, verification) share inside store/ and
 * nobody else needs.
 */
#ifndef BASTION_AUDITLOG_INT_H
#define BASTION_AUDITLOG_INT_H

#include <stddef.h>

#include "auditlog.h"

/* Lowercase hex SHA-256 of a (alen bytes) followed by b (blen bytes; b may
 * be NULL with blen 0) into out. 0, BERR_NOMEM or BERR_CRYPTO. */
int auditlog_sha256(const void *a, size_t alen, const void *b, size_t blen,
    char out[AUDITLOG_HEX_LEN + 1]);

#endif
