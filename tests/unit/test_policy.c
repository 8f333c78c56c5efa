/*
 * test_policy.c - the policy loader (policy/policy.c) against the shipped
 * example, hand-written edge cases and the folder of broken policies.
 *
 * Runs from the repository root (make check-unit does), because it loads
 * policies/example.yaml and policies/broken/ by relative path. Policies
 * made up here are written to a fresh temporary directory per test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"
#include "netaddr.h"
#include "policy.h"

#define EXAMPLE		"policies/example.yaml"
#define BROKEN		"policies/broken"
#define EMDASH		" \xe2\x80\x94 "

#define SK_ED25519 "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9w" \
	"ZW5zc2guY29tAAAAIADDOZaUOkLZ2/GGHm5iP6CenCDoh7qqP9CV5ECw3GJcAAAABHNz" \
	"aDo="
#define SK_ECDSA "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTIt" \
	"bmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBH6o3/4QLATP9T1OF/L9" \
	"lCL0VfWMDwhnlBweUiW6v+E8ZDKt5jOIpdUELk3x46ozCcexEKlkUnVpZ4pcJg6Omzc" \
	"AAAAEc3NoOg=="
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3wCgcu+mpwgo7RLeol8+Kl" \
	"rmeOfFcuiV+orq+wIpNw"
#define RSA2048 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCwbQyzbrRwCszgyNLr" \
	"Y1hcRw8FzpS4JpvbEd3QnqUMABvMeIWhkvfbY2/muRJAUtAazLSkP5+21sYIe5kgdb" \
	"7ihtYiQAz2PYSgxQViupQEPRiQhHCt7RrKOhIliL0PZ6c+e7d+gTSMaqgeQp2NkAkU" \
	"hoX1xqm4SN8oAQuxqeJkaiCOaKX2ThPFUI7azfmmu+ZXhy1odBloOkiFe3nLkPlAsn" \
	"fS8avUyGklbsqvVarMVUIfJvI0KwmD0ub/2p4qkfhrySba0Qh+6CgyovaQi/bg1E2U" \
	"MtR2mTdsGHGkdWS6ARsou/16Zvdo02H/izPBkgUS0BqRCnm44Ra4KLzlm239"

/* ---- fixtures and helpers ---- */

struct tmp {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
};

static int
tmp_setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-1);
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_policy.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return (-1);
	}
	snprintf(t->path, sizeof(t->path), "%s/policy.yaml", t->dir);
	*state = t;
	return (0);
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return (0);
}

