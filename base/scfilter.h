/*
 * scfilter.h - a seccomp system call filter described as data, built
 * and installed with libseccomp: the part every confined program of the
 * bastion shares. Each program keeps its own lists beside its code
 * (bastion/sandbox.c: a session's child; ship/ssandbox.c: bastion-ship;
 * recorder/lib/recsandbox.c: bastion-recorder; web/wsandbox.c:
 * bastion-webd; docs/SECCOMP.md) and hands them here as one struct
 * scfilter.
 *
 * A filter is: what any call not listed gets (otherwise), the calls
 * listed and what they get, and the calls decided by one of their
 * arguments (struct scfilter_rule, rules added in order). A rule may
 * compare with the installing process's own pid (signals to itself
 * only), known only when the filter is built.
 *
 * Sanitizer builds (make check-asan) use an inverted filter (everything
 * but a denylist: LeakSanitizer needs clone and ptrace at exit); each
 * program picks its pair with SCFILTER_SANITIZER.
 *
 * A filter whose otherwise is SCMP_ACT_TRAP reports before it kills:
 * scfilter_install() then installs a SIGSYS handler (run once, not
 * replaceable: the program's filter must kill rt_sigaction(SIGSYS, ...)
 * itself, SCFILTER_RULES_KEEP_TRAP) that writes "PROG: system call N
 * (NAME) is outside its seccomp allowlist: killed" to standard error
 * and dies of SIGSYS, so that the journal, or whoever reads its standard
 * error, names the call. The kernel logs it too (the filter's log
 * attribute is set).
 */
#ifndef BASTION_SCFILTER_H
#define BASTION_SCFILTER_H

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#if defined(__SANITIZE_ADDRESS__)
#define SCFILTER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCFILTER_SANITIZER 1
#endif
#endif
#ifndef SCFILTER_SANITIZER
#define SCFILTER_SANITIZER 0
#endif

/*
 * A rule on one argument of a system call: action when argument arg
 * compares (op; mask for SCMP_CMP_MASKED_EQ) with value, or with the
 * process's own pid (own_pid). op 0: whatever the arguments.
 */
struct scfilter_rule {
	uint32_t action;
	int nr;
	enum scmp_compare op;
	unsigned arg;
	scmp_datum_t mask;
	scmp_datum_t value;
	int own_pid;
};

#define SCF_ANY(act, sys) { (act), SCMP_SYS(sys), 0, 0, 0, 0, 0 }
#define SCF_IS(act, sys, a, v) \
	{ (act), SCMP_SYS(sys), SCMP_CMP_EQ, (a), 0, (v), 0 }
#define SCF_MASKED(act, sys, a, m, v) \
	{ (act), SCMP_SYS(sys), SCMP_CMP_MASKED_EQ, (a), (m), (v), 0 }
/* the low 32 bits of argument a are v, or the process's pid */
#define SCF_IS32(act, sys, a, v) SCF_MASKED(act, sys, a, 0xffffffffU, v)
#define SCF_IS32_SELF(act, sys, a) \
	{ (act), SCMP_SYS(sys), SCMP_CMP_MASKED_EQ, (a), 0xffffffffU, 0, 1 }
#define SCF_NOT(act, sys, a, v) \
	{ (act), SCMP_SYS(sys), SCMP_CMP_NE, (a), 0, (v), 0 }
#define SCF_NOT_SELF(act, sys, a) \
	{ (act), SCMP_SYS(sys), SCMP_CMP_NE, (a), 0, 0, 1 }
/* With otherwise = SCMP_ACT_TRAP: rt_sigaction for any signal but SIGSYS,
 * whose reporting handler nobody replaces (rt_sigaction must then not be
 * in the unconditional list). */
#define SCFILTER_RULES_KEEP_TRAP \
	SCF_IS32(SCMP_ACT_KILL_PROCESS, rt_sigaction, 0, SIGSYS), \
	SCF_NOT(SCMP_ACT_ALLOW, rt_sigaction, 0, SIGSYS)

