/*
 * session.h - state of the one vendor connection a worker serves.
 *
 * worker.c fills it during the blocking phase (key exchange, authentication,
 * the engineer's first request, connecting to the device); relay.c then
 * drives it on a libuv loop until the session ends.
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
};

/* relay.c: relay until the session ends; returns a WORKER_EXIT_* code.
 * first_fwd: a direct-tcpip open that started the connection (or NULL);
 * relay_run answers and frees it. */
int relay_run(struct sess *S, ssh_message first_fwd);

/* relay.c: handle a direct-tcpip channel open message (policy checks,
 * connect, accept or refuse). Used before and during the relay. */
void relay_forward_open(struct sess *S, ssh_message m);

/* Tell the engineer something on the session channel (stderr, or the
 * terminal with CRLF when a pty is in use). */
void sess_tell(struct sess *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* approval.c: take "--reason WORDS" off the front of an exec command
 * (after the device name); an empty rest makes it a shell. 0 or -1. */
int approval_take_reason(struct sess *S);
/* approval.c: before the device is touched: 0 when no approval is needed
 * (rule, window or live grant) or an admin approved while the engineer
 * waited; -1 after telling the engineer why not. */
int approval_gate(struct sess *S);
/* approval.c: the admin console: run the exec request as an approvals
 * verb; returns the exit status for the channel. */
int console_run(struct sess *S);

/* auditor.c: the auditor console (recordings, verify, replay); returns
 * the exit status for the auditor's ssh. */
int auditor_run(struct sess *S);

/* Is this device one the session's engineer may reach? */
int sess_device_allowed(const struct sess *S, const struct policy_device *d);
/* worker.c: read one line typed on the engineer's terminal (echoed,
 * printable ASCII, at most len - 1 bytes, 120 s); 0, or -1 on ^C, ^D or
 * end of input. */
int sess_read_line(struct sess *S, char *line, size_t len);

/* sandbox.c: find worker_user and build the seccomp allowlist, before
 * the recording opens (a session that cannot be isolated leaves no
 * recording); 0, or after logging the cause, telling the engineer and
 * auditing session.refused. */
int sandbox_prepare(struct sess *S);
/* sandbox.c: close spare descriptors, drop to worker_user, no_new_privs
 * and load the prepared allowlist, just before the relay; 0 or after
 * telling the engineer why the session cannot start. */
int sandbox_enter(struct sess *S);

#endif
