/*
 * test_sftp.c - the SFTP airlock's codec and tracker (proto/sftp.c,
 * proto/sftp_track.c) and its policy decision (bastion/relay_sftp.c,
 * relay_sftp_decide): packets built by hand as OpenSSH's sftp sends
 * them; malformed ones (cut short, bytes left over, a string over its
 * cap, a READ asking for too much, a type the sender never sends, a
 * length of 0 or over 256 KiB) refused with a reason; reassembly from
 * one-byte pieces; the per-file records (hash of the bytes that crossed,
 * sequential or not, refused, incomplete); the files: policy at OPEN and
 * in the middle of an upload.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "buf.h"
#include "err.h"
#include "policy.h"
#include "relay.h"
#include "sftp.h"

/* ---- a packet builder ---------------------------------------------------- */

struct pk {
	uint8_t b[4 + SFTP_MAX_PACKET + 16];
	size_t n;
};

static void
pk_u8(struct pk *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static void
pk_u32(struct pk *p, uint32_t v)
{
	pk_u8(p, (uint8_t)(v >> 24));
	pk_u8(p, (uint8_t)(v >> 16));
	pk_u8(p, (uint8_t)(v >> 8));
	pk_u8(p, (uint8_t)v);
}

static void
pk_u64(struct pk *p, uint64_t v)
{
	pk_u32(p, (uint32_t)(v >> 32));
	pk_u32(p, (uint32_t)v);
}

static void
pk_str(struct pk *p, const void *s, size_t n)
{
	pk_u32(p, (uint32_t)n);
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

static void
pk_cstr(struct pk *p, const char *s)
{
	pk_str(p, s, strlen(s));
}

/* Start a packet of type (with id unless INIT/VERSION). */
static void
pk_start(struct pk *p, uint8_t type, uint32_t id)
{
	p->n = 4;
	pk_u8(p, type);
	if (type != SSH_FXP_INIT && type != SSH_FXP_VERSION)
		pk_u32(p, id);
}

/* Fill in the length. */
static void
pk_end(struct pk *p)
{
	uint32_t l = (uint32_t)(p->n - 4);

	p->b[0] = (uint8_t)(l >> 24);
	p->b[1] = (uint8_t)(l >> 16);
	p->b[2] = (uint8_t)(l >> 8);
	p->b[3] = (uint8_t)l;
}

/* Parse the packet in p; m points into a buffer kept until the next
 * call. */
static int
parse(int from_server, struct pk *p, struct sftp_msg *m, char *why,
    size_t whylen)
{
	static struct buf *b;

	if (b == NULL)
		assert_non_null(b = buf_new(SFTP_MAX_PACKET + 64));
	buf_reset(b);
	assert_int_equal(buf_put(b, p->b + 4, p->n - 4), 0);
	return (sftp_parse(from_server, b, m, why, whylen));
}

/* ---- the codec ----------------------------------------------------------- */

static void
test_parse_requests_openssh_sends(void **state)
{
	struct pk p;
	struct sftp_msg m;
	char why[256];

	(void)state;
	pk_start(&p, SSH_FXP_INIT, 0);
	pk_u32(&p, 3);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.version, 3);

	pk_start(&p, SSH_FXP_OPEN, 7);
	pk_cstr(&p, "/tmp/fw.img");
	pk_u32(&p, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
	pk_u32(&p, 0x4);	/* permissions */
	pk_u32(&p, 0644);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.type, SSH_FXP_OPEN);
	assert_int_equal(m.id, 7);
	assert_int_equal(m.path_len, 11);
	assert_memory_equal(m.path, "/tmp/fw.img", 11);
	assert_int_equal(m.pflags, SSH_FXF_WRITE | SSH_FXF_CREAT |
	    SSH_FXF_TRUNC);

	pk_start(&p, SSH_FXP_WRITE, 8);
	pk_cstr(&p, "h1");
	pk_u64(&p, 32768);
	pk_cstr(&p, "data");
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.offset, 32768);
	assert_int_equal(m.data_len, 4);

	pk_start(&p, SSH_FXP_EXTENDED, 9);
	pk_cstr(&p, "posix-rename@openssh.com");
	pk_cstr(&p, "/a");
	pk_cstr(&p, "/b");
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.ext_id, SFTP_EXT_POSIX_RENAME);
	assert_int_equal(m.path2_len, 2);

	pk_start(&p, SSH_FXP_EXTENDED, 10);
	pk_cstr(&p, "limits@openssh.com");
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.ext_id, SFTP_EXT_LIMITS);

	pk_start(&p, SSH_FXP_EXTENDED, 11);
	pk_cstr(&p, "copy-data");
	pk_cstr(&p, "h1");
	pk_u64(&p, 0);
	pk_u64(&p, 100);
	pk_cstr(&p, "h2");
	pk_u64(&p, 5);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.ext_id, SFTP_EXT_COPY_DATA);
	assert_int_equal(m.length, 100);
	assert_int_equal(m.offset2, 5);

	/* an unknown extension parses; refusing it is the relay's */
	pk_start(&p, SSH_FXP_EXTENDED, 12);
	pk_cstr(&p, "evil@example.com");
	pk_cstr(&p, "whatever");
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.ext_id, SFTP_EXT_UNKNOWN);
}

