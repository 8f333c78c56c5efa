/*
 * test_webauthn.c - a browser's WebAuthn assertion checked on the server
 * (proto/webauthn.c).
 *
 * The web console will accept a sign-in or an approval only on an
 * assertion this check passes, so each thing a relying party must check
 * is altered in turn in real assertions (webauthn_fixture.h: one from
 * Chromium's virtual authenticator, two made with a fixed Ed25519 key)
 * and must be refused with the verdict that names it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "webauthn.h"
#include "webauthn_fixture.h"

#define CD(s)	((const uint8_t *)(s)), strlen(s)

struct vec {
	struct webauthn_key k;
	struct webauthn_expect x;
	struct webauthn_assertion as;
	uint8_t ad[64];
	uint8_t sig[WA_MAX_SIG];
	char cd[WA_MAX_CLIENTDATA + 8];
};

/* The Chromium assertion, ready to check; callers alter copies. */
static void
es256_vec(struct vec *v)
{
	memset(v, 0, sizeof(*v));
	v->k.alg = SK_ALG_ECDSA;
	memcpy(v->k.pub, es256_pub, sizeof(es256_pub));
	v->k.publen = sizeof(es256_pub);
	v->x.rp_id = "localhost";
	v->x.origin = "https://localhost:18446";
	v->x.challenge = es256_challenge;
	v->x.challen = sizeof(es256_challenge);
	memcpy(v->ad, es256_authdata, sizeof(es256_authdata));
	memcpy(v->sig, es256_sig, sizeof(es256_sig));
	snprintf(v->cd, sizeof(v->cd), "%s", es256_cdj);
	v->as.authdata = v->ad;
	v->as.authdatalen = sizeof(es256_authdata);
	v->as.sig = v->sig;
	v->as.siglen = sizeof(es256_sig);
	v->as.clientdata = (const uint8_t *)v->cd;
	v->as.clientdatalen = strlen(v->cd);
}

static void
eddsa_vec(struct vec *v)
{
	memset(v, 0, sizeof(*v));
	v->k.alg = SK_ALG_ED25519;
	memcpy(v->k.pub, eddsa_pub, sizeof(eddsa_pub));
	v->k.publen = sizeof(eddsa_pub);
	v->x.rp_id = "bastion.test";
	v->x.origin = "https://bastion.test:8443";
	v->x.challenge = eddsa_challenge;
	v->x.challen = sizeof(eddsa_challenge);
	memcpy(v->ad, eddsa_authdata, sizeof(eddsa_authdata));
	memcpy(v->sig, eddsa_sig, sizeof(eddsa_sig));
	snprintf(v->cd, sizeof(v->cd), "%s", eddsa_cdj);
	v->as.authdata = v->ad;
	v->as.authdatalen = sizeof(eddsa_authdata);
	v->as.sig = v->sig;
	v->as.siglen = sizeof(eddsa_sig);
	v->as.clientdata = (const uint8_t *)v->cd;
	v->as.clientdatalen = strlen(v->cd);
}

/* The verdict of v (and its counter through *counter if not NULL);
 * the call itself must succeed. */
static enum webauthn_verdict
verdict_of(struct vec *v, uint32_t *counter)
{
	enum webauthn_verdict verdict = WA_VERDICT_OK;
	uint32_t c = 99;

	assert_int_equal(webauthn_assert_verify(&v->k, &v->x, &v->as,
	    &verdict, &c), 0);
	if (counter != NULL)
		*counter = c;
	return (verdict);
}

static void
test_chromium_es256(void **state)
{
	struct vec v;
	uint32_t counter;

	(void)state;
	es256_vec(&v);
	assert_int_equal(verdict_of(&v, &counter), WA_VERDICT_OK);
	assert_int_equal(counter, 2);
	/* the key asserted no PIN */
	v.x.require_uv = 1;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_NO_PIN);
}

