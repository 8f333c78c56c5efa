/*
 * spawnfd.c - the standard descriptors of a process bastiond starts (see
 * spawnfd.h).
 */
#include <string.h>

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
