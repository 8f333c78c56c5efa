/*
 * listener.c - the long-lived bastiond process: its libuv loop, wired.
 *
 * A libuv loop accepts TCP connections on every listen address of the
 * policy and hands each one to a fresh worker process (bastiond
 * re-executed with --worker, the socket on fd 3). The parts, each in its
 * own file (listener.h): accept.c holds a connection until its first
 * bytes and applies the pre-authentication limits (preauth.c's rules);
 * registry.c spawns the workers, reads their pipe lines and keeps the
 * registry of live sessions in the state store (K/L/R once a second);
 * recsup.c starts and restarts bastion-recorder; reload.c adopts a new
 * policy on SIGHUP; health.c answers a load balancer's readiness checks. This file starts them in order (the state store, the
 * recorder, the listen sockets, the control socket), runs the loop, and
 * stops them on SIGTERM/SIGINT.
 *
 * Under systemd (Type=notify, sdnotify.c) the listener reports READY once
 * the recorder answers and it listens, its connections as STATUS, and
 * pings the watchdog from its loop.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "state.h"
#include "store_actor.h"

/* STATUS= for systemctl status: connections, and a note after a failed
 * reload. Sent only when it changed (sdnotify_status). */
void
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
	health_stop();
	checkpoint_stop();
	nodebeat_stop();
	for (i = 0; i < L->nsocks; i++)
		uv_close((uv_handle_t *)&L->socks[i], NULL);
	while (L->pre != NULL)
		accept_close(L->pre);
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
	peerwatch_stop();
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
		    128, accept_conn_cb)) != 0) {
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
	L->clock = bclock_system();
	/* before the first child: none of them may notify systemd */
	sdnotify_init();
	if ((L->policy_fd = reload_policy_fd(pol)) == -1)
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
	if (registry_recover(L) != 0) {
		log_error("cannot update the session registry in %s; "
		    "bastiond will not serve", pol->state_dir);
		goto out;
	}
	/* the audit chain's signed checkpoints, with the node's audit key;
	 * the node's heartbeat in a shared store */
	if (checkpoint_start(L) != 0 || nodebeat_start(L) != 0)
		goto out;
	/* the store actor (docs/ARCHITECTURE.md, "Store"), off this loop */
	if (store_actor_start(pol->state_dir, loop, registry_pushed, L,
	    &L->actor) != 0)
		log_warn("no store actor: each process appends its own audit "
		    "events, and admins' decisions are polled");
	uv_timer_init(loop, &L->recorder_restart);
	L->recorder_restart.data = L;
	if (!pol->recorder_external)
		recsup_start(L);
	if (recsup_wait(L) != 0 || listener_bind(L) != 0 ||
	    health_start(L) != 0 ||
	    ctlsock_start(loop, pol, L->self, policy_path, debug) != 0 ||
	    (ctlsock_policy_fd(L->policy_fd), 0)) {
		/* not serving: stop the recorder we started, then leave */
		L->stopping = 1;
		health_stop();
		checkpoint_stop();
		nodebeat_stop();
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
	uv_signal_start(&L->sighup, reload_sighup_cb, SIGHUP);
	uv_timer_init(loop, &L->mon_timer);
	L->mon_timer.data = L;
	uv_timer_start(&L->mon_timer, registry_tick, MON_TICK_MS, MON_TICK_MS);
	audit_ev(BEV_BASTION_START, "policy", policy_path, NULL);
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
	audit_ev(BEV_BASTION_STOP, NULL);
	checkpoint_write(L, "stop");
	rc = 0;
out:
	sdnotify_watchdog_stop();
	health_stop();
	checkpoint_stop();
	nodebeat_stop();
	for (i = 0; i < L->nsocks; i++)
		if (!uv_is_closing((uv_handle_t *)&L->socks[i]))
			uv_close((uv_handle_t *)&L->socks[i], NULL);
	store_actor_stop(L->actor);
	uv_run(loop, UV_RUN_NOWAIT);
	uv_loop_close(loop);
	checkpoint_free();
	state_close(L->st);
	if (L->policy_fd >= 0)
		close(L->policy_fd);
	policy_free(L->reloaded);
	free(L->socks);
	free(L);
	return (rc);
}