static void
test_parse_replies(void **state)
{
	struct pk p;
	struct sftp_msg m;
	char why[256];

	(void)state;
	pk_start(&p, SSH_FXP_VERSION, 0);
	pk_u32(&p, 3);
	pk_cstr(&p, "posix-rename@openssh.com");
	pk_cstr(&p, "1");
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), 0);

	pk_start(&p, SSH_FXP_STATUS, 4);
	pk_u32(&p, SSH_FX_EOF);
	pk_cstr(&p, "End of file");
	pk_cstr(&p, "");
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.status, SSH_FX_EOF);

	pk_start(&p, SSH_FXP_STATUS, 4);	/* v3: no message */
	pk_u32(&p, SSH_FX_OK);
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), 0);

	pk_start(&p, SSH_FXP_NAME, 5);
	pk_u32(&p, 1);
	pk_cstr(&p, "/home/x");
	pk_cstr(&p, "drwx------ x");
	pk_u32(&p, 0);
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), 0);
	assert_int_equal(m.count, 1);
}

static void
test_malformed_packets_refused_with_a_reason(void **state)
{
	struct pk p;
	struct sftp_msg m;
	char why[256];
	uint8_t big[SFTP_MAX_PATH + 1];

	(void)state;
	memset(big, 'a', sizeof(big));
	/* cut short: a WRITE without its data */
	pk_start(&p, SSH_FXP_WRITE, 1);
	pk_cstr(&p, "h");
	pk_u64(&p, 0);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_TRUNC);
	assert_non_null(strstr(why, "WRITE (request 1): cut short"));
	/* bytes left over */
	pk_start(&p, SSH_FXP_CLOSE, 2);
	pk_cstr(&p, "h");
	pk_u8(&p, 0);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_FORMAT);
	/* a path over SFTP_MAX_PATH */
	pk_start(&p, SSH_FXP_OPEN, 3);
	pk_str(&p, big, sizeof(big));
	pk_u32(&p, SSH_FXF_READ);
	pk_u32(&p, 0);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_LIMIT);
	/* a string whose length runs past the packet */
	pk_start(&p, SSH_FXP_STAT, 4);
	pk_u32(&p, 100);
	pk_u8(&p, 'x');
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_TRUNC);
	/* a READ asking for more than a packet holds */
	pk_start(&p, SSH_FXP_READ, 5);
	pk_cstr(&p, "h");
	pk_u64(&p, 0);
	pk_u32(&p, SFTP_MAX_PACKET + 1);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_LIMIT);
	/* attributes with unknown flags */
	pk_start(&p, SSH_FXP_SETSTAT, 6);
	pk_cstr(&p, "/x");
	pk_u32(&p, 0x40);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_FORMAT);
	/* a reply from the client, a request from the server, unknown
	 * types, an empty packet */
	pk_start(&p, SSH_FXP_STATUS, 7);
	pk_u32(&p, 0);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_FORMAT);
	assert_non_null(strstr(why, "not one the client sends"));
	pk_start(&p, SSH_FXP_OPEN, 8);
	pk_cstr(&p, "/x");
	pk_u32(&p, 1);
	pk_u32(&p, 0);
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), BERR_FORMAT);
	pk_start(&p, 77, 9);
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_FORMAT);
	p.n = 4;	/* nothing after the length */
	assert_int_equal(parse(0, &p, &m, why, sizeof(why)), BERR_TRUNC);
	/* a NAME claiming more entries than it can hold */
	pk_start(&p, SSH_FXP_NAME, 10);
	pk_u32(&p, 1000000);
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), BERR_LIMIT);
	/* an empty handle */
	pk_start(&p, SSH_FXP_HANDLE, 11);
	pk_cstr(&p, "");
	assert_int_equal(parse(1, &p, &m, why, sizeof(why)), BERR_FORMAT);
}

