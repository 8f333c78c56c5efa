/*
 * worker.c - one vendor connection, as its confined child sees it.
 *
 * The listener re-executes bastiond as "bastiond --worker" with the client
 * socket on fd 3; that process becomes the connection's monitor and forks
 * this child, demoted and filtered before it reads a byte (privsep.c,
 * sandbox.c). The child then runs in three phases, asking the monitor for
 * everything privileged (privsep.h, monitor_wrap.c):
 *
 *  1. Blocking (under an alarm): key exchange, both factors (auth.c), the
 *     engineer's first request (shell, exec, subsystem or a port forward),
 *     choosing the device (from alice+DEVICE, the first word of the
 *     command, or a menu), approval and touch. Blocking is safe here
 *     because the child serves this one connection only. Admins and
 *     auditors: their verb, run by the monitor, whose output the child
 *     writes to the channel.
 *  2. The device connection (device.c): a non-blocking state machine on a
 *     libuv loop of its own, which also watches the engineer's side, over
 *     the TCP connection the monitor made.
 *  3. Non-blocking: relay.c moves bytes between the two SSH sessions on a
 *     libuv loop until the session ends.
 *
 * A crash or compromise here ends one vendor's session and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>

#include "bastiond.h"
#include "err.h"
#include "log.h"
#include "privsep.h"
#include "record.h"
#include "session.h"
#include "touch.h"
#include "verb.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define DEVICE_CONNECT_TIMEOUT	10

/* List the devices of the engineer's vendor, for messages and the menu. */
static void
worker_device_list(struct sess *S, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < S->pol->ndevices && o < len; i++) {
		const struct policy_device *d = &S->pol->devices[i];

		if (!sess_device_allowed(S, d))
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    o ? ", " : "", d->name);
	}
}

/* The device menu for "ssh -t alice@bastion". NULL if none was chosen. */
static const struct policy_device *
worker_menu(struct sess *S)
{
	const struct policy_device *list[64];
	char line[32], *end;
	size_t i, n = 0;
	long k;

	for (i = 0; i < S->pol->ndevices && n < 64; i++)
		if (sess_device_allowed(S, &S->pol->devices[i]))
			list[n++] = &S->pol->devices[i];
	if (n == 0) {
		sess_tell(S, "bastion: there are no devices for vendor %s.\n",
		    S->au.who->vendor->name);
		return (NULL);
	}
	for (;;) {
		sess_tell(S, "Devices you may reach (vendor %s):\n",
		    S->au.who->vendor->name);
		for (i = 0; i < n; i++)
			sess_tell(S, "  %2zu) %-20s %s\n", i + 1,
			    list[i]->name, list[i]->description ?
			    list[i]->description : "");
		sess_tell(S, "Choose a device (1-%zu, or q to quit): ", n);
		if (sess_read_line(S, line, sizeof(line)) != 0 ||
		    line[0] == 'q')
			return (NULL);
		k = strtol(line, &end, 10);
		if (*end == '\0' && k >= 1 && (size_t)k <= n)
			return (list[k - 1]);
		for (i = 0; i < n; i++)
			if (strcmp(line, list[i]->name) == 0)
				return (list[i]);
		sess_tell(S, "No such choice: %s\n", line);
	}
}

/* End the vendor channel with an exit status after a message. */
static void
worker_fail_channel(struct sess *S, int status)
{
	if (S->vch == NULL)
		return;
	ssh_channel_request_send_exit_status(S->vch, status);
	ssh_channel_send_eof(S->vch);
	ssh_channel_close(S->vch);
}

/*
 * After the channel is closed: give the client up to 3 s to close its side
 * and disconnect first, so that an exit status it got is its exit status
 * (OpenSSH exits 255 when the server drops the connection before it sent
 * its own disconnect). What it sends now is read and discarded.
 */
static void
worker_linger(struct sess *S)
{
	struct pollfd pfd;
	char buf[4096];
	int i;

	pfd.fd = ssh_get_fd(S->vs);
	pfd.events = POLLIN;
	for (i = 0; pfd.fd >= 0 && i < 30; i++) {
		if (poll(&pfd, 1, 100) > 0 && recv(pfd.fd, buf, sizeof(buf),
		    MSG_DONTWAIT) == 0)
			break;
	}
}

