/*
 * device.c - connect to a device as the bastion, with the pinned host key.
 *
 * The client never reads ~/.ssh/config or known_hosts: the policy alone
 * says where the device is and which key it must show. It runs in the
 * child of a connection (privsep.h), which can make no connection and
 * read no credential: the monitor connects to the device's address and
 * hands over the socket, and logs in with the credential on the child's
 * behalf, as an ssh-agent on a socketpair (credagent.c).
 *
 * The connection is a state machine in the manner of curl's
 * lib/vssh/libssh.c: libssh in non-blocking mode, one function per state
 * (dev_state_fn[]), every transition through dev_to() (traced at debug
 * level), and dev_run() calling the current state until libssh would block:
 *
 *   CONNECT ─► HOSTKEY ─► AUTH ─► CHANNEL ─► [PTY] ─► REQUEST ─► DONE
 *      │          │         │        │          │         │
 *      └──────────┴─────────┴────────┴──────────┴─────────┴──► FAILED
 *          (refused, unreachable, deadline, or the engineer left)
 *
 * It runs on a libuv loop of its own, made and closed inside
 * device_connect(): a uv_poll_t on the device's socket (which exists once
 * ssh_connect() has been called once), a uv_timer_t for the deadline of the
 * whole connection, and a uv_poll_t on the engineer's socket. libssh is only
 * ever called from those callbacks, never from inside a libssh callback.
 *
 * The engineer's side. Their session is still in its blocking phase; its
 * socket is watched for readability and hang-up, and what arrives is
 * processed without blocking by ssh_event_dopoll(ev, 0) on an ssh_event
 * holding that session alone. That takes nothing the relay needs: channel
 * data stays in the channel's buffer (bounded by the window the bastion
 * granted) and typed keys reach the device once the relay starts; an EOF is
 * a flag the relay passes on; channel and global requests (window-change, a
 * second channel, a forward) wait in the session's message queue, which
 * relay_drain_queued() answers first thing. libssh answers the client's
 * keepalive@openssh.com itself. So a hang-up, a disconnect message or the
 * session channel's close ends the attempt at once, while an EOF alone does
 * not (`ssh host cmd </dev/null` sends one straight away), and neither does
 * ^C (keys are not read here, so that none is lost).
 *
 * Nothing outlives the call: the handles are closed and the loop closed
 * before it returns. One process-wide leftover is libuv's own: the first
 * uv_loop_init() of a process makes its signal lock pipe, which the worker
 * never uses (no uv_signal_t, no uv_spawn) and which the sandbox's sweep of
 * unknown descriptors closes before the relay (sandbox.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "device.h"
#include "err.h"
#include "log.h"
#include "uvloop.h"

enum dev_state {
	DEV_CONNECT,		/* TCP, banners, key exchange */
	DEV_HOSTKEY,		/* the pinned key, then the credential */
	DEV_AUTH,		/* publickey with the credential */
	DEV_CHANNEL,		/* open a session channel */
	DEV_PTY,		/* pty-req, when the engineer has a terminal */
	DEV_REQUEST,		/* shell, exec or subsystem */
	DEV_DONE,
	DEV_FAILED
};

static const char *const dev_state_name[] = {
	"connect", "hostkey", "auth", "channel", "pty", "request", "done",
	"failed"
};

/* What the bastion is doing in each state, for messages ("while the
 * bastion was ... DEVICE"). */
static const char *const dev_state_doing[] = {
	"connecting to", "checking the host key of", "logging in to",
	"opening a session on", "requesting a terminal on",
	"starting the session on", "done with", "giving up on"
};

/* One connection attempt. The libuv handles live here, on
 * device_connect()'s stack, and are closed before it returns. */
struct dev_try {
	const struct policy_device *dev;
	const struct device_request *req;
	enum dev_state state;
	int r;				/* the BERR_* once FAILED */
	char *why;
	size_t whylen;
	char addr[64];
	unsigned timeout_s;

	ssh_session s;			/* the device */
	ssh_channel ch;
	ssh_key pinned;
	int fd, agent_fd;		/* ours; fd lent to libssh once
					   ssh_connect() was called */
	int fd_lent;

	uv_loop_t loop;
	int loop_on;
	uv_timer_t timer;
	uv_poll_t dpoll, vpoll;		/* device, engineer */
	int dpoll_on, vpoll_on;
	int dpoll_ev, vpoll_ev;		/* the events being watched */
	ssh_event vev;			/* the engineer's session alone */
	int vfd, vfl;			/* their socket and its flags before */
	int vhup;			/* their socket hung up */
};

