/*
 * session.h - state of the one vendor connection a worker serves.
 *
 * The child (privsep.h) fills it during the blocking phase (key
 * exchange, authentication, the engineer's first request, connecting to
 * the device; worker.c); relay.c then drives it on a libuv loop until the
 * session ends. The monitor keeps a copy of the facts it decided itself
 * (the login, the device, the grant) in one of its own, with no libssh
 * session in it.
 */
#ifndef BASTION_SESSION_H
#define BASTION_SESSION_H

#include <stdint.h>
#include <time.h>
#include <uv.h>
#include <libssh/callbacks.h>

#include "bastiond.h"
#include "device.h"
#include "rec_client.h"
#include "tell.h"

enum sess_kind { SESS_NONE, SESS_SHELL, SESS_EXEC, SESS_SUBSYSTEM,
	SESS_FORWARD };

struct relay;

/*
 * One connection, as the child (and, for the facts it decided, the
 * monitor) knows it. Three parts: the identity, the connection's SSH
 * state and requests, and the relay's own state (struct relay, relay.h,
 * which only the relay's files see).
 */
struct sess {
	/*
	 * The identity: who (au), from where (peer), to which device under
	 * which grant. Filled while the gate decides (worker.c, privsep.c,
	 * approval); from the relay on only read: the relay, the recorder
	 * and every audit event take their facts from here.
	 */
	struct {
		const struct policy *pol;
		char sid[32];
		struct netaddr peer;
		char peerstr[64];
		int peerport;
		char viastr[64];	/* the load balancer peer came
					   through (PROXY protocol), or "" */
		struct auth_result au;
		const struct policy_device *dev;
		int64_t grant_id;	/* the grant it runs under, or 0 */
	};

	ssh_session vs;			/* vendor side (server) */
	struct device_conn dc;		/* device side (client) */
	ssh_channel vch, dch;

	int has_pty;
	char term[64];
	int cols, rows;
	int agent_req;			/* the engineer forwards an agent */
	struct ssh_channel_callbacks_struct vch_cb; /* touch.c notices it */
	int touch_ok;			/* touch check passed (touch.c) */
	int touch_window;		/* ... by a transfer window: a transfer
					   only, no forwards (touch.c) */
	enum sess_kind kind;
	char *command;			/* exec command or subsystem name */
	char reason[256];		/* --reason for an approval, or "" */

	/* recording (record.c): fail closed */
	struct rec_client *rec;
	int rec_failed;

	/* the relay's own state (relay.h), from relay_run() on */
	struct relay *R;

	/* the monitor's copy of a console session (privsep.h): no channel
	 * here; what a verb writes goes to the child, which writes it to
	 * the channel, and the child says when the person gave up */
	int (*out_fn)(struct sess *S, int is_stderr, const void *p, size_t n);
	int (*cancel_fn)(struct sess *S, unsigned wait_ms);
	void *mon;
};

/* relay.c: relay until the session ends; returns a WORKER_EXIT_* code.
 * first_fwd: a direct-tcpip open that started the connection (or NULL);
 * relay_run answers and frees it. */
int relay_run(struct sess *S, ssh_message first_fwd);

/* relay_fwd.c: may S's engineer forward to host:port? NULL with *dp the
 * device, else the reason (need holds it when it is long). The child asks
 * it for its messages, the monitor again before it connects. */
const char *relay_forward_check(const struct sess *S, const char *host,
    int port, const struct policy_device **dp, char *need, size_t needlen);
/* relay_scp.c: legacy scp (scp -O: "scp -t|-f PATH") that the files:
 * policy refuses, or that cannot be parsed (docs/FILES.md "Legacy scp"):
 * -1 after telling the engineer (audited sftp.refused), else 0. */
int relay_scp_gate(struct sess *S);
/* relay_fwd.c (the monitor): a non-blocking TCP connection to a:port within
 * ms milliseconds; the descriptor, or -1 with why. */
int relay_connect(const struct netaddr *a, uint16_t port, unsigned ms,
    char *why, size_t len);
/* relay_fwd.c: the same without waiting: 0 connected (*fd), 1 under way
 * (*fd: wait for it to be writable, then relay_connect_finish), -1 with
 * why. */
int relay_connect_start(const struct netaddr *a, uint16_t port, int *fd,
    char *why, size_t len);
/* relay_fwd.c: how the connection under way on fd ended: 0, or -1 with
 * why. */
int relay_connect_finish(int fd, char *why, size_t len);

