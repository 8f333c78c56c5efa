/*
 * sandbox.c - lock a session worker down before it relays.
 *
 * A session worker is a fresh address space already (the listener
 * re-executes bastiond for every connection). Once its sockets are open
 * (vendor, device, recorder, the listener's monitor pipe) and the
 * session's start is in the audit chain, nothing it does afterwards needs
 * a privilege or a new file, so before the relay starts it:
 *
 *  1. closes every descriptor it does not need (the kept ones are named
 *     below; anything a library left open is closed), the audit chain's
 *     included: from here on its audit events go to the listener, which
 *     checks and appends them (monitor.h "V");
 *  2. when started as root, drops to the policy's worker_user (default
 *     "bastion"; "nobody" when that user does not exist, with a warning):
 *     no supplementary groups, real/effective/saved ids all set, and a
 *     check that root cannot be regained;
 *  3. sets no_new_privs and installs a seccomp allowlist (libseccomp):
 *     any other system call kills the worker (SECCOMP_RET_KILL_PROCESS)
 *     and only it; the listener sees SIGSYS and writes the audit event
 *     worker.sandbox_violation.
 *
 * Sanitizer builds (make check-asan) keep the same steps but invert the
 * filter: everything is allowed except a denylist (exec, ptrace of others,
 * mount, module and key syscalls, id changes...), because LeakSanitizer
 * needs clone and ptrace at exit. The selftest below uses execve, which
 * both filters kill.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <poll.h>

#include <seccomp.h>

#include "auditlog.h"
#include "bastiond.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "rec_client.h"
#include "session.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

#define SANDBOX_MAX_KEEP	8

/* Set by sandbox_prepare(), used by sandbox_enter(). */
static scmp_filter_ctx sandbox_ctx;
static int sandbox_demote_to;
static uid_t sandbox_uid;
static gid_t sandbox_gid;
static char sandbox_user[64];

/* What a relaying worker may do: its loop, its sockets, memory, time,
 * signals, its logs, and new TCP connections for port forwards. */
static const int sandbox_allow[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	SCMP_SYS(eventfd2), SCMP_SYS(pipe2), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(fcntl),
	SCMP_SYS(ioctl), SCMP_SYS(lseek), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(stat),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	/* new TCP connections for -L forwards, syslog's /dev/log (socket()
	 * itself is allowed below for these families only) */
	SCMP_SYS(connect), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(shutdown),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise),
	/* time, identity, signals, threads' locks */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getrandom), SCMP_SYS(uname), SCMP_SYS(sysinfo),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(alarm),
	SCMP_SYS(setitimer), SCMP_SYS(getitimer), SCMP_SYS(tgkill),
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_yield), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64),
	/* the end */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* localtime_r may look at /etc/localtime again; the file system
	 * permissions of worker_user decide what an open can reach */
	SCMP_SYS(openat), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(readlink),
};

/* socket(): TCP for forwards, Unix for syslog; no netlink, raw, packet */
static const int sandbox_families[] = { AF_INET, AF_INET6, AF_UNIX };

/* Sanitizer builds: everything but these (see the top of the file). */
static const int sandbox_deny[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(mount),
	SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(reboot), SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(setuid), SCMP_SYS(setgid),
	SCMP_SYS(setreuid), SCMP_SYS(setregid), SCMP_SYS(setresuid),
	SCMP_SYS(setresgid), SCMP_SYS(setgroups), SCMP_SYS(bind),
	SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(bpf),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(keyctl),
	SCMP_SYS(process_vm_writev), SCMP_SYS(swapon), SCMP_SYS(swapoff),
};

/*
 * The audit sink of a sandboxed worker: it cannot write the audit chain
 * (its descriptor is closed before the demotion, so a compromised worker
 * can neither rewrite nor lock the chain), so each event goes to the
 * listener as a "V" line (monitor.h), which checks that it names this
 * worker and appends it. If the listener is gone, the line is printed
 * here, marked unwritten.
 */
