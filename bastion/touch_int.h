/*
 * touch_int.h - what the two files of the touch check share (touch.c,
 * touch_window.c): the state of one check and the transfer-window steps
 * of the monitor's side. The rest of bastiond uses touch.h.
 */
#ifndef BASTION_TOUCH_INT_H
#define BASTION_TOUCH_INT_H

#include <stdint.h>
#include <time.h>

#include <libssh/libssh.h>

#include "session.h"
#include "sk.h"
#include "touch.h"

#define TOUCH_WAIT_S		60	/* for the engineer to touch the key */
#define TOUCH_LIST_WAIT_S	15	/* for the agent to list its keys */
#define TOUCH_GUARD_WAIT_S	(TOUCH_WAIT_S + 15)
#define TOUCH_CHALLENGE_TAG	"bastion-touch-v1"

struct touch {
	struct sess *S;
	const char *device;		/* engineers: the device, else NULL */
	char what[96];			/* "reach ct-scanner", "use the ..." */
	char doing[96];			/* "reaching ct-scanner", ... */
	const struct policy_key *key;
	uint8_t *blob;			/* the login key's blob */
	size_t bloblen;
	char fp[SK_FP_LEN];
	struct sk_key sk;
	struct state *st;
	struct state_guard *guard;
	ssh_channel ach;		/* to the engineer's agent (child) */
	char counter[16], flags[8];
};

struct mm_touch_ask;
struct state;

/* "14:05 UTC" (local time) for the engineer. */
void touch_hhmm(time_t when, char *out, size_t len);

/*
 * The monitor: may a window admit this session without a touch of its
 * own? 1 admitted (audited, out->until set), 0 not, -1 the store failed.
 */
int touch_mon_window(struct touch *t, int transfer, struct mm_touch_ask *out);
/* The monitor, after touch.ok: open (or renew) the window of this
 * engineer, device and source. Its end, or 0 when none was opened. */
time_t touch_mon_window_open(struct touch *t, struct state *st);

#endif
