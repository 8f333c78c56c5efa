/*
 * fuzz_clamd.c - clamd's reply as the import airlock reads it
 * (proto/clamd.c, clamd_reply_parse): whatever the socket sent, up to
 * CLAMD_REPLY_MAX and beyond; a verdict must come with a NUL-terminated,
 * printable name that fits its buffer.
 *
 * Input: the reply's bytes.
 */
#include "fuzz.h"

#include "clamd.h"
#include "err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[CLAMD_NAME_MAX];
	size_t i, n;
	int r;

	r = clamd_reply_parse(data, size, name, sizeof(name));
	if (r != CLAMD_CLEAN && r != CLAMD_FOUND && r != BERR_FORMAT)
		abort();
	n = strnlen(name, sizeof(name));
	if (n == sizeof(name))
		abort();
	for (i = 0; r == CLAMD_FOUND && i < n; i++)
		if (name[i] <= 0x20 || name[i] > 0x7e)
			abort();
	if (r == CLAMD_FOUND && n == 0)
		abort();
	return (0);
}
