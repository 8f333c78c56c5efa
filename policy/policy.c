/*
 * policy.c - load and validate the bastion policy (contract in policy.h,
 * every key documented in docs/POLICY.md).
 *
 * Loading runs in three stages, each of which can only narrow what the next
 * one sees:
 *
 *  1. The file is read whole, up to POLICY_MAX_FILE_SIZE, and hashed.
 *  2. libyaml's event parser builds a small tree of nodes that remember
 *     their line (struct ynode). This is where the YAML-level hazards are
 *     stopped: anchors and aliases (cycles, "billion laughs") and tags are
 *     refused, nesting depth, list lengths, scalar lengths and the total
 *     node count are capped. Nothing after this stage recurses more than
 *     the fixed depth of the schema.
 *  3. The validators walk that tree against the schema, fill the typed
 *     struct policy and record every problem with its line. Checks that
 *     need the whole file (unique names and keys, each device inside its
 *     vendor's segments, no two vendors sharing addresses) run last.
 *
 * Problems are kept, sorted by line and printed at the end as
 * "FILE:LINE: what is wrong — what to do", so an admin reads them top to
 * bottom and fixes the file in one pass. Any problem discards the policy.
 * Values quoted in messages have control characters replaced, so a hostile
 * file cannot forge extra lines or drive the admin's terminal.
 */
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "netaddr.h"
#include "policy.h"

#define YAML_MAX_DEPTH		32		/* the schema needs 7 */
#define YAML_MAX_NODES		(1u << 20)
#define POLICY_MAX_REPORTED	1000		/* problems printed */
#define POLICY_MAX_LOGIN	64
#define DURATION_MAX		(30u * 86400)	/* 30d */
#define COUNT_MAX		100000u
#define RSA_MIN_BITS		2048

/* U+2014, between what is wrong and what to do */
#define DASH	"\xe2\x80\x94"

#define DURATION_HINT \
	"write a number followed by s, m, h or d (30s, 15m, 4h, 2d) " \
	"or a plain number of seconds"
#define NAME_HINT \
	"use 1 to 64 characters from a-z, 0-9, '.', '_' and '-', starting " \
	"with a letter or digit (no capitals, no '+')"
#define KEY_HINT "copy the whole line from the .pub file"

/* ---------------------------------------------------------------------- */
/* Problems */

struct problem {
	int line;
	size_t seq;		/* keeps the sort stable */
	char *msg;
};

/* A name, for the uniqueness checks. */
struct nameref {
	const char *name;
	const char *kind;
	int line;
};

/* A person's key, for the uniqueness check. */
struct keyref {
	const char *blob;	/* base64, which includes the type */
	const char *owner;
	int line;
};

/* A vendor segment, for the overlap check. */
struct segref {
	struct netaddr_cidr net;
	const struct policy_vendor *vendor;
	int line;
};

struct pctx {
	const char *path;	/* as given, for messages */
	char *dir;		/* absolute directory of the file */
	struct policy *p;
	struct problem *probs;
	size_t nprobs, aprobs;
	size_t nerrs;		/* all problems, also those not stored */
	int nomem;
	size_t nnodes;

	struct nameref *vnames, *dnames, *pnames;
	size_t nvnames, avnames, ndnames, adnames, npnames, apnames;
	struct keyref *keys;
	size_t nkeys, akeys;
	struct segref *segs;
	size_t nsegs, asegs;
};

/* Grow *arr (of elements of size sz) so that one more fits. */
static int
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

static void *
xcalloc(struct pctx *c, size_t n, size_t sz)
{
	void *p;

	if (n == 0)
		return (NULL);
	if ((p = calloc(n, sz)) == NULL)
		c->nomem = 1;
	return (p);
}

static char *
xstrdup(struct pctx *c, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		c->nomem = 1;
	return (d);
}

/* strlcat for glibc before 2.38: append, always NUL-terminated. */
static void
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

static void problem(struct pctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Record one problem at line. fmt gives "what is wrong — what to do". */
static void
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

static void
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

/* ---------------------------------------------------------------------- */
/* Stage 2: YAML events to a tree of nodes with lines */

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	int line;
	int bad;		/* already reported: validators stay quiet */
	int full;		/* hit POLICY_MAX_ITEMS; the rest dropped */
	int plain;		/* scalar written without quotes */
	char *str;		/* scalar text, NUL-terminated */
	size_t len;
	struct ynode **kid;	/* list items; mapping: key, value, ... */
	size_t nkid, akid;
};

static void
ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkid; i++)
		ynode_free(n->kid[i]);	/* depth <= YAML_MAX_DEPTH */
	free(n->kid);
	free(n->str);
	free(n);
}

static const char *
ynode_kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case YNODE_SEQ:
		return ("a list");
	case YNODE_MAP:
		return ("a mapping");
	default:
		return (n->plain && n->len == 0 ? "empty" : "a single value");
	}
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
static int
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

/* ---------------------------------------------------------------------- */
/* Stage 3 helpers: schema checks on nodes */

/* Value of key in mapping m (first occurrence), or NULL. */
static const struct ynode *
ymap_get(const struct ynode *m, const char *key)
{
	size_t i;

	if (m == NULL || m->kind != YNODE_MAP)
		return (NULL);
	for (i = 0; i + 1 < m->nkid; i += 2)
		if (!m->kid[i]->bad && m->kid[i]->kind == YNODE_SCALAR &&
		    strcmp(m->kid[i]->str, key) == 0)
			return (m->kid[i + 1]);
	return (NULL);
}

/* Optimal string alignment distance (a transposition counts 1), capped. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[33][33], v;

	if (la > 32 || lb > 32)
		return (SIZE_MAX);
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return (d[la][lb]);
}

/* The closest of cands to s if it is plausibly a typo, else NULL. */
static const char *
closest(const char *s, const char *const *cands, size_t ncands)
{
	const char *best = NULL;
	size_t i, d, bestd = SIZE_MAX, lim;

	lim = strlen(s) <= 4 ? 1 : 2;
	for (i = 0; i < ncands; i++) {
		if (cands[i] == NULL)
			continue;
		d = edit_distance(s, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return (bestd <= lim ? best : NULL);
}

static size_t
strv_len(const char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return (n);
}

/*
 * n must be a mapping whose keys are all in known (NULL-terminated, at most
 * 16), each given once. Reports every unknown or repeated key. Returns 0 if
 * n is a mapping the caller may read, -1 if not.
 */
static int
check_map(struct pctx *c, const struct ynode *n, const char *what,
    const char *const *known, const char *hint)
{
	int first[16];
	size_t i, j, nknown = strv_len(known);
	const struct ynode *k;
	const char *sug;
	char list[512];

	if (n->bad)
		return (-1);
	if (n->kind != YNODE_MAP) {
		problem(c, n->line, "%s must be a mapping of keys, not %s "
		    DASH " %s", what, ynode_kind_name(n), hint);
		return (-1);
	}
	memset(first, 0, sizeof(first));
	for (i = 0; i + 1 < n->nkid; i += 2) {
		k = n->kid[i];
		if (k->bad)
			continue;
		for (j = 0; j < nknown && strcmp(known[j], k->str) != 0; j++)
			;
		if (j < nknown && j < 16) {
			if (first[j] != 0)
				problem(c, k->line, "%s: duplicate key \"%s\" "
				    "(first given at line %d) " DASH " "
				    "keep only one", what, k->str, first[j]);
			else
				first[j] = k->line;
			continue;
		}
		if ((sug = closest(k->str, known, nknown)) != NULL) {
			problem(c, k->line, "%s: unknown key \"%.64s\" "
			    DASH " did you mean \"%s\"?", what, k->str,
			    sug);
			continue;
		}
		list[0] = '\0';
		for (j = 0; j < nknown; j++) {
			if (j > 0)
				append(list, ", ", sizeof(list));
			append(list, known[j], sizeof(list));
		}
		problem(c, k->line, "%s: unknown key \"%.64s\" " DASH " "
		    "remove it or use one of: %s", what, k->str, list);
	}
	return (0);
}

/* Value of key in m; reports it as missing (at the mapping) when need says
 * what to add. */
static const struct ynode *
field(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need)
{
	const struct ynode *v;

	if ((v = ymap_get(m, key)) == NULL && need != NULL)
		problem(c, m->line, "%s has no \"%s\" " DASH " add %s",
		    what, key, need);
	return (v);
}

/* Text of scalar v, or NULL after reporting why there is none. */
static const char *
scalar(struct pctx *c, const struct ynode *v, const char *key,
    const char *what)
{
	if (v->bad)
		return (NULL);
	if (v->kind != YNODE_SCALAR) {
		problem(c, v->line, "%s: %s must be a single value, not %s "
		    DASH " write %s: VALUE", what, key,
		    ynode_kind_name(v), key);
		return (NULL);
	}
	if (v->len == 0 || (v->plain && (strcmp(v->str, "~") == 0 ||
	    strcasecmp(v->str, "null") == 0))) {
		problem(c, v->line, "%s: %s is empty " DASH " give it a "
		    "value or remove the key", what, key);
		return (NULL);
	}
	return (v->str);
}

/* v must be a list with at least min items. */
static int
check_seq(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, size_t min, const char *example)
{
	if (v->bad)
		return (-1);
	if (v->kind != YNODE_SEQ) {
		problem(c, v->line, "%s: %s must be a list, not %s "
		    DASH " write %s: %s", what, key, ynode_kind_name(v),
		    key, example);
		return (-1);
	}
	if (v->nkid < min) {
		problem(c, v->line, "%s: %s is an empty list " DASH " "
		    "give at least one, e.g. %s: %s", what, key, key, example);
		return (-1);
	}
	return (0);
}

int
policy_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9'))
			continue;
		if (i > 0 && (s[i] == '.' || s[i] == '_' || s[i] == '-'))
			continue;
		return (0);
	}
	return (i > 0 && i <= POLICY_MAX_NAME);
}

