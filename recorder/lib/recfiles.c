/*
 * recfiles.c - bastion-replay --extract-files (see recfiles.h): the SFTP
 * packets of a recording run through the child's own tracker, each file's
 * bytes written at their offsets, and every hash compared with the
 * recording's "file.transfer" records.
 *
 * Legacy scp (scp -O) the child parsed (an EVENT "scp.parsed" after the
 * EXEC) runs through the same rcp parser instead (proto/scp.h), each
 * "scp.refused" taken where the child took it.
 *
 * The recording is untrusted: packets go through the bounded codec
 * (a malformed one ends extraction of that direction, reported), file
 * names are made from a cleaned base name and the file's serial number and
 * created new inside DIR only (openat, O_EXCL, O_NOFOLLOW), offsets are
 * capped at RECFILES_MAX_OFFSET.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "auditlog.h"
#include "err.h"
#include "recfiles.h"
#include "scp.h"
#include "sftp.h"
#include "text.h"

#define RECFILES_MAX		4096		/* files (both directions) */
#define RECFILES_MAX_OFFSET	(1ULL << 40)	/* 1 TiB */
#define RECFILES_NAME		128

struct xent {
	unsigned serial;
	int dir;
	char *path;
	char name[RECFILES_NAME];
	int fd;
	int write_err;
	int have_track, have_event;
	char sha[65], ev_sha[65];
	uint64_t bytes, ev_bytes;
	int sequential;
	char outcome[16], ev_result[16];
};

struct recfiles {
	int dirfd;			/* -1: --text, nothing written */
	recfiles_line_fn line_fn;
	void *line_arg;
	struct rectext *text;		/* recfiles_text's */
	const struct rec_frame *frame;	/* the frame being read */
	int sftp;			/* the session is an sftp subsystem */
	struct sftp_reasm ra[2];	/* 0: from the engineer, 1: device */
	unsigned refuse[2];		/* sftp.refused markers pending */
	int broken[2];
	char broken_why[2][200];
	struct sftp_track *track;
	struct scp_cmd scp_cmd;		/* the EXEC, if it is scp -t|-f */
	int scp_cmd_ok;
	struct scp *scp;		/* after "scp.parsed": scp -O read as
					   the child read it (proto/scp.h) */
	struct xent *e[RECFILES_MAX];
	size_t n;
	int full;
};

/* Copy s into d (dl bytes), cut and terminated. */
static void
xset(char *d, size_t dl, const char *s)
{
	size_t n = strlen(s);

	if (n >= dl)
		n = dl - 1;
	memcpy(d, s, n);
	d[n] = '\0';
}

static struct xent *
xent_get(struct recfiles *x, unsigned serial, int dir, const char *path)
{
	struct xent *e;
	size_t i;

	for (i = 0; i < x->n; i++)
		if (x->e[i]->serial == serial && x->e[i]->dir == dir)
			return (x->e[i]);
	if (x->n == RECFILES_MAX || (e = calloc(1, sizeof(*e))) == NULL) {
		x->full = 1;
		return (NULL);
	}
	e->serial = serial;
	e->dir = dir;
	e->fd = -1;
	if ((e->path = strdup(path != NULL ? path : "")) == NULL) {
		free(e);
		x->full = 1;
		return (NULL);
	}
	x->e[x->n++] = e;
	return (e);
}

/* "0001-in-remote.bin": serial, direction, a clean base name. */
static void
xent_name(struct xent *e)
{
	const char *b = strrchr(e->path, '/');
	char base[80];
	size_t i, o = 0;

	b = b != NULL ? b + 1 : e->path;
	for (i = 0; b[i] != '\0' && o < sizeof(base) - 1; i++) {
		char c = b[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && o > 0);

		base[o++] = ok ? c : '_';
	}
	base[o] = '\0';
	snprintf(e->name, sizeof(e->name), "%04u-%s-%s", e->serial,
	    e->dir == SFTP_DIR_IN ? "in" : "out", o > 0 ? base : "file");
}

