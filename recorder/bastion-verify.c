/*
 * bastion-verify.c - prove bastion evidence offline: a session recording
 * (with the recorder's public key), the hash-chained audit log, or an
 * evidence bundle exported by the auditor console. An auditor's laptop
 * needs nothing else and talks to no network.
 *
 *   bastion-verify -k PUBKEY RECORDING     (RECORDING "-": standard input)
 *   bastion-verify --audit AUDITLOG [--webauthn]
 *   bastion-verify [-k PUBKEY | --fingerprint FP] BUNDLE.tar
 *   bastion-verify --cluster CHECKPOINTS -k NODE=AUDIT.key.pub ...
 *       [--chain NODE=AUDIT.log ...]
 *
 * Without --audit or --bundle the kind of file is told from its content:
 * a tar is a bundle, "seq=" starts an audit log, anything else is a
 * recording. --webauthn also re-verifies every WebAuthn assertion the web
 * console accepted, and the decision each authorised, from the chain
 * alone (webverify.h; docs/AUDIT.md, "WebAuthn proof"). --cluster checks
 * the signed checkpoints of a group of nodes (`bastionctl checkpoints
 * --export`) with each node's audit key, against each other and against
 * the nodes' chains given (ckptverify.h; docs/AUDIT.md section 10).
 *
 * Exit status, the same for all three (docs/RECORDING-FORMAT.md,
 * "Verification"; docs/AUDIT.md; docs/man/bastion-verify.1):
 *   0  intact (a recording: and sealed)
 *   1  altered: names the first bad frame, line or member and why
 *   2  incomplete but consistent: a recording that was never sealed, or an
 *      audit log whose last line was torn; everything before it verifies
 *   3  usage or I/O error
 *   4  a bundle checked without -k or --fingerprint: consistent with the
 *      key it carries itself, which proves nothing until that key is
 *      compared with the hospital's (said on stderr, -q or not)
 *
 * A bundle's MANIFEST must carry the recorder's signature (MANIFEST.sig,
 * recbundle.h), and its recording must be the one the recorder's own
 * recording.sealed line in audit.log describes (frames and chain head), so
 * a recording cut back to a checkpoint is altered, not "never sealed".
 *
 * Everything printed from the evidence goes through text_clean_buf()
 * (text.h, with TEXT_ESCAPE: the bytes that were there are shown), so a
 * hostile file cannot put escape sequences on the auditor's terminal. A
 * bundle is untrusted input: libarchive reads it, and every member's
 * name, type, count and size is checked against fixed bounds before any
 * of its bytes are kept.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "auditlog.h"
#include "events.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "prog.h"
#include "recbundle.h"
#include "recfmt.h"
#include "reckey.h"
#include "ckptverify.h"
#include "recverify.h"
#include "text.h"
#include "webverify.h"

#define EXIT_OK		0
#define EXIT_ALTERED	1
#define EXIT_INCOMPLETE	2
#define EXIT_USAGE	3
#define EXIT_UNVERIFIED	4

static int quiet;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastion-verify -k PUBKEY RECORDING   (\"-\" reads stdin)\n"
	    "       bastion-verify --audit AUDITLOG [--webauthn]\n"
	    "       bastion-verify [-k PUBKEY | --fingerprint FP] BUNDLE.tar\n"
	    "       bastion-verify --cluster CHECKPOINTS -k NODE=AUDIT.key.pub "
	    "... \\\n"
	    "           [--chain NODE=AUDIT.log ...]\n"
	    "  -k PUBKEY           the recorder's public key (PEM, from "
	    "bastion-recorder --init)\n"
	    "  -a, --audit         FILE is the hash-chained audit log\n"
	    "  -w, --webauthn      with --audit: re-verify the web console's "
	    "WebAuthn\n"
	    "                      assertions and the decisions they "
	    "authorised\n"
	    "  -b, --bundle        FILE is an evidence bundle (the console's "
	    "export)\n"
	    "  -F, --fingerprint FP  the recorder key a bundle must be signed "
	    "with (SHA256:...)\n"
	    "  -c, --cluster       FILE is an export of audit checkpoints; -k "
	    "NODE=FILE\n"
	    "                      for each node's audit key (once per node)\n"
	    "  -C, --chain NODE=FILE  with --cluster: check that node's audit "
	    "chain too\n"
	    "  -q                  no summary, exit status only (an unverified "
	    "key is\n"
	    "                      still said on stderr)\n"
	    "exit: 0 intact, 1 altered, 2 not sealed / torn last line, "
	    "3 usage or I/O error,\n"
	    "      4 a bundle consistent with the key it carries, which was "
	    "not verified\n"
	    "      (give -k or --fingerprint)\n");
}

/* Untrusted text made safe to print. */
static const char *
vis(const char *s, char *out, size_t outlen)
{
	text_clean_buf(out, outlen, s, strlen(s), TEXT_ESCAPE | TEXT_ELLIPSIS);
	return (out);
}

/* ---- recordings -------------------------------------------------------- */

