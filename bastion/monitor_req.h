/*
 * monitor_req.h - the monitor's side of privilege separation: its state
 * for one connection and the loop that answers the child (monitor_req.c,
 * whose request table is the one place that says which request is
 * allowed when). privsep.h has the process model and the wire.
 */
#ifndef BASTION_MONITOR_REQ_H
#define BASTION_MONITOR_REQ_H

#include <stdint.h>
#include <sys/types.h>

#include "burst.h"
#include "monitor.h"
#include "privsep.h"
#include "session.h"

/* Phases: what the monitor knows of the connection (never the child's
 * word alone: each change follows an answer the monitor itself gave). */
#define MPH_PREAUTH	0x01	/* until the monitor decided the login */
#define MPH_AUTHED	0x02	/* logged in; choosing, touch, approval,
				   recording, device, or a console verb */
#define MPH_RELAY	0x04	/* registered with the listener */
#define MPH_ANY		(MPH_PREAUTH | MPH_AUTHED | MPH_RELAY)

#define MON_FORWARD_WAIT_MAX	64	/* connections under way at once */
#define MON_NOTIFY_MAX		2	/* notify_command and bastion-notify */
#define MON_DECL_LIST_MAX	32	/* declarations one work record answers */

struct credagent;
struct mon_export;
struct mon_fwd;
struct pollfd;
struct state;
struct state_guard;

struct mon {
	/* the session as the monitor knows it: pol, sid, peer, the login
	 * (au), the device, kind and command, the grant. Never a libssh
	 * session: S.vs and S.vch stay NULL here. */
	struct sess S;
	int phase;
	pid_t child;
	uid_t child_uid;		/* its uid after demotion, or -1 */
	int fd;				/* requests (our end) */
	int notify_fd;			/* K, L, R lines to the child */
	int ctl_fd;			/* the listener (WORKER_FD_CONTROL) */
	struct mon_reader ctl;		/* its lines */
	int ctl_gone;
	int ending;			/* told K, L or R, or the listener is
					   gone: nothing new is opened */
	unsigned count[MREQ_MAX];	/* requests answered, per type */
	int violation;			/* the child was killed for one */

	/* authentication (auth.c's monitor side) */
	struct auth_mon *auth;
	int auth_failed;		/* a try failed: the source's penalty */

	/* the touch check */
	int touch_asked;		/* a challenge is out */
	int touch_ok;
	uint8_t challenge[32];
	struct state *st;		/* held from TOUCH_BEGIN to VERIFY */
	struct state_guard *guard;

	/* approval */
	int device_chosen;
	int appr_state;			/* enum mm_appr of the last answer */
	int64_t appr_id;		/* the request filed */
	time_t appr_deadline;
	struct notify_job *notify;	/* its notifications under way
					   (approval_notify.c) */

	/* recording, device, forwards */
	int rec_open;
	char rec_id[64];
	char rec_path[MON_PATH_MAX + 1];
	int device_connected;		/* DEVICE_CONNECT answered */
	int device_up;			/* DEVICE_RESULT ok */
	char dev_local[96];		/* our end of it, ADDR:PORT */
	struct credagent *agent;	/* the device credential, while used */
	unsigned forwards;
	struct mon_fwd *fwd_wait;	/* connections under way
					   (monitor_fwd.c) */
	unsigned nfwd_wait;
	struct mon_export *exports[16];	/* file export requests pending
					   (monitor_export.c) */
	size_t nexports;

	/* audit events the child hands over: MON_AUDIT_BURST per window */
	struct burst aud;

	/* file declarations (monitor_decl.c): those listed for the work
	 * record, answered once */
	int64_t decl_listed[MON_DECL_LIST_MAX];
	unsigned ndecl_listed;
	int decl_state;			/* 0, 1 listed, 2 answered */
};

/*
 * Answer the child until it closes its socket (it exited) or was killed
 * for a violation. Also passes the listener's K, L and R lines on to the
 * child and answers the device agent. Returns when the child is gone
 * (the caller reaps it).
 */
void mon_loop(struct mon *M);

/* Send one message (type, body or NULL) with up to MREQ_MAX_FDS
 * descriptors. 0 or BERR_*. */
int mreq_send(int fd, int type, const struct buf *body, const int *fds,
    int nfds);
