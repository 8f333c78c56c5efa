/*
 * recbundle.c - the evidence bundle: its layout, the writer behind the
 * auditor console's `export` and the reader behind `bastion-verify BUNDLE`
 * (the format is in recbundle.h and docs/AUDIT.md).
 *
 * Writer and reader hash every member as it streams through, so the
 * MANIFEST the writer produces and the hashes the reader checks it with
 * come from one place. The reader treats the tar as hostile: libarchive's
 * tar reader only (no decompression, no other format), every member
 * checked by name, type and declared size before a byte of it is kept, and
 * no more bytes kept than declared.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "err.h"
#include "hex.h"
#include "io.h"
#include "recbundle.h"
#include "reckey.h"
#include "text.h"

/* name and size limit of each part, in the order written */
static const struct {
	const char *name;
	uint64_t max;
} recbundle_parts[RECBUNDLE_PARTS] = {
	[RECBUNDLE_P_RECORDING] = { RECBUNDLE_RECORDING,
	    RECBUNDLE_RECORDING_MAX },
	[RECBUNDLE_P_PUBKEY] = { RECBUNDLE_PUBKEY, 16384 },
	[RECBUNDLE_P_APPROVAL] = { RECBUNDLE_APPROVAL, RECBUNDLE_SMALL_MAX },
	[RECBUNDLE_P_AUDIT] = { RECBUNDLE_AUDIT, RECBUNDLE_AUDIT_MAX },
	[RECBUNDLE_P_EXPORT] = { RECBUNDLE_EXPORT, 65536 },
	[RECBUNDLE_P_MANIFEST] = { RECBUNDLE_MANIFEST, 65536 },
	[RECBUNDLE_P_SIG] = { RECBUNDLE_SIG, REC_SIG_LEN },
};

const char *const recbundle_members[RECBUNDLE_MEMBERS] = {
	RECBUNDLE_RECORDING, RECBUNDLE_PUBKEY, RECBUNDLE_APPROVAL,
	RECBUNDLE_AUDIT, RECBUNDLE_EXPORT,
};

const char *
recbundle_part_name(enum recbundle_part p)
{
	return ((int)p >= 0 && p < RECBUNDLE_PARTS ? recbundle_parts[p].name :
	    NULL);
}

/* ---- hashes and the signature ----------------------------------------- */

int
recbundle_sha_mem(const void *p, size_t len, char hex[RECBUNDLE_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return (BERR_CRYPTO);
	hex_encode(md, sizeof(md), hex);
	return (0);
}

/* A SHA-256 over a stream, finished into hex. */
static EVP_MD_CTX *
recbundle_sha_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return (ctx);
}

static void
recbundle_sha_end(EVP_MD_CTX *ctx, char hex[RECBUNDLE_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, sizeof(md), hex);
}

int
recbundle_sig_message(const void *manifest, size_t len, uint8_t **out,
    size_t *outlen)
{
	size_t clen = sizeof(RECBUNDLE_SIG_CONTEXT);	/* with its NUL */

	*out = NULL;
	*outlen = 0;
	if ((*out = malloc(clen + len)) == NULL)
		return (BERR_NOMEM);
	memcpy(*out, RECBUNDLE_SIG_CONTEXT, clen);
	if (len > 0)
		memcpy(*out + clen, manifest, len);
	*outlen = clen + len;
	return (0);
}

int
recbundle_recording_path(const char *recdir, const char *recid, char *out,
    size_t outlen)
{
	size_t i;
	int n;

	if (!recfmt_session_id_valid(recid) || strlen(recid) < 9)
		return (BERR_INVAL);
	for (i = 0; i < 8; i++)	/* YYYYMMDD, as the recorder names them */
		if (recid[i] < '0' || recid[i] > '9')
			return (BERR_INVAL);
	n = snprintf(out, outlen, "%s/%.4s/%.2s/%.2s/%s.brec", recdir, recid,
	    recid + 4, recid + 6, recid);
	return (n < 0 || (size_t)n >= outlen ? BERR_LIMIT : 0);
}

