/*
 * control_web.c - the web control worker: one request of bastion-webd on
 * RUN_DIR/web.sock (bastiond --control-web, root, a fresh process per
 * request, like control.c for bastionctl).
 *
 * The listener (ctlsock.c) admitted the connection by its uid alone: that
 * says "this is bastion-webd", not who the person is. Who it is comes from
 * the request: a session token (issued by control_web_auth.c after a
 * WebAuthn assertion and the PAM secret, resolved here on every request
 * against the store and the *current* policy) or, to sign in, the
 * assertion itself. The request is control protocol v2 (proto/ctlproto.h,
 * read bounded); the answer is typed frames.
 *
 * What a token may do:
 *	whoami, logout
 *	a read-only verb of the verb table (requests, sessions, ...), run as
 *	the person with via=web; format=json gives its output as one 'j'
 *	prepare VERB ARGS: a state-changing verb's describe (verb.h) gives
 *	the canonical action; the challenge is SHA-256 of it (with the
 *	person, the token's hash, a nonce and the time limit), kept once in
 *	the store; the answer is a 'c' frame
 *	commit CHALLENGE: with a fresh assertion over that challenge: the
 *	challenge consumed, the action described again and compared byte
 *	for byte, the assertion verified, web.assertion appended to the
 *	audit chain, then the verb run with via=web and assertion=CHALLENGE
 * docs/WEB.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auditlog.h"
#include "b64.h"
#include "bastiond.h"
#include "buf.h"
#include "control_web.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "verb.h"

#define WEB_ACTION_MAGIC	"bastion-web-action-v1"
#define WEB_CANON_MAX		4096	/* fits the challenge row base64 */
#define WEB_JSON_MAX		CTLP2_MAX_FRAME

/* The verbs a token runs directly: those that change nothing. */
static const char *const web_read_verbs[] = { "requests", "grants",
    "sessions", "vendors", "recordings", "verify", "keys", "watch", "cast",
    "report", "file-requests", NULL };

/* Those whose output is a terminal's: 't' frames for xterm.js. */
static const char *const web_term_verbs[] = { "watch", NULL };

/* ---- frames, spellings ----------------------------------------------- */

void
web_fail(int code, const char *fmt, ...)
{
	char msg[512];
	uint8_t x = (uint8_t)code;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	(void)ctlp_frame_write(WEB_FD, CTLP_ERR, msg, (size_t)n);
	(void)ctlp_frame_write(WEB_FD, CTLP_EXIT, &x, 1);
}

void
web_exit(int code)
{
	uint8_t x = (uint8_t)code;

	(void)ctlp_frame_write(WEB_FD, CTLP_EXIT, &x, 1);
}

void
web_sha256_hex(const void *p, size_t n, char out[WEB_HASH_HEX])
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	SHA256(p, n, h);
	hex_encode(h, sizeof(h), out);
}

