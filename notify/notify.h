/*
 * notify.h - what the files of bastion-notify share: the helper a
 * connection's monitor runs, demoted to its own user, when an engineer's
 * request waits for an admin (docs/APPROVALS.md, "Notifications").
 *
 * The monitor gives the request as JSON on stdin and the policy's
 * approval.notify settings as options (already validated by the policy
 * loader); bastion-notify sends a mail through a sendmail-compatible
 * command and/or a signed webhook, and writes one result line per kind
 * on stdout ("sent mail", "failed webhook REASON") for the monitor to
 * audit. Nothing it does can hold up or change the request.
 *
 *	mail.c		the message: RFC 5322 headers, RFC 2047 Subject,
 *			UTF-8 body in base64, Japanese and English
 *	sign.c		HMAC-SHA256 (OpenSSL EVP_MAC), the signature
 *			header's value, delivery ids
 *	webhook.c	the POST with libcurl: https only, no redirects,
 *			bounded tries within a deadline
 *	bastion-notify.c the program: options, the request, the mail
 *			command (words, no shell), the result lines
 */
#ifndef BASTION_NOTIFY_H
#define BASTION_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define NOTIFY_MAX_TO		32	/* mail recipients */
#define NOTIFY_MAX_NAME		128	/* engineer, vendor, device */
#define NOTIFY_MAX_REASON	1024	/* the engineer's reason, bytes */
#define NOTIFY_MAX_MAIL		(64 * 1024)	/* the built message */
#define NOTIFY_SECRET_MAX	1024	/* webhook secret file, bytes */
#define NOTIFY_MAX_PATH		4097	/* a file request's path, with NUL */

/*
 * The request as the monitor filed it (the fields the messages show): a
 * session request (kind absent from the JSON), or a file export request
 * ("kind": "file_export", docs/FILES.md "Export approval") with the
 * file's path, size and SHA-256 and no reason. Their numbers are of two
 * lists (requests, file-requests).
 */
struct notify_req {
	int file;			/* a file export request */
	long long id;
	long long created;		/* Unix seconds */
	char engineer[NOTIFY_MAX_NAME];
	char vendor[NOTIFY_MAX_NAME];
	char device[NOTIFY_MAX_NAME];
	char reason[NOTIFY_MAX_REASON];	/* vendor-supplied: body only */
	char path[NOTIFY_MAX_PATH];	/* file: vendor-supplied, body only */
	long long size;			/* file: bytes */
	char sha256[65];		/* file: lowercase hex */
};

/* What the message says besides the request. */
struct notify_view {
	const char *link;		/* console_url + "/#/admin/requests/ID"
					   ("/#/admin/files/ID" for a file), or
					   NULL: no link */
	const char *ssh_approve;	/* "ssh -A ADMIN@HOST approve 42 2h",
					   "... file-approve 7" */
	const char *ssh_deny;		/* "ssh -A ADMIN@HOST deny 42 REASON",
					   "... file-deny 7 REASON" */
};

/* ---- mail.c ------------------------------------------------------------- */

/*
 * Append base64 (RFC 4648, padded) of p[0..n-1] to b, with a line break
 * (eol) after every 76 characters and at the end when eol is not NULL.
 * 0, or buf_put's error (BERR_LIMIT when b is full).
 */
int notify_b64(struct buf *b, const void *p, size_t n, const char *eol);

/*
 * Append the header "NAME: " + s as RFC 2047 encoded words (=?UTF-8?B?...?=,
 * each at most 75 characters and each line at most 76, cut between whole
 * UTF-8 characters, folded with "\n ") + "\n" to b. s must be valid UTF-8
 * without control characters, and name at most 50 bytes (BERR_FORMAT
 * otherwise, nothing appended); so no byte of s can end the header or
 * start another.
 */
int notify_header_encoded(struct buf *b, const char *name, const char *s);

/*
 * Build the whole message (headers, a blank line, the body in base64) into
 * *out (a new buffer, NULL on entry and on failure). from, to[0..nto-1]:
 * addresses (mailaddr_ok(), mailaddr.h); msgid: the Message-ID's local part. The
 * request's values go into the body only, except the id, engineer and
 * device in the Subject, and those only when they are plain names. 0;
 * BERR_INVAL (a bad address), BERR_NOMEM, BERR_LIMIT.
 */
int notify_mail_build(const struct notify_req *r, const struct notify_view *v,
    const char *from, const char *const *to, size_t nto, const char *msgid,
    time_t now, struct buf **out);

/* ---- sign.c ------------------------------------------------------------- */

/* HMAC-SHA256 of data under key into out. 0 or BERR_CRYPTO. */
int notify_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, uint8_t out[32]);

/*
 * The X-Bastion-Signature value for body sent at ts: "v1=" + lowercase hex
 * of HMAC-SHA256(secret, decimal ts "." body), NUL-terminated in out
 * (68 bytes). 0, BERR_NOMEM or BERR_CRYPTO.
 */
#define NOTIFY_SIG_LEN	68
int notify_signature(const void *secret, size_t secretlen, long long ts,
    const void *body, size_t len, char out[NOTIFY_SIG_LEN]);

/* A random (version 4) UUID, lowercase, NUL-terminated. 0 or BERR_CRYPTO. */
#define NOTIFY_UUID_LEN	37
int notify_uuid(char out[NOTIFY_UUID_LEN]);

/* ---- webhook.c ---------------------------------------------------------- */

struct notify_hook {
	const char *url;
	const char *ca_file;		/* NULL: the system's CAs */
	int insecure_http;		/* http:// to loopback allowed */
	const uint8_t *secret;
	size_t secretlen;
};

/*
 * POST body (JSON) to h->url, signed, at most 3 tries (backoff 0.5 s, 1 s)
 * all ended by deadline (CLOCK_MONOTONIC seconds); one try at most 5 s.
 * A 2xx answer is success; a 4xx is not tried again (the receiver refused
 * it). 0, or -1 with why (text) in err.
 */
int notify_webhook_post(const struct notify_hook *h, const char *body,
    double deadline, char *err, size_t errlen);

/* Whether url may be used: https://, or http:// to 127.0.0.0/8, [::1] or
 * localhost when insecure_http. 0, or -1 with why in err. */
int notify_url_check(const char *url, int insecure_http, char *err,
    size_t errlen);

/* CLOCK_MONOTONIC in seconds. */
double notify_now(void);

#endif