static int
sandbox_audit_relay(const char *line, char *note, size_t notelen, void *arg)
{
	struct iovec iov[3];
	struct pollfd pfd;
	size_t len = strlen(line), i = 0;
	ssize_t n;

	(void)arg;
	note[0] = '\0';
	if (len > MON_AUDIT_MAX)
		len = MON_AUDIT_MAX;	/* log.h lines are shorter */
	iov[0].iov_base = (void *)"V ";
	iov[0].iov_len = 2;
	iov[1].iov_base = (void *)line;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)"\n";
	iov[2].iov_len = 1;
	while (i < 3) {
		n = writev(WORKER_FD_CONTROL, iov + i, (int)(3 - i));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			pfd.fd = WORKER_FD_CONTROL;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 5000) == 1)
				continue;
		}
		if (n <= 0) {
			fprintf(stderr, "AUDIT %s chain=unwritten\n", line);
			return (BERR_SYS);
		}
		while (i < 3 && (size_t)n >= iov[i].iov_len)
			n -= (ssize_t)iov[i++].iov_len;
		if (i < 3) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	snprintf(note, notelen, " chain=via-listener");
	return (0);
}

static int
sandbox_keep(const int *keep, size_t n, int fd)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return (1);
	return (0);
}

static int
sandbox_close_fds(const struct sess *S)
{
	int keep[SANDBOX_MAX_KEEP], fd, dfd;
	size_t nkeep = 0;
	struct dirent *de;
	DIR *d;

	keep[nkeep++] = WORKER_FD_CONTROL;
	keep[nkeep++] = ssh_get_fd(S->vs);
	if (S->dc.s != NULL)
		keep[nkeep++] = ssh_get_fd(S->dc.s);
	if (S->rec != NULL)
		keep[nkeep++] = rec_client_fd(S->rec);
	closelog();	/* reconnects to /dev/log when it next logs */
	/* audit events now go through the listener (sandbox_audit_relay) */
	auditlog_close();
	audit_set_sink(sandbox_audit_relay, NULL);
	audit_set_quiet(1);
	if ((d = opendir("/proc/self/fd")) == NULL) {
		log_error("sandbox: /proc/self/fd: %s", strerror(errno));
		return (BERR_SYS);
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd <= 2 || fd == dfd || sandbox_keep(keep, nkeep, fd))
			continue;
		log_debug("sandbox: closing descriptor %d", fd);
		(void)close(fd);
	}
	closedir(d);
	return (0);
}

/*
 * Who the worker becomes: looked up while /etc/passwd (or NSS) can still
 * be read, before the recording opens, so that a missing user refuses the
 * session before anything of it is recorded.
 */
static int
sandbox_find_user(const struct sess *S)
{
	const char *name = S->pol->worker_user != NULL ?
	    S->pol->worker_user : POLICY_DEFAULT_WORKER_USER;
	struct passwd *pw;

	sandbox_demote_to = 0;
	if (geteuid() != 0)
		return (0);	/* already unprivileged: nothing to drop */
	if ((pw = getpwnam(name)) == NULL) {
		/* the demo and the tests run without the sysusers entry;
		 * the listener warned once at start */
		log_debug("sandbox: worker_user %s does not exist; using "
		    "nobody (create it: the installed sysusers.d entry "
		    "does)", name);
		if ((pw = getpwnam("nobody")) == NULL) {
			log_error("sandbox: neither %s nor nobody exists",
			    name);
			return (BERR_NOTFOUND);
		}
	}
	if (pw->pw_uid == 0) {
		log_error("sandbox: worker_user %s is root", pw->pw_name);
		return (BERR_DENIED);
	}
	sandbox_demote_to = 1;
	sandbox_uid = pw->pw_uid;
	sandbox_gid = pw->pw_gid;
	snprintf(sandbox_user, sizeof(sandbox_user), "%s", pw->pw_name);
	return (0);
}

static int
sandbox_demote(void)
{
	if (!sandbox_demote_to)
		return (0);
	if (setgroups(0, NULL) != 0 ||
	    setresgid(sandbox_gid, sandbox_gid, sandbox_gid) != 0 ||
	    setresuid(sandbox_uid, sandbox_uid, sandbox_uid) != 0) {
		log_error("sandbox: cannot become %s: %s (the service may "
		    "lack CAP_SETUID/CAP_SETGID or the setresuid() system "
		    "call)", sandbox_user, strerror(errno));
		return (BERR_SYS);
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		log_error("sandbox: root could be regained; refusing");
		return (BERR_DENIED);
	}
#if SANDBOX_SANITIZER
	/* LeakSanitizer ptraces its own threads at exit */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return (0);
}

/*
 * Build the filter (not yet loaded). libseccomp probes the kernel's
 * seccomp() system call for its API level; where that call is refused
 * (a service manager's own filter: systemd's SystemCallFilter= without
 * "seccomp") it falls back to level 1, which cannot express
 * SECCOMP_RET_KILL_PROCESS, and seccomp_init() returns NULL. Say so.
 */
