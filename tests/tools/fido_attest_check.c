/*
 * fido_attest_check.c - checks an OpenSSH FIDO attestation with libfido2.
 *
 *   fido_attest_check ATTESTATION PUBKEY CHALLENGE [APPLICATION]
 *
 * ATTESTATION is what `ssh-keygen -O write-attestation=FILE` saved (the
 * "ssh-sk-attest-v01" blob: certificate, signature, CBOR authenticator
 * data), PUBKEY the key's .pub file and CHALLENGE the file given to
 * `ssh-keygen -O challenge=FILE`.  APPLICATION defaults to the one in the
 * public key.  The check is the one a relying party does:
 * fido_cred_verify() of a "packed" credential whose clientData is the
 * challenge (libfido2 hashes it, as OpenSSH 9.2's sk-usbhid does when
 * enrolling), then the attested public key must equal the one in PUBKEY.
 *
 * On success prints "fmt=", "aaguid=", "flags=", "counter=" lines and
 * "ok" on stdout and exits 0; otherwise says why on stderr and exits 1.
 * Used by tests/e2e/test_harness_softsk.py against the software key.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <openssl/evp.h>

#define FILE_MAX	(256 * 1024)
#define ATTEST_MAGIC	"ssh-sk-attest-v01"
#define ED25519_TYPE	"sk-ssh-ed25519@openssh.com"
#define ECDSA_TYPE	"sk-ecdsa-sha2-nistp256@openssh.com"

/* A bounded reader over untrusted bytes: every access is checked. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static int
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

/* An SSH "string": u32 length then that many bytes (not copied). */
static int
rd_string(struct rd *r, const uint8_t **p, size_t *len)
{
	uint32_t n;

	if (rd_u32(r, &n) != 0 || n > r->left)
		return -1;
	*p = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return 0;
}

static int
rd_string_eq(struct rd *r, const char *want)
{
	const uint8_t *p;
	size_t len;

	if (rd_string(r, &p, &len) != 0)
		return -1;
	return len == strlen(want) && memcmp(p, want, len) == 0 ? 0 : -1;
}