/* "vendor "acme"" or "vendor at line 7", for messages. */
static void
label(char *out, size_t len, const char *kind, const struct ynode *m)
{
	const struct ynode *v = ymap_get(m, "name");

	if (v != NULL && v->kind == YNODE_SCALAR && !v->bad &&
	    policy_name_ok(v->str))
		snprintf(out, len, "%s \"%s\"", kind, v->str);
	else
		snprintf(out, len, "%s at line %d", kind, m->line);
}

/* Free text shown to people: no control characters (terminal escapes). */
static int
text_ok(const char *s)
{
	const unsigned char *u;

	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if ((*u < 0x20 && *u != '\t') || *u == 0x7f)
			return (0);
		if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return (0);
	}
	return (1);
}

static int
get_name(struct pctx *c, const struct ynode *m, const char *what,
    const char *kind, char **out)
{
	const struct ynode *v;
	const char *s;

	if ((v = field(c, m, "name", what, "name: NAME")) == NULL ||
	    (s = scalar(c, v, "name", what)) == NULL)
		return (-1);
	if (!policy_name_ok(s)) {
		problem(c, v->line, "%s name \"%.80s\" is not valid "
		    DASH " " NAME_HINT, kind, s);
		return (-1);
	}
	if ((*out = xstrdup(c, s)) == NULL)
		return (-1);
	return (0);
}

/* Optional free text (description, full_name). */
static void
get_text(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, char **out)
{
	const struct ynode *v;
	const char *s;

	if ((v = field(c, m, key, what, NULL)) == NULL ||
	    (s = scalar(c, v, key, what)) == NULL)
		return;
	if (strlen(s) > POLICY_MAX_TEXT) {
		problem(c, v->line, "%s: %s is %zu bytes long " DASH " "
		    "keep it to %d", what, key, strlen(s), POLICY_MAX_TEXT);
		return;
	}
	if (!text_ok(s)) {
		problem(c, v->line, "%s: %s contains control characters "
		    DASH " use plain text (it is shown on terminals)",
		    what, key);
		return;
	}
	*out = xstrdup(c, s);
}

/* A path; relative ones are resolved against the file's directory. */
static char *
resolve_path(struct pctx *c, const struct ynode *v, const char *key,
    const char *what)
{
	const char *s;
	char *r;

	if ((s = scalar(c, v, key, what)) == NULL)
		return (NULL);
	if (strlen(s) >= PATH_MAX || !text_ok(s)) {
		problem(c, v->line, "%s: %s is not a usable path (too long "
		    "or control characters) " DASH " write a plain file "
		    "path", what, key);
		return (NULL);
	}
	if (s[0] == '/')
		return (xstrdup(c, s));
	if (asprintf(&r, "%s/%s", c->dir, s) < 0) {
		c->nomem = 1;
		return (NULL);
	}
	return (r);
}

static int
get_path(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need, char **out)
{
	const struct ynode *v;

	if ((v = field(c, m, key, what, need)) == NULL)
		return (-1);
	return ((*out = resolve_path(c, v, key, what)) == NULL ? -1 : 0);
}

/* Booleans: true/false/yes/no, any case. Absent keeps *out. */
static int
get_bool(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, int *out)
{
	const struct ynode *v;
	const char *s;

	if ((v = field(c, m, key, what, NULL)) == NULL)
		return (0);
	if ((s = scalar(c, v, key, what)) == NULL)
		return (-1);
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)
		*out = 1;
	else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)
		*out = 0;
	else {
		problem(c, v->line, "%s: %s is \"%.64s\", not a boolean "
		    DASH " write true or false", what, key, s);
		return (-1);
	}
	return (1);
}

/* Decimal without sign or leading zeros, at most 9 digits. */
static int
parse_uint(const char *s, unsigned long long *out)
{
	size_t i;

	*out = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 9)
			return (-1);
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || (s[0] == '0' && i > 1))
		return (-1);
	return ((int)i);
}

/* "30s", "15m", "4h", "2d" or a number of seconds. */
static int
parse_duration(const char *s, unsigned *out)
{
	unsigned long long v, mult = 1;
	int n;

	if ((n = parse_uint(s, &v)) < 0)
		return (-1);
	switch (s[n]) {
	case '\0':
		break;
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return (-1);
	}
	if (s[n] != '\0' && s[n + 1] != '\0')
		return (-1);
	v *= mult;
	if (v > UINT_MAX)
		return (-1);
	*out = (unsigned)v;
	return (0);
}

static int
get_duration(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, unsigned *out)
{
	const struct ynode *v;
	const char *s;
	unsigned d;

	if ((v = field(c, m, key, what, NULL)) == NULL)
		return (0);
	if ((s = scalar(c, v, key, what)) == NULL)
		return (-1);
	if (parse_duration(s, &d) != 0) {
		problem(c, v->line, "%s: %s is \"%.64s\", not a duration "
		    DASH " " DURATION_HINT, what, key, s);
		return (-1);
	}
	if (d < 1 || d > DURATION_MAX) {
		problem(c, v->line, "%s: %s of %u seconds is out of range "
		    DASH " use a duration from 1s to 30d", what, key,
		    d);
		return (-1);
	}
	*out = d;
	return (1);
}

static int
parse_port(const char *s, uint16_t *out)
{
	unsigned long long v;
	int n;

	if ((n = parse_uint(s, &v)) < 0 || s[n] != '\0' || v < 1 ||
	    v > 65535)
		return (-1);
	*out = (uint16_t)v;
	return (0);
}

static int
port_value(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, uint16_t *out)
{
	const char *s;

	if ((s = scalar(c, v, key, what)) == NULL)
		return (-1);
	if (parse_port(s, out) != 0) {
		problem(c, v->line, "%s: %s \"%.64s\" is not a port number "
		    DASH " use a number from 1 to 65535 without leading "
		    "zeros", what, key, s);
		return (-1);
	}
	return (0);
}

/* YYYY-MM-DD, a real calendar date; the end of that day, UTC. */
static int
parse_date(const char *s, time_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	struct tm tm;
	int y, mo, d, i, leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return (-1);
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return (-1);
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	mo = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || mo < 1 || mo > 12 || d < 1)
		return (-1);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	if ((*out = timegm(&tm)) == (time_t)-1)
		return (-1);
	return (0);
}

static const char *const day_names[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};

static int
parse_day(const char *s, size_t n)
{
	int i;

	if (n != 3)
		return (-1);
	for (i = 0; i < 7; i++)
		if (strncmp(s, day_names[i], 3) == 0)
			return (i);
	return (-1);
}

/* "HH:MM", 00:00 to 24:00 (24:00 only when end is set). */
static int
parse_hhmm(const char *s, int end)
{
	int h, m;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] != ':' || s[3] < '0' || s[3] > '9' || s[4] < '0' ||
	    s[4] > '9')
		return (-1);
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (!end || m != 0)))
		return (-1);
	return (h * 60 + m);
}

/*
 * "DAYS HH:MM-HH:MM". DAYS is "daily" or a comma list of days and day
 * ranges ("mon-fri", "fri-mon" wraps); an end before the start runs
 * overnight into the next day.
 */
static int policy_window_parse1(const char *, struct policy_window *);

int
policy_window_parse(const char *s, struct policy_window *w)
{
	if (policy_window_parse1(s, w) != 0 || w->days == 0) {
		memset(w, 0, sizeof(*w));
		return (BERR_FORMAT);
	}
	return (0);
}

static int
policy_window_parse1(const char *s, struct policy_window *w)
{
	const char *p = s, *sp, *comma, *dash;
	int a, b, i;

	memset(w, 0, sizeof(*w));
	if (s == NULL || (sp = strchr(s, ' ')) == NULL)
		return (-1);
	if ((size_t)(sp - s) == 5 && strncmp(s, "daily", 5) == 0)
		w->days = 0x7f;
	else {
		while (p < sp) {
			if ((comma = memchr(p, ',', (size_t)(sp - p))) == NULL)
				comma = sp;
			dash = memchr(p, '-', (size_t)(comma - p));
			if (dash == NULL) {
				if ((a = parse_day(p, (size_t)(comma - p))) < 0)
					return (-1);
				b = a;
			} else if ((a = parse_day(p, (size_t)(dash - p))) < 0 ||
			    (b = parse_day(dash + 1,
			    (size_t)(comma - dash - 1))) < 0)
				return (-1);
			for (i = a;; i = (i + 1) % 7) {
				w->days |= (uint8_t)(1u << i);
				if (i == b)
					break;
			}
			p = comma + 1;
			if (comma < sp && p >= sp)
				return (-1);	/* trailing comma */
		}
	}
	while (*sp == ' ')
		sp++;
	if (strlen(sp) != 11 || sp[5] != '-' ||
	    (w->start_min = parse_hhmm(sp, 0)) < 0 ||
	    (w->end_min = parse_hhmm(sp + 6, 1)) < 0 ||
	    w->start_min == w->end_min)
		return (-1);
	return (0);
}

int
policy_window_match(const struct policy_window *w, const struct tm *tm)
{
	int today, yesterday, m;

	if (tm->tm_wday < 0 || tm->tm_wday > 6)
		return (0);
	today = (tm->tm_wday + 6) % 7;		/* tm: Sunday 0; ours: Monday 0 */
	yesterday = (today + 6) % 7;
	m = tm->tm_hour * 60 + tm->tm_min;
	if (w->start_min < w->end_min)
		return ((w->days & (1u << today)) != 0 && m >= w->start_min &&
		    m < w->end_min);
	/* overnight: the day named is the day the window starts */
	return (((w->days & (1u << today)) != 0 && m >= w->start_min) ||
	    ((w->days & (1u << yesterday)) != 0 && m < w->end_min));
}

