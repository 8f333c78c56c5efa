/*
 * http.c - libmicrohttpd on webd's one libuv loop: limits, the routes
 * table, every response header, the static files, request bodies, the
 * Origin check (docs/WEB.md, "Defences").
 *
 * libmicrohttpd runs in external-epoll mode: its epoll descriptor is a
 * uv_poll_t, its timeout a uv_timer_t, and MHD_run() is called from
 * either, so webd stays one thread. TLS is GnuTLS inside libmicrohttpd,
 * the key and certificate handed over as memory.
 *
 * A request goes: access handler (headers) -> body collected into a
 * bounded buffer (16 KiB with a cookie, 8 KiB without: more is 413) ->
 * the route found in a fixed table -> for /api, the Origin (or
 * Sec-Fetch-Site) must be this console's own and a body must be
 * application/json and a JSON object -> the route's function, which
 * answers at once or suspends the connection while bastiond works and
 * answers through http_finish().
 *
 * Every response, errors included, gets its headers from http_headers():
 * the Content-Security-Policy (scripts 'self' only; styles 'self' and the
 * page's nonce), frame-ancestors 'none' and X-Frame-Options, nosniff,
 * no-referrer, HSTS, COOP/CORP, Permissions-Policy, and no-store on /api.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "io.h"
#include "log.h"
#include "web.h"

/* One static file, read at start. template: the HTML whose "__NONCE__"
 * is replaced by the response's style nonce. */
struct web_file {
	const char *url;
	const char *name;		/* under the static directory */
	const char *type;
	int template;
	char *data;
	size_t len;
};

static const struct web_file web_files[] = {
	{ "/", "index.html", "text/html; charset=utf-8", 1, NULL, 0 },
	{ "/css/console.css", "css/console.css", "text/css; charset=utf-8",
	    0, NULL, 0 },
	{ "/js/stylenonce.js", "js/stylenonce.js",
	    "text/javascript; charset=utf-8", 0, NULL, 0 },
	{ "/js/util.js", "js/util.js", "text/javascript; charset=utf-8", 0,
	    NULL, 0 },
	{ "/js/app.js", "js/app.js", "text/javascript; charset=utf-8", 0,
	    NULL, 0 },
	{ "/js/admin.js", "js/admin.js", "text/javascript; charset=utf-8", 0,
	    NULL, 0 },
	{ "/js/auditor.js", "js/auditor.js",
	    "text/javascript; charset=utf-8", 0, NULL, 0 },
	{ "/js/player.js", "js/player.js", "text/javascript; charset=utf-8",
	    0, NULL, 0 },
	{ "/i18n/ja.json", "i18n/ja.json", "application/json", 0, NULL, 0 },
	{ "/i18n/en.json", "i18n/en.json", "application/json", 0, NULL, 0 },
	{ "/vendor/xterm.js", "vendor/xterm.js",
	    "text/javascript; charset=utf-8", 0, NULL, 0 },
	{ "/vendor/xterm.css", "vendor/xterm.css", "text/css; charset=utf-8",
	    0, NULL, 0 },
};
#define WEB_NFILES (sizeof(web_files) / sizeof(web_files[0]))
#define WEB_FILE_MAX (4 * 1024 * 1024)

struct web_req {
	struct webd *w;
	struct MHD_Connection *conn;
	const struct web_route *route;
	const char *url;
	char *arg;
	struct buf *body;
	int too_big;
	json_t *json;
	char token[2 * WEB_TOKEN_LEN + 1];
	int has_token;
	char peer[64];
	int suspended;
	int gone;			/* the client went away while suspended */
	/* an answer handed over by http_finish(), sent on resume */
	int ready;
	unsigned status;
	const char *type;
	char *answer;
	size_t answer_len;
	/* a cookie to set ("" ends it) */
	char *cookie;
	void *state;
	void (*drop)(void *);
};

static void http_run(struct webd *w);
static void http_timer_cb(uv_timer_t *t);

/* ---- headers --------------------------------------------------------- */

