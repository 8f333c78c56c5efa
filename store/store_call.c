/*
 * store_call.c - the wire of forwarded state operations (format in
 * store_call.h): encoding and strict decoding driven by a shape and the
 * row structs' column tables (store_row.h), through the bounded buffer of
 * base/buf.h, so that no operation has a hand-written (de)serialiser and
 * no byte of a datagram is indexed by hand.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "store_call.h"
#include "store_wire.h"

static int
call_put_text(struct buf *b, const char *s, size_t n)
{
	int r;

	if (s == NULL)
		return (buf_put_u8(b, STORE_VAL_NULL));
	if (n > STORE_CALL_TEXT_MAX)
		return (BERR_LIMIT);
	if ((r = buf_put_u8(b, STORE_VAL_TEXT)) != 0)
		return (r);
	return (buf_put_string(b, s, n));
}

static int
call_put_int(struct buf *b, int64_t v)
{
	int r;

	if ((r = buf_put_u8(b, STORE_VAL_INT)) != 0)
		return (r);
	return (buf_put_u64(b, (uint64_t)v));
}

/* The columns of one row struct, in table order. */
static int
call_put_row(struct buf *b, const struct sq_map *map, const void *row)
{
	const uint8_t *p;
	const char *t;
	size_t i;
	int r = 0;

	for (i = 0; i < map->ncols && r == 0; i++) {
		p = (const uint8_t *)row + map->cols[i].off;
		switch (map->cols[i].type) {
		case SQC_TEXT:
			t = (const char *)p;
			r = call_put_text(b, t, strnlen(t, map->cols[i].len));
			break;
		case SQC_TEXTP:
			t = *(const char *const *)(const void *)p;
			r = call_put_text(b, t, t != NULL ? strlen(t) : 0);
			break;
		case SQC_I64:
			r = call_put_int(b, *(const int64_t *)(const void *)p);
			break;
		case SQC_INT:
			r = call_put_int(b, *(const int *)(const void *)p);
			break;
		case SQC_TIME:
			r = call_put_int(b, *(const time_t *)(const void *)p);
			break;
		}
	}
	return (r);
}

int
store_call_encode(uint8_t type, uint8_t call, const char *shape,
    const struct store_val *v, const struct sq_map *map, const void *row,
    uint8_t *out, size_t outlen, size_t *len)
{
	struct buf *b;
	int r;

	*len = 0;
	if ((b = store_wire_begin(type, outlen < STORE_CALL_MAX ? outlen :
	    STORE_CALL_MAX)) == NULL)
		return (BERR_NOMEM);
	r = buf_put_u8(b, call);
	for (; *shape != '\0' && r == 0; shape++) {
		if (*shape == 'R') {
			r = map != NULL && row != NULL ?
			    call_put_row(b, map, row) : BERR_INVAL;
			continue;
		}
		if (v->tag == STORE_VAL_INT)
			r = *shape == 'I' ? call_put_int(b, v->i) : BERR_INVAL;
		else if (*shape == 'I' || (*shape == 'T' && v->s == NULL))
			r = BERR_INVAL;
		else
			r = call_put_text(b, v->s, v->s != NULL ?
			    strlen(v->s) : 0);
		v++;
	}
	return (store_wire_end(b, r, out, outlen, len));
}

int
store_call_head(const uint8_t *p, size_t len, uint8_t *type, uint8_t *call)
{
	struct buf *b;
	uint8_t version;
	int r;

	if (len < 3 || len > STORE_CALL_MAX || (b = buf_from(p, len)) == NULL)
		return (BERR_FORMAT);
	r = buf_get_u8(b, &version) != 0 || version != STORE_WIRE_VERSION ||
	    buf_get_u8(b, type) != 0 || buf_get_u8(b, call) != 0 ?
	    BERR_FORMAT : 0;
	buf_free(b);
	return (r);
}

