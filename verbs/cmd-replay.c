/*
 * cmd-replay.c - the auditor's "replay SESSION": the sanitised text
 * transcript of a recording (bastion-replay --text, checked with the
 * recorder's public key). The header says how the session was let in
 * from the audit chain, which the recording's own field cannot prove.
 * And "cast SESSION": the same recording as asciicast v2 (bastion-replay
 * --asciicast, sanitised), what the web console's player plays.
 */
#include <limits.h>
#include <stdio.h>

#include "auditlog.h"
#include "audverb.h"

static int
replay_run(struct verb_ctx *c, const char *path)
{
	char pub[PATH_MAX + 32], chain[PATH_MAX + 32];

	audverb_pubkey(c, pub, sizeof(pub));
	if (auditlog_path_for(c->pol->state_dir, chain, sizeof(chain)) == 0)
		return (audverb_tool(c, "bastion-replay", (char *[]){ "--text",
		    "-k", pub, "--audit", chain, (char *)path, NULL }));
	return (audverb_tool(c, "bastion-replay", (char *[]){ "--text", "-k",
	    pub, (char *)path, NULL }));
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
	char pub[PATH_MAX + 32];

	audverb_pubkey(c, pub, sizeof(pub));
	return (audverb_tool_split(c, "bastion-replay", (char *[]){ "--asciicast",
	    "-k", pub, (char *)path, NULL }));
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
