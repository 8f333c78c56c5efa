/*
 * tell.h - speaking to the person at the other end of a session (tell.c):
 * messages, raw bytes, one typed line, and which devices they may reach.
 * Used by every part of the child (and by the monitor's consoles, through
 * S->out_fn), so that none of them calls back into worker.c.
 */
#ifndef BASTION_TELL_H
#define BASTION_TELL_H

#include <stddef.h>

struct sess;
struct policy_device;

/* Tell the engineer something on the session channel (stderr, or the
 * terminal with CRLF when a pty is in use); in the monitor, through
 * S->out_fn. */
void sess_tell(struct sess *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write bytes to the session channel's stdout or stderr (in the monitor:
 * through S->out_fn). n, or -1. */
int sess_write(struct sess *S, int is_stderr, const void *p, size_t n);
/* Can sess_write() still write? */
int sess_writable(const struct sess *S);

/* Is this device one the session's engineer may reach? */
int sess_device_allowed(const struct sess *S, const struct policy_device *d);
/* Read one line typed on the engineer's terminal (echoed,
 * printable ASCII, at most len - 1 bytes, 120 s); 0, or -1 on ^C, ^D or
 * end of input. */
int sess_read_line(struct sess *S, char *line, size_t len);

/* What is left of the engineer's command after a word the bastion took
 * (the device's name, --reason) becomes the command, leading spaces cut;
 * nothing left makes the session an interactive shell. rest may point
 * into S->command. 0, or -1 out of memory (the command unchanged). */
int sess_command_rest(struct sess *S, const char *rest);

#endif
