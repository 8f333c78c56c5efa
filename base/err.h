/*
 * err.h - the one error space shared by every bastion program.
 *
 * Functions that can fail return 0 on success or a negative BERR_* code.
 * errno, libssh, PAM and library errors are folded into these codes at the
 * point where they happen, with the detail logged there, so callers only
 * ever chain on one integer:
 *
 *	if ((r = a()) != 0 || (r = b()) != 0)
 *		goto out;
 *
 * berr_str() gives a short sentence for each code; berr_name() its symbol.
 */
#ifndef BASTION_ERR_H
#define BASTION_ERR_H

#include <stddef.h>

#define BERR_MAP(X)                                                        \
	X(OK, 0, "success")                                                \
	X(NOMEM, -1, "out of memory")                                      \
	X(INVAL, -2, "invalid argument")                                   \
	X(SYS, -3, "system call failed (see errno in the log)")            \
	X(LIMIT, -4, "a size or count limit was exceeded")                 \
	X(TRUNC, -5, "input ended early")                                  \
	X(FORMAT, -6, "malformed input")                                   \
	X(NOTFOUND, -7, "not found")                                       \
	X(EXISTS, -8, "already exists")                                    \
	X(DENIED, -9, "permission denied")                                 \
	X(AUTH, -10, "authentication failed")                              \
	X(SSH, -11, "SSH protocol or library error")                       \
	X(AGAIN, -12, "operation would block")                             \
	X(TIMEOUT, -13, "timed out")                                       \
	X(HOSTKEY, -14, "device host key does not match the pinned key")   \
	X(CONNECT, -15, "could not connect")                               \
	X(CRYPTO, -16, "cryptographic operation failed")                   \
	X(POLICY, -17, "policy file has errors")                           \
	X(CLOSED, -18, "peer closed the connection")                       \
	X(INTERNAL, -19, "internal error")

enum berr {
#define BERR_ENUM(name, val, str) BERR_##name = (val),
	BERR_MAP(BERR_ENUM)
#undef BERR_ENUM
};

/* Short human sentence for an error code; never NULL. */
const char *berr_str(int err);
/* Symbolic name ("BERR_NOMEM") for an error code; never NULL. */
const char *berr_name(int err);
/* Write why (printf-style) into buf (len bytes, truncated, always
 * terminated) and return err: `return (berr_why(why, whylen, BERR_FORMAT,
 * "%s: no header", path));`. */
int berr_why(char *buf, size_t len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
