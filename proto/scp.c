/*
 * scp.c - the legacy SCP (rcp) protocol, parsed (scp.h): the command
 * "scp -t|-f PATH" taken apart, and the two streams of its exec channel
 * cut into items through a state machine that knows whose turn it is.
 *
 * Bytes of each stream are held in a fixed buffer of SCP_BUF bytes; an
 * item is taken only whole (a line up to its '\n', at most SCP_MAX_LINE
 * bytes) except a file's data, handed on as it comes and never past the
 * size its C line announced. Lines are copied out, NUL-terminated, and
 * read field by field with explicit limits. Each file is hashed
 * (SHA-256, OpenSSL) in the order its bytes come, which for scp is always
 * the file's own order: its record says sequential=yes. Each item can be
 * told as one clean line (scp_describe) for bastion-replay --text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "hex.h"
#include "scp.h"
#include "text.h"

enum scp_st {
	ST_ACK,		/* the sink's answer is due */
	ST_LINE,	/* a control line from the source */
	ST_DATA,	/* the file's bytes */
	ST_STATUS,	/* the file's status after its data */
	ST_END,		/* after a fatal error: nothing more may come */
	ST_BROKEN,
};

enum scp_due { DUE_START, DUE_TIME, DUE_FILE, DUE_DIR, DUE_END, DUE_STATUS };

struct scp_stream {
	uint8_t d[SCP_BUF];
	size_t off, n;
};

struct scp_file {
	int active;
	unsigned serial;
	char path[SFTP_MAX_PATH + 1];
	uint64_t size, done;
	EVP_MD_CTX *md;
	int failed;
	char reason[SCP_MAX_LINE + 64];
};

struct scp {
	struct scp_cmd cmd;
	sftp_record_fn rec;
	sftp_data_fn data;
	void *arg;
	struct scp_stream src, snk;
	enum scp_st st;
	enum scp_due due;
	char line[SCP_MAX_LINE + 1];	/* the line taken last */
	char dir[SFTP_MAX_PATH + 1];	/* the directory items go into */
	size_t dirlen[SCP_MAX_DEPTH];	/* dir's length before each D */
	unsigned depth;
	char pending[SFTP_MAX_PATH + 1];	/* a D's path, until its answer */
	char base[SFTP_MAX_PATH + 1];	/* -f: the one name PATH lets the
					   device send at the top */
	int dirtarget;		/* -t: PATH names a directory */
	struct scp_file f;
	unsigned serial;
	uint64_t bytes;
	char why[SCP_MAX_LINE + 128];	/* once broken */
};

/* ---- the command ---------------------------------------------------- */

/* One word of command at *pp into w (quotes removed). 0, 1 at the end,
 * or BERR_FORMAT. */
static int
cmd_word(const char **pp, char *w, size_t wlen)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return (1);
	while (*p != '\0' && *p != ' ') {
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (q == NULL || n + (size_t)(q - p - 1) >= wlen)
				return (BERR_FORMAT);
			memcpy(w + n, p + 1, (size_t)(q - p - 1));
			n += (size_t)(q - p - 1);
			p = q + 1;
			continue;
		}
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_./,:+=@%", *p) == NULL || n + 1 >= wlen)
			return (BERR_FORMAT);
		w[n++] = *p++;
	}
	w[n] = '\0';
	*pp = p;
	return (0);
}

int
scp_cmd_parse(const char *command, struct scp_cmd *c, char *why,
    size_t whylen)
{
	const char *p = command;
	char w[SFTP_MAX_PATH + 1];
	int first = 1, opts = 1, paths = 0, t = 0, f = 0, r;
	size_t i;

	memset(c, 0, sizeof(*c));
	while ((r = cmd_word(&p, w, sizeof(w))) == 0) {
		if (first) {
			if (strcmp(w, "scp") != 0)
				goto bad;
			first = 0;
		} else if (opts && strcmp(w, "--") == 0)
			opts = 0;
		else if (opts && w[0] == '-' && w[1] != '\0') {
			for (i = 1; w[i] != '\0'; i++) {
				if (strchr("vrpdtfq", w[i]) == NULL)
					goto bad;
				t |= w[i] == 't';
				f |= w[i] == 'f';
				c->recursive |= w[i] == 'r';
				c->dirtarget |= w[i] == 'd';
			}
		} else {
			opts = 0;
			if (paths++ > 0 || w[0] == '\0')
				goto bad;
			memcpy(c->target, w, strlen(w) + 1);
		}
	}
	if (r != 1 || first || paths != 1 || t == f)
		goto bad;
	c->upload = t;
	return (0);
bad:
	snprintf(why, whylen, "the command is not \"scp [-v] [-r] [-p] [-d] "
	    "-t|-f PATH\" with one plain or '...'-quoted PATH");
	memset(c, 0, sizeof(*c));
	return (BERR_FORMAT);
}

