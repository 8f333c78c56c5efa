/*
 * relay.h - the relay's own state and the parts it is made of, shared by
 * the relay's files only (the rest of the child knows relay_run() and
 * relay_forward_check() from session.h):
 *
 *   relay.c         the loop: polls, the one-second timer, the engineer's
 *                   requests, ending and lingering, relay_run()
 *   relay_pump.c    the session channels' pumps, EOF and exit status
 *   relay_fwd.c     direct-tcpip forwards: the policy check, the
 *                   monitor's connection asked for without waiting, the
 *                   forward's pumps
 *   relay_mon.c     the monitor link: registration, K/L/R on fd 4, the
 *                   answers that come later on the request socket
 *   relay_wr.c      the work-record questionnaire at the end
 *   relay_limits.c  idle and maximum-length decisions, pure functions of
 *                   the state and "now" (bclock.h)
 *
 * One worker serves one session: struct relay is made by relay_run() and
 * hangs off struct sess (S->R) until it returns.
 */
#ifndef BASTION_RELAY_H
#define BASTION_RELAY_H

#include <stdint.h>
#include <time.h>

#include <uv.h>
#include <libssh/libssh.h>

#include "bclock.h"
#include "monitor.h"
#include "session.h"

#define RELAY_CHUNK		32768
#define RELAY_MAX_FORWARDS	64	/* open and asked for, together */
#define RELAY_LINGER_S		10
#define RELAY_EOF_HOLD_S	2	/* wait this long for the device's exit
					   status before passing on its EOF */
#define WR_TIMEOUT_S		120	/* the work-record question */
#define WR_ANSWER_MAX		16	/* y / n */
#define WR_RECORDS_MAX		400	/* record identifiers */

enum wr_state { WR_NONE, WR_ASK_PERSONAL, WR_ASK_RECORDS, WR_ASK_FILES,
    WR_ASK_ERASED, WR_DONE };
enum wr_result { WR_YES, WR_NO, WR_UNANSWERED };

/* One direct-tcpip forward: an SSH channel to the vendor, a TCP socket to
 * the device. */
struct fwd {
	struct sess *S;
	ssh_channel ch;
	int fd;
	uv_poll_t poll;
	int poll_events;
	uint8_t pend[32768];	/* channel -> socket bytes not yet written */
	size_t npend, opend;
	uint8_t spend[32768];	/* socket -> channel bytes not yet taken */
	size_t sn, soff;
	int ch_eof_seen, sock_eof_seen, closing;
	uint64_t bytes_in, bytes_out;
	uint32_t rec_chan;
	char dest[96];
	struct fwd *next;
};

/*
 * A forward the monitor was asked to connect and has not answered yet:
 * the engineer's channel-open request (libssh's message, ours to answer
 * and free) waits here while the session goes on.
 */
struct fwd_wait {
	uint32_t id;			/* the request's, echoed in the answer */
	ssh_message m;
	const struct policy_device *d;
	int port;
	char dest[96];			/* as the engineer wrote it */
	struct fwd_wait *next;
};

/*
 * Bytes read from one channel not yet accepted by the other. Bulk output
 * is read up to this much at once (what libssh holds of the channel, at
 * most the destination's window), so it reaches the recorder as one frame
 * and the engineer's socket in one write instead of one per SSH packet
 * (docs/PERFORMANCE.md). The pages are touched only as far as data came:
 * an idle session pays for a few, not for the size.
 */
#define RELAY_PEND_BYTES	(256 * 1024)
struct pend {
	uint8_t d[RELAY_PEND_BYTES];
	size_t n, off;
};

/* What relay_limits_check() looks at and remembers. */
struct relay_limits {
	time_t start, last_activity;
	int warned_idle, warned_max;
};

/* What it decided at one tick. */
struct relay_limits_out {
	unsigned idle_warn_in;		/* warn: closed in this many s, or 0 */
	int idle_close;
	unsigned max_warn_in;		/* warn: maximum reached in N s, or 0 */
	int max_close;
};

struct relay {
	struct sess *S;
	const struct bclock *clock;
	uv_loop_t *loop;
	ssh_event ev;
	uv_poll_t vpoll, dpoll;
	int dpoll_on, vpoll_ev, dpoll_ev;
	uv_timer_t timer;
	struct pend to_dev, to_vendor, to_vendor_err;
	/* bytes libssh read from each socket: relay_gather() reads on while
	 * they grow (relay_pump.c) */
	struct ssh_counter_struct vctr, dctr;
	int vch_eof_fwd, dch_eof_fwd;
	int got_exit_status, exit_status;
	char exit_signal[32];
	int got_exit_signal, exit_core;
	struct relay_limits lim;	/* idle and maximum length */
	time_t last_keepalive;
	uint64_t bytes_in, bytes_out;	/* engineer->device, device->engineer */
	struct fwd *fwds;
	int nfwds;
	struct fwd_wait *waits;		/* asked of the monitor */
	int nwaits;
	uint32_t next_wait;
	uv_poll_t recpoll;
	uint32_t next_chan;		/* recording channel ids of forwards */
	int done;			/* ending: see relay_step() */
	int stopped;			/* the loop was told to stop */
	time_t finishing;		/* we closed the engineer's channel */
	char end_reason[128];

	/* the monitor link (relay_mon.c) */
	uv_poll_t monpoll;		/* fd 4: the listener's word, passed on */
	int monpoll_on;
	struct mon_reader mon;
	uv_poll_t mmpoll;		/* the request socket: late answers */
	int mmpoll_on, mmpoll_ev;
	uv_timer_t mmlate;		/* answers put aside (mm_late_len) */
	int mmlate_on;

