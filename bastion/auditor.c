/*
 * auditor.c - the auditor console over ssh (`ssh -A carol@bastion VERB`),
 * a transport for the auditor's verbs of the one verb table (verbs/verb.h,
 * VERB_AUDITOR):
 *
 *   recordings [--engineer N] [--vendor N] [--device N] [--date YYYY-MM-DD]
 *   verify SESSION        bastion-verify with the recorder's public key
 *   replay SESSION        the sanitised text transcript (bastion-replay --text)
 *   export SESSION        the evidence bundle, a tar on stdout
 *                         (`ssh carol@bastion export 17 > evidence.tar`)
 *
 * The verbs are verbs/cmd-recordings.c, cmd-verify.c, cmd-replay.c and
 * cmd-export.c. This file cuts the exec request into words and gives the
 * verb the auditor's channel: standard output as it is (a tar, a
 * transcript: never rewritten), what went wrong where sess_tell() puts it
 * (stderr, or the terminal with CRLF when a pty is in use).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "audverb.h"
#include "session.h"
#include "verb.h"

/* The auditor's channel as a stream: stdout raw, or sess_tell()'s way. */
struct auditor_stream {
	struct sess *S;
	int err;
};

static ssize_t
auditor_cookie_write(void *cookie, const char *t, size_t n)
{
	struct auditor_stream *as = cookie;
	char out[2 * 1024];
	size_t i, o;

	if (!as->err) {
		if (sess_write(as->S, 0, t, n) != (int)n) {
			errno = EPIPE;
			return (-1);
		}
		return ((ssize_t)n);
	}
	/* messages, in pieces sess_tell() takes whole */
	for (i = 0; i < n; i += o) {
		o = n - i < sizeof(out) / 2 - 1 ? n - i : sizeof(out) / 2 - 1;
		snprintf(out, sizeof(out), "%.*s", (int)o, t + i);
		sess_tell(as->S, "%s", out);
	}
	return ((ssize_t)n);
}

static FILE *
auditor_stream_open(struct auditor_stream *as, struct sess *S, int err)
{
	cookie_io_functions_t io = { .write = auditor_cookie_write };
	FILE *f;

	as->S = S;
	as->err = err;
	if ((f = fopencookie(as, "w", io)) != NULL)
		(void)setvbuf(f, NULL, err ? _IOLBF : _IOFBF, 16384);
	return (f);
}

int
auditor_run(struct sess *S)
{
	struct auditor_stream so, se;
	const struct cmd_entry *e = NULL;
	struct verb_ctx c;
	char **argv = NULL;
	int argc = 0, rc;

	verb_ctx_init(&c, S->pol, VERB_AUDITOR, "ssh", S->au.who->name,
	    auditor_stream_open(&so, S, 0), auditor_stream_open(&se, S, 1));
	if (!verb_ctx_streams_ok(&c)) {
		sess_tell(S, "bastion: out of memory\n");
		return (1);
	}
	c.session = S->sid;
	c.from = S->peerstr;
	c.terminal = S->has_pty;
	if (S->kind != SESS_EXEC || (e = verb_line(S->command, VERB_AUDITOR,
	    &argv, &argc)) == NULL)
		rc = audverb_usage(&c);		/* the verbs' help too */
	else
		rc = verb_exec(&c, e, argc, argv);
	fclose(c.out);
	fclose(c.err);
	appr_free_words(argv);
	return (rc);
}
