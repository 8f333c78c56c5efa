/*
 * mkseeds.c - write the seed corpus of every fuzz target (fuzz/README.md).
 *
 *	mkseeds OUTDIR NAME...	seeds for targets NAME into OUTDIR/NAME/
 *
 * Seeds are what the parsers meet in the tests: made here with the
 * project's own encoders (agent_msg_*, ctlp_request_encode, mon_format,
 * recwriter, auditlog_append, recproto_put_*), the vectors the unit tests
 * build the same way (tests/unit/test_touch.c's OpenSSL authenticator,
 * test_monitor.c's lines, test_recbundle.c's chain), and the policies the
 * tests load (policies/, copied by the Makefile). Everything is
 * deterministic: the keys come from fixed seeds (fuzz.h), so fuzz_agent,
 * fuzz_recording, fuzz_notarize and fuzz_bundle check real signatures and
 * a mutation that keeps them valid goes as deep as the seed.
 */
#define FUZZ_SK_KEY
#define FUZZ_REC
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "age.h"
#include "agent.h"
#include "approvals.h"
#include "auditlog.h"
#include "b64.h"
#include "buf.h"
#include "ctlproto.h"
#include "err.h"
#include "hex.h"
#include "monitor.h"
#include "recbundle.h"
#include "recenc.h"
#include "recnotary.h"
#include "recfmt.h"
#include "reckey.h"
#include "recproto.h"
#include "recwriter.h"
#include "sftp.h"
#include "sk.h"
#include "state.h"
#include "webauthn.h"
#include "../tests/unit/webauthn_fixture.h"
#include "store_call.h"
#include "store_wire.h"

static const char *outdir;

static void
die(const char *what)
{
	fprintf(stderr, "mkseeds: %s failed\n", what);
	exit(1);
}

static void
must(int ok, const char *what)
{
	if (!ok)
		die(what);
}

/* Write one seed OUTDIR/target/NAME. */
static void
seed(const char *target, const char *name, const void *p, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    (len > 0 && fwrite(p, 1, len, f) != len) || fclose(f) != 0)
		die(path);
}

static void
seed_str(const char *target, const char *name, const char *s)
{
	seed(target, name, s, strlen(s));
}

static void
seed_buf(const char *target, const char *name, const struct buf *b)
{
	seed(target, name, buf_ptr(b), buf_len(b));
}

static struct buf *
nbuf(void)
{
	struct buf *b = buf_new(1 << 20);

	must(b != NULL, "buf_new");
	return (b);
}

/* Read a whole file into a new buf. */
static struct buf *
slurp(const char *path)
{
	struct buf *b = nbuf();
	uint8_t tmp[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	must(f != NULL, path);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		must(buf_put(b, tmp, n) == 0, "buf_put");
	fclose(f);
	return (b);
}

/* ---- security keys (test_touch.c's authenticator, with fixed keys) ----- */

/* The sk signature blob over data, as an authenticator makes it. */
static struct buf *
sk_sign(uint8_t flags, uint32_t counter, const char *data)
{
	EVP_PKEY *pk = fuzz_sk_pkey();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t msg[32 + 1 + 4 + 32], sig[64];
	size_t siglen = sizeof(sig);
	struct buf *b = nbuf();

	must(pk != NULL && ctx != NULL, "key");
	SHA256((const uint8_t *)FUZZ_SK_APP, strlen(FUZZ_SK_APP), msg);
	msg[32] = flags;
	msg[33] = (uint8_t)(counter >> 24);
	msg[34] = (uint8_t)(counter >> 16);
	msg[35] = (uint8_t)(counter >> 8);
	msg[36] = (uint8_t)counter;
	SHA256((const uint8_t *)data, strlen(data), msg + 37);
	must(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) == 1, "sign");
	must(buf_put_cstring(b, SK_TYPE_ED25519) == 0 &&
	    buf_put_string(b, sig, siglen) == 0 && buf_put_u8(b, flags) == 0 &&
	    buf_put_u32(b, counter) == 0, "sig blob");
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return (b);
}

/* An ecdsa-sk signature blob (mpints r and s; not a valid signature). */
static struct buf *
sk_ecdsa_blob(void)
{
	struct buf *b = nbuf(), *in = nbuf();
	uint8_t r[33], s[32];

	memset(r, 0x81, sizeof(r));
	r[0] = 0;	/* positive with the high bit set */
	memset(s, 0x17, sizeof(s));
	must(buf_put_string(in, r, sizeof(r)) == 0 &&
	    buf_put_string(in, s, sizeof(s)) == 0 &&
	    buf_put_cstring(b, SK_TYPE_ECDSA) == 0 &&
	    buf_put_string(b, buf_ptr(in), buf_len(in)) == 0 &&
	    buf_put_u8(b, SK_FLAG_UP | SK_FLAG_UV) == 0 &&
	    buf_put_u32(b, 9) == 0, "ecdsa blob");
	buf_free(in);
	return (b);
}

/* The agent's framed answer: uint32 length || body. */
static struct buf *
framed(const struct buf *body)
{
	struct buf *b = nbuf();

	must(buf_put_u32(b, (uint32_t)buf_len(body)) == 0 &&
	    buf_put(b, buf_ptr(body), buf_len(body)) == 0, "frame");
	return (b);
}

/* An sk key blob from the base64 of a policy key. */
static struct buf *
b64_blob(const char *b64)
{
	struct buf *b = nbuf();
	uint8_t *p = NULL;
	size_t n;

	must(b64_decode(b64, SK_MAX_BLOB, B64_CANONICAL, &p, &n) == 0,
	    "base64");
	must(buf_put(b, p, n) == 0, "buf_put");
	free(p);
	return (b);
}

#define ECDSA_B64 "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAI" \
	"bmlzdHAyNTYAAABBBJGHXHl6tNnVq2OnGbvnqMyU6vyaxMMzPSFV9uODY0MHLq1FBvMm" \
	"S5qu1cyTw/HkFEZCobnY1o3jt8YHVsRFLTMAAAAEc3NoOg=="
