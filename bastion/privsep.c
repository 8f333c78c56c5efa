/*
 * privsep.c - one connection, two processes (privsep.h): the monitor,
 * which the listener started as "bastiond --worker SID", and the child it
 * forks before a byte of the connection is read.
 *
 *   worker_main (root)
 *     policy, peer address (getpeername: no byte read; behind a load
 *     balancer the listener's --proxied, from the PROXY header it took),
 *     host key files
 *     opened, the request socketpair and the notify pipe
 *     fork ─┬─ child: its descriptors arranged, host keys read from the
 *           │  descriptors and closed, every other descriptor closed,
 *           │  worker_user + PDEATHSIG + no_new_privs + seccomp
 *           │  (sandbox_child), then worker_child(): ssh_bind_accept_fd,
 *           │  key exchange, ... the relay
 *           └─ monitor: closes the vendor's socket (it never reads it),
 *              arms the login grace, answers the child (mon_loop), reaps
 *              it and exits with a code the listener understands
 *
 * The login grace is the monitor's alarm: the child cannot stop it. When
 * it fires, the monitor dies of SIGALRM as a lone worker did (the listener
 * counts it for the source's penalty) and the child with it (PDEATHSIG).
 * The monitor's exit code says whether a login failed (its own count, not
 * the child's word) and whether the child broke its filter.
 *
 * The host key stays the weak spot libssh 0.10 leaves: its server signs
 * the key exchange itself, so the private host key must be in the child's
 * memory (read before the demotion, from descriptors the monitor opened;
 * the files are not readable afterwards). A compromised child can read
 * its own copy; docs/ARCHITECTURE.md says what that allows.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "auditlog.h"
#include "bastiond.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor_req.h"
#include "privsep.h"
#include "rec_client.h"
#include "recproto.h"
#include "state.h"
#include "touch.h"

#define PRIVSEP_MAX_HOSTKEYS	8
#define PRIVSEP_HOSTKEY_MAX	(64 * 1024)

/* ---- the child ----------------------------------------------------------- */

/* Read a host key from fd (then closed) into *out; 0 or BERR_*. */
static int
privsep_read_hostkey(int fd, ssh_key *out)
{
	char *b;
	size_t n = 0;
	ssize_t k;
	int r = BERR_FORMAT;

	*out = NULL;
	if ((b = malloc(PRIVSEP_HOSTKEY_MAX + 1)) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	while (n < PRIVSEP_HOSTKEY_MAX && (k = read(fd, b + n,
	    PRIVSEP_HOSTKEY_MAX - n)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	b[n] = '\0';
	if (n > 0 && n < PRIVSEP_HOSTKEY_MAX &&
	    ssh_pki_import_privkey_base64(b, NULL, NULL, NULL, out) == SSH_OK)
		r = 0;
	explicit_bzero(b, n);
	free(b);
	return (r);
}

/* Close every descriptor but stdio, the vendor's socket, the notify pipe
 * and the monitor socket (libraries' leftovers included). */
static void
privsep_close_fds(void)
{
	struct dirent *de;
	DIR *d;
	int fd, dfd;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		for (fd = CHILD_FD_MONITOR + 1; fd < 1024; fd++)
			(void)close(fd);
		return;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd > CHILD_FD_MONITOR && fd != dfd)
			(void)close(fd);
	}
	closedir(d);
}

/*
 * The child, still root for a moment: descriptors, host keys, then the
 * sandbox, then the connection. Returns its WORKER_EXIT_* code.
 */
static int
privsep_child(struct sess *S, int sock, int notify, const int *hk, size_t nhk,
    int debug)
{
	ssh_key keys[PRIVSEP_MAX_HOSTKEYS];
	ssh_bind bind = NULL;
	size_t i, nkeys = 0;
	int rc;

	/* logs to stderr only (no syslog socket in the sandbox: this closes
	 * it); audit events to the monitor, which stamps and keeps them */
	log_init("bastiond-worker", 0, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	auditlog_close();
	audit_set_sink(mm_audit_sink, NULL);
	audit_set_quiet(1);
	/* the host keys first: their descriptors may have any number */
	for (i = 0; i < nhk; i++)
		if (privsep_read_hostkey(hk[i], &keys[nkeys]) == 0)
			nkeys++;
		else
			log_error("cannot read host key %s",
			    S->pol->host_keys[i]);
	/* 4: the notify pipe (replacing the listener's pipe, which is the
	 * monitor's alone); 5: the monitor */
	if (dup2(notify, CHILD_FD_NOTIFY) < 0 ||
	    dup2(sock, CHILD_FD_MONITOR) < 0) {
		log_error("child: cannot arrange its descriptors: %s",
		    strerror(errno));
		rc = WORKER_EXIT_ERROR;
		goto out;
	}
	privsep_close_fds();
	mm_init(CHILD_FD_MONITOR);
	rc = WORKER_EXIT_ERROR;
	if (nkeys == 0 || worker_setup_bind(S->pol, keys, nkeys, &bind) != 0)
		goto out;
	/* what libssh, OpenSSL and glibc would otherwise do lazily, while
	 * files can still be read */
	(void)ssh_init();
	tzset();
	if (sandbox_child(S->pol) != 0) {
		log_error("session %s: the child cannot be confined, so the "
		    "connection is closed", S->sid);
		goto out;
	}
	rc = worker_child(S, bind);
out:
	for (i = 0; i < nkeys; i++)
		ssh_key_free(keys[i]);
	if (bind != NULL)
		ssh_bind_free(bind);
	return (rc);
}

/* ---- the monitor --------------------------------------------------------- */

/*
 * What the listener is told by the exit code: a failed login (the
 * monitor's own count), a child that broke its filter, or how it ended.
 */
static int
privsep_exit_code(struct mon *M, int st)
{
	struct mon_msg m;
	int authed = M->phase != MPH_PREAUTH;

	memset(&m, 0, sizeof(m));
	m.type = MON_END;
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);

		snprintf(m.text, sizeof(m.text), sig == SIGSYS ? "the "
		    "session's child made a system call outside its seccomp "
		    "allowlist and was killed" : M->violation ? "the "
		    "session's child broke the monitor's rules and was "
		    "killed" : "the session's child was killed by signal %d",
		    sig);
		if (M->phase == MPH_RELAY && M->count[MREQ_SESSION_END] == 0)
			(void)mon_tell_listener(M, &m);
		if (sig == SIGSYS)
			return (WORKER_EXIT_SANDBOX);
		if (!authed && M->auth_failed)
			return (WORKER_EXIT_AUTHFAIL);
		return (WORKER_EXIT_ERROR);
	}
	if (M->phase == MPH_RELAY && M->count[MREQ_SESSION_END] == 0) {
		snprintf(m.text, sizeof(m.text), "the session's child exited "
		    "(status %d)", WEXITSTATUS(st));
		(void)mon_tell_listener(M, &m);
	}
	if (!authed && (M->auth_failed ||
	    WEXITSTATUS(st) == WORKER_EXIT_AUTHFAIL))
		return (WORKER_EXIT_AUTHFAIL);
	if (authed && WEXITSTATUS(st) == WORKER_EXIT_AUTHFAIL)
		return (WORKER_EXIT_ERROR);
	return (WEXITSTATUS(st));
}

