/*
 * hours.c - allowed hours per vendor for pam_bastion.so.
 *
 * The policy has no notion of "allowed hours": its approval windows
 * (docs/POLICY.md) say when access is pre-approved, not when it is
 * possible, and outside them an admin may still approve. Sites that want
 * a hard time limit per vendor give it to the module as arguments,
 * written like the policy's windows so that an admin learns one syntax:
 *
 *	account required pam_bastion.so [hours=acme:mon-fri 08:00-18:00]
 *
 * The parser below accepts exactly what the policy loader accepts for a
 * window (common/policy.c keeps its own parser private), and refuses a
 * window without days, which the loader would take and never match.
 * Nothing here uses PAM, so the unit tests link it directly.
 */
#include <string.h>
#include <time.h>

#include "err.h"
#include "pam_bastion.h"

static const char *const hours_day_names[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};

/* A day name of exactly n characters; its bit number (Monday 0) or -1. */
static int
hours_day(const char *s, size_t n)
{
	int i;

	if (n != 3)
		return (-1);
	for (i = 0; i < 7; i++)
		if (strncmp(s, hours_day_names[i], 3) == 0)
			return (i);
	return (-1);
}

/* "HH:MM" from 00:00 to 23:59, or 24:00 when end is set; minutes or -1. */
static int
hours_hhmm(const char *s, int end)
{
	int h, m;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] != ':' || s[3] < '0' || s[3] > '9' || s[4] < '0' ||
	    s[4] > '9')
		return (-1);
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (!end || m != 0)))
		return (-1);
	return (h * 60 + m);
}

/* The days part, s[0..n-1]: "daily" or a comma list of days and ranges. */
static int
hours_days(const char *s, size_t n, uint8_t *days)
{
	const char *p = s, *end = s + n, *comma, *dash;
	int a, b, i;

	*days = 0;
	if (n == 5 && strncmp(s, "daily", 5) == 0) {
		*days = 0x7f;
		return (0);
	}
	while (p < end) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if ((dash = memchr(p, '-', (size_t)(comma - p))) == NULL) {
			if ((a = hours_day(p, (size_t)(comma - p))) < 0)
				return (BERR_FORMAT);
			b = a;
		} else if ((a = hours_day(p, (size_t)(dash - p))) < 0 ||
		    (b = hours_day(dash + 1, (size_t)(comma - dash - 1))) < 0)
			return (BERR_FORMAT);
		for (i = a;; i = (i + 1) % 7) {
			*days |= (uint8_t)(1u << i);
			if (i == b)
				break;
		}
		p = comma + 1;
		if (comma < end && p >= end)
			return (BERR_FORMAT);	/* trailing comma */
	}
	return (*days != 0 ? 0 : BERR_FORMAT);
}

int
hours_window_parse(const char *s, struct policy_window *w)
{
	const char *sp;
	int r;

	memset(w, 0, sizeof(*w));
	if (s == NULL || (sp = strchr(s, ' ')) == NULL ||
	    (r = hours_days(s, (size_t)(sp - s), &w->days)) != 0)
		goto bad;
	while (*sp == ' ')
		sp++;
	if (strlen(sp) != 11 || sp[5] != '-' ||
	    (w->start_min = hours_hhmm(sp, 0)) < 0 ||
	    (w->end_min = hours_hhmm(sp + 6, 1)) < 0 ||
	    w->start_min == w->end_min)
		goto bad;
	return (0);
bad:
	memset(w, 0, sizeof(*w));
	return (BERR_FORMAT);
}

int
hours_rule_parse(const char *s, struct hours_rule *out)
{
	const char *colon;
	size_t n, i;

	memset(out, 0, sizeof(*out));
	if (s == NULL || (colon = strchr(s, ':')) == NULL)
		return (BERR_FORMAT);
	n = (size_t)(colon - s);
	if (n == 0 || n > POLICY_MAX_NAME)
		return (BERR_FORMAT);
	if (n == 1 && s[0] == '*')
		out->vendor[0] = '*';
	else {
		/* the policy's name rule: [a-z0-9][a-z0-9._-]{0,63} */
		for (i = 0; i < n; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    (i > 0 && (c == '.' || c == '_' || c == '-'))))
				return (BERR_FORMAT);
		}
		memcpy(out->vendor, s, n);
	}
	out->vendor[n] = '\0';
	if (hours_window_parse(colon + 1, &out->w) != 0) {
		memset(out, 0, sizeof(*out));
		return (BERR_FORMAT);
	}
	return (0);
}

int
hours_window_match(const struct policy_window *w, const struct tm *tm)
{
	int today, yesterday, m;

	if (tm->tm_wday < 0 || tm->tm_wday > 6)
		return (0);
	today = (tm->tm_wday + 6) % 7;		/* tm: Sunday 0; ours: Monday 0 */
	yesterday = (today + 6) % 7;
	m = tm->tm_hour * 60 + tm->tm_min;
	if (w->start_min < w->end_min)
		return ((w->days & (1u << today)) != 0 && m >= w->start_min &&
		    m < w->end_min);
	/* overnight: the day named is the day the window starts */
	return (((w->days & (1u << today)) != 0 && m >= w->start_min) ||
	    ((w->days & (1u << yesterday)) != 0 && m < w->end_min));
}

int
hours_allowed(const struct hours_rule *rules, size_t nrules,
    const char *vendor, const struct tm *tm, int *restricted)
{
	const char *which = "*";
	size_t i;
	int any = 0;

	if (restricted != NULL)
		*restricted = 0;
	for (i = 0; vendor != NULL && i < nrules; i++)
		if (strcmp(rules[i].vendor, vendor) == 0)
			which = vendor;
	for (i = 0; i < nrules; i++) {
		if (strcmp(rules[i].vendor, which) != 0)
			continue;
		any = 1;
		if (hours_window_match(&rules[i].w, tm))
			break;
	}
	if (restricted != NULL)
		*restricted = any;
	return (!any || i < nrules);
}