#define ED_B64 "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIKiaBS53COrZxV" \
	"F5oPMlKJrYEbhyqWp2fwUjvUy2yfFiAAAABHNzaDo="

/* An agent's SIGN_RESPONSE carrying sig (freed), framed, as seed name. */
static void
seed_sign_response(const char *t, const char *name, struct buf *sig)
{
	struct buf *body = nbuf(), *f;

	must(buf_put_u8(body, SSH_AGENT_SIGN_RESPONSE) == 0 &&
	    buf_put_string(body, buf_ptr(sig), buf_len(sig)) == 0, "sign");
	seed_buf(t, name, f = framed(body));
	buf_free(f);
	buf_free(body);
	buf_free(sig);
}

static void
seeds_agent(const char *t)
{
	struct buf *login = NULL, *body = nbuf(), *f, *other;

	must(fuzz_sk_blob(&login) == 0, "login blob");
	other = b64_blob(ECDSA_B64);
	/* identities: another key, then the login key */
	must(buf_put_u8(body, SSH_AGENT_IDENTITIES_ANSWER) == 0 &&
	    buf_put_u32(body, 2) == 0 &&
	    buf_put_string(body, buf_ptr(other), buf_len(other)) == 0 &&
	    buf_put_cstring(body, "backup") == 0 &&
	    buf_put_string(body, buf_ptr(login), buf_len(login)) == 0 &&
	    buf_put_cstring(body, "alice@acme") == 0, "identities");
	seed_buf(t, "identities", f = framed(body));
	buf_free(f);
	/* a valid, touched signature over the challenge; and one not */
	seed_sign_response(t, "sign-touched",
	    sk_sign(SK_FLAG_UP | SK_FLAG_UV, 7, FUZZ_SK_CHAL));
	seed_sign_response(t, "sign-untouched", sk_sign(0, 8, FUZZ_SK_CHAL));
	seed_sign_response(t, "sign-ecdsa", sk_ecdsa_blob());
	buf_reset(body);
	must(buf_put_u8(body, SSH_AGENT_FAILURE) == 0, "failure");
	seed_buf(t, "failure", f = framed(body));
	buf_free(f);
	buf_free(body);
	buf_free(other);
	buf_free(login);
}

static void
seeds_sk(const char *t)
{
	struct buf *login = NULL, *b;

	must(fuzz_sk_blob(&login) == 0, "login blob");
	seed_buf(t, "key-ed25519", login);
	seed_buf(t, "key-ecdsa", b = b64_blob(ECDSA_B64));
	buf_free(b);
	seed_buf(t, "sig-ed25519", b = sk_sign(SK_FLAG_UP, 3, FUZZ_SK_CHAL));
	buf_free(b);
	seed_buf(t, "sig-ecdsa", b = sk_ecdsa_blob());
	buf_free(b);
	buf_free(login);
}

/* CBOR: a major type with its length. */
static void
cbor_head(struct buf *b, uint8_t major, size_t n)
{
	if (n < 24)
		(void)buf_put_u8(b, (uint8_t)(major << 5 | n));
	else if (n < 256)
		(void)(buf_put_u8(b, (uint8_t)(major << 5 | 24)) ||
		    buf_put_u8(b, (uint8_t)n));
	else
		(void)(buf_put_u8(b, (uint8_t)(major << 5 | 25)) ||
		    buf_put_u8(b, (uint8_t)(n >> 8)) ||
		    buf_put_u8(b, (uint8_t)n));
}

/*
 * A packed attestation of the fixed key as `ssh-keygen -O
 * write-attestation=` saves it (ssh-sk-attest-v01): a self-signed P-256
 * certificate, its signature over authenticator data || SHA256(challenge),
 * the authenticator data as CBOR.
 */
static void
seeds_attest(const char *t)
{
	EVP_PKEY *att = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *pk = fuzz_sk_pkey();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	X509 *x = X509_new();
	X509_NAME *nm;
	struct buf *ad = nbuf(), *cad = nbuf(), *msg = nbuf(), *b = nbuf();
	uint8_t pub[32], h[32], sig[128], *der = NULL, cred[16];
	size_t publen = sizeof(pub), siglen = sizeof(sig);
	int derlen;

	must(att != NULL && pk != NULL && ctx != NULL && x != NULL, "keys");
	must(EVP_PKEY_get_raw_public_key(pk, pub, &publen) == 1, "pub");
	/* certificate */
	nm = X509_get_subject_name(x);
	must(X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Fuzz Authenticator", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, nm) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650) != NULL &&
	    X509_set_pubkey(x, att) == 1 && X509_sign(x, att, EVP_sha256()) > 0 &&
	    (derlen = i2d_X509(x, &der)) > 0, "certificate");
	/* authenticator data: rpIdHash, flags UP|AT, counter, AAGUID 0,
	 * credential id, COSE Ed25519 key {1:1, 3:-8, -1:6, -2:pub} */
	SHA256((const uint8_t *)FUZZ_SK_APP, strlen(FUZZ_SK_APP), h);
	memset(cred, 0xc7, sizeof(cred));
	(void)(buf_put(ad, h, 32) || buf_put_u8(ad, 0x41) ||
	    buf_put_u32(ad, 0));
	memset(h, 0, 16);
	(void)(buf_put(ad, h, 16) || buf_put_u8(ad, 0) ||
	    buf_put_u8(ad, sizeof(cred)) || buf_put(ad, cred, sizeof(cred)));
	(void)(buf_put(ad, "\xa4\x01\x01\x03\x27\x20\x06\x21\x58\x20", 10) ||
	    buf_put(ad, pub, 32));
	cbor_head(cad, 2, buf_len(ad));
	(void)buf_put(cad, buf_ptr(ad), buf_len(ad));
	/* the statement's signature */
	SHA256((const uint8_t *)FUZZ_SK_CHAL, strlen(FUZZ_SK_CHAL), h);
	(void)(buf_put(msg, buf_ptr(ad), buf_len(ad)) || buf_put(msg, h, 32));
	must(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, att) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, buf_ptr(msg), buf_len(msg)) == 1,
	    "attestation signature");
	must(buf_put_cstring(b, "ssh-sk-attest-v01") == 0 &&
	    buf_put_string(b, der, (size_t)derlen) == 0 &&
	    buf_put_string(b, sig, siglen) == 0 &&
	    buf_put_string(b, buf_ptr(cad), buf_len(cad)) == 0 &&
	    buf_put_u32(b, 0) == 0 && buf_put_string(b, "", 0) == 0,
	    "attestation");
	seed_buf(t, "packed-self-signed", b);
	OPENSSL_free(der);
	X509_free(x);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(att);
	EVP_PKEY_free(pk);
	buf_free(ad);
	buf_free(cad);
	buf_free(msg);
	buf_free(b);
}

