/*
 * relay_airlock.c - the import airlock (issue 18, docs/FILES.md "The
 * import airlock"): with files: scan: clamd, an upload never reaches the
 * device as it arrives. The child answers the engineer's OPEN with a
 * handle of its own and keeps the WRITEs in a quarantine file on the
 * bastion (bounded by max_file_size; the monitor opens the file, unlinked,
 * since the child cannot); on the CLOSE it hashes the bytes while ClamAV's
 * clamd scans them (INSTREAM over a socket the monitor connects,
 * proto/clamd.h), and only a clean file is written to the device through
 * the same SFTP channel (OPEN, WRITE, CLOSE of the bastion's own), read
 * back and its SHA-256 compared. Then, and only then, the engineer's CLOSE
 * gets SSH_FX_OK. Anything else (a signature found, clamd down or
 * answering nonsense, the limit, the device refusing, a read-back that
 * differs) answers the CLOSE with SSH_FX_FAILURE "refused by the airlock:
 * REASON", and the file.transfer record says result=refused with that
 * reason: fail closed.
 *
 * The recording: the engineer's packets are INPUT frames as always; the
 * airlock's own answers (the HANDLE, each WRITE's STATUS, the CLOSE's
 * STATUS) are OUTPUT frames, each after an EVENT airlock.answer, so that
 * bastion-replay --extract-files follows the file as the child did; the
 * scan and the placement are EVENTs airlock.scan and airlock.placed.
 *
 * The placement is synchronous: the engineer's client waits for its CLOSE
 * anyway, and replies to other requests still under way at the device
 * are relayed as they come (sftp_from_device) while the airlock waits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <magic.h>
#include <openssl/evp.h>

#include "bclock.h"
#include "buf.h"
#include "clamd.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "privsep.h"
#include "record.h"
#include "relay.h"
#include "relay_airlock_int.h"
#include "relay_sftp_int.h"
#include "sftp.h"
#include "tell.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define AIRLOCK_DEFAULT_MAX	(1ULL << 30)	/* without max_file_size */
#define AIRLOCK_SCAN_MS		60000		/* clamd, per step */
#define AIRLOCK_PREFIX		"refused by the airlock: "
#define AIRLOCK_MAGIC_MAX	(64 * 1024 * 1024)	/* the database */
#define AIRLOCK_MAGIC_PEEK	(1024 * 1024)		/* bytes looked at */

int
relay_airlock_start(struct sess *S)
{
	struct relay_airlock *A;
	size_t i;

	if ((A = calloc(1, sizeof(*A))) == NULL)
		return (-1);
	for (i = 0; i < AIRLOCK_FILES; i++)
		A->f[i].fd = -1;
	A->next_id = 0xa1000000u;
	S->R->sftp->airlock = A;
	if (relay_sftp_policy(S)->approve_out && relay_export_start(A) != 0)
		return (-1);	/* relay_sftp_start ends it */
	return (0);
}

static void
airlock_drop(struct airlock_file *af)
{
	if (af->fd != -1)
		close(af->fd);
	memset(af, 0, sizeof(*af));
	af->fd = -1;
}

void
relay_airlock_end(struct sess *S)
{
	struct relay_airlock *A;
	size_t i;

	if (S->R->sftp == NULL || (A = S->R->sftp->airlock) == NULL)
		return;
	for (i = 0; i < AIRLOCK_FILES; i++)
		airlock_drop(&A->f[i]);
	relay_export_end(A);
	if (A->magic != NULL)
		magic_close(A->magic);
	free(A->magic_db);
	free(A);
	S->R->sftp->airlock = NULL;
}

static uint64_t
airlock_limit(const struct sess *S)
{
	const struct policy_files *pf = relay_sftp_policy(S);

	return (pf->max_file_size > 0 ? pf->max_file_size :
	    AIRLOCK_DEFAULT_MAX);
}

