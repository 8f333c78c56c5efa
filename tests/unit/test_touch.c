/*
 * test_touch.c - what the touch check parses and verifies (proto/agent.c,
 * proto/sk.c): the agent's replies, security-key blobs and signatures,
 * and the libfido2 verification, against vectors made here with OpenSSL
 * the way an authenticator makes them (PROTOCOL.u2f: Ed25519 signs
 * SHA256(app) || flags || counter || SHA256(data); ECDSA signs its SHA-256).
 *
 * Refusals covered: a forged signature, a tampered challenge, flags or
 * counter changed after signing, another key, another application, no
 * touch, no PIN; and every truncation and every single-bit flip of a valid
 * agent reply, none of which may verify (run under ASan by check-asan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "agent.h"
#include "buf.h"
#include "err.h"
#include "sk.h"

#define APP		"ssh:"

/* An authenticator made of OpenSSL: one key, a key blob, a signer. */
struct authr {
	enum sk_alg alg;
	EVP_PKEY *pkey;
	uint8_t blob[512];
	size_t bloblen;
	char app[64];
};

static struct buf *
must_buf(size_t max)
{
	struct buf *b = buf_new(max);

	assert_non_null(b);
	return (b);
}

static void
authr_make(struct authr *a, enum sk_alg alg, const char *app)
{
	uint8_t pub[65];
	size_t publen = sizeof(pub);
	struct buf *b = must_buf(sizeof(a->blob));

	memset(a, 0, sizeof(*a));
	a->alg = alg;
	snprintf(a->app, sizeof(a->app), "%s", app);
	if (alg == SK_ALG_ED25519) {
		a->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(a->pkey);
		assert_int_equal(EVP_PKEY_get_raw_public_key(a->pkey, pub,
		    &publen), 1);
		assert_int_equal(buf_put_cstring(b, SK_TYPE_ED25519), 0);
	} else {
		a->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		assert_non_null(a->pkey);
		assert_int_equal(EVP_PKEY_get_octet_string_param(a->pkey,
		    "encoded-pub-key", pub, sizeof(pub), &publen), 1);
		assert_int_equal(buf_put_cstring(b, SK_TYPE_ECDSA), 0);
		assert_int_equal(buf_put_cstring(b, "nistp256"), 0);
	}
	assert_int_equal(buf_put_string(b, pub, publen), 0);
	assert_int_equal(buf_put_cstring(b, app), 0);
	a->bloblen = buf_len(b);
	memcpy(a->blob, buf_ptr(b), a->bloblen);
	buf_free(b);
}

static void
authr_free(struct authr *a)
{
	EVP_PKEY_free(a->pkey);
	a->pkey = NULL;
}

/* Put a non-negative big-endian integer as an SSH mpint. */
static void
put_mpint(struct buf *b, const BIGNUM *bn)
{
	uint8_t d[40];
	int n = BN_bn2bin(bn, d + 1);

	d[0] = 0;
	if (n > 0 && (d[1] & 0x80) != 0)
		assert_int_equal(buf_put_string(b, d, (size_t)n + 1), 0);
	else
		assert_int_equal(buf_put_string(b, d + 1, (size_t)n), 0);
}

/*
 * The SSH signature blob a's authenticator returns for data, with flags
 * and counter (as ssh-agent forwards it). Into out; returns the length.
 */
