/*
 * recenc.c - the key block of a version 2 recording (see recenc.h).
 *
 * Parsing goes through struct buf with explicit caps; the age header in it
 * goes through age_header_parse. The only secrets handled here are the
 * file key of recenc_prepare (the caller's buffer) and the identities of
 * recenc_unlock (wiped before return), and the file key recenc_rewrap
 * unwraps to wrap it again (wiped too). A rewrap writes a new file beside
 * the recording and renames it over: the frames are copied byte for byte,
 * never decrypted.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "io.h"
#include "reckey.h"
#include "recenc.h"
#include "recreader.h"
#include "recverify.h"

static int
sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	return (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
	    len == 32 ? 0 : BERR_CRYPTO);
}

int
recenc_keyblock_parse(const uint8_t *p, size_t len,
    struct recenc_keyblock *kb)
{
	struct buf *b = NULL;
	uint32_t n;
	size_t i;
	int r;

	memset(kb, 0, sizeof(*kb));
	if ((r = buf_open(p, len, RECENC_KEYBLOCK_MAX, &b)) != 0)
		return (r == BERR_NOMEM ? r : BERR_FORMAT);
	if ((r = buf_get_string_direct(b, &kb->age, &kb->age_len,
	    AGE_HEADER_MAX)) != 0 || (r = buf_get_u32(b, &n)) != 0)
		goto out;
	if (n > RECENC_MAX_REWRAPS) {
		r = BERR_LIMIT;
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = buf_get(b, kb->rw[i].old_hash, 32)) != 0 ||
		    (r = buf_get(b, kb->rw[i].new_hash, 32)) != 0 ||
		    (r = buf_get_u64(b, &kb->rw[i].unix_us)) != 0 ||
		    (r = buf_get(b, kb->rw[i].sig, 64)) != 0)
			goto out;
	kb->nrewraps = n;
	if (buf_len(b) != 0) {
		r = BERR_FORMAT;
		goto out;
	}
	/* the pointers must point into p, not into b */
	kb->age = p + 4;
	if ((r = age_header_parse(kb->age, kb->age_len, &kb->hdr)) != 0)
		goto out;
	if (kb->hdr.len != kb->age_len)
		r = BERR_FORMAT;	/* something after the header */
 out:
	buf_free(b);
	if (r != 0)
		memset(kb, 0, sizeof(*kb));
	return (r);
}

int
recenc_keyblock_encode(const uint8_t *age, size_t age_len,
    const struct recenc_rewrap *rw, size_t n, struct buf *out)
{
	size_t i, total = 4 + age_len + 4 + n * RECENC_REWRAP_LEN;
	int r;

	if (n > RECENC_MAX_REWRAPS || age_len > AGE_HEADER_MAX)
		return (BERR_LIMIT);
	if ((r = buf_put_u32(out, (uint32_t)total)) != 0 ||
	    (r = buf_put_string(out, age, age_len)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)n)) != 0)
		return (r);
	for (i = 0; i < n; i++)
		if ((r = buf_put(out, rw[i].old_hash, 32)) != 0 ||
		    (r = buf_put(out, rw[i].new_hash, 32)) != 0 ||
		    (r = buf_put_u64(out, rw[i].unix_us)) != 0 ||
		    (r = buf_put(out, rw[i].sig, 64)) != 0)
			return (r);
	return (0);
}

int
recenc_prepare(const uint8_t (*recipients)[AGE_KEY_LEN], size_t n,
    struct rec_hdr *hdr, struct buf *age_out,
    uint8_t file_key[AGE_FILE_KEY_LEN])
{
	uint8_t h[32];
	char hex[65];
	size_t start = buf_len(age_out);
	int r;

	if (RAND_priv_bytes(file_key, AGE_FILE_KEY_LEN) != 1)
		return (BERR_CRYPTO);
	if ((r = age_header_write(file_key, recipients, n, age_out)) != 0 ||
	    (r = sha256(buf_ptr(age_out) + start, buf_len(age_out) - start,
	    h)) != 0)
		return (r);
	hex_encode(h, sizeof(h), hex);
	if ((r = recfmt_hdr_add(hdr, "format", "2")) != 0 ||
	    (r = recfmt_hdr_add(hdr, "keys_sha256", hex)) != 0)
		return (r);
	return (0);
}