/*
 * Pick the device for a shell/exec/subsystem request. Returns 0 with S->dev
 * set (and S->command adjusted), or -1 after telling the engineer why.
 */
static int
worker_choose_device(struct sess *S)
{
	char list[1024], name[POLICY_MAX_NAME + 2];
	const struct policy_device *d = NULL;

	if (S->au.device[0] != '\0') {
		d = policy_device(S->pol, S->au.device);
		snprintf(name, sizeof(name), "%s", S->au.device);
	} else if (S->kind == SESS_EXEC) {
		const char *c = S->command, *sp;
		size_t n;

		while (*c == ' ')
			c++;
		sp = strchr(c, ' ');
		n = sp ? (size_t)(sp - c) : strlen(c);
		if (n > POLICY_MAX_NAME)
			n = POLICY_MAX_NAME + 1;
		snprintf(name, sizeof(name), "%.*s", (int)n, c);
		d = policy_device(S->pol, name);
		/* the rest is the command; none means an interactive shell */
		if (sess_command_rest(S, c + strlen(name)) != 0)
			return (-1);
	} else if (S->kind == SESS_SHELL && S->has_pty) {
		if ((d = worker_menu(S)) == NULL)
			return (-1);
		snprintf(name, sizeof(name), "%s", d->name);
	} else {
		worker_device_list(S, list, sizeof(list));
		sess_tell(S, "bastion: name a device: ssh %s@bastion DEVICE "
		    "[COMMAND], or ssh %s+DEVICE@bastion. Your devices: %s\n",
		    S->au.who->name, S->au.who->name, list);
		return (-1);
	}
	/* the monitor agrees (and audits a refusal) */
	if (mm_device_choose(name, 0) != 0 || !sess_device_allowed(S, d)) {
		worker_device_list(S, list, sizeof(list));
		sess_tell(S, "bastion: you may not reach \"%s\" (it is not "
		    "one of vendor %s's devices). Your devices: %s\n", name,
		    S->au.who->vendor->name, list);
		return (-1);
	}
	S->dev = d;
	return (0);
}

/*
 * Connect to the device and open the channel the request asks for: the
 * monitor makes the TCP connection and lends its credential as an agent;
 * device.c speaks SSH (non-blocking, on a loop of its own, bounded by
 * DEVICE_CONNECT_TIMEOUT, and given up as soon as the engineer leaves).
 * The monitor audits device.connect.
 */
