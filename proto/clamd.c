/*
 * clamd.c - the INSTREAM client of the import airlock (clamd.h): what is
 * written to clamd and how its reply is read. The reply is untrusted
 * (clamd runs as another user, and a socket can be anything): it is read
 * up to CLAMD_REPLY_MAX bytes, must end where clamd ends it, and only the
 * three shapes clamd writes are accepted; anything else is an error, and
 * an error refuses the file (fail closed).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clamd.h"
#include "err.h"

#define CLAMD_PREFIX	"stream: "

static int
clamd_printable(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return (0);
	return (1);
}

static int
clamd_ends(const uint8_t *p, size_t n, const char *tail)
{
	size_t t = strlen(tail);

	return (n >= t && memcmp(p + n - t, tail, t) == 0);
}

int
clamd_reply_parse(const uint8_t *p, size_t n, char *name, size_t namelen)
{
	size_t pl = sizeof(CLAMD_PREFIX) - 1;

	if (namelen > 0)
		name[0] = '\0';
	if (n == 0 || n > CLAMD_REPLY_MAX || (p[n - 1] != '\0' &&
	    p[n - 1] != '\n')) {
		snprintf(name, namelen, "clamd's reply was cut or too long");
		return (BERR_FORMAT);
	}
	n--;			/* the terminator */
	if (!clamd_printable(p, n)) {
		snprintf(name, namelen, "clamd's reply holds a byte that is "
		    "not printable");
		return (BERR_FORMAT);
	}
	if (clamd_ends(p, n, " ERROR")) {
		snprintf(name, namelen, "clamd: %.*s", (int)(n > 200 ? 200 :
		    n), (const char *)p);
		return (BERR_FORMAT);
	}
	if (n < pl || memcmp(p, CLAMD_PREFIX, pl) != 0) {
		snprintf(name, namelen, "clamd's reply is not about the "
		    "stream");
		return (BERR_FORMAT);
	}
	p += pl;
	n -= pl;
	if (n == 2 && memcmp(p, "OK", 2) == 0)
		return (CLAMD_CLEAN);
	if (clamd_ends(p, n, " FOUND") && n > 6 && n - 6 < CLAMD_NAME_MAX &&
	    memchr(p, ' ', n - 6) == NULL) {
		snprintf(name, namelen, "%.*s", (int)(n - 6),
		    (const char *)p);
		return (CLAMD_FOUND);
	}
	snprintf(name, namelen, "clamd's reply is neither OK, FOUND nor "
	    "ERROR");
	return (BERR_FORMAT);
}

/* Wait for events on fd for at most timeout_ms. 0 or BERR_TIMEOUT. */
static int
clamd_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return (r == 1 ? 0 : BERR_TIMEOUT);
}

/* All of p to sock. 0, BERR_TIMEOUT or BERR_CLOSED (clamd hung up, as it
 * does past its StreamMaxLength: its reply says why). */
static int
clamd_send(int sock, const uint8_t *p, size_t n, int timeout_ms)
{
	ssize_t w;

	while (n > 0) {
		if (clamd_wait(sock, POLLOUT, timeout_ms) != 0)
			return (BERR_TIMEOUT);
		w = send(sock, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return (BERR_CLOSED);
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

/* The reply, up to its NUL, at most CLAMD_REPLY_MAX bytes. */
static int
clamd_read_reply(int sock, int timeout_ms, char *name, size_t namelen)
{
	uint8_t rep[CLAMD_REPLY_MAX];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(rep) && (n == 0 || (rep[n - 1] != '\0' &&
	    rep[n - 1] != '\n'))) {
		if (clamd_wait(sock, POLLIN, timeout_ms) != 0) {
			snprintf(name, namelen, "clamd did not answer within "
			    "%d s", timeout_ms / 1000);
			return (BERR_TIMEOUT);
		}
		r = recv(sock, rep + n, sizeof(rep) - n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n == 0) {
		snprintf(name, namelen, "clamd closed the connection without "
		    "an answer");
		return (BERR_CLOSED);
	}
	return (clamd_reply_parse(rep, n, name, namelen));
}

int
clamd_scan_fd(int sock, int fd, uint64_t size, int timeout_ms,
    clamd_chunk_fn each, void *arg, char *name, size_t namelen)
{
	static const uint8_t cmd[] = "zINSTREAM";	/* with its NUL */
	uint8_t buf[4 + CLAMD_CHUNK];
	uint64_t off = 0;
	ssize_t got;
	size_t want;
	int r;

	if (namelen > 0)
		name[0] = '\0';
	if ((r = clamd_send(sock, cmd, sizeof(cmd), timeout_ms)) != 0)
		goto sent;
	while (off < size) {
		want = size - off > CLAMD_CHUNK ? CLAMD_CHUNK :
		    (size_t)(size - off);
		do
			got = pread(fd, buf + 4, want, (off_t)off);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			snprintf(name, namelen, "the quarantined file could not "
			    "be read back (%s)", got < 0 ? strerror(errno) :
			    "it is shorter than its size");
			return (BERR_SYS);
		}
		buf[0] = (uint8_t)((size_t)got >> 24);
		buf[1] = (uint8_t)((size_t)got >> 16);
		buf[2] = (uint8_t)((size_t)got >> 8);
		buf[3] = (uint8_t)got;
		if (each != NULL)
			each(arg, buf + 4, (size_t)got);
		if ((r = clamd_send(sock, buf, 4 + (size_t)got,
		    timeout_ms)) != 0)
			goto sent;
		off += (uint64_t)got;
	}
	memset(buf, 0, 4);
	r = clamd_send(sock, buf, 4, timeout_ms);
sent:
	if (r == BERR_TIMEOUT) {
		snprintf(name, namelen, "clamd took no more data within %d s",
		    timeout_ms / 1000);
		return (r);
	}
	/* sent, or clamd hung up early: its answer says what it thought */
	return (clamd_read_reply(sock, timeout_ms, name, namelen));
}