static size_t
authr_sign(const struct authr *a, const uint8_t *data, size_t datalen,
    uint8_t flags, uint32_t counter, uint8_t *out, size_t outmax)
{
	uint8_t msg[32 + 1 + 4 + 32], sig[128], h[32];
	size_t siglen = sizeof(sig), n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct buf *b = must_buf(1024), *inner;

	SHA256((const uint8_t *)a->app, strlen(a->app), msg);
	msg[32] = flags;
	msg[33] = (uint8_t)(counter >> 24);
	msg[34] = (uint8_t)(counter >> 16);
	msg[35] = (uint8_t)(counter >> 8);
	msg[36] = (uint8_t)counter;
	SHA256(data, datalen, msg + 37);
	assert_non_null(ctx);
	if (a->alg == SK_ALG_ED25519) {
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL,
		    a->pkey), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, msg,
		    sizeof(msg)), 1);
		assert_int_equal(buf_put_cstring(b, SK_TYPE_ED25519), 0);
		assert_int_equal(buf_put_string(b, sig, siglen), 0);
	} else {
		EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(a->pkey, NULL);
		const unsigned char *p = sig;
		ECDSA_SIG *es;

		SHA256(msg, sizeof(msg), h);
		assert_non_null(pc);
		assert_int_equal(EVP_PKEY_sign_init(pc), 1);
		assert_int_equal(EVP_PKEY_sign(pc, sig, &siglen, h, sizeof(h)),
		    1);
		EVP_PKEY_CTX_free(pc);
		es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		assert_non_null(es);
		inner = must_buf(256);
		put_mpint(inner, ECDSA_SIG_get0_r(es));
		put_mpint(inner, ECDSA_SIG_get0_s(es));
		ECDSA_SIG_free(es);
		assert_int_equal(buf_put_cstring(b, SK_TYPE_ECDSA), 0);
		assert_int_equal(buf_put_string(b, buf_ptr(inner),
		    buf_len(inner)), 0);
		buf_free(inner);
	}
	assert_int_equal(buf_put_u8(b, flags), 0);
	assert_int_equal(buf_put_u32(b, counter), 0);
	EVP_MD_CTX_free(ctx);
	n = buf_len(b);
	assert_true(n <= outmax);
	memcpy(out, buf_ptr(b), n);
	buf_free(b);
	return (n);
}

/* An agent's SSH_AGENT_SIGN_RESPONSE body around a signature blob. */
static size_t
agent_reply(const uint8_t *sig, size_t siglen, uint8_t *out, size_t outmax)
{
	struct buf *b = must_buf(outmax);
	size_t n;

	assert_int_equal(buf_put_u8(b, SSH_AGENT_SIGN_RESPONSE), 0);
	assert_int_equal(buf_put_string(b, sig, siglen), 0);
	n = buf_len(b);
	memcpy(out, buf_ptr(b), n);
	buf_free(b);
	return (n);
}

/* The whole path the worker takes: reply -> blob -> parse -> verify.
 * Returns a verdict, or -1 if something refused to parse. */
static int
check_reply(const struct authr *a, const uint8_t *reply, size_t len,
    const uint8_t *data, size_t datalen, int require_uv)
{
	const uint8_t *blob;
	size_t bloblen;
	struct sk_key k;
	struct sk_sig s;
	enum sk_verdict v;

	assert_int_equal(sk_key_from_blob(a->blob, a->bloblen, &k), 0);
	if (agent_parse_sign(reply, len, &blob, &bloblen) != 0 ||
	    sk_sig_parse(blob, bloblen, &s) != 0)
		return (-1);
	assert_int_equal(sk_sig_verify(&k, &s, data, datalen, require_uv, &v),
	    0);
	return ((int)v);
}

static const uint8_t challenge[32] = "bastion-touch-v1 test challenge";

/* ---- agent messages --------------------------------------------------- */

static void
test_agent_frames(void **state)
{
	struct buf *b = must_buf(4096);
	static const uint8_t key[] = { 1, 2, 3 }, data[] = { 9, 8 };
	static const uint8_t want[] = {
		0, 0, 0, 18, 13, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 2, 9, 8,
		0, 0, 0, 0 };
	static const uint8_t big[4] = { 0, 0, 0x20, 0x01 }, zero[4] = { 0 };
	size_t len;

	(void)state;
	assert_int_equal(agent_msg_sign(b, key, sizeof(key), data,
	    sizeof(data)), 0);
	assert_int_equal(buf_len(b), sizeof(want));
	assert_memory_equal(buf_ptr(b), want, sizeof(want));
	buf_reset(b);
	assert_int_equal(agent_msg_identities(b), 0);
	assert_int_equal(buf_len(b), 5);
	assert_int_equal(buf_ptr(b)[4], SSH_AGENTC_REQUEST_IDENTITIES);
	buf_free(b);

	assert_int_equal(agent_frame_len(want, 100, &len), 0);
	assert_int_equal(len, 18);
	assert_int_equal(agent_frame_len(big, AGENT_MAX_SIGN_REPLY, &len),
	    BERR_LIMIT);
	assert_int_equal(agent_frame_len(zero, 100, &len), BERR_LIMIT);
}

