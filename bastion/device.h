/*
 * device.h - the bastion's SSH client connection to a hospital device.
 *
 * The bastion authenticates with its own credential for the device (the
 * vendor never sees it, and the child that runs this client never reads
 * it: the monitor answers as an agent, credagent.c) and accepts the device
 * only if its host key equals the key pinned in the policy. The monitor
 * also makes the TCP connection, to the address in the policy. The whole connection, from the TCP connect
 * to the channel request, is one non-blocking state machine on a libuv
 * loop of its own (device.c), which also watches the engineer's side so
 * that an engineer who leaves while the device is slow ends the attempt.
 */
#ifndef BASTION_DEVICE_H
#define BASTION_DEVICE_H

#include <libssh/libssh.h>

#include "policy.h"

/* The default bound on a whole device connection, in seconds. */
#define DEVICE_TIMEOUT_DEFAULT	10

/* What the engineer asked for on their session channel. */
enum device_kind {
	DEVICE_NONE,			/* invalid */
	DEVICE_SHELL,
	DEVICE_EXEC,
	DEVICE_SUBSYSTEM
};

struct device_request {
	enum device_kind kind;
	const char *command;		/* exec command or subsystem name */
	const char *term;		/* a terminal of this type, or NULL */
	int cols, rows;			/* its size (when term is set) */
	unsigned timeout_s;		/* the whole connection; 0: default */
	/*
	 * The engineer's side, watched while the device is reached (both may
	 * be NULL: nothing watched). Its packets are processed as they come
	 * (keepalives answered; channel data and requests kept for the relay)
	 * and the attempt ends when the engineer disconnects or closes vch.
	 */
	ssh_session vs;
	ssh_channel vch;
	/*
	 * What the monitor made for this connection (privsep.h): the TCP
	 * connection to the device, already connected, and the agent that
	 * holds the device's credential (credagent.c). device_connect()
	 * owns both from the call on.
	 */
	int fd;
	int agent_fd;
};

struct device_conn {
	ssh_session s;			/* non-blocking, as the relay uses it */
	ssh_channel ch;			/* the session channel, requested */
	const struct policy_device *dev;
	int fd;				/* the TCP connection under s */
	int fd_lent;			/* ... which libssh may have closed */
};

/*
 * Over req->fd, speak SSH to dev, verify its pinned host key,
 * authenticate with the bastion's credential through req->agent_fd, open
 * a session channel and make req's requests
 * (pty-req when req->term is set, then shell, exec or subsystem), all within
 * req->timeout_s seconds. Runs its own libuv loop and returns when done;
 * every handle, descriptor and libssh event it made is gone by then, and the
 * descriptor flags of the engineer's socket are as they were.
 *
 * On success returns 0 and fills *dc: the caller owns dc->s and dc->ch (it
 * may take dc->ch and set it to NULL) and ends them with
 * device_disconnect(). On failure returns BERR_CONNECT (unreachable),
 * BERR_TIMEOUT, BERR_HOSTKEY, BERR_AUTH, BERR_SSH (the device refused the
 * channel or a request), BERR_CLOSED (the engineer left first), BERR_NOMEM
 * or BERR_INTERNAL, leaves *dc empty, and writes one sentence for the
 * engineer and the audit log into why (what went wrong, what to do).
 */
int device_connect(const struct policy_device *dev,
    const struct device_request *req, struct device_conn *dc, char *why,
    size_t whylen);

/* Close and free dc's channel, session and connection; an empty dc is a
 * no-op. */
void device_disconnect(struct device_conn *dc);

/* "SHA256:..." fingerprint of key into out ("?" on failure). */
void device_fingerprint(ssh_key key, char *out, size_t len);

#endif
