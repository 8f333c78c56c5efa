/*
 * approvals.c - the admin verbs on requests and grants (see approvals.h).
 *
 * Each verb checks its arguments, does one state-store operation, emits
 * one audit event for a decision, and prints a table or (--json) one JSON
 * document. Nothing here talks to the network: the caller hands in where
 * the output goes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approvals.h"
#include "err.h"
#include "log.h"

#define APPR_MAX_WORDS		64
#define APPR_MAX_DURATION	(366u * 86400u)

static const char *const appr_verbs[] = {
	"requests", "approve", "deny", "grants", "revoke", NULL
};

int
appr_is_verb(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && appr_verbs[i] != NULL; i++)
		if (strcmp(name, appr_verbs[i]) == 0)
			return (1);
	return (0);
}

void
appr_usage(FILE *f, const char *prefix)
{
	fprintf(f, "%srequests [--all] [--json]\n"
	    "%sapprove ID DURATION [--json]   (DURATION: 90m, 2h, 1d)\n"
	    "%sdeny ID REASON... [--json]\n"
	    "%sgrants [--all] [--json]\n"
	    "%srevoke ID [--json]\n", prefix, prefix, prefix, prefix, prefix);
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

void
appr_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
appr_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Printable text for a table cell: control characters become '?'. */
static void
appr_cell(const char *s, char *out, size_t len)
{
	size_t i;

	snprintf(out, len, "%s", s != NULL && *s != '\0' ? s : "-");
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

void
appr_request_json(FILE *f, const struct state_request *r)
{
	fprintf(f, "{\"id\":%lld,\"engineer\":", (long long)r->id);
	appr_json_str(f, r->engineer);
	fputs(",\"vendor\":", f);
	appr_json_str(f, r->vendor);
	fputs(",\"device\":", f);
	appr_json_str(f, r->device);
	fputs(",\"reason\":", f);
	appr_json_str(f, r->reason);
	fprintf(f, ",\"created\":%lld,\"status\":", (long long)r->created);
	appr_json_str(f, r->status);
	fputs(",\"approvers\":", f);
	appr_json_str(f, r->approvers);
	fputs(",\"decided_by\":", f);
	appr_json_str(f, r->decided_by);
	fprintf(f, ",\"decided_at\":%lld,\"deny_reason\":",
	    (long long)r->decided_at);
	appr_json_str(f, r->deny_reason);
	fputc('}', f);
}

static void
appr_grant_json(FILE *f, const struct state_grant *g)
{
	fprintf(f, "{\"id\":%lld,\"request\":%lld,\"engineer\":",
	    (long long)g->id, (long long)g->request_id);
	appr_json_str(f, g->engineer);
	fputs(",\"device\":", f);
	appr_json_str(f, g->device);
	fprintf(f, ",\"created\":%lld,\"until\":%lld,\"revoked\":%s,"
	    "\"revoked_by\":", (long long)g->created, (long long)g->until,
	    g->revoked ? "true" : "false");
	appr_json_str(f, g->revoked_by);
	fputc('}', f);
}

/* ---- verbs --------------------------------------------------------------- */

struct appr_args {
	int json, all;
	int n;
	char *pos[APPR_MAX_WORDS];	/* positional arguments */
};

/* Options --json and --all anywhere; -- ends them. 0 or 2 (usage). */
static int
appr_args(struct appr_ctx *c, int argc, char **argv, struct appr_args *a)
{
	int i, dashdash = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc && a->n < APPR_MAX_WORDS; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0)
			dashdash = 1;
		else if (!dashdash && strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else if (!dashdash && strcmp(argv[i], "--all") == 0)
			a->all = 1;
		else if (!dashdash && argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(c->err, "%s: unknown option %s\n", argv[0],
			    argv[i]);
			return (2);
		} else
			a->pos[a->n++] = argv[i];
	}
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
		    "grants" : "requests");
		return (-1);
	}
	*id = v;
	return (0);
}

struct appr_list {
	struct appr_ctx *c;
	int json;
	size_t n;
};

