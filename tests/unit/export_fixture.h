/*
 * export_fixture.h - a file export request row for the tests of export
 * approval (issue 18: test_state.c, test_store_client.c, test_verbs.c):
 * gina's download from globex's pacs in session 17, with the path, size
 * and a made-up SHA-256 (n in hex, 64 digits) the test names. Header-only,
 * as every tests/unit/test_*.c is its own program.
 */
#ifndef BASTION_EXPORT_FIXTURE_H
#define BASTION_EXPORT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "state.h"

static inline void
export_fixture(struct state_export *e, const char *path, int64_t size,
    unsigned n)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->session, sizeof(e->session), "17");
	snprintf(e->engineer, sizeof(e->engineer), "gina");
	snprintf(e->vendor, sizeof(e->vendor), "globex");
	snprintf(e->device, sizeof(e->device), "pacs");
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->size = size;
	snprintf(e->sha256, sizeof(e->sha256), "%064x", n);
}

#endif
