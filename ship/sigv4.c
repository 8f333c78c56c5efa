/*
 * sigv4.c - AWS Signature Version 4, written with OpenSSL's HMAC and
 * SHA-256, for bastion-ship's requests to an S3-compatible store.
 *
 * Why our own and not libcurl's CURLOPT_AWS_SIGV4 (curl 7.88 in Debian
 * 12): curl signs only what it sees, and for an upload read through a
 * callback it cannot hash the body, so the payload would go out as
 * UNSIGNED-PAYLOAD; here the body's SHA-256 (computed anyway, for the
 * ledger) is the signed x-amz-content-sha256, so a store that checks it
 * refuses a body changed on the way. The signer is pure (no clock, no
 * I/O) and checked against AWS's published examples in
 * tests/unit/test_ship.c.
 *
 *	canonical request = METHOD \n URI \n QUERY \n
 *	                    name:value\n ... \n signed;names \n payload hash
 *	string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n
 *	                    DATE/REGION/SERVICE/aws4_request \n
 *	                    hex(SHA256(canonical request))
 *	signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, DATE), REGION),
 *	                    SERVICE), "aws4_request")
 *	signature         = hex(HMAC(signing key, string to sign))
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hex.h"
#include "ship.h"

#define CANON_MAX	8192

/* Append s (n bytes) to the text in out (cap bytes); -1 when full. */
static int
put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n >= cap - *len)
		return (-1);
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return (0);
}

static int
puts0(char *out, size_t cap, size_t *len, const char *s)
{
	return (put(out, cap, len, s, strlen(s)));
}

int
sigv4_uri_encode(const char *in, int keep_slash, char *out, size_t outlen)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t len = 0;
	unsigned char ch;
	char esc[3];

	if (outlen == 0)
		return (-1);
	out[0] = '\0';
	for (; *in != '\0'; in++) {
		ch = (unsigned char)*in;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~' || (ch == '/' && keep_slash)) {
			if (put(out, outlen, &len, (const char *)&ch, 1) != 0)
				return (-1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hexd[ch >> 4];
		esc[2] = hexd[ch & 15];
		if (put(out, outlen, &len, esc, 3) != 0)
			return (-1);
	}
	return (0);
}

void
sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		snprintf(out, 17, "19700101T000000Z");
}

static int
hmac(const void *key, size_t keylen, const char *msg, uint8_t out[32])
{
	unsigned int n = 0;

	return (HMAC(EVP_sha256(), key, (int)keylen, (const uint8_t *)msg,
	    strlen(msg), out, &n) == NULL || n != 32 ? -1 : 0);
}

static int
header_cmp(const void *a, const void *b)
{
	const struct sigv4_header *const *x = a, *const *y = b;

	return (strcmp((*x)->name, (*y)->name));
}

/* value without leading and trailing blanks: start and length */
static const char *
trimmed(const char *v, size_t *n)
{
	size_t len;

	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	*n = len;
	return (v);
}

/* The canonical headers block and the signed header names. */
static int
canon_headers(const struct sigv4_req *r, char *canon, size_t cap,
    size_t *len, char *names, size_t namescap)
{
	const struct sigv4_header *sorted[SHIP_MAX_HEADERS];
	size_t i, j, nlen = 0, vn;
	const char *v;

	if (r->nheaders == 0 || r->nheaders > SHIP_MAX_HEADERS)
		return (-1);
	for (i = 0; i < r->nheaders; i++) {
		sorted[i] = &r->headers[i];
		for (j = 0; r->headers[i].name[j] != '\0'; j++)
			if (r->headers[i].name[j] >= 'A' &&
			    r->headers[i].name[j] <= 'Z')
				return (-1);
		if (j == 0 || strpbrk(r->headers[i].value, "\r\n") != NULL)
			return (-1);
	}
	qsort(sorted, r->nheaders, sizeof(sorted[0]), header_cmp);
	names[0] = '\0';
	for (i = 0; i < r->nheaders; i++) {
		if (i > 0 && strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
			return (-1);
		v = trimmed(sorted[i]->value, &vn);
		if (puts0(canon, cap, len, sorted[i]->name) != 0 ||
		    put(canon, cap, len, ":", 1) != 0 ||
		    put(canon, cap, len, v, vn) != 0 ||
		    put(canon, cap, len, "\n", 1) != 0 ||
		    (i > 0 && put(names, namescap, &nlen, ";", 1) != 0) ||
		    puts0(names, namescap, &nlen, sorted[i]->name) != 0)
			return (-1);
	}
	return (0);
}

int
sigv4_sign(const struct sigv4_req *r, char *auth, size_t authlen,
    char sig[SHIP_SHA256_HEX])
{
	char canon[CANON_MAX], names[512], scope[256], sts[512];
	char date[9], hexbuf[SHIP_SHA256_HEX], *k0 = NULL;
	uint8_t h[32], k[32];
	size_t len = 0, slen = 0;
	int r_ = -1;

	if (strlen(r->amz_date) != 16 || r->amz_date[8] != 'T')
		return (-1);
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';
	if (puts0(canon, sizeof(canon), &len, r->method) != 0 ||
	    put(canon, sizeof(canon), &len, "\n", 1) != 0 ||
	    puts0(canon, sizeof(canon), &len, r->path) != 0 ||
	    put(canon, sizeof(canon), &len, "\n", 1) != 0 ||
	    puts0(canon, sizeof(canon), &len, r->query) != 0 ||
	    put(canon, sizeof(canon), &len, "\n", 1) != 0 ||
	    canon_headers(r, canon, sizeof(canon), &len, names,
	    sizeof(names)) != 0 ||
	    put(canon, sizeof(canon), &len, "\n", 1) != 0 ||
	    puts0(canon, sizeof(canon), &len, names) != 0 ||
	    put(canon, sizeof(canon), &len, "\n", 1) != 0 ||
	    puts0(canon, sizeof(canon), &len, r->payload_hash) != 0)
		return (-1);
	if (EVP_Digest(canon, len, h, NULL, EVP_sha256(), NULL) != 1)
		return (-1);
	hex_encode(h, 32, hexbuf);
	if ((size_t)snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request",
	    date, r->region, r->service) >= sizeof(scope) ||
	    (size_t)snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s",
	    r->amz_date, scope, hexbuf) >= sizeof(sts))
		return (-1);
	if (asprintf(&k0, "AWS4%s", r->secret_key) < 0) {
		k0 = NULL;
		goto out;
	}
	slen = strlen(k0);
	if (hmac(k0, slen, date, k) != 0 ||
	    hmac(k, 32, r->region, k) != 0 ||
	    hmac(k, 32, r->service, k) != 0 ||
	    hmac(k, 32, "aws4_request", k) != 0 ||
	    hmac(k, 32, sts, h) != 0)
		goto out;
	hex_encode(h, 32, hexbuf);
	if ((size_t)snprintf(auth, authlen, "AWS4-HMAC-SHA256 Credential=%s/%s, "
	    "SignedHeaders=%s, Signature=%s", r->access_key, scope, names,
	    hexbuf) >= authlen)
		goto out;
	if (sig != NULL)
		memcpy(sig, hexbuf, SHIP_SHA256_HEX);
	r_ = 0;
out:
	if (k0 != NULL)
		OPENSSL_clear_free(k0, slen);
	OPENSSL_cleanse(k, sizeof(k));
	return (r_);
}
