/*
 * sse.c - answers that stream: Server-Sent Events (the live feed of
 * requests and sessions, live watch) and downloads (the evidence bundle),
 * each fed by one long control request.
 *
 * libmicrohttpd pulls the body through a content reader; while nothing
 * is queued the reader suspends the connection, and a frame from
 * bastiond queues bytes and resumes it. Per stream at most SSE_QUEUE_MAX
 * bytes wait: a browser that does not read ends its own stream, never
 * webd's memory. At most WEB_STREAMS_PER_TOKEN streams per sign-in and
 * WEB_STREAMS_MAX in all (503 past them). Every 15 s an SSE comment line keeps the connection
 * (and any proxy) alive and lets webd see a browser that went away.
 *
 * Event stream format (text/event-stream):
 *   'j' frame (one JSON value)  ->  "event: change\ndata: JSON\n\n"
 *   't' frame (u64 ms, bytes)   ->  "id: MS\nevent: term\ndata: BASE64\n\n"
 *                                   (base64: a frame may split UTF-8)
 *   the end                     ->  "event: end\ndata: {"status":N}\n\n"
 * Download (SSE_RAW): the 'o' frames are the body; an error before the
 * first byte cannot become a status any more, so the download is cut
 * short and the browser reports it failed.
 *
 * The stream's memory belongs to its libuv timer and is freed in the
 * timer's close callback, after libmicrohttpd has let go of the response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "buf.h"
#include "ctlproto.h"
#include "err.h"
#include "log.h"
#include "web.h"

#define SSE_QUEUE_MAX		(1024 * 1024)
#define SSE_KEEPALIVE_MS	15000

struct sse {
	struct sse *next;		/* w->streams */
	char token[2 * WEB_TOKEN_LEN + 1];
	struct webd *w;
	struct MHD_Connection *conn;
	enum sse_mode mode;
	struct ctlc *ctl;
	struct buf *q;
	uv_timer_t keepalive;
	int suspended;
	int ended;			/* the control request is over */
	int overflow;
	int released;			/* libmicrohttpd freed the response */
};

static void
sse_resume(struct sse *s)
{
	if (s->suspended && !s->released) {
		s->suspended = 0;
		MHD_resume_connection(s->conn);
		http_kick(s->w);
	}
}

static void
sse_queue(struct sse *s, const void *p, size_t n)
{
	if (s->overflow)
		return;
	if (buf_put(s->q, p, n) != 0) {
		log_warn("stream: the browser does not read; ending it");
		s->overflow = 1;
		ctlc_cancel(s->ctl);
		s->ctl = NULL;
		s->ended = 1;
	}
	sse_resume(s);
}

static int
sse_event_term(struct sse *s, const uint8_t *p, size_t n)
{
	char head[64];
	char *b64;
	const uint8_t *bytes;
	uint64_t ms;
	size_t blen;
	int len;

	if (ctlp_term_decode(p, n, &ms, &bytes, &blen) != 0)
		return (BERR_FORMAT);
	if ((b64 = malloc(4 * (blen / 3 + 1) + 1)) == NULL)
		return (BERR_NOMEM);
	len = EVP_EncodeBlock((unsigned char *)b64, bytes, (int)blen);
	snprintf(head, sizeof(head), "id: %llu\nevent: term\ndata: ",
	    (unsigned long long)ms);
	sse_queue(s, head, strlen(head));
	sse_queue(s, b64, (size_t)len);
	sse_queue(s, "\n\n", 2);
	free(b64);
	return (0);
}

/* A JSON frame goes on only if it is one line of JSON: a newline would
 * end the SSE field early, so anything else is refused. */
static int
sse_event_json(struct sse *s, const uint8_t *p, size_t n)
{
	if (memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL)
		return (BERR_FORMAT);
	sse_queue(s, "event: change\ndata: ", 20);
	sse_queue(s, p, n);
	sse_queue(s, "\n\n", 2);
	return (0);
}

static int
sse_on_frame(void *arg, int type, const uint8_t *p, size_t n)
{
	struct sse *s = arg;

	if (s->mode == SSE_RAW)
		return (type == CTLP_OUT ? (sse_queue(s, p, n), 0) :
		    type == CTLP_ERR ? 0 : BERR_FORMAT);
	switch (type) {
	case CTLP_TERM:
		return (sse_event_term(s, p, n));
	case CTLP_JSON:
		return (sse_event_json(s, p, n));
	case CTLP_OUT:
	case CTLP_ERR:
		return (0);	/* text meant for a terminal: not here */
	default:
		return (BERR_FORMAT);
	}
}

