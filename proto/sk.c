/*
 * sk.c - OpenSSH security-key formats and their verification with libfido2
 * and OpenSSL (see sk.h for the contract, docs/FIDO2.md for the formats).
 *
 * Why libfido2 and not a hand-made check: it is the reference relying
 * party code for FIDO2 (authenticator data layout, flag checks, COSE
 * keys, packed attestation), and the same library OpenSSH uses to talk to
 * the keys. We only rebuild what OpenSSH's wire format leaves out: the
 * authenticator data (SHA256(application) || flags || counter) and the
 * client data hash (SHA256(message)).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "hex.h"
#include "sk.h"

#define SK_ATTEST_MAGIC		"ssh-sk-attest-v01"
#define SK_MAX_CERT		16384
#define SK_MAX_ATTEST_PART	4096
#define SK_AAGUID_OID		"1.3.6.1.4.1.45724.1.1.4"

static void
sk_fido_init(void)
{
	static int done;

	if (!done) {
		fido_init(0);
		done = 1;
	}
}

/* ---- base64 and fingerprints -------------------------------------------- */

int
sk_fingerprint(const uint8_t *blob, size_t len, char *out, size_t outlen)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char b64[48];
	int n;

	if (blob == NULL || out == NULL || outlen < SK_FP_LEN)
		return (BERR_INVAL);
	SHA256(blob, len, h);
	n = EVP_EncodeBlock((unsigned char *)b64, h, sizeof(h));
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	snprintf(out, outlen, "SHA256:%s", b64);
	return (0);
}

int
sk_fingerprint_base64(const char *b64, char *out, size_t outlen)
{
	uint8_t *blob = NULL;
	size_t len;
	int r;

	if ((r = b64_decode(b64, SK_MAX_BLOB, B64_CANONICAL, &blob, &len)) != 0)
		return (r);
	r = sk_fingerprint(blob, len, out, outlen);
	free(blob);
	return (r);
}

/* ---- keys ------------------------------------------------------------------ */

/* Read an SSH string and require it to equal want. */
static int
sk_get_string_eq(struct buf *b, const char *want)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(b, &p, &len, 256)) != 0)
		return (r);
	return (len == strlen(want) && memcmp(p, want, len) == 0 ? 0 :
	    BERR_FORMAT);
}

/* Read the key type string: which sk algorithm it names. */
static int
sk_get_type(struct buf *b, enum sk_alg *alg)
{
	const uint8_t *p;
	size_t len;
	int r;

	*alg = SK_ALG_NONE;
	if ((r = buf_get_string_direct(b, &p, &len, 256)) != 0)
		return (r);
	if (len == strlen(SK_TYPE_ED25519) &&
	    memcmp(p, SK_TYPE_ED25519, len) == 0)
		*alg = SK_ALG_ED25519;
	else if (len == strlen(SK_TYPE_ECDSA) &&
	    memcmp(p, SK_TYPE_ECDSA, len) == 0)
		*alg = SK_ALG_ECDSA;
	else
		return (BERR_FORMAT);
	return (0);
}

int
sk_key_from_blob(const uint8_t *blob, size_t len, struct sk_key *k)
{
	struct buf *b = NULL;
	const uint8_t *p;
	size_t n;
	int r;

	if (k == NULL)
		return (BERR_INVAL);
	memset(k, 0, sizeof(*k));
	if ((r = buf_open(blob, len, SK_MAX_BLOB, &b)) != 0 ||
	    (r = sk_get_type(b, &k->alg)) != 0)
		goto out;
	if (k->alg == SK_ALG_ED25519) {
		if ((r = buf_get_string_direct(b, &p, &n, 32)) != 0 ||
		    (r = n == 32 ? 0 : BERR_FORMAT) != 0)
			goto out;
	} else {
		if ((r = sk_get_string_eq(b, "nistp256")) != 0 ||
		    (r = buf_get_string_direct(b, &p, &n, 65)) != 0 ||
		    (r = n == 65 && p[0] == 0x04 ? 0 : BERR_FORMAT) != 0)
			goto out;
	}
	memcpy(k->pub, p, n);
	k->publen = n;
	if ((r = buf_get_string_direct(b, &p, &n, SK_MAX_APPLICATION)) != 0)
		goto out;
	if (n == 0 || memchr(p, '\0', n) != NULL || buf_len(b) != 0) {
		r = BERR_FORMAT;
		goto out;
	}
	memcpy(k->application, p, n);
	k->application[n] = '\0';
	r = sk_fingerprint(blob, len, k->fp, sizeof(k->fp));
out:
	buf_free(b);
	if (r != 0) {
		memset(k, 0, sizeof(*k));
		if (r == BERR_TRUNC || r == BERR_LIMIT)
			r = BERR_FORMAT;
	}
	return (r);
}

