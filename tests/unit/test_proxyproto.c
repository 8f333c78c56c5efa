/*
 * test_proxyproto.c - the PROXY protocol header parser (proto/
 * proxyproto.c) that the listener runs on connections from trusted load
 * balancers: HAProxy's v2 headers (TCP4, TCP6, LOCAL, with TLVs that are
 * skipped) and v1 lines, each accepted only whole and measured exactly
 * (the SSH identification after it is not part of it), every prefix of
 * them answered "more", and every way a header can be wrong refused
 * with a reason. Then the policy's proxy_protocol: section, through the
 * real loader.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "err.h"
#include "proxyproto.h"
#include "policy_fixture.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header into b: ver/cmd, family, len and body (blen bytes); its
 * total length. */
static size_t
v2(uint8_t *b, uint8_t vc, uint8_t fam, size_t len, const uint8_t *body,
    size_t blen)
{
	memcpy(b, sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (uint8_t)(len >> 8);
	b[15] = (uint8_t)len;
	memcpy(b + 16, body, blen);
	return (16 + blen);
}

static const char *
str(const struct netaddr *a)
{
	static char s[2][64];
	static int i;

	i ^= 1;
	return (netaddr_str(a, s[i], sizeof(s[i])));
}

static void
test_v2_tcp4(void **state)
{
	/* 127.0.3.7:40000 -> 127.0.0.1:2222, a TLV, then "SSH-2.0-" */
	static const uint8_t body[] = { 127, 0, 3, 7, 127, 0, 0, 1,
	    0x9c, 0x40, 0x08, 0xae,
	    0x04, 0x00, 0x03, 'a', 'b', 'c' };	/* PP2_TYPE_NOOP TLV */
	uint8_t b[600];
	struct proxyproto_hdr h;
	const char *why;
	size_t n, i;

	(void)state;
	n = v2(b, 0x21, 0x11, sizeof(body), body, sizeof(body));
	memcpy(b + n, "SSH-2.0-x\r\n", 11);
	assert_int_equal(proxyproto_parse(b, n + 11, &h, &why), (int)n);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.local, 0);
	assert_string_equal(str(&h.src), "127.0.3.7");
	assert_string_equal(str(&h.dst), "127.0.0.1");
	assert_int_equal(h.sport, 40000);
	assert_int_equal(h.dport, 2222);
	/* exactly the header, no more: every prefix is "more" */
	assert_int_equal(proxyproto_parse(b, n, &h, &why), (int)n);
	for (i = 0; i < n; i++)
		assert_int_equal(proxyproto_parse(b, i, &h, &why),
		    PROXYPROTO_MORE);
}

static void
test_v2_tcp6_and_local(void **state)
{
	uint8_t body[36], b[600];
	struct proxyproto_hdr h;
	const char *why;
	size_t n;

	(void)state;
	memset(body, 0, sizeof(body));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", body), 1);
	assert_int_equal(inet_pton(AF_INET6, "::1", body + 16), 1);
	body[32] = 0x01;
	body[33] = 0x02;
	body[35] = 22;
	n = v2(b, 0x21, 0x21, sizeof(body), body, sizeof(body));
	assert_int_equal(proxyproto_parse(b, n, &h, &why), (int)n);
	assert_string_equal(str(&h.src), "2001:db8::7");
	assert_int_equal(h.sport, 258);
	assert_int_equal(h.dport, 22);
	/* an IPv4-mapped source is folded to IPv4, as netaddr does */
	memset(body, 0, 16);
	body[10] = body[11] = 0xff;
	body[12] = 10;
	body[15] = 9;
	n = v2(b, 0x21, 0x21, sizeof(body), body, sizeof(body));
	assert_int_equal(proxyproto_parse(b, n, &h, &why), (int)n);
	assert_string_equal(str(&h.src), "10.0.0.9");
	/* LOCAL (a health check): no address, whatever the family */
	n = v2(b, 0x20, 0x00, 0, body, 0);
	assert_int_equal(proxyproto_parse(b, n, &h, &why), 16);
	assert_int_equal(h.local, 1);
	n = v2(b, 0x20, 0x11, 12, body, 12);
	assert_int_equal(proxyproto_parse(b, n, &h, &why), 28);
	assert_int_equal(h.local, 1);
}

