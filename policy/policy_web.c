/*
 * policy_web.c - the policy's web: section (issue 17, docs/POLICY.md "web",
 * docs/WEB.md): where the web console is reached and how it behaves.
 *
 *	web:
 *	  origin: https://bastion.hospital.example:8443
 *	  rp_id: bastion.hospital.example     (default: the origin's host)
 *	  language: ja                        (ja or en)
 *	  time_zone: Asia/Tokyo               (IANA, in /usr/share/zoneinfo)
 *	  require_uv: false
 *	  daemon_user: bastion-web            (who may use RUN_DIR/web.sock)
 *
 * The origin and rpId go byte for byte into the expected clientDataJSON
 * prefix of the WebAuthn check (proto/webauthn.c), which uses no JSON
 * parser: so they are refused here unless they are plain lower-case host
 * names (letters, digits, '-', '.'), which never need JSON escaping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy_int.h"

/* A lower-case DNS name of 1..253 characters: labels of a-z 0-9 '-'. */
static int
web_host_ok(const char *h, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253 || h[0] == '.' || h[n - 1] == '.')
		return (0);
	for (i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return (0);
			label = 0;
			continue;
		}
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-') || ++label > 63)
			return (0);
	}
	return (1);
}

/* "https://HOST[:PORT]" with nothing after: HOST into *host. */
static int
web_origin_ok(struct pctx *c, const char *s, char **host)
{
	const char *h = s + 8, *colon;
	unsigned long long port;
	size_t n;

	if (strncmp(s, "https://", 8) != 0)
		return (0);
	colon = strchr(h, ':');
	n = colon != NULL ? (size_t)(colon - h) : strlen(h);
	if (!web_host_ok(h, n))
		return (0);
	/* the port: digits to the end, 1..65535, no leading zero */
	if (colon != NULL && (parse_uint(colon + 1, &port) !=
	    (int)strlen(colon + 1) || port == 0 || port > 65535))
		return (0);
	if ((*host = xcalloc(c, 1, n + 1)) != NULL)
		memcpy(*host, h, n);
	return (1);
}

/* An IANA zone name that exists in the zoneinfo directory. */
static int
web_zone_ok(const char *z)
{
	char path[512];
	struct stat sb;
	size_t i;

	if (z[0] == '\0' || z[0] == '/' || strstr(z, "..") != NULL ||
	    strlen(z) > 64)
		return (0);
	for (i = 0; z[i] != '\0'; i++)
		if (!((z[i] >= 'a' && z[i] <= 'z') ||
		    (z[i] >= 'A' && z[i] <= 'Z') ||
		    (z[i] >= '0' && z[i] <= '9') || strchr("/_+-", z[i])))
			return (0);
	snprintf(path, sizeof(path), "%s/%s", POLICY_ZONEINFO_DIR, z);
	return (stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
}

void
parse_web(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "origin", "rp_id", "language",
	    "time_zone", "require_uv", "daemon_user", NULL };
	struct policy_web *w = &c->p->web;
	const struct ynode *m, *v;
	const char *s, *what = "web";
	size_t hn, rn;

	if ((m = ymap_get(root, "web")) == NULL)
		return;
	if (check_map(c, m, what, keys, "write web: with origin: "
	    "https://HOST:8443 and the other keys") != 0)
		return;
	w->set = 1;
	if ((s = field_scalar(c, m, "origin", what, "origin: https://HOST:PORT",
	    &v)) != NULL) {
		if (!web_origin_ok(c, s, &w->host))
			problem(c, v->line, "web: origin \"%.80s\" is not "
			    "https://HOST or https://HOST:PORT with a "
			    "lower-case host name and nothing after " DASH
			    " write it as the browser shows it, e.g. "
			    "https://bastion.hospital.example:8443", s);
		else
			w->origin = xstrdup(c, s);
	}
	if ((s = field_scalar(c, m, "rp_id", what, NULL, &v)) != NULL) {
		hn = w->host != NULL ? strlen(w->host) : 0;
		rn = strlen(s);
		if (!web_host_ok(s, rn) || (w->host != NULL &&
		    strcmp(s, w->host) != 0 && (rn >= hn ||
		    w->host[hn - rn - 1] != '.' ||
		    strcmp(w->host + hn - rn, s) != 0)))
			problem(c, v->line, "web: rp_id \"%.80s\" is not the "
			    "origin's host or a domain it lies in " DASH
			    " leave it out to use the host", s);
		else
			w->rp_id = xstrdup(c, s);
	} else if (w->host != NULL)
		w->rp_id = xstrdup(c, w->host);
	if ((s = field_scalar(c, m, "language", what, NULL, &v)) != NULL &&
	    strcmp(s, "ja") != 0 && strcmp(s, "en") != 0)
		problem(c, v->line, "web: language \"%.16s\" is not ja or en "
		    DASH " the console speaks Japanese (ja) and English (en)",
		    s);
	else
		w->language = xstrdup(c, s != NULL ? s : "ja");
	if ((s = field_scalar(c, m, "time_zone", what, NULL, &v)) != NULL &&
	    !web_zone_ok(s))
		problem(c, v->line, "web: time_zone \"%.64s\" is not a time "
		    "zone of %s " DASH " use an IANA name such as Asia/Tokyo",
		    s, POLICY_ZONEINFO_DIR);
	else
		w->time_zone = xstrdup(c, s != NULL ? s :
		    POLICY_DEFAULT_TIME_ZONE);
	get_bool(c, m, "require_uv", what, &w->require_uv);
	get_unix_name(c, m, "daemon_user", POLICY_DEFAULT_WEB_USER,
	    &w->daemon_user);
}
