/*
 * ssandbox.c - bastion-ship's own system call filter, installed once its
 * policy, credentials, recorder key, ledger directory and audit chain
 * are set up and before its first request to the object store: before
 * it reads a byte of a reply (bastion-ship.c). The filter is data given
 * to the shared builder (base/scfilter.h), as bastiond's child's is
 * (bastion/sandbox.c).
 *
 * What ship and fetch do from then on: HTTP(S) requests with libcurl
 * (new AF_INET or AF_INET6 sockets for each, connect, poll; the threaded
 * resolver's thread and socketpair), OpenSSL (CA files read, getrandom),
 * the spool and the ledger read, the ledger and fetched files written
 * (create, link, rename, unlink, fsync; memfds for small bodies), the
 * audit chain appended (flock, ftruncate of a torn line), memory, time,
 * signals to itself. A socket
 * of any other family is refused: AF_UNIX and AF_NETLINK fail with
 * EACCES (glibc's nscd probe, getaddrinfo's interface query fall back
 * quietly), any other kills. Paths are out of a filter's reach: the
 * unit's ReadWritePaths= and the ship user's permissions decide which
 * files; the filter decides which calls.
 *
 * Anything else kills the process: the filter traps, the handler of
 * scfilter.c writes "bastion-ship: system call N (NAME) is outside its
 * seccomp allowlist: killed" to standard error (the journal under
 * systemd; the auditor's console when a monitor runs fetch) and the
 * process dies of SIGSYS; the handler cannot be replaced
 * (rt_sigaction(SIGSYS) kills outright) nor blocked (the kernel unblocks
 * a trapped SIGSYS). Sanitizer builds invert it, as bastiond's child's.
 */
#include <errno.h>
#include <sched.h>
#include <sys/socket.h>

#include "scfilter.h"
#include "ship.h"

static const int ssandbox_allow[] = {
	SCFILTER_CALLS_IO,
	SCFILTER_CALLS_RUNTIME,
	/* descriptors: the spool's directories, stdio's dup2 */
	SCMP_SYS(dup2), SCMP_SYS(lstat), SCMP_SYS(fstatfs),
	SCMP_SYS(getdents64),
	/* a small object's body and a fetched by-id entry (s3.c, fetch.c) */
	SCMP_SYS(memfd_create),
	/* files read: the spool, the ledger, CA files */
	SCMP_SYS(openat), SCMP_SYS(faccessat2),
	/* and written: the ledger, fetched files, the audit chain */
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(flock), SCMP_SYS(ftruncate),
	/* the store's connections (socket itself below) */
	SCMP_SYS(connect),
	/* OpenSSL and glibc asking about the machine */
	SCMP_SYS(clock_getres), SCMP_SYS(sched_getaffinity),
};

/* Decided by an argument. */
static const struct scfilter_rule ssandbox_allow_checked[] = {
	/* signal handlers, but not SIGSYS's (the report's) */
	SCFILTER_RULES_KEEP_TRAP,
	/* the resolver's thread, no process; glibc falls back from clone3 */
	SCF_MASKED(SCMP_ACT_ALLOW, clone, 0, CLONE_THREAD, CLONE_THREAD),
	SCF_ANY(SCMP_ACT_ERRNO(ENOSYS), clone3),
	SCF_IS32_SELF(SCMP_ACT_ALLOW, kill, 0),
	SCF_IS32_SELF(SCMP_ACT_ALLOW, tgkill, 0),
	SCF_IS32(SCMP_ACT_ALLOW, prlimit64, 0, 0),
	SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_INET),
	SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_INET6),
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_UNIX),
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_NETLINK),
	SCF_IS(SCMP_ACT_ALLOW, socketpair, 0, AF_UNIX),
};

/* Sanitizer builds: all but these (LeakSanitizer clones and ptraces). */
static const int ssandbox_deny[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(mount),
	SCMP_SYS(chroot), SCMP_SYS(setuid), SCMP_SYS(setgid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept4),
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(bpf), SCMP_SYS(keyctl),
};

static const struct scfilter_rule ssandbox_deny_checked[] = {
	SCF_NOT_SELF(SCMP_ACT_KILL_PROCESS, kill, 0),
	/* as in the allowlist */
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_UNIX),
	SCF_IS(SCMP_ACT_ERRNO(EACCES), socket, 0, AF_NETLINK),
};

static const struct scfilter ssandbox_strict = SCFILTER_OF(
    SCMP_ACT_TRAP, SCMP_ACT_ALLOW, ssandbox_allow, ssandbox_allow_checked);
static const struct scfilter ssandbox_sanitizer = SCFILTER_OF(
    SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, ssandbox_deny,
    ssandbox_deny_checked);

int
ship_sandbox(void)
{
	return (scfilter_install(SCFILTER_SANITIZER ? &ssandbox_sanitizer :
	    &ssandbox_strict, "bastion-ship"));
}
