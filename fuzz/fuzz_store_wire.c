/*
 * fuzz_store_wire.c - the store actor's messages (store/store_wire.c) and
 * forwarded state operations (store/store_call.c: CALL by the call's
 * shape, ROW and DONE as the remote backend reads them) as the actor
 * decodes a client's datagram and a client decodes the actor's answer:
 * whatever decodes must encode again to the same bytes.
 *
 * Input: one datagram.
 */
#include "fuzz.h"

#include "err.h"
#include "store_call.h"
#include "store_wire.h"

static struct store_msg m;
static uint8_t out[STORE_CALL_MAX];
static struct store_call_msg cm;
static union store_call_row row;

static void
call_round_trip(const uint8_t *data, size_t size)
{
	const struct store_call *k;
	const char *shape;
	char done[2 + STORE_CALL_VALS + 1];
	uint8_t type, call;
	size_t len;

	if (store_call_head(data, size, &type, &call) != 0 ||
	    call >= SC_NCALLS)
		return;
	k = &store_calls[call];
	if (type == STORE_MSG_CALL)
		shape = k->in;
	else if (type == STORE_MSG_ROW)
		shape = "R";
	else if (type == STORE_MSG_DONE)
		shape = store_call_done_shape(k, done, sizeof(done));
	else
		return;
	if (store_call_decode(data, size, shape, k->map, &cm, &row) != 0)
		return;
	if (store_call_encode(type, call, shape, cm.v, k->map, &row, out,
	    sizeof(out), &len) != 0 || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;

	call_round_trip(data, size);
	if (store_msg_decode(data, size, &m) != 0)
		return (0);
	if (store_msg_encode(&m, out, sizeof(out), &len) != 0 ||
	    len != size || memcmp(out, data, size) != 0)
		abort();
	return (0);
}
