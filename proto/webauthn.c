/*
 * webauthn.c - a browser's WebAuthn assertion checked with libfido2 and
 * OpenSSL (see webauthn.h for the contract and the formats).
 *
 * The same libfido2 relying-party check as the ssh touch check
 * (sk.c): here the browser hands us the authenticator data and the
 * client data whole, so nothing is rebuilt; we only decide, before
 * libfido2 does the cryptography, which of the things a relying party
 * must check was wrong, so the audit can say why.
 */
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "err.h"
#include "webauthn.h"

/* Longest expected clientDataJSON prefix: the fixed words (57 bytes), a
 * type of at most 32, a base64url challenge of WA_MAX_CHALLENGE bytes (86
 * characters) and the origin. */
#define WA_PREFIX_MAX	(57 + 32 + 86 + WA_MAX_ORIGIN)

static void
wa_fido_init(void)
{
	static int done;

	if (!done) {
		fido_init(0);
		done = 1;
	}
}

const char *
webauthn_verdict_str(enum webauthn_verdict v)
{
	static const char *const str[] = {
		[WA_VERDICT_OK] = "ok",
		[WA_VERDICT_BAD_CLIENTDATA] =
		    "client data not for this challenge and origin",
		[WA_VERDICT_BAD_AUTHDATA] = "malformed authenticator data",
		[WA_VERDICT_WRONG_RP] = "signed for another relying party id",
		[WA_VERDICT_BAD_SIGNATURE] = "bad signature",
		[WA_VERDICT_NO_TOUCH] = "user presence (touch) not asserted",
		[WA_VERDICT_NO_PIN] = "user verification (PIN) not asserted",
		[WA_VERDICT_BAD_ATTESTATION] = ("registration not accepted "
		    "(attestation, key type or credential data)"),
	};

	return ((size_t)v < sizeof(str) / sizeof(str[0]) ? str[v] : "?");
}

/* Is s 1..max bytes that JSON serialises as themselves (printable
 * ASCII, no quote, no backslash)? Only such words are put in the
 * expected prefix, so it is exactly what a browser writes. */
static int
wa_plain_word(const char *s, size_t max)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return (0);
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return (0);
	return (1);
}

/* Append the unpadded base64url spelling of p (n <= WA_MAX_CHALLENGE)
 * to out at *at (room checked by the caller's sizes). */
