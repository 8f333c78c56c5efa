/*
 * cmd-verify.c - the auditor's "verify SESSION": bastion-verify with the
 * recorder's public key over the recording, as an auditor runs it
 * offline; its report and exit status are the verb's. For another node's
 * recording (fetched from the object store) the shared state store's
 * session facts and approval follow, marked as the store's (audstore.h).
 */
#include <limits.h>
#include <stdio.h>

#include "audstore.h"
#include "audverb.h"

static int
verify_run(struct verb_ctx *c, const char *path)
{
	char pub[PATH_MAX + 32];
	struct audstore_rec f;
	int rc;

	audverb_pubkey(c, pub, sizeof(pub));
	rc = audverb_tool(c, "bastion-verify", (char *[]){ "-k", pub,
	    (char *)path, NULL });
	/* another node's session: what the shared store says of it, which
	 * this node's chain cannot */
	if (audstore_elsewhere(c->st, c->pol->store_node, path, &f))
		audstore_print(c->out, &f, c->pol->store_node);
	return (rc);
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
