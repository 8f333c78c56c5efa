/*
 * clamd.h - ClamAV's clamd as the import airlock's scanner (issue 18,
 * docs/FILES.md): the INSTREAM request written over a connected Unix
 * socket and its one-line reply parsed with explicit bounds. The session
 * child runs this on a socket the monitor connected for it (the child
 * cannot connect) and on a quarantine file the monitor opened for it.
 *
 * Protocol (clamd(8)): "zINSTREAM\0", then chunks as a 4-byte big-endian
 * length and that many bytes, then a length of 0; clamd answers one
 * NUL-terminated line: "stream: OK", "stream: NAME FOUND" or
 * "... ERROR" (for instance "INSTREAM size limit exceeded. ERROR").
 */
#ifndef BASTION_CLAMD_H
#define BASTION_CLAMD_H

#include <stddef.h>
#include <stdint.h>

#define CLAMD_REPLY_MAX		1024	/* bytes of one reply, NUL included */
#define CLAMD_CHUNK		65536	/* bytes per INSTREAM chunk */
#define CLAMD_NAME_MAX		256	/* a signature name */

enum clamd_verdict {
	CLAMD_CLEAN = 0,	/* "stream: OK" */
	CLAMD_FOUND = 1,	/* "stream: NAME FOUND": name set */
};

/*
 * Parse one reply (p, n: the bytes read, the terminating NUL or newline
 * included). CLAMD_CLEAN, CLAMD_FOUND with the signature's name in name
 * (printable ASCII, no space), or BERR_FORMAT with a sentence in name:
 * clamd's own ERROR text, or what was wrong with the reply (no
 * terminator, over CLAMD_REPLY_MAX, a byte that is not printable, no
 * "stream: "). name is always NUL-terminated (cut to namelen).
 */
int clamd_reply_parse(const uint8_t *p, size_t n, char *name,
    size_t namelen);

/* Called with each chunk as it is sent (the caller's hash). */
typedef void (*clamd_chunk_fn)(void *arg, const uint8_t *p, size_t n);

/*
 * Scan size bytes of fd (read with pread from offset 0) through clamd on
 * the connected socket sock, waiting at most timeout_ms for each step.
 * each (may be NULL) sees every chunk. CLAMD_CLEAN, CLAMD_FOUND (name:
 * the signature), or a BERR_* code with a sentence in name (clamd's
 * error, a broken reply, a timeout, a short file). sock is not closed.
 */
int clamd_scan_fd(int sock, int fd, uint64_t size, int timeout_ms,
    clamd_chunk_fn each, void *arg, char *name, size_t namelen);

#endif
