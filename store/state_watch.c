/*
 * state_watch.c - the state_* functions of watching a session of another
 * node (state.h says what each does; store_watch.c runs them on the SQL
 * backends): their arguments checked and their out-parameters cleared
 * here, as state.c does for the rest, and the pushes (STATE_EV_WATCH)
 * that wake the other node's listener (a new request) and the watcher (a
 * new chunk) without a poll.
 */
#include <string.h>
#include <time.h>

#include "err.h"
#include "state.h"
#include "state_int.h"
#include "store_client.h"

int
state_watch_open(struct state *st, const struct state_watch *w, int64_t *id)
{
	int r;

	if (st == NULL || w == NULL || id == NULL || w->session <= 0 ||
	    w->admin[0] == '\0' || w->to_node[0] == '\0' ||
	    w->recipient[0] == '\0')
		return (BERR_INVAL);
	*id = 0;
	if ((r = st->ops->watch_open(st->s, w, id)) == 0)
		(void)store_client_notify(st->dir, STATE_EV_WATCH, *id);
	return (r);
}

int
state_watch_each(struct state *st, const char *node, time_t now,
    int (*fn)(const struct state_watch *w, void *arg), void *arg)
{
	if (st == NULL || node == NULL || fn == NULL)
		return (BERR_INVAL);
	return (st->ops->watch_each(st->s, node, now, fn, arg));
}

int
state_watch_claim(struct state *st, int64_t id, const char *node,
    time_t now, struct state_watch *w, int *found)
{
	if (st == NULL || node == NULL || w == NULL || found == NULL)
		return (BERR_INVAL);
	memset(w, 0, sizeof(*w));
	*found = 0;
	return (st->ops->watch_claim(st->s, id, node, now, w, found));
}

int
state_watch_put(struct state *st, const struct state_watch_chunk *c,
    time_t now, int *status)
{
	int r;

	if (st == NULL || c == NULL || status == NULL || c->seq <= 0 ||
	    c->skipped < 0 || (strcmp(c->kind, "data") != 0 &&
	    strcmp(c->kind, "end") != 0 && strcmp(c->kind, "refused") != 0) ||
	    memchr(c->data, '\0', sizeof(c->data)) == NULL)
		return (BERR_INVAL);
	*status = 0;
	r = st->ops->watch_put(st->s, c, now, status);
	/* the watcher waits on the push, not on a poll */
	if (r == 0 && *status == 1)
		(void)store_client_notify(st->dir, STATE_EV_WATCH_DATA,
		    c->watch);
	return (r);
}

int
state_watch_take(struct state *st, int64_t id, time_t now,
    int (*fn)(const struct state_watch_chunk *c, void *arg), void *arg,
    int *found)
{
	if (st == NULL || fn == NULL || found == NULL)
		return (BERR_INVAL);
	*found = 0;
	return (st->ops->watch_take(st->s, id, now, fn, arg, found));
}

int
state_watch_close(struct state *st, int64_t id)
{
	if (st == NULL)
		return (BERR_INVAL);
	return (st->ops->watch_close(st->s, id));
}