/*
 * Receive one message, waiting at most timeout_ms (-1: for ever). 0 with
 * *type, *body (caller frees) and up to *nfds descriptors (in: room in
 * fds, out: how many came; extra ones are closed); BERR_CLOSED when the
 * peer closed; BERR_TIMEOUT; BERR_LIMIT for a message that was cut.
 */
int mreq_recv(int fd, int *type, struct buf **body, int *fds, int *nfds,
    int timeout_ms);

/*
 * The answers that live in files of their own (the table in
 * monitor_req.c names them): monitor_console.c, monitor_audit.c,
 * monitor_fwd.c. Each returns NULL, or why the request is a violation.
 */
const char *mon_answer_console_run(struct mon *M, struct buf *req);
const char *mon_answer_console_cancel(struct mon *M, struct buf *req);
const char *mon_answer_audit(struct mon *M, struct buf *req);
const char *mon_answer_forward_connect(struct mon *M, struct buf *req);
const char *mon_answer_airlock(struct mon *M, struct buf *req);
const char *mon_answer_export(struct mon *M, struct buf *req);

/* monitor_export.c: the file export requests pending, for mon_loop(): up
 * to room pollfds (their pushed decisions) and *timeout lowered to the
 * nearest deadline; after poll(), each decided or expired one is told to
 * the child (MANS_EXPORT). mon_export_end() marks the rest cancelled. */
int mon_export_poll(struct mon *M, struct pollfd *pfd, int room,
    int *timeout);
void mon_export_ready(struct mon *M, const struct pollfd *pfd, int n);
void mon_export_end(struct mon *M);
const char *mon_answer_decl(struct mon *M, struct buf *req);
/* monitor_decl.c: a file.transfer event of the child (its n fields k=v,
 * just appended) noted for the session's declaration, when the vendor's
 * policy asks for a work record. */
void mon_decl_file(struct mon *M, const char *const *k, const char *const *v,
    size_t n);

/* monitor_fwd.c: the connections under way, for mon_loop(): up to room
 * pollfds (POLLOUT) filled, and *timeout (ms, -1: none) lowered to the
 * nearest deadline; then, after poll(), those that ended or ran out of
 * time are audited and answered. mon_fwd_free() drops them all. */
int mon_fwd_poll(struct mon *M, struct pollfd *pfd, int room, int *timeout);
void mon_fwd_ready(struct mon *M, const struct pollfd *pfd, int n);
void mon_fwd_free(struct mon *M);

/* Helpers of the answer functions (monitor_req.c): an answer's body
 * (NULL when out of memory), the answer sent (0 or -1), a capped string
 * of the request (0 or -1), whether the login is an engineer's; and
 * (monitor_fwd.c) our own end of a connection as ADDR:PORT. */
struct buf *mon_body(void);
int mon_reply(struct mon *M, int type, struct buf *b, const int *fds,
    int nfds);
int mon_get_str(struct buf *b, char *out, size_t len);
int mon_is_engineer(const struct mon *M);
void mon_local_end(int fd, char *out, size_t len);

/* Kill the child for breaking the rules: audited (monitor.violation,
 * request and reason), then SIGKILL. */
void mon_violation(struct mon *M, const char *request, const char *why);

/* SIGKILL the child. Under systemd bastiond is root without CAP_KILL,
 * which a signal to another uid needs: then the monitor takes the
 * child's uid as its effective uid for the kill() alone (CAP_SETUID). */
void mon_kill_child(struct mon *M);

/* Tell the listener one line (A, S, E). 0 or -1. */
int mon_tell_listener(struct mon *M, const struct mon_msg *m);

/* credagent.c: the device credential, answered as an ssh-agent on one
 * end of a socketpair for the child's libssh client; signs only a
 * publickey login request for the device's own login with that key, a
 * few times. *out NULL on entry and failure; *why says what went wrong. */
int credagent_new(const struct policy_device *dev, int *child_fd,
    struct credagent **out, char *why, size_t whylen);
int credagent_fd(const struct credagent *a);
/* Answer what is readable; 0, or BERR_CLOSED when the child closed it,
 * or BERR_* for a request that breaks the rules (then close it). */
int credagent_answer(struct credagent *a, const char *sid);
/* Wipe the key and close; NULL is a no-op. */
void credagent_free(struct credagent *a);

#endif
