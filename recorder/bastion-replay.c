/*
 * bastion-replay.c - play a session recording back to an auditor.
 *
 *   bastion-replay [-k PUBKEY] [--identity FILE] [--speed N]
 *                  [--skip-idle SECONDS] [--channel N] FILE
 *   bastion-replay --text [-k PUBKEY] [--audit CHAIN] [--approval TEXT] FILE
 *                                                 plain transcript
 *   bastion-replay --asciicast [--input] [--skip-idle SECONDS]
 *                  [-k PUBKEY] FILE               asciicast v2 on stdout
 *   bastion-replay --extract-files DIR [-k PUBKEY] FILE
 *                                  the SFTP files, hashes checked
 *                                  (recfiles.h, docs/FILES.md)
 *   bastion-replay --age SEQ FILE                 frame SEQ of an encrypted
 *                                                 recording as an age file
 *
 * Playback runs in real time (or --speed times faster) with keys: space
 * pause/resume, + and - double/halve the speed, . one frame forward (when
 * paused), right/left arrow jump 10 s forward/back (back = replay from the
 * start into a cleared screen), q quit. The terminal is put in raw mode only
 * when stdin is a terminal, and restored on every exit path and on signals.
 *
 * Everything that reaches a terminal goes through the sanitiser
 * (sanitize.h), including asciicast output, which asciinema will play on a
 * terminal too; every recorded string in the transcript through
 * text_clean_buf() (text.h). With -k the recording is verified first and a failure is
 * shouted on stderr; replay itself never trusts the file: it reads frames
 * with the bounded reader and stops at the first damaged one.
 *
 * A recording of format 2 (encrypted, recenc.h) needs --identity FILE, an
 * age identity file holding the secret key of one of its recipients (an
 * auditor's, or the escrow key put back together with bastion-escrow);
 * the clear text exists only in this process's memory. --age needs no
 * key: it writes the recording's age header and one frame's encrypted
 * payload, which together are an age file for `age -d -i KEYFILE`.
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "asciicast.h"
#include "auditlog.h"
#include "auditsess.h"
#include "buf.h"
#include "err.h"
#include "io.h"
#include "log.h"
#include "prog.h"
#include "recenc.h"
#include "recfiles.h"
#include "recfmt.h"
#include "reckey.h"
#include "recreader.h"
#include "rectext.h"
#include "recverify.h"
#include "sanitize.h"
#include "text.h"

#define EXIT_USAGE	3
#define ALL_CHANNELS	UINT64_MAX
#define SEEK_STEP_US	10000000ULL

enum mode { MODE_PLAY, MODE_TEXT, MODE_CAST, MODE_FILES };

struct opts {
	enum mode mode;
	const char *file;
	const char *keyfile;
	const char *identity;	/* --identity: age identity file */
	int age;		/* --age SEQ */
	uint64_t age_seq;
	double speed;
	double skip_idle;	/* seconds, 0 = off */
	uint64_t channel;	/* ALL_CHANNELS or one */
	int input;		/* asciicast "i" events */
	const char *audit;	/* --audit: the audit chain to ask */
	const char *elsewhere;	/* --approval: the caller's word on it */
	const char *files_dir;	/* --extract-files DIR */
	char approval[1024];	/* how the session was let in, from it */
};

/* ---- reading ---------------------------------------------------------- */

struct rec {
	struct recreader *rd;
	struct rec_hdr hdr;
	const char *path;
	int damaged;
};

/* Open the recording (with identity, if encrypted) and read its HEADER.
 * 0, or -1 after a message. */
