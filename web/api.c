/*
 * api.c - the console's /api routes, each one control request on
 * web.sock (docs/WEB.md, "API").
 *
 * webd adds no meaning: a route checks the shape of what the browser
 * sent (numbers are numbers, names are names, reasons are bounded text),
 * builds the verb's own argument words and the v2 attributes (the token
 * from the cookie, a WebAuthn assertion, the sign-in secret, the
 * client's address, the language) and passes bastiond's answer on.
 * Everything that decides, sign-in, tokens, assertions, roles, the
 * verbs, is bastiond's control worker.
 *
 * Answers: a verb's --json output must parse as JSON before it is
 * passed on (502 otherwise); 'a' (sign-in) sets the cookie; 'c'
 * (prepare) becomes {"challenge": base64url, "action": summary}; exit
 * status 1 is 403 with the verb's own message, 2 is 400.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "b64.h"
#include "buf.h"
#include "ctlproto.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "web.h"

#define API_MAX_ARGS	16
#define API_ERR_MAX	2048

/* How bastiond's answer becomes the HTTP one. */
enum api_kind {
	AK_JSON,		/* 'o'/'j' frames: one JSON document */
	AK_TEXT,		/* 'o' frames as they are (cast, CSV) */
	AK_LOGIN,		/* 'a': the cookie */
	AK_LOGOUT,		/* the cookie ends */
	AK_RESULT,		/* a verb's answer: its JSON, or its text as
				 * {"message": TEXT} */
	AK_CHALLENGE,		/* 'c': challenge and summary */
};

struct api_call {
	struct web_req *r;
	struct ctlc *ctl;
	enum api_kind kind;
	const char *type;
	struct buf *out;
	struct buf *err;
	struct buf *special;		/* the 'a' or 'c' frame */
};

/* The words and attributes of one request being built. */
struct api_req {
	const char *argv[API_MAX_ARGS];
	int argc;
	struct ctlp_attr attrs[8];
	size_t nattrs;
	uint8_t token[WEB_TOKEN_LEN];
	uint8_t *assertion;
	size_t assertion_len;
	char *secret;
};

static void
api_req_free(struct api_req *q)
{
	free(q->assertion);
	if (q->secret != NULL) {
		explicit_bzero(q->secret, strlen(q->secret));
		free(q->secret);
	}
	explicit_bzero(q->token, sizeof(q->token));
}

static void
api_word(struct api_req *q, const char *w)
{
	if (q->argc < API_MAX_ARGS - 1)
		q->argv[q->argc++] = w;
}

static void
api_attr(struct api_req *q, const char *name, const void *v, size_t n)
{
	if (q->nattrs < sizeof(q->attrs) / sizeof(q->attrs[0]))
		q->attrs[q->nattrs++] = (struct ctlp_attr){ name, v, n };
}

/* Keep b's bytes as the attribute name (the request owns them). */
static int
api_keep(struct api_req *q, const struct buf *b, const char *name)
{
	free(q->assertion);
	if ((q->assertion = malloc(buf_len(b))) == NULL)
		return (BERR_NOMEM);
	memcpy(q->assertion, buf_ptr(b), buf_len(b));
	q->assertion_len = buf_len(b);
	api_attr(q, name, q->assertion, q->assertion_len);
	return (0);
}

/* The attributes every request carries: token (when signed in), from,
 * lang; format json for verbs (not the sign-in pseudo-verbs). */
static void
api_common(struct api_req *q, struct web_req *r, int json)
{
	const char *tok = http_token(r);
	size_t i;

	if (tok != NULL) {
		for (i = 0; i < WEB_TOKEN_LEN; i++)
			q->token[i] = (uint8_t)(hex_digit((unsigned char)
			    tok[2 * i]) << 4 | hex_digit((unsigned char)
			    tok[2 * i + 1]));
		api_attr(q, "token", q->token, sizeof(q->token));
	}
	api_attr(q, "from", http_peer(r), strlen(http_peer(r)));
	api_attr(q, "lang", http_lang(r), strlen(http_lang(r)));
	if (json)
		api_attr(q, "format", "json", 4);
}

/* ---- shapes of what the browser sends --------------------------------- */

