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
#include <sys/time.h>

#include "log.h"

static const char *log_ident = "bastion";
static int log_syslog;
static enum log_level log_level = LOG_LVL_INFO;
static audit_sink_fn audit_sink;
static int audit_quiet;		/* the sink prints it elsewhere */
static void *audit_sink_arg;

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
	char msg[2048];

	if (lvl > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s[%ld]: %s: %s\n", log_ident, (long)getpid(),
	    names[lvl], msg);
	if (log_syslog)
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
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int quote = 0;
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
		size_t n;

		if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			n = 2;
		} else if (*p < ' ' || *p == 0x7f) {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[*p >> 4];
			tmp[3] = hex[*p & 15];
			n = 4;
		} else {
			tmp[0] = (char)*p;
			n = 1;
		}
		if (o + n + (quote ? 1 : 0) + 4 >= outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
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

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	o = (size_t)snprintf(line, sizeof(line), "ts=%s.%03ldZ event=%s pid=%ld",
	    ts, (long)(tv.tv_usec / 1000), event, (long)getpid());
	if (o > sizeof(line) - sizeof(trunc))	/* room for the marker */
		o = sizeof(line) - sizeof(trunc);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
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
	return (audit_line(line));
}

int
audit_line(const char *line)
{
	char note[128];
	int r = 0;

	note[0] = '\0';
	if (audit_sink != NULL)
		r = audit_sink(line, note, sizeof(note), audit_sink_arg);
	if (!audit_quiet) {
		fprintf(stderr, "AUDIT %s%s\n", line, note);
		if (log_syslog)
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
