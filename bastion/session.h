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

enum sess_kind { SESS_NONE, SESS_SHELL, SESS_EXEC, SESS_SUBSYSTEM,
	SESS_FORWARD };

/* One direct-tcpip forward: an SSH channel to the vendor, a TCP socket to
 * the device. */
struct fwd {
	struct sess *S;
	ssh_channel ch;
	int fd;
	uv_poll_t poll;
	int poll_events;
	uint8_t pend[32768];	/* channel -> socket bytes not yet written */
	size_t npend, opend;
	uint8_t spend[32768];	/* socket -> channel bytes not yet taken */
	size_t sn, soff;
	int ch_eof_seen, sock_eof_seen, closing;
	uint64_t bytes_in, bytes_out;
	uint32_t rec_chan;
	char dest[96];
	struct fwd *next;
};

/* Bytes read from one channel not yet accepted by the other. */
struct pend {
	uint8_t d[32768];
	size_t n, off;
};

struct sess {
	const struct policy *pol;
	char sid[32];
	struct netaddr peer;
	char peerstr[64];
	int peerport;
	ssh_session vs;			/* vendor side (server) */
	struct auth_result au;
	const struct policy_device *dev;
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
	int64_t grant_id;		/* the grant it runs under, or 0 */

	/* relay */
	uv_loop_t *loop;
	ssh_event ev;
	uv_poll_t vpoll, dpoll;
	int vpoll_on, dpoll_on, vpoll_ev, dpoll_ev;
	uv_timer_t timer;
	int timer_on;
	struct pend to_dev, to_vendor, to_vendor_err;
	int vch_eof_fwd, dch_eof_fwd;
	int got_exit_status, exit_status;
	char exit_signal[32];
	int got_exit_signal, exit_core;
	time_t start, last_activity, last_keepalive;
	int warned_idle, warned_max;
	uint64_t bytes_in, bytes_out;	/* engineer->device, device->engineer */
	struct fwd *fwds;
	int nfwds;
	struct rec_client *rec;		/* fail closed: see record.c */
	int rec_failed;
	uv_poll_t recpoll;
	int recpoll_on;
	uint32_t next_chan;		/* recording channel ids of forwards */
	int done;			/* ending: see relay_step() */
	int stopped;			/* the loop was told to stop */
	time_t finishing;		/* we closed the engineer's channel */
	char end_reason[128];

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

/* relay.c: handle a direct-tcpip channel open message (policy checks,
 * the monitor's connection, accept or refuse). Used before and during the
 * relay. */
void relay_forward_open(struct sess *S, ssh_message m);
/* relay.c: may S's engineer forward to host:port? NULL with *dp the
 * device, else the reason (need holds it when it is long). The child asks
 * it for its messages, the monitor again before it connects. */
const char *relay_forward_check(const struct sess *S, const char *host,
    int port, const struct policy_device **dp, char *need, size_t needlen);
/* relay.c (the monitor): a non-blocking TCP connection to a:port within
 * ms milliseconds; the descriptor, or -1 with why. */
int relay_connect(const struct netaddr *a, uint16_t port, unsigned ms,
    char *why, size_t len);

/* Tell the engineer something on the session channel (stderr, or the
 * terminal with CRLF when a pty is in use); in the monitor, through
 * S->out_fn. */
void sess_tell(struct sess *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write bytes to the session channel's stdout or stderr (in the monitor:
 * through S->out_fn). n, or -1. */
int sess_write(struct sess *S, int is_stderr, const void *p, size_t n);
/* Can sess_write() still write? */
int sess_writable(const struct sess *S);

/* approval.c: take "--reason WORDS" off the front of an exec command
 * (after the device name); an empty rest makes it a shell. 0 or -1. */
int approval_take_reason(struct sess *S);
/* approval.c (the child): before the device is touched: 0 when no
 * approval is needed (rule, window or live grant) or an admin approved
 * while the engineer waited; -1 after telling the engineer why not. The
 * monitor decides (approval_mon_*). */
int approval_gate(struct sess *S);
/* approval.c (the monitor): MREQ_APPROVAL_CHECK, _REQUEST (files it and
 * runs notify_command unprivileged), _POLL (the monitor's deadline) and
 * _CANCEL (id 0: at the reason prompt, nothing filed). Each fills *out;
 * every decision is audited here. */
struct mm_approval;
void approval_mon_check(struct sess *S, struct mm_approval *out);
void approval_mon_request(struct sess *S, const char *reason,
    struct mm_approval *out);
void approval_mon_poll(struct sess *S, int64_t id, time_t deadline,
    struct mm_approval *out);
void approval_mon_cancel(struct sess *S, int64_t id,
    struct mm_approval *out);
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

/* Is this device one the session's engineer may reach? */
int sess_device_allowed(const struct sess *S, const struct policy_device *d);
/* worker.c: read one line typed on the engineer's terminal (echoed,
 * printable ASCII, at most len - 1 bytes, 120 s); 0, or -1 on ^C, ^D or
 * end of input. */
int sess_read_line(struct sess *S, char *line, size_t len);

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
/* The uid sandbox_child() demotes to, or (uid_t)-1 when it does not
 * demote (not root) or cannot (no such user). */
uid_t sandbox_child_uid(const struct policy *pol);
/* sandbox.c: test hook (BASTION_SANDBOX_SELFTEST=1 and the command
 * "bastion-sandbox-selftest"): make a forbidden system call. */
void sandbox_selftest(struct sess *S);

#endif
