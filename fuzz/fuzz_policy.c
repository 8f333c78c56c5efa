/*
 * fuzz_policy.c - the policy loader (policy/policy.c): YAML through
 * libyaml into struct policy, with every check the loader makes (names,
 * addresses, keys, windows, durations, nesting, sizes). The loader reads
 * a file; the input is written to one in a private directory (relative
 * paths in the policy resolve there and find nothing), and a policy that
 * loads is looked through as bastiond does (vendors, people, devices).
 *
 * Input: a policy.yaml.
 */
#include "fuzz.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "policy.h"

/* The file the loader reads, in a private directory made on first use. */
static const char *
policy_file(void)
{
	static char dir[] = "/tmp/fuzz_policy.XXXXXX", path[64];

	if (path[0] == '\0') {
		fuzz_tmpdir(dir);
		snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	}
	return (path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	FILE *f, *errs;
	enum policy_role role;
	size_t i, j, nerrs;
	time_t now = 1796000000;

	if ((f = fopen(policy_file(), "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0 || (errs = fopen("/dev/null", "w")) == NULL)
		abort();
	if (policy_load(policy_file(), errs, &nerrs, &p) == 0 && p != NULL) {
		for (i = 0; i < p->nvendors; i++) {
			(void)policy_vendor(p, p->vendors[i].name);
			(void)policy_work_record(p, &p->vendors[i]);
			for (j = 0; j < p->vendors[i].nengineers; j++) {
				(void)policy_person(p,
				    p->vendors[i].engineers[j].name, &role);
				(void)policy_person_active(
				    &p->vendors[i].engineers[j], now);
			}
		}
		for (i = 0; i < p->ndevices; i++)
			(void)policy_device(p, p->devices[i].name);
	}
	policy_free(p);
	fclose(errs);
	return (0);
}
