/*
 * ctlproto.h - the local control socket's wire format (bastionctl <->
 * bastiond's control worker).
 *
 * A local admin's bastionctl connects to RUN_DIR/control.sock. bastiond
 * checks the caller's credentials with SO_PEERCRED/SO_PEERGROUPS before a
 * byte is read, then hands the connection to a control worker. The worker
 * is the only reader of the request, which it treats as untrusted:
 *
 *	request  = "BCTL" u8 version(1) u32 argc string[argc]
 *	           (SSH-style strings: u32 length then bytes, no NUL inside)
 *	response = frame*  ending with one 'x' frame
 *	frame    = u8 type u32 length byte[length]
 *	           type 'o': standard output, 'e': standard error,
 *	                'x': exit status (length 1: 0 ok, 1 refused, 2 usage)
 *
 * Output is streamed in frames as the verb writes it, so `watch` works
 * over the socket. Limits below are checked on both sides.
 */
#ifndef BASTION_CTLPROTO_H
#define BASTION_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTLP_MAGIC		"BCTL"
#define CTLP_VERSION		1
#define CTLP_MAX_ARGS		64
#define CTLP_MAX_ARG		4096
#define CTLP_MAX_REQUEST	(16 * 1024)
#define CTLP_MAX_FRAME		(64 * 1024)

#define CTLP_OUT	'o'
#define CTLP_ERR	'e'
#define CTLP_EXIT	'x'

/* Encode argv into a request; BERR_LIMIT past the limits above. On success
 * *out is a heap buffer of *len bytes the caller frees. */
int ctlp_request_encode(int argc, char *const argv[], uint8_t **out,
    size_t *len);
/* Decode a request of exactly len bytes. On success *argvp is a
 * NULL-terminated heap vector (free with ctlp_argv_free) of *argcp >= 1
 * words. BERR_FORMAT, BERR_TRUNC or BERR_LIMIT on anything else. */
int ctlp_request_decode(const uint8_t *p, size_t len, char ***argvp,
    int *argcp);
void ctlp_argv_free(char **argv);

/* Read a whole request from fd (bounded by CTLP_MAX_REQUEST; the request
 * ends when the peer shuts down its writing side). */
int ctlp_request_read(int fd, char ***argvp, int *argcp);

/* Write one frame (all of it, retrying short writes and EINTR). Payloads
 * over CTLP_MAX_FRAME are split. */
int ctlp_frame_write(int fd, int type, const void *p, size_t n);
/* Read one frame into buf (cap >= CTLP_MAX_FRAME). BERR_CLOSED at a clean
 * end between frames, BERR_TRUNC inside one, BERR_FORMAT for an unknown
 * type or oversized length. */
int ctlp_frame_read(int fd, int *type, uint8_t *buf, size_t cap, size_t *n);

#endif
