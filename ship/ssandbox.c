/*
 * ssandbox.c - bastion-ship's own system call filter, installed once its
 * policy, credentials, recorder key, ledger directory and audit chain
 * are set up and before its first request to the object store: before
 * it reads a byte of a reply (bastion-ship.c). The filter is data given
 * to the shared builder (base/scfilter.h), as bastiond's child's is
 * (bastion/sandbox.c).
 *
 * What ship and fetch do from then on: HTTP(S) requests with libcurl
 * (new sockets for each, connect, poll; the threaded resolver's thread
 * and socketpair), OpenSSL (CA files read, getrandom), the spool and the
 * ledger read, the ledger and fetched files written (create, link,
 * rename, unlink, fsync; memfds for small bodies), the audit chain
 * appended (flock, ftruncate of a torn line), memory, time, signals to
 * itself. Sockets of the endpoint's Internet family only (an address's
 * own, both for a name); AF_UNIX and AF_NETLINK fail with EACCES
 * (glibc's nscd probe, getaddrinfo's interface query fall back quietly),
 * any other family kills. Paths are out of a filter's reach: the unit's
 * ReadWritePaths= and the ship user's permissions decide which files;
 * the filter decides which calls.
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
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "log.h"
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
	/* the resolver's thread, no process; signals to itself */
	SCFILTER_RULES_THREADS_SELF,
	/* AF_INET, AF_INET6: as the endpoint needs (ship_sandbox) */
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

/*
 * The Internet families the endpoint needs (host is "HOST[:PORT]"): an
 * address names its own ("[...]" IPv6, a dotted quad IPv4); a name needs
 * both (the resolver's queries, either kind of answer).
 */
static void
ssandbox_families(const char *host, int *v4, int *v6)
{
	struct in_addr a;
	char h[64];
	size_t n = strcspn(host, ":");

	*v4 = *v6 = 1;
	if (host[0] == '[')
		*v4 = 0;
	else if (n < sizeof(h)) {
		memcpy(h, host, n);
		h[n] = '\0';
		if (inet_pton(AF_INET, h, &a) == 1)
			*v6 = 0;
	}
}

int
ship_sandbox(const struct s3 *s)
{
	static const struct scfilter_rule inet4 =
	    SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_INET);
	static const struct scfilter_rule inet6 =
	    SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_INET6);
	struct scfilter_rule rules[SCF_COUNT(ssandbox_allow_checked) + 2];
	struct scfilter f = ssandbox_strict;
	size_t n = SCF_COUNT(ssandbox_allow_checked);
	int v4, v6;

	if (SCFILTER_SANITIZER)
		return (scfilter_install(&ssandbox_sanitizer, "bastion-ship"));
	ssandbox_families(s->host, &v4, &v6);
	memcpy(rules, ssandbox_allow_checked, sizeof(ssandbox_allow_checked));
	if (v4)
		rules[n++] = inet4;
	if (v6)
		rules[n++] = inet6;
	f.checked = rules;
	f.nchecked = n;
	log_debug("sandbox: sockets for %s: %s%s%s", s->host,
	    v4 ? "AF_INET" : "", v4 && v6 ? " " : "", v6 ? "AF_INET6" : "");
	return (scfilter_install(&f, "bastion-ship"));
}
