/*
 * relay_scp.c - legacy scp (OpenSSH scp -O, PuTTY pscp -scp) on an exec
 * channel running "scp -t|-f PATH" on the device (issue 18, docs/FILES.md
 * "Legacy scp"): instead of relaying opaque bytes, the child reads both
 * streams through the bounded rcp parser (proto/scp.h), passes every item
 * on whole, and refuses a file whose C line announces more than the
 * files: policy's max_file_size or what is left of max_session_bytes
 * before any of its bytes reach the other side: the source gets "\1" and
 * the reason in the sink's place and goes on with its next file.
 *
 * What the gate refuses before the device is reached: a direction the
 * policy closes (-t: in, -f: out), uploads where the policy wants the
 * import airlock (scan: clamd) and downloads where it wants export
 * approval (approve: out), which only the SFTP path can give, and every
 * scp -O under legacy_scp: refuse. legacy_scp: opaque relays as before.
 *
 * The recording, so bastion-replay --extract-files can run the same
 * parser: an EVENT "scp.parsed" first, then one INPUT frame per read from
 * the engineer and one OUTPUT frame per read from the device, each
 * recorded before any of it goes on; a refused file is an EVENT
 * "scp.refused" right after the frame holding its C line; every finished
 * file is an EVENT "file.transfer" and the audit event of that name (the
 * SFTP airlock's own, relay_sftp.c). A malformed stream ends this channel
 * (an error on the engineer's stderr, exit status 1, audited
 * sftp.malformed with a reason starting "scp:"), nothing else.
 *
 * The queues, the record callback and the channel's end are the SFTP
 * airlock's (relay_sftp_int.h): an scp channel is a struct relay_sftp
 * whose scp member is set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "record.h"
#include "relay.h"
#include "relay_sftp_int.h"
#include "scp.h"
#include "touch.h"


#define SCP_ROUNDS	64

/* The refusal of the whole command (NULL: parse it), for the engineer. */
static const char *
scp_refusal(const struct policy_files *pf, const struct scp_cmd *c)
{
	if (pf->legacy_scp == POLICY_SCP_REFUSE)
		return ("legacy scp (scp -O) is refused by the files: policy "
		    "(legacy_scp: refuse); use scp without -O, or sftp");
	if (c->upload && !(pf->directions & POLICY_FILES_IN))
		return ("files may not be copied to this device (policy: "
		    "files: directions)");
	if (!c->upload && !(pf->directions & POLICY_FILES_OUT))
		return ("files may not be copied from this device (policy: "
		    "files: directions)");
	if (c->upload && pf->scan)
		return ("uploads with legacy scp (scp -O) cannot go through "
		    "the import airlock (policy: files: scan: clamd), which "
		    "only SFTP can; use scp without -O, or sftp");
	if (!c->upload && pf->approve_out)
		return ("downloads with legacy scp (scp -O) cannot wait for "
		    "export approval (policy: files: approve: out), which only "
		    "SFTP can; use scp without -O, or sftp");
	return (NULL);
}

/* Is S an scp -O channel this file parses (1 with *c), or not (0)? */
static int
scp_applies(const struct sess *S, struct scp_cmd *c, char *why,
    size_t whylen)
{
	const struct policy_files *pf = relay_sftp_policy(S);

	if (S->kind != SESS_EXEC || !touch_is_transfer(S->kind, S->command) ||
	    pf->legacy_scp == POLICY_SCP_OPAQUE)
		return (0);
	if (scp_cmd_parse(S->command, c, why, whylen) != 0)
		return (-1);
	return (1);
}

int
relay_scp_gate(struct sess *S)
{
	struct scp_cmd c;
	char buf[256];
	const char *no;
	int r;

	if ((r = scp_applies(S, &c, buf, sizeof(buf))) == 0)
		return (0);
	no = r < 0 ? buf : scp_refusal(relay_sftp_policy(S), &c);
	if (no == NULL)
		return (0);
	audit_ev(BEV_SFTP_REFUSED, "session", S->sid, "user", S->au.who->name,
	    "device", S->dev != NULL ? S->dev->name : NULL, "kind", "scp",
	    "path", r > 0 ? c.target : "-", "reason", no, NULL);
	sess_tell(S, "bastion: scp -O to %s: %s\n", S->dev != NULL ?
	    S->dev->name : "this device", no);
	return (-1);
}

