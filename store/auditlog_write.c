/*
 * auditlog_write.c - appending to the hash-chained audit log (format and
 * rules in auditlog.h and docs/AUDIT.md): one chain file's appends, the
 * store actor's group commit (many events, one write and one fdatasync),
 * and the process-wide chain behind audit_event().
 *
 * The store actor (store_actor.c, in bastiond's listener) is the chain's
 * single writer: the process-wide chain hands each event to it over
 * STATE_DIR/store.sock and waits for its commit. Without an actor
 * (bastionctl or the tests with no bastiond running, the recorder, which
 * the actor does not admit) a process appends itself, and the file still
 * coordinates everyone: flock(2) serialises appenders (the actor takes it
 * too), and the previous line's seq and hash are read back from the tail
 * of the file (one bounded pread) rather than cached, since another
 * process may have appended since.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "auditlog_int.h"
#include "err.h"
#include "io.h"
#include "log.h"
#include "store_client.h"

struct auditlog {
	char *path;
	int create;
	int fd;
	pid_t pid;		/* the process that opened fd */
	char err[512];
};

/* ---- appending --------------------------------------------------------- */

int
auditlog_path_for(const char *state_dir, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", state_dir, AUDITLOG_FILE);

	return (n < 0 || (size_t)n >= outlen ? BERR_LIMIT : 0);
}

int
auditlog_new(const char *path, int create, struct auditlog **out)
{
	struct auditlog *al;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return (BERR_INVAL);
	if ((al = calloc(1, sizeof(*al))) == NULL ||
	    (al->path = strdup(path)) == NULL) {
		free(al);
		return (BERR_NOMEM);
	}
	al->create = create;
	al->fd = -1;
	*out = al;
	return (0);
}

void
auditlog_free(struct auditlog *al)
{
	if (al == NULL)
		return;
	if (al->fd != -1 && al->pid == getpid())
		close(al->fd);
	free(al->path);
	free(al);
}

const char *
auditlog_error(const struct auditlog *al)
{
	return (al != NULL ? al->err : "");
}

static int auditlog_fail(struct auditlog *al, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
auditlog_fail(struct auditlog *al, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(al->err, sizeof(al->err), fmt, ap);
	va_end(ap);
	return (r);
}

/* (Re)open al->path for this process. */
static int
auditlog_reopen(struct auditlog *al)
{
	struct stat st;
	int fd;

	if (al->fd != -1 && al->pid == getpid())
		close(al->fd);
	al->fd = -1;	/* after fork the parent's descriptor stays its own */
	fd = open(al->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
	    (al->create ? O_CREAT : 0), 0640);
	if (fd == -1)
		return (auditlog_fail(al, errno == ENOENT ? BERR_NOTFOUND :
		    BERR_SYS, "cannot open %s: %s", al->path,
		    strerror(errno)));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (auditlog_fail(al, BERR_FORMAT, "%s is not a regular "
		    "file", al->path));
	}
	al->fd = fd;
	al->pid = getpid();
	return (0);
}

/* flock with a deadline, so that a stopped process cannot hang us all. */
static int
auditlog_lock(struct auditlog *al)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	while (flock(al->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return (auditlog_fail(al, BERR_SYS, "cannot lock %s: "
			    "%s", al->path, strerror(errno)));
		if (waited >= AUDITLOG_LOCK_TIMEOUT_MS)
			return (auditlog_fail(al, BERR_TIMEOUT, "%s stayed "
			    "locked by another process for %d ms (a stopped "
			    "or hung bastion process? see fuser -v %s)",
			    al->path, AUDITLOG_LOCK_TIMEOUT_MS, al->path));
		nanosleep(&ts, NULL);
		waited += 10;
	}
	return (0);
}

/*
 * Lock the file at al->path; if it was moved aside (a new chain started)
 * since we opened it, follow it to the new one. A process that may no
 * longer look at the path (a sandboxed, demoted worker) or open a new file
 * keeps appending to the descriptor it has: an event in the old file beats
 * an event lost.
 */
static int
auditlog_lock_current(struct auditlog *al)
{
	struct stat a, b;
	int r, tries, fd, gone;

	if ((al->fd == -1 || al->pid != getpid()) &&
	    (r = auditlog_reopen(al)) != 0)
		return (r);
	for (tries = 0; tries < 3; tries++) {
		if ((r = auditlog_lock(al)) != 0)
			return (r);
		gone = 0;
		if (stat(al->path, &b) != 0) {
			if (errno != ENOENT)
				return (0);
			gone = 1;
		}
		if (fstat(al->fd, &a) != 0 || (!gone &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino))
			return (0);
		/* moved aside: continue in the file now at path */
		fd = open(al->path, O_RDWR | O_APPEND | O_CLOEXEC |
		    O_NOFOLLOW | (al->create ? O_CREAT : 0), 0640);
		if (fd == -1)
			return (0);
		flock(al->fd, LOCK_UN);
		close(al->fd);
		al->fd = fd;
	}
	return (auditlog_fail(al, BERR_SYS, "%s keeps being replaced while "
	    "appending", al->path));
}

