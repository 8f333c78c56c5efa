/*
 * test_recbundle.c - recorder/lib/recbundle.c and recnotary.c: a bundle
 * written and read back (members, MANIFEST, signature; a changed byte, a
 * missing signature, no tar at all), the session's audit lines
 * taken the same way by the exporter and, later, by the recorder (bounded
 * by the exporter's last seq however much the chain grew), the recording
 * path a NOTARIZE may name, the signed message, the recorder's check of a
 * MANIFEST against its own files, and the NOTARIZE message itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "auditlog.h"
#include "buf.h"
#include "err.h"
#include "hex.h"
#include "recbundle.h"
#include "reckey.h"
#include "recnotary.h"
#include "recproto.h"

#include "store_fixture.h"

#define RECID	"20261101T100000Z-0123456789abcdef"

static void
append(struct fixture *f, const char *body)
{
	assert_int_equal(auditlog_append(f->al, body, NULL, NULL), 0);
}

static void
sha_hex(const void *p, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(p, len, md, &n, EVP_sha256(), NULL), 1);
	hex_encode(md, sizeof(md), hex);
}

/* The exporter's take, then the chain grows with more of the session's
 * lines: a reader bounded by the exporter's last seq takes the same bytes. */
static void
test_audit_lines_bounded(void **state)
{
	struct fixture *f = *state;
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	uint64_t n, last, last2;

	append(f, "ts=t event=bastion.start pid=1");
	append(f, "ts=t event=auth.result pid=7 session=4 user=alice");
	append(f, "ts=t event=session.recording pid=7 session=4 "
	    "recording=" RECID);
	append(f, "ts=t event=session.end pid=9 session=5 user=bob");
	append(f, "ts=t event=recording.sealed pid=3 session=" RECID
	    " frames=9 head=00");
	assert_int_equal(recnotary_audit_lines(f->path, "4", RECID,
	    UINT64_MAX, &a, &alen, &n, &last), 0);
	assert_int_equal(n, 3);
	assert_int_equal(last, 5);
	assert_non_null(strstr(a, "event=auth.result"));
	assert_non_null(strstr(a, "event=recording.sealed"));
	assert_null(strstr(a, "session=5"));
	assert_int_equal(strlen(a), alen);

	/* later lines of the same session (a grant revoked, the recorder's
	 * own note) do not change what a bounded reader takes */
	append(f, "ts=t event=session.note pid=7 session=4");
	append(f, "ts=t event=recording.notarized pid=3 session=" RECID);
	assert_int_equal(recnotary_audit_lines(f->path, "4", RECID, last,
	    &b, &blen, &n, &last2), 0);
	assert_int_equal(last2, last);
	assert_int_equal(blen, alen);
	assert_memory_equal(a, b, alen);
	free(b);
	assert_int_equal(recnotary_audit_lines(f->path, "4", RECID,
	    UINT64_MAX, &b, &blen, &n, NULL), 0);
	assert_int_equal(n, 5);
	free(b);
	free(a);

	/* no chain: no lines, not an error */
	assert_int_equal(recnotary_audit_lines("/nonexistent/audit.log", "4",
	    RECID, UINT64_MAX, &a, &alen, &n, &last), 0);
	assert_string_equal(a, "");
	assert_int_equal(n, 0);
	assert_int_equal(last, 0);
	free(a);
}

static void
test_recording_path(void **unused)
{
	char p[256];

	(void)unused;
	assert_int_equal(recbundle_recording_path("/rec", RECID, p, sizeof(p)),
	    0);
	assert_string_equal(p, "/rec/2026/11/01/" RECID ".brec");
	assert_int_equal(recbundle_recording_path("/rec", "../../etc/passwd",
	    p, sizeof(p)), BERR_INVAL);
	assert_int_equal(recbundle_recording_path("/rec", "2026/11/01/x", p,
	    sizeof(p)), BERR_INVAL);
	assert_int_equal(recbundle_recording_path("/rec", "abcdefghij", p,
	    sizeof(p)), BERR_INVAL);
	assert_int_equal(recbundle_recording_path("/rec", RECID, p, 10),
	    BERR_LIMIT);
}

