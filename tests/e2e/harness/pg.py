"""A private PostgreSQL cluster for the tests of the PostgreSQL store
backend (docs/SCALE-OUT.md, docs/TESTING.md "PostgreSQL").

PgCluster makes a cluster in a temporary directory with Debian's initdb and
pg_ctl (/usr/lib/postgresql/15/bin), as an unprivileged user (nobody when
the tests run as root: initdb refuses root), listening on a Unix socket
only, with one superuser "bastion" whose password (scram-sha-256) is in a
mode 0600 file of the test's user, as a deployment's password_file is. No
system service is used or needed.

    with PgCluster() as pg:
        conninfo = pg.create_database()     # a fresh database
        ... policy store: {backend: postgresql, conninfo: conninfo,
                           password_file: pg.password_file}

As a program it runs a command with a cluster started around it, for the
C unit tests (make check-unit-pg):

    python3 tests/e2e/harness/pg.py run -- CMD ARGS...

which sets BASTION_TEST_PG_CONNINFO (a database of its own) and
BASTION_TEST_PG_PASSWORD_FILE for CMD. Missing binaries: exit status 77
with a message naming the packages (`run`), or PgMissing (the class).
"""

import itertools
import os
import pathlib
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile

PG_BIN = pathlib.Path(os.environ.get("BASTION_PG_BIN",
                                     "/usr/lib/postgresql/15/bin"))
PACKAGES = "postgresql-15 postgresql-client-15 (make deps)"
SKIP_STATUS = 77


class PgMissing(RuntimeError):
    """initdb, pg_ctl or psql is not installed."""


def missing_binaries():
    """The names of the programs a cluster needs that are not there."""
    return [n for n in ("initdb", "pg_ctl", "psql")
            if not os.access(PG_BIN / n, os.X_OK)]


