/*
 * sdnotify.c - the listener's side of systemd's notification protocol
 * (sd_notify(3)): READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1.
 *
 * bastiond.service is Type=notify with NotifyAccess=main: only the
 * listener speaks for the service. sdnotify_init() therefore takes
 * NOTIFY_SOCKET and the watchdog variables out of the environment before
 * the first child is started, so that no worker, control worker or
 * recorder (which sends its own READY=1) can claim anything for bastiond.
 * The messages are the datagrams sd_notify() would send, to the socket
 * remembered here. When bastiond was not started by systemd every call is
 * a no-op.
 *
 * The watchdog ping comes from a timer on the listener's libuv loop: a
 * listener that stops turning its loop stops pinging, and systemd kills
 * and restarts it (WatchdogSec= in the unit).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "log.h"

static struct {
	int fd;				/* -1: not under systemd */
	struct sockaddr_un sun;
	socklen_t sunlen;
	int warned;			/* one warning for failed sends */
	uint64_t watchdog_usec;		/* 0: no watchdog */
	uv_timer_t watchdog;
	int watchdog_on;
	char status[256];		/* last STATUS= sent */
} sdn = { .fd = -1 };

void
sdnotify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	uint64_t usec = 0;
	size_t n;

	/* sd_watchdog_enabled() checks WATCHDOG_PID against our pid, so it
	 * must run before the variables go */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		sdn.watchdog_usec = usec;
	if (e != NULL && e[0] == '\0')
		e = NULL;
	if (e != NULL && (e[0] == '/' || e[0] == '@') &&
	    (n = strlen(e)) < sizeof(sdn.sun.sun_path)) {
		memset(&sdn.sun, 0, sizeof(sdn.sun));
		sdn.sun.sun_family = AF_UNIX;
		memcpy(sdn.sun.sun_path, e, n);
		sdn.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path)
		    + n + 1);
		if (e[0] == '@') {	/* abstract namespace: no NUL */
			sdn.sun.sun_path[0] = '\0';
			sdn.sunlen--;
		}
		if ((sdn.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) == -1)
			log_warn("systemd notification socket: %s; systemd "
			    "will not hear that bastiond is ready",
			    strerror(errno));
	} else if (e != NULL)
		log_warn("NOTIFY_SOCKET=%s is not a Unix socket path; "
		    "notifications to systemd are off", e);
	(void)unsetenv("NOTIFY_SOCKET");
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
}

static void
sdnotify_send(const char *msg)
{
	if (sdn.fd == -1)
		return;
	if (sendto(sdn.fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sdn.sun, sdn.sunlen) == -1 && !sdn.warned) {
		sdn.warned = 1;
		log_warn("cannot notify systemd (%s): %s", msg,
		    strerror(errno));
	}
}

void
sdnotify_ready(void)
{
	sdnotify_send("READY=1");
}

void
sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/* MONOTONIC_USEC is what Type=notify-reload (systemd 253) wants */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	sdnotify_send(msg);
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1");
}

void
sdnotify_status(const char *fmt, ...)
{
	char status[sizeof(sdn.status)], msg[sizeof(status) + 8];
	va_list ap;

	if (sdn.fd == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	/* one line: a newline would start another assignment */
	status[strcspn(status, "\n")] = '\0';
	if (strcmp(status, sdn.status) == 0)
		return;
	memcpy(sdn.status, status, sizeof(status));
	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	sdnotify_send(msg);
}

static void
sdnotify_watchdog_cb(uv_timer_t *t)
{
	(void)t;
	sdnotify_send("WATCHDOG=1");
}

int
sdnotify_watchdog_start(struct uv_loop_s *loop)
{
	uint64_t ms;
	int r;

	if (sdn.fd == -1 || sdn.watchdog_usec == 0 || sdn.watchdog_on)
		return (0);
	/* ping at half the interval, as sd_watchdog_enabled(3) advises */
	ms = sdn.watchdog_usec / 2000;
	if (ms == 0)
		ms = 1;
	if ((r = uv_timer_init(loop, &sdn.watchdog)) != 0) {
		log_error("cannot start the watchdog timer: %s", uv_strerror(r));
		return (BERR_SYS);
	}
	if ((r = uv_timer_start(&sdn.watchdog, sdnotify_watchdog_cb, 0,
	    ms)) != 0) {
		log_error("cannot start the watchdog timer: %s", uv_strerror(r));
		uv_close((uv_handle_t *)&sdn.watchdog, NULL);
		return (BERR_SYS);
	}
	/* never what keeps the loop alive */
	uv_unref((uv_handle_t *)&sdn.watchdog);
	sdn.watchdog_on = 1;
	log_debug("systemd watchdog: a ping every %" PRIu64 " ms", ms);
	return (0);
}

void
sdnotify_watchdog_stop(void)
{
	if (!sdn.watchdog_on)
		return;
	sdn.watchdog_on = 0;
	uv_close((uv_handle_t *)&sdn.watchdog, NULL);
}
