/*
 * softsk_state.c - the software key's persistent state and its switches.
 *
 * Everything lives in one directory, $SOFTSK_DIR or else $HOME/.softsk,
 * created 0700.  The tests flip switches while a long-lived ssh-agent keeps
 * the provider loaded, so nothing here is cached: every operation resolves
 * the directory and looks at the files again.
 *
 *   counter      decimal signature counter, advanced under "lock"
 *   no-touch     signatures carry UP = 0 (nobody touched the key)
 *   uv           signatures carry UV = 1 (PIN verified)
 *   fail         every operation reports "device not found"
 *   aaguid       32 hex digits, the AAGUID in attestations
 *   log          one line appended per operation
 *   lock         flock(2) target serialising writers
 *   master.key, ca.key, ca.pem, attest.key   created on first enrolment
 *
 * Shared files are replaced by write-to-temporary, fsync and rename while
 * the lock is held, so a crash leaves either the old or the new content.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "softsk.h"

/* "SoftSK-Test-Only": an AAGUID no real authenticator carries. */
static const uint8_t softsk_default_aaguid[SOFTSK_AAGUID_LEN] = {
	'S', 'o', 'f', 't', 'S', 'K', '-', 'T',
	'e', 's', 't', '-', 'O', 'n', 'l', 'y'
};

#define SOFTSK_LOG_LINE_MAX	1024

