/*
 * test_ship_sandbox.c - bastion-ship's system call filter (ship/ssandbox.c
 * on base/scfilter.c), installed for real in a forked child each time:
 * what shipping needs still works under it (a file written, linked,
 * renamed and removed, an AF_INET socket, a socketpair, getrandom, a
 * thread); AF_UNIX and AF_NETLINK sockets fail with EACCES; only the
 * endpoint's Internet family is allowed (both for a name); a call
 * outside the list (execve, ptrace) kills the process with SIGSYS and,
 * in the ordinary build, the line on its standard error names the call;
 * replacing the SIGSYS handler kills it too. /proc/self/status says
 * "Seccomp: 2" once installed. The e2e test (test_recording_ship.py)
 * runs the real program under it against a real S3 server.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "scfilter.h"
#include "ship.h"
#include "sandbox_fixture.h"

/* The store's endpoint the filter is made for (its socket families). */
static const char *endpoint = "127.0.0.1:9000";

/* bastion-ship's installer, for the endpoint above */
static int
ship_install(void)
{
	struct s3 s;

	memset(&s, 0, sizeof(s));
	snprintf(s.host, sizeof(s.host), "%s", endpoint);
	return (ship_sandbox(&s));
}

static int
seccomp_mode(void)
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

static void *
thread_main(void *arg)
{
	return (arg);
}

/* The directory the parent made for the child (mkdir is not ship's:
 * its ledger directory is made before the filter). */
static char work[64];

/* What ship and fetch do: each step's failure is its own exit code. */
static int
allowed_body(void)
{
	char a[128], b[128], c[128];
	unsigned char rnd[16];
	pthread_t t;
	void *ret = NULL;
	int fd, sv[2];

	if (seccomp_mode() != 2)
		return (10);
	snprintf(a, sizeof(a), "%s/ledger.tmp", work);
	snprintf(b, sizeof(b), "%s/ledger", work);
	snprintf(c, sizeof(c), "%s/fetched.brec", work);
	if ((fd = open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, "x\n", 2) != 2 || fsync(fd) != 0 || close(fd) != 0)
		return (11);
	if (rename(a, b) != 0 || link(b, c) != 0 || unlink(b) != 0)
		return (12);
	if ((fd = open(c, O_RDONLY | O_CLOEXEC)) < 0 || close(fd) != 0 ||
	    unlink(c) != 0)
		return (13);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return (14);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    close(fd) != 0)
		return (15);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return (16);
	close(sv[0]);
	close(sv[1]);
	/* refused quietly, as glibc's probes expect */
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EACCES ||
	    socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EACCES)
		return (17);
	if (pthread_create(&t, NULL, thread_main, work) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != work)
		return (18);
	return (0);
}

/* A socket of the family and type below, closed again. */
static int sock_family = AF_INET, sock_type = SOCK_STREAM;

static int
socket_body(void)
{
	int fd;

	if ((fd = socket(sock_family, sock_type, 0)) < 0)
		return (30);
	close(fd);
	return (0);
}

static int
ptrace_body(void)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return (21);
}

static void
test_allowed(void **state)
{
	struct outcome o;
	char tmpl[] = "/tmp/test_ship_sandbox.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(work, sizeof(work), "%s", tmpl);
	run_confined(allowed_body, &o);
	rmdir(tmpl);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("status %#x, stderr: %s", o.status, o.err);
}

/* Killed, or else (no name) exit 0, for a socket of family and type. */
static void
expect_socket(int family, int type, const char *killed)
{
	struct outcome o;

	sock_family = family;
	sock_type = type;
	if (killed != NULL) {
		expect_killed(socket_body, killed);
		return;
	}
	run_confined(socket_body, &o);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("socket(%d) for %s: status %#x: %s", family, endpoint,
		    o.status, o.err);
}

static void
test_ptrace_kills(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();		/* LeakSanitizer needs it */
	expect_killed(ptrace_body, "ptrace");
}

static void
test_other_socket_family_kills(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();
	expect_socket(AF_PACKET, SOCK_RAW, "socket");
}

/* The endpoint's families: an IPv4 address, an IPv6 one, a name. */
static void
test_socket_families_of_the_endpoint(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();
	endpoint = "127.0.0.1:9000";
	expect_socket(AF_INET, SOCK_STREAM, NULL);
	expect_socket(AF_INET6, SOCK_STREAM, "socket");
	endpoint = "[::1]:9000";
	expect_socket(AF_INET6, SOCK_STREAM, NULL);
	expect_socket(AF_INET, SOCK_STREAM, "socket");
	endpoint = "s3.example.org";
	expect_socket(AF_INET, SOCK_DGRAM, NULL);
	expect_socket(AF_INET6, SOCK_DGRAM, NULL);
	endpoint = "127.0.0.1:9000";
}

int
main(void)
{
	sandbox_fixture_install = ship_install;
	sandbox_fixture_prog = "bastion-ship";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_execve_kills),
		cmocka_unit_test(test_ptrace_kills),
		cmocka_unit_test(test_other_socket_family_kills),
		cmocka_unit_test(test_socket_families_of_the_endpoint),
		cmocka_unit_test(test_sigsys_handler_kept),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
