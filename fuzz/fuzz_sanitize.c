/*
 * fuzz_sanitize.c - what a device prints, on its way to a person's
 * terminal (bastion-replay, the auditor console's watch and replay:
 * recorder/lib/sanitize.c), into an asciicast (asciicast.c), and any
 * untrusted text shown in a log or a listing (base/text.c, utf8.c).
 *
 * Input: byte 0 chooses the sanitiser's flags; the rest is the output,
 * fed in pieces whose sizes come from the input itself, so escape
 * sequences and UTF-8 characters are split across feeds.
 */
#include "fuzz.h"

#include "asciicast.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "sanitize.h"
#include "text.h"
#include "utf8.h"

/* What sanitize.h promises: valid UTF-8 (ASCII with SANITIZE_ASCII), and
 * with SANITIZE_TEXT no control but LF and HT. */
static void
output_check(const uint8_t *p, size_t len, int flags)
{
	uint32_t cp;
	size_t i;
	int n;

	for (i = 0; i < len; i += (size_t)n) {
		if ((n = utf8_decode(p + i, len - i, &cp)) <= 0)
			abort();
		if ((flags & SANITIZE_ASCII) && cp > 0x7f)
			abort();
		if ((flags & SANITIZE_TEXT) && (cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f)) && cp != '\n' && cp != '\t')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sanitize *s;
	struct buf *out, *js;
	char clean[512];
	uint32_t cp;
	size_t n, i, cut;
	int flags, n2;

	if (size == 0)
		return (0);
	flags = data[0] & (SANITIZE_TEXT | SANITIZE_ASCII);
	cut = data[0] >> 2 | 1;
	data++;
	size--;
	if ((s = sanitize_new(flags)) == NULL ||
	    (out = buf_new(3 * size + SANITIZE_SLACK * (size / cut + 2))) ==
	    NULL || (js = buf_new(6 * size + 2)) == NULL)
		abort();
	for (i = 0; i < size; i += n) {
		n = size - i < cut ? size - i : cut;
		if (sanitize_feed(s, data + i, n, out) != 0)
			abort();
	}
	if (sanitize_finish(s, out) != 0)
		abort();
	(void)sanitize_dropped(s);
	sanitize_free(s);
	output_check(buf_ptr(out), buf_len(out), flags);
	if (json_string(js, data, size) != 0)
		abort();
	/* a JSON string of valid UTF-8 without a raw control byte */
	if (buf_len(js) < 2 || buf_ptr(js)[0] != '"' ||
	    buf_ptr(js)[buf_len(js) - 1] != '"')
		abort();
	for (i = 0; i < buf_len(js); i++)
		if (buf_ptr(js)[i] < 0x20)
			abort();
	for (i = 0; i < buf_len(js); i += (size_t)n2)
		if ((n2 = utf8_decode(buf_ptr(js) + i, buf_len(js) - i,
		    &cp)) <= 0)
			abort();
	(void)text_clean_buf(clean, sizeof(clean), data, size, TEXT_ESCAPE);
	(void)text_clean_buf(clean, sizeof(clean), data, size, TEXT_ELLIPSIS);
	(void)text_is_clean(data, size);
	for (i = 0; i < size; i += n) {
		n = text_char(data + i, size - i);
		if (n == 0)
			n = 1;
		(void)utf8_decode(data + i, size - i, &cp);
	}
	buf_free(out);
	buf_free(js);
	return (0);
}
