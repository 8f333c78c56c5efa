/*
 * test_scp.c - the legacy SCP (rcp) parser (proto/scp.c): the command
 * "scp -t|-f PATH" taken apart or refused; both streams of an upload and
 * of a download as OpenSSH scp -O and pscp -scp send them, whole and one
 * byte at a time; the items, their bytes and the per-file records (the
 * SHA-256 of the data, the paths of a -r tree, a file the sink refused, a
 * file the bastion refused, one left under way); and malformed streams
 * (a bad control line, a name with '/', a size over the cap, an E without
 * its D, a line without its end, a sink byte not due, too deep, a
 * download's name other than the one asked for, a D without -r) lost with
 * a reason that names the side; lines no longer than OpenSSH's scp reads
 * whole (a C line hidden behind a long warning), and uploads into "." and
 * "..".
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

#include "err.h"
#include "hex.h"
#include "scp.h"

#define MAXREC	16

struct got {
	struct {
		unsigned serial;
		int dir;
		char path[SFTP_MAX_PATH + 1];
		uint64_t bytes, size;
		char sha[65];
		char outcome[16];
		char reason[256];
	} r[MAXREC];
	int n;
	uint8_t data[8192];	/* bytes handed to the data callback */
	size_t ndata;
	int items[256];		/* item kinds in order */
	int nitems;
	uint8_t fwd[2][8192];	/* raw bytes of the items, per stream */
	size_t nfwd[2];
};

static void
on_rec(void *arg, const struct sftp_record *r)
{
	struct got *g = arg;

	assert_true(g->n < MAXREC);
	g->r[g->n].serial = r->serial;
	g->r[g->n].dir = r->dir;
	snprintf(g->r[g->n].path, sizeof(g->r[0].path), "%s", r->path);
	g->r[g->n].bytes = r->bytes;
	g->r[g->n].size = r->size;
	snprintf(g->r[g->n].sha, sizeof(g->r[0].sha), "%s", r->sha256);
	snprintf(g->r[g->n].outcome, sizeof(g->r[0].outcome), "%s",
	    r->outcome);
	snprintf(g->r[g->n].reason, sizeof(g->r[0].reason), "%s", r->reason);
	assert_int_equal(r->sequential, 1);
	g->n++;
}

static void
on_data(void *arg, unsigned serial, const char *path, enum sftp_dir dir,
    uint64_t off, const uint8_t *p, size_t n)
{
	struct got *g = arg;

	(void)serial;
	(void)path;
	(void)dir;
	assert_true(off + n <= sizeof(g->data));
	memcpy(g->data + off, p, n);
	if (off + n > g->ndata)
		g->ndata = off + n;
}

/* Record i says outcome, and its reason holds reason. */
static void
rec_is(const struct got *g, int i, const char *outcome, const char *reason)
{
	assert_true(g->n > i);
	assert_string_equal(g->r[i].outcome, outcome);
	assert_non_null(strstr(g->r[i].reason, reason));
}

static struct scp *
mk(const char *command, struct got *g)
{
	struct scp_cmd c;
	char why[256];
	struct scp *s;

	memset(g, 0, sizeof(*g));
	assert_int_equal(scp_cmd_parse(command, &c, why, sizeof(why)), 0);
	assert_non_null(s = scp_new(&c, on_rec, on_data, g));
	return (s);
}

/* Feed n bytes of one stream (step bytes at a time, 0: whole) and take
 * every item; the result of the last scp_next (0 or an error). */
static int
feed(struct scp *s, struct got *g, int from_sink, const void *p, size_t n,
    size_t step, char *why, size_t whylen)
{
	const uint8_t *b = p;
	struct scp_ev ev;
	size_t k;
	int r = 0;

	while (n > 0) {
		k = step == 0 || step > n ? n : step;
		assert_int_equal(scp_put(s, from_sink, b, k), 0);
		b += k;
		n -= k;
		while ((r = scp_next(s, &ev, why, whylen)) == 1) {
			assert_true(g->nitems < 256);
			g->items[g->nitems++] = ev.item;
			assert_true(g->nfwd[ev.from_sink] + ev.len <=
			    sizeof(g->fwd[0]));
			memcpy(g->fwd[ev.from_sink] + g->nfwd[ev.from_sink],
			    ev.raw, ev.len);
			g->nfwd[ev.from_sink] += ev.len;
		}
		if (r < 0)
			return (r);
	}
	return (r);
}

