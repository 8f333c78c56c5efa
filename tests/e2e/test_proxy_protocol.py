"""The engineer's address behind a load balancer (issue 20,
docs/SCALE-OUT.md "The engineer's address behind the balancer"): a real
HAProxy with `send-proxy-v2` in front of a real bastiond (one node on
SQLite, health-checked through its readiness port) whose policy trusts
the balancer's address in `proxy_protocol: from:`.

The engineers' ssh binds a loopback address of its own (BindAddress
127.0.3.7), as an engineer's computer has its own address, and haproxy
connects to bastiond from 127.0.0.5: bastiond must see the engineer's
address, not the balancer's, in the vendor's
`sources` check, the audit chain's `from` (with `via=` the balancer),
the session registry (`sessions`) and the recording's source. Then what
must not work: a direct connection from the balancer's address without a
header is dropped, and a PROXY header from an address that is not a
balancer is not honoured.
"""

import json
import socket
import struct
import subprocess
import time

import pytest

from harness import haproxy, util

ENGINEER = "127.0.3.7"      # the engineer's computer
STRANGER = "127.0.3.9"      # someone who is not the balancer
BALANCER = "127.0.0.5"      # haproxy connects to bastiond from here


@pytest.fixture
def behind_lb(cast):
    """(world, people, haproxy): bastiond trusting 127.0.0.5 as its
    balancer; acme's engineers come from 127.0.3.0/24, globex's only
    from the balancer's own address."""
    if not haproxy.available():
        pytest.skip("haproxy is not installed (make deps)")
    world, p = cast
    hp = util.free_port("127.0.0.1")
    world.top["proxy_protocol"] = {"from": [BALANCER + "/32"]}
    world.top["store"] = {"backend": "sqlite", "health": "127.0.0.1:%d" % hp}
    world.vendors["acme"]["sources"] = ["127.0.3.0/24"]
    world.vendors["globex"]["sources"] = [BALANCER + "/32"]
    world.start_bastion()
    lb = haproxy.HAProxy([("a", world.bastion.port, hp)], send_proxy=True,
                         source=BALANCER)
    lb.node_port = world.bastion.port
    try:
        yield world, p, lb
    finally:
        lb.stop()


def via_lb(lb, bind=ENGINEER):
    """ssh options: to the balancer, from the engineer's own address (the
    host key is the node's, pinned under its own address and port)."""
    return {"HostName": "127.0.0.1", "Port": lb.port, "BindAddress": bind,
            "HostKeyAlias": "[127.0.0.1]:%d" % lb.node_port}


