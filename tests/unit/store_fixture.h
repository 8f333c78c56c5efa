/*
 * store_fixture.h - the cmocka fixture the state store's tests share
 * (test_state.c, test_store.c): a fresh state directory under /tmp with
 * an open store, removed afterwards; with store_wire.h included before
 * it, a check that a request ends its connection. Header-only (static
 * functions), as every tests/unit/test_*.c is its own program.
 */
#ifndef BASTION_STORE_FIXTURE_H
#define BASTION_STORE_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "state.h"

#define FP_A	"SHA256:rs/JS99CVd0bv2PycnWpLd7trwUhDRRmkXCQuLN64Eo"
#define FP_B	"SHA256:WtHV6FIxekNZKylArx4XU3qlEL1AkYKUGekRT0Y+T/Q"

struct fixture {
	char dir[PATH_MAX];
	char db[PATH_MAX + 16];		/* dir/state.db */
	struct state *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, STATE_FILE);
	assert_int_equal(state_open(f->dir, &f->st), 0);
	*state = f;
	return (0);
}

/* Remove a test's directory and all in it. */
static inline void
fixture_rmdir(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	state_close(f->st);
	fixture_rmdir(f->dir);
	free(f);
	return (0);
}

#ifdef BASTION_STORE_WIRE_H
/* Send p to the store actor of dir on a connection of its own: it must
 * answer ERROR BERR_FORMAT and end that connection. */
static inline void
fixture_expect_ended(const char *dir, const void *p, size_t len)
{
	struct store_msg m;
	uint8_t in[STORE_MSG_MAX];
	ssize_t n;
	int fd;

	assert_int_equal(store_client_connect(dir, &fd), 0);
	assert_int_equal(send(fd, p, len, 0), (ssize_t)len);
	n = recv(fd, in, sizeof(in), 0);
	assert_true(n > 0);
	assert_int_equal(store_msg_decode(in, (size_t)n, &m), 0);
	assert_int_equal(m.type, STORE_MSG_ERROR);
	assert_int_equal(m.code, BERR_FORMAT);
	assert_int_equal(recv(fd, in, sizeof(in), 0), 0);	/* ended */
	close(fd);
}
#endif

#endif
