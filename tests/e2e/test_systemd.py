"""bastiond as a systemd service, without systemd: the notification
protocol, SIGHUP reload, and the external recorder.

This machine runs no systemd as PID 1, so the units themselves are only
checked statically (test_install.py). What bastiond does for them is
checked for real here:

- sd_notify: bastiond runs with NOTIFY_SOCKET naming a datagram socket
  this test listens on (SO_PASSCRED, so every message carries its
  sender's pid, as systemd sees it): READY=1 only once the listen address
  and the recorder answer, STATUS= with the connections, WATCHDOG=1 at
  half of WATCHDOG_USEC, RELOADING=1 then READY=1 around a reload,
  STOPPING=1; and nothing from any other process (NotifyAccess=main).
- SIGHUP: a valid policy is adopted (a listener limit changes at once, a
  new engineer gets in) and a broken one is refused with FILE:LINE
  problems in the log while bastiond and running sessions go on.
- paths.recorder_socket: bastiond starts no recorder, waits for the
  external one (bastion-recorder.service in production), records there,
  and refuses to serve without it.
"""

import os
import pathlib
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from harness import util

DENIED = "Permission denied"


# -- a systemd notification socket -------------------------------------------

class NotifySocket:
    """What systemd does with NOTIFY_SOCKET: a datagram socket with
    SO_PASSCRED. Messages are kept as (pid, {KEY: value}, monotonic time);
    on_ready(fields) runs in the receiving thread as READY=1 arrives, so a
    test can look at the world at that very moment."""

    def __init__(self, on_ready=None):
        self.dir = util.short_tmpdir("bst-ntf-")
        self.path = str(self.dir / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.on_ready = on_ready
        self.ready_checks = []
        self.msgs = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        size = struct.calcsize("3i")
        while self.running:
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    4096, socket.CMSG_SPACE(size))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, payload in anc:
                if (level == socket.SOL_SOCKET and
                        kind == socket.SCM_CREDENTIALS):
                    pid = struct.unpack("3i", payload[:size])[0]
            fields = dict(line.split("=", 1) for line in
                          data.decode().split("\n") if "=" in line)
            if "READY" in fields and self.on_ready is not None:
                self.ready_checks.append(self.on_ready(fields))
            with self.lock:
                self.msgs.append((pid, fields, time.monotonic()))

    def env(self, watchdog_usec=None, watchdog_pid=None):
        env = {"NOTIFY_SOCKET": self.path}
        if watchdog_usec is not None:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        if watchdog_pid is not None:
            env["WATCHDOG_PID"] = str(watchdog_pid)
        return env

    def messages(self, key=None):
        with self.lock:
            return [m for m in self.msgs if key is None or key in m[1]]

    def mark(self):
        """A point in the message list, for wait(since=...)."""
        with self.lock:
            return len(self.msgs)

    def wait(self, pred, timeout=10.0, what="a notification", since=0):
        """Wait until pred(fields) holds for a message after the first
        `since` ones; return it as (pid, fields, time)."""
        seen = [since]

        def found():
            msgs = self.messages()
            for m in msgs[seen[0]:]:
                if pred(m[1]):
                    return m
            seen[0] = len(msgs)
            return None
        return util.wait_until(found, timeout, what=lambda: "%s; got %r" % (
            what, [m[1] for m in self.messages()]))

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def notify():
    n = NotifySocket()
    yield n
    n.close()


def status_is(text):
    return lambda f: f.get("STATUS") == text


def hup(bastion):
    os.kill(bastion.pid, signal.SIGHUP)


def silent_connection(bastion):
    """A TCP connection that never speaks: it stays unauthenticated."""
    s = socket.create_connection((bastion.addr, bastion.port), timeout=5)
    s.settimeout(5)
    assert s.recv(64).startswith(b"SSH-2.0-")
    return s