/* ---- the store actor's socket ------------------------------------------- */

/* Forwarded state operations: a CALL, a ROW and a DONE (store_call.h). */
static void
seeds_store_calls(const char *t)
{
	static const struct store_val args[] = {
		SV_I(7), SV_T("alice"), SV_I(3600), SV_I(2),
	}, done[] = { SV_I(0), SV_T(""), SV_I(1) };
	static struct state_request r = {
		.id = 7, .engineer = "erin", .vendor = "acme", .device = "mri",
		.created = 1700000000, .status = "pending",
	};
	uint8_t out[STORE_CALL_MAX];
	size_t len;

	must(store_call_encode(STORE_MSG_CALL, SC_REQUEST_APPROVE,
	    store_calls[SC_REQUEST_APPROVE].in, args, NULL, NULL, out,
	    sizeof(out), &len) == 0, "store_call_encode");
	seed(t, "call-approve", out, len);
	must(store_call_encode(STORE_MSG_ROW, SC_REQUEST_EACH, "R", NULL,
	    &sq_request_map, &r, out, sizeof(out), &len) == 0,
	    "store_call_encode");
	seed(t, "row-request", out, len);
	must(store_call_encode(STORE_MSG_DONE, SC_REQUEST_GET, "ITIR", done,
	    &sq_request_map, &r, out, sizeof(out), &len) == 0,
	    "store_call_encode");
	seed(t, "done-request-get", out, len);
}

static void
seeds_store_wire(const char *t)
{
	static struct store_msg m[4];
	uint8_t out[STORE_MSG_MAX];
	char name[32];
	size_t len, i;

	m[0].type = STORE_MSG_APPEND;
	snprintf(m[0].text, sizeof(m[0].text), "ts=2026-12-07T00:00:00.000Z "
	    "event=approval.approve pid=7 request=42");
	m[1].type = STORE_MSG_APPENDED;
	m[1].seq = 9;
	memset(m[1].hash, 'f', AUDITLOG_HEX_LEN);
	m[2].type = STORE_MSG_ERROR;
	m[2].code = BERR_DENIED;
	snprintf(m[2].text, sizeof(m[2].text), "refused");
	m[3].type = STORE_MSG_SUBSCRIBE;
	m[3].kind = STATE_EV_REQUEST;
	m[3].id = 42;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		must(store_msg_encode(&m[i], out, sizeof(out), &len) == 0,
		    "store_msg_encode");
		snprintf(name, sizeof(name), "msg-%zu", i);
		seed(t, name, out, len);
	}
	seeds_store_calls(t);
}

/* ---- bastionctl and the consoles ---------------------------------------- */

static void
seeds_ctlproto(const char *t)
{
	static const char *const reqs[][5] = {
		{ "approve", "12", "2h", "tube swap, ticket 4711", NULL },
		{ "sessions", "--all", NULL },
		{ "watch", "3", NULL },
		{ "report", "--month", "2026-11", "--json", NULL },
		{ "lock", "alice", "caf\xc3\xa9 \"quoted\"", NULL },
	};
	char name[32];
	uint8_t *p = NULL;
	size_t len, i;
	int argc;
	struct buf *fr = nbuf();

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		for (argc = 0; reqs[i][argc] != NULL; argc++)
			;
		must(ctlp_request_encode(argc, (char *const *)reqs[i], &p,
		    &len) == 0, "ctlp_request_encode");
		snprintf(name, sizeof(name), "request-%zu", i);
		seed(t, name, p, len);
		free(p);
	}
	/* the frames bastionctl reads back: 'o', 'e', 'x' */
	(void)(buf_put_u8(fr, CTLP_OUT) || buf_put_string(fr, "ok\n", 3) ||
	    buf_put_u8(fr, CTLP_ERR) || buf_put_string(fr, "warn\n", 5) ||
	    buf_put_u8(fr, CTLP_EXIT) || buf_put_string(fr, "\0", 1));
	seed_buf(t, "frames", fr);
	buf_free(fr);
}

