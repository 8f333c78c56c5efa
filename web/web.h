/*
 * web.h - bastion-webd, the web console's network-facing daemon: the
 * pieces and how they meet (docs/WEB.md).
 *
 * webd terminates HTTPS for the browser and turns each API request into
 * one request on bastiond's web control socket (RUN_DIR/web.sock,
 * control protocol v2, docs/WEB.md "Control protocol v2"). It holds no
 * database, key or recording handle and decides nothing: sign-in,
 * tokens, WebAuthn assertions and every verb are bastiond's. Its own
 * state is per connection only.
 *
 * One thread, one libuv loop: libmicrohttpd runs in external-epoll mode
 * on it (http.c), the control socket clients are libuv pipes on it
 * (ctlclient.c), streams (the live feed, watch, downloads) are
 * libmicrohttpd callback responses suspended while nothing is ready
 * (sse.c). api.c maps the routes to control requests.
 *
 *   webd.c       main: options, the listening socket, the TLS files, the
 *                sandbox, the loop
 *   http.c       libmicrohttpd on the loop, limits, the routes table,
 *                every response header, the static files, the body caps,
 *                the Origin check
 *   api.c        /api routes -> control requests -> JSON answers
 *   ctlclient.c  the web.sock client (non-blocking)
 *   sse.c        streamed answers: Server-Sent Events and downloads
 *   limit.c      failed sign-ins per address
 *   wsandbox.c   webd's own system call filter
 */
#ifndef BASTION_WEB_H
#define BASTION_WEB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#define WEB_PROGRAM		"bastion-webd"
#define WEB_DEFAULT_PORT	8443
#define WEB_DEFAULT_STATIC	"/usr/share/bastion/web"
#define WEB_DEFAULT_CTL		"/run/bastion/web.sock"
#define WEB_TLS_PRIORITIES	"SECURE256:+SECURE128:-VERS-ALL:" \
				"+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"

/* Request bodies: JSON only, capped; tighter before sign-in. */
#define WEB_BODY_MAX		(16 * 1024)
#define WEB_BODY_MAX_ANON	(8 * 1024)
/* A control answer buffered for one JSON response. */
#define WEB_ANSWER_MAX		(4 * 1024 * 1024)
/* Streams: per token and in all. */
#define WEB_STREAMS_PER_TOKEN	8
#define WEB_STREAMS_MAX		32
/* The token in the cookie: 32 bytes, hex. */
#define WEB_TOKEN_LEN		32
#define WEB_COOKIE		"__Host-bastion"

struct MHD_Daemon;
struct ctlp_attr;
struct web_req;
struct ctlc;
struct sse;

/* The daemon: what main() set up, shared by the pieces. */
struct webd {
	uv_loop_t *loop;
	const char *origin;		/* https://HOST:PORT, exact */
	const char *ctl_path;		/* web.sock */
	const char *static_dir;
	struct MHD_Daemon *mhd;
	uv_poll_t mhd_poll;
	uv_timer_t mhd_timer;
	int mhd_running;
	int nstreams;			/* open streams, all tokens */
	struct sse *streams;		/* sse.c's list of them */
	struct web_file *files;		/* the static files, loaded at start */
	size_t nfiles;
};

/* ---- http.c ---------------------------------------------------------- */

/* Route flags. */
#define WR_AUTH		0x01	/* needs the cookie */
#define WR_BODY		0x02	/* a JSON object body */

/*
 * One route. path is exact, or a prefix when it ends in '/' (the rest is
 * http_arg()). fn answers now (http_reply_*), or starts a control request
 * and answers later through http_finish(); it returns 0, or a BERR_*
 * after which a 500 is sent.
 */
struct web_route {
	const char *method;
	const char *path;
	int flags;
	int (*fn)(struct webd *w, struct web_req *r);
};

extern const struct web_route api_routes[];
extern const size_t api_nroutes;

/* A whole file of 1..max bytes, NUL-terminated, in *out (the caller
 * frees; wipes first when it holds a key). BERR_NOTFOUND, BERR_FORMAT
 * (empty), BERR_LIMIT (longer), BERR_SYS; logged with the path. */
int web_read_file(const char *path, size_t max, char **out, size_t *len);

/* Load the static files (a fixed table: no path from a URL reaches the
 * file system) from dir. BERR_NOTFOUND names the missing file. */
int http_load_static(struct webd *w, const char *dir);
void http_free_static(struct webd *w);
/* Start libmicrohttpd on w->loop with the listening socket fd (owned by
 * it from then on) and the TLS key and certificate (PEM, NUL-terminated;
 * the caller wipes them after). */
