/*
 * approval_notify.c - word of a new request, from the connection's
 * monitor: the site's notify_command and/or the shipped bastion-notify
 * (approval.notify: mail and signed webhook).
 *
 * Both get the request as JSON on stdin and run the same way: forked by
 * the monitor, never through a shell, demoted (setgroups, setresuid) with
 * no_new_privs, in their own session, with a clean environment (PATH and
 * LANG) and none of the monitor's descriptors (state store, audit chain,
 * the listener's pipe, the child's socket). notify_command runs as
 * worker_user and is given 3 s, as before; bastion-notify runs as its own
 * system user bastion-notify when that exists (the only user that can
 * read the webhook secret), else as worker_user, and is given 10 s.
 *
 * Neither is waited for in the request path: both are started, the
 * monitor answers the child at once (the engineer sees the request's
 * number), and holds them as jobs (struct notify_job) that its loop
 * polls beside the child's socket (notify_jobs_poll / _ready). The
 * helper's stdout (at most 4 KiB) carries one line per kind, "sent mail"
 * or "failed webhook REASON", which become the audit events notify.sent
 * and notify.failed (kind, reason) when it ends; silence, a crash, the
 * 10 s passing or the session ending first (notify_jobs_end: it is
 * killed with its process group and reaped) become notify.failed too.
 * Nothing here can hold up, change or refuse the request: its outcome is
 * only logged and audited.
 *
 * A file export request (monitor_export.c, docs/FILES.md "Export
 * approval") is told the same way (approval_notify_export): its JSON is
 * file-requests --json's row with "kind": "file_export", and its audit
 * events say about=file_export (its number is of file-requests).
 * docs/APPROVALS.md, "Notifications".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "approvals.h"
#include "bclock.h"
#include "bastiond.h"
#include "log.h"
#include "session.h"

#define NOTIFY_COMMAND_WAIT_MS	3000
#define NOTIFY_HELPER_WAIT_MS	10000
#define NOTIFY_HELPER_DEADLINE	"9"	/* seconds, its own, inside ours */
#define NOTIFY_HELPER_USER	"bastion-notify"
#define NOTIFY_OUT_MAX		4096
#define NOTIFY_REAP_MS		50	/* its stdout closed, not yet reaped */
#define NOTIFY_ARGS_MAX		64

struct notify_proc {
	const char *name;		/* for messages */
	char *const *argv;
	const char *user;		/* NULL: worker_user */
};

/*
 * bastion-notify under way, held by the monitor (struct mon) while its
 * loop goes on answering the child: its stdout is read as it comes,
 * it is reaped when it exits, killed with its process group at its
 * deadline or when the session ends; then its lines are audited.
 */
struct notify_job {
	struct sess *S;
	int helper;			/* bastion-notify (else notify_command) */
	int file;			/* of a file export request */
	pid_t pid;
	int fd;				/* its stdout; -1 at EOF */
	int reaped;
	int st;				/* wait status, once reaped */
	int64_t deadline;		/* monotonic ms */
	size_t got;
	char idstr[32];
	char bin[PATH_MAX + 32];
	char out[NOTIFY_OUT_MAX];
	struct notify_job *next;
};

/* The forked side: demote and exec; never returns. */
static void
notify_exec(struct sess *S, const struct notify_proc *np, int in, int out)
{
	char *const envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
	    "LANG=C.UTF-8", NULL };
	int null = open("/dev/null", O_RDWR);

	signal(SIGPIPE, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	alarm(0);
	setsid();
	if (dup2(in, 0) < 0 || null < 0 || dup2(out >= 0 ? out : null, 1) < 0 ||
	    dup2(null, 2) < 0)
		_exit(127);
	closefrom(3);
	if (sandbox_drop_privileges_as(S->pol, np->user, 1) != 0)
		_exit(126);
	execve(np->argv[0], np->argv, envp);
	_exit(127);
}

/*
 * Start np with json on its stdin (then closed); *outfd (when not NULL)
 * is its stdout, non-blocking, for the caller to read and close. The pid,
 * or -1 with err saying why it could not start.
 */
static pid_t
notify_start(struct sess *S, const struct notify_proc *np, const char *json,
    size_t len, int *outfd, char *err, size_t errlen)
{
	int in[2], out[2] = { -1, -1 };
	pid_t pid;

	if (outfd != NULL)
		*outfd = -1;
	if (pipe2(in, O_CLOEXEC) != 0 || (outfd != NULL &&
	    pipe2(out, O_CLOEXEC | O_NONBLOCK) != 0)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return (-1);
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return (-1);
	}
	if (pid == 0)
		notify_exec(S, np, in[0], out[1]);
	close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	/* the request is far smaller than a pipe's buffer: no blocking */
	if (write(in[1], json, len) != (ssize_t)len)
		log_warn("%s: could not write the request: %s", np->name,
		    strerror(errno));
	close(in[1]);
	if (outfd != NULL)
		*outfd = out[0];
	return (pid);
}

