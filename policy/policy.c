/*
 * policy.c - load and validate the bastion policy (contract in policy.h,
 * every key documented in docs/POLICY.md): the entry, the file, the top
 * level of the schema, and the lookups. The other stages and sections
 * live beside it, one concern a file (policy_int.h lists them).
 *
 * Loading runs in three stages, each of which can only narrow what the next
 * one sees:
 *
 *  1. The file is read whole, up to POLICY_MAX_FILE_SIZE, and hashed.
 *  2. libyaml's event parser builds a small tree of nodes that remember
 *     their line (struct ynode). This is where the YAML-level hazards are
 *     stopped: anchors and aliases (cycles, "billion laughs") and tags are
 *     refused, nesting depth, list lengths, scalar lengths and the total
 *     node count are capped. Nothing after this stage recurses more than
 *     the fixed depth of the schema.
 *  3. The validators walk that tree against the schema, fill the typed
 *     struct policy and record every problem with its line. Checks that
 *     need the whole file (unique names and keys, each device inside its
 *     vendor's segments, no two vendors sharing addresses) run last.
 *
 * Problems are kept, sorted by line and printed at the end as
 * "FILE:LINE: what is wrong — what to do", so an admin reads them top to
 * bottom and fixes the file in one pass. Any problem discards the policy.
 * Values quoted in messages have control characters replaced, so a hostile
 * file cannot forge extra lines or drive the admin's terminal.
 *
 * Stage 1 is here, stage 2 in policy_yaml.c; stage 3 reads fields through
 * policy_schema.c, section by section (here, policy_limits.c,
 * policy_people.c, policy_devices.c) and ends with policy_check.c.
 */
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "io.h"
#include "mem.h"
#include "netaddr.h"
#include "policy.h"
#include "policy_int.h"

/* ---------------------------------------------------------------------- */
/* Sections */

void
add_name(struct pctx *c, struct names *l, const char *name,
    const char *kind, int line)
{
	if (name == NULL || grow(c, (void **)&l->v, &l->a, l->n,
	    sizeof(*l->v)) != 0)
		return;
	l->v[l->n].name = name;
	l->v[l->n].kind = kind;
	l->v[l->n].line = line;
	l->n++;
}

static void
parse_version(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v;
	const char *s;

	if ((v = field(c, root, "version", "the policy",
	    "version: 1 at the top")) == NULL ||
	    (s = scalar(c, v, "version", "the policy")) == NULL)
		return;
	if (strcmp(s, "1") != 0)
		problem(c, v->line, "policy version \"%.32s\" is not supported "
		    DASH " this bastion reads version: 1", s);
}

/* "ADDR:PORT" or "[IPv6]:PORT", literal addresses only (policy_int.h). */
int
listen_addr(struct pctx *c, int line, const char *const what[2],
    const char *s, struct netaddr *a, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *hs = s;
	size_t hl = 0;

	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (colon != NULL && colon[1] == ':') {
			hs = s + 1;
			hl = (size_t)(colon - hs);
			colon++;
		} else
			colon = NULL;
	} else {
		colon = strrchr(s, ':');
		hl = colon != NULL ? (size_t)(colon - s) : 0;
		if (colon != NULL && memchr(s, ':', hl) != NULL)
			colon = NULL;	/* bare IPv6 */
	}
	if (colon == NULL || hl == 0 || hl >= sizeof(host) ||
	    parse_port(colon + 1, port) != 0) {
		problem(c, line, "%s \"%.64s\" is not ADDRESS:PORT " DASH
		    " write e.g. \"127.0.0.1:2222\" or \"[::1]:2222\" (port 1 "
		    "to 65535)", what[0], s);
		return (-1);
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (netaddr_parse(host, a) != 0) {
		problem(c, line, "%s address \"%.64s\" is not a literal IP "
		    "address " DASH " write it as a.b.c.d or [IPv6] (no host "
		    "names, no shorthands like 127.1)", what[1], host);
		return (-1);
	}
	return (0);
}

