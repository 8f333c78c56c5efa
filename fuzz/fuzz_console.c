/*
 * fuzz_console.c - what an admin or auditor types at the ssh console
 * (verbs/): appr_split() cuts the line into words (quotes, escapes), then
 * every word goes to the verb table's lookup and the duration parser, as
 * the verbs do with their arguments; verb_line(), which the consoles
 * call, must find the same verb as the lookup of the first word.
 *
 * Input: one command line.
 */
#include "fuzz.h"

#include "approvals.h"
#include "err.h"
#include "verb.h"

#define FUZZ_FRONTS	(VERB_ADMIN | VERB_AUDITOR | VERB_LOCAL)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size), **argv = NULL, **lv = NULL;
	char out[64];
	const struct cmd_entry *e;
	unsigned secs;
	int argc, lc, i;

	if (appr_split(line, &argv, &argc) == 0) {
		if (argc < 0 || argc > 64 || argv[argc] != NULL)
			abort();
		for (i = 0; i < argc; i++) {
			if (argv[i] == NULL)
				abort();
			(void)verb_find(argv[i], FUZZ_FRONTS);
			if (appr_parse_duration(argv[i], &secs) == 0)
				appr_duration_str(secs, out, sizeof(out));
		}
	}
	e = verb_line(line, FUZZ_FRONTS, &lv, &lc);
	if (e != (argv != NULL && argc > 0 ? verb_find(argv[0], FUZZ_FRONTS) :
	    NULL))
		abort();
	appr_free_words(lv);
	appr_free_words(argv);
	free(line);
	return (0);
}
