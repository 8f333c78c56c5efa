/*
 * sanitize.c - allow-list filter for terminal output (see sanitize.h).
 *
 * Two layers. A byte-wise UTF-8 decoder turns input into code points (with
 * stray 0x80-0x9f bytes mapped to the C1 controls they are to an 8-bit
 * terminal). A VT500-style parser (states GROUND, ESC, ESC_INTER, CSI,
 * STRING, STRING_ESC, after Paul Williams' DEC parser diagram) then decides,
 * per complete sequence, whether it is on the allow-list. Allowed sequences
 * are re-emitted in their 7-bit form; a sequence is buffered until its final
 * byte, so nothing partial is ever written.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "sanitize.h"
#include "utf8.h"

#define SEQ_MAX		64	/* longer CSI/ESC sequences are dropped */
#define ESC		0x1b
#define CAN		0x18
#define SUB		0x1a

enum san_state {
	ST_GROUND,
	ST_ESC,		/* after ESC */
	ST_ESC_INTER,	/* ESC + intermediates (0x20-0x2f) */
	ST_CSI,		/* ESC [ or CSI, collecting */
	ST_STRING,	/* OSC / DCS / SOS / PM / APC body: swallowed */
	ST_STRING_ESC,	/* ESC inside a string: ST or a new sequence */
};

struct sanitize {
	int flags;
	enum san_state state;
	/* UTF-8 decoder */
	unsigned need;		/* continuation bytes still expected */
	uint32_t cp;
	uint8_t lo, hi;		/* allowed range of the next continuation */
	/* the sequence being collected, 7-bit form */
	uint8_t seq[SEQ_MAX];
	size_t nseq;
	int overflow;
	uint64_t dropped;
	struct buf *out;	/* during a feed */
	int err;
};

struct sanitize *
sanitize_new(int flags)
{
	struct sanitize *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->flags = flags;
	return (s);
}

void
sanitize_free(struct sanitize *s)
{
	free(s);
}

void
sanitize_reset(struct sanitize *s)
{
	s->state = ST_GROUND;
	s->need = 0;
	s->nseq = 0;
	s->overflow = 0;
}

uint64_t
sanitize_dropped(const struct sanitize *s)
{
	return (s->dropped);
}

static void
put(struct sanitize *s, const void *p, size_t n)
{
	int r;

	if (s->err == 0 && (r = buf_put(s->out, p, n)) != 0)
		s->err = r;
}

/* A printable character. */
static void
put_cp(struct sanitize *s, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if ((s->flags & SANITIZE_ASCII) && cp >= 0x80)
		cp = '?';
	if ((n = utf8_encode(cp, u)) == 0)
		n = utf8_encode(UTF8_REPLACEMENT, u);
	put(s, u, n);
}

static void
seq_start(struct sanitize *s, enum san_state st, const char *intro)
{
	s->state = st;
	s->nseq = strlen(intro);
	memcpy(s->seq, intro, s->nseq);
	s->overflow = 0;
}

static void
seq_add(struct sanitize *s, uint32_t cp)
{
	if (s->nseq >= SEQ_MAX)
		s->overflow = 1;
	else
		s->seq[s->nseq++] = (uint8_t)cp;
}

/* Emit the collected sequence or count it as dropped. */
static void
seq_end(struct sanitize *s, int allow)
{
	if (allow && !s->overflow && !(s->flags & SANITIZE_TEXT))
		put(s, s->seq, s->nseq);
	else
		s->dropped++;
	s->state = ST_GROUND;
	s->nseq = 0;
	s->overflow = 0;
}

/* A C0 control (or DEL) met anywhere: executed or removed. */
static void
control(struct sanitize *s, uint32_t cp)
{
	uint8_t c = (uint8_t)cp;

	if (s->flags & SANITIZE_TEXT) {
		if (c == '\n' || c == '\t')
			put(s, &c, 1);
		else if (c != '\r')
			s->dropped++;
		return;
	}
	switch (c) {
	case 0x07:	/* BEL */
	case 0x08:	/* BS */
	case 0x09:	/* HT */
	case 0x0a:	/* LF */
	case 0x0b:	/* VT */
	case 0x0c:	/* FF */
	case 0x0d:	/* CR */
		put(s, &c, 1);
		break;
	default:	/* NUL, ENQ (answerback!), SO/SI, DEL, ... */
		s->dropped++;
		break;
	}
}

/* DEC private modes that make the terminal send reports (mouse, focus):
 * the terminal would type into the replay's input or the auditor's shell. */
