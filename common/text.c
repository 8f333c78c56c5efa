/*
 * text.c - clean text for people (see text.h).
 *
 * One classifier, text_char(), decides what is shown as it is; the
 * writers around it only differ in what they put in place of the rest.
 * The decoder is utf8.h's strict one, so a C1 control cannot hide in an
 * overlong form, and a character cut by the end of the input is not a
 * character.
 */
#include <stdint.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

size_t
text_char(const void *p, size_t len)
{
	uint32_t cp;
	int n;

	if ((n = utf8_decode(p, len, &cp)) <= 0)
		return (0);
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return (0);
	return ((size_t)n);
}

int
text_is_clean(const void *s, size_t len)
{
	const uint8_t *p = s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = text_char(p + i, len - i)) == 0)
			return (0);
		i += n;
	}
	return (1);
}

/*
 * What stands for the character at p (not clean: text_char() said 0) in
 * tmp; returns its length and sets *used to the input bytes it stands for.
 */
static size_t
text_stand_in(const uint8_t *p, size_t len, int flags, char tmp[8],
    size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	int n;

	n = utf8_decode(p, len, &cp);
	if (!(flags & TEXT_ESCAPE)) {
		/* one '?' per control character, one per stray byte */
		*used = n > 0 ? (size_t)n : 1;
		tmp[0] = '?';
		return (1);
	}
	*used = 1;
	switch (n == 1 ? cp : 0x100) {
	case '\n':
		memcpy(tmp, "\\n", 2);
		return (2);
	case '\r':
		memcpy(tmp, "\\r", 2);
		return (2);
	case '\t':
		memcpy(tmp, "\\t", 2);
		return (2);
	case 0x1b:
		memcpy(tmp, "\\e", 2);
		return (2);
	}
	/* any other control, a C1 (each of its two bytes), a stray byte */
	tmp[0] = '\\';
	tmp[1] = 'x';
	tmp[2] = hex[p[0] >> 4];
	tmp[3] = hex[p[0] & 15];
	return (4);
}

/*
 * Write what fits of in into out (outlen >= 1), keeping room for reserve
 * more bytes; *done is set to 1 when all of in was written.
 */
static size_t
text_render(char *out, size_t outlen, const uint8_t *p, size_t inlen,
    int flags, size_t reserve, int *done)
{
	size_t i = 0, o = 0, k, used;
	char tmp[8];

	while (i < inlen) {
		if ((k = text_char(p + i, inlen - i)) > 0) {
			used = k;
			if (k == 1 && p[i] == '\\' && (flags & TEXT_ESCAPE))
				memcpy(tmp, "\\\\", k = 2);	/* unambiguous */
			else
				memcpy(tmp, p + i, k);
		} else
			k = text_stand_in(p + i, inlen - i, flags, tmp, &used);
		if (o + k + reserve + 1 > outlen)
			break;
		memcpy(out + o, tmp, k);
		o += k;
		i += used;
	}
	*done = i == inlen;
	out[o] = '\0';
	return (o);
}

size_t
text_clean_buf(char *out, size_t outlen, const void *in, size_t inlen,
    int flags)
{
	size_t o;
	int done;

	if (outlen == 0)
		return (0);
	o = text_render(out, outlen, in, inlen, flags, 0, &done);
	if (done || !(flags & TEXT_ELLIPSIS) || outlen < 4)
		return (o);
	/* cut: again, leaving room for the "..." that says so */
	o = text_render(out, outlen, in, inlen, flags, 3, &done);
	memcpy(out + o, "...", 4);
	return (o + 3);
}

size_t
text_clean(char *out, size_t outlen, const char *in)
{
	return (text_clean_buf(out, outlen, in, in != NULL ? strlen(in) : 0,
	    0));
}

void
text_json(FILE *f, const char *s)
{
	const uint8_t *p = (const uint8_t *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), i = 0, n;
	uint32_t cp;
	int k;

	fputc('"', f);
	while (i < len) {
		if ((n = text_char(p + i, len - i)) > 0) {
			if (p[i] == '"' || p[i] == '\\')
				fputc('\\', f);
			fwrite(p + i, 1, n, f);
			i += n;
			continue;
		}
		if ((k = utf8_decode(p + i, len - i, &cp)) <= 0) {
			fputs("\\ufffd", f);	/* a byte that is not UTF-8 */
			i++;
			continue;
		}
		if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else
			fprintf(f, "\\u%04x", (unsigned)cp);
		i += (size_t)k;
	}
	fputc('"', f);
}
