/*
 * fuzz_ctlproto.c - the local control socket (proto/ctlproto.c): a
 * bastionctl request as bastiond's control worker decodes it, and the
 * response frames as bastionctl reads them back (ctlp_frame_read from a
 * descriptor: a memfd holding the same bytes).
 *
 * Input: a request (or a stream of frames).
 */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "ctlproto.h"
#include "err.h"

static uint8_t frame[CTLP_MAX_FRAME];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **argv = NULL;
	uint8_t *enc = NULL;
	size_t n, enclen;
	int argc, type, fd, i;

	if (ctlp_request_decode(data, size, &argv, &argc) == 0) {
		/* what decodes must encode again, to the same bytes */
		if (ctlp_request_encode(argc, argv, &enc, &enclen) != 0 ||
		    enclen != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		for (i = 0; i < argc; i++)
			(void)strlen(argv[i]);
		ctlp_argv_free(argv);
	}
	if ((fd = memfd_create("fuzz_ctlproto", 0)) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	(void)lseek(fd, 0, SEEK_SET);
	for (i = 0; i < 64; i++)
		if (ctlp_frame_read(fd, &type, frame, sizeof(frame), &n) != 0)
			break;
	close(fd);
	return (0);
}
