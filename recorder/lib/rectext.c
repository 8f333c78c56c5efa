/*
 * rectext.c - a recording as a readable transcript (bastion-replay
 * --text; the web console to come): each output line with the time it
 * began, the engineer's input lines apart ("> "), and every other frame
 * (window size, exec, exit, forwards, sftp, events) in words. Terminal
 * output goes through the sanitizer (sanitize.h) first, and every
 * recorded string is made printable, so nothing in a recording can act on
 * the reader's terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "recfmt.h"
#include "rectext.h"
#include "sanitize.h"
#include "text.h"

struct rectext {
	FILE *out;
	struct sanitize *san;
	struct buf *line;	/* the output line being built */
	uint64_t line_t;	/* time its first byte arrived */
	int line_open;		/* line has started (maybe empty so far) */
	int cut;		/* the last printed output line was cut */
	struct buf *queue;	/* finished input lines, printed after the
				   current output line */
	struct buf *in;		/* the input line being typed */
	uint64_t in_t;
	uint64_t fwd_to[64], fwd_from[64];	/* per channel % 64 */
};

static void
stamp(FILE *out, uint64_t t)
{
	uint64_t ms = t / 1000;

	fprintf(out, "[%02llu:%02llu:%02llu.%03llu] ",
	    (unsigned long long)(ms / 3600000),
	    (unsigned long long)(ms / 60000 % 60),
	    (unsigned long long)(ms / 1000 % 60),
	    (unsigned long long)(ms % 1000));
}

static void
print_queue(struct rectext *tr)
{
	if (buf_len(tr->queue) > 0) {
		fwrite(buf_ptr(tr->queue), 1, buf_len(tr->queue), tr->out);
		buf_reset(tr->queue);
	}
}

/* Print the output line built so far. */
static void
line_flush(struct rectext *tr, int complete)
{
	if (!tr->line_open)
		return;
	stamp(tr->out, tr->line_t);
	fputs(tr->cut ? "+ " : "| ", tr->out);
	fwrite(buf_ptr(tr->line), 1, buf_len(tr->line), tr->out);
	fputc('\n', tr->out);
	buf_reset(tr->line);
	tr->line_open = 0;
	tr->cut = !complete;
	if (complete)
		print_queue(tr);
}

void
rectext_output(struct rectext *tr, uint64_t t, const uint8_t *p, size_t len)
{
	struct buf *s;
	const uint8_t *q, *nl;
	size_t n;

	if ((s = buf_new(3 * len + SANITIZE_SLACK)) == NULL ||
	    sanitize_feed(tr->san, p, len, s) != 0) {
		buf_free(s);
		return;
	}
	q = buf_ptr(s);
	n = buf_len(s);
	while (n > 0) {
		if (!tr->line_open) {
			tr->line_open = 1;
			tr->line_t = t;
		}
		nl = memchr(q, '\n', n);
		if (nl == NULL) {
			if (buf_put(tr->line, q, n) != 0)
				line_flush(tr, 0);	/* very long line */
			break;
		}
		(void)buf_put(tr->line, q, (size_t)(nl - q));
		line_flush(tr, 1);
		n -= (size_t)(nl - q) + 1;
		q = nl + 1;
	}
	buf_free(s);
}

/* Finish the input line being typed into the queue. */
static void
input_flush(struct rectext *tr)
{
	char vis[4 * RECTEXT_INPUT_LINE_MAX + 8];
	FILE *mem;
	char *s = NULL;
	size_t slen = 0;

	if (buf_len(tr->in) == 0)
		return;
	text_clean_buf(vis, sizeof(vis), buf_ptr(tr->in), buf_len(tr->in),
	    TEXT_ESCAPE | TEXT_ELLIPSIS);
	if ((mem = open_memstream(&s, &slen)) != NULL) {
		stamp(mem, tr->in_t);
		fprintf(mem, "input: %s\n", vis);
		fclose(mem);
		(void)buf_put(tr->queue, s, slen);
		free(s);
	}
	buf_reset(tr->in);
}

void
rectext_input(struct rectext *tr, uint64_t t, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf_len(tr->in) == 0)
			tr->in_t = t;
		(void)buf_put_u8(tr->in, p[i]);
		if (p[i] == '\r' || p[i] == '\n' ||
		    buf_len(tr->in) >= RECTEXT_INPUT_LINE_MAX)
			input_flush(tr);
	}
	if (!tr->line_open)
		print_queue(tr);
}

/* Before an event line: cut the output line, print pending input. */
static void
event_begin(struct rectext *tr, uint64_t t)
{
	line_flush(tr, 0);
	input_flush(tr);
	print_queue(tr);
	stamp(tr->out, t);
}

static void
vis_str(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	text_clean_buf(out, outlen, p, len, TEXT_ESCAPE | TEXT_ELLIPSIS);
}

