/*
 * report_files.h - the monthly report's files section (issue 18, item 6;
 * docs/FILES.md "Work record and declarations"): the files moved through
 * the airlock in the month, per vendor and direction (count, bytes, and
 * how many were refused), from the chain's file.transfer events; and the
 * open file declarations, from the state store, as they stand now. The
 * report (cmd-report.c) adds them as sections of its text and JSON and as
 * two more columns of its CSV; nothing of its existing format changes.
 */
#ifndef BASTION_REPORT_FILES_H
#define BASTION_REPORT_FILES_H

#include <stdio.h>

#include "state.h"

struct report_files;

/*
 * Read the file.transfer events of month ("2026-11") from the chain at
 * path into a new *out (NULL on entry and on failure). 0 or BERR_*.
 */
int report_files_read(const char *path, const char *month,
    struct report_files **out);
/* The open declarations of st (NULL: the store could not be opened, which
 * the sections then say). 0 or BERR_*. */
int report_files_decls(struct report_files *F, struct state *st);
void report_files_free(struct report_files *F);

/* The text sections, after the sessions, within width columns (0: no
 * limit, nothing cut). */
void report_files_text(const struct report_files *F, FILE *f, size_t width);
/* The JSON member ,"files":{...} (with its leading comma). */
void report_files_json(const struct report_files *F, FILE *f);
/* The CSV cells of session sid: its files ("in 2 (300000 bytes); out 1
 * (12 bytes)", "" without) and its declaration from st ("open since
 * ...", "closed: personal=no", "" without). */
void report_files_session(const struct report_files *F, struct state *st,
    const char *sid, char *files, size_t flen, char *decl, size_t dlen);

#endif
