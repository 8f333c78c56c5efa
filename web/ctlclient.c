/*
 * ctlclient.c - webd's client of bastiond's web control socket
 * (RUN_DIR/web.sock), non-blocking on webd's loop.
 *
 * One control request per connection, as bastionctl does on control.sock
 * (ctlproto.h): connect, write the whole request, shut down the writing
 * side, then read frames until the exit frame. bastiond admits the
 * connection by webd's uid and hands it to a fresh control worker, which
 * treats every byte as untrusted; webd in turn treats what comes back as
 * bounded input: a frame outside its type's length range, or of an
 * unknown type, ends the conversation (BERR_FORMAT to the caller), and so does a
 * connection that closes without an exit frame (BERR_CLOSED).
 *
 * A request being cancelled (the browser went away) closes the socket;
 * the worker sees that (cancelled()) and stops. Memory tied to the libuv
 * handle is freed in its close callback.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctlproto.h"
#include "err.h"
#include "log.h"
#include "web.h"

/* the largest frame (a 'j' one) and one read */
#define CTLC_READ	(64 * 1024)
#define CTLC_IN_MAX	(CTLP2_MAX_FRAME + 5 + CTLC_READ)

struct ctlc {
	uv_pipe_t pipe;
	uv_connect_t connect;
	uv_write_t write;
	uv_shutdown_t shut;
	uv_buf_t out;
	uint8_t *req;
	struct ctlc_cb cb;
	struct buf *in;			/* what has come, not yet a frame */
	int ended;			/* on_end called (or cancelled) */
	int closing;
};

static void
ctlc_closed(uv_handle_t *h)
{
	struct ctlc *c = h->data;

	free(c->req);
	buf_free(c->in);
	free(c);
}

static void
ctlc_close(struct ctlc *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, ctlc_closed);
}

/* Tell the caller once, then close. */
static void
ctlc_end(struct ctlc *c, int status)
{
	if (!c->ended) {
		c->ended = 1;
		c->cb.on_end(c->cb.arg, status);
	}
	ctlc_close(c);
}

void
ctlc_cancel(struct ctlc *c)
{
	if (c == NULL)
		return;
	c->ended = 1;
	ctlc_close(c);
}

static void
ctlc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char chunk[CTLC_READ];

	(void)h;
	(void)hint;
	/* one thread: the chunk is copied into c->in before the next read */
	b->base = chunk;
	b->len = sizeof(chunk);
}

/*
 * Take every whole frame from c->in (ctlp_frame2_parse checks each type's
 * length range). 0 to go on, 1 after the exit frame (status in *status),
 * or a BERR_*.
 */
static int
ctlc_frames(struct ctlc *c, int *status)
{
	const uint8_t *payload;
	size_t plen, used;
	int r, type;

	for (;;) {
		r = ctlp_frame2_parse(buf_ptr(c->in), buf_len(c->in), &type,
		    &payload, &plen, &used);
		if (r == BERR_AGAIN)
			return (0);
		if (r != 0)
			return (r);
		if (type == CTLP_EXIT) {
			*status = payload[0];
			return (1);
		}
		if (c->cb.on_frame(c->cb.arg, type, payload, plen) != 0)
			return (BERR_CLOSED);
		if (buf_skip(c->in, used) != 0)
			return (BERR_INTERNAL);
	}
}

static void
ctlc_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct ctlc *c = s->data;
	int r, status = 0;

	if (c->ended)
		return;
	if (nread < 0) {
		ctlc_end(c, BERR_CLOSED);
		return;
	}
	if (nread == 0)
		return;
	/* less than a frame is left over from before, and a read is at
	 * most CTLC_READ: it fits (CTLC_IN_MAX) */
	if (buf_put(c->in, b->base, (size_t)nread) != 0) {
		ctlc_end(c, BERR_FORMAT);
		return;
	}
	if ((r = ctlc_frames(c, &status)) < 0) {
		log_warn("web.sock: %s", berr_str(r));
		ctlc_end(c, r);
	} else if (r == 1)
		ctlc_end(c, status);
}

static void
ctlc_written(uv_write_t *wr, int status)
{
	struct ctlc *c = wr->data;

	free(c->req);
	c->req = NULL;
	if (c->ended)
		return;
	if (status != 0) {
		ctlc_end(c, BERR_CLOSED);
		return;
	}
	/* the request ends where the writing side does */
	if (uv_shutdown(&c->shut, (uv_stream_t *)&c->pipe, NULL) != 0)
		ctlc_end(c, BERR_CLOSED);
}

static void
ctlc_connected(uv_connect_t *cr, int status)
{
	struct ctlc *c = cr->data;

	if (c->ended)
		return;
	if (status != 0) {
		log_warn("%s: %s (is bastiond running with the web console "
		    "enabled?)", "web.sock", uv_strerror(status));
		ctlc_end(c, BERR_CONNECT);
		return;
	}
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &c->out, 1,
	    ctlc_written) != 0 || uv_read_start((uv_stream_t *)&c->pipe,
	    ctlc_alloc, ctlc_read) != 0)
		ctlc_end(c, BERR_CLOSED);
}

int
ctlc_start(struct webd *w, int argc, const char *const argv[],
    const struct ctlp_attr *attrs, size_t nattrs, const struct ctlc_cb *cb,
    struct ctlc **out)
{
	struct ctlc *c;
	size_t len;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (BERR_NOMEM);
	c->cb = *cb;
	if ((r = ctlp_request2_encode(argc, (char *const *)(uintptr_t)argv,
	    attrs, nattrs, &c->req, &len)) != 0) {
		free(c);
		return (r);
	}
	if ((c->in = buf_new(CTLC_IN_MAX)) == NULL) {
		free(c->req);
		free(c);
		return (BERR_NOMEM);
	}
	c->out = uv_buf_init((char *)c->req, (unsigned)len);
	uv_pipe_init(w->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->connect.data = c;
	uv_pipe_connect(&c->connect, &c->pipe, w->ctl_path, ctlc_connected);
	*out = c;
	return (0);
}