static int
appr_request_line(const struct state_request *r, void *arg)
{
	struct appr_list *l = arg;
	char when[40], eng[40], dev[40], why[80], appr[64];

	if (l->json) {
		fputs(l->n ? ",\n " : "", l->c->out);
		appr_request_json(l->c->out, r);
	} else {
		if (l->n == 0)
			fprintf(l->c->out, "%-5s %-9s %-12s %-10s %-14s %-23s "
			    "%-14s %s\n", "ID", "STATUS", "ENGINEER", "VENDOR",
			    "DEVICE", "CREATED", "APPROVED BY", "REASON");
		appr_time(r->created, when, sizeof(when));
		appr_cell(r->engineer, eng, sizeof(eng));
		appr_cell(r->device, dev, sizeof(dev));
		appr_cell(r->reason, why, sizeof(why));
		appr_cell(r->approvers, appr, sizeof(appr));
		fprintf(l->c->out, "%-5lld %-9s %-12s %-10s %-14s %-23s %-14s "
		    "%s%s%s\n", (long long)r->id, r->status, eng, r->vendor,
		    dev, when, appr, why, r->deny_reason[0] != '\0' ?
		    " / denied: " : "", r->deny_reason);
	}
	l->n++;
	return (0);
}

static int
appr_requests(struct appr_ctx *c, const struct appr_args *a)
{
	struct appr_list l = { c, a->json, 0 };

	if (a->n != 0) {
		fprintf(c->err, "requests: takes no arguments\n");
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	if (state_request_each(c->st, a->all ? NULL : STATE_REQ_PENDING,
	    a->all ? 200 : 0, appr_request_line, &l) != 0) {
		fprintf(c->err, "requests: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	if (a->json)
		fputs("]\n", c->out);
	else if (l.n == 0)
		fprintf(c->out, "no %srequests\n", a->all ? "" : "pending ");
	return (0);
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
	} else if (gid != 0)
		fprintf(c->out, "request %lld approved: grant %lld lets %s "
		    "reach %s for %s (until %s)\n", (long long)id,
		    (long long)gid, r.engineer, r.device, dstr, until);
	else
		fprintf(c->out, "request %lld: your approval is recorded "
		    "(%s); four eyes: a second, different admin must approve "
		    "it too\n", (long long)id, cnt);
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
		appr_json_str(c->out, why);
		fputs("}\n", c->out);
	} else
		fprintf(c->out, "request %lld denied; %s is told: %s\n",
		    (long long)id, r.engineer, why);
	return (0);
}

static int
appr_grant_line(const struct state_grant *g, void *arg)
{
	struct appr_list *l = arg;
	char until[40], eng[40], dev[40];
	time_t now = time(NULL);

	if (l->json) {
		fputs(l->n ? ",\n " : "", l->c->out);
		appr_grant_json(l->c->out, g);
	} else {
		if (l->n == 0)
			fprintf(l->c->out, "%-5s %-7s %-12s %-14s %-23s %s\n",
			    "ID", "REQUEST", "ENGINEER", "DEVICE", "UNTIL",
			    "STATE");
		appr_time(g->until, until, sizeof(until));
		appr_cell(g->engineer, eng, sizeof(eng));
		appr_cell(g->device, dev, sizeof(dev));
		fprintf(l->c->out, "%-5lld %-7lld %-12s %-14s %-23s %s%s\n",
		    (long long)g->id, (long long)g->request_id, eng, dev,
		    until, g->revoked ? "revoked by " : g->until <= now ?
		    "ended" : "live", g->revoked ? g->revoked_by : "");
	}
	l->n++;
	return (0);
}

static int
appr_grants(struct appr_ctx *c, const struct appr_args *a)
{
	struct appr_list l = { c, a->json, 0 };

	if (a->n != 0) {
		fprintf(c->err, "grants: takes no arguments\n");
		return (2);
	}
	if (a->json)
		fputs("[", c->out);
	if (state_grant_each(c->st, a->all, time(NULL), appr_grant_line,
	    &l) != 0) {
		fprintf(c->err, "grants: the state store failed\n");
		return (1);
	}
	if (a->json)
		fputs("]\n", c->out);
	else if (l.n == 0)
		fprintf(c->out, "no %sgrants\n", a->all ? "" : "live ");
	return (0);
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

int
appr_run(struct appr_ctx *c, int argc, char **argv)
{
	struct appr_args a;
	int r;

	if (argc < 1 || !appr_is_verb(argv[0]))
		return (2);
	if ((r = appr_args(c, argc, argv, &a)) != 0)
		return (r);
	if (strcmp(argv[0], "requests") == 0)
		return (appr_requests(c, &a));
	if (strcmp(argv[0], "approve") == 0)
		return (appr_approve(c, &a));
	if (strcmp(argv[0], "deny") == 0)
		return (appr_deny(c, &a));
	if (strcmp(argv[0], "grants") == 0)
		return (appr_grants(c, &a));
	return (appr_revoke(c, &a));
}
