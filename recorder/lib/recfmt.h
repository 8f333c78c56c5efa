/*
 * recfmt.h - the session recording format, version 1 (".brec").
 *
 * docs/RECORDING-FORMAT.md is the normative description; this header is its
 * C face. In short: a recording is the magic line REC_MAGIC followed by
 * frames. Every frame is
 *
 *	uint32 len          25 + payload length (the bytes that follow, up to
 *	                    and including the payload; the hash is not counted)
 *	uint8  type         enum rec_type
 *	uint64 seq          0, 1, 2, ... with no gaps
 *	uint64 time_us      microseconds since the session started (recorder's
 *	                    monotonic clock), never decreasing
 *	uint32 channel      the worker's channel number; REC_CHANNEL_RECORDER
 *	                    for frames the recorder itself writes
 *	string payload      uint32 length + bytes, at most REC_MAX_PAYLOAD
 *	byte[32] chain      h_seq = SHA256(h_seq-1 || the bytes from len to the
 *	                    end of the payload); h_-1 = recfmt_chain_seed()
 *
 * All integers are big endian (SSH wire format, base/buf.h). The "canonical
 * frame bytes" are the frame without its trailing chain hash. CHECKPOINT and
 * SEAL payloads end with an Ed25519 signature over a context string and the
 * canonical frame bytes up to that signature; their payload also repeats the
 * chain head they sign.
 *
 * This module is pure: encoding, decoding and checking in memory, no I/O.
 * recwriter.h writes recordings, recreader.h reads them, recverify.h checks
 * them.
 */
#ifndef BASTION_RECFMT_H
#define BASTION_RECFMT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define REC_MAGIC		"bastion-rec v1\n"
#define REC_MAGIC_V2		"bastion-rec v2\n"	/* encrypted: recenc.h */
#define REC_MAGIC_LEN		15
#define REC_SEED_CONTEXT	"bastion-rec-v1"
#define REC_CKPT_CONTEXT	"bastion-rec-v1 checkpoint"
#define REC_SEAL_CONTEXT	"bastion-rec-v1 seal"

#define REC_HASH_LEN		32
#define REC_SIG_LEN		64
#define REC_MAX_PAYLOAD		(1024 * 1024)
#define REC_FRAME_FIXED		25	/* type, seq, time, channel, plen */
/* The largest payload on disk: in format 2 a payload of REC_MAX_PAYLOAD
 * bytes sealed as an age payload (16-byte nonce, a 16-byte tag per 64 KiB
 * chunk; age.h). */
#define REC_MAX_STORED		(REC_MAX_PAYLOAD + 16 + \
				 16 * (REC_MAX_PAYLOAD / 65536))
#define REC_FRAME_MAX		(4 + REC_FRAME_FIXED + REC_MAX_STORED + \
				 REC_HASH_LEN)

/* A CHECKPOINT is written before any frame that would make the frames since
 * the last signature span REC_CKPT_INTERVAL_US or more, or carry more than
 * REC_CKPT_BYTES of payload, and by a timer one interval after the first
 * unsigned frame. So an unsigned tail is always shorter than this. */
#define REC_CKPT_INTERVAL_US	1000000ULL
#define REC_CKPT_BYTES		(1024 * 1024)

#define REC_CHANNEL_RECORDER	0xffffffffU

/* HEADER (and OPEN) fields: key/value strings. */
#define REC_HDR_MAX_FIELDS	32
#define REC_HDR_KEY_MAX		32
#define REC_HDR_VALUE_MAX	1024

#define REC_SESSION_ID_MAX	64

/* Caps of payload fields (bytes). Fields marked "clean" in
 * docs/RECORDING-FORMAT.md must be UTF-8 without control characters. */
#define REC_TERM_MAX		64	/* PTY_REQ term (clean) */
#define REC_DIM_MAX		10000	/* PTY_REQ/WINDOW_CHANGE cols, rows */
#define REC_SUBSYS_MAX		64	/* SUBSYSTEM name (clean) */
#define REC_SIGNAL_MAX		32	/* EXIT_SIGNAL name (clean) */
#define REC_SIGMSG_MAX		1024	/* EXIT_SIGNAL message */
#define REC_HOST_MAX		255	/* FWD_OPEN host, originator (clean) */
#define REC_KIND_MAX		32	/* EVENT kind ([a-z0-9._-]+) */
#define REC_TEXT_MAX		65536	/* EVENT text */
#define REC_REASON_MAX		256	/* SEAL reason (clean) */

