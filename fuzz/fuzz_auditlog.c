/*
 * fuzz_auditlog.c - audit chain lines (store/auditlog.c) as
 * `bastion-verify --audit`, the evidence bundle selector and the monthly
 * report read them: the whole file through auditlog_verify_fp, then line
 * by line through the reader, auditlog_line_parse, the hash check, the
 * logfmt field walk and the session selector (learn, then match). What
 * the verifier calls intact must agree with the line functions.
 *
 * Input: an audit.log.
 */
#include "fuzz.h"

#include <stdio.h>

#include "auditlog.h"
#include "err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auditlog_verify v;
	struct auditlog_reader *rd = NULL;
	struct auditlog_sel *sel = NULL;
	struct auditlog_line l;
	const char *text, *pos;
	char key[64], val[1024];
	size_t len;
	FILE *fp;
	int pass, r, intact;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return (0);
	memset(&v, 0, sizeof(v));
	(void)auditlog_verify_fp(fp, &v);
	if (auditlog_sel_new("7", "20261102T101500Z-0123456789abcdef",
	    &sel) != 0)
		abort();
	for (pass = 0; pass < AUDITLOG_SEL_PASSES; pass++) {
		rewind(fp);
		if (auditlog_reader_open_fp(fp, &rd) != 0)
			abort();
		while ((r = auditlog_reader_next(rd, &text, &len)) == 0 ||
		    r == BERR_TRUNC) {
			/* a chain the verifier calls intact, with no torn
			 * line sealed in it, holds only lines that parse and
			 * prove their hash */
			intact = v.verdict == AUDITLOG_OK && v.torn == 0;
			if (auditlog_line_parse(text, len, &l) != 0) {
				if (intact)
					abort();
			} else {
				if (pass == 0 && intact &&
				    !auditlog_line_hash_ok(text, len, &l))
					abort();
				if (pass == 0) {
					pos = l.body;
					while (auditlog_field_next(&pos,
					    l.body + l.bodylen, key,
					    sizeof(key), val, sizeof(val)) == 0)
						;
					(void)auditlog_field(l.body,
					    l.bodylen, "event", val,
					    sizeof(val));
				}
				auditlog_sel_learn(sel, l.body, l.bodylen);
				(void)auditlog_sel_match(sel, l.body,
				    l.bodylen);
			}
			if (r == BERR_TRUNC)
				break;
		}
		auditlog_reader_free(rd);
		if (!auditlog_sel_changed(sel))
			break;
	}
	(void)auditlog_sel_anchored(sel);
	auditlog_sel_free(sel);
	fclose(fp);
	return (0);
}
