/*
 * approvals.c - what the admin verbs share (see approvals.h): durations,
 * the approval rule, words, times, cells and JSON for their output, and
 * the lookups and checks several verbs make. Nothing here talks to the
 * network: the caller hands in where output goes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approvals.h"
#include "buf.h"
#include "err.h"
#include "table.h"
#include "text.h"

#define APPR_MAX_DURATION	(366u * 86400u)

/* ---- durations --------------------------------------------------------- */

int
appr_parse_duration(const char *s, unsigned *secs)
{
	unsigned long long total = 0, n;
	const char *p = s;
	char *end;

	*secs = 0;
	if (s == NULL || *s == '\0')
		return (BERR_FORMAT);
	while (*p != '\0') {
		unsigned long long unit = 1;

		if (!isdigit((unsigned char)*p))
			return (BERR_FORMAT);
		errno = 0;
		n = strtoull(p, &end, 10);
		if (errno != 0 || n > APPR_MAX_DURATION)
			return (BERR_FORMAT);
		switch (*end) {
		case 's': unit = 1; end++; break;
		case 'm': unit = 60; end++; break;
		case 'h': unit = 3600; end++; break;
		case 'd': unit = 86400; end++; break;
		case '\0':
			if (p != s)	/* "1h30" is ambiguous */
				return (BERR_FORMAT);
			break;
		default:
			return (BERR_FORMAT);
		}
		total += n * unit;
		if (total > APPR_MAX_DURATION)
			return (BERR_FORMAT);
		p = end;
	}
	if (total == 0)
		return (BERR_FORMAT);
	*secs = (unsigned)total;
	return (0);
}

void
appr_duration_str(unsigned secs, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	if (secs >= 86400 && o < len)
		o += (size_t)snprintf(out + o, len - o, "%ud", secs / 86400);
	if (secs % 86400 >= 3600 && o < len)
		o += (size_t)snprintf(out + o, len - o, "%uh",
		    secs % 86400 / 3600);
	if (secs % 3600 >= 60 && o < len)
		o += (size_t)snprintf(out + o, len - o, "%um",
		    secs % 3600 / 60);
	if ((secs % 60 != 0 || secs == 0) && o < len)
		snprintf(out + o, len - o, "%us", secs % 60);
}

void
appr_rule(const struct policy *pol, const struct policy_device *d,
    int *needed, unsigned *max_grant)
{
	struct policy_approval a;

	policy_device_approval(pol, d, &a);
	*needed = a.second_approver ? 2 : 1;
	*max_grant = a.max_grant != 0 ? a.max_grant : pol->default_max_grant;
}

/* ---- words ------------------------------------------------------------- */

void
appr_free_words(char **argv)
{
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

int
appr_split(const char *line, char ***out, int *outc)
{
	char **argv;
	char *w = NULL;
	size_t n = 0, wl;
	const char *p = line;
	int r = 0;

	*out = NULL;
	*outc = 0;
	if ((argv = calloc(VERB_MAX_WORDS + 1, sizeof(*argv))) == NULL)
		return (BERR_NOMEM);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == VERB_MAX_WORDS) {
			r = BERR_LIMIT;
			goto fail;
		}
		if ((w = malloc(strlen(p) + 1)) == NULL) {
			r = BERR_NOMEM;
			goto fail;
		}
		wl = 0;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '\'' || *p == '"') {
				char q = *p++;

				while (*p != '\0' && *p != q) {
					if (q == '"' && *p == '\\' &&
					    p[1] != '\0')
						p++;
					w[wl++] = *p++;
				}
				if (*p != q) {
					free(w);
					r = BERR_FORMAT;
					goto fail;
				}
				p++;
			} else {
				if (*p == '\\' && p[1] != '\0')
					p++;
				w[wl++] = *p++;
			}
		}
		w[wl] = '\0';
		argv[n++] = w;
	}
	*out = argv;
	*outc = (int)n;
	return (0);
fail:
	appr_free_words(argv);
	return (r);
}

/* ---- output ------------------------------------------------------------ */

void
appr_strftime(time_t t, const char *fmt, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, fmt, &tm);
}

void
appr_time(time_t t, char *out, size_t len)
{
	appr_strftime(t, "%Y-%m-%d %H:%M:%S UTC", out, len);
}

void
appr_tcell(time_t t, char *out, size_t len)
{
	appr_strftime(t, "%Y-%m-%d %H:%M:%S", out, len);
}

/* A table cell: the text cleaned for a terminal (text.h), "-" if none. */
void
appr_cell(const char *s, char *out, size_t len)
{
	text_clean(out, len, s != NULL && *s != '\0' ? s : "-");
}

void
appr_json_strs(FILE *f, const char *const *kv)
{
	for (; kv[0] != NULL; kv += 2) {
		fprintf(f, ",\"%s\":", kv[0]);
		text_json(f, kv[1]);
	}
}

