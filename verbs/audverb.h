/*
 * audverb.h - what the auditor verbs (verbs/cmd-recordings.c,
 * cmd-verify.c, cmd-replay.c, cmd-export.c) share: finding recordings
 * below recordings_dir by their HEADER, read only through the bounded
 * recorder reader (never trusted); the one recording a verb names, its
 * access audited before it is read; running bastion-verify and
 * bastion-replay (beside bastiond, no shell); the console's help and its
 * console.verb event.
 */
#ifndef BASTION_AUDVERB_H
#define BASTION_AUDVERB_H

#include <limits.h>
#include <sys/stat.h>

#include "audfetch.h"
#include "recfmt.h"
#include "verb.h"

/* Which recordings a walk matches (NULL: any), and what it found. */
struct audverb_filter {
	const char *engineer, *vendor, *device, *date, *id;
	int matched;
	char found[PATH_MAX];		/* the last match's path */
	/* called for each match (may be NULL), with arg */
	void (*row)(struct audverb_filter *F, const char *path,
	    const struct stat *sb, const struct rec_hdr *h);
	void *arg;
};

/* Field k of the header, "-" if it has none. */
const char *audverb_get(const struct rec_hdr *h, const char *k);
/* Walk recordings_dir for the .brec files F matches; 0 or BERR_SYS. */
int audverb_walk(const struct policy *pol, struct audverb_filter *F);
/*
 * The recording word names (its session number or recording id): this
 * spool's, or another node's fetched from the object store and held in
 * held (audfetch.h; let go with audfetch_release). Its path into path; 0,
 * or 1 after saying why. Not audited: the web console's action
 * (cmd_export_describe) names a recording this way before it is read.
 */
int audverb_locate(struct verb_ctx *c, const char *word, char *path,
    size_t len, struct audfetch *held);
/*
 * The one recording verb's argument names, found by audverb_locate. Reading
 * a recording is audited first (recording.access): no chain line, no
 * access. 0, 1 after saying why, 2 (the console's help said) when the verb
 * was not given exactly one word.
 */
int audverb_find(struct verb_ctx *c, const struct verb_args *a, char *path,
    size_t len, struct audfetch *held);
/*
 * The state store for the verbs that ask it what other nodes recorded
 * (audstore.h): the console's auditor front ends hand none, so it is
 * opened here (through the store actor, as bastionctl's verbs do) into
 * c->st: 1 when it was (close it with audverb_state_done), 0 when c->st
 * was set already or the store cannot be opened (c->st stays NULL: the
 * verbs then see this node's spool and chain only).
 */
int audverb_state(struct verb_ctx *c);
void audverb_state_done(struct verb_ctx *c, int opened);
/* What a verb on one recording (verify, replay, export) does with it: its
 * cmd_entry's data. */
struct audverb_one {
	int (*run)(struct verb_ctx *c, const char *path);
};
/* The exec of every verb on one recording: audverb_find(), then its
 * run(c, path), then audverb_done(); run's result, or find's. */
int audverb_exec(struct verb_ctx *c, const struct verb_args *a);
/* STATE_DIR/recorder.key.pub */
void audverb_pubkey(const struct verb_ctx *c, char *out, size_t len);
#define AUDVERB_ARGS_MAX	110	/* a tool's arguments */

/* Run prog (beside bastiond) with extra arguments (NULL-terminated, at
 * most AUDVERB_ARGS_MAX), its output and errors to c->out; its exit
 * status, or 3. */
int audverb_tool(struct verb_ctx *c, const char *prog, char *const extra[]);
/* The same with the tool's standard error on c->err, apart from its
 * output (when the output is a format of its own: asciicast). */
int audverb_tool_split(struct verb_ctx *c, const char *prog,
    char *const extra[]);
/* The console.verb event of an auditor's verb. */
void audverb_done(struct verb_ctx *c, const char *verb, const char *id,
    int rc);
/* The auditor console's help, from the verb table; returns 2. */
int audverb_usage(struct verb_ctx *c);

#endif
