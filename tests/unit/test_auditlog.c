/*
 * test_auditlog.c - the hash-chained audit log (store/auditlog.c): lines
 * chain and verify; every kind of tampering (an edited byte, an edited line
 * with its hash recomputed, a deleted, inserted or moved line) is named at
 * the right line; a torn tail is reported, then sealed by the next append;
 * a tail that is not a chain stops appends; appends from many forked
 * processes (sharing a handle opened before fork) keep one intact chain;
 * audit_event() reaches the chain and reports when it cannot; a group
 * commit (the store actor's) writes its lines in order, skips the bodies
 * that cannot be lines and seals a torn tail first; the logfmt field
 * parser survives hostile input. Test vector: docs/AUDIT.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "auditlog.h"
#include "auditlog_int.h"
#include "err.h"
#include "log.h"

#include "store_fixture.h"

/* docs/AUDIT.md, "Test vector" */
#define VEC1 "seq=1 prev=000000000000000000000000000000000000000000000000" \
    "0000000000000000 ts=2026-11-01T00:00:00.000Z event=bastion.start " \
    "pid=1 policy=/etc/bastion/policy.yaml hash=3aa870aeaf6399b1a371d67ec9" \
    "e47ffca7a846184d2e2028332c4b3fd16a5ac0"
#define VEC2 "seq=2 prev=3aa870aeaf6399b1a371d67ec9e47ffca7a846184d2e2028" \
    "332c4b3fd16a5ac0 ts=2026-11-01T00:00:01.000Z event=auth.result pid=2 " \
    "session=1 user=alice from=192.0.2.10 result=ok reason=\"two factors\" " \
    "hash=97624ca322eb5ca1087a7e6367f08e19fabd6bac91aeb203cb540958f22d7496"

/* ---- helpers ----------------------------------------------------------- */

static void
append_n(struct fixture *f, int n)
{
	char body[128];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "ts=2026-11-01T00:00:%02d.000Z "
		    "event=test.event pid=1 n=%d who=\"a b\"", i % 60, i);
		assert_int_equal(auditlog_append(f->al, body, NULL, NULL), 0);
	}
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *d;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	d = malloc((size_t)n + 1);
	assert_non_null(d);
	assert_int_equal(fread(d, 1, (size_t)n, fp), (size_t)n);
	d[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return (d);
}