int
sk_key_from_base64(const char *b64, struct sk_key *k)
{
	uint8_t *blob = NULL;
	size_t len;
	int r;

	if (k == NULL)
		return (BERR_INVAL);
	memset(k, 0, sizeof(*k));
	if ((r = b64_decode(b64, SK_MAX_BLOB, B64_CANONICAL, &blob, &len)) != 0)
		return (r == BERR_LIMIT ? BERR_FORMAT : r);
	r = sk_key_from_blob(blob, len, k);
	free(blob);
	return (r);
}

const char *
sk_key_type(const struct sk_key *k)
{
	if (k == NULL)
		return ("?");
	return (k->alg == SK_ALG_ED25519 ? SK_TYPE_ED25519 :
	    k->alg == SK_ALG_ECDSA ? SK_TYPE_ECDSA : "?");
}

/* ---- signatures ------------------------------------------------------------ */

/* An SSH mpint that must be a non-negative integer of at most 32 bytes:
 * returns it as a BIGNUM (NULL on error). */
static BIGNUM *
sk_get_mpint256(struct buf *b)
{
	const uint8_t *p;
	size_t n;

	if (buf_get_string_direct(b, &p, &n, 33) != 0)
		return (NULL);
	if (n > 0 && (p[0] & 0x80) != 0)
		return (NULL);			/* negative */
	if (n > 0 && p[0] == 0) {
		if (n > 1 && (p[1] & 0x80) == 0)
			return (NULL);		/* needless leading zero */
		p++;
		n--;
	}
	if (n > 32)
		return (NULL);
	return (BN_bin2bn(p, (int)n, NULL));
}

/* ECDSA "mpint r, mpint s" -> DER ECDSA-Sig-Value into s->sig. */
static int
sk_ecdsa_to_der(const uint8_t *in, size_t len, struct sk_sig *s)
{
	struct buf *b;
	BIGNUM *r = NULL, *ss = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	int n, ret = BERR_FORMAT;

	if ((b = buf_from(in, len)) == NULL)
		return (BERR_NOMEM);
	if ((r = sk_get_mpint256(b)) == NULL ||
	    (ss = sk_get_mpint256(b)) == NULL || buf_len(b) != 0)
		goto out;
	if ((es = ECDSA_SIG_new()) == NULL) {
		ret = BERR_NOMEM;
		goto out;
	}
	if (ECDSA_SIG_set0(es, r, ss) != 1)
		goto out;
	r = ss = NULL;			/* owned by es now */
	if ((n = i2d_ECDSA_SIG(es, &der)) <= 0 || (size_t)n > sizeof(s->sig))
		goto out;
	memcpy(s->sig, der, (size_t)n);
	s->siglen = (size_t)n;
	ret = 0;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(ss);
	buf_free(b);
	return (ret);
}

int
sk_sig_parse(const uint8_t *blob, size_t len, struct sk_sig *s)
{
	struct buf *b = NULL;
	const uint8_t *p;
	size_t n;
	int r;

	if (s == NULL)
		return (BERR_INVAL);
	memset(s, 0, sizeof(*s));
	if ((r = buf_open(blob, len, SK_MAX_BLOB, &b)) != 0 ||
	    (r = sk_get_type(b, &s->alg)) != 0 ||
	    (r = buf_get_string_direct(b, &p, &n, 1024)) != 0)
		goto out;
	if (s->alg == SK_ALG_ED25519) {
		if (n != 64) {
			r = BERR_FORMAT;
			goto out;
		}
		memcpy(s->sig, p, n);
		s->siglen = n;
	} else if ((r = sk_ecdsa_to_der(p, n, s)) != 0)
		goto out;
	if ((r = buf_get_u8(b, &s->flags)) != 0 ||
	    (r = buf_get_u32(b, &s->counter)) != 0)
		goto out;
	if (buf_len(b) != 0)
		r = BERR_FORMAT;
out:
	buf_free(b);
	if (r != 0) {
		memset(s, 0, sizeof(*s));
		if (r != BERR_NOMEM)
			r = BERR_FORMAT;
	}
	return (r);
}

