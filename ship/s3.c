/*
 * s3.c - one object at a time to and from an S3-compatible store, with
 * libcurl and the signer of sigv4.c (docs/RECORDING-STORE.md).
 *
 * Requests are path-style (ENDPOINT/BUCKET/KEY: MinIO, Ceph RGW, Garage,
 * s3rver and AWS all serve it), signed with the payload's SHA-256, to
 * https only (CURLOPT_PROTOCOLS_STR) unless the endpoint is a loopback
 * address (checked by bastion-notify's notify_url_check, which the policy
 * loader's rule mirrors), no redirects, no proxy from the environment,
 * each request bounded in time. Answers are bounded too: an error body is
 * kept up to 4 KiB (its <Code> is named in the failure), a GET body is
 * hashed as it streams and cut past the caller's maximum. Credentials
 * come from a file only this user may read, and are wiped on close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hex.h"
#include "io.h"
#include "notify.h"
#include "policy.h"
#include "ship.h"

#define CRED_FILE_MAX		4096
#define ERR_BODY_MAX		4096
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int
copy(char *dst, size_t cap, const char *src)
{
	return ((size_t)snprintf(dst, cap, "%s", src != NULL ? src : "") >=
	    cap ? -1 : 0);
}

int
s3_credentials_parse(struct s3 *s, char *text, char *err, size_t errlen)
{
	char *line, *save = NULL, *eq, *k, *v;
	size_t n;
	int lineno = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		k = line + strspn(line, " \t");
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "credentials file line %d: not "
			    "NAME = VALUE", lineno);
			return (-1);
		}
		for (n = (size_t)(eq - k); n > 0 && (k[n - 1] == ' ' ||
		    k[n - 1] == '\t'); n--)
			;
		k[n] = '\0';
		v = eq + 1 + strspn(eq + 1, " \t");
		for (n = strlen(v); n > 0 && (v[n - 1] == ' ' ||
		    v[n - 1] == '\t'); n--)
			;
		v[n] = '\0';
		if (strcmp(k, "access_key_id") == 0 &&
		    copy(s->access_key, sizeof(s->access_key), v) == 0 &&
		    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
		    "wxyz0123456789") == n && n > 0)
			continue;
		if (strcmp(k, "secret_access_key") == 0 && n > 0 &&
		    copy(s->secret_key, sizeof(s->secret_key), v) == 0)
			continue;
		snprintf(err, errlen, "credentials file line %d: %s", lineno,
		    strcmp(k, "access_key_id") == 0 ||
		    strcmp(k, "secret_access_key") == 0 ? "the value is "
		    "empty, too long or has odd characters" :
		    "unknown name (access_key_id, secret_access_key)");
		return (-1);
	}
	if (s->access_key[0] == '\0' || s->secret_key[0] == '\0') {
		snprintf(err, errlen, "the credentials file needs "
		    "access_key_id = ... and secret_access_key = ...");
		return (-1);
	}
	return (0);
}

/*
 * A file systemd handed this service (LoadCredential=, below
 * $CREDENTIALS_DIRECTORY): only the unit's user and root can read it,
 * whether systemd chowned it or gave the user an ACL (group bits then
 * show the ACL's mask), so only the other bits must be clear.
 */
static int
from_systemd(const char *path)
{
	const char *d = getenv("CREDENTIALS_DIRECTORY");
	size_t n;

	if (d == NULL || d[0] != '/' || (n = strlen(d)) < 2)
		return (0);
	return (strncmp(path, d, n) == 0 && path[n] == '/' &&
	    strchr(path + n + 1, '/') == NULL && strstr(path, "..") == NULL);
}