static void
seeds_ctlproto2(const char *t)
{
	static const uint8_t tok[CTLP_TOKEN_LEN] = { 7 };
	static const uint8_t ch[CTLP_CHALLENGE_LEN] = { 9 };
	struct ctlp_assertion a = {
		(const uint8_t *)"cred", 4, (const uint8_t *)"authdata", 8,
		(const uint8_t *)"{\"type\":\"webauthn.get\"}", 24,
		(const uint8_t *)"sig", 3, NULL, 0 };
	struct buf *ab = nbuf(), *fr = nbuf();
	char *argv[] = { "commit", "00ff" };
	struct ctlp_attr at[] = {
		{ "token", tok, sizeof(tok) }, { "assert", NULL, 0 },
		{ "format", (const uint8_t *)"json", 4 },
		{ "from", (const uint8_t *)"192.0.2.1", 9 },
	};
	uint8_t *p = NULL;
	size_t len;

	must(ctlp_assertion_encode(ab, &a) == 0, "ctlp_assertion_encode");
	seed_buf(t, "assert", ab);
	at[1].value = buf_ptr(ab);
	at[1].len = buf_len(ab);
	must(ctlp_request2_encode(2, argv, at, 4, &p, &len) == 0,
	    "ctlp_request2_encode");
	seed(t, "request-commit", p, len);
	free(p);
	/* the frames webd reads back: 'j', 't', 'c', 'a', 'x' */
	(void)(buf_put_u8(fr, CTLP_JSON) || buf_put_string(fr, "{}", 2) ||
	    buf_put_u8(fr, CTLP_TERM) || buf_put_u32(fr, 10) ||
	    buf_put_u64(fr, 1500) || buf_put(fr, "ls", 2) ||
	    buf_put_u8(fr, CTLP_CHALLENGE) || buf_put_u32(fr, 34) ||
	    buf_put(fr, ch, sizeof(ch)) || buf_put(fr, "{}", 2) ||
	    buf_put_u8(fr, CTLP_AUTH) || buf_put_u32(fr, 42) ||
	    buf_put(fr, tok, sizeof(tok)) || buf_put_u64(fr, 1) ||
	    buf_put(fr, "{}", 2) ||
	    buf_put_u8(fr, CTLP_EXIT) || buf_put_string(fr, "\0", 1));
	seed_buf(t, "frames", fr);
	buf_free(fr);
	buf_free(ab);
}

static void
seeds_monitor(const char *t)
{
	static const struct {
		const char *name;
		struct mon_msg m;
	} msgs[] = {
		{ "auth", { .type = MON_AUTH } },
		{ "session", { .type = MON_SESSION, .sid = "42",
		    .engineer = "alice", .vendor = "acme",
		    .device = "ct-scanner", .grant = 5,
		    .path = "/var/lib/bastion/recordings/2026/11/02/"
		    FUZZ_REC_ID ".brec" } },
		{ "end", { .type = MON_END,
		    .text = "the engineer logged out" } },
		{ "kill", { .type = MON_KILL, .by = "bob",
		    .text = "stop now \xc3\xa9" } },
		{ "lock", { .type = MON_LOCK, .by = "-",
		    .text = "too many refusals" } },
		{ "revoke", { .type = MON_REVOKE } },
	};
	char line[MON_LINE_MAX + 1];
	struct buf *all = nbuf();
	size_t i;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		must(mon_format(&msgs[i].m, line, sizeof(line)) == 0,
		    msgs[i].name);
		seed_str(t, msgs[i].name, line);
		(void)buf_put(all, line, strlen(line));
	}
	/* a V line as a sandboxed worker sends its audit events */
	snprintf(line, sizeof(line), "V ts=2026-11-02T10:15:00Z "
	    "event=forward.open pid=4242 session=42 host=127.0.1.10 "
	    "port=443 note=\"a \\\"quoted\\\" value\"\n");
	seed_str(t, "audit", line);
	(void)buf_put(all, line, strlen(line));
	seed_buf(t, "all", all);
	buf_free(all);
}

/* ---- addresses, windows, text ------------------------------------------ */

/* The targets whose seeds are strings: target, seed name, text. */
static const struct {
	const char *target, *name, *text;
} strings[] = {
	{ "sk", "base64-ed25519", ED_B64 },
	/* clamd's replies (as clamd writes them after INSTREAM) */
	{ "clamd", "ok", "stream: OK\n" },
	{ "clamd", "found", "stream: Eicar-Test-Signature.UNOFFICIAL FOUND\n" },
	{ "clamd", "error", "INSTREAM size limit exceeded. ERROR\n" },
	{ "sk", "base64-ecdsa", ECDSA_B64 },
	{ "sk", "aaguid", "ee882879-721c-4913-9775-3dfcce97072a" },
	{ "enroll", "ed25519", SK_TYPE_ED25519 " " ED_B64 " alice@acme\n" },
	{ "enroll", "ecdsa", SK_TYPE_ECDSA " " ECDSA_B64
	    " backup key: \"x\"\r\n# more\n" },
	{ "enroll", "mismatch", SK_TYPE_ECDSA " " ED_B64 "\n" },
	{ "console", "approve",
	    "approve 12 2h 'tube swap' \"ticket \\\"4711\\\"\"" },
	{ "console", "deny", "deny 3 no\\ reason" },
	{ "console", "lock", "lock alice 1h30m" },
	{ "console", "grants", "grants --all" },
	{ "console", "durations", "revoke 5 90 45m 1d 366d 0 2h3" },
	{ "console", "help", "help" },
	{ "netaddr", "v4", "127.0.1.10\n127.0.1.0/24" },
	{ "netaddr", "v6", "[2001:db8::1]\n2001:db8::/32" },
	{ "netaddr", "v6-plain", "::1\n::/0" },
	{ "netaddr", "mapped", "::ffff:10.1.2.3\n10.0.0.0/8" },
	{ "netaddr", "bad", "010.1.2.3\n192.168.1.1/33" },
	{ "notify", "hostile-reason", "gina\x1fglobex\x1fpacs\x1fticket 4711"
	    "\r\n.\r\nBcc: evil@example.org\r\nSubject: x\n.\n"
	    "CT \xe8\xa3\x85\xe7\xbd\xae" },
	{ "notify", "names", "g\xc3\xafna\x1fglo\nbex\x1fpacs\r\nTo: x@y"
	    "\x1f" },
	{ "notify", "file-export", "alice\x1f" "acme\x1f" "ct-scanner\x1f\x1f"
	    "/log\r\n.\r\nBcc: evil@example.org\r\n\xe7\x94\xbb.dcm" },
	{ "ship", "entry", "ihospital-a/node-a/2026/12/"
	    "20261207T213651Z-9a5ce9a9528aacf2.brec 1247 89e6a22eef7b3b221a"
	    "bbace9f19e4786b55f24d4d11476ebf886cc6463ac2b39\n" },
	{ "ship", "entry-cut", "ihospital-a/node-a/2026/12/"
	    "20261207T213651Z-9a5ce9a9528aacf2.brec 1247 89e6a22eef7b3b221a"
	    "bbace9f19e4786b55f24d4d11476ebf886cc6463ac2b39 cut\n" },
	{ "ship", "error", "e<?xml version=\"1.0\"?><Error><Code>"
	    "SignatureDoesNotMatch</Code><Message>x</Message></Error>" },
	{ "ship", "credentials", "c# key\naccess_key_id = S3RVER\n"
	    "secret_access_key = S3RVER\r\n" },
	{ "window", "weekdays", "mon-fri 08:00-18:00" },
	{ "window", "overnight", "daily 22:00-06:00" },
	{ "window", "list", "mon,wed,fri-sun 00:00-23:59" },
	{ "window", "pam-hours", "acme:sat 09:00-12:00" },
	{ "window", "pam-any", "*:mon-fri 07:30-19:45" },
	/* text: what a peer names itself; byte 0 is the small output size */
	{ "text", "user", "\x07alice" },
	{ "text", "host", "\x10vendor.example \"=\\" },
	{ "text", "c1",
	    "\x03no\xc2\x9bticket \xff\xfe \xe5\xb1\xb1\xe7\x94\xb0" },
	{ "text", "controls", "\x16\x1b[31m\r\n\t\x7f end" },
	{ "sanitize", "text", "\x0bplain\ttext\r\nwith \033[Kerase\n" },
	{ "sanitize", "ascii", "\x06\xc3\xa9\xe2\x82 cut" },
};

