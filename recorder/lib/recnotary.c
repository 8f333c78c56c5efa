/*
 * recnotary.c - the session's audit lines and the recorder's check before
 * it signs a bundle's MANIFEST (see recnotary.h; the bundle's format is in
 * recbundle.c).
 *
 * The exporter and the recorder take the audit lines with the same code
 * (recnotary_audit_lines), bounded by the same last seq, so that both come
 * to the same bytes although the chain grows in between. Everything the
 * recorder is asked about is untrusted: the id must be a recorder session
 * id, the MANIFEST must be exactly the five lines the exporter writes, and
 * every file is read through a descriptor checked to be a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "auditlog.h"
#include "err.h"
#include "hex.h"
#include "io.h"
#include "recbundle.h"
#include "recnotary.h"
#include "reckey.h"
#include "recreader.h"
#include "recverify.h"

/* ---- the session's audit lines ---------------------------------------- */

/* One walk over the chain: learn (take == NULL) or take. */
struct recnotary_walk {
	struct auditlog_sel *sel;
	FILE *take;
	uint64_t max_seq, *last_seq, taken;
	size_t bytes;
};

static int
recnotary_line(const struct auditlog_line *l, const char *text, size_t len,
    void *arg)
{
	struct recnotary_walk *w = arg;

	if (l->seq > w->max_seq)
		return (1);	/* appended after the bound was taken */
	if (w->last_seq != NULL && l->seq > *w->last_seq)
		*w->last_seq = l->seq;
	if (w->take == NULL) {
		auditlog_sel_learn(w->sel, l->body, l->bodylen);
		return (0);
	}
	if (!auditlog_sel_match(w->sel, l->body, l->bodylen))
		return (0);
	if (w->bytes + len + 1 > RECBUNDLE_AUDIT_MAX)
		return (BERR_LIMIT);
	if (fwrite(text, 1, len, w->take) != len ||
	    fputc('\n', w->take) == EOF)
		return (BERR_NOMEM);
	w->bytes += len + 1;
	w->taken++;
	return (0);
}

static int
recnotary_walk(const char *chain, struct auditlog_sel *sel, FILE *take,
    uint64_t max_seq, uint64_t *last_seq, uint64_t *taken, size_t *bytes)
{
	struct recnotary_walk w = { sel, take, max_seq, last_seq, 0,
	    bytes != NULL ? *bytes : 0 };
	int r;

	r = auditlog_each(chain, recnotary_line, &w);
	if (taken != NULL)
		*taken += w.taken;
	if (bytes != NULL)
		*bytes = w.bytes;
	return (r);
}

int
recnotary_audit_lines(const char *chain, const char *ref,
    const char *recid, uint64_t max_seq, char **out, size_t *outlen,
    uint64_t *nlines, uint64_t *last_seq)
{
	struct auditlog_sel *sel = NULL;
	struct stat st;
	uint64_t taken = 0, seen = 0;
	size_t bytes = 0;
	FILE *take = NULL;
	int r, pass;

	*out = NULL;
	*outlen = 0;
	if (nlines != NULL)
		*nlines = 0;
	if (last_seq != NULL)
		*last_seq = 0;
	if (stat(chain, &st) != 0 && errno == ENOENT)
		return ((*out = strdup("")) != NULL ? 0 : BERR_NOMEM);
	if ((r = auditlog_sel_new(ref, recid, &sel)) != 0)
		return (r);
	for (pass = 0; pass < AUDITLOG_SEL_PASSES; pass++) {
		if ((r = recnotary_walk(chain, sel, NULL, max_seq,
		    pass == 0 ? &seen : NULL, NULL, NULL)) != 0)
			goto out;
		if (pass == 0 && max_seq == UINT64_MAX)
			max_seq = seen;	/* the later walks stop there too */
		if (!auditlog_sel_changed(sel))
			break;
	}
	if ((take = open_memstream(out, outlen)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	r = recnotary_walk(chain, sel, take, max_seq, NULL, &taken, &bytes);
	if (fclose(take) != 0 && r == 0)
		r = BERR_NOMEM;
	take = NULL;
	if (r == 0) {
		if (nlines != NULL)
			*nlines = taken;
		if (last_seq != NULL)
			*last_seq = max_seq == UINT64_MAX ? 0 : max_seq;
	}
out:
	auditlog_sel_free(sel);
	if (r != 0) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return (r);
}

/* ---- the recorder's check --------------------------------------------- */

int
recnotary_sha_file(const char *path, char hex[AUDITLOG_HEX_LEN + 1])
{
	unsigned char md[32], buf[65536];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	size_t n;
	int fd, r = BERR_SYS;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? BERR_NOTFOUND : BERR_SYS);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = BERR_NOMEM;
		goto out;
	}
	do {
		if (io_read_upto(fd, buf, sizeof(buf), &n) != 0 ||
		    EVP_DigestUpdate(ctx, buf, n) != 1)
			goto out;
	} while (n == sizeof(buf));
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(md)) {
		r = BERR_CRYPTO;
		goto out;
	}
	hex_encode(md, sizeof(md), hex);
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return (r);
}

