/*
 * tell.c - what the engineer is told and asked on the session channel.
 *
 * Every part of the child that speaks to the person at the other end
 * (the device menu, approval, touch, the relay's notices, the consoles)
 * does it through these few functions, so none of them calls back into
 * worker.c: sess_tell() for a message (CRLF on a terminal, recorded
 * before it is written when a recording runs), sess_write() for raw
 * bytes, sess_read_line() for one typed line with local echo. In the
 * monitor (a console's verb) the channel is the child's: S->out_fn
 * carries the bytes there. sess_device_allowed() is the one rule for
 * which devices the session's engineer may reach, sess_command_rest() the
 * one for what of a command is left after a word the bastion took.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "session.h"

int
sess_writable(const struct sess *S)
{
	return (S->out_fn != NULL ||
	    (S->vch != NULL && ssh_channel_is_open(S->vch)));
}

int
sess_write(struct sess *S, int is_stderr, const void *p, size_t n)
{
	int w;

	if (S->out_fn != NULL)
		return (S->out_fn(S, is_stderr, p, n));
	if (S->vch == NULL || !ssh_channel_is_open(S->vch) || n > INT32_MAX)
		return (-1);
	if (n == 0)
		return (0);
	w = is_stderr ? ssh_channel_write_stderr(S->vch, p, (uint32_t)n) :
	    ssh_channel_write(S->vch, p, (uint32_t)n);
	return (w == SSH_ERROR ? -1 : w);
}

void
sess_tell(struct sess *S, const char *fmt, ...)
{
	char msg[1024], out[2100];
	size_t i, o = 0;
	va_list ap;

	if (!sess_writable(S))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; msg[i] != '\0' && o < sizeof(out) - 3; i++) {
		if (msg[i] == '\n' && S->has_pty)
			out[o++] = '\r';
		out[o++] = msg[i];
	}
	/* what the engineer sees is recorded too (when recording) */
	if (S->rec != NULL && !S->rec_failed)
		(void)sess_rec_check(S, S->has_pty ? rec_client_output(S->rec,
		    0, out, o) : rec_client_stderr(S->rec, 0, out, o));
	(void)sess_write(S, !S->has_pty, out, o);
}

int
sess_device_allowed(const struct sess *S, const struct policy_device *d)
{
	const struct policy_vendor *v;
	size_t i;

	if (d == NULL || S->au.who == NULL || S->au.role != ROLE_ENGINEER)
		return (0);
	v = S->au.who->vendor;
	if (d->vendor != v)
		return (0);
	/* defence in depth: the loader checked this too */
	for (i = 0; i < v->nsegments; i++)
		if (netaddr_in_cidr(&d->addr, &v->segments[i]))
			return (1);
	return (0);
}

int
sess_command_rest(struct sess *S, const char *rest)
{
	char *copy;

	while (*rest == ' ')
		rest++;
	if (*rest == '\0') {
		free(S->command);
		S->command = NULL;
		S->kind = SESS_SHELL;
		return (0);
	}
	if ((copy = strdup(rest)) == NULL)
		return (-1);
	free(S->command);
	S->command = copy;
	return (0);
}

/* Read one line from the terminal with local echo; 0, or -1 on EOF. */
int
sess_read_line(struct sess *S, char *line, size_t len)
{
	size_t n = 0;
	char c;
	int r;

	for (;;) {
		r = ssh_channel_read_timeout(S->vch, &c, 1, 0, 120000);
		if (r <= 0)
			return (-1);
		if (c == '\r' || c == '\n') {
			ssh_channel_write(S->vch, "\r\n", 2);
			line[n] = '\0';
			return (0);
		}
		if (c == 3 || c == 4)	/* ^C, ^D */
			return (-1);
		if ((c == 127 || c == 8) && n > 0) {
			n--;
			ssh_channel_write(S->vch, "\b \b", 3);
			continue;
		}
		if (c >= ' ' && c < 127 && n + 1 < len) {
			line[n++] = c;
			ssh_channel_write(S->vch, &c, 1);
		}
	}
}