static void
parse_listen(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v, *it;
	struct policy *p = c->p;
	struct netaddr a;
	char txt[INET6_ADDRSTRLEN];
	const char *s;
	size_t i, j;
	uint16_t port;

	if ((v = field(c, root, "listen", "the policy",
	    "listen: [\"127.0.0.1:2222\"]")) == NULL ||
	    check_seq(c, v, "listen", "the policy", 1,
	    "[\"127.0.0.1:2222\"]") != 0)
		return;
	if ((p->listen = xcalloc(c, v->nkid, sizeof(*p->listen))) == NULL)
		return;
	for (i = 0; i < v->nkid; i++) {
		it = v->kid[i];
		if ((s = scalar(c, it, "listen entry", "the policy")) == NULL ||
		    listen_addr(c, it->line, (const char *const []){
		    "listen entry", "listen" }, s, &a, &port) != 0)
			continue;
		for (j = 0; j < p->nlisten; j++) {
			struct netaddr b;

			if (netaddr_parse(p->listen[j].host, &b) == 0 &&
			    netaddr_equal(&a, &b) && p->listen[j].port == port)
				break;
		}
		if (j < p->nlisten) {
			problem(c, it->line, "listen entry \"%.64s\" is given "
			    "twice " DASH " remove one", s);
			continue;
		}
		netaddr_str(&a, txt, sizeof(txt));
		if ((p->listen[p->nlisten].host = xstrdup(c, txt)) == NULL)
			return;
		p->listen[p->nlisten++].port = port;
	}
}

static void
parse_paths(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "host_keys", "state_dir",
	    "recordings_dir", "run_dir", "pam_service_dir", "recorder_socket",
	    NULL };
	const struct ynode *m, *v;
	struct policy *p = c->p;
	const char *what = "paths";
	size_t i;

	if ((m = field(c, root, "paths", "the policy", "paths: with "
	    "host_keys, state_dir, recordings_dir and run_dir")) == NULL ||
	    check_map(c, m, what, keys, "give host_keys, state_dir, "
	    "recordings_dir and run_dir") != 0)
		return;
	if ((v = field(c, m, "host_keys", what,
	    "host_keys: [PATH] (the bastion's own SSH host keys)")) != NULL &&
	    check_seq(c, v, "host_keys", what, 1,
	    "[hostkeys/ssh_host_ed25519_key]") == 0 &&
	    (p->host_keys = xcalloc(c, v->nkid, sizeof(char *))) != NULL) {
		for (i = 0; i < v->nkid; i++) {
			char *r = resolve_path(c, v->kid[i], "host_keys entry",
			    what);

			if (r != NULL)
				p->host_keys[p->nhost_keys++] = r;
		}
	}
	get_path(c, m, "state_dir", what, "state_dir: DIR (SQLite state)",
	    &p->state_dir);
	get_path(c, m, "recordings_dir", what, "recordings_dir: DIR",
	    &p->recordings_dir);
	get_path(c, m, "run_dir", what, "run_dir: DIR (control sockets)",
	    &p->run_dir);
	/* optional: a private PAM configuration directory */
	(void)get_path(c, m, "pam_service_dir", what, NULL,
	    &p->pam_service_dir);
	/* optional: the socket of a recorder that runs as its own service */
	if ((v = field(c, m, "recorder_socket", what, NULL)) != NULL &&
	    (p->recorder_socket = resolve_path(c, v, "recorder_socket",
	    what)) != NULL) {
		p->recorder_external = 1;
		if (strlen(p->recorder_socket) >=
		    sizeof(((struct sockaddr_un *)NULL)->sun_path))
			problem(c, v->line, "paths: recorder_socket is longer "
			    "than a Unix socket name may be (%zu bytes) " DASH
			    " choose a shorter path, e.g. "
			    "/run/bastion-recorder/recorder.sock",
			    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
	} else if (p->run_dir != NULL && asprintf(&p->recorder_socket,
	    "%s/recorder.sock", p->run_dir) < 0) {
		p->recorder_socket = NULL;
		c->nomem = 1;
	}
}

/* ---------------------------------------------------------------------- */
/* Top level */

/*
 * A local user or group name (admin_group, worker_user): key's value, or
 * def when absent.
 */
