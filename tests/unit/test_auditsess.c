/*
 * test_auditsess.c - what the chain says of recorded sessions
 * (store/auditsess.h), the one reader behind the monthly report, the replay
 * header and the export's admission: a month's sessions with who, where,
 * how they were let in and by whom, how they ended and the work record;
 * one session by its recording id; other months, other workers and lines
 * of events the schema does not declare are left out.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditlog.h"
#include "auditsess.h"
#include "err.h"
#include "events.h"

static char dir[PATH_MAX], path[PATH_MAX + 16];

static void
add(struct auditlog *al, const char *body)
{
	assert_int_equal(auditlog_append(al, body, NULL, NULL), 0);
}

static int
setup(void **state)
{
	struct auditlog *al;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_auditsess.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(auditlog_path_for(dir, path, sizeof(path)), 0);
	assert_int_equal(auditlog_new(path, 1, &al), 0);
	/* the admin approves request 5 (grant 9) in October */
	add(al, "ts=2026-10-31T23:00:00.000Z event=approval.approve pid=7 "
	    "request=5 admin=bob via=ssh engineer=alice vendor=acme "
	    "device=ct duration=2h approvals=1 grant=9 result=ok");
	/* session 1 (pid 100): October, not in November's report */
	add(al, "ts=2026-10-31T23:10:00.000Z event=session.recording pid=100 "
	    "session=1 user=alice recording=20261031-aaaa path=/r/a.brec");
	/* session 2 (pid 200): November, let in on request 5 */
	add(al, "ts=2026-11-01T10:00:00.000Z event=approval.requested pid=200 "
	    "session=2 request=5 user=alice vendor=acme from=192.0.2.7 "
	    "device=ct reason=x");
	add(al, "ts=2026-11-01T10:00:01.000Z event=session.recording pid=200 "
	    "session=2 user=alice recording=20261101-bbbb path=/r/b.brec");
	add(al, "ts=2026-11-01T10:00:02.000Z event=session.start pid=200 "
	    "session=2 user=alice vendor=acme from=192.0.2.7 "
	    "source=192.0.2.7:5000 device=ct to=10.0.0.5:22 kind=shell "
	    "command=- recording=20261101-bbbb grant=-");
	add(al, "ts=2026-11-01T10:00:03.000Z event=device.connect pid=200 "
	    "session=2 user=alice vendor=acme from=192.0.2.7 device=ct "
	    "to=10.0.0.5:22 local=10.0.0.1:40000 result=ok");
	/* another worker reusing the number: not this session's */
	add(al, "ts=2026-11-01T10:00:04.000Z event=session.end pid=999 "
	    "session=2 user=mallory vendor=x from=- device=ct reason=x "
	    "bytes_in=1 bytes_out=1 seconds=99");
	/* an event the schema does not know: read past, not learned */
	add(al, "ts=2026-11-01T10:00:05.000Z event=session.ended pid=200 "
	    "session=2 seconds=77");
	add(al, "ts=2026-11-01T10:05:00.000Z event=session.work_record "
	    "pid=200 session=2 user=alice vendor=acme device=ct "
	    "personal_info=yes records=\"P-1 P-2\" reason=-");
	add(al, "ts=2026-11-01T10:05:01.000Z event=session.end pid=200 "
	    "session=2 user=alice vendor=acme from=192.0.2.7 device=ct "
	    "reason=\"engineer left\" bytes_in=10 bytes_out=20 seconds=301");
	/* session 3 (pid 300): November, a window, still running */
	add(al, "ts=2026-11-02T08:00:00.000Z event=approval.window pid=300 "
	    "session=3 user=bob device=ct result=ok");
	add(al, "ts=2026-11-02T08:00:01.000Z event=session.recording pid=300 "
	    "session=3 user=bob recording=20261102-cccc path=/r/c.brec");
	auditlog_free(al);
	return (0);
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return (0);
}

static void
test_month(void **state)
{
	struct auditsess_set set;
	const struct auditsess *s;

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(auditsess_read(path, "2026-11", NULL, &set), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.na, 1);
	/* chain order */
	s = &set.s[0];
	assert_string_equal(s->sid, "2");
	assert_string_equal(s->pid, "200");
	assert_string_equal(s->start, "2026-11-01T10:00:01.000Z");
	assert_string_equal(s->recording, "20261101-bbbb");
	assert_string_equal(s->rec_path, "/r/b.brec");
	assert_string_equal(s->engineer, "alice");
	assert_string_equal(s->source, "192.0.2.7:5000");
	assert_string_equal(s->to, "10.0.0.5:22");
	assert_string_equal(s->local, "10.0.0.1:40000");
	assert_string_equal(s->kind, "shell");
	assert_string_equal(s->admission, "request");
	assert_string_equal(s->request, "5");
	assert_string_equal(s->grant, "9");
	assert_string_equal(s->approvers, "bob");
	assert_int_equal(s->seconds, 301);
	assert_string_equal(s->end_reason, "engineer left");
	assert_string_equal(s->bytes_out, "20");
	assert_true(s->has_work);
	assert_non_null(strstr(s->work, "personal_info=yes"));
	assert_non_null(strstr(s->work, "records=\"P-1 P-2\""));
	assert_null(strstr(s->work, "user="));
	s = &set.s[1];
	assert_string_equal(s->sid, "3");
	assert_string_equal(s->admission, "window");
	assert_int_equal(s->seconds, -1);
	assert_string_equal(s->end, "");
	auditsess_set_clear(&set);
	assert_null(set.s);
	auditsess_set_clear(&set);

	assert_int_equal(auditsess_read(path, "2026-10", NULL, &set), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.s[0].recording, "20261031-aaaa");
	auditsess_set_clear(&set);
	assert_int_equal(auditsess_read(path, "", NULL, &set), 0);
	assert_int_equal(set.n, 3);
	auditsess_set_clear(&set);
}

static void
test_one_recording(void **state)
{
	struct auditsess_set set;
	char missing[PATH_MAX + 32];

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(auditsess_read(path, NULL, "20261101-bbbb", &set),
	    0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.s[0].sid, "2");
	assert_string_equal(set.s[0].approvers, "bob");
	auditsess_set_clear(&set);
	assert_int_equal(auditsess_read(path, NULL, "20991231-none", &set),
	    0);
	assert_int_equal(set.n, 0);
	auditsess_set_clear(&set);
	snprintf(missing, sizeof(missing), "%s/nothing", dir);
	assert_int_equal(auditsess_read(missing, "", NULL, &set),
	    BERR_NOTFOUND);
	auditsess_set_clear(&set);
}

static void
test_admission_and_names(void **state)
{
	char list[32] = "";

	(void)state;
	assert_string_equal(auditsess_admission(BEV_APPROVAL_WINDOW),
	    "window");
	assert_string_equal(auditsess_admission(BEV_APPROVAL_GRANT_USED),
	    "grant");
	assert_string_equal(auditsess_admission(BEV_APPROVAL_REQUESTED),
	    "request");
	assert_null(auditsess_admission(BEV_SESSION_START));
	assert_null(auditsess_admission(BEV_NONE));
	auditsess_add_name(list, sizeof(list), "bob");
	auditsess_add_name(list, sizeof(list), "bo");
	auditsess_add_name(list, sizeof(list), "bob");
	auditsess_add_name(list, sizeof(list), "");
	assert_string_equal(list, "bob, bo");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_month),
		cmocka_unit_test(test_one_recording),
		cmocka_unit_test(test_admission_and_names),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
