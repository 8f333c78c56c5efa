/*
 * bastion-notify.c - tell the hospital's admins that a request waits,
 * without a browser open: a mail and/or a signed webhook.
 *
 *   bastion-notify [--mail-command CMD --mail-to ADDR... --mail-from ADDR]
 *                  [--webhook-url URL --secret-file FILE [--ca-file FILE]
 *                   [--insecure-http]] [--console-url URL]
 *                  [--ssh-host HOST] [--ssh-port PORT] [--grant DURATION]
 *                  [--deadline SECONDS]  < request.json
 *
 * A connection's monitor runs it (bastion/approval.c) when the policy has
 * approval.notify, demoted to the user bastion-notify (else worker_user),
 * with no_new_privs, a clean environment and none of its descriptors; the
 * options are the policy's approval.notify settings, validated by the
 * policy loader, and stdin is the request as JSON (as notify_command gets
 * it), read with a size cap and parsed by jansson: a session request, or
 * a file export request ("kind": "file_export", with path, size and
 * sha256; its link is #/admin/files/ID and its commands file-approve and
 * file-deny; docs/FILES.md "Export approval"). The mail command is
 * split into words at blanks (no shell) and gets the message on stdin; it
 * runs while the webhook is tried. All of it ends by the deadline (9 s:
 * the monitor waits 10).
 *
 * stdout carries one line per kind for the monitor's audit events
 * (notify.sent / notify.failed): "sent mail", "failed webhook HTTP 401
 * after 1 try". Exit status 0 when everything configured was sent, 1 when
 * something failed, 2 for a bad command line or request.
 * docs/APPROVALS.md, "Notifications".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "err.h"
#include "io.h"
#include "mailaddr.h"
#include "notify.h"
#include "prog.h"
#include "text.h"

#define REQ_MAX		(64 * 1024)	/* the request JSON on stdin */
#define CMD_MAX_WORDS	16
#define DEADLINE_S	9.0

struct conf {
	const char *mail_command, *mail_from;
	const char *to[NOTIFY_MAX_TO];
	size_t nto;
	const char *hook_url, *secret_file, *ca_file;
	int insecure_http;
	const char *console_url, *ssh_host, *grant;
	unsigned ssh_port;
	double deadline;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: bastion-notify [--mail-command CMD --mail-to ADDR "
	    "--mail-from ADDR]\n"
	    "         [--webhook-url URL --secret-file FILE [--ca-file FILE] "
	    "[--insecure-http]]\n"
	    "         [--console-url URL] [--ssh-host HOST] [--ssh-port PORT] "
	    "[--grant DURATION]\n"
	    "         [--deadline SECONDS] < request.json\n");
}

/* One result line for the monitor: KIND and a clean, one-line reason. */
static void
result(const char *kind, const char *why)
{
	char clean[256];

	if (why == NULL) {
		printf("sent %s\n", kind);
		return;
	}
	text_clean(clean, sizeof(clean), why);
	printf("failed %s %s\n", kind, clean);
	fprintf(stderr, "bastion-notify: %s: %s\n", kind, clean);
}

/* ---- the request ------------------------------------------------------ */

static int
req_str(json_t *o, const char *key, int need, char *out, size_t outlen)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return (need ? -1 : 0);
	if (!json_is_string(v) || json_string_length(v) >= outlen)
		return (need ? -1 : 0);
	snprintf(out, outlen, "%s", json_string_value(v));
	return (0);
}

/* "kind": absent (a session request) or "file_export", which names the
 * file: path, size and SHA-256 (64 lowercase hex digits). */
static int
req_kind(json_t *o, struct notify_req *r, char *err, size_t errlen)
{
	json_t *k = json_object_get(o, "kind"), *v;

	if (k == NULL)
		return (0);
	if (!json_is_string(k) || strcmp(json_string_value(k),
	    "file_export") != 0) {
		snprintf(err, errlen, "the request's kind is not file_export");
		return (-1);
	}
	r->file = 1;
	/* a path longer than the body shows is cut there, as a reason */
	if ((v = json_object_get(o, "path")) != NULL && json_is_string(v))
		text_clean(r->path, sizeof(r->path), json_string_value(v));
	v = json_object_get(o, "size");
	if (r->path[0] == '\0' ||
	    req_str(o, "sha256", 1, r->sha256, sizeof(r->sha256)) != 0 ||
	    strlen(r->sha256) != 64 || strspn(r->sha256,
	    "0123456789abcdef") != 64 ||
	    !json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "the file request lacks path, size or "
		    "sha256 (or one is malformed)");
		return (-1);
	}
	r->size = (long long)json_integer_value(v);
	return (0);
}