const char *
sk_verdict_str(enum sk_verdict v)
{
	static const char *const str[] = {
		[SK_VERDICT_OK] = "signature valid, key touched",
		[SK_VERDICT_BAD_SIGNATURE] = "signature does not verify",
		[SK_VERDICT_NO_TOUCH] = "user presence (touch) not asserted",
		[SK_VERDICT_NO_PIN] = "user verification (PIN) not asserted",
	};

	return ((size_t)v < sizeof(str) / sizeof(str[0]) ? str[v] : "?");
}

/* One libfido2 assertion check (sk.h); a signature or authenticator data
 * libfido2 will not even take is a bad signature, not a failure. */
int
sk_fido_assert(enum sk_alg alg, const uint8_t *pub, size_t publen,
    const char *rp, const uint8_t *cdh, const uint8_t *authdata,
    size_t adlen, const uint8_t *sig, size_t siglen, int up, int uv,
    int *ok)
{
	fido_assert_t *a = NULL;
	eddsa_pk_t *ed = NULL;
	es256_pk_t *es = NULL;
	int e, r = BERR_CRYPTO;

	*ok = 0;
	if ((a = fido_assert_new()) == NULL)
		return (BERR_NOMEM);
	if (fido_assert_set_count(a, 1) != FIDO_OK ||
	    fido_assert_set_rp(a, rp) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, SHA256_DIGEST_LENGTH) !=
	    FIDO_OK ||
	    fido_assert_set_up(a, (fido_opt_t)up) != FIDO_OK ||
	    fido_assert_set_uv(a, (fido_opt_t)uv) != FIDO_OK)
		goto out;
	if (fido_assert_set_authdata_raw(a, 0, authdata, adlen) != FIDO_OK ||
	    fido_assert_set_sig(a, 0, sig, siglen) != FIDO_OK) {
		r = 0;
		goto out;
	}
	if (alg == SK_ALG_ED25519) {
		if ((ed = eddsa_pk_new()) == NULL ||
		    eddsa_pk_from_ptr(ed, pub, publen) != FIDO_OK)
			goto out;
		e = fido_assert_verify(a, 0, COSE_EDDSA, ed);
	} else {
		if ((es = es256_pk_new()) == NULL ||
		    es256_pk_from_ptr(es, pub, publen) != FIDO_OK)
			goto out;
		e = fido_assert_verify(a, 0, COSE_ES256, es);
	}
	*ok = e == FIDO_OK;
	r = 0;
out:
	eddsa_pk_free(&ed);
	es256_pk_free(&es);
	fido_assert_free(&a);
	return (r);
}

/* One libfido2 assertion check of s by k over the client data hash, with
 * the given presence/verification requirements. *ok: it verified. What
 * the signer sent: flags claiming attested data or extensions (which SSH
 * cannot carry) make libfido2 refuse the authenticator data; that is a
 * bad signature, not a failure of the check. */
static int
sk_assert_check(const struct sk_key *k, const struct sk_sig *s,
    const uint8_t cdh[SHA256_DIGEST_LENGTH], fido_opt_t up, fido_opt_t uv,
    int *ok)
{
	uint8_t ad[SHA256_DIGEST_LENGTH + 1 + 4];

	SHA256((const uint8_t *)k->application, strlen(k->application), ad);
	ad[32] = s->flags;
	ad[33] = (uint8_t)(s->counter >> 24);
	ad[34] = (uint8_t)(s->counter >> 16);
	ad[35] = (uint8_t)(s->counter >> 8);
	ad[36] = (uint8_t)s->counter;
	return (sk_fido_assert(k->alg, k->pub, k->publen, k->application, cdh,
	    ad, sizeof(ad), s->sig, s->siglen, up, uv, ok));
}