/* The recording's "ref" header into out ("" if it has none). */
static int
recnotary_ref(const char *path, char *out, size_t outlen)
{
	struct rec_hdr h;
	const char *v;
	int r;

	out[0] = '\0';
	if ((r = recreader_header(path, &h)) == 0 &&
	    (v = recfmt_hdr_get(&h, "ref")) != NULL)
		snprintf(out, outlen, "%s", v);
	recfmt_hdr_clear(&h);
	return (r);
}

/* Exactly the exporter's MANIFEST: one "HEX  NAME\n" per member, in
 * order. 0 with the hashes in hex, or BERR_FORMAT. */
static int
recnotary_manifest_parse(const char *m, size_t len,
    char hex[RECBUNDLE_MEMBERS][AUDITLOG_HEX_LEN + 1])
{
	const char *p = m, *end = m + len;
	size_t i, j, nlen;

	for (i = 0; i < RECBUNDLE_MEMBERS; i++) {
		nlen = strlen(recbundle_members[i]);
		if ((size_t)(end - p) < AUDITLOG_HEX_LEN + 2 + nlen + 1 ||
		    memcmp(p + AUDITLOG_HEX_LEN, "  ", 2) != 0 ||
		    memcmp(p + AUDITLOG_HEX_LEN + 2, recbundle_members[i],
		    nlen) != 0 || p[AUDITLOG_HEX_LEN + 2 + nlen] != '\n')
			return (BERR_FORMAT);
		for (j = 0; j < AUDITLOG_HEX_LEN; j++)
			if (!((p[j] >= '0' && p[j] <= '9') ||
			    (p[j] >= 'a' && p[j] <= 'f')))
				return (BERR_FORMAT);
		memcpy(hex[i], p, AUDITLOG_HEX_LEN);
		hex[i][AUDITLOG_HEX_LEN] = '\0';
		p += AUDITLOG_HEX_LEN + 2 + nlen + 1;
	}
	return (p == end ? 0 : BERR_FORMAT);
}

/*
 * Another node's recording, for an export on this node (docs/SCALE-OUT.md,
 * "Another node's recordings"): not in recdir, but fetched from the
 * object store by the console into STATE_DIR/fetched/ID.brec (bastion-ship
 * checked its size and SHA-256 against the store's entry). This recorder
 * vouches for it only when it verifies with its own key (the nodes share
 * the recording key), sealed or cut by a crash: a recording this recorder
 * could have written. 0 with its path in path, else a BERR_* and why.
 */
static int
recnotary_fetched(const char *state_dir, const char *pub_pem,
    const char *recid, char *path, size_t len, char *why, size_t whylen)
{
	struct recverify_report rep;
	struct reckey *pub = NULL;
	int r, v;

	if ((size_t)snprintf(path, len, "%s/%s/%s.brec", state_dir,
	    RECNOTARY_FETCHED, recid) >= len)
		return (berr_why(why, whylen, BERR_LIMIT, "path too long"));
	if (access(path, F_OK) != 0)
		return (BERR_NOTFOUND);
	if ((r = reckey_from_public_pem(pub_pem, strlen(pub_pem), &pub)) != 0)
		return (berr_why(why, whylen, r, "cannot read this recorder's "
		    "public key"));
	memset(&rep, 0, sizeof(rep));
	v = recverify_file(path, pub, &rep);
	recverify_report_clear(&rep);
	reckey_free(pub);
	if (v != RECVERIFY_OK && v != RECVERIFY_UNSEALED)
		return (berr_why(why, whylen, BERR_DENIED, "the recording "
		    "fetched from the object store (%s) does not verify with "
		    "this recorder's key", path));
	return (0);
}

