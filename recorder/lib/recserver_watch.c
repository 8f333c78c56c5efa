/*
 * recserver_watch.c - WATCH: the live output of a recording, from the
 * recorder's memory (recproto.h, docs/RECORDING-FORMAT.md section 13.7).
 *
 * An encrypted recording (format 2) cannot be tailed from its file without
 * a key, and the admin console's watch must never decrypt files. The
 * recorder has the clear output in hand anyway, between the worker's FRAME
 * and the encryption of the frame: it copies OUTPUT and STDERR payloads to
 * the recording's watchers as LIVE messages, and keeps the last
 * RECPROTO_WATCH_TAIL bytes in a ring so that a late watcher sees the
 * current screen. Nothing of it touches the disk; the ring is wiped when
 * the recording's connection goes.
 *
 * Only root may watch (the monitors run as root): the other uids allowed
 * to record (the workers' user, which notify_command also runs as) may not
 * read other sessions. A watcher that does not keep up (its reply budget
 * full) is dropped with ERR; the session it watched is not held up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "recproto.h"
#include "recserver_int.h"

/* Send one LIVE message; a watcher that cannot take it is dropped. */
static void
watch_send(struct conn *w, int type, const uint8_t *p, size_t len)
{
	struct buf *b;
	int r = BERR_NOMEM;

	if (w->state != CONN_WATCH)
		return;
	if ((b = buf_new(len + 64)) != NULL &&
	    (r = recproto_put_live(b, type, p, len)) == 0)
		r = recserver_conn_send(w, b);
	buf_free(b);
	if (r != 0) {
		recserver_watch_detach(w);
		recserver_send_err(w, "watch stopped: the watcher does not keep "
		    "up with the session's output");
		recserver_conn_close(w);
	}
}

/* The ring's bytes in order, to w. */
static void
watch_send_tail(struct conn *rec, struct conn *w)
{
	uint8_t tmp[RECPROTO_WATCH_TAIL];
	size_t first;

	if (rec->tail == NULL || rec->tail_len == 0)
		return;
	first = rec->tail_len < RECPROTO_WATCH_TAIL ? 0 : rec->tail_pos;
	memcpy(tmp, rec->tail + first, rec->tail_len - first);
	memcpy(tmp + rec->tail_len - first, rec->tail, first);
	watch_send(w, REC_OUTPUT, tmp, rec->tail_len);
	OPENSSL_cleanse(tmp, sizeof(tmp));
}

void
recserver_on_watch(struct conn *c, struct buf *body)
{
	struct conn *rec;
	char *id = NULL, reason[160];

	if (c->state != CONN_HELLO) {
		recserver_conn_fail(c, "protocol error: WATCH after OPEN");
		return;
	}
	if (c->uid != 0) {
		recserver_conn_fail(c, "only root (the bastion's monitor) may "
		    "watch a recording");
		return;
	}
	if (recproto_get_watch(body, &id) != 0) {
		recserver_conn_fail(c, "protocol error: malformed WATCH");
		return;
	}
	TAILQ_FOREACH(rec, &c->srv->conns, entry)
		if (rec->state == CONN_OPEN && strcmp(rec->sid, id) == 0)
			break;
	if (rec == NULL) {
		snprintf(reason, sizeof(reason), "no live recording %s", id);
		free(id);
		recserver_send_err(c, reason);
		recserver_conn_close(c);
		return;
	}
	free(id);
	uv_timer_stop(&c->timer);	/* the hello timeout */
	c->state = CONN_WATCH;
	c->watching = rec;
	TAILQ_INSERT_TAIL(&rec->watchers, c, wentry);
	log_debug("connection %lu watches session %s", c->id, rec->sid);
	watch_send_tail(rec, c);
}

void
recserver_watch_feed(struct conn *rec, int type, const uint8_t *p,
    size_t len)
{
	struct conn *w, *next;
	const uint8_t *q;
	size_t k, rest;

	if (type != REC_OUTPUT && type != REC_STDERR)
		return;
	if (rec->tail == NULL &&
	    (rec->tail = calloc(1, RECPROTO_WATCH_TAIL)) == NULL)
		return;		/* no tail for late watchers; no harm */
	/* the ring keeps the last RECPROTO_WATCH_TAIL bytes: at most two
	 * copies per frame, whatever its size */
	rest = len > RECPROTO_WATCH_TAIL ? RECPROTO_WATCH_TAIL : len;
	for (q = p + len - rest; rest > 0; rest -= k, q += k) {
		k = RECPROTO_WATCH_TAIL - rec->tail_pos;
		if (k > rest)
			k = rest;
		memcpy(rec->tail + rec->tail_pos, q, k);
		rec->tail_pos = (rec->tail_pos + k) % RECPROTO_WATCH_TAIL;
		rec->tail_len = rec->tail_len + k > RECPROTO_WATCH_TAIL ?
		    RECPROTO_WATCH_TAIL : rec->tail_len + k;
	}
	for (w = TAILQ_FIRST(&rec->watchers); w != NULL; w = next) {
		next = TAILQ_NEXT(w, wentry);
		watch_send(w, type, p, len);
	}
}

void
recserver_watch_end(struct conn *rec, const char *reason)
{
	struct conn *w;
	struct buf *b;

	while ((w = TAILQ_FIRST(&rec->watchers)) != NULL) {
		recserver_watch_detach(w);
		if ((b = buf_new(RECPROTO_REPLY_MAX)) != NULL &&
		    recproto_put_end(b, reason) == 0)
			(void)recserver_conn_send(w, b);
		buf_free(b);
		recserver_conn_close(w);
	}
}

void
recserver_watch_detach(struct conn *c)
{
	if (c->watching != NULL) {
		TAILQ_REMOVE(&c->watching->watchers, c, wentry);
		c->watching = NULL;
	}
	if (c->tail != NULL) {
		OPENSSL_clear_free(c->tail, RECPROTO_WATCH_TAIL);
		c->tail = NULL;
	}
}
