/*
 * test_ctlproto.c - the control socket's framing (proto/ctlproto.c).
 *
 * The control worker parses requests from any local admin's bastionctl,
 * and bastionctl parses bastiond's frames: both sides must refuse every
 * malformed or oversized input with an error code, never read past it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "ctlproto.h"
#include "err.h"

/* v as the protocol's 4-byte big-endian field at p. */
static void
put32(uint8_t *p, uint32_t v)
{
	uint32_t be = htonl(v);

	memcpy(p, &be, sizeof(be));
}

static void
test_request_roundtrip(void **state)
{
	char *in[] = { "approve", "12", "1h30m", "", "ticket 4711 — CT" };
	uint8_t *p;
	size_t len;
	char **argv;
	int argc, i;

	(void)state;
	assert_int_equal(ctlp_request_encode(5, in, &p, &len), 0);
	assert_int_equal(ctlp_request_decode(p, len, &argv, &argc), 0);
	assert_int_equal(argc, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(argv[i], in[i]);
	assert_null(argv[5]);
	ctlp_argv_free(argv);
	/* every strict prefix is truncated, never accepted */
	for (i = 0; (size_t)i < len; i++) {
		assert_int_not_equal(ctlp_request_decode(p, (size_t)i, &argv,
		    &argc), 0);
		assert_null(argv);
	}
	free(p);
}

static void
test_request_limits(void **state)
{
	char *many[CTLP_MAX_ARGS + 1], *big;
	uint8_t *p;
	size_t len;
	int i;

	(void)state;
	for (i = 0; i <= CTLP_MAX_ARGS; i++)
		many[i] = "x";
	assert_int_equal(ctlp_request_encode(CTLP_MAX_ARGS + 1, many, &p,
	    &len), BERR_LIMIT);
	assert_null(p);
	assert_int_equal(ctlp_request_encode(0, many, &p, &len), BERR_LIMIT);
	big = malloc(CTLP_MAX_ARG + 2);
	assert_non_null(big);
	memset(big, 'a', CTLP_MAX_ARG + 1);
	big[CTLP_MAX_ARG + 1] = '\0';
	assert_int_equal(ctlp_request_encode(1, &big, &p, &len), BERR_LIMIT);
	free(big);
}

static void
test_request_malformed(void **state)
{
	uint8_t m[64];
	char **argv;
	int argc;

	(void)state;
	/* wrong magic */
	memcpy(m, "BCTX\x01", 5);
	put32(m + 5, 1);
	put32(m + 9, 1);
	m[13] = 'a';
	assert_int_equal(ctlp_request_decode(m, 14, &argv, &argc),
	    BERR_FORMAT);
	/* wrong version */
	memcpy(m, "BCTL\x02", 5);
	assert_int_equal(ctlp_request_decode(m, 14, &argv, &argc),
	    BERR_FORMAT);
	/* the well-formed one */
	memcpy(m, "BCTL\x01", 5);
	assert_int_equal(ctlp_request_decode(m, 14, &argv, &argc), 0);
	assert_string_equal(argv[0], "a");
	ctlp_argv_free(argv);
	/* trailing byte */
	assert_int_equal(ctlp_request_decode(m, 15, &argv, &argc),
	    BERR_FORMAT);
	/* zero or absurd argument counts */
	put32(m + 5, 0);
	assert_int_equal(ctlp_request_decode(m, 14, &argv, &argc),
	    BERR_LIMIT);
	put32(m + 5, 0xffffffffu);
	assert_int_equal(ctlp_request_decode(m, 14, &argv, &argc),
	    BERR_LIMIT);
	/* a word longer than the rest of the message, or than the limit */
	put32(m + 5, 1);
	put32(m + 9, 1000);
	assert_int_not_equal(ctlp_request_decode(m, 14, &argv, &argc), 0);
	put32(m + 9, 0x7fffffffu);
	assert_int_not_equal(ctlp_request_decode(m, 14, &argv, &argc), 0);
	/* NUL inside a word */
	put32(m + 9, 2);
	m[13] = 'a';
	m[14] = '\0';
	assert_int_equal(ctlp_request_decode(m, 15, &argv, &argc),
	    BERR_FORMAT);
	assert_null(argv);
	assert_int_equal(argc, 0);
}

static void
test_frames_over_a_socket(void **state)
{
	uint8_t *buf = malloc(CTLP_MAX_FRAME);
	uint8_t *big = malloc(CTLP_MAX_FRAME + 10);
	int sv[2], type;
	size_t n;
	uint8_t code = 2;

	(void)state;
	assert_non_null(buf);
	assert_non_null(big);
	memset(big, 'z', CTLP_MAX_FRAME + 10);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (fork() == 0) {
		close(sv[0]);
		(void)ctlp_frame_write(sv[1], CTLP_OUT, "hello\n", 6);
		(void)ctlp_frame_write(sv[1], CTLP_ERR, big,
		    CTLP_MAX_FRAME + 10);
		(void)ctlp_frame_write(sv[1], CTLP_EXIT, &code, 1);
		_exit(0);
	}
	close(sv[1]);
	assert_int_equal(ctlp_frame_read(sv[0], &type, buf, CTLP_MAX_FRAME,
	    &n), 0);
	assert_int_equal(type, CTLP_OUT);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "hello\n", 6);
	/* an oversized payload arrives split in two frames */
	assert_int_equal(ctlp_frame_read(sv[0], &type, buf, CTLP_MAX_FRAME,
	    &n), 0);
	assert_int_equal(type, CTLP_ERR);
	assert_int_equal(n, CTLP_MAX_FRAME);
	assert_int_equal(ctlp_frame_read(sv[0], &type, buf, CTLP_MAX_FRAME,
	    &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(ctlp_frame_read(sv[0], &type, buf, CTLP_MAX_FRAME,
	    &n), 0);
	assert_int_equal(type, CTLP_EXIT);
	assert_int_equal(buf[0], 2);
	/* then a clean end */
	assert_int_equal(ctlp_frame_read(sv[0], &type, buf, CTLP_MAX_FRAME,
	    &n), BERR_CLOSED);
	close(sv[0]);
	free(buf);
	free(big);
}

/* Write raw bytes into a socket and read one frame from the other end. */
static int
read_raw(const uint8_t *raw, size_t len)
{
	uint8_t buf[64];
	int sv[2], type, r;
	size_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], raw, len), (ssize_t)len);
	close(sv[1]);
	r = ctlp_frame_read(sv[0], &type, buf, sizeof(buf), &n);
	close(sv[0]);
	return (r);
}