/* What the browser may send as a word (webd's shapes; bastiond checks
 * the meaning). */
enum api_shape {
	SHAPE_ID,		/* a number: 1..19 digits */
	SHAPE_NAME,		/* [A-Za-z0-9._@+-]{1,64}, not "-..." */
	SHAPE_TEXT,		/* 1..512 bytes, no control character, not
				 * "-..." (it would be an option) */
};

static int
api_shape_ok(const char *s, enum api_shape shape)
{
	static const size_t max[] = { 19, 64, 512 };
	size_t i;
	int ok;

	if (s == NULL || *s == '\0' || strlen(s) > max[shape] ||
	    (shape != SHAPE_ID && s[0] == '-'))
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		ok = shape == SHAPE_ID ? isdigit((unsigned char)s[i]) :
		    shape == SHAPE_NAME ? isalnum((unsigned char)s[i]) ||
		    strchr("._-@+", s[i]) != NULL :
		    (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
		if (!ok)
			return (0);
	}
	return (1);
}

#define api_is_id(s)	api_shape_ok((s), SHAPE_ID)
#define api_is_name(s)	api_shape_ok((s), SHAPE_NAME)
#define api_is_text(s)	api_shape_ok((s), SHAPE_TEXT)

static const char *
api_str(struct web_req *r, const char *key)
{
	json_t *v = json_object_get(http_body(r), key);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

/* base64url (no padding) from the browser into bytes (at most max). */
static int
api_b64u_decode(const char *s, size_t max, uint8_t **out, size_t *len)
{
	char *t;
	size_t n, i;
	int r;

	*out = NULL;
	if (s == NULL || (n = strlen(s)) == 0 || n > 4 * (max / 3 + 1))
		return (BERR_FORMAT);
	if ((t = malloc(n + 4)) == NULL)
		return (BERR_NOMEM);
	for (i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i] == '+' ||
		    s[i] == '/' || s[i] == '=' ? '!' : s[i];
	while (i % 4 != 0)
		t[i++] = '=';
	t[i] = '\0';
	r = b64_decode(t, max, 0, out, len);
	free(t);
	return (r);
}

static char *
api_b64u_encode(const uint8_t *p, size_t n)
{
	char *s;
	int len, i;

	if ((s = malloc(4 * (n / 3 + 1) + 1)) == NULL)
		return (NULL);
	len = EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	for (i = 0; i < len; i++)
		s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	while (len > 0 && s[len - 1] == '=')
		len--;
	s[len] = '\0';
	return (s);
}

/* A base64url field of the JSON object o, decoded (at most max bytes;
 * optional ones may be absent or empty: *p NULL, *n 0). */
static int
api_field(json_t *o, const char *key, size_t max, int optional,
    uint8_t **p, size_t *n)
{
	const char *s = json_string_value(json_object_get(o, key));

	*p = NULL;
	*n = 0;
	if (optional && (s == NULL || *s == '\0'))
		return (0);
	return (api_b64u_decode(s, max, p, n));
}

/*
 * The WebAuthn assertion the page sends, {"id", "authenticatorData",
 * "clientDataJSON", "signature", "userHandle"} in base64url, as the
 * "assert" attribute (ctlp_assertion_encode: five SSH strings, each
 * within the protocol's cap).
 */
static int
api_assertion(struct web_req *r, struct api_req *q)
{
	json_t *o = json_object_get(http_body(r), "assertion");
	uint8_t *f[5] = { NULL };
	size_t n[5] = { 0 };
	struct ctlp_assertion a;
	struct buf *b = NULL;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return (BERR_FORMAT);
	if ((rc = api_field(o, "id", CTLP_MAX_CRED_ID, 0, &f[0], &n[0])) ||
	    (rc = api_field(o, "authenticatorData", CTLP_MAX_AUTHDATA, 0,
	    &f[1], &n[1])) ||
	    (rc = api_field(o, "clientDataJSON", CTLP_MAX_CLIENTDATA, 0,
	    &f[2], &n[2])) ||
	    (rc = api_field(o, "signature", CTLP_MAX_SIG, 0, &f[3], &n[3])) ||
	    (rc = api_field(o, "userHandle", CTLP_MAX_USERHANDLE, 1, &f[4],
	    &n[4])))
		goto out;
	a = (struct ctlp_assertion){ f[0], n[0], f[1], n[1], f[2], n[2],
	    f[3], n[3], f[4], n[4] };
	if ((b = buf_new(CTLP_MAX_REQUEST)) == NULL) {
		rc = BERR_NOMEM;
		goto out;
	}
	if ((rc = ctlp_assertion_encode(b, &a)) == 0)
		rc = api_keep(q, b, "assert");
out:
	for (i = 0; i < 5; i++)
		free(f[i]);
	buf_free(b);
	return (rc);
}

/* The registration {"attestationObject", "clientDataJSON"} as the
 * "attest" attribute. */
static int
api_attestation(struct web_req *r, struct api_req *q)
{
	json_t *o = json_object_get(http_body(r), "credential");
	uint8_t *att = NULL, *cdj = NULL;
	size_t alen = 0, clen = 0;
	struct ctlp_attestation a;
	struct buf *b = NULL;
	int rc;

	if (!json_is_object(o))
		return (BERR_FORMAT);
	if ((rc = api_field(o, "attestationObject", CTLP_MAX_ATTOBJ, 0, &att,
	    &alen)) != 0 || (rc = api_field(o, "clientDataJSON",
	    CTLP_MAX_CLIENTDATA, 0, &cdj, &clen)) != 0)
		goto out;
	a = (struct ctlp_attestation){ att, alen, cdj, clen };
	if ((b = buf_new(CTLP_MAX_REQUEST)) == NULL) {
		rc = BERR_NOMEM;
		goto out;
	}
	if ((rc = ctlp_attestation_encode(b, &a)) == 0)
		rc = api_keep(q, b, "attest");
out:
	free(att);
	free(cdj);
	buf_free(b);
	return (rc);
}

/* ---- the call: frames in, one answer out ------------------------------- */

static void
api_call_drop(void *arg)
{
	struct api_call *a = arg;

	if (a == NULL)
		return;
	ctlc_cancel(a->ctl);
	buf_free(a->out);
	buf_free(a->err);
	buf_free(a->special);
	free(a);
}

static int
api_on_frame(void *arg, int type, const uint8_t *p, size_t n)
{
	struct api_call *a = arg;

	switch (type) {
	case CTLP_OUT:
	case CTLP_JSON:
		return (buf_put(a->out, p, n));
	case CTLP_ERR:
		(void)buf_put(a->err, p, n);	/* the first 2 KiB */
		return (0);
	case CTLP_AUTH:
	case CTLP_CHALLENGE:
		buf_reset(a->special);
		return (buf_put_u8(a->special, (uint8_t)type) != 0 ? BERR_LIMIT :
		    buf_put(a->special, p, n));
	default:
		return (BERR_FORMAT);
	}
}

/* The verb's message for a refusal: its first line, as text. */
static void
api_refused(struct api_call *a, int status)
{
	char msg[API_ERR_MAX + 1];
	size_t n = buf_len(a->err);

	memcpy(msg, buf_ptr(a->err), n);
	msg[n] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (status == 1)
		http_finish_error(a->r, 403, "refused", msg[0] != '\0' ? msg :
		    "refused");
	else if (status == 2)
		http_finish_error(a->r, 400, "usage", msg[0] != '\0' ? msg :
		    "not understood");
	else
		http_finish_error(a->r, 502, "bastiond", "bastiond did not "
		    "answer; see the console's log");
}

/* 'a' frame -> the cookie, and its JSON {person, role} as the answer. */
static void
api_login_answer(struct api_call *a)
{
	uint8_t token[CTLP_TOKEN_LEN];
	char hex[2 * CTLP_TOKEN_LEN + 1];
	const uint8_t *json;
	size_t jlen;
	uint64_t expiry;

	if (buf_len(a->special) < 1 || buf_ptr(a->special)[0] != CTLP_AUTH ||
	    ctlp_auth_decode(buf_ptr(a->special) + 1,
	    buf_len(a->special) - 1, token, &expiry, &json, &jlen) != 0) {
		http_finish_error(a->r, 502, "bastiond", "no token came back");
		return;
	}
	hex_encode(token, sizeof(token), hex);
	http_set_cookie(a->r, hex);
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(token, sizeof(token));
	http_finish(a->r, 200, "application/json", json, jlen);
}

/* 'c' frame -> {"challenge": base64url, "action": its JSON}. */
static void
api_challenge_answer(struct api_call *a)
{
	uint8_t ch[CTLP_CHALLENGE_LEN];
	const uint8_t *json;
	size_t jlen;
	json_t *sum = NULL, *j = NULL;
	char *c = NULL, *s = NULL;

	if (buf_len(a->special) < 1 ||
	    buf_ptr(a->special)[0] != CTLP_CHALLENGE ||
	    ctlp_challenge_decode(buf_ptr(a->special) + 1,
	    buf_len(a->special) - 1, ch, &json, &jlen) != 0 ||
	    (sum = json_loadb((const char *)json, jlen,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    (c = api_b64u_encode(ch, sizeof(ch))) == NULL ||
	    (j = json_pack("{s:s,s:O}", "challenge", c, "action", sum)) ==
	    NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		http_finish_error(a->r, 502, "bastiond", "no challenge came "
		    "back");
	else
		http_finish(a->r, 200, "application/json", s, strlen(s));
	json_decref(sum);
	json_decref(j);
	free(c);
	free(s);
}

/* Whether b holds exactly one JSON value. */
static int
api_is_json(const struct buf *b)
{
	json_t *j = json_loadb((const char *)buf_ptr(b), buf_len(b), 0, NULL);

	json_decref(j);
	return (j != NULL);
}

/* A verb's text answer as {"message": TEXT} (jansson escapes it; bytes
 * that are not UTF-8 make it refuse, and then the answer is 502). */
static void
api_text_answer(struct api_call *a)
{
	json_t *j;
	char *s = NULL;

	if ((j = json_pack("{s:s%}", "message", (const char *)buf_ptr(a->out),
	    buf_len(a->out))) != NULL)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		http_finish_error(a->r, 502, "bastiond", "bastiond's answer "
		    "was not text");
	else
		http_finish(a->r, 200, "application/json", s, strlen(s));
	free(s);
}

static void
api_on_end(void *arg, int status)
{
	struct api_call *a = arg;

	a->ctl = NULL;
	if (status != 0) {
		if (a->kind == AK_LOGIN && status == 1)
			limit_failed(http_peer(a->r), time(NULL));
		api_refused(a, status);
		return;
	}
	switch (a->kind) {
	case AK_LOGIN:
		api_login_answer(a);
		return;
	case AK_CHALLENGE:
		api_challenge_answer(a);
		return;
	case AK_LOGOUT:
		http_set_cookie(a->r, NULL);
		break;
	case AK_TEXT:
		http_finish(a->r, 200, a->type, buf_ptr(a->out),
		    buf_len(a->out));
		return;
	case AK_RESULT:
		if (buf_len(a->out) > 0 && !api_is_json(a->out)) {
			api_text_answer(a);
			return;
		}
		break;
	case AK_JSON:
		break;
	}
	if (buf_len(a->out) == 0) {
		http_finish(a->r, 200, "application/json", "{}", 2);
		return;
	}
	if (!api_is_json(a->out)) {
		/* bastiond's answer is not JSON: never pass it on */
		http_finish_error(a->r, 502, "bastiond", "bastiond's answer "
		    "was not JSON");
		return;
	}
	http_finish(a->r, 200, "application/json", buf_ptr(a->out),
	    buf_len(a->out));
}

/* Send q for r and answer when it is done. */
static int
api_call(struct webd *w, struct web_req *r, struct api_req *q,
    enum api_kind kind, const char *type)
{
	struct api_call *a;
	struct ctlc_cb cb = { api_on_frame, api_on_end, NULL };
	int rc;

	q->argv[q->argc] = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->out = buf_new(WEB_ANSWER_MAX)) == NULL ||
	    (a->err = buf_new(API_ERR_MAX)) == NULL ||
	    (a->special = buf_new(CTLP_MAX_FRAME + 1)) == NULL) {
		api_call_drop(a);
		api_req_free(q);
		return (BERR_NOMEM);
	}
	a->r = r;
	a->kind = kind;
	a->type = type;
	cb.arg = a;
	rc = ctlc_start(w, q->argc, q->argv, q->attrs, q->nattrs, &cb,
	    &a->ctl);
	api_req_free(q);
	if (rc != 0) {
		api_call_drop(a);
		return (rc);
	}
	http_set_state(r, a, api_call_drop);
	http_suspend(r);
	return (0);
}

/* q with the common attributes (format json when json), answered as
 * kind. */
static int
api_send(struct webd *w, struct web_req *r, struct api_req *q, int json,
    enum api_kind kind, const char *type)
{
	api_common(q, r, json);
	return (api_call(w, r, q, kind, type));
}

/* q (a verb; format json for events, none for a download, whose 'o'
 * frames are the body) answered as a stream (sse.c). */
static int
api_stream(struct webd *w, struct web_req *r, struct api_req *q,
    enum sse_mode mode, const char *type, const char *filename)
{
	int rc;

	api_common(q, r, mode != SSE_RAW);
	q->argv[q->argc] = NULL;
	rc = sse_start(w, r, mode, q->argc, q->argv, q->attrs, q->nattrs,
	    type, filename);
	api_req_free(q);
	return (rc);
}

static int
api_bad(struct web_req *r, const char *what)
{
	return (http_reply_error(r, 400, "bad_request", what));
}

/* ---- the routes ------------------------------------------------------------ */

static int
api_login_begin(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };
	const char *user = api_str(r, "user");

	if (!api_is_name(user))
		return (api_bad(r, "user: a name"));
	api_word(&q, "login-begin");
	api_word(&q, user);
	return (api_send(w, r, &q, 0, AK_CHALLENGE, NULL));
}

static int
api_login_finish(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };
	const char *user = api_str(r, "user");
	const char *secret = api_str(r, "secret");

	if (limit_blocked(http_peer(r), time(NULL)))
		return (http_reply_error(r, 429, "too_many", "too many failed "
		    "sign-ins from this address; wait 15 minutes"));
	if (!api_is_name(user) || secret == NULL || strlen(secret) > 1024 ||
	    api_assertion(r, &q) != 0) {
		api_req_free(&q);
		return (api_bad(r, "user, secret and assertion"));
	}
	if ((q.secret = strdup(secret)) == NULL) {
		api_req_free(&q);
		return (BERR_NOMEM);
	}
	api_word(&q, "login-finish");
	api_word(&q, user);
	api_attr(&q, "secret", q.secret, strlen(q.secret));
	return (api_send(w, r, &q, 0, AK_LOGIN, NULL));
}

