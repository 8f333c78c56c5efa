/*
 * webverify.c - re-verify the web console's WebAuthn assertions from the
 * audit chain alone (webverify.h; `bastion-verify --audit --webauthn`).
 *
 * One pass over the chain in file order: `web.enroll result=ok` lines
 * add credentials (public key, algorithm, person), `web.login result=ok`
 * lines advance a credential's counter, `web.assertion result=ok` lines
 * become items that are checked at once (action, challenge, signature,
 * counter), and any line with an `assertion=` field is matched to the
 * item it names. Items are handed to the caller at the end, when each
 * knows its decision. Only what the chain says is used: no policy, no
 * store, no network.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auditlog.h"
#include "b64.h"
#include "buf.h"
#include "err.h"
#include "events.h"
#include "hex.h"
#include "webauthn.h"
#include "webverify.h"

#define WV_ACTION_MAGIC	"bastion-web-action-v1"
#define WV_ACTION_MAX	4096	/* the canonical action's cap, WEB.md */
#define WV_CRED_MAX	1400	/* base64url of WA_MAX_CRED_ID bytes */
#define WV_MAX_CREDS	4096
#define WV_MAX_ITEMS	100000
#define WV_MAX_ARGC	64
#define WV_MAX_ARG	4096

struct wv_cred {
	char id[WV_CRED_MAX];
	char person[80];
	struct webauthn_key key;
	uint32_t last;		/* the last counter the chain shows */
	int have_last;
};

struct wv {
	struct wv_cred *creds;
	size_t ncreds;
	struct webverify_item *items;
	size_t nitems;
	struct webverify_summary *s;
	char val[AUDITLOG_LINE_MAX];	/* one field's value */
};

/* The decision event each approvable verb writes, and the field that
 * names its target (the description's second string). */
static const struct {
	const char *verb;
	enum bev ev;
	const char *field;
} wv_decisions[] = {
	{ "approve", BEV_APPROVAL_APPROVE, "request" },
	{ "deny", BEV_APPROVAL_DENY, "request" },
	{ "kill", BEV_SESSION_KILLED, "session" },
	{ "revoke", BEV_GRANT_REVOKE, "grant" },
	{ "lock", BEV_ENGINEER_LOCK, "engineer" },
	{ "unlock", BEV_ENGINEER_UNLOCK, "engineer" },
	{ "export", BEV_NONE, NULL },	/* recording.access: none */
	{ "file-approve", BEV_FILE_EXPORT_APPROVED, "request" },
	{ "file-deny", BEV_FILE_EXPORT_DENIED, "request" },
};

/* Field key of line l into w->val; 0 or BERR_NOTFOUND / BERR_LIMIT /
 * BERR_FORMAT. */
static int
wv_field(struct wv *w, const struct auditlog_line *l, const char *key)
{
	return (auditlog_field(l->body, l->bodylen, key, w->val,
	    sizeof(w->val)));
}

/* Field key into out (outlen bytes); "" when absent or too long. */
static void
wv_field_copy(struct wv *w, const struct auditlog_line *l, const char *key,
    char *out, size_t outlen)
{
	out[0] = '\0';
	if (wv_field(w, l, key) == 0 && strlen(w->val) < outlen)
		memcpy(out, w->val, strlen(w->val) + 1);
}

static struct wv_cred *
wv_cred_find(struct wv *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->ncreds; i++)
		if (strcmp(w->creds[i].id, id) == 0)
			return (&w->creds[i]);
	return (NULL);
}

static struct webverify_item *
wv_item_new(struct wv *w, uint64_t seq)
{
	struct webverify_item *it;

	if (w->nitems >= WV_MAX_ITEMS)
		return (NULL);
	if ((w->nitems & (w->nitems - 1)) == 0) {	/* 0, 1, 2, 4, ... */
		it = realloc(w->items, (w->nitems ? 2 * w->nitems : 1) *
		    sizeof(*it));
		if (it == NULL)
			return (NULL);
		w->items = it;
	}
	it = &w->items[w->nitems++];
	memset(it, 0, sizeof(*it));
	it->seq = seq;
	it->ok = 1;
	snprintf(it->verb, sizeof(it->verb), "-");
	snprintf(it->target, sizeof(it->target), "-");
	return (it);
}