void
web_b64url(const void *p, size_t n, char *out, size_t outlen)
{
	char *tmp;
	size_t i, o = 0;
	int len;

	out[0] = '\0';
	if ((tmp = malloc(4 * (n / 3 + 1) + 1)) == NULL)
		return;
	len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
	for (i = 0; i < (size_t)len && tmp[i] != '=' && o + 1 < outlen; i++)
		out[o++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	out[o] = '\0';
	free(tmp);
}

int
web_b64url_dec(const char *s, size_t slen, uint8_t *out, size_t cap,
    size_t *n)
{
	char *std;
	uint8_t *dec = NULL;
	size_t i, dlen = 0;
	int r;

	*n = 0;
	if (slen == 0 || slen > 4 * (cap / 3 + 1))
		return (BERR_LIMIT);
	if ((std = malloc(slen + 4)) == NULL)
		return (BERR_NOMEM);
	for (i = 0; i < slen; i++) {
		if (s[i] == '+' || s[i] == '/' || s[i] == '=') {
			free(std);
			return (BERR_FORMAT);
		}
		std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	while (i % 4 != 0)
		std[i++] = '=';
	std[i] = '\0';
	r = b64_decode(std, cap, B64_CANONICAL, &dec, &dlen);
	free(std);
	if (r == 0) {
		memcpy(out, dec, dlen);
		*n = dlen;
	}
	free(dec);
	return (r);
}

int
web_cdj_challenge(const uint8_t *cd, size_t len, const char *type,
    uint8_t ch[CTLP_CHALLENGE_LEN])
{
	char pre[64];
	const uint8_t *p, *q;
	size_t pl, n;
	uint8_t tmp[WA_MAX_CHALLENGE];

	pl = (size_t)snprintf(pre, sizeof(pre), "{\"type\":\"%s\","
	    "\"challenge\":\"", type);
	if (pl >= sizeof(pre) || len <= pl || memcmp(cd, pre, pl) != 0)
		return (BERR_FORMAT);
	p = cd + pl;
	/* 32 bytes are 43 base64url characters; look no further than 90 */
	if ((q = memchr(p, '"', len - pl < 90 ? len - pl : 90)) == NULL ||
	    web_b64url_dec((const char *)p, (size_t)(q - p), tmp,
	    sizeof(tmp), &n) != 0 || n != CTLP_CHALLENGE_LEN)
		return (BERR_FORMAT);
	memcpy(ch, tmp, CTLP_CHALLENGE_LEN);
	return (0);
}

void
web_cred_fp(const uint8_t *id, size_t idlen, char out[WEB_FP_MAX])
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	SHA256(id, idlen, h);
	memcpy(out, "webauthn:", 9);
	web_b64url(h, sizeof(h), out + 9, WEB_FP_MAX - 9);
}

/* ---- who --------------------------------------------------------------- */

const struct policy_person *
web_staff(const struct policy *pol, const char *name, enum policy_role *role)
{
	const struct policy_person *p;

	*role = ROLE_NONE;
	if ((p = policy_person(pol, name, role)) == NULL ||
	    (*role != ROLE_ADMIN && *role != ROLE_AUDITOR) || !p->enabled ||
	    !policy_person_active(p, time(NULL)))
		return (NULL);
	return (p);
}

struct web_find {
	const char *id;
	struct state_web_cred *out;
	int found;
};

static int
web_find_one(const struct state_web_cred *c, void *arg)
{
	struct web_find *f = arg;

	if (strcmp(c->cred_id, f->id) != 0)
		return (0);
	*f->out = *c;
	f->found = 1;
	return (1);
}

int
web_assertion_check(struct web *w, const char *person,
    const uint8_t ch[CTLP_CHALLENGE_LEN], const struct ctlp_assertion *a,
    struct state_web_cred *cred, uint32_t *counter, const char **why)
{
	struct webauthn_expect x;
	struct webauthn_assertion as;
	struct webauthn_key k;
	struct web_find f;
	enum webauthn_verdict v;
	char id[1400], fp[WEB_FP_MAX];
	size_t n;
	int locked = 0, r;

	*counter = 0;
	web_b64url(a->cred_id, a->cred_id_len, id, sizeof(id));
	f.id = id;
	f.out = cred;
	f.found = 0;
	if (state_web_cred_each(w->st, person, web_find_one, &f) < 0 ||
	    !f.found) {
		*why = "no such credential of that person";
		return (BERR_AUTH);
	}
	memset(&k, 0, sizeof(k));
	k.alg = cred->alg == -8 ? SK_ALG_ED25519 : SK_ALG_ECDSA;
	n = strlen(cred->pubkey) / 2;
	if (n > sizeof(k.pub) || hex_decode(cred->pubkey, k.pub, n) != 0) {
		*why = "the stored key is unreadable";
		return (BERR_AUTH);
	}
	k.publen = n;
	web_cred_fp(a->cred_id, a->cred_id_len, fp);
	if (state_key_locked(w->st, fp, &locked, NULL) != 0 || locked) {
		*why = "the credential is locked (its counter went back: "
		    "a cloned key?)";
		return (BERR_AUTH);
	}
	x.rp_id = w->pol->web.rp_id;
	x.origin = w->pol->web.origin;
	x.challenge = ch;
	x.challen = CTLP_CHALLENGE_LEN;
	x.require_uv = w->pol->web.require_uv;
	as.authdata = a->authdata;
	as.authdatalen = a->authdata_len;
	as.clientdata = a->clientdata;
	as.clientdatalen = a->clientdata_len;
	as.sig = a->sig;
	as.siglen = a->sig_len;
	if ((r = webauthn_assert_verify(&k, &x, &as, &v, counter)) != 0 ||
	    v != WA_VERDICT_OK) {
		*why = r != 0 ? "the assertion could not be checked" :
		    webauthn_verdict_str(v);
		return (BERR_AUTH);
	}
	if (state_counter_advance(w->st, fp, *counter, NULL, NULL) != 0) {
		(void)state_key_lock(w->st, fp, person, "counter");
		*why = "the signature counter did not advance (the credential "
		    "is now locked)";
		return (BERR_AUTH);
	}
	return (0);
}

/* The token's session, re-checked against the current policy: 0, or 1
 * after answering. */
static int
web_session(struct web *w)
{
	const struct ctlp_attr *t = ctlp_req_attr(w->req, "token");
	char hash[WEB_HASH_HEX];
	time_t now = time(NULL);
	int found = 0;

	if (t == NULL) {
		web_fail(1, "not signed in");
		return (1);
	}
	web_sha256_hex(t->value, t->len, hash);
	if (state_web_session_touch(w->st, hash, now, now + WEB_IDLE_S,
	    &w->ws, &found) != 0 || !found) {
		web_fail(1, "not signed in (the session ended or expired); "
		    "sign in again");
		return (1);
	}
	/* a policy change revokes at once: disabled, expired, removed or
	 * given another role, the token is dead */
	if ((w->person = web_staff(w->pol, w->ws.person, &w->role)) == NULL ||
	    strcmp(policy_role_name(w->role), w->ws.role) != 0) {
		(void)state_web_session_end(w->st, hash);
		web_fail(1, "not signed in (%s may not use the console now); "
		    "ask the bastion's administrator", w->ws.person);
		return (1);
	}
	return (0);
}

/* ---- verbs ----------------------------------------------------------- */

/* A terminal stream: each write one 't' frame, stamped with the time
 * since the stream began. */
struct web_term {
	uint64_t start_ms;
	int broken;
};

static uint64_t
web_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static ssize_t
web_term_write(void *cookie, const char *p, size_t n)
{
	struct web_term *t = cookie;

	if (t->broken || ctlp_term_write(WEB_FD, web_now_ms() - t->start_ms,
	    p, n) != 0) {
		t->broken = 1;
		errno = EPIPE;
		return (-1);
	}
	return ((ssize_t)n);
}

/* The verb context of the token's person; out is a memory stream when the
 * output goes in one 'j' frame, a terminal stream for watch. */
struct web_run {
	struct web_term term;
	struct control_stream so, se;
	struct control_peer cp;
	struct verb_ctx c;
	char *json;
	size_t jsonlen;
	int as_json;
};

static int
web_run_open(struct web *w, struct web_run *wr, int term)
{
	cookie_io_functions_t io = { .write = web_term_write };
	const struct ctlp_attr *fm = ctlp_req_attr(w->req, "format");
	FILE *out;

	memset(wr, 0, sizeof(*wr));
	wr->as_json = !term && fm != NULL && memcmp(fm->value, "json", 4) == 0;
	wr->term.start_ms = web_now_ms();
	if (term) {
		if ((out = fopencookie(&wr->term, "w", io)) != NULL)
			(void)setvbuf(out, NULL, _IONBF, 0);
	} else
		out = wr->as_json ? open_memstream(&wr->json, &wr->jsonlen) :
		    control_stream_open(&wr->so, WEB_FD, CTLP_OUT);
	verb_ctx_init(&wr->c, w->pol, w->role == ROLE_ADMIN ? VERB_ADMIN :
	    VERB_AUDITOR, "web", w->ws.person, out,
	    control_stream_open(&wr->se, WEB_FD, CTLP_ERR));
	wr->cp.fd = WEB_FD;
	wr->cp.out = &wr->so;
	wr->cp.err = &wr->se;
	wr->c.st = w->st;
	wr->c.from = w->from[0] != '\0' ? w->from : NULL;
	wr->c.follow = console_follow;
	wr->c.cancelled = control_cancelled;
	wr->c.cancel_arg = &wr->cp;
	if (!verb_ctx_streams_ok(&wr->c)) {
		web_fail(1, "out of memory");
		return (1);
	}
	/* xterm.js shows the screen: keep its (sanitised) sequences */
	wr->c.terminal = term;
	return (0);
}

/* Close the streams; the JSON (if any) as one 'j' frame; the exit. */
static void
web_run_close(struct web_run *wr, int rc)
{
	size_t n;

	fflush(wr->c.err);
	fclose(wr->c.out);
	fclose(wr->c.err);
	if (wr->as_json && rc == 0) {
		n = wr->jsonlen;
		while (n > 0 && wr->json[n - 1] == '\n')
			n--;
		if (n > 0 && ctlp_json_write(WEB_FD, wr->json, n) != 0)
			rc = 1;
	}
	free(wr->json);
	web_exit(rc);
}

static void
web_audit_verb(struct web *w, const char *verb, int rc)
{
	audit_ev(BEV_CONSOLE_VERB, "user", w->ws.person, "via", "web", "verb",
	    verb, "status", rc == 0 ? "ok" : rc == 2 ? "usage" : "refused",
	    "role", policy_role_name(w->role), "from", w->from[0] != '\0' ?
	    w->from : NULL, NULL);
}

static int
web_read_verb(struct web *w, int argc, char **argv)
{
	const struct cmd_entry *e;
	struct web_run wr;
	size_t i;
	int rc, report;

	for (i = 0; web_read_verbs[i] != NULL; i++)
		if (strcmp(argv[0], web_read_verbs[i]) == 0)
			break;
	e = verb_find(argv[0], w->role == ROLE_ADMIN ? VERB_ADMIN :
	    VERB_AUDITOR);
	/* the month's report is bastionctl's: auditors have it here too */
	report = w->role == ROLE_AUDITOR && strcmp(argv[0], "report") == 0;
	if ((e == NULL && !report) || web_read_verbs[i] == NULL) {
		web_fail(2, "'%.64s' is not a verb the console runs directly%s",
		    argv[0], e != NULL && verb_describer(e) != NULL ?
		    " (use prepare and commit: it needs your key)" : "");
		return (2);
	}
	for (i = 0; web_term_verbs[i] != NULL; i++)
		if (strcmp(argv[0], web_term_verbs[i]) == 0)
			break;
	if (web_run_open(w, &wr, web_term_verbs[i] != NULL) != 0)
		return (1);
	rc = report ? web_report(w, &wr.c, argc, argv) :
	    verb_exec(&wr.c, e, argc, argv);
	web_audit_verb(w, argv[0], rc);
	web_run_close(&wr, rc);
	return (rc);
}

/* ---- prepare and commit ---------------------------------------------- */

/*
 * The canonical action of words argv (argv[0] the verb) for this token:
 * the magic, person, token hash, nonce, time limit and the words, then
 * the verb's own description (*desc, *desclen: where it starts in canon).
 * The verb's errors go to c->err. 0 or the verb's status.
 */
static int
web_describe(struct web *w, struct verb_ctx *c, int argc, char **argv,
    const uint8_t nonce[16], time_t not_after, struct buf *canon,
    FILE *summary)
{
	const struct cmd_entry *e;
	char t[32];
	int i, r;

	if ((e = verb_find(argv[0], w->role == ROLE_ADMIN ? VERB_ADMIN :
	    VERB_AUDITOR)) == NULL || verb_describer(e) == NULL) {
		fprintf(c->err, "'%.64s' is not an action the console can "
		    "approve with your key\n", argv[0]);
		return (2);
	}
	snprintf(t, sizeof(t), "%lld", (long long)not_after);
	if (buf_put_cstring(canon, WEB_ACTION_MAGIC) != 0 ||
	    buf_put_cstring(canon, w->ws.person) != 0 ||
	    buf_put_cstring(canon, w->ws.hash) != 0 ||
	    buf_put_string(canon, nonce, 16) != 0 ||
	    buf_put_cstring(canon, t) != 0 ||
	    buf_put_u32(canon, (uint32_t)argc) != 0)
		return (1);
	for (i = 0; i < argc; i++)
		if (buf_put_cstring(canon, argv[i]) != 0)
			return (1);
	if ((r = verb_describe(c, e, argc, argv, canon, summary)) != 0)
		return (r);
	return (0);
}

static int
web_prepare(struct web *w, int argc, char **argv)
{
	struct state_web_challenge row;
	struct web_run wr;
	struct buf *canon;
	uint8_t nonce[16], ch[SHA256_DIGEST_LENGTH];
	char *summary = NULL;
	size_t slen = 0;
	FILE *sf;
	time_t not_after = time(NULL) + WEB_CHALLENGE_S;
	int rc = 1;

	if (argc < 2) {
		web_fail(2, "usage: prepare VERB ARGS...");
		return (2);
	}
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    (canon = buf_new(WEB_CANON_MAX)) == NULL) {
		web_fail(1, "out of memory");
		return (1);
	}
	if ((sf = open_memstream(&summary, &slen)) == NULL ||
	    web_run_open(w, &wr, 0) != 0) {
		if (sf != NULL)
			fclose(sf);
		free(summary);
		buf_free(canon);
		return (1);
	}
	rc = web_describe(w, &wr.c, argc - 1, argv + 1, nonce, not_after,
	    canon, sf);
	fclose(sf);
	if (rc == 0) {
		memset(&row, 0, sizeof(row));
		SHA256(buf_ptr(canon), buf_len(canon), ch);
		web_sha256_hex(ch, sizeof(ch), row.hash);
		snprintf(row.person, sizeof(row.person), "%s", w->ws.person);
		snprintf(row.kind, sizeof(row.kind), "action");
		(void)EVP_EncodeBlock((unsigned char *)row.data,
		    buf_ptr(canon), (int)buf_len(canon));
		row.not_after = not_after;
		if (state_web_challenge_put(w->st, &row) != 0 ||
		    ctlp_challenge_write(WEB_FD, ch, summary) != 0) {
			fprintf(wr.c.err, "prepare: the store failed\n");
			rc = 1;
		}
	}
	/* the summary went in the 'c' frame, not as output */
	wr.as_json = 0;
	web_run_close(&wr, rc);
	free(summary);
	buf_free(canon);
	return (rc);
}

