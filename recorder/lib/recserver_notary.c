/*
 * recserver_notary.c - bastion-recorder's NOTARIZE: the auditor console's
 * export asks the recorder to sign an evidence bundle's MANIFEST, and the
 * recorder signs only once recnotary_check() found the hashes it can check
 * from its own files right (recnotary.h, docs/AUDIT.md section 7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "recbundle.h"
#include "reckey.h"
#include "recnotary.h"
#include "recproto.h"
#include "recserver_int.h"

/*
 * NOTARIZE (recbundle.h): sign an evidence bundle's MANIFEST once the
 * hashes this recorder can check agree with its own files. The check
 * reads a whole recording, so it runs on libuv's thread pool, one at a
 * time (a second request is told to retry: the pool also runs the
 * checkpoint syncs every live session waits for). The key is used on the
 * loop thread only. The job counts as a handle of its connection, which
 * is not freed before the job is done.
 */
struct notary {
	uv_work_t work;
	struct conn *c;
	char *recid;
	uint8_t *manifest;
	size_t mlen;
	uint64_t chain_seq;
	int r;
	char why[1024];
};

static void
notary_free(struct notary *nj)
{
	if (nj == NULL)
		return;
	FREE_ALL(nj->recid, nj->manifest, nj);
}

/* On the thread pool: read only what does not change while we run. */
static void
notary_work_cb(uv_work_t *w)
{
	struct notary *nj = w->data;
	const struct recserver *srv = nj->c->srv;

	nj->r = recnotary_check(srv->recdir, srv->chaindir,
	    srv->pub_pem, nj->recid, nj->manifest, nj->mlen, nj->chain_seq,
	    nj->why, sizeof(nj->why));
}

static int
notary_sign(struct conn *c, const struct notary *nj)
{
	uint8_t sig[REC_SIG_LEN], *msg = NULL;
	struct buf *b = NULL;
	size_t len;
	int r;

	if ((r = recbundle_sig_message(nj->manifest, nj->mlen, &msg,
	    &len)) == 0 && (r = reckey_sign(c->srv->key, msg, len, sig)) == 0) {
		if ((b = buf_new(RECPROTO_REPLY_MAX)) == NULL)
			r = BERR_NOMEM;
		else if ((r = recproto_put_signature(b, sig)) == 0)
			r = recserver_conn_send(c, b);
	}
	buf_free(b);
	free(msg);
	return (r);
}

static void
notary_after_cb(uv_work_t *w, int status)
{
	struct notary *nj = w->data;
	struct conn *c = nj->c;
	char pid[24];
	int r;

	c->srv->notary_busy = 0;
	c->nj = NULL;
	if (c->state == CONN_NOTARY) {	/* else: shut down meanwhile */
		snprintf(pid, sizeof(pid), "%ld", (long)c->pid);
		if ((r = status != 0 ? BERR_INTERNAL : nj->r) == 0 &&
		    (r = notary_sign(c, nj)) != 0)
			snprintf(nj->why, sizeof(nj->why), "cannot sign: %s",
			    berr_str(r));
		if (r == 0) {
			log_info("connection %lu (pid %ld): signed the evidence "
			    "bundle of %s", c->id, (long)c->pid, nj->recid);
			audit_ev(BEV_RECORDING_NOTARIZED, "recording",
			    nj->recid, "pid", pid, NULL);
		} else {
			log_warn("connection %lu (pid %ld): evidence bundle of "
			    "%s not signed: %s", c->id, (long)c->pid, nj->recid,
			    nj->why);
			audit_ev(BEV_RECORDING_NOTARIZE_REFUSED, "recording",
			    nj->recid, "pid", pid, "reason", nj->why, NULL);
			recserver_send_err(c, nj->why);
		}
		recserver_conn_close(c);
	}
	notary_free(nj);
	if (--c->handles == 0)
		recserver_conn_free(c);
}

void
recserver_on_notarize(struct conn *c, struct buf *body)
{
	struct recserver *srv = c->srv;
	struct notary *nj;
	const uint8_t *m;
	struct conn *o;

	if (c->state != CONN_HELLO) {
		recserver_conn_fail(c, "protocol error: NOTARIZE on an open recording");
		return;
	}
	if ((nj = calloc(1, sizeof(*nj))) == NULL) {
		recserver_conn_fail(c, "out of memory");
		return;
	}
	if (recproto_get_notarize(body, &nj->recid, &m, &nj->mlen,
	    &nj->chain_seq) != 0) {
		notary_free(nj);
		recserver_conn_fail(c, "protocol error: malformed NOTARIZE");
		return;
	}
	if ((nj->manifest = malloc(nj->mlen + 1)) == NULL) {
		notary_free(nj);
		recserver_conn_fail(c, "out of memory");
		return;
	}
	memcpy(nj->manifest, m, nj->mlen);
	TAILQ_FOREACH(o, &srv->conns, entry)
		if (o->w != NULL && strcmp(o->sid, nj->recid) == 0 &&
		    (o->state == CONN_OPEN || o->state == CONN_SEALING)) {
			notary_free(nj);
			recserver_conn_fail(c, "the recording is still being written: "
			    "export it once the session has ended");
			return;
		}
	if (srv->notary_busy) {
		notary_free(nj);
		recserver_conn_fail(c, "the recorder is checking another evidence bundle: "
		    "run the export again in a moment");
		return;
	}
	nj->c = c;
	nj->work.data = nj;
	c->nj = nj;
	c->state = CONN_NOTARY;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_timer_stop(&c->timer);
	if (uv_queue_work(&srv->loop, &nj->work, notary_work_cb,
	    notary_after_cb) != 0) {
		c->nj = NULL;
		c->state = CONN_HELLO;
		notary_free(nj);
		recserver_conn_fail(c, "cannot start the check");
		return;
	}
	srv->notary_busy = 1;
	c->handles++;
}
