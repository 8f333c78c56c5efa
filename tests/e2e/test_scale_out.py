"""Two bastiond nodes on one PostgreSQL database (issue 20,
docs/SCALE-OUT.md): what one node decides reaches the other at once.

A private cluster (harness/pg.py: initdb as an unprivileged user, a Unix
socket, a password file) holds the state of both nodes; each node has its
own host key, state directory (audit chain, store actor socket), run
directory and listen port, and the same vendors, devices and people. The
engineers use the real ssh to node A; the admin decides with bastionctl on
node B, as on another server of the group.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from harness import util
from harness.bastion import Bastion
from harness.pg import PgCluster, PgMissing, store_section

HEARD = "a decision of another node"


@pytest.fixture(scope="module")
def cluster():
    try:
        pg = PgCluster()
    except PgMissing as e:
        pytest.skip(str(e))
    with pg:
        yield pg


@pytest.fixture
def store_extra():
    """More of the nodes' store: section (a module that imports `nodes`
    may define its own, e.g. test_cluster_audit.py's checkpoints)."""
    return {}


@pytest.fixture
def nodes(cast, cluster, build_dir, store_extra):
    """(world, people, node B): node A is world.bastion, both started on
    one fresh database."""
    world, p = cast
    b = Bastion(world.dir / "node-b", build_dir, world.pam)
    # each node's audit key made first, so that each pins the other's
    # (store: nodes: the signer of its watch requests)
    keys = {"bastion-a": util.audit_key(world.bastion.state_dir),
            "bastion-b": util.audit_key(b.state_dir)}
    world.top["store"] = dict(store_section(cluster.create_database(),
                                            cluster), node="bastion-a",
                              nodes={"bastion-b": keys["bastion-b"]},
                              **store_extra)
    world.vendors["globex"]["approval"] = {"required": True}
    world.start_bastion()
    policy = world.policy()
    policy["listen"] = ["127.0.0.1:%d" % util.free_port("127.0.0.1")]
    policy["paths"] = b.default_paths()
    policy["store"] = dict(policy["store"], node="bastion-b",
                           nodes={"bastion-a": keys["bastion-a"]})
    b.write_policy(policy)
    b.start()
    try:
        yield world, p, b
    finally:
        b.stop()


