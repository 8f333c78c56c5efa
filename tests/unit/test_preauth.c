/*
 * test_preauth.c - the listener's pre-authentication rules (bastion/
 * preauth.c, through libbastiond.a): the penalty of a failing source
 * (free failures, doubling, the 15 min cap, the vendor's cap, expiry,
 * forgiveness, one slot per IPv4 address or IPv6 /64, the oldest slot
 * reused), what a worker's end counts for (a failed login and the login
 * grace run out: a failure; a login: forgiven), the per-source limit
 * inside and outside a vendor's sources, and the pools with their random
 * early drop. Time comes from a fake
 * struct bclock moved by hand, so nothing sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bastiond.h"
#include "bclock.h"
#include "preauth.h"

#include "netaddr_fixture.h"

/* A clock that moves only when told. */
static struct bclock_manual fk;

static time_t
now_s(void)
{
	return (bclock_wall_s(&fk.c));
}

static void
advance(int64_t s)
{
	fk.ms += s * 1000;
}

/* A policy with the default limits and one vendor, acme, whose engineers
 * connect from 10.1.0.0/16. */
static struct netaddr_cidr acme_src;
static struct policy_vendor acme;
static struct policy pol;
static struct preauth *pa;

static int
setup(void **state)
{
	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(&acme, 0, sizeof(acme));
	assert_int_equal(netaddr_cidr_parse("10.1.0.0/16", &acme_src), 0);
	acme.name = "acme";
	acme.sources = &acme_src;
	acme.nsources = 1;
	pol.vendors = &acme;
	pol.nvendors = 1;
	pol.max_unauthenticated = 20;
	pol.per_source_max_unauthenticated = 10;
	pol.vendor_source_max_unauthenticated = 64;
	pol.vendor_source_penalty_max = 60;
	bclock_manual_init(&fk, 1700000000000LL);
	pa = calloc(1, sizeof(*pa));
	assert_non_null(pa);
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	free(pa);
	return (0);
}

static void
fail_n(const struct netaddr *a, int n)
{
	while (n-- > 0)
		preauth_penalty_record(pa, &pol, a, 1, now_s());
}

static void
test_free_failures_then_doubling(void **state)
{
	struct netaddr a = addr("192.0.2.7");

	(void)state;
	fail_n(&a, 3);
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 0);
	fail_n(&a, 1);			/* the 4th: 2 s */
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 2);
	fail_n(&a, 1);			/* the 5th: 4 s */
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 4);
	fail_n(&a, 1);
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 8);
	/* expiry with the clock */
	advance(7);
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 1);
	advance(1);
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 0);
}

static void
test_cap_outside_and_inside_vendor(void **state)
{
	struct netaddr out = addr("192.0.2.8"), in = addr("10.1.2.3");

	(void)state;
	fail_n(&out, 3 + 40);		/* 2^40 s: capped, no overflow */
	assert_int_equal(preauth_penalty_left(pa, &out, now_s()),
	    PREAUTH_PENALTY_MAX_S);
	fail_n(&in, 3 + 10);		/* 1024 s: the vendor's 60 s */
	assert_int_equal(preauth_penalty_left(pa, &in, now_s()), 60);
	advance(60);
	assert_int_equal(preauth_penalty_left(pa, &in, now_s()), 0);
	assert_int_equal(preauth_penalty_left(pa, &out, now_s()),
	    PREAUTH_PENALTY_MAX_S - 60);
}

static void
test_success_forgives(void **state)
{
	struct netaddr a = addr("192.0.2.9");

	(void)state;
	fail_n(&a, 5);
	assert_true(preauth_penalty_left(pa, &a, now_s()) > 0);
	preauth_penalty_record(pa, &pol, &a, 0, now_s());
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 0);
	/* and counting starts over: three free failures again */
	fail_n(&a, 3);
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 0);
	/* a success from a source never seen takes no slot */
	preauth_penalty_record(pa, &pol, &(struct netaddr){ 0 }, 0, now_s());
}

static void
test_one_source_per_v4_and_v6_64(void **state)
{
	struct netaddr a = addr("2001:db8:1:2::1"), b = addr("2001:db8:1:2::ff");
	struct netaddr c = addr("2001:db8:1:3::1");
	struct netaddr d = addr("192.0.2.10"), e = addr("192.0.2.11");

	(void)state;
	assert_true(preauth_source_same(&a, &b));
	assert_false(preauth_source_same(&a, &c));
	assert_false(preauth_source_same(&d, &e));
	fail_n(&a, 4);
	assert_int_equal(preauth_penalty_left(pa, &b, now_s()), 2);
	assert_int_equal(preauth_penalty_left(pa, &c, now_s()), 0);
	fail_n(&d, 4);
	assert_int_equal(preauth_penalty_left(pa, &e, now_s()), 0);
}

