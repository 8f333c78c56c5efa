/*
 * preauth.h - the listener's pre-authentication decisions, as pure
 * functions of their state and the time (docs/ARCHITECTURE.md,
 * "Pre-authentication limits").
 *
 * The listener (accept.c) counts the connections that wait for their
 * first bytes or authenticate in workers and asks here whether the next
 * one is admitted: the penalty of a source that keeps failing, the
 * per-source limit, the pools of workers still authenticating with their
 * random early drop. Nothing here reads a clock, a socket or the random
 * source: the caller passes "now" (bclock.h) and the random number, so
 * tests/unit/test_preauth.c drives every rule with a fake clock.
 */
#ifndef BASTION_PREAUTH_H
#define BASTION_PREAUTH_H

#include <stdint.h>
#include <time.h>

#include "netaddr.h"
#include "policy.h"

#define PREAUTH_PENALTY_SLOTS	1024
#define PREAUTH_FREE_FAILS	3	/* failures before the first penalty */
#define PREAUTH_PENALTY_MAX_S	900	/* outside vendors' sources */

/*
 * Which pool an unauthenticated worker counts against: clients that sent
 * nothing within the first-bytes wait, clients that sent "SSH-" from
 * outside every vendor's sources, and those that sent it from inside a
 * vendor's sources (counted per vendor).
 */
enum pre_pool { POOL_SILENT = 0, POOL_GENERAL, POOL_VENDOR };

struct preauth_penalty {
	struct netaddr addr;
	unsigned fails;
	time_t until;			/* refused before this */
	time_t last;			/* 0: a free slot */
};

/* The penalty table: a fixed number of sources, the oldest reused. All
 * zero is empty. */
struct preauth {
	struct preauth_penalty pen[PREAUTH_PENALTY_SLOTS];
};

/* Unauthenticated connections sharing a source (waiting for their first
 * bytes or in workers), and workers per pool (the vendor's own for
 * POOL_VENDOR). */
struct preauth_count {
	unsigned source;
	unsigned silent;
	unsigned general;
	unsigned vendor;
};

/* 1 if a and b are one source: the same IPv4 address, or the same IPv6
 * /64 (as OpenSSH's PerSourceNetBlockSize 32:64). */
int preauth_source_same(const struct netaddr *a, const struct netaddr *b);

/* The first vendor, in policy order, whose sources hold a; else NULL. */
const struct policy_vendor *preauth_source_vendor(const struct policy *pol,
    const struct netaddr *a);

/*
 * A connection of a ended at now: failed (a failed login, or the login
 * grace ran out) counts towards its penalty, after PREAUTH_FREE_FAILS
 * free ones 2^n seconds capped at PREAUTH_PENALTY_MAX_S, or at the
 * policy's vendor_source_penalty_max inside a vendor's sources; a success
 * forgives the source.
 */
void preauth_penalty_record(struct preauth *pa, const struct policy *pol,
    const struct netaddr *a, int failed, time_t now);

/*
 * What a worker's end means for its source: 1 a failure (it exited
 * WORKER_EXIT_AUTHFAIL, or died of SIGALRM, the login grace, before
 * anyone authenticated), -1 a login (forgives), 0 neither (a client that
 * left, a crash). status and sig as libuv's exit callback gives them.
 */
int preauth_outcome(int64_t status, int sig, int authed);

/* Seconds a's penalty still runs at now; 0 when it is not penalised. */
time_t preauth_penalty_left(const struct preauth *pa,
    const struct netaddr *a, time_t now);

/*
 * A new connection from a source that, counting it, has n->source
 * unauthenticated connections: NULL when within the per-source limit
 * (vendor_source_max_unauthenticated inside a vendor's sources, else
 * per_source_max_unauthenticated), else the audit reason.
 */
const char *preauth_source_refused(const struct policy *pol, int in_vendor,
    const struct preauth_count *n);

/*
 * Random early drop between half of cap and cap, for a pool holding n
 * unauthenticated connections; rnd is a uniform random number from 0 to
 * UINT32_MAX (the caller's getrandom()), or negative when none could be
 * had, which drops whenever the drop is random. 1: drop.
 */
int preauth_should_drop(unsigned cap, unsigned n, int64_t rnd);

/*
 * Handing a connection whose first bytes came to a worker in pool: NULL
 * when the pool has room, else the audit reason (refused without a word).
 * rnd as for preauth_should_drop.
 */
const char *preauth_pool_refused(const struct policy *pol,
    enum pre_pool pool, const struct preauth_count *n, int64_t rnd);

#endif
