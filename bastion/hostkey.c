/*
 * hostkey.c - `bastiond --init`: create the bastion's missing host keys.
 *
 * Keys are Ed25519 (the only host key algorithm offered), written 0600 in
 * OpenSSH format with the public half beside them as FILE.pub. Existing
 * keys are never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "bastiond.h"
#include "err.h"
#include "log.h"

/* mkdir -p for the directory part of path, mode 0700 for new parts. */
static int
hostkey_mkdirs(const char *path)
{
	char tmp[4096], *p;

	if (strlen(path) >= sizeof(tmp))
		return (BERR_LIMIT);
	strcpy(tmp, path);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return (BERR_SYS);
		*p = '/';
	}
	return (0);
}

static int
hostkey_create(const char *path)
{
	ssh_key key = NULL;
	char pub[4096], *b64 = NULL;
	FILE *f = NULL;
	int fd, r = BERR_CRYPTO;

	if ((r = hostkey_mkdirs(path)) != 0) {
		log_error("cannot create the directory for %s: %s", path,
		    strerror(errno));
		return (r);
	}
	r = BERR_CRYPTO;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		goto out;
	/* create the file ourselves so it is never world-readable */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1) {
		log_error("cannot create %s: %s", path, strerror(errno));
		r = BERR_SYS;
		goto out;
	}
	close(fd);
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) !=
	    SSH_OK) {
		unlink(path);
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		goto out;
	snprintf(pub, sizeof(pub), "%s.pub", path);
	if ((f = fopen(pub, "w")) == NULL) {
		r = BERR_SYS;
		goto out;
	}
	fprintf(f, "ssh-ed25519 %s bastion\n", b64);
	if (fclose(f) != 0) {
		f = NULL;
		r = BERR_SYS;
		goto out;
	}
	f = NULL;
	printf("created host key %s (public key in %s)\n", path, pub);
	r = 0;
out:
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return (r);
}

int
hostkey_init(const struct policy *pol)
{
	size_t i;
	int r;

	for (i = 0; i < pol->nhost_keys; i++) {
		if (access(pol->host_keys[i], F_OK) == 0)
			continue;
		if ((r = hostkey_create(pol->host_keys[i])) != 0)
			return (r);
	}
	return (0);
}
