/*
 * reckey.c - Ed25519 keys for signing recordings (see reckey.h).
 *
 * Keys are read through a FILE opened on an fd we checked with fstat, so the
 * permission check and the read are about the same file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "err.h"
#include "log.h"
#include "reckey.h"

struct reckey {
	EVP_PKEY *pkey;
	int priv;
	uint8_t pub[32];
};

static int
reckey_wrap(EVP_PKEY *pkey, int priv, struct reckey **out)
{
	struct reckey *k;
	size_t len = sizeof(k->pub);

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return (BERR_FORMAT);
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return (BERR_NOMEM);
	}
	k->pkey = pkey;
	k->priv = priv;
	if (EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 ||
	    len != sizeof(k->pub)) {
		reckey_free(k);
		return (BERR_CRYPTO);
	}
	*out = k;
	return (0);
}

int
reckey_generate(struct reckey **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return (BERR_CRYPTO);
	return (reckey_wrap(pkey, 1, out));
}

int
reckey_from_seed(const uint8_t seed[RECKEY_SEED_LEN], struct reckey **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	if ((pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    seed, RECKEY_SEED_LEN)) == NULL)
		return (BERR_CRYPTO);
	return (reckey_wrap(pkey, 1, out));
}

/* Open path read-only; with private_check, refuse group/other access. */
static int
open_key(const char *path, int private_check, FILE **fp)
{
	struct stat st;
	int fd;

	*fp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			return (BERR_NOTFOUND);
		log_error("%s: %s", path, strerror(errno));
		return (BERR_SYS);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file", path);
		close(fd);
		return (BERR_FORMAT);
	}
	if (private_check && (st.st_mode & 077) != 0) {
		log_error("%s: private key is accessible by group or others "
		    "(mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return (BERR_DENIED);
	}
	if ((*fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	return (0);
}

int
reckey_load_private(const char *path, struct reckey **out)
{
	EVP_PKEY *pkey;
	FILE *fp;
	int r;

	*out = NULL;
	if ((r = open_key(path, 1, &fp)) != 0)
		return (r);
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pkey == NULL) {
		log_error("%s: not a PEM private key", path);
		return (BERR_FORMAT);
	}
	return (reckey_wrap(pkey, 1, out));
}

int
reckey_load_public(const char *path, struct reckey **out)
{
	EVP_PKEY *pkey;
	FILE *fp;
	int r, priv = 0;

	*out = NULL;
	if ((r = open_key(path, 0, &fp)) != 0)
		return (r);
	pkey = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	if (pkey == NULL) {
		/* Perhaps the private file was given: keep its public half
		 * only, so a verifier never holds signing power. */
		rewind(fp);
		pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		priv = 1;
	}
	fclose(fp);
	if (pkey == NULL) {
		log_error("%s: not a PEM public key", path);
		return (BERR_FORMAT);
	}
	if (priv) {
		uint8_t raw[32];
		size_t len = sizeof(raw);
		EVP_PKEY *pub = NULL;

		if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 &&
		    EVP_PKEY_get_raw_public_key(pkey, raw, &len) == 1)
			pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
			    NULL, raw, len);
		EVP_PKEY_free(pkey);
		if ((pkey = pub) == NULL)
			return (BERR_FORMAT);
	}
	return (reckey_wrap(pkey, 0, out));
}

int
reckey_from_public_pem(const char *pem, size_t len, struct reckey **out)
{
	EVP_PKEY *pkey;
	BIO *bio;

	*out = NULL;
	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return (BERR_NOMEM);
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return (BERR_FORMAT);
	return (reckey_wrap(pkey, 0, out));
}

/* Create path with O_EXCL and mode, and write the PEM via fn. */
static int
write_pem(const char *path, mode_t mode, const struct reckey *k, int priv)
{
	FILE *fp;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1) {
		if (errno == EEXIST)
			return (BERR_EXISTS);
		log_error("%s: %s", path, strerror(errno));
		return (BERR_SYS);
	}
	if (fchmod(fd, mode) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(path);
		return (BERR_SYS);
	}
	if (priv)
		ok = PEM_write_PrivateKey(fp, k->pkey, NULL, NULL, 0, NULL,
		    NULL);
	else
		ok = PEM_write_PUBKEY(fp, k->pkey);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		ok = 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (ok != 1) {
		(void)unlink(path);
		log_error("%s: cannot write key", path);
		return (BERR_SYS);
	}
	return (0);
}

int
reckey_save(const struct reckey *k, const char *path)
{
	char pubpath[4096];
	int r;

	if (!k->priv)
		return (BERR_INVAL);
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    sizeof(pubpath))
		return (BERR_LIMIT);
	if (access(pubpath, F_OK) == 0)
		return (BERR_EXISTS);
	if ((r = write_pem(path, 0600, k, 1)) != 0)
		return (r);
	if ((r = write_pem(pubpath, 0644, k, 0)) != 0) {
		(void)unlink(path);
		return (r);
	}
	return (0);
}

int
reckey_public_pem(const struct reckey *k, char **pem)
{
	BIO *bio;
	char *p;
	long n;
	int r = BERR_CRYPTO;

	*pem = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (BERR_NOMEM);
	if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0) {
		if ((*pem = malloc((size_t)n + 1)) == NULL)
			r = BERR_NOMEM;
		else {
			memcpy(*pem, p, (size_t)n);
			(*pem)[n] = '\0';
			r = 0;
		}
	}
	BIO_free(bio);
	return (r);
}

void
reckey_fingerprint(const struct reckey *k, char out[RECKEY_FP_LEN])
{
	uint8_t md[32];
	unsigned char b64[64];
	unsigned int mdlen = 0;
	int n;

	if (EVP_Digest(k->pub, sizeof(k->pub), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof(md)) {
		snprintf(out, RECKEY_FP_LEN, "SHA256:?");
		return;
	}
	n = EVP_EncodeBlock(b64, md, sizeof(md));	/* 44 chars, one '=' */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(out, RECKEY_FP_LEN, "SHA256:%.*s", n, (char *)b64);
}

int
reckey_has_private(const struct reckey *k)
{
	return (k->priv);
}

int
reckey_sign(const struct reckey *k, const void *msg, size_t len,
    uint8_t sig[REC_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t siglen = REC_SIG_LEN;
	int r = BERR_CRYPTO;

	if (!k->priv)
		return (BERR_INVAL);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (BERR_NOMEM);
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 &&
	    siglen == REC_SIG_LEN)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return (r);
}

int
reckey_verify(const struct reckey *k, const void *msg, size_t len,
    const uint8_t sig[REC_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	int r = BERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (BERR_NOMEM);
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, REC_SIG_LEN, msg, len) == 1)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return (r);
}

void
reckey_free(struct reckey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	explicit_bzero(k, sizeof(*k));
	free(k);
}
