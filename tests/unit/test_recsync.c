/*
 * test_recsync.c - the recording writer's deferred syncing (recwriter.h,
 * "Durability"), which bastion-recorder uses to run fdatasync on libuv's
 * thread pool instead of inside its event loop.
 *
 * What must hold: one sync at a time; the caller is told when a second
 * checkpoint is written behind the sync in flight (so it can stop taking
 * frames); a recording counts as durable, and is made read-only, only once
 * a sync that started after the seal succeeded; a failed sync is never
 * forgotten; and the file written with deferred syncing is byte for byte
 * the file written with synchronous syncing (the format does not change).
 * The syncs here are real fdatasync() calls on a real file, run by the test
 * in the same thread: no timing is involved.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "err.h"
#include "recfmt.h"
#include "reckey.h"
#include "recverify.h"
#include "recwriter.h"

#define SESSION		"20250101T000000Z-0001020304050607"
#define CHUNK		(300 * 1024)	/* 4 of these exceed REC_CKPT_BYTES */

struct fixture {
	char dir[64];
	char path[128];
	struct reckey *key;
	uint8_t *chunk;
};

static int
setup(void **state)
{
	uint8_t seed[RECKEY_SEED_LEN];
	struct fixture *f;
	size_t i;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_recsync.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	assert_int_equal(reckey_from_seed(seed, &f->key), 0);
	f->chunk = malloc(CHUNK);
	assert_non_null(f->chunk);
	for (i = 0; i < CHUNK; i++)
		f->chunk[i] = (uint8_t)(i * 7);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	reckey_free(f->key);
	free(f->chunk);
	free(f);
	return (0);
}

/* A new writer on DIR/NAME.brec (0640). */
static struct recwriter *
open_writer(struct fixture *f, const char *name)
{
	struct rec_hdr h;
	struct recwriter *w;
	char fp[RECKEY_FP_LEN];
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/%s.brec", f->dir, name);
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0640);
	assert_true(fd >= 0);
	reckey_fingerprint(f->key, fp);
	memset(&h, 0, sizeof(h));
	assert_int_equal(recfmt_hdr_add(&h, "session", SESSION), 0);
	assert_int_equal(recfmt_hdr_add(&h, "engineer", "alice"), 0);
	assert_int_equal(recfmt_hdr_add(&h, "device", "ct-scanner-1"), 0);
	assert_int_equal(recfmt_hdr_add(&h, "recorder_key", fp), 0);
	assert_int_equal(recwriter_open(fd, f->key, &h, &w), 0);
	recfmt_hdr_clear(&h);
	return (w);
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (st.st_mode & 07777);
}

static int
verify(struct fixture *f)
{
	struct recverify_report rep;
	int v;

	v = recverify_file(f->path, f->key, &rep);
	recverify_report_clear(&rep);
	return (v);
}

/* Free the writer; the file it leaves verifies intact. */
static void
free_and_verify(struct fixture *f, struct recwriter *w)
{
	recwriter_free(w);
	assert_int_equal(verify(f), RECVERIFY_OK);
}

/* The caller's fdatasync of fd, as the writer's sync_start handed it
 * out, reported back to the writer. */
static int
finish_sync(struct recwriter *w, int fd)
{
	return (recwriter_sync_done(w, fdatasync(fd) == 0 ? 0 : errno));
}

/* The caller's side of one deferred sync, done here and now. */
static int
run_sync(struct recwriter *w)
{
	int fd;

	assert_int_equal(recwriter_sync_start(w, &fd), 1);
	assert_true(fd >= 0);
	assert_true(recwriter_sync_busy(w));
	return (finish_sync(w, fd));
}

/* A sealed file is neither durable nor read-only until the caller's sync
 * of the seal; after it, it is both. */
static void
assert_durable_once_synced(struct fixture *f, struct recwriter *w)
{
	assert_false(recwriter_durable(w));
	assert_int_equal(file_mode(f->path), 0640);
	assert_int_equal(run_sync(w), 0);
	assert_true(recwriter_durable(w));
	assert_int_equal(file_mode(f->path), 0440);
}

/* Four chunks at time t: the fourth makes the writer checkpoint first. */
static void
append_run(struct fixture *f, struct recwriter *w, uint64_t t)
{
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, f->chunk,
		    CHUNK, t + (uint64_t)i), 0);
}

/* A writer that defers syncs, with a checkpoint written (by bytes) and
 * its sync handed to the caller in *fd, not finished yet. */
static struct recwriter *
checkpoint_in_sync(struct fixture *f, const char *name, int *fd)
{
	struct recwriter *w = open_writer(f, name);

	recwriter_defer_sync(w);
	append_run(f, w, 1000);
	assert_int_equal(recwriter_sync_start(w, fd), 1);
	return (w);
}

