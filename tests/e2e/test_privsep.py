"""Privilege separation from the first byte (issue 14).

Each vendor connection has a privileged monitor and a confined child
(bastion/privsep.h). The child alone holds the vendor's socket, and it is
demoted, without capabilities, with no_new_privs and a seccomp filter
before it reads the first byte.

1. /proc: every process that holds the server end of a vendor's TCP
   connection (found by the socket's inode, whoever holds it: listener,
   monitor or child) is not root, has no capability, NoNewPrivs 1 and
   Seccomp 2, for a connection waiting at the secret prompt, one that
   never said a word, an engineer's shell, a forward, an admin's `watch`
   and an auditor's `export`.
2. A compromised child: bastiond-testhooks (bastiond with
   -DBASTION_TEST_HOOKS, built by `make tests`, never installed) runs
   privsep_selftest() in the child just after the relay registered, when
   BASTION_PRIVSEP_SELFTEST=1 is in its environment and the session's
   command is "bastion-privsep-selftest WHAT ARGS". Each escape of the
   issue is refused and audited.
"""
import os
import re
import socket
import subprocess

import pytest

from harness import util

SELFTEST = "bastion-privsep-selftest"


# -- finding who holds the vendor's socket ----------------------------------

def _tcp_table():
    """inode -> (local (addr, port), remote (addr, port)) for every TCP
    socket of this network namespace."""
    out = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    w = line.split()
                    la, lp = w[1].rsplit(":", 1)
                    ra, rp = w[2].rsplit(":", 1)
                    out[int(w[9])] = ((la, int(lp, 16)), (ra, int(rp, 16)))
        except OSError:
            pass
    return out


def _socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]$", t)
            if m:
                inodes.add(int(m.group(1)))
    except OSError:
        pass
    return inodes


def holders_of_client_port(bastion_port, client_port):
    """PIDs of every process holding the server end of the connection
    from client_port to the bastion's port."""
    table = _tcp_table()
    server = {ino for ino, (l, r) in table.items()
              if l[1] == bastion_port and r[1] == client_port and ino != 0}
    assert server, "no server socket for client port %d" % client_port
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit() and _socket_inodes(int(d)) & server:
            pids.append(int(d))
    return pids


def client_ports_of(pid, bastion_port):
    """Local ports of pid's TCP connections to the bastion's port."""
    table = _tcp_table()
    return [table[i][0][1] for i in _socket_inodes(pid)
            if i in table and table[i][1][1] == bastion_port]


def wait_holders(world, client_pid=None, client_port=None, timeout=15):
    """The holders of one client connection, once there is one."""
    port = world.bastion.port

    def holders():
        ports = [client_port] if client_port else \
            client_ports_of(client_pid, port)
        for cp in ports:
            try:
                pids = holders_of_client_port(port, cp)
            except AssertionError:
                continue
            if pids:
                return pids
        return None
    return util.wait_until(holders, timeout, interval=0.1, what="a process "
                           "holding the bastion's end of the connection")


def assert_confined(pids, what):
    assert pids, what
    for pid in pids:
        st = util.proc_status(pid)
        assert st, "%s: pid %d is gone" % (what, pid)
        desc = "%s: pid %d (%s)" % (what, pid, util.pid_cmdline(pid))
        assert "0" not in st["Uid"].split(), (desc, st["Uid"])
        assert st["CapEff"] == "0000000000000000", (desc, st["CapEff"])
        assert st["CapPrm"] == "0000000000000000", (desc, st["CapPrm"])
        assert st["NoNewPrivs"] == "1", desc
        assert st["Seccomp"] == "2", desc


