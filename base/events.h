/*
 * events.h - the one schema of audit events: every event the bastion can
 * write, declared once, with its fields and what its readers make of it.
 *
 * An audit line is "ts=... event=NAME pid=... key=value ..." (log.h,
 * docs/AUDIT.md). BEV_MAP below declares each NAME once, as BERR_MAP in
 * err.h declares each error: its constant (BEV_SESSION_START), its name as
 * written in the line ("session.start"), who writes it (BEV_BY_*), what
 * the readers of the chain make of it (enum bev_role: the monthly report,
 * the evidence-bundle selector, the verifier, the replay header), and its
 * fields: those every line of the event carries (a value may be "-"), and
 * those some lines add. Fields are names from BEV_FIELD_MAP, so a typo in
 * the schema does not compile past tests/unit/test_events.c.
 *
 * Generated from it: enum bev, bev_name() and bev_lookup() (name <->
 * constant), bev_role(), bev_by(), bev_field_*() and bev_check() (fields
 * against the schema). audit_event() refuses a name that is not declared
 * here, and the readers match events only through bev_lookup(), never by
 * comparing strings of their own. docs/AUDIT.md lists every event of this
 * table (tests/unit/test_events.c checks both ways).
 *
 * To add an event: one line in BEV_MAP (and its new fields in
 * BEV_FIELD_MAP), one line in docs/AUDIT.md's event table, then emit it
 * with its constant.
 */
#ifndef BASTION_EVENTS_H
#define BASTION_EVENTS_H

#include <stddef.h>

/* Who writes an event (several may). */
#define BEV_BY_LISTENER	0x01	/* bastiond -D */
#define BEV_BY_MONITOR	0x02	/* a connection's monitor (root) */
#define BEV_BY_CHILD	0x04	/* its confined child, through the monitor
				   (checked there: ARCHITECTURE.md) */
#define BEV_BY_CONTROL	0x08	/* the control worker behind bastionctl */
#define BEV_BY_CTL	0x10	/* bastionctl itself */
#define BEV_BY_RECORDER	0x20	/* bastion-recorder (session=RECORDING-ID) */
#define BEV_BY_PAM	0x40	/* pam_bastion.so (journal only) */
#define BEV_BY_CHAIN	0x80	/* the audit chain's own appender */
#define BEV_BY_WEB	0x100	/* the web control worker (web.sock) */
#define BEV_BY_SHIP	0x200	/* bastion-ship (session=RECORDING-ID) */
/* the admin verbs run in the monitor (ssh console) and the control worker */
#define BEV_BY_VERB	(BEV_BY_MONITOR | BEV_BY_CONTROL | BEV_BY_WEB)

/*
 * What the readers of the chain learn from an event (one role each):
 * name, the report's heading it feeds, and a sentence.
 */
#define BEV_ROLE_MAP(R)                                                    \
	R(NONE, "-", "not read by the report or the bundle tools")         \
	R(ANCHOR, "RECORDING", "a session's recording id; anchors its "    \
	    "lines (bundle) and its row (report)")                         \
	R(START, "ENGINEER, VENDOR, DEVICE", "who, from where, to where, " \
	    "which grant")                                                 \
	R(CONNECT, "device saw", "the bastion's end toward the device")    \
	R(ADMIT_WINDOW, "APPROVAL", "admitted within a time window")       \
	R(ADMIT_GRANT, "APPROVAL", "admitted by an earlier grant")         \
	R(ADMIT_REQUEST, "APPROVAL", "admitted by a request approved now") \
	R(APPROVER, "approvers", "who approved a request")                 \
	R(END, "DURATION", "end time, bytes, why it ended")                \
	R(WORK, "PATIENT DATA", "the engineer's work record")              \
	R(SEALED, "recording", "the recorder sealed a recording (seal "    \
	    "witness)")                                                    \
	R(TORN, "chain", "a torn write sealed off")

enum bev_role {
#define BEV_ROLE_ENUM(id, heading, what) BEV_ROLE_##id,
	BEV_ROLE_MAP(BEV_ROLE_ENUM)
#undef BEV_ROLE_ENUM
	BEV_ROLE_COUNT
};

