/*
 * ship.h - what the files of bastion-ship share: the program that copies
 * every sealed recording from this node's spool (paths.recordings_dir) to
 * an S3-compatible object store that every node and the auditors read,
 * and fetches one back (docs/RECORDING-STORE.md).
 *
 *	sigv4.c		AWS Signature Version 4 with OpenSSL's HMAC and
 *			SHA-256: the canonical request, the string to sign,
 *			the Authorization header (pure; unit-tested against
 *			AWS's published examples)
 *	s3.c		PUT and GET of one object with libcurl (path-style
 *			URLs, https except to loopback, bounded answers), the
 *			credentials file
 *	shipper.c	one pass over the spool: sealed recordings shipped,
 *			read back and compared, written into the ledger,
 *			audited; backoff per recording; local retention
 *	fetch.c		a recording by session id from the store into a
 *			directory, its size and SHA-256 checked; whether
 *			the store has some ids (list)
 *	ssandbox.c	its system call filter (base/scfilter.h), installed
 *			before the first request
 *	bastion-ship.c	the program: options, the loop, signals
 *
 * Object keys (all under the policy's prefix, when it has one):
 *	NODE/YYYY/MM/SESSIONID.brec	the recording, as sealed
 *	by-id/SESSIONID			"KEY SIZE SHA256HEX\n": where it is,
 *					so that any node finds it by id
 *					("KEY SIZE SHA256HEX cut\n": never
 *					sealed, cut by a crash)
 */
#ifndef BASTION_SHIP_H
#define BASTION_SHIP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SHIP_SHA256_HEX		65		/* 64 hex digits and NUL */
#define SHIP_KEY_MAX		512		/* an object key */
#define SHIP_ID_MAX		64		/* a recording's session id */
#define SHIP_SECRET_MAX		128		/* an access key, a secret */
#define SHIP_MAX_HEADERS	8

/* ---- sigv4.c ------------------------------------------------------------ */

struct sigv4_header {
	const char *name;		/* lower case */
	const char *value;		/* trimmed by the signer */
};

struct sigv4_req {
	const char *method;		/* "PUT", "GET" */
	const char *path;		/* the canonical URI, already encoded
					   (sigv4_uri_encode) */
	const char *query;		/* the canonical query string: sorted
					   and encoded, "" for none */
	const struct sigv4_header *headers;	/* every header to sign, host
					   included, in any order */
	size_t nheaders;		/* at most SHIP_MAX_HEADERS */
	const char *payload_hash;	/* hex SHA-256 of the body, or
					   "UNSIGNED-PAYLOAD" */
	const char *amz_date;		/* YYYYMMDDTHHMMSSZ (x-amz-date) */
	const char *region;
	const char *service;		/* "s3" */
	const char *access_key;
	const char *secret_key;
};

/*
 * URI-encode in as SigV4 wants it (RFC 3986 unreserved characters kept,
 * everything else %XX in capitals; '/' kept when keep_slash) into out.
 * 0, or -1 when out (outlen bytes) is too small.
 */
int sigv4_uri_encode(const char *in, int keep_slash, char *out,
    size_t outlen);

/*
 * The Authorization header's value for r ("AWS4-HMAC-SHA256
 * Credential=..., SignedHeaders=..., Signature=...") into auth; the
 * signature alone (64 hex digits) into sig when it is not NULL. Header
 * names must be lower case and distinct. 0, or -1 (too many or bad
 * headers, a field too long, OpenSSL failed); nothing secret is left on
 * the stack.
 */
int sigv4_sign(const struct sigv4_req *r, char *auth, size_t authlen,
    char sig[SHIP_SHA256_HEX]);

/* "YYYYMMDDTHHMMSSZ" of t (UTC) into out (17 bytes). */
void sigv4_amz_date(time_t t, char out[17]);

/* ---- s3.c --------------------------------------------------------------- */

struct policy_recstore;

struct s3 {
	char base[512];			/* scheme://host[:port], no '/' at
					   the end */
	char host[300];			/* the Host header: host[:port] */
	char bucket[64];
	char region[64];
	char prefix[256];		/* "" or "PREFIX/" */
	char access_key[SHIP_SECRET_MAX];
	char secret_key[SHIP_SECRET_MAX];
	char ca_file[512];		/* "" for the system's CAs */
	long timeout_ms;		/* each request, default 60 s */
	time_t clock_skew;		/* tests: added to the signing time */
};

/*
 * Fill s from the policy's recordings: store (endpoint checked again with
 * curl's URL parser: https, or http to a loopback address) and read the
 * credentials file: lines "access_key_id = ..." and "secret_access_key =
 * ..." (blank lines and # comments allowed), a regular file of this user
 * that no one else may read. 0, or -1 with what is wrong in err.
 */
int s3_open(struct s3 *s, const struct policy_recstore *rs, char *err,
    size_t errlen);
/* Wipe the secrets. */
void s3_close(struct s3 *s);
/*
 * The credentials file's text (NUL-terminated, changed in place) into
 * s->access_key and s->secret_key: 0, or -1 with the line and what is
 * wrong in err. The access key is letters and digits only.
 */
int s3_credentials_parse(struct s3 *s, char *text, char *err, size_t errlen);
/*
 * The <Code> of an S3 error body (NUL-terminated, untrusted) into out:
 * 1 to 64 letters and digits, or "" when the body has no such code.
 */
void s3_error_code(const char *body, char *out, size_t outlen);

