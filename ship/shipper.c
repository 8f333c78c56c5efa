/*
 * shipper.c - one pass of bastion-ship over this node's spool: every
 * sealed recording goes to the object store, is read back and compared,
 * and only then is written into the ledger as shipped; with keep_local,
 * a shipped recording leaves the spool once it is old enough and still
 * the very file that was shipped (docs/RECORDING-STORE.md).
 *
 * Sealed means what the recorder promises (docs/RECORDING-FORMAT.md,
 * section 6): it makes a file read-only (0440) only after its SEAL is
 * synced; and, with the recorder's public key, the file verifies as
 * sealed (recverify: every frame, checkpoint and the seal). A file that
 * is still written, or does not verify, is never shipped, and so never
 * removed. A read-only file that verifies up to its last checkpoint but
 * has no seal was cut by a crash: the restarted bastiond made it
 * read-only (nobody writes it any more, bastion/registry.c); it is
 * shipped too, marked cut (its by-id entry ends " cut", its
 * recording.shipped says status=cut and how far it verifies). The ledger (one small file per recording: "SHIPPED BYTES
 * SHA256 KEY") is this program's own directory; the spool is only read,
 * except for the removal after keep_local.
 *
 * A failed try (store down, refused credentials, a hash that does not
 * match what comes back) is audited as recording.ship_failed with the
 * try's number and the wait before the next: the policy's retry, doubled
 * per try, at most an hour (SHIP_RETRY_MAX_S). The recording stays.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "hex.h"
#include "io.h"
#include "log.h"
#include "policy.h"
#include "recfmt.h"
#include "recverify.h"
#include "ship.h"

#define LEDGER_LINE_MAX	(SHIP_KEY_MAX + 128)

int
ship_id_ok(const char *id)
{
	return (recfmt_session_id_valid(id) && strlen(id) <= SHIP_ID_MAX &&
	    strspn(id, "0123456789") >= 8);
}

int
ship_object_key(const char *node, const char *id, char *out, size_t outlen)
{
	if (!ship_id_ok(id) || node == NULL || node[0] == '\0')
		return (-1);
	return ((size_t)snprintf(out, outlen, "%s/%.4s/%.2s/%s.brec", node,
	    id, id + 4, id) >= outlen ? -1 : 0);
}

int
shipper_init(struct shipper *sh, const struct policy *pol,
    const struct reckey *pub, char *err, size_t errlen)
{
	const struct policy_recstore *rs = &pol->recstore;

	memset(sh, 0, sizeof(*sh));
	sh->pol = pol;
	sh->pub = pub;
	if ((size_t)snprintf(sh->ledger, sizeof(sh->ledger), "%s",
	    rs->ledger_dir != NULL ? rs->ledger_dir : "") >= sizeof(sh->ledger) ||
	    (rs->ledger_dir == NULL && (size_t)snprintf(sh->ledger,
	    sizeof(sh->ledger), "%s/shipped", pol->state_dir) >=
	    sizeof(sh->ledger))) {
		snprintf(err, errlen, "the ledger directory's path is too long");
		return (-1);
	}
	if (mkdir(sh->ledger, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make the ledger directory %s: %s",
		    sh->ledger, strerror(errno));
		return (-1);
	}
	if (access(sh->ledger, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "cannot write the ledger directory %s: %s",
		    sh->ledger, strerror(errno));
		return (-1);
	}
	if ((sh->track = calloc(SHIP_TRACK_MAX, sizeof(*sh->track))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (s3_open(&sh->s3, rs, err, errlen) != 0) {
		free(sh->track);
		sh->track = NULL;
		return (-1);
	}
	return (0);
}

void
shipper_free(struct shipper *sh)
{
	if (sh == NULL)
		return;
	s3_close(&sh->s3);
	free(sh->track);
	sh->track = NULL;
}

/* ---- the ledger --------------------------------------------------------- */

struct ledger_entry {
	long long shipped;
	unsigned long long bytes;
	char sha[SHIP_SHA256_HEX];
	char key[SHIP_KEY_MAX];
};

/* 1 and *e when id is in the ledger, 0 when not, -1 on a bad entry. */
static int
ledger_read(const struct shipper *sh, const char *id, struct ledger_entry *e)
{
	char path[PATH_MAX], line[LEDGER_LINE_MAX + 1], tail;
	size_t n = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", sh->ledger, id) >=
	    sizeof(path))
		return (-1);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return (errno == ENOENT ? 0 : -1);
	if (io_read_upto(fd, line, LEDGER_LINE_MAX, &n) != 0) {
		close(fd);
		return (-1);
	}
	close(fd);
	line[n] = '\0';
	if (sscanf(line, "%lld %llu %64[0-9a-f] %511[!-~]%c", &e->shipped,
	    &e->bytes, e->sha, e->key, &tail) != 5 || tail != '\n' ||
	    strlen(e->sha) != 64)
		return (-1);
	return (1);
}