int
recenc_rewrap_message(struct buf *b, const char *session_id,
    const struct recenc_rewrap *rw)
{
	int r;

	if ((r = buf_put(b, RECENC_REWRAP_CONTEXT,
	    sizeof(RECENC_REWRAP_CONTEXT))) != 0 ||	/* with its NUL */
	    (r = buf_put_cstring(b, session_id)) != 0 ||
	    (r = buf_put(b, rw->old_hash, 32)) != 0 ||
	    (r = buf_put(b, rw->new_hash, 32)) != 0 ||
	    (r = buf_put_u64(b, rw->unix_us)) != 0)
		return (r);
	return (0);
}

int
recenc_keyblock_check(const struct recenc_keyblock *kb,
    const struct rec_hdr *hdr, const struct reckey *pub, char *why,
    size_t whylen)
{
	const char *want = recfmt_hdr_get(hdr, "keys_sha256");
	const char *sid = recfmt_hdr_get(hdr, "session");
	uint8_t cur[32], now[32];
	char hex[65];
	struct buf *msg;
	size_t i;
	int r;

	if (want == NULL || sid == NULL || strlen(want) != 64)
		return (berr_why(why, whylen, BERR_AUTH, "the HEADER names no "
		    "key header (keys_sha256)"));
	for (i = 0; i < 32; i++) {
		int hi = hex_digit(want[2 * i]), lo = hex_digit(want[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return (berr_why(why, whylen, BERR_AUTH, "the HEADER's "
			    "keys_sha256 is not hex"));
		cur[i] = (uint8_t)(hi << 4 | lo);
	}
	for (i = 0; i < kb->nrewraps; i++) {
		if (memcmp(kb->rw[i].old_hash, cur, 32) != 0)
			return (berr_why(why, whylen, BERR_AUTH, "rewrap %zu "
			    "does not start from the key header before it",
			    i + 1));
		if ((msg = buf_new(256)) == NULL)
			return (BERR_NOMEM);
		if ((r = recenc_rewrap_message(msg, sid, &kb->rw[i])) == 0)
			r = reckey_verify(pub, buf_ptr(msg), buf_len(msg),
			    kb->rw[i].sig);
		buf_free(msg);
		if (r != 0)
			return (berr_why(why, whylen, BERR_AUTH, "rewrap %zu "
			    "is not signed by the recorder key", i + 1));
		memcpy(cur, kb->rw[i].new_hash, 32);
	}
	if ((r = sha256(kb->age, kb->age_len, now)) != 0)
		return (r);
	if (memcmp(now, cur, 32) != 0) {
		hex_encode(now, sizeof(now), hex);
		return (berr_why(why, whylen, BERR_AUTH, "the key header "
		    "(sha256 %.16s...) is neither the one recorded nor a "
		    "signed rewrap of it: it was altered", hex));
	}
	return (0);
}

int
recenc_unlock_keys(struct recreader *r, const uint8_t (*keys)[AGE_KEY_LEN],
    size_t n, char *why, size_t whylen)
{
	struct recenc_keyblock *kb;
	const uint8_t *p;
	uint8_t fk[AGE_FILE_KEY_LEN];
	size_t len = 0;
	int e;

	if ((p = recreader_keyblock(r, &len)) == NULL)
		return (berr_why(why, whylen, BERR_INVAL, "not an encrypted "
		    "recording (format 1): no key is needed"));
	if ((kb = calloc(1, sizeof(*kb))) == NULL)
		return (BERR_NOMEM);
	if ((e = recenc_keyblock_parse(p, len, kb)) != 0)
		berr_why(why, whylen, e, "the key block is malformed (%s)",
		    berr_str(e));
	else if ((e = age_header_unwrap(&kb->hdr, kb->age, keys, n, fk)) != 0)
		berr_why(why, whylen, e, e == BERR_AUTH ? "none of the %zu "
		    "identities given is a recipient of this recording "
		    "(%zu recipients)" : "cryptographic failure", n,
		    kb->hdr.nx25519);
	else if ((e = recreader_set_key(r, fk)) != 0)
		berr_why(why, whylen, e, "cannot set up decryption (%s)",
		    berr_str(e));
	OPENSSL_cleanse(fk, sizeof(fk));
	free(kb);
	return (e);
}

int
recenc_unlock(struct recreader *r, const char *identity_path, char *why,
    size_t whylen)
{
	uint8_t keys[AGE_MAX_IDENTITIES][AGE_KEY_LEN];
	size_t n = 0;
	unsigned bad = 0;
	int e;

	if ((e = age_identity_file_read(identity_path, keys,
	    AGE_MAX_IDENTITIES, &n, &bad)) != 0) {
		if (e == BERR_SYS)
			return (berr_why(why, whylen, e, "%s: cannot read the "
			    "identity file", identity_path));
		if (e == BERR_FORMAT && bad > 0)
			return (berr_why(why, whylen, e, "%s:%u: not an age "
			    "secret key (AGE-SECRET-KEY-1...)", identity_path,
			    bad));
		return (berr_why(why, whylen, e, "%s: %s", identity_path,
		    e == BERR_NOTFOUND ? "holds no age secret key" :
		    berr_str(e)));
	}
	e = recenc_unlock_keys(r, (const uint8_t (*)[AGE_KEY_LEN])keys, n,
	    why, whylen);
	OPENSSL_cleanse(keys, sizeof(keys));
	return (e);
}

/* ---- the recipient set ------------------------------------------------ */

static int
key_cmp(const void *a, const void *b)
{
	return (memcmp(a, b, AGE_KEY_LEN));
}

int
recenc_recipients_id(const uint8_t (*keys)[AGE_KEY_LEN], size_t n,
    char out[65])
{
	uint8_t sorted[AGE_MAX_RECIPIENTS][AGE_KEY_LEN], h[32];
	int r;

	out[0] = '\0';
	if (n > AGE_MAX_RECIPIENTS)
		return (BERR_LIMIT);
	memcpy(sorted, keys, n * AGE_KEY_LEN);
	qsort(sorted, n, AGE_KEY_LEN, key_cmp);
	if ((r = sha256(sorted, n * AGE_KEY_LEN, h)) != 0)
		return (r);
	hex_encode(h, sizeof(h), out);
	return (0);
}

int
recenc_recipients_id_str(char *const *recipients, size_t n, char out[65])
{
	uint8_t keys[AGE_MAX_RECIPIENTS][AGE_KEY_LEN];
	size_t i;

	out[0] = '\0';
	if (n > AGE_MAX_RECIPIENTS)
		return (BERR_LIMIT);
	for (i = 0; i < n; i++)
		if (age_recipient_decode(recipients[i], keys[i]) != 0)
			return (BERR_FORMAT);
	return (recenc_recipients_id((const uint8_t (*)[AGE_KEY_LEN])keys, n,
	    out));
}

/* ---- rewrap ----------------------------------------------------------- */

/* Copy the rest of in (from where it stands) to fd. */
static int
copy_rest(FILE *in, int fd)
{
	uint8_t buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (io_write_all(fd, buf, n) != 0)
			return (BERR_SYS);
	return (ferror(in) ? BERR_SYS : 0);
}

/* The new key block for kb, wrapping fk to rcpts, with a signed entry. */
static int
new_keyblock(const struct recenc_keyblock *kb, const char *sid,
    const struct reckey *key, const uint8_t fk[AGE_FILE_KEY_LEN],
    const uint8_t (*rcpts)[AGE_KEY_LEN], size_t nr, uint64_t now,
    struct buf *out, struct recenc_rewrap *rw)
{
	struct recenc_rewrap *all = NULL;
	struct buf *age = NULL, *msg = NULL;
	int r;

	if (kb->nrewraps >= RECENC_MAX_REWRAPS)
		return (BERR_LIMIT);
	if ((age = buf_new(AGE_HEADER_MAX)) == NULL ||
	    (msg = buf_new(256)) == NULL ||
	    (all = calloc(kb->nrewraps + 1, sizeof(*all))) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	memset(rw, 0, sizeof(*rw));
	if ((r = age_header_write(fk, rcpts, nr, age)) != 0 ||
	    (r = sha256(kb->age, kb->age_len, rw->old_hash)) != 0 ||
	    (r = sha256(buf_ptr(age), buf_len(age), rw->new_hash)) != 0)
		goto out;
	rw->unix_us = now;
	if ((r = recenc_rewrap_message(msg, sid, rw)) != 0 ||
	    (r = reckey_sign(key, buf_ptr(msg), buf_len(msg), rw->sig)) != 0)
		goto out;
	memcpy(all, kb->rw, kb->nrewraps * sizeof(*all));
	all[kb->nrewraps] = *rw;
	r = recenc_keyblock_encode(buf_ptr(age), buf_len(age), all,
	    kb->nrewraps + 1, out);
 out:
	free(all);
	buf_free(age);
	buf_free(msg);
	return (r);
}

int
recenc_rewrap(const char *path, const struct reckey *key,
    const uint8_t (*ids)[AGE_KEY_LEN], size_t nids,
    const uint8_t (*rcpts)[AGE_KEY_LEN], size_t nr, uint64_t now_unix_us,
    char old_hex[65], char new_hex[65], char *why, size_t whylen)
{
	struct recverify_report rep;
	struct recenc_keyblock *kb = NULL;
	struct recreader *rd = NULL;
	struct recenc_rewrap rw;
	struct buf *nkb = NULL;
	uint8_t fk[AGE_FILE_KEY_LEN];
	char tmp[PATH_MAX];
	const uint8_t *p;
	struct stat st;
	FILE *in = NULL;
	size_t len = 0;
	int fd = -1, r;

	memset(&rep, 0, sizeof(rep));
	memset(fk, 0, sizeof(fk));
	tmp[0] = '\0';
	if (nr == 0 || nr > AGE_MAX_RECIPIENTS)
		return (berr_why(why, whylen, BERR_INVAL, "give 1 to %d "
		    "recipients", AGE_MAX_RECIPIENTS));
	if (recverify_file(path, key, &rep) != RECVERIFY_OK ||
	    rep.version != 2) {
		r = berr_why(why, whylen, BERR_INVAL, "%s", rep.version != 2 &&
		    rep.verdict == RECVERIFY_OK ? "not an encrypted recording "
		    "(format 1)" : rep.verdict == RECVERIFY_UNSEALED ? "not "
		    "sealed: only a finished recording is rewrapped" :
		    rep.why);
		goto out;
	}
	if ((in = fopen(path, "rbe")) == NULL || fstat(fileno(in), &st) != 0) {
		r = berr_why(why, whylen, BERR_SYS, "cannot open it: %s",
		    strerror(errno));
		goto out;
	}
	if ((r = recreader_open_fp(in, &rd)) != 0 ||
	    (r = recreader_magic(rd)) != 0 ||
	    (p = recreader_keyblock(rd, &len)) == NULL ||
	    (kb = calloc(1, sizeof(*kb))) == NULL ||
	    (r = recenc_keyblock_parse(p, len, kb)) != 0) {
		r = berr_why(why, whylen, r != 0 ? r : BERR_NOMEM, "cannot "
		    "read its key block");
		goto out;
	}
	if ((r = age_header_unwrap(&kb->hdr, kb->age, ids, nids, fk)) != 0) {
		r = berr_why(why, whylen, r, "the identity given is not a "
		    "recipient of this recording");
		goto out;
	}
	if ((nkb = buf_new(RECENC_KEYBLOCK_MAX + 8)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((r = new_keyblock(kb, recfmt_hdr_get(&rep.hdr, "session"), key,
	    fk, rcpts, nr, now_unix_us, nkb, &rw)) != 0) {
		r = berr_why(why, whylen, r, "cannot build the new key block "
		    "(%s)", berr_str(r));
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.rewrap.XXXXXX", path) >=
	    sizeof(tmp) || (fd = mkstemp(tmp)) == -1) {
		tmp[0] = '\0';
		r = berr_why(why, whylen, BERR_SYS, "cannot create a file "
		    "beside it: %s", strerror(errno));
		goto out;
	}
	if (io_write_all(fd, REC_MAGIC_V2, REC_MAGIC_LEN) != 0 ||
	    io_write_all(fd, buf_ptr(nkb), buf_len(nkb)) != 0 ||
	    fseeko(in, (off_t)recreader_base(rd), SEEK_SET) != 0 ||
	    copy_rest(in, fd) != 0 || fchmod(fd, st.st_mode & 07777) != 0 ||
	    fsync(fd) != 0) {
		r = berr_why(why, whylen, BERR_SYS, "cannot write the rewrapped "
		    "copy: %s", strerror(errno));
		goto out;
	}
	recverify_report_clear(&rep);
	if (recverify_file(tmp, key, &rep) != RECVERIFY_OK) {
		r = berr_why(why, whylen, BERR_INTERNAL, "the rewrapped copy "
		    "does not verify (%s): the recording is left as it was",
		    rep.why);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		r = berr_why(why, whylen, BERR_SYS, "cannot replace it: %s",
		    strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	hex_encode(rw.old_hash, 32, old_hex);
	hex_encode(rw.new_hash, 32, new_hex);
	r = 0;
 out:
	OPENSSL_cleanse(fk, sizeof(fk));
	if (fd != -1)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	recreader_free(rd);
	if (in != NULL)
		fclose(in);
	free(kb);
	buf_free(nkb);
	recverify_report_clear(&rep);
	return (r);
}
