/*
 * monitor.c - the listener <-> worker control line protocol (see
 * monitor.h): a bounded line assembler, a strict parser, a formatter that
 * cleans what it is given, and the listener's check of a session line
 * against the policy.
 *
 * Nothing is indexed beyond a length that was checked first; a line is
 * only ever split at single blanks, and every field is checked for its
 * charset and length before it is copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "auditlog.h"
#include "monitor.h"
#include "text.h"

void
mon_reader_init(struct mon_reader *r)
{
	memset(r, 0, sizeof(*r));
}

int
mon_reader_feed(struct mon_reader *r, const void *data, size_t len,
    int (*fn)(const char *line, size_t len, void *arg), void *arg)
{
	const char *p = data;
	size_t i;
	int rc;

	if (r->broken)
		return (BERR_LIMIT);
	for (i = 0; i < len; i++) {
		if (p[i] != '\n') {
			/* room for the byte and the NUL: MON_LINE_MAX counts
			 * the newline, which is never stored */
			if (r->n + 1 >= sizeof(r->buf)) {
				r->broken = 1;
				r->n = 0;
				return (BERR_LIMIT);
			}
			r->buf[r->n++] = p[i];
			continue;
		}
		r->buf[r->n] = '\0';
		rc = fn(r->buf, r->n, arg);
		r->n = 0;
		if (rc != 0)
			return (rc);
	}
	return (0);
}

int
mon_name_ok(const char *s)
{
	return (policy_name_ok(s));
}

int
mon_text_ok(const char *s, size_t len)
{
	return (text_is_clean(s, len));
}