/* Write target's string seeds; 0 if it has none. */
static int
seeds_strings(const char *t)
{
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (strcmp(strings[i].target, t) == 0) {
			seed_str(t, strings[i].name, strings[i].text);
			n++;
		}
	return (n);
}

static void
seeds_sanitize(const char *t)
{
	static const char term[] = "\x01$ ls\r\n\033[1;31mred\033[0m "
	    "\033]0;title\007\033]52;c;aGk=\033\\ \033P$q\"p\033\\ "
	    "\033[6n \033[?1049h caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
	    "\x9b" "21t \xc2\x9d" "8;;http://x\007 \xff\xfe \x05";

	seed(t, "terminal", term, sizeof(term) - 1);
}

/* ---- recordings, the recorder protocol, the chain, bundles -------------- */

/* The sample recording's bytes (sealed or not). */
static struct buf *
recording(int sealed, uint64_t *frames, char head[2 * REC_HASH_LEN + 1])
{
	char path[] = "/tmp/mkseeds.XXXXXX";
	struct buf *b;
	int fd = mkstemp(path);

	must(fd >= 0, "mkstemp");
	must(fuzz_rec_write(fd, sealed, frames, head) == 0, "recording");
	b = slurp(path);
	unlink(path);
	return (b);
}

/* The sample session as an encrypted recording (format 2, recenc.h):
 * the key block to one recipient, every payload sealed. */
static struct buf *
recording_v2(void)
{
	char path[] = "/tmp/mkseeds.XXXXXX";
	uint8_t sec[1][AGE_KEY_LEN], pub[1][AGE_KEY_LEN], fk[AGE_FILE_KEY_LEN];
	struct reckey *k = fuzz_rec_key();
	struct recwriter *w = NULL;
	struct buf *age = nbuf(), *kb = nbuf(), *b;
	struct rec_hdr h;
	int fd = mkstemp(path);

	must(fd >= 0 && k != NULL, "mkstemp");
	memset(&h, 0, sizeof(h));
	memset(sec, 0x42, sizeof(sec));
	must(age_identity_public(sec[0], pub[0]) == 0 &&
	    recfmt_hdr_add(&h, "session", FUZZ_REC_ID) == 0 &&
	    recfmt_hdr_add(&h, "engineer", "alice") == 0 &&
	    recfmt_hdr_add(&h, "device", "ct-scanner") == 0 &&
	    recenc_prepare((const uint8_t (*)[AGE_KEY_LEN])pub, 1, &h, age,
	    fk) == 0 && recenc_keyblock_encode(buf_ptr(age), buf_len(age),
	    NULL, 0, kb) == 0 && recwriter_open_v2(fd, k, &h, buf_ptr(kb),
	    buf_len(kb), fk, &w) == 0, "format 2 recording");
	must(fuzz_rec_frames(w, 0) == 0 && recwriter_checkpoint(w, 20000) ==
	    0 && recwriter_seal(w, REC_END_NORMAL, "session ended", 90000) ==
	    0, "format 2 frames");
	recwriter_free(w);
	b = slurp(path);
	unlink(path);
	recfmt_hdr_clear(&h);
	reckey_free(k);
	buf_free(age);
	buf_free(kb);
	return (b);
}

static void
seeds_recording(const char *t)
{
	struct buf *b = recording_v2();

	seed_buf(t, "encrypted", b);
	buf_free(b);
	b = recording(1, NULL, NULL);

	seed_buf(t, "sealed", b);
	buf_free(b);
	b = recording(0, NULL, NULL);
	seed_buf(t, "unsealed", b);
	/* cut inside a frame */
	seed(t, "torn", buf_ptr(b), buf_len(b) - 7);
	buf_free(b);
}

/* Frames without the file's chain hashes: what recfmt_frame_decode reads. */
static void
seeds_recfmt(const char *t)
{
	struct buf *file = recording(1, NULL, NULL), *out = nbuf();
	struct rec_frame f;
	uint8_t hash[REC_HASH_LEN];
	char name[32];
	int i = 0;

	must(buf_skip(file, REC_MAGIC_LEN) == 0, "magic");
	while (buf_len(file) > 0) {
		must(recfmt_frame_decode(file, &f) == 0 &&
		    buf_get(file, hash, sizeof(hash)) == 0, "frame");
		buf_reset(out);
		must(recfmt_frame_encode(out, &f) == 0, "encode");
		snprintf(name, sizeof(name), "%02d-%s", i++,
		    recfmt_type_name(f.type));
		seed_buf(t, name, out);
	}
	buf_free(file);
	buf_free(out);
}

