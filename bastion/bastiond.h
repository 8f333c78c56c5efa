/*
 * bastiond.h - interfaces between the parts of the session broker.
 *
 * Process model (docs/ARCHITECTURE.md has the diagram):
 *   listener.c  the long-lived bastiond process: libuv loop, accepts TCP
 *               (accept.c), enforces pre-authentication limits
 *               (preauth.c), re-executes itself as one worker per
 *               connection and keeps the session registry (registry.c),
 *               supervises the recorder (recsup.c), reloads (reload.c);
 *               listener.h has the parts.
 *   worker.c    one vendor connection: key exchange, authentication
 *               (auth.c), choosing a device, connecting to it (device.c),
 *               relaying (relay.c and its parts, relay.h).
 *   hostkey.c   --init: create missing host keys.
 */
#ifndef BASTION_BASTIOND_H
#define BASTION_BASTIOND_H

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "netaddr.h"
#include "policy.h"

/* Worker exit codes the listener interprets. */
#define WORKER_EXIT_OK		0
#define WORKER_EXIT_ERROR	1
#define WORKER_EXIT_AUTHFAIL	10	/* counts towards the source's penalty */
#define WORKER_EXIT_SANDBOX	12	/* the confined child broke its seccomp
					   filter (privsep.h) */

/* File descriptors a worker inherits from the listener. */
#define WORKER_FD_CLIENT	3
#define WORKER_FD_CONTROL	4
#define WORKER_FD_POLICY	5	/* the listener's policy text, read and
					   closed in main (--policy-fd) */

#define BASTION_KEX \
	"curve25519-sha256,curve25519-sha256@libssh.org"
/* AEAD first; CTR (always with an encrypt-then-MAC MAC below) for clients
 * that have no AEAD cipher: paramiko, and the tools built on it */
#define BASTION_CIPHERS \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com," \
	"aes128-gcm@openssh.com,aes256-ctr,aes128-ctr"
#define BASTION_MACS \
	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define BASTION_USER_KEY_TYPES \
	"sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com," \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

/* listener.c: run until SIGTERM/SIGINT. Returns a process exit code. */
int listener_run(struct policy *pol, const char *policy_path, int debug);

/* worker.c: the per-connection worker; returns a WORKER_EXIT_* code. */
/* proxied: NULL, or the listener's "ADDR,PORT,VIA" from a PROXY protocol
 * header (accept.c): the engineer's address instead of getpeername(). */
int worker_main(const char *policy_path, const char *session_id,
    const char *proxied, int debug);

/* ctlsock.c: the local control socket RUN_DIR/control.sock for bastionctl
 * (credentials checked per connection, one control worker each). */
struct uv_loop_s;
int ctlsock_start(struct uv_loop_s *loop, const struct policy *pol,
    const char *self, const char *policy_path, int debug);
void ctlsock_stop(void);
/* ctlsock.c: hand control workers the listener's adopted policy (fd). */
void ctlsock_policy_fd(int fd);
/* control.c: a control worker (bastiond --control LOGIN, socket on fd 3). */
int control_main(const char *policy_path, const char *who, int debug);
/* bastiond --control-web WHO: one web.sock request (control_web.c). */
int control_web_main(const char *policy_path, const char *who, int debug);

/* approval.c: `watch` for the admin verbs (struct verb_ctx's follow, see
 * verbs/verb.h): stream a live session's recording, sanitised. */
struct verb_ctx;
struct state_session;
int console_follow(struct verb_ctx *c, const struct state_session *s,
    int from_start);
/* approval.c, for peerwatch.c: write device output p[0..n-1] to c->out
 * through the sanitiser (ob its scratch buffer); end a watch (the
 * sanitiser's rest, then "stopped" or "ended (why)" on c->err); the
 * recording id of s (its file name without .brec): 0 or BERR_FORMAT. */
struct sanitize;
struct buf;
void console_emit(struct verb_ctx *c, struct sanitize *san, struct buf *ob,
    const uint8_t *p, size_t n);
void console_watch_done(struct verb_ctx *c, const struct state_session *s,
    struct sanitize *san, struct buf *ob, int stopped, const char *why);
int console_recording_id(const struct state_session *s, char *id,
    size_t len);

/*
 * peerwatch.c: `watch` of a session of another node of a shared store
 * (docs/SCALE-OUT.md "Watching a session of another node"). The watcher's
 * side: peerwatch_elsewhere() says whether s runs on another node;
 * peerwatch_follow() asks that node through the store and shows what it
 * sends, as console_follow() does (0, or 1 after saying why on c->err).
 * The session node's side: peerwatch_check() (the listener, on every
 * pushed decision and tick) starts a helper for each new request,
 * `bastiond --peer-watch ID`, whose main is peerwatch_main().
 */
