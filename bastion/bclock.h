/*
 * bclock.h - the clock the bastion's timer logic reads.
 *
 * Decisions that depend on time (the pre-authentication penalties and
 * what a worker's end counts for, the idle and maximum session limits,
 * the audit flood limit) are written as pure functions of their state
 * and "now"; the code around them asks one struct bclock what time it is.
 * libuv timers only wake that code up: what it decides comes from the
 * clock. bclock_system() is the real clock; a unit test hands a
 * struct bclock_manual instead and moves it by hand
 * (tests/unit/test_preauth.c, test_relay.c, test_flood.c), so no test
 * sleeps.
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
};

/*
 * A clock that moves only when told (the unit tests): both readings are
 * ms, set by bclock_manual_init() and moved by the caller (m->ms += ...).
 * &m->c is the struct bclock to hand out.
 */
struct bclock_manual {
	struct bclock c;
	int64_t ms;
};
void bclock_manual_init(struct bclock_manual *m, int64_t ms);

/* The real clock (static: never freed). */
const struct bclock *bclock_system(void);

/* Shorthands: monotonic milliseconds, wall-clock milliseconds and wall
 * seconds of c (bclock_system() when c is NULL). */
int64_t bclock_mono_ms(const struct bclock *c);
int64_t bclock_wall_ms(const struct bclock *c);
time_t bclock_wall_s(const struct bclock *c);

#endif
