/*
 * fuzz_recording.c - a whole recording file as bastion-verify and
 * bastion-replay read it (recorder/lib/recreader.c, recverify.c): the
 * magic line, frames with their chain hashes, the HEADER, CHECKPOINT and
 * SEAL signatures checked against the fixed recorder key the seeds were
 * written with (fuzz/mkseeds.c), and then a second walk with recreader
 * alone, seeking back to the offsets it reported.
 *
 * Input: the recording file.
 */
#include "fuzz.h"

#include <stdio.h>

#include "err.h"
#include "recfmt.h"
#include "reckey.h"
#include "recreader.h"
#include "recverify.h"

static struct reckey *key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[RECKEY_SEED_LEN];

	(void)argc;
	(void)argv;
	memset(seed, 0x5a, sizeof(seed));	/* fuzz/mkseeds.c's key */
	if (reckey_from_seed(seed, &key) != 0)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recverify_report rep;
	struct recreader *rd = NULL;
	struct rec_frame f;
	uint64_t mid = 0, frames;
	size_t n = 0, len;
	int v, r;
	FILE *fp;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return (0);
	memset(&rep, 0, sizeof(rep));
	v = recverify_fp(fp, key, &rep);
	frames = rep.frames;
	recverify_report_clear(&rep);
	rewind(fp);
	if (recreader_open_fp(fp, &rd) == 0) {
		if (recreader_magic(rd) == 0) {
			while ((r = recreader_next(rd, &f)) == 0) {
				(void)recreader_canon(rd, &len);
				(void)recreader_hash(rd);
				if (++n == 2)
					mid = recreader_offset(rd);
			}
			/* a sealed, intact recording is whole frames to its
			 * end, as many as the verifier counted */
			if (v == RECVERIFY_OK && (r != BERR_NOTFOUND ||
			    n != frames))
				abort();
			if (mid != 0 && recreader_seek(rd, mid) == 0)
				(void)recreader_next(rd, &f);
		}
		recreader_free(rd);
	}
	fclose(fp);
	return (0);
}