static struct airlock_file *
airlock_by_handle(struct relay_airlock *A, const uint8_t *h, size_t n)
{
	size_t i;

	for (i = 0; i < AIRLOCK_FILES; i++)
		if (A->f[i].used && A->f[i].hlen == n && n > 0 &&
		    memcmp(A->f[i].handle, h, n) == 0)
			return (&A->f[i]);
	return (NULL);
}

int
relay_airlock_frame(struct sftp_q *q, const struct buf *body)
{
	uint8_t len[4];
	size_t n = buf_len(body);

	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	if (sftp_q_push(q, len, 4) != 0 ||
	    sftp_q_push(q, buf_ptr(body), n) != 0)
		return (-1);
	return (0);
}

/*
 * An answer of the airlock's own to the engineer (body: type first): fed
 * to the tracker as if the device had sent it, recorded as an OUTPUT
 * frame after an EVENT airlock.answer, queued. 0 or -1.
 */
int
relay_airlock_answer(struct sess *S, struct buf *body)
{
	struct relay_sftp *F = S->R->sftp;
	struct buf *pkt = NULL, *copy = NULL;
	struct sftp_msg m;
	char why[256], text[64];
	int r = -1;

	if ((pkt = buf_new(buf_len(body) + 4)) == NULL ||
	    (copy = buf_new(buf_len(body))) == NULL ||
	    buf_put_u32(pkt, (uint32_t)buf_len(body)) != 0 ||
	    buf_put(pkt, buf_ptr(body), buf_len(body)) != 0 ||
	    buf_put(copy, buf_ptr(body), buf_len(body)) != 0 ||
	    sftp_parse(1, copy, &m, why, sizeof(why)) != 0)
		goto out;
	(void)sftp_track_reply(F->track, &m, NULL);
	relay_fmt(text, sizeof(text), "id=%u type=%s", m.id,
	    sftp_type_name(m.type));
	if (S->rec != NULL && (sess_rec_event(S, "airlock.answer", text) != 0 ||
	    sftp_rec_packet(S, 1, buf_ptr(pkt), buf_len(pkt), &m, 0,
	    NULL) != 0))
		goto out;
	r = sftp_q_push(&F->to_vendor, buf_ptr(pkt), buf_len(pkt));
out:
	buf_free(pkt);
	buf_free(copy);
	return (r == 0 ? 0 : -1);
}

int
relay_airlock_status(struct sess *S, uint32_t id, uint32_t code,
    const char *msg)
{
	struct buf *b = buf_new(SFTP_MAX_PATH + 600);
	int r = -1;

	if (b != NULL && buf_put_u8(b, SSH_FXP_STATUS) == 0 &&
	    buf_put_u32(b, id) == 0 && buf_put_u32(b, code) == 0 &&
	    buf_put_cstring(b, msg) == 0 && buf_put_cstring(b, "en") == 0)
		r = relay_airlock_answer(S, b);
	buf_free(b);
	return (r);
}

/* ---- the engineer's requests -------------------------------------------- */

static void
airlock_hash(void *arg, const uint8_t *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

static void
airlock_hex(EVP_MD_CTX *md, char out[65])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;

	EVP_DigestFinal_ex(md, d, &dl);
	if (dl > 32)
		dl = 32;
	hex_encode(d, dl, out);
}

/* libmagic with its database from the monitor (the child opens no file).
 * 0 or -1 (why). */
