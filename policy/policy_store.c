/*
 * policy_store.c - the policy's store: section, which chooses the state
 * store's backend (docs/POLICY.md, docs/SCALE-OUT.md):
 *
 *   store:
 *     backend: postgresql           # or sqlite, the default
 *     conninfo: "host=db1 dbname=bastion user=bastion"
 *     password_file: /etc/bastion/pg.pass
 *     node: bastion-a               # default: the host name
 *     health: "127.0.0.1:8022"      # readiness for a load balancer
 *     checkpoint_interval: 5m       # signed audit checkpoints (default)
 *     lost_after: 1m                # another node silent: its sessions
 *                                   # are shown lost (default)
 *     nodes:                        # the other nodes' audit keys, pinned:
 *       bastion-b: "MCowBQYDK2VwAyEA..."  # their watch requests' signer
 *
 * Without the section the store is SQLite in paths.state_dir. The
 * connection string is checked with libpq's own parser (PQconninfoParse)
 * and may not carry a password: that lives in password_file, which the
 * backend refuses to use if anyone but the bastiond user may read it.
 * node names this bastiond in the rows it writes (the sessions it runs),
 * so that `sessions` on any node of a group says where each one runs.
 * health is the address of bastiond's readiness port (bastion/health.c),
 * which a TCP load balancer in front of the nodes polls. nodes pins each
 * other node's audit public key (the base64 line of its
 * STATE_DIR/audit.key.pub), checked here to be an Ed25519 key's DER: a
 * node serves another's watch request only when that node's pinned key
 * signed it (bastion/peerwatch_sign.c), since the database, which carries
 * the request, could carry a replaced key as well.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libpq-fe.h>

#include "b64.h"
#include "policy_int.h"

#define STORE_CONNINFO_MAX	1024
#define STORE_NODE_MAX		63	/* a host name's label */

/* A node name: 1..63 of [A-Za-z0-9._-], not starting with a dot or dash
 * (policy.h). */
int
policy_node_name_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 0 && n <= STORE_NODE_MAX && s[0] != '.' && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n);
}

/* store: health: "ADDR:PORT", optional. */
static void
parse_health(struct pctx *c, const struct ynode *m)
{
	char txt[INET6_ADDRSTRLEN];
	struct netaddr a;
	const struct ynode *v;
	const char *s;
	uint16_t port;

	if (m == NULL || ymap_get(m, "health") == NULL ||
	    (s = field_scalar(c, m, "health", "store", "health: "
	    "\"127.0.0.1:8022\"", &v)) == NULL ||
	    listen_addr(c, v->line, (const char *const []){
	    "store: health", "store: health" }, s, &a, &port) != 0)
		return;
	netaddr_str(&a, txt, sizeof(txt));
	c->p->store_health.host = xstrdup(c, txt);
	c->p->store_health.port = port;
}

/* store: node:, or the host name (its first label), or "bastion". */
static void
parse_node(struct pctx *c, const struct ynode *m)
{
	char host[256];
	const char *s;
	const struct ynode *v;

	if (m != NULL && ymap_get(m, "node") != NULL) {
		if ((s = field_scalar(c, m, "node", "store", "node: NAME",
		    &v)) == NULL)
			return;
		if (!policy_node_name_ok(s)) {
			problem(c, v->line, "store: node \"%.64s\" is not a "
			    "node name " DASH " write 1 to %d letters, digits, "
			    "dots, dashes or underscores (e.g. bastion-a)", s,
			    STORE_NODE_MAX);
			return;
		}
		c->p->store_node = xstrdup(c, s);
		return;
	}
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	c->p->store_node = xstrdup(c, policy_node_name_ok(host) ? host :
	    "bastion");
}

/* store: nodes: {NAME: KEY, ...}, optional. */
static void
parse_nodes(struct pctx *c, const struct ynode *m)
{
	const struct ynode *n, *k, *v;
	struct policy_node_key *e;
	uint8_t *der = NULL;
	size_t i, len = 0, alloc = 0;

	if (m == NULL || (n = ymap_get(m, "nodes")) == NULL)
		return;
	if (n->kind != YNODE_MAP) {
		problem(c, n->line, "store: nodes is a %s " DASH " write a map "
		    "of node names to their audit keys (bastion-b: "
		    "\"MCowBQYDK2VwAyEA...\")", ynode_kind_name(n));
		return;
	}
	for (i = 0; i + 1 < n->nkid; i += 2) {
		k = n->kid[i];
		v = n->kid[i + 1];
		if (k->kind != YNODE_SCALAR || !policy_node_name_ok(k->str)) {
			problem(c, k->line, "store: nodes: \"%.64s\" is not a "
			    "node name " DASH " write 1 to %d letters, digits, "
			    "dots, dashes or underscores", k->kind ==
			    YNODE_SCALAR ? k->str : "?", STORE_NODE_MAX);
			continue;
		}
		if (policy_node_key(c->p, k->str) != NULL) {
			problem(c, k->line, "store: nodes: %s is listed twice",
			    k->str);
			continue;
		}
		free(der);
		der = NULL;
		if (v->kind != YNODE_SCALAR || b64_decode(v->str, 128, 0, &der,
		    &len) != 0 || len != POLICY_ED25519_SPKI_LEN ||
		    memcmp(der, POLICY_ED25519_SPKI_PREFIX, 12) != 0) {
			problem(c, v->line, "store: nodes: %s: not an Ed25519 "
			    "public key " DASH " paste the base64 line of that "
			    "node's STATE_DIR/audit.key.pub (grep -v -- ----- "
			    "audit.key.pub)", k->str);
			continue;
		}
		if (grow(c, (void **)&c->p->store_nodes, &alloc,
		    c->p->nstore_nodes, sizeof(*e)) != 0)
			break;
		e = &c->p->store_nodes[c->p->nstore_nodes++];
		e->node = xstrdup(c, k->str);
		e->key = xstrdup(c, v->str);
	}
	free(der);
}

