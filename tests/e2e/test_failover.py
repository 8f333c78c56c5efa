"""Failover behind a real HAProxy (issue 20, docs/SCALE-OUT.md "Failover").

Two bastiond nodes on one PostgreSQL database (harness/pg.py), with the
same host key, each with its readiness port (`store: health:`,
bastion/health.c). Debian's haproxy, started here as an unprivileged
process on loopback, is the one address the engineers use: `balance
first` (everything to node A while it is up), health-checked with
`option tcp-check` + `tcp-check expect rstring ^UP` on each node's
readiness port. Node A is then killed outright (SIGKILL, its recorder and
workers too, as a power cut would): new logins through HAProxy reach node
B within 5 s, a grant approved before goes on (the engineer goes straight
in, no new request), and the recording of the session that was live on A
verifies up to its last signed checkpoint (unsealed: a pass of A's
bastion-ship ships A's sealed recordings and leaves it on A's disk,
shipping only what verifies as sealed). Node A stopped
gracefully instead (SIGTERM) with a session live: logins reach B, and
that session's recording, sealed by the stop, is shipped by A's
bastion-ship (still running beside it) to the shared object store
(s3rver, test_recording_ship.py's fixture), where it has the spool's
SHA-256 and, fetched back by id, verifies with A's key.
"""

import json
import os
import pathlib
import signal
import subprocess
import time

import pytest

from harness import util
from harness.bastion import Bastion
from harness.haproxy import HAProxy, available, health
from harness.pg import store_section
from test_scale_out import cluster, ctl  # noqa: F401 (a fixture)
from test_recording_ship import (chain_events, key_of,  # noqa: F401
                                 s3, sha256, ship_policy,  # (s3: a fixture)
                                 wait_chain)
from test_session_recording import recordings, verify

ALIAS = "bastion-ha"


@pytest.fixture
def ha(cast, cluster, build_dir):  # noqa: F811
    """(world, people, node B, haproxy): node A is world.bastion."""
    if not available():
        pytest.skip("haproxy is not installed (make deps)")
    world, p = cast
    ha_a = util.free_port("127.0.0.1")
    world.top["store"] = dict(store_section(cluster.create_database(),
                                            cluster), node="bastion-a",
                              health="127.0.0.1:%d" % ha_a)
    world.vendors["globex"]["approval"] = {"required": True}
    # a second device of gina's: a request for it is pending when A dies
    world.add_device("globex", "pacs2", host=11)
    world.start_bastion()
    a = world.bastion
    b = Bastion(world.dir / "node-b", build_dir, world.pam)
    policy = world.policy()
    policy["listen"] = ["127.0.0.1:%d" % util.free_port("127.0.0.1")]
    policy["paths"] = b.default_paths()
    # one address, one host key: the engineers' known_hosts holds one
    policy["paths"]["host_keys"] = [str(a.host_key)]
    ha_b = util.free_port("127.0.0.1")
    policy["store"] = dict(policy["store"], node="bastion-b",
                           health="127.0.0.1:%d" % ha_b)
    b.write_policy(policy)
    b.start()
    lb = None
    try:
        assert health(ha_a) == "UP bastion-a\n"
        assert health(ha_b) == "UP bastion-b\n"
        lb = HAProxy([("a", a.port, ha_a), ("b", b.port, ha_b)])
        kh = world.dir / "known_hosts-ha"
        kh.write_text("%s %s\n" % (ALIAS, a.host_key_pub))
        lb.opts = ["-o", "Port=%d" % lb.port, "-o", "HostKeyAlias=" + ALIAS,
                   "-o", "UserKnownHostsFile=%s" % kh]
        yield world, p, b, lb
    finally:
        if lb is not None:
            lb.stop()
        b.stop()


def kill_node(node):
    """SIGKILL bastiond and everything it started: the node is gone. All
    are stopped (SIGSTOP) before any is killed, so that none sees another
    die first: a recorder that saw its worker's socket close before its
    own SIGKILL would seal the recording, which a dead node cannot do."""
    pids = [node.pid] + util.children_of(node.pid)
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    node.proc.wait(10)
    util.wait_gone(pids, 5)


def ticking(person, lb):
    """person's session on ct-scanner through the balancer, printing
    "tick" every 50 ms (a Popen, bytes)."""
    return person.popen("ct-scanner", "while :; do echo tick; sleep 0.05; "
                        "done", options=lb.opts, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)