static int
sandbox_build(scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r = 0;

	*out = NULL;
	if (seccomp_api_get() < 3) {
		log_error("sandbox: the kernel's seccomp() system call is not "
		    "usable here (libseccomp API level %u, 3 needed to kill "
		    "a process): if bastiond runs under systemd, its unit's "
		    "SystemCallFilter= must allow \"seccomp\"",
		    seccomp_api_get());
		return (BERR_SYS);
	}
	if (SANDBOX_SANITIZER) {
		if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
			log_error("sandbox: seccomp_init failed");
			return (BERR_NOMEM);
		}
		for (i = 0; r == 0 && i < sizeof(sandbox_deny) /
		    sizeof(sandbox_deny[0]); i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
			    sandbox_deny[i], 0);
	} else {
		if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
			log_error("sandbox: seccomp_init(KILL_PROCESS) failed "
			    "(libseccomp API level %u)", seccomp_api_get());
			return (BERR_NOMEM);
		}
		for (i = 0; r == 0 && i < sizeof(sandbox_allow) /
		    sizeof(sandbox_allow[0]); i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    sandbox_allow[i], 0);
		/* threads (libuv's pool) but no new processes; clone3's
		 * flags are out of reach of a filter: glibc falls back */
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ,
			    CLONE_THREAD, CLONE_THREAD));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
			    SCMP_SYS(clone3), 0);
		for (i = 0; r == 0 && i < sizeof(sandbox_families) /
		    sizeof(sandbox_families[0]); i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ,
			    (scmp_datum_t)sandbox_families[i]));
	}
	if (r != 0) {
		log_error("sandbox: cannot build the system call filter: %s",
		    strerror(-r));
		seccomp_release(ctx);
		return (BERR_SYS);
	}
	*out = ctx;
	return (0);
}

static int
sandbox_filter(void)
{
	int r = 0;

	/* no_new_privs first: libseccomp sets it too, but say it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		r = -errno;
		log_error("sandbox: cannot set no_new_privs: %s",
		    strerror(-r));
		return (BERR_SYS);
	}
	r = seccomp_load(sandbox_ctx);
	seccomp_release(sandbox_ctx);
	sandbox_ctx = NULL;
	if (r != 0) {
		log_error("sandbox: cannot install the system call filter: %s",
		    strerror(-r));
		return (BERR_SYS);
	}
	return (0);
}

static void
sandbox_refuse(struct sess *S)
{
	sess_tell(S, "bastion: the session cannot be isolated on the "
	    "bastion, so it will not start. Please tell the "
	    "hospital's IT administrator.\n");
	audit_event("session.refused", "session", S->sid, "user",
	    S->au.who->name, "reason", "the worker sandbox could not "
	    "be set up", NULL);
}

int
sandbox_prepare(struct sess *S)
{
	int r;

	if (sandbox_ctx != NULL) {
		seccomp_release(sandbox_ctx);
		sandbox_ctx = NULL;
	}
	if ((r = sandbox_find_user(S)) != 0 ||
	    (r = sandbox_build(&sandbox_ctx)) != 0) {
		sandbox_refuse(S);
		return (r);
	}
	return (0);
}

int
sandbox_enter(struct sess *S)
{
	const char *self;
	int r;

	if (sandbox_ctx == NULL && (r = sandbox_prepare(S)) != 0)
		return (r);
	if ((r = sandbox_close_fds(S)) != 0 || (r = sandbox_demote()) != 0 ||
	    (r = sandbox_filter()) != 0) {
		sandbox_refuse(S);
		return (r);
	}
	log_debug("session %s: sandboxed (uid %u)", S->sid,
	    (unsigned)getuid());
	/*
	 * Test hook: with BASTION_SANDBOX_SELFTEST=1 in bastiond's
	 * environment, a session whose command is exactly
	 * "bastion-sandbox-selftest" makes a forbidden system call, to show
	 * that it kills this worker only (tests/e2e/test_sandbox.py).
	 */
	if ((self = getenv("BASTION_SANDBOX_SELFTEST")) != NULL &&
	    strcmp(self, "1") == 0 && S->command != NULL &&
	    strcmp(S->command, "bastion-sandbox-selftest") == 0) {
		char *argv[] = { "/bin/true", NULL };

		log_warn("session %s: sandbox selftest: calling execve",
		    S->sid);
		execv(argv[0], argv);
		log_error("sandbox selftest: execve returned: %s",
		    strerror(errno));
	}
	return (0);
}
