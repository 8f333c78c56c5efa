/*
 * cmd-files.c - the admin's verbs for file export requests (issue 18,
 * docs/FILES.md "Export approval"), one family as lock/unlock are one:
 *
 *   file-requests [--all] [--json] [--wide]   what waits: file, size, SHA-256
 *   file-approve ID [--json]                  the engineer gets those bytes
 *   file-deny ID REASON... [--json]           nothing leaves; the engineer
 *                                             reads "export denied: REASON"
 *
 * A download that a files: policy with approve: out holds is read by the
 * bastion into its quarantine, hashed and filed as an export request by
 * the session's monitor; these verbs decide it, and the store pushes the
 * decision to that monitor (STATE_EV_EXPORT), which answers its child.
 * One admin decides a file (no four eyes). Both decisions have a describe
 * function, so the web console's prepare/commit binds a key's assertion to
 * the row as the admin saw it. Audit: file.export_approved,
 * file.export_denied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "table.h"
#include "text.h"

/* ---- file-requests ------------------------------------------------------ */

static const struct table_col files_cols[] = {
	{ "ID", TABLE_KEEP }, { "STATUS", TABLE_KEEP }, { "ENGINEER", 0 },
	{ "DEVICE", 0 }, { "SIZE", TABLE_KEEP }, { "SHA-256", 0 },
	{ "CREATED (UTC)", TABLE_KEEP }, { "DECIDED BY", 0 },
	{ "PATH", TABLE_FREE },
};

static void
files_json(FILE *f, const struct state_export *e)
{
	appr_export_json_open(f, e);
	fputs("}", f);
}

static int
files_line(const struct state_export *e, void *arg)
{
	struct appr_list *l = arg;
	char id[24], size[24], when[32], path[4400];

	if (appr_list_json(l)) {
		files_json(l->c->out, e);
		return (0);
	}
	snprintf(id, sizeof(id), "%lld", (long long)e->id);
	snprintf(size, sizeof(size), "%lld", (long long)e->size);
	appr_tcell(e->created, when, sizeof(when));
	snprintf(path, sizeof(path), "%s%s%s", e->path,
	    e->deny_reason[0] != '\0' ? " / denied: " : "", e->deny_reason);
	return (appr_list_row(l, (const char *[]){ id, e->status,
	    e->engineer, e->device, size, e->sha256, when, e->decided_by,
	    path }));
}

static int
files_walk(struct appr_list *l, const struct verb_args *a)
{
	return (state_export_each(l->c->st, a->all ? NULL : STATE_REQ_PENDING,
	    a->all ? 200 : 0, files_line, l));
}

static const struct appr_listing files_listing = {
	files_cols, sizeof(files_cols) / sizeof(files_cols[0]), files_walk,
	"the state store failed (see the bastion's log)",
	"no file exports waiting", "no file export requests"
};

const struct cmd_entry cmd_file_requests_entry = {
	"file-requests", NULL,
	"[--all] [--json] [--wide]",
	"list downloads waiting for approval: file, size, SHA-256 (--all: "
	"every one)",
	NULL,
	VO_JSON | VO_ALL | VO_WIDE,
	VERB_ADMIN | VERB_STORE,
	appr_list_exec,
	&files_listing
};

/* ---- file-approve, file-deny -------------------------------------------- */

/* The words and the pending request, checked: exec and describe share it.
 * deny: why gets the reason. 0, or the exit status after saying why. */
static int
files_check(struct verb_ctx *c, const struct verb_args *a, int deny,
    int64_t *id, char *why, size_t whylen, struct state_export *e)
{
	const char *verb = deny ? "file-deny" : "file-approve";
	int found = 0;

	if (deny ? a->n < 2 : a->n != 1) {
		fprintf(c->err, "%s: give a file request id%s (see "
		    "\"file-requests\")\n", verb, deny ? " and a reason the "
		    "engineer will see (file-deny 7 \"patient data\")" : "");
		return (2);
	}
	if (appr_id(c, verb, a->pos[0], id) != 0)
		return (2);
	why[0] = '\0';
	if (deny) {
		appr_join(a, 1, "", why, whylen);
		if (!appr_reason_ok(c, verb, why))
			return (2);
	}
	if (state_export_get(c->st, *id, e, &found) != 0) {
		fprintf(c->err, "%s: the state store failed\n", verb);
		return (1);
	}
	if (!found) {
		fprintf(c->err, "%s: there is no file request %lld (see "
		    "\"file-requests\")\n", verb, (long long)*id);
		return (1);
	}
	if (strcmp(e->status, STATE_REQ_PENDING) != 0) {
		fprintf(c->err, "%s: file request %lld is %s already\n", verb,
		    (long long)*id, e->status);
		return (1);
	}
	return (0);
}

