/*
 * locks.c - pam_bastion.so's read-only look at the state store's key locks.
 *
 * bastiond locks a security key whose signature counter went backwards (a
 * possible clone; bastion/touch.c), an admin locks an engineer (`lock
 * ENGINEER`, table engineer_lock), and `bastionctl unlock ENGINEER` lifts
 * both. The module refuses a person while any such lock stands.
 *
 * Why not state_open() (store/state.h)? It opens the store read-write,
 * creates it when missing and upgrades its schema: right for bastiond and
 * bastionctl, wrong for a module loaded into other programs (sshd as root
 * would create a root-owned store in the bastion's state directory). So the
 * module opens STATE_DIR/state.db itself with SQLITE_OPEN_READONLY and
 * reads the tables it needs, key_lock (schema step 1 in store/state.c:
 * fingerprint, engineer, reason, locked_at) and engineer_lock (step 3:
 * engineer, reason, locked_by, locked_at; absent from an older store,
 * which then has no such lock). A read-only connection to a
 * WAL database may still create the -shm file; SQLite gives it the owner
 * of the database when it runs as root, so bastiond keeps its access.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "err.h"
#include "pam_bastion.h"
#include "state.h"

#define LOCKS_BUSY_TIMEOUT_MS	2000

static int
locks_fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
locks_fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (r);
}

static void
locks_copy(sqlite3_stmt *q, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

/* One query with one text parameter; a row fills *hit (engineer, reason). */
static int
locks_query(sqlite3 *db, const char *sql, const char *param, int *found,
    struct locks_hit *hit)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(q, 1, param, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(q);
		return (SQLITE_ERROR);
	}
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*found = 1;
		locks_copy(q, 0, hit->engineer, sizeof(hit->engineer));
		locks_copy(q, 1, hit->reason, sizeof(hit->reason));
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(q);
	return (rc);
}

/* Does the store have table name (older stores lack newer tables)? */
static int
locks_has_table(sqlite3 *db, const char *name, int *has)
{
	struct locks_hit unused;

	*has = 0;
	return (locks_query(db, "SELECT name, '' FROM sqlite_master WHERE "
	    "type = 'table' AND name = ?1", name, has, &unused));
}

int
locks_check(const char *state_dir, const char *person, char *const *fps,
    size_t nfps, int *locked, int *absent, struct locks_hit *hit, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	sqlite3 *db = NULL;
	size_t i;
	int r = 0, has = 0;

	*locked = 0;
	*absent = 0;
	memset(hit, 0, sizeof(*hit));
	if (errlen > 0)
		err[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_FILE) >=
	    (int)sizeof(path))
		return (locks_fail(err, errlen, BERR_LIMIT,
		    "state store path under %s is too long", state_dir));
	if (stat(path, &st) != 0) {
		if (errno == ENOENT) {
			*absent = 1;
			return (0);
		}
		return (locks_fail(err, errlen, BERR_SYS, "cannot read the "
		    "state store %s: %s", path, strerror(errno)));
	}
	if (!S_ISREG(st.st_mode))
		return (locks_fail(err, errlen, BERR_SYS, "state store %s is "
		    "not a regular file", path));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = locks_fail(err, errlen, BERR_SYS, "cannot open the state "
		    "store %s read-only: %s", path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, LOCKS_BUSY_TIMEOUT_MS);
	if (locks_query(db, "SELECT engineer, reason FROM key_lock WHERE "
	    "engineer = ?1 ORDER BY locked_at LIMIT 1", person, locked,
	    hit) != SQLITE_OK)
		goto dberr;
	for (i = 0; !*locked && i < nfps; i++)
		if (locks_query(db, "SELECT engineer, reason FROM key_lock "
		    "WHERE fingerprint = ?1", fps[i], locked, hit) != SQLITE_OK)
			goto dberr;
	if (!*locked && (locks_has_table(db, "engineer_lock", &has) !=
	    SQLITE_OK || (has && locks_query(db, "SELECT engineer, "
	    "'locked by ' || locked_by || ': ' || reason FROM engineer_lock "
	    "WHERE engineer = ?1", person, locked, hit) != SQLITE_OK)))
		goto dberr;
	goto out;
dberr:
	*locked = 0;
	r = locks_fail(err, errlen, BERR_INTERNAL, "cannot read the key locks "
	    "in the state store %s: %s", path, sqlite3_errmsg(db));
out:
	sqlite3_close(db);
	return (r);
}
