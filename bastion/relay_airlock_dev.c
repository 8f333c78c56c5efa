/*
 * relay_airlock_dev.c - the import airlock's second half (docs/FILES.md):
 * a file that passed the scan is written to the device by the child
 * itself, through the engineer's SFTP channel to the device (the
 * bastion's own OPEN, WRITE and CLOSE, with ids of its own), then read
 * back (OPEN, READ, CLOSE) and hashed, so that relay_airlock.c can
 * compare the device's copy with what was scanned before it answers the
 * engineer's CLOSE. Synchronous: the engineer waits for that answer
 * anyway; replies to the engineer's other requests still under way at
 * the device are relayed as they arrive (sftp_from_device). 8 requests
 * of 32 KiB are kept under way each way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bclock.h"
#include "buf.h"
#include "err.h"
#include "relay.h"
#include "relay_airlock_int.h"
#include "relay_sftp_int.h"
#include "sftp.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define AIRLOCK_CHUNK		32768		/* WRITE and READ to the device */
#define AIRLOCK_WINDOW		8		/* of them under way (8 x 32 KiB
						   fit the queue to the device) */
#define AIRLOCK_DEVICE_MS	30000		/* the device, per reply */

/* A device reply to one of the airlock's requests, copied out. */
struct airlock_reply {
	uint32_t id;
	uint8_t type;
	uint32_t status;
	char msg[256];
	uint8_t handle[SFTP_MAX_HANDLE];
	size_t hlen;
	uint8_t *data;			/* DATA: malloc'd */
	size_t data_len;
};


/* ---- the device, synchronously ------------------------------------------ */

/*
 * Wait for the device's reply to one of the airlock's requests with an id
 * in [lo, hi) (queued requests are written meanwhile); other replies go
 * on as the relay handles them. 0 with *rep (its id in rep->id), or -1
 * with why (the device, the channel or the recording failed).
 */
static int
airlock_dev_wait(struct sess *S, uint32_t lo, uint32_t hi,
    struct airlock_reply *rep, char *why, size_t whylen)
{
	struct relay_sftp *F = S->R->sftp;
	int64_t start = bclock_mono_ms(NULL);
	uint8_t chunk[32768];
	const uint8_t *pkt;
	struct sftp_msg m;
	char pwhy[256];
	size_t len;
	int r, n;

	memset(rep, 0, sizeof(*rep));
	for (;;) {
		if (sftp_q_flush(S->dch, &F->to_dev) < 0) {
			relay_fmt(why, whylen, "the device's channel closed");
			return (-1);
		}
		while ((r = sftp_reasm_next(&F->from_d, 1, &pkt, &len, &m,
		    pwhy, sizeof(pwhy))) != 0) {
			if (r < 0) {
				relay_fmt(why, whylen, "a malformed packet "
				    "from the device (%s)", pwhy);
				sftp_malformed(S, 1, pwhy);
				return (-1);
			}
			if (m.type == SSH_FXP_VERSION || m.id - lo >= hi - lo) {
				if (sftp_from_device(S, pkt, len, &m) != 0) {
					relay_fmt(why, whylen, "the recording "
					    "failed");
					return (-1);
				}
				continue;
			}
			rep->id = m.id;
			rep->type = m.type;
			rep->status = m.status;
			relay_fmt(rep->msg, sizeof(rep->msg), "%.*s",
			    (int)(m.msg_len > 200 ? 200 : m.msg_len),
			    m.msg != NULL ? (const char *)m.msg : "");
			if (m.type == SSH_FXP_HANDLE) {
				memcpy(rep->handle, m.handle, m.handle_len);
				rep->hlen = m.handle_len;
			}
			if (m.type == SSH_FXP_DATA && m.data_len > 0) {
				if ((rep->data = malloc(m.data_len)) == NULL) {
					relay_fmt(why, whylen, "out of memory");
					return (-1);
				}
				memcpy(rep->data, m.data, m.data_len);
				rep->data_len = m.data_len;
			}
			return (0);
		}
		if (bclock_mono_ms(NULL) - start > AIRLOCK_DEVICE_MS) {
			relay_fmt(why, whylen, "the device did not answer "
			    "within %d s", AIRLOCK_DEVICE_MS / 1000);
			return (-1);
		}
		n = ssh_channel_read_timeout(S->dch, chunk, sizeof(chunk), 0,
		    200);
		if (n == SSH_ERROR || (n == 0 && (ssh_channel_is_eof(S->dch) ||
		    !ssh_channel_is_open(S->dch)))) {
			relay_fmt(why, whylen, "the device's channel closed");
			return (-1);
		}
		if (n > 0 && (r = sftp_reasm_put(&F->from_d, chunk,
		    (size_t)n)) != 0) {
			relay_fmt(why, whylen, "a malformed packet from the "
			    "device");
			sftp_malformed(S, 1, berr_str(r));
			return (-1);
		}
	}
}

