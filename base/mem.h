/*
 * mem.h - freeing the many members of a structure in one statement.
 *
 * Structures filled from a file (the policy, most of all) own a dozen
 * strings and arrays each; FREE_ALL(a, b, c) frees them in order, so a
 * destructor reads as the list of what the structure owns. NULL members
 * are fine (free(NULL) is a no-op); the pointers are not cleared.
 */
#ifndef BASTION_MEM_H
#define BASTION_MEM_H

#include <stddef.h>

/* free() each of v[0..n-1]. */
void mem_free_n(void *const *v, size_t n);

#define FREE_ALL(...)							\
	mem_free_n((void *const[]){ __VA_ARGS__ },			\
	    sizeof((void *const[]){ __VA_ARGS__ }) / sizeof(void *))

#endif
