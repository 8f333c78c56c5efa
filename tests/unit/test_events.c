/*
 * test_events.c - the audit event schema (base/events.h) is consistent
 * (names unique, sorted for the lookup, fields declared and not repeated),
 * the lookup and the field check do what they say, audit_event() refuses
 * an undeclared name before anything reaches the chain, and docs/AUDIT.md's
 * event table is exactly the schema (each row as generated here; run with
 * EVENTS_PRINT_TABLE=1 to print the rows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditlog.h"
#include "err.h"
#include "events.h"
#include "log.h"

#define DOC "docs/AUDIT.md"
#define DOC_BEGIN "<!-- events: generated from base/events.h -->"
#define DOC_END "<!-- events: end -->"

/* The words of a space-separated list into w (at most max). */
static size_t
words(const char *list, char w[][64], size_t max)
{
	size_t n = 0, len;
	const char *p = list, *e;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		assert_true(len < 64);
		assert_true(n < max);
		memcpy(w[n], p, len);
		w[n++][len] = '\0';
		p = e;
	}
	return (n);
}

static void
test_names_unique_sorted(void **state)
{
	int i;

	(void)state;
	assert_true(BEV_COUNT > 50);
	for (i = 0; i < BEV_COUNT; i++) {
		const char *n = bev_name((enum bev)i);

		assert_non_null(n);
		assert_non_null(strchr(n, '.'));
		/* strictly increasing: unique, and bev_lookup may bisect */
		if (i > 0)
			assert_true(strcmp(bev_name((enum bev)(i - 1)), n) < 0);
		assert_int_equal(bev_lookup(n, strlen(n)), i);
		assert_true(bev_by((enum bev)i) != 0);
	}
	assert_null(bev_name(BEV_NONE));
	assert_null(bev_name(BEV_COUNT));
}

static void
test_lookup_refuses_near_names(void **state)
{
	(void)state;
	assert_int_equal(bev_lookup("session.start", 13), BEV_SESSION_START);
	/* not NUL-terminated: the length counts */
	assert_int_equal(bev_lookup("session.start extra", 13),
	    BEV_SESSION_START);
	assert_int_equal(bev_lookup("session.star", 12), BEV_NONE);
	assert_int_equal(bev_lookup("session.startx", 14), BEV_NONE);
	assert_int_equal(bev_lookup("Session.start", 13), BEV_NONE);
	assert_int_equal(bev_lookup("", 0), BEV_NONE);
	assert_int_equal(bev_lookup(NULL, 3), BEV_NONE);
	assert_int_equal(bev_lookup("a\0b", 3), BEV_NONE);
	assert_int_equal(bev_lookup("zzz.zzz", 7), BEV_NONE);
	assert_int_equal(bev_lookup("aaa", 3), BEV_NONE);
}

static void
test_fields_declared(void **state)
{
	char req[32][64], opt[32][64];
	size_t nr, no, a, b;
	int i;

	(void)state;
	for (i = 0; i < BEV_COUNT; i++) {
		nr = words(bev_fields_required((enum bev)i), req, 32);
		no = words(bev_fields_optional((enum bev)i), opt, 32);
		for (a = 0; a < nr + no; a++) {
			const char *f = a < nr ? req[a] : opt[a - nr];

			if (!bev_field_known(f, strlen(f)))
				fail_msg("%s: field \"%s\" is not in "
				    "BEV_FIELD_MAP", bev_name((enum bev)i), f);
			/* the line's own fields are not the event's */
			assert_false(strcmp(f, "ts") == 0 ||
			    strcmp(f, "event") == 0);
			for (b = 0; b < a; b++)
				assert_string_not_equal(f, b < nr ? req[b] :
				    opt[b - nr]);
		}
	}
	assert_false(bev_field_known("nosuch", 6));
	assert_true(bev_field_known("session", 7));
	assert_false(bev_field_known("sess", 4));
}

static void
test_roles(void **state)
{
	int i, anchors = 0;

	(void)state;
	for (i = 0; i < BEV_COUNT; i++)
		anchors += bev_role((enum bev)i) == BEV_ROLE_ANCHOR;
	assert_int_equal(anchors, 1);
	assert_int_equal(bev_role(BEV_SESSION_RECORDING), BEV_ROLE_ANCHOR);
	assert_int_equal(bev_role(BEV_RECORDING_SEALED), BEV_ROLE_SEALED);
	assert_int_equal(bev_role(BEV_NONE), BEV_ROLE_NONE);
	assert_string_equal(bev_role_heading(BEV_ROLE_WORK), "PATIENT DATA");
	assert_string_equal(bev_role_heading(BEV_ROLE_COUNT), "-");
	assert_true(bev_by(BEV_RECORDING_SEALED) & BEV_BY_RECORDER);
	assert_true(bev_by(BEV_SESSION_END) & BEV_BY_CHILD);
	assert_int_equal(bev_by(BEV_NONE), 0);
	/* the chain's own event is declared under the name it writes */
	assert_int_equal(bev_lookup(AUDITLOG_TORN_EVENT,
	    strlen(AUDITLOG_TORN_EVENT)), BEV_AUDIT_TORN_TAIL);
}

