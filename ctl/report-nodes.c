/*
 * report-nodes.c - the monthly report's part about the group of nodes
 * (issue 20; docs/AUDIT.md sections 8 and 10): which nodes' audit chains
 * were checked up to which signed checkpoint, and the sessions other
 * nodes ran in the month, which are in their chains, not in this one.
 *
 * The checkpoints are read from the state store (read-only, directly)
 * and checked as `bastion-verify --cluster` checks them (ckptverify.h):
 * every row's signature, the nodes' commitments to each other, and this
 * node's chain against its own rows. This node's key is its own file
 * (STATE_DIR/audit.key.pub); the other nodes' are those they published
 * in the store, which is what the report can have: an auditor checks
 * with the keys copied from the nodes (`bastionctl checkpoints --export`,
 * then bastion-verify --cluster). The other nodes' chains are on their
 * disks: their own reports check them.
 *
 * On one node (SQLite) the part is that node's line alone; a store
 * without checkpoints yet (a node that has not run an interval) says so
 * and is not a problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditckpt.h"
#include "ckptverify.h"
#include "ctl.h"
#include "err.h"
#include "reckey.h"
#include "table.h"
#include "text.h"

#define OTHERS_MAX	10000	/* other nodes' sessions listed */

struct report_nodes {
	const char *self;
	struct ckptv *v;
	char note[4800];	/* why nothing could be checked, or "" */
	uint64_t failures;
	struct state_session *others;	/* other nodes' sessions */
	size_t nothers;
	int others_cut;
	time_t from, to;	/* the month, UTC */
};

static int
nodes_add_row(const struct ckpt *c, void *arg)
{
	return (ckptv_add(arg, c) == BERR_NOMEM ? BERR_NOMEM : 0);
}

static int
nodes_add_key(const char *node, const char *pem, void *arg)
{
	struct report_nodes *n = arg;
	struct reckey *k = NULL;

	/* this node's is its own file, not what the store says */
	if (strcmp(node, n->self) != 0 &&
	    reckey_from_public_pem(pem, strlen(pem), &k) == 0)
		(void)ckptv_key(n->v, node, k);
	return (0);
}

static int
nodes_add_session(const struct state_session *s, void *arg)
{
	struct report_nodes *n = arg;
	void *p;

	if (s->node[0] == '\0' || strcmp(s->node, n->self) == 0 ||
	    s->started < n->from || s->started >= n->to)
		return (0);
	if (n->nothers == OTHERS_MAX) {
		n->others_cut = 1;
		return (0);
	}
	if ((p = realloc(n->others, (n->nothers + 1) *
	    sizeof(*n->others))) == NULL)
		return (BERR_NOMEM);
	n->others = p;
	n->others[n->nothers++] = *s;
	return (0);
}

/* month "YYYY-MM" as [from, to) in UTC. */
static void
nodes_month(struct report_nodes *n, const char *month)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(month) - 1900;
	tm.tm_mon = atoi(month + 5) - 1;
	tm.tm_mday = 1;
	n->from = timegm(&tm);
	tm.tm_mon++;
	n->to = timegm(&tm);
}

int
report_nodes_read(const struct policy *pol, const char *chain,
    const char *month, struct report_nodes **out)
{
	struct report_nodes *n;
	struct reckey *k = NULL;
	struct state *st = NULL;
	char path[4096], why[512];
	int r;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (BERR_NOMEM);
	n->self = pol->store_node != NULL ? pol->store_node : "bastion";
	nodes_month(n, month);
	if ((r = ckptv_new(NULL, &n->v)) != 0) {
		free(n);
		return (r);
	}
	*out = n;
	snprintf(path, sizeof(path), "%s/" CKPT_KEY_FILE ".pub",
	    pol->state_dir);
	if ((r = reckey_load_public(path, &k)) != 0) {
		snprintf(n->note, sizeof(n->note), "this node's audit key %s "
		    "cannot be read (%s): bastiond makes it at its first "
		    "start", path, berr_str(r));
		return (0);
	}
	(void)ckptv_key(n->v, n->self, k);
	(void)ckptv_chain(n->v, n->self, chain);
	if (state_open_ro(pol->state_dir, &st, why, sizeof(why)) != 0) {
		snprintf(n->note, sizeof(n->note), "the state store cannot be "
		    "read: %s", why);
		return (0);
	}
	if ((r = state_ckpt_key_each(st, nodes_add_key, n)) != 0 ||
	    (r = state_ckpt_each(st, NULL, nodes_add_row, n->v)) != 0 ||
	    (r = state_session_each(st, 1, 0, nodes_add_session, n)) != 0)
		snprintf(n->note, sizeof(n->note), "the state store: %s (%s)",
		    berr_str(r), state_errmsg(st));
	state_close(st);
	if (n->note[0] == '\0')
		n->failures = ckptv_check(n->v);
	return (0);
}

int
report_nodes_failed(const struct report_nodes *n)
{
	return (n != NULL && n->failures > 0);
}

void
report_nodes_free(struct report_nodes *n)
{
	if (n == NULL)
		return;
	ckptv_free(n->v);
	free(n->others);
	free(n);
}

static void
nodes_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, len, "-");
}

