/*
 * fuzz_enroll.c - the public key file an engineer sends for enrolment, as
 * `bastionctl enroll --key FILE.pub` reads it (verbs/cmd-enroll.c, linked
 * from libverbs.a): enroll_parse_pub splits the first line into type,
 * base64 and comment, decodes the key (sk_key_from_base64) and keeps a
 * YAML-safe comment, which must come out YAML-safe.
 *
 * Input: the .pub file.
 */
#include "fuzz.h"

#include "local.h"
#include "sk.h"

static FILE *fuzz_devnull;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct enroll e;
	size_t i;

	if (fuzz_devnull == NULL &&
	    (fuzz_devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	memset(&e, 0, sizeof(e));
	e.keyfile = "key.pub";
	e.err = fuzz_devnull;
	if (enroll_parse_pub(&e, text) == 0) {
		if (strcmp(sk_key_type(&e.k), e.type) != 0)
			abort();
		for (i = 0; e.comment[i] != '\0'; i++)
			if (strchr("@._+-: ", e.comment[i]) == NULL &&
			    !((e.comment[i] >= 'a' && e.comment[i] <= 'z') ||
			    (e.comment[i] >= 'A' && e.comment[i] <= 'Z') ||
			    (e.comment[i] >= '0' && e.comment[i] <= '9')))
				abort();
	}
	free(text);
	return (0);
}