static int
worker_open_device(struct sess *S)
{
	struct device_request req;
	struct timespec t0, t1;
	char why[512], addr[64];
	long spent;
	int r;

	netaddr_str(&S->dev->addr, addr, sizeof(addr));
	/* the session's request, recorded before the device is touched */
	r = 0;
	if (S->has_pty)
		r = rec_client_pty_req(S->rec, 0, S->term, (uint32_t)S->cols,
		    (uint32_t)S->rows);
	if (r == 0)
		r = S->kind == SESS_SHELL ? rec_client_shell(S->rec, 0) :
		    S->kind == SESS_EXEC ? rec_client_exec(S->rec, 0,
		    S->command, strlen(S->command)) :
		    rec_client_subsystem(S->rec, 0, S->command);
	if (sess_rec_check(S, r) != 0) {
		sess_tell(S, "bastion: the session cannot be recorded: %s\n",
		    rec_client_error(S->rec));
		return (-1);
	}
	memset(&req, 0, sizeof(req));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mm_device_connect(&req.fd, &req.agent_fd, why, sizeof(why)) != 0) {
		sess_tell(S, "bastion: %s\n", why);
		return (-1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	spent = (long)(t1.tv_sec - t0.tv_sec);
	req.kind = S->kind == SESS_SHELL ? DEVICE_SHELL : S->kind == SESS_EXEC ?
	    DEVICE_EXEC : S->kind == SESS_SUBSYSTEM ? DEVICE_SUBSYSTEM :
	    DEVICE_NONE;
	req.command = S->command;
	req.term = S->has_pty ? S->term : NULL;
	req.cols = S->cols;
	req.rows = S->rows;
	/* one deadline for the whole connection, the TCP part included */
	req.timeout_s = spent < DEVICE_CONNECT_TIMEOUT - 1 ?
	    (unsigned)(DEVICE_CONNECT_TIMEOUT - spent) : 1;
	req.vs = S->vs;
	req.vch = S->vch;
	if (device_connect(S->dev, &req, &S->dc, why, sizeof(why)) != 0) {
		mm_device_result(0, why);
		sess_tell(S, "bastion: %s\n", why);	/* if still there */
		return (-1);
	}
	S->dch = S->dc.ch;		/* the session's to free */
	S->dc.ch = NULL;
	mm_device_result(1, NULL);
	(void)addr;
	return (0);
}

/*
 * After authentication: collect the session channel's requests until the
 * engineer asks for something (shell, exec, subsystem) or opens a forward.
 * Returns 0 when the relay should start, -1 when the session is over.
 */
static int
worker_first_request(struct sess *S, ssh_message *fwd_msg)
{
	ssh_message m;

	*fwd_msg = NULL;
	while ((m = ssh_message_get(S->vs)) != NULL) {
		int type = ssh_message_type(m), sub = ssh_message_subtype(m);

		if (type == SSH_REQUEST_CHANNEL_OPEN &&
		    sub == SSH_CHANNEL_SESSION && S->vch == NULL) {
			S->vch = ssh_message_channel_request_open_reply_accept(m);
			ssh_message_free(m);
			if (S->vch == NULL)
				return (-1);
			touch_watch_channel(S);	/* sets S->agent_req */
			continue;
		}
		if (type == SSH_REQUEST_CHANNEL_OPEN &&
		    sub == SSH_CHANNEL_DIRECT_TCPIP) {
			S->kind = SESS_FORWARD;
			*fwd_msg = m;
			return (0);
		}
		if (type == SSH_REQUEST_GLOBAL &&
		    sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
			audit_ev(BEV_FORWARD_REFUSED, "session", S->sid,
			    "user", S->au.who->name, "from", S->peerstr,
			    "kind", "remote", "reason",
			    "remote forwarding is not allowed", NULL);
			sess_tell(S, "bastion: remote forwarding (-R) is not "
			    "allowed\n");
			ssh_message_reply_default(m);
			ssh_message_free(m);
			continue;
		}
		if (type != SSH_REQUEST_CHANNEL || S->vch == NULL ||
		    ssh_message_channel_request_channel(m) != S->vch) {
			ssh_message_reply_default(m);
			ssh_message_free(m);
			continue;
		}
		switch (sub) {
		case SSH_CHANNEL_REQUEST_PTY:
			S->has_pty = 1;
			snprintf(S->term, sizeof(S->term), "%s",
			    ssh_message_channel_request_pty_term(m) ?
			    ssh_message_channel_request_pty_term(m) : "vt100");
			S->cols = ssh_message_channel_request_pty_width(m);
			S->rows = ssh_message_channel_request_pty_height(m);
			ssh_message_channel_request_reply_success(m);
			break;
		case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
			S->cols = ssh_message_channel_request_pty_width(m);
			S->rows = ssh_message_channel_request_pty_height(m);
			ssh_message_channel_request_reply_success(m);
			break;
		case SSH_CHANNEL_REQUEST_ENV:
			/* not passed on: the device's environment is its own */
			ssh_message_channel_request_reply_success(m);
			break;
		case SSH_CHANNEL_REQUEST_X11:
			sess_tell(S, "bastion: X11 forwarding is not "
			    "allowed\n");
			ssh_message_reply_default(m);
			break;
		case SSH_CHANNEL_REQUEST_SHELL:
		case SSH_CHANNEL_REQUEST_EXEC:
		case SSH_CHANNEL_REQUEST_SUBSYSTEM: {
			const char *arg = sub == SSH_CHANNEL_REQUEST_EXEC ?
			    ssh_message_channel_request_command(m) :
			    sub == SSH_CHANNEL_REQUEST_SUBSYSTEM ?
			    ssh_message_channel_request_subsystem(m) : NULL;

			S->kind = sub == SSH_CHANNEL_REQUEST_SHELL ? SESS_SHELL :
			    sub == SSH_CHANNEL_REQUEST_EXEC ? SESS_EXEC :
			    SESS_SUBSYSTEM;
			if (arg != NULL && (S->command = strdup(arg)) == NULL) {
				ssh_message_free(m);
				return (-1);
			}
			if (S->kind == SESS_SUBSYSTEM &&
			    strcmp(S->command, "sftp") != 0) {
				sess_tell(S, "bastion: subsystem \"%s\" is not "
				    "allowed\n", S->command);
				ssh_message_reply_default(m);
				ssh_message_free(m);
				return (-1);
			}
			ssh_message_channel_request_reply_success(m);
			ssh_message_free(m);
			return (0);
		}
		default:
			/* anything unknown: not granted. (auth-agent-req never
			 * comes here: libssh hands it to the channel callback
			 * of touch_watch_channel, which records it and makes
			 * libssh answer success.) */
			ssh_message_reply_default(m);
			break;
		}
		ssh_message_free(m);
	}
	return (-1);
}

int
worker_setup_bind(const struct policy *pol, ssh_key *keys, size_t nkeys,
    ssh_bind *out)
{
	ssh_bind b;
	size_t i;
	int no = 0;

	(void)pol;
	*out = NULL;
	if ((b = ssh_bind_new()) == NULL)
		return (BERR_NOMEM);
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) < 0)
		goto fail;
	/* the host keys the monitor opened for us (privsep.c): libssh takes
	 * them over, and never reads a key file itself */
	for (i = 0; i < nkeys; i++) {
		if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY,
		    keys[i]) < 0)
			goto fail;
		keys[i] = NULL;
	}
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE,
	    BASTION_KEX) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    BASTION_CIPHERS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C,
	    BASTION_CIPHERS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S,
	    BASTION_MACS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C,
	    BASTION_MACS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER, "bastion") < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
	    "ssh-ed25519") < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
	    BASTION_USER_KEY_TYPES) < 0)
		goto fail;
	*out = b;
	return (0);
