/*
 * test_ship.c - bastion-ship's pieces that must be exactly right. Its
 * AWS Signature Version 4 signer (ship/sigv4.c) against known answers AWS
 * published: two requests of
 * the Signature Version 4 test suite (get-vanilla and
 * get-vanilla-query-order-key-case, credentials AKIDEXAMPLE, service
 * "service") and three of the S3 API reference's examples (GET Object
 * with a Range, PUT Object with a signed payload hash, ListObjects with a
 * query). A signer that differs in any byte of the canonical request,
 * the scope, the key derivation or the hex fails them. Also: URI
 * encoding as S3 wants it, and the refusals (upper-case or repeated
 * header names, a header value with a line break, a bad date, output too
 * small). What it reads from the store and from its credentials file:
 * a by-id entry only in its exact form and only for the asked id (a key
 * for another id, "..", a signed or padded size, a second line are
 * refused), an S3 error body's <Code> only when plain, the credentials
 * file's names and values; recording ids and object keys.
 * docs/RECORDING-STORE.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hex.h"
#include "ship.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_AK "AKIAIOSFODNN7EXAMPLE"
#define S3_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static void
expect_sig(const struct sigv4_req *r, const char *want_sig,
    const char *want_auth)
{
	char auth[1024], sig[SHIP_SHA256_HEX];

	assert_int_equal(sigv4_sign(r, auth, sizeof(auth), sig), 0);
	assert_string_equal(sig, want_sig);
	if (want_auth != NULL)
		assert_string_equal(auth, want_auth);
}

#define S3_HOST	{ "host", "examplebucket.s3.amazonaws.com" }
#define S3_DATE	{ "x-amz-date", "20130524T000000Z" }
#define S3_EMPTY { "x-amz-content-sha256", EMPTY_SHA256 }
#define SUITE_HOST { "host", "example.amazonaws.com" }
#define SUITE_DATE { "x-amz-date", "20150830T123600Z" }

/* Known answers without a body: the request, then the signature. */
static const struct {
	const char *what, *path, *query;
	struct sigv4_header h[4];
	size_t nh;
	int s3;				/* S3's example keys, else the suite's */
	const char *sig;
} vectors[] = {
	/* aws-sig-v4-test-suite/get-vanilla (headers in any order) */
	{ "get-vanilla", "/", "", { SUITE_DATE, SUITE_HOST }, 2, 0,
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
	/* get-vanilla-query-order-key-case: the query given sorted */
	{ "get-vanilla-query-order-key-case", "/",
	    "Param1=value1&Param2=value2", { SUITE_HOST, SUITE_DATE }, 2, 0,
	    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
	/* S3 API reference, "Example: GET Object" (the first 10 bytes) */
	{ "GET Object", "/test.txt", "", { S3_HOST, { "range", "bytes=0-9" },
	    S3_EMPTY, S3_DATE }, 4, 1,
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" },
	/* S3 API reference, "Example: GET Bucket (List Objects)" */
	{ "ListObjects", "/", "max-keys=2&prefix=J", { S3_HOST, S3_EMPTY,
	    S3_DATE }, 3, 1,
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
};

static void
vector_req(size_t i, struct sigv4_req *r)
{
	*r = (struct sigv4_req){ "GET", vectors[i].path, vectors[i].query,
	    vectors[i].h, vectors[i].nh, EMPTY_SHA256, vectors[i].s3 ?
	    "20130524T000000Z" : "20150830T123600Z", "us-east-1",
	    vectors[i].s3 ? "s3" : "service", vectors[i].s3 ? S3_AK :
	    SUITE_AK, vectors[i].s3 ? S3_SK : SUITE_SK };
}

static void
test_known_answers(void **state)
{
	char auth[1024], sig[SHIP_SHA256_HEX];
	struct sigv4_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		vector_req(i, &r);
		assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), sig), 0);
		if (strcmp(sig, vectors[i].sig) != 0)
			fail_msg("%s: signature %s, AWS says %s",
			    vectors[i].what, sig, vectors[i].sig);
	}
	/* the whole header, as AWS prints it */
	vector_req(0, &r);
	expect_sig(&r, vectors[0].sig,
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	vector_req(2, &r);
	expect_sig(&r, vectors[2].sig,
	    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
	    "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857"
	    "bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	/* one changed byte of the secret: another signature */
	vector_req(3, &r);
	r.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), sig), 0);
	assert_string_not_equal(sig, vectors[3].sig);
}

/* S3 API reference, "Example: PUT Object": the payload's hash signed,
 * the key's '$' encoded */