int
sk_sig_verify(const struct sk_key *k, const struct sk_sig *s,
    const uint8_t *data, size_t datalen, int require_uv,
    enum sk_verdict *verdict)
{
	uint8_t cdh[SHA256_DIGEST_LENGTH];
	int ok, r;

	if (verdict == NULL)
		return (BERR_INVAL);
	*verdict = SK_VERDICT_BAD_SIGNATURE;
	if (k == NULL || s == NULL || data == NULL)
		return (BERR_INVAL);
	if (k->alg == SK_ALG_NONE || s->alg != k->alg || s->siglen == 0)
		return (0);
	sk_fido_init();
	SHA256(data, datalen, cdh);
	/* first the signature alone, so a forgery is never reported as a
	 * mere missing touch */
	if ((r = sk_assert_check(k, s, cdh, FIDO_OPT_OMIT, FIDO_OPT_OMIT,
	    &ok)) != 0 || !ok)
		return (r);
	if ((s->flags & SK_FLAG_UP) == 0) {
		*verdict = SK_VERDICT_NO_TOUCH;
		return (0);
	}
	if (require_uv && (s->flags & SK_FLAG_UV) == 0) {
		*verdict = SK_VERDICT_NO_PIN;
		return (0);
	}
	/* then exactly as the FIDO2 relying party check asks */
	if ((r = sk_assert_check(k, s, cdh, FIDO_OPT_TRUE, require_uv ?
	    FIDO_OPT_TRUE : FIDO_OPT_OMIT, &ok)) != 0)
		return (r);
	*verdict = ok ? SK_VERDICT_OK : SK_VERDICT_BAD_SIGNATURE;
	return (0);
}

/* ---- attestation ----------------------------------------------------------- */

const char *
sk_attest_result_str(enum sk_attest_result r)
{
	static const char *const str[] = {
		[SK_ATTEST_OK] = "attestation verified",
		[SK_ATTEST_MALFORMED] = "attestation is malformed",
		[SK_ATTEST_BAD_SIGNATURE] =
		    "attestation signature does not verify",
		[SK_ATTEST_WRONG_KEY] = "attestation is for another key",
		[SK_ATTEST_UNTRUSTED] =
		    "attestation certificate is not from a trusted root",
		[SK_ATTEST_AAGUID] =
		    "authenticator model (AAGUID) is not allowed",
	};

	return ((size_t)r < sizeof(str) / sizeof(str[0]) ? str[r] : "?");
}

