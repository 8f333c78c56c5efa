/*
 * relay_pump.c - the session channels' bytes between engineer and device.
 *
 * A pump reads from its source channel at most what the destination
 * channel's window accepts (plus one carry-over batch of at most
 * RELAY_PEND_BYTES), so a fast device and a slow reader stall the device
 * through SSH flow control instead of growing buffers; libssh itself keeps at most one local window (about
 * 1.2 MiB) per channel. Every byte is handed to the recorder before it is
 * relayed (fail closed). EOF goes on once drained, in both directions;
 * the device's exit status or signal goes to the engineer once, before
 * their EOF when the device said it in time (relay_forward_exit).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privsep.h"
#include "record.h"
#include "relay.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* Write a pending carry-over; returns 1 when it is empty. */
static int
relay_flush(ssh_channel dst, struct pend *p, int is_stderr)
{
	int w;

	while (p->off < p->n) {
		uint32_t win = ssh_channel_window_size(dst);
		uint32_t n = (uint32_t)(p->n - p->off);

		if (win == 0)
			return (0);
		if (n > win)
			n = win;
		w = is_stderr ? ssh_channel_write_stderr(dst, p->d + p->off, n)
		    : ssh_channel_write(dst, p->d + p->off, n);
		if (w <= 0)
			return (0);
		p->off += (size_t)w;
	}
	p->n = p->off = 0;
	return (1);
}

/* Reads of the socket that completed no packet of ours, at most, before a
 * batch goes (other channels' data, or a packet arriving slowly). */
#define GATHER_MAX_IDLE_READS	64

/*
 * Read what src has for us, up to cap bytes, into p->d: every complete
 * packet libssh has or can read from its socket without waiting. libssh
 * reads its socket 4 KiB at a time, one read per call, so a call that
 * returns nothing may still have read part of a packet: go on while the
 * socket's byte counter (ctr, ssh_set_counters) grows. Returns the bytes
 * read (0: nothing yet or EOF), or -1 on a channel error with nothing read.
 */
static ssize_t
relay_gather(ssh_channel src, const struct ssh_counter_struct *ctr,
    struct pend *p, uint32_t cap, int is_stderr)
{
	uint32_t n = 0;
	uint64_t seen;
	int r, idle = 0;

	while (n < cap) {
		seen = ctr->in_bytes;
		r = ssh_channel_read_nonblocking(src, p->d + n, cap - n,
		    is_stderr);
		if (r == SSH_EOF)
			break;
		if (r == 0) {
			if (ctr->in_bytes == seen ||
			    ++idle >= GATHER_MAX_IDLE_READS)
				break;
			continue;
		}
		if (r < 0)	/* what came before it is relayed first */
			return (n > 0 ? (ssize_t)n : -1);
		n += (uint32_t)r;
		idle = 0;
	}
	return ((ssize_t)n);
}

/*
 * Move data from src to dst (stdout or stderr stream) within dst's window.
 * Bulk output goes as large batches (relay_gather): one recorder frame and
 * one carry-over per batch instead of one per SSH packet; a batch is read
 * once dst's window is open and the last carry-over written, and what the
 * window does not take yet waits in p. Returns the number of bytes moved,
 * or -1 on a channel error.
 */
static ssize_t
relay_pump(struct sess *S, ssh_channel src, ssh_channel dst, struct pend *p,
    int is_stderr, int to_stderr, int rec_type)
{
	const struct ssh_counter_struct *ctr = src == S->vch ? &S->R->vctr :
	    &S->R->dctr;
	ssize_t moved = 0, r;

	if (src == NULL || dst == NULL || !ssh_channel_is_open(dst))
		return (0);
	for (;;) {
		if (!relay_flush(dst, p, to_stderr))
			return (moved);
		/* the carry-over is written: read a whole batch, not only
		 * what the window takes now, so that a frame is not cut at
		 * each of the engineer's window adjustments (about 100 KiB
		 * for OpenSSH); the rest waits in p for the window */
		if (ssh_channel_window_size(dst) == 0)
			return (moved);
		if ((r = relay_gather(src, ctr, p, sizeof(p->d),
		    is_stderr)) <= 0)
			return (r < 0 ? -1 : moved);
		/* recorded before it is relayed: fail closed */
		if (S->rec != NULL && sess_rec_check(S, rec_client_frame(
		    S->rec, rec_type, 0, p->d, (size_t)r)) != 0)
			return (-1);
		p->n = (size_t)r;
		p->off = 0;
		moved += r;
	}
}

static void
relay_exit_status_cb(ssh_session s, ssh_channel c, int status, void *arg)
{
	struct sess *S = arg;
	struct relay *R = S->R;

	(void)s;
	(void)c;
	/* the first word stands: the bastion's own (a malformed sftp packet
	 * ended the channel: 1) is not overwritten by the device's answer
	 * to the close that followed */
	if (R->got_exit_status || R->got_exit_signal)
		return;
	R->got_exit_status = 1;
	R->exit_status = status;
}

static void
relay_exit_signal_cb(ssh_session s, ssh_channel c, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct sess *S = arg;
	struct relay *R = S->R;

	(void)s;
	(void)c;
	(void)errmsg;
	(void)lang;
	if (R->got_exit_status || R->got_exit_signal)
		return;
	R->got_exit_signal = 1;
	R->exit_core = core;
	snprintf(R->exit_signal, sizeof(R->exit_signal), "%s", sig);
}