static void
test_frames_malformed(void **state)
{
	uint8_t f[16];

	(void)state;
	/* unknown type */
	f[0] = 'q';
	put32(f + 1, 1);
	f[5] = 'a';
	assert_int_equal(read_raw(f, 6), BERR_FORMAT);
	/* longer than the reader's buffer or the protocol's limit */
	f[0] = CTLP_OUT;
	put32(f + 1, 65);
	assert_int_equal(read_raw(f, 6), BERR_FORMAT);
	put32(f + 1, 0xffffffffu);
	assert_int_equal(read_raw(f, 6), BERR_FORMAT);
	/* an exit frame must carry exactly one byte */
	f[0] = CTLP_EXIT;
	put32(f + 1, 2);
	assert_int_equal(read_raw(f, 7), BERR_FORMAT);
	/* cut inside the header and inside the payload */
	f[0] = CTLP_OUT;
	put32(f + 1, 4);
	assert_int_equal(read_raw(f, 3), BERR_TRUNC);
	assert_int_equal(read_raw(f, 7), BERR_TRUNC);
	/* nothing at all */
	assert_int_equal(read_raw(f, 0), BERR_CLOSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_request_malformed),
		cmocka_unit_test(test_frames_over_a_socket),
		cmocka_unit_test(test_frames_malformed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
