/*
 * record.h - session recording, from the child, opened by the monitor
 * (see record.c).
 */
#ifndef BASTION_RECORD_H
#define BASTION_RECORD_H

#include "session.h"

/* The child: have the monitor open the recording (privsep.h) and take
 * its connection. 0, or -1 after telling the engineer why the session
 * cannot start. */
int sess_rec_open(struct sess *S);
/* The monitor (MREQ_RECORDING_OPEN): open the recording with the facts of
 * S (the monitor's own) and write session.start to the audit chain (fail
 * closed). 0 with *fd the recorder connection for the child, id and
 * path; else -1 with tell, the sentence for the engineer (audited). */
int rec_mon_open(struct sess *S, int *fd, char *id, size_t idlen,
    char *path, size_t pathlen, char *tell, size_t tellen);
/* Fold a rec_client_* result: 0, or -1 (and mark the session's recording
 * failed, logged once) so the caller ends the session. */
int sess_rec_check(struct sess *S, int r);
/* Record an EVENT frame (no-op without a recording). 0 or -1. */
int sess_rec_event(struct sess *S, const char *kind, const char *text);
/* Seal (CLOSE) and free the recording. */
void sess_rec_close(struct sess *S);

#endif