struct ssh_channel_callbacks_struct relay_dch_cb = {
	.channel_exit_status_function = relay_exit_status_cb,
	.channel_exit_signal_function = relay_exit_signal_cb,
};

/*
 * The device's exit status or signal to the engineer (and the recording),
 * once. Sent before the engineer's channel gets its EOF when the device
 * has said it by then: PuTTY closes its channel as soon as both sides sent
 * EOF, and an exit status that comes after that is lost to plink.
 */
void
relay_forward_exit(struct sess *S)
{
	struct relay *R = S->R;

	if (R->exit_fwd || !(R->got_exit_status || R->got_exit_signal))
		return;
	R->exit_fwd = 1;
	if (S->rec != NULL && !S->rec_failed) {
		if (R->got_exit_signal)
			(void)sess_rec_check(S, rec_client_exit_signal(S->rec,
			    0, R->exit_signal, R->exit_core, ""));
		else
			(void)sess_rec_check(S, rec_client_exit_status(S->rec,
			    0, (uint32_t)R->exit_status));
	}
	if (R->got_exit_signal)
		ssh_channel_request_send_exit_signal(S->vch, R->exit_signal,
		    R->exit_core, "", "");
	else
		ssh_channel_request_send_exit_status(S->vch, R->exit_status);
}

void
relay_session_channels(struct sess *S)
{
	struct relay *R = S->R;
	ssize_t a, b, c;

	if (S->vch == NULL || S->dch == NULL || R->finishing != 0 ||
	    relay_wr_asking(S))
		return;
	if (R->sftp != NULL) {	/* the airlock, after stderr: relay_sftp.c */
		b = relay_pump(S, S->dch, S->vch, &R->to_vendor_err, 1, 1,
		    REC_STDERR);
		if (relay_sftp_pump(S, &a, &c) != 0)
			a = -1;
	} else {
		a = relay_pump(S, S->dch, S->vch, &R->to_vendor, 0, 0,
		    REC_OUTPUT);
		b = relay_pump(S, S->dch, S->vch, &R->to_vendor_err, 1, 1,
		    REC_STDERR);
		c = relay_pump(S, S->vch, S->dch, &R->to_dev, 0, 0, REC_INPUT);
	}
	if (a < 0 || b < 0 || c < 0) {
		relay_rec_or_channel_failed(S);
		return;
	}
	if (a > 0 || b > 0)
		R->bytes_out += (uint64_t)(a + b);
	if (c > 0)
		R->bytes_in += (uint64_t)c;
	if (a > 0 || b > 0 || c > 0)
		R->lim.last_activity = relay_now(R);

	/* engineer sent EOF (stdin closed): pass it on once drained */
	if (!R->vch_eof_fwd && ssh_channel_is_eof(S->vch) &&
	    R->to_dev.n == 0 && relay_sftp_idle(S, 1) &&
	    ssh_channel_poll(S->vch, 0) <= 0) {
		if (S->rec != NULL && sess_rec_check(S, rec_client_eof(S->rec,
		    0, REC_DIR_TO_DEVICE)) != 0) {
			relay_rec_or_channel_failed(S);
			return;
		}
		ssh_channel_send_eof(S->dch);
		R->vch_eof_fwd = 1;
	}
	/* device finished: forward status once all its output is through */
	if ((ssh_channel_is_eof(S->dch) || ssh_channel_is_closed(S->dch)) &&
	    R->to_vendor.n == 0 && R->to_vendor_err.n == 0 &&
	    relay_sftp_idle(S, 0) &&
	    ssh_channel_poll(S->dch, 0) <= 0 &&
	    ssh_channel_poll(S->dch, 1) <= 0) {
		if (!R->dch_eof_fwd && !R->dev_eof_recorded) {
			if (S->rec != NULL && sess_rec_check(S,
			    rec_client_eof(S->rec, 0, REC_DIR_FROM_DEVICE)) !=
			    0) {
				relay_rec_or_channel_failed(S);
				return;
			}
			R->dev_eof_recorded = 1;
		}
		if (R->dev_eof_at == 0)
			R->dev_eof_at = relay_now(R);
		/* no EOF to the engineer while a work record may still be
		 * asked on their channel; the exit status first when the
		 * device gives it within RELAY_EOF_HOLD_S */
		if (!R->dch_eof_fwd && (!relay_wr_applies(S) ||
		    R->wr == WR_DONE) && (R->got_exit_status ||
		    R->got_exit_signal || ssh_channel_is_closed(S->dch) ||
		    relay_now(R) - R->dev_eof_at >= RELAY_EOF_HOLD_S)) {
			relay_forward_exit(S);
			ssh_channel_send_eof(S->vch);
			R->dch_eof_fwd = 1;
		}
		if (ssh_channel_is_closed(S->dch)) {
			snprintf(R->end_reason, sizeof(R->end_reason),
			    "device closed the session");
			relay_wrap_up(S);
			return;
		}
	}
	/* the engineer closed first: answer with our close and let them
	 * disconnect (relay_finish_vendor), never the other way round */
	if (ssh_channel_is_closed(S->vch) && R->finishing == 0) {
		if (R->end_reason[0] == '\0')
			snprintf(R->end_reason, sizeof(R->end_reason),
			    "engineer closed the session");
		relay_finish_vendor(S);
	}
}