/* ---- writing ----------------------------------------------------------- */

struct recbundle_writer {
	struct archive *a;
	recbundle_write_fn fn;
	void *arg;
	char dir[RECBUNDLE_NAME_MAX + 1];
	int next;			/* the part to write next */
	char manifest[RECBUNDLE_MANIFEST_MAX];
	size_t manifest_len;
};

static la_ssize_t
recbundle_write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct recbundle_writer *w = arg;

	(void)a;
	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	return (w->fn(w->arg, buf, len) == 0 ? (la_ssize_t)len : -1);
}

int
recbundle_writer_new(const char *recid, recbundle_write_fn fn, void *arg,
    struct recbundle_writer **out)
{
	struct recbundle_writer *w;

	*out = NULL;
	if (recid == NULL || !recfmt_session_id_valid(recid))
		return (BERR_INVAL);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (BERR_NOMEM);
	w->fn = fn;
	w->arg = arg;
	snprintf(w->dir, sizeof(w->dir), "%s%s", RECBUNDLE_DIR, recid);
	if ((w->a = archive_write_new()) == NULL ||
	    archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open2(w->a, w, NULL, recbundle_write_cb, NULL,
	    NULL) != ARCHIVE_OK) {
		recbundle_writer_free(w);
		return (BERR_SYS);
	}
	*out = w;
	return (0);
}

/* One member: header, data from mem or from fd (size bytes), hashed into
 * the MANIFEST unless it is the MANIFEST or its signature. */
static int
recbundle_put(struct recbundle_writer *w, enum recbundle_part p,
    const void *mem, int fd, uint64_t size)
{
	struct archive_entry *e;
	unsigned char buf[65536];
	char path[RECBUNDLE_NAME_MAX + 64], hex[RECBUNDLE_HEX_LEN + 1];
	EVP_MD_CTX *ctx = NULL;
	uint64_t done = 0;
	ssize_t k;
	size_t n;
	int r = BERR_SYS;

	if ((int)p != w->next)
		return (BERR_INVAL);
	w->next++;
	snprintf(path, sizeof(path), "%s/%s", w->dir, recbundle_parts[p].name);
	if ((e = archive_entry_new()) == NULL ||
	    (ctx = recbundle_sha_new()) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0444);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		goto out;
	while (done < size) {
		const void *d = buf;

		k = (ssize_t)(size - done < sizeof(buf) ? size - done :
		    sizeof(buf));
		if (mem != NULL)
			d = (const uint8_t *)mem + done;
		else if (io_read_all(fd, buf, (size_t)k, NULL) != 0) {
			r = BERR_TRUNC;		/* the file shrank: cannot be */
			goto out;
		}
		EVP_DigestUpdate(ctx, d, (size_t)k);
		if (archive_write_data(w->a, d, (size_t)k) != k)
			goto out;
		done += (uint64_t)k;
	}
	recbundle_sha_end(ctx, hex);
	r = 0;
	/* MANIFEST lists the members before it, not itself or its signature */
	if (p < RECBUNDLE_P_MANIFEST) {
		n = (size_t)snprintf(w->manifest + w->manifest_len,
		    sizeof(w->manifest) - w->manifest_len, "%s  %s\n", hex,
		    recbundle_parts[p].name);
		if (n >= sizeof(w->manifest) - w->manifest_len)
			r = BERR_LIMIT;
		else
			w->manifest_len += n;
	}
out:
	EVP_MD_CTX_free(ctx);
	archive_entry_free(e);
	return (r);
}

int
recbundle_writer_add(struct recbundle_writer *w, enum recbundle_part p,
    const void *mem, int fd, uint64_t size)
{
	if (p >= RECBUNDLE_P_MANIFEST)
		return (BERR_INVAL);
	return (recbundle_put(w, p, mem, fd, size));
}

const char *
recbundle_writer_manifest(const struct recbundle_writer *w, size_t *len)
{
	*len = w->manifest_len;
	return (w->manifest);
}

