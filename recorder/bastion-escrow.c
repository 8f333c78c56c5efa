/*
 * bastion-escrow.c - keep the escrow key of encrypted recordings k-of-n
 * (docs/RECORDING-FORMAT.md, section 13.5).
 *
 *   bastion-escrow split -k K -n N IDENTITY_FILE
 *   bastion-escrow combine [SHARES_FILE...]
 *
 * split reads the escrow recipient's age identity (age-keygen's file) and
 * prints N shares, one line each (BASTION-SHARE-1..., Bech32 with a
 * checksum: a typo is caught, not silently wrong), any K of which put it
 * back together; print each on its own sheet for the safe, and destroy the
 * identity file. combine reads shares (lines, '#' comments allowed) from
 * the files given or from standard input and writes the identity file to
 * standard output, for bastion-replay --identity or `age -d -i`; it checks
 * that the shares belong together and that the key they make is the one
 * they were split from. Secrets are wiped from memory before exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "age.h"
#include "err.h"
#include "log.h"
#include "prog.h"
#include "shamir.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastion-escrow split -k K -n N IDENTITY_FILE\n"
	    "       bastion-escrow combine [SHARES_FILE...]\n"
	    "  split    print N shares of the age identity, any K of which "
	    "recover it\n"
	    "           (2 <= K <= N <= 255)\n"
	    "  combine  read shares (one a line) and print the identity file\n");
}

static int
split(int argc, char **argv)
{
	static const struct option longopts[] = { PROG_OPTS_END };
	static const struct prog prog = { "k:n:h", longopts, usage, 3, 1, 1 };
	struct shamir_share *sh = NULL;
	uint8_t sec[1][AGE_KEY_LEN], pub[AGE_KEY_LEN], id[SHAMIR_SET_ID_LEN];
	char txt[SHAMIR_SHARE_STR], rc_str[AGE_STR_MAX], *end;
	unsigned long k = 0, n = 0;
	size_t nk = 0, i;
	unsigned bad = 0;
	int ch, rc;

	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		if (ch == 'k' || ch == 'n') {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v > 255)
				return (prog_usage(&prog));
			*(ch == 'k' ? &k : &n) = v;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	if (k < 2 || n < k || n > SHAMIR_MAX_SHARES) {
		fprintf(stderr, "bastion-escrow: give -k K -n N with 2 <= K <= "
		    "N <= 255\n");
		return (3);
	}
	if ((rc = age_identity_file_read(argv[optind], sec, 1, &nk, &bad)) !=
	    0) {
		fprintf(stderr, "bastion-escrow: %s: %s\n", argv[optind],
		    rc == BERR_SYS ? strerror(errno) : rc == BERR_LIMIT ?
		    "holds more than one key: split one at a time" :
		    "holds no age secret key (AGE-SECRET-KEY-1...)");
		return (1);
	}
	rc = 1;
	if ((sh = calloc(n, sizeof(*sh))) == NULL ||
	    shamir_set_id(sec[0], id) != 0 ||
	    age_identity_public(sec[0], pub) != 0 ||
	    age_recipient_encode(pub, rc_str, sizeof(rc_str)) != 0 ||
	    shamir_split(sec[0], (unsigned)k, (unsigned)n, id, sh) != 0) {
		fprintf(stderr, "bastion-escrow: cannot split the key\n");
		goto out;
	}
	printf("# escrow key %s: %lu shares, any %lu recover it\n", rc_str,
	    n, k);
	for (i = 0; i < n; i++) {
		if (shamir_share_encode(&sh[i], txt, sizeof(txt)) != 0)
			goto out;
		printf("%s\n", txt);
		OPENSSL_cleanse(txt, sizeof(txt));
	}
	rc = 0;
 out:
	OPENSSL_cleanse(sec, sizeof(sec));
	if (sh != NULL)
		OPENSSL_clear_free(sh, n * sizeof(*sh));
	return (rc);
}

/* Shares from fp (lines; blank and '#' lines skipped) into sh[*n...]. */
static int
read_shares(FILE *fp, const char *name, struct shamir_share *sh, size_t *n)
{
	char line[512];
	size_t len, lineno = 0;

	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (*n >= SHAMIR_MAX_SHARES) {
			fprintf(stderr, "bastion-escrow: more than %d shares\n",
			    SHAMIR_MAX_SHARES);
			return (-1);
		}
		if (shamir_share_decode(line, &sh[*n]) != 0) {
			fprintf(stderr, "bastion-escrow: %s:%zu: not a share "
			    "(mistyped? each share carries a checksum)\n",
			    name, lineno);
			OPENSSL_cleanse(line, sizeof(line));
			return (-1);
		}
		(*n)++;
	}
	OPENSSL_cleanse(line, sizeof(line));
	return (0);
}

static int
combine(int argc, char **argv)
{
	static struct shamir_share sh[SHAMIR_MAX_SHARES];
	uint8_t sec[AGE_KEY_LEN], pub[AGE_KEY_LEN], id[SHAMIR_SET_ID_LEN];
	char why[256], out[AGE_STR_MAX], rcpt[AGE_STR_MAX];
	size_t n = 0;
	FILE *fp;
	int i, rc = 1;

	if (argc <= 1 && read_shares(stdin, "stdin", sh, &n) != 0)
		goto out;
	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "re")) == NULL) {
			fprintf(stderr, "bastion-escrow: %s: %s\n", argv[i],
			    strerror(errno));
			goto out;
		}
		if (read_shares(fp, argv[i], sh, &n) != 0) {
			fclose(fp);
			goto out;
		}
		fclose(fp);
	}
	if (shamir_combine(sh, n, sec, why, sizeof(why)) != 0) {
		fprintf(stderr, "bastion-escrow: %s\n", why);
		goto out;
	}
	if (shamir_set_id(sec, id) != 0 ||
	    memcmp(id, sh[0].set_id, sizeof(id)) != 0) {
		fprintf(stderr, "bastion-escrow: the shares do not make the key "
		    "they were split from: one is damaged or from another "
		    "split\n");
		goto out;
	}
	if (age_identity_public(sec, pub) != 0 ||
	    age_recipient_encode(pub, rcpt, sizeof(rcpt)) != 0 ||
	    age_identity_encode(sec, out, sizeof(out)) != 0)
		goto out;
	printf("# escrow key put back together from %zu shares\n"
	    "# public key: %s\n%s\n", n, rcpt, out);
	rc = 0;
 out:
	OPENSSL_cleanse(sec, sizeof(sec));
	OPENSSL_cleanse(out, sizeof(out));
	OPENSSL_cleanse(sh, sizeof(sh));
	return (rc);
}

int
main(int argc, char **argv)
{
	log_init("bastion-escrow", 0, LOG_LVL_WARN);
	if (argc >= 2 && strcmp(argv[1], "split") == 0)
		return (split(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "combine") == 0)
		return (combine(argc - 1, argv + 1));
	usage(argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) ? stdout : stderr);
	return (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) ? 0 : 3);
}
