/*
 * fuzz_recfmt.c - recording frames and their payloads
 * (recorder/lib/recfmt.c): frames decoded one after the other from a
 * buffer as the reader does, each payload through recfmt_payload_decode
 * for its type, a HEADER payload through recfmt_hdr_decode, and the
 * header's values through the time and session-id parsers; every frame
 * and header that decodes must encode back to the same bytes.
 *
 * Input: frames (uint32 length || type, seq, time, channel, payload).
 */
#include "fuzz.h"

#include "buf.h"
#include "err.h"
#include "recfmt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_payload pl;
	struct rec_frame f;
	struct rec_hdr h;
	struct buf *b, *again;
	uint64_t us;
	size_t i, before;

	if ((b = buf_from(data, size)) == NULL)
		abort();
	while (buf_len(b) > 0) {
		before = buf_len(b);
		if (recfmt_frame_decode(b, &f) != 0)
			break;
		if ((again = buf_new(REC_FRAME_MAX)) == NULL)
			abort();
		if (recfmt_frame_encode(again, &f) != 0 ||
		    buf_len(again) != before - buf_len(b) ||
		    memcmp(buf_ptr(again), data + (size - before),
		    buf_len(again)) != 0)
			abort();
		buf_free(again);
		(void)recfmt_type_name(f.type);
		(void)recfmt_payload_decode(f.type, f.payload, f.len, &pl);
		memset(&h, 0, sizeof(h));
		if (f.type == REC_HEADER &&
		    recfmt_hdr_decode(f.payload, f.len, &h) == 0) {
			if ((again = buf_new(REC_MAX_PAYLOAD)) == NULL)
				abort();
			if (recfmt_hdr_encode(&h, again) != 0 ||
			    buf_len(again) != f.len ||
			    memcmp(buf_ptr(again), f.payload, f.len) != 0)
				abort();
			buf_free(again);
			for (i = 0; i < h.n; i++) {
				(void)recfmt_parse_time(h.value[i], &us);
				(void)recfmt_session_id_valid(h.value[i]);
				(void)recfmt_type_from_name(h.value[i]);
			}
			recfmt_hdr_clear(&h);
		}
	}
	buf_free(b);
	return (0);
}
