/*
 * webverify.h - the offline proof of the web console's decisions: walk
 * the audit chain and re-verify, from its lines alone, every WebAuthn
 * assertion the web control worker accepted (`bastion-verify --audit FILE
 * --webauthn`, docs/AUDIT.md "WebAuthn proof", docs/WEB.md).
 *
 * For each `web.assertion result=ok` line (docs/WEB.md, "Actions: prepare
 * and commit"):
 *
 *	- the credential's `web.enroll result=ok` comes earlier in the chain,
 *	  for the same person; its public key and algorithm are used;
 *	- SHA-256(action) is the challenge, and the action is a well-formed
 *	  canonical action ("bastion-web-action-v1", person, token hash,
 *	  nonce, not_after, argv, the verb's description) of the same person;
 *	- the signature verifies with proto/webauthn.c exactly as the server
 *	  checked it: the rpId, origin and user-verification rule the event
 *	  records (rp_id, origin, uv), the challenge, a touch;
 *	- its signature counter is greater than the last one of that
 *	  credential in the chain (web.login and web.assertion lines; both 0:
 *	  an authenticator without a counter), and the authenticator data
 *	  says the counter the line says;
 *	- the decision event that names it (assertion=CHALLENGE) is the one
 *	  the action's verb writes, about the action's target (the request,
 *	  session, grant or engineer of the description) and by that person
 *	  via web; at most one such event.
 *
 * A decision event naming a challenge that no accepted assertion before
 * it carries is a failure too (an "orphan"). An accepted assertion whose
 * verb wrote no decision (it refused, or `export`, whose audit line
 * carries no assertion) is reported, not failed: nothing was decided.
 *
 * The walk reads lines only; whether the chain's hashes hold is
 * auditlog_verify_fp()'s (run it first: a line edited and re-chained by
 * someone without the person's key is what this walk catches).
 * Everything here is untrusted input: every field is bounded and decoded
 * with explicit limits; a malformed line is a failure, never a crash.
 */
#ifndef BASTION_WEBVERIFY_H
#define BASTION_WEBVERIFY_H

#include <stdint.h>
#include <stdio.h>

#define WEBVERIFY_WHY_MAX	256

/* One accepted assertion (or one orphan decision), as judged. */
struct webverify_item {
	uint64_t seq;		/* the web.assertion line (orphan: the
				 * decision line) */
	char person[80];
	char challenge[65];	/* hex, as in the chain */
	char verb[32];		/* the action's verb ("-" if unknown) */
	char target[128];	/* its target (request id, session, ...) */
	uint32_t counter;
	uint64_t decision_seq;	/* 0: no decision event names it */
	char decision[40];	/* that event's name */
	int orphan;		/* a decision naming no accepted assertion */
	int ok;			/* every check held */
	char why[WEBVERIFY_WHY_MAX];	/* the first failure, or a note */
};

struct webverify_summary {
	uint64_t lines;		/* chain lines read */
	uint64_t enrolled;	/* web.enroll result=ok */
	uint64_t assertions;	/* web.assertion result=ok */
	uint64_t not_accepted;	/* refused, replayed or changed */
	uint64_t verified;	/* accepted and every check held */
	uint64_t decided;	/* of those, with their decision event */
	uint64_t failed;	/* items with ok == 0, orphans included */
};

/* Called once per item, in chain order of the item's line, after the
 * whole chain was read. */
typedef void (*webverify_fn)(const struct webverify_item *it, void *arg);

/*
 * Walk the chain in fp (read from its current position to the end) and
 * judge every accepted assertion and every decision event that names one.
 * fn (may be NULL) receives each item; *s the counts. Returns 0 when the
 * walk completed (failures are in s->failed and the items), BERR_LIMIT
 * for a line longer than AUDITLOG_LINE_MAX or too many items, BERR_NOMEM,
 * BERR_SYS on a read error. A torn last line is ignored (the chain
 * verifier reports it).
 */
int webverify_fp(FILE *fp, webverify_fn fn, void *arg,
    struct webverify_summary *s);

#endif
