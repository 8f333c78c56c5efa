/*
 * fuzz_notarize.c - a NOTARIZE request as bastion-recorder handles it
 * (recproto_get_notarize, then recnotary_check on its thread pool):
 * the recording id, the evidence bundle's MANIFEST (which must be exactly
 * the five lines an export writes) and the chain seq, checked against the
 * sample recording and audit chain of fuzz/mkseeds.c, which this target
 * writes into a private directory once.
 *
 * Input: a NOTARIZE body (string recording id, string MANIFEST, uint64
 * chain seq).
 */
#define FUZZ_REC
#include "fuzz.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "auditlog.h"
#include "buf.h"
#include "err.h"
#include "recbundle.h"
#include "recnotary.h"
#include "recproto.h"

static char recdir[128], statedir[128], *pub_pem;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz_notarize.XXXXXX";
	char path[512], head[2 * REC_HASH_LEN + 1];
	struct reckey *k = fuzz_rec_key();
	uint64_t frames;
	int fd;

	(void)argc;
	(void)argv;
	fuzz_tmpdir(dir);
	snprintf(recdir, sizeof(recdir), "%s/rec", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	if (mkdir(statedir, 0700) != 0 || mkdir(recdir, 0700) != 0 ||
	    recwriter_create_file(recdir, FUZZ_REC_ID, FUZZ_REC_START, path,
	    sizeof(path), &fd) != 0 ||
	    fuzz_rec_write(fd, 1, &frames, head) != 0 ||
	    auditlog_path_for(statedir, path, sizeof(path)) != 0 ||
	    fuzz_chain_write(path, frames, head) != 0 ||
	    reckey_public_pem(k, &pub_pem) != 0)
		abort();
	reckey_free(k);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *m;
	struct buf *body;
	char *recid = NULL, why[512];
	uint64_t seq;
	size_t mlen;

	if ((body = buf_from(data, size)) == NULL)
		abort();
	if (recproto_get_notarize(body, &recid, &m, &mlen, &seq) == 0)
		(void)recnotary_check(recdir, statedir, pub_pem, recid,
		    m, mlen, seq, why, sizeof(why));
	free(recid);
	buf_free(body);
	return (0);
}
