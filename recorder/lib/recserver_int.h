/*
 * recserver_int.h - what recserver.c (connections, replies, durability,
 * messages), recserver_notary.c (NOTARIZE) and recserver_watch.c (WATCH)
 * share inside recorder/lib/ and nobody else includes: the connection and
 * the calls those make on it.
 */
#ifndef BASTION_RECSERVER_INT_H
#define BASTION_RECSERVER_INT_H

#include <limits.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <uv.h>

#include "buf.h"
#include "recfmt.h"
#include "recserver.h"

enum conn_state {
	CONN_HELLO,	/* connected, waiting for OPEN */
	CONN_OPEN,	/* recording */
	CONN_SEALING,	/* CLOSE: sealed, OK waits for the seal's sync */
	CONN_NOTARY,	/* NOTARIZE: the check runs on the thread pool */
	CONN_WATCH,	/* WATCH: gets a live recording's output */
	CONN_DONE,	/* finished; reply draining, then close */
};

struct notary;

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct recserver *srv;
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_fs_t sync;		/* fdatasync on the thread pool */
	int handles;		/* open libuv handles + a sync in flight; freed
				 * at 0 */
	int paused;		/* not reading: syncs are a checkpoint behind */
	int seal_reported;	/* recording.sealed/unsealed said */
	int seal_status;
	char seal_reason[REC_REASON_MAX + 1];
	enum conn_state state;
	unsigned long id;	/* for log lines */
	pid_t pid;
	uid_t uid;
	struct buf *in;
	size_t outq;		/* bytes of replies not yet written */
	struct recwriter *w;
	uint64_t t0;		/* monotonic µs at OPEN */
	char sid[REC_SESSION_ID_MAX + 1];
	char path[PATH_MAX];
	struct notary *nj;	/* NOTARIZE in progress */
	/* WATCH (recserver_watch.c): a recording's watchers and its last
	 * output in memory; a watcher's recording */
	TAILQ_HEAD(, conn) watchers;
	TAILQ_ENTRY(conn) wentry;
	struct conn *watching;
	uint8_t *tail;		/* ring of RECPROTO_WATCH_TAIL bytes */
	size_t tail_len, tail_pos;
};

/* Queue a reply (BERR_LIMIT past the peer's reply budget). */
int recserver_conn_send(struct conn *c, const struct buf *msg);
/* Queue ERR with reason (nothing if it cannot be built). */
void recserver_send_err(struct conn *c, const char *reason);
/* Stop reading, let the replies drain, then close. */
void recserver_conn_close(struct conn *c);
/* ERR with reason, the recording sealed as abnormal, close. */
void recserver_conn_fail(struct conn *c, const char *reason);
/* Free c once its last handle is closed. */
void recserver_conn_free(struct conn *c);
/* NOTARIZE (recserver_notary.c). */
void recserver_on_notarize(struct conn *c, struct buf *body);
/* WATCH (recserver_watch.c): start watching; a recorded OUTPUT/STDERR
 * frame to the recording's watchers (and its tail); the recording ends
 * (END to each watcher); a connection goes away (detach it, either
 * side). */
void recserver_on_watch(struct conn *c, struct buf *body);
void recserver_watch_feed(struct conn *rec, int type, const uint8_t *p,
    size_t len);
void recserver_watch_end(struct conn *rec, const char *reason);
void recserver_watch_detach(struct conn *c);

#endif