/* enroll-begin {user, code} / enroll-finish {user, code, secret,
 * credential: {attestationObject, clientDataJSON}} */
static int
api_enroll(struct webd *w, struct web_req *r, int finish)
{
	struct api_req q = { 0 };
	const char *user = api_str(r, "user"), *code = api_str(r, "code");
	const char *secret = api_str(r, "secret");

	if (!api_is_name(user) || !api_is_name(code))
		return (api_bad(r, "user and code"));
	api_word(&q, finish ? "enroll-finish" : "enroll-begin");
	api_word(&q, user);
	api_attr(&q, "code", code, strlen(code));
	if (finish) {
		if (secret == NULL || strlen(secret) > 1024 ||
		    api_attestation(r, &q) != 0) {
			api_req_free(&q);
			return (api_bad(r, "secret and credential"));
		}
		if ((q.secret = strdup(secret)) == NULL) {
			api_req_free(&q);
			return (BERR_NOMEM);
		}
		api_attr(&q, "secret", q.secret, strlen(q.secret));
	}
	return (api_send(w, r, &q, 0, finish ? AK_JSON : AK_CHALLENGE, NULL));
}

static int
api_enroll_begin(struct webd *w, struct web_req *r)
{
	return (api_enroll(w, r, 0));
}

static int
api_enroll_finish(struct webd *w, struct web_req *r)
{
	return (api_enroll(w, r, 1));
}