int
http_headers(struct MHD_Response *resp, int api, const char *nonce)
{
	char csp[512];
	static const char *const fixed[][2] = {
		{ "X-Frame-Options", "DENY" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "Referrer-Policy", "no-referrer" },
		{ "Strict-Transport-Security", "max-age=31536000" },
		{ "Cross-Origin-Opener-Policy", "same-origin" },
		{ "Cross-Origin-Resource-Policy", "same-origin" },
		{ "Permissions-Policy", "publickey-credentials-get=(self), "
		    "publickey-credentials-create=(self), camera=(), "
		    "microphone=(), geolocation=()" },
	};
	size_t i;

	snprintf(csp, sizeof(csp), "default-src 'none'; script-src 'self'; "
	    "style-src 'self'%s%s%s; img-src 'self'; font-src 'self'; "
	    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'", nonce != NULL ? " 'nonce-" : "",
	    nonce != NULL ? nonce : "", nonce != NULL ? "'" : "");
	if (MHD_add_response_header(resp, "Content-Security-Policy", csp) !=
	    MHD_YES)
		return (BERR_NOMEM);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (MHD_add_response_header(resp, fixed[i][0], fixed[i][1]) !=
		    MHD_YES)
			return (BERR_NOMEM);
	if (MHD_add_response_header(resp, "Cache-Control", api ? "no-store" :
	    "no-cache") != MHD_YES)
		return (BERR_NOMEM);
	return (0);
}

/* Queue a response with the headers; frees resp. */
static enum MHD_Result
http_queue(struct web_req *r, unsigned status, struct MHD_Response *resp,
    const char *type, const char *nonce)
{
	enum MHD_Result rc = MHD_NO;
	char cookie[200];

	if (resp == NULL)
		return (MHD_NO);
	if (http_headers(resp, strncmp(r->url, "/api/", 5) == 0, nonce) != 0 ||
	    (type != NULL && MHD_add_response_header(resp, "Content-Type",
	    type) != MHD_YES))
		goto out;
	if (r->cookie != NULL) {
		if (r->cookie[0] != '\0')
			snprintf(cookie, sizeof(cookie), "%s=%s; Secure; "
			    "HttpOnly; SameSite=Strict; Path=/", WEB_COOKIE,
			    r->cookie);
		else
			snprintf(cookie, sizeof(cookie), "%s=; Secure; "
			    "HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
			    WEB_COOKIE);
		if (MHD_add_response_header(resp, "Set-Cookie", cookie) !=
		    MHD_YES)
			goto out;
	}
	rc = MHD_queue_response(r->conn, status, resp);
out:
	MHD_destroy_response(resp);
	return (rc);
}

static enum MHD_Result
http_queue_buf(struct web_req *r, unsigned status, const char *type,
    const void *body, size_t len)
{
	return (http_queue(r, status, MHD_create_response_from_buffer(len,
	    (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY), type, NULL));
}

static enum MHD_Result
http_queue_error(struct web_req *r, unsigned status, const char *code,
    const char *msg)
{
	char *s;
	json_t *j;
	enum MHD_Result rc;

	if ((j = json_pack("{s:s,s:s}", "error", code, "message", msg)) ==
	    NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return (MHD_NO);
	}
	json_decref(j);
	rc = http_queue_buf(r, status, "application/json", s, strlen(s));
	free(s);
	return (rc);
}

int
http_reply(struct web_req *r, unsigned status, const char *type,
    const void *body, size_t len)
{
	return (http_queue_buf(r, status, type, body, len) == MHD_YES ? 0 :
	    BERR_NOMEM);
}

int
http_reply_error(struct web_req *r, unsigned status, const char *code,
    const char *msg)
{
	return (http_queue_error(r, status, code, msg) == MHD_YES ? 0 :
	    BERR_NOMEM);
}

struct MHD_Connection *
http_connection(struct web_req *r)
{
	return (r->conn);
}

int
http_reply_stream(struct web_req *r, struct MHD_Response *resp,
    const char *type)
{
	return (http_queue(r, MHD_HTTP_OK, resp, type, NULL) == MHD_YES ? 0 :
	    BERR_NOMEM);
}

void
http_set_cookie(struct web_req *r, const char *token_hex)
{
	free(r->cookie);
	r->cookie = strdup(token_hex != NULL ? token_hex : "");
}

/* ---- static files ----------------------------------------------------- */

int
web_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *p;
	size_t n = 0;
	int fd, r;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return (BERR_NOTFOUND);
	}
	if ((p = malloc(max + 2)) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	r = io_read_upto(fd, p, max + 1, &n);
	close(fd);
	if (r == 0 && (n == 0 || n > max))
		r = n == 0 ? BERR_FORMAT : BERR_LIMIT;
	if (r != 0) {
		log_error("%s: %s", path, berr_str(r));
		explicit_bzero(p, max + 2);
		free(p);
		return (r);
	}
	p[n] = '\0';
	/* give back what the cap reserved */
	if ((*out = realloc(p, n + 1)) == NULL)
		*out = p;
	*len = n;
	return (0);
}

