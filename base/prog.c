/*
 * prog.c - the programs' one option loop (see prog.h).
 */
#include "prog.h"

int
prog_usage(const struct prog *p)
{
	p->usage(stderr);
	return (p->bad);
}

int
prog_getopt(const struct prog *p, int argc, char **argv, int *status)
{
	int ch, n;

	*status = PROG_GO;
	ch = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
	if (ch == 'h') {
		p->usage(stdout);
		*status = 0;
		return (-1);
	}
	if (ch == '?' || ch == ':') {
		*status = prog_usage(p);
		return (-1);
	}
	if (ch != -1)
		return (ch);
	n = argc - optind;
	if (n < p->min_args || (p->max_args >= 0 && n > p->max_args))
		*status = prog_usage(p);
	return (-1);
}
