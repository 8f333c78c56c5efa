/*
 * record.c - session recording, split between the two processes of a
 * connection (fail closed).
 *
 * The child streams every byte and event of its session to
 * bastion-recorder (recorder/lib/rec_client.h), which alone writes and
 * signs recordings. The rule here is simple: nothing is relayed that was
 * not first handed to the recorder. If the recorder cannot be reached at
 * the start, the session does not start; if it fails later, the session
 * ends with a message to the engineer.
 *
 * Which recording a connection writes is the monitor's decision
 * (privsep.h): the monitor opens it with the facts it decided itself (the
 * person it let in, the device it agreed to, the peer it saw), writes
 * session.start to the audit chain, and hands the connected socket to the
 * child (rec_mon_open, MREQ_RECORDING_OPEN). The child can make no socket
 * of its own, so it can only append to that one recording.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "err.h"
#include "hex.h"
#include "log.h"
#include "monitor.h"
#include "privsep.h"
#include "record.h"
#include "rec_client.h"
#include "recenc.h"

/*
 * The recorder socket's send buffer, set by the monitor (root: beyond
 * net.core.wmem_max with SO_SNDBUFFORCE) before the child gets the socket.
 * A batch of output (up to RELAY_PEND_BYTES, 256 KiB) is one frame; with
 * the kernel's default (about 416 KiB of accounted room) a second frame
 * rarely fits, and the child's sendmsg waits until the recorder has been
 * scheduled and has read: the child, which relays both legs, stands still
 * meanwhile (docs/PERFORMANCE.md). With room for several frames it hands
 * one over and goes on relaying while the recorder hashes and writes.
 * What the socket holds was handed over before it was relayed, as before,
 * and stays bounded (the kernel accounts twice the value: about 2 MiB, the
 * order of a checkpoint's MiB); a recorder that stops reading still ends
 * the session (REC_CLIENT_TIMEOUT_MS), a little later.
 */
#define REC_SOCK_SNDBUF		(1024 * 1024)

