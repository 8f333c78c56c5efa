/*
 * fuzz.h - what every libFuzzer target in fuzz/ shares (fuzz/README.md).
 *
 * One target per parser of untrusted input: each fuzz_NAME.c defines
 * LLVMFuzzerTestOneInput and feeds the bytes to the parser exactly as the
 * program that faces the untrusted peer does, then to whatever that
 * program does next with a parsed value (verify, format, compare), so the
 * sanitizers see every byte the parser hands on. A target must not keep
 * state between inputs; what it sets up once (a key, a policy) it does in
 * LLVMFuzzerInitialize.
 */
#ifndef BASTION_FUZZ_H
#define BASTION_FUZZ_H

#include <sys/stat.h>

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated heap copy of data (for parsers of C strings); aborts
 * when out of memory, which libFuzzer reports. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return (s);
}

/* A private directory under /tmp for this process (template
 * "/tmp/NAME.XXXXXX", changed in place), removed with what it holds when
 * the process exits normally. */
static char *fuzz_tmpdir_path;

static inline int
fuzz_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(p) != 0);
}

static inline void
fuzz_tmpdir_remove(void)
{
	if (fuzz_tmpdir_path != NULL)
		(void)nftw(fuzz_tmpdir_path, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *
fuzz_tmpdir(char *template)
{
	if (mkdtemp(template) == NULL)
		abort();
	fuzz_tmpdir_path = template;
	atexit(fuzz_tmpdir_remove);
	return (template);
}

/* Split off the first line of data (up to '\n', not included): for
 * targets whose input is several strings. Returns its length and advances
 * the pointer and size past the newline. */
static inline size_t
fuzz_line(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl != NULL ? (size_t)(nl - *data) : *size;

	*data += n + (nl != NULL);
	*size -= n + (nl != NULL);
	return (n);
}

/* ---- the fixed security key of fuzz_agent and fuzz_sk ------------------ */
#ifdef FUZZ_SK_KEY
#include <openssl/evp.h>

#include "buf.h"
#include "sk.h"

#define FUZZ_SK_APP	"ssh:"
#define FUZZ_SK_CHAL	"bastion fuzz challenge"

/* The Ed25519 key every seed is signed with (a fixed private seed, so
 * that mkseeds makes signatures the targets verify as valid). */
static inline EVP_PKEY *
fuzz_sk_pkey(void)
{
	uint8_t seed[32];

	memset(seed, 0x42, sizeof(seed));
	return (EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    sizeof(seed)));
}

/* Its sk-ssh-ed25519 public key blob, into *b (new; caller frees). */
static inline int
fuzz_sk_blob(struct buf **b)
{
	EVP_PKEY *pk = fuzz_sk_pkey();
	uint8_t pub[32];
	size_t publen = sizeof(pub);
	int r = -1;

	if (pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &publen) == 1 &&
	    (*b = buf_new(512)) != NULL) {
		if (buf_put_cstring(*b, SK_TYPE_ED25519) == 0 &&
		    buf_put_string(*b, pub, publen) == 0 &&
		    buf_put_cstring(*b, FUZZ_SK_APP) == 0)
			r = 0;
	}
	EVP_PKEY_free(pk);
	return (r);
}

/* That key as sk.c parses it, for targets that check signatures against
 * it, made on the first call; aborts when the fixed key does not parse
 * (the harness is broken). */
static inline const struct sk_key *
fuzz_sk_fixed(void)
{
	static struct sk_key k;
	static int done;
	struct buf *b = NULL;

	if (done)
		return (&k);
	if (fuzz_sk_blob(&b) != 0 ||
	    sk_key_from_blob(buf_ptr(b), buf_len(b), &k) != 0)
		abort();
	buf_free(b);
	done = 1;
	return (&k);
}
#endif

/* ---- the sample recording and audit chain of fuzz/mkseeds.c -------------- */
#ifdef FUZZ_REC
#include <stdio.h>
#include <unistd.h>

#include "auditlog.h"
#include "buf.h"
#include "hex.h"
#include "recfmt.h"
#include "reckey.h"
#include "recwriter.h"

#define FUZZ_REC_ID	"20261102T101500Z-0123456789abcdef"
#define FUZZ_REC_REF	"7"
#define FUZZ_REC_START	1793614500000000ULL	/* 2026-11-02 10:15:00 UTC */

/* The recorder key the seeds are signed with (a fixed seed). */
static inline struct reckey *
fuzz_rec_key(void)
{
	uint8_t seed[RECKEY_SEED_LEN];
	struct reckey *k = NULL;

	memset(seed, 0x5a, sizeof(seed));
	if (reckey_from_seed(seed, &k) != 0)
		abort();
	return (k);
}

/* Append one frame of each kind a worker sends (payloads as recfmt.h
 * describes them), at times from t on. */