/*
 * Where the engineer connects from: the listener's "ADDR,PORT,VIA" when
 * the connection came through a trusted load balancer (accept.c read
 * its PROXY header), else the socket's peer. 0 or -1 (logged).
 */
static int
privsep_peer(const char *proxied, struct sess *S)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char buf[160], *port, *via, *end;
	struct netaddr v;
	long pn;

	S->viastr[0] = '\0';
	if (proxied == NULL) {
		if (getpeername(WORKER_FD_CLIENT, (struct sockaddr *)&ss,
		    &sl) != 0 || netaddr_from_sockaddr((struct sockaddr *)&ss,
		    &S->peer) != 0) {
			log_error("getpeername: %s", strerror(errno));
			return (-1);
		}
		netaddr_str(&S->peer, S->peerstr, sizeof(S->peerstr));
		S->peerport = ss.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		return (0);
	}
	if (snprintf(buf, sizeof(buf), "%s", proxied) >= (int)sizeof(buf) ||
	    (port = strchr(buf, ',')) == NULL ||
	    (via = strchr(port + 1, ',')) == NULL)
		goto bad;
	*port++ = '\0';
	*via++ = '\0';
	pn = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || pn < 0 || pn > 65535 ||
	    netaddr_parse(buf, &S->peer) != 0 || netaddr_parse(via, &v) != 0)
		goto bad;
	netaddr_str(&S->peer, S->peerstr, sizeof(S->peerstr));
	netaddr_str(&v, S->viastr, sizeof(S->viastr));
	S->peerport = (int)pn;
	return (0);
bad:
	log_error("--proxied \"%.64s\" is not ADDR,PORT,VIA", proxied);
	return (-1);
}

