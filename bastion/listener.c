/*
 * listener.c - the long-lived bastiond process.
 *
 * A libuv loop accepts TCP connections on every listen address of the
 * policy and hands each one to a fresh worker process (bastiond re-executed
 * with --worker, the socket on fd 3). The listener never parses a byte from
 * the network itself; it only enforces pre-authentication limits:
 *
 *  - login grace: enforced by the worker's alarm (policy limits.login_grace);
 *  - a cap on unauthenticated connections (limits.max_unauthenticated) with
 *    random early drop from half the cap on, as OpenSSH's MaxStartups does;
 *  - a growing penalty for a source address that keeps failing: after each
 *    failed authentication its next connections are refused for 2^n
 *    seconds (n = consecutive failures beyond the third, capped at 15 min).
 *
 * Workers tell the listener "A\n" on their control pipe once a user is
 * authenticated; their exit status says whether authentication failed.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "log.h"

#define PENALTY_SLOTS		1024
#define PENALTY_FREE_FAILS	3
#define PENALTY_MAX_S		900

struct worker {
	struct listener *L;
	uv_process_t proc;
	uv_pipe_t ctl;
	int authed;
	struct netaddr peer;
	char sid[32];
	struct worker *next;
};

struct penalty {
	struct netaddr addr;
	unsigned fails;
	time_t until;
	time_t last;
};

struct listener {
	uv_loop_t *loop;
	const struct policy *pol;
	const char *policy_path;
	char self[PATH_MAX];
	int debug;
	uv_tcp_t *socks;
	size_t nsocks;
	uv_signal_t sigterm, sigint;
	struct worker *workers;
	unsigned unauth;
	unsigned long next_sid;
	struct penalty pen[PENALTY_SLOTS];
	int stopping;
	uv_process_t recorder;
	int recorder_running;
	uv_timer_t recorder_restart;
	char recorder_bin[PATH_MAX];
};

extern char **environ;

int
recorder_paths(const struct policy *pol, char *bin, size_t binlen,
    char *key, size_t keylen, char *sock, size_t socklen)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return (BERR_SYS);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, binlen, "%s/bastion-recorder", self);
	snprintf(key, keylen, "%s/recorder.key", pol->state_dir);
	snprintf(sock, socklen, "%s/recorder.sock", pol->run_dir);
	return (0);
}

int
recorder_init_key(const struct policy *pol)
{
	char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];
	char *argv[] = { bin, "--init", "-k", key, NULL };
	pid_t pid;
	int st;

	if (recorder_paths(pol, bin, sizeof(bin), key, sizeof(key), sock,
	    sizeof(sock)) != 0)
		return (BERR_SYS);
	if (access(key, F_OK) == 0)
		return (0);
	(void)mkdir(pol->state_dir, 0700);
	if (posix_spawn(&pid, bin, NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		log_error("cannot create the recording signing key %s with %s",
		    key, bin);
		return (BERR_SYS);
	}
	return (0);
}

static void listener_recorder_start(struct listener *L);

static void
recorder_restart_cb(uv_timer_t *t)
{
	listener_recorder_start(t->data);
}

static void
recorder_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct listener *L = p->data;

	L->recorder_running = 0;
	uv_close((uv_handle_t *)p, NULL);
	if (L->stopping)
		return;
	/* sessions fail closed meanwhile; bring it back */
	log_error("bastion-recorder exited (status %lld, signal %d); "
	    "restarting it", (long long)status, sig);
	audit_event("recorder.exit", "status", sig ? "signal" : "exit", NULL);
	uv_timer_start(&L->recorder_restart, recorder_restart_cb, 1000, 0);
}

static void
listener_recorder_start(struct listener *L)
{
	char key[PATH_MAX], sock[PATH_MAX], minfree[24];
	char *args[14];
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	int r, n = 0;

	if (recorder_paths(L->pol, L->recorder_bin, sizeof(L->recorder_bin),
	    key, sizeof(key), sock, sizeof(sock)) != 0)
		return;
	snprintf(minfree, sizeof(minfree), "%u", L->pol->recording_min_free_mb);
	args[n++] = L->recorder_bin;
	args[n++] = "-k";
	args[n++] = key;
	args[n++] = "-d";
	args[n++] = L->pol->recordings_dir;
	args[n++] = "-s";
	args[n++] = sock;
	args[n++] = "-m";
	args[n++] = minfree;
	args[n++] = "-D";
	args[n] = NULL;
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = 2;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	o.file = L->recorder_bin;
	o.args = args;
	o.exit_cb = recorder_exit_cb;
	o.stdio = stdio;
	o.stdio_count = 3;
	L->recorder.data = L;
	if ((r = uv_spawn(L->loop, &L->recorder, &o)) != 0) {
		log_error("cannot start %s: %s", L->recorder_bin,
		    uv_strerror(r));
		uv_timer_start(&L->recorder_restart, recorder_restart_cb, 5000,
		    0);
		return;
	}
	L->recorder_running = 1;
}

