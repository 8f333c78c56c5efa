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


struct relay_airlock {
	struct airlock_file f[AIRLOCK_FILES];
	struct magic_set *magic;	/* files: types, loaded once */
	void *magic_db;			/* its database: lives as long */
	unsigned serial;
	uint32_t next_id;		/* our requests to the device */
};

/* relay_airlock.c: body (type first) framed with its length into q.
 * 0 or -1. */
int relay_airlock_frame(struct sftp_q *q, const struct buf *body);
/*
 * relay_airlock_dev.c: write af's quarantined bytes to the device (its
 * path, WRITE|CREAT|TRUNC and the client's EXCL, no attributes), then
 * read the device's copy back into md. 0, or -1 with why (the device
 * refused, the copy is longer or shorter, the channel is gone).
 */
int relay_airlock_place(struct sess *S, struct airlock_file *af,
    EVP_MD_CTX *md, char *why, size_t whylen);

#endif