static void
chan_suffix(FILE *out, uint32_t ch)
{
	if (ch != 0 && ch != REC_CHANNEL_RECORDER)
		fprintf(out, " [channel %lu]", (unsigned long)ch);
	fputc('\n', out);
}

void
rectext_event(struct rectext *tr, const struct rec_frame *f,
    const struct rec_payload *pl)
{
	char a[1100], b[1100];
	FILE *out = tr->out;
	size_t ci = f->channel % 64;

	switch (f->type) {
	case REC_PTY_REQ:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		event_begin(tr, f->time_us);
		fprintf(out, "pty-req: %s %ux%u", a, pl->cols, pl->rows);
		break;
	case REC_WINDOW_CHANGE:
		event_begin(tr, f->time_us);
		fprintf(out, "window-change: %ux%u", pl->cols, pl->rows);
		break;
	case REC_EXEC:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		event_begin(tr, f->time_us);
		fprintf(out, "exec: %s", a);
		break;
	case REC_SHELL:
		event_begin(tr, f->time_us);
		fprintf(out, "shell");
		break;
	case REC_SUBSYSTEM:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		event_begin(tr, f->time_us);
		fprintf(out, "subsystem: %s", a);
		break;
	case REC_EOF:
		event_begin(tr, f->time_us);
		fprintf(out, "eof: from the %s", pl->dir == REC_DIR_TO_DEVICE ?
		    "engineer" : "device");
		break;
	case REC_EXIT_STATUS:
		event_begin(tr, f->time_us);
		fprintf(out, "exit-status: %u", pl->status);
		break;
	case REC_EXIT_SIGNAL:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		vis_str(pl->str2, pl->str2_len, b, sizeof(b));
		event_begin(tr, f->time_us);
		fprintf(out, "exit-signal: %s%s%s%s", a,
		    pl->core ? " (core dumped)" : "", b[0] ? " " : "", b);
		break;
	case REC_FWD_OPEN:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		vis_str(pl->str2, pl->str2_len, b, sizeof(b));
		event_begin(tr, f->time_us);
		fprintf(out, "forward-open: to %s:%u from %s:%u", a, pl->port,
		    b, pl->orig_port);
		tr->fwd_to[ci] = tr->fwd_from[ci] = 0;
		break;
	case REC_FWD_DATA:
		if (pl->dir == REC_DIR_TO_DEVICE)
			tr->fwd_to[ci] += pl->data_len;
		else
			tr->fwd_from[ci] += pl->data_len;
		return;
	case REC_FWD_CLOSE:
		event_begin(tr, f->time_us);
		fprintf(out, "forward-close: %llu bytes to the device, %llu "
		    "bytes from it", (unsigned long long)tr->fwd_to[ci],
		    (unsigned long long)tr->fwd_from[ci]);
		break;
	case REC_EVENT:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		vis_str(pl->str2, pl->str2_len, b, sizeof(b));
		event_begin(tr, f->time_us);
		fprintf(out, "event %s: %s", a, b);
		break;
	case REC_SEAL:
		vis_str(pl->str, pl->str_len, a, sizeof(a));
		event_begin(tr, f->time_us);
		fprintf(out, "end (%s): %s", pl->status == REC_END_NORMAL ?
		    "normal" : "abnormal", a);
		break;
	default:	/* HEADER (printed first), CHECKPOINT */
		return;
	}
	chan_suffix(out, f->channel);
}

int
rectext_new(FILE *out, struct rectext **trp)
{
	struct rectext *tr;

	*trp = NULL;
	if ((tr = calloc(1, sizeof(*tr))) == NULL)
		return (BERR_NOMEM);
	tr->out = out;
	if ((tr->san = sanitize_new(SANITIZE_TEXT)) == NULL ||
	    (tr->line = buf_new(64 * 1024)) == NULL ||
	    (tr->queue = buf_new(16 * 1024 * 1024)) == NULL ||
	    (tr->in = buf_new(RECTEXT_INPUT_LINE_MAX + 16)) == NULL) {
		rectext_free(tr);
		return (BERR_NOMEM);
	}
	*trp = tr;
	return (0);
}

void
rectext_finish(struct rectext *tr)
{
	struct buf *s = buf_new(SANITIZE_SLACK * 2);

	if (s != NULL && sanitize_finish(tr->san, s) == 0)
		(void)buf_put(tr->line, buf_ptr(s), buf_len(s));
	buf_free(s);
	line_flush(tr, 1);
	input_flush(tr);
	print_queue(tr);
}

void
rectext_free(struct rectext *tr)
{
	if (tr == NULL)
		return;
	sanitize_free(tr->san);
	buf_free(tr->line);
	buf_free(tr->queue);
	buf_free(tr->in);
	free(tr);
}