static int dev_st_connect(struct dev_try *t);
static int dev_st_hostkey(struct dev_try *t);
static int dev_st_auth(struct dev_try *t);
static int dev_st_channel(struct dev_try *t);
static int dev_st_pty(struct dev_try *t);
static int dev_st_request(struct dev_try *t);

/*
 * The handler of each state: 0 when the state changed (a step forward or
 * FAILED), BERR_AGAIN when libssh waits for the device.
 */
static int (*const dev_state_fn[])(struct dev_try *) = {
	[DEV_CONNECT] = dev_st_connect,
	[DEV_HOSTKEY] = dev_st_hostkey,
	[DEV_AUTH] = dev_st_auth,
	[DEV_CHANNEL] = dev_st_channel,
	[DEV_PTY] = dev_st_pty,
	[DEV_REQUEST] = dev_st_request,
};

void
device_fingerprint(ssh_key key, char *out, size_t len)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(out, len, "?");
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != SSH_OK)
		return;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
	    hlen)) != NULL) {
		snprintf(out, len, "%s", fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
}

/* Parse "type base64 [comment]" into a key. */
static int
device_pinned_key(const char *line, ssh_key *out)
{
	char type[128], b64[8192];

	*out = NULL;
	if (sscanf(line, "%127s %8191s", type, b64) != 2)
		return (BERR_FORMAT);
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
	    out) != SSH_OK)
		return (BERR_FORMAT);
	return (0);
}

/* --- transitions ---------------------------------------------------------- */

static int
dev_over(const struct dev_try *t)
{
	return (t->state == DEV_DONE || t->state == DEV_FAILED);
}

static void
dev_to(struct dev_try *t, enum dev_state st)
{
	if (t->state != st)
		log_debug("device %s: %s -> %s", t->dev->name,
		    dev_state_name[t->state], dev_state_name[st]);
	t->state = st;
}

