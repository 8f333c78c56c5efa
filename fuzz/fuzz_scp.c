/*
 * fuzz_scp.c - the legacy SCP (rcp) parser (proto/scp.c), as the session
 * child runs it on an scp -O exec channel (bastion/relay_scp.c) and
 * bastion-replay --extract-files on a recording: two byte streams, the
 * source's and the sink's, put in as they come, every item taken, some
 * files refused at their C line.
 *
 * Input: a selector byte (bit 0: -f, a download; bit 1: -r -d), then
 * chunks of u8 flags (bit 0: the sink's stream; bit 1: refuse the file
 * whose answer is due after this chunk), u16 length, that many bytes.
 * What the parser hands on must keep scp.h's promises: items inside the
 * bytes put in, data never past the announced size, records with a
 * 64-digit hash, an outcome, bytes no more than their size; --text's
 * line of each item clean; once lost, lost for good.
 */
#include "fuzz_files.h"

#include "err.h"
#include "scp.h"

/* fz_record, and what scp adds: in order, within the announced size */
static void
fz_scp_record(void *arg, const struct sftp_record *r)
{
	fz_record(arg, r);
	if (r->bytes > r->size || r->size > SCP_MAX_SIZE || !r->sequential)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *cmds[] = {
		"scp -t /in/x", "scp -f /var/log/x.log", "scp -r -d -t /in",
		"scp -r -f /var/log",
	};
	struct scp_cmd c;
	struct scp_ev ev;
	struct scp *s;
	struct fz_files z;
	char why[SCP_MAX_LINE + 256], line[SCP_MAX_LINE * 4 + 128];
	size_t n, room;
	int d, refuse, r, lost = 0;

	if (size < 1)
		return (0);
	if (scp_cmd_parse(cmds[data[0] & 3], &c, why, sizeof(why)) != 0)
		abort();
	data++;
	size--;
	memset(&z, 0, sizeof(z));
	z.max_chunk = SCP_BUF;
	if ((s = scp_new(&c, fz_scp_record, fz_data, &z)) == NULL)
		return (0);
	while (size >= 3 && !lost) {
		d = data[0] & 1;
		refuse = (data[0] & 2) != 0;
		n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		room = scp_room(s, d);
		if (scp_put(s, d, data, n) != (n > room ? BERR_LIMIT : 0))
			abort();
		data += n;
		size -= n;
		while ((r = scp_next(s, &ev, why, sizeof(why))) == 1) {
			if (ev.raw == NULL || ev.len == 0 || ev.len > SCP_BUF ||
			    ev.msg == NULL || ev.item < SCP_ITEM_TIME ||
			    ev.item > SCP_ITEM_NAK)
				abort();
			if ((ev.item == SCP_ITEM_FILE ||
			    ev.item == SCP_ITEM_DIR) && (ev.path == NULL ||
			    strlen(ev.path) > SFTP_MAX_PATH))
				abort();
			if (ev.item == SCP_ITEM_FILE && ev.size > SCP_MAX_SIZE)
				abort();
			/* --text's line: clean, one line, within bounds */
			if (scp_describe(&ev, c.upload, line, sizeof(line)) &&
			    (strlen(line) < 3 || strpbrk(line, "\n\r\033") !=
			    NULL))
				abort();
			if (ev.item == SCP_ITEM_DATA && (ev.offset + ev.len >
			    ev.size))
				abort();
			if (ev.item == SCP_ITEM_FILE && refuse &&
			    scp_refuse(s, "refused") != 0)
				abort();
		}
		if (r < 0) {
			if (why[0] == '\0' || scp_next(s, &ev, why,
			    sizeof(why)) != BERR_FORMAT)
				abort();
			lost = 1;
		}
	}
	scp_free(s);
	return (0);
}