static void
x_data(void *arg, unsigned serial, const char *path, enum sftp_dir dir,
    uint64_t off, const uint8_t *p, size_t n)
{
	struct recfiles *x = arg;
	struct xent *e = xent_get(x, serial, (int)dir, path);
	ssize_t w;

	if (e == NULL || e->write_err || x->dirfd < 0)
		return;
	if (e->fd < 0) {
		xent_name(e);
		e->fd = openat(x->dirfd, e->name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (e->fd < 0) {
			e->write_err = errno;
			return;
		}
	}
	if (off > RECFILES_MAX_OFFSET || n > RECFILES_MAX_OFFSET - off) {
		e->write_err = EFBIG;
		return;
	}
	while (n > 0) {
		w = pwrite(e->fd, p, n, (off_t)off);
		if (w <= 0) {
			e->write_err = w < 0 ? errno : EIO;
			return;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
}

static void
x_record(void *arg, const struct sftp_record *r)
{
	struct recfiles *x = arg;
	struct xent *e = xent_get(x, r->serial, (int)r->dir, r->path);

	if (e == NULL)
		return;
	e->have_track = 1;
	memcpy(e->sha, r->sha256, sizeof(e->sha));
	e->bytes = r->bytes;
	e->sequential = r->sequential;
	snprintf(e->outcome, sizeof(e->outcome), "%s", r->outcome);
}

int
recfiles_new(const char *dir, struct recfiles **out)
{
	struct recfiles *x;

	*out = NULL;
	if (dir != NULL && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return (BERR_SYS);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (BERR_NOMEM);
	x->dirfd = -1;
	if (dir != NULL && (x->dirfd = open(dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		free(x);
		return (BERR_SYS);
	}
	if ((x->track = sftp_track_new(x_record, x_data, x)) == NULL) {
		if (x->dirfd >= 0)
			close(x->dirfd);
		free(x);
		return (BERR_NOMEM);
	}
	*out = x;
	return (0);
}

/* The child's "file.transfer" record (EVENT text, logfmt). */
static void
x_event(struct recfiles *x, const uint8_t *p, size_t n)
{
	char line[8192], key[32], val[SFTP_MAX_PATH * 4 + 8];
	char sha[65] = "", res[16] = "", path[SFTP_MAX_PATH + 1] = "";
	const char *q, *end;
	unsigned long serial = 0;
	unsigned long long bytes = 0;
	int dir = 0;
	struct xent *e;

	if (n >= sizeof(line))
		return;
	memcpy(line, p, n);
	line[n] = '\0';
	q = line;
	end = line + n;
	while (auditlog_field_next(&q, end, key, sizeof(key), val,
	    sizeof(val)) == 0) {
		if (strcmp(key, "file") == 0)
			serial = strtoul(val, NULL, 10);
		else if (strcmp(key, "direction") == 0)
			dir = strcmp(val, "in") == 0 ? SFTP_DIR_IN :
			    strcmp(val, "out") == 0 ? SFTP_DIR_OUT : 0;
		else if (strcmp(key, "path") == 0)
			xset(path, sizeof(path), val);
		else if (strcmp(key, "bytes") == 0)
			bytes = strtoull(val, NULL, 10);
		else if (strcmp(key, "sha256") == 0)
			xset(sha, sizeof(sha), val);
		else if (strcmp(key, "result") == 0)
			xset(res, sizeof(res), val);
	}
	if (serial == 0 || serial > UINT32_MAX || dir == 0 ||
	    (e = xent_get(x, (unsigned)serial, dir, path)) == NULL)
		return;
	e->have_event = 1;
	memcpy(e->ev_sha, sha, sizeof(e->ev_sha));
	e->ev_bytes = bytes;
	snprintf(e->ev_result, sizeof(e->ev_result), "%s", res);
}

void
recfiles_on_packet(struct recfiles *x, recfiles_line_fn fn, void *arg)
{
	x->line_fn = fn;
	x->line_arg = arg;
}

int
recfiles_sftp(const struct recfiles *x)
{
	return (x->sftp);
}

int
recfiles_scp(const struct recfiles *x)
{
	return (x->scp != NULL);
}

/* A packet's or an scp item's line as an EVENT "sftp" / "scp". */
static void
x_text_line(void *arg, const struct rec_frame *f, const char *line)
{
	struct recfiles *x = arg;
	struct rec_payload pl;

	memset(&pl, 0, sizeof(pl));
	pl.str = (const uint8_t *)(x->scp != NULL ? "scp" : "sftp");
	pl.str_len = strlen((const char *)pl.str);
	pl.str2 = (const uint8_t *)line;
	pl.str2_len = strlen(line);
	rectext_event(x->text, &(struct rec_frame){ .type = REC_EVENT,
	    .time_us = f->time_us }, &pl);
}

void
recfiles_text(struct recfiles *x, struct rectext *tr)
{
	x->text = tr;
	recfiles_on_packet(x, x_text_line, x);
}

int
recfiles_takes(const struct recfiles *x, const struct rec_frame *f)
{
	return ((x->sftp || x->scp != NULL) && f->channel == 0 &&
	    (f->type == REC_INPUT || f->type == REC_OUTPUT));
}

/* One packet as a line for --text (or nothing). */
static void
x_describe(struct recfiles *x, int from_device, const struct sftp_msg *m,
    const char *refused)
{
	char line[SFTP_MAX_PATH * 8 + 200], a[SFTP_MAX_PATH * 4 + 8];
	char b[SFTP_MAX_PATH * 4 + 8];
	const char *name = sftp_type_name(m->type);

	if (x->line_fn == NULL || m->type == SSH_FXP_READ ||
	    m->type == SSH_FXP_WRITE || m->type == SSH_FXP_DATA ||
	    m->type == SSH_FXP_HANDLE || (m->type == SSH_FXP_STATUS &&
	    refused == NULL && (m->status == SSH_FX_OK ||
	    m->status == SSH_FX_EOF)))
		return;
	text_clean_buf(a, sizeof(a), m->type == SSH_FXP_EXTENDED ? m->ext :
	    m->path, m->type == SSH_FXP_EXTENDED ? m->ext_len : m->path_len,
	    TEXT_ESCAPE);
	text_clean_buf(b, sizeof(b), m->type == SSH_FXP_STATUS ? m->msg :
	    m->type == SSH_FXP_EXTENDED ? m->path : m->path2,
	    m->type == SSH_FXP_STATUS ? m->msg_len : m->type ==
	    SSH_FXP_EXTENDED ? m->path_len : m->path2_len, TEXT_ESCAPE);
	if (m->type == SSH_FXP_INIT || m->type == SSH_FXP_VERSION)
		snprintf(line, sizeof(line), "%s %s version %u", from_device ?
		    "<" : ">", name, m->version);
	else if (m->type == SSH_FXP_STATUS)
		snprintf(line, sizeof(line), "< STATUS #%u code %u %s%s",
		    m->id, m->status, b, refused != NULL ? " (kept from the "
		    "engineer)" : "");
	else if (m->type == SSH_FXP_OPEN)
		snprintf(line, sizeof(line), "> OPEN #%u %s%s%s%s%s%s%s", m->id,
		    a, m->pflags & SSH_FXF_READ ? " read" : "",
		    m->pflags & SSH_FXF_WRITE ? " write" : "",
		    m->pflags & SSH_FXF_APPEND ? " append" : "",
		    m->pflags & SSH_FXF_CREAT ? " create" : "",
		    m->pflags & SSH_FXF_TRUNC ? " truncate" : "",
		    refused != NULL ? " (refused by the bastion)" : "");
	else if (m->type == SSH_FXP_NAME)
		snprintf(line, sizeof(line), "< NAME #%u %u entries", m->id,
		    m->count);
	else
		snprintf(line, sizeof(line), "%s %s #%u%s%s%s%s%s", from_device ?
		    "<" : ">", name, m->id, a[0] != '\0' ? " " : "", a,
		    b[0] != '\0' ? " " : "", b, refused != NULL ?
		    " (refused by the bastion)" : "");
	x->line_fn(x->line_arg, x->frame, line);
}

/* Bytes of one direction through the reassembler and the tracker. */
static void
x_stream(struct recfiles *x, int from_device, const uint8_t *p, size_t n)
{
	struct sftp_msg m;
	const uint8_t *pkt;
	size_t len, chunk;
	char why[256];
	const char *refused;
	int r;

	while (n > 0 && !x->broken[from_device]) {
		chunk = n < SFTP_REASM_CHUNK ? n : SFTP_REASM_CHUNK;
		if ((r = sftp_reasm_put(&x->ra[from_device], p, chunk)) != 0) {
			x->broken[from_device] = 1;
			xset(x->broken_why[from_device],
			    sizeof(x->broken_why[0]), berr_str(r));
			return;
		}
		p += chunk;
		n -= chunk;
		while ((r = sftp_reasm_next(&x->ra[from_device], from_device,
		    &pkt, &len, &m, why, sizeof(why))) == 1) {
			refused = NULL;
			if (x->refuse[from_device] > 0) {
				x->refuse[from_device]--;
				refused = "refused by the bastion";
			}
			x_describe(x, from_device, &m, refused);
			if (from_device)
				(void)sftp_track_reply(x->track, &m, refused);
			else
				(void)sftp_track_request(x->track, &m,
				    refused);
		}
		if (r < 0) {
			x->broken[from_device] = 1;
			xset(x->broken_why[from_device],
			    sizeof(x->broken_why[0]), why);
		}
	}
}

/* Every whole item of the scp streams (the tracker's callbacks get the
 * files); a malformed stream ends extraction, reported. */
static void
x_scp_drain(struct recfiles *x, int from_device)
{
	struct scp_ev ev;
	char why[SCP_MAX_LINE + 128], line[SCP_MAX_LINE * 4 + 128];
	int r;

	while (!x->broken[from_device] && (r = scp_next(x->scp, &ev, why,
	    sizeof(why))) != 0)
		if (r < 0) {
			x->broken[from_device] = 1;
			xset(x->broken_why[from_device],
			    sizeof(x->broken_why[0]), why);
		} else if (x->line_fn != NULL && scp_describe(&ev,
		    x->scp_cmd.upload, line, sizeof(line)))
			x->line_fn(x->line_arg, x->frame, line);
}

/* One frame of an scp -O channel. */
static void
x_scp_frame(struct recfiles *x, const struct rec_frame *f,
    const struct rec_payload *pl)
{
	int dev = f->type == REC_OUTPUT;
	const uint8_t *p = pl->data;
	size_t n = pl->data_len, room;

	if (f->type == REC_EVENT && pl->str_len == 11 &&
	    memcmp(pl->str, "scp.refused", 11) == 0) {
		(void)scp_refuse(x->scp, "refused by the bastion");
		x_scp_drain(x, !x->scp_cmd.upload);
		return;
	}
	if (f->type == REC_EVENT && pl->str_len == 13 &&
	    memcmp(pl->str, "file.transfer", 13) == 0)
		x_event(x, pl->str2, pl->str2_len);
	if (f->type != REC_INPUT && f->type != REC_OUTPUT)
		return;
	while (n > 0 && !x->broken[dev]) {
		/* the child read no more than there was room for */
		if ((room = scp_room(x->scp, dev == x->scp_cmd.upload)) == 0) {
			x->broken[dev] = 1;
			xset(x->broken_why[dev], sizeof(x->broken_why[0]),
			    "more bytes than the bastion holds");
			return;
		}
		room = room < n ? room : n;
		(void)scp_put(x->scp, dev == x->scp_cmd.upload, p, room);
		p += room;
		n -= room;
		x_scp_drain(x, dev);
	}
}

void
recfiles_frame(struct recfiles *x, const struct rec_frame *f,
    const struct rec_payload *pl)
{
	char cmd[SFTP_MAX_PATH + 256], why[128];

	if (f->type == REC_SUBSYSTEM && f->channel == 0)
		x->sftp = pl->str_len == 4 && memcmp(pl->str, "sftp", 4) == 0;
	if (f->type == REC_EXEC && f->channel == 0 && pl->str_len <
	    sizeof(cmd)) {
		memcpy(cmd, pl->str, pl->str_len);
		cmd[pl->str_len] = '\0';
		x->scp_cmd_ok = scp_cmd_parse(cmd, &x->scp_cmd, why,
		    sizeof(why)) == 0;
	}
	if (f->type == REC_EVENT && f->channel == 0 && x->scp_cmd_ok &&
	    x->scp == NULL && pl->str_len == 10 &&
	    memcmp(pl->str, "scp.parsed", 10) == 0)
		x->scp = scp_new(&x->scp_cmd, x_record, x_data, x);
	if (x->scp != NULL && f->channel == 0) {
		x->frame = f;
		x_scp_frame(x, f, pl);
		return;
	}
	if (!x->sftp || f->channel != 0)
		return;
	x->frame = f;
	if (f->type == REC_INPUT)
		x_stream(x, 0, pl->data, pl->data_len);
	else if (f->type == REC_OUTPUT)
		x_stream(x, 1, pl->data, pl->data_len);
	else if (f->type == REC_EVENT && pl->str_len == 12 &&
	    memcmp(pl->str, "sftp.refused", 12) == 0) {
		if (pl->str2_len >= 7 && memcmp(pl->str2, "dir=in ", 7) == 0)
			x->refuse[0]++;
		else if (pl->str2_len >= 8 &&
		    memcmp(pl->str2, "dir=out ", 8) == 0)
			x->refuse[1]++;
	} else if (f->type == REC_EVENT && pl->str_len == 13 &&
	    memcmp(pl->str, "file.transfer", 13) == 0)
		x_event(x, pl->str2, pl->str2_len);
}

/* SHA-256 of the written file, hex; "" when it cannot be read. */
static void
x_file_sha(int dirfd, const char *name, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char buf[65536], d[EVP_MAX_MD_SIZE];
	unsigned dl = 0, i;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ssize_t r;
	int fd;

	out[0] = '\0';
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    (fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		EVP_MD_CTX_free(md);
		return;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(md, buf, (size_t)r) != 1)
			break;
	close(fd);
	if (r == 0 && EVP_DigestFinal_ex(md, d, &dl) == 1 && dl == 32) {
		for (i = 0; i < dl; i++) {
			out[2 * i] = hx[d[i] >> 4];
			out[2 * i + 1] = hx[d[i] & 15];
		}
		out[64] = '\0';
	}
	EVP_MD_CTX_free(md);
}

int
recfiles_finish(struct recfiles *x, FILE *out)
{
	char path[SFTP_MAX_PATH * 4 + 8], fsha[65];
	size_t i, bad = 0, files = 0;
	int d;

	sftp_track_free(x->track);	/* files left open: "incomplete" */
	x->track = NULL;
	scp_free(x->scp);		/* likewise */
	x->scp = NULL;
	if (x->dirfd < 0)
		return (0);
	for (i = 0; i < x->n; i++) {
		struct xent *e = x->e[i];
		const char *verdict = "matches the recording's record";

		if (e->fd >= 0) {
			if (close(e->fd) != 0 && !e->write_err)
				e->write_err = errno;
			e->fd = -1;
		}
		text_clean(path, sizeof(path), e->path);
		if (e->name[0] == '\0')
			xent_name(e);	/* no byte: nothing written */
		fsha[0] = '\0';
		if (e->bytes > 0 && !e->write_err)
			x_file_sha(x->dirfd, e->name, fsha);
		if (!e->have_event)
			verdict = "NO RECORD in the recording";
		else if (!e->have_track)
			verdict = "recorded, but its packets are not in the "
			    "recording";
		else if (strcmp(e->sha, e->ev_sha) != 0 ||
		    e->bytes != e->ev_bytes)
			verdict = "DOES NOT MATCH the recording's record";
		else if (e->write_err)
			verdict = "could not be written";
		else if (e->sequential && e->bytes > 0 &&
		    strcmp(fsha, e->sha) != 0)
			verdict = "the written file DOES NOT MATCH";
		if (strcmp(verdict, "matches the recording's record") != 0)
			bad++;
		files++;
		fprintf(out, "file %u %s %s: %llu bytes, sha256 %s, %s%s -> "
		    "%s: %s%s%s\n", e->serial, e->dir == SFTP_DIR_IN ? "in" :
		    "out", path, (unsigned long long)e->bytes,
		    e->have_track ? e->sha : e->ev_sha, e->have_track ?
		    e->outcome : e->ev_result, e->sequential ? "" :
		    " (not sequential: the hash is of the bytes in transfer "
		    "order)", e->bytes > 0 ? e->name : "(no bytes)", verdict,
		    e->write_err ? ": " : "", e->write_err ?
		    strerror(e->write_err) : "");
	}
	for (d = 0; d < 2; d++)
		if (x->broken[d]) {
			fprintf(out, "the %s's %s stop being readable: %s\n",
			    d ? "device" : "engineer", x->scp_cmd_ok ?
			    "scp bytes" : "SFTP packets", x->broken_why[d]);
			bad++;
		}
	if (x->full) {
		fprintf(out, "more than %d files: the rest are not "
		    "extracted\n", RECFILES_MAX);
		bad++;
	}
	if (files == 0) {
		fprintf(out, "no file transfer (SFTP or scp -O) in this "
		    "recording\n");
		return (2);
	}
	if (bad == 0)
		fprintf(out, "%zu files, every hash matches the recording\n",
		    files);
	else
		fprintf(out, "%zu files, %zu problem(s)\n", files, bad);
	return (bad == 0 ? 0 : 1);
}

void
recfiles_free(struct recfiles *x)
{
	size_t i;

	if (x == NULL)
		return;
	sftp_track_free(x->track);
	scp_free(x->scp);
	for (i = 0; i < x->n; i++) {
		if (x->e[i]->fd >= 0)
			close(x->e[i]->fd);
		free(x->e[i]->path);
		free(x->e[i]);
	}
	sftp_reasm_clear(&x->ra[0]);
	sftp_reasm_clear(&x->ra[1]);
	if (x->dirfd >= 0)
		close(x->dirfd);
	free(x);
}
