/*
 * test_peerwatch.c - watching a session of another node (issue 20;
 * bastion/peerwatch*.c, store/store_watch.c): a chunk sealed to the
 * watcher's ephemeral key opens with that key only, and every malformed,
 * altered, foreign or oversized chunk is refused with a code, never
 * shown; the store's requests (the asking node's id and signature kept
 * as given) are claimed once, listed only for their
 * node, their chunks taken in order and deleted, held to a backlog (the
 * rest counted, not stored), and forgotten with their chunks when the
 * watcher closes or falls silent, or the cap passes. On SQLite or, under
 * make check-unit-pg, PostgreSQL.
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

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "age.h"
#include "err.h"
#include "peerwatch.h"
#include "state.h"

#include "store_fixture.h"

static void
keypair(uint8_t sec[AGE_KEY_LEN], uint8_t pub[AGE_KEY_LEN])
{
	assert_int_equal(age_identity_generate(sec), 0);
	assert_int_equal(age_identity_public(sec, pub), 0);
}

static void
test_chunk_opens_with_its_key_only(void **state)
{
	uint8_t sec[AGE_KEY_LEN], pub[AGE_KEY_LEN], sec2[AGE_KEY_LEN],
	    pub2[AGE_KEY_LEN], pt[PEERCHUNK_MAX], out[PEERCHUNK_MAX];
	char text[STATE_WATCH_DATA_MAX];
	size_t n = 1;

	(void)state;
	keypair(sec, pub);
	keypair(sec2, pub2);
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	/* a full chunk fits the store's column */
	assert_int_equal(peerchunk_seal(pub, pt, sizeof(pt), text,
	    sizeof(text)), 0);
	assert_true(strlen(text) < sizeof(text));
	assert_int_equal(peerchunk_open(sec, text, out, &n), 0);
	assert_int_equal(n, sizeof(pt));
	assert_memory_equal(out, pt, sizeof(pt));
	/* another watcher's key opens nothing */
	assert_int_equal(peerchunk_open(sec2, text, out, &n), BERR_AUTH);
	assert_int_equal(n, 0);
	/* an empty chunk (the keep-alive) */
	assert_int_equal(peerchunk_seal(pub, pt, 0, text, sizeof(text)), 0);
	assert_int_equal(peerchunk_open(sec, text, out, &n), 0);
	assert_int_equal(n, 0);
	/* more than a chunk, or no room for it: refused */
	assert_int_equal(peerchunk_seal(pub, pt, PEERCHUNK_MAX + 1, text,
	    sizeof(text)), BERR_LIMIT);
	assert_int_equal(peerchunk_seal(pub, pt, 100, text, 200), BERR_LIMIT);
}

static void
test_bad_chunks_are_refused(void **state)
{
	uint8_t sec[AGE_KEY_LEN], pub[AGE_KEY_LEN], pt[64],
	    out[PEERCHUNK_MAX], junk[3000];
	char text[STATE_WATCH_DATA_MAX], big[STATE_WATCH_DATA_MAX * 2];
	size_t n, len;

	(void)state;
	keypair(sec, pub);
	memset(pt, 'x', sizeof(pt));
	assert_int_equal(peerchunk_seal(pub, pt, sizeof(pt), text,
	    sizeof(text)), 0);
	len = strlen(text);
	/* not base64 at all; empty */
	assert_int_equal(peerchunk_open(sec, "not base64!", out, &n),
	    BERR_FORMAT);
	assert_int_equal(peerchunk_open(sec, "", out, &n), BERR_FORMAT);
	/* base64 of something that is no age file */
	assert_int_equal(RAND_bytes(junk, sizeof(junk)), 1);
	EVP_EncodeBlock((unsigned char *)big, junk, sizeof(junk));
	assert_int_not_equal(peerchunk_open(sec, big, out, &n), 0);
	/* longer than any chunk may be */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(peerchunk_open(sec, big, out, &n), BERR_LIMIT);
	/* cut short: whole base64 groups, a truncated payload */
	snprintf(big, sizeof(big), "%.*s", (int)(len - 8), text);
	assert_int_not_equal(peerchunk_open(sec, big, out, &n), 0);
	/* one character of the payload changed: does not authenticate */
	snprintf(big, sizeof(big), "%s", text);
	big[len - 12] = big[len - 12] == 'B' ? 'C' : 'B';
	assert_int_not_equal(peerchunk_open(sec, big, out, &n), 0);
	assert_int_equal(n, 0);
}

static int64_t
request(struct state *st, int64_t sid, const char *to, time_t expires)
{
	struct state_watch w;
	int64_t id = 0;

	memset(&w, 0, sizeof(w));
	w.session = sid;
	snprintf(w.admin, sizeof(w.admin), "bob");
	snprintf(w.from_node, sizeof(w.from_node), "b");
	snprintf(w.to_node, sizeof(w.to_node), "%s", to);
	snprintf(w.recipient, sizeof(w.recipient), "age1xyz");
	/* the asking node's request id and signature, kept as given */
	memset(w.nonce, 'a', STATE_WATCH_NONCE_HEX);
	memset(w.sig, 'f', STATE_WATCH_SIG_HEX);
	w.expires = expires;
	assert_int_equal(state_watch_open(st, &w, &id), 0);
	assert_true(id > 0);
	return (id);
}

struct ids {
	int64_t id[8];
	size_t n;
};

static int
keep_id(const struct state_watch *w, void *arg)
{
	struct ids *s = arg;

	if (s->n < 8)
		s->id[s->n] = w->id;
	s->n++;
	return (0);
}

