/*
 * age.c - age-encryption.org/v1 with X25519 recipients (see age.h).
 *
 * Follows the specification at https://age-encryption.org/v1 (C2SP
 * age.md): the stanza "-> X25519 <share>" wraps the 16-byte file key with
 * ChaCha20-Poly1305 under HKDF-SHA256(ikm = X25519(e, R), salt = share ||
 * R, info = "age-encryption.org/v1/X25519") and a zero nonce; the header
 * MAC is HMAC-SHA256 under HKDF(file key, "", "header") over the header up
 * to "---"; the payload key is HKDF(file key, nonce, "payload"). Base64 is
 * the standard alphabet without padding, canonical only. All parsing goes
 * through a cursor with an explicit end: no read past len, every line
 * capped, every count capped. tests/unit/test_age.c checks it against
 * files written by Debian's `age` and fixed vectors; fuzz/fuzz_age.c
 * fuzzes the header parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "age.h"
#include "b64.h"
#include "bech32.h"
#include "buf.h"
#include "err.h"
#include "io.h"

#define VERSION_LINE	"age-encryption.org/v1\n"
#define X25519_INFO	"age-encryption.org/v1/X25519"
#define LINE_MAX_LEN	4096	/* one header line */
#define BODY_MAX	4096	/* one stanza body, encoded */
#define COLS		64	/* base64 columns of a stanza body line */
#define CHUNK_CT	(AGE_CHUNK + AGE_TAG_LEN)
#define IDFILE_MAX	65536

/* ---- base64 without padding ------------------------------------------- */

/* Encode n bytes as unpadded base64 into out (room for 4*ceil(n/3)+1). */
static void
b64raw_encode(const uint8_t *p, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);

	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
}

/* Decode exactly want bytes from the unpadded, canonical s[0..slen). */
static int
b64raw_decode(const char *s, size_t slen, uint8_t *out, size_t want)
{
	char tmp[BODY_MAX + 4];
	uint8_t *dec = NULL;
	size_t n = slen, declen = 0;
	int r;

	if (slen == 0 || slen > BODY_MAX || slen % 4 == 1)
		return (want == 0 && slen == 0 ? 0 : BERR_FORMAT);
	memcpy(tmp, s, slen);
	while (n % 4 != 0)
		tmp[n++] = '=';
	tmp[n] = '\0';
	if (memchr(s, '=', slen) != NULL)
		return (BERR_FORMAT);
	if ((r = b64_decode(tmp, want, B64_CANONICAL, &dec, &declen)) != 0)
		return (r == BERR_LIMIT ? BERR_FORMAT : r);
	if (declen != want)
		r = BERR_FORMAT;
	else
		memcpy(out, dec, want);
	OPENSSL_clear_free(dec, declen + 1);
	return (r);
}

/* ---- primitives ------------------------------------------------------- */

/* HKDF-SHA256 with kctx (a payload context's, reused for every frame;
 * all parameters are set again each time), or with a context of its own
 * when kctx is NULL. */
static int
hkdf_with(EVP_KDF_CTX *kctx, const uint8_t *ikm, size_t ikmlen,
    const uint8_t *salt, size_t saltlen, const char *info, uint8_t *out,
    size_t outlen)
{
	EVP_KDF *kdf;
	OSSL_PARAM params[5], *p = params;
	int ok = 0, own = kctx == NULL;

	if (own) {
		if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
			return (BERR_CRYPTO);
		kctx = EVP_KDF_CTX_new(kdf);
		EVP_KDF_free(kdf);
		if (kctx == NULL)
			return (BERR_CRYPTO);
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	/* no salt is HKDF's default (HashLen zeros), as age wants; a reused
	 * context is only ever used with one (the payload nonce), so no
	 * earlier salt can linger */
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
	if (own)
		EVP_KDF_CTX_free(kctx);
	return (ok ? 0 : BERR_CRYPTO);
}

static int
hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
    const char *info, uint8_t *out, size_t outlen)
{
	return (hkdf_with(NULL, ikm, ikmlen, salt, saltlen, info, out,
	    outlen));
}