int
http_load_static(struct webd *w, const char *dir)
{
	char path[4096];
	size_t i;
	int r;

	if ((w->files = calloc(WEB_NFILES, sizeof(*w->files))) == NULL)
		return (BERR_NOMEM);
	w->nfiles = WEB_NFILES;
	for (i = 0; i < WEB_NFILES; i++) {
		w->files[i] = web_files[i];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    web_files[i].name) >= sizeof(path))
			return (BERR_LIMIT);
		if ((r = web_read_file(path, WEB_FILE_MAX, &w->files[i].data,
		    &w->files[i].len)) != 0) {
			log_error("the console's static files are made by "
			    "`make web` (build/web-static), or give --static "
			    "DIR");
			return (r);
		}
	}
	return (0);
}

/* The HTML with a fresh style nonce (16 random bytes, hex) in the page
 * and in its CSP. */
static enum MHD_Result
http_send_template(struct web_req *r, const struct web_file *f)
{
	static const char mark[] = "__NONCE__";
	uint8_t rnd[16];
	char nonce[33];
	struct buf *b;
	const char *p = f->data, *q;
	enum MHD_Result rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return (MHD_NO);
	hex_encode(rnd, sizeof(rnd), nonce);
	if ((b = buf_new(f->len + 16 * 64)) == NULL)
		return (MHD_NO);
	while ((q = strstr(p, mark)) != NULL) {
		if (buf_put(b, p, (size_t)(q - p)) != 0 ||
		    buf_put(b, nonce, strlen(nonce)) != 0)
			break;
		p = q + strlen(mark);
	}
	if (q != NULL || buf_put(b, p, strlen(p)) != 0) {
		buf_free(b);
		return (MHD_NO);
	}
	rc = http_queue(r, MHD_HTTP_OK, MHD_create_response_from_buffer(
	    buf_len(b), (void *)(uintptr_t)buf_ptr(b), MHD_RESPMEM_MUST_COPY),
	    f->type, nonce);
	buf_free(b);
	return (rc);
}

static enum MHD_Result
http_static(struct web_req *r, const char *method)
{
	const struct webd *w = r->w;
	size_t i;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return (http_queue_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method", "only GET here"));
	for (i = 0; i < w->nfiles; i++) {
		if (strcmp(w->files[i].url, r->url) != 0)
			continue;
		if (w->files[i].template)
			return (http_send_template(r, &w->files[i]));
		return (http_queue(r, MHD_HTTP_OK,
		    MHD_create_response_from_buffer(w->files[i].len,
		    w->files[i].data, MHD_RESPMEM_PERSISTENT),
		    w->files[i].type, NULL));
	}
	return (http_queue_error(r, MHD_HTTP_NOT_FOUND, "not_found",
	    "no such page"));
}

/* ---- what a handler knows ---------------------------------------------- */

const char *
http_arg(const struct web_req *r)
{
	return (r->arg != NULL ? r->arg : "");
}

json_t *
http_body(const struct web_req *r)
{
	return (r->json);
}

const char *
http_token(const struct web_req *r)
{
	return (r->has_token ? r->token : NULL);
}

const char *
http_query(const struct web_req *r, const char *key)
{
	return (MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    key));
}

const char *
http_peer(const struct web_req *r)
{
	return (r->peer);
}

const char *
http_lang(const struct web_req *r)
{
	const char *l = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-Bastion-Lang");

	return (l != NULL && strcmp(l, "en") == 0 ? "en" : "ja");
}

void
http_set_state(struct web_req *r, void *state, void (*drop)(void *))
{
	r->state = state;
	r->drop = drop;
}

/* ---- suspend / finish ---------------------------------------------------- */

void
http_kick(struct webd *w)
{
	if (w->mhd_running)
		uv_timer_start(&w->mhd_timer, http_timer_cb, 0, 0);
}

void
http_suspend(struct web_req *r)
{
	if (r->suspended)
		return;
	MHD_suspend_connection(r->conn);
	r->suspended = 1;
}

void
http_finish(struct web_req *r, unsigned status, const char *type,
    const void *body, size_t len)
{
	free(r->answer);
	r->answer = NULL;
	r->answer_len = 0;
	if (len > 0 && (r->answer = malloc(len)) == NULL) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		type = "application/json";
		body = NULL;
		len = 0;
	}
	if (len > 0)
		memcpy(r->answer, body, len);
	r->answer_len = len;
	r->status = status;
	r->type = type;
	r->ready = 1;
	if (r->suspended) {
		r->suspended = 0;
		MHD_resume_connection(r->conn);
		http_kick(r->w);
	}
}

