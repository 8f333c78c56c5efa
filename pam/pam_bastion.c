/*
 * pam_bastion.c - pam_bastion.so, the bastion's account and session checks
 * as a PAM module: for the bastion's own PAM service ("bastion") and for
 * sites that want the same checks in front of another program (sshd on the
 * bastion host, a console login). pam_bastion(8) and pam/README.md are the
 * user documentation.
 *
 * account (pam_sm_acct_mgmt): reads the policy (policy=, default
 * /etc/bastion/policy.yaml) and refuses a person who is not in it, is
 * disabled or expired there, is locked in the state store (a key whose
 * signature counter went backwards; locks.c), or, for an engineer, is
 * outside the allowed hours given for the vendor (hours=; hours.c).
 *
 * session (pam_sm_open_session / pam_sm_close_session): writes one audit
 * event when a session opens and one when it closes (with its duration).
 *
 * Rules every entry point keeps:
 *
 *  - Fail closed. A policy that does not load, a state store that cannot
 *    be read, an unknown module argument: account refuses (PAM_SYSTEM_ERR
 *    or PAM_SERVICE_ERR) and logs why. Nothing here aborts or exits: the
 *    host is sshd or bastiond, and a module must never take it down.
 *  - Every decision is an audit event, in the logfmt of base/log.h
 *    ("AUDIT ts=... event=pam.account ... result=refused reason=..."), so
 *    the SIEM parses module and bastiond events alike. They go to syslog
 *    (LOG_AUTHPRIV, through pam_syslog(), which prefixes
 *    "pam_bastion(SERVICE:TYPE): " and uses the host's ident). Not through
 *    audit_event() itself: that also writes to stderr, which for login(1)
 *    or su(1) is the user's terminal, and log_init() would call openlog()
 *    and rename the host's syslog ident. The escaping is log_escape(),
 *    shared with audit_event().
 *  - Nothing is said to the user: the refused person sees only the host's
 *    generic refusal, the same as for a wrong password (docs/ARCHITECTURE.md,
 *    "uniform failure"); the reason is in the log.
 *  - Read-only: the policy is read, the state store opened read-only; the
 *    module creates nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/time.h>

/* Only the pam_sm_* entry points leave the module (-fvisibility=hidden). */
#pragma GCC visibility push(default)
#include <security/pam_modules.h>
#pragma GCC visibility pop
#include <security/pam_ext.h>

#include "err.h"
#include "hex.h"
#include "log.h"
#include "pam_bastion.h"
#include "policy.h"
#include "sk.h"
#include "state.h"

#define PAM_BASTION_DEFAULT_POLICY	"/etc/bastion/policy.yaml"
#define PAM_BASTION_MAX_HOURS		64
#define PAM_BASTION_DATA_ID		"pam_bastion.id"
#define PAM_BASTION_DATA_OPENED		"pam_bastion.opened"
#define PAM_BASTION_LINE		4096

struct pam_bastion_args {
	const char *policy;
	int debug;
	struct hours_rule hours[PAM_BASTION_MAX_HOURS];
	size_t nhours;
};

/* What PAM knows about this call, for the audit events. */
struct pam_bastion_call {
	pam_handle_t *pamh;
	const char *service;
	const char *user;
	const char *rhost;
	const char *ruser;
	const char *tty;
	const char *id;		/* ties account and session events together */
};

static void
pam_bastion_free_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* A PAM string item, or NULL. */
static const char *
pam_bastion_item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS)
		return (NULL);
	return (v);
}

/*
 * An identifier for this PAM handle, kept with pam_set_data() so that the
 * account, session open and session close events of one login carry the
 * same pam_id. "-" if it cannot be made.
 */
static const char *
pam_bastion_id(pam_handle_t *pamh)
{
	const void *v = NULL;
	unsigned char rnd[8];
	char *id;

	if (pam_get_data(pamh, PAM_BASTION_DATA_ID, &v) == PAM_SUCCESS &&
	    v != NULL)
		return (v);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
	    (id = malloc(2 * sizeof(rnd) + 1)) == NULL)
		return ("-");
	hex_encode(rnd, sizeof(rnd), id);
	if (pam_set_data(pamh, PAM_BASTION_DATA_ID, id,
	    pam_bastion_free_data) != PAM_SUCCESS) {
		free(id);
		return ("-");
	}
	return (id);
}