static int
cred_load(struct s3 *s, const char *path, char *err, size_t errlen)
{
	char text[CRED_FILE_MAX + 1];
	struct stat sb;
	size_t n = 0;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open the credentials file %s: %s",
		    path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (from_systemd(path) ? (sb.st_mode & 007) != 0 :
	    (sb.st_mode & 077) != 0 || sb.st_uid != geteuid()))
		snprintf(err, errlen, "the credentials file %s must be a "
		    "regular file of this user (uid %u) that no one else may "
		    "read (chmod 0600)", path, (unsigned)geteuid());
	else if (io_read_upto(fd, text, CRED_FILE_MAX + 1, &n) != 0 ||
	    n > CRED_FILE_MAX || memchr(text, '\0', n) != NULL)
		snprintf(err, errlen, "cannot read the credentials file %s, "
		    "or it is over %d bytes", path, CRED_FILE_MAX);
	else {
		text[n] = '\0';
		r = s3_credentials_parse(s, text, err, errlen);
	}
	close(fd);
	OPENSSL_cleanse(text, sizeof(text));
	return (r);
}

/* base and Host from the endpoint, with curl's URL parser. */
static int
endpoint_parse(struct s3 *s, const char *url, char *err, size_t errlen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *user = NULL, *query = NULL;
	int r = -1;

	if (notify_url_check(url, 1, err, errlen) != 0)
		return (-1);
	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		snprintf(err, errlen, "the endpoint is not a valid URL");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_USER, &user, 0);
	(void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (user != NULL || query != NULL || strcmp(path, "/") != 0) {
		snprintf(err, errlen, "the endpoint must be scheme://HOST[:PORT]"
		    " alone (no user, path or query)");
		goto out;
	}
	if ((size_t)snprintf(s->host, sizeof(s->host), "%s%s%s", host,
	    port != NULL ? ":" : "", port != NULL ? port : "") >=
	    sizeof(s->host) ||
	    (size_t)snprintf(s->base, sizeof(s->base), "%s://%s", scheme,
	    s->host) >= sizeof(s->base)) {
		snprintf(err, errlen, "the endpoint is too long");
		goto out;
	}
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(user);
	curl_free(query);
	curl_url_cleanup(u);
	return (r);
}

int
s3_open(struct s3 *s, const struct policy_recstore *rs, char *err,
    size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (errlen > 0)
		err[0] = '\0';
	s->timeout_ms = 60000;
	if (!rs->s3 || rs->endpoint == NULL || rs->bucket == NULL ||
	    rs->credentials_file == NULL) {
		snprintf(err, errlen, "the policy has no recordings: store: s3 "
		    "with s3: endpoint, bucket and credentials_file");
		return (-1);
	}
	if (endpoint_parse(s, rs->endpoint, err, errlen) != 0 ||
	    copy(s->bucket, sizeof(s->bucket), rs->bucket) != 0 ||
	    copy(s->region, sizeof(s->region), rs->region != NULL ?
	    rs->region : "us-east-1") != 0 ||
	    copy(s->ca_file, sizeof(s->ca_file), rs->ca_file) != 0 ||
	    (rs->prefix != NULL && (size_t)snprintf(s->prefix,
	    sizeof(s->prefix), "%s/", rs->prefix) >= sizeof(s->prefix))) {
		if (err[0] == '\0')
			snprintf(err, errlen, "a store setting is too long");
		return (-1);
	}
	if (cred_load(s, rs->credentials_file, err, errlen) != 0) {
		s3_close(s);
		return (-1);
	}
	return (0);
}

void
s3_close(struct s3 *s)
{
	OPENSSL_cleanse(s->access_key, sizeof(s->access_key));
	OPENSSL_cleanse(s->secret_key, sizeof(s->secret_key));
}

/* ---- one request -------------------------------------------------------- */

