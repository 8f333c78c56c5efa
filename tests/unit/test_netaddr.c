/*
 * test_netaddr.c - strict address and network parsing (base/netaddr.c).
 *
 * The segment check is only as strong as the parser under it: every
 * spelling that some resolver reads as another address (127.1, decimal,
 * hex, octal-looking leading zeros, IPv4-mapped IPv6) must either be
 * refused or folded to the one canonical address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "netaddr.h"

#include "netaddr_fixture.h"

static void
test_parse_canonical(void **state)
{
	struct netaddr a;
	char buf[INET6_ADDRSTRLEN];
	static const uint8_t want[4] = { 127, 0, 1, 10 };

	(void)state;
	a = addr("127.0.1.10");
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.a, want, 4);
	assert_string_equal(netaddr_str(&a, buf, sizeof(buf)), "127.0.1.10");

	a = addr("0.0.0.0");
	assert_int_equal(a.family, AF_INET);
	a = addr("255.255.255.255");
	assert_int_equal(a.a[3], 255);

	a = addr("2001:db8::1");
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(netaddr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	a = addr("::1");
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.a[15], 1);
}

static void
test_parse_rejects_shorthands(void **state)
{
	static const char *const bad[] = {
		"127.1",		/* inet_aton: 127.0.0.1 */
		"127.0.1",
		"2130706433",		/* decimal 127.0.0.1 */
		"0x7f000001",		/* hex */
		"0x7f.0.0.1",
		"0177.0.0.1",		/* octal to inet_aton */
		"127.0.1.010",		/* leading zero */
		"00.0.0.0",
		"1.2.3.4.5",
		"256.1.1.1",
		"1.2.3.-4",
		" 1.2.3.4",
		"1.2.3.4 ",
		"1.2.3.4\n",
		"localhost",
		"ct.radiology.local",
		"",
		"[::1]",
		"fe80::1%eth0",		/* zone ids are not addresses */
		"2001:db8::g",
		"1:2:3:4:5:6:7:8:9",
		"::ffff:127.1",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000",
	};
	struct netaddr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (netaddr_parse(bad[i], &a) != BERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(netaddr_parse(NULL, &a), BERR_FORMAT);
}

static void
test_v4_mapped_folds(void **state)
{
	struct netaddr m, v4;
	struct netaddr_cidr seg;
	struct sockaddr_in6 sin6;

	(void)state;
	m = addr("::ffff:127.0.1.10");
	v4 = addr("127.0.1.10");
	assert_int_equal(m.family, AF_INET);
	assert_true(netaddr_equal(&m, &v4));
	seg = cidr("127.0.1.0/24");
	assert_true(netaddr_in_cidr(&m, &seg));

	/* the hex spelling of the same mapped address folds too */
	m = addr("::ffff:7f00:10a");
	assert_true(netaddr_equal(&m, &v4));

	/* so does one that arrives from the kernel */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.1.10",
	    &sin6.sin6_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &m),
	    0);
	assert_true(netaddr_equal(&m, &v4));
	assert_true(netaddr_in_cidr(&m, &seg));

	/* a mapped network written in IPv6 form counts 128 bits */
	seg = cidr("::ffff:10.0.0.0/104");
	assert_int_equal(seg.addr.family, AF_INET);
	assert_int_equal(seg.prefix, 8);
	assert_int_equal(netaddr_cidr_parse("::ffff:10.0.0.0/80", &seg),
	    BERR_FORMAT);

	/* ::127.0.1.10 (v4-compatible, deprecated) is not folded */
	m = addr("::127.0.1.10");
	assert_int_equal(m.family, AF_INET6);
	assert_false(netaddr_in_cidr(&m, &seg));
}