void
get_unix_name(struct pctx *c, const struct ynode *root, const char *key,
    const char *def, char **out)
{
	const struct ynode *v;
	const char *s;
	size_t i, n;
	int ok;

	if ((s = field_scalar(c, root, key, "the policy", NULL, &v)) ==
	    NULL) {
		*out = xstrdup(c, def);
		return;
	}
	n = strlen(s);
	ok = n > 0 && n <= 32 && (s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'));
	for (i = 1; ok && i < n; i++)
		ok = s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9');
	if (!ok) {
		problem(c, v->line, "%s '%s' is not a user or group name "
		    DASH " use lower-case letters, digits, '_' and '-', e.g. "
		    "%s: %s", key, s, key, def);
		return;
	}
	*out = xstrdup(c, s);
}

/* The list key of the top level must hold ([] for none); NULL when it is
 * missing or not a list (reported). */
static const struct ynode *
root_list(struct pctx *c, const struct ynode *root, const char *key)
{
	const struct ynode *v;
	char need[64], hint[64];

	snprintf(need, sizeof(need), "%s: (a list, [] for none)", key);
	snprintf(hint, sizeof(hint), "[] or a list of %s", key);
	if ((v = field(c, root, key, "the policy", need)) == NULL ||
	    check_seq(c, v, key, "the policy", 0, hint) != 0)
		return (NULL);
	return (v);
}

static void
parse_root(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "version", "listen", "paths",
	    "limits", "approval", "work_record", "require_attestation",
	    "admin_group", "worker_user", "vendors", "devices", "admins",
	    "auditors", "web", "store", "recordings", "proxy_protocol",
	    NULL };
	struct policy *p = c->p;
	const struct ynode *v;
	size_t i;

	if (root->bad)
		return;
	if (root->kind != YNODE_MAP) {
		problem(c, root->line, "the policy is %s, not a mapping of "
		    "keys " DASH " start with version: 1, listen:, paths:, "
		    "vendors: and devices: (see policies/example.yaml)",
		    ynode_kind_name(root));
		return;
	}
	check_map(c, root, "the policy", keys, "");
	parse_version(c, root);
	parse_listen(c, root);
	parse_proxy_protocol(c, root);
	parse_paths(c, root);
	parse_limits(c, root);
	parse_store(c, root);
	parse_recordings(c, root);
	parse_global_approval(c, root);
	get_bool(c, root, "work_record", "the policy", &p->work_record);
	/* before the vendors, which inherit it */
	get_bool(c, root, "require_attestation", "the policy",
	    &p->require_attestation);
	/* bastionctl's group; the user session workers drop to */
	get_unix_name(c, root, "admin_group", POLICY_DEFAULT_ADMIN_GROUP,
	    &p->admin_group);
	get_unix_name(c, root, "worker_user", POLICY_DEFAULT_WORKER_USER,
	    &p->worker_user);
	parse_web(c, root);	/* the web console (policy_web.c) */

	if ((v = root_list(c, root, "vendors")) != NULL &&
	    (p->vendors = xcalloc(c, v->nkid, sizeof(*p->vendors))) != NULL)
		for (i = 0; i < v->nkid; i++)
			parse_vendor(c, v->kid[i], &p->vendors[p->nvendors++]);
	if ((v = root_list(c, root, "devices")) != NULL &&
	    (p->devices = xcalloc(c, v->nkid, sizeof(*p->devices))) != NULL)
		for (i = 0; i < v->nkid; i++)
			parse_device(c, v->kid[i], &p->devices[p->ndevices++]);
	if ((v = field(c, root, "admins", "the policy", NULL)) != NULL)
		parse_people(c, v, "admins", "the policy", ROLE_ADMIN, NULL,
		    &p->admins, &p->nadmins);
	if ((v = field(c, root, "auditors", "the policy", NULL)) != NULL)
		parse_people(c, v, "auditors", "the policy", ROLE_AUDITOR,
		    NULL, &p->auditors, &p->nauditors);

	check_unique_names(c, &c->vnames, "vendor names");
	check_unique_names(c, &c->dnames, "device names");
	check_unique_names(c, &c->pnames,
	    "names of engineers, admins and auditors together");
	check_unique_keys(c);
	check_segment_overlap(c);
}

/* policy_pin(): the text policy_load(pin.path) reads instead of the file */
static struct {
	char *path;
	uint8_t *text;
	size_t len;
} pin;

