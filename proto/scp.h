/*
 * scp.h - the legacy SCP protocol (the rcp protocol that `scp -O` and
 * `pscp -scp` speak over an exec channel running "scp -t|-f PATH" on the
 * device), as the bastion reads it: a bounded parser of both directions
 * that yields every item with its bytes, so the session child can forward,
 * refuse or count it, and a per-file record in the SFTP tracker's shape
 * (sftp.h: struct sftp_record), so scp -O files are recorded, audited and
 * extracted exactly as SFTP's are.
 *
 * The protocol (docs/FILES.md, "Legacy scp"): the SOURCE (the engineer's
 * scp for -t, an upload; the device's for -f, a download) sends control
 * lines, each ended by '\n':
 *
 *   T<mtime> <usec> <atime> <usec>   times of the next C or D (-p)
 *   C<mode> <size> <name>            a file: then exactly size bytes of
 *                                    data and one status byte (\0, or
 *                                    \1/\2 and a message line)
 *   D<mode> <size> <name>            a directory follows (-r) ...
 *   E                                ... up to here
 *   \1<message> / \2<message>        a warning / a fatal error
 *
 * and after each C, D, E, T line and each file's status the SINK answers
 * one byte \0 (go on), or \1/\2 and a message line (refused / fatal). The
 * sink speaks first (\0: ready). Both sides wait for the answer, so the
 * two streams alternate; a sink byte that is not due, a line over
 * SCP_MAX_LINE, a name with '/' or a control character, a download's
 * top name other than PATH's last name, a D without -r, a size over
 * SCP_MAX_SIZE, an E without its D, more than SCP_MAX_DEPTH directories
 * deep or a path over SFTP_MAX_PATH is malformed and the stream is lost.
 *
 * Pure (no I/O, no clock): the child's relay (bastion/relay_scp.c),
 * bastion-replay --extract-files and fuzz_scp run the same code on the
 * same bytes. The only decision from outside is scp_refuse(), recorded by
 * the relay as an EVENT "scp.refused" so replay takes it at the same point.
 */
#ifndef BASTION_SCP_H
#define BASTION_SCP_H

#include <stddef.h>
#include <stdint.h>

#include "sftp.h"

/* a line, '\n' included: OpenSSH's scp reads lines into char[2048] and
 * takes whatever does not fit as the NEXT line, so a longer line (a
 * warning hiding a C line behind 2047 bytes, a C line cut inside its
 * name) would be read differently by the device than by the bastion */
#define SCP_MAX_LINE	2047
#define SCP_MAX_NAME	255			/* one name in a C/D line */
#define SCP_MAX_DEPTH	64			/* D lines open at once */
#define SCP_MAX_SIZE	(1ULL << 50)		/* one file: 1 PiB */
#define SCP_BUF		(SCP_MAX_LINE + 65536)	/* held per direction */

/* The command the engineer asked the device to run, taken apart. */
struct scp_cmd {
	int upload;		/* -t: files to the device; 0: -f, from it */
	int recursive;		/* -r */
	int dirtarget;		/* -d: PATH must be a directory */
	char target[SFTP_MAX_PATH + 1];	/* PATH, its quotes removed */
};

/*
 * Take "scp [-v] [-r] [-p] [-d] [-q] -t|-f [--] PATH" apart: words split
 * at spaces, '...' quoted (nothing inside undone), outside quotes only
 * letters, digits and "-_./,:+=@%" (nothing for the device's shell to
 * expand or chain), exactly one of -t and -f, exactly one PATH. 0 with *c
 * filled, or BERR_FORMAT with why (a sentence for the engineer).
 */
int scp_cmd_parse(const char *command, struct scp_cmd *c, char *why,
    size_t whylen);

enum scp_item {
	SCP_ITEM_TIME = 1,	/* source: a T line */
	SCP_ITEM_FILE,		/* source: a C line; its answer is due */
	SCP_ITEM_DIR,		/* source: a D line */
	SCP_ITEM_END,		/* source: an E line */
	SCP_ITEM_WARN,		/* source: a \1 or \2 line (no answer) */
	SCP_ITEM_DATA,		/* source: bytes of the file under way */
	SCP_ITEM_STATUS,	/* source: a file's status after its data */
	SCP_ITEM_ACK,		/* sink: \0 */
	SCP_ITEM_NAK,		/* sink: \1 or \2 and a message line */
};

/* One item. Pointers are valid until the next scp_put/scp_next/scp_free. */
struct scp_ev {
	enum scp_item item;
	int from_sink;		/* 1: the sink's stream, 0: the source's */
	const uint8_t *raw;	/* the item's bytes as they came */
	size_t len;
	unsigned serial;	/* FILE, DATA, STATUS: the file (1, 2, ...) */
	uint64_t size;		/* FILE, DATA, STATUS: announced size */
	uint64_t offset;	/* DATA: where raw goes in the file */
	const char *path;	/* FILE, DIR: its path (docs/FILES.md) */
	const char *msg;	/* WARN, NAK, a STATUS that is not \0: the
				   message (raw bytes, NUL-terminated), else
				   "" */
	int fatal;		/* WARN, NAK, STATUS: \2 */
};

struct scp;

/*
 * A parser for one exec channel running command c. rec gets each file's
 * record once its fate is known (the sink's answer to its status, a
 * refusal, or "incomplete" at scp_free); data gets the file's bytes as
 * DATA items are taken (dir SFTP_DIR_IN for an upload). Either may be
 * NULL. NULL when out of memory.
 */
struct scp *scp_new(const struct scp_cmd *c, sftp_record_fn rec,
    sftp_data_fn data, void *arg);
/* The file under way, if any, is recorded "incomplete"; frees. NULL: no-op. */
void scp_free(struct scp *s);

/* Room for bytes of one stream (from_sink: the sink's) in scp_put. */
size_t scp_room(const struct scp *s, int from_sink);
/* Bytes read from one stream: 0, or BERR_LIMIT past scp_room(). */
int scp_put(struct scp *s, int from_sink, const uint8_t *p, size_t n);
/*
 * The next whole item (DATA: as many of the file's bytes as are held):
 * 1 with *ev, 0 when more bytes are needed, or BERR_FORMAT with why (a
 * sentence naming the side: "from the client: ..."); after an error the
 * stream is lost and every later call returns it again.
 */
int scp_next(struct scp *s, struct scp_ev *ev, char *why, size_t whylen);
/*
 * The FILE just taken is not passed on: recorded "refused" with why, its
 * data will not come (the relay answered the source \1 in the sink's
 * place). 0, or BERR_INVAL when no FILE waits for its answer.
 */
int scp_refuse(struct scp *s, const char *why);
/*
 * One item as a line for bastion-replay --text (clean text, no '\n'):
 * '>' for the engineer's side, '<' for the device's (upload: the command
 * was -t), then a C, D, E or T line as it came (a C or D with the path it
 * makes), a warning, an answer ("ok", "refused: MSG", "fatal: MSG"), a
 * file's status, or for DATA one summary when the item ends its file
 * ("data of file N: SIZE bytes"). 1 with out, or 0: no line (a DATA item
 * that does not end its file).
 */
int scp_describe(const struct scp_ev *ev, int upload, char *out,
    size_t outlen);
/* File bytes moved so far (both directions). */
uint64_t scp_bytes(const struct scp *s);
/* Bytes held that no item took yet (from_sink: the sink's). */
size_t scp_held(const struct scp *s, int from_sink);

#endif