static int
rec_open(struct rec *r, const char *path, const char *identity)
{
	struct rec_frame f;
	char why[512];
	int e;

	memset(r, 0, sizeof(*r));
	r->path = path;
	if ((e = recreader_open(path, &r->rd)) != 0) {
		fprintf(stderr, "bastion-replay: %s: %s\n", path,
		    e == BERR_NOTFOUND ? "no such file" : strerror(errno));
		return (-1);
	}
	if (recreader_magic(r->rd) != 0) {
		fprintf(stderr, "bastion-replay: %s: not a bastion recording "
		    "(format 1 or 2)\n", path);
		return (-1);
	}
	if (recreader_version(r->rd) == 2 && identity == NULL) {
		fprintf(stderr, "bastion-replay: %s is encrypted (format 2): "
		    "give --identity FILE, the age secret key of one of its "
		    "recipients\n", path);
		return (-1);
	}
	if (recreader_version(r->rd) == 2 &&
	    recenc_unlock(r->rd, identity, why, sizeof(why)) != 0) {
		fprintf(stderr, "bastion-replay: %s: %s\n", path, why);
		return (-1);
	}
	if (recreader_next(r->rd, &f) != 0 || f.type != REC_HEADER ||
	    recfmt_hdr_decode(f.payload, f.len, &r->hdr) != 0) {
		fprintf(stderr, "bastion-replay: %s: the HEADER frame is "
		    "damaged\n", path);
		return (-1);
	}
	return (0);
}

static void
rec_close(struct rec *r)
{
	recreader_free(r->rd);
	recfmt_hdr_clear(&r->hdr);
}

/* Next frame and its decoded payload: 1, or 0 at the end or at damage
 * (reported once on stderr). */
static int
rec_next(struct rec *r, struct rec_frame *f, struct rec_payload *pl)
{
	int e;

	for (;;) {
		if ((e = recreader_next(r->rd, f)) != 0) {
			if (e != BERR_NOTFOUND && !r->damaged) {
				fprintf(stderr, "bastion-replay: the recording "
				    "is damaged at offset %llu (%s): replay "
				    "stops there\n", (unsigned long long)
				    recreader_offset(r->rd), berr_str(e));
				r->damaged = 1;
			}
			return (0);
		}
		if (recfmt_payload_decode(f->type, f->payload, f->len, pl) == 0)
			return (1);
		if (!r->damaged)
			fprintf(stderr, "bastion-replay: skipping malformed %s "
			    "frame seq %llu\n", recfmt_type_name(f->type),
			    (unsigned long long)f->seq);
	}
}

/* Restart reading after the HEADER. */
static int
rec_rewind(struct rec *r)
{
	struct rec_frame f;

	if (recreader_seek(r->rd, recreader_base(r->rd)) != 0 ||
	    recreader_next(r->rd, &f) != 0)
		return (-1);
	return (0);
}

static const char *
hget(const struct rec *r, const char *k, char *out, size_t outlen)
{
	const char *v = recfmt_hdr_get(&r->hdr, k);

	if (v == NULL)
		v = "-";
	text_clean_buf(out, outlen, v, strlen(v), TEXT_ESCAPE |
	    TEXT_ELLIPSIS);
	return (out);
}

/* ---- how the session was let in (--audit, --approval) ----------------- */

/*
 * The HEADER's `approval` field cannot be relied on (bastiond versions up
 * to this one always wrote `none`): the audit chain says how the session
 * was let in (auditsess_approval_text()); the console adds the shared
 * state store's words with --approval (verbs/audstore.h).
 */
static void
chain_approval(struct opts *o, const char *recid)
{
	char why[300];
	size_t n;
	int r;

	if ((r = auditsess_approval_text(o->audit, recid, o->approval,
	    sizeof(o->approval), why, sizeof(why))) < 0) {
		fprintf(stderr, "bastion-replay: cannot read the audit chain "
		    "%s: %s\n", o->audit, why);
		exit(EXIT_USAGE);
	}
	/* the chain does not say who approved (another node did): add the
	 * caller's word, marked as its own */
	n = strlen(o->approval);
	if (r == 0 && o->elsewhere != NULL && n < sizeof(o->approval))
		snprintf(o->approval + n, sizeof(o->approval) - n, "; %s",
		    o->elsewhere);
}

static int
is_output(const struct rec_frame *f, uint64_t channel)
{
	return ((f->type == REC_OUTPUT || f->type == REC_STDERR) &&
	    (channel == ALL_CHANNELS || f->channel == channel));
}

/* ---- verification ----------------------------------------------------- */

static void
shout(const char *what, const char *detail)
{
	fprintf(stderr,
	    "\n**********************************************************"
	    "**************\n"
	    "*  WARNING: %s\n*  %s\n"
	    "*  What is replayed may not be what happened in the session.\n"
	    "**********************************************************"
	    "**************\n\n", what, detail);
}

