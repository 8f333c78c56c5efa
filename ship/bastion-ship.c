/*
 * bastion-ship.c - sealed recordings from this node's spool to the
 * S3-compatible object store every node and the auditors read, and back.
 *
 *   bastion-ship -f POLICY [-a STATE_DIR] [-k PUBKEY] [-c CREDENTIALS]
 *                [-l LEDGER_DIR] [--once] [-v]
 *   bastion-ship -f POLICY [-c CREDENTIALS] [-q] fetch SESSION-ID DIR
 *   bastion-ship -f POLICY [-c CREDENTIALS] list SESSION-ID...
 *
 * Shipping: every `interval` (the policy's recordings: section) one pass
 * of shipper.c: each recording the recorder has sealed goes to the store
 * (NODE/YYYY/MM/ID.brec under the prefix), is read back and compared
 * (size and SHA-256), and only then counts as shipped (the ledger);
 * failures are retried with backoff; with keep_local, shipped recordings
 * leave the spool after that long. --once makes one pass and exits: 0
 * when nothing failed, 1 otherwise. -k names the recorder's public key
 * (default STATE_DIR/recorder.key.pub, from the policy): only what
 * verifies as sealed with it is shipped; without a readable key the
 * program refuses to start (fail closed). -a appends its audit events
 * (recording.shipped, recording.ship_failed, recording.removed) to
 * STATE_DIR/audit.log as well as the journal. -c and -l stand for the
 * policy's credentials_file and ledger_dir (the unit hands the service
 * its own copy of the credentials: LoadCredential=).
 *
 * fetch: the recording SESSION-ID from the store into DIR/ID.brec, its
 * size and SHA-256 checked against the store's entry, and its path
 * printed (-q: not); then `bastion-verify -k PUBKEY DIR/ID.brec`,
 * `bastion-replay`. The auditor console's verbs run it so when a
 * recording is not in this node's spool (verbs/audverb.c).
 *
 * list: for each SESSION-ID (at most 100), whether the store has it:
 * "ID sealed KEY", "ID cut KEY" (shipped after a crash, never sealed),
 * "ID absent", "ID error WHY"; the console's `recordings` asks so for
 * the recordings of other nodes (verbs/cmd-recordings.c).
 *
 * It runs as its own user (systemd/bastion-ship.service: the group
 * bastion-audit reads the spool, nothing else of the node; only it reads
 * the credentials file), and in its own seccomp filter (ssandbox.c),
 * installed in both modes once the policy, credentials, key and ledger
 * are in hand and before the first request. docs/RECORDING-STORE.md.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auditlog.h"
#include "log.h"
#include "policy.h"
#include "prog.h"
#include "reckey.h"
#include "ship.h"

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bastion-ship -f POLICY [-a STATE_DIR] [-k PUBKEY] "
	    "[-c CREDENTIALS] [-l LEDGER_DIR] [--once] [-v]\n"
	    "       bastion-ship -f POLICY [-c CREDENTIALS] [-q] fetch "
	    "SESSION-ID DIR\n"
	    "       bastion-ship -f POLICY [-c CREDENTIALS] list SESSION-ID...\n"
	    "  -f POLICY     the policy (its recordings: store: s3 section)\n"
	    "  -a STATE_DIR  also append audit events to STATE_DIR/audit.log\n"
	    "  -k PUBKEY     the recorder's public key (default "
	    "STATE_DIR/recorder.key.pub)\n"
	    "  -c FILE       the store's credentials (default: the policy's "
	    "credentials_file)\n"
	    "  -l DIR        the ledger of what was shipped (default: the "
	    "policy's ledger_dir)\n"
	    "  --once        one pass, then exit (1 if anything failed)\n"
	    "  -q            fetch: do not print the path\n"
	    "  fetch ID DIR  the recording ID from the store into DIR\n"
	    "  list ID...    whether the store has each recording (sealed, "
	    "cut, absent)\n");
}

/* A setting of the policy replaced by the command line's. */
static int
override(char **setting, const char *value)
{
	char *v;

	if ((v = strdup(value)) == NULL)
		return (-1);
	free(*setting);
	*setting = v;
	return (0);
}

/* A command's words (fetch ID DIR, list ID...): 1 when they are one. */
static int
is_command(int n, char *const w[])
{
	return ((n == 3 && strcmp(w[0], "fetch") == 0) ||
	    (n >= 2 && n <= SHIP_LIST_MAX + 1 && strcmp(w[0], "list") == 0));
}