int
sk_aaguid_parse(const char *s, uint8_t aaguid[16])
{
	size_t n = 0;
	int hi = -1;

	if (s == NULL || aaguid == NULL)
		return (BERR_INVAL);
	for (; *s != '\0'; s++) {
		int v;

		if (*s == '-')
			continue;
		if ((v = hex_digit((unsigned char)*s)) < 0)
			return (BERR_FORMAT);
		if (n >= 16)
			return (BERR_FORMAT);
		if (hi < 0)
			hi = v;
		else {
			aaguid[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return (n == 16 && hi < 0 ? 0 : BERR_FORMAT);
}

/* Name of a certificate in RFC 2253 form, control characters escaped. */
static void
sk_x509_name(const X509_NAME *name, char *out, size_t len)
{
	BIO *bio;
	int n;
	size_t i;

	out[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(bio, out, (int)len - 1)) > 0)
		out[n] = '\0';
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	BIO_free(bio);
}

/* The FIDO AAGUID extension of cert: 1 with aaguid set, 0 if absent,
 * -1 if malformed. */
static int
sk_cert_aaguid(X509 *cert, uint8_t aaguid[16])
{
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *inner = NULL;
	const ASN1_OCTET_STRING *os;
	const unsigned char *p;
	int idx, ret = -1;

	if ((obj = OBJ_txt2obj(SK_AAGUID_OID, 1)) == NULL)
		return (-1);
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return (0);
	os = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	if (os == NULL)
		return (-1);
	p = ASN1_STRING_get0_data(os);
	if ((inner = d2i_ASN1_OCTET_STRING(NULL, &p,
	    ASN1_STRING_length(os))) != NULL &&
	    ASN1_STRING_length(inner) == 16) {
		memcpy(aaguid, ASN1_STRING_get0_data(inner), 16);
		ret = 1;
	}
	ASN1_OCTET_STRING_free(inner);
	return (ret);
}

/* Every PEM certificate in the files of dir, into a new store. */
static int
sk_load_roots(const char *dir, X509_STORE **out, char *why, size_t whylen)
{
	X509_STORE *store;
	struct dirent *de;
	char path[4096];
	DIR *d;
	size_t n = 0;

	*out = NULL;
	if ((d = opendir(dir)) == NULL) {
		snprintf(why, whylen, "cannot read the trusted roots directory "
		    "%s: %s", dir, strerror(errno));
		return (BERR_SYS);
	}
	if ((store = X509_STORE_new()) == NULL) {
		closedir(d);
		return (BERR_NOMEM);
	}
	while ((de = readdir(d)) != NULL) {
		X509 *x;
		FILE *f;

		if (de->d_name[0] == '.' || snprintf(path, sizeof(path),
		    "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    (f = fopen(path, "r")) == NULL)
			continue;
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) == 1)
				n++;
			X509_free(x);
		}
		fclose(f);
	}
	closedir(d);
	if (n == 0) {
		X509_STORE_free(store);
		snprintf(why, whylen, "the trusted roots directory %s holds no "
		    "PEM certificate", dir);
		return (BERR_SYS);
	}
	/* a vendor may publish an intermediate as its attestation root */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	*out = store;
	return (0);
}

/* Does cert chain to a certificate in roots_dir? */
static int
sk_cert_trusted(X509 *cert, const char *roots_dir, int *trusted, char *why,
    size_t whylen)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int r;

	*trusted = 0;
	if ((r = sk_load_roots(roots_dir, &store, why, whylen)) != 0)
		return (r);
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, cert, NULL) != 1) {
		r = BERR_NOMEM;
		goto out;
	}
	if (X509_verify_cert(ctx) == 1)
		*trusted = 1;
	else
		snprintf(why, whylen, "the attestation certificate does not "
		    "chain to a certificate in %s: %s", roots_dir,
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return (r);
}

/* Parts of an ssh-sk-attest-v01 blob (pointers into the buffer). */
struct sk_attest_parts {
	const uint8_t *cert, *sig, *authdata;
	size_t cert_len, sig_len, authdata_len;
};

static int
sk_attest_split(struct buf *b, struct sk_attest_parts *p)
{
	const uint8_t *resvd;
	size_t resvd_len;
	uint32_t flags;

	if (sk_get_string_eq(b, SK_ATTEST_MAGIC) != 0 ||
	    buf_get_string_direct(b, &p->cert, &p->cert_len,
	    SK_MAX_CERT) != 0 ||
	    buf_get_string_direct(b, &p->sig, &p->sig_len,
	    SK_MAX_ATTEST_PART) != 0 ||
	    buf_get_string_direct(b, &p->authdata, &p->authdata_len,
	    SK_MAX_ATTEST_PART) != 0 ||
	    buf_get_u32(b, &flags) != 0 ||
	    buf_get_string_direct(b, &resvd, &resvd_len,
	    SK_MAX_ATTEST_PART) != 0 || buf_len(b) != 0 ||
	    p->cert_len == 0 || p->sig_len == 0 || p->authdata_len == 0)
		return (BERR_FORMAT);
	return (0);
}

/*
 * One CBOR item at *pp, well formed and with every declared length and
 * count within the bytes that are there (definite lengths only, nesting
 * at most 16); *pp moves past it. libcbor (under libfido2) allocates an
 * array or map for its declared count before reading a single element,
 * so a few bytes of authenticator data could make it reserve and clear
 * gigabytes (found by fuzz/fuzz_attest.c).
 */
