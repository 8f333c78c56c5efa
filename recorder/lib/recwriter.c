/*
 * recwriter.c - the only code that writes recordings (see recwriter.h).
 *
 * The chain head and counters are updated only after a frame reached the
 * file whole, so an error leaves the writer describing exactly what is on
 * disk and a seal can still follow if space comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "reckey.h"
#include "recwriter.h"

struct recwriter {
	int fd;
	const struct reckey *key;
	uint8_t head[REC_HASH_LEN];
	uint64_t seq;		/* next frame's sequence number */
	uint64_t offset;	/* file size = where the next frame goes */
	uint64_t last_time;
	/* the unsigned run since the last CHECKPOINT */
	uint64_t run_frames;
	uint64_t run_first;	/* time of its first frame */
	uint64_t run_bytes;	/* payload bytes in it */
	uint64_t out_bytes, in_bytes, fwd_bytes;
	int sealed;
	int broken;		/* a torn frame could not be removed */
	int err;
	/* frame scratch: made per frame by frame_buf(), because buf_reset()
	 * wipes the whole allocation, which grows to the largest frame */
	struct buf *fb;
};

static int
frame_buf(struct recwriter *w)
{
	buf_free(w->fb);
	if ((w->fb = buf_new(REC_FRAME_MAX + 64)) == NULL)
		return (BERR_NOMEM);
	return (0);
}

int
recwriter_new_session_id(uint64_t start_unix_us, char *out, size_t outlen)
{
	time_t sec = (time_t)(start_unix_us / 1000000);
	uint8_t rnd[8];
	char hex[17], ts[32];
	struct tm tm;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return (BERR_SYS);
	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return (BERR_INTERNAL);
	recfmt_hex(rnd, sizeof(rnd), hex);
	if ((size_t)snprintf(out, outlen, "%s-%s", ts, hex) >= outlen)
		return (BERR_LIMIT);
	return (0);
}

static int
mkdir_one(const char *path)
{
	struct stat st;

	if (mkdir(path, 0750) == 0)
		return (0);
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return (0);
	if (errno == EEXIST)
		errno = ENOTDIR;
	return (BERR_SYS);
}

int
recwriter_create_file(const char *recdir, const char *session_id,
    uint64_t start_unix_us, char *path, size_t pathlen, int *fdp)
{
	time_t sec = (time_t)(start_unix_us / 1000000);
	char dir[4096], date[16];
	struct tm tm;
	int fd, r;

	*fdp = -1;
	if (!recfmt_session_id_valid(session_id))
		return (BERR_INVAL);
	if (gmtime_r(&sec, &tm) == NULL)
		return (BERR_INVAL);
	/* one level at a time: YYYY, YYYY/MM, YYYY/MM/DD */
	strftime(date, sizeof(date), "%Y", &tm);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", recdir, date) >=
	    sizeof(dir))
		return (BERR_LIMIT);
	if ((r = mkdir_one(dir)) != 0)
		return (r);
	strftime(date, sizeof(date), "%Y/%m", &tm);
	snprintf(dir, sizeof(dir), "%s/%s", recdir, date);
	if ((r = mkdir_one(dir)) != 0)
		return (r);
	strftime(date, sizeof(date), "%Y/%m/%d", &tm);
	snprintf(dir, sizeof(dir), "%s/%s", recdir, date);
	if ((r = mkdir_one(dir)) != 0)
		return (r);
	if ((size_t)snprintf(path, pathlen, "%s/%s.brec", dir, session_id) >=
	    pathlen)
		return (BERR_LIMIT);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1)
		return (errno == EEXIST ? BERR_EXISTS : BERR_SYS);
	*fdp = fd;
	return (0);
}

/*
 * Write all of p, or nothing: on failure truncate back to w->offset.
 * Keeps errno in w->err.
 */
static int
write_whole(struct recwriter *w, const void *p, size_t len)
{
	const uint8_t *q = p;
	size_t done = 0;
	ssize_t n;

	if (w->broken)
		return (BERR_SYS);
	while (done < len) {
		n = write(w->fd, q + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n == 0 ? EIO : errno;
			if (done > 0 && ftruncate(w->fd, (off_t)w->offset) != 0) {
				log_error("recording is torn at offset %llu "
				    "and cannot be truncated back: %s",
				    (unsigned long long)w->offset,
				    strerror(errno));
				w->broken = 1;
			}
			errno = w->err;
			return (BERR_SYS);
		}
		done += (size_t)n;
	}
	w->offset += len;
	return (0);
}

