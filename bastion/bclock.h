/*
 * bclock.h - the clock the bastion's timer logic reads.
 *
 * Decisions that depend on time (the pre-authentication penalties, the
 * idle and maximum session limits, the login grace, the session
 * monitor's grace after K/L/R) are written as pure functions of their
 * state and "now"; the code around them asks one struct bclock what time
 * it is and arms its libuv timers from the answer. bclock_system() is the
 * real clock; a unit test passes its own (tests/unit/test_preauth.c,
 * test_relay.c) and moves time by hand, so no test sleeps.
 */
#ifndef BASTION_BCLOCK_H
#define BASTION_BCLOCK_H

#include <stdint.h>
#include <time.h>

struct bclock {
	/* milliseconds of a monotonic clock (CLOCK_MONOTONIC) */
	int64_t (*mono_ms)(const struct bclock *c);
	/* milliseconds since the epoch (CLOCK_REALTIME) */
	int64_t (*wall_ms)(const struct bclock *c);
	void *arg;			/* the fake clock's own state */
};

/* The real clock (static: never freed). */
const struct bclock *bclock_system(void);

/* Shorthands: monotonic milliseconds, wall-clock milliseconds and wall
 * seconds of c (bclock_system() when c is NULL). */
int64_t bclock_mono_ms(const struct bclock *c);
int64_t bclock_wall_ms(const struct bclock *c);
time_t bclock_wall_s(const struct bclock *c);

#endif
