/*
 * relay_limits.c - the session's time limits as pure functions: the idle
 * timeout and the maximum session length, each with its warning
 * idle_warning seconds before the cut (policy limits). relay.c's
 * one-second timer asks relay_limits_check() with the time from its
 * clock (bclock.h) and does what it says; tests/unit/test_relay.c asks it
 * with a fake one.
 */
#include <stdio.h>
#include <string.h>

#include "relay.h"

void
relay_fmt_duration(unsigned s, char *out, size_t len)
{
	if (s % 3600 == 0 && s >= 3600)
		snprintf(out, len, "%u hour%s", s / 3600, s == 3600 ? "" : "s");
	else if (s % 60 == 0 && s >= 60)
		snprintf(out, len, "%u minute%s", s / 60, s == 60 ? "" : "s");
	else
		snprintf(out, len, "%u second%s", s, s == 1 ? "" : "s");
}

void
relay_limits_check(const struct policy *p, struct relay_limits *l,
    time_t now, struct relay_limits_out *out)
{
	unsigned idle, age, warn_at;

	memset(out, 0, sizeof(*out));
	if (p->idle_timeout > 0) {
		idle = (unsigned)(now - l->last_activity);
		warn_at = p->idle_timeout > p->idle_warning ?
		    p->idle_timeout - p->idle_warning : 0;
		if (idle < warn_at)
			l->warned_idle = 0;
		else if (!l->warned_idle && idle < p->idle_timeout) {
			out->idle_warn_in = p->idle_timeout - idle;
			l->warned_idle = 1;
		}
		if (idle >= p->idle_timeout) {
			out->idle_close = 1;
			return;		/* ending: nothing more to say */
		}
	}
	if (p->max_session > 0) {
		age = (unsigned)(now - l->start);
		warn_at = p->max_session > p->idle_warning ?
		    p->max_session - p->idle_warning : 0;
		if (!l->warned_max && age >= warn_at && age < p->max_session) {
			out->max_warn_in = p->max_session - age;
			l->warned_max = 1;
		}
		if (age >= p->max_session)
			out->max_close = 1;
	}
}
