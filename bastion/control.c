/*
 * control.c - a control worker: one bastionctl request on the local
 * control socket.
 *
 * The listener (ctlsock.c) has already checked the caller's credentials
 * and passes the caller's login name; this process reads the request on
 * fd 3 (bounded, ctlproto.h), runs the admin verb from the one verb table
 * (verbs/verb.h), as the admin console over ssh does, streams the verb's
 * output and errors back in frames, and ends with the exit status. It is
 * a transport: what the verbs are and who the admin is are verbs/'s.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditlog.h"
#include "bastiond.h"
#include "control_web.h"
#include "ctlproto.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "state.h"
#include "verb.h"

#define CONTROL_FD	3

static ssize_t
control_cookie_write(void *cookie, const char *p, size_t n)
{
	struct control_stream *cs = cookie;

	if (cs->broken)
		return (-1);
	if (ctlp_frame_write(cs->fd, cs->type, p, n) != 0) {
		cs->broken = 1;
		errno = EPIPE;
		return (-1);
	}
	return ((ssize_t)n);
}

FILE *
control_stream_open(struct control_stream *cs, int fd, int type)
{
	cookie_io_functions_t io = { .write = control_cookie_write };
	FILE *f;

	cs->fd = fd;
	cs->type = type;
	cs->broken = 0;
	if ((f = fopencookie(cs, "w", io)) != NULL)
		(void)setvbuf(f, NULL, _IOLBF, 0);
	return (f);
}

/*
 * verb_ctx.cancelled for streaming verbs (watch): wait up to wait_ms,
 * 1 once bastionctl has hung up (the admin pressed ^C). bastionctl shut
 * down its writing side after the request, so only POLLHUP (both sides
 * gone) or a frame that could not be written says it left.
 */
int
control_cancelled(void *arg, unsigned wait_ms)
{
	const struct control_peer *cp = arg;
	struct pollfd p = { .fd = cp->fd, .events = 0 };

	if (cp->out->broken || cp->err->broken)
		return (1);
	(void)poll(&p, 1, (int)wait_ms);
	return ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0);
}

static void
control_say(int fd, const char *msg, int code)
{
	uint8_t x = (uint8_t)code;

	(void)ctlp_frame_write(fd, CTLP_ERR, msg, strlen(msg));
	(void)ctlp_frame_write(fd, CTLP_EXIT, &x, 1);
}

int
control_worker_init(const char *ident, int debug)
{
	int r;

	log_init(ident, !debug, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	/* libuv accepted the socket non-blocking; this worker blocks */
	if ((r = fcntl(CONTROL_FD, F_GETFL)) == -1 ||
	    fcntl(CONTROL_FD, F_SETFL, r & ~O_NONBLOCK) == -1) {
		log_error("control socket: %s", strerror(errno));
		return (BERR_SYS);
	}
	return (0);
}

int
control_main(const char *policy_path, const char *who, int debug)
{
	struct control_stream so, se;
	struct control_peer cp = { CONTROL_FD, &so, &se };
	struct verb_ctx c;
	const struct cmd_entry *e;
	struct policy *pol = NULL;
	char **argv = NULL, msg[256];
	int argc = 0, r, rc = 1;
	uint8_t x;

	memset(&c, 0, sizeof(c));
	if (control_worker_init("bastiond-ctl", debug) != 0)
		return (1);
	/* a caller that connects and then says nothing is not waited for */
	alarm(30);
	if ((r = ctlp_request_read(CONTROL_FD, &argv, &argc)) != 0) {
		snprintf(msg, sizeof(msg), "bastionctl: bad request (%s); use "
		    "the bastionctl of this bastiond version\n", berr_str(r));
		control_say(CONTROL_FD, msg, 2);
		log_warn("control request from %s: %s", who, berr_str(r));
		return (2);
	}
	if ((e = verb_find(argv[0], VERB_ADMIN)) == NULL) {
		snprintf(msg, sizeof(msg), "bastionctl: '%.64s' is not an "
		    "admin verb of this bastiond\n", argv[0]);
		control_say(CONTROL_FD, msg, 2);
		ctlp_argv_free(argv);
		return (2);
	}
	alarm(0);
	if (policy_load(policy_path, NULL, NULL, &pol) != 0) {
		control_say(CONTROL_FD, "bastionctl: bastiond cannot load its "
		    "policy now; see its log\n", 1);
		ctlp_argv_free(argv);
		return (1);
	}
	/* decisions go into the audit chain like the console's */
	(void)auditlog_open(pol->state_dir, AUDITLOG_LAZY);
	/* who: the caller's login (SO_PEERCRED); the admin it maps to */
	verb_ctx_init(&c, pol, VERB_ADMIN, "bastionctl", who,
	    control_stream_open(&so, CONTROL_FD, CTLP_OUT),
	    control_stream_open(&se, CONTROL_FD, CTLP_ERR));
	c.follow = console_follow;	/* watch streams over the socket */
	c.cancelled = control_cancelled;
	c.cancel_arg = &cp;
	if (!verb_ctx_streams_ok(&c)) {
		control_say(CONTROL_FD, "bastionctl: out of memory\n", 1);
		goto out;
	}
	rc = verb_exec(&c, e, argc, argv);
	audit_ev(BEV_CONSOLE_VERB, "user", c.admin, "login", who, "via",
	    "bastionctl", "verb",
	    argv[0], "status", rc == 0 ? "ok" : rc == 2 ? "usage" :
	    "refused", NULL);
	fflush(c.out);
	fflush(c.err);
	x = (uint8_t)rc;
	(void)ctlp_frame_write(CONTROL_FD, CTLP_EXIT, &x, 1);
out:
	if (c.out != NULL)
		fclose(c.out);
	if (c.err != NULL)
		fclose(c.err);
	ctlp_argv_free(argv);
	policy_free(pol);
	return (rc);
}
