/*
 * softsk.c - OpenSSH security-key provider API of the software key.
 *
 * The four symbols OpenSSH 9.2 looks up in a provider (sk-api.h).  Each
 * call opens the state directory afresh, honours the switches (fail,
 * no-touch, uv) as they are at that moment, and appends one line to the
 * log.  The PIN argument is ignored: user verification is whatever the
 * "uv" switch says, so a verify-required key signs without UV when the
 * switch is off and the verifier has to reject it (docs/SOFTSK.md).
 *
 * Test-only: never build this into anything that is installed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "softsk.h"

#define SOFTSK_API_VERSION	(SSH_SK_VERSION_MAJOR | 0)

/* Assertion message: rpIdHash | flags | counter | clientDataHash. */
#define SIGNED_MSG_LEN		(SOFTSK_SHA256_LEN + 1 + 4 + SOFTSK_SHA256_LEN)

uint32_t
sk_api_version(void)
{
	return SOFTSK_API_VERSION;
}

/*
 * Accepts the options OpenSSH sends ("device"; "user" when enrolling);
 * an unknown option is an error only when marked required, as in
 * OpenSSH's own sk-usbhid.
 */
static int
softsk_check_options(struct sk_option **options, int enrolling)
{
	size_t i;

	if (options == NULL)
		return 0;
	for (i = 0; options[i] != NULL; i++) {
		if (options[i]->name == NULL)
			return SSH_SK_ERR_GENERAL;
		if (strcmp(options[i]->name, "device") == 0 ||
		    (enrolling && strcmp(options[i]->name, "user") == 0))
			continue;
		softsk_debug("unsupported option \"%s\"%s", options[i]->name,
		    options[i]->required ? " (required)" : ", ignored");
		if (options[i]->required)
			return SSH_SK_ERR_UNSUPPORTED;
	}
	return 0;
}

/*
 * What every operation refuses before it starts: the "fail" switch (the
 * key acts unplugged) and options it does not know.
 */
static int
softsk_check_start(struct softsk_state *st, struct sk_option **options,
    int enrolling)
{
	if (softsk_state_switch(st, "fail")) {
		softsk_debug("\"fail\" switch set: acting unplugged");
		return SSH_SK_ERR_DEVICE_NOT_FOUND;
	}
	return softsk_check_options(options, enrolling);
}

static int
softsk_alg_supported(uint32_t alg)
{
	return alg == SSH_SK_ECDSA || alg == SSH_SK_ED25519;
}

static const char *
softsk_result(int r)
{
	switch (r) {
	case 0:
		return "ok";
	case SSH_SK_ERR_UNSUPPORTED:
		return "unsupported";
	case SSH_SK_ERR_PIN_REQUIRED:
		return "pin-required";
	case SSH_SK_ERR_DEVICE_NOT_FOUND:
		return "device-not-found";
	case SSH_SK_ERR_CREDENTIAL_EXISTS:
		return "credential-exists";
	default:
		return "error";
	}
}

static void
softsk_free_enroll(struct sk_enroll_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->public_key);
	if (resp->key_handle != NULL)
		OPENSSL_cleanse(resp->key_handle, resp->key_handle_len);
	free(resp->key_handle);
	free(resp->signature);
	free(resp->attestation_cert);
	free(resp->authdata);
	free(resp);
}

static void
softsk_free_sign(struct sk_sign_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->sig_r);
	free(resp->sig_s);
	free(resp);
}

int
sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response)
{
	struct softsk_state st;
	struct sk_enroll_response *resp = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t ad_flags = SOFTSK_AD_UP;
	int lockfd = -1, r;

	(void)pin;	/* see the file comment */
	if (enroll_response == NULL)
		return SSH_SK_ERR_GENERAL;
	*enroll_response = NULL;
	if ((r = softsk_state_open(&st)) != 0)
		return r;
	if ((r = softsk_check_start(&st, options, 1)) != 0)
		goto out;
	if (!softsk_alg_supported(alg) || (flags & SSH_SK_RESIDENT_KEY)) {
		softsk_debug("unsupported: alg %u flags 0x%02x (resident "
		    "keys are not kept)", alg, flags);
		r = SSH_SK_ERR_UNSUPPORTED;
		goto out;
	}
	if (challenge == NULL || challenge_len == 0 || application == NULL ||
	    *application == '\0') {
		r = SSH_SK_ERR_GENERAL;
		goto out;
	}
	/* enrolment always counts as touched; a PIN only with the switch */
	if (softsk_state_switch(&st, "uv"))
		ad_flags |= SOFTSK_AD_UV;
	if ((r = softsk_state_lock(&st, &lockfd)) != 0)
		goto out;
	r = SSH_SK_ERR_GENERAL;
	if ((resp = calloc(1, sizeof(*resp))) == NULL)
		goto out;
	resp->flags = flags;	/* OpenSSH stores these in the new key */
	if ((r = softsk_key_generate(alg, &pkey)) != 0 ||
	    (r = softsk_key_public(alg, pkey, &resp->public_key,
	    &resp->public_key_len)) != 0 ||
	    (r = softsk_key_wrap(&st, alg, application, pkey,
	    &resp->key_handle, &resp->key_handle_len)) != 0 ||
	    (r = softsk_attest_fill(&st, alg, application, challenge,
	    challenge_len, ad_flags, pkey, resp)) != 0)
		goto out;
	*enroll_response = resp;
	resp = NULL;
	r = 0;
 out:
	softsk_state_unlock(lockfd);
	softsk_state_log(&st, "op=enroll alg=%s app=%s flags=0x%02x "
	    "result=%s", softsk_key_alg_name(alg),
	    application == NULL ? "(null)" : application, flags,
	    softsk_result(r));
	EVP_PKEY_free(pkey);
	softsk_free_enroll(resp);
	return r;
}