int
relay_scp_start(struct sess *S)
{
	struct relay_sftp *F;
	struct scp_cmd c;
	char why[256], text[SFTP_MAX_PATH * 4 + 64], esc[SFTP_MAX_PATH * 4 + 8];

	if (scp_applies(S, &c, why, sizeof(why)) <= 0)
		return (0);	/* the gate refused what does not parse */
	if ((F = calloc(1, sizeof(*F))) == NULL)
		return (-1);
	if ((F->scp = scp_new(&c, sftp_record_cb, NULL, S)) == NULL) {
		free(F);
		return (-1);
	}
	F->scp_upload = c.upload;
	S->R->sftp = F;
	log_escape(esc, sizeof(esc), c.target);
	relay_fmt(text, sizeof(text), "direction=%s path=%s", c.upload ? "in" :
	    "out", esc);
	if (S->rec != NULL && sess_rec_event(S, "scp.parsed", text) != 0)
		return (-1);
	return (0);
}

void
relay_scp_end(struct sess *S)
{
	struct relay_sftp *F = S->R->sftp;

	if (F == NULL || F->scp == NULL)
		return;
	scp_free(F->scp);	/* a file under way: "incomplete" */
	F->scp = NULL;
}

/* from_device: the device's stream is the sink's for an upload. */
static int
scp_from_sink(const struct relay_sftp *F, int from_device)
{
	return (from_device == F->scp_upload);
}

int
relay_scp_idle(const struct sess *S, int to_device)
{
	const struct relay_sftp *F = S->R->sftp;

	/* bytes of the other side held for their turn are not through */
	return (F->scp == NULL || scp_held(F->scp, scp_from_sink(F,
	    !to_device)) == 0);
}

/* The stream cannot be read: this channel ends. */
static void
scp_malformed(struct sess *S, const char *why)
{
	struct relay_sftp *F = S->R->sftp;
	char text[SCP_MAX_LINE + 256];

	if (F->closed)
		return;
	relay_fmt(text, sizeof(text), "scp: %s", why);
	(void)sess_rec_event(S, "scp.malformed", text);
	audit_ev(BEV_SFTP_MALFORMED, "session", S->sid, "user",
	    S->au.who->name, "device", S->dev != NULL ? S->dev->name : NULL,
	    "from", S->peerstr, "reason", text, NULL);
	sess_tell(S, "bastion: scp: a malformed stream %s; this transfer "
	    "channel is closed\n", why);
	sftp_close_channel(S, "malformed scp stream");
}

/* Does the files: policy refuse the file ev announces? 1 with why. */
static int
scp_over_limit(struct sess *S, const struct scp_ev *ev, char *why,
    size_t whylen)
{
	const struct policy_files *pf = relay_sftp_policy(S);
	const struct relay_sftp *F = S->R->sftp;
	uint64_t sent = scp_bytes(F->scp), limit;
	const char *what;

	if (pf->max_file_size > 0 && ev->size > pf->max_file_size) {
		what = "is larger than the limit of %llu bytes for one file";
		limit = pf->max_file_size;
	} else if (pf->max_session_bytes > 0 && (sent >=
	    pf->max_session_bytes || ev->size > pf->max_session_bytes -
	    sent)) {
		what = "would take this session past its limit of %llu bytes";
		limit = pf->max_session_bytes;
	} else
		return (0);
	relay_fmt(why, whylen, "bastion: %s (%llu bytes) ", ev->path,
	    (unsigned long long)ev->size);
	relay_fmt(why + strlen(why), whylen - strlen(why), what,
	    (unsigned long long)limit);
	relay_fmt(why + strlen(why), whylen - strlen(why), "; it is refused "
	    "before any of its bytes reach %s", F->scp_upload ? "the device" :
	    "you");
	return (1);
}

/* A file refused at its C line: recorded, audited, the source told in
 * the sink's place (and, for a download, the engineer's scp as well).
 * 0 or -1 (recording or queue failed). */
