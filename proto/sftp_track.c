/*
 * sftp_track.c - the files one SFTP session moves (sftp.h, "the
 * tracker"): which handle names which file, which requests are under way,
 * and per file and direction the bytes and their SHA-256.
 *
 * Bytes count when they cross: a WRITE when the bastion forwards it to
 * the device, a DATA reply when the device's answer comes through (a
 * refused one counts nowhere). The hash runs over the bytes in that
 * order; "sequential" stays 1 while every chunk starts where the one
 * before ended, so for the usual client (OpenSSH sftp and scp, WinSCP)
 * the hash is the file's own. A file is recorded once its CLOSE is
 * answered, or at the end ("incomplete"). Fixed caps (SFTP_MAX_FILES,
 * SFTP_MAX_PENDING) bound the memory one client can make it use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "sftp.h"

struct sftp_side {
	EVP_MD_CTX *md;
	uint64_t bytes, next, size;
	int nonseq;
	int used;		/* a READ was asked (out) / opened for
				   writing (in) */
};

struct sftp_tfile {
	unsigned serial;
	char *path;
	uint8_t handle[SFTP_MAX_HANDLE];
	size_t hlen;
	uint32_t pflags;
	int refused, failed;
	char reason[256];
	struct sftp_side in, out;
};

struct sftp_pend {
	uint32_t id;
	uint8_t type;
	unsigned serial;	/* OPEN: the file to be; READ, WRITE, CLOSE:
				   the file */
	uint64_t offset;
	char *path;		/* OPEN */
	uint32_t pflags;	/* OPEN */
};

struct sftp_track {
	sftp_record_fn rec;
	sftp_data_fn data;
	void *arg;
	struct sftp_tfile *files[SFTP_MAX_FILES];
	struct sftp_pend pend[SFTP_MAX_PENDING];
	size_t npend;
	unsigned serial;
	uint64_t bytes;
};

struct sftp_track *
sftp_track_new(sftp_record_fn rec, sftp_data_fn data, void *arg)
{
	struct sftp_track *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return (NULL);
	t->rec = rec;
	t->data = data;
	t->arg = arg;
	return (t);
}

static void
side_hex(struct sftp_side *s, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0, i;
	EVP_MD_CTX *md = s->md;

	if (md == NULL) {	/* no byte: the hash of nothing */
		md = EVP_MD_CTX_new();
		if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) !=
		    1) {
			EVP_MD_CTX_free(md);
			snprintf(out, 65, "-");
			return;
		}
	}
	if (EVP_DigestFinal_ex(md, d, &dl) != 1 || dl != 32)
		dl = 0;
	if (md != s->md)
		EVP_MD_CTX_free(md);
	for (i = 0; i < dl; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * dl] = '\0';
	if (dl == 0)
		snprintf(out, 65, "-");
}

static void
side_free(struct sftp_side *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

/* The record of one direction of f. */
static void
track_emit(struct sftp_track *t, struct sftp_tfile *f, enum sftp_dir dir,
    const char *outcome)
{
	struct sftp_side *s = dir == SFTP_DIR_IN ? &f->in : &f->out;
	struct sftp_record r;

	if (!s->used)
		return;
	memset(&r, 0, sizeof(r));
	r.serial = f->serial;
	r.dir = dir;
	r.path = f->path;
	r.bytes = s->bytes;
	r.size = s->size;
	side_hex(s, r.sha256);
	r.sequential = !s->nonseq;
	r.outcome = f->refused ? "refused" : f->failed ? "failed" : outcome;
	r.reason = f->reason;
	if (t->rec != NULL)
		t->rec(t->arg, &r);
}

static void
track_file_end(struct sftp_track *t, size_t i, const char *outcome)
{
	struct sftp_tfile *f = t->files[i];

	track_emit(t, f, SFTP_DIR_IN, outcome);
	track_emit(t, f, SFTP_DIR_OUT, outcome);
	side_free(&f->in);
	side_free(&f->out);
	free(f->path);
	free(f);
	t->files[i] = NULL;
}

void
sftp_track_free(struct sftp_track *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < SFTP_MAX_FILES; i++)
		if (t->files[i] != NULL)
			track_file_end(t, i, "incomplete");
	for (i = 0; i < t->npend; i++)
		free(t->pend[i].path);
	free(t);
}

static struct sftp_tfile *
track_by_handle(const struct sftp_track *t, const uint8_t *h, size_t hl,
    size_t *ip)
{
	size_t i;

	for (i = 0; i < SFTP_MAX_FILES; i++)
		if (t->files[i] != NULL && t->files[i]->hlen == hl &&
		    hl > 0 && memcmp(t->files[i]->handle, h, hl) == 0) {
			if (ip != NULL)
				*ip = i;
			return (t->files[i]);
		}
	return (NULL);
}

