/*
 * auditor.c - the auditor console over ssh (`ssh -A carol@bastion VERB`).
 *
 *   recordings [--engineer N] [--vendor N] [--device N] [--date YYYY-MM-DD]
 *   verify SESSION        bastion-verify with the recorder's public key
 *   replay SESSION        the sanitised text transcript (bastion-replay --text)
 *   export SESSION        the evidence bundle, a tar on stdout
 *                         (`ssh carol@bastion export 17 > evidence.tar`)
 *
 * Recordings are found by walking recordings_dir; each file is read only
 * through the bounded recorder reader (its HEADER frame), never trusted.
 * verify and replay run the same programs an auditor runs offline, from
 * the directory bastiond itself lives in, with no shell in between.
 *
 * export writes, through the bundle writer (recbundle.h), the members
 * docs/AUDIT.md lists ("Evidence bundle"): the recording as it is on disk, the recorder's
 * public key, the approval record from the state store, the session's
 * lines of the audit chain exactly as they are in the chain (so that each
 * still proves itself), export.txt (who exported what, and the state of
 * the whole chain at that moment), a MANIFEST in sha256sum format and
 * MANIFEST.sig, the recorder's signature over it. This process never holds
 * the signing key: it asks bastion-recorder, which signs only once the
 * hashes of the recording, its key and the audit lines agree with its own
 * files (recnotary.h). bastion-verify checks it all offline.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>


#include "approvals.h"
#include "auditlog.h"
#include "auditsess.h"
#include "rec_client.h"
#include "recbundle.h"
#include "recnotary.h"
#include "err.h"
#include "log.h"
#include "recfmt.h"
#include "reckey.h"
#include "recreader.h"
#include "session.h"
#include "state.h"
#include "table.h"
#include "text.h"

struct audit_filter {
	const char *engineer, *vendor, *device, *date, *id;
	FILE *out;
	int matched;
	char found[PATH_MAX];
	/* the `recordings` listing */
	struct table *t;
	int wide;			/* --wide: the recording id too */
	char **live;			/* recordings of live sessions */
	size_t nlive;
	time_t now;
};

/* nftw offers no user pointer */
static struct audit_filter *auditor_walk_filter;

/* Read the HEADER of a recording into h; 0 or BERR_*. */
static int
auditor_header(const char *path, struct rec_hdr *h)
{
	struct recreader *r = NULL;
	struct rec_frame f;
	int err;

	memset(h, 0, sizeof(*h));
	if ((err = recreader_open(path, &r)) != 0)
		return (err);
	if ((err = recreader_magic(r)) == 0 &&
	    (err = recreader_next(r, &f)) == 0) {
		if (f.type != REC_HEADER)
			err = BERR_FORMAT;
		else
			err = recfmt_hdr_decode(f.payload, f.len, h);
	}
	recreader_free(r);
	return (err);
}

static const char *
auditor_get(const struct rec_hdr *h, const char *k)
{
	const char *v = recfmt_hdr_get(h, k);

	return (v != NULL ? v : "-");
}

/* ---- the `recordings` listing ---------------------------------------- */

static const struct table_col auditor_rec_cols[] = {
	{ "SESSION", TABLE_KEEP }, { "START (UTC)", TABLE_KEEP },
	{ "DURATION", TABLE_KEEP }, { "STATUS", TABLE_KEEP },
	{ "ENGINEER", 0 }, { "VENDOR", 0 }, { "DEVICE", 0 },
	{ "FROM", TABLE_KEEP }, { "RECORDING", TABLE_KEEP },
};
#define AUDITOR_REC_NCOLS(wide) \
	(sizeof(auditor_rec_cols) / sizeof(auditor_rec_cols[0]) - !(wide))

/*
 * The SEAL, if the recording ends with one: it is the last frame and its
 * payload names the offset it starts at, so it is found from the file's
 * size without reading the rest (a SEAL frame is 202 bytes plus its
 * reason, RECORDING-FORMAT.md sections 1 and 3). This is a listing, not a
 * verification: `verify` checks the signatures. 1 and the seal's time
 * (microseconds since the start) and status, or 0.
 */
static int
auditor_rec_seal(const char *path, off_t size, uint64_t *time_us,
    uint32_t *status)
{
	struct recreader *r = NULL;
	struct rec_payload pl;
	struct rec_frame f;
	off_t off;
	size_t reason;
	int found = 0;

	if (recreader_open(path, &r) != 0)
		return (0);
	for (reason = 0; reason <= REC_REASON_MAX && !found; reason++) {
		off = size - (off_t)(202 + reason);
		if (off < (off_t)REC_MAGIC_LEN)
			break;
		if (recreader_seek(r, (uint64_t)off) != 0 ||
		    recreader_next(r, &f) != 0 || f.type != REC_SEAL ||
		    recfmt_payload_decode(f.type, f.payload, f.len, &pl) != 0 ||
		    pl.offset != (uint64_t)off)
			continue;
		*time_us = f.time_us;
		*status = pl.status;
		found = 1;
	}
	recreader_free(r);
	return (found);
}

