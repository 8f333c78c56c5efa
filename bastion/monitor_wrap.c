/*
 * monitor_wrap.c - the child's side of the request table (privsep.h):
 * one wrapper per request, as OpenSSH's monitor_wrap.c. Each encodes its
 * request, sends it on the monitor socket, waits for the answer and takes
 * it apart through struct buf, with every string capped.
 *
 * The monitor is the child's only way to the world: if it has gone, or
 * answers something that does not parse, the child cannot go on, and
 * ends at once (mm_fatal). A monitor that refuses a request kills the
 * child itself.
 *
 * One writer: every message to the monitor leaves through mm_send(), in
 * the order it was made. A forward's connection (mm_forward_ask) is the
 * one request the child does not wait for: it joins the queue (mm_out),
 * which is written as the socket has room, and its answer
 * (MANS_FORWARD, with the request's id) comes whenever the monitor's
 * connect ends. An answer of that kind read while a wrapper waits for its
 * own is put aside (mm_late) for the relay, which reads it with
 * mm_forward_answer().
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "mmq.h"
#include "monitor_req.h"
#include "privsep.h"

#define MM_CONSOLE_CHECK_MS	200	/* how often a verb's cancel is looked
					   for while output streams */

static int mm_sock = -1;
static struct mmq mm_out;		/* requests waiting for room */
static struct mmq mm_late;		/* MANS_FORWARD read out of turn */
static struct mmq mm_xlate;		/* MANS_EXPORT, whenever it came */

void
mm_init(int fd)
{
	mm_sock = fd;
	mmq_init(&mm_out);
	mmq_init(&mm_late);
	mmq_init(&mm_xlate);
}

int
mm_fd(void)
{
	return (mm_sock);
}

static void mm_fatal(const char *what) __attribute__((noreturn));

static void
mm_fatal(const char *what)
{
	log_error("child: %s; ending the session", what);
	_exit(WORKER_EXIT_ERROR);
}

static struct buf *
mm_new(void)
{
	struct buf *b;

	if ((b = buf_new(MREQ_MSG_MAX)) == NULL)
		mm_fatal("out of memory");
	return (b);
}

/* Write what waits in the queue: all of it (block), or as much as the
 * socket takes now. */
static void
mm_flush(int block)
{
	const struct mmq_item *it;
	struct mmq_item done;
	struct pollfd pfd = { .fd = mm_sock, .events = POLLOUT };

	while ((it = mmq_peek(&mm_out)) != NULL) {
		if (!block && (poll(&pfd, 1, 0) != 1 ||
		    (pfd.revents & POLLOUT) == 0))
			return;
		if (mreq_send(mm_sock, it->type, it->body, NULL, 0) != 0)
			mm_fatal("the monitor is gone");
		(void)mmq_pop(&mm_out, &done);
		buf_free(done.body);
	}
}

/* The one writer: type with body (NULL: none), after everything queued
 * before it. */
static void
mm_send(int type, const struct buf *body)
{
	mm_flush(1);
	if (mreq_send(mm_sock, type, body, NULL, 0) != 0)
		mm_fatal("the monitor is gone");
}

void
mm_flush_queue(void)
{
	mm_flush(0);
}

unsigned
mm_queue_len(void)
{
	return (mmq_len(&mm_out));
}

unsigned
mm_late_len(void)
{
	return (mmq_len(&mm_late) + mmq_len(&mm_xlate));
}

/* Receive one message, waiting timeout_ms (-1: for ever); a late
 * forward's answer is put aside and the wait goes on. 0, or BERR_TIMEOUT
 * (never with -1); anything else is fatal. */