/* One value; texts copied into m's arena. want: 'T', 't' or 'I'. */
static int
call_get_val(struct buf *b, char want, struct store_call_msg *m,
    struct store_val *v)
{
	const uint8_t *p;
	uint64_t u;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (buf_get_u8(b, &v->tag) != 0)
		return (BERR_FORMAT);
	switch (v->tag) {
	case STORE_VAL_NULL:
		return (want == 't' ? 0 : BERR_FORMAT);
	case STORE_VAL_INT:
		if (want != 'I' || buf_get_u64(b, &u) != 0)
			return (BERR_FORMAT);
		v->i = (int64_t)u;
		return (0);
	case STORE_VAL_TEXT:
		if (want == 'I' || buf_get_string_direct(b, &p, &n,
		    STORE_CALL_TEXT_MAX) != 0 || memchr(p, '\0', n) != NULL ||
		    n + 1 > sizeof(m->arena) - m->used)
			return (BERR_FORMAT);
		memcpy(m->arena + m->used, p, n);
		m->arena[m->used + n] = '\0';
		v->s = m->arena + m->used;
		m->used += n + 1;
		return (0);
	default:
		return (BERR_FORMAT);
	}
}

static int
call_get_row(struct buf *b, const struct sq_map *map,
    struct store_call_msg *m, void *row)
{
	const struct sq_col *c;
	struct store_val v;
	size_t i;

	memset(row, 0, map->size);
	for (i = 0; i < map->ncols; i++) {
		c = &map->cols[i];
		if (call_get_val(b, c->type == SQC_TEXTP ? 't' :
		    c->type == SQC_TEXT ? 'T' : 'I', m, &v) != 0 ||
		    (c->type == SQC_TEXT && strlen(v.s) >= c->len) ||
		    (c->type == SQC_INT && (v.i < INT_MIN || v.i > INT_MAX)))
			return (BERR_FORMAT);
		sq_col_set(c, row, v.s, v.i);
	}
	return (0);
}

int
store_call_decode(const uint8_t *p, size_t len, const char *shape,
    const struct sq_map *map, struct store_call_msg *m, void *row)
{
	struct buf *b;
	uint8_t skip;
	int r = 0;

	m->n = m->used = 0;
	if (store_call_head(p, len, &m->type, &m->call) != 0)
		return (BERR_FORMAT);
	if ((b = buf_from(p, len)) == NULL)
		return (BERR_NOMEM);
	(void)buf_get_u8(b, &skip);
	(void)buf_get_u8(b, &skip);
	(void)buf_get_u8(b, &skip);
	for (; *shape != '\0' && r == 0; shape++) {
		if (*shape == 'R')
			r = map != NULL && row != NULL ?
			    call_get_row(b, map, m, row) : BERR_FORMAT;
		else if (m->n == STORE_CALL_VALS)
			r = BERR_FORMAT;
		else
			r = call_get_val(b, *shape, m, &m->v[m->n++]);
	}
	if (r == 0 && buf_len(b) != 0)
		r = BERR_FORMAT;
	buf_free(b);
	return (r != 0 ? BERR_FORMAT : 0);
}

const char *
store_call_done_shape(const struct store_call *c, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "IT%s", c->out);
	for (i = 2; buf[i] != '\0'; i++)
		if (strchr("fndu", buf[i]) != NULL)
			buf[i] = 'I';
	return (buf);
}

void
store_call_outs(const struct store_call *c, const struct store_call_ctx *x,
    struct store_val *v)
{
	const char *o;

	for (o = c->out; *o != '\0'; o++) {
		if (*o == 'R')
			continue;
		v->tag = STORE_VAL_INT;
		v->s = NULL;
		switch (*o) {
		case 'f':
			v->i = x->flag;
			break;
		case 'n':
			v->i = (int64_t)x->n;
			break;
		case 'd':
			v->i = x->id;
			break;
		case 'u':
			v->i = x->u32;
			break;
		default:
			v->tag = STORE_VAL_TEXT;
			v->s = x->text;
		}
		v++;
	}
}

int
store_call_rows(const struct store_call *c)
{
	return (c->map != NULL && strchr(c->in, 'R') == NULL &&
	    strchr(c->out, 'R') == NULL);
}
