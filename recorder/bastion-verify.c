/*
 * bastion-verify.c - prove a session recording with the recorder's public
 * key alone (offline: an auditor's laptop needs nothing else).
 *
 *   bastion-verify -k PUBKEY FILE      (FILE "-": standard input)
 *
 * Exit status (docs/RECORDING-FORMAT.md, "Verification"):
 *   0  intact and sealed: one summary line on stdout
 *   1  altered: names the first bad frame (seq, offset) and why
 *   2  not sealed (recorder crash): everything up to the last checkpoint
 *      verifies; says how many trailing frames are unproven
 *   3  usage or I/O error
 *
 * Everything printed from the recording goes through recfmt_vis(), so a
 * hostile header cannot put escape sequences on the auditor's terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "recfmt.h"
#include "reckey.h"
#include "recverify.h"

#define EXIT_USAGE 3

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastion-verify -k PUBKEY FILE   (\"-\" reads stdin)\n"
	    "  -k PUBKEY  the recorder's public key (PEM, from "
	    "bastion-recorder --init)\n"
	    "  -q         no summary line, exit status only\n"
	    "exit: 0 sealed and intact, 1 altered, 2 not sealed (crash), "
	    "3 usage or I/O error\n");
}

/* A header field made safe to print. */
static const char *
field(const struct recverify_report *rep, const char *key, char *out,
    size_t outlen)
{
	const char *v = recfmt_hdr_get(&rep->hdr, key);

	if (v == NULL)
		v = "-";
	recfmt_vis((const uint8_t *)v, strlen(v), out, outlen);
	return (out);
}

static void
summary(const struct recverify_report *rep, const char *state)
{
	char sid[128], eng[128], dev[128], start[64], dur[32];

	recfmt_fmt_duration(rep->duration_us, dur, sizeof(dur));
	printf("%s: session %s engineer %s device %s start %s duration %s "
	    "frames %llu bytes %llu (out %llu in %llu fwd %llu)\n", state,
	    field(rep, "session", sid, sizeof(sid)),
	    field(rep, "engineer", eng, sizeof(eng)),
	    field(rep, "device", dev, sizeof(dev)),
	    field(rep, "start", start, sizeof(start)), dur,
	    (unsigned long long)rep->frames,
	    (unsigned long long)rep->file_bytes,
	    (unsigned long long)rep->out_bytes,
	    (unsigned long long)rep->in_bytes,
	    (unsigned long long)rep->fwd_bytes);
}

int
main(int argc, char **argv)
{
	struct recverify_report rep;
	struct reckey *pub = NULL;
	const char *keyfile = NULL, *file;
	char vfile[512], reason[400];
	int ch, r, quiet = 0, v;

	log_init("bastion-verify", 0, LOG_LVL_WARN);
	while ((ch = getopt(argc, argv, "k:qh")) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (EXIT_USAGE);
		}
	}
	if (keyfile == NULL || optind != argc - 1) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	file = argv[optind];
	recfmt_vis((const uint8_t *)file, strlen(file), vfile, sizeof(vfile));
	if ((r = reckey_load_public(keyfile, &pub)) != 0) {
		fprintf(stderr, "bastion-verify: cannot load public key %s: "
		    "%s\n", keyfile, berr_str(r));
		return (EXIT_USAGE);
	}
	if (strcmp(file, "-") == 0)	/* e.g. zstd -dc X.brec.zst | */
		v = recverify_fp(stdin, pub, &rep);
	else
		v = recverify_file(file, pub, &rep);
	switch (v) {
	case RECVERIFY_OK:
		if (!quiet) {
			summary(&rep, "sealed");
			if (rep.end_status != REC_END_NORMAL)
				printf("note: the session ended abnormally: "
				    "%s\n", rep.end_reason);
		}
		break;
	case RECVERIFY_UNSEALED:
		if (!quiet) {
			summary(&rep, "NOT SEALED");
			if (rep.verified > 0)
				printf("frames 0..%llu verify (signed by "
				    "checkpoint seq %llu); the %llu frame(s) "
				    "after it are NOT verified: the recorder "
				    "stopped without sealing (crash?) or the "
				    "file was cut\n",
				    (unsigned long long)rep.verified - 1,
				    (unsigned long long)rep.last_signed_seq,
				    (unsigned long long)rep.unverified);
			else
				printf("no checkpoint: none of the %llu "
				    "frame(s) is verified\n",
				    (unsigned long long)rep.unverified);
		}
		break;
	case RECVERIFY_ALTERED:
		recfmt_vis((const uint8_t *)rep.why, strlen(rep.why), reason,
		    sizeof(reason));
		if (rep.bad_frame)
			fprintf(stderr, "bastion-verify: %s: ALTERED: frame "
			    "seq %llu at offset %llu: %s\n", vfile,
			    (unsigned long long)rep.bad_seq,
			    (unsigned long long)rep.bad_offset, reason);
		else
			fprintf(stderr, "bastion-verify: %s: ALTERED: offset "
			    "%llu: %s\n", vfile,
			    (unsigned long long)rep.bad_offset, reason);
		if (rep.verified > 0)
			fprintf(stderr, "bastion-verify: frames 0..%llu before "
			    "it do verify (checkpoint seq %llu)\n",
			    (unsigned long long)rep.verified - 1,
			    (unsigned long long)rep.last_signed_seq);
		break;
	default:
		fprintf(stderr, "bastion-verify: %s: cannot read: %s\n", vfile,
		    rep.why);
		v = EXIT_USAGE;
		break;
	}
	recverify_report_clear(&rep);
	reckey_free(pub);
	return (v);
}
