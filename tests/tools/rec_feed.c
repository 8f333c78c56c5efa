/*
 * rec_feed.c - a stand-in session worker for the recorder's end-to-end
 * tests: it drives bastion-recorder through rec_client exactly as the real
 * worker does, following a script.
 *
 *   rec_feed -s SOCKET [-f SCRIPT] [COMMAND...]
 *
 * Commands come from the arguments (one per argument) or, without any,
 * from SCRIPT or stdin (one per line). Text arguments take C escapes
 * (\n \r \t \e \a \0 \\ \xNN \s for a space).
 *
 *   open KEY=VALUE...        rec_client_open with these facts
 *   ch N                     channel for the frames that follow (default 0)
 *   pty TERM COLS ROWS | winch COLS ROWS | shell | exec TEXT
 *   subsystem NAME | out TEXT | err TEXT | in TEXT
 *   outfile PATH [CHUNK]     the file's bytes as OUTPUT frames
 *   eof DIR | exit N | signal NAME CORE TEXT
 *   fwd-open HOST PORT ORIG OPORT | fwd-data DIR TEXT | fwd-close
 *   event KIND TEXT
 *   frame TYPE HEX           rec_client_frame with a raw payload
 *   raw HEX                  bytes straight onto the socket
 *   sleep MS | sync | close
 *   drop                     exit at once, without CLOSE
 *
 * After a successful open it prints "session ID PATH". On the first
 * failure it prints "rec_feed: line N: ERROR" to stderr and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "hex.h"
#include "rec_client.h"

static struct rec_client *rc;
static uint32_t channel;
static const char *sockpath;

/* Decode C escapes from s into out (at most outlen); returns the length. */
static size_t
unescape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	int h, l;

	while (*s != '\0' && o < outlen) {
		if (*s != '\\' || s[1] == '\0') {
			out[o++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'e': out[o++] = 0x1b; break;
		case 'a': out[o++] = 0x07; break;
		case '0': out[o++] = '\0'; break;
		case 's': out[o++] = ' '; break;
		case 'x':
			if ((h = hex_digit(s[1])) >= 0 && (l = hex_digit(s[2])) >= 0) {
				out[o++] = (char)(h << 4 | l);
				s += 2;
			} else
				out[o++] = 'x';
			break;
		default: out[o++] = *s; break;
		}
		s++;
	}
	return (o);
}

static size_t
unhex(const char *s, uint8_t *out, size_t outlen)
{
	size_t o = 0;
	int h, l;

	while (s[0] != '\0' && s[1] != '\0' && o < outlen) {
		if ((h = hex_digit(s[0])) < 0 || (l = hex_digit(s[1])) < 0)
			break;
		out[o++] = (uint8_t)(h << 4 | l);
		s += 2;
	}
	return (o);
}

/* Split off the first word of *line (space separated). */
static char *
word(char **line)
{
	char *w = *line, *sp;

	if (w == NULL)
		return (NULL);
	while (*w == ' ')
		w++;
	if (*w == '\0')
		return (NULL);
	if ((sp = strchr(w, ' ')) != NULL) {
		*sp = '\0';
		*line = sp + 1;
	} else
		*line = NULL;
	return (w);
}

static int
do_open(char *rest, char *err, size_t errlen)
{
	struct rec_header h;
	char *w, *eq;
	static char vals[16][1100];
	int n = 0, r;

	memset(&h, 0, sizeof(h));
	while ((w = word(&rest)) != NULL && n < 16) {
		if ((eq = strchr(w, '=')) == NULL)
			return (BERR_INVAL);
		*eq = '\0';
		vals[n][unescape(eq + 1, vals[n], sizeof(vals[n]) - 1)] = '\0';
		if (strcmp(w, "engineer") == 0) h.engineer = vals[n];
		else if (strcmp(w, "vendor") == 0) h.vendor = vals[n];
		else if (strcmp(w, "source") == 0) h.source = vals[n];
		else if (strcmp(w, "device") == 0) h.device = vals[n];
		else if (strcmp(w, "device_addr") == 0) h.device_addr = vals[n];
		else if (strcmp(w, "approval") == 0) h.approval = vals[n];
		else if (strcmp(w, "policy_sha256") == 0)
			h.policy_sha256 = vals[n];
		else if (strcmp(w, "ref") == 0) h.ref = vals[n];
		else if (strcmp(w, "recipients") == 0)
			h.recipients = vals[n];
		else
			return (BERR_INVAL);
		n++;
	}
	if ((r = rec_client_open(sockpath, &h, &rc, err, errlen)) != 0)
		return (r);
	printf("session %s %s\n", rec_client_session_id(rc),
	    rec_client_path(rc));
	fflush(stdout);
	return (0);
}