/* Wait (before serving) until the recorder's socket accepts. */
static int
listener_recorder_wait(struct listener *L)
{
	char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];
	int i;

	recorder_paths(L->pol, bin, sizeof(bin), key, sizeof(key), sock,
	    sizeof(sock));
	for (i = 0; i < 200; i++) {
		struct stat st;

		uv_run(L->loop, UV_RUN_NOWAIT);
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return (0);
		if (!L->recorder_running && i > 0)
			break;
		usleep(50000);
	}
	log_error("bastion-recorder did not start (socket %s); sessions "
	    "cannot be recorded, so bastiond will not serve", sock);
	return (BERR_SYS);
}

static struct penalty *
penalty_find(struct listener *L, const struct netaddr *a, int create)
{
	struct penalty *oldest = &L->pen[0];
	size_t i;

	for (i = 0; i < PENALTY_SLOTS; i++) {
		if (L->pen[i].last != 0 && netaddr_equal(&L->pen[i].addr, a))
			return (&L->pen[i]);
		if (L->pen[i].last < oldest->last)
			oldest = &L->pen[i];
	}
	if (!create)
		return (NULL);
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = *a;
	return (oldest);
}

static void
penalty_record(struct listener *L, const struct netaddr *a, int failed)
{
	struct penalty *p = penalty_find(L, a, failed);
	unsigned n;

	if (p == NULL)
		return;
	p->last = time(NULL);
	if (!failed) {
		p->fails = 0;
		p->until = 0;
		return;
	}
	p->fails++;
	if (p->fails > PENALTY_FREE_FAILS) {
		n = p->fails - PENALTY_FREE_FAILS;
		p->until = p->last + (n >= 10 ? PENALTY_MAX_S :
		    ((1u << n) > PENALTY_MAX_S ? PENALTY_MAX_S : (1u << n)));
	}
}

static void
worker_close_cb(uv_handle_t *h)
{
	struct worker *w = h->data;

	/* freed once both handles are closed */
	if (h == (uv_handle_t *)&w->proc) {
		w->proc.data = NULL;
		if (w->ctl.data == NULL)
			free(w);
	} else {
		w->ctl.data = NULL;
		if (w->proc.data == NULL)
			free(w);
	}
}

static void
worker_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct worker *w = p->data, **pp;
	struct listener *L = w->L;
	char addr[64];

	netaddr_str(&w->peer, addr, sizeof(addr));
	if (!w->authed && L->unauth > 0)
		L->unauth--;
	if (status == WORKER_EXIT_AUTHFAIL)
		penalty_record(L, &w->peer, 1);
	else if (w->authed)
		penalty_record(L, &w->peer, 0);
	if (sig != 0)
		log_warn("worker for session %s from %s killed by signal %d",
		    w->sid, addr, sig);
	else
		log_debug("worker for session %s exited %lld", w->sid,
		    (long long)status);
	for (pp = &L->workers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	uv_close((uv_handle_t *)&w->proc, worker_close_cb);
	if (!uv_is_closing((uv_handle_t *)&w->ctl))
		uv_close((uv_handle_t *)&w->ctl, worker_close_cb);
}

static void
ctl_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char b[64];

	(void)h;
	(void)hint;
	buf->base = b;
	buf->len = sizeof(b);
}

static void
ctl_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct worker *w = s->data;

	if (n > 0 && memchr(buf->base, 'A', (size_t)n) != NULL &&
	    !w->authed) {
		w->authed = 1;
		if (w->L->unauth > 0)
			w->L->unauth--;
	}
	if (n < 0)
		uv_read_stop(s);
}

static unsigned long
listener_next_sid(struct listener *L)
{
	char path[PATH_MAX];
	FILE *f;

	/* persisted so ids stay unique across restarts */
	snprintf(path, sizeof(path), "%s/next-session", L->pol->state_dir);
	if (L->next_sid == 0) {
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%lu", &L->next_sid) != 1)
				L->next_sid = 0;
			fclose(f);
		}
		if (L->next_sid == 0)
			L->next_sid = 1;
	}
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%lu\n", L->next_sid + 1);
		fclose(f);
	}
	return (L->next_sid++);
}