def third_is_refused(bastion, notify, held, status):
    """With a cap of 2 and the two silent connections held: a third is
    refused; then held are closed and STATUS= comes to status (a
    predicate)."""
    try:
        silent_connection(bastion).close()
    except (OSError, AssertionError):
        pass
    ev = bastion.wait_audit(event="conn.refused")
    assert ev["reason"] == "too many unauthenticated connections"
    start = notify.mark()
    for s in held:
        s.close()
    notify.wait(status, since=start,
                what="STATUS= once the silent connections are gone")


def without_engineer(policy, name):
    for v in policy["vendors"]:
        v["engineers"] = [e for e in v["engineers"] if e["name"] != name]
    return policy


# -- sd_notify ---------------------------------------------------------------

@pytest.mark.timeout(120)
def test_notify_ready_status_watchdog_reload_stopping(cast, notify):
    world, p = cast
    b = world.bastion
    rec_sock = b.run_dir / "recorder.sock"

    def world_at_ready(fields):
        # READY=1 means: the recorder answers and vendors can connect
        try:
            socket.create_connection((b.addr, b.port), timeout=2).close()
            tcp = True
        except OSError:
            tcp = False
        r = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            r.connect(str(rec_sock))
            rec = True
        except OSError:
            rec = False
        finally:
            r.close()
        return tcp, rec

    notify.on_ready = world_at_ready
    world.start_bastion(extra_env=notify.env(watchdog_usec=400000))
    pid = b.pid
    notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
    assert notify.ready_checks[0] == (True, True), \
        "READY=1 came before the listener or the recorder was up"

    # STATUS= follows the connections (the harness's own probe included)
    notify.wait(status_is("0 connections, 0 authenticated"))
    child = p["alice"].spawn("ct-scanner")
    child.expect(r"session \d+: ct-scanner")
    notify.wait(status_is("1 connection, 1 authenticated"),
                what="STATUS= for one session")
    quiet = silent_connection(b)
    notify.wait(status_is("2 connections, 1 authenticated"),
                what="STATUS= for a session and a connection")
    start = notify.mark()
    quiet.close()
    child.sendline("exit")
    child.expect(pexpect_eof())
    notify.wait(status_is("0 connections, 0 authenticated"), since=start,
                what="STATUS= back to 0")

    # WATCHDOG=1 about every 200 ms (half of WATCHDOG_USEC): four more
    n = len(notify.messages("WATCHDOG"))
    pings = util.wait_until(lambda: len(notify.messages("WATCHDOG")) >=
                            n + 4 and [m[2] for m in
                                       notify.messages("WATCHDOG")],
                            5, what="four more WATCHDOG=1")
    gaps = [b2 - a for a, b2 in zip(pings, pings[1:])]
    assert max(gaps[-3:]) < 0.4, gaps

    # SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1 again
    n_ready = len(notify.messages("READY"))
    start = notify.mark()
    hup(b)
    rel = notify.wait(lambda f: f.get("RELOADING") == "1", what="RELOADING",
                      since=start)
    assert int(rel[1]["MONOTONIC_USEC"]) > 0
    again = notify.wait(lambda f: f.get("READY") == "1",
                        what="READY=1 after the reload", since=start)
    assert again[2] >= rel[2]
    b.wait_audit(event="policy.reloaded")

    # SIGTERM: STOPPING=1
    b.stop()
    notify.wait(lambda f: f.get("STOPPING") == "1", what="STOPPING=1")

    # NotifyAccess=main: workers and the recorder (which would send its
    # own READY=1) never saw NOTIFY_SOCKET
    senders = {m[0] for m in notify.messages()}
    assert senders == {pid}, senders
    assert len([m for m in notify.messages("READY")]) == n_ready + 1


def pexpect_eof():
    import pexpect
    return pexpect.EOF


