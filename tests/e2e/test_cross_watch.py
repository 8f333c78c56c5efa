"""`watch` on node B of a session that runs on node A (issue 20,
docs/SCALE-OUT.md "Watching a session of another node").

Two real nodes on one PostgreSQL database (test_scale_out's fixtures), the
engineer's real ssh session on node A, the admin's real ssh to node B. B
asks A through the database; A's helper reads its recorder's live output
and writes it into the database encrypted to a key B made for this one
watch. What is checked: B shows the screen so far and what follows;
the database holds no clear output while the watch runs (its tables and a
pg_dump, the WAL); both nodes' audit chains record the watch; ^C or a
hang-up on B ends A's helper and leaves no rows; a watcher that falls
behind holds nothing up and is shown what it missed; a watch that follows
the session to its end says so; a request filed by hand in the database
is checked by A against its own policy; root's bastionctl on B is refused
before anything is asked; a node that is down is named and its session
refused, and one that never answers is named after 10 s.
"""

import base64
import os
import signal
import subprocess
import time

import pytest

from harness import util
from harness.pg import PG_BIN
from test_admin_console import Reader, registered
from test_failover import kill_node
from test_scale_out import cluster, ctl, node_ssh, nodes  # noqa: F401

MARK = "xw-marker"


@pytest.fixture
def store_extra():
    """A node silent for 3 s has its sessions shown lost."""
    return {"lost_after": 3}


def conninfo(world):
    return world.top["store"]["conninfo"]


def sql(cluster, world, q):
    return cluster.psql(q, conninfo(world))


