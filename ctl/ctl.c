/*
 * ctl.c - what bastionctl's verbs share (see ctl.h).
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "approvals.h"
#include "ctl.h"
#include "ctlproto.h"
#include "err.h"
#include "sk.h"

struct state *
ctl_state(struct ctl *c)
{
	if (c->st == NULL && state_open(c->pol->state_dir, &c->st) != 0)
		fprintf(stderr, "bastionctl: cannot open the state store in "
		    "%s (state_dir of %s): run bastionctl as the bastion's "
		    "user, and check that the directory exists\n",
		    c->pol->state_dir, c->policy_path);
	return (c->st);
}

struct policy_person *
ctl_engineer(struct ctl *c, const char *name)
{
	struct policy_person *p;
	enum policy_role role = ROLE_NONE;

	p = policy_person(c->pol, name, &role);
	if (p == NULL || role != ROLE_ENGINEER) {
		fprintf(stderr, "bastionctl: no engineer \"%s\" in %s%s\n",
		    name, c->policy_path, p != NULL ? " (that is an admin or "
		    "auditor)" : ": add them under their vendor's engineers "
		    "first");
		return (NULL);
	}
	return (p);
}

/* Does person p hold the key with fingerprint fp? */
static const struct policy_key *
ctl_person_key(const struct policy_person *p, const char *fp)
{
	char kfp[SK_FP_LEN];
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (sk_fingerprint_base64(p->keys[i].base64, kfp,
		    sizeof(kfp)) == 0 && strcmp(kfp, fp) == 0)
			return (&p->keys[i]);
	return (NULL);
}

struct policy_person *
ctl_key_owner(struct ctl *c, const char *fp, const struct policy_key **key)
{
	const struct policy_key *k;
	struct policy *pol = c->pol;
	size_t v, i;

	if (key != NULL)
		*key = NULL;
	for (v = 0; v < pol->nvendors; v++)
		for (i = 0; i < pol->vendors[v].nengineers; i++)
			if ((k = ctl_person_key(&pol->vendors[v].engineers[i],
			    fp)) != NULL) {
				if (key != NULL)
					*key = k;
				return (&pol->vendors[v].engineers[i]);
			}
	for (i = 0; i < pol->nadmins; i++)
		if ((k = ctl_person_key(&pol->admins[i], fp)) != NULL) {
			if (key != NULL)
				*key = k;
			return (&pol->admins[i]);
		}
	for (i = 0; i < pol->nauditors; i++)
		if ((k = ctl_person_key(&pol->auditors[i], fp)) != NULL) {
			if (key != NULL)
				*key = k;
			return (&pol->auditors[i]);
		}
	return (NULL);
}

int
ctl_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *d;
	size_t n;
	FILE *f;

	*out = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "bastionctl: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if ((d = malloc(max + 2)) == NULL) {
		fclose(f);
		fprintf(stderr, "bastionctl: out of memory\n");
		return (-1);
	}
	n = fread(d, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fprintf(stderr, "bastionctl: %s: %s\n", path, ferror(f) ?
		    "read error" : "file too large");
		fclose(f);
		free(d);
		return (-1);
	}
	fclose(f);
	d[n] = '\0';
	*out = d;
	*len = n;
	return (0);
}

void
ctl_usage(const struct ctl_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: bastionctl [-f POLICY] %s %s\n  %s\n", cmd->name,
	    cmd->args, cmd->summary);
}

const char *
ctl_operator(void)
{
	struct passwd *pw = getpwuid(getuid());

	return (pw != NULL ? pw->pw_name : "?");
}

void
ctl_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm);
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
ctl_approvals(struct ctl *c, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	struct appr_ctx a;
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
			ctl_usage(cmd, stderr);
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
	memset(&a, 0, sizeof(a));
	a.pol = c->pol;
	(void)appr_identity(&a, "bastionctl", ctl_operator());
	a.out = stdout;
	a.err = stderr;
	if ((a.st = ctl_state(c)) == NULL) {
		fprintf(stderr, "bastionctl: bastiond is not running (no "
		    "control socket %s) and the state store cannot be used "
		    "directly either\n", path);
		return (CTL_EXIT_FAIL);
	}
	fprintf(stderr, "bastionctl: bastiond is not running (no %s); "
	    "acting on the state store directly\n", path);
	rc = appr_run(&a, argc, argv);
	if (rc == 2)
		ctl_usage(cmd, stderr);
	return (rc == 0 ? CTL_EXIT_OK : rc == 2 ? CTL_EXIT_USAGE :
	    CTL_EXIT_FAIL);
}
