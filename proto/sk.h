/*
 * sk.h - FIDO security keys as OpenSSH uses them: the public key blob, the
 * signature with its flags and counter, its verification with libfido2,
 * and the attestation `ssh-keygen -O write-attestation=` saves at
 * enrolment. Wire formats: OpenSSH PROTOCOL.u2f; docs/FIDO2.md.
 *
 * Shared by bastiond (the per-session touch check, bastion/touch.c) and
 * bastionctl (enrolment, fingerprints). Every input is untrusted and parsed
 * through struct buf (buf.h) with fixed limits.
 *
 * Functions return 0 or a BERR_* code (err.h); a verification that ran and
 * said "no" is not an error: it returns 0 with the verdict in an out value.
 */
#ifndef BASTION_SK_H
#define BASTION_SK_H

#include <stddef.h>
#include <stdint.h>

#define SK_TYPE_ED25519		"sk-ssh-ed25519@openssh.com"
#define SK_TYPE_ECDSA		"sk-ecdsa-sha2-nistp256@openssh.com"

#define SK_FLAG_UP		0x01	/* user present: the key was touched */
#define SK_FLAG_UV		0x04	/* user verified: PIN or biometric */

#define SK_MAX_APPLICATION	256
#define SK_MAX_BLOB		16384	/* any key blob we accept */
#define SK_FP_LEN		64	/* "SHA256:" + 43 + NUL fits */

enum sk_alg { SK_ALG_NONE = 0, SK_ALG_ED25519, SK_ALG_ECDSA };

/* A security-key public key. */
struct sk_key {
	enum sk_alg alg;
	uint8_t pub[65];	/* Ed25519: 32 bytes; P-256: 0x04 || X || Y */
	size_t publen;
	char application[SK_MAX_APPLICATION + 1];	/* e.g. "ssh:" */
	char fp[SK_FP_LEN];	/* SHA256 fingerprint of the blob */
};

/* OpenSSH's fingerprint of any key blob: "SHA256:" + unpadded base64 of
 * SHA-256(blob), written to out (SK_FP_LEN bytes are enough). */
int sk_fingerprint(const uint8_t *blob, size_t len, char *out, size_t outlen);
/* The same from the base64 blob of an authorized_keys line. */
int sk_fingerprint_base64(const char *b64, char *out, size_t outlen);

/*
 * Parse an sk public key blob (string type, key, string application).
 * BERR_FORMAT if it is not an ed25519-sk or ecdsa-sk key, or has trailing
 * bytes; *k is zeroed on failure.
 */
int sk_key_from_blob(const uint8_t *blob, size_t len, struct sk_key *k);
/* The same from base64 (the second field of an authorized_keys line). */
int sk_key_from_base64(const char *b64, struct sk_key *k);
/* The OpenSSH type name of k ("sk-ssh-ed25519@openssh.com", ...). */
const char *sk_key_type(const struct sk_key *k);

/* A security-key signature as carried in SSH: the signature proper
 * (Ed25519: 64 raw bytes; ECDSA: converted to DER, as libfido2 wants),
 * and the authenticator's flags and counter. */
struct sk_sig {
	enum sk_alg alg;
	uint8_t sig[80];
	size_t siglen;
	uint8_t flags;
	uint32_t counter;
};

/*
 * Parse an SSH sk signature blob: string type, string signature (ECDSA:
 * mpint r, mpint s inside), byte flags, uint32 counter. BERR_FORMAT for
 * anything else (other types, bad lengths, negative or oversized
 * integers, trailing bytes); *s is zeroed on failure.
 */
int sk_sig_parse(const uint8_t *blob, size_t len, struct sk_sig *s);

enum sk_verdict {
	SK_VERDICT_OK = 0,
	SK_VERDICT_BAD_SIGNATURE,	/* not made by this key over this data */
	SK_VERDICT_NO_TOUCH,		/* valid, but the user-presence bit is clear */
	SK_VERDICT_NO_PIN,		/* valid, touched, but UV required and clear */
};
const char *sk_verdict_str(enum sk_verdict v);