static void
test_agent_sign_reply_shapes(void **state)
{
	static const uint8_t fail[] = { SSH_AGENT_FAILURE };
	static const uint8_t ext_fail[] = { 30 };
	static const uint8_t other[] = { 12, 0, 0, 0, 0 };
	static const uint8_t empty_sig[] = { 14, 0, 0, 0, 0 };
	static const uint8_t trailing[] = { 14, 0, 0, 0, 1, 'x', 'y' };
	static const uint8_t ok[] = { 14, 0, 0, 0, 2, 'x', 'y' };
	const uint8_t *sig;
	size_t n;

	(void)state;
	assert_int_equal(agent_parse_sign(fail, sizeof(fail), &sig, &n),
	    BERR_DENIED);
	assert_int_equal(agent_parse_sign(ext_fail, 1, &sig, &n), BERR_DENIED);
	assert_int_equal(agent_parse_sign(other, sizeof(other), &sig, &n),
	    BERR_FORMAT);
	assert_int_equal(agent_parse_sign(empty_sig, sizeof(empty_sig), &sig,
	    &n), BERR_FORMAT);
	assert_int_equal(agent_parse_sign(trailing, sizeof(trailing), &sig,
	    &n), BERR_FORMAT);
	assert_int_equal(agent_parse_sign(ok, 0, &sig, &n), BERR_FORMAT);
	assert_int_equal(agent_parse_sign(ok, sizeof(ok), &sig, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(sig, ok + 5);
}

static void
test_agent_identities(void **state)
{
	static const uint8_t key[] = { 'k', 'e', 'y' };
	struct buf *b = must_buf(4096);
	uint8_t one[] = { 12, 0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 0,
		0, 0, 0, 3, 'k', 'e', 'y', 0, 0, 0, 1, 'c' };
	static const uint8_t fail[] = { 5 };
	size_t i;
	int has;

	(void)state;
	assert_int_equal(agent_parse_identities(one, sizeof(one), key,
	    sizeof(key), &has), 0);
	assert_true(has);
	assert_int_equal(agent_parse_identities(one, sizeof(one), key, 2,
	    &has), 0);
	assert_false(has);
	assert_int_equal(agent_parse_identities(fail, 1, key, 3, &has),
	    BERR_DENIED);
	/* every truncation is malformed, and never claims the key */
	for (i = 0; i < sizeof(one); i++) {
		assert_int_equal(agent_parse_identities(one, i, key,
		    sizeof(key), &has), BERR_FORMAT);
		assert_false(has);
	}
	/* a count beyond the cap is refused before anything is read */
	assert_int_equal(buf_put_u8(b, 12), 0);
	assert_int_equal(buf_put_u32(b, AGENT_MAX_IDENTITIES + 1), 0);
	assert_int_equal(agent_parse_identities(buf_ptr(b), buf_len(b), key,
	    3, &has), BERR_FORMAT);
	buf_free(b);
}

/* ---- keys, fingerprints, base64 ------------------------------------------ */

static void
test_fingerprint_matches_openssh(void **state)
{
	/* ssh-keygen -lf of this key printed the fingerprint below */
	static const char b64[] =
	    "AAAAC3NzaC1lZDI1NTE5AAAAIKSMedb9yX2GZQpCg8sZC9PbxBpNyerHkcy1cYvXtgWO";
	char fp[SK_FP_LEN];
	struct sk_key k;

	(void)state;
	assert_int_equal(sk_fingerprint_base64(b64, fp, sizeof(fp)), 0);
	assert_string_equal(fp,
	    "SHA256:rs/JS99CVd0bv2PycnWpLd7trwUhDRRmkXCQuLN64Eo");
	/* a plain key is not a security key */
	assert_int_equal(sk_key_from_base64(b64, &k), BERR_FORMAT);
	assert_int_equal(k.alg, SK_ALG_NONE);
}

static void
test_key_blobs(void **state)
{
	struct authr a;
	struct sk_key k;
	uint8_t bad[600];
	size_t i;

	(void)state;
	authr_make(&a, SK_ALG_ECDSA, APP);
	assert_int_equal(sk_key_from_blob(a.blob, a.bloblen, &k), 0);
	assert_int_equal(k.alg, SK_ALG_ECDSA);
	assert_int_equal(k.publen, 65);
	assert_string_equal(k.application, APP);
	assert_string_equal(sk_key_type(&k), SK_TYPE_ECDSA);
	assert_memory_equal(k.fp, "SHA256:", 7);
	/* trailing bytes, and every truncation, are refused */
	memcpy(bad, a.blob, a.bloblen);
	bad[a.bloblen] = 0;
	assert_int_equal(sk_key_from_blob(bad, a.bloblen + 1, &k),
	    BERR_FORMAT);
	for (i = 0; i < a.bloblen; i++)
		assert_int_equal(sk_key_from_blob(a.blob, i, &k), BERR_FORMAT);
	/* not an uncompressed point */
	memcpy(bad, a.blob, a.bloblen);
	bad[4 + strlen(SK_TYPE_ECDSA) + 4 + 8 + 4] = 0x02;
	assert_int_equal(sk_key_from_blob(bad, a.bloblen, &k), BERR_FORMAT);
	authr_free(&a);

	authr_make(&a, SK_ALG_ED25519, "");	/* empty application */
	assert_int_equal(sk_key_from_blob(a.blob, a.bloblen, &k), BERR_FORMAT);
	authr_free(&a);
	authr_make(&a, SK_ALG_ED25519, APP);
	assert_int_equal(sk_key_from_blob(a.blob, a.bloblen, &k), 0);
	assert_int_equal(k.publen, 32);
	authr_free(&a);
}

static void
test_signature_blobs(void **state)
{
	struct buf *b = must_buf(512), *inner = must_buf(128);
	static const uint8_t neg[33] = { 0x80 }, pad[3] = { 0, 0x10, 1 };
	static const uint8_t big[34] = { 0, 0x80 }, sig64[64];
	struct sk_sig s;

	(void)state;
	/* Ed25519 signature of the wrong length */
	assert_int_equal(buf_put_cstring(b, SK_TYPE_ED25519), 0);
	assert_int_equal(buf_put_string(b, sig64, 63), 0);
	assert_int_equal(buf_put_u8(b, 1), 0);
	assert_int_equal(buf_put_u32(b, 1), 0);
	assert_int_equal(sk_sig_parse(buf_ptr(b), buf_len(b), &s), BERR_FORMAT);
	/* ECDSA: a negative r, a needless leading zero, an oversized s */
	struct {
		const uint8_t *r;
		size_t rlen;
	} cases[] = { { neg, 1 }, { pad, sizeof(pad) }, { big, sizeof(big) } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(b);
		buf_reset(inner);
		assert_int_equal(buf_put_string(inner, cases[i].r,
		    cases[i].rlen), 0);
		assert_int_equal(buf_put_string(inner, pad + 1, 2), 0);
		assert_int_equal(buf_put_cstring(b, SK_TYPE_ECDSA), 0);
		assert_int_equal(buf_put_string(b, buf_ptr(inner),
		    buf_len(inner)), 0);
		assert_int_equal(buf_put_u8(b, 1), 0);
		assert_int_equal(buf_put_u32(b, 1), 0);
		assert_int_equal(sk_sig_parse(buf_ptr(b), buf_len(b), &s),
		    BERR_FORMAT);
	}
	/* a plain ssh-ed25519 signature is not an sk signature */
	buf_reset(b);
	assert_int_equal(buf_put_cstring(b, "ssh-ed25519"), 0);
	assert_int_equal(buf_put_string(b, sig64, 64), 0);
	assert_int_equal(sk_sig_parse(buf_ptr(b), buf_len(b), &s), BERR_FORMAT);
	buf_free(inner);
	buf_free(b);
}

/* ---- verification ------------------------------------------------------------ */

static void
verify_cases(enum sk_alg alg)
{
	struct authr a, other, otherapp;
	uint8_t sig[512], reply[600], data2[32];
	size_t siglen, rlen;

	authr_make(&a, alg, APP);
	authr_make(&other, alg, APP);
	authr_make(&otherapp, alg, "ssh:other");

	/* touched */
	siglen = authr_sign(&a, challenge, sizeof(challenge), SK_FLAG_UP, 7,
	    sig, sizeof(sig));
	rlen = agent_reply(sig, siglen, reply, sizeof(reply));
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_OK);
	/* touched but verify-required: no PIN */
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 1), SK_VERDICT_NO_PIN);
	/* tampered challenge: the signature was over another one */
	memcpy(data2, challenge, sizeof(data2));
	data2[31] ^= 1;
	assert_int_equal(check_reply(&a, reply, rlen, data2, sizeof(data2),
	    0), SK_VERDICT_BAD_SIGNATURE);
	/* another key, another application */
	assert_int_equal(check_reply(&other, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_BAD_SIGNATURE);
	assert_int_equal(check_reply(&otherapp, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_BAD_SIGNATURE);

	/* not touched; and claiming a touch afterwards does not help */
	siglen = authr_sign(&a, challenge, sizeof(challenge), 0, 8, sig,
	    sizeof(sig));
	rlen = agent_reply(sig, siglen, reply, sizeof(reply));
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_NO_TOUCH);
	reply[rlen - 5] |= SK_FLAG_UP;		/* the flags byte */
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_BAD_SIGNATURE);

	/* touched and PIN verified; a counter rewritten after signing fails */
	siglen = authr_sign(&a, challenge, sizeof(challenge),
	    SK_FLAG_UP | SK_FLAG_UV, 9, sig, sizeof(sig));
	rlen = agent_reply(sig, siglen, reply, sizeof(reply));
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 1), SK_VERDICT_OK);
	reply[rlen - 1] = 100;			/* counter 9 -> 100 */
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 1), SK_VERDICT_BAD_SIGNATURE);

	/* a key of the other algorithm never verifies this signature */
	authr_free(&other);
	authr_make(&other, alg == SK_ALG_ED25519 ? SK_ALG_ECDSA :
	    SK_ALG_ED25519, APP);
	reply[rlen - 1] = 9;
	assert_int_equal(check_reply(&other, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_BAD_SIGNATURE);

	authr_free(&a);
	authr_free(&other);
	authr_free(&otherapp);
}

