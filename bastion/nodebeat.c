/*
 * nodebeat.c - the listener's heartbeat in a shared state store, and what
 * it does about another node gone silent (store/nodebeat.h; docs/
 * SCALE-OUT.md, "When a node dies").
 *
 * On PostgreSQL (several nodes) the listener writes its heartbeat every
 * third of `store: lost_after` (at least every second), and each time
 * looks for open sessions of nodes whose heartbeat is older than
 * lost_after. Those rows are marked lost, so that `sessions` on every node
 * shows them as lost, not live; the node that marks a row first writes
 * `session.lost` to its chain, once. Nothing is killed or ended: only a
 * node ends its own rows, when it starts again (registry_recover). On
 * SQLite there is one node and nothing to do.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "err.h"
#include "listener.h"
#include "log.h"
#include "nodebeat.h"
#include "state.h"

static struct nodebeat {
	uv_timer_t timer;
	int open;
	int failing;		/* the last beat failed (said once) */
} N;

static const char *
nodebeat_node(const struct listener *L)
{
	return (L->boot->store_node != NULL ? L->boot->store_node :
	    "bastion");
}

static void
nodebeat_lost_cb(const struct nodebeat_lost *l, void *arg)
{
	char sid[24], seen[32];
	struct tm tm;

	(void)arg;
	snprintf(sid, sizeof(sid), "%lld", (long long)l->sid);
	if (gmtime_r(&l->seen, &tm) == NULL ||
	    strftime(seen, sizeof(seen), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(seen, sizeof(seen), "-");
	log_warn("node %s silent since %s: its session %s (%s to %s) is "
	    "shown as lost; it ends when that node starts again", l->node,
	    seen, sid, l->engineer, l->device);
	audit_ev(BEV_SESSION_LOST, "session", sid, "node", l->node, "user",
	    l->engineer, "vendor", l->vendor, "device", l->device, "seen",
	    seen, NULL);
}

static void
nodebeat_timer_cb(uv_timer_t *t)
{
	struct listener *L = t->data;
	time_t now = time(NULL);
	size_t back = 0;
	int r;

	if ((r = state_node_beat(L->st, nodebeat_node(L), now, &back)) != 0 ||
	    (r = state_node_lost(L->st, nodebeat_node(L),
	    now - (time_t)L->boot->store_lost_after_s, nodebeat_lost_cb,
	    NULL)) != 0) {
		if (!N.failing)
			log_error("node heartbeat: %s (%s); the other nodes "
			    "will show this node's sessions as lost after %u s",
			    berr_str(r), state_errmsg(L->st),
			    L->boot->store_lost_after_s);
		N.failing = 1;
		return;
	}
	if (N.failing)
		log_info("node heartbeat written again");
	N.failing = 0;
	if (back > 0)
		log_info("%zu session(s) of this node were shown as lost: live "
		    "again", back);
}

int
nodebeat_start(struct listener *L)
{
	uint64_t every;

	memset(&N, 0, sizeof(N));
	if (!L->boot->store_postgresql)
		return (0);
	every = (uint64_t)L->boot->store_lost_after_s * 1000 / 3;
	if (every < 1000)
		every = 1000;
	uv_timer_init(L->loop, &N.timer);
	N.timer.data = L;
	N.open = 1;
	/* the first beat now: a node that starts is alive */
	uv_timer_start(&N.timer, nodebeat_timer_cb, 0, every);
	return (0);
}

void
nodebeat_stop(void)
{
	if (N.open && !uv_is_closing((uv_handle_t *)&N.timer))
		uv_close((uv_handle_t *)&N.timer, NULL);
	N.open = 0;
}
