"""The device stand-ins are real OpenSSH servers that behave like devices.

These tests check the harness itself with the real ssh client, so later
bastion tests can trust it: the credential logs in and runs commands with
exact output and exit status, anything else is refused, a wrong pinned host
key is refused by the client, and the servers are gone after the test,
even a failing one.
"""

import os
import pathlib
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest
import yaml

from harness import util
from harness.bastion import make_world
from harness.pg import on_postgresql

E2E_DIR = pathlib.Path(__file__).resolve().parent


@pytest.mark.timeout(60)
@pytest.mark.parametrize("status", [0, 3, 42])
def test_credential_runs_command_with_exact_output_and_status(device, status):
    r = device.ssh_direct("printf 'hello %%s\\n' \"$(id -un)\"; "
                          "printf 'to stderr\\n' >&2; exit %d" % status)
    assert r.returncode == status, r.stderr
    assert r.stdout == "hello %s\n" % device.login
    assert "to stderr\n" in r.stderr


@pytest.mark.timeout(60)
def test_stdin_reaches_the_command(device):
    r = device.ssh_direct("wc -c", input="x" * 1000)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1000"


@pytest.mark.timeout(60)
def test_wrong_key_is_refused(device, tmp_path):
    other = tmp_path / "other_key"
    util.keygen(other)
    r = device.ssh_direct("echo should-not-run", key=other)
    assert r.returncode == 255
    assert "should-not-run" not in r.stdout
    assert "Permission denied (publickey)" in r.stderr
    # The device saw, and refused, that very key.
    log = device.logfile.read_text()
    assert "Failed publickey for %s" % device.login in log


@pytest.mark.timeout(60)
def test_host_key_mismatch_is_refused_by_the_client(device, tmp_path):
    marker = tmp_path / "ran"
    impostor = util.keygen(tmp_path / "impostor_host_key")
    kh = tmp_path / "known_hosts_wrong"
    kh.write_text(device.known_hosts_line(impostor))
    r = device.ssh_direct("touch %s" % marker, known_hosts=kh)
    assert r.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in r.stderr
    assert "Host key verification failed" in r.stderr
    assert not marker.exists()
    # Control: the pinned key works and runs the same command.
    r = device.ssh_direct("touch %s" % marker)
    assert r.returncode == 0, r.stderr
    assert marker.exists()


@pytest.mark.timeout(60)
def test_unknown_host_is_refused_by_the_client(device, tmp_path):
    empty = tmp_path / "known_hosts_empty"
    empty.write_text("")
    r = device.ssh_direct("true", known_hosts=empty)
    assert r.returncode == 255
    assert "Host key verification failed" in r.stderr


