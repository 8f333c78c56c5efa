/*
 * test_table.c - display width (base/text.c: text_cp_width, text_width,
 * text_fit) and the table printer every admin and auditor table uses
 * (base/table.c): columns line up by display width with Japanese text,
 * lines stay under 100 columns, cuts are marked and fall between words,
 * no trailing blanks, a newline after every line, sorting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "table.h"
#include "text.h"

static void
test_cp_width(void **unused)
{
	(void)unused;
	assert_int_equal(text_cp_width('a'), 1);
	assert_int_equal(text_cp_width(0x00e9), 1);	/* é */
	assert_int_equal(text_cp_width(0x0301), 0);	/* combining acute */
	assert_int_equal(text_cp_width(0x3042), 2);	/* あ */
	assert_int_equal(text_cp_width(0x30a2), 2);	/* ア */
	assert_int_equal(text_cp_width(0xff71), 1);	/* halfwidth ｱ */
	assert_int_equal(text_cp_width(0xff21), 2);	/* fullwidth Ａ */
	assert_int_equal(text_cp_width(0x6f22), 2);	/* 漢 */
	assert_int_equal(text_cp_width(0x3000), 2);	/* ideographic space */
	assert_int_equal(text_cp_width(0x3099), 0);	/* voicing mark */
	assert_int_equal(text_cp_width(0xd55c), 2);	/* 한 */
	assert_int_equal(text_cp_width(0x200b), 0);	/* zero width space */
	assert_int_equal(text_cp_width(0x2014), 1);	/* — */
	assert_int_equal(text_cp_width(0x1f600), 2);	/* 😀 */
	assert_int_equal(text_cp_width(0x20b9f), 2);	/* 𠮟 */
	assert_int_equal(text_cp_width(0x1b), -1);
	assert_int_equal(text_cp_width(0x9b), -1);
}

/* Where the C library knows C.UTF-8, our table agrees with its wcwidth()
 * on the scripts a Japanese hospital's names and descriptions use. */
static void
test_cp_width_matches_libc(void **unused)
{
	static const uint32_t range[][2] = {
		{ 0x20, 0x7e }, { 0xa0, 0x2ff }, { 0x300, 0x36f },
		{ 0x3000, 0x303e }, { 0x3041, 0x30ff }, { 0x4e00, 0x9fff },
		{ 0xff01, 0xffee }, { 0xac00, 0xd7a3 },
	};
	size_t r;
	uint32_t cp;

	(void)unused;
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		skip();
	for (r = 0; r < sizeof(range) / sizeof(range[0]); r++)
		for (cp = range[r][0]; cp <= range[r][1]; cp++) {
			int mine = text_cp_width(cp), libc = wcwidth(
			    (wchar_t)cp);

			if (libc < 0)	/* unassigned: ours says 1 or 2 */
				continue;
			if (mine != libc)
				fail_msg("U+%04X: %d, libc says %d",
				    (unsigned)cp, mine, libc);
		}
	setlocale(LC_CTYPE, "C");
}

static void
test_width(void **unused)
{
	(void)unused;
	assert_int_equal(text_width(NULL), 0);
	assert_int_equal(text_width(""), 0);
	assert_int_equal(text_width("alice"), 5);
	/* 山田太郎 */
	assert_int_equal(text_width("\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa"
	    "\xe7\x83\x8e"), 8);
	/* e + combining acute */
	assert_int_equal(text_width("e\xcc\x81"), 1);
	/* what is not clean counts as its '?' */
	assert_int_equal(text_width("a\x1b[2J"), 5);
	assert_int_equal(text_width("a\xff"), 2);
}

