/*
 * policy_yaml.c - the policy loader's first stages (policy.c says how the
 * loader is built): the loading context's allocation helpers, the problems
 * it records (kept, sorted by line, printed as "FILE:LINE: what — what to
 * do"), and libyaml's events turned into a tree of nodes that remember
 * their line. The YAML-level hazards stop here: anchors, aliases and tags
 * are refused; depth, list lengths, scalar lengths and the node count are
 * capped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "err.h"
#include "mem.h"
#include "policy.h"
#include "policy_int.h"

/* Grow *arr (of elements of size sz) so that one more fits. */
int
grow(struct pctx *c, void **arr, size_t *alloc, size_t used, size_t sz)
{
	size_t n;
	void *t;

	if (used < *alloc)
		return (0);
	n = *alloc == 0 ? 16 : *alloc * 2;
	if ((t = reallocarray(*arr, n, sz)) == NULL) {
		c->nomem = 1;
		return (BERR_NOMEM);
	}
	*arr = t;
	*alloc = n;
	return (0);
}

void *
xcalloc(struct pctx *c, size_t n, size_t sz)
{
	void *p;

	if (n == 0)
		return (NULL);
	if ((p = calloc(n, sz)) == NULL)
		c->nomem = 1;
	return (p);
}

char *
xstrdup(struct pctx *c, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		c->nomem = 1;
	return (d);
}

/* strlcat for glibc before 2.38: append, always NUL-terminated. */
void
append(char *dst, const char *src, size_t size)
{
	size_t n = strlen(dst);

	if (n + 1 >= size)
		return;
	snprintf(dst + n, size - n, "%s", src);
}

/* Replace C0/C1 control characters and DEL by '?'. */
static void
defang(char *s)
{
	unsigned char *u;

	for (u = (unsigned char *)s; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			*u = '?';
		else if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			u[0] = '?';
			u[1] = '?';
			u++;
		}
	}
}

/* Record one problem at line. fmt gives "what is wrong — what to do". */
void
problem(struct pctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int r;

	c->nerrs++;
	if (c->nprobs >= POLICY_MAX_REPORTED)
		return;
	if (grow(c, (void **)&c->probs, &c->aprobs, c->nprobs,
	    sizeof(*c->probs)) != 0)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		c->nomem = 1;
		return;
	}
	defang(msg);
	c->probs[c->nprobs].line = line;
	c->probs[c->nprobs].seq = c->nprobs;
	c->probs[c->nprobs].msg = msg;
	c->nprobs++;
}

static int
problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->line != y->line)
		return (x->line < y->line ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

void
problems_print(struct pctx *c, FILE *errs)
{
	size_t i;
	int last = 0;

	if (errs == NULL || c->nprobs == 0)
		return;
	qsort(c->probs, c->nprobs, sizeof(*c->probs), problem_cmp);
	for (i = 0; i < c->nprobs; i++) {
		fprintf(errs, "%s:%d: %s\n", c->path, c->probs[i].line,
		    c->probs[i].msg);
		last = c->probs[i].line;
	}
	if (c->nerrs > c->nprobs)
		fprintf(errs, "%s:%d: %zu more problems not shown " DASH " "
		    "fix the ones above and run --check again\n", c->path,
		    last, c->nerrs - c->nprobs);
	fflush(errs);
}

void
ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkid; i++)
		ynode_free(n->kid[i]);	/* depth <= YAML_MAX_DEPTH */
	FREE_ALL(n->kid, n->str, n);
}

const char *
ynode_kind_name(const struct ynode *n)
{
	static const char *const names[] = {
		[YNODE_SEQ] = "a list",
		[YNODE_MAP] = "a mapping",
	};

	if ((size_t)n->kind < sizeof(names) / sizeof(names[0]) &&
	    names[n->kind] != NULL)
		return (names[n->kind]);
	return (n->plain && n->len == 0 ? "empty" : "a single value");
}

/* Line of a byte offset (libyaml reader errors carry only the offset). */
static int
line_of_offset(const uint8_t *data, size_t len, size_t off)
{
	size_t i;
	int line = 1;

	for (i = 0; i < off && i < len; i++)
		if (data[i] == '\n')
			line++;
	return (line);
}

