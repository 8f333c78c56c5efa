/*
 * cmd-export.c - the auditor's "export SESSION > evidence.tar": the
 * evidence bundle, a tar on the auditor's standard output.
 *
 * It writes, through the bundle writer (recbundle.h), the members docs/AUDIT.md lists ("Evidence
 * bundle"): the recording as it is on disk, the recorder's public key,
 * the approval record from the state store, the session's lines of the
 * audit chain exactly as they are in the chain (so that each still proves
 * itself), export.txt (who exported what, and the state of the whole
 * chain at that moment), a MANIFEST in sha256sum format and MANIFEST.sig,
 * the recorder's signature over it. This process never holds the signing
 * key: it asks bastion-recorder, which signs only once the hashes of the
 * recording, its key and the audit lines agree with its own files
 * (recnotary.h). bastion-verify checks it all offline.
 *
 * Another node's recording (fetched from the object store, docs/SCALE-OUT
 * .md): its session's audit lines are in that node's chain, so the bundle
 * holds this node's lines about it (none, or few), approval.json the
 * shared state store's request and grant rows, marked as such
 * ("recorded_on", "facts_from"), and export.txt recorded_on=NODE; this
 * node's recorder signs it once the fetched copy verifies with its key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "approvals.h"
#include "auditlog.h"
#include "auditsess.h"
#include "audstore.h"
#include "audverb.h"
#include "err.h"
#include "log.h"
#include "rec_client.h"
#include "recbundle.h"
#include "recnotary.h"
#include "reckey.h"
#include "recreader.h"
#include "state.h"
#include "text.h"

/* What export gathers before it writes anything. */
struct export {
	struct verb_ctx *c;
	struct recbundle_writer *w;
	char *audit;			/* the session's chain lines */
	size_t audit_len;
	uint64_t audit_lines;
	uint64_t chain_seq;		/* the last chain seq read */
	char requests[AUDITLOG_SEL_IDS][32], grants[AUDITLOG_SEL_IDS][32];
	size_t nrequests, ngrants;
	char rule[32];			/* how the session was let in */
	int write_failed;
	int elsewhere;			/* another node's recording: */
	struct audstore_rec other;	/* its session in the shared store */
};

static int
export_write_cb(void *arg, const void *buf, size_t len)
{
	struct export *E = arg;

	if (fwrite(buf, 1, len, E->c->out) != len) {
		E->write_failed = 1;
		return (-1);
	}
	return (0);
}

static void
export_id(char ids[][32], size_t *n, const char *id)
{
	size_t i;

	if (*id == '\0' || strcmp(id, "-") == 0 || *n == AUDITLOG_SEL_IDS)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(ids[i], id) == 0)
			return;
	snprintf(ids[(*n)++], 32, "%s", id);
}

/* Does line l name a file export request (file.export_*, or a
 * notification about one), whose number is of file-requests, not of
 * requests? */
static int
export_file_request(const struct auditlog_line *l)
{
	const char *ev = bev_name(auditlog_event(l->body, l->bodylen));
	char v[32];

	if (ev != NULL && strncmp(ev, "file.", 5) == 0)
		return (1);
	return (auditlog_field(l->body, l->bodylen, "about", v,
	    sizeof(v)) == 0 && strcmp(v, "file_export") == 0);
}

/* The session's lines of the audit chain (none if it is not kept), taken
 * as the recorder will take them when it checks the bundle (recbundle.h),
 * and what they say of how the session was let in. */
static int
export_audit(struct export *E, const char *path, const char *ref,
    const char *recid)
{
	struct auditlog_line l;
	const char *p, *end, *nl, *how;
	char v[96];
	int r;

	if ((r = recnotary_audit_lines(path, ref, recid, UINT64_MAX, &E->audit,
	    &E->audit_len, &E->audit_lines, &E->chain_seq)) != 0)
		return (r);
	end = E->audit + E->audit_len;
	for (p = E->audit; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (auditlog_line_parse(p, (size_t)(nl - p), &l) != 0)
			continue;
		/* a session request's number; file export requests (their
		 * events and their notifications) are numbered apart */
		if (!export_file_request(&l) && auditlog_field(l.body,
		    l.bodylen, "request", v, sizeof(v)) == 0)
			export_id(E->requests, &E->nrequests, v);
		if (auditlog_field(l.body, l.bodylen, "grant", v,
		    sizeof(v)) == 0)
			export_id(E->grants, &E->ngrants, v);
		if ((how = auditsess_admission(auditlog_event(l.body,
		    l.bodylen))) != NULL && auditlog_field(l.body, l.bodylen,
		    "session", v, sizeof(v)) == 0 && strcmp(v, ref) == 0)
			snprintf(E->rule, sizeof(E->rule), "%s", how);
	}
	return (0);
}