static void
test_fit(void **unused)
{
	char out[64];
	/* CT室のスキャナ (CT room scanner) */
	const char *jp = "CT\xe5\xae\xa4\xe3\x81\xae\xe3\x82\xb9\xe3\x82\xad"
	    "\xe3\x83\xa3\xe3\x83\x8a";

	(void)unused;
	assert_int_equal(text_fit(out, sizeof(out), "short", 10,
	    TEXT_ELLIPSIS), 5);
	assert_string_equal(out, "short");
	text_fit(out, sizeof(out), "abcdefghijkl", 8, TEXT_ELLIPSIS);
	assert_string_equal(out, "abcde...");
	text_fit(out, sizeof(out), "abcdefghijkl", 8, 0);
	assert_string_equal(out, "abcdefgh");
	/* width 12 of wide characters into 7: 2 + 2 of them, no half */
	text_fit(out, sizeof(out), jp, 7, TEXT_ELLIPSIS);
	assert_true(text_width(out) <= 7);
	assert_string_equal(out, "CT\xe5\xae\xa4...");
	text_fit(out, sizeof(out), jp, 7, 0);
	assert_int_equal(text_width(out), 6);
	assert_true(text_is_clean(out, strlen(out)));
	/* at a word, not inside one */
	text_fit(out, sizeof(out), "personal information accessed", 20,
	    TEXT_ELLIPSIS | TEXT_WORD);
	assert_string_equal(out, "personal...");
	text_fit(out, sizeof(out), "records PID-1234, PID-987", 20,
	    TEXT_ELLIPSIS | TEXT_WORD);
	assert_string_equal(out, "records PID-1234,...");
	/* cleaned as it is cut */
	text_fit(out, sizeof(out), "a\x1b[31mred", 20, TEXT_ELLIPSIS);
	assert_string_equal(out, "a?[31mred");
	/* a small buffer: cut between characters, still marked */
	text_fit(out, 9, jp, 40, TEXT_ELLIPSIS);
	assert_true(strlen(out) < 9);
	assert_true(text_is_clean(out, strlen(out)));
	assert_string_equal(out, "CT\xe5\xae\xa4...");
}

/* The display column where each line's n-th field (2 blanks apart)
 * starts; all rows of a table must agree. */
static size_t
field_col(const char *line, int n)
{
	char buf[512];
	const char *p = line, *q;
	int k = 0;

	while (*p == ' ')	/* a right-aligned first column */
		p++;
	while (k < n && (q = strstr(p, "  ")) != NULL) {
		p = q;
		while (*p == ' ')
			p++;
		k++;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(p - line), line);
	return (text_width(buf));
}

static char *
print(const struct table *t, const char *indent, size_t width)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(table_print(t, f, indent, width), 0);
	fclose(f);
	return (text);
}

static void
check_lines(const char *text, size_t width, int ncols)
{
	char *copy = strdup(text), *p, *line;
	size_t first[8] = { 0 };
	int n = 0, k;

	assert_true(text[0] != '\0');
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (p = copy; (line = strsep(&p, "\n")) != NULL && *line; n++) {
		if (width)
			assert_true(text_width(line) <= width);
		assert_true(line[strlen(line) - 1] != ' ');
		for (k = 1; k < ncols; k++) {
			if (n == 0)
				first[k] = field_col(line, k);
			else if (field_col(line, k) != first[k])
				fail_msg("line %d column %d at %zu, not %zu: "
				    "%s", n, k, field_col(line, k), first[k],
				    line);
		}
	}
	free(copy);
}

/* The table printed (as print()), every line checked (as check_lines()). */
static char *
print_aligned(const struct table *t, const char *indent, size_t width,
    int ncols)
{
	char *text = print(t, indent, width);

	check_lines(text, width, ncols);
	return (text);
}

static void
test_table_aligns_wide_text(void **unused)
{
	static const struct table_col cols[] = {
		{ "SID", TABLE_RIGHT | TABLE_KEEP }, { "ENGINEER", 0 },
		{ "DEVICE", 0 }, { "STATE", TABLE_FREE },
	};
	struct table *t = table_new(cols, 4);
	char *text;

	(void)unused;
	assert_non_null(t);
	assert_int_equal(table_add(t, (const char *[]){ "7", "alice",
	    "ct-scanner", "live" }), 0);
	/* 山田 / CT室 */
	assert_int_equal(table_add(t, (const char *[]){ "12",
	    "\xe5\xb1\xb1\xe7\x94\xb0", "CT\xe5\xae\xa4", "ended" }), 0);
	assert_int_equal(table_add(t, (const char *[]){ "3", NULL, "",
	    "x" }), 0);
	assert_int_equal(table_rows(t), 3);
	text = print_aligned(t, NULL, TABLE_WIDTH, 4);
	assert_non_null(strstr(text, "SID  ENGINEER  DEVICE      STATE\n"));
	assert_non_null(strstr(text, "  7  alice     ct-scanner  live\n"));
	assert_non_null(strstr(text, "  3  -         -           x\n"));
	free(text);
	table_free(t);
	table_free(NULL);
}

