/*
 * monitor_airlock.c - the monitor's side of the import airlock
 * (MREQ_AIRLOCK, privsep.h; docs/FILES.md). The confined child holds an
 * upload on the bastion before anything of it reaches the device, and
 * has it scanned by ClamAV's clamd; it can neither open a file nor
 * connect a socket, so it asks here for
 *
 *  - AIRLOCK_QUARANTINE: a fresh quarantine file, created in
 *    STATE_DIR/quarantine (0700, root's) and unlinked at once, so its
 *    bytes vanish with the last descriptor: nothing of a refused file
 *    outlives the session, and no other process can open it;
 *  - AIRLOCK_CLAMD: a connection to clamd's Unix socket as the policy
 *    names it (files: clamd_socket), made here; the child speaks INSTREAM
 *    over it (proto/clamd.h). A failure to connect is answered with its
 *    reason, and the child refuses the file (fail closed);
 *  - AIRLOCK_MAGIC: libmagic's compiled database, opened read-only, for
 *    files: types (the child loads it from memory).
 *
 * Only for a device whose files: policy says scan: clamd (or, for a
 * quarantine file alone, approve: out: a download held for an admin,
 * monitor_export.c): a child that asks otherwise is not the child we
 * started, and is killed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor_req.h"

#define MON_CLAMD_CONNECT_MS	3000
#define MON_MAGIC_DB		"/usr/share/misc/magic.mgc"	/* Debian's
								   libmagic-mgc */

/* A quarantine file, already unlinked. The descriptor, or -1 (why). */
static int
mon_airlock_quarantine(const struct mon *M, char *why, size_t whylen)
{
	char dir[4096], path[4200];
	int fd;

	snprintf(dir, sizeof(dir), "%s/quarantine", M->S.pol->state_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create the quarantine %.300s: %s",
		    dir, strerror(errno));
		return (-1);
	}
	snprintf(path, sizeof(path), "%s/upload.XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "cannot create a file in the quarantine "
		    "%.300s: %s", dir, strerror(errno));
		return (-1);
	}
	(void)unlink(path);
	return (fd);
}

/* Connected to clamd, or -1 (why). */
static int
mon_airlock_clamd(const char *sock, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int fd, err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "clamd's socket path is too long");
		return (-1);
	}
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			err = errno;
		else {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, MON_CLAMD_CONNECT_MS) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen) != 0)
				err = errno;
		}
	}
	if (err != 0) {
		snprintf(why, whylen, "the virus scanner (clamd at %s) cannot "
		    "be reached: %s", sock, strerror(err));
		close(fd);
		return (-1);
	}
	return (fd);
}

const char *
mon_answer_airlock(struct mon *M, struct buf *req)
{
	const struct policy_device *d = M->S.dev;
	char why[600];
	struct buf *a;
	uint8_t kind;
	int fd;

	if (!mon_is_engineer(M) || !M->rec_open || d == NULL ||
	    !d->files.set || (!d->files.scan && !d->files.approve_out))
		return ("no airlock in this session's policy");
	if (buf_get_u8(req, &kind) != 0 || (kind != AIRLOCK_QUARANTINE &&
	    kind != AIRLOCK_CLAMD && kind != AIRLOCK_MAGIC))
		return ("malformed");
	/* export approval (approve: out) holds downloads: a quarantine only */
	if (kind != AIRLOCK_QUARANTINE && !d->files.scan)
		return ("no scan: clamd in this session's policy");
	if (kind == AIRLOCK_MAGIC && d->files.ntypes == 0)
		return ("no files: types in this session's policy");
	why[0] = '\0';
	if (kind == AIRLOCK_QUARANTINE)
		fd = mon_airlock_quarantine(M, why, sizeof(why));
	else if (kind == AIRLOCK_CLAMD)
		fd = mon_airlock_clamd(d->files.clamd_socket, why,
		    sizeof(why));
	else if ((fd = open(MON_MAGIC_DB, O_RDONLY | O_CLOEXEC)) == -1)
		snprintf(why, sizeof(why), "the file type database %s cannot "
		    "be opened: %s", MON_MAGIC_DB, strerror(errno));
	if (fd == -1)
		log_error("session %s: airlock: %s", M->S.sid, why);
	if ((a = mon_body()) != NULL && buf_put_u32(a, fd != -1 ? 0 : 1) ==
	    0 && buf_put_cstring(a, why) == 0)
		(void)mon_reply(M, MANS_OK, a, &fd, fd != -1 ? 1 : 0);
	buf_free(a);
	if (fd != -1)
		close(fd);
	return (NULL);
}