static void
test_verify_ed25519(void **state)
{
	(void)state;
	verify_cases(SK_ALG_ED25519);
}

static void
test_verify_ecdsa(void **state)
{
	(void)state;
	verify_cases(SK_ALG_ECDSA);
}

/* Every truncation and every single-bit flip of a valid reply must be
 * refused: malformed, or a verdict other than OK. */
static void
mutations(enum sk_alg alg)
{
	struct authr a;
	uint8_t sig[512], reply[600], m[600];
	size_t siglen, rlen, i;
	int bit;

	authr_make(&a, alg, APP);
	siglen = authr_sign(&a, challenge, sizeof(challenge), SK_FLAG_UP, 42,
	    sig, sizeof(sig));
	rlen = agent_reply(sig, siglen, reply, sizeof(reply));
	assert_int_equal(check_reply(&a, reply, rlen, challenge,
	    sizeof(challenge), 0), SK_VERDICT_OK);
	for (i = 0; i < rlen; i++)
		assert_int_not_equal(check_reply(&a, reply, i, challenge,
		    sizeof(challenge), 0), SK_VERDICT_OK);
	for (i = 0; i < rlen; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(m, reply, rlen);
			m[i] ^= (uint8_t)(1 << bit);
			assert_int_not_equal(check_reply(&a, m, rlen,
			    challenge, sizeof(challenge), 0), SK_VERDICT_OK);
		}
	authr_free(&a);
}

