/*
 * text.h - the one escape for text shown to a person.
 *
 * Vendors choose much of what the bastion later shows to admins and
 * auditors: user and device names come from the policy, but approval
 * reasons, kill and lock reasons, work records, recording headers and
 * audit values carry whatever bytes someone typed. A terminal acts on C0
 * controls (ESC starts a sequence), DEL, the 8-bit C1 controls (0x9b is
 * CSI on its own, U+009B encoded as c2 9b is CSI to a UTF-8 terminal) and
 * is confused by bytes that are not UTF-8. Every table, console, report
 * and prompt that shows such text passes it through text_clean() (or the
 * JSON form text_json()): what it returns is strict UTF-8 without any
 * control character, cut only between characters.
 *
 * "Clean" here is exactly the "clean" of the recording format
 * (docs/RECORDING-FORMAT.md, section 3): strict UTF-8 (utf8.h: no overlong
 * forms, no surrogates, nothing above U+10FFFF) without C0, DEL or C1.
 * Tabs and line breaks are controls too: a cell or a prompt is one line.
 *
 * The bytes themselves are never changed in storage (the state store and
 * the audit chain keep what was said); only what is shown is cleaned.
 */
#ifndef BASTION_TEXT_H
#define BASTION_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* text_clean_buf() flags */
#define TEXT_ESCAPE	0x01	/* show what was there: \\ \n \r \t \e and
				 * \xNN per byte (forensic output: verify,
				 * replay) instead of one '?' per character */
#define TEXT_ELLIPSIS	0x02	/* a cut is marked with "..." */
#define TEXT_WORD	0x04	/* text_fit(): cut at a blank rather than
				 * inside a word, if a third is left */

/*
 * The length (1..4) of the clean character p starts with, or 0 when p[0]
 * starts a control character (C0, DEL, C1) or is not the start of a whole,
 * valid UTF-8 character within len bytes (len 0 included).
 */
size_t text_char(const void *p, size_t len);

/* 1 if s[0..len-1] is clean text (every character as text_char() says), 0
 * if not. Empty text is clean. */
int text_is_clean(const void *s, size_t len);

/*
 * Write in[0..inlen-1] into out (outlen bytes with the NUL; always
 * NUL-terminated when outlen > 0), cleaned: each clean character is copied,
 * each control character becomes one '?' and so does each byte that is not
 * part of a valid character (TEXT_ESCAPE: visible escapes instead). The
 * text is cut, if it must be, between characters, never inside one (with
 * TEXT_ELLIPSIS, "..." marks the cut and still fits). in may be NULL when
 * inlen is 0. Returns the length written (without the NUL).
 */
size_t text_clean_buf(char *out, size_t outlen, const void *in, size_t inlen,
    int flags);

/* text_clean_buf() of a C string, '?' for what is not clean; NULL is "". */
size_t text_clean(char *out, size_t outlen, const char *in);

/*
 * Write s as a JSON string, quotes included, to f, escaped as json.h says
 * (every control character escaped, each byte that is not valid UTF-8 as
 * \ufffd): the document is valid JSON and nothing in it acts on a terminal
 * it is printed to. NULL is written as "".
 */
void text_json(FILE *f, const char *s);

/*
 * Display width, for tables that line up on a terminal (wcwidth-style,
 * without the C library's locale: bastiond runs in the C locale and its
 * workers cannot load locale files).
 *
 * text_cp_width(): the columns code point cp takes: 0 for combining marks,
 * zero-width spaces and joiners, directional marks, variation selectors;
 * 2 for East Asian Wide and Fullwidth characters (CJK ideographs, kana,
 * Hangul, fullwidth forms, most emoji); 1 for the rest; -1 for control
 * characters (C0, DEL, C1). The tables are compact (base/text.c), not
 * every combining mark of every script.
 */
int text_cp_width(uint32_t cp);

/* The columns s takes as text_clean() shows it (each character that is
 * not clean counts as the one '?' it becomes). NULL is 0. */
size_t text_width(const char *s);

/*
 * Write in, cleaned as text_clean() does, into out (outlen bytes with the
 * NUL; always NUL-terminated when outlen > 0), cut if it takes more than
 * cols columns or does not fit in out: between characters, never inside
 * one; with TEXT_ELLIPSIS the cut is marked with "..." (within cols);
 * with TEXT_WORD it is made at the last blank if that keeps at least a
 * third of the room. The result may be narrower than cols (a wide character that does
 * not fit is left out whole). Returns its length in bytes.
 */
size_t text_fit(char *out, size_t outlen, const char *in, size_t cols,
    int flags);

#endif
