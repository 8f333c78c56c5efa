/*
 * relay_wr.c - the work record (policy work_record): when the policy asks
 * for one, an interactive session whose device side has ended asks the
 * engineer, before their channel closes, whether personal information
 * was accessed and which records. The answer (or that there was none) is
 * recorded and audited once (session.work_record); keys typed meanwhile
 * are the answer's and never reach the device.
 *
 * Files (issue 18, docs/FILES.md "Work record and declarations"): the
 * files the engineer moved through the airlock, in this connection or in
 * another (sftp runs in a connection of its own, without a terminal),
 * wait in open declarations in the store. The monitor lists them here
 * (MREQ_DECL); after the session's own questions the engineer says
 * whether any held personal data and whether it was erased, and the
 * monitor answers exactly the declarations it listed.
 */
#include <strings.h>
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

int
relay_wr_asking(const struct sess *S)
{
	const struct relay *R = S->R;

	return (R->wr == WR_ASK_PERSONAL || R->wr == WR_ASK_RECORDS ||
	    R->wr == WR_ASK_FILES || R->wr == WR_ASK_ERASED);
}

/* Is the engineer asked at the end? Interactive sessions (a terminal)
 * only: without one there is nobody to answer. */
int
relay_wr_applies(const struct sess *S)
{
	return (policy_work_record(S->pol, S->au.who->vendor) && S->has_pty &&
	    (S->kind == SESS_SHELL || S->kind == SESS_EXEC));
}

/* Record the answer (or that there is none) in the recording and the
 * audit log, once. */
void
relay_wr_done(struct sess *S, enum wr_result res, const char *records,
    const char *why)
{
	struct relay *R = S->R;
	const char *pi = res == WR_YES ? "yes" : res == WR_NO ? "no" :
	    "unanswered";
	char text[WR_RECORDS_MAX + 256];

	if (relay_wr_asking(S))
		R->wr = WR_DONE;
	if (R->wr_logged)
		return;
	R->wr_logged = 1;
	if (records != NULL && records[0] == '\0')
		records = NULL;
	snprintf(text, sizeof(text), "personal_info=%s; records=%s%s%s", pi,
	    records != NULL ? records : "-", why != NULL ? "; " : "",
	    why != NULL ? why : "");
	(void)sess_rec_event(S, "work.record", text);
	audit_ev(BEV_SESSION_WORK_RECORD, "session", S->sid, "user",
	    S->au.who->name, "vendor", S->au.who->vendor->name, "device",
	    S->dev ? S->dev->name : NULL, "personal_info", pi, "records",
	    records, "reason", why, NULL);
}

/* The engineer's open file declarations, shown before the questions. */
static void
relay_wr_files_list(struct sess *S)
{
	struct relay *R = S->R;
	unsigned nd = 0, nf = 0;
	const char *p, *nl;
	char *text;

	R->wr_ndecl = 0;
	if ((text = malloc(DECL_TEXT_MAX + 1)) == NULL)
		return;
	if (mm_decl_list(&nd, &nf, text, DECL_TEXT_MAX + 1) == 0 && nd > 0) {
		R->wr_ndecl = nd;
		sess_tell(S, "Files you moved through the bastion that wait for "
		    "a declaration (%u file(s)):\n", nf);
		/* a line at a time: sess_tell() takes a line, not a page */
		for (p = text; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
			nl = p + strcspn(p, "\n");
			sess_tell(S, "%.*s\n", (int)(nl - p), p);
		}
	}
	free(text);
}

/* The session's own questions are answered: the files', or close. */
static void
relay_wr_next(struct sess *S)
{
	struct relay *R = S->R;

	if (R->wr_ndecl == 0) {
		relay_finish_vendor(S);
		return;
	}
	R->wr = WR_ASK_FILES;
	R->wr_n = 0;
	/* the files' questions get their own time */
	R->wr_deadline = relay_now(R) + (time_t)R->wr_timeout;
	sess_tell(S, "Did any of the files listed above hold personal "
	    "(patient) data? [y/n] ");
}

/* The files' answer, to the monitor (which audits it); then close. */
static void
relay_wr_files_done(struct sess *S, int personal, int erased)
{
	static const char *const er[] = { "-", "yes", "no", "pending" };
	struct relay *R = S->R;
	unsigned closed = 0, still = 0;
	char text[128];

	R->wr = WR_DONE;
	(void)mm_decl_answer(personal, erased, &closed, &still);
	snprintf(text, sizeof(text), "personal=%s; erased=%s; closed=%u; "
	    "open=%u", personal ? "yes" : "no", er[erased], closed, still);
	(void)sess_rec_event(S, "file.declaration", text);
	if (closed + still == 0)
		sess_tell(S, "bastion: the file declarations could not be "
		    "saved; they stay open: ssh %s@bastion declare\n",
		    S->au.who->name);
	else if (still > 0)
		sess_tell(S, "bastion: file declaration saved: personal data, "
		    "erased: %s; it stays open until the data is erased: then "
		    "ssh %s@bastion declare SESSION personal=yes erased=yes\n",
		    er[erased], S->au.who->name);
	else
		sess_tell(S, "bastion: file declaration saved: %s (%u "
		    "session(s) closed)\n", personal ? "personal data, erased" :
		    "no personal data", closed);
	relay_finish_vendor(S);
}