static void
verify_first(const struct opts *o)
{
	struct recverify_report rep;
	struct reckey *pub = NULL;
	char detail[700], fp[RECKEY_FP_LEN];
	int r;

	if ((r = reckey_load_public(o->keyfile, &pub)) != 0) {
		snprintf(detail, sizeof(detail), "cannot load the public key "
		    "%s (%s)", o->keyfile, berr_str(r));
		shout("the recording could NOT be verified", detail);
		return;
	}
	reckey_fingerprint(pub, fp);
	switch (recverify_file(o->file, pub, &rep)) {
	case RECVERIFY_OK:
		fprintf(stderr, "bastion-replay: verified: sealed, %llu "
		    "frames, signed by %s\n", (unsigned long long)rep.frames,
		    fp);
		break;
	case RECVERIFY_UNSEALED:
		snprintf(detail, sizeof(detail), "frames 0..%lld verify, the "
		    "last %llu frame(s) are unverified (recorder crash or "
		    "cut file)", (long long)rep.verified - 1,
		    (unsigned long long)rep.unverified);
		shout("the recording is NOT SEALED", detail);
		break;
	case RECVERIFY_ALTERED:
		snprintf(detail, sizeof(detail), "frame seq %llu at offset "
		    "%llu: %.500s", (unsigned long long)rep.bad_seq,
		    (unsigned long long)rep.bad_offset, rep.why);
		shout("the recording was ALTERED: it does not verify", detail);
		break;
	default:
		snprintf(detail, sizeof(detail), "%.600s", rep.why);
		shout("the recording could NOT be verified", detail);
		break;
	}
	recverify_report_clear(&rep);
	reckey_free(pub);
}

static int
mode_text(const struct opts *o, struct rec *r)
{
	struct rectext *tr = NULL;
	struct recfiles *sftp = NULL;
	struct rec_frame f;
	struct rec_payload pl;
	char a[300], b[300], c[300], d[300], appr[1100];
	int sealed = 0;

	if (rectext_new(stdout, &tr) != 0 || recfiles_new(NULL, &sftp) != 0) {
		fprintf(stderr, "bastion-replay: out of memory\n");
		rectext_free(tr);
		return (EXIT_USAGE);
	}
	/* an sftp or scp -O session: its packets as lines, not as bytes */
	recfiles_text(sftp, tr);
	printf("# bastion session recording %s\n",
	    hget(r, "session", a, sizeof(a)));
	printf("# engineer %s (vendor %s) from %s\n",
	    hget(r, "engineer", a, sizeof(a)), hget(r, "vendor", b, sizeof(b)),
	    hget(r, "source", c, sizeof(c)));
	hget(r, "approval", c, sizeof(c));
	if (o->approval[0] != '\0')
		text_clean(appr, sizeof(appr), o->approval);
	else if (strcmp(c, "none") == 0 || strcmp(c, "-") == 0)
		/* the HEADER's field was written as "none" whatever the
		 * approval was: say where the answer is */
		snprintf(appr, sizeof(appr), "not stated in the recording "
		    "(the audit chain says: bastion-replay --audit CHAIN)");
	else
		snprintf(appr, sizeof(appr), "%s", c);
	printf("# device %s at %s, approval: %s\n",
	    hget(r, "device", a, sizeof(a)),
	    hget(r, "device_addr", b, sizeof(b)), appr);
	printf("# start %s, policy sha256 %s, recorder key %s\n",
	    hget(r, "start", a, sizeof(a)),
	    hget(r, "policy_sha256", b, sizeof(b)),
	    hget(r, "recorder_key", d, sizeof(d)));
	while (rec_next(r, &f, &pl)) {
		if (f.type == REC_SEAL)
			sealed = 1;
		recfiles_frame(sftp, &f, &pl);
		if (recfiles_takes(sftp, &f))
			continue;
		if (is_output(&f, o->channel))
			rectext_output(tr, f.time_us, f.payload, f.len);
		else if (f.type == REC_INPUT &&
		    (o->channel == ALL_CHANNELS || f.channel == o->channel))
			rectext_input(tr, f.time_us, f.payload, f.len);
		else
			rectext_event(tr, &f, &pl);
	}
	rectext_finish(tr);
	if (!sealed)
		printf("# the recording ends without a SEAL\n");
	rectext_free(tr);
	(void)recfiles_finish(sftp, stdout);
	recfiles_free(sftp);
	if (fflush(stdout) != 0)
		return (EXIT_USAGE);
	return (r->damaged ? 1 : 0);
}

