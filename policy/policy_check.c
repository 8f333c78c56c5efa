/*
 * policy_check.c - the checks that need the whole file, run after every
 * section was read: names unique in their space, no key held by two
 * people, no two vendors sharing addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "err.h"
#include "netaddr.h"
#include "policy.h"
#include "policy_int.h"

static int
nameref_cmp(const void *a, const void *b)
{
	const struct nameref *x = a, *y = b;
	int r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return (r);
	return (x->line < y->line ? -1 : x->line > y->line);
}

/* Sort v by name, then line, and report each entry whose name an earlier
 * one has (dup, with that first one). */
static void
nameref_dups(struct pctx *c, struct names *l,
    void (*dup)(struct pctx *, const struct nameref *,
    const struct nameref *, const char *), const char *space)
{
	struct nameref *v = l->v;
	size_t i, first = 0;

	if (l->n == 0)
		return;
	qsort(v, l->n, sizeof(*v), nameref_cmp);
	for (i = 1; i < l->n; i++) {
		if (strcmp(v[i].name, v[first].name) != 0)
			first = i;
		else
			dup(c, &v[i], &v[first], space);
	}
}

static void
name_dup(struct pctx *c, const struct nameref *v, const struct nameref *first,
    const char *space)
{
	problem(c, v->line, "%s name \"%s\" is already used by %s \"%s\" at "
	    "line %d " DASH " %s must be unique; rename one", v->kind, v->name,
	    first->kind, first->name, first->line, space);
}

void
check_unique_names(struct pctx *c, struct names *l, const char *space)
{
	nameref_dups(c, l, name_dup, space);
}

/* kind is the owner of the key */
static void
key_dup(struct pctx *c, const struct nameref *v, const struct nameref *first,
    const char *unused)
{
	(void)unused;
	if (strcmp(v->kind, first->kind) == 0)
		problem(c, v->line, "key of \"%s\" is listed twice (also at "
		    "line %d) " DASH " remove one", v->kind, first->line);
	else
		problem(c, v->line, "key of \"%s\" is also listed for \"%s\" "
		    "at line %d " DASH " each person needs their own key",
		    v->kind, first->kind, first->line);
}

/* One key, one person: otherwise a login could not say who it was. */
void
check_unique_keys(struct pctx *c)
{
	nameref_dups(c, &c->keys, key_dup, NULL);
}

static int
segref_cmp(const void *a, const void *b)
{
	const struct segref *x = a, *y = b;
	int r;

	if (x->net.addr.family != y->net.addr.family)
		return (x->net.addr.family < y->net.addr.family ? -1 : 1);
	if ((r = memcmp(x->net.addr.a, y->net.addr.a, 16)) != 0)
		return (r);
	if (x->net.prefix != y->net.prefix)
		return (x->net.prefix < y->net.prefix ? -1 : 1);
	return (x->line < y->line ? -1 : x->line > y->line);
}

static void
overlap_problem(struct pctx *c, const struct segref *a,
    const struct segref *b)
{
	const struct segref *later = a->line > b->line ? a : b;
	const struct segref *other = later == a ? b : a;
	char t1[INET6_ADDRSTRLEN], t2[INET6_ADDRSTRLEN];

	problem(c, later->line, "segment %s/%u of vendor \"%s\" overlaps "
	    "segment %s/%u of vendor \"%s\" (line %d) " DASH " segments "
	    "of different vendors must not share addresses; narrow one of "
	    "them", netaddr_str(&later->net.addr, t1, sizeof(t1)),
	    later->net.prefix, later->vendor->name ? later->vendor->name :
	    "?", netaddr_str(&other->net.addr, t2, sizeof(t2)),
	    other->net.prefix, other->vendor->name ? other->vendor->name :
	    "?", other->line);
}

/*
 * Two CIDRs either nest or are disjoint. Sorted by address then prefix,
 * every network containing the current one is on a stack of at most 129
 * enclosing networks, so the sweep is O(n log n).
 */
void
check_segment_overlap(struct pctx *c)
{
	const struct segref *stack[130];
	size_t i, j, depth = 0;

	if (c->nsegs < 2)
		return;
	qsort(c->segs, c->nsegs, sizeof(*c->segs), segref_cmp);
	for (i = 0; i < c->nsegs; i++) {
		while (depth > 0 && !netaddr_cidr_overlap(
		    &stack[depth - 1]->net, &c->segs[i].net))
			depth--;
		for (j = 0; j < depth; j++)
			if (stack[j]->vendor != c->segs[i].vendor)
				overlap_problem(c, stack[j], &c->segs[i]);
		if (depth < sizeof(stack) / sizeof(stack[0]))
			stack[depth++] = &c->segs[i];
	}
}
