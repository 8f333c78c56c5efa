/*
 * netaddr.c - strict IP address and CIDR parsing and matching.
 *
 * inet_pton(AF_INET) already refuses "127.1", decimal and hex forms; we add
 * a check against leading zeros ("010.0.0.1" is octal to some resolvers) and
 * fold IPv4-mapped IPv6 to IPv4.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "netaddr.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void
netaddr_fold(struct netaddr *a)
{
	if (a->family == AF_INET6 && memcmp(a->a, v4mapped, 12) == 0) {
		memmove(a->a, a->a + 12, 4);
		memset(a->a + 4, 0, 12);
		a->family = AF_INET;
	}
}

static int
v4_canonical(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if ((p == s || p[-1] == '.') && p[0] == '0' && p[1] != '.' &&
		    p[1] != '\0')
			return (0);
	}
	return (1);
}

int
netaddr_parse(const char *s, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0' || strlen(s) >= INET6_ADDRSTRLEN)
		return (BERR_FORMAT);
	if (strchr(s, ':') == NULL) {
		if (!v4_canonical(s) || inet_pton(AF_INET, s, out->a) != 1)
			return (BERR_FORMAT);
		out->family = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, s, out->a) != 1)
		return (BERR_FORMAT);
	out->family = AF_INET6;
	netaddr_fold(out);
	return (0);
}

static unsigned
netaddr_bits(const struct netaddr *a)
{
	return (a->family == AF_INET ? 32 : 128);
}

static int
prefix_match(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(x, y, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - rest));
	return ((x[full] & mask) == (y[full] & mask));
}

int
netaddr_cidr_parse(const char *s, struct netaddr_cidr *out)
{
	char tmp[INET6_ADDRSTRLEN + 5], *slash, *end;
	unsigned long pfx;
	unsigned bits, i;
	int mapped;

	memset(out, 0, sizeof(*out));
	if (s == NULL || strlen(s) >= sizeof(tmp))
		return (BERR_FORMAT);
	strcpy(tmp, s);
	mapped = strchr(tmp, ':') != NULL;
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash++ = '\0';
	if (netaddr_parse(tmp, &out->addr) != 0)
		return (BERR_FORMAT);
	bits = netaddr_bits(&out->addr);
	if (slash == NULL) {
		out->prefix = bits;
		return (0);
	}
	/* digits only: strtoul alone would also take " 8", "+8" and "-8" */
	if (slash[0] < '0' || slash[0] > '9' ||
	    (slash[0] == '0' && slash[1] != '\0'))
		return (BERR_FORMAT);
	pfx = strtoul(slash, &end, 10);
	if (*end != '\0')
		return (BERR_FORMAT);
	/* a v4-mapped network written in IPv6 form: prefix counts 128 bits */
	if (mapped && out->addr.family == AF_INET) {
		if (pfx < 96 || pfx > 128)
			return (BERR_FORMAT);
		pfx -= 96;
	}
	if (pfx > bits)
		return (BERR_FORMAT);
	out->prefix = (unsigned)pfx;
	/* host bits must be zero: "10.1.2.3/24" is almost always a typo */
	for (i = out->prefix; i < bits; i++)
		if (out->addr.a[i / 8] & (0x80 >> (i % 8)))
			return (BERR_FORMAT);
	return (0);
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		memcpy(out->a, &in->sin_addr, 4);
		return (0);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		out->family = AF_INET6;
		memcpy(out->a, &in6->sin6_addr, 16);
		netaddr_fold(out);
		return (0);
	}
	return (BERR_INVAL);
}

socklen_t
netaddr_to_sockaddr(const struct netaddr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	switch (a->family) {
	case AF_INET:
		*in = (struct sockaddr_in){ .sin_family = AF_INET,
		    .sin_port = htons(port) };
		memcpy(&in->sin_addr, a->a, 4);
		return (sizeof(*in));
	case AF_INET6:
		*in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
		    .sin6_port = htons(port) };
		memcpy(&in6->sin6_addr, a->a, 16);
		return (sizeof(*in6));
	}
	return (0);
}

int
netaddr_in_cidr(const struct netaddr *a, const struct netaddr_cidr *c)
{
	if (a->family != c->addr.family)
		return (0);
	return (prefix_match(a->a, c->addr.a, c->prefix));
}

int
netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	return (a->family == b->family &&
	    memcmp(a->a, b->a, netaddr_bits(a) / 8) == 0);
}

int
netaddr_cidr_overlap(const struct netaddr_cidr *a,
    const struct netaddr_cidr *b)
{
	unsigned p;

	if (a->addr.family != b->addr.family)
		return (0);
	p = a->prefix < b->prefix ? a->prefix : b->prefix;
	return (prefix_match(a->addr.a, b->addr.a, p));
}

const char *
netaddr_str(const struct netaddr *a, char *out, size_t len)
{
	if (inet_ntop(a->family, a->a, out, (socklen_t)len) == NULL)
		snprintf(out, len, "?");
	return (out);
}