static int
mm_recv(int *t, struct buf **ans, int *fds, int *nfds, int timeout_ms)
{
	int lfd[MREQ_MAX_FDS], ln, room = nfds != NULL ? *nfds : 0, r;

	for (;;) {
		ln = MREQ_MAX_FDS;
		if ((r = mreq_recv(mm_sock, t, ans, lfd, &ln, timeout_ms)) ==
		    BERR_TIMEOUT)
			return (r);
		if (r != 0)
			mm_fatal(r == BERR_CLOSED ? "the monitor is gone" :
			    "a broken answer from the monitor");
		if (*t == MANS_EXPORT) {	/* a decision: the relay's */
			if (ln > 0 || mmq_push(&mm_xlate, *t, *ans, -1) != 0)
				mm_fatal("more export decisions than requests");
			*ans = NULL;
			continue;
		}
		if (*t != MANS_FORWARD)
			break;
		if (ln > 1 || mmq_push(&mm_late, *t, *ans, ln == 1 ? lfd[0] :
		    -1) != 0)
			mm_fatal("more forward answers than requests");
		*ans = NULL;
	}
	/* descriptors for the caller; more than it has room for is a
	 * broken answer, as mreq_recv() says for its own room */
	if (ln > room) {
		while (ln > 0)
			close(lfd[--ln]);
		mm_fatal("a broken answer from the monitor");
	}
	for (r = 0; r < ln; r++)
		fds[r] = lfd[r];
	if (nfds != NULL)
		*nfds = ln;
	return (0);
}

/* Send type with body; wait for an answer of type want; return its body
 * (the caller frees). Descriptors that come with it land in fds. */
static struct buf *
mm_call_fds(int type, struct buf *req, int want, int *fds, int *nfds)
{
	struct buf *ans = NULL;
	int t;

	mm_send(type, req);
	(void)mm_recv(&t, &ans, fds, nfds, -1);
	if (t != want) {
		buf_free(ans);
		mm_fatal("an unexpected answer from the monitor");
	}
	return (ans);
}

static struct buf *
mm_call(int type, struct buf *req)
{
	return (mm_call_fds(type, req, MANS_OK, NULL, NULL));
}

/* An answer's field must be there: a short answer is a broken monitor. */
static void
mm_need(int r)
{
	if (r != 0)
		mm_fatal("a short answer from the monitor");
}

static uint32_t
mm_u32(struct buf *b)
{
	uint32_t v;

	mm_need(buf_get_u32(b, &v));
	return (v);
}

static uint64_t
mm_u64(struct buf *b)
{
	uint64_t v;

	mm_need(buf_get_u64(b, &v));
	return (v);
}

