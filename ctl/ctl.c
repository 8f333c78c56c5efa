/*
 * ctl.c - what bastionctl's verbs share (see ctl.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approvals.h"
#include "ctl.h"
#include "err.h"
#include "sk.h"

struct state *
ctl_state(struct ctl *c)
{
	if (c->st == NULL && state_open(c->pol->state_dir, &c->st) != 0)
		fprintf(stderr, "bastionctl: cannot open the state store in "
		    "%s (state_dir of %s): run bastionctl as the bastion's "
		    "user, and check that the directory exists\n",
		    c->pol->state_dir, c->policy_path);
	return (c->st);
}

struct policy_person *
ctl_engineer(struct ctl *c, const char *name)
{
	struct policy_person *p;
	enum policy_role role = ROLE_NONE;

	p = policy_person(c->pol, name, &role);
	if (p == NULL || role != ROLE_ENGINEER) {
		fprintf(stderr, "bastionctl: no engineer \"%s\" in %s%s\n",
		    name, c->policy_path, p != NULL ? " (that is an admin or "
		    "auditor)" : ": add them under their vendor's engineers "
		    "first");
		return (NULL);
	}
	return (p);
}

/* Does person p hold the key with fingerprint fp? */
static const struct policy_key *
ctl_person_key(const struct policy_person *p, const char *fp)
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
ctl_key_owner(struct ctl *c, const char *fp, const struct policy_key **key)
{
	const struct policy_key *k;
	struct policy *pol = c->pol;
	size_t v, i;

	if (key != NULL)
		*key = NULL;
	for (v = 0; v < pol->nvendors; v++)
		for (i = 0; i < pol->vendors[v].nengineers; i++)
			if ((k = ctl_person_key(&pol->vendors[v].engineers[i],
			    fp)) != NULL) {
				if (key != NULL)
					*key = k;
				return (&pol->vendors[v].engineers[i]);
			}
	for (i = 0; i < pol->nadmins; i++)
		if ((k = ctl_person_key(&pol->admins[i], fp)) != NULL) {
			if (key != NULL)
				*key = k;
			return (&pol->admins[i]);
		}
	for (i = 0; i < pol->nauditors; i++)
		if ((k = ctl_person_key(&pol->auditors[i], fp)) != NULL) {
			if (key != NULL)
				*key = k;
			return (&pol->auditors[i]);
		}
	return (NULL);
}

int
ctl_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *d;
	size_t n;
	FILE *f;

	*out = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "bastionctl: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if ((d = malloc(max + 2)) == NULL) {
		fclose(f);
		fprintf(stderr, "bastionctl: out of memory\n");
		return (-1);
	}
	n = fread(d, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fprintf(stderr, "bastionctl: %s: %s\n", path, ferror(f) ?
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

void
ctl_usage(const struct ctl_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: bastionctl [-f POLICY] %s %s\n  %s\n", cmd->name,
	    cmd->args, cmd->summary);
}

const char *
ctl_operator(void)
{
	struct passwd *pw = getpwuid(getuid());

	return (pw != NULL ? pw->pw_name : "?");
}

void
ctl_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm);
}

int
ctl_approvals(struct ctl *c, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	struct appr_ctx a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.pol = c->pol;
	a.admin = ctl_operator();
	a.via = "bastionctl";
	a.out = stdout;
	a.err = stderr;
	if ((a.st = ctl_state(c)) == NULL)
		return (CTL_EXIT_FAIL);
	rc = appr_run(&a, argc, argv);
	if (rc == 2)
		ctl_usage(cmd, stderr);
	return (rc == 0 ? CTL_EXIT_OK : rc == 2 ? CTL_EXIT_USAGE :
	    CTL_EXIT_FAIL);
}