int
recbundle_writer_finish(struct recbundle_writer *w, const uint8_t *sig)
{
	char m[RECBUNDLE_MANIFEST_MAX];
	int r;

	memcpy(m, w->manifest, w->manifest_len);
	if ((r = recbundle_put(w, RECBUNDLE_P_MANIFEST, m, -1,
	    w->manifest_len)) != 0)
		return (r);
	if (sig != NULL && (r = recbundle_put(w, RECBUNDLE_P_SIG, sig, -1,
	    REC_SIG_LEN)) != 0)
		return (r);
	return (archive_write_close(w->a) == ARCHIVE_OK ? 0 : BERR_SYS);
}

const char *
recbundle_writer_error(const struct recbundle_writer *w)
{
	const char *e = w != NULL && w->a != NULL ?
	    archive_error_string(w->a) : NULL;

	return (e != NULL ? e : "out of memory");
}

void
recbundle_writer_free(struct recbundle_writer *w)
{
	if (w == NULL)
		return;
	if (w->a != NULL)
		archive_write_free(w->a);
	free(w);
}

/* ---- reading ----------------------------------------------------------- */

/* libarchive's last error; never NULL. */
static const char *
recbundle_aerr(struct archive *a)
{
	const char *e = archive_error_string(a);

	return (e != NULL ? e : "unknown error");
}

int
recbundle_altered(struct recbundle *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->altered) {
		va_start(ap, fmt);
		vsnprintf(b->why, sizeof(b->why), fmt, ap);
		va_end(ap);
		b->altered = 1;
	}
	return (RECBUNDLE_ALTERED);
}

static int recbundle_error(struct recbundle *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
recbundle_error(struct recbundle *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return (RECBUNDLE_ERROR);
}

void
recbundle_init(struct recbundle *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < RECBUNDLE_PARTS; i++) {
		b->m[i].name = recbundle_parts[i].name;
		b->m[i].max = recbundle_parts[i].max;
	}
}

void
recbundle_clear(struct recbundle *b)
{
	size_t i;

	for (i = 0; i < RECBUNDLE_PARTS; i++) {
		free(b->m[i].data);
		b->m[i].data = NULL;
	}
	if (b->rec != NULL)
		fclose(b->rec);
	b->rec = NULL;
}

/* Untrusted text made safe to print. */
static const char *
recbundle_vis(const char *s, char *out, size_t outlen)
{
	text_clean_buf(out, outlen, s, strlen(s), TEXT_ESCAPE | TEXT_ELLIPSIS);
	return (out);
}

/* Which member a tar entry is; -1 (and b->why) if it may not be there. */
static int
recbundle_member(struct recbundle *b, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e), *slash;
	char vname[128];
	size_t dlen, i;
	la_int64_t size;

	if (name == NULL || strlen(name) > RECBUNDLE_NAME_MAX)
		return (-recbundle_altered(b, "a member without a usable "
		    "name"));
	recbundle_vis(name, vname, sizeof(vname));
	if (archive_entry_filetype(e) != AE_IFREG)
		return (-recbundle_altered(b, "member %s is not a regular file "
		    "(links and directories have no place in a bundle)",
		    vname));
	if ((slash = strchr(name, '/')) == NULL || strchr(slash + 1, '/') ||
	    strncmp(name, RECBUNDLE_DIR, strlen(RECBUNDLE_DIR)) != 0)
		return (-recbundle_altered(b, "member %s is not %sID/NAME",
		    vname, RECBUNDLE_DIR));
	dlen = (size_t)(slash - name);
	if (b->dir[0] == '\0') {
		memcpy(b->dir, name, dlen);
		b->dir[dlen] = '\0';
	} else if (strlen(b->dir) != dlen || memcmp(b->dir, name, dlen) != 0)
		return (-recbundle_altered(b, "member %s is outside the "
		    "bundle's directory", vname));
	for (i = 0; i < RECBUNDLE_PARTS; i++)
		if (strcmp(slash + 1, b->m[i].name) == 0)
			break;
	if (i == RECBUNDLE_PARTS)
		return (-recbundle_altered(b, "unexpected member %s", vname));
	if (b->m[i].seen)
		return (-recbundle_altered(b, "member %s appears twice",
		    vname));
	size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	if (size < 0 || (uint64_t)size > b->m[i].max)
		return (-recbundle_altered(b, "member %s is larger than a "
		    "bundle's %s can be (%llu bytes)", vname, b->m[i].name,
		    (unsigned long long)b->m[i].max));
	b->m[i].seen = 1;
	return ((int)i);
}

