"""Each node's audit chain, anchored together by signed checkpoints
(issue 20 item 4, docs/AUDIT.md section 10, docs/SCALE-OUT.md).

Every `store: checkpoint_interval` and at a clean stop, bastiond appends
an audit.checkpoint line to its own chain and writes a row into the state
store: that line's seq and hash, the other nodes' newest heads, signed
with the node's audit key (STATE_DIR/audit.key). `bastionctl checkpoints
--export` writes the rows; `bastion-verify --cluster` checks them offline
with the keys copied from the nodes, against each other and against the
nodes' chains. Two nodes on a real PostgreSQL (test_scale_out.py's
fixtures, imported), and one node on SQLite. The tampering is done as
someone who can write the files and the database but holds no audit key:
a line edited and the chain re-hashed after it, a chain cut back below
its last checkpoint, a checkpoint row forged with a key of their own.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import time

import pytest

from harness import util
from test_failover import kill_node
from test_scale_out import cluster, ctl, node_ssh, nodes  # noqa: F401

INTERVAL = "1s"
LOST_AFTER = 3


@pytest.fixture
def store_extra():
    """test_scale_out's nodes, checkpointing every second; a node silent
    for 3 s has its sessions shown lost."""
    return {"checkpoint_interval": INTERVAL, "lost_after": LOST_AFTER}


# -- helpers ------------------------------------------------------------------

def chain_lines(path):
    return path.read_text().splitlines()


def line_hash(text):
    """The hash a chain line must carry (docs/AUDIT.md section 1)."""
    return hashlib.sha256(b"bastion-audit-v1\n" +
                          text.encode()).hexdigest()


def rechain(path, seq, old, new):
    """Replace old by new in line seq and re-hash every line from there:
    the chain alone still verifies afterwards."""
    out, prev = [], "0" * 64
    for ln in chain_lines(path):
        body = ln[:ln.rindex(" hash=")]
        n = int(body.split(" ", 1)[0][4:])
        rest = body.split(" ", 2)[2]
        if n == seq:
            assert old in rest, (old, rest)
            rest = rest.replace(old, new, 1)
        text = "seq=%d prev=%s %s" % (n, prev, rest)
        prev = line_hash(text)
        out.append("%s hash=%s" % (text, prev))
    path.write_text("\n".join(out) + "\n")


def cut_below(path, seq):
    """Keep the lines before seq."""
    keep = [ln for ln in chain_lines(path)
            if int(ln.split(" ", 1)[0][4:]) < seq]
    path.write_text("\n".join(keep) + "\n")


def export(build_dir, node, dest):
    r = ctl(build_dir, node, "checkpoints", "--export", dest)
    assert r.returncode == 0, r.stderr
    return [ln for ln in dest.read_text().splitlines()]


def verify(build_dir, export_file, keys, chains=None):
    argv = [str(build_dir / "bastion-verify"), "--cluster", str(export_file)]
    for name, key in keys.items():
        argv += ["-k", "%s=%s" % (name, key)]
    for name, path in (chains or {}).items():
        argv += ["--chain", "%s=%s" % (name, path)]
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def fields(line):
    return dict(f.split("=", 1) for f in line.split(" ")[1:])


def forged_row(tmp, row, key=None):
    """row (dict of an export line's fields) signed with key (default: a
    key made here: what a forger without the node's audit key can make)."""
    if key is None:
        key = tmp / "forger.pem"
    if not key.exists():
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
                        "-out", str(key)], check=True, capture_output=True)
    msg = tmp / "msg"
    msg.write_text("bastion-checkpoint-v1 node=%(node)s seq=%(seq)s "
                   "hash=%(hash)s ts=%(ts)s peers=%(peers)s" % row)
    sig = tmp / "sig"
    subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                    str(key), "-in", str(msg), "-out", str(sig)],
                   check=True, capture_output=True)
    return sig.read_bytes().hex()


def checkpoints(node):
    return node.audit_events(event="audit.checkpoint")