/* A job for the monitor to collect (NULL when out of memory: then the
 * process is left to itself, as notify_command ever was). */
static struct notify_job *
notify_job_new(struct sess *S, int64_t id, int file, int helper, pid_t pid,
    int fd, int wait_ms)
{
	struct notify_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		if (fd >= 0)
			close(fd);
		return (NULL);
	}
	j->S = S;
	j->helper = helper;
	j->file = file;
	j->pid = pid;
	j->fd = fd;
	j->deadline = bclock_mono_ms(NULL) + wait_ms;
	snprintf(j->idstr, sizeof(j->idstr), "%lld", (long long)id);
	return (j);
}

/* notify_command, as before: logged only; not waited for after 3 s. */
static struct notify_job *
notify_command_run(struct sess *S, int64_t id, int file, const char *json,
    size_t len)
{
	char *const argv[] = { S->pol->notify_command, NULL };
	struct notify_proc np = { "notify_command", argv, NULL };
	char err[128];
	pid_t pid;

	if ((pid = notify_start(S, &np, json, len, NULL, err,
	    sizeof(err))) < 0) {
		log_warn("notify_command %s: %s (%srequest %lld)", argv[0], err,
		    file ? "file " : "", (long long)id);
		return (NULL);
	}
	return (notify_job_new(S, id, file, 0, pid, -1,
	    NOTIFY_COMMAND_WAIT_MS));
}

/* The device's longest grant as the verbs write it: 2h, 90m, 45s. */
static void
notify_grant(struct sess *S, char *out, size_t len)
{
	struct policy_approval rule;
	unsigned s;

	policy_device_approval(S->pol, S->dev, &rule);
	s = rule.max_grant ? rule.max_grant : S->pol->default_max_grant;
	if (s >= 3600 && s % 3600 == 0)
		snprintf(out, len, "%uh", s / 3600);
	else if (s >= 60 && s % 60 == 0)
		snprintf(out, len, "%um", s / 60);
	else
		snprintf(out, len, "%us", s);
}

/* bastion-notify's command line: the policy's approval.notify. */
static size_t
notify_args(struct sess *S, char *bin, char *grant, char *port,
    char **argv)
{
	const struct policy_notify *n = &S->pol->notify;
	size_t i, k = 0;

#define ARG2(opt, val)	do { if ((val) != NULL) { argv[k++] = (opt); \
	argv[k++] = (char *)(val); } } while (0)
	argv[k++] = bin;
	if (n->mail_command != NULL) {
		ARG2("--mail-command", n->mail_command);
		ARG2("--mail-from", n->mail_from);
		for (i = 0; i < n->nmail_to && k + 2 < NOTIFY_ARGS_MAX - 24;
		    i++)
			ARG2("--mail-to", n->mail_to[i]);
	}
	if (n->webhook_url != NULL) {
		ARG2("--webhook-url", n->webhook_url);
		ARG2("--secret-file", n->webhook_secret_file);
		ARG2("--ca-file", n->webhook_ca_file);
		if (n->webhook_insecure_http)
			argv[k++] = "--insecure-http";
	}
	ARG2("--console-url", policy_notify_console_url(S->pol));
	ARG2("--ssh-host", n->ssh_host);
	if (S->pol->nlisten > 0)
		ARG2("--ssh-port", port);
	ARG2("--grant", grant);
	ARG2("--deadline", NOTIFY_HELPER_DEADLINE);
#undef ARG2
	argv[k] = NULL;
	return (k);
}

/* notify.sent / notify.failed; a file export request's (file) say so
 * with about=file_export, its number being of file-requests. */
static void
notify_audit(struct sess *S, const char *idstr, int file, const char *kind,
    const char *reason)
{
	const char *about = file ? "about" : NULL;

	if (reason == NULL) {
		audit_ev(BEV_NOTIFY_SENT, "session", S->sid, "request", idstr,
		    "kind", kind, about, "file_export", NULL);
		return;
	}
	log_warn("bastion-notify: %srequest %s: %s: %s", file ? "file " : "",
	    idstr, kind, reason);
	audit_ev(BEV_NOTIFY_FAILED, "session", S->sid, "request", idstr,
	    "kind", kind, "reason", reason, about, "file_export", NULL);
}

/*
 * Read bastion-notify's result lines. Only the kinds configured count;
 * a kind that reported nothing failed with why (its exit, or silence).
 */