/* A header field made safe to print. */
static const char *
field(const struct recverify_report *rep, const char *key, char *out,
    size_t outlen)
{
	const char *v = recfmt_hdr_get(&rep->hdr, key);

	return (vis(v != NULL ? v : "-", out, outlen));
}

static void
summary(const struct recverify_report *rep, const char *state)
{
	char sid[128], eng[128], dev[128], start[64], dur[32];

	recfmt_fmt_duration(rep->duration_us, dur, sizeof(dur));
	printf("%s: session %s engineer %s device %s start %s duration %s "
	    "frames %llu bytes %llu (out %llu in %llu fwd %llu)\n", state,
	    field(rep, "session", sid, sizeof(sid)),
	    field(rep, "engineer", eng, sizeof(eng)),
	    field(rep, "device", dev, sizeof(dev)),
	    field(rep, "start", start, sizeof(start)), dur,
	    (unsigned long long)rep->frames,
	    (unsigned long long)rep->file_bytes,
	    (unsigned long long)rep->out_bytes,
	    (unsigned long long)rep->in_bytes,
	    (unsigned long long)rep->fwd_bytes);
	if (rep->version == 2)
		printf("encrypted: format 2, the file key wrapped to %zu "
		    "recipient(s), %zu signed rewrap(s); checked without "
		    "any secret key\n", rep->recipients, rep->rewraps);
}

/* Say what recverify found; returns the exit status. what names the file
 * in messages. */
static int
report_recording(int v, struct recverify_report *rep, const char *what)
{
	char reason[400];

	switch (v) {
	case RECVERIFY_OK:
		if (!quiet) {
			summary(rep, "sealed");
			if (rep->end_status != REC_END_NORMAL)
				printf("note: the session ended abnormally: "
				    "%s\n", rep->end_reason);
		}
		return (EXIT_OK);
	case RECVERIFY_UNSEALED:
		if (quiet)
			return (EXIT_INCOMPLETE);
		summary(rep, "NOT SEALED");
		if (rep->verified > 0)
			printf("frames 0..%llu verify (signed by checkpoint "
			    "seq %llu); the %llu frame(s) after it are NOT "
			    "verified: the recorder stopped without sealing "
			    "(crash?) or the file was cut\n",
			    (unsigned long long)rep->verified - 1,
			    (unsigned long long)rep->last_signed_seq,
			    (unsigned long long)rep->unverified);
		else
			printf("no checkpoint: none of the %llu frame(s) is "
			    "verified\n", (unsigned long long)rep->unverified);
		return (EXIT_INCOMPLETE);
	case RECVERIFY_ALTERED:
		vis(rep->why, reason, sizeof(reason));
		if (rep->bad_frame)
			fprintf(stderr, "bastion-verify: %s: ALTERED: frame "
			    "seq %llu at offset %llu: %s\n", what,
			    (unsigned long long)rep->bad_seq,
			    (unsigned long long)rep->bad_offset, reason);
		else
			fprintf(stderr, "bastion-verify: %s: ALTERED: offset "
			    "%llu: %s\n", what,
			    (unsigned long long)rep->bad_offset, reason);
		if (rep->verified > 0)
			fprintf(stderr, "bastion-verify: frames 0..%llu before "
			    "it do verify (checkpoint seq %llu)\n",
			    (unsigned long long)rep->verified - 1,
			    (unsigned long long)rep->last_signed_seq);
		return (EXIT_ALTERED);
	default:
		fprintf(stderr, "bastion-verify: %s: cannot read: %s\n", what,
		    rep->why);
		return (EXIT_USAGE);
	}
}

static int
verify_recording(const char *file, const char *vfile, const char *keyfile)
{
	struct recverify_report rep;
	struct reckey *pub = NULL;
	int r, v;

	if (keyfile == NULL) {
		fprintf(stderr, "bastion-verify: %s looks like a recording: "
		    "give the recorder's public key with -k PUBKEY (or "
		    "--audit / --bundle if it is not a recording)\n", vfile);
		return (EXIT_USAGE);
	}
	if ((r = reckey_load_public(keyfile, &pub)) != 0) {
		fprintf(stderr, "bastion-verify: cannot load public key %s: "
		    "%s\n", keyfile, berr_str(r));
		return (EXIT_USAGE);
	}
	if (strcmp(file, "-") == 0)	/* e.g. zstd -dc X.brec.zst | */
		v = recverify_fp(stdin, pub, &rep);
	else
		v = recverify_file(file, pub, &rep);
	v = report_recording(v, &rep, vfile);
	recverify_report_clear(&rep);
	reckey_free(pub);
	return (v);
}

/* ---- the audit log ----------------------------------------------------- */