static void
test_s3_put_object(void **state)
{
	const char *body = "Welcome to Amazon S3.";
	uint8_t d[32];
	char hash[SHIP_SHA256_HEX], path[64];
	struct sigv4_header h[] = {
		{ "date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "host", "examplebucket.s3.amazonaws.com" },
		{ "x-amz-content-sha256", NULL },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
	};
	struct sigv4_req r = { "PUT", NULL, "", h, 5, NULL,
	    "20130524T000000Z", "us-east-1", "s3", S3_AK, S3_SK };

	(void)state;
	assert_int_equal(EVP_Digest(body, strlen(body), d, NULL, EVP_sha256(),
	    NULL), 1);
	hex_encode(d, 32, hash);
	h[2].value = hash;
	r.payload_hash = hash;
	assert_int_equal(sigv4_uri_encode("/test$file.text", 1, path,
	    sizeof(path)), 0);
	assert_string_equal(path, "/test%24file.text");
	r.path = path;
	expect_sig(&r,
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
	    NULL);
}

static void
test_uri_encode(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(sigv4_uri_encode("a b/c~d_e.f-g", 1, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "a%20b/c~d_e.f-g");
	assert_int_equal(sigv4_uri_encode("a/b+\xc3\xa9", 0, out, sizeof(out)),
	    0);
	assert_string_equal(out, "a%2Fb%2B%C3%A9");
	/* exactly too small: refused, not cut */
	assert_int_equal(sigv4_uri_encode("abc", 1, out, 3), -1);
	assert_int_equal(sigv4_uri_encode("abc", 1, out, 4), 0);
	assert_int_equal(sigv4_uri_encode(" ", 1, out, 3), -1);
}

static void
test_refusals(void **state)
{
	struct sigv4_header h[] = {
		{ "host", "example.amazonaws.com" },
		{ "x-amz-date", "20150830T123600Z" },
	};
	struct sigv4_req r = { "GET", "/", "", h, 2, EMPTY_SHA256,
	    "20150830T123600Z", "us-east-1", "service", SUITE_AK, SUITE_SK };
	char auth[1024];

	(void)state;
	h[0].name = "Host";
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), NULL), -1);
	h[0].name = "x-amz-date";
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), NULL), -1);
	h[0].name = "host";
	h[0].value = "example.amazonaws.com\r\nx-evil: 1";
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), NULL), -1);
	h[0].value = "example.amazonaws.com";
	r.amz_date = "2015-08-30";
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), NULL), -1);
	r.amz_date = "20150830T123600Z";
	assert_int_equal(sigv4_sign(&r, auth, 40, NULL), -1);
	r.nheaders = 0;
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), NULL), -1);
	r.nheaders = 2;
	assert_int_equal(sigv4_sign(&r, auth, sizeof(auth), NULL), 0);
}

static void
test_amz_date(void **state)
{
	char d[17];

	(void)state;
	sigv4_amz_date(1440938160, d);
	assert_string_equal(d, "20150830T123600Z");
}

#define ID	"20261207T213651Z-9a5ce9a9528aacf2"
#define SHA	"89e6a22eef7b3b221abbace9f19e4786b55f24d4d11476ebf886cc6463ac2b39"

static int
entry(const char *text, char *key, unsigned long long *size)
{
	char sha[SHIP_SHA256_HEX];

	return (ship_index_parse(ID, text, strlen(text), key, SHIP_KEY_MAX,
	    size, sha, NULL));
}