static void
seeds_recproto(const char *t)
{
	static const char outp[] = "\033[1mhello\033[0m\r\n";
	struct buf *b = nbuf(), *open = nbuf();
	struct rec_hdr h;

	memset(&h, 0, sizeof(h));
	must(recfmt_hdr_add(&h, "engineer", "alice") == 0 &&
	    recfmt_hdr_add(&h, "vendor", "acme") == 0 &&
	    recfmt_hdr_add(&h, "device", "ct-scanner") == 0 &&
	    recfmt_hdr_add(&h, "source", "127.0.0.1") == 0 &&
	    recfmt_hdr_add(&h, "ref", FUZZ_REC_REF) == 0 &&
	    recproto_put_open(open, &h) == 0, "OPEN");
	recfmt_hdr_clear(&h);
	seed_buf(t, "open", open);
	(void)buf_put(b, buf_ptr(open), buf_len(open));
	must(recproto_put_frame_head(b, REC_OUTPUT, 0, sizeof(outp) - 1) == 0 &&
	    buf_put(b, outp, sizeof(outp) - 1) == 0 &&
	    recproto_put_frame_head(b, REC_WINDOW_CHANGE, 0, 8) == 0 &&
	    buf_put_u32(b, 100) == 0 && buf_put_u32(b, 40) == 0 &&
	    recproto_put_empty(b, RECPROTO_SYNC) == 0 &&
	    recproto_put_empty(b, RECPROTO_CLOSE) == 0, "session");
	seed_buf(t, "session", b);
	buf_reset(b);
	must(recproto_put_notarize(b, FUZZ_REC_ID, "0000  recording.brec\n",
	    21, 9) == 0, "NOTARIZE");
	seed_buf(t, "notarize", b);
	buf_free(b);
	buf_free(open);
}

static void
seeds_auditlog(const char *t, struct buf *chain)
{
	seed_buf(t, "chain", chain);
	seed(t, "torn", buf_ptr(chain), buf_len(chain) - 9);
}

static void
sha_hex(const void *p, size_t len, char hex[65])
{
	uint8_t md[32];

	SHA256(p, len, md);
	hex_encode(md, 32, hex);
}

/* The evidence bundle's members, as bastion/auditor.c's export writes
 * them, its MANIFEST and the recorder's signature. */
struct bundle {
	struct buf *rec, *pub, *approval, *audit, *export, *manifest;
	uint8_t sig[REC_SIG_LEN];
};

static void
bundle_make(struct bundle *bd, const char *chainpath)
{
	struct reckey *k = fuzz_rec_key();
	const struct buf *m[RECBUNDLE_MEMBERS];
	char hex[65], *pem = NULL, *lines = NULL, line[512];
	uint8_t *msg = NULL;
	size_t len, i;
	uint64_t n, last;

	memset(bd, 0, sizeof(*bd));
	bd->rec = recording(1, NULL, NULL);
	must(reckey_public_pem(k, &pem) == 0, "pem");
	bd->pub = nbuf();
	(void)buf_put(bd->pub, pem, strlen(pem));
	bd->approval = nbuf();
	(void)buf_putf(bd->approval, "{\"request\": 3, \"grant\": 5, "
	    "\"engineer\": \"alice\", \"approved_by\": [\"bob\"]}\n");
	must(recnotary_audit_lines(chainpath, FUZZ_REC_REF, FUZZ_REC_ID,
	    UINT64_MAX, &lines, &len, &n, &last) == 0 && n > 0, "audit lines");
	bd->audit = nbuf();
	(void)buf_put(bd->audit, lines, len);
	bd->export = nbuf();
	snprintf(line, sizeof(line), "format=%s recording=%s session=%s "
	    "exported_by=carol exported_at=2026-11-03T09:00:00Z host=bastion "
	    "chain=/var/lib/bastion/audit.log chain_lines=%llu "
	    "chain_head=00\n", RECBUNDLE_FORMAT, FUZZ_REC_ID, FUZZ_REC_REF,
	    (unsigned long long)last);
	(void)buf_put(bd->export, line, strlen(line));
	m[0] = bd->rec;
	m[1] = bd->pub;
	m[2] = bd->approval;
	m[3] = bd->audit;
	m[4] = bd->export;
	bd->manifest = nbuf();
	for (i = 0; i < RECBUNDLE_MEMBERS; i++) {
		sha_hex(buf_ptr(m[i]), buf_len(m[i]), hex);
		(void)buf_putf(bd->manifest, "%s  %s\n", hex,
		    recbundle_members[i]);
	}
	must(recbundle_sig_message(buf_ptr(bd->manifest),
	    buf_len(bd->manifest), &msg, &len) == 0 &&
	    reckey_sign(k, msg, len, bd->sig) == 0, "MANIFEST.sig");
	free(msg);
	free(lines);
	free(pem);
	reckey_free(k);
}

static void
bundle_free(struct bundle *bd)
{
	buf_free(bd->rec);
	buf_free(bd->pub);
	buf_free(bd->approval);
	buf_free(bd->audit);
	buf_free(bd->export);
	buf_free(bd->manifest);
}

static void
tar_add(struct archive *a, const char *name, const void *p, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	char path[256];

	snprintf(path, sizeof(path), "%s%s/%s", RECBUNDLE_DIR,
	    FUZZ_REC_ID, name);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0444);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, 1793700000, 0);
	must(archive_write_header(a, e) == ARCHIVE_OK &&
	    (len == 0 || archive_write_data(a, p, len) == (la_ssize_t)len),
	    "tar member");
	archive_entry_free(e);
}