static void
test_oldest_slot_reused(void **state)
{
	struct netaddr first = addr("198.51.100.1"), x;
	char s[32];
	int i;

	(void)state;
	fail_n(&first, 4);
	advance(1);
	for (i = 0; i < PREAUTH_PENALTY_SLOTS - 1; i++) {
		snprintf(s, sizeof(s), "10.200.%d.%d", i / 256, i % 256);
		x = addr(s);
		fail_n(&x, 1);
	}
	/* the table is full; the first source still has its slot */
	assert_int_equal(preauth_penalty_left(pa, &first, now_s() - 1), 2);
	advance(1);
	x = addr("203.0.113.5");
	fail_n(&x, 4);			/* takes the oldest: the first's */
	assert_int_equal(preauth_penalty_left(pa, &first, now_s() - 2), 0);
	assert_int_equal(preauth_penalty_left(pa, &x, now_s()), 2);
}

/* The login grace (the monitor's alarm) and a failed login count against
 * the source; a login forgives; a client that just left does neither. */
static void
test_worker_outcome(void **state)
{
	struct netaddr a = addr("192.0.2.20");
	int i;

	(void)state;
	assert_int_equal(preauth_outcome(WORKER_EXIT_AUTHFAIL, 0, 0), 1);
	assert_int_equal(preauth_outcome(0, SIGALRM, 0), 1);
	assert_int_equal(preauth_outcome(0, SIGALRM, 1), -1);
	assert_int_equal(preauth_outcome(0, 0, 1), -1);
	assert_int_equal(preauth_outcome(0, 0, 0), 0);
	assert_int_equal(preauth_outcome(0, SIGKILL, 0), 0);
	assert_int_equal(preauth_outcome(WORKER_EXIT_ERROR, 0, 0), 0);
	/* four silent connections that each reach the grace: a penalty */
	for (i = 0; i < 4; i++)
		preauth_penalty_record(pa, &pol, &a,
		    preauth_outcome(0, SIGALRM, 0) > 0, now_s());
	assert_int_equal(preauth_penalty_left(pa, &a, now_s()), 2);
}

static void
test_source_vendor(void **state)
{
	struct netaddr in = addr("10.1.200.1"), out = addr("10.2.0.1");

	(void)state;
	assert_ptr_equal(preauth_source_vendor(&pol, &in), &acme);
	assert_null(preauth_source_vendor(&pol, &out));
}

static void
test_per_source_limit(void **state)
{
	struct preauth_count n = { 0 };

	(void)state;
	n.source = 10;
	assert_null(preauth_source_refused(&pol, 0, &n));
	n.source = 11;
	assert_string_equal(preauth_source_refused(&pol, 0, &n),
	    "too many unauthenticated connections from this source address");
	/* inside a vendor's sources: 64 */
	assert_null(preauth_source_refused(&pol, 1, &n));
	n.source = 64;
	assert_null(preauth_source_refused(&pol, 1, &n));
	n.source = 65;
	assert_non_null(preauth_source_refused(&pol, 1, &n));
}

static void
test_random_early_drop(void **state)
{
	(void)state;
	/* cap 20: no drop below 10, always at 20 and beyond */
	assert_false(preauth_should_drop(20, 9, 0));
	assert_false(preauth_should_drop(20, 0, -1));
	assert_true(preauth_should_drop(20, 20, 0));
	assert_true(preauth_should_drop(20, 25, 0));
	/* between: rnd % 10 < n - 10 */
	assert_false(preauth_should_drop(20, 10, 0));
	assert_true(preauth_should_drop(20, 11, 0));
	assert_false(preauth_should_drop(20, 11, 1));
	assert_true(preauth_should_drop(20, 19, 8));
	assert_false(preauth_should_drop(20, 19, 9));
	/* no random number in the random range: drop */
	assert_true(preauth_should_drop(20, 15, -1));
	/* a cap of 1: start 0, every connection past the cap dropped */
	assert_false(preauth_should_drop(1, 0, 0));
	assert_true(preauth_should_drop(1, 1, 0));
	/* a cap of 0 drops everything */
	assert_true(preauth_should_drop(0, 0, 0));
}

static void
test_pools(void **state)
{
	struct preauth_count n = { 0 };

	(void)state;
	/* the vendor's own pool: a hard limit, no random drop */
	n.vendor = 63;
	n.general = 100;
	n.silent = 100;
	assert_null(preauth_pool_refused(&pol, POOL_VENDOR, &n, -1));
	n.vendor = 64;
	assert_string_equal(preauth_pool_refused(&pol, POOL_VENDOR, &n, 0),
	    "too many unauthenticated connections from the vendor's "
	    "sources");
	/* identified clients count only among themselves */
	memset(&n, 0, sizeof(n));
	n.silent = 19;
	n.general = 5;
	assert_null(preauth_pool_refused(&pol, POOL_GENERAL, &n, 0));
	/* silent ones count with the identified: 24 >= 20 */
	assert_string_equal(preauth_pool_refused(&pol, POOL_SILENT, &n, 0),
	    "too many unauthenticated connections");
	n.silent = 4;
	assert_null(preauth_pool_refused(&pol, POOL_SILENT, &n, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_free_failures_then_doubling,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cap_outside_and_inside_vendor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_forgives, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_one_source_per_v4_and_v6_64,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_oldest_slot_reused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_worker_outcome, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_source_vendor, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_source_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_random_early_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pools, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