static void
spit(const char *path, const char *d, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(d, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Offset of the start of line n (1-based) in d. */
static size_t
line_at(const char *d, int n)
{
	size_t o = 0;

	while (--n > 0) {
		const char *nl = strchr(d + o, '\n');

		assert_non_null(nl);
		o = (size_t)(nl - d) + 1;
	}
	return (o);
}

static size_t
line_len(const char *d, size_t o)
{
	return ((size_t)(strchr(d + o, '\n') - (d + o)) + 1);
}

static int
verify(struct fixture *f, struct auditlog_verify *v)
{
	return (auditlog_verify_file(f->path, v));
}

/* The chain file verifies as want, naming line bad_line as the first one
 * wrong; the report stays in *v for the caller's further checks. */
static void
assert_verdict(struct fixture *f, struct auditlog_verify *v, int want,
    uint64_t bad_line)
{
	assert_int_equal(verify(f, v), want);
	assert_int_equal(v->bad_line, bad_line);
}

/* The chain at path verifies intact, its last line numbered last_seq. */
static void
assert_chain_ends_at(const char *path, uint64_t last_seq)
{
	struct auditlog_verify v;

	assert_int_equal(auditlog_verify_file(path, &v), AUDITLOG_OK);
	assert_int_equal(v.last_seq, last_seq);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_vector(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	struct auditlog_line l;
	char val[64];

	spit(f->path, VEC1 "\n" VEC2 "\n", strlen(VEC1 VEC2) + 2);
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
	assert_int_equal(v.lines, 2);
	assert_string_equal(v.head, "97624ca322eb5ca1087a7e6367f08e19fabd6bac9"
	    "1aeb203cb540958f22d7496");
	assert_int_equal(auditlog_line_parse(VEC2, strlen(VEC2), &l), 0);
	assert_int_equal(l.seq, 2);
	assert_true(auditlog_line_hash_ok(VEC2, strlen(VEC2), &l));
	assert_int_equal(auditlog_field(l.body, l.bodylen, "reason", val,
	    sizeof(val)), 0);
	assert_string_equal(val, "two factors");
	/* the appender continues the vector's chain */
	assert_int_equal(auditlog_append(f->al, "ts=x event=y pid=3", NULL,
	    NULL), 0);
	assert_chain_ends_at(f->path, 3);
}

static void
test_append_verify(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	char hash[AUDITLOG_HEX_LEN + 1];
	uint64_t seq = 0;

	append_n(f, 9);
	assert_int_equal(auditlog_append(f->al, "ts=t event=last pid=1", &seq,
	    hash), 0);
	assert_int_equal(seq, 10);
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
	assert_int_equal(v.lines, 10);
	assert_int_equal(v.last_seq, 10);
	assert_string_equal(v.head, hash);
	assert_int_equal(v.torn, 0);
	/* the file is private to the bastion's user and group */
	{
		struct stat st;

		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0640);
	}
}

static void
test_edit_byte_detected(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len, o;
	char *d;

	append_n(f, 6);
	d = slurp(f->path, &len);
	o = line_at(d, 4);
	d[o + line_len(d, o) / 2] ^= 1;		/* one bit, mid-line */
	spit(f->path, d, len);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 4);
	assert_int_equal(v.lines, 3);
	free(d);
}

static void
test_edit_with_rehash_detected(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	struct auditlog_line l;
	char *d, *nl, hash[AUDITLOG_HEX_LEN + 1];
	size_t len, o, ll;

	append_n(f, 5);
	d = slurp(f->path, &len);
	o = line_at(d, 2);
	nl = strchr(d + o, '\n');
	ll = (size_t)(nl - (d + o));
	/* change n=1 to n=7 and recompute the line's own hash */
	{
		char *p = strstr(d + o, " n=1 ");

		assert_non_null(p);
		p[3] = '7';
	}
	assert_int_equal(auditlog_hash(d + o, ll - 70, hash), 0);
	memcpy(d + o + ll - 64, hash, 64);
	assert_int_equal(auditlog_line_parse(d + o, ll, &l), 0);
	assert_true(auditlog_line_hash_ok(d + o, ll, &l));
	spit(f->path, d, len);
	/* caught at its successor, whose prev no longer matches */
	assert_verdict(f, &v, AUDITLOG_ALTERED, 3);
	assert_non_null(strstr(v.why, "prev"));
	free(d);
}

static void
test_delete_line_detected(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len, o, ll;
	char *d;

	append_n(f, 5);
	d = slurp(f->path, &len);
	o = line_at(d, 3);
	ll = line_len(d, o);
	memmove(d + o, d + o + ll, len - o - ll);
	spit(f->path, d, len - ll);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 3);
	assert_non_null(strstr(v.why, "seq is 4 where 3 belongs"));
	free(d);

	/* deleting the first line is caught too */
	d = slurp(f->path, &len);
	ll = line_len(d, 0);
	spit(f->path, d + ll, len - ll);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 1);
	free(d);
}

static void
test_reorder_detected(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len, o2, o3, l2, l3;
	char *d, *e;

	append_n(f, 5);
	d = slurp(f->path, &len);
	o2 = line_at(d, 2);
	o3 = line_at(d, 3);
	l2 = line_len(d, o2);
	l3 = line_len(d, o3);
	e = malloc(len);
	assert_non_null(e);
	memcpy(e, d, o2);
	memcpy(e + o2, d + o3, l3);
	memcpy(e + o2 + l3, d + o2, l2);
	memcpy(e + o2 + l3 + l2, d + o3 + l3, len - o3 - l3);
	spit(f->path, e, len);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 2);
	free(d);
	free(e);
}

