/*
 * monitor_wire.c - the wire between a connection's monitor and its child
 * (privsep.h): one message per SOCK_SEQPACKET datagram, a type byte and
 * a body of at most MREQ_MSG_MAX bytes, with up to MREQ_MAX_FDS
 * descriptors as SCM_RIGHTS. Both sides use these two functions: a
 * message that was cut, or carries more descriptors than asked for, is
 * refused, and no descriptor that came with it leaks.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "buf.h"
#include "err.h"
#include "monitor_req.h"

int
mreq_send(int fd, int type, const struct buf *body, const int *fds,
    int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * MREQ_MAX_FDS)];
	} cm;
	uint8_t t = (uint8_t)type;
	size_t len = body != NULL ? buf_len(body) : 0;
	struct cmsghdr *c;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	if (len + 1 > MREQ_MSG_MAX || nfds < 0 || nfds > MREQ_MAX_FDS)
		return (BERR_LIMIT);
	memset(&mh, 0, sizeof(mh));
	iov[0].iov_base = &t;
	iov[0].iov_len = 1;
	iov[1].iov_base = (void *)(len > 0 ? buf_ptr(body) : NULL);
	iov[1].iov_len = len;
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return (n == (ssize_t)(len + 1) ? 0 : BERR_CLOSED);
}

int
mreq_recv(int fd, int *type, struct buf **body, int *fds, int *nfds,
    int timeout_ms)
{
	static uint8_t m[MREQ_MSG_MAX + 1];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * (MREQ_MAX_FDS + 2))];
	} cm;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int room = nfds != NULL ? *nfds : 0, got = 0, r = 0, i, k, *p;
	struct cmsghdr *c;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	*type = 0;
	*body = NULL;
	if (nfds != NULL)
		*nfds = 0;
	if (timeout_ms >= 0) {
		while ((k = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
			continue;
		if (k == 0)
			return (BERR_TIMEOUT);
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = m;
	iov.iov_len = sizeof(m);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (BERR_CLOSED);
	/* descriptors first: whatever happens, none may leak */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		p = (int *)(void *)CMSG_DATA(c);
		for (i = 0; i < k; i++) {
			if (got < room)
				fds[got++] = p[i];
			else {
				close(p[i]);
				r = BERR_LIMIT;
			}
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (size_t)n > MREQ_MSG_MAX)
		r = BERR_LIMIT;
	if (r == 0 && (*body = buf_from(m + 1, (size_t)n - 1)) == NULL)
		r = BERR_NOMEM;
	*type = m[0];
	/* answers to PAM prompts pass here: leave no copy */
	explicit_bzero(m, (size_t)n);
	if (r != 0) {
		while (got > 0)
			close(fds[--got]);
		buf_free(*body);
		*body = NULL;
		return (r);
	}
	if (nfds != NULL)
		*nfds = got;
	return (0);
}