/* The canonical action: the verb, the row as the admin saw it, the
 * reason. */
static int
files_canon(struct buf *canon, FILE *summary, const char *verb,
    const struct state_export *e, const char *why)
{
	char id[24], size[24], created[24];
	const char *const kv[] = { "verb", verb, "id", id, "session",
	    e->session, "engineer", e->engineer, "vendor", e->vendor,
	    "device", e->device, "path", e->path, "size", size, "sha256",
	    e->sha256, "created", created, "status", e->status, "reason",
	    why, NULL };

	snprintf(id, sizeof(id), "%lld", (long long)e->id);
	snprintf(size, sizeof(size), "%lld", (long long)e->size);
	snprintf(created, sizeof(created), "%lld", (long long)e->created);
	return (appr_canon_kv(canon, summary, kv) != 0 ? 1 : 0);
}

static int
files_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary, int deny)
{
	struct state_export e;
	char why[256];
	int64_t id;
	int rc;

	if ((rc = files_check(c, a, deny, &id, why, sizeof(why), &e)) != 0)
		return (rc);
	return (files_canon(canon, summary, deny ? "file-deny" :
	    "file-approve", &e, why));
}

int
cmd_file_approve_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	return (files_describe(c, a, canon, summary, 0));
}

int
cmd_file_deny_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	return (files_describe(c, a, canon, summary, 1));
}

static int
files_decide(struct verb_ctx *c, const struct verb_args *a, int deny)
{
	const char *verb = deny ? "file-deny" : "file-approve";
	struct state_export e;
	char why[256], idstr[24], size[24], eng[40], shown[256];
	int64_t id;
	int rc;

	if ((rc = files_check(c, a, deny, &id, why, sizeof(why), &e)) != 0)
		return (rc);
	rc = state_export_finish(c->st, id, deny ? STATE_REQ_DENIED :
	    STATE_REQ_APPROVED, c->admin, deny ? why : NULL);
	if (rc == BERR_EXISTS || rc == BERR_NOTFOUND) {
		fprintf(c->err, "%s: file request %lld was decided meanwhile "
		    "(see \"file-requests --all\")\n", verb, (long long)id);
		return (1);
	}
	if (rc != 0) {
		fprintf(c->err, "%s: the state store failed\n", verb);
		return (1);
	}
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(size, sizeof(size), "%lld", (long long)e.size);
	if (deny)
		audit_ev(BEV_FILE_EXPORT_DENIED, "request", idstr, "admin",
		    c->admin, "via", c->via, "engineer", e.engineer, "vendor",
		    e.vendor, "device", e.device, "path", e.path, "size", size,
		    "sha256", e.sha256, "reason", why, VERB_ASSERTION(c), NULL);
	else
		audit_ev(BEV_FILE_EXPORT_APPROVED, "request", idstr, "admin",
		    c->admin, "via", c->via, "engineer", e.engineer, "vendor",
		    e.vendor, "device", e.device, "path", e.path, "size", size,
		    "sha256", e.sha256, VERB_ASSERTION(c), NULL);
	appr_cell(e.engineer, eng, sizeof(eng));
	if (a->json) {
		fprintf(c->out, "{\"file_request\":%lld,\"status\":\"%s\","
		    "\"reason\":", (long long)id, deny ? STATE_REQ_DENIED :
		    STATE_REQ_APPROVED);
		text_json(c->out, why);
		fputs("}\n", c->out);
	} else if (deny) {
		text_clean(shown, sizeof(shown), why);
		fprintf(c->out, "file request %lld denied; nothing leaves, and "
		    "%s is told: export denied: %s\n", (long long)id, eng,
		    shown);
	} else
		fprintf(c->out, "file request %lld approved: %s gets the %lld "
		    "bytes with SHA-256 %s\n", (long long)id, eng,
		    (long long)e.size, e.sha256);
	return (0);
}

static int
cmd_file_approve_exec(struct verb_ctx *c, const struct verb_args *a)
{
	return (files_decide(c, a, 0));
}

static int
cmd_file_deny_exec(struct verb_ctx *c, const struct verb_args *a)
{
	return (files_decide(c, a, 1));
}

const struct cmd_entry cmd_file_approve_entry = {
	"file-approve", NULL,
	"ID [--json]",
	"let a held download go: the engineer gets exactly the bytes listed",
	NULL,
	VO_JSON,
	VERB_ADMIN | VERB_STORE,
	cmd_file_approve_exec,
	NULL
};

const struct cmd_entry cmd_file_deny_entry = {
	"file-deny", NULL,
	"ID REASON... [--json]",
	"refuse a held download; the engineer sees the reason",
	NULL,
	VO_JSON,
	VERB_ADMIN | VERB_STORE,
	cmd_file_deny_exec,
	NULL
};
