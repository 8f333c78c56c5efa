/*
 * ctlsock.c - the listener's local control socket for bastionctl.
 *
 * RUN_DIR/control.sock (mode 0660, group admin_group) accepts local admins.
 * Before a byte is read, the caller's credentials are taken from the
 * kernel (SO_PEERCRED, SO_PEERGROUPS): root, bastiond's own user and
 * members of the policy's admin_group (default "bastion-admin") are let
 * in; anybody else gets one line saying why and is disconnected, with an
 * audit event. An accepted connection is handed, like a vendor
 * connection, to a fresh process (bastiond --control LOGIN, the socket on
 * fd 3) that parses the request (ctlproto.h) and runs the verb, so the
 * listener never parses the request itself.
 *
 * With a web: section in the policy, a second socket of the other kind,
 * RUN_DIR/web.sock (CTL_WEB), serves bastion-webd: it admits only the uid
 * of web.daemon_user (which says "this is webd", never who the person is:
 * that comes from a token or an assertion in the request) and hands each
 * connection to `bastiond --control-web` (control_web.c), which speaks
 * control protocol v2. One accept path, two admission rules, two
 * workers; the rules never mix on one socket (docs/WEB.md).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <uv.h>

#include "bastiond.h"
#include "ctlproto.h"
#include "err.h"
#include "log.h"
#include "spawnfd.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59	/* Linux 4.13 */
#endif

#define CTLSOCK_MAX_GROUPS	256

enum ctlsock_kind { CTL_LOCAL, CTL_WEB };

struct ctlsock {
	enum ctlsock_kind kind;
	uv_loop_t *loop;
	uv_pipe_t server;
	char path[PATH_MAX];
	char group[64];		/* CTL_LOCAL: admin_group */
	char web_user[64];	/* CTL_WEB: web.daemon_user */
	const char *self;
	const char *policy_path;
	int debug;
	int open;
	int policy_fd;		/* the listener's adopted policy, or -1 */
};

static struct ctlsock ctlsock, websock;

struct ctlproc {
	uv_process_t proc;
};

static void
ctlsock_proc_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void
ctlsock_proc_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	if (sig != 0)
		log_warn("control worker %d killed by signal %d", p->pid, sig);
	else
		log_debug("control worker %d exited %lld", p->pid,
		    (long long)status);
	uv_close((uv_handle_t *)p, ctlsock_proc_close_cb);
}

/*
 * The peer's credentials (SO_PEERCRED) into *cr and its name into who
 * (login name or "uid N"); its passwd entry or NULL. who is "?" (and why
 * says so) when the kernel gave none.
 */
static struct passwd *
ctlsock_peer(int fd, struct ucred *cr, char *who, size_t wholen, char *why,
    size_t whylen)
{
	socklen_t sl = sizeof(*cr);
	struct passwd *pw;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &sl) != 0 ||
	    sl != sizeof(*cr)) {
		snprintf(who, wholen, "?");
		snprintf(why, whylen, "the caller's credentials are unknown");
		return (NULL);
	}
	if ((pw = getpwuid(cr->uid)) != NULL)
		snprintf(who, wholen, "%s", pw->pw_name);
	else
		snprintf(who, wholen, "uid %u", (unsigned)cr->uid);
	return (pw);
}

/*
 * Is the peer on fd allowed? Fills who (login name or "uid N") and why
 * (for a refusal).
 */
static int
ctlsock_allowed(int fd, const char *group, char *who, size_t wholen,
    char *why, size_t whylen)
{
	struct ucred cr;
	socklen_t sl;
	gid_t groups[CTLSOCK_MAX_GROUPS];
	struct group *gr;
	struct passwd *pw;
	size_t i, ng;

	if ((pw = ctlsock_peer(fd, &cr, who, wholen, why, whylen)) == NULL &&
	    who[0] == '?')
		return (0);
	if (cr.uid == 0 || cr.uid == geteuid())
		return (1);
	if ((gr = getgrnam(group)) == NULL) {
		snprintf(why, whylen, "group %s does not exist on this host, "
		    "so only root may use bastionctl (create it with groupadd "
		    "%s and add the admins)", group, group);
		return (0);
	}
	if (cr.gid == gr->gr_gid)
		return (1);
	sl = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &sl) == 0) {
		ng = sl / sizeof(groups[0]);
		for (i = 0; i < ng; i++)
			if (groups[i] == gr->gr_gid)
				return (1);
	}
	snprintf(why, whylen, "%s is not root and not in group %s (ask the "
	    "bastion's administrator: usermod -aG %s %s, then log in again)",
	    who, group, group, pw != NULL ? pw->pw_name : "USER");
	return (0);
}

