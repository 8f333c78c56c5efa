/*
 * sftp.h - the SFTP version 3 wire format (draft-ietf-secsh-filexfer-02,
 * with the OpenSSH extensions its clients use), as the bastion's airlock
 * reads it: a bounded codec and a tracker of the files a session moves.
 *
 * Three parts, all pure (no I/O, no clock), so the child's relay
 * (bastion/relay_sftp.c), bastion-replay --extract-files and the fuzzer
 * run the very same code on the very same bytes:
 *
 *   sftp_reasm    length-prefixed packets reassembled from a byte stream,
 *                 at most SFTP_MAX_PACKET bytes each, and parsed;
 *   sftp_parse    one packet taken apart through buf.h, every field
 *                 checked against its type (no trailing bytes, every
 *                 string capped);
 *   sftp_track    the handles a session opened (OPEN with its pflags ->
 *                 HANDLE -> READ/WRITE at offsets -> CLOSE), the requests
 *                 under way, and per file the bytes moved in each
 *                 direction with their SHA-256 in transfer order; a
 *                 finished file is handed to a callback as one record.
 *
 * docs/FILES.md describes the records and what "sequential" means.
 */
#ifndef BASTION_SFTP_H
#define BASTION_SFTP_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define SFTP_MAX_PACKET		(256 * 1024)	/* body, after the length */
#define SFTP_MAX_PATH		4096
#define SFTP_MAX_HANDLE		256
#define SFTP_MAX_EXTNAME	64
#define SFTP_MAX_FILES		256	/* open handles tracked at once */
#define SFTP_MAX_PENDING	1024	/* requests under way at once */
#define SFTP_MAX_NAMES		100000	/* entries in one NAME reply */

enum sftp_type {
	SSH_FXP_INIT = 1, SSH_FXP_VERSION = 2, SSH_FXP_OPEN = 3,
	SSH_FXP_CLOSE = 4, SSH_FXP_READ = 5, SSH_FXP_WRITE = 6,
	SSH_FXP_LSTAT = 7, SSH_FXP_FSTAT = 8, SSH_FXP_SETSTAT = 9,
	SSH_FXP_FSETSTAT = 10, SSH_FXP_OPENDIR = 11, SSH_FXP_READDIR = 12,
	SSH_FXP_REMOVE = 13, SSH_FXP_MKDIR = 14, SSH_FXP_RMDIR = 15,
	SSH_FXP_REALPATH = 16, SSH_FXP_STAT = 17, SSH_FXP_RENAME = 18,
	SSH_FXP_READLINK = 19, SSH_FXP_SYMLINK = 20,
	SSH_FXP_STATUS = 101, SSH_FXP_HANDLE = 102, SSH_FXP_DATA = 103,
	SSH_FXP_NAME = 104, SSH_FXP_ATTRS = 105,
	SSH_FXP_EXTENDED = 200, SSH_FXP_EXTENDED_REPLY = 201,
};

/* OPEN pflags */
#define SSH_FXF_READ	0x01
#define SSH_FXF_WRITE	0x02
#define SSH_FXF_APPEND	0x04
#define SSH_FXF_CREAT	0x08
#define SSH_FXF_TRUNC	0x10
#define SSH_FXF_EXCL	0x20

enum sftp_status {
	SSH_FX_OK = 0, SSH_FX_EOF = 1, SSH_FX_NO_SUCH_FILE = 2,
	SSH_FX_PERMISSION_DENIED = 3, SSH_FX_FAILURE = 4,
	SSH_FX_BAD_MESSAGE = 5, SSH_FX_NO_CONNECTION = 6,
	SSH_FX_CONNECTION_LOST = 7, SSH_FX_OP_UNSUPPORTED = 8,
};