def dump(cluster, world):
    """pg_dump of the whole database, data included, as text."""
    p = subprocess.run([str(PG_BIN / "pg_dump"), "-d", conninfo(world)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=dict(os.environ,
                                           PGPASSWORD=cluster.password),
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


# a trigger (the superuser's) copying each chunk as it is inserted
KEEP_CHUNKS = (
    "CREATE TABLE xw_seen (data text); "
    "CREATE FUNCTION xw_keep() RETURNS trigger LANGUAGE plpgsql "
    "SECURITY DEFINER AS $$ BEGIN INSERT INTO xw_seen VALUES (NEW.data); "
    "RETURN NEW; END $$; "
    "CREATE TRIGGER xw_keep AFTER INSERT ON peer_watch_chunk FOR EACH ROW "
    "EXECUTE FUNCTION xw_keep()")


def session_on_a(world, p, command):
    """alice's session on node A running command, and its number, once
    the shared registry has it."""
    n = len(world.bastion.audit_events(event="session.start",
                                       user="alice"))
    proc = p["alice"].popen("ct-scanner", command, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ev = world.bastion.wait_audit(event="session.start", user="alice",
                                  alive=proc, after=n, timeout=20)
    registered(world, ev["session"])
    return proc, ev["session"]


def helpers(node):
    return util.worker_pids(node, "--peer-watch")


def seccomp_mode(pid):
    """The "Seccomp:" line of a process's status (2: a filter)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Seccomp:"):
                return int(line.split()[1])
    return None


def no_leftovers(cluster, world):
    util.wait_until(lambda: not helpers(world.bastion), 15,
                    what=lambda: "peer-watch helpers %r still on node A"
                    % helpers(world.bastion))
    util.wait_until(
        lambda: sql(cluster, world, "SELECT (SELECT count(*) FROM "
                    "peer_watch) + (SELECT count(*) FROM "
                    "peer_watch_chunk)") == "0", 10,
        what="watch rows left in the database")


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=30)


def test_watch_on_b_shows_a_session_on_a(nodes, build_dir, cluster, softsk):
    world, p, b = nodes
    a = world.bastion
    proc, sid = session_on_a(world, p, (
        "echo %s-before-$((40+2)); sleep 2; while :; do "
        "echo %s-after-$((6*7)); sleep 0.2; done" % (MARK, MARK)))
    # every chunk ever written is kept aside (B deletes them as it reads)
    sql(cluster, world, KEEP_CHUNKS)
    try:
        assert proc.stdout.readline() == "%s-before-42\n" % MARK
        watch = node_ssh(b, p["bob"], softsk, "watch", sid)
        out = Reader(watch.stdout)
        try:
            out.wait("%s-before-42" % MARK, 20)    # the screen so far
            out.wait("%s-after-42" % MARK, 20)     # printed since: live
            # the database held the request and ciphertext only
            rows = sql(cluster, world, "SELECT data FROM xw_seen")
            assert len(rows.splitlines()) >= 2, rows
            for row in rows.splitlines():
                assert base64.b64decode(row).startswith(
                    b"age-encryption.org/v1\n-> X25519 ")
            req = sql(cluster, world, "SELECT session, admin, from_node, "
                      "to_node, recipient FROM peer_watch").split("|")
            assert req[:4] == [sid, "bob", "bastion-b", "bastion-a"], req
            assert req[4].startswith("age1")
            text = dump(cluster, world)
            assert "peer_watch_chunk" in text and MARK not in text
            # both nodes' chains
            ev = b.wait_audit(event="session.watch", session=sid)
            assert ev["admin"] == "bob" and ev["node"] == "bastion-a"
            ev = a.wait_audit(event="session.watch_remote", session=sid)
            assert ev["admin"] == "bob" and ev["node"] == "bastion-b"
            assert ev["status"] == "ok" and ev["user"] == "alice"
            [helper] = helpers(a)
            # the helper (root) runs under its own seccomp filter
            assert seccomp_mode(helper) == 2
        finally:
            if watch.poll() is None:    # bob hangs up
                os.killpg(watch.pid, signal.SIGTERM)
            watch.wait(30)
        assert "watching session %s: alice (acme) on ct-scanner" % sid in \
            watch.stderr.read()
        # A's helper sees the request gone and ends; nothing is left
        no_leftovers(cluster, world)
        assert proc.poll() is None      # alice's session goes on
        # nor did the clear output pass through the WAL (which does hold
        # this database's rows: the node names)
        wal = b"".join(f.read_bytes() for f in (cluster.data /
                                                 "pg_wal").iterdir()
                       if f.is_file())
        assert b"bastion-a" in wal
        assert b"%s-after-42" % MARK.encode() not in wal
        assert b"%s-before-42" % MARK.encode() not in wal
    finally:
        stop(proc)


def test_ctrl_c_on_b_and_the_sessions_end(nodes, build_dir, cluster,
                                          softsk):
    import pexpect
    world, p, b = nodes
    a = world.bastion
    proc, sid = session_on_a(world, p, (
        "while :; do echo %s-tick; sleep 0.3; done" % MARK))
    try:
        cfg = b.ssh_config(p["bob"].dir / "ssh_config-tty", p["bob"].key,
                           provider=softsk.provider)
        argv = b.ssh_argv(cfg, "bob", "watch", sid, agent=True, tty=True)
        bob = pexpect.spawn(argv[0], argv[1:], env=p["bob"].env(),
                            timeout=30, encoding="utf-8",
                            codec_errors="replace")
        bob.expect("%s-tick" % MARK)
        util.wait_until(lambda: helpers(a), 10, what="A's helper")
        bob.send("\x03")
        bob.expect("stopped watching session %s" % sid)
        bob.expect(pexpect.EOF)
        no_leftovers(cluster, world)
        assert proc.poll() is None
    finally:
        stop(proc)
    # a watch that follows the session to its end says so, and ends
    go = "/tmp/xw-go-%d" % os.getpid()
    proc, sid = session_on_a(world, p, (
        "echo %s-one; for i in $(seq 600); do [ -e %s ] && break; "
        "sleep 0.1; done; echo %s-two" % (MARK, go, MARK)))
    watch = node_ssh(b, p["bob"], softsk, "watch", sid)
    out = Reader(watch.stdout)
    try:
        out.wait("%s-one" % MARK, 20)
        open(go, "w").close()
        watch.wait(30)
        err = watch.stderr.read()
        assert watch.returncode == 0, err
        assert "%s-two" % MARK in out.text()
        assert "session %s ended" % sid in err, err
    finally:
        if os.path.exists(go):
            os.unlink(go)
        stop(proc)
    no_leftovers(cluster, world)


def test_a_watcher_that_falls_behind_holds_nothing_up(nodes, build_dir,
                                                      cluster, softsk):
    """B stops reading (its monitor frozen) while A's session prints on:
    A keeps at most the backlog, counts the rest, and B, once it reads
    again, shows where output is missing; alice's session never waited."""
    world, p, b = nodes
    proc, sid = session_on_a(world, p, (
        "i=0; while :; do i=$((i+1)); seq -f %s-flood-$i-%%g 1 300 || "
        "exit; sleep 0.05; done" % MARK))
    # (|| exit: the device's shell has no terminal to hang up; once the
    # session is gone only seq feels the closed pipe, and the loop must
    # end with it, not run on after the test)
    seen = Reader(proc.stdout)
    try:
        watch = node_ssh(b, p["bob"], softsk, "watch", sid)
        out = Reader(watch.stdout)
        out.wait("%s-flood-" % MARK, 20)
        [mon] = util.worker_monitor_pids(b)     # bob's connection
        os.kill(mon, signal.SIGSTOP)
        try:
            before = len(seen.text())
            time.sleep(4)
            # alice's session went on printing meanwhile
            assert len(seen.text()) - before > 100000
            util.wait_until(lambda: sql(
                cluster, world, "SELECT count(*) FROM peer_watch_chunk") ==
                "32", 10, what="the backlog full")
        finally:
            os.kill(mon, signal.SIGCONT)
        out.wait("bytes not shown]", 20)
        assert proc.poll() is None
        os.killpg(watch.pid, signal.SIGTERM)
        watch.wait(30)
        no_leftovers(cluster, world)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)       # (its stdout is the Reader's)


def test_bastionctl_on_b_needs_a_policy_admin(nodes, build_dir):
    """root's bastionctl maps to no admin: node A could not check it."""
    world, p, b = nodes
    proc, sid = session_on_a(world, p, "echo started; sleep 60")
    try:
        w = ctl(build_dir, b, "watch", sid)
        assert w.returncode == 1
        assert "runs on node bastion-a" in w.stderr, w.stderr
        assert "no policy admin" in w.stderr, w.stderr
        assert helpers(world.bastion) == []
    finally:
        stop(proc)


def test_watch_of_a_dead_nodes_session_is_refused(nodes, build_dir,
                                                  softsk):
    world, p, b = nodes
    proc, sid = session_on_a(world, p, "echo started; sleep 60")
    assert proc.stdout.readline() == "started\n"
    kill_node(world.bastion)
    stop(proc)
    # B marks the session lost (lost_after: 3 s), then refuses at once
    util.wait_until(lambda: "lost" in ctl(build_dir, b, "sessions").stdout,
                    15, what="node A's session shown lost on B")
    t0 = time.monotonic()
    w = node_ssh(b, p["bob"], softsk, "watch", sid)
    out, err = w.communicate(timeout=30)
    assert w.returncode == 1, err
    assert "runs on node bastion-a, which has fallen silent" in err, err
    assert time.monotonic() - t0 < 8


# age's own example recipient (github.com/FiloSottile/age, README)
AGE_EXAMPLE = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


def file_request(cluster, world, sid, admin, key, nonce="", sig="",
                 from_node="bastion-b", expires=None):
    """A request filed by hand in the database (as a database writer
    could); its number."""
    now = int(time.time())
    return sql(cluster, world, (
        "INSERT INTO peer_watch(session, admin, from_node, to_node, "
        "recipient, created, expires, seen, nonce, sig) VALUES (%s, '%s', "
        "'%s', 'bastion-a', '%s', %d, %d, %d, '%s', '%s') RETURNING id"
        % (sid, admin, from_node, key, now, expires or now + 600, now,
           nonce, sig))).split()[0]


def signed(keyfile, tmp, sid, admin, key, expires, nonce,
           from_node="bastion-b"):
    """The signature a node's audit key (keyfile) makes of a request
    (bastion/peerwatch_sign.c's message), by openssl: hex."""
    fields = [str(sid), admin, from_node, "bastion-a", key, str(expires),
              nonce]
    msg = "bastion-watch-v1\n" + "".join("%d:%s\n" % (len(f), f)
                                         for f in fields)
    m = tmp / "msg"
    m.write_bytes(msg.encode())
    p = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                        str(keyfile), "-in", str(m)],
                       stdout=subprocess.PIPE, check=True)
    assert len(p.stdout) == 64
    return p.stdout.hex()