static void
yaml_syntax_problem(struct pctx *c, const yaml_parser_t *ps,
    const uint8_t *data, size_t len)
{
	int line;

	if (ps->error == YAML_MEMORY_ERROR) {
		c->nomem = 1;
		return;
	}
	if (ps->error == YAML_READER_ERROR) {
		problem(c, line_of_offset(data, len, ps->problem_offset),
		    "the file is not valid UTF-8 text (%s) " DASH " save "
		    "it as UTF-8", ps->problem ? ps->problem : "bad byte");
		return;
	}
	line = (int)ps->problem_mark.line + 1;
	if (ps->context != NULL)
		problem(c, line, "YAML syntax error: %s, %s that starts at "
		    "line %d " DASH " fix the YAML here (indentation, a "
		    "missing ':' or ',', an unclosed quote or bracket)",
		    ps->problem ? ps->problem : "unknown problem", ps->context,
		    (int)ps->context_mark.line + 1);
	else
		problem(c, line, "YAML syntax error: %s " DASH " fix the "
		    "YAML here (indentation, a missing ':' or ',', an unclosed "
		    "quote or bracket)",
		    ps->problem ? ps->problem : "unknown problem");
}

static struct ynode *
ynode_new(struct pctx *c, enum ynode_kind kind, int line)
{
	struct ynode *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		c->nomem = 1;
		return (NULL);
	}
	n->kind = kind;
	n->line = line;
	c->nnodes++;
	return (n);
}

static int
ynode_add(struct pctx *c, struct ynode *parent, struct ynode *kid)
{
	if (grow(c, (void **)&parent->kid, &parent->akid, parent->nkid,
	    sizeof(*parent->kid)) != 0)
		return (BERR_NOMEM);
	parent->kid[parent->nkid++] = kid;
	return (0);
}

/* State of the tree builder between events. */
struct ybuild {
	struct ynode *root;
	struct ynode *stack[YAML_MAX_DEPTH];
	size_t depth;
	size_t skip;		/* depth inside a dropped collection */
	int stop;		/* stop reading events */
	int complete;		/* reached the end of the stream cleanly */
	int ndocs;
};

/*
 * One node starts (scalar, alias, sequence or mapping). Attach it to the
 * open collection, or drop it (and, for a collection, everything inside it)
 * when a limit is hit. Anchors, aliases and tags are reported here.
 */