/* Random early drop between half the cap and the cap. */
static int
listener_should_drop(struct listener *L)
{
	unsigned cap = L->pol->max_unauthenticated, start = cap / 2;
	uint32_t rnd;

	if (L->unauth >= cap)
		return (1);
	if (L->unauth < start || cap == start)
		return (0);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return (1);
	return (rnd % (cap - start) < L->unauth - start);
}

static void
listener_spawn(struct listener *L, uv_tcp_t *client, const struct netaddr *a)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[5];
	struct worker *w;
	char sid[32], addr[64];
	char *args[8];
	int fd, r, n = 0;

	netaddr_str(a, addr, sizeof(addr));
	if (uv_fileno((uv_handle_t *)client, &fd) != 0)
		return;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return;
	w->L = L;
	w->peer = *a;
	snprintf(sid, sizeof(sid), "%lu", listener_next_sid(L));
	snprintf(w->sid, sizeof(w->sid), "%s", sid);
	args[n++] = L->self;
	args[n++] = "--worker";
	args[n++] = sid;
	args[n++] = "-f";
	args[n++] = (char *)L->policy_path;
	if (L->debug)
		args[n++] = "-d";
	args[n] = NULL;

	uv_pipe_init(L->loop, &w->ctl, 0);
	w->ctl.data = w;
	w->proc.data = w;
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = 2;	/* the worker's stdout is our stderr */
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = fd;
	stdio[4].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[4].data.stream = (uv_stream_t *)&w->ctl;
	o.file = L->self;
	o.args = args;
	o.exit_cb = worker_exit_cb;
	o.stdio = stdio;
	o.stdio_count = 5;
	if ((r = uv_spawn(L->loop, &w->proc, &o)) != 0) {
		log_error("cannot start a worker: %s", uv_strerror(r));
		w->proc.data = NULL;
		uv_close((uv_handle_t *)&w->ctl, worker_close_cb);
		return;
	}
	uv_read_start((uv_stream_t *)&w->ctl, ctl_alloc_cb, ctl_read_cb);
	w->next = L->workers;
	L->workers = w;
	L->unauth++;
	log_info("session %s: connection from %s (worker %d)", sid, addr,
	    w->proc.pid);
}

static void
client_close_cb(uv_handle_t *h)
{
	free(h);
}

static void
listener_conn_cb(uv_stream_t *server, int status)
{
	struct listener *L = server->data;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	struct netaddr a;
	struct penalty *p;
	uv_tcp_t *c;
	char addr[64];

	if (status < 0 || L->stopping)
		return;
	if ((c = malloc(sizeof(*c))) == NULL)
		return;
	uv_tcp_init(L->loop, c);
	if (uv_accept(server, (uv_stream_t *)c) != 0 ||
	    uv_tcp_getpeername(c, (struct sockaddr *)&ss, &sl) != 0 ||
	    netaddr_from_sockaddr((struct sockaddr *)&ss, &a) != 0) {
		uv_close((uv_handle_t *)c, client_close_cb);
		return;
	}
	netaddr_str(&a, addr, sizeof(addr));
	if ((p = penalty_find(L, &a, 0)) != NULL && p->until > time(NULL)) {
		audit_event("conn.refused", "from", addr, "reason",
		    "source address is in a penalty period after repeated "
		    "authentication failures", NULL);
	} else if (listener_should_drop(L)) {
		audit_event("conn.refused", "from", addr, "reason",
		    "too many unauthenticated connections", NULL);
	} else
		listener_spawn(L, c, &a);
	/* the worker has its own copy of the socket */
	uv_close((uv_handle_t *)c, client_close_cb);
}

static void
listener_signal_cb(uv_signal_t *s, int sig)
{
	struct listener *L = s->data;
	struct worker *w;
	size_t i;

	log_info("signal %d: stopping", sig);
	L->stopping = 1;
	for (i = 0; i < L->nsocks; i++)
		uv_close((uv_handle_t *)&L->socks[i], NULL);
	for (w = L->workers; w != NULL; w = w->next)
		uv_process_kill(&w->proc, SIGTERM);
	uv_timer_stop(&L->recorder_restart);
	uv_close((uv_handle_t *)&L->recorder_restart, NULL);
	if (L->recorder_running)
		uv_process_kill(&L->recorder, SIGTERM);
	uv_close((uv_handle_t *)&L->sigterm, NULL);
	uv_close((uv_handle_t *)&L->sigint, NULL);
	ctlsock_stop();
}

