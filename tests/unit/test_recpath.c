/*
 * test_recpath.c - the recorder's read path without copies (issue 19 item
 * 5, docs/PERFORMANCE.md): reads land straight in the connection's buffer
 * (buf_room / buf_wrote in base/buf.c) and FRAME messages are taken in
 * place (recproto_take_direct in recorder/lib/recproto.c) instead of being
 * copied out of a bounce buffer and then into a body of their own. These
 * tests pin the bounds the recorder relies on: a read never gets room
 * beyond the buffer's maximum, partial messages wait, oversized and empty
 * ones are refused exactly as recproto_take refuses them, and both ways of
 * taking a message see the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "err.h"
#include "recproto.h"

/* A read of n bytes of value v through buf_room / buf_wrote. */
static size_t
fake_read(struct buf *b, size_t want, size_t n, uint8_t v)
{
	uint8_t *room;
	size_t got;

	assert_int_equal(buf_room(b, want, &room, &got), 0);
	assert_non_null(room);
	assert_true(got <= want);
	if (n > got)
		n = got;
	memset(room, v, n);
	buf_wrote(b, n);
	return (n);
}

static void
test_room_bounds(void **state)
{
	struct buf *b = buf_new(100);
	uint8_t *room;
	size_t got;

	(void)state;
	assert_non_null(b);
	/* room is capped by the maximum, not by what was asked */
	assert_int_equal(fake_read(b, 1000, 60, 'a'), 60);
	assert_int_equal(buf_len(b), 60);
	assert_int_equal(buf_room(b, 1000, &room, &got), 0);
	assert_int_equal(got, 40);
	memset(room, 'c', got);
	buf_wrote(b, 40);
	assert_int_equal(buf_len(b), 100);
	/* full: no room at all */
	assert_int_equal(buf_room(b, 1, &room, &got), BERR_LIMIT);
	assert_null(room);
	assert_int_equal(got, 0);
	/* reading frees room again (the unread part moves to the front) */
	assert_int_equal(buf_skip(b, 30), 0);
	assert_int_equal(fake_read(b, 1000, 1000, 'b'), 30);
	assert_int_equal(buf_len(b), 100);
	assert_int_equal(buf_ptr(b)[0], 'a');
	assert_int_equal(buf_ptr(b)[29], 'a');
	assert_int_equal(buf_ptr(b)[30], 'c');
	assert_int_equal(buf_ptr(b)[69], 'c');
	assert_int_equal(buf_ptr(b)[70], 'b');
	assert_int_equal(buf_ptr(b)[99], 'b');
	/* a claim beyond the allocation is ignored rather than believed */
	assert_int_equal(buf_skip(b, 100), 0);
	assert_int_equal(buf_room(b, 10, &room, &got), 0);
	buf_wrote(b, 1000);
	assert_int_equal(buf_len(b), 0);
	buf_free(b);
}

/* One message: uint32 length, type byte, body. */
static void
put_msg(struct buf *b, uint8_t type, const void *body, size_t n)
{
	assert_int_equal(buf_put_u32(b, (uint32_t)(n + 1)), 0);
	assert_int_equal(buf_put_u8(b, type), 0);
	assert_int_equal(buf_put(b, body, n), 0);
}

static void
test_take_direct(void **state)
{
	struct buf *in = buf_new(1 << 16), *copy = buf_new(1 << 16);
	struct buf *body;
	const uint8_t *p;
	size_t len;
	int msg;

	(void)state;
	put_msg(in, RECPROTO_FRAME, "hello", 5);
	put_msg(copy, RECPROTO_FRAME, "hello", 5);
	/* in place: type byte first, then the body, nothing copied */
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), 0);
	assert_int_equal(len, 6);
	assert_int_equal(p[0], RECPROTO_FRAME);
	assert_memory_equal(p + 1, "hello", 5);
	assert_int_equal(buf_len(in), 0);
	/* the copying way sees the same */
	assert_int_equal(recproto_take(copy, 100, &msg, &body), 0);
	assert_int_equal(msg, RECPROTO_FRAME);
	assert_int_equal(buf_len(body), 5);
	assert_memory_equal(buf_ptr(body), "hello", 5);
	buf_free(body);

	/* a message with an empty body (CLOSE, SYNC) */
	put_msg(in, RECPROTO_CLOSE, NULL, 0);
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], RECPROTO_CLOSE);

	/* a partial message waits and consumes nothing */
	assert_int_equal(buf_put_u32(in, 10), 0);
	assert_int_equal(buf_put(in, "abc", 3), 0);
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), BERR_AGAIN);
	assert_int_equal(buf_len(in), 7);
	assert_int_equal(buf_put(in, "defghij", 7), 0);
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(p, "abcdefghij", 10);

	/* only the length word so far */
	assert_int_equal(buf_put(in, "\0\0", 2), 0);
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), BERR_AGAIN);
	assert_int_equal(buf_skip(in, 2), 0);

	/* over the limit and empty: refused, as recproto_take refuses them */
	assert_int_equal(buf_put_u32(in, 101), 0);
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), BERR_LIMIT);
	assert_int_equal(buf_put_u32(copy, 101), 0);
	assert_int_equal(recproto_take(copy, 100, &msg, &body), BERR_LIMIT);
	buf_free(in);
	in = buf_new(64);
	assert_int_equal(buf_put_u32(in, 0), 0);
	assert_int_equal(recproto_take_direct(in, 100, &p, &len), BERR_FORMAT);
	buf_free(in);
	buf_free(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_bounds),
		cmocka_unit_test(test_take_direct),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