static int
api_simple(struct webd *w, struct web_req *r, const char *verb,
    enum api_kind kind)
{
	struct api_req q = { 0 };

	api_word(&q, verb);
	return (api_send(w, r, &q, 1, kind, NULL));
}

static int
api_logout(struct webd *w, struct web_req *r)
{
	return (api_simple(w, r, "logout", AK_LOGOUT));
}

static int
api_whoami(struct webd *w, struct web_req *r)
{
	return (api_simple(w, r, "whoami", AK_JSON));
}

/* GET /api/list/VERB: the read-only verbs' --json (where the verb has
 * it; else its text as {"message": TEXT}), with the filters each takes
 * from the query string. */
static int
api_list(struct webd *w, struct web_req *r)
{
	static const struct {
		const char *verb;
		const char *filters[5];		/* query key = option name */
		int all;
		int json;			/* the verb takes --json */
	} lists[] = {
		{ "requests", { NULL }, 1, 1 },
		{ "sessions", { NULL }, 1, 1 },
		{ "grants", { NULL }, 1, 1 },
		{ "vendors", { NULL }, 0, 1 },
		{ "recordings", { "engineer", "vendor", "device", "date",
		    NULL }, 0, 1 },
		{ "report", { "month", NULL }, 0, 1 },
		{ "file-requests", { NULL }, 1, 1 },	/* export approval */
	};
	struct api_req q = { 0 };
	char opts[5][24];
	const char *v;
	size_t i, k;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(lists[i].verb, http_arg(r)) == 0)
			break;
	if (i == sizeof(lists) / sizeof(lists[0]))
		return (http_reply_error(r, 404, "not_found", "no such list"));
	api_word(&q, lists[i].verb);
	if (lists[i].json)
		api_word(&q, "--json");
	if (lists[i].all && (v = http_query(r, "all")) != NULL &&
	    strcmp(v, "1") == 0)
		api_word(&q, "--all");
	for (k = 0; lists[i].filters[k] != NULL; k++) {
		if ((v = http_query(r, lists[i].filters[k])) == NULL ||
		    *v == '\0')
			continue;
		if (!api_is_name(v))
			return (api_bad(r, lists[i].filters[k]));
		snprintf(opts[k], sizeof(opts[k]), "--%s",
		    lists[i].filters[k]);
		api_word(&q, opts[k]);
		api_word(&q, v);
	}
	return (api_send(w, r, &q, lists[i].json, lists[i].json ? AK_JSON :
	    AK_RESULT, NULL));
}

