/*
 * listener.c - the long-lived bastiond process.
 *
 * A libuv loop accepts TCP connections on every listen address of the
 * policy and hands each one to a fresh worker process (bastiond re-executed
 * with --worker, the socket on fd 3). The listener parses no byte from the
 * network itself: before a worker exists it only peeks (MSG_PEEK) at the
 * client's first four bytes, which stay in the socket for the worker. It
 * enforces the pre-authentication limits (docs/ARCHITECTURE.md,
 * "Pre-authentication limits"):
 *
 *  - a connection first waits here, cheaply (a descriptor and a small
 *    struct, no process), up to PRE_IDENT_MS for its first bytes: "SSH-"
 *    gets a worker at once; anything else is dropped at once; silence (a
 *    client that waits for the server to speak first, a probe, an idle
 *    attacker) gets a worker only from the small shared pool below;
 *  - per source (an IPv4 address, an IPv6 /64): at most
 *    limits.per_source_max_unauthenticated connections waiting or
 *    authenticating, or limits.vendor_source_max_unauthenticated for an
 *    address inside a vendor's sources; more are refused with one line;
 *  - pools of workers still authenticating: limits.max_unauthenticated for
 *    clients that identified themselves from outside every vendor's
 *    sources, the same again for silent ones and those together (random
 *    early drop from half the cap on, as OpenSSH's MaxStartups does), and
 *    limits.vendor_source_max_unauthenticated for each vendor's own
 *    sources, so a burst of its engineers behind one NAT address gets in
 *    however many strangers wait;
 *  - login grace: enforced by the worker's alarm (policy limits.login_grace);
 *  - a growing penalty for a source that keeps failing: after each failed
 *    authentication, and each connection that reaches the login grace
 *    unauthenticated, its next connections are refused, with one line that
 *    says for how long, for 2^n seconds (n = consecutive failures beyond the
 *    third, capped at 15 min, or limits.vendor_source_penalty_max inside a
 *    vendor's sources, where one engineer's typos behind a shared address
 *    must not lock the colleagues out for long).
 *
 * Workers tell the listener "A\n" on their control pipe once a user is
 * authenticated; their exit status says whether authentication failed
 * (WORKER_EXIT_AUTHFAIL), and death by SIGALRM that the login grace ran
 * out.
 *
 * The listener is also the session monitor (proto/monitor.h): a worker
 * reports on the same pipe when its relay starts ("S ..."), the listener
 * checks that against the policy and keeps the session registry in the
 * state store, marks sessions ended when their worker exits (and, when it
 * starts, those a previous run left open), and once a second looks for an
 * admin's kill request, a revoked grant or a locked engineer, which it
 * tells the worker ("K", "R", "L"). What a worker writes is untrusted:
 * bounded lines, malformed ones logged and ignored, a flood killed.
 *
 * SIGHUP reloads the policy (listener_reload): a valid file is adopted for
 * new connections, whose workers get its text on a descriptor rather than
 * reading the file; a broken one is refused with its problems logged, and
 * the policy in force stays. Under systemd (Type=notify, sdnotify.c) the
 * listener reports READY once the recorder answers and it listens, its
 * connections as STATUS, and pings the watchdog from its loop. With
 * paths.recorder_socket the recorder is a service of its own and the
 * listener only waits for its socket; otherwise it starts and restarts
 * bastion-recorder as its child.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "monitor.h"
#include "spawnfd.h"
#include "state.h"

#define PENALTY_SLOTS		1024
#define PENALTY_FREE_FAILS	3
#define PENALTY_MAX_S		900
#define PRE_MAX			4096	/* connections waiting for first bytes */
#define PRE_IDENT_MS		100	/* ...at most this long: SSH clients
					   send "SSH-" right after connecting */
#define PRE_RECHECK_MS		20	/* "S", "SS", "SSH" so far: look again */
#define PRE_LINGER_MS		2000	/* after a refusal line: the client's
					   FIN, so that no RST eats the line */
#define PRE_DRAIN_MAX		4096	/* bytes read and dropped meanwhile */
#define PRE_LINGER_MAX		1024	/* refused ones waiting so; beyond,
					   closed at once (a flood) */
#define MON_TICK_MS		1000	/* kill / revoke / lock polling */
#define MON_GRACE_S		20	/* after K/L/R, then SIGKILL */
#define MON_LOG_LINES		3	/* unknown lines logged per worker */

/*
 * Which pool an unauthenticated worker counts against (the header
 * comment): clients that sent nothing within PRE_IDENT_MS, clients that
 * sent "SSH-" from outside every vendor's sources, and those that sent it
 * from inside a vendor's sources (counted per vendor).
 */
enum pre_pool { POOL_SILENT = 0, POOL_GENERAL, POOL_VENDOR };

struct worker {
	struct listener *L;
	uv_process_t proc;
	uv_pipe_t ctl;
	int authed;
	struct netaddr peer;
	enum pre_pool pool;		/* while not authed */
	char vendor[POLICY_MAX_NAME + 1];	/* POOL_VENDOR: whose */
	char sid[32];
	/* session monitor (proto/monitor.h) */
	struct mon_reader mon;		/* fd 4: untrusted lines */
	unsigned mon_lines;		/* lines so far: a flood is killed */
	time_t aud_window;		/* V lines: MON_AUDIT_BURST per window */
	unsigned aud_count;
	int mon_broken;			/* killed for breaking the protocol */
	int64_t row;			/* its session row; 0 before "S" */
	int told;			/* K, L or R sent */
	time_t told_at;
	int sigkilled;
	char end_reason[MON_TEXT_MAX + 1];	/* from "E" */
	uv_write_t wreq;		/* the one line we send it */
	char wbuf[MON_LINE_MAX];
	struct worker *next;
};

struct penalty {
	struct netaddr addr;
	unsigned fails;
	time_t until;
	time_t last;
};

/*
 * A connection before its worker: waiting up to PRE_IDENT_MS for the
 * client's first bytes, or refused with a line and waiting (up to
 * PRE_LINGER_MS) for the client to close. Freed once both handles are
 * closed.
 */
