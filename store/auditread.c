/*
 * auditread.c - the reading side of the hash-chained audit log: a bounded
 * line reader, the selection of one recorded session's lines (the evidence
 * bundle, the recorder's notary, the report), and the verifier behind
 * `bastion-verify --audit` (format and rules in auditlog.h and
 * docs/AUDIT.md; the line format and appending are in auditlog.c).
 *
 * Everything read is untrusted: lines are read into a fixed buffer of
 * AUDITLOG_LINE_MAX bytes, fields through auditlog_field_next(), and events
 * are recognised only through the schema (events.h), never by name here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "auditlog_int.h"
#include "err.h"
#include "events.h"

struct auditlog_reader {
	FILE *fp;
	int own;
	uint64_t lineno;
	int failed;
	char line[AUDITLOG_LINE_MAX + 1];
};

/* ---- reading ----------------------------------------------------------- */

int
auditlog_reader_open_fp(FILE *fp, struct auditlog_reader **out)
{
	struct auditlog_reader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (BERR_NOMEM);
	r->fp = fp;
	*out = r;
	return (0);
}

int
auditlog_reader_open(const char *path, struct auditlog_reader **out)
{
	FILE *fp;
	int r;

	*out = NULL;
	if ((fp = fopen(path, "re")) == NULL)
		return (errno == ENOENT ? BERR_NOTFOUND : BERR_SYS);
	if ((r = auditlog_reader_open_fp(fp, out)) != 0) {
		fclose(fp);
		return (r);
	}
	(*out)->own = 1;
	return (0);
}

int
auditlog_reader_next(struct auditlog_reader *r, const char **text,
    size_t *len)
{
	size_t n = 0;
	int c;

	*text = NULL;
	*len = 0;
	if (r->failed)
		return (BERR_LIMIT);
	while ((c = getc(r->fp)) != EOF && c != '\n') {
		if (n == AUDITLOG_LINE_MAX - 1) {
			r->failed = 1;
			r->lineno++;
			return (BERR_LIMIT);
		}
		r->line[n++] = (char)c;
	}
	if (c == EOF && ferror(r->fp))
		return (BERR_SYS);
	if (c == EOF && n == 0)
		return (BERR_NOTFOUND);
	r->line[n] = '\0';
	r->lineno++;
	*text = r->line;
	*len = n;
	return (c == EOF ? BERR_TRUNC : 0);
}

uint64_t
auditlog_reader_lineno(const struct auditlog_reader *r)
{
	return (r->lineno);
}

void
auditlog_reader_free(struct auditlog_reader *r)
{
	if (r == NULL)
		return;
	if (r->own)
		fclose(r->fp);
	free(r);
}

int
auditlog_each(const char *path, auditlog_each_fn fn, void *arg)
{
	struct auditlog_reader *rd = NULL;
	struct auditlog_line l;
	const char *text;
	size_t len;
	int r, k = 0;

	if ((r = auditlog_reader_open(path, &rd)) != 0)
		return (r);
	while ((r = auditlog_reader_next(rd, &text, &len)) == 0) {
		if (auditlog_line_parse(text, len, &l) != 0)
			continue;
		if ((k = fn(&l, text, len, arg)) != 0)
			break;
	}
	auditlog_reader_free(rd);
	if (k != 0)
		return (k == 1 ? 0 : k);
	/* a torn last line is nobody's yet: the chain is verified apart */
	return (r == BERR_NOTFOUND || r == BERR_TRUNC ? 0 : r);
}

/* ---- events ------------------------------------------------------------ */

enum bev
auditlog_event(const char *body, size_t len)
{
	char v[64];

	if (auditlog_field(body, len, "event", v, sizeof(v)) != 0)
		return (BEV_NONE);
	return (bev_lookup(v, strlen(v)));
}

/* ---- the lines of one recorded session --------------------------------- */

struct auditlog_sel {
	char ref[64], recording[80], pid[32];
	char req[AUDITLOG_SEL_IDS][32];
	char grant[AUDITLOG_SEL_IDS][32];
	char freq[AUDITLOG_SEL_IDS][32];	/* file export requests */
	size_t nreq, ngrant, nfreq;
	int changed;
};

/* The fields selection looks at, from one walk over the body. */
struct auditlog_sel_fields {
	char event[64], session[80], pid[32], recording[80];
	char request[32], grant[32], about[32];
};

static void
auditlog_sel_fields(const char *body, size_t len,
    struct auditlog_sel_fields *f)
{
	const char *p = body, *end = body + len;
	char key[64], *val;

