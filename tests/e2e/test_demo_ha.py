"""`make demo-ha` end to end (scripts/demo_ha.py, docs/SCALE-OUT.md
"Trying it: make demo-ha").

The demo starts as `make demo-ha` starts it (/usr/bin/python3
scripts/demo_ha.py start, in the foreground), in a directory and on ports of its own (DEMO_HA_DIR,
DEMO_HA_PORT), so a demo someone is running is not disturbed. Once it
says it is ready: one login through HAProxy with the demo's ssh_config
(it lands on node a), and the printed cross-node approval (gina asks on
node a, bob's bastionctl approves on node b, her command runs). The
login's recording, sealed when it ends, reaches the object store
(s3rver) through node a's bastion-ship: s3rver's own copy has the
spool's SHA-256, and from the store it verifies offline (bastion-ship
fetch with node b's policy, bastion-verify with node a's key) and in
carol's console on node b, which does not have it (the printed steps).
Then a Ctrl-C, as the terminal sends it, stops everything: every process
the demo started (the shippers and s3rver too) is gone and its
PostgreSQL cluster is removed.
"""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

from harness import util
from harness.haproxy import available as haproxy_available
from harness.pg import missing_binaries

REPO = util.REPO
sys.path.insert(0, str(REPO / "scripts"))
import demo  # noqa: E402  (scripts/demo.py: client_env)
from demo_ha import chain_events, wait_shipped  # noqa: E402 (the chain)
from test_recording_ship import BUCKET, sha256  # noqa: E402

READY = "demo-ha: ready"
DEMO_HA = ["/usr/bin/python3", str(REPO / "scripts" / "demo_ha.py")]


def free_base():
    """A port base whose eight ports are free on the balancer's and the
    devices' addresses."""
    for _ in range(50):
        base = random.randrange(20000, 60000)
        if all(util.port_is_free("127.0.0.1", base + i) for i in range(8)) \
                and all(util.port_is_free(a, base + i)
                        for a in ("127.0.1.10", "127.0.2.10")
                        for i in (5, 6)):
            return base
    raise util.HarnessError("no free port range")