static int
airlock_magic_load(struct relay_airlock *A, char *why, size_t whylen)
{
	struct stat st;
	size_t size;
	ssize_t got;
	int fd;

	if (A->magic != NULL)
		return (0);
	if ((fd = mm_airlock(AIRLOCK_MAGIC, why, whylen)) == -1)
		return (-1);
	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size > AIRLOCK_MAGIC_MAX ||
	    (A->magic_db = malloc((size_t)st.st_size)) == NULL) {
		relay_fmt(why, whylen, "the file type database is unusable");
		close(fd);
		return (-1);
	}
	size = (size_t)st.st_size;
	got = pread(fd, A->magic_db, size, 0);
	close(fd);
	if (got != (ssize_t)size || (A->magic = magic_open(MAGIC_MIME_TYPE |
	    MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR)) == NULL ||
	    magic_load_buffers(A->magic, &A->magic_db, &size, 1) != 0) {
		relay_fmt(why, whylen, "the file type database cannot be "
		    "loaded%s%s", A->magic != NULL ? ": " : "", A->magic !=
		    NULL && magic_error(A->magic) != NULL ?
		    magic_error(A->magic) : "");
		if (A->magic != NULL)
			magic_close(A->magic);
		A->magic = NULL;
		free(A->magic_db);
		A->magic_db = NULL;
		return (-1);
	}
	return (0);
}

/* files: types: af's type by content (libmagic) must be listed. 0, or -1
 * with why. The type is recorded (EVENT airlock.type). */
static int
airlock_type(struct sess *S, struct airlock_file *af, char *why,
    size_t whylen)
{
	const struct policy_files *pf = relay_sftp_policy(S);
	struct relay_airlock *A = S->R->sftp->airlock;
	char text[SFTP_MAX_PATH * 4 + 200], esc[SFTP_MAX_PATH * 4 + 8];
	const char *t;
	uint8_t *peek;
	size_t n = af->size > AIRLOCK_MAGIC_PEEK ? AIRLOCK_MAGIC_PEEK :
	    (size_t)af->size;
	unsigned i;
	ssize_t got;

	if (pf->ntypes == 0)
		return (0);
	if (airlock_magic_load(A, why, whylen) != 0)
		return (-1);
	if ((peek = malloc(n > 0 ? n : 1)) == NULL) {
		relay_fmt(why, whylen, "out of memory");
		return (-1);
	}
	got = n > 0 ? pread(af->fd, peek, n, 0) : 0;
	t = got == (ssize_t)n ? magic_buffer(A->magic, peek, n) : NULL;
	free(peek);
	if (t == NULL) {
		relay_fmt(why, whylen, "its type could not be told");
		return (-1);
	}
	log_escape(esc, sizeof(esc), af->path);
	relay_fmt(text, sizeof(text), "path=%s type=%.80s", esc, t);
	if (sess_rec_event(S, "airlock.type", text) != 0) {
		relay_fmt(why, whylen, "the recording failed");
		return (-1);
	}
	for (i = 0; i < pf->ntypes; i++)
		if (strcmp(pf->types[i], t) == 0)
			return (0);
	relay_fmt(why, whylen, "its type by content, %.80s, is not one this "
	    "device takes (files: types)", t);
	return (-1);
}

/* Scan af, place it, compare. 0 (on the device, checked) or -1 with why
 * (a sentence after "refused by the airlock: "). */
