/*
 * recbundle.h - the evidence bundle's format in one place: its layout, its
 * MANIFEST and signature, the writer the auditor console's `export` uses
 * and the reader `bastion-verify BUNDLE` uses (docs/AUDIT.md, "Evidence
 * bundle"; the recorder's check before it signs is in recnotary.h).
 *
 * A bundle is a POSIX pax tar whose members all sit in one directory
 * RECBUNDLE_DIR + recording id, in this order:
 *
 *	recording.brec	the recording, byte for byte as on disk
 *	recorder.pub	the recorder's public key (PEM)
 *	approval.json	how the session was let in, from the state store
 *	audit.log	the session's lines of the audit chain
 *	export.txt	one logfmt line about the export
 *	MANIFEST	"SHA256  NAME\n" per member above (sha256sum format)
 *	MANIFEST.sig	the recorder's Ed25519 signature (64 raw bytes) over
 *			RECBUNDLE_SIG_CONTEXT, a NUL and the MANIFEST
 *
 * so that, in the extracted directory, `sha256sum -c MANIFEST` and
 *
 *	printf 'bastion-evidence-v2 manifest\0' | cat - MANIFEST > m
 *	openssl pkeyutl -verify -pubin -inkey recorder.pub -rawin -in m \
 *	    -sigfile MANIFEST.sig
 *
 * check it by hand. A bundle read back is untrusted input: the reader
 * takes at most RECBUNDLE_MAX_MEMBERS regular files, each named
 * DIR/NAME with NAME one of the seven, none twice, each within its size
 * limit, and keeps exactly the bytes declared (the recording spooled to a
 * temporary file, the others in memory).
 */
#ifndef BASTION_RECBUNDLE_H
#define BASTION_RECBUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recfmt.h"

#define RECBUNDLE_FORMAT	"bastion-evidence-v2"
#define RECBUNDLE_SIG_CONTEXT	"bastion-evidence-v2 manifest"
#define RECBUNDLE_DIR		"bastion-evidence-"
#define RECBUNDLE_RECORDING	"recording.brec"
#define RECBUNDLE_PUBKEY	"recorder.pub"
#define RECBUNDLE_APPROVAL	"approval.json"
#define RECBUNDLE_AUDIT		"audit.log"
#define RECBUNDLE_EXPORT	"export.txt"
#define RECBUNDLE_MANIFEST	"MANIFEST"
#define RECBUNDLE_SIG		"MANIFEST.sig"
/* MANIFEST: one "HEX  NAME\n" line per member below, in this order */
#define RECBUNDLE_MEMBERS	5
#define RECBUNDLE_MANIFEST_MAX	4096
/* what a reader accepts (untrusted input) */
#define RECBUNDLE_MAX_MEMBERS	16
#define RECBUNDLE_NAME_MAX	200
#define RECBUNDLE_RECORDING_MAX	(64ULL << 30)
#define RECBUNDLE_AUDIT_MAX	(16U << 20)
#define RECBUNDLE_SMALL_MAX	(1U << 20)
#define RECBUNDLE_HEX_LEN	64	/* a SHA-256 in lowercase hex */
/* the exporter waits this long for the signature, plus the time to read
 * the recording at RECBUNDLE_READ_MIB_S (the recorder hashes it) */
#define RECBUNDLE_WAIT_MS	30000
#define RECBUNDLE_READ_MIB_S	20

/* The parts of a bundle, in the order they are written. */
enum recbundle_part {
	RECBUNDLE_P_RECORDING, RECBUNDLE_P_PUBKEY, RECBUNDLE_P_APPROVAL,
	RECBUNDLE_P_AUDIT, RECBUNDLE_P_EXPORT,	/* listed in the MANIFEST */
	RECBUNDLE_P_MANIFEST, RECBUNDLE_P_SIG,
	RECBUNDLE_PARTS
};

/* The members a MANIFEST lists, in order. */
extern const char *const recbundle_members[RECBUNDLE_MEMBERS];
/* The name of a part ("recording.brec"); NULL for a bad one. */
const char *recbundle_part_name(enum recbundle_part p);

/* The bytes the MANIFEST signature covers: RECBUNDLE_SIG_CONTEXT, NUL,
 * the MANIFEST. *out is new (caller frees); 0 or BERR_NOMEM. */
int recbundle_sig_message(const void *manifest, size_t len, uint8_t **out,
    size_t *outlen);

/* The recording file of recid below recdir (RECDIR/YYYY/MM/DD/ID.brec).
 * 0; BERR_INVAL for an id that is no recorder session id; BERR_LIMIT. */