static const char *
tmp_write(void **state, const char *text)
{
	struct tmp *t = *state;
	FILE *f;

	assert_non_null(f = fopen(t->path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return (t->path);
}

/* Load path, capturing the problems; *out_text is freed by the caller. */
static int
load(const char *path, size_t *nerrs, struct policy **p, char **out_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	assert_non_null(f = open_memstream(&text, &len));
	r = policy_load(path, f, nerrs, p);
	fclose(f);
	if (out_text != NULL)
		*out_text = text;
	else
		free(text);
	return (r);
}

/* Each line of text is "path:N: what — do", N ascending. Returns lines. */
static size_t
check_lines(const char *text, const char *path)
{
	const char *l = text, *nl, *colon;
	char *end;
	long line, last = -1;
	size_t n = 0, plen = strlen(path);

	for (; *l != '\0'; l = nl + 1) {
		assert_non_null(nl = strchr(l, '\n'));
		if (strncmp(l, path, plen) != 0 || l[plen] != ':')
			fail_msg("line does not start with %s: %.*s", path,
			    (int)(nl - l), l);
		line = strtol(l + plen + 1, &end, 10);
		assert_true(end > l + plen + 1 && end[0] == ':' &&
		    end[1] == ' ');
		assert_true(line >= last);
		last = line;
		colon = strstr(end, EMDASH);
		if (colon == NULL || colon > nl)
			fail_msg("no em dash in: %.*s", (int)(nl - l), l);
		assert_true(colon + strlen(EMDASH) < nl);	/* advice */
		n++;
	}
	return (n);
}

static struct policy *
load_example(void)
{
	struct policy *p = NULL;
	size_t nerrs = 99;
	char *text;

	if (load(EXAMPLE, &nerrs, &p, &text) != 0)
		fail_msg("example does not load:\n%s", text);
	free(text);
	assert_int_equal(nerrs, 0);
	assert_non_null(p);
	return (p);
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (timegm(&tm));
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return (a >= b && strcmp(s + a - b, suffix) == 0);
}

static void
assert_cidr(const struct netaddr_cidr *c, const char *want)
{
	struct netaddr_cidr w;

	assert_int_equal(netaddr_cidr_parse(want, &w), 0);
	assert_int_equal(c->prefix, w.prefix);
	assert_true(netaddr_equal(&c->addr, &w.addr));
}

/* ---- the example ---- */

static void
test_example_top(void **state)
{
	struct policy *p = load_example();
	uint8_t want[32], *data;
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(p->nvendors, 3);
	assert_int_equal(p->ndevices, 6);
	assert_int_equal(p->nadmins, 2);
	assert_int_equal(p->nauditors, 1);
	assert_string_equal(p->path, EXAMPLE);

	/* the hash is of the file's bytes */
	assert_int_equal(stat(EXAMPLE, &st), 0);
	assert_non_null(data = malloc((size_t)st.st_size));
	assert_true((fd = open(EXAMPLE, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	assert_int_equal(EVP_Digest(data, (size_t)st.st_size, want, NULL,
	    EVP_sha256(), NULL), 1);
	free(data);
	assert_memory_equal(p->sha256, want, 32);

	assert_int_equal(p->nlisten, 2);
	assert_string_equal(p->listen[0].host, "127.0.0.1");
	assert_int_equal(p->listen[0].port, 2222);
	assert_string_equal(p->listen[1].host, "::1");
	assert_int_equal(p->listen[1].port, 2222);

	/* relative paths resolved against the file's (absolute) directory */
	assert_int_equal(p->nhost_keys, 1);
	assert_true(p->host_keys[0][0] == '/');
	assert_true(ends_with(p->host_keys[0],
	    "/policies/../var/example/hostkeys/ssh_host_ed25519_key"));
	assert_true(ends_with(p->state_dir, "/policies/../var/example/state"));
	assert_true(ends_with(p->recordings_dir,
	    "/policies/../var/example/recordings"));
	assert_true(ends_with(p->run_dir, "/policies/../var/example/run"));

	assert_int_equal(p->login_grace, 30);
	assert_int_equal(p->max_unauthenticated, 20);
	assert_int_equal(p->idle_timeout, 900);
	assert_int_equal(p->idle_warning, 60);
	assert_int_equal(p->max_session, 4 * 3600);
	assert_int_equal(p->keepalive, 30);

	assert_true(p->approval.set);
	assert_true(p->approval.required);
	assert_false(p->approval.second_approver);
	assert_int_equal(p->default_max_grant, 4 * 3600);
	assert_int_equal(p->approval.max_grant, 4 * 3600);
	assert_int_equal(p->approval_timeout, 600);
	assert_null(p->notify_command);
	assert_false(p->notify.set);	/* a commented example: test_notify_policy */
	assert_int_equal(p->approval.nwindows, 0);
	assert_true(p->work_record);
	policy_free(p);
}

static void
test_example_vendors(void **state)
{
	struct policy *p = load_example();
	struct policy_vendor *acme, *globex;
	struct policy_person *alice;

	(void)state;
	assert_non_null(acme = policy_vendor(p, "acme"));
	assert_ptr_equal(acme, &p->vendors[0]);
	assert_string_equal(acme->description, "Acme Medical (CT, MRI)");
	assert_int_equal(acme->nsegments, 1);
	assert_cidr(&acme->segments[0], "127.0.1.0/24");
	assert_int_equal(acme->nsources, 1);
	assert_cidr(&acme->sources[0], "127.0.0.0/8");
	assert_false(acme->allow_non_sk_keys);
	assert_int_equal(acme->touch, POLICY_TOUCH_REQUIRED);
	assert_int_equal(acme->nengineers, 2);

	alice = &acme->engineers[0];
	assert_string_equal(alice->name, "alice");
	assert_string_equal(alice->full_name, "Alice Example");
	assert_ptr_equal(alice->vendor, acme);
	assert_true(alice->enabled);
	assert_int_equal(alice->valid_until, utc(2027, 3, 31, 23, 59, 59));
	assert_int_equal(alice->nkeys, 2);
	assert_string_equal(alice->keys[0].type, "sk-ssh-ed25519@openssh.com");
	assert_true(alice->keys[0].is_sk);
	assert_false(alice->keys[0].verify_required);
	assert_string_equal(alice->keys[0].comment, "alice@acme");
	assert_true(strncmp(alice->keys[0].base64, "AAAAGnNrLXNzaC1lZDI1NTE5",
	    24) == 0);
	assert_string_equal(alice->keys[1].type,
	    "sk-ecdsa-sha2-nistp256@openssh.com");
	assert_true(alice->keys[1].is_sk);
	assert_true(alice->keys[1].verify_required);
	assert_false(alice->keys[1].no_touch_required);
	assert_string_equal(alice->keys[1].comment, "alice-backup@acme");
	assert_true(alice->keys[1].line > alice->keys[0].line);

	assert_non_null(globex = policy_vendor(p, "globex"));
	assert_int_equal(globex->nsources, 2);
	assert_cidr(&globex->sources[1], "::1/128");
	assert_ptr_equal(globex->engineers[1].vendor, globex);
	assert_false(globex->engineers[1].enabled);	/* frank */

	assert_null(policy_vendor(p, "umbrella"));
	assert_null(policy_vendor(p, NULL));
	policy_free(p);
}

static void
test_example_devices(void **state)
{
	struct policy *p = load_example();
	struct policy_device *d;
	struct netaddr want;

	(void)state;
	assert_non_null(d = policy_device(p, "ct-scanner"));
	assert_ptr_equal(d->vendor, policy_vendor(p, "acme"));
	assert_string_equal(d->vendor_name, "acme");
	assert_string_equal(d->description, "Radiology, CT room 2");
	assert_int_equal(netaddr_parse("127.0.1.10", &want), 0);
	assert_true(netaddr_equal(&d->addr, &want));
	assert_string_equal(d->address, "127.0.1.10");
	assert_int_equal(d->port, 22);
	assert_string_equal(d->login, "maint");
	assert_true(d->credential[0] == '/');
	assert_true(ends_with(d->credential, "/var/example/keys/ct-scanner"));
	assert_true(strncmp(d->host_key, "ssh-ed25519 AAAA", 16) == 0);
	assert_null(strstr(d->host_key, "ct-scanner"));	/* no comment */
	assert_int_equal(d->nforward_ports, 1);
	assert_int_equal(d->forward_ports[0], 8080);

	assert_non_null(d = policy_device(p, "pacs"));
	assert_ptr_equal(d->vendor, policy_vendor(p, "globex"));
	assert_int_equal(d->nforward_ports, 2);
	assert_int_equal(d->forward_ports[0], 104);
	assert_int_equal(d->forward_ports[1], 443);
	assert_true(strncmp(d->host_key, "ecdsa-sha2-nistp384 ", 20) == 0);

	assert_non_null(d = policy_device(p, "pacs-viewer"));
	assert_int_equal(d->port, 2222);

	assert_non_null(d = policy_device(p, "blood-gas"));
	assert_int_equal(d->nforward_ports, 0);
	assert_null(d->forward_ports);

	assert_null(policy_device(p, "ct-scanner2"));
	policy_free(p);
}

static void
test_example_people(void **state)
{
	struct policy *p = load_example();
	struct policy_person *w;
	enum policy_role role;
	time_t now = time(NULL);

	(void)state;
	assert_non_null(w = policy_person(p, "alice", &role));
	assert_int_equal(role, ROLE_ENGINEER);
	assert_non_null(w->vendor);
	assert_non_null(w = policy_person(p, "grace", &role));
	assert_int_equal(role, ROLE_ENGINEER);
	assert_string_equal(w->vendor->name, "initech");
	assert_non_null(w = policy_person(p, "bob", &role));
	assert_int_equal(role, ROLE_ADMIN);
	assert_null(w->vendor);
	assert_non_null(w = policy_person(p, "judy", &role));
	assert_int_equal(role, ROLE_ADMIN);
	assert_int_equal(w->nkeys, 2);
	assert_false(w->keys[1].is_sk);		/* any type for admins */
	assert_non_null(w = policy_person(p, "carol", &role));
	assert_int_equal(role, ROLE_AUDITOR);
	assert_non_null(policy_person(p, "carol", NULL));
	role = ROLE_ADMIN;
	assert_null(policy_person(p, "mallory", &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(policy_person(p, "ct-scanner", &role));
	/* an admin by Unix login: bob is bbrown; judy has none */
	assert_ptr_equal(policy_admin_by_unix_user(p, "bbrown"),
	    policy_person(p, "bob", NULL));
	assert_null(policy_admin_by_unix_user(p, "bob"));
	assert_null(policy_admin_by_unix_user(p, "judy"));
	assert_null(policy_admin_by_unix_user(p, NULL));
	assert_string_equal(policy_device(p, "ct-scanner")->name,
	    "ct-scanner");
	assert_null(policy_device(p, "alice"));

	/* valid_until is the end of that day, UTC */
	w = policy_person(p, "alice", NULL);
	assert_true(policy_person_active(w, utc(2027, 3, 31, 12, 0, 0)));
	assert_true(policy_person_active(w, utc(2027, 3, 31, 23, 59, 59)));
	assert_false(policy_person_active(w, utc(2027, 4, 1, 0, 0, 0)));
	/* heidi's contract ended in 2025, frank is disabled */
	assert_false(policy_person_active(policy_person(p, "heidi", NULL),
	    now));
	assert_true(policy_person_active(policy_person(p, "heidi", NULL),
	    utc(2025, 6, 1, 0, 0, 0)));
	w = policy_person(p, "frank", NULL);
	assert_int_equal(w->valid_until, 0);
	assert_false(policy_person_active(w, now));
	/* no valid_until: no expiry */
	assert_true(policy_person_active(policy_person(p, "bob", NULL), now));
	assert_true(policy_person_active(policy_person(p, "bob", NULL),
	    utc(2100, 1, 1, 0, 0, 0)));
	assert_false(policy_person_active(NULL, now));
	policy_free(p);
}

static void
test_example_approval(void **state)
{
	struct policy *p = load_example();
	struct policy_approval a;

	(void)state;
	/* ct-scanner: no rule of its own, so acme's */
	policy_device_approval(p, policy_device(p, "ct-scanner"), &a);
	assert_true(a.set);
	assert_true(a.required);
	assert_false(a.second_approver);
	assert_int_equal(a.max_grant, 2 * 3600);
	assert_int_equal(a.nwindows, 2);
	assert_int_equal(a.windows[0].days, 0x1f);		/* mon-fri */
	assert_int_equal(a.windows[0].start_min, 8 * 60);
	assert_int_equal(a.windows[0].end_min, 18 * 60);
	assert_int_equal(a.windows[1].days, 1 << 5);		/* sat */

	/* mri-1 replaces the windows, inherits the rest from acme */
	policy_device_approval(p, policy_device(p, "mri-1"), &a);
	assert_true(a.required);
	assert_int_equal(a.max_grant, 2 * 3600);
	assert_int_equal(a.nwindows, 1);
	assert_int_equal(a.windows[0].days, 1 << 5);
	assert_int_equal(a.windows[0].start_min, 9 * 60);

	/* pacs: globex, four eyes */
	policy_device_approval(p, policy_device(p, "pacs"), &a);
	assert_true(a.required);
	assert_true(a.second_approver);
	assert_int_equal(a.max_grant, 3600);
	assert_int_equal(a.nwindows, 0);

	/* chem-analyzer: initech has no rule, so the global one */
	assert_false(policy_vendor(p, "initech")->approval.set);
	policy_device_approval(p, policy_device(p, "chem-analyzer"), &a);
	assert_true(a.required);
	assert_false(a.second_approver);
	assert_int_equal(a.max_grant, 4 * 3600);
	assert_int_equal(a.nwindows, 0);

	/* blood-gas: its own night window over the global rule */
	policy_device_approval(p, policy_device(p, "blood-gas"), &a);
	assert_true(a.required);
	assert_int_equal(a.max_grant, 2 * 3600);
	assert_int_equal(a.nwindows, 1);
	assert_int_equal(a.windows[0].days, 0x7f);
	assert_int_equal(a.windows[0].start_min, 22 * 60);
	assert_int_equal(a.windows[0].end_min, 6 * 60);	/* overnight */
	policy_free(p);
}

/* ---- made-up policies ---- */

static const char minimal[] =
    "version: 1\n"
    "listen: [\"[::ffff:127.0.0.1]:22\"]\n"
    "paths:\n"
    "  host_keys: [hk, /etc/hk2]\n"
    "  state_dir: st\n"
    "  recordings_dir: /abs/rec\n"
    "  run_dir: run\n"
    "vendors:\n"
    "  - name: v1\n"
    "    segments: [10.1.0.0/16, \"2001:db8:1::/48\"]\n"
    "    sources: [0.0.0.0/0]\n"
    "    allow_non_sk_keys: Yes\n"
    "    approval:\n"
    "      windows: [\"fri-mon 20:00-24:00\", \"mon,wed 06:30-07:00\"]\n"
    "    engineers:\n"
    "      - name: e1\n"
    "        keys:\n"
    "          - \"" SK_ED25519 "\"\n"
    "          - \"" RSA2048 " e1 laptop key\"\n"
    "  - name: v2\n"
    "    segments: [10.2.0.0/16]\n"
    "    sources: [10.0.0.0/8]\n"
    "    touch: off\n"
    "    engineers:\n"
    "      - name: e2\n"
    "        keys: [\"verify-required,no-touch-required " SK_ECDSA "\"]\n"
    "        enabled: no\n"
    "devices:\n"
    "  - name: d1\n"
    "    vendor: v1\n"
    "    address: \"::ffff:10.1.2.3\"\n"
    "    login: root\n"
    "    credential: creds/d1\n"
    "    host_key: \"" ED25519 " host@d1\"\n"
    "  - name: d6\n"
    "    vendor: v1\n"
    "    address: \"2001:db8:1::5\"\n"
    "    port: 2222\n"
    "    login: 'DOMAIN\\svc'\n"
    "    credential: /etc/bastion/d6\n"
    "    host_key: \"" RSA2048 "\"\n"
    "    approval: {required: true, second_approver: yes}\n";

static void
test_defaults(void **state)
{
	struct tmp *t = *state;
	struct policy *p = NULL;
	struct policy_vendor *v1, *v2;
	struct policy_person *e1, *e2;
	struct policy_device *d;
	struct policy_approval a;
	struct netaddr want;
	char dir[PATH_MAX], expect[PATH_MAX + 8], *text;
	size_t nerrs = 99;

	if (load(tmp_write(state, minimal), &nerrs, &p, &text) != 0)
		fail_msg("minimal policy does not load:\n%s", text);
	free(text);
	assert_int_equal(nerrs, 0);
	assert_non_null(realpath(t->dir, dir));

	assert_string_equal(p->listen[0].host, "127.0.0.1");	/* folded */
	snprintf(expect, sizeof(expect), "%s/hk", dir);
	assert_string_equal(p->host_keys[0], expect);
	assert_string_equal(p->host_keys[1], "/etc/hk2");
	snprintf(expect, sizeof(expect), "%s/st", dir);
	assert_string_equal(p->state_dir, expect);
	assert_string_equal(p->recordings_dir, "/abs/rec");

	/* limits and approval defaults */
	assert_int_equal(p->login_grace, 30);
	assert_int_equal(p->max_unauthenticated, 20);
	assert_int_equal(p->idle_timeout, 900);
	assert_int_equal(p->idle_warning, 60);
	assert_int_equal(p->max_session, 14400);
	assert_int_equal(p->keepalive, 30);
	assert_int_equal(p->approval_timeout, 600);
	assert_int_equal(p->default_max_grant, 14400);
	assert_true(p->approval.set);
	assert_false(p->approval.required);
	assert_false(p->approval.second_approver);
	assert_null(p->notify_command);
	assert_false(p->work_record);
	assert_int_equal(p->nadmins, 0);
	assert_int_equal(p->nauditors, 0);

	v1 = policy_vendor(p, "v1");
	assert_true(v1->allow_non_sk_keys);
	assert_int_equal(v1->touch, POLICY_TOUCH_REQUIRED);
	assert_null(v1->description);
	assert_int_equal(v1->nsegments, 2);
	assert_cidr(&v1->segments[1], "2001:db8:1::/48");
	assert_true(v1->approval.set);
	assert_false(v1->approval.required);		/* inherited */
	assert_int_equal(v1->approval.max_grant, 14400);
	assert_int_equal(v1->approval.nwindows, 2);
	/* fri-mon wraps: fri, sat, sun, mon */
	assert_int_equal(v1->approval.windows[0].days,
	    (1 << 4) | (1 << 5) | (1 << 6) | (1 << 0));
	assert_int_equal(v1->approval.windows[0].end_min, 24 * 60);
	assert_int_equal(v1->approval.windows[1].days, (1 << 0) | (1 << 2));
	assert_int_equal(v1->approval.windows[1].start_min, 6 * 60 + 30);

	e1 = policy_person(p, "e1", NULL);
	assert_true(e1->enabled);
	assert_int_equal(e1->valid_until, 0);
	assert_null(e1->full_name);
	assert_null(e1->keys[0].comment);
	assert_false(e1->keys[1].is_sk);
	assert_string_equal(e1->keys[1].type, "ssh-rsa");
	assert_string_equal(e1->keys[1].comment, "e1 laptop key");

	v2 = policy_vendor(p, "v2");
	assert_int_equal(v2->touch, POLICY_TOUCH_OFF);
	assert_false(v2->approval.set);
	e2 = policy_person(p, "e2", NULL);
	assert_false(e2->enabled);
	assert_true(e2->keys[0].verify_required);
	assert_true(e2->keys[0].no_touch_required);

	d = policy_device(p, "d1");
	assert_int_equal(d->port, 22);
	assert_int_equal(d->addr.family, AF_INET);	/* v4-mapped folded */
	assert_int_equal(netaddr_parse("10.1.2.3", &want), 0);
	assert_true(netaddr_equal(&d->addr, &want));
	assert_string_equal(d->host_key, ED25519);
	assert_false(d->approval.set);
	assert_null(d->description);
	policy_device_approval(p, d, &a);
	assert_ptr_equal(a.windows, v1->approval.windows);

	d = policy_device(p, "d6");
	assert_int_equal(d->addr.family, AF_INET6);
	assert_int_equal(d->port, 2222);
	assert_string_equal(d->login, "DOMAIN\\svc");
	policy_device_approval(p, d, &a);
	assert_true(a.required);
	assert_true(a.second_approver);
	assert_int_equal(a.max_grant, 14400);
	assert_int_equal(a.nwindows, 2);		/* copied from v1 */
	assert_ptr_not_equal(a.windows, v1->approval.windows);
	policy_free(p);
}

static void
test_many_problems_in_one_file(void **state)
{
	static const char text[] =
	    "version: 1\n"
	    "listen: [\"127.0.0.1\"]\n"
	    "paths: {host_keys: [], state_dir: s, recordings_dir: r, "
	    "run_dir: x}\n"
	    "limits: {idle_timeout: soon}\n"
	    "vendors:\n"
	    "  - name: Acme\n"
	    "    segments: [10.0.0.1/8]\n"
	    "    sources: [10.0.0.0/8]\n"
	    "devices: []\n"
	    "admins: [{name: bob, keys: [\"ssh-ed25519 AAAA\"]}]\n"
	    "auditors: [{name: carol, keys: []}]\n";
	static const int lines[] = { 2, 3, 4, 6, 7, 10, 11 };
	const char *path = tmp_write(state, text), *l;
	struct policy *p = (struct policy *)&p;
	char *out, want[PATH_MAX + 48];
	size_t nerrs = 0, i;

	assert_int_equal(load(path, &nerrs, &p, &out), BERR_POLICY);
	assert_null(p);
	assert_int_equal(nerrs, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(check_lines(out, path), nerrs);
	for (i = 0, l = out; i < nerrs; i++, l = strchr(l, '\n') + 1) {
		snprintf(want, sizeof(want), "%s:%d: ", path, lines[i]);
		if (strncmp(l, want, strlen(want)) != 0)
			fail_msg("want %s in line %zu of:\n%s", want, i, out);
	}
	free(out);
}

/* Every file in policies/broken/ fails with the problem its first line,
 * "# expect: LINE: SUBSTRING", announces, in the right format. */
static void
test_broken_folder(void **state)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX], first[512], want[PATH_MAX + 32], *out, *sub;
	char *l, *nl;
	struct policy *p;
	size_t nerrs, nfiles = 0;
	int line, found;
	FILE *f;

	(void)state;
	assert_non_null(d = opendir(BROKEN));
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) < 6 || strcmp(e->d_name +
		    strlen(e->d_name) - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", BROKEN, e->d_name);
		assert_non_null(f = fopen(path, "r"));
		assert_non_null(fgets(first, sizeof(first), f));
		fclose(f);
		first[strcspn(first, "\n")] = '\0';
		sub = strstr(first + 10, ": ");
		if (sscanf(first, "# expect: %d: ", &line) != 1 || sub == NULL)
			fail_msg("%s: no \"# expect: LINE: TEXT\" line", path);
		else
			sub += 2;

		p = NULL;
		nerrs = 0;
		assert_int_equal(load(path, &nerrs, &p, &out), BERR_POLICY);
		assert_null(p);
		assert_true(nerrs >= 1);
		assert_int_equal(check_lines(out, path), nerrs);
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
		found = 0;
		for (l = out; *l != '\0'; l = nl + 1) {
			nl = strchr(l, '\n');
			*nl = '\0';
			if (strncmp(l, want, strlen(want)) == 0 &&
			    strstr(l, sub) != NULL)
				found = 1;
		}
		if (!found)
			fail_msg("%s: no line \"%s...%s\"", path, want, sub);
		free(out);
		nfiles++;
	}
	closedir(d);
	assert_true(nfiles >= 20);
}

static void
test_file_problems(void **state)
{
	struct tmp *t = *state;
	struct policy *p = (struct policy *)&p;
	size_t nerrs = 0;
	char *out;
	int fd;

	/* missing */
	assert_int_equal(load("/nonexistent/policy.yaml", &nerrs, &p, &out),
	    BERR_SYS);
	assert_null(p);
	assert_int_equal(nerrs, 1);
	assert_non_null(strstr(out, "/nonexistent/policy.yaml:0: cannot open"));
	assert_int_equal(check_lines(out, "/nonexistent/policy.yaml"), 1);
	free(out);

	/* a directory */
	assert_int_equal(load(t->dir, &nerrs, &p, &out), BERR_POLICY);
	assert_int_equal(nerrs, 1);
	assert_non_null(strstr(out, "not a regular file"));
	free(out);

	/* one byte over the cap (sparse) */
	assert_true((fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) >= 0);
	assert_int_equal(ftruncate(fd, POLICY_MAX_FILE_SIZE + 1), 0);
	close(fd);
	assert_int_equal(load(t->path, &nerrs, &p, &out), BERR_POLICY);
	assert_int_equal(nerrs, 1);
	assert_non_null(strstr(out, ":0: the policy file is bigger than"));
	free(out);

	/* errs may be NULL: problems are still counted */
	assert_int_equal(policy_load(t->path, NULL, &nerrs, &p), BERR_POLICY);
	assert_int_equal(nerrs, 1);
	assert_int_equal(policy_load(t->path, NULL, NULL, &p), BERR_POLICY);
	assert_int_equal(policy_load(NULL, NULL, NULL, &p), BERR_INVAL);
	policy_free(NULL);
}

/* Aliases would let a few lines expand into gigabytes or a cycle. */
static void
test_yaml_bombs(void **state)
{
	static const char laughs[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "version: *a\n";
	static const char cycle[] = "version: &v [*v]\n";
	struct policy *p;
	size_t nerrs = 0;
	char *out, *deep;
	int i;

	assert_int_equal(load(tmp_write(state, laughs), &nerrs, &p, &out),
	    BERR_POLICY);
	assert_null(p);
	assert_non_null(strstr(out, "anchors and aliases are not supported"));
	free(out);
	assert_int_equal(load(tmp_write(state, cycle), &nerrs, &p, &out),
	    BERR_POLICY);
	assert_non_null(strstr(out, ":1: alias *v"));
	free(out);

	/* 100000 levels of nesting: refused without recursion */
	assert_non_null(deep = malloc(200016));
	strcpy(deep, "version: ");
	for (i = 0; i < 100000; i++)
		deep[9 + i] = '[';
	for (i = 0; i < 100000; i++)
		deep[100009 + i] = ']';
	strcpy(deep + 200009, "\n");
	assert_int_equal(load(tmp_write(state, deep), &nerrs, &p, &out),
	    BERR_POLICY);
	assert_non_null(strstr(out, "nested more than"));
	free(out);
	free(deep);
}

/* CPU seconds this process has used. */
static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * A nesting bomb stops the loader at the limit: one problem, on the line
 * where the limit was crossed, and nothing after it is read (libyaml's
 * work per event grows with the depth, so reading on is quadratic: 50,000
 * levels took seconds). Flow sequences, flow mappings and block sequences.
 */
static void
test_nesting_stops_at_the_limit(void **state)
{
	static const char *const open[] = { "[", "{a: ", "- " };
	static const char *const close[] = { "]", "}", "" };
	const size_t levels = 50000;
	struct policy *p;
	size_t nerrs, k, i, o, cap;
	char *out, *deep;
	double t0, spent;

	for (k = 0; k < 3; k++) {
		cap = 64 + levels * (strlen(open[k]) + strlen(close[k]));
		assert_non_null(deep = malloc(cap));
		o = (size_t)snprintf(deep, cap, "version: 1\nnest:\n%s",
		    k == 2 ? "" : "  ");
		for (i = 0; i < levels; i++)
			o += (size_t)snprintf(deep + o, cap - o, "%s", open[k]);
		o += (size_t)snprintf(deep + o, cap - o, "x");
		for (i = 0; i < levels; i++)
			o += (size_t)snprintf(deep + o, cap - o, "%s",
			    close[k]);
		/* a problem after the bomb must not be reported: the
		 * loader stopped reading */
		snprintf(deep + o, cap - o, "\nno_such_key: 1\n");
		nerrs = 0;
		t0 = cpu_seconds();
		assert_int_equal(load(tmp_write(state, deep), &nerrs, &p,
		    &out), BERR_POLICY);
		spent = cpu_seconds() - t0;
		assert_null(p);
		if (nerrs != 1 || strstr(out, ":3: the YAML is nested more "
		    "than 32 levels deep") == NULL)
			fail_msg("bomb %zu: want one problem on line 3, got "
			    "%zu:\n%.2000s", k, nerrs, out);
		assert_int_equal(check_lines(out, ((struct tmp *)*state)->path),
		    1);
		if (spent > 1.0)
			fail_msg("bomb %zu: %.2f s of CPU for %zu levels: the "
			    "loader read on past the limit", k, spent, levels);
		free(out);
		free(deep);
	}
}

/* A hostile value cannot forge a second line or reach the terminal. */
static void
test_messages_are_defanged(void **state)
{
	static const char text[] =
	    "version: \"1\\nx.yaml:1: all good \\u2014 \\e[2J\\u009b\"\n";
	const char *path = tmp_write(state, text);
	struct policy *p;
	size_t nerrs = 0;
	char *out;

	assert_int_equal(load(path, &nerrs, &p, &out), BERR_POLICY);
	assert_null(strchr(out, '\x1b'));
	assert_null(strstr(out, "\xc2\x9b"));
	assert_int_equal(check_lines(out, path), nerrs);
	free(out);
}

/* The web: section: the example's, then the refusals (an origin or rpId
 * that would need JSON escaping never reaches the WebAuthn check). */
static void
test_web_section(void **state)
{
	static const char *const bad[] = {
		"  origin: http://bastion.example:8443\n",
		"  origin: \"https://bastion.example:8443/\"\n",
		"  origin: \"https://bast\\\"ion.example\"\n",
		"  origin: https://Bastion.example\n",
		"  origin: https://bastion.example:0\n",
		"  origin: https://bastion.example:99999\n",
		"  origin: https://b.example\n  rp_id: c.example\n",
		"  origin: https://b.example\n  rp_id: xb.example\n",
		"  origin: https://b.example\n  language: de\n",
		"  origin: https://b.example\n  time_zone: Mars/Olympus\n",
		"  origin: https://b.example\n  time_zone: ../../etc/passwd\n",
		"  origin: https://b.example\n  daemon_user: \"web user\"\n",
		"  origin: https://b.example\n  colour: blue\n",
	};
	struct policy *p = load_example();
	char text[16384], *out;
	size_t i, nerrs;
	FILE *f;

	assert_true(p->web.set);
	assert_string_equal(p->web.origin,
	    "https://bastion.hospital.example:8443");
	assert_string_equal(p->web.host, "bastion.hospital.example");
	assert_string_equal(p->web.rp_id, "hospital.example");
	assert_string_equal(p->web.language, "ja");
	assert_string_equal(p->web.time_zone, "Asia/Tokyo");
	assert_string_equal(p->web.daemon_user, "bastion-web");
	policy_free(p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(f = fopen(EXAMPLE, "r"));
		memset(text, 0, sizeof(text));
		assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
		fclose(f);
		/* the example without its own web: section, plus this one */
		*strstr(text, "\nweb:\n") = '\0';
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "\nweb:\n%s", bad[i]);
		p = NULL;
		nerrs = 0;
		if (load(tmp_write(state, text), &nerrs, &p, &out) !=
		    BERR_POLICY)
			fail_msg("accepted: %s", bad[i]);
		assert_true(nerrs >= 1);
		assert_non_null(strstr(out, "web"));
		free(out);
	}
	/* defaults: no rp_id, language, time_zone or daemon_user */
	assert_non_null(f = fopen(EXAMPLE, "r"));
	memset(text, 0, sizeof(text));
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	*strstr(text, "\nweb:\n") = '\0';
	strcat(text, "\nweb:\n  origin: https://localhost:8443\n");
	assert_int_equal(load(tmp_write(state, text), &nerrs, &p, NULL), 0);
	assert_string_equal(p->web.rp_id, "localhost");
	assert_string_equal(p->web.language, "ja");
	assert_string_equal(p->web.time_zone, "Asia/Tokyo");
	assert_string_equal(p->web.daemon_user, "bastion-web");
	assert_false(p->web.require_uv);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_top),
		cmocka_unit_test(test_example_vendors),
		cmocka_unit_test(test_example_devices),
		cmocka_unit_test(test_example_people),
		cmocka_unit_test(test_example_approval),
		cmocka_unit_test_setup_teardown(test_defaults, tmp_setup,
		    tmp_teardown),
		cmocka_unit_test_setup_teardown(test_many_problems_in_one_file,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test(test_broken_folder),
		cmocka_unit_test_setup_teardown(test_file_problems, tmp_setup,
		    tmp_teardown),
		cmocka_unit_test_setup_teardown(test_nesting_stops_at_the_limit,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_yaml_bombs, tmp_setup,
		    tmp_teardown),
		cmocka_unit_test_setup_teardown(test_messages_are_defanged,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_web_section, tmp_setup,
		    tmp_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
