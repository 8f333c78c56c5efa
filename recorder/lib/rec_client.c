/*
 * rec_client.c - session worker side of the recorder protocol (see
 * rec_client.h and recproto.h).
 *
 * A blocking socket with SO_SNDTIMEO/SO_RCVTIMEO: simple for the worker and
 * bounded in time. Once anything goes wrong the client is "dead": the first
 * error is kept and every later call returns it, so a worker that ignores
 * one return value still ends the session at the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "buf.h"
#include "err.h"
#include "rec_client.h"
#include "recproto.h"
#include "text.h"

struct rec_client {
	int fd;
	int dead;		/* first error code, 0 while healthy */
	int closed;		/* CLOSE acknowledged */
	char sid[REC_SESSION_ID_MAX + 1];
	char path[4096];
	char err[512];
	uint8_t *live;		/* WATCH: the last LIVE message's body */
};

static int
client_fail(struct rec_client *c, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
client_fail(struct rec_client *c, int r, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return (c->dead);
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->dead = r;
	return (r);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static int read_reply(struct rec_client *, uint64_t);

/* Send all iov bytes. A send that times out part way leaves the stream
 * unusable, so any failure kills the client. */
static int
send_all(struct rec_client *c, struct iovec *iov, int iovcnt)
{
	uint64_t deadline = mono_ms() + REC_CLIENT_TIMEOUT_MS, now;
	struct pollfd pfd;
	struct msghdr mh;
	ssize_t n;

	while (iovcnt > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* SO_SNDTIMEO expired, or the fd was made
			 * non-blocking (uv_poll_init does that): wait for
			 * room until the same deadline either way */
			if ((now = mono_ms()) < deadline) {
				pfd.fd = c->fd;
				pfd.events = POLLOUT;
				if (poll(&pfd, 1, (int)(deadline - now)) >= 0)
					continue;
			}
			return (client_fail(c, BERR_TIMEOUT, "the recorder did "
			    "not accept data for %d seconds: session ended",
			    REC_CLIENT_TIMEOUT_MS / 1000));
		}
		if (n < 0) {
			int e = errno;

			/* The recorder may have said why before it closed
			 * (a refusal): that reason beats "broken pipe". */
			(void)read_reply(c, mono_ms() + 200);
			return (client_fail(c, BERR_CLOSED, "lost the "
			    "connection to the recorder (%s): session ended",
			    strerror(e)));
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return (0);
}

/* Read exactly len bytes, waiting until deadline (monotonic ms). */
static int
recv_exact(struct rec_client *c, void *p, size_t len, uint64_t deadline)
{
	struct pollfd pfd;
	size_t got = 0;
	uint64_t now;
	ssize_t n;
	int pr;

	while (got < len) {
		now = mono_ms();
		if (now >= deadline)
			return (BERR_TIMEOUT);
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return (BERR_SYS);
		if (pr == 0)
			return (BERR_TIMEOUT);
		n = recv(c->fd, (uint8_t *)p + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return (BERR_SYS);
		if (n == 0)
			return (BERR_CLOSED);
		got += (size_t)n;
	}
	return (0);
}

/*
 * Read one reply. OK fills the session id/path; ERR becomes the client's
 * error (BERR_DENIED with the recorder's sentence). Returns 0 for OK.
 */
static int
read_reply(struct rec_client *c, uint64_t deadline)
{
	uint8_t lenb[4], *body = NULL;
	struct buf *b = NULL;
	char *s1 = NULL, *s2 = NULL;
	uint32_t len;
	uint64_t frames;
	uint8_t t;
	int r;

	if ((r = recv_exact(c, lenb, 4, deadline)) != 0)
		goto io;
	if ((b = buf_from(lenb, 4)) == NULL || buf_get_u32(b, &len) != 0) {
		r = BERR_NOMEM;
		goto out;
	}
	buf_free(b);
	b = NULL;
	if (len == 0 || len > RECPROTO_REPLY_MAX) {
		r = client_fail(c, BERR_FORMAT, "the recorder sent a malformed "
		    "reply: session ended");
		goto out;
	}
	if ((body = malloc(len)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((r = recv_exact(c, body, len, deadline)) != 0)
		goto io;
	if ((b = buf_from(body, len)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((r = buf_get_u8(b, &t)) != 0)
		goto bad;
	if (t == RECPROTO_ERR) {
		if ((r = buf_get_cstring(b, &s1, RECPROTO_REPLY_MAX)) != 0)
			goto bad;
		r = client_fail(c, BERR_DENIED, "%s", s1);
		goto out;
	}
	if (t != RECPROTO_OK ||
	    (r = buf_get_cstring(b, &s1, REC_SESSION_ID_MAX)) != 0 ||
	    (r = buf_get_cstring(b, &s2, sizeof(c->path) - 1)) != 0 ||
	    (r = buf_get_u64(b, &frames)) != 0)
		goto bad;
	snprintf(c->sid, sizeof(c->sid), "%s", s1);
	snprintf(c->path, sizeof(c->path), "%s", s2);
	r = 0;
	goto out;
 bad:
	r = client_fail(c, BERR_FORMAT, "the recorder sent a malformed reply: "
	    "session ended");
	goto out;
 io:
	if (r == BERR_TIMEOUT)
		r = client_fail(c, r, "the recorder did not answer within %d "
		    "seconds: session ended", REC_CLIENT_TIMEOUT_MS / 1000);
	else if (r == BERR_CLOSED)
		r = client_fail(c, r, "the recorder closed the connection: "
		    "session ended");
	else
		r = client_fail(c, r, "reading from the recorder failed (%s): "
		    "session ended", strerror(errno));
 out:
	free(s1);
	free(s2);
	free(body);
	buf_free(b);
	return (r);
}

/* Has the recorder said something (it only speaks to refuse)? */
static int
check_refusal(struct rec_client *c)
{
	struct pollfd pfd;

	if (c->dead)
		return (c->dead);
	if (c->closed)
		return (client_fail(c, BERR_INVAL, "the recording is closed"));
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) <= 0 || (pfd.revents & (POLLIN | POLLHUP)) == 0)
		return (0);
	if (read_reply(c, mono_ms() + 100) == 0)	/* an OK out of turn */
		return (client_fail(c, BERR_FORMAT, "unexpected reply from the "
		    "recorder: session ended"));
	return (c->dead);
}

static int
send_msg(struct rec_client *c, const struct buf *m)
{
	struct iovec iov;

	iov.iov_base = (void *)buf_ptr(m);
	iov.iov_len = buf_len(m);
	return (send_all(c, &iov, 1));
}

static int
add_fact(struct rec_hdr *h, const char *k, const char *v)
{
	if (v == NULL)
		return (0);
	return (recfmt_hdr_add(h, k, v));
}

/* Connect c (fd -1) to the recorder at socket_path, with the send and
 * receive timeouts set. 0 or the client's error. */
static int
client_connect(struct rec_client *c, const char *socket_path)
{
	struct sockaddr_un sun;
	struct timeval tv;

	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return (client_fail(c, BERR_INVAL, "recorder socket path too "
		    "long"));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (client_fail(c, BERR_SYS, "cannot create a socket: %s",
		    strerror(errno)));
	tv.tv_sec = REC_CLIENT_TIMEOUT_MS / 1000;
	tv.tv_usec = (REC_CLIENT_TIMEOUT_MS % 1000) * 1000;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, socket_path, strlen(socket_path));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		return (client_fail(c, BERR_CONNECT, "the session recorder is "
		    "not reachable at %s (%s): sessions cannot be recorded, so "
		    "none are allowed", socket_path, strerror(errno)));
	return (0);
}

/* A client not yet connected; err is cleared, or says why it is NULL. */
static struct rec_client *
client_new(char *err, size_t errlen)
{
	struct rec_client *c;

	if (errlen > 0)
		err[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	c->fd = -1;
	return (c);
}

int
rec_client_open(const char *socket_path, const struct rec_header *facts,
    struct rec_client **out, char *err, size_t errlen)
{
	struct rec_client *c = NULL;
	struct rec_hdr h;
	struct buf *m = NULL;
	int r;

	*out = NULL;
	memset(&h, 0, sizeof(h));
	if ((c = client_new(err, errlen)) == NULL)
		return (BERR_NOMEM);
	if (facts->engineer == NULL || facts->device == NULL) {
		r = client_fail(c, BERR_INVAL, "engineer and device are "
		    "required to record a session");
		goto out;
	}
	if ((r = add_fact(&h, "engineer", facts->engineer)) != 0 ||
	    (r = add_fact(&h, "vendor", facts->vendor)) != 0 ||
	    (r = add_fact(&h, "source", facts->source)) != 0 ||
	    (r = add_fact(&h, "device", facts->device)) != 0 ||
	    (r = add_fact(&h, "device_addr", facts->device_addr)) != 0 ||
	    (r = add_fact(&h, "approval", facts->approval)) != 0 ||
	    (r = add_fact(&h, "policy_sha256", facts->policy_sha256)) != 0 ||
	    (r = add_fact(&h, "ref", facts->ref)) != 0 ||
	    (r = add_fact(&h, "recipients", facts->recipients)) != 0) {
		r = client_fail(c, r, "session facts are not recordable (%s): "
		    "control characters or too long", berr_str(r));
		goto out;
	}
	if ((r = client_connect(c, socket_path)) != 0)
		goto out;
	if ((m = buf_new(RECPROTO_HELLO_MAX)) == NULL) {
		r = client_fail(c, BERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = recproto_put_open(m, &h)) != 0) {
		r = client_fail(c, r, "session facts too large to record");
		goto out;
	}
	if ((r = send_msg(c, m)) != 0 ||
	    (r = read_reply(c, mono_ms() + REC_CLIENT_TIMEOUT_MS)) != 0)
		goto out;
	*out = c;
	c = NULL;
 out:
	if (c != NULL)
		snprintf(err, errlen, "%s", c->err);
	recfmt_hdr_clear(&h);
	buf_free(m);
	rec_client_free(c);
	return (r);
}

int
rec_client_frame(struct rec_client *c, int type, uint32_t channel,
    const void *data, size_t len)
{
	struct iovec iov[2];
	struct buf *hd;
	int r;

	if ((r = check_refusal(c)) != 0)
		return (r);
	if (type < REC_TYPE_MIN || type > REC_TYPE_MAX ||
	    type == REC_HEADER || type == REC_CHECKPOINT || type == REC_SEAL ||
	    channel == REC_CHANNEL_RECORDER)
		return (BERR_INVAL);
	if (len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	if ((hd = buf_new(64)) == NULL)
		return (BERR_NOMEM);
	if ((r = recproto_put_frame_head(hd, type, channel, len)) == 0) {
		iov[0].iov_base = (void *)buf_ptr(hd);
		iov[0].iov_len = buf_len(hd);
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = len;
		r = send_all(c, iov, len > 0 ? 2 : 1);
	}
	buf_free(hd);
	return (r);
}

/* Send data as frames of at most `max` bytes after a one-byte prefix
 * (FWD_DATA's direction) if prefix >= 0. */
static int
send_split(struct rec_client *c, int type, uint32_t channel, int prefix,
    const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t max = REC_MAX_PAYLOAD - (prefix >= 0 ? 1 : 0), n;
	uint8_t *tmp;
	int r = 0;

	if (len == 0)
		return (check_refusal(c));
	if (prefix < 0) {
		do {
			n = len < max ? len : max;
			if ((r = rec_client_frame(c, type, channel, p, n)) != 0)
				return (r);
			p += n;
			len -= n;
		} while (len > 0);
		return (0);
	}
	if ((tmp = malloc(1 + (len < max ? len : max))) == NULL)
		return (BERR_NOMEM);
	do {
		n = len < max ? len : max;
		tmp[0] = (uint8_t)prefix;
		memcpy(tmp + 1, p, n);
		if ((r = rec_client_frame(c, type, channel, tmp, n + 1)) != 0)
			break;
		p += n;
		len -= n;
	} while (len > 0);
	free(tmp);
	return (r);
}

/* Append s as a clean string (text.h: controls and stray bytes become
 * '?'), cut between characters at max bytes. */
static int
put_clean(struct buf *b, const char *s, size_t max)
{
	char tmp[REC_HOST_MAX + 1];
	size_t n;

	if (max > sizeof(tmp) - 1)
		max = sizeof(tmp) - 1;
	n = text_clean_buf(tmp, max + 1, s, s != NULL ? strlen(s) : 0, 0);
	return (buf_put_string(b, tmp, n));
}

/* Encode with fn into a buffer, then send as one frame. */
static int
send_built(struct rec_client *c, int type, uint32_t channel, struct buf *b,
    int r)
{
	if (r == 0)
		r = rec_client_frame(c, type, channel, buf_ptr(b), buf_len(b));
	buf_free(b);
	return (r);
}

/* A terminal's columns and rows, each capped at REC_DIM_MAX. */
static int
put_dims(struct buf *b, uint32_t cols, uint32_t rows)
{
	int r;

	if ((r = buf_put_u32(b, cols > REC_DIM_MAX ? REC_DIM_MAX : cols)) != 0)
		return (r);
	return (buf_put_u32(b, rows > REC_DIM_MAX ? REC_DIM_MAX : rows));
}

int
rec_client_pty_req(struct rec_client *c, uint32_t channel, const char *term,
    uint32_t cols, uint32_t rows)
{
	struct buf *b;
	int r;

	if ((b = buf_new(256)) == NULL)
		return (BERR_NOMEM);
	if ((r = put_clean(b, term, REC_TERM_MAX)) == 0)
		r = put_dims(b, cols, rows);
	return (send_built(c, REC_PTY_REQ, channel, b, r));
}

int
rec_client_window_change(struct rec_client *c, uint32_t channel,
    uint32_t cols, uint32_t rows)
{
	struct buf *b;
	int r;

	if ((b = buf_new(16)) == NULL)
		return (BERR_NOMEM);
	r = put_dims(b, cols, rows);
	return (send_built(c, REC_WINDOW_CHANGE, channel, b, r));
}

int
rec_client_shell(struct rec_client *c, uint32_t channel)
{
	return (rec_client_frame(c, REC_SHELL, channel, NULL, 0));
}

int
rec_client_exec(struct rec_client *c, uint32_t channel, const void *command,
    size_t len)
{
	struct buf *b;

	if (len > REC_MAX_PAYLOAD - 4)
		return (BERR_LIMIT);
	if ((b = buf_new(len + 4)) == NULL)
		return (BERR_NOMEM);
	return (send_built(c, REC_EXEC, channel, b,
	    buf_put_string(b, command, len)));
}

int
rec_client_subsystem(struct rec_client *c, uint32_t channel, const char *name)
{
	struct buf *b;

	if ((b = buf_new(128)) == NULL)
		return (BERR_NOMEM);
	return (send_built(c, REC_SUBSYSTEM, channel, b,
	    put_clean(b, name, REC_SUBSYS_MAX)));
}

int
rec_client_output(struct rec_client *c, uint32_t channel, const void *data,
    size_t len)
{
	return (send_split(c, REC_OUTPUT, channel, -1, data, len));
}

int
rec_client_stderr(struct rec_client *c, uint32_t channel, const void *data,
    size_t len)
{
	return (send_split(c, REC_STDERR, channel, -1, data, len));
}

int
rec_client_input(struct rec_client *c, uint32_t channel, const void *data,
    size_t len)
{
	return (send_split(c, REC_INPUT, channel, -1, data, len));
}

int
rec_client_eof(struct rec_client *c, uint32_t channel, int dir)
{
	uint8_t d = (uint8_t)dir;

	if (dir != REC_DIR_FROM_DEVICE && dir != REC_DIR_TO_DEVICE)
		return (BERR_INVAL);
	return (rec_client_frame(c, REC_EOF, channel, &d, 1));
}

int
rec_client_exit_status(struct rec_client *c, uint32_t channel,
    uint32_t status)
{
	struct buf *b;

	if ((b = buf_new(8)) == NULL)
		return (BERR_NOMEM);
	return (send_built(c, REC_EXIT_STATUS, channel, b,
	    buf_put_u32(b, status)));
}

int
rec_client_exit_signal(struct rec_client *c, uint32_t channel,
    const char *signal, int core_dumped, const char *message)
{
	struct buf *b;
	size_t n = message == NULL ? 0 : strlen(message);
	int r;

	if (n > REC_SIGMSG_MAX)
		n = REC_SIGMSG_MAX;
	if ((b = buf_new(REC_SIGMSG_MAX + 128)) == NULL)
		return (BERR_NOMEM);
	if ((r = put_clean(b, signal, REC_SIGNAL_MAX)) == 0 &&
	    (r = buf_put_u8(b, core_dumped ? 1 : 0)) == 0)
		r = buf_put_string(b, message == NULL ? "" : message, n);
	return (send_built(c, REC_EXIT_SIGNAL, channel, b, r));
}

int
rec_client_fwd_open(struct rec_client *c, uint32_t channel, const char *host,
    uint32_t port, const char *originator, uint32_t originator_port)
{
	struct buf *b;
	int r;

	if (port > 65535 || originator_port > 65535)
		return (BERR_INVAL);
	if ((b = buf_new(2 * REC_HOST_MAX + 64)) == NULL)
		return (BERR_NOMEM);
	if ((r = put_clean(b, host, REC_HOST_MAX)) == 0 &&
	    (r = buf_put_u32(b, port)) == 0 &&
	    (r = put_clean(b, originator, REC_HOST_MAX)) == 0)
		r = buf_put_u32(b, originator_port);
	return (send_built(c, REC_FWD_OPEN, channel, b, r));
}

int
rec_client_fwd_data(struct rec_client *c, uint32_t channel, int dir,
    const void *data, size_t len)
{
	if (dir != REC_DIR_FROM_DEVICE && dir != REC_DIR_TO_DEVICE)
		return (BERR_INVAL);
	return (send_split(c, REC_FWD_DATA, channel, dir, data, len));
}

int
rec_client_fwd_close(struct rec_client *c, uint32_t channel)
{
	return (rec_client_frame(c, REC_FWD_CLOSE, channel, NULL, 0));
}

int
rec_client_event(struct rec_client *c, uint32_t channel, const char *kind,
    const char *text)
{
	struct buf *b;
	size_t i, n = strlen(kind), tn = text == NULL ? 0 : strlen(text);
	int r;

	if (n == 0 || n > REC_KIND_MAX)
		return (BERR_INVAL);
	for (i = 0; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') ||
		    (kind[i] >= '0' && kind[i] <= '9') || kind[i] == '.' ||
		    kind[i] == '-' || kind[i] == '_'))
			return (BERR_INVAL);
	if (tn > REC_TEXT_MAX)
		tn = REC_TEXT_MAX;
	if ((b = buf_new(REC_TEXT_MAX + REC_KIND_MAX + 16)) == NULL)
		return (BERR_NOMEM);
	if ((r = buf_put_string(b, kind, n)) == 0)
		r = buf_put_string(b, text == NULL ? "" : text, tn);
	return (send_built(c, REC_EVENT, channel, b, r));
}

/* Send an empty-bodied message and wait for OK. */
static int
roundtrip(struct rec_client *c, int msg, int timeout_ms)
{
	struct buf *m;
	int r;

	if ((r = check_refusal(c)) != 0)
		return (r);
	if ((m = buf_new(16)) == NULL)
		return (BERR_NOMEM);
	if ((r = recproto_put_empty(m, msg)) == 0 &&
	    (r = send_msg(c, m)) == 0)
		r = read_reply(c, mono_ms() + (uint64_t)timeout_ms);
	buf_free(m);
	return (r);
}

int
rec_client_sync(struct rec_client *c)
{
	return (roundtrip(c, RECPROTO_SYNC, REC_CLIENT_TIMEOUT_MS));
}

int
rec_client_close(struct rec_client *c, char *err, size_t errlen)
{
	int r;

	if (errlen > 0)
		err[0] = '\0';
	r = roundtrip(c, RECPROTO_CLOSE, REC_CLIENT_TIMEOUT_MS);
	if (r != 0)
		snprintf(err, errlen, "%s", c->err);
	c->closed = 1;
	return (r);
}

int
rec_client_notarize(const char *socket_path, const char *recid,
    const void *manifest, size_t mlen, uint64_t chain_seq, unsigned wait_ms,
    uint8_t sig[REC_SIG_LEN], char *err, size_t errlen)
{
	struct rec_client *c;
	struct buf *m = NULL, *b = NULL;
	uint8_t lenb[4], body[RECPROTO_REPLY_MAX];
	const uint8_t *s;
	char *why = NULL;
	size_t slen;
	uint32_t len;
	uint8_t t;
	int r;

	memset(sig, 0, REC_SIG_LEN);
	if ((c = client_new(err, errlen)) == NULL)
		return (BERR_NOMEM);
	if ((r = client_connect(c, socket_path)) != 0)
		goto out;
	if ((m = buf_new(RECPROTO_HELLO_MAX)) == NULL) {
		r = client_fail(c, BERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = recproto_put_notarize(m, recid, manifest, mlen,
	    chain_seq)) != 0) {
		r = client_fail(c, r, "the MANIFEST is too large to be signed");
		goto out;
	}
	if ((r = send_msg(c, m)) != 0)
		goto out;
	/* the recorder reads the whole recording before it answers */
	if ((r = recv_exact(c, lenb, 4, mono_ms() + wait_ms)) != 0 ||
	    (r = (b = buf_from(lenb, 4)) == NULL ? BERR_NOMEM :
	    buf_get_u32(b, &len)) != 0) {
		r = client_fail(c, r, "the recorder did not answer (%s)",
		    r == BERR_TIMEOUT ? "timed out" : berr_str(r));
		goto out;
	}
	buf_free(b);
	b = NULL;
	if (len == 0 || len > sizeof(body) ||
	    (r = recv_exact(c, body, len, mono_ms() + 1000)) != 0 ||
	    (b = buf_from(body, len)) == NULL || buf_get_u8(b, &t) != 0) {
		r = client_fail(c, BERR_FORMAT, "the recorder sent a malformed "
		    "answer");
		goto out;
	}
	if (t == RECPROTO_ERR && buf_get_cstring(b, &why,
	    RECPROTO_REPLY_MAX) == 0) {
		r = client_fail(c, BERR_DENIED, "%s", why);
		goto out;
	}
	if (t != RECPROTO_SIGNATURE || buf_get_string_direct(b, &s, &slen,
	    REC_SIG_LEN) != 0 || slen != REC_SIG_LEN || buf_len(b) != 0) {
		r = client_fail(c, BERR_FORMAT, "the recorder sent a malformed "
		    "answer");
		goto out;
	}
	memcpy(sig, s, REC_SIG_LEN);
	r = 0;
 out:
	if (r != 0)
		snprintf(err, errlen, "%s", c->err);
	free(why);
	buf_free(m);
	buf_free(b);
	rec_client_free(c);
	return (r);
}

int
rec_client_watch(const char *socket_path, const char *recid,
    struct rec_client **out, char *err, size_t errlen)
{
	struct rec_client *c;
	struct buf *m = NULL;
	int r;

	*out = NULL;
	if ((c = client_new(err, errlen)) == NULL)
		return (BERR_NOMEM);
	if ((r = client_connect(c, socket_path)) != 0)
		goto out;
	if ((m = buf_new(RECPROTO_REPLY_MAX)) == NULL ||
	    (c->live = malloc(RECPROTO_MSG_MAX)) == NULL) {
		r = client_fail(c, BERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = recproto_put_watch(m, recid)) != 0) {
		r = client_fail(c, r, "not a recording id");
		goto out;
	}
	if ((r = send_msg(c, m)) != 0)
		goto out;
	*out = c;
	c = NULL;
 out:
	if (c != NULL)
		snprintf(err, errlen, "%s", c->err);
	buf_free(m);
	rec_client_free(c);
	return (r);
}

int
rec_client_watch_next(struct rec_client *c, unsigned wait_ms, int *type,
    const uint8_t **p, size_t *len, char *why, size_t whylen)
{
	struct pollfd pfd;
	struct buf *b = NULL;
	uint8_t lenb[4], t;
	uint32_t mlen;
	char *s = NULL;
	int r;

	*type = 0;
	*p = NULL;
	*len = 0;
	if (c->dead)
		return (berr_why(why, whylen, c->dead, "%s", c->err));
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if ((r = poll(&pfd, 1, (int)wait_ms)) == 0 ||
	    (r < 0 && errno == EINTR))
		return (BERR_AGAIN);
	/* the recorder sends whole messages: once one starts, the rest is
	 * on its way */
	if ((r = recv_exact(c, lenb, 4, mono_ms() + REC_CLIENT_TIMEOUT_MS)) !=
	    0 || (b = buf_from(lenb, 4)) == NULL || buf_get_u32(b, &mlen) != 0 ||
	    mlen == 0 || mlen > RECPROTO_MSG_MAX ||
	    (r = recv_exact(c, c->live, mlen, mono_ms() +
	    REC_CLIENT_TIMEOUT_MS)) != 0) {
		buf_free(b);
		return (berr_why(why, whylen, client_fail(c, r != 0 ? r :
		    BERR_FORMAT, "the recorder ended the watch (%s)",
		    r == BERR_CLOSED ? "connection closed" : r != 0 ?
		    berr_str(r) : "malformed message"), "%s", c->err));
	}
	buf_free(b);
	if ((b = buf_from(c->live, mlen)) == NULL)
		return (BERR_NOMEM);
	r = buf_get_u8(b, &t);
	if (r == 0 && t == RECPROTO_LIVE && buf_get_u8(b, &t) == 0 &&
	    buf_get_string_direct(b, p, len, REC_MAX_PAYLOAD) == 0 &&
	    buf_len(b) == 0 && (t == REC_OUTPUT || t == REC_STDERR)) {
		/* point into c->live, not into b */
		*p = c->live + (mlen - *len);
		*type = t;
		r = 1;
	} else if (r == 0 && (t == RECPROTO_END || t == RECPROTO_ERR) &&
	    buf_get_cstring(b, &s, RECPROTO_REPLY_MAX) == 0) {
		r = client_fail(c, t == RECPROTO_END ? BERR_CLOSED :
		    BERR_DENIED, "%s", s);
		snprintf(why, whylen, "%s", s);
		r = t == RECPROTO_END ? 0 : r;
	} else
		r = berr_why(why, whylen, client_fail(c, BERR_FORMAT, "the "
		    "recorder sent a malformed message"), "%s", c->err);
	free(s);
	buf_free(b);
	return (r);
}

void
rec_client_free(struct rec_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c->live);
	free(c);
}

int
rec_client_detach(struct rec_client *c)
{
	int fd;

	if (c == NULL)
		return (-1);
	fd = c->dead ? -1 : c->fd;
	if (fd == -1 && c->fd != -1)
		close(c->fd);
	free(c);
	return (fd);
}

int
rec_client_adopt(int fd, const char *session_id, const char *path,
    struct rec_client **out)
{
	struct rec_client *c;

	*out = NULL;
	if (fd < 0 || session_id == NULL || path == NULL ||
	    strlen(session_id) >= sizeof(c->sid) ||
	    strlen(path) >= sizeof(c->path))
		return (BERR_INVAL);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (BERR_NOMEM);
	c->fd = fd;
	snprintf(c->sid, sizeof(c->sid), "%s", session_id);
	snprintf(c->path, sizeof(c->path), "%s", path);
	*out = c;
	return (0);
}

int
rec_client_fd(const struct rec_client *c)
{
	return (c->fd);
}

const char *
rec_client_session_id(const struct rec_client *c)
{
	return (c->sid);
}

const char *
rec_client_path(const struct rec_client *c)
{
	return (c->path);
}

const char *
rec_client_error(const struct rec_client *c)
{
	return (c->err);
}
