/*
 * fuzz_window.c - time windows: the policy's approval windows
 * (policy_window_parse, common/policy.c) and pam_bastion.so's
 * hours=VENDOR:WINDOW arguments (pam/hours.c, compiled in as the unit
 * test does), each window then matched against every hour of a week.
 *
 * Input: one window or one hours= value.
 */
#include "fuzz.h"

#include <time.h>

#include "err.h"
#include "policy.h"

#include "../pam/hours.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct policy_window w;
	struct hours_rule rule;
	struct tm tm;
	int restricted;

	memset(&tm, 0, sizeof(tm));
	if (policy_window_parse(s, &w) == 0)
		for (tm.tm_wday = 0; tm.tm_wday < 7; tm.tm_wday++)
			for (tm.tm_hour = 0; tm.tm_hour < 24; tm.tm_hour++)
				(void)policy_window_match(&w, &tm);
	if (hours_rule_parse(s, &rule) == 0) {
		tm.tm_wday = 3;
		tm.tm_hour = 7;
		tm.tm_min = 59;
		(void)hours_allowed(&rule, 1, "acme", &tm, &restricted);
	}
	free(s);
	return (0);
}