@pytest.mark.timeout(60)
def test_watchdog_only_for_its_pid(world, bastiond_bin, notify):
    """WATCHDOG_PID naming another process turns the watchdog off (as
    sd_watchdog_enabled(3) says), without disturbing READY=1."""
    world.start_bastion(extra_env=notify.env(watchdog_usec=100000,
                                             watchdog_pid=1))
    notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
    # time is the subject: six intervals of a 100 ms watchdog pass quiet
    time.sleep(0.6)
    assert notify.messages("WATCHDOG") == []


@pytest.mark.timeout(60)
def test_unusable_notify_socket_is_reported_not_fatal(world, bastiond_bin):
    """A NOTIFY_SOCKET bastiond cannot use (systemd 253's vsock form, say)
    is logged once; bastiond serves all the same."""
    world.start_bastion(extra_env={"NOTIFY_SOCKET": "vsock:2:9999"})
    util.read_banner(world.bastion.addr, world.bastion.port)
    world.bastion.wait_log(r"NOTIFY_SOCKET=vsock:2:9999 is not a Unix "
                           r"socket path; notifications to systemd are off")
    assert world.bastion.running


# -- SIGHUP ------------------------------------------------------------------

@pytest.mark.timeout(120)
def test_reload_adopts_a_valid_policy(cast, notify):
    """A new engineer and a tighter pre-authentication cap: after SIGHUP
    the listener applies the new cap at once and the new engineer gets in;
    the session that was running goes on."""
    world, p = cast
    b = world.bastion
    pol = without_engineer(world.policy(), "alice")
    world.start_bastion(pol, extra_env=notify.env())
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 255 and DENIED in r.stderr

    running = p["gina"].spawn("pacs")
    running.expect(r"session \d+: pacs")

    # before: two silent connections are nothing for a cap of 20
    held = [silent_connection(b) for _ in range(2)]
    extra = silent_connection(b)
    extra.close()
    assert b.audit_events(event="conn.refused") == []

    pol = world.policy()            # alice is back
    pol["limits"] = {"max_unauthenticated": 2}
    b.write_policy(pol)
    # written is not adopted: workers get the listener's policy, not the
    # file (bastiond --policy-fd), so until the reload alice stays out
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 255 and DENIED in r.stderr
    hup(b)
    ev = b.wait_audit(event="policy.reloaded")
    assert len(ev["sha256"]) == 64
    assert ev["vendors"] == "2" and ev["devices"] == "2"
    assert "policy reload" not in b.log()      # nothing needed a restart

    # the listener's own limit: with 2 unauthenticated, a third is dropped
    third_is_refused(b, notify, held,
                     status_is("1 connection, 1 authenticated"))

    # the new engineer
    r = p["alice"].ssh("ct-scanner", "echo reloaded-$((40+2))")
    assert r.returncode == 0, r.stderr
    assert "reloaded-42" in r.stdout

    # the session from before the reload still runs
    running.sendline("echo still-$((1+1))")
    running.expect("still-2")
    running.sendline("exit")
    running.expect(pexpect_eof())