static void
notify_results(struct sess *S, const char *idstr, int file, char *out,
    const char *none)
{
	const struct policy_notify *n = &S->pol->notify;
	const char *kinds[2] = { n->mail_command ? "mail" : NULL,
	    n->webhook_url ? "webhook" : NULL };
	int told[2] = { 0, 0 }, i, sent;
	char *line, *save = NULL, *kind, *why;
	char clean[200], nothing[1] = "";

	for (line = strtok_r(out != NULL ? out : nothing, "\n", &save);
	    line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "sent ", 5) == 0)
			sent = 1;
		else if (strncmp(line, "failed ", 7) == 0)
			sent = 0;
		else
			continue;
		kind = line + (sent ? 5 : 7);
		why = kind + strcspn(kind, " ");
		if (*why != '\0')
			*why++ = '\0';
		if (strcmp(kind, "request") == 0 && !sent) {
			none = why;	/* it could not read ours: all failed */
			continue;
		}
		for (i = 0; i < 2; i++) {
			if (kinds[i] == NULL || told[i] ||
			    strcmp(kind, kinds[i]) != 0)
				continue;
			told[i] = 1;
			log_clean(clean, sizeof(clean), why);
			notify_audit(S, idstr, file, kinds[i], sent ? NULL :
			    (*clean ? clean : "no reason given"));
		}
	}
	for (i = 0; i < 2; i++)
		if (kinds[i] != NULL && !told[i]) {
			log_clean(clean, sizeof(clean), none);
			notify_audit(S, idstr, file, kinds[i], clean);
		}
}

/* bastion-notify, beside bastiond; as its own user; collected by the
 * monitor (notify_jobs_*); a start that fails is audited at once. */
static struct notify_job *
notify_helper_run(struct sess *S, int64_t id, int file, const char *json,
    size_t len)
{
	char self[PATH_MAX], bin[PATH_MAX + 32], grant[32], port[8];
	char *argv[NOTIFY_ARGS_MAX], err[160], *slash, idstr[32], why[200];
	struct notify_proc np = { "bastion-notify", argv, NOTIFY_HELPER_USER };
	struct notify_job *j;
	ssize_t n;
	pid_t pid;
	int fd;

	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		notify_results(S, idstr, file, NULL, "cannot find bastion-notify");
		return (NULL);
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, sizeof(bin), "%s/bastion-notify", self);
	notify_grant(S, grant, sizeof(grant));
	snprintf(port, sizeof(port), "%u", S->pol->nlisten > 0 ?
	    (unsigned)S->pol->listen[0].port : 22u);
	notify_args(S, bin, grant, port, argv);
	if ((pid = notify_start(S, &np, json, len, &fd, err,
	    sizeof(err))) < 0) {
		snprintf(why, sizeof(why), "bastion-notify %s", err);
		notify_results(S, idstr, file, NULL, why);
		return (NULL);
	}
	if ((j = notify_job_new(S, id, file, 1, pid, fd,
	    NOTIFY_HELPER_WAIT_MS)) == NULL) {
		/* not collectable: not left running unseen either */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		notify_results(S, idstr, file, NULL, "out of memory");
		return (NULL);
	}
	snprintf(j->bin, sizeof(j->bin), "%s", bin);
	return (j);
}

/* Why bastion-notify's kinds that said nothing failed, from how it
 * ended. */
static void
notify_helper_why(const struct notify_job *j, char *why, size_t len)
{
	int st = j->st;

	if (j->st == -1)
		snprintf(why, len, "bastion-notify lost: %s", strerror(ECHILD));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(why, len, "cannot run %.150s", j->bin);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		snprintf(why, len, "cannot become %s or worker_user",
		    NOTIFY_HELPER_USER);
	else if (WIFEXITED(st))
		snprintf(why, len, "bastion-notify exited with status %d and "
		    "said nothing", WEXITSTATUS(st));
	else
		snprintf(why, len, "bastion-notify was killed by signal %d",
		    WTERMSIG(st));
}

/* Read what is there of its stdout, without waiting; closed at EOF or
 * when j->out is full. */
static void
notify_job_read(struct notify_job *j)
{
	ssize_t n;

	while (j->fd >= 0) {
		n = read(j->fd, j->out + j->got, sizeof(j->out) - 1 - j->got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n > 0)
			j->got += (size_t)n;
		j->out[j->got] = '\0';
		if (n <= 0 || j->got == sizeof(j->out) - 1) {
			close(j->fd);
			j->fd = -1;
		}
	}
}

/*
 * The job is over (why: NULL when it ended by itself): kill what is left
 * of the helper's process group and reap it (notify_command is left, as
 * ever), take its last lines, log or audit, free.
 */
