/*
 * policy_recstore.c - where sealed recordings go besides the local spool:
 * the "store: s3" keys of the policy's recordings: section, read by
 * bastion-ship (ship/, docs/RECORDING-STORE.md, docs/POLICY.md):
 *
 *	recordings:
 *	  store: s3
 *	  s3:
 *	    endpoint: https://s3.hospital.example   # http:// only to loopback
 *	    bucket: bastion-recordings
 *	    region: us-east-1                       # the default
 *	    prefix: hospital-a                      # optional
 *	    credentials_file: /etc/bastion/s3.credentials
 *	    ca_file: /etc/bastion/s3-ca.pem         # optional
 *	  ledger_dir: /var/lib/bastion/ship         # default STATE_DIR/shipped
 *	  interval: 30s                             # between passes
 *	  retry: 30s                                # first backoff, doubled
 *	  keep_local: 7d                            # default: kept for good
 *
 * Names are checked here as S3 spells them (bucket: 3-63 of a-z, 0-9,
 * '.', '-'; region and prefix: letters, digits, '-', '_', '.', and '/'
 * between prefix parts) so that an object key never needs escaping
 * beyond what the signer does; the endpoint must be https:// except to a
 * loopback address (the tests' s3rver). The credentials file itself is
 * read only by bastion-ship, which refuses it if anyone but its own user
 * may read it.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "policy_int.h"

#define RECSTORE_NAME_MAX	63
#define RECSTORE_PREFIX_MAX	200

static int
chars_ok(const char *s, const char *allowed, size_t max)
{
	size_t n = strlen(s);

	return (n > 0 && n <= max && strspn(s, allowed) == n);
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

/* A bucket name as S3 allows it for path-style requests. */
static int
bucket_ok(const char *s)
{
	size_t n = strlen(s);

	return (n >= 3 && chars_ok(s, LOWER_DIGITS ".-", RECSTORE_NAME_MAX) &&
	    s[0] != '.' && s[0] != '-' && s[n - 1] != '.' && s[n - 1] != '-' &&
	    strstr(s, "..") == NULL);
}

/* A key prefix: parts of [A-Za-z0-9._-] joined by single slashes. */
static int
prefix_ok(const char *s)
{
	size_t n = strlen(s);

	return (chars_ok(s, LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/",
	    RECSTORE_PREFIX_MAX) && s[0] != '/' && s[n - 1] != '/' &&
	    strstr(s, "//") == NULL && strcmp(s, ".") != 0 &&
	    strstr(s, "./") == NULL && strstr(s, "/.") == NULL &&
	    s[0] != '.');
}

static char *
get_name(struct pctx *c, const struct ynode *m, const char *key,
    const char *need, int (*ok)(const char *), const char *hint)
{
	const struct ynode *v;
	const char *s;

	if ((s = field_scalar(c, m, key, "recordings: s3", need, &v)) == NULL)
		return (NULL);
	if (!ok(s)) {
		problem(c, v->line, "recordings: s3: %s \"%.64s\" is not "
		    "usable " DASH " %s", key, s, hint);
		return (NULL);
	}
	return (xstrdup(c, s));
}

static int
region_ok(const char *s)
{
	return (chars_ok(s, LOWER_DIGITS "-_", RECSTORE_NAME_MAX));
}

static void
parse_s3(struct pctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "endpoint", "bucket", "region",
	    "prefix", "credentials_file", "ca_file", NULL };
	struct policy_recstore *s = &c->p->recstore;
	const char *what = "recordings: s3";

	if (check_map(c, m, what, keys, "write s3: {endpoint: https://HOST, "
	    "bucket: NAME, credentials_file: FILE}") != 0)
		return;
	s->endpoint = get_url(c, m, "endpoint", what,
	    "endpoint: https://HOST[:PORT]", 1);
	s->bucket = get_name(c, m, "bucket", "bucket: NAME", bucket_ok,
	    "write 3 to 63 of a-z, 0-9, '.' and '-' (S3's bucket names)");
	if (ymap_get(m, "region") != NULL)
		s->region = get_name(c, m, "region", NULL, region_ok,
		    "write the store's region, e.g. us-east-1");
	else
		s->region = xstrdup(c, "us-east-1");
	if (ymap_get(m, "prefix") != NULL)
		s->prefix = get_name(c, m, "prefix", NULL, prefix_ok,
		    "write parts of letters, digits, '.', '_' and '-' "
		    "joined by single '/', e.g. hospital-a/bastion");
	(void)get_path(c, m, "credentials_file", what,
	    "credentials_file: FILE (access_key_id = ..., "
	    "secret_access_key = ...)", &s->credentials_file);
	if (ymap_get(m, "ca_file") != NULL)
		(void)get_path(c, m, "ca_file", what, NULL, &s->ca_file);
}

/*
 * The store keys of recordings: m (store, s3, ledger_dir, interval, retry,
 * keep_local). Without store: nothing is shipped, and the other keys are
 * refused as a sign of a half-written section.
 */
void
parse_recstore(struct pctx *c, const struct ynode *m)
{
	static const char *const others[] = { "s3", "ledger_dir", "interval",
	    "retry", "keep_local", NULL };
	struct policy_recstore *s = &c->p->recstore;
	const struct ynode *v;
	const char *st;
	size_t i;

	s->interval = 30;
	s->retry = 30;
	if (ymap_get(m, "store") == NULL) {
		for (i = 0; others[i] != NULL; i++)
			if ((v = ymap_get(m, others[i])) != NULL)
				problem(c, v->line, "recordings: %s without "
				    "store " DASH " add store: s3 (or remove "
				    "%s)", others[i], others[i]);
		return;
	}
	if ((st = field_scalar(c, m, "store", "recordings", NULL, &v)) ==
	    NULL)
		return;
	if (strcmp(st, "s3") != 0) {
		problem(c, v->line, "recordings: store is \"%.64s\" " DASH
		    " write s3 (an S3-compatible object store) or leave "
		    "store out (recordings stay on this node)", st);
		return;
	}
	s->s3 = 1;
	if ((v = field(c, m, "s3", "recordings", "s3: {endpoint: "
	    "https://HOST, bucket: NAME, credentials_file: FILE}")) != NULL)
		parse_s3(c, v);
	if (ymap_get(m, "ledger_dir") != NULL)
		(void)get_path(c, m, "ledger_dir", "recordings", NULL,
		    &s->ledger_dir);
	(void)get_duration(c, m, "interval", "recordings", &s->interval);
	(void)get_duration(c, m, "retry", "recordings", &s->retry);
	if (get_duration(c, m, "keep_local", "recordings", &s->keep_local) ==
	    1)
		s->keep_local_set = 1;
}

void
policy_recstore_free(struct policy_recstore *s)
{
	FREE_ALL(s->endpoint, s->bucket, s->region, s->prefix,
	    s->credentials_file, s->ca_file, s->ledger_dir);
	memset(s, 0, sizeof(*s));
}
