/*
 * test_pam_bastion.c - allowed hours of pam_bastion.so (pam/hours.c).
 *
 * hours.c has no PAM dependency, so it is compiled into this test directly
 * (the Makefile links unit tests with the common library only). The module
 * as a whole is tested through a real PAM stack in
 * tests/e2e/test_pam_module.py; here the time logic is pinned with fixed
 * clock values, which the end-to-end test cannot choose, and the window
 * parser is held to the policy loader's: a window the policy accepts means
 * the same days and minutes here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "policy.h"

#include "pam_bastion.h"

enum { MON = 1, TUE, WED, THU, FRI, SAT, SUN = 0 };	/* struct tm */

static struct tm
at(int wday, int hour, int min)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_wday = wday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	return (tm);
}

static struct policy_window
window(const char *s)
{
	struct policy_window w;

	assert_int_equal(hours_window_parse(s, &w), 0);
	return (w);
}

static int
in(const char *s, int wday, int hour, int min)
{
	struct policy_window w = window(s);
	struct tm tm = at(wday, hour, min);

	return (hours_window_match(&w, &tm));
}

static void
test_window_parse(void **state)
{
	struct policy_window w;

	(void)state;
	w = window("mon-fri 08:00-18:00");
	assert_int_equal(w.days, 0x1f);
	assert_int_equal(w.start_min, 480);
	assert_int_equal(w.end_min, 1080);
	w = window("fri-mon 00:00-24:00");	/* wraps over the weekend */
	assert_int_equal(w.days, 0x10 | 0x20 | 0x40 | 0x01);
	assert_int_equal(w.end_min, 1440);
	w = window("mon,wed,sat-sun 22:00-06:00");
	assert_int_equal(w.days, 0x01 | 0x04 | 0x20 | 0x40);
	assert_int_equal(w.start_min, 1320);
	assert_int_equal(w.end_min, 360);
	w = window("daily 00:00-00:01");
	assert_int_equal(w.days, 0x7f);
}

static void
test_window_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"", "mon", "mon ", "mon 08:00", "mon 8:00-18:00",
		"mon 08:00-08:00", "mon 24:00-01:00", "mon 08:00-24:01",
		"mon 08:60-09:00", "mon 25:00-26:00", "Mon 08:00-18:00",
		"monday 08:00-18:00", "mon, 08:00-09:00", "mon,,tue 08:00-09:00",
		",mon 08:00-09:00", " 08:00-09:00", "mon-08:00-09:00",
		"mon-fri 08:00-18:00x", "mon-fri 08:00 -18:00", "mon-sun-tue "
		"08:00-09:00", "daily,mon 08:00-09:00", "mon 08:00_09:00",
	};
	struct policy_window w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&w, 0xa5, sizeof(w));
		if (hours_window_parse(bad[i], &w) != BERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(w.days, 0);
	}
	assert_int_equal(hours_window_parse(NULL, &w), BERR_FORMAT);
}

static void
test_rule_parse(void **state)
{
	static const char *const bad[] = {
		"acme", ":mon 08:00-09:00", "Acme:mon 08:00-09:00",
		"-acme:mon 08:00-09:00", "ac me:mon 08:00-09:00",
		"acme+x:mon 08:00-09:00", "**:mon 08:00-09:00",
		"acme:", "acme:mon", "acme:mon 08:00-08:00",
		"acme mon 08:00-09:00",
	};
	struct hours_rule r;
	char longname[POLICY_MAX_NAME + 32];
	size_t i;

	(void)state;
	assert_int_equal(hours_rule_parse("acme:mon-fri 08:00-18:00", &r), 0);
	assert_string_equal(r.vendor, "acme");
	assert_int_equal(r.w.days, 0x1f);
	assert_int_equal(hours_rule_parse("*:daily 22:00-06:00", &r), 0);
	assert_string_equal(r.vendor, "*");
	assert_int_equal(hours_rule_parse("a.b_c-9:sun 00:00-24:00", &r), 0);
	assert_string_equal(r.vendor, "a.b_c-9");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hours_rule_parse(bad[i], &r) != BERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);

	memset(longname, 'a', POLICY_MAX_NAME);
	strcpy(longname + POLICY_MAX_NAME, ":mon 08:00-09:00");
	assert_int_equal(hours_rule_parse(longname, &r), 0);
	assert_int_equal(strlen(r.vendor), POLICY_MAX_NAME);
	memset(longname, 'a', POLICY_MAX_NAME + 1);
	strcpy(longname + POLICY_MAX_NAME + 1, ":mon 08:00-09:00");
	assert_int_equal(hours_rule_parse(longname, &r), BERR_FORMAT);
}

/*
 * Each window with the moments probed: "+fri 23:59" is inside it,
 * "-sat 06:00" outside (day names as tm_wday counts them, sun first).
 */
