/*
 * fuzz_webauthn.c - a browser's WebAuthn assertion (proto/webauthn.c), as
 * the web console's control worker will check it: authenticator data,
 * signature and clientDataJSON from the network, against the fixed keys
 * and expectations of tests/unit/webauthn_fixture.h (the Chromium ES256
 * credential, the Ed25519 one).
 *
 * Input: u8 options (bit 0: require UV, bit 1: the Ed25519 key and its
 * expectation), u8 authenticator data length, u8 signature length, those
 * bytes, then clientDataJSON (the rest). What is accepted must keep the
 * promises of webauthn.h: the client data passes the limited check, the
 * authenticator data is 37 bytes for this relying party, with a touch.
 */
#include "fuzz.h"

#include <openssl/sha.h>

#include "err.h"
#include "webauthn.h"
#include "../tests/unit/webauthn_fixture.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rph[SHA256_DIGEST_LENGTH];
	enum webauthn_verdict v;
	struct webauthn_assertion as;
	struct webauthn_expect x;
	struct webauthn_key k;
	uint32_t counter;
	size_t adlen, siglen;
	int ok, opt;

	if (size < 3)
		return (0);
	opt = data[0];
	adlen = data[1];
	siglen = data[2];
	data += 3;
	size -= 3;
	if (adlen + siglen > size)
		return (0);
	memset(&k, 0, sizeof(k));
	memset(&x, 0, sizeof(x));
	if (opt & 2) {
		k.alg = SK_ALG_ED25519;
		memcpy(k.pub, eddsa_pub, k.publen = sizeof(eddsa_pub));
		x.rp_id = "bastion.test";
		x.origin = "https://bastion.test:8443";
		x.challenge = eddsa_challenge;
		x.challen = sizeof(eddsa_challenge);
	} else {
		k.alg = SK_ALG_ECDSA;
		memcpy(k.pub, es256_pub, k.publen = sizeof(es256_pub));
		x.rp_id = "localhost";
		x.origin = "https://localhost:18446";
		x.challenge = es256_challenge;
		x.challen = sizeof(es256_challenge);
	}
	x.require_uv = opt & 1;
	as.authdata = data;
	as.authdatalen = adlen;
	as.sig = data + adlen;
	as.siglen = siglen;
	as.clientdata = data + adlen + siglen;
	as.clientdatalen = size - adlen - siglen;
	if (webauthn_assert_verify(&k, &x, &as, &v, &counter) != 0)
		return (0);
	if (v == WA_VERDICT_OK) {
		SHA256((const uint8_t *)x.rp_id, strlen(x.rp_id), rph);
		if (webauthn_clientdata_check(as.clientdata,
		    as.clientdatalen, "webauthn.get", x.origin, x.challenge,
		    x.challen, &ok) != 0 || !ok ||
		    adlen != WA_AUTHDATA_LEN ||
		    memcmp(as.authdata, rph, sizeof(rph)) != 0 ||
		    (as.authdata[32] & WA_FLAG_UP) == 0 ||
		    (x.require_uv && (as.authdata[32] & WA_FLAG_UV) == 0) ||
		    counter != ((uint32_t)as.authdata[33] << 24 |
		    (uint32_t)as.authdata[34] << 16 |
		    (uint32_t)as.authdata[35] << 8 | as.authdata[36]))
			abort();
	}
	(void)webauthn_verdict_str(v);
	return (0);
}
