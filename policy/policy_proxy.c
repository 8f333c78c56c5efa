/*
 * policy_proxy.c - the policy's proxy_protocol: section (docs/POLICY.md
 * "proxy_protocol", docs/SCALE-OUT.md): the TCP load balancers in front
 * of bastiond that put a PROXY protocol header (HAProxy send-proxy-v2)
 * before each engineer's connection.
 *
 *	proxy_protocol:
 *	  from: [127.0.0.1/32, 10.0.0.5]
 *
 * A connection from one of these networks must begin with the header
 * (bastion/accept.c), and the engineer's address in it is the one every
 * check and record uses; from anywhere else no header is read. A
 * network that covers every address is refused: it would let anyone
 * name their own address.
 */
#include <string.h>

#include "policy_int.h"

void
parse_proxy_protocol(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "from", NULL };
	const char *what = "proxy_protocol", *s;
	const struct ynode *m, *v, *it;
	struct policy *p = c->p;
	struct netaddr_cidr *n;
	size_t i;

	if ((m = ymap_get(root, "proxy_protocol")) == NULL)
		return;
	if (check_map(c, m, what, keys, "write proxy_protocol: with from: "
	    "[ADDRESS or CIDR, ...] (the load balancers' addresses)") != 0)
		return;
	if ((v = field(c, m, "from", what, "from: [CIDR, ...] (the load "
	    "balancers that send the PROXY protocol header)")) == NULL ||
	    check_seq(c, v, "from", what, 1, "[127.0.0.1/32]") != 0)
		return;
	if ((p->proxy_from = xcalloc(c, v->nkid, sizeof(*p->proxy_from))) ==
	    NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		it = v->kid[i];
		n = &p->proxy_from[p->nproxy_from];
		if ((s = scalar(c, it, "from", what)) == NULL)
			continue;
		if (netaddr_cidr_parse(s, n) != 0) {
			cidr_problem(c, it->line, what, "from", s);
			continue;
		}
		if (n->prefix == 0) {
			problem(c, it->line, "proxy_protocol: from %.64s covers "
			    "every address " DASH " list only the load "
			    "balancers' own addresses: a client trusted here "
			    "names its own source address", s);
			continue;
		}
		p->nproxy_from++;
	}
}
