/*
 * test_audfetch.c - verbs/audfetch.c, the copies of other nodes'
 * recordings fetched into STATE_DIR/fetched: a copy nobody holds is swept,
 * one another verb holds (a shared flock on its own open file) is left to
 * it, and the last verb to let go deletes it; nothing but ID.brec names
 * is ever deleted (bastion-ship's part file, other files, links). The
 * fetch itself (bastion-ship against an object store) is driven by
 * tests/e2e/test_cross_recordings.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "audfetch.h"

#define REC_A	"20261208T002000Z-067c298762e350a0"
#define REC_B	"20261208T002100Z-1111222233334444"

struct dirs {
	char state[PATH_MAX], fetched[PATH_MAX];
};

static void
mkfile(const struct dirs *d, const char *name)
{
	char p[PATH_MAX + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", d->fetched, name);
	assert_non_null(f = fopen(p, "w"));
	fputs("recording bytes", f);
	assert_int_equal(fclose(f), 0);
}

static int
there(const struct dirs *d, const char *name)
{
	char p[PATH_MAX + 64];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", d->fetched, name);
	return (lstat(p, &sb) == 0);
}

/* name opened and held with a shared flock, as a verb holds its copy */
static int
hold(const struct dirs *d, const char *name, struct audfetch *h)
{
	audfetch_init(h);
	if ((size_t)snprintf(h->path, sizeof(h->path), "%s/%s", d->fetched,
	    name) >= sizeof(h->path) || (h->fd = open(h->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    flock(h->fd, LOCK_SH) != 0)
		return (-1);
	return (0);
}

static int
setup(void **state)
{
	struct dirs *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return (-1);
	snprintf(d->state, sizeof(d->state), "/tmp/test_audfetch.XXXXXX");
	if (mkdtemp(d->state) == NULL)
		return (-1);
	if ((size_t)snprintf(d->fetched, sizeof(d->fetched), "%s/fetched",
	    d->state) >= sizeof(d->fetched) || mkdir(d->fetched, 0700) != 0)
		return (-1);
	*state = d;
	return (0);
}

static int
teardown(void **state)
{
	struct dirs *d = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->state);
	if (system(cmd) != 0)
		return (-1);
	free(d);
	return (0);
}

static void
test_sweep_takes_only_unheld_copies(void **state)
{
	struct dirs *d = *state;
	struct audfetch h;
	char p[PATH_MAX + 64];

	mkfile(d, REC_A ".brec");		/* left by a killed verb */
	mkfile(d, REC_B ".brec");		/* held by a verb */
	mkfile(d, REC_A ".brec.part");		/* bastion-ship's, fetching */
	mkfile(d, "notes.txt");
	snprintf(p, sizeof(p), "%s/link.brec", d->fetched);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	assert_int_equal(hold(d, REC_B ".brec", &h), 0);

	assert_int_equal(audfetch_sweep(d->state), 1);
	assert_false(there(d, REC_A ".brec"));
	assert_true(there(d, REC_B ".brec"));
	assert_true(there(d, REC_A ".brec.part"));
	assert_true(there(d, "notes.txt"));
	assert_true(there(d, "link.brec"));
	/* let go: the holder was the last, so the copy goes with it */
	audfetch_release(&h);
	assert_int_equal(h.fd, -1);
	assert_false(there(d, REC_B ".brec"));
	/* nothing left to sweep; a state directory without fetched/ */
	assert_int_equal(audfetch_sweep(d->state), 0);
	assert_int_equal(audfetch_sweep("/nonexistent/state"), 0);
}

static void
test_last_to_let_go_deletes(void **state)
{
	struct dirs *d = *state;
	struct audfetch one, two, none;

	mkfile(d, REC_A ".brec");
	assert_int_equal(hold(d, REC_A ".brec", &one), 0);
	assert_int_equal(hold(d, REC_A ".brec", &two), 0);
	audfetch_release(&one);
	assert_true(there(d, REC_A ".brec"));	/* two still reads it */
	assert_int_equal(audfetch_sweep(d->state), 0);
	audfetch_release(&two);
	assert_false(there(d, REC_A ".brec"));
	/* a local recording holds nothing: letting go is a no-op */
	audfetch_init(&none);
	audfetch_release(&none);
	assert_int_equal(none.fd, -1);
}

static void
test_replaced_copy_is_not_deleted(void **state)
{
	struct dirs *d = *state;
	struct audfetch h;
	char p[PATH_MAX + 64];

	/* the held copy deleted and fetched anew meanwhile: letting go of
	 * the old one leaves the new one, which another verb may hold */
	mkfile(d, REC_A ".brec");
	assert_int_equal(hold(d, REC_A ".brec", &h), 0);
	snprintf(p, sizeof(p), "%s/%s.brec", d->fetched, REC_A);
	assert_int_equal(unlink(p), 0);
	mkfile(d, REC_A ".brec");
	audfetch_release(&h);
	assert_true(there(d, REC_A ".brec"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_sweep_takes_only_unheld_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_to_let_go_deletes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_replaced_copy_is_not_deleted, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