/* The words and the verb's description of a stored canonical action. */
struct web_action {
	uint8_t nonce[16];
	time_t not_after;
	int argc;
	char *argv[CTLP_MAX_ARGS + 1];
	const uint8_t *desc;
	size_t desclen;
};

static void
web_action_free(struct web_action *a)
{
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
}

/* Parse the canonical action canon (ours, from the store: still read
 * through the bounded buffer). */
static int
web_action_parse(struct buf *b, struct web_action *a)
{
	const uint8_t *p;
	char *s = NULL;
	uint32_t argc, i;
	size_t n;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = buf_get_string_direct(b, &p, &n, 64)) != 0 ||
	    (r = buf_get_string_direct(b, &p, &n, 80)) != 0 ||
	    (r = buf_get_string_direct(b, &p, &n, WEB_HASH_HEX)) != 0 ||
	    (r = buf_get_string_direct(b, &p, &n, 16)) != 0 || n != 16)
		return (r != 0 ? r : BERR_FORMAT);
	memcpy(a->nonce, p, 16);
	if ((r = buf_get_cstring(b, &s, 32)) != 0)
		return (r);
	a->not_after = (time_t)strtoll(s, NULL, 10);
	free(s);
	if ((r = buf_get_u32(b, &argc)) != 0)
		return (r);
	if (argc < 1 || argc > CTLP_MAX_ARGS)
		return (BERR_FORMAT);
	for (i = 0; i < argc; i++) {
		if ((r = buf_get_cstring(b, &a->argv[i], CTLP_MAX_ARG)) != 0) {
			web_action_free(a);
			return (r);
		}
		a->argc++;
	}
	a->desc = buf_ptr(b);
	a->desclen = buf_len(b);
	return (0);
}