#define SRC(s, g, lit, step) feed((s), (g), 0, (lit), sizeof(lit) - 1, \
	(step), why, sizeof(why))
#define SNK(s, g, lit) feed((s), (g), 1, (lit), sizeof(lit) - 1, 0, why, \
	sizeof(why))

/* An upload's C line cline (size 1), its answer, its byte and status,
 * and the answer to that. */
static void
one_byte_file(struct scp *s, struct got *g, const char *cline)
{
	char why[256];

	assert_int_equal(feed(s, g, 0, cline, strlen(cline), 0, why,
	    sizeof(why)), 0);
	assert_int_equal(SNK(s, g, "\0"), 0);
	assert_int_equal(SRC(s, g, "z\0", 0), 0);
	assert_int_equal(SNK(s, g, "\0"), 0);
}

static void
sha_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];

	SHA256(p, n, d);
	hex_encode(d, 32, out);
}

static void
test_cmd_parse(void **state)
{
	struct scp_cmd c;
	char why[256];
	static const char *bad[] = {
		"scp -t a b", "scp -t -f x", "scp -tf x", "scp -x -t a",
		"scp -t 'unterminated", "scp -t a;rm", "ls -t x", "scp -t",
		"scp", "", "scp -r x", "scp -t $HOME", "scp -t a`id`",
	};
	size_t i;

	(void)state;
	assert_int_equal(scp_cmd_parse("scp -t /tmp/x", &c, why, sizeof(why)),
	    0);
	assert_true(c.upload && !c.recursive && !c.dirtarget);
	assert_string_equal(c.target, "/tmp/x");
	assert_int_equal(scp_cmd_parse("scp -v -r -p -d -t -- '/tmp/a b'", &c,
	    why, sizeof(why)), 0);
	assert_true(c.upload && c.recursive && c.dirtarget);
	assert_string_equal(c.target, "/tmp/a b");
	assert_int_equal(scp_cmd_parse("scp  -f  logs/x.log", &c, why,
	    sizeof(why)), 0);
	assert_false(c.upload);
	assert_string_equal(c.target, "logs/x.log");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(scp_cmd_parse(bad[i], &c, why, sizeof(why)),
		    BERR_FORMAT);
		assert_non_null(strstr(why, "-t|-f PATH"));
	}
}

/* An upload as OpenSSH scp -O -p sends it, whole and byte by byte. */
static void
test_upload(void **state)
{
	static const char want[] = "hello, device\n\0binary\xff";
	char why[256], hex[65];
	size_t step;
	struct got g;
	struct scp *s;

	(void)state;
	for (step = 0; step <= 1; step++) {
		s = mk("scp -p -t /tmp/fw.bin", &g);
		assert_int_equal(SNK(s, &g, "\0"), 0);
		assert_int_equal(SRC(s, &g, "T1700000000 0 1700000000 0\n",
		    step), 0);
		assert_int_equal(SNK(s, &g, "\0"), 0);
		assert_int_equal(SRC(s, &g, "C0644 21 local.bin\n", step), 0);
		assert_int_equal(SNK(s, &g, "\0"), 0);
		assert_int_equal(feed(s, &g, 0, want, 21, step, why,
		    sizeof(why)), 0);
		assert_int_equal(SRC(s, &g, "\0", step), 0);
		assert_int_equal(g.n, 0);	/* not before the answer */
		assert_int_equal(SNK(s, &g, "\0"), 0);
		assert_int_equal(g.n, 1);
		sha_hex(want, 21, hex);
		assert_string_equal(g.r[0].sha, hex);
		assert_string_equal(g.r[0].path, "/tmp/fw.bin");
		assert_string_equal(g.r[0].outcome, "ok");
		assert_int_equal(g.r[0].dir, SFTP_DIR_IN);
		assert_int_equal(g.r[0].bytes, 21);
		assert_int_equal(g.ndata, 21);
		assert_memory_equal(g.data, want, 21);
		assert_int_equal(scp_bytes(s), 21);
		/* every byte of both streams handed on, in order */
		assert_int_equal(g.nfwd[1], 4);
		assert_int_equal(g.nfwd[0], 27 + 19 + 21 + 1);
		assert_int_equal(g.items[0], SCP_ITEM_ACK);
		assert_int_equal(g.items[1], SCP_ITEM_TIME);
		assert_int_equal(g.items[3], SCP_ITEM_FILE);
		assert_int_equal(g.items[g.nitems - 2], SCP_ITEM_STATUS);
		scp_free(s);
		assert_int_equal(g.n, 1);	/* nothing more at the end */
	}
}

