/*
 * fetch.c - a recording by session id from the object store into a local
 * directory, for an auditor or another node: `bastion-ship fetch ID DIR`
 * (docs/RECORDING-STORE.md, "Reading from the store").
 *
 * The id names its by-id entry, "KEY SIZE SHA256\n" (at most 1 KiB,
 * parsed with explicit bounds, in exactly that form: the key must end
 * /ID.brec for this very id; fuzz/fuzz_ship.c); the object is then streamed
 * into DIR/ID.brec.part (created, never an existing file), cut past
 * SIZE, hashed as it comes, and renamed to DIR/ID.brec only when size
 * and SHA-256 match the entry. What the file proves is then for
 * bastion-verify to say, with the recorder's public key: the store is
 * trusted to keep bytes, not to vouch for them. An entry ending " cut"
 * is a recording its crashed recorder never sealed, shipped after its
 * node restarted (shipper.c): it verifies only up to its last checkpoint.
 *
 * And `bastion-ship list ID...`: for each id, whether the store has it
 * (its by-id entry, sealed or cut) or not, for the console's listing of
 * every node's recordings (verbs/cmd-recordings.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "hex.h"
#include "ship.h"


int
ship_index_parse(const char *id, const char *text, size_t len, char *key,
    size_t keylen, unsigned long long *size, char sha[SHIP_SHA256_HEX],
    int *cut)
{
	char k[SHIP_KEY_MAX], want[SHIP_ID_MAX + 8], again[SHIP_INDEX_MAX];
	char line[SHIP_INDEX_MAX], tail;
	size_t kn;
	int c = 0;

	if (cut != NULL)
		*cut = 0;
	/* a terminated copy: text need not be */
	if (len == 0 || len >= SHIP_INDEX_MAX ||
	    memchr(text, '\0', len) != NULL)
		return (-1);
	memcpy(line, text, len);
	line[len] = '\0';
	if (sscanf(line, "%511[!-~] %llu %64[0-9a-f]%c", k, size, sha,
	    &tail) != 4 || (tail != '\n' && tail != ' ') || strlen(sha) != 64)
		return (-1);
	/* " cut": a recording its crashed recorder never sealed */
	c = tail == ' ';
	/* exactly the canonical line: one blank, plain digits, nothing after */
	if ((size_t)snprintf(again, sizeof(again), "%s %llu %s%s\n", k, *size,
	    sha, c ? " " SHIP_INDEX_CUT : "") != len ||
	    memcmp(again, text, len) != 0)
		return (-1);
	/* NODE/YYYY/MM/ID.brec: ends with "/ID.brec", four parts */
	snprintf(want, sizeof(want), "/%s.brec", id);
	kn = strlen(k);
	if (kn <= strlen(want) || strcmp(k + kn - strlen(want), want) != 0 ||
	    strstr(k, "..") != NULL || k[0] == '/' ||
	    (size_t)snprintf(key, keylen, "%s", k) >= keylen)
		return (-1);
	if (cut != NULL)
		*cut = c;
	return (0);
}

int
ship_lookup(const struct s3 *s, const char *id, struct ship_entry *e,
    char *err, size_t errlen)
{
	char idx_key[SHIP_KEY_MAX], text[SHIP_INDEX_MAX];
	struct s3_result res;
	ssize_t n;
	int fd;

	memset(e, 0, sizeof(*e));
	if (!ship_id_ok(id)) {
		snprintf(err, errlen, "%s is not a recording's id", id);
		return (-1);
	}
	snprintf(idx_key, sizeof(idx_key), "by-id/%s", id);
	if ((fd = memfd_create("bastion-fetch", MFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		return (-1);
	}
	if (s3_get(s, idx_key, fd, SHIP_INDEX_MAX - 1, &res) != 0) {
		snprintf(err, errlen, "%s is not in the store (%s: %s)", id,
		    idx_key, res.why);
		close(fd);
		return (res.status == 404 ? 0 : -1);
	}
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (n < 0 || ship_index_parse(id, text, (size_t)n, e->key,
	    sizeof(e->key), &e->size, e->sha, &e->cut) != 0) {
		snprintf(err, errlen, "the store's entry %s is not KEY SIZE "
		    "SHA256 [cut] for this id", idx_key);
		return (-1);
	}
	return (1);
}

int
ship_fetch(const struct s3 *s, const char *id, const char *dir, char *out,
    size_t outlen, char *err, size_t errlen)
{
	char got[SHIP_SHA256_HEX], part[PATH_MAX];
	struct ship_entry e;
	struct s3_result res;
	int fd, r = -1;

	if (ship_lookup(s, id, &e, err, errlen) != 1)
		return (-1);
	if ((size_t)snprintf(out, outlen, "%s/%s.brec", dir, id) >= outlen ||
	    (size_t)snprintf(part, sizeof(part), "%s.part", out) >=
	    sizeof(part)) {
		snprintf(err, errlen, "the directory's path is too long");
		return (-1);
	}
	if (access(out, F_OK) == 0) {
		snprintf(err, errlen, "%s exists: not overwritten", out);
		return (-1);
	}
	if ((fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", part,
		    strerror(errno));
		return (-1);
	}
	if (s3_get(s, e.key, fd, e.size, &res) != 0)
		snprintf(err, errlen, "GET %s: %s", e.key, res.why);
	else if (hex_encode(res.sha256, 32, got), res.bytes != e.size ||
	    strcmp(got, e.sha) != 0)
		snprintf(err, errlen, "%s: %llu bytes with SHA-256 %s, the "
		    "store's entry says %llu bytes, %s: refused", e.key,
		    (unsigned long long)res.bytes, got, e.size, e.sha);
	else if (fsync(fd) != 0 || link(part, out) != 0)
		snprintf(err, errlen, "cannot write %s: %s", out,
		    strerror(errno));
	else
		r = 0;
	close(fd);
	(void)unlink(part);
	return (r);
}

int
ship_list(const struct s3 *s, int n, char *const ids[])
{
	struct ship_entry e;
	char err[600];
	int i, r, rc = 0;

	if (n > SHIP_LIST_MAX) {
		fprintf(stderr, "bastion-ship: list: at most %d ids at once\n",
		    SHIP_LIST_MAX);
		return (1);
	}
	for (i = 0; i < n; i++) {
		/* an id printed is one ship_id_ok() accepted: plain text */
		if (!ship_id_ok(ids[i])) {
			printf("- error not a recording's id\n");
			rc = 1;
			continue;
		}
		if ((r = ship_lookup(s, ids[i], &e, err, sizeof(err))) == 1)
			printf("%s %s %s\n", ids[i], e.cut ? SHIP_INDEX_CUT :
			    "sealed", e.key);
		else if (r == 0)
			printf("%s absent\n", ids[i]);
		else {
			printf("%s error %s\n", ids[i], err);
			rc = 1;
		}
	}
	return (fflush(stdout) != 0 ? 1 : rc);
}