def ctl(build_dir, node, *args):
    """bastionctl on node (through its control socket)."""
    return subprocess.run(
        [str(build_dir / "bastionctl"), "-f", str(node.policy_path)] +
        [str(a) for a in args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, timeout=60)


def heard(node):
    return [line for line in node.log().splitlines() if HEARD in line]


def test_approve_on_b_a_request_made_on_a(nodes, build_dir):
    world, p, b = nodes
    a = world.bastion
    n = len(a.audit_events(event="approval.requested", user="gina"))
    proc = p["gina"].popen("pacs", "echo ran-on-a", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    ev = a.wait_audit(event="approval.requested", user="gina", after=n,
                      alive=proc, timeout=20)
    rid = ev["request"]
    # node B sees node A's request: one state
    lst = json.loads(ctl(build_dir, b, "requests", "--json").stdout)
    assert [str(r["id"]) for r in lst] == [rid]
    assert lst[0]["status"] == "pending" and lst[0]["engineer"] == "gina"
    assert heard(a) == []
    r = ctl(build_dir, b, "approve", rid, "1h")
    assert r.returncode == 0, r.stderr
    approved = time.monotonic()
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - approved
    assert proc.returncode == 0, err
    assert out == "ran-on-a\n"
    assert "request %s approved" % rid in err
    # pushed through the database (LISTEN/NOTIFY), not found by a poll
    util.wait_until(lambda: heard(a), 5, what="node A told by node B")
    assert "kind 1, id %s" % rid in heard(a)[0]
    assert took < 5, took
    # the decision is node B's, the grant everybody's
    b.wait_audit(event="approval.approve", request=rid)
    grants = json.loads(ctl(build_dir, a, "grants", "--json").stdout)
    assert len(grants) == 1 and grants[0]["device"] == "pacs"


def node_ssh(node, person, softsk, *args):
    """person's ssh to node (a Popen): another node of the group."""
    cfg = node.ssh_config(person.dir / ("ssh_config-" + node.workdir.name),
                          person.key, provider=softsk.provider)
    return subprocess.Popen(node.ssh_argv(cfg, person.name, *args,
                                          agent=True, tty=False),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=person.env(),
                            start_new_session=True)


def test_kill_on_b_ends_a_session_on_a(nodes, build_dir, softsk):
    world, p, b = nodes
    on_b = node_ssh(b, p["alice"], softsk, "ct-scanner",
                    "echo started; sleep 60")
    proc = p["alice"].popen("ct-scanner", "echo started; sleep 60",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert on_b.stdout.readline() == "started\n"
        assert proc.stdout.readline() == "started\n"
        # both nodes' sessions, numbered once in the group
        live = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
        assert sorted(s["engineer"] for s in live) == ["alice", "alice"]
        assert len({s["sid"] for s in live}) == 2, live
        # each names its node: node A's is the one in A's recordings
        assert sorted(s["node"] for s in live) == ["bastion-a", "bastion-b"]
        [on_a] = [s for s in live if s["node"] == "bastion-a"]
        assert on_a["recording"].startswith(str(world.bastion.recordings_dir))
        # the table (ssh admin console and bastionctl) says so too
        table = ctl(build_dir, world.bastion, "sessions").stdout
        assert table.splitlines()[0].split()[:2] == ["SID", "NODE"], table
        assert {ln.split()[1] for ln in table.splitlines()[1:]} == \
            {"bastion-a", "bastion-b"}, table
        # watch on B of A's session by root's bastionctl: refused, since
        # node A checks the admin against its policy (test_cross_watch.py
        # watches as a policy admin)
        w = ctl(build_dir, b, "watch", str(on_a["sid"]))
        assert w.returncode == 1, w.stdout + w.stderr
        assert "runs on node bastion-a" in w.stderr, w.stderr
        assert "no policy admin" in w.stderr, w.stderr
        k = ctl(build_dir, b, "kill", on_a["sid"], "node", "b", "says",
                "stop")
        assert k.returncode == 0, k.stderr
        killed = time.monotonic()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - killed
        assert proc.returncode != 0
        assert "session closed by an admin" in err and \
            "node b says stop" in err, err
        util.wait_until(lambda: heard(world.bastion), 5,
                        what="node A told by node B")
        # at once: well inside the listener's 5 s safety poll
        assert took < 4, took
        world.bastion.wait_audit(event="session.end",
                                 session=str(on_a["sid"]))
        # node B's own session is not the one that ended
        assert on_b.poll() is None
        live = json.loads(ctl(build_dir, world.bastion, "sessions",
                              "--json").stdout)
        assert len(live) == 1 and live[0]["sid"] != on_a["sid"], live
    finally:
        for pr in (on_b, proc):
            if pr.poll() is None:
                os.killpg(pr.pid, signal.SIGTERM)
                pr.communicate(timeout=30)


def test_a_node_restarting_ends_only_its_own_sessions(nodes, build_dir,
                                                      softsk):
    world, p, b = nodes
    proc = p["alice"].popen("ct-scanner", "echo started; sleep 60",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline() == "started\n"
        # node B restarts: the rows it left open are its own, not A's
        b.stop()
        b.start()
        live = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
        assert [(s["engineer"], s["node"]) for s in live] == \
            [("alice", "bastion-a")], live
        # the admin console (the same verb, over ssh) names the node too
        r = p["bob"].ssh("sessions", "--json")
        assert r.returncode == 0, r.stderr
        assert [s["node"] for s in json.loads(r.stdout)] == ["bastion-a"]
        assert proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.communicate(timeout=30)


def test_counter_regression_across_nodes_locks_the_key(nodes, build_dir,
                                                       softsk):
    world, p, b = nodes
    alice = p["alice"]
    r = alice.ssh("ct-scanner", "echo reached")
    assert r.returncode == 0 and "reached" in r.stdout, r.stderr
    high = softsk.counter()
    # a clone of alice's key, behind her real one, used on node B
    softsk.set_counter(0)
    clone = node_ssh(b, alice, softsk, "ct-scanner", "echo reached")
    out, err = clone.communicate(timeout=60)
    assert clone.returncode != 0 and "reached" not in out
    assert "counter went backwards" in err, err
    ev = b.wait_audit(event="touch.counter_regression", user="alice")
    assert "not above the last one seen, %d" % high in ev["reason"]
    # the key is locked for the whole group: node A refuses it too, even
    # with a counter ahead again
    softsk.set_counter(high + 100)
    r = alice.ssh("ct-scanner", "echo reached")
    assert r.returncode != 0 and "is locked" in r.stderr, r.stderr
    world.bastion.wait_audit(event="touch.locked", user="alice")
