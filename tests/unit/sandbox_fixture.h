/*
 * sandbox_fixture.h - what the tests of the programs' own seccomp filters
 * share (test_ship_sandbox.c, test_rec_sandbox.c): run a body in a
 * forked child once the program's filter is installed there, collecting
 * the child's exit status and standard error; the child's seccomp mode
 * from /proc/self/status; the calls every such filter must refuse
 * (execve, ptrace, replacing the SIGSYS handler); and the check that a
 * child died of SIGSYS with the call named on its standard error by
 * base/scfilter.c's handler. Header-only (static inline), as every
 * tests/unit/test_*.c is its own program; include it after <cmocka.h>.
 */
#ifndef BASTION_SANDBOX_FIXTURE_H
#define BASTION_SANDBOX_FIXTURE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "scfilter.h"

/* What the child did: its exit status, and its standard error. */
struct outcome {
	int status;
	char err[1024];
};

/*
 * Fork; in the child, standard error to a pipe, install() (the program's
 * setup and filter; non-zero: exit 90), then exit with body()'s value.
 * The parent collects the outcome.
 */
static inline void
sbx_run(int (*install)(void), int (*body)(void), struct outcome *o)
{
	int pfd[2];
	ssize_t k;
	size_t n = 0;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	assert_int_equal(pipe(pfd), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDERR_FILENO);
		if (install() != 0)
			_exit(90);
		_exit(body());
	}
	close(pfd[1]);
	while (n + 1 < sizeof(o->err) &&
	    (k = read(pfd[0], o->err + n, sizeof(o->err) - 1 - n)) > 0)
		n += (size_t)k;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &o->status, 0), pid);
}

/* The calling process's "Seccomp:" (2: a filter), -1 if unreadable. */
static inline int
sbx_seccomp_mode(void)
{
	char line[256];
	FILE *f;
	int mode = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Seccomp:", 8) == 0)
			mode = atoi(line + 8);
	fclose(f);
	return (mode);
}

/* Bodies no filter lets live: each returns only when not killed. */
static inline int
sbx_execve_body(void)
{
	char *argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
	return (80);
}

static inline int
sbx_ptrace_body(void)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return (81);
}

static inline int
sbx_sigsys_handler_body(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGSYS, &sa, NULL);
	return (82);
}

/*
 * The child was killed by SIGSYS, and, when the filter trapped the call
 * (name not NULL, ordinary build), its standard error starts "WHO: system
 * call " and names it.
 */
static inline void
sbx_check_killed(const struct outcome *o, const char *who, const char *name)
{
	char want[96];

	if (!WIFSIGNALED(o->status) || WTERMSIG(o->status) != SIGSYS)
		fail_msg("%s: not killed by SIGSYS (status %#x): %s",
		    name != NULL ? name : "-", o->status, o->err);
	if (SCFILTER_SANITIZER || name == NULL)
		return;		/* the inverted filter kills without a word */
	snprintf(want, sizeof(want), "%s: system call ", who);
	if (strncmp(o->err, want, strlen(want)) != 0)
		fail_msg("%s: stderr %s", name, o->err);
	snprintf(want, sizeof(want), "(%s) is outside its seccomp allowlist: "
	    "killed\n", name);
	if (strstr(o->err, want) == NULL)
		fail_msg("%s: stderr %s", name, o->err);
}

/* sbx_run() and sbx_check_killed() in one: body killed under install(). */
static inline void
sbx_expect_killed(int (*install)(void), const char *who, int (*body)(void),
    const char *name)
{
	struct outcome o;

	sbx_run(install, body, &o);
	sbx_check_killed(&o, who, name);
}

#endif
