/*
 * approvals.c - the admin verbs (see approvals.h): requests and grants,
 * sessions, kill and watch, engineer locks, and the vendors overview.
 *
 * Each verb checks its arguments, does its state-store operations, emits
 * one audit event for a decision, and prints a table or (--json) one JSON
 * document. Nothing here talks to the network: the caller hands in where
 * the output goes (and, for the streaming verbs, how to notice that the
 * admin has left).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "approvals.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "table.h"
#include "text.h"

#define APPR_MAX_WORDS		64
#define APPR_MAX_DURATION	(366u * 86400u)
#define APPR_KILL_WAIT_S	10	/* kill waits this long for the end */
#define APPR_TEXT_MAX		200	/* reasons (kill, lock) */

void
appr_usage(FILE *f, const char *prefix)
{
	fprintf(f, "%srequests [--all] [--json] [--wide]\n"
	    "%sapprove ID DURATION [--json]   (DURATION: 90m, 2h, 1d)\n"
	    "%sdeny ID REASON... [--json]\n"
	    "%sgrants [--all] [--json] [--wide]\n"
	    "%srevoke ID [--json]\n"
	    "%ssessions [--all] [--json] [--wide]\n"
	    "%swatch SESSION [--from-start]   (read-only; Ctrl-C stops)\n"
	    "%skill SESSION [REASON...] [--json]\n"
	    "%slock ENGINEER [REASON...] [--json]\n"
	    "%sunlock ENGINEER [--account | --keys [--reset-counter]] "
	    "[--json]\n"
	    "%svendors [--json] [--wide]\n", prefix, prefix, prefix, prefix, prefix,
	    prefix, prefix, prefix, prefix, prefix, prefix);
}

/* ---- durations ------------------------------------------------------------ */

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
	if ((argv = calloc(APPR_MAX_WORDS + 1, sizeof(*argv))) == NULL)
		return (BERR_NOMEM);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == APPR_MAX_WORDS) {
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

static void
appr_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A time in a table whose header says (UTC): "2026-11-05 14:05:01". */
static void
appr_tcell(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A table cell: the text cleaned for a terminal (text.h), "-" if none. */
static void
appr_cell(const char *s, char *out, size_t len)
{
	text_clean(out, len, s != NULL && *s != '\0' ? s : "-");
}

void
appr_request_json(FILE *f, const struct state_request *r)
{
	fprintf(f, "{\"id\":%lld,\"engineer\":", (long long)r->id);
	text_json(f, r->engineer);
	fputs(",\"vendor\":", f);
	text_json(f, r->vendor);
	fputs(",\"device\":", f);
	text_json(f, r->device);
	fputs(",\"reason\":", f);
	text_json(f, r->reason);
	fprintf(f, ",\"created\":%lld,\"status\":", (long long)r->created);
	text_json(f, r->status);
	fputs(",\"approvers\":", f);
	text_json(f, r->approvers);
	fputs(",\"decided_by\":", f);
	text_json(f, r->decided_by);
	fprintf(f, ",\"decided_at\":%lld,\"deny_reason\":",
	    (long long)r->decided_at);
	text_json(f, r->deny_reason);
	fputc('}', f);
}

static void
appr_grant_json(FILE *f, const struct state_grant *g)
{
	fprintf(f, "{\"id\":%lld,\"request\":%lld,\"engineer\":",
	    (long long)g->id, (long long)g->request_id);
	text_json(f, g->engineer);
	fputs(",\"device\":", f);
	text_json(f, g->device);
	fprintf(f, ",\"created\":%lld,\"until\":%lld,\"revoked\":%s,"
	    "\"revoked_by\":", (long long)g->created, (long long)g->until,
	    g->revoked ? "true" : "false");
	text_json(f, g->revoked_by);
	fputc('}', f);
}

/* ---- verbs --------------------------------------------------------------- */

/* Options; each verb says which it takes (struct appr_verb). */
#define AO_JSON		0x01
#define AO_ALL		0x02
#define AO_KEYS		0x04
#define AO_ACCOUNT	0x08
#define AO_RESET	0x10
#define AO_START	0x20
#define AO_WIDE		0x40	/* tables: no width limit, nothing cut */

static const struct {
	const char *name;
	unsigned bit;
} appr_opts[] = {
	{ "--json", AO_JSON },
	{ "--all", AO_ALL },
	{ "--keys", AO_KEYS },
	{ "--account", AO_ACCOUNT },
	{ "--reset-counter", AO_RESET },
	{ "--from-start", AO_START },
	{ "--wide", AO_WIDE },
};

struct appr_args {
	int json, all;
	size_t width;			/* tables: TABLE_WIDTH, 0 with --wide */
	unsigned opts;			/* AO_* given */
	int n;
	char *pos[APPR_MAX_WORDS];	/* positional arguments */
};

/* Options anywhere; -- ends them. 0 or 2 (usage). */
static int
appr_args(struct appr_ctx *c, int argc, char **argv, unsigned allowed,
    struct appr_args *a)
{
	size_t k;
	int i, dashdash = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc && a->n < APPR_MAX_WORDS; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || argv[i][0] != '-' || argv[i][1] == '\0') {
			a->pos[a->n++] = argv[i];
			continue;
		}
		for (k = 0; k < sizeof(appr_opts) / sizeof(appr_opts[0]); k++)
			if (strcmp(argv[i], appr_opts[k].name) == 0 &&
			    (allowed & appr_opts[k].bit) != 0)
				break;
		if (k == sizeof(appr_opts) / sizeof(appr_opts[0])) {
			fprintf(c->err, "%s: unknown option %s%s\n", argv[0],
			    argv[i], argv[i][1] != '-' ? "" : " (a word that "
			    "starts with - goes after --)");
			return (2);
		}
		a->opts |= appr_opts[k].bit;
	}
	a->json = (a->opts & AO_JSON) != 0;
	a->all = (a->opts & AO_ALL) != 0;
	a->width = (a->opts & AO_WIDE) ? 0 : TABLE_WIDTH;
	return (0);
}

static int
appr_id(struct appr_ctx *c, const char *verb, const char *s, int64_t *id)
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

/* A table being filled by a state-store walk (or JSON written as it
 * goes). */
struct appr_list {
	struct appr_ctx *c;
	int json;
	size_t n;
	struct table *t;
};

static const struct table_col appr_request_cols[] = {
	{ "ID", TABLE_KEEP }, { "STATUS", TABLE_KEEP }, { "ENGINEER", 0 },
	{ "VENDOR", 0 }, { "DEVICE", 0 }, { "CREATED (UTC)", TABLE_KEEP },
	{ "APPROVED BY", 0 }, { "REASON", TABLE_FREE },
};