fail:
	log_error("ssh_bind setup: %s", ssh_get_error(b));
	ssh_bind_free(b);
	return (BERR_SSH);
}

/* An admin's or auditor's verb: run by the monitor, written here. */
static int
worker_console_out(void *arg, int is_stderr, const void *p, size_t n)
{
	return (sess_write(arg, is_stderr, p, n) < 0 ? -1 : 0);
}

static int
worker_console(struct sess *S)
{
	struct mm_console_io io = { worker_console_out, console_gave_up, S };

	return (mm_console_run(S->kind, S->has_pty, S->command, &io));
}

/* Is the engineer's command one of the engineers' verbs (declare), with
 * no device named in the login? Its first word decides. */
static int
worker_engineer_verb(const struct sess *S)
{
	char word[32];
	const char *c = S->command;
	size_t n;

	if (S->kind != SESS_EXEC || S->au.device[0] != '\0' || c == NULL)
		return (0);
	c += strspn(c, " ");
	n = strcspn(c, " ");
	if (n == 0 || n >= sizeof(word))
		return (0);
	snprintf(word, sizeof(word), "%.*s", (int)n, c);
	return (verb_find(word, VERB_ENGINEER) != NULL);
}

int
worker_child(struct sess *S, ssh_bind bind)
{
	const struct policy *pol = S->pol;
	ssh_message fwd_msg = NULL;
	int rc = WORKER_EXIT_ERROR, fd = WORKER_FD_CLIENT;

	{
		/* keystrokes must not wait behind Nagle's algorithm */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	}
	/* the login grace is the monitor's alarm (privsep.c) */
	if ((S->vs = ssh_new()) == NULL)
		goto out;
	if (ssh_bind_accept_fd(bind, S->vs, fd) != SSH_OK) {
		log_error("accept: %s", ssh_get_error(bind));
		goto out;
	}
	fd = -1;
	if (ssh_handle_key_exchange(S->vs) != SSH_OK) {
		log_info("session %s from %s: key exchange failed: %s", S->sid,
		    S->peerstr, ssh_get_error(S->vs));
		goto out;
	}
	if (auth_run(S->vs, pol, S->sid, &S->au) != 0) {
		rc = WORKER_EXIT_AUTHFAIL;
		goto out;
	}

	/* the first request must also come in reasonable time */
	alarm(pol->login_grace);
	if (worker_first_request(S, &fwd_msg) != 0)
		goto out;
	/* admins and auditors prove presence before any verb, as engineers
	 * do before a device (touch.c) */
	if (S->au.role != ROLE_ENGINEER && touch_check(S) != 0) {
		worker_fail_channel(S, 1);
		worker_linger(S);
		rc = WORKER_EXIT_OK;
		goto out;
	}
	if (S->au.role == ROLE_ADMIN || S->au.role == ROLE_AUDITOR) {
		/* the verb runs in the monitor (approval.c console_run,
		 * auditor.c auditor_run); this child carries its output */
		alarm(0);
		worker_fail_channel(S, worker_console(S));
		worker_linger(S);
		rc = WORKER_EXIT_OK;
		goto out;
	}
	if (S->au.role == ROLE_ENGINEER && worker_engineer_verb(S)) {
		/* "ssh gina@bastion declare ...": run by the monitor */
		alarm(0);
		worker_fail_channel(S, worker_console(S));
		worker_linger(S);
		rc = WORKER_EXIT_OK;
		goto out;
	}
	if (S->kind == SESS_FORWARD) {
		if (S->au.device[0] == '\0' || (S->dev = policy_device(pol,
		    S->au.device)) == NULL || !sess_device_allowed(S, S->dev))
			S->dev = NULL;
		if (mm_device_choose(S->dev != NULL ? S->dev->name : "", 1) !=
		    0 || approval_gate(S) != 0 || touch_check(S) != 0 ||
		    sess_rec_open(S) != 0) {
			rc = WORKER_EXIT_OK;
			goto out;
		}
	} else if (worker_choose_device(S) != 0 ||
	    relay_scp_gate(S) != 0 ||
	    approval_take_reason(S) != 0 || approval_gate(S) != 0 ||
	    touch_check(S) != 0 || sess_rec_open(S) != 0 ||
	    worker_open_device(S) != 0) {
		worker_fail_channel(S, 1);
		rc = WORKER_EXIT_OK;
		goto out;
	}
	alarm(0);
	if (S->kind != SESS_FORWARD && S->kind != SESS_SUBSYSTEM &&
	    S->has_pty) {
		char addr[64];

		sess_tell(S, "bastion: session %s: %s — %s (%s) — vendor %s, "
		    "engineer %s\n", S->sid, S->dev->name,
		    S->dev->description ? S->dev->description : "",
		    netaddr_str(&S->dev->addr, addr, sizeof(addr)),
		    S->au.who->vendor->name, S->au.who->name);
		relay_wr_greet(S);
	}
	/* the test hook (off unless bastiond's environment says so) */
	sandbox_selftest(S);
	rc = relay_run(S, fwd_msg);	/* answers and frees fwd_msg */
	fwd_msg = NULL;
out:
	alarm(0);
	if (fwd_msg != NULL)
		ssh_message_free(fwd_msg);
	if (fd != -1)
		close(fd);
	sess_rec_close(S);
	if (S->dch != NULL)
		ssh_channel_free(S->dch);
	device_disconnect(&S->dc);
	if (S->vs != NULL) {
		ssh_set_blocking(S->vs, 1);
		ssh_disconnect(S->vs);
		ssh_free(S->vs);
		S->vs = NULL;
	}
	free(S->command);
	S->command = NULL;
	return (rc);
}