static void
rec_sock_room(int fd)
{
	int v = REC_SOCK_SNDBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static const char *
rec_kind_name(int kind)
{
	return (kind == SESS_SHELL ? "shell" : kind == SESS_EXEC ? "exec" :
	    kind == SESS_SUBSYSTEM ? "subsystem" : "forward");
}

int
rec_mon_open(struct sess *S, int *fd, char *id, size_t idlen, char *path,
    size_t pathlen, char *tell, size_t tellen)
{
	struct rec_header h;
	struct rec_client *rc = NULL;
	char sock[4096], err[512], src[96], dst[96], hash[65], addr[64];
	char rcpt[65];
	char grant[32], unsealed[256];

	*fd = -1;
	tell[0] = '\0';
	snprintf(sock, sizeof(sock), "%s", S->pol->recorder_socket);
	snprintf(src, sizeof(src), "%s:%d", S->peerstr, S->peerport);
	if (S->dev != NULL)
		snprintf(dst, sizeof(dst), "%s:%u", netaddr_str(&S->dev->addr,
		    addr, sizeof(addr)), S->dev->port);
	hex_encode(S->pol->sha256, sizeof(S->pol->sha256), hash);
	memset(&h, 0, sizeof(h));
	h.engineer = S->au.who->name;
	h.vendor = S->au.who->vendor ? S->au.who->vendor->name : NULL;
	h.source = src;
	h.device = S->dev ? S->dev->name : "(none)";
	h.device_addr = S->dev ? dst : NULL;
	h.approval = "none";
	h.policy_sha256 = hash;
	h.ref = S->sid;
	/* encrypted recordings: the recorder must encrypt to exactly these */
	if (S->pol->nrec_recipients > 0) {
		if (recenc_recipients_id_str(S->pol->rec_recipients,
		    S->pol->nrec_recipients, rcpt) != 0) {
			snprintf(tell, tellen, "bastion: this session cannot "
			    "be recorded, so it will not start: the policy's "
			    "recording recipients are unusable\n");
			return (-1);
		}
		h.recipients = rcpt;
	}
	if (rec_client_open(sock, &h, &rc, err, sizeof(err)) != 0) {
		audit_ev(BEV_SESSION_REFUSED, "session", S->sid, "user",
		    S->au.who->name, "from", S->peerstr, "device", h.device,
		    "reason", "recording unavailable", "detail", err, NULL);
		snprintf(tell, tellen, "bastion: this session cannot be "
		    "recorded, so it will not start: %s\nPlease tell the "
		    "hospital's IT administrator.\n", err);
		return (-1);
	}
	audit_ev(BEV_SESSION_RECORDING, "session", S->sid, "user",
	    S->au.who->name, "recording", rec_client_session_id(rc), "path",
	    rec_client_path(rc), NULL);
	/*
	 * Audit chain, fail closed (docs/AUDIT.md): the session's start
	 * event, after its recording opened and before the device is
	 * touched. A session whose start cannot be kept in the hash-chained
	 * audit log does not start.
	 */
	snprintf(grant, sizeof(grant), "%lld", (long long)S->grant_id);
	if (audit_ev(BEV_SESSION_START, "session", S->sid, "user",
	    S->au.who->name, "vendor", S->au.who->vendor->name, "from",
	    S->peerstr, "source", src, "device", S->dev ? S->dev->name : NULL,
	    "to", S->dev ? dst : NULL, "kind", rec_kind_name(S->kind),
	    "command", S->command, "recording", rec_client_session_id(rc),
	    "grant", S->grant_id ? grant : NULL, S->viastr[0] != '\0' ?
	    "via" : NULL, S->viastr, NULL) != 0) {
		if (rec_client_close(rc, unsealed, sizeof(unsealed)) != 0)
			log_error("session %s: sealing the recording failed: "
			    "%s", S->sid, unsealed);
		rec_client_free(rc);
		snprintf(tell, tellen, "bastion: this session cannot be "
		    "written to the audit log, so it will not start. Please "
		    "tell the hospital's IT administrator.\n");
		return (-1);
	}
	snprintf(id, idlen, "%s", rec_client_session_id(rc));
	snprintf(path, pathlen, "%s", rec_client_path(rc));
	if (strlen(rec_client_path(rc)) >= pathlen ||
	    strlen(rec_client_session_id(rc)) >= idlen ||
	    (*fd = rec_client_detach(rc)) == -1) {
		snprintf(tell, tellen, "bastion: this session cannot be "
		    "recorded, so it will not start: the recorder "
		    "connection failed\n");
		return (-1);
	}
	rec_sock_room(*fd);
	return (0);
}

int
sess_rec_open(struct sess *S)
{
	char id[64], path[MON_PATH_MAX + 1], err[1024];
	int fd = -1;

	if (S->rec != NULL)
		return (0);
	if (mm_recording_open(S->kind, S->command, &fd, id, sizeof(id), path,
	    sizeof(path), err, sizeof(err)) != 0) {
		sess_tell(S, "%s", err);
		return (-1);
	}
	if (rec_client_adopt(fd, id, path, &S->rec) != 0) {
		close(fd);
		sess_tell(S, "bastion: this session cannot be recorded, so it "
		    "will not start: out of memory\n");
		return (-1);
	}
	return (0);
}

int
sess_rec_check(struct sess *S, int r)
{
	if (r == 0)
		return (0);
	if (!S->rec_failed) {
		S->rec_failed = 1;
		log_error("session %s: recording failed: %s", S->sid,
		    S->rec ? rec_client_error(S->rec) : berr_str(r));
		audit_ev(BEV_SESSION_RECORDING_FAILED, "session", S->sid,
		    "user", S->au.who->name, "reason",
		    S->rec ? rec_client_error(S->rec) : berr_str(r), NULL);
	}
	return (-1);
}

int
sess_rec_event(struct sess *S, const char *kind, const char *text)
{
	if (S->rec == NULL || S->rec_failed)
		return (0);
	return (sess_rec_check(S, rec_client_event(S->rec, 0, kind, text)));
}

void
sess_rec_close(struct sess *S)
{
	char err[256];

	if (S->rec == NULL)
		return;
	if (!S->rec_failed && rec_client_close(S->rec, err, sizeof(err)) != 0)
		log_error("session %s: sealing the recording failed: %s",
		    S->sid, err);
	rec_client_free(S->rec);
	S->rec = NULL;
}