struct preconn {
	struct listener *L;
	uv_poll_t poll;
	uv_timer_t timer;
	int fd;				/* ours (a dup); -1 once closed */
	int nopen;			/* handles not yet closed */
	int refusing;
	uint64_t deadline;		/* uv_now() */
	size_t drained;
	struct netaddr peer;
	char vendor[POLICY_MAX_NAME + 1];	/* "" outside vendor sources */
	struct preconn *next, **prevp;
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
	struct preconn *pre;		/* before their workers */
	unsigned npre;			/* all of them */
	unsigned nlinger;		/* of those, refused with a line */
	unsigned long next_sid;
	struct penalty pen[PENALTY_SLOTS];
	int stopping;
	uv_process_t recorder;
	int recorder_running;
	uv_timer_t recorder_restart;
	char recorder_bin[PATH_MAX];
	/*
	 * SIGHUP (listener_reload): pol is the policy in force for what the
	 * listener decides itself (limits); boot is the one bastiond started
	 * with, whose listen addresses and paths stay until a restart;
	 * reloaded (ours to free) is pol after a reload, NULL before.
	 */
	const struct policy *boot;
	struct policy *reloaded;
	uv_signal_t sighup;
	char note[96];			/* for STATUS=, e.g. a failed reload */
	int policy_fd;			/* pol's text for the workers */
	struct state *st;		/* the session registry */
	uv_timer_t mon_timer;
};

extern char **environ;

static void listener_status(struct listener *L);

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
	snprintf(sock, socklen, "%s", pol->recorder_socket);
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
	if (pol->recorder_external) {
		printf("%s: paths.recorder_socket is set: the recording "
		    "signing key belongs to the recorder service; create it as "
		    "its user with bastion-recorder --init -k KEYFILE "
		    "(bastion-recorder(8), docs/OPERATIONS.md)\n", pol->path);
		return (0);
	}
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

	if (recorder_paths(L->boot, L->recorder_bin, sizeof(L->recorder_bin),
	    key, sizeof(key), sock, sizeof(sock)) != 0)
		return;
	snprintf(minfree, sizeof(minfree), "%u",
	    L->boot->recording_min_free_mb);
	args[n++] = L->recorder_bin;
	args[n++] = "-k";
	args[n++] = key;
	args[n++] = "-d";
	args[n++] = L->boot->recordings_dir;
	args[n++] = "-s";
	args[n++] = sock;
	args[n++] = "-m";
	args[n++] = minfree;
	args[n++] = "-a";	/* its events join the audit chain */
	args[n++] = L->boot->state_dir;
	args[n++] = "-D";
	args[n] = NULL;
	memset(&o, 0, sizeof(o));
	spawnfd_init(stdio, 3);
	o.file = L->recorder_bin;
	o.args = args;
	o.exit_cb = recorder_exit_cb;
	o.stdio = stdio;
	o.stdio_count = 3;
	L->recorder.data = L;
	if ((r = uv_spawn(L->loop, &L->recorder, &o)) != 0) {
		log_error("cannot start %s: %s", L->recorder_bin,
		    uv_strerror(r));
		/* the failed spawn left the handle linked: close it before
		 * the retry spawns on it again */
		uv_close((uv_handle_t *)&L->recorder, NULL);
		uv_timer_start(&L->recorder_restart, recorder_restart_cb, 5000,
		    0);
		return;
	}
	L->recorder_running = 1;
}

/* 1 if something accepts connections on the Unix socket path. */
static int
recorder_answers(const char *path)
{
	struct sockaddr_un sun;
	int fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	memcpy(sun.sun_path, path, strlen(path));
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return (ok);
}

/*
 * Wait (before serving) until the recorder's socket accepts: the one we
 * started, or the external recorder of paths.recorder_socket (its own
 * service, started before us).
 */
static int
listener_recorder_wait(struct listener *L)
{
	char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];
	int i;

	recorder_paths(L->boot, bin, sizeof(bin), key, sizeof(key), sock,
	    sizeof(sock));
	if (L->boot->recorder_external) {
		for (i = 0; i < 100; i++) {
			if (recorder_answers(sock))
				return (0);
			usleep(100000);
		}
		log_error("no recorder answers on %s (paths.recorder_socket "
		    "of %s): start it (systemctl start bastion-recorder) or "
		    "remove recorder_socket so that bastiond starts its own; "
		    "sessions cannot be recorded, so bastiond will not serve",
		    sock, L->policy_path);
		return (BERR_SYS);
	}
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

/*
 * One source for the per-source limits and the penalty: the same IPv4
 * address, or the same IPv6 /64 (one host's or one site's share, as
 * OpenSSH's PerSourceNetBlockSize 32:64).
 */
static int
source_same(const struct netaddr *a, const struct netaddr *b)
{
	return (a->family == b->family && memcmp(a->a, b->a,
	    a->family == AF_INET ? 4 : 8) == 0);
}

/* The first vendor, in policy order, whose sources hold a; else NULL. */
static const struct policy_vendor *
source_vendor(const struct policy *pol, const struct netaddr *a)
{
	size_t i, j;

	for (i = 0; i < pol->nvendors; i++)
		for (j = 0; j < pol->vendors[i].nsources; j++)
			if (netaddr_in_cidr(a, &pol->vendors[i].sources[j]))
				return (&pol->vendors[i]);
	return (NULL);
}