static int
do_fetch(const struct policy *pol, int n, char *const w[], int quiet)
{
	char err[600], path[PATH_MAX];
	const char *id = w[1];
	struct s3 s;
	int r;

	if (s3_open(&s, &pol->recstore, err, sizeof(err)) != 0) {
		fprintf(stderr, "bastion-ship: %s\n", err);
		return (1);
	}
	/* before the first byte from the store (ssandbox.c) */
	if (ship_sandbox(&s) != 0) {
		s3_close(&s);
		return (1);
	}
	if (strcmp(w[0], "list") == 0) {
		r = ship_list(&s, n - 1, w + 1);
		s3_close(&s);
		return (r);
	}
	r = ship_fetch(&s, id, w[2], path, sizeof(path), err, sizeof(err));
	s3_close(&s);
	if (r != 0) {
		fprintf(stderr, "bastion-ship: fetch %s: %s\n", id, err);
		return (1);
	}
	if (!quiet)
		printf("%s\n", path);
	return (0);
}

static int
do_ship(const struct policy *pol, const char *pubfile, int once)
{
	struct shipper sh;
	struct ship_stats st;
	struct reckey *pub = NULL;
	struct sigaction sa;
	char err[600], def[PATH_MAX];
	time_t next;
	int r;

	if (pubfile == NULL) {
		snprintf(def, sizeof(def), "%s/recorder.key.pub",
		    pol->state_dir);
		pubfile = def;
	}
	if ((r = reckey_load_public(pubfile, &pub)) != 0) {
		fprintf(stderr, "bastion-ship: cannot read the recorder's "
		    "public key %s: only what verifies as sealed is shipped "
		    "(give it with -k)\n", pubfile);
		return (1);
	}
	if (shipper_init(&sh, pol, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "bastion-ship: %s\n", err);
		reckey_free(pub);
		return (1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* before the first byte from the store (ssandbox.c) */
	if (ship_sandbox(&sh.s3) != 0) {
		shipper_free(&sh);
		reckey_free(pub);
		return (1);
	}
	log_info("shipping %s to %s/%s/%s (node %s, every %us)",
	    pol->recordings_dir, sh.s3.base, sh.s3.bucket, sh.s3.prefix,
	    pol->store_node, pol->recstore.interval);
	r = 0;
	while (!stopping) {
		shipper_pass(&sh, time(NULL), &st);
		if (st.shipped + st.failed + st.removed > 0)
			log_info("pass: %u shipped, %u failed, %u waiting, "
			    "%u removed", st.shipped, st.failed, st.waiting,
			    st.removed);
		if (once) {
			r = st.failed > 0;
			break;
		}
		next = time(NULL) + (time_t)pol->recstore.interval;
		while (!stopping && time(NULL) < next)
			(void)sleep(1);
	}
	shipper_free(&sh);
	reckey_free(pub);
	return (r);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		PROG_OPTS_END
	};
	static const struct prog prog = { "f:a:k:c:l:qvh", longopts, usage, 2,
	    0, 3 };
	const char *polfile = NULL, *auditdir = NULL, *pubfile = NULL;
	const char *credfile = NULL, *ledger = NULL;
	struct policy *pol = NULL;
	int ch, r, once = 0, verbose = 0, fetch = 0, quiet = 0;

	while ((ch = prog_getopt(&prog, argc, argv, &r)) != -1) {
		switch (ch) {
		case 'f':
			polfile = optarg;
			break;
		case 'a':
			auditdir = optarg;
			break;
		case 'k':
			pubfile = optarg;
			break;
		case 'c':
			credfile = optarg;
			break;
		case 'l':
			ledger = optarg;
			break;
		case 'O':
			once = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		}
	}
	if (r != PROG_GO)
		return (r);
	if (optind < argc) {
		if (!is_command(argc - optind, argv + optind))
			return (prog_usage(&prog));
		fetch = 1;
	}
	if (polfile == NULL)
		return (prog_usage(&prog));
	log_init("bastion-ship", 0, verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (policy_load(polfile, stderr, NULL, &pol) != 0) {
		fprintf(stderr, "bastion-ship: the policy %s has problems "
		    "(above)\n", polfile);
		return (2);
	}
	if (!pol->recstore.s3) {
		fprintf(stderr, "bastion-ship: the policy %s has no "
		    "recordings: store: s3 " "\xe2\x80\x94" " nothing to "
		    "ship to (docs/RECORDING-STORE.md)\n", polfile);
		policy_free(pol);
		return (2);
	}
	if ((credfile != NULL && override(&pol->recstore.credentials_file,
	    credfile) != 0) || (ledger != NULL &&
	    override(&pol->recstore.ledger_dir, ledger) != 0) ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		policy_free(pol);
		return (1);
	}
	if (auditdir != NULL && !fetch)
		(void)auditlog_open(auditdir, AUDITLOG_LAZY);
	r = fetch ? do_fetch(pol, argc - optind, argv + optind, quiet) :
	    do_ship(pol, pubfile, once);
	auditlog_close();
	curl_global_cleanup();
	policy_free(pol);
	return (r);
}
