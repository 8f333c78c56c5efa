/*
 * softsk_attest.c - "packed" attestation for the software security key.
 *
 * On enrolment OpenSSH receives, and ssh-keygen -O write-attestation=
 * saves, three things that a verifier such as libfido2's fido_cred_verify()
 * checks together:
 *
 *   authdata   CBOR byte string wrapping the authenticator data:
 *              SHA-256(application) | flags | counter (4, big-endian) |
 *              AAGUID (16) | credential id length (2) | credential id |
 *              COSE public key
 *   signature  DER ECDSA P-256/SHA-256 by the attestation key over
 *              authenticator data || clientDataHash, where clientDataHash
 *              is SHA-256(challenge): OpenSSH 9.2's sk-usbhid hands the raw
 *              challenge to fido_cred_set_clientdata(), which hashes it
 *   cert       DER X.509 for the attestation key, issued by a test CA and
 *              carrying the FIDO AAGUID extension (1.3.6.1.4.1.45724.1.1.4)
 *
 * The CA (ca.key, ca.pem) and the attestation key (attest.key) live in the
 * state directory and are made on first use; the certificate is issued
 * afresh for each enrolment so a changed "aaguid" file takes effect.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "softsk.h"

#define FIDO_AAGUID_OID		"1.3.6.1.4.1.45724.1.1.4"
#define CERT_DAYS		3650

/* Reads a PEM private key from "<dir>/<name>"; missing: DEVICE_NOT_FOUND. */
static int
softsk_attest_load_key(const struct softsk_state *st, const char *name,
    EVP_PKEY **pkeyp)
{
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*pkeyp = NULL;
	if ((r = softsk_state_read(st, name, &data, &len)) != 0)
		return r;
	r = SSH_SK_ERR_GENERAL;
	if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL &&
	    (*pkeyp = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL)
		r = 0;
	else
		softsk_debug("%s/%s: not a PEM private key", st->dir, name);
	BIO_free(bio);
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

/* Writes pkey (PKCS#8 PEM, unencrypted: test only) to "<dir>/<name>". */
static int
softsk_attest_save_key(const struct softsk_state *st, const char *name,
    EVP_PKEY *pkey)
{
	BIO *bio = NULL;
	char *pem = NULL;
	long len;
	int r = SSH_SK_ERR_GENERAL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || (len = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;
	r = softsk_state_write(st, name, pem, (size_t)len, 0600);
	OPENSSL_cleanse(pem, (size_t)len);
 out:
	BIO_free(bio);
	return r;
}

static int
softsk_attest_add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *val)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, val)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1;
}

/* id-fido-gen-ce-aaguid: an OCTET STRING holding a DER OCTET STRING. */
static int
softsk_attest_add_aaguid(X509 *cert, const uint8_t aaguid[SOFTSK_AAGUID_LEN])
{
	uint8_t inner[2 + SOFTSK_AAGUID_LEN];
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int ok = 0;

	inner[0] = V_ASN1_OCTET_STRING;
	inner[1] = SOFTSK_AAGUID_LEN;
	memcpy(inner + 2, aaguid, SOFTSK_AAGUID_LEN);
	if ((obj = OBJ_txt2obj(FIDO_AAGUID_OID, 1)) != NULL &&
	    (os = ASN1_OCTET_STRING_new()) != NULL &&
	    ASN1_OCTET_STRING_set(os, inner, sizeof(inner)) == 1 &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) != NULL)
		ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

/*
 * Issues a certificate for subject_key named cn.  With issuer NULL it is a
 * self-signed CA; otherwise an attestation certificate (the WebAuthn
 * "packed" profile: OU "Authenticator Attestation", CA:FALSE, AAGUID).
 */