static struct penalty *
penalty_find(struct listener *L, const struct netaddr *a, int create)
{
	struct penalty *oldest = &L->pen[0];
	size_t i;

	for (i = 0; i < PENALTY_SLOTS; i++) {
		if (L->pen[i].last != 0 && source_same(&L->pen[i].addr, a))
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
	unsigned n, cap, d;

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
		/* behind a vendor's NAT address the colleagues wait too */
		cap = source_vendor(L->pol, a) != NULL ?
		    L->pol->vendor_source_penalty_max : PENALTY_MAX_S;
		n = p->fails - PENALTY_FREE_FAILS;
		d = n >= 31 ? UINT_MAX : 1u << n;
		p->until = p->last + (d > cap ? cap : d);
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

/* ---- session monitor (proto/monitor.h) ------------------------------- */

static void
mon_write_cb(uv_write_t *req, int status)
{
	struct worker *w = req->data;

	if (status != 0 && status != UV_ECANCELED)
		log_warn("session %s: cannot tell the worker to end: %s; it "
		    "is killed in %d seconds", w->sid, uv_strerror(status),
		    MON_GRACE_S);
}

/* Send the worker its one K, L or R line. */
static void
mon_tell(struct worker *w, const struct mon_msg *m)
{
	uv_buf_t b;
	int r;

	if (w->told || uv_is_closing((uv_handle_t *)&w->ctl))
		return;
	w->told = 1;
	w->told_at = time(NULL);
	if ((r = mon_format(m, w->wbuf, sizeof(w->wbuf))) != 0) {
		log_error("session %s: cannot format a control line (%s); the "
		    "worker is killed in %d seconds", w->sid, berr_str(r),
		    MON_GRACE_S);
		return;
	}
	b = uv_buf_init(w->wbuf, (unsigned)strlen(w->wbuf));
	w->wreq.data = w;
	if ((r = uv_write(&w->wreq, (uv_stream_t *)&w->ctl, &b, 1,
	    mon_write_cb)) != 0)
		log_warn("session %s: cannot tell the worker to end: %s; it is "
		    "killed in %d seconds", w->sid, uv_strerror(r),
		    MON_GRACE_S);
}

/* The worker broke the protocol: it ends (its session with it). */
static void
mon_violation(struct worker *w, const char *why)
{
	char addr[64];

	if (w->mon_broken)
		return;
	w->mon_broken = 1;
	netaddr_str(&w->peer, addr, sizeof(addr));
	log_warn("session %s: worker %d broke the control protocol (%s); "
	    "killing it", w->sid, w->proc.pid, why);
	audit_event("monitor.violation", "session", w->sid, "from", addr,
	    "reason", why, NULL);
	if (!uv_is_closing((uv_handle_t *)&w->ctl))
		uv_read_stop((uv_stream_t *)&w->ctl);
	if (!w->sigkilled) {
		w->sigkilled = 1;
		(void)uv_process_kill(&w->proc, SIGKILL);
	}
}

/* "S ...": check it, then register the session. */
static void
mon_register(struct worker *w, const struct mon_msg *m)
{
	struct listener *L = w->L;
	struct state_session s;
	struct mon_msg k;
	const char *why;
	char addr[64];

	netaddr_str(&w->peer, addr, sizeof(addr));
	if (!w->authed || w->row != 0) {
		log_warn("session %s: unexpected session line (%s); ignored",
		    w->sid, w->row != 0 ? "registered already" :
		    "before authentication");
		return;
	}
	memset(&k, 0, sizeof(k));
	k.type = MON_KILL;
	snprintf(k.by, sizeof(k.by), "-");
	if ((why = mon_session_check(m, w->sid, L->pol)) != NULL) {
		log_warn("session %s: worker %d reported a session the policy "
		    "does not allow (%s); ending it", w->sid, w->proc.pid, why);
		audit_event("monitor.refused", "session", w->sid, "user",
		    m->engineer, "from", addr, "device", m->device, "reason",
		    why, NULL);
		snprintf(k.text, sizeof(k.text), "the bastion could not "
		    "register this session");
		mon_tell(w, &k);
		return;
	}
	memset(&s, 0, sizeof(s));
	s.sid = strtoll(m->sid, NULL, 10);
	s.pid = w->proc.pid;
	snprintf(s.engineer, sizeof(s.engineer), "%s", m->engineer);
	snprintf(s.vendor, sizeof(s.vendor), "%s", m->vendor);
	snprintf(s.device, sizeof(s.device), "%s", m->device);
	snprintf(s.source, sizeof(s.source), "%s", addr);
	snprintf(s.recording, sizeof(s.recording), "%s", m->path);
	s.started = time(NULL);
	s.grant_id = m->grant;
	if (L->st == NULL || state_session_start(L->st, &s, &w->row) != 0) {
		/* fail closed: admins could neither see nor end it */
		log_error("session %s: cannot register it in the state store; "
		    "ending it", w->sid);
		snprintf(k.text, sizeof(k.text), "the bastion cannot register "
		    "this session (state store failure); try again later");
		mon_tell(w, &k);
		return;
	}
	log_info("session %s: %s (%s) on %s registered, worker %d", w->sid,
	    s.engineer, s.vendor, s.device, s.pid);
}

/*
 * A sandboxed worker's audit event ("V"): it can no longer write the
 * audit chain itself (sandbox.c), so the listener appends it for it, once
 * the line is well formed and names this worker's pid and session. A
 * burst beyond MON_AUDIT_BURST lines in MON_AUDIT_WINDOW seconds is a
 * flood (it would fill the disk): the worker is killed.
 */
static int
mon_audit(struct worker *w, const char *line, size_t len)
{
	struct mon_msg m;
	const char *why;
	char shown[64];
	time_t now = time(NULL);

	if (now - w->aud_window >= MON_AUDIT_WINDOW) {
		w->aud_window = now;
		w->aud_count = 0;
	}
	if (++w->aud_count > MON_AUDIT_BURST) {
		mon_violation(w, "an audit event flood");
		return (1);
	}
	if (mon_parse(line, len, &m) != 0)
		why = "not a V line";
	else
		why = mon_audit_check(m.audit, m.auditlen, w->sid,
		    (long)w->proc.pid);
	if (why != NULL) {
		mon_text_clean(line, shown, sizeof(shown));
		log_warn("session %s: worker %d sent an audit line that is "
		    "refused (%s): \"%s\"", w->sid, w->proc.pid, why, shown);
		audit_event("monitor.audit_refused", "session", w->sid,
		    "worker", NULL, "reason", why, NULL);
		return (0);
	}
	/* m.audit lies inside line, which the reader NUL-terminated */
	(void)audit_line(m.audit);
	return (0);
}

static int
mon_line(const char *line, size_t len, void *arg)
{
	struct worker *w = arg;
	struct mon_msg m;
	char shown[64];

	if (len > 0 && line[0] == 'V')
		return (mon_audit(w, line, len));
	if (++w->mon_lines > MON_MAX_LINES) {
		mon_violation(w, "too many control lines");
		return (1);
	}
	if (mon_parse(line, len, &m) != 0) {
		if (w->mon_lines <= MON_LOG_LINES) {
			mon_text_clean(line, shown, sizeof(shown));
			log_warn("session %s: worker %d sent a malformed "
			    "control line (%zu bytes: \"%s\"); ignored",
			    w->sid, w->proc.pid, len, shown);
		}
		return (0);
	}
	switch (m.type) {
	case MON_AUTH:
		if (!w->authed) {
			w->authed = 1;
			if (w->L->unauth > 0)
				w->L->unauth--;
			listener_status(w->L);
		}
		break;
	case MON_SESSION:
		mon_register(w, &m);
		break;
	case MON_END:
		snprintf(w->end_reason, sizeof(w->end_reason), "%s", m.text);
		break;
	default:
		log_warn("session %s: worker %d sent a line only the listener "
		    "sends; ignored", w->sid, w->proc.pid);
		break;
	}
	return (0);
}

static void
mon_feed(struct worker *w, const char *p, size_t n)
{
	if (w->mon_broken)
		return;
	if (mon_reader_feed(&w->mon, p, n, mon_line, w) == BERR_LIMIT)
		mon_violation(w, "a control line longer than the limit");
}

/* At the worker's exit: what it wrote last may not have been read yet. */
static void
mon_drain(struct worker *w)
{
	char b[MON_LINE_MAX];
	ssize_t n;
	int fd, i;

	if (w->ctl.data == NULL || uv_is_closing((uv_handle_t *)&w->ctl) ||
	    uv_fileno((uv_handle_t *)&w->ctl, &fd) != 0)
		return;
	for (i = 0; i < 8 && !w->mon_broken; i++) {
		if ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) <= 0)
			break;
		mon_feed(w, b, (size_t)n);
	}
}

