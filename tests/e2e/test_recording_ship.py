"""Recordings reachable from every node: bastion-ship and a real S3 server
(issue 20, item 5; docs/RECORDING-STORE.md).

s3rver (npm @20minutes/s3rver, pinned in tests/s3/package-lock.json) runs through
scripts/s3-server.sh on a loopback port and checks every request's AWS
Signature Version 4. A real ssh session through the bastion is recorded
and sealed; bastion-ship ships it: the object in s3rver's own files has
the local file's SHA-256, and a second node (another policy, another
node name, its own state directory) fetches it by id and bastion-verify
and bastion-replay accept it there; on a second running bastiond the
auditor's ssh console replays it from the store. With the store down the recording
stays on the spool, the failure is audited with its try, and it ships
once the store is back; only then does keep_local remove it. A wrong
secret is answered SignatureDoesNotMatch by s3rver, audited, and nothing
leaves. An object changed in the store is refused by fetch."""

import hashlib
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from harness import util
from harness.bastion import Bastion

ROOT = pathlib.Path(__file__).resolve().parents[2]
S3_SERVER = ROOT / "scripts" / "s3-server.sh"
BUCKET = "bastion-recordings"


class S3:
    """s3rver in dir on port, through scripts/s3-server.sh."""

    def __init__(self, dir):
        self.dir = pathlib.Path(dir)
        self.port = util.free_port()
        self.endpoint = None

    def start(self):
        r = subprocess.run([str(S3_SERVER), "start", str(self.dir),
                            str(self.port)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        self.endpoint = r.stdout.strip()
        assert self.endpoint == "http://127.0.0.1:%d" % self.port
        return self

    def stop(self):
        subprocess.run([str(S3_SERVER), "stop", str(self.dir)], timeout=30)

    def object_path(self, key):
        """Where s3rver keeps the bytes of key (its filesystem store)."""
        return self.dir / "data" / BUCKET / (key + "._S3rver_object")

    def objects(self):
        return sorted(str(p.relative_to(self.dir / "data" / BUCKET))
                      for p in (self.dir / "data" / BUCKET).rglob(
                          "*._S3rver_object"))


@pytest.fixture
def s3(tmp_path):
    if shutil.which("node") is None:
        pytest.fail("node not found: scripts/deps.sh installs nodejs")
    if not (ROOT / "tests" / "s3" / "node_modules" / "@20minutes" /
            "s3rver").is_dir():
        pytest.fail("s3rver not unpacked: run make deps "
                    "(scripts/s3-vendor.py)")
    srv = S3(tmp_path / "s3").start()
    yield srv
    srv.stop()


def credentials(dir, secret="S3RVER", mode=0o600):
    path = pathlib.Path(dir) / "s3.credentials"
    path.write_text("# the store's key pair\naccess_key_id = S3RVER\n"
                    "secret_access_key = %s\n" % secret)
    os.chmod(path, mode)
    return path


def ship_policy(world, s3, node="node-a", secret="S3RVER", **extra):
    pol = world.policy()
    pol.setdefault("store", {})["node"] = node
    cred = credentials(world.dir, secret)
    rec = {"store": "s3",
           "s3": {"endpoint": s3.endpoint, "bucket": BUCKET,
                  "region": "us-east-1", "prefix": "hospital-a",
                  "credentials_file": str(cred)},
           "interval": "1s", "retry": "1s"}
    rec.update(extra)
    pol["recordings"] = rec
    return pol


def ship(build_dir, world, *args, timeout=60, env=None):
    return subprocess.run(
        [str(build_dir / "bastion-ship"), "-f", str(world.bastion.policy_path),
         "-a", str(world.bastion.state_dir)] +
        [str(a) for a in args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, timeout=timeout,
        env=dict(os.environ, **(env or {})))


def ship_daemon(build_dir, world):
    """bastion-ship running (no --once) on world's policy, auditing to
    its chain; stdout and stderr in one pipe."""
    return subprocess.Popen(
        [str(build_dir / "bastion-ship"), "-f",
         str(world.bastion.policy_path), "-a",
         str(world.bastion.state_dir)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def recorded_session(world, person, marker):
    """A real ssh session to ct-scanner; (recording id, its file) once
    the recorder has sealed it."""
    n = len(world.bastion.audit_events(event="session.end",
                                       user=person.name))
    r = person.ssh("ct-scanner", "echo %s-$((40+2))" % marker)
    assert r.returncode == 0, r.stderr
    assert "%s-42" % marker in r.stdout
    end = world.bastion.wait_audit(event="session.end", user=person.name,
                                   after=n, timeout=15)
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=end["session"])["recording"]
    world.bastion.wait_audit(event="recording.sealed", session=rec)
    [path] = [p for p in world.bastion.recordings_dir.rglob("*.brec")
              if p.name == rec + ".brec"]
    for _ in range(50):          # read-only once the seal is synced
        if not os.stat(path).st_mode & 0o222:
            break
        time.sleep(0.1)
    return rec, path


def chain_events(world, **match):
    """bastion-ship's events as the audit chain (STATE_DIR/audit.log, -a)
    holds them, oldest first, filtered by **match."""
    out = []
    log = world.bastion.state_dir / "audit.log"
    for line in log.read_text().splitlines():
        ev = util.parse_logfmt(line)
        if all(str(ev.get(k)) == str(v) for k, v in match.items()):
            out.append(ev)
    return out


def wait_chain(world, timeout=10.0, **match):
    return util.wait_until(
        lambda: (chain_events(world, **match) or [None])[0], timeout,
        what="audit chain event %r" % (match,))


def key_of(rec, node="node-a"):
    return "hospital-a/%s/%s/%s/%s.brec" % (node, rec[:4], rec[4:6], rec)


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def second_node(tmp_path, world, s3):
    """The policy of another node of the group: same store, its own name
    and state directory. Returns the policy file."""
    d = tmp_path / "node-b"
    (d / "state").mkdir(parents=True)
    pol = ship_policy(world, s3, node="node-b")
    pol["paths"] = dict(pol["paths"], state_dir=str(d / "state"))
    pol["recordings"]["s3"]["credentials_file"] = str(credentials(d))
    return world.bastion.write_policy(pol, d / "policy.yaml")


def test_sealed_recording_in_the_bucket_verifies_on_another_node(
        cast, s3, build_dir, tmp_path):
    world, p = cast
    world.start_bastion(ship_policy(world, s3))
    rec, path = recorded_session(world, p["alice"], "SHIPPED")

    r = ship(build_dir, world, "--once")
    assert r.returncode == 0, r.stderr
    ev = wait_chain(world, event="recording.shipped", session=rec)
    assert ev["key"] == key_of(rec)
    assert ev["sha256"] == sha256(path)
    assert int(ev["bytes"]) == path.stat().st_size
    # s3rver's own copy, read from its files: the recording byte for byte
    assert sha256(s3.object_path(key_of(rec))) == sha256(path)
    assert path.exists()                 # no keep_local: it stays
    # a second pass ships nothing again
    r = ship(build_dir, world, "--once")
    assert r.returncode == 0, r.stderr
    assert len(chain_events(world, event="recording.shipped",
                                          session=rec)) == 1

    # node B: fetched by id, verified with node A's recorder key, replayed
    pol_b = second_node(tmp_path, world, s3)
    out = tmp_path / "fetched"
    out.mkdir()
    r = subprocess.run([str(build_dir / "bastion-ship"), "-f", str(pol_b),
                        "fetch", rec, str(out)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = out / (rec + ".brec")
    assert r.stdout.strip() == str(got)
    assert sha256(got) == sha256(path)
    pub = world.bastion.state_dir / "recorder.key.pub"
    v = util.run([build_dir / "bastion-verify", "-k", pub, got], check=False)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "sealed:" in v.stdout
    t = util.run([build_dir / "bastion-replay", "--text", "-k", pub, got],
                 check=False)
    assert t.returncode == 0, t.stderr
    assert "SHIPPED-42" in t.stdout
    # fetch never overwrites
    r = subprocess.run([str(build_dir / "bastion-ship"), "-f", str(pol_b),
                        "fetch", rec, str(out)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1 and "exists" in r.stderr

    # an object changed in the store is refused, and nothing is left
    obj = s3.object_path(key_of(rec))
    data = bytearray(obj.read_bytes())
    data[100] ^= 1
    obj.write_bytes(bytes(data))
    out2 = tmp_path / "fetched2"
    out2.mkdir()
    r = subprocess.run([str(build_dir / "bastion-ship"), "-f", str(pol_b),
                        "fetch", rec, str(out2)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1
    assert "refused" in r.stderr
    assert list(out2.iterdir()) == []


def test_second_node_console_replays_a_recording_of_the_first(
        cast, s3, build_dir, softsk):
    """Node B, a second bastiond sharing the recording key (as nodes share
    the host key), does not have the recording: carol's `replay` there
    fetches it from the store, verifies it and shows the session."""
    world, p = cast
    world.start_bastion(ship_policy(world, s3))
    rec, path = recorded_session(world, p["alice"], "ON-NODE-A")
    r = ship(build_dir, world, "--once")
    assert r.returncode == 0, r.stderr

    b = Bastion(world.dir / "node-b", build_dir, world.pam)
    for name in ("recorder.key", "recorder.key.pub"):
        shutil.copy2(world.bastion.state_dir / name, b.state_dir / name)
    pol = ship_policy(world, s3, node="node-b")
    pol["listen"] = ["127.0.0.1:%d" % util.free_port("127.0.0.1")]
    pol["paths"] = b.default_paths()
    b.write_policy(pol)
    b.start()
    try:
        assert not list(b.recordings_dir.rglob("*.brec"))
        carol = p["carol"]
        cfg = b.ssh_config(carol.dir / "ssh_config-node-b", carol.key,
                           provider=softsk.provider)

        def console(*args):
            return subprocess.run(
                b.ssh_argv(cfg, "carol", *args, agent=True, tty=False),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=carol.env(), timeout=60, start_new_session=True)

        t = console("replay", rec)
        assert t.returncode == 0, t.stdout + t.stderr
        assert "ON-NODE-A-42" in t.stdout
        # fetched for the replay (bastion-ship checked the store's
        # SHA-256), deleted after it (verbs/audfetch.h)
        assert not (b.state_dir / "fetched" / (rec + ".brec")).exists()
        v = console("verify", rec)
        assert v.returncode == 0, v.stdout + v.stderr
        assert "sealed" in v.stdout
        b.wait_audit(event="recording.access", recording=rec)
        # an id the store does not have: said so, nothing fetched
        missing = rec[:-4] + "0000"
        m = console("replay", missing)
        assert m.returncode != 0
        assert "no recording %s" % missing in m.stderr
        assert not (b.state_dir / "fetched" / (missing + ".brec")).exists()
    finally:
        b.stop()


def test_store_down_recording_stays_then_ships_then_leaves(
        cast, s3, build_dir):
    world, p = cast
    world.start_bastion(ship_policy(world, s3, keep_local="1s"))
    s3.stop()
    daemon = ship_daemon(build_dir, world)
    try:
        rec, path = recorded_session(world, p["alice"], "WAITED")
        first = wait_chain(world, event="recording.ship_failed",
                                         session=rec, timeout=20)
        assert first["tries"] == "1"
        assert "PUT" in first["reason"]
        # backoff: the second try waits twice as long as the first
        second = wait_chain(world, event="recording.ship_failed",
                                          session=rec, tries="2",
                                          timeout=20)
        assert int(second["retry_in"]) == 2 * int(first["retry_in"])
        assert path.exists()
        assert not chain_events(world, event="recording.shipped",
                                              session=rec)
        s3.start()
        ev = wait_chain(world, event="recording.shipped",
                                      session=rec, timeout=30)
        assert int(ev["tries"]) >= 3
        assert sha256(s3.object_path(key_of(rec))) == ev["sha256"]
        # keep_local: 1s, then gone from the spool, not before shipping
        wait_chain(world, event="recording.removed", session=rec,
                                 timeout=20)
        assert not path.exists()
        assert s3.object_path(key_of(rec)).exists()
    finally:
        daemon.terminate()
        out, _ = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, out
    # bastiond and bastion-ship appended to one chain: it still verifies
    v = util.run([build_dir / "bastion-verify", "--audit",
                  world.bastion.state_dir / "audit.log"], check=False)
    assert v.returncode == 0, v.stdout + v.stderr


def test_bad_credential_refused_by_the_store_and_audited(
        cast, s3, build_dir):
    world, p = cast
    world.start_bastion(ship_policy(world, s3, secret="not-the-secret"))
    rec, path = recorded_session(world, p["alice"], "REFUSED")
    r = ship(build_dir, world, "--once")
    assert r.returncode == 1
    ev = wait_chain(world, event="recording.ship_failed",
                                  session=rec)
    # s3rver checked the signature and refused it
    assert "HTTP 403 SignatureDoesNotMatch" in ev["reason"]
    assert s3.objects() == []
    assert path.exists()
    assert not (world.bastion.state_dir / "shipped" / rec).exists()


def test_credentials_and_endpoint_rules(cast, s3, build_dir):
    world, p = cast
    world.start_bastion(ship_policy(world, s3))
    cred = world.dir / "s3.credentials"
    os.chmod(cred, 0o640)
    r = ship(build_dir, world, "--once")
    assert r.returncode == 1
    assert "no one else may read" in r.stderr
    # a copy systemd handed the unit (LoadCredential=): group bits may
    # show an ACL's mask there, other bits still may not
    creds = world.dir / "credentials"
    creds.mkdir()
    copy = credentials(creds, mode=0o440)
    r = ship(build_dir, world, "--once", "-c", copy,
             env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert r.returncode == 0, r.stderr
    os.chmod(copy, 0o444)
    r = ship(build_dir, world, "--once", "-c", copy,
             env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert r.returncode == 1 and "no one else may read" in r.stderr
    os.chmod(copy, 0o440)
    r = ship(build_dir, world, "--once", "-c", copy)
    assert r.returncode == 1 and "no one else may read" in r.stderr
    os.chmod(cred, 0o600)
    cred.write_text("access_key_id = S3RVER\n")
    r = ship(build_dir, world, "--once")
    assert r.returncode == 1 and "secret_access_key" in r.stderr
    # plain http only to a loopback address; a half-written section
    pol = ship_policy(world, s3)
    pol["recordings"]["s3"]["endpoint"] = "http://s3.example:9000"
    path = world.bastion.write_policy(pol, world.dir / "bad.yaml")
    c = world.bastion.check_policy(path)
    assert c.returncode != 0
    assert "endpoint" in c.stderr
    pol = world.policy()
    pol["recordings"] = {"keep_local": "1d"}
    path = world.bastion.write_policy(pol, world.dir / "bad2.yaml")
    c = world.bastion.check_policy(path)
    assert c.returncode != 0 and "without store" in c.stderr