int
worker_main(const char *policy_path, const char *session_id,
    const char *proxied, int debug)
{
	struct policy *pol = NULL;
	struct mon M;
	int sv[2] = { -1, -1 }, np[2] = { -1, -1 };
	int hk[PRIVSEP_MAX_HOSTKEYS];
	size_t nhk = 0, i;
	int rc = WORKER_EXIT_ERROR, st;
	pid_t pid, w;

	log_init("bastiond-worker", !debug, debug ? LOG_LVL_DEBUG :
	    LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	/* the listener's pipe is the monitor's alone */
	(void)fcntl(WORKER_FD_CONTROL, F_SETFD, FD_CLOEXEC);
	memset(&M, 0, sizeof(M));
	M.fd = M.notify_fd = -1;
	M.ctl_fd = WORKER_FD_CONTROL;
	M.phase = MPH_PREAUTH;
	M.appr_state = -1;
	if (policy_load(policy_path, NULL, NULL, &pol) != 0) {
		log_error("cannot load policy %s", policy_path);
		close(WORKER_FD_CLIENT);
		return (WORKER_EXIT_ERROR);
	}
	/* audit chain (docs/AUDIT.md), opened at the first event; if it
	 * cannot be written, session.start refuses the session */
	(void)auditlog_open(pol->state_dir, AUDITLOG_LAZY);
	if (state_configure(pol) != 0) {	/* the store's backend */
		log_error("out of memory");
		close(WORKER_FD_CLIENT);
		return (WORKER_EXIT_ERROR);
	}
	M.S.pol = pol;
	M.child_uid = sandbox_child_uid(pol);
	M.S.dc.fd = -1;
	snprintf(M.S.sid, sizeof(M.S.sid), "%s", session_id);
	if (privsep_peer(proxied, &M.S) != 0)
		goto out;
	/* the host keys, for the child to read before it is demoted */
	for (i = 0; i < pol->nhost_keys && nhk < PRIVSEP_MAX_HOSTKEYS; i++) {
		if ((hk[nhk] = open(pol->host_keys[i], O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW)) == -1) {
			log_error("cannot open host key %s: %s",
			    pol->host_keys[i], strerror(errno));
			continue;
		}
		nhk++;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(np, O_CLOEXEC) != 0) {
		log_error("session %s: monitor: %s", M.S.sid, strerror(errno));
		goto out;
	}
	if ((M.auth = auth_mon_new(pol, &M.S.peer, M.S.peerstr, M.S.viastr,
	    M.S.sid)) == NULL)
		goto out;
	if ((pid = fork()) == -1) {
		log_error("session %s: fork: %s", M.S.sid, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		struct sess *S;

		close(sv[0]);
		close(np[1]);
		auth_mon_free(M.auth);
		if ((S = calloc(1, sizeof(*S))) == NULL)
			_exit(WORKER_EXIT_ERROR);
		S->pol = pol;
		S->dc.fd = -1;
		snprintf(S->sid, sizeof(S->sid), "%s", M.S.sid);
		S->peer = M.S.peer;
		snprintf(S->peerstr, sizeof(S->peerstr), "%s", M.S.peerstr);
		S->peerport = M.S.peerport;
		snprintf(S->viastr, sizeof(S->viastr), "%s", M.S.viastr);
		rc = privsep_child(S, sv[1], np[0], hk, nhk, debug);
		free(S);
		policy_free(pol);
		return (rc);
	}
	/* the monitor: no byte of the vendor's is ever read here */
	close(WORKER_FD_CLIENT);
	close(sv[1]);
	close(np[0]);
	sv[1] = np[0] = -1;
	for (i = 0; i < nhk; i++)
		close(hk[i]);
	nhk = 0;
	M.child = pid;
	M.fd = sv[0];
	M.notify_fd = np[1];
	/* login grace: the whole pre-authentication phase, the monitor's */
	alarm(pol->login_grace);
	mon_loop(&M);
	while ((w = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
		continue;
	alarm(0);
	rc = w == pid ? privsep_exit_code(&M, st) : WORKER_EXIT_ERROR;
out:
	for (i = 0; i < nhk; i++)
		close(hk[i]);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (M.notify_fd != -1)
		close(M.notify_fd);
	else if (np[1] != -1)
		close(np[1]);
	if (np[0] != -1)
		close(np[0]);
	touch_mon_release(&M.st, &M.guard);
	credagent_free(M.agent);
	auth_mon_free(M.auth);
	free(M.S.command);
	policy_free(pol);
	return (rc);
}

/* ---- the test hook ------------------------------------------------------- */

#ifndef BASTION_TEST_HOOKS
void
privsep_selftest(struct sess *S)
{
	(void)S;		/* bastiond proper has no hook */
}
#else
void
privsep_selftest(struct sess *S)
{
	const char *on = getenv("BASTION_PRIVSEP_SELFTEST");
	char what[32], arg[128], arg2[32];
	char why[256];
	int n, fd;

	/*
	 * Only in bastiond-testhooks (make tests; never installed), and
	 * with BASTION_PRIVSEP_SELFTEST=1 in its environment, the
	 * command "bastion-privsep-selftest WHAT ARG [ARG2]" makes this
	 * child do what a compromised one would (tests/e2e/test_privsep.py):
	 *
	 *   forward DEVICE PORT  ask the monitor for a forward to a device
	 *                        the policy does not give it
	 *   forward-after-kill DEVICE PORT
	 *                        wait for the listener's K, L or R, keep it
	 *                        from the relay, then ask for a forward the
	 *                        policy gives (the monitor must refuse it)
	 *   connect ADDR PORT    make a TCP connection itself
	 *   signal PID           signal another process (another session's
	 *                        child shares the uid)
	 *   forge EVENT          hand the monitor an event it may not write
	 *   forge-user NAME      an event in another person's name
	 *   reopen NAME          OPEN a second recording, as NAME, on the
	 *                        recorder connection the monitor opened
	 *   recorder-socket X    make a socket to reach the recorder itself
	 */
	if (on == NULL || strcmp(on, "1") != 0 || S->command == NULL ||
	    strncmp(S->command, "bastion-privsep-selftest ", 25) != 0)
		return;
	arg[0] = arg2[0] = '\0';
	if ((n = sscanf(S->command + 25, "%31s %127s %31s", what, arg,
	    arg2)) < 2)
		return;
	log_warn("session %s: privsep selftest: %s %s %s", S->sid, what, arg,
	    arg2);
	if (strcmp(what, "forward") == 0 && n == 3) {
		enum mm_fwd r = mm_forward_connect(arg, atoi(arg2), &fd, why,
		    sizeof(why));

		log_error("privsep selftest: the monitor answered %d (%s)",
		    (int)r, why);
	} else if (strcmp(what, "forward-after-kill") == 0 && n == 3) {
		struct pollfd pf = { CHILD_FD_NOTIFY, POLLIN, 0 };
		char line[256];
		enum mm_fwd r;

		log_error("privsep selftest: waiting for an admin's decision");
		if (poll(&pf, 1, 60000) == 1 &&
		    read(CHILD_FD_NOTIFY, line, sizeof(line)) > 0) {
			r = mm_forward_connect(arg, atoi(arg2), &fd, why,
			    sizeof(why));
			log_error("privsep selftest: after the decision the "
			    "monitor answered %d (%s)", (int)r, why);
		}
	} else if (strcmp(what, "connect") == 0 && n == 3) {
		struct netaddr na;
		struct sockaddr_storage ss;
		socklen_t sl;

		if (netaddr_parse(arg, &na) == 0) {
			sl = netaddr_to_sockaddr(&na, (uint16_t)atoi(arg2),
			    &ss);
			fd = socket(ss.ss_family, SOCK_STREAM, 0);
			if (fd != -1 && connect(fd, (struct sockaddr *)&ss,
			    sl) == 0)
				log_error("privsep selftest: connected to %s",
				    arg);
		}
	} else if (strcmp(what, "signal") == 0) {
		if (kill((pid_t)atoi(arg), SIGTERM) == 0)
			log_error("privsep selftest: signalled %s", arg);
	} else if (strcmp(what, "forge") == 0) {
		/* a compromised child writes the line itself: audit_event()
		 * would refuse a name the schema does not declare */
		char line[512], user[200];

		log_escape(user, sizeof(user), S->au.who->name);
		snprintf(line, sizeof(line), "ts=2026-01-01T00:00:00.000Z "
		    "event=%s pid=%ld session=%s user=%s result=ok "
		    "reason=forged", arg, (long)getpid(), S->sid, user);
		(void)audit_line(line);
	} else if (strcmp(what, "reopen") == 0 && S->rec != NULL) {
		char k0[] = "engineer", k1[] = "device";
		struct rec_hdr h = { 2, { k0, k1 }, { arg, k1 } };
		struct buf *m = buf_new(RECPROTO_HELLO_MAX);

		if (m != NULL && recproto_put_open(m, &h) == 0 &&
		    write(rec_client_fd(S->rec), buf_ptr(m), buf_len(m)) ==
		    (ssize_t)buf_len(m))
			log_error("privsep selftest: a second OPEN sent");
		buf_free(m);
	} else if (strcmp(what, "recorder-socket") == 0) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			log_error("privsep selftest: socket(AF_UNIX): %s",
			    strerror(errno));
		else
			log_error("privsep selftest: socket(AF_UNIX) made");
	} else if (strcmp(what, "forge-user") == 0) {
		(void)audit_ev(BEV_SESSION_IDLE_WARNING, "session", S->sid,
		    "user", arg, NULL);
	} else if (strcmp(what, "decl-answer") == 0) {
		/* an answer for declarations the monitor never listed */
		unsigned closed = 0, still = 0;

		log_error("privsep selftest: answering file declarations");
		(void)mm_decl_answer(0, DECL_ERASED_NONE, &closed, &still);
		log_error("privsep selftest: declarations answered");
	}
}
#endif /* BASTION_TEST_HOOKS */
