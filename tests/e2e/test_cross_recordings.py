"""Recordings reachable from every node (issue 20, item 5): the auditor
console of one node lists, replays and verifies another node's recordings
(docs/SCALE-OUT.md, "Another node's recordings"; docs/RECORDING-STORE.md).

Two bastiond nodes on one real PostgreSQL database (harness/pg.py), both
shipping to one real S3 server (s3rver, test_recording_ship.py's
fixture), sharing the recording key as they share the host key. An
engineer's session runs on node A, approved by an admin on node B; the
auditor asks node B's console over the real ssh: `recordings` names node
A and says where the recording is (only on A's disk, then, once A's
bastion-ship has shipped it, in the store); `replay` shows the session's
output and the approval (who approved, when) taken from the shared
store's rows, saying so; `verify` passes and says the same; `export`
gives an evidence bundle that bastion-verify accepts offline with A's
key, saying that the session's audit lines are in A's chain and that
approval.json holds the store's rows. Then node A
is killed outright (SIGKILL, bastiond and its recorder) with a session
live: its cut recording is not shipped while it is down, and is shipped
marked cut once A restarts; node B's `verify` of the shipped copy
reports the same checkpoint as A's own copy does.

The copies node B fetches from the store (STATE_DIR/fetched) are kept
only while a verb uses them: none is left after replay, verify or export,
a copy another process still holds is left to it, a copy nobody holds
(a verb killed before it let go) is swept by the next fetch, and nothing
else is ever deleted. The web console's export on node B (prepare, a
touch, commit) finds A's recording as the ssh console's export does.
"""

import fcntl
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import types

import pytest

from harness import util
from test_audit import read_bundle
from test_failover import kill_node
from test_recording_ship import (chain_events, key_of, s3,  # noqa: F401
                                 ship_policy)            # (s3: a fixture)
from test_scale_out import cluster, ctl, nodes  # noqa: F401 (fixtures)
from test_session_recording import verify
from test_web_control import (Authenticator, call, enrol_locally,
                              web_setup)


@pytest.fixture
def store_extra(cast, s3):  # noqa: F811 (s3: a fixture)
    """test_scale_out's hook, run before its `nodes`: both nodes also
    ship to the one object store (the policy's recordings: section)."""
    world, _ = cast
    world.top["recordings"] = ship_policy(world, s3)["recordings"]
    # and both have the web console (its export of A's recording on B)
    web_setup(world)
    return {}


@pytest.fixture
def xnodes(nodes):
    """test_scale_out's two nodes (A is world.bastion), sharing the
    recording key as they would share the host key: B restarted with
    A's."""
    world, p, b = nodes
    b.stop()
    for name in ("recorder.key", "recorder.key.pub"):
        shutil.copy2(world.bastion.state_dir / name, b.state_dir / name)
    b.start()
    return world, p, b


def console(node, person, softsk, *args, text=True):
    """person's auditor console on node over the real ssh."""
    cfg = node.ssh_config(person.dir / ("ssh_config-" + node.workdir.name),
                          person.key, provider=softsk.provider)
    return subprocess.run(node.ssh_argv(cfg, person.name, *args, agent=True,
                                        tty=False),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=text, env=person.env(), timeout=90,
                          start_new_session=True)