static void
test_insert_detected(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len, o;
	char *d, *e;
	const char *junk = "seq=3 prev=00 event=forged\n";

	append_n(f, 4);
	d = slurp(f->path, &len);
	o = line_at(d, 3);
	e = malloc(len + strlen(junk));
	assert_non_null(e);
	memcpy(e, d, o);
	memcpy(e + o, junk, strlen(junk));
	memcpy(e + o + strlen(junk), d + o, len - o);
	spit(f->path, e, len + strlen(junk));
	assert_verdict(f, &v, AUDITLOG_ALTERED, 3);
	free(d);
	free(e);
}

static void
test_group_commit_batch(void **state)
{
	struct fixture *f = *state;
	const char *bodies[] = { "ts=t event=one pid=1", "ts=t event=b\ad pid=1",
	    "ts=t event=three pid=1", "" };
	char hashes[4][AUDITLOG_HEX_LEN + 1];
	uint64_t seqs[4] = { 0, 0, 0, 0 };
	struct auditlog_verify v;
	size_t len;
	char *d;
	int res[4];

	append_n(f, 2);
	/* a torn tail: sealed first, then the group follows it */
	d = slurp(f->path, &len);
	assert_int_equal(truncate(f->path, (off_t)(len - 10)), 0);
	free(d);
	assert_int_equal(auditlog_append_batch(f->al, bodies, 4, seqs, hashes,
	    res), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], BERR_INVAL);
	assert_int_equal(res[2], 0);
	assert_int_equal(res[3], BERR_INVAL);
	assert_int_equal(seqs[0], 3);		/* 2: the torn line's seal */
	assert_int_equal(seqs[2], 4);
	assert_int_equal(strlen(hashes[2]), AUDITLOG_HEX_LEN);
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
	assert_int_equal(v.torn, 1);
	assert_int_equal(v.last_seq, 4);
	assert_string_equal(v.head, hashes[2]);
	/* nothing that can be a line: nothing written, the reason kept */
	assert_int_equal(auditlog_append_batch(f->al, &bodies[1], 1, seqs,
	    hashes, res), BERR_INVAL);
	assert_non_null(strstr(auditlog_error(f->al), "control characters"));
	assert_chain_ends_at(f->path, 4);
}

static void
test_torn_tail_then_sealed(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len;
	char *d, val[80];

	append_n(f, 4);
	d = slurp(f->path, &len);
	assert_int_equal(truncate(f->path, (off_t)(len - 40)), 0);
	assert_verdict(f, &v, AUDITLOG_TRUNCATED, 4);
	assert_int_equal(v.lines, 3);
	/* the next append seals the torn bytes and the chain goes on */
	assert_int_equal(auditlog_append(f->al, "ts=t event=after pid=1",
	    NULL, NULL), 0);
	assert_non_null(strstr(auditlog_error(f->al), "torn"));
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
	assert_int_equal(v.torn, 1);
	assert_int_equal(v.last_seq, 5);	/* 3, torn_tail 4, after 5 */
	free(d);
	d = slurp(f->path, &len);
	assert_non_null(strstr(d, "event=" AUDITLOG_TORN_EVENT));
	snprintf(val, sizeof(val), "bytes=%zu", line_len(d, line_at(d, 4)) -
	    1);
	assert_non_null(strstr(d, val));
	free(d);

	/* a "torn" line in the middle with a forged seal of other bytes */
	d = slurp(f->path, &len);
	{
		char *p = strstr(d, "sha256=");

		assert_non_null(p);
		p[7] = p[7] == '0' ? '1' : '0';
	}
	spit(f->path, d, len);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 4);
	free(d);
}