static void
test_cidr_parse(void **state)
{
	/* an address alone is its own network */
	static const struct {
		const char *s;
		int family;
		unsigned prefix;
	} good[] = {
		{ "127.0.1.0/24", AF_INET, 24 }, { "10.1.2.3", AF_INET, 32 },
		{ "0.0.0.0/0", AF_INET, 0 }, { "2001:db8::/32", AF_INET6, 32 },
		{ "::1", AF_INET6, 128 }, { "10.128.0.0/9", AF_INET, 9 },
	};
	static const char *const bad[] = {
		"127.0.1.5/24",		/* host bits set */
		"10.0.0.1/8",
		"2001:db8::1/32",
		"127.1/16",
		"10/8",
		"10.0.0.0/33",
		"::/129",
		"10.0.0.0/",
		"10.0.0.0/08",
		"10.0.0.0/+8",
		"10.0.0.0/-8",
		"10.0.0.0/ 8",
		"10.0.0.0/8x",
		"10.0.0.0/8/8",
		"10.0.0.0/99999999999999999999",
		"/8",
		"",
		"host.example/24",
	};
	struct netaddr_cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		c = cidr(good[i].s);
		assert_int_equal(c.addr.family, good[i].family);
		assert_int_equal(c.prefix, good[i].prefix);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (netaddr_cidr_parse(bad[i], &c) != BERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(netaddr_cidr_parse("10.128.0.0/8", &c), BERR_FORMAT);
	assert_int_equal(netaddr_cidr_parse(NULL, &c), BERR_FORMAT);
}

/*
 * Each network with what is probed against it: "+A" address A is in it,
 * "-A" is not; "~N" network N overlaps it, "!N" does not (overlap is
 * checked either way round).
 */
static void
test_in_cidr_and_overlap(void **state)
{
	static const struct {
		const char *net, *probes;
	} c[] = {
		{ "10.0.0.0/8", "+10.255.255.255 -11.0.0.0 ~10.1.0.0/16" },
		{ "0.0.0.0/0", "+10.255.255.255 -2001:db8:ffff::1 "
		    "~10.1.0.0/16 !::/0" },		/* families differ */
		{ "127.0.1.0/24", "+127.0.1.255 -127.0.2.0 !127.0.2.0/24" },
		{ "2001:db8::/32", "+2001:db8:ffff::1 -2001:db9::1" },
		/* a prefix that is not a multiple of 8 */
		{ "10.128.0.0/9", "+10.200.0.1 -10.127.0.1" },
		{ "10.1.0.0/16", "~10.1.0.0/16 !10.0.0.0/16" },
		{ "::/0", "~2001:db8::/48" },
	};
	struct netaddr_cidr net, other;
	struct netaddr a;
	char what[64];
	const char *p;
	size_t i;
	int n, r;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		net = cidr(c[i].net);
		for (p = c[i].probes; *p != '\0'; p += n) {
			assert_int_equal(sscanf(p, " %63s%n", what, &n), 1);
			if (what[0] == '+' || what[0] == '-') {
				a = addr(what + 1);
				r = netaddr_in_cidr(&a, &net);
			} else {
				other = cidr(what + 1);
				r = netaddr_cidr_overlap(&net, &other);
				if (r != netaddr_cidr_overlap(&other, &net))
					r = -1;
			}
			if (r != (what[0] == '+' || what[0] == '~'))
				fail_msg("%s: %s", c[i].net, what);
		}
	}
}

static void
test_sockaddr_roundtrip(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin;
	struct netaddr a, b;
	socklen_t len;

	(void)state;
	a = addr("127.0.1.10");
	len = netaddr_to_sockaddr(&a, 2222, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	sin = (struct sockaddr_in *)&ss;
	assert_int_equal(ntohs(sin->sin_port), 2222);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&ss, &b), 0);
	assert_true(netaddr_equal(&a, &b));

	a = addr("2001:db8::5");
	len = netaddr_to_sockaddr(&a, 22, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&ss, &b), 0);
	assert_true(netaddr_equal(&a, &b));

	memset(&a, 0, sizeof(a));
	assert_int_equal(netaddr_to_sockaddr(&a, 22, &ss), 0);
	ss.ss_family = AF_UNIX;
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&ss, &b),
	    BERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_canonical),
		cmocka_unit_test(test_parse_rejects_shorthands),
		cmocka_unit_test(test_v4_mapped_folds),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_in_cidr_and_overlap),
		cmocka_unit_test(test_sockaddr_roundtrip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
