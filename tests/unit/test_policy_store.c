/*
 * test_policy_store.c - the policy's "store:" section (policy/
 * policy_store.c, docs/SCALE-OUT.md): without it SQLite in state_dir and
 * the node named after the host; backend postgresql with a libpq
 * connection string and a password file; node: a name of the node's own
 * (letters, digits, dots, dashes, underscores); health: the readiness
 * port for a load balancer, a literal address and a port; nodes: the
 * other nodes' audit keys, pinned (Ed25519 public keys' base64 DER).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "policy_fixture.h"

/* Without store: SQLite; the node is the host name's first label. */
static void
test_store_defaults(void **unused)
{
	struct policy *p;
	size_t nerrs = 99;
	char *text;

	(void)unused;
	text = load_with("", &p, &nerrs);
	assert_int_equal(nerrs, 0);
	assert_false(p->store_postgresql);
	assert_null(p->store_conninfo);
	assert_non_null(p->store_node);
	assert_true(strlen(p->store_node) > 0 &&
	    strchr(p->store_node, '.') == NULL);
	assert_null(p->store_health.host);
	/* the audit checkpoints and the lost mark: 5 min, 1 min */
	assert_int_equal(p->store_checkpoint_s, 300);
	assert_int_equal(p->store_lost_after_s, 60);
	policy_free(p);
	free(text);
}

/* checkpoint_interval and lost_after, also without PostgreSQL */
static void
test_store_intervals(void **unused)
{
	struct policy *p;
	size_t nerrs = 99;
	char *text;

	(void)unused;
	text = load_with("store:\n  checkpoint_interval: 2s\n", &p, &nerrs);
	assert_string_equal(text, "");
	assert_int_equal(p->store_checkpoint_s, 2);
	assert_int_equal(p->store_lost_after_s, 60);
	policy_free(p);
	free(text);
	text = load_with("store:\n  node: a\n  lost_after: 90\n  "
	    "checkpoint_interval: 1h\n", &p, &nerrs);
	assert_string_equal(text, "");
	assert_int_equal(p->store_checkpoint_s, 3600);
	assert_int_equal(p->store_lost_after_s, 90);
	policy_free(p);
	free(text);
}

static void
test_store_postgresql(void **unused)
{
	struct policy *p;
	size_t nerrs = 99;
	char *text;
	const char *pass;

	(void)unused;
	text = load_with("store:\n  backend: postgresql\n  conninfo: "
	    "\"host=/run/postgresql dbname=bastion user=bastion\"\n"
	    "  password_file: pg.pass\n  node: bastion-a\n"
	    "  health: \"[::1]:8022\"\n", &p, &nerrs);
	assert_string_equal(text, "");
	assert_true(p->store_postgresql);
	assert_string_equal(p->store_conninfo, "host=/run/postgresql "
	    "dbname=bastion user=bastion");
	/* relative to the policy's directory */
	pass = p->store_password_file;
	assert_true(pass[0] == '/' && strlen(pass) > 8 &&
	    strcmp(pass + strlen(pass) - 8, "/pg.pass") == 0);
	assert_string_equal(p->store_node, "bastion-a");
	assert_string_equal(p->store_health.host, "::1");
	assert_int_equal(p->store_health.port, 8022);
	policy_free(p);
	free(text);
	/* a node name and a health port do not need PostgreSQL */
	text = load_with("store:\n  node: site_2.b\n  health: "
	    "127.0.0.1:8022\n", &p, &nerrs);
	assert_string_equal(text, "");
	assert_false(p->store_postgresql);
	assert_string_equal(p->store_node, "site_2.b");
	assert_string_equal(p->store_health.host, "127.0.0.1");
	policy_free(p);
	free(text);
}

/* An Ed25519 public key's base64 line (audit.key.pub), and an X25519
 * one's, which is none. */
