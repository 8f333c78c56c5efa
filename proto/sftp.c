/*
 * sftp.c - the SFTP v3 codec: packets reassembled from a stream, taken
 * apart field by field, and built for the bastion's own answers (see
 * sftp.h for the contract). The tracker of files is sftp_track.c.
 *
 * Every field is read through buf.h, which never reads past the packet:
 * a short packet is BERR_TRUNC, a string over its cap BERR_LIMIT,
 * anything left over after the last field BERR_FORMAT. The reasons are
 * sentences the relay shows the engineer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "sftp.h"

/* A string (SSH wire) of at most max bytes, pointing into r. */
static int
get_str(struct buf *r, const uint8_t **s, size_t *len, size_t max)
{
	return (buf_get_string_direct(r, s, len, max));
}

/* ATTRS (filexfer-02 5): flags, then the fields the flags name. */
#define ATTR_SIZE	0x00000001u
#define ATTR_UIDGID	0x00000002u
#define ATTR_PERM	0x00000004u
#define ATTR_ACMODTIME	0x00000008u
#define ATTR_EXTENDED	0x80000000u
#define ATTR_EXT_MAX	64

static int
get_attrs(struct buf *r)
{
	uint32_t flags, n, i, u;
	uint64_t sz;
	const uint8_t *s;
	size_t l;
	int e;

	if ((e = buf_get_u32(r, &flags)) != 0)
		return (e);
	if ((flags & ~(ATTR_SIZE | ATTR_UIDGID | ATTR_PERM | ATTR_ACMODTIME |
	    ATTR_EXTENDED)) != 0)
		return (BERR_FORMAT);
	if ((flags & ATTR_SIZE) && (e = buf_get_u64(r, &sz)) != 0)
		return (e);
	if ((flags & ATTR_UIDGID) && ((e = buf_get_u32(r, &u)) != 0 ||
	    (e = buf_get_u32(r, &u)) != 0))
		return (e);
	if ((flags & ATTR_PERM) && (e = buf_get_u32(r, &u)) != 0)
		return (e);
	if ((flags & ATTR_ACMODTIME) && ((e = buf_get_u32(r, &u)) != 0 ||
	    (e = buf_get_u32(r, &u)) != 0))
		return (e);
	if (flags & ATTR_EXTENDED) {
		if ((e = buf_get_u32(r, &n)) != 0)
			return (e);
		if (n > ATTR_EXT_MAX)
			return (BERR_LIMIT);
		for (i = 0; i < n; i++)
			if ((e = get_str(r, &s, &l, SFTP_MAX_PACKET)) != 0 ||
			    (e = get_str(r, &s, &l, SFTP_MAX_PACKET)) != 0)
				return (e);
	}
	return (0);
}

static const struct {
	int type;
	const char *name;
} sftp_names[] = {
	{ SSH_FXP_INIT, "INIT" }, { SSH_FXP_VERSION, "VERSION" },
	{ SSH_FXP_OPEN, "OPEN" }, { SSH_FXP_CLOSE, "CLOSE" },
	{ SSH_FXP_READ, "READ" }, { SSH_FXP_WRITE, "WRITE" },
	{ SSH_FXP_LSTAT, "LSTAT" }, { SSH_FXP_FSTAT, "FSTAT" },
	{ SSH_FXP_SETSTAT, "SETSTAT" }, { SSH_FXP_FSETSTAT, "FSETSTAT" },
	{ SSH_FXP_OPENDIR, "OPENDIR" }, { SSH_FXP_READDIR, "READDIR" },
	{ SSH_FXP_REMOVE, "REMOVE" }, { SSH_FXP_MKDIR, "MKDIR" },
	{ SSH_FXP_RMDIR, "RMDIR" }, { SSH_FXP_REALPATH, "REALPATH" },
	{ SSH_FXP_STAT, "STAT" }, { SSH_FXP_RENAME, "RENAME" },
	{ SSH_FXP_READLINK, "READLINK" }, { SSH_FXP_SYMLINK, "SYMLINK" },
	{ SSH_FXP_STATUS, "STATUS" }, { SSH_FXP_HANDLE, "HANDLE" },
	{ SSH_FXP_DATA, "DATA" }, { SSH_FXP_NAME, "NAME" },
	{ SSH_FXP_ATTRS, "ATTRS" }, { SSH_FXP_EXTENDED, "EXTENDED" },
	{ SSH_FXP_EXTENDED_REPLY, "EXTENDED_REPLY" },
};

const char *
sftp_type_name(int type)
{
	size_t i;

	for (i = 0; i < sizeof(sftp_names) / sizeof(sftp_names[0]); i++)
		if (sftp_names[i].type == type)
			return (sftp_names[i].name);
	return ("?");
}

