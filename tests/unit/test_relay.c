/*
 * test_relay.c - the relay's decisions and its monitor link, through
 * libbastiond.a, without a loop, a socket or a sleep:
 *
 *  - the idle timeout and the maximum session length (bastion/
 *    relay_limits.c) as time moves on a fake clock: the warning
 *    idle_warning seconds before the cut, once; activity resetting it;
 *    the cut; a warning longer than the limit;
 *  - the durations the engineer reads ("1 second", "5 minutes");
 *  - the queue every message to the monitor goes through (bastion/
 *    mmq.c): order, its bound, ownership of bodies and descriptors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "mmq.h"
#include "relay.h"

/* A clock that moves only when told. */
static struct bclock_manual fake;

static time_t
now_s(void)
{
	return (bclock_wall_s(&fake.c));
}

static struct policy pol;
static struct relay_limits lim;

static void
start(unsigned idle, unsigned warning, unsigned max)
{
	memset(&pol, 0, sizeof(pol));
	pol.idle_timeout = idle;
	pol.idle_warning = warning;
	pol.max_session = max;
	bclock_manual_init(&fake, 1700000000000LL);
	memset(&lim, 0, sizeof(lim));
	lim.start = lim.last_activity = now_s();
}

/* Move the clock s seconds and ask. */
static struct relay_limits_out
tick(unsigned s)
{
	struct relay_limits_out o;

	fake.ms += (int64_t)s * 1000;
	relay_limits_check(&pol, &lim, now_s(), &o);
	return (o);
}

static void
test_idle_warns_once_then_closes(void **state)
{
	struct relay_limits_out o;

	(void)state;
	start(300, 60, 0);
	o = tick(239);
	assert_int_equal(o.idle_warn_in, 0);
	assert_false(o.idle_close);
	o = tick(1);			/* 240 s idle: 60 s left */
	assert_int_equal(o.idle_warn_in, 60);
	assert_false(o.idle_close);
	o = tick(1);			/* said once only */
	assert_int_equal(o.idle_warn_in, 0);
	o = tick(58);			/* 299 s */
	assert_false(o.idle_close);
	o = tick(1);			/* 300 s */
	assert_true(o.idle_close);
	assert_int_equal(o.max_warn_in, 0);
	assert_false(o.max_close);
}

static void
test_activity_resets_the_warning(void **state)
{
	struct relay_limits_out o;

	(void)state;
	start(300, 60, 0);
	o = tick(250);
	assert_int_equal(o.idle_warn_in, 50);
	lim.last_activity = now_s();	/* a key */
	o = tick(10);
	assert_int_equal(o.idle_warn_in, 0);
	assert_int_equal(lim.warned_idle, 0);
	o = tick(230);			/* 240 s since the key: warned again */
	assert_int_equal(o.idle_warn_in, 60);
	o = tick(60);
	assert_true(o.idle_close);
}

static void
test_warning_longer_than_the_limit(void **state)
{
	struct relay_limits_out o;

	(void)state;
	start(30, 60, 0);		/* warn at once: 30 s left */
	o = tick(0);
	assert_int_equal(o.idle_warn_in, 30);
	o = tick(30);
	assert_true(o.idle_close);
}

static void
test_max_session(void **state)
{
	struct relay_limits_out o;
	int i;

	(void)state;
	start(0, 60, 3600);		/* no idle limit */
	for (i = 0; i < 35; i++) {
		o = tick(100);		/* busy or not: only age counts */
		lim.last_activity = now_s();
		assert_int_equal(o.max_warn_in, 0);
		assert_false(o.max_close);
	}
	o = tick(40);			/* 3540 s */
	assert_int_equal(o.max_warn_in, 60);
	o = tick(30);
	assert_int_equal(o.max_warn_in, 0);
	assert_false(o.max_close);
	o = tick(30);			/* 3600 s */
	assert_true(o.max_close);
	assert_false(o.idle_close);
}

static void
test_idle_close_wins_over_max(void **state)
{
	struct relay_limits_out o;

	(void)state;
	start(100, 10, 100);
	o = tick(100);
	assert_true(o.idle_close);
	assert_false(o.max_close);	/* one reason: the idle one */
}