static void
test_table_fits_under_100_columns(void **unused)
{
	static const struct table_col cols[] = {
		{ "START (UTC)", TABLE_KEEP }, { "ENGINEER", 0 },
		{ "DEVICE", 0 }, { "REASON", TABLE_FREE },
	};
	struct table *t = table_new(cols, 4);
	char long_jp[400], *text;
	size_t i, o = 0;

	(void)unused;
	/* 40 x 日本 = 160 columns of description */
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(long_jp + o, sizeof(long_jp) - o,
		    "\xe6\x97\xa5\xe6\x9c\xac");
	assert_int_equal(table_add(t, (const char *[]){ "2026-11-05 14:05",
	    "a-very-long-engineer-login-name", long_jp,
	    "ticket 4711: replace the detector board of the CT scanner in "
	    "room 2, as agreed with radiology" }), 0);
	assert_int_equal(table_add(t, (const char *[]){ "2026-11-04 09:00",
	    "bob", "pacs", "short" }), 0);
	text = print_aligned(t, "  ", TABLE_WIDTH, 4);
	/* the time is kept whole; what was cut says so */
	assert_non_null(strstr(text, "  2026-11-05 14:05  "));
	assert_non_null(strstr(text, "..."));
	free(text);
	/* 0: no limit, nothing cut */
	text = print_aligned(t, NULL, 0, 4);
	assert_non_null(strstr(text, "as agreed with radiology\n"));
	assert_null(strstr(text, "..."));
	free(text);
	table_free(t);
}

static void
test_table_sort(void **unused)
{
	static const struct table_col cols[] = {
		{ "ID", TABLE_RIGHT }, { "WHEN", 0 },
	};
	struct table *t = table_new(cols, 2);
	char *text;

	(void)unused;
	table_add(t, (const char *[]){ "9", "2026-11-01 10:00" });
	table_add(t, (const char *[]){ "10", "2026-11-03 10:00" });
	table_add(t, (const char *[]){ "2", "2026-11-02 10:00" });
	table_sort(t, 0, TABLE_DESC | TABLE_NUM);
	text = print(t, NULL, 0);
	assert_string_equal(text, "ID  WHEN\n10  2026-11-03 10:00\n"
	    " 9  2026-11-01 10:00\n 2  2026-11-02 10:00\n");
	free(text);
	table_sort(t, 1, TABLE_DESC);
	text = print(t, NULL, 0);
	assert_string_equal(text, "ID  WHEN\n10  2026-11-03 10:00\n"
	    " 2  2026-11-02 10:00\n 9  2026-11-01 10:00\n");
	free(text);
	table_free(t);
}

static void
test_para(void **unused)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)unused;
	table_para(f, "  work record: ", "      ", "personal information "
	    "accessed; records PID-1234, PID-987, PID-555, PID-556, PID-557, "
	    "PID-558 \x1b[2J", 40);
	fclose(f);
	check_lines(text, 40, 1);
	assert_string_equal(text,
	    "  work record: personal information\n"
	    "      accessed; records PID-1234,\n"
	    "      PID-987, PID-555, PID-556,\n"
	    "      PID-557, PID-558 ?[2J\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cp_width),
		cmocka_unit_test(test_cp_width_matches_libc),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_table_aligns_wide_text),
		cmocka_unit_test(test_table_fits_under_100_columns),
		cmocka_unit_test(test_table_sort),
		cmocka_unit_test(test_para),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