/* One live session's controls: tell its worker what an admin decided. */
static int
mon_control(const struct state_session_ctl *c, void *arg)
{
	struct listener *L = arg;
	struct worker *w;
	struct mon_msg m;

	for (w = L->workers; w != NULL; w = w->next)
		if (w->row == c->id)
			break;
	if (w == NULL || w->told)
		return (0);
	memset(&m, 0, sizeof(m));
	if (c->kill_requested || c->engineer_locked) {
		const char *by = c->kill_requested ? c->killed_by :
		    c->locked_by;

		m.type = c->kill_requested ? MON_KILL : MON_LOCK;
		snprintf(m.by, sizeof(m.by), "%.64s", mon_name_ok(by) ? by :
		    "-");
		mon_text_clean(c->kill_requested ? c->kill_reason :
		    c->lock_reason, m.text, sizeof(m.text));
	} else if (c->grant_revoked)
		m.type = MON_REVOKE;
	else
		return (0);
	log_info("session %s: %s; telling worker %d to end it", w->sid,
	    m.type == MON_KILL ? "an admin killed it" : m.type == MON_LOCK ?
	    "an admin locked the engineer" : "its grant was revoked",
	    w->proc.pid);
	mon_tell(w, &m);
	return (0);
}

static void
mon_tick(uv_timer_t *t)
{
	static time_t complained;
	struct listener *L = t->data;
	struct worker *w;
	time_t now = time(NULL);
	int watch = 0;

	for (w = L->workers; w != NULL; w = w->next) {
		if (w->told && !w->sigkilled && now - w->told_at >=
		    MON_GRACE_S) {
			log_warn("session %s: worker %d still runs %d seconds "
			    "after it was told to end; killing it", w->sid,
			    w->proc.pid, MON_GRACE_S);
			w->sigkilled = 1;
			(void)uv_process_kill(&w->proc, SIGKILL);
		}
		if (w->row != 0 && !w->told)
			watch = 1;
	}
	if (watch && state_session_controls(L->st, mon_control, L) != 0 &&
	    now - complained >= 60) {
		complained = now;
		log_error("session monitor: the state store cannot be read; "
		    "kill requests, revoked grants and locks take effect once "
		    "it can");
	}
}

/* Rows an earlier bastiond left open: no worker of theirs is alive. */
static void
mon_recover_one(const struct state_session *s, void *arg)
{
	(void)arg;
	log_warn("session %lld (%s on %s, worker %d) was left open by an "
	    "earlier bastiond; marked ended", (long long)s->sid, s->engineer,
	    s->device, s->pid);
}

static void
worker_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct worker *w = p->data, **pp;
	struct listener *L = w->L;
	char addr[64], why[MON_TEXT_MAX + 64];

	netaddr_str(&w->peer, addr, sizeof(addr));
	mon_drain(w);
	if (w->row != 0) {
		if (w->end_reason[0] != '\0')
			snprintf(why, sizeof(why), "%s", w->end_reason);
		else if (sig != 0)
			snprintf(why, sizeof(why), "worker killed by signal %d",
			    sig);
		else
			snprintf(why, sizeof(why), "worker exited (status "
			    "%lld)", (long long)status);
		if (state_session_end(L->st, w->row, why) != 0)
			log_error("session %s: cannot mark it ended in the "
			    "state store", w->sid);
	}
	if (!w->authed && L->unauth > 0)
		L->unauth--;
	/* a failed login, or the login grace run out (the worker's alarm:
	 * SIGALRM) before anyone authenticated: both count for the source */
	if (status == WORKER_EXIT_AUTHFAIL || (sig == SIGALRM && !w->authed))
		penalty_record(L, &w->peer, 1);
	else if (w->authed)
		penalty_record(L, &w->peer, 0);
	/* sandbox.c: a forbidden system call (the monitor exits
	 * WORKER_EXIT_SANDBOX when its confined child died of SIGSYS) */
	if (sig == SIGSYS || (sig == 0 && status == WORKER_EXIT_SANDBOX))
		audit_event("worker.sandbox_violation", "session", w->sid,
		    "from", addr, "reason", "the session worker "
		    "made a system call outside its seccomp allowlist and was "
		    "killed; other sessions are unaffected", NULL);
	else if (sig != 0)
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
	listener_status(L);
	uv_close((uv_handle_t *)&w->proc, worker_close_cb);
	if (!uv_is_closing((uv_handle_t *)&w->ctl))
		uv_close((uv_handle_t *)&w->ctl, worker_close_cb);
}

static void
ctl_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char b[MON_LINE_MAX];

	(void)h;
	(void)hint;
	buf->base = b;
	buf->len = sizeof(b);
}

static void
ctl_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct worker *w = s->data;

	if (n > 0)
		mon_feed(w, buf->base, (size_t)n);
	if (n < 0)
		uv_read_stop(s);
}

