/*
 * fuzz_agent.c - what an engineer's forwarded ssh-agent answers during the
 * touch check (bastion/touch.c, proto/agent.c): a framed reply, parsed as
 * an identities answer and as a sign answer, whose signature blob then
 * goes through sk_sig_parse and the libfido2 verification against the
 * login key, as touch_agent_sign() and touch_verify do.
 *
 * Input: the bytes the agent sends (uint32 length || type || contents).
 */
#define FUZZ_SK_KEY
#include "fuzz.h"

#include "agent.h"
#include "buf.h"
#include "err.h"
#include "sk.h"

static struct buf *login_blob;
static struct sk_key login_key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_sk_blob(&login_blob) != 0 ||
	    sk_key_from_blob(buf_ptr(login_blob), buf_len(login_blob),
	    &login_key) != 0)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sig;
	enum sk_verdict v;
	struct sk_sig s;
	size_t len, siglen;
	int has;

	if (size < 4 || agent_frame_len(data, AGENT_MAX_REPLY, &len) != 0)
		return (0);
	data += 4;
	size -= 4;
	if (len > size)
		return (0);
	/* touch_agent_has_key() */
	(void)agent_parse_identities(data, len, buf_ptr(login_blob),
	    buf_len(login_blob), &has);
	/* touch_agent_sign(), then the verification */
	if (len <= AGENT_MAX_SIGN_REPLY &&
	    agent_parse_sign(data, len, &sig, &siglen) == 0 &&
	    sk_sig_parse(sig, siglen, &s) == 0)
		(void)sk_sig_verify(&login_key, &s,
		    (const uint8_t *)FUZZ_SK_CHAL, strlen(FUZZ_SK_CHAL),
		    len & 1, &v);
	return (0);
}
