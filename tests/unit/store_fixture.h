/*
 * store_fixture.h - the cmocka fixtures the store's tests share: a fresh
 * directory /tmp/PROGRAM.XXXXXX, removed afterwards, holding either an open
 * state store (setup: test_state.c, test_store.c, test_store_actor.c,
 * test_approvals.c) or an appender on an empty audit chain (setup_audit:
 * test_auditlog.c, test_recbundle.c). Header-only, as every
 * tests/unit/test_*.c is its own program; the functions are static inline
 * so that a test using one of the two setups is not warned about the
 * other. With store_wire.h included before it, a check that a request
 * ends its connection (fixture_expect_ended).
 *
 * The backend: SQLite in the directory, or, when make check-unit-pg runs
 * the store's tests (tests/e2e/harness/pg.py run -- ...), the PostgreSQL
 * database of BASTION_TEST_PG_CONNINFO, emptied before each test; raw_int
 * and raw_exec then reach that database, and FIXTURE_SQL(sqlite, pg)
 * picks a statement's dialect.
 */
#ifndef BASTION_STORE_FIXTURE_H
#define BASTION_STORE_FIXTURE_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "auditlog.h"
#include "state.h"

#define FP_A	"SHA256:rs/JS99CVd0bv2PycnWpLd7trwUhDRRmkXCQuLN64Eo"
#define FP_B	"SHA256:WtHV6FIxekNZKylArx4XU3qlEL1AkYKUGekRT0Y+T/Q"

struct fixture {
	char dir[64];			/* /tmp/PROGRAM.XXXXXX */
	char db[PATH_MAX + 16];		/* dir/state.db */
	char path[PATH_MAX + 16];	/* dir/audit.log, the audit chain */
	struct state *st;		/* setup: the open store */
	struct auditlog *al;		/* setup_audit: the chain's appender */
};

/* The PostgreSQL database under test, or NULL: SQLite. */
static inline const char *
fixture_pg(void)
{
	const char *c = getenv("BASTION_TEST_PG_CONNINFO");

	return (c != NULL && c[0] != '\0' ? c : NULL);
}

#define FIXTURE_SQL(sqlite, pg)	(fixture_pg() != NULL ? (pg) : (sqlite))

/* A test of what only SQLite has (the file, its pragmas) under pg. */
#define FIXTURE_SQLITE_ONLY(why) do {					\
	if (fixture_pg() != NULL) {					\
		print_message("SQLite only: %s\n", (why));		\
		skip();							\
	}								\
} while (0)

/* A connection of the test's own to the database under test. */
static inline PGconn *
fixture_pg_connect(void)
{
	const char *keys[] = { "dbname", "options", "password", NULL };
	const char *vals[] = { fixture_pg(), "-c client_min_messages=warning",
	    NULL, NULL };
	const char *pf = getenv("BASTION_TEST_PG_PASSWORD_FILE");
	char pw[256] = "";
	FILE *fp;
	PGconn *c;

	if (pf != NULL && (fp = fopen(pf, "r")) != NULL) {
		if (fgets(pw, sizeof(pw), fp) != NULL)
			pw[strcspn(pw, "\r\n")] = '\0';
		fclose(fp);
		vals[2] = pw;
	}
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("PostgreSQL under test: %s", PQerrorMessage(c));
	return (c);
}

/* Run sql on the database under test: its first value as an integer. */
static inline int64_t
fixture_pg_sql(const char *sql)
{
	PGconn *c = fixture_pg_connect();
	PGresult *res = PQexec(c, sql);
	int64_t v = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) {
		const char *t = PQgetvalue(res, 0, 0);

		v = t[0] == 't' ? 1 : t[0] == 'f' ? 0 : strtoll(t, NULL, 10);
	}
	PQclear(res);
	PQfinish(c);
	return (v);
}

/* Every test starts from an empty store: under pg, an empty database. */
static inline void
fixture_backend(void)
{
	if (fixture_pg() == NULL)
		return;
	assert_int_equal(state_use_postgresql(fixture_pg(),
	    getenv("BASTION_TEST_PG_PASSWORD_FILE")), 0);
	(void)fixture_pg_sql("DROP SCHEMA public CASCADE; "
	    "CREATE SCHEMA public");
}

/* A fixture with its directory made and its file names set; nothing open. */
static inline struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int n;

	assert_non_null(f);
	n = snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX",
	    program_invocation_short_name);
	assert_true(n > 0 && (size_t)n < sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, STATE_FILE);
	assert_int_equal(auditlog_path_for(f->dir, f->path, sizeof(f->path)),
	    0);
	fixture_backend();
	return (f);
}

static inline int
setup(void **state)
{
	struct fixture *f = fixture_new();

	assert_int_equal(state_open(f->dir, &f->st), 0);
	*state = f;
	return (0);
}

static inline int
setup_audit(void **state)
{
	struct fixture *f = fixture_new();

	assert_int_equal(auditlog_new(f->path, 1, &f->al), 0);
	*state = f;
	return (0);
}

/* Remove a test's directory and all in it. */
static inline void
fixture_rmdir(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Either fixture. An audit test may also have opened the process's own
 * chain (auditlog_open) in dir: that is closed too. */
static inline int
teardown(void **state)
{
	struct fixture *f = *state;

	state_close(f->st);
	if (f->al != NULL) {
		auditlog_close();
		auditlog_free(f->al);
	}
	fixture_rmdir(f->dir);
	free(f);
	return (0);
}

/* One integer from the file itself, behind the interface's back. */
static inline int64_t
raw_int(const struct fixture *f, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t v;

	if (fixture_pg() != NULL)
		return (fixture_pg_sql(sql));
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return (v);
}

/* Run sql on the file itself, behind the interface's back. */
static inline void
raw_exec(const struct fixture *f, const char *sql)
{
	sqlite3 *db = NULL;

	if (fixture_pg() != NULL) {
		(void)fixture_pg_sql(sql);
		return;
	}
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

#ifdef BASTION_STORE_WIRE_H
/* Send p to the store actor of dir on a connection of its own: it must
 * answer ERROR BERR_FORMAT and end that connection. */
static inline void
fixture_expect_ended(const char *dir, const void *p, size_t len)
{
	struct store_msg m;
	uint8_t in[STORE_MSG_MAX];
	ssize_t n;
	int fd;

	assert_int_equal(store_client_connect(dir, &fd), 0);
	assert_int_equal(send(fd, p, len, 0), (ssize_t)len);
	n = recv(fd, in, sizeof(in), 0);
	assert_true(n > 0);
	assert_int_equal(store_msg_decode(in, (size_t)n, &m), 0);
	assert_int_equal(m.type, STORE_MSG_ERROR);
	assert_int_equal(m.code, BERR_FORMAT);
	assert_int_equal(recv(fd, in, sizeof(in), 0), 0);	/* ended */
	close(fd);
}
#endif

#endif
