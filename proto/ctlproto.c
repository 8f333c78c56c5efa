/*
 * ctlproto.c - framing for the local control socket (see ctlproto.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctlproto.h"
#include "err.h"
#include "io.h"

int
ctlp_request_encode(int argc, char *const argv[], uint8_t **out, size_t *len)
{
	struct buf *b;
	int i, r;

	*out = NULL;
	*len = 0;
	if (argc < 1 || argc > CTLP_MAX_ARGS)
		return (BERR_LIMIT);
	if ((b = buf_new(CTLP_MAX_REQUEST)) == NULL)
		return (BERR_NOMEM);
	r = buf_put(b, CTLP_MAGIC, 4);
	if (r == 0)
		r = buf_put_u8(b, CTLP_VERSION);
	if (r == 0)
		r = buf_put_u32(b, (uint32_t)argc);
	for (i = 0; r == 0 && i < argc; i++) {
		if (strlen(argv[i]) > CTLP_MAX_ARG)
			r = BERR_LIMIT;
		else
			r = buf_put_cstring(b, argv[i]);
	}
	if (r == 0 && (*out = malloc(buf_len(b))) == NULL)
		r = BERR_NOMEM;
	if (r == 0) {
		*len = buf_len(b);
		memcpy(*out, buf_ptr(b), *len);
	}
	buf_free(b);
	return (r);
}

void
ctlp_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

int
ctlp_request_decode(const uint8_t *p, size_t len, char ***argvp, int *argcp)
{
	struct buf *b;
	char magic[4], **argv = NULL;
	uint8_t ver;
	uint32_t argc = 0, i;
	int r;

	*argvp = NULL;
	*argcp = 0;
	if (len > CTLP_MAX_REQUEST)
		return (BERR_LIMIT);
	if ((b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	if ((r = buf_get(b, magic, 4)) != 0 ||
	    (r = buf_get_u8(b, &ver)) != 0 ||
	    (r = buf_get_u32(b, &argc)) != 0)
		goto out;
	if (memcmp(magic, CTLP_MAGIC, 4) != 0 || ver != CTLP_VERSION) {
		r = BERR_FORMAT;
		goto out;
	}
	if (argc < 1 || argc > CTLP_MAX_ARGS) {
		r = BERR_LIMIT;
		goto out;
	}
	if ((argv = calloc(argc + 1, sizeof(*argv))) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	for (i = 0; i < argc; i++)
		if ((r = buf_get_cstring(b, &argv[i], CTLP_MAX_ARG)) != 0)
			goto out;
	if (buf_len(b) != 0)
		r = BERR_FORMAT;	/* trailing bytes */
out:
	buf_free(b);
	if (r != 0) {
		ctlp_argv_free(argv);
		return (r);
	}
	*argvp = argv;
	*argcp = (int)argc;
	return (0);
}

int
ctlp_request_read(int fd, char ***argvp, int *argcp)
{
	uint8_t *p;
	size_t len = 0;
	ssize_t n;
	int r;

	*argvp = NULL;
	*argcp = 0;
	if ((p = malloc(CTLP_MAX_REQUEST + 1)) == NULL)
		return (BERR_NOMEM);
	if (io_read_upto(fd, p, CTLP_MAX_REQUEST + 1, &len) != 0) {
		free(p);
		return (BERR_SYS);
	}
	if (len > CTLP_MAX_REQUEST) {
		/* Swallow a bounded rest so the refusal is not lost to a
		 * connection reset, then refuse. */
		size_t extra = 0;

		while (extra < 64 * CTLP_MAX_REQUEST &&
		    (n = read(fd, p, CTLP_MAX_REQUEST)) != 0) {
			if (n < 0 && errno != EINTR)
				break;
			if (n > 0)
				extra += (size_t)n;
		}
		free(p);
		return (BERR_LIMIT);
	}
	r = len == 0 ? BERR_TRUNC : ctlp_request_decode(p, len, argvp, argcp);
	free(p);
	return (r);
}

int
ctlp_frame_write(int fd, int type, const void *p, size_t n)
{
	const uint8_t *q = p;
	uint8_t h[5];
	size_t chunk;
	int r;

	do {
		chunk = n > CTLP_MAX_FRAME ? CTLP_MAX_FRAME : n;
		h[0] = (uint8_t)type;
		h[1] = (uint8_t)(chunk >> 24);
		h[2] = (uint8_t)(chunk >> 16);
		h[3] = (uint8_t)(chunk >> 8);
		h[4] = (uint8_t)chunk;
		if ((r = io_write_all(fd, h, sizeof(h))) != 0 ||
		    (r = io_write_all(fd, q, chunk)) != 0)
			return (r);
		q += chunk;
		n -= chunk;
	} while (n > 0);
	return (0);
}

int
ctlp_frame_read(int fd, int *type, uint8_t *buf, size_t cap, size_t *n)
{
	uint8_t h[5];
	uint32_t len;
	size_t got;
	int r;

	*n = 0;
	if ((r = io_read_all(fd, h, sizeof(h), &got)) != 0)
		return (r == BERR_TRUNC && got == 0 ? BERR_CLOSED : r);
	len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
	    (uint32_t)h[3] << 8 | h[4];
	if ((h[0] != CTLP_OUT && h[0] != CTLP_ERR && h[0] != CTLP_EXIT) ||
	    len > CTLP_MAX_FRAME || len > cap || (h[0] == CTLP_EXIT &&
	    len != 1))
		return (BERR_FORMAT);
	if (len > 0 && (r = io_read_all(fd, buf, len, NULL)) != 0)
		return (r);
	*type = h[0];
	*n = len;
	return (0);
}
