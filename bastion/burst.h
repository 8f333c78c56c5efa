/*
 * burst.h - a flood limit: at most MAX events per window of WINDOW
 * seconds, a window starting at its first event. The listener holds each
 * worker's audit lines to it, and a connection's monitor its child's
 * (MON_AUDIT_BURST per MON_AUDIT_WINDOW: beyond, the sender is killed,
 * since the lines would fill the disk). A pure function of the state and
 * "now" (bclock.h), tested with a fake clock (tests/unit/test_flood.c).
 */
#ifndef BASTION_BURST_H
#define BASTION_BURST_H

#include <time.h>

struct burst {
	time_t window;			/* when the current window began */
	unsigned count;			/* events in it */
};

/* One more event at now: 1 when it is within max for its window, 0 when
 * it is one too many (the count goes on until the next window). */
int burst_take(struct burst *b, time_t now, unsigned window_s,
    unsigned max);

#endif