static void
test_no_limits(void **state)
{
	struct relay_limits_out o;

	(void)state;
	start(0, 60, 0);
	o = tick(1000000);
	assert_int_equal(o.idle_warn_in + o.max_warn_in, 0);
	assert_false(o.idle_close || o.max_close);
}

static void
test_durations(void **state)
{
	static const struct {
		unsigned s;
		const char *text;
	} t[] = {
		{ 1, "1 second" }, { 59, "59 seconds" }, { 60, "1 minute" },
		{ 300, "5 minutes" }, { 90, "90 seconds" }, { 3600, "1 hour" },
		{ 7200, "2 hours" }, { 5400, "90 minutes" },
	};
	char b[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		relay_fmt_duration(t[i].s, b, sizeof(b));
		assert_string_equal(b, t[i].text);
	}
}

static struct buf *
body(uint32_t v)
{
	struct buf *b = buf_new(64);

	assert_non_null(b);
	assert_int_equal(buf_put_u32(b, v), 0);
	return (b);
}

static void
test_queue_order_and_bound(void **state)
{
	struct mmq q;
	struct mmq_item it;
	struct buf *extra;
	uint32_t v;
	int i;

	(void)state;
	mmq_init(&q);
	assert_null(mmq_peek(&q));
	assert_int_equal(mmq_pop(&q, &it), 0);
	for (i = 0; i < MMQ_MAX; i++)
		assert_int_equal(mmq_push(&q, 100 + i, body((uint32_t)i), -1),
		    0);
	assert_int_equal(mmq_len(&q), MMQ_MAX);
	extra = body(999);
	assert_int_equal(mmq_push(&q, 1, extra, -1), BERR_LIMIT);
	buf_free(extra);		/* refused: still the caller's */
	/* first in, first out, around the ring */
	for (i = 0; i < MMQ_MAX / 2; i++) {
		assert_int_equal(mmq_peek(&q)->type, 100 + i);
		assert_int_equal(mmq_pop(&q, &it), 1);
		assert_int_equal(it.type, 100 + i);
		assert_int_equal(buf_get_u32(it.body, &v), 0);
		assert_int_equal(v, (uint32_t)i);
		buf_free(it.body);
	}
	for (i = 0; i < MMQ_MAX / 2; i++)
		assert_int_equal(mmq_push(&q, 500 + i, body(0), -1), 0);
	assert_int_equal(mmq_push(&q, 1, extra = body(1), -1), BERR_LIMIT);
	buf_free(extra);
	for (i = MMQ_MAX / 2; i < MMQ_MAX; i++) {
		assert_int_equal(mmq_pop(&q, &it), 1);
		assert_int_equal(it.type, 100 + i);
		buf_free(it.body);
	}
	assert_int_equal(mmq_pop(&q, &it), 1);
	assert_int_equal(it.type, 500);
	buf_free(it.body);
	mmq_clear(&q);
	assert_int_equal(mmq_len(&q), 0);
}

static void
test_queue_owns_descriptors(void **state)
{
	struct mmq q;
	struct mmq_item it;
	int p[2], k[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(k), 0);
	mmq_init(&q);
	assert_int_equal(mmq_push(&q, 1, NULL, p[0]), 0);
	assert_int_equal(mmq_push(&q, 2, body(7), k[0]), 0);
	/* taken out: the caller's to close */
	assert_int_equal(mmq_pop(&q, &it), 1);
	assert_int_equal(it.fd, p[0]);
	assert_int_not_equal(fcntl(p[0], F_GETFD), -1);
	close(it.fd);
	/* cleared: closed by the queue */
	mmq_clear(&q);
	errno = 0;
	assert_int_equal(fcntl(k[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	close(p[1]);
	close(k[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_warns_once_then_closes),
		cmocka_unit_test(test_activity_resets_the_warning),
		cmocka_unit_test(test_warning_longer_than_the_limit),
		cmocka_unit_test(test_max_session),
		cmocka_unit_test(test_idle_close_wins_over_max),
		cmocka_unit_test(test_no_limits),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_queue_order_and_bound),
		cmocka_unit_test(test_queue_owns_descriptors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