static int
verify_audit(const char *file, const char *vfile)
{
	struct auditlog_verify v;
	char why[300];
	FILE *fp;

	if (strcmp(file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(file, "re")) == NULL) {
		fprintf(stderr, "bastion-verify: cannot open %s: %s\n", vfile,
		    strerror(errno));
		return (EXIT_USAGE);
	}
	auditlog_verify_fp(fp, &v);
	if (fp != stdin)
		fclose(fp);
	vis(v.why, why, sizeof(why));
	switch (v.verdict) {
	case AUDITLOG_OK:
		if (quiet)
			return (EXIT_OK);
		if (v.lines == 0)
			printf("intact: %s is empty (a new chain)\n", vfile);
		else
			printf("intact: %llu lines, seq 1..%llu, head %s\n",
			    (unsigned long long)v.lines,
			    (unsigned long long)v.last_seq, v.head);
		if (v.torn > 0)
			printf("note: %llu write(s) torn by a crash were "
			    "sealed by %s lines (their bytes are kept and "
			    "their hashes recorded)\n",
			    (unsigned long long)v.torn, AUDITLOG_TORN_EVENT);
		printf("compare the head with the latest chain=SEQ:HASH in "
		    "the journal: a file cut short or rewritten from some "
		    "line on verifies by itself, but not against that "
		    "witness\n");
		return (EXIT_OK);
	case AUDITLOG_TRUNCATED:
		if (!quiet)
			printf("TORN: %s: line %llu: %s (lines 1..%llu, seq "
			    "1..%llu, verify; head %s)\n", vfile,
			    (unsigned long long)v.bad_line, why,
			    (unsigned long long)v.lines,
			    (unsigned long long)v.last_seq,
			    v.head[0] != '\0' ? v.head : "-");
		return (EXIT_INCOMPLETE);
	case AUDITLOG_ALTERED:
		fprintf(stderr, "bastion-verify: %s: ALTERED: line %llu: %s\n",
		    vfile, (unsigned long long)v.bad_line, why);
		if (v.lines > 0)
			fprintf(stderr, "bastion-verify: lines 1..%llu before "
			    "it verify (seq 1..%llu)\n",
			    (unsigned long long)v.lines,
			    (unsigned long long)v.last_seq);
		return (EXIT_ALTERED);
	default:
		fprintf(stderr, "bastion-verify: %s: cannot read: %s\n", vfile,
		    why);
		return (EXIT_USAGE);
	}
}

/* ---- the web console's assertions (--webauthn) ------------------------ */

static void
webauthn_item(const struct webverify_item *it, void *arg)
{
	const char *vfile = arg;
	char who[200], verb[80], target[300], why[700], dec[120];

	vis(it->person[0] != '\0' ? it->person : "-", who, sizeof(who));
	vis(it->verb, verb, sizeof(verb));
	vis(it->target, target, sizeof(target));
	vis(it->why, why, sizeof(why));
	if (it->decision_seq != 0)
		snprintf(dec, sizeof(dec), "%s seq %llu", it->decision,
		    (unsigned long long)it->decision_seq);
	else
		snprintf(dec, sizeof(dec), "none");
	if (it->orphan)
		fprintf(stderr, "bastion-verify: %s: WEBAUTHN FAILED: seq %llu "
		    "(by %s): %s\n", vfile, (unsigned long long)it->seq, who,
		    why);
	else if (!it->ok)
		fprintf(stderr, "bastion-verify: %s: WEBAUTHN FAILED: "
		    "web.assertion seq %llu: %s %s %s (challenge %.16s..., "
		    "decision %s): %s\n", vfile, (unsigned long long)it->seq,
		    who, verb, target, it->challenge, dec, why);
	else if (!quiet)
		printf("webauthn ok: seq %llu: %s %s %s, counter %u, challenge "
		    "%.16s..., decision %s%s%s\n", (unsigned long long)it->seq,
		    who, verb, target, it->counter, it->challenge, dec,
		    it->decision_seq == 0 ? ": " : "",
		    it->decision_seq == 0 ? why : "");
}

/* Walk the chain (already checked by verify_audit) for --webauthn. */
static int
verify_webauthn(const char *file, const char *vfile)
{
	struct webverify_summary s;
	FILE *fp;
	int r;

	if ((fp = fopen(file, "re")) == NULL) {
		fprintf(stderr, "bastion-verify: cannot open %s: %s\n", vfile,
		    strerror(errno));
		return (EXIT_USAGE);
	}
	r = webverify_fp(fp, webauthn_item, (void *)vfile, &s);
	fclose(fp);
	if (r != 0) {
		fprintf(stderr, "bastion-verify: %s: cannot walk the chain for "
		    "WebAuthn: %s\n", vfile, berr_str(r));
		return (EXIT_USAGE);
	}
	if (!quiet)
		printf("webauthn: %llu accepted assertion(s): %llu verify "
		    "(%llu with their decision); %llu failure(s); %llu "
		    "enrolment(s); %llu not accepted (nothing ran)\n",
		    (unsigned long long)s.assertions,
		    (unsigned long long)s.verified,
		    (unsigned long long)s.decided,
		    (unsigned long long)s.failed,
		    (unsigned long long)s.enrolled,
		    (unsigned long long)s.not_accepted);
	return (s.failed > 0 ? EXIT_ALTERED : EXIT_OK);
}

/* ---- evidence bundles -------------------------------------------------- */

/* The recorder's public key from the bundle (through a private temporary
 * file: reckey reads PEM files). */
