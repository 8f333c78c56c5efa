/*
 * monitor_req.c - the monitor's request table, and the loop that answers
 * the child of a connection (privsep.h has the process model and the
 * wire; monitor_wrap.c is the child's side).
 *
 * Everything the child may ask is in mon_table[] below, one line each:
 * the phases in which it is allowed, how often per connection, how long
 * its body may be, and its answer function. What is not in the table, or
 * comes in another phase, too often or too long, or breaks what the
 * answer function expects (a precondition, a policy rule the child checks
 * itself first), is a violation: audited as monitor.violation and the
 * child killed (mon_violation). A misbehaving child ends only its own
 * session.
 *
 * Phases only move forward, and only on the monitor's own decisions:
 * PREAUTH until auth_mon_kbdint() let a person in, AUTHED until the
 * session was registered with the listener, then RELAY.
 *
 * Audit events the child hands over (MREQ_AUDIT) are stamped here: the
 * time, the pid (the monitor's, as for every event of the connection) and
 * the session are the monitor's; user, vendor, role and from must agree
 * with what the monitor knows; the event must be one the child's phase
 * may send (mon_audit_events); a flood kills the child.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include "approvals.h"
#include "auditlog.h"
#include "bastiond.h"
#include "buf.h"
#include "err.h"
#include "io.h"
#include "log.h"
#include "monitor_req.h"
#include "netaddr.h"
#include "record.h"
#include "touch.h"

#define MON_FORWARD_CONNECT_MS	5000
#define MON_APPROVAL_PACE_MS	500	/* APPROVAL_POLL answered no faster */
#define MON_AUDIT_FIELDS	24

struct mon_entry {
	enum mreq_type type;
	const char *name;		/* for the audit log */
	int phases;			/* MPH_* in which it is allowed */
	unsigned max;			/* per connection; 0: no count */
	size_t maxlen;			/* body bytes */
	const char *(*answer)(struct mon *M, struct buf *req);
};

static const char *mon_answer_auth_pubkey(struct mon *, struct buf *);
static const char *mon_answer_auth_kbdint(struct mon *, struct buf *);
static const char *mon_answer_nested(struct mon *, struct buf *);
static const char *mon_answer_device_choose(struct mon *, struct buf *);
static const char *mon_answer_touch_begin(struct mon *, struct buf *);
static const char *mon_answer_touch_verify(struct mon *, struct buf *);
static const char *mon_answer_approval_check(struct mon *, struct buf *);
static const char *mon_answer_approval_request(struct mon *, struct buf *);
static const char *mon_answer_approval_poll(struct mon *, struct buf *);
static const char *mon_answer_approval_cancel(struct mon *, struct buf *);
static const char *mon_answer_recording_open(struct mon *, struct buf *);
static const char *mon_answer_device_connect(struct mon *, struct buf *);
static const char *mon_answer_device_result(struct mon *, struct buf *);
static const char *mon_answer_session_register(struct mon *, struct buf *);
static const char *mon_answer_forward_connect(struct mon *, struct buf *);
static const char *mon_answer_session_end(struct mon *, struct buf *);
static const char *mon_answer_console_run(struct mon *, struct buf *);
static const char *mon_answer_console_cancel(struct mon *, struct buf *);
static const char *mon_answer_audit(struct mon *, struct buf *);

/*
 * The request table. PAM_ANSWERS and CONSOLE_CANCEL have no phase of
 * their own: they are read inside AUTH_KBDINT and CONSOLE_RUN (a late
 * cancel, after the verb ended, is ignored).
 */
static const struct mon_entry mon_table[MREQ_MAX] = {
	[MREQ_AUTH_PUBKEY] = { MREQ_AUTH_PUBKEY, "auth.pubkey",
	    MPH_PREAUTH, 64, 20 * 1024, mon_answer_auth_pubkey },
	[MREQ_AUTH_KBDINT] = { MREQ_AUTH_KBDINT, "auth.kbdint",
	    MPH_PREAUTH, 3, 2 * 1024, mon_answer_auth_kbdint },
	[MREQ_PAM_ANSWERS] = { MREQ_PAM_ANSWERS, "pam.answers",
	    0, 0, 16 * 1024, mon_answer_nested },
	[MREQ_DEVICE_CHOOSE] = { MREQ_DEVICE_CHOOSE, "device.choose",
	    MPH_AUTHED, 1, 256, mon_answer_device_choose },
	[MREQ_TOUCH_BEGIN] = { MREQ_TOUCH_BEGIN, "touch.begin",
	    MPH_AUTHED, 2, 16, mon_answer_touch_begin },
	[MREQ_TOUCH_VERIFY] = { MREQ_TOUCH_VERIFY, "touch.verify",
	    MPH_AUTHED, 1, 9 * 1024, mon_answer_touch_verify },
	[MREQ_APPROVAL_CHECK] = { MREQ_APPROVAL_CHECK, "approval.check",
	    MPH_AUTHED, 1, 0, mon_answer_approval_check },
	[MREQ_APPROVAL_REQUEST] = { MREQ_APPROVAL_REQUEST, "approval.request",
	    MPH_AUTHED, 1, 300, mon_answer_approval_request },
	[MREQ_APPROVAL_POLL] = { MREQ_APPROVAL_POLL, "approval.poll",
	    MPH_AUTHED, 0, 0, mon_answer_approval_poll },
	[MREQ_APPROVAL_CANCEL] = { MREQ_APPROVAL_CANCEL, "approval.cancel",
	    MPH_AUTHED, 4, 8, mon_answer_approval_cancel },
	[MREQ_RECORDING_OPEN] = { MREQ_RECORDING_OPEN, "recording.open",
	    MPH_AUTHED, 1, 17 * 1024, mon_answer_recording_open },
	[MREQ_DEVICE_CONNECT] = { MREQ_DEVICE_CONNECT, "device.connect",
	    MPH_AUTHED, 1, 0, mon_answer_device_connect },
	[MREQ_DEVICE_RESULT] = { MREQ_DEVICE_RESULT, "device.result",
	    MPH_AUTHED, 1, 600, mon_answer_device_result },
	[MREQ_SESSION_REGISTER] = { MREQ_SESSION_REGISTER, "session.register",
	    MPH_AUTHED, 1, 0, mon_answer_session_register },
	[MREQ_FORWARD_CONNECT] = { MREQ_FORWARD_CONNECT, "forward.connect",
	    MPH_RELAY, 4096, 300, mon_answer_forward_connect },
	[MREQ_SESSION_END] = { MREQ_SESSION_END, "session.end",
	    MPH_AUTHED | MPH_RELAY, 1, 300, mon_answer_session_end },
	[MREQ_CONSOLE_RUN] = { MREQ_CONSOLE_RUN, "console.run",
	    MPH_AUTHED, 1, 17 * 1024, mon_answer_console_run },
	[MREQ_CONSOLE_CANCEL] = { MREQ_CONSOLE_CANCEL, "console.cancel",
	    MPH_AUTHED, 1, 0, mon_answer_console_cancel },
	[MREQ_AUDIT] = { MREQ_AUDIT, "audit",
	    MPH_AUTHED | MPH_RELAY, 0, MON_AUDIT_MAX + 8, mon_answer_audit },
};