/* Every field an event may carry (ts, event and pid: every line). */
#define BEV_FIELD_MAP(F)                                                   \
	F(ts) F(event) F(pid)                                              \
	F(admin) F(aaguid) F(alert) F(approvals) F(attested) F(by)         \
	F(bytes) F(bytes_in) F(bytes_out) F(command) F(count) F(counter)   \
	F(detail) F(device) F(devices) F(duration) F(engineer) F(error)    \
	F(event_name) F(factor) F(flags) F(frames) F(from) F(grant)        \
	F(head) F(key) F(kind) F(live_sessions) F(local) F(lock_reason)    \
	F(locked_by) F(login) F(opened_by) F(path) F(pam_id)               \
	F(personal_info) F(policy) F(port) F(problems) F(reason)           \
	F(records) F(recording) F(request) F(reset_counter) F(result)      \
	F(role) F(ruser) F(service) F(session) F(sha256) F(source)         \
	F(status) F(subject) F(to) F(touched_key) F(tty) F(uid) F(until)   \
	F(user) F(vendor) F(vendors) F(verb) F(via) F(window) F(worker)    \
	F(seconds) F(truncated)                                            \
	F(assertion) F(cred) F(challenge) F(action) F(authdata)            \
	F(clientdata) F(sig) F(person) F(alg) F(pubkey)                    \
	F(old_keys) F(new_keys) F(recipients)                                         \
	F(direction) F(size) F(sequential) F(file)                         \
	F(rp_id) F(origin) F(uv)                                           \
	F(node) F(peers) F(tries) F(retry_in) F(seen)                     \
	F(files) F(personal) F(erased) F(answered_in)                      \
	F(about)

/* fields shared by several events, spelled once */
#define BEV_F_TOUCH "session user role vendor from device key result " \
	"counter flags reason alert"
/* an admin's decision on a file export request (verbs/cmd-files.c) */
#define BEV_F_EXPORT "request admin via engineer vendor device path size " \
	"sha256"
#define BEV_F_WINDOW "session user vendor from device key touched_key " \
	"opened_by until window result"
#define BEV_F_PAM "service user from ruser tty pam_id result"

/*
 * X(ID, "name", BEV_BY_*, role, "fields every line has", "fields some
 * lines add"). Sorted by name.
 */
