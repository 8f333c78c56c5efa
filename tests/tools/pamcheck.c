/*
 * pamcheck - run one PAM authentication, for the end-to-end tests.
 *
 *   printf '%s\n' SECRET | pamcheck SERVICE USER
 *
 * Reads the secret from standard input (one line; the trailing newline is
 * dropped), then runs pam_start(SERVICE, USER), pam_authenticate() and
 * pam_acct_mgmt() with a conversation that answers the echo-off prompt
 * (the password prompt) with that secret. Prints "OK" and exits 0, or
 * prints "FAIL: <pam_strerror>" and exits 1; usage errors exit 2.
 *
 * The tests run it under pam_wrapper (LD_PRELOAD=libpam_wrapper.so,
 * PAM_WRAPPER=1, PAM_WRAPPER_SERVICE_DIR=...) with pam_matrix as the
 * backend, and once without the wrapper to prove that the system's PAM
 * stack is not what answers. It never prints the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define PAMCHECK_MAX_SECRET	1024

struct pamcheck_ctx {
	const char *secret;
};

/*
 * PAM conversation: answer echo-off prompts with the secret; show info and
 * error messages on stderr; refuse echo-on prompts (nothing in the bastion
 * stack should ask for a visible answer). On failure everything allocated
 * here is freed and PAM_CONV_ERR is returned, as PAM expects.
 */
static int
pamcheck_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *appdata)
{
	struct pamcheck_ctx *ctx = appdata;
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if ((r[i].resp = strdup(ctx->secret)) == NULL)
				goto fail;
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			fprintf(stderr, "pamcheck: pam says: %s\n",
			    msg[i]->msg != NULL ? msg[i]->msg : "");
			break;
		default:
			fprintf(stderr, "pamcheck: unexpected prompt style %d: "
			    "%s\n", msg[i]->msg_style,
			    msg[i]->msg != NULL ? msg[i]->msg : "");
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++) {
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
	return PAM_CONV_ERR;
}

int
main(int argc, char **argv)
{
	char secret[PAMCHECK_MAX_SECRET + 2];
	struct pamcheck_ctx ctx = { secret };
	struct pam_conv conv = { pamcheck_conv, &ctx };
	pam_handle_t *pamh = NULL;
	size_t len;
	int r, rc = 1;

	if (argc != 3 || argv[1][0] == '\0' || argv[2][0] == '\0') {
		fprintf(stderr, "usage: pamcheck SERVICE USER  "
		    "(secret on standard input)\n");
		return 2;
	}
	if (fgets(secret, sizeof(secret), stdin) == NULL)
		secret[0] = '\0';
	len = strcspn(secret, "\n");
	if (len > PAMCHECK_MAX_SECRET) {
		fprintf(stderr, "pamcheck: secret longer than %d bytes\n",
		    PAMCHECK_MAX_SECRET);
		explicit_bzero(secret, sizeof(secret));
		return 2;
	}
	secret[len] = '\0';

	if ((r = pam_start(argv[1], argv[2], &conv, &pamh)) != PAM_SUCCESS) {
		/* pam_strerror tolerates a NULL handle in Linux-PAM. */
		printf("FAIL: %s\n", pam_strerror(pamh, r));
		pamh = NULL;
		goto out;
	}
	if ((r = pam_authenticate(pamh, PAM_SILENT)) != PAM_SUCCESS ||
	    (r = pam_acct_mgmt(pamh, PAM_SILENT)) != PAM_SUCCESS) {
		printf("FAIL: %s\n", pam_strerror(pamh, r));
		goto out;
	}
	printf("OK\n");
	rc = 0;
out:
	if (pamh != NULL)
		pam_end(pamh, r);
	explicit_bzero(secret, sizeof(secret));
	fflush(stdout);
	return rc;
}
