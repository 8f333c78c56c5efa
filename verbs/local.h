/*
 * local.h - what the verbs bastionctl runs in its own process on the
 * bastion host (VERB_LOCAL: enroll, keys, and the report) share: the
 * state store opened on first use, the engineer and the owner of a key in
 * the policy, a bounded file read, the caller's login, and times.
 */
#ifndef BASTION_LOCAL_H
#define BASTION_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "policy.h"
#include "sk.h"
#include "state.h"
#include "verb.h"

/* The state store of pol's state_dir in *st, opened on first use; NULL
 * after saying why on err. */
struct state *local_state(const struct policy *pol, struct state **st,
    FILE *err);
/* The engineer called name; NULL after saying why on c->err. */
struct policy_person *local_engineer(struct verb_ctx *c, const char *name);
/* Who holds the key with fingerprint fp in the policy (NULL if nobody);
 * *key (key may be NULL) receives the key. */
struct policy_person *local_key_owner(const struct policy *pol,
    const char *fp, const struct policy_key **key);
/* Read a whole file of at most max bytes (heap, caller frees; one NUL
 * byte is appended, not counted). 0, or -1 after saying why on err. */
int local_read_file(const char *path, size_t max, uint8_t **out,
    size_t *len, FILE *err);
/* The login name of the real uid ("?" if it has none). */
const char *local_login(void);
/* "2026-01-31 14:05 UTC", "-" for 0. */
void local_time(time_t t, char *out, size_t len);

/* enroll (cmd-enroll.c): its options, and the key of the .pub file. */
#define ENROLL_MAX_AAGUIDS	64

struct enroll {
	FILE *err;		/* where what went wrong is said */
	const char *keyfile, *attfile, *chalfile, *roots;
	int require_att, verify_required;
	uint8_t aaguids[ENROLL_MAX_AAGUIDS][16];
	size_t naaguids;
	/* the key */
	char type[64], *b64, comment[128];
	struct sk_key k;
};

/*
 * Split the first line of a .pub file (text, cut in place): TYPE BASE64
 * [COMMENT] into e->type, e->b64 (pointing into text), e->k and a
 * YAML-safe e->comment. Only FIDO security keys (ed25519-sk, ecdsa-sk).
 * 0, or -1 after saying why on e->err (naming e->keyfile).
 */
int enroll_parse_pub(struct enroll *e, char *text);

#endif