/*
 * Encode the frame into w->fb (after prefix bytes already there), append its
 * chain hash, write it whole, then advance the chain.
 */
static int
emit(struct recwriter *w, int type, uint32_t channel, const void *payload,
    size_t len, uint64_t t)
{
	struct rec_frame f;
	uint8_t h[REC_HASH_LEN];
	size_t pre;
	int r;

	if (w->fb == NULL && (r = frame_buf(w)) != 0)
		return (r);
	pre = buf_len(w->fb);
	f.type = (uint8_t)type;
	f.seq = w->seq;
	f.time_us = t;
	f.channel = channel;
	f.payload = payload;
	f.len = len;
	if ((r = recfmt_frame_encode(w->fb, &f)) != 0 ||
	    (r = recfmt_chain_step(w->head, buf_ptr(w->fb) + pre,
	    buf_len(w->fb) - pre, h)) != 0 ||
	    (r = buf_put(w->fb, h, sizeof(h))) != 0)
		goto out;
	if ((r = write_whole(w, buf_ptr(w->fb), buf_len(w->fb))) != 0)
		goto out;
	memcpy(w->head, h, sizeof(h));
	w->seq++;
	w->last_time = t;
 out:
	buf_free(w->fb);
	w->fb = NULL;
	return (r);
}

/*
 * Build a CHECKPOINT or SEAL: body (fields before the head) + head + a
 * signature over the context and the canonical frame up to the signature.
 */
