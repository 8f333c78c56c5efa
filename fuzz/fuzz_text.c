/*
 * fuzz_text.c - strings a peer chooses that end up in a log line, the
 * audit chain or on a person's screen: the login name, remote host and
 * tty pam_bastion.so and bastiond write into audit events (log_escape),
 * any line printed (log_clean), anything shown in a table or a prompt
 * (text_clean_buf), a reason sent on the monitor pipe (mon_text_clean).
 * Each writes into a heap buffer of exactly the size it is given, sizes
 * from 1 up, so a write past the end is caught; and what log_escape
 * writes must read back as one logfmt field holding the same bytes
 * (auditlog_field_next), or their start and "..." when it was cut; and
 * text_json (reports, --json listings) must write a JSON string.
 *
 * Input: byte 0 sets the small output size; the rest is the string.
 */
#include "fuzz.h"

#include "auditlog.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "text.h"

/* Run fn into an exact-size heap buffer of outlen bytes. */
#define EXACT(outlen, call) do {					\
	char *out = malloc(outlen);					\
	if (out == NULL)						\
		abort();						\
	call;								\
	if (memchr(out, '\0', outlen) == NULL)				\
		abort();	/* not NUL-terminated */		\
	free(out);							\
} while (0)

/* "k=" + log_escape(s) is one field whose value is s (or its start and
 * "..." when cut). */
static void
escape_roundtrip(const char *s)
{
	char line[4 + 1024], val[1024], key[8];
	const char *pos = line;
	size_t n, slen = strlen(s);

	memcpy(line, "k=", 2);
	log_escape(line + 2, sizeof(line) - 2, s);
	n = strlen(line);
	if (auditlog_field_next(&pos, line + n, key, sizeof(key), val,
	    sizeof(val)) != 0 || strcmp(key, "k") != 0 || pos != line + n)
		abort();
	if (4 * slen + 8 < sizeof(line) - 2) {
		if (strcmp(val, s) != 0)
			abort();
	} else if (strcmp(val, s) != 0 && (strlen(val) < 3 ||
	    strcmp(val + strlen(val) - 3, "...") != 0))
		abort();
}

/* A JSON string: quoted, no raw control byte, every backslash escaping
 * one of the escapes JSON has, strict UTF-8 inside. */
static void
json_check(const char *s)
{
	char *j = NULL;
	size_t n = 0, i;
	FILE *f = open_memstream(&j, &n);

	if (f == NULL)
		abort();
	text_json(f, s);
	if (fclose(f) != 0 || n < 2 || j[0] != '"' || j[n - 1] != '"')
		abort();
	for (i = 1; i < n - 1; i++) {
		if ((unsigned char)j[i] < 0x20 || j[i] == 0x7f ||
		    (j[i] == '"'))
			abort();
		if (j[i] == '\\' && strchr("\"\\/bfnrtu", j[++i]) == NULL)
			abort();
	}
	if (!text_is_clean(j, n))
		abort();
	free(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t small;
	char *s;

	if (size == 0)
		return (0);
	small = (size_t)(data[0] % 24) + 1;
	s = fuzz_cstr(data + 1, size - 1);
	escape_roundtrip(s);
	json_check(s);
	EXACT(small, log_escape(out, small, s));
	EXACT(small, log_clean(out, small, s));
	EXACT(small, text_clean_buf(out, small, data + 1, size - 1, 0));
	EXACT(small, text_clean_buf(out, small, data + 1, size - 1,
	    TEXT_ESCAPE | TEXT_ELLIPSIS));
	EXACT(small, text_clean_buf(out, small, data + 1, size - 1,
	    TEXT_ELLIPSIS));
	EXACT(small, (void)text_clean(out, small, s));
	EXACT(small, mon_text_clean(s, out, small));
	free(s);
	return (0);
}
