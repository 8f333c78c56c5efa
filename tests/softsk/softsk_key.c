/*
 * softsk_key.c - credential keys of the software security key.
 *
 * A real authenticator can return a credential id that is its private key
 * sealed under a device secret; this one does the same, so it keeps no
 * per-credential state.  The key handle is
 *
 *   "SSK" 0x01 | alg (1) | nonce (12) | AES-256-GCM(PKCS#8 key) | tag (16)
 *
 * sealed with the 32-byte "master.key" of the state directory, with the
 * first five bytes and SHA-256(application) as associated data.  A handle
 * from another state directory, or presented for another algorithm or
 * application, does not open, which is how a real key treats a credential
 * it did not create.  This is test code: the "device secret" sits in a
 * file next to the counter.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "softsk.h"

#define KH_MAGIC_LEN	4
#define KH_HDR_LEN	(KH_MAGIC_LEN + 1)
#define KH_NONCE_LEN	12
#define KH_TAG_LEN	16
#define KH_WRAPKEY_LEN	32
#define P256_POINT_LEN	65	/* 0x04 || X || Y */
#define P256_COORD_LEN	32
#define ED25519_PK_LEN	32
#define ED25519_SIG_LEN	64

/* COSE identifiers (RFC 8152). */
#define COSE_KTY_OKP	1
#define COSE_KTY_EC2	2
#define COSE_ALG_ES256	(-7)
#define COSE_ALG_EDDSA	(-8)
#define COSE_CRV_P256	1
#define COSE_CRV_ED25519 6

static const uint8_t kh_magic[KH_MAGIC_LEN] = { 'S', 'S', 'K', 0x01 };

const char *
softsk_key_alg_name(uint32_t alg)
{
	switch (alg) {
	case SSH_SK_ECDSA:
		return "ecdsa";
	case SSH_SK_ED25519:
		return "ed25519";
	default:
		return "unknown";
	}
}

int
softsk_key_generate(uint32_t alg, EVP_PKEY **pkeyp)
{
	*pkeyp = NULL;
	switch (alg) {
	case SSH_SK_ECDSA:
		*pkeyp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case SSH_SK_ED25519:
		*pkeyp = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		return SSH_SK_ERR_UNSUPPORTED;
	}
	return *pkeyp == NULL ? SSH_SK_ERR_GENERAL : 0;
}

/* Does pkey have the type (and for ECDSA the curve) that alg names? */
static int
softsk_key_matches(uint32_t alg, EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	switch (alg) {
	case SSH_SK_ED25519:
		return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519;
	case SSH_SK_ECDSA:
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
			return 0;
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    &glen) != 1)
			return 0;
		return strcmp(group, SN_X9_62_prime256v1) == 0;
	default:
		return 0;
	}
}

/* Raw public key bytes into out (at least P256_POINT_LEN bytes). */
static int
softsk_key_public_raw(uint32_t alg, EVP_PKEY *pkey,
    uint8_t out[P256_POINT_LEN], size_t *lenp)
{
	size_t len = P256_POINT_LEN;

	*lenp = 0;
	switch (alg) {
	case SSH_SK_ED25519:
		if (EVP_PKEY_get_raw_public_key(pkey, out, &len) != 1 ||
		    len != ED25519_PK_LEN)
			return SSH_SK_ERR_GENERAL;
		break;
	case SSH_SK_ECDSA:
		if (EVP_PKEY_get_octet_string_param(pkey,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, P256_POINT_LEN,
		    &len) != 1 || len != P256_POINT_LEN ||
		    out[0] != POINT_CONVERSION_UNCOMPRESSED)
			return SSH_SK_ERR_GENERAL;
		break;
	default:
		return SSH_SK_ERR_UNSUPPORTED;
	}
	*lenp = len;
	return 0;
}

int
softsk_key_public(uint32_t alg, EVP_PKEY *pkey, uint8_t **pubp,
    size_t *lenp)
{
	uint8_t raw[P256_POINT_LEN];
	size_t len;
	int r;

	*pubp = NULL;
	*lenp = 0;
	if ((r = softsk_key_public_raw(alg, pkey, raw, &len)) != 0)
		return r;
	if ((*pubp = malloc(len)) == NULL)
		return SSH_SK_ERR_GENERAL;
	memcpy(*pubp, raw, len);
	*lenp = len;
	return 0;
}

