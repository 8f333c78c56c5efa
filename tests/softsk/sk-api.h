/*
 * sk-api.h - the security-key provider ABI that OpenSSH 9.2 dlopen()s.
 *
 * OpenSSH (ssh, ssh-keygen, ssh-agent via ssh-sk-helper) loads a provider
 * library and looks up four symbols: sk_api_version, sk_enroll, sk_sign and
 * sk_load_resident_keys.  It only accepts a provider whose version has the
 * same major half as its own; OpenSSH 9.0 to 9.x use 0x000a0000, whose
 * enroll response begins with a flags byte (older 0x0008xxxx lacks it).
 *
 * These declarations are written for the test authenticator in this
 * directory; the layouts below must stay byte-for-byte compatible with
 * OpenSSH's, so field order and types are part of the ABI.  Everything the
 * provider returns is allocated with malloc/calloc and freed by OpenSSH
 * with free() (after wiping it).
 */
#ifndef SOFTSK_SK_API_H
#define SOFTSK_SK_API_H

#include <stddef.h>
#include <stdint.h>

/* The API major version this provider implements (OpenSSH 9.2p1). */
#define SSH_SK_VERSION_MAJOR		0x000a0000
#define SSH_SK_VERSION_MAJOR_MASK	0xffff0000

/* Key flags: stored in the key at enrolment, passed back on every sign. */
#define SSH_SK_USER_PRESENCE_REQD	0x01	/* touch needed ("no-touch-required" clears it) */
#define SSH_SK_USER_VERIFICATION_REQD	0x04	/* PIN/biometric needed ("verify-required") */
#define SSH_SK_FORCE_OPERATION		0x10	/* overwrite an existing resident credential */
#define SSH_SK_RESIDENT_KEY		0x20	/* discoverable credential */

/* Algorithms (the "alg" argument). */
#define SSH_SK_ECDSA			0x00	/* ECDSA over NIST P-256 with SHA-256 */
#define SSH_SK_ED25519			0x01	/* Ed25519 */

/* Return codes: 0 is success, everything else is one of these. */
#define SSH_SK_ERR_GENERAL		-1
#define SSH_SK_ERR_UNSUPPORTED		-2
#define SSH_SK_ERR_PIN_REQUIRED		-3
#define SSH_SK_ERR_DEVICE_NOT_FOUND	-4
#define SSH_SK_ERR_CREDENTIAL_EXISTS	-5

/*
 * Result of sk_enroll().
 *   flags            key flags OpenSSH stores in the new key
 *   public_key       Ed25519: 32 raw bytes; ECDSA: 65-byte X9.62
 *                    uncompressed point (0x04 || X || Y)
 *   key_handle       credential id, opaque to OpenSSH
 *   signature        attestation signature (DER ECDSA for "packed")
 *   attestation_cert DER X.509 attestation certificate
 *   authdata         authenticator data as a CBOR byte string (the form
 *                    libfido2's fido_cred_authdata_ptr() returns)
 */
struct sk_enroll_response {
	uint8_t flags;
	uint8_t *public_key;
	size_t public_key_len;
	uint8_t *key_handle;
	size_t key_handle_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *attestation_cert;
	size_t attestation_cert_len;
	uint8_t *authdata;
	size_t authdata_len;
};

/*
 * Result of sk_sign().
 *   flags    authenticator-data flags (0x01 user present, 0x04 verified)
 *   counter  signature counter
 *   sig_r    Ed25519: the whole 64-byte signature; ECDSA: r, big-endian
 *   sig_s    Ed25519: NULL/0; ECDSA: s, big-endian
 */
struct sk_sign_response {
	uint8_t flags;
	uint32_t counter;
	uint8_t *sig_r;
	size_t sig_r_len;
	uint8_t *sig_s;
	size_t sig_s_len;
};

/* One discoverable credential, as returned by sk_load_resident_keys(). */
struct sk_resident_key {
	uint32_t alg;
	size_t slot;
	char *application;
	struct sk_enroll_response key;
	uint8_t flags;
	uint8_t *user_id;
	size_t user_id_len;
};

/* A NULL-terminated array of these is passed as "options". */
struct sk_option {
	char *name;
	char *value;
	uint8_t required;	/* non-zero: fail if the option is unknown */
};

/* Returns the API version implemented (SSH_SK_VERSION_MAJOR | minor). */
uint32_t sk_api_version(void);

/*
 * Creates a credential for "application" over "challenge" (the raw
 * challenge; the provider hashes it into the clientDataHash).  On success
 * returns 0 and sets *enroll_response, which the caller frees.
 */
int sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response);

/*
 * Signs "data" (the provider uses SHA256(data) as the clientDataHash) with
 * the credential in key_handle.  On success returns 0 and sets
 * *sign_response, which the caller frees.
 */
int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response);

/* Lists discoverable credentials; the caller frees *rks and each entry. */
int sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks);

#endif /* SOFTSK_SK_API_H */