static int
airlock_check(struct sess *S, struct airlock_file *af, char *why,
    size_t whylen)
{
	EVP_MD_CTX *q = EVP_MD_CTX_new(), *d = EVP_MD_CTX_new();
	char name[CLAMD_NAME_MAX], qhex[65], dhex[65], text[SFTP_MAX_PATH +
	    600], cwhy[600], esc[SFTP_MAX_PATH * 4 + 8];
	int sock = -1, r = -1, v;

	log_escape(esc, sizeof(esc), af->path);
	if (q == NULL || d == NULL || EVP_DigestInit_ex(q, EVP_sha256(),
	    NULL) != 1 || EVP_DigestInit_ex(d, EVP_sha256(), NULL) != 1) {
		relay_fmt(why, whylen, "out of memory");
		goto out;
	}
	if ((sock = mm_airlock(AIRLOCK_CLAMD, cwhy, sizeof(cwhy))) == -1) {
		relay_fmt(why, whylen, "%s", cwhy);
		relay_fmt(text, sizeof(text), "path=%s result=error reason=%s",
		    esc, cwhy);
		(void)sess_rec_event(S, "airlock.scan", text);
		goto out;
	}
	v = clamd_scan_fd(sock, af->fd, af->size, AIRLOCK_SCAN_MS,
	    airlock_hash, q, name, sizeof(name));
	airlock_hex(q, qhex);
	relay_fmt(text, sizeof(text), "path=%s bytes=%llu sha256=%s result=%s "
	    "reason=%s", esc, (unsigned long long)af->size, qhex,
	    v == CLAMD_CLEAN ? "clean" : v == CLAMD_FOUND ? "found" : "error",
	    v == CLAMD_CLEAN ? "-" : name);
	if (sess_rec_event(S, "airlock.scan", text) != 0) {
		relay_fmt(why, whylen, "the recording failed");
		goto out;
	}
	if (v == CLAMD_FOUND) {
		relay_fmt(why, whylen, "the virus scanner found %s", name);
		goto out;
	}
	if (v != CLAMD_CLEAN) {
		relay_fmt(why, whylen, "the virus scan failed (%s)", name);
		goto out;
	}
	if (airlock_type(S, af, why, whylen) != 0)
		goto out;
	if (relay_airlock_place(S, af, d, cwhy, sizeof(cwhy)) != 0) {
		relay_fmt(why, whylen, "placing the file on the device failed: "
		    "%s", cwhy);
		(void)sftp_remove(S, af->path);
		goto out;
	}
	airlock_hex(d, dhex);
	relay_fmt(text, sizeof(text), "path=%s bytes=%llu sha256=%s "
	    "read_back=%s", esc, (unsigned long long)af->size, qhex, dhex);
	if (sess_rec_event(S, "airlock.placed", text) != 0) {
		relay_fmt(why, whylen, "the recording failed");
		goto out;
	}
	if (strcmp(qhex, dhex) != 0) {
		relay_fmt(why, whylen, "the device's copy differs (sha256 %s "
		    "read back, %s scanned); it was removed", dhex, qhex);
		(void)sftp_remove(S, af->path);
		goto out;
	}
	r = 0;
out:
	if (sock != -1)
		close(sock);
	EVP_MD_CTX_free(q);
	EVP_MD_CTX_free(d);
	return (r);
}

/* The engineer's upload OPEN: a quarantine file and our handle. */
static int
airlock_open(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m)
{
	struct relay_sftp *F = S->R->sftp;
	struct relay_airlock *A = F->airlock;
	struct airlock_file *af = NULL;
	char why[700], qwhy[600];
	struct buf *b;
	size_t i;
	int r;

	for (i = 0; i < AIRLOCK_FILES && A->f[i].used; i++)
		;
	why[0] = '\0';
	if (i == AIRLOCK_FILES)
		relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "more than %d "
		    "uploads at once", AIRLOCK_FILES);
	else if (m->pflags & (SSH_FXF_APPEND | SSH_FXF_READ))
		relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "an upload is "
		    "scanned whole, so it cannot resume, append or read a "
		    "file on the device; upload the whole file again");
	else {
		af = &A->f[i];
		if ((af->fd = mm_airlock(AIRLOCK_QUARANTINE, qwhy,
		    sizeof(qwhy))) == -1) {
			relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "%s", qwhy);
			af->fd = -1;
			af = NULL;
		}
	}
	if (af == NULL) {
		/* refused at OPEN: recorded as such (a record of nothing) */
		if (sftp_rec_packet(S, 0, pkt, len, m, SSH_FX_FAILURE,
		    why) != 0)
			return (-1);
		(void)sftp_track_request(F->track, m, why);
		sess_tell(S, "bastion: %s\n", why);
		return (sftp_answer(F, m->id, SSH_FX_FAILURE, why));
	}
	if (sftp_rec_packet(S, 0, pkt, len, m, 0, NULL) != 0)
		return (-1);
	if (sftp_track_request(F->track, m, NULL) != 0) {
		airlock_drop(af);
		return (sftp_answer(F, m->id, SSH_FX_FAILURE, "bastion: too "
		    "many requests or open files at once"));
	}
	af->used = 1;
	af->size = 0;
	af->refused = 0;
	af->pflags = m->pflags;
	memcpy(af->path, m->path, m->path_len);	/* <= SFTP_MAX_PATH */
	af->path[m->path_len] = '\0';
	af->hlen = (size_t)snprintf(af->handle, sizeof(af->handle),
	    "airlock-%u", ++A->serial);
	if ((b = buf_new(64)) == NULL)
		return (-1);
	r = buf_put_u8(b, SSH_FXP_HANDLE) == 0 && buf_put_u32(b, m->id) == 0 &&
	    buf_put_string(b, af->handle, af->hlen) == 0 ?
	    relay_airlock_answer(S, b) : -1;
	buf_free(b);
	return (r);
}