static void
test_sig_message(void **unused)
{
	uint8_t *m;
	size_t n;

	(void)unused;
	assert_int_equal(recbundle_sig_message("AB", 2, &m, &n), 0);
	assert_int_equal(n, strlen(RECBUNDLE_SIG_CONTEXT) + 1 + 2);
	assert_memory_equal(m, RECBUNDLE_SIG_CONTEXT "\0AB", n);
	free(m);
}

/* The recorder signs only a MANIFEST whose recording, key and audit lines
 * are its own; everything else is refused with a reason. */
static void
test_notary_check(void **state)
{
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\nx\n-----END "
	    "PUBLIC KEY-----\n";
	static const char rec[] = "bastion-rec v1\nnot a real recording";
	struct fixture *f = *state;
	char path[PATH_MAX], h[5][65], man[1024], why[512], *lines;
	size_t llen;
	uint64_t last;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/2026", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/2026/11", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/2026/11/01", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/2026/11/01/%s.brec", f->dir, RECID);
	assert_non_null(fp = fopen(path, "w"));
	fputs(rec, fp);
	fclose(fp);
	append(f, "ts=t event=recording.sealed pid=3 session=" RECID);
	assert_int_equal(recnotary_audit_lines(f->path, "4", RECID,
	    UINT64_MAX, &lines, &llen, NULL, &last), 0);
	sha_hex(rec, strlen(rec), h[0]);
	sha_hex(pem, strlen(pem), h[1]);
	sha_hex("{}", 2, h[2]);
	sha_hex(lines, llen, h[3]);
	sha_hex("x", 1, h[4]);
	free(lines);
#define MAN(a, b, c) snprintf(man, sizeof(man), "%s  recording.brec\n" \
	"%s  recorder.pub\n%s  approval.json\n%s  audit.log\n"		\
	"%s  export.txt\n", a, b, h[2], c, h[4])

	/* the recording has no HEADER: its ref cannot be read */
	MAN(h[0], h[1], h[3]);
	assert_int_not_equal(recnotary_check(f->dir, f->dir, pem,
	    RECID, man, strlen(man), last, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "header"));
	/* a recording that is not the file */
	MAN(h[1], h[1], h[3]);
	assert_int_equal(recnotary_check(f->dir, f->dir, pem, RECID,
	    man, strlen(man), last, why, sizeof(why)), BERR_DENIED);
	assert_non_null(strstr(why, "recording.brec is not the recording"));
	/* another key */
	MAN(h[0], h[0], h[3]);
	assert_int_equal(recnotary_check(f->dir, f->dir, pem, RECID,
	    man, strlen(man), last, why, sizeof(why)), BERR_DENIED);
	assert_non_null(strstr(why, "recorder.pub is not"));
	/* no chain to check the audit lines against */
	MAN(h[0], h[1], h[3]);
	assert_int_equal(recnotary_check(f->dir, NULL, pem, RECID, man,
	    strlen(man), last, why, sizeof(why)), BERR_DENIED);
	assert_non_null(strstr(why, "-a STATE_DIR"));
	/* not the exporter's MANIFEST: order, case, extra line */
	snprintf(man, sizeof(man), "%s  recorder.pub\n", h[1]);
	assert_int_equal(recnotary_check(f->dir, f->dir, pem, RECID,
	    man, strlen(man), last, why, sizeof(why)), BERR_FORMAT);
	MAN(h[0], h[1], h[3]);
	man[0] = 'A';
	assert_int_equal(recnotary_check(f->dir, f->dir, pem, RECID,
	    man, strlen(man), last, why, sizeof(why)), BERR_FORMAT);
	MAN(h[0], h[1], h[3]);
	strcat(man, "\n");
	assert_int_equal(recnotary_check(f->dir, f->dir, pem, RECID,
	    man, strlen(man), last, why, sizeof(why)), BERR_FORMAT);
	/* not an id */
	assert_int_equal(recnotary_check(f->dir, f->dir, pem,
	    "../x", man, strlen(man), last, why, sizeof(why)), BERR_INVAL);
#undef MAN
}