/* ChaCha20-Poly1305 of n bytes with a 12-byte nonce and no AAD; enc: out
 * gets n bytes + the tag; else in holds n bytes + tag and out gets n. */
static int
aead(EVP_CIPHER_CTX *c, const EVP_CIPHER *ciph, int enc,
    const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in,
    size_t n, uint8_t *out)
{
	int len = 0;

	if (n > INT32_MAX ||
	    EVP_CipherInit_ex(c, ciph, NULL, key, nonce, enc) != 1)
		return (BERR_CRYPTO);
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_LEN,
	    (void *)(in + n)) != 1)
		return (BERR_CRYPTO);
	if (n > 0 && EVP_CipherUpdate(c, out, &len, in, (int)n) != 1)
		return (enc ? BERR_CRYPTO : BERR_AUTH);
	if (EVP_CipherFinal_ex(c, out + len, &len) != 1)
		return (enc ? BERR_CRYPTO : BERR_AUTH);
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_LEN,
	    out + n) != 1)
		return (BERR_CRYPTO);
	return (0);
}

static int
aead_once(int enc, const uint8_t key[32], const uint8_t *in, size_t n,
    uint8_t *out)
{
	static const uint8_t zero[12];
	EVP_CIPHER_CTX *c;
	EVP_CIPHER *ciph;
	int r = BERR_CRYPTO;

	if ((ciph = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL)) ==
	    NULL)
		return (BERR_CRYPTO);
	if ((c = EVP_CIPHER_CTX_new()) != NULL)
		r = aead(c, ciph, enc, key, zero, in, n, out);
	EVP_CIPHER_CTX_free(c);
	EVP_CIPHER_free(ciph);
	return (r);
}

/* out = X25519(sec, peer); BERR_CRYPTO also for an all-zero result (a
 * low-order peer point). */
static int
x25519(const uint8_t sec[32], const uint8_t peer[32], uint8_t out[32])
{
	static const uint8_t zero[32];
	EVP_PKEY *k = NULL, *p = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	int r = BERR_CRYPTO;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sec,
	    32)) != NULL &&
	    (p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    32)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new(k, NULL)) != NULL &&
	    EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, p) == 1 &&
	    EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32 &&
	    CRYPTO_memcmp(out, zero, 32) != 0)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	return (r);
}

static int
header_mac(const uint8_t fk[AGE_FILE_KEY_LEN], const uint8_t *hdr,
    size_t len, uint8_t mac[32])
{
	uint8_t key[32];
	size_t maclen = 0;
	int r;

	if ((r = hkdf(fk, AGE_FILE_KEY_LEN, NULL, 0, "header", key,
	    sizeof(key))) == 0 &&
	    (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key),
	    hdr, len, mac, 32, &maclen) == NULL || maclen != 32))
		r = BERR_CRYPTO;
	OPENSSL_cleanse(key, sizeof(key));
	return (r);
}

/* The X25519 wrap key for share E and recipient R from the shared secret. */
static int
wrap_key(const uint8_t shared[32], const uint8_t share[32],
    const uint8_t rcpt[32], uint8_t key[32])
{
	uint8_t salt[64];

	memcpy(salt, share, 32);
	memcpy(salt + 32, rcpt, 32);
	return (hkdf(shared, 32, salt, sizeof(salt), X25519_INFO, key, 32));
}

/* ---- keys ------------------------------------------------------------- */

/* A 32-byte key spelled prefix... (Bech32 under hrp), nothing else. The
 * prefix fixes the case age writes: recipients lower, identities upper. */
static int
key_decode(const char *s, const char *prefix, const char *hrp,
    uint8_t key[AGE_KEY_LEN])
{
	size_t n = 0;
	int r;

	if (strncmp(s, prefix, strlen(prefix)) != 0)
		return (BERR_FORMAT);
	if ((r = bech32_decode(s, hrp, key, AGE_KEY_LEN, &n)) == 0 &&
	    n != AGE_KEY_LEN)
		r = BERR_FORMAT;
	if (r != 0)
		OPENSSL_cleanse(key, AGE_KEY_LEN);
	return (r);
}

int
age_recipient_decode(const char *s, uint8_t pub[AGE_KEY_LEN])
{
	return (key_decode(s, "age1", "age", pub));
}

