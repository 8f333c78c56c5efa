/*
 * test_text.c - base/text.c, the one escape for text shown to a person:
 * what is clean (strict UTF-8 without C0, DEL, C1), what text_clean()
 * makes of everything else, where it cuts, the visible form the recording
 * tools use, and JSON strings that are valid and inert on a terminal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* No byte of s is a control byte or a C1 byte, and s is valid UTF-8. */
static void
assert_inert(const char *s)
{
	assert_true(text_is_clean(s, strlen(s)));
}

static void
test_classify(void **unused)
{
	(void)unused;
	assert_int_equal(text_char("a", 1), 1);
	assert_int_equal(text_char("\xc3\xa9", 2), 2);		/* é */
	assert_int_equal(text_char("\xe2\x80\x94", 3), 3);	/* — */
	assert_int_equal(text_char("\xf0\x9f\x94\x92", 4), 4);
	assert_int_equal(text_char("\xc2\xa0", 2), 2);		/* NBSP */
	assert_int_equal(text_char("", 0), 0);
	assert_int_equal(text_char("\x1b", 1), 0);		/* ESC */
	assert_int_equal(text_char("\n", 1), 0);
	assert_int_equal(text_char("\t", 1), 0);
	assert_int_equal(text_char("\x7f", 1), 0);		/* DEL */
	assert_int_equal(text_char("\x9b", 1), 0);		/* raw CSI */
	assert_int_equal(text_char("\xc2\x9b", 2), 0);	/* U+009B */
	assert_int_equal(text_char("\xc2\x80", 2), 0);	/* U+0080 */
	assert_int_equal(text_char("\xc2\x9f", 2), 0);	/* U+009F */
	assert_int_equal(text_char("\xe0\x82\x9b", 3), 0);	/* overlong */
	assert_int_equal(text_char("\xed\xa0\x80", 3), 0);	/* surrogate */
	assert_int_equal(text_char("\xf4\x90\x80\x80", 4), 0);	/* > 10FFFF */
	assert_int_equal(text_char("\xc3", 1), 0);		/* cut */
	assert_int_equal(text_char("\xff", 1), 0);
	assert_true(text_is_clean("", 0));
	assert_true(text_is_clean("caf\xc3\xa9 \xe2\x80\x94 ok", 12));
	assert_false(text_is_clean("a\x9b", 2));
	assert_false(text_is_clean("a\xc2\x9b" "2J", 5));
	assert_false(text_is_clean("a\x1b[2J", 5));
	assert_false(text_is_clean("a\0b", 3));
}

/* The approval reason of issue 13, item 6: every way to smuggle a control
 * sequence to the admin's terminal. */
static void
test_clean(void **unused)
{
	char out[128];
	size_t n;

	(void)unused;
	n = text_clean(out, sizeof(out), "fix \x9b" "2J CT \xc2\x9b" "31m "
	    "\x1b[5m \x7f\x01 caf\xc3\xa9 \xff\xfe \xe0\x82\x9b end");
	assert_string_equal(out, "fix ?2J CT ?31m ?[5m ?? caf\xc3\xa9 ?? ??? "
	    "end");
	assert_int_equal(n, strlen(out));
	assert_inert(out);
	/* a line stays one line */
	text_clean(out, sizeof(out), "one\r\ntwo\tthree");
	assert_string_equal(out, "one??two?three");
	/* nothing */
	assert_int_equal(text_clean(out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(text_clean(out, 0, "abc"), 0);
	/* clean text is kept as it is */
	text_clean(out, sizeof(out), "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92");
	assert_string_equal(out, "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92");
}

/* Cut between characters, never inside one; "..." when asked. */
static void
test_cut(void **unused)
{
	char out[16];

	(void)unused;
	/* 2-byte characters: 4 bytes + NUL fit in 6, not a 5th byte */
	text_clean(out, 6, "\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");
	assert_inert(out);
	text_clean(out, 5, "\xe2\x80\x94\xe2\x80\x94");
	assert_string_equal(out, "\xe2\x80\x94");
	text_clean_buf(out, 8, "abcdefghij", 10, TEXT_ELLIPSIS);
	assert_string_equal(out, "abcd...");
	text_clean_buf(out, 8, "abcdefg", 7, TEXT_ELLIPSIS);
	assert_string_equal(out, "abcdefg");	/* fits: no "..." */
	text_clean_buf(out, 9, "ab\xe2\x80\x94\xe2\x80\x94xyz", 11,
	    TEXT_ELLIPSIS);
	assert_string_equal(out, "ab\xe2\x80\x94...");
	/* a character cut by the end of the input is not a character */
	text_clean_buf(out, sizeof(out), "ok\xe2\x80", 4, 0);
	assert_string_equal(out, "ok??");
}

/* The forensic form (bastion-verify, bastion-replay): which bytes. */
static void
test_escape(void **unused)
{
	char out[80];

	(void)unused;
	text_clean_buf(out, sizeof(out),
	    "a\x1b]52;c;x\a\\\xff\xc2\x9b\xe2\x86\x92\n\r\t\x7f", 21,
	    TEXT_ESCAPE);
	assert_string_equal(out, "a\\e]52;c;x\\x07\\\\\\xff\\xc2\\x9b"
	    "\xe2\x86\x92\\n\\r\\t\\x7f");
	assert_inert(out);
	text_clean_buf(out, 7, "\x01\x02\x03", 3, TEXT_ESCAPE | TEXT_ELLIPSIS);
	assert_string_equal(out, "...");	/* "\x01" and "..." do not fit */
	text_clean_buf(out, 8, "\x01\x02\x03", 3, TEXT_ESCAPE | TEXT_ELLIPSIS);
	assert_string_equal(out, "\\x01...");
}

static void
test_json(void **unused)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)unused;
	assert_non_null(f = open_memstream(&text, &len));
	text_json(f, "q\"b\\ \x9b" "2J \xc2\x9b \x1b[m \x7f\n\t\r caf\xc3\xa9 "
	    "\xe0\x82\x9b");
	fputc(' ', f);
	text_json(f, NULL);
	fclose(f);
	assert_string_equal(text, "\"q\\\"b\\\\ \\ufffd2J \\u009b \\u001b[m "
	    "\\u007f\\n\\t\\r caf\xc3\xa9 \\ufffd\\ufffd\\ufffd\" \"\"");
	assert_inert(text);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_json),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
