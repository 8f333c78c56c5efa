/*
 * policy_notify.c - approval.notify: where bastion-notify sends word of a
 * pending request (a mail through a sendmail-compatible command, a signed
 * webhook), and what the messages point to (the web console, the ssh
 * host). Everything here ends up in a mail header, a command line or a
 * URL, so each value is checked narrowly: plain addresses (mailaddr.h),
 * a command of words without quotes (it is split at blanks, never given
 * to a shell), https:// URLs without blanks or controls, http:// only to
 * loopback and only with insecure_http: true. docs/POLICY.md,
 * "approval.notify"; docs/APPROVALS.md, "Notifications".
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mailaddr.h"
#include "policy_int.h"

#define NOTIFY_URL_MAX		2048
#define NOTIFY_CMD_WORDS	16

void
policy_notify_free(struct policy_notify *n)
{
	size_t i;

	for (i = 0; i < n->nmail_to; i++)
		free(n->mail_to[i]);
	free(n->mail_to);
	free(n->mail_command);
	free(n->mail_from);
	free(n->webhook_url);
	free(n->webhook_secret_file);
	free(n->webhook_ca_file);
	free(n->console_url);
	free(n->ssh_host);
	memset(n, 0, sizeof(*n));
}

/* A URL we write into messages or fetch: printable ASCII, no blanks. */
static int
url_chars_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '"' || s[i] == '\\' || s[i] == '<' || s[i] == '>')
			return (0);
	return (i > 0 && i <= NOTIFY_URL_MAX);
}

/* http:// to a loopback host: 127.x, [::1] or localhost, then ':' or '/'. */
static int
url_loopback(const char *s)
{
	static const char *const hosts[] = { "http://127.", "http://[::1]",
	    "http://localhost", NULL };
	size_t i, n;

	for (i = 0; hosts[i] != NULL; i++) {
		n = strlen(hosts[i]);
		if (strncmp(s, hosts[i], n) != 0)
			continue;
		if (i == 0)	/* the rest of the address: digits and dots */
			n += strspn(s + n, "0123456789.");
		return (s[n] == ':' || s[n] == '/' || s[n] == '\0');
	}
	return (0);
}

/* A URL key: https://, or http:// to a loopback host when insecure_http
 * (policy_int.h). */
char *
get_url(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, const char *need, int insecure_http)
{
	const struct ynode *v;
	const char *s;

	if ((s = field_scalar(c, m, key, what, need, &v)) == NULL)
		return (NULL);
	if (!url_chars_ok(s) || (strncmp(s, "https://", 8) != 0 &&
	    !(insecure_http && url_loopback(s)))) {
		problem(c, v->line, "%s: %s \"%.64s\" is not an https:// URL "
		    DASH " write https://HOST[:PORT]/PATH without blanks "
		    "(http:// only to 127.0.0.1 with insecure_http: true)",
		    what, key, s);
		return (NULL);
	}
	return (xstrdup(c, s));
}