/* approval.c: take "--reason WORDS" off the front of an exec command
 * (after the device name); an empty rest makes it a shell. 0 or -1. */
int approval_take_reason(struct sess *S);
/* approval.c (the child): before the device is touched: 0 when no
 * approval is needed (rule, window or live grant) or an admin approved
 * while the engineer waited; -1 after telling the engineer why not. The
 * monitor decides (approval_mon_*). */
int approval_gate(struct sess *S);
/* approval.c (the monitor): MREQ_APPROVAL_CHECK, _REQUEST (files it and
 * adds its notifications under way to *jobs: approval_notify), _POLL
 * (the monitor's deadline) and _CANCEL (id 0: at the reason prompt,
 * nothing filed). Each fills *out; every decision is audited here. */
struct mm_approval;
struct notify_job;
void approval_mon_check(struct sess *S, struct mm_approval *out);
void approval_mon_request(struct sess *S, const char *reason,
    struct mm_approval *out, struct notify_job **jobs);
void approval_mon_poll(struct sess *S, int64_t id, time_t deadline,
    struct mm_approval *out);
void approval_mon_cancel(struct sess *S, int64_t id,
    struct mm_approval *out);
/* approval_notify.c (the monitor): word of request r: notify_command
 * and/or bastion-notify (approval.notify), demoted, started and not
 * waited for: the processes under way are added to *list for the
 * monitor to collect with notify_jobs_*; never fails the request. */
struct state_request;
struct pollfd;
void approval_notify(struct sess *S, const struct state_request *r,
    struct notify_job **list);
/* The same for a file export request e (monitor_export.c): the JSON is
 * file-requests --json's row with "kind": "file_export". */
struct state_export;
void approval_notify_export(struct sess *S, const struct state_export *e,
    struct notify_job **list);
/* Their stdouts into pfd (at most room), and *timeout (ms, -1: none)
 * lowered to the next deadline; returns how many slots were used. */
int notify_jobs_poll(struct notify_job *list, struct pollfd *pfd, int room,
    int *timeout);
/* After poll: read what came, reap what exited, kill what passed its
 * deadline (bastion-notify, 10 s; notify_command is only no longer
 * waited for after 3 s); each finished one is audited notify.sent /
 * notify.failed (logged for notify_command), unlinked and freed. */
void notify_jobs_ready(struct notify_job **list);
/* The session ends: bastion-notify still running is killed with its
 * process group, reaped and audited; notify_command is left to run.
 * *list is NULL after; NULL is a no-op. */
void notify_jobs_end(struct notify_job **list);
/* approval.c: the admin console: run the exec request as an approvals
 * verb; returns the exit status for the channel. Runs in the monitor,
 * writing through S->out_fn. */
int console_run(struct sess *S);
/* approval.c: has the person at the console given up (^C, ^D or q on a
 * terminal, a closed channel, a hang-up)? Waits up to wait_ms. In the
 * monitor (S->cancel_fn set) the child is asked. */
int console_gave_up(void *arg, unsigned wait_ms);

/* auditor.c: the auditor console (recordings, verify, replay); returns
 * the exit status for the auditor's ssh. */
int auditor_run(struct sess *S);
/* relay_wr.c: the greeting's line on the engineer's open file
 * declarations, if any (and the policy asks for work records). */
void relay_wr_greet(struct sess *S);

/*
 * sandbox.c: confine the child of a connection before it reads the first
 * byte (privsep.h): drop to the policy's worker_user (no supplementary
 * groups, all ids; "nobody" with a warning when it does not exist), die
 * with the monitor, no_new_privs, and the seccomp allowlist (which allows
 * no new socket and no signal to another process). 0, or BERR_* after
 * logging why (the child must then exit).
 */
int sandbox_child(const struct policy *pol);
/* sandbox.c: drop to worker_user and set no_new_privs, without a filter
 * (notify_command, forked by the monitor). 0 or BERR_*. */
int sandbox_drop_privileges(const struct policy *pol, int quiet);
/* The same as the user named prefer when it exists (bastion-notify),
 * else as worker_user. */
int sandbox_drop_privileges_as(const struct policy *pol, const char *prefer,
    int quiet);
/* The uid sandbox_child() demotes to, or (uid_t)-1 when it does not
 * demote (not root) or cannot (no such user). */
uid_t sandbox_child_uid(const struct policy *pol);
/* sandbox.c: test hook (BASTION_SANDBOX_SELFTEST=1 and the command
 * "bastion-sandbox-selftest"): make a forbidden system call. */
void sandbox_selftest(struct sess *S);

#endif
