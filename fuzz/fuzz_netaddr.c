/*
 * fuzz_netaddr.c - addresses (base/netaddr.c): the host of an engineer's
 * direct-tcpip forward (bastion/relay.c) and the policy's addresses and
 * CIDR segments, then matched and printed as the forward check and the
 * log do; an address printed must read back the same, and so must one
 * through a sockaddr.
 *
 * Input: line 1 an address, line 2 a CIDR (both optional).
 */
#include "fuzz.h"

#include "err.h"
#include "netaddr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netaddr a, b;
	struct netaddr_cidr c, c2;
	struct sockaddr_storage ss;
	char out[64], *s1, *s2;
	size_t n;
	int ok_a, ok_c;

	const uint8_t *line1 = data;

	n = fuzz_line(&data, &size);
	s1 = fuzz_cstr(line1, n);
	s2 = fuzz_cstr(data, size);
	ok_a = netaddr_parse(s1, &a) == 0;
	ok_c = netaddr_cidr_parse(s2, &c) == 0;
	if (ok_a) {
		/* its text form reads back as the same address */
		if (netaddr_parse(netaddr_str(&a, out, sizeof(out)), &b) != 0 ||
		    !netaddr_equal(&a, &b))
			abort();
		if (netaddr_to_sockaddr(&a, 22, &ss) > 0 &&
		    netaddr_from_sockaddr((struct sockaddr *)&ss, &b) == 0 &&
		    !netaddr_equal(&a, &b))
			abort();
	}
	if (ok_c) {
		if (ok_a)
			(void)netaddr_in_cidr(&a, &c);
		if (netaddr_cidr_parse("127.0.0.0/8", &c2) == 0)
			(void)netaddr_cidr_overlap(&c, &c2);
	}
	if (netaddr_cidr_parse(s1, &c) == 0 && ok_a)
		(void)netaddr_in_cidr(&a, &c);
	free(s1);
	free(s2);
	return (0);
}