static void
export_grant_json(FILE *f, const struct state_grant *g)
{
	appr_grant_json_open(f, g);
	fprintf(f, ",\"revoked_at\":%lld}", (long long)g->revoked_at);
}

/* approval.json: how the session was let in, with the request(s) and
 * grant(s) as the state store has them now. */
static int
export_approval(struct export *E, const struct rec_hdr *h, const char *ref,
    char **out, size_t *outlen)
{
	struct state *st = NULL;
	struct state_request r;
	struct state_grant g;
	char rid[32];
	FILE *f;
	size_t i, n;
	int found, rc = 0;

	if ((f = open_memstream(out, outlen)) == NULL)
		return (BERR_NOMEM);
	fputs("{\"format\":", f);
	text_json(f, RECBUNDLE_FORMAT);
	fputs(",\"session\":", f);
	text_json(f, ref);
	fputs(",\"recording\":", f);
	text_json(f, recfmt_hdr_get(h, "session"));
	fputs(",\"recording_approval\":", f);
	text_json(f, recfmt_hdr_get(h, "approval"));
	fputs(",\"admission\":", f);
	if (E->elsewhere) {
		/* its lines are in the recording node's chain: the store's
		 * rows instead, named as such */
		snprintf(rid, sizeof(rid), "%lld",
		    (long long)E->other.s.grant_id);
		if (E->other.s.grant_id != 0)
			export_id(E->grants, &E->ngrants, rid);
		text_json(f, E->other.has_grant ? "grant" : "unknown");
		fputs(",\"recorded_on\":", f);
		text_json(f, E->other.s.node);
		fputs(",\"facts_from\":", f);
		text_json(f, "the shared state store's rows (requests, grants); "
		    "the session's audit lines are in the recording node's "
		    "audit chain, not in this bundle");
	} else
		text_json(f, E->rule[0] != '\0' ? E->rule :
		    E->audit_lines > 0 ? "not required" : "unknown");
	if (state_open(E->c->pol->state_dir, &st) != 0)
		rc = BERR_SYS;
	/* grants name their requests: take those too */
	for (i = 0; st != NULL && i < E->ngrants; i++) {
		if (state_grant_get(st, strtoll(E->grants[i], NULL, 10), &g,
		    &found) == 0 && found) {
			snprintf(rid, sizeof(rid), "%lld",
			    (long long)g.request_id);
			export_id(E->requests, &E->nrequests, rid);
		}
	}
	fputs(",\"requests\":[", f);
	/* a row not found is left out, so the comma goes before every row
	 * written but the first */
	for (i = 0, n = 0; st != NULL && i < E->nrequests; i++)
		if (state_request_get(st, strtoll(E->requests[i], NULL, 10),
		    &r, &found) == 0 && found) {
			if (n++ > 0)
				fputc(',', f);
			appr_request_json(f, &r);
		}
	fputs("],\"grants\":[", f);
	for (i = 0, n = 0; st != NULL && i < E->ngrants; i++)
		if (state_grant_get(st, strtoll(E->grants[i], NULL, 10), &g,
		    &found) == 0 && found) {
			if (n++ > 0)
				fputc(',', f);
			export_grant_json(f, &g);
		}
	fputs("]}\n", f);
	state_close(st);
	if (fclose(f) != 0)
		return (BERR_NOMEM);
	return (rc);
}

/* export SESSION: the bundle to the auditor's stdout; returns the exit
 * status for the channel. */