int
age_recipient_encode(const uint8_t pub[AGE_KEY_LEN], char *out,
    size_t outlen)
{
	return (bech32_encode("age", pub, AGE_KEY_LEN, 0, out, outlen));
}

int
age_identity_decode(const char *s, uint8_t sec[AGE_KEY_LEN])
{
	return (key_decode(s, "AGE-SECRET-KEY-1", "age-secret-key-", sec));
}

int
age_identity_encode(const uint8_t sec[AGE_KEY_LEN], char *out, size_t outlen)
{
	return (bech32_encode("age-secret-key-", sec, AGE_KEY_LEN, 1, out,
	    outlen));
}

int
age_identity_public(const uint8_t sec[AGE_KEY_LEN], uint8_t pub[AGE_KEY_LEN])
{
	EVP_PKEY *k;
	size_t len = AGE_KEY_LEN;
	int ok;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sec,
	    AGE_KEY_LEN)) == NULL)
		return (BERR_CRYPTO);
	ok = EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 &&
	    len == AGE_KEY_LEN;
	EVP_PKEY_free(k);
	return (ok ? 0 : BERR_CRYPTO);
}

int
age_identity_generate(uint8_t sec[AGE_KEY_LEN])
{
	return (RAND_priv_bytes(sec, AGE_KEY_LEN) == 1 ? 0 : BERR_CRYPTO);
}

int
age_identity_file_read(const char *path, uint8_t (*keys)[AGE_KEY_LEN],
    size_t max, size_t *n, unsigned *badline)
{
	char *text = NULL, *line, *save = NULL, *nl;
	size_t len = 0, cnt = 0, i;
	unsigned lineno = 0;
	int fd, r = 0;

	*n = 0;
	*badline = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (BERR_SYS);
	if ((text = malloc(IDFILE_MAX + 1)) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	r = io_read_upto(fd, text, IDFILE_MAX + 1, &len);
	close(fd);
	if (r == 0 && len > IDFILE_MAX)
		r = BERR_LIMIT;
	if (r != 0)
		goto out;
	text[len] = '\0';
	if (strlen(text) != len) {
		r = BERR_FORMAT;
		goto out;
	}
	for (line = text; line != NULL && *line != '\0'; line = save) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			save = nl + 1;
		} else
			save = NULL;
		if ((nl = strchr(line, '\r')) != NULL && nl[1] == '\0')
			*nl = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (cnt >= max) {
			r = BERR_LIMIT;
			break;
		}
		if (age_identity_decode(line, keys[cnt]) != 0) {
			*badline = lineno;
			r = BERR_FORMAT;
			break;
		}
		cnt++;
	}
	if (r == 0 && cnt == 0)
		r = BERR_NOTFOUND;
 out:
	if (r != 0)
		for (i = 0; i < cnt; i++)
			OPENSSL_cleanse(keys[i], AGE_KEY_LEN);
	else
		*n = cnt;
	OPENSSL_clear_free(text, IDFILE_MAX + 1);
	return (r);
}

/* ---- header ----------------------------------------------------------- */

/* One "-> X25519" stanza wrapping fk to rcpt with the ephemeral eph. */
static int
stanza_write(const uint8_t fk[AGE_FILE_KEY_LEN], const uint8_t rcpt[32],
    const uint8_t eph[32], struct buf *out)
{
	uint8_t share[32], shared[32], key[32];
	uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN];
	char s64[64], b64[64];
	int r;

	if ((r = age_identity_public(eph, share)) != 0 ||
	    (r = x25519(eph, rcpt, shared)) != 0 ||
	    (r = wrap_key(shared, share, rcpt, key)) != 0 ||
	    (r = aead_once(1, key, fk, AGE_FILE_KEY_LEN, body)) != 0)
		goto out;
	b64raw_encode(share, sizeof(share), s64);
	b64raw_encode(body, sizeof(body), b64);
	r = buf_putf(out, "-> X25519 %s\n%s\n", s64, b64);
 out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return (r);
}

