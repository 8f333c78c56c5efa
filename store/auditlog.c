/*
 * auditlog.c - the hash-chained local audit log's line format: hashing,
 * parsing a line and its fields (format and rules in auditlog.h and
 * docs/AUDIT.md). Appending, the store actor's group commit and the
 * process-wide chain are in auditlog_write.c; reading, session selection
 * and verification in auditread.c.
 *
 * Everything read back, by appenders as by the verifier, is treated as
 * untrusted and parsed with explicit bounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <openssl/evp.h>

#include "auditlog.h"
#include "auditlog_int.h"
#include "err.h"
#include "hex.h"
#include "io.h"
#include "log.h"

#define AUDITLOG_SEQ_DIGITS	20

const char auditlog_zero[AUDITLOG_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* ---- hashing ----------------------------------------------------------- */

int
auditlog_sha256(const void *a, size_t alen, const void *b, size_t blen,
    char out[AUDITLOG_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (BERR_NOMEM);
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == sizeof(md);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return (BERR_CRYPTO);
	hex_encode(md, sizeof(md), out);
	return (0);
}

int
auditlog_hash(const char *hashed, size_t len, char out[AUDITLOG_HEX_LEN + 1])
{
	return (auditlog_sha256(AUDITLOG_DOMAIN, strlen(AUDITLOG_DOMAIN),
	    hashed, len, out));
}

/* ---- parsing ----------------------------------------------------------- */

static int
auditlog_is_hex(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return (0);
	return (1);
}

/* Bytes allowed in an event body: no C0 controls, no DEL. */
int
auditlog_body_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return (0);
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			return (0);
	return (1);
}

int
auditlog_line_parse(const char *text, size_t len, struct auditlog_line *l)
{
	size_t i = 4, nd;
	uint64_t seq = 0;

	memset(l, 0, sizeof(*l));
	/* "seq=" D " prev=" HEX " " BODY " hash=" HEX */
	if (len >= AUDITLOG_LINE_MAX || len < 4 + 1 + 6 + AUDITLOG_HEX_LEN +
	    2 + AUDITLOG_HASH_SUFFIX || memcmp(text, "seq=", 4) != 0)
		return (BERR_FORMAT);
	for (nd = 0; i < len && text[i] >= '0' && text[i] <= '9'; i++, nd++) {
		if (nd == AUDITLOG_SEQ_DIGITS ||
		    seq > (UINT64_MAX - 9) / 10)
			return (BERR_FORMAT);
		seq = seq * 10 + (uint64_t)(text[i] - '0');
	}
	if (nd == 0 || (nd > 1 && text[4] == '0') || seq == 0)
		return (BERR_FORMAT);
	if (len - i < 6 + AUDITLOG_HEX_LEN + 2 + AUDITLOG_HASH_SUFFIX ||
	    memcmp(text + i, " prev=", 6) != 0 ||
	    !auditlog_is_hex(text + i + 6, AUDITLOG_HEX_LEN) ||
	    text[i + 6 + AUDITLOG_HEX_LEN] != ' ')
		return (BERR_FORMAT);
	memcpy(l->prev, text + i + 6, AUDITLOG_HEX_LEN);
	i += 6 + AUDITLOG_HEX_LEN + 1;
	if (memcmp(text + len - AUDITLOG_HASH_SUFFIX, " hash=", 6) != 0 ||
	    !auditlog_is_hex(text + len - AUDITLOG_HEX_LEN, AUDITLOG_HEX_LEN))
		return (BERR_FORMAT);
	memcpy(l->hash, text + len - AUDITLOG_HEX_LEN, AUDITLOG_HEX_LEN);
	l->body = text + i;
	l->bodylen = len - AUDITLOG_HASH_SUFFIX - i;
	if (!auditlog_body_ok(l->body, l->bodylen))
		return (BERR_FORMAT);
	l->seq = seq;
	return (0);
}

int
auditlog_line_hash_ok(const char *text, size_t len,
    const struct auditlog_line *l)
{
	char h[AUDITLOG_HEX_LEN + 1];

	if (len < AUDITLOG_HASH_SUFFIX ||
	    auditlog_hash(text, len - AUDITLOG_HASH_SUFFIX, h) != 0)
		return (0);
	return (strcmp(h, l->hash) == 0);
}

static int
auditlog_key_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
}

int
auditlog_field_next(const char **pos, const char *end, char *key,
    size_t keylen, char *val, size_t vallen)
{
	const char *p = *pos;
	size_t k = 0, v = 0;
	int hi, lo;
	char c;

	if (keylen == 0 || vallen == 0)
		return (BERR_INVAL);
	if (p >= end)
		return (BERR_NOTFOUND);
	if (*p == ' ' && ++p >= end)
		return (BERR_FORMAT);
	while (p < end && auditlog_key_char(*p)) {
		if (k + 1 >= keylen)
			return (BERR_LIMIT);
		key[k++] = *p++;
	}
	if (k == 0 || p >= end || *p != '=')
		return (BERR_FORMAT);
	key[k] = '\0';
	p++;
	if (p < end && *p == '"') {
		for (p++;; p++) {
			if (p >= end)
				return (BERR_FORMAT);
			if (*p == '"')
				break;
			c = *p;
			if (c == '\\') {
				if (++p >= end)
					return (BERR_FORMAT);
				if (*p == 'x') {
					if (end - p < 3 ||
					    (hi = hex_digit(p[1])) < 0 ||
					    (lo = hex_digit(p[2])) < 0)
						return (BERR_FORMAT);
					c = (char)(hi << 4 | lo);
					p += 2;
				} else if (*p == '"' || *p == '\\')
					c = *p;
				else
					return (BERR_FORMAT);
			}
			if (v + 1 >= vallen)
				return (BERR_LIMIT);
			val[v++] = c;
		}
		p++;
	} else {
		while (p < end && *p != ' ') {
			if (*p == '"' || *p == '=' || *p == '\\' ||
			    (unsigned char)*p < 0x21 ||
			    (unsigned char)*p >= 0x7f)
				return (BERR_FORMAT);
			if (v + 1 >= vallen)
				return (BERR_LIMIT);
			val[v++] = *p++;
		}
	}
	if (p < end && *p != ' ')
		return (BERR_FORMAT);
	val[v] = '\0';
	*pos = p;
	return (0);
}

int
auditlog_field(const char *body, size_t len, const char *key, char *val,
    size_t vallen)
{
	const char *p = body, *end = body + len;
	char k[64], *v;
	size_t n;
	int r;

	/*
	 * Other fields' values may be longer than the caller's buffer: scan
	 * with room for any value a line can hold, then copy only key's.
	 */
	if (vallen > 0)
		val[0] = '\0';
	if ((v = malloc(AUDITLOG_LINE_MAX)) == NULL)
		return (BERR_NOMEM);
	while ((r = auditlog_field_next(&p, end, k, sizeof(k), v,
	    AUDITLOG_LINE_MAX)) == 0) {
		if (strcmp(k, key) != 0)
			continue;
		if ((n = strlen(v)) >= vallen)
			r = BERR_LIMIT;
		else
			memcpy(val, v, n + 1);
		break;
	}
	free(v);
	return (r);
}