static void
test_reassembly(void **state)
{
	struct sftp_reasm ra;
	struct sftp_msg m;
	struct pk p, q;
	const uint8_t *pkt;
	char why[256];
	size_t len, i, got = 0;
	uint8_t two[128];
	int r;

	(void)state;
	memset(&ra, 0, sizeof(ra));
	pk_start(&p, SSH_FXP_STAT, 1);
	pk_cstr(&p, "/etc/hostname");
	pk_end(&p);
	pk_start(&q, SSH_FXP_CLOSE, 2);
	pk_cstr(&q, "h");
	pk_end(&q);
	memcpy(two, p.b, p.n);
	memcpy(two + p.n, q.b, q.n);
	/* one byte at a time: two whole packets, in order, parsed */
	for (i = 0; i < p.n + q.n; i++) {
		assert_int_equal(sftp_reasm_put(&ra, two + i, 1), 0);
		while ((r = sftp_reasm_next(&ra, 0, &pkt, &len, &m, why,
		    sizeof(why))) == 1) {
			if (got == 0) {
				assert_memory_equal(pkt, p.b, p.n);
				assert_int_equal(m.type, SSH_FXP_STAT);
			} else {
				assert_memory_equal(pkt, q.b, q.n);
				assert_int_equal(m.type, SSH_FXP_CLOSE);
				assert_int_equal(m.id, 2);
			}
			got++;
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(got, 2);
	assert_int_equal(sftp_reasm_pending(&ra), 0);
	/* a length over the limit, a length of 0, a malformed packet */
	sftp_reasm_clear(&ra);
	two[0] = 0; two[1] = 0x04; two[2] = 0; two[3] = 1;	/* 256 KiB + 1 */
	assert_int_equal(sftp_reasm_put(&ra, two, 8), 0);
	assert_int_equal(sftp_reasm_next(&ra, 0, &pkt, &len, &m, why,
	    sizeof(why)), BERR_LIMIT);
	assert_null(pkt);
	sftp_reasm_clear(&ra);
	memset(two, 0, 4);
	assert_int_equal(sftp_reasm_put(&ra, two, 8), 0);
	assert_int_equal(sftp_reasm_next(&ra, 0, &pkt, &len, &m, why,
	    sizeof(why)), BERR_FORMAT);
	sftp_reasm_clear(&ra);
	pk_start(&p, SSH_FXP_CLOSE, 3);
	pk_cstr(&p, "h");
	pk_u8(&p, 9);		/* a byte left over */
	pk_end(&p);
	assert_int_equal(sftp_reasm_put(&ra, p.b, p.n), 0);
	assert_int_equal(sftp_reasm_next(&ra, 0, &pkt, &len, &m, why,
	    sizeof(why)), BERR_FORMAT);
	assert_int_equal(len, p.n);	/* the bad packet, for the record */
	assert_memory_equal(pkt, p.b, p.n);
	/* more than one chunk at once is the caller's mistake */
	assert_int_equal(sftp_reasm_put(&ra, p.b, SFTP_REASM_CHUNK + 1),
	    BERR_INVAL);
	sftp_reasm_clear(&ra);
}

/* ---- the tracker --------------------------------------------------------- */

struct seen {
	struct sftp_record r[8];	/* path and reason: copies below */
	char paths[8][64];
	char reasons[8][64];
	size_t n;
};

static void
on_record(void *arg, const struct sftp_record *r)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	s->r[s->n] = *r;
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", r->path);
	/* the record's strings live only for the call */
	snprintf(s->reasons[s->n], sizeof(s->reasons[0]), "%s", r->reason);
	s->r[s->n].reason = s->reasons[s->n];
	s->n++;
}

static void
hexsha(const uint8_t *p, size_t n, char out[65])
{
	uint8_t d[32];
	size_t i;

	SHA256(p, n, d);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
req(struct sftp_track *t, struct pk *p, const char *refused)
{
	struct sftp_msg m;
	char why[256];

	assert_int_equal(parse(0, p, &m, why, sizeof(why)), 0);
	assert_int_equal(sftp_track_request(t, &m, refused), 0);
}

static void
rep(struct sftp_track *t, struct pk *p)
{
	struct sftp_msg m;
	char why[256];

	assert_int_equal(parse(1, p, &m, why, sizeof(why)), 0);
	assert_int_equal(sftp_track_reply(t, &m, NULL), 0);
}

static void
open_file(struct sftp_track *t, uint32_t id, const char *path,
    uint32_t pflags, const char *handle)
{
	struct pk p;

	pk_start(&p, SSH_FXP_OPEN, id);
	pk_cstr(&p, path);
	pk_u32(&p, pflags);
	pk_u32(&p, 0);
	req(t, &p, NULL);
	pk_start(&p, SSH_FXP_HANDLE, id);
	pk_cstr(&p, handle);
	rep(t, &p);
}

static void
write_at(struct sftp_track *t, uint32_t id, const char *handle,
    uint64_t off, const uint8_t *d, size_t n, const char *refused)
{
	struct pk p;

	pk_start(&p, SSH_FXP_WRITE, id);
	pk_cstr(&p, handle);
	pk_u64(&p, off);
	pk_str(&p, d, n);
	req(t, &p, refused);
	if (refused != NULL)
		return;
	pk_start(&p, SSH_FXP_STATUS, id);
	pk_u32(&p, SSH_FX_OK);
	rep(t, &p);
}

static void
close_file(struct sftp_track *t, uint32_t id, const char *handle)
{
	struct pk p;

	pk_start(&p, SSH_FXP_CLOSE, id);
	pk_cstr(&p, handle);
	req(t, &p, NULL);
	pk_start(&p, SSH_FXP_STATUS, id);
	pk_u32(&p, SSH_FX_OK);
	rep(t, &p);
}

static void
test_upload_and_download_records(void **state)
{
	struct seen s;
	struct sftp_track *t;
	struct pk p;
	uint8_t data[70000];
	char want[65];
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_non_null(t = sftp_track_new(on_record, NULL, &s));
	open_file(t, 1, "/up.bin", SSH_FXF_WRITE | SSH_FXF_CREAT, "H1");
	write_at(t, 2, "H1", 0, data, 32768, NULL);
	write_at(t, 3, "H1", 32768, data + 32768, sizeof(data) - 32768, NULL);
	close_file(t, 4, "H1");
	assert_int_equal(s.n, 1);
	hexsha(data, sizeof(data), want);
	assert_string_equal(s.r[0].sha256, want);
	assert_int_equal(s.r[0].dir, SFTP_DIR_IN);
	assert_int_equal(s.r[0].bytes, sizeof(data));
	assert_true(s.r[0].sequential);
	assert_string_equal(s.r[0].outcome, "ok");
	assert_string_equal(s.paths[0], "/up.bin");

	/* a download, read back out of order: honest about it */
	open_file(t, 5, "/down.bin", SSH_FXF_READ, "H2");
	pk_start(&p, SSH_FXP_READ, 6);
	pk_cstr(&p, "H2");
	pk_u64(&p, 10);
	pk_u32(&p, 10);
	req(t, &p, NULL);
	pk_start(&p, SSH_FXP_READ, 7);
	pk_cstr(&p, "H2");
	pk_u64(&p, 0);
	pk_u32(&p, 10);
	req(t, &p, NULL);
	pk_start(&p, SSH_FXP_DATA, 7);
	pk_str(&p, data, 10);
	rep(t, &p);
	pk_start(&p, SSH_FXP_DATA, 6);
	pk_str(&p, data + 10, 10);
	rep(t, &p);
	close_file(t, 8, "H2");
	assert_int_equal(s.n, 2);
	assert_int_equal(s.r[1].dir, SFTP_DIR_OUT);
	assert_int_equal(s.r[1].bytes, 20);
	assert_int_equal(s.r[1].size, 20);
	assert_true(s.r[1].sequential);	/* 0..10 then 10..20 */
	assert_int_equal(sftp_track_bytes(t), sizeof(data) + 20);
	sftp_track_free(t);
}

static void
test_refused_and_incomplete_records(void **state)
{
	struct seen s;
	struct sftp_track *t;
	struct sftp_file_info fi;
	struct pk p;
	uint8_t data[100];

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(data, 'z', sizeof(data));
	assert_non_null(t = sftp_track_new(on_record, NULL, &s));
	/* refused at OPEN: a record of nothing */
	pk_start(&p, SSH_FXP_OPEN, 1);
	pk_cstr(&p, "/no");
	pk_u32(&p, SSH_FXF_WRITE);
	pk_u32(&p, 0);
	req(t, &p, "directions");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.r[0].outcome, "refused");
	assert_int_equal(s.r[0].bytes, 0);
	/* refused in the middle: the bytes before count, the rest not */
	open_file(t, 2, "/big", SSH_FXF_WRITE, "H");
	write_at(t, 3, "H", 0, data, 60, NULL);
	write_at(t, 4, "H", 60, data, 40, "too large");
	assert_int_equal(sftp_track_file(t, (const uint8_t *)"H", 1, &fi), 0);
	assert_true(fi.refused);
	assert_int_equal(fi.bytes_in, 60);
	close_file(t, 5, "H");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.r[1].outcome, "refused");
	assert_string_equal(s.r[1].reason, "too large");
	assert_int_equal(s.r[1].bytes, 60);
	/* left open at the end: incomplete, a write that skipped ahead */
	open_file(t, 6, "/left", SSH_FXF_WRITE, "L");
	write_at(t, 7, "L", 50, data, 10, NULL);
	sftp_track_free(t);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.r[2].outcome, "incomplete");
	assert_false(s.r[2].sequential);
}

