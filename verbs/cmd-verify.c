/*
 * cmd-verify.c - the auditor's "verify SESSION": bastion-verify with the
 * recorder's public key over the recording, as an auditor runs it
 * offline; its report and exit status are the verb's.
 */
#include <limits.h>
#include <stdio.h>

#include "audverb.h"

static int
verify_run(struct verb_ctx *c, const char *path)
{
	char pub[PATH_MAX + 32];

	audverb_pubkey(c, pub, sizeof(pub));
	return (audverb_tool(c, "bastion-verify", (char *[]){ "-k", pub,
	    (char *)path, NULL }));
}

static const struct audverb_one verify_one = { verify_run };

const struct cmd_entry cmd_verify_entry = {
	"verify", NULL,
	"SESSION",
	"check a recording's signatures and chain (bastion-verify)",
	NULL,
	0,
	VERB_AUDITOR | VERB_OWN_ARGS,
	audverb_exec,
	&verify_one
};
