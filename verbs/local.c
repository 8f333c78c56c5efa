/*
 * local.c - what bastionctl's local verbs share (see local.h). They run
 * as the caller, on the caller's files, and say what went wrong as
 * "bastionctl: ..." with what to do.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "approvals.h"
#include "local.h"
#include "sk.h"

struct state *
local_state(const struct policy *pol, struct state **st, FILE *err)
{
	if (*st == NULL && state_open(pol->state_dir, st) != 0)
		fprintf(err, "bastionctl: cannot open the state store in "
		    "%s (state_dir of %s): run bastionctl as the bastion's "
		    "user, and check that the directory exists\n",
		    pol->state_dir, pol->path);
	return (*st);
}

struct policy_person *
local_engineer(struct verb_ctx *c, const char *name)
{
	struct policy_person *p;
	enum policy_role role = ROLE_NONE;

	p = policy_person(c->pol, name, &role);
	if (p == NULL || role != ROLE_ENGINEER) {
		fprintf(c->err, "bastionctl: no engineer \"%s\" in %s%s\n",
		    name, c->pol->path, p != NULL ? " (that is an admin or "
		    "auditor)" : ": add them under their vendor's engineers "
		    "first");
		return (NULL);
	}
	return (p);
}

/* Does person p hold the key with fingerprint fp? */
static const struct policy_key *
local_person_key(const struct policy_person *p, const char *fp)
{
	char kfp[SK_FP_LEN];
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (sk_fingerprint_base64(p->keys[i].base64, kfp,
		    sizeof(kfp)) == 0 && strcmp(kfp, fp) == 0)
			return (&p->keys[i]);
	return (NULL);
}

struct policy_person *
local_key_owner(const struct policy *pol, const char *fp,
    const struct policy_key **key)
{
	const struct policy_key *k;
	struct policy_person *lists[3];
	size_t counts[3], v, i, l;

	if (key != NULL)
		*key = NULL;
	for (v = 0; v < pol->nvendors; v++)
		for (i = 0; i < pol->vendors[v].nengineers; i++)
			if ((k = local_person_key(&pol->vendors[v].engineers[i],
			    fp)) != NULL) {
				if (key != NULL)
					*key = k;
				return (&pol->vendors[v].engineers[i]);
			}
	lists[0] = pol->admins;
	counts[0] = pol->nadmins;
	lists[1] = pol->auditors;
	counts[1] = pol->nauditors;
	for (l = 0; l < 2; l++)
		for (i = 0; i < counts[l]; i++)
			if ((k = local_person_key(&lists[l][i], fp)) != NULL) {
				if (key != NULL)
					*key = k;
				return (&lists[l][i]);
			}
	return (NULL);
}

int
local_read_file(const char *path, size_t max, uint8_t **out, size_t *len,
    FILE *err)
{
	uint8_t *d;
	size_t n;
	FILE *f;

	*out = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(err, "bastionctl: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if ((d = malloc(max + 2)) == NULL) {
		fclose(f);
		fprintf(err, "bastionctl: out of memory\n");
		return (-1);
	}
	n = fread(d, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fprintf(err, "bastionctl: %s: %s\n", path, ferror(f) ?
		    "read error" : "file too large");
		fclose(f);
		free(d);
		return (-1);
	}
	fclose(f);
	d[n] = '\0';
	*out = d;
	*len = n;
	return (0);
}

const char *
local_login(void)
{
	struct passwd *pw = getpwuid(getuid());

	return (pw != NULL ? pw->pw_name : "?");
}

void
local_time(time_t t, char *out, size_t len)
{
	appr_strftime(t, "%Y-%m-%d %H:%M UTC", out, len);
}
