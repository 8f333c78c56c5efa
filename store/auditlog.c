/*
 * auditlog.c - the hash-chained local audit log: line format, hashing and
 * appending under a lock (format and rules in auditlog.h and docs/AUDIT.md;
 * reading, session selection and verification are in auditread.c).
 *
 * The file is shared by processes that do not talk to each other, so all
 * coordination is in the file: flock(2) serialises appenders, and the
 * previous line's seq and hash are read back from the tail of the file
 * itself (one bounded pread) rather than cached, since another process may
 * have appended since. Everything read back, by appenders as by the
 * verifier, is treated as untrusted and parsed with explicit bounds.
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

#define AUDITLOG_TAIL		(2 * AUDITLOG_LINE_MAX)
#define AUDITLOG_HASH_SUFFIX	(6 + AUDITLOG_HEX_LEN)	/* " hash=" HEX */
#define AUDITLOG_SEQ_DIGITS	20

static const char auditlog_zero[AUDITLOG_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct auditlog {
	char *path;
	int create;
	int fd;
	pid_t pid;		/* the process that opened fd */
	char err[512];
};

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
static int
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

static int
auditlog_unhex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
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
					    (hi = auditlog_unhex(p[1])) < 0 ||
					    (lo = auditlog_unhex(p[2])) < 0)
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

/* ---- appending --------------------------------------------------------- */

int
auditlog_path_for(const char *state_dir, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", state_dir, AUDITLOG_FILE);

	return (n < 0 || (size_t)n >= outlen ? BERR_LIMIT : 0);
}

int
auditlog_new(const char *path, int create, struct auditlog **out)
{
	struct auditlog *al;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return (BERR_INVAL);
	if ((al = calloc(1, sizeof(*al))) == NULL ||
	    (al->path = strdup(path)) == NULL) {
		free(al);
		return (BERR_NOMEM);
	}
	al->create = create;
	al->fd = -1;
	*out = al;
	return (0);
}

void
auditlog_free(struct auditlog *al)
{
	if (al == NULL)
		return;
	if (al->fd != -1 && al->pid == getpid())
		close(al->fd);
	free(al->path);
	free(al);
}

const char *
auditlog_error(const struct auditlog *al)
{
	return (al != NULL ? al->err : "");
}

static int auditlog_fail(struct auditlog *al, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
auditlog_fail(struct auditlog *al, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(al->err, sizeof(al->err), fmt, ap);
	va_end(ap);
	return (r);
}

/* (Re)open al->path for this process. */
static int
auditlog_reopen(struct auditlog *al)
{
	struct stat st;
	int fd;

	if (al->fd != -1 && al->pid == getpid())
		close(al->fd);
	al->fd = -1;	/* after fork the parent's descriptor stays its own */
	fd = open(al->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
	    (al->create ? O_CREAT : 0), 0640);
	if (fd == -1)
		return (auditlog_fail(al, errno == ENOENT ? BERR_NOTFOUND :
		    BERR_SYS, "cannot open %s: %s", al->path,
		    strerror(errno)));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (auditlog_fail(al, BERR_FORMAT, "%s is not a regular "
		    "file", al->path));
	}
	al->fd = fd;
	al->pid = getpid();
	return (0);
}

/* flock with a deadline, so that a stopped process cannot hang us all. */
static int
auditlog_lock(struct auditlog *al)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	while (flock(al->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return (auditlog_fail(al, BERR_SYS, "cannot lock %s: "
			    "%s", al->path, strerror(errno)));
		if (waited >= AUDITLOG_LOCK_TIMEOUT_MS)
			return (auditlog_fail(al, BERR_TIMEOUT, "%s stayed "
			    "locked by another process for %d ms (a stopped "
			    "or hung bastion process? see fuser -v %s)",
			    al->path, AUDITLOG_LOCK_TIMEOUT_MS, al->path));
		nanosleep(&ts, NULL);
		waited += 10;
	}
	return (0);
}

