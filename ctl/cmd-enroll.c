/*
 * cmd-enroll.c - "bastionctl enroll ENGINEER --key FILE ...": check an
 * engineer's security key, and the attestation ssh-keygen wrote when the
 * key was made, and record the enrolment.
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

#include "ctl.h"
#include "err.h"
#include "log.h"
#include "sk.h"

#define ENROLL_MAX_FILE		(64 * 1024)
#define ENROLL_MAX_AAGUIDS	64

struct enroll {
	const char *keyfile, *attfile, *chalfile, *roots;
	int require_att, verify_required;
	uint8_t aaguids[ENROLL_MAX_AAGUIDS][16];
	size_t naaguids;
	/* the key */
	char type[64], *b64, comment[128];
	struct sk_key k;
};

/* Split the first line of a .pub file: TYPE BASE64 [COMMENT]. */
static int
enroll_parse_pub(struct enroll *e, char *text)
{
	char *line = strtok(text, "\r\n"), *type, *b64, *rest, *save = NULL;
	size_t i, o = 0;

	if (line == NULL || (type = strtok_r(line, " \t", &save)) == NULL ||
	    (b64 = strtok_r(NULL, " \t", &save)) == NULL) {
		fprintf(stderr, "bastionctl: %s: not an OpenSSH public key "
		    "(give the .pub file ssh-keygen wrote)\n", e->keyfile);
		return (-1);
	}
	if (strcmp(type, SK_TYPE_ED25519) != 0 &&
	    strcmp(type, SK_TYPE_ECDSA) != 0) {
		fprintf(stderr, "bastionctl: %s: a %.40s key is not a FIDO "
		    "security key: enroll takes ed25519-sk and ecdsa-sk keys "
		    "(ssh-keygen -t ed25519-sk); write other keys into the "
		    "policy directly\n", e->keyfile, type);
		return (-1);
	}
	if (sk_key_from_base64(b64, &e->k) != 0 ||
	    strcmp(sk_key_type(&e->k), type) != 0) {
		fprintf(stderr, "bastionctl: %s: the key is damaged or is not "
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
	if (ctl_read_file(e->attfile, ENROLL_MAX_FILE, &blob, &bloblen) != 0 ||
	    ctl_read_file(e->chalfile, ENROLL_MAX_FILE, &chal, &challen) != 0)
		goto out;
	if (sk_attest_verify(&e->k, blob, bloblen, chal, challen, &pol, att,
	    &res, why, whylen) != 0) {
		fprintf(stderr, "bastionctl: cannot check the attestation: "
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
enroll_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "bastionctl: enroll: %s\n", msg);
	ctl_usage(&ctl_cmd_enroll, stderr);
	return (CTL_EXIT_USAGE);
}

/* Options into e; CTL_EXIT_OK or the exit code to return. */
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
				return (enroll_usage("--aaguid takes 32 hex "
				    "digits (dashes allowed)"));
			e->naaguids++;
			break;
		default:
			return (enroll_usage(NULL));
		}
	}
	if (optind != argc - 1)
		return (enroll_usage("name one engineer"));
	*who = argv[optind];
	if (e->keyfile == NULL)
		return (enroll_usage("--key FILE.pub is required"));
	if (e->require_att && (e->attfile == NULL || e->roots == NULL))
		return (enroll_usage("--require-attestation needs "
		    "--attestation FILE, --challenge FILE and --roots DIR"));
	if (e->attfile != NULL && e->chalfile == NULL)
		return (enroll_usage("--attestation needs the --challenge file "
		    "given to ssh-keygen -O challenge="));
	if (e->attfile == NULL && (e->roots != NULL || e->naaguids > 0))
		return (enroll_usage("--roots and --aaguid check an "
		    "attestation: give --attestation too"));
	return (CTL_EXIT_OK);
}

static void
enroll_print(struct ctl *c, const struct enroll *e,
    const struct policy_person *who, const struct sk_attestation *att,
    int attested, const char *line)
{
	const struct policy_person *owner;

	printf("enrolled: %s (vendor %s)\n", who->name, who->vendor->name);
	printf("  key:          %s %s\n", e->type, e->k.fp);
	printf("  application:  %s\n", e->k.application);
	if (attested) {
		printf("  attestation:  verified%s\n", e->roots != NULL ?
		    ", chains to a trusted root" : " (no --roots: chain not "
		    "checked)");
		printf("  aaguid:       %s\n", att->aaguid_hex);
		printf("  subject:      %s\n", att->subject);
		printf("  issuer:       %s\n", att->issuer);
	} else
		printf("  attestation:  none\n");
	owner = ctl_key_owner(c, e->k.fp, NULL);
	if (owner == who) {
		printf("\nThe key is already in %s for %s: nothing to add.\n",
		    c->policy_path, who->name);
		return;
	}
	if (owner != NULL)
		printf("\nWARNING: %s lists this key for %s; a key may belong "
		    "to one person only.\n", c->policy_path, owner->name);
	printf("\nAdd this line to the keys of engineer %s (vendor %s) in %s,"
	    "\nthen check it with bastiond -f %s --check and restart "
	    "bastiond:\n\n      - \"%s\"\n", who->name, who->vendor->name,
	    c->policy_path, c->policy_path, line);
}

static int
cmd_enroll_exec(struct ctl *c, int argc, char **argv)
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
	why[0] = '\0';
	if ((rc = enroll_options(&e, argc, argv, &name)) != CTL_EXIT_OK)
		return (rc);
	rc = CTL_EXIT_FAIL;
	if ((who = ctl_engineer(c, name)) == NULL ||
	    ctl_read_file(e.keyfile, ENROLL_MAX_FILE, &text, &len) != 0 ||
	    enroll_parse_pub(&e, (char *)text) != 0)
		goto out;
	if (enroll_attest(&e, &att, &attested, why, sizeof(why)) != 0) {
		if (why[0] != '\0') {
			fprintf(stderr, "bastionctl: enroll refused: %s\n", why);
			audit_event("key.enroll", "user", ctl_operator(),
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
	if ((st = ctl_state(c)) == NULL || state_enroll_put(st, &rec) != 0) {
		fprintf(stderr, "bastionctl: could not record the enrolment\n");
		goto out;
	}
	audit_event("key.enroll", "user", ctl_operator(), "engineer",
	    who->name, "vendor", who->vendor->name, "key", e.k.fp, "result",
	    "ok", "attested", attested ? "yes" : "no", "aaguid",
	    attested ? att.aaguid_hex : NULL, "subject", attested ?
	    att.subject : NULL, NULL);
	enroll_print(c, &e, who, &att, attested, line);
	rc = CTL_EXIT_OK;
out:
	free(text);
	return (rc);
}

const struct ctl_cmd ctl_cmd_enroll = {
	"enroll",
	"ENGINEER --key KEY.pub [--verify-required]\n"
	"           [--attestation ATT --challenge CHALLENGE [--roots DIR] "
	"[--aaguid HEX]...]\n"
	"           [--require-attestation]",
	"check a security key (and the attestation ssh-keygen -O "
	"write-attestation= saved),\n           record it and print the "
	"policy line to add",
	cmd_enroll_exec,
	0
};