/* ---- --extract-files (recfiles.h) ------------------------------------- */

static int
mode_files(const struct opts *o, struct rec *r)
{
	struct recfiles *x = NULL;
	struct rec_frame f;
	struct rec_payload pl;
	int rc;

	if (recfiles_new(o->files_dir, &x) != 0) {
		fprintf(stderr, "bastion-replay: %s: %s\n", o->files_dir,
		    strerror(errno));
		return (EXIT_USAGE);
	}
	while (rec_next(r, &f, &pl))
		recfiles_frame(x, &f, &pl);
	rc = recfiles_finish(x, stdout);
	recfiles_free(x);
	if (fflush(stdout) != 0)
		return (EXIT_USAGE);
	return (r->damaged || rc == 1 ? 1 : rc);
}

/* ---- asciicast -------------------------------------------------------- */

static int
emit(struct buf *b)
{
	if (fwrite(buf_ptr(b), 1, buf_len(b), stdout) != buf_len(b))
		return (-1);
	buf_reset(b);
	return (0);
}

static int
mode_cast(const struct opts *o, struct rec *r)
{
	struct sanitize *san;
	struct rec_frame f;
	struct rec_payload pl;
	struct buf *b = NULL, *s = NULL;
	unsigned cols = 80, rows = 24;
	char term[REC_TERM_MAX + 1] = "", title[400], a[128], d[128];
	char dims[32];
	const char *start;
	uint64_t ts = 0;
	int got_pty = 0, rc = EXIT_USAGE;

	if ((san = sanitize_new(0)) == NULL)
		return (EXIT_USAGE);
	/* first pass: the terminal's size and type for the header */
	while (!got_pty && rec_next(r, &f, &pl))
		if (f.type == REC_PTY_REQ && (o->channel == ALL_CHANNELS ||
		    f.channel == o->channel)) {
			cols = pl.cols > 0 ? pl.cols : 80;
			rows = pl.rows > 0 ? pl.rows : 24;
			text_clean_buf(term, sizeof(term), pl.str,
			    pl.str_len, TEXT_ESCAPE | TEXT_ELLIPSIS);
			got_pty = 1;
		}
	r->damaged = 0;
	if (rec_rewind(r) != 0)
		goto out;
	if ((start = recfmt_hdr_get(&r->hdr, "start")) != NULL &&
	    recfmt_parse_time(start, &ts) == 0)
		ts /= 1000000;
	snprintf(title, sizeof(title), "bastion session %s: %s on %s",
	    hget(r, "session", a, sizeof(a)),
	    hget(r, "engineer", d, sizeof(d)),
	    recfmt_hdr_get(&r->hdr, "device") != NULL ?
	    recfmt_hdr_get(&r->hdr, "device") : "-");
	if ((b = buf_new(8 * REC_MAX_PAYLOAD)) == NULL ||
	    (s = buf_new(3 * REC_MAX_PAYLOAD + SANITIZE_SLACK)) == NULL)
		goto out;
	if (asciicast_header(b, cols, rows, ts, title,
	    got_pty ? term : NULL, (unsigned)(o->skip_idle + 0.999)) != 0 ||
	    emit(b) != 0)
		goto out;
	while (rec_next(r, &f, &pl)) {
		if (o->channel != ALL_CHANNELS && f.channel != o->channel)
			continue;
		if (is_output(&f, o->channel)) {
			buf_reset(s);
			if (sanitize_feed(san, f.payload, f.len, s) != 0)
				goto out;
			if (buf_len(s) > 0 && (asciicast_event(b, f.time_us,
			    "o", buf_ptr(s), buf_len(s)) != 0 || emit(b) != 0))
				goto out;
		} else if (f.type == REC_INPUT && o->input) {
			if (asciicast_event(b, f.time_us, "i", f.payload,
			    f.len) != 0 || emit(b) != 0)
				goto out;
		} else if (f.type == REC_WINDOW_CHANGE) {
			snprintf(dims, sizeof(dims), "%ux%u", pl.cols, pl.rows);
			if (asciicast_event(b, f.time_us, "r", dims,
			    strlen(dims)) != 0 || emit(b) != 0)
				goto out;
		}
	}
	buf_reset(s);
	if (sanitize_finish(san, s) == 0 && buf_len(s) > 0 &&
	    (asciicast_event(b, f.time_us, "o", buf_ptr(s), buf_len(s)) != 0 ||
	    emit(b) != 0))
		goto out;
	rc = fflush(stdout) == 0 ? (r->damaged ? 1 : 0) : EXIT_USAGE;
 out:
	buf_free(b);
	buf_free(s);
	sanitize_free(san);
	return (rc);
}