void
softsk_debug(const char *fmt, ...)
{
	const char *e = getenv("SOFTSK_DEBUG");
	char line[SOFTSK_LOG_LINE_MAX];
	va_list ap;

	if (e == NULL || *e == '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* stderr only: stdout is ssh-sk-helper's protocol channel */
	fprintf(stderr, "softsk: %s\n", line);
}

int
softsk_state_open(struct softsk_state *st)
{
	const char *dir = getenv("SOFTSK_DIR");
	const char *home;
	struct passwd *pw;
	struct stat sb;
	int n;

	memset(st, 0, sizeof(*st));
	if (dir != NULL && *dir != '\0') {
		n = snprintf(st->dir, sizeof(st->dir), "%s", dir);
	} else {
		if ((home = getenv("HOME")) == NULL || *home == '\0') {
			if ((pw = getpwuid(getuid())) == NULL) {
				softsk_debug("no SOFTSK_DIR, no HOME and no "
				    "passwd entry: set SOFTSK_DIR");
				return SSH_SK_ERR_GENERAL;
			}
			home = pw->pw_dir;
		}
		n = snprintf(st->dir, sizeof(st->dir), "%s/.softsk", home);
	}
	if (n < 0 || (size_t)n >= sizeof(st->dir)) {
		softsk_debug("state directory path too long");
		return SSH_SK_ERR_GENERAL;
	}
	if (mkdir(st->dir, 0700) != 0 && errno != EEXIST) {
		softsk_debug("mkdir %s: %s", st->dir, strerror(errno));
		return SSH_SK_ERR_GENERAL;
	}
	if (stat(st->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		softsk_debug("%s is not a directory", st->dir);
		return SSH_SK_ERR_GENERAL;
	}
	return 0;
}

int
softsk_state_path(const struct softsk_state *st, const char *name,
    char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", st->dir, name);

	if (n < 0 || (size_t)n >= outlen) {
		softsk_debug("path too long: %s/%s", st->dir, name);
		return SSH_SK_ERR_GENERAL;
	}
	return 0;
}

int
softsk_state_switch(const struct softsk_state *st, const char *name)
{
	char path[PATH_MAX];

	if (softsk_state_path(st, name, path, sizeof(path)) != 0)
		return 0;
	return access(path, F_OK) == 0;
}

int
softsk_state_lock(const struct softsk_state *st, int *fdp)
{
	char path[PATH_MAX];
	int fd;

	*fdp = -1;
	if (softsk_state_path(st, "lock", path, sizeof(path)) != 0)
		return SSH_SK_ERR_GENERAL;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		softsk_debug("open %s: %s", path, strerror(errno));
		return SSH_SK_ERR_GENERAL;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		softsk_debug("flock %s: %s", path, strerror(errno));
		close(fd);
		return SSH_SK_ERR_GENERAL;
	}
	*fdp = fd;
	return 0;
}

void
softsk_state_unlock(int fd)
{
	if (fd == -1)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

int
softsk_state_read(const struct softsk_state *st, const char *name,
    uint8_t **datap, size_t *lenp)
{
	char path[PATH_MAX];
	struct stat sb;
	uint8_t *data = NULL;
	size_t have = 0, cap = 0;
	ssize_t got;
	int fd = -1, r = SSH_SK_ERR_GENERAL;

	*datap = NULL;
	*lenp = 0;
	if (softsk_state_path(st, name, path, sizeof(path)) != 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			r = SSH_SK_ERR_DEVICE_NOT_FOUND;
		else
			softsk_debug("open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > SOFTSK_FILE_MAX) {
		softsk_debug("%s: not a regular file of at most %d bytes",
		    path, SOFTSK_FILE_MAX);
		goto out;
	}
	cap = (size_t)sb.st_size + 1;
	if ((data = malloc(cap)) == NULL)
		goto out;
	while (have < cap - 1) {
		got = read(fd, data + have, cap - 1 - have);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			softsk_debug("read %s failed", path);
			goto out;
		}
		have += (size_t)got;
	}
	data[have] = '\0';
	*datap = data;
	*lenp = have;
	data = NULL;
	r = 0;
 out:
	if (data != NULL) {
		OPENSSL_cleanse(data, cap);
		free(data);
	}
	if (fd != -1)
		close(fd);
	return r;
}

int
softsk_state_write(const struct softsk_state *st, const char *name,
    const void *data, size_t len, unsigned int mode)
{
	char path[PATH_MAX], tmp[PATH_MAX], tmpname[128];
	const uint8_t *p = data;
	size_t done = 0;
	ssize_t put;
	int fd = -1, r = SSH_SK_ERR_GENERAL;

	snprintf(tmpname, sizeof(tmpname), "%s.tmp.%ld", name, (long)getpid());
	if (softsk_state_path(st, name, path, sizeof(path)) != 0 ||
	    softsk_state_path(st, tmpname, tmp, sizeof(tmp)) != 0)
		return SSH_SK_ERR_GENERAL;
	(void)unlink(tmp);	/* a leftover from a crashed process */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    (mode_t)mode)) == -1) {
		softsk_debug("create %s: %s", tmp, strerror(errno));
		return SSH_SK_ERR_GENERAL;
	}
	while (done < len) {
		put = write(fd, p + done, len - done);
		if (put == -1 && errno == EINTR)
			continue;
		if (put <= 0) {
			softsk_debug("write %s: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)put;
	}
	if (fsync(fd) != 0) {
		softsk_debug("fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		softsk_debug("rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (r != 0)
		(void)unlink(tmp);
	return r;
}

/* Parses a decimal counter: digits, then optional trailing whitespace. */
static int
softsk_parse_counter(const char *s, uint32_t *valp)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return SSH_SK_ERR_GENERAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return SSH_SK_ERR_GENERAL;
	}
	for (; *p != '\0'; p++) {
		if (!isspace((unsigned char)*p))
			return SSH_SK_ERR_GENERAL;
	}
	*valp = (uint32_t)v;
	return 0;
}

int
softsk_state_counter_get(const struct softsk_state *st, uint32_t *valp)
{
	uint8_t *data = NULL;
	size_t len;
	int r;

	*valp = 0;
	if ((r = softsk_state_read(st, "counter", &data, &len)) != 0)
		return r == SSH_SK_ERR_DEVICE_NOT_FOUND ? 0 : r;
	if ((r = softsk_parse_counter((const char *)data, valp)) != 0)
		softsk_debug("%s/counter: not a decimal number below 2^32 "
		    "(write one, or delete the file to restart at 0)",
		    st->dir);
	free(data);
	return r;
}

int
softsk_state_counter_next(const struct softsk_state *st, uint32_t *valp)
{
	char text[16];
	uint32_t cur;
	int fd = -1, n, r;

	*valp = 0;
	if ((r = softsk_state_lock(st, &fd)) != 0)
		return r;
	if ((r = softsk_state_counter_get(st, &cur)) != 0)
		goto out;
	if (cur == UINT32_MAX) {
		softsk_debug("counter exhausted");
		r = SSH_SK_ERR_GENERAL;
		goto out;
	}
	cur++;
	n = snprintf(text, sizeof(text), "%lu\n", (unsigned long)cur);
	if ((r = softsk_state_write(st, "counter", text, (size_t)n,
	    0600)) != 0)
		goto out;
	*valp = cur;
 out:
	softsk_state_unlock(fd);
	return r;
}

static int
softsk_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
softsk_state_aaguid(const struct softsk_state *st,
    uint8_t aaguid[SOFTSK_AAGUID_LEN])
{
	uint8_t *data = NULL;
	size_t len, i, nibbles = 0;
	int r, v;

	memcpy(aaguid, softsk_default_aaguid, SOFTSK_AAGUID_LEN);
	if ((r = softsk_state_read(st, "aaguid", &data, &len)) != 0)
		return r == SSH_SK_ERR_DEVICE_NOT_FOUND ? 0 : r;
	r = 0;
	/* 32 hex digits; dashes (UUID form) and whitespace are skipped */
	for (i = 0; i < len && r == 0; i++) {
		if (data[i] == '-' || isspace(data[i]))
			continue;
		if ((v = softsk_hexval(data[i])) < 0 ||
		    nibbles >= 2 * SOFTSK_AAGUID_LEN) {
			r = SSH_SK_ERR_GENERAL;
			break;
		}
		if (nibbles % 2 == 0)
			aaguid[nibbles / 2] = (uint8_t)(v << 4);
		else
			aaguid[nibbles / 2] |= (uint8_t)v;
		nibbles++;
	}
	if (r != 0 || nibbles != 2 * SOFTSK_AAGUID_LEN) {
		softsk_debug("%s/aaguid: want 32 hex digits", st->dir);
		r = SSH_SK_ERR_GENERAL;
	}
	free(data);
	return r;
}

void
softsk_state_log(const struct softsk_state *st, const char *fmt, ...)
{
	char path[PATH_MAX], line[SOFTSK_LOG_LINE_MAX], stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	size_t len, i;
	int fd, n;

	if (softsk_state_path(st, "log", path, sizeof(path)) != 0)
		return;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	n = snprintf(line, sizeof(line), "%s pid=%ld ", stamp, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one line per operation, whatever the application string held */
	len = strlen(line);
	for (i = 0; i < len; i++) {
		if (!isprint((unsigned char)line[i]))
			line[i] = '?';
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return;
	(void)!write(fd, line, len);	/* O_APPEND: one write, one line */
	close(fd);
}