#define BEV_MAP(X)                                                         \
	X(APPROVAL_APPROVE, "approval.approve", BEV_BY_VERB, APPROVER,     \
	    "request admin via engineer vendor device duration approvals " \
	    "grant result", "assertion")                                   \
	X(APPROVAL_CANCELLED, "approval.cancelled", BEV_BY_MONITOR, NONE,  \
	    "session user device", "request reason")                       \
	X(APPROVAL_DENY, "approval.deny", BEV_BY_VERB, NONE,               \
	    "request admin via engineer vendor device reason", "assertion")\
	X(APPROVAL_EXPIRED, "approval.expired", BEV_BY_MONITOR, NONE,      \
	    "session request user device", "")                             \
	X(APPROVAL_GRANT_USED, "approval.grant_used", BEV_BY_MONITOR,      \
	    ADMIT_GRANT, "session user device grant", "")                  \
	X(APPROVAL_REQUESTED, "approval.requested", BEV_BY_MONITOR,        \
	    ADMIT_REQUEST, "session request user vendor from device "      \
	    "reason", "")                                                  \
	X(APPROVAL_WINDOW, "approval.window", BEV_BY_MONITOR,              \
	    ADMIT_WINDOW, "session user device result", "")                \
	X(AUDIT_CHECKPOINT, "audit.checkpoint", BEV_BY_LISTENER, NONE,     \
	    "node peers reason", "")                                       \
	X(AUDIT_TORN_TAIL, "audit.torn_tail", BEV_BY_CHAIN, TORN,          \
	    "bytes sha256", "")                                            \
	X(AUTH_FACTOR, "auth.factor", BEV_BY_MONITOR, NONE,                \
	    "session user from factor result", "key reason")               \
	X(AUTH_RESULT, "auth.result", BEV_BY_MONITOR, NONE,                \
	    "session user from result", "reason key role vendor via")      \
	X(BASTION_START, "bastion.start", BEV_BY_LISTENER, NONE,           \
	    "policy", "")                                                  \
	X(BASTION_STOP, "bastion.stop", BEV_BY_LISTENER, NONE, "", "")     \
	X(CONN_REFUSED, "conn.refused", BEV_BY_LISTENER, NONE,             \
	    "from reason", "via")                                          \
	X(CONN_REFUSED_SUPPRESSED, "conn.refused_suppressed",              \
	    BEV_BY_LISTENER, NONE, "count reason", "")                     \
	X(CONSOLE_VERB, "console.verb", BEV_BY_VERB, NONE,                 \
	    "user verb status", "session role from recording login via")   \
	X(CTL_REFUSED, "ctl.refused", BEV_BY_LISTENER, NONE,               \
	    "user reason", "")                                             \
	X(DEVICE_CONNECT, "device.connect", BEV_BY_MONITOR, CONNECT,       \
	    "session user vendor from device to result",                   \
	    "reason local kind command")                                   \
	X(DEVICE_REFUSED, "device.refused", BEV_BY_MONITOR, NONE,          \
	    "session user vendor from device reason", "")                  \
	X(ENGINEER_LOCK, "engineer.lock", BEV_BY_VERB, NONE,               \
	    "engineer admin via reason live_sessions", "assertion")        \
	X(ENGINEER_UNLOCK, "engineer.unlock", BEV_BY_VERB, NONE,           \
	    "engineer admin via locked_by lock_reason", "assertion")       \
	X(FILE_EXPORT_APPROVED, "file.export_approved", BEV_BY_VERB, NONE, \
	    BEV_F_EXPORT, "assertion")                                     \
	X(FILE_EXPORT_DENIED, "file.export_denied", BEV_BY_VERB, NONE,     \
	    BEV_F_EXPORT " reason", "assertion")                           \
	X(FILE_EXPORT_EXPIRED, "file.export_expired", BEV_BY_MONITOR, NONE,\
	    "session request user device path", "")                        \
	X(FILE_EXPORT_REQUESTED, "file.export_requested", BEV_BY_MONITOR,  \
	    NONE, "session request user vendor device path size sha256",   \
	    "")                                                            \
	X(FILE_TRANSFER, "file.transfer", BEV_BY_CHILD, NONE,              \
	    "session user vendor device file direction path bytes size "   \
	    "sha256 sequential result", "reason")                          \
	X(FORWARD_CLOSE, "forward.close", BEV_BY_CHILD, NONE,              \
	    "session user to bytes_in bytes_out", "")                      \
	X(FORWARD_OPEN, "forward.open", BEV_BY_MONITOR, NONE,              \
	    "session user from device to result",                          \
	    "port reason vendor local")                                    \
	X(FORWARD_REFUSED, "forward.refused",                              \
	    BEV_BY_MONITOR | BEV_BY_CHILD, NONE, "session user from reason",\
	    "vendor to kind by")                                           \
	X(GRANT_REVOKE, "grant.revoke", BEV_BY_VERB, NONE,                 \
	    "grant admin via engineer device", "assertion")                \
	X(KEY_ENROLL, "key.enroll", BEV_BY_CTL, NONE,                      \
	    "user engineer vendor key result",                             \
	    "reason attested aaguid subject")                              \
	X(KEY_UNLOCK, "key.unlock", BEV_BY_VERB, NONE,                     \
	    "user via engineer key result reset_counter", "")              \
	X(MONITOR_AUDIT_REFUSED, "monitor.audit_refused",                  \
	    BEV_BY_LISTENER | BEV_BY_MONITOR, NONE, "session reason",      \
	    "worker user from event_name")                                 \
	X(MONITOR_REFUSED, "monitor.refused", BEV_BY_LISTENER, NONE,       \
	    "session user from device reason", "")                         \
	X(MONITOR_VIOLATION, "monitor.violation",                          \
	    BEV_BY_LISTENER | BEV_BY_MONITOR, NONE, "session from reason", \
	    "user request")                                                \
	X(NOTIFY_FAILED, "notify.failed", BEV_BY_MONITOR, NONE,            \
	    "session request kind reason", "about")                        \
	X(NOTIFY_SENT, "notify.sent", BEV_BY_MONITOR, NONE,                \
	    "session request kind", "about")                               \
	X(PAM_ACCOUNT, "pam.account", BEV_BY_PAM, NONE, BEV_F_PAM,         \
	    "role vendor reason policy")                                   \
	X(PAM_SESSION_CLOSE, "pam.session_close", BEV_BY_PAM, NONE,        \
	    BEV_F_PAM, "reason duration")                                  \
	X(PAM_SESSION_OPEN, "pam.session_open", BEV_BY_PAM, NONE,          \
	    BEV_F_PAM, "reason")                                           \
	X(POLICY_RELOAD_FAILED, "policy.reload_failed", BEV_BY_LISTENER,   \
	    NONE, "policy problems reason", "")                            \
	X(POLICY_RELOADED, "policy.reloaded", BEV_BY_LISTENER, NONE,       \
	    "policy sha256 vendors devices", "")                           \
	X(RECORDER_EXIT, "recorder.exit", BEV_BY_LISTENER, NONE,           \
	    "status", "")                                                  \
	X(RECORDING_ACCESS, "recording.access", BEV_BY_MONITOR, NONE,      \
	    "session user role verb recording", "")                        \
	X(RECORDING_NOTARIZE_REFUSED, "recording.notarize_refused",        \
	    BEV_BY_RECORDER, NONE, "recording pid reason", "")             \
	X(RECORDING_NOTARIZED, "recording.notarized", BEV_BY_RECORDER,     \
	    NONE, "recording pid", "")                                     \
	X(RECORDING_PEER_REFUSED, "recording.peer_refused",                \
	    BEV_BY_RECORDER, NONE, "uid pid", "")                          \
	X(RECORDING_REFUSED, "recording.refused", BEV_BY_RECORDER, NONE,   \
	    "reason engineer device", "")                                  \
	X(RECORDING_REMOVED, "recording.removed", BEV_BY_SHIP, NONE,       \
	    "session path key sha256", "")                                 \
	X(RECORDING_REWRAP, "recording.rewrap", BEV_BY_CTL, NONE,          \
	    "recording path old_keys new_keys recipients", "")             \
	X(RECORDING_SEALED, "recording.sealed", BEV_BY_RECORDER, SEALED,   \
	    "session path status reason frames head", "")                  \
	X(RECORDING_SHIP_FAILED, "recording.ship_failed", BEV_BY_SHIP,     \
	    NONE, "session path key reason tries retry_in", "")            \
	X(RECORDING_SHIPPED, "recording.shipped", BEV_BY_SHIP, NONE,       \
	    "session path key bytes sha256 tries", "status reason")        \
	X(RECORDING_START, "recording.start", BEV_BY_RECORDER, NONE,       \
	    "session path engineer device source", "")                     \
	X(RECORDING_UNLOCK, "recording.unlock", BEV_BY_MONITOR, NONE,      \
	    "session user recording result", "reason")                     \
	X(RECORDING_UNSEALED, "recording.unsealed", BEV_BY_RECORDER, NONE, \
	    "session path reason error", "")                               \
	X(SESSION_END, "session.end", BEV_BY_CHILD, END,                   \
	    "session user vendor from device reason bytes_in bytes_out "   \
	    "seconds", "")                                                 \
	X(SESSION_FILE_DECLARATION, "session.file_declaration",            \
	    BEV_BY_MONITOR, NONE, "session user vendor device files "       \
	    "personal erased via result", "answered_in reason")            \
	X(SESSION_IDLE_WARNING, "session.idle_warning", BEV_BY_CHILD, NONE,\
	    "session user", "")                                            \
	X(SESSION_KILLED, "session.killed", BEV_BY_VERB, NONE,             \
	    "session admin via user vendor device from reason",            \
	    "assertion")                                                   \
	X(SESSION_LOST, "session.lost", BEV_BY_LISTENER, NONE,             \
	    "session node user vendor device seen", "")                    \
	X(SESSION_RECORDING, "session.recording", BEV_BY_MONITOR, ANCHOR,  \
	    "session user recording path", "")                             \
	X(SESSION_RECORDING_FAILED, "session.recording_failed",            \
	    BEV_BY_MONITOR | BEV_BY_CHILD, NONE, "session user reason", "")\
	X(SESSION_REFUSED, "session.refused", BEV_BY_MONITOR, NONE,        \
	    "session user from device reason detail", "")                  \
	X(SESSION_REVOKED, "session.revoked", BEV_BY_CHILD, NONE,          \
	    "session user device", "")                                     \
	X(SESSION_START, "session.start", BEV_BY_MONITOR, START,           \
	    "session user vendor from source device to kind command "      \
	    "recording grant", "via")                                      \
	X(SESSION_WATCH, "session.watch", BEV_BY_VERB, NONE,               \
	    "session admin via user device", "node")                       \
	X(SESSION_WATCH_REMOTE, "session.watch_remote", BEV_BY_LISTENER,   \
	    NONE, "session admin node status", "user device reason")       \
	X(SESSION_WORK_RECORD, "session.work_record", BEV_BY_CHILD, WORK,  \
	    "session user vendor device personal_info records reason", "") \
	X(SFTP_MALFORMED, "sftp.malformed", BEV_BY_CHILD, NONE,            \
	    "session user device from reason", "")                         \
	X(SFTP_REFUSED, "sftp.refused", BEV_BY_CHILD, NONE,                \
	    "session user device kind path reason", "")                    \
	X(TOUCH_BAD_SIGNATURE, "touch.bad_signature",                      \
	    BEV_BY_MONITOR | BEV_BY_CHILD, NONE, BEV_F_TOUCH, "")          \
	X(TOUCH_COUNTER_REGRESSION, "touch.counter_regression",            \
	    BEV_BY_MONITOR, NONE, BEV_F_TOUCH, "")                         \
	X(TOUCH_ERROR, "touch.error", BEV_BY_MONITOR | BEV_BY_CHILD, NONE, \
	    BEV_F_TOUCH, "")                                               \
	X(TOUCH_LOCKED, "touch.locked", BEV_BY_MONITOR, NONE,              \
	    BEV_F_TOUCH, "")                                               \
	X(TOUCH_NO_AGENT, "touch.no_agent", BEV_BY_MONITOR | BEV_BY_CHILD, \
	    NONE, BEV_F_TOUCH, "")                                         \
	X(TOUCH_NO_PIN, "touch.no_pin", BEV_BY_MONITOR, NONE,              \
	    BEV_F_TOUCH, "")                                               \
	X(TOUCH_NO_TOUCH, "touch.no_touch", BEV_BY_MONITOR | BEV_BY_CHILD, \
	    NONE, BEV_F_TOUCH, "")                                         \
	X(TOUCH_OK, "touch.ok", BEV_BY_MONITOR, NONE, BEV_F_TOUCH, "")     \
	X(TOUCH_SKIPPED, "touch.skipped", BEV_BY_MONITOR, NONE,            \
	    BEV_F_TOUCH, "")                                               \
	X(TOUCH_WINDOW_OPENED, "touch.window_opened", BEV_BY_MONITOR,      \
	    NONE, BEV_F_WINDOW, "")                                        \
	X(TOUCH_WINDOW_USED, "touch.window_used", BEV_BY_MONITOR, NONE,    \
	    BEV_F_WINDOW, "")                                              \
	X(WEB_ASSERTION, "web.assertion", BEV_BY_WEB, NONE,                \
	    "person cred counter challenge action authdata clientdata sig "\
	    "from result", "reason rp_id origin uv")                       \
	X(WEB_ENROLL, "web.enroll", BEV_BY_WEB | BEV_BY_VERB | BEV_BY_CTL, \
	    NONE, "person result", "cred alg pubkey aaguid by from reason "\
	    "via")                                                         \
	X(WEB_LOGIN, "web.login", BEV_BY_WEB, NONE, "person from result",  \
	    "cred counter role reason")                                    \
	X(WEB_LOGOUT, "web.logout", BEV_BY_WEB, NONE, "person from", "")   \
	X(WORKER_SANDBOX_VIOLATION, "worker.sandbox_violation",            \
	    BEV_BY_LISTENER, NONE, "session from reason", "")

