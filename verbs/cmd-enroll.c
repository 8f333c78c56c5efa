/*
 * cmd-enroll.c - "bastionctl enroll ENGINEER --key FILE ..." (local):
 * check an engineer's security key, and the attestation ssh-keygen wrote
 * when the key was made, and record the enrolment.
 *
 * The policy file stays the one source of truth for who may log in with
 * which key: enroll never edits it. It verifies the key (and with
 * --attestation its attestation: libfido2 fido_cred_verify, the chain to
 * a trusted root, the AAGUID allowlist; sk.c), stores the result in the
 * state store, where `bastionctl keys` shows it, and prints the exact line
 * to add to the engineer's keys in the policy.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "local.h"
#include "log.h"
#include "sk.h"
#include "verb.h"

#define ENROLL_MAX_FILE		(64 * 1024)

int
enroll_parse_pub(struct enroll *e, char *text)
{
	char *line = strtok(text, "\r\n"), *type, *b64, *rest, *save = NULL;
	size_t i, o = 0;

	if (line == NULL || (type = strtok_r(line, " \t", &save)) == NULL ||
	    (b64 = strtok_r(NULL, " \t", &save)) == NULL) {
		fprintf(e->err, "bastionctl: %s: not an OpenSSH public key "
		    "(give the .pub file ssh-keygen wrote)\n", e->keyfile);
		return (-1);
	}
	if (strcmp(type, SK_TYPE_ED25519) != 0 &&
	    strcmp(type, SK_TYPE_ECDSA) != 0) {
		fprintf(e->err, "bastionctl: %s: a %.40s key is not a FIDO "
		    "security key: enroll takes ed25519-sk and ecdsa-sk keys "
		    "(ssh-keygen -t ed25519-sk); write other keys into the "
		    "policy directly\n", e->keyfile, type);
		return (-1);
	}
	if (sk_key_from_base64(b64, &e->k) != 0 ||
	    strcmp(sk_key_type(&e->k), type) != 0) {
		fprintf(e->err, "bastionctl: %s: the key is damaged or is not "
		    "the %s it says it is\n", e->keyfile, type);
		return (-1);
	}
	snprintf(e->type, sizeof(e->type), "%s", type);
	e->b64 = b64;
	/* keep the comment, but only what is safe inside a YAML string */
	if ((rest = strtok_r(NULL, "", &save)) != NULL)
		for (i = 0; rest[i] != '\0' && o + 1 < sizeof(e->comment); i++) {
			char ch = rest[i];

			e->comment[o++] = (ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    strchr("@._+-: ", ch) != NULL ? ch : '_';
		}
	e->comment[o] = '\0';
	return (0);
}

/* Verify the attestation as asked; 0 if it passed (or none was given). */
static int
enroll_attest(struct enroll *e, struct sk_attestation *att, int *attested,
    char *why, size_t whylen)
{
	struct sk_attest_policy pol = { e->roots, NULL, 0 };
	enum sk_attest_result res;
	uint8_t *blob = NULL, *chal = NULL;
	size_t bloblen, challen;
	int r = -1;

	*attested = 0;
	if (e->attfile == NULL)
		return (0);
	if (e->naaguids > 0) {
		pol.aaguids = (const uint8_t (*)[16])e->aaguids;
		pol.naaguids = e->naaguids;
	}
	if (local_read_file(e->attfile, ENROLL_MAX_FILE, &blob, &bloblen,
	    e->err) != 0 ||
	    local_read_file(e->chalfile, ENROLL_MAX_FILE, &chal, &challen,
	    e->err) != 0)
		goto out;
	if (sk_attest_verify(&e->k, blob, bloblen, chal, challen, &pol, att,
	    &res, why, whylen) != 0) {
		fprintf(e->err, "bastionctl: cannot check the attestation: "
		    "%s\n", why[0] != '\0' ? why : "internal error");
		goto out;
	}
	if (res != SK_ATTEST_OK) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s: %s", sk_attest_result_str(res),
		    why);
		snprintf(why, whylen, "%s", msg);
		goto out;
	}
	*attested = 1;
	r = 0;
out:
	free(blob);
	free(chal);
	return (r);
}

static int
enroll_usage(const struct enroll *e, const char *msg)
{
	if (msg != NULL)
		fprintf(e->err, "bastionctl: enroll: %s\n", msg);
	verb_usage(e->err, "bastionctl [-f POLICY]", &cmd_enroll_entry);
	return (2);
}

/* Options into e; 0 or the exit code to return (2). */
static int
enroll_options(struct enroll *e, int argc, char **argv, const char **who)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "attestation", required_argument, NULL, 'a' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "roots", required_argument, NULL, 'r' },
		{ "aaguid", required_argument, NULL, 'g' },
		{ "require-attestation", no_argument, NULL, 'R' },
		{ "verify-required", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "k:a:c:r:g:RV", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'k': e->keyfile = optarg; break;
		case 'a': e->attfile = optarg; break;
		case 'c': e->chalfile = optarg; break;
		case 'r': e->roots = optarg; break;
		case 'R': e->require_att = 1; break;
		case 'V': e->verify_required = 1; break;
		case 'g':
			if (e->naaguids == ENROLL_MAX_AAGUIDS ||
			    sk_aaguid_parse(optarg,
			    e->aaguids[e->naaguids]) != 0)
				return (enroll_usage(e, "--aaguid takes 32 hex "
				    "digits (dashes allowed)"));
			e->naaguids++;
			break;
		default:
			return (enroll_usage(e, NULL));
		}
	}
	if (optind != argc - 1)
		return (enroll_usage(e, "name one engineer"));
	*who = argv[optind];
	if (e->keyfile == NULL)
		return (enroll_usage(e, "--key FILE.pub is required"));
	if (e->require_att && (e->attfile == NULL || e->roots == NULL))
		return (enroll_usage(e, "--require-attestation needs "
		    "--attestation FILE, --challenge FILE and --roots DIR"));
	if (e->attfile != NULL && e->chalfile == NULL)
		return (enroll_usage(e, "--attestation needs the --challenge "
		    "file given to ssh-keygen -O challenge="));
	if (e->attfile == NULL && (e->roots != NULL || e->naaguids > 0))
		return (enroll_usage(e, "--roots and --aaguid check an "
		    "attestation: give --attestation too"));
	return (0);
}