static int
export_run(struct verb_ctx *c, const char *path)
{
	struct export E;
	struct rec_hdr h;
	struct reckey *pub = NULL;
	struct auditlog_verify cv;
	struct stat st;
	char chain[4096], pubpath[PATH_MAX + 32], host[256];
	char ts[64], fp[RECKEY_FP_LEN], *approval = NULL, *pem = NULL;
	char line[8192], v[6][600], why[1024], shown[1024], node[200];
	uint8_t sig[REC_SIG_LEN];
	int signed_ok;
	const char *recid, *ref, *cstate, *manifest;
	size_t approval_len = 0, pem_len = 0, manifest_len;
	time_t now = time(NULL);
	struct tm tm;
	int fd = -1, r = 0, rc = 1;

	memset(&E, 0, sizeof(E));
	E.c = c;
	if (c->terminal) {
		fprintf(c->err, "bastion: export writes a tar to standard "
		    "output; run it without a terminal: ssh %s@bastion export "
		    "ID > evidence.tar\n", c->admin);
		return (2);
	}
	if (recreader_header(path, &h) != 0 ||
	    (recid = recfmt_hdr_get(&h, "session")) == NULL ||
	    !recfmt_session_id_valid(recid) ||
	    (ref = recfmt_hdr_get(&h, "ref")) == NULL) {
		fprintf(c->err, "bastion: the recording's header cannot be "
		    "read or names no session (run `verify` on it)\n");
		recfmt_hdr_clear(&h);
		return (1);
	}
	audverb_pubkey(c, pubpath, sizeof(pubpath));
	if ((r = auditlog_path_for(c->pol->state_dir, chain,
	    sizeof(chain))) != 0 || (r = export_audit(&E, chain, ref,
	    recid)) != 0) {
		fprintf(c->err, "bastion: the audit chain %s cannot be read "
		    "for this session (%s); tell the hospital's IT "
		    "administrator\n",
		    chain, berr_str(r));
		goto out;
	}
	E.elsewhere = audstore_elsewhere(c->st, c->pol->store_node, path,
	    &E.other);
	if (export_approval(&E, &h, ref, &approval, &approval_len) != 0)
		fprintf(c->err, "bastion: note: the state store could not be "
		    "read; approval.json lists no requests or grants\n");
	if ((r = reckey_load_public(pubpath, &pub)) != 0 ||
	    (r = reckey_public_pem(pub, &pem)) != 0) {
		fprintf(c->err, "bastion: the recorder's public key %s cannot "
		    "be read (%s)\n", pubpath, berr_str(r));
		goto out;
	}
	pem_len = strlen(pem);
	reckey_fingerprint(pub, fp);
	/* the state of the whole chain now */
	if (E.audit_len == 0 && access(chain, F_OK) != 0)
		cstate = "absent";
	else
		switch (auditlog_verify_file(chain, &cv)) {
		case AUDITLOG_OK:
			cstate = "intact";
			break;
		case AUDITLOG_ALTERED:
			cstate = "ALTERED";
			break;
		case AUDITLOG_TRUNCATED:
			cstate = "torn";
			break;
		default:
			cstate = "unreadable";
		}
	if (strcmp(cstate, "absent") == 0)
		memset(&cv, 0, sizeof(cv));
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "-");
	host[sizeof(host) - 1] = '\0';
	log_escape(v[0], sizeof(v[0]), recid);
	log_escape(v[1], sizeof(v[1]), ref);
	log_escape(v[2], sizeof(v[2]), c->admin);
	log_escape(v[3], sizeof(v[3]), host);
	log_escape(v[4], sizeof(v[4]), cv.head[0] ? cv.head : "-");
	log_escape(v[5], sizeof(v[5]), path);
	log_escape(node, sizeof(node), E.other.s.node);
	snprintf(line, sizeof(line), "format=%s recording=%s session=%s "
	    "exported_at=%s exported_by=%s host=%s chain=%s chain_lines=%llu "
	    "chain_head=%s audit_lines=%llu recorder_key=%s source=%s%s%s\n",
	    RECBUNDLE_FORMAT, v[0], v[1], ts, v[2], v[3], cstate,
	    (unsigned long long)cv.lines, v[4],
	    (unsigned long long)E.audit_lines, fp, v[5], E.elsewhere ?
	    " recorded_on=" : "", E.elsewhere ? node : "");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) != 0) {
		fprintf(c->err, "bastion: cannot open the recording: %s\n",
		    strerror(errno));
		goto out;
	}
	/* from here on the tar goes out: errors can only end it */
	if (recbundle_writer_new(recid, export_write_cb, &E, &E.w) != 0 ||
	    recbundle_writer_add(E.w, RECBUNDLE_P_RECORDING, NULL, fd,
	    (uint64_t)st.st_size) != 0 ||
	    recbundle_writer_add(E.w, RECBUNDLE_P_PUBKEY, pem, -1,
	    pem_len) != 0 ||
	    recbundle_writer_add(E.w, RECBUNDLE_P_APPROVAL, approval, -1,
	    approval_len) != 0 ||
	    recbundle_writer_add(E.w, RECBUNDLE_P_AUDIT, E.audit ? E.audit :
	    "", -1, E.audit_len) != 0 ||
	    recbundle_writer_add(E.w, RECBUNDLE_P_EXPORT, line, -1,
	    strlen(line)) != 0)
		goto fail;
	/* the recorder signs the MANIFEST once it has checked it against its
	 * own files (recnotary.h): this process never holds the key */
	manifest = recbundle_writer_manifest(E.w, &manifest_len);
	signed_ok = rec_client_notarize(c->pol->recorder_socket, recid,
	    manifest, manifest_len, E.chain_seq, RECBUNDLE_WAIT_MS +
	    (unsigned)((uint64_t)st.st_size / (RECBUNDLE_READ_MIB_S << 20) *
	    1000), sig, why, sizeof(why)) == 0;
	if (recbundle_writer_finish(E.w, signed_ok ? sig : NULL) != 0 ||
	    fflush(c->out) != 0) {
		E.write_failed = E.write_failed || ferror(c->out);
		goto fail;
	}
	if (!signed_ok) {
		log_error("session %s: export of %s: the recorder did not sign "
		    "the bundle: %s", c->session, recid, why);
		text_clean(shown, sizeof(shown), why);
		fprintf(c->err, "\nbastion: the recorder did not sign this "
		    "bundle (%s): it has no %s and will not verify; tell the "
		    "hospital's IT administrator\n", shown, RECBUNDLE_SIG);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	log_error("session %s: export of %s failed: %s", c->session, recid,
	    E.write_failed ? "the auditor's connection" :
	    recbundle_writer_error(E.w));
	fprintf(c->err, "\nbastion: the export failed part way; the bundle is "
	    "incomplete, run export again\n");
out:
	recbundle_writer_free(E.w);
	if (fd != -1)
		close(fd);
	free(E.audit);
	free(approval);
	free(pem);
	reckey_free(pub);
	recfmt_hdr_clear(&h);
	return (rc);
}