/* The extended requests the codec knows (SSH_FXP_EXTENDED). */
enum sftp_ext {
	SFTP_EXT_NONE = 0,	/* not an EXTENDED request */
	SFTP_EXT_UNKNOWN,	/* a name the codec does not know */
	SFTP_EXT_POSIX_RENAME,	/* posix-rename@openssh.com: old, new */
	SFTP_EXT_STATVFS,	/* statvfs@openssh.com: path */
	SFTP_EXT_FSTATVFS,	/* fstatvfs@openssh.com: handle */
	SFTP_EXT_HARDLINK,	/* hardlink@openssh.com: old, new */
	SFTP_EXT_FSYNC,		/* fsync@openssh.com: handle */
	SFTP_EXT_LSETSTAT,	/* lsetstat@openssh.com: path, attrs */
	SFTP_EXT_LIMITS,	/* limits@openssh.com: nothing */
	SFTP_EXT_EXPAND_PATH,	/* expand-path@openssh.com: path */
	SFTP_EXT_COPY_DATA,	/* copy-data: handle, off, len, handle, off */
	SFTP_EXT_HOME_DIR,	/* home-directory: user name */
	SFTP_EXT_USERS_GROUPS,	/* users-groups-by-id@openssh.com */
};

/* One packet taken apart. Pointers point into the parsed bytes; which
 * fields are set depends on the type (the rest are zero). */
struct sftp_msg {
	uint8_t type;
	uint32_t id;		/* every type but INIT and VERSION */
	uint32_t version;	/* INIT, VERSION */
	const uint8_t *path;	/* OPEN, STAT, ..., RENAME's old, EXTENDED */
	size_t path_len;
	const uint8_t *path2;	/* RENAME's and SYMLINK's second path */
	size_t path2_len;
	uint32_t pflags;	/* OPEN */
	const uint8_t *handle;	/* CLOSE, READ, WRITE, FSTAT, FSETSTAT,
				   READDIR, fsync, copy-data's source; the
				   HANDLE reply */
	size_t handle_len;
	const uint8_t *handle2;	/* copy-data's destination */
	size_t handle2_len;
	uint64_t offset;	/* READ, WRITE; copy-data's read offset */
	uint64_t offset2;	/* copy-data's write offset */
	uint64_t length;	/* READ (at most SFTP_MAX_PACKET); copy-data */
	const uint8_t *data;	/* WRITE, DATA; EXTENDED_REPLY's body */
	size_t data_len;
	uint32_t status;	/* STATUS */
	const uint8_t *msg;	/* STATUS message (may be absent: NULL) */
	size_t msg_len;
	const uint8_t *ext;	/* EXTENDED name */
	size_t ext_len;
	enum sftp_ext ext_id;
	uint32_t count;		/* NAME */
};

/* The short name of a packet type ("OPEN", "STATUS"; "?" if unknown). */
const char *sftp_type_name(int type);

/*
 * Take one packet apart: b holds what follows the uint32 length (type
 * first) and is consumed; the pointers in *m point into b (valid until b
 * is written). from_server: 1 for the device's direction (VERSION and
 * replies), 0 for the client's (INIT and requests). 0 with *m filled, or
 * BERR_FORMAT / BERR_TRUNC / BERR_LIMIT with why (a sentence for the
 * engineer: "READ (request 5): a field over its limit"). An EXTENDED
 * request of an unknown name parses (ext_id SFTP_EXT_UNKNOWN, the rest of
 * it skipped): refusing it is the caller's.
 */
int sftp_parse(int from_server, struct buf *b, struct sftp_msg *m,
    char *why, size_t whylen);

/*
 * Packets of one direction of a stream. sftp_reasm_put() appends at most
 * SFTP_REASM_CHUNK bytes read from the channel (0, BERR_INVAL for more,
 * BERR_LIMIT when the caller did not take the packets out first,
 * BERR_NOMEM). sftp_reasm_next() takes the next whole packet out and
 * parses it: 1 with *pkt, *len the packet as it came (the uint32 length
 * included; valid until the next put) and *m; 0 when no packet is whole
 * yet; or a BERR_* with why: a declared length over SFTP_MAX_PACKET or
 * of 0, or a malformed packet (then *pkt, *len are that packet, so the
 * caller can record it). After an error the stream is lost.
 */
#define SFTP_REASM_CHUNK	65536
struct sftp_reasm {
	struct buf *b;		/* the stream, allocated on first use */
	struct buf *pb;		/* the packet being parsed */
};
int sftp_reasm_put(struct sftp_reasm *r, const uint8_t *p, size_t n);
int sftp_reasm_next(struct sftp_reasm *r, int from_server, const uint8_t **pkt,
    size_t *len, struct sftp_msg *m, char *why, size_t whylen);
