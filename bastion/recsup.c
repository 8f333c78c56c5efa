/*
 * recsup.c - the listener's supervision of bastion-recorder, the only
 * writer of recordings and holder of their signing key
 * (docs/ARCHITECTURE.md, "Recording (fail closed)").
 *
 * Without paths.recorder_socket, bastiond starts the recorder (the binary
 * beside it) as its child with the key in state_dir, restarts it when it
 * dies (recorder.exit in the audit chain; sessions fail closed
 * meanwhile), and does not serve until its socket is up. With it, the
 * recorder is a service of its own and the listener only waits for its
 * socket. --init creates the key (recorder_init_key).
 */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <uv.h>

#include "bastiond.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "spawnfd.h"

extern char **environ;

int
recorder_paths(const struct policy *pol, char *bin, size_t binlen,
    char *key, size_t keylen, char *sock, size_t socklen)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return (BERR_SYS);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(bin, binlen, "%s/bastion-recorder", self);
	snprintf(key, keylen, "%s/recorder.key", pol->state_dir);
	snprintf(sock, socklen, "%s", pol->recorder_socket);
	return (0);
}

int
recorder_init_key(const struct policy *pol)
{
	char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];
	char *argv[] = { bin, "--init", "-k", key, NULL };
	pid_t pid;
	int st;

	if (recorder_paths(pol, bin, sizeof(bin), key, sizeof(key), sock,
	    sizeof(sock)) != 0)
		return (BERR_SYS);
	if (pol->recorder_external) {
		printf("%s: paths.recorder_socket is set: the recording "
		    "signing key belongs to the recorder service; create it as "
		    "its user with bastion-recorder --init -k KEYFILE "
		    "(bastion-recorder(8), docs/OPERATIONS.md)\n", pol->path);
		return (0);
	}
	if (access(key, F_OK) == 0)
		return (0);
	(void)mkdir(pol->state_dir, 0700);
	if (posix_spawn(&pid, bin, NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		log_error("cannot create the recording signing key %s with %s",
		    key, bin);
		return (BERR_SYS);
	}
	return (0);
}

static void
recorder_restart_cb(uv_timer_t *t)
{
	recsup_start(t->data);
}

static void
recorder_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct listener *L = p->data;

	L->recorder_running = 0;
	uv_close((uv_handle_t *)p, NULL);
	if (L->stopping)
		return;
	/* sessions fail closed meanwhile; bring it back */
	log_error("bastion-recorder exited (status %lld, signal %d); "
	    "restarting it", (long long)status, sig);
	audit_ev(BEV_RECORDER_EXIT, "status", sig ? "signal" : "exit", NULL);
	uv_timer_start(&L->recorder_restart, recorder_restart_cb, 1000, 0);
}

void
recsup_start(struct listener *L)
{
	char key[PATH_MAX], sock[PATH_MAX], minfree[24];
	/* the fixed options, then -r RECIPIENT for each (policy recordings:) */
	char *args[14 + 2 * POLICY_MAX_REC_RECIPIENTS];
	size_t i;
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	int r, n = 0;

	if (recorder_paths(L->boot, L->recorder_bin, sizeof(L->recorder_bin),
	    key, sizeof(key), sock, sizeof(sock)) != 0)
		return;
	snprintf(minfree, sizeof(minfree), "%u",
	    L->boot->recording_min_free_mb);
	args[n++] = L->recorder_bin;
	args[n++] = "-k";
	args[n++] = key;
	args[n++] = "-d";
	args[n++] = L->boot->recordings_dir;
	args[n++] = "-s";
	args[n++] = sock;
	args[n++] = "-m";
	args[n++] = minfree;
	args[n++] = "-a";	/* its events join the audit chain */
	args[n++] = L->boot->state_dir;
	for (i = 0; i < L->boot->nrec_recipients &&
	    i < POLICY_MAX_REC_RECIPIENTS; i++) {
		args[n++] = "-r";
		args[n++] = L->boot->rec_recipients[i];
	}
	args[n++] = "-D";
	args[n] = NULL;
	memset(&o, 0, sizeof(o));
	spawnfd_init(stdio, 3);
	o.file = L->recorder_bin;
	o.args = args;
	o.exit_cb = recorder_exit_cb;
	o.stdio = stdio;
	o.stdio_count = 3;
	L->recorder.data = L;
	if ((r = uv_spawn(L->loop, &L->recorder, &o)) != 0) {
		log_error("cannot start %s: %s", L->recorder_bin,
		    uv_strerror(r));
		/* the failed spawn left the handle linked: close it before
		 * the retry spawns on it again */
		uv_close((uv_handle_t *)&L->recorder, NULL);
		uv_timer_start(&L->recorder_restart, recorder_restart_cb, 5000,
		    0);
		return;
	}
	L->recorder_running = 1;
}

/* 1 if something accepts connections on the Unix socket path. */
static int
recorder_answers(const char *path)
{
	struct sockaddr_un sun;
	int fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	memcpy(sun.sun_path, path, strlen(path));
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return (ok);
}

/*
 * Wait (before serving) until the recorder's socket accepts: the one we
 * started, or the external recorder of paths.recorder_socket (its own
 * service, started before us).
 */
int
recsup_wait(struct listener *L)
{
	char bin[PATH_MAX], key[PATH_MAX], sock[PATH_MAX];
	int i;

	recorder_paths(L->boot, bin, sizeof(bin), key, sizeof(key), sock,
	    sizeof(sock));
	if (L->boot->recorder_external) {
		for (i = 0; i < 100; i++) {
			if (recorder_answers(sock))
				return (0);
			usleep(100000);
		}
		log_error("no recorder answers on %s (paths.recorder_socket "
		    "of %s): start it (systemctl start bastion-recorder) or "
		    "remove recorder_socket so that bastiond starts its own; "
		    "sessions cannot be recorded, so bastiond will not serve",
		    sock, L->policy_path);
		return (BERR_SYS);
	}
	for (i = 0; i < 200; i++) {
		struct stat st;

		uv_run(L->loop, UV_RUN_NOWAIT);
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return (0);
		if (!L->recorder_running && i > 0)
			break;
		usleep(50000);
	}
	log_error("bastion-recorder did not start (socket %s); sessions "
	    "cannot be recorded, so bastiond will not serve", sock);
	return (BERR_SYS);
}