static int
softsk_attest_issue(EVP_PKEY *subject_key, const char *cn, X509 *issuer,
    EVP_PKEY *issuer_key, const uint8_t *aaguid, X509 **certp)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	BIGNUM *serial = NULL;
	X509V3_CTX ctx;
	const char *ou = issuer == NULL ? "Test CA" :
	    "Authenticator Attestation";
	int r = SSH_SK_ERR_GENERAL;

	*certp = NULL;
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (serial = BN_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_rand(serial, 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
	    (const unsigned char *)"ZZ", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Bastion tests (softsk)", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
	    (const unsigned char *)ou, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, issuer == NULL ? name :
	    X509_get_subject_name(issuer)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400L) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0,
	    NULL) == NULL ||
	    X509_set_pubkey(x, subject_key) != 1)
		goto out;
	X509V3_set_ctx(&ctx, issuer == NULL ? x : issuer, x, NULL, NULL, 0);
	if (issuer == NULL) {
		if (!softsk_attest_add_ext(x, &ctx, NID_basic_constraints,
		    "critical,CA:TRUE") ||
		    !softsk_attest_add_ext(x, &ctx, NID_key_usage,
		    "critical,keyCertSign,cRLSign") ||
		    !softsk_attest_add_ext(x, &ctx, NID_subject_key_identifier,
		    "hash"))
			goto out;
	} else {
		if (!softsk_attest_add_ext(x, &ctx, NID_basic_constraints,
		    "critical,CA:FALSE") ||
		    !softsk_attest_add_ext(x, &ctx, NID_key_usage,
		    "critical,digitalSignature") ||
		    !softsk_attest_add_ext(x, &ctx, NID_subject_key_identifier,
		    "hash") ||
		    !softsk_attest_add_ext(x, &ctx,
		    NID_authority_key_identifier, "keyid:always") ||
		    !softsk_attest_add_aaguid(x, aaguid))
			goto out;
	}
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		goto out;
	*certp = x;
	x = NULL;
	r = 0;
 out:
	if (r != 0)
		softsk_debug("issuing certificate \"%s\" failed", cn);
	X509_free(x);
	X509_NAME_free(name);
	BN_free(serial);
	return r;
}

/* Loads the test CA, creating ca.key and ca.pem if either is missing. */
static int
softsk_attest_ca(const struct softsk_state *st, EVP_PKEY **keyp,
    X509 **certp)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	char *out = NULL;
	long outlen;
	int r, rk, rc;

	*keyp = NULL;
	*certp = NULL;
	rk = softsk_attest_load_key(st, "ca.key", keyp);
	rc = softsk_state_read(st, "ca.pem", &pem, &len);
	if (rk == 0 && rc == 0) {
		r = SSH_SK_ERR_GENERAL;
		if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
		    (*certp = PEM_read_bio_X509(bio, NULL, NULL,
		    NULL)) == NULL ||
		    X509_check_private_key(*certp, *keyp) != 1) {
			softsk_debug("%s/ca.pem does not match ca.key: "
			    "delete both to make a new CA", st->dir);
			goto out;
		}
		r = 0;
		goto out;
	}
	if ((rk != 0 && rk != SSH_SK_ERR_DEVICE_NOT_FOUND) ||
	    (rc != 0 && rc != SSH_SK_ERR_DEVICE_NOT_FOUND)) {
		r = SSH_SK_ERR_GENERAL;
		goto out;
	}
	/* one of them is missing: start a new CA */
	EVP_PKEY_free(*keyp);
	*keyp = NULL;
	softsk_debug("creating test CA in %s", st->dir);
	if ((r = softsk_key_generate(SSH_SK_ECDSA, keyp)) != 0 ||
	    (r = softsk_attest_issue(*keyp, "SoftSK Test Attestation CA",
	    NULL, *keyp, NULL, certp)) != 0)
		goto out;
	r = SSH_SK_ERR_GENERAL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, *certp) != 1 ||
	    (outlen = BIO_get_mem_data(bio, &out)) <= 0)
		goto out;
	if ((r = softsk_attest_save_key(st, "ca.key", *keyp)) != 0 ||
	    (r = softsk_state_write(st, "ca.pem", out, (size_t)outlen,
	    0644)) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0) {
		EVP_PKEY_free(*keyp);
		X509_free(*certp);
		*keyp = NULL;
		*certp = NULL;
	}
	BIO_free(bio);
	free(pem);
	return r;
}

/* Loads the attestation key, creating attest.key if missing. */
static int
softsk_attest_key(const struct softsk_state *st, EVP_PKEY **keyp)
{
	int r;

	if ((r = softsk_attest_load_key(st, "attest.key", keyp)) !=
	    SSH_SK_ERR_DEVICE_NOT_FOUND)
		return r;
	if ((r = softsk_key_generate(SSH_SK_ECDSA, keyp)) != 0 ||
	    (r = softsk_attest_save_key(st, "attest.key", *keyp)) != 0) {
		EVP_PKEY_free(*keyp);
		*keyp = NULL;
	}
	return r;
}

