/*
 * proxyproto.h - the PROXY protocol header a TCP load balancer (HAProxy's
 * send-proxy-v2 / send-proxy) puts before the client's first byte, so
 * that bastiond learns the engineer's address behind the balancer
 * (docs/SCALE-OUT.md "The engineer's address behind the balancer").
 *
 * Only the listener calls it, and only on connections from the policy's
 * proxy_protocol.from addresses (bastion/accept.c): it peeks at the
 * socket, hands the bytes here, and once a whole header is there takes
 * exactly proxyproto_parse()'s length from the socket, never a byte of
 * the SSH identification after it. The parser is pure (no I/O, no
 * allocation) and bounded: version 2 (binary, 16 bytes + at most
 * PROXYPROTO_V2_MAX_LEN, TLVs skipped unread) and version 1 (text, at
 * most PROXYPROTO_V1_MAX bytes). Specification: haproxy's
 * doc/proxy-protocol.txt.
 */
#ifndef BASTION_PROXYPROTO_H
#define BASTION_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define PROXYPROTO_V2_HDR	16	/* signature, ver/cmd, fam, len */
#define PROXYPROTO_V2_MAX_LEN	520	/* address block + TLVs we accept */
#define PROXYPROTO_MAX		(PROXYPROTO_V2_HDR + PROXYPROTO_V2_MAX_LEN)
#define PROXYPROTO_V1_MAX	107	/* "PROXY ..." with its CRLF */

struct proxyproto_hdr {
	int version;		/* 1 or 2 */
	int local;		/* v2 LOCAL or v1 UNKNOWN: no address given
				   (the balancer's own health check): the
				   connection keeps its real peer */
	struct netaddr src;	/* the client (not set when local) */
	uint16_t sport;
	struct netaddr dst;	/* the address the client connected to */
	uint16_t dport;
};

#define PROXYPROTO_MORE	0	/* a valid beginning: wait for more bytes */

/*
 * Parse the header at the start of p (n bytes available, any number).
 * Returns its total length (> 0: take exactly that many bytes from the
 * socket; what follows is the client's), PROXYPROTO_MORE when the bytes
 * so far are a valid beginning of a header and more are needed, or
 * BERR_FORMAT when they are not a header we accept, with a sentence in
 * *why (static text). *h is filled only on success.
 */
int proxyproto_parse(const uint8_t *p, size_t n, struct proxyproto_hdr *h,
    const char **why);

#endif