static void
parse_windows(struct pctx *c, const struct ynode *v, const char *what,
    struct policy_approval *a)
{
	const char *s;
	size_t i;

	if (check_seq(c, v, "windows", what, 0,
	    "[\"mon-fri 08:00-18:00\"]") != 0)
		return;
	if ((a->windows = xcalloc(c, v->nkid, sizeof(*a->windows))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		if ((s = scalar(c, v->kid[i], "windows entry", what)) == NULL)
			continue;
		if (policy_window_parse(s, &a->windows[a->nwindows]) != 0) {
			problem(c, v->kid[i]->line, "%s: window \"%.64s\" is "
			    "not valid " DASH " write DAYS HH:MM-HH:MM, "
			    "e.g. \"mon-fri 08:00-18:00\", \"sat "
			    "09:00-12:00\" or \"daily 22:00-06:00\"", what, s);
			continue;
		}
		a->nwindows++;
	}
}

/* ---------------------------------------------------------------------- */
/* Public keys */

/* Key types a person or device may use; everything else is refused. */
static int
key_type_allowed(enum ssh_keytypes_e t)
{
	switch (t) {
	case SSH_KEYTYPE_RSA:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
	case SSH_KEYTYPE_ED25519:
	case SSH_KEYTYPE_SK_ECDSA:
	case SSH_KEYTYPE_SK_ED25519:
		return (1);
	default:
		return (0);
	}
}

static int
key_type_known(const char *s)
{
	return (ssh_key_type_from_name(s) != SSH_KEYTYPE_UNKNOWN);
}

/* The bytes of a base64 key blob in a bounded buffer; NULL if it is not
 * base64. Not B64_CANONICAL: libssh's round trip says that, later. */
static struct buf *
blob_decode(const char *b64)
{
	uint8_t *raw;
	size_t n;
	struct buf *b;

	if (b64_decode(b64, POLICY_MAX_STRING, 0, &raw, &n) != 0)
		return (NULL);
	b = buf_from(raw, n);
	free(raw);
	return (b);
}

/* Type name inside a base64 key blob, for a useful mismatch message. */
static char *
blob_type(const char *b64)
{
	struct buf *b;
	char *t = NULL;

	if ((b = blob_decode(b64)) != NULL && buf_get_cstring(b, &t, 64) != 0)
		t = NULL;
	buf_free(b);
	return (t);
}

/* Bits of the modulus of an ssh-rsa blob (string type, mpint e, mpint n);
 * 0 if unreadable. libssh 0.10 has no call for this. */
static int
rsa_bits(const char *b64)
{
	struct buf *b;
	const uint8_t *t, *e, *n;
	size_t tl, el, nl;
	int bits = 0;
	uint8_t top;

	if ((b = blob_decode(b64)) != NULL &&
	    buf_get_string_direct(b, &t, &tl, 64) == 0 &&
	    buf_get_string_direct(b, &e, &el, 8192) == 0 &&
	    buf_get_string_direct(b, &n, &nl, 8192) == 0) {
		while (nl > 0 && n[0] == 0) {
			n++;
			nl--;
		}
		if (nl > 0) {
			bits = (int)nl * 8;
			for (top = n[0]; (top & 0x80) == 0; top <<= 1)
				bits--;
		}
	}
	buf_free(b);
	return (bits);
}

/* Split the next whitespace-separated token off *sp (modified in place). */
static char *
next_token(char **sp)
{
	char *s = *sp, *t;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*sp = s;
		return (NULL);
	}
	t = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return (t);
}

static int
key_options(struct pctx *c, int line, const char *who, char *opts,
    struct policy_key *k)
{
	char *o, *save = NULL;
	int bad = 0;

	for (o = strtok_r(opts, ",", &save); o != NULL;
	    o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "verify-required") == 0)
			k->verify_required = 1;
		else if (strcmp(o, "no-touch-required") == 0)
			k->no_touch_required = 1;
		else {
			problem(c, line, "%s: unknown key option \"%.64s\" "
			    DASH " the bastion accepts only "
			    "verify-required and no-touch-required", who, o);
			bad = 1;
		}
	}
	return (bad ? -1 : 0);
}

/*
 * Parse one authorized_keys-format line "[OPTIONS] TYPE BASE64 [COMMENT]"
 * from v into k. The blob is decoded by libssh with the declared type, its
 * embedded type must be that same type, and it must export back to the
 * same base64 (no trailing or non-canonical bytes). host: a device host key
 * (no options, no security-key types). 0, or -1 after reporting.
 */
static int
parse_key(struct pctx *c, const struct ynode *v, const char *who, int host,
    struct policy_key *k)
{
	char *line = NULL, *s, *t1, *t2, *t3, *opts = NULL, *type, *b64;
	char *comment = NULL, *inner = NULL, *round = NULL, *e;
	const char *text;
	enum ssh_keytypes_e kt;
	ssh_key key = NULL;
	int ret = -1, l = v->line, bits;

