/*
 * relay_airlock_int.h - what the import airlock's two files share:
 * relay_airlock.c (the engineer's requests: the quarantine, the scan, the
 * verdict) and relay_airlock_dev.c (the file placed on the device through
 * the same SFTP channel and read back). docs/FILES.md.
 */
#ifndef BASTION_RELAY_AIRLOCK_INT_H
#define BASTION_RELAY_AIRLOCK_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "sftp.h"

struct buf;
struct sess;
struct sftp_q;
struct magic_set;

#define AIRLOCK_FILES		16		/* uploads held at once */

struct airlock_file {
	int used;
	char handle[24];		/* "airlock-N": ours, never the
					   device's (sftp-server's are 4
					   bytes) */
	size_t hlen;
	char path[SFTP_MAX_PATH + 1];
	uint32_t pflags;
	int fd;				/* the quarantine file */
	uint64_t size;			/* highest offset + length written */
	int refused;			/* a WRITE was refused: so is the file */
	int gap;			/* a WRITE began past the end: a resume
					   (reput) or out of order */
};


struct relay_export;

struct relay_airlock {
	struct airlock_file f[AIRLOCK_FILES];
	struct relay_export *exports;	/* files: approve: out, else NULL
					   (relay_export.c) */
	struct magic_set *magic;	/* files: types, loaded once */
	void *magic_db;			/* its database: lives as long */
	unsigned serial;
	uint32_t next_id;		/* our requests to the device */
};

/* relay_airlock.c: body (type first) framed with its length into q.
 * 0 or -1. */
int relay_airlock_frame(struct sftp_q *q, const struct buf *body);
/* relay_airlock.c: an answer of the bastion's own to the engineer (body:
 * type first), fed to the tracker as if the device had sent it, recorded
 * as an OUTPUT frame after an EVENT airlock.answer, queued. 0 or -1. */
int relay_airlock_answer(struct sess *S, struct buf *body);
/* The same for a STATUS (id, code, message). 0 or -1. */
int relay_airlock_status(struct sess *S, uint32_t id, uint32_t code,
    const char *msg);
/*
 * relay_airlock_dev.c: read path from the device whole, at most limit
 * bytes, through the same channel (the bastion's own OPEN, READs, CLOSE),
 * each chunk to sink(arg, offset, bytes, n) in order (sink: 0, or -1 to
 * stop). 0 with *size; 1 when the file is longer than limit; -1 with why
 * (and *status, may be NULL, the device's code when it refused the OPEN).
 */
int relay_airlock_fetch(struct sess *S, const char *path, uint64_t limit,
    int (*sink)(void *arg, uint64_t off, const uint8_t *p, size_t n),
    void *arg, uint64_t *size, uint32_t *status, char *why, size_t whylen);

/* relay_export.c (files: approve: out): export approval, docs/FILES.md */
int relay_export_start(struct relay_airlock *A);	/* 0 or -1 */
void relay_export_end(struct relay_airlock *A);	/* NULL-safe */
/* A download's OPEN, or a request on a handle of a held export: 1 taken
 * (recorded, answered or held), 0 not export's, -1 recording failed. */
int relay_export_request(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m);
/*
 * relay_airlock_dev.c: write af's quarantined bytes to the device (its
 * path, WRITE|CREAT|TRUNC and the client's EXCL, no attributes), then
 * read the device's copy back into md. 0, or -1 with why (the device
 * refused, the copy is longer or shorter, the channel is gone).
 */
int relay_airlock_place(struct sess *S, struct airlock_file *af,
    EVP_MD_CTX *md, char *why, size_t whylen);

#endif
