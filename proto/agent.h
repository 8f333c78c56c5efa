/*
 * agent.h - the few ssh-agent protocol messages the bastion speaks
 * (draft-miller-ssh-agent): list identities, sign, and their answers.
 *
 * The bastion is an agent *client* here: during the touch check it asks
 * the engineer's forwarded agent, over an auth-agent@openssh.com channel,
 * whether it holds the engineer's security key and to sign a challenge
 * with it. Everything the agent sends is untrusted: replies are framed by
 * a length that is capped before anything is read, and parsed through
 * struct buf (buf.h).
 *
 * Messages on the wire are uint32 length || byte type || contents.
 */
#ifndef BASTION_AGENT_H
#define BASTION_AGENT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define SSH_AGENT_FAILURE		5
#define SSH_AGENTC_REQUEST_IDENTITIES	11
#define SSH_AGENT_IDENTITIES_ANSWER	12
#define SSH_AGENTC_SIGN_REQUEST		13
#define SSH_AGENT_SIGN_RESPONSE		14

/* Caps on a reply's length (OpenSSH's agent refuses more than 256 KiB). */
#define AGENT_MAX_REPLY			(256 * 1024)
#define AGENT_MAX_SIGN_REPLY		8192
#define AGENT_MAX_IDENTITIES		1024

/* Append a framed SSH_AGENTC_REQUEST_IDENTITIES to out. */
int agent_msg_identities(struct buf *out);
/* Append a framed SSH_AGENTC_SIGN_REQUEST for key blob over data. */
int agent_msg_sign(struct buf *out, const uint8_t *key, size_t keylen,
    const uint8_t *data, size_t datalen);

/*
 * The length of the message a 4-byte header announces: 0 with *len, or
 * BERR_LIMIT when it is 0 or larger than max.
 */
int agent_frame_len(const uint8_t hdr[4], size_t max, size_t *len);

/*
 * Parse the body of a sign reply (type byte onwards). 0 with *sig and
 * *siglen pointing into msg at the signature blob; BERR_DENIED when the agent
 * answered SSH_AGENT_FAILURE (or any other failure code); BERR_FORMAT for
 * anything malformed.
 */
int agent_parse_sign(const uint8_t *msg, size_t len, const uint8_t **sig,
    size_t *siglen);

/*
 * Parse the body of an identities reply and say whether it lists key
 * (compared as blobs). 0 with *has set; BERR_DENIED for a failure answer;
 * BERR_FORMAT for anything malformed (including more than
 * AGENT_MAX_IDENTITIES keys).
 */
int agent_parse_identities(const uint8_t *msg, size_t len,
    const uint8_t *key, size_t keylen, int *has);

#endif
