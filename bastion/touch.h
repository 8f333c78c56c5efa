/*
 * touch.h - the per-connection touch check (touch.c; docs/FIDO2.md).
 *
 * libssh 0.10 accepts a security-key login signature whose user-presence
 * bit is clear and hides its flags and counter, so a login alone does not
 * prove that a person touched the key. Before a device is reached (or an
 * admin's or auditor's first verb runs), the worker therefore asks the
 * person's forwarded agent to sign a fresh challenge with the key used at
 * login and verifies the answer itself.
 */
#ifndef BASTION_TOUCH_H
#define BASTION_TOUCH_H

#include "session.h"

/*
 * Notice the engineer's "auth-agent-req@openssh.com" on the session
 * channel S->vch (call right after accepting it): libssh 0.10 consumes
 * that request itself and only reports it to a channel callback, which
 * sets S->agent_req (and makes libssh answer success).
 */
void touch_watch_channel(struct sess *S);

/*
 * The check, in the child's blocking phase (the monitor decides and
 * verifies: touch.c's file comment): for an engineer after the
 * device is chosen and before anything is recorded or connected; for an
 * admin or an auditor after the first request and before any verb runs
 * (same messages, same hint). Returns 0 when the
 * connection may go on: the person touched the key (and entered its PIN
 * if it is registered verify-required) and its counter moved forward, or
 * the engineer's vendor has `touch: off`, or the login key is not a
 * security key (engineers only with `allow_non_sk_keys`; admins and
 * auditors may use any key type). Returns -1 after telling the
 * engineer why not (on the session channel, or as the disconnect message
 * of a connection without one) and writing a touch.* audit event. A key
 * locked in the state store is refused whatever the vendor's setting.
 *
 * Blocks for up to about two minutes (another session of the same key
 * finishing its check, then the engineer's touch); it re-arms the worker's
 * alarm for that time and restores the remaining grace afterwards.
 */
int touch_check(struct sess *S);

/*
 * The monitor's side (privsep.h). S is the session as the monitor knows
 * it (the login it decided, the device it agreed to).
 *
 * touch_mon_begin(): MREQ_TOUCH_BEGIN. Fills *out: SKIP (policy),
 * LOCKED or ERROR (with why), NO_AGENT (the child has no agent to ask),
 * BUSY (another session of the key holds its guard and wait was 0), or
 * ASK with a fresh challenge (also copied to challenge); only then are
 * *stp and *guardp set (the state store and the key's guard, held until
 * touch_mon_release()). Every outcome but BUSY and ASK is audited here.
 *
 * touch_mon_verify(): MREQ_TOUCH_VERIFY with the agent's signature blob
 * over challenge: verified with libfido2 against the login key, the
 * counter advanced in st (or the key locked), audited. *counter and *prev
 * are set for MM_V_REGRESSION. An engineer's touch for a device opens
 * (or renews) the transfer window of that engineer, device and source
 * address (limits.touch_transfer_window; touch.window_opened): *until is
 * its end, or 0.
 *
 * Transfer windows: touch_mon_begin() admits a session without a touch
 * of its own (WINDOW, touch.window_used) when it is an engineer's, for a
 * device, a transfer (the child's transfer flag: the monitor holds it to
 * that when the recording opens), it cannot ask an agent (none forwarded,
 * or a plain login key), and an open window of the same engineer, device
 * and source exists whose key and engineer are not locked. An engineer
 * who has a security key in the policy and logs in with a plain key
 * (allow_non_sk_keys) is admitted only that way; one with plain keys
 * alone skips the check as before.
 */
/* Is a session of this kind and command a file transfer: the sftp
 * subsystem, or "scp -t|-f ..." (scp's server mode) with nothing a shell
 * would act on? */
int touch_is_transfer(int kind, const char *command);
/* Has this person a security key in the policy? */
struct policy_person;
int touch_person_has_sk(const struct policy_person *who);
struct state;
struct state_guard;
struct mm_touch_ask;
void touch_mon_begin(struct sess *S, int agent_req, int has_channel,
    int wait, int transfer, struct state **stp, struct state_guard **guardp,
    uint8_t challenge[32], struct mm_touch_ask *out);
int touch_mon_verify(struct sess *S, struct state *st,
    const uint8_t *challenge, const uint8_t *sig, size_t siglen,
    uint32_t *counter, uint32_t *prev, time_t *until);
/* Release the guard and close the store (NULLs are fine). */
void touch_mon_release(struct state **stp, struct state_guard **guardp);

#endif