/* What the tail of the file says about where the chain stands. */
struct auditlog_tail {
	uint64_t next_seq;
	char prev[AUDITLOG_HEX_LEN + 1];
	size_t torn;			/* bytes after the last newline */
	char torn_sha[AUDITLOG_HEX_LEN + 1];
	int last_bad_hash;		/* last line's hash does not verify */
};

static int
auditlog_read_tail(struct auditlog *al, off_t size, struct auditlog_tail *t)
{
	struct auditlog_line l;
	char *buf = NULL;
	size_t n, got, end, start;
	int r;

	memset(t, 0, sizeof(*t));
	t->next_seq = 1;
	memcpy(t->prev, auditlog_zero, sizeof(t->prev));
	if (size == 0)
		return (0);
	n = (size_t)size < AUDITLOG_TAIL ? (size_t)size : AUDITLOG_TAIL;
	if ((buf = malloc(n)) == NULL)
		return (auditlog_fail(al, BERR_NOMEM, "out of memory"));
	if (io_pread_upto(al->fd, buf, n, size - (off_t)n, &got) != 0 ||
	    got != n) {
		r = auditlog_fail(al, BERR_SYS, "cannot read the end of %s: %s",
		    al->path, strerror(errno));
		goto out;
	}
	/* a torn last line: everything after the last newline */
	for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
		;
	t->torn = n - end;
	if (t->torn > 0) {
		if (t->torn >= AUDITLOG_LINE_MAX) {
			r = auditlog_fail(al, BERR_FORMAT, "the last %zu bytes "
			    "of %s hold no line break: it is not an audit "
			    "chain", t->torn, al->path);
			goto out;
		}
		if ((r = auditlog_sha256(buf + end, t->torn, NULL, 0,
		    t->torn_sha)) != 0)
			goto out;
	}
	if (end == 0) {		/* nothing but a torn first line */
		r = 0;
		goto out;
	}
	end--;			/* the newline of the last whole line */
	for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (start == 0 && n < (size_t)size) {
		r = auditlog_fail(al, BERR_FORMAT, "the last line of %s is "
		    "longer than %d bytes: it is not an audit chain line",
		    al->path, AUDITLOG_LINE_MAX);
		goto out;
	}
	if (auditlog_line_parse(buf + start, end - start, &l) != 0) {
		r = auditlog_fail(al, BERR_FORMAT, "the last line of %s is not "
		    "an audit chain line, so the chain cannot go on", al->path);
		goto out;
	}
	if (l.seq == UINT64_MAX) {
		r = auditlog_fail(al, BERR_LIMIT, "%s is full", al->path);
		goto out;
	}
	t->last_bad_hash = !auditlog_line_hash_ok(buf + start, end - start,
	    &l);
	t->next_seq = l.seq + 1;
	memcpy(t->prev, l.hash, sizeof(t->prev));
	r = 0;
out:
	free(buf);
	return (r);
}

/* Format "seq=N prev=P BODY hash=H\n" into out at *o; the line's hash goes
 * to hash. */
static int
auditlog_format(char *out, size_t outlen, size_t *o, uint64_t seq,
    const char *prev, const char *body, char hash[AUDITLOG_HEX_LEN + 1])
{
	size_t start = *o;
	int n, r;

	n = snprintf(out + *o, outlen - *o, "seq=%llu prev=%s %s",
	    (unsigned long long)seq, prev, body);
	if (n < 0 || (size_t)n + AUDITLOG_HASH_SUFFIX + 2 > outlen - *o)
		return (BERR_LIMIT);
	if ((r = auditlog_hash(out + start, (size_t)n, hash)) != 0)
		return (r);
	*o += (size_t)n;
	n = snprintf(out + *o, outlen - *o, " hash=%s\n", hash);
	*o += (size_t)n;
	return (0);
}

static void
auditlog_now(char *out, size_t outlen)
{
	struct timeval tv;
	struct tm tm;
	char ts[64];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03ldZ", ts, (long)(tv.tv_usec / 1000));
}

/* One event of a batch (a valid body); *o advances past its line. */
static int
auditlog_batch_line(char *out, size_t outlen, size_t *o, uint64_t *seq,
    char prev[AUDITLOG_HEX_LEN + 1], const char *body,
    char hash[AUDITLOG_HEX_LEN + 1])
{
	int r;

	if ((r = auditlog_format(out, outlen, o, *seq, prev, body, hash)) != 0)
		return (r);
	memcpy(prev, hash, AUDITLOG_HEX_LEN + 1);
	(*seq)++;
	return (0);
}