static int
bundle_pubkey(struct recbundle *b, struct reckey **out)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	int fd, r;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/bastion-verify.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((fd = mkstemp(path)) == -1) {
		fprintf(stderr, "bastion-verify: cannot create a temporary "
		    "file in %s: %s (set TMPDIR)\n", tmp ? tmp : "/tmp",
		    strerror(errno));
		return (EXIT_USAGE);
	}
	r = write(fd, b->m[RECBUNDLE_P_PUBKEY].data, b->m[RECBUNDLE_P_PUBKEY].len) ==
	    (ssize_t)b->m[RECBUNDLE_P_PUBKEY].len ? 0 : BERR_SYS;
	close(fd);
	if (r == 0)
		r = reckey_load_public(path, out);
	unlink(path);
	if (r != 0)
		return (recbundle_altered(b, "%s is not an Ed25519 public key "
		    "(PEM): %s", RECBUNDLE_PUBKEY, berr_str(r)));
	return (EXIT_OK);
}

/* What the recorder's recording.sealed line says of the sealed file. */
struct witness {
	int seen;
	uint64_t lineno, seq, frames;
	char head[AUDITLOG_HEX_LEN + 1];
};

/*
 * The recording against the recorder's own witness: a recording.sealed
 * line in audit.log for this recording (session=RECORDING-ID, appended by
 * the recorder once the seal was synced) gives the frame count and the
 * chain head of the sealed file. The recording must then be sealed, with
 * exactly that many frames and that head: a copy cut back at a checkpoint
 * verifies up to it by itself (exit 2, "never sealed") but not against
 * this. The lines' hashes were checked before (bundle_check_audit).
 */
static int
bundle_check_witness(struct recbundle *b, const char *recid,
    const struct recverify_report *rep, int v, struct witness *w)
{
	const char *d = (const char *)b->m[RECBUNDLE_P_AUDIT].data, *end, *p, *nl;
	struct auditlog_line l;
	char sid[REC_SESSION_ID_MAX + 1], frames[32], head[96];
	char have[2 * REC_HASH_LEN + 1];
	uint64_t lineno, n;
	char *e;

	memset(w, 0, sizeof(*w));
	hex_encode(rep->head, REC_HASH_LEN, have);
	end = d + b->m[RECBUNDLE_P_AUDIT].len;
	for (p = d, lineno = 1; p < end; p = nl + 1, lineno++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (auditlog_line_parse(p, (size_t)(nl - p), &l) != 0 ||
		    bev_role(auditlog_event(l.body, l.bodylen)) !=
		    BEV_ROLE_SEALED ||
		    auditlog_field(l.body, l.bodylen, "session", sid,
		    sizeof(sid)) != 0 || strcmp(sid, recid) != 0)
			continue;
		errno = 0;
		if (auditlog_field(l.body, l.bodylen, "frames", frames,
		    sizeof(frames)) != 0 || auditlog_field(l.body, l.bodylen,
		    "head", head, sizeof(head)) != 0 ||
		    strlen(head) != AUDITLOG_HEX_LEN || frames[0] < '0' ||
		    frames[0] > '9' || (n = strtoull(frames, &e, 10), *e) ||
		    errno != 0)
			return (recbundle_altered(b, "%s line %llu (seq %llu): a "
			    "recording.sealed line without a frame count and "
			    "head", RECBUNDLE_AUDIT,
			    (unsigned long long)lineno,
			    (unsigned long long)l.seq));
		w->seen = 1;
		w->lineno = lineno;
		w->seq = l.seq;
		w->frames = n;
		snprintf(w->head, sizeof(w->head), "%s", head);
		if (v != RECVERIFY_OK)
			return (recbundle_altered(b, "the recording was cut short: "
			    "%s line %llu (seq %llu) is the recorder's own record "
			    "that it sealed this recording with %llu frames "
			    "(head %.16s...), but the bundle's recording has %llu "
			    "frames and no seal (it ends at the checkpoint of "
			    "frame %llu%s)", RECBUNDLE_AUDIT,
			    (unsigned long long)lineno,
			    (unsigned long long)l.seq, (unsigned long long)n,
			    head, (unsigned long long)rep->frames,
			    (unsigned long long)rep->last_signed_seq,
			    rep->unverified > 0 ? " and unsigned frames after "
			    "it" : ""));
		if (rep->frames != n || strcmp(have, head) != 0)
			return (recbundle_altered(b, "the recording is not the one "
			    "the recorder sealed: %s line %llu (seq %llu) says "
			    "%llu frames, head %.16s..., the bundle's recording "
			    "has %llu frames, head %.16s...",
			    RECBUNDLE_AUDIT, (unsigned long long)lineno,
			    (unsigned long long)l.seq, (unsigned long long)n,
			    head, (unsigned long long)rep->frames, have));
	}
	return (EXIT_OK);
}