void
http_finish_error(struct web_req *r, unsigned status, const char *code,
    const char *msg)
{
	json_t *j;
	char *s = NULL;

	if ((j = json_pack("{s:s,s:s}", "error", code, "message", msg)) !=
	    NULL)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	http_finish(r, status, "application/json", s, s != NULL ? strlen(s) :
	    0);
	free(s);
}

/* ---- the request ---------------------------------------------------------- */

static const struct web_route *
http_route(const char *method, const char *url, const char **arg)
{
	size_t i, n;
	const struct web_route *rt;

	for (i = 0; i < api_nroutes; i++) {
		rt = &api_routes[i];
		n = strlen(rt->path);
		if (strcmp(rt->method, method) != 0)
			continue;
		if (rt->path[n - 1] == '/' ? strncmp(url, rt->path, n) == 0 &&
		    url[n] != '\0' : strcmp(url, rt->path) == 0) {
			*arg = url + (rt->path[n - 1] == '/' ? n : strlen(url));
			return (rt);
		}
	}
	return (NULL);
}

/* The cookie, if it is one of ours in shape (64 hex digits). */
static void
http_read_cookie(struct web_req *r)
{
	const char *c = MHD_lookup_connection_value(r->conn,
	    MHD_COOKIE_KIND, WEB_COOKIE);
	size_t i;

	r->has_token = 0;
	if (c == NULL || strlen(c) != 2 * WEB_TOKEN_LEN)
		return;
	for (i = 0; i < 2 * WEB_TOKEN_LEN; i++)
		if (hex_digit((unsigned char)c[i]) < 0)
			return;
	memcpy(r->token, c, sizeof(r->token));
	r->has_token = 1;
}

/*
 * Cross-site requests: the browser's Sec-Fetch-Site, when present, must
 * say same-origin, and an Origin, when present, must be ours; one of the
 * two must be there (a non-browser client sends Origin). A body must be
 * application/json (a form cannot send that without a preflight, which
 * is never answered).
 */
static const char *
http_cross_site(const struct web_req *r, const char *method)
{
	const char *site = MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, "Origin");
	const char *type = MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, "Content-Type");
	size_t n = strlen("application/json");

	if (site != NULL && strcmp(site, "same-origin") != 0)
		return ("a request from another site");
	if (origin != NULL && strcmp(origin, r->w->origin) != 0)
		return ("a request from another origin");
	if (site == NULL && origin == NULL)
		return ("a request without Origin");
	if (strcmp(method, "POST") == 0 && (type == NULL ||
	    strncasecmp(type, "application/json", n) != 0 ||
	    (type[n] != '\0' && type[n] != ';')))
		return ("a body that is not application/json");
	return (NULL);
}

static void
http_peer_of(struct web_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[64] = "?";
	const struct sockaddr *sa;

	if (ci != NULL && (sa = ci->client_addr) != NULL) {
		if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, host, sizeof(host));
		else if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, host, sizeof(host));
	}
	snprintf(r->peer, sizeof(r->peer), "%s", host);
}

