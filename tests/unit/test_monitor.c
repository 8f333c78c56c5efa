/*
 * test_monitor.c - the listener <-> worker control lines (proto/monitor.c):
 * the line assembler's bound (a flood or an endless line never grows it),
 * the parser's strictness (every malformed line of a folder of bad ones is
 * refused), what the formatter makes of hostile text, round trips, and the
 * listener's check of a session line against a policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "monitor.h"
#include "policy.h"

#define REC "/var/lib/bastion/recordings"
#define PATH REC "/2026/11/02/20261102T101500Z-0123456789abcdef.brec"

struct lines {
	int n;
	char last[MON_LINE_MAX + 1];
	size_t lastlen;
	int stop_after;
};

static int
collect(const char *line, size_t len, void *arg)
{
	struct lines *l = arg;

	assert_true(len < MON_LINE_MAX);
	assert_int_equal(line[len], '\0');
	memcpy(l->last, line, len + 1);
	l->lastlen = len;
	l->n++;
	return (l->stop_after != 0 && l->n >= l->stop_after ? 7 : 0);
}

static void
test_reader_splits_and_bounds(void **state)
{
	struct mon_reader r;
	struct lines l;
	char big[MON_LINE_MAX + 10];

	(void)state;
	memset(&l, 0, sizeof(l));
	mon_reader_init(&r);
	/* lines split anywhere, several per read */
	assert_int_equal(mon_reader_feed(&r, "A\nS 1 a", 7, collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.last, "A");
	assert_int_equal(mon_reader_feed(&r, "b\nE x\n", 6, collect, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.last, "E x");
	/* an embedded NUL is passed on with its length (parse refuses) */
	assert_int_equal(mon_reader_feed(&r, "A\0B\n", 4, collect, &l), 0);
	assert_int_equal(l.lastlen, 3);
	/* the longest line fits; one byte more breaks the reader for good */
	memset(big, 'x', sizeof(big));
	big[MON_LINE_MAX - 1] = '\n';
	assert_int_equal(mon_reader_feed(&r, big, MON_LINE_MAX, collect, &l),
	    0);
	assert_int_equal(l.lastlen, MON_LINE_MAX - 1);
	big[MON_LINE_MAX - 1] = 'x';	/* 512 bytes and no end yet */
	assert_int_equal(mon_reader_feed(&r, big, MON_LINE_MAX, collect, &l),
	    BERR_LIMIT);
	assert_int_equal(mon_reader_feed(&r, "A\n", 2, collect, &l),
	    BERR_LIMIT);
	/* the callback can stop the walk */
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	mon_reader_init(&r);
	assert_int_equal(mon_reader_feed(&r, "A\nA\n", 4, collect, &l), 7);
	assert_int_equal(l.n, 1);
}

static void
test_reader_endless_garbage(void **state)
{
	struct mon_reader r;
	struct lines l;
	char junk[4096];
	size_t i;
	int rc = 0;

	(void)state;
	memset(&l, 0, sizeof(l));
	mon_reader_init(&r);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);	/* never '\n' long enough */
	for (i = 0; i < sizeof(junk); i++)
		if (junk[i] == '\n')
			junk[i] = 'n';
	for (i = 0; i < 100 && rc == 0; i++)
		rc = mon_reader_feed(&r, junk, sizeof(junk), collect, &l);
	assert_int_equal(rc, BERR_LIMIT);
	assert_int_equal(l.n, 0);
}

static void
test_parse_good(void **state)
{
	struct mon_msg m;
	const char *s;

	(void)state;
	assert_int_equal(mon_parse("A", 1, &m), 0);
	assert_int_equal(m.type, MON_AUTH);
	assert_int_equal(mon_parse("R", 1, &m), 0);
	assert_int_equal(m.type, MON_REVOKE);
	s = "S 17 alice acme ct-scanner 0 " PATH;
	assert_int_equal(mon_parse(s, strlen(s), &m), 0);
	assert_int_equal(m.type, MON_SESSION);
	assert_string_equal(m.sid, "17");
	assert_string_equal(m.engineer, "alice");
	assert_string_equal(m.vendor, "acme");
	assert_string_equal(m.device, "ct-scanner");
	assert_int_equal(m.grant, 0);
	assert_string_equal(m.path, PATH);
	s = "S 3 gina globex - 42 /r/a b.brec";	/* the path is the rest */
	assert_int_equal(mon_parse(s, strlen(s), &m), 0);
	assert_string_equal(m.device, "-");
	assert_int_equal(m.grant, 42);
	assert_string_equal(m.path, "/r/a b.brec");
	s = "K bob maintenance window over";
	assert_int_equal(mon_parse(s, strlen(s), &m), 0);
	assert_int_equal(m.type, MON_KILL);
	assert_string_equal(m.by, "bob");
	assert_string_equal(m.text, "maintenance window over");
	s = "L - \xe5\xa4\x9c\xe9\x96\x93\xe4\xbd\x9c\xe6\xa5\xad";
	assert_int_equal(mon_parse(s, strlen(s), &m), 0);
	assert_int_equal(m.type, MON_LOCK);
	assert_string_equal(m.by, "-");
	s = "E device closed the session";
	assert_int_equal(mon_parse(s, strlen(s), &m), 0);
	assert_int_equal(m.type, MON_END);
	assert_string_equal(m.text, "device closed the session");
}

