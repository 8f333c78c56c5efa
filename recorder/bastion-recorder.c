/*
 * bastion-recorder.c - the only writer of session recordings and the only
 * holder of the recording signing key.
 *
 *   bastion-recorder --init -k KEYFILE
 *   bastion-recorder -k KEYFILE -d RECDIR -s SOCKET [-u UID]... [-m MIB]
 *                    [-r RECIPIENT]... [-D] [-v]
 *
 * Session workers connect to SOCKET (a Unix stream socket), are admitted by
 * the uid the kernel reports for them (SO_PEERCRED; -u, default our own),
 * send OPEN with the session facts and get back the session id and the file
 * this recorder created for them under RECDIR/YYYY/MM/DD/. From then on the
 * connection is bound to that one recording: FRAMEs are appended to it and
 * to nothing else, CLOSE seals it. docs/RECORDING-FORMAT.md describes the
 * file format and the protocol. With -r (age recipients, "age1...": the
 * auditors' keys and an escrow key) recordings are written in format 2,
 * every payload encrypted before it reaches the disk (recenc.h).
 *
 * Failure is closed: when a recording cannot be written the worker gets ERR
 * and its connection is closed, which ends the vendor's session. A worker
 * that vanishes, a malformed message, SIGTERM: the recording gets an EVENT
 * saying why and an abnormal SEAL, so it still verifies. One misbehaving
 * connection only ever ends itself.
 *
 * A single libuv loop serves every connection. Disk writes are synchronous
 * (page cache). The fdatasync after each checkpoint (every second or MiB of
 * a session) and after the seal runs on libuv's thread pool, so the loop
 * keeps taking every worker's frames while the disk catches up: a sync
 * blocking the loop used to stall every session's relay, since workers
 * record each byte before relaying it. A recording whose syncs fall a whole
 * checkpoint behind stops being read until they catch up (its session only),
 * a CLOSE is answered only once the seal is synced, and a failed sync fails
 * the recording like a failed write. See "durability" below.
 *
 * The same socket answers one other request: the auditor console's export
 * sends NOTARIZE instead of OPEN to have an evidence bundle's MANIFEST
 * signed (recbundle.h). The recorder first recomputes, on the thread pool,
 * the hashes it can check from its own files (the recording, its public
 * key, the session's audit lines), one such job at a time, and signs only
 * if they agree: the exporter never holds the key, and the recorder never
 * signs what it has not checked. See "notary" below.
 *
 * Once its key is loaded, its socket listens and systemd was told READY,
 * and before the loop accepts the first connection, the recorder installs
 * its own seccomp filter (recsandbox.h), however it was started: what
 * the workers send is parsed only under it. Where the kernel refuses
 * seccomp() it removes its socket and exits 1 rather than record
 * unconfined.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "buf.h"
#include "auditlog.h"
#include "err.h"
#include "log.h"
#include "prog.h"
#include "recbundle.h"
#include "recnotary.h"
#include "recfmt.h"
#include "reckey.h"
#include "recproto.h"
#include "recsandbox.h"
#include "recserver.h"
#include "recwriter.h"
#include "text.h"


/* ---- listener --------------------------------------------------------- */

/* Bind SOCKET, replacing a stale socket file but never a live recorder's
 * socket or a file that is not a socket. */
static int
listen_socket(struct recserver *srv)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, r;
	mode_t old;

	if (strlen(srv->sockpath) >= sizeof(sun.sun_path)) {
		log_error("%s: socket path too long", srv->sockpath);
		return (BERR_LIMIT);
	}
	if (lstat(srv->sockpath, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("%s exists and is not a socket: remove it or "
			    "choose another -s", srv->sockpath);
			return (BERR_EXISTS);
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, srv->sockpath);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return (BERR_SYS);
		r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		close(fd);
		if (r == 0) {
			log_error("%s: another recorder is listening there",
			    srv->sockpath);
			return (BERR_EXISTS);
		}
		(void)unlink(srv->sockpath);
	}
	uv_pipe_init(&srv->loop, &srv->listener, 0);
	srv->listener.data = srv;
	srv->listening = 1;
	old = umask(077);
	r = uv_pipe_bind(&srv->listener, srv->sockpath);
	umask(old);
	if (r != 0) {
		log_error("%s: cannot bind: %s", srv->sockpath, uv_strerror(r));
		return (BERR_SYS);
	}
	/* Who may record is decided by SO_PEERCRED, not by file mode: any
	 * local process may connect and is then told whether its uid is
	 * allowed. */
	if (chmod(srv->sockpath, 0666) != 0 ||
	    (r = uv_listen((uv_stream_t *)&srv->listener, 64,
	    recserver_on_connection)) != 0) {
		log_error("%s: cannot listen", srv->sockpath);
		return (BERR_SYS);
	}
	return (0);
}
static void
close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h) && h->type != UV_NAMED_PIPE &&
	    h->type != UV_TIMER)
		uv_close(h, NULL);
}
/* SIGTERM/SIGINT: seal everything, tell the workers, go. */
static void
signal_cb(uv_signal_t *s, int signum)
{
	struct recserver *srv = s->data;

	if (srv->stopping)
		return;
	recserver_stop(srv, signum);
	uv_walk(&srv->loop, close_walk_cb, NULL);
}