/* No answer for the files (declined, timed out): they stay open. */
static void
relay_wr_files_left(struct sess *S)
{
	S->R->wr = WR_DONE;
	sess_tell(S, "bastion: the file declarations stay open: ssh "
	    "%s@bastion declare\n", S->au.who->name);
	relay_finish_vendor(S);
}

/* An answer to the files' questions. */
static void
relay_wr_files_submit(struct sess *S, const char *line)
{
	struct relay *R = S->R;
	int y = strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
	int n = strcasecmp(line, "n") == 0 || strcasecmp(line, "no") == 0;

	if (R->wr == WR_ASK_FILES && (y || n)) {
		if (n) {
			relay_wr_files_done(S, 0, DECL_ERASED_NONE);
			return;
		}
		R->wr = WR_ASK_ERASED;
		sess_tell(S, "Has that data been erased on your side? "
		    "[y/n/later] ");
	} else if (R->wr == WR_ASK_ERASED && (y || n ||
	    strcasecmp(line, "later") == 0))
		relay_wr_files_done(S, 1, y ? DECL_ERASED_YES : n ?
		    DECL_ERASED_NO : DECL_ERASED_PENDING);
	else
		sess_tell(S, R->wr == WR_ASK_FILES ? "Please answer y or n: " :
		    "Please answer y, n or later: ");
}

static void
relay_wr_start(struct sess *S)
{
	struct relay *R = S->R;
	unsigned t = WR_TIMEOUT_S;

	/* nobody waits longer than the idle limit would let them */
	if (S->pol->idle_timeout > 0 && S->pol->idle_timeout < t)
		t = S->pol->idle_timeout;
	R->wr = WR_ASK_PERSONAL;
	R->wr_timeout = t;
	R->wr_deadline = relay_now(R) + (time_t)t;
	R->wr_n = 0;
	if (R->dpoll_on) {
		/* the device is done: nothing more to read there */
		uv_poll_stop(&R->dpoll);
		R->dpoll_ev = 0;
	}
	sess_tell(S, "\nbastion: work record for session %s on %s (the "
	    "policy asks for one)\n", S->sid, S->dev ? S->dev->name : "-");
	relay_wr_files_list(S);
	sess_tell(S, "Was personal (patient) information accessed during this "
	    "session? [y/n] ");
}

/* The device's side is over (output drained): ask, or close. */
void
relay_wrap_up(struct sess *S)
{
	struct relay *R = S->R;

	if (relay_wr_asking(S))
		return;
	if (R->wr == WR_NONE && relay_wr_applies(S) && !R->done &&
	    S->vch != NULL && ssh_channel_is_open(S->vch) &&
	    ssh_is_connected(S->vs)) {
		relay_wr_start(S);
		return;
	}
	relay_finish_vendor(S);
}

/* Enter on an answer. */
static void
relay_wr_submit(struct sess *S)
{
	struct relay *R = S->R;
	char line[WR_RECORDS_MAX + 1];
	size_t a = 0, n = R->wr_n;

	while (a < n && R->wr_line[a] == ' ')
		a++;
	while (n > a && R->wr_line[n - 1] == ' ')
		n--;
	snprintf(line, sizeof(line), "%.*s", (int)(n - a), R->wr_line + a);
	R->wr_n = 0;
	if (R->wr == WR_ASK_FILES || R->wr == WR_ASK_ERASED) {
		relay_wr_files_submit(S, line);
		return;
	}
	if (R->wr == WR_ASK_PERSONAL) {
		if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0) {
			R->wr = WR_ASK_RECORDS;
			sess_tell(S, "Which records (identifiers only, never the "
			    "data; comma-separated): ");
		} else if (strcasecmp(line, "n") == 0 ||
		    strcasecmp(line, "no") == 0) {
			relay_wr_done(S, WR_NO, NULL, NULL);
			sess_tell(S, "bastion: work record saved: no personal "
			    "information accessed\n");
			relay_wr_next(S);
		} else
			sess_tell(S, "Please answer y or n: ");
		return;
	}
	if (line[0] == '\0') {
		sess_tell(S, "Please give the record identifiers (or "
		    "\"unknown\"): ");
		return;
	}
	relay_wr_done(S, WR_YES, line, NULL);
	sess_tell(S, "bastion: work record saved: personal information "
	    "accessed, records %s\n", line);
	relay_wr_next(S);
}

