/*
 * test_log.c - diagnostics cannot be turned into forged lines, and reach the
 * journal at their own priority.
 *
 *  - log_clean: C0 controls (newline included), DEL, C1 controls (both as
 *    UTF-8 and as raw 8-bit bytes) and bytes that are not UTF-8 come out as
 *    \xNN; valid UTF-8 (Japanese names) stays as it is; the output is cut
 *    at the buffer, never overrun.
 *  - log_escape (audit values): a C1 control is escaped too, and the value
 *    is quoted so the chain's parser reads it back.
 *  - a log line whose text carries a newline and "AUDIT ..." stays one line.
 *  - with JOURNAL_STREAM naming stderr, a warning starts with "<4>", an
 *    error with "<3>", an audit line with "<5>" (sd-daemon(3) prefixes);
 *    log_stream() gives each printed line the priority.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

static void
test_clean_controls(void **state)
{
	char out[256];

	(void)state;
	log_clean(out, sizeof(out), "a\nAUDIT event=x\r\x1b[2J\x7f");
	assert_string_equal(out,
	    "a\\x0aAUDIT event=x\\x0d\\x1b[2J\\x7f");
	/* C1 CSI as UTF-8 (c2 9b) and as a raw byte (9b) */
	log_clean(out, sizeof(out), "x\xc2\x9b" "1m y\x9bz");
	assert_string_equal(out, "x\\xc2\\x9b1m y\\x9bz");
	/* overlong and truncated forms are not UTF-8 */
	log_clean(out, sizeof(out), "\xc0\x8a|\xe3\x81");
	assert_string_equal(out, "\\xc0\\x8a|\\xe3\\x81");
}

static void
test_clean_keeps_utf8(void **state)
{
	char out[64];

	(void)state;
	log_clean(out, sizeof(out), "技師 山田 (CT室) é");
	assert_string_equal(out, "技師 山田 (CT室) é");
}

static void
test_clean_bounded(void **state)
{
	char out[8];

	(void)state;
	log_clean(out, sizeof(out), "\n\n\n\n");
	assert_true(strlen(out) < sizeof(out));
	assert_string_equal(out, "\\x0a");
	log_clean(out, sizeof(out), "abcdefghijkl");
	assert_string_equal(out, "abcdefg");
	log_clean(out, 1, "abc");
	assert_string_equal(out, "");
}

static void
test_escape_c1(void **state)
{
	char out[64];

	(void)state;
	log_escape(out, sizeof(out), "no\xc2\x9bticket");
	assert_string_equal(out, "\"no\\xc2\\x9bticket\"");
	log_escape(out, sizeof(out), "山田");
	assert_string_equal(out, "\"山田\"");
	log_escape(out, sizeof(out), "bad\xff" "byte");
	assert_string_equal(out, "\"bad\\xffbyte\"");
}

/* A value cut to a small buffer stays inside it (found by
 * fuzz/fuzz_text.c: the "..." of a cut was written past the end of
 * buffers under 8 bytes). Bytes after outlen must be untouched. */
static void
test_escape_bounded(void **state)
{
	static const char *const in[] = { "\xc2\x9f\x02" "eZ", "alice",
	    "a b", "\"quoted\"", "" };
	char out[32];
	size_t n, i, j;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		for (n = 1; n < 16; n++) {
			memset(out, 'Z', sizeof(out));
			log_escape(out, n, in[i]);
			assert_true(strlen(out) < n);
			for (j = n; j < sizeof(out); j++)
				assert_int_equal(out[j], 'Z');
		}
	log_escape(out, 8, "a b c d e");
	assert_string_equal(out, "\"a...\"");
}

/* stderr into a file that JOURNAL_STREAM names; returns its contents
 * after fn ran. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/test_log.XXXXXX", env[64], *buf;
	int fd, saved;
	struct stat st;
	FILE *f;
	long n;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	close(fd);
	unlink(path);
	return (buf);
}

static void
emit(void)
{
	FILE *p;

	log_warn("disk nearly full");
	log_error("client said \"%s\"", "x\nAUDIT ts=0 event=forged");
	audit_event("ctl.refused", "user", "alice", NULL);
	p = log_stream(LOG_LVL_ERROR);
	fprintf(p, "policy.yaml:3: first\npolicy.yaml:9: ");
	fprintf(p, "second\n");
	fflush(p);
}

static void
test_journal_priorities(void **state)
{
	char *out;

	(void)state;
	out = capture(emit);
	assert_non_null(strstr(out, "<4>test[")); /* warning */
	assert_non_null(strstr(out, "warning: disk nearly full\n"));
	assert_non_null(strstr(out, "<3>test["));
	/* the forged line stayed inside the error line */
	assert_non_null(strstr(out, "x\\x0aAUDIT ts=0 event=forged\"\n"));
	assert_null(strstr(out, "\nAUDIT ts=0"));
	assert_non_null(strstr(out, "<5>AUDIT ts="));
	assert_non_null(strstr(out, "<3>policy.yaml:3: first\n"
	    "<3>policy.yaml:9: second\n"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_controls),
		cmocka_unit_test(test_clean_keeps_utf8),
		cmocka_unit_test(test_clean_bounded),
		cmocka_unit_test(test_escape_c1),
		cmocka_unit_test(test_escape_bounded),
		cmocka_unit_test(test_journal_priorities),
	};

	log_init("test", 0, LOG_LVL_INFO);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