static void
test_v2_bad(void **state)
{
	/* ver/cmd, family, length (body of zeros), a word of the reason */
	static const struct {
		uint8_t vc, fam;
		size_t len;
		const char *why;
	} bad[] = {
		{ 0x11, 0x11, 12, "version" },		/* v1 in binary form */
		{ 0x22, 0x11, 12, "command" },		/* unknown command */
		{ 0x21, 0x12, 12, "TCP" },		/* UDP */
		{ 0x21, 0x31, 216, "TCP" },		/* UNIX */
		{ 0x21, 0x00, 0, "TCP" },		/* PROXY with UNSPEC */
		{ 0x21, 0x11, 11, "short" },		/* no room for the */
		{ 0x21, 0x21, 35, "short" },		/* ... addresses */
	};
	static const uint8_t body[600];
	uint8_t b[700];
	struct proxyproto_hdr h;
	const char *why;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = v2(b, bad[i].vc, bad[i].fam, bad[i].len, body, bad[i].len);
		assert_int_equal(proxyproto_parse(b, n, &h, &why), BERR_FORMAT);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("case %zu: %s", i, why);
	}
	/* the cap: 520 bytes after the 16 are taken, 521 refused at once
	 * (before they arrive: no waiting for a flood) */
	n = v2(b, 0x21, 0x11, PROXYPROTO_V2_MAX_LEN, body,
	    PROXYPROTO_V2_MAX_LEN);
	assert_int_equal(proxyproto_parse(b, n, &h, &why), PROXYPROTO_MAX);
	(void)v2(b, 0x21, 0x11, PROXYPROTO_V2_MAX_LEN + 1, body, 0);
	assert_int_equal(proxyproto_parse(b, 16, &h, &why), BERR_FORMAT);
	assert_non_null(strstr(why, "longer"));
	(void)v2(b, 0x21, 0x11, 0xffff, body, 0);
	assert_int_equal(proxyproto_parse(b, 16, &h, &why), BERR_FORMAT);
	/* a signature that goes wrong part way */
	memcpy(b, sig, 12);
	b[7] = 'X';
	assert_int_equal(proxyproto_parse(b, 8, &h, &why), BERR_FORMAT);
}

static int
v1(const char *s, struct proxyproto_hdr *h, const char **why)
{
	return (proxyproto_parse((const uint8_t *)s, strlen(s), h, why));
}

static void
test_v1(void **state)
{
	static const char ok[] = "PROXY TCP4 127.0.3.7 127.0.0.1 40000 2222\r\n";
	struct proxyproto_hdr h;
	const char *why;
	char buf[256];
	size_t i;

	(void)state;
	snprintf(buf, sizeof(buf), "%sSSH-2.0-x\r\n", ok);
	assert_int_equal(v1(buf, &h, &why), (int)strlen(ok));
	assert_int_equal(h.version, 1);
	assert_string_equal(str(&h.src), "127.0.3.7");
	assert_int_equal(h.sport, 40000);
	assert_int_equal(h.dport, 2222);
	for (i = 0; i < strlen(ok); i++)
		assert_int_equal(proxyproto_parse((const uint8_t *)ok, i, &h,
		    &why), PROXYPROTO_MORE);
	assert_int_equal(v1("PROXY TCP6 2001:db8::7 ::1 1 22\r\n", &h, &why),
	    33);
	assert_string_equal(str(&h.src), "2001:db8::7");
	assert_int_equal(v1("PROXY UNKNOWN\r\n", &h, &why), 15);
	assert_int_equal(h.local, 1);
	assert_int_equal(v1("PROXY UNKNOWN ffff::1 ::1 1 2\r\n", &h, &why), 31);
	assert_int_equal(h.local, 1);
}