/* Reads a whole file (at most FILE_MAX bytes), NUL-terminated. */
static uint8_t *
read_file(const char *path, size_t *lenp)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	*lenp = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "fido_attest_check: %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	fclose(f);
	if (n > FILE_MAX) {
		fprintf(stderr, "fido_attest_check: %s: larger than %d bytes\n",
		    path, FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

struct pubkey {
	int cose_type;			/* COSE_ES256 or COSE_EDDSA */
	uint8_t key[64];		/* ES256: X || Y; EdDSA: 32 bytes */
	size_t key_len;
	char application[256];
	uint8_t *blob;			/* decoded base64, owns the bytes */
};

/* Parses "TYPE BASE64 [comment]" of an OpenSSH sk public key. */
static int
parse_pubkey(const char *text, struct pubkey *pk)
{
	const char *b64, *end;
	const uint8_t *p;
	size_t len, b64len;
	struct rd r;
	int n;

	memset(pk, 0, sizeof(*pk));
	if ((b64 = strchr(text, ' ')) == NULL)
		return -1;
	b64++;
	for (end = b64; *end != '\0' && *end != ' ' && *end != '\n'; end++)
		;
	b64len = (size_t)(end - b64);
	if (b64len == 0 || b64len % 4 != 0 || b64len > FILE_MAX ||
	    (pk->blob = malloc(b64len / 4 * 3 + 1)) == NULL)
		return -1;
	if ((n = EVP_DecodeBlock(pk->blob, (const unsigned char *)b64,
	    (int)b64len)) < 0)
		return -1;
	/* EVP_DecodeBlock counts '=' padding as zero bytes */
	n -= (end[-1] == '=') + (end[-2] == '=');
	r.p = pk->blob;
	r.left = (size_t)n;
	if (strncmp(text, ED25519_TYPE " ", strlen(ED25519_TYPE) + 1) == 0) {
		pk->cose_type = COSE_EDDSA;
		if (rd_string_eq(&r, ED25519_TYPE) != 0 ||
		    rd_string(&r, &p, &len) != 0 || len != 32)
			return -1;
		memcpy(pk->key, p, 32);
		pk->key_len = 32;
	} else if (strncmp(text, ECDSA_TYPE " ",
	    strlen(ECDSA_TYPE) + 1) == 0) {
		pk->cose_type = COSE_ES256;
		if (rd_string_eq(&r, ECDSA_TYPE) != 0 ||
		    rd_string_eq(&r, "nistp256") != 0 ||
		    rd_string(&r, &p, &len) != 0 || len != 65 || p[0] != 0x04)
			return -1;
		memcpy(pk->key, p + 1, 64);
		pk->key_len = 64;
	} else {
		return -1;
	}
	if (rd_string(&r, &p, &len) != 0 || len == 0 ||
	    len >= sizeof(pk->application) || r.left != 0)
		return -1;
	memcpy(pk->application, p, len);
	pk->application[len] = '\0';
	return 0;
}

/* Loads the attestation blob's parts into cred. */
static int
load_attestation(const uint8_t *data, size_t len, fido_cred_t *cred)
{
	const uint8_t *cert, *sig, *authdata, *resvd;
	size_t cert_len, sig_len, authdata_len, resvd_len;
	uint32_t flags;
	struct rd r = { data, len };
	int e;

	if (rd_string_eq(&r, ATTEST_MAGIC) != 0) {
		fprintf(stderr, "fido_attest_check: not an %s blob\n",
		    ATTEST_MAGIC);
		return -1;
	}
	if (rd_string(&r, &cert, &cert_len) != 0 ||
	    rd_string(&r, &sig, &sig_len) != 0 ||
	    rd_string(&r, &authdata, &authdata_len) != 0 ||
	    rd_u32(&r, &flags) != 0 ||
	    rd_string(&r, &resvd, &resvd_len) != 0 || r.left != 0) {
		fprintf(stderr, "fido_attest_check: truncated or trailing "
		    "data in attestation\n");
		return -1;
	}
	if ((e = fido_cred_set_authdata(cred, authdata, authdata_len)) !=
	    FIDO_OK ||
	    (e = fido_cred_set_x509(cred, cert, cert_len)) != FIDO_OK ||
	    (e = fido_cred_set_sig(cred, sig, sig_len)) != FIDO_OK) {
		fprintf(stderr, "fido_attest_check: attestation rejected by "
		    "libfido2: %s\n", fido_strerr(e));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t *att = NULL, *pubtext = NULL, *chal = NULL;
	size_t att_len, pub_len, chal_len, i;
	const unsigned char *aaguid, *key;
	struct pubkey pk;
	fido_cred_t *cred = NULL;
	const char *app;
	int e, ret = 1;

	memset(&pk, 0, sizeof(pk));
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: fido_attest_check ATTESTATION PUBKEY "
		    "CHALLENGE [APPLICATION]\n");
		return 2;
	}
	fido_init(0);
	if ((att = read_file(argv[1], &att_len)) == NULL ||
	    (pubtext = read_file(argv[2], &pub_len)) == NULL ||
	    (chal = read_file(argv[3], &chal_len)) == NULL)
		goto out;
	if (parse_pubkey((const char *)pubtext, &pk) != 0) {
		fprintf(stderr, "fido_attest_check: %s: not an OpenSSH "
		    "ed25519-sk/ecdsa-sk public key\n", argv[2]);
		goto out;
	}
	app = argc == 5 ? argv[4] : pk.application;
	if ((cred = fido_cred_new()) == NULL)
		goto out;
	if ((e = fido_cred_set_type(cred, pk.cose_type)) != FIDO_OK ||
	    (e = fido_cred_set_fmt(cred, "packed")) != FIDO_OK ||
	    (e = fido_cred_set_clientdata(cred, chal, chal_len)) != FIDO_OK ||
	    (e = fido_cred_set_rp(cred, app, NULL)) != FIDO_OK) {
		fprintf(stderr, "fido_attest_check: %s\n", fido_strerr(e));
		goto out;
	}
	if (load_attestation(att, att_len, cred) != 0)
		goto out;
	if ((e = fido_cred_verify(cred)) != FIDO_OK) {
		fprintf(stderr, "fido_attest_check: fido_cred_verify: %s\n",
		    fido_strerr(e));
		goto out;
	}
	key = fido_cred_pubkey_ptr(cred);
	if (key == NULL || fido_cred_pubkey_len(cred) != pk.key_len ||
	    memcmp(key, pk.key, pk.key_len) != 0) {
		fprintf(stderr, "fido_attest_check: attested public key is "
		    "not the one in %s\n", argv[2]);
		goto out;
	}
	printf("fmt=%s\naaguid=", fido_cred_fmt(cred));
	aaguid = fido_cred_aaguid_ptr(cred);
	for (i = 0; aaguid != NULL && i < fido_cred_aaguid_len(cred); i++)
		printf("%02x", aaguid[i]);
	printf("\nflags=0x%02x\ncounter=%u\nok\n", fido_cred_flags(cred),
	    fido_cred_sigcount(cred));
	ret = 0;
 out:
	fido_cred_free(&cred);
	free(pk.blob);
	free(att);
	free(pubtext);
	free(chal);
	return ret;
}
