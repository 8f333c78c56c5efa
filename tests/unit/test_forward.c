/*
 * test_forward.c - the forward bookkeeping of the relay (bastion/
 * relay_fwd.c), through libbastiond.a: which destinations a session may
 * forward to and the reason each refusal gives (the child's check, which
 * the monitor applies again: another vendor's device, an unlisted port,
 * an alternate spelling of an address, another device than the
 * connection's, a device that needs approval, a transfer window), the
 * relay's own limit on forwards open and asked for, and the list of
 * forwards waiting for the monitor's connection (ids, answers matched by
 * id, an answer nobody asked for).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay.h"

/*
 * A small site: vendor acme (segment 127.0.1.0/24) owns ct-scanner
 * (127.0.1.10, forward ports 104 and 8080) and mri (127.0.1.11, needs
 * approval); vendor globex owns pacs (127.0.2.10, port 8080).
 */
static struct netaddr_cidr seg_acme, seg_globex;
static struct policy_vendor vendors[2];
static struct policy_person alice;
static struct policy_device devs[3];
static uint16_t ports_ct[] = { 104, 8080 }, ports_pacs[] = { 8080 };
static struct policy pol;
static struct sess S;
static struct relay R;

static void
device(struct policy_device *d, const char *name, const char *addr,
    struct policy_vendor *v, uint16_t *ports, size_t nports)
{
	d->name = (char *)name;
	d->address = (char *)addr;
	assert_int_equal(netaddr_parse(addr, &d->addr), 0);
	d->vendor = v;
	d->forward_ports = ports;
	d->nforward_ports = nports;
}

static int
setup(void **state)
{
	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(vendors, 0, sizeof(vendors));
	memset(devs, 0, sizeof(devs));
	memset(&S, 0, sizeof(S));
	memset(&R, 0, sizeof(R));
	assert_int_equal(netaddr_cidr_parse("127.0.1.0/24", &seg_acme), 0);
	assert_int_equal(netaddr_cidr_parse("127.0.2.0/24", &seg_globex), 0);
	vendors[0].name = "acme";
	vendors[0].segments = &seg_acme;
	vendors[0].nsegments = 1;
	vendors[1].name = "globex";
	vendors[1].segments = &seg_globex;
	vendors[1].nsegments = 1;
	device(&devs[0], "ct-scanner", "127.0.1.10", &vendors[0], ports_ct, 2);
	device(&devs[1], "mri", "127.0.1.11", &vendors[0], ports_ct, 2);
	devs[1].approval.set = 1;
	devs[1].approval.required = 1;
	device(&devs[2], "pacs", "127.0.2.10", &vendors[1], ports_pacs, 1);
	pol.vendors = vendors;
	pol.nvendors = 2;
	pol.devices = devs;
	pol.ndevices = 3;
	memset(&alice, 0, sizeof(alice));
	alice.name = "alice";
	alice.vendor = &vendors[0];
	S.pol = &pol;
	S.au.who = &alice;
	S.au.role = ROLE_ENGINEER;
	S.R = &R;
	R.S = &S;
	return (0);
}

static const char *
check(const char *host, int port)
{
	const struct policy_device *d = (const void *)1;
	char need[256];
	const char *why;

	why = relay_forward_refusal(&S, host, port, &d, need, sizeof(need));
	if (why != NULL)
		assert_null(d);
	else
		assert_non_null(d);
	return (why);
}

static void
test_listed_port_of_own_device(void **state)
{
	const struct policy_device *d;
	char need[256];

	(void)state;
	assert_null(relay_forward_check(&S, "ct-scanner", 104, &d, need,
	    sizeof(need)));
	assert_ptr_equal(d, &devs[0]);
	assert_null(check("ct-scanner", 8080));
	/* the exact address as written in the policy */
	assert_null(check("127.0.1.10", 104));
}