/* Fail with r and a sentence for the engineer; the first failure stays. */
static void
dev_fail(struct dev_try *t, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dev_fail(struct dev_try *t, int r, const char *fmt, ...)
{
	va_list ap;

	if (dev_over(t))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(t->why, t->whylen, fmt, ap);
	va_end(ap);
	t->r = r;
	log_debug("device %s: failed in state %s: %s", t->dev->name,
	    dev_state_name[t->state], t->why);
	dev_to(t, DEV_FAILED);
}

/* "10 seconds", "1 second" */
static const char *
dev_secs(unsigned s, char *out, size_t len)
{
	snprintf(out, len, "%u second%s", s, s == 1 ? "" : "s");
	return (out);
}

/* --- the states ----------------------------------------------------------- */

/* The device's socket exists (after the first ssh_connect): watch it. */
static int
dev_watch_device(struct dev_try *t)
{
	int fd = ssh_get_fd(t->s);

	if (fd < 0 || uv_poll_init(&t->loop, &t->dpoll, fd) != 0) {
		dev_fail(t, BERR_INTERNAL, "internal error setting up the "
		    "connection to %s; try again, and tell the hospital's "
		    "admin if it persists", t->dev->name);
		return (-1);
	}
	t->dpoll.data = t;
	t->dpoll_on = 1;
	return (0);
}

static int
dev_st_connect(struct dev_try *t)
{
	int rc;

	t->fd_lent = 1;
	rc = ssh_connect(t->s);

	if (rc != SSH_ERROR && !t->dpoll_on && dev_watch_device(t) != 0)
		return (0);
	if (rc == SSH_AGAIN)
		return (BERR_AGAIN);
	if (rc != SSH_OK) {
		dev_fail(t, BERR_CONNECT, "cannot reach %s at %s port %d: %s",
		    t->dev->name, t->addr, (int)t->dev->port,
		    ssh_get_error(t->s));
		return (0);
	}
	dev_to(t, DEV_HOSTKEY);
	return (0);
}

static int
dev_st_hostkey(struct dev_try *t)
{
	ssh_key shown = NULL;
	char fp_pinned[128], fp_shown[128];

	if (ssh_get_server_publickey(t->s, &shown) != SSH_OK) {
		dev_fail(t, BERR_HOSTKEY, "%s did not show a host key",
		    t->dev->name);
		return (0);
	}
	if (ssh_key_cmp(shown, t->pinned, SSH_KEY_CMP_PUBLIC) != 0) {
		device_fingerprint(t->pinned, fp_pinned, sizeof(fp_pinned));
		device_fingerprint(shown, fp_shown, sizeof(fp_shown));
		dev_fail(t, BERR_HOSTKEY, "the host key of %s (%s) does not "
		    "match the key pinned in the policy: expected %s, got %s. "
		    "The connection was refused; tell the hospital's admin",
		    t->dev->name, t->addr, fp_pinned, fp_shown);
		log_warn("device %s host key mismatch: pinned %s shown %s",
		    t->dev->name, fp_pinned, fp_shown);
		ssh_key_free(shown);
		return (0);
	}
	ssh_key_free(shown);
	dev_to(t, DEV_AUTH);
	return (0);
}

/* Let go of the credential's agent: libssh forgets it, we close it. */
static void
dev_drop_agent(struct dev_try *t)
{
	if (t->agent_fd == -1)
		return;
	if (t->s != NULL)
		(void)ssh_set_agent_socket(t->s, SSH_INVALID_SOCKET);
	close(t->agent_fd);
	t->agent_fd = -1;
}

static int
dev_st_auth(struct dev_try *t)
{
	/* the monitor's agent signs; the credential never comes here */
	int rc = ssh_userauth_agent(t->s, NULL);

	if (rc == SSH_AUTH_AGAIN)
		return (BERR_AGAIN);
	if (rc == SSH_AUTH_ERROR && !ssh_is_connected(t->s)) {
		dev_fail(t, BERR_CONNECT, "%s (%s) closed the connection "
		    "while the bastion was logging in: %s. Try again later; "
		    "if it persists, tell the hospital's admin", t->dev->name,
		    t->addr, ssh_get_error(t->s));
		return (0);
	}
	if (rc != SSH_AUTH_SUCCESS) {
		dev_fail(t, BERR_AUTH, "%s refused the bastion's credential "
		    "for login %s; tell the hospital's admin", t->dev->name,
		    t->dev->login);
		return (0);
	}
	dev_drop_agent(t);		/* not needed any more */
	dev_to(t, DEV_CHANNEL);
	return (0);
}

/* The device accepted the bastion but not the session (or a request). */
static void
dev_refused(struct dev_try *t)
{
	dev_fail(t, BERR_SSH, "%s accepted the bastion but refused to open "
	    "the session: %s", t->dev->name, ssh_get_error(t->s));
}

/* How a step of the session channel went (rc of libssh's call): wait for
 * the device, refused, or on to next. */
static int
dev_channel_step(struct dev_try *t, int rc, enum dev_state next)
{
	if (rc == SSH_AGAIN)
		return (BERR_AGAIN);
	if (rc != SSH_OK)
		dev_refused(t);
	else
		dev_to(t, next);
	return (0);
}

static int
dev_st_channel(struct dev_try *t)
{
	if (t->ch == NULL && (t->ch = ssh_channel_new(t->s)) == NULL) {
		dev_refused(t);
		return (0);
	}
	return (dev_channel_step(t, ssh_channel_open_session(t->ch),
	    t->req->term != NULL ? DEV_PTY : DEV_REQUEST));
}

static int
dev_st_pty(struct dev_try *t)
{
	return (dev_channel_step(t, ssh_channel_request_pty_size(t->ch,
	    t->req->term, t->req->cols, t->req->rows), DEV_REQUEST));
}

static int
dev_st_request(struct dev_try *t)
{
	int rc;

	switch (t->req->kind) {
	case DEVICE_SHELL:
		rc = ssh_channel_request_shell(t->ch);
		break;
	case DEVICE_EXEC:
		rc = ssh_channel_request_exec(t->ch, t->req->command);
		break;
	case DEVICE_SUBSYSTEM:
		rc = ssh_channel_request_subsystem(t->ch, t->req->command);
		break;
	default:
		rc = SSH_ERROR;		/* checked by device_connect() */
	}
	return (dev_channel_step(t, rc, DEV_DONE));
}

/* --- the loop ------------------------------------------------------------- */

static void dev_device_cb(uv_poll_t *h, int status, int events);
static void dev_vendor_cb(uv_poll_t *h, int status, int events);

/* Stop watching; device_connect() closes the handles after uv_run(). */
static void
dev_stop(struct dev_try *t)
{
	uvloop_stop(&t->loop);
}

/* Watch h for base, and for writability while libssh has output queued. */
static int
dev_watch(uv_poll_t *h, ssh_session s, int base, int *cur, uv_poll_cb cb)
{
	int ev = base;

	if (ssh_get_poll_flags(s) & SSH_WRITE_PENDING)
		ev |= UV_WRITABLE;
	if (ev == *cur)
		return (0);
	*cur = ev;
	return (uv_poll_start(h, ev, cb));
}

static void
dev_update_poll(struct dev_try *t)
{
	if (dev_over(t))
		return;
	if ((t->dpoll_on && dev_watch(&t->dpoll, t->s, UV_READABLE,
	    &t->dpoll_ev, dev_device_cb) != 0) ||
	    (t->vpoll_on && dev_watch(&t->vpoll, t->req->vs, UV_READABLE |
	    UV_DISCONNECT, &t->vpoll_ev, dev_vendor_cb) != 0)) {
		dev_fail(t, BERR_INTERNAL, "internal error while connecting "
		    "to %s; try again, and tell the hospital's admin if it "
		    "persists", t->dev->name);
		dev_stop(t);
	}
}

/* Run the machine until libssh would block, it is done, or it failed. */
static void
dev_run(struct dev_try *t)
{
	int r = 0;

	while (r == 0 && !dev_over(t))
		r = dev_state_fn[t->state](t);
	if (dev_over(t))
		dev_stop(t);
	else
		dev_update_poll(t);
}

/*
 * Process what the engineer's side sent, without blocking, and end the
 * attempt if they are gone (see the top of the file for why this is safe).
 */
static void
dev_check_vendor(struct dev_try *t)
{
	const struct device_request *q = t->req;
	char doing[160];

	if (q->vs == NULL || dev_over(t))
		return;
	if (t->vev != NULL && !t->vhup)
		(void)ssh_event_dopoll(t->vev, 0); /* checked below */
	snprintf(doing, sizeof(doing), "%s %s", dev_state_doing[t->state],
	    t->dev->name);
	if (t->vhup || !ssh_is_connected(q->vs) ||
	    (ssh_get_status(q->vs) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0) {
		dev_fail(t, BERR_CLOSED, "the engineer disconnected while the "
		    "bastion was %s", doing);
	} else if (q->vch != NULL && ssh_channel_is_closed(q->vch)) {
		dev_fail(t, BERR_CLOSED, "the engineer closed the session "
		    "while the bastion was %s", doing);
	}
	if (dev_over(t))
		dev_stop(t);
	else
		dev_update_poll(t);
}

static void
dev_device_cb(uv_poll_t *h, int status, int events)
{
	struct dev_try *t = h->data;

	(void)events;
	if (dev_over(t))
		return;
	if (status < 0)
		t->dpoll_ev = 0;	/* libuv stopped the handle (POLLERR) */
	/* libssh polls the socket itself and learns what went wrong */
	dev_run(t);
	if (status < 0 && !dev_over(t)) {
		dev_fail(t, BERR_CONNECT, "the connection to %s at %s port %d "
		    "failed: %s. Try again later; if it persists, tell the "
		    "hospital's admin", t->dev->name, t->addr,
		    (int)t->dev->port, uv_strerror(status));
		dev_stop(t);
	}
}

static void
dev_vendor_cb(uv_poll_t *h, int status, int events)
{
	struct dev_try *t = h->data;

	if (status < 0 || (events & UV_DISCONNECT) != 0)
		t->vhup = 1;
	dev_check_vendor(t);
}

/* Did the device at least accept the TCP connection? */
static int
dev_tcp_connected(struct dev_try *t)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = ssh_get_fd(t->s);

	return (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0);
}

static void
dev_timer_cb(uv_timer_t *h)
{
	struct dev_try *t = h->data;
	char secs[32];

	if (dev_over(t))
		return;
	dev_secs(t->timeout_s, secs, sizeof(secs));
	if (t->state == DEV_CONNECT && dev_tcp_connected(t))
		dev_fail(t, BERR_TIMEOUT, "cannot reach %s at %s port %d: it "
		    "accepted the connection but did not complete the SSH "
		    "handshake within %s. Try again later; if it persists, "
		    "tell the hospital's admin", t->dev->name, t->addr,
		    (int)t->dev->port, secs);
	else if (t->state == DEV_CONNECT)
		dev_fail(t, BERR_TIMEOUT, "cannot reach %s at %s port %d: no "
		    "answer within %s. Try again later; if it persists, tell "
		    "the hospital's admin", t->dev->name, t->addr,
		    (int)t->dev->port, secs);
	else
		dev_fail(t, BERR_TIMEOUT, "%s (%s) stopped answering while "
		    "the bastion was %s it: no answer within %s. Try again "
		    "later; if it persists, tell the hospital's admin",
		    t->dev->name, t->addr, dev_state_doing[t->state], secs);
	dev_stop(t);
}

/* --- setting up and tearing down ------------------------------------------ */

/*
 * The device leg's ciphers, in the bastion's order of preference (it is
 * the client there, so its first choice the device supports wins): with
 * the CPU's AES and carry-less multiply instructions AES-GCM costs the
 * bastion less CPU per byte than libssh's chacha20-poly1305, which sets
 * up a Poly1305 key per packet (docs/PERFORMANCE.md); without them
 * chacha20-poly1305 stays first. Either way every cipher of libssh's own
 * default list stays, so no device that worked stops working.
 */
static const char *
dev_ciphers(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul"))
		return ("aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
		    "chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,"
		    "aes128-ctr");
#endif
	return ("chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
	    "aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr");
}

/* A new non-blocking session for the device: 0, or -1 after dev_fail(). */
static int
dev_session(struct dev_try *t)
{
	long timeout = (long)t->timeout_s;
	int port = t->dev->port, no = 0, yes = 1;
	const char *hk_type;

	if (device_pinned_key(t->dev->host_key, &t->pinned) != 0) {
		dev_fail(t, BERR_HOSTKEY, "the pinned host key of %s is "
		    "invalid", t->dev->name);
		return (-1);
	}
	hk_type = ssh_key_type_to_char(ssh_key_type(t->pinned));
	if ((t->s = ssh_new()) == NULL) {
		dev_fail(t, BERR_NOMEM, "out of memory connecting to %s; try "
		    "again later", t->dev->name);
		return (-1);
	}
	/* SSH_OPTIONS_TIMEOUT only bounds blocking calls made later (none
	 * here: the deadline is the loop's timer); NODELAY as for the
	 * engineer's socket: keystrokes must not wait behind Nagle */
	if (ssh_options_set(t->s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_HOST, t->addr) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_USER, t->dev->login) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_TIMEOUT, &timeout) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_NODELAY, &yes) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	    "/dev/null") != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_HOSTKEYS, hk_type) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_CIPHERS_C_S, dev_ciphers()) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_CIPHERS_S_C, dev_ciphers()) != 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_FD, &t->fd) != 0 ||
	    ssh_set_agent_socket(t->s, t->agent_fd) != SSH_OK) {
		dev_fail(t, BERR_SSH, "internal error setting up the "
		    "connection to %s", t->dev->name);
		return (-1);
	}
	ssh_set_blocking(t->s, 0);
	return (0);
}

