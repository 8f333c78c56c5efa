/*
 * pam_acct - drive a PAM module's account and session parts through the
 * real libpam, for the end-to-end tests of pam_bastion.so.
 *
 *   pam_acct [-r RHOST] [-t TTY] [-l LOGFILE] CONFDIR SERVICE USER STEP...
 *	STEP is acct (pam_acct_mgmt), open (pam_open_session) or close
 *	(pam_close_session), run in order on one PAM handle made with
 *	pam_start_confdir(SERVICE, USER, CONFDIR): the service file is
 *	CONFDIR/SERVICE, never /etc/pam.d. Prints "STEP OK" or
 *	"STEP FAIL <code> <pam_strerror>" per step; exits 0 when every step
 *	succeeded, 1 otherwise, 2 on usage errors. No authentication runs.
 *
 *   pam_acct --lock STATE_DIR FINGERPRINT ENGINEER REASON
 *	Lock a key in the state store through store/state.h, as bastiond
 *	does on a counter regression. Exits 0 or 1.
 *
 * What the module sends to syslog is caught here instead: this program
 * defines syslog(), vsyslog() and their _FORTIFY_SOURCE twins, which the
 * dynamic linker prefers to glibc's for every library in the process,
 * libpam's pam_syslog() included. Each message is appended to LOGFILE (or
 * stderr) as "<priority> message". The test machine needs no syslog
 * daemon and nothing on the system is touched.
 */
#undef _FORTIFY_SOURCE	/* we define syslog() ourselves, see above */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "err.h"
#include "log.h"
#include "state.h"

static FILE *pam_acct_log;

/* The conversation: the account and session parts should not ask. */
static int
pam_acct_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *appdata)
{
	int i;

	(void)appdata;
	*resp = NULL;
	for (i = 0; i < n; i++)
		fprintf(stderr, "pam_acct: module said (style %d): %s\n",
		    msg[i]->msg_style, msg[i]->msg != NULL ? msg[i]->msg : "");
	return (PAM_CONV_ERR);
}

/* ---- syslog capture --------------------------------------------------- */

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);
void __syslog_chk(int pri, int flag, const char *fmt, ...);

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	FILE *f = pam_acct_log != NULL ? pam_acct_log : stderr;

	fprintf(f, "<%d> ", pri);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void
syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	vsyslog(pri, fmt, ap);
}

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

/* ---- main ------------------------------------------------------------- */

static int
pam_acct_usage(void)
{
	fprintf(stderr, "usage: pam_acct [-r RHOST] [-t TTY] [-l LOGFILE] "
	    "CONFDIR SERVICE USER {acct|open|close}...\n"
	    "       pam_acct --lock STATE_DIR FINGERPRINT ENGINEER REASON\n");
	return (2);
}

static int
pam_acct_lock(int argc, char **argv)
{
	struct state *st = NULL;
	int r;

	if (argc != 6)
		return (pam_acct_usage());
	log_init("pam_acct", 0, LOG_LVL_INFO);
	if ((r = state_open(argv[2], &st)) != 0 ||
	    (r = state_key_lock(st, argv[3], argv[4], argv[5])) != 0) {
		fprintf(stderr, "pam_acct: cannot lock %s in %s: %s\n", argv[3],
		    argv[2], berr_str(r));
		state_close(st);
		return (1);
	}
	state_close(st);
	return (0);
}

int
main(int argc, char **argv)
{
	struct pam_conv conv = { pam_acct_conv, NULL };
	pam_handle_t *pamh = NULL;
	const char *rhost = NULL, *tty = NULL;
	int ch, i, r = PAM_SUCCESS, rc = 0;

	if (argc > 1 && strcmp(argv[1], "--lock") == 0)
		return (pam_acct_lock(argc, argv));
	while ((ch = getopt(argc, argv, "+r:t:l:")) != -1) {
		switch (ch) {
		case 'r':
			rhost = optarg;
			break;
		case 't':
			tty = optarg;
			break;
		case 'l':
			if ((pam_acct_log = fopen(optarg, "a")) == NULL) {
				perror(optarg);
				return (2);
			}
			break;
		default:
			return (pam_acct_usage());
		}
	}
	if (argc - optind < 4)
		return (pam_acct_usage());
	if ((r = pam_start_confdir(argv[optind + 1], argv[optind + 2], &conv,
	    argv[optind], &pamh)) != PAM_SUCCESS) {
		printf("start FAIL %d %s\n", r, pam_strerror(pamh, r));
		return (1);
	}
	if ((rhost != NULL && pam_set_item(pamh, PAM_RHOST, rhost) !=
	    PAM_SUCCESS) ||
	    (tty != NULL && pam_set_item(pamh, PAM_TTY, tty) != PAM_SUCCESS)) {
		printf("start FAIL set_item\n");
		pam_end(pamh, PAM_SYSTEM_ERR);
		return (1);
	}
	for (i = optind + 3; i < argc; i++) {
		if (strcmp(argv[i], "acct") == 0)
			r = pam_acct_mgmt(pamh, 0);
		else if (strcmp(argv[i], "open") == 0)
			r = pam_open_session(pamh, 0);
		else if (strcmp(argv[i], "close") == 0)
			r = pam_close_session(pamh, 0);
		else {
			pam_end(pamh, PAM_SUCCESS);
			return (pam_acct_usage());
		}
		if (r == PAM_SUCCESS)
			printf("%s OK\n", argv[i]);
		else {
			printf("%s FAIL %d %s\n", argv[i], r,
			    pam_strerror(pamh, r));
			rc = 1;
		}
		fflush(stdout);
	}
	pam_end(pamh, r);
	if (pam_acct_log != NULL)
		fclose(pam_acct_log);
	return (rc);
}
