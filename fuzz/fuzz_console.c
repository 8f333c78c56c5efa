/*
 * fuzz_console.c - what an admin or auditor types at the ssh console
 * (verbs/approvals.c): appr_split() cuts the line into words (quotes,
 * escapes), then every word goes to the verb table's lookup (verbs/verb.c)
 * and the duration parser, as the verbs do with their arguments.
 *
 * Input: one command line.
 */
#include "fuzz.h"

#include "approvals.h"
#include "err.h"
#include "verb.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size), **argv = NULL, out[64];
	unsigned secs;
	int argc, i;

	if (appr_split(line, &argv, &argc) == 0) {
		if (argc < 0 || argc > 64 || argv[argc] != NULL)
			abort();
		for (i = 0; i < argc; i++) {
			if (argv[i] == NULL)
				abort();
			(void)verb_find(argv[i], VERB_ADMIN | VERB_AUDITOR |
			    VERB_LOCAL);
			if (appr_parse_duration(argv[i], &secs) == 0)
				appr_duration_str(secs, out, sizeof(out));
		}
		appr_free_words(argv);
	}
	free(line);
	return (0);
}