static int
do_outfile(char *rest)
{
	char *path = word(&rest), *cs = word(&rest);
	size_t chunk = cs != NULL ? strtoul(cs, NULL, 10) : 4096;
	uint8_t *buf;
	ssize_t n;
	int fd, r = 0;

	if (path == NULL || chunk == 0 || chunk > (16 << 20))
		return (BERR_INVAL);
	if ((fd = open(path, O_RDONLY)) < 0)
		return (BERR_SYS);
	if ((buf = malloc(chunk)) == NULL) {
		close(fd);
		return (BERR_NOMEM);
	}
	while ((n = read(fd, buf, chunk)) > 0)
		if ((r = rec_client_output(rc, channel, buf, (size_t)n)) != 0)
			break;
	free(buf);
	close(fd);
	return (r);
}

/* Run one command line; 0 or BERR_*. */
static int
run(char *line, char *err, size_t errlen)
{
	static char text[1 << 20];
	static uint8_t bin[1 << 20];
	char *cmd, *a, *b, *c;
	size_t n;
	struct timespec ts;
	long ms;

	if ((cmd = word(&line)) == NULL || cmd[0] == '#')
		return (0);
	if (strcmp(cmd, "open") == 0)
		return (do_open(line, err, errlen));
	if (strcmp(cmd, "sleep") == 0) {
		ms = line != NULL ? strtol(line, NULL, 10) : 0;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return (0);
	}
	if (strcmp(cmd, "drop") == 0)
		_exit(0);
	if (strcmp(cmd, "ch") == 0) {
		channel = (uint32_t)strtoul(line != NULL ? line : "0", NULL, 10);
		return (0);
	}
	if (rc == NULL)
		return (BERR_INVAL);
	if (strcmp(cmd, "pty") == 0) {
		a = word(&line);
		b = word(&line);
		c = word(&line);
		if (a == NULL || b == NULL || c == NULL)
			return (BERR_INVAL);
		return (rec_client_pty_req(rc, channel, a,
		    (uint32_t)atoi(b), (uint32_t)atoi(c)));
	}
	if (strcmp(cmd, "winch") == 0) {
		a = word(&line);
		b = word(&line);
		if (a == NULL || b == NULL)
			return (BERR_INVAL);
		return (rec_client_window_change(rc, channel,
		    (uint32_t)atoi(a), (uint32_t)atoi(b)));
	}
	if (strcmp(cmd, "shell") == 0)
		return (rec_client_shell(rc, channel));
	n = line != NULL ? unescape(line, text, sizeof(text)) : 0;
	if (strcmp(cmd, "exec") == 0)
		return (rec_client_exec(rc, channel, text, n));
	if (strcmp(cmd, "subsystem") == 0) {
		text[n] = '\0';
		return (rec_client_subsystem(rc, channel, text));
	}
	if (strcmp(cmd, "out") == 0)
		return (rec_client_output(rc, channel, text, n));
	if (strcmp(cmd, "err") == 0)
		return (rec_client_stderr(rc, channel, text, n));
	if (strcmp(cmd, "in") == 0)
		return (rec_client_input(rc, channel, text, n));
	if (strcmp(cmd, "outfile") == 0)
		return (do_outfile(line));
	if (strcmp(cmd, "eof") == 0)
		return (rec_client_eof(rc, channel, atoi(text)));
	if (strcmp(cmd, "exit") == 0)
		return (rec_client_exit_status(rc, channel,
		    (uint32_t)atoi(text)));
	if (strcmp(cmd, "signal") == 0) {
		a = word(&line);
		b = word(&line);
		if (a == NULL || b == NULL)
			return (BERR_INVAL);
		n = line != NULL ? unescape(line, text, sizeof(text) - 1) : 0;
		text[n] = '\0';
		return (rec_client_exit_signal(rc, channel, a, atoi(b), text));
	}
	if (strcmp(cmd, "fwd-open") == 0) {
		a = word(&line);
		b = word(&line);
		c = word(&line);
		if (a == NULL || b == NULL || c == NULL || line == NULL)
			return (BERR_INVAL);
		return (rec_client_fwd_open(rc, channel, a, (uint32_t)atoi(b),
		    c, (uint32_t)atoi(line)));
	}
	if (strcmp(cmd, "fwd-data") == 0) {
		a = word(&line);
		if (a == NULL)
			return (BERR_INVAL);
		n = line != NULL ? unescape(line, text, sizeof(text)) : 0;
		return (rec_client_fwd_data(rc, channel, atoi(a), text, n));
	}
	if (strcmp(cmd, "fwd-close") == 0)
		return (rec_client_fwd_close(rc, channel));
	if (strcmp(cmd, "event") == 0) {
		a = word(&line);
		if (a == NULL)
			return (BERR_INVAL);
		n = line != NULL ? unescape(line, text, sizeof(text) - 1) : 0;
		text[n] = '\0';
		return (rec_client_event(rc, channel, a, text));
	}
	if (strcmp(cmd, "frame") == 0) {
		int t;

		a = word(&line);
		if (a == NULL)
			return (BERR_INVAL);
		if ((t = recfmt_type_from_name(a)) < 0)
			t = atoi(a);
		n = line != NULL ? unhex(line, bin, sizeof(bin)) : 0;
		return (rec_client_frame(rc, t, channel, bin, n));
	}
	if (strcmp(cmd, "raw") == 0) {
		n = line != NULL ? unhex(line, bin, sizeof(bin)) : 0;
		if (write(rec_client_fd(rc), bin, n) != (ssize_t)n)
			return (BERR_SYS);
		return (0);
	}
	if (strcmp(cmd, "sync") == 0)
		return (rec_client_sync(rc));
	if (strcmp(cmd, "close") == 0)
		return (rec_client_close(rc, err, errlen));
	return (BERR_INVAL);
}

