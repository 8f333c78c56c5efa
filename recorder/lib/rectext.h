/*
 * rectext.h - a recording as a readable transcript (rectext.c): feed it
 * the frames of a recording in order, output and input bytes and every
 * other frame, and it writes timestamped, sanitized lines to a stream.
 */
#ifndef BASTION_RECTEXT_H
#define BASTION_RECTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recfmt.h"

#define RECTEXT_INPUT_LINE_MAX	4096	/* an input line is cut here */

struct rectext;

/* A transcript written to out (not closed by it). *tr is NULL on entry
 * and on failure: 0 or BERR_NOMEM. */
int rectext_new(FILE *out, struct rectext **tr);
/* Terminal output (t: µs since the start) of the channels shown. */
void rectext_output(struct rectext *tr, uint64_t t, const uint8_t *p,
    size_t len);
/* The engineer's input. */
void rectext_input(struct rectext *tr, uint64_t t, const uint8_t *p,
    size_t len);
/* Any other frame, in words (HEADER and CHECKPOINT print nothing). */
void rectext_event(struct rectext *tr, const struct rec_frame *f,
    const struct rec_payload *pl);
/* Flush what is still buffered (the last line, pending input). */
void rectext_finish(struct rectext *tr);
/* rectext_free(NULL) is a no-op. */
void rectext_free(struct rectext *tr);

#endif
