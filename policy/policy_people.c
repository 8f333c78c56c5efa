/*
 * policy_people.c - who: public keys (authorized_keys lines, decoded and
 * checked against their declared type with libssh, one spelling each) and
 * the people who hold them: engineers, admins and auditors with their
 * keys, Unix user, validity and state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "policy.h"
#include "policy_int.h"

/* Key types a person or device may use; everything else is refused. */
static int
key_type_allowed(enum ssh_keytypes_e t)
{
	switch (t) {
	case SSH_KEYTYPE_RSA:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
	case SSH_KEYTYPE_ED25519:
	case SSH_KEYTYPE_SK_ECDSA:
	case SSH_KEYTYPE_SK_ED25519:
		return (1);
	default:
		return (0);
	}
}

static int
key_type_known(const char *s)
{
	return (ssh_key_type_from_name(s) != SSH_KEYTYPE_UNKNOWN);
}

/* The bytes of a base64 key blob in a bounded buffer; NULL if it is not
 * base64. Not B64_CANONICAL: libssh's round trip says that, later. */
static struct buf *
blob_decode(const char *b64)
{
	uint8_t *raw;
	size_t n;
	struct buf *b;

	if (b64_decode(b64, POLICY_MAX_STRING, 0, &raw, &n) != 0)
		return (NULL);
	b = buf_from(raw, n);
	free(raw);
	return (b);
}

/* Type name inside a base64 key blob, for a useful mismatch message. */
static char *
blob_type(const char *b64)
{
	struct buf *b;
	char *t = NULL;

	if ((b = blob_decode(b64)) != NULL && buf_get_cstring(b, &t, 64) != 0)
		t = NULL;
	buf_free(b);
	return (t);
}

/* Bits of the modulus of an ssh-rsa blob (string type, mpint e, mpint n);
 * 0 if unreadable. libssh 0.10 has no call for this. */
static int
rsa_bits(const char *b64)
{
	struct buf *b;
	const uint8_t *t, *e, *n;
	size_t tl, el, nl;
	int bits = 0;
	uint8_t top;

	if ((b = blob_decode(b64)) != NULL &&
	    buf_get_string_direct(b, &t, &tl, 64) == 0 &&
	    buf_get_string_direct(b, &e, &el, 8192) == 0 &&
	    buf_get_string_direct(b, &n, &nl, 8192) == 0) {
		while (nl > 0 && n[0] == 0) {
			n++;
			nl--;
		}
		if (nl > 0) {
			bits = (int)nl * 8;
			for (top = n[0]; (top & 0x80) == 0; top <<= 1)
				bits--;
		}
	}
	buf_free(b);
	return (bits);
}

/* Split the next whitespace-separated token off *sp (modified in place). */
static char *
next_token(char **sp)
{
	char *s = *sp, *t;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*sp = s;
		return (NULL);
	}
	t = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return (t);
}

static int
key_options(struct pctx *c, int line, const char *who, char *opts,
    struct policy_key *k)
{
	char *o, *save = NULL;
	int bad = 0;

	for (o = strtok_r(opts, ",", &save); o != NULL;
	    o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "verify-required") == 0)
			k->verify_required = 1;
		else if (strcmp(o, "no-touch-required") == 0)
			k->no_touch_required = 1;
		else {
			problem(c, line, "%s: unknown key option \"%.64s\" "
			    DASH " the bastion accepts only "
			    "verify-required and no-touch-required", who, o);
			bad = 1;
		}
	}
	return (bad ? -1 : 0);
}

/*
 * Parse one authorized_keys-format line "[OPTIONS] TYPE BASE64 [COMMENT]"
 * from v into k. The blob is decoded by libssh with the declared type, its
 * embedded type must be that same type, and it must export back to the
 * same base64 (no trailing or non-canonical bytes). host: a device host key
 * (no options, no security-key types). 0, or -1 after reporting.
 */
int
parse_key(struct pctx *c, const struct ynode *v, const char *who, int host,
    struct policy_key *k)
{
	char *line = NULL, *s, *t1, *t2, *t3, *opts = NULL, *type, *b64;
	char *comment = NULL, *inner = NULL, *round = NULL, *e;
	const char *text;
	enum ssh_keytypes_e kt;
	ssh_key key = NULL;
	int ret = -1, l = v->line, bits;

