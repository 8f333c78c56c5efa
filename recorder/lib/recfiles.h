/*
 * recfiles.h - the files of an SFTP session, taken back out of its
 * recording (bastion-replay --extract-files DIR; docs/FILES.md).
 *
 * The child recorded every SFTP packet of the session channel as one
 * INPUT (engineer -> device) or OUTPUT (device -> engineer) frame, with an
 * EVENT "sftp.refused" before each packet it did not pass on, and an
 * EVENT "file.transfer" for each finished file. recfiles runs the very
 * tracker the child ran (proto/sftp.h) over those frames, writes the
 * bytes of each file at their offsets into DIR, and at the end compares
 * every file's SHA-256 (in transfer order, and of the written file) with
 * the child's record.
 */
#ifndef BASTION_RECFILES_H
#define BASTION_RECFILES_H

#include <stdio.h>

#include "recfmt.h"

struct recfiles;

/* Extraction into dir (created if missing, mode 0700; files are created
 * new, never overwritten). 0 with *out, or BERR_SYS (errno) /
 * BERR_NOMEM, *out NULL. */
int recfiles_new(const char *dir, struct recfiles **out);
/* One frame of the recording, in order, with its decoded payload. */
void recfiles_frame(struct recfiles *x, const struct rec_frame *f,
    const struct rec_payload *pl);
/* Report each file on out (one line each, then a summary); 0 when there
 * were files and every hash matches the recording's records, 1 when one
 * does not or a write failed, 2 when the recording holds no SFTP file. */
int recfiles_finish(struct recfiles *x, FILE *out);
void recfiles_free(struct recfiles *x);

#endif
