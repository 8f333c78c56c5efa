/*
 * auditor.c - the auditor console over ssh (`ssh -A carol@bastion VERB`).
 *
 *   recordings [--engineer N] [--vendor N] [--device N] [--date YYYY-MM-DD]
 *   verify SESSION        bastion-verify with the recorder's public key
 *   replay SESSION        the sanitised text transcript (bastion-replay --text)
 *
 * Recordings are found by walking recordings_dir; each file is read only
 * through the bounded recorder reader (its HEADER frame), never trusted.
 * verify and replay run the same programs an auditor runs offline, from
 * the directory bastiond itself lives in, with no shell in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "err.h"
#include "log.h"
#include "recfmt.h"
#include "recreader.h"
#include "session.h"

struct audit_filter {
	const char *engineer, *vendor, *device, *date, *id;
	FILE *out;
	int matched;
	char found[PATH_MAX];
};

/* nftw offers no user pointer */
static struct audit_filter *auditor_walk_filter;

/* Read the HEADER of a recording into h; 0 or BERR_*. */
static int
auditor_header(const char *path, struct rec_hdr *h)
{
	struct recreader *r = NULL;
	struct rec_frame f;
	int err;

	memset(h, 0, sizeof(*h));
	if ((err = recreader_open(path, &r)) != 0)
		return (err);
	if ((err = recreader_magic(r)) == 0 &&
	    (err = recreader_next(r, &f)) == 0) {
		if (f.type != REC_HEADER)
			err = BERR_FORMAT;
		else
			err = recfmt_hdr_decode(f.payload, f.len, h);
	}
	recreader_free(r);
	return (err);
}

static const char *
auditor_get(const struct rec_hdr *h, const char *k)
{
	const char *v = recfmt_hdr_get(h, k);

	return (v != NULL ? v : "-");
}

static int
auditor_visit(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	struct audit_filter *F = auditor_walk_filter;
	struct rec_hdr h;
	size_t n = strlen(path);

	(void)sb;
	(void)ftw;
	if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".brec") != 0)
		return (0);
	if (auditor_header(path, &h) != 0)
		return (0);
	if ((F->id && strcmp(auditor_get(&h, "session"), F->id) != 0 &&
	    strcmp(auditor_get(&h, "ref"), F->id) != 0) ||
	    (F->engineer && strcmp(auditor_get(&h, "engineer"),
	    F->engineer) != 0) ||
	    (F->vendor && strcmp(auditor_get(&h, "vendor"), F->vendor) != 0) ||
	    (F->device && strcmp(auditor_get(&h, "device"), F->device) != 0) ||
	    (F->date && strncmp(auditor_get(&h, "start"), F->date,
	    strlen(F->date)) != 0)) {
		recfmt_hdr_clear(&h);
		return (0);
	}
	F->matched++;
	if (F->id != NULL)
		snprintf(F->found, sizeof(F->found), "%s", path);
	else
		fprintf(F->out, "%-36s %-6s %-24s %-12s %-10s %-14s %s\n",
		    auditor_get(&h, "session"), auditor_get(&h, "ref"),
		    auditor_get(&h, "start"), auditor_get(&h, "engineer"),
		    auditor_get(&h, "vendor"), auditor_get(&h, "device"),
		    auditor_get(&h, "source"));
	recfmt_hdr_clear(&h);
	return (0);
}

static int
auditor_walk(struct sess *S, struct audit_filter *F)
{
	auditor_walk_filter = F;
	if (nftw(S->pol->recordings_dir, auditor_visit, 16, FTW_PHYS) != 0 &&
	    errno != ENOENT)
		return (BERR_SYS);
	return (0);
}

/* Run bin (beside bastiond) with args and send its output to the
 * auditor; returns its exit status (or 3). */
static int
auditor_exec(struct sess *S, const char *prog, char *const extra[])
{
	char self[PATH_MAX], bin[PATH_MAX + 32], buf[16384], *slash;
	char *argv[8];
	int pfd[2], st, n = 0, i;
	ssize_t k;
	pid_t pid;

	if ((k = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return (3);
	self[k] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, sizeof(bin), "%s/%s", self, prog);
	argv[n++] = bin;
	for (i = 0; extra[i] != NULL && n < 7; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return (3);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return (3);
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(bin, argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((k = read(pfd[0], buf, sizeof(buf))) > 0)
		ssh_channel_write(S->vch, buf, (uint32_t)k);
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return (3);
	return (WEXITSTATUS(st));
}

int
auditor_run(struct sess *S)
{
	struct audit_filter F;
	char *words[16], *cmd = NULL, *save = NULL, *w;
	char pub[PATH_MAX + 32];
	int nw = 0, rc = 2, i;

	memset(&F, 0, sizeof(F));
	if (S->kind == SESS_EXEC && S->command != NULL &&
	    (cmd = strdup(S->command)) != NULL)
		for (w = strtok_r(cmd, " \t", &save); w != NULL && nw < 16;
		    w = strtok_r(NULL, " \t", &save))
			words[nw++] = w;
	if (nw == 0)
		goto usage;
	snprintf(pub, sizeof(pub), "%s/recorder.key.pub", S->pol->state_dir);
	if (strcmp(words[0], "recordings") == 0) {
		for (i = 1; i + 1 < nw; i += 2) {
			if (strcmp(words[i], "--engineer") == 0)
				F.engineer = words[i + 1];
			else if (strcmp(words[i], "--vendor") == 0)
				F.vendor = words[i + 1];
			else if (strcmp(words[i], "--device") == 0)
				F.device = words[i + 1];
			else if (strcmp(words[i], "--date") == 0)
				F.date = words[i + 1];
			else
				goto usage;
		}
		if (i != nw)
			goto usage;
		{
			char *text = NULL;
			size_t len = 0;

			if ((F.out = open_memstream(&text, &len)) == NULL)
				goto out;
			fprintf(F.out, "%-36s %-6s %-24s %-12s %-10s %-14s %s\n",
			    "RECORDING", "REF", "START", "ENGINEER", "VENDOR",
			    "DEVICE", "FROM");
			rc = auditor_walk(S, &F) == 0 ? 0 : 1;
			fclose(F.out);
			ssh_channel_write(S->vch, text, (uint32_t)len);
			free(text);
		}
	} else if ((strcmp(words[0], "verify") == 0 ||
	    strcmp(words[0], "replay") == 0) && nw == 2) {
		F.id = words[1];
		if (auditor_walk(S, &F) != 0 || F.matched != 1) {
			sess_tell(S, "bastion: no recording %s (see "
			    "`recordings`)\n", words[1]);
			rc = 1;
			goto out;
		}
		if (strcmp(words[0], "verify") == 0)
			rc = auditor_exec(S, "bastion-verify", (char *[]){
			    "-k", pub, F.found, NULL });
		else
			rc = auditor_exec(S, "bastion-replay", (char *[]){
			    "--text", "-k", pub, F.found, NULL });
	} else
		goto usage;
	audit_event("console.verb", "session", S->sid, "user",
	    S->au.who->name, "role", "auditor", "from", S->peerstr, "verb",
	    words[0], "recording", F.id, "status", rc == 0 ? "ok" : "fail",
	    NULL);
	goto out;
usage:
	sess_tell(S, "bastion: auditor console: ssh %s@bastion VERB\n"
	    "  recordings [--engineer N] [--vendor N] [--device N] "
	    "[--date YYYY-MM-DD]\n"
	    "  verify SESSION\n"
	    "  replay SESSION\n", S->au.who->name);
	rc = 2;
out:
	free(cmd);
	return (rc);
}
