/*
 * fuzz_peerchunk.c - a chunk of a watch of another node's session
 * (recorder/lib/peerchunk.c), as the watcher takes it from the shared
 * database: text, opened with the watcher's secret key (here the fixed
 * identity 0x42 x 32, the seeds' recipient). Nothing may crash; an opened
 * chunk holds at most PEERCHUNK_MAX bytes, and a failure leaves none.
 */
#include "fuzz.h"

#include "peerchunk.h"

static uint8_t identity[AGE_KEY_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(identity, 0x42, sizeof(identity));	/* FUZZ_AGE_IDENTITY */
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[PEERCHUNK_MAX];
	char *text = fuzz_cstr(data, size);
	size_t n = 1;
	int r;

	r = peerchunk_open(identity, text, out, &n);
	if ((r == 0 && n > PEERCHUNK_MAX) || (r != 0 && n != 0))
		abort();
	free(text);
	return (0);
}