int
sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response)
{
	struct softsk_state st;
	struct sk_sign_response *resp = NULL;
	struct softsk_buf msg;
	EVP_PKEY *pkey = NULL;
	uint8_t hash[SOFTSK_SHA256_LEN], ad_flags = 0;
	uint32_t counter = 0;
	int r;

	(void)pin;	/* see the file comment */
	softsk_buf_init(&msg);
	if (sign_response == NULL)
		return SSH_SK_ERR_GENERAL;
	*sign_response = NULL;
	if ((r = softsk_state_open(&st)) != 0)
		return r;
	if ((r = softsk_check_start(&st, options, 0)) != 0)
		goto out;
	if (!softsk_alg_supported(alg)) {
		r = SSH_SK_ERR_UNSUPPORTED;
		goto out;
	}
	if ((data == NULL && data_len != 0) || application == NULL) {
		r = SSH_SK_ERR_GENERAL;
		goto out;
	}
	if ((r = softsk_key_unwrap(&st, alg, application, key_handle,
	    key_handle_len, &pkey)) != 0)
		goto out;
	/* a touch only where asked for and the "no-touch" switch is off */
	if ((flags & SSH_SK_USER_PRESENCE_REQD) &&
	    !softsk_state_switch(&st, "no-touch"))
		ad_flags |= SOFTSK_AD_UP;
	if (softsk_state_switch(&st, "uv"))
		ad_flags |= SOFTSK_AD_UV;
	if ((r = softsk_state_counter_next(&st, &counter)) != 0)
		goto out;
	r = SSH_SK_ERR_GENERAL;
	/* authenticatorData = SHA256(application) | flags | counter */
	if (EVP_Digest(application, strlen(application), hash, NULL,
	    EVP_sha256(), NULL) != 1)
		goto out;
	softsk_buf_put(&msg, hash, sizeof(hash));
	softsk_buf_put_u8(&msg, ad_flags);
	softsk_buf_put_u32(&msg, counter);
	/* clientDataHash = SHA256(data), as sk-usbhid computes it */
	if (EVP_Digest(data == NULL ? (const uint8_t *)"" : data, data_len,
	    hash, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	softsk_buf_put(&msg, hash, sizeof(hash));
	if (softsk_buf_status(&msg) != 0 || msg.len != SIGNED_MSG_LEN ||
	    (resp = calloc(1, sizeof(*resp))) == NULL)
		goto out;
	resp->flags = ad_flags;
	resp->counter = counter;
	if ((r = softsk_key_sign(alg, pkey, msg.data, msg.len, resp)) != 0)
		goto out;
	*sign_response = resp;
	resp = NULL;
	r = 0;
 out:
	if (r == 0)
		softsk_state_log(&st, "op=sign alg=%s app=%s flags=0x%02x "
		    "up=%d uv=%d counter=%lu result=ok",
		    softsk_key_alg_name(alg), application, flags,
		    (ad_flags & SOFTSK_AD_UP) != 0,
		    (ad_flags & SOFTSK_AD_UV) != 0, (unsigned long)counter);
	else
		softsk_state_log(&st, "op=sign alg=%s app=%s flags=0x%02x "
		    "result=%s", softsk_key_alg_name(alg),
		    application == NULL ? "(null)" : application, flags,
		    softsk_result(r));
	EVP_PKEY_free(pkey);
	softsk_buf_free(&msg);
	softsk_free_sign(resp);
	return r;
}

int
sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks)
{
	struct softsk_state st;
	int r;

	(void)pin;
	(void)options;
	if (rks != NULL)
		*rks = NULL;
	if (nrks != NULL)
		*nrks = 0;
	if ((r = softsk_state_open(&st)) != 0)
		return r;
	/* no credential is stored on this key, so none can be listed */
	r = softsk_state_switch(&st, "fail") ? SSH_SK_ERR_DEVICE_NOT_FOUND :
	    SSH_SK_ERR_UNSUPPORTED;
	softsk_state_log(&st, "op=load_resident_keys result=%s",
	    softsk_result(r));
	return r;
}
