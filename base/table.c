/*
 * table.c - tables for people (see table.h).
 *
 * Rows are kept as cleaned copies of their cells; widths are measured in
 * display columns (text_width()) when the table is printed, so the caller
 * never counts bytes. Shrinking takes one column at a time from the widest
 * column that may be cut, which keeps short columns (states, counts)
 * whole and cuts the long free-text ones first.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "table.h"
#include "text.h"

#define TABLE_SEP	2	/* blanks between columns */
#define TABLE_MIN	6	/* a cut column keeps at least this */
#define TABLE_MAX_CELL	4096	/* bytes kept of one cell */

struct table {
	size_t ncols;
	struct table_col *cols;
	char **cells;		/* nrows * ncols, row by row */
	size_t nrows, cap;
	/* table_sort() */
	size_t sort_col;
	unsigned sort_flags;
};

struct table *
table_new(const struct table_col *cols, size_t ncols)
{
	struct table *t;

	if (ncols == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	if ((t->cols = calloc(ncols, sizeof(*t->cols))) == NULL) {
		free(t);
		return (NULL);
	}
	memcpy(t->cols, cols, ncols * sizeof(*cols));
	t->ncols = ncols;
	return (t);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	FREE_ALL(t->cells, t->cols, t);
}

static char *
table_cell_new(const char *s)
{
	size_t len;
	char *c;

	if (s == NULL || *s == '\0')
		s = "-";
	len = strlen(s);
	if (len > TABLE_MAX_CELL)
		len = TABLE_MAX_CELL;
	if ((c = malloc(len + 1)) == NULL)
		return (NULL);
	text_clean_buf(c, len + 1, s, len, 0);
	return (c);
}

int
table_add(struct table *t, const char *const *cells)
{
	char **nc, **row;
	size_t j, cap;

	if (t->nrows == t->cap) {
		cap = t->cap ? 2 * t->cap : 16;
		if ((nc = realloc(t->cells, cap * t->ncols *
		    sizeof(*nc))) == NULL)
			return (-1);
		t->cells = nc;
		t->cap = cap;
	}
	row = t->cells + t->nrows * t->ncols;
	for (j = 0; j < t->ncols; j++)
		if ((row[j] = table_cell_new(cells[j])) == NULL) {
			while (j-- > 0)
				free(row[j]);
			return (-1);
		}
	t->nrows++;
	return (0);
}

size_t
table_rows(const struct table *t)
{
	return (t->nrows);
}

/* Compare two cells as numbers when both are, else as text. */
static int
table_cmp_cells(const char *a, const char *b, unsigned flags)
{
	char *ea, *eb;
	long long x, y;

	if (flags & TABLE_NUM) {
		x = strtoll(a, &ea, 10);
		y = strtoll(b, &eb, 10);
		if (ea != a && eb != b && x != y)
			return (x < y ? -1 : 1);
	}
	return (strcmp(a, b));
}

void
table_sort(struct table *t, size_t col, unsigned flags)
{
	char **tmp;
	size_t i, j, n = t->ncols;
	int c;

	if (col >= n || t->nrows < 2 ||
	    (tmp = malloc(n * sizeof(*tmp))) == NULL)
		return;
	/* insertion sort: stable, and tables are short */
	for (i = 1; i < t->nrows; i++) {
		memcpy(tmp, t->cells + i * n, n * sizeof(*tmp));
		for (j = i; j > 0; j--) {
			c = table_cmp_cells(t->cells[(j - 1) * n + col],
			    tmp[col], flags);
			if ((flags & TABLE_DESC) ? c >= 0 : c <= 0)
				break;
			memcpy(t->cells + j * n, t->cells + (j - 1) * n,
			    n * sizeof(*tmp));
		}
		memcpy(t->cells + j * n, tmp, n * sizeof(*tmp));
	}
	free(tmp);
}

/* The width of each column, shrunk to fit width (0: as wide as need be). */
static void
table_widths(const struct table *t, size_t indent, size_t width, size_t *w)
{
	size_t i, j, total, best, cw, *min;

	for (j = 0; j < t->ncols; j++)
		w[j] = text_width(t->cols[j].head);
	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < t->ncols; j++)
			if ((cw = text_width(t->cells[i * t->ncols + j])) >
			    w[j])
				w[j] = cw;
	if (width == 0 || (min = calloc(t->ncols, sizeof(*min))) == NULL)
		return;
	total = indent + TABLE_SEP * (t->ncols - 1);
	for (j = 0; j < t->ncols; j++) {
		total += w[j];
		min[j] = text_width(t->cols[j].head);
		if (min[j] < TABLE_MIN)
			min[j] = TABLE_MIN;
		if ((t->cols[j].flags & TABLE_KEEP) || min[j] > w[j])
			min[j] = w[j];
	}
	while (total > width) {
		best = t->ncols;
		for (j = 0; j < t->ncols; j++)
			if (w[j] > min[j] && (best == t->ncols ||
			    w[j] > w[best]))
				best = j;
		if (best == t->ncols)
			break;		/* nothing left to give: too wide */
		w[best]--;
		total--;
	}
	free(min);
}

