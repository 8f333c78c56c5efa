/*
 * record.c - the worker's side of session recording (fail closed).
 *
 * The worker streams every byte and event of its session to
 * bastion-recorder (recorder/lib/rec_client.h), which alone writes and
 * signs recordings. The rule here is simple: nothing is relayed that was
 * not first handed to the recorder. If the recorder cannot be reached at
 * the start, the session does not start; if it fails later, the session
 * ends with a message to the engineer.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "record.h"
#include "rec_client.h"

int
sess_rec_open(struct sess *S)
{
	struct rec_header h;
	char sock[4096], err[512], src[96], dst[96], hash[65], addr[64];
	size_t i;
	int r;

	if (S->rec != NULL)
		return (0);
	snprintf(sock, sizeof(sock), "%s", S->pol->recorder_socket);
	snprintf(src, sizeof(src), "%s:%d", S->peerstr, S->peerport);
	if (S->dev != NULL)
		snprintf(dst, sizeof(dst), "%s:%u", netaddr_str(&S->dev->addr,
		    addr, sizeof(addr)), S->dev->port);
	for (i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", S->pol->sha256[i]);
	memset(&h, 0, sizeof(h));
	h.engineer = S->au.who->name;
	h.vendor = S->au.who->vendor ? S->au.who->vendor->name : NULL;
	h.source = src;
	h.device = S->dev ? S->dev->name : "(none)";
	h.device_addr = S->dev ? dst : NULL;
	h.approval = "none";
	h.policy_sha256 = hash;
	h.ref = S->sid;
	if ((r = rec_client_open(sock, &h, &S->rec, err, sizeof(err))) != 0) {
		audit_event("session.refused", "session", S->sid, "user",
		    S->au.who->name, "from", S->peerstr, "device", h.device,
		    "reason", "recording unavailable", "detail", err, NULL);
		sess_tell(S, "bastion: this session cannot be recorded, so it "
		    "will not start: %s\nPlease tell the hospital's IT "
		    "administrator.\n", err);
		return (-1);
	}
	audit_event("session.recording", "session", S->sid, "user",
	    S->au.who->name, "recording", rec_client_session_id(S->rec),
	    "path", rec_client_path(S->rec), NULL);
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
		audit_event("session.recording_failed", "session", S->sid,
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