static int
ledger_write(const struct shipper *sh, const char *id,
    const struct ledger_entry *e)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[LEDGER_LINE_MAX];
	int fd, n, r = -1;

	n = snprintf(line, sizeof(line), "%lld %llu %s %s\n", e->shipped,
	    e->bytes, e->sha, e->key);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", sh->ledger, id) >=
	    sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.part", sh->ledger, id) >=
	    sizeof(tmp))
		return (-1);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) < 0)
		return (-1);
	if (io_write_all(fd, line, (size_t)n) == 0 && fsync(fd) == 0 &&
	    rename(tmp, path) == 0)
		r = 0;
	close(fd);
	if (r != 0)
		(void)unlink(tmp);
	return (r);
}

/* ---- backoff ------------------------------------------------------------ */

static struct ship_track *
track_find(struct shipper *sh, const char *id, int make)
{
	size_t i, j;

	for (i = 0; i < sh->ntrack; i++)
		if (strcmp(sh->track[i].id, id) == 0)
			return (&sh->track[i]);
	if (!make)
		return (NULL);
	if (sh->ntrack == SHIP_TRACK_MAX) {
		/* full: forget the entry that may try soonest (it is tried
		 * again at once, as after a restart) */
		for (i = 0, j = 1; j < sh->ntrack; j++)
			if (sh->track[j].next < sh->track[i].next)
				i = j;
	} else
		i = sh->ntrack++;
	memset(&sh->track[i], 0, sizeof(sh->track[i]));
	snprintf(sh->track[i].id, sizeof(sh->track[i].id), "%s", id);
	return (&sh->track[i]);
}

static void
track_forget(struct shipper *sh, const char *id)
{
	struct ship_track *t;

	if ((t = track_find(sh, id, 0)) != NULL)
		*t = sh->track[--sh->ntrack];
}

/* ---- one recording ------------------------------------------------------ */

/* SHA-256 and size of the whole of fd. */
static int
hash_fd(int fd, uint8_t sha[32], uint64_t *size)
{
	static uint8_t chunk[1 << 16];
	EVP_MD_CTX *md;
	unsigned int n = 0;
	size_t got;
	off_t off = 0;
	int r = -1;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		if (io_pread_upto(fd, chunk, sizeof(chunk), off, &got) != 0)
			goto out;
		if (got == 0)
			break;
		if (EVP_DigestUpdate(md, chunk, got) != 1)
			goto out;
		off += (off_t)got;
	}
	if (EVP_DigestFinal_ex(md, sha, &n) == 1 && n == 32) {
		*size = (uint64_t)off;
		r = 0;
	}
out:
	EVP_MD_CTX_free(md);
	return (r);
}

/*
 * Does fd verify with the recorder's key: 1 sealed; 2 cut (no seal, every
 * frame consistent and what a checkpoint signed verifies: a recording
 * whose recorder crashed, made read-only by the restarted bastiond), with
 * how far it verifies in cut; 0 (why) for anything else.
 */
static int
sealed_ok(const struct shipper *sh, int fd, char *why, size_t whylen,
    char *cut, size_t cutlen)
{
	struct recverify_report rep;
	FILE *fp;
	int fd2, v;

	if (sh->pub == NULL)
		return (1);
	if ((fd2 = dup(fd)) < 0 || (fp = fdopen(fd2, "r")) == NULL) {
		if (fd2 >= 0)
			close(fd2);
		snprintf(why, whylen, "cannot read it: %s", strerror(errno));
		return (0);
	}
	memset(&rep, 0, sizeof(rep));
	v = recverify_fp(fp, sh->pub, &rep);
	fclose(fp);
	if (v == RECVERIFY_UNSEALED && rep.verified > 0)
		snprintf(cut, cutlen, "never sealed: frames 0..%llu verify "
		    "(signed by checkpoint seq %llu), %llu after it do not",
		    (unsigned long long)rep.verified - 1,
		    (unsigned long long)rep.last_signed_seq,
		    (unsigned long long)rep.unverified);
	else if (v == RECVERIFY_UNSEALED)
		snprintf(cut, cutlen, "never sealed: no checkpoint, none of "
		    "its %llu frame(s) verifies",
		    (unsigned long long)rep.unverified);
	else if (v != RECVERIFY_OK)
		snprintf(why, whylen, "it does not verify (%s%s%s)",
		    v == RECVERIFY_ALTERED ? "altered" : "unreadable",
		    rep.why[0] != '\0' ? ": " : "", rep.why);
	recverify_report_clear(&rep);
	return (v == RECVERIFY_OK ? 1 : v == RECVERIFY_UNSEALED ? 2 : 0);
}