static struct ids
pending(struct state *st, const char *node, time_t now)
{
	struct ids s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(state_watch_each(st, node, now, keep_id, &s), 0);
	return (s);
}

static int
put(struct state *st, int64_t id, int64_t seq, const char *kind,
    const char *data, time_t now)
{
	struct state_watch_chunk c;
	int status = -1;

	memset(&c, 0, sizeof(c));
	c.watch = id;
	c.seq = seq;
	snprintf(c.kind, sizeof(c.kind), "%s", kind);
	snprintf(c.data, sizeof(c.data), "%s", data);
	assert_int_equal(state_watch_put(st, &c, now, &status), 0);
	return (status);
}

struct taken {
	int64_t seq[64];
	char first[32];
	size_t n;
};

static int
keep_chunk(const struct state_watch_chunk *c, void *arg)
{
	struct taken *t = arg;

	if (t->n == 0)
		snprintf(t->first, sizeof(t->first), "%s:%.16s", c->kind,
		    c->data);
	if (t->n < 64)
		t->seq[t->n] = c->seq;
	t->n++;
	return (0);
}

static struct taken
take(struct state *st, int64_t id, time_t now, int want_found)
{
	struct taken t;
	int found = -1;

	memset(&t, 0, sizeof(t));
	assert_int_equal(state_watch_take(st, id, now, keep_chunk, &t,
	    &found), 0);
	assert_int_equal(found, want_found);
	return (t);
}

static void
test_requests_in_the_store(void **state)
{
	struct fixture *f = *state;
	struct state_watch w;
	struct state_watch_chunk c;
	struct taken t;
	struct ids s;
	time_t now = time(NULL);
	int64_t id, other, seq;
	int found, status;

	id = request(f->st, 17, "a", now + 3600);
	other = request(f->st, 18, "c", now + 3600);
	/* listed for its node only, until claimed; claimed once */
	s = pending(f->st, "a", now);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], id);
	assert_int_equal(state_watch_claim(f->st, id, "c", now, &w, &found),
	    0);
	assert_int_equal(found, 0);
	assert_int_equal(state_watch_claim(f->st, id, "a", now, &w, &found),
	    0);
	assert_int_equal(found, 1);
	assert_int_equal(w.session, 17);
	assert_string_equal(w.admin, "bob");
	assert_string_equal(w.from_node, "b");
	assert_string_equal(w.recipient, "age1xyz");
	assert_int_equal(strlen(w.nonce), STATE_WATCH_NONCE_HEX);
	assert_int_equal(strspn(w.nonce, "a"), STATE_WATCH_NONCE_HEX);
	assert_int_equal(strlen(w.sig), STATE_WATCH_SIG_HEX);
	assert_int_equal(strspn(w.sig, "f"), STATE_WATCH_SIG_HEX);
	assert_int_equal(state_watch_claim(f->st, id, "a", now, &w, &found),
	    0);
	assert_int_equal(found, 0);
	assert_int_equal(pending(f->st, "a", now).n, 0);
	/* chunks come in order and go as they are taken */
	assert_int_equal(put(f->st, id, 1, "data", "one", now), 1);
	assert_int_equal(put(f->st, id, 2, "data", "two", now), 1);
	t = take(f->st, id, now, 1);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.seq[0], 1);
	assert_int_equal(t.seq[1], 2);
	assert_string_equal(t.first, "data:one");
	assert_int_equal(take(f->st, id, now, 1).n, 0);
	/* a backlog: the chunk after it is not stored */
	for (seq = 3; seq < 3 + STATE_WATCH_BACKLOG; seq++)
		assert_int_equal(put(f->st, id, seq, "data", "x", now), 1);
	assert_int_equal(put(f->st, id, seq, "data", "x", now), 2);
	assert_int_equal(take(f->st, id, now, 1).n, STATE_WATCH_BACKLOG);
	/* kinds are data, end, refused; seq from 1 */
	memset(&c, 0, sizeof(c));
	c.watch = id;
	c.seq = seq;
	snprintf(c.kind, sizeof(c.kind), "bogus");
	assert_int_equal(state_watch_put(f->st, &c, now, &status), BERR_INVAL);
	snprintf(c.kind, sizeof(c.kind), "end");
	c.seq = 0;
	assert_int_equal(state_watch_put(f->st, &c, now, &status), BERR_INVAL);
	/* the watcher silent: the helper's next chunk finds it gone */
	assert_int_equal(put(f->st, id, seq, "end", "over",
	    now + STATE_WATCH_STALE_S + 1), 0);
	/* closed: gone, with its chunks */
	assert_int_equal(put(f->st, id, seq, "end", "over", now), 1);
	assert_int_equal(state_watch_close(f->st, id), 0);
	assert_int_equal(put(f->st, id, seq + 1, "end", "over", now), 0);
	(void)take(f->st, id, now, 0);
	/* a silent watcher's request is forgotten by the next look */
	assert_int_equal(pending(f->st, "c", now).n, 1);
	assert_int_equal(pending(f->st, "c", now + STATE_WATCH_STALE_S + 1).n,
	    0);
	(void)take(f->st, other, now, 0);
	/* and one past its cap, though its watcher reads */
	id = request(f->st, 19, "a", now + 5);
	(void)take(f->st, id, now + 4, 1);
	assert_int_equal(state_watch_claim(f->st, id, "a", now + 5, &w,
	    &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(pending(f->st, "a", now + 5).n, 0);
	(void)take(f->st, id, now + 5, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_opens_with_its_key_only),
		cmocka_unit_test(test_bad_chunks_are_refused),
		cmocka_unit_test_setup_teardown(test_requests_in_the_store,
		    setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
