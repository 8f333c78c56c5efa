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
 * read the webhook secret), else as worker_user, and is given 10 s. Its
 * stdout (at most 4 KiB) carries one line per kind, "sent mail" or
 * "failed webhook REASON", which become the audit events notify.sent and
 * notify.failed (kind, reason); silence, a crash or the 10 s passing
 * become notify.failed too. Nothing here can hold up, change or refuse
 * the request: its outcome is only logged and audited.
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
#include "bastiond.h"
#include "log.h"
#include "session.h"

#define NOTIFY_COMMAND_WAIT_MS	3000
#define NOTIFY_HELPER_WAIT_MS	10000
#define NOTIFY_HELPER_DEADLINE	"9"	/* seconds, its own, inside ours */
#define NOTIFY_HELPER_USER	"bastion-notify"
#define NOTIFY_OUT_MAX		4096
#define NOTIFY_ARGS_MAX		64

struct notify_proc {
	const char *name;		/* for messages */
	char *const *argv;
	const char *user;		/* NULL: worker_user */
	int wait_ms;
	int kill_late;			/* killed after wait_ms (else left) */
	char *out;			/* NULL: stdout to /dev/null */
	size_t outlen;
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

/* Read what is there of its stdout (50 ms at most); closed at EOF or
 * when np->out is full. */
static void
notify_read(const struct notify_proc *np, int *fd, size_t *got)
{
	struct pollfd pfd = { *fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, 50) <= 0)
		return;
	n = read(*fd, np->out + *got, np->outlen - 1 - *got);
	if (n > 0)
		*got += (size_t)n;
	np->out[*got] = '\0';
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) ||
	    *got == np->outlen - 1) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * Run np with json on stdin; collect its stdout into np->out (NUL-ended)
 * when asked; wait np->wait_ms at most, then kill its process group.
 * Returns the wait status, or -1 when it could not start (err says why)
 * or ran out of time: killed with its process group when np->kill_late
 * (err "did not finish in N s"), else left to run ("still runs ...").
 */