/* Append web.assertion: what was signed and the signature, in full. */
static void
web_audit_assertion(struct web *w, const char *hex,
    const struct state_web_challenge *row, const struct ctlp_assertion *as,
    const struct state_web_cred *cred, uint32_t counter, const char *result,
    const char *why)
{
	char ad[128], cd[1400], sig[128], ctr[16];

	EVP_EncodeBlock((unsigned char *)ad, as->authdata,
	    (int)(as->authdata_len > 64 ? 64 : as->authdata_len));
	EVP_EncodeBlock((unsigned char *)cd, as->clientdata,
	    (int)as->clientdata_len);
	EVP_EncodeBlock((unsigned char *)sig, as->sig, (int)as->sig_len);
	snprintf(ctr, sizeof(ctr), "%u", counter);
	audit_ev(BEV_WEB_ASSERTION, "person", w->ws.person, "cred",
	    cred->cred_id[0] != '\0' ? cred->cred_id : "-", "counter", ctr,
	    "challenge", hex, "action", row->data[0] != '\0' ? row->data : "-",
	    "authdata", ad, "clientdata", cd, "sig", sig, "from",
	    w->from[0] != '\0' ? w->from : "-", "result", result, "reason",
	    why, "rp_id", w->pol->web.rp_id, "origin", w->pol->web.origin,
	    "uv", w->pol->web.require_uv ? "required" : "preferred", NULL);
}

