/*
 * netaddr.h - IP addresses and CIDR networks, strictly parsed.
 *
 * Only canonical literal forms are accepted: dotted-quad IPv4 with exactly
 * four decimal parts without leading zeros, and IPv6 as inet_pton accepts it.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4 before any comparison,
 * so it cannot slip around an IPv4 segment check. Shorthands such as "127.1",
 * "2130706433" or "0x7f000001" are rejected: they are exactly the spellings
 * that fool naive allow-lists.
 */
#ifndef BASTION_NETADDR_H
#define BASTION_NETADDR_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

struct netaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t a[16];		/* network byte order; IPv4 in a[0..3] */
};

struct netaddr_cidr {
	struct netaddr addr;	/* host bits cleared */
	unsigned prefix;
};

/* Parse a literal address; 0 or BERR_FORMAT. */
int netaddr_parse(const char *s, struct netaddr *out);
/* Parse "addr/prefix" (a bare address means a host route); host bits must be
 * zero. 0 or BERR_FORMAT. */
int netaddr_cidr_parse(const char *s, struct netaddr_cidr *out);
/* From a socket address (folds v4-mapped); 0 or BERR_INVAL. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
/* To a socket address with port; returns its length, 0 on error. */
socklen_t netaddr_to_sockaddr(const struct netaddr *a, uint16_t port,
    struct sockaddr_storage *ss);
int netaddr_in_cidr(const struct netaddr *a, const struct netaddr_cidr *c);
int netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* 1 if the two networks share any address. */
int netaddr_cidr_overlap(const struct netaddr_cidr *a,
    const struct netaddr_cidr *b);
/* Text form into out (INET6_ADDRSTRLEN is enough). */
const char *netaddr_str(const struct netaddr *a, char *out, size_t len);

#endif