int
policy_pin(const char *path, int fd)
{
	uint8_t *text = NULL;
	char *copy = NULL;
	size_t len = 0;
	int r = BERR_NOMEM;

	free(pin.path);
	free(pin.text);
	memset(&pin, 0, sizeof(pin));
	if (path == NULL) {
		if (fd >= 0)
			close(fd);
		return (0);
	}
	if (fd < 0)
		return (BERR_INVAL);
	if ((copy = strdup(path)) == NULL ||
	    (text = malloc(POLICY_MAX_FILE_SIZE + 1)) == NULL)
		goto out;
	/* pread: the descriptor's offset is shared with the listener */
	if ((r = io_pread_upto(fd, text, POLICY_MAX_FILE_SIZE + 1, 0,
	    &len)) != 0)
		goto out;
	if (len > POLICY_MAX_FILE_SIZE) {
		r = BERR_LIMIT;
		goto out;
	}
	pin.path = copy;
	if ((pin.text = realloc(text, len + 1)) == NULL)
		pin.text = text;
	pin.len = len;
	copy = NULL;
	text = NULL;
	r = 0;
 out:
	free(copy);
	free(text);
	close(fd);
	return (r);
}

/* Read the whole file, refusing anything but a regular file within the
 * size cap. Problems are reported at line 0 (the file as a whole). */
static int
read_policy_file(struct pctx *c, uint8_t **datap, size_t *lenp)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t len = 0;
	int fd, r = BERR_SYS;

	*datap = NULL;
	*lenp = 0;
	if (pin.path != NULL && strcmp(pin.path, c->path) == 0) {
		if ((*datap = malloc(pin.len + 1)) == NULL) {
			c->nomem = 1;
			return (BERR_NOMEM);
		}
		memcpy(*datap, pin.text, pin.len);
		*lenp = pin.len;
		return (0);
	}
	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		problem(c, 0, "cannot open the policy file: %s " DASH " "
		    "check the path and that this user may read it",
		    strerror(errno));
		return (BERR_SYS);
	}
	if (fstat(fd, &st) == -1) {
		problem(c, 0, "cannot stat the policy file: %s " DASH " "
		    "check the path", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(c, 0, "the policy is not a regular file " DASH " "
		    "point -f at the policy YAML file");
		r = BERR_POLICY;
		goto out;
	}
	if (st.st_size > (off_t)POLICY_MAX_FILE_SIZE)
		goto big;
	if ((data = malloc(POLICY_MAX_FILE_SIZE + 1)) == NULL) {
		r = BERR_NOMEM;
		c->nomem = 1;
		goto out;
	}
	if (io_read_upto(fd, data, POLICY_MAX_FILE_SIZE + 1, &len) != 0) {
		problem(c, 0, "cannot read the policy file: %s " DASH " check "
		    "the file and the disk", strerror(errno));
		goto out;
	}
	if (len > POLICY_MAX_FILE_SIZE)
		goto big;
	*datap = data;
	*lenp = len;
	data = NULL;
	r = 0;
	goto out;
 big:
	problem(c, 0, "the policy file is bigger than the limit of %u bytes "
	    DASH " this is not a policy file, or remove unused "
	    "entries", POLICY_MAX_FILE_SIZE);
	r = BERR_POLICY;
 out:
	free(data);
	close(fd);
	return (r);
}

/* Absolute directory of the policy file, for relative paths: the daemon
 * may change directory later, so a relative one would not do. */
static int
policy_dir(struct pctx *c)
{
	char *copy;
	int r = 0;

	if ((copy = strdup(c->path)) == NULL)
		return (BERR_NOMEM);
	if ((c->dir = realpath(dirname(copy), NULL)) == NULL) {
		if (errno == ENOMEM)
			r = BERR_NOMEM;
		else {
			problem(c, 0, "cannot resolve the directory of the "
			    "policy file: %s " DASH " check the path",
			    strerror(errno));
			r = BERR_SYS;
		}
	}
	free(copy);
	return (r);
}

static void
person_free(struct policy_person *w)
{
	size_t i;

	for (i = 0; i < w->nkeys; i++)
		FREE_ALL(w->keys[i].type, w->keys[i].base64,
		    w->keys[i].comment);
	FREE_ALL(w->keys, w->name, w->full_name, w->unix_user);
}

