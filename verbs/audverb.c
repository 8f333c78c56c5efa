/*
 * audverb.c - what the auditor verbs share (see audverb.h): the walk over
 * recordings_dir, the recording a verb names and its audited access (from
 * the shared object store when another node recorded it), the offline
 * tools run for the auditor, and the console's help and events.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audfetch.h"
#include "audstore.h"
#include "audverb.h"
#include "err.h"
#include "log.h"
#include "recreader.h"
#include "text.h"

/* nftw offers no user pointer */
static struct audverb_filter *audverb_walk_filter;

const char *
audverb_get(const struct rec_hdr *h, const char *k)
{
	const char *v = recfmt_hdr_get(h, k);

	return (v != NULL ? v : "-");
}

static int
audverb_visit(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	struct audverb_filter *F = audverb_walk_filter;
	struct rec_hdr h;
	size_t n = strlen(path);

	(void)ftw;
	if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".brec") != 0)
		return (0);
	if (recreader_header(path, &h) != 0)
		return (0);
	if ((F->id && strcmp(audverb_get(&h, "session"), F->id) != 0 &&
	    strcmp(audverb_get(&h, "ref"), F->id) != 0) ||
	    (F->engineer && strcmp(audverb_get(&h, "engineer"),
	    F->engineer) != 0) ||
	    (F->vendor && strcmp(audverb_get(&h, "vendor"), F->vendor) != 0) ||
	    (F->device && strcmp(audverb_get(&h, "device"), F->device) != 0) ||
	    (F->date && strncmp(audverb_get(&h, "start"), F->date,
	    strlen(F->date)) != 0)) {
		recfmt_hdr_clear(&h);
		return (0);
	}
	F->matched++;
	if (F->id != NULL)
		snprintf(F->found, sizeof(F->found), "%s", path);
	if (F->row != NULL)
		F->row(F, path, sb, &h);
	recfmt_hdr_clear(&h);
	return (0);
}

int
audverb_walk(const struct policy *pol, struct audverb_filter *F)
{
	audverb_walk_filter = F;
	if (nftw(pol->recordings_dir, audverb_visit, 16, FTW_PHYS) != 0 &&
	    errno != ENOENT)
		return (BERR_SYS);
	return (0);
}

/* Run prog; its standard error to c->err when split (after its output),
 * else mixed into c->out. */