enum bev {
	BEV_NONE = -1,		/* not a declared event */
#define BEV_ENUM(id, name, by, role, req, opt) BEV_##id,
	BEV_MAP(BEV_ENUM)
#undef BEV_ENUM
	BEV_COUNT
};

/* The name as written in audit lines ("session.start"); NULL if ev is not
 * a declared event. */
const char *bev_name(enum bev ev);
/* The event named name (len bytes, need not be NUL-terminated), or
 * BEV_NONE: how every reader of the chain matches events. */
enum bev bev_lookup(const char *name, size_t len);
/* Who writes it (BEV_BY_*), and what readers make of it; 0 and
 * BEV_ROLE_NONE for BEV_NONE. */
unsigned bev_by(enum bev ev);
enum bev_role bev_role(enum bev ev);
/* The report heading and sentence of a role ("-" for a bad one). */
const char *bev_role_heading(enum bev_role role);
const char *bev_role_what(enum bev_role role);
/* The space-separated required / optional fields of ev ("" if none). */
const char *bev_fields_required(enum bev ev);
const char *bev_fields_optional(enum bev ev);

/* 1 if key (keylen bytes) is a field of BEV_FIELD_MAP, else 0. */
int bev_field_known(const char *key, size_t keylen);
/* 1 if ev may carry the field key (required, optional, or one of ts,
 * event, pid, truncated that every line may have), else 0. */
int bev_field_allowed(enum bev ev, const char *key, size_t keylen);

/*
 * Check the field names of one event of ev against the schema: keys[0..n)
 * in the order given (ts, event and pid may be left out). 0 when every key
 * is allowed and every required field is there; else -1 with the first
 * problem in why ("field \"x\" is not declared for session.start",
 * "session.start lacks its field \"user\""). A line cut by
 * "truncated=yes" may lack required fields.
 */
int bev_check(enum bev ev, const char *const *keys, size_t n, char *why,
    size_t whylen);

#endif