int
age_header_write_eph(const uint8_t file_key[AGE_FILE_KEY_LEN],
    const uint8_t (*pubs)[AGE_KEY_LEN], const uint8_t (*ephs)[AGE_KEY_LEN],
    size_t n, struct buf *out)
{
	uint8_t mac[32];
	char m64[64];
	size_t start = buf_len(out), i;
	int r;

	if (n == 0 || n > AGE_MAX_RECIPIENTS)
		return (BERR_INVAL);
	if ((r = buf_put(out, VERSION_LINE, strlen(VERSION_LINE))) != 0)
		return (r);
	for (i = 0; i < n; i++)
		if ((r = stanza_write(file_key, pubs[i], ephs[i], out)) != 0)
			return (r);
	if ((r = buf_put(out, "---", 3)) != 0 ||
	    (r = header_mac(file_key, buf_ptr(out) + start,
	    buf_len(out) - start, mac)) != 0)
		return (r);
	b64raw_encode(mac, sizeof(mac), m64);
	return (buf_putf(out, " %s\n", m64));
}

int
age_header_write(const uint8_t file_key[AGE_FILE_KEY_LEN],
    const uint8_t (*pubs)[AGE_KEY_LEN], size_t n, struct buf *out)
{
	uint8_t eph[AGE_MAX_RECIPIENTS][AGE_KEY_LEN];
	int r;

	if (n == 0 || n > AGE_MAX_RECIPIENTS)
		return (BERR_INVAL);
	/* a fresh ephemeral key per stanza */
	if (RAND_priv_bytes(&eph[0][0], (int)(n * AGE_KEY_LEN)) != 1)
		return (BERR_CRYPTO);
	r = age_header_write_eph(file_key, pubs,
	    (const uint8_t (*)[AGE_KEY_LEN])eph, n, out);
	OPENSSL_cleanse(eph, sizeof(eph));
	return (r);
}

/* A cursor over untrusted header bytes. */
struct cur {
	const uint8_t *p;
	size_t len, off;
};

/* The next line without its '\n' (which must be there), at most
 * LINE_MAX_LEN bytes of VCHAR and spaces. */
static int
next_line(struct cur *c, const char **line, size_t *n)
{
	const uint8_t *nl;
	size_t avail = c->len - c->off, i;

	if (c->off >= AGE_HEADER_MAX)
		return (BERR_LIMIT);
	if (avail > LINE_MAX_LEN + 1)
		avail = LINE_MAX_LEN + 1;
	if ((nl = memchr(c->p + c->off, '\n', avail)) == NULL)
		return (c->len - c->off <= LINE_MAX_LEN ? BERR_TRUNC :
		    BERR_FORMAT);
	*line = (const char *)c->p + c->off;
	*n = (size_t)(nl - (c->p + c->off));
	for (i = 0; i < *n; i++)
		if ((*line)[i] < 32 || (*line)[i] > 126)
			return (BERR_FORMAT);
	c->off += *n + 1;
	if (c->off > AGE_HEADER_MAX)
		return (BERR_LIMIT);
	return (0);
}

/* A stanza's body lines: full lines of COLS characters, ended by a
 * shorter one (possibly empty). */
static int
read_body(struct cur *c, char *body, size_t *blen)
{
	const char *line;
	size_t n;
	int r;

	*blen = 0;
	for (;;) {
		if ((r = next_line(c, &line, &n)) != 0)
			return (r);
		if (n > COLS)
			return (BERR_FORMAT);
		if (*blen + n > BODY_MAX)
			return (BERR_LIMIT);
		memcpy(body + *blen, line, n);
		*blen += n;
		if (n < COLS)
			return (0);
	}
}

/* "-> arg arg ...": split into at most 8 arguments, each non-empty. */
static int
split_args(const char *line, size_t n, const char **arg, size_t *alen,
    size_t *nargs)
{
	size_t i = 2, k = 0;

	if (n < 4 || line[0] != '-' || line[1] != '>')
		return (BERR_FORMAT);
	while (i < n) {
		if (line[i] != ' ' || i + 1 >= n || line[i + 1] == ' ')
			return (BERR_FORMAT);
		if (k == 8)
			return (BERR_LIMIT);
		arg[k] = line + i + 1;
		for (i++; i < n && line[i] != ' '; i++)
			;
		alen[k] = (size_t)(line + i - arg[k]);
		k++;
	}
	*nargs = k;
	return (k == 0 ? BERR_FORMAT : 0);
}

