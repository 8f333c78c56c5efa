/*
 * store_actor.h - the store actor: the single writer of the audit chain
 * and the hub of pushed decisions, a thread with its own libuv loop in
 * bastiond's listener process, off the accept loop.
 *
 * It serves STATE_DIR/store.sock (SOCK_SEQPACKET, mode 0600, in the 0700
 * state directory; messages in store_wire.h). Peer credentials
 * (SO_PEERCRED) decide who may use it: root and the actor's own user; any
 * other peer is told BERR_DENIED and disconnected (it then appends itself,
 * as the recorder does, under the file's own permissions and flock).
 *
 *  - Audit appends (APPEND) from every process are group-committed: what
 *    arrived in one turn of the loop (at most AUDITLOG_BATCH_MAX) is
 *    written with one write(2) and one fdatasync(2), then each sender is
 *    answered with its line's seq and hash (APPENDED) or the error.
 *  - State operations of other processes (CALL, store_call.h) run on the
 *    actor's own SQLite connection, on its thread; their rows and answer
 *    are queued and sent as the client's socket takes them.
 *  - Decisions (NOTIFY, sent by state.c when an approve, deny, expire,
 *    cancel, kill, lock or revoke has committed) are pushed as EVENT to
 *    every connection that subscribed to that kind and id (SUBSCRIBE), and
 *    to the owner's callback, on the owner's loop (uv_async_t).
 *
 * A request is untrusted input: it is decoded strictly and a malformed
 * one ends only the connection that sent it.
 */
#ifndef BASTION_STORE_ACTOR_H
#define BASTION_STORE_ACTOR_H

#include <stdint.h>

#include <uv.h>

struct store_actor;

/* What the actor has done so far (for tests and the status line). */
struct store_actor_stats {
	uint64_t appends;	/* events appended */
	uint64_t commits;	/* group commits (one fdatasync each) */
	uint64_t notices;	/* decisions told */
	uint64_t calls;		/* state operations run for others */
	uint64_t refused;	/* connections refused (peer credentials) */
	uint64_t violations;	/* connections ended for a bad message */
};

/*
 * Start the actor for state_dir: bind the socket (replacing a stale one)
 * and run the thread. decided (may be NULL) is called on owner_loop's
 * thread, with arg, after one or more decisions were told (coalesced).
 * *out is NULL on entry and on failure (logged; BERR_*).
 */
int store_actor_start(const char *state_dir, uv_loop_t *owner_loop,
    void (*decided)(void *arg), void *arg, struct store_actor **out);
/* A copy of the counters (thread-safe). */
void store_actor_stats(struct store_actor *a, struct store_actor_stats *s);
/* Stop the thread, remove the socket, free; on the owner's thread.
 * store_actor_stop(NULL) is a no-op. */
void store_actor_stop(struct store_actor *a);

#endif
