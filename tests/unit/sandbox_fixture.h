/*
 * sandbox_fixture.h - what the unit tests of a program's own seccomp
 * filter share (test_ship_sandbox.c: bastion-ship's, ship/ssandbox.c;
 * test_peerwatch_sandbox.c: the peer-watch helper's, bastion/pwsandbox.c;
 * both on base/scfilter.c): run a body in a forked child once the
 * program's filter is installed there for real, collect its exit status
 * and standard error, and check that a forbidden call killed it with
 * SIGSYS and, in the ordinary build, that the line the filter's handler
 * wrote names the program and the call. Two bodies every such filter
 * must kill: execve, and replacing the SIGSYS handler.
 *
 * The test sets sandbox_fixture_install (the program's installer, 0 on
 * success) and sandbox_fixture_prog (its name in the report) first.
 */
#ifndef SANDBOX_FIXTURE_H
#define SANDBOX_FIXTURE_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "scfilter.h"

/* What the child did: its exit status, and its standard error. */
struct outcome {
	int status;
	char err[1024];
};

static int (*sandbox_fixture_install)(void);
static const char *sandbox_fixture_prog;

/* Run body in a child with the filter installed (exit 90 if it could
 * not be); collect its outcome. */
static void
run_confined(int (*body)(void), struct outcome *o)
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
		if (sandbox_fixture_install() != 0)
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

/* Killed by SIGSYS, nothing after it; the call named on standard error
 * when the filter trapped it (name not NULL, ordinary build). */
static void
expect_killed(int (*body)(void), const char *name)
{
	struct outcome o;
	char want[96];
	size_t plen = strlen(sandbox_fixture_prog);

	run_confined(body, &o);
	if (!WIFSIGNALED(o.status) || WTERMSIG(o.status) != SIGSYS)
		fail_msg("%s: not killed by SIGSYS (status %#x): %s",
		    name != NULL ? name : "-", o.status, o.err);
	if (SCFILTER_SANITIZER || name == NULL)
		return;		/* the inverted filter kills without a word */
	snprintf(want, sizeof(want), "(%s) is outside its seccomp allowlist: "
	    "killed\n", name);
	if (strncmp(o.err, sandbox_fixture_prog, plen) != 0 ||
	    strncmp(o.err + plen, ": system call ", 14) != 0 ||
	    strstr(o.err, want) == NULL)
		fail_msg("%s: stderr %s", name, o.err);
}

static int
execve_body(void)
{
	char *argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
	return (20);		/* not reached: killed */
}

static int
sigsys_handler_body(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGSYS, &sa, NULL);
	return (23);
}

static void
test_execve_kills(void **state)
{
	(void)state;
	expect_killed(execve_body, "execve");
}

static void
test_sigsys_handler_kept(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();
	/* killed outright, before any handler could run */
	expect_killed(sigsys_handler_body, NULL);
}

#endif