	memset(k, 0, sizeof(*k));
	k->line = l;
	if ((text = scalar(c, v, host ? "host_key" : "key", who)) == NULL)
		return (-1);
	if (!text_ok(text)) {
		problem(c, l, "%s: key contains control characters "
		    DASH " " KEY_HINT, who);
		return (-1);
	}
	if ((line = xstrdup(c, text)) == NULL)
		return (-1);
	s = line;
	t1 = next_token(&s);
	t2 = next_token(&s);
	t3 = next_token(&s);
	while (*s == ' ' || *s == '\t')
		s++;
	if (t1 != NULL && key_type_known(t1)) {
		type = t1;
		b64 = t2;
		if (t3 != NULL) {
			comment = t3;
			if (*s != '\0')
				t3[strlen(t3)] = ' ';	/* rejoin */
		}
	} else if (t2 != NULL && key_type_known(t2)) {
		opts = t1;
		type = t2;
		b64 = t3;
		if (*s != '\0')
			comment = s;
	} else {
		if (t2 != NULL && strncmp(t2, "AAAA", 4) == 0)
			problem(c, l, "%s: unknown key type \"%.64s\" "
			    DASH " use sk-ssh-ed25519@openssh.com, "
			    "sk-ecdsa-sha2-nistp256@openssh.com, ssh-ed25519, "
			    "ecdsa-sha2-nistp256/384/521 or ssh-rsa", who, t1);
		else
			problem(c, l, "%s: \"%.40s\" is not a public key "
			    "line " DASH " " KEY_HINT " (TYPE BASE64 "
			    "COMMENT)", who, text);
		goto out;
	}
	if (comment != NULL) {
		for (e = comment + strlen(comment); e > comment &&
		    (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
	}
	kt = ssh_key_type_from_name(type);
	if (opts != NULL && host) {
		problem(c, l, "%s: options are not allowed in a host key "
		    DASH " write only TYPE BASE64", who);
		goto out;
	}
	if (opts != NULL && key_options(c, l, who, opts, k) != 0)
		goto out;
	if (!key_type_allowed(kt)) {
		problem(c, l, "%s: key type %.64s is not supported "
		    DASH " %s", who, type, strstr(type, "-cert") ?
		    "give the plain public key, not a certificate" :
		    "use an ed25519-sk, ecdsa-sk, ed25519, ECDSA or RSA key");
		goto out;
	}
	k->is_sk = kt == SSH_KEYTYPE_SK_ECDSA || kt == SSH_KEYTYPE_SK_ED25519;
	if (host && k->is_sk) {
		problem(c, l, "%s: a device host key cannot be a security-key "
		    "type " DASH " pin the device's real host key "
		    "(ssh-keyscan)", who);
		goto out;
	}
	if (b64 == NULL) {
		problem(c, l, "%s: key has no data after its type "
		    DASH " " KEY_HINT, who);
		goto out;
	}
	if ((inner = blob_type(b64)) == NULL) {
		problem(c, l, "%s: key data is not valid base64 of an SSH key "
		    DASH " " KEY_HINT, who);
		goto out;
	}
	if (strcmp(inner, type) != 0) {
		problem(c, l, "%s: key is declared as %.64s but its data is "
		    "a %.64s key " DASH " " KEY_HINT, who, type, inner);
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(b64, kt, &key) != SSH_OK ||
	    key == NULL) {
		problem(c, l, "%s: %.64s key data is malformed " DASH " "
		    KEY_HINT, who, type);
		goto out;
	}
	if (ssh_key_type(key) != kt) {
		problem(c, l, "%s: key is declared as %.64s but decodes as "
		    "%s " DASH " " KEY_HINT, who, type,
		    ssh_key_type_to_char(ssh_key_type(key)));
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &round) != SSH_OK ||
	    round == NULL || strcmp(round, b64) != 0) {
		problem(c, l, "%s: %.64s key data has extra or non-canonical "
		    "bytes " DASH " " KEY_HINT, who, type);
		goto out;
	}
	if (kt == SSH_KEYTYPE_RSA && (bits = rsa_bits(b64)) < RSA_MIN_BITS) {
		problem(c, l, "%s: RSA key has only %d bits " DASH " use "
		    "at least %d bits, or better a security key", who, bits,
		    RSA_MIN_BITS);
		goto out;
	}
	if (!k->is_sk && (k->verify_required || k->no_touch_required)) {
		problem(c, l, "%s: options verify-required and "
		    "no-touch-required apply only to security-key (sk-) keys "
		    DASH " remove the option", who);
		goto out;
	}
	if ((k->type = xstrdup(c, type)) == NULL ||
	    (k->base64 = xstrdup(c, b64)) == NULL ||
	    (comment != NULL && (k->comment = xstrdup(c, comment)) == NULL))
		goto out;
	ret = 0;
 out:
	if (ret != 0) {
		free(k->type);
		free(k->base64);
		free(k->comment);
		k->type = k->base64 = k->comment = NULL;
	}
	ssh_string_free_char(round);
	ssh_key_free(key);
	free(inner);
	free(line);
	return (ret);
}

/* Keys of one person: engineers need security keys unless their vendor
 * allows others. */
static void
parse_person_keys(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_person *w)
{
	const struct ynode *v;
	const struct policy_vendor *vd = w->vendor;
	struct policy_key *k;
	size_t i;

	if ((v = field(c, m, "keys", what, "keys: [\"sk-ssh-ed25519@"
	    "openssh.com AAAA... comment\"] (from the .pub file)")) == NULL ||
	    check_seq(c, v, "keys", what, 1, "[\"sk-ssh-ed25519@openssh.com "
	    "AAAA...\"]") != 0)
		return;
	if ((w->keys = xcalloc(c, v->nkid, sizeof(*w->keys))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		k = &w->keys[w->nkeys];
		if (parse_key(c, v->kid[i], what, 0, k) != 0)
			continue;
		if (vd != NULL && !k->is_sk && !vd->allow_non_sk_keys)
			problem(c, k->line, "%s: key of type %s is not a "
			    "security-key (sk-) key " DASH " use an "
			    "ed25519-sk or ecdsa-sk key, or set "
			    "allow_non_sk_keys: true for vendor \"%s\"", what,
			    k->type, vd->name ? vd->name : "?");
		else if (vd != NULL && k->no_touch_required &&
		    vd->touch == POLICY_TOUCH_REQUIRED)
			problem(c, k->line, "%s: key option no-touch-required "
			    "contradicts touch: required of vendor \"%s\" "
			    DASH " remove the option, or set touch: "
			    "off for the vendor", what,
			    vd->name ? vd->name : "?");
		w->nkeys++;
		if (w->name != NULL)
			add_name(c, &c->keys, k->base64, w->name, k->line);
	}
}

int
policy_unix_user_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')
			continue;
		if (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			continue;
		if (i > 0 && s[i] == '$' && s[i + 1] == '\0')
			continue;
		return (0);
	}
	return (i > 0 && i <= 32);
}

/*
 * An admin's unix_user: the login they run bastionctl as on the bastion
 * host, so that bastionctl's decisions are theirs (verbs/approvals.c,
 * appr_identity()). One login, one admin: two admins sharing a login
 * could not be told apart, and four eyes would count one person twice.
 */
static void
parse_unix_user(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_person *w)
{
	const struct policy *p = c->p;
	const struct ynode *v;
	const char *s;
	size_t i;

	if ((s = field_scalar(c, m, "unix_user", what, NULL, &v)) == NULL)
		return;
	if (!policy_unix_user_ok(s)) {
		problem(c, v->line, "%s: unix_user \"%.80s\" is not a valid "
		    "login name " DASH " write the admin's login on the "
		    "bastion host (lower-case letters, digits, '_' and '-', "
		    "at most 32), e.g. unix_user: bob", what, s);
		return;
	}
	for (i = 0; p->admins != NULL && &p->admins[i] != w; i++)
		if (p->admins[i].unix_user != NULL &&
		    strcmp(p->admins[i].unix_user, s) == 0) {
			problem(c, v->line, "%s: unix_user \"%s\" is already "
			    "the login of admin \"%s\" at line %d " DASH " "
			    "one login belongs to one admin (else one person "
			    "could approve twice); give each admin their own "
			    "login", what, s, p->admins[i].name != NULL ?
			    p->admins[i].name : "?",
			    p->admins[i].unix_user_line);
			return;
		}
	w->unix_user = xstrdup(c, s);
	w->unix_user_line = v->line;
}

static void
parse_person(struct pctx *c, const struct ynode *m, enum policy_role role,
    struct policy_vendor *vd, struct policy_person *w)
{
	static const char *const keys[] = { "name", "full_name", "keys",
	    "valid_until", "enabled", NULL };
	static const char *const admin_keys[] = { "name", "full_name",
	    "keys", "valid_until", "enabled", "unix_user", NULL };
	const char *kind = policy_role_name(role);
	const struct ynode *v;
	const char *s;
	char what[128];