/* The loop, its deadline and the watch on the engineer's side: 0, or -1
 * after dev_fail(). */
static int
dev_loop(struct dev_try *t)
{
	const struct device_request *q = t->req;
	const char *what;
	int rc;

	what = "uv_loop_init";
	if ((rc = uv_loop_init(&t->loop)) != 0)
		goto fail;
	t->loop_on = 1;
	what = "uv_timer_start";
	if ((rc = uv_timer_init(&t->loop, &t->timer)) != 0)
		goto fail;
	t->timer.data = t;
	if ((rc = uv_timer_start(&t->timer, dev_timer_cb,
	    (uint64_t)t->timeout_s * 1000, 0)) != 0)
		goto fail;
	if (q->vs == NULL)
		return (0);
	if ((t->vfd = ssh_get_fd(q->vs)) < 0) {
		t->vhup = 1;		/* dev_check_vendor() says so */
		return (0);
	}
	what = "ssh_event_add_session";
	rc = UV_ENOMEM;
	if ((t->vev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(t->vev, q->vs) != SSH_OK)
		goto fail;
	/* uv_poll_init() makes the socket non-blocking: put back after */
	what = "fcntl";
	if ((t->vfl = fcntl(t->vfd, F_GETFL)) == -1) {
		rc = -errno;
		goto fail;
	}
	what = "uv_poll_init";
	if ((rc = uv_poll_init(&t->loop, &t->vpoll, t->vfd)) != 0)
		goto fail;
	t->vpoll.data = t;
	t->vpoll_on = 1;
	return (0);
fail:
	log_error("device %s: cannot set up the event loop: %s: %s",
	    t->dev->name, what, uv_strerror(rc));
	dev_fail(t, BERR_INTERNAL, "internal error setting up the connection "
	    "to %s; try again, and tell the hospital's admin if it persists",
	    t->dev->name);
	return (-1);
}

/* Close every handle and the loop; leave the engineer's session as it
 * was (its socket flags, outside any ssh_event). */
static void
dev_unloop(struct dev_try *t)
{
	const struct device_request *q = t->req;

	if (t->loop_on) {
		if (uvloop_close(&t->loop) != 0)
			log_error("device %s: event loop still busy at the end "
			    "of the connection", t->dev->name);
		t->loop_on = t->dpoll_on = 0;
	}
	if (t->vpoll_on) {
		/* only if libssh still holds that socket (it closes it when
		 * the engineer disconnects; the number may be reused) */
		if (ssh_get_fd(q->vs) == t->vfd)
			(void)fcntl(t->vfd, F_SETFL, t->vfl);
		t->vpoll_on = 0;
	}
	if (t->vev != NULL) {
		(void)ssh_event_remove_session(t->vev, q->vs);
		ssh_event_free(t->vev);
		t->vev = NULL;
	}
}

int
device_connect(const struct policy_device *dev,
    const struct device_request *req, struct device_conn *dc, char *why,
    size_t whylen)
{
	struct dev_try t;

	memset(dc, 0, sizeof(*dc));
	dc->fd = -1;
	memset(&t, 0, sizeof(t));
	t.dev = dev;
	t.req = req;
	t.state = DEV_CONNECT;
	t.why = why;
	t.whylen = whylen;
	t.vfd = -1;
	t.fd = req->fd;
	t.agent_fd = req->agent_fd;
	t.timeout_s = req->timeout_s != 0 ? req->timeout_s :
	    DEVICE_TIMEOUT_DEFAULT;
	netaddr_str(&dev->addr, t.addr, sizeof(t.addr));
	if (req->kind != DEVICE_SHELL && req->kind != DEVICE_EXEC &&
	    req->kind != DEVICE_SUBSYSTEM) {
		dev_fail(&t, BERR_INTERNAL, "internal error: no request to "
		    "make of %s", dev->name);
		close(t.fd);
		dev_drop_agent(&t);
		return (t.r);
	}
	if (dev_session(&t) == 0 && dev_loop(&t) == 0) {
		/* an engineer who already left gets no device */
		dev_check_vendor(&t);
		if (!dev_over(&t))
			dev_run(&t);
		if (!dev_over(&t))
			(void)uv_run(&t.loop, UV_RUN_DEFAULT);
		if (!dev_over(&t))	/* nothing left to wait for */
			dev_fail(&t, BERR_INTERNAL, "internal error while "
			    "connecting to %s; try again, and tell the "
			    "hospital's admin if it persists", dev->name);
	}
	dev_unloop(&t);
	dev_drop_agent(&t);
	ssh_key_free(t.pinned);
	if (t.state == DEV_DONE) {
		dc->s = t.s;
		dc->ch = t.ch;
		dc->dev = dev;
		dc->fd = t.fd;
		dc->fd_lent = t.fd_lent;
		return (0);
	}
	dc->s = t.s;
	dc->ch = t.ch;
	dc->fd = t.fd;
	dc->fd_lent = t.fd_lent;
	device_disconnect(dc);
	return (t.r != 0 ? t.r : BERR_INTERNAL);
}

void
device_disconnect(struct device_conn *dc)
{
	int ours;

	if (dc->ch != NULL)
		ssh_channel_free(dc->ch);
	/* libssh does not close a socket it was given (SSH_OPTIONS_FD) when
	 * it disconnects, but does close it on a socket error: close it
	 * here only if it still holds it */
	ours = dc->fd != -1 && (dc->s == NULL || !dc->fd_lent ||
	    ssh_get_fd(dc->s) == dc->fd);
	if (dc->s != NULL) {
		ssh_disconnect(dc->s);
		ssh_free(dc->s);
	}
	if (ours)
		close(dc->fd);
	dc->ch = NULL;
	dc->s = NULL;
	dc->fd = -1;
	dc->fd_lent = 0;
}
