/*
 * fuzz_ctlproto2.c - control protocol version 2 (proto/ctlproto.c): a
 * request from bastion-webd as the web control worker (root) decodes it,
 * with its attributes and the assertion / attestation values inside them,
 * and the typed response frames as bastion-webd parses them from what its
 * non-blocking reader has so far (ctlp_frame2_parse and the payload
 * decoders).
 *
 * Input: a v2 request, or a stream of frames, or an "assert" value.
 */
#include "fuzz.h"

#include "ctlproto.h"
#include "err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlp_req *r = NULL;
	struct ctlp_assertion a;
	struct ctlp_attestation t;
	const uint8_t *pl, *js;
	uint8_t *enc = NULL, tok[CTLP_TOKEN_LEN];
	size_t enclen, plen, used, off, jlen, i;
	uint64_t v;
	int type;
	char *s;

	if (ctlp_request2_decode(data, size, &r) == 0) {
		/* what decodes must encode again, to the same bytes */
		if (ctlp_request2_encode(r->argc, r->argv, r->attr, r->nattr,
		    &enc, &enclen) != 0 || enclen != size ||
		    memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		for (i = 0; i < r->nattr; i++) {
			if (ctlp_req_attr_str(r, r->attr[i].name, &s) != 0)
				abort();
			free(s);
		}
		ctlp_req_free(r);
	}
	if (ctlp_assertion_decode(data, size, &a) == 0 &&
	    a.cred_id_len + a.authdata_len + a.clientdata_len + a.sig_len +
	    a.user_len + 20 != size)
		abort();
	if (ctlp_attestation_decode(data, size, &t) == 0 &&
	    t.attobj_len + t.clientdata_len + 8 != size)
		abort();
	for (off = 0; off < size; off += used) {
		if (ctlp_frame2_parse(data + off, size - off, &type, &pl, &plen,
		    &used) != 0)
			break;
		if (used != plen + 5 || pl != data + off + 5)
			abort();
		if ((type == CTLP_TERM &&
		    ctlp_term_decode(pl, plen, &v, &js, &jlen) != 0) ||
		    (type == CTLP_CHALLENGE &&
		    ctlp_challenge_decode(pl, plen, tok, &js, &jlen) != 0) ||
		    (type == CTLP_AUTH &&
		    ctlp_auth_decode(pl, plen, tok, &v, &js, &jlen) != 0))
			abort();	/* parse checked the minimum already */
	}
	return (0);
}