/* ---- the streams ---------------------------------------------------- */

struct scp *
scp_new(const struct scp_cmd *c, sftp_record_fn rec, sftp_data_fn data,
    void *arg)
{
	struct scp *s = calloc(1, sizeof(*s));
	char *slash;
	size_t n;

	if (s == NULL)
		return (NULL);
	s->cmd = *c;
	s->rec = rec;
	s->data = data;
	s->arg = arg;
	s->st = ST_ACK;		/* the sink speaks first */
	s->due = DUE_START;
	memcpy(s->dir, c->target, sizeof(s->dir));
	n = strlen(s->dir);
	if (c->upload) {	/* items go into PATH */
		slash = strrchr(s->dir, '/');
		slash = slash != NULL ? slash + 1 : s->dir;
		/* "." and ".." (`scp a dev:` sends "-t .") are directories
		 * whatever the device holds, as is "dir/" */
		s->dirtarget = c->dirtarget || (n > 0 && s->dir[n - 1] ==
		    '/') || strcmp(slash, ".") == 0 || strcmp(slash, "..") == 0;
		return (s);
	}
	/* -f: items are PATH (or its contents, -r), named by its last
	 * name (OpenSSH's scp sends PATH's basename, trailing '/' off) */
	while (n > 1 && s->dir[n - 1] == '/')
		s->dir[--n] = '\0';
	if ((slash = strrchr(s->dir, '/')) == NULL) {
		memcpy(s->base, s->dir, n + 1);
		s->dir[0] = '\0';
	} else {
		memcpy(s->base, slash + 1, strlen(slash + 1) + 1);
		slash[slash == s->dir ? 1 : 0] = '\0';
	}
	return (s);
}

static const char *
side(const struct scp *s, int from_sink)
{
	return (s->cmd.upload == from_sink ? "the device" : "the client");
}

