/*
 * mmq.c - the bounded FIFO of monitor messages (mmq.h): a ring of
 * MMQ_MAX items that owns its bodies and descriptors while they are
 * queued.
 */
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "mmq.h"

void
mmq_init(struct mmq *q)
{
	q->head = q->n = 0;
}

int
mmq_push(struct mmq *q, int type, struct buf *body, int fd)
{
	struct mmq_item *it;

	if (q->n >= MMQ_MAX)
		return (BERR_LIMIT);
	it = &q->it[(q->head + q->n) % MMQ_MAX];
	it->type = type;
	it->body = body;
	it->fd = fd;
	q->n++;
	return (0);
}

const struct mmq_item *
mmq_peek(const struct mmq *q)
{
	return (q->n > 0 ? &q->it[q->head] : NULL);
}

int
mmq_pop(struct mmq *q, struct mmq_item *out)
{
	if (q->n == 0)
		return (0);
	*out = q->it[q->head];
	q->head = (q->head + 1) % MMQ_MAX;
	q->n--;
	return (1);
}

unsigned
mmq_len(const struct mmq *q)
{
	return (q->n);
}

void
mmq_clear(struct mmq *q)
{
	struct mmq_item it;

	while (mmq_pop(q, &it)) {
		buf_free(it.body);
		if (it.fd != -1)
			close(it.fd);
	}
}