#define ED_KEY "MCowBQYDK2VwAyEAdOocGzmR7cuqxQDCOJ+oOTbNtJzX8WX9UyAWLlDM/rA="
#define X_KEY "MCowBQYDK2VuAyEAL7Vbj0oKSqzqMO/Cmtr5VhmpvwDwqarV+t0iR/hTkEw="

static void
test_store_nodes(void **unused)
{
	struct policy *p;
	size_t nerrs = 99;
	char *text;

	(void)unused;
	text = load_with("store:\n  node: bastion-a\n  nodes:\n"
	    "    bastion-b: \"" ED_KEY "\"\n    c.site: \"" ED_KEY "\"\n", &p,
	    &nerrs);
	assert_string_equal(text, "");
	assert_int_equal(p->nstore_nodes, 2);
	assert_string_equal(policy_node_key(p, "bastion-b"), ED_KEY);
	assert_string_equal(policy_node_key(p, "c.site"), ED_KEY);
	assert_null(policy_node_key(p, "bastion-a"));
	assert_null(policy_node_key(p, "bastion-"));
	policy_free(p);
	free(text);
	/* none pinned: every node's requests refused */
	text = load_with("store:\n  node: a\n", &p, &nerrs);
	assert_null(policy_node_key(p, "b"));
	policy_free(p);
	free(text);
}

/* Each broken section and what its problem must say. */
static const struct {
	const char *yaml;
	const char *says;
} broken[] = {
	{ "store:\n  node: \"a b/c\"\n", "is not a node name" },
	{ "store:\n  node: -a\n", "is not a node name" },
	{ "store:\n  node: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaa\n", "1 to 63 letters" },
	{ "store:\n  health: localhost:8022\n", "is not a literal IP" },
	{ "store:\n  health: \"127.0.0.1\"\n", "is not ADDRESS:PORT" },
	{ "store:\n  health: \"127.0.0.1:0\"\n", "is not ADDRESS:PORT" },
	{ "store:\n  conninfo: \"dbname=x\"\n", "has no \"backend\"" },
	{ "store:\n  node: a\n  conninfo: \"dbname=x\"\n",
	    "are for backend: postgresql" },
	{ "store:\n  backend: postgresql\n  conninfo: \"dbname=x "
	    "password=s\"\n", "holds a password" },
	{ "store:\n  bogus: 1\n", "bogus" },
	{ "store:\n  checkpoint_interval: 0\n", "out of range" },
	{ "store:\n  checkpoint_interval: soon\n", "not a duration" },
	{ "store:\n  lost_after: 31d\n", "out of range" },
	{ "store:\n  nodes: [a]\n", "write a map of node names" },
	{ "store:\n  nodes:\n    \"a b\": \"" ED_KEY "\"\n",
	    "is not a node name" },
	{ "store:\n  nodes:\n    b: \"" X_KEY "\"\n",
	    "b: not an Ed25519 public key" },
	{ "store:\n  nodes:\n    b: \"MCowBQYDK2VwAyEA\"\n",
	    "b: not an Ed25519 public key" },
	{ "store:\n  nodes:\n    b: \"not base64!\"\n",
	    "audit.key.pub" },
	{ "store:\n  nodes:\n    b: [1]\n", "not an Ed25519" },
	{ "store:\n  nodes:\n    b: \"" ED_KEY "\"\n    b: \"" ED_KEY
	    "\"\n", "" },
};

static void
test_store_broken(void **unused)
{
	struct policy *p;
	size_t i, nerrs;
	char *text;

	(void)unused;
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		nerrs = 0;
		text = load_with(broken[i].yaml, &p, &nerrs);
		if (nerrs == 0 || strstr(text, broken[i].says) == NULL)
			fail_msg("%s: want \"%s\", got:\n%s", broken[i].yaml,
			    broken[i].says, text);
		policy_free(p);
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_defaults),
		cmocka_unit_test(test_store_intervals),
		cmocka_unit_test(test_store_postgresql),
		cmocka_unit_test(test_store_nodes),
		cmocka_unit_test(test_store_broken),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