	memset(k, 0, sizeof(*k));
	k->line = l;
	if ((text = scalar(c, v, host ? "host_key" : "key", who)) == NULL)
		return (-1);
	if (!text_ok(text)) {
		problem(c, l, "%s: key contains control characters "
		    DASH " " KEY_HINT, who);
		return (-1);
	}
	if ((line = xstrdup(c, text)) == NULL)
		return (-1);
	s = line;
	t1 = next_token(&s);
	t2 = next_token(&s);
	t3 = next_token(&s);
	while (*s == ' ' || *s == '\t')
		s++;
	if (t1 != NULL && key_type_known(t1)) {
		type = t1;
		b64 = t2;
		if (t3 != NULL) {
			comment = t3;
			if (*s != '\0')
				t3[strlen(t3)] = ' ';	/* rejoin */
		}
	} else if (t2 != NULL && key_type_known(t2)) {
		opts = t1;
		type = t2;
		b64 = t3;
		if (*s != '\0')
			comment = s;
	} else {
		if (t2 != NULL && strncmp(t2, "AAAA", 4) == 0)
			problem(c, l, "%s: unknown key type \"%.64s\" "
			    DASH " use sk-ssh-ed25519@openssh.com, "
			    "sk-ecdsa-sha2-nistp256@openssh.com, ssh-ed25519, "
			    "ecdsa-sha2-nistp256/384/521 or ssh-rsa", who, t1);
		else
			problem(c, l, "%s: \"%.40s\" is not a public key "
			    "line " DASH " " KEY_HINT " (TYPE BASE64 "
			    "COMMENT)", who, text);
		goto out;
	}
	if (comment != NULL) {
		for (e = comment + strlen(comment); e > comment &&
		    (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
	}
	kt = ssh_key_type_from_name(type);
	if (opts != NULL && host) {
		problem(c, l, "%s: options are not allowed in a host key "
		    DASH " write only TYPE BASE64", who);
		goto out;
	}
	if (opts != NULL && key_options(c, l, who, opts, k) != 0)
		goto out;
	if (!key_type_allowed(kt)) {
		problem(c, l, "%s: key type %.64s is not supported "
		    DASH " %s", who, type, strstr(type, "-cert") ?
		    "give the plain public key, not a certificate" :
		    "use an ed25519-sk, ecdsa-sk, ed25519, ECDSA or RSA key");
		goto out;
	}
	k->is_sk = kt == SSH_KEYTYPE_SK_ECDSA || kt == SSH_KEYTYPE_SK_ED25519;
	if (host && k->is_sk) {
		problem(c, l, "%s: a device host key cannot be a security-key "
		    "type " DASH " pin the device's real host key "
		    "(ssh-keyscan)", who);
		goto out;
	}
	if (b64 == NULL) {
		problem(c, l, "%s: key has no data after its type "
		    DASH " " KEY_HINT, who);
		goto out;
	}
	if ((inner = blob_type(b64)) == NULL) {
		problem(c, l, "%s: key data is not valid base64 of an SSH key "
		    DASH " " KEY_HINT, who);
		goto out;
	}
	if (strcmp(inner, type) != 0) {
		problem(c, l, "%s: key is declared as %.64s but its data is "
		    "a %.64s key " DASH " " KEY_HINT, who, type, inner);
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(b64, kt, &key) != SSH_OK ||
	    key == NULL) {
		problem(c, l, "%s: %.64s key data is malformed " DASH " "
		    KEY_HINT, who, type);
		goto out;
	}
	if (ssh_key_type(key) != kt) {
		problem(c, l, "%s: key is declared as %.64s but decodes as "
		    "%s " DASH " " KEY_HINT, who, type,
		    ssh_key_type_to_char(ssh_key_type(key)));
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &round) != SSH_OK ||
	    round == NULL || strcmp(round, b64) != 0) {
		problem(c, l, "%s: %.64s key data has extra or non-canonical "
		    "bytes " DASH " " KEY_HINT, who, type);
		goto out;
	}
	if (kt == SSH_KEYTYPE_RSA && (bits = rsa_bits(b64)) < RSA_MIN_BITS) {
		problem(c, l, "%s: RSA key has only %d bits " DASH " use "
		    "at least %d bits, or better a security key", who, bits,
		    RSA_MIN_BITS);
		goto out;
	}
	if (!k->is_sk && (k->verify_required || k->no_touch_required)) {
		problem(c, l, "%s: options verify-required and "
		    "no-touch-required apply only to security-key (sk-) keys "
		    DASH " remove the option", who);
		goto out;
	}
	if ((k->type = xstrdup(c, type)) == NULL ||
	    (k->base64 = xstrdup(c, b64)) == NULL ||
	    (comment != NULL && (k->comment = xstrdup(c, comment)) == NULL))
		goto out;
	ret = 0;
 out:
	if (ret != 0) {
		free(k->type);
		free(k->base64);
		free(k->comment);
		k->type = k->base64 = k->comment = NULL;
	}
	ssh_string_free_char(round);
	ssh_key_free(key);
	free(inner);
	free(line);
	return (ret);
}

/* ---------------------------------------------------------------------- */
/* Sections */

static void
add_name(struct pctx *c, struct nameref **arr, size_t *n, size_t *a,
    const char *name, const char *kind, int line)
{
	if (name == NULL || grow(c, (void **)arr, a, *n, sizeof(**arr)) != 0)
		return;
	(*arr)[*n].name = name;
	(*arr)[*n].kind = kind;
	(*arr)[*n].line = line;
	(*n)++;
}

static void
parse_version(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v;
	const char *s;

	if ((v = field(c, root, "version", "the policy",
	    "version: 1 at the top")) == NULL ||
	    (s = scalar(c, v, "version", "the policy")) == NULL)
		return;
	if (strcmp(s, "1") != 0)
		problem(c, v->line, "policy version \"%.32s\" is not supported "
		    DASH " this bastion reads version: 1", s);
}

/* "ADDR:PORT" or "[IPv6]:PORT", literal addresses only. */
static void
parse_listen(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v, *it;
	struct policy *p = c->p;
	struct netaddr a;
	char host[INET6_ADDRSTRLEN + 2], txt[INET6_ADDRSTRLEN];
	const char *s, *colon, *hs;
	size_t i, j, hl;
	uint16_t port;

	if ((v = field(c, root, "listen", "the policy",
	    "listen: [\"127.0.0.1:2222\"]")) == NULL ||
	    check_seq(c, v, "listen", "the policy", 1,
	    "[\"127.0.0.1:2222\"]") != 0)
		return;
	if ((p->listen = xcalloc(c, v->nkid, sizeof(*p->listen))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		it = v->kid[i];
		if ((s = scalar(c, it, "listen entry", "the policy")) == NULL)
			continue;
		hs = s;
		hl = 0;
		if (s[0] == '[') {
			colon = strchr(s, ']');
			if (colon != NULL && colon[1] == ':') {
				hs = s + 1;
				hl = (size_t)(colon - hs);
				colon++;
			} else
				colon = NULL;
		} else {
			colon = strrchr(s, ':');
			hl = colon != NULL ? (size_t)(colon - s) : 0;
			if (colon != NULL && memchr(s, ':', hl) != NULL)
				colon = NULL;	/* bare IPv6 */
		}
		if (colon == NULL || hl == 0 || hl >= sizeof(host) ||
		    parse_port(colon + 1, &port) != 0) {
			problem(c, it->line, "listen entry \"%.64s\" is not "
			    "ADDRESS:PORT " DASH " write e.g. "
			    "\"127.0.0.1:2222\" or \"[::1]:2222\" (port 1 to "
			    "65535)", s);
			continue;
		}
		memcpy(host, hs, hl);
		host[hl] = '\0';
		if (netaddr_parse(host, &a) != 0) {
			problem(c, it->line, "listen address \"%.64s\" is not "
			    "a literal IP address " DASH " write it as "
			    "a.b.c.d or [IPv6] (no host names, no shorthands "
			    "like 127.1)", host);
			continue;
		}
		for (j = 0; j < p->nlisten; j++) {
			struct netaddr b;

			if (netaddr_parse(p->listen[j].host, &b) == 0 &&
			    netaddr_equal(&a, &b) && p->listen[j].port == port)
				break;
		}
		if (j < p->nlisten) {
			problem(c, it->line, "listen entry \"%.64s\" is given "
			    "twice " DASH " remove one", s);
			continue;
		}
		netaddr_str(&a, txt, sizeof(txt));
		if ((p->listen[p->nlisten].host = xstrdup(c, txt)) == NULL)
			return;
		p->listen[p->nlisten++].port = port;
	}
}

static void
parse_paths(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "host_keys", "state_dir",
	    "recordings_dir", "run_dir", "pam_service_dir", "recorder_socket",
	    NULL };
	const struct ynode *m, *v;
	struct policy *p = c->p;
	const char *what = "paths";
	size_t i;

	if ((m = field(c, root, "paths", "the policy", "paths: with "
	    "host_keys, state_dir, recordings_dir and run_dir")) == NULL ||
	    check_map(c, m, what, keys, "give host_keys, state_dir, "
	    "recordings_dir and run_dir") != 0)
		return;
	if ((v = field(c, m, "host_keys", what,
	    "host_keys: [PATH] (the bastion's own SSH host keys)")) != NULL &&
	    check_seq(c, v, "host_keys", what, 1,
	    "[hostkeys/ssh_host_ed25519_key]") == 0 &&
	    (p->host_keys = xcalloc(c, v->nkid, sizeof(char *))) != NULL) {
		for (i = 0; i < v->nkid; i++) {
			char *r = resolve_path(c, v->kid[i], "host_keys entry",
			    what);

			if (r != NULL)
				p->host_keys[p->nhost_keys++] = r;
		}
	}
	get_path(c, m, "state_dir", what, "state_dir: DIR (SQLite state)",
	    &p->state_dir);
	get_path(c, m, "recordings_dir", what, "recordings_dir: DIR",
	    &p->recordings_dir);
	get_path(c, m, "run_dir", what, "run_dir: DIR (control sockets)",
	    &p->run_dir);
	/* optional: a private PAM configuration directory */
	(void)get_path(c, m, "pam_service_dir", what, NULL,
	    &p->pam_service_dir);
	/* optional: the socket of a recorder that runs as its own service */
	if ((v = field(c, m, "recorder_socket", what, NULL)) != NULL &&
	    (p->recorder_socket = resolve_path(c, v, "recorder_socket",
	    what)) != NULL) {
		p->recorder_external = 1;
		if (strlen(p->recorder_socket) >=
		    sizeof(((struct sockaddr_un *)NULL)->sun_path))
			problem(c, v->line, "paths: recorder_socket is longer "
			    "than a Unix socket name may be (%zu bytes) " DASH
			    " choose a shorter path, e.g. "
			    "/run/bastion-recorder/recorder.sock",
			    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
	} else if (p->run_dir != NULL && asprintf(&p->recorder_socket,
	    "%s/recorder.sock", p->run_dir) < 0) {
		p->recorder_socket = NULL;
		c->nomem = 1;
	}
}

/* limits: a count of connections, 1 to COUNT_MAX. */
static void
get_conn_count(struct pctx *c, const struct ynode *m, const char *key,
    unsigned *out)
{
	const struct ynode *v;
	unsigned long long n;
	const char *s;
	int l;

	if ((v = field(c, m, key, "limits", NULL)) == NULL ||
	    (s = scalar(c, v, key, "limits")) == NULL)
		return;
	l = parse_uint(s, &n);
	if (l < 0 || s[l] != '\0' || n < 1 || n > COUNT_MAX)
		problem(c, v->line, "limits: %s \"%.64s\" is not a count "
		    DASH " write a number of connections from 1 to %u", key, s,
		    COUNT_MAX);
	else
		*out = (unsigned)n;
}

static void
parse_limits(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "login_grace",
	    "max_unauthenticated", "per_source_max_unauthenticated",
	    "vendor_source_max_unauthenticated", "vendor_source_penalty_max",
	    "idle_timeout", "idle_warning", "max_session", "keepalive",
	    "recording_min_free_mb", "touch_transfer_window", NULL };
	const struct ynode *m, *v;
	struct policy *p = c->p;
	const char *what = "limits", *s;
	unsigned long long n;
	int given_w, given_t, ok_w, ok_t;

	if ((m = field(c, root, "limits", what, NULL)) == NULL ||
	    check_map(c, m, what, keys, "write limits: with idle_timeout: "
	    "15m and the other limits, or remove it for the defaults") != 0)
		return;
	get_duration(c, m, "login_grace", what, &p->login_grace);
	get_conn_count(c, m, "max_unauthenticated",
	    &p->max_unauthenticated);
	get_conn_count(c, m, "per_source_max_unauthenticated",
	    &p->per_source_max_unauthenticated);
	get_conn_count(c, m, "vendor_source_max_unauthenticated",
	    &p->vendor_source_max_unauthenticated);
	get_duration(c, m, "vendor_source_penalty_max", what,
	    &p->vendor_source_penalty_max);
	if ((v = field(c, m, "recording_min_free_mb", what, NULL)) != NULL &&
	    (s = scalar(c, v, "recording_min_free_mb", what)) != NULL) {
		int l = parse_uint(s, &n);

		if (l < 0 || s[l] != '\0' || n > 1000000000ULL)
			problem(c, v->line, "limits: recording_min_free_mb "
			    "\"%.64s\" is not a size " DASH " write the free "
			    "space in MiB below which sessions are refused, "
			    "e.g. 1024", s);
		else
			p->recording_min_free_mb = (unsigned)n;
	}
	if ((v = field(c, m, "touch_transfer_window", what, NULL)) != NULL &&
	    (s = scalar(c, v, "touch_transfer_window", what)) != NULL) {
		unsigned d;

		if (parse_duration(s, &d) != 0)
			problem(c, v->line, "limits: touch_transfer_window is "
			    "\"%.64s\", not a duration " DASH " write e.g. 5m, "
			    "or 0 to turn transfer windows off", s);
		else if (d > TOUCH_TRANSFER_WINDOW_MAX)
			problem(c, v->line, "limits: touch_transfer_window of "
			    "%u seconds is too long " DASH " a touch may admit "
			    "transfers for at most %um; write e.g. 5m, or 0 to "
			    "turn transfer windows off", d,
			    TOUCH_TRANSFER_WINDOW_MAX / 60);
		else
			p->touch_transfer_window = d;
	}
	given_t = get_duration(c, m, "idle_timeout", what, &p->idle_timeout);
	given_w = get_duration(c, m, "idle_warning", what, &p->idle_warning);
	get_duration(c, m, "max_session", what, &p->max_session);
	get_duration(c, m, "keepalive", what, &p->keepalive);
	ok_t = given_t >= 0;
	ok_w = given_w >= 0;
	if (ok_t && ok_w && (given_t > 0 || given_w > 0) &&
	    p->idle_warning >= p->idle_timeout) {
		v = ymap_get(m, given_w > 0 ? "idle_warning" : "idle_timeout");
		problem(c, v->line, "limits: idle_warning (%us) must be "
		    "shorter than idle_timeout (%us) " DASH " lower "
		    "idle_warning or raise idle_timeout", p->idle_warning,
		    p->idle_timeout);
	}
}

static void
copy_windows(struct pctx *c, const struct policy_approval *from,
    struct policy_approval *to)
{
	if (from->nwindows == 0)
		return;
	if ((to->windows = xcalloc(c, from->nwindows,
	    sizeof(*to->windows))) == NULL)
		return;
	memcpy(to->windows, from->windows,
	    from->nwindows * sizeof(*to->windows));
	to->nwindows = from->nwindows;
}

static void
parse_global_approval(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "required", "second_approver",
	    "max_grant", "timeout", "notify_command", "windows", NULL };
	const struct ynode *m, *v;
	struct policy *p = c->p;
	const char *what = "approval", *s;