	/* the work record (relay_wr.c) */
	enum wr_state wr;
	time_t wr_deadline;
	unsigned wr_timeout;		/* seconds */
	char wr_line[WR_RECORDS_MAX + 1];
	size_t wr_n;
	int wr_esc;			/* inside an escape sequence (keys) */
	int wr_cr;			/* the last key was CR */
	int wr_logged;			/* the answer (or none) is recorded */
	unsigned wr_ndecl;		/* open file declarations listed */

	struct relay_sftp *sftp;	/* the sftp airlock (relay_sftp.c) */

	int dev_eof_recorded;
	time_t dev_eof_at;		/* the device's output ended (drained) */
	int exit_fwd;			/* its exit status went to the engineer */
};

/* relay.c */
time_t relay_now(const struct relay *R);	/* wall seconds, R->clock */
void relay_step(struct sess *S);
void relay_end(struct sess *S, const char *reason);
void relay_rec_or_channel_failed(struct sess *S);
void relay_finish_vendor(struct sess *S);
void relay_fmt(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* relay_pump.c: the engineer's and the device's session channels, one
 * round; and the device's exit status to the engineer, once. */
void relay_session_channels(struct sess *S);
void relay_forward_exit(struct sess *S);
extern struct ssh_channel_callbacks_struct relay_dch_cb;

/* relay_fwd.c: a direct-tcpip open: refused (answered), or asked of the
 * monitor (1: m is kept until the answer; the caller must not free it).
 * 0 when m was answered and is the caller's to free. */
int relay_forward_ask(struct sess *S, ssh_message m);
/* relay_fwd.c: the monitor's late answer to forward id. */
void relay_forward_answered(struct sess *S, uint32_t id, int st, int fd,
    const char *why);
/* relay_fwd.c: relay_forward_check(), and the relay's own limit on
 * forwards open and asked for (RELAY_MAX_FORWARDS). NULL or why. */
const char *relay_forward_refusal(const struct sess *S, const char *host,
    int port, const struct policy_device **dp, char *need, size_t needlen);
/* relay_fwd.c: the forwards asked of the monitor: one added (with the
 * next id; NULL when out of memory), one taken out by the id of its
 * answer (NULL: not asked for). The caller owns what it takes. */
struct fwd_wait *relay_wait_add(struct relay *R, ssh_message m,
    const struct policy_device *d, int port, const char *dest);
struct fwd_wait *relay_wait_take(struct relay *R, uint32_t id);
/* relay_fwd.c: pump every forward; close those that ended. */
void relay_forwards_pump(struct sess *S);
/* relay_fwd.c: close every forward, refuse every waiting one (at the
 * end). */
void relay_forwards_close(struct sess *S);

/* relay_mon.c */
int relay_mon_start(struct sess *S);	/* register, then listen; 0/-1 */
void relay_mon_update(struct sess *S);	/* poll flags of the request
					   socket */
void relay_mon_end(struct sess *S);

/* relay_wr.c */
int relay_wr_asking(const struct sess *S);
int relay_wr_applies(const struct sess *S);
void relay_wr_done(struct sess *S, enum wr_result res, const char *records,
    const char *why);
void relay_wrap_up(struct sess *S);
void relay_wr_input(struct sess *S);
void relay_wr_settle(struct sess *S);
void relay_wr_tick(struct sess *S, time_t now);

/* relay_sftp.c: the airlock on an sftp subsystem channel (docs/FILES.md).
 * start: 0 or -1 (out of memory); end: records the files still open
 * ("incomplete") and frees; pump: both directions' packets read, checked,
 * recorded and queued, the queues written (bytes read from each side; 0,
 * or -1: channel or recording failed); idle: nothing queued towards that
 * side. */
struct policy_files;
struct sftp_msg;
struct sftp_file_info;
int relay_sftp_start(struct sess *S);
void relay_sftp_end(struct sess *S);
int relay_sftp_pump(struct sess *S, ssize_t *from_dev, ssize_t *to_dev);
int relay_sftp_idle(const struct sess *S, int to_device);
/* relay_export.c: the monitor's decision on file export request id
 * (MANS_EXPORT, enum mm_exp): the held download's OPEN answered. */
void relay_export_decided(struct sess *S, int64_t id, int status,
    const char *by, const char *text);
/* relay_export.c: 1 while a download waits for an admin (not idle). */
int relay_export_waiting(struct sess *S);
/* relay_sftp.c: the files: block that applies to S's device (an open one
 * when there is none). */
const struct policy_files *relay_sftp_policy(const struct sess *S);
/* relay_sftp.c, pure: does the files: policy pf refuse request m? fi: the
 * file its handle names (READ, WRITE; NULL: unknown), sent: file bytes of
 * the session so far. 1 with *code, why (for the engineer) and *remove
 * (the partial upload is to be removed), or 0: forward it. */
int relay_sftp_decide(const struct policy_files *pf, const struct sftp_msg *m,
    const struct sftp_file_info *fi, uint64_t sent, uint32_t *code,
    char *why, size_t whylen, int *remove);

/* relay_limits.c: at now, with policy p's idle_timeout, idle_warning and
 * max_session: what to warn of or end (*out), remembering the warnings
 * in *l. Pure: no I/O, no clock. */
void relay_limits_check(const struct policy *p, struct relay_limits *l,
    time_t now, struct relay_limits_out *out);
/* relay_limits.c: "1 second", "5 minutes", "2 hours". */
void relay_fmt_duration(unsigned s, char *out, size_t len);

#endif