static void
test_mutations_ed25519(void **state)
{
	(void)state;
	mutations(SK_ALG_ED25519);
}

static void
test_mutations_ecdsa(void **state)
{
	(void)state;
	mutations(SK_ALG_ECDSA);
}

static void
test_aaguid_parse(void **state)
{
	uint8_t g[16];

	(void)state;
	assert_int_equal(sk_aaguid_parse("536f6674534b2d546573742d4f6e6c79",
	    g), 0);
	assert_memory_equal(g, "SoftSK-Test-Only", 16);
	assert_int_equal(sk_aaguid_parse(
	    "cb69481e-8ff7-4039-93ec-0a2729a154a8", g), 0);
	assert_int_equal(g[0], 0xcb);
	assert_int_equal(g[15], 0xa8);
	assert_int_equal(sk_aaguid_parse("cb69", g), BERR_FORMAT);
	assert_int_equal(sk_aaguid_parse(
	    "cb69481e8ff7403993ec0a2729a154a8ff", g), BERR_FORMAT);
	assert_int_equal(sk_aaguid_parse(
	    "zb69481e8ff7403993ec0a2729a154a8", g), BERR_FORMAT);
}

static void
test_attestation_malformed(void **state)
{
	struct authr a;
	struct sk_key k;
	struct sk_attestation att;
	enum sk_attest_result res;
	char why[256];
	static const uint8_t junk[] = "not an attestation";

	(void)state;
	authr_make(&a, SK_ALG_ED25519, APP);
	assert_int_equal(sk_key_from_blob(a.blob, a.bloblen, &k), 0);
	assert_int_equal(sk_attest_verify(&k, junk, sizeof(junk), challenge,
	    sizeof(challenge), NULL, &att, &res, why, sizeof(why)), 0);
	assert_int_equal(res, SK_ATTEST_MALFORMED);
	assert_non_null(strstr(why, "ssh-sk-attest-v01"));
	authr_free(&a);
}

