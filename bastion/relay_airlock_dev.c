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

/* The next reply of a window of requests from lo on (one fewer under
 * way). 0 or -1 (why: the channel is gone). */
static int
airlock_dev_next(struct sess *S, uint32_t lo, unsigned *inflight,
    struct airlock_reply *rep, char *why, size_t whylen)
{
	if (airlock_dev_wait(S, lo, S->R->sftp->airlock->next_id, rep, why,
	    whylen) != 0)
		return (-1);
	(*inflight)--;
	return (0);
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

/* The read-back's sink: the device's copy hashed. */
static int
airlock_readback(void *arg, uint64_t off, const uint8_t *p, size_t n)
{
	(void)off;
	EVP_DigestUpdate(arg, p, n);
	return (0);
}

static int
airlock_short(uint64_t want, uint64_t got, char *why, size_t whylen)
{
	relay_fmt(why, whylen, "the device's copy is %llu bytes, not %llu",
	    (unsigned long long)got, (unsigned long long)want);
	return (-1);
}

/*
 * Read path from the device whole, at most limit bytes, each chunk to
 * sink in order: 8 READs of AIRLOCK_CHUNK under way, the k-th asking
 * offset k * AIRLOCK_CHUNK (sftp-server answers a regular file whole
 * chunks, in order, then EOF). 0 with *size; 1 when the file is longer
 * than limit; -1 with why (and *status, may be NULL, the device's STATUS
 * code when it refused the OPEN, else SSH_FX_FAILURE).
 */
static int
airlock_fetch(struct sess *S, const char *path, uint64_t limit,
    int (*sink)(void *arg, uint64_t off, const uint8_t *p, size_t n),
    void *arg, uint64_t *size, uint32_t *status, char *why, size_t whylen)
{
	struct relay_airlock *A = S->R->sftp->airlock;
	struct airlock_reply h, rep;
	char scratch[256];
	unsigned inflight = 0;
	uint64_t off = 0, roff = 0, at;
	int asked_all = 0, ended = 0, over = 0, fail = 0;
	uint32_t id, lo;
	struct buf *b;

	*size = 0;
	if (status != NULL)
		*status = SSH_FX_FAILURE;
	b = airlock_req(A, SSH_FXP_OPEN, &id, path, strlen(path));
	if (b != NULL && (buf_put_u32(b, SSH_FXF_READ) != 0 ||
	    buf_put_u32(b, 0) != 0)) {
		buf_free(b);
		b = NULL;
	}
	if (airlock_dev_do(S, b, id, SSH_FXP_HANDLE, "open", &h, why,
	    whylen) != 0) {
		if (status != NULL && h.type == SSH_FXP_STATUS)
			*status = h.status;
		return (-1);
	}
	lo = A->next_id;
	for (;;) {
		/* ask up to one chunk at limit: a byte there is one too many */
		while (inflight < AIRLOCK_WINDOW && !asked_all && !fail) {
			if (airlock_dev_io(S, &h, roff, NULL, AIRLOCK_CHUNK,
			    why, whylen) != 0) {
				fail = 1;
				break;
			}
			inflight++;
			if (roff >= limit)
				asked_all = 1;
			else
				roff += AIRLOCK_CHUNK;
		}
		if (inflight == 0)
			break;
		if (airlock_dev_next(S, lo, &inflight, &rep, why, whylen) != 0)
			return (-1);	/* the channel is gone */
		at = (uint64_t)(rep.id - lo) * AIRLOCK_CHUNK;
		if (fail || ended) {
			/* past the end only EOF may come */
			if (!fail && !(rep.type == SSH_FXP_STATUS &&
			    rep.status == SSH_FX_EOF)) {
				relay_fmt(why, whylen, "the device's file "
				    "changed while it was read");
				fail = 1;
			}
			free(rep.data);
			continue;
		}
		if (at != off)
			relay_fmt(why, whylen, "the device answered the reads "
			    "out of order");
		else if (rep.type == SSH_FXP_STATUS && rep.status ==
		    SSH_FX_EOF) {
			ended = asked_all = 1;
			continue;
		} else if (rep.type != SSH_FXP_DATA || rep.data_len == 0 ||
		    rep.data_len > AIRLOCK_CHUNK)
			relay_fmt(why, whylen, "the device refused a read at "
			    "offset %llu (status %u: %s)",
			    (unsigned long long)off, rep.status, rep.msg);
		else if (rep.data_len > limit - off) {
			over = 1;
			relay_fmt(why, whylen, "the file is larger than %llu "
			    "bytes", (unsigned long long)limit);
		} else if (sink(arg, off, rep.data, rep.data_len) != 0)
			relay_fmt(why, whylen, "the quarantine on the bastion "
			    "is full or failing");
		else {
			off += rep.data_len;
			/* a short chunk is the end: the rest must be EOF */
			if (rep.data_len < AIRLOCK_CHUNK)
				ended = asked_all = 1;
			free(rep.data);
			continue;
		}
		free(rep.data);
		fail = asked_all = 1;
	}
	if (airlock_dev_close(S, &h, scratch, sizeof(scratch)) != 0 &&
	    !fail) {
		relay_fmt(why, whylen, "%s", scratch);
		fail = 1;
	}
	if (over)
		return (1);
	if (fail)
		return (-1);
	if (!ended) {
		relay_fmt(why, whylen, "the device sent no end of the file");
		return (-1);
	}
	*size = off;
	return (0);
}

int
relay_airlock_fetch(struct sess *S, const char *path, uint64_t limit,
    int (*sink)(void *arg, uint64_t off, const uint8_t *p, size_t n),
    void *arg, uint64_t *size, uint32_t *status, char *why, size_t whylen)
{
	return (airlock_fetch(S, path, limit, sink, arg, size, status, why,
	    whylen));
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
	uint64_t off;
	uint32_t id, lo;
	struct buf *b;
	ssize_t got;
	uint64_t got_size = 0;
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
		if (airlock_dev_next(S, lo, &inflight, &rep, why, whylen) != 0)
			return (-1);	/* the channel is gone */
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
	/* read back what the device holds now: exactly af->size bytes */
	return (airlock_fetch(S, af->path, af->size, airlock_readback, md,
	    &got_size, NULL, why, whylen) != 0 ? -1 :
	    got_size != af->size ? airlock_short(af->size, got_size, why,
	    whylen) : 0);
}