static void
test_v1_bad(void **state)
{
	static const char *const bad[] = {
		"PROXY TCP4 127.0.3.7 127.0.0.1 40000\r\n",	/* a field short */
		"PROXY TCP4 127.0.3.7 127.0.0.1 1 2 3\r\n",	/* one too many */
		"PROXY TCP4  127.0.3.7 127.0.0.1 1 2\r\n",	/* two spaces */
		"PROXY TCP4 127.1 127.0.0.1 1 2\r\n",		/* shorthand */
		"PROXY TCP4 ::1 127.0.0.1 1 2\r\n",		/* wrong family */
		"PROXY TCP6 127.0.0.1 ::1 1 2\r\n",
		"PROXY TCP4 127.0.3.7 127.0.0.1 65536 2\r\n",	/* port */
		"PROXY TCP4 127.0.3.7 127.0.0.1 01 2\r\n",
		"PROXY TCP4 127.0.3.7 127.0.0.1 -1 2\r\n",
		"PROXY UDP4 127.0.3.7 127.0.0.1 1 2\r\n",
		"PROXY TCP4 127.0.3.7 127.0.0.1 1 2\n",		/* LF only */
		"PROXX TCP4",					/* not PROXY */
		"SSH-2.0-OpenSSH_9.2\r\n",			/* no header */
		"GET / HTTP/1.0\r\n",
	};
	struct proxyproto_hdr h;
	const char *why;
	char longl[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (v1(bad[i], &h, &why) != BERR_FORMAT)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	/* no CRLF within 107 bytes: refused, not waited for */
	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "PROXY ", 6);
	assert_int_equal(proxyproto_parse((const uint8_t *)longl,
	    PROXYPROTO_V1_MAX, &h, &why), BERR_FORMAT);
	assert_int_equal(proxyproto_parse((const uint8_t *)longl,
	    PROXYPROTO_V1_MAX - 1, &h, &why), PROXYPROTO_MORE);
	/* CRLF at bytes 107 and 108: one past the cap (found by
	 * fuzz_proxyproto) */
	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "PROXY UNKNOWN ", 14);
	memcpy(longl + 106, "\r\n", 2);
	assert_int_equal(proxyproto_parse((const uint8_t *)longl, 120, &h,
	    &why), BERR_FORMAT);
	memcpy(longl + 105, "\r\n", 2);
	assert_int_equal(proxyproto_parse((const uint8_t *)longl, 120, &h,
	    &why), PROXYPROTO_V1_MAX);
	/* a NUL inside the line */
	assert_int_equal(proxyproto_parse((const uint8_t *)"PROXY T\0P4\r\n",
	    12, &h, &why), BERR_FORMAT);
	/* nothing yet: more */
	assert_int_equal(proxyproto_parse((const uint8_t *)"", 0, &h, &why),
	    PROXYPROTO_MORE);
}

static void
test_policy_section(void **state)
{
	static const char *const refused[][2] = {
		{ "proxy_protocol:\n  from: [0.0.0.0/0]\n",
		    "covers every address" },
		{ "proxy_protocol:\n  from: [10.0.0.5/8]\n",
		    "proxy_protocol" },
		{ "proxy_protocol:\n  from: []\n", "empty" },
		{ "proxy_protocol:\n  form: [127.0.0.1]\n", "form" },
		{ "proxy_protocol: yes\n", "mapping" },
	};
	struct policy *p;
	size_t nerrs, i;
	char *e;

	(void)state;
	e = load_with("proxy_protocol:\n  from: [127.0.0.1/32, 10.0.0.5, "
	    "\"fd00::/64\"]\n", &p, &nerrs);
	assert_string_equal(e, "");
	assert_non_null(p);
	assert_int_equal(p->nproxy_from, 3);
	assert_int_equal(p->proxy_from[1].prefix, 32);
	policy_free(p);
	free(e);
	/* none: no balancer */
	e = load_with("", &p, &nerrs);
	assert_non_null(p);
	assert_int_equal(p->nproxy_from, 0);
	policy_free(p);
	free(e);
	/* refused, each with its fix */
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		e = load_with(refused[i][0], &p, &nerrs);
		assert_null(p);
		if (strstr(e, refused[i][1]) == NULL)
			fail_msg("%s: %s", refused[i][0], e);
		free(e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_tcp4),
		cmocka_unit_test(test_v2_tcp6_and_local),
		cmocka_unit_test(test_v2_bad),
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v1_bad),
		cmocka_unit_test(test_policy_section),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