static void
seeds_bundle(const char *t, const struct bundle *bd)
{
	static uint8_t tar[1 << 20];
	struct archive *a = archive_write_new();
	size_t used = 0;

	must(a != NULL && archive_write_set_format_pax_restricted(a) ==
	    ARCHIVE_OK && archive_write_set_bytes_in_last_block(a, 1) ==
	    ARCHIVE_OK && archive_write_open_memory(a, tar, sizeof(tar),
	    &used) == ARCHIVE_OK, "tar");
	tar_add(a, RECBUNDLE_RECORDING, buf_ptr(bd->rec),
	    buf_len(bd->rec));
	tar_add(a, RECBUNDLE_PUBKEY, buf_ptr(bd->pub), buf_len(bd->pub));
	tar_add(a, RECBUNDLE_APPROVAL, buf_ptr(bd->approval),
	    buf_len(bd->approval));
	tar_add(a, RECBUNDLE_AUDIT, buf_ptr(bd->audit),
	    buf_len(bd->audit));
	tar_add(a, RECBUNDLE_EXPORT, buf_ptr(bd->export),
	    buf_len(bd->export));
	tar_add(a, RECBUNDLE_MANIFEST, buf_ptr(bd->manifest),
	    buf_len(bd->manifest));
	tar_add(a, RECBUNDLE_SIG, bd->sig, sizeof(bd->sig));
	must(archive_write_close(a) == ARCHIVE_OK, "tar close");
	archive_write_free(a);
	seed(t, "bundle.tar", tar, used);
}

static void
seeds_notarize(const char *t, const struct bundle *bd)
{
	struct buf *b = nbuf();

	/* the body recproto_take leaves: after uint32 length and type */
	must(recproto_put_notarize(b, FUZZ_REC_ID, buf_ptr(bd->manifest),
	    buf_len(bd->manifest), UINT64_MAX) == 0 && buf_skip(b, 5) == 0,
	    "NOTARIZE");
	seed_buf(t, "notarize", b);
	buf_free(b);
}

/* fuzz_webauthn's input (options, lengths, authenticator data,
 * signature, clientDataJSON) for one assertion of the fixture. */
static void
seed_assertion(const char *t, const char *name, int opt, const uint8_t *ad,
    size_t adlen, const uint8_t *sig, size_t siglen, const char *cd)
{
	struct buf *b = buf_new(4096);
	uint8_t head[3] = { (uint8_t)opt, (uint8_t)adlen, (uint8_t)siglen };

	must(b != NULL && buf_put(b, head, sizeof(head)) == 0 &&
	    buf_put(b, ad, adlen) == 0 && buf_put(b, sig, siglen) == 0 &&
	    buf_put(b, cd, strlen(cd)) == 0, "assertion seed");
	seed_buf(t, name, b);
	buf_free(b);
}

static void
seeds_webauthn(const char *t)
{
	seed_assertion(t, "chromium-es256", 0, es256_authdata,
	    sizeof(es256_authdata), es256_sig, sizeof(es256_sig), es256_cdj);
	seed_assertion(t, "eddsa-uv", 3, eddsa_authdata,
	    sizeof(eddsa_authdata), eddsa_sig, sizeof(eddsa_sig), eddsa_cdj);
	seed_assertion(t, "eddsa-no-touch", 2, eddsa_authdata_noup,
	    sizeof(eddsa_authdata_noup), eddsa_sig_noup,
	    sizeof(eddsa_sig_noup), eddsa_cdj);
}

/* fuzz_age: a header to the target's fixed identity (0x42 x 32) and
 * another, each followed by a payload; the same header as a key block. */
static void
seeds_age(const char *t)
{
	static const uint8_t fk[AGE_FILE_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8,
	    9, 10, 11, 12, 13, 14, 15, 16 };
	uint8_t keys[2][AGE_KEY_LEN], sec[AGE_KEY_LEN], ct[200];
	struct age_payload *ap = NULL;
	struct buf *b = nbuf(), *kb = nbuf();

	memset(sec, 0x42, sizeof(sec));
	must(age_identity_public(sec, keys[0]) == 0, "public key");
	memset(sec, 0x43, sizeof(sec));
	must(age_identity_public(sec, keys[1]) == 0, "public key");
	must(age_header_write(fk, (const uint8_t (*)[AGE_KEY_LEN])keys, 2,
	    b) == 0, "age header");
	must(recenc_keyblock_encode(buf_ptr(b), buf_len(b), NULL, 0, kb) == 0,
	    "key block");
	/* the key block without its own length, as the reader hands it */
	seed(t, "keyblock", buf_ptr(kb) + 4, buf_len(kb) - 4);
	seed_buf(t, "header", b);
	must(age_payload_new(fk, &ap) == 0 &&
	    age_payload_seal(ap, (const uint8_t *)"uid=0(root)\r\n", 13,
	    ct) == 0 && buf_put(b, ct, age_payload_sealed_len(13)) == 0,
	    "payload");
	seed_buf(t, "header-payload", b);
	age_payload_free(ap);
	buf_free(b);
	buf_free(kb);
}

/* The Chromium registration of the fixture, as fuzz_webauthn_reg reads
 * it: u16 clientDataJSON length, clientDataJSON, attestationObject. */
static void
seeds_webauthn_reg(const char *t)
{
	struct buf *b = nbuf();
	size_t n = sizeof(reg_cdj) - 1;

	(void)(buf_put_u8(b, (uint8_t)(n >> 8)) || buf_put_u8(b, (uint8_t)n) ||
	    buf_put(b, reg_cdj, n) || buf_put(b, reg_attobj,
	    sizeof(reg_attobj)));
	seed_buf(t, "chromium-none", b);
	buf_free(b);
}

/* fuzz_sftp's input: chunks of flags (bit 0: from the device), u16
 * length, bytes; here one packet each, built with buf.h. */