/* GET /api/recordings/ID/cast (the auditor verb cast: asciicast v2) and
 * /verify */
static int
api_recording(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };
	char id[24];
	const char *what;
	size_t n = strcspn(http_arg(r), "/");

	if (n >= sizeof(id))
		return (api_bad(r, "a recording number"));
	memcpy(id, http_arg(r), n);
	id[n] = '\0';
	what = http_arg(r) + n;
	if (!api_is_id(id))
		return (api_bad(r, "a recording number"));
	if (strcmp(what, "/cast") == 0) {
		api_word(&q, "cast");
		api_word(&q, id);
		return (api_send(w, r, &q, 0, AK_TEXT,
		    "application/x-asciicast"));
	}
	if (strcmp(what, "/verify") == 0) {
		/* its verdict in words; exit status 1 (403) when the
		 * recording does not verify */
		api_word(&q, "verify");
		api_word(&q, id);
		return (api_send(w, r, &q, 0, AK_RESULT, NULL));
	}
	return (http_reply_error(r, 404, "not_found", "no such page"));
}

/* GET /api/report.csv?month=YYYY-MM */
static int
api_report_csv(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };
	const char *m = http_query(r, "month");

	api_word(&q, "report");
	api_word(&q, "--csv");
	if (m != NULL && *m != '\0') {
		if (!api_is_name(m))
			return (api_bad(r, "month: YYYY-MM"));
		api_word(&q, "--month");
		api_word(&q, m);
	}
	return (api_send(w, r, &q, 0, AK_TEXT, "text/csv; charset=utf-8"));
}