def marked_session(world, p):
    """alice's session on A, once it printed its marker: (node A, the
    session's process and number, an expiry for requests)."""
    proc, sid = session_on_a(world, p, "echo %s-$((1+1)); sleep 60" % MARK)
    try:
        assert proc.stdout.readline() == "%s-2\n" % MARK
    except BaseException:
        stop(proc)
        raise
    return world.bastion, proc, sid, int(time.time()) + 600


def refused(cluster, world, a, admin, why):
    ev = a.wait_audit(event="session.watch_remote", admin=admin,
                      timeout=15)
    assert ev["status"] == "refused" and ev["node"] in (
        "bastion-b", "bastion-c"), ev
    assert why in ev["reason"], ev
    return ev


def test_a_serves_only_requests_its_pinned_node_signed(nodes, build_dir,
                                                       cluster, tmp_path):
    """What one who can write to the database but holds no node's audit
    key gets by filing a request by hand: node A refuses a request not
    signed, one whose signature is not the asking node's pinned key's
    (another key, or a signature of B's for another session replayed),
    and one from a node its policy pins no key for; each said in a chunk
    and audited in A's chain."""
    world, p, b = nodes
    a, proc, sid, exp = marked_session(world, p)
    try:
        nonce = "ab" * 16
        other = tmp_path / "other.key"
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
                        "-out", str(other)], check=True)
        real = b.state_dir / "audit.key"
        ids = {
            "x-unsigned": file_request(cluster, world, sid, "x-unsigned",
                                       AGE_EXAMPLE, expires=exp),
            "x-garbage": file_request(cluster, world, sid, "x-garbage",
                                      AGE_EXAMPLE, nonce, "00" * 64, expires=exp),
            "x-otherkey": file_request(
                cluster, world, sid, "x-otherkey", AGE_EXAMPLE, nonce,
                signed(other, tmp_path, sid, "x-otherkey", AGE_EXAMPLE, exp,
                       nonce), expires=exp),
            # B's own signature, made for another session
            "x-replay": file_request(
                cluster, world, sid, "x-replay", AGE_EXAMPLE, nonce,
                signed(real, tmp_path, int(sid) + 1, "x-replay",
                       AGE_EXAMPLE, exp, nonce), expires=exp),
            "x-unpinned": file_request(
                cluster, world, sid, "x-unpinned", AGE_EXAMPLE, nonce,
                signed(other, tmp_path, sid, "x-unpinned", AGE_EXAMPLE,
                       exp, nonce, from_node="bastion-c"),
                from_node="bastion-c", expires=exp),
        }
        refused(cluster, world, a, "x-unsigned", "not signed by the "
                "asking node")
        refused(cluster, world, a, "x-garbage", "not the asking node's "
                "pinned key's")
        refused(cluster, world, a, "x-otherkey", "not the asking node's "
                "pinned key's")
        refused(cluster, world, a, "x-replay", "not the asking node's "
                "pinned key's")
        refused(cluster, world, a, "x-unpinned", "has no audit key pinned "
                "in this node's policy (store: nodes)")
        rows = sql(cluster, world, "SELECT watch, kind FROM "
                   "peer_watch_chunk ORDER BY watch").splitlines()
        assert rows == ["%s|refused" % ids[k] for k in sorted(
            ids, key=lambda k: int(ids[k]))], rows
        assert MARK not in dump(cluster, world)
        util.wait_until(lambda: not helpers(a), 10, what="helpers gone")
        assert proc.poll() is None
    finally:
        stop(proc)