static int
audverb_run(struct verb_ctx *c, const char *prog, char *const extra[],
    int split)
{
	char self[PATH_MAX], bin[PATH_MAX + 32], buf[16384], *slash;
	char *argv[AUDVERB_ARGS_MAX + 2];
	int pfd[2], efd[2] = { -1, -1 }, st, n = 0, i;
	ssize_t k;
	pid_t pid;

	if ((k = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return (3);
	self[k] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, sizeof(bin), "%s/%s", self, prog);
	argv[n++] = bin;
	for (i = 0; extra[i] != NULL && n <= AUDVERB_ARGS_MAX; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return (3);
	if (split && pipe2(efd, O_CLOEXEC) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		return (3);
	}
	fflush(c->out);		/* the child has a copy of the buffer */
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		if (split) {
			close(efd[0]);
			close(efd[1]);
		}
		return (3);
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(split ? efd[1] : pfd[1], 2);
		execv(bin, argv);
		_exit(127);
	}
	close(pfd[1]);
	if (split)
		close(efd[1]);
	while ((k = read(pfd[0], buf, sizeof(buf))) > 0)
		(void)fwrite(buf, 1, (size_t)k, c->out);
	fflush(c->out);
	close(pfd[0]);
	/* a line or two (the verification): it fits the pipe meanwhile */
	while (split && (k = read(efd[0], buf, sizeof(buf))) > 0)
		(void)fwrite(buf, 1, (size_t)k, c->err);
	if (split)
		close(efd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return (3);
	return (WEXITSTATUS(st));
}

int
audverb_tool(struct verb_ctx *c, const char *prog, char *const extra[])
{
	return (audverb_run(c, prog, extra, 0));
}

int
audverb_tool_split(struct verb_ctx *c, const char *prog, char *const extra[])
{
	return (audverb_run(c, prog, extra, 1));
}

/* The recording id a verb's word names for the object store: the word,
 * or, for a session number of a recorded session in the shared state
 * store (another node's), its recording's id. */
static const char *
audverb_store_id(struct verb_ctx *c, const char *word, struct audstore_rec *f)
{
	if (strspn(word, "0123456789") == strlen(word) &&
	    audstore_find(c->st, word, f) == 1)
		return (f->id);
	return (word);
}

/* A recording of another node that neither this spool nor the object
 * store gives: say whose it is and where it can be read. */
static void
audverb_elsewhere_said(struct verb_ctx *c, const char *word,
    const struct audstore_rec *f)
{
	char node[80];

	text_clean(node, sizeof(node), f->s.node);
	fprintf(c->err, "bastion: recording %s was made on node %s and is not "
	    "in the object store%s: read it on node %s (ssh %s@%s ...), or "
	    "once that node's bastion-ship has shipped it (see "
	    "`recordings`)\n", word, node, c->pol->recstore.s3 ? " (yet)" :
	    " (this node has none: recordings: store: s3)", node, c->admin,
	    node);
}

int
audverb_locate(struct verb_ctx *c, const char *word, char *path, size_t len,
    struct audfetch *held)
{
	struct audverb_filter F;
	struct audstore_rec f;

	audfetch_init(held);
	memset(&F, 0, sizeof(F));
	F.id = word;
	if (audverb_walk(c->pol, &F) == 0 && F.matched == 1) {
		snprintf(path, len, "%s", F.found);
		return (0);
	}
	/* not in this spool: the object store's copy, held for the verb */
	if (F.matched == 0 && audfetch_hold(c, audverb_store_id(c, word, &f),
	    held) == 0) {
		snprintf(path, len, "%s", held->path);
		return (0);
	}
	if (F.matched == 0 && audstore_find(c->st, word, &f) == 1 &&
	    f.s.node[0] != '\0' && c->pol->store_node != NULL &&
	    strcmp(f.s.node, c->pol->store_node) != 0)
		/* the store's row: printed only as the node's name, cleaned;
		 * what to do */
		audverb_elsewhere_said(c, word, &f);
	else
		fprintf(c->err, "bastion: no recording %s (see `recordings`)\n",
		    word);
	return (1);
}

int
audverb_find(struct verb_ctx *c, const struct verb_args *a, char *path,
    size_t len, struct audfetch *held)
{
	const char *verb = a->argv[0];

	audfetch_init(held);
	if (a->argc != 2)
		return (audverb_usage(c));
	if (audverb_locate(c, a->argv[1], path, len, held) != 0)
		return (1);
	/* reading a recording is itself audited first: no chain line, no
	 * replay or export (docs/AUDIT.md) */
	if (audit_ev(BEV_RECORDING_ACCESS, "session", c->session, "user",
	    c->admin, "role", "auditor", "verb", verb, "recording",
	    a->argv[1], NULL) != 0) {
		fprintf(c->err, "bastion: the audit log cannot be written, so "
		    "%s is refused; see the bastion's log\n", verb);
		audfetch_release(held);
		return (1);
	}
	return (0);
}

int
audverb_state(struct verb_ctx *c)
{
	struct state *st = NULL;

	if (c->st != NULL || state_open(c->pol->state_dir, &st) != 0)
		return (0);
	c->st = st;
	return (1);
}

void
audverb_state_done(struct verb_ctx *c, int opened)
{
	if (opened) {
		state_close(c->st);
		c->st = NULL;
	}
}

int
audverb_exec(struct verb_ctx *c, const struct verb_args *a)
{
	const struct audverb_one *one = a->entry->data;
	struct audfetch held;
	char path[PATH_MAX];
	int rc, opened = audverb_state(c);

	if ((rc = audverb_find(c, a, path, sizeof(path), &held)) == 0) {
		rc = one->run(c, path);
		audverb_done(c, a->argv[0], a->argv[1], rc);
		/* another node's copy: deleted unless another verb holds it */
		audfetch_release(&held);
	}
	audverb_state_done(c, opened);
	return (rc);
}

void
audverb_pubkey(const struct verb_ctx *c, char *out, size_t len)
{
	snprintf(out, len, "%s/recorder.key.pub", c->pol->state_dir);
}

void
audverb_done(struct verb_ctx *c, const char *verb, const char *id, int rc)
{
	audit_ev(BEV_CONSOLE_VERB, "session", c->session, "user", c->admin,
	    "role", "auditor", "from", c->from, "verb", verb, "recording", id,
	    "status", rc == 0 ? "ok" : "fail", NULL);
}

int
audverb_usage(struct verb_ctx *c)
{
	fprintf(c->err, "bastion: auditor console: ssh %s@bastion VERB\n",
	    c->admin);
	verb_help(c->err, VERB_AUDITOR, "  ");
	return (2);
}
