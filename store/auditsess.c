/*
 * auditsess.c - recorded sessions as the audit chain tells them (the
 * contract is in auditsess.h): two walks over the chain, the first finds
 * the sessions (their anchors), the second learns everything else about
 * them, matched by (session number, worker pid) in a sorted index; then the
 * approvals are joined in.
 *
 * Every line is untrusted: fields come from auditlog_field() into fixed
 * buffers (a value that does not fit is left empty), events are told apart
 * by their role in the schema (events.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "auditsess.h"
#include "err.h"
#include "events.h"
#include "log.h"
#include "text.h"

/* The fields of one body every walk looks at. */
struct aline {
	enum bev ev;
	char session[32], pid[16], ts[32];
	const char *body;
	size_t len;
};

static void
as_get(const char *body, size_t len, const char *key, char *out,
    size_t outlen)
{
	if (auditlog_field(body, len, key, out, outlen) != 0)
		out[0] = '\0';
}

#define AS_GET(l, key, field) as_get((l)->body, (l)->len, key, field, \
	sizeof(field))

/* Sessions by (session number, worker pid), for bsearch. */
static int
as_cmp_key(const void *a, const void *b)
{
	const struct auditsess *x = a, *y = b;
	int c = strcmp(x->sid, y->sid);

	return (c != 0 ? c : strcmp(x->pid, y->pid));
}

/* Sessions in chain order. */
static int
as_cmp_seq(const void *a, const void *b)
{
	const struct auditsess *x = a, *y = b;

	return (x->first_seq < y->first_seq ? -1 :
	    x->first_seq > y->first_seq);
}

/* The session a line is about (set sorted by key), or NULL. */
static struct auditsess *
as_find(struct auditsess_set *set, const char *session, const char *pid)
{
	struct auditsess key;

	if (session[0] == '\0' || set->n == 0)
		return (NULL);
	snprintf(key.sid, sizeof(key.sid), "%s", session);
	snprintf(key.pid, sizeof(key.pid), "%s", pid);
	return (bsearch(&key, set->s, set->n, sizeof(*set->s), as_cmp_key));
}

/* Sort the sessions for lookups and drop duplicate keys. */
static void
as_index(struct auditsess_set *set)
{
	size_t i, o;

	if (set->n == 0)
		return;
	qsort(set->s, set->n, sizeof(*set->s), as_cmp_key);
	for (i = 1, o = 1; i < set->n; i++)
		if (as_cmp_key(&set->s[o - 1], &set->s[i]) != 0)
			set->s[o++] = set->s[i];
	set->n = o;
}

/* Pass 1: is this line a session's anchor the caller asked for? */
static void
as_learn_session(struct auditsess_set *set, const struct aline *l,
    uint64_t seq, const char *month, const char *recording)
{
	struct auditsess *s, *ns;
	char rec[80];

	if (l->session[0] == '\0')
		return;
	if (recording != NULL) {
		/* one session: the first line that names the recording */
		if (set->n > 0 || (bev_role(l->ev) != BEV_ROLE_ANCHOR &&
		    bev_role(l->ev) != BEV_ROLE_START))
			return;
		AS_GET(l, "recording", rec);
		if (strcmp(rec, recording) != 0)
			return;
	} else if (bev_role(l->ev) != BEV_ROLE_ANCHOR ||
	    strncmp(l->ts, month, strlen(month)) != 0)
		return;
	if (set->n == set->cap) {
		if (set->cap >= AUDITSESS_MAX) {
			set->overflow = 1;
			return;
		}
		set->cap = set->cap ? 2 * set->cap : 64;
		if ((ns = realloc(set->s, set->cap * sizeof(*ns))) == NULL) {
			set->overflow = 1;
			set->cap = set->n;
			return;
		}
		set->s = ns;
	}
	s = &set->s[set->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->sid, sizeof(s->sid), "%s", l->session);
	snprintf(s->pid, sizeof(s->pid), "%s", l->pid);
	snprintf(s->start, sizeof(s->start), "%s", l->ts);
	s->first_seq = seq;
	s->seconds = -1;
}

static void
as_learn_approval(struct auditsess_set *set, const struct aline *l)
{
	struct auditsess_approval *a, *na;

	if (bev_role(l->ev) != BEV_ROLE_APPROVER)
		return;
	if (set->na == set->capa) {
		if (set->capa >= AUDITSESS_MAX_APPROVALS)
			return;
		set->capa = set->capa ? 2 * set->capa : 64;
		if ((na = realloc(set->a, set->capa * sizeof(*na))) == NULL) {
			set->capa = set->na;
			return;
		}
		set->a = na;
	}
	a = &set->a[set->na++];
	AS_GET(l, "request", a->request);
	AS_GET(l, "grant", a->grant);
	AS_GET(l, "admin", a->admin);
}

