/*
 * relay_sftp_int.h - what relay_sftp.c (the SFTP airlock's relay) shares
 * with its neighbour relay_airlock.c (the import airlock: uploads held in
 * a quarantine on the bastion, scanned, placed on the device, read back),
 * and nothing else includes: the relay's state and the helpers that queue,
 * record and answer packets.
 */
#ifndef BASTION_RELAY_SFTP_INT_H
#define BASTION_RELAY_SFTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libssh/libssh.h>

#include "burst.h"
#include "sftp.h"

struct sess;
struct relay_airlock;
struct scp;

#define SFTP_Q_SOFT	(512 * 1024)	/* stop reading above this */
#define SFTP_Q_MAX	(SFTP_Q_SOFT + 4 + SFTP_MAX_PACKET + 65536)
#define SFTP_OWN_MAX	8		/* own REMOVEs under way */
#define SFTP_AUDIT_REFUSALS 100		/* sftp.refused lines per session */
/* file.transfer records per MON_AUDIT_WINDOW: past it, the engineer's
 * requests wait (the monitor kills a child past MON_AUDIT_BURST lines;
 * with the files still open and the refusals, this stays below it) */
#define SFTP_RECORDS_BURST	400

struct sftp_q {
	uint8_t *d;
	size_t n, off;
};

struct relay_sftp {
	struct sftp_reasm from_v, from_d;
	struct sftp_track *track;
	struct sftp_q to_dev, to_vendor;
	uint32_t own[SFTP_OWN_MAX];	/* ids of our REMOVEs */
	size_t nown;
	uint32_t next_own;
	unsigned refusals;
	struct burst recs;		/* file.transfer records */
	struct relay_airlock *airlock;	/* files: scan: clamd, else NULL */
	int closed;			/* ended for a malformed packet */
	int failed;			/* recording failed */
	struct scp *scp;		/* scp -O, parsed (relay_scp.c):
					   then only the queues, recs and
					   refusals above are used */
	int scp_upload;			/* scp -t: the device is the sink */
};


/* relay_sftp.c */
int sftp_q_push(struct sftp_q *q, const uint8_t *p, size_t n);
/* Write what the window takes: bytes written, or -1 on a channel error. */
ssize_t sftp_q_flush(ssh_channel dst, struct sftp_q *q);
/* Both queues (towards the device, then the engineer): bytes written, or
 * -1 on a channel error while the channel is not closed. */
ssize_t sftp_q_flush_both(struct sess *S);
/* Record one packet (from_device: an OUTPUT frame, else INPUT), preceded
 * by an EVENT sftp.refused when why is not NULL. 0 or -1. */
int sftp_rec_packet(struct sess *S, int from_device, const uint8_t *pkt,
    size_t len, const struct sftp_msg *m, uint32_t code, const char *why);
/* Answer request id with a STATUS of the bastion's own. 0 or -1. */
int sftp_answer(struct relay_sftp *F, uint32_t id, uint32_t code,
    const char *msg);
/* One whole packet from the device, as the relay handles it. 0 or -1. */
int sftp_from_device(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *mp);
/* A malformed packet (from_device: the device's): this channel ends, the
 * engineer is told why, audited. */
void sftp_malformed(struct sess *S, int from_device, const char *why);
/* The end of a malformed channel, told and audited by the caller: exit
 * status 1 (unless the device gave one), end_reason, both sides closed. */
void sftp_close_channel(struct sess *S, const char *end_reason);
/* So many files were recorded in this window (SFTP_RECORDS_BURST) that
 * the side that starts new files waits for the next: 1 or 0. */
int sftp_records_full(struct sess *S);
/* A file finished (sftp_record_fn, arg: the session): its EVENT
 * "file.transfer" and audit event. */
void sftp_record_cb(void *arg, const struct sftp_record *r);
/* Remove path from the device (the bastion's own REMOVE). 0 or -1. */
int sftp_remove(struct sess *S, const char *path);

/* relay_export.c (files: approve: out): answers to READs of an approved
 * export, written while the queue towards the engineer has room. 0 or
 * -1 (recording failed). */
int relay_export_pump(struct sess *S);
/* The file.transfer result of a record: "denied" or "expired" for an
 * export refused by an admin or the timeout, else outcome. */
const char *relay_export_outcome(const char *outcome, const char *reason);

/* relay_airlock.c (files: scan: clamd) */
int relay_airlock_start(struct sess *S);	/* 0 or -1 */
void relay_airlock_end(struct sess *S);		/* NULL-safe */
/*
 * A request from the engineer, before the policy's other checks: an
 * upload's OPEN, or a request on a file the airlock holds, is taken here
 * (recorded, answered). 1: taken; 0: not the airlock's, go on; -1: the
 * recording failed.
 */
int relay_airlock_request(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m);

/* relay_scp.c (scp -O parsed, docs/FILES.md "Legacy scp") */
void relay_scp_end(struct sess *S);	/* NULL-safe */
/* relay_sftp_pump's and relay_sftp_idle's part for an scp channel. */
int relay_scp_pump(struct sess *S, ssize_t *from_dev, ssize_t *to_dev);
int relay_scp_idle(const struct sess *S, int to_device);

#endif
