/*
 * recverify.h - check a recording's chain, signatures and seal.
 *
 * Needs only the recorder's public key. The verdicts are the exit codes of
 * bastion-verify (docs/RECORDING-FORMAT.md, "Verification"):
 *
 *	RECVERIFY_OK        every frame chains, every signature verifies, the
 *	                    recording ends with a valid SEAL
 *	RECVERIFY_ALTERED   something does not verify: the report names the
 *	                    first bad frame (seq and offset) and why
 *	RECVERIFY_UNSEALED  every frame is consistent and everything up to the
 *	                    last CHECKPOINT verifies, but there is no SEAL
 *	                    (recorder crash): report.unverified frames follow
 *	                    the last signature and are not proven
 *	RECVERIFY_ERROR     the file could not be read
 */
#ifndef BASTION_RECVERIFY_H
#define BASTION_RECVERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "recfmt.h"

struct reckey;

enum recverify_verdict {
	RECVERIFY_OK = 0,
	RECVERIFY_ALTERED = 1,
	RECVERIFY_UNSEALED = 2,
	RECVERIFY_ERROR = 3,
};

struct recverify_report {
	int verdict;
	struct rec_hdr hdr;		/* HEADER fields; empty if none */
	int version;			/* format 1 or 2 (encrypted) */
	size_t recipients;		/* format 2: X25519 stanzas */
	size_t rewraps;			/* format 2: signed rewraps */
	uint64_t frames;		/* consistent frames read */
	uint64_t verified;		/* frames 0..verified-1 are signed */
	uint64_t unverified;		/* consistent frames after those */
	uint64_t checkpoints;		/* valid CHECKPOINTs */
	uint64_t last_signed_seq;	/* seq of the last valid signature */
	uint64_t duration_us;		/* time of the last frame */
	uint64_t out_bytes, in_bytes, fwd_bytes;
	uint64_t file_bytes;		/* bytes of whole, consistent frames */
	uint8_t head[REC_HASH_LEN];	/* chain hash of the last of them (of
					   the SEAL, when sealed): what the
					   recorder's recording.sealed audit
					   event calls head */
	int sealed;
	int end_status;			/* enum rec_end, when sealed */
	char end_reason[300];		/* SEAL reason, text_clean_buf()ed
					   with TEXT_ESCAPE */
	/* ALTERED / ERROR: where and why */
	uint64_t bad_seq;		/* the seq the bad frame has or should
					   have */
	uint64_t bad_offset;
	int bad_frame;			/* 0 if the problem is the magic line */
	char why[512];
};

/* Verify the recording at path / in fp (read from its start, not closed).
 * Fills *rep (clear it with recverify_report_clear) and returns its
 * verdict. pub is the recorder's public key. */
int recverify_file(const char *path, const struct reckey *pub,
    struct recverify_report *rep);
int recverify_fp(FILE *fp, const struct reckey *pub,
    struct recverify_report *rep);
void recverify_report_clear(struct recverify_report *rep);

#endif