int
softsk_key_cose(uint32_t alg, EVP_PKEY *pkey, struct softsk_buf *b)
{
	uint8_t raw[P256_POINT_LEN];
	size_t len;
	int r;

	if ((r = softsk_key_public_raw(alg, pkey, raw, &len)) != 0)
		return r;
	/* keys in canonical CBOR order: 1, 3, -1, -2, -3 */
	if (alg == SSH_SK_ED25519) {
		softsk_cbor_map(b, 4);
		softsk_cbor_int(b, 1);			/* kty */
		softsk_cbor_int(b, COSE_KTY_OKP);
		softsk_cbor_int(b, 3);			/* alg */
		softsk_cbor_int(b, COSE_ALG_EDDSA);
		softsk_cbor_int(b, -1);			/* crv */
		softsk_cbor_int(b, COSE_CRV_ED25519);
		softsk_cbor_int(b, -2);			/* x */
		softsk_cbor_bytes(b, raw, ED25519_PK_LEN);
	} else {
		softsk_cbor_map(b, 5);
		softsk_cbor_int(b, 1);
		softsk_cbor_int(b, COSE_KTY_EC2);
		softsk_cbor_int(b, 3);
		softsk_cbor_int(b, COSE_ALG_ES256);
		softsk_cbor_int(b, -1);
		softsk_cbor_int(b, COSE_CRV_P256);
		softsk_cbor_int(b, -2);
		softsk_cbor_bytes(b, raw + 1, P256_COORD_LEN);
		softsk_cbor_int(b, -3);			/* y */
		softsk_cbor_bytes(b, raw + 1 + P256_COORD_LEN, P256_COORD_LEN);
	}
	return softsk_buf_status(b);
}

/*
 * Loads the wrapping key; with create set (lock held), makes it first if
 * the file is missing.  A missing key without create is DEVICE_NOT_FOUND.
 */
static int
softsk_key_wrapkey(const struct softsk_state *st, int create,
    uint8_t key[KH_WRAPKEY_LEN])
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	r = softsk_state_read(st, "master.key", &data, &len);
	if (r == SSH_SK_ERR_DEVICE_NOT_FOUND && create) {
		if (RAND_priv_bytes(key, KH_WRAPKEY_LEN) != 1)
			return SSH_SK_ERR_GENERAL;
		r = softsk_state_write(st, "master.key", key, KH_WRAPKEY_LEN,
		    0600);
		if (r != 0)
			OPENSSL_cleanse(key, KH_WRAPKEY_LEN);
		return r;
	}
	if (r != 0)
		return r;
	if (len == KH_WRAPKEY_LEN)
		memcpy(key, data, KH_WRAPKEY_LEN);
	else {
		softsk_debug("%s/master.key: want %d bytes", st->dir,
		    KH_WRAPKEY_LEN);
		r = SSH_SK_ERR_GENERAL;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

/* The associated data: handle header || SHA-256(application). */
static int
softsk_key_aad(uint32_t alg, const char *application,
    uint8_t aad[KH_HDR_LEN + SOFTSK_SHA256_LEN])
{
	memcpy(aad, kh_magic, KH_MAGIC_LEN);
	aad[KH_MAGIC_LEN] = (uint8_t)alg;
	if (EVP_Digest(application, strlen(application),
	    aad + KH_HDR_LEN, NULL, EVP_sha256(), NULL) != 1)
		return SSH_SK_ERR_GENERAL;
	return 0;
}

int
softsk_key_wrap(const struct softsk_state *st, uint32_t alg,
    const char *application, EVP_PKEY *pkey, uint8_t **handlep,
    size_t *lenp)
{
	uint8_t wrapkey[KH_WRAPKEY_LEN], nonce[KH_NONCE_LEN];
	uint8_t aad[KH_HDR_LEN + SOFTSK_SHA256_LEN], tag[KH_TAG_LEN];
	uint8_t *der = NULL, *ct = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	struct softsk_buf b;
	int derlen = 0, outl = 0, finl = 0, r = SSH_SK_ERR_GENERAL;

	*handlep = NULL;
	*lenp = 0;
	softsk_buf_init(&b);
	if ((r = softsk_key_wrapkey(st, 1, wrapkey)) != 0)
		goto out;
	r = SSH_SK_ERR_GENERAL;
	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL ||
	    (derlen = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0 ||
	    (ct = malloc((size_t)derlen)) == NULL ||
	    softsk_key_aad(alg, application, aad) != 0 ||
	    RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, wrapkey,
	    nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &outl, der, derlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &finl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KH_TAG_LEN,
	    tag) != 1) {
		softsk_debug("sealing the key handle failed");
		goto out;
	}
	softsk_buf_put(&b, aad, KH_HDR_LEN);
	softsk_buf_put(&b, nonce, sizeof(nonce));
	softsk_buf_put(&b, ct, (size_t)(outl + finl));
	softsk_buf_put(&b, tag, sizeof(tag));
	r = softsk_buf_steal(&b, handlep, lenp);
 out:
	OPENSSL_cleanse(wrapkey, sizeof(wrapkey));
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)derlen);
	free(ct);	/* ciphertext: not secret */
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_CIPHER_CTX_free(ctx);
	softsk_buf_free(&b);
	return r;
}

