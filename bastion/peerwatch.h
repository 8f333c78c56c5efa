/*
 * peerwatch.h - what the two sides of a watch of another node's session
 * share (peerwatch.c the watcher, peerwatch_serve.c the session's node):
 * the limits (a chunk's encryption is recorder/lib/peerchunk.c). The
 * functions the rest of bastiond calls are declared in bastiond.h;
 * docs/SCALE-OUT.md "Watching a session of another node" describes the
 * exchange.
 */
#ifndef BASTION_PEERWATCH_H
#define BASTION_PEERWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "peerchunk.h"

#define PEERWATCH_CAP_S		(8 * 3600)	/* a watch's hard cap */
#define PEERWATCH_ANSWER_S	10	/* the session's node answers within */
#define PEERWATCH_GATHER_MS	150	/* output gathered into one chunk */
#define PEERWATCH_KEEPALIVE_MS	2000	/* an empty chunk when idle */
#define PEERWATCH_MAX		16	/* helpers at once on one node */

/* The helper's name in the log and in its filter's report. */
#define PEERWATCH_HELPER	"bastiond-peerwatch"

/*
 * pwsandbox.c: install the helper's own seccomp filter (no way back).
 * 0, or a BERR_* code (logged): the helper then serves nothing.
 */
int peerwatch_sandbox(void);

struct policy;
struct state_watch;
/*
 * peerwatch_sign.c. The asking node: give w (all else filled in) a
 * random request id (nonce) and its audit key's signature (sig). 0 or a
 * BERR_* code (logged when the key cannot be read).
 * The session's node: NULL when w is signed by the key pol pins for
 * w->from_node (store: nodes), else why not (for the refusal and audit).
 */
int peerwatch_sign(const struct policy *pol, struct state_watch *w);
const char *peerwatch_verify(const struct policy *pol,
    const struct state_watch *w);

#endif
