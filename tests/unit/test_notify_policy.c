/*
 * test_notify_policy.c - approval.notify in the policy loader
 * (policy/policy_notify.c): every setting lands in struct policy_notify
 * (relative paths resolved against the policy's folder, insecure_http
 * with a loopback http:// URL), a policy without it has set == 0, and
 * each value that would reach a mail header, a command line or another
 * host is refused with the line and what to write instead; the link's
 * base is console_url, else the web console's origin; the example
 * policy's commented section loads once uncommented. Under
 * `make check-asan` the loads and frees here also prove policy_free()
 * frees what the section holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "policy.h"

#define HEAD \
    "version: 1\n" \
    "listen: [\"127.0.0.1:2222\"]\n" \
    "paths: {host_keys: [hk], state_dir: st, recordings_dir: rec, " \
    "run_dir: run}\n" \
    "vendors: []\n" \
    "devices: []\n"

static char dir[] = "/tmp/test_notify_policy.XXXXXX";
static char path[sizeof(dir) + 16];

/* Load text as the policy file; the problems are returned in *errs. */
static int
load(const char *text, struct policy **p, char **errs)
{
	FILE *f;
	size_t len = 0, nerrs = 0;
	int r;

	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	*errs = NULL;
	assert_non_null(f = open_memstream(errs, &len));
	r = policy_load(path, f, &nerrs, p);
	fclose(f);
	return (r);
}

static void
test_all_settings(void **state)
{
	struct policy *p = NULL;
	const struct policy_notify *n;
	char *errs, want[sizeof(dir) + 16];

	(void)state;
	if (load(HEAD "approval:\n"
	    "  notify:\n"
	    "    mail:\n"
	    "      command: /usr/bin/msmtp -t --account=hospital\n"
	    "      to: [it@hospital.example, ward-7@hospital.example]\n"
	    "      from: bastion@hospital.example\n"
	    "    webhook:\n"
	    "      url: http://127.0.0.1:8080/hooks\n"
	    "      insecure_http: true\n"
	    "      secret_file: webhook.secret\n"
	    "      ca_file: /etc/bastion/ca.pem\n"
	    "    console_url: https://bastion.example:8443\n"
	    "    ssh_host: bastion.example\n", &p, &errs) != 0)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	n = &p->notify;
	assert_true(n->set);
	assert_string_equal(n->mail_command,
	    "/usr/bin/msmtp -t --account=hospital");
	assert_int_equal(n->nmail_to, 2);
	assert_string_equal(n->mail_to[0], "it@hospital.example");
	assert_string_equal(n->mail_to[1], "ward-7@hospital.example");
	assert_string_equal(n->mail_from, "bastion@hospital.example");
	assert_string_equal(n->webhook_url, "http://127.0.0.1:8080/hooks");
	assert_true(n->webhook_insecure_http);
	snprintf(want, sizeof(want), "/webhook.secret");
	assert_non_null(strstr(n->webhook_secret_file, want));
	assert_int_equal(n->webhook_secret_file[0], '/');
	assert_string_equal(n->webhook_ca_file, "/etc/bastion/ca.pem");
	assert_string_equal(n->console_url, "https://bastion.example:8443");
	assert_string_equal(n->ssh_host, "bastion.example");
	assert_null(p->notify_command);
	policy_free(p);

	/* without it: nothing set */
	assert_int_equal(load(HEAD "approval: {required: true}\n", &p, &errs),
	    0);
	free(errs);
	assert_false(p->notify.set);
	assert_null(p->notify.mail_command);
	assert_null(p->notify.webhook_url);
	policy_free(p);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *notify, *line;
	} bad[] = {
		{ "{webhook: {url: \"https://h.example/x y\", secret_file: s}}",
		    "is not an https:// URL" },
		{ "{webhook: {url: \"http://127.0.0.1.evil.example/\", "
		    "insecure_http: true, secret_file: s}}",
		    "is not an https:// URL" },
		{ "{webhook: {url: \"http://localhostx/\", insecure_http: true, "
		    "secret_file: s}}", "is not an https:// URL" },
		{ "{webhook: {url: \"https://h.example/\"}}",
		    "has no \"secret_file\"" },
		{ "{webhook: {url: \"https://h.example/\", secret_file: s, "
		    "proxy: x}}", "proxy" },
		{ "{mail: {command: \"/usr/sbin/sendmail -t\", to: [], "
		    "from: b@h.example}}", "empty list" },
		{ "{mail: {command: \"/usr/sbin/sendmail -t\", "
		    "to: [\"a@h.example, evil@x.example\"], from: b@h.example}}",
		    "is not a plain mail address" },
		{ "{mail: {command: \"/usr/sbin/sendmail -t\", to: [a@h.example],"
		    " from: \"Bastion <b@h.example>\"}}",
		    "is not a plain mail address" },
		{ "{mail: {command: \"/bin/sh -c 'mail it'\", to: [a@h.example],"
		    " from: b@h.example}}", "is not an absolute path followed "
		    "by plain words" },
		{ "{mail: {to: [a@h.example], from: b@h.example}}",
		    "has no \"command\"" },
		{ "{console_url: \"javascript:alert(1)\", webhook: {url: "
		    "\"https://h.example/\", secret_file: s}}",
		    "is not an https:// URL" },
		{ "{ssh_host: \"b.example; rm\", webhook: {url: "
		    "\"https://h.example/\", secret_file: s}}",
		    "is not a host name" },
		{ "{console_url: \"https://b.example\"}",
		    "has neither mail nor webhook" },
	};
	struct policy *p;
	char text[1024], *errs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "approval:\n  notify: %s\n",
		    bad[i].notify);
		p = NULL;
		assert_int_equal(load(text, &p, &errs), BERR_POLICY);
		assert_null(p);
		if (strstr(errs, bad[i].line) == NULL ||
		    strstr(errs, ":7: ") == NULL)
			fail_msg("%s: wanted \"%s\" on line 7, got:\n%s",
			    bad[i].notify, bad[i].line, errs);
		free(errs);
	}
}