static void
failed(struct shipper *sh, const char *id, const char *path, const char *key,
    const char *why, time_t now, struct ship_stats *st)
{
	struct ship_track *t = track_find(sh, id, 1);
	unsigned long long wait = sh->pol->recstore.retry;
	char tries[24], in[24];
	unsigned i;

	t->tries++;
	for (i = 1; i < t->tries && wait < SHIP_RETRY_MAX_S; i++)
		wait *= 2;
	if (wait > SHIP_RETRY_MAX_S)
		wait = SHIP_RETRY_MAX_S;
	t->next = now + (time_t)wait;
	snprintf(tries, sizeof(tries), "%u", t->tries);
	snprintf(in, sizeof(in), "%llu", wait);
	(void)audit_ev(BEV_RECORDING_SHIP_FAILED, "session", id, "path", path,
	    "key", key, "reason", why, "tries", tries, "retry_in", in, NULL);
	st->failed++;
}

/* Ship the sealed recording open as fd: in the ledger when it went well,
 * else audited as failed with its backoff. */
static void
ship_one(struct shipper *sh, const char *id, const char *path, int fd,
    time_t now, struct ship_stats *st)
{
	struct ledger_entry e;
	struct s3_result res;
	char key[SHIP_KEY_MAX], idx_key[SHIP_KEY_MAX], idx[SHIP_KEY_MAX + 100];
	char why[600], bytes[24], tries[24], cut[200];
	uint8_t sha[32];
	uint64_t size;
	struct ship_track *t;
	int n, v;

	memset(&e, 0, sizeof(e));
	if (ship_object_key(sh->pol->store_node, id, key, sizeof(key)) != 0 ||
	    (size_t)snprintf(idx_key, sizeof(idx_key), "by-id/%s", id) >=
	    sizeof(idx_key)) {
		failed(sh, id, path, "-", "no object key for this id", now, st);
		return;
	}
	if ((v = sealed_ok(sh, fd, why, sizeof(why), cut, sizeof(cut))) == 0) {
		failed(sh, id, path, key, why, now, st);
		return;
	}
	if (hash_fd(fd, sha, &size) != 0) {
		failed(sh, id, path, key, "cannot read the recording", now, st);
		return;
	}
	hex_encode(sha, 32, e.sha);
	if (s3_put_fd(&sh->s3, key, fd, size, e.sha, &res) != 0) {
		snprintf(why, sizeof(why), "PUT: %s", res.why);
		failed(sh, id, path, key, why, now, st);
		return;
	}
	/* what the store gives back must be the file, byte for byte */
	if (s3_get(&sh->s3, key, -1, size, &res) != 0) {
		snprintf(why, sizeof(why), "read back: %s", res.why);
		failed(sh, id, path, key, why, now, st);
		return;
	}
	if (res.bytes != size || memcmp(res.sha256, sha, 32) != 0) {
		failed(sh, id, path, key, "read back: size or SHA-256 differs "
		    "from the local recording", now, st);
		return;
	}
	n = snprintf(idx, sizeof(idx), "%s %llu %s%s\n", key,
	    (unsigned long long)size, e.sha, v == 2 ? " " SHIP_INDEX_CUT : "");
	if (n < 0 || (size_t)n >= sizeof(idx) ||
	    s3_put_mem(&sh->s3, idx_key, idx, (size_t)n, &res) != 0) {
		snprintf(why, sizeof(why), "PUT by-id/%s: %s", id, res.why);
		failed(sh, id, path, key, why, now, st);
		return;
	}
	e.shipped = (long long)now;
	e.bytes = size;
	/* the ledger and the chain name the whole key, prefix and all */
	if ((size_t)snprintf(e.key, sizeof(e.key), "%s%s", sh->s3.prefix,
	    key) >= sizeof(e.key)) {
		failed(sh, id, path, key, "the object key is too long", now,
		    st);
		return;
	}
	if (ledger_write(sh, id, &e) != 0) {
		snprintf(why, sizeof(why), "cannot write the ledger %s: %s",
		    sh->ledger, strerror(errno));
		failed(sh, id, path, key, why, now, st);
		return;
	}
	t = track_find(sh, id, 0);
	snprintf(tries, sizeof(tries), "%u", t != NULL ? t->tries + 1 : 1);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)size);
	if (v == 2)
		(void)audit_ev(BEV_RECORDING_SHIPPED, "session", id, "path",
		    path, "key", e.key, "bytes", bytes, "sha256", e.sha,
		    "tries", tries, "status", SHIP_INDEX_CUT, "reason", cut,
		    NULL);
	else
		(void)audit_ev(BEV_RECORDING_SHIPPED, "session", id, "path",
		    path, "key", e.key, "bytes", bytes, "sha256", e.sha,
		    "tries", tries, NULL);
	track_forget(sh, id);
	st->shipped++;
}