	w->line = m->line;
	w->enabled = 1;
	w->vendor = vd;
	if (named_entry(c, m, kind, role == ROLE_ADMIN ? admin_keys : keys,
	    "write name:, keys: and the other keys of a person", &c->pnames,
	    what, sizeof(what), &w->name) != 0)
		return;
	get_text(c, m, "full_name", what, &w->full_name);
	parse_person_keys(c, m, what, w);
	if ((s = field_scalar(c, m, "valid_until", what, NULL, &v)) != NULL &&
	    parse_date(s, &w->valid_until) != 0)
		problem(c, v->line, "%s: valid_until \"%.64s\" is not a "
		    "calendar date " DASH " write YYYY-MM-DD, e.g. "
		    "2027-03-31 (the account expires at the end of that day, "
		    "UTC)", what, s);
	get_bool(c, m, "enabled", what, &w->enabled);
	if (role == ROLE_ADMIN)
		parse_unix_user(c, m, what, w);
}

void
parse_people(struct pctx *c, const struct ynode *v, const char *key,
    const char *what, enum policy_role role, struct policy_vendor *vd,
    struct policy_person **out, size_t *nout)
{
	size_t i;

	if (check_seq(c, v, key, what, 0, "[{name: NAME, keys: [...]}]") != 0)
		return;
	if ((*out = xcalloc(c, v->nkid, sizeof(**out))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++)
		parse_person(c, v->kid[i], role, vd, &(*out)[(*nout)++]);
}