static int
sk_cbor_item(const uint8_t **pp, const uint8_t *end, int depth)
{
	const uint8_t *p = *pp;
	uint64_t n = 0, i, items;
	uint8_t major, info;
	int k;

	if (p >= end || depth > 16)
		return (0);
	major = *p >> 5;
	info = *p & 31;
	p++;
	if (info < 24)
		n = info;
	else if (info <= 27) {
		if (end - p < (k = 1 << (info - 24)))
			return (0);
		for (; k > 0; k--)
			n = n << 8 | *p++;
	} else
		return (0);
	switch (major) {
	case 2:		/* byte and text strings */
	case 3:
		if (n > (uint64_t)(end - p))
			return (0);
		p += n;
		break;
	case 4:		/* arrays and maps: each element takes a byte at least */
	case 5:
		if (n > (uint64_t)(end - p))
			return (0);
		items = major == 5 ? 2 * n : n;
		for (i = 0; i < items; i++)
			if (!sk_cbor_item(&p, end, depth + 1))
				return (0);
		break;
	case 6:		/* a tag and its item */
		if (!sk_cbor_item(&p, end, depth + 1))
			return (0);
		break;
	default:	/* integers, simple values, floats */
		break;
	}
	*pp = p;
	return (1);
}

/* The authenticator data as ssh-keygen saves it: one CBOR byte string
 * holding rpIdHash, flags, counter, [AAGUID, credential id, COSE key]
 * and [extensions], the last two CBOR. 1 if all of its CBOR is sound. */
static int
sk_authdata_ok(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len, *q = p, *raw;
	size_t idlen;

	if (!sk_cbor_item(&q, end, 0) || q != end || (*p >> 5) != 2)
		return (0);
	/* the byte string's contents: after its head */
	raw = p + 1 + ((p[0] & 31) < 24 ? 0 : 1 << ((p[0] & 31) - 24));
	if (end - raw < 37)
		return (1);	/* too short: libfido2 says so */
	q = raw + 37;
	if (raw[32] & 0x40) {	/* attested credential data */
		if (end - q < 18)
			return (1);
		idlen = (size_t)q[16] << 8 | q[17];
		if ((size_t)(end - q) < 18 + idlen)
			return (1);
		q += 18 + idlen;
	}
	while (q < end)
		if (!sk_cbor_item(&q, end, 0))
			return (0);
	return (1);
}

/* fido_cred_verify of the statement, and the attested key equal to k. */
static int
sk_attest_cred(const struct sk_key *k, const struct sk_attest_parts *p,
    const uint8_t *challenge, size_t challen, struct sk_attestation *out,
    enum sk_attest_result *res, char *why, size_t whylen)
{
	fido_cred_t *cred;
	const unsigned char *pk;
	size_t pklen;
	int e;

	if ((cred = fido_cred_new()) == NULL)
		return (BERR_NOMEM);
	if ((e = fido_cred_set_type(cred, k->alg == SK_ALG_ED25519 ?
	    COSE_EDDSA : COSE_ES256)) != FIDO_OK ||
	    (e = fido_cred_set_fmt(cred, "packed")) != FIDO_OK ||
	    (e = fido_cred_set_clientdata(cred, challenge, challen)) !=
	    FIDO_OK ||
	    (e = fido_cred_set_rp(cred, k->application, NULL)) != FIDO_OK ||
	    (e = fido_cred_set_authdata(cred, p->authdata,
	    p->authdata_len)) != FIDO_OK ||
	    (e = fido_cred_set_x509(cred, p->cert, p->cert_len)) != FIDO_OK ||
	    (e = fido_cred_set_sig(cred, p->sig, p->sig_len)) != FIDO_OK) {
		*res = SK_ATTEST_MALFORMED;
		snprintf(why, whylen, "libfido2 cannot read the attestation: "
		    "%s", fido_strerr(e));
		goto out;
	}
	if (fido_cred_aaguid_len(cred) == 16) {
		memcpy(out->aaguid, fido_cred_aaguid_ptr(cred), 16);
		hex_encode(out->aaguid, 16, out->aaguid_hex);
	}
	out->flags = fido_cred_flags(cred);
	out->counter = fido_cred_sigcount(cred);
	if ((e = fido_cred_verify(cred)) != FIDO_OK) {
		*res = SK_ATTEST_BAD_SIGNATURE;
		snprintf(why, whylen, "fido_cred_verify: %s (wrong challenge "
		    "file, or a tampered attestation)", fido_strerr(e));
		goto out;
	}
	pk = fido_cred_pubkey_ptr(cred);
	pklen = fido_cred_pubkey_len(cred);
	/* libfido2 gives an ES256 key as X || Y, without the 0x04 */
	if (pk == NULL || (k->alg == SK_ALG_ED25519 ? pklen != 32 ||
	    memcmp(pk, k->pub, 32) != 0 : pklen != 64 ||
	    memcmp(pk, k->pub + 1, 64) != 0)) {
		*res = SK_ATTEST_WRONG_KEY;
		snprintf(why, whylen, "the attestation is for another public "
		    "key than %s", k->fp);
		goto out;
	}
	*res = SK_ATTEST_OK;
out:
	fido_cred_free(&cred);
	return (0);
}