/* One line: cells[0..ncols-1] in widths w. */
static void
table_line(const struct table *t, FILE *f, const char *indent,
    const char *const *cells, const size_t *w)
{
	char cell[TABLE_MAX_CELL + 8];
	size_t j, cw, pad;
	int flags;

	fputs(indent != NULL ? indent : "", f);
	for (j = 0; j < t->ncols; j++) {
		flags = TEXT_ELLIPSIS;
		if (t->cols[j].flags & TABLE_FREE)
			flags |= TEXT_WORD;
		text_fit(cell, sizeof(cell), cells[j], w[j], flags);
		cw = text_width(cell);
		pad = cw < w[j] ? w[j] - cw : 0;
		if (t->cols[j].flags & TABLE_RIGHT)
			fprintf(f, "%*s%s", (int)pad, "", cell);
		else if (j + 1 < t->ncols)
			fprintf(f, "%s%*s", cell, (int)pad, "");
		else
			fputs(cell, f);		/* no trailing blanks */
		if (j + 1 < t->ncols)
			fprintf(f, "%*s", TABLE_SEP, "");
	}
	fputc('\n', f);
}

int
table_print(const struct table *t, FILE *f, const char *indent,
    size_t width)
{
	const char **head;
	size_t *w, i, j;

	if ((w = calloc(t->ncols, sizeof(*w))) == NULL ||
	    (head = calloc(t->ncols, sizeof(*head))) == NULL) {
		free(w);
		return (-1);
	}
	table_widths(t, indent != NULL ? text_width(indent) : 0, width, w);
	for (j = 0; j < t->ncols; j++)
		head[j] = t->cols[j].head;
	table_line(t, f, indent, head, w);
	for (i = 0; i < t->nrows; i++)
		table_line(t, f, indent,
		    (const char *const *)t->cells + i * t->ncols, w);
	free(head);
	free(w);
	return (ferror(f) ? -1 : 0);
}

void
table_para(FILE *f, const char *first, const char *indent, const char *text,
    size_t width)
{
	char *clean, *p, *word, piece[TABLE_MAX_CELL + 8];
	size_t len, col, avail, ww, lead;
	int fresh = 1;

	first = first != NULL ? first : "";
	indent = indent != NULL ? indent : "";
	len = text != NULL ? strlen(text) : 0;
	if ((clean = malloc(len + 1)) == NULL)
		return;
	text_clean_buf(clean, len + 1, text, len, 0);
	fputs(first, f);
	col = lead = text_width(first);
	avail = width > lead ? width - lead : 0;
	for (p = clean; (word = strsep(&p, " ")) != NULL; ) {
		if (*word == '\0')
			continue;
		ww = text_width(word);
		if (width != 0 && !fresh && col + 1 + ww > width) {
			fputc('\n', f);
			fputs(indent, f);
			col = lead = text_width(indent);
			avail = width > lead ? width - lead : 0;
			fresh = 1;
		}
		if (!fresh) {
			fputc(' ', f);
			col++;
		}
		if (width != 0 && ww > avail && avail > 0) {
			/* a word longer than a line: what fits */
			text_fit(piece, sizeof(piece), word, avail,
			    TEXT_ELLIPSIS);
			fputs(piece, f);
			col += text_width(piece);
		} else {
			fputs(word, f);
			col += ww;
		}
		fresh = 0;
	}
	fputc('\n', f);
	free(clean);
}
