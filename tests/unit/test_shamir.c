/*
 * test_shamir.c - recorder/lib/shamir.c: k-of-n splits of an age secret
 * key recover it from every k-subset and from more, never from fewer; the
 * field arithmetic agrees with FIPS-197's worked example ({57}.{83} =
 * {c1}); shares of other keys, other splits and repeated shares are
 * refused; the printed form round-trips and catches a typo.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "age.h"
#include "err.h"
#include "shamir.h"

static void
test_every_subset_recovers(void **unused)
{
	uint8_t sec[32], id[8], back[32];
	struct shamir_share sh[5], pick[5];
	char why[200];
	unsigned mask, i, n;

	(void)unused;
	assert_int_equal(age_identity_generate(sec), 0);
	assert_int_equal(shamir_set_id(sec, id), 0);
	assert_int_equal(shamir_split(sec, 3, 5, id, sh), 0);
	for (mask = 1; mask < 32; mask++) {
		for (i = 0, n = 0; i < 5; i++)
			if (mask & (1U << i))
				pick[n++] = sh[i];
		if (n < 3) {
			assert_int_equal(shamir_combine(pick, n, back, why,
			    sizeof(why)), BERR_LIMIT);
			assert_non_null(strstr(why, "3 are needed"));
			continue;
		}
		assert_int_equal(shamir_combine(pick, n, back, why,
		    sizeof(why)), 0);
		assert_memory_equal(back, sec, 32);
	}
	/* two shares alone give something else than the secret */
	sh[0].k = 2;
	sh[1].k = 2;
	assert_int_equal(shamir_combine(sh, 2, back, why, sizeof(why)), 0);
	assert_memory_not_equal(back, sec, 32);
}

static void
test_field_against_fips197(void **unused)
{
	struct shamir_share s[2];
	uint8_t back[32];
	char why[200];

	(void)unused;
	/* f(x) = 0 + {57} x: f(1) = {57}, f({83}) = {57}.{83} = {c1} */
	memset(s, 0, sizeof(s));
	s[0].k = s[1].k = 2;
	s[0].x = 1;
	s[1].x = 0x83;
	s[0].y[0] = 0x57;
	s[1].y[0] = 0xc1;
	assert_int_equal(shamir_combine(s, 2, back, why, sizeof(why)), 0);
	assert_int_equal(back[0], 0);
	s[1].y[0] = 0xc2;
	assert_int_equal(shamir_combine(s, 2, back, why, sizeof(why)), 0);
	assert_int_not_equal(back[0], 0);
}

static void
test_refusals_and_text(void **unused)
{
	uint8_t sec[32], sec2[32], id[8], id2[8], back[32];
	struct shamir_share a[3], b[3], mix[2], d;
	char why[200], txt[SHAMIR_SHARE_STR];

	(void)unused;
	assert_int_equal(age_identity_generate(sec), 0);
	assert_int_equal(age_identity_generate(sec2), 0);
	assert_int_equal(shamir_set_id(sec, id), 0);
	assert_int_equal(shamir_set_id(sec2, id2), 0);
	assert_int_equal(shamir_split(sec, 2, 3, id, a), 0);
	assert_int_equal(shamir_split(sec2, 2, 3, id2, b), 0);
	assert_int_equal(shamir_split(sec, 1, 3, id, a), BERR_INVAL);
	assert_int_equal(shamir_split(sec, 4, 3, id, a), BERR_INVAL);
	assert_int_equal(shamir_split(sec, 2, 3, id, a), 0);
	mix[0] = a[0];
	mix[1] = b[1];
	assert_int_equal(shamir_combine(mix, 2, back, why, sizeof(why)),
	    BERR_INVAL);
	assert_non_null(strstr(why, "another key"));
	mix[1] = a[0];
	assert_int_equal(shamir_combine(mix, 2, back, why, sizeof(why)),
	    BERR_INVAL);
	assert_non_null(strstr(why, "the same share"));
	/* text round trip */
	assert_int_equal(shamir_share_encode(&a[2], txt, sizeof(txt)), 0);
	assert_int_equal(strncmp(txt, "BASTION-SHARE-1", 15), 0);
	assert_int_equal(shamir_share_decode(txt, &d), 0);
	assert_memory_equal(&d, &a[2], sizeof(d));
	txt[30] = txt[30] == 'Q' ? 'P' : 'Q';
	assert_int_equal(shamir_share_decode(txt, &d), BERR_FORMAT);
	assert_int_equal(shamir_share_decode("AGE-SECRET-KEY-1QQQQ", &d),
	    BERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_subset_recovers),
		cmocka_unit_test(test_field_against_fips197),
		cmocka_unit_test(test_refusals_and_text),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
