/*
 * fuzz_files.h - what the targets of the parsers that move files share
 * (fuzz_sftp: the SFTP tracker; fuzz_scp: the legacy scp parser): their
 * per-file callbacks (sftp.h's sftp_data_fn and sftp_record_fn), which
 * read every byte handed on (so ASan sees a range that is not all there)
 * and hold each record to sftp.h's promises: a 64-digit hash (or "-"), an
 * outcome, a reason, a path, no more bytes than crossed.
 */
#ifndef BASTION_FUZZ_FILES_H
#define BASTION_FUZZ_FILES_H

#include "fuzz.h"
#include "sftp.h"

struct fz_files {
	size_t max_chunk;	/* the most one data call may hand on */
	uint64_t seen;		/* bytes the data callback got */
};

static inline void
fz_data(void *arg, unsigned serial, const char *path, enum sftp_dir dir,
    uint64_t off, const uint8_t *p, size_t n)
{
	struct fz_files *z = arg;
	volatile uint8_t sink = 0;
	size_t i;

	(void)off;
	if (serial == 0 || path == NULL || strlen(path) > SFTP_MAX_PATH ||
	    (dir != SFTP_DIR_IN && dir != SFTP_DIR_OUT) || n > z->max_chunk)
		abort();
	for (i = 0; i < n; i++)	/* every byte readable (ASan) */
		sink ^= p[i];
	(void)sink;
	z->seen += n;
}

static inline void
fz_record(void *arg, const struct sftp_record *r)
{
	struct fz_files *z = arg;
	size_t l = strlen(r->sha256);

	if ((l != 64 && strcmp(r->sha256, "-") != 0) || r->outcome == NULL ||
	    r->reason == NULL || r->path == NULL || r->bytes > z->seen)
		abort();
}

#endif
