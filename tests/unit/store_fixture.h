/*
 * store_fixture.h - the cmocka fixture the state store's tests share
 * (test_state.c, test_store.c): a fresh state directory under /tmp with
 * an open store, removed afterwards. Header-only (static functions), as
 * every tests/unit/test_*.c is its own program.
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

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	state_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return (0);
}

#endif
