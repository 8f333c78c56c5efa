/*
 * cmd-declare.c - "declare [SESSION personal=yes|no [erased=yes|no|pending]]",
 * the engineer's verb (ssh ENGINEER@bastion declare ...; issue 18, item 6,
 * docs/FILES.md "Work record and declarations"): the files an engineer
 * moved through the airlock in a session without a terminal (sftp, scp)
 * wait in an open declaration; without words the verb lists the
 * engineer's open ones with their files, with words it answers one:
 * personal=no, or personal=yes with erased=yes (closed), erased=no or
 * erased=pending (stays open until erased=yes). Only the engineer who
 * moved the files may answer; every answer and every refusal is audited
 * (session.file_declaration).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approvals.h"
#include "err.h"
#include "log.h"
#include "text.h"

void
cmd_declare_json(FILE *f, const struct state_decl *d)
{
	fprintf(f, "{\"session\":%" PRId64 ",\"engineer\":", d->session);
	text_json(f, d->engineer);
	fputs(",\"vendor\":", f);
	text_json(f, d->vendor);
	fputs(",\"device\":", f);
	text_json(f, d->device);
	fprintf(f, ",\"since\":%lld,\"files\":%" PRId64 ",\"bytes\":%"
	    PRId64 ",\"personal\":", (long long)d->opened, d->nfiles,
	    d->bytes);
	text_json(f, d->personal);
	fputs(",\"erased\":", f);
	text_json(f, d->erased);
	fputs(",\"list\":", f);
	text_json(f, d->files);
	fputs("}", f);
}

struct declare_list {
	struct verb_ctx *c;
	int json;
	size_t n;
};

/* One line of a declaration's files, cleaned. */
static void
declare_line(const char *line, size_t len, void *arg)
{
	char raw[1400], clean[1400];

	snprintf(raw, sizeof(raw), "%.*s", (int)len, line);
	text_clean(clean, sizeof(clean), raw);
	fprintf(arg, "  %s\n", clean);
}

static int
declare_row(const struct state_decl *d, void *arg)
{
	struct declare_list *l = arg;
	FILE *f = l->c->out;
	char since[40], clean[96];
	int64_t shown;

	appr_time(d->opened, since, sizeof(since));
	if (l->json) {
		fputs(l->n ? "," : "", f);
		cmd_declare_json(f, d);
	} else {
		text_clean(clean, sizeof(clean), d->device);
		fprintf(f, "session %" PRId64 " on %s, since %s: %" PRId64
		    " file(s), %" PRId64 " bytes%s%s\n", d->session, clean,
		    since, d->nfiles, d->bytes, d->erased[0] ?
		    "; erased: " : "", d->erased);
		shown = state_decl_lines(d, declare_line, f);
		if (shown < d->nfiles)
			fprintf(f, "  ... and %" PRId64 " more\n",
			    d->nfiles - shown);
	}
	l->n++;
	return (0);
}