static void
pam_bastion_call_init(struct pam_bastion_call *c, pam_handle_t *pamh)
{
	c->pamh = pamh;
	c->service = pam_bastion_item(pamh, PAM_SERVICE);
	c->user = pam_bastion_item(pamh, PAM_USER);
	c->rhost = pam_bastion_item(pamh, PAM_RHOST);
	c->ruser = pam_bastion_item(pamh, PAM_RUSER);
	c->tty = pam_bastion_item(pamh, PAM_TTY);
	c->id = pam_bastion_id(pamh);
}

/* Append " key=value" (value escaped) to line; stops quietly when full. */
static void
pam_bastion_field(char *line, size_t *o, const char *key, const char *value)
{
	char val[1024];
	int n;

	if (*o >= PAM_BASTION_LINE - 1)
		return;
	log_escape(val, sizeof(val), value);
	n = snprintf(line + *o, PAM_BASTION_LINE - *o, " %s=%s", key, val);
	*o = n < 0 ? PAM_BASTION_LINE - 1 : *o + (size_t)n;
	if (*o >= PAM_BASTION_LINE)
		*o = PAM_BASTION_LINE - 1;
}

/*
 * One audit event: the fields common to every event of the module (from
 * PAM), then key, value pairs ending with NULL, as audit_event() takes.
 */
static void pam_bastion_audit(const struct pam_bastion_call *c,
    const char *event, ...) __attribute__((sentinel));

static void
pam_bastion_audit(const struct pam_bastion_call *c, const char *event, ...)
{
	char line[PAM_BASTION_LINE], ts[64];
	struct timeval tv;
	struct tm tm;
	const char *k, *v;
	va_list ap;
	size_t o;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ event=%s pid=%ld", ts,
	    (long)(tv.tv_usec / 1000), event, (long)getpid());
	o = n < 0 ? 0 : (size_t)n;
	pam_bastion_field(line, &o, "service", c->service);
	pam_bastion_field(line, &o, "user", c->user);
	pam_bastion_field(line, &o, "from", c->rhost);
	pam_bastion_field(line, &o, "ruser", c->ruser);
	pam_bastion_field(line, &o, "tty", c->tty);
	pam_bastion_field(line, &o, "pam_id", c->id);
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		pam_bastion_field(line, &o, k, v);
	}
	va_end(ap);
	line[o] = '\0';
	pam_syslog(c->pamh, LOG_NOTICE, "AUDIT %s", line);
}

/* Module arguments; 0, or -1 with a sentence for the log in why. */
static int
pam_bastion_args(int argc, const char **argv, struct pam_bastion_args *a,
    char *why, size_t whylen)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->policy = PAM_BASTION_DEFAULT_POLICY;
	for (i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (s == NULL)
			continue;
		if (strcmp(s, "debug") == 0)
			a->debug = 1;
		else if (strncmp(s, "policy=", 7) == 0) {
			if (s[7] != '/') {
				snprintf(why, whylen, "module argument \"%.200s\""
				    ": the policy must be an absolute path, "
				    "e.g. policy=%s", s,
				    PAM_BASTION_DEFAULT_POLICY);
				return (-1);
			}
			a->policy = s + 7;
		} else if (strncmp(s, "hours=", 6) == 0) {
			if (a->nhours == PAM_BASTION_MAX_HOURS) {
				snprintf(why, whylen, "more than %d hours= "
				    "arguments", PAM_BASTION_MAX_HOURS);
				return (-1);
			}
			if (hours_rule_parse(s + 6,
			    &a->hours[a->nhours]) != 0) {
				snprintf(why, whylen, "module argument \"%.200s\""
				    " is not VENDOR:DAYS HH:MM-HH:MM — write "
				    "e.g. [hours=acme:mon-fri 08:00-18:00] "
				    "(brackets because of the space)", s);
				return (-1);
			}
			a->nhours++;
		} else {
			snprintf(why, whylen, "unknown module argument "
			    "\"%.200s\" — the arguments are policy=FILE, "
			    "[hours=VENDOR:DAYS HH:MM-HH:MM] and debug", s);
			return (-1);
		}
	}
	return (0);
}