static void
test_window_match(void **state)
{
	static const char days[] = "sunmontuewedthufrisat";
	static const struct {
		const char *window, *probes;
	} c[] = {
		{ "mon-fri 08:00-18:00", "+mon 08:00 -mon 07:59 +fri 17:59 "
		    "-fri 18:00 -sat 10:00 -sun 10:00" },	/* end excl. */
		{ "daily 00:00-24:00", "+sun 23:59 +mon 00:00" },
		{ "sat 09:00-12:00", "+sat 11:59 -sun 10:00" },
		/* overnight: the day named is the day the window starts
		 * (fri 05:00 is Thursday's night) */
		{ "fri 22:00-06:00", "+fri 22:00 +fri 23:59 +sat 00:00 "
		    "+sat 05:59 -sat 06:00 -sat 22:30 -fri 05:00 -fri 21:59" },
		/* over the end of the week */
		{ "sun 22:00-02:00", "+mon 01:00 -sun 01:00" },
		{ "daily 22:00-06:00", "+wed 03:00 -wed 12:00" },
	};
	char sign, day[4];
	const char *p, *d;
	int hour, min, n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		for (p = c[i].probes; *p != '\0'; p += n) {
			assert_int_equal(sscanf(p, " %c%3s %d:%d%n", &sign,
			    day, &hour, &min, &n), 4);
			assert_non_null(d = strstr(days, day));
			if (in(c[i].window, (int)(d - days) / 3, hour, min) !=
			    (sign == '+'))
				fail_msg("%s: %c%s %02d:%02d", c[i].window,
				    sign, day, hour, min);
		}
}

static void
test_allowed(void **state)
{
	/* nrules of the three rules below; restricted -1: not asked */
	static const struct {
		size_t nrules;
		const char *vendor;
		int wday, hour, min, allowed, restricted;
	} c[] = {
		/* no rules: unrestricted */
		{ 0, "acme", SUN, 3, 0, 1, 0 },
		/* a vendor with its own rules: only those count, "*" not */
		{ 3, "acme", MON, 9, 0, 1, 1 },
		{ 3, "acme", SAT, 9, 30, 1, -1 },
		{ 3, "acme", SAT, 11, 0, 0, 1 },
		/* another vendor falls back to "*" */
		{ 3, "globex", SAT, 11, 0, 1, -1 },
		{ 3, "globex", MON, 9, 0, 0, 1 },
		/* without a "*" rule, other vendors are unrestricted */
		{ 1, "globex", MON, 3, 0, 1, 0 },
		{ 1, "acme", MON, 3, 0, 0, -1 },
		/* an impossible weekday never matches */
		{ 1, "acme", 7, 9, 0, 0, -1 },
	};
	struct hours_rule r[4];
	struct tm tm;
	size_t i;
	int restricted;

	(void)state;
	assert_int_equal(hours_rule_parse("acme:mon-fri 08:00-18:00", &r[0]),
	    0);
	assert_int_equal(hours_rule_parse("*:sat 09:00-12:00", &r[1]), 0);
	assert_int_equal(hours_rule_parse("acme:sat 09:00-10:00", &r[2]), 0);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		tm = at(c[i].wday, c[i].hour, c[i].min);
		restricted = -1;
		if (hours_allowed(r, c[i].nrules, c[i].vendor, &tm,
		    c[i].restricted == -1 ? NULL : &restricted) !=
		    c[i].allowed || restricted != c[i].restricted)
			fail_msg("row %zu: not allowed %d, restricted %d", i,
			    c[i].allowed, c[i].restricted);
	}
}

/*
 * The module must read a window as the policy loader does: for each
 * string, both accept it with the same days and minutes, or the loader
 * refuses it (the module may refuse more: a window without days).
 */
static void
test_same_as_policy(void **state)
{
	static const char *const windows[] = {
		"mon-fri 08:00-18:00", "sat 09:00-12:00", "daily 22:00-06:00",
		"fri-mon 00:00-24:00", "mon,wed,fri 07:30-07:45",
		"sun 23:59-00:01", "mon 08:00-08:00", "mon 24:00-01:00",
		"mon 8:00-09:00", "Mon 08:00-09:00", "mon,,tue 08:00-09:00",
		"mon, 08:00-09:00", "daily 00:00-24:01", "tue-tue 01:00-02:00",
	};
	char path[] = "/tmp/test_pam_bastion.XXXXXX";
	struct policy_window w;
	struct policy *p;
	size_t i;
	FILE *f;
	int fd, mine, theirs;

	(void)state;
	for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		assert_true((fd = mkstemp(path)) >= 0);
		assert_non_null(f = fdopen(fd, "w"));
		fprintf(f, "version: 1\nlisten: [\"127.0.0.1:2222\"]\n"
		    "paths: {host_keys: [hk], state_dir: s, recordings_dir: r,"
		    " run_dir: x}\napproval:\n  windows: [\"%s\"]\n"
		    "vendors: []\ndevices: []\n", windows[i]);
		fclose(f);
		p = NULL;
		theirs = policy_load(path, NULL, NULL, &p) == 0;
		mine = hours_window_parse(windows[i], &w) == 0;
		unlink(path);
		strcpy(path, "/tmp/test_pam_bastion.XXXXXX");
		if (mine != theirs)
			fail_msg("\"%s\": module %s, policy %s", windows[i],
			    mine ? "accepts" : "refuses",
			    theirs ? "accepts" : "refuses");
		if (theirs) {
			assert_int_equal(p->approval.nwindows, 1);
			assert_int_equal(w.days, p->approval.windows[0].days);
			assert_int_equal(w.start_min,
			    p->approval.windows[0].start_min);
			assert_int_equal(w.end_min,
			    p->approval.windows[0].end_min);
		}
		policy_free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_parse),
		cmocka_unit_test(test_window_parse_refuses),
		cmocka_unit_test(test_rule_parse),
		cmocka_unit_test(test_window_match),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_same_as_policy),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
