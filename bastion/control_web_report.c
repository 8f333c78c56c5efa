/*
 * control_web_report.c - the month's report for an auditor in the web
 * console: "report [--month YYYY-MM] [--json | --csv]" on web.sock runs
 * bastionctl's report (ctl/cmd-report.c, the one reader of the audit chain
 * for the report; it is bastionctl's code, so the worker runs the program
 * beside bastiond rather than a copy of it) with the policy's web.time_zone
 * for the CSV's times. The report is made when its exit status is 0 (all
 * well) or 1 (made, but something needs looking at: the JSON and the CSV
 * say what); an empty answer, or any other status, is a refusal with
 * bastionctl's own words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audverb.h"
#include "control_web.h"
#include "verb.h"

#define WEB_REPORT_WORDS	4	/* --json/--csv, --month M, and one */

int
web_report(const struct web *w, struct verb_ctx *c, int argc, char **argv)
{
	char *extra[12], *buf = NULL;
	FILE *mem, *out = c->out;
	size_t len = 0;
	int n = 0, i, rc;

	if (argc - 1 > WEB_REPORT_WORDS) {
		fprintf(c->err, "report: [--month YYYY-MM] [--json | --csv]\n");
		return (2);
	}
	extra[n++] = "-f";
	extra[n++] = (char *)w->policy_path;
	extra[n++] = "report";
	extra[n++] = "--tz";
	extra[n++] = w->pol->web.time_zone != NULL ?
	    w->pol->web.time_zone : "UTC";
	for (i = 1; i < argc; i++)
		extra[n++] = argv[i];
	extra[n] = NULL;
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		fprintf(c->err, "bastion: out of memory\n");
		return (1);
	}
	c->out = mem;
	rc = audverb_tool_split(c, "bastionctl", extra);
	c->out = out;
	if (fclose(mem) != 0) {
		free(buf);
		return (1);
	}
	if ((rc == 0 || rc == 1) && len > 0) {
		(void)fwrite(buf, 1, len, out);
		rc = 0;
	} else if (rc == 0)
		rc = 1;
	free(buf);
	return (rc);
}
