/*
 * policy_files.c - files: on a vendor or a device (issue 18, docs/FILES.md):
 * which directions SFTP may move files in, how large one file and one
 * session's files may be, and whether legacy scp (scp -O) is parsed and
 * recorded file by file, relayed as opaque bytes, or refused.
 *
 *	files: {directions: in|out|both|none, max_file_size: 10M,
 *	        max_session_bytes: 1G, legacy_scp: parse|refuse|opaque,
 *	        approve: none|out}
 *
 * A device's block replaces its vendor's whole (no key-by-key merge, so
 * what applies is what one block says); keys left out of a block take
 * the defaults: both, no limits, legacy_scp parse.
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"

#define SIZE_HINT "write a number of bytes, or one followed by K, M, G " \
	"or T (powers of 1024: 512K, 10M, 2G)"

/* "10M" -> 10485760. 0 or -1. */
static int
parse_size(const char *s, uint64_t *out)
{
	unsigned long long v = 0;
	size_t i;
	unsigned shift = 0;

	*out = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 15 || (i == 0 && s[0] == '0' && s[1] != '\0'))
			return (-1);
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0)
		return (-1);
	switch (s[i]) {
	case '\0':
		break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default:
		return (-1);
	}
	if (s[i] != '\0' && s[i + 1] != '\0' && strcmp(s + i + 1, "iB") != 0)
		return (-1);
	if (shift > 0 && v > (POLICY_FILES_MAX_SIZE >> shift))
		return (-1);
	*out = (uint64_t)v << shift;
	return (*out > POLICY_FILES_MAX_SIZE ? -1 : 0);
}

static void
get_size(struct pctx *c, const struct ynode *m, const char *key,
    const char *what, uint64_t *out)
{
	const struct ynode *v;
	const char *s;

	if ((v = field(c, m, key, what, NULL)) == NULL ||
	    (s = scalar(c, v, key, what)) == NULL)
		return;
	if (parse_size(s, out) != 0 || *out == 0)
		problem(c, v->line, "%s: %s is \"%.64s\", not a size of 1 "
		    "byte to 1 PiB " DASH " " SIZE_HINT, what, key, s);
}

/* types: MIME types as libmagic names them (type/subtype). */
static void
parse_files_types(struct pctx *c, const struct ynode *v, const char *what,
    struct policy_files *f)
{
	const char *s, *slash;
	size_t i, j;

	for (i = 0; i < v->nkid; i++) {
		if ((s = scalar(c, v->kid[i], "types", what)) == NULL)
			continue;
		slash = strchr(s, '/');
		for (j = 0; s[j] != '\0' && (s[j] == '/' || s[j] == '.' ||
		    s[j] == '-' || s[j] == '+' || s[j] == '_' ||
		    (s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' &&
		    s[j] <= '9')); j++)
			;
		if (slash == NULL || slash == s || slash[1] == '\0' ||
		    strchr(slash + 1, '/') != NULL || s[j] != '\0' ||
		    j > POLICY_FILES_TYPE_MAX) {
			problem(c, v->kid[i]->line, "%s: types: \"%.64s\" is "
			    "not a MIME type " DASH " write it as file "
			    "--mime-type shows it, e.g. application/x-gzip",
			    what, s);
			continue;
		}
		if (f->ntypes == POLICY_FILES_TYPES) {
			problem(c, v->kid[i]->line, "%s: types: more than %d "
			    DASH " list at most %d", what, POLICY_FILES_TYPES,
			    POLICY_FILES_TYPES);
			return;
		}
		memcpy(f->types[f->ntypes++], s, j + 1);
	}
}

/* scan: clamd and clamd_socket: the import airlock (docs/FILES.md). */
static void
parse_files_scan(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_files *f)
{
	const struct ynode *v;
	const char *s;

	snprintf(f->clamd_socket, sizeof(f->clamd_socket), "%s",
	    POLICY_CLAMD_SOCKET);
	if ((s = field_scalar(c, m, "scan", what, NULL, &v)) != NULL) {
		if (strcmp(s, "clamd") == 0)
			f->scan = 1;
		else if (strcmp(s, "none") != 0)
			problem(c, v->line, "%s: scan is \"%.64s\" " DASH
			    " write clamd (uploads are held on the bastion, "
			    "scanned by ClamAV's clamd, then placed) or none",
			    what, s);
	}
	if ((s = field_scalar(c, m, "clamd_socket", what, NULL, &v)) != NULL) {
		if (s[0] != '/' || strlen(s) >= sizeof(f->clamd_socket))
			problem(c, v->line, "%s: clamd_socket is \"%.64s\" "
			    DASH " write the absolute path of clamd's "
			    "LocalSocket (at most %zu bytes)", what, s,
			    sizeof(f->clamd_socket) - 1);
		else
			snprintf(f->clamd_socket, sizeof(f->clamd_socket),
			    "%s", s);
	}
	if ((v = ymap_get(m, "types")) != NULL && check_seq(c, v, "types",
	    what, 1, "[application/octet-stream, text/plain]") == 0)
		parse_files_types(c, v, what, f);
	if (f->ntypes > 0 && !f->scan)
		problem(c, m->line, "%s: types without scan: clamd " DASH
		    " the types are checked in the airlock; add scan: clamd",
		    what);
	if (f->scan && f->legacy_scp == POLICY_SCP_OPAQUE)
		problem(c, m->line, "%s: scan: clamd with legacy_scp: opaque "
		    DASH " scp -O would carry files past the airlock unscanned; "
		    "remove legacy_scp: opaque", what);
	if (f->scan && !(f->directions & POLICY_FILES_IN))
		problem(c, m->line, "%s: scan: clamd with directions that "
		    "bring no file in " DASH " remove scan, or allow in",
		    what);
}