int
softsk_key_unwrap(const struct softsk_state *st, uint32_t alg,
    const char *application, const uint8_t *handle, size_t len,
    EVP_PKEY **pkeyp)
{
	uint8_t wrapkey[KH_WRAPKEY_LEN];
	uint8_t aad[KH_HDR_LEN + SOFTSK_SHA256_LEN];
	uint8_t *pt = NULL;
	const uint8_t *nonce, *ct, *tag, *p;
	size_t ctlen = 0;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int outl = 0, finl = 0, r = SSH_SK_ERR_DEVICE_NOT_FOUND;

	*pkeyp = NULL;
	OPENSSL_cleanse(wrapkey, sizeof(wrapkey));
	if (handle == NULL || len < KH_HDR_LEN + KH_NONCE_LEN + KH_TAG_LEN + 1 ||
	    len > SOFTSK_BUF_MAX ||
	    memcmp(handle, kh_magic, KH_MAGIC_LEN) != 0 ||
	    handle[KH_MAGIC_LEN] != alg) {
		softsk_debug("key handle not made by softsk for this alg");
		goto out;
	}
	nonce = handle + KH_HDR_LEN;
	ct = nonce + KH_NONCE_LEN;
	ctlen = len - KH_HDR_LEN - KH_NONCE_LEN - KH_TAG_LEN;
	tag = ct + ctlen;
	if ((r = softsk_key_wrapkey(st, 0, wrapkey)) != 0) {
		softsk_debug("no master.key in %s: not this key's credential",
		    st->dir);
		goto out;
	}
	r = SSH_SK_ERR_GENERAL;
	if (softsk_key_aad(alg, application, aad) != 0 ||
	    (pt = malloc(ctlen)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, wrapkey,
	    nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KH_TAG_LEN,
	    (void *)tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, pt + outl, &finl) != 1) {
		softsk_debug("key handle does not open: another state "
		    "directory or application made it");
		r = SSH_SK_ERR_DEVICE_NOT_FOUND;
		goto out;
	}
	p = pt;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p,
	    (long)(outl + finl))) == NULL ||
	    (pkey = EVP_PKCS82PKEY(p8)) == NULL ||
	    !softsk_key_matches(alg, pkey)) {
		softsk_debug("key handle holds no usable %s key",
		    softsk_key_alg_name(alg));
		goto out;
	}
	*pkeyp = pkey;
	pkey = NULL;
	r = 0;
 out:
	OPENSSL_cleanse(wrapkey, sizeof(wrapkey));
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ctlen);
		free(pt);
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_CIPHER_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

/* Copies a big number's minimal big-endian bytes into a malloc'd block. */
static int
softsk_key_bn_bytes(const BIGNUM *bn, uint8_t **outp, size_t *lenp)
{
	int n = BN_num_bytes(bn);

	*outp = NULL;
	*lenp = 0;
	if (n <= 0 || (*outp = malloc((size_t)n)) == NULL)
		return SSH_SK_ERR_GENERAL;
	if (BN_bn2bin(bn, *outp) != n) {
		free(*outp);
		*outp = NULL;
		return SSH_SK_ERR_GENERAL;
	}
	*lenp = (size_t)n;
	return 0;
}

int
softsk_key_sign(uint32_t alg, EVP_PKEY *pkey, const uint8_t *msg,
    size_t msglen, struct sk_sign_response *resp)
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *esig = NULL;
	const BIGNUM *br, *bs;
	const uint8_t *p;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r = SSH_SK_ERR_GENERAL;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL,
	    alg == SSH_SK_ECDSA ? EVP_sha256() : NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, msg, msglen) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, msg, msglen) != 1) {
		softsk_debug("%s signature failed", softsk_key_alg_name(alg));
		goto out;
	}
	if (alg == SSH_SK_ED25519) {
		if (siglen != ED25519_SIG_LEN)
			goto out;
		resp->sig_r = sig;
		resp->sig_r_len = siglen;
		sig = NULL;
		r = 0;
		goto out;
	}
	/* ECDSA: DER SEQUENCE { r, s } to the two big-endian integers */
	p = sig;
	if ((esig = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) == NULL)
		goto out;
	ECDSA_SIG_get0(esig, &br, &bs);
	if ((r = softsk_key_bn_bytes(br, &resp->sig_r,
	    &resp->sig_r_len)) == 0)
		r = softsk_key_bn_bytes(bs, &resp->sig_s, &resp->sig_s_len);
 out:
	free(sig);
	ECDSA_SIG_free(esig);
	EVP_MD_CTX_free(md);
	return r;
}
