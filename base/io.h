/*
 * io.h - whole reads and writes on a file descriptor.
 *
 * read(2) and write(2) may move fewer bytes than asked and may be
 * interrupted by a signal. Every loop that retries them lives here, once:
 * the control socket's frames, the policy file and its pinned copy, the
 * replay's terminal output, the audit log's appends, a host key read from
 * a pipe. Each function retries on EINTR and on nothing else; a
 * descriptor in non-blocking mode that would block is an error (BERR_SYS,
 * errno EAGAIN) like any other.
 */
#ifndef BASTION_IO_H
#define BASTION_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write all n bytes of p to fd. 0 when all were written; BERR_CLOSED when
 * the reader has gone (EPIPE); BERR_SYS for any other failure, with errno
 * set (EIO when write(2) wrote nothing without an error).
 */
int io_write_all(int fd, const void *p, size_t n);

/*
 * Read exactly n bytes from fd into p. 0 when all arrived; BERR_TRUNC when
 * the file or stream ended first; BERR_SYS on a read error (errno set).
 * *got (may be NULL) is set to the number of bytes read either way, so a
 * caller tells "nothing came" (0) from "cut short".
 */
int io_read_all(int fd, void *p, size_t n, size_t *got);

/*
 * Read from fd into p until end of file or until cap bytes are in, and set
 * *len to the number read. 0 at end of file or with p full (*len == cap:
 * a caller that must refuse anything longer than max passes cap = max + 1
 * and checks *len > max); BERR_SYS on a read error (errno set, *len what
 * was read before it).
 */
int io_read_upto(int fd, void *p, size_t cap, size_t *len);

/* io_read_upto() with pread(2) from offset off: the descriptor's own
 * offset (which a forked process may share) is left where it was. */
int io_pread_upto(int fd, void *p, size_t cap, off_t off, size_t *len);

#endif
