"""bastion-recorder runs in its own seccomp filter (recorder/lib/recsandbox.c),
whoever starts it: not only under its unit's SystemCallFilter=.

Started by hand (as test_recorder.py does) and started by bastiond (with
-a: its audit events go through the store actor's socket), the running
recorder is looked at from /proc: NoNewPrivs 1 and Seccomp 2 (a filter);
it still records, in clear and encrypted, and a recording verifies; it
stops cleanly; and nothing was refused by the filter (no "outside its
seccomp allowlist" line in its log). That a call outside the list kills it
with the call named is tests/unit/test_rec_sandbox.c (execve, ptrace, an
AF_INET socket, connect without -a, a process, the SIGSYS handler). Where
seccomp() itself is refused (a unit without "seccomp" in its
SystemCallFilter=, played by tests/tools/no_seccomp.c) the recorder does
not record at all: it says why, removes its socket and exits 1."""

import subprocess

import pytest

from harness import util
from test_recorder import SESSION, Recorder, RECORDER, tmproot  # noqa: F401
from test_recording_encryption import keygen
from test_session_recording import (recorder_pid, verify,
                                    wait_recordings)


pytestmark = pytest.mark.skipif(not RECORDER.exists(),
                                reason="recorder not built")

REFUSED = "outside its seccomp allowlist"


def assert_filtered(pid):
    st = util.proc_status(pid)
    assert st.get("NoNewPrivs") == "1", st
    assert st.get("Seccomp") == "2", st


@pytest.mark.parametrize("encrypted", [False, True],
                         ids=["clear", "encrypted"])
def test_hand_started_recorder_is_filtered(tmproot, encrypted):  # noqa: F811
    extra = ["-r", keygen(tmproot / "auditor.key")] if encrypted else []
    r = Recorder(tmproot, extra=extra).start()
    try:
        assert_filtered(r.proc.pid)
        _, path = r.session(*SESSION)
        rc, out, err = r.verify(path)
        assert rc == 0, out + err
        assert ("format 2" in out + err) == encrypted, out + err
        assert_filtered(r.proc.pid)
    finally:
        rc = r.stop()
    log = r.log.read_text()
    assert rc == 0, log
    assert "seccomp" not in log, log


def test_bastiond_recorder_is_filtered(site, build_dir):
    world, p = site
    pid = util.wait_until(lambda: recorder_pid(world), 10,
                          what="bastiond's recorder")
    assert_filtered(pid)
    r = p["alice"].ssh("ct-scanner", "echo FILTERED-$((40+2))")
    assert r.returncode == 0, r.stderr
    assert "FILTERED-42" in r.stdout
    [rec] = wait_recordings(world, 1)
    # recording.sealed goes through the store actor's socket (-a)
    world.bastion.wait_audit(event="recording.sealed")
    v = verify(world, build_dir, rec)
    assert v.returncode == 0, v.stdout + v.stderr
    assert recorder_pid(world) == pid       # still the same process
    assert_filtered(pid)
    assert REFUSED not in world.bastion.logfile.read_text()


def test_no_filter_no_recorder(tmproot, build_dir):  # noqa: F811
    r = Recorder(tmproot)
    p = subprocess.run(
        [str(build_dir / "tests" / "no_seccomp"), str(RECORDER), "-D",
         "-k", str(r.key), "-d", str(r.recdir), "-s", str(r.sock)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=30)
    assert p.returncode == 1, p.stdout
    assert 'SystemCallFilter= must allow "seccomp"' in p.stdout, p.stdout
    assert "not recording" in p.stdout, p.stdout
    assert not r.sock.exists()


def test_bastiond_recorder_stops_cleanly_under_pam_wrapper(world, softsk,
                                                          bastiond_bin):
    """pam_wrapper (LD_PRELOAD), inherited from bastiond, removes its copy
    of the PAM services in a destructor when the recorder exits: that
    stop is not a filter's kill."""
    from harness.client import add_site_people
    world.bastion.pam_mode = "wrapper"
    p = add_site_people(world, softsk)
    world.start_bastion(world.policy())
    pid = util.wait_until(lambda: recorder_pid(world), 10,
                          what="bastiond's recorder")
    assert_filtered(pid)
    with open("/proc/%d/environ" % pid, "rb") as f:
        assert b"pam_wrapper" in f.read()      # LD_PRELOAD, inherited
    ok = p["alice"].ssh("ct-scanner", "echo wrapped")
    assert ok.returncode == 0 and "wrapped" in ok.stdout, ok.stderr
    world.bastion.wait_audit(event="recording.sealed")
    world.bastion.stop()
    log = world.bastion.logfile.read_text()
    assert "sealing open recordings and exiting" in log, log
    assert REFUSED not in log, log