	p->approval.set = 1;
	if ((m = field(c, root, "approval", what, NULL)) != NULL &&
	    check_map(c, m, what, keys, "write approval: with required: "
	    "true/false and the other keys") == 0) {
		get_bool(c, m, "required", what, &p->approval.required);
		get_bool(c, m, "second_approver", what,
		    &p->approval.second_approver);
		get_duration(c, m, "max_grant", what, &p->default_max_grant);
		get_duration(c, m, "timeout", what, &p->approval_timeout);
		if ((v = field(c, m, "notify_command", what, NULL)) != NULL &&
		    (s = scalar(c, v, "notify_command", what)) != NULL) {
			if (s[0] != '/' || !text_ok(s) ||
			    strlen(s) >= PATH_MAX)
				problem(c, v->line, "approval: notify_command "
				    "\"%.64s\" is not an absolute path "
				    DASH " give the full path of the "
				    "program, e.g. /usr/local/bin/"
				    "bastion-notify", s);
			else
				p->notify_command = xstrdup(c, s);
		}
		if ((v = field(c, m, "windows", what, NULL)) != NULL)
			parse_windows(c, v, what, &p->approval);
	}
	p->approval.max_grant = p->default_max_grant;
}

/*
 * A vendor's or device's approval block: the keys given override the rule
 * above (inherit), the rest are copied from it, so the result is complete.
 */
static void
parse_approval(struct pctx *c, const struct ynode *owner, const char *who,
    const struct policy_approval *inherit, struct policy_approval *a)
{
	static const char *const keys[] = { "required", "second_approver",
	    "max_grant", "windows", NULL };
	const struct ynode *m, *v;
	char what[160];

	if ((m = ymap_get(owner, "approval")) == NULL)
		return;
	snprintf(what, sizeof(what), "%s approval", who);
	a->set = 1;
	a->required = inherit->required;
	a->second_approver = inherit->second_approver;
	a->max_grant = inherit->max_grant;
	if (check_map(c, m, what, keys, "write approval: {required: true, "
	    "max_grant: 2h} or remove it to inherit") != 0)
		return;
	get_bool(c, m, "required", what, &a->required);
	get_bool(c, m, "second_approver", what, &a->second_approver);
	get_duration(c, m, "max_grant", what, &a->max_grant);
	if ((v = ymap_get(m, "windows")) != NULL)
		parse_windows(c, v, what, a);
	else
		copy_windows(c, inherit, a);
}

/* Keys of one person: engineers need security keys unless their vendor
 * allows others. */
static void
parse_person_keys(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_person *w)
{
	const struct ynode *v;
	const struct policy_vendor *vd = w->vendor;
	struct policy_key *k;
	size_t i;

	if ((v = field(c, m, "keys", what, "keys: [\"sk-ssh-ed25519@"
	    "openssh.com AAAA... comment\"] (from the .pub file)")) == NULL ||
	    check_seq(c, v, "keys", what, 1, "[\"sk-ssh-ed25519@openssh.com "
	    "AAAA...\"]") != 0)
		return;
	if ((w->keys = xcalloc(c, v->nkid, sizeof(*w->keys))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		k = &w->keys[w->nkeys];
		if (parse_key(c, v->kid[i], what, 0, k) != 0)
			continue;
		if (vd != NULL && !k->is_sk && !vd->allow_non_sk_keys)
			problem(c, k->line, "%s: key of type %s is not a "
			    "security-key (sk-) key " DASH " use an "
			    "ed25519-sk or ecdsa-sk key, or set "
			    "allow_non_sk_keys: true for vendor \"%s\"", what,
			    k->type, vd->name ? vd->name : "?");
		else if (vd != NULL && k->no_touch_required &&
		    vd->touch == POLICY_TOUCH_REQUIRED)
			problem(c, k->line, "%s: key option no-touch-required "
			    "contradicts touch: required of vendor \"%s\" "
			    DASH " remove the option, or set touch: "
			    "off for the vendor", what,
			    vd->name ? vd->name : "?");
		w->nkeys++;
		if (w->name != NULL && grow(c, (void **)&c->keys, &c->akeys,
		    c->nkeys, sizeof(*c->keys)) == 0) {
			c->keys[c->nkeys].blob = k->base64;
			c->keys[c->nkeys].owner = w->name;
			c->keys[c->nkeys].line = k->line;
			c->nkeys++;
		}
	}
}

int
policy_unix_user_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')
			continue;
		if (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			continue;
		if (i > 0 && s[i] == '$' && s[i + 1] == '\0')
			continue;
		return (0);
	}
	return (i > 0 && i <= 32);
}

/*
 * An admin's unix_user: the login they run bastionctl as on the bastion
 * host, so that bastionctl's decisions are theirs (verbs/approvals.c,
 * appr_identity()). One login, one admin: two admins sharing a login
 * could not be told apart, and four eyes would count one person twice.
 */
static void
parse_unix_user(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_person *w)
{
	const struct policy *p = c->p;
	const struct ynode *v;
	const char *s;
	size_t i;

	if ((v = field(c, m, "unix_user", what, NULL)) == NULL ||
	    (s = scalar(c, v, "unix_user", what)) == NULL)
		return;
	if (!policy_unix_user_ok(s)) {
		problem(c, v->line, "%s: unix_user \"%.80s\" is not a valid "
		    "login name " DASH " write the admin's login on the "
		    "bastion host (lower-case letters, digits, '_' and '-', "
		    "at most 32), e.g. unix_user: bob", what, s);
		return;
	}
	for (i = 0; p->admins != NULL && &p->admins[i] != w; i++)
		if (p->admins[i].unix_user != NULL &&
		    strcmp(p->admins[i].unix_user, s) == 0) {
			problem(c, v->line, "%s: unix_user \"%s\" is already "
			    "the login of admin \"%s\" at line %d " DASH " "
			    "one login belongs to one admin (else one person "
			    "could approve twice); give each admin their own "
			    "login", what, s, p->admins[i].name != NULL ?
			    p->admins[i].name : "?",
			    p->admins[i].unix_user_line);
			return;
		}
	w->unix_user = xstrdup(c, s);
	w->unix_user_line = v->line;
}

static void
parse_person(struct pctx *c, const struct ynode *m, enum policy_role role,
    struct policy_vendor *vd, struct policy_person *w)
{
	static const char *const keys[] = { "name", "full_name", "keys",
	    "valid_until", "enabled", NULL };
	static const char *const admin_keys[] = { "name", "full_name",
	    "keys", "valid_until", "enabled", "unix_user", NULL };
	const char *kind = role == ROLE_ENGINEER ? "engineer" :
	    role == ROLE_ADMIN ? "admin" : "auditor";
	const struct ynode *v;
	const char *s;
	char what[128];

	w->line = m->line;
	w->enabled = 1;
	w->vendor = vd;
	label(what, sizeof(what), kind, m);
	if (check_map(c, m, what, role == ROLE_ADMIN ? admin_keys : keys,
	    "write name:, keys: and the other keys of a person") != 0)
		return;
	if (get_name(c, m, what, kind, &w->name) == 0)
		add_name(c, &c->pnames, &c->npnames, &c->apnames, w->name,
		    kind, ymap_get(m, "name")->line);
	get_text(c, m, "full_name", what, &w->full_name);
	parse_person_keys(c, m, what, w);
	if ((v = field(c, m, "valid_until", what, NULL)) != NULL &&
	    (s = scalar(c, v, "valid_until", what)) != NULL &&
	    parse_date(s, &w->valid_until) != 0)
		problem(c, v->line, "%s: valid_until \"%.64s\" is not a "
		    "calendar date " DASH " write YYYY-MM-DD, e.g. "
		    "2027-03-31 (the account expires at the end of that day, "
		    "UTC)", what, s);
	get_bool(c, m, "enabled", what, &w->enabled);
	if (role == ROLE_ADMIN)
		parse_unix_user(c, m, what, w);
}

static void
parse_people(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, enum policy_role role, struct policy_vendor *vd,
    struct policy_person **out, size_t *nout)
{
	size_t i;

