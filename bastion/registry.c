/*
 * registry.c - the listener's workers and the registry of live sessions
 * (docs/ARCHITECTURE.md, "Session monitor"; proto/monitor.h).
 *
 * Each accepted connection that passed the pre-authentication limits
 * gets a worker: bastiond re-executed as --worker SID, the socket on fd 3
 * and a pipe on fd 4. The worker's monitor tells the listener on that
 * pipe when a user is authenticated ("A"), when its relay starts ("S
 * ..."), why it ends ("E"), and hands it nothing else but its audit lines
 * ("V"). Those lines are untrusted: bounded, parsed strictly, malformed
 * ones logged and ignored, a flood killed.
 *
 * The registry is the state store's session rows: written on "S" once
 * the facts check out against the policy, ended when the worker exits
 * (and, at start, those an earlier run left open). Once a second the
 * listener reads every live row's kill request, revoked grant and locked
 * engineer and tells the worker ("K", "R", "L") once; a worker still
 * running MON_GRACE_S later is killed. The store is touched in three
 * small functions only (registry_row_start, registry_row_end,
 * registry_poll_controls), and the audit chain in one
 * (registry_audit_append), so that the store actor can take them over.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "spawnfd.h"
#include "state.h"

#define MON_LOG_LINES		3	/* unknown lines logged per worker */

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
	w->told_at = bclock_wall_s(w->L->clock);
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
	audit_ev(BEV_MONITOR_VIOLATION, "session", w->sid, "from", addr,
	    "reason", why, NULL);
	if (!uv_is_closing((uv_handle_t *)&w->ctl))
		uv_read_stop((uv_stream_t *)&w->ctl);
	if (!w->sigkilled) {
		w->sigkilled = 1;
		(void)uv_process_kill(&w->proc, SIGKILL);
	}
}

/* ---- the state store and the audit chain (the store actor's part) ---- */

/* The session row for s: 0 with *row set, or -1. */
static int
registry_row_start(struct listener *L, const struct state_session *s,
    int64_t *row)
{
	return (L->st == NULL || state_session_start(L->st, s, row) != 0 ?
	    -1 : 0);
}

/* The row ended, with why. 0 or -1. */
static int
registry_row_end(struct listener *L, int64_t row, const char *why)
{
	return (state_session_end(L->st, row, why) != 0 ? -1 : 0);
}

static int mon_control(const struct state_session_ctl *c, void *arg);

/* Every live row's kill request, revoked grant and locked engineer, each
 * handed to mon_control. 0, or -1 when the store cannot be read. */
static int
registry_poll_controls(struct listener *L)
{
	return (state_session_controls(L->st, mon_control, L) != 0 ? -1 : 0);
}

/* A worker's checked audit line, appended to the chain. */
static void
registry_audit_append(const char *line)
{
	(void)audit_line(line);
}

