/*
 * uvloop.c - stopping and tearing down the child's private libuv loops
 * (device.c, relay.c): uvloop.h.
 */
#include <uv.h>

#include "uvloop.h"

static void
uvloop_stop_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (uv_is_closing(h))
		return;
	switch (h->type) {
	case UV_POLL:
		(void)uv_poll_stop((uv_poll_t *)h);
		break;
	case UV_TIMER:
		(void)uv_timer_stop((uv_timer_t *)h);
		break;
	default:		/* the child's loops have no other kind */
		break;
	}
}

void
uvloop_stop(uv_loop_t *loop)
{
	uv_walk(loop, uvloop_stop_walk, NULL);
	uv_stop(loop);
}

static void
uvloop_close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
uvloop_close(uv_loop_t *loop)
{
	uv_walk(loop, uvloop_close_walk, NULL);
	/* a uv_stop() made outside uv_run() is still pending: the first run
	 * consumes it, the second runs the close callbacks */
	(void)uv_run(loop, UV_RUN_NOWAIT);
	(void)uv_run(loop, UV_RUN_DEFAULT);
	return (uv_loop_close(loop));
}
