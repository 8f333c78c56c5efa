/*
 * ctlproto.h - the local control socket's wire format (bastionctl <->
 * bastiond's control worker).
 *
 * A local admin's bastionctl connects to RUN_DIR/control.sock. bastiond
 * checks the caller's credentials with SO_PEERCRED/SO_PEERGROUPS before a
 * byte is read, then hands the connection to a control worker. The worker
 * is the only reader of the request, which it treats as untrusted:
 *
 *	request  = "BCTL" u8 version(1) u32 argc string[argc]
 *	           (SSH-style strings: u32 length then bytes, no NUL inside)
 *	response = frame*  ending with one 'x' frame
 *	frame    = u8 type u32 length byte[length]
 *	           type 'o': standard output, 'e': standard error,
 *	                'x': exit status (length 1: 0 ok, 1 refused, 2 usage)
 *
 * Output is streamed in frames as the verb writes it, so `watch` works
 * over the socket. Limits below are checked on both sides.
 *
 * Version 2 (RUN_DIR/web.sock only: bastion-webd <-> the web control
 * worker, docs/WEB.md "Control protocol v2") adds named attributes to the
 * request and typed frames to the response:
 *
 *	request2 = "BCTL" u8 version(2) u32 argc string[argc]
 *	           u32 nattr (string name, string value)[nattr]
 *	frame    = as above; types 'o' 'e' 'x' plus
 *	           'j' one JSON value, 't' u64 ms + terminal bytes,
 *	           'c' u8[32] challenge + JSON, 'a' u8[32] token + u64 expiry
 *	           + JSON
 *
 * Attribute names come from a fixed table (ctlp_attr_names in ctlproto.c)
 * each with its own length cap; an unknown or repeated name refuses the
 * whole request. v1 requests and frames are byte-identical to before.
 */
#ifndef BASTION_CTLPROTO_H
#define BASTION_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define CTLP_MAGIC		"BCTL"
#define CTLP_VERSION		1
#define CTLP_MAX_ARGS		64
#define CTLP_MAX_ARG		4096
#define CTLP_MAX_REQUEST	(16 * 1024)
#define CTLP_MAX_FRAME		(64 * 1024)

#define CTLP_OUT	'o'
#define CTLP_ERR	'e'
#define CTLP_EXIT	'x'

/* Encode argv into a request; BERR_LIMIT past the limits above. On success
 * *out is a heap buffer of *len bytes the caller frees. */
int ctlp_request_encode(int argc, char *const argv[], uint8_t **out,
    size_t *len);
/* Decode a request of exactly len bytes. On success *argvp is a
 * NULL-terminated heap vector (free with ctlp_argv_free) of *argcp >= 1
 * words. BERR_FORMAT, BERR_TRUNC or BERR_LIMIT on anything else. */
int ctlp_request_decode(const uint8_t *p, size_t len, char ***argvp,
    int *argcp);
void ctlp_argv_free(char **argv);

/* Read a whole request from fd (bounded by CTLP_MAX_REQUEST; the request
 * ends when the peer shuts down its writing side). */
int ctlp_request_read(int fd, char ***argvp, int *argcp);

/* Write one frame (all of it, retrying short writes and EINTR). Payloads
 * over CTLP_MAX_FRAME are split. */
int ctlp_frame_write(int fd, int type, const void *p, size_t n);
/* Read one frame into buf (cap >= CTLP_MAX_FRAME). BERR_CLOSED at a clean
 * end between frames, BERR_TRUNC inside one, BERR_FORMAT for an unknown
 * type or oversized length. */
int ctlp_frame_read(int fd, int *type, uint8_t *buf, size_t cap, size_t *n);

/* ---- version 2 (web.sock) ------------------------------------------- */

#define CTLP_VERSION2		2
#define CTLP_MAX_ATTRS		16
#define CTLP2_MAX_FRAME		(1024 * 1024)	/* 'j' frames; others 64 KiB */

#define CTLP_JSON	'j'
#define CTLP_TERM	't'
#define CTLP_CHALLENGE	'c'
#define CTLP_AUTH	'a'

#define CTLP_TOKEN_LEN		32
#define CTLP_CHALLENGE_LEN	32

/* Caps of the assertion's parts ("assert" attribute) and of the
 * registration's ("attest"). */
#define CTLP_MAX_CRED_ID	1023
#define CTLP_MAX_AUTHDATA	512
#define CTLP_MAX_CLIENTDATA	1024
#define CTLP_MAX_SIG		80
#define CTLP_MAX_USERHANDLE	64
#define CTLP_MAX_ATTOBJ		8192

/* One attribute: name from the fixed table, value bytes (not terminated;
 * text values are also NUL-free). */
struct ctlp_attr {
	const char	*name;
	const uint8_t	*value;
	size_t		 len;
};

/* A decoded v2 request. Everything is owned by the request;
 * ctlp_req_free() wipes the attribute values (they carry the PAM secret
 * and the token). */