/* Load the policy; 0, or a BERR_* code with a sentence in why. */
static int
pam_bastion_policy(const char *path, struct policy **out, char *why,
    size_t whylen)
{
	char *buf = NULL;
	size_t len = 0, nerrs = 0;
	FILE *errs;
	int r;

	*out = NULL;
	errs = open_memstream(&buf, &len);
	r = policy_load(path, errs, &nerrs, out);
	if (errs != NULL)
		fclose(errs);
	/* the store's backend (the policy's store:) */
	if (r == 0 && (r = state_configure(*out)) != 0) {
		policy_free(*out);
		*out = NULL;
	}
	if (r != 0) {
		if (nerrs > 0 && buf != NULL && len > 0) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(why, whylen, "the policy %s has %zu problem%s, "
			    "first: %s — run bastiond -f %s --check", path,
			    nerrs, nerrs == 1 ? "" : "s", buf, path);
		} else
			snprintf(why, whylen, "cannot load the policy %s: %s",
			    path, berr_str(r));
	}
	free(buf);
	return (r);
}

/*
 * Locks of who (by name and by each of their keys' fingerprints). 0 with
 * *locked and *hit, or a BERR_* code with why.
 */
static int
pam_bastion_locked(const struct policy *p, const struct policy_person *who,
    int debug, pam_handle_t *pamh, int *locked, struct locks_hit *hit,
    char *why, size_t whylen)
{
	char **fps = NULL, *fpbuf = NULL;
	size_t i, n = who->nkeys;
	int absent = 0, r;

	*locked = 0;
	if (n > 0 && ((fps = calloc(n, sizeof(*fps))) == NULL ||
	    (fpbuf = calloc(n, SK_FP_LEN)) == NULL)) {
		snprintf(why, whylen, "out of memory");
		r = BERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		fps[i] = fpbuf + i * SK_FP_LEN;
		if ((r = sk_fingerprint_base64(who->keys[i].base64, fps[i],
		    SK_FP_LEN)) != 0) {
			snprintf(why, whylen, "cannot fingerprint key %zu of "
			    "%s (policy line %d): %s", i + 1, who->name,
			    who->keys[i].line, berr_str(r));
			goto out;
		}
	}
	r = locks_check(p->state_dir, who->name, fps, n, locked, &absent, hit,
	    why, whylen);
	if (r == 0 && absent && debug)
		pam_syslog(pamh, LOG_DEBUG, "no state store in %s yet: no key "
		    "is locked", p->state_dir);
out:
	free(fps);
	free(fpbuf);
	return (r);
}

