/*
 * credagent.c - the device credential stays with the monitor.
 *
 * The child's libssh client logs in to the device through an ssh-agent
 * (ssh_set_agent_socket, ssh_userauth_agent): the agent is this file, in
 * the monitor, on the other end of a socketpair made for that one device
 * connection (privsep.h, MREQ_DEVICE_CONNECT). It holds the device's
 * credential (read by the monitor, as root, from the path in the policy)
 * and answers the two requests libssh makes:
 *
 *   SSH_AGENTC_REQUEST_IDENTITIES   the credential's public key, only;
 *   SSH_AGENTC_SIGN_REQUEST         a signature, but only over what an SSH
 *                                   publickey login to that device looks
 *                                   like: string session id, byte 50
 *                                   (USERAUTH_REQUEST), the device's login
 *                                   from the policy, "ssh-connection",
 *                                   "publickey", TRUE, an algorithm of the
 *                                   key's type, the key itself; at most
 *                                   CREDAGENT_MAX_SIGNS times.
 *
 * The child never reads the private key, so a compromised child cannot
 * take it away; what it can get is a few login signatures for this
 * device's own login with this key, over session ids of its choosing
 * (libssh does the key exchange in the child, so the monitor cannot know
 * the real one). It can only use those through connections the monitor
 * makes for it, which go to this session's device. Everything the child
 * sends is parsed through struct buf with a length capped before reading.
 *
 * Signing is OpenSSL's (libssh 0.10 exports no raw signing): Ed25519 keys
 * come out of libssh in OpenSSH's own format, parsed here; ECDSA and RSA
 * keys as PEM, which OpenSSL reads.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <libssh/libssh.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent.h"
#include "b64.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor_req.h"
#include "sk.h"

#define CREDAGENT_MAX_SIGNS	4	/* libssh signs once per login try */
#define CREDAGENT_MAX_MSG	(64 * 1024)
#define CREDAGENT_WAIT_MS	5000	/* for the rest of a message */
#define SSH2_MSG_USERAUTH_REQUEST 50
#define SSH_AGENT_RSA_SHA2_256	2
#define SSH_AGENT_RSA_SHA2_512	4

struct credagent {
	int fd;				/* our end */
	const struct policy_device *dev;
	enum ssh_keytypes_e type;
	EVP_PKEY *pkey;
	uint8_t *blob;			/* the public key blob */
	size_t bloblen;
	unsigned signs;
};

/* ---- the key --------------------------------------------------------- */

/*
 * An Ed25519 key as libssh exports it (OpenSSH's "openssh-key-v1",
 * unencrypted): the 32-byte seed is the first half of the private field.
 */
static EVP_PKEY *
credagent_ed25519(const char *pem)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";
	const char *p, *q;
	char *b64 = NULL;
	uint8_t *raw = NULL, m[sizeof(magic)];
	const uint8_t *priv = NULL, *sect = NULL, *s;
	size_t rawlen = 0, n, o = 0, sectlen = 0, privlen = 0, slen;
	struct buf *b = NULL, *ps = NULL;
	uint32_t nkeys, c1, c2;
	EVP_PKEY *k = NULL;

	if ((p = strstr(pem, begin)) == NULL || (q = strstr(p, end)) == NULL)
		return (NULL);
	p += sizeof(begin) - 1;
	if ((b64 = malloc((size_t)(q - p) + 1)) == NULL)
		return (NULL);
	for (; p < q; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			b64[o++] = *p;
	b64[o] = '\0';
	if (b64_decode(b64, 16384, B64_CANONICAL, &raw, &rawlen) != 0 ||
	    (b = buf_from(raw, rawlen)) == NULL ||
	    buf_get(b, m, sizeof(m)) != 0 || memcmp(m, magic, sizeof(m)) != 0)
		goto out;
	/* cipher "none", kdf "none", kdf options, one key, its public
	 * blob, then the private section */
	if (buf_get_string_direct(b, &s, &slen, 64) != 0 || slen != 4 ||
	    memcmp(s, "none", 4) != 0 ||
	    buf_get_string_direct(b, &s, &slen, 64) != 0 || slen != 4 ||
	    memcmp(s, "none", 4) != 0 ||
	    buf_get_string_direct(b, &s, &slen, 1024) != 0 ||
	    buf_get_u32(b, &nkeys) != 0 || nkeys != 1 ||
	    buf_get_string_direct(b, &s, &slen, 4096) != 0 ||
	    buf_get_string_direct(b, &sect, &sectlen, 8192) != 0 ||
	    (ps = buf_from(sect, sectlen)) == NULL ||
	    buf_get_u32(ps, &c1) != 0 || buf_get_u32(ps, &c2) != 0 ||
	    c1 != c2 || buf_get_string_direct(ps, &s, &slen, 64) != 0 ||
	    slen != 11 || memcmp(s, "ssh-ed25519", 11) != 0 ||
	    buf_get_string_direct(ps, &s, &slen, 64) != 0 || slen != 32 ||
	    buf_get_string_direct(ps, &priv, &privlen, 128) != 0 ||
	    privlen != 64)
		goto out;
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
out:
	buf_free(ps);
	buf_free(b);
	if (raw != NULL) {
		explicit_bzero(raw, rawlen);
		free(raw);
	}
	n = strlen(b64);
	explicit_bzero(b64, n);
	free(b64);
	return (k);
}

