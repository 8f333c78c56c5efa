/*
 * device.c - connect to a device as the bastion, with the pinned host key.
 *
 * The connection is made from the worker after authentication, with a
 * bounded timeout; one worker serves one vendor connection, so waiting here
 * delays nobody else. The client never reads ~/.ssh/config or known_hosts:
 * the policy alone says where the device is and which key it must show.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "err.h"
#include "log.h"

void
device_fingerprint(ssh_key key, char *out, size_t len)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(out, len, "?");
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != SSH_OK)
		return;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
	    hlen)) != NULL) {
		snprintf(out, len, "%s", fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
}

/* Parse "type base64 [comment]" into a key. */
static int
device_pinned_key(const char *line, ssh_key *out)
{
	char type[128], b64[8192];

	*out = NULL;
	if (sscanf(line, "%127s %8191s", type, b64) != 2)
		return (BERR_FORMAT);
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
	    out) != SSH_OK)
		return (BERR_FORMAT);
	return (0);
}

int
device_connect(const struct policy_device *dev, unsigned timeout_s,
    struct device_conn *dc, char *why, size_t whylen)
{
	ssh_session s = NULL;
	ssh_key pinned = NULL, shown = NULL, cred = NULL;
	char addr[64], fp_pinned[128], fp_shown[128];
	long timeout = (long)timeout_s;
	int port = dev->port, no = 0, r = BERR_CONNECT;
	const char *hk_type;

	memset(dc, 0, sizeof(*dc));
	netaddr_str(&dev->addr, addr, sizeof(addr));
	if (device_pinned_key(dev->host_key, &pinned) != 0) {
		snprintf(why, whylen, "the pinned host key of %s is invalid",
		    dev->name);
		r = BERR_HOSTKEY;
		goto out;
	}
	hk_type = ssh_key_type_to_char(ssh_key_type(pinned));
	if ((s = ssh_new()) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, addr) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, dev->login) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, hk_type) != 0) {
		snprintf(why, whylen, "internal error setting up the "
		    "connection to %s", dev->name);
		r = BERR_SSH;
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		snprintf(why, whylen, "cannot reach %s at %s port %d: %s",
		    dev->name, addr, port, ssh_get_error(s));
		r = BERR_CONNECT;
		goto out;
	}
	if (ssh_get_server_publickey(s, &shown) != SSH_OK) {
		snprintf(why, whylen, "%s did not show a host key", dev->name);
		r = BERR_HOSTKEY;
		goto out;
	}
	if (ssh_key_cmp(shown, pinned, SSH_KEY_CMP_PUBLIC) != 0) {
		device_fingerprint(pinned, fp_pinned, sizeof(fp_pinned));
		device_fingerprint(shown, fp_shown, sizeof(fp_shown));
		snprintf(why, whylen, "the host key of %s (%s) does not match "
		    "the key pinned in the policy: expected %s, got %s. "
		    "The connection was refused; tell the hospital's admin",
		    dev->name, addr, fp_pinned, fp_shown);
		log_warn("device %s host key mismatch: pinned %s shown %s",
		    dev->name, fp_pinned, fp_shown);
		r = BERR_HOSTKEY;
		goto out;
	}
	if (ssh_pki_import_privkey_file(dev->credential, NULL, NULL, NULL,
	    &cred) != SSH_OK) {
		snprintf(why, whylen, "the bastion's credential for %s "
		    "cannot be read; tell the hospital's admin", dev->name);
		log_error("cannot read credential %s for device %s",
		    dev->credential, dev->name);
		r = BERR_AUTH;
		goto out;
	}
	if (ssh_userauth_publickey(s, NULL, cred) != SSH_AUTH_SUCCESS) {
		snprintf(why, whylen, "%s refused the bastion's credential "
		    "for login %s; tell the hospital's admin", dev->name,
		    dev->login);
		r = BERR_AUTH;
		goto out;
	}
	dc->s = s;
	dc->dev = dev;
	s = NULL;
	r = 0;
out:
	ssh_key_free(cred);
	ssh_key_free(shown);
	ssh_key_free(pinned);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	return (r);
}

void
device_disconnect(struct device_conn *dc)
{
	if (dc->s != NULL) {
		ssh_disconnect(dc->s);
		ssh_free(dc->s);
	}
	dc->s = NULL;
}
