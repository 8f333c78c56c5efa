/*
 * privsep.h - one vendor connection, two processes: a privileged monitor
 * and a confined child (docs/ARCHITECTURE.md, "Privilege separation").
 *
 *   listener ──fork+exec──► bastiond --worker SID   (the monitor: root)
 *                               │ fork, before any byte is read
 *                               ▼
 *                           the child: worker_user, no_new_privs,
 *                           seccomp; libssh server and client, the relay
 *
 * The child alone touches the vendor's socket, from the first byte (key
 * exchange included) to the end. It holds no secret beyond the host key
 * it needs for key exchange (read from descriptors the monitor opened,
 * before it was demoted) and asks the monitor for everything privileged
 * through a small table of typed, length-capped requests
 * (monitor_req.c), each allowed only in its phase and only as often as
 * that phase allows. The monitor never reads the vendor's socket: it
 * holds the state store, PAM, the audit chain, the device credentials,
 * the recorder's door and the line to the listener.
 *
 * The wire: a SOCK_SEQPACKET socketpair, one datagram per message of at
 * most MREQ_MSG_MAX bytes:
 *
 *	byte   type            enum mreq_type (child) / enum mans_type
 *	...    body            buf.h wire types (uint32, SSH strings)
 *
 * Descriptors (a recording, a device or forward connection, the device
 * agent) come with their answer as SCM_RIGHTS.
 */
#ifndef BASTION_PRIVSEP_H
#define BASTION_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "session.h"

struct buf;

/* The child's descriptors (the monitor arranges them before it demotes
 * the child): 3 the vendor's socket (as the listener gave it), 4 a pipe
 * on which the monitor passes on the listener's K, L and R lines
 * (monitor.h; the relay reads it as it read the listener's pipe before),
 * 5 the request socket. */
#define CHILD_FD_NOTIFY		WORKER_FD_CONTROL
#define CHILD_FD_MONITOR	5

#define MREQ_MSG_MAX		(64 * 1024)	/* one message, type byte
						   included */
#define MREQ_OUT_CHUNK		(16 * 1024)	/* console output per message */
#define MREQ_MAX_FDS		2

/* Requests (child -> monitor). The table in monitor_req.c says when each
 * is allowed, how often, and how long its body may be. */
enum mreq_type {
	MREQ_NONE = 0,
	MREQ_AUTH_PUBKEY,	/* a publickey outcome (or a failed try) */
	MREQ_AUTH_KBDINT,	/* the secret: gate, then PAM */
	MREQ_PAM_ANSWERS,	/* answers to a MANS_PAM_PROMPT */
	MREQ_DEVICE_CHOOSE,	/* the device the session is for */
	MREQ_TOUCH_BEGIN,	/* the touch check: skip, refuse or a challenge */
	MREQ_TOUCH_VERIFY,	/* the agent's signature over the challenge */
	MREQ_APPROVAL_CHECK,	/* rule, window or live grant */
	MREQ_APPROVAL_REQUEST,	/* file a request (notify_command runs) */
	MREQ_APPROVAL_POLL,	/* has an admin decided? */
	MREQ_APPROVAL_CANCEL,	/* the engineer gave up */
	MREQ_RECORDING_OPEN,	/* open the recording, session.start */
	MREQ_DEVICE_CONNECT,	/* TCP to the device and its agent */
	MREQ_DEVICE_RESULT,	/* how the device login went */
	MREQ_SESSION_REGISTER,	/* the relay starts ("S" to the listener) */
	MREQ_FORWARD_CONNECT,	/* a -L forward's TCP connection */
	MREQ_SESSION_END,	/* "E" to the listener */
	MREQ_CONSOLE_RUN,	/* an admin's or auditor's verb */
	MREQ_CONSOLE_CANCEL,	/* ^C or a hang-up during a verb */
	MREQ_AUDIT,		/* an event the child saw (stamped here) */
	MREQ_AIRLOCK,		/* a quarantine file or clamd (airlock) */
	MREQ_EXPORT,		/* file a file export request (approve: out) */
	MREQ_DECL,		/* file declarations (monitor_decl.c) */
	MREQ_MAX
};

