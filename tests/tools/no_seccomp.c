/*
 * no_seccomp - run a program where the seccomp() system call is refused,
 * as a systemd unit whose SystemCallFilter= lacks "seccomp" runs it, for
 * the end-to-end tests of the programs' own filters.
 *
 *   no_seccomp PROGRAM [ARG]...
 *
 * Installs a filter that answers seccomp() with EPERM (and allows
 * everything else), then executes PROGRAM. Exits 2 on a usage error, 3
 * if the filter cannot be installed, 4 if PROGRAM cannot be executed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <seccomp.h>

int
main(int argc, char **argv)
{
	scmp_filter_ctx ctx;

	if (argc < 2) {
		fprintf(stderr, "usage: no_seccomp PROGRAM [ARG]...\n");
		return (2);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    (ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(seccomp),
	    0) != 0 || seccomp_load(ctx) != 0) {
		fprintf(stderr, "no_seccomp: cannot install the filter\n");
		return (3);
	}
	seccomp_release(ctx);
	execv(argv[1], argv + 1);
	fprintf(stderr, "no_seccomp: %s: %s\n", argv[1], strerror(errno));
	return (4);
}