/* The work record: every field but the ones all events carry. */
static void
as_work(struct auditsess *s, const struct aline *l)
{
	const char *p = l->body, *end = l->body + l->len;
	char key[64], val[512], esc[600];
	size_t o = 0;
	int n;

	s->has_work = 1;
	while (auditlog_field_next(&p, end, key, sizeof(key), val,
	    sizeof(val)) == 0) {
		if (strcmp(key, "ts") == 0 || strcmp(key, "event") == 0 ||
		    strcmp(key, "pid") == 0 || strcmp(key, "session") == 0 ||
		    strcmp(key, "user") == 0 || strcmp(key, "vendor") == 0 ||
		    strcmp(key, "from") == 0 || strcmp(key, "device") == 0)
			continue;
		log_escape(esc, sizeof(esc), val);
		n = snprintf(s->work + o, sizeof(s->work) - o, "%s%s=%s",
		    o > 0 ? " " : "", key, esc);
		if (n < 0 || (size_t)n >= sizeof(s->work) - o)
			break;
		o += (size_t)n;
	}
}

/* Who, from where, to where: from the first event that says it. */
static void
as_who(struct auditsess *s, const struct aline *l)
{
	if (s->engineer[0] != '\0')
		return;
	AS_GET(l, "user", s->engineer);
	AS_GET(l, "vendor", s->vendor);
	AS_GET(l, "from", s->from);
	AS_GET(l, "device", s->device);
}

static void
as_learn(struct auditsess *s, const struct aline *l)
{
	const char *how = auditsess_admission(l->ev);
	char v[32];

	if (how != NULL)
		snprintf(s->admission, sizeof(s->admission), "%s", how);
	switch (bev_role(l->ev)) {
	case BEV_ROLE_ANCHOR:
		AS_GET(l, "recording", s->recording);
		AS_GET(l, "path", s->rec_path);
		break;
	case BEV_ROLE_START:
		AS_GET(l, "user", s->engineer);
		AS_GET(l, "vendor", s->vendor);
		AS_GET(l, "from", s->from);
		AS_GET(l, "source", s->source);
		AS_GET(l, "device", s->device);
		AS_GET(l, "to", s->to);
		AS_GET(l, "kind", s->kind);
		AS_GET(l, "grant", s->grant_start);
		if (s->recording[0] == '\0')
			AS_GET(l, "recording", s->recording);
		break;
	case BEV_ROLE_CONNECT:
		AS_GET(l, "result", v);
		if (strcmp(v, "ok") == 0 && s->to[0] == '\0')
			AS_GET(l, "to", s->to);
		if (strcmp(v, "ok") == 0)
			AS_GET(l, "local", s->local);
		as_who(s, l);
		break;
	case BEV_ROLE_ADMIT_GRANT:
		AS_GET(l, "grant", s->grant);
		break;
	case BEV_ROLE_ADMIT_REQUEST:
		AS_GET(l, "request", s->request);
		break;
	case BEV_ROLE_END:
		snprintf(s->end, sizeof(s->end), "%s", l->ts);
		AS_GET(l, "seconds", v);
		s->seconds = v[0] != '\0' ? strtoll(v, NULL, 10) : -1;
		AS_GET(l, "bytes_in", s->bytes_in);
		AS_GET(l, "bytes_out", s->bytes_out);
		AS_GET(l, "reason", s->end_reason);
		as_who(s, l);
		break;
	case BEV_ROLE_WORK:
		as_work(s, l);
		break;
	default:
		break;
	}
}

const char *
auditsess_admission(enum bev ev)
{
	static const char *const names[BEV_ROLE_COUNT] = {
		[BEV_ROLE_ADMIT_WINDOW] = "window",
		[BEV_ROLE_ADMIT_GRANT] = "grant",
		[BEV_ROLE_ADMIT_REQUEST] = "request",
	};
	enum bev_role role = bev_role(ev);

	if ((size_t)role >= BEV_ROLE_COUNT)
		return (NULL);
	return (names[role]);
}

static void
as_line(struct aline *l, const char *body, size_t len)
{
	memset(l, 0, sizeof(*l));
	l->body = body;
	l->len = len;
	l->ev = auditlog_event(body, len);
	AS_GET(l, "session", l->session);
	AS_GET(l, "pid", l->pid);
	AS_GET(l, "ts", l->ts);
}

void
auditsess_learn(struct auditsess *s, const char *body, size_t len)
{
	struct aline l;

	as_line(&l, body, len);
	as_learn(s, &l);
}

/* One walk over the chain (pass 1 finds the sessions, 2 the rest). */
struct as_walk {
	struct auditsess_set *set;
	int pass;
	const char *month, *recording;
};

static int
as_walk_line(const struct auditlog_line *al, const char *text, size_t len,
    void *arg)
{
	struct as_walk *w = arg;
	struct auditsess *s;
	struct aline l;

	(void)text;
	(void)len;
	as_line(&l, al->body, al->bodylen);
	if (w->pass == 1) {
		as_learn_session(w->set, &l, al->seq, w->month, w->recording);
		return (0);
	}
	as_learn_approval(w->set, &l);
	if ((s = as_find(w->set, l.session, l.pid)) != NULL)
		as_learn(s, &l);
	return (0);
}