static void
notify_job_finish(struct notify_job *j, const char *why)
{
	char buf[200];

	if (why != NULL && j->helper) {
		/* it, and what it started (the mail command) */
		kill(-j->pid, SIGKILL);
		if (!j->reaped) {
			kill(j->pid, SIGKILL);
			while (waitpid(j->pid, &j->st, 0) < 0 && errno == EINTR)
				continue;
			j->reaped = 1;
		}
	}
	if (j->fd >= 0)
		notify_job_read(j);
	if (j->fd >= 0)
		close(j->fd);
	if (!j->helper) {
		if (why != NULL)
			log_warn("notify_command %s %s (request %s); not "
			    "waiting for it", j->S->pol->notify_command, why,
			    j->idstr);
		else if (!WIFEXITED(j->st) || WEXITSTATUS(j->st) != 0)
			log_warn("notify_command %s failed (%s %d) for request "
			    "%s", j->S->pol->notify_command,
			    WIFEXITED(j->st) ? "exit status" : "signal",
			    WIFEXITED(j->st) ? WEXITSTATUS(j->st) :
			    WTERMSIG(j->st), j->idstr);
	} else {
		if (why != NULL)
			snprintf(buf, sizeof(buf), "bastion-notify %s", why);
		else
			notify_helper_why(j, buf, sizeof(buf));
		notify_results(j->S, j->idstr, j->file, j->out, buf);
	}
	free(j);
}

int
notify_jobs_poll(struct notify_job *list, struct pollfd *pfd, int room,
    int *timeout)
{
	const struct notify_job *j;
	int64_t now = bclock_mono_ms(NULL), left;
	int n = 0;

	for (j = list; j != NULL; j = j->next) {
		left = j->deadline > now ? j->deadline - now : 0;
		if (j->fd >= 0 && n < room) {
			pfd[n].fd = j->fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		} else if (left > NOTIFY_REAP_MS)
			left = NOTIFY_REAP_MS;	/* said all: to be reaped */
		if (*timeout < 0 || left < *timeout)
			*timeout = (int)left;
	}
	return (n);
}

void
notify_jobs_ready(struct notify_job **list)
{
	struct notify_job **pp, *j;
	pid_t w;

	for (pp = list; (j = *pp) != NULL;) {
		notify_job_read(j);
		if (!j->reaped && (w = waitpid(j->pid, &j->st, WNOHANG)) != 0) {
			j->reaped = 1;	/* exited, or lost (w < 0) */
			if (w < 0)
				j->st = -1;
		}
		if (j->reaped && j->fd < 0) {
			*pp = j->next;
			notify_job_finish(j, NULL);
		} else if (bclock_mono_ms(NULL) >= j->deadline) {
			*pp = j->next;
			notify_job_finish(j, j->helper ?
			    "did not finish in 10 s" : "still runs after 3 s");
		} else
			pp = &j->next;
	}
}

void
notify_jobs_end(struct notify_job **list)
{
	struct notify_job *j;

	notify_jobs_ready(list);	/* what ended already, as it ended */
	while ((j = *list) != NULL) {
		*list = j->next;
		if (j->helper)
			notify_job_finish(j, "did not finish before the "
			    "session ended");
		else {
			/* left to run, as ever: only not reaped here */
			if (j->fd >= 0)
				close(j->fd);
			free(j);
		}
	}
}

/* Both for json (the request, one line), id and file as the audit events
 * name them; nothing when neither is configured. */
static void
notify_run(struct sess *S, int64_t id, int file, const char *json,
    size_t len, struct notify_job **list)
{
	struct notify_job *j;

	if (S->pol->notify.set && (j = notify_helper_run(S, id, file, json,
	    len)) != NULL) {
		j->next = *list;
		*list = j;
	}
	if (S->pol->notify_command != NULL && *S->pol->notify_command !=
	    '\0' && (j = notify_command_run(S, id, file, json, len)) != NULL) {
		j->next = *list;
		*list = j;
	}
}

static int
notify_wanted(const struct sess *S)
{
	return ((S->pol->notify_command != NULL && *S->pol->notify_command !=
	    '\0') || S->pol->notify.set);
}

/* Request r, or file export request e (file-requests --json's row with
 * what it is), as one line of JSON for both; then run them. */
static void
notify_request(struct sess *S, const struct state_request *r,
    const struct state_export *e, struct notify_job **list)
{
	char *json = NULL;
	size_t len = 0;
	FILE *f;

	if (!notify_wanted(S) || (f = open_memstream(&json, &len)) == NULL)
		return;
	if (e != NULL) {
		appr_export_json_open(f, e);
		fputs(",\"kind\":\"file_export\"}", f);
	} else
		appr_request_json(f, r);
	fputc('\n', f);
	if (fclose(f) == 0)
		notify_run(S, e != NULL ? e->id : r->id, e != NULL, json, len,
		    list);
	free(json);
}

void
approval_notify(struct sess *S, const struct state_request *r,
    struct notify_job **list)
{
	notify_request(S, r, NULL, list);
}

void
approval_notify_export(struct sess *S, const struct state_export *e,
    struct notify_job **list)
{
	notify_request(S, NULL, e, list);
}