/* web.sock: only the uid of web.daemon_user. */
static int
ctlsock_web_allowed(int fd, const char *user, char *who, size_t wholen,
    char *why, size_t whylen)
{
	struct ucred cr;
	struct passwd *pw;

	if (ctlsock_peer(fd, &cr, who, wholen, why, whylen) == NULL &&
	    who[0] == '?')
		return (0);
	if ((pw = getpwnam(user)) != NULL && pw->pw_uid == cr.uid)
		return (1);
	snprintf(why, whylen, "web.sock serves only bastion-webd (user %s), "
	    "not %s", user, who);
	return (0);
}

static void
ctlsock_refuse(int fd, const char *why)
{
	char line[640];
	uint8_t code = 1;
	int n;

	n = snprintf(line, sizeof(line), "bastionctl: refused: %s\n", why);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)ctlp_frame_write(fd, CTLP_ERR, line, (size_t)n);
	(void)ctlp_frame_write(fd, CTLP_EXIT, &code, 1);
}

static int
ctlsock_spawn(struct ctlsock *C, int fd, const char *who)
{
	struct ctlproc *p;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (BERR_NOMEM);
	p->proc.data = p;
	/* the policy the listener adopted, as for session workers */
	if ((r = spawnfd_bastiond(C->loop, &p->proc, ctlsock_proc_exit_cb,
	    C->self, C->kind == CTL_WEB ? "--control-web" : "--control", who,
	    C->policy_path, C->policy_fd, C->debug, fd)) != 0) {
		log_error("cannot start a control worker: %s", uv_strerror(r));
		ctlsock_refuse(fd, "bastiond could not start a worker; see "
		    "its log");
		/* linked by libuv even though it failed: p goes on close */
		uv_close((uv_handle_t *)&p->proc, ctlsock_proc_close_cb);
		return (BERR_SYS);
	}
	return (0);
}

static void
ctlsock_client_close_cb(uv_handle_t *h)
{
	free(h);
}

/*
 * A refused caller: its answer is written, then its request is read and
 * dropped until it hangs up (or CTLSOCK_LINGER_MS pass), because closing
 * a Unix socket with unread input resets the connection and the caller
 * would lose the answer.
 */
#define CTLSOCK_LINGER_MS	5000
#define CTLSOCK_MAX_LINGER	16

struct ctlsock_linger {
	uv_pipe_t pipe;
	uv_timer_t timer;
	int closing;
};

static unsigned ctlsock_lingering;

static void
ctlsock_linger_closed(uv_handle_t *h)
{
	struct ctlsock_linger *l = h->data;

	if (++l->closing == 3) {	/* 1 + both handles */
		free(l);
		ctlsock_lingering--;
	}
}

static void
ctlsock_linger_end(struct ctlsock_linger *l)
{
	if (l->closing != 0)
		return;
	l->closing = 1;
	uv_close((uv_handle_t *)&l->pipe, ctlsock_linger_closed);
	uv_close((uv_handle_t *)&l->timer, ctlsock_linger_closed);
}

static void
ctlsock_linger_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char sink[4096];

	(void)h;
	(void)hint;
	*buf = uv_buf_init(sink, sizeof(sink));
}

static void
ctlsock_linger_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		ctlsock_linger_end(s->data);
}

static void
ctlsock_linger_timeout(uv_timer_t *t)
{
	ctlsock_linger_end(t->data);
}

/* Hand the refused connection c (answered on fd) to a lingering reader. */
static void
ctlsock_linger(struct ctlsock *C, uv_pipe_t *c, int fd)
{
	struct ctlsock_linger *l = NULL;
	int nfd;

	(void)shutdown(fd, SHUT_WR);
	if (ctlsock_lingering >= CTLSOCK_MAX_LINGER ||
	    (l = calloc(1, sizeof(*l))) == NULL || (nfd = dup(fd)) == -1) {
		free(l);
		uv_close((uv_handle_t *)c, ctlsock_client_close_cb);
		return;
	}
	uv_close((uv_handle_t *)c, ctlsock_client_close_cb);
	uv_pipe_init(C->loop, &l->pipe, 0);
	uv_timer_init(C->loop, &l->timer);
	l->pipe.data = l->timer.data = l;
	ctlsock_lingering++;
	if (uv_pipe_open(&l->pipe, nfd) != 0 ||
	    uv_read_start((uv_stream_t *)&l->pipe, ctlsock_linger_alloc,
	    ctlsock_linger_read) != 0) {
		ctlsock_linger_end(l);
		return;
	}
	uv_timer_start(&l->timer, ctlsock_linger_timeout, CTLSOCK_LINGER_MS, 0);
}