/* Bytes held of a packet not yet whole. */
size_t sftp_reasm_pending(const struct sftp_reasm *r);
void sftp_reasm_clear(struct sftp_reasm *r);	/* frees; r reusable */

/* A STATUS reply, or a REMOVE request, of the bastion's own, appended to
 * out (its uint32 length included). 0 or BERR_LIMIT. */
int sftp_build_status(struct buf *out, uint32_t id, uint32_t code,
    const char *msg);
int sftp_build_remove(struct buf *out, uint32_t id, const char *path);

/* ---- the tracker ------------------------------------------------------ */

enum sftp_dir {
	SFTP_DIR_IN = 1,	/* written: to the device */
	SFTP_DIR_OUT = 2,	/* read: from the device */
};

/* One file finished (closed, refused, or left open at the end), one
 * direction. Strings are NUL-terminated and valid during the call. */
struct sftp_record {
	unsigned serial;	/* 1, 2, ...: the n-th OPEN of the session */
	enum sftp_dir dir;
	const char *path;	/* as the client named it (raw bytes, may
				   need escaping) */
	uint64_t bytes;		/* bytes moved in dir */
	uint64_t size;		/* highest offset + length seen */
	char sha256[65];	/* hex, over the bytes in transfer order */
	int sequential;		/* every chunk followed the one before: the
				   hash is the file's (from offset 0) */
	const char *outcome;	/* "ok", "failed", "refused", "incomplete" */
	const char *reason;	/* refused/failed: why; else "" */
};

/* Bytes of one file that went through, for extraction: at offset, in
 * direction dir, of file serial. */
typedef void (*sftp_data_fn)(void *arg, unsigned serial, const char *path,
    enum sftp_dir dir, uint64_t offset, const uint8_t *p, size_t n);
typedef void (*sftp_record_fn)(void *arg, const struct sftp_record *r);

struct sftp_track;

/* A new tracker; NULL when out of memory. Callbacks may be NULL. */
struct sftp_track *sftp_track_new(sftp_record_fn rec, sftp_data_fn data,
    void *arg);
/* Records every file still open as "incomplete", then frees. NULL: no-op. */
void sftp_track_free(struct sftp_track *t);

/*
 * A client request, parsed: forwarded to the device (refused NULL), or
 * answered by the bastion itself (refused: why, a sentence). A refused
 * WRITE or READ makes its file "refused" with that reason. 0, or
 * BERR_LIMIT when too many requests are under way (SFTP_MAX_PENDING) or
 * too many files are open (SFTP_MAX_FILES): the caller refuses it.
 */
int sftp_track_request(struct sftp_track *t, const struct sftp_msg *m,
    const char *refused);
/* A reply from the device, parsed: passed on to the client (refused
 * NULL), or kept from it (refused: why; a DATA reply's file becomes
 * "refused" and its bytes count nowhere). One to a request not under way
 * is ignored (the bastion answered it itself). 0. */
int sftp_track_reply(struct sftp_track *t, const struct sftp_msg *m,
    const char *refused);
/* The request under way with id: its type, and for READ, WRITE and
 * CLOSE its file (serial, path, refused) and offset. 0 or BERR_NOTFOUND
 * (then *out is zero, path ""). */
struct sftp_pending_info {
	uint8_t type;
	unsigned serial;
	uint64_t offset;
	const char *path;
	int refused;
};
int sftp_track_pending(const struct sftp_track *t, uint32_t id,
    struct sftp_pending_info *out);
/* Would a request with id m->id be a second one under way? 1 / 0. */
int sftp_track_id_busy(const struct sftp_track *t, uint32_t id);

/* What the policy checks look at: the file a handle names (NULL: none,
 * or a directory). */
struct sftp_file_info {
	unsigned serial;
	const char *path;
	uint32_t pflags;
	int refused;
	uint64_t bytes_in, bytes_out;
};
int sftp_track_file(const struct sftp_track *t, const uint8_t *handle,
    size_t hlen, struct sftp_file_info *out);
/* The file handle names is refused with why (the first reason stays):
 * its records will say result=refused. No file: nothing. */
void sftp_track_refuse(struct sftp_track *t, const uint8_t *handle,
    size_t hlen, const char *why);
/* Bytes moved so far in the session (both directions, file data only). */
uint64_t sftp_track_bytes(const struct sftp_track *t);

#endif