/* The folder of bad lines: each must be refused, leaving m zeroed. */
static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", " ", "A ", "AA", "A x", "R 1", "X", "x", "S", "S ",
		"S 17", "S 17 alice acme ct 0",			/* no path */
		"S 17 alice acme ct 0 ",			/* empty path */
		"S  17 alice acme ct 0 /p.brec",		/* two blanks */
		"S 1x alice acme ct 0 /p.brec",
		"S -1 alice acme ct 0 /p.brec",
		"S 17 Alice acme ct 0 /p.brec",			/* charset */
		"S 17 -alice acme ct 0 /p.brec",
		"S 17 al/ce acme ct 0 /p.brec",
		"S 17 alice acme ct -4 /p.brec",
		"S 17 alice acme ct 99999999999999999999 /p.brec",
		"S 123456789012345678901 alice acme ct 0 /p.brec",
		"S 17 alice acme ct 0 /p\x1b[2J.brec",		/* control */
		"S 17 alice acme ct 0 /p\x7f.brec",
		"S 17 alice acme ct 0 /p\xc2\x9b.brec",		/* C1 CSI */
		"S 17 alice acme ct 0 /p\xc0\xaf.brec",		/* overlong */
		"S 17 alice acme ct 0 /p\xed\xa0\x80.brec",	/* surrogate */
		"S 17 alice acme ct 0 /p\xff.brec",
		"E", "E ", "E a\tb", "E a\r\nK bob x", "E \xe2\x82",
		"K", "K bob", "K bob ", "K Bob x", "K  x", "K bob \x07",
		"L", "L - ", "Kbob x", "S17 a b c 0 /p",
	};
	struct mon_msg m, zero;
	char name[POLICY_MAX_NAME + 2], line[MON_LINE_MAX + 64];
	size_t i;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&m, 0xa5, sizeof(m));
		if (mon_parse(bad[i], strlen(bad[i]), &m) != BERR_FORMAT)
			fail_msg("accepted bad line %zu: \"%s\"", i, bad[i]);
		assert_memory_equal(&m, &zero, sizeof(m));
	}
	/* NUL inside */
	assert_int_equal(mon_parse("E a\0b", 5, &m), BERR_FORMAT);
	/* a name one byte over the limit */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line), "K %s x", name);
	assert_int_equal(mon_parse(line, strlen(line), &m), BERR_FORMAT);
	/* a reason over MON_TEXT_MAX */
	memset(line, 'r', sizeof(line));
	memcpy(line, "E ", 2);
	assert_int_equal(mon_parse(line, MON_TEXT_MAX + 3, &m), BERR_FORMAT);
	assert_int_equal(mon_parse(line, MON_TEXT_MAX + 2, &m), 0);
	/* longer than a line may be */
	assert_int_equal(mon_parse(line, MON_LINE_MAX, &m), BERR_FORMAT);
	assert_int_equal(mon_parse(NULL, 0, &m), BERR_FORMAT);
}

