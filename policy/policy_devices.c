/*
 * policy_devices.c - where: vendors with their segments (CIDRs) and
 * sources, and devices, each owned by one vendor and inside its segments,
 * with address, port, login, credential, pinned host key and the ports a
 * vendor may forward to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "err.h"
#include "netaddr.h"
#include "policy.h"
#include "policy_int.h"

/* Why netaddr_cidr_parse() refused s, as one problem with its fix
 * (policy_int.h). */
void
cidr_problem(struct pctx *c, int line, const char *what, const char *key,
    const char *s)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN + 1], txt[INET6_ADDRSTRLEN];
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct netaddr a;
	unsigned long long pfx;
	unsigned b, bits;
	int l;

	if (hl >= sizeof(addr))
		hl = 0;
	memcpy(addr, s, hl);
	addr[hl] = '\0';
	if (slash == NULL || hl == 0 || netaddr_parse(addr, &a) != 0) {
		problem(c, line, "%s: %s entry \"%.64s\" is not a network in "
		    "canonical form " DASH " write a full address and prefix "
		    "such as 10.20.0.0/16 (no shorthands like 127.1, no host "
		    "names)", what, key, s);
		return;
	}
	/* an IPv4-mapped network written as IPv6 counts 128 bits */
	bits = strchr(addr, ':') != NULL ? 128 : 32;
	l = parse_uint(slash + 1, &pfx);
	if (l < 0 || slash[1 + l] != '\0' || pfx > bits ||
	    (bits == 128 && a.family == AF_INET && pfx < 96)) {
		problem(c, line, "%s: %s entry \"%.64s\" has a bad prefix "
		    "length " DASH " use /0 to /32 for IPv4 or /0 to /128 for "
		    "IPv6, without leading zeros", what, key, s);
		return;
	}
	if (bits == 128 && a.family == AF_INET)
		pfx -= 96;
	bits = a.family == AF_INET ? 32 : 128;
	for (b = (unsigned)pfx; b < bits; b++)
		a.a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	problem(c, line, "%s: %s entry %.64s has host bits set " DASH " did "
	    "you mean %s/%u?", what, key, s, netaddr_str(&a, txt, sizeof(txt)),
	    (unsigned)pfx);
}

/* A list of networks; segments of vendors are also kept for the overlap
 * check. */
static void
parse_cidrs(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const struct policy_vendor *seg_of,
    struct netaddr_cidr **out, size_t *nout)
{
	const struct ynode *v, *it;
	struct netaddr_cidr *n;
	const char *s;
	size_t i;