@pytest.mark.timeout(60)
def test_stop_ends_server_and_open_sessions(make_device):
    dev = make_device("mri", util.segment_addr(1, 11))
    session = subprocess.Popen(dev.ssh_argv("echo started; exec sleep 60"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    try:
        assert session.stdout.readline() == "started\n"
        kids = util.children_of(dev.pid)
        assert kids, "the session should have an sshd child"
        pid = dev.pid
        dev.stop()
        assert not util.pid_alive(pid)
        assert not [k for k in kids if util.pid_alive(k)]
        assert session.wait(timeout=10) != 0   # the connection was cut
        assert util.read_banner(dev.addr, dev.port, timeout=1) is None
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()


@pytest.mark.timeout(60)
def test_http_service_on_device_address(device):
    svc = device.serve_http(body="the known page\n")
    assert svc.addr == "127.0.1.10"
    with urllib.request.urlopen(svc.url, timeout=10) as resp:
        assert resp.read() == b"the known page\n"
    device.stop()
    assert not util.pid_alive(svc.pid)
    with pytest.raises(OSError):
        urllib.request.urlopen(svc.url, timeout=2)


@pytest.mark.timeout(60)
def test_two_segments_side_by_side(make_device):
    a = make_device("a", util.segment_addr(1, 20))
    b = make_device("b", util.segment_addr(2, 20))
    assert a.host_key_pub != b.host_key_pub
    for d in (a, b):
        r = d.ssh_direct("echo $SSH_CONNECTION")
        assert r.returncode == 0, r.stderr
        # SSH_CONNECTION = client_ip client_port server_ip server_port
        assert r.stdout.split()[2:] == [d.addr, str(d.port)]
    # One device's credential does not open the other.
    r = a.ssh_direct("true", key=b.credential)
    assert r.returncode == 255


INNER_CONFTEST = """
import importlib.util
spec = importlib.util.spec_from_file_location("e2e_conftest", %r)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
globals().update({k: v for k, v in vars(mod).items()
                  if not k.startswith("__")})
"""

INNER_TEST = """
import os

def test_fails_with_servers_running(device, make_device):
    svc = device.serve_http()
    other = make_device("leaky", "127.0.2.99")
    with open(os.environ["PIDS_OUT"], "w") as f:
        f.write("%d %d %d\\n" % (device.pid, svc.pid, other.pid))
        f.write("%d %d\\n" % (device.port, other.port))
    assert False, "deliberate failure"
"""


def run_inner_pytest(tmp_path, test_source, env=None, timeout=100):
    """Run test_source as its own pytest session with this directory's
    conftest (loaded by path), as a separate process."""
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "conftest.py").write_text(
        INNER_CONFTEST % str(E2E_DIR / "conftest.py"))
    (inner / "test_inner.py").write_text(textwrap.dedent(test_source))
    return util.run([sys.executable, "-m", "pytest", "-q", "-p",
                     "no:cacheprovider", "--basetemp", tmp_path / "inner-tmp",
                     "--rootdir", inner, inner],
                    env=dict(os.environ, **(env or {})), check=False,
                    timeout=timeout)


@pytest.mark.timeout(120)
def test_fixture_stops_sshd_when_the_test_fails(tmp_path):
    """Run an inner pytest whose test starts devices and then fails; after
    it, no process it started may be alive and no port may answer."""
    out = tmp_path / "pids"
    r = run_inner_pytest(tmp_path, INNER_TEST, env={"PIDS_OUT": str(out)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed" in r.stdout
    assert "deliberate failure" in r.stdout
    pids = [int(x) for x in out.read_text().split("\n")[0].split()]
    ports = [int(x) for x in out.read_text().split("\n")[1].split()]
    assert len(pids) == 3
    for pid in pids:
        assert not util.pid_alive(pid), "pid %d survived the fixture" % pid
    assert util.read_banner("127.0.1.10", ports[0], timeout=1) is None
    assert util.read_banner("127.0.2.99", ports[1], timeout=1) is None


@pytest.mark.timeout(60)
def test_timeout_marker_stops_a_hung_test(tmp_path):
    t0 = time.monotonic()
    r = run_inner_pytest(tmp_path, """
        import time, pytest

        @pytest.mark.timeout(1)
        def test_hangs(device):
            time.sleep(30)      # time is the subject: a test that hangs
        """, timeout=50)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "TestTimeout" in r.stdout and "exceeded 1.0s" in r.stdout
    assert time.monotonic() - t0 < 25


@pytest.mark.timeout(60)
def test_cleanup_registry_kills_a_forgotten_device(tmp_path):
    """A Device a test never stopped is stopped by cleanup_all() (which
    the session fixture and atexit run)."""
    from harness.devices import Device
    d = Device("forgotten", util.segment_addr(3, 10),
               workdir=tmp_path / "forgotten").start()
    pid = d.pid
    assert util.pid_alive(pid)
    util.cleanup_all()
    assert not util.pid_alive(pid)


@pytest.mark.timeout(60)
def test_leftover_pidfile_is_killed_only_if_it_runs_our_config(tmp_path):
    """kill_leftover_pidfiles() kills a live process named by a pidfile
    under the directory only when its command line mentions that
    pidfile's directory: a recycled pid is never killed."""
    ours = tmp_path / "ours"
    ours.mkdir()
    cfg = ours / "marker.conf"
    cfg.write_text("")
    # sh -c CMD NAME: the config path is in the command line as $0.
    p1 = subprocess.Popen(["sh", "-c", "sleep 60; :", str(cfg)])
    p2 = subprocess.Popen(["sleep", "61"])
    try:
        util.wait_until(lambda: str(cfg) in util.pid_cmdline(p1.pid) and
                        "61" in util.pid_cmdline(p2.pid), 10, interval=0.01,
                        what="sleep did not start")
        (ours / "a.pid").write_text("%d\n" % p1.pid)
        (ours / "b.pid").write_text("%d\n" % p2.pid)
        killed = util.kill_leftover_pidfiles(tmp_path)
        assert killed == [p1.pid]
        p1.wait(timeout=5)
        assert p2.poll() is None
    finally:
        for p in (p1, p2):
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.mark.timeout(60)
def test_world_devices_and_policy(tmp_path):
    with make_world(tmp_path) as w:
        w.add_engineer("acme", "alice",
                       "sk-ssh-ed25519@openssh.com AAAAtest", secret="pin-a")
        p = w.policy()
        # The document bastiond will read: round-trips through YAML.
        path = w.write_policy()
        written = yaml.safe_load(path.read_text())
        if on_postgresql():     # and the suite's database (harness/pg.py)
            assert written.pop("store")["backend"] == "postgresql"
        assert written == p
        assert p["version"] == 1
        assert [v["name"] for v in p["vendors"]] == ["acme", "globex"]
        assert p["vendors"][0]["segments"] == ["127.0.1.0/24"]
        assert p["vendors"][1]["segments"] == ["127.0.2.0/24"]
        assert p["vendors"][0]["engineers"] == [
            {"name": "alice", "keys": ["sk-ssh-ed25519@openssh.com AAAAtest"]}]
        devs = {d["name"]: d for d in p["devices"]}
        assert devs["ct-scanner"]["address"] == "127.0.1.10"
        assert devs["ct-scanner"]["vendor"] == "acme"
        assert devs["pacs"]["address"] == "127.0.2.10"
        assert devs["pacs"]["vendor"] == "globex"
        assert w.pam.users["alice"][0] == "pin-a"
        for name, entry in devs.items():
            dev = w.devices[name]
            assert entry["host_key"] == dev.host_key_pub
            assert entry["port"] == dev.port
            r = dev.ssh_direct("echo ok")
            assert (r.returncode, r.stdout) == (0, "ok\n"), r.stderr
        pids = [d.pid for d in w.devices.values()]
    for pid in pids:
        assert not util.pid_alive(pid)


@pytest.mark.timeout(60)
def test_bastion_launcher_starts_and_stops(world, bastiond_bin):
    b = world.start_bastion()
    assert b.running
    assert util.read_banner(b.addr, b.port).startswith(b"SSH-2.0-")
    pid = b.pid
    b.stop()
    assert not util.pid_alive(pid)
    assert b.returncode is not None
    assert util.read_banner(b.addr, b.port, timeout=1) is None


@pytest.mark.timeout(60)
def test_bastion_launcher_reports_why_start_failed(world, bastiond_bin):
    p = world.policy()
    p["devices"][0]["address"] = "127.0.2.77"   # outside acme's segment
    with pytest.raises(util.HarnessError) as e:
        world.start_bastion(p)
    # --init (run first) or the daemon itself refuses the policy
    assert "exited before listening" in str(e.value) or \
        "--init failed" in str(e.value)
    assert "policy.yaml" in str(e.value)      # the log tail is included
    assert not world.bastion.running


@pytest.mark.parametrize("line, want", [
    ('AUDIT event=login user=alice ok', {"event": "login", "user": "alice",
                                          "ok": True}),
    ('2025-01-01T00:00:00Z bastiond[7]: AUDIT event=deny '
     'reason="not in segment \\"acme\\"" src=127.0.0.1:5000',
     {"event": "deny", "reason": 'not in segment "acme"',
      "src": "127.0.0.1:5000"}),
    ('AUDIT a="x\\\\y" b="" c=', {"a": "x\\y", "b": "", "c": ""}),
])
def test_audit_line_parsing(tmp_path, line, want):
    from harness.bastion import Bastion
    b = Bastion(tmp_path / "b", build_dir=tmp_path)
    b.logfile.write_text("noise\n" + line + "\nmore noise\n")
    assert b.audit_events() == [want]
    key, val = next(iter(want.items()))
    assert b.audit_events(**{key: val}) == [want]
    assert b.audit_events(**{key: "nope"}) == []