static EVP_PKEY *
credagent_pem(const char *pem)
{
	EVP_PKEY *k = NULL;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return (NULL);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return (k);
}

/* Load the credential: the public blob, and the key for OpenSSL. */
static int
credagent_load(struct credagent *a, char *why, size_t whylen)
{
	ssh_key key = NULL;
	char *pub = NULL, *pem = NULL;
	int r = BERR_AUTH;

	if (ssh_pki_import_privkey_file(a->dev->credential, NULL, NULL, NULL,
	    &key) != SSH_OK) {
		snprintf(why, whylen, "the bastion's credential for %s cannot "
		    "be read; tell the hospital's admin", a->dev->name);
		log_error("cannot read credential %s for device %s",
		    a->dev->credential, a->dev->name);
		return (BERR_AUTH);
	}
	a->type = ssh_key_type(key);
	if (ssh_pki_export_pubkey_base64(key, &pub) != SSH_OK ||
	    b64_decode(pub, SK_MAX_BLOB, B64_CANONICAL, &a->blob,
	    &a->bloblen) != 0 ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &pem) !=
	    SSH_OK)
		goto fail;
	a->pkey = a->type == SSH_KEYTYPE_ED25519 ? credagent_ed25519(pem) :
	    credagent_pem(pem);
	if (a->pkey == NULL)
		goto fail;
	r = 0;
	goto out;
fail:
	snprintf(why, whylen, "the bastion's credential for %s cannot be "
	    "used (key type %s); tell the hospital's admin", a->dev->name,
	    ssh_key_type_to_char(a->type));
	log_error("credential %s for device %s: cannot prepare it for "
	    "signing", a->dev->credential, a->dev->name);
out:
	if (pem != NULL) {
		explicit_bzero(pem, strlen(pem));
		free(pem);
	}
	if (pub != NULL)
		ssh_string_free_char(pub);
	ssh_key_free(key);
	return (r);
}

int
credagent_new(const struct policy_device *dev, int *child_fd,
    struct credagent **out, char *why, size_t whylen)
{
	struct credagent *a;
	int sv[2], r;

	*out = NULL;
	*child_fd = -1;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return (BERR_NOMEM);
	a->fd = -1;
	a->dev = dev;
	if ((r = credagent_load(a, why, whylen)) != 0) {
		credagent_free(a);
		return (r);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "internal error setting up the connection "
		    "to %s; try again", dev->name);
		credagent_free(a);
		return (BERR_SYS);
	}
	a->fd = sv[0];
	*child_fd = sv[1];
	*out = a;
	return (0);
}

int
credagent_fd(const struct credagent *a)
{
	return (a != NULL ? a->fd : -1);
}

void
credagent_free(struct credagent *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	EVP_PKEY_free(a->pkey);
	free(a->blob);
	free(a);
}

/* ---- signing ------------------------------------------------------------- */

/* An SSH mpint from a BIGNUM (positive: a 0 byte before a high bit). */
static int
credagent_put_mpint(struct buf *b, const BIGNUM *bn)
{
	uint8_t v[80];
	int n = BN_num_bytes(bn), pad;

	if (n < 0 || n > (int)sizeof(v) - 1)
		return (BERR_LIMIT);
	v[0] = 0;
	BN_bn2bin(bn, v + 1);
	pad = n > 0 && (v[1] & 0x80) != 0;
	return (buf_put_string(b, pad ? v : v + 1, (size_t)n + (size_t)pad));
}

/* The key's algorithm names, and the one a sign request's flags ask. An
 * RSA key answers by the flags (never SHA-1); every other type by its row. */
