/*
 * policy_limits.c - when and how much: time windows ("mon-fri 07:00-19:00"),
 * the limits: section (connections, sessions, timeouts) and the approval
 * rules, global and per vendor or device.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "policy.h"
#include "policy_int.h"

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

/* limits: a count of connections, 1 to COUNT_MAX. */
static void
get_conn_count(struct pctx *c, const struct ynode *m, const char *key,
    unsigned *out)
{
	const struct ynode *v;
	unsigned long long n;
	const char *s;
	int l;

	if ((s = field_scalar(c, m, key, "limits", NULL, &v)) == NULL)
		return;
	l = parse_uint(s, &n);
	if (l < 0 || s[l] != '\0' || n < 1 || n > COUNT_MAX)
		problem(c, v->line, "limits: %s \"%.64s\" is not a count "
		    DASH " write a number of connections from 1 to %u", key, s,
		    COUNT_MAX);
	else
		*out = (unsigned)n;
}

void
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
	if ((s = field_scalar(c, m, "recording_min_free_mb", what, NULL,
	    &v)) != NULL) {
		int l = parse_uint(s, &n);

		if (l < 0 || s[l] != '\0' || n > 1000000000ULL)
			problem(c, v->line, "limits: recording_min_free_mb "
			    "\"%.64s\" is not a size " DASH " write the free "
			    "space in MiB below which sessions are refused, "
			    "e.g. 1024", s);
		else
			p->recording_min_free_mb = (unsigned)n;
	}
	if ((s = field_scalar(c, m, "touch_transfer_window", what, NULL,
	    &v)) != NULL) {
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

void
parse_global_approval(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "required", "second_approver",
	    "max_grant", "timeout", "notify_command", "windows", "notify",
	    NULL };
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
		if ((s = field_scalar(c, m, "notify_command", what, NULL,
		    &v)) != NULL) {
			if (s[0] != '/' || !text_ok(s) ||
			    strlen(s) >= PATH_MAX)
				problem(c, v->line, "approval: notify_command "
				    "\"%.64s\" is not an absolute path "
				    DASH " give the full path of the "
				    "program, e.g. /usr/local/lib/hospital/"
				    "notify-admins", s);
			else
				p->notify_command = xstrdup(c, s);
		}
		if ((v = field(c, m, "windows", what, NULL)) != NULL)
			parse_windows(c, v, what, &p->approval);
		if ((v = field(c, m, "notify", what, NULL)) != NULL)
			parse_notify(c, v);
	}
	p->approval.max_grant = p->default_max_grant;
}

/*
 * A vendor's or device's approval block: the keys given override the rule
 * above (inherit), the rest are copied from it, so the result is complete.
 */
void
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
