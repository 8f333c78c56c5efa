/*
 * recverify.c - walk a recording and prove it (see recverify.h).
 *
 * One pass, frame by frame, stopping at the first problem so the report can
 * name it. Each frame is checked in the order that gives the most precise
 * reason: shape, sequence number, stored chain hash (catches any edit that
 * did not bother to recompute hashes, pinpointing the frame), time order,
 * payload schema, then, for CHECKPOINT and SEAL, the Ed25519 signature
 * (catches edits that did recompute the hashes). A recording whose frames
 * all check out is OK if it ends with a SEAL and UNSEALED otherwise.
 *
 * Format 2 (recenc.h) is checked with the same public key and no secret:
 * the chain and signatures cover the sealed payloads as written; an
 * encrypted payload is checked for a length an age payload can have (its
 * clear length feeds the seal's counts); the key block must parse and be
 * the one the HEADER names (keys_sha256) or reach it through rewraps the
 * recorder key signed; and the HEADER's "format" must match the magic line
 * either way, so a file cannot be passed off as the other version.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "age.h"
#include "buf.h"
#include "err.h"
#include "recenc.h"
#include "reckey.h"
#include "recreader.h"
#include "recverify.h"
#include "text.h"

struct vstate {
	struct recverify_report *rep;
	const struct reckey *pub;
	uint8_t head[REC_HASH_LEN];
	uint64_t next_seq;
	uint64_t last_time;
	uint64_t run_frames, run_first, run_bytes;
	int version;
	uint64_t base;			/* offset of frame 0 */
	uint64_t seal_base;		/* what the SEAL's offset counts
					   from: format 2 frame 0, format 1
					   the file's start */
	struct recenc_keyblock *kb;	/* format 2 */
};

static int
fail(struct vstate *v, int verdict, uint64_t off, int is_frame,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct vstate *v, int verdict, uint64_t off, int is_frame,
    const char *fmt, ...)
{
	va_list ap;

	v->rep->verdict = verdict;
	v->rep->bad_seq = v->next_seq;
	v->rep->bad_offset = off;
	v->rep->bad_frame = is_frame;
	va_start(ap, fmt);
	vsnprintf(v->rep->why, sizeof(v->rep->why), fmt, ap);
	va_end(ap);
	return (verdict);
}

/* Check a CHECKPOINT/SEAL signature and the head it repeats. */
static int
check_signed(struct vstate *v, const struct rec_frame *f,
    const struct rec_payload *pl, const uint8_t *canon, size_t canon_len,
    uint64_t off)
{
	char fp[RECKEY_FP_LEN];
	struct buf *msg;
	int r;

	if (memcmp(pl->head, v->head, REC_HASH_LEN) != 0)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "%s names a chain head that is not the chain's",
		    recfmt_type_name(f->type)));
	if ((msg = buf_new(canon_len + 64)) == NULL)
		return (fail(v, RECVERIFY_ERROR, off, 1, "out of memory"));
	r = recfmt_signed_message(msg, f->type, canon, canon_len);
	if (r == 0)
		r = reckey_verify(v->pub, buf_ptr(msg), buf_len(msg), pl->sig);
	buf_free(msg);
	if (r != 0) {
		reckey_fingerprint(v->pub, fp);
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "%s signature does not verify with key %s: frames "
		    "%llu..%llu were altered (or signed by another key)",
		    recfmt_type_name(f->type), fp,
		    (unsigned long long)(v->rep->checkpoints == 0 ? 0 :
		    v->rep->last_signed_seq + 1), (unsigned long long)f->seq));
	}
	return (0);
}

/* The recorder's checkpoint rule (recwriter.c), checked from the reader's
 * side: an unsigned run never spans a full interval or exceeds the byte
 * budget. A run that does was stretched by inserting frames or by removing
 * a checkpoint. */
