/*
 * fuzz_bundle.c - an evidence bundle as `bastion-verify BUNDLE.tar` reads
 * it on an auditor's laptop (recorder/bastion-verify.c, compiled into this
 * target with its main() renamed, over the bundle reader of
 * recorder/lib/recbundle.c): libarchive's tar reader, the member
 * names, types and sizes, the MANIFEST, the recorder key PEM it carries,
 * the MANIFEST signature, and then the recording, audit lines and
 * export.txt of a bundle whose signature holds (the seed of
 * fuzz/mkseeds.c). Run with -q and without -k, so the key the bundle
 * carries is parsed and used.
 *
 * Input: the tar.
 */
#include "fuzz.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

int bastion_verify_main(int argc, char **argv);

static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz_bundle.XXXXXX";

	(void)argc;
	(void)argv;
	fuzz_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/bundle.tar", dir);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[] = { "bastion-verify", "-q", "--bundle", path, NULL };
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	optind = 0;	/* getopt starts afresh */
	(void)bastion_verify_main(4, args);
	return (0);
}