static void
enroll_print(struct verb_ctx *c, const struct enroll *e,
    const struct policy_person *who, const struct sk_attestation *att,
    int attested, const char *line)
{
	const struct policy_person *owner;
	const char *path = c->pol->path;
	FILE *out = c->out;

	fprintf(out, "enrolled: %s (vendor %s)\n", who->name,
	    who->vendor->name);
	fprintf(out, "  key:          %s %s\n", e->type, e->k.fp);
	fprintf(out, "  application:  %s\n", e->k.application);
	if (attested) {
		fprintf(out, "  attestation:  verified%s\n", e->roots != NULL ?
		    ", chains to a trusted root" : " (no --roots: chain not "
		    "checked)");
		fprintf(out, "  aaguid:       %s\n", att->aaguid_hex);
		fprintf(out, "  subject:      %s\n", att->subject);
		fprintf(out, "  issuer:       %s\n", att->issuer);
	} else
		fprintf(out, "  attestation:  none\n");
	owner = local_key_owner(c->pol, e->k.fp, NULL);
	if (owner == who) {
		fprintf(out, "\nThe key is already in %s for %s: nothing to "
		    "add.\n", path, who->name);
		return;
	}
	if (owner != NULL)
		fprintf(out, "\nWARNING: %s lists this key for %s; a key may "
		    "belong to one person only.\n", path, owner->name);
	fprintf(out, "\nAdd this line to the keys of engineer %s (vendor %s) "
	    "in %s,\nthen check it with bastiond -f %s --check and restart "
	    "bastiond:\n\n      - \"%s\"\n", who->name, who->vendor->name,
	    path, path, line);
}

static int
cmd_enroll_exec(struct verb_ctx *c, const struct verb_args *a)
{
	struct enroll e;
	struct sk_attestation att;
	struct state_enrollment rec;
	struct policy_person *who;
	struct state *st;
	const char *name = NULL;
	uint8_t *text = NULL;
	char why[700], line[SK_MAX_BLOB * 2];
	size_t len;
	int rc, attested = 0;

	memset(&e, 0, sizeof(e));
	memset(&att, 0, sizeof(att));
	e.err = c->err;
	why[0] = '\0';
	if ((rc = enroll_options(&e, a->argc, a->argv, &name)) != 0)
		return (rc);
	rc = 1;
	if ((who = local_engineer(c, name)) == NULL ||
	    local_read_file(e.keyfile, ENROLL_MAX_FILE, &text, &len,
	    c->err) != 0 ||
	    enroll_parse_pub(&e, (char *)text) != 0)
		goto out;
	if (enroll_attest(&e, &att, &attested, why, sizeof(why)) != 0) {
		if (why[0] != '\0') {
			fprintf(c->err, "bastionctl: enroll refused: %s\n",
			    why);
			audit_ev(BEV_KEY_ENROLL, "user", local_login(),
			    "engineer", who->name, "vendor", who->vendor->name,
			    "key", e.k.fp, "result", "refused", "reason", why,
			    NULL);
		}
		goto out;
	}
	snprintf(line, sizeof(line), "%s%s %s%s%s", e.verify_required ?
	    "verify-required " : "", e.type, e.b64, e.comment[0] != '\0' ?
	    " " : "", e.comment);
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.fp, sizeof(rec.fp), "%s", e.k.fp);
	snprintf(rec.engineer, sizeof(rec.engineer), "%s", who->name);
	snprintf(rec.key_type, sizeof(rec.key_type), "%s", e.type);
	rec.key_line = line;
	rec.attested = attested;
	snprintf(rec.aaguid, sizeof(rec.aaguid), "%s", att.aaguid_hex);
	snprintf(rec.subject, sizeof(rec.subject), "%s", att.subject);
	snprintf(rec.issuer, sizeof(rec.issuer), "%s", att.issuer);
	rec.enrolled = time(NULL);
	if ((st = local_state(c->pol, &c->st, c->err)) == NULL ||
	    state_enroll_put(st, &rec) != 0) {
		fprintf(c->err, "bastionctl: could not record the enrolment\n");
		goto out;
	}
	audit_ev(BEV_KEY_ENROLL, "user", local_login(), "engineer",
	    who->name, "vendor", who->vendor->name, "key", e.k.fp, "result",
	    "ok", "attested", attested ? "yes" : "no", "aaguid",
	    attested ? att.aaguid_hex : NULL, "subject", attested ?
	    att.subject : NULL, NULL);
	enroll_print(c, &e, who, &att, attested, line);
	rc = 0;
out:
	free(text);
	return (rc);
}

const struct cmd_entry cmd_enroll_entry = {
	"enroll", NULL,
	"ENGINEER --key KEY.pub [--verify-required]\n"
	"           [--attestation ATT --challenge CHALLENGE [--roots DIR] "
	"[--aaguid HEX]...]\n"
	"           [--require-attestation]",
	"check a security key (and the attestation ssh-keygen -O "
	"write-attestation= saved),\n           record it and print the "
	"policy line to add",
	NULL,
	0,
	VERB_LOCAL | VERB_OWN_ARGS,
	cmd_enroll_exec,
	NULL
};