def _end(proc):
    """Kill a client the test started, if it still runs, and reap it (None:
    it was never started)."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()


needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="demotion needs root")


@needs_root
def test_unauthenticated_connections_are_confined(site):
    """A client that never spoke, one that sent only its version, and an
    engineer waiting at the secret prompt: the bastion's end is held by a
    demoted, filtered child only."""
    world, p = site
    silent = socket.create_connection((world.bastion.addr,
                                       world.bastion.port), timeout=10)
    talking = socket.create_connection((world.bastion.addr,
                                        world.bastion.port), timeout=10)
    prompt = None
    try:
        talking.sendall(b"SSH-2.0-OpenSSH_9.2 privsep-test\r\n")
        assert talking.recv(64).startswith(b"SSH-2.0-")
        assert_confined(wait_holders(
            world, client_port=talking.getsockname()[1]), "version sent")
        # silent: the listener waits 100 ms for the first bytes, then a
        # worker from the shared pool takes it and speaks first
        silent.settimeout(10)
        assert silent.recv(64).startswith(b"SSH-2.0-")
        assert_confined(wait_holders(
            world, client_port=silent.getsockname()[1]), "silent client")
        # an engineer whose key signed, at the secret prompt (an askpass
        # that takes its time)
        p["alice"].askpass.write_text("#!/bin/sh\nsleep 60\n")
        prompt = p["alice"].popen("ct-scanner", "true",
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        world.bastion.wait_audit(event="auth.factor", factor="publickey",
                                 user="alice", result="ok")
        assert_confined(wait_holders(world, client_pid=prompt.pid),
                        "at the secret prompt")
    finally:
        silent.close()
        talking.close()
        _end(prompt)


@needs_root
def test_engineer_shell_is_confined(site):
    world, p = site
    sh = p["alice"].spawn("ct-scanner", timeout=20)
    try:
        sh.expect(r"session (\d+): ct-scanner")
        sh.sendline("echo shell-$((6*7))")
        sh.expect("shell-42")
        assert_confined(wait_holders(world, client_pid=sh.pid),
                        "engineer's shell")
    finally:
        sh.close(force=True)


@needs_root
def test_forward_is_confined(cast):
    world, p = cast
    # a forward-only connection carries no agent request for a touch
    world.vendors["acme"]["touch"] = "off"
    web = world.devices["ct-scanner"].serve_http(body="CT service page")
    world.device_entries["ct-scanner"]["forward_ports"] = [web.port]
    world.start_bastion()
    fwd, lport = p["alice"].forward("ct-scanner", web.port)
    try:
        assert b"CT service page" in util.http_get(lport)
        world.bastion.wait_audit(event="forward.open", result="ok")
        assert_confined(wait_holders(world, client_pid=fwd.pid),
                        "a forward")
    finally:
        _end(fwd)


@needs_root
def test_admin_watch_is_confined(site):
    world, p = site
    alice = p["alice"].spawn("ct-scanner", timeout=20)
    bob = None
    try:
        alice.expect(r"session (\d+): ct-scanner")
        sid = alice.match.group(1)
        world.bastion.wait_log(r"session %s: \S+ \(\S+\) on \S+ registered"
                               % sid)
        alice.sendline("echo before-$((2+3))")
        alice.expect("before-5")
        bob = p["bob"].spawn("watch", sid, timeout=20)
        bob.expect("before-5")
        alice.sendline("echo watched-$((6*7))")
        bob.expect("watched-42")
        assert_confined(wait_holders(world, client_pid=bob.pid),
                        "an admin's watch")
    finally:
        if bob is not None:
            bob.close(force=True)
        alice.close(force=True)


@needs_root
def test_auditor_export_is_confined(site):
    """An export larger than the SSH window stalls while nobody reads it:
    the auditor's connection is caught mid-export."""
    world, p = site
    r = p["alice"].ssh("ct-scanner",
                       "head -c 6000000 /dev/urandom | base64")
    assert r.returncode == 0, r.stderr
    rec = world.bastion.wait_audit(event="session.recording",
                                   user="alice")["recording"]
    world.bastion.wait_audit(event="recording.sealed", session=rec,
                             timeout=30)
    exp = p["carol"].popen("export", rec, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    try:
        world.bastion.wait_audit(event="recording.access", user="carol",
                                 timeout=30)
        assert_confined(wait_holders(world, client_pid=exp.pid),
                        "an auditor's export")
        out, err = exp.communicate(timeout=120)
        assert exp.returncode == 0, err
        assert len(out) > 1000000
    finally:
        _end(exp)


# -- a compromised child -------------------------------------------------------

@pytest.fixture
def hooked(cast, build_dir):
    """The standard site on bastiond-testhooks with the privsep hook on."""
    world, p = cast
    hooks = build_dir / "bastiond-testhooks"
    if not hooks.exists():
        pytest.fail("%s is missing: `make tests` builds it" % hooks)
    world.bastion.binary = hooks
    world.start_bastion(extra_env={"BASTION_PRIVSEP_SELFTEST": "1"})
    return world, p


def _session_of(world, user, n_before):
    """The session the client just had: its session.start, waited for
    (the log line may land just after the client has gone)."""
    ev = world.bastion.wait_audit(event="session.start", user=user,
                                  after=n_before)
    return ev["session"]


def selftest(world, person, *what):
    n = len(world.bastion.audit_events(event="session.start",
                                       user=person.name))
    r = person.ssh("ct-scanner", SELFTEST, *what, timeout=60)
    return r, _session_of(world, person.name, n)


def test_connect_to_another_vendors_device_is_refused(hooked):
    """The child makes a TCP connection itself: socket(AF_INET) is
    outside its filter, so it dies, and that is audited."""
    world, p = hooked
    pacs = util.segment_addr(2, 10)           # globex's device
    r, sid = selftest(world, p["alice"], "connect", pacs, "22")
    assert r.returncode != 0
    ev = world.bastion.wait_audit(event="worker.sandbox_violation",
                                  session=sid)
    assert "seccomp" in ev["reason"]
    assert "privsep selftest: connected" not in world.bastion.log()


def test_forward_to_another_vendors_device_is_refused(hooked):
    """The child asks the monitor for a connection the policy does not
    give its vendor: refused, audited, and the child killed."""
    world, p = hooked
    r, sid = selftest(world, p["alice"], "forward", "pacs", "22")
    assert r.returncode != 0
    ref = world.bastion.wait_audit(event="forward.refused", session=sid,
                                   by="monitor")
    assert ref["to"] == "pacs:22"
    v = world.bastion.wait_audit(event="monitor.violation", session=sid)
    assert v["request"] == "forward.connect"
    assert not world.bastion.audit_events(event="forward.open",
                                          session=sid)


def test_no_forward_after_an_admin_kill(cast, build_dir):
    """A compromised child that keeps the listener's K from its relay
    and then asks for a forward the policy gives gets none: the monitor
    holds the admin's decision itself (it does not rely on the child to
    end the session)."""
    world, p = cast
    web = world.devices["ct-scanner"].serve_http(body="CT service page")
    world.device_entries["ct-scanner"]["forward_ports"] = [web.port]
    world.bastion.binary = build_dir / "bastiond-testhooks"
    world.start_bastion(extra_env={"BASTION_PRIVSEP_SELFTEST": "1"})
    n = len(world.bastion.audit_events(event="session.start", user="alice"))
    proc = p["alice"].popen(
        "ct-scanner", "%s forward-after-kill ct-scanner %d" % (SELFTEST,
                                                              web.port),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        sid = world.bastion.wait_audit(event="session.start", user="alice",
                                       after=n, alive=proc)["session"]
        world.bastion.wait_log(r"privsep selftest: waiting for an admin")
        k = p["bob"].ssh("kill", sid, "test")
        assert k.returncode == 0, k.stderr
        m = world.bastion.wait_log(r"privsep selftest: after the decision "
                                   r"the monitor answered (\d+) ")
        assert m.group(1) != "0", m.group(0)        # MM_FWD_OK would be 0
        ev = world.bastion.wait_audit(event="forward.open", session=sid)
        assert ev["result"] == "fail", ev
        assert ev["reason"] == "the session is ending", ev
    finally:
        _end(proc)


def test_signal_another_worker_is_refused(hooked):
    """Every session's child has the same uid; kill() of another pid is
    outside the filter: the child dies, the other session goes on."""
    world, p = hooked
    # the other session waits for a line from us, then says done
    other = p["alice"].popen("ct-scanner", "echo up; read go; echo done",
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "up"
        victims = [pid for pid in util.worker_pids(world.bastion)
                   if util.proc_status(pid).get("Seccomp") == "2"]
        assert len(victims) == 1, victims
        r, sid = selftest(world, p["alice"], "signal", str(victims[0]))
        assert r.returncode != 0
        ev = world.bastion.wait_audit(event="worker.sandbox_violation",
                                      session=sid)
        assert "seccomp" in ev["reason"]
        assert util.pid_alive(victims[0])
        out, err = other.communicate("go\n", timeout=40)
        assert other.returncode == 0 and out.strip().endswith("done"), err
    finally:
        _end(other)


@pytest.mark.parametrize("what,why", [
    (("forge", "auth.result"), "an event this phase"),
    (("forge", "approval.approved"), "an event this phase"),
    (("forge-user", "bob"), "not the session's"),
])
def test_forged_audit_event_is_refused(hooked, what, why):
    """Events the child hands over are checked and stamped by the monitor:
    a decision's event, or one in another person's name, is refused,
    audited, never written, and the child killed."""
    world, p = hooked
    r, sid = selftest(world, p["alice"], *what)
    assert r.returncode != 0
    ev = world.bastion.wait_audit(event="monitor.audit_refused",
                                  session=sid)
    assert why in ev["reason"]
    assert ev["user"] == "alice"
    v = world.bastion.wait_audit(event="monitor.violation", session=sid)
    assert v["request"] == "audit"
    chain = (world.bastion.state_dir / "audit.log").read_text()
    assert "reason=forged" not in chain
    assert not [e for e in world.bastion.audit_events(session=sid)
                if e.get("user") == "bob"]


def test_second_recording_on_the_monitors_connection_is_refused(hooked):
    """The recorder connection the monitor opened is bound to its
    recording: an OPEN under another name on it is a protocol error, the
    connection fails and the session ends (fail closed); nothing is
    recorded in that name."""
    world, p = hooked
    r, sid = selftest(world, p["alice"], "reopen", "bob")
    world.bastion.wait_log(r"privsep selftest: a second OPEN sent")
    world.bastion.wait_log(r"protocol error: OPEN on an open recording")
    ev = world.bastion.wait_audit(event="session.recording_failed",
                                  session=sid, timeout=20)
    assert "OPEN on an open recording" in ev["reason"], ev
    world.bastion.wait_audit(event="session.end", session=sid, timeout=20)
    # the recorder started recordings for alice only (its own audit
    # events, from the OPENs it accepted)
    starts = world.bastion.audit_events(event="recording.start")
    assert [e for e in starts if e.get("engineer") == "alice"]
    assert not [e for e in starts if e.get("engineer") == "bob"]


def test_child_cannot_make_a_socket_to_the_recorder(hooked):
    world, p = hooked
    r, sid = selftest(world, p["alice"], "recorder-socket", "x")
    world.bastion.wait_log(r"privsep selftest: socket\(AF_UNIX\): "
                           r"Permission denied")
    assert "socket(AF_UNIX) made" not in world.bastion.log()


def test_child_events_are_stamped_by_the_monitor(site):
    """The child's session.end reaches the chain with the monitor's pid
    (the same as session.start, which the monitor wrote) and no chain
    position of the child's choosing."""
    world, p = site
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 0, r.stderr
    start = world.bastion.wait_audit(event="session.start", user="alice")
    end = world.bastion.wait_audit(event="session.end", user="alice")
    assert end["pid"] == start["pid"]
    workers = util.worker_pids(world.bastion)
    assert int(end["pid"]) not in workers   # that connection is over


@needs_root
def test_violation_ends_the_child_without_cap_kill(cast, build_dir,
                                                   tmp_path):
    """Under systemd bastiond is root without CAP_KILL (the unit's
    CapabilityBoundingSet): the monitor must still be able to kill a
    child of another uid that broke its rules."""
    world, p = cast
    wrapper = tmp_path / "bastiond-nokill"
    wrapper.write_text("#!/bin/sh\nexec setpriv --bounding-set -kill "
                       "%s \"$@\"\n" % (build_dir / "bastiond-testhooks"))
    wrapper.chmod(0o755)
    world.bastion.binary = wrapper
    world.start_bastion(extra_env={"BASTION_PRIVSEP_SELFTEST": "1"})
    st = util.proc_status(world.bastion.pid)
    assert int(st["CapBnd"], 16) & (1 << 5) == 0, st["CapBnd"]  # CAP_KILL
    r, sid = selftest(world, p["alice"], "forward", "pacs", "22")
    assert r.returncode != 0
    v = world.bastion.wait_audit(event="monitor.violation", session=sid)
    assert v["request"] == "forward.connect"
    world.bastion.wait_no_workers(timeout=15)


@needs_root
@pytest.mark.skipif(util.sanitized(), reason="sanitizer builds make the "
                    "child dumpable for LeakSanitizer (sandbox.c)")
def test_children_cannot_read_each_other(site):
    """Every session's child has the same uid, but none can read another's
    memory (host key, session keys) through /proc: the uid change left
    them not dumpable. Tried from a process of that same uid without any
    filter, which is more than a child may do."""
    world, p = site
    procs = [p["alice"].popen("ct-scanner", "echo up; sleep 20",
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        for pr in procs:
            assert pr.stdout.readline().strip() == "up"
        kids = [pid for pid in util.worker_pids(world.bastion)
                if util.proc_status(pid).get("Seccomp") == "2"]
        assert len(kids) == 2, kids
        st = util.proc_status(kids[0])
        uid, gid = st["Uid"].split()[0], st["Gid"].split()[0]
        assert uid != "0"
        for what in ("environ", "mem", "maps"):
            r = subprocess.run(
                ["setpriv", "--reuid", uid, "--regid", gid,
                 "--clear-groups", "--", "dd", "if=/proc/%d/%s" % (
                     kids[1], what), "of=/dev/null", "bs=4096", "count=1"],
                capture_output=True, text=True, timeout=10)
            assert r.returncode != 0, (what, r.stderr)
            assert "Permission denied" in r.stderr or \
                "Input/output error" in r.stderr, (what, r.stderr)
        # and as root (the control) it can: the test can fail
        r = subprocess.run(["cat", "/proc/%d/environ" % kids[1]],
                           capture_output=True, timeout=10)
        assert r.returncode == 0
    finally:
        for pr in procs:
            _end(pr)
