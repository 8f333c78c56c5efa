/*
 * fuzz_enroll.c - the public key file an engineer sends for enrolment, as
 * `bastionctl enroll --key FILE.pub` reads it (ctl/cmd-enroll.c, compiled
 * in as tests/unit/test_pam_bastion.c compiles pam/hours.c; the three
 * bastionctl helpers the rest of the verb uses are link-time placeholders
 * that abort if ever reached): enroll_parse_pub splits the first
 * line into type, base64 and comment, decodes the key (sk_key_from_base64)
 * and keeps a YAML-safe comment, which must come out YAML-safe.
 *
 * Input: the .pub file.
 */
#include "fuzz.h"

#include "../ctl/cmd-enroll.c"

/* bastionctl's helpers the verb calls besides the parser (ctl/ctl.c):
 * the parser never calls them, and a target that reached one would be
 * fuzzing something else, so they abort (a crash libFuzzer reports). */
int
ctl_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	(void)path;
	(void)max;
	(void)out;
	(void)len;
	abort();
}

void
ctl_usage(const struct ctl_cmd *cmd, FILE *f)
{
	(void)cmd;
	(void)f;
	abort();
}

struct policy_person *
ctl_engineer(struct ctl *c, const char *name)
{
	(void)c;
	(void)name;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct enroll e;
	size_t i;

	memset(&e, 0, sizeof(e));
	e.keyfile = "key.pub";
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