class PgCluster:
    """One private cluster; stop() (or the with block) removes it."""

    _names = itertools.count(1)

    def __init__(self, base=None, fsync=False):
        """base: where its temporary directory goes (default /tmp).
        fsync: the server's fsync (off for the tests, which need no
        crash safety; on, PostgreSQL's default, for the benchmarks)."""
        gone = missing_binaries()
        if gone:
            raise PgMissing("PostgreSQL binaries missing in %s: %s; install "
                            "%s" % (PG_BIN, ", ".join(gone), PACKAGES))
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="bastion-pg.",
                                                  dir=base or "/tmp"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.log = self.base / "postgresql.log"
        self.password_file = self.base / "pg.pass"
        self.password = secrets.token_urlsafe(24)
        self.started = False
        self.fsync = fsync
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("nobody")

    # -- the server -----------------------------------------------------

    def _as_owner(self, argv):
        if self.user is None:
            return argv
        return ["/usr/sbin/runuser", "-u", self.user.pw_name, "--"] + argv

    def _run(self, argv, timeout=120):
        env = dict(os.environ, HOME=str(self.base), LC_ALL="C.UTF-8")
        p = subprocess.run(self._as_owner(argv), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env,
                           timeout=timeout, cwd=str(self.base))
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s\n%s" % (
                argv[0], p.returncode, p.stdout[-2000:], self.log_tail()))
        return p.stdout

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log.read_text(errors="replace")
                             .splitlines()[-lines:])
        except OSError:
            return ""

    def start(self):
        """initdb and start the server; returns self."""
        self.sock.mkdir()
        # the password file of the test's user, as a deployment's is
        self.password_file.write_text(self.password + "\n")
        os.chmod(self.password_file, 0o600)
        # initdb reads the password from a file the cluster's owner reads
        pw_init = self.base / "initdb.pass"
        pw_init.write_text(self.password + "\n")
        if self.user is not None:
            for p in (self.base, self.sock, pw_init):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.base, 0o755)
        try:
            self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U",
                       "bastion", "--pwfile", str(pw_init),
                       "--auth-local=scram-sha-256", "--auth-host=reject",
                       "-E", "SQL_ASCII", "--locale=C", "--no-sync"])
        finally:
            pw_init.unlink()
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                   str(self.log), "-w", "-t", "60", "-o",
                   "-c listen_addresses='' -c unix_socket_directories=%s "
                   "-c fsync=%s -c max_connections=300"
                   % (self.sock, "on" if self.fsync else "off"),
                   "start"])
        self.started = True
        return self

    def stop(self):
        if self.started:
            try:
                self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data),
                           "-m", "fast", "-w", "stop"], timeout=60)
            finally:
                self.started = False
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- databases ------------------------------------------------------

    def conninfo(self, dbname="postgres"):
        return "host=%s dbname=%s user=bastion" % (self.sock, dbname)

    def psql(self, sql, conninfo=None):
        """Run sql as the superuser on conninfo (default: the postgres
        database); its output (unaligned, no headers)."""
        env = dict(os.environ, PGPASSWORD=self.password)
        p = subprocess.run([str(PG_BIN / "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-d",
                            conninfo or self.conninfo(), "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql %r: %s" % (sql, p.stderr.strip()))
        return p.stdout.strip()

    def create_database(self):
        """A fresh, empty database: its conninfo."""
        name = "bastion_%d_%d" % (os.getpid(), next(self._names))
        self.psql("CREATE DATABASE %s" % name)
        return self.conninfo(name)


def _main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--" or \
            len(argv) < 4:
        sys.stderr.write("usage: pg.py run -- CMD [ARGS...]\n")
        return 2
    gone = missing_binaries()
    if gone:
        sys.stderr.write("SKIPPED: the PostgreSQL store tests need %s "
                         "(missing in %s); install %s\n"
                         % (", ".join(gone), PG_BIN, PACKAGES))
        return SKIP_STATUS
    with PgCluster() as pg:
        env = dict(os.environ,
                   BASTION_TEST_PG_CONNINFO=pg.create_database(),
                   BASTION_TEST_PG_PASSWORD_FILE=str(pg.password_file))
        return subprocess.call(argv[3:], env=env)


if __name__ == "__main__":
    sys.exit(_main(sys.argv))


# -- the end-to-end suite on PostgreSQL (make check-e2e-pg) -------------------

def store_section(conninfo, cluster):
    """The policy's store: section for a database of cluster."""
    return {"backend": "postgresql", "conninfo": conninfo,
            "password_file": str(cluster.password_file)}


def use_for_bastions(cluster):
    """From now on every harness Bastion's policy (that has no store: of its
    own) names a database of cluster, one per Bastion, made at its first
    policy: the test's state starts empty, as a fresh state_dir does.
    Returns a function that undoes it."""
    from harness.bastion import Bastion
    plain = Bastion.write_policy

    def write_policy(self, policy, path=None):
        if isinstance(policy, dict) and "store" not in policy:
            if getattr(self, "pg_conninfo", None) is None:
                self.pg_conninfo = cluster.create_database()
                self.pg_cluster = cluster
            policy = dict(policy, store=store_section(self.pg_conninfo,
                                                      cluster))
        return plain(self, policy, path)
    Bastion.write_policy = write_policy

    def undo():
        Bastion.write_policy = plain
    return undo


def on_postgresql():
    """The suite runs with BASTION_STORE=postgresql."""
    return os.environ.get("BASTION_STORE", "sqlite") == "postgresql"


def sqlite_only(why):
    """A mark for a test of what only the SQLite store has (the state.db
    file): skipped, with why, when the suite runs on PostgreSQL."""
    import pytest
    return pytest.mark.skipif(on_postgresql(),
                              reason="SQLite store only: %s" % why)


def state_sql(bastion, sql):
    """Run sql on bastion's state store behind its back (a test that
    plays a crash): the PostgreSQL database the suite gave it, or its
    state_dir/state.db."""
    cluster = getattr(bastion, "pg_cluster", None)
    if cluster is not None:
        return cluster.psql(sql, bastion.pg_conninfo)
    import sqlite3
    db = sqlite3.connect(str(bastion.state_dir / "state.db"))
    try:
        db.execute(sql)
        db.commit()
    finally:
        db.close()
    return ""