static int
scp_refuse_file(struct sess *S, const struct scp_ev *ev, const char *why)
{
	struct relay_sftp *F = S->R->sftp;
	char text[SCP_MAX_LINE + 600], esc[SCP_MAX_LINE + 512];
	char line[SCP_MAX_LINE];
	int n;

	log_escape(esc, sizeof(esc), why);
	relay_fmt(text, sizeof(text), "file=%u dir=%s size=%llu reason=%s",
	    ev->serial, F->scp_upload ? "in" : "out",
	    (unsigned long long)ev->size, esc);
	if (S->rec != NULL && sess_rec_event(S, "scp.refused", text) != 0)
		return (-1);
	if (F->refusals++ < SFTP_AUDIT_REFUSALS)
		audit_ev(BEV_SFTP_REFUSED, "session", S->sid, "user",
		    S->au.who->name, "device", S->dev != NULL ?
		    S->dev->name : NULL, "kind", "scp", "path", ev->path,
		    "reason", why, NULL);
	(void)scp_refuse(F->scp, why);
	n = snprintf(line, sizeof(line), "\001%s\n", why);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = snprintf(line, sizeof(line), "\001bastion: the file is "
		    "refused by the files: policy\n");
	if (sftp_q_push(F->scp_upload ? &F->to_vendor : &F->to_dev,
	    (const uint8_t *)line, (size_t)n) != 0)
		return (-1);
	if (!F->scp_upload && sftp_q_push(&F->to_vendor,
	    (const uint8_t *)line, (size_t)n) != 0)
		return (-1);
	return (0);
}

/* Every whole item: refused, or queued towards the other side. */
static int
scp_drain(struct sess *S)
{
	struct relay_sftp *F = S->R->sftp;
	struct scp_ev ev;
	char why[SCP_MAX_LINE + 256];
	int r, from_device;

	while (!F->closed && (r = scp_next(F->scp, &ev, why,
	    sizeof(why))) != 0) {
		if (r < 0) {
			scp_malformed(S, why);
			return (0);
		}
		if (ev.item == SCP_ITEM_FILE && scp_over_limit(S, &ev, why,
		    sizeof(why))) {
			if (scp_refuse_file(S, &ev, why) != 0)
				return (-1);
			continue;
		}
		from_device = ev.from_sink == F->scp_upload;
		if (sftp_q_push(from_device ? &F->to_vendor : &F->to_dev,
		    ev.raw, ev.len) != 0)
			return (-1);
	}
	return (0);
}

/* Can one side be read now (its items' queue has room, the parser too)? */
static size_t
scp_can_read(struct sess *S, int from_device)
{
	struct relay_sftp *F = S->R->sftp;
	const struct sftp_q *q = from_device ? &F->to_vendor : &F->to_dev;

	if (F->closed || q->n - q->off > SFTP_Q_SOFT)
		return (0);
	/* new files come from the source: it waits while the window's
	 * records are spent (the monitor's audit flood limit) */
	if (!scp_from_sink(F, from_device) && sftp_records_full(S))
		return (0);
	return (scp_room(F->scp, scp_from_sink(F, from_device)));
}

/* One read from one side: recorded, parsed, its items queued. Bytes
 * read, or -1. */
static ssize_t
scp_read(struct sess *S, int from_device)
{
	struct relay_sftp *F = S->R->sftp;
	uint8_t buf[32768];
	size_t room = scp_can_read(S, from_device);
	int r;

	if (room == 0)
		return (0);
	r = ssh_channel_read_nonblocking(from_device ? S->dch : S->vch, buf,
	    (uint32_t)(room < sizeof(buf) ? room : sizeof(buf)), 0);
	if (r == SSH_EOF || r == 0)
		return (0);
	if (r < 0)
		return (-1);
	/* recorded before any of it goes on: fail closed */
	if (S->rec != NULL && sess_rec_check(S, rec_client_frame(S->rec,
	    from_device ? REC_OUTPUT : REC_INPUT, 0, buf, (size_t)r)) != 0)
		return (-1);
	if (scp_put(F->scp, scp_from_sink(F, from_device), buf,
	    (size_t)r) != 0 || scp_drain(S) != 0)
		return (-1);
	return (r);
}

int
relay_scp_pump(struct sess *S, ssize_t *from_dev, ssize_t *to_dev)
{
	struct relay_sftp *F = S->R->sftp;
	ssize_t a, c, wrote;
	int i;

	*from_dev = *to_dev = 0;
	for (i = 0; i < SCP_ROUNDS; i++) {
		if ((wrote = sftp_q_flush_both(S)) < 0)
			return (-1);
		if (F->closed)
			return (0);
		if ((a = scp_read(S, 1)) < 0 || (c = scp_read(S, 0)) < 0)
			return (-1);
		*from_dev += a;
		*to_dev += c;
		/* the shared libssh event may have moved the other side's
		 * packets into its channel meanwhile (relay_sftp_pump) */
		if (a + c + wrote == 0 && !(scp_can_read(S, 1) > 0 &&
		    ssh_channel_poll(S->dch, 0) > 0) && !(scp_can_read(S, 0) >
		    0 && ssh_channel_poll(S->vch, 0) > 0))
			break;
	}
	return (0);
}