static int
appr_request_line(const struct state_request *r, void *arg)
{
	struct appr_list *l = arg;
	char id[24], when[32], why[600];

	if (l->json) {
		fputs(l->n ? ",\n " : "", l->c->out);
		appr_request_json(l->c->out, r);
	} else {
		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		appr_tcell(r->created, when, sizeof(when));
		snprintf(why, sizeof(why), "%s%s%s", r->reason,
		    r->deny_reason[0] != '\0' ? " / denied: " : "",
		    r->deny_reason);
		if (table_add(l->t, (const char *[]){ id, r->status,
		    r->engineer, r->vendor, r->device, when, r->approvers,
		    why }) != 0)
			return (BERR_NOMEM);
	}
	l->n++;
	return (0);
}

/* Print a filled table (if not --json); 0, or 1 after saying why. */
static int
appr_list_end(struct appr_list *l, const struct appr_args *a,
    const char *none)
{
	int rc = 0;

	if (a->json)
		fputs("]\n", l->c->out);
	else if (l->n == 0)
		fprintf(l->c->out, "%s\n", none);
	else if (table_print(l->t, l->c->out, NULL, a->width) != 0)
		rc = 1;
	table_free(l->t);
	l->t = NULL;
	return (rc);
}

static int
appr_requests(struct appr_ctx *c, const struct appr_args *a)
{
	struct appr_list l = { c, a->json, 0, NULL };

	if (a->n != 0) {
		fprintf(c->err, "requests: takes no arguments\n");
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	else if ((l.t = table_new(appr_request_cols,
	    sizeof(appr_request_cols) / sizeof(appr_request_cols[0]))) ==
	    NULL) {
		fprintf(c->err, "requests: out of memory\n");
		return (1);
	}
	/* newest first: the store gives them by id, descending */
	if (state_request_each(c->st, a->all ? NULL : STATE_REQ_PENDING,
	    a->all ? 200 : 0, appr_request_line, &l) != 0) {
		fprintf(c->err, "requests: the state store failed (see the "
		    "bastion's log)\n");
		table_free(l.t);
		return (1);
	}
	return (appr_list_end(&l, a, a->all ? "no requests" :
	    "no pending requests"));
}

/* The request, pending and not past its timeout; -1 after saying why. */
static int
appr_pending(struct appr_ctx *c, const char *verb, int64_t id,
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

static int
appr_approve(struct appr_ctx *c, const struct appr_args *a)
{
	const struct policy_device *d = NULL;
	struct state_request r;
	struct state_grant g;
	char dstr[32], mstr[32], idstr[32], gstr[32], cnt[16], until[40];
	unsigned dur, max;
	int64_t id, gid = 0;
	int needed, found = 0, rc;

	if (a->n != 2) {
		fprintf(c->err, "approve: give a request id and a duration "
		    "(approve 42 2h)\n");
		return (2);
	}
	if (appr_id(c, "approve", a->pos[0], &id) != 0)
		return (2);
	if (appr_parse_duration(a->pos[1], &dur) != 0) {
		fprintf(c->err, "approve: \"%s\" is not a duration (use 90m, "
		    "2h, 1h30m, 1d)\n", a->pos[1]);
		return (2);
	}
	if (appr_pending(c, "approve", id, &r, &d) != 0)
		return (1);
	appr_rule(c->pol, d, &needed, &max);
	if (needed > 1 && !c->admin_is_policy) {
		fprintf(c->err, "approve: request %lld needs two admins (four "
		    "eyes), and your Unix login (%s) is the unix_user "
		    "of no active admin in the policy, so you cannot be "
		    "one of them: add \"unix_user: "
		    "%s\" to your admin entry in %s (bastiond reload), or "
		    "approve over ssh (ssh -A ADMIN@bastion approve %lld "
		    "%s)\n", (long long)id, c->admin, c->admin,
		    c->pol->path != NULL ? c->pol->path : "the policy",
		    (long long)id, a->pos[1]);
		return (1);
	}
	if (dur > max) {
		appr_duration_str(max, mstr, sizeof(mstr));
		fprintf(c->err, "approve: %s is longer than the longest grant "
		    "for %s (%s): granting %s\n", a->pos[1], d->name, mstr,
		    mstr);
		dur = max;
	}
	rc = state_request_approve(c->st, id, c->admin, dur, needed, &gid);
	if (rc == BERR_DENIED) {
		fprintf(c->err, "approve: you (%s) have approved request %lld "
		    "already; four eyes: a second, different admin must "
		    "approve it\n", c->admin, (long long)id);
		return (1);
	}
	if (rc == BERR_EXISTS || rc == BERR_NOTFOUND) {
		fprintf(c->err, "approve: request %lld was decided meanwhile "
		    "(see \"requests --all\")\n", (long long)id);
		return (1);
	}
	if (rc != 0) {
		fprintf(c->err, "approve: the state store failed\n");
		return (1);
	}
	appr_duration_str(dur, dstr, sizeof(dstr));
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(gstr, sizeof(gstr), "%lld", (long long)gid);
	snprintf(cnt, sizeof(cnt), "%d/%d", gid != 0 ? needed :
	    r.napprovals + 1, needed);
	audit_event("approval.approve", "request", idstr, "admin", c->admin,
	    "via", c->via, "engineer", r.engineer, "vendor", r.vendor,
	    "device", r.device, "duration", dstr, "approvals", cnt,
	    "grant", gid != 0 ? gstr : NULL, "result", gid != 0 ? "granted" :
	    "needs_second", NULL);
	g.until = 0;
	if (gid != 0)
		(void)state_grant_get(c->st, gid, &g, &found);
	appr_time(found ? g.until : 0, until, sizeof(until));
	if (a->json) {
		fprintf(c->out, "{\"request\":%lld,\"status\":\"%s\","
		    "\"approvals\":%d,\"needed\":%d,\"duration\":%u,"
		    "\"grant\":%lld,\"until\":%lld}\n", (long long)id,
		    gid != 0 ? STATE_REQ_APPROVED : STATE_REQ_PENDING,
		    gid != 0 ? needed : r.napprovals + 1, needed, dur,
		    (long long)gid, (long long)(found ? g.until : 0));
	} else if (gid != 0) {
		char eng[40], dev[40];

		appr_cell(r.engineer, eng, sizeof(eng));
		appr_cell(r.device, dev, sizeof(dev));
		fprintf(c->out, "request %lld approved: grant %lld lets %s "
		    "reach %s for %s (until %s)\n", (long long)id,
		    (long long)gid, eng, dev, dstr, until);
	}
	else
		fprintf(c->out, "request %lld: your approval is recorded "
		    "(%s); four eyes: a second, different admin must approve "
		    "it too\n", (long long)id, cnt);
	return (0);
}

/* Reasons reach the engineer's terminal and the audit log: clean text. */
static int
appr_reason_ok(struct appr_ctx *c, const char *verb, const char *why)
{
	if (text_is_clean(why, strlen(why)) && strlen(why) <= APPR_TEXT_MAX)
		return (1);
	fprintf(c->err, "%s: the reason must be at most %d bytes of text "
	    "without control characters\n", verb, APPR_TEXT_MAX);
	return (0);
}

static int
appr_deny(struct appr_ctx *c, const struct appr_args *a)
{
	const struct policy_device *d = NULL;
	struct state_request r;
	char why[256], idstr[32];
	size_t o = 0;
	int64_t id;
	int i;

	if (a->n < 2) {
		fprintf(c->err, "deny: give a request id and a reason the "
		    "engineer will see (deny 42 \"no ticket\")\n");
		return (2);
	}
	if (appr_id(c, "deny", a->pos[0], &id) != 0)
		return (2);
	why[0] = '\0';
	for (i = 1; i < a->n && o < sizeof(why); i++)
		o += (size_t)snprintf(why + o, sizeof(why) - o, "%s%s",
		    i > 1 ? " " : "", a->pos[i]);
	if (!appr_reason_ok(c, "deny", why))
		return (2);
	if (appr_pending(c, "deny", id, &r, &d) != 0)
		return (1);
	if (state_request_finish(c->st, id, STATE_REQ_DENIED, c->admin,
	    why) != 0) {
		fprintf(c->err, "deny: request %lld was decided meanwhile "
		    "(see \"requests --all\")\n", (long long)id);
		return (1);
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	audit_event("approval.deny", "request", idstr, "admin", c->admin,
	    "via", c->via, "engineer", r.engineer, "vendor", r.vendor,
	    "device", r.device, "reason", why, NULL);
	if (a->json) {
		fprintf(c->out, "{\"request\":%lld,\"status\":\"denied\","
		    "\"reason\":", (long long)id);
		text_json(c->out, why);
		fputs("}\n", c->out);
	} else {
		char eng[40], shown[256];

		appr_cell(r.engineer, eng, sizeof(eng));
		text_clean(shown, sizeof(shown), why);
		fprintf(c->out, "request %lld denied; %s is told: %s\n",
		    (long long)id, eng, shown);
	}
	return (0);
}

static const struct table_col appr_grant_cols[] = {
	{ "ID", TABLE_KEEP }, { "REQUEST", TABLE_KEEP }, { "ENGINEER", 0 },
	{ "DEVICE", 0 }, { "UNTIL (UTC)", TABLE_KEEP }, { "STATE", TABLE_FREE },
};

static int
appr_grant_line(const struct state_grant *g, void *arg)
{
	struct appr_list *l = arg;
	char id[24], req[24], until[32], state[120];
	time_t now = time(NULL);

	if (l->json) {
		fputs(l->n ? ",\n " : "", l->c->out);
		appr_grant_json(l->c->out, g);
	} else {
		snprintf(id, sizeof(id), "%lld", (long long)g->id);
		snprintf(req, sizeof(req), "%lld", (long long)g->request_id);
		appr_tcell(g->until, until, sizeof(until));
		snprintf(state, sizeof(state), "%s%s", g->revoked ?
		    "revoked by " : g->until <= now ? "ended" : "live",
		    g->revoked ? g->revoked_by : "");
		if (table_add(l->t, (const char *[]){ id, req, g->engineer,
		    g->device, until, state }) != 0)
			return (BERR_NOMEM);
	}
	l->n++;
	return (0);
}

static int
appr_grants(struct appr_ctx *c, const struct appr_args *a)
{
	struct appr_list l = { c, a->json, 0, NULL };

	if (a->n != 0) {
		fprintf(c->err, "grants: takes no arguments\n");
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	else if ((l.t = table_new(appr_grant_cols, sizeof(appr_grant_cols) /
	    sizeof(appr_grant_cols[0]))) == NULL) {
		fprintf(c->err, "grants: out of memory\n");
		return (1);
	}
	/* newest first: the store gives them by id, descending */
	if (state_grant_each(c->st, a->all, time(NULL), appr_grant_line,
	    &l) != 0) {
		fprintf(c->err, "grants: the state store failed\n");
		table_free(l.t);
		return (1);
	}
	return (appr_list_end(&l, a, a->all ? "no grants" : "no live grants"));
}

static int
appr_revoke(struct appr_ctx *c, const struct appr_args *a)
{
	struct state_grant g;
	char idstr[32];
	int64_t id;
	int rc, found = 0;

	if (a->n != 1) {
		fprintf(c->err, "revoke: give one grant id (see \"grants\")\n");
		return (2);
	}
	if (appr_id(c, "revoke", a->pos[0], &id) != 0)
		return (2);
	rc = state_grant_revoke(c->st, id, c->admin);
	if (rc == BERR_NOTFOUND || rc == BERR_EXISTS) {
		fprintf(c->err, "revoke: %s grant %lld\n", rc == BERR_EXISTS ?
		    "already revoked:" : "there is no", (long long)id);
		return (1);
	}
	if (rc != 0 || state_grant_get(c->st, id, &g, &found) != 0 || !found) {
		fprintf(c->err, "revoke: the state store failed\n");
		return (1);
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	audit_event("grant.revoke", "grant", idstr, "admin", c->admin, "via",
	    c->via, "engineer", g.engineer, "device", g.device, NULL);
	if (a->json) {
		appr_grant_json(c->out, &g);
		fputc('\n', c->out);
	} else
		fprintf(c->out, "grant %lld revoked: %s may not reach %s "
		    "without a new approval; sessions running under it end\n",
		    (long long)id, g.engineer, g.device);
	return (0);
}

/* ---- sessions, kill, watch ----------------------------------------------- */

/* Wait up to ms for the admin's side; 1 when they left or asked to stop. */
static int
appr_wait(struct appr_ctx *c, unsigned ms)
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
static void
appr_join(const struct appr_args *a, int i, const char *dflt, char *out,
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

/* "1.2 MiB" */
static void
appr_bytes(long long n, char *out, size_t len)
{
	if (n < 0)
		snprintf(out, len, "-");
	else if (n < 1024)
		snprintf(out, len, "%lld B", n);
	else if (n < 1024 * 1024)
		snprintf(out, len, "%.1f KiB", (double)n / 1024);
	else
		snprintf(out, len, "%.1f MiB", (double)n / (1024 * 1024));
}

/*
 * The recording's size and how long ago it last grew (the recorder writes
 * every frame as it comes and nothing while the session is quiet, so that
 * is the session's idle time, give or take its one-second checkpoints).
 * -1 when unknown.
 */
static void
appr_rec_stat(const struct appr_ctx *c, const struct state_session *s,
    time_t now, long long *bytes, long long *idle)
{
	struct stat sb;

	*bytes = *idle = -1;
	if (!mon_recording_ok(c->pol, s->recording) ||
	    stat(s->recording, &sb) != 0)
		return;
	*bytes = (long long)sb.st_size;
	if (s->ended == 0)
		*idle = now > sb.st_mtime ? (long long)(now - sb.st_mtime) : 0;
}

static void
appr_session_json(const struct appr_ctx *c, const struct state_session *s,
    time_t now)
{
	long long bytes, idle;

	appr_rec_stat(c, s, now, &bytes, &idle);
	fprintf(c->out, "{\"sid\":%lld,\"pid\":%d,\"engineer\":",
	    (long long)s->sid, s->pid);
	text_json(c->out, s->engineer);
	fputs(",\"vendor\":", c->out);
	text_json(c->out, s->vendor);
	fputs(",\"device\":", c->out);
	text_json(c->out, s->device);
	fputs(",\"from\":", c->out);
	text_json(c->out, s->source);
	fprintf(c->out, ",\"started\":%lld,\"ended\":%lld,\"end_reason\":",
	    (long long)s->started, (long long)s->ended);
	text_json(c->out, s->end_reason);
	fprintf(c->out, ",\"grant\":%lld,\"recording\":",
	    (long long)s->grant_id);
	text_json(c->out, s->recording);
	fprintf(c->out, ",\"recorded_bytes\":%lld,\"idle_seconds\":%lld,"
	    "\"kill_requested\":%s,\"killed_by\":", bytes, idle,
	    s->kill_requested ? "true" : "false");
	text_json(c->out, s->killed_by);
	fputs(",\"kill_reason\":", c->out);
	text_json(c->out, s->kill_reason);
	fputc('}', c->out);
}

struct appr_slist {
	struct appr_ctx *c;
	int json;
	time_t now;
	size_t n;
	struct table *t;
};

static const struct table_col appr_session_cols[] = {
	{ "SID", TABLE_KEEP }, { "ENGINEER", 0 }, { "VENDOR", 0 },
	{ "DEVICE", 0 }, { "FROM", TABLE_KEEP }, { "STARTED (UTC)", TABLE_KEEP },
	{ "IDLE", TABLE_KEEP }, { "RECORDED", TABLE_KEEP },
	{ "GRANT", TABLE_KEEP }, { "STATE", TABLE_FREE },
};

static int
appr_session_line(const struct state_session *s, void *arg)
{
	struct appr_slist *l = arg;
	FILE *f = l->c->out;
	char when[32], idle[24], sid[24];
	char rec[24], state[400], grant[24];
	long long bytes, isec;

	if (l->json) {
		fputs(l->n ? ",\n " : "", f);
		appr_session_json(l->c, s, l->now);
		l->n++;
		return (0);
	}
	l->n++;
	snprintf(sid, sizeof(sid), "%lld", (long long)s->sid);
	/* "12-07 14:05": the year is this one (JSON has it all), and the
	 * room goes to the state */
	appr_tcell(s->started, when, sizeof(when));
	if (strlen(when) == 19) {
		memmove(when, when + 5, 11);
		when[11] = '\0';
	}
	appr_rec_stat(l->c, s, l->now, &bytes, &isec);
	if (isec < 0)
		snprintf(idle, sizeof(idle), "-");
	else
		appr_duration_str((unsigned)isec, idle, sizeof(idle));
	appr_bytes(bytes, rec, sizeof(rec));
	if (s->grant_id != 0)
		snprintf(grant, sizeof(grant), "%lld", (long long)s->grant_id);
	else
		snprintf(grant, sizeof(grant), "-");
	if (s->ended != 0)
		snprintf(state, sizeof(state), "ended: %s", s->end_reason[0] ?
		    s->end_reason : "-");
	else if (s->kill_requested)
		snprintf(state, sizeof(state), "ending (killed by %s)",
		    s->killed_by[0] ? s->killed_by : "-");
	else
		snprintf(state, sizeof(state), "live");
	if (table_add(l->t, (const char *[]){ sid, s->engineer, s->vendor,
	    s->device, s->source, when, idle, rec, grant, state }) != 0)
		return (BERR_NOMEM);
	return (0);
}

static int
appr_sessions(struct appr_ctx *c, const struct appr_args *a)
{
	struct appr_slist l = { c, a->json, time(NULL), 0, NULL };
	struct appr_list tl = { c, a->json, 0, NULL };

	if (a->n != 0) {
		fprintf(c->err, "sessions: takes no arguments\n");
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	else if ((l.t = table_new(appr_session_cols,
	    sizeof(appr_session_cols) / sizeof(appr_session_cols[0]))) ==
	    NULL) {
		fprintf(c->err, "sessions: out of memory\n");
		return (1);
	}
	if (state_session_each(c->st, a->all, a->all ? 200 : 0,
	    appr_session_line, &l) != 0) {
		fprintf(c->err, "sessions: the state store failed (see the "
		    "bastion's log)\n");
		table_free(l.t);
		return (1);
	}
	/* newest first (the store gives live sessions oldest first) */
	if (l.t != NULL)
		table_sort(l.t, 0, TABLE_DESC | TABLE_NUM);
	tl.n = l.n;
	tl.t = l.t;
	return (appr_list_end(&tl, a, a->all ? "no sessions" :
	    "no live sessions"));
}

/* The session by number for kill and watch; 0, or the exit status (1,
 * 2 for a word that is no number) after saying why. */
static int
appr_session(struct appr_ctx *c, const char *verb, const char *arg,
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

static int
appr_kill(struct appr_ctx *c, const struct appr_args *a)
{
	struct state_session s, now_s;
	char why[APPR_TEXT_MAX * 2], sidstr[32];
	time_t deadline;
	int rc, found = 0, ended = 0;

	if (a->n < 1) {
		fprintf(c->err, "kill: give a session number (see "
		    "\"sessions\") and a reason the engineer will see\n");
		return (2);
	}
	appr_join(a, 1, "no reason given", why, sizeof(why));
	if (!appr_reason_ok(c, "kill", why))
		return (2);
	if ((rc = appr_session(c, "kill", a->pos[0], &s)) != 0)
		return (rc);
	rc = state_session_kill(c->st, s.sid, c->admin, why, &s);
	if (rc == BERR_EXISTS) {
		fprintf(c->err, "kill: session %lld has ended already (%s)\n",
		    (long long)s.sid, s.end_reason);
		return (1);
	}
	if (rc != 0) {
		fprintf(c->err, "kill: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	snprintf(sidstr, sizeof(sidstr), "%lld", (long long)s.sid);
	audit_event("session.killed", "session", sidstr, "admin", c->admin,
	    "via", c->via, "user", s.engineer, "vendor", s.vendor, "device",
	    s.device, "from", s.source, "reason", why, NULL);
	/* the monitor looks once a second; the worker then closes */
	deadline = time(NULL) + APPR_KILL_WAIT_S;
	while (time(NULL) < deadline) {
		if (state_session_get(c->st, s.sid, &now_s, &found) == 0 &&
		    found && now_s.id == s.id && now_s.ended != 0) {
			ended = 1;
			break;
		}
		if (appr_wait(c, 250))
			break;
	}
	if (a->json) {
		fprintf(c->out, "{\"session\":%lld,\"status\":\"%s\","
		    "\"reason\":", (long long)s.sid, ended ? "ended" :
		    "requested");
		text_json(c->out, why);
		fputs("}\n", c->out);
	} else {
		char eng[40], dev[40], shown[APPR_TEXT_MAX + 1];

		appr_cell(s.engineer, eng, sizeof(eng));
		appr_cell(s.device, dev, sizeof(dev));
		text_clean(shown, sizeof(shown), why);
		if (ended)
			fprintf(c->out, "session %lld (%s on %s) ended; %s was "
			    "told: %s\n", (long long)s.sid, eng, dev, eng,
			    shown);
		else
			fprintf(c->out, "session %lld (%s on %s): kill "
			    "requested; it has not ended yet (see \"sessions\"; "
			    "the bastion ends it within seconds)\n",
			    (long long)s.sid, eng, dev);
	}
	return (0);
}

static int
appr_watch(struct appr_ctx *c, const struct appr_args *a)
{
	struct state_session s;
	char sidstr[32];
	int rc;

	if (a->n != 1) {
		fprintf(c->err, "watch: give one session number (see "
		    "\"sessions\")\n");
		return (2);
	}
	if ((rc = appr_session(c, "watch", a->pos[0], &s)) != 0)
		return (rc);
	if (s.ended != 0) {
		fprintf(c->err, "watch: session %lld has ended (%s); an "
		    "auditor can replay its recording\n", (long long)s.sid,
		    s.end_reason);
		return (1);
	}
	if (!mon_recording_ok(c->pol, s.recording)) {
		fprintf(c->err, "watch: the recording of session %lld is not "
		    "below recordings_dir (%s); refusing to read it\n",
		    (long long)s.sid, c->pol->recordings_dir);
		return (1);
	}
	if (c->follow == NULL) {
		fprintf(c->err, "watch: not available here; use "
		    "ssh ADMIN@bastion watch %lld\n", (long long)s.sid);
		return (1);
	}
	snprintf(sidstr, sizeof(sidstr), "%lld", (long long)s.sid);
	/* nobody watches a session unrecorded in the audit chain */
	if (audit_event("session.watch", "session", sidstr, "admin", c->admin,
	    "via", c->via, "user", s.engineer, "device", s.device,
	    NULL) != 0) {
		fprintf(c->err, "watch: the audit log cannot be written, so "
		    "watching is refused; see the bastion's log\n");
		return (1);
	}
	fprintf(c->err, "bastion: watching session %lld: %s (%s) on %s from "
	    "%s; read-only, %s\n", (long long)s.sid, s.engineer, s.vendor,
	    s.device, s.source, c->terminal ? "press Ctrl-C to stop" :
	    "close the connection to stop");
	fflush(c->err);
	rc = c->follow(c, &s, (a->opts & AO_START) != 0);
	fflush(c->out);
	return (rc);
}

/* ---- lock, unlock ---------------------------------------------------------- */

static int
appr_lock(struct appr_ctx *c, const struct appr_args *a)
{
	struct state_engineer_lock lk;
	enum policy_role role = ROLE_NONE;
	char why[APPR_TEXT_MAX * 2], since[40];
	const char *name;
	size_t n = 0;
	int rc;

	if (a->n < 1) {
		fprintf(c->err, "lock: name the engineer (lock alice "
		    "\"left the company\")\n");
		return (2);
	}
	name = a->pos[0];
	appr_join(a, 1, "no reason given", why, sizeof(why));
	if (!appr_reason_ok(c, "lock", why))
		return (2);
	if (policy_person(c->pol, name, &role) == NULL ||
	    role != ROLE_ENGINEER) {
		fprintf(c->err, "lock: \"%s\" is not a vendor engineer in the "
		    "policy%s\n", name, role != ROLE_NONE ? " (admins and "
		    "auditors are disabled in the policy instead)" : "");
		return (1);
	}
	rc = state_engineer_lock(c->st, name, c->admin, why);
	if (rc == BERR_EXISTS) {
		char by[40], was[APPR_TEXT_MAX + 1];

		(void)state_engineer_locked(c->st, name, &(int){ 0 }, &lk);
		appr_time(lk.since, since, sizeof(since));
		appr_cell(lk.locked_by, by, sizeof(by));
		text_clean(was, sizeof(was), lk.reason);
		fprintf(c->err, "lock: %s is locked already (by %s since %s: "
		    "%s)\n", name, by, since, was);
		return (1);
	}
	if (rc != 0 || state_session_count(c->st, name, &n) != 0) {
		fprintf(c->err, "lock: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	snprintf(since, sizeof(since), "%zu", n);
	audit_event("engineer.lock", "engineer", name, "admin", c->admin,
	    "via", c->via, "reason", why, "live_sessions", since, NULL);
	if (a->json) {
		fputs("{\"engineer\":", c->out);
		text_json(c->out, name);
		fputs(",\"locked\":true,\"by\":", c->out);
		text_json(c->out, c->admin);
		fputs(",\"reason\":", c->out);
		text_json(c->out, why);
		fprintf(c->out, ",\"live_sessions\":%zu}\n", n);
	} else if (n == 0)
		fprintf(c->out, "%s is locked: new logins are refused\n", name);
	else
		fprintf(c->out, "%s is locked: new logins are refused; %zu live "
		    "session%s end%s within seconds\n", name, n, n == 1 ? "" :
		    "s", n == 1 ? "s" : "");
	return (0);
}

struct appr_unlock {
	struct appr_ctx *c;
	const char *engineer;
	int reset, failed;
	size_t n;
};

static void
appr_unlock_key(const char *fp, void *arg)
{
	struct appr_unlock *u = arg;

	if (u->c->out != NULL && !u->failed) {
		/* the line bastionctl printed before (kept for scripts) */
		fprintf(u->c->out, "unlocked: %s %s%s\n", u->engineer, fp,
		    u->reset ? " (counter forgotten)" : "");
	}
	if (u->reset && state_counter_forget(u->c->st, fp) != 0)
		u->failed = 1;
	u->n++;
	audit_event("key.unlock", "user", u->c->admin, "via", u->c->via,
	    "engineer", u->engineer, "key", fp, "result", "ok",
	    "reset_counter", u->reset ? "yes" : "no", NULL);
}

static int
appr_unlock(struct appr_ctx *c, const struct appr_args *a)
{
	struct appr_unlock u;
	struct state_engineer_lock lk;
	enum policy_role role = ROLE_NONE;
	int account, keys, rc, had_account = 0;
	char since[40];
	FILE *saved = c->out;

	if (a->n != 1) {
		fprintf(c->err, "unlock: name one engineer\n");
		return (2);
	}
	/* both kinds unless one is named */
	account = (a->opts & AO_ACCOUNT) != 0 || (a->opts & AO_KEYS) == 0;
	keys = (a->opts & AO_KEYS) != 0 || (a->opts & AO_ACCOUNT) == 0;
	if ((a->opts & AO_RESET) != 0 && !keys) {
		fprintf(c->err, "unlock: --reset-counter is about key locks; "
		    "leave out --account\n");
		return (2);
	}
	memset(&u, 0, sizeof(u));
	u.c = c;
	u.engineer = a->pos[0];
	u.reset = (a->opts & AO_RESET) != 0;
	if (a->json) {
		fputs("{\"engineer\":", c->out);
		text_json(c->out, u.engineer);
		fputs(",\"account\":", c->out);
	}
	if (account) {
		rc = state_engineer_unlock(c->st, u.engineer, &lk);
		if (rc != 0 && rc != BERR_NOTFOUND) {
			fprintf(c->err, "unlock: the state store failed (see "
			    "the bastion's log)\n");
			return (1);
		}
		if (rc == 0) {
			had_account = 1;
			appr_time(lk.since, since, sizeof(since));
			audit_event("engineer.unlock", "engineer", u.engineer,
			    "admin", c->admin, "via", c->via, "locked_by",
			    lk.locked_by, "lock_reason", lk.reason, NULL);
			if (!a->json) {
				char by[40], was[APPR_TEXT_MAX + 1];

				appr_cell(lk.locked_by, by, sizeof(by));
				text_clean(was, sizeof(was), lk.reason);
				fprintf(c->out, "unlocked: %s (account lock by "
				    "%s since %s: %s)\n", u.engineer, by, since,
				    was);
			}
		}
	}
	if (a->json) {
		if (had_account) {
			fputs("{\"by\":", c->out);
			text_json(c->out, lk.locked_by);
			fputs(",\"reason\":", c->out);
			text_json(c->out, lk.reason);
			fprintf(c->out, ",\"since\":%lld}", (long long)lk.since);
		} else
			fputs("null", c->out);
		c->out = NULL;	/* no key lines inside the JSON */
	}
	rc = keys ? state_key_unlock_engineer(c->st, u.engineer, NULL,
	    appr_unlock_key, &u) : 0;
	c->out = saved;
	if (rc != 0 || u.failed) {
		fprintf(c->err, "unlock: could not unlock the keys of %s (see "
		    "the bastion's log)\n", u.engineer);
		return (1);
	}
	if (a->json)
		fprintf(c->out, ",\"keys_unlocked\":%zu,\"reset_counter\":"
		    "%s}\n", u.n, u.reset ? "true" : "false");
	else if (!had_account && u.n == 0)
		fprintf(c->out, "%s has no %s%s%s%s\n", u.engineer,
		    keys ? "locked keys" : "", keys && account ? " and no " :
		    "", account ? "account lock" :
		    "", policy_person(c->pol, u.engineer, &role) == NULL ?
		    " (and is not in the policy)" : "");
	return (0);
}

/* ---- vendors ----------------------------------------------------------------- */

/* "mon-fri 08:00-18:00", "daily 22:00-06:00" */
static void
appr_window_str(const struct policy_window *w, char *out, size_t len)
{
	static const char *const day[] = { "mon", "tue", "wed", "thu",
	    "fri", "sat", "sun" };
	size_t o = 0;
	int d, e;

	out[0] = '\0';
	if ((w->days & 0x7f) == 0x7f)
		o += (size_t)snprintf(out, len, "daily");
	else
		for (d = 0; d < 7 && o < len; d = e + 1) {
			if (!(w->days & (1u << d))) {
				e = d;
				continue;
			}
			for (e = d; e + 1 < 7 && (w->days & (1u << (e + 1)));
			    e++)
				;
			o += (size_t)snprintf(out + o, len - o, "%s%s%s%s",
			    o ? "," : "", day[d], e > d ? "-" : "",
			    e > d ? day[e] : "");
		}
	if (o < len)
		snprintf(out + o, len - o, " %02d:%02d-%02d:%02d",
		    w->start_min / 60, w->start_min % 60, w->end_min / 60,
		    w->end_min % 60);
}

/* The rule as one line: "required, four eyes, longest grant 4h, windows
 * mon-fri 08:00-18:00" or "not required". */
static void
appr_rule_str(const struct policy *pol, const struct policy_approval *r,
    char *out, size_t len)
{
	char d[32], w[64];
	size_t o, i;

	if (!r->required) {
		snprintf(out, len, "not required");
		return;
	}
	appr_duration_str(r->max_grant ? r->max_grant :
	    pol->default_max_grant, d, sizeof(d));
	o = (size_t)snprintf(out, len, "required%s, longest grant %s",
	    r->second_approver ? ", four eyes" : "", d);
	for (i = 0; i < r->nwindows && o < len; i++) {
		appr_window_str(&r->windows[i], w, sizeof(w));
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    i ? "; " : ", pre-approved ", w);
	}
}

static void
appr_rule_json(FILE *f, const struct policy *pol,
    const struct policy_approval *r)
{
	char w[64];
	size_t i;

	fprintf(f, "{\"required\":%s,\"second_approver\":%s,\"max_grant\":%u,"
	    "\"windows\":[", r->required ? "true" : "false",
	    r->second_approver ? "true" : "false", r->max_grant ?
	    r->max_grant : pol->default_max_grant);
	for (i = 0; i < r->nwindows; i++) {
		appr_window_str(&r->windows[i], w, sizeof(w));
		fputs(i ? "," : "", f);
		text_json(f, w);
	}
	fputs("]}", f);
}

/* The vendor's own rule, else the policy's default. */
static const struct policy_approval *
appr_vendor_rule(const struct policy *pol, const struct policy_vendor *v)
{
	return (v->approval.set ? &v->approval : &pol->approval);
}

static void
appr_cidrs_str(const struct netaddr_cidr *c, size_t n, char *out, size_t len)
{
	char a[64];
	size_t i, o = 0;

	snprintf(out, len, "-");
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s/%u", i ? ", " :
		    "", netaddr_str(&c[i].addr, a, sizeof(a)), c[i].prefix);
}

static void
appr_ports_str(const struct policy_device *d, char *out, size_t len)
{
	size_t i, o = 0;

	snprintf(out, len, "-");
	for (i = 0; i < d->nforward_ports && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%u", i ? "," : "",
		    d->forward_ports[i]);
}

/* An engineer's state: enabled/disabled, expired, locked (by an admin),
 * keys locked (by the touch check). */
struct appr_estate {
	int expired, locked;
	size_t key_locks, live;
	struct state_engineer_lock lk;
};

static int
appr_engineer_state(struct appr_ctx *c, const struct policy_person *e,
    time_t now, struct appr_estate *es)
{
	memset(es, 0, sizeof(*es));
	es->expired = e->valid_until != 0 && !policy_person_active(e, now) &&
	    e->enabled;
	if (state_engineer_locked(c->st, e->name, &es->locked, &es->lk) != 0 ||
	    state_key_lock_count(c->st, e->name, &es->key_locks) != 0 ||
	    state_session_count(c->st, e->name, &es->live) != 0)
		return (-1);
	return (0);
}

static const struct table_col appr_device_cols[] = {
	{ "DEVICE", 0 }, { "ADDRESS", TABLE_KEEP }, { "PORT", TABLE_KEEP },
	{ "FORWARDS", 0 }, { "APPROVAL", TABLE_FREE },
	{ "DESCRIPTION", TABLE_FREE },
};

static const struct table_col appr_engineer_cols[] = {
	{ "ENGINEER", 0 }, { "NAME", 0 }, { "VALID UNTIL", TABLE_KEEP },
	{ "KEYS", TABLE_KEEP }, { "LIVE", TABLE_KEEP }, { "STATE", TABLE_FREE },
};

/* What the touch check does for this vendor's engineers (touch.c). */
static const char *
appr_vendor_touch(const struct policy_vendor *v)
{
	if (v->touch == POLICY_TOUCH_OFF)
		return ("touch not checked (touch: off)");
	if (v->allow_non_sk_keys)
		return ("touch required with a security key; plain keys "
		    "cannot be touched, so not checked for them");
	return ("touch required");
}

static void
appr_vendor_text(struct appr_ctx *c, const struct policy_vendor *v,
    time_t now, size_t width, int *failed)
{
	const struct policy *pol = c->pol;
	struct appr_estate es;
	struct table *t;
	char buf[512], addr[64], port[16], ports[64], until[16], st[160];
	char nkeys[16], live[16];
	size_t i;
	struct tm tm;

	snprintf(buf, sizeof(buf), "vendor %s: %s", v->name,
	    v->description != NULL && *v->description ? v->description : "-");
	table_para(c->out, NULL, "    ", buf, width);
	appr_cidrs_str(v->segments, v->nsegments, buf, sizeof(buf));
	table_para(c->out, "  segments   ", "             ", buf, width);
	appr_cidrs_str(v->sources, v->nsources, buf, sizeof(buf));
	table_para(c->out, "  sources    ", "             ", buf, width);
	appr_rule_str(pol, appr_vendor_rule(pol, v), buf, sizeof(buf));
	table_para(c->out, "  approval   ", "             ", buf, width);
	snprintf(buf, sizeof(buf), "%s; %s", v->allow_non_sk_keys ?
	    "any registered key" : "security keys only",
	    appr_vendor_touch(v));
	table_para(c->out, "  keys       ", "             ", buf, width);
	if ((t = table_new(appr_device_cols, sizeof(appr_device_cols) /
	    sizeof(appr_device_cols[0]))) == NULL) {
		*failed = 1;
		return;
	}
	for (i = 0; i < pol->ndevices; i++) {
		const struct policy_device *d = &pol->devices[i];
		struct policy_approval r;

		if (d->vendor != v)
			continue;
		policy_device_approval(pol, d, &r);
		appr_rule_str(pol, &r, buf, sizeof(buf));
		appr_ports_str(d, ports, sizeof(ports));
		snprintf(port, sizeof(port), "%u", d->port);
		if (table_add(t, (const char *[]){ d->name, netaddr_str(
		    &d->addr, addr, sizeof(addr)), port, ports, buf,
		    d->description }) != 0)
			*failed = 1;
	}
	if (table_rows(t) > 0)
		(void)table_print(t, c->out, "  ", width);
	else
		fprintf(c->out, "  no devices\n");
	table_free(t);
	if ((t = table_new(appr_engineer_cols, sizeof(appr_engineer_cols) /
	    sizeof(appr_engineer_cols[0]))) == NULL) {
		*failed = 1;
		return;
	}
	for (i = 0; i < v->nengineers; i++) {
		const struct policy_person *e = &v->engineers[i];

		if (appr_engineer_state(c, e, now, &es) != 0)
			*failed = 1;
		if (e->valid_until != 0 && gmtime_r(&e->valid_until, &tm))
			strftime(until, sizeof(until), "%Y-%m-%d", &tm);
		else
			snprintf(until, sizeof(until), "-");
		snprintf(st, sizeof(st), "%s%s", !e->enabled ? "disabled" :
		    es.expired ? "expired" : "enabled", es.locked ?
		    ", LOCKED by " : "");
		if (es.locked)
			snprintf(buf, sizeof(buf), "%s%s: %s", st,
			    es.lk.locked_by, es.lk.reason);
		else
			snprintf(buf, sizeof(buf), "%s", st);
		if (es.key_locks > 0)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    ", %zu key%s LOCKED (unlock --keys)", es.key_locks,
			    es.key_locks == 1 ? "" : "s");
		snprintf(nkeys, sizeof(nkeys), "%zu", e->nkeys);
		snprintf(live, sizeof(live), "%zu", es.live);
		if (table_add(t, (const char *[]){ e->name, e->full_name,
		    until, nkeys, live, buf }) != 0)
			*failed = 1;
	}
	if (table_rows(t) > 0)
		(void)table_print(t, c->out, "  ", width);
	else
		fprintf(c->out, "  no engineers\n");
	table_free(t);
}

static void
appr_vendor_json(struct appr_ctx *c, const struct policy_vendor *v,
    time_t now, int *failed)
{
	const struct policy *pol = c->pol;
	struct appr_estate es;
	char a[64];
	size_t i, j, n = 0;
	FILE *f = c->out;

	fputs("{\"name\":", f);
	text_json(f, v->name);
	fputs(",\"description\":", f);
	text_json(f, v->description);
	fputs(",\"segments\":[", f);
	for (i = 0; i < v->nsegments; i++) {
		fprintf(f, "%s\"%s/%u\"", i ? "," : "", netaddr_str(
		    &v->segments[i].addr, a, sizeof(a)), v->segments[i].prefix);
	}
	fputs("],\"sources\":[", f);
	for (i = 0; i < v->nsources; i++) {
		fprintf(f, "%s\"%s/%u\"", i ? "," : "", netaddr_str(
		    &v->sources[i].addr, a, sizeof(a)), v->sources[i].prefix);
	}
	fputs("],\"approval\":", f);
	appr_rule_json(f, pol, appr_vendor_rule(pol, v));
	fprintf(f, ",\"touch\":\"%s\",\"allow_non_sk_keys\":%s,\"devices\":[",
	    v->touch == POLICY_TOUCH_OFF ? "off" : "required",
	    v->allow_non_sk_keys ? "true" : "false");
	for (i = 0; i < pol->ndevices; i++) {
		const struct policy_device *d = &pol->devices[i];
		struct policy_approval r;

		if (d->vendor != v)
			continue;
		policy_device_approval(pol, d, &r);
		fputs(n++ ? ",{\"name\":" : "{\"name\":", f);
		text_json(f, d->name);
		fputs(",\"description\":", f);
		text_json(f, d->description);
		fprintf(f, ",\"address\":\"%s\",\"port\":%u,\"forward_ports\":[",
		    netaddr_str(&d->addr, a, sizeof(a)), d->port);
		for (j = 0; j < d->nforward_ports; j++)
			fprintf(f, "%s%u", j ? "," : "", d->forward_ports[j]);
		fputs("],\"approval\":", f);
		appr_rule_json(f, pol, &r);
		fputc('}', f);
	}
	fputs("],\"engineers\":[", f);
	for (i = 0; i < v->nengineers; i++) {
		const struct policy_person *e = &v->engineers[i];

		if (appr_engineer_state(c, e, now, &es) != 0)
			*failed = 1;
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		text_json(f, e->name);
		fputs(",\"full_name\":", f);
		text_json(f, e->full_name);
		fprintf(f, ",\"enabled\":%s,\"expired\":%s,\"valid_until\":%lld,"
		    "\"keys\":%zu,\"live_sessions\":%zu,\"key_locks\":%zu,"
		    "\"locked\":%s,\"lock\":", e->enabled ? "true" : "false",
		    es.expired ? "true" : "false", (long long)e->valid_until,
		    e->nkeys, es.live, es.key_locks, es.locked ? "true" :
		    "false");
		if (es.locked) {
			fputs("{\"by\":", f);
			text_json(f, es.lk.locked_by);
			fputs(",\"reason\":", f);
			text_json(f, es.lk.reason);
			fprintf(f, ",\"since\":%lld}", (long long)es.lk.since);
		} else
			fputs("null", f);
		fputc('}', f);
	}
	fputs("]}", f);
}

static int
appr_vendors(struct appr_ctx *c, const struct appr_args *a)
{
	time_t now = time(NULL);
	size_t i;
	int failed = 0;

	if (a->n != 0) {
		fprintf(c->err, "vendors: takes no arguments\n");
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	for (i = 0; i < c->pol->nvendors; i++) {
		if (a->json) {
			fputs(i ? ",\n " : "", c->out);
			appr_vendor_json(c, &c->pol->vendors[i], now, &failed);
		} else {
			fputs(i ? "\n" : "", c->out);
			appr_vendor_text(c, &c->pol->vendors[i], now,
			    a->width, &failed);
		}
	}
	if (a->json)
		fputs("]\n", c->out);
	else if (c->pol->nvendors == 0)
		fprintf(c->out, "no vendors in the policy\n");
	if (failed) {
		fprintf(c->err, "vendors: the state store failed; locks and "
		    "live sessions may be missing (see the bastion's log)\n");
		return (1);
	}
	return (0);
}

/* ---- the verb table ------------------------------------------------------- */

static const struct appr_verb {
	const char *name;
	unsigned opts;
	int (*run)(struct appr_ctx *c, const struct appr_args *a);
} appr_verbs[] = {
	{ "requests", AO_JSON | AO_ALL | AO_WIDE, appr_requests },
	{ "approve", AO_JSON | AO_ALL, appr_approve },
	{ "deny", AO_JSON | AO_ALL, appr_deny },
	{ "grants", AO_JSON | AO_ALL | AO_WIDE, appr_grants },
	{ "revoke", AO_JSON | AO_ALL, appr_revoke },
	{ "sessions", AO_JSON | AO_ALL | AO_WIDE, appr_sessions },
	{ "watch", AO_START, appr_watch },
	{ "kill", AO_JSON, appr_kill },
	{ "lock", AO_JSON, appr_lock },
	{ "unlock", AO_JSON | AO_KEYS | AO_ACCOUNT | AO_RESET, appr_unlock },
	{ "vendors", AO_JSON | AO_WIDE, appr_vendors },
};

static const struct appr_verb *
appr_verb(const char *name)
{
	size_t i;

	for (i = 0; name != NULL &&
	    i < sizeof(appr_verbs) / sizeof(appr_verbs[0]); i++)
		if (strcmp(name, appr_verbs[i].name) == 0)
			return (&appr_verbs[i]);
	return (NULL);
}

const struct policy_person *
appr_identity(struct appr_ctx *c, const char *via, const char *name)
{
	struct policy_person *p = NULL;
	enum policy_role role = ROLE_NONE;

	c->via = via;
	c->admin = name;
	c->admin_is_policy = 0;
	if (c->pol == NULL || name == NULL)
		return (NULL);
	if (strcmp(via, "ssh") == 0) {
		if ((p = policy_person(c->pol, name, &role)) != NULL &&
		    role != ROLE_ADMIN)
			p = NULL;
	} else
		p = policy_admin_by_unix_user(c->pol, name);
	if (p == NULL || !p->enabled || !policy_person_active(p, time(NULL)))
		return (NULL);
	c->admin = p->name;
	c->admin_is_policy = 1;
	return (p);
}

int
appr_is_verb(const char *name)
{
	return (appr_verb(name) != NULL);
}

int
appr_run(struct appr_ctx *c, int argc, char **argv)
{
	const struct appr_verb *v;
	struct appr_args a;
	int r;

	if (argc < 1 || (v = appr_verb(argv[0])) == NULL)
		return (2);
	if ((r = appr_args(c, argc, argv, v->opts, &a)) != 0)
		return (r);
	return (v->run(c, &a));
}