static int
check_run(struct vstate *v, const struct rec_frame *f, uint64_t off)
{
	if (v->run_frames > 0 &&
	    (f->time_us - v->run_first >= REC_CKPT_INTERVAL_US ||
	    v->run_bytes + f->len > REC_CKPT_BYTES))
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "no checkpoint for %llu frames spanning %llu ms: the "
		    "recorder signs at least every %llu ms and %u bytes, so "
		    "frames were inserted or a checkpoint removed",
		    (unsigned long long)v->run_frames + 1,
		    (unsigned long long)((f->time_us - v->run_first) / 1000),
		    (unsigned long long)(REC_CKPT_INTERVAL_US / 1000),
		    (unsigned)REC_CKPT_BYTES));
	if (v->run_frames == 0)
		v->run_first = f->time_us;
	v->run_frames++;
	v->run_bytes += f->len;
	return (0);
}

static int
check_header(struct vstate *v, const struct rec_frame *f, uint64_t off)
{
	const char *sid;
	int r;

	if (f->type != REC_HEADER)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "the first frame is %s, not HEADER",
		    recfmt_type_name(f->type)));
	if ((r = recfmt_hdr_decode(f->payload, f->len, &v->rep->hdr)) != 0)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "HEADER is malformed (%s)", berr_str(r)));
	if ((sid = recfmt_hdr_get(&v->rep->hdr, "session")) == NULL ||
	    !recfmt_session_id_valid(sid))
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "HEADER has no valid session id"));
	if (recfmt_chain_seed(sid, v->head) != 0)
		return (fail(v, RECVERIFY_ERROR, off, 1, "hash failure"));
	return (0);
}

/* After the HEADER's hash checked out: the format it names is the file's,
 * and in format 2 the key block is the recorded one (or a signed rewrap). */
static int
check_format(struct vstate *v, uint64_t off)
{
	const char *fmt = recfmt_hdr_get(&v->rep->hdr, "format");
	char why[256];

	if ((v->version == 2) != (fmt != NULL && strcmp(fmt, "2") == 0) ||
	    (fmt != NULL && strcmp(fmt, "2") != 0))
		return (fail(v, RECVERIFY_ALTERED, off, 1, "the HEADER says "
		    "format %s but the file starts as format %d: the magic "
		    "line was altered", fmt != NULL ? "2" : "1", v->version));
	if (v->version != 2)
		return (0);
	if (recenc_keyblock_check(v->kb, &v->rep->hdr, v->pub, why,
	    sizeof(why)) != 0)
		return (fail(v, RECVERIFY_ALTERED, REC_MAGIC_LEN, 0, "%s",
		    why));
	return (0);
}

/* Format 2: the payload of an encrypted type is sealed; only its length
 * can be checked without the key. Its clear length goes to *plen. */
static int
check_sealed(struct vstate *v, const struct rec_frame *f, uint64_t off,
    size_t *plen)
{
	if (age_payload_plain_len(f->len, plen) != 0 ||
	    *plen > REC_MAX_PAYLOAD || (f->type == REC_FWD_DATA && *plen == 0))
		return (fail(v, RECVERIFY_ALTERED, off, 1, "%s: %zu bytes is "
		    "no length an encrypted payload can have",
		    recfmt_type_name(f->type), f->len));
	return (0);
}

/* After the HEADER's hash checked out: was it recorded with this key? */
static int
check_key(struct vstate *v, uint64_t off)
{
	char fp[RECKEY_FP_LEN], vis[200];
	const char *key;

	if ((key = recfmt_hdr_get(&v->rep->hdr, "recorder_key")) == NULL)
		return (0);
	reckey_fingerprint(v->pub, fp);
	if (strcmp(key, fp) == 0)
		return (0);
	text_clean_buf(vis, sizeof(vis), key, strlen(key), TEXT_ESCAPE |
	    TEXT_ELLIPSIS);
	return (fail(v, RECVERIFY_ALTERED, off, 1,
	    "recorded with key %s but the key given is %s: use the matching "
	    "public key", vis, fp));
}