void
mon_text_clean(const char *in, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)(in != NULL ? in :
	    "");
	size_t i = 0, o = 0, n, inlen = strlen((const char *)p);

	if (len == 0)
		return;
	if (len > MON_TEXT_MAX + 1)
		len = MON_TEXT_MAX + 1;
	while (i < inlen) {
		n = text_char(p + i, inlen - i);
		if (o + (n == 0 ? 1 : n) >= len)
			break;
		if (n == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

/* Decimal digits only, 1..MON_SID_MAX of them. */
static int
mon_digits_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MON_SID_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return (0);
	return (1);
}

/*
 * Take the next blank-separated field of *p (of end) into out (cap bytes
 * with the NUL). Fields are separated by exactly one blank. 0, or -1 when
 * there is none or it does not fit.
 */
static int
mon_field(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *e;

	if (s >= end)
		return (-1);
	if ((e = memchr(s, ' ', (size_t)(end - s))) == NULL)
		e = end;
	if (e == s || (size_t)(e - s) >= cap)
		return (-1);
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	*p = e < end ? e + 1 : e;
	return (0);
}

/* The rest of the line as clean text of at most cap - 1 bytes. */
static int
mon_rest(const char *p, const char *end, char *out, size_t cap)
{
	size_t n = (size_t)(end - p);

	if (n == 0 || n >= cap || !mon_text_ok(p, n))
		return (-1);
	memcpy(out, p, n);
	out[n] = '\0';
	return (0);
}

static int
mon_name_field(const char **p, const char *end, char *out, size_t cap,
    int dash_ok)
{
	if (mon_field(p, end, out, cap) != 0)
		return (-1);
	if (dash_ok && strcmp(out, "-") == 0)
		return (0);
	return (mon_name_ok(out) ? 0 : -1);
}

static int
mon_parse_session(const char *p, const char *end, struct mon_msg *m)
{
	char grant[MON_SID_MAX + 2];

	if (mon_field(&p, end, m->sid, sizeof(m->sid)) != 0 ||
	    !mon_digits_ok(m->sid, strlen(m->sid)) ||
	    mon_name_field(&p, end, m->engineer, sizeof(m->engineer), 0) != 0 ||
	    mon_name_field(&p, end, m->vendor, sizeof(m->vendor), 0) != 0 ||
	    mon_name_field(&p, end, m->device, sizeof(m->device), 1) != 0 ||
	    mon_field(&p, end, grant, sizeof(grant)) != 0 ||
	    !mon_digits_ok(grant, strlen(grant)) || strlen(grant) > 18 ||
	    mon_rest(p, end, m->path, sizeof(m->path)) != 0)
		return (-1);
	m->grant = strtoll(grant, NULL, 10);
	return (0);
}

int
mon_parse(const char *line, size_t len, struct mon_msg *m)
{
	const char *end, *p;
	int r = -1;

	memset(m, 0, sizeof(*m));
	/* no NUL inside, one type letter, then a blank or the end */
	if (line == NULL || len == 0 || len >= MON_LINE_MAX ||
	    memchr(line, '\0', len) != NULL || (len > 1 && line[1] != ' ') ||
	    (line[0] != 'V' && len >= MON_CTL_LINE_MAX))
		goto bad;
	end = line + len;
	p = line + 2;	/* used only when len > 2 */
	switch (line[0]) {
	case 'A':
	case 'R':
		r = len == 1 ? 0 : -1;
		m->type = line[0] == 'A' ? MON_AUTH : MON_REVOKE;
		break;
	case 'S':
		m->type = MON_SESSION;
		r = len > 2 ? mon_parse_session(p, end, m) : -1;
		break;
	case 'E':
		m->type = MON_END;
		r = len > 2 ? mon_rest(p, end, m->text, sizeof(m->text)) : -1;
		break;
	case 'K':
	case 'L':
		m->type = line[0] == 'K' ? MON_KILL : MON_LOCK;
		r = len > 2 && mon_name_field(&p, end, m->by, sizeof(m->by),
		    1) == 0 ? mon_rest(p, end, m->text, sizeof(m->text)) : -1;
		break;
	case 'V':
		m->type = MON_AUDIT;
		if (len > 2 && len - 2 <= MON_AUDIT_MAX) {
			m->audit = line + 2;
			m->auditlen = len - 2;
			r = 0;
		}
		break;
	default:
		break;
	}
	if (r == 0)
		return (0);
bad:
	memset(m, 0, sizeof(*m));
	return (BERR_FORMAT);
}

int
mon_format(const struct mon_msg *m, char *out, size_t len)
{
	char text[MON_TEXT_MAX + 1];
	int n = -1;

	if (m == NULL || out == NULL || len == 0)
		return (BERR_INVAL);
	mon_text_clean(m->text, text, sizeof(text));
	if (text[0] == '\0')
		snprintf(text, sizeof(text), "-");
	switch (m->type) {
	case MON_AUTH:
		n = snprintf(out, len, "A\n");
		break;
	case MON_REVOKE:
		n = snprintf(out, len, "R\n");
		break;
	case MON_END:
		n = snprintf(out, len, "E %s\n", text);
		break;
	case MON_KILL:
	case MON_LOCK:
		if (strcmp(m->by, "-") != 0 && !mon_name_ok(m->by))
			return (BERR_INVAL);
		n = snprintf(out, len, "%c %s %s\n", m->type == MON_KILL ?
		    'K' : 'L', m->by, text);
		break;
	case MON_SESSION:
		if (!mon_digits_ok(m->sid, strlen(m->sid)) ||
		    !mon_name_ok(m->engineer) || !mon_name_ok(m->vendor) ||
		    (strcmp(m->device, "-") != 0 && !mon_name_ok(m->device)) ||
		    m->grant < 0 || m->path[0] == '\0' ||
		    strlen(m->path) > MON_PATH_MAX ||
		    !mon_text_ok(m->path, strlen(m->path)))
			return (BERR_INVAL);
		n = snprintf(out, len, "S %s %s %s %s %lld %s\n", m->sid,
		    m->engineer, m->vendor, m->device, (long long)m->grant,
		    m->path);
		break;
	default:
		return (BERR_INVAL);
	}
	if (n < 0 || (size_t)n >= len || (size_t)n > MON_CTL_LINE_MAX)
		return (BERR_LIMIT);
	return (0);
}

/* Is rel (below the recordings directory) "DIR/.../NAME.brec" with
 * components of [A-Za-z0-9._-], none "." or ".."? */
static int
mon_rec_rel_ok(const char *rel)
{
	const char *c = rel, *slash;
	size_t n;

	for (;;) {
		slash = strchr(c, '/');
		n = slash != NULL ? (size_t)(slash - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return (0);
		if (strspn(c, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") < n)
			return (0);
		if (slash == NULL)
			break;
		c = slash + 1;
	}
	return (n > 5 && strcmp(c + n - 5, ".brec") == 0);
}

int
mon_recording_ok(const struct policy *pol, const char *path)
{
	size_t dl;

	if (pol == NULL || pol->recordings_dir == NULL || path == NULL ||
	    strlen(path) > MON_PATH_MAX)
		return (0);
	dl = strlen(pol->recordings_dir);
	while (dl > 1 && pol->recordings_dir[dl - 1] == '/')
		dl--;
	return (strncmp(path, pol->recordings_dir, dl) == 0 &&
	    path[dl] == '/' && mon_rec_rel_ok(path + dl + 1));
}

const char *
mon_session_check(const struct mon_msg *m, const char *sid,
    const struct policy *pol)
{
	const struct policy_person *who;
	const struct policy_device *d;
	enum policy_role role = ROLE_NONE;

	if (m == NULL || m->type != MON_SESSION || pol == NULL)
		return ("not a session line");
	if (sid == NULL || strcmp(m->sid, sid) != 0)
		return ("it names another session number");
	who = policy_person(pol, m->engineer, &role);
	if (who == NULL || role != ROLE_ENGINEER || who->vendor == NULL)
		return ("no such engineer in the policy");
	if (strcmp(who->vendor->name, m->vendor) != 0)
		return ("the engineer belongs to another vendor");
	if (strcmp(m->device, "-") != 0 &&
	    ((d = policy_device(pol, m->device)) == NULL ||
	    d->vendor != who->vendor))
		return ("the device is not one of the vendor's");
	if (!mon_recording_ok(pol, m->path))
		return ("the recording is not a recording file below "
		    "recordings_dir");
	return (NULL);
}

static int
mon_key_ok(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' &&
		    k[i] <= '9') || k[i] == '_' || k[i] == '.'))
			return (0);
	return (i > 0);
}

const char *
mon_audit_check(const char *line, size_t len, const char *sid, long pid)
{
	static const char *const first[] = { "ts", "event", "pid" };
	const char *p = line, *end = line + len, *why = NULL;
	char key[64], *val, want[24];
	size_t i = 0;
	int r;

	if (len == 0 || len > MON_AUDIT_MAX)
		return ("empty or too long");
	/* log.h writes every control as \xNN and the chain refuses them
	 * raw, quoted or not; a NUL would also cut the line that
	 * audit_line() takes as a C string */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] == 0x7f)
			return ("a control character");
	i = 0;
	if ((val = malloc(MON_AUDIT_MAX + 1)) == NULL)
		return ("out of memory");
	snprintf(want, sizeof(want), "%ld", pid);
	while (why == NULL && (r = auditlog_field_next(&p, end, key,
	    sizeof(key), val, MON_AUDIT_MAX + 1)) == 0) {
		if (!mon_key_ok(key))
			why = "a field name outside [a-z0-9_.]";
		else if (i < 3 && strcmp(key, first[i]) != 0)
			why = "it does not start with ts=, event= and pid=";
		else if (i == 1 && !mon_key_ok(val))
			why = "an event name outside [a-z0-9_.]";
		else if (i == 2 && strcmp(val, want) != 0)
			why = "another process's pid";
		else if (strcmp(key, "session") == 0 && strcmp(val, sid) != 0)
			why = "another session";
		else if (strcmp(key, "chain") == 0)
			why = "a chain= field (the listener adds it)";
		i++;
	}
	if (why == NULL && (p != end || i < 3))
		why = "not a well-formed audit line";
	free(val);
	return (why);
}
