/*
 * buf.h - bounded byte buffer for everything that comes off a wire or a file.
 *
 * A struct buf owns a heap region with a mandatory maximum size, a read
 * offset and a write offset. Every accessor checks bounds and returns a
 * BERR_* code instead of touching memory outside the buffer, so parsers of
 * untrusted input (agent replies, recorder frames, recordings) never index
 * raw bytes. Modelled on OpenSSH's sshbuf: SSH wire types (uint32 big endian,
 * length-prefixed strings) are first-class.
 *
 * Ownership: buf_new() returns a buffer the caller frees with buf_free();
 * buf_free(NULL) is a no-op. buf_free() wipes the contents, since buffers
 * regularly carry secrets and signatures.
 */
#ifndef BASTION_BUF_H
#define BASTION_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* New empty buffer that may never hold more than max_size bytes. NULL on
 * allocation failure. */
struct buf *buf_new(size_t max_size);
/* New read-only view of caller memory (copied); NULL on failure. */
struct buf *buf_from(const void *data, size_t len);
/* A message of 1..max bytes from outside, copied into a new buffer *out
 * (NULL on entry and on failure): BERR_FORMAT if data is NULL, empty or
 * longer than max; BERR_NOMEM. */
int buf_open(const void *data, size_t len, size_t max, struct buf **out);
void buf_free(struct buf *b);
/* Discard all contents (wiped) but keep the buffer. */
void buf_reset(struct buf *b);

/* Bytes available to read. */
size_t buf_len(const struct buf *b);
/* Pointer to the first unread byte (valid until the next write). */
const uint8_t *buf_ptr(const struct buf *b);
size_t buf_max_size(const struct buf *b);

/* Writers: BERR_LIMIT if the result would exceed max_size. */
int buf_put(struct buf *b, const void *data, size_t len);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
/*
 * Room for a read straight into b (no bounce buffer): up to want bytes at
 * *room (BERR_LIMIT if not even one more byte fits under max_size, or
 * BERR_NOMEM); then buf_wrote(b, n) adds the n bytes the read put there.
 */
int buf_room(struct buf *b, size_t want, uint8_t **room, size_t *got);
void buf_wrote(struct buf *b, size_t n);
/* uint32 length then bytes (SSH "string"). */
int buf_put_string(struct buf *b, const void *data, size_t len);
int buf_put_cstring(struct buf *b, const char *s);
/* printf-style append; BERR_LIMIT if it would not fit. */
int buf_putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Readers: BERR_TRUNC if fewer bytes are available than needed. */
int buf_get(struct buf *b, void *out, size_t len);
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
int buf_skip(struct buf *b, size_t len);
/* SSH string without copying: *out points into the buffer, valid until the
 * next write. BERR_LIMIT if the declared length exceeds max_len. */
int buf_get_string_direct(struct buf *b, const uint8_t **out, size_t *lenp,
    size_t max_len);
/* SSH string copied into a new NUL-terminated heap string the caller
 * frees; BERR_FORMAT if it contains a NUL byte. *out is NULL on error. */
int buf_get_cstring(struct buf *b, char **out, size_t max_len);

#endif