/* Read the current entry's data into member i (bounded), hashing it. */
static int
recbundle_read_member(struct recbundle *b, struct archive *a, size_t i,
    uint64_t declared)
{
	struct recbundle_member *m = &b->m[i];
	unsigned char buf[65536];
	uint64_t total = 0;
	EVP_MD_CTX *ctx;
	la_ssize_t k;
	int r = RECBUNDLE_OK;

	if ((ctx = recbundle_sha_new()) == NULL)
		return (recbundle_error(b, "out of memory"));
	if (i == RECBUNDLE_P_RECORDING) {
		if ((b->rec = tmpfile()) == NULL) {
			r = recbundle_error(b, "cannot create a temporary file "
			    "for the recording: %s (set TMPDIR to a directory "
			    "with room)", strerror(errno));
			goto out;
		}
	} else if ((m->data = malloc((size_t)declared + 1)) == NULL) {
		r = recbundle_error(b, "out of memory");
		goto out;
	}
	while ((k = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (total + (uint64_t)k > declared) {
			r = recbundle_altered(b, "member %s holds more bytes "
			    "than its header says", m->name);
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)k);
		if (i == RECBUNDLE_P_RECORDING) {
			if (fwrite(buf, 1, (size_t)k, b->rec) != (size_t)k) {
				r = recbundle_error(b, "cannot spool the "
				    "recording: %s", strerror(errno));
				goto out;
			}
		} else
			memcpy(m->data + total, buf, (size_t)k);
		total += (uint64_t)k;
	}
	if (k < 0) {
		r = recbundle_altered(b, "the tar is damaged in member %s: %s",
		    m->name, recbundle_aerr(a));
		goto out;
	}
	if (total != declared) {
		r = recbundle_altered(b, "member %s is cut short", m->name);
		goto out;
	}
	if (m->data != NULL)
		m->data[total] = '\0';
	m->len = (size_t)total;
	recbundle_sha_end(ctx, m->sha);
	if (i == RECBUNDLE_P_RECORDING && (fflush(b->rec) != 0 ||
	    fseek(b->rec, 0, SEEK_SET) != 0))
		r = recbundle_error(b, "cannot spool the recording: %s",
		    strerror(errno));
out:
	EVP_MD_CTX_free(ctx);
	return (r);
}

int
recbundle_read(struct recbundle *b, const char *file, const char *shown)
{
	struct archive *a;
	struct archive_entry *e;
	size_t n = 0;
	int r, i, rc = RECBUNDLE_OK;

	if ((a = archive_read_new()) == NULL)
		return (recbundle_error(b, "out of memory"));
	archive_read_support_format_tar(a);
	r = strcmp(file, "-") == 0 ? archive_read_open_fd(a, 0, 65536) :
	    archive_read_open_filename(a, file, 65536);
	if (r != ARCHIVE_OK) {
		rc = recbundle_error(b, "cannot open %s: %s", shown,
		    recbundle_aerr(a));
		archive_read_free(a);
		return (rc);
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (++n > RECBUNDLE_MAX_MEMBERS) {
			rc = recbundle_altered(b, "more than %d members",
			    RECBUNDLE_MAX_MEMBERS);
			break;
		}
		if ((i = recbundle_member(b, e)) < 0) {
			rc = RECBUNDLE_ALTERED;
			break;
		}
		if ((rc = recbundle_read_member(b, a, (size_t)i,
		    (uint64_t)archive_entry_size(e))) != RECBUNDLE_OK)
			break;
	}
	if (rc == RECBUNDLE_OK && r != ARCHIVE_EOF && n == 0)
		rc = recbundle_error(b, "%s is not an evidence bundle (tar): "
		    "%s", shown, recbundle_aerr(a));
	else if (rc == RECBUNDLE_OK && r != ARCHIVE_EOF)
		rc = recbundle_altered(b, "the tar is damaged after %zu "
		    "member(s): %s", n, recbundle_aerr(a));
	archive_read_free(a);
	return (rc);
}

