/*
 * sign.c - the webhook's proof of origin: X-Bastion-Signature is
 * "v1=" + hex(HMAC-SHA256(secret, timestamp "." body)), computed with
 * OpenSSL 3's EVP_MAC ("HMAC", digest SHA256), so a receiver that holds
 * the secret knows the body came from this bastion and, with the
 * timestamp it signs, that it is recent (receivers refuse more than 300 s
 * of skew; a 10-line verifier is in docs/APPROVALS.md). Also the random
 * ids of deliveries and mails. docs/APPROVALS.md, "Notifications".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "err.h"
#include "hex.h"
#include "notify.h"

int
notify_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, uint8_t out[32])
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outlen = 0;
	int r = BERR_CRYPTO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1 ||
	    EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, 32) != 1 || outlen != 32)
		goto out;
	r = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return (r);
}

int
notify_signature(const void *secret, size_t secretlen, long long ts,
    const void *body, size_t len, char out[NOTIFY_SIG_LEN])
{
	uint8_t mac[32];
	char *msg;
	int n, r;

	out[0] = '\0';
	/* decimal ts, ".", the body: exactly the bytes sent */
	if ((msg = malloc(len + 32)) == NULL)
		return (BERR_NOMEM);
	n = snprintf(msg, 32, "%lld.", ts);
	memcpy(msg + n, body, len);
	r = notify_hmac_sha256(secret, secretlen, msg, (size_t)n + len, mac);
	free(msg);
	if (r != 0)
		return (r);
	memcpy(out, "v1=", 3);
	hex_encode(mac, sizeof(mac), out + 3);
	OPENSSL_cleanse(mac, sizeof(mac));
	return (0);
}

int
notify_uuid(char out[NOTIFY_UUID_LEN])
{
	uint8_t u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
		return (BERR_CRYPTO);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);	/* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(out, NOTIFY_UUID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
	    u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
	    u[15]);
	return (0);
}