def key_of(node):
    return node.state_dir / "audit.key.pub"


# -- one node, SQLite ---------------------------------------------------------

def test_single_node_sqlite(cast, build_dir, tmp_path):
    world, p = cast
    world.top["store"] = {"node": "solo", "checkpoint_interval": INTERVAL}
    world.start_bastion()
    b = world.bastion
    util.wait_until(lambda: len(checkpoints(b)) >= 2, 15,
                    what="two checkpoints of the running node")
    # the audit key is bastiond's alone; its public half is for auditors
    assert stat.S_IMODE(os.stat(b.state_dir / "audit.key").st_mode) == 0o600
    assert "PUBLIC KEY" in key_of(b).read_text()
    b.stop()
    cps = checkpoints(b)
    assert cps[-1]["reason"] == "stop" and cps[0]["reason"] == "interval"
    assert all(c["node"] == "solo" and c["peers"] == "-" for c in cps)

    rows = export(build_dir, b, tmp_path / "cp.txt")
    # one row per checkpoint line, and each row names its line
    assert len(rows) == len(cps)
    chain = {int(ln.split(" ", 1)[0][4:]): ln.rsplit(" hash=", 1)[1]
             for ln in chain_lines(b.state_dir / "audit.log")}
    for row in rows:
        f = fields(row)
        assert chain[int(f["seq"])] == f["hash"]

    ok = verify(build_dir, tmp_path / "cp.txt", {"solo": key_of(b)},
                {"solo": b.state_dir / "audit.log"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "node solo: %d signed checkpoint(s)" % len(rows) in ok.stdout
    last = fields(rows[-1])
    assert "matches up to checkpoint id %s (seq %s)" % (
        last["id"], last["seq"]) in ok.stdout

    # the monthly report says up to which checkpoint the chain was checked
    rep = ctl(build_dir, b, "report")
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "solo (this node): chain checked up to checkpoint %s (seq %s)" \
        % (last["id"], last["seq"]) in " ".join(rep.stdout.split())
    js = json.loads(ctl(build_dir, b, "report", "--json").stdout)
    [me] = js["checkpoints"]["nodes"]
    assert me["node"] == "solo" and me["this_node"] and \
        me["status"] == "ok" and me["checked_id"] == int(last["id"])

    # without the node's key nothing is trusted
    nokey = verify(build_dir, tmp_path / "cp.txt", {"other": key_of(b)})
    assert nokey.returncode == 1 and "no key was given for solo" in \
        nokey.stderr

    # a line edited, the chain re-hashed: it verifies alone, not here
    edited = tmp_path / "edited.log"
    shutil.copy(b.state_dir / "audit.log", edited)
    rechain(edited, 1, "event=bastion.start", "event=bastion.start x=1")
    alone = subprocess.run([str(build_dir / "bastion-verify"), "--audit",
                            str(edited)], capture_output=True, text=True)
    assert alone.returncode == 0, alone.stderr
    r = verify(build_dir, tmp_path / "cp.txt", {"solo": key_of(b)},
               {"solo": edited})
    assert r.returncode == 1, r.stdout
    assert "the chain was rewritten" in r.stderr

    # the chain cut back below its last checkpoint
    cut = tmp_path / "cut.log"
    shutil.copy(b.state_dir / "audit.log", cut)
    cut_below(cut, int(last["seq"]))
    r = verify(build_dir, tmp_path / "cp.txt", {"solo": key_of(b)},
               {"solo": cut})
    assert r.returncode == 1 and "was cut back" in r.stderr, r.stderr

    # a row forged in the database, without the node's key: the report
    # and bastion-verify both refuse it
    forged = dict(last, seq=str(int(last["seq"]) + 1), ts=str(
        int(last["ts"]) + 1))
    forged["sig"] = forged_row(tmp_path, forged)
    import sqlite3
    db = sqlite3.connect(str(b.state_dir / "state.db"))
    db.execute("INSERT INTO audit_checkpoint(node, seq, hash, ts, peers, "
               "sig) VALUES (?, ?, ?, ?, ?, ?)",
               (forged["node"], int(forged["seq"]), forged["hash"],
                int(forged["ts"]), forged["peers"], forged["sig"]))
    db.commit()
    db.close()
    export(build_dir, b, tmp_path / "cp2.txt")
    r = verify(build_dir, tmp_path / "cp2.txt", {"solo": key_of(b)})
    assert r.returncode == 1
    assert "is not signed by node solo's audit key" in r.stderr, r.stderr
    rep = ctl(build_dir, b, "report")
    assert rep.returncode == 1
    assert "solo (this node): ALTERED: checkpoint id" in \
        " ".join(rep.stdout.split()), rep.stdout


# -- two nodes, PostgreSQL ----------------------------------------------------

def vouched(node, other):
    """node has signed a checkpoint that commits other's head."""
    return any(other + ":" in c["peers"] for c in checkpoints(node))


def test_two_nodes_vouch_for_each_other(nodes, build_dir, cluster,
                                        tmp_path, softsk):
    world, p, b = nodes
    a = world.bastion
    util.wait_until(lambda: vouched(a, "bastion-b") and
                    vouched(b, "bastion-a"), 20,
                    what="each node's checkpoint committing the other's")
    # both keys are in the store, as the nodes published them
    keys = tmp_path / "published"
    keys.mkdir()
    r = ctl(build_dir, b, "checkpoints", "--keys", keys)
    assert r.returncode == 0, r.stderr
    assert (keys / "bastion-a.pub").read_text() == key_of(a).read_text()
    assert (keys / "bastion-b.pub").read_text() == key_of(b).read_text()
    # a session on B is in A's report, with its node, from the store
    on_b = node_ssh(b, p["alice"], softsk, "ct-scanner", "echo on-b")
    out, err = on_b.communicate(timeout=60)
    assert out == "on-b\n", err
    b.stop()
    a.stop()
    rep = ctl(build_dir, a, "report", "--wide")
    assert rep.returncode == 0, rep.stdout + rep.stderr
    text = " ".join(rep.stdout.split())
    assert "bastion-a (this node): chain checked up to checkpoint" in text
    assert "bastion-b: " in text and "signed checkpoint(s)" in text
    assert "Sessions of other nodes in the month" in text
    js = json.loads(ctl(build_dir, a, "report", "--json").stdout)
    assert {n["node"] for n in js["checkpoints"]["nodes"]} == \
        {"bastion-a", "bastion-b"}
    assert [(s["node"], s["engineer"]) for s in
            js["other_nodes_sessions"]] == [("bastion-b", "alice")]

    # either node exports every node's rows
    rows = export(build_dir, a, tmp_path / "cp.txt")
    by = {}
    for row in rows:
        by.setdefault(fields(row)["node"], []).append(fields(row))
    assert set(by) == {"bastion-a", "bastion-b"}
    assert any("bastion-a:" in r["peers"] for r in by["bastion-b"])
    good_keys = {"bastion-a": key_of(a), "bastion-b": key_of(b)}
    chains = {"bastion-a": a.state_dir / "audit.log",
              "bastion-b": b.state_dir / "audit.log"}
    ok = verify(build_dir, tmp_path / "cp.txt", good_keys, chains)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for name in ("bastion-a", "bastion-b"):
        assert "node %s: %d signed checkpoint(s)" % (name, len(by[name])) \
            in ok.stdout
    # the keys swapped: every row fails
    swapped = verify(build_dir, tmp_path / "cp.txt",
                     {"bastion-a": key_of(b), "bastion-b": key_of(a)})
    assert swapped.returncode == 1

    # A's chain edited and re-hashed: A's checkpoints catch it
    edited = tmp_path / "a-edited.log"
    shutil.copy(chains["bastion-a"], edited)
    rechain(edited, 1, "event=bastion.start", "event=bastion.start x=1")
    r = verify(build_dir, tmp_path / "cp.txt", good_keys,
               dict(chains, **{"bastion-a": edited}))
    assert r.returncode == 1 and "the chain was rewritten" in r.stderr

    # A's chain cut below its last checkpoint
    cut = tmp_path / "a-cut.log"
    shutil.copy(chains["bastion-a"], cut)
    cut_below(cut, int(by["bastion-a"][-1]["seq"]))
    r = verify(build_dir, tmp_path / "cp.txt", good_keys,
               dict(chains, **{"bastion-a": cut}))
    assert r.returncode == 1 and "was cut back" in r.stderr, r.stderr

    # A rewrites its chain and re-signs its own rows to match (it holds
    # its key): B's rows, signed with B's key, still commit A's old heads
    seq = [pe.split(":")[1] for r in by["bastion-b"]
           for pe in r["peers"].split(",") if pe.startswith("bastion-a:")][0]
    [row] = [r for r in by["bastion-a"] if r["seq"] == seq]
    resigned = dict(row, hash="0" * 64)
    resigned["sig"] = forged_row(tmp_path, resigned,
                                 key=a.state_dir / "audit.key")
    conninfo = world.top["store"]["conninfo"]
    cluster.psql("UPDATE audit_checkpoint SET hash = '%(hash)s', "
                 "sig = '%(sig)s' WHERE id = %(id)s" % resigned, conninfo)
    export(build_dir, a, tmp_path / "cp2.txt")
    r = verify(build_dir, tmp_path / "cp2.txt", good_keys)
    assert r.returncode == 1
    assert "node bastion-b's checkpoint id" in r.stderr
    assert "commits node bastion-a's seq %s as" % seq in r.stderr, r.stderr
    cluster.psql("UPDATE audit_checkpoint SET hash = '%(hash)s', "
                 "sig = '%(sig)s' WHERE id = %(id)s" % row, conninfo)

    # a checkpoint row for A forged without A's key
    last = by["bastion-a"][-1]
    forged = dict(last, seq=str(int(last["seq"]) + 5))
    forged["sig"] = forged_row(tmp_path, forged)
    cluster.psql("INSERT INTO audit_checkpoint(node, seq, hash, ts, peers, "
                 "sig) VALUES ('%(node)s', %(seq)s, '%(hash)s', %(ts)s, "
                 "'%(peers)s', '%(sig)s')" % forged, conninfo)
    export(build_dir, a, tmp_path / "cp3.txt")
    r = verify(build_dir, tmp_path / "cp3.txt", good_keys)
    assert r.returncode == 1
    assert "is not signed by node bastion-a's audit key" in r.stderr, \
        r.stderr


# -- a dead node's sessions ----------------------------------------------------

def test_a_dead_nodes_sessions_are_lost_not_live(nodes, build_dir):
    world, p, b = nodes
    a = world.bastion
    proc = p["alice"].popen("ct-scanner", "echo started; sleep 60",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline() == "started\n"
        # a live node's session: live, however long we look
        time.sleep(LOST_AFTER + 1)
        [s] = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
        assert (s["node"], s["lost"]) == ("bastion-a", False), s
        kill_node(a)

        def lost():
            ss = json.loads(ctl(build_dir, b, "sessions", "--json").stdout)
            return ss if ss and ss[0]["lost"] else None
        [s] = util.wait_until(lost, LOST_AFTER + 10,
                              what="node A's session shown lost on B")
        # shown lost, not ended: nobody but A ends A's rows
        assert s["ended"] == 0 and s["engineer"] == "alice"
        table = " ".join(ctl(build_dir, b, "sessions",
                             "--wide").stdout.split())
        assert "lost (node bastion-a silent)" in table, table
        # audited once, by the node that noticed
        ev = b.wait_audit(event="session.lost", session=s["sid"])
        assert (ev["node"], ev["user"], ev["device"]) == \
            ("bastion-a", "alice", "ct-scanner")
        time.sleep(2)
        assert len(b.audit_events(event="session.lost")) == 1
        assert "node bastion-a silent since" in b.log()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
