/*
 * recreader.h - read frames from a recording file, one at a time, bounded.
 *
 * The reader never trusts the file: a length field is checked against the
 * format's cap before anything is allocated or read, and a frame is handed
 * out only when all of it (and its chain hash) is there. It checks shape
 * only; recverify.h checks the chain and the signatures.
 */
#ifndef BASTION_RECREADER_H
#define BASTION_RECREADER_H

#include <stdint.h>
#include <stdio.h>

#include "recfmt.h"

struct recreader;

/* Open a recording for reading. BERR_NOTFOUND, BERR_SYS (errno kept). */
int recreader_open(const char *path, struct recreader **out);
/* Read from fp (not closed by recreader_free), positioned at offset 0. */
int recreader_open_fp(FILE *fp, struct recreader **out);

/* Read and check the magic line (version 1 or 2) and, in version 2, the
 * key block (recenc.h; bounded by RECENC_KEYBLOCK_MAX, not parsed here).
 * 0; BERR_TRUNC if the file is shorter; BERR_FORMAT if it is something
 * else; BERR_LIMIT for a key block over the cap. */
int recreader_magic(struct recreader *r);

/* After recreader_magic: 1 or 2. */
int recreader_version(const struct recreader *r);
/* Offset of frame 0 (after the magic line and the key block). */
uint64_t recreader_base(const struct recreader *r);
/* Version 2: the key block's bytes after its length; NULL in version 1. */
const uint8_t *recreader_keyblock(const struct recreader *r, size_t *len);
/*
 * Version 2: decrypt from now on. recreader_next() then hands out the
 * clear payload of encrypted frame types (and BERR_AUTH for one that does
 * not open: altered or under another key); recreader_canon() still gives
 * the bytes on disk. Without a key a version 2 reader hands out the sealed
 * payloads as they are. 0, BERR_INVAL (version 1), BERR_NOMEM, BERR_CRYPTO.
 */
int recreader_set_key(struct recreader *r,
    const uint8_t file_key[16]);
/* 1 if recreader_next() decrypts. */
int recreader_decrypts(const struct recreader *r);

/*
 * Read the next frame into *f; f->payload is valid until the next call.
 * 0; BERR_NOTFOUND at a clean end of file (exactly between frames);
 * BERR_TRUNC if the file ends inside a frame; BERR_LIMIT or BERR_FORMAT for
 * a malformed frame; BERR_SYS on a read error. After an error the reader
 * stays where it was; recreader_offset() tells where the bad frame starts.
 */
int recreader_next(struct recreader *r, struct rec_frame *f);

/* Offset of the frame last returned (or the one that failed). */
uint64_t recreader_offset(const struct recreader *r);
/* Canonical bytes (len field through payload) of the frame last returned. */
const uint8_t *recreader_canon(const struct recreader *r, size_t *len);
/* Its stored chain hash (REC_HASH_LEN bytes). */
const uint8_t *recreader_hash(const struct recreader *r);
/* Continue reading at offset (a frame boundary obtained earlier). */
int recreader_seek(struct recreader *r, uint64_t offset);

void recreader_free(struct recreader *r);

/* Read the HEADER of the recording at path (either version) into h (zeroed first; the
 * caller clears it with recfmt_hdr_clear(), also on failure): the one
 * header reader of the auditor verbs and the notary. 0 or BERR_*. */
int recreader_header(const char *path, struct rec_hdr *h);

#endif
