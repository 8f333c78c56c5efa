/*
 * test_peerwatch_sandbox.c - the peer-watch helper's system call filter
 * (bastion/pwsandbox.c on base/scfilter.c), installed for real in a
 * forked child each time: what the helper does still works under it (an
 * AF_UNIX connection made to a listening socket, as to the recorder and
 * the store actor; the audit chain it holds open locked, appended,
 * truncated and synced; a chunk sealed with OpenSSL to an X25519 key; a
 * signal to itself); a call outside the list (open, execve, an AF_INET
 * socket, setuid, unlink) kills the process with SIGSYS and, in the
 * ordinary build, the line on its standard error names the call;
 * replacing the SIGSYS handler kills it too. /proc/self/status says
 * "Seccomp: 2" once installed. The e2e test (test_cross_watch.py) reads
 * the running helper's "Seccomp:" line during a real watch.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "age.h"
#include "peerwatch.h"
#include "scfilter.h"
#include "sandbox_fixture.h"

/* Made by the parent before each child: a listening socket's path, and
 * an open file standing for the audit chain. */
static struct sockaddr_un listening;
static int chain_fd = -1;
static uint8_t pub[AGE_KEY_LEN];

/* What the helper does: each step's failure is its own exit code. */
static int
allowed_body(void)
{
	static char sealed[4096];
	uint8_t pt[64];
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (11);
	if (connect(fd, (struct sockaddr *)&listening,
	    sizeof(listening)) != 0 || write(fd, "w", 1) != 1 || close(fd) != 0)
		return (12);
	if (flock(chain_fd, LOCK_EX) != 0 || write(chain_fd, "x\n", 2) != 2 ||
	    ftruncate(chain_fd, 1) != 0 || fsync(chain_fd) != 0 ||
	    flock(chain_fd, LOCK_UN) != 0)
		return (13);
	memset(pt, 'a', sizeof(pt));
	if (peerchunk_seal(pub, pt, sizeof(pt), sealed, sizeof(sealed)) != 0)
		return (14);
	if (kill(getpid(), 0) != 0)
		return (15);
	return (0);
}

/* Waits to be read from outside: /proc/self/status would be an open,
 * which the filter forbids. */
static int
mode_body(void)
{
	pause();
	return (0);
}

static int
open_body(void)
{
	(void)open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	return (20);		/* not reached: killed */
}

static int
inet_body(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return (22);
}

static int
setuid_body(void)
{
	if (setuid(0) != 0)
		return (23);
	return (26);
}

static int
unlink_body(void)
{
	(void)unlink("/tmp/test_peerwatch_sandbox.none");
	return (24);
}

#define expect_killed(body, name) \
	sbx_expect_killed(peerwatch_sandbox, PEERWATCH_HELPER, (body), (name))

static void
test_execve_kills(void **state)
{
	(void)state;
	expect_killed(sbx_execve_body, "execve");
}

static void
test_sigsys_handler_kept(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();
	/* killed outright, before any handler could run */
	expect_killed(sbx_sigsys_handler_body, NULL);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_peerwatch_sandbox.XXXXXX";
	uint8_t sec[AGE_KEY_LEN];
	int fd;

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return (-1);
	memset(&listening, 0, sizeof(listening));
	listening.sun_family = AF_UNIX;
	snprintf(listening.sun_path, sizeof(listening.sun_path), "%s/s",
	    tmpl);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&listening, sizeof(listening)) != 0 ||
	    listen(fd, 16) != 0)
		return (-1);
	chain_fd = -1;
	if (age_identity_generate(sec) != 0 || age_identity_public(sec,
	    pub) != 0)
		return (-1);
	return (0);
}

static void
test_allowed(void **state)
{
	struct outcome o;
	char path[] = "/tmp/test_peerwatch_sandbox.chain.XXXXXX";

	(void)state;
	assert_true((chain_fd = mkstemp(path)) >= 0);
	(void)unlink(path);
	sbx_run(peerwatch_sandbox, allowed_body, &o);
	close(chain_fd);
	chain_fd = -1;
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("status %#x, stderr: %s", o.status, o.err);
}

/* The child's "Seccomp:" line, read by the parent while it waits. */
static void
test_mode_2(void **state)
{
	char path[64], line[256];
	FILE *f;
	pid_t pid;
	int mode = -1, tries, st;

	(void)state;
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (peerwatch_sandbox() != 0)
			_exit(90);
		_exit(mode_body());
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (tries = 0; tries < 200 && mode != 2; tries++) {
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (strncmp(line, "Seccomp:", 8) == 0)
					mode = atoi(line + 8);
			fclose(f);
		}
		if (mode != 2)
			usleep(10000);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(mode, 2);
}

static void
test_open_kills(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();		/* LeakSanitizer reads /proc at exit */
	expect_killed(open_body, "openat");
}

static void
test_inet_socket_kills(void **state)
{
	(void)state;
	expect_killed(inet_body, "socket");
}

static void
test_setuid_kills(void **state)
{
	(void)state;
	expect_killed(setuid_body, "setuid");
}

static void
test_unlink_kills(void **state)
{
	(void)state;
	expect_killed(unlink_body, "unlink");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_mode_2),
		cmocka_unit_test(test_open_kills),
		cmocka_unit_test(test_execve_kills),
		cmocka_unit_test(test_inet_socket_kills),
		cmocka_unit_test(test_setuid_kills),
		cmocka_unit_test(test_unlink_kills),
		cmocka_unit_test(test_sigsys_handler_kept),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