enum rec_type {
	REC_HEADER = 1,		/* session facts (key/value) */
	REC_PTY_REQ = 2,	/* string term, uint32 cols, uint32 rows */
	REC_WINDOW_CHANGE = 3,	/* uint32 cols, uint32 rows */
	REC_EXEC = 4,		/* string command */
	REC_SHELL = 5,		/* empty */
	REC_SUBSYSTEM = 6,	/* string name */
	REC_OUTPUT = 7,		/* raw bytes, device -> engineer (stdout) */
	REC_STDERR = 8,		/* raw bytes, device -> engineer (stderr) */
	REC_INPUT = 9,		/* raw bytes, engineer -> device */
	REC_EOF = 10,		/* uint8 direction */
	REC_EXIT_STATUS = 11,	/* uint32 status */
	REC_EXIT_SIGNAL = 12,	/* string signal, uint8 core, string message */
	REC_FWD_OPEN = 13,	/* string host, uint32 port, string originator,
				   uint32 originator port */
	REC_FWD_DATA = 14,	/* uint8 direction, raw bytes */
	REC_FWD_CLOSE = 15,	/* empty */
	REC_EVENT = 16,		/* string kind, string text */
	REC_CHECKPOINT = 17,	/* byte[32] head, byte[64] signature */
	REC_SEAL = 18,		/* see struct rec_payload */
};
#define REC_TYPE_MIN	REC_HEADER
#define REC_TYPE_MAX	REC_SEAL

/* Direction of EOF and FWD_DATA. */
enum rec_dir {
	REC_DIR_FROM_DEVICE = 0,	/* device -> engineer */
	REC_DIR_TO_DEVICE = 1,		/* engineer -> device */
};

/* SEAL status. */
enum rec_end {
	REC_END_NORMAL = 0,	/* the worker sent CLOSE */
	REC_END_ABNORMAL = 1,	/* worker vanished, recorder stopped, error */
};

/* One decoded frame. payload points into storage owned by whoever decoded
 * it (a reader's buffer, a message) and lives as long as that storage. */
struct rec_frame {
	uint8_t type;
	uint64_t seq;
	uint64_t time_us;
	uint32_t channel;
	const uint8_t *payload;
	size_t len;
};

/* A frame's payload taken apart (recfmt_payload_decode). Pointers point into
 * the payload. Which fields are set depends on the type (see enum rec_type);
 * the rest are zero. Strings are not NUL-terminated and may contain any byte
 * unless noted: print them through text_clean_buf() (text.h; the tools use
 * TEXT_ESCAPE, so an auditor sees which bytes were there). */
struct rec_payload {
	const uint8_t *str;	/* term, command, subsystem, host, signal,
				   event kind, seal reason */
	size_t str_len;
	const uint8_t *str2;	/* originator, signal message, event text */
	size_t str2_len;
	const uint8_t *data;	/* OUTPUT/STDERR/INPUT/FWD_DATA bytes */
	size_t data_len;
	uint32_t cols, rows;	/* PTY_REQ, WINDOW_CHANGE */
	uint32_t port, orig_port; /* FWD_OPEN */
	uint32_t status;	/* EXIT_STATUS; SEAL: enum rec_end */
	uint8_t dir;		/* EOF, FWD_DATA: enum rec_dir */
	uint8_t core;		/* EXIT_SIGNAL */
	uint64_t frames;	/* SEAL: frames before the seal (= its seq) */
	uint64_t out_bytes;	/* SEAL: OUTPUT + STDERR payload bytes */
	uint64_t in_bytes;	/* SEAL: INPUT payload bytes */
	uint64_t fwd_bytes;	/* SEAL: FWD_DATA data bytes */
	uint64_t offset;	/* SEAL: file offset where the seal starts */
	const uint8_t *head;	/* CHECKPOINT, SEAL: chain head signed */
	const uint8_t *sig;	/* CHECKPOINT, SEAL: Ed25519 signature */
};

/* Key/value session facts: the HEADER payload and the OPEN message. */
struct rec_hdr {
	size_t n;
	char *key[REC_HDR_MAX_FIELDS];
	char *value[REC_HDR_MAX_FIELDS];
};

