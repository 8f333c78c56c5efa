/*
 * test_decl.c - file declarations in the state store (store/store_decl.c,
 * state.h "file declarations"; issue 18, item 6): a session's first file
 * opens its declaration, files come back in order with their size and
 * hash; only the engineer who moved them may answer; personal=no and
 * erased=yes close it, erased=pending and erased=no keep it open; a
 * closed one is not answered twice; a file moved after the answer opens
 * it again; bad answers and bad files are refused. On SQLite or, under
 * make check-unit-pg, PostgreSQL; the same operations through the store
 * actor are compared with these in test_store_client.c ("file
 * declarations").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "state.h"

#include "store_fixture.h"

static void
file(struct state *st, int64_t sid, const char *who, const char *dir,
    const char *path, int64_t size, time_t at, int want)
{
	struct state_decl_file f;

	memset(&f, 0, sizeof(f));
	f.session = sid;
	snprintf(f.engineer, sizeof(f.engineer), "%s", who);
	snprintf(f.vendor, sizeof(f.vendor), "acme");
	snprintf(f.device, sizeof(f.device), "pacs");
	snprintf(f.direction, sizeof(f.direction), "%s", dir);
	snprintf(f.path, sizeof(f.path), "%s", path);
	f.size = size;
	snprintf(f.sha256, sizeof(f.sha256), "%064d", (int)size);
	f.at = at;
	assert_int_equal(state_decl_file_add(st, &f), want);
}

struct seen {
	struct state_decl d[8];
	size_t n;
};

static int
keep(const struct state_decl *d, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->d[s->n] = *d;
	s->n++;
	return (0);
}

static struct seen
list(struct state *st, const char *who, int64_t sid, int open_only)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(state_decl_each(st, who, sid, open_only, keep, &s),
	    0);
	return (s);
}

/* Two sessions of gina, one of dave; answers in every shape. */
static void
scenario(struct state *st)
{
	struct state_decl d;
	struct seen s;

	file(st, 17, "gina", "in", "/srv/fw.img", 300000, 1000, 0);
	file(st, 17, "gina", "out", "logs/a b.txt", 12, 1010, 0);
	file(st, 18, "gina", "out", "/var/log/x", 5, 2000, 0);
	file(st, 19, "dave", "in", "/tmp/y", 7, 3000, 0);

	s = list(st, "gina", 0, 1);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.d[0].session, 17);
	assert_string_equal(s.d[0].status, "open");
	assert_int_equal(s.d[0].opened, 1000);
	assert_int_equal(s.d[0].nfiles, 2);
	assert_int_equal(s.d[0].bytes, 300012);
	assert_string_equal(s.d[0].files, "in /srv/fw.img 300000 "
	    "0000000000000000\nout logs/a b.txt 12 0000000000000000");
	assert_string_equal(s.d[0].personal, "");
	assert_int_equal(list(st, NULL, 0, 1).n, 3);
	assert_int_equal(list(st, NULL, 19, 1).n, 1);

	/* not hers, none such, a bad answer */
	assert_int_equal(state_decl_answer(st, 19, "gina", "no", NULL,
	    "declare", 4000, &d), BERR_DENIED);
	assert_string_equal(d.engineer, "");	/* nothing of dave's */
	assert_int_equal(state_decl_answer(st, 99, "gina", "no", NULL,
	    "declare", 4000, &d), BERR_NOTFOUND);
	assert_int_equal(state_decl_answer(st, 17, "gina", "maybe", NULL,
	    "declare", 4000, &d), BERR_INVAL);
	assert_int_equal(state_decl_answer(st, 17, "gina", "yes", NULL,
	    "declare", 4000, &d), BERR_INVAL);
	assert_int_equal(state_decl_answer(st, 17, "gina", "no", "yes",
	    "declare", 4000, &d), BERR_INVAL);

	/* pending stays open, with the answer noted; yes closes */
	assert_int_equal(state_decl_answer(st, 17, "gina", "yes", "pending",
	    "work_record", 4000, &d), 0);
	assert_string_equal(d.status, "open");
	assert_string_equal(d.erased, "pending");
	assert_string_equal(d.via, "work_record");
	assert_int_equal(d.answered, 4000);
	assert_int_equal(list(st, "gina", 0, 1).n, 2);
	assert_int_equal(state_decl_answer(st, 17, "gina", "yes", "no",
	    "declare", 4100, &d), 0);
	assert_string_equal(d.status, "open");
	assert_int_equal(state_decl_answer(st, 17, "gina", "yes", "yes",
	    "declare", 4200, &d), 0);
	assert_string_equal(d.status, "closed");
	assert_int_equal(d.nfiles, 2);
	assert_int_equal(state_decl_answer(st, 17, "gina", "no", NULL,
	    "declare", 4300, &d), BERR_EXISTS);
	assert_int_equal(state_decl_answer(st, 18, "gina", "no", "",
	    "declare", 4300, NULL), 0);
	assert_int_equal(list(st, "gina", 0, 1).n, 0);
	s = list(st, "gina", 0, 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.d[1].personal, "no");
	assert_string_equal(s.d[1].status, "closed");

	/* a file after the answer: open again, the answer cleared */
	file(st, 18, "gina", "in", "/srv/late", 1, 5000, 0);
	s = list(st, "gina", 18, 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.d[0].personal, "");
	assert_int_equal(s.d[0].nfiles, 2);
	assert_int_equal(s.d[0].opened, 2000);

	/* files the store refuses */
	file(st, 20, "gina", "sideways", "/x", 1, 6000, BERR_INVAL);
	file(st, 0, "gina", "in", "/x", 1, 6000, BERR_INVAL);
	file(st, 20, "", "in", "/x", 1, 6000, BERR_INVAL);
	file(st, 20, "gina", "in", "/x", -1, 6000, BERR_INVAL);
	assert_int_equal(list(st, NULL, 20, 0).n, 0);
}

static void
test_declarations_on_the_store(void **state)
{
	struct fixture *f = *state;

	scenario(f->st);
}

/* Each line of the many files': whole, the next in order. */
static void
whole_line(const char *line, size_t len, void *arg)
{
	int64_t *k = arg;
	char want[64];

	snprintf(want, sizeof(want), "%s /srv/data/file-%04d.bin 10 "
	    "0000000000000000", *k % 2 ? "out" : "in", (int)*k);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	(*k)++;
}

/* Many files: the lines are cut at the member, the count and bytes are
 * whole. */
static void
test_many_files_are_counted_whole(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	char p[64];
	int64_t lines, n;
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "/srv/data/file-%04d.bin", i);
		file(f->st, 42, "gina", i % 2 ? "out" : "in", p, 10, 100 +
		    i, 0);
	}
	s = list(f->st, "gina", 42, 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.d[0].nfiles, 200);
	assert_int_equal(s.d[0].bytes, 2000);
	assert_int_equal(strlen(s.d[0].files), STATE_DECL_FILES_MAX - 1);
	assert_memory_equal(s.d[0].files, "in /srv/data/file-0000.bin 10 ",
	    30);
	/* the lines as shown: whole ones only, in order */
	lines = 0;
	n = state_decl_lines(&s.d[0], whole_line, &lines);
	assert_int_equal(n, lines);
	assert_true(n > 10 && n < 200);
	/* 2047 bytes: 21 pairs of lines of 47 and 48 bytes (with their
	 * newlines) and one more "in" line; the next one is cut */
	assert_int_equal(n, 43);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_declarations_on_the_store,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_many_files_are_counted_whole, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
