/*
 * test_rec_sandbox.c - bastion-recorder's system call filter
 * (recorder/lib/recsandbox.c on base/scfilter.c), installed for real in
 * a forked child each time, after the setup the recorder does before
 * it (a signing key, age recipients, a listening socket): what
 * recording needs still works under it (a worker's connection accepted
 * and its descriptor received with SCM_RIGHTS, SO_PEERCRED, the day's
 * directory made, a recording created, appended, synced, truncated and
 * removed, the free space, an Ed25519 signature, an age header, a
 * thread of the pool); socket(AF_UNIX) fails with EACCES, or, with the
 * store actor's socket (-a), connects; a call outside the list
 * (execve, ptrace, an AF_INET socket, connect without -a) kills the
 * process with SIGSYS and, in the ordinary build, the line on its
 * standard error names the call; replacing the SIGSYS handler kills it
 * too. /proc/self/status says "Seccomp: 2" once installed. The e2e test
 * (test_recorder_sandbox.py) looks at the running recorder.
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
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "age.h"
#include "buf.h"
#include "reckey.h"
#include "recsandbox.h"
#include "sandbox_fixture.h"
#include "scfilter.h"

/* What the recorder has set up before its filter. */
static struct {
	struct reckey *key;
	uint8_t pub[AGE_KEY_LEN];
	int listener;
	int sv[2];		/* a worker's connection */
	struct sockaddr_un sun;
} setup;

/* The directory the parent made for the child (the recordings'). */
static char work[64];
/* -a: the store actor's socket */
static int store_socket;

static void
child_setup(void)
{
	uint8_t sec[AGE_KEY_LEN];

	if (reckey_generate(&setup.key) != 0 ||
	    age_identity_generate(sec) != 0 ||
	    age_identity_public(sec, setup.pub) != 0)
		_exit(91);
	memset(&setup.sun, 0, sizeof(setup.sun));
	setup.sun.sun_family = AF_UNIX;
	snprintf(setup.sun.sun_path, sizeof(setup.sun.sun_path), "%s/rec.sock",
	    work);
	(void)unlink(setup.sun.sun_path);
	if ((setup.listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) < 0 || bind(setup.listener, (struct sockaddr *)&setup.sun,
	    sizeof(setup.sun)) != 0 || listen(setup.listener, 4) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, setup.sv) != 0)
		_exit(92);
}

/* In the child: the recorder's setup, then its filter. */
static int
install(void)
{
	struct rec_sandbox_opts opts;

	child_setup();
	memset(&opts, 0, sizeof(opts));
	opts.store_socket = store_socket;
	return (rec_sandbox(&opts));
}

static void *
thread_main(void *arg)
{
	return (arg);
}

/* A worker's connection: its socket's end arrives as a descriptor
 * (SCM_RIGHTS, as a worker passes the recording's), its peer's
 * credentials asked; accept4 on the listening socket. */
static int
accept_and_receive(int *sv)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'x';
	struct iovec iov = { &c, 1 };
	struct msghdr m;
	struct cmsghdr *cm;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd = -1, got;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
	if (sendmsg(sv[0], &m, 0) != 1)
		return (20);
	m.msg_controllen = sizeof(cbuf);
	if (recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) != 1 ||
	    (cm = CMSG_FIRSTHDR(&m)) == NULL || cm->cmsg_type != SCM_RIGHTS)
		return (21);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	close(got);
	if (getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    cred.pid != getpid())
		return (22);
	/* nobody is waiting: accept4 on the listener says so, not SIGSYS */
	(void)fcntl(setup.listener, F_SETFL, O_NONBLOCK);
	if ((fd = accept4(setup.listener, NULL, NULL, SOCK_CLOEXEC)) != -1 ||
	    errno != EAGAIN)
		return (23);
	return (0);
}

/* A recording's life on disk: the day's directory, the file created,
 * appended, cut back, synced, read and removed; the free space. */
static int
write_recording(void)
{
	char dir[128], path[192];
	struct iovec iov[2] = { { "head", 4 }, { "frame\n", 6 } };
	struct statvfs vfs;
	int fd;

	snprintf(dir, sizeof(dir), "%s/2026", work);
	snprintf(path, sizeof(path), "%s/x.brec", dir);
	if (mkdir(dir, 0750) != 0 || statvfs(work, &vfs) != 0)
		return (30);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 || fchmod(fd, 0640) != 0 ||
	    writev(fd, iov, 2) != 10 || ftruncate(fd, 4) != 0 ||
	    fdatasync(fd) != 0 || close(fd) != 0)
		return (31);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || close(fd) != 0 ||
	    unlink(path) != 0)
		return (32);
	return (0);
}