/* A field of export.txt (one logfmt line); "" if absent. */
static void
bundle_export_field(struct recbundle *b, const char *key, char *val,
    size_t vallen)
{
	const char *d = (const char *)b->m[RECBUNDLE_P_EXPORT].data;
	size_t len = b->m[RECBUNDLE_P_EXPORT].len;

	while (len > 0 && d[len - 1] == '\n')
		len--;
	if (auditlog_field(d, len, key, val, vallen) != 0)
		val[0] = '\0';
}

struct audit_summary {
	uint64_t lines, first_seq, last_seq, runs;
};

/*
 * audit.log: every line proves its own content, consecutive seq numbers
 * chain, and every line belongs to the recording's session.
 */
static int
bundle_check_audit(struct recbundle *b, const char *ref, const char *recid,
    struct audit_summary *s)
{
	struct auditlog_sel *sel = NULL;
	struct auditlog_line l, prevl;
	const char *d = (const char *)b->m[RECBUNDLE_P_AUDIT].data, *end, *p, *nl;
	uint64_t lineno;
	int pass, have_prev, rc = EXIT_OK;

	memset(s, 0, sizeof(*s));
	end = d + b->m[RECBUNDLE_P_AUDIT].len;
	if (d == end)
		return (EXIT_OK);
	if (end[-1] != '\n')
		return (recbundle_altered(b, "%s does not end with a line break",
		    RECBUNDLE_AUDIT));
	if (auditlog_sel_new(ref, recid, &sel) != 0)
		return (recbundle_altered(b, "the recording's session (%s) or ref "
		    "cannot name audit lines", RECBUNDLE_AUDIT));
	/* 1: each line on its own, and the chain where seq runs on */
	have_prev = 0;
	for (p = d, lineno = 1; p < end; p = nl + 1, lineno++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (auditlog_line_parse(p, (size_t)(nl - p), &l) != 0) {
			rc = recbundle_altered(b, "%s line %llu is not an audit "
			    "chain line", RECBUNDLE_AUDIT,
			    (unsigned long long)lineno);
			goto out;
		}
		if (!auditlog_line_hash_ok(p, (size_t)(nl - p), &l)) {
			rc = recbundle_altered(b, "%s line %llu (seq %llu): its "
			    "content does not match its hash: the line was "
			    "edited", RECBUNDLE_AUDIT,
			    (unsigned long long)lineno,
			    (unsigned long long)l.seq);
			goto out;
		}
		if (have_prev && l.seq <= prevl.seq) {
			rc = recbundle_altered(b, "%s line %llu: seq %llu does "
			    "not follow %llu", RECBUNDLE_AUDIT,
			    (unsigned long long)lineno,
			    (unsigned long long)l.seq,
			    (unsigned long long)prevl.seq);
			goto out;
		}
		if (have_prev && l.seq == prevl.seq + 1 &&
		    strcmp(l.prev, prevl.hash) != 0) {
			rc = recbundle_altered(b, "%s line %llu (seq %llu): prev "
			    "is not the hash of seq %llu before it",
			    RECBUNDLE_AUDIT, (unsigned long long)lineno,
			    (unsigned long long)l.seq,
			    (unsigned long long)prevl.seq);
			goto out;
		}
		if (!have_prev || l.seq != prevl.seq + 1)
			s->runs++;
		if (!have_prev)
			s->first_seq = l.seq;
		s->last_seq = l.seq;
		s->lines++;
		prevl = l;
		have_prev = 1;
	}
	/* 2: which session the lines are about */
	for (pass = 0; pass < AUDITLOG_SEL_PASSES; pass++) {
		for (p = d; p < end; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (auditlog_line_parse(p, (size_t)(nl - p), &l) == 0)
				auditlog_sel_learn(sel, l.body, l.bodylen);
		}
		if (!auditlog_sel_changed(sel))
			break;
	}
	if (!auditlog_sel_anchored(sel)) {
		rc = recbundle_altered(b, "%s has no session.recording line for "
		    "this recording: the lines are not this session's",
		    RECBUNDLE_AUDIT);
		goto out;
	}
	for (p = d, lineno = 1; p < end; p = nl + 1, lineno++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (auditlog_line_parse(p, (size_t)(nl - p), &l) == 0 &&
		    !auditlog_sel_match(sel, l.body, l.bodylen)) {
			rc = recbundle_altered(b, "%s line %llu (seq %llu) is not "
			    "about this session", RECBUNDLE_AUDIT,
			    (unsigned long long)lineno,
			    (unsigned long long)l.seq);
			goto out;
		}
	}
out:
	auditlog_sel_free(sel);
	return (rc);
}

