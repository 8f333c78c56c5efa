/*
 * io.c - whole reads and writes on a file descriptor (see io.h).
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "err.h"
#include "io.h"

int
io_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return (errno == EPIPE ? BERR_CLOSED : BERR_SYS);
		if (w == 0) {
			errno = EIO;
			return (BERR_SYS);
		}
		q += w;
		n -= (size_t)w;
	}
	return (0);
}

int
io_read_all(int fd, void *p, size_t n, size_t *got)
{
	size_t len = 0;
	int r;

	r = io_read_upto(fd, p, n, &len);
	if (got != NULL)
		*got = len;
	if (r != 0)
		return (r);
	return (len == n ? 0 : BERR_TRUNC);
}

/* read() from the descriptor's offset (off < 0) or pread() from off */
static int
io_upto(int fd, void *p, size_t cap, off_t off, size_t *len)
{
	uint8_t *q = p;
	ssize_t k;

	*len = 0;
	while (*len < cap) {
		k = off < 0 ? read(fd, q + *len, cap - *len) :
		    pread(fd, q + *len, cap - *len, off + (off_t)*len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return (BERR_SYS);
		if (k == 0)
			break;
		*len += (size_t)k;
	}
	return (0);
}

int
io_read_upto(int fd, void *p, size_t cap, size_t *len)
{
	return (io_upto(fd, p, cap, -1, len));
}

int
io_pread_upto(int fd, void *p, size_t cap, off_t off, size_t *len)
{
	*len = 0;
	if (off < 0) {
		errno = EINVAL;
		return (BERR_SYS);
	}
	return (io_upto(fd, p, cap, off, len));
}