/*
 * Threads but no process (clone only with CLONE_THREAD; clone3's flags
 * are out of a filter's reach: ENOSYS, and glibc falls back to clone),
 * signals to the process itself only (kill, tgkill: processes of one
 * uid could signal each other) and its own resource limits (prlimit64
 * with pid 0). Every allowlist of the bastion has these.
 */
#define SCFILTER_RULES_THREADS_SELF \
	SCF_MASKED(SCMP_ACT_ALLOW, clone, 0, CLONE_THREAD, CLONE_THREAD), \
	SCF_ANY(SCMP_ACT_ERRNO(ENOSYS), clone3), \
	SCF_IS32_SELF(SCMP_ACT_ALLOW, kill, 0), \
	SCF_IS32_SELF(SCMP_ACT_ALLOW, tgkill, 0), \
	SCF_IS32(SCMP_ACT_ALLOW, prlimit64, 0, 0)

/*
 * What every confined program of the bastion does, whatever else it
 * does: each allowlist starts with these two and adds its own.
 * SCFILTER_CALLS_IO: the descriptors it holds, sockets included (no new
 * socket, no open: each program decides those), waiting on them, and
 * glibc's second looks at a file (access, readlink).
 * SCFILTER_CALLS_RUNTIME: memory, time, identity, randomness, signal
 * masks (not handlers: rt_sigaction is the program's), threads' locks,
 * the end.
 */
#define SCFILTER_CALLS_IO \
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), \
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek), \
	SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(fcntl), \
	SCMP_SYS(ioctl), SCMP_SYS(fstat), SCMP_SYS(newfstatat), \
	SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(fsync), \
	SCMP_SYS(fdatasync), SCMP_SYS(pipe2), SCMP_SYS(eventfd2), \
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), \
	SCMP_SYS(sendmsg), SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg), \
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname), \
	SCMP_SYS(getpeername), SCMP_SYS(shutdown), SCMP_SYS(poll), \
	SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6), \
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(readlink)
#define SCFILTER_CALLS_RUNTIME \
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), \
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(clock_gettime), \
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), \
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid), \
	SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), \
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), \
	SCMP_SYS(getrandom), SCMP_SYS(uname), SCMP_SYS(sysinfo), \
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), \
	SCMP_SYS(restart_syscall), SCMP_SYS(sigaltstack), SCMP_SYS(futex), \
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield), \
	SCMP_SYS(getrlimit), SCMP_SYS(exit), SCMP_SYS(exit_group)

/* A whole filter. */
struct scfilter {
	const char *name;		/* the default action, for the log */
	uint32_t otherwise;
	uint32_t listed_action;
	const int *listed;
	size_t nlisted;
	const struct scfilter_rule *checked;
	size_t nchecked;
};

#define SCF_COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* A filter of two static arrays: the listed calls and the checked ones. */
#define SCFILTER_OF(otherwise, listed_action, listed, checked) \
	{ #otherwise, (otherwise), (listed_action), (listed), \
	    SCF_COUNT(listed), (checked), SCF_COUNT(checked) }

/*
 * Build f (not yet loaded) into *out, NULL on entry and on failure; the
 * caller releases it (seccomp_release). who names the program in the
 * log ("bastiond", "bastion-ship"). 0, or BERR_SYS when the kernel's
 * seccomp() is not usable (a service manager's filter without "seccomp":
 * the log says so) or a rule cannot be added, BERR_NOMEM.
 */
int scfilter_build(const struct scfilter *f, const char *who,
    scmp_filter_ctx *out);

/*
 * Set no_new_privs and load ctx into the calling process (all its
 * threads must be the caller). 0 or BERR_SYS, logged. Final: there is
 * no way back.
 */
int scfilter_load(scmp_filter_ctx ctx);

/*
 * Build, load and release f: scfilter_build() and scfilter_load(), plus
 * the reporting SIGSYS handler when f->otherwise is SCMP_ACT_TRAP (its
 * lines start "who: "). 0 or as those.
 */
int scfilter_install(const struct scfilter *f, const char *who);

#endif