static void
test_notarize_message(void **unused)
{
	struct buf *b, *body = NULL;
	const uint8_t *m;
	uint8_t sig[REC_SIG_LEN];
	char *id;
	size_t mlen;
	uint64_t seq;
	int msg;

	(void)unused;
	assert_non_null(b = buf_new(RECPROTO_HELLO_MAX));
	assert_int_equal(recproto_put_notarize(b, RECID, "MANI", 4, 42), 0);
	assert_int_equal(recproto_take(b, RECPROTO_HELLO_MAX, &msg, &body), 0);
	assert_int_equal(msg, RECPROTO_NOTARIZE);
	assert_int_equal(recproto_get_notarize(body, &id, &m, &mlen, &seq), 0);
	assert_string_equal(id, RECID);
	assert_int_equal(mlen, 4);
	assert_memory_equal(m, "MANI", 4);
	assert_int_equal(seq, 42);
	free(id);
	buf_free(body);
	/* a trailing byte, a cut message */
	assert_non_null(body = buf_from("\0\0\0\1x\0\0\0\0", 9));
	assert_int_equal(recproto_get_notarize(body, &id, &m, &mlen, &seq),
	    BERR_FORMAT);
	assert_null(id);
	buf_free(body);
	memset(sig, 7, sizeof(sig));
	buf_reset(b);
	assert_int_equal(recproto_put_signature(b, sig), 0);
	assert_int_equal(buf_len(b), 4 + 1 + 4 + REC_SIG_LEN);
	assert_int_equal(recproto_put_notarize(b, RECID, "x",
	    RECBUNDLE_MANIFEST_MAX + 1, 0), BERR_LIMIT);
	buf_free(b);
}

/* ---- the bundle itself: written, read back, tampered with ------------- */

static int
to_file(void *arg, const void *buf, size_t len)
{
	return (fwrite(buf, 1, len, arg) == len ? 0 : -1);
}

/* A bundle of RECID with small members at path, signed by k (or not). */
static void
write_bundle(const char *path, const struct reckey *k, int sign)
{
	struct recbundle_writer *w = NULL;
	static const char rec[] = "BREC-not-really-a-recording";
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\n";
	static const char appr[] = "{\"admission\":\"approval-content\"}";
	static const char audit[] = "seq=1 prev=0 ts=t event=x pid=1 hash=0\n";
	static const char exp[] = "format=bastion-evidence-v2\n";
	uint8_t *msg = NULL, sig[REC_SIG_LEN];
	const char *m;
	size_t mlen, len;
	FILE *f;

	assert_non_null(f = fopen("/dev/null", "w"));
	assert_int_equal(recbundle_writer_new("../x", to_file, f, &w),
	    BERR_INVAL);
	assert_null(w);
	assert_int_equal(recbundle_writer_new(RECID, to_file, f, &w), 0);
	/* out of order, or the MANIFEST by hand: refused */
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_PUBKEY, pem, -1,
	    strlen(pem)), BERR_INVAL);
	recbundle_writer_free(w);
	w = NULL;
	assert_int_equal(fclose(f), 0);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(recbundle_writer_new(RECID, to_file, f, &w), 0);
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_RECORDING, rec,
	    -1, strlen(rec)), 0);
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_PUBKEY, pem, -1,
	    strlen(pem)), 0);
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_APPROVAL, appr,
	    -1, strlen(appr)), 0);
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_AUDIT, audit, -1,
	    strlen(audit)), 0);
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_EXPORT, exp, -1,
	    strlen(exp)), 0);
	assert_int_equal(recbundle_writer_add(w, RECBUNDLE_P_MANIFEST, "", -1,
	    0), BERR_INVAL);
	m = recbundle_writer_manifest(w, &mlen);
	assert_int_equal(mlen, RECBUNDLE_MEMBERS * (64 + 2 + 1) +
	    strlen("recording.brecrecorder.pubapproval.jsonaudit.logexport.txt"));
	assert_non_null(strstr(m, "  approval.json\n"));
	assert_int_equal(recbundle_sig_message(m, mlen, &msg, &len), 0);
	assert_int_equal(reckey_sign(k, msg, len, sig), 0);
	free(msg);
	assert_int_equal(recbundle_writer_finish(w, sign ? sig : NULL), 0);
	recbundle_writer_free(w);
	assert_int_equal(fclose(f), 0);
}

