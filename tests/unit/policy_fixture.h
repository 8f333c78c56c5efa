/*
 * policy_fixture.h - for the unit tests of one policy section: the shipped
 * example policy (policies/example.yaml, loaded from the repository root
 * as make check-unit runs) with a section appended, loaded by the real
 * loader. Included by one test file each (a static function).
 */
#ifndef BASTION_TEST_POLICY_FIXTURE_H
#define BASTION_TEST_POLICY_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "policy.h"

#define POLICY_FIXTURE_EXAMPLE	"policies/example.yaml"

/* The loader's problems ("" when none; the caller frees) for the example
 * policy with extra appended; *p the policy (NULL when refused). */
static char *
load_with(const char *extra, struct policy **p, size_t *nerrs)
{
	char path[] = "/tmp/test_policy_sec.XXXXXX", buf[65536], *text = NULL;
	size_t len = 0, tl = 0;
	FILE *f;
	int fd, in;

	assert_true((in = open(POLICY_FIXTURE_EXAMPLE, O_RDONLY)) >= 0);
	assert_int_equal(io_read_upto(in, buf, sizeof(buf) - 1, &len), 0);
	close(in);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(io_write_all(fd, buf, len), 0);
	assert_int_equal(io_write_all(fd, extra, strlen(extra)), 0);
	close(fd);
	assert_non_null(f = open_memstream(&text, &tl));
	*p = NULL;
	(void)policy_load(path, f, nerrs, p);
	fclose(f);
	unlink(path);
	return (text);
}

#endif
