/*
 * netaddr_fixture.h - addresses and networks for the tests that need them
 * as values (test_netaddr.c, test_preauth.c): parsed by base/netaddr.c,
 * failing the test if the text does not parse. Header-only; static inline,
 * so a test that uses one of the two is not warned about the other.
 */
#ifndef BASTION_NETADDR_FIXTURE_H
#define BASTION_NETADDR_FIXTURE_H

#include "netaddr.h"

static inline struct netaddr
addr(const char *s)
{
	struct netaddr a;

	assert_int_equal(netaddr_parse(s, &a), 0);
	return (a);
}

static inline struct netaddr_cidr
cidr(const char *s)
{
	struct netaddr_cidr c;

	assert_int_equal(netaddr_cidr_parse(s, &c), 0);
	return (c);
}

#endif