static void
parse_mail(struct pctx *c, const struct ynode *m, struct policy_notify *n)
{
	static const char *const keys[] = { "command", "to", "from", NULL };
	const char *what = "approval: notify: mail", *s;
	const struct ynode *v, *t;
	size_t i, words = 0;

	if (check_map(c, m, what, keys, "write mail: {command: "
	    "\"/usr/sbin/sendmail -t -oi\", to: [it@hospital.example], "
	    "from: bastion@hospital.example}") != 0)
		return;
	if ((s = field_scalar(c, m, "command", what, "command: "
	    "\"/usr/sbin/sendmail -t -oi\"", &v)) != NULL) {
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] != ' ' && (i == 0 || s[i - 1] == ' '))
				words++;
		if (s[0] != '/' || !text_ok(s) || strlen(s) >= PATH_MAX ||
		    strpbrk(s, "'\"\\\t") != NULL || words > NOTIFY_CMD_WORDS)
			problem(c, v->line, "%s: command \"%.64s\" is not an "
			    "absolute path followed by plain words " DASH
			    " write e.g. /usr/sbin/sendmail -t -oi (split at "
			    "blanks, no shell, no quotes, at most %d words)",
			    what, s, NOTIFY_CMD_WORDS);
		else
			n->mail_command = xstrdup(c, s);
	}
	if ((s = field_scalar(c, m, "from", what, "from: "
	    "bastion@hospital.example", &v)) != NULL) {
		if (!mailaddr_ok(s))
			problem(c, v->line, "%s: from \"%.64s\" is not a plain "
			    "mail address " DASH " write local@domain, "
			    "without a name or <>", what, s);
		else
			n->mail_from = xstrdup(c, s);
	}
	if ((v = field(c, m, "to", what, "to: [it@hospital.example]")) ==
	    NULL || check_seq(c, v, "to", what, 1,
	    "[it@hospital.example]") != 0)
		return;
	if (v->nkid > 32) {
		problem(c, v->line, "%s: to lists %zu addresses " DASH " "
		    "give at most 32 (use a mailing list)", what, v->nkid);
		return;
	}
	if ((n->mail_to = xcalloc(c, v->nkid, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		t = v->kid[i];
		if ((s = scalar(c, t, "to", what)) == NULL)
			continue;
		if (!mailaddr_ok(s)) {
			problem(c, t->line, "%s: to \"%.64s\" is not a plain "
			    "mail address " DASH " write local@domain, "
			    "without a name or <>", what, s);
			continue;
		}
		n->mail_to[n->nmail_to++] = xstrdup(c, s);
	}
}

static void
parse_webhook(struct pctx *c, const struct ynode *m, struct policy_notify *n)
{
	static const char *const keys[] = { "url", "secret_file", "ca_file",
	    "insecure_http", NULL };
	const char *what = "approval: notify: webhook";

	if (check_map(c, m, what, keys, "write webhook: {url: "
	    "https://HOST/PATH, secret_file: /etc/bastion/webhook.secret}") !=
	    0)
		return;
	get_bool(c, m, "insecure_http", what, &n->webhook_insecure_http);
	n->webhook_url = get_url(c, m, "url", what, "url: https://HOST/PATH",
	    n->webhook_insecure_http);
	(void)get_path(c, m, "secret_file", what, "secret_file: "
	    "/etc/bastion/webhook.secret (readable only by bastion-notify)",
	    &n->webhook_secret_file);
	if (ymap_get(m, "ca_file") != NULL)
		(void)get_path(c, m, "ca_file", what, NULL,
		    &n->webhook_ca_file);
}

void
parse_notify(struct pctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "mail", "webhook", "console_url",
	    "ssh_host", NULL };
	const char *what = "approval: notify", *s;
	struct policy_notify *n = &c->p->notify;
	const struct ynode *v;

	if (check_map(c, m, what, keys, "write notify: with mail: and/or "
	    "webhook:, and console_url:") != 0)
		return;
	if ((v = ymap_get(m, "mail")) != NULL)
		parse_mail(c, v, n);
	if ((v = ymap_get(m, "webhook")) != NULL)
		parse_webhook(c, v, n);
	if (ymap_get(m, "mail") == NULL && ymap_get(m, "webhook") == NULL)
		problem(c, m->line, "%s has neither mail nor webhook " DASH
		    " add one (or remove notify)", what);
	if (ymap_get(m, "console_url") != NULL)
		n->console_url = get_url(c, m, "console_url", what, NULL, 0);
	if ((s = field_scalar(c, m, "ssh_host", what, NULL, &v)) != NULL) {
		if (strlen(s) > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != strlen(s))
			problem(c, v->line, "%s: ssh_host \"%.64s\" is not a "
			    "host name or address " DASH " write the name "
			    "admins give ssh, e.g. bastion.hospital.example",
			    what, s);
		else
			n->ssh_host = xstrdup(c, s);
	}
	n->set = n->mail_command != NULL || n->webhook_url != NULL;
}

const char *
policy_notify_console_url(const struct policy *p)
{
	if (p->notify.console_url != NULL)
		return (p->notify.console_url);
	/* else the web console's own address */
	if (p->web.set && p->web.origin != NULL)
		return (p->web.origin);
	return (NULL);
}