static void
wa_b64url(const uint8_t *p, size_t n, char *out, size_t *at)
{
	char tmp[4 * ((WA_MAX_CHALLENGE + 2) / 3) + 1];
	int len, i;

	len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
	for (i = 0; i < len && tmp[i] != '='; i++)
		out[(*at)++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' :
		    tmp[i];
}

static void
wa_append(char *out, size_t *at, const char *s)
{
	size_t n = strlen(s);

	memcpy(out + *at, s, n);
	*at += n;
}

int
webauthn_clientdata_check(const uint8_t *cd, size_t len, const char *type,
    const char *origin, const uint8_t *challenge, size_t challen, int *ok)
{
	char want[WA_PREFIX_MAX];
	size_t n = 0;

	if (ok == NULL)
		return (BERR_INVAL);
	*ok = 0;
	if (cd == NULL || challenge == NULL || challen < WA_MIN_CHALLENGE ||
	    challen > WA_MAX_CHALLENGE || !wa_plain_word(type, 32) ||
	    !wa_plain_word(origin, WA_MAX_ORIGIN))
		return (BERR_INVAL);
	wa_append(want, &n, "{\"type\":\"");
	wa_append(want, &n, type);
	wa_append(want, &n, "\",\"challenge\":\"");
	wa_b64url(challenge, challen, want, &n);
	wa_append(want, &n, "\",\"origin\":\"");
	wa_append(want, &n, origin);
	wa_append(want, &n, "\",\"crossOrigin\":false");
	/* then the object ends, or another member follows */
	if (len > WA_MAX_CLIENTDATA || len <= n || memcmp(cd, want, n) != 0)
		return (0);
	*ok = (cd[n] == '}' && len == n + 1) || cd[n] == ',';
	return (0);
}

/* One libfido2 check of the assertion with the given flag requirements
 * (sk_fido_assert). *good: it verified. */
static int
wa_fido_check(const struct webauthn_key *k, const char *rp_id,
    const uint8_t cdh[SHA256_DIGEST_LENGTH],
    const struct webauthn_assertion *as, fido_opt_t up, fido_opt_t uv,
    int *good)
{
	return (sk_fido_assert(k->alg, k->pub, k->publen, rp_id, cdh,
	    as->authdata, as->authdatalen, as->sig, as->siglen, up, uv, good));
}

int
webauthn_assert_verify(const struct webauthn_key *k,
    const struct webauthn_expect *x, const struct webauthn_assertion *as,
    enum webauthn_verdict *verdict, uint32_t *counter)
{
	uint8_t cdh[SHA256_DIGEST_LENGTH], rph[SHA256_DIGEST_LENGTH];
	const uint8_t *ad;
	uint8_t flags;
	int ok, r;

	if (verdict == NULL || counter == NULL)
		return (BERR_INVAL);
	*verdict = WA_VERDICT_BAD_SIGNATURE;
	*counter = 0;
	if (k == NULL || x == NULL || as == NULL ||
	    !wa_plain_word(x->rp_id, WA_MAX_RPID) ||
	    (k->alg == SK_ALG_ED25519 ? k->publen != 32 :
	    k->alg == SK_ALG_ECDSA ? k->publen != 65 || k->pub[0] != 0x04 :
	    1))
		return (BERR_INVAL);
	if (as->clientdata == NULL || as->authdata == NULL ||
	    (as->sig == NULL && as->siglen != 0))
		return (BERR_INVAL);

	if ((r = webauthn_clientdata_check(as->clientdata,
	    as->clientdatalen, "webauthn.get", x->origin, x->challenge,
	    x->challen, &ok)) != 0)
		return (r);
	if (!ok) {
		*verdict = WA_VERDICT_BAD_CLIENTDATA;
		return (0);
	}
	/* the console requests no extensions and this is no registration */
	ad = as->authdata;
	if (as->authdatalen != WA_AUTHDATA_LEN ||
	    (ad[32] & (WA_FLAG_AT | WA_FLAG_ED)) != 0) {
		*verdict = WA_VERDICT_BAD_AUTHDATA;
		return (0);
	}
	flags = ad[32];
	*counter = (uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 |
	    (uint32_t)ad[35] << 8 | ad[36];
	SHA256((const uint8_t *)x->rp_id, strlen(x->rp_id), rph);
	if (memcmp(ad, rph, sizeof(rph)) != 0) {
		*verdict = WA_VERDICT_WRONG_RP;
		return (0);
	}
	if (as->siglen == 0 || as->siglen > WA_MAX_SIG)
		return (0);

	wa_fido_init();
	SHA256(as->clientdata, as->clientdatalen, cdh);
	/* first the signature alone, so a forgery is never reported as a
	 * mere missing touch */
	if ((r = wa_fido_check(k, x->rp_id, cdh, as, FIDO_OPT_OMIT,
	    FIDO_OPT_OMIT, &ok)) != 0 || !ok)
		return (r);
	if ((flags & WA_FLAG_UP) == 0) {
		*verdict = WA_VERDICT_NO_TOUCH;
		return (0);
	}
	if (x->require_uv && (flags & WA_FLAG_UV) == 0) {
		*verdict = WA_VERDICT_NO_PIN;
		return (0);
	}
	/* then exactly as the FIDO2 relying party check asks */
	if ((r = wa_fido_check(k, x->rp_id, cdh, as, FIDO_OPT_TRUE,
	    x->require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT, &ok)) != 0)
		return (r);
	*verdict = ok ? WA_VERDICT_OK : WA_VERDICT_BAD_SIGNATURE;
	return (0);
}

/* ---- registration ---------------------------------------------------- */

/*
 * Before libcbor builds the tree: every collection definite and no longer
 * than the input could hold (libcbor allocates a map or array for the
 * count it declares before reading its items: 2^32 pairs in 9 bytes), and
 * no indefinite strings. Walks the items with libcbor's own streaming
 * decoder, one header at a time.
 */
struct wa_cbor_walk {
	size_t len;
	int bad;
};

static void
wa_cbor_count(void *ctx, size_t n)
{
	struct wa_cbor_walk *w = ctx;

	if (n > w->len)
		w->bad = 1;
}

static void
wa_cbor_indef(void *ctx)
{
	((struct wa_cbor_walk *)ctx)->bad = 1;
}

static int
wa_cbor_sane(const uint8_t *p, size_t len)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	struct wa_cbor_walk w = { len, 0 };
	struct cbor_decoder_result r;
	size_t off = 0;

	cb.map_start = wa_cbor_count;
	cb.array_start = wa_cbor_count;
	cb.indef_map_start = wa_cbor_indef;
	cb.indef_array_start = wa_cbor_indef;
	cb.byte_string_start = wa_cbor_indef;
	cb.string_start = wa_cbor_indef;
	while (off < len && !w.bad) {
		r = cbor_stream_decode(p + off, len - off, &cb, &w);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
			return (0);
		off += r.read;
	}
	return (!w.bad);
}

/* The value under text key k of CBOR map m, or NULL. */
static cbor_item_t *
wa_cbor_get(const cbor_item_t *m, const char *k)
{
	struct cbor_pair *p = cbor_map_handle(m);
	size_t i, n = cbor_map_size(m), kl = strlen(k);

	for (i = 0; i < n; i++)
		if (cbor_isa_string(p[i].key) &&
		    cbor_string_is_definite(p[i].key) &&
		    cbor_string_length(p[i].key) == kl &&
		    memcmp(cbor_string_handle(p[i].key), k, kl) == 0)
			return (p[i].value);
	return (NULL);
}

/* A definite byte string's bytes, or NULL. */
static const uint8_t *
wa_cbor_bytes(const cbor_item_t *v, size_t *n)
{
	if (v == NULL || !cbor_isa_bytestring(v) ||
	    !cbor_bytestring_is_definite(v))
		return (NULL);
	*n = cbor_bytestring_length(v);
	return (cbor_bytestring_handle(v));
}

/* The packed statement's signature (and leaf certificate) into c. */
static int
wa_packed(fido_cred_t *c, const cbor_item_t *st)
{
	const cbor_item_t *x5c;
	const uint8_t *p;
	size_t n;

	if ((p = wa_cbor_bytes(wa_cbor_get(st, "sig"), &n)) == NULL ||
	    fido_cred_set_sig(c, p, n) != FIDO_OK)
		return (0);
	if ((x5c = wa_cbor_get(st, "x5c")) == NULL)
		return (fido_cred_verify_self(c) == FIDO_OK);
	if (!cbor_isa_array(x5c) || !cbor_array_is_definite(x5c) ||
	    cbor_array_size(x5c) < 1 ||
	    (p = wa_cbor_bytes(cbor_array_handle(x5c)[0], &n)) == NULL ||
	    fido_cred_set_x509(c, p, n) != FIDO_OK)
		return (0);
	return (fido_cred_verify(c) == FIDO_OK);
}

/* Is the key one OpenSSL can verify with (a P-256 key a point of the
 * curve)? libfido2 takes the COSE coordinates as they come. */
static int
wa_key_usable(const struct webauthn_key *k)
{
	EVP_PKEY *pk = NULL;
	eddsa_pk_t *ed = NULL;
	es256_pk_t *es = NULL;

	if (k->alg == SK_ALG_ED25519) {
		if ((ed = eddsa_pk_new()) != NULL &&
		    eddsa_pk_from_ptr(ed, k->pub, k->publen) == FIDO_OK)
			pk = eddsa_pk_to_EVP_PKEY(ed);
	} else if ((es = es256_pk_new()) != NULL &&
	    es256_pk_from_ptr(es, k->pub, k->publen) == FIDO_OK)
		pk = es256_pk_to_EVP_PKEY(es);
	eddsa_pk_free(&ed);
	es256_pk_free(&es);
	if (pk == NULL)
		return (0);
	EVP_PKEY_free(pk);
	return (1);
}

/* libfido2 decodes authData (and checks its rpIdHash) for a COSE type. */
static int
wa_cred_try(int cose, const struct webauthn_expect *x, const uint8_t *cdh,
    const uint8_t *ad, size_t adlen, const char *fmt, const cbor_item_t *st,
    struct webauthn_cred *out)
{
	fido_cred_t *c;
	size_t n;
	int ok = 0;

	if ((c = fido_cred_new()) == NULL)
		return (BERR_NOMEM);
	if (fido_cred_set_type(c, cose) != FIDO_OK ||
	    fido_cred_set_rp(c, x->rp_id, NULL) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(c, cdh, SHA256_DIGEST_LENGTH) !=
	    FIDO_OK ||
	    fido_cred_set_authdata_raw(c, ad, adlen) != FIDO_OK ||
	    fido_cred_set_fmt(c, fmt) != FIDO_OK)
		goto out;
	if (strcmp(fmt, "packed") == 0 ? !wa_packed(c, st) :
	    cbor_map_size(st) != 0)
		goto out;
	n = fido_cred_pubkey_len(c);
	if (cose == COSE_ES256 && n == 64) {
		out->key.alg = SK_ALG_ECDSA;
		out->key.pub[0] = 0x04;
		memcpy(out->key.pub + 1, fido_cred_pubkey_ptr(c), 64);
		out->key.publen = 65;
	} else if (cose == COSE_EDDSA && n == 32) {
		out->key.alg = SK_ALG_ED25519;
		memcpy(out->key.pub, fido_cred_pubkey_ptr(c), 32);
		out->key.publen = 32;
	} else
		goto out;
	if (!wa_key_usable(&out->key))
		goto out;
	if ((n = fido_cred_id_len(c)) == 0 || n > WA_MAX_CRED_ID ||
	    fido_cred_aaguid_len(c) != sizeof(out->aaguid))
		goto out;
	memcpy(out->id, fido_cred_id_ptr(c), n);
	out->idlen = n;
	memcpy(out->aaguid, fido_cred_aaguid_ptr(c), sizeof(out->aaguid));
	out->counter = fido_cred_sigcount(c);
	snprintf(out->fmt, sizeof(out->fmt), "%s", fmt);
	ok = 1;
out:
	fido_cred_free(&c);
	return (ok);
}

int
webauthn_register_verify(const struct webauthn_expect *x,
    const uint8_t *attobj, size_t attlen, const uint8_t *cd, size_t cdlen,
    struct webauthn_cred *out, enum webauthn_verdict *verdict)
{
	uint8_t cdh[SHA256_DIGEST_LENGTH], rph[SHA256_DIGEST_LENGTH];
	struct cbor_load_result res;
	cbor_item_t *root = NULL, *fmtv, *st;
	const uint8_t *ad;
	char fmt[8];
	size_t adlen, n;
	int ok, r;

	if (verdict == NULL || out == NULL)
		return (BERR_INVAL);
	*verdict = WA_VERDICT_BAD_ATTESTATION;
	memset(out, 0, sizeof(*out));
	if (x == NULL || attobj == NULL || cd == NULL ||
	    !wa_plain_word(x->rp_id, WA_MAX_RPID))
		return (BERR_INVAL);
	if ((r = webauthn_clientdata_check(cd, cdlen, "webauthn.create",
	    x->origin, x->challenge, x->challen, &ok)) != 0)
		return (r);
	if (!ok) {
		*verdict = WA_VERDICT_BAD_CLIENTDATA;
		return (0);
	}
	if (attlen == 0 || attlen > WA_MAX_ATTOBJ ||
	    !wa_cbor_sane(attobj, attlen))
		return (0);
	root = cbor_load(attobj, attlen, &res);
	if (root == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != attlen || !cbor_isa_map(root) ||
	    !cbor_map_is_definite(root) || cbor_map_size(root) != 3)
		goto out;
	if ((fmtv = wa_cbor_get(root, "fmt")) == NULL ||
	    !cbor_isa_string(fmtv) || !cbor_string_is_definite(fmtv) ||
	    (n = cbor_string_length(fmtv)) >= sizeof(fmt))
		goto out;
	memcpy(fmt, cbor_string_handle(fmtv), n);
	fmt[n] = '\0';
	if ((strcmp(fmt, "none") != 0 && strcmp(fmt, "packed") != 0) ||
	    (st = wa_cbor_get(root, "attStmt")) == NULL || !cbor_isa_map(st) ||
	    !cbor_map_is_definite(st) ||
	    (ad = wa_cbor_bytes(wa_cbor_get(root, "authData"), &adlen)) ==
	    NULL)
		goto out;
	/* rpIdHash(32) flags(1) counter(4) aaguid(16) idlen(2) id COSE key;
	 * the key is CBOR that libfido2 loads with libcbor: the same check
	 * first */
	if (adlen < WA_AUTHDATA_LEN + 18 || (ad[32] & WA_FLAG_AT) == 0 ||
	    (ad[32] & WA_FLAG_ED) != 0)
		goto out;
	n = (size_t)ad[WA_AUTHDATA_LEN + 16] << 8 | ad[WA_AUTHDATA_LEN + 17];
	if (n > adlen - WA_AUTHDATA_LEN - 18 || !wa_cbor_sane(ad +
	    WA_AUTHDATA_LEN + 18 + n, adlen - WA_AUTHDATA_LEN - 18 - n))
		goto out;
	SHA256((const uint8_t *)x->rp_id, strlen(x->rp_id), rph);
	if (memcmp(ad, rph, sizeof(rph)) != 0) {
		*verdict = WA_VERDICT_WRONG_RP;
		goto out;
	}
	if ((ad[32] & WA_FLAG_UP) == 0) {
		*verdict = WA_VERDICT_NO_TOUCH;
		goto out;
	}
	if (x->require_uv && (ad[32] & WA_FLAG_UV) == 0) {
		*verdict = WA_VERDICT_NO_PIN;
		goto out;
	}
	wa_fido_init();
	SHA256(cd, cdlen, cdh);
	if ((r = wa_cred_try(COSE_ES256, x, cdh, ad, adlen, fmt, st,
	    out)) == 0)
		r = wa_cred_try(COSE_EDDSA, x, cdh, ad, adlen, fmt, st, out);
	if (r == 1)
		*verdict = WA_VERDICT_OK;
	else
		memset(out, 0, sizeof(*out));
	r = r == BERR_NOMEM ? r : 0;
out:
	if (root != NULL)
		cbor_decref(&root);
	return (r);
}