@pytest.mark.timeout(120)
def test_reload_refuses_a_broken_policy(cast, notify):
    """A policy with a problem: FILE:LINE in the log, an audit event, the
    policy in force stays (its limits too), bastiond and its sessions go
    on; once the file is fixed a reload succeeds."""
    world, p = cast
    b = world.bastion
    good = world.policy()
    good["limits"] = {"max_unauthenticated": 2}
    world.start_bastion(good, extra_env=notify.env())
    notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
    running = p["alice"].spawn("ct-scanner")
    running.expect(r"session \d+: ct-scanner")

    broken = world.policy()
    broken["limits"] = {"max_unauthenticated": 50}
    for d in broken["devices"]:
        if d["name"] == "pacs":
            d["address"] = "127.0.9.10"     # outside globex's segment
    path = b.write_policy(broken)
    start = notify.mark()
    hup(b)
    ev = b.wait_audit(event="policy.reload_failed")
    assert int(ev["problems"]) >= 1
    assert "outside the segments" in ev["reason"]
    m = b.wait_log(re.escape(str(path)) + r":(\d+): device \"pacs\" address "
                   r"127\.0\.9\.10 is outside the segments")
    assert int(m.group(1)) > 0
    assert "the policy loaded before stays in force" in b.log()
    notify.wait(lambda f: f.get("RELOADING") == "1", since=start,
                what="RELOADING=1 for the failed reload")
    notify.wait(lambda f: f.get("READY") == "1", since=start,
                what="READY=1 after the failed reload")
    notify.wait(lambda f: "reload failed" in f.get("STATUS", ""),
                since=start, what="STATUS= saying the reload failed")
    assert b.running
    assert b.audit_events(event="policy.reloaded") == []

    # the old cap (2) still applies, not the broken file's 50
    held = [silent_connection(b) for _ in range(2)]
    third_is_refused(b, notify, held, lambda f: f.get("STATUS", "").startswith(
        "1 connection, 1 authenticated; policy reload failed"))

    # new sessions are served, under the policy in force: workers do not
    # read the broken file
    r = p["gina"].ssh("pacs", "echo new-$((2*4))")
    assert r.returncode == 0, r.stderr
    assert "new-8" in r.stdout

    # the running session was not disturbed
    running.sendline("echo alive-$((3*3))")
    running.expect("alive-9")

    # fixed: the reload goes through and the note goes away
    b.write_policy(good)
    start = notify.mark()
    hup(b)
    b.wait_audit(event="policy.reloaded")
    notify.wait(lambda f: f.get("READY") == "1", since=start,
                what="READY=1 after the good reload")
    last = [m[1]["STATUS"] for m in notify.messages("STATUS")][-1]
    assert last == "1 connection, 1 authenticated", last
    running.sendline("exit")
    running.expect(pexpect_eof())


@pytest.mark.timeout(60)
def test_reload_warns_what_needs_a_restart(world, bastiond_bin):
    b = world.bastion
    world.start_bastion()
    pol = world.policy()
    other = util.free_port("127.0.0.1")
    pol["listen"] = ["127.0.0.1:%d" % other]
    b.write_policy(pol)
    b.policy["listen"] = world.listen        # bastiond still listens there
    hup(b)
    b.wait_audit(event="policy.reloaded")
    b.wait_log(r"'listen' changed, but bastiond keeps listening where it "
               r"did until it is restarted \(systemctl restart bastiond")
    assert util.port_is_free("127.0.0.1", other)
    util.read_banner(b.addr, b.port)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("change", ["state_dir", "recordings_dir",
                                    "admin_group", "store"])
def test_reload_refuses_what_only_a_restart_can_change(world, bastiond_bin,
                                                      tmp_path, change):
    """Moving the state or the recordings, or changing who may use
    bastionctl, would leave the listener, the recorder and the control
    socket on the old values: such a reload is refused as a whole, and
    the policy in force (here: its device list) stays."""
    b = world.bastion
    world.start_bastion()
    pol = world.policy()
    if change == "admin_group":
        pol["admin_group"] = "some-other-group"
    elif change == "store":     # another database (docs/SCALE-OUT.md)
        pol["store"] = {"backend": "postgresql",
                        "conninfo": "host=/nonexistent dbname=elsewhere"}
    else:
        pol["paths"][change] = str(tmp_path / ("moved-" + change))
    pol["devices"] = [d for d in pol["devices"] if d["name"] != "pacs"]
    b.write_policy(pol)
    hup(b)
    ev = b.wait_audit(event="policy.reload_failed")
    assert change in ev["reason"] and "restart" in ev["reason"], ev
    assert not b.audit_events(event="policy.reloaded")
    b.wait_log(r"policy reload refused: .*%s changed" %
               ("store.conninfo" if change == "store" else change))


# -- the external recorder (bastion-recorder.service) ------------------------