int http_start(struct webd *w, int fd, const char *key, const char *cert,
    const char *priorities);
void http_stop(struct webd *w);

/* What a handler knows of its request. */
const char *http_arg(const struct web_req *r);	/* after a prefix route */
json_t *http_body(const struct web_req *r);	/* WR_BODY: an object */
const char *http_token(const struct web_req *r);	/* hex, or NULL */
const char *http_query(const struct web_req *r, const char *key);
const char *http_peer(const struct web_req *r);	/* client address */
const char *http_lang(const struct web_req *r);	/* "ja" or "en" */

/* Answer now. The body is copied. */
int http_reply(struct web_req *r, unsigned status, const char *type,
    const void *body, size_t len);
/* {"error": code, "message": msg} */
int http_reply_error(struct web_req *r, unsigned status, const char *code,
    const char *msg);
/* A new cookie with the token (hex), or one that ends it (token NULL),
 * on the next answer. */
void http_set_cookie(struct web_req *r, const char *token_hex);

/* Asynchronous answers: the handler suspends the request, and later
 * hands a finished answer with http_finish() (the connection resumes
 * and the answer is sent; a request whose client went away is freed
 * quietly). */
void http_suspend(struct web_req *r);
void http_finish(struct web_req *r, unsigned status, const char *type,
    const void *body, size_t len);
void http_finish_error(struct web_req *r, unsigned status, const char *code,
    const char *msg);

/* Per-request slot for api.c / sse.c state, freed with the request by
 * the function given. */
void http_set_state(struct web_req *r, void *state, void (*drop)(void *));

/* The response header function (every response goes through it). nonce
 * is the HTML's style nonce or NULL; api says /api (no-store). */
struct MHD_Response;
int http_headers(struct MHD_Response *resp, int api, const char *nonce);

/* For sse.c: the connection (to suspend and resume it), and a
 * callback response queued with the headers (200; frees resp). */
struct MHD_Connection *http_connection(struct web_req *r);
int http_reply_stream(struct web_req *r, struct MHD_Response *resp,
    const char *type);

/* Make MHD look again soon (after a resume). */
void http_kick(struct webd *w);

/* ---- ctlclient.c ------------------------------------------------------ */

/*
 * Callbacks of a control request: on_frame for each frame but the exit
 * (type, payload); on_end once, with the exit status (0 ok, 1 refused, 2
 * usage) or a negative BERR_* when the conversation broke. After on_end
 * the request is gone. Returning non-zero from on_frame cancels it
 * (on_end then gets BERR_CLOSED).
 */
struct ctlc_cb {
	int (*on_frame)(void *arg, int type, const uint8_t *p, size_t n);
	void (*on_end)(void *arg, int status);
	void *arg;
};

/* Start argv with attrs on w->ctl_path; *out is the handle (for
 * ctlc_cancel) or NULL on failure (nothing will be called back). */
int ctlc_start(struct webd *w, int argc, const char *const argv[],
    const struct ctlp_attr *attrs, size_t nattrs, const struct ctlc_cb *cb,
    struct ctlc **out);
/* Stop it: no callback after this. ctlc_cancel(NULL) is a no-op. */
void ctlc_cancel(struct ctlc *c);

/* ---- sse.c ------------------------------------------------------------ */

/* Answer r with a stream fed by a control request: SSE_EVENTS turns 'j'
 * frames into "data:" events and 't' frames into base64 terminal events;
 * SSE_RAW sends 'o' frames as the body (a download: type and filename
 * give Content-Type and Content-Disposition). */
enum sse_mode { SSE_EVENTS, SSE_RAW };
int sse_start(struct webd *w, struct web_req *r, enum sse_mode mode,
    int argc, const char *const argv[], const struct ctlp_attr *attrs,
    size_t nattrs, const char *type, const char *filename);

/* ---- limit.c ------------------------------------------------------------ */

/* Failed sign-ins per client address (docs/WEB.md, "Defences"). */
#define WEB_LOGIN_FAILS		20
#define WEB_LOGIN_WINDOW	(15 * 60)
/* Whether addr has had WEB_LOGIN_FAILS failures in the current window. */
int limit_blocked(const char *addr, time_t now);
/* Count one failure of addr. */
void limit_failed(const char *addr, time_t now);

/* ---- wsandbox.c --------------------------------------------------------- */

/* no_new_privs and webd's system call allowlist. */
int wsandbox_apply(void);

#endif
