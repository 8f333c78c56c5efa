/*
 * nodelay.c - EXPERIMENT ONLY, never part of the product: what would
 * TCP_NODELAY on the bastion's TCP sockets change?
 *
 *   BENCH_BASTION_PRELOAD=bench/shims/nodelay.c make bench
 *
 * bench.py compiles this and starts bastiond with LD_PRELOAD, so every
 * worker inherits it. The worker calls getpeername() on the engineer's
 * socket (fd 3) first thing, and libssh connect()s the device socket: both
 * get TCP_NODELAY here, as OpenSSH's sshd does for interactive sessions.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void
nodelay(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), tl;
	int one = 1, type = 0;

	tl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	    type == SOCK_STREAM &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

int
connect(int fd, const struct sockaddr *a, socklen_t l)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	int r;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "connect");
	r = real(fd, a, l);
	nodelay(fd);
	return (r);
}

int
getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "getpeername");
	nodelay(fd);
	return (real(fd, a, l));
}