static int
notify_spawn(struct sess *S, const struct notify_proc *np, const char *json,
    size_t len, char *err, size_t errlen)
{
	struct timespec t0, now;
	int in[2], out[2] = { -1, -1 }, st = 0, ms, reaped = 0;
	size_t got = 0;
	pid_t pid, w = 0;

	if (np->out != NULL)
		np->out[0] = '\0';
	if (pipe2(in, O_CLOEXEC) != 0 || (np->out != NULL &&
	    pipe2(out, O_CLOEXEC) != 0)) {
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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (out[0] >= 0)
			notify_read(np, &out[0], &got);
		else if (!reaped) {
			struct timespec nap = { 0, 50 * 1000 * 1000 };

			nanosleep(&nap, NULL);
		}
		if (!reaped && (w = waitpid(pid, &st, WNOHANG)) != 0)
			reaped = 1;	/* exited, or lost (w < 0) */
		if (reaped && out[0] < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (int)((now.tv_sec - t0.tv_sec) * 1000 +
		    (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms >= np->wait_ms && !np->kill_late) {
			/* notify_command, as ever: not waited for longer */
			if (out[0] >= 0)
				close(out[0]);
			snprintf(err, errlen, "still runs after %d s",
			    np->wait_ms / 1000);
			return (-1);
		}
		if (ms >= np->wait_ms) {
			/* it, and what it started (the mail command) */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			if (!reaped)
				(void)waitpid(pid, &st, 0);
			if (out[0] >= 0)
				close(out[0]);
			snprintf(err, errlen, "did not finish in %d s",
			    np->wait_ms / 1000);
			return (-1);
		}
	}
	if (w < 0) {
		snprintf(err, errlen, "lost: %s", strerror(errno));
		return (-1);
	}
	return (st);
}

/* notify_command, as before: logged only. */
static void
notify_command_run(struct sess *S, const struct state_request *r,
    const char *json, size_t len)
{
	char *const argv[] = { S->pol->notify_command, NULL };
	struct notify_proc np = { "notify_command", argv, NULL,
	    NOTIFY_COMMAND_WAIT_MS, 0, NULL, 0 };
	char err[128];
	int st;

	if ((st = notify_spawn(S, &np, json, len, err, sizeof(err))) < 0)
		log_warn("notify_command %s: %s (request %lld); not waiting "
		    "for it", argv[0], err, (long long)r->id);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		log_warn("notify_command %s failed (%s %d) for request %lld",
		    argv[0], WIFEXITED(st) ? "exit status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
		    (long long)r->id);
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
	ARG2("--console-url", n->console_url);
	ARG2("--ssh-host", n->ssh_host);
	if (S->pol->nlisten > 0)
		ARG2("--ssh-port", port);
	ARG2("--grant", grant);
	ARG2("--deadline", NOTIFY_HELPER_DEADLINE);
#undef ARG2
	argv[k] = NULL;
	return (k);
}

static void
notify_audit(struct sess *S, const char *idstr, const char *kind,
    const char *reason)
{
	if (reason == NULL) {
		audit_ev(BEV_NOTIFY_SENT, "session", S->sid, "request", idstr,
		    "kind", kind, NULL);
		return;
	}
	log_warn("bastion-notify: request %s: %s: %s", idstr, kind, reason);
	audit_ev(BEV_NOTIFY_FAILED, "session", S->sid, "request", idstr,
	    "kind", kind, "reason", reason, NULL);
}

/*
 * Read bastion-notify's result lines. Only the kinds configured count;
 * a kind that reported nothing failed with why (its exit, or silence).
 */
static void
notify_results(struct sess *S, const char *idstr, char *out,
    const char *none)
{
	const struct policy_notify *n = &S->pol->notify;
	const char *kinds[2] = { n->mail_command ? "mail" : NULL,
	    n->webhook_url ? "webhook" : NULL };
	int told[2] = { 0, 0 }, i, sent;
	char *line, *save = NULL, *kind, *why;
	char clean[200];

	for (line = strtok_r(out, "\n", &save); line != NULL;
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
			notify_audit(S, idstr, kinds[i], sent ? NULL :
			    (*clean ? clean : "no reason given"));
		}
	}
	for (i = 0; i < 2; i++)
		if (kinds[i] != NULL && !told[i]) {
			log_clean(clean, sizeof(clean), none);
			notify_audit(S, idstr, kinds[i], clean);
		}
}

/* bastion-notify, beside bastiond; as its own user; audited. */
static void
notify_helper_run(struct sess *S, const struct state_request *r,
    const char *json, size_t len)
{
	char self[PATH_MAX], bin[PATH_MAX + 32], grant[32], port[8];
	char *argv[NOTIFY_ARGS_MAX], out[NOTIFY_OUT_MAX], err[160], *slash;
	char idstr[32], why[200];
	struct notify_proc np = { "bastion-notify", argv, NOTIFY_HELPER_USER,
	    NOTIFY_HELPER_WAIT_MS, 1, out, sizeof(out) };
	ssize_t n;
	int st;

	out[0] = '\0';
	snprintf(idstr, sizeof(idstr), "%lld", (long long)r->id);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		notify_results(S, idstr, out, "cannot find bastion-notify");
		return;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, sizeof(bin), "%s/bastion-notify", self);
	notify_grant(S, grant, sizeof(grant));
	snprintf(port, sizeof(port), "%u", S->pol->nlisten > 0 ?
	    (unsigned)S->pol->listen[0].port : 22u);
	notify_args(S, bin, grant, port, argv);
	if ((st = notify_spawn(S, &np, json, len, err, sizeof(err))) < 0) {
		/* what it said before the kill counts; the rest failed */
		snprintf(why, sizeof(why), "bastion-notify %s", err);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(why, sizeof(why), "cannot run %.150s", bin);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		snprintf(why, sizeof(why), "cannot become %s or worker_user",
		    NOTIFY_HELPER_USER);
	else if (WIFEXITED(st))
		snprintf(why, sizeof(why), "bastion-notify exited with status "
		    "%d and said nothing", WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "bastion-notify was killed by "
		    "signal %d", WTERMSIG(st));
	notify_results(S, idstr, out, why);
}

void
approval_notify(struct sess *S, const struct state_request *r)
{
	char *json = NULL;
	size_t len = 0;
	FILE *f;

	if ((S->pol->notify_command == NULL || *S->pol->notify_command ==
	    '\0') && !S->pol->notify.set)
		return;
	if ((f = open_memstream(&json, &len)) == NULL)
		return;
	appr_request_json(f, r);
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(json);
		return;
	}
	if (S->pol->notify_command != NULL && *S->pol->notify_command != '\0')
		notify_command_run(S, r, json, len);
	if (S->pol->notify.set)
		notify_helper_run(S, r, json, len);
	free(json);
}
