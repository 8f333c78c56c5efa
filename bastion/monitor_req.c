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
#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "io.h"
#include "log.h"
#include "monitor_req.h"
#include "netaddr.h"
#include "record.h"
#include "touch.h"

#define MON_APPROVAL_PACE_MS	500	/* APPROVAL_POLL answered no faster */

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
static const char *mon_answer_session_end(struct mon *, struct buf *);

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
	[MREQ_AIRLOCK] = { MREQ_AIRLOCK, "airlock",
	    MPH_RELAY, 0, 1, mon_answer_airlock },
	[MREQ_EXPORT] = { MREQ_EXPORT, "export",
	    MPH_RELAY, 0, 4200, mon_answer_export },
	[MREQ_DECL] = { MREQ_DECL, "decl",
	    MPH_AUTHED | MPH_RELAY, 8, 3, mon_answer_decl },
};



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
	audit_ev(BEV_MONITOR_VIOLATION, "session", M->S.sid, "user",
	    M->S.au.who != NULL ? M->S.au.who->name : NULL, "from",
	    M->S.peerstr, "request", request, "reason", why, NULL);
	mon_kill_child(M);
}

int
mon_tell_listener(struct mon *M, const struct mon_msg *m)
{
	char line[MON_LINE_MAX];

	if (M->ctl_gone || mon_format(m, line, sizeof(line)) != 0 ||
	    io_write_all(M->ctl_fd, line, strlen(line)) != 0)
		return (-1);
	return (0);
}

/* Send an answer; a child that cannot take it is gone. */
int
mon_reply(struct mon *M, int type, struct buf *b, const int *fds, int nfds)
{
	return (mreq_send(M->fd, type, b, fds, nfds));
}

/* The common answer: a new body for the answer function to fill. */
struct buf *
mon_body(void)
{
	return (buf_new(MREQ_MSG_MAX - 1));
}

int
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

int
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
		audit_ev(BEV_DEVICE_REFUSED, "session", M->S.sid, "user",
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
	approval_mon_request(&M->S, reason, &ap, &M->notify);
	if (ap.status == MM_APPR_PENDING) {
		M->appr_id = ap.id;
		M->appr_deadline = time(NULL) +
		    (time_t)M->S.pol->approval_timeout;
	}
	mon_approval_reply(M, &ap);
	return (NULL);
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
	if ((wait = last + MON_APPROVAL_PACE_MS - bclock_mono_ms(NULL)) > 0) {
		struct timespec ts = { 0, (long)wait * 1000000L };

		nanosleep(&ts, NULL);
	}
	last = bclock_mono_ms(NULL);
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

static void
mon_device_event(struct mon *M, const char *result, const char *why)
{
	char addr[64];

	netaddr_str(&M->S.dev->addr, addr, sizeof(addr));
	if (why != NULL)
		audit_ev(BEV_DEVICE_CONNECT, "session", M->S.sid, "user",
		    M->S.au.who->name, "vendor", M->S.au.who->vendor->name,
		    "from", M->S.peerstr, "device", M->S.dev->name, "to", addr,
		    "result", result, "reason", why, NULL);
	else
		audit_ev(BEV_DEVICE_CONNECT, "session", M->S.sid, "user",
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
	/* the admin's decision holds here too, whatever the child does
	 * with the line: no new forward from now on */
	M->ending = 1;
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
		M->ending = 1;		/* nobody left to enforce a decision */
		if (M->notify_fd != -1) {
			close(M->notify_fd);
			M->notify_fd = -1;
		}
	}
}

static void
mon_loop_run(struct mon *M)
{
	struct pollfd pfd[3 + MON_NOTIFY_MAX + MON_FORWARD_WAIT_MAX + 16];
	int n, ci, ai, fi, nf, xi, nx, r, timeout;

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
		/* notifications under way (approval_notify.c) */
		timeout = -1;
		n += notify_jobs_poll(M->notify, pfd + n, MON_NOTIFY_MAX,
		    &timeout);
		/* forwards' connections under way (monitor_fwd.c) */
		fi = n;
		nf = mon_fwd_poll(M, pfd + fi, MON_FORWARD_WAIT_MAX, &timeout);
		n += nf;
		/* file export requests waiting for an admin */
		xi = n;
		nx = mon_export_poll(M, pfd + xi, 16, &timeout);
		n += nx;
		if ((r = poll(pfd, (nfds_t)n, timeout)) < 0) {
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
		if (M->notify != NULL)
			notify_jobs_ready(&M->notify);
		if (nf > 0)
			mon_fwd_ready(M, pfd + fi, nf);
		if (M->nexports > 0)
			mon_export_ready(M, pfd + xi, nx);
		if (pfd[0].revents != 0 && mon_dispatch(M) != 0)
			return;
	}
}

void
mon_loop(struct mon *M)
{
	mon_loop_run(M);
	mon_fwd_free(M);
	mon_export_end(M);
	notify_jobs_end(&M->notify);
}