static void
test_format_cleans_and_round_trips(void **state)
{
	struct mon_msg m, back;
	char out[MON_LINE_MAX], small[8];
	char longtext[1000];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = MON_KILL;
	snprintf(m.by, sizeof(m.by), "bob");
	/* an admin's reason with a newline and an escape: one clean line */
	snprintf(m.text, sizeof(m.text), "bye\nK eve x\x1b]52;c;AAAA\x07");
	assert_int_equal(mon_format(&m, out, sizeof(out)), 0);
	assert_string_equal(out, "K bob bye?K eve x?]52;c;AAAA?\n");
	assert_int_equal(mon_parse(out, strlen(out) - 1, &back), 0);
	assert_int_equal(back.type, MON_KILL);
	assert_string_equal(back.text, "bye?K eve x?]52;c;AAAA?");
	/* empty text becomes "-"; a bad name is refused */
	m.text[0] = '\0';
	assert_int_equal(mon_format(&m, out, sizeof(out)), 0);
	assert_string_equal(out, "K bob -\n");
	snprintf(m.by, sizeof(m.by), "Bob");
	assert_int_equal(mon_format(&m, out, sizeof(out)), BERR_INVAL);
	/* too small an output */
	snprintf(m.by, sizeof(m.by), "bob");
	assert_int_equal(mon_format(&m, small, sizeof(small)), BERR_LIMIT);
	/* a long reason is cut to the limit on a character boundary */
	memset(longtext, 0, sizeof(longtext));
	memset(longtext, 'x', 199);
	memcpy(longtext + 199, "\xe6\x97\xa5\xe6\x97\xa5", 6);
	mon_text_clean(longtext, m.text, sizeof(m.text));
	assert_int_equal(strlen(m.text), 199);
	/* S round trip */
	memset(&m, 0, sizeof(m));
	m.type = MON_SESSION;
	snprintf(m.sid, sizeof(m.sid), "17");
	snprintf(m.engineer, sizeof(m.engineer), "alice");
	snprintf(m.vendor, sizeof(m.vendor), "acme");
	snprintf(m.device, sizeof(m.device), "ct-scanner");
	m.grant = 9;
	snprintf(m.path, sizeof(m.path), "%s", PATH);
	assert_int_equal(mon_format(&m, out, sizeof(out)), 0);
	assert_int_equal(mon_parse(out, strlen(out) - 1, &back), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	snprintf(m.path, sizeof(m.path), "/p\n.brec");
	assert_int_equal(mon_format(&m, out, sizeof(out)), BERR_INVAL);
	m.type = MON_NONE;
	assert_int_equal(mon_format(&m, out, sizeof(out)), BERR_INVAL);
}

/* A two-vendor policy built by hand (the loader has its own tests). */
struct fixture {
	struct policy pol;
	struct policy_vendor v[2];
	struct policy_person e[2];
	struct policy_device d[2];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->v[0].name = "acme";
	f->v[1].name = "globex";
	f->e[0].name = "alice";
	f->e[0].enabled = 1;
	f->e[0].vendor = &f->v[0];
	f->e[1].name = "gina";
	f->e[1].enabled = 1;
	f->e[1].vendor = &f->v[1];
	f->v[0].engineers = &f->e[0];
	f->v[0].nengineers = 1;
	f->v[1].engineers = &f->e[1];
	f->v[1].nengineers = 1;
	f->d[0].name = "ct-scanner";
	f->d[0].vendor = &f->v[0];
	f->d[1].name = "pacs";
	f->d[1].vendor = &f->v[1];
	f->pol.vendors = f->v;
	f->pol.nvendors = 2;
	f->pol.devices = f->d;
	f->pol.ndevices = 2;
	f->pol.recordings_dir = REC "/";
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	free(*state);
	return (0);
}

static const char *
check(struct fixture *f, const char *line, const char *sid)
{
	struct mon_msg m;

	assert_int_equal(mon_parse(line, strlen(line), &m), 0);
	return (mon_session_check(&m, sid, &f->pol));
}

static void
test_session_check(void **state)
{
	/* refused: what the listener knows itself (the session id), people
	 * and devices as the policy has them, recordings only below
	 * recordings_dir and named as the recorder does */
	static const char *const refused[] = {
		"S 18 alice acme ct-scanner 0 " PATH,
		"S 17 mallory acme ct-scanner 0 " PATH,
		"S 17 alice globex ct-scanner 0 " PATH,
		"S 17 alice acme pacs 0 " PATH,
		"S 17 alice acme nosuch 0 " PATH,
		"S 17 alice acme - 0 /etc/shadow",
		"S 17 alice acme - 0 " REC "/../x.brec",
		"S 17 alice acme - 0 " REC "/./a/x.brec",
		"S 17 alice acme - 0 " REC "//x.brec",
		"S 17 alice acme - 0 " REC "x/y.brec",
		"S 17 alice acme - 0 " REC "/a/x.txt",
		"S 17 alice acme - 0 " REC "/a b/x.brec",
		"S 17 alice acme - 0 " REC "/.brec",
	};
	struct fixture *f = *state;
	size_t i;

	assert_null(check(f, "S 17 alice acme ct-scanner 0 " PATH, "17"));
	assert_null(check(f, "S 17 alice acme - 3 " PATH, "17"));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_non_null(check(f, refused[i], "17"));
	assert_true(mon_recording_ok(&f->pol, PATH));
	assert_false(mon_recording_ok(&f->pol, REC));
	assert_false(mon_recording_ok(NULL, PATH));
}

static void
test_names_and_text(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} names[] = {
		{ "a", 1 }, { "ct-scanner.2_b", 1 }, { "", 0 }, { ".x", 0 },
		{ "A", 0 }, { "a b", 0 },
	}, texts[] = {
		{ "caf\xc3\xa9", 1 },
		{ "\xf0\x9f\x94\x92", 1 },
		{ "\xf4\x90\x80\x80", 0 },	/* > U+10FFFF */
		{ "\xe0\x80\xaf", 0 },		/* overlong */
		{ "\xc3", 0 },			/* cut */
		{ "a\x9b", 0 },			/* raw C1 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(mon_name_ok(names[i].s), names[i].ok);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(mon_text_ok(texts[i].s, strlen(texts[i].s)),
		    texts[i].ok);
}

/* V lines: a sandboxed worker's audit events, checked before the
 * listener appends them to the chain. */
static void
test_audit_lines(void **state)
{
	const char *ok = "ts=2026-11-22T03:03:21.811Z event=session.end "
	    "pid=4242 session=57 user=gina reason=\"killed by bob: x\"";
	char line[MON_LINE_MAX + 8];
	struct mon_msg m;
	size_t i;
	static const char *const bad[] = {
		"event=session.end ts=1 pid=4242",		/* order */
		"ts=1 event=session.end pid=4243",		/* pid */
		"ts=1 event=session.end pid=4242 session=58",	/* session */
		"ts=1 event=session.end pid=4242 chain=1:ab",	/* chain */
		"ts=1 event=Session.End pid=4242",		/* event name */
		"ts=1 event=x pid=4242 Bad=1",			/* key */
		"ts=1 event=x pid=4242 a=\"unterminated",	/* quoting */
		"ts=1 event=x",					/* no pid */
		"",
	};

	(void)state;
	snprintf(line, sizeof(line), "V %s", ok);
	assert_int_equal(mon_parse(line, strlen(line), &m), 0);
	assert_int_equal(m.type, MON_AUDIT);
	assert_int_equal(m.auditlen, strlen(ok));
	assert_null(mon_audit_check(m.audit, m.auditlen, "57", 4242));
	/* another worker's pid or session, or a forged chain witness */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(mon_audit_check(bad[i], strlen(bad[i]), "57",
		    4242));
	/* a raw control character, quoted or not, never reaches the chain
	 * (which refuses it) nor audit_line() (a NUL would cut the line
	 * there, leaving a quote open): found by fuzz/fuzz_monitor.c */
	{
		static const char ctl[][64] = {
			"ts=1 event=x pid=4242 note=\"a\x17" "b\"",
			"ts=1 event=x pid=4242 note=\"a\x7f\"",
			"ts=1 event=x pid=4242 note=\"a\0\" session=57",
		};
		static const size_t ctllen[] = { 32, 31, 42 };

		for (i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
			assert_non_null(mon_audit_check(ctl[i], ctllen[i],
			    "57", 4242));
	}
	/* a V line may be long, a control line may not */
	memset(line, 'a', sizeof(line));
	line[0] = 'V';
	line[1] = ' ';
	assert_int_equal(mon_parse(line, MON_AUDIT_MAX + 2, &m), 0);
	assert_int_equal(mon_parse(line, MON_AUDIT_MAX + 3, &m), BERR_FORMAT);
	line[0] = 'E';
	assert_int_equal(mon_parse(line, MON_CTL_LINE_MAX, &m), BERR_FORMAT);
	assert_int_equal(mon_parse(line, MON_TEXT_MAX + 2, &m), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_splits_and_bounds),
		cmocka_unit_test(test_audit_lines),
		cmocka_unit_test(test_reader_endless_garbage),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format_cleans_and_round_trips),
		cmocka_unit_test_setup_teardown(test_session_check, setup,
		    teardown),
		cmocka_unit_test(test_names_and_text),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
