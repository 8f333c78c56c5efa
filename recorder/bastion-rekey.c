/*
 * bastion-rekey.c - change who can open encrypted recordings without
 * re-encrypting them (docs/RECORDING-FORMAT.md, section 13.4).
 *
 *   bastion-rekey -k RECORDER_KEY -i IDENTITY -r RECIPIENT... [-a STATE_DIR]
 *                 FILE...
 *
 * For each sealed format 2 recording: verify it, unwrap its file key with
 * IDENTITY (an age identity file of a current recipient: an auditor's key
 * or the escrow key put back together with bastion-escrow), wrap it to
 * exactly the recipients given (-r, the new set: to add one, list the old
 * ones too; to remove one, leave it out), sign the change with the
 * recorder's key (so bastion-verify accepts the new key header with the
 * public key alone) and replace the file's key block. No frame changes,
 * no payload is decrypted. Each rewrap is audited (recording.rewrap, with
 * the old and new key header hashes) when -a names the state directory.
 * Run it as the recorder's user or root on the bastion: it needs the
 * recorder's private key.
 *
 * A recipient removed this way cannot open the rewrapped file; copies of
 * the file made before (backups, exported bundles) keep their old key
 * block, so rotate keys before handing out copies, and keep backups
 * rewrapped too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "age.h"
#include "auditlog.h"
#include "err.h"
#include "log.h"
#include "prog.h"
#include "recenc.h"
#include "reckey.h"
#include "recreader.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastion-rekey -k RECORDER_KEY -i IDENTITY -r RECIPIENT... "
	    "[-a STATE_DIR] FILE...\n"
	    "  -k RECORDER_KEY  the recorder's private signing key (signs the "
	    "rewrap)\n"
	    "  -i IDENTITY      age identity file of a current recipient\n"
	    "  -r RECIPIENT     a recipient of the new set (age1...; "
	    "repeatable): the\n"
	    "                   set replaces the old one\n"
	    "  -a STATE_DIR     audit each rewrap in STATE_DIR/audit.log\n");
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { PROG_OPTS_END };
	static const struct prog prog = { "k:i:r:a:h", longopts, usage, 3, 1,
	    -1 };
	uint8_t rcpt[AGE_MAX_RECIPIENTS][AGE_KEY_LEN];
	uint8_t ids[AGE_MAX_IDENTITIES][AGE_KEY_LEN];
	const char *keyfile = NULL, *idfile = NULL, *statedir = NULL;
	char old_hex[65], new_hex[65], why[512], num[24];
	struct reckey *key = NULL;
	struct rec_hdr h;
	size_t nr = 0, nids = 0;
	unsigned bad = 0;
	int ch, rc, i, failed = 0;

	log_init("bastion-rekey", 0, LOG_LVL_WARN);
	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			break;
		case 'i':
			idfile = optarg;
			break;
		case 'a':
			statedir = optarg;
			break;
		case 'r':
			if (nr >= AGE_MAX_RECIPIENTS ||
			    age_recipient_decode(optarg, rcpt[nr]) != 0) {
				fprintf(stderr, "bastion-rekey: -r %s: not an "
				    "age recipient (age1...), or more than "
				    "%d\n", optarg, AGE_MAX_RECIPIENTS);
				return (3);
			}
			nr++;
			break;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	if (keyfile == NULL || idfile == NULL || nr == 0)
		return (prog_usage(&prog));
	if ((rc = reckey_load_private(keyfile, &key)) != 0) {
		fprintf(stderr, "bastion-rekey: cannot load the recorder key "
		    "%s: %s\n", keyfile, berr_str(rc));
		return (3);
	}
	if ((rc = age_identity_file_read(idfile, ids, AGE_MAX_IDENTITIES,
	    &nids, &bad)) != 0) {
		fprintf(stderr, "bastion-rekey: %s: %s\n", idfile, bad > 0 ?
		    "a line is not an age secret key" : rc == BERR_SYS ?
		    strerror(errno) : berr_str(rc));
		reckey_free(key);
		return (3);
	}
	if (statedir != NULL)
		(void)auditlog_open(statedir, AUDITLOG_LAZY);
	snprintf(num, sizeof(num), "%zu", nr);
	for (i = optind; i < argc; i++) {
		if (recenc_rewrap(argv[i], key,
		    (const uint8_t (*)[AGE_KEY_LEN])ids, nids,
		    (const uint8_t (*)[AGE_KEY_LEN])rcpt, nr, now_us(), old_hex,
		    new_hex, why, sizeof(why)) != 0) {
			fprintf(stderr, "bastion-rekey: %s: %s\n", argv[i], why);
			failed = 1;
			continue;
		}
		memset(&h, 0, sizeof(h));
		(void)recreader_header(argv[i], &h);
		if (statedir != NULL && audit_ev(BEV_RECORDING_REWRAP,
		    "recording", recfmt_hdr_get(&h, "session"), "path",
		    argv[i], "old_keys", old_hex, "new_keys", new_hex,
		    "recipients", num, NULL) != 0) {
			fprintf(stderr, "bastion-rekey: %s was rewrapped but "
			    "the audit chain could not be written: check %s\n",
			    argv[i], statedir);
			failed = 1;
		}
		recfmt_hdr_clear(&h);
		printf("rewrapped %s: key header %.16s... -> %.16s..., %zu "
		    "recipient(s)\n", argv[i], old_hex, new_hex, nr);
	}
	OPENSSL_cleanse(ids, sizeof(ids));
	reckey_free(key);
	return (failed);
}
