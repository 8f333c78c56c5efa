/*
 * recserver.h - bastion-recorder's connections (recserver.c): OPEN, FRAME,
 * CLOSE and NOTARIZE from session workers and the exporter, each
 * connection bound to one recording, on one libuv loop. The program
 * (recorder/bastion-recorder.c) parses its options, fills a struct
 * recserver, binds the socket with recserver_on_connection() as its
 * connection callback and calls recserver_stop() on SIGTERM.
 * docs/RECORDING-FORMAT.md describes the protocol.
 */
#ifndef BASTION_RECSERVER_H
#define BASTION_RECSERVER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <uv.h>

#include "age.h"
#include "reckey.h"

#define RECSERVER_MAX_UIDS	32	/* -u at most this often */
#define RECSERVER_READ_CHUNK	(256 * 1024)
#define RECSERVER_MIN_FREE_MIB	64	/* -m's default */

struct conn;

/* The recorder: what main() sets up, and the connections it serves. */
struct recserver {
	uv_loop_t loop;
	uv_pipe_t listener;
	uv_signal_t sigterm, sigint;
	struct reckey *key;
	char keyfp[RECKEY_FP_LEN];
	const char *recdir;
	const char *sockpath;
	const char *auditdir;	/* -a: the chain (NULL: none) */
	const char *chaindir;	/* -C, else -a: the chain read to vouch
				   for evidence bundles (NULL: none) */
	char *pub_pem;		/* our public key as recorder.pub holds it */
	int notary_busy;	/* one NOTARIZE check at a time */
	uid_t allowed[RECSERVER_MAX_UIDS];
	size_t nallowed;
	/* -r: recordings are encrypted to these (format 2, recenc.h);
	 * none: format 1 */
	uint8_t recipients[AGE_MAX_RECIPIENTS][AGE_KEY_LEN];
	size_t nrecipients;
	uint64_t min_free;	/* bytes */
	char host[256];
	unsigned long next_id;
	int listening;		/* listener handle initialised */
	int stopping;
	TAILQ_HEAD(, conn) conns;
};

/* The listener's uv_connection_cb (l->data is the struct recserver):
 * accept, admit by SO_PEERCRED uid, and serve the connection. */
void recserver_on_connection(uv_stream_t *l, int status);
/* Seal every open recording (abnormal end, why: signal signum), tell the
 * workers, and close the listener, so that the loop ends once every seal
 * is synced. Once only. */
void recserver_stop(struct recserver *srv, int signum);

#endif