/* Load HEAD, a mail-only approval.notify with the lines extra adds to it
 * (and what follows), and check the console the messages link to. */
static void
console_is(const char *extra, const char *want)
{
	struct policy *p = NULL;
	char *errs, text[1024];

	snprintf(text, sizeof(text), "%sapproval:\n"
	    "  notify:\n"
	    "    mail: {command: /usr/bin/msmtp -t, to: [it@h.example], "
	    "from: b@h.example}\n%s", HEAD, extra);
	if (load(text, &p, &errs) != 0)
		fail_msg("does not load:\n%s", errs);
	free(errs);
	if (want == NULL)
		assert_null(policy_notify_console_url(p));
	else
		assert_string_equal(policy_notify_console_url(p), want);
	policy_free(p);
}

/* The link's base: console_url, else the web console's origin, else none. */
static void
test_console_url_default(void **state)
{
	(void)state;
	console_is("    console_url: https://console.example\n",
	    "https://console.example");
	console_is("", NULL);
	/* with the web console's section (issue 17): its origin, unless
	 * console_url says otherwise */
	console_is("web: {origin: \"https://bastion.example:8443\", "
	    "daemon_user: root}\n", "https://bastion.example:8443");
	console_is("    console_url: https://console.example\n"
	    "web: {origin: \"https://bastion.example:8443\", "
	    "daemon_user: root}\n", "https://console.example");
}

/*
 * policies/example.yaml's commented approval.notify, uncommented (each
 * line from "  # notify:" on that starts "  #" loses its "# "): a real
 * example that loads, with the values the comments promise.
 */
static void
test_example_uncommented(void **state)
{
	struct policy *p = NULL;
	FILE *in, *out;
	char line[512], *errs, *text = NULL;
	size_t len = 0;
	int on = 0, n = 0;

	(void)state;
	assert_non_null(in = fopen("policies/example.yaml", "r"));
	assert_non_null(out = open_memstream(&text, &len));
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strcmp(line, "  # notify:\n") == 0)
			on = 1;
		else if (strncmp(line, "  #", 3) != 0)
			on = 0;
		if (on && strncmp(line, "  # ", 4) == 0) {
			fprintf(out, "  %s", line + 4);
			n++;
		} else
			fputs(line, out);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_true(n >= 10);		/* the whole block */
	if (load(text, &p, &errs) != 0)
		fail_msg("the example's notify does not load:\n%s", errs);
	free(errs);
	free(text);
	assert_true(p->notify.set);
	assert_string_equal(p->notify.mail_command, "/usr/bin/msmtp -t");
	assert_int_equal(p->notify.nmail_to, 1);
	assert_string_equal(p->notify.webhook_url,
	    "https://chat.hospital.example/hooks/bastion");
	assert_string_equal(policy_notify_console_url(p),
	    "https://bastion.hospital.example:8443");
	assert_string_equal(p->notify.ssh_host, "bastion.hospital.example");
	assert_null(p->notify_command);
	policy_free(p);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_settings),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_console_url_default),
		cmocka_unit_test(test_example_uncommented),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