static int
emit_signed(struct recwriter *w, int type, const struct buf *body,
    uint64_t t)
{
	struct buf *pl = NULL, *msg = NULL;
	struct rec_frame f;
	uint8_t sig[REC_SIG_LEN];
	size_t sigoff;
	int r;

	memset(sig, 0, sizeof(sig));
	if ((pl = buf_new(1024)) == NULL || (msg = buf_new(2048)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((body != NULL &&
	    (r = buf_put(pl, buf_ptr(body), buf_len(body))) != 0) ||
	    (r = buf_put(pl, w->head, REC_HASH_LEN)) != 0)
		goto out;
	sigoff = buf_len(pl);
	if ((r = buf_put(pl, sig, sizeof(sig))) != 0)
		goto out;
	/* canonical bytes with a zero signature, then sign all but it */
	f.type = (uint8_t)type;
	f.seq = w->seq;
	f.time_us = t;
	f.channel = REC_CHANNEL_RECORDER;
	f.payload = buf_ptr(pl);
	f.len = buf_len(pl);
	if ((r = frame_buf(w)) != 0 ||
	    (r = recfmt_frame_encode(w->fb, &f)) != 0 ||
	    (r = recfmt_signed_message(msg, type, buf_ptr(w->fb),
	    buf_len(w->fb))) != 0)
		goto out;
	buf_free(w->fb);
	w->fb = NULL;
	if ((r = reckey_sign(w->key, buf_ptr(msg), buf_len(msg), sig)) != 0)
		goto out;
	/* rebuild the payload with the signature in place */
	{
		uint8_t tmp[1024];
		size_t n = buf_len(pl);

		if (n > sizeof(tmp)) {
			r = BERR_LIMIT;
			goto out;
		}
		memcpy(tmp, buf_ptr(pl), n);
		memcpy(tmp + sigoff, sig, sizeof(sig));
		r = emit(w, type, REC_CHANNEL_RECORDER, tmp, n, t);
	}
 out:
	buf_free(w->fb);
	w->fb = NULL;
	buf_free(pl);
	buf_free(msg);
	return (r);
}

static void
run_add(struct recwriter *w, size_t len, uint64_t t)
{
	if (w->run_frames == 0)
		w->run_first = t;
	w->run_frames++;
	w->run_bytes += len;
}

int
recwriter_open(int fd, const struct reckey *key, const struct rec_hdr *hdr,
    struct recwriter **out)
{
	struct recwriter *w = NULL;
	struct buf *pl = NULL;
	const char *sid;
	int r;

	*out = NULL;
	if ((sid = recfmt_hdr_get(hdr, "session")) == NULL ||
	    !recfmt_session_id_valid(sid) || !reckey_has_private(key)) {
		r = BERR_INVAL;
		goto out;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	w->fd = fd;
	fd = -1;
	w->key = key;
	if ((r = frame_buf(w)) != 0 ||
	    (pl = buf_new(REC_MAX_PAYLOAD)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((r = recfmt_chain_seed(sid, w->head)) != 0 ||
	    (r = recfmt_hdr_encode(hdr, pl)) != 0)
		goto out;
	/* magic and HEADER go out in one write: a file never holds one
	 * without the other */
	if ((r = buf_put(w->fb, REC_MAGIC, REC_MAGIC_LEN)) != 0 ||
	    (r = emit(w, REC_HEADER, REC_CHANNEL_RECORDER, buf_ptr(pl),
	    buf_len(pl), 0)) != 0)
		goto out;
	run_add(w, buf_len(pl), 0);
	*out = w;
	w = NULL;
 out:
	if (fd != -1)
		close(fd);
	recwriter_free(w);
	buf_free(pl);
	return (r);
}

int
recwriter_checkpoint(struct recwriter *w, uint64_t now_us)
{
	int r;

	if (w->sealed)
		return (BERR_INVAL);
	if (w->run_frames == 0)
		return (0);
	if (now_us < w->last_time)
		now_us = w->last_time;
	if ((r = emit_signed(w, REC_CHECKPOINT, NULL, now_us)) != 0)
		return (r);
	w->run_frames = w->run_bytes = 0;
	if (fdatasync(w->fd) != 0) {
		w->err = errno;
		return (BERR_SYS);
	}
	return (0);
}

uint64_t
recwriter_ckpt_due(const struct recwriter *w)
{
	if (w->sealed || w->run_frames == 0)
		return (UINT64_MAX);
	return (w->run_first + REC_CKPT_INTERVAL_US);
}

int
recwriter_append(struct recwriter *w, int type, uint32_t channel,
    const void *payload, size_t len, uint64_t now_us)
{
	int r;

	if (w->sealed || type == REC_HEADER || type == REC_CHECKPOINT ||
	    type == REC_SEAL || type < REC_TYPE_MIN || type > REC_TYPE_MAX)
		return (BERR_INVAL);
	if (len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	if (now_us < w->last_time)
		now_us = w->last_time;
	if (w->run_frames > 0 &&
	    (now_us - w->run_first >= REC_CKPT_INTERVAL_US ||
	    w->run_bytes + len > REC_CKPT_BYTES) &&
	    (r = recwriter_checkpoint(w, now_us)) != 0)
		return (r);
	if ((r = emit(w, type, channel, payload, len, now_us)) != 0)
		return (r);
	run_add(w, len, now_us);
	switch (type) {
	case REC_OUTPUT:
	case REC_STDERR:
		w->out_bytes += len;
		break;
	case REC_INPUT:
		w->in_bytes += len;
		break;
	case REC_FWD_DATA:
		w->fwd_bytes += len > 0 ? len - 1 : 0;
		break;
	}
	return (0);
}

int
recwriter_seal(struct recwriter *w, int status, const char *reason,
    uint64_t now_us)
{
	struct buf *body;
	size_t i, n = strlen(reason);
	int r;

	if (w->sealed || n > REC_REASON_MAX)
		return (BERR_INVAL);
	for (i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			return (BERR_INVAL);
	if (now_us < w->last_time)
		now_us = w->last_time;
	if ((body = buf_new(512)) == NULL)
		return (BERR_NOMEM);
	if ((r = buf_put_u8(body, (uint8_t)status)) != 0 ||
	    (r = buf_put_cstring(body, reason)) != 0 ||
	    (r = buf_put_u64(body, w->seq)) != 0 ||
	    (r = buf_put_u64(body, w->out_bytes)) != 0 ||
	    (r = buf_put_u64(body, w->in_bytes)) != 0 ||
	    (r = buf_put_u64(body, w->fwd_bytes)) != 0 ||
	    (r = buf_put_u64(body, w->offset)) != 0 ||
	    (r = emit_signed(w, REC_SEAL, body, now_us)) != 0)
		goto out;
	w->sealed = 1;
	w->run_frames = w->run_bytes = 0;
	if (fdatasync(w->fd) != 0) {
		w->err = errno;
		r = BERR_SYS;
		goto out;
	}
	(void)fchmod(w->fd, 0440);
 out:
	buf_free(body);
	return (r);
}

int
recwriter_errno(const struct recwriter *w)
{
	return (w->err);
}

uint64_t
recwriter_frames(const struct recwriter *w)
{
	return (w->seq);
}

const uint8_t *
recwriter_head(const struct recwriter *w)
{
	return (w->head);
}

int
recwriter_sealed(const struct recwriter *w)
{
	return (w->sealed);
}

void
recwriter_free(struct recwriter *w)
{
	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	buf_free(w->fb);
	free(w);
}
