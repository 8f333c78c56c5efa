"""Session workers are sandboxed before they relay (issue 8 item 3).

Each vendor connection is served by a re-executed bastiond worker. Before
it relays, it closes every descriptor it does not need, drops from root to
the policy's worker_user, sets no_new_privs and installs a seccomp
allowlist. These tests look at a live worker from /proc, and make one
worker break the filter (a test hook, enabled only by an environment
variable of bastiond) to show that only that worker dies and the event is
audited.
"""
import os
import pwd
import subprocess
import uuid

import pytest

from harness import util


def live_worker(world, person, marker):
    """Start a session on ct-scanner through the bastion that waits for a
    line on its stdin, then says "done"; return (proc, pid) of the ssh
    client and the worker serving it, once it relays. The test ends it
    with proc.communicate("go\n")."""
    proc = person.popen("ct-scanner", "echo %s; read go; echo done" %
                        marker, stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    assert proc.stdout.readline().strip() == marker
    ev = world.bastion.wait_audit(event="session.start",
                                  user=person.name) \
        if world.bastion.audit_events(event="session.start") else None

    def sandboxed():
        for pid in util.worker_pids(world.bastion):
            if util.proc_status(pid).get("Seccomp") == "2":
                return pid
        return None
    return proc, util.wait_until(sandboxed, 10, interval=0.1, what=(
        "a sandboxed worker (event %r)" % (ev,)))


def fd_targets(pid):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="demotion needs root")
def test_worker_is_demoted_and_filtered(site):
    world, p = site
    proc, pid = live_worker(world, p["alice"], "sbx-1")
    st = util.proc_status(pid)
    want = pwd.getpwnam("bastion").pw_uid if _has_user("bastion") else \
        pwd.getpwnam("nobody").pw_uid
    assert st["Uid"].split() == [str(want)] * 4, st["Uid"]
    assert st["Gid"].split()[0] != "0"
    assert st["Groups"] == ""
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    assert st["CapEff"] == "0000000000000000"
    # what is left open: stdio and the log, sockets (vendor, device,
    # recorder, monitor), the relay loop's own descriptors; no host key,
    # device credential, state store, recording or audit chain (its
    # events go through the listener)
    targets = fd_targets(pid)
    files = [t for t in targets if t.startswith("/")]
    for t in files:
        assert t in ("/dev/null", str(world.bastion.logfile)), \
            "\n".join(targets)
    assert sum(t.startswith("socket:") for t in targets) == 4, targets
    assert len(targets) <= 16, "\n".join(targets)
    out, err = proc.communicate("go\n", timeout=40)
    assert proc.returncode == 0 and out.strip() == "done", err


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def worker_account():
    name = "bstwrk" + uuid.uuid4().hex[:6]
    subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin",
                    name], check=True)
    yield name
    subprocess.run(["userdel", name], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="demotion needs root")
def test_worker_user_from_the_policy(cast, worker_account):
    world, p = cast
    world.top["worker_user"] = worker_account
    world.start_bastion()
    proc, pid = live_worker(world, p["alice"], "sbx-2")
    uid = pwd.getpwnam(worker_account).pw_uid
    assert util.proc_status(pid)["Uid"].split() == [str(uid)] * 4
    proc.kill()
    proc.wait()


@pytest.mark.skipif(os.geteuid() != 0, reason="demotion needs root")
def test_missing_worker_user_falls_back_to_nobody(cast):
    world, p = cast
    world.top["worker_user"] = "no-such-user-here"
    world.start_bastion()
    proc, pid = live_worker(world, p["alice"], "sbx-3")
    assert util.proc_status(pid)["Uid"].split()[0] == \
        str(pwd.getpwnam("nobody").pw_uid)
    world.bastion.wait_log(r"worker_user no-such-user-here does not exist")
    proc.kill()
    proc.wait()


def use_testhooks(world, build_dir):
    """Run bastiond-testhooks (bastiond with the test hooks compiled in,
    built by `make tests`, never installed) instead of bastiond."""
    hooks = build_dir / "bastiond-testhooks"
    if not hooks.exists():
        pytest.fail("%s is missing: `make tests` builds it" % hooks)
    world.bastion.binary = hooks


