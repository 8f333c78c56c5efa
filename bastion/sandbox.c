/*
 * sandbox.c - confine the child of a connection before it reads a byte.
 *
 * Each vendor connection has a privileged monitor and a child that alone
 * reads the vendor's socket (privsep.h). The child is forked by the
 * monitor and, before it even accepts the SSH session (key exchange
 * included), with only its own descriptors left open (privsep.c):
 *
 *  1. when started as root, drops to the policy's worker_user (default
 *     "bastion"; "nobody" when that user does not exist, with a warning):
 *     no supplementary groups, real/effective/saved ids all set, and a
 *     check that root cannot be regained. Children of all sessions share
 *     that uid, so the filter below keeps each to itself: signals only to
 *     its own pid, resource limits only of itself;
 *  2. dies with its monitor (PR_SET_PDEATHSIG, set after the uid change,
 *     which clears it);
 *  3. sets no_new_privs and installs a seccomp allowlist (libseccomp):
 *     its loops, the sockets it was given, memory, time, its own signals,
 *     read-only opens; no new socket (an AF_UNIX socket() fails with
 *     EACCES, so that glibc's nscd probe and syslog() fall back quietly;
 *     any other family kills), no connect(), no process. Any other system
 *     call kills the child (SECCOMP_RET_KILL_PROCESS) and only it; the
 *     monitor sees SIGSYS and exits WORKER_EXIT_SANDBOX, and the listener
 *     writes the audit event worker.sandbox_violation.
 *
 * Sanitizer builds (make check-asan) keep the same steps but invert the
 * filter: everything is allowed except a denylist (exec, ptrace of others,
 * mount, module and key syscalls, id changes, inet sockets (AF_UNIX ones
 * fail with EACCES as below)...), because
 * LeakSanitizer needs clone and ptrace at exit. The selftests use execve,
 * socket(AF_INET) and kill() of another process, which both filters
 * kill.
 *
 * notify_command (approval.c) runs as the same worker_user with
 * no_new_privs, without a filter: sandbox_drop_privileges().
 *
 * The lists are here; building and loading them is base/scfilter.c's,
 * which bastion-ship's filter (ship/ssandbox.c) shares.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "bastiond.h"
#include "err.h"
#include "log.h"
#include "scfilter.h"
#include "session.h"

/* Who the child (and notify_command) becomes. */
struct sandbox_user {
	int demote;			/* 0: not root, nothing to drop */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* What a child may do: its loops, its sockets, memory, time, signals to
 * itself, its logs (base/scfilter.h's common calls; glibc may look at
 * /etc/localtime or /etc/passwd again: opens are read-only, below, and
 * worker_user's permissions decide). socket, kill, tgkill, prlimit64 and
 * openat are allowed below with their arguments checked. */
static const int sandbox_allow[] = {
	SCFILTER_CALLS_IO,
	SCFILTER_CALLS_RUNTIME,
	/* its loops */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	/* its signal handlers and timers */
	SCMP_SYS(rt_sigaction), SCMP_SYS(alarm), SCMP_SYS(setitimer),
	SCMP_SYS(getitimer),
};

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
	SCMP_SYS(connect), SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(bpf),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(keyctl),
	SCMP_SYS(process_vm_writev), SCMP_SYS(swapon), SCMP_SYS(swapoff),
	SCMP_SYS(tkill),
};

/* The allowlist's calls allowed (or refused) by their arguments. */
static const struct scfilter_rule sandbox_allow_checked[] = {
	/* threads (libuv's pool) but no new processes; signals and
	 * resource limits of itself only (every session's child has the
	 * same uid, which would let it signal the others) */
	SCFILTER_RULES_THREADS_SELF,
	/* opens: read-only */
	SCF_MASKED(SCMP_ACT_ALLOW, openat, 2,
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, 0),
	/* no new socket: AF_UNIX fails quietly, the rest kills */
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_UNIX),
};

/* The sanitizer builds' calls denied by their arguments. */
static const struct scfilter_rule sandbox_deny_checked[] = {
	/* no inet socket; signals and limits only for itself
	 * (LeakSanitizer's tracer is a thread of the process) */
	SCF_NOT(SCMP_ACT_KILL_PROCESS, socket, 0, AF_UNIX),
	/* and no AF_UNIX one either, as in the allowlist */
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_UNIX),
	SCF_NOT_SELF(SCMP_ACT_KILL_PROCESS, kill, 0),
};

static const struct scfilter sandbox_strict = SCFILTER_OF(
    SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, sandbox_allow,
    sandbox_allow_checked);
static const struct scfilter sandbox_sanitizer = SCFILTER_OF(
    SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, sandbox_deny,
    sandbox_deny_checked);