static const struct audverb_one export_one = { export_run };

/*
 * The web console's action (verb.h): the recording the bundle would hold,
 * found as export finds it (audverb_locate: this spool, or another node's
 * from the object store; not yet read, so not yet audited), by its path,
 * size and time; a recording sealed or grown meanwhile is another action.
 * Another node's copy is fetched for this description and again for the
 * export (each deleted after use, audfetch.h): its time is the fetch's, so
 * it is named by its SHA-256 instead, the same both times.
 */
int
cmd_export_describe(struct verb_ctx *c, const struct verb_args *a,
    struct buf *canon, FILE *summary)
{
	struct audfetch held;
	struct stat sb;
	char path[PATH_MAX], size[32], mtime[AUDITLOG_HEX_LEN + 1];
	int opened, rc = 1;

	if (a->argc != 2)
		return (audverb_usage(c));
	opened = audverb_state(c);
	if (audverb_locate(c, a->argv[1], path, sizeof(path), &held) != 0)
		goto out;
	if ((held.fd != -1 ? fstat(held.fd, &sb) : stat(path, &sb)) != 0 ||
	    (held.fd != -1 && recnotary_sha_file(path, mtime) != 0)) {
		fprintf(c->err, "bastion: the recording %s cannot be read: "
		    "%s\n", a->argv[1], strerror(errno));
		goto out;
	}
	snprintf(size, sizeof(size), "%lld", (long long)sb.st_size);
	if (held.fd == -1)
		snprintf(mtime, sizeof(mtime), "%lld", (long long)sb.st_mtime);
	rc = appr_canon_kv(canon, summary, (const char *const []){
	    "verb", "export", "session", a->argv[1], "recording", path,
	    "size", size, held.fd == -1 ? "modified" : "sha256", mtime,
	    NULL }) != 0 ? 1 : 0;
out:
	audfetch_release(&held);
	audverb_state_done(c, opened);
	return (rc);
}

const struct cmd_entry cmd_export_entry = {
	"export", NULL,
	"SESSION > evidence.tar",
	"the evidence bundle, a tar on standard output",
	"(check it with bastion-verify evidence.tar)",
	0,
	VERB_AUDITOR | VERB_OWN_ARGS,
	audverb_exec,
	&export_one
};