/* "1:02:03" */
static void
auditor_duration(long long secs, char *out, size_t len)
{
	if (secs < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%lld:%02lld:%02lld", secs / 3600,
		    secs / 60 % 60, secs % 60);
}

/* The header's start ("2026-11-05T14:05:01.123456Z") as a time_t. */
static time_t
auditor_start_time(const char *iso)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return (0);
	return (timegm(&tm));
}

static int
auditor_live_path(const struct state_session *s, void *arg)
{
	struct audit_filter *F = arg;
	char **nl;

	if (s->recording[0] == '\0' || F->nlive >= 4096 ||
	    (nl = realloc(F->live, (F->nlive + 1) * sizeof(*nl))) == NULL)
		return (0);
	F->live = nl;
	if ((F->live[F->nlive] = strdup(s->recording)) != NULL)
		F->nlive++;
	return (0);
}

/* Which recordings belong to live sessions (the state store knows; if it
 * cannot be read, an unsealed recording is shown as "unsealed"). */
static void
auditor_live_load(struct sess *S, struct audit_filter *F)
{
	struct state *st = NULL;

	if (state_open(S->pol->state_dir, &st) != 0)
		return;
	(void)state_session_each(st, 0, 0, auditor_live_path, F);
	state_close(st);
}

static void
auditor_live_free(struct audit_filter *F)
{
	size_t i;

	for (i = 0; i < F->nlive; i++)
		free(F->live[i]);
	free(F->live);
	F->live = NULL;
	F->nlive = 0;
}

/* One row of the listing for the recording at path. The header fields
 * are cleaned for the auditor's terminal by the table (text.h): the
 * worker stated most of them, and the reader's check that they are clean
 * text is not relied on. */
static void
auditor_rec_row(struct audit_filter *F, const char *path,
    const struct stat *sb, const struct rec_hdr *h)
{
	char start[32], dur[32], from[96], *colon;
	const char *iso = auditor_get(h, "start"), *status;
	time_t t0 = auditor_start_time(iso);
	long long secs = -1;
	uint64_t us;
	uint32_t end;
	size_t i;

	/* "2026-11-05T14:05:01.123456Z" -> "2026-11-05 14:05:01" */
	snprintf(start, sizeof(start), "%.10s %.8s", iso, strlen(iso) > 11 ?
	    iso + 11 : "");
	if (auditor_rec_seal(path, sb->st_size, &us, &end)) {
		status = end == REC_END_NORMAL ? "sealed" : "abnormal";
		secs = (long long)(us / 1000000);
	} else {
		status = "unsealed";
		for (i = 0; i < F->nlive; i++)
			if (strcmp(F->live[i], path) == 0)
				status = "live";
		if (t0 != 0)
			secs = (long long)((strcmp(status, "live") == 0 ?
			    F->now : sb->st_mtime) - t0);
		if (secs < 0)
			secs = 0;
	}
	auditor_duration(secs, dur, sizeof(dur));
	/* the address without its port: the column stays narrow */
	snprintf(from, sizeof(from), "%s", auditor_get(h, "source"));
	if ((colon = strrchr(from, ':')) != NULL && colon != from &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1))
		*colon = '\0';
	(void)table_add(F->t, (const char *[]){ auditor_get(h, "ref"), start,
	    dur, status, auditor_get(h, "engineer"), auditor_get(h, "vendor"),
	    auditor_get(h, "device"), from, auditor_get(h, "session") });
}

static int
auditor_visit(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	struct audit_filter *F = auditor_walk_filter;
	struct rec_hdr h;
	size_t n = strlen(path);

	(void)ftw;
	if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".brec") != 0)
		return (0);
	if (auditor_header(path, &h) != 0)
		return (0);
	if ((F->id && strcmp(auditor_get(&h, "session"), F->id) != 0 &&
	    strcmp(auditor_get(&h, "ref"), F->id) != 0) ||
	    (F->engineer && strcmp(auditor_get(&h, "engineer"),
	    F->engineer) != 0) ||
	    (F->vendor && strcmp(auditor_get(&h, "vendor"), F->vendor) != 0) ||
	    (F->device && strcmp(auditor_get(&h, "device"), F->device) != 0) ||
	    (F->date && strncmp(auditor_get(&h, "start"), F->date,
	    strlen(F->date)) != 0)) {
		recfmt_hdr_clear(&h);
		return (0);
	}
	F->matched++;
	if (F->id != NULL)
		snprintf(F->found, sizeof(F->found), "%s", path);
	else if (F->t != NULL)
		auditor_rec_row(F, path, sb, &h);
	recfmt_hdr_clear(&h);
	return (0);
}

