/*
 * nodebeat.c - the nodes' heartbeats and the lost mark of a silent
 * node's sessions, in the common SQL of both backends (nodebeat.h; the
 * table node_heartbeat and session.lost of schema step 9).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nodebeat.h"
#include "store_sqlite.h"

#define NODEBEAT_BATCH	256	/* rows marked per call; the rest next time */

static const struct sq_col lost_cols[] = {
	SQC(SQC_I64, nodebeat_lost, id),
	SQC(SQC_I64, nodebeat_lost, sid),
	SQC(SQC_TEXT, nodebeat_lost, node),
	SQC(SQC_TEXT, nodebeat_lost, engineer),
	SQC(SQC_TEXT, nodebeat_lost, vendor),
	SQC(SQC_TEXT, nodebeat_lost, device),
	SQC(SQC_TIME, nodebeat_lost, seen),
};
static const struct sq_map lost_map = SQ_MAP(nodebeat_lost, lost_cols);

int
state_node_beat(struct state *st, const char *node, time_t now,
    size_t *back)
{
	struct store *s = state_sql_store(st);
	int r, n = 0;

	if (back != NULL)
		*back = 0;
	if (s == NULL)
		return (BERR_DENIED);
	if (node == NULL || node[0] == '\0')
		return (BERR_INVAL);
	if ((r = sq_run(s, "INSERT INTO node_heartbeat(node, seen) VALUES "
	    "(?1, ?2) ON CONFLICT (node) DO UPDATE SET seen = excluded.seen",
	    SQ_ARGS(SQ_T(node), SQ_I(now)), NULL)) != 0 ||
	    (r = sq_run(s, "UPDATE session SET lost = 0 WHERE node = ?1 AND "
	    "lost != 0", SQ_ARGS(SQ_T(node)), &n)) != 0)
		return (r);
	if (back != NULL)
		*back = (size_t)n;
	return (0);
}

struct lost_set {
	struct nodebeat_lost rows[NODEBEAT_BATCH];
	size_t n;
};

static int
lost_collect(void *row, void *arg)
{
	struct lost_set *ls = arg;

	if (ls->n == NODEBEAT_BATCH)
		return (1);
	ls->rows[ls->n++] = *(struct nodebeat_lost *)row;
	return (0);
}

int
state_node_lost(struct state *st, const char *self, time_t before,
    void (*fn)(const struct nodebeat_lost *l, void *arg), void *arg)
{
	struct store *s = state_sql_store(st);
	struct nodebeat_lost row;
	struct lost_set *ls;
	size_t i;
	int r, changed;

	if (s == NULL)
		return (BERR_DENIED);
	if (self == NULL || fn == NULL)
		return (BERR_INVAL);
	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return (BERR_NOMEM);
	r = sq_each(s, "SELECT s.id, s.sid, s.node, s.engineer, s.vendor, "
	    "s.device, h.seen FROM session s JOIN node_heartbeat h ON "
	    "h.node = s.node WHERE s.ended = 0 AND s.lost = 0 AND "
	    "s.node != ?1 AND h.seen < ?2 ORDER BY s.id",
	    SQ_ARGS(SQ_T(self), SQ_I(before)), &lost_map, &row, lost_collect,
	    ls);
	if (r == 1)
		r = 0;		/* a full batch: the rest next time */
	for (i = 0; r == 0 && i < ls->n; i++) {
		changed = 0;
		/* the first node to notice marks it, and only that one */
		if ((r = sq_run(s, "UPDATE session SET lost = 1 WHERE id = ?1 "
		    "AND lost = 0 AND ended = 0", SQ_ARGS(SQ_I(ls->rows[i].id)),
		    &changed)) == 0 && changed == 1)
			fn(&ls->rows[i], arg);
	}
	free(ls);
	return (r);
}