static const struct {
	const char *name;
	enum sftp_ext id;
} sftp_exts[] = {
	{ "posix-rename@openssh.com", SFTP_EXT_POSIX_RENAME },
	{ "statvfs@openssh.com", SFTP_EXT_STATVFS },
	{ "fstatvfs@openssh.com", SFTP_EXT_FSTATVFS },
	{ "hardlink@openssh.com", SFTP_EXT_HARDLINK },
	{ "fsync@openssh.com", SFTP_EXT_FSYNC },
	{ "lsetstat@openssh.com", SFTP_EXT_LSETSTAT },
	{ "limits@openssh.com", SFTP_EXT_LIMITS },
	{ "expand-path@openssh.com", SFTP_EXT_EXPAND_PATH },
	{ "copy-data", SFTP_EXT_COPY_DATA },
	{ "home-directory", SFTP_EXT_HOME_DIR },
	{ "users-groups-by-id@openssh.com", SFTP_EXT_USERS_GROUPS },
};

/* The fields of a known EXTENDED request. */
static int
sftp_parse_ext(struct buf *r, struct sftp_msg *m)
{
	const uint8_t *s;
	size_t i, l;
	int e = 0;

	m->ext_id = SFTP_EXT_UNKNOWN;
	for (i = 0; i < sizeof(sftp_exts) / sizeof(sftp_exts[0]); i++)
		if (strlen(sftp_exts[i].name) == m->ext_len &&
		    memcmp(sftp_exts[i].name, m->ext, m->ext_len) == 0)
			m->ext_id = sftp_exts[i].id;
	switch (m->ext_id) {
	case SFTP_EXT_POSIX_RENAME:
	case SFTP_EXT_HARDLINK:
		if ((e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH)) ==
		    0)
			e = get_str(r, &m->path2, &m->path2_len, SFTP_MAX_PATH);
		break;
	case SFTP_EXT_STATVFS:
	case SFTP_EXT_EXPAND_PATH:
	case SFTP_EXT_HOME_DIR:
		e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH);
		break;
	case SFTP_EXT_LSETSTAT:
		if ((e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH)) ==
		    0)
			e = get_attrs(r);
		break;
	case SFTP_EXT_FSTATVFS:
	case SFTP_EXT_FSYNC:
		e = get_str(r, &m->handle, &m->handle_len, SFTP_MAX_HANDLE);
		break;
	case SFTP_EXT_COPY_DATA:
		if ((e = get_str(r, &m->handle, &m->handle_len,
		    SFTP_MAX_HANDLE)) == 0 && (e = buf_get_u64(r, &m->offset)) ==
		    0 && (e = buf_get_u64(r, &m->length)) == 0 && (e = get_str(r,
		    &m->handle2, &m->handle2_len, SFTP_MAX_HANDLE)) == 0)
			e = buf_get_u64(r, &m->offset2);
		break;
	case SFTP_EXT_USERS_GROUPS:
		if ((e = get_str(r, &s, &l, SFTP_MAX_PACKET)) == 0)
			e = get_str(r, &s, &l, SFTP_MAX_PACKET);
		break;
	case SFTP_EXT_LIMITS:
		break;
	default:
		(void)buf_skip(r, buf_len(r));	/* unknown: refused */
		break;
	}
	return (e);
}

/* A request's fields after its id. */
static int
sftp_parse_request(struct buf *r, struct sftp_msg *m)
{
	int e = 0;

	switch (m->type) {
	case SSH_FXP_OPEN:
		if ((e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH)) ==
		    0 && (e = buf_get_u32(r, &m->pflags)) == 0)
			e = get_attrs(r);
		break;
	case SSH_FXP_CLOSE:
	case SSH_FXP_FSTAT:
	case SSH_FXP_READDIR:
		e = get_str(r, &m->handle, &m->handle_len, SFTP_MAX_HANDLE);
		break;
	case SSH_FXP_READ: {
		uint32_t l = 0;

		if ((e = get_str(r, &m->handle, &m->handle_len,
		    SFTP_MAX_HANDLE)) == 0 && (e = buf_get_u64(r, &m->offset)) ==
		    0 && (e = buf_get_u32(r, &l)) == 0 && l > SFTP_MAX_PACKET)
			e = BERR_LIMIT;
		m->length = l;
		break;
	}
	case SSH_FXP_WRITE:
		if ((e = get_str(r, &m->handle, &m->handle_len,
		    SFTP_MAX_HANDLE)) == 0 && (e = buf_get_u64(r, &m->offset)) == 0)
			e = get_str(r, &m->data, &m->data_len, SFTP_MAX_PACKET);
		break;
	case SSH_FXP_LSTAT:
	case SSH_FXP_STAT:
	case SSH_FXP_OPENDIR:
	case SSH_FXP_REMOVE:
	case SSH_FXP_RMDIR:
	case SSH_FXP_REALPATH:
	case SSH_FXP_READLINK:
		e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH);
		break;
	case SSH_FXP_SETSTAT:
	case SSH_FXP_MKDIR:
		if ((e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH)) ==
		    0)
			e = get_attrs(r);
		break;
	case SSH_FXP_FSETSTAT:
		if ((e = get_str(r, &m->handle, &m->handle_len,
		    SFTP_MAX_HANDLE)) == 0)
			e = get_attrs(r);
		break;
	case SSH_FXP_RENAME:
	case SSH_FXP_SYMLINK:
		if ((e = get_str(r, &m->path, &m->path_len, SFTP_MAX_PATH)) ==
		    0)
			e = get_str(r, &m->path2, &m->path2_len, SFTP_MAX_PATH);
		break;
	case SSH_FXP_EXTENDED:
		if ((e = get_str(r, &m->ext, &m->ext_len, SFTP_MAX_EXTNAME)) ==
		    0)
			e = sftp_parse_ext(r, m);
		break;
	default:
		e = BERR_FORMAT;
	}
	return (e);
}