static int
reporting_mode(unsigned long m)
{
	switch (m) {
	case 9: case 1000: case 1001: case 1002: case 1003: case 1004:
	case 1005: case 1006: case 1015: case 1016:
		return (1);
	}
	return (0);
}

/* Is the collected CSI sequence (seq = "ESC [" params inter final) safe? */
static int
csi_allowed(const struct sanitize *s)
{
	static const char plain_finals[] = "@ABCDEFGHIJKLMPSTXZ`abdefghlmrsu";
	const uint8_t *p = s->seq + 2, *end = s->seq + s->nseq - 1;
	uint8_t final = s->seq[s->nseq - 1], priv = 0;
	char inter[4];
	size_t ni = 0;
	unsigned long v = 0;
	int in_num = 0;

	if (s->nseq < 3)
		return (0);
	if (p < end && (*p == '<' || *p == '=' || *p == '>' || *p == '?'))
		priv = *p++;
	/* parameters: digits ; : only (no second private marker) */
	for (; p < end && *p >= 0x30 && *p <= 0x3f; p++) {
		if (*p >= '0' && *p <= '9') {
			v = in_num ? v * 10 + (unsigned long)(*p - '0') :
			    (unsigned long)(*p - '0');
			if (v > 100000)
				v = 100000;
			in_num = 1;
		} else if (*p == ';' || *p == ':') {
			if (priv == '?' && in_num && reporting_mode(v))
				return (0);
			in_num = 0;
		} else
			return (0);	/* < = > ? in the middle */
	}
	if (priv == '?' && in_num && reporting_mode(v))
		return (0);
	for (; p < end && *p >= 0x20 && *p <= 0x2f; p++) {
		if (ni >= sizeof(inter) - 1)
			return (0);
		inter[ni++] = (char)*p;
	}
	if (p != end)
		return (0);		/* a parameter after an intermediate */
	inter[ni] = '\0';
	if (priv == '<' || priv == '=' || priv == '>')
		return (0);		/* DA2/DA3, XTVERSION, key modifiers */
	if (priv == '?')
		return (ni == 0 && (final == 'h' || final == 'l' ||
		    final == 'J' || final == 'K'));
	if (ni == 0)
		return (strchr(plain_finals, final) != NULL);
	/* DECSCUSR (cursor shape), DECSTR (soft reset) */
	return ((strcmp(inter, " ") == 0 && final == 'q') ||
	    (strcmp(inter, "!") == 0 && final == 'p'));
}

/* Is the ESC sequence (seq = ESC [inter...] final) safe? */
static int
esc_allowed(const struct sanitize *s)
{
	uint8_t f = s->seq[s->nseq - 1];

	if (s->nseq == 2)	/* ESC final */
		return (f == '7' || f == '8' || f == 'D' || f == 'E' ||
		    f == 'H' || f == 'M' || f == '=' || f == '>');
	if (s->nseq == 3 && (s->seq[1] == '(' || s->seq[1] == ')'))
		/* G0/G1 charset: ASCII, DEC line drawing, UK, default */
		return (f == 'B' || f == '0' || f == 'A' || f == 'U');
	return (0);
}

static void on_cp(struct sanitize *, uint32_t);

/* Introducers shared by ESC x and 8-bit C1. */
static int
introducer(struct sanitize *s, uint32_t c1)
{
	switch (c1) {
	case 0x9b:	/* CSI */
		seq_start(s, ST_CSI, "\x1b[");
		return (1);
	case 0x9d:	/* OSC */
	case 0x90:	/* DCS */
	case 0x98:	/* SOS */
	case 0x9e:	/* PM */
	case 0x9f:	/* APC */
		s->state = ST_STRING;
		s->dropped++;
		return (1);
	}
	return (0);
}

static void
ground(struct sanitize *s, uint32_t cp)
{
	if (cp == ESC)
		seq_start(s, ST_ESC, "\x1b");
	else if (cp >= 0x80 && cp < 0xa0) {
		if (!introducer(s, cp))
			s->dropped++;	/* IND, NEL, SS2, ST, ... */
	} else if (cp < 0x20 || cp == 0x7f)
		control(s, cp);
	else
		put_cp(s, cp);
}

/*
 * Inside an ESC or CSI sequence, what is not the sequence's own (0x20 to
 * 0x7e): ESC drops it and starts another, C0 controls act, DEL is ignored,
 * anything past 0x7e means it was not a sequence after all. 1 if cp was
 * one of those (and is done with), 0 if it is the sequence's to take.
 */
