/*
 * policy_recordings.c - the policy's "recordings:" section: to whom
 * session recordings are encrypted and whether the bastion itself may
 * ever decrypt them (docs/RECORDING-FORMAT.md, section 13; docs/POLICY.md).
 *
 *	recordings:
 *	  recipients:                 # age public keys (age-keygen -y)
 *	    - age1...                 # an auditor
 *	    - age1...                 # the escrow key (split k-of-n)
 *	  server_unlock: forbid       # or allow (default forbid)
 *	  server_identity: /etc/bastion/recordings.agekey
 *
 * With recipients every recording is written in format 2, encrypted
 * before the first byte reaches the disk. server_unlock: allow lets the
 * auditor console replay encrypted recordings over ssh with the secret
 * key in server_identity (a file only root may read), each time audited;
 * forbid (the default) keeps replay to auditors' own machines. Each
 * recipient is checked as an age X25519 key here, so a typo is a policy
 * error and never a recording nobody can open.
 */
#include <string.h>

#include "bech32.h"
#include "policy.h"
#include "policy_int.h"

static void
parse_recipients(struct pctx *c, const struct ynode *m, const char *what)
{
	const struct ynode *v;
	struct policy *p = c->p;
	uint8_t key[64];
	size_t i, n;
	const char *s;

	if ((v = field(c, m, "recipients", what, NULL)) == NULL ||
	    check_seq(c, v, "recipients", what, 1,
	    "[age1...] (each auditor's age public key, and the escrow "
	    "key)") != 0)
		return;
	if (v->nkid > POLICY_MAX_REC_RECIPIENTS) {
		problem(c, v->line, "%s: %zu recipients, at most %d " DASH
		    " give each auditor's key and one escrow key", what,
		    v->nkid, POLICY_MAX_REC_RECIPIENTS);
		return;
	}
	if ((p->rec_recipients = xcalloc(c, v->nkid, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		if ((s = scalar(c, v->kid[i], "recipients entry", what)) ==
		    NULL)
			continue;
		if (strncmp(s, "age1", 4) != 0 ||
		    bech32_decode(s, "age", key, sizeof(key), &n) != 0 ||
		    n != 32) {
			problem(c, v->kid[i]->line, "%s: recipient \"%.80s\" "
			    "is not an age public key " DASH " write the "
			    "age1... line age-keygen prints (age-keygen -y "
			    "KEYFILE shows it again)", what, s);
			continue;
		}
		p->rec_recipients[p->nrec_recipients++] = xstrdup(c, s);
	}
}

void
parse_recordings(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "recipients", "server_unlock",
	    "server_identity", "store", "s3", "ledger_dir", "interval",
	    "retry", "keep_local", NULL };
	const struct ynode *m, *v;
	struct policy *p = c->p;
	const char *what = "recordings", *s;

	if ((m = field(c, root, "recordings", "the policy", NULL)) == NULL ||
	    check_map(c, m, what, keys, "write recordings: with "
	    "recipients: [age1...] and server_unlock: forbid") != 0)
		return;
	parse_recipients(c, m, what);
	parse_recstore(c, m);
	if ((s = field_scalar(c, m, "server_unlock", what, NULL, &v)) !=
	    NULL) {
		if (strcmp(s, "allow") == 0)
			p->rec_server_unlock = 1;
		else if (strcmp(s, "forbid") != 0)
			problem(c, v->line, "%s: server_unlock is \"%.64s\" "
			    DASH " write forbid (replay only on auditors' "
			    "machines) or allow", what, s);
	}
	if ((v = field(c, m, "server_identity", what, NULL)) != NULL)
		p->rec_server_identity = resolve_path(c, v, "server_identity",
		    what);
	if (p->rec_server_unlock && p->rec_server_identity == NULL)
		problem(c, m->line, "%s: server_unlock: allow needs "
		    "server_identity: FILE " DASH " the age secret key the "
		    "auditor console decrypts with (readable only by root)",
		    what);
	if (p->rec_server_unlock && p->nrec_recipients == 0)
		problem(c, m->line, "%s: server_unlock: allow without "
		    "recipients " DASH " recordings are only encrypted when "
		    "recipients are given", what);
}
