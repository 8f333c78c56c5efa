/*
 * bech32.c - Bech32 encoder and bounded decoder (see bech32.h).
 *
 * Written from BIP 173's reference description: the polymod checksum over
 * the expanded human-readable part and the 5-bit groups, constant 1
 * (Bech32, not Bech32m: age uses the original). Everything works on fixed
 * arrays of BECH32_MAX_STR; no allocation.
 */
#include <ctype.h>
#include <string.h>

#include "bech32.h"
#include "err.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
	    0x3d4233dd, 0x2a1462b3 };
	uint32_t top = chk >> 25;
	int i;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return (chk);
}

/* The checksum state after the expanded hrp (lower case). */
static uint32_t
polymod_hrp(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)(tolower((unsigned char)hrp[i])
		    >> 5));
	chk = polymod_step(chk, 0);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)(tolower((unsigned char)hrp[i])
		    & 31));
	return (chk);
}

static int
hrp_ok(const char *hrp, size_t n)
{
	size_t i;

	if (n == 0 || n > BECH32_MAX_HRP)
		return (0);
	for (i = 0; i < n; i++)
		if (hrp[i] < 33 || hrp[i] > 126)
			return (0);
	return (1);
}

int
bech32_encode(const char *hrp, const uint8_t *data, size_t datalen,
    int upper, char *out, size_t outlen)
{
	uint8_t v[BECH32_MAX_STR];
	size_t hn = strlen(hrp), nv = 0, i, total;
	uint32_t acc = 0, chk;
	int bits = 0;

	if (!hrp_ok(hrp, hn))
		return (BERR_INVAL);
	if (datalen > BECH32_MAX_STR || (datalen * 8 + 4) / 5 + hn + 7 >
	    BECH32_MAX_STR)
		return (BERR_LIMIT);
	for (i = 0; i < datalen; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v[nv++] = (uint8_t)((acc >> bits) & 31);
		}
	}
	if (bits > 0)
		v[nv++] = (uint8_t)((acc << (5 - bits)) & 31);
	total = hn + 1 + nv + 6;
	if (total + 1 > outlen)
		return (BERR_LIMIT);
	chk = polymod_hrp(hrp, hn);
	for (i = 0; i < nv; i++)
		chk = polymod_step(chk, v[i]);
	for (i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < hn; i++)
		out[i] = (char)(upper ? toupper((unsigned char)hrp[i]) :
		    tolower((unsigned char)hrp[i]));
	out[hn] = '1';
	for (i = 0; i < nv + 6; i++) {
		uint8_t d = i < nv ? v[i] :
		    (uint8_t)((chk >> (5 * (5 - (i - nv)))) & 31);
		char c = charset[d];

		out[hn + 1 + i] = (char)(upper ? toupper((unsigned char)c) : c);
	}
	out[total] = '\0';
	return (0);
}

int
bech32_decode(const char *s, const char *hrp, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	uint8_t v[BECH32_MAX_STR];
	size_t n, sep, hn = strlen(hrp), nv, i, no = 0;
	uint32_t chk, acc = 0;
	int lower = 0, upper = 0, bits = 0;
	const char *p;

	*outlen = 0;
	n = strnlen(s, BECH32_MAX_STR + 1);
	if (n > BECH32_MAX_STR)
		return (BERR_LIMIT);
	for (i = 0; i < n; i++) {
		if (s[i] < 33 || s[i] > 126)
			return (BERR_FORMAT);
		lower |= islower((unsigned char)s[i]) != 0;
		upper |= isupper((unsigned char)s[i]) != 0;
	}
	if (lower && upper)
		return (BERR_FORMAT);
	if ((p = strrchr(s, '1')) == NULL)
		return (BERR_FORMAT);
	sep = (size_t)(p - s);
	if (sep != hn || !hrp_ok(hrp, hn) || strncasecmp(s, hrp, hn) != 0 ||
	    n - sep - 1 < 6)
		return (BERR_FORMAT);
	nv = n - sep - 1;
	for (i = 0; i < nv; i++) {
		const char *c = strchr(charset,
		    tolower((unsigned char)s[sep + 1 + i]));

		if (c == NULL || *c == '\0')
			return (BERR_FORMAT);
		v[i] = (uint8_t)(c - charset);
	}
	chk = polymod_hrp(hrp, hn);
	for (i = 0; i < nv; i++)
		chk = polymod_step(chk, v[i]);
	if (chk != 1)
		return (BERR_FORMAT);
	nv -= 6;
	for (i = 0; i < nv; i++) {
		acc = (acc << 5) | v[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (no >= outmax)
				return (BERR_LIMIT);
			out[no++] = (uint8_t)((acc >> bits) & 0xff);
		}
	}
	/* at most 4 padding bits, all zero */
	if (bits >= 5 || (acc & ((1U << bits) - 1)) != 0)
		return (BERR_FORMAT);
	*outlen = no;
	return (0);
}
