/*
 * recsandbox.h - bastion-recorder's own system call filter (base/scfilter.h),
 * installed by the recorder's main once its key is loaded, its socket
 * listens and its signals are set up, before it accepts its first
 * connection: the process that parses every frame of a possibly
 * compromised session child, and holds the signing key, is confined
 * whoever started it (systemd, bastiond, a hand), not only by its unit's
 * SystemCallFilter=. recsandbox.c lists what it may do and why.
 */
#ifndef BASTION_RECSANDBOX_H
#define BASTION_RECSANDBOX_H

/* What the filter must allow beyond the recording itself. */
struct rec_sandbox_opts {
	/* -a STATE_DIR: audit events go to the chain through the store
	 * actor's socket (STATE_DIR/store.sock), connected on the first
	 * event and again after the listener restarted */
	int store_socket;
};

/*
 * Install the filter into the calling process (it must have no thread
 * yet; libuv's pool starts later). 0, or BERR_SYS (logged: the kernel's
 * seccomp() refused, under systemd a unit without "seccomp" in its
 * SystemCallFilter=): the recorder then does not start.
 */
int rec_sandbox(const struct rec_sandbox_opts *o);

#endif