static int
listener_bind(struct listener *L)
{
	size_t i;
	int r;

	if ((L->socks = calloc(L->pol->nlisten, sizeof(*L->socks))) == NULL)
		return (BERR_NOMEM);
	for (i = 0; i < L->pol->nlisten; i++) {
		const struct policy_listen *l = &L->pol->listen[i];
		struct sockaddr_storage ss;
		struct netaddr a;

		if (netaddr_parse(l->host, &a) != 0 ||
		    netaddr_to_sockaddr(&a, l->port, &ss) == 0) {
			log_error("listen address %s is invalid", l->host);
			return (BERR_INVAL);
		}
		uv_tcp_init(L->loop, &L->socks[i]);
		L->nsocks++;
		L->socks[i].data = L;
		if ((r = uv_tcp_bind(&L->socks[i], (struct sockaddr *)&ss,
		    0)) != 0 || (r = uv_listen((uv_stream_t *)&L->socks[i],
		    128, listener_conn_cb)) != 0) {
			log_error("cannot listen on %s port %u: %s — is another "
			    "bastiond running? change 'listen' in the policy",
			    l->host, l->port, uv_strerror(r));
			return (BERR_SYS);
		}
		log_info("listening on %s port %u", l->host, l->port);
	}
	return (0);
}

int
listener_run(struct policy *pol, const char *policy_path, int debug)
{
	struct listener *L;
	uv_loop_t *loop = uv_default_loop();
	ssize_t n;
	size_t i;
	int rc = 1;

	if ((L = calloc(1, sizeof(*L))) == NULL)
		return (1);
	L->loop = loop;
	L->pol = pol;
	L->policy_path = policy_path;
	L->debug = debug;
	if ((n = readlink("/proc/self/exe", L->self, sizeof(L->self) - 1)) <= 0)
		goto out;
	L->self[n] = '\0';
	for (i = 0; i < pol->nhost_keys; i++) {
		if (access(pol->host_keys[i], R_OK) != 0) {
			log_error("host key %s: %s — run bastiond -f %s --init",
			    pol->host_keys[i], strerror(errno), policy_path);
			goto out;
		}
	}
	/*
	 * Each session costs the recorder (our child, which inherits this)
	 * two descriptors: lift the soft limit to the hard one so a few
	 * hundred sessions do not end in "Too many open files".
	 */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	(void)mkdir(pol->state_dir, 0700);
	(void)mkdir(pol->run_dir, 0700);
	(void)mkdir(pol->recordings_dir, 0700);
	signal(SIGPIPE, SIG_IGN);
	{
		char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];

		recorder_paths(pol, bin, sizeof(bin), key, sizeof(key), sock,
		    sizeof(sock));
		if (access(key, R_OK) != 0) {
			log_error("recording key %s: %s — run bastiond -f %s "
			    "--init", key, strerror(errno), policy_path);
			goto out;
		}
	}
	uv_timer_init(loop, &L->recorder_restart);
	L->recorder_restart.data = L;
	listener_recorder_start(L);
	if (listener_recorder_wait(L) != 0 || listener_bind(L) != 0 ||
	    ctlsock_start(loop, pol, L->self, policy_path, debug) != 0) {
		/* not serving: stop the recorder we started, then leave */
		L->stopping = 1;
		if (L->recorder_running)
			uv_process_kill(&L->recorder, SIGTERM);
		uv_close((uv_handle_t *)&L->recorder_restart, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
		goto out;
	}
	uv_signal_init(loop, &L->sigterm);
	uv_signal_init(loop, &L->sigint);
	L->sigterm.data = L->sigint.data = L;
	uv_signal_start(&L->sigterm, listener_signal_cb, SIGTERM);
	uv_signal_start(&L->sigint, listener_signal_cb, SIGINT);
	audit_event("bastion.start", "policy", policy_path, NULL);
	log_info("ready");
	uv_run(loop, UV_RUN_DEFAULT);
	audit_event("bastion.stop", NULL);
	rc = 0;
out:
	for (i = 0; i < L->nsocks; i++)
		if (!uv_is_closing((uv_handle_t *)&L->socks[i]))
			uv_close((uv_handle_t *)&L->socks[i], NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	uv_loop_close(loop);
	free(L->socks);
	free(L);
	return (rc);
}
