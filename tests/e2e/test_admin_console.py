"""The rest of the admin console (issue 6 item 3): sessions, watch, kill,
lock/unlock and vendors, over ssh (`ssh bob@bastion VERB`) and bastionctl,
with real ssh clients on both sides; and the session monitor behind them
(the listener's registry in the state store, crash-safe).

docs/APPROVALS.md (verbs), docs/ARCHITECTURE.md ("Session monitor").
"""

import io
import json
import os
import pwd
import select
import signal
import subprocess
import threading
import time

from harness import util
from harness.pg import state_sql


def registered(world, sid, timeout=10):
    """Wait until the listener has the session in its registry."""
    world.bastion.wait_log(r"session %s: \S+ \(\S+\) on \S+ registered"
                           % sid, timeout=timeout)


def live_session(world, person, device="ct-scanner",
                 command="echo started; sleep 60"):
    """Start person's exec session (a Popen) and wait until it is
    registered; returns (proc, session number as str)."""
    n = len(world.bastion.audit_events(event="device.connect",
                                       user=person.name))
    proc = person.popen(device, command, stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    sid = world.bastion.wait_audit(event="device.connect", user=person.name,
                                   after=n, alive=proc, timeout=20)["session"]
    registered(world, sid)
    return proc, sid


def finish(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def hang_up(proc):
    """The engineer's ssh goes away (as on ^C or a lost line)."""
    os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=20)


def sessions_json(person, *args):
    r = person.ssh("sessions", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def wait_ended(person, sid, timeout=15):
    def ended():
        rows = [s for s in sessions_json(person, "--all")
                if s["sid"] == int(sid)]
        return rows[0] if rows and rows[0]["ended"] else None
    return util.wait_until(ended, timeout, interval=0.2,
                           what="session %s ended" % sid)


class Reader:
    """Collect a pipe's text in a thread; wait for a substring."""

    def __init__(self, pipe):
        self.buf = io.StringIO()
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._run, args=(pipe,),
                                  daemon=True)
        self.t.start()

    def _run(self, pipe):
        for chunk in iter(lambda: pipe.read(1), ""):
            with self.lock:
                self.buf.write(chunk)

    def text(self):
        with self.lock:
            return self.buf.getvalue()

    def wait(self, what, timeout=15):
        util.wait_until(lambda: what in self.text(), timeout, what=lambda:
                        "%r not seen; got %r" % (what, self.text()[-2000:]))


# -- sessions -----------------------------------------------------------------

def test_sessions_lists_live_session_table_and_json(site):
    world, p = site
    proc, sid = live_session(world, p["alice"])
    t = p["bob"].ssh("sessions")
    assert t.returncode == 0, t.stderr
    line = [x for x in t.stdout.splitlines() if x.startswith(sid + " ")]
    assert line, t.stdout
    for want in ("alice", "acme", "ct-scanner", "127.0.0.1", "live"):
        assert want in line[0], line[0]
    assert t.stdout.startswith("SID")
    [s] = sessions_json(p["bob"])
    assert s["sid"] == int(sid) and s["engineer"] == "alice"
    assert s["vendor"] == "acme" and s["device"] == "ct-scanner"
    assert s["from"] == "127.0.0.1" and s["ended"] == 0
    assert s["grant"] == 0 and s["kill_requested"] is False
    assert abs(s["started"] - time.time()) < 30
    assert s["recording"].startswith(str(world.bastion.recordings_dir))
    assert os.path.exists(s["recording"]) and s["recorded_bytes"] > 0
    assert s["idle_seconds"] >= 0
    assert s["pid"] in util.children_of(world.bastion.pid)
    # it ends: live list empty, --all has it with the reason
    hang_up(proc)
    ended = wait_ended(p["bob"], sid)
    assert ended["end_reason"]
    assert sessions_json(p["bob"]) == []
    assert "no live sessions" in p["bob"].ssh("sessions").stdout


# -- kill ----------------------------------------------------------------------

def test_kill_ends_session_and_engineer_sees_reason(site):
    world, p = site
    proc, sid = live_session(world, p["alice"])
    # the device's first output has reached alice before the kill (the
    # session is registered before the device has said anything)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    assert ready and proc.stdout.readline() == "started\n"
    k = p["bob"].ssh("kill", sid, "maintenance", "window", "over")
    assert k.returncode == 0, k.stderr
    assert "session %s (alice on ct-scanner) ended" % sid in k.stdout
    rc, out, err = finish(proc, timeout=20)
    assert rc != 0 and "started" not in out
    assert "bastion: session closed by an admin (bob): maintenance " \
        "window over" in err, err
    ev = world.bastion.wait_audit(event="session.killed", session=sid)
    assert ev["admin"] == "bob" and ev["via"] == "ssh"
    assert ev["reason"] == "maintenance window over"
    assert ev["user"] == "alice" and ev["device"] == "ct-scanner"
    end = world.bastion.wait_audit(event="session.end", session=sid)
    assert end["reason"] == \
        "killed by an admin (bob): maintenance window over"
    row = wait_ended(p["bob"], sid)
    assert row["end_reason"].startswith("killed by an admin (bob)")
    assert row["killed_by"] == "bob" and row["kill_requested"] is True
    # already ended, never there, not a number
    again = p["bob"].ssh("kill", sid)
    assert again.returncode == 1 and "ended already" in again.stderr
    none = p["bob"].ssh("kill", "999999")
    assert none.returncode == 1 and "no session 999999" in none.stderr
    bad = p["bob"].ssh("kill", "abc")
    assert bad.returncode == 2 and "not an id" in bad.stderr


def test_bastionctl_sessions_and_kill_json(site, bastionctl):
    world, p = site
    proc, sid = live_session(world, p["alice"])
    r = bastionctl(world, "sessions", "--json")
    assert r.returncode == 0, r.stderr
    assert [s["sid"] for s in json.loads(r.stdout)] == [int(sid)]
    k = bastionctl(world, "kill", sid, "--json", "--", "-- not an option")
    assert k.returncode == 0, k.stderr
    res = json.loads(k.stdout)
    assert res == {"session": int(sid), "status": "ended",
                   "reason": "-- not an option"}
    # through bastiond's control socket: bastiond's audit event, made as
    # the local operator
    ev = world.bastion.wait_audit(event="session.killed", session=sid)
    assert ev["via"] == "bastionctl", ev
    assert ev["admin"] == pwd.getpwuid(os.getuid()).pw_name, ev
    rc, out, err = finish(proc, timeout=20)
    assert "-- not an option" in err and "session closed" in err


# -- watch ---------------------------------------------------------------------

def test_watch_shows_live_output_not_the_admins_input(site, build_dir):
    world, p = site
    alice = p["alice"].spawn("ct-scanner", timeout=20)
    seen_by_alice = io.StringIO()
    alice.logfile_read = seen_by_alice
    alice.expect(r"session (\d+): ct-scanner")
    sid = alice.match.group(1)
    registered(world, sid)
    alice.sendline("echo before-$((2+3))")
    alice.expect("before-5")
    bob = p["bob"].spawn("watch", sid, timeout=20)
    seen_by_bob = io.StringIO()
    bob.logfile_read = seen_by_bob
    bob.expect("before-5")          # the screen so far
    # (the banner is on stderr: ssh may write it before or after)
    # bob types: it goes nowhere (and a q would stop the watch)
    bob.send("echo admin-typed-xyz\r")
    alice.sendline("echo watched-$((6*7))")
    alice.expect("watched-42")
    bob.expect("watched-42")
    # (not yet proof: bob's keys may still be on their way; the check
    # after bob's ^C has been handled, below, is)
    assert "admin-typed" not in seen_by_alice.getvalue()
    assert "watching session %s: alice (acme) on ct-scanner" % sid in \
        seen_by_bob.getvalue()
    ev = world.bastion.wait_audit(event="session.watch", session=sid)
    assert ev["admin"] == "bob" and ev["user"] == "alice"
    bob.send("\x03")
    bob.expect("stopped watching session %s" % sid)
    bob.expect(util_eof())
    # the session went on, untouched; bob's ^C came after his typing, so
    # had the bastion passed that on, alice's shell would have echoed it
    # before this
    alice.sendline("echo after-$((1+2))")
    alice.expect("after-3")
    alice.sendline("exit")
    alice.expect(util_eof())
    assert "admin-typed" not in seen_by_alice.getvalue()
    rec = world.bastion.wait_audit(event="session.recording", session=sid)
    text = subprocess.run(
        [str(build_dir / "bastion-replay"), "--text", rec["path"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=30).stdout
    assert "watched-42" in text and "admin-typed" not in text


def util_eof():
    import pexpect
    return pexpect.EOF


def test_watch_without_terminal_follows_to_the_end(site):
    world, p = site
    proc, sid = live_session(world, p["alice"], command=(
        "echo tick-start; sleep 2; printf '\\033]52;c;QUJD\\007'; "
        "echo tick-end; sleep 1"))
    watch = p["bob"].popen("watch", sid, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    out = Reader(watch.stdout)
    out.wait("tick-start")
    out.wait("tick-end")
    rc, _, err = finish(watch, timeout=20)
    assert rc == 0, err
    assert "watching session %s" % sid in err
    assert "session %s ended" % sid in err
    # plain text: the clipboard escape never reaches the admin
    assert "\x1b" not in out.text() and "52;c" not in out.text()
    finish(proc)
    # a session that has ended cannot be watched
    w = p["bob"].ssh("watch", sid)
    assert w.returncode == 1 and "has ended" in w.stderr


def control_workers(world):
    """PIDs of this bastion's control workers (bastiond --control)."""
    return util.worker_pids(world.bastion, "--control")


def control_workers_gone(world, moment=None):
    util.wait_until(lambda: not control_workers(world), 15, interval=0.1,
                    what=lambda: "control workers %r still there (%s)"
                    % (control_workers(world), moment))


def test_bastionctl_watch_streams_through_the_control_socket(site,
                                                            build_dir):
    """A local admin follows the session with bastionctl: the control
    worker streams as the recording grows, and ^C (bastionctl gone) stops
    it without touching the session."""
    world, p = site
    proc, sid = live_session(world, p["alice"], command=(
        "echo tick-one; sleep 2; echo tick-two; sleep 30"))
    watch = subprocess.Popen(
        [str(build_dir / "bastionctl"), "-f", str(world.bastion.policy_path),
         "watch", sid], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    out = Reader(watch.stdout)
    out.wait("tick-one")
    out.wait("tick-two")        # arrived after the watch began: live
    ev = world.bastion.wait_audit(event="session.watch", session=sid)
    assert ev["admin"] == "root" and ev["via"] == "bastionctl"
    os.killpg(watch.pid, signal.SIGINT)
    watch.communicate(timeout=20)
    # the control worker noticed and left; alice's session is untouched
    control_workers_gone(world)
    assert proc.poll() is None
    hang_up(proc)


def _ignoring_sigint():
    # What a shell without job control does to `cmd &` (and so to
    # everything under a `make check-asan &` or a CI runner): SIGINT
    # ignored, and the disposition survives exec.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_bastionctl_watch_always_stops_on_sigint(site, build_dir):
    """^C stops `bastionctl watch` however it was started and whenever it
    comes (issue 15 item 8). The hang seen in a full `make check-asan` run
    was bastionctl inheriting SIGINT as ignored: started that way, the old
    bastionctl never stopped. (Reproduced: with the old bastionctl,
    `(trap '' INT; make check-e2e PYTEST_ARGS='-k watch_streams')` hangs
    the test above exactly as reported, "still running 20 s later"; run
    alone from an interactive shell it passes. Python keeps an ignored
    SIGINT at startup, and subprocesses inherit it.) The ignored
    disposition is set here in every run, so without the fix this test
    fails every time, not now and then. Each moment below is tried in turn: at once
    (SIGINT repeated, as an admin presses ^C again), when the banner
    arrives, while output streams, and while bastionctl is blocked writing
    to a full pipe nobody reads."""
    world, p = site
    proc, sid = live_session(world, p["alice"], command=(
        "seq 1 40000; echo tick-one; sleep 60"))
    argv = [str(build_dir / "bastionctl"), "-f",
            str(world.bastion.policy_path), "watch", sid, "--from-start"]
    for moment in ("at-once", "banner", "streaming", "blocked-writing"):
        watch = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
            preexec_fn=_ignoring_sigint)
        err = Reader(watch.stderr)
        out = None
        if moment != "blocked-writing":
            out = Reader(watch.stdout)
        if moment == "banner":
            err.wait("watching session %s" % sid)
        elif moment == "streaming":
            out.wait("tick-one")
        elif moment == "blocked-writing":
            err.wait("watching session %s" % sid)
            # 40000 lines fill the pipe: bastionctl blocks writing
            util.wait_blocked_writing(watch.pid, 1, timeout=15)
        deadline = time.monotonic() + 5
        while watch.poll() is None and time.monotonic() < deadline:
            os.killpg(watch.pid, signal.SIGINT)
            try:
                watch.wait(timeout=0.5 if moment == "at-once" else 5)
            except subprocess.TimeoutExpired:
                pass
        if watch.poll() is None:
            os.killpg(watch.pid, signal.SIGKILL)
            watch.wait(timeout=10)
            raise AssertionError("bastionctl watch ignored SIGINT (%s); "
                                 "stderr: %r" % (moment, err.text()))
        assert watch.returncode == -signal.SIGINT, (moment, err.text())
        for r in (out, err):
            if r is not None:
                r.t.join(timeout=5)
        watch.stdout.close()
        watch.stderr.close()
        # its control worker saw bastionctl go and left too
        control_workers_gone(world, moment)
    assert proc.poll() is None
    hang_up(proc)


# -- lock / unlock -------------------------------------------------------------

def test_lock_ends_live_session_and_refuses_login_unlock_restores(
        site, bastionctl):
    world, p = site
    proc, sid = live_session(world, p["alice"])
    lk = p["bob"].ssh("lock", "alice", "security", "review")
    assert lk.returncode == 0, lk.stderr
    assert "alice is locked: new logins are refused" in lk.stdout
    rc, out, err = finish(proc, timeout=20)
    assert "an admin (bob) locked your account: security review" in err
    ev = world.bastion.wait_audit(event="engineer.lock", engineer="alice")
    assert ev["admin"] == "bob" and ev["reason"] == "security review"
    end = world.bastion.wait_audit(event="session.end", session=sid)
    assert end["reason"].startswith("engineer locked by an admin (bob)")
    # the next login is refused like any other failure
    r = p["alice"].ssh("ct-scanner", "echo no")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    refused = world.bastion.wait_audit(event="auth.result", user="alice",
                                       result="denied")
    assert refused["reason"] == \
        "engineer locked by an admin (bob): security review"
    # others are not affected
    g = p["gina"].ssh("pacs", "echo gina-ok")
    assert g.returncode == 0 and g.stdout == "gina-ok\n", g.stderr
    twice = p["bob"].ssh("lock", "alice")
    assert twice.returncode == 1 and "locked already (by bob" in \
        twice.stderr
    notengineer = p["bob"].ssh("lock", "bob")
    assert notengineer.returncode == 1 and "not a vendor engineer" in \
        notengineer.stderr
    # vendors shows it
    v = json.loads(p["bob"].ssh("vendors", "--json").stdout)
    alice = [e for x in v for e in x["engineers"] if e["name"] == "alice"]
    assert alice[0]["locked"] is True and alice[0]["lock"]["by"] == "bob"
    assert "LOCKED by bob: security review" in p["bob"].ssh(
        "vendors").stdout
    # unlock (locally): the account lock is listed and lifted
    u = bastionctl(world, "unlock", "alice", "--account")
    assert u.returncode == 0, u.stderr
    assert "unlocked: alice (account lock by bob" in u.stdout
    ev = world.bastion.wait_audit(event="engineer.unlock",
                                  engineer="alice")
    assert ev["via"] == "bastionctl" and ev["locked_by"] == "bob", ev
    r = p["alice"].ssh("ct-scanner", "echo back")
    assert r.returncode == 0 and r.stdout == "back\n", r.stderr
    again = p["bob"].ssh("unlock", "alice")
    assert again.returncode == 0
    assert "alice has no locked keys and no account lock" in again.stdout
    bad = p["bob"].ssh("unlock", "alice", "--account", "--reset-counter")
    assert bad.returncode == 2 and "--reset-counter" in bad.stderr


# -- vendors ---------------------------------------------------------------------

def test_vendors_table_and_json(cast):
    world, p = cast
    world.vendors["globex"]["approval"] = {
        "required": True, "second_approver": True, "max_grant": "2h",
        "windows": ["mon-fri 08:00-18:00"]}
    world.vendors["acme"]["description"] = "Acme Medical"
    world.device_entries["ct-scanner"]["forward_ports"] = [104, 8080]
    world.vendors["acme"]["engineers"][0]["enabled"] = False
    world.start_bastion()
    t = p["bob"].ssh("vendors")
    assert t.returncode == 0, t.stderr
    for want in ("vendor acme: Acme Medical", "127.0.1.0/24",
                 "ct-scanner", "127.0.1.10", "104,8080",
                 "vendor globex", "pacs", "127.0.2.10",
                 "required, four eyes, longest grant 2h, pre-approved "
                 "mon-fri 08:00-18:00", "not required"):
        assert want in t.stdout, (want, t.stdout)
    alice = [x for x in t.stdout.splitlines() if x.strip().startswith(
        "alice ")]
    assert alice and "disabled" in alice[0], t.stdout
    js = json.loads(p["bob"].ssh("vendors", "--json").stdout)
    assert [v["name"] for v in js] == ["acme", "globex"]
    acme, globex = js
    assert acme["segments"] == ["127.0.1.0/24"]
    assert acme["devices"][0]["forward_ports"] == [104, 8080]
    assert acme["devices"][0]["approval"]["required"] is False
    assert acme["engineers"][0]["enabled"] is False
    assert globex["approval"] == {"required": True,
                                  "second_approver": True,
                                  "max_grant": 7200,
                                  "windows": ["mon-fri 08:00-18:00"]}
    assert globex["engineers"][0]["name"] == "gina"
    assert globex["engineers"][0]["locked"] is False


# -- who may ---------------------------------------------------------------------

def test_engineers_and_auditors_cannot_run_console_verbs(site):
    world, p = site
    proc, sid = live_session(world, p["gina"], device="pacs")
    for args in (("sessions",), ("kill", sid), ("watch", sid),
                 ("lock", "gina"), ("vendors",)):
        r = p["alice"].ssh(*args)
        assert r.returncode != 0
        assert 'may not reach "%s"' % args[0] in r.stderr, r.stderr
    r = p["carol"].ssh("kill", sid)
    assert r.returncode != 0 and "auditor console" in r.stderr
    # gina's session is untouched
    assert not world.bastion.audit_events(event="session.killed")
    assert [s["sid"] for s in sessions_json(p["bob"])] == [int(sid)]
    hang_up(proc)


# -- the registry is crash-safe ------------------------------------------------

def test_worker_killed_marks_row_and_restart_closes_leftovers(site):
    world, p = site
    proc, sid = live_session(world, p["alice"])
    [s] = sessions_json(p["bob"])
    os.kill(s["pid"], signal.SIGKILL)
    finish(proc, timeout=20)
    row = wait_ended(p["bob"], sid)
    assert row["end_reason"] == "worker killed by signal 9"
    # a row an earlier bastiond left open (as after a crash)
    world.bastion.stop()
    state_sql(world.bastion, "INSERT INTO session(sid, pid, engineer, "
              "vendor, device, source, started, recording) VALUES (9999, "
              "1, 'alice', 'acme', 'ct-scanner', '127.0.0.1', 1, "
              "'/nowhere.brec')")
    world.bastion.start()
    world.bastion.wait_log("session 9999 .* left open by an earlier "
                           "bastiond")
    rows = {s["sid"]: s for s in sessions_json(p["bob"], "--all")}
    assert rows[9999]["ended"] and \
        rows[9999]["end_reason"] == "bastiond restarted"
    assert sessions_json(p["bob"]) == []