static const struct credagent_algname {
	const char *name;
	const EVP_MD *(*md)(void);	/* NULL: the algorithm hashes itself */
} credagent_algs[] = {
	[SSH_KEYTYPE_ED25519] = { "ssh-ed25519", NULL },
	[SSH_KEYTYPE_ECDSA_P256] = { "ecdsa-sha2-nistp256", EVP_sha256 },
	[SSH_KEYTYPE_ECDSA_P384] = { "ecdsa-sha2-nistp384", EVP_sha384 },
	[SSH_KEYTYPE_ECDSA_P521] = { "ecdsa-sha2-nistp521", EVP_sha512 },
};

static const char *
credagent_alg(const struct credagent *a, uint32_t flags, const EVP_MD **md)
{
	const struct credagent_algname *row;

	if (a->type == SSH_KEYTYPE_RSA) {
		if (flags & SSH_AGENT_RSA_SHA2_512) {
			*md = EVP_sha512();
			return ("rsa-sha2-512");
		}
		if (flags & SSH_AGENT_RSA_SHA2_256) {
			*md = EVP_sha256();
			return ("rsa-sha2-256");
		}
		return (NULL);		/* no SHA-1 signatures */
	}
	if ((size_t)a->type >=
	    sizeof(credagent_algs) / sizeof(credagent_algs[0]))
		return (NULL);
	row = &credagent_algs[a->type];
	if (row->name == NULL)
		return (NULL);
	*md = row->md != NULL ? row->md() : NULL;
	return (row->name);
}

/* The signature blob (string alg, string sig) over data into out. */
static int
credagent_sign(struct credagent *a, const char *alg, const EVP_MD *md,
    const uint8_t *data, size_t len, struct buf *out)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t sig[1024];
	size_t siglen = sizeof(sig);
	ECDSA_SIG *es = NULL;
	const uint8_t *p;
	struct buf *inner = NULL;
	int r = BERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, a->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, data, len) != 1)
		goto out;
	if ((r = buf_put_cstring(out, alg)) != 0)
		goto out;
	if (a->type == SSH_KEYTYPE_ECDSA_P256 ||
	    a->type == SSH_KEYTYPE_ECDSA_P384 ||
	    a->type == SSH_KEYTYPE_ECDSA_P521) {
		const BIGNUM *er, *esv;

		p = sig;
		r = BERR_CRYPTO;
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) == NULL ||
		    (inner = buf_new(256)) == NULL)
			goto out;
		ECDSA_SIG_get0(es, &er, &esv);
		if ((r = credagent_put_mpint(inner, er)) != 0 ||
		    (r = credagent_put_mpint(inner, esv)) != 0 ||
		    (r = buf_put_string(out, buf_ptr(inner),
		    buf_len(inner))) != 0)
			goto out;
	} else if ((r = buf_put_string(out, sig, siglen)) != 0)
		goto out;
	r = 0;
out:
	ECDSA_SIG_free(es);
	buf_free(inner);
	EVP_MD_CTX_free(ctx);
	explicit_bzero(sig, sizeof(sig));
	return (r);
}

/* Is data an SSH publickey login for the device's login with our key? */
static const char *
credagent_check(const struct credagent *a, const uint8_t *data, size_t len,
    const char *alg)
{
	const uint8_t *s;
	size_t slen;
	uint8_t type, has_sig;
	struct buf *b;
	const char *why = NULL;

	if ((b = buf_from(data, len)) == NULL)
		return ("out of memory");
	if (buf_get_string_direct(b, &s, &slen, 64) != 0 || slen < 16)
		why = "no session id";
	else if (buf_get_u8(b, &type) != 0 ||
	    type != SSH2_MSG_USERAUTH_REQUEST)
		why = "not a login request";
	else if (buf_get_string_direct(b, &s, &slen, 256) != 0 ||
	    slen != strlen(a->dev->login) ||
	    memcmp(s, a->dev->login, slen) != 0)
		why = "another login than the device's";
	else if (buf_get_string_direct(b, &s, &slen, 64) != 0 ||
	    slen != 14 || memcmp(s, "ssh-connection", 14) != 0)
		why = "another service";
	else if (buf_get_string_direct(b, &s, &slen, 64) != 0 ||
	    slen != 9 || memcmp(s, "publickey", 9) != 0 ||
	    buf_get_u8(b, &has_sig) != 0 || has_sig != 1)
		why = "not a publickey login";
	else if (buf_get_string_direct(b, &s, &slen, 64) != 0 ||
	    slen != strlen(alg) || memcmp(s, alg, slen) != 0)
		why = "another algorithm";
	else if (buf_get_string_direct(b, &s, &slen, SK_MAX_BLOB) != 0 ||
	    slen != a->bloblen || memcmp(s, a->blob, slen) != 0)
		why = "another key";
	else if (buf_len(b) != 0)
		why = "trailing bytes";
	buf_free(b);
	return (why);
}

