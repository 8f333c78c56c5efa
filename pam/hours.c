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
 * Windows are parsed and matched by the policy loader's own functions
 * (policy_window_parse/match), so both accept exactly the same syntax.
 * Nothing here uses PAM, so the unit tests link it directly.
 */
#include <string.h>
#include <time.h>

#include "err.h"
#include "pam_bastion.h"

int
hours_window_parse(const char *s, struct policy_window *w)
{
	/* one syntax for admins: the policy loader's own parser */
	return (policy_window_parse(s, w));
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
	return (policy_window_match(w, tm));
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