static void
test_bad_tail_stops_appends(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len, len2;
	char *d;
	FILE *fp;

	append_n(f, 2);
	fp = fopen(f->path, "ab");
	assert_non_null(fp);
	fputs("hello, I am not a chain line\n", fp);
	fclose(fp);
	d = slurp(f->path, &len);
	free(d);
	assert_int_equal(auditlog_append(f->al, "ts=t event=x pid=1", NULL,
	    NULL), BERR_FORMAT);
	assert_non_null(strstr(auditlog_error(f->al), "not an audit chain "
	    "line"));
	d = slurp(f->path, &len2);
	free(d);
	assert_int_equal(len, len2);		/* nothing written */
	assert_verdict(f, &v, AUDITLOG_ALTERED, 3);

	/* a "torn" tail longer than any line cannot be sealed */
	unlink(f->path);
	append_n(f, 2);
	d = malloc(AUDITLOG_LINE_MAX + 100);
	assert_non_null(d);
	memset(d, 'y', AUDITLOG_LINE_MAX + 100);
	fp = fopen(f->path, "ab");
	assert_non_null(fp);
	assert_int_equal(fwrite(d, 1, AUDITLOG_LINE_MAX + 100, fp),
	    AUDITLOG_LINE_MAX + 100);
	fclose(fp);
	free(d);
	assert_int_equal(auditlog_append(f->al, "ts=t event=x pid=1", NULL,
	    NULL), BERR_FORMAT);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 3);

	/* the same for a tail longer than any line without a newline */
	d = malloc(3 * AUDITLOG_LINE_MAX);
	assert_non_null(d);
	memset(d, 'x', 3 * AUDITLOG_LINE_MAX);
	spit(f->path, d, 3 * AUDITLOG_LINE_MAX);
	free(d);
	assert_int_equal(auditlog_append(f->al, "ts=t event=x pid=1", NULL,
	    NULL), BERR_FORMAT);
	assert_verdict(f, &v, AUDITLOG_ALTERED, 1);
}

static void
test_moved_aside_starts_new_chain(void **state)
{
	struct fixture *f = *state;
	char old[PATH_MAX + 32];

	append_n(f, 3);
	snprintf(old, sizeof(old), "%s.1", f->path);
	assert_int_equal(rename(f->path, old), 0);
	append_n(f, 2);
	assert_chain_ends_at(f->path, 2);
	assert_chain_ends_at(old, 3);
}

