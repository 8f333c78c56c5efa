/*
 * webauthn.h - checking a WebAuthn assertion (a browser's
 * navigator.credentials.get) on the server, with libfido2.
 *
 * The web console (issue 17) asks the person's security key to sign a
 * challenge the bastion chose: at sign-in, and for every state-changing
 * action, where the challenge is the hash of exactly what is done. This
 * file decides whether what the browser sent back is that key's
 * signature, made with a touch, over that challenge, for this console's
 * origin and relying party id. It does not keep state: consuming the
 * challenge once and advancing the signature counter
 * (state_counter_advance) are the caller's.
 *
 * What the browser sends (W3C Web Authentication, level 3):
 *
 *	authenticatorData = SHA-256(rpId) u8 flags u32 counter (big-endian)
 *	                    [attested credential data, extensions: refused,
 *	                    the console asks for neither]
 *	clientDataJSON    = {"type":"webauthn.get","challenge":B64URL,
 *	                    "origin":ORIGIN,"crossOrigin":false ...}
 *	signature         = over authenticatorData || SHA-256(clientDataJSON)
 *	                    (ES256: DER; EdDSA: 64 raw bytes)
 *
 * clientDataJSON is checked with the specification's "limited
 * verification algorithm" (section 5.8.1.3): the bytes must begin with
 * the serialisation the browser is required to produce for the expected
 * type, challenge, origin and crossOrigin false, followed by '}' or ','.
 * No JSON parser runs on it; whatever a browser appends (Chrome appends
 * a random member now and then) is only hashed.
 */
#ifndef BASTION_WEBAUTHN_H
#define BASTION_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>

#include "sk.h"

#define WA_AUTHDATA_LEN		37	/* rpIdHash(32) flags(1) counter(4) */
#define WA_MAX_CLIENTDATA	1024
#define WA_MAX_ORIGIN		256
#define WA_MAX_RPID		253	/* a DNS name */
#define WA_MIN_CHALLENGE	16	/* the specification's minimum */
#define WA_MAX_CHALLENGE	64
#define WA_MAX_SIG		80	/* a DER P-256 signature is at most 72 */

#define WA_FLAG_UP		0x01	/* user present */
#define WA_FLAG_UV		0x04	/* user verified */
#define WA_FLAG_AT		0x40	/* attested credential data included */
#define WA_FLAG_ED		0x80	/* extension data included */

/* A WebAuthn credential's public key, as enrolled. */
struct webauthn_key {
	enum sk_alg alg;	/* SK_ALG_ECDSA (COSE ES256) or SK_ALG_ED25519 */
	uint8_t pub[65];	/* P-256: 0x04 || X || Y; Ed25519: 32 bytes */
	size_t publen;
};

/* What the bastion expects: its own settings and the challenge it gave. */
struct webauthn_expect {
	const char *rp_id;	/* "bastion.hospital.example" */
	const char *origin;	/* "https://bastion.hospital.example:8443" */
	const uint8_t *challenge;
	size_t challen;		/* WA_MIN_CHALLENGE..WA_MAX_CHALLENGE */
	int require_uv;		/* the policy asks for a PIN or biometric */
};

/* What the browser sent back (untrusted; lengths are checked here). */
struct webauthn_assertion {
	const uint8_t *authdata;
	size_t authdatalen;
	const uint8_t *clientdata;
	size_t clientdatalen;
	const uint8_t *sig;
	size_t siglen;
};

enum webauthn_verdict {
	WA_VERDICT_OK = 0,
	WA_VERDICT_BAD_CLIENTDATA,	/* not a "get" of this challenge from
					 * this origin (or cross-origin) */
	WA_VERDICT_BAD_AUTHDATA,	/* wrong length, or AT/ED flags set */
	WA_VERDICT_WRONG_RP,		/* signed for another relying party */
	WA_VERDICT_BAD_SIGNATURE,	/* not made by this key over this data */
	WA_VERDICT_NO_TOUCH,		/* valid, but user presence is clear */
	WA_VERDICT_NO_PIN,		/* valid, touched, UV required and clear */
	WA_VERDICT_BAD_ATTESTATION,	/* registration: not a well-formed
					 * "none" or "packed" attestation of a
					 * new ES256 / EdDSA credential, or its
					 * statement does not verify */
};

/* A short English phrase for v, for logs and audit reasons. */
const char *webauthn_verdict_str(enum webauthn_verdict v);

/*
 * Does clientDataJSON cd (len bytes) pass the limited verification for
 * type ("webauthn.get" or "webauthn.create"), origin and the challenge?
 * Sets *ok (0 or 1) and returns 0; BERR_INVAL for NULL arguments, a
 * challenge outside WA_MIN/MAX_CHALLENGE, or a type or origin that is
 * empty, too long or would need JSON escaping (such an origin is a
 * configuration error, refused by the policy check).
 */
int webauthn_clientdata_check(const uint8_t *cd, size_t len,
    const char *type, const char *origin, const uint8_t *challenge,
    size_t challen, int *ok);

/*
 * Check assertion as against key k and expectation x. Returns 0 with
 * *verdict set (WA_VERDICT_OK only if everything holds) and, when the
 * authenticator data could be read, *counter set to its signature
 * counter (else 0); checking the counter against the last one is the
 * caller's (libfido2 does not). BERR_INVAL for NULL arguments or an
 * invalid expectation (see webauthn_clientdata_check; an rp_id empty or
 * longer than WA_MAX_RPID; a key of no known algorithm or of the wrong
 * length); BERR_NOMEM, or BERR_CRYPTO when the check itself could not be
 * made (also for a stored P-256 key that is no point of the curve: the
 * enrolment should have refused it); *verdict is then
 * WA_VERDICT_BAD_SIGNATURE, never OK.
 *
 * A forgery is reported as a bad signature, never as a mere missing
 * touch: the signature is checked before the flags are judged.
 */
int webauthn_assert_verify(const struct webauthn_key *k,
    const struct webauthn_expect *x, const struct webauthn_assertion *as,
    enum webauthn_verdict *verdict, uint32_t *counter);

/*
 * Registration (navigator.credentials.create, enrolment in the console).
 * The browser sends clientDataJSON and the attestationObject, CBOR
 * {fmt, attStmt, authData} (decoded with libcbor, bounded by
 * WA_MAX_ATTOBJ). Accepted: fmt "none" (attStmt empty: the enrolment is
 * vouched for by the one-time code from an ssh login and the PAM
 * secret, not by the key's maker) and "packed" (self attestation or an
 * x5c chain's leaf, checked by libfido2's fido_cred_verify[_self]).
 * authData must carry attested credential data (AT) for this rpId, with
 * a touch (UP) and UV when required; its COSE key must be ES256 or EdDSA.
 */
#define WA_MAX_ATTOBJ		8192
#define WA_MAX_CRED_ID		1023

struct webauthn_cred {
	struct webauthn_key key;
	uint8_t id[WA_MAX_CRED_ID];
	size_t idlen;
	uint8_t aaguid[16];
	uint32_t counter;
	char fmt[8];		/* "none" or "packed" */
};

/*
 * Check a registration against x (x->challenge: the one the bastion gave
 * for this enrolment). 0 with *verdict (WA_VERDICT_OK only if all holds;
 * then *out is the new credential); BERR_INVAL for NULL arguments or an
 * invalid expectation, BERR_NOMEM.
 */
int webauthn_register_verify(const struct webauthn_expect *x,
    const uint8_t *attobj, size_t attlen, const uint8_t *cd, size_t cdlen,
    struct webauthn_cred *out, enum webauthn_verdict *verdict);

#endif