void
appr_request_json(FILE *f, const struct state_request *r)
{
	fprintf(f, "{\"id\":%lld", (long long)r->id);
	appr_json_strs(f, (const char *const []){ "engineer", r->engineer,
	    "vendor", r->vendor, "device", r->device, "reason", r->reason,
	    NULL });
	fprintf(f, ",\"created\":%lld", (long long)r->created);
	appr_json_strs(f, (const char *const []){ "status", r->status,
	    "approvers", r->approvers, "decided_by", r->decided_by, NULL });
	fprintf(f, ",\"decided_at\":%lld", (long long)r->decided_at);
	appr_json_strs(f, (const char *const []){ "deny_reason",
	    r->deny_reason, NULL });
	fputc('}', f);
}

void
appr_export_json_open(FILE *f, const struct state_export *e)
{
	const char *const kv[] = { "session", e->session, "engineer",
	    e->engineer, "vendor", e->vendor, "device", e->device, "path",
	    e->path, "sha256", e->sha256, "status", e->status, "decided_by",
	    e->decided_by, "deny_reason", e->deny_reason, NULL };

	fprintf(f, "{\"id\":%lld,\"size\":%lld,\"created\":%lld,"
	    "\"decided_at\":%lld", (long long)e->id, (long long)e->size,
	    (long long)e->created, (long long)e->decided_at);
	appr_json_strs(f, kv);
}

void
appr_grant_json_open(FILE *f, const struct state_grant *g)
{
	fprintf(f, "{\"id\":%lld,\"request\":%lld", (long long)g->id,
	    (long long)g->request_id);
	appr_json_strs(f, (const char *const []){ "engineer", g->engineer,
	    "device", g->device, NULL });
	fprintf(f, ",\"created\":%lld,\"until\":%lld,\"revoked\":%s",
	    (long long)g->created, (long long)g->until,
	    g->revoked ? "true" : "false");
	appr_json_strs(f, (const char *const []){ "revoked_by",
	    g->revoked_by, NULL });
}

void
appr_grant_json(FILE *f, const struct state_grant *g)
{
	appr_grant_json_open(f, g);
	fputc('}', f);
}

/* ---- listings ---------------------------------------------------------- */

int
appr_list_json(struct appr_list *l)
{
	if (!l->json)
		return (0);
	fputs(l->n++ ? ",\n " : "", l->c->out);
	return (1);
}

int
appr_list_row(struct appr_list *l, const char *const *cells)
{
	if (table_add(l->t, cells) != 0)
		return (BERR_NOMEM);
	l->n++;
	return (0);
}

int
appr_list_exec(struct verb_ctx *c, const struct verb_args *a)
{
	const struct appr_listing *d = a->entry->data;
	struct appr_list l = { c, a->json, time(NULL), 0, NULL };
	int rc = 0;

	if (a->n != 0) {
		fprintf(c->err, "%s: takes no arguments\n", a->entry->name);
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	else if ((l.t = table_new(d->cols, d->ncols)) == NULL) {
		fprintf(c->err, "%s: out of memory\n", a->entry->name);
		return (1);
	}
	if (d->walk(&l, a) != 0) {
		fprintf(c->err, "%s: %s\n", a->entry->name, d->failed);
		table_free(l.t);
		return (1);
	}
	if (a->json)
		fputs("]\n", c->out);
	else if (l.n == 0)
		fprintf(c->out, "%s\n", a->all ? d->none_all : d->none);
	else if (table_print(l.t, c->out, NULL, a->width) != 0)
		rc = 1;
	table_free(l.t);
	return (rc);
}

/* ---- checks and lookups ------------------------------------------------ */

int
appr_id(struct verb_ctx *c, const char *verb, const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v <= 0) {
		fprintf(c->err, "%s: \"%s\" is not an id (a number from "
		    "\"%s\")\n", verb, s, strcmp(verb, "revoke") == 0 ?
		    "grants" : strcmp(verb, "kill") == 0 ||
		    strcmp(verb, "watch") == 0 ? "sessions" : "requests");
		return (-1);
	}
	*id = v;
	return (0);
}

/* The request, pending and not past its timeout; -1 after saying why. */
int
appr_pending(struct verb_ctx *c, const char *verb, int64_t id,
    struct state_request *r, const struct policy_device **dev)
{
	int found = 0;

