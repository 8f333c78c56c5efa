/*
 * shamir.c - k-of-n sharing of a 32-byte secret over GF(256) (see
 * shamir.h). Recovery is Lagrange interpolation at x = 0:
 *
 *	secret = sum_j y_j * prod_{m != j} x_m / (x_m ^ x_j)
 *
 * (subtraction is XOR in GF(2^8)). Inverses are a^254. Coefficients come
 * from RAND_priv_bytes and are wiped after use.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "age.h"
#include "bech32.h"
#include "err.h"
#include "shamir.h"

#define SHARE_BYTES	(3 + SHAMIR_SET_ID_LEN + SHAMIR_SECRET_LEN)
#define SHARE_HRP	"bastion-share-"
#define SHARE_VERSION	1

/* a * b in GF(2^8) mod x^8+x^4+x^3+x+1, no branch on the values */
static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t p = 0;
	int i;

	for (i = 0; i < 8; i++) {
		p ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return (p);
}

/* a^254 = a^-1 (0 for 0) */
static uint8_t
gf_inv(uint8_t a)
{
	uint8_t r = 1;
	int i;

	for (i = 0; i < 7; i++) {	/* a^(2+4+...+128) = a^254 */
		a = gf_mul(a, a);
		r = gf_mul(r, a);
	}
	return (r);
}

int
shamir_split(const uint8_t secret[SHAMIR_SECRET_LEN], unsigned k,
    unsigned n, const uint8_t set_id[SHAMIR_SET_ID_LEN],
    struct shamir_share *out)
{
	uint8_t coef[SHAMIR_MAX_SHARES];	/* degree 1..k-1 */
	unsigned i, j, x;
	size_t b;
	uint8_t y;

	if (k < 2 || n < k || n > SHAMIR_MAX_SHARES)
		return (BERR_INVAL);
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].k = (uint8_t)k;
		out[i].x = (uint8_t)(i + 1);
		memcpy(out[i].set_id, set_id, SHAMIR_SET_ID_LEN);
	}
	for (b = 0; b < SHAMIR_SECRET_LEN; b++) {
		if (RAND_priv_bytes(coef, (int)(k - 1)) != 1) {
			OPENSSL_cleanse(coef, sizeof(coef));
			for (i = 0; i < n; i++)
				OPENSSL_cleanse(&out[i], sizeof(out[i]));
			return (BERR_CRYPTO);
		}
		for (i = 0; i < n; i++) {
			x = i + 1;
			/* Horner: ((c_{k-1} x + c_{k-2}) x + ...) x + s */
			y = 0;
			for (j = k - 1; j >= 1; j--)
				y = gf_mul((uint8_t)(y ^ coef[j - 1]),
				    (uint8_t)x);
			out[i].y[b] = (uint8_t)(y ^ secret[b]);
		}
	}
	OPENSSL_cleanse(coef, sizeof(coef));
	return (0);
}

int
shamir_combine(const struct shamir_share *s, size_t n,
    uint8_t secret[SHAMIR_SECRET_LEN], char *why, size_t whylen)
{
	size_t i, j, b, k;
	uint8_t num, den, l;

	memset(secret, 0, SHAMIR_SECRET_LEN);
	if (n == 0)
		return (berr_why(why, whylen, BERR_LIMIT, "no share given"));
	k = s[0].k;
	for (i = 0; i < n; i++) {
		if (s[i].k != k || memcmp(s[i].set_id, s[0].set_id,
		    SHAMIR_SET_ID_LEN) != 0)
			return (berr_why(why, whylen, BERR_INVAL, "share %zu "
			    "belongs to another key or split than share 1",
			    i + 1));
		if (s[i].x == 0)
			return (berr_why(why, whylen, BERR_INVAL, "share %zu "
			    "is malformed (x = 0)", i + 1));
		for (j = 0; j < i; j++)
			if (s[j].x == s[i].x)
				return (berr_why(why, whylen, BERR_INVAL,
				    "shares %zu and %zu are the same share "
				    "(number %u)", j + 1, i + 1, s[i].x));
	}
	if (n < k)
		return (berr_why(why, whylen, BERR_LIMIT, "%zu share(s) given, "
		    "this key was split so that %zu are needed", n, k));
	/* exactly k of them: more add nothing */
	for (j = 0; j < k; j++) {
		num = 1;
		den = 1;
		for (i = 0; i < k; i++) {
			if (i == j)
				continue;
			num = gf_mul(num, s[i].x);
			den = gf_mul(den, (uint8_t)(s[i].x ^ s[j].x));
		}
		l = gf_mul(num, gf_inv(den));
		for (b = 0; b < SHAMIR_SECRET_LEN; b++)
			secret[b] ^= gf_mul(s[j].y[b], l);
	}
	return (0);
}

int
shamir_share_encode(const struct shamir_share *s, char *out, size_t outlen)
{
	uint8_t raw[SHARE_BYTES];
	int r;

	raw[0] = SHARE_VERSION;
	raw[1] = s->k;
	raw[2] = s->x;
	memcpy(raw + 3, s->set_id, SHAMIR_SET_ID_LEN);
	memcpy(raw + 3 + SHAMIR_SET_ID_LEN, s->y, SHAMIR_SECRET_LEN);
	r = bech32_encode(SHARE_HRP, raw, sizeof(raw), 1, out, outlen);
	OPENSSL_cleanse(raw, sizeof(raw));
	return (r);
}

int
shamir_share_decode(const char *str, struct shamir_share *s)
{
	uint8_t raw[SHARE_BYTES + 1];
	size_t n = 0;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = bech32_decode(str, SHARE_HRP, raw, sizeof(raw), &n)) != 0)
		return (BERR_FORMAT);
	if (n != SHARE_BYTES || raw[0] != SHARE_VERSION || raw[1] < 2 ||
	    raw[2] == 0 || raw[2] < 1) {
		r = BERR_FORMAT;
		goto out;
	}
	s->k = raw[1];
	s->x = raw[2];
	memcpy(s->set_id, raw + 3, SHAMIR_SET_ID_LEN);
	memcpy(s->y, raw + 3 + SHAMIR_SET_ID_LEN, SHAMIR_SECRET_LEN);
 out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return (r);
}

int
shamir_set_id(const uint8_t secret[SHAMIR_SECRET_LEN],
    uint8_t set_id[SHAMIR_SET_ID_LEN])
{
	uint8_t pub[AGE_KEY_LEN], md[32];
	unsigned int len = 0;

	if (age_identity_public(secret, pub) != 0 ||
	    EVP_Digest(pub, sizeof(pub), md, &len, EVP_sha256(), NULL) != 1)
		return (BERR_CRYPTO);
	memcpy(set_id, md, SHAMIR_SET_ID_LEN);
	return (0);
}