/* POST /api/prepare {"verb": V, "args": [...]}: only the verbs that
 * change state; bastiond checks the rest. */
static int
api_prepare(struct webd *w, struct web_req *r)
{
	static const char *const verbs[] = { "approve", "deny", "kill",
	    "lock", "unlock", "revoke", "export", "file-approve",
	    "file-deny" };
	json_t *args = json_object_get(http_body(r), "args");
	const char *verb = api_str(r, "verb"), *s;
	struct api_req q = { 0 };
	size_t i;

	for (i = 0; verb != NULL && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i]) == 0)
			break;
	if (verb == NULL || i == sizeof(verbs) / sizeof(verbs[0]) ||
	    !json_is_array(args) || json_array_size(args) > 8)
		return (api_bad(r, "verb and args"));
	api_word(&q, "prepare");
	api_word(&q, verb);
	for (i = 0; i < json_array_size(args); i++) {
		s = json_string_value(json_array_get(args, i));
		if (!api_is_text(s))
			return (api_bad(r, "each argument: text without "
			    "control characters, not starting with '-'"));
		api_word(&q, s);
	}
	return (api_send(w, r, &q, 1, AK_CHALLENGE, NULL));
}

/* The challenge as the commit word: base64url from the page, hex to
 * bastiond. */
