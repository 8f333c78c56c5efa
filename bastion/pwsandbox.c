/*
 * pwsandbox.c - the peer-watch helper's own system call filter
 * (`bastiond --peer-watch ID`, peerwatch_serve.c; docs/SCALE-OUT.md
 * "Watching a session of another node"). The helper is root, because
 * only root may ask the recorder for a live WATCH, so it confines itself
 * rather than rely on the unit's filter (none outside systemd). The
 * filter is installed once the policy is loaded, the audit chain opened
 * and the store connected (the store actor's socket, or PostgreSQL
 * itself), and before the helper reads the first byte of the request or
 * of the recorder. The filter is data given to the shared builder
 * (base/scfilter.h), as bastion-ship's (ship/ssandbox.c).
 *
 * What the helper does from then on: queries on its store connection,
 * the recorder's WATCH over a new AF_UNIX connection to its socket, the
 * audit event through the store actor (a new AF_UNIX connection, made
 * again once when it broke) or appended to the chain it holds open
 * (flock, fstat, ftruncate of a torn line, fsync), the journal, chunks
 * sealed with OpenSSL (getrandom), memory, time, signals to itself,
 * libpq's SIGPIPE mask. Sockets of AF_UNIX only; no open, no file
 * written by name, no process, no id change.
 *
 * Anything else kills the process: the filter traps, the handler of
 * scfilter.c writes "bastiond-peerwatch: system call N (NAME) is outside
 * its seccomp allowlist: killed" to standard error (the listener's, so
 * the journal) and the helper dies of SIGSYS, which the listener logs;
 * the handler cannot be replaced (rt_sigaction(SIGSYS) kills outright).
 * Sanitizer builds invert it, as bastiond's child's.
 */
#include <errno.h>
#include <sched.h>
#include <sys/socket.h>

#include "peerwatch.h"
#include "scfilter.h"

static const int pwsandbox_allow[] = {
	SCFILTER_CALLS_IO,
	SCFILTER_CALLS_RUNTIME,
	/* the store actor's, the recorder's and the journal's sockets */
	SCMP_SYS(connect),
	/* the audit chain appended directly (no store actor) */
	SCMP_SYS(flock), SCMP_SYS(ftruncate),
	/* libpq's SIGPIPE mask around a send */
	SCMP_SYS(rt_sigpending), SCMP_SYS(rt_sigtimedwait),
	/* OpenSSL and glibc asking about the machine */
	SCMP_SYS(clock_getres), SCMP_SYS(sched_getaffinity),
};

/* Decided by an argument. */
static const struct scfilter_rule pwsandbox_allow_checked[] = {
	/* signal handlers, but not SIGSYS's (the report's) */
	SCFILTER_RULES_KEEP_TRAP,
	SCF_IS32_SELF(SCMP_ACT_ALLOW, kill, 0),
	SCF_IS32_SELF(SCMP_ACT_ALLOW, tgkill, 0),
	SCF_IS32(SCMP_ACT_ALLOW, prlimit64, 0, 0),
	/* local sockets only: any other family kills */
	SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_UNIX),
};

/* Sanitizer builds: all but these (LeakSanitizer clones and ptraces). */
static const int pwsandbox_deny[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(mount),
	SCMP_SYS(chroot), SCMP_SYS(setuid), SCMP_SYS(setgid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept4),
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(bpf), SCMP_SYS(keyctl),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(chmod), SCMP_SYS(fchmodat),
	SCMP_SYS(chown), SCMP_SYS(fchownat),
};

static const struct scfilter_rule pwsandbox_deny_checked[] = {
	SCF_NOT_SELF(SCMP_ACT_KILL_PROCESS, kill, 0),
	SCF_NOT(SCMP_ACT_KILL_PROCESS, socket, 0, AF_UNIX),
};

static const struct scfilter pwsandbox_strict = SCFILTER_OF(
    SCMP_ACT_TRAP, SCMP_ACT_ALLOW, pwsandbox_allow, pwsandbox_allow_checked);
static const struct scfilter pwsandbox_sanitizer = SCFILTER_OF(
    SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, pwsandbox_deny,
    pwsandbox_deny_checked);

int
peerwatch_sandbox(void)
{
	return (scfilter_install(SCFILTER_SANITIZER ? &pwsandbox_sanitizer :
	    &pwsandbox_strict, PEERWATCH_HELPER));
}
