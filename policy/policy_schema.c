/*
 * policy_schema.c - the typed readers the section parsers are built from:
 * a mapping with only known keys (a typo gets the closest key as a
 * suggestion), a required field, a scalar, a list; names, free text,
 * paths, booleans, counts, durations, ports and dates, each refused with
 * the line and what to write instead.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "policy.h"
#include "policy_int.h"

/* Value of key in mapping m (first occurrence), or NULL. */
const struct ynode *
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
const char *
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
 * CHECK_MAP_KEYS), each given once. Reports every unknown or repeated key. Returns 0 if
 * n is a mapping the caller may read, -1 if not.
 */
#define CHECK_MAP_KEYS	32

int
check_map(struct pctx *c, const struct ynode *n, const char *what,
    const char *const *known, const char *hint)
{
	int first[CHECK_MAP_KEYS];
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
		if (j < nknown && j < CHECK_MAP_KEYS) {
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
const struct ynode *
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
const char *
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

/* field() and scalar() at once: the text of key in m, or NULL (absent,
 * reported as field() does with need; or not a value, reported). *vp is
 * set to the key's node, NULL when it is absent. */
const char *
field_scalar(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need, const struct ynode **vp)
{
	if ((*vp = field(c, m, key, what, need)) == NULL)
		return (NULL);
	return (scalar(c, *vp, key, what));
}

/* v must be a list with at least min items. */
int
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
int
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

	if ((s = field_scalar(c, m, "name", what, "name: NAME", &v)) == NULL)
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

/*
 * The start of every named entry (vendor, device, person): its label for
 * messages (into what), only the keys it may have, and its name, kept in
 * names for the uniqueness check. -1 when m is refused (check_map); a
 * missing or bad name is reported and leaves *name NULL.
 */
int
named_entry(struct pctx *c, const struct ynode *m, const char *kind,
    const char *const *keys, const char *hint, struct names *names,
    char *what, size_t whatlen, char **name)
{
	label(what, whatlen, kind, m);
	if (check_map(c, m, what, keys, hint) != 0)
		return (-1);
	if (get_name(c, m, what, kind, name) == 0)
		add_name(c, names, *name, kind, ymap_get(m, "name")->line);
	return (0);
}

/* Optional free text (description, full_name). */
void
get_text(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, char **out)
{
	const struct ynode *v;
	const char *s;

	if ((s = field_scalar(c, m, key, what, NULL, &v)) == NULL)
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
char *
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

int
get_path(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need, char **out)
{
	const struct ynode *v;

	if ((v = field(c, m, key, what, need)) == NULL)
		return (-1);
	return ((*out = resolve_path(c, v, key, what)) == NULL ? -1 : 0);
}

/* Booleans: true/false/yes/no, any case. Absent keeps *out. */
int
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
int
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
int
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

int
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

int
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

int
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
int
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
