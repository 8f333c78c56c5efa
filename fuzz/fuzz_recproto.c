/*
 * fuzz_recproto.c - what a session worker (or the auditor console's
 * export) sends to bastion-recorder (recorder/lib/recproto.c, and the
 * recorder's conn_drain/conn_dispatch): messages taken off the stream with
 * the recorder's limits (RECPROTO_HELLO_MAX until an OPEN, then
 * RECPROTO_MSG_MAX), each body parsed as the recorder parses it: OPEN's
 * version and session facts, FRAME's type, channel and payload, NOTARIZE's
 * id and MANIFEST.
 *
 * Input: the byte stream on the recorder's socket.
 */
#include "fuzz.h"

#include "buf.h"
#include "err.h"
#include "recfmt.h"
#include "recproto.h"

static void
body_parse(int msg, struct buf *body, int *open)
{
	const uint8_t *p, *m;
	struct rec_payload pl;
	struct rec_hdr h;
	uint32_t version, channel;
	uint64_t seq;
	uint8_t type;
	size_t len, mlen;
	char *recid = NULL;

	switch (msg) {
	case RECPROTO_OPEN:
		memset(&h, 0, sizeof(h));
		if (buf_get_u32(body, &version) == 0 &&
		    recfmt_hdr_decode(buf_ptr(body), buf_len(body), &h) == 0) {
			(void)recfmt_hdr_get(&h, "ref");
			*open = 1;
		}
		recfmt_hdr_clear(&h);
		break;
	case RECPROTO_FRAME:
		if (buf_get_u8(body, &type) == 0 &&
		    buf_get_u32(body, &channel) == 0 &&
		    buf_get_string_direct(body, &p, &len,
		    REC_MAX_PAYLOAD) == 0 && buf_len(body) == 0)
			(void)recfmt_payload_decode(type, p, len, &pl);
		break;
	case RECPROTO_NOTARIZE:
		if (recproto_get_notarize(body, &recid, &m, &mlen, &seq) == 0)
			(void)recfmt_session_id_valid(recid);
		free(recid);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *in, *body;
	int msg, open = 0;

	if ((in = buf_from(data, size)) == NULL)
		abort();
	while (recproto_take(in, open ? RECPROTO_MSG_MAX : RECPROTO_HELLO_MAX,
	    &msg, &body) == 0) {
		body_parse(msg, body, &open);
		buf_free(body);
	}
	buf_free(in);
	return (0);
}
