/*
 * recnotary.h - what makes an evidence bundle hold together: the session's
 * audit lines, and the recorder's check before it signs the bundle's
 * MANIFEST (the bundle's layout, writer and reader are in recbundle.h).
 *
 * An evidence bundle (docs/AUDIT.md, "Evidence bundle") is written by the
 * auditor console's `export` (bastion/auditor.c), a process that talks to
 * an auditor over the network and so never holds the recording signing
 * key. Only bastion-recorder does. So the exporter writes the members and
 * their MANIFEST, then asks the recorder to sign that MANIFEST (recproto
 * NOTARIZE). The recorder is no blind signing oracle: before it signs it
 * recomputes, from its own files, the hashes the MANIFEST lists for
 *
 *	recording.brec	the recording file it wrote (RECDIR/YYYY/MM/DD/ID);
 *			or, for another node's recording, the copy the
 *			console fetched from the object store
 *			(STATE_DIR/fetched/ID.brec), once it verifies with
 *			this recorder's own key (the nodes share it)
 *	recorder.pub	its own public key
 *	audit.log	the session's lines of the audit chain (the chain it
 *			appends to, -a STATE_DIR), up to the seq the exporter
 *			read to
 *
 * and refuses if one differs. approval.json and export.txt are the
 * exporter's statements: the signature fixes them as exported, it does not
 * make them true. With the signature, no member can be changed, added, cut
 * or dropped after the export without the recorder's key: a recording cut
 * back to a checkpoint no longer matches the signed MANIFEST, and the
 * recorder's recording.sealed line (frames and head of the sealed file)
 * cannot be taken out of audit.log.
 */
#ifndef BASTION_RECNOTARY_H
#define BASTION_RECNOTARY_H

#define RECNOTARY_FETCHED	"fetched"	/* STATE_DIR/fetched: other
						   nodes' recordings */

#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"

/*
 * The session's lines of the audit chain at chain (docs/AUDIT.md section
 * 6, auditlog_sel_*), each with its newline, exactly as in the chain, into
 * a new *out (*outlen bytes, NUL-terminated; caller frees; *out NULL on
 * entry and on failure). Only lines with seq <= max_seq are read (learnt
 * from or taken); UINT64_MAX reads all, and *last_seq (may be NULL) is
 * set to the highest seq read, so that a second reader later can take the
 * same lines however much the chain has grown. *nlines (may be NULL):
 * lines taken. A chain that does not exist gives no lines. A torn last
 * line is not read. 0; BERR_LIMIT past RECBUNDLE_AUDIT_MAX bytes;
 * BERR_NOMEM; what the reader says (BERR_SYS, BERR_LIMIT).
 */
int recnotary_audit_lines(const char *chain, const char *ref,
    const char *recid, uint64_t max_seq, char **out, size_t *outlen,
    uint64_t *nlines, uint64_t *last_seq);

/*
 * The recorder's check before it signs (runs on its thread pool: it reads
 * the whole recording and the chain). recdir: its -d; state_dir: its -a
 * (NULL: it cannot vouch for audit.log and refuses); pub_pem: its public
 * key as recorder.pub holds it; manifest: what the exporter asks it to
 * sign; chain_seq: the last chain seq the exporter read. 0 when every
 * hash the recorder can check is right; else a BERR_* and why (a sentence
 * for the auditor, NUL-terminated).
 */
int recnotary_check(const char *recdir, const char *state_dir,
    const char *pub_pem, const char *recid, const void *manifest,
    size_t mlen, uint64_t chain_seq, char *why, size_t whylen);

/* SHA-256 of the regular file at path (not a link) in lowercase hex: 0,
 * BERR_NOTFOUND, BERR_SYS (errno), BERR_NOMEM or BERR_CRYPTO. */
int recnotary_sha_file(const char *path, char hex[AUDITLOG_HEX_LEN + 1]);

#endif
