/*
 * spawnfd.c - the standard descriptors of a process bastiond starts (see
 * spawnfd.h).
 */
#include <stdio.h>
#include <string.h>

#include "bastiond.h"
#include "spawnfd.h"

void
spawnfd_init(uv_stdio_container_t *stdio, size_t n)
{
	size_t i;

	memset(stdio, 0, n * sizeof(*stdio));
	for (i = 0; i < n; i++)
		stdio[i].flags = UV_IGNORE;
	spawnfd_set(stdio, 1, 2);
	spawnfd_set(stdio, 2, 2);
}

void
spawnfd_set(uv_stdio_container_t *stdio, size_t i, int fd)
{
	stdio[i].flags = UV_INHERIT_FD;
	stdio[i].data.fd = fd;
}

int
spawnfd_bastiond(uv_loop_t *loop, uv_process_t *proc, uv_exit_cb exit_cb,
    const char *self, const char *mode, const char *arg,
    const char *policy_path, int policy_fd, int debug, int client_fd)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[WORKER_FD_POLICY + 1];
	char *args[10], pfd[16];
	int n = 0;

	args[n++] = (char *)self;
	args[n++] = (char *)mode;
	args[n++] = (char *)arg;
	args[n++] = "-f";
	args[n++] = (char *)policy_path;
	if (policy_fd >= 0) {
		snprintf(pfd, sizeof(pfd), "%d", WORKER_FD_POLICY);
		args[n++] = "--policy-fd";
		args[n++] = pfd;
	}
	if (debug)
		args[n++] = "-d";
	args[n] = NULL;
	memset(&o, 0, sizeof(o));
	spawnfd_init(stdio, WORKER_FD_POLICY + 1);
	if (client_fd >= 0)
		spawnfd_set(stdio, WORKER_FD_CLIENT, client_fd);
	if (policy_fd >= 0)
		spawnfd_set(stdio, WORKER_FD_POLICY, policy_fd);
	o.file = self;
	o.args = args;
	o.exit_cb = exit_cb;
	o.stdio = stdio;
	o.stdio_count = policy_fd >= 0 ? WORKER_FD_POLICY + 1 :
	    client_fd >= 0 ? WORKER_FD_CLIENT + 1 : 3;
	return (uv_spawn(loop, proc, &o));
}