/* ---- the worker's lines -------------------------------------------- */

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
		audit_ev(BEV_MONITOR_REFUSED, "session", w->sid, "user",
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
	s.started = bclock_wall_s(L->clock);
	s.grant_id = m->grant;
	snprintf(s.node, sizeof(s.node), "%s", L->pol->store_node != NULL ?
	    L->pol->store_node : "");
	if (registry_row_start(L, &s, &w->row) != 0) {
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
	L->mon_checked = 0;	/* a decision pushed just before: next tick */
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

	if (!burst_take(&w->aud, bclock_wall_s(w->L->clock), MON_AUDIT_WINDOW,
	    MON_AUDIT_BURST)) {
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
		audit_ev(BEV_MONITOR_AUDIT_REFUSED, "session", w->sid,
		    "worker", NULL, "reason", why, NULL);
		return (0);
	}
	/* m.audit lies inside line, which the reader NUL-terminated */
	registry_audit_append(m.audit);
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

/* Kill requests, revoked grants and engineer locks of the live sessions,
 * in one query: when the store actor pushes a decision, and on the tick. */
static void
registry_check(struct listener *L, time_t now)
{
	static time_t complained;
	struct worker *w;
	int watch = 0;

	for (w = L->workers; w != NULL; w = w->next)
		if (w->row != 0 && !w->told)
			watch = 1;
	L->mon_checked = now;
	if (watch && registry_poll_controls(L) != 0 &&
	    now - complained >= 60) {
		complained = now;
		log_error("session monitor: the state store cannot be read; "
		    "kill requests, revoked grants and locks take effect once "
		    "it can");
	}
}

void
registry_pushed(void *arg)
{
	struct listener *L = arg;

	registry_check(L, bclock_wall_s(L->clock));
	peerwatch_check(L);	/* another node's watch request */
}

void
registry_tick(uv_timer_t *t)
{
	struct listener *L = t->data;
	struct worker *w;
	time_t now = bclock_wall_s(L->clock);

	for (w = L->workers; w != NULL; w = w->next)
		if (w->told && !w->sigkilled && now - w->told_at >=
		    MON_GRACE_S) {
			log_warn("session %s: worker %d still runs %d seconds "
			    "after it was told to end; killing it", w->sid,
			    w->proc.pid, MON_GRACE_S);
			w->sigkilled = 1;
			(void)uv_process_kill(&w->proc, SIGKILL);
		}
	/* decisions are pushed (registry_pushed); without the actor, poll */
	if (L->actor == NULL || now - L->mon_checked >= MON_SAFETY_S) {
		registry_check(L, now);
		peerwatch_check(L);
	}
}

/*
 * The recording of a session an earlier bastiond left open was cut by
 * its crash: nobody writes it any more (its worker and recorder are
 * gone). Made read-only, as the recorder makes a file it sealed, so that
 * bastion-ship ships it, marked cut (docs/RECORDING-STORE.md, "Recordings
 * cut by a crash"); only a file below recordings_dir, never followed.
 */
static void
mon_recover_cut(const struct policy *pol, const struct state_session *s)
{
	struct stat sb;
	int fd;

	if (s->recording[0] == '\0' || !mon_recording_ok(pol, s->recording))
		return;
	if ((fd = open(s->recording, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 0222) != 0) {
		if (fchmod(fd, sb.st_mode & 0440) == 0)
			log_warn("recording %s was cut by the crash of an "
			    "earlier bastiond: made read-only, to be shipped "
			    "as cut", s->recording);
		else
			log_warn("recording %s was cut by a crash but cannot "
			    "be made read-only: %s", s->recording,
			    strerror(errno));
	}
	close(fd);
}

/* Rows an earlier bastiond left open: no worker of theirs is alive. */
static void
mon_recover_one(const struct state_session *s, void *arg)
{
	struct listener *L = arg;

	log_warn("session %lld (%s on %s, worker %d) was left open by an "
	    "earlier bastiond; marked ended", (long long)s->sid, s->engineer,
	    s->device, s->pid);
	mon_recover_cut(L->pol, s);
}

int
registry_recover(struct listener *L)
{
	return (state_session_end_open(L->st, L->pol->store_node != NULL ?
	    L->pol->store_node : "",
	    "bastiond restarted",
	    mon_recover_one, L, NULL) != 0 ? BERR_SYS : 0);
}

static void
worker_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct worker *w = p->data, **pp;
	struct listener *L = w->L;
	char addr[64], why[MON_TEXT_MAX + 64];
	int r;

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
		if (registry_row_end(L, w->row, why) != 0)
			log_error("session %s: cannot mark it ended in the "
			    "state store", w->sid);
	}
	if (!w->authed && L->unauth > 0)
		L->unauth--;
	/* a failed login, or the login grace run out: a failure; a login:
	 * forgiven (preauth_outcome) */
	if ((r = preauth_outcome(status, sig, w->authed)) != 0)
		preauth_penalty_record(&L->pa, L->pol, &w->peer, r > 0,
		    bclock_wall_s(L->clock));
	/* sandbox.c: a forbidden system call (the monitor exits
	 * WORKER_EXIT_SANDBOX when its confined child died of SIGSYS) */
	if (sig == SIGSYS || (sig == 0 && status == WORKER_EXIT_SANDBOX))
		audit_ev(BEV_WORKER_SANDBOX_VIOLATION, "session", w->sid,
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
	*buf = uv_buf_init(b, sizeof(b));
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
registry_next_sid(struct listener *L)
{
	char path[PATH_MAX];
	int64_t shared;
	FILE *f;

	/* several nodes on one store: numbered by it, once each in the
	 * cluster (docs/SCALE-OUT.md) */
	if (state_session_next_sid(L->st, &shared) == 0 && shared > 0)
		return ((unsigned long)shared);
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

/* listener.h */
void
registry_spawn(struct listener *L, int fd, const struct netaddr *a,
    enum pre_pool pool, const char *vendor, const char *proxied)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[6];
	struct worker *w;
	char sid[32], addr[64], pfd[16];
	char *args[12];
	int r, n = 0;

	netaddr_str(a, addr, sizeof(addr));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return;
	w->L = L;
	w->peer = *a;
	w->pool = pool;
	snprintf(w->vendor, sizeof(w->vendor), "%s", vendor);
	mon_reader_init(&w->mon);
	snprintf(sid, sizeof(sid), "%lu", registry_next_sid(L));
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
	if (proxied != NULL) {		/* from a PROXY protocol header */
		args[n++] = "--proxied";
		args[n++] = (char *)proxied;
	}
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
	log_info("session %s: connection from %s%s%s (worker %d; %s%s)",
	    sid, addr, proxied != NULL ? " via the balancer: " : "",
	    proxied != NULL ? proxied : "", w->proc.pid, pool == POOL_SILENT ? "silent client" :
	    pool == POOL_GENERAL ? "SSH client" : "SSH client from the "
	    "sources of vendor ", pool == POOL_VENDOR ? vendor : "");
}
