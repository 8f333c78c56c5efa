/*
 * audfetch.h - other nodes' recordings fetched from the object store for
 * one auditor verb (docs/RECORDING-STORE.md, "Fetched copies"): bastion-ship
 * fetches the recording into STATE_DIR/fetched/ID.brec, the verb holds it
 * (a shared flock on an open descriptor) while it reads it, and the last
 * verb to let go of a copy deletes it. Copies nobody holds (left by a verb
 * that was killed) are swept before each fetch. Only names ID.brec below
 * STATE_DIR/fetched are ever deleted: never anything of the node's spool.
 */
#ifndef BASTION_AUDFETCH_H
#define BASTION_AUDFETCH_H

#include <stddef.h>

#include "verb.h"

/* A fetched copy a verb holds (fd -1: none, the recording is local). */
struct audfetch {
	int fd;
	char path[4096];
};

/* Nothing held yet. */
void audfetch_init(struct audfetch *h);
/*
 * Recording id from the object store (the policy's recordings: store: s3)
 * into STATE_DIR/fetched/ID.brec, held in h until audfetch_release: 0,
 * or 1 when there is no object store or bastion-ship said why on c->err.
 */
int audfetch_hold(struct verb_ctx *c, const char *id, struct audfetch *h);
/* Let go of h's copy; deleted when no other verb holds it. */
void audfetch_release(struct audfetch *h);
/* Delete the copies in STATE_DIR/fetched nobody holds; how many. */
int audfetch_sweep(const char *state_dir);

#endif