/* The outcome of one request. */
struct s3_result {
	long status;			/* HTTP status, 0 when none came */
	uint64_t bytes;			/* body bytes received (GET) */
	uint8_t sha256[32];		/* their SHA-256 (GET) */
	char why[256];			/* failure: "HTTP 403
					   SignatureDoesNotMatch", a curl
					   error, ... */
};

/*
 * PUT key (without the prefix: s3 adds it) with the size bytes of fd from
 * offset 0, whose hex SHA-256 is sha_hex (signed as the payload hash, so
 * the store can check it). 0 on HTTP 200, else -1 with res->why.
 */
int s3_put_fd(const struct s3 *s, const char *key, int fd, uint64_t size,
    const char *sha_hex, struct s3_result *res);
/* The same for a small buffer (the by-id index). */
int s3_put_mem(const struct s3 *s, const char *key, const void *p,
    size_t n, struct s3_result *res);
/*
 * GET key: the body is hashed (res->sha256, res->bytes) and, when outfd
 * is not -1, written to outfd; more than max bytes ends the transfer
 * (failure). 0 on HTTP 200, else -1 with res->why.
 */
int s3_get(const struct s3 *s, const char *key, int outfd, uint64_t max,
    struct s3_result *res);

/* ---- shipper.c ---------------------------------------------------------- */

struct policy;
struct reckey;

#define SHIP_RETRY_MAX_S	3600	/* the longest backoff */
#define SHIP_TRACK_MAX		4096	/* recordings with failures tracked */

struct ship_track {
	char id[SHIP_ID_MAX + 1];
	unsigned tries;
	time_t next;			/* no try before */
};

struct shipper {
	const struct policy *pol;
	struct s3 s3;
	const struct reckey *pub;	/* the recorder's public key: only
					   what verifies as sealed ships */
	char ledger[512];		/* the ledger directory */
	struct ship_track *track;	/* SHIP_TRACK_MAX entries */
	size_t ntrack;
};

/* The counts of one pass. */
struct ship_stats {
	unsigned shipped, failed, waiting, removed;
};

/*
 * Ready sh for passes: the ledger directory (created 0750), the S3
 * settings. 0, or -1 with err.
 */
int shipper_init(struct shipper *sh, const struct policy *pol,
    const struct reckey *pub, char *err, size_t errlen);
void shipper_free(struct shipper *sh);

/*
 * One pass at time now: every recording of the spool that is sealed
 * (read-only and, with sh->pub, verifying as sealed) and not in the
 * ledger is shipped unless its backoff runs; then, with keep_local,
 * shipped recordings older than that and unchanged are removed from the
 * spool. Audited: recording.shipped, recording.ship_failed,
 * recording.removed. Counts into *st.
 */
void shipper_pass(struct shipper *sh, time_t now, struct ship_stats *st);

/* The object key of a recording: "NODE/YYYY/MM/ID.brec" (without the
 * prefix). 0, or -1 for an id that is not a session id. */
int ship_object_key(const char *node, const char *id, char *out,
    size_t outlen);
/* 1 when id is a recording's session id (YYYYMMDDTHHMMSSZ-hex...). */
int ship_id_ok(const char *id);

/* ---- fetch.c ------------------------------------------------------------ */

#define SHIP_INDEX_MAX		1024	/* a by-id entry */

#define SHIP_INDEX_CUT		"cut"	/* the by-id entry's mark of a
					   recording cut by a crash */
#define SHIP_LIST_MAX		100	/* ids one `list` answers */

/*
 * A by-id entry (text, len bytes, from the store: untrusted) for id:
 * "KEY SIZE SHA256HEX\n" or "KEY SIZE SHA256HEX cut\n" with KEY ending
 * in "/ID.brec", without "..", not starting with '/'. 0 with KEY in key,
 * SIZE, the lower-case hex in sha and *cut (may be NULL) 1 for a cut
 * recording; -1 for anything else.
 */
int ship_index_parse(const char *id, const char *text, size_t len,
    char *key, size_t keylen, unsigned long long *size,
    char sha[SHIP_SHA256_HEX], int *cut);

/* A by-id entry, parsed. */
struct ship_entry {
	char key[SHIP_KEY_MAX];
	unsigned long long size;
	char sha[SHIP_SHA256_HEX];
	int cut;			/* never sealed: verifies up to its last
					   checkpoint */
};

/*
 * The store's by-id entry of recording id into *e: 1 when the store has
 * it, 0 when the store says it has not (HTTP 404), -1 with err for
 * anything else (the store down, a bad entry, a bad id).
 */
int ship_lookup(const struct s3 *s, const char *id, struct ship_entry *e,
    char *err, size_t errlen);

/*
 * `list`: one line per id on stdout, "ID sealed KEY", "ID cut KEY", "ID
 * absent" or "ID error WHY" (at most SHIP_LIST_MAX ids). 0 when the store
 * answered for every id, else 1.
 */
int ship_list(const struct s3 *s, int n, char *const ids[]);

/*
 * Fetch recording id from the store into dir/ID.brec (created, never
 * overwritten), after its by-id entry: size and SHA-256 must match.
 * 0 with the path in out, or -1 with err.
 */
int ship_fetch(const struct s3 *s, const char *id, const char *dir,
    char *out, size_t outlen, char *err, size_t errlen);

/* ---- ssandbox.c --------------------------------------------------------- */

/*
 * Install bastion-ship's system call filter in the calling process (no
 * other thread running yet), for the store s (its endpoint decides the
 * socket families): from then on only what shipping and fetching need;
 * anything else names the call on standard error and kills the process
 * (SIGSYS). 0, or BERR_SYS (logged): the caller exits without touching
 * the network (fail closed).
 */
int ship_sandbox(const struct s3 *s);

#endif