int
recnotary_check(const char *recdir, const char *state_dir,
    const char *pub_pem, const char *recid, const void *manifest,
    size_t mlen, uint64_t chain_seq, char *why, size_t whylen)
{
	char hex[RECBUNDLE_MEMBERS][AUDITLOG_HEX_LEN + 1];
	char mine[AUDITLOG_HEX_LEN + 1], path[4096], chain[4096], ref[64];
	char *lines = NULL;
	size_t llen = 0;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = recbundle_recording_path(recdir, recid, path,
	    sizeof(path))) != 0)
		return (berr_why(why, whylen, r, "not a recording id"));
	if (recnotary_manifest_parse(manifest, mlen, hex) != 0)
		return (berr_why(why, whylen, BERR_FORMAT, "the MANIFEST "
		    "is not the five lines an export writes"));
	if (state_dir == NULL)
		return (berr_why(why, whylen, BERR_DENIED, "this recorder "
		    "does not keep the audit chain (-a STATE_DIR), so it cannot "
		    "vouch for the bundle's audit lines"));
	/* recorder.pub: our own key */
	if ((r = recbundle_sha_mem(pub_pem, strlen(pub_pem), mine)) != 0)
		return (berr_why(why, whylen, r, "cannot hash"));
	if (strcmp(mine, hex[RECBUNDLE_P_PUBKEY]) != 0)
		return (berr_why(why, whylen, BERR_DENIED, "%s is not this "
		    "recorder's public key", RECBUNDLE_PUBKEY));
	/* recording.brec: the file as we wrote it, or another node's as
	 * fetched (it verifies with our key) */
	if (access(path, F_OK) != 0 && errno == ENOENT && (r =
	    recnotary_fetched(state_dir, pub_pem, recid, path, sizeof(path),
	    why, whylen)) != 0 && r != BERR_NOTFOUND)
		return (r);
	if ((r = recnotary_sha_file(path, mine)) != 0)
		return (berr_why(why, whylen, r, "cannot read the "
		    "recording %s: %s", path, r == BERR_SYS ? strerror(errno) :
		    berr_str(r)));
	if (strcmp(mine, hex[RECBUNDLE_P_RECORDING]) != 0)
		return (berr_why(why, whylen, BERR_DENIED, "%s is not the "
		    "recording this recorder has as %s", RECBUNDLE_RECORDING,
		    path));
	/* audit.log: the session's lines of our chain, up to chain_seq */
	if ((r = recnotary_ref(path, ref, sizeof(ref))) != 0)
		return (berr_why(why, whylen, r, "cannot read the header "
		    "of %s: %s", path, berr_str(r)));
	if (ref[0] == '\0')
		r = recbundle_sha_mem("", 0, mine);	/* no session: no lines */
	else if ((r = auditlog_path_for(state_dir, chain, sizeof(chain))) ==
	    0 && (r = recnotary_audit_lines(chain, ref, recid, chain_seq,
	    &lines, &llen, NULL, NULL)) == 0)
		r = recbundle_sha_mem(lines, llen, mine);
	free(lines);
	if (r != 0)
		return (berr_why(why, whylen, r, "cannot take the session's "
		    "lines from the audit chain: %s", berr_str(r)));
	if (strcmp(mine, hex[RECBUNDLE_P_AUDIT]) != 0)
		return (berr_why(why, whylen, BERR_DENIED, "%s is not the "
		    "session's lines of the audit chain up to seq %llu",
		    RECBUNDLE_AUDIT, (unsigned long long)chain_seq));
	return (0);
}
