/*
 * burst.c - the flood limit of burst.h: a fixed window that starts at
 * its first event, and a count in it.
 */
#include "burst.h"

int
burst_take(struct burst *b, time_t now, unsigned window_s, unsigned max)
{
	if (now - b->window >= (time_t)window_s) {
		b->window = now;
		b->count = 0;
	}
	return (++b->count <= max);
}