int
auditlog_append_batch(struct auditlog *al, const char *const *bodies,
    size_t n, uint64_t *seqs, char (*hashes)[AUDITLOG_HEX_LEN + 1], int *res)
{
	struct auditlog_tail t;
	struct stat st;
	char torn[256], ts[96], thash[AUDITLOG_HEX_LEN + 1], *out = NULL;
	size_t o = 0, i, outlen, nvalid = 0;
	uint64_t seq;
	int r, err;

	al->err[0] = '\0';
	for (i = 0; i < n; i++) {
		res[i] = bodies[i] == NULL || strlen(bodies[i]) >
		    AUDITLOG_BODY_MAX || !auditlog_body_ok(bodies[i],
		    strlen(bodies[i])) ? BERR_INVAL : 0;
		nvalid += res[i] == 0;
	}
	if (nvalid == 0)
		return (auditlog_fail(al, BERR_INVAL, "the event is empty, too "
		    "long or holds control characters"));
	outlen = (nvalid + 1) * AUDITLOG_LINE_MAX + 8;
	if (n > AUDITLOG_BATCH_MAX || (out = malloc(outlen)) == NULL)
		return (auditlog_fail(al, BERR_NOMEM, "out of memory"));
	if ((r = auditlog_lock_current(al)) != 0) {
		free(out);
		return (r);
	}
	if (fstat(al->fd, &st) != 0) {
		r = auditlog_fail(al, BERR_SYS, "cannot stat %s: %s", al->path,
		    strerror(errno));
		goto out;
	}
	if ((r = auditlog_read_tail(al, st.st_size, &t)) != 0)
		goto out;
	seq = t.next_seq;
	if (t.torn > 0) {
		/* seal off a torn write: a line break, then a line that
		 * names exactly what was torn */
		out[o++] = '\n';
		auditlog_now(ts, sizeof(ts));
		snprintf(torn, sizeof(torn), "ts=%s event=%s pid=%ld bytes=%zu "
		    "sha256=%s", ts, AUDITLOG_TORN_EVENT, (long)getpid(),
		    t.torn, t.torn_sha);
		if ((r = auditlog_batch_line(out, outlen, &o, &seq, t.prev,
		    torn, thash)) != 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (res[i] != 0)
			continue;
		seqs[i] = seq;
		if ((res[i] = auditlog_batch_line(out, outlen, &o, &seq,
		    t.prev, bodies[i], hashes[i])) != 0 && n == 1) {
			r = auditlog_fail(al, res[i], "the event does not fit "
			    "in a line");
			goto out;
		}
	}
	/* the group commit: one write, one fdatasync for them all */
	if (io_write_all(al->fd, out, o) != 0) {
		err = errno;
		/* keep the file made of whole lines (we hold the lock) */
		if (ftruncate(al->fd, st.st_size) != 0)
			err = errno;
		r = auditlog_fail(al, BERR_SYS, "cannot write to %s: %s",
		    al->path, strerror(err));
		goto out;
	}
	if (fdatasync(al->fd) != 0) {
		r = auditlog_fail(al, BERR_SYS, "cannot sync %s: %s", al->path,
		    strerror(errno));
		goto out;
	}
	if (t.torn > 0)
		snprintf(al->err, sizeof(al->err), "sealed a torn last line "
		    "of %zu bytes in %s (seq %llu)", t.torn, al->path,
		    (unsigned long long)t.next_seq);
	else if (t.last_bad_hash)
		snprintf(al->err, sizeof(al->err), "the line before seq %llu "
		    "in %s does not verify (run bastion-verify --audit %s)",
		    (unsigned long long)t.next_seq, al->path, al->path);
	r = 0;
out:
	flock(al->fd, LOCK_UN);
	free(out);
	return (r);
}

int
auditlog_append(struct auditlog *al, const char *body, uint64_t *seqp,
    char hashp[AUDITLOG_HEX_LEN + 1])
{
	char hash[1][AUDITLOG_HEX_LEN + 1];
	uint64_t seq = 0;
	int r, res = 0;

	if ((r = auditlog_append_batch(al, &body, 1, &seq, hash, &res)) == 0)
		r = res;
	if (r == 0 && seqp != NULL)
		*seqp = seq;
	if (r == 0 && hashp != NULL)
		memcpy(hashp, hash[0], AUDITLOG_HEX_LEN + 1);
	return (r);
}

/* ---- the process-wide chain -------------------------------------------- */

static struct auditlog *auditlog_proc;
static char auditlog_proc_dir[PATH_MAX];
static int auditlog_actor_fd = -1;
static pid_t auditlog_actor_pid;
/* the line this process's last event became (auditlog_last) */
static uint64_t auditlog_last_seq;
static char auditlog_last_hash[AUDITLOG_HEX_LEN + 1];

static void
auditlog_actor_drop(void)
{
	if (auditlog_actor_fd != -1 && auditlog_actor_pid == getpid())
		close(auditlog_actor_fd);
	auditlog_actor_fd = -1;
}

/*
 * Append through the store actor, the chain's single writer, when one
 * runs: 1 handled (r set), 0 not (no actor, or it refuses this process:
 * append directly). A connection that broke before the event was sent is
 * made again once; after it was sent, the event is not appended again.
 */
static int
auditlog_via_actor(const char *line, uint64_t *seq,
    char hash[AUDITLOG_HEX_LEN + 1], int *r)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if ((auditlog_actor_fd == -1 ||
		    auditlog_actor_pid != getpid()) &&
		    (auditlog_actor_fd = -1,
		    store_client_connect(auditlog_proc_dir,
		    &auditlog_actor_fd) != 0))
			return (0);
		auditlog_actor_pid = getpid();
		*r = store_client_append(auditlog_actor_fd, line, seq, hash,
		    auditlog_proc->err, sizeof(auditlog_proc->err));
		if (*r == BERR_DENIED || *r == BERR_CLOSED || *r == BERR_TIMEOUT)
			auditlog_actor_drop();
		if (*r == BERR_DENIED)
			return (0);
		if (*r != BERR_CLOSED || tries > 0)
			break;
	}
	if (*r == BERR_CLOSED || *r == BERR_TIMEOUT)
		snprintf(auditlog_proc->err, sizeof(auditlog_proc->err), "the "
		    "store actor did not confirm the append (%s)",
		    berr_str(*r));
	return (1);
}