static void
test_refuses_bad_bodies(void **state)
{
	struct fixture *f = *state;
	char big[AUDITLOG_BODY_MAX + 2];
	struct auditlog_verify v;

	assert_int_equal(auditlog_append(f->al, "ts=t event=x\nseq=9", NULL,
	    NULL), BERR_INVAL);
	assert_int_equal(auditlog_append(f->al, "", NULL, NULL), BERR_INVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(auditlog_append(f->al, big, NULL, NULL), BERR_INVAL);
	/* the largest body still makes a line the verifier accepts */
	big[AUDITLOG_BODY_MAX] = '\0';
	assert_int_equal(auditlog_append(f->al, big, NULL, NULL), 0);
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
}

#define KIDS	8
#define EACH	40

static void
test_concurrent_forked_appends(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	struct auditlog_reader *rd;
	struct auditlog_line l;
	const char *text;
	size_t len;
	char val[32];
	int counts[KIDS] = { 0 };
	int i, st;
	pid_t pids[KIDS];

	/* the handle is opened in the parent, then shared by every child:
	 * each must reopen, or flock would not exclude them */
	assert_int_equal(auditlog_append(f->al, "ts=t event=parent pid=0",
	    NULL, NULL), 0);
	for (i = 0; i < KIDS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char body[128];
			int j, bad = 0;

			for (j = 0; j < EACH; j++) {
				snprintf(body, sizeof(body), "ts=t event=kid "
				    "pid=%ld kid=%d j=%d", (long)getpid(), i,
				    j);
				if (auditlog_append(f->al, body, NULL,
				    NULL) != 0)
					bad = 1;
			}
			_exit(bad);
		}
	}
	for (i = 0; i < KIDS; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
	assert_int_equal(v.lines, 1 + KIDS * EACH);
	assert_int_equal(v.last_seq, 1 + KIDS * EACH);
	assert_int_equal(auditlog_reader_open(f->path, &rd), 0);
	while (auditlog_reader_next(rd, &text, &len) == 0) {
		assert_int_equal(auditlog_line_parse(text, len, &l), 0);
		if (auditlog_field(l.body, l.bodylen, "kid", val,
		    sizeof(val)) == 0)
			counts[atoi(val)]++;
	}
	auditlog_reader_free(rd);
	for (i = 0; i < KIDS; i++)
		assert_int_equal(counts[i], EACH);
}

static void
test_audit_event_reaches_chain(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	size_t len;
	char *d;

	assert_int_equal(auditlog_open(f->dir, AUDITLOG_EAGER), 0);
	assert_string_equal(auditlog_path(), f->path);
	assert_true(auditlog_fd() > 2);
	{
		pid_t pid = fork();
		int st;

		assert_true(pid >= 0);
		if (pid == 0)	/* not the child's to use: it must reopen */
			_exit(auditlog_fd() == -1 ? 0 : 1);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(audit_event("ctl.refused", "user", "mallory\nseq=99",
	    "reason", "a \"quoted\" = thing", NULL), 0);
	assert_int_equal(audit_event("bastion.stop", NULL), 0);
	assert_int_equal(verify(f, &v), AUDITLOG_OK);
	assert_int_equal(v.lines, 2);
	d = slurp(f->path, &len);
	assert_non_null(strstr(d, "event=ctl.refused"));
	assert_non_null(strstr(d, "user=\"mallory\\x0aseq=99\""));
	free(d);

	/* a chain that cannot continue: audit_event says so */
	spit(f->path, "garbage\n", 8);
	assert_int_not_equal(audit_event("session.start", "session", "1",
	    NULL), 0);
	auditlog_close();
	assert_null(auditlog_path());
	assert_int_equal(audit_event("bastion.stop", NULL), 0);
}

static void
test_open_fails_loudly(void **state)
{
	struct fixture *f = *state;
	char missing[PATH_MAX + 16];

	(void)f;
	snprintf(missing, sizeof(missing), "%s/no/such/dir", f->dir);
	assert_int_not_equal(auditlog_open(missing, AUDITLOG_EAGER), 0);
	assert_null(auditlog_path());
	/* lazy: nothing now, a failure at the first event */
	assert_int_equal(auditlog_open(missing, AUDITLOG_LAZY), 0);
	assert_int_not_equal(audit_event("bastion.stop", NULL), 0);
}

static void
test_long_fields_stay_whole(void **state)
{
	struct fixture *f = *state;
	struct auditlog_reader *rd;
	struct auditlog_line l;
	const char *text, *p, *end;
	char big[3000], key[64], val[2048];
	size_t len;
	int n = 0;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(auditlog_open(f->dir, AUDITLOG_EAGER), 0);
	assert_int_equal(audit_event("bastion.stop", "a", big, "b", big, "c",
	    big, "d", big, "e", big, NULL), 0);
	assert_int_equal(auditlog_reader_open(f->path, &rd), 0);
	assert_int_equal(auditlog_reader_next(rd, &text, &len), 0);
	assert_int_equal(auditlog_line_parse(text, len, &l), 0);
	p = l.body;
	end = l.body + l.bodylen;
	while (auditlog_field_next(&p, end, key, sizeof(key), val,
	    sizeof(val)) == 0)
		n++;
	assert_true(p == end);		/* every field parsed */
	assert_non_null(strstr(l.body, "truncated=yes"));
	assert_true(n >= 5);
	auditlog_reader_free(rd);
}

/* A field is found with a small buffer even when an earlier field's value
 * is longer than that buffer (the report reads "seconds" into 32 bytes
 * after a long "reason"). */
static void
test_field_after_a_long_one(void **state)
{
	const char *body = "ts=2026-11-22T03:03:21.811Z event=session.end "
	    "reason=\"killed by an admin (bob): maintenance window over\" "
	    "bytes_in=0 seconds=9";
	char v[16];

	(void)state;
	assert_int_equal(auditlog_field(body, strlen(body), "seconds", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "9");
	assert_int_equal(auditlog_field(body, strlen(body), "bytes_in", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "0");
	/* the long one itself does not fit: an error, and an empty value */
	assert_int_not_equal(auditlog_field(body, strlen(body), "reason", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "");
}

static void
test_field_parser_bounds(void **state)
{
	static const char *bad[] = {
		"a=\"unterminated", "a=\"x\\", "a=\"\\x4\"", "a=\"\\q\"",
		"=v", "a", "a=b\"c", "a=\"x\"y", "a=b  c=d", "a=b ",
		"k\x01=v",
	};
	const char *p, *end;
	char key[8], val[32], small[8];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = bad[i];
		end = p + strlen(p);
		while ((r = auditlog_field_next(&p, end, key, sizeof(key), val,
		    sizeof(val))) == 0)
			;
		assert_int_equal(r, BERR_FORMAT);
	}
	p = "k=\"\\x41\\\"b\\\\\" long=0123456789";
	end = p + strlen(p);
	assert_int_equal(auditlog_field_next(&p, end, key, sizeof(key), small,
	    sizeof(small)), 0);
	assert_string_equal(small, "A\"b\\");
	assert_int_equal(auditlog_field_next(&p, end, key, sizeof(key), small,
	    sizeof(small)), BERR_LIMIT);
	assert_int_equal(auditlog_field("a=1 b=\"\" c=", 11, "b", val,
	    sizeof(val)), 0);
	assert_string_equal(val, "");
	assert_int_equal(auditlog_field("a=1", 3, "z", val, sizeof(val)),
	    BERR_NOTFOUND);
}

static void
test_hostile_files_do_not_crash(void **state)
{
	struct fixture *f = *state;
	struct auditlog_verify v;
	char *d;
	size_t len, i, n;
	unsigned seed = 4711;

	/* random bytes, random line breaks; and a valid chain with random
	 * bytes flipped: the verifier only ever says altered or truncated */
	for (n = 0; n < 200; n++) {
		len = (size_t)(rand_r(&seed) % 20000);
		d = malloc(len + 1);
		assert_non_null(d);
		for (i = 0; i < len; i++) {
			int c = rand_r(&seed) % 40;

			d[i] = c == 0 ? '\n' : c == 1 ? '"' : c == 2 ? '\\' :
			    c == 3 ? '=' : c == 4 ? ' ' :
			    (char)rand_r(&seed);
		}
		spit(f->path, d, len);
		free(d);
		assert_true(verify(f, &v) != AUDITLOG_ERROR);
		assert_true(len == 0 ? v.verdict == AUDITLOG_OK :
		    v.verdict != AUDITLOG_OK);
	}
	unlink(f->path);
	append_n(f, 20);
	for (n = 0; n < 200; n++) {
		d = slurp(f->path, &len);
		i = (size_t)rand_r(&seed) % len;
		d[i] = (char)(d[i] ^ (1 + rand_r(&seed) % 255));
		spit(f->path, d, len);
		assert_true(verify(f, &v) == AUDITLOG_ALTERED ||
		    v.verdict == AUDITLOG_TRUNCATED);
		free(d);
		unlink(f->path);
		append_n(f, 20);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vector, setup_audit,
		    teardown),
		cmocka_unit_test(test_field_after_a_long_one),
		cmocka_unit_test_setup_teardown(test_append_verify, setup_audit,
		    teardown),
		cmocka_unit_test_setup_teardown(test_edit_byte_detected,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_edit_with_rehash_detected,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_delete_line_detected,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_detected,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_insert_detected,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_then_sealed,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_batch,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tail_stops_appends,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(
		    test_moved_aside_starts_new_chain, setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_bodies,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_forked_appends,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_audit_event_reaches_chain,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_loudly,
		    setup_audit, teardown),
		cmocka_unit_test_setup_teardown(test_long_fields_stay_whole,
		    setup_audit, teardown),
		cmocka_unit_test(test_field_parser_bounds),
		cmocka_unit_test_setup_teardown(test_hostile_files_do_not_crash,
		    setup_audit, teardown),
	};

	log_init("test_auditlog", 0, LOG_LVL_ERROR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
