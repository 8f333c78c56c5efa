/*
 * mmq.h - a small bounded FIFO of monitor messages (type, body, at most
 * one descriptor), for the child's link with its monitor
 * (monitor_wrap.c): requests that wait for room on the socket, in the
 * order they were made, and late answers (a forward's connection) read
 * while the child waited for another answer. Fixed size, no allocation
 * but the bodies it is handed.
 */
#ifndef BASTION_MMQ_H
#define BASTION_MMQ_H

#include <stddef.h>

#define MMQ_MAX		64

struct buf;

struct mmq_item {
	int type;
	struct buf *body;		/* owned by the queue while queued */
	int fd;				/* -1 when none */
};

struct mmq {
	struct mmq_item it[MMQ_MAX];
	unsigned head, n;
};

/* An empty queue. */
void mmq_init(struct mmq *q);
/* Append; the queue takes body and fd. 0, or BERR_LIMIT when full (the
 * caller keeps them). */
int mmq_push(struct mmq *q, int type, struct buf *body, int fd);
/* The oldest item, or NULL when empty; it stays queued. */
const struct mmq_item *mmq_peek(const struct mmq *q);
/* Take the oldest: 1 with *out (now the caller's), 0 when empty. */
int mmq_pop(struct mmq *q, struct mmq_item *out);
unsigned mmq_len(const struct mmq *q);
/* Free every body, close every descriptor: empty. */
void mmq_clear(struct mmq *q);

#endif
