/*
 * store_call.h - state operations forwarded to the store actor (store/
 * only): the table of calls and their wire.
 *
 * A process other than the actor that opens the store while the actor
 * answers (state_open) gets the "remote" backend (store_remote.c), whose
 * every store_ops operation is one CALL on STATE_DIR/store.sock; the
 * actor runs it on its own SQLite connection, on its thread
 * (store_serve.c), and answers with the rows it produced (ROW, one per
 * datagram, for the list and each operations) and then DONE: the status
 * (a BERR_* code, or 1 for guard_try's "taken"), the backend's message
 * and the out-values.
 *
 * One table, store_calls[], indexed by the call number, says for each
 * operation the shape of its arguments and of its out-values, the row
 * struct it carries (a column table of store_row.h), and what a peer must
 * be allowed to do for it. Both sides encode and decode through that
 * table, so that a new operation is one entry and two one-line adapters
 * (SERVE in store_serve.c, REMOTE in store_remote.c).
 *
 * Wire (one SOCK_SEQPACKET datagram, at most STORE_CALL_MAX bytes):
 * version (u8, STORE_WIRE_VERSION), type (u8: CALL, ROW or DONE), call
 * (u8), then the values the shape names, each a tag (u8) and its data:
 *
 *	tag 0  NULL text         (shape 't' only)
 *	tag 1  text: u32 length, bytes (no NUL, at most STORE_CALL_TEXT_MAX)
 *	tag 2  integer: u64, two's complement, big endian
 *
 * Shapes: 'T' text, 't' text or NULL, 'I' integer, 'R' the call's row
 * struct, one value per column of its table. DONE's shape is "IT"
 * (status, message) followed by the call's out-shape; ROW's is "R".
 * Anything else (an unknown type or call, a wrong tag, a text too long for
 * its column or holding a NUL, an integer out of its member's range,
 * bytes left over) is BERR_FORMAT: the actor then ends that connection.
 */
#ifndef BASTION_STORE_CALL_H
#define BASTION_STORE_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_row.h"

#define STORE_CALL_MAX		16384	/* bytes in one datagram */
#define STORE_CALL_TEXT_MAX	8192	/* bytes in one text value */
#define STORE_CALL_VALS		8	/* scalar values of one message */
#define STORE_CALL_ROWS		65536	/* rows of one answer */
#define STORE_CALL_TIMEOUT_MS	30000	/* an answer, whole */

/* Message types, after store_wire.h's */
#define STORE_MSG_CALL		16
#define STORE_MSG_ROW		17
#define STORE_MSG_DONE		18

/* What a peer may do (store_calls[].perm) */
#define STORE_PERM_READ		0x1
#define STORE_PERM_WRITE	0x2

enum store_call_id {
	SC_HELLO,		/* may this peer use the actor's store? */
	SC_COUNTER_ADVANCE, SC_COUNTER_GET, SC_COUNTER_FORGET,
	SC_KEY_LOCK, SC_KEY_LOCKED, SC_KEY_LOCK_OLDEST, SC_KEY_UNLOCK_ENGINEER,
	SC_KEY_LOCK_COUNT,
	SC_GUARD_TRY, SC_GUARD_HOLDER, SC_GUARD_RELEASE,
	SC_ENROLL_PUT, SC_ENROLL_EACH, SC_ENROLL_GET,
	SC_REQUEST_CREATE, SC_REQUEST_GET, SC_REQUEST_EACH, SC_REQUEST_FINISH,
	SC_REQUEST_APPROVE,
	SC_GRANT_LIVE, SC_GRANT_GET, SC_GRANT_EACH, SC_GRANT_REVOKE,
	SC_SESSION_START, SC_SESSION_END, SC_SESSION_END_OPEN, SC_SESSION_GET,
	SC_SESSION_EACH, SC_SESSION_KILL, SC_SESSION_CONTROLS,
	SC_SESSION_COUNT,
	SC_ENGINEER_LOCK, SC_ENGINEER_LOCKED, SC_ENGINEER_UNLOCK,
	SC_TOUCH_WINDOW_OPEN, SC_TOUCH_WINDOW_GET, SC_TOUCH_WINDOW_CLOSE,
	SC_TOUCH_WINDOW_EXPIRE,
	SC_WEB_CRED_PUT, SC_WEB_CRED_EACH, SC_WEB_SESSION_NEW,
	SC_WEB_SESSION_TOUCH, SC_WEB_SESSION_END, SC_WEB_CHALLENGE_PUT,
	SC_WEB_CHALLENGE_TAKE, SC_WEB_LOGIN_FAIL, SC_WEB_LOGIN_FAILS,
	SC_EXPORT_CREATE, SC_EXPORT_GET, SC_EXPORT_EACH, SC_EXPORT_FINISH,
	SC_DECL_FILE_ADD, SC_DECL_EACH, SC_DECL_ANSWER,
	SC_WATCH_OPEN, SC_WATCH_EACH, SC_WATCH_CLAIM, SC_WATCH_PUT,
	SC_WATCH_TAKE, SC_WATCH_CLOSE,
	SC_NCALLS
};