	if (state_request_get(c->st, id, r, &found) != 0) {
		fprintf(c->err, "%s: the state store failed\n", verb);
		return (-1);
	}
	if (!found) {
		fprintf(c->err, "%s: there is no request %lld (see "
		    "\"requests\")\n", verb, (long long)id);
		return (-1);
	}
	if (strcmp(r->status, STATE_REQ_PENDING) != 0) {
		fprintf(c->err, "%s: request %lld is %s already%s%s\n", verb,
		    (long long)id, r->status, r->decided_by[0] ? " by " : "",
		    r->decided_by);
		return (-1);
	}
	if (r->created + (time_t)c->pol->approval_timeout <= time(NULL)) {
		(void)state_request_finish(c->st, id, STATE_REQ_EXPIRED, NULL,
		    "no decision before the timeout");
		fprintf(c->err, "%s: request %lld has expired (no decision "
		    "within %us); the engineer must ask again\n", verb,
		    (long long)id, c->pol->approval_timeout);
		return (-1);
	}
	if ((*dev = policy_device(c->pol, r->device)) == NULL) {
		fprintf(c->err, "%s: device %s of request %lld is not in the "
		    "policy any more\n", verb, r->device, (long long)id);
		return (-1);
	}
	return (0);
}

/* Reasons reach the engineer's terminal and the audit log: clean text. */
int
appr_reason_ok(struct verb_ctx *c, const char *verb, const char *why)
{
	if (text_is_clean(why, strlen(why)) && strlen(why) <= APPR_TEXT_MAX)
		return (1);
	fprintf(c->err, "%s: the reason must be at most %d bytes of text "
	    "without control characters\n", verb, APPR_TEXT_MAX);
	return (0);
}

/* Wait up to ms for the admin's side; 1 when they left or asked to stop. */
int
appr_wait(struct verb_ctx *c, unsigned ms)
{
	struct timespec nap;

	if (c->cancelled != NULL)
		return (c->cancelled(c->cancel_arg, ms));
	nap.tv_sec = ms / 1000;
	nap.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&nap, NULL);
	return (0);
}

/* The positional words from i on, joined by blanks (a reason). */
void
appr_join(const struct verb_args *a, int i, const char *dflt, char *out,
    size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (; i < a->n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? " " : "",
		    a->pos[i]);
	if (out[0] == '\0')
		snprintf(out, len, "%s", dflt);
}

/* The session by number for kill and watch; 0, or the exit status (1,
 * 2 for a word that is no number) after saying why. */
int
appr_session(struct verb_ctx *c, const char *verb, const char *arg,
    struct state_session *s)
{
	int64_t sid;
	int found = 0;

	if (appr_id(c, verb, arg, &sid) != 0)
		return (2);
	if (state_session_get(c->st, sid, s, &found) != 0) {
		fprintf(c->err, "%s: the state store failed (see the "
		    "bastion's log)\n", verb);
		return (1);
	}
	if (!found) {
		fprintf(c->err, "%s: there is no session %lld (see "
		    "\"sessions\")\n", verb, (long long)sid);
		return (1);
	}
	return (0);
}

/* A number in a canonical action: its decimal text as a string. */
static int
appr_canon_int(struct buf *canon, int64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return (buf_put_cstring(canon, s));
}

int
appr_canon_request(struct buf *canon, FILE *summary, const char *verb,
    const struct state_request *r, unsigned dur, const char *why)
{
	const char *const kv[] = { "verb", verb, "engineer", r->engineer,
	    "vendor", r->vendor, "device", r->device, "reason", r->reason,
	    "deny_reason", why, NULL };
	int rc;

	if ((rc = buf_put_cstring(canon, verb)) != 0 ||
	    (rc = appr_canon_int(canon, r->id)) != 0 ||
	    (rc = buf_put_cstring(canon, r->engineer)) != 0 ||
	    (rc = buf_put_cstring(canon, r->vendor)) != 0 ||
	    (rc = buf_put_cstring(canon, r->device)) != 0 ||
	    (rc = buf_put_cstring(canon, r->reason)) != 0 ||
	    (rc = appr_canon_int(canon, (int64_t)r->created)) != 0 ||
	    (rc = buf_put_cstring(canon, r->status)) != 0 ||
	    (rc = buf_put_cstring(canon, r->approvers)) != 0 ||
	    (rc = appr_canon_int(canon, dur)) != 0 ||
	    (rc = buf_put_cstring(canon, why)) != 0)
		return (rc);
	fprintf(summary, "{\"request\":%lld,\"duration\":%u,\"created\":%lld",
	    (long long)r->id, dur, (long long)r->created);
	appr_json_strs(summary, kv);
	fputs("}", summary);
	return (0);
}

int
appr_canon_kv(struct buf *canon, FILE *summary, const char *const *kv)
{
	size_t i;
	int rc;

	for (i = 0; kv[i] != NULL; i += 2)
		if ((rc = buf_put_cstring(canon, kv[i + 1])) != 0)
			return (rc);
	fprintf(summary, "{\"action\":");
	text_json(summary, kv[1]);
	appr_json_strs(summary, kv);
	fputs("}", summary);
	return (0);
}
