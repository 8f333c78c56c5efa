/*
 * softsk_cbor.c - the sliver of CBOR (RFC 8949) a FIDO2 attestation needs:
 * integers, byte strings and map headers, in the shortest encoding, which
 * is what CTAP2's canonical form asks for.  Map keys are written by the
 * caller in canonical order.  Test-only; there is no decoder here.
 */
#include "softsk.h"

/* CBOR major types. */
#define CBOR_UINT	0
#define CBOR_NINT	1
#define CBOR_BYTES	2
#define CBOR_MAP	5

/* Writes an item head: major type in the top 3 bits, then the argument. */
static void
softsk_cbor_head(struct softsk_buf *b, uint8_t major, uint64_t arg)
{
	uint8_t mt = (uint8_t)(major << 5);

	if (arg < 24) {
		softsk_buf_put_u8(b, mt | (uint8_t)arg);
	} else if (arg <= UINT8_MAX) {
		softsk_buf_put_u8(b, mt | 24);
		softsk_buf_put_u8(b, (uint8_t)arg);
	} else if (arg <= UINT16_MAX) {
		softsk_buf_put_u8(b, mt | 25);
		softsk_buf_put_u16(b, (uint16_t)arg);
	} else if (arg <= UINT32_MAX) {
		softsk_buf_put_u8(b, mt | 26);
		softsk_buf_put_u32(b, (uint32_t)arg);
	} else {
		softsk_buf_put_u8(b, mt | 27);
		softsk_buf_put_u32(b, (uint32_t)(arg >> 32));
		softsk_buf_put_u32(b, (uint32_t)arg);
	}
}

void
softsk_cbor_int(struct softsk_buf *b, int64_t v)
{
	if (v >= 0)
		softsk_cbor_head(b, CBOR_UINT, (uint64_t)v);
	else	/* -1 - v, computed without overflowing INT64_MIN */
		softsk_cbor_head(b, CBOR_NINT, ~(uint64_t)v);
}

void
softsk_cbor_bytes(struct softsk_buf *b, const void *p, size_t n)
{
	softsk_cbor_head(b, CBOR_BYTES, n);
	softsk_buf_put(b, p, n);
}

void
softsk_cbor_map(struct softsk_buf *b, size_t npairs)
{
	softsk_cbor_head(b, CBOR_MAP, npairs);
}
