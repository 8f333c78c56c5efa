/*
 * store_client.h - a process's side of the store actor's socket
 * (STATE_DIR/store.sock, store_wire.h): audit appends that the actor
 * group-commits, decisions told to it, and subscriptions to the decisions
 * it pushes. Used inside store/ (auditlog_write.c, state.c) and by the
 * tests; bastiond's code goes through auditlog.h and state.h.
 *
 * Every function fails with BERR_NOTFOUND when no actor answers (no
 * socket, or a stale one): the callers then do the work themselves (a
 * direct, flock-serialised append) or look again later (polling), so that
 * bastionctl and the tests work without a running bastiond.
 */
#ifndef BASTION_STORE_CLIENT_H
#define BASTION_STORE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"

#define STORE_REPLY_TIMEOUT_MS	10000	/* an append's group commit */

/* Connect to the actor of state_dir: 0 with *fd (close-on-exec), or
 * BERR_NOTFOUND, BERR_LIMIT (path too long), BERR_SYS. */
int store_client_connect(const char *state_dir, int *fd);
/*
 * Append one audit event body through the actor on fd and wait for its
 * commit: 0 with *seq and hash set; BERR_DENIED when the actor refuses
 * this process (peer credentials: append yourself); BERR_CLOSED when the
 * connection broke before the request was sent (reconnect and retry);
 * BERR_TIMEOUT or BERR_CLOSED after it was sent (the event may or may
 * not be in the chain: do not append it again); the actor's own BERR_*
 * with its words in err.
 */
int store_client_append(int fd, const char *body, uint64_t *seq,
    char hash[AUDITLOG_HEX_LEN + 1], char *err, size_t errlen);
/* Tell the actor of state_dir that a decision of kind about id landed
 * (best effort: 0 or BERR_*; the store is already changed). */
int store_client_notify(const char *state_dir, int kind, int64_t id);
/* Subscribe: 0 with *fd to wait on, BERR_NOTFOUND without an actor. */
int store_client_subscribe(const char *state_dir, int kind, int64_t id,
    int *fd);
/* Wait up to timeout_ms on a subscription: 1 a matching decision came,
 * 0 none, BERR_CLOSED the actor went away. */
int store_client_await(int fd, unsigned timeout_ms);

#endif