/* Mark it failed with the first reason only. Returns 0: a failure is
 * the item's, and the walk goes on. */
static int
wv_fail(struct webverify_item *it, const char *why)
{
	if (it->ok) {
		it->ok = 0;
		snprintf(it->why, sizeof(it->why), "%s", why);
	}
	return (0);
}

/* web.enroll result=ok: a credential and its public key. */
static int
wv_enroll(struct wv *w, const struct auditlog_line *l)
{
	struct wv_cred c, *old, *n;
	struct webverify_item *it;
	size_t len;

	if (wv_field(w, l, "result") != 0 || strcmp(w->val, "ok") != 0)
		return (0);
	memset(&c, 0, sizeof(c));
	wv_field_copy(w, l, "cred", c.id, sizeof(c.id));
	wv_field_copy(w, l, "person", c.person, sizeof(c.person));
	if (wv_field(w, l, "alg") != 0)
		len = 0;
	else if (strcmp(w->val, "ES256") == 0) {
		c.key.alg = SK_ALG_ECDSA;
		len = 65;
	} else if (strcmp(w->val, "EdDSA") == 0) {
		c.key.alg = SK_ALG_ED25519;
		len = 32;
	} else
		len = 0;
	if (len == 0 || c.id[0] == '\0' || c.person[0] == '\0' ||
	    wv_field(w, l, "pubkey") != 0 || hex_decode(w->val, c.key.pub,
	    len) != 0) {
		if ((it = wv_item_new(w, l->seq)) == NULL)
			return (BERR_LIMIT);
		it->orphan = 1;
		snprintf(it->person, sizeof(it->person), "%s", c.person);
		return (wv_fail(it, "a web.enroll line without a readable "
		    "credential, person, algorithm or public key"));
	}
	c.key.publen = len;
	w->s->enrolled++;
	if ((old = wv_cred_find(w, c.id)) != NULL) {
		if (old->key.alg == c.key.alg && old->key.publen == len &&
		    memcmp(old->key.pub, c.key.pub, len) == 0 &&
		    strcmp(old->person, c.person) == 0)
			return (0);
		if ((it = wv_item_new(w, l->seq)) == NULL)
			return (BERR_LIMIT);
		it->orphan = 1;
		snprintf(it->person, sizeof(it->person), "%s", c.person);
		return (wv_fail(it, "this credential was enrolled before with "
		    "another key or person: the earlier enrolment is kept"));
	}
	if (w->ncreds >= WV_MAX_CREDS)
		return (BERR_LIMIT);
	if ((w->ncreds & (w->ncreds - 1)) == 0) {
		n = realloc(w->creds, (w->ncreds ? 2 * w->ncreds : 1) *
		    sizeof(*n));
		if (n == NULL)
			return (BERR_NOMEM);
		w->creds = n;
	}
	w->creds[w->ncreds++] = c;
	return (0);
}

/* web.login result=ok: the credential's counter as the server took it. */
static void
wv_login(struct wv *w, const struct auditlog_line *l)
{
	struct wv_cred *c;
	unsigned long v;
	char *e;

	if (wv_field(w, l, "result") != 0 || strcmp(w->val, "ok") != 0 ||
	    wv_field(w, l, "cred") != 0 || (c = wv_cred_find(w,
	    w->val)) == NULL || wv_field(w, l, "counter") != 0 ||
	    w->val[0] < '0' || w->val[0] > '9')
		return;
	v = strtoul(w->val, &e, 10);
	if (*e != '\0' || v > UINT32_MAX)
		return;
	c->last = (uint32_t)v;
	c->have_last = 1;
}

/*
 * The canonical action (docs/WEB.md): check its frame and person, and
 * take the verb and target from the verb's description.
 */