static void
test_index_entry(void **state)
{
	static const char *const bad[] = {
		"p/node-a/2026/12/" ID ".brec 1247 " SHA,	/* no newline */
		"p/node-a/2026/12/" ID ".brec 1247 " SHA "\nmore\n",
		"p/node-a/2026/12/" ID ".brec  1247 " SHA "\n",
		"p/node-a/2026/12/" ID ".brec -1247 " SHA "\n",
		"p/node-a/2026/12/" ID ".brec +1247 " SHA "\n",
		"p/node-a/2026/12/" ID ".brec 01247 " SHA "\n",
		"p/node-a/2026/12/20261207T000000Z-00.brec 1247 " SHA "\n",
		"p/../../etc/" ID ".brec 1247 " SHA "\n",
		"/" ID ".brec 1247 " SHA "\n",
		ID ".brec 1247 " SHA "\n",
		"p/node-a/2026/12/" ID ".brec 1247 89E6" SHA "\n",
		"p/node-a/2026/12/" ID ".brec 1247 89e6\n",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA " \n",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA " cut",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA " cut \n",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA "  cut\n",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA " CUT\n",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA " sealed\n",
		"p/node-a/2026/12/" ID ".brec 1247 " SHA " cut\ncut\n",
		"",
	};
	char key[SHIP_KEY_MAX], sha[SHIP_SHA256_HEX];
	unsigned long long size = 0;
	size_t i;
	int cut = -1;

	(void)state;
	assert_int_equal(entry("p/node-a/2026/12/" ID ".brec 1247 " SHA "\n",
	    key, &size), 0);
	assert_string_equal(key, "p/node-a/2026/12/" ID ".brec");
	assert_int_equal(size, 1247);
	/* a recording cut by a crash, shipped after its node restarted */
	assert_int_equal(ship_index_parse(ID, "p/a/2026/12/" ID ".brec 9 " SHA
	    " cut\n", strlen("p/a/2026/12/" ID ".brec 9 " SHA " cut\n"), key,
	    sizeof(key), &size, sha, &cut), 0);
	assert_int_equal(cut, 1);
	assert_int_equal(size, 9);
	assert_int_equal(ship_index_parse(ID, "p/a/2026/12/" ID ".brec 9 " SHA
	    "\n", strlen("p/a/2026/12/" ID ".brec 9 " SHA "\n"), key,
	    sizeof(key), &size, sha, &cut), 0);
	assert_int_equal(cut, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (entry(bad[i], key, &size) != -1)
			fail_msg("accepted: %s", bad[i]);
	/* the length given counts, not a NUL: nothing past it is read */
	assert_int_equal(ship_index_parse(ID, "p/n/2026/12/" ID ".brec 1 " SHA
	    "\nXX", strlen("p/n/2026/12/" ID ".brec 1 " SHA "\n"), key,
	    sizeof(key), &size, sha, NULL), 0);
	assert_int_equal(ship_index_parse(ID, "x\0y", 3, key, sizeof(key),
	    &size, sha, NULL), -1);
}

static void
test_error_code(void **state)
{
	char code[80];

	(void)state;
	s3_error_code("<?xml version=\"1.0\"?><Error><Code>"
	    "SignatureDoesNotMatch</Code></Error>", code, sizeof(code));
	assert_string_equal(code, "SignatureDoesNotMatch");
	s3_error_code("<Error><Code>Bad Code</Code></Error>", code,
	    sizeof(code));
	assert_string_equal(code, "");
	s3_error_code("<Error><Code>\x1b[2J</Code></Error>", code,
	    sizeof(code));
	assert_string_equal(code, "");
	s3_error_code("<Error><Code>NoEnd", code, sizeof(code));
	assert_string_equal(code, "");
	s3_error_code("<Code>AccessDenied</Code>", code, 5);
	assert_string_equal(code, "");
}

static void
test_credentials(void **state)
{
	struct s3 s;
	char text[256], err[200];

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(text, sizeof(text), "# store\n\n  access_key_id = AKIA42 \r\n"
	    "secret_access_key=wJal/K7+MDENG  \n");
	assert_int_equal(s3_credentials_parse(&s, text, err, sizeof(err)), 0);
	assert_string_equal(s.access_key, "AKIA42");
	assert_string_equal(s.secret_key, "wJal/K7+MDENG");
	s3_close(&s);
	assert_string_equal(s.secret_key, "");
	memset(&s, 0, sizeof(s));
	snprintf(text, sizeof(text), "access_key_id = AK\n");
	assert_int_equal(s3_credentials_parse(&s, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "secret_access_key"));
	memset(&s, 0, sizeof(s));
	snprintf(text, sizeof(text), "access_key_id = A K\nsecret_access_key"
	    " = x\n");
	assert_int_equal(s3_credentials_parse(&s, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1"));
	snprintf(text, sizeof(text), "region = x\n");
	assert_int_equal(s3_credentials_parse(&s, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown name"));
	snprintf(text, sizeof(text), "just a line\n");
	assert_int_equal(s3_credentials_parse(&s, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NAME = VALUE"));
}

static void
test_ids_and_keys(void **state)
{
	char key[SHIP_KEY_MAX];

	(void)state;
	assert_true(ship_id_ok(ID));
	assert_false(ship_id_ok("../20261207"));
	assert_false(ship_id_ok("x20261207T213651Z"));
	assert_false(ship_id_ok(""));
	assert_int_equal(ship_object_key("node-a", ID, key, sizeof(key)), 0);
	assert_string_equal(key, "node-a/2026/12/" ID ".brec");
	assert_int_equal(ship_object_key("node-a", "a/b", key, sizeof(key)),
	    -1);
	assert_int_equal(ship_object_key("node-a", ID, key, 20), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_s3_put_object),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_amz_date),
		cmocka_unit_test(test_index_entry),
		cmocka_unit_test(test_error_code),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_ids_and_keys),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
