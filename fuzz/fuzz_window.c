/*
 * fuzz_window.c - time windows: the policy's approval windows
 * (policy_window_parse, policy/policy.c) and pam_bastion.so's
 * hours=VENDOR:WINDOW arguments (pam/hours.c, compiled in as the unit
 * test does), each window then matched against every hour of a week;
 * both must take the same windows and mean the same hours.
 *
 * Input: one window or one hours= value.
 */
#include "fuzz.h"

#include <time.h>

#include "err.h"
#include "policy.h"

#include "pam_bastion.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct policy_window w;
	struct hours_rule rule;
	struct tm tm;
	int restricted;

	char *arg = malloc(size + 6);
	int ok;

	if (arg == NULL)
		abort();
	memset(&tm, 0, sizeof(tm));
	/* hours=acme:WINDOW takes exactly the policy's windows, meaning
	 * the same hours (pam/hours.c) */
	snprintf(arg, size + 6, "acme:%s", s);
	ok = policy_window_parse(s, &w) == 0;
	if (ok != (hours_rule_parse(arg, &rule) == 0))
		abort();
	if (ok)
		for (tm.tm_wday = 0; tm.tm_wday < 7; tm.tm_wday++)
			for (tm.tm_hour = 0; tm.tm_hour < 24; tm.tm_hour++) {
				tm.tm_min = tm.tm_hour * 7 % 60;
				if (policy_window_match(&w, &tm) !=
				    hours_window_match(&rule.w, &tm))
					abort();
			}
	free(arg);
	if (hours_rule_parse(s, &rule) == 0) {
		tm.tm_wday = 3;
		tm.tm_hour = 7;
		tm.tm_min = 59;
		(void)hours_allowed(&rule, 1, "acme", &tm, &restricted);
	}
	free(s);
	return (0);
}