static int
check_seal(struct vstate *v, const struct rec_frame *f,
    const struct rec_payload *pl, uint64_t off)
{
	struct recverify_report *rep = v->rep;

	if (pl->frames != f->seq || pl->offset != off - v->seal_base ||
	    pl->out_bytes != rep->out_bytes || pl->in_bytes != rep->in_bytes ||
	    pl->fwd_bytes != rep->fwd_bytes)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "SEAL counts (%llu frames, offset %llu, %llu/%llu/%llu "
		    "bytes) do not match the file (%llu, %llu, %llu/%llu/%llu)",
		    (unsigned long long)pl->frames,
		    (unsigned long long)pl->offset,
		    (unsigned long long)pl->out_bytes,
		    (unsigned long long)pl->in_bytes,
		    (unsigned long long)pl->fwd_bytes,
		    (unsigned long long)f->seq, (unsigned long long)off,
		    (unsigned long long)rep->out_bytes,
		    (unsigned long long)rep->in_bytes,
		    (unsigned long long)rep->fwd_bytes));
	rep->sealed = 1;
	rep->end_status = (int)pl->status;
	text_clean_buf(rep->end_reason, sizeof(rep->end_reason), pl->str,
	    pl->str_len, TEXT_ESCAPE | TEXT_ELLIPSIS);
	return (0);
}

/* All checks for one frame that parsed. */
static int
check_frame(struct vstate *v, struct recreader *rd, const struct rec_frame *f)
{
	struct recverify_report *rep = v->rep;
	struct rec_payload pl;
	const uint8_t *canon;
	uint8_t h[REC_HASH_LEN];
	uint64_t off = recreader_offset(rd);
	size_t clen, plen = 0;
	int r, recorder_type, sealed;

	if (rep->sealed)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "data after the SEAL"));
	if (f->seq != v->next_seq)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "frame has seq %llu where %llu was expected: a frame was "
		    "dropped, duplicated or reordered",
		    (unsigned long long)f->seq,
		    (unsigned long long)v->next_seq));
	if (f->seq == 0 && (r = check_header(v, f, off)) != 0)
		return (r);
	if (f->seq != 0 && f->type == REC_HEADER)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "a second HEADER"));
	canon = recreader_canon(rd, &clen);
	if (recfmt_chain_step(v->head, canon, clen, h) != 0)
		return (fail(v, RECVERIFY_ERROR, off, 1, "hash failure"));
	if (memcmp(h, recreader_hash(rd), sizeof(h)) != 0)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "chain hash does not match: this frame (%s) was altered",
		    recfmt_type_name(f->type)));
	if (f->seq == 0 && ((r = check_key(v, off)) != 0 ||
	    (r = check_format(v, off)) != 0))
		return (r);
	if (f->time_us < v->last_time)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "time goes backwards"));
	sealed = v->version == 2 && recfmt_type_encrypted(f->type);
	memset(&pl, 0, sizeof(pl));
	if (sealed) {
		if ((r = check_sealed(v, f, off, &plen)) != 0)
			return (r);
		pl.data_len = f->type == REC_FWD_DATA ? plen - 1 : plen;
	} else if ((r = recfmt_payload_decode(f->type, f->payload, f->len,
	    &pl)) != 0)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "%s payload is malformed (%s)", recfmt_type_name(f->type),
		    berr_str(r)));
	else
		plen = f->len;
	recorder_type = f->type == REC_HEADER || f->type == REC_CHECKPOINT ||
	    f->type == REC_SEAL;
	if (recorder_type && f->channel != REC_CHANNEL_RECORDER)
		return (fail(v, RECVERIFY_ALTERED, off, 1,
		    "%s not on the recorder's channel",
		    recfmt_type_name(f->type)));
	if (f->type == REC_CHECKPOINT || f->type == REC_SEAL) {
		if ((r = check_signed(v, f, &pl, canon, clen, off)) != 0)
			return (r);
		if (f->type == REC_SEAL && (r = check_seal(v, f, &pl, off)) != 0)
			return (r);
		if (f->type == REC_CHECKPOINT)
			rep->checkpoints++;
		rep->last_signed_seq = f->seq;
		rep->verified = f->seq + 1;
		v->run_frames = v->run_bytes = 0;
	} else if ((r = check_run(v, f, off)) != 0)
		return (r);
	switch (f->type) {
	case REC_OUTPUT:
	case REC_STDERR:
		rep->out_bytes += plen;
		break;
	case REC_INPUT:
		rep->in_bytes += plen;
		break;
	case REC_FWD_DATA:
		rep->fwd_bytes += pl.data_len;
		break;
	}
	memcpy(v->head, h, sizeof(h));
	memcpy(rep->head, h, sizeof(h));
	v->next_seq++;
	v->last_time = f->time_us;
	rep->frames++;
	rep->duration_us = f->time_us;
	rep->file_bytes = off + clen + REC_HASH_LEN;
	return (0);
}