struct xfer {
	int infd;			/* PUT body, read with pread */
	uint64_t inoff, insize;
	int outfd;			/* GET body, or -1 */
	uint64_t max;
	EVP_MD_CTX *md;
	struct s3_result *res;
	char errbody[ERR_BODY_MAX + 1];
	size_t errlen;
	int write_failed;
};

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t want = size * n, got = 0;

	if (want > x->insize - x->inoff)
		want = (size_t)(x->insize - x->inoff);
	if (want == 0)
		return (0);
	if (io_pread_upto(x->infd, p, want, (off_t)x->inoff, &got) != 0 ||
	    got == 0)
		return (CURL_READFUNC_ABORT);
	x->inoff += got;
	return (got);
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, keep;

	/* the status is known by now: keep error bodies, hash good ones */
	if (x->res->status != 200) {
		keep = ERR_BODY_MAX - x->errlen;
		if (keep > len)
			keep = len;
		memcpy(x->errbody + x->errlen, p, keep);
		x->errlen += keep;
		x->errbody[x->errlen] = '\0';
		return (len);
	}
	if (x->res->bytes + len > x->max)
		return (0);
	if (x->md != NULL && EVP_DigestUpdate(x->md, p, len) != 1)
		return (0);
	if (x->outfd >= 0 && io_write_all(x->outfd, p, len) != 0) {
		x->write_failed = 1;
		return (0);
	}
	x->res->bytes += len;
	return (len);
}

/* The status line arrives before the body: note it for on_write. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	char line[64];
	int code;

	/* curl's header lines are not NUL-terminated: a bounded copy */
	if (len > 9 && strncmp(p, "HTTP/", 5) == 0) {
		memcpy(line, p, len < sizeof(line) ? len : sizeof(line) - 1);
		line[len < sizeof(line) ? len : sizeof(line) - 1] = '\0';
		if (sscanf(line, "HTTP/%*s %3d", &code) == 1)
			x->res->status = code;
	}
	return (len);
}

void
s3_error_code(const char *body, char *out, size_t outlen)
{
	const char *a, *b;
	size_t n;

	out[0] = '\0';
	if ((a = strstr(body, "<Code>")) == NULL ||
	    (b = strstr(a + 6, "</Code>")) == NULL)
		return;
	a += 6;
	n = (size_t)(b - a);
	if (n == 0 || n >= outlen || n > 64 || strspn(a, "ABCDEFGHIJKLMNOPQR"
	    "STUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") < n)
		return;
	memcpy(out, a, n);
	out[n] = '\0';
}

static int
request(const struct s3 *s, const char *method, const char *key,
    const char *payload_hash, struct xfer *x)
{
	char path[SHIP_KEY_MAX * 3 + 200], raw[SHIP_KEY_MAX + 300];
	char url[sizeof(path) + 600], date[17], auth[1024], code[80];
	char hhost[320], hdate[40], hsha[100], hauth[1100];
	struct sigv4_header sh[3];
	struct sigv4_req sr;
	struct curl_slist *hd = NULL, *t;
	const char *lines[] = { hhost, hdate, hsha, hauth, "Expect:",
	    "Accept:", NULL };
	CURLcode cc;
	CURL *c = NULL;
	size_t i;
	int r = -1;

	memset(x->res, 0, sizeof(*x->res));
	if ((size_t)snprintf(raw, sizeof(raw), "/%s/%s%s", s->bucket,
	    s->prefix, key) >= sizeof(raw) ||
	    sigv4_uri_encode(raw, 1, path, sizeof(path)) != 0 ||
	    (size_t)snprintf(url, sizeof(url), "%s%s", s->base, path) >=
	    sizeof(url)) {
		snprintf(x->res->why, sizeof(x->res->why), "key too long");
		return (-1);
	}
	sigv4_amz_date(time(NULL) + s->clock_skew, date);
	sh[0] = (struct sigv4_header){ "host", s->host };
	sh[1] = (struct sigv4_header){ "x-amz-content-sha256", payload_hash };
	sh[2] = (struct sigv4_header){ "x-amz-date", date };
	sr = (struct sigv4_req){ method, path, "", sh, 3, payload_hash, date,
	    s->region, "s3", s->access_key, s->secret_key };
	if (sigv4_sign(&sr, auth, sizeof(auth), NULL) != 0) {
		snprintf(x->res->why, sizeof(x->res->why), "cannot sign");
		return (-1);
	}
	snprintf(hhost, sizeof(hhost), "Host: %s", s->host);
	snprintf(hdate, sizeof(hdate), "x-amz-date: %s", date);
	snprintf(hsha, sizeof(hsha), "x-amz-content-sha256: %s",
	    payload_hash);
	snprintf(hauth, sizeof(hauth), "Authorization: %s", auth);
	for (i = 0; lines[i] != NULL; i++) {
		if ((t = curl_slist_append(hd, lines[i])) == NULL)
			goto nomem;
		hd = t;
	}
	if ((c = curl_easy_init()) == NULL)
		goto nomem;
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    (s->ca_file[0] != '\0' && curl_easy_setopt(c, CURLOPT_CAINFO,
	    s->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "bastion-ship/1") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK)
		goto nomem;
	if (strcmp(method, "PUT") == 0 &&
	    (curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)x->insize) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READDATA, x) != CURLE_OK))
		goto nomem;
	cc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->res->status);
	if (x->res->status == 200 && cc == CURLE_OK)
		r = 0;
	else if (x->res->status != 0 && x->res->status != 200) {
		s3_error_code(x->errbody, code, sizeof(code));
		snprintf(x->res->why, sizeof(x->res->why), "HTTP %ld%s%s",
		    x->res->status, code[0] != '\0' ? " " : "", code);
	} else if (x->write_failed)
		snprintf(x->res->why, sizeof(x->res->why), "cannot write the "
		    "local copy");
	else if (cc == CURLE_WRITE_ERROR)
		snprintf(x->res->why, sizeof(x->res->why), "the object is "
		    "larger than %llu bytes", (unsigned long long)x->max);
	else
		snprintf(x->res->why, sizeof(x->res->why), "%s",
		    curl_easy_strerror(cc));
	goto out;