	if (check_seq(c, v, key, what, 0, "[{name: NAME, keys: [...]}]") != 0)
		return;
	if ((*out = xcalloc(c, v->nkid, sizeof(**out))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++)
		parse_person(c, v->kid[i], role, vd, &(*out)[(*nout)++]);
}

/* Why netaddr_cidr_parse() refused s, as one problem with its fix. */
static void
cidr_problem(struct pctx *c, int line, const char *what, const char *key,
    const char *s)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN + 1], txt[INET6_ADDRSTRLEN];
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct netaddr a;
	unsigned long long pfx;
	unsigned b, bits;
	int l;

	if (hl >= sizeof(addr))
		hl = 0;
	memcpy(addr, s, hl);
	addr[hl] = '\0';
	if (slash == NULL || hl == 0 || netaddr_parse(addr, &a) != 0) {
		problem(c, line, "%s: %s entry \"%.64s\" is not a network in "
		    "canonical form " DASH " write a full address and prefix "
		    "such as 10.20.0.0/16 (no shorthands like 127.1, no host "
		    "names)", what, key, s);
		return;
	}
	/* an IPv4-mapped network written as IPv6 counts 128 bits */
	bits = strchr(addr, ':') != NULL ? 128 : 32;
	l = parse_uint(slash + 1, &pfx);
	if (l < 0 || slash[1 + l] != '\0' || pfx > bits ||
	    (bits == 128 && a.family == AF_INET && pfx < 96)) {
		problem(c, line, "%s: %s entry \"%.64s\" has a bad prefix "
		    "length " DASH " use /0 to /32 for IPv4 or /0 to /128 for "
		    "IPv6, without leading zeros", what, key, s);
		return;
	}
	if (bits == 128 && a.family == AF_INET)
		pfx -= 96;
	bits = a.family == AF_INET ? 32 : 128;
	for (b = (unsigned)pfx; b < bits; b++)
		a.a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	problem(c, line, "%s: %s entry %.64s has host bits set " DASH " did "
	    "you mean %s/%u?", what, key, s, netaddr_str(&a, txt, sizeof(txt)),
	    (unsigned)pfx);
}

/* A list of networks; segments of vendors are also kept for the overlap
 * check. */
static void
parse_cidrs(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const struct policy_vendor *seg_of,
    struct netaddr_cidr **out, size_t *nout)
{
	const struct ynode *v, *it;
	struct netaddr_cidr *n;
	const char *s;
	size_t i;

	if ((v = field(c, m, key, what, seg_of != NULL ?
	    "segments: [CIDR, ...] (the networks its devices live in)" :
	    "sources: [CIDR, ...] (where its engineers connect from)")) ==
	    NULL || check_seq(c, v, key, what, 1, "[127.0.1.0/24]") != 0)
		return;
	if ((*out = xcalloc(c, v->nkid, sizeof(**out))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		it = v->kid[i];
		n = &(*out)[*nout];
		if ((s = scalar(c, it, key, what)) == NULL)
			continue;
		if (netaddr_cidr_parse(s, n) != 0) {
			cidr_problem(c, it->line, what, key, s);
			continue;
		}
		if (seg_of != NULL && n->prefix == 0) {
			problem(c, it->line, "%s: segment %.64s covers every "
			    "address " DASH " list only the networks the "
			    "vendor's devices live in", what, s);
			continue;
		}
		(*nout)++;
		if (seg_of != NULL && grow(c, (void **)&c->segs, &c->asegs,
		    c->nsegs, sizeof(*c->segs)) == 0) {
			c->segs[c->nsegs].net = *n;
			c->segs[c->nsegs].vendor = seg_of;
			c->segs[c->nsegs].line = it->line;
			c->nsegs++;
		}
	}
}

static void
parse_vendor(struct pctx *c, const struct ynode *m, struct policy_vendor *vd)
{
	static const char *const keys[] = { "name", "description",
	    "segments", "sources", "allow_non_sk_keys", "touch", "approval",
	    "work_record", "require_attestation", "engineers", NULL };
	const struct ynode *v;
	const char *s;
	char what[128];

	vd->line = m->line;
	label(what, sizeof(what), "vendor", m);
	if (check_map(c, m, what, keys, "write name:, segments:, sources: "
	    "and engineers: of the vendor") != 0)
		return;
	if (get_name(c, m, what, "vendor", &vd->name) == 0)
		add_name(c, &c->vnames, &c->nvnames, &c->avnames, vd->name,
		    "vendor", ymap_get(m, "name")->line);
	get_text(c, m, "description", what, &vd->description);
	parse_cidrs(c, m, "segments", what, vd, &vd->segments,
	    &vd->nsegments);
	parse_cidrs(c, m, "sources", what, NULL, &vd->sources,
	    &vd->nsources);
	get_bool(c, m, "allow_non_sk_keys", what, &vd->allow_non_sk_keys);
	vd->work_record = -1;	/* the hospital-wide work_record */
	get_bool(c, m, "work_record", what, &vd->work_record);
	vd->require_attestation = -1;	/* the hospital-wide one */
	get_bool(c, m, "require_attestation", what, &vd->require_attestation);
	if (vd->allow_non_sk_keys &&
	    policy_require_attestation(c->p, vd))
		problem(c, m->line, "%s: require_attestation: true (%s) and "
		    "allow_non_sk_keys: true contradict each other: only "
		    "security keys can be attested " DASH " set "
		    "allow_non_sk_keys: false, or require_attestation: false "
		    "for this vendor", what, vd->require_attestation == 1 ?
		    "the vendor's" : "hospital-wide");
	if ((v = field(c, m, "touch", what, NULL)) != NULL &&
	    (s = scalar(c, v, "touch", what)) != NULL) {
		if (strcmp(s, "required") == 0)
			vd->touch = POLICY_TOUCH_REQUIRED;
		else if (strcmp(s, "off") == 0)
			vd->touch = POLICY_TOUCH_OFF;
		else
			problem(c, v->line, "%s: touch is \"%.64s\" "
			    DASH " write touch: required (the default) "
			    "or touch: off", what, s);
	}
	parse_approval(c, m, what, &c->p->approval, &vd->approval);
	if ((v = field(c, m, "engineers", what, NULL)) != NULL)
		parse_people(c, v, "engineers", what, ROLE_ENGINEER, vd,
		    &vd->engineers, &vd->nengineers);
}

static struct policy_vendor *
find_vendor(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nvendors; i++)
		if (p->vendors[i].name != NULL &&
		    strcmp(p->vendors[i].name, name) == 0)
			return (&p->vendors[i]);
	return (NULL);
}

static void
device_vendor(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_device *d)
{
	const struct ynode *v;
	const char *s, *sug, **cands;
	size_t i;

	if ((v = field(c, m, "vendor", what, "vendor: NAME (the vendor that "
	    "maintains it)")) == NULL || (s = scalar(c, v, "vendor", what)) ==
	    NULL || (d->vendor_name = xstrdup(c, s)) == NULL)
		return;
	if ((d->vendor = find_vendor(c->p, s)) != NULL)
		return;
	sug = NULL;
	if ((cands = xcalloc(c, c->p->nvendors + 1, sizeof(*cands))) !=
	    NULL) {
		for (i = 0; i < c->p->nvendors; i++)
			cands[i] = c->p->vendors[i].name;
		sug = closest(s, cands, c->p->nvendors);
		free(cands);
	}
	if (sug != NULL)
		problem(c, v->line, "%s: vendor \"%.64s\" is not defined "
		    DASH " did you mean \"%s\"?", what, s, sug);
	else
		problem(c, v->line, "%s: vendor \"%.64s\" is not defined "
		    DASH " add it under vendors: or name an existing "
		    "vendor", what, s);
}

/* The device's address must lie in one of its vendor's segments. */
static void
device_in_segments(struct pctx *c, const struct ynode *v,
    const struct policy_device *d)
{
	const struct policy_vendor *vd = d->vendor;
	char list[256], one[INET6_ADDRSTRLEN + 8], txt[INET6_ADDRSTRLEN];
	size_t i;

	if (vd == NULL || vd->nsegments == 0)
		return;
	for (i = 0; i < vd->nsegments; i++)
		if (netaddr_in_cidr(&d->addr, &vd->segments[i]))
			return;
	list[0] = '\0';
	for (i = 0; i < vd->nsegments && i < 4; i++) {
		snprintf(one, sizeof(one), "%s%s/%u", i ? ", " : "",
		    netaddr_str(&vd->segments[i].addr, txt, sizeof(txt)),
		    vd->segments[i].prefix);
		append(list, one, sizeof(list));
	}
	if (vd->nsegments > 4)
		append(list, ", ...", sizeof(list));
	problem(c, v->line, "device \"%s\" address %.64s is outside the "
	    "segments of vendor \"%s\" (%s) " DASH " move the device into "
	    "a segment of its vendor or fix the address",
	    d->name ? d->name : "?", d->address, vd->name, list);
}