/* A WRITE into the quarantine. */
static int
airlock_write(struct sess *S, struct airlock_file *af, const uint8_t *pkt,
    size_t len, const struct sftp_msg *m)
{
	struct relay_sftp *F = S->R->sftp;
	const struct policy_files *pf = relay_sftp_policy(S);
	uint64_t lim = airlock_limit(S), sent = sftp_track_bytes(F->track);
	char why[SFTP_MAX_PATH + 300];
	ssize_t w;

	why[0] = '\0';
	if (af->refused)
		relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "the upload of %s "
		    "was refused", af->path);
	else if (m->offset > lim || m->data_len > lim - m->offset)
		relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "%s is larger than "
		    "the limit of %llu bytes for one file", af->path,
		    (unsigned long long)lim);
	else if (pf->max_session_bytes > 0 && m->data_len >
	    pf->max_session_bytes - (sent < pf->max_session_bytes ? sent :
	    pf->max_session_bytes))
		relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "this session has "
		    "moved its limit of %llu bytes",
		    (unsigned long long)pf->max_session_bytes);
	if (why[0] != '\0') {
		if (sftp_rec_packet(S, 0, pkt, len, m, SSH_FX_FAILURE,
		    why) != 0)
			return (-1);
		(void)sftp_track_request(F->track, m, why);
		if (!af->refused)
			sess_tell(S, "bastion: %s\n", why);
		af->refused = 1;
		return (sftp_answer(F, m->id, SSH_FX_FAILURE, why));
	}
	if (sftp_rec_packet(S, 0, pkt, len, m, 0, NULL) != 0)
		return (-1);
	if (sftp_track_request(F->track, m, NULL) != 0)
		return (sftp_answer(F, m->id, SSH_FX_FAILURE, "bastion: too "
		    "many requests or open files at once"));
	do
		w = pwrite(af->fd, m->data, m->data_len, (off_t)m->offset);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)m->data_len) {
		af->refused = 1;
		relay_fmt(why, sizeof(why), AIRLOCK_PREFIX "the quarantine on "
		    "the bastion is full or failing");
		sftp_track_refuse(F->track, m->handle, m->handle_len, why);
		return (relay_airlock_status(S, m->id, SSH_FX_FAILURE, why));
	}
	if (m->offset > af->size)
		af->gap = 1;
	if (m->offset + m->data_len > af->size)
		af->size = m->offset + m->data_len;
	return (relay_airlock_status(S, m->id, SSH_FX_OK, "Success"));
}