/* Queue body (a request of ours, type first) to the device. 0 or -1. */
static int
airlock_dev_send(struct sess *S, const struct buf *body, char *why,
    size_t whylen)
{
	if (relay_airlock_frame(&S->R->sftp->to_dev, body) != 0) {
		relay_fmt(why, whylen, "out of memory");
		return (-1);
	}
	return (0);
}

/* Send body and wait for the reply to id. 0 or -1 (why). */
static int
airlock_dev_call(struct sess *S, const struct buf *body, uint32_t id,
    struct airlock_reply *rep, char *why, size_t whylen)
{
	memset(rep, 0, sizeof(*rep));
	if (airlock_dev_send(S, body, why, whylen) != 0)
		return (-1);
	return (airlock_dev_wait(S, id, id + 1, rep, why, whylen));
}

/* A request of ours: type, id, a string (path or handle). */
static struct buf *
airlock_req(struct relay_airlock *A, uint8_t type, uint32_t *id,
    const void *s, size_t slen)
{
	struct buf *b = buf_new(SFTP_MAX_PACKET);

	*id = A->next_id++;
	if (b == NULL || buf_put_u8(b, type) != 0 ||
	    buf_put_u32(b, *id) != 0 || buf_put_string(b, s, slen) != 0) {
		buf_free(b);
		return (NULL);
	}
	return (b);
}

/* Ask the device; a STATUS other than OK (or a reply of another type
 * than want) is a failure with the device's words. 0 or -1 (why). */
static int
airlock_dev_do(struct sess *S, struct buf *b, uint32_t id, uint8_t want,
    const char *what, struct airlock_reply *rep, char *why, size_t whylen)
{
	int r;

	if (b == NULL) {
		relay_fmt(why, whylen, "out of memory");
		return (-1);
	}
	r = airlock_dev_call(S, b, id, rep, why, whylen);
	buf_free(b);
	if (r != 0)
		return (-1);
	if (rep->type == want && (want != SSH_FXP_STATUS ||
	    rep->status == SSH_FX_OK))
		return (0);
	if (rep->type == SSH_FXP_STATUS)
		relay_fmt(why, whylen, "the device refused the %s (status "
		    "%u: %s)", what, rep->status, rep->msg);
	else
		relay_fmt(why, whylen, "the device answered the %s with %s",
		    what, sftp_type_name(rep->type));
	return (-1);
}

static int
airlock_dev_close(struct sess *S, const struct airlock_reply *h, char *why,
    size_t whylen)
{
	struct relay_airlock *A = S->R->sftp->airlock;
	struct airlock_reply rep;
	uint32_t id;
	struct buf *b = airlock_req(A, SSH_FXP_CLOSE, &id, h->handle, h->hlen);

	return (airlock_dev_do(S, b, id, SSH_FXP_STATUS, "close", &rep, why,
	    whylen));
}

/* Queue a WRITE of data (n bytes) at off on the device's handle h, or
 * with data NULL a READ of n bytes. 0 or -1 (why). */
static int
airlock_dev_io(struct sess *S, const struct airlock_reply *h, uint64_t off,
    const uint8_t *data, size_t n, char *why, size_t whylen)
{
	struct relay_airlock *A = S->R->sftp->airlock;
	struct buf *b;
	uint32_t id;
	int r = -1;

	b = airlock_req(A, data != NULL ? SSH_FXP_WRITE : SSH_FXP_READ, &id,
	    h->handle, h->hlen);
	if (b != NULL && buf_put_u64(b, off) == 0 && (data != NULL ?
	    buf_put_string(b, data, n) : buf_put_u32(b, (uint32_t)n)) == 0)
		r = airlock_dev_send(S, b, why, whylen);
	else
		relay_fmt(why, whylen, "out of memory");
	buf_free(b);
	return (r);
}

