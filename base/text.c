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
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "json.h"
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
	hex_encode(p, 1, tmp + 2);
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
	json_fwrite(f, s, s != NULL ? strlen(s) : 0);
}

/* ---- display width ------------------------------------------------------ */

struct text_range {
	uint32_t lo, hi;
};

/*
 * Characters that take no column: combining marks of the common scripts
 * (Latin, Greek, Cyrillic, Hebrew, Arabic, Thai, Japanese kana voicing
 * marks), Hangul medial and final jamo, zero-width spaces and joiners,
 * directional marks, variation selectors, the BOM, tags. Sorted.
 */
static const struct text_range text_zero[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
	{ 0x05bf, 0x05bf }, { 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 },
	{ 0x05c7, 0x05c7 }, { 0x0610, 0x061a }, { 0x061c, 0x061c },
	{ 0x064b, 0x065f }, { 0x0670, 0x0670 }, { 0x06d6, 0x06dc },
	{ 0x06df, 0x06e4 }, { 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed },
	{ 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e },
	{ 0x1160, 0x11ff }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff },
	{ 0x200b, 0x200f }, { 0x202a, 0x202e }, { 0x2060, 0x2064 },
	{ 0x20d0, 0x20ff }, { 0x302a, 0x302d }, { 0x3099, 0x309a },
	{ 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
	{ 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f }, { 0xe0100, 0xe01ef },
};

/*
 * Characters that take two columns: East Asian Wide and Fullwidth
 * (Unicode's EastAsianWidth.txt, W and F), i.e. CJK ideographs, kana,
 * Hangul syllables, fullwidth forms, CJK punctuation, and the emoji
 * terminals draw wide. Sorted.
 */
static const struct text_range text_wide[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a },
	{ 0x23e9, 0x23ec }, { 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 },
	{ 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 },
	{ 0x26ce, 0x26ce }, { 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea },
	{ 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 }, { 0x26fa, 0x26fa },
	{ 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c },
	{ 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
	{ 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 },
	{ 0xf900, 0xfaff }, { 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f },
	{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe4 },
	{ 0x17000, 0x18cff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a },
	{ 0x1f200, 0x1f251 }, { 0x1f300, 0x1f320 }, { 0x1f32d, 0x1f335 },
	{ 0x1f337, 0x1f37c }, { 0x1f37e, 0x1f393 }, { 0x1f3a0, 0x1f3ca },
	{ 0x1f3cf, 0x1f3d3 }, { 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 },
	{ 0x1f3f8, 0x1f43e }, { 0x1f440, 0x1f440 }, { 0x1f442, 0x1f4fc },
	{ 0x1f4ff, 0x1f53d }, { 0x1f54b, 0x1f54e }, { 0x1f550, 0x1f567 },
	{ 0x1f57a, 0x1f57a }, { 0x1f595, 0x1f596 }, { 0x1f5a4, 0x1f5a4 },
	{ 0x1f5fb, 0x1f64f }, { 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc },
	{ 0x1f6d0, 0x1f6d2 }, { 0x1f6d5, 0x1f6d7 }, { 0x1f6dc, 0x1f6df },
	{ 0x1f6eb, 0x1f6ec }, { 0x1f6f4, 0x1f6fc }, { 0x1f7e0, 0x1f7eb },
	{ 0x1f7f0, 0x1f7f0 }, { 0x1f90c, 0x1f93a }, { 0x1f93c, 0x1f945 },
	{ 0x1f947, 0x1f9ff }, { 0x1fa70, 0x1faff }, { 0x20000, 0x2fffd },
	{ 0x30000, 0x3fffd },
};

static int
text_in(const struct text_range *r, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return (1);
	}
	return (0);
}

int
text_cp_width(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return (-1);
	if (cp < 0x300)
		return (1);
	if (text_in(text_zero, sizeof(text_zero) / sizeof(text_zero[0]), cp))
		return (0);
	if (text_in(text_wide, sizeof(text_wide) / sizeof(text_wide[0]), cp))
		return (2);
	return (1);
}

/* The width of the character at p (its length in *used): what
 * text_clean() would show there, so a '?' (1) for anything not clean. */
static size_t
text_char_width(const uint8_t *p, size_t len, size_t *used)
{
	uint32_t cp;
	int n, w;

	if ((n = utf8_decode(p, len, &cp)) <= 0) {
		*used = 1;
		return (1);
	}
	*used = (size_t)n;
	return ((w = text_cp_width(cp)) < 0 ? 1 : (size_t)w);
}

size_t
text_width(const char *s)
{
	const uint8_t *p = (const uint8_t *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), i = 0, w = 0, used;

	while (i < len) {
		w += text_char_width(p + i, len - i, &used);
		i += used;
	}
	return (w);
}

size_t
text_fit(char *out, size_t outlen, const char *in, size_t cols, int flags)
{
	const uint8_t *p;
	char *clean;
	size_t len, i = 0, w = 0, used, cw, room, cap, blank = 0, blankw = 0;
	int dots = 0;

	if (outlen == 0)
		return (0);
	out[0] = '\0';
	/* the text as text_clean() shows it (never longer than the input) */
	len = in != NULL ? strlen(in) : 0;
	if ((clean = malloc(len + 1)) == NULL)
		return (0);
	len = text_clean_buf(clean, len + 1, in, len, 0);
	p = (const uint8_t *)clean;
	room = cols;
	cap = outlen - 1;
	if (text_width(clean) > cols || len > cap) {
		/* cut: what fits, less the "..." that says so when asked */
		dots = (flags & TEXT_ELLIPSIS) && cols > 3 && cap > 3;
		if (dots) {
			room -= 3;
			cap -= 3;
		}
	}
	while (i < len) {
		cw = text_char_width(p + i, len - i, &used);
		if (w + cw > room || i + used > cap)
			break;
		if (p[i] == ' ' && i > 0) {
			blank = i;
			blankw = w;
		}
		w += cw;
		i += used;
	}
	if (i < len && p[i] == ' ') {
		blank = i;		/* the cut falls between words */
		blankw = w;
	}
	/* at a blank, unless that loses more than two thirds: no word cut
	 * in two */
	if (i < len && (flags & TEXT_WORD) && blank > 0 && 3 * blankw >= room) {
		i = blank;
		while (i > 0 && p[i - 1] == ' ')
			i--;
	}
	memcpy(out, clean, i);
	if (i < len && dots) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	free(clean);
	return (i);
}
