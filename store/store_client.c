/*
 * store_client.c - the client side of the store actor's socket (see
 * store_client.h; messages in store_wire.h). Plain blocking sockets with
 * poll(2) deadlines and MSG_NOSIGNAL: no event loop, so that it also
 * serves bastionctl and the monitors' synchronous code.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "err.h"
#include "store_client.h"
#include "store_wire.h"

int
store_client_connect(const char *state_dir, int *fd)
{
	struct sockaddr_un sun;
	int s, e;

	*fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", state_dir,
	    STORE_SOCK_FILE) >= (int)sizeof(sun.sun_path))
		return (BERR_LIMIT);
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return (BERR_SYS);
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		e = errno;
		close(s);
		return (e == ENOENT || e == ECONNREFUSED || e == EACCES ||
		    e == ENOTDIR ? BERR_NOTFOUND : BERR_SYS);
	}
	*fd = s;
	return (0);
}

static int
store_client_send(int fd, const struct store_msg *m)
{
	uint8_t out[STORE_MSG_MAX];
	size_t len;
	ssize_t n;
	int r;

	if ((r = store_msg_encode(m, out, sizeof(out), &len)) != 0)
		return (r);
	do
		n = send(fd, out, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return (n == (ssize_t)len ? 0 : BERR_CLOSED);
}

/* One message within timeout_ms: 0, BERR_TIMEOUT, BERR_CLOSED,
 * BERR_FORMAT. */
static int
store_client_recv(int fd, unsigned timeout_ms, struct store_msg *m)
{
	uint8_t in[STORE_MSG_MAX + 1];
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct timespec t0, t1;
	long left = (long)timeout_ms, spent;
	ssize_t n;
	int k;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((k = poll(&pfd, 1, (int)left)) < 0 && errno != EINTR)
			return (BERR_CLOSED);
		if (k > 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= (long)timeout_ms)
			return (BERR_TIMEOUT);
		left = (long)timeout_ms - spent;
	}
	do
		n = recv(fd, in, sizeof(in), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (BERR_CLOSED);
	if ((size_t)n > STORE_MSG_MAX)
		return (BERR_FORMAT);
	return (store_msg_decode(in, (size_t)n, m));
}

int
store_client_append(int fd, const char *body, uint64_t *seq,
    char hash[AUDITLOG_HEX_LEN + 1], char *err, size_t errlen)
{
	struct store_msg m;
	int r;

	if (errlen > 0)
		err[0] = '\0';
	if (strlen(body) > STORE_TEXT_MAX)
		return (BERR_INVAL);
	memset(&m, 0, sizeof(m));
	m.type = STORE_MSG_APPEND;
	memcpy(m.text, body, strlen(body) + 1);
	/* a refused connection was told why before it was closed */
	if ((r = store_client_send(fd, &m)) != 0)
		return (store_client_recv(fd, 0, &m) == 0 &&
		    m.type == STORE_MSG_ERROR ? m.code : r);
	if ((r = store_client_recv(fd, STORE_REPLY_TIMEOUT_MS, &m)) != 0)
		return (r == BERR_FORMAT ? BERR_CLOSED : r);
	if (m.type == STORE_MSG_ERROR) {
		snprintf(err, errlen, "%s", m.text);
		return (m.code);
	}
	if (m.type != STORE_MSG_APPENDED)
		return (BERR_CLOSED);
	*seq = m.seq;
	memcpy(hash, m.hash, AUDITLOG_HEX_LEN + 1);
	return (0);
}

/* Connect and send one kind/id message. */
static int
store_client_kind(const char *state_dir, int type, int kind, int64_t id,
    int *fdp)
{
	struct store_msg m;
	int fd, r;

	if ((r = store_client_connect(state_dir, &fd)) != 0)
		return (r);
	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.kind = (uint8_t)kind;
	m.id = id;
	if ((r = store_client_send(fd, &m)) != 0 || fdp == NULL) {
		close(fd);
		return (r);
	}
	*fdp = fd;
	return (0);
}

int
store_client_notify(const char *state_dir, int kind, int64_t id)
{
	return (store_client_kind(state_dir, STORE_MSG_NOTIFY, kind, id,
	    NULL));
}

int
store_client_subscribe(const char *state_dir, int kind, int64_t id, int *fd)
{
	*fd = -1;
	return (store_client_kind(state_dir, STORE_MSG_SUBSCRIBE, kind, id,
	    fd));
}

int
store_client_await(int fd, unsigned timeout_ms)
{
	struct store_msg m;
	int r;

	if ((r = store_client_recv(fd, timeout_ms, &m)) == BERR_TIMEOUT)
		return (0);
	if (r != 0)
		return (BERR_CLOSED);
	return (m.type == STORE_MSG_EVENT ? 1 : 0);
}
