/*
 * fuzz_sftp.c - the SFTP airlock's codec and tracker (proto/sftp.c,
 * sftp_track.c), as the session child runs them on an sftp channel
 * (bastion/relay_sftp.c) and bastion-replay --extract-files on a
 * recording: two byte streams, the engineer's and the device's, cut into
 * packets, parsed, and handed to the tracker, some of them marked refused.
 *
 * Input: chunks of u8 flags (bit 0: from the device; bit 1: the next
 * packet of that direction is refused), u16 length, that many bytes. What
 * the tracker hands on must keep sftp.h's promises: records with a
 * 64-digit hash (or "-"), an outcome, bytes no more than what crossed;
 * data within the packet it came from.
 */
#include "fuzz_files.h"

#include "buf.h"
#include "err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp_reasm ra[2];
	struct sftp_track *t;
	struct sftp_msg m;
	struct fz_files z;
	const uint8_t *pkt;
	char why[256];
	size_t len, n;
	unsigned refuse[2] = { 0, 0 };
	int broken[2] = { 0, 0 }, d, r;

	memset(ra, 0, sizeof(ra));
	memset(&z, 0, sizeof(z));
	z.max_chunk = SFTP_MAX_PACKET;
	if ((t = sftp_track_new(fz_record, fz_data, &z)) == NULL)
		return (0);
	while (size >= 3) {
		d = data[0] & 1;
		if (data[0] & 2)
			refuse[d]++;
		n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		if (!broken[d] && sftp_reasm_put(&ra[d], data, n) != 0)
			broken[d] = 1;
		data += n;
		size -= n;
		while (!broken[d] && (r = sftp_reasm_next(&ra[d], d, &pkt,
		    &len, &m, why, sizeof(why))) != 0) {
			if (r < 0) {
				/* a bad packet comes whole (for the
				 * record), its length prefix at least */
				if (why[0] == '\0' || (pkt != NULL &&
				    len < 4))
					abort();
				broken[d] = 1;
				break;
			}
			if (len < 5 || len > 4 + SFTP_MAX_PACKET)
				abort();
			if (d)
				(void)sftp_track_reply(t, &m, refuse[d] > 0 ?
				    "refused" : NULL);
			else
				(void)sftp_track_request(t, &m, refuse[d] > 0 ?
				    "refused" : NULL);
			if (refuse[d] > 0)
				refuse[d]--;
		}
	}
	sftp_track_free(t);
	sftp_reasm_clear(&ra[0]);
	sftp_reasm_clear(&ra[1]);
	return (0);
}