/* approve: out, export approval (docs/FILES.md "Export approval"). */
static void
parse_files_approve(struct pctx *c, const struct ynode *m, const char *what,
    struct policy_files *f)
{
	const struct ynode *v;
	const char *s;

	if ((s = field_scalar(c, m, "approve", what, NULL, &v)) == NULL)
		return;
	if (strcmp(s, "out") == 0)
		f->approve_out = 1;
	else if (strcmp(s, "none") != 0) {
		problem(c, v->line, "%s: approve is \"%.64s\" " DASH " write "
		    "out (every download waits until an admin approves the "
		    "file, its size and SHA-256) or none", what, s);
		return;
	}
	if (f->approve_out && !(f->directions & POLICY_FILES_OUT))
		problem(c, v->line, "%s: approve: out with directions that "
		    "let no file out " DASH " remove approve, or allow out",
		    what);
	if (f->approve_out && f->legacy_scp == POLICY_SCP_OPAQUE)
		problem(c, v->line, "%s: approve: out with legacy_scp: opaque "
		    DASH " scp -O would carry files out without approval; "
		    "remove legacy_scp: opaque", what);
}

void
parse_files(struct pctx *c, const struct ynode *owner, const char *who,
    const struct policy_files *inherit, struct policy_files *f)
{
	static const char *const keys[] = { "directions", "max_file_size",
	    "max_session_bytes", "legacy_scp", "scan", "clamd_socket", "types", "approve",
	    NULL };
	static const struct {
		const char *name;
		unsigned dirs;
	} dirs[] = {
		{ "both", POLICY_FILES_IN | POLICY_FILES_OUT },
		{ "in", POLICY_FILES_IN }, { "out", POLICY_FILES_OUT },
		{ "none", 0 },
	};
	const struct ynode *m, *v;
	const char *s;
	char what[160];
	size_t i;

	if ((m = ymap_get(owner, "files")) == NULL) {
		if (inherit != NULL && inherit->set)
			*f = *inherit;
		return;
	}
	snprintf(what, sizeof(what), "%s files", who);
	memset(f, 0, sizeof(*f));
	f->set = 1;
	f->line = m->line;
	f->directions = POLICY_FILES_IN | POLICY_FILES_OUT;
	if (check_map(c, m, what, keys, "write files: {directions: in, "
	    "max_file_size: 100M} or remove it") != 0)
		return;
	if ((s = field_scalar(c, m, "directions", what, NULL, &v)) != NULL) {
		for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) &&
		    strcmp(s, dirs[i].name) != 0; i++)
			;
		if (i < sizeof(dirs) / sizeof(dirs[0]))
			f->directions = dirs[i].dirs;
		else
			problem(c, v->line, "%s: directions is \"%.64s\" "
			    DASH " write in (to the device), out (from it), "
			    "both or none", what, s);
	}
	get_size(c, m, "max_file_size", what, &f->max_file_size);
	get_size(c, m, "max_session_bytes", what, &f->max_session_bytes);
	if ((s = field_scalar(c, m, "legacy_scp", what, NULL, &v)) != NULL) {
		if (strcmp(s, "opaque") == 0)
			f->legacy_scp = POLICY_SCP_OPAQUE;
		else if (strcmp(s, "refuse") == 0)
			f->legacy_scp = POLICY_SCP_REFUSE;
		else if (strcmp(s, "parse") != 0)
			problem(c, v->line, "%s: legacy_scp is \"%.64s\" "
			    DASH " write parse (the default: scp -O is read "
			    "file by file, recorded and limited like SFTP), "
			    "refuse (scp -O is refused, scp in its SFTP mode "
			    "works) or opaque (relayed and recorded as bytes, "
			    "no per-file record or limit)", what, s);
	}
	parse_files_scan(c, m, what, f);
	parse_files_approve(c, m, what, f);
}