static int
in_seq(struct sanitize *s, uint32_t cp)
{
	if (cp == ESC) {
		s->dropped++;
		seq_start(s, ST_ESC, "\x1b");
	} else if (cp < 0x20) {
		control(s, cp);
	} else if (cp == 0x7f) {
		/* ignored inside sequences */
	} else if (cp > 0x7e) {
		s->dropped++;
		sanitize_reset(s);
		ground(s, cp);
	} else
		return (0);
	return (1);
}

static void
on_cp(struct sanitize *s, uint32_t cp)
{
	/* CAN and SUB abort any sequence; C1 controls start new ones */
	if (s->state != ST_GROUND && (cp == CAN || cp == SUB)) {
		if (s->state != ST_STRING && s->state != ST_STRING_ESC)
			s->dropped++;
		sanitize_reset(s);
		return;
	}
	switch (s->state) {
	case ST_GROUND:
		ground(s, cp);
		break;
	case ST_ESC:
	case ST_ESC_INTER:
		if (in_seq(s, cp))
			break;
		if (s->state == ST_ESC && cp == '[') {
			seq_start(s, ST_CSI, "\x1b[");
		} else if (s->state == ST_ESC && (cp == ']' || cp == 'P' ||
		    cp == 'X' || cp == '^' || cp == '_')) {
			s->state = ST_STRING;
			s->dropped++;
		} else if (cp <= 0x2f) {		/* intermediate */
			seq_add(s, cp);
			s->state = ST_ESC_INTER;
		} else {				/* final */
			seq_add(s, cp);
			seq_end(s, esc_allowed(s));
		}
		break;
	case ST_CSI:
		if (in_seq(s, cp))
			break;
		seq_add(s, cp);		/* parameter, intermediate */
		if (cp >= 0x40)				/* final */
			seq_end(s, !s->overflow && csi_allowed(s));
		break;
	case ST_STRING:
		if (cp == 0x07 || cp == 0x9c)	/* BEL, ST */
			s->state = ST_GROUND;
		else if (cp == ESC)
			s->state = ST_STRING_ESC;
		break;
	case ST_STRING_ESC:
		if (cp == '\\') {
			s->state = ST_GROUND;
		} else {
			/* ESC ends the string and starts a sequence */
			seq_start(s, ST_ESC, "\x1b");
			on_cp(s, cp);
		}
		break;
	}
}

/* An invalid byte or an incomplete character. */
static void
invalid(struct sanitize *s, uint8_t b, int lone)
{
	if (lone && b >= 0x80 && b < 0xa0)
		on_cp(s, b);			/* an 8-bit C1 control */
	else if (s->state == ST_GROUND)
		put_cp(s, UTF8_REPLACEMENT);
	else if (s->state == ST_STRING || s->state == ST_STRING_ESC)
		;				/* swallowed anyway */
	else {
		s->dropped++;			/* junk inside a sequence */
		sanitize_reset(s);
		put_cp(s, UTF8_REPLACEMENT);
	}
}

static void
byte(struct sanitize *s, uint8_t b)
{
	if (s->need > 0) {
		if (b >= s->lo && b <= s->hi) {
			s->cp = (s->cp << 6) | (b & 0x3f);
			s->lo = 0x80;
			s->hi = 0xbf;
			if (--s->need == 0)
				on_cp(s, s->cp);
			return;
		}
		/* the character stopped short: one U+FFFD for it, then
		 * this byte starts afresh */
		s->need = 0;
		invalid(s, 0, 0);
	}
	if (utf8_lead(b, &s->need, &s->lo, &s->hi, &s->cp) != 0)
		invalid(s, b, 1);
	else if (s->need == 0)
		on_cp(s, b);
}

int
sanitize_feed(struct sanitize *s, const void *data, size_t len,
    struct buf *out)
{
	const uint8_t *p = data;
	size_t i;

	if (buf_max_size(out) - buf_len(out) < 3 * len + SANITIZE_SLACK)
		return (BERR_LIMIT);
	s->out = out;
	s->err = 0;
	for (i = 0; i < len; i++)
		byte(s, p[i]);
	s->out = NULL;
	return (s->err);
}

int
sanitize_finish(struct sanitize *s, struct buf *out)
{
	s->out = out;
	s->err = 0;
	if (s->need > 0) {
		s->need = 0;
		invalid(s, 0, 0);
	}
	if (s->state != ST_GROUND && s->state != ST_STRING &&
	    s->state != ST_STRING_ESC)
		s->dropped++;
	sanitize_reset(s);
	s->out = NULL;
	return (s->err);
}
