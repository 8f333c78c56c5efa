/*
 * events.c - the tables generated from the audit event schema (events.h):
 * names, writers, roles and fields of every declared event, lookup by name,
 * and the field check audit_event() and the tests run against it.
 *
 * Field lists are short space-separated strings in the schema; they are
 * searched word by word (a few dozen bytes), so no table is built at run
 * time and the module has no state.
 */
#include <stdio.h>
#include <string.h>

#include "events.h"

struct bev_def {
	const char *name;
	unsigned by;
	enum bev_role role;
	const char *req, *opt;
};

static const struct bev_def bev_defs[BEV_COUNT] = {
#define BEV_DEF(id, nm, who, rl, rq, op) \
	[BEV_##id] = { nm, who, BEV_ROLE_##rl, rq, op },
	BEV_MAP(BEV_DEF)
#undef BEV_DEF
};

static const struct {
	const char *heading, *what;
} bev_roles[BEV_ROLE_COUNT] = {
#define BEV_ROLE_DEF(id, h, w) [BEV_ROLE_##id] = { h, w },
	BEV_ROLE_MAP(BEV_ROLE_DEF)
#undef BEV_ROLE_DEF
};

static const char *const bev_fields[] = {
#define BEV_FIELD_DEF(f) #f,
	BEV_FIELD_MAP(BEV_FIELD_DEF)
#undef BEV_FIELD_DEF
};

static int
bev_ok(enum bev ev)
{
	return ((int)ev >= 0 && ev < BEV_COUNT);
}

const char *
bev_name(enum bev ev)
{
	return (bev_ok(ev) ? bev_defs[ev].name : NULL);
}

enum bev
bev_lookup(const char *name, size_t len)
{
	size_t lo = 0, hi = BEV_COUNT, mid, dl;
	int c;

	if (name == NULL)
		return (BEV_NONE);
	/* BEV_MAP is sorted by name (test_events.c holds it to that) */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		dl = strlen(bev_defs[mid].name);
		c = memcmp(name, bev_defs[mid].name, len < dl ? len : dl);
		if (c == 0)
			c = (len > dl) - (len < dl);
		if (c == 0)
			return ((enum bev)mid);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (BEV_NONE);
}

unsigned
bev_by(enum bev ev)
{
	return (bev_ok(ev) ? bev_defs[ev].by : 0);
}

enum bev_role
bev_role(enum bev ev)
{
	return (bev_ok(ev) ? bev_defs[ev].role : BEV_ROLE_NONE);
}

const char *
bev_role_heading(enum bev_role role)
{
	return ((int)role >= 0 && role < BEV_ROLE_COUNT ?
	    bev_roles[role].heading : "-");
}

const char *
bev_role_what(enum bev_role role)
{
	return ((int)role >= 0 && role < BEV_ROLE_COUNT ?
	    bev_roles[role].what : "-");
}

const char *
bev_fields_required(enum bev ev)
{
	return (bev_ok(ev) ? bev_defs[ev].req : "");
}

const char *
bev_fields_optional(enum bev ev)
{
	return (bev_ok(ev) ? bev_defs[ev].opt : "");
}

/* 1 if the space-separated list has the word key (keylen bytes). */
static int
bev_in_list(const char *list, const char *key, size_t keylen)
{
	const char *p = list, *e;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == keylen && keylen > 0 &&
		    memcmp(p, key, keylen) == 0)
			return (1);
		p = e;
	}
	return (0);
}

int
bev_field_known(const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < sizeof(bev_fields) / sizeof(bev_fields[0]); i++)
		if (strlen(bev_fields[i]) == keylen &&
		    memcmp(bev_fields[i], key, keylen) == 0)
			return (1);
	return (0);
}

int
bev_field_allowed(enum bev ev, const char *key, size_t keylen)
{
	if (!bev_ok(ev))
		return (0);
	return (bev_in_list("ts event pid truncated", key, keylen) ||
	    bev_in_list(bev_defs[ev].req, key, keylen) ||
	    bev_in_list(bev_defs[ev].opt, key, keylen));
}

int
bev_check(enum bev ev, const char *const *keys, size_t n, char *why,
    size_t whylen)
{
	const char *p, *e;
	size_t i, len;
	int found, truncated = 0;

	if (!bev_ok(ev)) {
		snprintf(why, whylen, "not a declared event");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i], "truncated") == 0)
			truncated = 1;
		if (!bev_field_allowed(ev, keys[i], strlen(keys[i]))) {
			snprintf(why, whylen, "field \"%.64s\" is not declared "
			    "for %s in base/events.h", keys[i],
			    bev_defs[ev].name);
			return (-1);
		}
	}
	if (truncated)
		return (0);
	for (p = bev_defs[ev].req; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		for (i = 0, found = 0; i < n && !found; i++)
			found = strlen(keys[i]) == len &&
			    memcmp(keys[i], p, len) == 0;
		if (len > 0 && !found) {
			snprintf(why, whylen, "%s lacks its field \"%.*s\"",
			    bev_defs[ev].name, (int)len, p);
			return (-1);
		}
	}
	return (0);
}