static int
parse_stanza(struct age_header *h, const char *line, size_t n,
    struct cur *c)
{
	const char *arg[8];
	size_t alen[8], nargs = 0, blen = 0;
	char body[BODY_MAX];
	struct age_stanza *s;
	int r;

	if ((r = split_args(line, n, arg, alen, &nargs)) != 0 ||
	    (r = read_body(c, body, &blen)) != 0)
		return (r);
	if (h->nstanzas >= AGE_MAX_STANZAS)
		return (BERR_LIMIT);
	h->nstanzas++;
	if (alen[0] != 6 || memcmp(arg[0], "X25519", 6) != 0)
		return (0);	/* another type: age skips it too */
	s = &h->x[h->nx25519];
	if (nargs != 2 ||
	    b64raw_decode(arg[1], alen[1], s->share, sizeof(s->share)) != 0 ||
	    b64raw_decode(body, blen, s->body, sizeof(s->body)) != 0)
		return (BERR_FORMAT);
	h->nx25519++;
	return (0);
}

int
age_header_parse(const uint8_t *p, size_t len, struct age_header *h)
{
	struct cur c = { p, len, 0 };
	const char *line;
	size_t n;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = next_line(&c, &line, &n)) != 0)
		return (r);
	if (n + 1 != strlen(VERSION_LINE) ||
	    memcmp(line, VERSION_LINE, n) != 0)
		return (BERR_FORMAT);
	for (;;) {
		if ((r = next_line(&c, &line, &n)) != 0)
			return (r);
		if (n >= 3 && memcmp(line, "---", 3) == 0)
			break;
		if ((r = parse_stanza(h, line, n, &c)) != 0)
			return (r);
	}
	if (h->nstanzas == 0 || n != 4 + 43 || line[3] != ' ' ||
	    b64raw_decode(line + 4, 43, h->mac, sizeof(h->mac)) != 0)
		return (BERR_FORMAT);
	h->mac_off = (size_t)(line - (const char *)p) + 3;
	h->len = c.off;
	return (0);
}

int
age_header_unwrap(const struct age_header *h, const uint8_t *hdr,
    const uint8_t (*keys)[AGE_KEY_LEN], size_t n,
    uint8_t file_key[AGE_FILE_KEY_LEN])
{
	uint8_t pub[32], shared[32], key[32], mac[32];
	size_t i, k;
	int r = BERR_AUTH, found = 0;

	for (k = 0; k < n && !found; k++) {
		if (age_identity_public(keys[k], pub) != 0)
			return (BERR_CRYPTO);
		for (i = 0; i < h->nx25519 && !found; i++) {
			if (x25519(keys[k], h->x[i].share, shared) != 0 ||
			    wrap_key(shared, h->x[i].share, pub, key) != 0)
				continue;
			found = aead_once(0, key, h->x[i].body,
			    AGE_FILE_KEY_LEN, file_key) == 0;
		}
	}
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	if (!found)
		return (BERR_AUTH);
	if ((r = header_mac(file_key, hdr, h->mac_off, mac)) == 0 &&
	    CRYPTO_memcmp(mac, h->mac, sizeof(mac)) != 0)
		r = BERR_AUTH;
	if (r != 0)
		OPENSSL_cleanse(file_key, AGE_FILE_KEY_LEN);
	return (r);
}

/* ---- payload ---------------------------------------------------------- */

struct age_payload {
	uint8_t file_key[AGE_FILE_KEY_LEN];
	EVP_CIPHER *ciph;	/* fetched once: a recording seals a payload */
	EVP_CIPHER_CTX *ctx;	/* per frame, many of them small */
	EVP_KDF_CTX *kctx;	/* HKDF, one derivation per frame */
};

