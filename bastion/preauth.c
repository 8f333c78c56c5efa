/*
 * preauth.c - the pre-authentication rules of the listener (preauth.h):
 * the penalty table of failing sources, the per-source limit and the
 * pools with their random early drop. Pure functions of the state, the
 * policy's limits, "now" and a random number; accept.c does the I/O.
 */
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "bastiond.h"
#include "preauth.h"

int
preauth_source_same(const struct netaddr *a, const struct netaddr *b)
{
	return (a->family == b->family && memcmp(a->a, b->a,
	    a->family == AF_INET ? 4 : 8) == 0);
}

const struct policy_vendor *
preauth_source_vendor(const struct policy *pol, const struct netaddr *a)
{
	size_t i, j;

	for (i = 0; i < pol->nvendors; i++)
		for (j = 0; j < pol->vendors[i].nsources; j++)
			if (netaddr_in_cidr(a, &pol->vendors[i].sources[j]))
				return (&pol->vendors[i]);
	return (NULL);
}

/* a's slot; with create, a fresh one in place of the oldest. */
static struct preauth_penalty *
penalty_find(struct preauth *pa, const struct netaddr *a, int create)
{
	struct preauth_penalty *oldest = &pa->pen[0];
	size_t i;

	for (i = 0; i < PREAUTH_PENALTY_SLOTS; i++) {
		if (pa->pen[i].last != 0 &&
		    preauth_source_same(&pa->pen[i].addr, a))
			return (&pa->pen[i]);
		if (pa->pen[i].last < oldest->last)
			oldest = &pa->pen[i];
	}
	if (!create)
		return (NULL);
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = *a;
	return (oldest);
}

void
preauth_penalty_record(struct preauth *pa, const struct policy *pol,
    const struct netaddr *a, int failed, time_t now)
{
	struct preauth_penalty *p = penalty_find(pa, a, failed);
	unsigned n, cap, d;

	if (p == NULL)
		return;
	p->last = now;
	if (!failed) {
		p->fails = 0;
		p->until = 0;
		return;
	}
	p->fails++;
	if (p->fails > PREAUTH_FREE_FAILS) {
		/* behind a vendor's NAT address the colleagues wait too */
		cap = preauth_source_vendor(pol, a) != NULL ?
		    pol->vendor_source_penalty_max : PREAUTH_PENALTY_MAX_S;
		n = p->fails - PREAUTH_FREE_FAILS;
		d = n >= 31 ? UINT_MAX : 1u << n;
		p->until = p->last + (d > cap ? cap : d);
	}
}

int
preauth_outcome(int64_t status, int sig, int authed)
{
	if (status == WORKER_EXIT_AUTHFAIL || (sig == SIGALRM && !authed))
		return (1);
	return (authed ? -1 : 0);
}

time_t
preauth_penalty_left(const struct preauth *pa, const struct netaddr *a,
    time_t now)
{
	const struct preauth_penalty *p;

	/* penalty_find without create does not write */
	p = penalty_find((struct preauth *)pa, a, 0);
	return (p != NULL && p->until > now ? p->until - now : 0);
}

const char *
preauth_source_refused(const struct policy *pol, int in_vendor,
    const struct preauth_count *n)
{
	unsigned limit = in_vendor ? pol->vendor_source_max_unauthenticated :
	    pol->per_source_max_unauthenticated;

	return (n->source > limit ? "too many unauthenticated connections "
	    "from this source address" : NULL);
}

int
preauth_should_drop(unsigned cap, unsigned n, int64_t rnd)
{
	unsigned start = cap / 2;

	if (n >= cap)
		return (1);
	if (n < start || cap == start)
		return (0);
	if (rnd < 0)
		return (1);
	return ((uint32_t)rnd % (cap - start) < n - start);
}

const char *
preauth_pool_refused(const struct policy *pol, enum pre_pool pool,
    const struct preauth_count *n, int64_t rnd)
{
	if (pool == POOL_VENDOR)
		return (n->vendor >= pol->vendor_source_max_unauthenticated ?
		    "too many unauthenticated connections from the vendor's "
		    "sources" : NULL);
	return (preauth_should_drop(pol->max_unauthenticated,
	    pool == POOL_GENERAL ? n->general : n->general + n->silent, rnd) ?
	    "too many unauthenticated connections" : NULL);
}