/* scp -O -r tree dev:/in/ : D, C, nested D, E, E; paths in full. */
static void
test_recursive_paths(void **state)
{
	char why[256];
	struct got g;
	struct scp *s = mk("scp -r -d -t /in/", &g);

	(void)state;
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "D0755 0 tree\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 1 a\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "x\0", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "D0700 0 sub\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0600 0 empty\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "\0", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "E\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 2 b\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "yy\0", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "E\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	one_byte_file(s, &g, "C0644 1 top\n");
	assert_int_equal(g.n, 4);
	assert_string_equal(g.r[0].path, "/in/tree/a");
	assert_string_equal(g.r[1].path, "/in/tree/sub/empty");
	assert_string_equal(g.r[1].sha, "e3b0c44298fc1c149afbf4c8996fb92427ae4"
	    "1e4649b934ca495991b7852b855");
	assert_string_equal(g.r[2].path, "/in/tree/b");
	assert_string_equal(g.r[3].path, "/in/top");
	assert_int_equal(g.r[3].serial, 4);
	scp_free(s);
}

/* A download (-f): the device is the source; paths from PATH's folder. */
static void
test_download_paths(void **state)
{
	char why[256];
	struct got g;
	struct scp *s = mk("scp -f /var/log/x.log", &g);

	(void)state;
	/* the device's bytes before the client's first \0 wait their turn */
	assert_int_equal(SRC(s, &g, "C0644 3 x.log\n", 0), 0);
	assert_int_equal(g.nitems, 0);
	assert_int_equal(scp_held(s, 0), 14);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(g.nitems, 2);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "abc\0", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.r[0].path, "/var/log/x.log");
	assert_int_equal(g.r[0].dir, SFTP_DIR_OUT);
	scp_free(s);

	s = mk("scp -r -f /var/log/", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "D0755 0 log\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 1 y\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "q\0", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_string_equal(g.r[0].path, "/var/log/y");
	scp_free(s);

	s = mk("scp -f relative", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 0 relative\n", 0), 0);
	scp_free(s);		/* under way at the end */
	assert_int_equal(g.n, 1);
	assert_string_equal(g.r[0].path, "relative");
	assert_string_equal(g.r[0].outcome, "incomplete");
}

/* The sink refuses a file; the bastion refuses one; then one goes. */
static void
test_refusals(void **state)
{
	char why[256];
	struct got g;
	struct scp *s = mk("scp -d -t /in", &g);

	(void)state;
	assert_int_equal(scp_refuse(s, "no"), BERR_INVAL);  /* nothing due */
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 5 a\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\1scp: /in/a: Permission denied\n"), 0);
	assert_int_equal(g.n, 1);
	rec_is(&g, 0, "failed", "Permission denied");
	/* no data follows a refused C line: the next line is a line */
	assert_int_equal(SRC(s, &g, "C0644 100 big\n", 0), 0);
	assert_int_equal(scp_refuse(s, "over the limit"), 0);
	assert_int_equal(g.n, 2);
	rec_is(&g, 1, "refused", "over the limit");
	assert_int_equal(g.r[1].size, 100);
	assert_int_equal(g.r[1].bytes, 0);
	assert_int_equal(SRC(s, &g, "\1scp: c: No such file\nC0644 1 d\n", 0),
	    0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "d\1scp: d: read error\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(g.n, 3);
	rec_is(&g, 2, "failed", "read error");
	assert_int_equal(scp_bytes(s), 1);
	scp_free(s);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *cmd;
		const char *src;
		size_t srclen;
		const char *why;
	} bad[] = {
#define B(cmd, lit, why) { cmd, lit, sizeof(lit) - 1, why }
		B("scp -t x", "Xjunk\n", "from the client: a control line "
		    "that starts with 0x58"),
		B("scp -t x", "C0644 1 ../x\n", "a name with '/'"),
		B("scp -t x", "C0644 1 ..\n", "\"..\""),
		B("scp -t x", "C0644 1 a\tb\n", "control character"),
		B("scp -t x", "C064 1 a\n", "the mode is not four octal"),
		B("scp -t x", "C0644 1125899906842625 a\n", "a size of at most"),
		B("scp -t x", "C0644 99999999999999999999999 a\n", "a size"),
		B("scp -t x", "C0644 -1 a\n", "a size"),
		B("scp -t x", "E\n", "E line without its D line"),
		B("scp -t x", "Ex\n", "bytes after the E"),
		B("scp -t x", "T1 2\n", "T line"),
		B("scp -t x", "T1 1000000 1 0\n", "T line"),
		B("scp -t x", "C0644 1 a\0b\n", "a NUL byte inside a line"),
		B("scp -f x", "\2scp: fatal\nC0644 1 a\n", "from the device: "
		    "bytes after a fatal error"),
		/* a compromised device names a file it was not asked for */
		B("scp -f /etc/passwd", "C0644 1 shadow\n", "from the device: "
		    "C line: a name other than the one asked for"),
		B("scp -r -f /var/log/", "D0755 0 etc\n", "D line: a name "
		    "other than the one asked for"),
		B("scp -t x", "D0755 0 d\n", "a D line without -r"),
		B("scp -f x", "D0755 0 x\n", "a D line without -r"),
#undef B
	};
	char why[256];
	struct got g;
	struct scp_ev ev;
	struct scp *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = mk(bad[i].cmd, &g);
		assert_int_equal(SNK(s, &g, "\0"), 0);
		why[0] = '\0';
		assert_int_equal(feed(s, &g, 0, bad[i].src, bad[i].srclen, 0,
		    why, sizeof(why)), BERR_FORMAT);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%zu: \"%s\" lacks \"%s\"", i, why,
			    bad[i].why);
		/* lost for good */
		assert_int_equal(scp_next(s, &ev, why, sizeof(why)),
		    BERR_FORMAT);
		scp_free(s);
	}

	/* a line that never ends */
	s = mk("scp -t x", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	{
		static uint8_t lng[SCP_MAX_LINE + 10];

		memset(lng, 'a', sizeof(lng));
		lng[0] = 'C';
		assert_int_equal(feed(s, &g, 0, lng, sizeof(lng), 0, why,
		    sizeof(why)), BERR_FORMAT);
		assert_non_null(strstr(why, "a line longer than"));
	}
	scp_free(s);

	/* the sink speaks out of turn, or not in \0 \1 \2 */
	s = mk("scp -t x", &g);
	assert_int_equal(SNK(s, &g, "\0\0"), BERR_FORMAT);
	assert_non_null(strstr(why, "from the device: bytes when no answer"));
	scp_free(s);
	s = mk("scp -f x", &g);
	assert_int_equal(SNK(s, &g, "A"), BERR_FORMAT);
	assert_non_null(strstr(why, "from the client: an answer of 0x41"));
	scp_free(s);

	/* a file's status that is not a status */
	s = mk("scp -t x", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 1 a\n", 0), 0);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "zz", 0), BERR_FORMAT);
	assert_non_null(strstr(why, "a file's status of 0x7a"));
	scp_free(s);
	assert_string_equal(g.r[0].outcome, "incomplete");

	/* too deep */
	s = mk("scp -r -t /x", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	for (i = 0; i < SCP_MAX_DEPTH; i++) {
		assert_int_equal(SRC(s, &g, "D0755 0 d\n", 0), 0);
		assert_int_equal(SNK(s, &g, "\0"), 0);
	}
	assert_int_equal(SRC(s, &g, "D0755 0 d\n", 0), BERR_FORMAT);
	assert_non_null(strstr(why, "directories deep"));
	scp_free(s);
}

/*
 * OpenSSH's scp reads a line into char[2048]: what does not fit is its
 * next line. A warning line of 2047 bytes and more would hide a C line
 * (and the file's data as more warnings) that the device writes and the
 * bastion never sees as a file; so a line is at most 2047 bytes, '\n'
 * included.
 */
static void
test_openssh_line_limit(void **state)
{
	static const char hidden[] = "C0644 7 evil\n\1abcde\n\1end\n";
	uint8_t b[SCP_MAX_LINE + sizeof(hidden)];
	char why[256];
	struct got g;
	struct scp *s;

	(void)state;
	assert_int_equal(SCP_MAX_LINE, 2047);
	/* 2047 bytes with its '\n': one warning, as OpenSSH reads it */
	s = mk("scp -d -t /in", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	b[0] = '\1';
	memset(b + 1, 'x', SCP_MAX_LINE - 2);
	b[SCP_MAX_LINE - 1] = '\n';
	assert_int_equal(feed(s, &g, 0, b, SCP_MAX_LINE, 0, why, sizeof(why)),
	    0);
	assert_int_equal(g.nitems, 2);
	assert_int_equal(g.items[1], SCP_ITEM_WARN);
	scp_free(s);
	/* 2047 bytes before the C line: the device would read a C line */
	s = mk("scp -d -t /in", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	memset(b + 1, 'x', SCP_MAX_LINE - 1);
	memcpy(b + SCP_MAX_LINE, hidden, sizeof(hidden) - 1);
	assert_int_equal(feed(s, &g, 0, b, SCP_MAX_LINE + sizeof(hidden) - 1,
	    0, why, sizeof(why)), BERR_FORMAT);
	assert_non_null(strstr(why, "from the client: a line longer than "
	    "2047 bytes"));
	assert_int_equal(g.nitems, 1);	/* nothing of it was passed on */
	scp_free(s);
	/* a C line cut inside its name (the size padded with zeros) */
	s = mk("scp -d -t /in", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	memcpy(b, "C0644 ", 6);
	memset(b + 6, '0', SCP_MAX_LINE - 6);
	memcpy(b + SCP_MAX_LINE - 10, "5 aaaaaaaaaa\n", 13);
	assert_int_equal(feed(s, &g, 0, b, SCP_MAX_LINE + 3, 0, why,
	    sizeof(why)), BERR_FORMAT);
	assert_non_null(strstr(why, "a line longer than"));
	assert_int_equal(g.n, 0);
	scp_free(s);
}

/* An upload to "." (what `scp -O a dev:` runs) or ".." goes into it. */
static void
test_dot_targets(void **state)
{
	static const char *const cmd[] = { "scp -t .", "scp -t /srv/..",
	    "scp -t srv/.", "scp -t /srv/" };
	static const char *const want[] = { "./a", "/srv/../a", "srv/./a",
	    "/srv/a" };
	char why[256];
	struct got g;
	struct scp *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++) {
		s = mk(cmd[i], &g);
		assert_int_equal(SNK(s, &g, "\0"), 0);
		one_byte_file(s, &g, "C0644 1 a\n");
		assert_int_equal(g.n, 1);
		assert_string_equal(g.r[0].path, want[i]);
		scp_free(s);
	}
	/* a plain PATH is still the file itself */
	s = mk("scp -t /srv/fw.bin", &g);
	assert_int_equal(SNK(s, &g, "\0"), 0);
	assert_int_equal(SRC(s, &g, "C0644 0 a\n", 0), 0);
	scp_free(s);		/* recorded "incomplete" */
	assert_string_equal(g.r[0].path, "/srv/fw.bin");
}

/* Every item of s's stream as --text lines, joined by '\n', into out. */
static void
describe_all(struct scp *s, int upload, int from_sink, const void *p,
    size_t n, char *out, size_t outlen)
{
	char why[256], line[SCP_MAX_LINE * 4 + 128];
	struct scp_ev ev;
	int r;

	assert_int_equal(scp_put(s, from_sink, p, n), 0);
	while ((r = scp_next(s, &ev, why, sizeof(why))) == 1)
		if (scp_describe(&ev, upload, line, sizeof(line)))
			snprintf(out + strlen(out), outlen - strlen(out),
			    "%s\n", line);
	assert_int_equal(r, 0);
}

/* bastion-replay --text's lines for scp -O: one per line and answer, one
 * per file's data, messages made printable. */
static void
test_describe(void **state)
{
	char out[4096] = "";
	struct got g;
	struct scp *s = mk("scp -r -d -t /in", &g);

	(void)state;
#define UP(snk, lit) describe_all(s, 1, (snk), (lit), sizeof(lit) - 1, out, \
	sizeof(out))
	UP(1, "\0");
	UP(0, "T1700000000 0 1700000000 0\n");
	UP(1, "\0");
	UP(0, "D0755 0 tree\n");
	UP(1, "\0");
	UP(0, "C0644 5 a b\n");
	UP(1, "\1scp: no\033[2J\n");
	UP(0, "C0644 5 b\n");
	UP(1, "\0");
	UP(0, "he");
	UP(0, "llo\1scp: b: read error\n");
	UP(1, "\0");
	UP(0, "C0600 0 e\n");
	UP(1, "\0");
	UP(0, "\0E\n");
	UP(1, "\0");
	UP(1, "\0");
#undef UP
	assert_string_equal(out,
	    "< ok\n"
	    "> T1700000000 0 1700000000 0\n"
	    "< ok\n"
	    "> D0755 0 tree (directory /in/tree)\n"
	    "< ok\n"
	    "> C0644 5 a b (file 1: /in/tree/a b)\n"
	    "< refused: scp: no\\e[2J\n"
	    "> C0644 5 b (file 2: /in/tree/b)\n"
	    "< ok\n"
	    "> data of file 2: 5 bytes\n"
	    "> end of file 2, error: scp: b: read error\n"
	    "< ok\n"
	    "> C0600 0 e (file 3: /in/tree/e)\n"
	    "< ok\n"
	    "> end of file 3\n"
	    "< ok\n"
	    "> E\n"
	    "< ok\n");
	scp_free(s);
	/* a download: the device is the source, the engineer answers */
	out[0] = '\0';
	s = mk("scp -f /var/log/x.log", &g);
	describe_all(s, 0, 1, "\0", 1, out, sizeof(out));
	describe_all(s, 0, 0, "C0644 3 x.log\n", 14, out, sizeof(out));
	describe_all(s, 0, 1, "\0", 1, out, sizeof(out));
	describe_all(s, 0, 0, "abc\0", 4, out, sizeof(out));
	describe_all(s, 0, 1, "\2no room\n", 9, out, sizeof(out));
	assert_string_equal(out,
	    "> ok\n"
	    "< C0644 3 x.log (file 1: /var/log/x.log)\n"
	    "> ok\n"
	    "< data of file 1: 3 bytes\n"
	    "< end of file 1\n"
	    "> fatal: no room\n");
	scp_free(s);
}

static void
test_room(void **state)
{
	static uint8_t junk[SCP_BUF + 1];
	struct got g;
	struct scp *s = mk("scp -t x", &g);

	(void)state;
	assert_int_equal(scp_room(s, 0), SCP_BUF);
	assert_int_equal(scp_put(s, 0, junk, sizeof(junk)), BERR_LIMIT);
	assert_int_equal(scp_put(s, 0, junk, SCP_BUF), 0);
	assert_int_equal(scp_room(s, 0), 0);
	assert_int_equal(scp_put(s, 0, junk, 1), BERR_LIMIT);
	scp_free(s);
	scp_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_parse),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_recursive_paths),
		cmocka_unit_test(test_download_paths),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_openssh_line_limit),
		cmocka_unit_test(test_dot_targets),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_room),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
