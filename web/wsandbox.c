/*
 * wsandbox.c - bastion-webd's own system call filter, installed once
 * the daemon has its socket, its TLS key and certificate and its static
 * files. The list is data given to the shared builder (base/scfilter.h),
 * as bastiond's child's (bastion/sandbox.c), bastion-ship's
 * (ship/ssandbox.c) and bastion-recorder's (recorder/lib/recsandbox.c)
 * are.
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
#include <fcntl.h>
#include <sys/socket.h>

#include "log.h"
#include "scfilter.h"
#include "web.h"

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

/* Decided by an argument. */
static const struct scfilter_rule wsandbox_allow_checked[] = {
	/* new sockets: AF_UNIX only (web.sock, the journal) */
	SCF_IS(SCMP_ACT_ALLOW, socket, 0, AF_UNIX),
	/* opens: read-only (glibc's time zone and the like) */
	SCF_MASKED(SCMP_ACT_ALLOW, openat, 2,
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, 0),
};

static const struct scfilter wsandbox_filter = SCFILTER_OF(
    SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, wsandbox_allow,
    wsandbox_allow_checked);

int
wsandbox_apply(void)
{
	if (SCFILTER_SANITIZER) {
		log_debug("sandbox: none in a sanitizer build");
		return (0);
	}
	return (scfilter_install(&wsandbox_filter, "bastion-webd"));
}
