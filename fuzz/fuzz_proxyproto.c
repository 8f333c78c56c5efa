/*
 * fuzz_proxyproto.c - the PROXY protocol header as the listener reads it
 * from a trusted load balancer (proto/proxyproto.c, proxyproto_parse):
 * whatever the balancer's connection peeked so far. A header accepted
 * must fit the caps (PROXYPROTO_MAX for v2, PROXYPROTO_V1_MAX for v1)
 * and the bytes given, parse the same from exactly its own bytes (the
 * listener takes only those from the socket), be "more" one byte short,
 * and name addresses that print and read back.
 *
 * Input: the bytes at the start of the connection.
 */
#include "fuzz.h"

#include "err.h"
#include "proxyproto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_hdr h, h2;
	struct netaddr a;
	const char *why;
	char s[64];
	int r;

	r = proxyproto_parse(data, size, &h, &why);
	if (r == BERR_FORMAT) {
		if (why == NULL)
			abort();
		return (0);
	}
	if (r == PROXYPROTO_MORE)
		return (0);
	if (r < 0 || (size_t)r > size || (size_t)r > PROXYPROTO_MAX ||
	    (h.version == 1 && r > PROXYPROTO_V1_MAX) ||
	    (h.version != 1 && h.version != 2))
		abort();
	if (proxyproto_parse(data, (size_t)r, &h2, &why) != r ||
	    h2.local != h.local || h2.sport != h.sport)
		abort();
	if (proxyproto_parse(data, (size_t)r - 1, &h2, &why) !=
	    PROXYPROTO_MORE)
		abort();
	if (!h.local && (netaddr_parse(netaddr_str(&h.src, s, sizeof(s)),
	    &a) != 0 || !netaddr_equal(&a, &h.src)))
		abort();
	return (0);
}