static int
declare_list(struct verb_ctx *c, const struct verb_args *a)
{
	struct declare_list l = { c, a->json, 0 };

	if (a->json)
		fputs("[", c->out);
	if (state_decl_each(c->st, c->admin, 0, 1, declare_row, &l) != 0) {
		fprintf(c->err, "declare: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	if (a->json)
		fputs("]\n", c->out);
	else if (l.n == 0)
		fprintf(c->out, "You have no open file declarations.\n");
	else
		fprintf(c->out, "Answer each: declare SESSION personal=no, or "
		    "declare SESSION personal=yes erased=yes|no|pending\n");
	return (0);
}

/* key=value among the words, once: 0, or 2 after saying why. */
static int
declare_words(struct verb_ctx *c, const struct verb_args *a,
    const char **personal, const char **erased)
{
	const char **slot;
	int i;

	*personal = *erased = NULL;
	for (i = 1; i < a->n; i++) {
		const char *w = a->pos[i];

		if (strncmp(w, "personal=", 9) == 0)
			slot = personal;
		else if (strncmp(w, "erased=", 7) == 0)
			slot = erased;
		else {
			fprintf(c->err, "declare: \"%.60s\" is not personal= "
			    "or erased=\n", w);
			return (2);
		}
		if (*slot != NULL) {
			fprintf(c->err, "declare: %.*s given twice\n",
			    (int)(strchr(w, '=') - w), w);
			return (2);
		}
		*slot = strchr(w, '=') + 1;
	}
	return (0);
}

/* Audit one answer or refusal. */
static void
declare_audit(struct verb_ctx *c, const char *sid, const struct state_decl *d,
    const char *personal, const char *erased, const char *result,
    const char *reason)
{
	char files[24];

	snprintf(files, sizeof(files), "%" PRId64, d->nfiles);
	audit_ev(BEV_SESSION_FILE_DECLARATION, "session", sid, "user",
	    c->admin, "vendor", d->vendor[0] ? d->vendor : "-", "device",
	    d->device[0] ? d->device : "-", "files", files, "personal",
	    personal, "erased", erased != NULL && erased[0] ? erased : "-",
	    "via", "declare", "result", result, "answered_in", c->session,
	    "reason", reason, NULL);
}

static int
cmd_declare_exec(struct verb_ctx *c, const struct verb_args *a)
{
	const char *personal, *erased, *why;
	struct state_decl d;
	char *end, sid[24];
	long long v;
	int r;

	if (a->n == 0)
		return (declare_list(c, a));
	errno = 0;
	v = strtoll(a->pos[0], &end, 10);
	if (errno != 0 || *end != '\0' || end == a->pos[0] || v <= 0) {
		fprintf(c->err, "declare: \"%.60s\" is not a session number "
		    "(\"declare\" alone lists yours)\n", a->pos[0]);
		return (2);
	}
	if ((r = declare_words(c, a, &personal, &erased)) != 0)
		return (r);
	if (state_decl_answer_check(personal, erased, &why) != 0) {
		fprintf(c->err, "declare: %s (e.g. declare %lld personal=no, "
		    "or declare %lld personal=yes erased=yes)\n", why, v, v);
		return (2);
	}
	snprintf(sid, sizeof(sid), "%lld", v);
	r = state_decl_answer(c->st, v, c->admin, personal, erased, "declare",
	    time(NULL), &d);
	if (r == BERR_NOTFOUND || r == BERR_DENIED) {
		/* the same words either way: nobody learns of another's */
		fprintf(c->err, "declare: session %s has no file declaration "
		    "of yours (\"declare\" alone lists yours)\n", sid);
		declare_audit(c, sid, &d, personal, erased, "refused",
		    r == BERR_DENIED ? "another engineer's session" :
		    "no declaration");
		return (1);
	}
	if (r == BERR_EXISTS) {
		fprintf(c->err, "declare: session %s's declaration is already "
		    "closed\n", sid);
		declare_audit(c, sid, &d, personal, erased, "refused",
		    "already closed");
		return (1);
	}
	if (r != 0) {
		fprintf(c->err, "declare: the state store failed (see the "
		    "bastion's log)\n");
		return (1);
	}
	declare_audit(c, sid, &d, personal, erased, d.status, NULL);
	if (strcmp(d.status, "closed") == 0)
		fprintf(c->out, "session %s: declared (personal=%s%s%s); the "
		    "declaration is closed\n", sid, personal, erased != NULL ?
		    ", erased=" : "", erased != NULL ? erased : "");
	else
		fprintf(c->out, "session %s: declared (personal=yes, erased=%s);"
		    " it stays open until: declare %s personal=yes "
		    "erased=yes\n", sid, erased, sid);
	return (0);
}

const struct cmd_entry cmd_declare_entry = {
	"declare", NULL,
	"[SESSION personal=yes|no [erased=yes|no|pending]] [--json]",
	"an engineer's open file declarations, or the answer for one session",
	"(engineers: the files you moved)",
	VO_JSON,
	VERB_ENGINEER | VERB_STORE,
	cmd_declare_exec,
	NULL
};