@pytest.mark.skipif(os.geteuid() != 0, reason="demotion needs root")
def test_missing_worker_user_is_said_once_not_per_session(cast):
    """The demo (and a test machine) has no `bastion` user: the listener
    says so once at start, and sessions do not repeat it (issue 15,
    item 7)."""
    world, p = cast
    world.top["worker_user"] = "no-such-user-here"
    world.start_bastion()
    for i in range(3):
        r = p["alice"].ssh("ct-scanner", "echo once-%d" % i)
        assert r.returncode == 0 and r.stdout == "once-%d\n" % i, r.stderr
    world.bastion.wait_audit(event="session.end", user="alice", after=2)
    ends = world.bastion.audit_events(event="session.end", user="alice")
    assert len(ends) == 3
    said = [ln for ln in world.bastion.log().splitlines()
            if "no-such-user-here does not exist" in ln and
            "debug" not in ln.lower()]
    assert len(said) == 1, said


def test_forbidden_system_call_kills_only_that_worker(cast, build_dir):
    world, p = cast
    use_testhooks(world, build_dir)
    world.start_bastion(extra_env={"BASTION_SANDBOX_SELFTEST": "1"})
    # a session that keeps running next to the one that breaks the rules
    other, _ = live_worker(world, p["alice"], "sbx-4")
    r = p["alice"].ssh("ct-scanner", "bastion-sandbox-selftest")
    assert r.returncode != 0
    ev = world.bastion.wait_audit(event="worker.sandbox_violation")
    assert "seccomp" in ev["reason"]
    # the forbidden call did not happen: no "true" ran, and the neighbour
    # session is intact and ends normally
    out, err = other.communicate("go\n", timeout=40)
    assert other.returncode == 0 and out.strip() == "done", err
    # and the bastion still serves
    r = p["alice"].ssh("ct-scanner", "echo after")
    assert r.returncode == 0 and r.stdout == "after\n", r.stderr
    # the session row (registry) says how it ended, for admins
    assert world.bastion.running


def test_selftest_hook_is_off_by_default(site):
    """Without bastiond's environment switch the magic command is just a
    command for the device, and nothing is killed."""
    world, p = site
    r = p["alice"].ssh("ct-scanner", "bastion-sandbox-selftest")
    assert r.returncode == 127        # the device has no such program
    assert not world.bastion.audit_events(
        event="worker.sandbox_violation")


def test_selftest_hook_is_not_in_bastiond(cast):
    """bastiond proper has no hook at all: even with the switch in its
    environment the magic command goes to the device."""
    world, p = cast
    world.start_bastion(extra_env={"BASTION_SANDBOX_SELFTEST": "1",
                                   "BASTION_PRIVSEP_SELFTEST": "1"})
    r = p["alice"].ssh("ct-scanner", "bastion-sandbox-selftest")
    assert r.returncode == 127        # the device has no such program
    assert not world.bastion.audit_events(
        event="worker.sandbox_violation")


def test_relayed_audit_events_reach_the_chain(site, build_dir):
    """The sandboxed worker's events (here session.end) are appended to
    the chain by the listener, once, with the worker's pid, and the chain
    verifies."""
    world, p = site
    r = p["alice"].ssh("ct-scanner", "echo relayed")
    assert r.returncode == 0 and r.stdout == "relayed\n", r.stderr
    start = world.bastion.wait_audit(event="session.start", user="alice")
    end = world.bastion.wait_audit(event="session.end", user="alice")
    assert end["pid"] == start["pid"]           # the worker's own
    assert ":" in end["chain"]                  # a chain witness SEQ:HASH
    assert len(world.bastion.audit_events(event="session.end",
                                          user="alice")) == 1
    chain = (world.bastion.state_dir / "audit.log").read_text()
    lines = [l for l in chain.splitlines() if "event=session.end " in l]
    assert len(lines) == 1 and "pid=%s " % start["pid"] in lines[0]
    v = subprocess.run([str(build_dir / "bastion-verify"), "--audit",
                        str(world.bastion.state_dir / "audit.log")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    assert v.returncode == 0, v.stdout + v.stderr
