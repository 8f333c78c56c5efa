/*
 * fuzz_sk.c - security-key material from outside (proto/sk.c): public key
 * blobs (a login key, the agent's identities), the base64 of an
 * authorized_keys line or a .pub file (policy, bastionctl enroll), SSH sk
 * signature blobs with their libfido2 verification against a fixed key,
 * and AAGUIDs (policy).
 *
 * Input: any bytes; each parser gets all of them (the string parsers as a
 * C string up to the first NUL).
 */
#define FUZZ_SK_KEY
#include "fuzz.h"

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "sk.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), fp[SK_FP_LEN];
	uint8_t *dec = NULL, aaguid[16];
	enum sk_verdict v;
	struct sk_key k;
	struct sk_sig sig;
	size_t declen;

	if (sk_key_from_blob(data, size, &k) == 0) {
		(void)sk_key_type(&k);
		(void)sk_fingerprint(data, size, fp, sizeof(fp));
	}
	if (sk_sig_parse(data, size, &sig) == 0)
		(void)sk_sig_verify(fuzz_sk_fixed(), &sig,
		    (const uint8_t *)FUZZ_SK_CHAL, strlen(FUZZ_SK_CHAL),
		    size & 1, &v);
	if (b64_decode(s, SK_MAX_BLOB, B64_CANONICAL, &dec, &declen) == 0) {
		/* canonical, as sk.h says: it encodes back to itself */
		char *enc = malloc(declen / 3 * 4 + 5);

		if (enc == NULL ||
		    EVP_EncodeBlock((unsigned char *)enc, dec, (int)declen) < 0 ||
		    strcmp(enc, s) != 0)
			abort();
		free(enc);
		free(dec);
	}
	(void)sk_key_from_base64(s, &k);
	(void)sk_fingerprint_base64(s, fp, sizeof(fp));
	(void)sk_aaguid_parse(s, aaguid);
	free(s);
	return (0);
}
