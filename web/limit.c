/*
 * limit.c - failed sign-ins per client address, in webd's memory (the
 * issue 17 plan, section 4): at most WEB_LOGIN_FAILS failures from one
 * address in WEB_LOGIN_WINDOW seconds; after that, sign-in from there is
 * answered 429 without asking bastiond until the window has passed.
 * bastiond keeps its own count per person in the store; this one is for
 * the address, which bastiond's pre-authentication penalties (on the ssh
 * port) do not see.
 *
 * A fixed table of WEB_LIMIT_SLOTS addresses; when it is full the oldest
 * window is reused, so memory is bounded whatever the number of
 * addresses (an attacker with many addresses still meets bastiond's
 * per-person limit).
 */
#include <string.h>
#include <time.h>

#include "web.h"

#define WEB_LIMIT_SLOTS		256

struct limit_slot {
	char addr[64];
	time_t start;			/* of the window */
	unsigned fails;
};

static struct limit_slot limit_slots[WEB_LIMIT_SLOTS];

/* The slot of addr (its window restarted if it is over), or NULL. */
static struct limit_slot *
limit_find(const char *addr, time_t now)
{
	size_t i;

	for (i = 0; i < WEB_LIMIT_SLOTS; i++) {
		if (limit_slots[i].fails == 0 ||
		    strcmp(limit_slots[i].addr, addr) != 0)
			continue;
		if (now - limit_slots[i].start >= WEB_LOGIN_WINDOW) {
			limit_slots[i].fails = 0;
			return (NULL);
		}
		return (&limit_slots[i]);
	}
	return (NULL);
}

int
limit_blocked(const char *addr, time_t now)
{
	struct limit_slot *s = limit_find(addr, now);

	return (s != NULL && s->fails >= WEB_LOGIN_FAILS);
}

void
limit_failed(const char *addr, time_t now)
{
	struct limit_slot *s = limit_find(addr, now), *old = &limit_slots[0];
	size_t i;

	if (s == NULL) {
		/* a free slot, else the oldest window */
		for (i = 0; i < WEB_LIMIT_SLOTS; i++) {
			if (limit_slots[i].fails == 0 ||
			    now - limit_slots[i].start >= WEB_LOGIN_WINDOW) {
				old = &limit_slots[i];
				break;
			}
			if (limit_slots[i].start < old->start)
				old = &limit_slots[i];
		}
		s = old;
		memset(s, 0, sizeof(*s));
		strncpy(s->addr, addr, sizeof(s->addr) - 1);
		s->start = now;
	}
	s->fails++;
}