/* ---- the agent protocol ------------------------------------------------- */

/* Read exactly n bytes within the deadline. */
static int
credagent_read(int fd, uint8_t *p, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t k;

	while (n > 0) {
		k = recv(fd, p, n, MSG_DONTWAIT);
		if (k == 0)
			return (BERR_CLOSED);
		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&pfd, 1, CREDAGENT_WAIT_MS) != 1)
				return (BERR_TIMEOUT);
			continue;
		}
		if (k < 0)
			return (BERR_CLOSED);
		p += k;
		n -= (size_t)k;
	}
	return (0);
}

static int
credagent_reply(struct credagent *a, struct buf *body)
{
	uint8_t hdr[4];
	size_t len = buf_len(body), off = 0;
	const uint8_t *p = buf_ptr(body);
	ssize_t k;

	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	if (send(a->fd, hdr, 4, MSG_NOSIGNAL) != 4)
		return (BERR_CLOSED);
	while (off < len) {
		if ((k = send(a->fd, p + off, len - off, MSG_NOSIGNAL)) <= 0)
			return (BERR_CLOSED);
		off += (size_t)k;
	}
	return (0);
}

int
credagent_answer(struct credagent *a, const char *sid)
{
	uint8_t hdr[4], *msg = NULL, type;
	const uint8_t *key, *data;
	size_t len, keylen, datalen;
	struct buf *in = NULL, *out = NULL, *sig = NULL;
	const EVP_MD *md = NULL;
	const char *alg, *why = NULL;
	uint32_t flags;
	char comment[128];
	int r;

	if ((r = credagent_read(a->fd, hdr, 4)) != 0)
		return (r);
	if ((r = agent_frame_len(hdr, CREDAGENT_MAX_MSG, &len)) != 0)
		return (r);
	if ((msg = malloc(len)) == NULL)
		return (BERR_NOMEM);
	if ((r = credagent_read(a->fd, msg, len)) != 0)
		goto out;
	r = BERR_NOMEM;
	if ((in = buf_from(msg, len)) == NULL ||
	    (out = buf_new(CREDAGENT_MAX_MSG)) == NULL ||
	    (sig = buf_new(4096)) == NULL)
		goto out;
	if ((r = buf_get_u8(in, &type)) != 0)
		goto out;
	switch (type) {
	case SSH_AGENTC_REQUEST_IDENTITIES:
		snprintf(comment, sizeof(comment), "bastion credential for %s",
		    a->dev->name);
		if ((r = buf_put_u8(out, SSH_AGENT_IDENTITIES_ANSWER)) != 0 ||
		    (r = buf_put_u32(out, 1)) != 0 ||
		    (r = buf_put_string(out, a->blob, a->bloblen)) != 0 ||
		    (r = buf_put_cstring(out, comment)) != 0)
			goto out;
		break;
	case SSH_AGENTC_SIGN_REQUEST:
		if ((r = buf_get_string_direct(in, &key, &keylen,
		    SK_MAX_BLOB)) != 0 ||
		    (r = buf_get_string_direct(in, &data, &datalen,
		    8192)) != 0 || (r = buf_get_u32(in, &flags)) != 0)
			goto out;
		if (keylen != a->bloblen || memcmp(key, a->blob, keylen) != 0)
			why = "another key";
		else if ((alg = credagent_alg(a, flags, &md)) == NULL)
			why = "an algorithm the bastion does not sign with";
		else if (a->signs >= CREDAGENT_MAX_SIGNS)
			why = "too many signatures";
		else
			why = credagent_check(a, data, datalen, alg);
		if (why != NULL) {
			log_warn("session %s: device agent for %s: refused to "
			    "sign (%s)", sid, a->dev->name, why);
			r = BERR_DENIED;
			goto out;
		}
		a->signs++;
		if ((r = credagent_sign(a, alg, md, data, datalen, sig)) != 0 ||
		    (r = buf_put_u8(out, SSH_AGENT_SIGN_RESPONSE)) != 0 ||
		    (r = buf_put_string(out, buf_ptr(sig), buf_len(sig))) != 0)
			goto out;
		break;
	default:
		if ((r = buf_put_u8(out, SSH_AGENT_FAILURE)) != 0)
			goto out;
		break;
	}
	r = credagent_reply(a, out);
out:
	buf_free(sig);
	buf_free(out);
	buf_free(in);
	free(msg);
	return (r);
}
