/*
 * test_sanitize.c - the replay sanitiser: each dangerous sequence is
 * removed whole (7-bit and 8-bit forms), harmless ones are kept byte for
 * byte, results do not depend on where the input is split into chunks, the
 * output is always valid UTF-8 and sanitising it again changes nothing.
 * Also the asciicast JSON escaping, which must accept any bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asciicast.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "sanitize.h"
#include "utf8.h"

/* Sanitise in chunks of `chunk` bytes (0: all at once); returns a new
 * NUL-terminated string and its length. */
static char *
run_chunked(int flags, const void *in, size_t len, size_t chunk,
    size_t *outlen)
{
	struct sanitize *s = sanitize_new(flags);
	struct buf *out = buf_new(3 * len + 4 * SANITIZE_SLACK + 16);
	const uint8_t *p = in;
	size_t off = 0, n;
	char *r;

	assert_non_null(s);
	assert_non_null(out);
	if (chunk == 0)
		chunk = len > 0 ? len : 1;
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		assert_int_equal(sanitize_feed(s, p + off, n, out), 0);
		off += n;
	}
	assert_int_equal(sanitize_finish(s, out), 0);
	*outlen = buf_len(out);
	r = malloc(buf_len(out) + 1);
	memcpy(r, buf_ptr(out), buf_len(out));
	r[buf_len(out)] = '\0';
	buf_free(out);
	sanitize_free(s);
	return (r);
}

static int
valid_utf8(const char *p, size_t len)
{
	uint32_t cp;
	size_t i = 0;
	int n;

	while (i < len) {
		if ((n = utf8_decode((const uint8_t *)p + i, len - i, &cp)) <= 0)
			return (0);
		if (cp >= 0x80 && cp < 0xa0)
			return (0);	/* no C1 controls, encoded or not */
		i += (size_t)n;
	}
	return (1);
}

/*
 * Sanitise in, check the result equals want, and that the same result
 * comes out for every two-chunk split and byte by byte, and that it is
 * valid UTF-8 and a fixed point.
 */
static void
check_flags(int flags, const char *in, size_t inlen, const char *want)
{
	size_t olen, l2, cut;
	char *out, *again, *o2;
	struct sanitize *s;
	struct buf *a, *b;

	out = run_chunked(flags, in, inlen, 0, &olen);
	if (olen != strlen(want) || memcmp(out, want, olen) != 0)
		fail_msg("sanitising %zu bytes gave \"%s\", wanted \"%s\"",
		    inlen, out, want);
	assert_true(valid_utf8(out, olen));
	o2 = run_chunked(flags, in, inlen, 1, &l2);
	assert_int_equal(l2, olen);
	assert_memory_equal(o2, out, olen);
	free(o2);
	for (cut = 1; cut < inlen; cut++) {
		s = sanitize_new(flags);
		a = buf_new(4 * inlen + 4 * SANITIZE_SLACK);
		assert_int_equal(sanitize_feed(s, in, cut, a), 0);
		assert_int_equal(sanitize_feed(s, in + cut, inlen - cut, a), 0);
		assert_int_equal(sanitize_finish(s, a), 0);
		if (buf_len(a) != olen || memcmp(buf_ptr(a), out, olen) != 0)
			fail_msg("split at %zu changes the output", cut);
		buf_free(a);
		sanitize_free(s);
	}
	again = run_chunked(flags, out, olen, 0, &l2);
	assert_int_equal(l2, olen);
	assert_memory_equal(again, out, olen);
	free(again);
	/* the output buffer contract: too small is refused, not overrun */
	b = buf_new(1);
	s = sanitize_new(flags);
	if (inlen > 0)
		assert_int_equal(sanitize_feed(s, in, inlen, b), BERR_LIMIT);
	sanitize_free(s);
	buf_free(b);
	free(out);
}

static void
check(const char *in, const char *want)
{
	check_flags(0, in, strlen(in), want);
}

/* Each sequence of the NULL-terminated seqs, between "a" and "b", comes
 * out whole if keep, else as "ab" alone. */