def raw(src, port, data, wait=3.0):
    """Connect from src to bastiond's port, send data, return what the
    server answers until it closes (or wait runs out)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(wait)
    got = b""
    try:
        s.connect(("127.0.0.1", port))
        if data:
            s.sendall(data)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    return got


def v2_header(src, sport, dst, dport):
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) +
            struct.pack(">H", 12) + socket.inet_aton(src) +
            socket.inet_aton(dst) + struct.pack(">HH", sport, dport))


def test_engineer_address_through_the_balancer(behind_lb, bastionctl):
    world, p, lb = behind_lb
    b = world.bastion
    alice = p["alice"]
    n = len(b.audit_events(event="device.connect", user="alice"))
    proc = alice.popen("ct-scanner", "echo started; sleep 60",
                       options=sum((["-o", "%s=%s" % kv] for kv in
                                    via_lb(lb).items()), []),
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    try:
        sid = b.wait_audit(event="device.connect", user="alice", after=n,
                           alive=proc, timeout=30)["session"]
        # the audit chain: the engineer's address, and the balancer's
        auth = b.wait_audit(event="auth.result", session=sid, result="ok")
        assert auth["from"] == ENGINEER, auth
        assert auth["via"] == BALANCER, auth
        start = b.wait_audit(event="session.start", session=sid)
        assert start["from"] == ENGINEER, start
        assert start["via"] == BALANCER, start
        # ... as appended to the hash-chained audit log itself
        chain = [line for line in (b.state_dir / "audit.log").read_text()
                 .splitlines() if " event=session.start " in line and
                 " session=%s " % sid in line]
        assert len(chain) == 1, chain
        assert " from=%s " % ENGINEER in chain[0], chain
        assert " via=%s " % BALANCER in chain[0], chain
        # the recording's source: the engineer's address and port
        assert start["source"].startswith(ENGINEER + ":"), start
        assert start["source"] != ENGINEER + ":0", start
        # the session registry (`sessions`)
        def listed():
            r = bastionctl(world, "sessions", "--json")
            assert r.returncode == 0, r.stderr
            s = [x for x in json.loads(r.stdout) if str(x["sid"]) == sid]
            return s[0] if s else None
        row = util.wait_until(listed, 10, what="the session listed")
        assert row["from"] == ENGINEER, row
        # the listener's own line names both
        assert "via the balancer: %s," % ENGINEER in b.log()
    finally:
        proc.kill()
        proc.communicate(timeout=20)


def test_vendor_sources_see_the_engineer_not_the_balancer(behind_lb,
                                                          build_dir):
    world, p, lb = behind_lb
    b = world.bastion
    # globex allows only the balancer's address: gina behind it is not
    # from there, so she is refused
    n = len(b.audit_events(event="auth.result", user="gina"))
    r = p["gina"].ssh("pacs", "echo no", extra=via_lb(lb), timeout=60)
    assert r.returncode != 0
    assert "no" not in r.stdout.split()
    ev = b.wait_audit(event="auth.result", user="gina", after=n,
                      result="denied", timeout=20)
    assert ev["from"] == ENGINEER and ev["via"] == BALANCER, ev
    assert "source" in ev["reason"], ev
    # alice's vendor allows 127.0.3.0/24: the same way in works for her,
    # and from an address outside it does not
    n = len(b.audit_events(event="session.recording", user="alice"))
    ok = p["alice"].ssh("ct-scanner", "echo yes", extra=via_lb(lb),
                        timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip() == "yes", ok.stderr
    # the recording's own header names where she came from
    rec = b.wait_audit(event="session.recording", user="alice", after=n)
    sid = rec["session"]
    b.wait_audit(event="session.end", session=sid, timeout=20)
    text = subprocess.run([str(build_dir / "bastion-replay"), "--text",
                           rec["path"]], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    head = text.stdout.split("\n\n")[0]
    assert ENGINEER + ":" in head, head
    assert BALANCER not in head, head
    n = len(b.audit_events(event="auth.result", user="alice"))
    out = p["alice"].ssh("ct-scanner", "echo no",
                         extra=via_lb(lb, bind="127.0.4.2"), timeout=60)
    assert out.returncode != 0
    ev = b.wait_audit(event="auth.result", user="alice", after=n,
                      result="denied", timeout=20)
    assert ev["from"] == "127.0.4.2" and ev["via"] == BALANCER, ev


def test_balancer_address_without_header_is_dropped(behind_lb):
    world, p, lb = behind_lb
    b = world.bastion
    n = len(b.audit_events(event="conn.refused"))
    # an SSH client straight from the balancer's address: no header
    got = raw(BALANCER, b.port, b"SSH-2.0-OpenSSH_9.2\r\n")
    assert not got.startswith(b"SSH-"), got
    ev = b.wait_audit(event="conn.refused", after=n, timeout=10)
    assert ev["from"] == BALANCER, ev
    assert "PROXY protocol header" in ev["reason"], ev
    # the real ssh, the same way: no session
    r = p["alice"].ssh("ct-scanner", "echo no", extra={
        "HostName": "127.0.0.1", "Port": b.port, "BindAddress": BALANCER},
        timeout=60)
    assert r.returncode == 255, r
    # and a silent one is not held past the login grace either: the
    # header must come first (here: a broken one, refused at once)
    n = len(b.audit_events(event="conn.refused"))
    got = raw(BALANCER, b.port, b"\r\n\r\n\x00\r\nQUIT\n\x21\x12\x00\x0c" +
              b"\0" * 12)
    assert got == b"", got
    ev = b.wait_audit(event="conn.refused", after=n, timeout=10)
    assert "TCP" in ev["reason"], ev


def test_forged_header_from_elsewhere_is_not_honoured(behind_lb):
    world, p, lb = behind_lb
    b = world.bastion
    n = len(b.audit_events(event="conn.refused"))
    # a stranger claims to be the engineer, straight to bastiond
    hdr = v2_header(ENGINEER, 40000, "127.0.0.1", b.port)
    got = raw(STRANGER, b.port, hdr + b"SSH-2.0-OpenSSH_9.2\r\n")
    assert not got.startswith(b"SSH-"), got
    ev = b.wait_audit(event="conn.refused", after=n, timeout=10)
    # refused as what it is: bytes that are not an SSH identification,
    # from the stranger's own address
    assert ev["from"] == STRANGER, ev
    assert "via" not in ev, ev
    assert "SSH identification" in ev["reason"], ev
    # no worker was started for it, no login from the forged address
    assert b.audit_events(event="auth.result", **{"from": ENGINEER}) == []