static void
test_eddsa(void **state)
{
	struct vec v;
	uint32_t counter;

	(void)state;
	eddsa_vec(&v);
	v.x.require_uv = 1;
	assert_int_equal(verdict_of(&v, &counter), WA_VERDICT_OK);
	assert_int_equal(counter, 7);
	/* a genuine signature without a touch */
	memcpy(v.ad, eddsa_authdata_noup, sizeof(eddsa_authdata_noup));
	memcpy(v.sig, eddsa_sig_noup, sizeof(eddsa_sig_noup));
	v.x.require_uv = 0;
	assert_int_equal(verdict_of(&v, &counter), WA_VERDICT_NO_TOUCH);
	assert_int_equal(counter, 8);
}

/* A flag cleared by someone other than the key is a forgery, not a
 * missing touch; so is any changed byte it signed. */
static void
test_altered_is_bad_signature(void **state)
{
	static const uint8_t p256_g[65] = {
		0x04,
		0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47,
		0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
		0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
		0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
		0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b,
		0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
		0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce,
		0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
	};
	struct vec v;
	char *p;

	(void)state;
	es256_vec(&v);
	v.ad[32] &= (uint8_t)~WA_FLAG_UP;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);

	es256_vec(&v);
	v.ad[36] ^= 1;			/* the counter */
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);

	es256_vec(&v);
	v.sig[sizeof(es256_sig) - 1] ^= 1;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);

	es256_vec(&v);
	v.as.siglen = 0;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);

	/* Chrome's extra member is not checked, but it is signed */
	es256_vec(&v);
	assert_non_null(p = strstr(v.cd, "do not compare"));
	*p = 'D';
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);

	/* another key: P-256's generator, a valid point */
	es256_vec(&v);
	memcpy(v.k.pub, p256_g, sizeof(p256_g));
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);

	eddsa_vec(&v);
	v.sig[0] ^= 0x80;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_SIGNATURE);
}

static void
test_wrong_challenge_origin_rp(void **state)
{
	static const uint8_t other[32] = { 1 };
	struct vec v;

	(void)state;
	es256_vec(&v);
	v.x.challenge = other;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_CLIENTDATA);

	/* the same bytes, one shorter: not a prefix match either */
	es256_vec(&v);
	v.x.challen = WA_MIN_CHALLENGE + 8;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_CLIENTDATA);

	es256_vec(&v);
	v.x.origin = "https://localhost:18447";
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_CLIENTDATA);
	v.x.origin = "https://localhost:1844";
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_CLIENTDATA);
	v.x.origin = "http://localhost:18446";
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_CLIENTDATA);

	es256_vec(&v);
	v.x.rp_id = "localhost.";
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_WRONG_RP);
	v.x.rp_id = "bastion.test";
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_WRONG_RP);
}

static void
test_authdata_shape(void **state)
{
	struct vec v;

	(void)state;
	es256_vec(&v);
	v.as.authdatalen = WA_AUTHDATA_LEN - 1;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_AUTHDATA);
	v.as.authdatalen = WA_AUTHDATA_LEN + 1;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_AUTHDATA);
	v.as.authdatalen = 0;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_AUTHDATA);

	es256_vec(&v);
	v.ad[32] |= WA_FLAG_AT;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_AUTHDATA);
	es256_vec(&v);
	v.ad[32] |= WA_FLAG_ED;
	assert_int_equal(verdict_of(&v, NULL), WA_VERDICT_BAD_AUTHDATA);
}

/* The limited verification: a prefix of exactly what a browser writes,
 * then '}' at the end or ',' and more. */
