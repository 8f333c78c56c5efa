/*
 * health.c - bastiond's readiness port for a TCP load balancer (docs/
 * SCALE-OUT.md, "Failover").
 *
 * With `store: health: ADDR:PORT` in the policy the listener also listens
 * there. Each connection gets one line and is closed; nothing is read:
 *
 *   UP NODE\n            the listener serves, its recorder runs and the
 *                        state store answered within the last second
 *   DOWN NODE: WHY\n     any of these is not so (WHY says which)
 *
 * HAProxy checks it with `option tcp-check` and `tcp-check expect rstring
 * ^UP` (`check port`), so a node whose store or recorder is gone leaves
 * the pool although its SSH port still accepts, and a node that stops
 * (SIGTERM) closes the port first. Probing the SSH port instead would
 * spawn a worker per check and count the balancer's address towards the
 * pre-authentication limits; this port costs one accept and one write.
 * The store is asked at most once a second (one indexed count, on the
 * listener's own store connection, as its one-second session checks are),
 * so a flood of probes cannot load the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <uv.h>

#include "bclock.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "netaddr.h"
#include "state.h"

#define HEALTH_STORE_EVERY_S	1	/* at most one store query per ... */

static struct health {
	uv_tcp_t server;
	int open;
	time_t checked;		/* the last store query */
	int store_ok;		/* its answer */
} H;

static void
health_conn_close_cb(uv_handle_t *h)
{
	free(h);
}

/* "" when ready, else why not. */
static const char *
health_why(struct listener *L)
{
	time_t now = bclock_wall_s(L->clock);
	size_t n;

	if (L->stopping)
		return ("stopping");
	if (!L->boot->recorder_external && !L->recorder_running)
		return ("the recorder is not running");
	if (now - H.checked >= HEALTH_STORE_EVERY_S || now < H.checked) {
		H.checked = now;
		H.store_ok = state_session_count(L->st, "", &n) == 0;
	}
	if (!H.store_ok)
		return ("the state store does not answer");
	return ("");
}

static void
health_conn_cb(uv_stream_t *server, int status)
{
	struct listener *L = server->data;
	const char *node = L->pol->store_node != NULL ? L->pol->store_node :
	    "-";
	const char *why;
	char line[160];
	uv_tcp_t *c;
	uv_buf_t b;

	if (status != 0 || (c = malloc(sizeof(*c))) == NULL)
		return;
	uv_tcp_init(server->loop, c);
	if (uv_accept(server, (uv_stream_t *)c) == 0) {
		why = health_why(L);
		if (why[0] == '\0')
			snprintf(line, sizeof(line), "UP %s\n", node);
		else
			snprintf(line, sizeof(line), "DOWN %s: %s\n", node, why);
		b = uv_buf_init(line, (unsigned)strlen(line));
		/* a short line into an empty socket buffer */
		(void)uv_try_write((uv_stream_t *)c, &b, 1);
	}
	uv_close((uv_handle_t *)c, health_conn_close_cb);
}

int
health_start(struct listener *L)
{
	const struct policy_listen *h = &L->boot->store_health;
	struct sockaddr_storage ss;
	struct netaddr a;
	int r;

	if (h->host == NULL)
		return (0);
	if (netaddr_parse(h->host, &a) != 0 ||
	    netaddr_to_sockaddr(&a, h->port, &ss) == 0) {
		log_error("store: health address %s is invalid", h->host);
		return (BERR_INVAL);
	}
	memset(&H, 0, sizeof(H));
	uv_tcp_init(L->loop, &H.server);
	H.server.data = L;
	H.open = 1;
	if ((r = uv_tcp_bind(&H.server, (struct sockaddr *)&ss, 0)) != 0 ||
	    (r = uv_listen((uv_stream_t *)&H.server, 64,
	    health_conn_cb)) != 0) {
		log_error("cannot listen for health checks on %s port %u: %s "
		    "\xe2\x80\x94 change store: health in the policy", h->host,
		    h->port, uv_strerror(r));
		health_stop();
		return (BERR_SYS);
	}
	log_info("health checks on %s port %u", h->host, h->port);
	return (0);
}

void
health_stop(void)
{
	if (H.open && !uv_is_closing((uv_handle_t *)&H.server))
		uv_close((uv_handle_t *)&H.server, NULL);
	H.open = 0;
}