nomem:
	snprintf(x->res->why, sizeof(x->res->why), "out of memory (curl)");
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(hd);
	OPENSSL_cleanse(auth, sizeof(auth));
	OPENSSL_cleanse(hauth, sizeof(hauth));
	return (r);
}

int
s3_put_fd(const struct s3 *s, const char *key, int fd, uint64_t size,
    const char *sha_hex, struct s3_result *res)
{
	struct xfer x;

	memset(&x, 0, sizeof(x));
	x.infd = fd;
	x.insize = size;
	x.outfd = -1;
	x.max = ERR_BODY_MAX;	/* of a 200's body, which is dropped */
	x.res = res;
	return (request(s, "PUT", key, sha_hex, &x));
}

int
s3_put_mem(const struct s3 *s, const char *key, const void *p, size_t n,
    struct s3_result *res)
{
	char hex[SHIP_SHA256_HEX];
	uint8_t d[32];
	int fd, r;

	memset(res, 0, sizeof(*res));
	if (EVP_Digest(p, n, d, NULL, EVP_sha256(), NULL) != 1 ||
	    (fd = memfd_create("bastion-ship", MFD_CLOEXEC)) < 0 ||
	    io_write_all(fd, p, n) != 0) {
		snprintf(res->why, sizeof(res->why), "cannot stage the body");
		return (-1);
	}
	hex_encode(d, 32, hex);
	r = s3_put_fd(s, key, fd, n, hex, res);
	close(fd);
	return (r);
}

int
s3_get(const struct s3 *s, const char *key, int outfd, uint64_t max,
    struct s3_result *res)
{
	struct xfer x;
	unsigned int n = 0;
	int r;

	memset(&x, 0, sizeof(x));
	x.outfd = outfd;
	x.max = max;
	x.res = res;
	if ((x.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(x.md);
		memset(res, 0, sizeof(*res));
		snprintf(res->why, sizeof(res->why), "out of memory");
		return (-1);
	}
	r = request(s, "GET", key, EMPTY_SHA256, &x);
	if (r == 0 && (EVP_DigestFinal_ex(x.md, res->sha256, &n) != 1 ||
	    n != 32)) {
		snprintf(res->why, sizeof(res->why), "cannot hash");
		r = -1;
	}
	EVP_MD_CTX_free(x.md);
	return (r);
}