static void
check_each_between(const char *const *seqs, int keep)
{
	char in[128];
	size_t i;

	for (i = 0; seqs[i] != NULL; i++) {
		assert_true(strlen(seqs[i]) + 3 <= sizeof(in));
		snprintf(in, sizeof(in), "a%sb", seqs[i]);
		check(in, keep ? in : "ab");
	}
}

static void
test_plain(void **state)
{
	(void)state;
	check("", "");
	check("hello, world\r\n", "hello, world\r\n");
	check("tab\there\bback\a\v\f", "tab\there\bback\a\v\f");
	check("\xe7\x97\x85\xe9\x99\xa2 caf\xc3\xa9 \xf0\x9f\x98\x80",
	    "\xe7\x97\x85\xe9\x99\xa2 caf\xc3\xa9 \xf0\x9f\x98\x80");
	check("~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
	    "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./");
}

static void
test_kept(void **state)
{
	static const char *keep[] = {
		"\x1b[0m", "\x1b[1;31m", "\x1b[38;5;208m", "\x1b[38:2::255:0:0m",
		"\x1b[m", "\x1b[H", "\x1b[10;20H", "\x1b[2J", "\x1b[J",
		"\x1b[K", "\x1b[2K", "\x1b[A", "\x1b[5B", "\x1b[C", "\x1b[3D",
		"\x1b[E", "\x1b[F", "\x1b[12G", "\x1b[4@", "\x1b[2P",
		"\x1b[3L", "\x1b[2M", "\x1b[S", "\x1b[T", "\x1b[X",
		"\x1b[Z", "\x1b[5d", "\x1b[3;4f", "\x1b[g", "\x1b[3g",
		"\x1b[1;24r", "\x1b[s", "\x1b[u", "\x1b[4h", "\x1b[4l",
		"\x1b[?25l", "\x1b[?25h", "\x1b[?1049h", "\x1b[?1049l",
		"\x1b[?7h", "\x1b[?1h", "\x1b[?2004h", "\x1b[?2026h",
		"\x1b[?1J", "\x1b[2 q", "\x1b[!p", "\x1b[5b",
		"\x1b" "7", "\x1b" "8", "\x1b" "D", "\x1b" "E", "\x1b" "H",
		"\x1b" "M", "\x1b=", "\x1b>", "\x1b(0", "\x1b(B", "\x1b)0",
		NULL
	};
	(void)state;
	check_each_between(keep, 1);
	/* a typical prompt with colours and a title-free shell */
	check("\x1b[01;32malice@ct-1\x1b[00m:\x1b[01;34m~\x1b[00m$ ",
	    "\x1b[01;32malice@ct-1\x1b[00m:\x1b[01;34m~\x1b[00m$ ");
}