static int
auditor_walk(struct sess *S, struct audit_filter *F)
{
	auditor_walk_filter = F;
	if (nftw(S->pol->recordings_dir, auditor_visit, 16, FTW_PHYS) != 0 &&
	    errno != ENOENT)
		return (BERR_SYS);
	return (0);
}

/* Run bin (beside bastiond) with args and send its output to the
 * auditor; returns its exit status (or 3). */
static int
auditor_exec(struct sess *S, const char *prog, char *const extra[])
{
	char self[PATH_MAX], bin[PATH_MAX + 32], buf[16384], *slash;
	char *argv[8];
	int pfd[2], st, n = 0, i;
	ssize_t k;
	pid_t pid;

	if ((k = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return (3);
	self[k] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, sizeof(bin), "%s/%s", self, prog);
	argv[n++] = bin;
	for (i = 0; extra[i] != NULL && n < 7; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return (3);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return (3);
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(bin, argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((k = read(pfd[0], buf, sizeof(buf))) > 0)
		(void)sess_write(S, 0, buf, (size_t)k);
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return (3);
	return (WEXITSTATUS(st));
}

/* ---- export: the evidence bundle --------------------------------------- */

/* What export gathers before it writes anything. */
struct export {
	struct sess *S;
	struct recbundle_writer *w;
	char *audit;			/* the session's chain lines */
	size_t audit_len;
	uint64_t audit_lines;
	uint64_t chain_seq;		/* the last chain seq read */
	char requests[AUDITLOG_SEL_IDS][32], grants[AUDITLOG_SEL_IDS][32];
	size_t nrequests, ngrants;
	char rule[32];			/* how the session was let in */
	int write_failed;
};

static int
export_write_cb(void *arg, const void *buf, size_t len)
{
	struct export *E = arg;
	int n;

	if ((n = sess_write(E->S, 0, buf, len)) < 0 ||
	    (size_t)n != len) {
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
		if (auditlog_field(l.body, l.bodylen, "request", v,
		    sizeof(v)) == 0)
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
	fprintf(f, "{\"id\":%lld,\"request\":%lld,\"engineer\":",
	    (long long)g->id, (long long)g->request_id);
	text_json(f, g->engineer);
	fputs(",\"device\":", f);
	text_json(f, g->device);
	fprintf(f, ",\"created\":%lld,\"until\":%lld,\"revoked\":%s,"
	    "\"revoked_by\":", (long long)g->created, (long long)g->until,
	    g->revoked ? "true" : "false");
	text_json(f, g->revoked_by);
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
	FILE *f;
	size_t i;
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
	text_json(f, E->rule[0] != '\0' ? E->rule :
	    E->audit_lines > 0 ? "not required" : "unknown");
	if (state_open(E->S->pol->state_dir, &st) != 0)
		rc = BERR_SYS;
	/* grants name their requests: take those too */
	for (i = 0; st != NULL && i < E->ngrants; i++) {
		char rid[32];

		if (state_grant_get(st, strtoll(E->grants[i], NULL, 10), &g,
		    &found) == 0 && found) {
			snprintf(rid, sizeof(rid), "%lld",
			    (long long)g.request_id);
			export_id(E->requests, &E->nrequests, rid);
		}
	}
	fputs(",\"requests\":[", f);
	for (i = 0; st != NULL && i < E->nrequests; i++)
		if (state_request_get(st, strtoll(E->requests[i], NULL, 10),
		    &r, &found) == 0 && found) {
			if (i > 0)
				fputc(',', f);
			appr_request_json(f, &r);
		}
	fputs("],\"grants\":[", f);
	for (i = 0; st != NULL && i < E->ngrants; i++)
		if (state_grant_get(st, strtoll(E->grants[i], NULL, 10), &g,
		    &found) == 0 && found) {
			if (i > 0)
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
auditor_export(struct sess *S, const char *path)
{
	struct export E;
	struct rec_hdr h;
	struct reckey *pub = NULL;
	struct auditlog_verify cv;
	struct stat st;
	char chain[4096], pubpath[PATH_MAX + 32], host[256];
	char ts[64], fp[RECKEY_FP_LEN], *approval = NULL, *pem = NULL;
	char line[8192], v[6][600], why[1024], shown[1024];
	uint8_t sig[REC_SIG_LEN];
	int signed_ok;
	const char *recid, *ref, *cstate, *manifest;
	size_t approval_len = 0, pem_len = 0, manifest_len;
	time_t now = time(NULL);
	struct tm tm;
	int fd = -1, r = 0, rc = 1;

	memset(&E, 0, sizeof(E));
	E.S = S;
	if (S->has_pty) {
		sess_tell(S, "bastion: export writes a tar to standard output; "
		    "run it without a terminal: ssh %s@bastion export ID > "
		    "evidence.tar\n", S->au.who->name);
		return (2);
	}
	if (auditor_header(path, &h) != 0 ||
	    (recid = recfmt_hdr_get(&h, "session")) == NULL ||
	    !recfmt_session_id_valid(recid) ||
	    (ref = recfmt_hdr_get(&h, "ref")) == NULL) {
		sess_tell(S, "bastion: the recording's header cannot be read "
		    "or names no session (run `verify` on it)\n");
		recfmt_hdr_clear(&h);
		return (1);
	}
	snprintf(pubpath, sizeof(pubpath), "%s/recorder.key.pub",
	    S->pol->state_dir);
	if ((r = auditlog_path_for(S->pol->state_dir, chain,
	    sizeof(chain))) != 0 || (r = export_audit(&E, chain, ref,
	    recid)) != 0) {
		sess_tell(S, "bastion: the audit chain %s cannot be read for "
		    "this session (%s); tell the hospital's IT administrator\n",
		    chain, berr_str(r));
		goto out;
	}
	if (export_approval(&E, &h, ref, &approval, &approval_len) != 0)
		sess_tell(S, "bastion: note: the state store could not be "
		    "read; approval.json lists no requests or grants\n");
	if ((r = reckey_load_public(pubpath, &pub)) != 0 ||
	    (r = reckey_public_pem(pub, &pem)) != 0) {
		sess_tell(S, "bastion: the recorder's public key %s cannot be "
		    "read (%s)\n", pubpath, berr_str(r));
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
	log_escape(v[2], sizeof(v[2]), S->au.who->name);
	log_escape(v[3], sizeof(v[3]), host);
	log_escape(v[4], sizeof(v[4]), cv.head[0] ? cv.head : "-");
	log_escape(v[5], sizeof(v[5]), path);
	snprintf(line, sizeof(line), "format=%s recording=%s session=%s "
	    "exported_at=%s exported_by=%s host=%s chain=%s chain_lines=%llu "
	    "chain_head=%s audit_lines=%llu recorder_key=%s source=%s\n",
	    RECBUNDLE_FORMAT, v[0], v[1], ts, v[2], v[3], cstate,
	    (unsigned long long)cv.lines, v[4],
	    (unsigned long long)E.audit_lines, fp, v[5]);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) != 0) {
		sess_tell(S, "bastion: cannot open the recording: %s\n",
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
	signed_ok = rec_client_notarize(S->pol->recorder_socket, recid,
	    manifest, manifest_len, E.chain_seq, RECBUNDLE_WAIT_MS +
	    (unsigned)((uint64_t)st.st_size / (RECBUNDLE_READ_MIB_S << 20) *
	    1000), sig, why, sizeof(why)) == 0;
	if (recbundle_writer_finish(E.w, signed_ok ? sig : NULL) != 0)
		goto fail;
	if (!signed_ok) {
		log_error("session %s: export of %s: the recorder did not sign "
		    "the bundle: %s", S->sid, recid, why);
		text_clean(shown, sizeof(shown), why);
		sess_tell(S, "\nbastion: the recorder did not sign this bundle "
		    "(%s): it has no %s and will not verify; tell the "
		    "hospital's IT administrator\n", shown, RECBUNDLE_SIG);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	log_error("session %s: export of %s failed: %s", S->sid, recid,
	    E.write_failed ? "the auditor's connection" :
	    recbundle_writer_error(E.w));
	sess_tell(S, "\nbastion: the export failed part way; the bundle is "
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

int
auditor_run(struct sess *S)
{
	struct audit_filter F;
	char *words[16], *cmd = NULL, *save = NULL, *w;
	char pub[PATH_MAX + 32], chain[PATH_MAX + 32];
	int nw = 0, rc = 2, i;

	memset(&F, 0, sizeof(F));
	if (S->kind == SESS_EXEC && S->command != NULL &&
	    (cmd = strdup(S->command)) != NULL)
		for (w = strtok_r(cmd, " \t", &save); w != NULL && nw < 16;
		    w = strtok_r(NULL, " \t", &save))
			words[nw++] = w;
	if (nw == 0)
		goto usage;
	snprintf(pub, sizeof(pub), "%s/recorder.key.pub", S->pol->state_dir);
	if (strcmp(words[0], "recordings") == 0) {
		for (i = 1; i < nw; i += 2) {
			if (strcmp(words[i], "--wide") == 0) {
				F.wide = 1;
				i--;
				continue;
			}
			if (i + 1 >= nw)
				goto usage;
			if (strcmp(words[i], "--engineer") == 0)
				F.engineer = words[i + 1];
			else if (strcmp(words[i], "--vendor") == 0)
				F.vendor = words[i + 1];
			else if (strcmp(words[i], "--device") == 0)
				F.device = words[i + 1];
			else if (strcmp(words[i], "--date") == 0)
				F.date = words[i + 1];
			else
				goto usage;
		}
		{
			char *text = NULL;
			size_t len = 0;

			if ((F.out = open_memstream(&text, &len)) == NULL ||
			    (F.t = table_new(auditor_rec_cols,
			    AUDITOR_REC_NCOLS(F.wide))) == NULL) {
				if (F.out != NULL)
					fclose(F.out);
				free(text);
				sess_tell(S, "bastion: out of memory\n");
				rc = 1;
				goto out;
			}
			F.now = time(NULL);
			auditor_live_load(S, &F);
			rc = auditor_walk(S, &F) == 0 ? 0 : 1;
			/* newest first (nftw visits in directory order): by
			 * start, and by session number within a second (the
			 * sort is stable) */
			table_sort(F.t, 0, TABLE_DESC | TABLE_NUM);
			table_sort(F.t, 1, TABLE_DESC);
			if (table_rows(F.t) == 0)
				fprintf(F.out, "no recordings%s\n",
				    F.engineer || F.vendor || F.device ||
				    F.date ? " match" : "");
			else
				(void)table_print(F.t, F.out, NULL, F.wide ?
				    0 : TABLE_WIDTH);
			table_free(F.t);
			F.t = NULL;
			auditor_live_free(&F);
			fclose(F.out);
			(void)sess_write(S, 0, text, len);
			free(text);
		}
	} else if ((strcmp(words[0], "verify") == 0 ||
	    strcmp(words[0], "replay") == 0 ||
	    strcmp(words[0], "export") == 0) && nw == 2) {
		F.id = words[1];
		if (auditor_walk(S, &F) != 0 || F.matched != 1) {
			sess_tell(S, "bastion: no recording %s (see "
			    "`recordings`)\n", words[1]);
			rc = 1;
			goto out;
		}
		/* reading a recording is itself audited first: no chain
		 * line, no replay or export (docs/AUDIT.md) */
		if (audit_event("recording.access", "session", S->sid, "user",
		    S->au.who->name, "role", "auditor", "verb", words[0],
		    "recording", words[1], NULL) != 0) {
			sess_tell(S, "bastion: the audit log cannot be written, "
			    "so %s is refused; see the bastion's log\n",
			    words[0]);
			rc = 1;
			goto out;
		}
		if (strcmp(words[0], "export") == 0)
			rc = auditor_export(S, F.found);
		else if (strcmp(words[0], "verify") == 0)
			rc = auditor_exec(S, "bastion-verify", (char *[]){
			    "-k", pub, F.found, NULL });
		else if (auditlog_path_for(S->pol->state_dir, chain,
		    sizeof(chain)) == 0)
			/* the header says how the session was let in, from
			 * the audit chain (the recording's own field cannot) */
			rc = auditor_exec(S, "bastion-replay", (char *[]){
			    "--text", "-k", pub, "--audit", chain, F.found,
			    NULL });
		else
			rc = auditor_exec(S, "bastion-replay", (char *[]){
			    "--text", "-k", pub, F.found, NULL });
	} else
		goto usage;
	audit_event("console.verb", "session", S->sid, "user",
	    S->au.who->name, "role", "auditor", "from", S->peerstr, "verb",
	    words[0], "recording", F.id, "status", rc == 0 ? "ok" : "fail",
	    NULL);
	goto out;
usage:
	sess_tell(S, "bastion: auditor console: ssh %s@bastion VERB\n"
	    "  recordings [--engineer N] [--vendor N] [--device N] "
	    "[--date YYYY-MM-DD] [--wide]\n"
	    "  verify SESSION\n"
	    "  replay SESSION\n"
	    "  export SESSION > evidence.tar   (check it with bastion-verify "
	    "evidence.tar)\n", S->au.who->name);
	rc = 2;
out:
	free(cmd);
	return (rc);
}
