/*
 * test_flood.c - the flood limit the listener and every monitor apply to
 * audit lines (bastion/burst.c, through libbastiond.a): MON_AUDIT_BURST
 * lines per MON_AUDIT_WINDOW seconds, a window starting at its first
 * line. Time comes from a fake struct bclock moved by hand: the test
 * sends a thousand lines in no time and then waits ten seconds without
 * sleeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bclock.h"
#include "burst.h"
#include "monitor.h"

static struct bclock_manual fake;

static int
take(struct burst *b)
{
	return (burst_take(b, bclock_wall_s(&fake.c), MON_AUDIT_WINDOW,
	    MON_AUDIT_BURST));
}

/* A fresh limit at a fresh clock, then n events, each allowed. */
static void
start(struct burst *b, unsigned n)
{
	memset(b, 0, sizeof(*b));
	bclock_manual_init(&fake, 1700000000000LL);
	while (n-- > 0)
		assert_true(take(b));
}

static void
test_burst_then_refused_until_the_window_ends(void **state)
{
	struct burst b;

	(void)state;
	start(&b, MON_AUDIT_BURST);
	assert_false(take(&b));		/* one too many: a flood */
	fake.ms += (MON_AUDIT_WINDOW - 1) * 1000 + 999;
	assert_false(take(&b));		/* still the same window */
	fake.ms += 1;			/* MON_AUDIT_WINDOW s after its start */
	assert_true(take(&b));
	assert_int_equal(b.count, 1);
}

static void
test_window_starts_at_its_first_event(void **state)
{
	struct burst b;
	unsigned i;

	(void)state;
	start(&b, 1);
	fake.ms += 9000;		/* late in the window: */
	for (i = 1; i < MON_AUDIT_BURST; i++)
		assert_true(take(&b));
	assert_false(take(&b));		/* ...its count still holds */
	fake.ms += 1000;		/* a new window from here */
	for (i = 0; i < MON_AUDIT_BURST; i++)
		assert_true(take(&b));
	assert_false(take(&b));
}

static void
test_small_limits(void **state)
{
	struct burst b;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_true(burst_take(&b, 100, 1, 1));
	assert_false(burst_take(&b, 100, 1, 1));
	assert_true(burst_take(&b, 101, 1, 1));
	memset(&b, 0, sizeof(b));
	assert_false(burst_take(&b, 100, 1, 0));	/* nothing allowed */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refused_until_the_window_ends),
		cmocka_unit_test(test_window_starts_at_its_first_event),
		cmocka_unit_test(test_small_limits),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