static int
ybuild_node(struct pctx *c, struct ybuild *y, const yaml_event_t *ev)
{
	struct ynode *n, *parent;
	enum ynode_kind kind = YNODE_SCALAR;
	const char *anchor = NULL, *tag = NULL, *alias = NULL;
	int line = (int)ev->start_mark.line + 1, coll = 0;
	size_t limit;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		tag = (const char *)ev->data.scalar.tag;
		break;
	case YAML_ALIAS_EVENT:
		alias = (const char *)ev->data.alias.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		kind = YNODE_SEQ;
		coll = 1;
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		kind = YNODE_MAP;
		coll = 1;
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
		break;
	default:
		return (0);
	}

	if (y->skip > 0) {
		if (coll)
			y->skip++;
		return (0);
	}
	if (c->nnodes >= YAML_MAX_NODES) {
		problem(c, line, "the file has more than %u YAML nodes "
		    DASH " split the policy or remove unused entries",
		    YAML_MAX_NODES);
		y->stop = 1;
		return (0);
	}
	parent = y->depth > 0 ? y->stack[y->depth - 1] : NULL;
	if (parent != NULL && parent->full) {
		if (coll)
			y->skip = 1;
		return (0);
	}
	limit = (size_t)POLICY_MAX_ITEMS * (parent != NULL &&
	    parent->kind == YNODE_MAP ? 2 : 1);
	if (parent != NULL && parent->nkid >= limit) {
		problem(c, parent->line, "this %s has more than %d entries "
		    DASH " keep each list and mapping to at most %d",
		    parent->kind == YNODE_MAP ? "mapping" : "list",
		    POLICY_MAX_ITEMS, POLICY_MAX_ITEMS);
		parent->full = 1;
		if (coll)
			y->skip = 1;
		return (0);
	}

	if ((n = ynode_new(c, kind, line)) == NULL)
		return (BERR_NOMEM);
	if (parent != NULL) {
		if (ynode_add(c, parent, n) != 0) {
			ynode_free(n);
			return (BERR_NOMEM);
		}
	} else if (y->root == NULL)
		y->root = n;
	else {
		ynode_free(n);	/* cannot happen inside one document */
		return (0);
	}

	if (alias != NULL) {
		problem(c, line, "alias *%.64s: YAML anchors and aliases are "
		    "not supported " DASH " write the value out in full",
		    alias);
		n->bad = 1;
	}
	if (anchor != NULL)
		problem(c, line, "anchor &%.64s: YAML anchors and aliases are "
		    "not supported " DASH " remove the anchor and write "
		    "values out in full", anchor);
	if (tag != NULL)
		problem(c, line, "YAML tag %.64s is not supported "
		    DASH " remove the tag; quote the value if it must "
		    "stay text", tag);

	if (kind == YNODE_SCALAR && alias == NULL) {
		const char *v = (const char *)ev->data.scalar.value;
		size_t vlen = ev->data.scalar.length;

		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (vlen > POLICY_MAX_STRING) {
			problem(c, line, "a value of %zu bytes is longer than "
			    "the limit of %d " DASH " shorten it", vlen,
			    POLICY_MAX_STRING);
			n->bad = 1;
			vlen = 0;
		} else if (memchr(v, '\0', vlen) != NULL) {
			problem(c, line, "a value contains a NUL character "
			    DASH " remove the \\0 escape");
			n->bad = 1;
			vlen = 0;
		}
		if ((n->str = malloc(vlen + 1)) == NULL) {
			c->nomem = 1;
			return (BERR_NOMEM);
		}
		memcpy(n->str, v, vlen);
		n->str[vlen] = '\0';
		n->len = vlen;
	} else if (alias != NULL) {
		if ((n->str = strdup("")) == NULL) {
			c->nomem = 1;
			return (BERR_NOMEM);
		}
	}

	/* a mapping key must be a plain scalar */
	if (parent != NULL && parent->kind == YNODE_MAP &&
	    parent->nkid % 2 == 1 && kind != YNODE_SCALAR) {
		problem(c, line, "a mapping key is %s " DASH " keys must "
		    "be simple words such as name:", ynode_kind_name(n));
		n->bad = 1;
	}

	if (coll) {
		/*
		 * Stop reading at the limit rather than skip what is inside:
		 * libyaml's own work per event grows with the nesting (it
		 * keeps a possible simple key per flow level), so skipping a
		 * nesting bomb to its end is quadratic: 50,000 levels took
		 * seconds. Nothing after this point is looked at.
		 */
		if (y->depth >= YAML_MAX_DEPTH) {
			problem(c, line, "the YAML is nested more than %d "
			    "levels deep here, so the file was not read "
			    "further " DASH " the policy never needs more "
			    "than 7 levels: close the brackets or fix the "
			    "indentation", YAML_MAX_DEPTH);
			n->bad = 1;
			y->stop = 1;
		} else
			y->stack[y->depth++] = n;
	}
	return (0);
}

/*
 * Build the tree for data. *complete is set when the stream was read to its
 * end without a syntax error: only then is the tree worth validating.
 */
int
yaml_tree(struct pctx *c, const uint8_t *data, size_t len,
    struct ynode **rootp, int *complete)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	struct ybuild y;
	int r = 0;

	*rootp = NULL;
	*complete = 0;
	memset(&y, 0, sizeof(y));
	if (!yaml_parser_initialize(&ps))
		return (BERR_NOMEM);
	yaml_parser_set_input_string(&ps, data, len);
	while (!y.stop && !y.complete && r == 0) {
		if (!yaml_parser_parse(&ps, &ev)) {
			yaml_syntax_problem(c, &ps, data, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			y.complete = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++y.ndocs > 1) {
				problem(c, (int)ev.start_mark.line + 1,
				    "a second YAML document starts here "
				    DASH " keep the whole policy in one "
				    "document (remove this '---' and what "
				    "follows)");
				y.stop = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (y.skip > 0)
				y.skip--;
			else if (y.depth > 0)
				y.depth--;
			break;
		default:
			r = ybuild_node(c, &y, &ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	if (c->nomem)
		r = BERR_NOMEM;
	*rootp = y.root;
	*complete = r == 0 && y.complete;
	return (r);
}