/* ---- main ------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastion-recorder --init -k KEYFILE\n"
	    "       bastion-recorder -k KEYFILE -d RECDIR -s SOCKET [-u UID]... "
	    "[-m MIB] [-a STATE_DIR | -C CHAIN_DIR] [-r RECIPIENT]... [-D] "
	    "[-v]\n"
	    "  --init          create the signing key pair KEYFILE (0600) and "
	    "KEYFILE.pub,\n"
	    "                  print the public key and its fingerprint, exit\n"
	    "  -k KEYFILE      Ed25519 private key (PEM)\n"
	    "  -a STATE_DIR    also append events to STATE_DIR/audit.log, the "
	    "audit chain;\n"
	    "                  needed to sign evidence bundles (their audit "
	    "lines are checked)\n"
	    "  -C CHAIN_DIR    only read CHAIN_DIR/audit.log, to sign evidence "
	    "bundles\n"
	    "                  (a recorder that may not write the chain: the "
	    "installed unit)\n"
	    "  -d RECDIR       recordings go to RECDIR/YYYY/MM/DD/ID.brec\n"
	    "  -s SOCKET       Unix socket the session workers connect to\n"
	    "  -u UID|USER     a uid allowed to record (repeatable; default: "
	    "our own)\n"
	    "  -m MIB          refuse new recordings below this much free "
	    "space (default %d)\n"
	    "  -r RECIPIENT    encrypt recordings to this age public key "
	    "(age1...; repeatable,\n"
	    "                  up to %d): format 2, docs/RECORDING-FORMAT.md "
	    "section 13\n"
	    "  -D              stay in the foreground, log to stderr only\n"
	    "  -v              verbose diagnostics\n", RECSERVER_MIN_FREE_MIB,
	    AGE_MAX_RECIPIENTS);
}

static int
do_init(const char *keyfile)
{
	char fp[RECKEY_FP_LEN], *pem = NULL;
	struct reckey *k = NULL;
	int r;

	if ((r = reckey_generate(&k)) != 0)
		goto out;
	if ((r = reckey_save(k, keyfile)) != 0) {
		if (r == BERR_EXISTS)
			fprintf(stderr, "bastion-recorder: %s or %s.pub already "
			    "exists: refusing to overwrite a signing key "
			    "(recordings signed with it must stay "
			    "verifiable)\n", keyfile, keyfile);
		else
			fprintf(stderr, "bastion-recorder: cannot write %s: "
			    "%s\n", keyfile, berr_str(r));
		goto out;
	}
	if ((r = reckey_public_pem(k, &pem)) != 0)
		goto out;
	reckey_fingerprint(k, fp);
	printf("Recording signing key created: %s (private, keep it on the "
	    "bastion)\nPublic key for auditors: %s.pub\n\n%s\n"
	    "fingerprint: %s\n", keyfile, keyfile, pem, fp);
 out:
	free(pem);
	reckey_free(k);
	return (r == 0 ? 0 : 1);
}

static int
parse_uid(const char *s, uid_t *uid)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s != '\0' && *end == '\0' && errno == 0 && v < UINT_MAX) {
		*uid = (uid_t)v;
		return (0);
	}
	if ((pw = getpwnam(s)) == NULL)
		return (-1);
	*uid = pw->pw_uid;
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "init", no_argument, NULL, 'I' },
		PROG_OPTS_END
	};
	static const struct prog prog = { "a:C:k:d:s:u:m:r:Dvh", longopts,
	    usage, 2, 0, 0 };
	struct recserver *srv;
	struct rec_sandbox_opts sb;
	const char *keyfile = NULL, *auditdir = NULL;
	struct stat st;
	unsigned long mib = RECSERVER_MIN_FREE_MIB;
	char *end;
	int ch, init = 0, fg = 0, verbose = 0, r, rc = 1;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return (1);
	TAILQ_INIT(&srv->conns);
	while ((ch = prog_getopt(&prog, argc, argv, &r)) != -1) {
		switch (ch) {
		case 'I':
			init = 1;
			break;
		case 'a':
			auditdir = optarg;
			break;
		case 'C':
			srv->chaindir = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'd':
			srv->recdir = optarg;
			break;
		case 's':
			srv->sockpath = optarg;
			break;
		case 'u':
			if (srv->nallowed >= RECSERVER_MAX_UIDS ||
			    parse_uid(optarg, &srv->allowed[srv->nallowed]) !=
			    0) {
				fprintf(stderr, "bastion-recorder: -u %s: no "
				    "such user (or too many -u)\n", optarg);
				return (2);
			}
			srv->nallowed++;
			break;
		case 'm':
			errno = 0;
			mib = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    mib > (UINT64_MAX >> 20)) {
				fprintf(stderr, "bastion-recorder: -m wants a "
				    "number of MiB\n");
				return (2);
			}
			break;
		case 'r':
			if (srv->nrecipients >= AGE_MAX_RECIPIENTS ||
			    age_recipient_decode(optarg,
			    srv->recipients[srv->nrecipients]) != 0) {
				fprintf(stderr, "bastion-recorder: -r %s: not "
				    "an age recipient (age1..., as age-keygen "
				    "prints it), or more than %d\n", optarg,
				    AGE_MAX_RECIPIENTS);
				return (2);
			}
			srv->nrecipients++;
			break;
		case 'D':
			fg = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		}
	}
	if (r != PROG_GO)
		return (r);
	if (keyfile == NULL)
		return (prog_usage(&prog));
	log_init("bastion-recorder", 0, verbose ? LOG_LVL_DEBUG :
	    LOG_LVL_INFO);
	if (init) {
		rc = do_init(keyfile);
		free(srv);
		return (rc);
	}
	if (srv->recdir == NULL || srv->sockpath == NULL) {
		usage(stderr);
		return (2);
	}
	if (stat(srv->recdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "bastion-recorder: %s: not a directory: create "
		    "it (owned by the recorder's user, mode 0750)\n",
		    srv->recdir);
		return (1);
	}
	srv->min_free = (uint64_t)mib << 20;
	if (srv->nallowed == 0)
		srv->allowed[srv->nallowed++] = getuid();
	if (gethostname(srv->host, sizeof(srv->host) - 1) != 0)
		strcpy(srv->host, "-");
	if ((r = reckey_load_private(keyfile, &srv->key)) != 0) {
		fprintf(stderr, "bastion-recorder: cannot load the signing key "
		    "%s: %s%s\n", keyfile, berr_str(r), r == BERR_NOTFOUND ?
		    " (create it with --init)" : "");
		return (1);
	}
	reckey_fingerprint(srv->key, srv->keyfp);
	/* -a STATE_DIR: recording.start/sealed go into the audit chain too
	 * (docs/AUDIT.md); without it, to the journal only */
	if (auditdir != NULL)
		(void)auditlog_open(auditdir, AUDITLOG_LAZY);
	srv->auditdir = auditdir;
	if (srv->chaindir == NULL)
		srv->chaindir = auditdir;
	if ((r = reckey_public_pem(srv->key, &srv->pub_pem)) != 0) {
		fprintf(stderr, "bastion-recorder: cannot encode the public "
		    "key: %s\n", berr_str(r));
		return (1);
	}
	if (!fg) {
		if (daemon(1, 0) != 0) {
			perror("daemon");
			return (1);
		}
		log_init("bastion-recorder", 1, verbose ? LOG_LVL_DEBUG :
		    LOG_LVL_INFO);
	}
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&srv->loop) != 0)
		goto out;
	if (listen_socket(srv) != 0)
		goto loop_out;
	uv_signal_init(&srv->loop, &srv->sigterm);
	uv_signal_init(&srv->loop, &srv->sigint);
	srv->sigterm.data = srv->sigint.data = srv;
	uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&srv->sigint, signal_cb, SIGINT);
	log_info("listening on %s, recording to %s, key %s, %s", srv->sockpath,
	    srv->recdir, srv->keyfp, srv->nrecipients > 0 ?
	    "encrypted to the recipients given (format 2)" : "in clear "
	    "(format 1)");
	(void)sd_notifyf(0, "READY=1\nSTATUS=recording to %s, signing key %s",
	    srv->recdir, srv->keyfp);
	/* confined before the first connection is accepted (recsandbox.c) */
	sb.store_socket = auditdir != NULL;
	if (rec_sandbox(&sb) != 0) {
		log_error("no system call filter: not recording (%s removed)",
		    srv->sockpath);
		(void)unlink(srv->sockpath);
		uv_close((uv_handle_t *)&srv->sigterm, NULL);
		uv_close((uv_handle_t *)&srv->sigint, NULL);
		goto loop_out;
	}
	uv_run(&srv->loop, UV_RUN_DEFAULT);
	rc = 0;
 loop_out:
	if (srv->listening && !uv_is_closing((uv_handle_t *)&srv->listener))
		uv_close((uv_handle_t *)&srv->listener, NULL);
	uv_run(&srv->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&srv->loop) != 0)
		log_warn("event loop did not close cleanly");
 out:
	reckey_free(srv->key);
	free(srv->pub_pem);
	free(srv);
	return (rc);
}
