"""The connection to the device, made without blocking (issue 3, item 5).

The worker reaches the device with libssh in non-blocking mode on a libuv
loop of its own (bastion/device.c), bounded by a 10 s deadline, while it
watches the engineer's connection. These tests put something between the
bastion and ct-scanner's sshd on the device's own address:

- a port that accepts and never speaks SSH: the engineer is told within
  the deadline (their client's keepalives answered meanwhile), and the
  worker exits;
- the same, and the engineer hangs up: the worker gives up at once rather
  than at the deadline;
- a slow device (a proxy that waits before relaying): what the engineer
  sent while it was being reached (stdin and its EOF, keys typed at a
  terminal) still arrives.

Normal connections (exec, shell, sftp) and the refusals (pinned host key,
device down) are in test_broker.py.
"""

import hashlib
import os
import socket
import subprocess
import threading
import time

import pytest

from harness import util

DEADLINE = 10       # DEVICE_CONNECT_TIMEOUT in bastion/worker.c


class _Port:
    """A TCP port on addr served by a thread: each connection goes to
    self.accept(sock)."""

    def __init__(self, addr):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accept(c)


class SilentPort(_Port):
    """A TCP port on addr that accepts connections and never says a word.
    Remembers when each connection came and when its peer closed it."""

    def __init__(self, addr):
        super().__init__(addr)
        self.accepted = []      # monotonic times
        self.closed = []        # monotonic times the peer closed
        self._conns = []
        self._thread.start()

    def accept(self, c):
        self.accepted.append(time.monotonic())
        self._conns.append(c)
        threading.Thread(target=self._wait_close, args=(c,),
                         daemon=True).start()

    def _wait_close(self, c):
        c.settimeout(0.2)
        while not self._stop:
            try:
                if c.recv(4096) == b"":     # the bastion closed it
                    self.closed.append(time.monotonic())
                    return
            except socket.timeout:
                continue
            except OSError:
                self.closed.append(time.monotonic())
                return

    def wait_accepted(self, timeout):
        return bool(util.wait_until(lambda: self.accepted, timeout,
                                    fail=False))

    def wait_closed(self, timeout):
        return bool(util.wait_until(lambda: self.closed, timeout,
                                    fail=False))

    def close(self):
        self._stop = True
        self.sock.close()
        self._thread.join(5)
        for c in self._conns:
            c.close()


class SlowProxy(_Port):
    """A TCP port on addr that, for each connection, waits `delay`
    seconds and then relays it to target (host, port)."""

    def __init__(self, addr, target, delay):
        super().__init__(addr)
        self.target = target
        self.delay = delay
        self.accepted = 0
        self._socks = []
        self._thread.start()

    def accept(self, c):
        self.accepted += 1
        threading.Thread(target=self._relay, args=(c,),
                         daemon=True).start()

    def _relay(self, c):
        self._socks.append(c)
        time.sleep(self.delay)      # time is the subject: a slow device
        try:
            d = socket.create_connection(self.target, timeout=10)
        except OSError:
            c.close()
            return
        self._socks.append(d)
        for a, b in ((c, d), (d, c)):
            threading.Thread(target=self._pump, args=(a, b),
                             daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        src.settimeout(None)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self._stop = True
        self.sock.close()
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass


@pytest.fixture
def silent(world):
    s = SilentPort(world.devices["ct-scanner"].addr)
    yield s
    s.close()


@pytest.fixture
def slow(world):
    dev = world.devices["ct-scanner"]
    s = SlowProxy(dev.addr, (dev.addr, dev.port), delay=3)
    yield s
    s.close()


def _point_at(world, port):
    """ct-scanner's policy entry now names port on the device's address."""
    world.device_entries["ct-scanner"]["port"] = port


# --- a device that never answers ------------------------------------------

def test_silent_device_times_out_with_a_clear_message(cast, silent):
    world, p = cast
    _point_at(world, silent.port)
    world.start_bastion()
    # the client gives up on a server that misses two keepalives a second
    # apart: the worker answers them while it waits for the device
    r = p["alice"].ssh("ct-scanner", "echo should-not-run", timeout=90,
                       extra={"ServerAliveInterval": "1",
                              "ServerAliveCountMax": "2"})
    assert r.returncode != 0
    assert "should-not-run" not in r.stdout
    assert "Timeout, server" not in r.stderr, r.stderr
    assert "cannot reach ct-scanner at 127.0.1.10 port %d" % silent.port \
        in r.stderr, r.stderr
    assert "did not complete the SSH handshake within %d seconds" \
        % DEADLINE in r.stderr, r.stderr
    ev = world.bastion.wait_audit(event="device.connect", result="fail")
    assert "within %d seconds" % DEADLINE in ev["reason"]
    assert ev["user"] == "alice" and ev["device"] == "ct-scanner"
    # the bastion gave up on the device at its deadline, not before, and
    # not much after (generous: the machine may be busy)
    assert silent.accepted and silent.wait_closed(10)
    waited = silent.closed[0] - silent.accepted[0]
    assert DEADLINE - 1 <= waited < DEADLINE + 15, waited
    world.bastion.wait_no_workers(15)


def test_engineer_hangs_up_while_device_is_silent(cast, silent):
    world, p = cast
    _point_at(world, silent.port)
    world.start_bastion()
    proc = p["alice"].popen("ct-scanner", "echo should-not-run",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # the worker is now waiting for the device's SSH banner
        assert silent.wait_accepted(60), "the bastion never reached the " \
            "device's port"
        pids = [pid for pid in util.worker_pids(world.bastion)
                if util.pid_alive(pid)]
        assert pids, "no worker found"
        hung_up = time.monotonic()
    finally:
        proc.kill()
        proc.wait(10)
    # gone well before the device deadline would have ended it
    assert util.wait_gone(pids, DEADLINE - 3), \
        "worker still there %.1f s after the engineer left" % (
            time.monotonic() - hung_up)
    assert silent.wait_closed(5), "the device's connection was left open"
    ev = world.bastion.wait_audit(event="device.connect", result="fail")
    assert "the engineer disconnected" in ev["reason"], ev
    assert "within" not in ev["reason"], ev


# --- a slow device --------------------------------------------------------

def test_slow_device_gets_stdin_and_eof_sent_meanwhile(cast, slow):
    world, p = cast
    _point_at(world, slow.port)
    world.start_bastion()
    data = os.urandom(200000)
    r = p["alice"].ssh("ct-scanner", "sha256sum", input=data, binary=True,
                       timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    assert slow.accepted == 1
    world.bastion.wait_audit(event="device.connect", result="ok")


def test_slow_device_shell_keeps_typed_keys(cast, slow):
    import pexpect
    world, p = cast
    _point_at(world, slow.port)
    world.start_bastion()
    child = p["alice"].spawn("ct-scanner", timeout=60)
    try:
        # typed while the device is being reached (the proxy waits 3 s)
        util.wait_until(lambda: slow.accepted > 0, 60, what="the device "
                        "reached")
        child.send("echo typed-$((6*7))\r")
        child.expect("typed-42", timeout=60)
        child.send("exit\r")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