static void
sse_on_end(void *arg, int status)
{
	struct sse *s = arg;
	char tail[64];

	s->ctl = NULL;
	s->ended = 1;
	if (s->mode == SSE_EVENTS) {
		snprintf(tail, sizeof(tail), "event: end\ndata: "
		    "{\"status\":%d}\n\n", status);
		sse_queue(s, tail, strlen(tail));
	} else if (status != 0)
		s->overflow = 1;	/* cut the download short */
	sse_resume(s);
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse *s = cls;
	size_t n;

	(void)pos;
	if (s->mode == SSE_RAW && s->overflow)
		return (MHD_CONTENT_READER_END_WITH_ERROR);
	if ((n = buf_len(s->q)) > 0) {
		if (n > max)
			n = max;
		memcpy(out, buf_ptr(s->q), n);
		(void)buf_skip(s->q, n);
		return ((ssize_t)n);
	}
	if (s->ended)
		return (MHD_CONTENT_READER_END_OF_STREAM);
	/* nothing yet: sleep until a frame or the keepalive */
	MHD_suspend_connection(s->conn);
	s->suspended = 1;
	return (0);
}

static void
sse_keepalive(uv_timer_t *t)
{
	struct sse *s = t->data;

	if (s->mode == SSE_EVENTS)
		sse_queue(s, ": keepalive\n\n", 13);
}

static void
sse_closed(uv_handle_t *h)
{
	struct sse *s = h->data;

	buf_free(s->q);
	free(s);
}

/* Streams open with this token (the cookie's hex). */
static int
sse_count(const struct webd *w, const char *token)
{
	const struct sse *s;
	int n = 0;

	for (s = w->streams; s != NULL; s = s->next)
		n += strcmp(s->token, token) == 0;
	return (n);
}

static void
sse_unlink(struct sse *s)
{
	struct sse **pp;

	for (pp = &s->w->streams; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			s->w->nstreams--;
			return;
		}
}

/* libmicrohttpd is done with the response: the connection is over. */
static void
sse_release(void *cls)
{
	struct sse *s = cls;

	s->released = 1;
	ctlc_cancel(s->ctl);
	s->ctl = NULL;
	sse_unlink(s);
	uv_timer_stop(&s->keepalive);
	uv_close((uv_handle_t *)&s->keepalive, sse_closed);
}

int
sse_start(struct webd *w, struct web_req *r, enum sse_mode mode,
    int argc, const char *const argv[], const struct ctlp_attr *attrs,
    size_t nattrs, const char *type, const char *filename)
{
	static const struct ctlc_cb cb0 = { sse_on_frame, sse_on_end, NULL };
	struct ctlc_cb cb = cb0;
	struct MHD_Response *resp;
	struct sse *s;
	const char *token = http_token(r) != NULL ? http_token(r) : "";
	char disp[160];
	int rc;

	if (w->nstreams >= WEB_STREAMS_MAX ||
	    sse_count(w, token) >= WEB_STREAMS_PER_TOKEN)
		return (http_reply_error(r, 503, "busy",
		    "too many open streams; close a tab"));
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->q = buf_new(SSE_QUEUE_MAX)) == NULL) {
		free(s);
		return (BERR_NOMEM);
	}
	s->w = w;
	s->conn = http_connection(r);
	s->mode = mode;
	cb.arg = s;
	if ((rc = ctlc_start(w, argc, argv, attrs, nattrs, &cb, &s->ctl)) !=
	    0) {
		buf_free(s->q);
		free(s);
		return (rc);
	}
	uv_timer_init(w->loop, &s->keepalive);
	s->keepalive.data = s;
	if ((resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    16 * 1024, sse_read, s, sse_release)) == NULL) {
		ctlc_cancel(s->ctl);
		uv_close((uv_handle_t *)&s->keepalive, sse_closed);
		return (BERR_NOMEM);
	}
	snprintf(s->token, sizeof(s->token), "%s", token);
	s->next = w->streams;
	w->streams = s;
	w->nstreams++;
	uv_timer_start(&s->keepalive, sse_keepalive, SSE_KEEPALIVE_MS,
	    SSE_KEEPALIVE_MS);
	if (filename != NULL) {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    filename);
		(void)MHD_add_response_header(resp, "Content-Disposition",
		    disp);
	}
	return (http_reply_stream(r, resp, mode == SSE_EVENTS ?
	    "text/event-stream" : type));
}