static void
test_removed(void **state)
{
	static const char *drop[] = {
		/* OSC: clipboard, title, hyperlink, colours, cwd, notify */
		"\x1b]52;c;aGVsbG8=\x07", "\x1b]52;c;aGVsbG8=\x1b\\",
		"\x1b]52;c;?\x07", "\x1b]0;pwned\x07", "\x1b]1;icon\x07",
		"\x1b]2;title\x1b\\", "\x1b]8;;http://evil.example/\x1b\\",
		"\x1b]4;1;rgb:ff/00/00\x07", "\x1b]10;?\x07", "\x1b]11;?\x07",
		"\x1b]7;file://host/tmp\x07", "\x1b]777;notify;a;b\x07",
		"\x1b]1337;File=inline=1:AAAA\x07",
		/* DCS (DECRQSS, XTGETTCAP, sixel), APC, PM, SOS */
		"\x1bP$qm\x1b\\", "\x1bP+q544e\x1b\\", "\x1bPq#0;2;0;0;0~\x1b\\",
		"\x1b_Gf=100;AAAA\x1b\\", "\x1b^private\x1b\\",
		"\x1bXstring\x1b\\",
		/* device status / attribute / window reports and requests */
		"\x1b[5n", "\x1b[6n", "\x1b[?6n", "\x1b[?15n", "\x1b[c",
		"\x1b[0c", "\x1b[>c", "\x1b[>0c", "\x1b[=c", "\x1b[>0q",
		"\x1b[21t", "\x1b[14t", "\x1b[18t", "\x1b[8;100;100t",
		"\x1b[2t", "\x1b[x", "\x1b[1x", "\x1b[2$p", "\x1b[?1$p",
		"\x1b[?u", "\x1b[>1u", "\x1b[?1;1;0S", "\x1b[>4;2m",
		"\x1b[5i", "\x1b[4i", "\x1b[?5i", "\x1b[0\"q", "\x1b[2$x",
		/* mouse and focus reporting */
		"\x1b[?1000h", "\x1b[?1002h", "\x1b[?1003h", "\x1b[?1004h",
		"\x1b[?1006h", "\x1b[?1015h", "\x1b[?9h", "\x1b[?25;1000h",
		"\x1b[?1000;25h",
		/* identify, reset, 8-bit controls, charset switching */
		"\x1bZ", "\x1b" "c", "\x1b G", "\x1b F", "\x1b%G", "\x1b%@",
		"\x1b#8", "\x1b(K", "\x1bN", "\x1bO", "\x1b\\", "\x1bl",
		/* controls: ENQ (answerback), SO/SI, NUL, DEL, ... */
		"\x05", "\x0e", "\x0f", "\x01", "\x7f", "\x1c",
		NULL
	};
	char in[128];

	(void)state;
	check_each_between(drop, 0);
	/* NUL inside text */
	check_flags(0, "a\0b", 3, "ab");
	/* the text of a hyperlink stays, the link goes */
	check("\x1b]8;;http://x/\x1b\\click\x1b]8;;\x1b\\", "click");
	/* an over-long CSI is dropped whole */
	memset(in, '1', sizeof(in));
	in[0] = 0x1b;
	in[1] = '[';
	snprintf(in + 100, 28, "mX");
	check(in, "X");
	/* CAN and SUB cancel a sequence */
	check("\x1b[31\x18mX", "mX");
	check("\x1b]52;c;x\x1a" "after", "after");
	/* ESC inside an OSC ends it and starts a new sequence */
	check("\x1b]0;t\x1b[1mX", "\x1b[1mX");
	/* a string that never ends swallows the rest */
	check("keep\x1b]52;c;forever", "keep");
	/* an unfinished CSI at the end is dropped */
	check("x\x1b[1;3", "x");
}

static void
test_c1(void **state)
{
	(void)state;
	/* raw 8-bit C1 introducers */
	check("a\x9b" "6nb", "ab");
	check("a\x9b" "31mb", "a\x1b[31mb");	/* allowed CSI, 7-bit out */
	check("a\x9d" "52;c;eA==\x07" "b", "ab");
	check("a\x9d" "0;t\x9c" "b", "ab");
	check("a\x90$qm\x9c" "b", "ab");
	check("a\x98x\x9c\x9ey\x9c\x9fz\x9c" "b", "ab");
	check("a\x85\x84\x8e\x9c" "b", "ab");	/* NEL IND SS2 ST */
	/* C1 encoded as UTF-8 code points */
	check("a\xc2\x9b" "6nb", "ab");
	check("a\xc2\x9d" "0;t\xc2\x9c" "b", "ab");
	check("a\xc2\x90$qm\xc2\x9c" "b", "ab");
	check("a\xc2\x85" "b", "ab");
	/* a UTF-8 character whose continuation byte is 0x9b is not CSI */
	check("\xc4\x9b" "6n", "\xc4\x9b" "6n");
	check("\xe2\x86\x92", "\xe2\x86\x92");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	check("a\xff" "b", "a\xef\xbf\xbd" "b");
	check("a\xc3" "b", "a\xef\xbf\xbd" "b");	/* cut short */
	check("a\xe2\x82" "b", "a\xef\xbf\xbd" "b");
	check("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");	/* overlong */
	check("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd");	/* surrogate */
	/* > U+10FFFF: the lead byte is junk, and the stray 0x90 after it
	 * is, like any stray 0x80-0x9f byte, an 8-bit DCS: swallowed */
	check("\xf4\x90\x80\x80x", "\xef\xbf\xbd");
	check("\xf4\xa0\xa1x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");
	check("end\xe2\x82", "end\xef\xbf\xbd");	/* cut at the end */
	check("\x1b[\xc3\xa9m", "\xc3\xa9m");		/* non-ASCII ends CSI */
}

