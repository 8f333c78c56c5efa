/*
 * policy_int.h - what the files of the policy loader share; not part of
 * policy.h, included only by the files of policy/. The loading context
 * (struct pctx) with its problem list, the YAML node tree, the typed
 * readers of the schema and each section's parser, by the file that
 * holds it:
 *
 *	policy.c		the entry (policy_load), the file, the top
 *				level, listen and paths, lookups
 *	policy_yaml.c		context helpers, problems, the YAML tree
 *	policy_schema.c		typed readers for fields
 *	policy_limits.c		time windows, limits, approval rules
 *	policy_notify.c		approval.notify (bastion-notify's settings)
 *	policy_recordings.c	recordings: recipients, server unlock
 *	policy_recstore.c	recordings: store: s3 (bastion-ship)
 *	policy_people.c		keys, engineers, admins, auditors
 *	policy_devices.c	vendors, segments, devices
 *	policy_check.c		checks over the whole file
 *
 * Each function's contract is the comment at its definition. Problems go
 * through problem() as "what is wrong — what to do"; a reader returns -1
 * or NULL after reporting, and the caller goes on to the next key, so one
 * run reports every problem of the file.
 */
#ifndef BASTION_POLICY_INT_H
#define BASTION_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <yaml.h>

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

/* What must be unique, for the uniqueness checks: a name (kind: "vendor",
 * "device", ...) or a person's key (name: its base64, which includes the
 * type; kind: the owner's name). */
struct nameref {
	const char *name;
	const char *kind;
	int line;
};

struct names {
	struct nameref *v;
	size_t n, a;
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

	struct names vnames, dnames, pnames, keys;
	struct segref *segs;
	size_t nsegs, asegs;
};

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

/* policy_yaml.c (context, problems, YAML tree) */
int grow(struct pctx *c, void **arr, size_t *alloc, size_t used, size_t sz);
void *xcalloc(struct pctx *c, size_t n, size_t sz);
char *xstrdup(struct pctx *c, const char *s);
void append(char *dst, const char *src, size_t size);
void problem(struct pctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void problems_print(struct pctx *c, FILE *errs);
void ynode_free(struct ynode *n);
const char *ynode_kind_name(const struct ynode *n);
int yaml_tree(struct pctx *c, const uint8_t *data, size_t len,
    struct ynode **rootp, int *complete);

/* policy_schema.c (typed readers) */
const struct ynode *ymap_get(const struct ynode *m, const char *key);
const char *closest(const char *s, const char *const *cands, size_t ncands);
int check_map(struct pctx *c, const struct ynode *n, const char *what,
    const char *const *known, const char *hint);
const struct ynode *field(struct pctx *c, const struct ynode *m,
    const char *key, const char *what, const char *need);
const char *scalar(struct pctx *c, const struct ynode *v, const char *key,
    const char *what);
const char *field_scalar(struct pctx *c, const struct ynode *m,
    const char *key, const char *what, const char *need,
    const struct ynode **vp);
int check_seq(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, size_t min, const char *example);
int text_ok(const char *s);
int named_entry(struct pctx *c, const struct ynode *m, const char *kind,
    const char *const *keys, const char *hint, struct names *names,
    char *what, size_t whatlen, char **name);
void get_text(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, char **out);
char *resolve_path(struct pctx *c, const struct ynode *v, const char *key,
    const char *what);
int get_path(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need, char **out);
int get_bool(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, int *out);
int parse_uint(const char *s, unsigned long long *out);
int parse_duration(const char *s, unsigned *out);
int get_duration(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, unsigned *out);
int parse_port(const char *s, uint16_t *out);
/* s as "ADDR:PORT" or "[IPv6]:PORT" with a literal address into *a and
 * *port: 0, or -1 reported at line, naming it what[0] ("listen entry")
 * or, for a bad address, what[1] ("listen"). */
int listen_addr(struct pctx *c, int line, const char *const what[2],
    const char *s, struct netaddr *a, uint16_t *port);
int port_value(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, uint16_t *out);
int parse_date(const char *s, time_t *out);

/* policy_limits.c (windows, limits, approvals) */
void parse_limits(struct pctx *c, const struct ynode *root);
/* policy_recordings.c */
void parse_recordings(struct pctx *c, const struct ynode *root);
/* policy_recstore.c */
void parse_recstore(struct pctx *c, const struct ynode *m);
void policy_recstore_free(struct policy_recstore *s);
void parse_global_approval(struct pctx *c, const struct ynode *root);

/* policy_notify.c (approval.notify) */
void parse_notify(struct pctx *c, const struct ynode *v);
char *get_url(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need, int insecure_http);
void policy_notify_free(struct policy_notify *n);
void parse_approval(struct pctx *c, const struct ynode *owner, const char *who,
    const struct policy_approval *inherit, struct policy_approval *a);

/* policy_files.c (files: of vendors and devices, docs/FILES.md) */
void parse_files(struct pctx *c, const struct ynode *owner, const char *who,
    const struct policy_files *inherit, struct policy_files *f);

/* policy_people.c (keys and people) */
int parse_key(struct pctx *c, const struct ynode *v, const char *who, int host,
    struct policy_key *k);
void parse_people(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, enum policy_role role, struct policy_vendor *vd,
    struct policy_person **out, size_t *nout);

/* policy_devices.c (vendors and devices) */
void parse_vendor(struct pctx *c, const struct ynode *m,
    struct policy_vendor *vd);
struct policy_vendor *find_vendor(const struct policy *p, const char *name);
void parse_device(struct pctx *c, const struct ynode *m,
    struct policy_device *d);

/* policy.c: a local user or group name under key of m, def when absent */
void get_unix_name(struct pctx *c, const struct ynode *m, const char *key,
    const char *def, char **out);

/* policy_web.c (the web console) */
void parse_web(struct pctx *c, const struct ynode *root);
/* policy_devices.c: why netaddr_cidr_parse() refused s, as a problem */
void cidr_problem(struct pctx *c, int line, const char *what,
    const char *key, const char *s);
/* policy_proxy.c: proxy_protocol: (the balancers' addresses) */
void parse_proxy_protocol(struct pctx *c, const struct ynode *root);
/* policy_store.c (the store: section) */
void parse_store(struct pctx *c, const struct ynode *root);

/* policy_check.c (whole-file checks) */
void check_unique_names(struct pctx *c, struct names *l, const char *space);
void check_unique_keys(struct pctx *c);
void check_segment_overlap(struct pctx *c);

/* policy.c (shared by the sections) */
/* The element of v[0..n-1] (each size bytes) whose string member at
 * offset off (NULL matches nothing) equals s, or NULL. */
void *find_by_string(const void *v, size_t n, size_t size, size_t off,
    const char *s);
#define FIND_BY(v, n, member, s)					\
	find_by_string((v), (n), sizeof(*(v)),				\
	    offsetof(__typeof__(*(v)), member), (s))
void add_name(struct pctx *c, struct names *l, const char *name,
    const char *kind, int line);

#endif