int
sk_attest_verify(const struct sk_key *k, const uint8_t *att, size_t attlen,
    const uint8_t *challenge, size_t challen,
    const struct sk_attest_policy *pol, struct sk_attestation *out,
    enum sk_attest_result *res, char *why, size_t whylen)
{
	struct sk_attest_parts p;
	struct buf *b = NULL;
	X509 *cert = NULL;
	const unsigned char *cp;
	uint8_t ext_aaguid[16];
	size_t i;
	int r = 0, trusted, ext;

	if (k == NULL || att == NULL || challenge == NULL || out == NULL ||
	    res == NULL || why == NULL || whylen == 0)
		return (BERR_INVAL);
	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	*res = SK_ATTEST_MALFORMED;
	sk_fido_init();
	if (attlen == 0 || attlen > SK_MAX_CERT + 4 * SK_MAX_ATTEST_PART) {
		snprintf(why, whylen, "the attestation file is empty or too "
		    "large");
		return (0);
	}
	if ((b = buf_from(att, attlen)) == NULL)
		return (BERR_NOMEM);
	if (sk_attest_split(b, &p) != 0) {
		snprintf(why, whylen, "not an OpenSSH %s attestation (write it "
		    "with ssh-keygen -O write-attestation=FILE)",
		    SK_ATTEST_MAGIC);
		goto out;
	}
	if (!sk_authdata_ok(p.authdata, p.authdata_len)) {
		snprintf(why, whylen, "the attestation's authenticator data is "
		    "not well-formed CBOR");
		goto out;
	}
	cp = p.cert;
	if ((cert = d2i_X509(NULL, &cp, (long)p.cert_len)) == NULL ||
	    cp != p.cert + p.cert_len) {
		snprintf(why, whylen, "the attestation certificate is not "
		    "valid DER X.509");
		goto out;
	}
	sk_x509_name(X509_get_subject_name(cert), out->subject,
	    sizeof(out->subject));
	sk_x509_name(X509_get_issuer_name(cert), out->issuer,
	    sizeof(out->issuer));
	if ((r = sk_attest_cred(k, &p, challenge, challen, out, res, why,
	    whylen)) != 0 || *res != SK_ATTEST_OK)
		goto out;
	/* FIDO packed format: the certificate's AAGUID, if it names one,
	 * must be the authenticator data's */
	if ((ext = sk_cert_aaguid(cert, ext_aaguid)) < 0 || (ext == 1 &&
	    memcmp(ext_aaguid, out->aaguid, 16) != 0)) {
		*res = SK_ATTEST_AAGUID;
		snprintf(why, whylen, "the certificate's AAGUID extension does "
		    "not match the authenticator data's AAGUID %s",
		    out->aaguid_hex);
		goto out;
	}
	if (pol != NULL && pol->roots_dir != NULL) {
		if ((r = sk_cert_trusted(cert, pol->roots_dir, &trusted, why,
		    whylen)) != 0)
			goto out;
		if (!trusted) {
			*res = SK_ATTEST_UNTRUSTED;
			goto out;
		}
	}
	if (pol != NULL && pol->aaguids != NULL) {
		for (i = 0; i < pol->naaguids; i++)
			if (memcmp(pol->aaguids[i], out->aaguid, 16) == 0)
				break;
		if (i == pol->naaguids) {
			*res = SK_ATTEST_AAGUID;
			snprintf(why, whylen, "AAGUID %s (authenticator model) "
			    "is not on the allowed list", out->aaguid_hex);
			goto out;
		}
	}
	*res = SK_ATTEST_OK;
out:
	X509_free(cert);
	buf_free(b);
	return (r);
}
