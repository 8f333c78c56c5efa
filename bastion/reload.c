/*
 * reload.c - SIGHUP: the policy read and validated again (docs/
 * OPERATIONS.md). A valid file is adopted for new connections, whose
 * workers get its text on a sealed descriptor rather than reading the
 * file; a broken one is refused with its problems logged
 * (policy.reload_failed), and the policy in force stays. What cannot
 * change while bastiond runs (paths, admin_group) refuses the reload;
 * new listen addresses wait for a restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "hex.h"
#include "listener.h"
#include "log.h"

/*
 * The adopted policy's text in a sealed memfd. Every worker gets it as
 * fd WORKER_FD_POLICY (bastiond --policy-fd) and so runs under exactly
 * the policy the listener validated, never the file as it is on disk now,
 * which an admin may be half-way through editing (sshd hands its
 * re-executed child its configuration the same way). Returns the
 * descriptor (close-on-exec here), or -1 with the reason logged.
 */
int
reload_policy_fd(const struct policy *pol)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("bastion-policy", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		log_error("cannot keep the policy for the session workers "
		    "(memfd_create: %s)", strerror(errno));
		return (-1);
	}
	while (off < pol->textlen) {
		n = write(fd, pol->text + off, pol->textlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("cannot keep the policy for the session "
			    "workers (write: %s)", strerror(errno));
			close(fd);
			return (-1);
		}
		off += (size_t)n;
	}
	/* read-only for good: a worker cannot change what the next reads */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		log_error("cannot seal the policy for the session workers: %s",
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
str_same(const char *a, const char *b)
{
	return ((a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* 1 if both policies listen on the same addresses, in any order (the
 * loader wrote the hosts in one canonical form). */
static int
listen_same(const struct policy *a, const struct policy *b)
{
	size_t i, j;

	if (a->nlisten != b->nlisten)
		return (0);
	for (i = 0; i < a->nlisten; i++) {
		for (j = 0; j < b->nlisten; j++)
			if (a->listen[i].port == b->listen[j].port &&
			    strcmp(a->listen[i].host, b->listen[j].host) == 0)
				break;
		if (j == b->nlisten)
			return (0);
	}
	return (1);
}

/*
 * What a reload cannot change: the paths the listener, the recorder and
 * the control socket work with, the state store, and admin_group (0, or
 * -1 with why: the reload is refused); the listen sockets (a warning:
 * they stay).
 */
static int
reload_fixed(const struct listener *L, const struct policy *np,
    char *why, size_t whylen)
{
	static const struct {
		const char *name;
		size_t off;
	} fixed[] = {
		{ "paths.state_dir", offsetof(struct policy, state_dir) },
		{ "paths.recordings_dir",
		    offsetof(struct policy, recordings_dir) },
		{ "paths.run_dir", offsetof(struct policy, run_dir) },
		{ "paths.recorder_socket",
		    offsetof(struct policy, recorder_socket) },
		{ "admin_group", offsetof(struct policy, admin_group) },
		/* the backend every process opens (docs/SCALE-OUT.md) */
		{ "store.conninfo", offsetof(struct policy, store_conninfo) },
		{ "store.password_file",
		    offsetof(struct policy, store_password_file) },
		{ "store.node", offsetof(struct policy, store_node) },
	};
	const struct policy *b = L->boot;
	size_t i;

	/*
	 * Where the state, the recordings and the sockets live, and who may
	 * use the control socket, are fixed while bastiond runs: the
	 * listener, the recorder and the control socket hold them open. A
	 * policy that changes them is not adopted at all (half the processes
	 * would use the old places, half the new).
	 */
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const char *was = *(char *const *)((const char *)b +
		    fixed[i].off);
		const char *now = *(char *const *)((const char *)np +
		    fixed[i].off);

		if (!str_same(was, now)) {
			snprintf(why, whylen, "%s changed from %s to %s, which "
			    "needs a restart (systemctl restart bastiond; "
			    "running sessions end)", fixed[i].name,
			    was ? was : "-", now ? now : "-");
			return (-1);
		}
	}
	if (!listen_same(b, np))
		log_warn("policy reload: 'listen' changed, but bastiond keeps "
		    "listening where it did until it is restarted (systemctl "
		    "restart bastiond; running sessions end)");
	if (!b->recorder_external &&
	    b->recording_min_free_mb != np->recording_min_free_mb)
		log_warn("policy reload: limits.recording_min_free_mb changed: "
		    "the recorder bastiond started keeps %u MiB until bastiond "
		    "is restarted", b->recording_min_free_mb);
	if (b->store_checkpoint_s != np->store_checkpoint_s ||
	    b->store_lost_after_s != np->store_lost_after_s)
		log_warn("policy reload: store: checkpoint_interval and "
		    "lost_after stay %u s and %u s until bastiond is restarted",
		    b->store_checkpoint_s, b->store_lost_after_s);
	return (0);
}

/* A valid policy that is not adopted all the same: audited with why, a
 * note for STATUS= ("policy reload HOW"), the reload over. */
static void
reload_not_adopted(struct listener *L, struct policy *np, const char *why,
    const char *how)
{
	policy_free(np);
	audit_ev(BEV_POLICY_RELOAD_FAILED, "policy", L->policy_path,
	    "problems", "0", "reason", why, NULL);
	if (strcmp(how, "refused") == 0)
		log_error("policy reload refused: %s; the policy loaded "
		    "before stays in force", why);
	snprintf(L->note, sizeof(L->note), "policy reload %s, the previous "
	    "policy is in force (see the journal)", how);
	listener_status(L);
	sdnotify_ready();
}

/*
 * SIGHUP: read and validate the policy file again. A policy with
 * problems is not adopted: every problem is logged as FILE:LINE: ..., the
 * policy in force stays, and bastiond goes on serving. A valid one becomes
 * the listener's policy at once (pre-authentication limits, the session
 * monitor's checks); running sessions are not touched.
 */
static void
reload_policy(struct listener *L)
{
	struct policy *np = NULL;
	char *errs = NULL, *line, *save = NULL, *first = NULL, hash[65];
	char nerr[24], nv[24], nd[24], fixed[512];
	size_t errlen = 0, nerrs = 0;
	FILE *ef;
	int r, pfd;

	if (L->stopping)
		return;
	log_info("SIGHUP: reloading the policy %s", L->policy_path);
	sdnotify_reloading();
	if ((ef = open_memstream(&errs, &errlen)) == NULL)
		r = BERR_NOMEM;
	else {
		r = policy_load(L->policy_path, ef, &nerrs, &np);
		fclose(ef);
	}
	if (r != 0) {
		/* the same lines as bastiond --check prints */
		for (line = errs != NULL ? strtok_r(errs, "\n", &save) : NULL;
		    line != NULL; line = strtok_r(NULL, "\n", &save)) {
			log_error("%s", line);
			if (first == NULL)
				first = line;
		}
		snprintf(nerr, sizeof(nerr), "%zu", nerrs);
		audit_ev(BEV_POLICY_RELOAD_FAILED, "policy", L->policy_path,
		    "problems", nerr, "reason", first != NULL ? first :
		    berr_str(r), NULL);
		log_error("policy reload failed (%zu problem%s): the policy "
		    "loaded before stays in force; fix %s (bastiond -f %s "
		    "--check) and reload again", nerrs, nerrs == 1 ? "" : "s",
		    L->policy_path, L->policy_path);
		snprintf(L->note, sizeof(L->note), "policy reload failed, "
		    "the previous policy is in force (see the journal)");
		free(errs);
		listener_status(L);
		sdnotify_ready();
		return;
	}
	free(errs);
	if (reload_fixed(L, np, fixed, sizeof(fixed)) != 0) {
		reload_not_adopted(L, np, fixed, "refused");
		return;
	}
	if ((pfd = reload_policy_fd(np)) == -1) {
		reload_not_adopted(L, np, "cannot hand the new policy to the "
		    "session workers", "failed");
		return;
	}
	close(L->policy_fd);
	L->policy_fd = pfd;
	ctlsock_policy_fd(pfd);
	/* nothing keeps pointers into the policy across loop iterations */
	policy_free(L->reloaded);
	L->reloaded = np;
	L->pol = np;
	hex_encode(np->sha256, sizeof(np->sha256), hash);
	snprintf(nv, sizeof(nv), "%zu", np->nvendors);
	snprintf(nd, sizeof(nd), "%zu", np->ndevices);
	audit_ev(BEV_POLICY_RELOADED, "policy", L->policy_path, "sha256",
	    hash, "vendors", nv, "devices", nd, NULL);
	L->note[0] = '\0';
	listener_status(L);
	sdnotify_ready();
}

void
reload_sighup_cb(uv_signal_t *s, int sig)
{
	(void)sig;
	reload_policy(s->data);
}