/* Builds the raw authenticator data with attested credential data. */
static int
softsk_attest_authdata(const struct softsk_state *st, uint32_t alg,
    const char *application, uint8_t ad_flags, EVP_PKEY *pkey,
    const struct sk_enroll_response *resp, struct softsk_buf *ad)
{
	uint8_t rpid_hash[SOFTSK_SHA256_LEN], aaguid[SOFTSK_AAGUID_LEN];
	uint32_t counter;
	int r;

	if (resp->key_handle_len > UINT16_MAX)
		return SSH_SK_ERR_GENERAL;
	if ((r = softsk_state_counter_get(st, &counter)) != 0 ||
	    (r = softsk_state_aaguid(st, aaguid)) != 0)
		return r;
	if (EVP_Digest(application, strlen(application), rpid_hash, NULL,
	    EVP_sha256(), NULL) != 1)
		return SSH_SK_ERR_GENERAL;
	softsk_buf_put(ad, rpid_hash, sizeof(rpid_hash));
	softsk_buf_put_u8(ad, ad_flags | SOFTSK_AD_AT);
	softsk_buf_put_u32(ad, counter);
	softsk_buf_put(ad, aaguid, sizeof(aaguid));
	softsk_buf_put_u16(ad, (uint16_t)resp->key_handle_len);
	softsk_buf_put(ad, resp->key_handle, resp->key_handle_len);
	return softsk_key_cose(alg, pkey, ad);
}

int
softsk_attest_fill(const struct softsk_state *st, uint32_t alg,
    const char *application, const uint8_t *challenge, size_t challenge_len,
    uint8_t ad_flags, EVP_PKEY *pkey, struct sk_enroll_response *resp)
{
	uint8_t cdh[SOFTSK_SHA256_LEN], aaguid[SOFTSK_AAGUID_LEN];
	struct softsk_buf ad, cbor, signed_msg;
	EVP_PKEY *ca_key = NULL, *att_key = NULL;
	X509 *ca_cert = NULL, *att_cert = NULL;
	EVP_MD_CTX *md = NULL;
	uint8_t *der = NULL;
	size_t siglen = 0;
	int derlen, r;

	softsk_buf_init(&ad);
	softsk_buf_init(&cbor);
	softsk_buf_init(&signed_msg);
	if ((r = softsk_attest_authdata(st, alg, application, ad_flags, pkey,
	    resp, &ad)) != 0 ||
	    (r = softsk_state_aaguid(st, aaguid)) != 0 ||
	    (r = softsk_attest_ca(st, &ca_key, &ca_cert)) != 0 ||
	    (r = softsk_attest_key(st, &att_key)) != 0 ||
	    (r = softsk_attest_issue(att_key, "SoftSK Attestation", ca_cert,
	    ca_key, aaguid, &att_cert)) != 0)
		goto out;
	r = SSH_SK_ERR_GENERAL;
	/* clientDataHash = SHA-256(challenge), as fido_cred_set_clientdata */
	if (EVP_Digest(challenge, challenge_len, cdh, NULL, EVP_sha256(),
	    NULL) != 1)
		goto out;
	softsk_buf_put(&signed_msg, ad.data, ad.len);
	softsk_buf_put(&signed_msg, cdh, sizeof(cdh));
	if (softsk_buf_status(&signed_msg) != 0 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, att_key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, signed_msg.data,
	    signed_msg.len) != 1 ||
	    (resp->signature = malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, resp->signature, &siglen, signed_msg.data,
	    signed_msg.len) != 1) {
		softsk_debug("attestation signature failed");
		goto out;
	}
	resp->signature_len = siglen;
	if ((derlen = i2d_X509(att_cert, &der)) <= 0 ||
	    (resp->attestation_cert = malloc((size_t)derlen)) == NULL)
		goto out;
	memcpy(resp->attestation_cert, der, (size_t)derlen);
	resp->attestation_cert_len = (size_t)derlen;
	softsk_cbor_bytes(&cbor, ad.data, ad.len);
	/* the last step: its result is the result */
	r = softsk_buf_steal(&cbor, &resp->authdata, &resp->authdata_len);
 out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(att_key);
	X509_free(ca_cert);
	X509_free(att_cert);
	softsk_buf_free(&ad);
	softsk_buf_free(&cbor);
	softsk_buf_free(&signed_msg);
	return r;
}