/* "OUTPUT", "SEAL", ...; "UNKNOWN" for anything else. Never NULL. */
const char *recfmt_type_name(int type);
/* Type number for a name as printed by recfmt_type_name(), or -1. */
int recfmt_type_from_name(const char *name);

/*
 * Append the canonical bytes of f (len field through payload, no chain hash)
 * to b. BERR_LIMIT if the payload exceeds REC_MAX_PAYLOAD or b is full,
 * BERR_INVAL for an unknown type.
 */
int recfmt_frame_encode(struct buf *b, const struct rec_frame *f);

/*
 * Parse the canonical bytes of one frame from the front of b, consuming them.
 * f->payload points into b (valid until b is written). BERR_TRUNC if b holds
 * less than a whole frame, BERR_LIMIT if the declared length is over the cap,
 * BERR_FORMAT if the two lengths disagree or the type is unknown. On error
 * nothing useful is in *f; how much of b was consumed is unspecified.
 */
int recfmt_frame_decode(struct buf *b, struct rec_frame *f);
/* The same with another payload cap (REC_MAX_STORED for format 2). */
int recfmt_frame_decode_max(struct buf *b, struct rec_frame *f,
    size_t max_payload);

/* 1 if frames of this type carry their payload encrypted in format 2:
 * every type but HEADER, CHECKPOINT and SEAL (docs/RECORDING-FORMAT.md,
 * section 13). */
int recfmt_type_encrypted(int type);

/* h_-1 = SHA256(REC_SEED_CONTEXT || 0x00 || session id). 0 or
 * BERR_CRYPTO (only if OpenSSL cannot allocate). */
int recfmt_chain_seed(const char *session_id, uint8_t out[REC_HASH_LEN]);
/* out = SHA256(prev || frame[0..len-1]); out may alias prev. 0 or
 * BERR_CRYPTO. */
int recfmt_chain_step(const uint8_t prev[REC_HASH_LEN], const void *frame,
    size_t len, uint8_t out[REC_HASH_LEN]);

/*
 * Check a payload against the schema of its type and take it apart into *out
 * (which may be NULL to only check). 0, BERR_FORMAT (wrong shape, trailing
 * bytes, bad direction, control characters where none are allowed),
 * BERR_TRUNC (too short) or BERR_LIMIT (a field over its cap).
 */
int recfmt_payload_decode(int type, const uint8_t *p, size_t len,
    struct rec_payload *out);

/* The bytes an Ed25519 signature of a CHECKPOINT or SEAL covers: the context
 * string, a 0x00, then the canonical frame bytes without the last
 * REC_SIG_LEN bytes (the signature itself). Appended to b. */
int recfmt_signed_message(struct buf *b, int type, const uint8_t *canon,
    size_t canon_len);

/* Header fields. recfmt_hdr_add copies key and value; BERR_LIMIT past
 * REC_HDR_MAX_FIELDS or the size caps, BERR_FORMAT for a key that is not
 * [a-z0-9_]+, a value with control characters, or a duplicate key. */
int recfmt_hdr_add(struct rec_hdr *h, const char *key, const char *value);
/* Value for key, or NULL. */
const char *recfmt_hdr_get(const struct rec_hdr *h, const char *key);
/* Free the copies; h is empty afterwards. Safe on an empty/zeroed hdr. */
void recfmt_hdr_clear(struct rec_hdr *h);
/* uint32 n, then n x (string key, string value). */
int recfmt_hdr_encode(const struct rec_hdr *h, struct buf *b);
/* Parse an encoding from p (untrusted); h must be empty. On error h is left
 * empty. Rules as for recfmt_hdr_add; no trailing bytes. */
int recfmt_hdr_decode(const uint8_t *p, size_t len, struct rec_hdr *h);

/* Session ids are 1..REC_SESSION_ID_MAX of [A-Za-z0-9._-], not starting with
 * '.', so they are safe as file names. 1 if valid. */
int recfmt_session_id_valid(const char *id);

/* "2025-01-21T10:15:02.123456Z" for µs since the epoch (UTC). */
void recfmt_fmt_time(uint64_t unix_us, char *out, size_t outlen);
/* Parse the above form back; 0 or BERR_FORMAT. */
int recfmt_parse_time(const char *s, uint64_t *unix_us);
/* "01:02:03.456" (hours may exceed 24) for a duration. */
void recfmt_fmt_duration(uint64_t us, char *out, size_t outlen);

#endif