static int
req_read(json_t **jout, struct notify_req *r, char *err, size_t errlen)
{
	char *data;
	size_t len = 0;
	json_error_t je;
	json_t *o, *v;

	*jout = NULL;
	memset(r, 0, sizeof(*r));
	if ((data = malloc(REQ_MAX + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (io_read_upto(0, data, REQ_MAX + 1, &len) != 0 || len > REQ_MAX ||
	    len == 0) {
		snprintf(err, errlen, "the request on stdin is missing, "
		    "unreadable or over %d bytes", REQ_MAX);
		free(data);
		return (-1);
	}
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	free(data);
	if (o == NULL || !json_is_object(o)) {
		snprintf(err, errlen, "the request is not a JSON object (%s)",
		    o == NULL ? je.text : "another JSON value");
		json_decref(o);
		return (-1);
	}
	v = json_object_get(o, "id");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    req_str(o, "engineer", 1, r->engineer, sizeof(r->engineer)) != 0 ||
	    req_str(o, "vendor", 1, r->vendor, sizeof(r->vendor)) != 0 ||
	    req_str(o, "device", 1, r->device, sizeof(r->device)) != 0) {
		snprintf(err, errlen, "the request lacks id, engineer, vendor "
		    "or device (or one is too long)");
		json_decref(o);
		return (-1);
	}
	r->id = (long long)json_integer_value(v);
	if (req_kind(o, r, err, errlen) != 0) {
		json_decref(o);
		return (-1);
	}
	/* a reason longer than the body shows is cut there (text_clean) */
	if ((v = json_object_get(o, "reason")) != NULL && json_is_string(v))
		text_clean(r->reason, sizeof(r->reason), json_string_value(v));
	if ((v = json_object_get(o, "created")) != NULL && json_is_integer(v))
		r->created = (long long)json_integer_value(v);
	*jout = o;
	return (0);
}

/* ---- what the messages say besides the request ------------------------ */

struct view_text {
	char link[2200], approve[400], deny[400];
};

static void
view_build(const struct conf *cf, const struct notify_req *r,
    struct view_text *t, struct notify_view *v)
{
	char host[256] = "", port[16] = "";
	CURLU *u;
	char *h = NULL;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (cf->console_url != NULL) {
		n = strlen(cf->console_url);
		while (n > 0 && cf->console_url[n - 1] == '/')
			n--;
		snprintf(t->link, sizeof(t->link), "%.*s/#/admin/%s/%lld",
		    (int)n, cf->console_url, r->file ? "files" : "requests",
		    r->id);
		v->link = t->link;
	}
	/* the ssh host: the setting, else the console's, else this name */
	if (cf->ssh_host != NULL)
		snprintf(host, sizeof(host), "%s", cf->ssh_host);
	else if (cf->console_url != NULL && (u = curl_url()) != NULL) {
		if (curl_url_set(u, CURLUPART_URL, cf->console_url, 0) ==
		    CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) ==
		    CURLUE_OK)
			snprintf(host, sizeof(host), "%s", h);
		curl_free(h);
		curl_url_cleanup(u);
	}
	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "bastion");
	if (cf->ssh_port != 0 && cf->ssh_port != 22)
		snprintf(port, sizeof(port), "-p %u ", cf->ssh_port);
	/* a file is approved as it is, for no duration */
	if (r->file)
		snprintf(t->approve, sizeof(t->approve), "ssh -A %sADMIN@%s "
		    "file-approve %lld", port, host, r->id);
	else
		snprintf(t->approve, sizeof(t->approve), "ssh -A %sADMIN@%s "
		    "approve %lld %s", port, host, r->id,
		    cf->grant ? cf->grant : "2h");
	snprintf(t->deny, sizeof(t->deny), "ssh -A %sADMIN@%s %s %lld "
	    "REASON", port, host, r->file ? "file-deny" : "deny", r->id);
	v->ssh_approve = t->approve;
	v->ssh_deny = t->deny;
}

/* ---- mail --------------------------------------------------------------- */