int
age_payload_new(const uint8_t file_key[AGE_FILE_KEY_LEN],
    struct age_payload **out)
{
	struct age_payload *p;
	EVP_KDF *kdf = NULL;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (BERR_NOMEM);
	memcpy(p->file_key, file_key, AGE_FILE_KEY_LEN);
	if ((p->ciph = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL)) ==
	    NULL || (p->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    (kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (p->kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		EVP_KDF_free(kdf);
		age_payload_free(p);
		return (BERR_CRYPTO);
	}
	EVP_KDF_free(kdf);	/* the context holds its own reference */
	*out = p;
	return (0);
}

void
age_payload_free(struct age_payload *p)
{
	if (p == NULL)
		return;
	EVP_CIPHER_CTX_free(p->ctx);
	EVP_CIPHER_free(p->ciph);
	EVP_KDF_CTX_free(p->kctx);
	OPENSSL_clear_free(p, sizeof(*p));
}

static size_t
nchunks(size_t plen)
{
	return (plen == 0 ? 1 : (plen + AGE_CHUNK - 1) / AGE_CHUNK);
}

size_t
age_payload_sealed_len(size_t plen)
{
	return (AGE_NONCE_LEN + plen + nchunks(plen) * AGE_TAG_LEN);
}

int
age_payload_plain_len(size_t clen, size_t *plen)
{
	size_t ct, n, last;

	*plen = 0;
	if (clen < AGE_NONCE_LEN + AGE_TAG_LEN)
		return (BERR_FORMAT);
	ct = clen - AGE_NONCE_LEN;
	n = (ct + CHUNK_CT - 1) / CHUNK_CT;
	last = ct - (n - 1) * CHUNK_CT;
	if (last < AGE_TAG_LEN || (n > 1 && last == AGE_TAG_LEN))
		return (BERR_FORMAT);
	*plen = ct - n * AGE_TAG_LEN;
	return (0);
}

/* STREAM over the chunks, in either direction. */
static int
stream(struct age_payload *p, int enc, const uint8_t nonce[AGE_NONCE_LEN],
    const uint8_t *in, size_t plen, uint8_t *out)
{
	uint8_t key[32], cn[12];
	size_t n = nchunks(plen), i, len, off = 0;
	int r = 0;

	if ((r = hkdf_with(p->kctx, p->file_key, AGE_FILE_KEY_LEN, nonce,
	    AGE_NONCE_LEN, "payload", key, sizeof(key))) != 0)
		return (r);
	for (i = 0; i < n && r == 0; i++) {
		len = plen - off > AGE_CHUNK ? AGE_CHUNK : plen - off;
		memset(cn, 0, sizeof(cn));
		cn[7] = (uint8_t)(i >> 24);
		cn[8] = (uint8_t)(i >> 16);
		cn[9] = (uint8_t)(i >> 8);
		cn[10] = (uint8_t)i;
		cn[11] = i + 1 == n;
		if (enc)
			r = aead(p->ctx, p->ciph, 1, key, cn, in + off, len,
			    out + off + i * AGE_TAG_LEN);
		else
			r = aead(p->ctx, p->ciph, 0, key, cn,
			    in + off + i * AGE_TAG_LEN, len, out + off);
		off += len;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return (r);
}

int
age_payload_seal_nonce(struct age_payload *p,
    const uint8_t nonce[AGE_NONCE_LEN], const uint8_t *pt, size_t plen,
    uint8_t *out)
{
	memmove(out, nonce, AGE_NONCE_LEN);
	return (stream(p, 1, out, pt, plen, out + AGE_NONCE_LEN));
}

int
age_payload_seal(struct age_payload *p, const uint8_t *pt, size_t plen,
    uint8_t *out)
{
	if (RAND_bytes(out, AGE_NONCE_LEN) != 1)
		return (BERR_CRYPTO);
	return (stream(p, 1, out, pt, plen, out + AGE_NONCE_LEN));
}

int
age_payload_open(struct age_payload *p, const uint8_t *ct, size_t clen,
    uint8_t *out, size_t *plen)
{
	size_t n = 0;
	int r;

	*plen = 0;
	if ((r = age_payload_plain_len(clen, &n)) != 0)
		return (r);
	if ((r = stream(p, 0, ct, ct + AGE_NONCE_LEN, n, out)) != 0) {
		OPENSSL_cleanse(out, n);
		return (r);
	}
	*plen = n;
	return (0);
}