/* A string into out (cut to fit, as a sentence may be). */
static void
mm_str(struct buf *b, char *out, size_t len)
{
	const uint8_t *p;
	size_t n;

	if (buf_get_string_direct(b, &p, &n, MREQ_MSG_MAX) != 0 ||
	    memchr(p, '\0', n) != NULL)
		mm_fatal("a broken string from the monitor");
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
mm_put(int r)
{
	if (r != 0)
		mm_fatal("a request too large for the monitor");
}

/* ---- authentication ----------------------------------------------------- */

int
mm_auth_pubkey(enum mm_pk kind, const char *user, const char *keytype,
    const char *keyb64)
{
	struct buf *b = mm_new(), *a;
	int stop;

	mm_put(buf_put_u8(b, (uint8_t)kind));
	mm_put(buf_put_cstring(b, user));
	mm_put(buf_put_cstring(b, keytype));
	mm_put(buf_put_cstring(b, keyb64));
	a = mm_call(MREQ_AUTH_PUBKEY, b);
	buf_free(b);
	stop = mm_u32(a) != 0;
	buf_free(a);
	return (stop);
}

/* MANS_PAM_PROMPT: ask the client through io, answer MREQ_PAM_ANSWERS. */
static void
mm_pam_round(struct buf *p, struct mm_kbdint_io *io)
{
	char instr[1024], text[8][512], echo[8];
	const char *prompts[8];
	char **answers = NULL;
	struct buf *b = mm_new();
	uint32_t n, i;
	uint8_t e;
	int r;

	mm_str(p, instr, sizeof(instr));
	if ((n = mm_u32(p)) == 0 || n > 8)
		mm_fatal("a broken PAM prompt from the monitor");
	for (i = 0; i < n; i++) {
		mm_str(p, text[i], sizeof(text[i]));
		if (buf_get_u8(p, &e) != 0)
			mm_fatal("a broken PAM prompt from the monitor");
		prompts[i] = text[i];
		echo[i] = e != 0;
	}
	r = io->round(io->arg, instr, n, prompts, echo, &answers);
	/* 0 answers; 1 the client sent something else; 2 it left */
	mm_put(buf_put_u8(b, r == 0 ? 0 : r == BERR_CLOSED ? 2 : 1));
	mm_put(buf_put_u32(b, r == 0 ? n : 0));
	for (i = 0; r == 0 && i < n; i++) {
		mm_put(buf_put_cstring(b, answers[i]));
		explicit_bzero(answers[i], strlen(answers[i]));
		free(answers[i]);
	}
	free(answers);
	mm_send(MREQ_PAM_ANSWERS, b);
	buf_free(b);
}

int
mm_auth_kbdint(const char *user, const char *answer, struct mm_kbdint_io *io,
    struct mm_auth_result *res)
{
	struct buf *b = mm_new(), *a = NULL;
	int t, n = 0;

	memset(res, 0, sizeof(*res));
	mm_put(buf_put_cstring(b, user));
	mm_put(buf_put_u8(b, answer != NULL));
	mm_put(buf_put_cstring(b, answer != NULL ? answer : ""));
	mm_send(MREQ_AUTH_KBDINT, b);
	buf_free(b);
	/* PAM may ask more before the monitor decides */
	for (;;) {
		n = 0;
		(void)mm_recv(&t, &a, NULL, &n, -1);
		if (t != MANS_PAM_PROMPT)
			break;
		mm_pam_round(a, io);
		buf_free(a);
		a = NULL;
	}
	if (t != MANS_OK)
		mm_fatal("an unexpected answer from the monitor");
	res->status = (enum mm_auth)mm_u32(a);
	mm_str(a, res->tell, sizeof(res->tell));
	mm_str(a, res->person, sizeof(res->person));
	res->role = (enum policy_role)mm_u32(a);
	res->key_index = mm_u32(a);
	mm_str(a, res->device, sizeof(res->device));
	buf_free(a);
	return (0);
}

/* ---- after the login ---------------------------------------------------- */

int
mm_device_choose(const char *device, int forward)
{
	struct buf *b = mm_new(), *a;
	int refused;

	mm_put(buf_put_cstring(b, device));
	mm_put(buf_put_u8(b, forward != 0));
	a = mm_call(MREQ_DEVICE_CHOOSE, b);
	buf_free(b);
	refused = mm_u32(a) != 0;
	buf_free(a);
	return (refused);
}

void
mm_touch_begin(int agent_req, int has_channel, int wait, int transfer,
    struct mm_touch_ask *out)
{
	struct buf *b = mm_new(), *a;
	const uint8_t *c;
	size_t n;

	memset(out, 0, sizeof(*out));
	mm_put(buf_put_u8(b, agent_req != 0));
	mm_put(buf_put_u8(b, has_channel != 0));
	mm_put(buf_put_u8(b, wait != 0));
	mm_put(buf_put_u8(b, transfer != 0));
	a = mm_call(MREQ_TOUCH_BEGIN, b);
	buf_free(b);
	out->status = (enum mm_touch)mm_u32(a);
	mm_str(a, out->why, sizeof(out->why));
	if (buf_get_string_direct(a, &c, &n, 64) != 0 ||
	    (n != 0 && n != sizeof(out->challenge)))
		mm_fatal("a broken challenge from the monitor");
	if (n != 0)
		memcpy(out->challenge, c, n);
	out->until = (time_t)mm_u64(a);
	out->window_s = mm_u32(a);
	buf_free(a);
}

enum mm_verdict
mm_touch_verify(const uint8_t *sig, size_t siglen, uint32_t *counter,
    uint32_t *prev, time_t *until)
{
	struct buf *b = mm_new(), *a;
	enum mm_verdict v;

	mm_put(buf_put_u8(b, sig != NULL));
	mm_put(buf_put_string(b, sig != NULL ? sig : (const uint8_t *)"",
	    sig != NULL ? siglen : 0));
	a = mm_call(MREQ_TOUCH_VERIFY, b);
	buf_free(b);
	v = (enum mm_verdict)mm_u32(a);
	*counter = mm_u32(a);
	*prev = mm_u32(a);
	*until = (time_t)mm_u64(a);
	buf_free(a);
	return (v);
}

static void
mm_approval_answer(struct buf *a, struct mm_approval *out)
{
	memset(out, 0, sizeof(*out));
	out->status = (enum mm_appr)mm_u32(a);
	out->id = (int64_t)mm_u64(a);
	mm_str(a, out->by, sizeof(out->by));
	mm_str(a, out->text, sizeof(out->text));
	out->timeout_s = mm_u32(a);
	buf_free(a);
}

void
mm_approval_check(struct mm_approval *out)
{
	mm_approval_answer(mm_call(MREQ_APPROVAL_CHECK, NULL), out);
}

void
mm_approval_request(const char *reason, struct mm_approval *out)
{
	struct buf *b = mm_new();

	mm_put(buf_put_cstring(b, reason));
	mm_approval_answer(mm_call(MREQ_APPROVAL_REQUEST, b), out);
	buf_free(b);
}

void
mm_approval_poll(struct mm_approval *out)
{
	mm_approval_answer(mm_call(MREQ_APPROVAL_POLL, NULL), out);
}

void
mm_approval_cancel(int at_prompt, struct mm_approval *out)
{
	struct buf *b = mm_new();

	mm_put(buf_put_u8(b, at_prompt != 0));
	mm_approval_answer(mm_call(MREQ_APPROVAL_CANCEL, b), out);
	buf_free(b);
}

/*
 * The descriptors of a yes (ok) that must bring exactly want of them: 0
 * when they did (fds[0..want-1] are the caller's); otherwise all n are
 * closed, -1, and a yes without its descriptors leaves broken in why (a
 * no has left the monitor's reason there).
 */
static int
mm_answer_fds(int ok, int *fds, int n, int want, char *why, size_t whylen,
    const char *broken)
{
	if (ok && n == want)
		return (0);
	while (n-- > 0)
		close(fds[n]);
	if (ok)
		snprintf(why, whylen, "%s", broken);
	return (-1);
}

int
mm_recording_open(int kind, const char *command, int *fd, char *id,
    size_t idlen, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct buf *b = mm_new(), *a;
	int fds[MREQ_MAX_FDS], n = MREQ_MAX_FDS, ok;

	*fd = -1;
	mm_put(buf_put_u32(b, (uint32_t)kind));
	mm_put(buf_put_u8(b, command != NULL));
	mm_put(buf_put_cstring(b, command != NULL ? command : ""));
	a = mm_call_fds(MREQ_RECORDING_OPEN, b, MANS_OK, fds, &n);
	buf_free(b);
	ok = mm_u32(a) == 0;
	mm_str(a, id, idlen);
	mm_str(a, path, pathlen);
	mm_str(a, err, errlen);
	buf_free(a);
	if (mm_answer_fds(ok, fds, n, 1, err, errlen, "bastion: this "
	    "session cannot be recorded, so it will not start\n") != 0)
		return (-1);
	*fd = fds[0];
	return (0);
}

int
mm_device_connect(int *tcp_fd, int *agent_fd, char *why, size_t whylen)
{
	struct buf *a;
	int fds[MREQ_MAX_FDS], n = MREQ_MAX_FDS, ok;

	*tcp_fd = *agent_fd = -1;
	a = mm_call_fds(MREQ_DEVICE_CONNECT, NULL, MANS_OK, fds, &n);
	ok = mm_u32(a) == 0;
	mm_str(a, why, whylen);
	buf_free(a);
	if (mm_answer_fds(ok, fds, n, 2, why, whylen, "internal error "
	    "connecting to the device; try again") != 0)
		return (-1);
	*tcp_fd = fds[0];
	*agent_fd = fds[1];
	return (0);
}

void
mm_device_result(int ok, const char *why)
{
	struct buf *b = mm_new();

	mm_put(buf_put_u8(b, ok != 0));
	mm_put(buf_put_cstring(b, why != NULL ? why : ""));
	buf_free(mm_call(MREQ_DEVICE_RESULT, b));
	buf_free(b);
}

int
mm_session_register(void)
{
	struct buf *a = mm_call(MREQ_SESSION_REGISTER, NULL);
	int ok = mm_u32(a) == 0;

	buf_free(a);
	return (ok ? 0 : -1);
}

void
mm_session_end(const char *reason)
{
	struct buf *b = mm_new();

	mm_put(buf_put_cstring(b, reason));
	buf_free(mm_call(MREQ_SESSION_END, b));
	buf_free(b);
}

void
mm_forward_ask(uint32_t id, const char *host, int port)
{
	struct buf *b = mm_new();

	mm_put(buf_put_u32(b, id));
	mm_put(buf_put_cstring(b, host));
	mm_put(buf_put_u32(b, (uint32_t)port));
	/* the relay never has more asked than its forwards allow */
	if (mmq_push(&mm_out, MREQ_FORWARD_CONNECT, b, -1) != 0)
		mm_fatal("too many requests waiting for the monitor");
	mm_flush(0);
}

int
mm_forward_answer(uint32_t *id, enum mm_fwd *st, int *fd, char *why,
    size_t whylen)
{
	struct mmq_item it;
	int fds[MREQ_MAX_FDS], n = MREQ_MAX_FDS, t, r;
	struct buf *a = NULL;

	*fd = -1;
	if (mmq_pop(&mm_late, &it)) {
		a = it.body;
		*fd = it.fd;
	} else {
again:
		n = MREQ_MAX_FDS;
		if ((r = mreq_recv(mm_sock, &t, &a, fds, &n, 0)) ==
		    BERR_TIMEOUT)
			return (0);
		if (r == BERR_CLOSED)
			return (-1);
		if (r != 0)
			mm_fatal("a broken answer from the monitor");
		if (t == MANS_EXPORT && n == 0) {	/* mm_export_answer's */
			if (mmq_push(&mm_xlate, t, a, -1) != 0)
				mm_fatal("more export decisions than requests");
			goto again;
		}
		if (t != MANS_FORWARD || n > 1) {
			while (n-- > 0)
				close(fds[n]);
			buf_free(a);
			mm_fatal("an unexpected message from the monitor");
		}
		*fd = n == 1 ? fds[0] : -1;
	}
	*id = mm_u32(a);
	*st = (enum mm_fwd)mm_u32(a);
	mm_str(a, why, whylen);
	buf_free(a);
	if (*st != MM_FWD_OK && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	return (1);
}

enum mm_fwd
mm_forward_connect(const char *host, int port, int *fd, char *why,
    size_t whylen)
{
	enum mm_fwd st;
	uint32_t id;
	int r;

	/* id 0: never one of the relay's (they count from 1) */
	mm_forward_ask(0, host, port);
	mm_flush(1);
	for (;;) {
		struct pollfd pfd = { .fd = mm_sock, .events = POLLIN };

		(void)poll(&pfd, 1, -1);
		if ((r = mm_forward_answer(&id, &st, fd, why, whylen)) < 0)
			mm_fatal("the monitor is gone");
		if (r == 1 && id == 0)
			return (st == MM_FWD_OK && *fd == -1 ? MM_FWD_FAILED :
			    st);
	}
}

/* ---- console verbs ------------------------------------------------------ */

int
mm_console_run(int kind, int has_pty, const char *command,
    struct mm_console_io *io)
{
	struct buf *b = mm_new(), *a = NULL;
	const uint8_t *p;
	int64_t checked = 0;
	int t, n, r, told = 0, broken = 0, rc;
	size_t len;
	uint8_t is_err;

	mm_put(buf_put_u32(b, (uint32_t)kind));
	mm_put(buf_put_u8(b, has_pty != 0));
	mm_put(buf_put_cstring(b, command != NULL ? command : ""));
	mm_send(MREQ_CONSOLE_RUN, b);
	buf_reset(b);
	for (;;) {
		/* between pieces of output, and while there is none: has
		 * the person given up? (once told, only the end counts) */
		if (!told && bclock_mono_ms(NULL) - checked >= MM_CONSOLE_CHECK_MS) {
			checked = bclock_mono_ms(NULL);
			if (broken || io->cancelled(io->arg, 0)) {
				mm_send(MREQ_CONSOLE_CANCEL, NULL);
				told = 1;
			}
		}
		n = 0;
		r = mm_recv(&t, &a, NULL, &n, told ? -1 :
		    MM_CONSOLE_CHECK_MS);
		if (r == BERR_TIMEOUT)
			continue;
		if (t == MANS_CONSOLE_DONE)
			break;
		if (t != MANS_CONSOLE_OUT || buf_get_u8(a, &is_err) != 0 ||
		    buf_get_string_direct(a, &p, &len, MREQ_MSG_MAX) != 0)
			mm_fatal("a broken console answer from the monitor");
		/* a person who left gets nothing more; the verb is told */
		if (!broken && io->out(io->arg, is_err, p, len) != 0) {
			broken = 1;
			checked = 0;
		}
		buf_free(a);
		a = NULL;
	}
	rc = (int)mm_u32(a);
	buf_free(a);
	buf_free(b);
	return (rc);
}

/* ---- the import airlock (monitor_airlock.c) ----------------------------- */

int
mm_airlock(int kind, char *why, size_t whylen)
{
	struct buf *b = mm_new(), *a;
	int fds[MREQ_MAX_FDS], n = MREQ_MAX_FDS, ok;

	mm_put(buf_put_u8(b, (uint8_t)kind));
	a = mm_call_fds(MREQ_AIRLOCK, b, MANS_OK, fds, &n);
	buf_free(b);
	ok = mm_u32(a) == 0;
	mm_str(a, why, whylen);
	buf_free(a);
	if (mm_answer_fds(ok, fds, n, 1, why, whylen, "internal error in "
	    "the airlock") != 0)
		return (-1);
	return (fds[0]);
}

/* ---- export approval ---------------------------------------------------- */

int
mm_export_request(const char *path, uint64_t size, const char *sha256,
    int64_t *id, unsigned *timeout_s, char *why, size_t whylen)
{
	struct buf *b = mm_new(), *a;
	int ok;

	mm_put(buf_put_cstring(b, path));
	mm_put(buf_put_u64(b, size));
	mm_put(buf_put_cstring(b, sha256));
	a = mm_call(MREQ_EXPORT, b);
	buf_free(b);
	ok = mm_u32(a) == 0;
	*id = (int64_t)mm_u64(a);
	*timeout_s = mm_u32(a);
	mm_str(a, why, whylen);
	buf_free(a);
	return (ok && *id > 0 ? 0 : -1);
}

int
mm_export_answer(int64_t *id, int *status, char *by, size_t bylen,
    char *text, size_t textlen)
{
	struct mmq_item it;

	if (!mmq_pop(&mm_xlate, &it))
		return (0);
	*id = (int64_t)mm_u64(it.body);
	*status = (int)mm_u32(it.body);
	mm_str(it.body, by, bylen);
	mm_str(it.body, text, textlen);
	buf_free(it.body);
	return (1);
}

/* ---- file declarations (monitor_decl.c) -------------------------------- */

unsigned
mm_decl_count(void)
{
	struct buf *b = mm_new(), *a;
	unsigned n;

	mm_put(buf_put_u8(b, DECL_COUNT));
	a = mm_call(MREQ_DECL, b);
	buf_free(b);
	n = mm_u32(a);
	buf_free(a);
	return (n);
}

int
mm_decl_list(unsigned *ndecl, unsigned *nfiles, char *text, size_t textlen)
{
	struct buf *b = mm_new(), *a;

	mm_put(buf_put_u8(b, DECL_LIST));
	a = mm_call(MREQ_DECL, b);
	buf_free(b);
	*ndecl = mm_u32(a);
	*nfiles = mm_u32(a);
	mm_str(a, text, textlen);
	buf_free(a);
	return (0);
}

int
mm_decl_answer(int personal, int erased, unsigned *closed,
    unsigned *still_open)
{
	struct buf *b = mm_new(), *a;

	mm_put(buf_put_u8(b, DECL_ANSWER));
	mm_put(buf_put_u8(b, (uint8_t)(personal != 0)));
	mm_put(buf_put_u8(b, (uint8_t)erased));
	a = mm_call(MREQ_DECL, b);
	buf_free(b);
	*closed = mm_u32(a);
	*still_open = mm_u32(a);
	buf_free(a);
	return (0);
}

/* ---- audit events ------------------------------------------------------- */

int
mm_audit_sink(const char *line, char *note, size_t notelen, void *arg)
{
	struct buf *b = mm_new(), *a;
	int kept;

	(void)arg;
	note[0] = '\0';
	mm_put(buf_put_cstring(b, line));
	a = mm_call(MREQ_AUDIT, b);
	buf_free(b);
	kept = mm_u32(a) == 0;
	buf_free(a);
	if (kept)
		snprintf(note, notelen, " chain=via-monitor");
	return (kept ? 0 : BERR_DENIED);
}