/* A reply's fields after its id. */
static int
sftp_parse_reply(struct buf *r, struct sftp_msg *m)
{
	const uint8_t *s;
	size_t l;
	uint32_t i;
	int e = 0;

	switch (m->type) {
	case SSH_FXP_STATUS:
		if ((e = buf_get_u32(r, &m->status)) != 0 || buf_len(r) == 0)
			break;	/* message and language tag are optional */
		if ((e = get_str(r, &m->msg, &m->msg_len, SFTP_MAX_PACKET)) ==
		    0 && buf_len(r) > 0)
			e = get_str(r, &s, &l, 256);
		break;
	case SSH_FXP_HANDLE:
		if ((e = get_str(r, &m->handle, &m->handle_len,
		    SFTP_MAX_HANDLE)) == 0 && m->handle_len == 0)
			e = BERR_FORMAT;
		break;
	case SSH_FXP_DATA:
		e = get_str(r, &m->data, &m->data_len, SFTP_MAX_PACKET);
		break;
	case SSH_FXP_NAME:
		if ((e = buf_get_u32(r, &m->count)) != 0)
			break;
		if (m->count > SFTP_MAX_NAMES || m->count > buf_len(r) / 12) {
			e = BERR_LIMIT;
			break;
		}
		for (i = 0; i < m->count && e == 0; i++)
			if ((e = get_str(r, &s, &l, SFTP_MAX_PATH)) == 0 &&
			    (e = get_str(r, &s, &l, SFTP_MAX_PACKET)) == 0)
				e = get_attrs(r);
		break;
	case SSH_FXP_ATTRS:
		e = get_attrs(r);
		break;
	case SSH_FXP_EXTENDED_REPLY:
		m->data = buf_ptr(r);	/* its shape depends on the request */
		m->data_len = buf_len(r);
		(void)buf_skip(r, m->data_len);
		break;
	default:
		e = BERR_FORMAT;
	}
	return (e);
}

int
sftp_parse(int from_server, struct buf *r, struct sftp_msg *m, char *why,
    size_t whylen)
{
	const uint8_t *s;
	size_t l;
	int e;

	memset(m, 0, sizeof(*m));
	if (buf_len(r) > SFTP_MAX_PACKET)
		return (berr_why(why, whylen, BERR_LIMIT, "a packet of %zu "
		    "bytes, more than %d", buf_len(r), SFTP_MAX_PACKET));
	if ((e = buf_get_u8(r, &m->type)) != 0)
		return (berr_why(why, whylen, e, "an empty packet"));
	if (m->type == (from_server ? SSH_FXP_VERSION : SSH_FXP_INIT)) {
		if ((e = buf_get_u32(r, &m->version)) != 0)
			return (berr_why(why, whylen, e, "%s without a "
			    "version", sftp_type_name(m->type)));
		/* extension pairs: name, data */
		while (buf_len(r) > 0 && e == 0)
			if ((e = get_str(r, &s, &l, SFTP_MAX_EXTNAME)) == 0)
				e = get_str(r, &s, &l, SFTP_MAX_PACKET);
		if (e != 0)
			return (berr_why(why, whylen, e, "%s with a malformed "
			    "extension", sftp_type_name(m->type)));
		return (0);
	}
	if ((from_server && m->type < SSH_FXP_STATUS) ||
	    (!from_server && (m->type >= SSH_FXP_STATUS &&
	    m->type != SSH_FXP_EXTENDED)) || m->type == SSH_FXP_INIT ||
	    m->type == SSH_FXP_VERSION ||
	    strcmp(sftp_type_name(m->type), "?") == 0)
		return (berr_why(why, whylen, BERR_FORMAT, "packet type %u "
		    "(%s) is not one the %s sends", m->type,
		    sftp_type_name(m->type), from_server ? "server" :
		    "client"));
	if (from_server && m->type == SSH_FXP_EXTENDED)
		return (berr_why(why, whylen, BERR_FORMAT, "an EXTENDED "
		    "request from the server"));
	if ((e = buf_get_u32(r, &m->id)) != 0)
		return (berr_why(why, whylen, e, "%s without a request id",
		    sftp_type_name(m->type)));
	e = from_server ? sftp_parse_reply(r, m) : sftp_parse_request(r, m);
	if (e == 0 && buf_len(r) != 0)
		e = BERR_FORMAT;
	if (e != 0)
		return (berr_why(why, whylen, e, "%s (request %u): %s",
		    sftp_type_name(m->type), m->id, e == BERR_TRUNC ?
		    "cut short" : e == BERR_LIMIT ? "a field over its limit" :
		    "malformed fields or bytes left over"));
	return (0);
}

