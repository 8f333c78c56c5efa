"""Logs that meet at three points (issue 15, item 9).

The field checklists ask for the origin (the vendor's address), the
access point (the bastion) and the destination (the device) to be logged
and matched to each other. session.start names the vendor's end and the
device's address; device.connect and forward.open also name the bastion's
own end toward the device (`local=ADDR:PORT`), which is what the device
logs as its peer. Here two sessions of the same engineer to the same
device run at once, and each one's device.connect is matched to exactly
one "Accepted publickey ... from ADDR port P" line of the device's real
sshd; a forward's local end is matched to the peer a TCP service on the
device saw.
"""

import json
import re
import subprocess
import sys
import time

from harness import util

ACCEPTED = re.compile(r"Accepted publickey for \S+ from (\S+) port (\d+)")

# A one-connection TCP service that writes the peer it saw, then answers.
PEER_SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
while True:
    c, peer = s.accept()
    print("peer %s:%d" % peer, flush=True)
    c.sendall(b"seen\n")
    c.close()
"""


def test_device_log_lines_match_sessions(site, bastionctl):
    world, p = site
    dev = world.devices["ct-scanner"]
    # two sessions at once: the device's lines must not be ambiguous
    # (each waits, connected, for a line we send once both are)
    a, b = (p["alice"].popen("ct-scanner", "echo up; read go; echo " + n,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE) for n in ("one", "two"))
    for x in (a, b):
        assert x.stdout.readline() == b"up\n"
    outs = [x.communicate(b"go\n", timeout=60) for x in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    evs = world.bastion.audit_events(event="device.connect", result="ok")
    assert len(evs) == 2, evs
    accepted = ACCEPTED.findall(dev.logfile.read_text(errors="replace"))
    seen = []
    for ev in evs:
        addr, _, port = ev["local"].rpartition(":")
        assert addr and port.isdigit(), ev
        hits = [x for x in accepted if x == (addr, port)]
        assert len(hits) == 1, (ev["local"], accepted)
        seen.append(port)
        # the same session's start names the other two points
        start = world.bastion.audit_events(event="session.start",
                                           session=ev["session"])[0]
        assert start["to"] == "%s:%d" % (dev.addr, dev.port)
        assert start["source"].startswith("127.0.0.1:")
    assert seen[0] != seen[1]
    # the report shows the three points of each session, as text and JSON
    month = time.strftime("%Y-%m", time.gmtime())
    r = bastionctl(world, "report", "--month", month, "--json")
    assert r.returncode == 0, r.stderr
    rows = {s["session"]: s for s in json.loads(r.stdout)["sessions"]}
    text = bastionctl(world, "report", "--month", month).stdout
    for ev in evs:
        assert rows[ev["session"]]["local"] == ev["local"]
        assert "device saw: " + ev["local"] in text, text


def test_forward_local_end_is_the_peer_the_device_saw(cast):
    world, p = cast
    world.vendors["acme"]["touch"] = "off"     # -W: no session to touch
    dev = world.devices["ct-scanner"]
    port = util.free_port(dev.addr)
    svc = dev.serve("peer", [sys.executable, "-c", PEER_SERVER, dev.addr,
                             str(port)], port)
    world.device_entries["ct-scanner"]["forward_ports"] = [port]
    world.start_bastion()
    r = p["alice"].ssh(login="alice+ct-scanner",
                       options=["-W", "ct-scanner:%d" % port], input="")
    assert "seen" in r.stdout, r.stderr
    ev = world.bastion.wait_audit(event="forward.open", result="ok")
    peers = re.findall(r"peer (\S+)", svc.logfile.read_text())
    # the first peer is wait_tcp's probe from the harness, the last ours
    assert peers and peers[-1] == ev["local"], (peers, ev)