/* keep_local: a shipped recording, old enough, unchanged: removed. */
static void
maybe_remove(struct shipper *sh, int dirfd, const char *name, const char *id,
    const char *path, const struct ledger_entry *e, time_t now,
    struct ship_stats *st)
{
	const struct policy_recstore *rs = &sh->pol->recstore;
	static int told;
	char hex[SHIP_SHA256_HEX];
	uint8_t sha[32];
	uint64_t size;
	int fd;

	if (!rs->keep_local_set || now < e->shipped + (long long)rs->keep_local)
		return;
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (hash_fd(fd, sha, &size) != 0) {
		close(fd);
		return;
	}
	close(fd);
	hex_encode(sha, 32, hex);
	if (size != e->bytes || strcmp(hex, e->sha) != 0) {
		log_warn("%s: not removed: it differs from what was shipped "
		    "(%s)", path, e->key);
		return;
	}
	if (unlinkat(dirfd, name, 0) != 0) {
		if (!told++)
			log_warn("cannot remove shipped recordings from the "
			    "spool (%s: %s): keep_local needs write access to "
			    "the recordings directory", path, strerror(errno));
		return;
	}
	(void)audit_ev(BEV_RECORDING_REMOVED, "session", id, "path", path,
	    "key", e->key, "sha256", e->sha, NULL);
	st->removed++;
}

static void
visit(struct shipper *sh, int dirfd, const char *dir, const char *name,
    time_t now, struct ship_stats *st)
{
	char id[SHIP_ID_MAX + 1], path[PATH_MAX];
	struct ledger_entry e;
	struct ship_track *t;
	struct stat sb;
	size_t n = strlen(name);
	int fd, in;

	if (n <= 5 || strcmp(name + n - 5, ".brec") != 0 || n - 5 > SHIP_ID_MAX)
		return;
	memcpy(id, name, n - 5);
	id[n - 5] = '\0';
	if (!ship_id_ok(id) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return;
	if ((in = ledger_read(sh, id, &e)) != 0) {
		if (in == 1)
			maybe_remove(sh, dirfd, name, id, path, &e, now, st);
		else
			log_warn("%s/%s: not a ledger entry: left alone",
			    sh->ledger, id);
		return;
	}
	if ((t = track_find(sh, id, 0)) != NULL && t->next > now) {
		st->waiting++;
		return;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	/* read-only once the recorder has synced its SEAL */
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 0222) != 0)
		st->waiting++;
	else
		ship_one(sh, id, path, fd, now, st);
	close(fd);
}

/* Names of n digits, as the spool's YYYY, MM and DD directories. */
static int
digits(const char *s, size_t n)
{
	return (strlen(s) == n && strspn(s, "0123456789") == n);
}

/* The spool's directories at depth (0: YYYY, 1: MM, 2: DD, 3: files). */
static void
walk(struct shipper *sh, int dirfd, const char *dir, int depth, time_t now,
    struct ship_stats *st)
{
	static const size_t width[] = { 4, 2, 2 };
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd;

	if ((d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (depth == 3) {
			visit(sh, dirfd, dir, de->d_name, now, st);
			continue;
		}
		if (!digits(de->d_name, width[depth]) ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
		    de->d_name) >= sizeof(sub) ||
		    (fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		walk(sh, fd, sub, depth + 1, now, st);
	}
	closedir(d);
}

void
shipper_pass(struct shipper *sh, time_t now, struct ship_stats *st)
{
	int fd;

	memset(st, 0, sizeof(*st));
	if ((fd = open(sh->pol->recordings_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		log_error("cannot read the recordings directory %s: %s",
		    sh->pol->recordings_dir, strerror(errno));
		return;
	}
	walk(sh, fd, sh->pol->recordings_dir, 0, now, st);
}
