/*
 * nodebeat.h - the nodes' heartbeats in a shared state store, and the
 * sessions of a node that fell silent (issue 20; docs/SCALE-OUT.md,
 * "When a node dies").
 *
 * Every bastiond on a shared store (PostgreSQL) writes its heartbeat, a
 * row (node, time) in node_heartbeat, a few times per `store: lost_after`
 * (bastion/nodebeat.c). A session row whose node's heartbeat is older
 * than that, still open, is marked lost: `sessions` on every node then
 * shows it as lost rather than live. Nothing is killed or ended: a node
 * cannot tell a dead node from a slow one, and only the node itself ends
 * its rows (when it starts again). A node whose heartbeat comes back
 * clears its own rows' mark. Marking is one conditional update per row,
 * so of several nodes noticing at once exactly one marks (and audits)
 * each row.
 *
 * Like auditckpt_db.c, outside the store_ops table: only the listener
 * calls these, on its own store connection (BERR_DENIED through the
 * store actor).
 */
#ifndef BASTION_NODEBEAT_H
#define BASTION_NODEBEAT_H

#include <stdint.h>
#include <time.h>

struct state;

/* What one newly lost session was. */
struct nodebeat_lost {
	int64_t id;			/* the row */
	int64_t sid;
	char node[64];
	char engineer[80];
	char vendor[80];
	char device[80];
	time_t seen;			/* its node's last heartbeat */
};

/* node's heartbeat at now; and its own rows marked lost are live again
 * (*back, may be NULL: how many). 0 or BERR_*. */
int state_node_beat(struct state *st, const char *node, time_t now,
    size_t *back);
/*
 * Mark lost the open sessions of every node but self whose heartbeat is
 * older than before, and call fn for each row this call marked (the
 * first node to notice: fn audits it once). 0 or BERR_*.
 */
int state_node_lost(struct state *st, const char *self, time_t before,
    void (*fn)(const struct nodebeat_lost *l, void *arg), void *arg);

#endif
