/*
 * fuzz_ckpt.c - an export of audit checkpoints (store/auditckpt.c's
 * parser) as `bastion-verify --cluster` reads it: each line through
 * ckpt_line_parse, whose accepted lines must print back byte for byte
 * (ckpt_line: one text form, no second spelling of a row), then the whole
 * file through the cluster check (recorder/lib/ckptverify.c) with two
 * fixed node keys: signatures, the nodes' seqs, the peers committed, the
 * summary.
 *
 * Input: a checkpoints export (one line per row).
 */
#include "fuzz.h"

#include <stdio.h>

#include "auditckpt.h"
#include "ckptverify.h"
#include "err.h"
#include "reckey.h"

static struct reckey *
fuzz_key(uint8_t b)
{
	uint8_t seed[RECKEY_SEED_LEN];
	struct reckey *k = NULL;

	memset(seed, b, sizeof(seed));
	if (reckey_from_seed(seed, &k) != 0)
		abort();
	return (k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[CKPT_LINE_MAX], sum[4096];
	const uint8_t *p = data, *nl, *end = data + size;
	struct ckptv *v = NULL;
	struct ckpt c;
	FILE *fp, *sf;
	size_t len;

	/* line by line: what parses prints back the same */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		if (ckpt_line_parse((const char *)p, len, &c) == 0) {
			if (ckpt_line(&c, out, sizeof(out)) != 0 ||
			    strlen(out) != len || memcmp(out, p, len) != 0)
				abort();
		}
		p += len + (nl != NULL);
	}
	/* the whole export, checked as bastion-verify --cluster does */
	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return (0);
	if (ckptv_new(NULL, &v) != 0 || ckptv_key(v, "a", fuzz_key(1)) != 0 ||
	    ckptv_key(v, "b", fuzz_key(2)) != 0)
		abort();
	(void)ckptv_read(v, fp);
	(void)ckptv_check(v);
	if ((sf = fmemopen(sum, sizeof(sum), "w")) != NULL) {
		ckptv_summary(v, sf);
		fclose(sf);
	}
	ckptv_free(v);
	fclose(fp);
	return (0);
}
