/*
 * table.h - tables for people: the admin's `requests`, `grants`,
 * `sessions` and `vendors`, the auditor's `recordings`, bastionctl's
 * `report` and `keys`.
 *
 * One way to draw them, so every table behaves the same:
 *
 *   - every cell goes through text_fit() (text.h): what a vendor typed
 *     never reaches a terminal as a control sequence;
 *   - columns line up by display width, not bytes: a Japanese name or
 *     device description (two columns per character) does not push the
 *     rest of its row to the right;
 *   - a line stays within the width asked for (TABLE_WIDTH, under 100
 *     columns, by default): columns that may be cut (not TABLE_KEEP) give
 *     up space, widest first, and their cells are cut with "..." at a
 *     blank where there is one; 0 means no limit (`--wide`);
 *   - the last column is not padded (no trailing blanks) and every row,
 *     the header too, ends with a newline.
 *
 * The caller adds rows in the order it wants them shown (newest first is
 * the house rule: table_sort() helps when the source gives another
 * order).
 */
#ifndef BASTION_TABLE_H
#define BASTION_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_WIDTH	99	/* default line width: under 100 columns */

/* column flags */
#define TABLE_RIGHT	0x01	/* right-aligned (numbers) */
#define TABLE_KEEP	0x02	/* never cut (ids, times, addresses) */
#define TABLE_FREE	0x04	/* free text: cut at a blank if possible */

/* table_sort() flags */
#define TABLE_DESC	0x01	/* largest first */
#define TABLE_NUM	0x02	/* compare as numbers ("9" < "10") */

struct table_col {
	const char *head;	/* column title, shown as given */
	unsigned flags;		/* TABLE_* */
};

struct table;

/* A table with ncols (>= 1) columns described by cols (copied). NULL when
 * out of memory. */
struct table *table_new(const struct table_col *cols, size_t ncols);
/* Free t and its cells; NULL is a no-op. */
void table_free(struct table *t);

/*
 * Add a row of ncols cells (NULL or "" is shown as "-"); each is cleaned
 * (text.h) and copied. 0, or -1 when out of memory (the row is left out).
 */
int table_add(struct table *t, const char *const *cells);
/* Rows added so far. */
size_t table_rows(const struct table *t);
/* Sort the rows by column col (stable; TABLE_DESC, TABLE_NUM). */
void table_sort(struct table *t, size_t col, unsigned flags);

/*
 * Print the header and the rows to f, each line starting with indent
 * (may be NULL), within width columns including the indent (0: no
 * limit). Returns 0, or -1 if f reported an error.
 */
int table_print(const struct table *t, FILE *f, const char *indent,
    size_t width);

/*
 * Print text as a paragraph within width columns (0: one line): the
 * first line starts with first, the others with indent (either may be
 * NULL), lines are broken at blanks (a word longer than a line is cut);
 * cleaned like a cell; ends with a newline.
 */
void table_para(FILE *f, const char *first, const char *indent,
    const char *text, size_t width);

#endif
