/*
 * store_row.c - setting one member of a row struct by its column
 * descriptor (store_row.h), for the two readers of rows: the SQLite
 * backend's mapper and the store actor's call wire.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_row.h"

void
sq_col_set(const struct sq_col *c, void *row, const char *t, int64_t v)
{
	char *p = (char *)row + c->off;

	switch (c->type) {
	case SQC_TEXT:
		snprintf(p, c->len, "%s", t != NULL ? t : "");
		break;
	case SQC_TEXTP:
		*(const char **)(void *)p = t;
		break;
	case SQC_I64:
		*(int64_t *)(void *)p = v;
		break;
	case SQC_INT:
		*(int *)(void *)p = (int)v;
		break;
	case SQC_TIME:
		*(time_t *)(void *)p = (time_t)v;
		break;
	}
}