static int
verify_bundle(const char *file, const char *vfile, const char *keyfile,
    const char *want_fp)
{
	struct recbundle b;
	struct recverify_report rep;
	struct reckey *pub = NULL, *want = NULL;
	struct audit_summary as;
	struct witness wit;
	char fp[RECKEY_FP_LEN], wfp[RECKEY_FP_LEN], expid[128], expref[64];
	char t[3][160], why[700];
	const char *recid, *ref;
	int rc, v, i, r, have_rep = 0;

	memset(&rep, 0, sizeof(rep));
	fp[0] = '\0';
	recbundle_init(&b);
	if (keyfile != NULL && (r = reckey_load_public(keyfile, &want)) != 0) {
		fprintf(stderr, "bastion-verify: cannot load public key %s: "
		    "%s\n", keyfile, berr_str(r));
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = recbundle_read(&b, file, vfile)) != EXIT_OK) {
		if (rc == RECBUNDLE_ERROR)
			fprintf(stderr, "bastion-verify: %s\n", b.err);
		goto out;
	}
	if (!b.m[RECBUNDLE_P_SIG].seen) {
		rc = recbundle_altered(&b, "%s is missing: the MANIFEST is not "
		    "signed by the recorder (a bundle exported before bundles "
		    "were signed, or the signature was removed), so its members "
		    "could have been changed, or the recording cut short, all "
		    "together; export it again", RECBUNDLE_SIG);
		goto out;
	}
	for (i = 0; i < RECBUNDLE_PARTS; i++)
		if (!b.m[i].seen) {
			rc = recbundle_altered(&b, "%s is missing from the bundle",
			    b.m[i].name);
			goto out;
		}
	if ((rc = recbundle_check_manifest(&b)) != EXIT_OK ||
	    (rc = bundle_pubkey(&b, &pub)) != EXIT_OK)
		goto out;
	reckey_fingerprint(pub, fp);
	if (want != NULL)
		reckey_fingerprint(want, wfp);
	else if (want_fp != NULL)
		snprintf(wfp, sizeof(wfp), "%s", want_fp);
	if ((want != NULL || want_fp != NULL) && strcmp(fp, wfp) != 0) {
		rc = recbundle_altered(&b, "the bundle's recorder key is %s, not "
		    "the expected %s", fp, vis(wfp, t[0], sizeof(t[0])));
		goto out;
	}
	if ((rc = recbundle_check_sig(&b, pub, fp)) != EXIT_OK) {
		if (rc == RECBUNDLE_ERROR)
			fprintf(stderr, "bastion-verify: %s\n", b.err);
		goto out;
	}
	v = recverify_fp(b.rec, pub, &rep);
	have_rep = 1;
	if (v == RECVERIFY_ALTERED || v == RECVERIFY_ERROR) {
		rc = report_recording(v == RECVERIFY_ERROR ? RECVERIFY_ALTERED :
		    v, &rep, "bundle member " RECBUNDLE_RECORDING);
		goto out;
	}
	/* the members must be about the same recording */
	recid = recfmt_hdr_get(&rep.hdr, "session");
	ref = recfmt_hdr_get(&rep.hdr, "ref");
	bundle_export_field(&b, "recording", expid, sizeof(expid));
	bundle_export_field(&b, "session", expref, sizeof(expref));
	if (recid == NULL || strlen(b.dir) <= strlen(RECBUNDLE_DIR) ||
	    strcmp(b.dir + strlen(RECBUNDLE_DIR), recid) != 0 ||
	    strcmp(expid, recid) != 0) {
		rc = recbundle_altered(&b, "the recording (session %s) is not the "
		    "one the bundle is named after (%s)",
		    vis(recid ? recid : "-", t[0], sizeof(t[0])),
		    vis(b.dir, t[1], sizeof(t[1])));
		goto out;
	}
	if (ref == NULL || strcmp(expref, ref) != 0) {
		rc = recbundle_altered(&b, "export.txt names session %s, the "
		    "recording %s", vis(expref, t[0], sizeof(t[0])),
		    vis(ref ? ref : "-", t[1], sizeof(t[1])));
		goto out;
	}
	if ((rc = bundle_check_audit(&b, ref, recid, &as)) != EXIT_OK ||
	    (rc = bundle_check_witness(&b, recid, &rep, v, &wit)) != EXIT_OK)
		goto out;
	rc = report_recording(v, &rep, "bundle member "
	    RECBUNDLE_RECORDING);
	if (quiet)
		goto out;
	bundle_export_field(&b, "exported_by", t[0], sizeof(t[0]));
	bundle_export_field(&b, "exported_at", t[1], sizeof(t[1]));
	bundle_export_field(&b, "host", t[2], sizeof(t[2]));
	printf("bundle: %s, exported by ", vis(b.dir, why, sizeof(why)));
	printf("%s at ", vis(t[0], why, sizeof(why)));
	printf("%s from ", vis(t[1], why, sizeof(why)));
	printf("%s\n", vis(t[2], why, sizeof(why)));
	printf("manifest: all %d members match their SHA-256; the MANIFEST "
	    "is signed by the recorder key\n", RECBUNDLE_P_MANIFEST);
	if (want != NULL || want_fp != NULL)
		printf("recorder key: %s, the expected key\n", fp);
	else
		printf("recorder key: %s, NOT VERIFIED: taken from the bundle "
		    "itself\n", fp);
	if (wit.seen)
		printf("seal: the recording is the one the recorder sealed "
		    "(%s line %llu, seq %llu: %llu frames, head %.16s...)\n",
		    RECBUNDLE_AUDIT, (unsigned long long)wit.lineno,
		    (unsigned long long)wit.seq,
		    (unsigned long long)wit.frames, wit.head);
	else
		printf("seal: %s holds no recording.sealed line of the "
		    "recorder for this recording (its events were not "
		    "chained, or it was never sealed)\n",
		    RECBUNDLE_AUDIT);
	bundle_export_field(&b, "recorded_on", t[0], sizeof(t[0]));
	if (t[0][0] != '\0')
		printf("recorded on node %s, exported on another node: the "
		    "session's audit lines are in that node's chain, not here; "
		    "%s holds the shared state store's rows\n",
		    vis(t[0], why, sizeof(why)), RECBUNDLE_APPROVAL);
	if (as.lines == 0 && t[0][0] == '\0')
		printf("WARNING: the bundle holds no audit lines (was the "
		    "audit chain kept when the session ran?)\n");
	else if (as.lines > 0)
		printf("audit: %llu line(s), seq %llu..%llu in %llu run(s): "
		    "each line's hash verifies, runs chain, and every line is "
		    "about session %s\n", (unsigned long long)as.lines,
		    (unsigned long long)as.first_seq,
		    (unsigned long long)as.last_seq,
		    (unsigned long long)as.runs, vis(ref, why, sizeof(why)));
	bundle_export_field(&b, "chain", t[0], sizeof(t[0]));
	bundle_export_field(&b, "chain_lines", t[1], sizeof(t[1]));
	bundle_export_field(&b, "chain_head", t[2], sizeof(t[2]));
	printf("audit chain on the bastion at export: %s, ",
	    vis(t[0], why, sizeof(why)));
	printf("%s lines, ", vis(t[1], why, sizeof(why)));
	printf("head %s (not proven by the bundle: compare with the "
	    "journal's chain=SEQ:HASH)\n", vis(t[2], why, sizeof(why)));
	if (want == NULL && want_fp == NULL)
		printf("%s\n", rc == EXIT_OK ? "UNVERIFIED: the bundle is "
		    "intact as far as the key it carries can tell" :
		    "UNVERIFIED: the bundle is consistent with the key it "
		    "carries, and the recording was never sealed");
	else
		printf("%s\n", rc == EXIT_OK ? "OK: the bundle is intact" :
		    "the bundle is intact, but the recording was never sealed");