static int
parse_keyblock(struct vstate *v, struct recreader *rd)
{
	const uint8_t *p;
	size_t len = 0;
	int r;

	p = recreader_keyblock(rd, &len);
	if ((v->kb = calloc(1, sizeof(*v->kb))) == NULL)
		return (fail(v, RECVERIFY_ERROR, 0, 0, "out of memory"));
	if ((r = recenc_keyblock_parse(p, len, v->kb)) != 0)
		return (fail(v, RECVERIFY_ALTERED, REC_MAGIC_LEN, 0,
		    "the key block is malformed (%s): its age header or "
		    "rewrap list was altered", berr_str(r)));
	v->rep->recipients = v->kb->hdr.nx25519;
	v->rep->rewraps = v->kb->nrewraps;
	return (0);
}

int
recverify_fp(FILE *fp, const struct reckey *pub, struct recverify_report *rep)
{
	struct recreader *rd = NULL;
	struct rec_frame f;
	struct vstate v;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&v, 0, sizeof(v));
	v.rep = rep;
	v.pub = pub;
	if ((r = recreader_open_fp(fp, &rd)) != 0)
		return (fail(&v, RECVERIFY_ERROR, 0, 0, "%s", berr_str(r)));
	if ((r = recreader_magic(rd)) != 0) {
		if (r == BERR_SYS)
			fail(&v, RECVERIFY_ERROR, 0, 0, "read error: %s",
			    strerror(errno));
		else
			fail(&v, RECVERIFY_ALTERED, 0, 0, "%s", r == BERR_FORMAT ?
			    "not a bastion recording (the first line is "
			    "neither \"bastion-rec v1\" nor \"bastion-rec "
			    "v2\")" : "the key block is cut short or over "
			    "its size limit");
		goto out;
	}
	v.version = rep->version = recreader_version(rd);
	v.base = recreader_base(rd);
	v.seal_base = v.version == 2 ? v.base : 0;
	if (v.version == 2 && (r = parse_keyblock(&v, rd)) != 0)
		goto out;
	rep->file_bytes = v.base;
	for (;;) {
		r = recreader_next(rd, &f);
		if (r == BERR_NOTFOUND)
			break;
		if (r == BERR_SYS) {
			fail(&v, RECVERIFY_ERROR, recreader_offset(rd), 1,
			    "read error: %s", strerror(errno));
			goto out;
		}
		if (r == BERR_TRUNC) {
			fail(&v, RECVERIFY_ALTERED, recreader_offset(rd), 1,
			    "the file ends inside this frame: it was truncated "
			    "(or a write was torn by a crash)");
			goto out;
		}
		if (r != 0) {
			fail(&v, RECVERIFY_ALTERED, recreader_offset(rd), 1,
			    "malformed frame (%s)", berr_str(r));
			goto out;
		}
		if (check_frame(&v, rd, &f) != 0)
			goto out;
	}
	if (rep->frames == 0) {
		fail(&v, RECVERIFY_ALTERED, v.base, 1,
		    "the recording has no HEADER frame");
		goto out;
	}
	rep->unverified = rep->frames - rep->verified;
	rep->verdict = rep->sealed ? RECVERIFY_OK : RECVERIFY_UNSEALED;
 out:
	recreader_free(rd);
	free(v.kb);
	return (rep->verdict);
}

int
recverify_file(const char *path, const struct reckey *pub,
    struct recverify_report *rep)
{
	FILE *fp;
	int r;

	if ((fp = fopen(path, "rbe")) == NULL) {
		memset(rep, 0, sizeof(*rep));
		rep->verdict = RECVERIFY_ERROR;
		snprintf(rep->why, sizeof(rep->why), "%s", strerror(errno));
		return (rep->verdict);
	}
	r = recverify_fp(fp, pub, rep);
	fclose(fp);
	return (r);
}

void
recverify_report_clear(struct recverify_report *rep)
{
	recfmt_hdr_clear(&rep->hdr);
}