static int
api_commit_words(struct web_req *r, struct api_req *q, char *hex)
{
	uint8_t *c = NULL;
	size_t n = 0;

	if (api_b64u_decode(api_str(r, "challenge"), CTLP_CHALLENGE_LEN, &c,
	    &n) != 0 || n != CTLP_CHALLENGE_LEN) {
		free(c);
		return (BERR_FORMAT);
	}
	hex_encode(c, 32, hex);
	free(c);
	api_word(q, "commit");
	api_word(q, hex);
	if (json_object_get(http_body(r), "assertion") != NULL &&
	    api_assertion(r, q) != 0)
		return (BERR_FORMAT);
	return (0);
}

/* POST /api/commit {"challenge", "assertion"} */
static int
api_commit(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };
	char hex[65];

	if (api_commit_words(r, &q, hex) != 0) {
		api_req_free(&q);
		return (api_bad(r, "challenge and assertion"));
	}
	return (api_send(w, r, &q, 1, AK_RESULT, NULL));
}

/* POST /api/export {"challenge", "assertion", "id"}: the commit of a
 * prepared export, answered with the bundle itself. */
static int
api_export(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };
	char hex[65], name[64];
	const char *id = api_str(r, "id");

	if (!api_is_id(id) || api_commit_words(r, &q, hex) != 0) {
		api_req_free(&q);
		return (api_bad(r, "id, challenge and assertion"));
	}
	snprintf(name, sizeof(name), "bastion-recording-%s.tar", id);
	return (api_stream(w, r, &q, SSE_RAW, "application/x-tar", name));
}

static int
api_feed(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };

	api_word(&q, "feed");
	return (api_stream(w, r, &q, SSE_EVENTS, NULL, NULL));
}

static int
api_watch(struct webd *w, struct web_req *r)
{
	struct api_req q = { 0 };

	if (!api_is_id(http_arg(r)))
		return (api_bad(r, "a session number"));
	api_word(&q, "watch");
	api_word(&q, http_arg(r));
	return (api_stream(w, r, &q, SSE_EVENTS, NULL, NULL));
}

const struct web_route api_routes[] = {
	{ "POST", "/api/login/begin", WR_BODY, api_login_begin },
	{ "POST", "/api/login/finish", WR_BODY, api_login_finish },
	{ "POST", "/api/enroll/begin", WR_BODY, api_enroll_begin },
	{ "POST", "/api/enroll/finish", WR_BODY, api_enroll_finish },
	{ "POST", "/api/logout", WR_AUTH, api_logout },
	{ "GET", "/api/whoami", WR_AUTH, api_whoami },
	{ "GET", "/api/list/", WR_AUTH, api_list },
	{ "GET", "/api/recordings/", WR_AUTH, api_recording },
	{ "GET", "/api/report.csv", WR_AUTH, api_report_csv },
	{ "POST", "/api/prepare", WR_AUTH | WR_BODY, api_prepare },
	{ "POST", "/api/commit", WR_AUTH | WR_BODY, api_commit },
	{ "POST", "/api/export", WR_AUTH | WR_BODY, api_export },
	{ "GET", "/api/feed", WR_AUTH, api_feed },
	{ "GET", "/api/watch/", WR_AUTH, api_watch },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