/* MANIFEST: "HEX  NAME" (or "HEX *NAME") per line, one per other member. */
int
recbundle_check_manifest(struct recbundle *b)
{
	const char *p = (const char *)b->m[RECBUNDLE_P_MANIFEST].data;
	const char *end = p + b->m[RECBUNDLE_P_MANIFEST].len, *nl, *name;
	int listed[RECBUNDLE_PARTS] = { 0 };
	char vname[96];
	size_t i, nlen;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return (recbundle_altered(b, "MANIFEST does not end "
			    "with a line break"));
		if (nl - p < RECBUNDLE_HEX_LEN + 3 ||
		    p[RECBUNDLE_HEX_LEN] != ' ' ||
		    (p[RECBUNDLE_HEX_LEN + 1] != ' ' &&
		    p[RECBUNDLE_HEX_LEN + 1] != '*'))
			return (recbundle_altered(b, "MANIFEST has a line that "
			    "is not \"SHA256  NAME\""));
		name = p + RECBUNDLE_HEX_LEN + 2;
		nlen = (size_t)(nl - name);
		for (i = 0; i < RECBUNDLE_P_MANIFEST; i++)
			if (strlen(b->m[i].name) == nlen &&
			    memcmp(b->m[i].name, name, nlen) == 0)
				break;
		if (i == RECBUNDLE_P_MANIFEST) {
			text_clean_buf(vname, sizeof(vname), name, nlen,
			    TEXT_ESCAPE | TEXT_ELLIPSIS);
			return (recbundle_altered(b, "MANIFEST lists %s, which "
			    "is not a bundle member", vname));
		}
		if (listed[i]++)
			return (recbundle_altered(b, "MANIFEST lists %s twice",
			    b->m[i].name));
		if (memcmp(p, b->m[i].sha, RECBUNDLE_HEX_LEN) != 0)
			return (recbundle_altered(b, "%s does not match its "
			    "SHA-256 in MANIFEST (the member or the MANIFEST "
			    "was changed)", b->m[i].name));
		p = nl + 1;
	}
	for (i = 0; i < RECBUNDLE_P_MANIFEST; i++)
		if (!listed[i])
			return (recbundle_altered(b, "MANIFEST does not list "
			    "%s", b->m[i].name));
	return (RECBUNDLE_OK);
}

int
recbundle_check_sig(struct recbundle *b, const struct reckey *pub,
    const char *fp)
{
	const struct recbundle_member *m = &b->m[RECBUNDLE_P_MANIFEST];
	uint8_t *msg = NULL;
	size_t len;
	int r;

	if (b->m[RECBUNDLE_P_SIG].len != REC_SIG_LEN)
		return (recbundle_altered(b, "%s is not a %d-byte Ed25519 "
		    "signature", RECBUNDLE_SIG, REC_SIG_LEN));
	if (recbundle_sig_message(m->data, m->len, &msg, &len) != 0)
		return (recbundle_error(b, "out of memory"));
	r = reckey_verify(pub, msg, len, b->m[RECBUNDLE_P_SIG].data);
	free(msg);
	if (r != 0)
		return (recbundle_altered(b, "%s does not verify with the "
		    "recorder key %s: the MANIFEST was changed after the export "
		    "(or signed with another key)", RECBUNDLE_SIG, fp));
	return (RECBUNDLE_OK);
}
