/*
 * audfetch.c - other nodes' recordings fetched from the object store for
 * one auditor verb (see audfetch.h). A copy in STATE_DIR/fetched is kept
 * only while a verb holds it: each verb takes a shared flock on it, and on
 * letting go tries for an exclusive one; whoever gets it is the last and
 * deletes the copy, after checking that the name still names the file it
 * holds (every deleter holds the copy exclusively, and bastion-ship never
 * replaces a name, so it cannot change under it). A verb that finds its
 * copy deleted between the fetch and its hold fetches it again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "audfetch.h"
#include "audverb.h"
#include "recfmt.h"
#include "recnotary.h"

#define AUDFETCH_TRIES	3	/* fetches of one copy deleted meanwhile */

void
audfetch_init(struct audfetch *h)
{
	h->fd = -1;
	h->path[0] = '\0';
}

/* Is name ID.brec, a fetched copy's name (not bastion-ship's part file,
 * nor anything else)? */
static int
audfetch_name(const char *name)
{
	char id[REC_SESSION_ID_MAX + 1];
	size_t n = strlen(name);

	if (n <= 5 || n - 5 >= sizeof(id) || strcmp(name + n - 5,
	    ".brec") != 0)
		return (0);
	memcpy(id, name, n - 5);
	id[n - 5] = '\0';
	return (recfmt_session_id_valid(id));
}

/* Is fd, open on name in directory dfd, the regular file name still
 * names? */
static int
audfetch_linked(int dfd, const char *name, int fd)
{
	struct stat a, b;

	return (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && a.st_nlink > 0 &&
	    fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/* Delete name (open as fd) from dfd when no verb holds it; 1 if it was. */
static int
audfetch_drop(int dfd, const char *name, int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    !audfetch_linked(dfd, name, fd))
		return (0);
	return (unlinkat(dfd, name, 0) == 0);
}

int
audfetch_sweep(const char *state_dir)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int fd, n = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", state_dir,
	    RECNOTARY_FETCHED) >= sizeof(dir) || (d = opendir(dir)) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL) {
		if (!audfetch_name(e->d_name) || (fd = openat(dirfd(d),
		    e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC)) == -1)
			continue;
		n += audfetch_drop(dirfd(d), e->d_name, fd);
		close(fd);
	}
	closedir(d);
	return (n);
}

int
audfetch_hold(struct verb_ctx *c, const char *id, struct audfetch *h)
{
	char dir[PATH_MAX], pol[PATH_MAX], rid[REC_SESSION_ID_MAX + 1];
	char name[REC_SESSION_ID_MAX + 8];
	char *argv[] = { "-q", "-f", pol, "fetch", rid, dir, NULL };
	int dfd, tries;

	audfetch_init(h);
	/* a recording id (YYYYMMDDTHHMMSSZ-...), not a session number */
	if (!c->pol->recstore.s3 || c->pol->path == NULL ||
	    !recfmt_session_id_valid(id) || strspn(id, "0123456789") < 8 ||
	    strlen(id) >= sizeof(rid) ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/%s", c->pol->state_dir,
	    RECNOTARY_FETCHED) >= sizeof(dir) ||
	    (size_t)snprintf(h->path, sizeof(h->path), "%s/%s.brec", dir,
	    id) >= sizeof(h->path) ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST))
		return (1);
	snprintf(pol, sizeof(pol), "%s", c->pol->path);
	snprintf(rid, sizeof(rid), "%s", id);
	snprintf(name, sizeof(name), "%s.brec", id);
	/* what verbs killed before letting go left behind */
	(void)audfetch_sweep(c->pol->state_dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (1);
	for (tries = 0; tries < AUDFETCH_TRIES && h->fd == -1; tries++) {
		/* bastion-ship fails when another verb's fetch of the same
		 * copy linked it first: that copy is as good */
		if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
		    audverb_tool_split(c, "bastion-ship", argv) != 0 &&
		    faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			break;
		if ((h->fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC)) == -1)
			continue;
		/* deleted between the fetch and this hold: again */
		if (flock(h->fd, LOCK_SH) != 0 ||
		    !audfetch_linked(dfd, name, h->fd)) {
			close(h->fd);
			h->fd = -1;
		}
	}
	/* readable by the directory's group, whatever bastiond's umask
	 * (0077 under its unit): the recorder (bastion-audit, through its
	 * read-only bind mount) reads it to sign an export */
	if (h->fd != -1)
		(void)fchmod(h->fd, 0640);
	close(dfd);
	return (h->fd != -1 ? 0 : 1);
}

void
audfetch_release(struct audfetch *h)
{
	char dir[sizeof(h->path)], *slash;
	int dfd;

	if (h->fd == -1)
		return;
	snprintf(dir, sizeof(dir), "%s", h->path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
		    -1) {
			(void)audfetch_drop(dfd, slash + 1, h->fd);
			close(dfd);
		}
	}
	close(h->fd);
	audfetch_init(h);
}