struct listener;
int peerwatch_elsewhere(const struct policy *pol,
    const struct state_session *s);
int peerwatch_follow(struct verb_ctx *c, const struct state_session *s,
    int from_start);
void peerwatch_check(struct listener *L);
void peerwatch_stop(void);
int peerwatch_main(const char *policy_path, const char *id, int debug);

/* recsup.c: where bastion-recorder, its key and its socket are
 * (bastion-recorder sits beside bastiond; key in state_dir; socket: the
 * policy's recorder_socket, by default in run_dir). 0 or BERR_SYS. */
int recorder_paths(const struct policy *pol, char *bin, size_t binlen,
    char *key, size_t keylen, char *sock, size_t socklen);
/* recsup.c: create the recording signing key if missing (--init). */
int recorder_init_key(const struct policy *pol);

/* hostkey.c: create missing host keys (Ed25519). 0 or BERR_*. */
int hostkey_init(const struct policy *pol);

/* auth.c */
struct auth_result {
	struct policy_person *who;
	enum policy_role role;
	const struct policy_key *key;	/* the registered key that was used */
	char login[128];		/* user name as sent, e.g. alice+ct */
	char device[POLICY_MAX_NAME + 1]; /* from "+device", or "" */
};

/*
 * The child (privsep.h): run SSH user authentication on an accepted
 * session in blocking mode: a registered public key, then
 * keyboard-interactive, the monitor deciding each step (auth_mon_*).
 * Returns 0 with *res filled (resolved in the child's copy of the policy)
 * when the monitor let the person in; BERR_AUTH otherwise (the client has
 * been told only "permission denied").
 */
int auth_run(ssh_session s, const struct policy *pol, const char *sid,
    struct auth_result *res);

/*
 * The monitor's side of authentication (auth.c). auth_mon_new() keeps
 * pointers to what it is given (they must outlive it); NULL when out of
 * memory. via: the load balancer's address behind which peer is (a PROXY
 * protocol header), audited as via=; NULL or "" for none. auth_mon_free(NULL) is a no-op.
 *
 * auth_mon_pubkey(): MREQ_AUTH_PUBKEY (kind: enum mm_pk). 0 go on; 1 the
 * connection has failed too often (audited); -1 the child broke the
 * protocol (a second key, a key libssh cannot read).
 *
 * auth_mon_kbdint(): MREQ_AUTH_KBDINT: the gate, then PAM, whose further
 * prompts go through io. 0 with *res (and, on MM_AUTH_OK, *au) filled,
 * after the failure delay when it failed; -1 when the child broke the
 * protocol (no key signed for this user, too many tries).
 */
struct auth_mon;
struct mm_kbdint_io;
struct mm_auth_result;
struct auth_mon *auth_mon_new(const struct policy *pol,
    const struct netaddr *peer, const char *peerstr, const char *via,
    const char *sid);
void auth_mon_free(struct auth_mon *st);
int auth_mon_pubkey(struct auth_mon *st, int kind, const char *user,
    const char *keytype, const char *keyb64);
int auth_mon_kbdint(struct auth_mon *st, const char *user,
    const char *answer, struct mm_kbdint_io *io, struct mm_auth_result *res,
    struct auth_result *au);

/*
 * sdnotify.c: systemd's notification protocol for the listener
 * (bastiond.service is Type=notify, NotifyAccess=main). Every function is
 * a no-op when bastiond was not started with NOTIFY_SOCKET.
 *
 * sdnotify_init() remembers NOTIFY_SOCKET and the watchdog interval
 * (WATCHDOG_USEC, when WATCHDOG_PID is ours) and removes the three
 * variables from the environment, so children never notify for bastiond.
 * Call it once, before the first child is started.
 */
struct uv_loop_s;
void sdnotify_init(void);
void sdnotify_ready(void);		/* READY=1 (also ends a reload) */
void sdnotify_reloading(void);		/* RELOADING=1, MONOTONIC_USEC= */
void sdnotify_stopping(void);		/* STOPPING=1 */
/* STATUS=<one line> (printf format); sent only when it changed. */
void sdnotify_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* WATCHDOG=1 at half the interval systemd asked for, from a timer on loop
 * (unreferenced: it never keeps the loop alive). 0, or BERR_SYS when the
 * timer cannot start. Nothing happens without a watchdog. */
int sdnotify_watchdog_start(struct uv_loop_s *loop);
/* Close the timer (before the loop is closed). */
void sdnotify_watchdog_stop(void);

#endif