/* Answers (monitor -> child). */
enum mans_type {
	MANS_OK = 0x80,		/* the answer to the request just made */
	MANS_PAM_PROMPT,	/* PAM asks more (answered by MREQ_PAM_ANSWERS) */
	MANS_CONSOLE_OUT,	/* a verb's output */
	MANS_CONSOLE_DONE,	/* the verb's exit status */
	MANS_FORWARD,		/* a forward's connection, whenever it is
				   made: u32 id, u32 enum mm_fwd, why; the
				   socket when MM_FWD_OK */
	MANS_EXPORT,		/* a file export request decided, whenever:
				   u64 id, u32 enum mm_exp, by, text */
};

/* MANS_EXPORT */
enum mm_exp { MM_EXP_APPROVED = 0, MM_EXP_DENIED, MM_EXP_EXPIRED,
	MM_EXP_OTHER };

/* MREQ_AUTH_PUBKEY kinds */
enum mm_pk { MM_PK_OK = 1, MM_PK_BADSIG, MM_PK_NOKEY };

/* MREQ_AUTH_KBDINT / MREQ_PAM_ANSWERS final answer */
enum mm_auth { MM_AUTH_OK = 0, MM_AUTH_FAIL, MM_AUTH_DENIED, MM_AUTH_CLOSED };

/* MREQ_TOUCH_BEGIN */
enum mm_touch { MM_TOUCH_SKIP = 0, MM_TOUCH_ASK, MM_TOUCH_LOCKED,
	MM_TOUCH_ERROR, MM_TOUCH_BUSY, MM_TOUCH_NO_AGENT,
	MM_TOUCH_WINDOW };	/* admitted by a transfer window (until) */
/* MREQ_TOUCH_VERIFY */
enum mm_verdict { MM_V_OK = 0, MM_V_BAD_SIGNATURE, MM_V_NO_TOUCH,
	MM_V_NO_PIN, MM_V_REGRESSION, MM_V_ERROR, MM_V_ABORTED };

/* MREQ_APPROVAL_* */
enum mm_appr { MM_APPR_NOT_NEEDED = 0, MM_APPR_WINDOW, MM_APPR_GRANT,
	MM_APPR_NEEDED, MM_APPR_PENDING, MM_APPR_APPROVED, MM_APPR_DENIED,
	MM_APPR_EXPIRED, MM_APPR_REVOKED, MM_APPR_OTHER, MM_APPR_CANCELLED,
	MM_APPR_DECIDED, MM_APPR_ERROR };

/* MREQ_FORWARD_CONNECT */
enum mm_fwd { MM_FWD_OK = 0, MM_FWD_FAILED, MM_FWD_REFUSED };

/* ---- the child's side (monitor_wrap.c) ------------------------------ */

/*
 * Each wrapper sends one request and waits for its answer. A monitor that
 * has gone, or an answer of the wrong type, ends the child at once (the
 * monitor is the child's only way to the world): they return only with a
 * well-formed answer. Strings returned are the caller's to free.
 */
void mm_init(int fd);
int mm_fd(void);

/* 0 go on, or 1 when the monitor says the connection has tried enough. */
int mm_auth_pubkey(enum mm_pk kind, const char *user, const char *keytype,
    const char *keyb64);

/* The prompts of a PAM conversation, answered by the child's callback. */
struct mm_kbdint_io {
	/* one keyboard-interactive round: 0 with answers (n of them, heap,
	 * wiped and freed by the caller), BERR_CLOSED when the client left,
	 * BERR_AUTH when it answered badly or sent another request */
	int (*round)(void *arg, const char *instruction, unsigned n,
	    const char **prompts, const char *echo, char ***answers);
	void *arg;
};
struct mm_auth_result {
	enum mm_auth status;
	char tell[640];			/* MM_AUTH_DENIED: the disconnect text */
	char person[128];
	enum policy_role role;
	unsigned key_index;
	char device[128];		/* from "+device", as typed */
};
int mm_auth_kbdint(const char *user, const char *answer,
    struct mm_kbdint_io *io, struct mm_auth_result *res);