static void
sftp_chunk(struct buf *out, int from_device, uint8_t type, uint32_t id,
    const char *s1, const char *s2, uint64_t off, uint32_t u)
{
	struct buf *p = nbuf();

	must(buf_put_u8(p, type) == 0, "sftp");
	if (type == SSH_FXP_INIT || type == SSH_FXP_VERSION)
		must(buf_put_u32(p, 3) == 0, "sftp");
	else
		must(buf_put_u32(p, id) == 0, "sftp");
	if (s1 != NULL)
		must(buf_put_cstring(p, s1) == 0, "sftp");
	if (type == SSH_FXP_OPEN)
		must(buf_put_u32(p, u) == 0 && buf_put_u32(p, 0) == 0, "sftp");
	if (type == SSH_FXP_READ || type == SSH_FXP_WRITE)
		must(buf_put_u64(p, off) == 0, "sftp");
	if (type == SSH_FXP_READ || type == SSH_FXP_STATUS)
		must(buf_put_u32(p, u) == 0, "sftp");
	if (s2 != NULL)
		must(buf_put_cstring(p, s2) == 0, "sftp");
	must(buf_put_u8(out, (uint8_t)from_device) == 0 &&
	    buf_put_u8(out, (uint8_t)((buf_len(p) + 4) >> 8)) == 0 &&
	    buf_put_u8(out, (uint8_t)(buf_len(p) + 4)) == 0 &&
	    buf_put_string(out, buf_ptr(p), buf_len(p)) == 0, "sftp");
	buf_free(p);
}

/* An upload and a download as OpenSSH sftp makes them. */
static void
seeds_sftp(const char *t)
{
	struct buf *b = nbuf();

	sftp_chunk(b, 0, SSH_FXP_INIT, 0, NULL, NULL, 0, 0);
	sftp_chunk(b, 1, SSH_FXP_VERSION, 0, "limits@openssh.com", "1", 0, 0);
	sftp_chunk(b, 0, SSH_FXP_OPEN, 1, "/tmp/fw.img", NULL, 0,
	    SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
	sftp_chunk(b, 1, SSH_FXP_HANDLE, 1, "H1", NULL, 0, 0);
	sftp_chunk(b, 0, SSH_FXP_WRITE, 2, "H1", "firmware", 0, 0);
	sftp_chunk(b, 1, SSH_FXP_STATUS, 2, NULL, NULL, 0, SSH_FX_OK);
	sftp_chunk(b, 0, SSH_FXP_CLOSE, 3, "H1", NULL, 0, 0);
	sftp_chunk(b, 1, SSH_FXP_STATUS, 3, NULL, NULL, 0, SSH_FX_OK);
	seed_buf(t, "upload", b);
	sftp_chunk(b, 0, SSH_FXP_OPEN, 4, "/var/log/x", NULL, 0,
	    SSH_FXF_READ);
	sftp_chunk(b, 1, SSH_FXP_HANDLE, 4, "H2", NULL, 0, 0);
	sftp_chunk(b, 0, SSH_FXP_READ, 5, "H2", NULL, 0, 32768);
	sftp_chunk(b, 1, SSH_FXP_DATA, 5, "log line", NULL, 0, 0);
	sftp_chunk(b, 0, SSH_FXP_READ, 6, "H2", NULL, 8, 32768);
	sftp_chunk(b, 1, SSH_FXP_STATUS, 6, NULL, NULL, 0, SSH_FX_EOF);
	sftp_chunk(b, 0, SSH_FXP_CLOSE, 7, "H2", NULL, 0, 0);
	sftp_chunk(b, 1, SSH_FXP_STATUS, 7, NULL, NULL, 0, SSH_FX_OK);
	seed_buf(t, "upload-download", b);
	buf_free(b);
}

/* seeds_webverify: an audit chain with a web console approval */
#include "mkseeds_webverify.h"

/* The targets with a seed maker of their own (and perhaps strings too). */
static const struct {
	const char *name;
	void (*fn)(const char *);
} gens[] = {
	{ "agent", seeds_agent }, { "sk", seeds_sk },
	{ "attest", seeds_attest }, { "ctlproto", seeds_ctlproto },
	{ "ctlproto2", seeds_ctlproto2 },
	{ "monitor", seeds_monitor }, { "sanitize", seeds_sanitize },
	{ "recording", seeds_recording }, { "recfmt", seeds_recfmt },
	{ "recproto", seeds_recproto }, { "store_wire", seeds_store_wire },
	{ "webauthn", seeds_webauthn }, { "age", seeds_age },
	{ "webauthn_reg", seeds_webauthn_reg },
	{ "sftp", seeds_sftp }, { "webverify", seeds_webverify },
};

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/mkseeds.XXXXXX", chainpath[256], head[65];
	struct buf *chain;
	struct bundle bd;
	uint64_t frames;
	size_t j;
	int i, known;

	if (argc < 2) {
		fprintf(stderr, "usage: mkseeds OUTDIR NAME...\n");
		return (2);
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		die(outdir);
	/* the chain the recording's recorder would have written */
	must(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(chainpath, sizeof(chainpath), "%s/audit.log", dir);
	buf_free(recording(1, &frames, head));
	must(fuzz_chain_write(chainpath, frames, head) == 0, "chain");
	chain = slurp(chainpath);
	bundle_make(&bd, chainpath);
	for (i = 2; i < argc; i++) {
		const char *n = argv[i];

		/* policy: the Makefile copies policies/ */
		known = seeds_strings(n) > 0 || strcmp(n, "policy") == 0;
		for (j = 0; j < sizeof(gens) / sizeof(gens[0]); j++)
			if (strcmp(n, gens[j].name) == 0) {
				gens[j].fn(n);
				known = 1;
			}
		if (strcmp(n, "auditlog") == 0)
			seeds_auditlog(n, chain);
		else if (strcmp(n, "bundle") == 0)
			seeds_bundle(n, &bd);
		else if (strcmp(n, "notarize") == 0)
			seeds_notarize(n, &bd);
		else if (!known) {
			fprintf(stderr, "mkseeds: no seeds for target %s: add "
			    "them to fuzz/mkseeds.c\n", n);
			return (1);
		}
	}
	bundle_free(&bd);
	buf_free(chain);
	unlink(chainpath);
	rmdir(dir);
	return (0);
}