static int
auditlog_sink(const char *line, char *note, size_t notelen, void *arg)
{
	char hash[AUDITLOG_HEX_LEN + 1];
	uint64_t seq = 0;
	int r;

	(void)arg;
	if (auditlog_proc == NULL)
		return (0);
	auditlog_proc->err[0] = '\0';
	if (!auditlog_via_actor(line, &seq, hash, &r))
		r = auditlog_append(auditlog_proc, line, &seq, hash);
	if (r != 0) {
		log_error("audit chain: this event is NOT in %s: %s. Sessions "
		    "are refused until it can be written: free space, fix "
		    "the permissions, or check the file with bastion-verify "
		    "--audit (docs/AUDIT.md)", auditlog_proc->path,
		    auditlog_proc->err);
		snprintf(note, notelen, " chain=unwritten");
		return (r);
	}
	if (auditlog_proc->err[0] != '\0')
		log_warn("audit chain: %s", auditlog_proc->err);
	auditlog_last_seq = seq;
	memcpy(auditlog_last_hash, hash, sizeof(auditlog_last_hash));
	/* the journal keeps every line's hash: a witness outside the file */
	snprintf(note, notelen, " chain=%llu:%s", (unsigned long long)seq,
	    hash);
	return (0);
}

int
auditlog_last(uint64_t *seq, char hash[AUDITLOG_HEX_LEN + 1])
{
	*seq = auditlog_last_seq;
	memcpy(hash, auditlog_last_hash, AUDITLOG_HEX_LEN + 1);
	return (auditlog_last_seq != 0 ? 0 : BERR_NOTFOUND);
}

int
auditlog_open(const char *state_dir, int flags)
{
	char path[4096], real[PATH_MAX];
	int r;

	auditlog_close();
	/* the canonical path: it is compared with /proc/self/fd links */
	if (realpath(state_dir, real) != NULL)
		state_dir = real;
	snprintf(auditlog_proc_dir, sizeof(auditlog_proc_dir), "%s",
	    state_dir);
	if ((r = auditlog_path_for(state_dir, path, sizeof(path))) != 0 ||
	    (r = auditlog_new(path, 1, &auditlog_proc)) != 0) {
		log_error("audit chain: cannot use %s/%s: %s", state_dir,
		    AUDITLOG_FILE, berr_str(r));
		return (r);
	}
	if (!(flags & AUDITLOG_LAZY) &&
	    (r = auditlog_reopen(auditlog_proc)) != 0) {
		log_error("audit chain: %s. Create the state directory (%s, "
		    "paths.state_dir in the policy) and make it writable by "
		    "the bastion's user", auditlog_proc->err, state_dir);
		auditlog_close();
		return (r);
	}
	audit_set_sink(auditlog_sink, NULL);
	return (0);
}

void
auditlog_close(void)
{
	audit_set_sink(NULL, NULL);
	auditlog_actor_drop();
	auditlog_free(auditlog_proc);
	auditlog_proc = NULL;
}

const char *
auditlog_path(void)
{
	return (auditlog_proc != NULL ? auditlog_proc->path : NULL);
}

int
auditlog_fd(void)
{
	return (auditlog_proc != NULL && auditlog_proc->pid == getpid() ?
	    auditlog_proc->fd : -1);
}