def login_after(person, lb, device, since, what):
    """`ssh person@balancer device echo after`, tried until it succeeds
    (15 s at most): (the CompletedProcess, seconds since since)."""
    def login():
        r = person.ssh(device, "echo after", options=lb.opts,
                       extra={"ConnectTimeout": "3"}, timeout=10)
        return r if r.returncode == 0 else None
    r = util.wait_until(login, 15, interval=0.2,
                        what="a login through haproxy after " + what)
    return r, time.monotonic() - since


def a_ship_policy(world, s3):
    """Node A's policy with the store's `recordings:` section, for its
    bastion-ship (bastiond reads that section only for its console's
    fetch): the file's path."""
    return world.bastion.write_policy(
        ship_policy(world, s3, node="bastion-a"), world.dir / "ship-a.yaml")


def test_kill_node_a_new_logins_reach_b_grants_survive(
        ha, s3, build_dir):  # noqa: F811 (s3: a fixture)
    world, p, b, lb = ha
    a = world.bastion
    # a grant, approved before the failure: gina's request (through the
    # balancer, so on A) approved on B
    gina = p["gina"].popen("pacs", "echo first", options=lb.opts,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    ev = a.wait_audit(event="approval.requested", user="gina", alive=gina,
                      timeout=20)
    r = ctl(build_dir, b, "approve", ev["request"], "1h")
    assert r.returncode == 0, r.stderr
    out, err = gina.communicate(timeout=30)
    assert gina.returncode == 0 and out == "first\n", err
    # a request made on A, pending when A dies: gina waits for pacs2
    waiting = p["gina"].popen("pacs2", "echo second", options=lb.opts,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    pending = a.wait_audit(event="approval.requested", user="gina", after=1,
                           alive=waiting, timeout=20)["request"]
    # alice's session, live on A through the balancer
    alice = ticking(p["alice"], lb)
    try:
        assert alice.stdout.readline() == b"tick\n"
        # every node lists it, with the node it runs on
        [s] = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
        assert (s["engineer"], s["node"]) == ("alice", "bastion-a"), s
        rec = s["recording"]
        assert rec in recordings(world)
        util.wait_until(lambda: "(signed by checkpoint" in verify(
            world, build_dir, rec).stdout, 15, interval=0.1,
            what="a checkpoint in " + rec)
        kill_node(a)
        killed = time.monotonic()
        # the engineers' connections went with the node
        alice.communicate(timeout=30)
        assert alice.returncode != 0
        waiting.communicate(timeout=30)
        assert waiting.returncode != 0
        r, took = login_after(p["gina"], lb, "pacs", killed, "A died")
    finally:
        for pr in (alice, waiting):
            if pr.poll() is None:
                os.killpg(pr.pid, signal.SIGTERM)
                pr.communicate(timeout=30)
    assert r.stdout == "after\n", r.stderr
    assert took < 5, took
    # the balancer's health check took A out (not only a refused connect)
    util.wait_until(lambda: lb.said("Server bastions/a is DOWN"), 5,
                    what="haproxy marking node A down")
    assert not lb.said("Server bastions/b is DOWN")
    # on B, on the grant made before: no new request, no waiting
    assert b.audit_events(event="approval.requested") == []
    assert "waiting for approval" not in r.stderr.lower(), r.stderr
    assert b.audit_events(event="session.start", user="gina")
    # the request pending on A when it died is still there; approved on
    # B, gina goes in through the balancer on it, with no new request
    lst = json.loads(ctl(build_dir, b, "requests", "--json").stdout)
    assert [(str(q["id"]), q["status"], q["device"]) for q in lst
            if str(q["id"]) == pending] == [(pending, "pending", "pacs2")]
    ok = ctl(build_dir, b, "approve", pending, "1h")
    assert ok.returncode == 0, ok.stderr
    r2 = p["gina"].ssh("pacs2", "echo second", options=lb.opts, timeout=30)
    assert r2.returncode == 0 and r2.stdout == "second\n", r2.stderr
    assert b.audit_events(event="approval.requested") == []
    # A's recording verifies up to its last signed checkpoint: unsealed
    # (status 2), nothing altered
    v = verify(world, build_dir, rec)
    assert v.returncode == 2, v.stdout + v.stderr
    assert "NOT SEALED" in v.stdout and "(signed by checkpoint" in v.stdout
    # and it is not shipped: a pass of A's bastion-ship over A's spool
    # (once its disk is back) ships the sealed recordings (gina's first
    # session) and leaves the unsealed one there
    r = subprocess.run([str(build_dir / "bastion-ship"), "-f",
                        str(a_ship_policy(world, s3)), "-a",
                        str(a.state_dir), "--once"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cut = pathlib.Path(rec).stem
    shipped = [ev["session"] for ev in
               chain_events(world, event="recording.shipped")]
    assert shipped and cut not in shipped, shipped
    assert key_of(shipped[0], node="bastion-a") + "._S3rver_object" in \
        s3.objects()
    assert [o for o in s3.objects() if cut in o] == []
    assert os.path.exists(rec)


def test_health_port_says_which_node(ha):
    world, p, b, lb = ha
    port = int(b.policy["store"]["health"].rsplit(":", 1)[1])
    assert health(port) == "UP bastion-b\n"
    # no recorder, not ready: DOWN until bastiond has restarted it (1 s)
    [rec] = [pid for pid in util.children_of(b.pid)
             if "bastion-recorder" in util.pid_cmdline(pid)]
    os.kill(rec, signal.SIGKILL)
    util.wait_until(lambda: health(port) ==
                    "DOWN bastion-b: the recorder is not running\n", 5,
                    interval=0.02, what="node B saying DOWN")
    util.wait_until(lambda: health(port) == "UP bastion-b\n", 10,
                    interval=0.1, what="node B UP again")
    # a node that stops closes it first: the balancer stops sending
    b.stop()
    with pytest.raises(OSError):
        health(port)
    util.wait_until(lambda: lb.said("Server bastions/b is DOWN"), 5,
                    what="haproxy marking node B down")
    assert not lb.said("Server bastions/a is DOWN")


def test_stop_node_a_gracefully_sessions_end_logins_reach_b(
        ha, s3, build_dir, tmp_path):  # noqa: F811 (s3: a fixture)
    """A node stopped as `systemctl stop` does (SIGTERM) with a session
    live: the session ends, its recording is sealed, and the next login
    through the balancer reaches B within 5 s; A's bastion-ship, which
    runs on, puts the sealed recording in the shared store."""
    world, p, b, lb = ha
    a = world.bastion
    # A's bastion-ship, as its unit runs it, appending to A's chain
    ship_pol = a_ship_policy(world, s3)
    shipper = subprocess.Popen(
        [str(build_dir / "bastion-ship"), "-f", str(ship_pol), "-a",
         str(a.state_dir)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    alice = ticking(p["alice"], lb)
    try:
        assert alice.stdout.readline() == b"tick\n"
        [s] = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
        assert s["node"] == "bastion-a", s
        stopping = time.monotonic()
        assert a.stop() == 0
        alice.communicate(timeout=30)
        assert alice.returncode != 0
        r, took = login_after(p["alice"], lb, "ct-scanner", stopping,
                              "A stopped")
        # the recording the stop sealed: shipped while A is down
        rec = pathlib.Path(s["recording"]).stem
        ev = wait_chain(world, event="recording.shipped", session=rec,
                        timeout=20)
    finally:
        if alice.poll() is None:
            os.killpg(alice.pid, signal.SIGTERM)
            alice.communicate(timeout=30)
        shipper.terminate()
        ship_out, _ = shipper.communicate(timeout=30)
    assert shipper.returncode == 0, ship_out
    assert r.stdout == "after\n", r.stderr
    assert took < 5, took
    assert b.audit_events(event="session.start", user="alice")
    # a stopped node ends its sessions itself: nothing left live on A,
    # and the recording is sealed
    live = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
    assert [x for x in live if x["node"] == "bastion-a"] == [], live
    v = verify(world, build_dir, s["recording"])
    assert v.returncode == 0, v.stdout + v.stderr
    # in the shared store: s3rver's copy is the spool's, byte for byte;
    # fetched back by id (as node B or an auditor does), it verifies
    # sealed with A's key
    assert ev["key"] == key_of(rec, node="bastion-a")
    assert ev["sha256"] == sha256(s["recording"])
    assert sha256(s3.object_path(ev["key"])) == ev["sha256"]
    out = tmp_path / "from-the-store"
    out.mkdir()
    f = subprocess.run([str(build_dir / "bastion-ship"), "-f",
                        str(ship_pol), "fetch", rec, str(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert f.returncode == 0, f.stderr
    v = verify(world, build_dir, out / (rec + ".brec"))
    assert v.returncode == 0, v.stdout + v.stderr
    assert "sealed: session %s" % rec in v.stdout