/* 0 when the monitor agrees (or, forward, names no device), 1 refused. */
int mm_device_choose(const char *device, int forward);

struct mm_touch_ask {
	enum mm_touch status;
	char why[256];			/* LOCKED, ERROR: the reason */
	uint8_t challenge[32];		/* ASK */
	time_t until;			/* WINDOW: when the window ends */
	unsigned window_s;		/* limits.touch_transfer_window */
};
/* transfer: the session is a file transfer (touch_is_transfer), which a
 * transfer window may admit; the monitor holds the child to it when the
 * recording is opened. */
void mm_touch_begin(int agent_req, int has_channel, int wait, int transfer,
    struct mm_touch_ask *out);
/* sig NULL: the child gave up (it audited why). Returns the verdict;
 * *counter and *prev are set for MM_V_REGRESSION, *until when the touch
 * opened a transfer window (else 0). */
enum mm_verdict mm_touch_verify(const uint8_t *sig, size_t siglen,
    uint32_t *counter, uint32_t *prev, time_t *until);

struct mm_approval {
	enum mm_appr status;
	int64_t id;			/* a request's, or a grant's */
	char by[200];			/* who decided (four eyes: several) */
	char text[256];			/* deny reason, another status */
	unsigned timeout_s;
};
void mm_approval_check(struct mm_approval *out);
void mm_approval_request(const char *reason, struct mm_approval *out);
void mm_approval_poll(struct mm_approval *out);
/* at_prompt: cancelled at the reason prompt, before any request */
void mm_approval_cancel(int at_prompt, struct mm_approval *out);

/* The recording (and session.start). 0 with *fd the recorder connection,
 * id and path; else -1 with err for the engineer. */
int mm_recording_open(int kind, const char *command, int *fd, char *id,
    size_t idlen, char *path, size_t pathlen, char *err, size_t errlen);

/* The device's TCP connection and an agent socket holding its credential.
 * 0 with both; else -1 with why (for the engineer and the log). */
int mm_device_connect(int *tcp_fd, int *agent_fd, char *why, size_t whylen);
void mm_device_result(int ok, const char *why);
/* 0 once the listener has been told; -1 if it cannot be. */
int mm_session_register(void);
void mm_session_end(const char *reason);
/*
 * A forward's connection, without waiting: the request (id, the relay's
 * own numbering from 1) joins the queue of requests (written as the
 * socket has room: mm_flush_queue, while mm_queue_len() says some wait),
 * and its answer comes later: mm_forward_answer() gives 1 with one
 * answer (id, MM_FWD_OK with *fd, else why), 0 when none is there now,
 * -1 when the monitor closed the socket.
 */
void mm_forward_ask(uint32_t id, const char *host, int port);
int mm_forward_answer(uint32_t *id, enum mm_fwd *st, int *fd, char *why,
    size_t whylen);
void mm_flush_queue(void);
unsigned mm_queue_len(void);
/* Answers put aside while a wrapper waited for its own: the socket may
 * not say readable again for them, so the relay asks. */
unsigned mm_late_len(void);
/* The same, waiting for the answer (the privsep selftest). */
enum mm_fwd mm_forward_connect(const char *host, int port, int *fd,
    char *why, size_t whylen);

/* An admin's or auditor's verb, run by the monitor; output comes back
 * through out(), and the child calls cancelled() to learn whether the
 * person gave up (wait_ms at most). Returns the exit status. */