/*
 * The events a child may hand over, by phase: what only it can see (the
 * engineer's agent, the relay's byte counts, the engineer's requests).
 * Every decision (auth.*, approval.*, touch.ok, device.connect,
 * forward.open, session.start, ...) is the monitor's own.
 */
static const struct {
	const char *event;
	int phases;
} mon_audit_events[] = {
	{ "forward.refused", MPH_AUTHED | MPH_RELAY },
	{ "touch.no_agent", MPH_AUTHED },
	{ "touch.no_touch", MPH_AUTHED },
	{ "touch.bad_signature", MPH_AUTHED },
	{ "touch.error", MPH_AUTHED },
	{ "session.recording_failed", MPH_AUTHED | MPH_RELAY },
	{ "forward.close", MPH_RELAY },
	{ "session.idle_warning", MPH_RELAY },
	{ "session.work_record", MPH_RELAY },
	{ "session.revoked", MPH_RELAY },
	{ "session.end", MPH_RELAY },
};

/* ---- the wire ------------------------------------------------------------ */

int
mreq_send(int fd, int type, const struct buf *body, const int *fds,
    int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * MREQ_MAX_FDS)];
	} cm;
	uint8_t t = (uint8_t)type;
	size_t len = body != NULL ? buf_len(body) : 0;
	struct cmsghdr *c;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	if (len + 1 > MREQ_MSG_MAX || nfds < 0 || nfds > MREQ_MAX_FDS)
		return (BERR_LIMIT);
	memset(&mh, 0, sizeof(mh));
	iov[0].iov_base = &t;
	iov[0].iov_len = 1;
	iov[1].iov_base = (void *)(len > 0 ? buf_ptr(body) : NULL);
	iov[1].iov_len = len;
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return (n == (ssize_t)(len + 1) ? 0 : BERR_CLOSED);
}

