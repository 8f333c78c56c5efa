/*
 * device.h - the bastion's SSH client connection to a hospital device.
 *
 * The bastion authenticates with its own credential for the device (the
 * vendor never sees it) and accepts the device only if its host key equals
 * the key pinned in the policy.
 */
#ifndef BASTION_DEVICE_H
#define BASTION_DEVICE_H

#include <libssh/libssh.h>

#include "policy.h"

struct device_conn {
	ssh_session s;
	const struct policy_device *dev;
};

/*
 * Connect to dev, verify its pinned host key and authenticate. On success
 * returns 0 and fills *dc (the session is left in blocking mode). On failure
 * returns BERR_CONNECT, BERR_HOSTKEY, BERR_AUTH, ... and writes a sentence
 * for the engineer into why.
 */
int device_connect(const struct policy_device *dev, unsigned timeout_s,
    struct device_conn *dc, char *why, size_t whylen);
void device_disconnect(struct device_conn *dc);

/* "SHA256:..." fingerprint of key into out ("?" on failure). */
void device_fingerprint(ssh_key key, char *out, size_t len);

#endif
