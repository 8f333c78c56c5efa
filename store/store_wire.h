/*
 * store_wire.h - the messages between the store actor (store_actor.c, the
 * single writer of the audit chain, hub of pushed decisions) and its
 * clients (store_client.c), one message per SOCK_SEQPACKET datagram on
 * STATE_DIR/store.sock. docs/ARCHITECTURE.md, "Store", has the picture.
 *
 * A message is: version (u8, 1), type (u8), then the type's fields in
 * this order, integers big endian, text as a u32 length and bytes:
 *
 *	APPEND     text (an audit event body)       client -> actor
 *	APPENDED   seq (u64), hash (64 hex bytes)   actor -> client
 *	ERROR      code (u32, a negated BERR_*), text
 *	NOTIFY     kind (u8), id (u64)              a decision landed
 *	SUBSCRIBE  kind (u8), id (u64; 0: any)      push me those
 *	EVENT      kind (u8), id (u64)              actor -> subscriber
 *
 * Both sides treat what they receive as untrusted: a datagram longer than
 * STORE_MSG_MAX, an unknown version, type or kind, a text over its limit
 * or with a NUL, or bytes left over are BERR_FORMAT, and the actor then
 * ends that connection (only that one).
 */
#ifndef BASTION_STORE_WIRE_H
#define BASTION_STORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"

#define STORE_SOCK_FILE		"store.sock"
#define STORE_WIRE_VERSION	1
#define STORE_TEXT_MAX		AUDITLOG_BODY_MAX
#define STORE_MSG_MAX		(STORE_TEXT_MAX + 64)

enum store_msg_type {
	STORE_MSG_APPEND = 1,
	STORE_MSG_APPENDED,
	STORE_MSG_ERROR,
	STORE_MSG_NOTIFY,
	STORE_MSG_SUBSCRIBE,
	STORE_MSG_EVENT,
};

struct store_msg {
	uint8_t type;			/* STORE_MSG_* */
	uint8_t kind;			/* STATE_EV_* (state.h) */
	int64_t id;
	uint64_t seq;
	int code;			/* BERR_* */
	char hash[AUDITLOG_HEX_LEN + 1];
	char text[STORE_TEXT_MAX + 1];	/* NUL-terminated */
};

/* Encode m into out (outlen bytes): 0 with *len set, or BERR_LIMIT /
 * BERR_INVAL. */
int store_msg_encode(const struct store_msg *m, uint8_t *out, size_t outlen,
    size_t *len);
/* Decode one datagram (untrusted) into *m: 0 or BERR_FORMAT. */
int store_msg_decode(const uint8_t *p, size_t len, struct store_msg *m);

/* For the encoders of store_wire.c and store_call.c: a bounded buffer of
 * at most max bytes holding version and type (NULL: out of memory); then
 * its bytes into out (outlen) when r is 0, freeing it: r or BERR_LIMIT. */
struct buf;
struct buf *store_wire_begin(uint8_t type, size_t max);
int store_wire_end(struct buf *b, int r, uint8_t *out, size_t outlen,
    size_t *len);

#endif
