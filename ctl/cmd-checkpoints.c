/*
 * cmd-checkpoints.c - "bastionctl checkpoints [--export FILE] [--keys
 * DIR]": the signed checkpoints of every node's audit chain, as they are
 * in the state store, for an auditor (docs/AUDIT.md section 10).
 *
 * It writes one line per checkpoint row, oldest first, in the form of
 * store/auditckpt.h (to standard output, or to FILE with --export), and
 * with --keys the public audit key each node published into DIR/NODE.pub.
 * Nothing is checked here on purpose: the rows carry their nodes'
 * signatures, and `bastion-verify --cluster` checks them offline, on a
 * laptop that never talks to the database, with the keys the auditor
 * copied from the nodes themselves (the published ones are a convenience
 * to compare with, not a trust anchor). The store is opened read-only,
 * directly (not through bastiond), as the bastion's user or root.
 *
 * Exit status: 0 written, 1 the store or a file could not be used,
 * 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auditckpt.h"
#include "ctl.h"
#include "err.h"

struct ckpt_out {
	FILE *f;
	size_t rows;
	int failed;
};

static int
checkpoints_row(const struct ckpt *c, void *arg)
{
	struct ckpt_out *o = arg;
	char line[CKPT_LINE_MAX];

	if (ckpt_line(c, line, sizeof(line)) != 0)
		return (BERR_FORMAT);
	if (fprintf(o->f, "%s\n", line) < 0)
		return (BERR_SYS);
	o->rows++;
	return (0);
}

struct key_out {
	const char *dir;
	size_t n;
};

static int
checkpoints_key(const char *node, const char *pem, void *arg)
{
	struct key_out *k = arg;
	char path[4096];
	FILE *f;
	int fd;

	if (!ckpt_node_ok(node))
		return (BERR_FORMAT);
	snprintf(path, sizeof(path), "%s/%s.pub", k->dir, node);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "bastionctl: checkpoints: %s: %s\n", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (BERR_SYS);
	}
	fputs(pem, f);
	if (fclose(f) != 0)
		return (BERR_SYS);
	k->n++;
	return (0);
}

static int
cmd_checkpoints_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "export", required_argument, NULL, 'e' },
		{ "keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct ckpt_out o = { stdout, 0, 0 };
	struct key_out k = { NULL, 0 };
	const char *file = NULL;
	struct state *st = NULL;
	char why[512];
	int ch, r, rc = CTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "e:k:", opts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			file = optarg;
			break;
		case 'k':
			k.dir = optarg;
			break;
		default:
			ctl_usage(&ctl_cmd_checkpoints, stderr);
			return (CTL_EXIT_USAGE);
		}
	}
	if (optind != argc) {
		ctl_usage(&ctl_cmd_checkpoints, stderr);
		return (CTL_EXIT_USAGE);
	}
	if ((r = state_open_ro(c->pol->state_dir, &st, why,
	    sizeof(why))) != 0) {
		fprintf(stderr, "bastionctl: checkpoints: cannot read the state "
		    "store: %s (run as the bastion's user or root)\n", why);
		return (CTL_EXIT_FAIL);
	}
	if (file != NULL && strcmp(file, "-") != 0 &&
	    (o.f = fopen(file, "we")) == NULL) {
		fprintf(stderr, "bastionctl: checkpoints: %s: %s\n", file,
		    strerror(errno));
		goto out;
	}
	if ((r = state_ckpt_each(st, NULL, checkpoints_row, &o)) != 0) {
		fprintf(stderr, "bastionctl: checkpoints: %s (%s)\n",
		    berr_str(r), state_errmsg(st));
		goto out;
	}
	if (k.dir != NULL && (r = state_ckpt_key_each(st, checkpoints_key,
	    &k)) != 0) {
		fprintf(stderr, "bastionctl: checkpoints: the published keys: "
		    "%s\n", berr_str(r));
		goto out;
	}
	if (fflush(o.f) != 0) {
		fprintf(stderr, "bastionctl: checkpoints: %s: %s\n",
		    file != NULL ? file : "standard output", strerror(errno));
		goto out;
	}
	if (o.f != stdout)
		fprintf(stderr, "%zu checkpoint(s) written to %s\n", o.rows,
		    file);
	if (k.dir != NULL)
		fprintf(stderr, "%zu published key(s) written to %s (compare "
		    "each with the node's own STATE_DIR/" CKPT_KEY_FILE
		    ".pub)\n", k.n, k.dir);
	rc = CTL_EXIT_OK;
out:
	if (o.f != stdout && o.f != NULL && fclose(o.f) != 0)
		rc = CTL_EXIT_FAIL;
	state_close(st);
	return (rc);
}

const struct ctl_cmd ctl_cmd_checkpoints = {
	"checkpoints",
	"[--export FILE] [--keys DIR]",
	"the audit checkpoints of every node, signed, for bastion-verify "
	"--cluster",
	cmd_checkpoints_exec,
	0
};