static void
test_bundle_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct reckey *k = NULL, *other = NULL;
	struct recbundle b;
	char path[PATH_MAX], junk[PATH_MAX], hex[65], *data, *hit;
	size_t len, i;
	FILE *fp;

	assert_int_equal(reckey_generate(&k), 0);
	assert_int_equal(reckey_generate(&other), 0);
	snprintf(path, sizeof(path), "%s/b.tar", f->dir);
	write_bundle(path, k, 1);

	recbundle_init(&b);
	assert_int_equal(recbundle_read(&b, path, "b.tar"), RECBUNDLE_OK);
	assert_string_equal(b.dir, "bastion-evidence-" RECID);
	for (i = 0; i < RECBUNDLE_PARTS; i++)
		assert_true(b.m[i].seen);
	assert_non_null(b.rec);
	assert_string_equal((char *)b.m[RECBUNDLE_P_APPROVAL].data,
	    "{\"admission\":\"approval-content\"}");
	sha_hex("BREC-not-really-a-recording", 27, hex);
	assert_string_equal(b.m[RECBUNDLE_P_RECORDING].sha, hex);
	assert_int_equal(recbundle_check_manifest(&b), RECBUNDLE_OK);
	assert_int_equal(recbundle_check_sig(&b, k, "K"), RECBUNDLE_OK);
	assert_int_equal(recbundle_check_sig(&b, other, "O"),
	    RECBUNDLE_ALTERED);
	assert_non_null(strstr(b.why, "does not verify with the recorder "
	    "key O"));
	recbundle_clear(&b);

	/* one byte of a member changed: its MANIFEST line no longer holds */
	assert_non_null(fp = fopen(path, "r+"));
	assert_non_null(data = calloc(1, 1 << 16));
	len = fread(data, 1, 1 << 16, fp);
	assert_true(len > 0 && len < (1 << 16));
	assert_non_null(hit = memmem(data, len, "approval-content", 16));
	assert_int_equal(fseek(fp, hit - data, SEEK_SET), 0);
	assert_int_equal(fputc('A', fp), 'A');
	assert_int_equal(fclose(fp), 0);
	recbundle_init(&b);
	assert_int_equal(recbundle_read(&b, path, "b.tar"), RECBUNDLE_OK);
	assert_int_equal(recbundle_check_manifest(&b), RECBUNDLE_ALTERED);
	assert_string_equal(b.why, "approval.json does not match its SHA-256 "
	    "in MANIFEST (the member or the MANIFEST was changed)");
	recbundle_clear(&b);
	free(data);

	/* unsigned: no MANIFEST.sig member */
	write_bundle(path, k, 0);
	recbundle_init(&b);
	assert_int_equal(recbundle_read(&b, path, "b.tar"), RECBUNDLE_OK);
	assert_false(b.m[RECBUNDLE_P_SIG].seen);
	assert_int_equal(recbundle_check_sig(&b, k, "K"), RECBUNDLE_ALTERED);
	recbundle_clear(&b);

	/* not a tar, and no file at all: errors, not "altered" */
	snprintf(junk, sizeof(junk), "%s/junk", f->dir);
	assert_non_null(fp = fopen(junk, "w"));
	assert_true(fputs("this is no tar file at all\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	recbundle_init(&b);
	assert_int_equal(recbundle_read(&b, junk, "junk"), RECBUNDLE_ERROR);
	assert_non_null(strstr(b.err, "cannot open junk"));
	recbundle_clear(&b);
	recbundle_init(&b);
	assert_int_equal(recbundle_read(&b, "/nonexistent/b.tar", "x.tar"),
	    RECBUNDLE_ERROR);
	assert_non_null(strstr(b.err, "cannot open x.tar"));
	recbundle_clear(&b);
	reckey_free(k);
	reckey_free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_lines_bounded,
		    setup_audit, teardown),
		cmocka_unit_test(test_recording_path),
		cmocka_unit_test(test_sig_message),
		cmocka_unit_test_setup_teardown(test_notary_check, setup_audit,
		    teardown),
		cmocka_unit_test(test_notarize_message),
		cmocka_unit_test_setup_teardown(test_bundle_roundtrip,
		    setup_audit, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