static void
test_clientdata_limited(void **state)
{
	static const char *const good[] = {
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":false}",
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":false,\"x\":1}",
	};
	static const char *const bad[] = {
		/* a registration's, not a sign-in's */
		"{\"type\":\"webauthn.create\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":false}",
		/* from a frame of another site */
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":true,\"topOrigin\":\"https://evil.test\"}",
		/* padded base64, standard alphabet, a longer word */
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=\",\"origin\":\"https://o.test\",\"crossOrigin\":false}",
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":falsey}",
		/* no crossOrigin, other order, blanks, a second object */
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\"}",
		"{\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"type\":\"webauthn.get\",\"origin\":\"https://o.test\",\"crossOrigin\":false}",
		"{ \"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":false}",
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":false}{}",
		"{\"type\":\"webauthn.get\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\",\"origin\":\"https://o.test\",\"crossOrigin\":false",
		"",
	};
	size_t i;
	int ok;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ok = 0;
		assert_int_equal(webauthn_clientdata_check(CD(good[i]),
		    "webauthn.get", "https://o.test", es256_challenge,
		    sizeof(es256_challenge), &ok), 0);
		assert_true(ok);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok = 1;
		assert_int_equal(webauthn_clientdata_check(CD(bad[i]),
		    "webauthn.get", "https://o.test", es256_challenge,
		    sizeof(es256_challenge), &ok), 0);
		assert_false(ok);
	}
	/* the registration's type is checked the same way */
	ok = 0;
	assert_int_equal(webauthn_clientdata_check(CD(bad[0]),
	    "webauthn.create", "https://o.test", es256_challenge,
	    sizeof(es256_challenge), &ok), 0);
	assert_true(ok);
}

/* What the bastion itself passes in wrong is an error, not a verdict. */
static void
test_bad_expectations(void **state)
{
	static const uint8_t c15[WA_MIN_CHALLENGE - 1];
	static const uint8_t c65[WA_MAX_CHALLENGE + 1];
	enum webauthn_verdict verdict;
	struct vec v;
	uint32_t counter;
	int ok;

	(void)state;
	es256_vec(&v);
	v.x.origin = "https://a\"b";
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);
	assert_int_equal(verdict, WA_VERDICT_BAD_SIGNATURE);
	v.x.origin = "";
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);
	v.x.origin = NULL;
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);

	es256_vec(&v);
	v.x.rp_id = NULL;
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);

	es256_vec(&v);
	v.x.challenge = c15;
	v.x.challen = sizeof(c15);
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);
	v.x.challenge = c65;
	v.x.challen = sizeof(c65);
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);

	es256_vec(&v);
	v.k.alg = SK_ALG_ED25519;	/* 65 bytes are no Ed25519 key */
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);
	v.k.alg = SK_ALG_NONE;
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_INVAL);

	/* a stored key that is no point of P-256: the check cannot be
	 * made, and it is never OK */
	es256_vec(&v);
	v.k.pub[10] ^= 1;
	verdict = WA_VERDICT_OK;
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, &verdict,
	    &counter), BERR_CRYPTO);
	assert_int_equal(verdict, WA_VERDICT_BAD_SIGNATURE);

	es256_vec(&v);
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, &v.as, NULL,
	    &counter), BERR_INVAL);
	assert_int_equal(webauthn_assert_verify(&v.k, &v.x, NULL, &verdict,
	    &counter), BERR_INVAL);
	assert_int_equal(webauthn_clientdata_check(CD(es256_cdj),
	    "webauthn.get", "https://localhost:18446", es256_challenge,
	    sizeof(es256_challenge), NULL), BERR_INVAL);
	ok = 1;
	assert_int_equal(webauthn_clientdata_check(CD(es256_cdj),
	    "web\"authn.get", "https://localhost:18446", es256_challenge,
	    sizeof(es256_challenge), &ok), BERR_INVAL);
	assert_false(ok);
}

static void
test_verdict_str(void **state)
{
	(void)state;
	assert_string_equal(webauthn_verdict_str(WA_VERDICT_OK), "ok");
	assert_string_equal(webauthn_verdict_str(WA_VERDICT_NO_TOUCH),
	    "user presence (touch) not asserted");
	assert_string_equal(webauthn_verdict_str((enum webauthn_verdict)99),
	    "?");
}