/* Start the mail command (words, no shell) with msg on its stdin. */
static int
mail_start(const struct conf *cf, const struct buf *msg, pid_t *pidp,
    char *err, size_t errlen)
{
	char *words = NULL, *argv[CMD_MAX_WORDS + 1], *tok, *save = NULL;
	const uint8_t *p = buf_ptr(msg);
	size_t n = buf_len(msg), off = 0;
	int fds[2], argc = 0, null;
	pid_t pid;

	*pidp = -1;
	if ((words = strdup(cf->mail_command)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (tok = strtok_r(words, " \t", &save); tok != NULL &&
	    argc < CMD_MAX_WORDS; tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (argc == 0 || argv[0][0] != '/' || tok != NULL) {
		snprintf(err, errlen, "the mail command is not an absolute "
		    "path with at most %d words", CMD_MAX_WORDS);
		free(words);
		return (-1);
	}
	if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "cannot start %s: %s", argv[0],
		    strerror(errno));
		free(words);
		return (-1);
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		null = open("/dev/null", O_RDWR);
		if (dup2(fds[0], 0) < 0 || null < 0 || dup2(null, 1) < 0)
			_exit(127);
		closefrom(3);
		execv(argv[0], argv);
		_exit(127);
	}
	free(words);
	close(fds[0]);
	/* a message is a few KiB; a command that reads nothing and keeps
	 * its stdin open is caught by the wait below */
	(void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
	while (off < n && notify_now() < cf->deadline) {
		struct pollfd pfd = { fds[1], POLLOUT, 0 };
		ssize_t w;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((w = write(fds[1], p + off, n - off)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	close(fds[1]);
	*pidp = pid;
	return (0);
}

/* Wait for the mail command until the deadline; NULL when it succeeded. */
static const char *
mail_wait(const struct conf *cf, pid_t pid, char *err, size_t errlen)
{
	int st;
	pid_t w;

	for (;;) {
		struct timespec nap = { 0, 50 * 1000 * 1000 };

		if ((w = waitpid(pid, &st, WNOHANG)) == pid)
			break;
		if (w < 0 || notify_now() >= cf->deadline) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			snprintf(err, errlen, "the mail command did not finish "
			    "in time");
			return (err);
		}
		nanosleep(&nap, NULL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return (NULL);
	if (WIFEXITED(st))
		snprintf(err, errlen, "the mail command exited with status %d",
		    WEXITSTATUS(st));
	else
		snprintf(err, errlen, "the mail command was killed by signal "
		    "%d", WTERMSIG(st));
	return (err);
}

/* ---- webhook ------------------------------------------------------------ */

/* The secret: a regular file only its owner may read, 1..1024 bytes. */
static int
secret_read(const char *path, uint8_t *out, size_t *outlen, char *err,
    size_t errlen)
{
	struct stat sb;
	size_t n = 0;
	int fd;

	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open the secret_file: %s",
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
		snprintf(err, errlen, "the secret_file must be a regular file "
		    "of this user (%u) that nobody else can read (chmod 0600)",
		    (unsigned)geteuid());
		close(fd);
		return (-1);
	}
	if (io_read_upto(fd, out, NOTIFY_SECRET_MAX + 1, &n) != 0 ||
	    n > NOTIFY_SECRET_MAX) {
		snprintf(err, errlen, "cannot read the secret_file, or it is "
		    "over %d bytes", NOTIFY_SECRET_MAX);
		close(fd);
		OPENSSL_cleanse(out, NOTIFY_SECRET_MAX + 1);
		return (-1);
	}
	close(fd);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	if (n == 0) {
		snprintf(err, errlen, "the secret_file is empty");
		return (-1);
	}
	*outlen = n;
	return (0);
}

static const char *
hook_send(const struct conf *cf, json_t *req, const struct notify_req *nr,
    const struct notify_view *v, char *err, size_t errlen)
{
	uint8_t secret[NOTIFY_SECRET_MAX + 1];
	struct notify_hook h;
	json_t *doc;
	char *body = NULL;
	int r = -1;

	memset(&h, 0, sizeof(h));
	if (secret_read(cf->secret_file, secret, &h.secretlen, err,
	    errlen) != 0)
		return (err);
	h.url = cf->hook_url;
	h.ca_file = cf->ca_file;
	h.insecure_http = cf->insecure_http;
	h.secret = secret;
	/* a session request's body as ever; a file's says its kind too */
	doc = json_pack("{s:s, s:O, s:s?, s:[s,s], s:I}", "event",
	    "request.pending", "request", req, "url", v->link, "ssh",
	    v->ssh_approve, v->ssh_deny, "sent_at", (json_int_t)time(NULL));
	/* json_pack, not json_string: base/json.c has one of that name */
	if (doc != NULL && nr->file && json_object_set_new(doc, "kind",
	    json_pack("s", "file_export")) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	if (doc == NULL || (body = json_dumps(doc, JSON_COMPACT)) == NULL)
		snprintf(err, errlen, "cannot build the JSON body");
	else
		r = notify_webhook_post(&h, body, cf->deadline, err, errlen);
	free(body);
	json_decref(doc);
	OPENSSL_cleanse(secret, sizeof(secret));
	return (r == 0 ? NULL : err);
}

/* ---- main --------------------------------------------------------------- */

static const struct option longopts[] = {
	{ "mail-command", required_argument, NULL, 'm' },
	{ "mail-to", required_argument, NULL, 't' },
	{ "mail-from", required_argument, NULL, 'f' },
	{ "webhook-url", required_argument, NULL, 'u' },
	{ "secret-file", required_argument, NULL, 's' },
	{ "ca-file", required_argument, NULL, 'c' },
	{ "insecure-http", no_argument, NULL, 'I' },
	{ "console-url", required_argument, NULL, 'l' },
	{ "ssh-host", required_argument, NULL, 'H' },
	{ "ssh-port", required_argument, NULL, 'p' },
	{ "grant", required_argument, NULL, 'g' },
	{ "deadline", required_argument, NULL, 'd' },
	PROG_OPTS_END
};

static const struct prog prog = { "m:t:f:u:s:c:Il:H:p:g:d:h", longopts,
    usage, 2, 0, 0 };

static int
options(struct conf *cf, int argc, char **argv)
{
	double secs = DEADLINE_S;
	char *end;
	int ch, rc;

	memset(cf, 0, sizeof(*cf));
	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		switch (ch) {
		case 'm':
			cf->mail_command = optarg;
			break;
		case 'f':
			cf->mail_from = optarg;
			break;
		case 'u':
			cf->hook_url = optarg;
			break;
		case 's':
			cf->secret_file = optarg;
			break;
		case 'c':
			cf->ca_file = optarg;
			break;
		case 'I':
			cf->insecure_http = 1;
			break;
		case 'l':
			cf->console_url = optarg;
			break;
		case 'H':
			cf->ssh_host = optarg;
			break;
		case 'g':
			cf->grant = optarg;
			break;
		case 't':
			if (cf->nto == NOTIFY_MAX_TO || !mailaddr_ok(optarg))
				return (prog_usage(&prog));
			cf->to[cf->nto++] = optarg;
			break;
		case 'p':
			cf->ssh_port = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || cf->ssh_port > 65535)
				return (prog_usage(&prog));
			break;
		case 'd':
			secs = strtod(optarg, &end);
			if (*end != '\0' || !(secs > 0 && secs <= 60))
				return (prog_usage(&prog));
			break;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	if ((cf->mail_command != NULL) != (cf->nto > 0) ||
	    (cf->mail_command != NULL) != (cf->mail_from != NULL) ||
	    (cf->hook_url != NULL) != (cf->secret_file != NULL)) {
		fprintf(stderr, "bastion-notify: mail needs --mail-command, "
		    "--mail-to and --mail-from; a webhook --webhook-url and "
		    "--secret-file\n");
		return (2);
	}
	if (cf->mail_command == NULL && cf->hook_url == NULL) {
		fprintf(stderr, "bastion-notify: nothing to send: give a mail "
		    "or a webhook (the policy's approval.notify)\n");
		return (2);
	}
	cf->deadline = notify_now() + secs;
	return (PROG_GO);
}

int
main(int argc, char **argv)
{
	struct conf cf;
	struct notify_req r;
	struct notify_view v;
	struct view_text vt;
	struct buf *msg = NULL;
	json_t *req = NULL;
	char err[256], herr[256], id[NOTIFY_UUID_LEN];
	const char *why;
	pid_t mail = -1;
	int rc, failed = 0;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = options(&cf, argc, argv)) != PROG_GO)
		return (rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (req_read(&req, &r, err, sizeof(err)) != 0) {
		result("request", err);
		return (2);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		result("request", "libcurl cannot start");
		json_decref(req);
		return (1);
	}
	view_build(&cf, &r, &vt, &v);
	if (cf.mail_command != NULL) {
		if (notify_uuid(id) != 0 || notify_mail_build(&r, &v,
		    cf.mail_from, cf.to, cf.nto, id, time(NULL), &msg) != 0) {
			result("mail", "cannot build the message");
			failed = 1;
		} else if (mail_start(&cf, msg, &mail, err, sizeof(err)) != 0) {
			result("mail", err);
			failed = 1;
		}
	}
	if (cf.hook_url != NULL) {
		why = hook_send(&cf, req, &r, &v, herr, sizeof(herr));
		result("webhook", why);
		failed |= why != NULL;
	}
	if (mail > 0) {
		why = mail_wait(&cf, mail, err, sizeof(err));
		result("mail", why);
		failed |= why != NULL;
	}
	buf_free(msg);
	json_decref(req);
	curl_global_cleanup();
	return (failed ? 1 : 0);
}