/* One node's line: what was checked, up to which checkpoint. */
static void
nodes_line(const struct report_nodes *n, const struct ckptv_node *c,
    char *out, size_t len)
{
	char when[40], why[CKPTV_WHY_MAX];
	int self = strcmp(c->name, n->self) == 0;
	size_t o;

	nodes_time(c->last_ts, when, sizeof(when));
	o = (size_t)snprintf(out, len, "%s%s: ", c->name, self ?
	    " (this node)" : "");
	if (o >= len)
		return;
	if (c->failures > 0) {
		text_clean(why, sizeof(why), c->why);
		snprintf(out + o, len - o, "ALTERED: %s", why);
	} else if (c->rows == 0)
		snprintf(out + o, len - o, "no checkpoint yet");
	else if (self && c->checked_id > 0)
		snprintf(out + o, len - o, "chain checked up to checkpoint %lld "
		    "(seq %llu); the last one, seq %llu, signed %s",
		    (long long)c->checked_id,
		    (unsigned long long)c->checked_seq,
		    (unsigned long long)c->last_seq, when);
	else
		snprintf(out + o, len - o, "%llu signed checkpoint(s), the "
		    "last of seq %llu at %s; its chain is on that node (its "
		    "own report checks it)", (unsigned long long)c->rows,
		    (unsigned long long)c->last_seq, when);
}

void
report_nodes_text(const struct report_nodes *n, FILE *f, size_t width)
{
	static const struct table_col cols[] = {
		{ "SID", 0 }, { "NODE", 0 }, { "START", 0 },
		{ "ENGINEER", 0 }, { "VENDOR", 0 }, { "DEVICE", 0 },
		{ "END", 0 },
	};
	char line[5000], sid[24], start[40], end[40];
	struct table *t;
	size_t i;

	fprintf(f, "Audit checkpoints (signed, in the state store)\n");
	if (n->note[0] != '\0') {
		text_clean(line, sizeof(line), n->note);
		table_para(f, "  ", "    ", line, width);
	} else if (ckptv_nnodes(n->v) == 0)
		fprintf(f, "  none yet\n");
	for (i = 0; n->note[0] == '\0' && i < ckptv_nnodes(n->v); i++) {
		nodes_line(n, ckptv_node_at(n->v, i), line, sizeof(line));
		table_para(f, "  ", "    ", line, width);
	}
	if (n->nothers == 0)
		return;
	fprintf(f, "\nSessions of other nodes in the month (from the state "
	    "store; their details are in those nodes' reports)\n");
	if ((t = table_new(cols, sizeof(cols) / sizeof(cols[0]))) == NULL)
		return;
	for (i = 0; i < n->nothers; i++) {
		const struct state_session *s = &n->others[i];

		snprintf(sid, sizeof(sid), "%lld", (long long)s->sid);
		nodes_time(s->started, start, sizeof(start));
		if (s->ended)
			nodes_time(s->ended, end, sizeof(end));
		else
			snprintf(end, sizeof(end), "live");
		(void)table_add(t, (const char *const []){ sid, s->node, start,
		    s->engineer, s->vendor, s->device, end });
	}
	(void)table_print(t, f, "  ", width);
	table_free(t);
	if (n->others_cut)
		fprintf(f, "  (more than %d: the rest are left out)\n",
		    OTHERS_MAX);
}

void
report_nodes_json(const struct report_nodes *n, FILE *f)
{
	const struct ckptv_node *c;
	size_t i;

	fputs(",\"checkpoints\":{\"note\":", f);
	if (n->note[0] != '\0')
		text_json(f, n->note);
	else
		fputs("null", f);
	fputs(",\"nodes\":[", f);
	for (i = 0; n->note[0] == '\0' && i < ckptv_nnodes(n->v); i++) {
		c = ckptv_node_at(n->v, i);
		fprintf(f, "%s{\"node\":", i ? "," : "");
		text_json(f, c->name);
		fprintf(f, ",\"this_node\":%s,\"checkpoints\":%llu,"
		    "\"last_seq\":%llu,\"last_ts\":%lld,\"chain_checked\":%s,"
		    "\"checked_id\":%lld,\"checked_seq\":%llu,\"status\":\"%s\"",
		    strcmp(c->name, n->self) == 0 ? "true" : "false",
		    (unsigned long long)c->rows,
		    (unsigned long long)c->last_seq, (long long)c->last_ts,
		    c->chain != NULL ? "true" : "false",
		    (long long)c->checked_id,
		    (unsigned long long)c->checked_seq,
		    c->failures > 0 ? "altered" : "ok");
		if (c->failures > 0) {
			fputs(",\"why\":", f);
			text_json(f, c->why);
		}
		fputs("}", f);
	}
	fputs("]},\"other_nodes_sessions\":[", f);
	for (i = 0; i < n->nothers; i++) {
		const struct state_session *s = &n->others[i];

		fprintf(f, "%s{\"session\":%lld,\"node\":", i ? "," : "",
		    (long long)s->sid);
		text_json(f, s->node);
		fputs(",\"engineer\":", f);
		text_json(f, s->engineer);
		fputs(",\"vendor\":", f);
		text_json(f, s->vendor);
		fputs(",\"device\":", f);
		text_json(f, s->device);
		fprintf(f, ",\"started\":%lld,\"ended\":%lld}",
		    (long long)s->started, (long long)s->ended);
	}
	fputs("]", f);
}
