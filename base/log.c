/*
 * log.c - diagnostics to stderr/syslog and logfmt audit events (which an
 * installed sink, the audit chain of auditlog.c, also keeps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "err.h"
#include "events.h"
#include "hex.h"
#include "log.h"
#include "utf8.h"

static const char *log_ident = "bastion";
static int log_syslog;
static enum log_level log_level = LOG_LVL_INFO;
static audit_sink_fn audit_sink;
static int audit_quiet;		/* the sink prints it elsewhere */
static void *audit_sink_arg;
static int log_journal = -1;	/* stderr is the journal (JOURNAL_STREAM) */

/*
 * Is stderr connected to the journal? systemd sets JOURNAL_STREAM to the
 * "DEVICE:INODE" of the stream it gave the service (systemd.exec(5)); a
 * child whose stderr was redirected elsewhere keeps the variable but not
 * the stream, hence the comparison. Then every line starts with a
 * "<N>" priority prefix (sd-daemon(3)), which journald strips and keeps as
 * PRIORITY=, and syslog() is not used as well (the line would be there
 * twice).
 */
static int
log_to_journal(void)
{
	const char *e;
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (log_journal >= 0)
		return (log_journal);
	log_journal = 0;
	if ((e = getenv("JOURNAL_STREAM")) != NULL &&
	    sscanf(e, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		log_journal = 1;
	return (log_journal);
}

/* A stream whose every line reaches the journal at one priority: each
 * line goes out in one write, prefix and all (journald reads a stream
 * line by line, and a prefix written apart would be a line of its own). */
struct log_prio_stream {
	int prio;
	int midline;
};

static ssize_t
log_prio_write(void *cookie, const char *buf, size_t len)
{
	struct log_prio_stream *ps = cookie;
	char out[1024];
	size_t i = 0, o, n;

	while (i < len) {
		o = 0;
		if (!ps->midline)
			o = (size_t)snprintf(out, sizeof(out), "<%d>", ps->prio);
		for (n = 0; i + n < len && buf[i + n] != '\n' &&
		    o + n < sizeof(out) - 1; n++)
			;
		if (i + n < len && buf[i + n] == '\n' && o + n < sizeof(out))
			n++;
		memcpy(out + o, buf + i, n);
		ps->midline = out[o + n - 1] != '\n';
		(void)fwrite(out, 1, o + n, stderr);
		i += n;
	}
	return ((ssize_t)len);
}

FILE *
log_stream(enum log_level lvl)
{
	static struct log_prio_stream ps[4] = { { LOG_ERR, 0 },
	    { LOG_WARNING, 0 }, { LOG_INFO, 0 }, { LOG_DEBUG, 0 } };
	static FILE *streams[4];
	static const cookie_io_functions_t io = { NULL, log_prio_write, NULL,
	    NULL };

	if (!log_to_journal())
		return (stderr);
	if (streams[lvl] == NULL &&
	    (streams[lvl] = fopencookie(&ps[lvl], "w", io)) != NULL)
		setvbuf(streams[lvl], NULL, _IOLBF, 0);
	return (streams[lvl] != NULL ? streams[lvl] : stderr);
}

void
log_clean(char *out, size_t outlen, const char *in)
{
	const uint8_t *p = (const uint8_t *)in;
	size_t len = strlen(in), i = 0, o = 0;
	uint32_t cp;
	int n;

	if (outlen == 0)
		return;
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (n > 0 && cp >= 0x20 && cp != 0x7f &&
		    !(cp >= 0x80 && cp < 0xa0)) {
			if (o + (size_t)n >= outlen)
				break;
			memcpy(out + o, p + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
			continue;
		}
		/* a control character (C0, DEL, C1) or a byte that is not
		 * UTF-8: written as \xNN, byte by byte, never raw */
		n = n > 0 ? n : 1;
		for (; n > 0; n--, i++) {
			if (o + 4 >= outlen) {
				out[o] = '\0';
				return;
			}
			out[o++] = '\\';
			out[o++] = 'x';
			hex_encode(p + i, 1, out + o);
			o += 2;
		}
	}
	out[o] = '\0';
}

void
log_init(const char *ident, int to_syslog, enum log_level level)
{
	log_ident = ident;
	log_level = level;
	if (log_syslog)
		closelog();
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

enum log_level
log_get_level(void)
{
	return (log_level);
}

void
audit_set_sink(audit_sink_fn fn, void *arg)
{
	audit_sink = fn;
	audit_sink_arg = arg;
}

static void
log_v(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char raw[2048], msg[2048];

	if (lvl > log_level)
		return;
	/* messages carry client-controlled text (user names, libssh's
	 * errors with the client's algorithm lists): one line, no control
	 * characters, so nobody can write a line that looks like another */
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_clean(msg, sizeof(msg), raw);
	if (log_to_journal())
		fprintf(stderr, "<%d>%s[%ld]: %s: %s\n", prio[lvl], log_ident,
		    (long)getpid(), names[lvl], msg);
	else
		fprintf(stderr, "%s[%ld]: %s: %s\n", log_ident, (long)getpid(),
		    names[lvl], msg);
	if (log_syslog && !log_to_journal())
		syslog(prio[lvl], "%s", msg);
}

#define LOG_FN(fn, lvl)                       \
	void fn(const char *fmt, ...)         \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		log_v(lvl, fmt, ap);          \
		va_end(ap);                   \
	}
LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)
#undef LOG_FN

void
log_escape(char *out, size_t outlen, const char *in)
{
	size_t o = 0;
	int quote = 0, raw = 0;
	const unsigned char *p;

	if (outlen == 0)
		return;
	if (in == NULL)
		in = "-";
	if (*in == '\0')
		quote = 1;
	for (p = (const unsigned char *)in; *p != '\0'; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    *p >= 0x7f)
			quote = 1;
	if (quote && o + 1 < outlen)
		out[o++] = '"';
	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		char tmp[5];
		uint32_t cp;
		size_t n;
		int u = 0;

		/* beyond ASCII: whole valid characters stay, but C1 controls
		 * and bytes that are not UTF-8 are written as \xNN */
		if (*p >= 0x80 && raw == 0 && ((u = utf8_decode(p,
		    strlen((const char *)p), &cp)) <= 0 || cp < 0xa0))
			raw = -1;
		else if (*p >= 0x80 && raw == 0)
			raw = u;
		if (raw == -1 || (raw == 0 && (*p < ' ' || *p == 0x7f))) {
			tmp[0] = '\\';
			tmp[1] = 'x';
			hex_encode(p, 1, tmp + 2);
			n = 4;
			raw = 0;
		} else if (raw > 0) {
			tmp[0] = (char)*p;
			n = 1;
			raw--;
		} else if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			n = 2;
		} else {
			tmp[0] = (char)*p;
			n = 1;
		}
		if (o + n + (quote ? 1 : 0) + 4 >= outlen) {
			/* "..." marks the cut where it fits with the closing
			 * quote and the NUL (a tiny out gets no mark) */
			if (o + 3 + (quote ? 1 : 0) < outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (quote && o + 1 < outlen)
		out[o++] = '"';
	out[o] = '\0';
}

int
audit_eventv(const char *event, va_list ap)
{
	char line[4096], field[1200], val[1024], ts[64];
	static const char trunc[] = " truncated=yes";
	struct timeval tv;
	struct tm tm;
	size_t o, n;
	const char *k, *v;
	int full = 0;

	enum bev ev = bev_lookup(event, event != NULL ? strlen(event) : 0);
	const char *keys[64];
	char why[160];
	size_t nk = 0;

	/* one schema (events.h): an undeclared event is a bug, not a record */
	if (ev == BEV_NONE) {
		log_clean(why, sizeof(why), event != NULL ? event : "(null)");
		log_error("audit event \"%s\" is not declared in "
		    "base/events.h: not written", why);
		return (BERR_INVAL);
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	o = (size_t)snprintf(line, sizeof(line), "ts=%s.%03ldZ event=%s pid=%ld",
	    ts, (long)(tv.tv_usec / 1000), event, (long)getpid());
	if (o > sizeof(line) - sizeof(trunc))	/* room for the marker */
		o = sizeof(line) - sizeof(trunc);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (nk < sizeof(keys) / sizeof(keys[0]))
			keys[nk++] = k;
		if (full)
			continue;
		log_escape(val, sizeof(val), v);
		n = (size_t)snprintf(field, sizeof(field), " %s=%s", k, val);
		/* only whole fields, so the line stays parseable logfmt */
		if (n >= sizeof(field) ||
		    o + n + sizeof(trunc) > sizeof(line)) {
			memcpy(line + o, trunc, sizeof(trunc));
			o += sizeof(trunc) - 1;
			full = 1;
			continue;
		}
		memcpy(line + o, field, n);
		o += n;
	}
	line[o] = '\0';
	if (!full && bev_check(ev, keys, nk, why, sizeof(why)) != 0)
		log_error("audit event: %s", why);
	return (audit_line(line));
}

int
audit_line(const char *line)
{
	char note[128], shown[4096];
	int r = 0;

	note[0] = '\0';
	if (audit_sink != NULL)
		r = audit_sink(line, note, sizeof(note), audit_sink_arg);
	/* our own lines are escaped already; one relayed from a worker is
	 * printed as one line whatever it holds */
	log_clean(shown, sizeof(shown), line);
	line = shown;
	if (!audit_quiet) {
		if (log_to_journal())
			fprintf(stderr, "<%d>AUDIT %s%s\n", LOG_NOTICE, line, note);
		else
			fprintf(stderr, "AUDIT %s%s\n", line, note);
		if (log_syslog && !log_to_journal())
			syslog(LOG_NOTICE, "AUDIT %s%s", line, note);
	}
	return (r);
}

void
audit_set_quiet(int quiet)
{
	audit_quiet = quiet;
}

int
audit_event(const char *event, ...)
{
	va_list ap;
	int r;

	va_start(ap, event);
	r = audit_eventv(event, ap);
	va_end(ap);
	return (r);
}

int
audit_ev(enum bev ev, ...)
{
	va_list ap;
	int r;

	if (bev_name(ev) == NULL)
		return (BERR_INVAL);
	va_start(ap, ev);
	r = audit_eventv(bev_name(ev), ap);
	va_end(ap);
	return (r);
}
