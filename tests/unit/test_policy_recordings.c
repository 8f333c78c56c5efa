/*
 * test_policy_recordings.c - the policy's "recordings:" section
 * (policy/policy_recordings.c): recipients that are age keys load, a
 * mistyped one is a problem on its own line with the advice to use
 * age-keygen -y, server_unlock defaults to forbid, allow needs a server
 * identity and recipients, and unknown keys are named.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipients_load),
		cmocka_unit_test(test_problems),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