/*
 * Lock the file at al->path; if it was moved aside (a new chain started)
 * since we opened it, follow it to the new one. A process that may no
 * longer look at the path (a sandboxed, demoted worker) or open a new file
 * keeps appending to the descriptor it has: an event in the old file beats
 * an event lost.
 */
static int
auditlog_lock_current(struct auditlog *al)
{
	struct stat a, b;
	int r, tries, fd, gone;

	if ((al->fd == -1 || al->pid != getpid()) &&
	    (r = auditlog_reopen(al)) != 0)
		return (r);
	for (tries = 0; tries < 3; tries++) {
		if ((r = auditlog_lock(al)) != 0)
			return (r);
		gone = 0;
		if (stat(al->path, &b) != 0) {
			if (errno != ENOENT)
				return (0);
			gone = 1;
		}
		if (fstat(al->fd, &a) != 0 || (!gone &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino))
			return (0);
		/* moved aside: continue in the file now at path */
		fd = open(al->path, O_RDWR | O_APPEND | O_CLOEXEC |
		    O_NOFOLLOW | (al->create ? O_CREAT : 0), 0640);
		if (fd == -1)
			return (0);
		flock(al->fd, LOCK_UN);
		close(al->fd);
		al->fd = fd;
	}
	return (auditlog_fail(al, BERR_SYS, "%s keeps being replaced while "
	    "appending", al->path));
}