static inline int
fuzz_rec_frames(struct recwriter *w, uint64_t t)
{
	static const char out[] = "$ ls\r\n\033[1;32mok\033[0m \033]52;c;"
	    "aGk=\007 caf\xc3\xa9 \x9b" "6n\r\n";
	struct buf *b = buf_new(4096);
	int r = 0;

#define F(type, ch) do {						\
	if (r == 0)							\
		r = recwriter_append(w, type, ch, buf_ptr(b), buf_len(b), \
		    t += 1000);						\
	buf_reset(b);							\
} while (0)
	if (b == NULL)
		return (-1);
	(void)(buf_put_cstring(b, "xterm-256color") ||
	    buf_put_u32(b, 80) || buf_put_u32(b, 24));
	F(REC_PTY_REQ, 0);
	F(REC_SHELL, 0);
	(void)buf_put(b, "ls\r", 3);
	F(REC_INPUT, 0);
	(void)buf_put(b, out, sizeof(out) - 1);
	F(REC_OUTPUT, 0);
	(void)buf_put(b, "warning\n", 8);
	F(REC_STDERR, 0);
	(void)(buf_put_u32(b, 132) || buf_put_u32(b, 50));
	F(REC_WINDOW_CHANGE, 0);
	(void)(buf_put_cstring(b, "127.0.1.10") || buf_put_u32(b, 443) ||
	    buf_put_cstring(b, "127.0.0.1") || buf_put_u32(b, 50000));
	F(REC_FWD_OPEN, 2);
	(void)(buf_put_u8(b, REC_DIR_TO_DEVICE) ||
	    buf_put(b, "GET / HTTP/1.0\r\n\r\n", 18));
	F(REC_FWD_DATA, 2);
	F(REC_FWD_CLOSE, 2);
	(void)(buf_put_cstring(b, "work.record") ||
	    buf_put_cstring(b, "replaced the X-ray tube"));
	F(REC_EVENT, 0);
	(void)buf_put_u8(b, REC_DIR_FROM_DEVICE);
	F(REC_EOF, 0);
	(void)buf_put_u32(b, 0);
	F(REC_EXIT_STATUS, 0);
	(void)buf_put_cstring(b, "sftp");
	F(REC_SUBSYSTEM, 1);
	(void)buf_put_cstring(b, "uptime");
	F(REC_EXEC, 3);
	(void)(buf_put_cstring(b, "KILL") || buf_put_u8(b, 0) ||
	    buf_put_cstring(b, "killed"));
	F(REC_EXIT_SIGNAL, 3);
#undef F
	buf_free(b);
	return (r);
}

/*
 * Write the sample recording to fd (closed in every case): HEADER, the
 * frames above, a CHECKPOINT, more frames and, if sealed, the SEAL. Its
 * frame count and head go to *frames and head_hex (may be NULL). Every
 * run writes the same bytes (Ed25519 signatures are deterministic).
 */
static inline int
fuzz_rec_write(int fd, int sealed, uint64_t *frames,
    char head_hex[2 * REC_HASH_LEN + 1])
{
	struct reckey *k = fuzz_rec_key();
	struct recwriter *w = NULL;
	struct rec_hdr h;
	int r;

	memset(&h, 0, sizeof(h));
	if ((r = recfmt_hdr_add(&h, "session", FUZZ_REC_ID)) != 0 ||
	    (r = recfmt_hdr_add(&h, "ref", FUZZ_REC_REF)) != 0 ||
	    (r = recfmt_hdr_add(&h, "engineer", "alice")) != 0 ||
	    (r = recfmt_hdr_add(&h, "vendor", "acme")) != 0 ||
	    (r = recfmt_hdr_add(&h, "device", "ct-scanner")) != 0 ||
	    (r = recfmt_hdr_add(&h, "start", "2026-11-02T10:15:00Z")) != 0) {
		close(fd);
		goto out;
	}
	if ((r = recwriter_open(fd, k, &h, &w)) != 0)	/* closes fd */
		goto out;
	if ((r = fuzz_rec_frames(w, 0)) != 0 ||
	    (r = recwriter_checkpoint(w, 20000)) != 0 ||
	    (r = fuzz_rec_frames(w, 30000)) != 0)
		goto out;
	if (sealed && (r = recwriter_seal(w, REC_END_NORMAL, "session ended",
	    90000)) != 0)
		goto out;
	if (frames != NULL)
		*frames = recwriter_frames(w);
	if (head_hex != NULL)
		hex_encode(recwriter_head(w), REC_HASH_LEN, head_hex);
out:
	recwriter_free(w);
	recfmt_hdr_clear(&h);
	reckey_free(k);
	return (r);
}

/* Write the sample audit chain (the session's lines and others') to path,
 * ending with the recorder's recording.sealed line for frames/head. */
static inline int
fuzz_chain_write(const char *path, uint64_t frames, const char *head_hex)
{
	static const char *const lines[] = {
		"ts=2026-11-02T10:14:58Z event=bastion.start pid=1 version=1",
		"ts=2026-11-02T10:14:59Z event=auth.result pid=4242 "
		    "session=" FUZZ_REC_REF " user=alice result=ok "
		    "from=127.0.0.1 key=\"SHA256:abc def\"",
		"ts=2026-11-02T10:15:00Z event=approval.request pid=4242 "
		    "session=" FUZZ_REC_REF " request=3 device=ct-scanner",
		"ts=2026-11-02T10:15:00Z event=approval.granted pid=99 "
		    "request=3 grant=5 by=bob reason=\"tube \\\"swap\\\"\"",
		"ts=2026-11-02T10:15:00Z event=session.recording pid=4242 "
		    "session=" FUZZ_REC_REF " recording=" FUZZ_REC_ID,
		"ts=2026-11-02T10:15:01Z event=session.end pid=77 session=8 "
		    "user=gina",
		"ts=2026-11-02T10:16:30Z event=session.end pid=4242 "
		    "session=" FUZZ_REC_REF " reason=normal grant=5",
	};
	struct auditlog *al = NULL;
	char last[512];
	size_t i;
	int r;

	if ((r = auditlog_new(path, 1, &al)) != 0)
		return (r);
	for (i = 0; r == 0 && i < sizeof(lines) / sizeof(lines[0]); i++)
		r = auditlog_append(al, lines[i], NULL, NULL);
	snprintf(last, sizeof(last), "ts=2026-11-02T10:16:31Z "
	    "event=recording.sealed pid=3 session=" FUZZ_REC_ID " frames=%llu "
	    "head=%s", (unsigned long long)frames, head_hex);
	if (r == 0)
		r = auditlog_append(al, last, NULL, NULL);
	auditlog_free(al);
	return (r);
}
#endif

#endif
