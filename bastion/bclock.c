/*
 * bclock.c - the real clock behind struct bclock (bclock.h): the timer
 * logic's one way to ask the time, so that tests can substitute a fake
 * one and decide without sleeping.
 */
#include <time.h>

#include "bclock.h"

static int64_t
sys_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return (0);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int64_t
sys_mono_ms(const struct bclock *c)
{
	(void)c;
	return (sys_ms(CLOCK_MONOTONIC));
}

static int64_t
sys_wall_ms(const struct bclock *c)
{
	(void)c;
	return (sys_ms(CLOCK_REALTIME));
}

static int64_t
manual_ms(const struct bclock *c)
{
	return (((const struct bclock_manual *)(const void *)c)->ms);
}

void
bclock_manual_init(struct bclock_manual *m, int64_t ms)
{
	m->c.mono_ms = manual_ms;
	m->c.wall_ms = manual_ms;
	m->ms = ms;
}

static const struct bclock sys_clock = { sys_mono_ms, sys_wall_ms };

const struct bclock *
bclock_system(void)
{
	return (&sys_clock);
}

int64_t
bclock_mono_ms(const struct bclock *c)
{
	if (c == NULL)
		c = &sys_clock;
	return (c->mono_ms(c));
}

int64_t
bclock_wall_ms(const struct bclock *c)
{
	if (c == NULL)
		c = &sys_clock;
	return (c->wall_ms(c));
}

time_t
bclock_wall_s(const struct bclock *c)
{
	return ((time_t)(bclock_wall_ms(c) / 1000));
}