int
mreq_recv(int fd, int *type, struct buf **body, int *fds, int *nfds,
    int timeout_ms)
{
	static uint8_t m[MREQ_MSG_MAX + 1];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * (MREQ_MAX_FDS + 2))];
	} cm;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int room = nfds != NULL ? *nfds : 0, got = 0, r = 0, i, k, *p;
	struct cmsghdr *c;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	*type = 0;
	*body = NULL;
	if (nfds != NULL)
		*nfds = 0;
	if (timeout_ms >= 0) {
		while ((k = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
			continue;
		if (k == 0)
			return (BERR_TIMEOUT);
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = m;
	iov.iov_len = sizeof(m);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (BERR_CLOSED);
	/* descriptors first: whatever happens, none may leak */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		p = (int *)(void *)CMSG_DATA(c);
		for (i = 0; i < k; i++) {
			if (got < room)
				fds[got++] = p[i];
			else {
				close(p[i]);
				r = BERR_LIMIT;
			}
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (size_t)n > MREQ_MSG_MAX)
		r = BERR_LIMIT;
	if (r == 0 && (*body = buf_from(m + 1, (size_t)n - 1)) == NULL)
		r = BERR_NOMEM;
	*type = m[0];
	/* answers to PAM prompts pass here: leave no copy */
	explicit_bzero(m, (size_t)n);
	if (r != 0) {
		while (got > 0)
			close(fds[--got]);
		buf_free(*body);
		*body = NULL;
		return (r);
	}
	if (nfds != NULL)
		*nfds = got;
	return (0);
}

/* ---- helpers ------------------------------------------------------------- */

void
mon_kill_child(struct mon *M)
{
	int saved;

	if (M->child <= 0 || kill(M->child, SIGKILL) == 0 || errno != EPERM)
		return;
	if (M->child_uid == (uid_t)-1) {
		log_error("session %s: cannot signal the child %d; the "
		    "monitor exits", M->S.sid, (int)M->child);
		_exit(WORKER_EXIT_ERROR);
	}
	if (setresuid((uid_t)-1, M->child_uid, (uid_t)-1) != 0) {
		log_error("session %s: cannot signal the child %d: %s; the "
		    "monitor exits", M->S.sid, (int)M->child,
		    strerror(errno));
		_exit(WORKER_EXIT_ERROR);
	}
	saved = kill(M->child, SIGKILL) == 0 ? 0 : errno;
	if (setresuid((uid_t)-1, 0, (uid_t)-1) != 0) {
		/* a broken invariant in a privileged process: fatal (the
		 * child dies with us, PR_SET_PDEATHSIG) */
		log_error("session %s: monitor: cannot regain root: %s",
		    M->S.sid, strerror(errno));
		_exit(WORKER_EXIT_ERROR);
	}
	if (saved == EPERM) {
		/* fail closed: the child dies with its monitor
		 * (PR_SET_PDEATHSIG) */
		log_error("session %s: cannot signal the child %d: %s; the "
		    "monitor exits", M->S.sid, (int)M->child,
		    strerror(saved));
		_exit(WORKER_EXIT_ERROR);
	}
}

void
mon_violation(struct mon *M, const char *request, const char *why)
{
	if (M->violation)
		return;
	M->violation = 1;
	log_warn("session %s: the child %d broke the monitor's rules (%s: %s); "
	    "killing it", M->S.sid, (int)M->child, request, why);
	audit_event("monitor.violation", "session", M->S.sid, "user",
	    M->S.au.who != NULL ? M->S.au.who->name : NULL, "from",
	    M->S.peerstr, "request", request, "reason", why, NULL);
	mon_kill_child(M);
}

int
mon_tell_listener(struct mon *M, const struct mon_msg *m)
{
	char line[MON_LINE_MAX];
	size_t len, off = 0;
	ssize_t n;

	if (M->ctl_gone || mon_format(m, line, sizeof(line)) != 0)
		return (-1);
	len = strlen(line);
	while (off < len) {
		n = write(M->ctl_fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		off += (size_t)n;
	}
	return (0);
}

/* Send an answer; a child that cannot take it is gone. */
static int
mon_reply(struct mon *M, int type, struct buf *b, const int *fds, int nfds)
{
	return (mreq_send(M->fd, type, b, fds, nfds));
}

/* The common answer: a new body for the answer function to fill. */
static struct buf *
mon_body(void)
{
	return (buf_new(MREQ_MSG_MAX - 1));
}

static int
mon_get_str(struct buf *b, char *out, size_t len)
{
	const uint8_t *p;
	size_t n;

	if (buf_get_string_direct(b, &p, &n, len - 1) != 0 ||
	    memchr(p, '\0', n) != NULL)
		return (-1);
	memcpy(out, p, n);
	out[n] = '\0';
	return (0);
}

static int
mon_is_engineer(const struct mon *M)
{
	return (M->S.au.who != NULL && M->S.au.role == ROLE_ENGINEER &&
	    M->S.au.who->vendor != NULL);
}

static int
mon_approved(const struct mon *M)
{
	if (M->S.dev == NULL)
		return (1);
	return (M->appr_state == MM_APPR_NOT_NEEDED ||
	    M->appr_state == MM_APPR_WINDOW ||
	    M->appr_state == MM_APPR_GRANT ||
	    M->appr_state == MM_APPR_APPROVED);
}

/* ---- authentication ------------------------------------------------------ */

static const char *
mon_answer_auth_pubkey(struct mon *M, struct buf *req)
{
	char user[128], type[64], *b64 = NULL;
	struct buf *a;
	uint8_t kind;
	int r;

	if (buf_get_u8(req, &kind) != 0 || mon_get_str(req, user,
	    sizeof(user)) != 0 || mon_get_str(req, type, sizeof(type)) != 0 ||
	    buf_get_cstring(req, &b64, 16384) != 0)
		return ("malformed");
	r = auth_mon_pubkey(M->auth, kind, user, type, b64);
	free(b64);
	if (r < 0)
		return ("not a publickey outcome the login can take");
	if (kind != MM_PK_OK)
		M->auth_failed = 1;
	if ((a = mon_body()) == NULL || buf_put_u32(a, (uint32_t)r) != 0 ||
	    mon_reply(M, MANS_OK, a, NULL, 0) != 0) {
		buf_free(a);
		return (NULL);		/* the child is gone: the loop sees */
	}
	buf_free(a);
	return (NULL);
}

/* One PAM round through the child (auth.c's conversation). */
static int
mon_pam_round(void *arg, const char *instruction, unsigned n,
    const char **prompts, const char *echo, char ***answers)
{
	struct mon *M = arg;
	struct buf *b = NULL, *a = NULL;
	uint32_t got, i;
	uint8_t st;
	char **v = NULL;
	int t, nf = 0, r = BERR_AUTH;

	*answers = NULL;
	if ((b = mon_body()) == NULL ||
	    buf_put_cstring(b, instruction) != 0 ||
	    buf_put_u32(b, n) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (buf_put_cstring(b, prompts[i]) != 0 ||
		    buf_put_u8(b, (uint8_t)(echo[i] != 0)) != 0)
			goto out;
	if (mon_reply(M, MANS_PAM_PROMPT, b, NULL, 0) != 0 ||
	    mreq_recv(M->fd, &t, &a, NULL, &nf, -1) != 0) {
		r = BERR_CLOSED;
		goto out;
	}
	if (t != MREQ_PAM_ANSWERS || buf_len(a) >
	    mon_table[MREQ_PAM_ANSWERS].maxlen ||
	    buf_get_u8(a, &st) != 0 || buf_get_u32(a, &got) != 0) {
		mon_violation(M, "pam.answers", "not the answers PAM asked "
		    "for");
		r = BERR_CLOSED;
		goto out;
	}
	if (st != 0) {
		r = st == 2 ? BERR_CLOSED : BERR_AUTH;
		goto out;
	}
	if (got != n || (v = calloc(n, sizeof(*v))) == NULL) {
		mon_violation(M, "pam.answers", "another number of answers");
		r = BERR_CLOSED;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (buf_get_cstring(a, &v[i], 1024) != 0) {
			mon_violation(M, "pam.answers", "a malformed answer");
			r = BERR_CLOSED;
			goto out;
		}
	*answers = v;
	v = NULL;
	r = 0;
out:
	if (v != NULL) {
		for (i = 0; i < n; i++)
			if (v[i] != NULL) {
				explicit_bzero(v[i], strlen(v[i]));
				free(v[i]);
			}
		free(v);
	}
	buf_free(a);
	buf_free(b);
	return (r);
}

static const char *
mon_answer_auth_kbdint(struct mon *M, struct buf *req)
{
	struct mm_kbdint_io io = { mon_pam_round, M };
	struct mm_auth_result res;
	struct mon_msg m;
	char user[128], *answer = NULL;
	struct buf *a = NULL;
	uint8_t has;
	int r;

	if (mon_get_str(req, user, sizeof(user)) != 0 ||
	    buf_get_u8(req, &has) != 0 ||
	    buf_get_cstring(req, &answer, 1024) != 0)
		return ("malformed");
	r = auth_mon_kbdint(M->auth, user, has ? answer : NULL, &io, &res,
	    &M->S.au);
	explicit_bzero(answer, strlen(answer));
	free(answer);
	if (M->violation)
		return (NULL);		/* in the PAM conversation */
	if (r < 0)
		return ("a secret without a key signature for the user, or "
		    "too many");
	if (res.status == MM_AUTH_OK) {
		/* the person is in: the monitor's decision, and only now */
		M->phase = MPH_AUTHED;
		alarm(0);
		memset(&m, 0, sizeof(m));
		m.type = MON_AUTH;
		(void)mon_tell_listener(M, &m);
	} else if (res.status != MM_AUTH_CLOSED)
		M->auth_failed = 1;
	if ((a = mon_body()) != NULL &&
	    buf_put_u32(a, (uint32_t)res.status) == 0 &&
	    buf_put_cstring(a, res.tell) == 0 &&
	    buf_put_cstring(a, res.person) == 0 &&
	    buf_put_u32(a, (uint32_t)res.role) == 0 &&
	    buf_put_u32(a, res.key_index) == 0 &&
	    buf_put_cstring(a, res.device) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

/* PAM_ANSWERS outside a conversation. */
static const char *
mon_answer_nested(struct mon *M, struct buf *req)
{
	(void)M;
	(void)req;
	return ("not asked for");
}

/* ---- the device, touch, approval ---------------------------------------- */

static const char *
mon_answer_device_choose(struct mon *M, struct buf *req)
{
	char name[POLICY_MAX_NAME + 2];
	const struct policy_device *d;
	struct buf *a;
	uint8_t fwd;
	int refused = 0;

	if (!mon_is_engineer(M))
		return ("not an engineer");
	if (mon_get_str(req, name, sizeof(name)) != 0 ||
	    buf_get_u8(req, &fwd) != 0)
		return ("malformed");
	d = name[0] != '\0' ? policy_device(M->S.pol, name) : NULL;
	if (name[0] == '\0' && !fwd)
		return ("no device");
	if (name[0] != '\0' && !sess_device_allowed(&M->S, d)) {
		if (fwd)
			return ("a forward for a device not the vendor's");
		audit_event("device.refused", "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "device", name, "reason",
		    d ? "device belongs to another vendor" : "unknown device",
		    NULL);
		refused = 1;
	} else
		M->S.dev = d;
	M->device_chosen = !refused;
	if ((a = mon_body()) != NULL && buf_put_u32(a, (uint32_t)refused) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

static const char *
mon_answer_touch_begin(struct mon *M, struct buf *req)
{
	struct mm_touch_ask ask;
	struct buf *a;
	uint8_t agent_req, has_channel, wait, transfer;

	if (M->S.au.who == NULL || M->touch_ok || M->touch_asked)
		return ("no touch check due");
	if (M->S.au.role == ROLE_ENGINEER && !M->device_chosen)
		return ("no device chosen");
	if (buf_get_u8(req, &agent_req) != 0 ||
	    buf_get_u8(req, &has_channel) != 0 ||
	    buf_get_u8(req, &wait) != 0 || buf_get_u8(req, &transfer) != 0)
		return ("malformed");
	/* transfer is the child's word: a window admits it only on the
	 * condition that the recording it opens is a transfer (checked in
	 * mon_answer_recording_open) */
	touch_mon_begin(&M->S, agent_req, has_channel, wait, transfer,
	    &M->st, &M->guard, M->challenge, &ask);
	if (ask.status == MM_TOUCH_SKIP)
		M->touch_ok = 1;
	else if (ask.status == MM_TOUCH_WINDOW) {
		M->touch_ok = 1;
		/* only a transfer may follow (recording.open), and no
		 * forward (relay_forward_check) */
		M->S.touch_window = 1;
	} else if (ask.status == MM_TOUCH_ASK)
		M->touch_asked = 1;
	if ((a = mon_body()) != NULL &&
	    buf_put_u32(a, (uint32_t)ask.status) == 0 &&
	    buf_put_cstring(a, ask.why) == 0 &&
	    buf_put_string(a, ask.challenge, ask.status == MM_TOUCH_ASK ?
	    sizeof(ask.challenge) : 0) == 0 &&
	    buf_put_u64(a, (uint64_t)ask.until) == 0 &&
	    buf_put_u32(a, ask.window_s) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

static const char *
mon_answer_touch_verify(struct mon *M, struct buf *req)
{
	const uint8_t *sig;
	size_t len;
	uint32_t counter = 0, prev = 0;
	time_t until = 0;
	struct buf *a;
	uint8_t has;
	int v;

	if (!M->touch_asked)
		return ("no challenge out");
	if (buf_get_u8(req, &has) != 0 ||
	    buf_get_string_direct(req, &sig, &len, 8192) != 0)
		return ("malformed");
	M->touch_asked = 0;
	v = has ? touch_mon_verify(&M->S, M->st, M->challenge, sig, len,
	    &counter, &prev, &until) : MM_V_ABORTED;
	touch_mon_release(&M->st, &M->guard);
	explicit_bzero(M->challenge, sizeof(M->challenge));
	if (v == MM_V_OK)
		M->touch_ok = 1;
	if ((a = mon_body()) != NULL && buf_put_u32(a, (uint32_t)v) == 0 &&
	    buf_put_u32(a, counter) == 0 && buf_put_u32(a, prev) == 0 &&
	    buf_put_u64(a, (uint64_t)until) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

static void
mon_approval_reply(struct mon *M, const struct mm_approval *ap)
{
	struct buf *a;

	M->appr_state = ap->status;
	if ((a = mon_body()) != NULL &&
	    buf_put_u32(a, (uint32_t)ap->status) == 0 &&
	    buf_put_u64(a, (uint64_t)ap->id) == 0 &&
	    buf_put_cstring(a, ap->by) == 0 &&
	    buf_put_cstring(a, ap->text) == 0 &&
	    buf_put_u32(a, ap->timeout_s) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
}

static const char *
mon_answer_approval_check(struct mon *M, struct buf *req)
{
	struct mm_approval ap;

	(void)req;
	if (!mon_is_engineer(M) || !M->device_chosen || M->S.dev == NULL)
		return ("no device chosen");
	approval_mon_check(&M->S, &ap);
	mon_approval_reply(M, &ap);
	return (NULL);
}

static const char *
mon_answer_approval_request(struct mon *M, struct buf *req)
{
	struct mm_approval ap;
	char reason[256];
	size_t i;

	if (M->appr_state != MM_APPR_NEEDED || M->appr_id != 0)
		return ("no approval needed");
	if (mon_get_str(req, reason, sizeof(reason)) != 0)
		return ("malformed");
	for (i = 0; reason[i] != '\0'; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			reason[i] = ' ';
	approval_mon_request(&M->S, reason, &ap);
	if (ap.status == MM_APPR_PENDING) {
		M->appr_id = ap.id;
		M->appr_deadline = time(NULL) +
		    (time_t)M->S.pol->approval_timeout;
	}
	mon_approval_reply(M, &ap);
	return (NULL);
}

static int64_t
mon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static const char *
mon_answer_approval_poll(struct mon *M, struct buf *req)
{
	static int64_t last;
	struct mm_approval ap;
	int64_t wait;

	(void)req;
	if (M->appr_id == 0 || M->appr_state != MM_APPR_PENDING)
		return ("no request pending");
	/* paced: a child that spins gets its answers no faster */
	if ((wait = last + MON_APPROVAL_PACE_MS - mon_now_ms()) > 0) {
		struct timespec ts = { 0, (long)wait * 1000000L };

		nanosleep(&ts, NULL);
	}
	last = mon_now_ms();
	approval_mon_poll(&M->S, M->appr_id, M->appr_deadline, &ap);
	mon_approval_reply(M, &ap);
	return (NULL);
}

static const char *
mon_answer_approval_cancel(struct mon *M, struct buf *req)
{
	struct mm_approval ap;
	uint8_t at_prompt;

	if (buf_get_u8(req, &at_prompt) != 0)
		return ("malformed");
	if (at_prompt ? (M->appr_state != MM_APPR_NEEDED || M->appr_id != 0) :
	    (M->appr_state != MM_APPR_PENDING || M->appr_id == 0))
		return ("nothing to cancel");
	approval_mon_cancel(&M->S, at_prompt ? 0 : M->appr_id, &ap);
	mon_approval_reply(M, &ap);
	if (ap.status == MM_APPR_DECIDED)
		M->appr_state = MM_APPR_PENDING;	/* the next poll says */
	return (NULL);
}

/* ---- recording, device, forwards ----------------------------------------- */

static const char *
mon_answer_recording_open(struct mon *M, struct buf *req)
{
	char id[64], path[MON_PATH_MAX + 1], tell[1024], *cmd = NULL;
	struct buf *a;
	uint32_t kind;
	uint8_t has;
	int fd = -1, r;

	if (!mon_is_engineer(M) || !M->device_chosen || !M->touch_ok ||
	    !mon_approved(M))
		return ("not cleared for a session");
	if (buf_get_u32(req, &kind) != 0 || buf_get_u8(req, &has) != 0 ||
	    buf_get_cstring(req, &cmd, 16384) != 0)
		return ("malformed");
	if ((kind != SESS_SHELL && kind != SESS_EXEC && kind !=
	    SESS_SUBSYSTEM && kind != SESS_FORWARD) ||
	    (kind != SESS_FORWARD && M->S.dev == NULL)) {
		free(cmd);
		return ("a session kind that does not fit the device");
	}
	if (M->S.touch_window && !touch_is_transfer((int)kind, has ? cmd :
	    NULL)) {
		free(cmd);
		return ("admitted by a transfer window, but not a transfer");
	}
	M->S.kind = (enum sess_kind)kind;
	free(M->S.command);
	M->S.command = has ? cmd : NULL;
	if (!has)
		free(cmd);
	id[0] = path[0] = '\0';
	r = rec_mon_open(&M->S, &fd, id, sizeof(id), path, sizeof(path), tell,
	    sizeof(tell));
	if (r == 0) {
		M->rec_open = 1;
		snprintf(M->rec_id, sizeof(M->rec_id), "%s", id);
		snprintf(M->rec_path, sizeof(M->rec_path), "%s", path);
	}
	if ((a = mon_body()) != NULL && buf_put_u32(a, r == 0 ? 0 : 1) == 0 &&
	    buf_put_cstring(a, id) == 0 && buf_put_cstring(a, path) == 0 &&
	    buf_put_cstring(a, r == 0 ? "" : tell) == 0)
		(void)mon_reply(M, MANS_OK, a, &fd, fd != -1 ? 1 : 0);
	buf_free(a);
	if (fd != -1)
		close(fd);		/* the child's now: we keep no copy */
	return (NULL);
}

/*
 * The bastion's own end of a connection it made (ADDR:PORT, as the
 * session's source and destination are written): what the device's sshd
 * or service logs as the peer, so that its log lines can be tied to one
 * session when several run (docs/AUDIT.md, "Matching the device's log").
 */
static void
mon_local_end(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct netaddr a;
	char addr[64];
	unsigned port;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    netaddr_from_sockaddr((struct sockaddr *)&ss, &a) != 0) {
		snprintf(out, len, "?");
		return;
	}
	port = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	snprintf(out, len, "%s:%u", netaddr_str(&a, addr, sizeof(addr)), port);
}

static void
mon_device_event(struct mon *M, const char *result, const char *why)
{
	char addr[64];

	netaddr_str(&M->S.dev->addr, addr, sizeof(addr));
	if (why != NULL)
		audit_event("device.connect", "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "device", M->S.dev->name, "to", addr,
		    "result", result, "reason", why, NULL);
	else
		audit_event("device.connect", "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "device", M->S.dev->name, "to", addr,
		    "local", M->dev_local[0] != '\0' ? M->dev_local : NULL,
		    "result", result, "kind", M->S.kind == SESS_SHELL ?
		    "shell" : M->S.kind == SESS_EXEC ? "exec" : "subsystem",
		    "command", M->S.command, NULL);
}

static const char *
mon_answer_device_connect(struct mon *M, struct buf *req)
{
	const struct policy_device *d = M->S.dev;
	char why[512], addr[64], cwhy[256];
	struct buf *a;
	int fds[2] = { -1, -1 }, n = 0;

	(void)req;
	if (!M->rec_open || d == NULL || M->S.kind == SESS_FORWARD)
		return ("no session to connect");
	why[0] = '\0';
	netaddr_str(&d->addr, addr, sizeof(addr));
	/* the address from the policy, checked against the vendor's
	 * segments again (sess_device_allowed), nowhere else */
	if (!sess_device_allowed(&M->S, d))
		snprintf(why, sizeof(why), "%s is not one of vendor %s's "
		    "devices", d->name, M->S.au.who->vendor->name);
	else if ((fds[0] = relay_connect(&d->addr, d->port,
	    DEVICE_TIMEOUT_DEFAULT * 1000, cwhy, sizeof(cwhy))) == -1) {
		if (strcmp(cwhy, strerror(ETIMEDOUT)) == 0)
			snprintf(why, sizeof(why), "cannot reach %s at %s port "
			    "%d: no answer within %d seconds. Try again later; "
			    "if it persists, tell the hospital's admin",
			    d->name, addr, (int)d->port,
			    DEVICE_TIMEOUT_DEFAULT);
		else
			snprintf(why, sizeof(why), "cannot reach %s at %s port "
			    "%d: %s", d->name, addr, (int)d->port, cwhy);
	} else {
		mon_local_end(fds[0], M->dev_local, sizeof(M->dev_local));
		if (credagent_new(d, &fds[1], &M->agent, why,
		    sizeof(why)) != 0) {
			close(fds[0]);
			fds[0] = -1;
		} else
			n = 2;
	}
	M->device_connected = 1;
	if (n != 2)
		mon_device_event(M, "fail", why);
	if ((a = mon_body()) != NULL && buf_put_u32(a, n == 2 ? 0 : 1) == 0 &&
	    buf_put_cstring(a, why) == 0)
		(void)mon_reply(M, MANS_OK, a, fds, n);
	buf_free(a);
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	if (n != 2)
		M->device_up = -1;
	return (NULL);
}

static const char *
mon_answer_device_result(struct mon *M, struct buf *req)
{
	char why[513], shown[MON_TEXT_MAX + 1];
	struct buf *a;
	uint8_t ok;

	if (!M->device_connected || M->device_up != 0)
		return ("no device connection out");
	if (buf_get_u8(req, &ok) != 0 || mon_get_str(req, why,
	    sizeof(why)) != 0)
		return ("malformed");
	credagent_free(M->agent);
	M->agent = NULL;
	M->device_up = ok ? 1 : -1;
	if (ok)
		mon_device_event(M, "ok", NULL);
	else {
		/* the child's words (it saw the device): clean, bounded */
		mon_text_clean(why, shown, sizeof(shown));
		mon_device_event(M, "fail", shown);
	}
	if ((a = mon_body()) != NULL)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

static const char *
mon_answer_session_register(struct mon *M, struct buf *req)
{
	struct mon_msg m;
	struct buf *a;
	int r;

	(void)req;
	if (!M->rec_open || (M->S.kind != SESS_FORWARD && M->device_up != 1))
		return ("no session to register");
	if (strlen(M->S.sid) > MON_SID_MAX)
		return ("a session number the listener cannot take");
	memset(&m, 0, sizeof(m));
	m.type = MON_SESSION;
	snprintf(m.sid, sizeof(m.sid), "%s", M->S.sid);
	snprintf(m.engineer, sizeof(m.engineer), "%s", M->S.au.who->name);
	snprintf(m.vendor, sizeof(m.vendor), "%s",
	    M->S.au.who->vendor->name);
	snprintf(m.device, sizeof(m.device), "%s", M->S.dev != NULL ?
	    M->S.dev->name : "-");
	m.grant = M->S.grant_id;
	snprintf(m.path, sizeof(m.path), "%s", M->rec_path);
	if ((r = mon_tell_listener(M, &m)) == 0) {
		M->phase = MPH_RELAY;
		/* what authentication, PAM, the state store and the touch
		 * check left behind goes back to the system: the monitor
		 * idles from here, for hours (bench/RESULTS.md, row 5) */
		(void)malloc_trim(0);
	}
	else
		log_error("session %s: cannot register the session with the "
		    "listener", M->S.sid);
	if ((a = mon_body()) != NULL && buf_put_u32(a, r == 0 ? 0 : 1) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

static const char *
mon_answer_forward_connect(struct mon *M, struct buf *req)
{
	const struct policy_device *d = NULL;
	char host[256], need[256], dest[96], addr[64], to[96], cwhy[256];
	char local[96];
	const char *why;
	struct buf *a;
	uint32_t port;
	int fd = -1;
	enum mm_fwd st = MM_FWD_OK;

	if (!mon_is_engineer(M) || !M->rec_open)
		return ("no session");
	if (mon_get_str(req, host, sizeof(host)) != 0 ||
	    buf_get_u32(req, &port) != 0 || port > 65535)
		return ("malformed");
	snprintf(dest, sizeof(dest), "%.64s:%u", host, port);
	/* the same rules the child applies before it asks: a child that
	 * asks for what they refuse is not the child we started */
	if ((why = relay_forward_check(&M->S, host, (int)port, &d, need,
	    sizeof(need))) != NULL) {
		char v[400];

		snprintf(v, sizeof(v), "a forward to %s: %s", dest, why);
		audit_event("forward.refused", "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "to", dest, "reason", why, "by",
		    "monitor", NULL);
		mon_violation(M, "forward.connect", v);
		return (NULL);
	}
	netaddr_str(&d->addr, addr, sizeof(addr));
	snprintf(to, sizeof(to), "%s:%u", addr, port);
	if ((fd = relay_connect(&d->addr, (uint16_t)port,
	    MON_FORWARD_CONNECT_MS, cwhy, sizeof(cwhy))) == -1) {
		audit_event("forward.open", "session", M->S.sid, "user",
		    M->S.au.who->name, "from", M->S.peerstr, "device",
		    d->name, "to", addr, "port", dest, "result", "fail",
		    "reason", cwhy, NULL);
		st = MM_FWD_FAILED;
	} else {
		M->forwards++;
		mon_local_end(fd, local, sizeof(local));
		audit_event("forward.open", "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "device", d->name, "to", to,
		    "local", local, "result", "ok", NULL);
	}
	if ((a = mon_body()) != NULL && buf_put_u32(a, (uint32_t)st) == 0 &&
	    buf_put_cstring(a, fd == -1 ? cwhy : "") == 0)
		(void)mon_reply(M, MANS_OK, a, &fd, fd != -1 ? 1 : 0);
	buf_free(a);
	if (fd != -1)
		close(fd);
	return (NULL);
}

static const char *
mon_answer_session_end(struct mon *M, struct buf *req)
{
	char reason[300];
	struct mon_msg m;
	struct buf *a;

	if (mon_get_str(req, reason, sizeof(reason)) != 0)
		return ("malformed");
	memset(&m, 0, sizeof(m));
	m.type = MON_END;
	mon_text_clean(reason, m.text, sizeof(m.text));
	if (M->phase == MPH_RELAY)
		(void)mon_tell_listener(M, &m);
	if ((a = mon_body()) != NULL)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

/* ---- console verbs --------------------------------------------------------- */

static int mon_console_done;

/* What a verb writes, to the child in pieces. */
static int
mon_console_out(struct sess *S, int is_stderr, const void *p, size_t n)
{
	struct mon *M = S->mon;
	const uint8_t *q = p;
	struct buf *a;
	size_t k, left = n;

	if (M->violation)
		return (-1);
	while (left > 0) {
		k = left > MREQ_OUT_CHUNK ? MREQ_OUT_CHUNK : left;
		if ((a = mon_body()) == NULL ||
		    buf_put_u8(a, (uint8_t)(is_stderr != 0)) != 0 ||
		    buf_put_string(a, q, k) != 0 ||
		    mon_reply(M, MANS_CONSOLE_OUT, a, NULL, 0) != 0) {
			buf_free(a);
			return (-1);
		}
		buf_free(a);
		q += k;
		left -= k;
	}
	return ((int)n);
}

/* Has the person given up? The child says so (CONSOLE_CANCEL). */
static int
mon_console_cancelled(struct sess *S, unsigned wait_ms)
{
	static int cancelled;
	struct mon *M = S->mon;
	struct buf *b = NULL;
	int t, n = 0, r;

	if (cancelled || M->violation)
		return (1);
	r = mreq_recv(M->fd, &t, &b, NULL, &n, (int)wait_ms);
	buf_free(b);
	if (r == BERR_TIMEOUT)
		return (0);
	if (r == 0 && t == MREQ_CONSOLE_CANCEL)
		M->count[MREQ_CONSOLE_CANCEL]++;
	else if (r == 0)
		mon_violation(M, "console.run", "another request while a "
		    "verb runs");
	cancelled = 1;
	return (1);
}

static const char *
mon_answer_console_run(struct mon *M, struct buf *req)
{
	struct buf *a;
	uint32_t kind;
	uint8_t pty;
	char *cmd = NULL;
	int rc;

	if (M->S.au.who == NULL || (M->S.au.role != ROLE_ADMIN &&
	    M->S.au.role != ROLE_AUDITOR) || !M->touch_ok)
		return ("no console for this login");
	if (buf_get_u32(req, &kind) != 0 || buf_get_u8(req, &pty) != 0 ||
	    buf_get_cstring(req, &cmd, 16384) != 0)
		return ("malformed");
	M->S.kind = kind == SESS_EXEC ? SESS_EXEC : SESS_SHELL;
	M->S.has_pty = pty != 0;
	free(M->S.command);
	M->S.command = cmd[0] != '\0' ? cmd : NULL;
	if (M->S.command == NULL)
		free(cmd);
	M->S.mon = M;
	M->S.out_fn = mon_console_out;
	M->S.cancel_fn = mon_console_cancelled;
	rc = M->S.au.role == ROLE_ADMIN ? console_run(&M->S) :
	    auditor_run(&M->S);
	M->S.out_fn = NULL;
	M->S.cancel_fn = NULL;
	mon_console_done = 1;
	if (M->violation)
		return (NULL);
	if ((a = mon_body()) != NULL && buf_put_u32(a, (uint32_t)rc) == 0)
		(void)mon_reply(M, MANS_CONSOLE_DONE, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

/* A cancel that crossed the verb's end: nothing to do, no answer. */
static const char *
mon_answer_console_cancel(struct mon *M, struct buf *req)
{
	(void)M;
	(void)req;
	return (mon_console_done ? NULL : "no verb runs");
}

/* ---- audit events from the child ------------------------------------------ */

/* The monitor's own value for a field it stamps, or NULL if it does not
 * stamp key. "-" (a field the child left empty) always agrees. */
static const char *
mon_stamp(const struct mon *M, const char *key)
{
	const struct auth_result *au = &M->S.au;

	if (strcmp(key, "user") == 0)
		return (au->who != NULL ? au->who->name : "-");
	if (strcmp(key, "vendor") == 0)
		return (au->who != NULL && au->who->vendor != NULL ?
		    au->who->vendor->name : "-");
	if (strcmp(key, "role") == 0)
		return (au->role == ROLE_ADMIN ? "admin" : au->role ==
		    ROLE_AUDITOR ? "auditor" : "-");
	if (strcmp(key, "from") == 0)
		return (M->S.peerstr);
	return (NULL);
}

static const char *
mon_answer_audit(struct mon *M, struct buf *req)
{
	static const char *const first[] = { "ts", "event", "pid" };
	char *line = NULL, key[64], *vals = NULL, event[64];
	const char *k[MON_AUDIT_FIELDS], *v[MON_AUDIT_FIELDS], *p, *end;
	const char *why = NULL, *stamp;
	size_t i, nf = 0, vo = 0, e;
	time_t now = time(NULL);
	struct buf *a;
	int r, kept = -1, allowed = 0;

	if (now - M->aud_window >= MON_AUDIT_WINDOW) {
		M->aud_window = now;
		M->aud_count = 0;
	}
	if (++M->aud_count > MON_AUDIT_BURST)
		return ("an audit event flood");
	if (buf_get_cstring(req, &line, MON_AUDIT_MAX) != 0)
		return ("malformed");
	if ((vals = malloc(MON_AUDIT_MAX * 2 + 2)) == NULL) {
		free(line);
		return ("out of memory");
	}
	memset(k, 0, sizeof(k));
	memset(v, 0, sizeof(v));
	k[nf] = "session";
	v[nf++] = M->S.sid;
	event[0] = '\0';
	p = line;
	end = line + strlen(line);
	for (i = 0; why == NULL; i++) {
		char *val = vals + vo;

		r = auditlog_field_next(&p, end, key, sizeof(key), val,
		    MON_AUDIT_MAX * 2 + 2 - vo);
		if (r == BERR_NOTFOUND)
			break;
		if (r != 0) {
			why = "a malformed audit line";
			break;
		}
		if (i < 3) {
			if (strcmp(key, first[i]) != 0)
				why = "not an audit line";
			else if (i == 1)
				snprintf(event, sizeof(event), "%s", val);
			continue;	/* ts and pid: the monitor's */
		}
		if (strcmp(key, "session") == 0) {
			if (strcmp(val, M->S.sid) != 0)
				why = "another session";
			continue;
		}
		if (strcmp(key, "chain") == 0 || strcmp(key, "ts") == 0 ||
		    strcmp(key, "pid") == 0 || strcmp(key, "event") == 0) {
			why = "a field only the monitor writes";
			break;
		}
		if ((stamp = mon_stamp(M, key)) != NULL &&
		    strcmp(val, "-") != 0 && strcmp(val, stamp) != 0) {
			why = "a user, vendor, role or address that is not "
			    "the session's";
			break;
		}
		if (nf >= MON_AUDIT_FIELDS) {
			why = "too many fields";
			break;
		}
		vo += strlen(val) + 1;
		for (e = 0; e < nf; e++)
			if (strcmp(k[e], key) == 0)
				why = "a field twice";
		/* keys live in the line as written: copy them beside */
		k[nf] = strcpy(vals + vo, key);
		vo += strlen(key) + 1;
		v[nf++] = val;
	}
	if (why == NULL && i < 3)
		why = "not an audit line";
	for (e = 0; why == NULL && e < sizeof(mon_audit_events) /
	    sizeof(mon_audit_events[0]); e++)
		if (strcmp(event, mon_audit_events[e].event) == 0 &&
		    (mon_audit_events[e].phases & M->phase) != 0)
			allowed = 1;
	if (why == NULL && !allowed)
		why = "an event this phase of the session may not report";
	if (why != NULL) {
		char shown[MON_TEXT_MAX + 1];

		mon_text_clean(event, shown, sizeof(shown));
		log_warn("session %s: the child's audit event \"%s\" is "
		    "refused: %s", M->S.sid, shown, why);
		audit_event("monitor.audit_refused", "session", M->S.sid,
		    "user", mon_stamp(M, "user"), "from", M->S.peerstr,
		    "event_name", shown, "reason", why, NULL);
		free(line);
		free(vals);
		return (why);
	}
	/* stamped: the monitor's time, pid and session, the child's fields */
	kept = audit_event(event, k[0], v[0], k[1], v[1], k[2], v[2], k[3],
	    v[3], k[4], v[4], k[5], v[5], k[6], v[6], k[7], v[7], k[8], v[8],
	    k[9], v[9], k[10], v[10], k[11], v[11], k[12], v[12], k[13], v[13],
	    k[14], v[14], k[15], v[15], k[16], v[16], k[17], v[17], k[18],
	    v[18], k[19], v[19], k[20], v[20], k[21], v[21], k[22], v[22],
	    k[23], v[23], NULL);
	free(line);
	free(vals);
	if ((a = mon_body()) != NULL && buf_put_u32(a, kept == 0 ? 0 : 1) == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
	return (NULL);
}

/* ---- the loop --------------------------------------------------------------- */

/* One request: look it up, check it against the table, answer it. 0, or
 * -1 when the child is gone or was killed. */
static int
mon_dispatch(struct mon *M)
{
	const struct mon_entry *e = NULL;
	struct buf *req = NULL;
	const char *why;
	char name[32];
	int type, n = 0, r;

	r = mreq_recv(M->fd, &type, &req, NULL, &n, 0);
	if (r == BERR_TIMEOUT)
		return (0);
	if (r == BERR_CLOSED)
		return (-1);
	if (r != 0) {
		mon_violation(M, "-", "a malformed message");
		return (-1);
	}
	if (type > 0 && type < MREQ_MAX && mon_table[type].answer != NULL)
		e = &mon_table[type];
	snprintf(name, sizeof(name), "%d", type);
	if (e == NULL)
		why = "an unknown request";
	else if ((e->phases & M->phase) == 0)
		why = "a request this phase does not allow";
	else if (e->max != 0 && M->count[type] >= e->max)
		why = "a request made more often than allowed";
	else if (buf_len(req) > e->maxlen)
		why = "a request longer than allowed";
	else {
		M->count[type]++;
		why = e->answer(M, req);
	}
	buf_free(req);
	if (why != NULL)
		mon_violation(M, e != NULL ? e->name : name, why);
	return (M->violation ? -1 : 0);
}

/* The listener's lines: K, L and R go on to the child. */
static int
mon_ctl_line(const char *line, size_t len, void *arg)
{
	struct mon *M = arg;
	char out[MON_LINE_MAX];
	struct mon_msg m;

	if (mon_parse(line, len, &m) != 0 || (m.type != MON_KILL &&
	    m.type != MON_LOCK && m.type != MON_REVOKE) ||
	    mon_format(&m, out, sizeof(out)) != 0) {
		log_warn("session %s: a line from the listener that a monitor "
		    "does not take; ignored", M->S.sid);
		return (0);
	}
	if (M->notify_fd != -1)
		(void)io_write_all(M->notify_fd, out, strlen(out));
	return (0);
}

static void
mon_ctl_read(struct mon *M)
{
	char b[MON_LINE_MAX];
	ssize_t n;

	n = read(M->ctl_fd, b, sizeof(b));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || mon_reader_feed(&M->ctl, b, (size_t)n, mon_ctl_line,
	    M) == BERR_LIMIT) {
		/* no listener, no session: the child's relay sees its
		 * notify pipe close and ends (relay_mon_gone) */
		M->ctl_gone = 1;
		if (M->notify_fd != -1) {
			close(M->notify_fd);
			M->notify_fd = -1;
		}
	}
}

void
mon_loop(struct mon *M)
{
	struct pollfd pfd[3];
	int n, ci, ai, r;

	mon_reader_init(&M->ctl);
	while (!M->violation) {
		n = 0;
		pfd[n].fd = M->fd;
		pfd[n++].events = POLLIN;
		ci = ai = -1;
		if (!M->ctl_gone) {
			ci = n;
			pfd[n].fd = M->ctl_fd;
			pfd[n++].events = POLLIN;
		}
		if (M->agent != NULL) {
			ai = n;
			pfd[n].fd = credagent_fd(M->agent);
			pfd[n++].events = POLLIN;
		}
		if ((r = poll(pfd, (nfds_t)n, -1)) < 0) {
			if (errno == EINTR)
				continue;
			log_error("session %s: monitor: poll: %s", M->S.sid,
			    strerror(errno));
			mon_kill_child(M);
			return;
		}
		if (ai >= 0 && pfd[ai].revents != 0 &&
		    credagent_answer(M->agent, M->S.sid) != 0) {
			/* refused or gone: the device login fails */
			credagent_free(M->agent);
			M->agent = NULL;
		}
		if (ci >= 0 && pfd[ci].revents != 0)
			mon_ctl_read(M);
		if (pfd[0].revents != 0 && mon_dispatch(M) != 0)
			return;
	}
}
