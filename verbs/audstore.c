/*
 * audstore.c - a recording's session as the shared state store tells it
 * (see audstore.h): its row found by recording id or session number, its
 * grant and request, and the words the auditor verbs print about them,
 * saying where they come from. Everything from the store was written by
 * some node's bastiond and is shown through text_clean() (text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvals.h"
#include "audstore.h"
#include "recreader.h"
#include "text.h"

int
audstore_id_of(const char *path, char *id, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n <= 5 || strcmp(base + n - 5, ".brec") != 0 || n - 5 >= len ||
	    n - 5 > REC_SESSION_ID_MAX)
		return (-1);
	memcpy(id, base, n - 5);
	id[n - 5] = '\0';
	return (recfmt_session_id_valid(id) ? 0 : -1);
}

/* The walk for audstore_find(): the row whose recording is want. */
struct audstore_walk {
	const char *want;
	struct audstore_rec *f;
	int found;
};

static int
audstore_match(const struct state_session *s, void *arg)
{
	struct audstore_walk *W = arg;
	char id[REC_SESSION_ID_MAX + 1];

	if (audstore_id_of(s->recording, id, sizeof(id)) != 0 ||
	    strcmp(id, W->want) != 0)
		return (0);
	W->f->s = *s;
	W->found = 1;
	return (1);
}

int
audstore_find(struct state *st, const char *word, struct audstore_rec *f)
{
	struct audstore_walk W;
	char *end;
	long long sid;
	int found = 0;

	memset(f, 0, sizeof(*f));
	memset(&W, 0, sizeof(W));
	if (st == NULL)
		return (-1);
	sid = strtoll(word, &end, 10);
	if (word[0] >= '0' && word[0] <= '9' && *end == '\0' && sid > 0 &&
	    strlen(word) < 19) {
		/* a session number */
		if (state_session_get(st, sid, &f->s, &found) != 0)
			return (-1);
	} else if (recfmt_session_id_valid(word)) {
		W.want = word;
		W.f = f;
		if (state_session_each(st, 1, AUDSTORE_SCAN, audstore_match,
		    &W) < 0)
			return (-1);
		found = W.found;
	}
	if (!found || audstore_id_of(f->s.recording, f->id,
	    sizeof(f->id)) != 0) {
		memset(f, 0, sizeof(*f));
		return (0);
	}
	if (f->s.grant_id != 0 && state_grant_get(st, f->s.grant_id, &f->g,
	    &f->has_grant) == 0 && f->has_grant && f->g.request_id != 0)
		(void)state_request_get(st, f->g.request_id, &f->r,
		    &f->has_request);
	return (1);
}

int
audstore_elsewhere(struct state *st, const char *here, const char *path,
    struct audstore_rec *f)
{
	struct rec_hdr h;
	const char *id;
	int r = 0;

	memset(f, 0, sizeof(*f));
	if (recreader_header(path, &h) != 0) {
		recfmt_hdr_clear(&h);
		return (0);
	}
	if ((id = recfmt_hdr_get(&h, "session")) != NULL &&
	    recfmt_session_id_valid(id) && audstore_find(st, id, f) == 1 &&
	    f->s.node[0] != '\0' && (here == NULL ||
	    strcmp(f->s.node, here) != 0))
		r = 1;
	recfmt_hdr_clear(&h);
	return (r);
}

void
audstore_approval(const struct audstore_rec *f, char *out, size_t len)
{
	char by[300], at[64], until[64], reason[300];

	if (!f->has_grant) {
		if (f->s.grant_id != 0)
			snprintf(out, len, "grant %lld (not in the shared "
			    "state store any more)", (long long)f->s.grant_id);
		else
			snprintf(out, len, "no grant in the shared state "
			    "store: a pre-approved window or no approval "
			    "required (node %s's audit chain says which)",
			    f->s.node[0] != '\0' ? f->s.node : "?");
		return;
	}
	appr_time(f->g.until, until, sizeof(until));
	if (!f->has_request) {
		snprintf(out, len, "grant %lld until %s (request %lld not in "
		    "the shared state store)", (long long)f->g.id, until,
		    (long long)f->g.request_id);
		return;
	}
	text_clean(by, sizeof(by), f->r.approvers[0] != '\0' ?
	    f->r.approvers : f->r.decided_by);
	text_clean(reason, sizeof(reason), f->r.reason);
	appr_time(f->r.decided_at, at, sizeof(at));
	snprintf(out, len, "grant %lld until %s, request %lld%s%s%s approved "
	    "by %s at %s%s", (long long)f->g.id, until, (long long)f->r.id,
	    reason[0] != '\0' ? " (\"" : "", reason, reason[0] != '\0' ?
	    "\")" : "", by[0] != '\0' ? by : "?", at, f->g.revoked ?
	    ", since revoked" : "");
}

void
audstore_print(FILE *out, const struct audstore_rec *f, const char *here)
{
	char node[80], eng[100], ven[100], dev[100], src[80], why[300];
	char t0[64], t1[64], appr[1200];

	text_clean(node, sizeof(node), f->s.node[0] != '\0' ? f->s.node :
	    "?");
	text_clean(eng, sizeof(eng), f->s.engineer);
	text_clean(ven, sizeof(ven), f->s.vendor);
	text_clean(dev, sizeof(dev), f->s.device);
	text_clean(src, sizeof(src), f->s.source);
	text_clean(why, sizeof(why), f->s.end_reason);
	appr_time(f->s.started, t0, sizeof(t0));
	appr_time(f->s.ended, t1, sizeof(t1));
	audstore_approval(f, appr, sizeof(appr));
	fprintf(out, "# recorded on node %s, not on this node (%s): the facts "
	    "below are rows of the shared state store, not lines of an audit "
	    "chain; the session's audit lines are in node %s's chain\n",
	    node, here != NULL ? here : "-", node);
	fprintf(out, "# store: session %lld, engineer %s (vendor %s) from %s "
	    "to %s, started %s, %s%s\n", (long long)f->s.sid, eng, ven, src,
	    dev, t0, f->s.ended != 0 ? "ended " : f->s.lost ?
	    "lost (its node fell silent)" : "not ended", f->s.ended != 0 ?
	    t1 : "");
	if (f->s.ended != 0 && why[0] != '\0')
		fprintf(out, "# store: end: %s\n", why);
	fprintf(out, "# store: approval: %s\n", appr);
}
