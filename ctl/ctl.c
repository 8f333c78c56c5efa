/*
 * ctl.c - bastionctl as a transport (see ctl.h): admin verbs sent to
 * bastiond's control socket and their answer copied out (ctlproto.h), or
 * run on the state store when bastiond is stopped; the report's hooks.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "ctlproto.h"
#include "err.h"
#include "local.h"

struct state *
ctl_state(struct ctl *c)
{
	return (local_state(c->pol, &c->st, stderr));
}

void
ctl_usage(const struct ctl_cmd *cmd, FILE *f)
{
	const struct cmd_entry *e;

	if ((e = verb_find(cmd->name, VERB_ADMIN | VERB_LOCAL)) != NULL)
		verb_usage(f, CTL_PROGRAM, e);
}

int
ctl_report(struct verb_ctx *v, int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], ctl_cmd_checkpoints.name) == 0)
		return (ctl_cmd_checkpoints.exec(v->report_arg, argc, argv));
	return (ctl_cmd_report.exec(v->report_arg, argc, argv));
}

/*
 * Connect to bastiond's control socket. -1 with errno set when there is
 * none (bastiond not running), else the connected descriptor.
 */
static int
ctl_connect(const struct ctl *c, char *path, size_t len)
{
	struct sockaddr_un sun;
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(path, len, "%s/control.sock", c->pol != NULL ?
	    c->pol->run_dir : CTL_DEFAULT_RUN_DIR) >=
	    len || strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return (-1);
	}
	return (fd);
}

/* Send argv to bastiond and copy its answer to stdout/stderr. */
static int
ctl_remote(int fd, const char *path, int argc, char **argv)
{
	uint8_t *req = NULL, *frame = NULL;
	size_t len, n;
	int r, type;

	if ((r = ctlp_request_encode(argc, argv, &req, &len)) != 0) {
		fprintf(stderr, "bastionctl: the command is too long (%s)\n",
		    berr_str(r));
		return (CTL_EXIT_USAGE);
	}
	for (n = 0; n < len; n += (size_t)r) {
		if ((r = (int)write(fd, req + n, len - n)) <= 0) {
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			if (r < 0 && errno == EPIPE)
				break;	/* refused early: read why below */
			fprintf(stderr, "bastionctl: %s: %s\n", path,
			    strerror(errno));
			free(req);
			return (CTL_EXIT_FAIL);
		}
	}
	free(req);
	(void)shutdown(fd, SHUT_WR);
	if ((frame = malloc(CTLP_MAX_FRAME)) == NULL) {
		fprintf(stderr, "bastionctl: out of memory\n");
		return (CTL_EXIT_FAIL);
	}
	for (;;) {
		if ((r = ctlp_frame_read(fd, &type, frame, CTLP_MAX_FRAME,
		    &n)) != 0) {
			fprintf(stderr, "bastionctl: bastiond ended the "
			    "conversation early (%s); see its log\n",
			    berr_str(r));
			free(frame);
			return (CTL_EXIT_FAIL);
		}
		if (type == CTLP_EXIT)
			break;
		(void)fwrite(frame, 1, n, type == CTLP_OUT ? stdout : stderr);
		if (type == CTLP_OUT)
			fflush(stdout);
	}
	r = frame[0];
	free(frame);
	return (r == 0 ? CTL_EXIT_OK : r == 2 ? CTL_EXIT_USAGE :
	    CTL_EXIT_FAIL);
}

int
ctl_admin(struct ctl *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct verb_ctx a;
	char path[256];
	int fd, rc;

	/*
	 * Through bastiond when it runs: the caller's group is checked with
	 * SO_PEERCRED there, and the verb runs as bastiond. Without
	 * bastiond (stopped for maintenance), root may act on the state
	 * store directly.
	 */
	if ((fd = ctl_connect(c, path, sizeof(path))) >= 0) {
		signal(SIGPIPE, SIG_IGN);
		rc = ctl_remote(fd, path, argc, argv);
		close(fd);
		if (rc == CTL_EXIT_USAGE)
			verb_usage(stderr, CTL_PROGRAM, e);
		return (rc);
	}
	if (errno == EACCES) {
		fprintf(stderr, "bastionctl: %s: permission denied — local "
		    "admins must be in group %s (usermod -aG %s USER, then "
		    "log in again)\n", path, c->pol != NULL ?
		    c->pol->admin_group : CTL_DEFAULT_ADMIN_GROUP,
		    c->pol != NULL ? c->pol->admin_group :
		    CTL_DEFAULT_ADMIN_GROUP);
		return (CTL_EXIT_FAIL);
	}
	if (errno != ENOENT && errno != ECONNREFUSED) {
		fprintf(stderr, "bastionctl: %s: %s\n", path, strerror(errno));
		return (CTL_EXIT_FAIL);
	}
	if (c->pol == NULL) {
		fprintf(stderr, "bastionctl: bastiond is not running (no "
		    "control socket %s); without it only root, who can read "
		    "%s, may act on the state store directly\n", path,
		    c->policy_path);
		return (CTL_EXIT_FAIL);
	}
	verb_ctx_init(&a, c->pol, VERB_ADMIN, "bastionctl", local_login(),
	    stdout, stderr);
	if ((a.st = ctl_state(c)) == NULL) {
		fprintf(stderr, "bastionctl: bastiond is not running (no "
		    "control socket %s) and the state store cannot be used "
		    "directly either\n", path);
		return (CTL_EXIT_FAIL);
	}
	fprintf(stderr, "bastionctl: bastiond is not running (no %s); "
	    "acting on the state store directly\n", path);
	rc = verb_exec(&a, e, argc, argv);
	if (rc == 2)
		verb_usage(stderr, CTL_PROGRAM, e);
	return (rc == 0 ? CTL_EXIT_OK : rc == 2 ? CTL_EXIT_USAGE :
	    CTL_EXIT_FAIL);
}