const char *
policy_node_key(const struct policy *p, const char *node)
{
	size_t i;

	for (i = 0; p != NULL && node != NULL && i < p->nstore_nodes; i++)
		if (p->store_nodes[i].node != NULL &&
		    strcmp(p->store_nodes[i].node, node) == 0)
			return (p->store_nodes[i].key);
	return (NULL);
}

/* conninfo as libpq reads it, without a password: 0, or reported. */
static int
check_conninfo(struct pctx *c, const struct ynode *v, const char *s)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int r = 0;

	if (strlen(s) > STORE_CONNINFO_MAX || !text_ok(s)) {
		problem(c, v->line, "store: conninfo is longer than %d bytes or "
		    "holds control characters " DASH " write it as "
		    "\"host=HOST dbname=DB user=USER\"", STORE_CONNINFO_MAX);
		return (-1);
	}
	if ((opts = PQconninfoParse(s, &err)) == NULL) {
		problem(c, v->line, "store: conninfo is not a libpq connection "
		    "string (%.*s) " DASH " write it as \"host=HOST dbname=DB "
		    "user=USER\"", err != NULL ? (int)strcspn(err, "\n") : 14,
		    err != NULL ? err : "out of memory");
		PQfreemem(err);
		return (-1);
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0') {
			problem(c, v->line, "store: conninfo holds a password "
			    DASH " put it in password_file (mode 0600, the "
			    "bastiond user's) instead");
			r = -1;
		}
	PQconninfoFree(opts);
	return (r);
}

void
parse_store(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "backend", "conninfo",
	    "password_file", "node", "health", "checkpoint_interval",
	    "lost_after", "nodes", NULL };
	const char *what = "store", *s;
	const struct ynode *m, *v;
	struct policy *p = c->p;

	m = field(c, root, "store", "the policy", NULL);
	if (m != NULL && check_map(c, m, what, keys, "write store: with "
	    "backend: postgresql and conninfo:, or remove it for SQLite") != 0)
		return;
	parse_node(c, m);
	parse_health(c, m);
	parse_nodes(c, m);
	/* the audit chain's signed checkpoints (docs/AUDIT.md, 10) */
	p->store_checkpoint_s = POLICY_CHECKPOINT_S;
	p->store_lost_after_s = POLICY_LOST_AFTER_S;
	if (m != NULL) {
		(void)get_duration(c, m, "checkpoint_interval", what,
		    &p->store_checkpoint_s);
		/* another node's sessions shown lost (bastion/nodebeat.c) */
		(void)get_duration(c, m, "lost_after", what,
		    &p->store_lost_after_s);
	}
	if (m == NULL || ymap_get(m, "backend") == NULL) {
		if (m != NULL && ymap_get(m, "node") == NULL &&
		    ymap_get(m, "health") == NULL &&
		    ymap_get(m, "checkpoint_interval") == NULL &&
		    ymap_get(m, "lost_after") == NULL &&
		    ymap_get(m, "nodes") == NULL)
			(void)field(c, m, "backend", what, "backend: sqlite "
			    "or postgresql");
		else if (m != NULL && (ymap_get(m, "conninfo") != NULL ||
		    ymap_get(m, "password_file") != NULL))
			problem(c, m->line, "store: conninfo and "
			    "password_file are for backend: postgresql " DASH
			    " add backend: postgresql");
		return;
	}
	if ((s = field_scalar(c, m, "backend", what, "backend: sqlite or "
	    "postgresql", &v)) == NULL)
		return;
	if (strcmp(s, "sqlite") == 0) {
		if (ymap_get(m, "conninfo") != NULL ||
		    ymap_get(m, "password_file") != NULL)
			problem(c, m->line, "store: conninfo and password_file "
			    "are for backend: postgresql " DASH " remove them "
			    "or choose postgresql");
		return;
	}
	if (strcmp(s, "postgresql") != 0) {
		problem(c, v->line, "store: backend \"%.32s\" is not known "
		    DASH " write sqlite (the default) or postgresql", s);
		return;
	}
	p->store_postgresql = 1;
	if ((s = field_scalar(c, m, "conninfo", what, "conninfo: \"host=HOST "
	    "dbname=DB user=USER\" (libpq)", &v)) != NULL &&
	    check_conninfo(c, v, s) == 0)
		p->store_conninfo = xstrdup(c, s);
	/* optional: peer or certificate authentication needs none */
	(void)get_path(c, m, "password_file", what, NULL,
	    &p->store_password_file);
}