class ExternalRecorder:
    """bastion-recorder started apart from bastiond, as its unit does."""

    def __init__(self, build_dir, root):
        self.bin = build_dir / "bastion-recorder"
        self.dir = pathlib.Path(root)
        self.key = self.dir / "recorder.key"
        self.recdir = self.dir / "recordings"
        self.recdir.mkdir(parents=True)
        self.sock = util.short_tmpdir("bst-xrec-") / "recorder.sock"
        self.log = self.dir / "recorder.log"
        util.run([self.bin, "--init", "-k", self.key])
        self.proc = None

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(self.bin), "-k", str(self.key), "-d", str(self.recdir),
             "-s", str(self.sock), "-u", str(os.getuid()), "-D"],
            stdout=self.logf, stderr=self.logf)

        def listening():
            assert self.proc.poll() is None, self.log.read_text()
            return self.sock.exists()
        util.wait_until(listening, 10, interval=0.02,
                        what=lambda: self.log.read_text())
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.logf.close()


@pytest.fixture
def xrec(tmp_path, build_dir):
    r = ExternalRecorder(build_dir, tmp_path / "xrec")
    yield r
    r.stop()


def external_policy(world, xrec):
    pol = world.policy()
    pol["paths"]["recorder_socket"] = str(xrec.sock)
    pol["paths"]["recordings_dir"] = str(xrec.recdir)
    return pol


@pytest.mark.timeout(120)
def test_external_recorder_records_and_bastiond_starts_none(
        cast, xrec, build_dir):
    world, p = cast
    b = world.bastion
    xrec.start()
    world.start_bastion(external_policy(world, xrec))
    # --init leaves the recorder's key to the recorder
    assert "the recording signing key belongs to the recorder" in b.log()
    assert not (b.state_dir / "recorder.key").exists()
    assert not (b.run_dir / "recorder.sock").exists()
    kids = [util.pid_cmdline(k) for k in util.children_of(b.pid)]
    assert not any("bastion-recorder" in k for k in kids), kids

    r = p["alice"].ssh("ct-scanner", "echo recorded-$((5*5))")
    assert r.returncode == 0, r.stderr
    ev = b.wait_audit(event="session.recording", user="alice")
    assert ev["path"].startswith(str(xrec.recdir)), ev
    b.wait_audit(event="session.end", user="alice")
    recs = list(xrec.recdir.rglob("*.brec"))
    assert len(recs) == 1, recs

    def verify():
        return util.run([build_dir / "bastion-verify", "-k",
                         str(xrec.key) + ".pub", recs[0]], check=False)
    # sealed once the recorder saw CLOSE
    util.wait_until(lambda: verify().returncode == 0, 10, interval=0.2,
                    what=lambda: "a sealed recording: %r" % (verify(),))


@pytest.mark.timeout(60)
def test_external_recorder_down_no_service(world, bastiond_bin, xrec,
                                           notify):
    """Fail closed: with nobody on paths.recorder_socket bastiond never
    listens and never says READY=1."""
    b = world.bastion
    b.write_policy(external_policy(world, xrec))
    with pytest.raises(util.HarnessError):
        b.start(extra_env=notify.env(), timeout=20)
    assert b.returncode not in (0, None)
    log = b.log()
    assert "no recorder answers on %s" % xrec.sock in log
    assert "systemctl start bastion-recorder" in log
    assert notify.messages("READY") == []
    assert util.port_is_free(b.addr, b.port)


@pytest.mark.timeout(60)
def test_recorder_socket_is_checked(world, bastiond_bin):
    b = world.bastion
    pol = world.policy()
    pol["paths"]["recorder_socket"] = "/run/" + "x" * 120 + "/r.sock"
    path = b.write_policy(pol)
    r = b.check_policy()
    assert r.returncode == 1
    assert "%s:" % path in r.stderr
    assert "recorder_socket is longer than a Unix socket name may be" \
        in r.stderr