/* An attestation blob: a junk certificate and signature, and authdata. */
static size_t
attest_blob(const uint8_t *ad, size_t adlen, uint8_t *out, size_t max)
{
	struct buf *b = must_buf(max);
	size_t n;

	assert_int_equal(buf_put_cstring(b, "ssh-sk-attest-v01"), 0);
	assert_int_equal(buf_put_cstring(b, "not a certificate"), 0);
	assert_int_equal(buf_put_cstring(b, "not a signature"), 0);
	assert_int_equal(buf_put_string(b, ad, adlen), 0);
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(buf_put_string(b, "", 0), 0);
	n = buf_len(b);
	memcpy(out, buf_ptr(b), n);
	buf_free(b);
	return (n);
}

/*
 * Authenticator data whose COSE key declares an array of 537 million
 * elements in 5 bytes: refused before libfido2 (libcbor 0.8 would
 * allocate and clear 4 GiB for it), found by fuzz/fuzz_attest.c. The
 * same data declaring one element gets as far as the certificate.
 */
static void
test_attestation_cbor_bounded(void **state)
{
	struct authr a;
	struct sk_key k;
	struct sk_attestation att;
	enum sk_attest_result res;
	uint8_t ad[2 + 37 + 18 + 16], blob[512];
	size_t n;
	char why[256];

	(void)state;
	authr_make(&a, SK_ALG_ED25519, APP);
	assert_int_equal(sk_key_from_blob(a.blob, a.bloblen, &k), 0);
	memset(ad, 0, sizeof(ad));
	ad[0] = 0x58;			/* byte string, 1-byte length */
	ad[1] = sizeof(ad) - 2;
	ad[2 + 32] = 0x41;		/* UP, attested credential data */
	ad[2 + 37 + 17] = 8;		/* credential id: 8 bytes */
	/* COSE key: map(1) {1: array(0x20062158)} */
	memcpy(ad + 2 + 37 + 18 + 8, "\xa1\x01\x9a\x20\x06\x21\x58\x00", 8);
	n = attest_blob(ad, sizeof(ad), blob, sizeof(blob));
	assert_int_equal(sk_attest_verify(&k, blob, n, challenge,
	    sizeof(challenge), NULL, &att, &res, why, sizeof(why)), 0);
	assert_int_equal(res, SK_ATTEST_MALFORMED);
	assert_non_null(strstr(why, "CBOR"));
	/* array(1) holding 0x58 0x00 (an empty byte string): well formed */
	memcpy(ad + 2 + 37 + 18 + 8, "\xa1\x01\x81\x40\x00\x00\x00\x00", 8);
	ad[1] = sizeof(ad) - 2 - 4;
	n = attest_blob(ad, sizeof(ad) - 4, blob, sizeof(blob));
	assert_int_equal(sk_attest_verify(&k, blob, n, challenge,
	    sizeof(challenge), NULL, &att, &res, why, sizeof(why)), 0);
	assert_int_equal(res, SK_ATTEST_MALFORMED);
	assert_null(strstr(why, "CBOR"));
	assert_non_null(strstr(why, "certificate"));
	authr_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_frames),
		cmocka_unit_test(test_agent_sign_reply_shapes),
		cmocka_unit_test(test_agent_identities),
		cmocka_unit_test(test_fingerprint_matches_openssh),
		cmocka_unit_test(test_attestation_cbor_bounded),
		cmocka_unit_test(test_key_blobs),
		cmocka_unit_test(test_signature_blobs),
		cmocka_unit_test(test_verify_ed25519),
		cmocka_unit_test(test_verify_ecdsa),
		cmocka_unit_test(test_mutations_ed25519),
		cmocka_unit_test(test_mutations_ecdsa),
		cmocka_unit_test(test_aaguid_parse),
		cmocka_unit_test(test_attestation_malformed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