static int
web_commit(struct web *w, int argc, char **argv)
{
	const struct ctlp_attr *aa = ctlp_req_attr(w->req, "assert");
	struct state_web_challenge row;
	struct state_web_cred cred;
	struct ctlp_assertion as;
	struct web_action act;
	struct web_run wr;
	struct buf *b = NULL, *again = NULL;
	uint8_t ch[CTLP_CHALLENGE_LEN], *canon = NULL, sum[32];
	char hash[WEB_HASH_HEX], *junk = NULL;
	const char *why = NULL, *result = "refused";
	size_t clen = 0, jl = 0;
	uint32_t counter = 0;
	FILE *jf = NULL;
	int found = 0, rc = 1;

	memset(&cred, 0, sizeof(cred));
	memset(&row, 0, sizeof(row));
	memset(&act, 0, sizeof(act));
	if (argc != 2 || strlen(argv[1]) != 2 * CTLP_CHALLENGE_LEN ||
	    hex_decode(argv[1], ch, sizeof(ch)) != 0) {
		web_fail(2, "usage: commit CHALLENGE (64 hex digits, from "
		    "prepare)");
		return (2);
	}
	/* no assertion, no action: and the challenge stays unused */
	if (aa == NULL || ctlp_assertion_decode(aa->value, aa->len,
	    &as) != 0) {
		audit_ev(BEV_WEB_ASSERTION, "person", w->ws.person, "cred",
		    "-", "counter", "-", "challenge", argv[1], "action", "-",
		    "authdata", "-", "clientdata", "-", "sig", "-", "from",
		    w->from[0] != '\0' ? w->from : "-", "result", "refused",
		    "reason", "no assertion", NULL);
		web_fail(1, "refused: an action needs a fresh touch of your "
		    "security key");
		return (1);
	}
	web_sha256_hex(ch, sizeof(ch), hash);
	if (state_web_challenge_take(w->st, hash, w->ws.person, "action",
	    time(NULL), &row, &found) != 0 || !found) {
		why = "no unused challenge (replayed, expired or another "
		    "person's)";
		result = "replayed";
		goto out;
	}
	if (b64_decode(row.data, WEB_CANON_MAX, 0, &canon, &clen) != 0 ||
	    (SHA256(canon, clen, sum), memcmp(sum, ch, sizeof(ch))) != 0 ||
	    (b = buf_from(canon, clen)) == NULL ||
	    web_action_parse(b, &act) != 0) {
		why = "the stored action is unreadable";
		goto out;
	}
	/* the same words described now must give the same bytes: the row
	 * was not decided, changed or replaced meanwhile */
	if ((again = buf_new(WEB_CANON_MAX)) == NULL ||
	    (jf = open_memstream(&junk, &jl)) == NULL) {
		why = "out of memory";
		goto out;
	}
	if (web_run_open(w, &wr, 0) != 0) {
		why = "out of memory";
		goto out;
	}
	if (web_describe(w, &wr.c, act.argc, act.argv, act.nonce,
	    act.not_after, again, jf) != 0 || buf_len(again) != clen ||
	    memcmp(buf_ptr(again), canon, clen) != 0) {
		why = "the action changed since it was prepared";
		result = "changed";
		fclose(jf);
		jf = NULL;
		wr.as_json = 0;
		audit_ev(BEV_WEB_ASSERTION, "person", w->ws.person, "cred",
		    "-", "counter", "-", "challenge", argv[1], "action",
		    row.data, "authdata", "-", "clientdata", "-", "sig", "-",
		    "from", w->from[0] != '\0' ? w->from : "-", "result",
		    result, "reason", why, NULL);
		fprintf(wr.c.err, "refused: %s; look again and decide anew\n",
		    why);
		web_run_close(&wr, 1);
		rc = 1;
		why = NULL;	/* answered */
		goto done;
	}
	fclose(jf);
	jf = NULL;
	if (web_assertion_check(w, w->ws.person, ch, &as, &cred, &counter,
	    &why) != 0) {
		wr.as_json = 0;
		web_audit_assertion(w, argv[1], &row, &as, &cred, counter,
		    "refused", why);
		fprintf(wr.c.err, "refused: the security key's answer was not "
		    "accepted (%s)\n", why);
		web_run_close(&wr, 1);
		why = NULL;
		goto done;
	}
	web_audit_assertion(w, argv[1], &row, &as, &cred, counter, "ok",
	    NULL);
	wr.c.assertion = argv[1];
	rc = verb_exec(&wr.c, verb_find(act.argv[0], w->role == ROLE_ADMIN ?
	    VERB_ADMIN : VERB_AUDITOR), act.argc, act.argv);
	web_audit_verb(w, act.argv[0], rc);
	web_run_close(&wr, rc);
	goto done;
out:
	web_audit_assertion(w, argv[1], &row, &as, &cred, counter, result,
	    why);
	web_fail(1, "refused: %s", why);
	rc = 1;
done:
	if (jf != NULL)
		fclose(jf);
	free(junk);
	web_action_free(&act);
	buf_free(b);
	buf_free(again);
	free(canon);
	return (rc);
}