/*
 * One libfido2 assertion check, shared by ssh's security keys (over the
 * rebuilt authenticator data) and the web console's WebAuthn (proto/
 * webauthn.c, over the browser's): the signature sig by the alg key pub
 * over authdata || cdh (SHA-256 of the client data), for relying party rp,
 * with up and uv as libfido2's fido_opt_t. Returns 0 with *ok set; 0 and
 * *ok = 0 when libfido2 will not take the data or the signature (a bad
 * signature); BERR_NOMEM/BERR_CRYPTO when the check could not be made.
 */
int sk_fido_assert(enum sk_alg alg, const uint8_t *pub, size_t publen,
    const char *rp, const uint8_t *cdh, const uint8_t *authdata,
    size_t adlen, const uint8_t *sig, size_t siglen, int up, int uv,
    int *ok);

/*
 * Verify with libfido2 that s is k's signature over data, with user
 * presence, and user verification if require_uv. The authenticator data
 * is rebuilt as SHA256(k->application) || flags || counter and the client
 * data hash is SHA256(data), as OpenSSH's sk keys sign. Returns 0 with
 * *verdict set (OK only if all holds); BERR_NOMEM/BERR_CRYPTO when the
 * check itself could not be made. libfido2 does not check the counter:
 * that is the caller's job (state_counter_advance).
 */
int sk_sig_verify(const struct sk_key *k, const struct sk_sig *s,
    const uint8_t *data, size_t datalen, int require_uv,
    enum sk_verdict *verdict);

/* ---- attestation ----------------------------------------------------------- */

enum sk_attest_result {
	SK_ATTEST_OK = 0,
	SK_ATTEST_MALFORMED,		/* not an ssh-sk-attest-v01 blob */
	SK_ATTEST_BAD_SIGNATURE,	/* fido_cred_verify refused it */
	SK_ATTEST_WRONG_KEY,		/* it attests another key */
	SK_ATTEST_UNTRUSTED,		/* certificate not from a trusted root */
	SK_ATTEST_AAGUID,		/* authenticator model not allowed */
};
const char *sk_attest_result_str(enum sk_attest_result r);

/* What an attestation says about the authenticator. */
struct sk_attestation {
	uint8_t aaguid[16];
	char aaguid_hex[33];
	char subject[256];	/* certificate subject, RFC 2253, escaped */
	char issuer[256];
	uint8_t flags;
	uint32_t counter;
};

/* What to require of an attestation. */
struct sk_attest_policy {
	const char *roots_dir;		/* PEM certificates; NULL: no chain check */
	const uint8_t (*aaguids)[16];	/* allowed models; NULL: any */
	size_t naaguids;
};

/*
 * Verify an attestation (the file `ssh-keygen -O write-attestation=`
 * writes) for key k, made over challenge (the `-O challenge=` file):
 * fido_cred_verify of the packed statement, the attested public key equal
 * to k, the certificate's AAGUID extension (if any) equal to the
 * authenticator data's, the certificate chaining to a certificate in
 * pol->roots_dir (OpenSSL X509_verify_cert; intermediates may be trust
 * anchors), and the AAGUID on pol->aaguids. Returns 0 with *res set and,
 * when *res is not OK, a sentence in why; *out is filled as far as the
 * blob could be read. BERR_SYS when roots_dir cannot be read or holds no
 * certificate, BERR_NOMEM/BERR_CRYPTO on internal failures.
 */
int sk_attest_verify(const struct sk_key *k, const uint8_t *att,
    size_t attlen, const uint8_t *challenge, size_t challen,
    const struct sk_attest_policy *pol, struct sk_attestation *out,
    enum sk_attest_result *res, char *why, size_t whylen);

/* Parse 32 hex digits (dashes allowed, as in a UUID) into aaguid. */
int sk_aaguid_parse(const char *s, uint8_t aaguid[16]);

#endif
