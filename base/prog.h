/*
 * prog.h - the command line of the bastion's programs (bastiond,
 * bastionctl, bastion-recorder, -verify, -replay): one option loop with
 * one answer to -h/--help (usage on stdout, exit 0) and one to a bad
 * command line (usage on stderr, the program's usage status), so that a
 * program's main() says only what its own options mean:
 *
 *	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
 *		switch (ch) {
 *		case 'k':
 *			keyfile = optarg;
 *			break;
 *		...
 *		}
 *	}
 *	if (rc != PROG_GO)
 *		return (rc);
 */
#ifndef BASTION_PROG_H
#define BASTION_PROG_H

#include <getopt.h>
#include <stdio.h>

/* prog_getopt()'s status when main is to go on with argv[optind..]. */
#define PROG_GO		(-1)

/* The end of every program's long options: --help, then the terminator. */
#define PROG_OPTS_END { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }

struct prog {
	const char *shortopts;		/* getopt_long's; 'h' is help */
	const struct option *longopts;	/* ending with PROG_OPTS_END */
	void (*usage)(FILE *f);
	int bad;			/* exit status of a bad command line */
	int min_args;			/* operands after the options */
	int max_args;			/* -1: no limit */
};

/*
 * The next option of argv for main's switch (as getopt_long gives it,
 * optarg set), never 'h' nor an unknown one; or -1 when there is none to
 * handle, and then *status says what main is to do: PROG_GO (the options
 * are read and the operands' count is right, optind at the first), or
 * return *status (-h: usage on stdout, 0; a bad option or count: usage on
 * stderr, p->bad).
 */
int prog_getopt(const struct prog *p, int argc, char **argv, int *status);

/* A bad value for an option: usage on stderr; returns p->bad. */
int prog_usage(const struct prog *p);

#endif