/* The stream is lost: why, "from SIDE: ..." (kept for later calls). */
static int
fail(struct scp *s, char *why, size_t whylen, int from_sink,
    const char *fmt, ...)
{
	char m[sizeof(s->why) - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(s->why, sizeof(s->why), "from %s: %s", side(s, from_sink), m);
	s->st = ST_BROKEN;
	snprintf(why, whylen, "%s", s->why);
	return (BERR_FORMAT);
}

static size_t
held(const struct scp_stream *t)
{
	return (t->n - t->off);
}

size_t
scp_held(const struct scp *s, int from_sink)
{
	return (held(from_sink ? &s->snk : &s->src));
}

size_t
scp_room(const struct scp *s, int from_sink)
{
	return (SCP_BUF - held(from_sink ? &s->snk : &s->src));
}

int
scp_put(struct scp *s, int from_sink, const uint8_t *p, size_t n)
{
	struct scp_stream *t = from_sink ? &s->snk : &s->src;

	if (n > SCP_BUF - held(t))
		return (BERR_LIMIT);
	if (t->off > 0) {
		memmove(t->d, t->d + t->off, held(t));
		t->n -= t->off;
		t->off = 0;
	}
	if (n > 0)
		memcpy(t->d + t->n, p, n);
	t->n += n;
	return (0);
}

uint64_t
scp_bytes(const struct scp *s)
{
	return (s->bytes);
}

/* A whole line of t into s->line (its '\n' off), ev->raw its bytes: 1,
 * 0 for more, or the error. */
static int
take_line(struct scp *s, struct scp_stream *t, int from_sink,
    struct scp_ev *ev, char *why, size_t whylen)
{
	const uint8_t *nl = memchr(t->d + t->off, '\n', held(t));
	size_t len;

	if (nl == NULL) {
		if (held(t) >= SCP_MAX_LINE)
			return (fail(s, why, whylen, from_sink, "a line longer "
			    "than %d bytes", SCP_MAX_LINE));
		return (0);
	}
	len = (size_t)(nl - (t->d + t->off)) + 1;
	if (len > SCP_MAX_LINE)
		return (fail(s, why, whylen, from_sink, "a line longer than "
		    "%d bytes", SCP_MAX_LINE));
	if (memchr(t->d + t->off, '\0', len - 1) != NULL)
		return (fail(s, why, whylen, from_sink, "a NUL byte inside a "
		    "line"));
	memcpy(s->line, t->d + t->off, len - 1);
	s->line[len - 1] = '\0';
	ev->raw = t->d + t->off;
	ev->len = len;
	ev->from_sink = from_sink;
	t->off += len;
	return (1);
}

/* Decimal digits at *pp, at most max: 0 or -1. */
static int
num(const char **pp, uint64_t max, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return (-1);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*out = v;
	return (0);
}

/* dst = a joined with b by one '/'. 0 or -1 when over SFTP_MAX_PATH. */
static int
join(char *dst, const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	int slash = al > 0 && a[al - 1] != '/';

	if (al + (size_t)slash + bl > SFTP_MAX_PATH)
		return (-1);
	memmove(dst, a, al);
	if (slash)
		dst[al] = '/';
	memcpy(dst + al + (size_t)slash, b, bl + 1);
	return (0);
}

static void
file_end(struct scp *s, const char *outcome, const char *reason)
{
	struct sftp_record r;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (!s->f.active)
		return;
	memset(&r, 0, sizeof(r));
	r.serial = s->f.serial;
	r.dir = s->cmd.upload ? SFTP_DIR_IN : SFTP_DIR_OUT;
	r.path = s->f.path;
	r.bytes = s->f.done;
	r.size = s->f.size;
	if (s->f.md != NULL && EVP_DigestFinal_ex(s->f.md, d, &dl) == 1 &&
	    dl == 32)
		hex_encode(d, 32, r.sha256);
	else
		snprintf(r.sha256, sizeof(r.sha256), "-");
	r.sequential = 1;
	r.outcome = s->f.failed && strcmp(outcome, "ok") == 0 ? "failed" :
	    outcome;
	r.reason = reason != NULL ? reason : s->f.reason;
	if (s->rec != NULL)
		s->rec(s->arg, &r);
	EVP_MD_CTX_free(s->f.md);
	memset(&s->f, 0, sizeof(s->f));
}

void
scp_free(struct scp *s)
{
	if (s == NULL)
		return;
	file_end(s, "incomplete", "");
	free(s);
}

/* "C0644 1234 name" / "D0755 0 name": the name checked, the path made. */
static int
take_cd(struct scp *s, struct scp_ev *ev, char *why, size_t whylen)
{
	const char *p = s->line + 1, *name;
	char path[SFTP_MAX_PATH + 1];
	uint64_t size;
	size_t i, nl;
	int top;

	for (i = 0; i < 4; i++)
		if (p[i] < '0' || p[i] > '7')
			return (fail(s, why, whylen, 0, "%c line: the mode is "
			    "not four octal digits", s->line[0]));
	p += 4;
	if (*p++ != ' ' || num(&p, SCP_MAX_SIZE, &size) != 0 || *p++ != ' ')
		return (fail(s, why, whylen, 0, "%c line: not \"%cMODE SIZE "
		    "NAME\" with a size of at most %llu", s->line[0],
		    s->line[0], (unsigned long long)SCP_MAX_SIZE));
	name = p;
	nl = strlen(name);
	if (nl == 0 || nl > SCP_MAX_NAME || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return (fail(s, why, whylen, 0, "%c line: a name that is "
		    "empty, \".\", \"..\" or over %d bytes", s->line[0],
		    SCP_MAX_NAME));
	for (i = 0; i < nl; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 ||
		    name[i] == 0x7f)
			return (fail(s, why, whylen, 0, "%c line: a name with "
			    "'/' or a control character", s->line[0]));
	/* a device answering -f PATH names only PATH at the top (what
	 * OpenSSH's scp checks since 8.0): any other name would be recorded
	 * as a file the engineer did not ask for */
	if (!s->cmd.upload && s->depth == 0 && strcmp(name, s->base) != 0)
		return (fail(s, why, whylen, 0, "%c line: a name other than "
		    "the one asked for", s->line[0]));
	if (s->line[0] == 'D' && !s->cmd.recursive)
		return (fail(s, why, whylen, 0, "a D line without -r"));
	/* an upload's lone file at the top goes to PATH itself unless PATH
	 * is a directory by -d, a trailing '/', "." or ".." (docs/FILES.md) */
	top = s->depth == 0 && s->cmd.upload && !s->dirtarget &&
	    s->line[0] == 'C' && s->dir[0] != '\0';
	if (top)
		memcpy(path, s->dir, sizeof(path));
	else if (join(path, s->dir, name) != 0)
		return (fail(s, why, whylen, 0, "a path over %d bytes",
		    SFTP_MAX_PATH));
	s->st = ST_ACK;
	if (s->line[0] == 'D') {
		if (s->depth == SCP_MAX_DEPTH)
			return (fail(s, why, whylen, 0, "more than %d "
			    "directories deep", SCP_MAX_DEPTH));
		memcpy(s->pending, path, sizeof(s->pending));
		s->due = DUE_DIR;
		ev->item = SCP_ITEM_DIR;
		ev->path = s->pending;
		return (1);
	}
	memset(&s->f, 0, sizeof(s->f));
	s->f.active = 1;
	s->f.serial = ++s->serial;
	memcpy(s->f.path, path, sizeof(s->f.path));
	s->f.size = size;
	if ((s->f.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->f.md, EVP_sha256(), NULL) != 1) {
		s->f.failed = 1;
		snprintf(s->f.reason, sizeof(s->f.reason), "hashing failed");
	}
	s->due = DUE_FILE;
	ev->item = SCP_ITEM_FILE;
	ev->serial = s->f.serial;
	ev->size = size;
	ev->path = s->f.path;
	return (1);
}

/* A control line from the source. */
static int
source_line(struct scp *s, struct scp_ev *ev, char *why, size_t whylen)
{
	const char *p;
	uint64_t v;
	int r;

	if ((r = take_line(s, &s->src, 0, ev, why, whylen)) <= 0)
		return (r);
	switch (s->line[0]) {
	case '\1':
	case '\2':
		ev->item = SCP_ITEM_WARN;
		ev->msg = s->line + 1;
		if ((ev->fatal = s->line[0] == '\2'))
			s->st = ST_END;
		return (1);
	case 'T':
		p = s->line + 1;
		if (num(&p, UINT64_MAX, &v) != 0 || *p++ != ' ' ||
		    num(&p, 999999, &v) != 0 || *p++ != ' ' ||
		    num(&p, UINT64_MAX, &v) != 0 || *p++ != ' ' ||
		    num(&p, 999999, &v) != 0 || *p != '\0')
			return (fail(s, why, whylen, 0, "T line: not \"TMTIME "
			    "USEC ATIME USEC\""));
		ev->item = SCP_ITEM_TIME;
		s->st = ST_ACK;
		s->due = DUE_TIME;
		return (1);
	case 'C':
	case 'D':
		return (take_cd(s, ev, why, whylen));
	case 'E':
		if (s->line[1] != '\0')
			return (fail(s, why, whylen, 0, "E line: bytes after "
			    "the E"));
		if (s->depth == 0)
			return (fail(s, why, whylen, 0, "E line without its D "
			    "line"));
		s->dir[s->dirlen[--s->depth]] = '\0';
		ev->item = SCP_ITEM_END;
		s->st = ST_ACK;
		s->due = DUE_END;
		return (1);
	default:
		return (fail(s, why, whylen, 0, "a control line that starts "
		    "with 0x%02x, not C, D, E, T, \\1 or \\2",
		    (unsigned char)s->line[0]));
	}
}

/* The sink's answer (\0, or \1/\2 and a message line). */
static int
sink_answer(struct scp *s, struct scp_ev *ev, char *why, size_t whylen)
{
	struct scp_stream *t = &s->snk;
	uint8_t b = t->d[t->off];
	char reason[SCP_MAX_LINE + 64];
	int r, ok = b == 0;

	if (b == 0) {
		ev->raw = t->d + t->off;
		ev->len = 1;
		ev->from_sink = 1;
		t->off++;
		ev->item = SCP_ITEM_ACK;
	} else if (b == 1 || b == 2) {
		if ((r = take_line(s, t, 1, ev, why, whylen)) <= 0)
			return (r);
		ev->item = SCP_ITEM_NAK;
		ev->msg = s->line + 1;
		ev->fatal = b == 2;
	} else
		return (fail(s, why, whylen, 1, "an answer of 0x%02x, not "
		    "\\0, \\1 or \\2", b));
	s->st = ev->fatal ? ST_END : ST_LINE;
	snprintf(reason, sizeof(reason), "%s answered: %s", side(s, 1),
	    ev->msg);
	switch (s->due) {
	case DUE_FILE:
		ev->serial = s->f.serial;
		if (!ok)
			file_end(s, "failed", reason);
		else if (!ev->fatal)
			s->st = s->f.size > 0 ? ST_DATA : ST_STATUS;
		break;
	case DUE_DIR:
		if (ok) {
			s->dirlen[s->depth++] = strlen(s->dir);
			memcpy(s->dir, s->pending, sizeof(s->dir));
		}
		break;
	case DUE_STATUS:
		ev->serial = s->f.serial;
		file_end(s, ok ? "ok" : "failed", ok ? NULL : reason);
		break;
	default:
		break;
	}
	return (1);
}

/* Bytes of the file under way, or its status after them. */
static int
source_data(struct scp *s, struct scp_ev *ev, char *why, size_t whylen)
{
	struct scp_stream *t = &s->src;
	size_t n = held(t);
	int r;

	ev->serial = s->f.serial;
	ev->size = s->f.size;
	if (s->st == ST_DATA) {
		if (n > s->f.size - s->f.done)
			n = (size_t)(s->f.size - s->f.done);
		ev->item = SCP_ITEM_DATA;
		ev->raw = t->d + t->off;
		ev->len = n;
		ev->offset = s->f.done;
		if (s->f.md != NULL && EVP_DigestUpdate(s->f.md, ev->raw, n) !=
		    1 && !s->f.failed) {
			s->f.failed = 1;
			snprintf(s->f.reason, sizeof(s->f.reason), "hashing "
			    "failed");
		}
		if (s->data != NULL)
			s->data(s->arg, s->f.serial, s->f.path, s->cmd.upload ?
			    SFTP_DIR_IN : SFTP_DIR_OUT, s->f.done, ev->raw, n);
		t->off += n;
		s->f.done += n;
		s->bytes += n;
		if (s->f.done == s->f.size)
			s->st = ST_STATUS;
		return (1);
	}
	ev->item = SCP_ITEM_STATUS;
	if (t->d[t->off] == 0) {
		ev->raw = t->d + t->off;
		ev->len = 1;
		t->off++;
	} else if (t->d[t->off] == 1 || t->d[t->off] == 2) {
		if ((r = take_line(s, t, 0, ev, why, whylen)) <= 0)
			return (r);
		ev->msg = s->line + 1;
		ev->fatal = s->line[0] == '\2';
		if (!s->f.failed) {
			s->f.failed = 1;
			snprintf(s->f.reason, sizeof(s->f.reason), "%s "
			    "reported: %s", side(s, 0), ev->msg);
		}
	} else
		return (fail(s, why, whylen, 0, "a file's status of 0x%02x "
		    "after its %llu bytes, not \\0, \\1 or \\2",
		    t->d[t->off], (unsigned long long)s->f.size));
	if (ev->fatal) {
		file_end(s, "failed", NULL);
		s->st = ST_END;
	} else {
		s->st = ST_ACK;
		s->due = DUE_STATUS;
	}
	return (1);
}

int
scp_next(struct scp *s, struct scp_ev *ev, char *why, size_t whylen)
{
	memset(ev, 0, sizeof(*ev));
	ev->msg = "";
	if (s->st == ST_BROKEN) {
		snprintf(why, whylen, "%s", s->why);
		return (BERR_FORMAT);
	}
	if (held(&s->snk) > 0 && s->st != ST_ACK)
		return (fail(s, why, whylen, 1, "bytes when no answer was "
		    "due"));
	switch (s->st) {
	case ST_ACK:
		return (held(&s->snk) == 0 ? 0 : sink_answer(s, ev, why,
		    whylen));
	case ST_LINE:
		return (held(&s->src) == 0 ? 0 : source_line(s, ev, why,
		    whylen));
	case ST_DATA:
	case ST_STATUS:
		return (held(&s->src) == 0 ? 0 : source_data(s, ev, why,
		    whylen));
	default:
		if (held(&s->src) > 0)
			return (fail(s, why, whylen, 0, "bytes after a fatal "
			    "error"));
		return (0);
	}
}

int
scp_refuse(struct scp *s, const char *why)
{
	if (s->st != ST_ACK || s->due != DUE_FILE || !s->f.active)
		return (BERR_INVAL);
	file_end(s, "refused", why);
	s->st = ST_LINE;
	return (0);
}

int
scp_describe(const struct scp_ev *ev, int upload, char *out, size_t outlen)
{
	char a[SCP_MAX_LINE * 4 + 8], b[SFTP_MAX_PATH * 4 + 8];
	const char *fate = ev->fatal ? "fatal" : "error";
	char who = ev->from_sink == upload ? '<' : '>';
	size_t n = ev->len;

	/* a T, C, D or E line as it came, its '\n' off, made printable */
	if (ev->item <= SCP_ITEM_END) {
		if (n > 0 && ev->raw[n - 1] == '\n')
			n--;
		text_clean_buf(a, sizeof(a), ev->raw, n, TEXT_ESCAPE);
		text_clean_buf(b, sizeof(b), ev->path != NULL ? ev->path : "",
		    ev->path != NULL ? strlen(ev->path) : 0, TEXT_ESCAPE);
	}
	switch (ev->item) {
	case SCP_ITEM_FILE:
		snprintf(out, outlen, "%c %s (file %u: %s)", who, a,
		    ev->serial, b);
		break;
	case SCP_ITEM_DIR:
		snprintf(out, outlen, "%c %s (directory %s)", who, a, b);
		break;
	case SCP_ITEM_TIME:
	case SCP_ITEM_END:
		snprintf(out, outlen, "%c %s", who, a);
		break;
	case SCP_ITEM_WARN:
	case SCP_ITEM_NAK:
		text_clean_buf(a, sizeof(a), ev->msg, strlen(ev->msg),
		    TEXT_ESCAPE);
		snprintf(out, outlen, "%c %s: %s", who, ev->item ==
		    SCP_ITEM_WARN ? (ev->fatal ? "fatal" : "warning") :
		    (ev->fatal ? "fatal" : "refused"), a);
		break;
	case SCP_ITEM_ACK:
		snprintf(out, outlen, "%c ok", who);
		break;
	case SCP_ITEM_DATA:
		if (ev->offset + ev->len != ev->size)
			return (0);
		snprintf(out, outlen, "%c data of file %u: %llu bytes", who,
		    ev->serial, (unsigned long long)ev->size);
		break;
	case SCP_ITEM_STATUS:
		text_clean_buf(a, sizeof(a), ev->msg, strlen(ev->msg),
		    TEXT_ESCAPE);
		if (ev->raw[0] == 0)
			snprintf(out, outlen, "%c end of file %u", who,
			    ev->serial);
		else
			snprintf(out, outlen, "%c end of file %u, %s: %s", who,
			    ev->serial, fate, a);
		break;
	default:
		return (0);
	}
	return (1);
}