void
policy_free(struct policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlisten; i++)
		free(p->listen[i].host);
	for (i = 0; i < p->nhost_keys; i++)
		free(p->host_keys[i]);
	for (i = 0; i < p->nrec_recipients; i++)
		free(p->rec_recipients[i]);
	FREE_ALL(p->rec_recipients, p->rec_server_identity, p->proxy_from);
	FREE_ALL(p->listen, p->host_keys, p->state_dir, p->recordings_dir,
	    p->run_dir, p->pam_service_dir, p->recorder_socket, p->text,
	    p->approval.windows, p->notify_command, p->admin_group,
	    p->worker_user, p->web.origin, p->web.rp_id, p->web.host,
	    p->web.language, p->web.time_zone, p->web.daemon_user);
	policy_notify_free(&p->notify);
	policy_recstore_free(&p->recstore);
	FREE_ALL(p->store_conninfo, p->store_password_file, p->store_node,
	    p->store_health.host);
	for (i = 0; i < p->nstore_nodes; i++)
		FREE_ALL(p->store_nodes[i].node, p->store_nodes[i].key);
	free(p->store_nodes);
	for (i = 0; i < p->nvendors; i++) {
		struct policy_vendor *vd = &p->vendors[i];

		for (j = 0; j < vd->nengineers; j++)
			person_free(&vd->engineers[j]);
		FREE_ALL(vd->name, vd->description, vd->segments, vd->sources,
		    vd->approval.windows, vd->engineers);
	}
	for (i = 0; i < p->ndevices; i++) {
		struct policy_device *d = &p->devices[i];

		FREE_ALL(d->name, d->description, d->vendor_name, d->address,
		    d->login, d->credential, d->host_key, d->forward_ports,
		    d->approval.windows);
	}
	for (i = 0; i < p->nadmins; i++)
		person_free(&p->admins[i]);
	for (i = 0; i < p->nauditors; i++)
		person_free(&p->auditors[i]);
	FREE_ALL(p->vendors, p->devices, p->admins, p->auditors, p->path, p);
}

/* What a policy that leaves them out gets (docs/POLICY.md); the rest 0. */
static const struct policy defaults = {
	.login_grace = 30, .keepalive = 30, .max_unauthenticated = 20,
	.per_source_max_unauthenticated = 10,
	.vendor_source_max_unauthenticated = 64,
	.vendor_source_penalty_max = 60, .idle_timeout = 900,
	.idle_warning = 60, .max_session = 14400, .default_max_grant = 14400,
	.recording_min_free_mb = 256, .touch_transfer_window = 300,
	.approval_timeout = 600,
};

int
policy_load(const char *path, FILE *errs, size_t *nerrs,
    struct policy **out)
{
	struct pctx c;
	struct policy *p;
	struct ynode *root = NULL;
	uint8_t *data = NULL;
	size_t len = 0, i;
	int r, complete = 0;

	if (out != NULL)
		*out = NULL;
	if (nerrs != NULL)
		*nerrs = 0;
	if (path == NULL || out == NULL)
		return (BERR_INVAL);
	memset(&c, 0, sizeof(c));
	c.path = path;
	if ((p = c.p = malloc(sizeof(*p))) == NULL)
		return (BERR_NOMEM);
	*p = defaults;

	if ((p->path = strdup(path)) == NULL) {
		r = BERR_NOMEM;
		goto out;
	}
	if ((r = read_policy_file(&c, &data, &len)) != 0 ||
	    (r = policy_dir(&c)) != 0)
		goto out;
	if (EVP_Digest(data, len, p->sha256, NULL, EVP_sha256(), NULL) != 1) {
		r = BERR_CRYPTO;
		goto out;
	}
	if ((r = yaml_tree(&c, data, len, &root, &complete)) != 0)
		goto out;
	if (complete && root == NULL)
		problem(&c, 1, "the policy file has no content " DASH " "
		    "start from policies/example.yaml");
	else if (complete)
		parse_root(&c, root);
	if (c.nomem)
		r = BERR_NOMEM;
	else if (c.nerrs > 0)
		r = BERR_POLICY;
 out:
	if (r == BERR_NOMEM) {
		/* half-built state produces misleading problems */
		for (i = 0; i < c.nprobs; i++)
			free(c.probs[i].msg);
		c.nprobs = c.nerrs = 0;
	}
	problems_print(&c, errs);
	if (nerrs != NULL)
		*nerrs = c.nerrs;
	if (r == 0) {
		/* keep the text (bastiond hands it to its workers), in a
		 * block of its own size rather than the reading buffer's */
		if ((p->text = realloc(data, len + 1)) == NULL)
			p->text = data;
		p->textlen = len;
		data = NULL;
		*out = p;
		p = NULL;
	}
	policy_free(p);
	ynode_free(root);
	free(data);
	for (i = 0; i < c.nprobs; i++)
		free(c.probs[i].msg);
	FREE_ALL(c.dir, c.probs, c.vnames.v, c.dnames.v, c.pnames.v, c.keys.v,
	    c.segs);
	return (r);
}

