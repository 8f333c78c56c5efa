/*
 * test_policy_files.c - files: on vendors and devices (policy/
 * policy_files.c, docs/FILES.md): the defaults without a block, a device
 * inheriting its vendor's block whole or replacing it, sizes with their
 * suffixes, and every wrong value named with its line and its fix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3wCgcu+mpwgo7RLeol8+Kl" \
	"rmeOfFcuiV+orq+wIpNw"

/* A site with vendor v1 (VENDOR_FILES) and devices d1 (no block) and d2
 * (DEVICE_FILES), and vendor v2 with d3 and no block anywhere. */
#define SITE(VENDOR_FILES, DEVICE_FILES)                                   \
	"version: 1\n"                                                     \
	"listen: [\"127.0.0.1:22\"]\n"                                     \
	"paths: {host_keys: [hk], state_dir: st, recordings_dir: rec, "    \
	"run_dir: run}\n"                                                  \
	"vendors:\n"                                                       \
	"  - name: v1\n"                                                   \
	"    segments: [10.1.0.0/16]\n"                                    \
	"    sources: [0.0.0.0/0]\n"                                       \
	VENDOR_FILES                                                       \
	"  - name: v2\n"                                                   \
	"    segments: [10.2.0.0/16]\n"                                    \
	"    sources: [0.0.0.0/0]\n"                                       \
	"devices:\n"                                                       \
	"  - {name: d1, vendor: v1, address: 10.1.0.1, login: root, "      \
	"credential: c, host_key: \"" ED25519 "\"}\n"                      \
	"  - name: d2\n"                                                   \
	"    vendor: v1\n"                                                 \
	"    address: 10.1.0.2\n"                                          \
	"    login: root\n"                                                \
	"    credential: c\n"                                              \
	"    host_key: \"" ED25519 "\"\n"                                  \
	DEVICE_FILES                                                       \
	"  - {name: d3, vendor: v2, address: 10.2.0.1, login: root, "      \
	"credential: c, host_key: \"" ED25519 "\"}\n"

/* Load text; the problems into *errs (the caller frees). */
static struct policy *
load(const char *text, char **errs)
{
	char dir[] = "/tmp/test_policy_files.XXXXXX", path[64];
	struct policy *p = NULL;
	size_t len = 0;
	FILE *f, *e;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(e = open_memstream(errs, &len));
	(void)policy_load(path, e, NULL, &p);
	fclose(e);
	unlink(path);
	rmdir(dir);
	return (p);
}

static const struct policy_device *
dev(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ndevices; i++)
		if (strcmp(p->devices[i].name, name) == 0)
			return (&p->devices[i]);
	fail_msg("no device %s", name);
	return (NULL);
}