	memset(f, 0, sizeof(*f));
	/* room for any value: a long one (a command) must not hide the
	 * fields after it */
	if ((val = malloc(AUDITLOG_LINE_MAX)) == NULL)
		return;
	while (auditlog_field_next(&p, end, key, sizeof(key), val,
	    AUDITLOG_LINE_MAX) == 0) {
#define SEL_KEEP(name)                                                 \
		if (strcmp(key, #name) == 0 && strlen(val) < sizeof(f->name)) \
			memcpy(f->name, val, strlen(val) + 1);
		SEL_KEEP(event)
		SEL_KEEP(session)
		SEL_KEEP(pid)
		SEL_KEEP(recording)
		SEL_KEEP(request)
		SEL_KEEP(grant)
		SEL_KEEP(about)
#undef SEL_KEEP
	}
	free(val);
}

static int
auditlog_sel_has(char ids[][32], size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return (1);
	return (0);
}

static void
auditlog_sel_add(struct auditlog_sel *s, char ids[][32], size_t *n,
    const char *id)
{
	if (*id == '\0' || strcmp(id, "-") == 0 ||
	    auditlog_sel_has(ids, *n, id) || *n == AUDITLOG_SEL_IDS)
		return;
	snprintf(ids[(*n)++], 32, "%s", id);
	s->changed = 1;
}

int
auditlog_sel_new(const char *ref, const char *recording,
    struct auditlog_sel **out)
{
	struct auditlog_sel *s;

	*out = NULL;
	if (ref == NULL || recording == NULL || *ref == '\0' ||
	    *recording == '\0' || strlen(ref) >= sizeof(s->ref) ||
	    strlen(recording) >= sizeof(s->recording))
		return (BERR_INVAL);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (BERR_NOMEM);
	snprintf(s->ref, sizeof(s->ref), "%s", ref);
	snprintf(s->recording, sizeof(s->recording), "%s", recording);
	*out = s;
	return (0);
}

void
auditlog_sel_free(struct auditlog_sel *s)
{
	free(s);
}

/* Does the line's request field number a file export request (file.*
 * events, and notifications about=file_export)? Those are numbered apart
 * from session requests: file request 1 is not session request 1. */
static int
auditlog_sel_file_request(const struct auditlog_sel_fields *f)
{
	return (strncmp(f->event, "file.", 5) == 0 ||
	    strcmp(f->about, "file_export") == 0);
}

static int
auditlog_sel_belongs(const struct auditlog_sel *s,
    const struct auditlog_sel_fields *f)
{
	int file = auditlog_sel_file_request(f);

	return ((s->pid[0] != '\0' && strcmp(f->session, s->ref) == 0 &&
	    strcmp(f->pid, s->pid) == 0) ||
	    strcmp(f->session, s->recording) == 0 ||
	    (f->request[0] != '\0' && !file &&
	    auditlog_sel_has((char (*)[32])s->req, s->nreq, f->request)) ||
	    (f->request[0] != '\0' && file &&
	    auditlog_sel_has((char (*)[32])s->freq, s->nfreq, f->request)) ||
	    (f->grant[0] != '\0' && auditlog_sel_has((char (*)[32])s->grant,
	    s->ngrant, f->grant)));
}

void
auditlog_sel_learn(struct auditlog_sel *s, const char *body, size_t len)
{
	struct auditlog_sel_fields f;

	auditlog_sel_fields(body, len, &f);
	if (s->pid[0] == '\0' &&
	    bev_role(bev_lookup(f.event, strlen(f.event))) == BEV_ROLE_ANCHOR &&
	    strcmp(f.recording, s->recording) == 0 &&
	    strcmp(f.session, s->ref) == 0 && f.pid[0] != '\0') {
		snprintf(s->pid, sizeof(s->pid), "%s", f.pid);
		s->changed = 1;
	}
	if (!auditlog_sel_belongs(s, &f))
		return;
	if (auditlog_sel_file_request(&f))
		auditlog_sel_add(s, s->freq, &s->nfreq, f.request);
	else
		auditlog_sel_add(s, s->req, &s->nreq, f.request);
	auditlog_sel_add(s, s->grant, &s->ngrant, f.grant);
}

int
auditlog_sel_changed(struct auditlog_sel *s)
{
	int c = s->changed;

	s->changed = 0;
	return (c);
}

int
auditlog_sel_anchored(const struct auditlog_sel *s)
{
	return (s->pid[0] != '\0');
}

int
auditlog_sel_match(const struct auditlog_sel *s, const char *body,
    size_t len)
{
	struct auditlog_sel_fields f;

	auditlog_sel_fields(body, len, &f);
	return (auditlog_sel_belongs(s, &f));
}

/* ---- verification ------------------------------------------------------ */

/* A line that did not verify, kept until the next line says whether it
 * was a torn write sealed by an audit.torn_tail line. */
struct auditlog_pending {
	int set;
	uint64_t lineno;
	size_t len;
	char sha[AUDITLOG_HEX_LEN + 1];
	char why[200];
};

/* Does line l (verified in place) seal the pending torn bytes? */
static int
auditlog_seals(const struct auditlog_line *l, const struct auditlog_pending *p)
{
	char v[AUDITLOG_HEX_LEN + 8], bytes[32];

	snprintf(bytes, sizeof(bytes), "%zu", p->len);
	return (auditlog_event(l->body, l->bodylen) == BEV_AUDIT_TORN_TAIL &&
	    auditlog_field(l->body, l->bodylen, "bytes", v, sizeof(v)) == 0 &&
	    strcmp(v, bytes) == 0 &&
	    auditlog_field(l->body, l->bodylen, "sha256", v, sizeof(v)) == 0 &&
	    strcmp(v, p->sha) == 0);
}

static int
auditlog_verdict(struct auditlog_verify *v, int verdict, uint64_t lineno,
    const char *why)
{
	v->verdict = verdict;
	v->bad_line = lineno;
	snprintf(v->why, sizeof(v->why), "%s", why);
	return (verdict);
}

int
auditlog_verify_fp(FILE *fp, struct auditlog_verify *v)
{
	struct auditlog_reader *rd = NULL;
	struct auditlog_pending pend;
	struct auditlog_line l;
	char prev[AUDITLOG_HEX_LEN + 1], why[200];
	uint64_t expect = 1;
	const char *text;
	size_t len;
	int r, ok;

	memset(v, 0, sizeof(*v));
	memset(&pend, 0, sizeof(pend));
	memset(prev, '0', AUDITLOG_HEX_LEN);	/* seq 1 follows 64 zeros */
	prev[AUDITLOG_HEX_LEN] = '\0';
	if (auditlog_reader_open_fp(fp, &rd) != 0)
		return (auditlog_verdict(v, AUDITLOG_ERROR, 0,
		    "out of memory"));
	for (;;) {
		r = auditlog_reader_next(rd, &text, &len);
		if (r == BERR_SYS) {
			auditlog_verdict(v, AUDITLOG_ERROR, 0, strerror(errno));
			break;
		}
		if (pend.set && r != 0) {
			auditlog_verdict(v, AUDITLOG_ALTERED, pend.lineno,
			    pend.why);
			break;
		}
		if (r == BERR_NOTFOUND) {
			v->verdict = AUDITLOG_OK;
			break;
		}
		if (r == BERR_LIMIT) {
			auditlog_verdict(v, AUDITLOG_ALTERED,
			    auditlog_reader_lineno(rd), "longer than any audit "
			    "line can be: not a chain line");
			break;
		}
		if (r == BERR_TRUNC) {
			auditlog_verdict(v, AUDITLOG_TRUNCATED,
			    auditlog_reader_lineno(rd), "the last line has no "
			    "line break: a write torn by a crash, or the file "
			    "was cut; every line before it verifies");
			break;
		}
		ok = 0;
		if (auditlog_line_parse(text, len, &l) != 0)
			snprintf(why, sizeof(why), "not an audit chain line "
			    "(seq=N prev=HASH EVENT hash=HASH)");
		else if (!auditlog_line_hash_ok(text, len, &l))
			snprintf(why, sizeof(why), "its content does not match "
			    "its hash: the line was edited");
		else if (l.seq != expect)
			snprintf(why, sizeof(why), "seq is %llu where %llu "
			    "belongs: a line was deleted, inserted or moved",
			    (unsigned long long)l.seq,
			    (unsigned long long)expect);
		else if (strcmp(l.prev, prev) != 0)
			snprintf(why, sizeof(why), "prev is not the hash of "
			    "the line before: a line was replaced, deleted or "
			    "moved");
		else
			ok = 1;
		if (pend.set) {
			if (!ok || !auditlog_seals(&l, &pend)) {
				auditlog_verdict(v, AUDITLOG_ALTERED,
				    pend.lineno, pend.why);
				break;
			}
			pend.set = 0;
			v->torn++;
		} else if (!ok) {
			pend.set = 1;
			pend.lineno = auditlog_reader_lineno(rd);
			pend.len = len;
			snprintf(pend.why, sizeof(pend.why), "%s", why);
			if (auditlog_sha256(text, len, NULL, 0,
			    pend.sha) != 0) {
				auditlog_verdict(v, AUDITLOG_ERROR, 0,
				    "cannot hash");
				break;
			}
			continue;
		}
		memcpy(prev, l.hash, sizeof(prev));
		v->lines = auditlog_reader_lineno(rd);
		v->last_seq = l.seq;
		memcpy(v->head, l.hash, sizeof(v->head));
		expect = l.seq + 1;
	}
	auditlog_reader_free(rd);
	return (v->verdict);
}

int
auditlog_verify_file(const char *path, struct auditlog_verify *v)
{
	FILE *fp;
	int r;

	memset(v, 0, sizeof(*v));
	if ((fp = fopen(path, "re")) == NULL)
		return (auditlog_verdict(v, AUDITLOG_ERROR, 0,
		    strerror(errno)));
	r = auditlog_verify_fp(fp, v);
	fclose(fp);
	return (r);
}