static void
test_refusal_reasons(void **state)
{
	static const struct {
		const char *host;
		int port;
		const char *why;
	} t[] = {
		{ "ct-scanner", 22,
		    "port not listed for forwarding on this device" },
		{ "pacs", 8080, "not one of your vendor's devices" },
		{ "127.0.2.10", 8080, "not an address of your vendor's devices" },
		{ "127.1.10", 104,
		    "name the device (or its exact address as in the policy)" },
		{ "::ffff:127.0.1.10", 104,
		    "not an address of your vendor's devices" },
		{ "nowhere.example", 104,
		    "name the device (or its exact address as in the policy)" },
		{ "ct-scanner", 0, "bad destination" },
		{ "ct-scanner", 65536, "bad destination" },
		{ NULL, 104, "bad destination" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(check(t[i].host, t[i].port), t[i].why);
}

static void
test_connection_for_another_device(void **state)
{
	(void)state;
	S.dev = &devs[0];
	assert_null(check("ct-scanner", 104));
	assert_string_equal(check("mri", 104),
	    "this connection is for another device");
}

static void
test_device_needing_approval(void **state)
{
	const char *why;

	(void)state;
	why = check("mri", 104);	/* no device named at login */
	assert_non_null(why);
	assert_string_equal(why, "mri needs an admin's approval: connect as "
	    "alice+mri@bastion, so the approval applies to the connection");
	S.dev = &devs[1];		/* a connection made for it */
	assert_null(check("mri", 104));
}

static void
test_transfer_window_carries_no_forwards(void **state)
{
	(void)state;
	S.touch_window = 1;
	assert_string_equal(check("ct-scanner", 104), "a transfer admitted "
	    "without a touch (transfer window) carries no forwards: connect "
	    "with ssh -A for them");
}

static void
test_limit_counts_open_and_waiting(void **state)
{
	(void)state;
	R.nfwds = RELAY_MAX_FORWARDS - 1;
	assert_null(check("ct-scanner", 104));
	R.nwaits = 1;
	assert_string_equal(check("ct-scanner", 104),
	    "too many forwards open");
	R.nfwds = 0;
	R.nwaits = RELAY_MAX_FORWARDS;
	assert_string_equal(check("ct-scanner", 104),
	    "too many forwards open");
	/* the policy's reason comes first */
	assert_string_equal(check("ct-scanner", 22),
	    "port not listed for forwarding on this device");
}

static void
test_waiting_forwards_matched_by_id(void **state)
{
	struct fwd_wait *a, *b, *c, *w;

	(void)state;
	a = relay_wait_add(&R, NULL, &devs[0], 104, "ct-scanner:104");
	b = relay_wait_add(&R, NULL, &devs[0], 8080, "ct-scanner:8080");
	c = relay_wait_add(&R, NULL, &devs[0], 104, "127.0.1.10:104");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(R.nwaits, 3);
	/* ids from 1, never 0 (the selftest's) */
	assert_int_equal(a->id, 1);
	assert_int_equal(b->id, 2);
	assert_int_equal(c->id, 3);
	/* answers come in any order */
	assert_ptr_equal(w = relay_wait_take(&R, 2), b);
	assert_int_equal(w->port, 8080);
	assert_string_equal(w->dest, "ct-scanner:8080");
	free(w);
	assert_int_equal(R.nwaits, 2);
	assert_null(relay_wait_take(&R, 2));	/* answered already */
	assert_null(relay_wait_take(&R, 0));	/* never asked */
	assert_null(relay_wait_take(&R, 77));
	assert_int_equal(R.nwaits, 2);
	assert_ptr_equal(relay_wait_take(&R, 1), a);
	free(a);
	assert_ptr_equal(relay_wait_take(&R, 3), c);
	free(c);
	assert_int_equal(R.nwaits, 0);
	assert_null(R.waits);
	/* the next one gets a new id */
	assert_non_null(a = relay_wait_add(&R, NULL, &devs[0], 104, "x"));
	assert_int_equal(a->id, 4);
	free(relay_wait_take(&R, 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_listed_port_of_own_device, setup),
		cmocka_unit_test_setup(test_refusal_reasons, setup),
		cmocka_unit_test_setup(test_connection_for_another_device,
		    setup),
		cmocka_unit_test_setup(test_device_needing_approval, setup),
		cmocka_unit_test_setup(test_transfer_window_carries_no_forwards,
		    setup),
		cmocka_unit_test_setup(test_limit_counts_open_and_waiting,
		    setup),
		cmocka_unit_test_setup(test_waiting_forwards_matched_by_id,
		    setup),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
