/*
 * fuzz_age.c - the age header and the key block of encrypted recordings
 * (recorder/lib/age.c, recenc.c): the bytes as bastion-verify and
 * bastion-replay read them from a format 2 file. Each input goes to
 * age_header_parse (what follows a parsed header is then opened as an age
 * payload with a fixed file key, and the stanzas are tried with a fixed
 * identity, as replay does), and to recenc_keyblock_parse as a whole key
 * block. Nothing may crash, and a parsed header's length must lie within
 * the input.
 */
#include "fuzz.h"

#include "age.h"
#include "err.h"
#include "recenc.h"

static uint8_t identity[1][AGE_KEY_LEN];
static struct age_payload *payload;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t fk[AGE_FILE_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8,
	    9, 10, 11, 12, 13, 14, 15, 16 };

	(void)argc;
	(void)argv;
	memset(identity[0], 0x42, AGE_KEY_LEN);	/* FUZZ_AGE_IDENTITY */
	if (age_payload_new(fk, &payload) != 0)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recenc_keyblock *kb;
	struct age_header h;
	uint8_t fk[AGE_FILE_KEY_LEN], *out;
	size_t plen = 0;

	if (age_header_parse(data, size, &h) == 0) {
		if (h.len > size || h.mac_off >= h.len ||
		    h.nx25519 > h.nstanzas)
			abort();
		(void)age_header_unwrap(&h, data,
		    (const uint8_t (*)[AGE_KEY_LEN])identity, 1, fk);
		if (size - h.len <= 4 * AGE_CHUNK &&
		    (out = malloc(size - h.len + 1)) != NULL) {
			(void)age_payload_open(payload, data + h.len,
			    size - h.len, out, &plen);
			free(out);
		}
	}
	if ((kb = malloc(sizeof(*kb))) == NULL)
		abort();
	if (recenc_keyblock_parse(data, size, kb) == 0 &&
	    (kb->age < data || kb->age + kb->age_len > data + size ||
	    kb->hdr.len != kb->age_len))
		abort();
	free(kb);
	return (0);
}
