/*
 * touch_window.c - transfer windows (limits.touch_transfer_window; docs/
 * FIDO2.md): after a touch, the same engineer's file transfers (sftp,
 * scp) to the same device from the same source are admitted without a
 * touch of their own until the window ends, so that a tool that opens a
 * connection per file does not ask for a touch per file. The windows are
 * the monitor's, kept in the state store; the child only says whether
 * its session is a transfer (touch_is_transfer), which the monitor holds
 * it to when the recording opens.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "privsep.h"
#include "state.h"
#include "touch_int.h"

int
touch_person_has_sk(const struct policy_person *who)
{
	size_t i;

	for (i = 0; who != NULL && i < who->nkeys; i++)
		if (who->keys[i].is_sk)
			return (1);
	return (0);
}

/* One word of an scp command line: plain characters, or a single-quoted
 * run without a quote in it; nothing a shell would act on. *pp moves past
 * it; -1 for anything else. */
static int
touch_scp_word(const char **pp, char *w, size_t wlen)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p != '\0' && *p != ' ') {
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (q == NULL)
				return (-1);
			p = q + 1;
			continue;
		}
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_./,:+=@%", *p) == NULL)
			return (-1);
		if (n + 1 < wlen)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	*pp = p;
	return (0);
}

int
touch_is_transfer(int kind, const char *command)
{
	const char *p = command;
	char w[64];
	int first = 1, mode = 0, opts = 1;

	if (kind == SESS_SUBSYSTEM)
		return (command != NULL && strcmp(command, "sftp") == 0);
	if (kind != SESS_EXEC || command == NULL)
		return (0);
	/* scp in its server mode, as OpenSSH scp -O and pscp -scp run it:
	 * "scp [-v] [-r] [-p] [-d] -t|-f [--] PATH", one command and
	 * nothing for the device's shell to expand or chain */
	while (*p != '\0') {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (touch_scp_word(&p, w, sizeof(w)) != 0)
			return (0);
		if (first) {
			if (strcmp(w, "scp") != 0)
				return (0);
			first = 0;
		} else if (opts && strcmp(w, "--") == 0)
			opts = 0;
		else if (opts && w[0] == '-') {
			if (strspn(w + 1, "vrpdtfq") != strlen(w + 1))
				return (0);
			if (strpbrk(w + 1, "tf") != NULL)
				mode = 1;
		} else
			opts = 0;
	}
	return (!first && mode);
}

/* when in fmt, local time or UTC; the number of seconds if it fails. */
static void
touch_strftime(time_t when, int local, const char *fmt, char *out,
    size_t len)
{
	struct tm tm;

	if ((local ? localtime_r(&when, &tm) : gmtime_r(&when, &tm)) == NULL ||
	    strftime(out, len, fmt, &tm) == 0)
		snprintf(out, len, "%lld", (long long)when);
}

void
touch_hhmm(time_t when, char *out, size_t len)
{
	touch_strftime(when, 1, "%H:%M %Z", out, len);
}

static void
touch_iso(time_t when, char *out, size_t len)
{
	touch_strftime(when, 0, "%Y-%m-%dT%H:%M:%SZ", out, len);
}

static void
touch_window_audit(struct touch *t, const char *event,
    const struct state_touch_window *w)
{
	struct sess *S = t->S;
	char until[32], win[16];

	touch_iso(w->until, until, sizeof(until));
	snprintf(win, sizeof(win), "%u", S->pol->touch_transfer_window);
	audit_event(event, "session", S->sid, "user", S->au.who->name,
	    "vendor", S->au.who->vendor->name, "from", S->peerstr, "device",
	    w->device, "key", t->fp[0] != '\0' ? t->fp : NULL, "touched_key",
	    w->fp, "opened_by", w->session, "until", until, "window", win,
	    "result", "ok", NULL);
}

/*
 * The monitor: may a window admit this session without a touch of its
 * own? Only an engineer's transfer to a device, with windows on, and a
 * window of the same engineer, device and source that has not ended,
 * whose key and engineer are not locked. 1 admitted (audited, out->until
 * set), 0 not, -1 the store failed.
 */
int
touch_mon_window(struct touch *t, int transfer, struct mm_touch_ask *out)
{
	struct sess *S = t->S;
	struct state_touch_window w;
	int found = 0, locked = 0;

	if (S->pol->touch_transfer_window == 0 || !transfer ||
	    S->au.role != ROLE_ENGINEER || S->dev == NULL || t->st == NULL)
		return (0);
	if (state_touch_window_get(t->st, S->au.who->name, S->dev->name,
	    S->peerstr, time(NULL), &w, &found) != 0)
		return (-1);
	if (!found)
		return (0);
	if (state_key_locked(t->st, w.fp, &locked, NULL) != 0 ||
	    (!locked && state_engineer_locked(t->st, S->au.who->name, &locked,
	    NULL) != 0))
		return (-1);
	if (locked)
		return (0);
	touch_window_audit(t, bev_name(BEV_TOUCH_WINDOW_USED), &w);
	out->until = w.until;
	return (1);
}

/* The monitor, after touch.ok: open (or renew) the window of this
 * engineer, device and source. Its end, or 0 when none was opened. */
time_t
touch_mon_window_open(struct touch *t, struct state *st)
{
	struct sess *S = t->S;
	struct state_touch_window w;
	time_t now = time(NULL);

	if (S->pol->touch_transfer_window == 0 ||
	    S->au.role != ROLE_ENGINEER || S->dev == NULL)
		return (0);
	memset(&w, 0, sizeof(w));
	snprintf(w.engineer, sizeof(w.engineer), "%s", S->au.who->name);
	snprintf(w.device, sizeof(w.device), "%s", S->dev->name);
	snprintf(w.source, sizeof(w.source), "%s", S->peerstr);
	snprintf(w.fp, sizeof(w.fp), "%s", t->fp);
	snprintf(w.session, sizeof(w.session), "%s", S->sid);
	w.grant_id = S->grant_id;
	w.opened = now;
	w.until = now + (time_t)S->pol->touch_transfer_window;
	(void)state_touch_window_expire(st, now);
	if (state_touch_window_open(st, &w) != 0) {
		log_error("session %s: cannot record the transfer window of "
		    "%s to %s: transfers will need their own touch", S->sid,
		    w.engineer, w.device);
		return (0);
	}
	touch_window_audit(t, bev_name(BEV_TOUCH_WINDOW_OPENED), &w);
	return (w.until);
}