@pytest.fixture
def demo_ha(tmp_path, build_dir):
    """(directory, port base, Popen, its output so far: a list of lines)
    of a running demo-ha."""
    if missing_binaries():
        pytest.skip("PostgreSQL is not installed (make deps)")
    if not haproxy_available():
        pytest.skip("haproxy is not installed (make deps)")
    d = tmp_path / "demo-ha"
    base = free_base()
    env = dict(os.environ, DEMO_HA_DIR=str(d), DEMO_HA_PORT=str(base),
               BASTION_BUILD=str(build_dir))
    proc = subprocess.Popen(DEMO_HA + ["start"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == READY or "FAILED" in line:
                break
        assert lines and lines[-1].strip() == READY, "".join(lines)
        yield d, base, proc, lines
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                demo_stop = subprocess.run(
                    DEMO_HA + ["stop"], env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    text=True, timeout=120)
                raise AssertionError("demo-ha did not stop on SIGINT:\n"
                                     + demo_stop.stdout)
        proc.stdout.close()


def ssh(d, name, host, *args, **kw):
    argv = [util.SSH, "-F", str(d / "ssh_config"), "-T",
            "%s@%s" % (name, host)] + list(args)
    env = demo.client_env(d / "people" / name / "askpass")
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True, **kw)


def ctl(build_dir, d, node, *args):
    return subprocess.run([str(build_dir / "bastionctl"), "-f",
                           str(d / ("node-" + node) / "policy.yaml")] +
                          list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def shipped_recording(build_dir, d, rec, tmp):
    """Check that node a's recording rec is in the object store: the
    shipper's event, s3rver's copy byte for byte, and fetched from the
    store with node b's policy, sealed under node a's key. Returns the
    spool's file."""
    state = d / "node-a" / "state"
    ev = wait_shipped(state, rec, timeout=30)
    [spool] = (d / "node-a" / "recordings").rglob(rec + ".brec")
    assert ev["key"] == "a/%s/%s/%s.brec" % (rec[:4], rec[4:6], rec)
    assert ev["sha256"] == sha256(spool)
    obj = d / "s3" / "data" / BUCKET / (ev["key"] + "._S3rver_object")
    assert sha256(obj) == sha256(spool)
    tmp.mkdir()
    f = subprocess.run([str(build_dir / "bastion-ship"), "-f",
                        str(d / "node-b" / "policy.yaml"), "fetch", rec,
                        str(tmp)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert f.returncode == 0, f.stderr
    assert sha256(tmp / (rec + ".brec")) == sha256(spool)
    v = util.run([build_dir / "bastion-verify", "-k",
                  state / "recorder.key.pub", tmp / (rec + ".brec")],
                 check=False)
    assert v.returncode == 0 and "sealed: session %s" % rec in v.stdout, \
        v.stdout + v.stderr
    return spool


def test_demo_ha_login_cross_node_approval_and_ctrl_c(demo_ha, build_dir,
                                                      tmp_path):
    d, base, proc, lines = demo_ha
    out = "".join(lines)
    # what it prints names the balancer and both nodes
    assert "HAProxy on 127.0.0.1:%d" % base in out
    assert "kill %s" % (d / "node-a" / "bastiond.pid").read_text().strip() \
        in out
    pids = {"node-a": int((d / "node-a" / "bastiond.pid").read_text()),
            "node-b": int((d / "node-b" / "bastiond.pid").read_text()),
            "ship-a": int((d / "node-a" / "bastion-ship.pid").read_text()),
            "ship-b": int((d / "node-b" / "bastion-ship.pid").read_text()),
            "s3rver": int((d / "s3" / "s3rver.pid").read_text()),
            "haproxy": int((d / "haproxy.pid").read_text()),
            "postgres": int((d / "postgres.pid").read_text())}
    pg_base = pathlib.Path((d / "postgres.base").read_text().strip())
    assert all(util.pid_alive(p) for p in pids.values()), pids
    # each node pins the other's audit key (store: nodes), the one in its
    # audit.key.pub: the signer of its watch requests
    for me, other in (("a", "b"), ("b", "a")):
        pol = yaml.safe_load((d / ("node-" + me) / "policy.yaml").read_text())
        pub = (d / ("node-" + other) / "state" / "audit.key.pub").read_text()
        assert pol["store"]["nodes"] == {other: util.pem_line(pub)}, pol

    # one login through the balancer: node a takes it (balance first)
    a_log = d / "node-a" / "bastiond.log"
    n = a_log.read_text().count("event=session.start")
    r = ssh(d, "alice", "bastion", "ct-scanner", "echo via-balancer")
    o, e = r.communicate(timeout=60)
    assert r.returncode == 0 and o == "via-balancer\n", e
    assert a_log.read_text().count("event=session.start") == n + 1
    # the balancer's PROXY header named alice's own address: the chain
    # says from=127.0.0.1 (her ssh), via= the balancer's source address
    st = [ev for ev in chain_events(d / "node-a" / "state", "session.start")
          if ev.get("user") == "alice"][-1]
    assert st["from"] == "127.0.0.1" and st["via"] == "127.0.0.5", st
    # the self-test's recording was in the store before it said ready
    rec0 = out.split("self-test's recording ")[1].split()[0]
    assert (d / "node-a" / "state" / "shipped" / rec0).exists()
    # this login's recording reaches the store and verifies from there
    rec = chain_events(d / "node-a" / "state",
                       "session.recording")[-1]["recording"]
    assert rec != rec0
    shipped_recording(build_dir, d, rec, tmp_path / "fetched")
    # the printed step: carol's console on node b, whose spool lacks it,
    # fetches it from the store, verifies it and shows the session
    assert "carol@bastion-b replay %s" % rec0 in out
    assert not list((d / "node-b" / "recordings").rglob("*.brec"))
    carol = ssh(d, "carol", "bastion-b", "replay", rec)
    o, e = carol.communicate(timeout=60)
    assert carol.returncode == 0, o + e
    assert "verified: sealed" in o + e and "| via-balancer" in o, o + e

    # the cross-node approval: gina asks on node a, node b approves
    gina = ssh(d, "gina", "bastion-a", "pacs", "echo gina-approved")
    reqs = util.wait_until(
        lambda: json.loads(ctl(build_dir, d, "b", "requests",
                               "--json").stdout or "[]"), 30,
        what="gina's request, seen on node b")
    assert [(q["engineer"], q["status"]) for q in reqs] == \
        [("gina", "pending")], reqs
    r = ctl(build_dir, d, "b", "approve", str(reqs[0]["id"]), "1h")
    assert r.returncode == 0, r.stderr
    approved = time.monotonic()
    o, e = gina.communicate(timeout=60)
    assert gina.returncode == 0 and o == "gina-approved\n", e
    assert time.monotonic() - approved < 5
    assert "request %s approved" % reqs[0]["id"] in e
    assert "a decision of another node" in a_log.read_text()

    # Ctrl-C (the terminal signals the foreground process group)
    os.killpg(proc.pid, signal.SIGINT)
    rest, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, rest
    assert "demo-ha: stopped" in rest, rest
    # (a node's sanitizer report, under check-asan, is said here)
    assert "while stopping" not in rest, rest
    assert util.wait_gone(list(pids.values()), 10), \
        [p for p in pids.values() if util.pid_alive(p)]
    assert not pg_base.exists()
    assert not list(d.rglob("*.pid")), list(d.rglob("*.pid"))
