/*
 * recwriter.c - the only code that writes recordings (see recwriter.h).
 *
 * The chain head and counters are updated only after a frame reached the
 * file whole, so an error leaves the writer describing exactly what is on
 * disk and a seal can still follow if space comes back.
 *
 * A frame is written with one writev() of its 29-byte head (encoded here on
 * the stack, byte for byte what recfmt_frame_encode() produces), the
 * caller's payload and the chain hash: the payload, which may hold what an
 * engineer typed, is never copied into a scratch buffer that would then
 * have to be wiped. The chain hash uses one digest context per writer with
 * SHA-256 fetched once, instead of a fresh context and an implicit fetch
 * per frame (recfmt_chain_step), which showed in profiles of pty sessions
 * (many small frames); tests/unit/test_recfmt.c checks the result against
 * the test vectors.
 *
 * Format 2 (recenc.h): the magic line, the key block and the HEADER go out
 * in the first write; every later payload of an encrypted type is sealed
 * into the writer's own buffer (an age payload, age.h) before its writev,
 * so no clear byte of a session reaches the file. The chain, checkpoints
 * and seal are computed over what is written, ciphertext included; the
 * seal's counts are of clear bytes and its offset is counted from frame 0,
 * so that rewrapping the key block moves nothing that is signed.
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
#include <sys/uio.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "age.h"
#include "reckey.h"
#include "recwriter.h"
#include "text.h"

/* len, type, seq, time, channel, payload length */
#define FRAME_HEAD_LEN	(4 + REC_FRAME_FIXED)
/* magic (and key block), frame head, payload, chain hash */
#define EMIT_IOV_MAX	4

struct recwriter {
	int fd;
	const struct reckey *key;
	EVP_MD *sha256;		/* fetched once */
	EVP_MD_CTX *mdctx;	/* reused for every frame */
	uint8_t head[REC_HASH_LEN];
	uint64_t seq;		/* next frame's sequence number */
	uint64_t offset;	/* file size = where the next frame goes */
	uint64_t base;		/* format 2: where frame 0 starts (the seal's
				   offset counts from there); format 1: 0 */
	struct age_payload *enc;	/* format 2: seals payloads */
	uint8_t *sealed_buf;	/* format 2: REC_MAX_STORED */
	uint64_t last_time;
	/* the unsigned run since the last CHECKPOINT */
	uint64_t run_frames;
	uint64_t run_first;	/* time of its first frame */
	uint64_t run_bytes;	/* payload bytes in it */
	uint64_t out_bytes, in_bytes, fwd_bytes;
	int sealed;
	int broken;		/* a torn frame could not be removed */
	int err;
	/* durability: offsets are file sizes just past a signed frame */
	int defer_sync;		/* the caller runs the syncs */
	int syncing;		/* a deferred sync is in flight */
	int sync_failed;	/* a sync failed: nothing is promised any more */
	uint64_t signed_off;	/* past the last CHECKPOINT or the SEAL */
	uint64_t synced_off;	/* known durable up to here */
	uint64_t sync_target;	/* what the sync in flight covers */
};

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
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
	hex_encode(rnd, sizeof(rnd), hex);
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
 * Write all of iov, or nothing: on failure truncate back to w->offset.
 * Keeps errno in w->err. iov is consumed (advanced over what was written).
 */