static void
test_deferred_sync_states(void **state)
{
	struct fixture *f = *state;
	struct recwriter *w = open_writer(f, "states");
	int fd;

	recwriter_defer_sync(w);
	/* nothing signed yet: nothing to sync, and no sync to finish */
	assert_int_equal(recwriter_sync_start(w, &fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(recwriter_sync_done(w, 0), BERR_INVAL);
	/* a checkpoint (by bytes) is written but not synced by the writer */
	append_run(f, w, 1000);
	assert_int_equal(recwriter_sync_start(w, &fd), 1);
	assert_true(recwriter_sync_busy(w));
	assert_false(recwriter_sync_behind(w));
	/* one at a time */
	{
		int fd2;

		assert_int_equal(recwriter_sync_start(w, &fd2), 0);
		assert_int_equal(fd2, -1);
	}
	/* frames behind the sync in flight are fine; a second checkpoint
	 * behind it means "stop feeding frames" */
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, f->chunk, CHUNK,
	    2000), 0);
	assert_false(recwriter_sync_behind(w));
	append_run(f, w, 2001);
	assert_true(recwriter_sync_behind(w));
	assert_int_equal(finish_sync(w, fd), 0);
	assert_false(recwriter_sync_busy(w));
	assert_false(recwriter_sync_behind(w));
	/* the second checkpoint now gets its own sync */
	assert_int_equal(run_sync(w), 0);
	assert_int_equal(recwriter_sync_start(w, &fd), 0);
	/* the seal: written, not durable and not read-only until synced */
	assert_int_equal(recwriter_seal(w, REC_END_NORMAL,
	    "worker closed the session", 3000), 0);
	assert_true(recwriter_sealed(w));
	assert_durable_once_synced(f, w);
	assert_int_equal(recwriter_sync_start(w, &fd), 0);
	free_and_verify(f, w);
}

static void
test_seal_waits_for_sync_in_flight(void **state)
{
	struct fixture *f = *state;
	int fd;
	struct recwriter *w = checkpoint_in_sync(f, "inflight", &fd);

	/* CLOSE arrives while the checkpoint is being synced */
	assert_int_equal(recwriter_seal(w, REC_END_NORMAL, "done", 2000), 0);
	assert_true(recwriter_sync_behind(w));
	assert_int_equal(finish_sync(w, fd), 0);
	/* the checkpoint's sync started before the seal: not enough */
	assert_durable_once_synced(f, w);
	free_and_verify(f, w);
}

static void
test_failed_sync_is_never_forgotten(void **state)
{
	struct fixture *f = *state;
	int fd;
	struct recwriter *w = checkpoint_in_sync(f, "failed", &fd);

	assert_int_equal(recwriter_sync_done(w, EIO), BERR_SYS);
	assert_int_equal(recwriter_errno(w), EIO);
	assert_false(recwriter_sync_busy(w));
	/* the caller still seals, best effort, and tries to sync that */
	assert_int_equal(recwriter_seal(w, REC_END_ABNORMAL,
	    "cannot write the recording", 2000), 0);
	assert_int_equal(run_sync(w), 0);
	/* but a later good sync does not bring back what the failed one
	 * may have lost: never durable, never made read-only */
	assert_false(recwriter_durable(w));
	assert_int_equal(file_mode(f->path), 0640);
	assert_int_equal(recwriter_errno(w), EIO);
	/* the bytes themselves are intact */
	free_and_verify(f, w);
}

static void
test_synchronous_by_default(void **state)
{
	struct fixture *f = *state;
	struct recwriter *w = open_writer(f, "sync");
	int fd;

	append_run(f, w, 1000);
	/* the writer synced the checkpoint itself: nothing for a caller */
	assert_int_equal(recwriter_sync_start(w, &fd), 0);
	assert_false(recwriter_sync_behind(w));
	assert_int_equal(recwriter_seal(w, REC_END_NORMAL, "done", 2000), 0);
	assert_true(recwriter_durable(w));
	assert_int_equal(file_mode(f->path), 0440);
	assert_int_equal(recwriter_sync_done(w, 0), BERR_INVAL);
	free_and_verify(f, w);
}

/* Read a whole file. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return (p);
}

/* The same session, once with each kind of syncing. */
static void
write_session(struct fixture *f, const char *name, int defer)
{
	struct recwriter *w = open_writer(f, name);
	int fd;

	if (defer)
		recwriter_defer_sync(w);
	assert_int_equal(recwriter_append(w, REC_SHELL, 0, NULL, 0, 10), 0);
	assert_int_equal(recwriter_append(w, REC_INPUT, 0, "id\r", 3, 20),
	    0);
	append_run(f, w, 30);
	if (defer && recwriter_sync_start(w, &fd))
		assert_int_equal(finish_sync(w, fd), 0);
	assert_int_equal(recwriter_checkpoint(w, 1500000), 0);
	assert_int_equal(recwriter_append(w, REC_OUTPUT, 0, "", 0, 1600000),
	    0);
	assert_int_equal(recwriter_seal(w, REC_END_NORMAL, "done", 1700000),
	    0);
	while (defer && recwriter_sync_start(w, &fd))
		assert_int_equal(finish_sync(w, fd), 0);
	assert_true(recwriter_durable(w));
	free_and_verify(f, w);
}

static void
test_same_bytes_either_way(void **state)
{
	struct fixture *f = *state;
	char a[128];
	uint8_t *p, *q;
	size_t plen, qlen;

	write_session(f, "sync", 0);
	snprintf(a, sizeof(a), "%s", f->path);
	write_session(f, "deferred", 1);
	p = slurp(a, &plen);
	q = slurp(f->path, &qlen);
	assert_int_equal(plen, qlen);
	assert_memory_equal(p, q, plen);
	free(p);
	free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deferred_sync_states,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_seal_waits_for_sync_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_sync_is_never_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synchronous_by_default,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_bytes_either_way,
		    setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