static void
parse_device(struct pctx *c, const struct ynode *m, struct policy_device *d)
{
	static const char *const keys[] = { "name", "vendor", "description",
	    "address", "port", "login", "credential", "host_key",
	    "forward_ports", "approval", NULL };
	const struct ynode *v;
	const struct policy_approval *inherit;
	struct policy_key hk;
	const char *s;
	char what[128];
	size_t i, j;
	uint16_t port;
	int bad;

	d->line = m->line;
	d->port = 22;
	label(what, sizeof(what), "device", m);
	if (check_map(c, m, what, keys, "write name:, vendor:, address: and "
	    "the other keys of the device") != 0)
		return;
	if (get_name(c, m, what, "device", &d->name) == 0)
		add_name(c, &c->dnames, &c->ndnames, &c->adnames, d->name,
		    "device", ymap_get(m, "name")->line);
	device_vendor(c, m, what, d);
	get_text(c, m, "description", what, &d->description);

	if ((v = field(c, m, "address", what, "address: IP (a literal "
	    "address inside a segment of its vendor)")) != NULL &&
	    (s = scalar(c, v, "address", what)) != NULL) {
		if (netaddr_parse(s, &d->addr) != 0)
			problem(c, v->line, "%s: address \"%.64s\" is not a "
			    "literal IP address " DASH " write the "
			    "device's address as a.b.c.d or IPv6 (host names "
			    "and shorthands like 127.1, 0x7f000001 or "
			    "2130706433 are refused)", what, s);
		else if ((d->address = xstrdup(c, s)) != NULL)
			device_in_segments(c, v, d);
	}
	if ((v = field(c, m, "port", what, NULL)) != NULL)
		port_value(c, v, "port", what, &d->port);

	if ((v = field(c, m, "login", what, "login: USER (the account on "
	    "the device)")) != NULL && (s = scalar(c, v, "login", what)) !=
	    NULL) {
		for (bad = s[0] == '-', i = 0; s[i] != '\0'; i++)
			if ((unsigned char)s[i] <= 0x20 ||
			    (unsigned char)s[i] >= 0x7f)
				bad = 1;
		if (bad || i > POLICY_MAX_LOGIN)
			problem(c, v->line, "%s: login \"%.64s\" is not a "
			    "user name " DASH " use up to %d printable "
			    "ASCII characters without spaces, not starting "
			    "with '-'", what, s, POLICY_MAX_LOGIN);
		else
			d->login = xstrdup(c, s);
	}
	get_path(c, m, "credential", what, "credential: PATH (the bastion's "
	    "private key for this device)", &d->credential);

	if ((v = field(c, m, "host_key", what, "host_key: \"TYPE BASE64\" "
	    "(the device's pinned host key, e.g. from ssh-keyscan)")) !=
	    NULL && parse_key(c, v, what, 1, &hk) == 0) {
		if (asprintf(&d->host_key, "%s %s", hk.type, hk.base64) < 0) {
			d->host_key = NULL;
			c->nomem = 1;
		}
		free(hk.type);
		free(hk.base64);
		free(hk.comment);
	}

	if ((v = field(c, m, "forward_ports", what, NULL)) != NULL &&
	    check_seq(c, v, "forward_ports", what, 0, "[104, 443]") == 0 &&
	    (d->forward_ports = xcalloc(c, v->nkid, sizeof(uint16_t))) !=
	    NULL) {
		for (i = 0; i < v->nkid; i++) {
			if (port_value(c, v->kid[i], "forward_ports entry",
			    what, &port) != 0)
				continue;
			for (j = 0; j < d->nforward_ports; j++)
				if (d->forward_ports[j] == port)
					break;
			if (j < d->nforward_ports) {
				problem(c, v->kid[i]->line, "%s: forward port "
				    "%u is listed twice " DASH " remove "
				    "one", what, port);
				continue;
			}
			d->forward_ports[d->nforward_ports++] = port;
		}
	}

	inherit = d->vendor != NULL && d->vendor->approval.set ?
	    &d->vendor->approval : &c->p->approval;
	parse_approval(c, m, what, inherit, &d->approval);
}

/* ---------------------------------------------------------------------- */
/* Whole-file checks */

static int
nameref_cmp(const void *a, const void *b)
{
	const struct nameref *x = a, *y = b;
	int r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return (r);
	return (x->line < y->line ? -1 : x->line > y->line);
}

static void
check_unique_names(struct pctx *c, struct nameref *v, size_t n,
    const char *space)
{
	size_t i, first = 0;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), nameref_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i].name, v[first].name) != 0) {
			first = i;
			continue;
		}
		problem(c, v[i].line, "%s name \"%s\" is already used by "
		    "%s \"%s\" at line %d " DASH " %s must be unique; "
		    "rename one", v[i].kind, v[i].name, v[first].kind,
		    v[first].name, v[first].line, space);
	}
}

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int r;

	if ((r = strcmp(x->blob, y->blob)) != 0)
		return (r);
	return (x->line < y->line ? -1 : x->line > y->line);
}