static int
write_whole(struct recwriter *w, struct iovec *iov, int iovcnt)
{
	size_t total = 0, done = 0;
	ssize_t n;
	int i;

	if (w->broken)
		return (BERR_SYS);
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	while (done < total) {
		n = writev(w->fd, iov, iovcnt);
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
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	w->offset += total;
	return (0);
}

/* out = SHA256(w->head || parts): the chain step of recfmt_chain_step(). */
static int
chain_next(struct recwriter *w, const struct iovec *parts, int nparts,
    uint8_t out[REC_HASH_LEN])
{
	unsigned int mdlen = 0;
	int i;

	if (EVP_DigestInit_ex(w->mdctx, w->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(w->mdctx, w->head, REC_HASH_LEN) != 1)
		return (BERR_CRYPTO);
	for (i = 0; i < nparts; i++)
		if (parts[i].iov_len > 0 && EVP_DigestUpdate(w->mdctx,
		    parts[i].iov_base, parts[i].iov_len) != 1)
			return (BERR_CRYPTO);
	if (EVP_DigestFinal_ex(w->mdctx, out, &mdlen) != 1 ||
	    mdlen != REC_HASH_LEN)
		return (BERR_CRYPTO);
	return (0);
}

/*
 * Write one frame (after prefix bytes, if any: the magic line) in a single
 * writev, then advance the chain. type and len are already checked.
 */
static int
emit(struct recwriter *w, const void *prefix, size_t prefixlen, int type,
    uint32_t channel, const void *payload, size_t len, uint64_t t)
{
	struct iovec iov[EMIT_IOV_MAX];
	uint8_t hd[FRAME_HEAD_LEN], h[REC_HASH_LEN];
	int n = 0, r;

	if (type < REC_TYPE_MIN || type > REC_TYPE_MAX)
		return (BERR_INVAL);
	if (len > REC_MAX_STORED)
		return (BERR_LIMIT);
	put_be32(hd, (uint32_t)(REC_FRAME_FIXED + len));
	hd[4] = (uint8_t)type;
	put_be64(hd + 5, w->seq);
	put_be64(hd + 13, t);
	put_be32(hd + 21, channel);
	put_be32(hd + 25, (uint32_t)len);
	if (prefixlen > 0) {
		iov[n].iov_base = (void *)prefix;
		iov[n++].iov_len = prefixlen;
	}
	iov[n].iov_base = hd;
	iov[n++].iov_len = sizeof(hd);
	iov[n].iov_base = (void *)payload;
	iov[n++].iov_len = len;
	/* the canonical bytes: head and payload, without the prefix */
	if ((r = chain_next(w, iov + (prefixlen > 0), 2, h)) != 0)
		return (r);
	iov[n].iov_base = h;
	iov[n++].iov_len = sizeof(h);
	if ((r = write_whole(w, iov, n)) != 0)
		return (r);
	memcpy(w->head, h, sizeof(h));
	w->seq++;
	w->last_time = t;
	return (0);
}

/*
 * Build a CHECKPOINT or SEAL: body (fields before the head) + head + a
 * signature over the context and the canonical frame up to the signature.
 */
static int
emit_signed(struct recwriter *w, int type, const struct buf *body,
    uint64_t t)
{
	struct buf *pl = NULL, *msg = NULL, *canon = NULL;
	struct rec_frame f;
	uint8_t sig[REC_SIG_LEN], tmp[1024];
	size_t sigoff, n;
	int r;

	memset(sig, 0, sizeof(sig));
	if ((pl = buf_new(sizeof(tmp))) == NULL ||
	    (msg = buf_new(2048)) == NULL ||
	    (canon = buf_new(2048)) == NULL) {
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
	if ((r = recfmt_frame_encode(canon, &f)) != 0 ||
	    (r = recfmt_signed_message(msg, type, buf_ptr(canon),
	    buf_len(canon))) != 0 ||
	    (r = reckey_sign(w->key, buf_ptr(msg), buf_len(msg), sig)) != 0)
		goto out;
	/* the payload again, with the signature in place (pl's size is
	 * capped at sizeof(tmp)) */
	n = buf_len(pl);
	memcpy(tmp, buf_ptr(pl), n);
	memcpy(tmp + sigoff, sig, sizeof(sig));
	if ((r = emit(w, NULL, 0, type, REC_CHANNEL_RECORDER, tmp, n, t)) == 0)
		w->signed_off = w->offset;
 out:
	buf_free(pl);
	buf_free(msg);
	buf_free(canon);
	return (r);
}

/* The caller's thread syncs (no deferred syncing): everything written so
 * far becomes durable, or the recording is failed. */
static int
sync_now(struct recwriter *w)
{
	if (fdatasync(w->fd) != 0) {
		w->err = errno;
		w->sync_failed = 1;
		return (BERR_SYS);
	}
	w->synced_off = w->signed_off;
	return (0);
}

static void
run_add(struct recwriter *w, size_t len, uint64_t t)
{
	if (w->run_frames == 0)
		w->run_first = t;
	w->run_frames++;
	w->run_bytes += len;
}

/* Format 1 (prefix: the magic line) or 2 (the magic line and the key
 * block, file_key set). */
static int
writer_open(int fd, const struct reckey *key, const struct rec_hdr *hdr,
    const void *prefix, size_t prefixlen, const uint8_t *file_key,
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
	if ((w->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (w->mdctx = EVP_MD_CTX_new()) == NULL) {
		r = BERR_CRYPTO;
		goto out;
	}
	if ((pl = buf_new(REC_MAX_PAYLOAD)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if (file_key != NULL) {
		if ((w->sealed_buf = malloc(REC_MAX_STORED)) == NULL) {
			r = BERR_NOMEM;
			goto out;
		}
		if ((r = age_payload_new(file_key, &w->enc)) != 0)
			goto out;
	}
	if ((r = recfmt_chain_seed(sid, w->head)) != 0 ||
	    (r = recfmt_hdr_encode(hdr, pl)) != 0)
		goto out;
	/* magic and HEADER go out in one write: a file never holds one
	 * without the other */
	w->base = file_key != NULL ? prefixlen : 0;
	if ((r = emit(w, prefix, prefixlen, REC_HEADER,
	    REC_CHANNEL_RECORDER, buf_ptr(pl), buf_len(pl), 0)) != 0)
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
recwriter_open(int fd, const struct reckey *key, const struct rec_hdr *hdr,
    struct recwriter **out)
{
	return (writer_open(fd, key, hdr, REC_MAGIC, REC_MAGIC_LEN, NULL,
	    out));
}

int
recwriter_open_v2(int fd, const struct reckey *key,
    const struct rec_hdr *hdr, const uint8_t *keyblock, size_t kblen,
    const uint8_t file_key[16], struct recwriter **out)
{
	uint8_t *prefix;
	int r;

	*out = NULL;
	if ((prefix = malloc(REC_MAGIC_LEN + kblen)) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	memcpy(prefix, REC_MAGIC_V2, REC_MAGIC_LEN);
	memcpy(prefix + REC_MAGIC_LEN, keyblock, kblen);
	r = writer_open(fd, key, hdr, prefix, REC_MAGIC_LEN + kblen,
	    file_key, out);
	free(prefix);
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
	return (w->defer_sync ? 0 : sync_now(w));
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
	const void *stored = payload;
	size_t slen = len;
	int r;

	if (w->sealed || type == REC_HEADER || type == REC_CHECKPOINT ||
	    type == REC_SEAL || type < REC_TYPE_MIN || type > REC_TYPE_MAX)
		return (BERR_INVAL);
	if (len > REC_MAX_PAYLOAD)
		return (BERR_LIMIT);
	if (now_us < w->last_time)
		now_us = w->last_time;
	if (w->enc != NULL) {
		/* sealed before anything is written; the run counts what
		 * is on disk, as the verifier sees it */
		slen = age_payload_sealed_len(len);
		if ((r = age_payload_seal(w->enc, payload, len,
		    w->sealed_buf)) != 0)
			return (r);
		stored = w->sealed_buf;
	}
	if (w->run_frames > 0 &&
	    (now_us - w->run_first >= REC_CKPT_INTERVAL_US ||
	    w->run_bytes + slen > REC_CKPT_BYTES) &&
	    (r = recwriter_checkpoint(w, now_us)) != 0)
		return (r);
	if ((r = emit(w, NULL, 0, type, channel, stored, slen, now_us)) != 0)
		return (r);
	run_add(w, slen, now_us);
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
	size_t n = strlen(reason);
	int r;

	/* the reason is a clean string (a verifier refuses anything else) */
	if (w->sealed || n > REC_REASON_MAX || !text_is_clean(reason, n))
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
	    (r = buf_put_u64(body, w->offset - w->base)) != 0 ||
	    (r = emit_signed(w, REC_SEAL, body, now_us)) != 0)
		goto out;
	w->sealed = 1;
	w->run_frames = w->run_bytes = 0;
	if (w->defer_sync)
		goto out;
	if ((r = sync_now(w)) != 0)
		goto out;
	(void)fchmod(w->fd, 0440);
 out:
	buf_free(body);
	return (r);
}

void
recwriter_defer_sync(struct recwriter *w)
{
	w->defer_sync = 1;
}

int
recwriter_sync_start(struct recwriter *w, int *fdp)
{
	*fdp = -1;
	if (!w->defer_sync || w->syncing || w->signed_off <= w->synced_off)
		return (0);
	w->syncing = 1;
	w->sync_target = w->signed_off;
	*fdp = w->fd;
	return (1);
}

int
recwriter_sync_done(struct recwriter *w, int err)
{
	if (!w->syncing)
		return (BERR_INVAL);
	w->syncing = 0;
	if (err != 0) {
		w->err = err;
		w->sync_failed = 1;
		return (BERR_SYS);
	}
	/* fdatasync covers everything written before it started, at least
	 * the target; a later checkpoint waits for its own sync */
	w->synced_off = w->sync_target;
	if (recwriter_durable(w))
		(void)fchmod(w->fd, 0440);
	return (0);
}

int
recwriter_sync_behind(const struct recwriter *w)
{
	return (w->syncing && w->signed_off > w->sync_target);
}

int
recwriter_sync_busy(const struct recwriter *w)
{
	return (w->syncing);
}

int
recwriter_durable(const struct recwriter *w)
{
	return (w->sealed && !w->sync_failed && w->synced_off >= w->offset);
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
	EVP_MD_CTX_free(w->mdctx);
	EVP_MD_free(w->sha256);
	age_payload_free(w->enc);
	if (w->sealed_buf != NULL)
		OPENSSL_clear_free(w->sealed_buf, REC_MAX_STORED);
	free(w);
}