static unsigned long
listener_next_sid(struct listener *L)
{
	char path[PATH_MAX];
	FILE *f;

	/* persisted so ids stay unique across restarts */
	snprintf(path, sizeof(path), "%s/next-session", L->boot->state_dir);
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

/* Random early drop between half the cap and the cap, for a pool that
 * holds n unauthenticated connections. */
static int
listener_should_drop(const struct listener *L, unsigned n)
{
	unsigned cap = L->pol->max_unauthenticated, start = cap / 2;
	uint32_t rnd;

	if (n >= cap)
		return (1);
	if (n < start || cap == start)
		return (0);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return (1);
	return (rnd % (cap - start) < n - start);
}

/* A worker for the client on fd (which stays ours to close), counted in
 * pool (of vendor, for POOL_VENDOR) until it authenticates. */
static void
listener_spawn(struct listener *L, int fd, const struct netaddr *a,
    enum pre_pool pool, const char *vendor)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[6];
	struct worker *w;
	char sid[32], addr[64], pfd[16];
	char *args[10];
	int r, n = 0;

	netaddr_str(a, addr, sizeof(addr));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return;
	w->L = L;
	w->peer = *a;
	w->pool = pool;
	snprintf(w->vendor, sizeof(w->vendor), "%s", vendor);
	mon_reader_init(&w->mon);
	snprintf(sid, sizeof(sid), "%lu", listener_next_sid(L));
	snprintf(w->sid, sizeof(w->sid), "%s", sid);
	args[n++] = L->self;
	args[n++] = "--worker";
	args[n++] = sid;
	args[n++] = "-f";
	args[n++] = (char *)L->policy_path;
	/* the policy the listener adopted, not the file as it is now */
	snprintf(pfd, sizeof(pfd), "%d", WORKER_FD_POLICY);
	args[n++] = "--policy-fd";
	args[n++] = pfd;
	if (L->debug)
		args[n++] = "-d";
	args[n] = NULL;

	uv_pipe_init(L->loop, &w->ctl, 0);
	w->ctl.data = w;
	w->proc.data = w;
	memset(&o, 0, sizeof(o));
	spawnfd_init(stdio, 6);	/* the worker's stdout is our stderr */
	spawnfd_set(stdio, WORKER_FD_CLIENT, fd);
	/* both ways: the monitor answers on it (K, L, R) */
	stdio[4].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE | UV_READABLE_PIPE;
	stdio[4].data.stream = (uv_stream_t *)&w->ctl;
	o.file = L->self;
	o.args = args;
	o.exit_cb = worker_exit_cb;
	spawnfd_set(stdio, WORKER_FD_POLICY, L->policy_fd);
	o.stdio = stdio;
	o.stdio_count = 6;
	if ((r = uv_spawn(L->loop, &w->proc, &o)) != 0) {
		log_error("cannot start a worker: %s", uv_strerror(r));
		/* libuv has linked the process handle even though the spawn
		 * failed: close both handles; w goes with the second */
		uv_close((uv_handle_t *)&w->proc, worker_close_cb);
		uv_close((uv_handle_t *)&w->ctl, worker_close_cb);
		return;
	}
	uv_read_start((uv_stream_t *)&w->ctl, ctl_alloc_cb, ctl_read_cb);
	w->next = L->workers;
	L->workers = w;
	L->unauth++;
	listener_status(L);
	log_info("session %s: connection from %s (worker %d; %s%s)", sid,
	    addr, w->proc.pid, pool == POOL_SILENT ? "silent client" :
	    pool == POOL_GENERAL ? "SSH client" : "SSH client from the "
	    "sources of vendor ", pool == POOL_VENDOR ? vendor : "");
}

static void
client_close_cb(uv_handle_t *h)
{
	free(h);
}

/*
 * conn.refused, rate-limited: every refused connection of a flood would
 * otherwise be a synced line in the audit chain (filling the disk, and
 * holding up this loop). At most REFUSED_PER_S events a second; the rest
 * are counted and reported once the flood ebbs (conn.refused_suppressed).
 */
#define REFUSED_PER_S	5

static void
listener_refused(const char *addr, const char *why)
{
	static time_t sec;
	static unsigned n, suppressed;
	time_t now = time(NULL);
	char cnt[24];

	if (now != sec) {
		if (suppressed > 0) {
			snprintf(cnt, sizeof(cnt), "%u", suppressed);
			audit_event("conn.refused_suppressed", "count", cnt,
			    "reason", "more refused connections than the "
			    "audit log takes per second (a flood?)", NULL);
		}
		sec = now;
		n = suppressed = 0;
	}
	if (++n > REFUSED_PER_S) {
		suppressed++;
		return;
	}
	audit_event("conn.refused", "from", addr, "reason", why, NULL);
}

/* ---- before the worker: first bytes, per-source limits, pools ------- */

/* Unauthenticated connections that share a's source (waiting here or in
 * workers), and workers per pool (vendor's own for POOL_VENDOR). */
struct pre_count {
	unsigned source;
	unsigned silent;
	unsigned general;
	unsigned vendor;
};

static void
pre_count(const struct listener *L, const struct netaddr *a,
    const char *vendor, struct pre_count *n)
{
	const struct preconn *p;
	const struct worker *w;

	memset(n, 0, sizeof(*n));
	for (p = L->pre; p != NULL; p = p->next)
		if (!p->refusing && source_same(&p->peer, a))
			n->source++;
	for (w = L->workers; w != NULL; w = w->next) {
		if (w->authed)
			continue;
		if (source_same(&w->peer, a))
			n->source++;
		if (w->pool == POOL_SILENT)
			n->silent++;
		else if (w->pool == POOL_GENERAL)
			n->general++;
		else if (strcmp(w->vendor, vendor) == 0)
			n->vendor++;
	}
}

static void
pre_close_cb(uv_handle_t *h)
{
	struct preconn *p = h->data;

	if (--p->nopen == 0)
		free(p);
}

/* Done with it here: refused, dropped, gone, or its worker has a copy. */
static void
pre_close(struct preconn *p)
{
	if (p->fd == -1)
		return;
	/* stops polling at once; only then may the descriptor go */
	uv_close((uv_handle_t *)&p->poll, pre_close_cb);
	uv_close((uv_handle_t *)&p->timer, pre_close_cb);
	close(p->fd);
	p->fd = -1;
	if ((*p->prevp = p->next) != NULL)
		p->next->prevp = p->prevp;
	p->L->npre--;
	if (p->refusing)
		p->L->nlinger--;
}

/* Handoff: a worker if the pool has room, else closed without a word. */
static void
pre_handoff(struct preconn *p, enum pre_pool pool)
{
	struct listener *L = p->L;
	struct pre_count n;
	const char *why = NULL;
	char addr[64];

	pre_count(L, &p->peer, p->vendor, &n);
	if (pool == POOL_VENDOR) {
		if (n.vendor >= L->pol->vendor_source_max_unauthenticated)
			why = "too many unauthenticated connections from the "
			    "vendor's sources";
	} else if (listener_should_drop(L, pool == POOL_GENERAL ? n.general :
	    n.general + n.silent))
		why = "too many unauthenticated connections";
	if (why != NULL) {
		netaddr_str(&p->peer, addr, sizeof(addr));
		listener_refused(addr, why);
	} else
		listener_spawn(L, p->fd, &p->peer, pool, p->vendor);
	pre_close(p);
}

static void pre_timer_cb(uv_timer_t *t);

/*
 * Look at (never take) the client's first bytes. "SSH-" goes to a worker;
 * anything else is dropped; a prefix of it ("S", "SS", "SSH") is looked at
 * again shortly. At the deadline (final), silence goes to the silent pool
 * and an unfinished "SSH-" is dropped.
 */