	if ((v = field(c, m, key, what, seg_of != NULL ?
	    "segments: [CIDR, ...] (the networks its devices live in)" :
	    "sources: [CIDR, ...] (where its engineers connect from)")) ==
	    NULL || check_seq(c, v, key, what, 1, "[127.0.1.0/24]") != 0)
		return;
	if ((*out = xcalloc(c, v->nkid, sizeof(**out))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		it = v->kid[i];
		n = &(*out)[*nout];
		if ((s = scalar(c, it, key, what)) == NULL)
			continue;
		if (netaddr_cidr_parse(s, n) != 0) {
			cidr_problem(c, it->line, what, key, s);
			continue;
		}
		if (seg_of != NULL && n->prefix == 0) {
			problem(c, it->line, "%s: segment %.64s covers every "
			    "address " DASH " list only the networks the "
			    "vendor's devices live in", what, s);
			continue;
		}
		(*nout)++;
		if (seg_of != NULL && grow(c, (void **)&c->segs, &c->asegs,
		    c->nsegs, sizeof(*c->segs)) == 0) {
			c->segs[c->nsegs].net = *n;
			c->segs[c->nsegs].vendor = seg_of;
			c->segs[c->nsegs].line = it->line;
			c->nsegs++;
		}
	}
}

void
parse_vendor(struct pctx *c, const struct ynode *m, struct policy_vendor *vd)
{
	static const char *const keys[] = { "name", "description",
	    "segments", "sources", "allow_non_sk_keys", "touch", "approval",
	    "work_record", "require_attestation", "engineers", "files", NULL };
	const struct ynode *v;
	const char *s;
	char what[128];

	vd->line = m->line;
	if (named_entry(c, m, "vendor", keys, "write name:, segments:, "
	    "sources: and engineers: of the vendor", &c->vnames, what,
	    sizeof(what), &vd->name) != 0)
		return;
	get_text(c, m, "description", what, &vd->description);
	parse_cidrs(c, m, "segments", what, vd, &vd->segments,
	    &vd->nsegments);
	parse_cidrs(c, m, "sources", what, NULL, &vd->sources,
	    &vd->nsources);
	get_bool(c, m, "allow_non_sk_keys", what, &vd->allow_non_sk_keys);
	vd->work_record = -1;	/* the hospital-wide work_record */
	get_bool(c, m, "work_record", what, &vd->work_record);
	vd->require_attestation = -1;	/* the hospital-wide one */
	get_bool(c, m, "require_attestation", what, &vd->require_attestation);
	if (vd->allow_non_sk_keys &&
	    policy_require_attestation(c->p, vd))
		problem(c, m->line, "%s: require_attestation: true (%s) and "
		    "allow_non_sk_keys: true contradict each other: only "
		    "security keys can be attested " DASH " set "
		    "allow_non_sk_keys: false, or require_attestation: false "
		    "for this vendor", what, vd->require_attestation == 1 ?
		    "the vendor's" : "hospital-wide");
	if ((s = field_scalar(c, m, "touch", what, NULL, &v)) != NULL) {
		if (strcmp(s, "required") == 0)
			vd->touch = POLICY_TOUCH_REQUIRED;
		else if (strcmp(s, "off") == 0)
			vd->touch = POLICY_TOUCH_OFF;
		else
			problem(c, v->line, "%s: touch is \"%.64s\" "
			    DASH " write touch: required (the default) "
			    "or touch: off", what, s);
	}
	parse_approval(c, m, what, &c->p->approval, &vd->approval);
	parse_files(c, m, what, NULL, &vd->files);
	if ((v = field(c, m, "engineers", what, NULL)) != NULL)
		parse_people(c, v, "engineers", what, ROLE_ENGINEER, vd,
		    &vd->engineers, &vd->nengineers);
}

struct policy_vendor *
find_vendor(const struct policy *p, const char *name)
{
	return (FIND_BY(p->vendors, p->nvendors, name, name));
}

static void
device_vendor(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_device *d)
{
	const struct ynode *v;
	const char *s, *sug, **cands;
	size_t i;

	if ((s = field_scalar(c, m, "vendor", what, "vendor: NAME (the vendor "
	    "that maintains it)", &v)) == NULL ||
	    (d->vendor_name = xstrdup(c, s)) == NULL)
		return;
	if ((d->vendor = find_vendor(c->p, s)) != NULL)
		return;
	sug = NULL;
	if ((cands = xcalloc(c, c->p->nvendors + 1, sizeof(*cands))) !=
	    NULL) {
		for (i = 0; i < c->p->nvendors; i++)
			cands[i] = c->p->vendors[i].name;
		sug = closest(s, cands, c->p->nvendors);
		free(cands);
	}
	if (sug != NULL)
		problem(c, v->line, "%s: vendor \"%.64s\" is not defined "
		    DASH " did you mean \"%s\"?", what, s, sug);
	else
		problem(c, v->line, "%s: vendor \"%.64s\" is not defined "
		    DASH " add it under vendors: or name an existing "
		    "vendor", what, s);
}

/* The device's address must lie in one of its vendor's segments. */
static void
device_in_segments(struct pctx *c, const struct ynode *v,
    const struct policy_device *d)
{
	const struct policy_vendor *vd = d->vendor;
	char list[256], one[INET6_ADDRSTRLEN + 8], txt[INET6_ADDRSTRLEN];
	size_t i;

	if (vd == NULL || vd->nsegments == 0)
		return;
	for (i = 0; i < vd->nsegments; i++)
		if (netaddr_in_cidr(&d->addr, &vd->segments[i]))
			return;
	list[0] = '\0';
	for (i = 0; i < vd->nsegments && i < 4; i++) {
		snprintf(one, sizeof(one), "%s%s/%u", i ? ", " : "",
		    netaddr_str(&vd->segments[i].addr, txt, sizeof(txt)),
		    vd->segments[i].prefix);
		append(list, one, sizeof(list));
	}
	if (vd->nsegments > 4)
		append(list, ", ...", sizeof(list));
	problem(c, v->line, "device \"%s\" address %.64s is outside the "
	    "segments of vendor \"%s\" (%s) " DASH " move the device into "
	    "a segment of its vendor or fix the address",
	    d->name ? d->name : "?", d->address, vd->name, list);
}

void
parse_device(struct pctx *c, const struct ynode *m, struct policy_device *d)
{
	static const char *const keys[] = { "name", "vendor", "description",
	    "address", "port", "login", "credential", "host_key",
	    "forward_ports", "approval", "files", NULL };
	const struct ynode *v;
	const struct policy_approval *inherit;
	struct policy_key hk;
	const char *s;
	char what[128];
	size_t i, j;
	uint16_t port;
	int bad;

	d->line = m->line;
	d->port = 22;
	if (named_entry(c, m, "device", keys, "write name:, vendor:, "
	    "address: and the other keys of the device", &c->dnames, what,
	    sizeof(what), &d->name) != 0)
		return;
	device_vendor(c, m, what, d);
	get_text(c, m, "description", what, &d->description);

	if ((s = field_scalar(c, m, "address", what, "address: IP (a literal "
	    "address inside a segment of its vendor)", &v)) != NULL) {
		if (netaddr_parse(s, &d->addr) != 0)
			problem(c, v->line, "%s: address \"%.64s\" is not a "
			    "literal IP address " DASH " write the "
			    "device's address as a.b.c.d or IPv6 (host names "
			    "and shorthands like 127.1, 0x7f000001 or "
			    "2130706433 are refused)", what, s);
		else if ((d->address = xstrdup(c, s)) != NULL)
			device_in_segments(c, v, d);
	}
	if ((v = field(c, m, "port", what, NULL)) != NULL)
		port_value(c, v, "port", what, &d->port);

	if ((s = field_scalar(c, m, "login", what, "login: USER (the account "
	    "on the device)", &v)) != NULL) {
		for (bad = s[0] == '-', i = 0; s[i] != '\0'; i++)
			if ((unsigned char)s[i] <= 0x20 ||
			    (unsigned char)s[i] >= 0x7f)
				bad = 1;
		if (bad || i > POLICY_MAX_LOGIN)
			problem(c, v->line, "%s: login \"%.64s\" is not a "
			    "user name " DASH " use up to %d printable "
			    "ASCII characters without spaces, not starting "
			    "with '-'", what, s, POLICY_MAX_LOGIN);
		else
			d->login = xstrdup(c, s);
	}
	get_path(c, m, "credential", what, "credential: PATH (the bastion's "
	    "private key for this device)", &d->credential);

	if ((v = field(c, m, "host_key", what, "host_key: \"TYPE BASE64\" "
	    "(the device's pinned host key, e.g. from ssh-keyscan)")) !=
	    NULL && parse_key(c, v, what, 1, &hk) == 0) {
		if (asprintf(&d->host_key, "%s %s", hk.type, hk.base64) < 0) {
			d->host_key = NULL;
			c->nomem = 1;
		}
		free(hk.type);
		free(hk.base64);
		free(hk.comment);
	}

	if ((v = field(c, m, "forward_ports", what, NULL)) != NULL &&
	    check_seq(c, v, "forward_ports", what, 0, "[104, 443]") == 0 &&
	    (d->forward_ports = xcalloc(c, v->nkid, sizeof(uint16_t))) !=
	    NULL) {
		for (i = 0; i < v->nkid; i++) {
			if (port_value(c, v->kid[i], "forward_ports entry",
			    what, &port) != 0)
				continue;
			for (j = 0; j < d->nforward_ports; j++)
				if (d->forward_ports[j] == port)
					break;
			if (j < d->nforward_ports) {
				problem(c, v->kid[i]->line, "%s: forward port "
				    "%u is listed twice " DASH " remove "
				    "one", what, port);
				continue;
			}
			d->forward_ports[d->nforward_ports++] = port;
		}
	}

	inherit = d->vendor != NULL && d->vendor->approval.set ?
	    &d->vendor->approval : &c->p->approval;
	parse_approval(c, m, what, inherit, &d->approval);
	parse_files(c, m, what, d->vendor != NULL ? &d->vendor->files : NULL,
	    &d->files);
}