/* One key of the answer: printable ASCII with echo, backspace, ^U; ^C or
 * ^D declines; escape sequences (arrow keys) are skipped. */
static void
relay_wr_key(struct sess *S, uint8_t c)
{
	struct relay *R = S->R;
	size_t max = R->wr == WR_ASK_RECORDS ? WR_RECORDS_MAX : WR_ANSWER_MAX;
	int cr = R->wr_cr;

	R->wr_cr = 0;
	if (R->wr_esc == 1) {
		R->wr_esc = c == '[' || c == 'O' ? 2 : 0;
		return;
	}
	if (R->wr_esc == 2) {
		if (c >= 0x40 && c <= 0x7e)
			R->wr_esc = 0;
		return;
	}
	switch (c) {
	case 0x1b:
		R->wr_esc = 1;
		return;
	case '\n':
		if (cr)
			return;		/* CR LF is one Enter */
		/* FALLTHROUGH */
	case '\r':
		R->wr_cr = c == '\r';
		sess_tell(S, "\n");
		relay_wr_submit(S);
		return;
	case 3:
	case 4:
		sess_tell(S, "^%c\n", c + '@');
		if (R->wr == WR_ASK_FILES || R->wr == WR_ASK_ERASED) {
			relay_wr_files_left(S);
			return;
		}
		relay_wr_done(S, WR_UNANSWERED, NULL, "the engineer declined "
		    "to answer");
		sess_tell(S, "bastion: work record saved: not answered\n");
		relay_finish_vendor(S);
		return;
	case 0x7f:
	case 8:
		if (R->wr_n > 0) {
			R->wr_n--;
			sess_tell(S, "\b \b");
		}
		return;
	case 0x15:
		for (; R->wr_n > 0; R->wr_n--)
			sess_tell(S, "\b \b");
		return;
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f && R->wr_n < max) {
		R->wr_line[R->wr_n++] = (char)c;
		sess_tell(S, "%c", c);
	}
}

/* The engineer's keys while the question is open; never sent on. */
void
relay_wr_input(struct sess *S)
{
	uint8_t b[256];
	int n, i;

	while (relay_wr_asking(S)) {
		n = ssh_channel_read_nonblocking(S->vch, b, sizeof(b), 0);
		if (n == SSH_ERROR || n == SSH_EOF ||
		    ssh_channel_is_closed(S->vch)) {
			relay_wr_done(S, WR_UNANSWERED, NULL, "the engineer "
			    "closed the session");
			relay_end(S, "engineer closed the session");
			return;
		}
		if (n <= 0)
			return;
		for (i = 0; i < n && relay_wr_asking(S); i++)
			relay_wr_key(S, b[i]);
	}
}

/* At the end: a session that was not asked gets its "unanswered" line. */
void
relay_wr_settle(struct sess *S)
{
	struct relay *R = S->R;
	char why[sizeof(R->end_reason) + 16];

	if (!policy_work_record(S->pol, S->au.who->vendor) || R->wr_logged)
		return;
	if (!relay_wr_applies(S))
		relay_wr_done(S, WR_UNANSWERED, NULL, "not asked: the session "
		    "had no terminal");
	else {
		snprintf(why, sizeof(why), "not asked: %s", R->end_reason[0] ?
		    R->end_reason : "session ended");
		relay_wr_done(S, WR_UNANSWERED, NULL, why);
	}
}

/* The one-second timer while the question is open: no answer in time. */
void
relay_wr_tick(struct sess *S, time_t now)
{
	struct relay *R = S->R;
	char d[64], w[64];

	if (now < R->wr_deadline)
		return;
	relay_fmt_duration(R->wr_timeout, d, sizeof(d));
	relay_fmt(w, sizeof(w), "no answer within %s", d);
	if (R->wr == WR_ASK_FILES || R->wr == WR_ASK_ERASED) {
		sess_tell(S, "\nbastion: %s\n", w);
		relay_wr_files_left(S);
		return;
	}
	sess_tell(S, "\nbastion: %s; the work record says: not answered\n",
	    w);
	relay_wr_done(S, WR_UNANSWERED, NULL, w);
	relay_finish_vendor(S);
}

void
relay_wr_greet(struct sess *S)
{
	unsigned n;

	if (S->au.role != ROLE_ENGINEER || !policy_work_record(S->pol,
	    S->au.who->vendor) || (n = mm_decl_count()) == 0)
		return;
	sess_tell(S, "bastion: you have %u open file declaration%s: ssh "
	    "%s@bastion declare\n", n, n == 1 ? "" : "s", S->au.who->name);
}
