/*
 * test_clamd.c - the import airlock's clamd client (proto/clamd.c): the
 * reply parser's bounds (every shape clamd writes, and every way a reply
 * can be wrong, refused with a reason), and the INSTREAM framing written
 * over a real socket pair to a file's bytes, read back here as clamd
 * would read it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clamd.h"
#include "err.h"

static int
parse(const char *s, size_t n, char *name)
{
	return (clamd_reply_parse((const uint8_t *)s, n, name,
	    CLAMD_NAME_MAX));
}

static void
test_reply_shapes(void **state)
{
	char name[CLAMD_NAME_MAX];

	(void)state;
	assert_int_equal(parse("stream: OK", 11, name), CLAMD_CLEAN);
	assert_int_equal(parse("stream: OK\n", 11, name), CLAMD_CLEAN);
	assert_int_equal(parse("stream: Eicar-Test-Signature FOUND", 35,
	    name), CLAMD_FOUND);
	assert_string_equal(name, "Eicar-Test-Signature");
	assert_int_equal(parse("INSTREAM size limit exceeded. ERROR", 36,
	    name), BERR_FORMAT);
	assert_string_equal(name, "clamd: INSTREAM size limit exceeded. "
	    "ERROR");
}

static void
test_reply_bad(void **state)
{
	char name[CLAMD_NAME_MAX], big[CLAMD_REPLY_MAX + 8];

	(void)state;
	/* no terminator: cut */
	assert_int_equal(parse("stream: OK", 10, name), BERR_FORMAT);
	assert_non_null(strstr(name, "cut"));
	assert_int_equal(parse("", 0, name), BERR_FORMAT);
	/* a NUL or control byte inside */
	assert_int_equal(parse("stream: O\0K", 12, name), BERR_FORMAT);
	assert_non_null(strstr(name, "printable"));
	assert_int_equal(parse("stream: \x1b]0;x FOUND", 20, name),
	    BERR_FORMAT);
	/* not about the stream; neither OK, FOUND nor ERROR */
	assert_int_equal(parse("PONG", 5, name), BERR_FORMAT);
	assert_int_equal(parse("stream: OKAY", 13, name), BERR_FORMAT);
	assert_int_equal(parse("stream:  FOUND", 15, name), BERR_FORMAT);
	assert_int_equal(parse("stream: a b FOUND", 18, name), BERR_FORMAT);
	assert_int_equal(parse("stream: FOUND", 14, name), BERR_FORMAT);
	/* too long, even when terminated */
	memset(big, 'A', sizeof(big));
	memcpy(big, "stream: ", 8);
	memcpy(big + CLAMD_REPLY_MAX, " FOUND", 6);
	big[CLAMD_REPLY_MAX + 6] = '\0';
	assert_int_equal(parse(big, CLAMD_REPLY_MAX + 7, name), BERR_FORMAT);
	/* a name of CLAMD_NAME_MAX bytes is too long for name */
	memcpy(big + 8 + CLAMD_NAME_MAX, " FOUND", 7);
	assert_int_equal(parse(big, 8 + CLAMD_NAME_MAX + 7, name),
	    BERR_FORMAT);
	/* tiny output buffer: cut, never overrun */
	assert_int_equal(clamd_reply_parse((const uint8_t *)"stream: "
	    "Eicar-Test-Signature FOUND", 35, name, 6), CLAMD_FOUND);
	assert_string_equal(name, "Eicar");
}

struct sum {
	size_t n;
	unsigned calls;
};

static void
count(void *arg, const uint8_t *p, size_t n)
{
	struct sum *s = arg;

	(void)p;
	s->n += n;
	s->calls++;
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* A file of n bytes through INSTREAM, clamd's answer reply written
 * first: what clamd would read, checked; the verdict returned. */
static int
scan(size_t n, const char *reply, size_t rlen, char *name, struct sum *s)
{
	char path[] = "/tmp/test_clamd.XXXXXX";
	uint8_t *data = malloc(n + 1), *got;
	size_t i, off;
	size_t want = 10 + n + 4 * ((n + CLAMD_CHUNK - 1) / CLAMD_CHUNK + 1);
	int sv[2], fd, r, sz = 4 * 1024 * 1024;
	ssize_t k;

	assert_non_null(data);
	for (i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7);
	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)), 0);
	if (rlen > 0)
		assert_int_equal(write(sv[1], reply, rlen), (ssize_t)rlen);
	shutdown(sv[1], SHUT_WR);
	r = clamd_scan_fd(sv[0], fd, n, 2000, count, s, name, CLAMD_NAME_MAX);
	close(sv[0]);
	got = malloc(want + 1);
	assert_non_null(got);
	for (off = 0; off < want + 1 && (k = read(sv[1], got + off,
	    want + 1 - off)) > 0; off += (size_t)k)
		;
	/* zINSTREAM\0, chunks of at most CLAMD_CHUNK, a zero length */
	assert_int_equal(off, want);
	assert_memory_equal(got, "zINSTREAM", 10);
	for (off = 10, i = 0; i < n; ) {
		uint32_t len = be32(got + off);

		assert_true(len > 0 && len <= CLAMD_CHUNK);
		assert_memory_equal(got + off + 4, data + i, len);
		i += len;
		off += 4 + len;
	}
	assert_int_equal(be32(got + off), 0);
	close(sv[1]);
	close(fd);
	free(got);
	free(data);
	return (r);
}

static void
test_scan_framing(void **state)
{
	char name[CLAMD_NAME_MAX];
	struct sum s = { 0, 0 };

	(void)state;
	assert_int_equal(scan(3 * CLAMD_CHUNK + 17, "stream: OK", 11, name,
	    &s), CLAMD_CLEAN);
	assert_int_equal(s.n, 3 * CLAMD_CHUNK + 17);
	assert_int_equal(s.calls, 4);
	memset(&s, 0, sizeof(s));
	assert_int_equal(scan(0, "stream: OK", 11, name, &s), CLAMD_CLEAN);
	assert_int_equal(s.calls, 0);
	assert_int_equal(scan(100, "stream: X.Y-1 FOUND", 20, name, &s),
	    CLAMD_FOUND);
	assert_string_equal(name, "X.Y-1");
}

static void
test_scan_no_answer(void **state)
{
	char name[CLAMD_NAME_MAX];
	struct sum s = { 0, 0 };

	(void)state;
	/* clamd hung up without a word: refused, with a reason */
	assert_int_equal(scan(10, NULL, 0, name, &s), BERR_CLOSED);
	assert_non_null(strstr(name, "without an answer"));
	/* an answer cut short */
	assert_int_equal(scan(10, "stream: O", 9, name, &s), BERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_shapes),
		cmocka_unit_test(test_reply_bad),
		cmocka_unit_test(test_scan_framing),
		cmocka_unit_test(test_scan_no_answer),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