static void
test_inherit_replace_and_defaults(void **state)
{
	struct policy *p;
	const struct policy_files *f;
	char *errs = NULL;

	(void)state;
	p = load(SITE("    files: {directions: in, max_file_size: 10M, "
	    "max_session_bytes: 1G}\n", "    files:\n      directions: out\n"
	    "      max_file_size: 512K\n      legacy_scp: opaque\n"), &errs);
	if (p == NULL)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	f = &dev(p, "d1")->files;	/* its vendor's, whole */
	assert_true(f->set);
	assert_int_equal(f->directions, POLICY_FILES_IN);
	assert_int_equal(f->max_file_size, 10ULL << 20);
	assert_int_equal(f->max_session_bytes, 1ULL << 30);
	assert_int_equal(f->legacy_scp, POLICY_SCP_PARSE);	/* default */
	f = &dev(p, "d2")->files;	/* its own, whole: no size of v1's */
	assert_int_equal(f->directions, POLICY_FILES_OUT);
	assert_int_equal(f->max_file_size, 512ULL << 10);
	assert_int_equal(f->max_session_bytes, 0);
	assert_int_equal(f->legacy_scp, POLICY_SCP_OPAQUE);
	f = &dev(p, "d3")->files;	/* none anywhere */
	assert_false(f->set);
	policy_free(p);

	/* legacy_scp: parse (the default, spelled out) and refuse */
	p = load(SITE("    files: {legacy_scp: parse}\n",
	    "    files: {legacy_scp: refuse}\n"), &errs);
	if (p == NULL)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	assert_int_equal(dev(p, "d1")->files.legacy_scp, POLICY_SCP_PARSE);
	assert_int_equal(dev(p, "d2")->files.legacy_scp, POLICY_SCP_REFUSE);
	policy_free(p);

	p = load(SITE("    files: {directions: none, max_file_size: "
	    "1000, max_session_bytes: 2GiB}\n", ""), &errs);
	if (p == NULL)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	assert_int_equal(dev(p, "d2")->files.directions, 0);
	assert_int_equal(dev(p, "d2")->files.max_file_size, 1000);
	assert_int_equal(dev(p, "d2")->files.max_session_bytes, 2ULL << 30);
	assert_false(dev(p, "d2")->files.scan);
	policy_free(p);

	/* the airlock: Debian's socket unless named */
	p = load(SITE("    files: {scan: clamd}\n", "    files: {scan: "
	    "clamd, clamd_socket: /tmp/c/clamd.sock, types: [text/plain, "
	    "application/x-gzip]}\n"), &errs);
	if (p == NULL)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	assert_true(dev(p, "d1")->files.scan);
	assert_string_equal(dev(p, "d1")->files.clamd_socket,
	    POLICY_CLAMD_SOCKET);
	assert_true(dev(p, "d2")->files.scan);
	assert_string_equal(dev(p, "d2")->files.clamd_socket,
	    "/tmp/c/clamd.sock");
	assert_int_equal(dev(p, "d1")->files.ntypes, 0);
	assert_int_equal(dev(p, "d2")->files.ntypes, 2);
	assert_string_equal(dev(p, "d2")->files.types[1],
	    "application/x-gzip");
	assert_false(dev(p, "d2")->files.approve_out);
	policy_free(p);

	/* export approval: approve: out (none is the default) */
	p = load(SITE("    files: {approve: out, max_file_size: 1G}\n",
	    "    files: {approve: none}\n"), &errs);
	if (p == NULL)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	assert_true(dev(p, "d1")->files.approve_out);
	assert_false(dev(p, "d2")->files.approve_out);
	policy_free(p);
}

static void
test_wrong_values_named(void **state)
{
	static const struct {
		const char *block, *want;
	} bad[] = {
		{ "    files: {directions: upload}\n",
		    "policy.yaml:8: vendor \"v1\" files: directions is \"upload\" "
		    "\xe2\x80\x94 write in (to the device), out (from it), both "
		    "or none" },
		{ "    files: {max_file_size: 10MB}\n", "max_file_size is "
		    "\"10MB\", not a size of 1 byte to 1 PiB" },
		{ "    files: {max_file_size: 0}\n", "not a size" },
		{ "    files: {max_session_bytes: 2000T}\n", "not a size" },
		{ "    files: {max_file_size: 010}\n", "not a size" },
		{ "    files: {legacy_scp: allow}\n", "legacy_scp is "
		    "\"allow\"" },
		{ "    files: {directons: in}\n", "directons" },
		{ "    files: {scan: clamav}\n", "scan is \"clamav\" "
		    "\xe2\x80\x94 write clamd" },
		{ "    files: {scan: clamd, clamd_socket: run/c.sock}\n",
		    "clamd_socket is \"run/c.sock\"" },
		{ "    files: {scan: clamd, types: [pdf]}\n", "types: \"pdf\" "
		    "is not a MIME type" },
		{ "    files: {scan: clamd, types: [Text/Plain]}\n",
		    "not a MIME type" },
		{ "    files: {scan: clamd, types: []}\n", "empty list" },
		{ "    files: {types: [text/plain]}\n", "types without scan: "
		    "clamd" },
		{ "    files: {scan: clamd, legacy_scp: opaque}\n",
		    "scp -O would carry files past the airlock unscanned" },
		{ "    files: {scan: clamd, directions: out}\n",
		    "scan: clamd with directions that bring no file in" },
		{ "    files: both\n", "files" },
		{ "    files: {approve: sometimes}\n", "approve is "
		    "\"sometimes\" \xe2\x80\x94 write out" },
		{ "    files: {approve: out, directions: in}\n",
		    "approve: out with directions that let no file out" },
		{ "    files: {approve: out, legacy_scp: opaque}\n",
		    "scp -O would carry files out without approval" },
	};
	struct policy *p;
	char *errs = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char site[4096];

		snprintf(site, sizeof(site), SITE("%s", ""), bad[i].block);
		p = load(site, &errs);
		if (p != NULL || strstr(errs, bad[i].want) == NULL)
			fail_msg("%s: want \"%s\" in:\n%s", bad[i].block,
			    bad[i].want, errs);
		free(errs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inherit_replace_and_defaults),
		cmocka_unit_test(test_wrong_values_named),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