/* ---- feed -------------------------------------------------------------- */

/*
 * A stream of changes for the console's lists: one 'j' frame
 * {"kind":"request"}, {"kind":"session"} or {"kind":"file"} each time
 * the store actor pushes a new request, a decision on one, a kill or a
 * file export request or its decision (a wildcard
 * subscription, id 0), until webd closes the connection. The page then
 * fetches the list again: the feed carries no data of its own.
 */
static int
web_feed(struct web *w)
{
	static const struct {
		int kind;
		const char *json;
	} kinds[] = {
		{ STATE_EV_REQUEST, "{\"kind\":\"request\"}" },
		{ STATE_EV_SESSION, "{\"kind\":\"session\"}" },
		{ STATE_EV_EXPORT, "{\"kind\":\"file\"}" },	/* export approval */
	};
	struct state_sub *sub[3] = { NULL, NULL, NULL };
	struct control_stream so = { WEB_FD, CTLP_OUT, 0 };
	struct control_peer cp = { WEB_FD, &so, &so };
	size_t i;
	int r = 0;

	for (i = 0; i < 3; i++)
		if (state_subscribe(w->st, kinds[i].kind, 0, &sub[i]) != 0) {
			web_fail(1, "the bastion cannot follow changes now (no "
			    "store actor); reload the page later");
			r = 1;
			goto out;
		}
	/* the feed is open: a first frame so webd knows */
	if (ctlp_json_write(WEB_FD, "{\"kind\":\"open\"}", 15) != 0)
		goto out;
	while (!control_cancelled(&cp, 0))
		for (i = 0; i < 3; i++)
			if (state_await(sub[i], 250) == 1 &&
			    ctlp_json_write(WEB_FD, kinds[i].json,
			    strlen(kinds[i].json)) != 0)
				goto out;
out:
	for (i = 0; i < 3; i++)
		state_unsubscribe(sub[i]);
	return (r);
}

