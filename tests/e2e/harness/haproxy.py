"""A real TCP load balancer (Debian's haproxy) in front of bastiond nodes,
health-checked through each node's readiness port (`store: health:`,
bastion/health.c; docs/SCALE-OUT.md "Failover").

Used by tests/e2e/test_failover.py and by `make demo-ha`
(scripts/demo_ha.py), so the tests and the demo run the same balancer
configuration:

    lb = HAProxy([("a", 2201, 2211), ("b", 2202, 2212)], port=2200)
    ... ssh to 127.0.0.1:lb.port ...
    lb.stop()

haproxy runs in the foreground (`-db`), in a session of its own, as
nobody when the caller is root, with its configuration in a temporary
directory the user nobody can read (mode 0755). `balance first`: every new
connection goes to the first server that is UP, so a node's failure is
seen at once on the next login; `option redispatch` and `retries` send a
connection refused by a dead node to the next one before the check has
noticed.

send_proxy=True (default off) puts HAProxy's `send-proxy-v2` on every
server line: each connection to a node starts with a PROXY protocol v2
header naming the client's address (bastiond's `proxy_protocol:`,
docs/SCALE-OUT.md). The health checks go to the readiness port (`check
port`), so they carry no header. source=ADDR: haproxy connects to the
nodes from that loopback address (`source`), so that a test can tell
the balancer's connections from others.
"""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile

from . import util

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def available():
    return os.access(HAPROXY, os.X_OK)


def health(port, addr="127.0.0.1"):
    """The line a node's readiness port answers ("UP NODE\\n" or "DOWN
    NODE: why\\n"); OSError when nothing listens."""
    with socket.create_connection((addr, port), timeout=5) as s:
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(200)
            if not chunk:
                break
            data += chunk
    return data.decode()


def config(port, servers, addr="127.0.0.1", send_proxy=False, source=None):
    """haproxy.cfg: a TCP frontend on addr:port, a backend of servers
    [(name, ssh port, health port)] on addr, checked every 500 ms with
    `tcp-check expect rstring ^UP` (down after 2 failed checks, up after
    2 good ones). send_proxy: each server connection starts with a PROXY
    protocol v2 header; source: the address haproxy connects from."""
    return ("global\n"
            "    maxconn 200\n"
            "defaults\n"
            "    mode tcp\n"
            "    timeout connect 2s\n"
            "    timeout client 10m\n"
            "    timeout server 10m\n"
            "    timeout check 2s\n"
            "    retries 3\n"
            "    option redispatch\n"
            "frontend ssh\n"
            "    bind %s:%d\n"
            "    default_backend bastions\n"
            "backend bastions\n"
            "    balance first\n"
            "    option tcp-check\n"
            "    tcp-check expect rstring ^UP\n" % (addr, port) +
            "".join("    server %s %s:%d check port %d inter 500 "
                    "fall 2 rise 2%s%s\n" % (name, addr, ssh, hp,
                                             " send-proxy-v2" if send_proxy
                                             else "",
                                             " source " + source if source
                                             else "")
                    for name, ssh, hp in servers))


class HAProxy(util.Server):
    """haproxy -db in front of servers [(name, ssh port, health port)] on
    127.0.0.1, listening on port (default: a free one); send_proxy: a
    PROXY protocol v2 header on each server connection; source: the
    address it connects to them from. .log is its log
    (server UP/DOWN lines); stop() ends it and removes its directory."""

    def __init__(self, servers, port=None, send_proxy=False, source=None):
        if not available():
            raise util.HarnessError("%s is not installed (Debian package "
                                    "haproxy; make deps)" % HAPROXY)
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="bst-ha-"))
        os.chmod(self.dir, 0o755)
        self.port = port or util.free_port("127.0.0.1")
        self.cfg = self.dir / "haproxy.cfg"
        self.cfg.write_text(config(self.port, servers,
                                   send_proxy=send_proxy, source=source))
        os.chmod(self.cfg, 0o644)
        check = subprocess.run([HAPROXY, "-c", "-f", str(self.cfg)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=30)
        if check.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise util.HarnessError("haproxy -c refused %s:\n%s"
                                    % (self.cfg, check.stdout))
        argv = [HAPROXY, "-db", "-f", str(self.cfg)]
        if os.geteuid() == 0:
            argv = ["/usr/sbin/runuser", "-u", "nobody", "--"] + argv
        self.log = self.dir / "haproxy.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         start_new_session=True)
        self.pid = self.proc.pid
        self.registered()
        try:
            util.wait_tcp("127.0.0.1", self.port, timeout=10,
                          alive=lambda: self.proc.poll() is None,
                          what="haproxy", log=self.log)
        except BaseException:
            self.stop()
            raise

    def said(self, text):
        """True if haproxy's log holds text (e.g. "Server bastions/a is
        DOWN")."""
        try:
            return text in self.log.read_text(errors="replace")
        except FileNotFoundError:
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.unregistered()
        shutil.rmtree(self.dir, ignore_errors=True)