/*
 * Who to become: looked up while /etc/passwd (or NSS) can still be read.
 * Not root: nothing to drop (the tests as an ordinary user).
 */
static int
sandbox_find_user(const struct policy *pol, struct sandbox_user *u,
    int quiet)
{
	const char *name = pol->worker_user != NULL ? pol->worker_user :
	    POLICY_DEFAULT_WORKER_USER;
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0)
		return (0);
	if ((pw = getpwnam(name)) == NULL) {
		/* the demo and the tests run without the sysusers entry;
		 * the listener warned once at start */
		if (!quiet)
			log_debug("sandbox: worker_user %s does not exist; "
			    "using nobody (create it: the installed sysusers.d "
			    "entry does)", name);
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
	u->demote = 1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	return (0);
}

static int
sandbox_demote(const struct sandbox_user *u)
{
	if (!u->demote)
		return (0);
	if (setgroups(0, NULL) != 0 ||
	    setresgid(u->gid, u->gid, u->gid) != 0 ||
	    setresuid(u->uid, u->uid, u->uid) != 0) {
		log_error("sandbox: cannot become %s: %s (the service may "
		    "lack CAP_SETUID/CAP_SETGID or the setresuid() system "
		    "call)", u->name, strerror(errno));
		return (BERR_SYS);
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		log_error("sandbox: root could be regained; refusing");
		return (BERR_DENIED);
	}
	return (0);
}

int
sandbox_child(const struct policy *pol)
{
	struct sandbox_user u;
	scmp_filter_ctx ctx = NULL;
	pid_t parent = getppid();
	int r;

	if ((r = sandbox_find_user(pol, &u, 0)) != 0 ||
	    (r = scfilter_build(SCFILTER_SANITIZER ?
	    &sandbox_sanitizer : &sandbox_strict, "bastiond", &ctx)) != 0 || (r = sandbox_demote(&u)) != 0)
		goto out;
	/* after the uid change, which clears it: die with the monitor */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
	    getppid() != parent) {
		log_error("sandbox: the monitor is gone");
		r = BERR_SYS;
		goto out;
	}
#if SCFILTER_SANITIZER
	/* LeakSanitizer ptraces its own threads at exit */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	r = scfilter_load(ctx);
out:
	if (ctx != NULL)
		seccomp_release(ctx);
	return (r);
}

uid_t
sandbox_child_uid(const struct policy *pol)
{
	struct sandbox_user u;

	if (sandbox_find_user(pol, &u, 1) != 0 || !u.demote)
		return ((uid_t)-1);
	return (u.uid);
}

int
sandbox_drop_privileges(const struct policy *pol, int quiet)
{
	return (sandbox_drop_privileges_as(pol, NULL, quiet));
}

int
sandbox_drop_privileges_as(const struct policy *pol, const char *prefer,
    int quiet)
{
	struct sandbox_user u;
	struct passwd *pw;
	int r;

	if (prefer != NULL && geteuid() == 0 && (pw = getpwnam(prefer)) !=
	    NULL && pw->pw_uid != 0) {
		memset(&u, 0, sizeof(u));
		u.demote = 1;
		u.uid = pw->pw_uid;
		u.gid = pw->pw_gid;
		snprintf(u.name, sizeof(u.name), "%s", pw->pw_name);
	} else if ((r = sandbox_find_user(pol, &u, quiet)) != 0)
		return (r);
	if ((r = sandbox_demote(&u)) != 0)
		return (r);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return (BERR_SYS);
	return (0);
}

#ifndef BASTION_TEST_HOOKS
void
sandbox_selftest(struct sess *S)
{
	(void)S;		/* bastiond proper has no hook */
}
#else
void
sandbox_selftest(struct sess *S)
{
	const char *self;
	char *argv[] = { "/bin/true", NULL };

	/*
	 * Test hook, only in bastiond-testhooks (make tests; never
	 * installed): with BASTION_SANDBOX_SELFTEST=1 in its environment, a session whose command is exactly
	 * "bastion-sandbox-selftest" makes a forbidden system call, to show
	 * that it kills this child only (tests/e2e/test_sandbox.py).
	 */
	if ((self = getenv("BASTION_SANDBOX_SELFTEST")) == NULL ||
	    strcmp(self, "1") != 0 || S->command == NULL ||
	    strcmp(S->command, "bastion-sandbox-selftest") != 0)
		return;
	log_warn("session %s: sandbox selftest: calling execve", S->sid);
	execv(argv[0], argv);
	log_error("sandbox selftest: execve returned: %s", strerror(errno));
}
#endif /* BASTION_TEST_HOOKS */
