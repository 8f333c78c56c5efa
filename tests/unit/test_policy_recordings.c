/*
 * test_policy_recordings.c - the policy's "recordings:" section
 * (policy/policy_recordings.c): recipients that are age keys load, a
 * mistyped one is a problem on its own line with the advice to use
 * age-keygen -y, server_unlock defaults to forbid, allow needs a server
 * identity and recipients, and unknown keys are named; store: s3
 * (bastion-ship's) loads with its defaults and refuses plain http off
 * loopback, bad bucket names and prefixes, and half-written sections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "policy_fixture.h"

#define AUD	"age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg"
#define ESC	"age1yhm4gctwfmrpz87tdslm550wrx6m79y9f2hdzt0lndjnehwj0ukqrjpyx5"

static void
test_recipients_load(void **unused)
{
	struct policy *p;
	size_t nerrs = 99;
	char *text;

	(void)unused;
	text = load_with("recordings:\n  recipients:\n    - " AUD "\n    - "
	    ESC "\n", &p, &nerrs);
	assert_int_equal(nerrs, 0);
	assert_string_equal(text, "");
	assert_int_equal(p->nrec_recipients, 2);
	assert_string_equal(p->rec_recipients[1], ESC);
	assert_int_equal(p->rec_server_unlock, 0);	/* forbid */
	assert_null(p->rec_server_identity);
	policy_free(p);
	free(text);
	/* no section: format 1, nothing to unlock */
	text = load_with("", &p, &nerrs);
	assert_int_equal(nerrs, 0);
	assert_int_equal(p->nrec_recipients, 0);
	policy_free(p);
	free(text);
}

/* Each broken section and what its problems must say. */
static const struct {
	const char *yaml;
	const char *says[4];
} broken[] = {
	/* one letter added: the checksum catches it; a secret key is no
	 * recipient; allow without an identity; an unknown key */
	{ "recordings:\n  recipients: [" AUD "x, \"AGE-SECRET-KEY-1QQ\"]\n"
	    "  server_unlock: allow\n  colour: red\n",
	    { "is not an age public key", "age-keygen -y",
	    "server_unlock: allow needs server_identity", "colour" } },
	{ "recordings:\n  server_unlock: maybe\n", { "write forbid" } },
	{ "recordings:\n  server_unlock: allow\n  server_identity: /etc/k\n",
	    { "without recipients" } },
	{ "recordings:\n  recipients: []\n", { "recipients" } },
	/* store: s3 (policy_recstore.c): plain http off loopback, a bucket
	 * S3 would refuse, a prefix that climbs, no credentials; keys of the
	 * store without store:; another kind of store */
	{ "recordings:\n  store: s3\n  s3:\n    endpoint: "
	    "http://s3.example:9000\n    bucket: Bad_Bucket\n"
	    "    prefix: a/../b\n",
	    { "endpoint", "Bad_Bucket", "a/../b", "credentials_file" } },
	{ "recordings:\n  keep_local: 1d\n  s3: {bucket: b}\n",
	    { "keep_local without store", "s3 without store" } },
	{ "recordings:\n  store: nfs\n", { "write s3" } },
	{ "recordings:\n  store: s3\n", { "s3: {endpoint" } },
	{ "recordings:\n  store: s3\n  s3: {endpoint: \"https://s3\", "
	    "bucket: bkt, credentials_file: /c, colour: red}\n"
	    "  keep_local: 0\n", { "colour", "keep_local" } },
};

static void
test_problems(void **unused)
{
	struct policy *p;
	size_t nerrs = 0, i, j;
	char *text;

	(void)unused;
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		text = load_with(broken[i].yaml, &p, &nerrs);
		assert_null(p);
		assert_true(nerrs >= 1);
		for (j = 0; j < 4 && broken[i].says[j] != NULL; j++)
			if (strstr(text, broken[i].says[j]) == NULL)
				fail_msg("case %zu: no \"%s\" in:\n%s", i,
				    broken[i].says[j], text);
		free(text);
	}
	/* and the whole section right */
	text = load_with("recordings:\n  recipients: [" AUD "]\n"
	    "  server_unlock: allow\n  server_identity: /etc/k\n", &p, &nerrs);
	assert_int_equal(nerrs, 0);
	assert_int_equal(p->rec_server_unlock, 1);
	assert_string_equal(p->rec_server_identity, "/etc/k");
	policy_free(p);
	free(text);
}

/* store: s3 loads with its defaults; loopback http is allowed */
static void
test_store_s3(void **unused)
{
	struct policy *p;
	size_t nerrs = 99;
	char *text;

	(void)unused;
	text = load_with("recordings:\n  store: s3\n  s3:\n    endpoint: "
	    "https://s3.hospital.example\n    bucket: bastion-rec\n"
	    "    prefix: site-a/bastion\n    credentials_file: /etc/s3.cred\n"
	    "  keep_local: 7d\n", &p, &nerrs);
	assert_int_equal(nerrs, 0);
	assert_string_equal(text, "");
	assert_int_equal(p->recstore.s3, 1);
	assert_string_equal(p->recstore.endpoint,
	    "https://s3.hospital.example");
	assert_string_equal(p->recstore.bucket, "bastion-rec");
	assert_string_equal(p->recstore.region, "us-east-1");
	assert_string_equal(p->recstore.prefix, "site-a/bastion");
	assert_string_equal(p->recstore.credentials_file, "/etc/s3.cred");
	assert_null(p->recstore.ledger_dir);
	assert_int_equal(p->recstore.interval, 30);
	assert_int_equal(p->recstore.retry, 30);
	assert_int_equal(p->recstore.keep_local_set, 1);
	assert_int_equal(p->recstore.keep_local, 7 * 86400);
	policy_free(p);
	free(text);
	text = load_with("recordings:\n  store: s3\n  s3: {endpoint: "
	    "\"http://127.0.0.1:9000\", bucket: b-1, credentials_file: /c}\n",
	    &p, &nerrs);
	assert_int_equal(nerrs, 0);
	assert_int_equal(p->recstore.keep_local_set, 0);
	assert_null(p->recstore.prefix);
	policy_free(p);
	free(text);
	/* without the section: nothing is shipped */
	text = load_with("", &p, &nerrs);
	assert_int_equal(p->recstore.s3, 0);
	policy_free(p);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipients_load),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_store_s3),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
