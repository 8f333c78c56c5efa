/*
 * listener.h - the parts of the long-lived bastiond process, shared by
 * the files that make it up (docs/ARCHITECTURE.md, "Session monitor"):
 *
 *   listener.c  the loop's wiring: start, bind, signals, STATUS=, stop
 *   accept.c    accepted connections before their worker: first bytes,
 *               per-source limits, pools (the rules are preauth.c's)
 *   registry.c  the workers and the live-session registry: spawning,
 *               the pipe lines (proto/monitor.h), K/L/R, exits
 *   recsup.c    bastion-recorder: paths, key, start, restart, wait
 *   reload.c    SIGHUP: a new policy adopted, or refused
 *
 * Only these files include it; the rest of bastiond knows listener_run()
 * (bastiond.h).
 */
#ifndef BASTION_LISTENER_H
#define BASTION_LISTENER_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "bclock.h"
#include "burst.h"
#include "monitor.h"
#include "preauth.h"

#define MON_TICK_MS		1000	/* grace kills; the store's safety net */
#define MON_SAFETY_S		5	/* kill / revoke / lock: pushed, and
					   looked at this often anyway */
#define MON_GRACE_S		20	/* after K/L/R, then SIGKILL */

struct state;
struct store_actor;

/* One connection's worker (its monitor process) and its pipe. */
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
	struct burst aud;		/* V lines: MON_AUDIT_BURST per window */
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
	struct netaddr peer;		/* the engineer's address: the
					   PROXY header's once it was read */
	char vendor[POLICY_MAX_NAME + 1];	/* "" outside vendor sources */
	int proxy;			/* from a proxy_protocol.from
					   balancer, its header not read yet */
	int via_set;			/* the header named peer, port: */
	uint16_t port;
	struct netaddr via;		/* the balancer it came through */
	struct preconn *next, **prevp;
};

struct listener {
	uv_loop_t *loop;
	struct store_actor *actor;	/* audit chain writer, decisions */
	time_t mon_checked;		/* the last look at kill/lock/revoke */
	const struct bclock *clock;
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
	struct preauth pa;		/* penalties of failing sources */
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

/* listener.c: STATUS= for systemctl status (connections, a note). */
void listener_status(struct listener *L);

/* accept.c: the listen sockets' connection callback. */
void accept_conn_cb(uv_stream_t *server, int status);
/* accept.c: close a connection still waiting here (at stop). */
void accept_close(struct preconn *p);

/*
 * registry.c: a worker for the client on fd (which stays the caller's
 * to close), counted in pool (of vendor, for POOL_VENDOR) until it
 * authenticates. proxied: NULL, or "ADDR,PORT,VIA" from a PROXY
 * protocol header (the worker's --proxied: the engineer's address and
 * port, and the balancer's). Nothing happens (logged) when it cannot be started.
 */
void registry_spawn(struct listener *L, int fd, const struct netaddr *a,
    enum pre_pool pool, const char *vendor, const char *proxied);
/* registry.c: the one-second timer: K/L/R from the store, grace kills. */
void registry_tick(uv_timer_t *t);
/* The store actor pushed a decision (arg: the listener): look at the live
 * sessions' kill requests, revoked grants and locks now. */
void registry_pushed(void *arg);
/* registry.c: at start, rows an earlier bastiond left open are ended.
 * 0 or BERR_*. */
int registry_recover(struct listener *L);

/* recsup.c: start bastion-recorder as our child (restarted when it
 * dies), and wait before serving until its socket answers. 0 or BERR_SYS
 * (logged). */
void recsup_start(struct listener *L);
int recsup_wait(struct listener *L);

/* health.c: the readiness port (store: health:) for a load balancer;
 * nothing without it. 0 or BERR_* (logged). health_stop closes it. */
int health_start(struct listener *L);
void health_stop(void);

/* checkpoint.c: the signed checkpoints of the audit chain (docs/AUDIT.md
 * section 10). checkpoint_start loads (or at the first start makes) the
 * node's audit key, publishes it and starts the interval timer: 0 or
 * BERR_* (logged; bastiond then does not start). checkpoint_write writes
 * one now (failures logged); checkpoint_stop closes the timer (for the
 * loop to end), checkpoint_free drops the key. */
int checkpoint_start(struct listener *L);
void checkpoint_write(struct listener *L, const char *reason);
void checkpoint_stop(void);
void checkpoint_free(void);

/* nodebeat.c: on a shared store, this node's heartbeat, and other nodes'
 * silent sessions shown lost (store/nodebeat.h); nothing on SQLite.
 * nodebeat_stop closes its timer. */
int nodebeat_start(struct listener *L);
void nodebeat_stop(void);

/* reload.c: the adopted policy's text as a sealed memfd for the workers
 * (-1, logged, on failure); SIGHUP's callback. */
int reload_policy_fd(const struct policy *pol);
void reload_sighup_cb(uv_signal_t *s, int sig);

#endif
