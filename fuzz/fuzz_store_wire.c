/*
 * fuzz_store_wire.c - the store actor's messages (store/store_wire.c) as
 * the actor decodes a client's datagram and a client decodes the actor's
 * answer: whatever decodes must encode again to the same bytes.
 *
 * Input: one datagram.
 */
#include "fuzz.h"

#include "err.h"
#include "store_wire.h"

static struct store_msg m;
static uint8_t out[STORE_MSG_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;

	if (store_msg_decode(data, size, &m) != 0)
		return (0);
	if (store_msg_encode(&m, out, sizeof(out), &len) != 0 ||
	    len != size || memcmp(out, data, size) != 0)
		abort();
	return (0);
}
