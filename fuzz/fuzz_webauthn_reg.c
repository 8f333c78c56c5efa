/*
 * fuzz_webauthn_reg.c - a browser's WebAuthn registration (proto/webauthn.c
 * webauthn_register_verify), as the web control worker checks it at
 * enroll-finish: the attestationObject (CBOR, decoded with libcbor, then
 * libfido2) and clientDataJSON from the network, against the expectation
 * of tests/unit/webauthn_fixture.h's Chromium registration (rpId
 * localhost, origin https://localhost:18446, a zero challenge).
 *
 * Input: u16 clientDataJSON length (big-endian), clientDataJSON, then the
 * attestationObject (the rest). What is accepted must keep the promises
 * of webauthn.h: a credential id of 1..1023 bytes and a key of its
 * algorithm's length.
 */
#include "fuzz.h"

#include "err.h"
#include "webauthn.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[32];
	struct webauthn_expect x = { "localhost", "https://localhost:18446",
	    zero, sizeof(zero), 0 };
	struct webauthn_cred c;
	enum webauthn_verdict v;
	size_t cdlen;

	if (size < 2)
		return (0);
	cdlen = (size_t)data[0] << 8 | data[1];
	if (cdlen > size - 2)
		return (0);
	if (webauthn_register_verify(&x, data + 2 + cdlen, size - 2 - cdlen,
	    data + 2, cdlen, &c, &v) != 0)
		return (0);
	if (v == WA_VERDICT_OK && (c.idlen == 0 || c.idlen > WA_MAX_CRED_ID ||
	    (c.key.alg == SK_ALG_ECDSA ? c.key.publen != 65 :
	    c.key.publen != 32)))
		abort();
	if (v != WA_VERDICT_OK && c.idlen != 0)
		abort();
	return (0);
}