/* One key, one person: otherwise a login could not say who it was. */
static void
check_unique_keys(struct pctx *c)
{
	size_t i, first = 0;

	if (c->nkeys == 0)
		return;
	qsort(c->keys, c->nkeys, sizeof(*c->keys), keyref_cmp);
	for (i = 1; i < c->nkeys; i++) {
		if (strcmp(c->keys[i].blob, c->keys[first].blob) != 0) {
			first = i;
			continue;
		}
		if (strcmp(c->keys[i].owner, c->keys[first].owner) == 0)
			problem(c, c->keys[i].line, "key of \"%s\" is listed "
			    "twice (also at line %d) " DASH " remove one",
			    c->keys[i].owner, c->keys[first].line);
		else
			problem(c, c->keys[i].line, "key of \"%s\" is also "
			    "listed for \"%s\" at line %d " DASH " each "
			    "person needs their own key", c->keys[i].owner,
			    c->keys[first].owner, c->keys[first].line);
	}
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
static void
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

/* ---------------------------------------------------------------------- */
/* Top level */

/*
 * A local user or group name (admin_group, worker_user): key's value, or
 * def when absent.
 */
static void
get_unix_name(struct pctx *c, const struct ynode *root, const char *key,
    const char *def, char **out)
{
	const struct ynode *v;
	const char *s;
	size_t i, n;
	int ok;

	if ((v = field(c, root, key, "the policy", NULL)) == NULL ||
	    (s = scalar(c, v, key, "the policy")) == NULL) {
		*out = xstrdup(c, def);
		return;
	}
	n = strlen(s);
	ok = n > 0 && n <= 32 && (s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'));
	for (i = 1; ok && i < n; i++)
		ok = s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9');
	if (!ok) {
		problem(c, v->line, "%s '%s' is not a user or group name "
		    DASH " use lower-case letters, digits, '_' and '-', e.g. "
		    "%s: %s", key, s, key, def);
		return;
	}
	*out = xstrdup(c, s);
}

static void
parse_root(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "version", "listen", "paths",
	    "limits", "approval", "work_record", "require_attestation",
	    "admin_group", "worker_user", "vendors", "devices", "admins",
	    "auditors", NULL };
	struct policy *p = c->p;
	const struct ynode *v;
	size_t i;

	if (root->bad)
		return;
	if (root->kind != YNODE_MAP) {
		problem(c, root->line, "the policy is %s, not a mapping of "
		    "keys " DASH " start with version: 1, listen:, paths:, "
		    "vendors: and devices: (see policies/example.yaml)",
		    ynode_kind_name(root));
		return;
	}
	check_map(c, root, "the policy", keys, "");
	parse_version(c, root);
	parse_listen(c, root);
	parse_paths(c, root);
	parse_limits(c, root);
	parse_global_approval(c, root);
	get_bool(c, root, "work_record", "the policy", &p->work_record);
	/* before the vendors, which inherit it */
	get_bool(c, root, "require_attestation", "the policy",
	    &p->require_attestation);
	/* bastionctl's group; the user session workers drop to */
	get_unix_name(c, root, "admin_group", POLICY_DEFAULT_ADMIN_GROUP,
	    &p->admin_group);
	get_unix_name(c, root, "worker_user", POLICY_DEFAULT_WORKER_USER,
	    &p->worker_user);

	if ((v = field(c, root, "vendors", "the policy", "vendors: (a list, "
	    "[] for none)")) != NULL && check_seq(c, v, "vendors",
	    "the policy", 0, "[] or a list of vendors") == 0 &&
	    (p->vendors = xcalloc(c, v->nkid, sizeof(*p->vendors))) != NULL) {
		for (i = 0; i < v->nkid; i++)
			parse_vendor(c, v->kid[i], &p->vendors[p->nvendors++]);
	}
	if ((v = field(c, root, "devices", "the policy", "devices: (a list, "
	    "[] for none)")) != NULL && check_seq(c, v, "devices",
	    "the policy", 0, "[] or a list of devices") == 0 &&
	    (p->devices = xcalloc(c, v->nkid, sizeof(*p->devices))) != NULL) {
		for (i = 0; i < v->nkid; i++)
			parse_device(c, v->kid[i], &p->devices[p->ndevices++]);
	}
	if ((v = field(c, root, "admins", "the policy", NULL)) != NULL)
		parse_people(c, v, "admins", "the policy", ROLE_ADMIN, NULL,
		    &p->admins, &p->nadmins);
	if ((v = field(c, root, "auditors", "the policy", NULL)) != NULL)
		parse_people(c, v, "auditors", "the policy", ROLE_AUDITOR,
		    NULL, &p->auditors, &p->nauditors);

	check_unique_names(c, c->vnames, c->nvnames, "vendor names");
	check_unique_names(c, c->dnames, c->ndnames, "device names");
	check_unique_names(c, c->pnames, c->npnames,
	    "names of engineers, admins and auditors together");
	check_unique_keys(c);
	check_segment_overlap(c);
}

/* policy_pin(): the text policy_load(pin.path) reads instead of the file */
static struct {
	char *path;
	uint8_t *text;
	size_t len;
} pin;

int
policy_pin(const char *path, int fd)
{
	uint8_t *text = NULL;
	char *copy = NULL;
	size_t len = 0;
	ssize_t n;
	int r = BERR_NOMEM;

	free(pin.path);
	free(pin.text);
	memset(&pin, 0, sizeof(pin));
	if (path == NULL) {
		if (fd >= 0)
			close(fd);
		return (0);
	}
	if (fd < 0)
		return (BERR_INVAL);
	if ((copy = strdup(path)) == NULL ||
	    (text = malloc(POLICY_MAX_FILE_SIZE + 1)) == NULL)
		goto out;
	for (;;) {
		n = pread(fd, text + len, POLICY_MAX_FILE_SIZE + 1 - len,
		    (off_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = BERR_SYS;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_MAX_FILE_SIZE) {
			r = BERR_LIMIT;
			goto out;
		}
	}
	pin.path = copy;
	if ((pin.text = realloc(text, len + 1)) == NULL)
		pin.text = text;
	pin.len = len;
	copy = NULL;
	text = NULL;
	r = 0;
 out:
	free(copy);
	free(text);
	close(fd);
	return (r);
}

/* Read the whole file, refusing anything but a regular file within the
 * size cap. Problems are reported at line 0 (the file as a whole). */
static int
read_policy_file(struct pctx *c, uint8_t **datap, size_t *lenp)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r = BERR_SYS;

	*datap = NULL;
	*lenp = 0;
	if (pin.path != NULL && strcmp(pin.path, c->path) == 0) {
		if ((*datap = malloc(pin.len + 1)) == NULL) {
			c->nomem = 1;
			return (BERR_NOMEM);
		}
		memcpy(*datap, pin.text, pin.len);
		*lenp = pin.len;
		return (0);
	}
	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		problem(c, 0, "cannot open the policy file: %s " DASH " "
		    "check the path and that this user may read it",
		    strerror(errno));
		return (BERR_SYS);
	}
	if (fstat(fd, &st) == -1) {
		problem(c, 0, "cannot stat the policy file: %s " DASH " "
		    "check the path", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(c, 0, "the policy is not a regular file " DASH " "
		    "point -f at the policy YAML file");
		r = BERR_POLICY;
		goto out;
	}
	if (st.st_size > (off_t)POLICY_MAX_FILE_SIZE)
		goto big;
	if ((data = malloc(POLICY_MAX_FILE_SIZE + 1)) == NULL) {
		r = BERR_NOMEM;
		c->nomem = 1;
		goto out;
	}
	for (;;) {
		n = read(fd, data + len, POLICY_MAX_FILE_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			problem(c, 0, "cannot read the policy file: %s "
			    DASH " check the file and the disk",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_MAX_FILE_SIZE)
			goto big;
	}
	*datap = data;
	*lenp = len;
	data = NULL;
	r = 0;
	goto out;
 big:
	problem(c, 0, "the policy file is bigger than the limit of %u bytes "
	    DASH " this is not a policy file, or remove unused "
	    "entries", POLICY_MAX_FILE_SIZE);
	r = BERR_POLICY;
 out:
	free(data);
	close(fd);
	return (r);
}

/* Absolute directory of the policy file, for relative paths: the daemon
 * may change directory later, so a relative one would not do. */
static int
policy_dir(struct pctx *c)
{
	char *copy;
	int r = 0;

	if ((copy = strdup(c->path)) == NULL)
		return (BERR_NOMEM);
	if ((c->dir = realpath(dirname(copy), NULL)) == NULL) {
		if (errno == ENOMEM)
			r = BERR_NOMEM;
		else {
			problem(c, 0, "cannot resolve the directory of the "
			    "policy file: %s " DASH " check the path",
			    strerror(errno));
			r = BERR_SYS;
		}
	}
	free(copy);
	return (r);
}

static void
person_free(struct policy_person *w)
{
	size_t i;

	for (i = 0; i < w->nkeys; i++) {
		free(w->keys[i].type);
		free(w->keys[i].base64);
		free(w->keys[i].comment);
	}
	free(w->keys);
	free(w->name);
	free(w->full_name);
	free(w->unix_user);
}

void
policy_free(struct policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlisten; i++)
		free(p->listen[i].host);
	free(p->listen);
	for (i = 0; i < p->nhost_keys; i++)
		free(p->host_keys[i]);
	free(p->host_keys);
	free(p->state_dir);
	free(p->recordings_dir);
	free(p->run_dir);
	free(p->pam_service_dir);
	free(p->recorder_socket);
	free(p->text);
	free(p->approval.windows);
	free(p->notify_command);
	free(p->admin_group);
	free(p->worker_user);
	for (i = 0; i < p->nvendors; i++) {
		struct policy_vendor *vd = &p->vendors[i];

		free(vd->name);
		free(vd->description);
		free(vd->segments);
		free(vd->sources);
		free(vd->approval.windows);
		for (j = 0; j < vd->nengineers; j++)
			person_free(&vd->engineers[j]);
		free(vd->engineers);
	}
	free(p->vendors);
	for (i = 0; i < p->ndevices; i++) {
		struct policy_device *d = &p->devices[i];

		free(d->name);
		free(d->description);
		free(d->vendor_name);
		free(d->address);
		free(d->login);
		free(d->credential);
		free(d->host_key);
		free(d->forward_ports);
		free(d->approval.windows);
	}
	free(p->devices);
	for (i = 0; i < p->nadmins; i++)
		person_free(&p->admins[i]);
	free(p->admins);
	for (i = 0; i < p->nauditors; i++)
		person_free(&p->auditors[i]);
	free(p->auditors);
	free(p->path);
	free(p);
}

int
policy_load(const char *path, FILE *errs, size_t *nerrs,
    struct policy **out)
{
	struct pctx c;
	struct policy *p;
	struct ynode *root = NULL;
	uint8_t *data = NULL;
	size_t len = 0, i;
	int r, complete = 0;

	if (out != NULL)
		*out = NULL;
	if (nerrs != NULL)
		*nerrs = 0;
	if (path == NULL || out == NULL)
		return (BERR_INVAL);
	memset(&c, 0, sizeof(c));
	c.path = path;
	if ((p = c.p = calloc(1, sizeof(*p))) == NULL)
		return (BERR_NOMEM);
	p->login_grace = 30;
	p->max_unauthenticated = 20;
	p->per_source_max_unauthenticated = 10;
	p->vendor_source_max_unauthenticated = 64;
	p->vendor_source_penalty_max = 60;
	p->idle_timeout = 900;
	p->idle_warning = 60;
	p->max_session = 14400;
	p->keepalive = 30;
	p->recording_min_free_mb = 256;
	p->touch_transfer_window = 300;
	p->approval_timeout = 600;
	p->default_max_grant = 14400;

	if ((p->path = strdup(path)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((r = read_policy_file(&c, &data, &len)) != 0 ||
	    (r = policy_dir(&c)) != 0)
		goto out;
	if (EVP_Digest(data, len, p->sha256, NULL, EVP_sha256(), NULL) != 1) {
		r = BERR_CRYPTO;
		goto out;
	}
	if ((r = yaml_tree(&c, data, len, &root, &complete)) != 0)
		goto out;
	if (complete && root == NULL)
		problem(&c, 1, "the policy file has no content " DASH " "
		    "start from policies/example.yaml");
	else if (complete)
		parse_root(&c, root);
	if (c.nomem)
		r = BERR_NOMEM;
	else if (c.nerrs > 0)
		r = BERR_POLICY;
 out:
	if (r == BERR_NOMEM) {
		/* half-built state produces misleading problems */
		for (i = 0; i < c.nprobs; i++)
			free(c.probs[i].msg);
		c.nprobs = c.nerrs = 0;
	}
	problems_print(&c, errs);
	if (nerrs != NULL)
		*nerrs = c.nerrs;
	if (r == 0) {
		/* keep the text (bastiond hands it to its workers), in a
		 * block of its own size rather than the reading buffer's */
		if ((p->text = realloc(data, len + 1)) == NULL)
			p->text = data;
		p->textlen = len;
		data = NULL;
		*out = p;
		p = NULL;
	}
	policy_free(p);
	ynode_free(root);
	free(data);
	free(c.dir);
	for (i = 0; i < c.nprobs; i++)
		free(c.probs[i].msg);
	free(c.probs);
	free(c.vnames);
	free(c.dnames);
	free(c.pnames);
	free(c.keys);
	free(c.segs);
	return (r);
}

/* ---------------------------------------------------------------------- */
/* Lookups */

struct policy_vendor *
policy_vendor(const struct policy *p, const char *name)
{
	if (p == NULL || name == NULL)
		return (NULL);
	return (find_vendor(p, name));
}

struct policy_device *
policy_device(const struct policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < p->ndevices; i++)
		if (strcmp(p->devices[i].name, name) == 0)
			return (&p->devices[i]);
	return (NULL);
}

struct policy_person *
policy_person(const struct policy *p, const char *name,
    enum policy_role *role)
{
	size_t i, j;

	if (role != NULL)
		*role = ROLE_NONE;
	if (p == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < p->nvendors; i++) {
		for (j = 0; j < p->vendors[i].nengineers; j++) {
			struct policy_person *w = &p->vendors[i].engineers[j];

			if (strcmp(w->name, name) == 0) {
				if (role != NULL)
					*role = ROLE_ENGINEER;
				return (w);
			}
		}
	}
	for (i = 0; i < p->nadmins; i++) {
		if (strcmp(p->admins[i].name, name) == 0) {
			if (role != NULL)
				*role = ROLE_ADMIN;
			return (&p->admins[i]);
		}
	}
	for (i = 0; i < p->nauditors; i++) {
		if (strcmp(p->auditors[i].name, name) == 0) {
			if (role != NULL)
				*role = ROLE_AUDITOR;
			return (&p->auditors[i]);
		}
	}
	return (NULL);
}

int
policy_work_record(const struct policy *p, const struct policy_vendor *vd)
{
	if (vd != NULL && vd->work_record != -1)
		return (vd->work_record);
	return (p->work_record);
}

int
policy_require_attestation(const struct policy *p,
    const struct policy_vendor *vd)
{
	if (vd != NULL && vd->require_attestation != -1)
		return (vd->require_attestation);
	return (p->require_attestation);
}

struct policy_person *
policy_admin_by_unix_user(const struct policy *p, const char *login)
{
	size_t i;

	if (p == NULL || login == NULL)
		return (NULL);
	for (i = 0; i < p->nadmins; i++)
		if (p->admins[i].unix_user != NULL &&
		    strcmp(p->admins[i].unix_user, login) == 0)
			return (&p->admins[i]);
	return (NULL);
}

int
policy_person_active(const struct policy_person *who, time_t now)
{
	if (who == NULL || !who->enabled)
		return (0);
	return (who->valid_until == 0 || now <= who->valid_until);
}

void
policy_device_approval(const struct policy *p, const struct policy_device *d,
    struct policy_approval *out)
{
	if (d != NULL && d->approval.set)
		*out = d->approval;
	else if (d != NULL && d->vendor != NULL && d->vendor->approval.set)
		*out = d->vendor->approval;
	else
		*out = p->approval;
	if (out->max_grant == 0)
		out->max_grant = p->default_max_grant;
}
