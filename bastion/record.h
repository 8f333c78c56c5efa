/*
 * record.h - session recording from the worker (see record.c).
 */
#ifndef BASTION_RECORD_H
#define BASTION_RECORD_H

#include "session.h"

/* Open the recording for S (facts from the session). 0, or -1 after
 * telling the engineer why the session cannot start. */
int sess_rec_open(struct sess *S);
/* Fold a rec_client_* result: 0, or -1 (and mark the session's recording
 * failed, logged once) so the caller ends the session. */
int sess_rec_check(struct sess *S, int r);
/* Record an EVENT frame (no-op without a recording). 0 or -1. */
int sess_rec_event(struct sess *S, const char *kind, const char *text);
/* Seal (CLOSE) and free the recording. */
void sess_rec_close(struct sess *S);

#endif