int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_bastion_args a;
	struct pam_bastion_call c;
	struct policy *p = NULL;
	struct policy_person *who = NULL;
	enum policy_role role = ROLE_NONE;
	const char *result = "refused";
	struct locks_hit hit;
	char why[2048], day[16];
	struct tm tm;
	time_t now;
	int rc, locked, restricted;

	(void)flags;
	why[0] = '\0';
	pam_bastion_call_init(&c, pamh);
	if (pam_bastion_args(argc, argv, &a, why, sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		result = "error";
		rc = PAM_SERVICE_ERR;
		goto out;
	}
	if (c.user == NULL || c.user[0] == '\0') {
		snprintf(why, sizeof(why), "no user name");
		rc = PAM_USER_UNKNOWN;
		goto out;
	}
	if (pam_bastion_policy(a.policy, &p, why, sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		result = "error";
		rc = PAM_SYSTEM_ERR;
		goto out;
	}
	now = time(NULL);
	if ((who = policy_person(p, c.user, &role)) == NULL) {
		snprintf(why, sizeof(why), "not in the policy");
		rc = PAM_USER_UNKNOWN;
		goto out;
	}
	if (!who->enabled) {
		snprintf(why, sizeof(why), "disabled in the policy");
		rc = PAM_PERM_DENIED;
		goto out;
	}
	if (!policy_person_active(who, now)) {
		gmtime_r(&who->valid_until, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		snprintf(why, sizeof(why), "expired: valid_until %s in the "
		    "policy", day);
		rc = PAM_ACCT_EXPIRED;
		goto out;
	}
	if (role == ROLE_ENGINEER && who->vendor != NULL) {
		localtime_r(&now, &tm);
		if (!hours_allowed(a.hours, a.nhours, who->vendor->name, &tm,
		    &restricted)) {
			snprintf(why, sizeof(why), "outside the allowed hours "
			    "of vendor %s (module argument hours=)",
			    who->vendor->name);
			rc = PAM_PERM_DENIED;
			goto out;
		}
	}
	if (pam_bastion_locked(p, who, a.debug, pamh, &locked, &hit, why,
	    sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		result = "error";
		rc = PAM_SYSTEM_ERR;
		goto out;
	}
	if (locked) {
		snprintf(why, sizeof(why), "locked in the state store (%s) — an "
		    "admin lifts it with: bastionctl unlock %s", hit.reason,
		    hit.engineer[0] != '\0' ? hit.engineer : who->name);
		rc = PAM_PERM_DENIED;
		goto out;
	}
	result = "ok";
	rc = PAM_SUCCESS;
out:
	pam_bastion_audit(&c, bev_name(BEV_PAM_ACCOUNT),
	    "role", policy_role_name(role),
	    "vendor", who != NULL && who->vendor != NULL ?
	    who->vendor->name : NULL, "result", result, "reason",
	    why[0] != '\0' ? why : NULL, "policy", a.policy, NULL);
	if (a.debug)
		pam_syslog(pamh, LOG_DEBUG, "account of %s: %s (%s)",
		    c.user != NULL ? c.user : "-", pam_strerror(pamh, rc),
		    why[0] != '\0' ? why : "all checks passed");
	policy_free(p);
	return (rc);
}

/* Seconds since the session opened on this handle, or -1 if unknown. */
static long long
pam_bastion_session_age(pam_handle_t *pamh)
{
	const void *v = NULL;
	const struct timespec *t0;
	struct timespec t1;

	if (pam_get_data(pamh, PAM_BASTION_DATA_OPENED, &v) != PAM_SUCCESS ||
	    v == NULL || clock_gettime(CLOCK_MONOTONIC, &t1) != 0)
		return (-1);
	t0 = v;
	return ((long long)(t1.tv_sec - t0->tv_sec));
}

static int
pam_bastion_session(pam_handle_t *pamh, int open, int argc,
    const char **argv)
{
	struct pam_bastion_args a;
	struct pam_bastion_call c;
	struct timespec *t0;
	const char *event = open ? bev_name(BEV_PAM_SESSION_OPEN) :
	    bev_name(BEV_PAM_SESSION_CLOSE);
	char why[1024], dur[32];
	long long age;

	pam_bastion_call_init(&c, pamh);
	if (pam_bastion_args(argc, argv, &a, why, sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		pam_bastion_audit(&c, event, "result", "error", "reason", why,
		    NULL);
		return (PAM_SESSION_ERR);
	}
	if (c.user == NULL || c.user[0] == '\0') {
		pam_bastion_audit(&c, event, "result", "error", "reason",
		    "no user name", NULL);
		return (PAM_SESSION_ERR);
	}
	if (open) {
		if ((t0 = malloc(sizeof(*t0))) != NULL &&
		    (clock_gettime(CLOCK_MONOTONIC, t0) != 0 ||
		    pam_set_data(pamh, PAM_BASTION_DATA_OPENED, t0,
		    pam_bastion_free_data) != PAM_SUCCESS))
			free(t0);
		pam_bastion_audit(&c, event, "result", "ok", NULL);
	} else {
		age = pam_bastion_session_age(pamh);
		if (age >= 0)
			snprintf(dur, sizeof(dur), "%lld", age);
		pam_bastion_audit(&c, event, "result", "ok", "duration",
		    age >= 0 ? dur : NULL, NULL);
	}
	if (a.debug)
		pam_syslog(pamh, LOG_DEBUG, "session of %s %s", c.user,
		    open ? "opened" : "closed");
	return (PAM_SUCCESS);
}

int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)flags;
	return (pam_bastion_session(pamh, 1, argc, argv));
}

int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)flags;
	return (pam_bastion_session(pamh, 0, argc, argv));
}