/* The engineer's CLOSE: the airlock's verdict. */
static int
airlock_close(struct sess *S, struct airlock_file *af, const uint8_t *pkt,
    size_t len, const struct sftp_msg *m)
{
	struct relay_sftp *F = S->R->sftp;
	char why[SFTP_MAX_PATH + 700], full[SFTP_MAX_PATH + 800];
	int r;

	if (sftp_rec_packet(S, 0, pkt, len, m, 0, NULL) != 0 ||
	    sftp_track_request(F->track, m, NULL) != 0) {
		airlock_drop(af);
		return (-1);
	}
	if (af->refused)
		relay_fmt(why, sizeof(why), "the upload of %s was refused",
		    af->path);
	else if (af->gap) {
		relay_fmt(why, sizeof(why), "%s was not written whole from "
		    "its start (a resumed upload?); an upload is scanned "
		    "whole, so upload the whole file again", af->path);
	}
	if (!af->refused && !af->gap && airlock_check(S, af, why, sizeof(why)) == 0) {
		airlock_drop(af);
		return (relay_airlock_status(S, m->id, SSH_FX_OK, "Success"));
	}
	relay_fmt(full, sizeof(full), AIRLOCK_PREFIX "%s", why);
	if (!af->refused)
		sess_tell(S, "bastion: %s\n", full);
	sftp_track_refuse(F->track, m->handle, m->handle_len, full);
	airlock_drop(af);
	r = relay_airlock_status(S, m->id, SSH_FX_FAILURE, full);
	return (r);
}

int
relay_airlock_request(struct sess *S, const uint8_t *pkt, size_t len,
    const struct sftp_msg *m)
{
	struct relay_sftp *F = S->R->sftp;
	struct airlock_file *af;
	char why[200];
	int r;

	if (m->type == SSH_FXP_INIT)
		return (0);
	if (F->airlock->exports != NULL && (r = relay_export_request(S, pkt,
	    len, m)) != 0)
		return (r);
	if (!relay_sftp_policy(S)->scan)
		return (0);	/* export approval alone: no import airlock */
	if (sftp_track_id_busy(F->track, m->id)) {
		/* the relay refuses it, but must not act on a held file
		 * (its REMOVE of a refused upload would hit the device) */
		if (airlock_by_handle(F->airlock, m->handle,
		    m->handle_len) == NULL)
			return (0);
		relay_fmt(why, sizeof(why), "bastion: request id %u is "
		    "already under way", m->id);
		if (sftp_rec_packet(S, 0, pkt, len, m, SSH_FX_FAILURE,
		    why) != 0)
			return (-1);
		return (sftp_answer(F, m->id, SSH_FX_FAILURE, why) != 0 ? -1 :
		    1);
	}
	if (m->type == SSH_FXP_OPEN) {
		if (!(m->pflags & (SSH_FXF_WRITE | SSH_FXF_APPEND |
		    SSH_FXF_CREAT | SSH_FXF_TRUNC)))
			return (0);	/* a download */
		return (airlock_open(S, pkt, len, m) != 0 ? -1 : 1);
	}
	if ((af = airlock_by_handle(F->airlock, m->handle, m->handle_len)) ==
	    NULL)
		return (0);
	if (m->type == SSH_FXP_WRITE)
		return (airlock_write(S, af, pkt, len, m) != 0 ? -1 : 1);
	if (m->type == SSH_FXP_CLOSE)
		return (airlock_close(S, af, pkt, len, m) != 0 ? -1 : 1);
	if (m->type == SSH_FXP_FSETSTAT) {
		/* scp truncates to what it wrote (its in-place upload); the
		 * airlock places the file whole, with the device's default
		 * mode: attributes are taken and not applied */
		if (sftp_rec_packet(S, 0, pkt, len, m, 0, NULL) != 0)
			return (-1);
		if (sftp_track_request(F->track, m, NULL) != 0)
			return (sftp_answer(F, m->id, SSH_FX_FAILURE, "bastion: "
			    "too many requests at once") != 0 ? -1 : 1);
		return (relay_airlock_status(S, m->id, SSH_FX_OK, "Success") != 0 ?
		    -1 : 1);
	}
	/* FSTAT, fsync, ...: the file is not on the device yet */
	relay_fmt(why, sizeof(why), "bastion: %s is not possible on a file "
	    "held by the airlock", sftp_type_name(m->type));
	if (sftp_rec_packet(S, 0, pkt, len, m, SSH_FX_OP_UNSUPPORTED,
	    why) != 0)
		return (-1);
	return (sftp_answer(F, m->id, SSH_FX_OP_UNSUPPORTED, why) != 0 ? -1 :
	    1);
}