def ship_a(build_dir, world):
    """One pass of node A's bastion-ship, appending to A's chain."""
    a = world.bastion
    r = subprocess.run([str(build_dir / "bastion-ship"), "-f",
                        str(a.policy_path), "-a", str(a.state_dir),
                        "--once"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return r


def fetched_left(node):
    """The fetched copies node keeps (STATE_DIR/fetched/*.brec)."""
    d = node.state_dir / "fetched"
    return sorted(q.name for q in d.glob("*.brec")) if d.is_dir() else []


def web_export(build_dir, b, carol_key, rec):
    """carol's export of rec on node b's web console: prepare, her touch,
    commit; (the prepared action's summary, the bundle)."""
    wb = types.SimpleNamespace(bastion=b)
    tok, who = enrol_locally(wb, lambda _w, *a: ctl(build_dir, b, *a),
                             "carol", carol_key)
    assert who["role"] == "auditor", who
    a = call(wb, ["prepare", "export", rec], [("token", tok)])
    assert a.exit == 0, a.err
    ch, summary = a.challenge()
    # the description's fetch is let go: nothing kept between the two
    assert fetched_left(b) == []
    a = call(wb, ["commit", ch.hex()], [("token", tok),
                                         ("assert", carol_key.get(ch))])
    assert a.exit == 0, a.err
    return summary, a.outb


def verify_bundle(build_dir, node, bundle):
    """bastion-verify of an evidence bundle with node's recorder key."""
    return subprocess.run([str(build_dir / "bastion-verify"), "-k",
                           str(node.state_dir / "recorder.key.pub"),
                           str(bundle)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def listed(node, carol, softsk, rec):
    r = console(node, carol, softsk, "recordings", "--json")
    assert r.returncode == 0, r.stderr
    return [x for x in json.loads(r.stdout) if x["recording"] == rec]


def test_other_nodes_recording_listed_replayed_verified_on_b(
        xnodes, build_dir, softsk, tmp_path):
    world, p, b = xnodes
    a = world.bastion
    carol = p["carol"]
    # gina's session on A, approved on B by root's bastionctl
    proc = p["gina"].popen("pacs", "echo XREC-$((40+2))",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    rid = a.wait_audit(event="approval.requested", user="gina",
                       alive=proc, timeout=20)["request"]
    ok = ctl(build_dir, b, "approve", rid, "1h")
    assert ok.returncode == 0, ok.stderr
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out == "XREC-42\n", err
    end = a.wait_audit(event="session.end", user="gina", timeout=15)
    rec = a.wait_audit(event="session.recording",
                       session=end["session"])["recording"]
    a.wait_audit(event="recording.sealed", session=rec)
    sid = end["session"]
    [path] = [q for q in a.recordings_dir.rglob(rec + ".brec")]
    util.wait_until(lambda: not os.stat(path).st_mode & 0o222, 5,
                    what="the sealed recording read-only")
    # B's spool has none of it
    assert not list(b.recordings_dir.rglob("*.brec"))

    # on B, before A ships: listed with node A, only on A's disk
    [row] = listed(b, carol, softsk, rec)
    assert (row["node"], row["where"], row["shipped"]) == \
        ("bastion-a", "node-disk", False), row
    assert (str(row["session"]), row["engineer"], row["device"]) == \
        (sid, "gina", "pacs"), row
    # not shipped yet: replay on B says whose it is and where to read it
    early = console(b, carol, softsk, "replay", sid)
    assert early.returncode == 1, early.stdout + early.stderr
    assert "recording %s was made on node bastion-a and is not in the " \
        "object store (yet): read it on node bastion-a" % sid \
        in early.stderr, early.stderr
    assert "XREC-42" not in early.stdout
    # on A: its own spool
    [own] = listed(a, carol, softsk, rec)
    assert (own["node"], own["where"], own["status"]) == \
        ("bastion-a", "spool", "sealed"), own

    r = ship_a(build_dir, world)
    assert r.returncode == 0, r.stderr
    assert chain_events(world, event="recording.shipped", session=rec)

    # now in the store; A says so too (its ledger)
    [row] = listed(b, carol, softsk, rec)
    assert (row["node"], row["where"], row["shipped"], row["status"]) == \
        ("bastion-a", "store", True, "sealed"), row
    [own] = listed(a, carol, softsk, rec)
    assert own["where"] == "spool+store" and own["shipped"] is True, own
    # the table names the node and where, under the columns
    t = console(b, carol, softsk, "recordings", "--wide")
    assert t.returncode == 0, t.stderr
    head = t.stdout.splitlines()[0].split()
    assert "NODE" in head and "WHERE" in head, t.stdout
    [line] = [ln for ln in t.stdout.splitlines() if rec in ln]
    assert " bastion-a " in line and " store " in line, line

    # replay on B: the output, and the approval from the shared store
    t = console(b, carol, softsk, "replay", rec)
    assert t.returncode == 0, t.stdout + t.stderr
    assert "XREC-42" in t.stdout
    assert "# recorded on node bastion-a, not on this node (bastion-b)" \
        in t.stdout, t.stdout
    m = re.search(r"approval: grant \d+ until [-0-9: ]+UTC, request %s "
                  r"approved by root at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) "
                  r"UTC \(from the shared state store; recorded on node "
                  r"bastion-a" % rid, t.stdout)
    assert m, t.stdout
    assert "approval: not found" not in t.stdout
    assert "# store: session %s, engineer gina (vendor globex)" % sid \
        in t.stdout, t.stdout
    # the copy B fetched for the replay is gone with it
    assert fetched_left(b) == []
    # the same by session number: B fetches the store's copy by its id
    t2 = console(b, carol, softsk, "replay", sid)
    assert t2.returncode == 0 and "XREC-42" in t2.stdout, t2.stderr
    b.wait_audit(event="recording.access", recording=rec)
    assert fetched_left(b) == []

    # verify on B: passes, and names what the store says
    v = console(b, carol, softsk, "verify", rec)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "sealed" in v.stdout
    assert "# store: approval: grant" in v.stdout and \
        "request %s approved by root at %s" % (rid, m.group(1)) in v.stdout

    # export on B: a bundle that verifies offline with A's key, saying
    # that the session's audit lines are in A's chain and that
    # approval.json holds the shared store's rows
    e = console(b, carol, softsk, "export", rec, text=False)
    assert e.returncode == 0, e.stderr
    bundle = tmp_path / "bundle.tar"
    bundle.write_bytes(e.stdout)
    ok = verify_bundle(build_dir, a, bundle)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: the bundle is intact" in ok.stdout
    assert "the MANIFEST is signed by the recorder key" in ok.stdout
    assert "recorded on node bastion-a, exported on another node: the " \
        "session's audit lines are in that node's chain" in ok.stdout
    assert "WARNING: the bundle holds no audit lines" not in ok.stdout
    _, members = read_bundle(e.stdout)
    appr = json.loads(members["approval.json"])
    assert appr["recorded_on"] == "bastion-a", appr
    assert "shared state store" in appr["facts_from"]
    assert [str(q["id"]) for q in appr["requests"]] == [rid], appr
    assert appr["requests"][0]["approvers"] == "root", appr
    assert len(appr["grants"]) == 1 and appr["admission"] == "grant"
    assert "recorded_on=bastion-a" in members["export.txt"].decode()
    # the recorder read the fetched copy to sign; then it was deleted
    assert fetched_left(b) == [] and path.exists()
    # a bundle changed afterwards does not verify
    bad = bytearray(e.stdout)
    at = bytes(bad).index(b"bastion-a", bytes(bad).index(b"recorded_on"))
    bad[at] = ord("X")
    bundle.write_bytes(bytes(bad))
    no = verify_bundle(build_dir, a, bundle)
    assert no.returncode != 0 and "ALTERED" in no.stderr, no.stdout

    # the web console's export on B: the same recording, found as the ssh
    # console's export finds it; the fetched copy named by its SHA-256
    summary, tar = web_export(build_dir, b, Authenticator(), rec)
    assert summary["verb"] == "export" and summary["session"] == rec
    assert summary["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert summary["recording"].endswith("/fetched/%s.brec" % rec), summary
    bundle.write_bytes(tar)
    ok = verify_bundle(build_dir, a, bundle)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "the MANIFEST is signed by the recorder key" in ok.stdout
    assert "recorded_on=bastion-a" in read_bundle(tar)[1][
        "export.txt"].decode()
    b.wait_audit(event="web.assertion", person="carol", result="ok")
    assert fetched_left(b) == [] and path.exists()

    # a copy another process holds (a shared flock, as a verb holds it)
    # is left to it; a copy nobody holds, left by a verb killed before it
    # let go, is swept by the next fetch; anything else is never deleted
    d = b.state_dir / "fetched"
    held, stale = d / (rec + ".brec"), d / (rec[:-1] + "x.brec")
    other = d / "notes.txt"
    for q in (held, stale, other):
        shutil.copy2(path, q)
    os.chmod(held, 0o600)       # as bastion-ship writes it under UMask=0077
    with open(held, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        v = console(b, carol, softsk, "verify", rec)
        assert v.returncode == 0, v.stdout + v.stderr
        assert fetched_left(b) == [held.name]
        # made readable by the directory's group (the recorder's, under
        # the installed units)
        assert held.stat().st_mode & 0o777 == 0o640
    v = console(b, carol, softsk, "verify", sid)
    assert v.returncode == 0, v.stdout + v.stderr
    assert fetched_left(b) == [] and other.exists() and path.exists()
    other.unlink()

    # on A, its own recording: A's chain has the session's lines but not
    # B's approval; the store's word is added, marked as the store's
    ta = console(a, carol, softsk, "replay", rec)
    assert ta.returncode == 0, ta.stderr
    assert "recorded on node" not in ta.stdout
    assert ("approval: request %s (audit chain verified intact); grant "
            % rid) in ta.stdout, ta.stdout
    assert ("request %s approved by root at %s UTC (from the shared state "
            "store; this node's audit chain names no approver)"
            % (rid, m.group(1))) in ta.stdout, ta.stdout


def test_cut_recording_shipped_after_restart_verifies_cut_on_b(
        xnodes, build_dir, softsk, s3):  # noqa: F811
    world, p, b = xnodes
    a = world.bastion
    carol = p["carol"]
    alice = p["alice"].popen("ct-scanner", "while :; do echo tick; "
                             "sleep 0.05; done", stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        assert alice.stdout.readline() == b"tick\n"
        [s] = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
        path = s["recording"]
        rec = pathlib.Path(path).stem
        util.wait_until(lambda: "(signed by checkpoint" in verify(
            world, build_dir, path).stdout, 15, interval=0.1,
            what="a checkpoint in " + rec)
        # B lists it live on A
        [row] = listed(b, carol, softsk, rec)
        assert (row["node"], row["status"], row["where"]) == \
            ("bastion-a", "live", "node-disk"), row
        kill_node(a)
    finally:
        if alice.poll() is None:
            alice.kill()
            alice.communicate(timeout=30)
    local = verify(world, build_dir, path)
    assert local.returncode == 2 and "NOT SEALED" in local.stdout, \
        local.stdout + local.stderr
    # while A is down its cut recording is still writable: not shipped
    assert os.stat(path).st_mode & 0o200
    r = ship_a(build_dir, world)
    assert r.returncode == 0, r.stderr
    assert [o for o in s3.objects() if rec in o] == []

    # A restarts: the recording its crash cut is made read-only ...
    a.stop(check_sanitizers=False)
    a.start()
    assert not os.stat(path).st_mode & 0o222
    assert "to be shipped as cut" in a.log()
    # ... and shipped, marked cut
    r = ship_a(build_dir, world)
    assert r.returncode == 0, r.stderr
    [ev] = chain_events(world, event="recording.shipped", session=rec)
    assert ev["status"] == "cut" and "never sealed" in ev["reason"], ev
    assert key_of(rec, node="bastion-a") + "._S3rver_object" in s3.objects()
    idx = s3.object_path("hospital-a/by-id/" + rec).read_text()
    assert idx.endswith(" cut\n"), idx
    # A's copy still verifies only up to its checkpoint, unchanged
    assert verify(world, build_dir, path).stdout == local.stdout

    # on B: listed as cut, in the store; verify of the shipped copy says
    # what A's own copy says (the same checkpoint), exit status 2
    [row] = listed(b, carol, softsk, rec)
    assert (row["node"], row["status"], row["where"]) == \
        ("bastion-a", "cut", "store"), row
    v = console(b, carol, softsk, "verify", rec)
    assert v.returncode == 2, v.stdout + v.stderr
    # fetched for the verify, deleted after it
    assert fetched_left(b) == []
    want = [ln for ln in local.stdout.splitlines()
            if "(signed by checkpoint" in ln]
    assert want and want[0] in v.stdout, (want, v.stdout)
    assert "NOT SEALED" in v.stdout
    assert "# store: session %s, engineer alice" % s["sid"] in v.stdout