struct mm_console_io {
	int (*out)(void *arg, int is_stderr, const void *p, size_t n);
	int (*cancelled)(void *arg, unsigned wait_ms);
	void *arg;
};
int mm_console_run(int kind, int has_pty, const char *command,
    struct mm_console_io *io);

/* The child's audit sink (log.h): every audit_event() in the child goes
 * to the monitor, which checks, stamps and keeps it. */
/* MREQ_AIRLOCK kinds (monitor_airlock.c) */
#define AIRLOCK_QUARANTINE	1	/* a fresh, unlinked quarantine file */
#define AIRLOCK_CLAMD		2	/* a connection to clamd's socket */
#define AIRLOCK_MAGIC		3	/* libmagic's compiled database, read
					   only (files: types) */
/* The descriptor the monitor opened for the airlock (kind), or -1 with a
 * sentence in why (the file is then refused: fail closed). */
int mm_airlock(int kind, char *why, size_t whylen);
/*
 * File an export request for the download held in the quarantine (path,
 * size, SHA-256 in lowercase hex). 0 with *id and *timeout_s (how long
 * the monitor waits for an admin), or -1 with why (the download is then
 * refused: fail closed). The decision comes later, as a late answer:
 * mm_export_answer().
 */
int mm_export_request(const char *path, uint64_t size, const char *sha256,
    int64_t *id, unsigned *timeout_s, char *why, size_t whylen);
/* A decision that came (put aside like a forward's answer): 1 with *id,
 * *status (enum mm_exp), by and text (the deny reason, or what else
 * became of it); 0 when none is there now. */
int mm_export_answer(int64_t *id, int *status, char *by, size_t bylen,
    char *text, size_t textlen);

int mm_audit_sink(const char *line, char *note, size_t notelen, void *arg);

/* MREQ_DECL kinds (monitor_decl.c; docs/FILES.md "Work record and
 * declarations"): the engineer's open file declarations */
#define DECL_COUNT	1	/* how many are open */
#define DECL_LIST	2	/* list them for the work record (kept) */
#define DECL_ANSWER	3	/* the work record's answer for those listed */
#define DECL_TEXT_MAX	(16 * 1024)	/* the list as shown */
/* Erased answers of DECL_ANSWER */
#define DECL_ERASED_NONE	0	/* personal=no */
#define DECL_ERASED_YES		1
#define DECL_ERASED_NO		2
#define DECL_ERASED_PENDING	3
/* The number of the engineer's open declarations; 0 when none or the
 * store cannot say. */
unsigned mm_decl_count(void);
/* The open declarations (*ndecl, *nfiles) and their files as lines to
 * show (cleaned by the monitor, at most DECL_TEXT_MAX bytes). 0 or -1. */
int mm_decl_list(unsigned *ndecl, unsigned *nfiles, char *text,
    size_t textlen);
/* The answer for the declarations listed: personal 0/1, erased
 * DECL_ERASED_*; *closed and *open say what came of them. 0 or -1. */
int mm_decl_answer(int personal, int erased, unsigned *closed,
    unsigned *still_open);

/* ---- the monitor's side (privsep.c, monitor_req.c) ------------------ */

/* worker.c's child: everything that reads the vendor's socket. Returns a
 * WORKER_EXIT_* code. */
int worker_child(struct sess *S, ssh_bind bind);
/* worker.c: the server's settings, with the host keys the child read
 * (taken over: the array's entries are set to NULL). 0 or BERR_*. */
int worker_setup_bind(const struct policy *pol, ssh_key *keys, size_t nkeys,
    ssh_bind *out);

/*
 * Test hook (tests/e2e/test_privsep.py): with BASTION_PRIVSEP_SELFTEST=1
 * in bastiond's environment, a session whose command is
 * "bastion-privsep-selftest WHAT [ARG]" makes the child misbehave as a
 * compromised one would, just before the relay. Returns only when WHAT
 * is not a selftest.
 */
void privsep_selftest(struct sess *S);

#endif