static int
as_walk(const char *path, struct auditsess_set *set, int pass,
    const char *month, const char *recording)
{
	struct as_walk w = { set, pass, month, recording };

	return (auditlog_each(path, as_walk_line, &w));
}

void
auditsess_add_name(char *list, size_t len, const char *name)
{
	size_t o = strlen(list), n = strlen(name);
	const char *p;

	if (*name == '\0')
		return;
	/* a whole name of the ", "-separated list, not a part of one */
	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || (p >= list + 2 && p[-2] == ',' &&
		    p[-1] == ' ')) && (p[n] == '\0' || p[n] == ','))
			return;
	snprintf(list + o, len - o, "%s%s", o > 0 ? ", " : "", name);
}

/* Who approved, from the chain's approval.approve lines. */
static void
as_approvers(const struct auditsess_set *set, struct auditsess *s)
{
	size_t i;

	/* a grant named only by session.start (let in on a grant whose
	 * approval.grant_used line was not kept) */
	if (s->admission[0] == '\0' && s->grant_start[0] != '\0' &&
	    strcmp(s->grant_start, "-") != 0) {
		snprintf(s->admission, sizeof(s->admission), "grant");
		snprintf(s->grant, sizeof(s->grant), "%s", s->grant_start);
	}
	if (strcmp(s->admission, "grant") == 0 && s->request[0] == '\0')
		for (i = 0; i < set->na; i++)
			if (strcmp(set->a[i].grant, s->grant) == 0)
				snprintf(s->request, sizeof(s->request), "%s",
				    set->a[i].request);
	if (strcmp(s->admission, "request") == 0 && s->grant[0] == '\0')
		for (i = 0; i < set->na; i++)
			if (strcmp(set->a[i].request, s->request) == 0 &&
			    set->a[i].grant[0] != '\0' &&
			    strcmp(set->a[i].grant, "-") != 0)
				snprintf(s->grant, sizeof(s->grant), "%s",
				    set->a[i].grant);
	for (i = 0; i < set->na && s->request[0] != '\0'; i++)
		if (strcmp(set->a[i].request, s->request) == 0)
			auditsess_add_name(s->approvers, sizeof(s->approvers),
			    set->a[i].admin);
}

int
auditsess_read(const char *path, const char *month, const char *recording,
    struct auditsess_set *set)
{
	size_t i;
	int r;

	if (month == NULL)
		month = "";
	if ((r = as_walk(path, set, 1, month, recording)) != 0)
		return (r);
	as_index(set);
	if ((r = as_walk(path, set, 2, month, recording)) != 0)
		return (r);
	if (set->n > 0)
		qsort(set->s, set->n, sizeof(*set->s), as_cmp_seq);
	for (i = 0; i < set->n; i++)
		as_approvers(set, &set->s[i]);
	return (0);
}

void
auditsess_set_clear(struct auditsess_set *set)
{
	free(set->s);
	free(set->a);
	memset(set, 0, sizeof(*set));
}

int
auditsess_approval_text(const char *path, const char *recid, char *out,
    size_t len, char *why, size_t whylen)
{
	struct auditlog_verify v;
	struct auditsess_set set;
	struct auditsess q;
	char state[300], bad[200];

	memset(&set, 0, sizeof(set));
	memset(&q, 0, sizeof(q));
	auditlog_verify_file(path, &v);
	if (v.verdict == AUDITLOG_ERROR ||
	    auditsess_read(path, NULL, recid, &set) != 0) {
		snprintf(why, whylen, "%s", v.verdict == AUDITLOG_ERROR ?
		    v.why : "read error");
		auditsess_set_clear(&set);
		return (-1);
	}
	if (set.n > 0)
		q = set.s[0];
	auditsess_set_clear(&set);
	text_clean(bad, sizeof(bad), v.why);
	if (v.verdict == AUDITLOG_OK)
		snprintf(state, sizeof(state), "audit chain verified intact");
	else
		snprintf(state, sizeof(state), "audit chain NOT intact at line "
		    "%llu: %s", (unsigned long long)v.bad_line, bad);
	if (q.sid[0] == '\0')
		snprintf(out, len, "not found: the audit chain has no line "
		    "for this recording (%s)", state);
	else if (strcmp(q.admission, "window") == 0)
		snprintf(out, len, "pre-approved window (%s)", state);
	else if (strcmp(q.admission, "request") == 0 || q.grant[0] != '\0' ||
	    q.request[0] != '\0')
		snprintf(out, len, "%s%s%s%s%s%s%s (%s)", q.grant[0] ?
		    "grant " : "", q.grant, q.grant[0] && q.request[0] ?
		    ", " : "", q.request[0] ? "request " : "", q.request,
		    q.approvers[0] ? " approved by " : "", q.approvers, state);
	else
		snprintf(out, len, "not required (%s)", state);
	return (q.approvers[0] != '\0' || strcmp(q.admission, "window") == 0 ?
	    1 : 0);
}
