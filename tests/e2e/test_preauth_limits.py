"""Pre-authentication limits that strangers cannot turn against engineers.

Attacks from the network as an attacker would run them: raw sockets bound
to other loopback addresses (127.0.9.x, outside every vendor's sources)
that stay silent, send junk, or send an SSH identification and stall,
while the real OpenSSH client logs in from the vendors' source address
(127.0.0.1). docs/ARCHITECTURE.md, "Pre-authentication limits", describes
what is checked where.
"""

import re
import resource
import socket
import subprocess
import time

import pexpect
import pytest

from harness import util
from harness.client import Person

IDENT = b"SSH-2.0-attacker\r\n"
JUNK = b"GET / HTTP/1.1\r\nHost: bastion\r\n\r\n"
PENALTY_LINE = re.compile(rb"^bastion: too many failed logins from your "
                          rb"address; try again in (\d+) s\r\n$")


def slow():
    """Sanitized builds run several times slower."""
    return 3 if util.sanitized() else 1


def connect_from(world, src, send=None, timeout=10):
    """A TCP connection to the bastion from source address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((world.bastion.addr, world.bastion.port))
    if send:
        s.sendall(send)
    return s


def read_to_end(s, limit=4096):
    """What the server sends until it closes (a reset ends it too)."""
    return util.recv_all(s, limit)


def workers_gone(world, timeout=20):
    world.bastion.wait_no_workers(timeout)


def judged(world, src):
    """A silent connection from src, held until the listener has judged
    it (its wait for first bytes is over: a worker's banner, or a close).
    The listener judges in the order connections came, so every silent
    one made before it has been judged too."""
    s = connect_from(world, src, timeout=10 * slow())
    try:
        s.recv(64)
    except ConnectionResetError:
        pass
    s.close()


def more_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


# --- first bytes ------------------------------------------------------------

def test_junk_is_dropped_at_once_without_a_worker(site):
    """A client whose first bytes are not "SSH-" is closed at once: it never
    sees the server's identification and never costs a worker process."""
    world, p = site
    workers_gone(world)     # the readiness probe's
    t0 = time.monotonic()
    s = connect_from(world, "127.0.9.5", send=JUNK)
    data = read_to_end(s)
    s.close()
    assert data == b"", data        # not even the "SSH-2.0-" banner
    assert time.monotonic() - t0 < 2 * slow()
    ev = world.bastion.wait_audit(event="conn.refused", **{
        "from": "127.0.9.5"})
    assert "SSH identification" in ev["reason"]
    assert "connection from 127.0.9.5" not in world.bastion.log()


# --- per source -----------------------------------------------------------

def test_per_source_limit_answers_with_a_line(site):
    """One address outside the vendors' sources holds at most
    per_source_max_unauthenticated (default 10) unfinished logins; the next
    reads why, and other addresses and the engineers are unaffected."""
    world, p = site
    held = []
    try:
        for _ in range(10):         # identified, then stalling
            held.append(connect_from(world, "127.0.9.9", send=IDENT))
        for s in held:
            assert s.recv(64).startswith(b"SSH-2.0-")
        extra = connect_from(world, "127.0.9.9", send=IDENT)
        data = read_to_end(extra)
        extra.close()
        assert data.startswith(b"bastion: too many unfinished logins from "
                               b"your address"), data
        assert data.endswith(b"\r\n") and data.count(b"\n") == 1
        ev = world.bastion.wait_audit(event="conn.refused", **{
            "from": "127.0.9.9"})
        assert "source address" in ev["reason"]
        # another address is not affected
        other = connect_from(world, "127.0.9.10", send=IDENT)
        held.append(other)
        assert other.recv(64).startswith(b"SSH-2.0-")
        # nor is the engineer
        r = p["alice"].ssh("ct-scanner", "echo in")
        assert r.returncode == 0 and r.stdout == "in\n", r.stderr
    finally:
        close_all(held)


# --- silent and junk floods -------------------------------------------------

@pytest.mark.timeout(240)
def test_flood_from_50_addresses_cannot_keep_an_engineer_out(site):
    """1000 silent or junk connections from 50 addresses, held open: an
    engineer from the vendor's address still gets a shell within 5 s, and
    the flood costs few worker processes."""
    world, p = site
    more_files(4096)
    held = []
    try:
        for i in range(1000):
            src = "127.0.9.%d" % (1 + i % 50)
            try:
                held.append(connect_from(world, src, send=None if i % 2
                                         else JUNK, timeout=5))
            except OSError:
                pass        # refused at once: fine, and counted below
        judged(world, "127.0.9.51")     # and so every silent one before
        workers = len(util.worker_monitor_pids(world.bastion))
        # the silent ones share max_unauthenticated (20); the rest is
        # refused or waits, cheaply, in the listener (counted per
        # connection: each is a monitor and its confined child)
        assert workers <= 25, workers
        t0 = time.monotonic()
        child = p["alice"].spawn("ct-scanner", timeout=5 * slow())
        child.expect(r"session \d+: ct-scanner")
        took = time.monotonic() - t0
        child.sendline("echo shell-$((6*7))")
        child.expect("shell-42")
        child.sendline("exit")
        child.expect(pexpect.EOF)
        assert took < 5 * slow(), "engineer waited %.1f s" % took
    finally:
        close_all(held)


@pytest.mark.timeout(240)
def test_burst_of_engineers_from_one_vendor_address_all_get_in(cast):
    """50 logins at once from the vendor's one (NAT) address, default
    limits: every one gets in (before: random early drop from 10 of 20)."""
    world, p = cast
    people = [p["alice"]]
    for i in range(9):
        name = "eng%d" % i
        person = Person(world, p["alice"].softsk, name, "s3cret-" + name)
        world.add_engineer("acme", name, person.public_key(),
                           secret="s3cret-" + name)
        people.append(person)
    world.start_bastion()
    procs = [people[i % len(people)].popen(
        "ct-scanner", "echo n=%d" % i, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE) for i in range(50)]
    failed = []
    for i, pr in enumerate(procs):
        out, err = pr.communicate(timeout=180)
        if pr.returncode != 0 or out.decode() != "n=%d\n" % i:
            failed.append((i, pr.returncode, err.decode()[-200:]))
    assert not failed, "%d of 50 refused: %s" % (len(failed), failed[:3])
    assert world.bastion.audit_events(event="conn.refused") == []


# --- login grace and penalty ------------------------------------------------

def hold_until_grace(world, src, n):
    """n connections from src that identify themselves and then stall
    until the login grace closes them."""
    socks = [connect_from(world, src, send=IDENT if i % 2 else None)
             for i in range(n)]
    for s in socks:
        s.settimeout(30 * slow())
        read_to_end(s)      # the banner, then the close at the grace
        s.close()


def penalty_seconds(world, src):
    s = connect_from(world, src, send=IDENT)
    data = read_to_end(s)
    s.close()
    m = PENALTY_LINE.match(data)
    assert m, data
    return int(m.group(1))


def test_login_grace_counts_as_a_failure_and_the_penalty_says_so(cast):
    """Connections that reach the login grace unauthenticated count for the
    source's penalty; the refused client reads why and for how long."""
    world, p = cast
    world.limits["login_grace"] = "2s"
    world.start_bastion()
    hold_until_grace(world, "127.0.9.7", 6)
    workers_gone(world)
    n = penalty_seconds(world, "127.0.9.7")
    assert 1 <= n <= 8
    ev = world.bastion.wait_audit(event="conn.refused", **{
        "from": "127.0.9.7"})
    assert "penalty" in ev["reason"]
    # another source is not affected
    s = connect_from(world, "127.0.9.8")
    assert s.recv(64).startswith(b"SSH-2.0-")
    s.close()


def test_penalty_behind_a_vendor_address_is_capped(cast):
    """Failures from the vendor's shared address lock it out for at most
    limits.vendor_source_penalty_max (default 1 min), where a stranger's
    address gets the full 2^n; the real client shows the line with -v."""
    world, p = cast
    world.limits["login_grace"] = "2s"
    world.limits["max_unauthenticated"] = 50    # no random early drop
    world.start_bastion()
    hold_until_grace(world, "127.0.9.12", 10)   # its per-source limit
    hold_until_grace(world, "127.0.0.1", 12)
    workers_gone(world)
    assert penalty_seconds(world, "127.0.9.12") > 60
    assert 1 <= penalty_seconds(world, "127.0.0.1") <= 60
    r = p["gina"].ssh("pacs", "true", options=("-v",))
    assert r.returncode == 255
    assert re.search(r"banner line 0: bastion: too many failed logins from "
                     r"your address; try again in \d+ s", r.stderr), r.stderr


def test_vendor_penalty_cap_is_a_policy_setting(cast):
    world, p = cast
    world.limits["login_grace"] = "2s"
    world.limits["vendor_source_penalty_max"] = "3s"
    world.start_bastion()
    hold_until_grace(world, "127.0.0.1", 10)
    workers_gone(world)
    assert 1 <= penalty_seconds(world, "127.0.0.1") <= 3
    time.sleep(3.5)     # time is the subject: the capped penalty runs out
    r = p["alice"].ssh("ct-scanner", "echo back")
    assert r.returncode == 0 and r.stdout == "back\n", r.stderr


# --- the policy keys ----------------------------------------------------------

@pytest.mark.parametrize("key,value,words", [
    ("per_source_max_unauthenticated", 0, "is not a count"),
    ("vendor_source_max_unauthenticated", "many", "is not a count"),
    ("vendor_source_penalty_max", "forever", "not a duration"),
])
def test_bad_limits_are_refused(world, bastiond_bin, key, value, words):
    pol = world.policy()
    pol["limits"] = {key: value}
    path = world.write_policy(pol)
    r = world.bastion.check_policy(path)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert re.search(r":\d+: limits: %s .*%s" % (key, words), out), out