static enum MHD_Result
http_api(struct web_req *r, const char *method)
{
	const char *why;
	json_error_t jerr;
	int rc;

	if ((why = http_cross_site(r, method)) != NULL) {
		log_info("%s: %s %s refused: %s", r->peer, method, r->url,
		    why);
		return (http_queue_error(r, MHD_HTTP_FORBIDDEN, "cross_site",
		    why));
	}
	if (r->route == NULL)
		return (http_queue_error(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such API"));
	if ((r->route->flags & WR_AUTH) && !r->has_token)
		return (http_queue_error(r, MHD_HTTP_UNAUTHORIZED,
		    "signed_out", "sign in first"));
	if (r->route->flags & WR_BODY) {
		if (r->body == NULL || buf_len(r->body) == 0 ||
		    (r->json = json_loadb((const char *)buf_ptr(r->body),
		    buf_len(r->body), JSON_REJECT_DUPLICATES, &jerr)) ==
		    NULL || !json_is_object(r->json))
			return (http_queue_error(r, MHD_HTTP_BAD_REQUEST,
			    "bad_body", "the body must be one JSON object"));
	}
	if ((rc = r->route->fn(r->w, r)) != 0) {
		log_error("%s %s: %s", method, r->url, berr_str(rc));
		if (!r->suspended)
			return (http_queue_error(r,
			    MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
			    "the console failed; see its log"));
	}
	return (MHD_YES);
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct webd *w = cls;
	struct web_req *r = *con_cls;
	const char *arg = NULL;
	enum MHD_Result rc;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return (MHD_NO);
		r->w = w;
		r->conn = conn;
		r->url = url;
		http_peer_of(r);
		http_read_cookie(r);
		r->route = http_route(method, url, &arg);
		if (r->route != NULL && arg != NULL && *arg != '\0' &&
		    (r->arg = strdup(arg)) == NULL) {
			free(r);
			return (MHD_NO);
		}
		*con_cls = r;
		return (MHD_YES);
	}
	if (*upload_len > 0) {
		/* the body, capped; what is over the cap is dropped and
		 * answered 413 at the end */
		if (r->body == NULL && (r->body = buf_new(r->has_token ?
		    WEB_BODY_MAX : WEB_BODY_MAX_ANON)) == NULL)
			return (MHD_NO);
		if (!r->too_big && buf_put(r->body, upload, *upload_len) != 0)
			r->too_big = 1;
		*upload_len = 0;
		return (MHD_YES);
	}
	if (r->ready) {
		/* resumed with an answer from http_finish() */
		r->ready = 0;
		rc = http_queue_buf(r, r->status, r->type, r->answer,
		    r->answer_len);
		free(r->answer);
		r->answer = NULL;
		return (rc);
	}
	if (r->suspended)
		return (MHD_YES);
	if (r->too_big)
		return (http_queue_error(r, 413,
		    "too_large", r->has_token ? "the body is over 16 KiB" :
		    "the body is over 8 KiB before sign-in"));
	if (strncmp(url, "/api/", 5) == 0)
		return (http_api(r, method));
	if (r->body != NULL)
		return (http_queue_error(r, MHD_HTTP_BAD_REQUEST, "bad_body",
		    "no body here"));
	return (http_static(r, method));
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct web_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (r == NULL)
		return;
	*con_cls = NULL;
	if (r->drop != NULL)
		r->drop(r->state);
	json_decref(r->json);
	buf_free(r->body);
	free(r->arg);
	free(r->answer);
	free(r->cookie);
	free(r);
}

static void
http_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

/* ---- on the loop ------------------------------------------------------------ */

static void
http_timer_cb(uv_timer_t *t)
{
	http_run(t->data);
}

static void
http_poll_cb(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	http_run(p->data);
}

/* Let libmicrohttpd do what is ready, then wait for its next timeout. */
static void
http_run(struct webd *w)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;

	if (!w->mhd_running)
		return;
	(void)MHD_run(w->mhd);
	if (MHD_get_timeout(w->mhd, &ms) != MHD_YES)
		ms = 1000;
	if (ms > 1000)
		ms = 1000;
	uv_timer_start(&w->mhd_timer, http_timer_cb, (uint64_t)ms, 0);
}

int
http_start(struct webd *w, int fd, const char *key, const char *cert,
    const char *priorities)
{
	const union MHD_DaemonInfo *info;
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return (BERR_SYS);
	w->mhd = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    http_access, w,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, w,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_PRIORITIES, priorities,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)24,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, w,
	    MHD_OPTION_END);
	if (w->mhd == NULL) {
		log_error("cannot start the HTTPS server (libmicrohttpd): "
		    "check the TLS key and certificate (PEM) and the "
		    "priorities string");
		return (BERR_SYS);
	}
	if ((info = MHD_get_daemon_info(w->mhd,
	    MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
		MHD_stop_daemon(w->mhd);
		w->mhd = NULL;
		return (BERR_SYS);
	}
	uv_poll_init(w->loop, &w->mhd_poll, info->epoll_fd);
	uv_timer_init(w->loop, &w->mhd_timer);
	w->mhd_poll.data = w;
	w->mhd_timer.data = w;
	w->mhd_running = 1;
	uv_poll_start(&w->mhd_poll, UV_READABLE, http_poll_cb);
	http_run(w);
	return (0);
}

void
http_free_static(struct webd *w)
{
	size_t i;

	for (i = 0; w->files != NULL && i < w->nfiles; i++)
		free(w->files[i].data);
	free(w->files);
	w->files = NULL;
	w->nfiles = 0;
}

void
http_stop(struct webd *w)
{
	if (!w->mhd_running)
		return;
	w->mhd_running = 0;
	uv_poll_stop(&w->mhd_poll);
	uv_timer_stop(&w->mhd_timer);
	uv_close((uv_handle_t *)&w->mhd_poll, NULL);
	uv_close((uv_handle_t *)&w->mhd_timer, NULL);
	MHD_stop_daemon(w->mhd);
	w->mhd = NULL;
}