static void
test_text_mode(void **state)
{
	(void)state;
	check_flags(SANITIZE_TEXT,
	    "\x1b[1;31mred\x1b[0m\r\nline\ttwo\a\b\r\n\x1b]0;t\x07" "end",
	    strlen("\x1b[1;31mred\x1b[0m\r\nline\ttwo\a\b\r\n\x1b]0;t\x07"
	    "end"), "red\nline\ttwo\nend");
	check_flags(SANITIZE_TEXT, "\x1b(0lqk\x1b(B", 10, "lqk");
	check_flags(SANITIZE_ASCII, "caf\xc3\xa9 \xe2\x86\x92\x1b[1m!", 14,
	    "caf? ?\x1b[1m!");
	check_flags(SANITIZE_TEXT | SANITIZE_ASCII, "\xff\xc3\xa9", 3, "??");
}

static void
test_random(void **state)
{
	static const char alphabet[] = "\x1b[]P\\;?>0123456789mhlcnqt\x07\x18"
	    "\x9b\x9c\x9d\x90\xc2\xe2\x82\xac" "ab \r\n";
	uint64_t x = 0x0123456789abcdefULL;
	char in[256], *out, *again;
	size_t i, j, len, olen, l2;
	int flags;

	(void)state;
	for (i = 0; i < 4000; i++) {
		len = (size_t)(i % sizeof(in));
		for (j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			in[j] = (i & 1) ? (char)(x >> 24) :
			    alphabet[(x >> 24) % (sizeof(alphabet) - 1)];
		}
		flags = (int)(i % 4);
		out = run_chunked(flags, in, len, 1 + i % 7, &olen);
		assert_true(valid_utf8(out, olen));
		/* nothing but allowed sequences: a second pass is a no-op */
		again = run_chunked(flags, out, olen, 0, &l2);
		assert_int_equal(l2, olen);
		assert_memory_equal(again, out, olen);
		/* no string introducers or queries survive */
		assert_null(memmem(out, olen, "\x1b]", 2));
		assert_null(memmem(out, olen, "\x1bP", 2));
		assert_null(memmem(out, olen, "\x1b_", 2));
		assert_null(memmem(out, olen, "\x1b[6n", 4));
		assert_null(memmem(out, olen, "\x1b[c", 3));
		free(again);
		free(out);
	}
}

static void
test_json(void **state)
{
	struct buf *b = buf_new(4096);
	const char *want;

	(void)state;
	assert_int_equal(json_string(b,
	    "a\"b\\c\n\r\t\x01\x7f\xff\xc3\xa9\xe2\x80\xa8\xc2\x9b\xe2\x82", 20),
	    0);
	want = "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\\ufffd\xc3\xa9\\u2028"
	    "\\u009b\\ufffd\\ufffd\"";
	assert_int_equal(buf_len(b), strlen(want));
	assert_memory_equal(buf_ptr(b), want, strlen(want));
	buf_reset(b);
	assert_int_equal(asciicast_event(b, 1250000, "o", "hi\n", 3), 0);
	want = "[1.250000, \"o\", \"hi\\n\"]\n";
	assert_int_equal(buf_len(b), strlen(want));
	assert_memory_equal(buf_ptr(b), want, strlen(want));
	buf_reset(b);
	assert_int_equal(asciicast_header(b, 80, 24, 1735689600, "t\"x",
	    "xterm", 2), 0);
	want = "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": "
	    "1735689600, \"idle_time_limit\": 2, \"title\": \"t\\\"x\", "
	    "\"env\": {\"TERM\": \"xterm\"}}\n";
	assert_int_equal(buf_len(b), strlen(want));
	assert_memory_equal(buf_ptr(b), want, strlen(want));
	buf_free(b);
	/* too small a buffer is an error, not an overrun */
	b = buf_new(4);
	assert_int_equal(json_string(b, "abcdef", 6), BERR_LIMIT);
	buf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_c1),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_text_mode),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_json),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
