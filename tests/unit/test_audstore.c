/*
 * test_audstore.c - verbs/audstore.c: a recorded session found in the
 * state store by its recording id or its session number (with its grant
 * and request), how it was let in as the store's rows say it, the facts
 * block the auditor verbs print for another node's recording (cleaned,
 * saying where the facts come from), and ids taken from recording paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audstore.h"
#include "err.h"
#include "state.h"

#include "store_fixture.h"

#define REC_A	"20261208T002000Z-067c298762e350a0"
#define REC_B	"20261208T002100Z-1111222233334444"

/* A session row of node on device, with a recording path, and a grant
 * when grant is not 0; its row. */
static int64_t
add_session(struct state *st, int64_t sid, const char *node,
    const char *engineer, const char *rec, int64_t grant)
{
	struct state_session s;
	int64_t id;

	memset(&s, 0, sizeof(s));
	s.sid = sid;
	s.pid = 4242;
	snprintf(s.engineer, sizeof(s.engineer), "%s", engineer);
	snprintf(s.vendor, sizeof(s.vendor), "globex");
	snprintf(s.device, sizeof(s.device), "pacs");
	snprintf(s.source, sizeof(s.source), "192.0.2.7");
	snprintf(s.node, sizeof(s.node), "%s", node);
	s.started = 1796688000;
	s.grant_id = grant;
	snprintf(s.recording, sizeof(s.recording),
	    "/var/lib/bastion/recordings/2026/12/08/%s.brec", rec);
	assert_int_equal(state_session_start(st, &s, &id), 0);
	return (id);
}

static void
test_id_of(void **unused)
{
	char id[REC_SESSION_ID_MAX + 1];

	(void)unused;
	assert_int_equal(audstore_id_of("/r/2026/12/08/" REC_A ".brec", id,
	    sizeof(id)), 0);
	assert_string_equal(id, REC_A);
	assert_int_equal(audstore_id_of(REC_A ".brec", id, sizeof(id)), 0);
	assert_int_equal(audstore_id_of("", id, sizeof(id)), -1);
	assert_int_equal(audstore_id_of("/r/x.txt", id, sizeof(id)), -1);
	assert_int_equal(audstore_id_of("/r/.brec", id, sizeof(id)), -1);
	assert_int_equal(audstore_id_of("/r/.hidden.brec", id, sizeof(id)),
	    -1);
	assert_int_equal(audstore_id_of("/r/a b.brec", id, sizeof(id)), -1);
	/* too long for the buffer: refused, not cut */
	assert_int_equal(audstore_id_of("/r/" REC_A ".brec", id, 10), -1);
}

static void
test_find_and_approval(void **state)
{
	static const char *const said[] = {
		"# recorded on node bastion-b, not on this node (bastion-a)",
		"rows of the shared state store, not lines of an audit chain",
		"# store: session 18, engineer al?[2Jice (vendor globex)",
		"# store: approval: no grant",
	};
	struct fixture *f = *state;
	struct audstore_rec r;
	int64_t req, grant;
	char text[1200], *out = NULL;
	size_t len = 0, i;
	FILE *fp;

	assert_int_equal(state_request_create(f->st, "gina", "globex", "pacs",
	    "ticket 7", &req), 0);
	assert_int_equal(state_request_approve(f->st, req, "bob", 3600, 1,
	    &grant), 0);
	assert_true(grant > 0);
	add_session(f->st, 17, "bastion-a", "gina", REC_A, grant);
	add_session(f->st, 18, "bastion-b", "al\x1b[2Jice", REC_B, 0);

	/* by recording id and by session number: the same row */
	assert_int_equal(audstore_find(f->st, REC_A, &r), 1);
	assert_int_equal(r.s.sid, 17);
	assert_string_equal(r.id, REC_A);
	assert_string_equal(r.s.node, "bastion-a");
	assert_true(r.has_grant && r.has_request);
	assert_int_equal(r.r.id, req);
	assert_int_equal(audstore_find(f->st, "17", &r), 1);
	assert_string_equal(r.id, REC_A);
	/* what the store does not have, or is no name of a recording */
	assert_int_equal(audstore_find(f->st, "20261208T000000Z-00", &r), 0);
	assert_int_equal(r.s.sid, 0);
	assert_int_equal(audstore_find(f->st, "99", &r), 0);
	assert_int_equal(audstore_find(f->st, "../etc", &r), 0);
	assert_int_equal(audstore_find(f->st, "-1", &r), 0);
	assert_int_equal(audstore_find(NULL, REC_A, &r), -1);

	/* approval: the grant, the request, its reason, who and when */
	assert_int_equal(audstore_find(f->st, REC_A, &r), 1);
	audstore_approval(&r, text, sizeof(text));
	assert_non_null(strstr(text, "request "));
	assert_non_null(strstr(text, "(\"ticket 7\") approved by bob at "));
	assert_non_null(strstr(text, " UTC"));
	assert_int_equal(strncmp(text, "grant ", 6), 0);
	/* no grant: said so, and where the answer is */
	assert_int_equal(audstore_find(f->st, REC_B, &r), 1);
	audstore_approval(&r, text, sizeof(text));
	assert_non_null(strstr(text, "no grant in the shared state store"));
	assert_non_null(strstr(text, "node bastion-b's audit chain"));

	/* the facts block: marked as the store's, cleaned for a terminal */
	assert_non_null(fp = open_memstream(&out, &len));
	audstore_print(fp, &r, "bastion-a");
	assert_int_equal(fclose(fp), 0);
	for (i = 0; i < sizeof(said) / sizeof(said[0]); i++)
		if (strstr(out, said[i]) == NULL)
			fail_msg("not said: %s\nin: %s", said[i], out);
	assert_null(strchr(out, '\x1b'));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_of),
		cmocka_unit_test_setup_teardown(test_find_and_approval, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
