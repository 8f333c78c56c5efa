/*
 * cmd-vendors.c - "vendors [--json] [--wide]": every vendor with its
 * description, segments, sources, key and touch rules and approval rule;
 * its devices (address, port, forward ports, effective approval rule) and
 * its engineers (valid-until, keys, live sessions, state: enabled,
 * disabled, expired, locked by an admin, keys locked by the touch check).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "approvals.h"
#include "netaddr.h"
#include "table.h"
#include "text.h"

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
appr_engineer_state(struct verb_ctx *c, const struct policy_person *e,
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

/* The devices of vendor v, in the policy's order: the first from *i on,
 * *i moved past it and its effective approval rule in r; NULL after the
 * last. */
static const struct policy_device *
appr_vendor_device(const struct policy *pol, const struct policy_vendor *v,
    size_t *i, struct policy_approval *r)
{
	const struct policy_device *d;

	while (*i < pol->ndevices) {
		d = &pol->devices[(*i)++];
		if (d->vendor == v) {
			policy_device_approval(pol, d, r);
			return (d);
		}
	}
	return (NULL);
}

static void
appr_vendor_text(struct verb_ctx *c, const struct policy_vendor *v,
    time_t now, size_t width, int *failed)
{
	const struct policy *pol = c->pol;
	const struct policy_device *d;
	struct policy_approval r;
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
	i = 0;
	while ((d = appr_vendor_device(pol, v, &i, &r)) != NULL) {
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
appr_vendor_json(struct verb_ctx *c, const struct policy_vendor *v,
    time_t now, int *failed)
{
	const struct policy *pol = c->pol;
	const struct policy_device *d;
	struct policy_approval r;
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
	i = 0;
	while ((d = appr_vendor_device(pol, v, &i, &r)) != NULL) {
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
cmd_vendors_exec(struct verb_ctx *c, const struct verb_args *a)
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

const struct cmd_entry cmd_vendors_entry = {
	"vendors", NULL,
	"[--json] [--wide]",
	"vendors, their devices and engineers, and the approval rules",
	NULL,
	VO_JSON | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	cmd_vendors_exec,
	NULL
};