/* What the recorder does after its setup: each step its own exit code. */
static int
allowed_body(void)
{
	uint8_t sig[REC_SIG_LEN], fk[AGE_FILE_KEY_LEN];
	unsigned char rnd[16];
	struct buf *b;
	pthread_t t;
	void *ret = NULL;
	int r;

	if (sbx_seccomp_mode() != 2)
		return (10);
	if ((r = accept_and_receive(setup.sv)) != 0)
		return (r);
	if ((r = write_recording()) != 0)
		return (r);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
	    reckey_sign(setup.key, rnd, sizeof(rnd), sig) != 0 ||
	    reckey_verify(setup.key, rnd, sizeof(rnd), sig) != 0)
		return (40);
	if ((b = buf_new(512)) == NULL ||
	    getrandom(fk, sizeof(fk), 0) != (ssize_t)sizeof(fk) ||
	    age_header_write(fk, (const uint8_t (*)[AGE_KEY_LEN])setup.pub,
	    1, b) != 0)
		return (41);
	buf_free(b);
	if (pthread_create(&t, NULL, thread_main, work) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != work)
		return (42);
	if (!store_socket && (socket(AF_UNIX, SOCK_STREAM, 0) != -1 ||
	    errno != EACCES))
		return (43);
	if (unlink(setup.sun.sun_path) != 0)
		return (44);
	return (0);
}

/* -a: the store actor's socket is made and connected (to the listener
 * here, nobody accepting: connect to a listening socket succeeds). */
static int
store_body(void)
{
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return (50);
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&setup.sun, sizeof(setup.sun)) != 0)
		return (51);
	close(fd);
	return (0);
}

static int
inet_socket_body(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return (60);		/* not reached: killed */
}

/* connect on a socket the recorder already has (without -a) */
static int
connect_body(void)
{
	(void)connect(setup.listener, (struct sockaddr *)&setup.sun,
	    sizeof(setup.sun));
	return (61);
}

/* a process, not a thread */
static int
fork_body(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return (64);
}

static void
expect_exit0(int (*body)(void), const char *what)
{
	struct outcome o;
	char tmpl[] = "/tmp/test_rec_sandbox.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	snprintf(work, sizeof(work), "%s", tmpl);
	sbx_run(install, body, &o);
	(void)unlink(setup.sun.sun_path);
	rmdir(tmpl);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("%s: status %#x, stderr: %s", what, o.status, o.err);
}

/* Killed by SIGSYS, nothing after it; the call named on standard error
 * when the filter trapped it (name not NULL, ordinary build). */
static void
expect_killed(int (*body)(void), const char *name)
{
	struct outcome o;
	char tmpl[] = "/tmp/test_rec_sandbox.XXXXXX", want[96];

	assert_non_null(mkdtemp(tmpl));
	snprintf(work, sizeof(work), "%s", tmpl);
	sbx_run(install, body, &o);
	snprintf(want, sizeof(want), "%s/rec.sock", tmpl);
	(void)unlink(want);
	rmdir(tmpl);
	sbx_check_killed(&o, "bastion-recorder", name);
}

static void
test_recording_allowed(void **state)
{
	(void)state;
	store_socket = 0;
	expect_exit0(allowed_body, "recording");
	store_socket = 1;
	expect_exit0(allowed_body, "recording with -a");
}

static void
test_store_socket_only_with_a(void **state)
{
	(void)state;
	store_socket = 1;
	expect_exit0(store_body, "store socket with -a");
	if (SCFILTER_SANITIZER)
		return;
	store_socket = 0;
	expect_killed(connect_body, "connect");
}

static void
test_inet_socket_kills(void **state)
{
	(void)state;
	store_socket = 0;
	expect_killed(inet_socket_body, "socket");
	store_socket = 1;
	expect_killed(inet_socket_body, "socket");
}

static void
test_execve_kills(void **state)
{
	(void)state;
	store_socket = 1;
	expect_killed(sbx_execve_body, "execve");
}

static void
test_ptrace_and_fork_kill(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();		/* LeakSanitizer needs them */
	store_socket = 1;
	expect_killed(sbx_ptrace_body, "ptrace");
	expect_killed(fork_body, "clone");
}

static void
test_sigsys_handler_kept(void **state)
{
	(void)state;
	if (SCFILTER_SANITIZER)
		skip();
	store_socket = 0;
	/* killed outright, before any handler could run */
	expect_killed(sbx_sigsys_handler_body, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recording_allowed),
		cmocka_unit_test(test_store_socket_only_with_a),
		cmocka_unit_test(test_inet_socket_kills),
		cmocka_unit_test(test_execve_kills),
		cmocka_unit_test(test_ptrace_and_fork_kill),
		cmocka_unit_test(test_sigsys_handler_kept),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
