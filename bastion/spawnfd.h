/*
 * spawnfd.h - the standard descriptors of a process bastiond starts with
 * uv_spawn(): the recorder, a session worker, a control worker.
 *
 * Each gets the same start: nothing on stdin, stdout and stderr both our
 * stderr (so its log lines reach the journal with ours), every other slot
 * closed until a caller gives it a descriptor (the client's socket, the
 * control pipe, the adopted policy: bastiond.h's WORKER_FD_*).
 */
#ifndef BASTION_SPAWNFD_H
#define BASTION_SPAWNFD_H

#include <stddef.h>

#include <uv.h>

/* Fill stdio[0..n-1] (n >= 3) as said above. */
void spawnfd_init(uv_stdio_container_t *stdio, size_t n);

/* Give slot i the descriptor fd, inherited as it is. */
void spawnfd_set(uv_stdio_container_t *stdio, size_t i, int fd);

/*
 * Start bastiond itself (self) as a helper of the listener: argv
 * "self mode arg -f policy_path [--policy-fd N] [-d]", descriptors as
 * above with client_fd (-1: none) in WORKER_FD_CLIENT and policy_fd (-1:
 * none; the adopted policy, as session workers get it) in
 * WORKER_FD_POLICY. uv_spawn's result: on failure proc must still be
 * closed (uv_close), as libuv linked it.
 */
int spawnfd_bastiond(uv_loop_t *loop, uv_process_t *proc, uv_exit_cb exit_cb,
    const char *self, const char *mode, const char *arg,
    const char *policy_path, int policy_fd, int debug, int client_fd);

#endif
