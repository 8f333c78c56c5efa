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
#include "rectext.h"

struct recfiles;

/* Extraction into dir (created if missing, mode 0700; files are created
 * new, never overwritten); dir NULL: nothing written (for --text). 0 with
 * *out, or BERR_SYS (errno) / BERR_NOMEM, *out NULL. */
int recfiles_new(const char *dir, struct recfiles **out);
/* For --text: fn gets one line (clean text) per SFTP request and per
 * reply worth reading (not READ, WRITE, DATA, HANDLE or an OK status: the
 * file.transfer records sum those up), with the frame it ended in; for
 * legacy scp one per control line, answer and status, and one per file's
 * data (scp_describe, proto/scp.h). */
typedef void (*recfiles_line_fn)(void *arg, const struct rec_frame *f,
    const char *line);
void recfiles_on_packet(struct recfiles *x, recfiles_line_fn fn, void *arg);
/* Is channel 0 of the recording (so far) an sftp subsystem? 1 / 0. */
int recfiles_sftp(const struct recfiles *x);
/* Is channel 0 (so far) legacy scp the child parsed ("scp.parsed")? */
int recfiles_scp(const struct recfiles *x);
/* bastion-replay --text: the lines of recfiles_on_packet go to tr as
 * EVENTs "sftp" or "scp" of their frame. */
void recfiles_text(struct recfiles *x, struct rectext *tr);
/* Are f's bytes shown as those lines (channel 0 INPUT or OUTPUT of an
 * sftp or a parsed scp -O channel), not as bytes? 1 / 0. */
int recfiles_takes(const struct recfiles *x, const struct rec_frame *f);
/* One frame of the recording, in order, with its decoded payload. */
void recfiles_frame(struct recfiles *x, const struct rec_frame *f,
    const struct rec_payload *pl);
/* Report each file on out (one line each, then a summary); 0 when there
 * were files and every hash matches the recording's records, 1 when one
 * does not or a write failed, 2 when the recording holds no SFTP file. */
int recfiles_finish(struct recfiles *x, FILE *out);
void recfiles_free(struct recfiles *x);

#endif