/* Registration: Chromium's "none" attestation is accepted and gives the
 * credential; each thing altered is refused with its verdict. */
static void
test_registration(void **state)
{
	static const uint8_t zero[32];
	struct webauthn_expect x = { "localhost", "https://localhost:18446",
	    zero, sizeof(zero), 0 };
	struct webauthn_cred c;
	enum webauthn_verdict v;
	uint8_t att[sizeof(reg_attobj)];
	char cdj[sizeof(reg_cdj)];
	size_t cdl = sizeof(reg_cdj) - 1;

	(void)state;
	assert_int_equal(webauthn_register_verify(&x, reg_attobj,
	    sizeof(reg_attobj), (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_OK);
	assert_int_equal(c.key.alg, SK_ALG_ECDSA);
	assert_int_equal(c.key.publen, 65);
	assert_int_equal(c.key.pub[0], 0x04);
	assert_int_equal(c.idlen, sizeof(reg_cred_id));
	assert_memory_equal(c.id, reg_cred_id, sizeof(reg_cred_id));
	assert_int_equal(c.counter, 1);
	assert_string_equal(c.fmt, "none");
	/* UV required: the virtual key gave only a touch */
	x.require_uv = 1;
	assert_int_equal(webauthn_register_verify(&x, reg_attobj,
	    sizeof(reg_attobj), (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_NO_PIN);
	x.require_uv = 0;
	/* another relying party, another origin, an assertion's type */
	x.rp_id = "bastion.example";
	assert_int_equal(webauthn_register_verify(&x, reg_attobj,
	    sizeof(reg_attobj), (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_WRONG_RP);
	x.rp_id = "localhost";
	x.origin = "https://localhost:18443";
	assert_int_equal(webauthn_register_verify(&x, reg_attobj,
	    sizeof(reg_attobj), (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_BAD_CLIENTDATA);
	x.origin = "https://localhost:18446";
	memcpy(cdj, reg_cdj, sizeof(cdj));
	memcpy(strstr(cdj, "create"), "get\",\"", 6);
	assert_int_equal(webauthn_register_verify(&x, reg_attobj,
	    sizeof(reg_attobj), (const uint8_t *)cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_BAD_CLIENTDATA);
	/* an attestation format nobody defines; a cut object; a byte of
	 * the COSE key changed (not a point: refused); trailing bytes */
	memcpy(att, reg_attobj, sizeof(att));
	memcpy(att + 5, "zzzz", 4);	/* fmt "none" -> an unknown one */
	assert_int_equal(webauthn_register_verify(&x, att, sizeof(att),
	    (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_BAD_ATTESTATION);
	assert_int_equal(webauthn_register_verify(&x, reg_attobj,
	    sizeof(reg_attobj) - 1, (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_BAD_ATTESTATION);
	memcpy(att, reg_attobj, sizeof(att));
	att[sizeof(att) - 10] ^= 0x01;
	assert_int_equal(webauthn_register_verify(&x, att, sizeof(att),
	    (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_BAD_ATTESTATION);
	assert_int_equal(c.idlen, 0);
	/* the flags byte without AT */
	memcpy(att, reg_attobj, sizeof(att));
	att[sizeof(att) - 164 + 32] &= (uint8_t)~WA_FLAG_AT;
	assert_int_equal(webauthn_register_verify(&x, att, sizeof(att),
	    (const uint8_t *)reg_cdj, cdl, &c, &v), 0);
	assert_int_equal(v, WA_VERDICT_BAD_ATTESTATION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chromium_es256),
		cmocka_unit_test(test_eddsa),
		cmocka_unit_test(test_altered_is_bad_signature),
		cmocka_unit_test(test_wrong_challenge_origin_rp),
		cmocka_unit_test(test_authdata_shape),
		cmocka_unit_test(test_clientdata_limited),
		cmocka_unit_test(test_bad_expectations),
		cmocka_unit_test(test_verdict_str),
		cmocka_unit_test(test_registration),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