static int
wv_action(struct webverify_item *it, const uint8_t *p, size_t len)
{
	struct buf *b = NULL;
	char *s[4] = { NULL, NULL, NULL, NULL }, *arg0 = NULL, *arg = NULL;
	const uint8_t *d;
	size_t n;
	uint32_t argc, i;
	int r;

	if ((r = buf_open(p, len, len, &b)) != 0) {
		wv_fail(it, "the action cannot be read");
		return (r);
	}
	if ((r = buf_get_cstring(b, &s[0], 32)) != 0 ||
	    strcmp(s[0], WV_ACTION_MAGIC) != 0) {
		wv_fail(it, "the action is not a bastion-web-action-v1");
		goto out;
	}
	if ((r = buf_get_cstring(b, &s[1], 128)) != 0 ||
	    strcmp(s[1], it->person) != 0) {
		wv_fail(it, "the action was prepared for another person");
		goto out;
	}
	if ((r = buf_get_string_direct(b, &d, &n, 80)) != 0 ||
	    (r = buf_get_string_direct(b, &d, &n, 16)) != 0 || n != 16 ||
	    (r = buf_get_cstring(b, &s[2], 32)) != 0 ||
	    (r = buf_get_u32(b, &argc)) != 0 || argc < 1 ||
	    argc > WV_MAX_ARGC || (r = buf_get_cstring(b, &arg0,
	    WV_MAX_ARG)) != 0) {
		wv_fail(it, "the action's token hash, nonce, time or words are "
		    "malformed");
		goto out;
	}
	for (i = 1; i < argc; i++) {
		free(arg);
		arg = NULL;
		if ((r = buf_get_cstring(b, &arg, WV_MAX_ARG)) != 0) {
			wv_fail(it, "the action's words are malformed");
			goto out;
		}
	}
	if ((r = buf_get_cstring(b, &s[3], 32)) != 0 ||
	    strcmp(s[3], arg0) != 0) {
		wv_fail(it, "the action's description is not of its verb");
		goto out;
	}
	snprintf(it->verb, sizeof(it->verb), "%s", s[3]);
	free(arg);
	arg = NULL;
	if ((r = buf_get_cstring(b, &arg, sizeof(it->target) - 1)) != 0) {
		wv_fail(it, "the action's description names no target");
		goto out;
	}
	snprintf(it->target, sizeof(it->target), "%s", arg);
out:
	for (i = 0; i < 4; i++)
		free(s[i]);
	free(arg0);
	free(arg);
	buf_free(b);
	return (it->ok ? 0 : BERR_AUTH);
}

/* A base64 field of l, decoded (at most max bytes) into *out. */
static int
wv_b64(struct wv *w, const struct auditlog_line *l, const char *key,
    size_t max, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	if (wv_field(w, l, key) != 0)
		return (BERR_FORMAT);
	return (b64_decode(w->val, max, 0, out, outlen));
}