/* ---- reassembly -------------------------------------------------------- */

int
sftp_reasm_put(struct sftp_reasm *r, const uint8_t *p, size_t n)
{
	if (n > SFTP_REASM_CHUNK)
		return (BERR_INVAL);
	if (r->b == NULL && (r->b = buf_new(4 + SFTP_MAX_PACKET +
	    SFTP_REASM_CHUNK)) == NULL)
		return (BERR_NOMEM);
	return (buf_put(r->b, p, n));
}

int
sftp_reasm_next(struct sftp_reasm *r, int from_server, const uint8_t **pkt,
    size_t *len, struct sftp_msg *m, char *why, size_t whylen)
{
	const uint8_t *start, *body;
	size_t blen;
	int e;

	*pkt = NULL;
	*len = 0;
	memset(m, 0, sizeof(*m));
	if (r->b == NULL)
		return (0);
	start = buf_ptr(r->b);
	e = buf_get_string_direct(r->b, &body, &blen, SFTP_MAX_PACKET);
	if (e == BERR_TRUNC)
		return (0);
	if (e != 0)
		return (berr_why(why, whylen, e, "a packet longer than %d "
		    "bytes", SFTP_MAX_PACKET));
	*pkt = start;	/* valid until the next put: reads move nothing */
	*len = 4 + blen;
	if (blen == 0)
		return (berr_why(why, whylen, BERR_FORMAT, "a packet of "
		    "length 0"));
	if (r->pb == NULL && (r->pb = buf_new(SFTP_MAX_PACKET)) == NULL)
		return (berr_why(why, whylen, BERR_NOMEM, "out of memory"));
	buf_reset(r->pb);
	if ((e = buf_put(r->pb, body, blen)) != 0)
		return (berr_why(why, whylen, e, "out of memory"));
	if ((e = sftp_parse(from_server, r->pb, m, why, whylen)) != 0)
		return (e);
	return (1);
}

size_t
sftp_reasm_pending(const struct sftp_reasm *r)
{
	return (r->b != NULL ? buf_len(r->b) : 0);
}

void
sftp_reasm_clear(struct sftp_reasm *r)
{
	buf_free(r->b);
	buf_free(r->pb);
	memset(r, 0, sizeof(*r));
}

/* ---- building ----------------------------------------------------------- */

int
sftp_build_status(struct buf *out, uint32_t id, uint32_t code,
    const char *msg)
{
	size_t ml = strlen(msg);
	int e;

	if (ml > SFTP_MAX_PATH)
		return (BERR_LIMIT);
	if ((e = buf_put_u32(out, (uint32_t)(1 + 4 + 4 + 4 + ml + 4 + 2))) ==
	    0 && (e = buf_put_u8(out, SSH_FXP_STATUS)) == 0 &&
	    (e = buf_put_u32(out, id)) == 0 && (e = buf_put_u32(out, code)) ==
	    0 && (e = buf_put_string(out, msg, ml)) == 0)
		e = buf_put_cstring(out, "en");
	return (e);
}

int
sftp_build_remove(struct buf *out, uint32_t id, const char *path)
{
	size_t pl = strlen(path);
	int e;

	if (pl > SFTP_MAX_PATH)
		return (BERR_LIMIT);
	if ((e = buf_put_u32(out, (uint32_t)(1 + 4 + 4 + pl))) == 0 &&
	    (e = buf_put_u8(out, SSH_FXP_REMOVE)) == 0 &&
	    (e = buf_put_u32(out, id)) == 0)
		e = buf_put_string(out, path, pl);
	return (e);
}