/* ---- whoami, logout -------------------------------------------------- */

static int
web_whoami(struct web *w)
{
	char json[256];
	int n;

	n = snprintf(json, sizeof(json), "{\"person\":\"%s\",\"role\":\"%s\","
	    "\"expires\":%lld,\"idle_until\":%lld,\"language\":\"%s\","
	    "\"time_zone\":\"%s\"}", w->ws.person, w->ws.role,
	    (long long)w->ws.abs_until, (long long)w->ws.idle_until,
	    w->pol->web.language, w->pol->web.time_zone);
	if (n < 0 || (size_t)n >= sizeof(json) ||
	    ctlp_json_write(WEB_FD, json, (size_t)n) != 0)
		return (1);
	web_exit(0);
	return (0);
}

static int
web_logout(struct web *w)
{
	(void)state_web_session_end(w->st, w->ws.hash);
	audit_ev(BEV_WEB_LOGOUT, "person", w->ws.person, "from",
	    w->from[0] != '\0' ? w->from : "-", NULL);
	web_exit(0);
	return (0);
}

/* ---- the worker -------------------------------------------------------- */

static int
web_dispatch(struct web *w)
{
	int argc = w->req->argc;
	char **argv = w->req->argv;

	if (strcmp(argv[0], "login-begin") == 0)
		return (web_login_begin(w, argc, argv));
	if (strcmp(argv[0], "login-finish") == 0)
		return (web_login_finish(w, argc, argv));
	if (strcmp(argv[0], "enroll-begin") == 0)
		return (web_enroll_begin(w, argc, argv));
	if (strcmp(argv[0], "enroll-finish") == 0)
		return (web_enroll_finish(w, argc, argv));
	if (web_session(w) != 0)
		return (1);
	if (strcmp(argv[0], "whoami") == 0)
		return (web_whoami(w));
	if (strcmp(argv[0], "logout") == 0)
		return (web_logout(w));
	if (strcmp(argv[0], "prepare") == 0)
		return (web_prepare(w, argc, argv));
	if (strcmp(argv[0], "commit") == 0)
		return (web_commit(w, argc, argv));
	if (strcmp(argv[0], "feed") == 0)
		return (web_feed(w));
	return (web_read_verb(w, argc, argv));
}