/* ---- the policy ---------------------------------------------------------- */

static void
test_policy_decisions(void **state)
{
	struct policy_files pf;
	struct sftp_file_info fi;
	struct sftp_msg m;
	uint32_t code;
	char why[512];
	int rm;

	(void)state;
	memset(&pf, 0, sizeof(pf));
	pf.set = 1;
	pf.directions = POLICY_FILES_OUT;
	pf.max_file_size = 1000;
	memset(&m, 0, sizeof(m));
	m.type = SSH_FXP_OPEN;
	m.pflags = SSH_FXF_WRITE | SSH_FXF_CREAT;
	assert_int_equal(relay_sftp_decide(&pf, &m, NULL, 0, &code, why,
	    sizeof(why), &rm), 1);
	assert_int_equal(code, SSH_FX_PERMISSION_DENIED);
	assert_non_null(strstr(why, "may not be copied to this device"));
	m.pflags = SSH_FXF_READ;
	assert_int_equal(relay_sftp_decide(&pf, &m, NULL, 0, &code, why,
	    sizeof(why), &rm), 0);
	m.type = SSH_FXP_MKDIR;
	assert_int_equal(relay_sftp_decide(&pf, &m, NULL, 0, &code, why,
	    sizeof(why), &rm), 1);

	pf.directions = POLICY_FILES_IN | POLICY_FILES_OUT;
	memset(&fi, 0, sizeof(fi));
	fi.path = "/fw.img";
	m.type = SSH_FXP_WRITE;
	m.offset = 900;
	m.data_len = 100;
	assert_int_equal(relay_sftp_decide(&pf, &m, &fi, 0, &code, why,
	    sizeof(why), &rm), 0);
	m.data_len = 101;
	assert_int_equal(relay_sftp_decide(&pf, &m, &fi, 0, &code, why,
	    sizeof(why), &rm), 1);
	assert_int_equal(code, SSH_FX_FAILURE);
	assert_true(rm);
	assert_non_null(strstr(why, "/fw.img is larger than the limit of "
	    "1000 bytes"));
	/* an offset near 2^64 does not wrap around the check */
	m.offset = UINT64_MAX - 10;
	m.data_len = 20;
	assert_int_equal(relay_sftp_decide(&pf, &m, &fi, 0, &code, why,
	    sizeof(why), &rm), 1);
	/* the session's limit */
	pf.max_file_size = 0;
	pf.max_session_bytes = 500;
	m.offset = 0;
	m.data_len = 100;
	assert_int_equal(relay_sftp_decide(&pf, &m, &fi, 400, &code, why,
	    sizeof(why), &rm), 0);
	assert_int_equal(relay_sftp_decide(&pf, &m, &fi, 401, &code, why,
	    sizeof(why), &rm), 1);
	/* an unknown handle, an unknown extension */
	assert_int_equal(relay_sftp_decide(&pf, &m, NULL, 0, &code, why,
	    sizeof(why), &rm), 1);
	m.type = SSH_FXP_EXTENDED;
	m.ext_id = SFTP_EXT_UNKNOWN;
	m.ext = (const uint8_t *)"x@y";
	m.ext_len = 3;
	assert_int_equal(relay_sftp_decide(&pf, &m, NULL, 0, &code, why,
	    sizeof(why), &rm), 1);
	assert_int_equal(code, SSH_FX_OP_UNSUPPORTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_requests_openssh_sends),
		cmocka_unit_test(test_parse_replies),
		cmocka_unit_test(test_malformed_packets_refused_with_a_reason),
		cmocka_unit_test(test_reassembly),
		cmocka_unit_test(test_upload_and_download_records),
		cmocka_unit_test(test_refused_and_incomplete_records),
		cmocka_unit_test(test_policy_decisions),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
