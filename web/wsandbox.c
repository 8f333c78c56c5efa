/*
 * wsandbox.c - bastion-webd's own system call filter, installed once
 * the daemon has its socket, its TLS key and certificate and its static
 * files (the pattern of bastion/sandbox.c, with webd's own list).
 *
 * What webd does from then on: its one loop (epoll, timers, eventfd),
 * accept TLS connections on the socket it was given, read and write
 * them, open AF_UNIX connections to web.sock (socket() is allowed for
 * AF_UNIX only; any other family kills), memory (GnuTLS allocates),
 * time and randomness. No open() for writing, no exec, no new process,
 * no id change: any other call kills the process
 * (SECCOMP_RET_KILL_PROCESS), and systemd restarts it.
 *
 * Sanitizer builds (make check-asan) install no filter: LeakSanitizer
 * needs ptrace and clone at exit. The unit adds systemd's own filter
 * (SystemCallFilter=@system-service, systemd/bastion-webd.service)
 * whatever the build.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "err.h"
#include "log.h"
#include "web.h"

#if defined(__SANITIZE_ADDRESS__)
#define WSANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WSANDBOX_SANITIZER 1
#endif
#endif
#ifndef WSANDBOX_SANITIZER
#define WSANDBOX_SANITIZER 0
#endif

static const int wsandbox_allow[] = {
	/* the loop and its descriptors */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(eventfd2), SCMP_SYS(pipe2),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(ioctl), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	/* the listening socket, the browsers, web.sock */
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(connect),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* memory, time, randomness, signals, the end */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getrandom), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(futex), SCMP_SYS(sched_yield),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* syslog through the journal's socket */
	SCMP_SYS(sendmmsg),
};

int
wsandbox_apply(void)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r = 0;

	if (WSANDBOX_SANITIZER) {
		log_debug("sandbox: none in a sanitizer build");
		return (0);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("sandbox: cannot set no_new_privs: %s",
		    strerror(errno));
		return (BERR_SYS);
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_error("sandbox: seccomp_init failed (libseccomp API "
		    "level %u; under systemd, SystemCallFilter= must allow "
		    "\"seccomp\")", seccomp_api_get());
		return (BERR_SYS);
	}
	for (i = 0; r == 0 && i < sizeof(wsandbox_allow) /
	    sizeof(wsandbox_allow[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, wsandbox_allow[i], 0);
	/* new sockets: AF_UNIX only (web.sock, the journal) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* opens: read-only (glibc's time zone and the like) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
		    O_APPEND, 0));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r != 0) {
		log_error("sandbox: cannot install the system call filter: %s",
		    strerror(-r));
		return (BERR_SYS);
	}
	return (0);
}