int
main(int argc, char **argv)
{
	static char line[1 << 20];
	char err[1024];
	FILE *in = stdin;
	int ch, i, r, lineno = 0;

	while ((ch = getopt(argc, argv, "s:f:")) != -1) {
		switch (ch) {
		case 's':
			sockpath = optarg;
			break;
		case 'f':
			if ((in = fopen(optarg, "r")) == NULL) {
				perror(optarg);
				return (2);
			}
			break;
		default:
			fprintf(stderr, "usage: rec_feed -s SOCKET [-f SCRIPT] "
			    "[COMMAND...]\n");
			return (2);
		}
	}
	if (sockpath == NULL) {
		fprintf(stderr, "rec_feed: -s SOCKET is required\n");
		return (2);
	}
	for (i = optind; ; i++) {
		if (optind < argc) {
			if (i >= argc)
				break;
			snprintf(line, sizeof(line), "%s", argv[i]);
		} else if (fgets(line, sizeof(line), in) == NULL)
			break;
		line[strcspn(line, "\n")] = '\0';
		lineno++;
		err[0] = '\0';
		if ((r = run(line, err, sizeof(err))) != 0) {
			fprintf(stderr, "rec_feed: line %d: %s: %s\n", lineno,
			    berr_name(r), err[0] != '\0' ? err :
			    rc != NULL && rec_client_error(rc)[0] != '\0' ?
			    rec_client_error(rc) : berr_str(r));
			rec_client_free(rc);
			return (1);
		}
	}
	rec_client_free(rc);
	return (0);
}
