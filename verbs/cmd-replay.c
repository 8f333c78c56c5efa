/*
 * cmd-replay.c - the auditor's "replay SESSION": the sanitised text
 * transcript of a recording (bastion-replay --text, checked with the
 * recorder's public key). The header says how the session was let in
 * from the audit chain, which the recording's own field cannot prove; for
 * another node's recording (fetched from the object store), from the
 * shared state store's rows, saying so (audstore.h).
 *
 * An encrypted recording (format 2, docs/RECORDING-FORMAT.md section 13)
 * is replayed here only through an explicit unlock: the policy must say
 * recordings: server_unlock: allow, the server identity must be a regular
 * file only root can read, and the unlock is audited (recording.unlock)
 * before the key is used; refusals are audited too. Otherwise the auditor
 * is told to replay on their own machine with their own key.
 *
 * And "cast SESSION": the same recording as asciicast v2 (bastion-replay
 * --asciicast, sanitised), what the web console's player plays; an
 * encrypted one only through the same audited unlock as replay.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auditlog.h"
#include "audstore.h"
#include "audverb.h"
#include "log.h"
#include "recreader.h"

static int
replay_refuse(struct verb_ctx *c, const char *id, const char *reason)
{
	(void)audit_ev(BEV_RECORDING_UNLOCK, "session", c->session, "user",
	    c->admin, "recording", id, "result", "refused", "reason", reason,
	    NULL);
	fprintf(c->err, "bastion: recording %s is encrypted to the auditors' "
	    "keys and cannot be replayed here: %s. Export it (export %s) or "
	    "copy it, and replay it on your own machine with bastion-replay "
	    "--identity YOUR-AGE-KEY FILE\n", id, reason, id);
	return (1);
}

/* 0 and the identity to use, or 1 after saying why not (audited). */
static int
replay_unlock(struct verb_ctx *c, const char *id, const char **identity)
{
	const char *idf = c->pol->rec_server_identity;
	struct stat st;

	*identity = NULL;
	if (!c->pol->rec_server_unlock)
		return (replay_refuse(c, id, "the policy forbids decrypting "
		    "recordings on the bastion (recordings: server_unlock: "
		    "forbid)"));
	if (idf == NULL || lstat(idf, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 077) != 0)
		return (replay_refuse(c, id, "the server identity "
		    "(recordings: server_identity) is missing or readable by "
		    "others than root"));
	if (audit_ev(BEV_RECORDING_UNLOCK, "session", c->session, "user",
	    c->admin, "recording", id, "result", "unlocked", NULL) != 0) {
		fprintf(c->err, "bastion: the audit log cannot be written, so "
		    "the recording is not decrypted\n");
		return (1);
	}
	*identity = idf;
	return (0);
}

/* Whether the recording at path may be read here: 0 and the identity to
 * give bastion-replay (NULL for format 1), or 1 after saying why not. */
static int
replay_access(struct verb_ctx *c, const char *path, const char **identity)
{
	const char *fmt, *id;
	struct rec_hdr h;
	int rc = 0;

	*identity = NULL;
	if (recreader_header(path, &h) != 0) {
		recfmt_hdr_clear(&h);
		fprintf(c->err, "bastion: the recording's HEADER cannot be "
		    "read\n");
		return (1);
	}
	fmt = recfmt_hdr_get(&h, "format");
	id = audverb_get(&h, "session");
	if (fmt != NULL && strcmp(fmt, "2") == 0)
		rc = replay_unlock(c, id, identity);
	recfmt_hdr_clear(&h);
	return (rc);
}

/* bastion-replay on the recording at path, once replay_access() lets it
 * be read: the text transcript (with the audit chain's word on how the
 * session was let in), or, cast, asciicast v2 with its verdict apart. */
static int
replay_tool(struct verb_ctx *c, const char *path, int cast)
{
	char pub[PATH_MAX + 32], chain[PATH_MAX + 32], appr[1400];
	char *argv[12];
	const char *identity;
	struct audstore_rec f;
	int n = 0, other;

	if (replay_access(c, path, &identity) != 0)
		return (1);
	/* another node's session: its lines are in that node's chain; the
	 * shared store's rows say how it was let in, and the header says so */
	appr[0] = '\0';
	other = !cast && audstore_elsewhere(c->st, c->pol->store_node, path,
	    &f);
	if (other) {
		audstore_print(c->out, &f, c->pol->store_node);
		audstore_approval(&f, appr, sizeof(appr));
		snprintf(appr + strlen(appr), sizeof(appr) - strlen(appr),
		    " (from the shared state store; recorded on node %s, "
		    "whose audit chain has the session's lines)", f.s.node);
	} else if (!cast && f.has_grant) {
		/* this node's own: its chain says it; where the chain names
		 * no approver (another node approved: its chain has the
		 * line), bastion-replay adds the store's word */
		audstore_approval(&f, appr, sizeof(appr));
		snprintf(appr + strlen(appr), sizeof(appr) - strlen(appr),
		    " (from the shared state store; this node's audit chain "
		    "names no approver)");
	}
	audverb_pubkey(c, pub, sizeof(pub));
	argv[n++] = cast ? "--asciicast" : "--text";
	argv[n++] = "-k";
	argv[n++] = pub;
	if (identity != NULL) {
		argv[n++] = "--identity";
		argv[n++] = (char *)identity;
	}
	if (appr[0] != '\0') {
		argv[n++] = "--approval";
		argv[n++] = appr;
	}
	if (!cast && !other &&
	    auditlog_path_for(c->pol->state_dir, chain, sizeof(chain)) == 0) {
		argv[n++] = "--audit";
		argv[n++] = chain;
	}
	argv[n++] = (char *)path;
	argv[n] = NULL;
	return (cast ? audverb_tool_split(c, "bastion-replay", argv) :
	    audverb_tool(c, "bastion-replay", argv));
}

static int
replay_run(struct verb_ctx *c, const char *path)
{
	return (replay_tool(c, path, 0));
}

static const struct audverb_one replay_one = { replay_run };

const struct cmd_entry cmd_replay_entry = {
	"replay", NULL,
	"SESSION",
	"the recording as sanitised text (bastion-replay --text)",
	NULL,
	0,
	VERB_AUDITOR | VERB_OWN_ARGS,
	audverb_exec,
	&replay_one
};

/* The recording as asciicast v2 (sanitised), for the web console's
 * player: the browser gets timed events and seeks by itself. */
static int
cast_run(struct verb_ctx *c, const char *path)
{
	return (replay_tool(c, path, 1));
}

static const struct audverb_one cast_one = { cast_run };

const struct cmd_entry cmd_cast_entry = {
	"cast", NULL,
	"SESSION",
	"the recording as asciicast v2 for a player (bastion-replay "
	    "--asciicast)",
	NULL,
	0,
	VERB_AUDITOR | VERB_OWN_ARGS,
	audverb_exec,
	&cast_one
};