static void
ctlsock_conn_cb(uv_stream_t *server, int status)
{
	struct ctlsock *C = server->data;
	char who[64], why[512];
	uv_pipe_t *c;
	int fd;

	if (status < 0 || !C->open)
		return;
	if ((c = malloc(sizeof(*c))) == NULL)
		return;
	uv_pipe_init(C->loop, c, 0);
	if (uv_accept(server, (uv_stream_t *)c) != 0 ||
	    uv_fileno((uv_handle_t *)c, &fd) != 0) {
		uv_close((uv_handle_t *)c, ctlsock_client_close_cb);
		return;
	}
	why[0] = '\0';
	if (C->kind == CTL_WEB ? ctlsock_web_allowed(fd, C->web_user, who,
	    sizeof(who), why, sizeof(why)) : ctlsock_allowed(fd, C->group, who,
	    sizeof(who), why, sizeof(why))) {
		log_debug("%s: %s connected", C->path, who);
		if (ctlsock_spawn(C, fd, who) != 0) {
			ctlsock_linger(C, c, fd);
			return;
		}
	} else {
		audit_ev(BEV_CTL_REFUSED, "user", who, "reason", why, NULL);
		ctlsock_refuse(fd, why);
		ctlsock_linger(C, c, fd);
		return;
	}
	/* the control worker has its own copy of the socket */
	uv_close((uv_handle_t *)c, ctlsock_client_close_cb);
}

/* Listen on RUN_DIR/name for connections of kind; the socket's group
 * (may be NULL) only keeps other local users from reaching the check. */
static int
ctlsock_open(struct ctlsock *C, enum ctlsock_kind kind, uv_loop_t *loop,
    const struct policy *pol, const char *self, const char *policy_path,
    int debug, const char *name, gid_t gid)
{
	int r;

	C->kind = kind;
	C->policy_fd = -1;
	C->loop = loop;
	C->self = self;
	C->policy_path = policy_path;
	C->debug = debug;
	if ((size_t)snprintf(C->path, sizeof(C->path), "%s/%s",
	    pol->run_dir, name) >= sizeof(C->path))
		return (BERR_LIMIT);
	(void)unlink(C->path);
	uv_pipe_init(loop, &C->server, 0);
	C->server.data = C;
	if ((r = uv_pipe_bind(&C->server, C->path)) != 0 ||
	    (r = uv_listen((uv_stream_t *)&C->server, 16,
	    ctlsock_conn_cb)) != 0) {
		log_error("cannot listen on the control socket %s: %s — "
		    "check run_dir in the policy", C->path, uv_strerror(r));
		uv_close((uv_handle_t *)&C->server, NULL);
		return (BERR_SYS);
	}
	/* Who may connect is decided per connection; the mode only keeps
	 * other local users from reaching the check at all. */
	if (gid != (gid_t)-1 && chown(C->path, (uid_t)-1, gid) != 0)
		log_warn("control socket %s: cannot give it to group %u: %s",
		    C->path, (unsigned)gid, strerror(errno));
	(void)chmod(C->path, 0660);
	C->open = 1;
	return (0);
}

int
ctlsock_start(uv_loop_t *loop, const struct policy *pol, const char *self,
    const char *policy_path, int debug)
{
	struct ctlsock *C = &ctlsock, *W = &websock;
	struct passwd *pw;
	struct group *gr;
	int r;

	memset(C, 0, sizeof(*C));
	memset(W, 0, sizeof(*W));
	snprintf(C->group, sizeof(C->group), "%s", pol->admin_group != NULL ?
	    pol->admin_group : POLICY_DEFAULT_ADMIN_GROUP);
	gr = getgrnam(C->group);
	if ((r = ctlsock_open(C, CTL_LOCAL, loop, pol, self, policy_path,
	    debug, "control.sock", gr != NULL ? gr->gr_gid : (gid_t)-1)) != 0)
		return (r);
	log_info("control socket %s (group %s)", C->path, C->group);
	if (!pol->web.set)
		return (0);
	snprintf(W->web_user, sizeof(W->web_user), "%s",
	    pol->web.daemon_user);
	if ((pw = getpwnam(W->web_user)) == NULL)
		log_warn("web.sock: user %s (web.daemon_user) does not exist "
		    "on this host, so no one can use the web console", W->web_user);
	if ((r = ctlsock_open(W, CTL_WEB, loop, pol, self, policy_path, debug,
	    "web.sock", pw != NULL ? pw->pw_gid : (gid_t)-1)) != 0) {
		ctlsock_stop();
		return (r);
	}
	log_info("web control socket %s (user %s)", W->path, W->web_user);
	return (0);
}

void
ctlsock_policy_fd(int fd)
{
	ctlsock.policy_fd = fd;
	websock.policy_fd = fd;
}

static void
ctlsock_close(struct ctlsock *C)
{
	if (!C->open)
		return;
	C->open = 0;
	uv_close((uv_handle_t *)&C->server, NULL);
	(void)unlink(C->path);
}

void
ctlsock_stop(void)
{
	ctlsock_close(&ctlsock);
	ctlsock_close(&websock);
}
