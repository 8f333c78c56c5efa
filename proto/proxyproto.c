/*
 * proxyproto.c - the PROXY protocol header, versions 2 and 1, parsed
 * (proxyproto.h). Pure and bounded: every length is checked against the
 * bytes present before a byte is looked at, a version 2 header longer
 * than PROXYPROTO_MAX or a version 1 line longer than PROXYPROTO_V1_MAX
 * is refused, and anything but TCP over IPv4 or IPv6 (or the LOCAL
 * command, a balancer speaking for itself) is refused: the listener
 * then drops the connection (fail closed).
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "err.h"
#include "proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1sig[] = "PROXY ";

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_FAM_TCP4	0x11
#define V2_FAM_TCP6	0x21

static int
bad(const char **why, const char *s)
{
	*why = s;
	return (BERR_FORMAT);
}

/* An address of len bytes (4 or 16) in network order. */
static void
addr_from(const uint8_t *p, size_t len, struct netaddr *a)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	if (len == 4) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, p, 4);
		(void)netaddr_from_sockaddr((struct sockaddr *)&s4, a);
	} else {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, p, 16);
		(void)netaddr_from_sockaddr((struct sockaddr *)&s6, a);
	}
}

static int
parse_v2(const uint8_t *p, size_t n, struct proxyproto_hdr *h,
    const char **why)
{
	size_t len, alen;
	int cmd, fam;

	if (n < PROXYPROTO_V2_HDR)
		return (PROXYPROTO_MORE);
	if ((p[12] >> 4) != 2)
		return (bad(why, "PROXY protocol version 2 header with a "
		    "version other than 2"));
	cmd = p[12] & 0x0f;
	fam = p[13];
	len = ((size_t)p[14] << 8) | p[15];
	if (len > PROXYPROTO_V2_MAX_LEN)
		return (bad(why, "PROXY protocol version 2 header longer than "
		    "this bastion accepts (536 bytes)"));
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return (bad(why, "PROXY protocol version 2 header with an "
		    "unknown command"));
	if (cmd == V2_CMD_PROXY) {
		if (fam == V2_FAM_TCP4)
			alen = 4;
		else if (fam == V2_FAM_TCP6)
			alen = 16;
		else
			return (bad(why, "PROXY protocol version 2 header for "
			    "something other than TCP over IPv4 or IPv6"));
		if (len < 2 * alen + 4)
			return (bad(why, "PROXY protocol version 2 header too "
			    "short for its addresses"));
	} else
		alen = 0;
	if (n < PROXYPROTO_V2_HDR + len)
		return (PROXYPROTO_MORE);
	memset(h, 0, sizeof(*h));
	h->version = 2;
	h->local = cmd == V2_CMD_LOCAL;
	if (!h->local) {
		p += PROXYPROTO_V2_HDR;
		addr_from(p, alen, &h->src);
		addr_from(p + alen, alen, &h->dst);
		h->sport = (uint16_t)((p[2 * alen] << 8) | p[2 * alen + 1]);
		h->dport = (uint16_t)((p[2 * alen + 2] << 8) |
		    p[2 * alen + 3]);
	}
	/* what follows the addresses (TLVs) is skipped unread */
	return ((int)(PROXYPROTO_V2_HDR + len));
}

/* A decimal port, 0..65535, no sign, no leading zero. */
static int
v1_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 5)
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return (-1);
	*out = (uint16_t)v;
	return (0);
}

static int
parse_v1(const uint8_t *p, size_t n, struct proxyproto_hdr *h,
    const char **why)
{
	char line[PROXYPROTO_V1_MAX + 1], *f[6], *s;
	size_t len, nf = 0;
	int fam;

	for (len = 0; len < n && len + 2 <= PROXYPROTO_V1_MAX; len++) {
		if (p[len] == '\r' && len + 1 < n && p[len + 1] == '\n')
			break;
		/* US-ASCII text; a CR only before the LF */
		if (p[len] < 0x20 || p[len] > 0x7e) {
			if (p[len] == '\r' && len + 1 == n)
				return (PROXYPROTO_MORE);
			return (bad(why, "PROXY protocol version 1 line with "
			    "a byte that is not printable ASCII"));
		}
	}
	if (len + 2 > PROXYPROTO_V1_MAX || len + 1 >= n || p[len] != '\r' ||
	    p[len + 1] != '\n') {
		if (n >= PROXYPROTO_V1_MAX)
			return (bad(why, "PROXY protocol version 1 line without "
			    "CRLF in its first 107 bytes"));
		return (PROXYPROTO_MORE);
	}
	memcpy(line, p, len);
	line[len] = '\0';
	/* fields split on single spaces */
	for (s = line; nf < 6; ) {
		f[nf++] = s;
		if ((s = strchr(s, ' ')) == NULL)
			break;
		*s++ = '\0';
	}
	memset(h, 0, sizeof(*h));
	h->version = 1;
	if (nf >= 2 && strcmp(f[1], "UNKNOWN") == 0) {
		h->local = 1;	/* the rest of the line is to be ignored */
		return ((int)(len + 2));
	}
	if (s != NULL || nf != 6)
		return (bad(why, "PROXY protocol version 1 line is not "
		    "\"PROXY TCP4|TCP6 SRC DST SPORT DPORT\""));
	if (strcmp(f[1], "TCP4") == 0)
		fam = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		fam = AF_INET6;
	else
		return (bad(why, "PROXY protocol version 1 line for something "
		    "other than TCP4, TCP6 or UNKNOWN"));
	if (netaddr_parse(f[2], &h->src) != 0 ||
	    netaddr_parse(f[3], &h->dst) != 0 ||
	    (fam == AF_INET && (h->src.family != AF_INET ||
	    h->dst.family != AF_INET)) ||
	    (fam == AF_INET6 && (strchr(f[2], ':') == NULL ||
	    strchr(f[3], ':') == NULL)))
		return (bad(why, "PROXY protocol version 1 line with an "
		    "address that does not match its family"));
	if (v1_port(f[4], &h->sport) != 0 || v1_port(f[5], &h->dport) != 0)
		return (bad(why, "PROXY protocol version 1 line with a port "
		    "that is not 0 to 65535"));
	return ((int)(len + 2));
}

int
proxyproto_parse(const uint8_t *p, size_t n, struct proxyproto_hdr *h,
    const char **why)
{
	size_t m;

	*why = NULL;
	m = n < sizeof(v2sig) ? n : sizeof(v2sig);
	if (m > 0 && memcmp(p, v2sig, m) == 0)
		return (m < sizeof(v2sig) ? PROXYPROTO_MORE :
		    parse_v2(p, n, h, why));
	m = n < sizeof(v1sig) - 1 ? n : sizeof(v1sig) - 1;
	if (m > 0 && memcmp(p, v1sig, m) == 0)
		return (m < sizeof(v1sig) - 1 ? PROXYPROTO_MORE :
		    parse_v1(p, n, h, why));
	if (n == 0)
		return (PROXYPROTO_MORE);
	return (bad(why, "the balancer's connection did not begin with a "
	    "PROXY protocol header"));
}