int recbundle_recording_path(const char *recdir, const char *recid,
    char *out, size_t outlen);

/* Lowercase hex SHA-256 of len bytes at p. 0 or BERR_CRYPTO. */
int recbundle_sha_mem(const void *p, size_t len,
    char hex[RECBUNDLE_HEX_LEN + 1]);

/* ---- writing ----------------------------------------------------------- */

struct recbundle_writer;

/* Where the tar's bytes go: 0 when all len bytes were taken, else -1. */
typedef int (*recbundle_write_fn)(void *arg, const void *buf, size_t len);

/*
 * A writer of the bundle of recording recid, streaming the tar to fn(arg,
 * ...). *out is NULL on entry and on failure (BERR_INVAL: recid is no
 * recorder session id; BERR_NOMEM; BERR_SYS: libarchive refused).
 */
int recbundle_writer_new(const char *recid, recbundle_write_fn fn, void *arg,
    struct recbundle_writer **out);
/*
 * Write member p (RECBUNDLE_P_RECORDING .. RECBUNDLE_P_EXPORT, in order)
 * of size bytes from mem, or, when mem is NULL, read from fd; its SHA-256
 * goes into the MANIFEST. 0; BERR_TRUNC (fd ended early); BERR_LIMIT;
 * BERR_INVAL (out of order); BERR_SYS (the tar could not be written:
 * recbundle_writer_error() says why).
 */
int recbundle_writer_add(struct recbundle_writer *w, enum recbundle_part p,
    const void *mem, int fd, uint64_t size);
/* The MANIFEST so far (what the recorder is asked to sign). */
const char *recbundle_writer_manifest(const struct recbundle_writer *w,
    size_t *len);
/* Write MANIFEST and, when sig is not NULL, MANIFEST.sig (REC_SIG_LEN
 * bytes), and end the tar. 0 or as recbundle_writer_add(). */
int recbundle_writer_finish(struct recbundle_writer *w, const uint8_t *sig);
/* Why the tar could not be written ("out of memory" if unknown). */
const char *recbundle_writer_error(const struct recbundle_writer *w);
/* recbundle_writer_free(NULL) is a no-op. */
void recbundle_writer_free(struct recbundle_writer *w);

/* ---- reading ----------------------------------------------------------- */

/* recbundle_read() and the checks return one of these. */
#define RECBUNDLE_OK		0
#define RECBUNDLE_ALTERED	1	/* b->why says why */
#define RECBUNDLE_ERROR		3	/* not read: b->err says why */

struct recbundle_member {
	const char *name;
	uint64_t max;
	uint8_t *data;		/* NUL-terminated; the recording: NULL */
	size_t len;
	int seen;
	char sha[RECBUNDLE_HEX_LEN + 1];
};

struct recbundle {
	struct recbundle_member m[RECBUNDLE_PARTS];
	FILE *rec;		/* the recording, spooled to a temporary file */
	char dir[RECBUNDLE_NAME_MAX + 1];
	char why[600];		/* why it is altered (the first reason) */
	int altered;
	char err[600];		/* why it could not be read */
};

/* Set up b to read a bundle. */
void recbundle_init(struct recbundle *b);
/* Free what b holds (not b). */
void recbundle_clear(struct recbundle *b);
/*
 * Read the tar at file ("-": standard input; shown: its name for
 * messages) into b, within the limits above. RECBUNDLE_OK (each member
 * present has its bytes and SHA-256), RECBUNDLE_ALTERED (b->why: a member
 * that may not be there, cut short, too large, a damaged tar), or
 * RECBUNDLE_ERROR (b->err: cannot be opened, is no tar, no room to spool).
 */
int recbundle_read(struct recbundle *b, const char *file, const char *shown);
/* MANIFEST lists each other member once, with its SHA-256, and nothing
 * else. RECBUNDLE_OK or RECBUNDLE_ALTERED. */
int recbundle_check_manifest(struct recbundle *b);
struct reckey;
/* MANIFEST.sig is the recorder's signature over the MANIFEST with pub
 * (fingerprint fp, for the message). RECBUNDLE_OK, RECBUNDLE_ALTERED or
 * RECBUNDLE_ERROR (out of memory). */
int recbundle_check_sig(struct recbundle *b, const struct reckey *pub,
    const char *fp);
/* Note why b is altered (the first reason is kept); RECBUNDLE_ALTERED. */
int recbundle_altered(struct recbundle *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
