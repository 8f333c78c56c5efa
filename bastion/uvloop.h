/*
 * uvloop.h - stopping and tearing down a private libuv loop.
 *
 * The child runs two loops of its own, one after the other: the device
 * login (device.c) and the relay (relay.c). Each ends the same way: every
 * watcher stopped and uv_run() told to return (the loop's work is over,
 * whatever handle noticed it), then, after uv_run(), every handle closed,
 * the close callbacks run and the loop closed. Here once, so neither can
 * forget a handle it added later.
 */
#ifndef BASTION_UVLOOP_H
#define BASTION_UVLOOP_H

#include <uv.h>

/* Stop every poll and timer of loop that is not closing, and make
 * uv_run() return. The handles stay open for uvloop_close(). */
void uvloop_stop(uv_loop_t *loop);

/* Close every handle of loop not already closing, run the close
 * callbacks (after any uv_stop() still pending) and close the loop.
 * uv_loop_close()'s result: 0, or UV_EBUSY if something is still open. */
int uvloop_close(uv_loop_t *loop);

#endif