static void
test_check(void **state)
{
	const char *ok[] = { "session", "user", "recording", "path" };
	const char *extra[] = { "session", "user", "recording", "path",
	    "nosuch" };
	const char *lacks[] = { "session", "recording", "path" };
	const char *cut[] = { "session", "truncated" };
	const char *opt[] = { "session", "user", "from", "factor", "result",
	    "key" };
	char why[200];

	(void)state;
	assert_int_equal(bev_check(BEV_SESSION_RECORDING, ok, 4, why,
	    sizeof(why)), 0);
	assert_int_equal(bev_check(BEV_SESSION_RECORDING, extra, 5, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "\"nosuch\""));
	assert_int_equal(bev_check(BEV_SESSION_RECORDING, lacks, 3, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "session.recording lacks its field \"user\"");
	assert_int_equal(bev_check(BEV_SESSION_RECORDING, cut, 2, why,
	    sizeof(why)), 0);
	assert_int_equal(bev_check(BEV_AUTH_FACTOR, opt, 6, why,
	    sizeof(why)), 0);
	assert_int_equal(bev_check(BEV_AUTH_FACTOR, opt, 5, why,
	    sizeof(why)), 0);
	assert_int_equal(bev_check(BEV_NONE, ok, 1, why, sizeof(why)), -1);
	assert_int_equal(bev_check(BEV_BASTION_STOP, NULL, 0, why,
	    sizeof(why)), 0);
}

static int sunk;

static int
sink(const char *line, char *note, size_t notelen, void *arg)
{
	(void)line;
	(void)note;
	(void)notelen;
	(void)arg;
	sunk++;
	return (0);
}

static void
test_audit_event_refuses_undeclared(void **state)
{
	(void)state;
	audit_set_quiet(1);
	audit_set_sink(sink, NULL);
	sunk = 0;
	assert_int_equal(audit_event("session.strat", "session", "1",
	    NULL), BERR_INVAL);
	assert_int_equal(audit_event("", NULL), BERR_INVAL);
	assert_int_equal(sunk, 0);
	assert_int_equal(audit_ev(BEV_NONE, NULL), BERR_INVAL);
	assert_int_equal(audit_ev(BEV_COUNT, NULL), BERR_INVAL);
	assert_int_equal(sunk, 0);
	assert_int_equal(audit_event("bastion.stop", NULL), 0);
	assert_int_equal(audit_ev(BEV_BASTION_STOP, NULL), 0);
	assert_int_equal(sunk, 2);
	audit_set_sink(NULL, NULL);
	audit_set_quiet(0);
}

/* One row of docs/AUDIT.md's event table. */
static void
doc_row(enum bev ev, char *out, size_t outlen)
{
	static const struct {
		unsigned bit;
		const char *name;
	} by[] = {
		{ BEV_BY_LISTENER, "listener" }, { BEV_BY_MONITOR, "monitor" },
		{ BEV_BY_CHILD, "child" }, { BEV_BY_CONTROL, "control" },
		{ BEV_BY_CTL, "bastionctl" }, { BEV_BY_RECORDER, "recorder" },
		{ BEV_BY_PAM, "PAM" }, { BEV_BY_CHAIN, "chain" },
		{ BEV_BY_WEB, "web" },
		{ BEV_BY_SHIP, "bastion-ship" },
	};
	char who[128] = "";
	size_t i;

	for (i = 0; i < sizeof(by) / sizeof(by[0]); i++)
		if (bev_by(ev) & by[i].bit)
			snprintf(who + strlen(who), sizeof(who) - strlen(who),
			    "%s%s", who[0] != '\0' ? ", " : "", by[i].name);
	snprintf(out, outlen, "| `%s` | %s | %s | %s | %s |", bev_name(ev),
	    who, bev_fields_required(ev)[0] != '\0' ?
	    bev_fields_required(ev) : "-", bev_fields_optional(ev)[0] != '\0' ?
	    bev_fields_optional(ev) : "-", bev_role(ev) == BEV_ROLE_NONE ?
	    "-" : bev_role_heading(bev_role(ev)));
}

static void
test_doc_table(void **state)
{
	char row[1024], line[1024];
	size_t len;
	int in = 0, rows = 0, i;
	FILE *f;

	(void)state;
	if (getenv("EVENTS_PRINT_TABLE") != NULL)
		for (i = 0; i < BEV_COUNT; i++) {
			doc_row((enum bev)i, row, sizeof(row));
			printf("%s\n", row);
		}
	assert_non_null(f = fopen(DOC, "r"));
	/* rows in the table, in schema order, and nothing else */
	i = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strcmp(line, DOC_BEGIN) == 0)
			in = 1;
		else if (strcmp(line, DOC_END) == 0)
			in = 0;
		else if (in && strncmp(line, "| `", 3) == 0) {
			if (i >= BEV_COUNT)
				fail_msg(DOC ": \"%s\" is not in base/events.h",
				    line);
			doc_row((enum bev)i, row, sizeof(row));
			if (strcmp(row, line) != 0)
				fail_msg(DOC ": the event table has\n%s\nwhere "
				    "base/events.h says\n%s", line, row);
			i++;
			rows++;
		}
	}
	fclose(f);
	if (rows != BEV_COUNT)
		fail_msg(DOC ": %d events in the table, %d in base/events.h "
		    "(EVENTS_PRINT_TABLE=1 prints the rows)", rows, BEV_COUNT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_unique_sorted),
		cmocka_unit_test(test_lookup_refuses_near_names),
		cmocka_unit_test(test_fields_declared),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_audit_event_refuses_undeclared),
		cmocka_unit_test(test_doc_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