static struct sftp_tfile *
track_by_serial(const struct sftp_track *t, unsigned serial, size_t *ip)
{
	size_t i;

	for (i = 0; i < SFTP_MAX_FILES; i++)
		if (t->files[i] != NULL && t->files[i]->serial == serial) {
			if (ip != NULL)
				*ip = i;
			return (t->files[i]);
		}
	return (NULL);
}

int
sftp_track_file(const struct sftp_track *t, const uint8_t *handle,
    size_t hlen, struct sftp_file_info *out)
{
	const struct sftp_tfile *f = track_by_handle(t, handle, hlen, NULL);

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return (BERR_NOTFOUND);
	out->serial = f->serial;
	out->path = f->path;
	out->pflags = f->pflags;
	out->refused = f->refused;
	out->bytes_in = f->in.bytes;
	out->bytes_out = f->out.bytes;
	return (0);
}

uint64_t
sftp_track_bytes(const struct sftp_track *t)
{
	return (t->bytes);
}

int
sftp_track_id_busy(const struct sftp_track *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < t->npend; i++)
		if (t->pend[i].id == id)
			return (1);
	return (0);
}

/* Bytes of f in one direction: counted, hashed, handed on. */
static void
track_bytes(struct sftp_track *t, struct sftp_tfile *f, enum sftp_dir dir,
    uint64_t off, const uint8_t *p, size_t n)
{
	struct sftp_side *s = dir == SFTP_DIR_IN ? &f->in : &f->out;

	if (s->md == NULL && (s->md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
	}
	if (s->md == NULL || (n > 0 && EVP_DigestUpdate(s->md, p, n) != 1)) {
		f->failed = 1;
		snprintf(f->reason, sizeof(f->reason), "hashing failed");
	}
	if (off != s->next || off + n < off)
		s->nonseq = 1;
	s->next = off + n < off ? UINT64_MAX : off + n;
	if (s->next > s->size)
		s->size = s->next;
	s->bytes += n;
	t->bytes += n;
	if (t->data != NULL && n > 0)
		t->data(t->arg, f->serial, f->path, dir, off, p, n);
}

static void
track_refuse(struct sftp_tfile *f, const char *why)
{
	if (f->refused)
		return;
	f->refused = 1;
	snprintf(f->reason, sizeof(f->reason), "%s", why);
}

/* An OPEN refused or failed before a handle: one record of nothing. */
static void
track_open_refused(struct sftp_track *t, unsigned serial, const char *path,
    uint32_t pflags, const char *why)
{
	struct sftp_tfile f;

	memset(&f, 0, sizeof(f));
	f.serial = serial;
	f.path = (char *)path;
	f.pflags = pflags;
	f.in.used = (pflags & SSH_FXF_WRITE) != 0;
	f.out.used = (pflags & SSH_FXF_READ) != 0;
	track_refuse(&f, why);
	track_emit(t, &f, SFTP_DIR_IN, "refused");
	track_emit(t, &f, SFTP_DIR_OUT, "refused");
}

static char *
track_path(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		return (NULL);
	memcpy(s, p, n);
	s[n] = '\0';
	/* a NUL inside cannot name a file: the record's path ends there
	 * (the whole packet is in the recording) */
	return (s);
}

int
sftp_track_request(struct sftp_track *t, const struct sftp_msg *m,
    const char *refused)
{
	struct sftp_pend *pd;
	struct sftp_tfile *f = NULL;
	unsigned serial = 0;

	if (m->type == SSH_FXP_INIT)
		return (0);
	if (m->type == SSH_FXP_OPEN)
		serial = ++t->serial;
	if (m->type == SSH_FXP_READ || m->type == SSH_FXP_WRITE ||
	    m->type == SSH_FXP_CLOSE)
		f = track_by_handle(t, m->handle, m->handle_len, NULL);
	if (refused != NULL) {
		if (m->type == SSH_FXP_OPEN) {
			char *path = track_path(m->path, m->path_len);

			if (path == NULL)
				return (BERR_NOMEM);
			track_open_refused(t, serial, path, m->pflags,
			    refused);
			free(path);
		} else if (f != NULL && (m->type == SSH_FXP_WRITE ||
		    m->type == SSH_FXP_READ)) {
			(m->type == SSH_FXP_WRITE ? &f->in : &f->out)->used =
			    1;
			track_refuse(f, refused);
		}
		return (0);
	}
	if (t->npend >= SFTP_MAX_PENDING)
		return (BERR_LIMIT);
	pd = &t->pend[t->npend];
	memset(pd, 0, sizeof(*pd));
	pd->id = m->id;
	pd->type = m->type;
	pd->offset = m->offset;
	if (m->type == SSH_FXP_OPEN) {
		pd->serial = serial;
		pd->pflags = m->pflags;
		if ((pd->path = track_path(m->path, m->path_len)) == NULL)
			return (BERR_NOMEM);
	} else if (f != NULL) {
		pd->serial = f->serial;
		if (m->type == SSH_FXP_WRITE)
			track_bytes(t, f, SFTP_DIR_IN, m->offset, m->data,
			    m->data_len);
		else if (m->type == SSH_FXP_READ)
			f->out.used = 1;
	}
	t->npend++;
	return (0);
}

/* The device failed a read or write of f (NULL: no file). */
static void
track_failed(struct sftp_tfile *f, const char *what, uint32_t status)
{
	if (f == NULL || f->failed)
		return;
	f->failed = 1;
	snprintf(f->reason, sizeof(f->reason), "the device failed a %s "
	    "(status %u)", what, status);
}

/* A HANDLE for an OPEN: the file, from now on named by its handle. */
static void
track_opened(struct sftp_track *t, struct sftp_pend *pd,
    const struct sftp_msg *m)
{
	struct sftp_tfile *f;
	size_t i;

	for (i = 0; i < SFTP_MAX_FILES && t->files[i] != NULL; i++)
		;
	if (i == SFTP_MAX_FILES || track_by_handle(t, m->handle,
	    m->handle_len, NULL) != NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return;		/* not tracked: the relay refuses its I/O */
	f->serial = pd->serial;
	f->path = pd->path;
	pd->path = NULL;
	f->pflags = pd->pflags;
	memcpy(f->handle, m->handle, m->handle_len);
	f->hlen = m->handle_len;
	f->in.used = (f->pflags & SSH_FXF_WRITE) != 0;
	t->files[i] = f;
}

void
sftp_track_refuse(struct sftp_track *t, const uint8_t *handle, size_t hlen,
    const char *why)
{
	struct sftp_tfile *f = track_by_handle(t, handle, hlen, NULL);

	if (f != NULL)
		track_refuse(f, why);
}

int
sftp_track_pending(const struct sftp_track *t, uint32_t id,
    struct sftp_pending_info *out)
{
	const struct sftp_tfile *f;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->path = "";
	for (i = 0; i < t->npend && t->pend[i].id != id; i++)
		;
	if (i == t->npend)
		return (BERR_NOTFOUND);
	out->type = t->pend[i].type;
	out->offset = t->pend[i].offset;
	if (t->pend[i].type != SSH_FXP_OPEN && (f = track_by_serial(t,
	    t->pend[i].serial, NULL)) != NULL) {
		out->serial = f->serial;
		out->path = f->path;
		out->refused = f->refused;
	}
	return (0);
}

int
sftp_track_reply(struct sftp_track *t, const struct sftp_msg *m,
    const char *refused)
{
	struct sftp_pend pd;
	struct sftp_tfile *f;
	size_t i, fi = 0;

	if (m->type == SSH_FXP_VERSION)
		return (0);
	for (i = 0; i < t->npend && t->pend[i].id != m->id; i++)
		;
	if (i == t->npend)
		return (0);
	pd = t->pend[i];
	t->pend[i] = t->pend[--t->npend];
	f = pd.type == SSH_FXP_OPEN ? NULL : track_by_serial(t, pd.serial,
	    &fi);
	if (refused != NULL) {
		if (f != NULL) {
			f->out.used = 1;
			track_refuse(f, refused);
		}
		free(pd.path);
		return (0);
	}
	switch (pd.type) {
	case SSH_FXP_OPEN:
		if (m->type == SSH_FXP_HANDLE)
			track_opened(t, &pd, m);
		break;
	case SSH_FXP_READ:
		if (f != NULL && m->type == SSH_FXP_DATA)
			track_bytes(t, f, SFTP_DIR_OUT, pd.offset, m->data,
			    m->data_len);
		else if (m->type == SSH_FXP_STATUS && m->status != SSH_FX_EOF)
			track_failed(f, "read", m->status);
		break;
	case SSH_FXP_WRITE:
		if (m->type == SSH_FXP_STATUS && m->status != SSH_FX_OK)
			track_failed(f, "write", m->status);
		break;
	case SSH_FXP_CLOSE:
		if (f != NULL) {
			if (m->type != SSH_FXP_STATUS ||
			    m->status != SSH_FX_OK) {
				f->failed = 1;
				if (f->reason[0] == '\0')
					snprintf(f->reason, sizeof(f->reason),
					    "the device failed the close");
			}
			track_file_end(t, fi, "ok");
		}
		break;
	}
	free(pd.path);
	return (0);
}