out:
	if (b.altered) {
		fprintf(stderr, "bastion-verify: %s: ALTERED: %s\n", vfile,
		    vis(b.why, why, sizeof(why)));
		rc = EXIT_ALTERED;
	}
	/* without a key to compare with, nothing above proves who made the
	 * bundle: anyone can make one that verifies with a key of their own.
	 * Said on every run, -q included, with its own exit status. */
	if ((rc == EXIT_OK || rc == EXIT_INCOMPLETE) && want == NULL &&
	    want_fp == NULL) {
		fprintf(stderr, "bastion-verify: %s: UNVERIFIED KEY: the "
		    "recorder key %s was taken from the bundle itself; compare "
		    "it with the fingerprint the hospital publishes and run "
		    "again with --fingerprint (or -k recorder.key.pub)\n", vfile,
		    fp);
		rc = EXIT_UNVERIFIED;
	}
	if (have_rep)
		recverify_report_clear(&rep);
	reckey_free(pub);
	reckey_free(want);
	recbundle_clear(&b);
	return (rc);
}

/* ---- main -------------------------------------------------------------- */

/* ---- a group's audit checkpoints (--cluster) --------------------------- */

/* "NODE=FILE" into node (the name) and *file. 0, or said why. */
static int
cluster_pair(const char *opt, const char *arg, char *node, size_t len,
    const char **file)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || (size_t)(eq - arg) >= len || eq[1] == '\0') {
		fprintf(stderr, "bastion-verify: %s %s is not NODE=FILE\n", opt,
		    arg);
		return (-1);
	}
	memcpy(node, arg, (size_t)(eq - arg));
	node[eq - arg] = '\0';
	*file = eq + 1;
	return (0);
}

