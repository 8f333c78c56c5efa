/*
 * peerchunk.c - one chunk of a watch of another node's session
 * (bastion/peerwatch*.c; docs/SCALE-OUT.md "Watching a session of another
 * node"): live output encrypted to the watcher's ephemeral X25519 key as
 * one whole age file (age.c: a fresh file key per chunk, ChaCha20-Poly1305),
 * carried base64-encoded in a text column of the shared database.
 *
 * The watcher reads chunks that came through the database, so opening one
 * is parsing untrusted input: the one base64 decoder with a bound
 * (STATE_WATCH_DATA_MAX), age's header parser with its caps, the payload's
 * authentication, and at most PEERCHUNK_MAX bytes of output
 * (fuzz/fuzz_peerchunk.c). Secrets (the file key) are wiped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "peerchunk.h"
#include "state.h"

int
peerchunk_seal(const uint8_t pub[AGE_KEY_LEN], const uint8_t *pt, size_t n,
    char *out, size_t outlen)
{
	uint8_t fk[AGE_FILE_KEY_LEN], *raw = NULL;
	struct age_payload *p = NULL;
	struct buf *b = NULL;
	size_t hlen, total;
	int r = BERR_NOMEM;

	if (n > PEERCHUNK_MAX)
		return (BERR_LIMIT);
	if (RAND_bytes(fk, sizeof(fk)) != 1)
		return (BERR_CRYPTO);
	if ((b = buf_new(AGE_HEADER_MAX)) == NULL ||
	    (r = age_header_write(fk, (const uint8_t (*)[AGE_KEY_LEN])pub, 1,
	    b)) != 0 || (r = age_payload_new(fk, &p)) != 0)
		goto out;
	hlen = buf_len(b);
	total = hlen + age_payload_sealed_len(n);
	r = BERR_LIMIT;
	if ((total + 2) / 3 * 4 + 1 > outlen)
		goto out;
	r = BERR_NOMEM;
	if ((raw = malloc(total)) == NULL)
		goto out;
	memcpy(raw, buf_ptr(b), hlen);
	if ((r = age_payload_seal(p, pt, n, raw + hlen)) != 0)
		goto out;
	EVP_EncodeBlock((unsigned char *)out, raw, (int)total);
	r = 0;
out:
	OPENSSL_cleanse(fk, sizeof(fk));
	free(raw);
	age_payload_free(p);
	buf_free(b);
	return (r);
}

int
peerchunk_open(const uint8_t sec[AGE_KEY_LEN], const char *text,
    uint8_t out[PEERCHUNK_MAX], size_t *n)
{
	uint8_t fk[AGE_FILE_KEY_LEN], *raw = NULL;
	struct age_payload *p = NULL;
	struct age_header *h = NULL;
	size_t rawlen = 0, plen;
	int r;

	*n = 0;
	if ((r = b64_decode(text, STATE_WATCH_DATA_MAX, B64_CANONICAL, &raw,
	    &rawlen)) != 0)
		return (r);
	r = BERR_NOMEM;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto out;
	if ((r = age_header_parse(raw, rawlen, h)) != 0 ||
	    (r = age_header_unwrap(h, raw, (const uint8_t (*)[AGE_KEY_LEN])sec,
	    1, fk)) != 0)
		goto out;
	if ((r = age_payload_plain_len(rawlen - h->len, &plen)) != 0)
		goto out;
	r = BERR_LIMIT;
	if (plen > PEERCHUNK_MAX)
		goto out;
	if ((r = age_payload_new(fk, &p)) == 0)
		r = age_payload_open(p, raw + h->len, rawlen - h->len, out, n);
out:
	OPENSSL_cleanse(fk, sizeof(fk));
	age_payload_free(p);
	free(h);
	free(raw);
	if (r != 0)
		*n = 0;
	return (r);
}