static void
pre_check(struct preconn *p, int final)
{
	uint64_t now = uv_now(p->L->loop), left;
	char b[4], addr[64];
	ssize_t n;

	n = recv(p->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		pre_close(p);		/* gone before it said anything */
		return;
	}
	if (n < 0)
		n = 0;
	if (n == (ssize_t)sizeof(b) && memcmp(b, "SSH-", 4) == 0) {
		pre_handoff(p, p->vendor[0] != '\0' ? POOL_VENDOR :
		    POOL_GENERAL);
		return;
	}
	if (n > 0 && (memcmp(b, "SSH-", (size_t)n) != 0 || final)) {
		netaddr_str(&p->peer, addr, sizeof(addr));
		listener_refused(addr, "the client did not begin with an SSH "
		    "identification");
		pre_close(p);
		return;
	}
	if (final) {
		pre_handoff(p, POOL_SILENT);
		return;
	}
	if (n > 0) {
		/* the rest is on its way: a readable socket would only spin */
		uv_poll_stop(&p->poll);
		left = p->deadline > now ? p->deadline - now : 0;
		uv_timer_start(&p->timer, pre_timer_cb, left < PRE_RECHECK_MS ?
		    left : PRE_RECHECK_MS, 0);
	}
}

/* After a refusal line: read and drop what the client still sends until
 * it closes (closing on unread bytes would send an RST, which may destroy
 * the line before the client reads it). */
static void
pre_drain(struct preconn *p)
{
	char b[512];
	ssize_t n;
	int i;

	for (i = 0; i < 8; i++) {
		n = recv(p->fd, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n <= 0 || (p->drained += (size_t)n) > PRE_DRAIN_MAX)
			break;
	}
	if (i == 8 && p->drained <= PRE_DRAIN_MAX)
		return;			/* more next time round the loop */
	pre_close(p);
}

static void
pre_poll_cb(uv_poll_t *h, int status, int events)
{
	struct preconn *p = h->data;

	(void)events;
	if (status < 0)
		pre_close(p);
	else if (p->refusing)
		pre_drain(p);
	else
		pre_check(p, 0);
}

static void
pre_timer_cb(uv_timer_t *t)
{
	struct preconn *p = t->data;

	if (p->refusing)
		pre_close(p);
	else
		pre_check(p, uv_now(p->L->loop) >= p->deadline);
}

/* Refuse with one line of text (RFC 4253 4.2 lets a server send lines
 * before its identification; OpenSSH's ssh -v shows it as "banner line"),
 * then wait for the client to close. */
static void
pre_refuse(struct preconn *p, const char *line)
{
	(void)send(p->fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(p->fd, SHUT_WR);
	p->refusing = 1;
	p->L->nlinger++;
	if (p->L->nlinger > PRE_LINGER_MAX) {
		/* a flood of refusals: no time to be polite */
		pre_drain(p);
		pre_close(p);
		return;
	}
	uv_timer_start(&p->timer, pre_timer_cb, PRE_LINGER_MS, 0);
}

/* Hold fd (ours) until the client's first bytes; NULL (fd closed) when the
 * handles cannot be set up. */
static struct preconn *
pre_new(struct listener *L, int fd, const struct netaddr *a)
{
	struct preconn *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return (NULL);
	}
	if (uv_poll_init_socket(L->loop, &p->poll, fd) != 0) {
		close(fd);
		free(p);
		return (NULL);
	}
	uv_timer_init(L->loop, &p->timer);
	p->poll.data = p->timer.data = p;
	p->nopen = 2;
	p->L = L;
	p->fd = fd;
	p->peer = *a;
	p->deadline = uv_now(L->loop) + PRE_IDENT_MS;
	if ((p->next = L->pre) != NULL)
		L->pre->prevp = &p->next;
	p->prevp = &L->pre;
	L->pre = p;
	L->npre++;
	uv_poll_start(&p->poll, UV_READABLE, pre_poll_cb);
	uv_timer_start(&p->timer, pre_timer_cb, PRE_IDENT_MS, 0);
	return (p);
}

/* A new connection on fd (the accepted socket, which stays the caller's). */
static void
pre_start(struct listener *L, int fd, const struct netaddr *a)
{
	const struct policy_vendor *v;
	const struct penalty *pen;
	struct preconn *p;
	struct pre_count n;
	time_t now = time(NULL);
	char addr[64], line[128];
	unsigned limit;
	int nfd;

	netaddr_str(a, addr, sizeof(addr));
	if (L->npre - L->nlinger >= PRE_MAX) {
		listener_refused(addr, "too many connections waiting for their "
		    "SSH identification");
		return;
	}
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		log_warn("connection from %s dropped: %s", addr,
		    strerror(errno));
		return;
	}
	if ((p = pre_new(L, nfd, a)) == NULL) {
		log_warn("connection from %s dropped: out of memory", addr);
		return;
	}
	if ((v = source_vendor(L->pol, a)) != NULL)
		snprintf(p->vendor, sizeof(p->vendor), "%s", v->name);
	if ((pen = penalty_find(L, a, 0)) != NULL && pen->until > now) {
		listener_refused(addr, "source address is in a penalty period "
		    "after repeated authentication failures");
		snprintf(line, sizeof(line), "bastion: too many failed logins "
		    "from your address; try again in %lld s\r\n",
		    (long long)(pen->until - now));
		pre_refuse(p, line);
		return;
	}
	pre_count(L, a, p->vendor, &n);		/* p itself included */
	limit = v != NULL ? L->pol->vendor_source_max_unauthenticated :
	    L->pol->per_source_max_unauthenticated;
	if (n.source > limit) {
		listener_refused(addr, "too many unauthenticated connections "
		    "from this source address");
		pre_refuse(p, "bastion: too many unfinished logins from your "
		    "address; try again in a few seconds\r\n");
	}
}

static void
listener_conn_cb(uv_stream_t *server, int status)
{
	struct listener *L = server->data;
	struct sockaddr_storage ss;
	int sl = sizeof(ss), fd;
	struct netaddr a;
	uv_tcp_t *c;

	if (status < 0 || L->stopping)
		return;
	if ((c = malloc(sizeof(*c))) == NULL)
		return;
	uv_tcp_init(L->loop, c);
	if (uv_accept(server, (uv_stream_t *)c) == 0 &&
	    uv_tcp_getpeername(c, (struct sockaddr *)&ss, &sl) == 0 &&
	    netaddr_from_sockaddr((struct sockaddr *)&ss, &a) == 0 &&
	    uv_fileno((uv_handle_t *)c, &fd) == 0)
		pre_start(L, fd, &a);
	/* what goes on holds its own copy of the socket */
	uv_close((uv_handle_t *)c, client_close_cb);
}

