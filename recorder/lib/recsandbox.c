/*
 * recsandbox.c - bastion-recorder's own system call filter: the lists,
 * given as data to the shared builder (base/scfilter.h), as bastiond's
 * child's (bastion/sandbox.c) and bastion-ship's (ship/ssandbox.c) are.
 * The recorder installs it once its key is loaded, its socket listens,
 * its signals are set and systemd was told READY, before its loop
 * accepts the first connection (bastion-recorder.c): from then on it
 * parses what the session workers send, and they may be compromised.
 *
 * What the recorder does from then on (strace -f over the recorder's
 * e2e tests: clear and encrypted recordings, WATCH, the notary, stops
 * by SIGTERM and SIGINT): its libuv loop (epoll, the signal pipe,
 * timers), accept4 on the socket it listens on, recvmsg with the
 * workers' descriptors, SO_PEERCRED; recordings created (mkdir of the
 * day's directories, openat O_CREAT|O_EXCL, fchmod), appended (write,
 * writev, ftruncate of a torn write), synced (fdatasync on libuv's
 * thread pool: threads, CLONE_THREAD only) and their free space checked
 * (statfs); the notary's reads (the recording, the public key, the audit
 * chain); OpenSSL's signatures and age's encryption (getrandom); the
 * audit chain appended directly (openat, flock, ftruncate) or through
 * the store actor (below); at the stop, the socket file unlinked and
 * the signal handlers put back (and, where the tests preload
 * pam_wrapper, its destructor's directory removed: getdents64, rmdir).
 *
 * No new socket, but one: with -a (bastiond's recorder) its audit events
 * go through the store actor's socket (STATE_DIR/store.sock), connected
 * at the first event and again after the listener restarted, so that
 * socket(AF_UNIX) and connect are allowed then. Without -a (the
 * installed unit, -C) socket(AF_UNIX) fails with EACCES (glibc's syslog
 * reconnecting falls back quietly) and connect kills; a socket of any
 * other family kills in both cases. No exec, no process, no bind or
 * listen, no id change, no ptrace.
 *
 * Anything else kills the process: the filter traps, the handler of
 * scfilter.c writes "bastion-recorder: system call N (NAME) is outside
 * its seccomp allowlist: killed" to standard error (the journal, or
 * bastiond's log, which passes the recorder's stderr on) and the
 * process dies of SIGSYS. Open recordings are then left unsealed, as
 * after any crash (bastion-verify: "NOT SEALED", exit 2); bastiond
 * restarts its recorder, systemd the unit's. Sanitizer builds invert
 * the filter (LeakSanitizer clones and ptraces at exit).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "recsandbox.h"
#include "scfilter.h"

static const int recsandbox_allow[] = {
	SCFILTER_CALLS_IO,
	SCFILTER_CALLS_RUNTIME,
	/* the loop (its epoll descriptor and signal pipe made before) */
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	/* the workers' connections, on the socket it listens on */
	SCMP_SYS(accept4), SCMP_SYS(accept),
	/* recordings: the day's directories, created, appended, synced */
	SCMP_SYS(openat), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(fchmod), SCMP_SYS(ftruncate),
	/* the free space before each new recording */
	SCMP_SYS(statfs), SCMP_SYS(fstatfs),
	/* the audit chain, appended directly when no store actor runs */
	SCMP_SYS(flock),
	/* a recording that could not be started, the socket at the stop */
	SCMP_SYS(unlink), SCMP_SYS(unlinkat),
	/* a preloaded library's destructor at the exit: the tests'
	 * pam_wrapper (LD_PRELOAD, inherited from bastiond) removes its
	 * copy of the PAM services, a directory */
	SCMP_SYS(getdents64), SCMP_SYS(rmdir),
};

/* Decided by an argument. */
static const struct scfilter_rule recsandbox_allow_checked[] = {
	/* signal handlers (the stop puts SIGTERM's and SIGINT's back;
	 * glibc's first thread sets its own), but not SIGSYS's */
	SCFILTER_RULES_KEEP_TRAP,
	/* libuv's thread pool, no process; signals (raise) and resource
	 * limits (a thread's stack) of itself only */
	SCFILTER_RULES_THREADS_SELF,
};

/* With the store actor's socket (-a): AF_UNIX sockets and connect. */
static const struct scfilter_rule recsandbox_store[] = {
	SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_UNIX),
	SCF_ANY(SCMP_ACT_ALLOW, connect),
};

/* Without: socket(AF_UNIX) refused quietly (syslog's reconnection). */
static const struct scfilter_rule recsandbox_no_store[] = {
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_UNIX),
};

/* Sanitizer builds: all but these (LeakSanitizer clones and ptraces). */
static const int recsandbox_deny[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(mount),
	SCMP_SYS(chroot), SCMP_SYS(setuid), SCMP_SYS(setgid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(unshare),
	SCMP_SYS(setns), SCMP_SYS(bpf), SCMP_SYS(keyctl),
};

static const struct scfilter_rule recsandbox_deny_checked[] = {
	SCF_NOT_SELF(SCMP_ACT_KILL_PROCESS, kill, 0),
	/* the recorder has no business on a network */
	SCF_IS(SCMP_ACT_KILL_PROCESS, socket, 0, AF_INET),
	SCF_IS(SCMP_ACT_KILL_PROCESS, socket, 0, AF_INET6),
	SCF_IS(SCMP_ACT_KILL_PROCESS, socket, 0, AF_PACKET),
};

static const struct scfilter recsandbox_strict = SCFILTER_OF(
    SCMP_ACT_TRAP, SCMP_ACT_ALLOW, recsandbox_allow,
    recsandbox_allow_checked);
static const struct scfilter recsandbox_sanitizer = SCFILTER_OF(
    SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, recsandbox_deny,
    recsandbox_deny_checked);

#define RECSANDBOX_MAX_CHECKED	(SCF_COUNT(recsandbox_allow_checked) + \
	SCF_COUNT(recsandbox_deny_checked) + SCF_COUNT(recsandbox_store))

int
rec_sandbox(const struct rec_sandbox_opts *o)
{
	struct scfilter_rule rules[RECSANDBOX_MAX_CHECKED];
	struct scfilter f = SCFILTER_SANITIZER ? recsandbox_sanitizer :
	    recsandbox_strict;
	const struct scfilter_rule *add = recsandbox_no_store;
	size_t nadd = SCF_COUNT(recsandbox_no_store);

	if (o->store_socket) {
		/* the inverted filter allows them anyway */
		add = recsandbox_store;
		nadd = SCFILTER_SANITIZER ? 0 : SCF_COUNT(recsandbox_store);
	}
	memcpy(rules, f.checked, f.nchecked * sizeof(*rules));
	memcpy(rules + f.nchecked, add, nadd * sizeof(*add));
	f.checked = rules;
	f.nchecked += nadd;
	log_debug("sandbox: %s", o->store_socket ? "AF_UNIX sockets and "
	    "connect for the store actor (-a)" : "no new socket");
	return (scfilter_install(&f, "bastion-recorder"));
}
