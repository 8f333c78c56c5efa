"""Sessions through the bastion are recorded, verifiable and replayable,
and recording fails closed (recorder issue, integration with the broker)."""

import glob
import os
import signal
import subprocess

import pytest

from harness import util
from harness.client import resize


def recordings(world):
    return sorted(glob.glob(str(world.bastion.workdir / "recordings" / "*" /
                                "*" / "*" / "*.brec")))


def pubkey(world):
    return str(world.bastion.workdir / "state" / "recorder.key.pub")


def verify(world, build_dir, path):
    return subprocess.run([str(build_dir / "bastion-verify"), "-k",
                           pubkey(world), path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def replay(build_dir, *args):
    return subprocess.run([str(build_dir / "bastion-replay")] +
                          [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def recorder_pid(world):
    for pid in util.children_of(world.bastion.pid):
        if "bastion-recorder" in util.pid_cmdline(pid):
            return pid
    return None


def wait_recordings(world, n, timeout=10):
    return util.wait_until(lambda: len(recordings(world)) >= n and
                           recordings(world), timeout, interval=0.1,
                           what=lambda: "%d recordings, have %r"
                           % (n, recordings(world)))


def test_exec_session_recorded_and_verifies(site, build_dir):
    world, p = site
    data = "".join("line %04d of the service log\n" % i for i in range(500))
    r = p["alice"].ssh("ct-scanner", "cat; echo to-stderr >&2; exit 4",
                       input=data)
    assert r.returncode == 4
    assert r.stdout == data
    [rec] = wait_recordings(world, 1)
    world.bastion.wait_audit(event="session.end", user="alice")
    v = verify(world, build_dir, rec)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "alice" in v.stdout and "ct-scanner" in v.stdout
    t = replay(build_dir, "--text", "-k", pubkey(world), rec)
    assert t.returncode == 0, t.stderr
    text = t.stdout.decode()
    assert "cat; echo to-stderr >&2; exit 4" in text    # exec command
    assert "line 0499 of the service log" in text       # output
    assert "to-stderr" in text                          # stderr
    assert "4" in text and "exit" in text               # exit status


def test_recording_replays_exactly_what_the_engineer_saw(site, build_dir,
                                                         tmp_path):
    world, p = site
    r = p["alice"].ssh("ct-scanner", "for i in $(seq 1 300); do "
                       "printf 'row %03d \\033[1mbold\\033[0m\\n' $i; done")
    assert r.returncode == 0, r.stderr
    [rec] = wait_recordings(world, 1)
    world.bastion.wait_audit(event="session.end", user="alice")
    cast = tmp_path / "s.cast"
    a = replay(build_dir, "--asciicast", rec)
    assert a.returncode == 0, a.stderr
    cast.write_bytes(a.stdout)
    cat = util.run_with_tty(["asciinema", "cat", cast], timeout=60)
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == r.stdout.encode()


def test_interactive_input_and_resize_recorded(site, build_dir):
    world, p = site
    child = p["alice"].spawn("ct-scanner")
    child.expect("session \\d+: ct-scanner")
    child.sendline("echo typed-$((40+2))")
    child.expect("typed-42")
    resize(child, 30, 90)
    child.sendline("exit")
    child.expect(__import__("pexpect").EOF)
    [rec] = wait_recordings(world, 1)
    world.bastion.wait_audit(event="session.end", user="alice")
    t = replay(build_dir, "--text", rec).stdout.decode()
    assert "echo typed-$((40+2))" in t      # the engineer's input
    assert "typed-42" in t                  # the device's output
    assert "window-change: 90x30" in t      # the window change
    assert verify(world, build_dir, rec).returncode == 0


def test_forward_recorded(cast, build_dir):
    world, p = cast
    world.vendors["acme"]["touch"] = "off"     # -W: forward-only
    web = world.devices["ct-scanner"].serve_http(body="CT service page")
    world.device_entries["ct-scanner"]["forward_ports"] = [web.port]
    world.start_bastion()
    request = "GET / HTTP/1.0\r\n\r\n"
    r = p["alice"].ssh(options=["-W", "ct-scanner:%d" % web.port],
                       login="alice+ct-scanner", input=request.encode(),
                       binary=True)
    assert b"CT service page" in r.stdout
    [rec] = wait_recordings(world, 1)
    world.bastion.wait_audit(event="session.end", user="alice")
    t = replay(build_dir, "--text", rec).stdout.decode()
    assert "127.0.1.10" in t and str(web.port) in t
    # both directions' bytes are in the recording
    assert "%d bytes to the device, %d bytes from it" % (
        len(request), len(r.stdout)) in t, t
    assert verify(world, build_dir, rec).returncode == 0


def test_no_recorder_no_session(site):
    """The recorder stopped (not answering): the session does not start."""
    world, p = site
    pid = recorder_pid(world)
    assert pid
    os.kill(pid, signal.SIGSTOP)
    try:
        r = p["alice"].ssh("ct-scanner", "echo must-not-run", timeout=60)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert r.returncode != 0
    assert "must-not-run" not in r.stdout
    assert "cannot be recorded" in r.stderr
    assert not world.bastion.audit_events(event="device.connect")
    ev = world.bastion.wait_audit(event="session.refused", user="alice")
    assert "recording" in ev["reason"]


def test_recorder_lost_mid_session_ends_it(site, build_dir):
    world, p = site
    pr = p["alice"].popen("ct-scanner", "while :; do echo tick; "
                          "sleep 0.05; done", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    try:
        pr.stdout.readline()
        # past a checkpoint: what is before it verifies
        rec = wait_recordings(world, 1)[0]
        util.wait_until(lambda: "(signed by checkpoint" in verify(
            world, build_dir, rec).stdout, 15, interval=0.1,
            what="a checkpoint in " + rec)
        os.kill(recorder_pid(world), signal.SIGKILL)
        out, err = pr.communicate(timeout=30)
    finally:
        if pr.poll() is None:
            pr.kill()
    assert pr.returncode != 0
    assert b"can no longer be recorded" in err
    world.bastion.wait_audit(event="session.end", user="alice",
                             reason="recording failed")
    [rec] = recordings(world)
    v = verify(world, build_dir, rec)
    assert v.returncode == 2, v.stdout + v.stderr     # unsealed tail
    # and the bastion brings its recorder back for the next session
    r = p["alice"].ssh_when_ready("ct-scanner", "echo again")
    assert "again" in r.stdout


def test_no_disk_space_no_session(cast):
    """Below the policy's free-space floor the recorder refuses OPEN, and
    the session does not start (the engineer is told why)."""
    world, p = cast
    world.limits["recording_min_free_mb"] = 900000000    # ~860 TiB
    world.start_bastion()
    r = p["alice"].ssh("ct-scanner", "echo must-not-run")
    assert r.returncode != 0
    assert "must-not-run" not in r.stdout
    assert "cannot be recorded" in r.stderr and "free" in r.stderr
    assert not world.bastion.audit_events(event="device.connect")
    assert world.bastion.audit_events(event="session.refused", user="alice")
