/*
 * mkseeds_webverify.h - the seeds of fuzz_webverify, included by
 * mkseeds.c (one program; this file only keeps mkseeds.c from growing):
 * an audit chain in which a web console approval can be re-verified
 * offline (recorder/lib/webverify.h), made from the EdDSA vector of
 * tests/unit/webauthn_fixture.h with mkseeds.c's seed() and must().
 */
#ifndef MKSEEDS_WEBVERIFY_H
#define MKSEEDS_WEBVERIFY_H

/*
 * An audit chain with a web console approval (webverify.h): the EdDSA
 * credential of webauthn_fixture.h enrolled, signed in, its assertion
 * over SHA-256("bastion-web-action-v1 test") as the action, and the
 * decision naming it; then the same with the decision moved to another
 * request. The hashes are zeros: the walk reads lines, not the chain.
 */
static void
seeds_webverify(const char *t)
{
	static const char act[] = "bastion-web-action-v1 test";
	char pub[65], ch[65], actb[64], adb[64], cdb[400], sigb[100];
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int req;

	hex_encode(eddsa_pub, sizeof(eddsa_pub), pub);
	hex_encode(eddsa_challenge, sizeof(eddsa_challenge), ch);
	EVP_EncodeBlock((unsigned char *)actb, (const unsigned char *)act,
	    (int)strlen(act));
	EVP_EncodeBlock((unsigned char *)adb, eddsa_authdata,
	    (int)sizeof(eddsa_authdata));
	EVP_EncodeBlock((unsigned char *)cdb, (const unsigned char *)eddsa_cdj,
	    (int)strlen(eddsa_cdj));
	EVP_EncodeBlock((unsigned char *)sigb, eddsa_sig,
	    (int)sizeof(eddsa_sig));
	for (req = 42; req <= 43; req++) {
		must((f = open_memstream(&text, &len)) != NULL, "memstream");
#define WVZ "0000000000000000000000000000000000000000000000000000000000000000"
		fprintf(f, "seq=1 prev=" WVZ " ts=2026-12-07T19:00:00Z "
		    "event=web.enroll pid=1 person=bob result=ok cred=Q1JFRA "
		    "alg=EdDSA pubkey=%s hash=" WVZ "\n", pub);
		fprintf(f, "seq=2 prev=" WVZ " ts=2026-12-07T19:00:01Z "
		    "event=web.login pid=2 person=bob from=- result=ok "
		    "cred=Q1JFRA counter=6 hash=" WVZ "\n");
		fprintf(f, "seq=3 prev=" WVZ " ts=2026-12-07T19:00:02Z "
		    "event=web.assertion pid=3 person=bob cred=Q1JFRA "
		    "counter=7 challenge=%s action=\"%s\" authdata=\"%s\" "
		    "clientdata=\"%s\" sig=\"%s\" from=- result=ok "
		    "rp_id=bastion.test origin=https://bastion.test:8443 "
		    "uv=required hash=" WVZ "\n", ch, actb, adb, cdb, sigb);
		fprintf(f, "seq=4 prev=" WVZ " ts=2026-12-07T19:00:03Z "
		    "event=approval.approve pid=3 request=%d admin=bob via=web "
		    "assertion=%s hash=" WVZ "\n", req, ch);
#undef WVZ
		must(fclose(f) == 0, "memstream");
		seed(t, req == 42 ? "approval" : "decision-moved", text, len);
		free(text);
		text = NULL;
	}
}

#endif