int
control_web_main(const char *policy_path, const char *who, int debug)
{
	struct web w;
	struct policy *pol = NULL;
	char *from = NULL;
	int r, rc = 1;

	memset(&w, 0, sizeof(w));
	if (control_worker_init("bastiond-web", debug) != 0)
		return (1);
	alarm(30);
	if ((r = ctlp_request2_read(WEB_FD, &w.req)) != 0) {
		web_fail(2, "bad request (%s): bastion-webd and bastiond must "
		    "be of the same version", berr_str(r));
		log_warn("web request from %s: %s", who, berr_str(r));
		return (2);
	}
	alarm(0);
	if (policy_load(policy_path, NULL, NULL, &pol) != 0 ||
	    !pol->web.set) {
		web_fail(1, "the bastion's policy has no web console now");
		goto out;
	}
	w.pol = pol;
	w.policy_path = policy_path;
	if (ctlp_req_attr_str(w.req, "from", &from) != 0)
		goto out;
	w.from = from != NULL ? from : "";
	(void)auditlog_open(pol->state_dir, AUDITLOG_LAZY);
	if (state_open(pol->state_dir, &w.st) != 0) {
		web_fail(1, "the state store cannot be opened; see the "
		    "bastion's log");
		goto out;
	}
	rc = web_dispatch(&w);
out:
	state_close(w.st);
	ctlp_req_free(w.req);
	free(from);
	policy_free(pol);
	return (rc);
}
