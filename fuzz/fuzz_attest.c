/*
 * fuzz_attest.c - the attestation file an engineer hands in at enrolment
 * (`ssh-keygen -O write-attestation=`, read by bastionctl enroll):
 * sk_attest_verify() splits the ssh-sk-attest-v01 blob, gives its parts to
 * libfido2 and its certificate to OpenSSL, checked against a fixed key and
 * challenge with an AAGUID list (no roots directory: no file access).
 *
 * Input: the attestation file.
 */
#define FUZZ_SK_KEY
#include "fuzz.h"

#include "buf.h"
#include "err.h"
#include "sk.h"

static const uint8_t allowed[2][16] = {
	{ 0 },
	{ 0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13,
	  0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07, 0x2a },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_attest_policy pol = { NULL, allowed, 2 };
	struct sk_attestation att;
	enum sk_attest_result res;
	char why[256];

	(void)sk_attest_verify(fuzz_sk_fixed(), data, size,
	    (const uint8_t *)FUZZ_SK_CHAL, strlen(FUZZ_SK_CHAL), &pol, &att,
	    &res, why, sizeof(why));
	(void)sk_attest_result_str(res);
	return (0);
}