def test_a_checks_a_request_against_its_own_policy(nodes, build_dir,
                                                   cluster, tmp_path):
    """A request signed by B's own key (as if B's key were stolen, or B
    misbehaved) is still checked by node A against its own policy: an
    admin it does not know and a key that is none are refused, said in a
    chunk, and audited."""
    world, p, b = nodes
    a, proc, sid, exp = marked_session(world, p)
    try:
        nonce = "cd" * 16
        real = b.state_dir / "audit.key"
        ids = {}
        for admin, key in (("mallory", AGE_EXAMPLE), ("bob", "age1bogus")):
            ids[admin] = file_request(
                cluster, world, sid, admin, key, nonce,
                signed(real, tmp_path, sid, admin, key, exp, nonce),
                expires=exp)
        # found on A's next look (no push was sent)
        ev = refused(cluster, world, a, "mallory", "not an active admin")
        assert ev["node"] == "bastion-b"
        refused(cluster, world, a, "bob", "not an X25519 recipient")
        rows = sql(cluster, world, "SELECT watch, kind, data FROM "
                   "peer_watch_chunk ORDER BY watch").splitlines()
        assert [r.split("|")[:2] for r in rows] == [
            [ids["mallory"], "refused"], [ids["bob"], "refused"]], rows
        assert MARK not in dump(cluster, world)
        util.wait_until(lambda: not helpers(a), 10, what="helpers gone")
        assert proc.poll() is None
    finally:
        stop(proc)


def test_a_node_that_does_not_answer_is_named(nodes, build_dir, cluster,
                                              softsk):
    """A session row of a node that has no bastiond at all (no heartbeat,
    so never shown lost): B asks, nobody claims, B says so after 10 s and
    takes its request back."""
    world, p, b = nodes
    sql(cluster, world, "INSERT INTO session(sid, pid, engineer, vendor, "
        "device, source, started, recording, node) VALUES (9999, 1, "
        "'alice', 'acme', 'ct-scanner', '127.0.0.1', %d, "
        "'/nowhere/x.brec', 'bastion-c')" % int(time.time()))
    t0 = time.monotonic()
    w = node_ssh(b, p["bob"], softsk, "watch", "9999")
    out, err = w.communicate(timeout=40)
    assert w.returncode == 1, err
    assert "node bastion-c did not answer within 10 seconds" in err, err
    assert time.monotonic() - t0 >= 10
    assert sql(cluster, world, "SELECT count(*) FROM peer_watch") == "0"
