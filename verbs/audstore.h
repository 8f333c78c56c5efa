/*
 * audstore.h - what the shared state store says of a recording, for the
 * auditor verbs on a node that did not record it (issue 20, item 5;
 * docs/SCALE-OUT.md, "Another node's recordings"). With several nodes on
 * one PostgreSQL database, every node's session rows (their node, their
 * recording's path on that node, their grant) and every request and grant
 * are shared; the audit lines of a session are only in the chain of the
 * node that ran it. So `replay`, `verify` and `export` of another node's
 * recording take how the session was let in from the store's rows, and
 * say that they did: rows of a database, not lines of a signed chain.
 *
 * A recording is named by its id (the recorder's session id, the file
 * name without .brec) or by its session number. Session rows are read
 * newest first, at most AUDSTORE_SCAN of them: an older recording is
 * reached by its number (state_session_get()).
 */
#ifndef BASTION_AUDSTORE_H
#define BASTION_AUDSTORE_H

#include <stdio.h>

#include "recfmt.h"
#include "state.h"

#define AUDSTORE_SCAN	20000		/* session rows read for an id */

/* One recorded session as the shared store has it. */
struct audstore_rec {
	struct state_session s;		/* its session row */
	char id[REC_SESSION_ID_MAX + 1];	/* the recording's id */
	int has_grant, has_request;
	struct state_grant g;		/* s.grant_id's, if the store has it */
	struct state_request r;		/* g.request_id's */
};

/*
 * The recording id of a session row's recording path (its file name
 * without ".brec", a valid session id) into id: 0, or -1 when the row
 * names no recording.
 */
int audstore_id_of(const char *path, char *id, size_t len);
/*
 * The session whose recording word names (a recording id, or a session
 * number): 1 with *f filled (its grant and request too, when the store
 * has them), 0 when the store has no such recorded session, -1 when the
 * store failed.
 */
int audstore_find(struct state *st, const char *word,
    struct audstore_rec *f);
/*
 * The recording at path (its HEADER's id), when the shared store's row of
 * its session names another node than here: 1; 0 when it is this node's
 * own (or the store has no row: a node on a store of its own, whose chain
 * is all there is), or the store cannot be read. *f is filled whenever
 * the store has the row (else zeroed).
 */
int audstore_elsewhere(struct state *st, const char *here, const char *path,
    struct audstore_rec *f);
/* How the session was let in, as the store's rows say (one line, for
 * bastion-replay --approval): "grant 3 (request 5 ... approved by bob at
 * ... UTC)", or that the store has no grant for it. */
void audstore_approval(const struct audstore_rec *f, char *out,
    size_t len);
/*
 * The session facts block the verbs print for a recording of node
 * f->s.node seen on node here: "# "-prefixed lines, every field cleaned
 * for a terminal (text.h), saying that they come from the shared state
 * store and that the session's audit lines are in that node's chain.
 */
void audstore_print(FILE *out, const struct audstore_rec *f,
    const char *here);

#endif
