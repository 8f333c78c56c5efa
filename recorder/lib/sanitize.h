/*
 * sanitize.h - make recorded terminal output safe for an auditor's terminal.
 *
 * A recording holds whatever a device (or a vendor who controls it) printed.
 * Replayed raw, that output could act on the auditor's own terminal: set
 * the clipboard (OSC 52), the window title (OSC 0/1/2), plant hyperlinks
 * (OSC 8), ask the terminal to answer (DSR CSI 6n, DA CSI c, DECRQSS, ENQ,
 * window reports CSI 21t that echo the title back as input), switch it into
 * 8-bit controls or printer mode. The sanitiser is an allow-list: printable
 * characters, a few harmless C0 controls (BEL BS HT LF VT FF CR) and the
 * escape sequences a normal screen needs (SGR colours, cursor movement,
 * erasing, scrolling regions, DEC private modes other than those that make
 * the terminal report) pass; everything else is removed whole.
 *
 * It is a streaming state machine over UTF-8 code points (ECMA-48 / VT500
 * parser states), so sequences and characters split across frames are
 * handled. Input that is not valid UTF-8 becomes U+FFFD, except stray bytes
 * 0x80-0x9f, which are the 8-bit C1 controls (CSI, OSC, DCS, ...) to a
 * terminal not in UTF-8 mode and are treated as such; C1 code points
 * (U+0080-U+009F) likewise. The output is always valid UTF-8 (or ASCII with
 * SANITIZE_ASCII) and never ends inside a sequence.
 */
#ifndef BASTION_SANITIZE_H
#define BASTION_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct sanitize;

/* Plain text for transcripts: every escape sequence and every control but
 * LF and HT is removed (CR too, so CR LF becomes LF). */
#define SANITIZE_TEXT	0x01
/* Non-ASCII characters become '?': for terminals not in UTF-8 mode, where
 * bytes of UTF-8 characters could be read as 8-bit controls. */
#define SANITIZE_ASCII	0x02

/* Room a feed may need beyond 3 bytes per input byte (a completed
 * sequence buffered from earlier input). */
#define SANITIZE_SLACK	128

/* New sanitiser in the ground state; NULL on allocation failure. */
struct sanitize *sanitize_new(int flags);
void sanitize_free(struct sanitize *s);
/* Back to the ground state (e.g. after a seek), counters kept. */
void sanitize_reset(struct sanitize *s);

/*
 * Sanitise len bytes, appending the result to out. out needs room for
 * 3 * len + SANITIZE_SLACK more bytes; BERR_LIMIT otherwise (the state is
 * then undefined: reset it).
 */
int sanitize_feed(struct sanitize *s, const void *data, size_t len,
    struct buf *out);
/* End of stream: an incomplete character becomes U+FFFD, an incomplete
 * sequence is dropped. The sanitiser is back in the ground state. */
int sanitize_finish(struct sanitize *s, struct buf *out);

/* Number of sequences and controls removed so far. */
uint64_t sanitize_dropped(const struct sanitize *s);

#endif