static int
auditlog_pread_all(int fd, char *buf, size_t n, off_t off)
{
	ssize_t k;
	size_t got = 0;

	while (got < n) {
		k = pread(fd, buf + got, n - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return (-1);
		got += (size_t)k;
	}
	return (0);
}

/* What the tail of the file says about where the chain stands. */
struct auditlog_tail {
	uint64_t next_seq;
	char prev[AUDITLOG_HEX_LEN + 1];
	size_t torn;			/* bytes after the last newline */
	char torn_sha[AUDITLOG_HEX_LEN + 1];
	int last_bad_hash;		/* last line's hash does not verify */
};

static int
auditlog_read_tail(struct auditlog *al, off_t size, struct auditlog_tail *t)
{
	struct auditlog_line l;
	char *buf = NULL;
	size_t n, end, start;
	int r;

	memset(t, 0, sizeof(*t));
	t->next_seq = 1;
	memcpy(t->prev, auditlog_zero, sizeof(t->prev));
	if (size == 0)
		return (0);
	n = (size_t)size < AUDITLOG_TAIL ? (size_t)size : AUDITLOG_TAIL;
	if ((buf = malloc(n)) == NULL)
		return (auditlog_fail(al, BERR_NOMEM, "out of memory"));
	if (auditlog_pread_all(al->fd, buf, n, size - (off_t)n) != 0) {
		r = auditlog_fail(al, BERR_SYS, "cannot read the end of %s: %s",
		    al->path, strerror(errno));
		goto out;
	}
	/* a torn last line: everything after the last newline */
	for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
		;
	t->torn = n - end;
	if (t->torn > 0) {
		if (t->torn >= AUDITLOG_LINE_MAX) {
			r = auditlog_fail(al, BERR_FORMAT, "the last %zu bytes "
			    "of %s hold no line break: it is not an audit "
			    "chain", t->torn, al->path);
			goto out;
		}
		if ((r = auditlog_sha256(buf + end, t->torn, NULL, 0,
		    t->torn_sha)) != 0)
			goto out;
	}
	if (end == 0) {		/* nothing but a torn first line */
		r = 0;
		goto out;
	}
	end--;			/* the newline of the last whole line */
	for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (start == 0 && n < (size_t)size) {
		r = auditlog_fail(al, BERR_FORMAT, "the last line of %s is "
		    "longer than %d bytes: it is not an audit chain line",
		    al->path, AUDITLOG_LINE_MAX);
		goto out;
	}
	if (auditlog_line_parse(buf + start, end - start, &l) != 0) {
		r = auditlog_fail(al, BERR_FORMAT, "the last line of %s is not "
		    "an audit chain line, so the chain cannot go on", al->path);
		goto out;
	}
	if (l.seq == UINT64_MAX) {
		r = auditlog_fail(al, BERR_LIMIT, "%s is full", al->path);
		goto out;
	}
	t->last_bad_hash = !auditlog_line_hash_ok(buf + start, end - start,
	    &l);
	t->next_seq = l.seq + 1;
	memcpy(t->prev, l.hash, sizeof(t->prev));
	r = 0;
out:
	free(buf);
	return (r);
}

/* Format "seq=N prev=P BODY hash=H\n" into out at *o; the line's hash goes
 * to hash. */
static int
auditlog_format(char *out, size_t outlen, size_t *o, uint64_t seq,
    const char *prev, const char *body, char hash[AUDITLOG_HEX_LEN + 1])
{
	size_t start = *o;
	int n, r;

	n = snprintf(out + *o, outlen - *o, "seq=%llu prev=%s %s",
	    (unsigned long long)seq, prev, body);
	if (n < 0 || (size_t)n + AUDITLOG_HASH_SUFFIX + 2 > outlen - *o)
		return (BERR_LIMIT);
	if ((r = auditlog_hash(out + start, (size_t)n, hash)) != 0)
		return (r);
	*o += (size_t)n;
	n = snprintf(out + *o, outlen - *o, " hash=%s\n", hash);
	*o += (size_t)n;
	return (0);
}

static void
auditlog_now(char *out, size_t outlen)
{
	struct timeval tv;
	struct tm tm;
	char ts[64];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03ldZ", ts, (long)(tv.tv_usec / 1000));
}

int
auditlog_append(struct auditlog *al, const char *body, uint64_t *seqp,
    char hashp[AUDITLOG_HEX_LEN + 1])
{
	struct auditlog_tail t;
	struct stat st;
	char out[2 * AUDITLOG_LINE_MAX + 8], torn[256], ts[96];
	char hash[AUDITLOG_HEX_LEN + 1], thash[AUDITLOG_HEX_LEN + 1];
	size_t o = 0, blen;
	uint64_t seq;
	int r, err;

	al->err[0] = '\0';
	if (body == NULL || (blen = strlen(body)) > AUDITLOG_BODY_MAX ||
	    !auditlog_body_ok(body, blen))
		return (auditlog_fail(al, BERR_INVAL, "the event is empty, too "
		    "long or holds control characters"));
	if ((r = auditlog_lock_current(al)) != 0)
		return (r);
	if (fstat(al->fd, &st) != 0) {
		r = auditlog_fail(al, BERR_SYS, "cannot stat %s: %s", al->path,
		    strerror(errno));
		goto out;
	}
	if ((r = auditlog_read_tail(al, st.st_size, &t)) != 0)
		goto out;
	seq = t.next_seq;
	if (t.torn > 0) {
		/* seal off a torn write: a line break, then a line that
		 * names exactly what was torn */
		out[o++] = '\n';
		auditlog_now(ts, sizeof(ts));
		snprintf(torn, sizeof(torn), "ts=%s event=%s pid=%ld bytes=%zu "
		    "sha256=%s", ts, AUDITLOG_TORN_EVENT, (long)getpid(),
		    t.torn, t.torn_sha);
		if ((r = auditlog_format(out, sizeof(out), &o, seq, t.prev,
		    torn, thash)) != 0)
			goto out;
		memcpy(t.prev, thash, sizeof(t.prev));
		seq++;
	}
	if ((r = auditlog_format(out, sizeof(out), &o, seq, t.prev, body,
	    hash)) != 0) {
		r = auditlog_fail(al, r, "the event does not fit in a line");
		goto out;
	}
	if (io_write_all(al->fd, out, o) != 0) {
		err = errno;
		/* keep the file made of whole lines (we hold the lock) */
		if (ftruncate(al->fd, st.st_size) != 0)
			err = errno;
		r = auditlog_fail(al, BERR_SYS, "cannot write to %s: %s",
		    al->path, strerror(err));
		goto out;
	}
	if (fdatasync(al->fd) != 0) {
		r = auditlog_fail(al, BERR_SYS, "cannot sync %s: %s", al->path,
		    strerror(errno));
		goto out;
	}
	if (t.torn > 0)
		snprintf(al->err, sizeof(al->err), "sealed a torn last line "
		    "of %zu bytes in %s (seq %llu)", t.torn, al->path,
		    (unsigned long long)(seq - 1));
	else if (t.last_bad_hash)
		snprintf(al->err, sizeof(al->err), "the line before seq %llu "
		    "in %s does not verify (run bastion-verify --audit %s)",
		    (unsigned long long)seq, al->path, al->path);
	if (seqp != NULL)
		*seqp = seq;
	if (hashp != NULL)
		memcpy(hashp, hash, AUDITLOG_HEX_LEN + 1);
	r = 0;
out:
	flock(al->fd, LOCK_UN);
	return (r);
}

/* ---- the process-wide chain -------------------------------------------- */

static struct auditlog *auditlog_proc;

static int
auditlog_sink(const char *line, char *note, size_t notelen, void *arg)
{
	char hash[AUDITLOG_HEX_LEN + 1];
	uint64_t seq = 0;
	int r;

	(void)arg;
	if (auditlog_proc == NULL)
		return (0);
	if ((r = auditlog_append(auditlog_proc, line, &seq, hash)) != 0) {
		log_error("audit chain: this event is NOT in %s: %s. Sessions "
		    "are refused until it can be written: free space, fix "
		    "the permissions, or check the file with bastion-verify "
		    "--audit (docs/AUDIT.md)", auditlog_proc->path,
		    auditlog_proc->err);
		snprintf(note, notelen, " chain=unwritten");
		return (r);
	}
	if (auditlog_proc->err[0] != '\0')
		log_warn("audit chain: %s", auditlog_proc->err);
	/* the journal keeps every line's hash: a witness outside the file */
	snprintf(note, notelen, " chain=%llu:%s", (unsigned long long)seq,
	    hash);
	return (0);
}

int
auditlog_open(const char *state_dir, int flags)
{
	char path[4096], real[PATH_MAX];
	int r;

	auditlog_close();
	/* the canonical path: it is compared with /proc/self/fd links */
	if (realpath(state_dir, real) != NULL)
		state_dir = real;
	if ((r = auditlog_path_for(state_dir, path, sizeof(path))) != 0 ||
	    (r = auditlog_new(path, 1, &auditlog_proc)) != 0) {
		log_error("audit chain: cannot use %s/%s: %s", state_dir,
		    AUDITLOG_FILE, berr_str(r));
		return (r);
	}
	if (!(flags & AUDITLOG_LAZY) &&
	    (r = auditlog_reopen(auditlog_proc)) != 0) {
		log_error("audit chain: %s. Create the state directory (%s, "
		    "paths.state_dir in the policy) and make it writable by "
		    "the bastion's user", auditlog_proc->err, state_dir);
		auditlog_close();
		return (r);
	}
	audit_set_sink(auditlog_sink, NULL);
	return (0);
}

void
auditlog_close(void)
{
	audit_set_sink(NULL, NULL);
	auditlog_free(auditlog_proc);
	auditlog_proc = NULL;
}

const char *
auditlog_path(void)
{
	return (auditlog_proc != NULL ? auditlog_proc->path : NULL);
}

int
auditlog_fd(void)
{
	return (auditlog_proc != NULL && auditlog_proc->pid == getpid() ?
	    auditlog_proc->fd : -1);
}
