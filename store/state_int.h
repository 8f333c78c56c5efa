/*
 * state_int.h - the state handle's insides (store/ only): the backend it
 * dispatches to and the directory of the store actor it tells. state.c
 * defines the handle's operations; files beside it that add a group of
 * state_* functions (state_watch.c) see the same struct.
 */
#ifndef BASTION_STATE_INT_H
#define BASTION_STATE_INT_H

#include <limits.h>

#include "store.h"

struct state {
	const struct store_ops *ops;
	struct store *s;
	char dir[PATH_MAX];	/* where the store actor listens */
};

#endif