/* ---- playback --------------------------------------------------------- */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void
tty_restore(void)
{
	if (tio_saved)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static void
tty_raw(void)
{
	struct termios t;

	if (!tio_saved)
		return;
	t = saved_tio;
	t.c_lflag &= ~(ICANON | ECHO);	/* keep ISIG: ^C still works */
	t.c_iflag &= ~(IXON | ICRNL);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
}

static void
tty_sig(int sig)
{
	/* async-signal-safe: tcsetattr, signal, raise */
	tty_restore();
	if (sig == SIGTSTP) {
		signal(SIGTSTP, SIG_DFL);
		raise(SIGTSTP);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
tty_cont(int sig)
{
	(void)sig;
	signal(SIGTSTP, tty_sig);
	tty_raw();
}

static void
tty_setup(void)
{
	struct sigaction sa;

	if (!isatty(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		return;
	tio_saved = 1;
	atexit(tty_restore);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGTSTP, &sa, NULL);
	sa.sa_handler = tty_cont;
	sigaction(SIGCONT, &sa, NULL);
	tty_raw();
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

enum key { K_NONE, K_PAUSE, K_FASTER, K_SLOWER, K_STEP, K_QUIT, K_FWD,
    K_BACK, K_OTHER };

/* Wait up to timeout µs (UINT64_MAX: forever) for a key. */
static enum key
wait_key(int keys, uint64_t timeout)
{
	struct pollfd pfd;
	struct timespec ts;
	uint8_t k[16];
	ssize_t n;
	int ms;

	if (!keys) {
		if (timeout == UINT64_MAX)
			return (K_QUIT);
		ts.tv_sec = (time_t)(timeout / 1000000);
		ts.tv_nsec = (long)(timeout % 1000000) * 1000;
		nanosleep(&ts, NULL);
		return (K_NONE);
	}
	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	ms = timeout == UINT64_MAX ? -1 : timeout / 1000 > 3600000 ? 3600000 :
	    (int)((timeout + 999) / 1000);
	if (poll(&pfd, 1, ms) <= 0)
		return (K_NONE);
	if ((n = read(STDIN_FILENO, k, sizeof(k))) <= 0)
		return (K_QUIT);
	if (n >= 3 && k[0] == 0x1b && (k[1] == '[' || k[1] == 'O'))
		return (k[2] == 'C' ? K_FWD : k[2] == 'D' ? K_BACK : K_OTHER);
	switch (k[0]) {
	case ' ': return (K_PAUSE);
	case '+': case '=': return (K_FASTER);
	case '-': case '_': return (K_SLOWER);
	case '.': return (K_STEP);
	case 'q': case 'Q': case 0x04: return (K_QUIT);
	}
	return (K_OTHER);
}

struct player {
	struct rec *r;
	struct sanitize *san;
	struct buf *s;
	uint64_t *off, *t;	/* output frames: offsets and times */
	size_t n;
};

/* Sanitise and write output frame i. */
static int
play_frame(struct player *p, size_t i)
{
	struct rec_frame f;

	if (recreader_seek(p->r->rd, p->off[i]) != 0 ||
	    recreader_next(p->r->rd, &f) != 0)
		return (-1);
	buf_reset(p->s);
	if (sanitize_feed(p->san, f.payload, f.len, p->s) != 0)
		return (-1);
	return (io_write_all(STDOUT_FILENO, buf_ptr(p->s), buf_len(p->s)));
}

/* Jump to recording time target: everything up to it is written at once.
 * Backwards means starting over on a cleared screen. Returns the index of
 * the first frame after target. */
static size_t
play_seek(struct player *p, size_t i, uint64_t from, uint64_t target)
{
	static const char clear[] = "\x1b[0m\x1b[H\x1b[2J";

	if (target < from) {
		(void)io_write_all(STDOUT_FILENO, clear, sizeof(clear) - 1);
		sanitize_reset(p->san);
		i = 0;
	}
	while (i < p->n && p->t[i] <= target) {
		if (play_frame(p, i) != 0)
			break;
		i++;
	}
	return (i);
}

static int
mode_play(const struct opts *o, struct rec *r)
{
	static const char reset[] = "\x1b[0m\x1b[?25h\r\n";
	struct player p;
	struct rec_frame f;
	struct rec_payload pl;
	struct winsize ws;
	uint64_t vt = 0, gap, wait, t0, el, cap, end_t = 0;
	size_t i = 0, alloc = 0;
	double speed = o->speed;
	int keys, paused = 0, flags = 0, rc = 0, warned = 0;
	const char *cs;
	enum key k;

	memset(&p, 0, sizeof(p));
	p.r = r;
	/* index the output frames */
	while (rec_next(r, &f, &pl)) {
		end_t = f.time_us;
		if (f.type == REC_PTY_REQ && !warned &&
		    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    (pl.cols > ws.ws_col || pl.rows > ws.ws_row)) {
			fprintf(stderr, "bastion-replay: recorded on a %ux%u "
			    "terminal, yours is %ux%u: enlarge it for a "
			    "faithful picture\n", pl.cols, pl.rows, ws.ws_col,
			    ws.ws_row);
			warned = 1;
		}
		if (!is_output(&f, o->channel))
			continue;
		if (p.n == alloc) {
			uint64_t *no, *nt;

			alloc = alloc ? alloc * 2 : 1024;
			no = realloc(p.off, alloc * sizeof(*no));
			if (no != NULL)
				p.off = no;
			nt = realloc(p.t, alloc * sizeof(*nt));
			if (nt != NULL)
				p.t = nt;
			if (no == NULL || nt == NULL) {
				fprintf(stderr, "bastion-replay: out of "
				    "memory\n");
				rc = EXIT_USAGE;
				goto out;
			}
		}
		p.off[p.n] = recreader_offset(r->rd);
		p.t[p.n] = f.time_us;
		p.n++;
	}
	/* UTF-8 only to a UTF-8 terminal: elsewhere bytes of a character
	 * could read as 8-bit controls */
	cs = nl_langinfo(CODESET);
	if (cs == NULL || strcmp(cs, "UTF-8") != 0)
		flags |= SANITIZE_ASCII;
	if ((p.san = sanitize_new(flags)) == NULL ||
	    (p.s = buf_new(3 * REC_MAX_PAYLOAD + SANITIZE_SLACK)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	cap = o->skip_idle > 0 ? (uint64_t)(o->skip_idle * 1e6) : UINT64_MAX;
	keys = isatty(STDIN_FILENO);
	tty_setup();
	while (i < p.n) {
		gap = p.t[i] > vt ? p.t[i] - vt : 0;
		if (gap > cap) {
			vt = p.t[i] - cap;
			gap = cap;
		}
		wait = paused ? UINT64_MAX : (uint64_t)((double)gap / speed);
		t0 = mono_us();
		k = wait_key(keys, wait);
		if (k == K_NONE) {
			if (paused)
				continue;
			vt = p.t[i];
			if (play_frame(&p, i) != 0)
				break;
			i++;
			continue;
		}
		if (!paused) {
			el = (uint64_t)((double)(mono_us() - t0) * speed);
			vt = vt + el < p.t[i] ? vt + el : p.t[i];
		}
		switch (k) {
		case K_PAUSE:
			paused = !paused;
			break;
		case K_FASTER:
			speed = speed * 2 > 64 ? 64 : speed * 2;
			break;
		case K_SLOWER:
			speed = speed / 2 < 1.0 / 16 ? 1.0 / 16 : speed / 2;
			break;
		case K_STEP:
			vt = p.t[i];
			if (play_frame(&p, i) != 0)
				goto done;
			i++;
			break;
		case K_FWD:
			i = play_seek(&p, i, vt, vt + SEEK_STEP_US);
			vt += SEEK_STEP_US;
			break;
		case K_BACK:
			gap = vt > SEEK_STEP_US ? vt - SEEK_STEP_US : 0;
			i = play_seek(&p, i, vt, gap);
			vt = gap;
			break;
		case K_QUIT:
			goto done;
		default:
			break;
		}
	}
 done:
	buf_reset(p.s);
	if (sanitize_finish(p.san, p.s) == 0)
		(void)io_write_all(STDOUT_FILENO, buf_ptr(p.s), buf_len(p.s));
	(void)io_write_all(STDOUT_FILENO, reset, sizeof(reset) - 1);
	tty_restore();
	{
		char dur[32];

		recfmt_fmt_duration(end_t, dur, sizeof(dur));
		fprintf(stderr, "bastion-replay: %s of recording, %llu escape "
		    "sequence(s) or control(s) neutralised\n", dur,
		    (unsigned long long)sanitize_dropped(p.san));
	}
 out:
	free(p.off);
	free(p.t);
	buf_free(p.s);
	sanitize_free(p.san);
	return (rc != 0 ? rc : r->damaged ? 1 : 0);
}

/* ---- --age: one encrypted payload as an age file ------------------------ */

static int
age_frame(const char *path, uint64_t seq)
{
	struct recenc_keyblock *kb = NULL;
	struct recreader *rd = NULL;
	struct rec_frame f;
	const uint8_t *p;
	size_t len = 0;
	int e, rc = 1;

	if ((e = recreader_open(path, &rd)) != 0 ||
	    (e = recreader_magic(rd)) != 0 ||
	    (p = recreader_keyblock(rd, &len)) == NULL) {
		fprintf(stderr, "bastion-replay: %s: %s\n", path, e != 0 ?
		    berr_str(e) : "not an encrypted recording (format 1)");
		goto out;
	}
	if ((kb = calloc(1, sizeof(*kb))) == NULL ||
	    (e = recenc_keyblock_parse(p, len, kb)) != 0) {
		fprintf(stderr, "bastion-replay: %s: the key block is "
		    "malformed\n", path);
		goto out;
	}
	while ((e = recreader_next(rd, &f)) == 0 && f.seq != seq)
		;
	if (e != 0 || !recfmt_type_encrypted(f.type)) {
		fprintf(stderr, "bastion-replay: %s: no encrypted frame with "
		    "seq %llu\n", path, (unsigned long long)seq);
		goto out;
	}
	if (io_write_all(STDOUT_FILENO, kb->age, kb->age_len) == 0 &&
	    io_write_all(STDOUT_FILENO, f.payload, f.len) == 0)
		rc = 0;
 out:
	free(kb);
	recreader_free(rd);
	return (rc);
}

/* ---- main ------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastion-replay [-k PUBKEY] [--identity FILE] [--speed N] "
	    "[--skip-idle SEC] [--channel N] FILE\n"
	    "       bastion-replay --text [-k PUBKEY] [--channel N] "
	    "[--audit CHAIN] [--approval TEXT] FILE\n"
	    "       bastion-replay --asciicast [--input] [--skip-idle SEC] "
	    "[-k PUBKEY] FILE\n"
	    "       bastion-replay --age SEQ FILE\n"
	    "  -k PUBKEY         verify first (warns loudly if it does not)\n"
	    "  --identity FILE   age identity file (AGE-SECRET-KEY-1...) of a "
	    "recipient:\n"
	    "                    needed for encrypted recordings (format 2)\n"
	    "  --speed N         play N times faster (default 1)\n"
	    "  --skip-idle SEC   cap pauses at SEC seconds\n"
	    "  --channel N       only this channel's output\n"
	    "  --text            plain transcript for grep\n"
	    "  --audit CHAIN     with --text: how the session was let in, "
	    "from the audit\n"
	    "                    chain (STATE_DIR/audit.log, or a bundle's "
	    "audit.log)\n"
	    "  --approval TEXT   with --text: how the session was let in, as "
	    "the caller\n"
	    "                    found it elsewhere (the console: the shared "
	    "state store);\n"
	    "                    with --audit, added where the chain names no "
	    "approver\n"
	    "  --asciicast       asciicast v2 for asciinema (sanitised)\n"
	    "  --input           with --asciicast: add \"i\" input events\n"
	    "  --extract-files DIR  write each SFTP file into DIR and check "
	    "its hash\n"
	    "  --age SEQ         frame SEQ of an encrypted recording as an age "
	    "file (no key\n"
	    "                    needed; open it with age -d -i KEYFILE)\n"
	    "keys: space pause, + - speed, . step, <- -> 10 s, q quit\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "speed", required_argument, NULL, 'S' },
		{ "skip-idle", required_argument, NULL, 'i' },
		{ "channel", required_argument, NULL, 'c' },
		{ "text", no_argument, NULL, 'T' },
		{ "asciicast", no_argument, NULL, 'A' },
		{ "input", no_argument, NULL, 'I' },
		{ "audit", required_argument, NULL, 'a' },
		{ "approval", required_argument, NULL, 'P' },
		{ "identity", required_argument, NULL, 'y' },
		{ "extract-files", required_argument, NULL, 'X' },
		{ "age", required_argument, NULL, 'G' },
		PROG_OPTS_END
	};
	static const struct prog prog = { "k:h", longopts, usage,
	    EXIT_USAGE, 1, 1 };
	struct opts o;
	struct rec r;
	char *end;
	int ch, rc;

	setlocale(LC_CTYPE, "");
	log_init("bastion-replay", 0, LOG_LVL_WARN);
	memset(&o, 0, sizeof(o));
	o.speed = 1;
	o.channel = ALL_CHANNELS;
	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		switch (ch) {
		case 'k':
			o.keyfile = optarg;
			break;
		case 'S':
			o.speed = strtod(optarg, &end);
			if (*end != '\0' || !(o.speed > 0 && o.speed <= 1000)) {
				fprintf(stderr, "bastion-replay: --speed wants "
				    "a number in (0, 1000]\n");
				return (EXIT_USAGE);
			}
			break;
		case 'i':
			o.skip_idle = strtod(optarg, &end);
			if (*end != '\0' || !(o.skip_idle > 0 &&
			    o.skip_idle < 86400)) {
				fprintf(stderr, "bastion-replay: --skip-idle "
				    "wants seconds\n");
				return (EXIT_USAGE);
			}
			break;
		case 'c':
			o.channel = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' ||
			    o.channel > UINT32_MAX) {
				fprintf(stderr, "bastion-replay: --channel "
				    "wants a channel number\n");
				return (EXIT_USAGE);
			}
			break;
		case 'T':
			o.mode = MODE_TEXT;
			break;
		case 'A':
			o.mode = MODE_CAST;
			break;
		case 'I':
			o.input = 1;
			break;
		case 'a':
			o.audit = optarg;
			break;
		case 'P':
			o.elsewhere = optarg;
			snprintf(o.approval, sizeof(o.approval), "%s", optarg);
			break;
		case 'y':
			o.identity = optarg;
			break;
		case 'X':
			o.mode = MODE_FILES;
			o.files_dir = optarg;
			break;
		case 'G':
			o.age_seq = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr, "bastion-replay: --age wants a "
				    "frame number\n");
				return (EXIT_USAGE);
			}
			o.age = 1;
			break;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	o.file = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	if (o.age)
		return (age_frame(o.file, o.age_seq));
	if (o.keyfile != NULL)
		verify_first(&o);
	else if (o.mode == MODE_PLAY)
		fprintf(stderr, "bastion-replay: not verified (no -k PUBKEY "
		    "given)\n");
	if (rec_open(&r, o.file, o.identity) != 0) {
		rec_close(&r);
		return (EXIT_USAGE);
	}
	if (o.audit != NULL && recfmt_hdr_get(&r.hdr, "session") != NULL)
		chain_approval(&o, recfmt_hdr_get(&r.hdr, "session"));
	switch (o.mode) {
	case MODE_TEXT:
		rc = mode_text(&o, &r);
		break;
	case MODE_CAST:
		rc = mode_cast(&o, &r);
		break;
	case MODE_FILES:
		rc = mode_files(&o, &r);
		break;
	default:
		rc = mode_play(&o, &r);
		break;
	}
	rec_close(&r);
	return (rc);
}
