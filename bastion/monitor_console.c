/*
 * monitor_console.c - an admin's or auditor's verb, run in the monitor
 * (MREQ_CONSOLE_RUN, privsep.h): only after their touch; the verb
 * (approval.c's console, auditor.c's) writes through S->out_fn, which
 * sends its output to the child in MANS_CONSOLE_OUT pieces, and learns
 * through S->cancel_fn whether the person gave up (the child's
 * MREQ_CONSOLE_CANCEL). Any other request while a verb runs is a
 * violation.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "monitor_req.h"

static int mon_console_done;

/* What a verb writes, to the child in pieces. */
static int
mon_console_out(struct sess *S, int is_stderr, const void *p, size_t n)
{
	struct mon *M = S->mon;
	const uint8_t *q = p;
	struct buf *a;
	size_t k, left = n;

	if (M->violation)
		return (-1);
	while (left > 0) {
		k = left > MREQ_OUT_CHUNK ? MREQ_OUT_CHUNK : left;
		if ((a = mon_body()) == NULL ||
		    buf_put_u8(a, (uint8_t)(is_stderr != 0)) != 0 ||
		    buf_put_string(a, q, k) != 0 ||
		    mon_reply(M, MANS_CONSOLE_OUT, a, NULL, 0) != 0) {
			buf_free(a);
			return (-1);
		}
		buf_free(a);
		q += k;
		left -= k;
	}
	return ((int)n);
}

/* Has the person given up? The child says so (CONSOLE_CANCEL). */
static int
mon_console_cancelled(struct sess *S, unsigned wait_ms)
{
	static int cancelled;
	struct mon *M = S->mon;
	struct buf *b = NULL;
	int t, n = 0, r;

	if (cancelled || M->violation)
		return (1);
	r = mreq_recv(M->fd, &t, &b, NULL, &n, (int)wait_ms);
	buf_free(b);
	if (r == BERR_TIMEOUT)
		return (0);
	if (r == 0 && t == MREQ_CONSOLE_CANCEL)
		M->count[MREQ_CONSOLE_CANCEL]++;
	else if (r == 0)
		mon_violation(M, "console.run", "another request while a "
		    "verb runs");
	cancelled = 1;
	return (1);
}

const char *
mon_answer_console_run(struct mon *M, struct buf *req)
{
	struct buf *a;
	uint32_t kind;
	uint8_t pty;
	char *cmd = NULL;
	int rc;

	/* an engineer's console (declare, their own declarations) needs no
	 * touch: it reaches no device and changes only their own answers */
	if (M->S.au.who == NULL || (M->S.au.role != ROLE_ADMIN &&
	    M->S.au.role != ROLE_AUDITOR && !mon_is_engineer(M)) ||
	    (!M->touch_ok && M->S.au.role != ROLE_ENGINEER) ||
	    M->device_chosen)
		return ("no console for this login");
	if (buf_get_u32(req, &kind) != 0 || buf_get_u8(req, &pty) != 0 ||
	    buf_get_cstring(req, &cmd, 16384) != 0)
		return ("malformed");
	M->S.kind = kind == SESS_EXEC ? SESS_EXEC : SESS_SHELL;
	M->S.has_pty = pty != 0;
	free(M->S.command);
	M->S.command = cmd[0] != '\0' ? cmd : NULL;
	if (M->S.command == NULL)
		free(cmd);
	M->S.mon = M;
	M->S.out_fn = mon_console_out;
	M->S.cancel_fn = mon_console_cancelled;
	rc = M->S.au.role == ROLE_AUDITOR ? auditor_run(&M->S) :
	    console_run(&M->S);
	M->S.out_fn = NULL;
	M->S.cancel_fn = NULL;
	mon_console_done = 1;
	if (M->violation)
		return (NULL);
	if ((a = mon_body()) != NULL && buf_put_u32(a, (uint32_t)rc) == 0)
		(void)mon_reply(M, MANS_CONSOLE_DONE, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

/* A cancel that crossed the verb's end: nothing to do, no answer. */
const char *
mon_answer_console_cancel(struct mon *M, struct buf *req)
{
	(void)M;
	(void)req;
	return (mon_console_done ? NULL : "no verb runs");
}