struct ctlp_req {
	int		 argc;
	char		**argv;			/* NULL-terminated */
	size_t		 nattr;
	struct ctlp_attr attr[CTLP_MAX_ATTRS];
	uint8_t		*raw;			/* the request bytes */
	size_t		 rawlen;
};

/* A WebAuthn assertion as the "assert" attribute carries it: five SSH
 * strings cred_id, authenticatorData, clientDataJSON, signature,
 * userHandle (each within its cap above; userHandle may be empty). The
 * pointers point into the decoded value. */
struct ctlp_assertion {
	const uint8_t	*cred_id;	size_t cred_id_len;
	const uint8_t	*authdata;	size_t authdata_len;
	const uint8_t	*clientdata;	size_t clientdata_len;
	const uint8_t	*sig;		size_t sig_len;
	const uint8_t	*user;		size_t user_len;
};

/* A registration as the "attest" attribute carries it: two SSH strings
 * attestationObject (CBOR, <= CTLP_MAX_ATTOBJ) and clientDataJSON. */
struct ctlp_attestation {
	const uint8_t	*attobj;	size_t attobj_len;
	const uint8_t	*clientdata;	size_t clientdata_len;
};

/* Encode a v2 request: argv as v1, then nattr attributes (names must be in
 * the table, values within their caps, no name twice: else BERR_LIMIT or
 * BERR_INVAL). *out is a heap buffer of *len bytes the caller frees. */
int ctlp_request2_encode(int argc, char *const argv[],
    const struct ctlp_attr *attr, size_t nattr, uint8_t **out, size_t *len);
/* Decode a v2 request of exactly len bytes into *out (NULL on entry and
 * on failure; free with ctlp_req_free). BERR_FORMAT for a wrong magic or
 * version, an unknown or repeated attribute, a bad value or trailing
 * bytes; BERR_TRUNC, BERR_LIMIT. */
int ctlp_request2_decode(const uint8_t *p, size_t len, struct ctlp_req **out);
/* Read a whole v2 request from fd as ctlp_request_read does. */
int ctlp_request2_read(int fd, struct ctlp_req **out);
void ctlp_req_free(struct ctlp_req *r);
/* The attribute called name, or NULL. */
const struct ctlp_attr *ctlp_req_attr(const struct ctlp_req *r,
    const char *name);
/* The value of a text attribute as a new NUL-terminated string (*out NULL
 * if absent); BERR_NOMEM. */
int ctlp_req_attr_str(const struct ctlp_req *r, const char *name,
    char **out);

/* The "assert" and "attest" values: encode appends to b; decode checks the
 * caps and that nothing follows (BERR_FORMAT / BERR_LIMIT / BERR_TRUNC). */
int ctlp_assertion_encode(struct buf *b, const struct ctlp_assertion *a);
int ctlp_assertion_decode(const uint8_t *p, size_t len,
    struct ctlp_assertion *a);
int ctlp_attestation_encode(struct buf *b, const struct ctlp_attestation *a);
int ctlp_attestation_decode(const uint8_t *p, size_t len,
    struct ctlp_attestation *a);

/* Typed frames (the worker's side). 'j' is one frame of at most
 * CTLP2_MAX_FRAME bytes (BERR_LIMIT past it, never split); 't' frames
 * longer than CTLP_MAX_FRAME are split, each part with the same ms. */
int ctlp_json_write(int fd, const void *json, size_t n);
int ctlp_term_write(int fd, uint64_t ms, const void *p, size_t n);
int ctlp_challenge_write(int fd, const uint8_t ch[CTLP_CHALLENGE_LEN],
    const char *json);
int ctlp_auth_write(int fd, const uint8_t token[CTLP_TOKEN_LEN],
    uint64_t expiry, const char *json);

/* Parse one v2 frame from the start of p (len bytes, e.g. what a
 * non-blocking reader has so far). 0: *type, *payload (into p), *plen and
 * *used (header + payload) set. BERR_AGAIN: not all of it is there yet.
 * BERR_FORMAT: unknown type, a length over the type's limit, or a payload
 * of the wrong shape ('x' not 1 byte, 't' under 8, 'c' under 32, 'a'
 * under 40). */
int ctlp_frame2_parse(const uint8_t *p, size_t len, int *type,
    const uint8_t **payload, size_t *plen, size_t *used);
/* Read one v2 frame from a blocking fd into buf (cap >= CTLP2_MAX_FRAME);
 * errors as ctlp_frame_read. */
int ctlp_frame2_read(int fd, int *type, uint8_t *buf, size_t cap,
    size_t *n);
/* Payload decoders for 't', 'c', 'a' (pointers into the payload). */
int ctlp_term_decode(const uint8_t *p, size_t n, uint64_t *ms,
    const uint8_t **bytes, size_t *blen);
int ctlp_challenge_decode(const uint8_t *p, size_t n,
    uint8_t ch[CTLP_CHALLENGE_LEN], const uint8_t **json, size_t *jlen);
int ctlp_auth_decode(const uint8_t *p, size_t n,
    uint8_t token[CTLP_TOKEN_LEN], uint64_t *expiry, const uint8_t **json,
    size_t *jlen);

#endif
