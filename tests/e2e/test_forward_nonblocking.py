"""A forward whose device port does not answer does not freeze the
session it rides on (issue 16, item 4; docs/ARCHITECTURE.md, "Port
forwards").

The monitor makes a forward's TCP connection for the child and may wait
up to 5 s for it. The child asks and goes on relaying; the engineer's
channel-open request is answered when the monitor's answer comes. Here
the device port black-holes (a listener whose accept queue is full: the
kernel drops further SYNs, so a connect hangs), and the engineer's
interactive shell, on the same connection, must keep echoing meanwhile.
Before the change the child waited inside the monitor request and the
shell froze for the whole connect timeout.
"""

import socket
import time

import pexpect

from harness import util

CONNECT_TIMEOUT_S = 5       # monitor_fwd.c, MON_FORWARD_CONNECT_MS


def black_hole(addr):
    """A port on addr whose connects hang: backlog 0, queue filled."""
    lsn = socket.socket()
    lsn.bind((addr, 0))
    lsn.listen(0)
    fill = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(lsn.getsockname())
        fill.append(s)
    time.sleep(0.3)
    # the test of the test: a further connect must hang
    probe = socket.socket()
    probe.settimeout(1)
    try:
        probe.connect(lsn.getsockname())
        raise AssertionError("the black hole answered a connect")
    except socket.timeout:
        pass
    finally:
        probe.close()
    return lsn, fill


def test_black_holed_forward_does_not_freeze_the_shell(cast):
    world, p = cast
    dev = world.devices["ct-scanner"]
    lsn, fill = black_hole(dev.addr)
    port = lsn.getsockname()[1]
    world.device_entries["ct-scanner"]["forward_ports"] = [port]
    world.start_bastion()
    alice = p["alice"]
    lport = util.free_port("127.0.0.1")
    argv = alice.argv(login="alice+ct-scanner", tty=True,
                      options=["-L", "%d:ct-scanner:%d" % (lport, port)])
    child = pexpect.spawn(argv[0], argv[1:], env=alice.env(None),
                          dimensions=(24, 80), timeout=30,
                          encoding="utf-8", codec_errors="replace")
    client = None
    try:
        child.expect(r"session (\d+): ct-scanner")
        sid = child.match.group(1)
        child.sendline("echo before-$((40+2))")
        child.expect("before-42")
        # the forward: ssh opens a direct-tcpip channel for this client
        client = socket.create_connection(("127.0.0.1", lport), timeout=5)
        opened = time.monotonic()
        time.sleep(0.5)             # the request is at the bastion now
        # the shell echoes while the monitor still waits for the device
        for i in range(3):
            t = time.monotonic()
            child.sendline("echo during-%d-$((40+2))" % i)
            child.expect("during-%d-42" % i, timeout=CONNECT_TIMEOUT_S)
            assert time.monotonic() - t < 2.0, \
                "the shell froze while a forward connected"
        assert time.monotonic() - opened < CONNECT_TIMEOUT_S - 1, \
            "the echoes came only after the forward's connect ended"
        # the forward itself fails, after the monitor's timeout
        ev = world.bastion.wait_audit(event="forward.open", result="fail",
                                      session=sid,
                                      timeout=CONNECT_TIMEOUT_S + 10)
        assert "timed out" in ev["reason"]
        assert time.monotonic() - opened >= CONNECT_TIMEOUT_S - 1
        # the engineer's forward was refused, the session goes on
        client.settimeout(10)
        assert client.recv(100) == b""
        child.sendline("echo after-$((40+2))")
        child.expect("after-42")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        if client is not None:
            client.close()
        child.close(force=True)
        for s in fill:
            s.close()
        lsn.close()
