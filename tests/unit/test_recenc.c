/*
 * test_recenc.c - recorder/lib/recenc.c: the key block of a format 2
 * recording parses only in its one shape (a whole age header, a rewrap
 * list within its cap, nothing after), the HEADER binds it (keys_sha256)
 * and a rewrap is accepted only when signed by the recorder key and
 * chained from the hash before it; the recipient set's identity does not
 * depend on the order the policy lists them in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "recenc.h"
#include "reckey.h"

static void
test_recipients_id(void **unused)
{
	uint8_t k[3][AGE_KEY_LEN], sec[AGE_KEY_LEN];
	char a[65], b[65], c[65], s0[AGE_STR_MAX], s1[AGE_STR_MAX];
	char *strs[2] = { s0, s1 };
	size_t i;

	(void)unused;
	for (i = 0; i < 3; i++) {
		assert_int_equal(age_identity_generate(sec), 0);
		assert_int_equal(age_identity_public(sec, k[i]), 0);
	}
	assert_int_equal(recenc_recipients_id((const uint8_t (*)[32])k, 2,
	    a), 0);
	memcpy(sec, k[0], 32);
	memcpy(k[0], k[1], 32);
	memcpy(k[1], sec, 32);
	assert_int_equal(recenc_recipients_id((const uint8_t (*)[32])k, 2,
	    b), 0);
	assert_string_equal(a, b);
	assert_int_equal(recenc_recipients_id((const uint8_t (*)[32])k, 3,
	    c), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(age_recipient_encode(k[1], s0, sizeof(s0)), 0);
	assert_int_equal(age_recipient_encode(k[0], s1, sizeof(s1)), 0);
	assert_int_equal(recenc_recipients_id_str(strs, 2, c), 0);
	assert_string_equal(a, c);
	s1[10] ^= 1;
	assert_int_equal(recenc_recipients_id_str(strs, 2, c), BERR_FORMAT);
}

/* A key block for a fresh header to one recipient; its HEADER fields. */
static struct buf *
keyblock(struct rec_hdr *h, uint8_t fk[16], const struct recenc_rewrap *rw,
    size_t n)
{
	uint8_t sec[1][32], pub[1][32];
	struct buf *age = buf_new(AGE_HEADER_MAX), *kb = buf_new(65536);

	assert_int_equal(age_identity_generate(sec[0]), 0);
	assert_int_equal(age_identity_public(sec[0], pub[0]), 0);
	assert_int_equal(recenc_prepare((const uint8_t (*)[32])pub, 1, h, age,
	    fk), 0);
	assert_int_equal(recenc_keyblock_encode(buf_ptr(age), buf_len(age),
	    rw, n, kb), 0);
	buf_free(age);
	return (kb);
}

static void
test_keyblock_shape_and_binding(void **unused)
{
	struct recenc_keyblock kb;
	struct rec_hdr h, other;
	struct reckey *key = NULL;
	struct recenc_rewrap rw;
	struct buf *b, *msg;
	uint8_t fk[16], big[8];
	char why[256];

	(void)unused;
	memset(&h, 0, sizeof(h));
	memset(&other, 0, sizeof(other));
	assert_int_equal(reckey_generate(&key), 0);
	assert_int_equal(recfmt_hdr_add(&h, "session",
	    "20250101T000000Z-0001020304050607"), 0);
	b = keyblock(&h, fk, NULL, 0);
	assert_string_equal(recfmt_hdr_get(&h, "format"), "2");
	/* as the reader hands it: without its own length */
	assert_int_equal(recenc_keyblock_parse(buf_ptr(b) + 4, buf_len(b) - 4,
	    &kb), 0);
	assert_int_equal(kb.hdr.nx25519, 1);
	assert_int_equal(recenc_keyblock_check(&kb, &h, key, why,
	    sizeof(why)), 0);
	/* a trailing byte, a cut */
	memset(big, 0, sizeof(big));
	assert_int_not_equal(recenc_keyblock_parse(buf_ptr(b) + 4,
	    buf_len(b) - 5, &kb), 0);
	assert_int_equal(buf_put(b, big, 1), 0);
	assert_int_equal(recenc_keyblock_parse(buf_ptr(b) + 4, buf_len(b) - 4,
	    &kb), BERR_FORMAT);
	buf_free(b);
	/* another recording's key block does not belong to this HEADER */
	assert_int_equal(recfmt_hdr_add(&other, "session",
	    "20250101T000000Z-0001020304050607"), 0);
	b = keyblock(&other, fk, NULL, 0);
	assert_int_equal(recenc_keyblock_parse(buf_ptr(b) + 4, buf_len(b) - 4,
	    &kb), 0);
	assert_int_equal(recenc_keyblock_check(&kb, &h, key, why,
	    sizeof(why)), BERR_AUTH);
	assert_non_null(strstr(why, "neither the one recorded"));
	buf_free(b);
	/* a rewrap list over its cap */
	memset(&rw, 0, sizeof(rw));
	b = buf_new(65536);
	assert_int_equal(buf_put_u32(b, 4), 0);
	assert_int_equal(buf_put_string(b, "x", 1), 0);
	assert_int_equal(buf_put_u32(b, RECENC_MAX_REWRAPS + 1), 0);
	assert_int_equal(recenc_keyblock_parse(buf_ptr(b) + 4, buf_len(b) - 4,
	    &kb), BERR_LIMIT);
	buf_free(b);
	/* a rewrap signed by another key, then by ours */
	recfmt_hdr_clear(&other);
	assert_int_equal(recfmt_hdr_add(&other, "session",
	    "20250101T000000Z-0001020304050607"), 0);
	b = keyblock(&other, fk, NULL, 0);
	assert_int_equal(recenc_keyblock_parse(buf_ptr(b) + 4, buf_len(b) - 4,
	    &kb), 0);
	{
		unsigned int l = 0;
		uint8_t cur[32];
		const char *hex = recfmt_hdr_get(&h, "keys_sha256");
		size_t i;

		for (i = 0; i < 32; i++)
			cur[i] = (uint8_t)strtol((char[]){ hex[2 * i],
			    hex[2 * i + 1], 0 }, NULL, 16);
		memcpy(rw.old_hash, cur, 32);
		assert_int_equal(EVP_Digest(kb.age, kb.age_len, rw.new_hash,
		    &l, EVP_sha256(), NULL), 1);
	}
	kb.rw[0] = rw;
	kb.nrewraps = 1;
	assert_int_equal(recenc_keyblock_check(&kb, &h, key, why,
	    sizeof(why)), BERR_AUTH);
	assert_non_null(strstr(why, "not signed by the recorder key"));
	msg = buf_new(512);
	assert_int_equal(recenc_rewrap_message(msg, "20250101T000000Z-"
	    "0001020304050607", &rw), 0);
	assert_int_equal(reckey_sign(key, buf_ptr(msg), buf_len(msg),
	    kb.rw[0].sig), 0);
	assert_int_equal(recenc_keyblock_check(&kb, &h, key, why,
	    sizeof(why)), 0);
	/* the same rewrap does not chain from another start */
	kb.rw[0].old_hash[0] ^= 1;
	assert_int_equal(recenc_keyblock_check(&kb, &h, key, why,
	    sizeof(why)), BERR_AUTH);
	buf_free(msg);
	buf_free(b);
	recfmt_hdr_clear(&h);
	recfmt_hdr_clear(&other);
	reckey_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipients_id),
		cmocka_unit_test(test_keyblock_shape_and_binding),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