int
relay_airlock_place(struct sess *S, struct airlock_file *af, EVP_MD_CTX *md,
    char *why, size_t whylen)
{
	struct relay_airlock *A = S->R->sftp->airlock;
	struct airlock_reply h, rep;
	static uint8_t data[AIRLOCK_CHUNK];
	char scratch_why[256];
	unsigned inflight = 0;
	uint64_t off, roff;
	int asked_eof;
	uint32_t id, lo;
	struct buf *b;
	ssize_t got;
	int fail = 0;

	b = airlock_req(A, SSH_FXP_OPEN, &id, af->path, strlen(af->path));
	if (b != NULL && (buf_put_u32(b, SSH_FXF_WRITE | SSH_FXF_CREAT |
	    SSH_FXF_TRUNC | (af->pflags & SSH_FXF_EXCL)) != 0 ||
	    buf_put_u32(b, 0) != 0)) {
		buf_free(b);
		b = NULL;
	}
	if (airlock_dev_do(S, b, id, SSH_FXP_HANDLE, "open", &h, why,
	    whylen) != 0)
		return (-1);
	/* up to AIRLOCK_WINDOW writes under way (as OpenSSH's sftp keeps
	 * 64): one round trip per chunk would make a large file crawl */
	lo = A->next_id;
	for (off = 0; (off < af->size || inflight > 0) && !fail; ) {
		while (off < af->size && inflight < AIRLOCK_WINDOW) {
			size_t want = af->size - off > AIRLOCK_CHUNK ?
			    AIRLOCK_CHUNK : (size_t)(af->size - off);

			if ((got = pread(af->fd, data, want, (off_t)off)) <=
			    0) {
				relay_fmt(why, whylen, "the quarantined file "
				    "could not be read");
				fail = 1;
				break;
			}
			if (airlock_dev_io(S, &h, off, data, (size_t)got, why,
			    whylen) != 0) {
				fail = 1;
				break;
			}
			inflight++;
			off += (uint64_t)got;
		}
		if (inflight == 0)
			break;
		if (airlock_dev_wait(S, lo, A->next_id, &rep, why,
		    whylen) != 0)
			return (-1);	/* the channel is gone */
		inflight--;
		if (!fail && (rep.type != SSH_FXP_STATUS ||
		    rep.status != SSH_FX_OK)) {
			relay_fmt(why, whylen, "the device refused a write "
			    "(status %u: %s)", rep.status, rep.msg);
			fail = 1;
		}
	}
	/* after a failure: the replies still due, so none goes astray */
	while (inflight > 0 && airlock_dev_wait(S, lo, A->next_id, &rep,
	    scratch_why, sizeof(scratch_why)) == 0)
		inflight--;
	if (fail) {
		char scratch[256];

		(void)airlock_dev_close(S, &h, scratch, sizeof(scratch));
		return (-1);
	}
	if (airlock_dev_close(S, &h, why, whylen) != 0)
		return (-1);
	/* read back what the device holds now */
	b = airlock_req(A, SSH_FXP_OPEN, &id, af->path, strlen(af->path));
	if (b != NULL && (buf_put_u32(b, SSH_FXF_READ) != 0 ||
	    buf_put_u32(b, 0) != 0)) {
		buf_free(b);
		b = NULL;
	}
	if (airlock_dev_do(S, b, id, SSH_FXP_HANDLE, "read-back open", &h,
	    why, whylen) != 0)
		return (-1);
	/* READs under way as the writes were: the k-th asks offset k *
	 * AIRLOCK_CHUNK, the last one past the end (EOF: nothing more);
	 * sftp-server answers in order, and a regular file reads whole */
	lo = A->next_id;
	inflight = 0;
	for (off = 0, roff = 0, asked_eof = 0; !fail; ) {
		uint64_t at;

		while (inflight < AIRLOCK_WINDOW && !asked_eof) {
			if (airlock_dev_io(S, &h, roff, NULL, AIRLOCK_CHUNK,
			    why, whylen) != 0) {
				fail = 1;
				break;
			}
			inflight++;
			if (roff >= af->size)
				asked_eof = 1;
			else
				roff += AIRLOCK_CHUNK;
		}
		if (inflight == 0)
			break;
		if (airlock_dev_wait(S, lo, A->next_id, &rep, why,
		    whylen) != 0)
			return (-1);
		inflight--;
		if (fail) {
			free(rep.data);
			continue;
		}
		at = (uint64_t)(rep.id - lo) * AIRLOCK_CHUNK;
		if (at >= af->size && off == af->size) {
			/* the READ past the end: EOF, or a longer copy */
			if (rep.type == SSH_FXP_STATUS &&
			    rep.status == SSH_FX_EOF)
				break;
			relay_fmt(why, whylen, "the device's copy is longer "
			    "than the file");
		} else if (at != off)
			relay_fmt(why, whylen, "the device answered the "
			    "read-back out of order");
		else if (rep.type != SSH_FXP_DATA || rep.data_len !=
		    (af->size - off > AIRLOCK_CHUNK ? AIRLOCK_CHUNK :
		    af->size - off))
			relay_fmt(why, whylen, "the device's copy is not the "
			    "file (%s at offset %llu)", rep.type ==
			    SSH_FXP_DATA ? "a short read" : "a failed read",
			    (unsigned long long)off);
		else {
			EVP_DigestUpdate(md, rep.data, rep.data_len);
			off += rep.data_len;
			free(rep.data);
			continue;
		}
		free(rep.data);
		fail = 1;
	}
	while (inflight > 0 && airlock_dev_wait(S, lo, A->next_id, &rep,
	    scratch_why, sizeof(scratch_why)) == 0) {
		free(rep.data);
		inflight--;
	}
	if (!fail && off != af->size) {
		relay_fmt(why, whylen, "the device's copy is %llu bytes, not "
		    "%llu", (unsigned long long)off,
		    (unsigned long long)af->size);
		fail = 1;
	}
	{
		char scratch[256];

		if (airlock_dev_close(S, &h, scratch, sizeof(scratch)) != 0 &&
		    !fail) {
			relay_fmt(why, whylen, "%s", scratch);
			fail = 1;
		}
	}
	return (fail ? -1 : 0);
}