/* The signature, as webauthn_assert_verify checked it at commit. */
static void
wv_signature(struct wv *w, const struct auditlog_line *l,
    struct webverify_item *it, const struct wv_cred *c,
    const uint8_t ch[32])
{
	struct webauthn_expect x;
	struct webauthn_assertion as;
	enum webauthn_verdict v;
	uint8_t *ad = NULL, *cd = NULL, *sig = NULL;
	char rp[WA_MAX_RPID + 1], origin[WA_MAX_ORIGIN + 1], uv[16];
	char why[WEBVERIFY_WHY_MAX];
	uint32_t counter = 0;
	size_t adl, cdl, sigl;

	wv_field_copy(w, l, "rp_id", rp, sizeof(rp));
	wv_field_copy(w, l, "origin", origin, sizeof(origin));
	wv_field_copy(w, l, "uv", uv, sizeof(uv));
	if (rp[0] == '\0' || origin[0] == '\0' || uv[0] == '\0') {
		wv_fail(it, "the line records no rp_id, origin or uv (written "
		    "by a bastiond before 2026-12): the signature cannot be "
		    "checked");
		return;
	}
	if (wv_b64(w, l, "authdata", WA_AUTHDATA_LEN, &ad, &adl) != 0 ||
	    wv_b64(w, l, "clientdata", WA_MAX_CLIENTDATA, &cd, &cdl) != 0 ||
	    wv_b64(w, l, "sig", WA_MAX_SIG, &sig, &sigl) != 0) {
		wv_fail(it, "authdata, clientdata or sig is not base64 of a "
		    "bounded length");
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.rp_id = rp;
	x.origin = origin;
	x.challenge = ch;
	x.challen = 32;
	x.require_uv = strcmp(uv, "required") == 0;
	as.authdata = ad;
	as.authdatalen = adl;
	as.clientdata = cd;
	as.clientdatalen = cdl;
	as.sig = sig;
	as.siglen = sigl;
	if (webauthn_assert_verify(&c->key, &x, &as, &v, &counter) != 0) {
		wv_fail(it, "the assertion could not be checked (rp_id or "
		    "origin unusable)");
		goto out;
	}
	if (v != WA_VERDICT_OK) {
		snprintf(why, sizeof(why), "the WebAuthn assertion does not "
		    "verify: %s", webauthn_verdict_str(v));
		wv_fail(it, why);
		goto out;
	}
	if (counter != it->counter) {
		wv_fail(it, "the line's counter is not the one the key signed");
		goto out;
	}
out:
	free(ad);
	free(cd);
	free(sig);
}

/* web.assertion: only accepted ones are items. */
static int
wv_assertion(struct wv *w, const struct auditlog_line *l)
{
	struct webverify_item *it;
	struct wv_cred *c;
	uint8_t ch[32], sum[32], *act = NULL;
	char cred[WV_CRED_MAX], *e;
	unsigned long v;
	size_t actlen, i;

	if (wv_field(w, l, "result") != 0 || strcmp(w->val, "ok") != 0) {
		w->s->not_accepted++;
		return (0);
	}
	w->s->assertions++;
	if ((it = wv_item_new(w, l->seq)) == NULL)
		return (BERR_LIMIT);
	wv_field_copy(w, l, "person", it->person, sizeof(it->person));
	wv_field_copy(w, l, "challenge", it->challenge,
	    sizeof(it->challenge));
	wv_field_copy(w, l, "cred", cred, sizeof(cred));
	if (hex_decode(it->challenge, ch, sizeof(ch)) != 0)
		return (wv_fail(it, "the challenge is not 64 hex digits"));
	for (i = 0; i + 1 < w->nitems; i++)
		if (!w->items[i].orphan &&
		    strcmp(w->items[i].challenge, it->challenge) == 0)
			return (wv_fail(it, "this challenge was accepted "
			    "before: an assertion used twice"));
	if (wv_field(w, l, "counter") != 0 || w->val[0] < '0' ||
	    w->val[0] > '9' || (v = strtoul(w->val, &e, 10), *e != '\0') ||
	    v > UINT32_MAX)
		return (wv_fail(it, "the counter is not a number"));
	it->counter = (uint32_t)v;
	if (wv_b64(w, l, "action", WV_ACTION_MAX, &act, &actlen) != 0)
		return (wv_fail(it, "the action is not base64 of at most 4 "
		    "KiB"));
	SHA256(act, actlen, sum);
	if (CRYPTO_memcmp(sum, ch, sizeof(ch)) != 0) {
		free(act);
		return (wv_fail(it, "SHA-256 of the action is not the "
		    "challenge: the action is not what the key signed"));
	}
	/* whose key, and did it sign; then what the signed bytes say */
	if ((c = wv_cred_find(w, cred)) == NULL)
		wv_fail(it, "no web.enroll of this credential earlier in the "
		    "chain");
	else if (strcmp(c->person, it->person) != 0)
		wv_fail(it, "the credential was enrolled for another person");
	else
		wv_signature(w, l, it, c, ch);
	if (it->ok)
		(void)wv_action(it, act, actlen);
	free(act);
	if (!it->ok)
		return (0);
	if (c->have_last && !(it->counter > c->last ||
	    (it->counter == 0 && c->last == 0)))
		return (wv_fail(it, "the signature counter did not increase "
		    "(a cloned key, or a line replayed)"));
	c->last = it->counter;
	c->have_last = 1;
	return (0);
}

/* A line naming an assertion: the decision it authorised. */
static int
wv_decision(struct wv *w, const struct auditlog_line *l, enum bev ev)
{
	struct webverify_item *it = NULL, *o;
	char why[WEBVERIFY_WHY_MAX];
	size_t i;

	for (i = w->nitems; i > 0; i--)
		if (!w->items[i - 1].orphan &&
		    strcmp(w->items[i - 1].challenge, w->val) == 0) {
			it = &w->items[i - 1];
			break;
		}
	if (it == NULL) {
		if ((o = wv_item_new(w, l->seq)) == NULL)
			return (BERR_LIMIT);
		o->orphan = 1;
		snprintf(o->challenge, sizeof(o->challenge), "%.64s", w->val);
		snprintf(o->decision, sizeof(o->decision), "%s", bev_name(ev));
		o->decision_seq = l->seq;
		wv_field_copy(w, l, "admin", o->person, sizeof(o->person));
		snprintf(why, sizeof(why), "%s names an assertion that no "
		    "accepted web.assertion before it carries", bev_name(ev));
		return (wv_fail(o, why));
	}
	if (it->decision_seq != 0) {
		snprintf(why, sizeof(why), "a second decision (%s, seq %llu) "
		    "names this assertion", bev_name(ev),
		    (unsigned long long)l->seq);
		return (wv_fail(it, why));
	}
	it->decision_seq = l->seq;
	snprintf(it->decision, sizeof(it->decision), "%s", bev_name(ev));
	for (i = 0; i < sizeof(wv_decisions) / sizeof(wv_decisions[0]); i++)
		if (strcmp(wv_decisions[i].verb, it->verb) == 0)
			break;
	if (i == sizeof(wv_decisions) / sizeof(wv_decisions[0]) ||
	    wv_decisions[i].ev != ev) {
		snprintf(why, sizeof(why), "the decision is %s, but the key "
		    "signed \"%s\"", bev_name(ev), it->verb);
		return (wv_fail(it, why));
	}
	if (wv_field(w, l, wv_decisions[i].field) != 0 ||
	    strcmp(w->val, it->target) != 0) {
		snprintf(why, sizeof(why), "the decision is about %s %.64s, "
		    "the key signed %s %.64s", wv_decisions[i].field,
		    wv_field(w, l, wv_decisions[i].field) == 0 ? w->val : "-",
		    wv_decisions[i].field, it->target);
		return (wv_fail(it, why));
	}
	if (wv_field(w, l, "admin") != 0 || strcmp(w->val, it->person) != 0 ||
	    wv_field(w, l, "via") != 0 || strcmp(w->val, "web") != 0)
		return (wv_fail(it, "the decision is not by the key's person "
		    "via web"));
	return (0);
}

static int
wv_line(struct wv *w, const struct auditlog_line *l)
{
	enum bev ev = auditlog_event(l->body, l->bodylen);

	switch (ev) {
	case BEV_WEB_ENROLL:
		return (wv_enroll(w, l));
	case BEV_WEB_LOGIN:
		wv_login(w, l);
		return (0);
	case BEV_WEB_ASSERTION:
		return (wv_assertion(w, l));
	default:
		if (wv_field(w, l, "assertion") != 0)
			return (0);
		return (wv_decision(w, l, ev));
	}
}

int
webverify_fp(FILE *fp, webverify_fn fn, void *arg,
    struct webverify_summary *s)
{
	struct auditlog_reader *rd = NULL;
	struct auditlog_line l;
	struct wv *w;
	const char *text;
	size_t len, i;
	int r;

	memset(s, 0, sizeof(*s));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (BERR_NOMEM);
	w->s = s;
	if ((r = auditlog_reader_open_fp(fp, &rd)) != 0)
		goto out;
	while ((r = auditlog_reader_next(rd, &text, &len)) == 0) {
		s->lines++;
		if (auditlog_line_parse(text, len, &l) != 0)
			continue;	/* the chain verifier's to report */
		if ((r = wv_line(w, &l)) != 0)
			goto out;
	}
	if (r != BERR_NOTFOUND && r != BERR_TRUNC)
		goto out;
	r = 0;
	for (i = 0; i < w->nitems; i++) {
		struct webverify_item *it = &w->items[i];

		if (it->ok && !it->orphan) {
			s->verified++;
			if (it->decision_seq != 0)
				s->decided++;
			else
				snprintf(it->why, sizeof(it->why),
				    "no decision event names it (the verb "
				    "refused, or wrote none: export)");
		}
		if (!it->ok)
			s->failed++;
		if (fn != NULL)
			fn(it, arg);
	}
out:
	auditlog_reader_free(rd);
	free(w->creds);
	free(w->items);
	free(w);
	return (r);
}