/* ---------------------------------------------------------------------- */
/* Lookups */

struct policy_vendor *
policy_vendor(const struct policy *p, const char *name)
{
	if (p == NULL || name == NULL)
		return (NULL);
	return (find_vendor(p, name));
}

void *
find_by_string(const void *v, size_t n, size_t size, size_t off,
    const char *s)
{
	const char *e = v, *k;
	size_t i;

	for (i = 0; i < n; i++, e += size) {
		memcpy(&k, e + off, sizeof(k));
		if (k != NULL && strcmp(k, s) == 0)
			return ((void *)(uintptr_t)e);
	}
	return (NULL);
}

struct policy_device *
policy_device(const struct policy *p, const char *name)
{
	if (p == NULL || name == NULL)
		return (NULL);
	return (FIND_BY(p->devices, p->ndevices, name, name));
}

struct policy_person *
policy_person(const struct policy *p, const char *name,
    enum policy_role *role)
{
	struct policy_person *w = NULL;
	enum policy_role r = ROLE_ENGINEER;
	size_t i;

	if (role != NULL)
		*role = ROLE_NONE;
	if (p == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < p->nvendors && w == NULL; i++)
		w = FIND_BY(p->vendors[i].engineers, p->vendors[i].nengineers,
		    name, name);
	if (w == NULL &&
	    (w = FIND_BY(p->admins, p->nadmins, name, name)) != NULL)
		r = ROLE_ADMIN;
	if (w == NULL &&
	    (w = FIND_BY(p->auditors, p->nauditors, name, name)) != NULL)
		r = ROLE_AUDITOR;
	if (w != NULL && role != NULL)
		*role = r;
	return (w);
}

const char *
policy_role_name(enum policy_role role)
{
	static const char *const names[] = {
		[ROLE_NONE] = "none",
		[ROLE_ENGINEER] = "engineer",
		[ROLE_ADMIN] = "admin",
		[ROLE_AUDITOR] = "auditor",
	};

	return ((size_t)role < sizeof(names) / sizeof(names[0]) ?
	    names[role] : "none");
}

int
policy_work_record(const struct policy *p, const struct policy_vendor *vd)
{
	if (vd != NULL && vd->work_record != -1)
		return (vd->work_record);
	return (p->work_record);
}

int
policy_require_attestation(const struct policy *p,
    const struct policy_vendor *vd)
{
	if (vd != NULL && vd->require_attestation != -1)
		return (vd->require_attestation);
	return (p->require_attestation);
}

struct policy_person *
policy_admin_by_unix_user(const struct policy *p, const char *login)
{
	if (p == NULL || login == NULL)
		return (NULL);
	return (FIND_BY(p->admins, p->nadmins, unix_user, login));
}

int
policy_person_active(const struct policy_person *who, time_t now)
{
	if (who == NULL || !who->enabled)
		return (0);
	return (who->valid_until == 0 || now <= who->valid_until);
}

void
policy_device_approval(const struct policy *p, const struct policy_device *d,
    struct policy_approval *out)
{
	if (d != NULL && d->approval.set)
		*out = d->approval;
	else if (d != NULL && d->vendor != NULL && d->vendor->approval.set)
		*out = d->vendor->approval;
	else
		*out = p->approval;
	if (out->max_grant == 0)
		out->max_grant = p->default_max_grant;
}