/* One scalar value: tag 0 (NULL), 1 (s) or 2 (i). */
struct store_val {
	uint8_t tag;
	const char *s;
	int64_t i;
};
#define STORE_VAL_NULL	0
#define STORE_VAL_TEXT	1
#define STORE_VAL_INT	2
#define SV_T(v)		{ (v) != NULL ? STORE_VAL_TEXT : STORE_VAL_NULL, \
	(v), 0 }
#define SV_I(v)		{ STORE_VAL_INT, NULL, (int64_t)(v) }

/* A row struct big enough for any of store_row.h's tables. */
union store_call_row {
	struct state_lock lock;
	struct state_enrollment enroll;
	struct state_request request;
	struct state_grant grant;
	struct state_session session;
	struct state_session_ctl ctl;
	struct state_engineer_lock elock;
	struct state_touch_window window;
	struct state_web_cred wcred;
	struct state_web_session wsess;
	struct state_web_challenge wchal;
	struct state_export fexport;
	struct state_decl_file declf;
	struct state_decl decl;
	struct state_watch watch;
	struct state_watch_chunk watchc;
};

/* One call being served (store_serve.c): decoded arguments in, results
 * out, in the members its out-spec names. */
struct store_call_ctx {
	struct store *s;			/* the actor's SQLite backend */
	struct store_val in[STORE_CALL_VALS];	/* the scalars, in order */
	union store_call_row row;		/* 'R' in, or 'R' out */
	int flag;				/* 'f': found, locked, ... */
	size_t n;				/* 'n': a count */
	int64_t id;				/* 'd': a new row's id */
	uint32_t u32;				/* 'u': a counter */
	char text[256];				/* 'T' */
	void *heap;				/* freed after the answer */
	/* each row the operation produces, for the answer (0 or BERR_*) */
	int (*row_fn)(const void *row, void *arg);
	void *row_arg;
};

struct store_call {
	const char *name;
	const char *in;			/* the CALL's shape */
	/* DONE's values after "IT", named by where they are: 'f' flag, 'n'
	 * n, 'd' id, 'u' u32 (integers on the wire), 'T' text, 'R' row */
	const char *out;
	const struct sq_map *map;	/* 'R' and the rows, or NULL */
	unsigned perm;			/* STORE_PERM_* needed */
	/* run it on the SQLite backend: a status for DONE */
	int (*serve)(struct store_call_ctx *x);
};

extern const struct store_call store_calls[SC_NCALLS];

/* Does call stream rows (ROW datagrams before its DONE)? */
int store_call_rows(const struct store_call *c);
/* DONE's values after status and message, from x by c's out-spec. */
void store_call_outs(const struct store_call *c,
    const struct store_call_ctx *x, struct store_val *v);

/* Scalars and text of one decoded message; texts point into arena. */
struct store_call_msg {
	uint8_t type, call;
	size_t n;
	struct store_val v[STORE_CALL_VALS];
	size_t used;
	char arena[STORE_CALL_MAX];
};

/*
 * Encode a message of type for call with shape: the scalars from v (in
 * order) and, for 'R', the columns of map read from row. 0 with *len, or
 * BERR_LIMIT (a text or the whole too long), BERR_INVAL.
 */
int store_call_encode(uint8_t type, uint8_t call, const char *shape,
    const struct store_val *v, const struct sq_map *map, const void *row,
    uint8_t *out, size_t outlen, size_t *len);
/* The type and call of a datagram (untrusted): 0 or BERR_FORMAT. */
int store_call_head(const uint8_t *p, size_t len, uint8_t *type,
    uint8_t *call);
/*
 * Decode a datagram (untrusted) strictly by shape: the scalars into m
 * (texts in its arena), an 'R' into row (map->size bytes, cleared first;
 * an SQC_TEXTP member points into m's arena). 0 or BERR_FORMAT.
 */
int store_call_decode(const uint8_t *p, size_t len, const char *shape,
    const struct sq_map *map, struct store_call_msg *m, void *row);
/* DONE's wire shape for call: "IT" and its out-spec's, into buf. */
const char *store_call_done_shape(const struct store_call *c, char *buf,
    size_t len);

/* The remote backend: every operation a CALL to the actor of dir. Its
 * open fails (BERR_NOTFOUND, BERR_DENIED, ...) when no actor answers or
 * it refuses this process: state_open() then opens the store itself. */
extern const struct store_ops store_remote_ops;

#endif