static int
verify_cluster(const char *file, const char *const *keys, size_t nkeys,
    const char *const *chains, size_t nchains)
{
	char node[CKPT_NODE_MAX + 2];
	struct ckptv *v = NULL;
	struct reckey *k;
	const char *path;
	FILE *fp = NULL;
	uint64_t bad;
	size_t i;
	int r, rc = EXIT_USAGE;

	if (nkeys == 0) {
		fprintf(stderr, "bastion-verify: --cluster needs each node's "
		    "audit key: -k NODE=STATE_DIR/audit.key.pub\n");
		return (EXIT_USAGE);
	}
	if (ckptv_new(stderr, &v) != 0)
		return (EXIT_USAGE);
	for (i = 0; i < nkeys; i++) {
		if (cluster_pair("-k", keys[i], node, sizeof(node), &path) != 0)
			goto out;
		if ((r = reckey_load_public(path, &k)) != 0) {
			fprintf(stderr, "bastion-verify: %s: not an Ed25519 "
			    "public key (%s)\n", path, berr_str(r));
			goto out;
		}
		if ((r = ckptv_key(v, node, k)) != 0) {
			fprintf(stderr, "bastion-verify: -k %s: %s\n", keys[i],
			    r == BERR_EXISTS ? "a second key for that node" :
			    "not a node name");
			goto out;
		}
	}
	for (i = 0; i < nchains; i++)
		if (cluster_pair("--chain", chains[i], node, sizeof(node),
		    &path) != 0 || ckptv_chain(v, node, path) != 0) {
			fprintf(stderr, "bastion-verify: --chain %s: one chain "
			    "per node, NODE=FILE\n", chains[i]);
			goto out;
		}
	if ((fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "re")) ==
	    NULL || (r = ckptv_read(v, fp)) != 0) {
		fprintf(stderr, "bastion-verify: %s: %s\n", file, fp == NULL ?
		    strerror(errno) : "cannot be read (a line too long?)");
		goto out;
	}
	bad = ckptv_check(v);
	if (!quiet)
		ckptv_summary(v, stdout);
	if (bad > 0)
		fprintf(stderr, "ALTERED: %llu problem(s) in the checkpoints "
		    "or chains (above)\n", (unsigned long long)bad);
	else if (!quiet)
		printf("intact: every checkpoint is signed by its node, the "
		    "nodes' commitments agree, and every chain given holds "
		    "its checkpoints\n");
	rc = bad > 0 ? EXIT_ALTERED : EXIT_OK;
out:
	if (fp != NULL && fp != stdin)
		fclose(fp);
	ckptv_free(v);
	return (rc);
}

enum kind { KIND_GUESS, KIND_RECORDING, KIND_AUDIT, KIND_BUNDLE,
	KIND_CLUSTER };

/* Tell the kind of file from its first block. */
static enum kind
sniff(const char *file)
{
	unsigned char blk[512];
	size_t n;
	FILE *fp;

	if (strcmp(file, "-") == 0 || (fp = fopen(file, "re")) == NULL)
		return (KIND_RECORDING);	/* it says why later */
	n = fread(blk, 1, sizeof(blk), fp);
	fclose(fp);
	if (n == sizeof(blk) && memcmp(blk + 257, "ustar", 5) == 0)
		return (KIND_BUNDLE);
	if (n >= 4 && memcmp(blk, "seq=", 4) == 0)
		return (KIND_AUDIT);
	return (KIND_RECORDING);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "audit", no_argument, NULL, 'a' },
		{ "bundle", no_argument, NULL, 'b' },
		{ "webauthn", no_argument, NULL, 'w' },
		{ "fingerprint", required_argument, NULL, 'F' },
		{ "cluster", no_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' },
		PROG_OPTS_END
	};
	static const struct prog prog = { "k:abwF:qhcC:", opts, usage,
	    EXIT_USAGE, 1, 1 };
	const char *keyfile = NULL, *want_fp = NULL, *file;
	const char *keys[CKPTV_NODES_MAX], *chains[CKPTV_NODES_MAX];
	size_t nkeys = 0, nchains = 0;
	enum kind kind = KIND_GUESS;
	char vfile[512];
	int ch, rc, webauthn = 0;

	log_init("bastion-verify", 0, LOG_LVL_WARN);
	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			if (nkeys < CKPTV_NODES_MAX)
				keys[nkeys++] = optarg;
			break;
		case 'c':
			kind = KIND_CLUSTER;
			break;
		case 'C':
			if (nchains == CKPTV_NODES_MAX) {
				fprintf(stderr, "bastion-verify: at most %d "
				    "--chain\n", CKPTV_NODES_MAX);
				return (EXIT_USAGE);
			}
			chains[nchains++] = optarg;
			break;
		case 'a':
			kind = KIND_AUDIT;
			break;
		case 'b':
			kind = KIND_BUNDLE;
			break;
		case 'w':
			webauthn = 1;
			break;
		case 'F':
			want_fp = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	file = argv[optind];
	vis(file, vfile, sizeof(vfile));
	if (kind == KIND_GUESS)
		kind = sniff(file);
	if (webauthn && (kind != KIND_AUDIT || strcmp(file, "-") == 0)) {
		fprintf(stderr, "bastion-verify: --webauthn checks an audit "
		    "chain file: give --audit FILE (not standard input)\n");
		return (EXIT_USAGE);
	}
	if (nchains > 0 && kind != KIND_CLUSTER) {
		fprintf(stderr, "bastion-verify: --chain goes with --cluster\n");
		return (EXIT_USAGE);
	}
	switch (kind) {
	case KIND_CLUSTER:
		return (verify_cluster(file, keys, nkeys, chains, nchains));
	case KIND_AUDIT:
		rc = verify_audit(file, vfile);
		if (webauthn && (rc == EXIT_OK || rc == EXIT_INCOMPLETE) &&
		    (ch = verify_webauthn(file, vfile)) != EXIT_OK)
			rc = ch;
		return (rc);
	case KIND_BUNDLE:
		return (verify_bundle(file, vfile, keyfile, want_fp));
	default:
		return (verify_recording(file, vfile, keyfile));
	}
}
