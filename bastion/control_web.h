/*
 * control_web.h - the web control worker's parts (bastion/control_web*.c):
 * one request of bastion-webd on RUN_DIR/web.sock, control protocol v2
 * (proto/ctlproto.h, docs/WEB.md). control_web.c reads the request,
 * resolves the session token and runs verbs, prepare and commit;
 * control_web_auth.c signs people in and enrols their keys (WebAuthn with
 * proto/webauthn.c, then PAM service "bastion-web"); control_web_report.c
 * makes the month's report for an auditor (bastionctl's, as JSON or CSV).
 */
#ifndef BASTION_CONTROL_WEB_H
#define BASTION_CONTROL_WEB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlproto.h"
#include "policy.h"
#include "state.h"
#include "webauthn.h"

#define WEB_FD			3
#define WEB_IDLE_S		(15 * 60)	/* a session unused this long ends */
#define WEB_ABS_S		(8 * 3600)	/* and every session after this */
#define WEB_CHALLENGE_S		120		/* a challenge is good this long */
#define WEB_CODE_S		600		/* an enrolment code */
#define WEB_HASH_HEX		65		/* hex SHA-256 and its NUL */

/* control.c: the verbs' streams as frames on the socket, shared by both
 * control workers. */
struct control_stream {
	int fd;
	int type;
	int broken;
};
/* What control_cancelled() looks at: the socket and both streams on it. */
struct control_peer {
	int fd;
	const struct control_stream *out, *err;
};
/* A line-buffered FILE writing frames of type on fd through cs. */
FILE *control_stream_open(struct control_stream *cs, int fd, int type);
/* The start of both workers: logging to ident, SIGPIPE ignored, the
 * socket on fd 3 made blocking. 0 or BERR_SYS (logged). */
int control_worker_init(const char *ident, int debug);
/* verb_ctx.cancelled: 1 once the peer of arg (a control_peer) left. */
int control_cancelled(void *arg, unsigned wait_ms);

/* One request being served. */
struct web {
	const struct policy *pol;
	const char *policy_path;	/* what bastionctl report reads */
	struct state *st;
	struct ctlp_req *req;
	const char *from;		/* webd's word for the browser ("" if
					 * none) */
	/* set by the token's check (control_web.c) */
	struct state_web_session ws;
	const struct policy_person *person;
	enum policy_role role;
};

/* control_web_report.c: "report WORDS" for an auditor, with c's streams;
 * the exit status. */
struct verb_ctx;
int web_report(const struct web *w, struct verb_ctx *c, int argc,
    char **argv);

/* Frames: an error line and the exit status; the exit status alone. */
void web_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void web_exit(int code);

/* Hashes and spellings. */
void web_sha256_hex(const void *p, size_t n, char out[WEB_HASH_HEX]);
/* Unpadded base64url of p into out (outlen >= 4 * n / 3 + 4). */
void web_b64url(const void *p, size_t n, char *out, size_t outlen);
/* Decode base64url s (slen bytes) into out (cap): 0 with *n, or
 * BERR_FORMAT / BERR_LIMIT. */
int web_b64url_dec(const char *s, size_t slen, uint8_t *out, size_t cap,
    size_t *n);
/* The challenge a clientDataJSON of type names (bounded scan of the
 * fixed prefix; the full limited verification comes later). */
int web_cdj_challenge(const uint8_t *cd, size_t len, const char *type,
    uint8_t ch[CTLP_CHALLENGE_LEN]);

/* The fingerprint of a credential for key_counter and key locks:
 * "webauthn:" + base64url(SHA-256(credential id)). */
#define WEB_FP_MAX	64
void web_cred_fp(const uint8_t *id, size_t idlen, char out[WEB_FP_MAX]);

/* The admin or auditor called name, active in the current policy (NULL
 * for anyone else: engineers, disabled, expired, unknown; *role says
 * what name is in the policy). */
const struct policy_person *web_staff(const struct policy *pol,
    const char *name, enum policy_role *role);

/*
 * Check the assertion a (from the "assert" attribute) for person and
 * challenge ch: the credential is one of person's, the signature verifies
 * for the policy's origin and rpId, its counter advances (a step back
 * locks the credential). 0, or BERR_AUTH with *why; *cred and *counter
 * filled as far as known.
 */
int web_assertion_check(struct web *w, const char *person,
    const uint8_t ch[CTLP_CHALLENGE_LEN], const struct ctlp_assertion *a,
    struct state_web_cred *cred, uint32_t *counter, const char **why);

/* control_web_auth.c: the pseudo-verbs without a token */
int web_login_begin(struct web *w, int argc, char **argv);
int web_login_finish(struct web *w, int argc, char **argv);
int web_enroll_begin(struct web *w, int argc, char **argv);
int web_enroll_finish(struct web *w, int argc, char **argv);

#endif
