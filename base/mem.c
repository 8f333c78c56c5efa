/*
 * mem.c - freeing the many members of a structure (see mem.h).
 */
#include <stdlib.h>

#include "mem.h"

void
mem_free_n(void *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
}