/* ---- STATUS= and SIGHUP --------------------------------------------- */

/*
 * The adopted policy's text in a sealed memfd. Every worker gets it as
 * fd WORKER_FD_POLICY (bastiond --policy-fd) and so runs under exactly
 * the policy the listener validated, never the file as it is on disk now,
 * which an admin may be half-way through editing (sshd hands its
 * re-executed child its configuration the same way). Returns the
 * descriptor (close-on-exec here), or -1 with the reason logged.
 */
static int
listener_policy_fd(const struct policy *pol)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("bastion-policy", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		log_error("cannot keep the policy for the session workers "
		    "(memfd_create: %s)", strerror(errno));
		return (-1);
	}
	while (off < pol->textlen) {
		n = write(fd, pol->text + off, pol->textlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("cannot keep the policy for the session "
			    "workers (write: %s)", strerror(errno));
			close(fd);
			return (-1);
		}
		off += (size_t)n;
	}
	/* read-only for good: a worker cannot change what the next reads */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		log_error("cannot seal the policy for the session workers: %s",
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* STATUS= for systemctl status: connections, and a note after a failed
 * reload. Sent only when it changed (sdnotify_status). */
static void
listener_status(struct listener *L)
{
	struct worker *w;
	unsigned n = 0;

	for (w = L->workers; w != NULL; w = w->next)
		n++;
	sdnotify_status("%u connection%s, %u authenticated%s%s", n,
	    n == 1 ? "" : "s", n - (L->unauth < n ? L->unauth : n),
	    L->note[0] != '\0' ? "; " : "", L->note);
}

static int
str_same(const char *a, const char *b)
{
	return ((a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* 1 if both policies listen on the same addresses, in any order (the
 * loader wrote the hosts in one canonical form). */
static int
listen_same(const struct policy *a, const struct policy *b)
{
	size_t i, j;

	if (a->nlisten != b->nlisten)
		return (0);
	for (i = 0; i < a->nlisten; i++) {
		for (j = 0; j < b->nlisten; j++)
			if (a->listen[i].port == b->listen[j].port &&
			    strcmp(a->listen[i].host, b->listen[j].host) == 0)
				break;
		if (j == b->nlisten)
			return (0);
	}
	return (1);
}

/*
 * What a reload cannot change: the paths the listener, the recorder and
 * the control socket work with, and admin_group (0, or -1 with why: the
 * reload is refused); the listen sockets (a warning: they stay).
 */
static int
listener_reload_fixed(const struct listener *L, const struct policy *np,
    char *why, size_t whylen)
{
	static const struct {
		const char *name;
		size_t off;
	} fixed[] = {
		{ "paths.state_dir", offsetof(struct policy, state_dir) },
		{ "paths.recordings_dir",
		    offsetof(struct policy, recordings_dir) },
		{ "paths.run_dir", offsetof(struct policy, run_dir) },
		{ "paths.recorder_socket",
		    offsetof(struct policy, recorder_socket) },
		{ "admin_group", offsetof(struct policy, admin_group) },
	};
	const struct policy *b = L->boot;
	size_t i;

	/*
	 * Where the state, the recordings and the sockets live, and who may
	 * use the control socket, are fixed while bastiond runs: the
	 * listener, the recorder and the control socket hold them open. A
	 * policy that changes them is not adopted at all (half the processes
	 * would use the old places, half the new).
	 */
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const char *was = *(char *const *)((const char *)b +
		    fixed[i].off);
		const char *now = *(char *const *)((const char *)np +
		    fixed[i].off);

		if (!str_same(was, now)) {
			snprintf(why, whylen, "%s changed from %s to %s, which "
			    "needs a restart (systemctl restart bastiond; "
			    "running sessions end)", fixed[i].name,
			    was ? was : "-", now ? now : "-");
			return (-1);
		}
	}
	if (!listen_same(b, np))
		log_warn("policy reload: 'listen' changed, but bastiond keeps "
		    "listening where it did until it is restarted (systemctl "
		    "restart bastiond; running sessions end)");
	if (!b->recorder_external &&
	    b->recording_min_free_mb != np->recording_min_free_mb)
		log_warn("policy reload: limits.recording_min_free_mb changed: "
		    "the recorder bastiond started keeps %u MiB until bastiond "
		    "is restarted", b->recording_min_free_mb);
	return (0);
}

/*
 * SIGHUP: read and validate the policy file again. A policy with
 * problems is not adopted: every problem is logged as FILE:LINE: ..., the
 * policy in force stays, and bastiond goes on serving. A valid one becomes
 * the listener's policy at once (pre-authentication limits, the session
 * monitor's checks); running sessions are not touched.
 */
static void
listener_reload(struct listener *L)
{
	struct policy *np = NULL;
	char *errs = NULL, *line, *save = NULL, *first = NULL, hash[65];
	char nerr[24], nv[24], nd[24], fixed[512];
	size_t errlen = 0, nerrs = 0;
	FILE *ef;
	int r, pfd;

	if (L->stopping)
		return;
	log_info("SIGHUP: reloading the policy %s", L->policy_path);
	sdnotify_reloading();
	if ((ef = open_memstream(&errs, &errlen)) == NULL)
		r = BERR_NOMEM;
	else {
		r = policy_load(L->policy_path, ef, &nerrs, &np);
		fclose(ef);
	}
	if (r != 0) {
		/* the same lines as bastiond --check prints */
		for (line = errs != NULL ? strtok_r(errs, "\n", &save) : NULL;
		    line != NULL; line = strtok_r(NULL, "\n", &save)) {
			log_error("%s", line);
			if (first == NULL)
				first = line;
		}
		snprintf(nerr, sizeof(nerr), "%zu", nerrs);
		audit_event("policy.reload_failed", "policy", L->policy_path,
		    "problems", nerr, "reason", first != NULL ? first :
		    berr_str(r), NULL);
		log_error("policy reload failed (%zu problem%s): the policy "
		    "loaded before stays in force; fix %s (bastiond -f %s "
		    "--check) and reload again", nerrs, nerrs == 1 ? "" : "s",
		    L->policy_path, L->policy_path);
		snprintf(L->note, sizeof(L->note), "policy reload failed, "
		    "the previous policy is in force (see the journal)");
		free(errs);
		listener_status(L);
		sdnotify_ready();
		return;
	}
	free(errs);
	if (listener_reload_fixed(L, np, fixed, sizeof(fixed)) != 0) {
		policy_free(np);
		audit_event("policy.reload_failed", "policy", L->policy_path,
		    "problems", "0", "reason", fixed, NULL);
		log_error("policy reload refused: %s; the policy loaded before "
		    "stays in force", fixed);
		snprintf(L->note, sizeof(L->note), "policy reload refused, "
		    "the previous policy is in force (see the journal)");
		listener_status(L);
		sdnotify_ready();
		return;
	}
	if ((pfd = listener_policy_fd(np)) == -1) {
		policy_free(np);
		audit_event("policy.reload_failed", "policy", L->policy_path,
		    "problems", "0", "reason", "cannot hand the new policy to "
		    "the session workers", NULL);
		snprintf(L->note, sizeof(L->note), "policy reload failed, "
		    "the previous policy is in force (see the journal)");
		listener_status(L);
		sdnotify_ready();
		return;
	}
	close(L->policy_fd);
	L->policy_fd = pfd;
	ctlsock_policy_fd(pfd);
	/* nothing keeps pointers into the policy across loop iterations */
	policy_free(L->reloaded);
	L->reloaded = np;
	L->pol = np;
	hex_encode(np->sha256, sizeof(np->sha256), hash);
	snprintf(nv, sizeof(nv), "%zu", np->nvendors);
	snprintf(nd, sizeof(nd), "%zu", np->ndevices);
	audit_event("policy.reloaded", "policy", L->policy_path, "sha256",
	    hash, "vendors", nv, "devices", nd, NULL);
	L->note[0] = '\0';
	listener_status(L);
	sdnotify_ready();
}

static void
listener_sighup_cb(uv_signal_t *s, int sig)
{
	(void)sig;
	listener_reload(s->data);
}

static void
listener_signal_cb(uv_signal_t *s, int sig)
{
	struct listener *L = s->data;
	struct worker *w;
	size_t i;

	log_info("signal %d: stopping", sig);
	L->stopping = 1;
	sdnotify_stopping();
	sdnotify_watchdog_stop();
	uv_close((uv_handle_t *)&L->sighup, NULL);
	for (i = 0; i < L->nsocks; i++)
		uv_close((uv_handle_t *)&L->socks[i], NULL);
	while (L->pre != NULL)
		pre_close(L->pre);
	for (w = L->workers; w != NULL; w = w->next)
		uv_process_kill(&w->proc, SIGTERM);
	uv_timer_stop(&L->recorder_restart);
	uv_close((uv_handle_t *)&L->recorder_restart, NULL);
	if (L->recorder_running)
		uv_process_kill(&L->recorder, SIGTERM);
	uv_close((uv_handle_t *)&L->sigterm, NULL);
	uv_close((uv_handle_t *)&L->sigint, NULL);
	uv_close((uv_handle_t *)&L->mon_timer, NULL);
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
			if (r == UV_EACCES && l->port < 1024)
				log_error("cannot listen on %s port %u: %s — "
				    "ports below 1024 need CAP_NET_BIND_SERVICE, "
				    "which bastiond.service does not grant by "
				    "default: listen on a port from 1024 up, or "
				    "add it with a drop-in (systemd/README.md)",
				    l->host, l->port, uv_strerror(r));
			else
				log_error("cannot listen on %s port %u: %s — is "
				    "another bastiond running? change 'listen' "
				    "in the policy", l->host, l->port,
				    uv_strerror(r));
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
	L->boot = pol;
	/* before the first child: none of them may notify systemd */
	sdnotify_init();
	if ((L->policy_fd = listener_policy_fd(pol)) == -1)
		goto out;
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
	if (!pol->recorder_external)	/* else the recorder's, not ours */
		(void)mkdir(pol->recordings_dir, 0700);
	signal(SIGPIPE, SIG_IGN);
	if (!pol->recorder_external) {
		char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];

		recorder_paths(pol, bin, sizeof(bin), key, sizeof(key), sock,
		    sizeof(sock));
		if (access(key, R_OK) != 0) {
			log_error("recording key %s: %s — run bastiond -f %s "
			    "--init", key, strerror(errno), policy_path);
			goto out;
		}
	}
	/* the session registry: without it admins could neither list nor
	 * end sessions, so no store, no service */
	if (state_open(pol->state_dir, &L->st) != 0) {
		log_error("cannot open the state store in %s (paths.state_dir "
		    "of %s): bastiond will not serve — check that the "
		    "directory exists and belongs to bastiond's user",
		    pol->state_dir, policy_path);
		goto out;
	}
	if (state_session_end_open(L->st, "bastiond restarted",
	    mon_recover_one, NULL, NULL) != 0) {
		log_error("cannot update the session registry in %s; "
		    "bastiond will not serve", pol->state_dir);
		goto out;
	}
	uv_timer_init(loop, &L->recorder_restart);
	L->recorder_restart.data = L;
	if (!pol->recorder_external)
		listener_recorder_start(L);
	if (listener_recorder_wait(L) != 0 || listener_bind(L) != 0 ||
	    ctlsock_start(loop, pol, L->self, policy_path, debug) != 0 ||
	    (ctlsock_policy_fd(L->policy_fd), 0)) {
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
	uv_signal_init(loop, &L->sighup);
	L->sighup.data = L;
	uv_signal_start(&L->sighup, listener_sighup_cb, SIGHUP);
	uv_timer_init(loop, &L->mon_timer);
	L->mon_timer.data = L;
	uv_timer_start(&L->mon_timer, mon_tick, MON_TICK_MS, MON_TICK_MS);
	audit_event("bastion.start", "policy", policy_path, NULL);
	if (geteuid() == 0 && getpwnam(pol->worker_user != NULL ?
	    pol->worker_user : POLICY_DEFAULT_WORKER_USER) == NULL)
		log_warn("worker_user %s does not exist: session workers will "
		    "run as nobody (the installed sysusers.d entry creates "
		    "it)", pol->worker_user != NULL ? pol->worker_user :
		    POLICY_DEFAULT_WORKER_USER);
	log_info("ready");
	/* the recorder answers and every listen address is bound */
	listener_status(L);
	sdnotify_ready();
	(void)sdnotify_watchdog_start(loop);
	uv_run(loop, UV_RUN_DEFAULT);
	audit_event("bastion.stop", NULL);
	rc = 0;
out:
	sdnotify_watchdog_stop();
	for (i = 0; i < L->nsocks; i++)
		if (!uv_is_closing((uv_handle_t *)&L->socks[i]))
			uv_close((uv_handle_t *)&L->socks[i], NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	uv_loop_close(loop);
	state_close(L->st);
	if (L->policy_fd >= 0)
		close(L->policy_fd);
	policy_free(L->reloaded);
	free(L->socks);
	free(L);
	return (rc);
}
