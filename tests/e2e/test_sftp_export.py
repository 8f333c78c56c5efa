"""Export approval (issue 18, docs/FILES.md "Export approval"): with
files: approve: out, a download through the real bastiond waits until an
admin approves the file, its size and its SHA-256, and the engineer then
gets exactly those bytes, held on the bastion since the request, never
read from the device again; a denied one never leaves.

Real OpenSSH sftp and scp (its SFTP mode) as alice to ct-scanner, a real
sshd device; the admin bob decides over ssh, or root with bastionctl. The
harness is test_sftp_airlock.py's (imported, not copied).
"""

import io
import json
import os
import select
import struct
import subprocess
import tarfile
import time

from harness import util
from test_audit import approved_session
from test_sftp_airlock import SCP, packet, replay, sha, start, wait_transfer


def sftp_popen(person, commands, device="ct-scanner"):
    """sftp as person with commands on stdin, not waited for (a Popen)."""
    argv = [util.SFTP, "-F", str(person.config())]
    if person._use_agent(None):
        argv.append("-A")
    proc = subprocess.Popen(
        argv + ["%s+%s@bastion" % (person.name, device)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=person.env(None),
        start_new_session=True)
    proc.stdin.write(commands)
    proc.stdin.close()
    proc.stdin = None           # communicate() must not flush it
    return proc


def scp_popen(person, *args):
    """OpenSSH scp (SFTP mode) as person, not waited for (a Popen)."""
    return subprocess.Popen(
        [SCP, "-F", str(person.config()), "-A"] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=person.env(True), start_new_session=True)


def finish(proc, timeout=60):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("the client did not finish: %s" % err)
    return proc.returncode, out, err


def held_download(world, p, tmp_path, name, size):
    """alice's sftp get of a device file of size random bytes, waiting for
    approval: (the bytes, the device file, the local one, the Popen, the
    file.export_requested event)."""
    held = os.urandom(size)
    remote = tmp_path / name
    remote.write_bytes(held)
    local = tmp_path / ("vendor-" + name)
    proc = sftp_popen(p["alice"], "get %s %s\nbye\n" % (remote, local))
    return held, remote, local, proc, requested(world, proc, remote)


def requested(world, proc, path, after=0):
    """The file.export_requested event of path (the client still waits);
    after: how many of them came before."""
    return world.bastion.wait_audit(event="file.export_requested",
                                    path=str(path), alive=proc, timeout=30,
                                    after=after)


def test_export_waits_then_approved_bytes_as_held(cast, tmp_path,
                                                   build_dir):
    world, p = start(cast, files={"approve": "out"})
    held, remote, local, proc, ev = held_download(world, p, tmp_path,
                                                  "pacs-export.bin", 300000)
    assert ev["size"] == str(len(held)) and ev["sha256"] == sha(held), ev
    assert ev["user"] == "alice" and ev["device"] == "ct-scanner"
    rid = ev["request"]

    # the admin sees it, with size and hash; the client still waits and
    # nothing has left
    r = p["bob"].ssh("file-requests", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    row = [x for x in rows if str(x["id"]) == rid]
    assert row and row[0]["size"] == len(held), rows
    assert row[0]["sha256"] == sha(held) and row[0]["path"] == str(remote)
    assert row[0]["status"] == "pending" and row[0]["engineer"] == "alice"
    r = p["bob"].ssh("file-requests", "--wide")
    assert sha(held) in r.stdout and str(len(held)) in r.stdout, r.stdout
    time.sleep(1)
    assert proc.poll() is None, "the client did not wait"
    assert not local.exists()

    # the file changes on the device meanwhile: the approved bytes are
    # the held ones, not a second read
    remote.write_bytes(b"changed after the request\n" * 1000)
    a = p["bob"].ssh("file-approve", rid)
    assert a.returncode == 0, a.stderr
    assert "approved" in a.stdout and sha(held) in a.stdout, a.stdout
    rc, out, err = finish(proc)
    assert rc == 0, err
    assert local.read_bytes() == held
    assert "waits for an admin's approval: file request %s" % rid in err
    assert "approved by bob" in err, err

    t = wait_transfer(world, direction="out", path=str(remote))
    assert t["result"] == "ok" and t["sha256"] == sha(held), t
    assert t["bytes"] == str(len(held))
    ap = world.bastion.wait_audit(event="file.export_approved", request=rid)
    assert ap["admin"] == "bob" and ap["via"] == "ssh"
    assert ap["sha256"] == sha(held)
    r = p["bob"].ssh("file-requests")
    assert "no file exports waiting" in r.stdout, r.stdout

    # the recording carries the same bytes: --extract-files matches the
    # record of the chain
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=t["session"])
    world.bastion.wait_audit(event="session.end", session=t["session"])
    world.bastion.wait_audit(event="recording.sealed")
    out_dir = tmp_path / "extracted"
    x = replay(world, build_dir, rec["path"], "--extract-files",
               str(out_dir))
    assert x.returncode == 0, x.stdout + x.stderr
    got = os.listdir(out_dir)
    assert len(got) == 1 and (out_dir / got[0]).read_bytes() == held, got
    tx = replay(world, build_dir, rec["path"], "--text")
    assert "export.held" in tx.stdout and "export.approved" in tx.stdout


def test_export_denied_with_scp_nothing_leaves(cast, tmp_path, bastionctl):
    world, p = start(cast, files={"approve": "out"})
    data = b"PID-1234 patient record\n" * 2000
    remote = tmp_path / "images.tar"
    remote.write_bytes(data)
    local = tmp_path / "vendor-copy.tar"
    proc = scp_popen(p["alice"], "alice+ct-scanner@bastion:%s" % remote,
                     str(local))
    ev = requested(world, proc, remote)
    assert ev["sha256"] == sha(data)
    r = bastionctl(world, "file-requests")
    assert r.returncode == 0 and ev["request"] in r.stdout, r.stdout + r.stderr
    d = bastionctl(world, "file-deny", ev["request"], "patient", "data")
    assert d.returncode == 0, d.stderr
    assert "denied" in d.stdout
    rc, out, err = finish(proc)
    assert rc != 0
    assert "export denied: patient data" in err, err
    assert not local.exists()
    t = wait_transfer(world, direction="out", path=str(remote))
    assert t["result"] == "denied", t
    assert "export denied: patient data" in t["reason"]
    assert t["bytes"] == "0"
    dn = world.bastion.wait_audit(event="file.export_denied",
                                  request=ev["request"])
    assert dn["reason"] == "patient data" and dn["via"] == "bastionctl"
    # decided once
    again = bastionctl(world, "file-approve", ev["request"])
    assert again.returncode == 1 and "denied already" in again.stderr


def test_export_over_limit_refused_before_a_request(cast, tmp_path):
    world, p = start(cast, files={"approve": "out", "max_file_size": "100K"})
    remote = tmp_path / "big.bin"
    remote.write_bytes(os.urandom(200000))
    local = tmp_path / "big-copy.bin"
    proc = sftp_popen(p["alice"], "get %s %s\nbye\n" % (remote, local))
    rc, out, err = finish(proc)
    assert "larger than the limit of 102400 bytes" in err, err
    assert "no export request was filed" in err
    assert not local.exists() or local.stat().st_size == 0
    t = wait_transfer(world, direction="out", path=str(remote))
    assert t["result"] == "refused", t
    assert not world.bastion.audit_events(event="file.export_requested")


def test_export_past_the_session_limit_refused_before_a_request(cast,
                                                                tmp_path):
    world, p = start(cast, files={"approve": "out",
                                  "max_session_bytes": "150K"})
    held, remote, local, proc, ev = held_download(world, p, tmp_path,
                                                  "first.bin", 100000)
    a = p["bob"].ssh("file-approve", ev["request"])
    assert a.returncode == 0, a.stderr
    rc, out, err = finish(proc)
    assert rc == 0 and local.read_bytes() == held, err
    # the second would take the session past 150 KiB: no request
    second = tmp_path / "second.bin"
    second.write_bytes(os.urandom(100000))
    proc = sftp_popen(p["alice"], "get %s %s\nget %s %s\nbye\n" % (
        remote, tmp_path / "again.bin", second, tmp_path / "second-copy"))
    ev2 = requested(world, proc, remote, after=1)
    a = p["bob"].ssh("file-approve", ev2["request"])
    assert a.returncode == 0, a.stderr
    rc, out, err = finish(proc)
    assert "past its limit of 153600 bytes" in err, err
    assert not (tmp_path / "second-copy").exists()
    assert len(world.bastion.audit_events(
        event="file.export_requested")) == 2


def test_export_request_expires(cast, tmp_path):
    world, p = cast
    world.top["approval"] = {"timeout": "3s"}
    world, p = start(cast, files={"approve": "out"})
    remote = tmp_path / "log.txt"
    remote.write_bytes(b"device log\n")
    local = tmp_path / "log-copy.txt"
    proc = sftp_popen(p["alice"], "get %s %s\nbye\n" % (remote, local))
    ev = requested(world, proc, remote)
    rc, out, err = finish(proc)
    assert "export expired" in err, err
    assert not local.exists()
    world.bastion.wait_audit(event="file.export_expired",
                             request=ev["request"])
    t = wait_transfer(world, direction="out", path=str(remote))
    assert t["result"] == "expired", t


def test_export_approved_in_the_web_console(cast, tmp_path, build_dir):
    """The web console's prepare/commit (control protocol v2 on web.sock,
    test_web_control.py's software authenticator): the action the key
    signs names the file, its size and SHA-256; bastion-verify --webauthn
    ties the decision in the chain to that signature."""
    from test_web_control import (Authenticator, call, enrol, sign_in,
                                  token_of, web_setup)
    world, p = cast
    web_setup(world)
    world, p = start(cast, files={"approve": "out"})
    held, remote, local, proc, ev = held_download(world, p, tmp_path,
                                                  "dicom.bin", 100000)
    rid = ev["request"]
    bob = Authenticator()
    enrol(world, p["bob"], bob)
    a, _ = sign_in(world, "bob", bob)
    assert a.exit == 0, a.err
    tok = token_of(a)[0]
    a = call(world, ["file-requests", "--json"], [("token", tok),
                                                  ("format", "json")])
    assert a.exit == 0, a.err
    assert [r["id"] for r in a.json()] == [int(rid)]
    a = call(world, ["file-approve", rid], [("token", tok)])
    assert a.exit == 2 and "prepare and commit" in a.err
    a = call(world, ["prepare", "file-approve", rid], [("token", tok)])
    assert a.exit == 0, a.err
    ch, summary = a.challenge()
    assert summary["action"] == "file-approve" and summary["id"] == rid
    assert summary["sha256"] == sha(held) and summary["size"] == str(len(held))
    assert summary["path"] == str(remote) and summary["engineer"] == "alice"
    a = call(world, ["commit", ch.hex()], [("token", tok),
                                           ("assert", bob.get(ch))])
    assert a.exit == 0, a.err
    rc, out, err = finish(proc)
    assert rc == 0, err
    assert local.read_bytes() == held
    ev = world.bastion.wait_audit(event="file.export_approved", request=rid)
    assert ev["via"] == "web" and ev["assertion"] == ch.hex()
    v = subprocess.run(
        [str(build_dir / "bastion-verify"), "--audit",
         str(world.bastion.state_dir / "audit.log"), "--webauthn"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr


def sftp_string(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def read_packet(out, timeout=20):
    """One SFTP packet from the pipe out: (type, id, rest of the body)."""
    def take(n):
        got = b""
        end = time.monotonic() + timeout
        while len(got) < n:
            left = end - time.monotonic()
            assert left > 0, "no whole packet within %d s" % timeout
            r, _, _ = select.select([out], [], [], left)
            if r:
                b = os.read(out.fileno(), n - len(got))
                assert b, "the channel ended"
                got += b
        return got
    n = struct.unpack(">I", take(4))[0]
    body = take(n)
    return body[0], struct.unpack(">I", body[1:5])[0], body[5:]


def test_the_wait_holds_only_that_open(cast, tmp_path):
    """Raw SFTP over `ssh -s sftp`: while the OPEN of a held download
    waits for the admin, the same channel's other requests are answered;
    then the OPEN gets its handle and READs the held bytes."""
    world, p = start(cast, files={"approve": "out"})
    held = os.urandom(5000)
    remote = tmp_path / "held.bin"
    remote.write_bytes(held)
    other = tmp_path / "other.txt"
    other.write_bytes(b"x" * 1234)
    proc = p["alice"].popen("sftp", login="alice+ct-scanner",
                            options=["-s"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            bufsize=0)
    try:
        proc.stdin.write(packet(b"\x01" + struct.pack(">I", 3)))
        assert read_packet(proc.stdout)[0] == 2          # VERSION
        proc.stdin.write(packet(b"\x03" + struct.pack(">I", 1) +
                                sftp_string(str(remote)) +
                                struct.pack(">II", 1, 0)))   # OPEN read
        ev = requested(world, proc, remote)
        # the OPEN waits; a STAT on the same channel is answered now
        proc.stdin.write(packet(b"\x11" + struct.pack(">I", 2) +
                                sftp_string(str(other))))
        t, rid, rest = read_packet(proc.stdout)
        assert (t, rid) == (105, 2), (t, rid)            # ATTRS of 2
        assert struct.unpack(">IQ", rest[:12])[1] == 1234
        a = p["bob"].ssh("file-approve", ev["request"])
        assert a.returncode == 0, a.stderr
        t, rid, rest = read_packet(proc.stdout)
        assert (t, rid) == (102, 1), (t, rid)            # HANDLE of 1
        handle = rest[4:4 + struct.unpack(">I", rest[:4])[0]]
        assert handle.startswith(b"export-")
        proc.stdin.write(packet(b"\x05" + struct.pack(">I", 3) +
                                sftp_string(handle) +
                                struct.pack(">QI", 0, 65536)))
        t, rid, rest = read_packet(proc.stdout)
        assert (t, rid) == (103, 3), (t, rid)            # DATA
        assert rest[4:] == held
        proc.stdin.write(packet(b"\x05" + struct.pack(">I", 4) +
                                sftp_string(handle) +
                                struct.pack(">QI", 5000, 65536)))
        t, rid, rest = read_packet(proc.stdout)
        assert (t, rid) == (101, 4)                      # STATUS: EOF
        assert struct.unpack(">I", rest[:4])[0] == 1
        proc.stdin.write(packet(b"\x04" + struct.pack(">I", 5) +
                                sftp_string(handle)))
        t, rid, rest = read_packet(proc.stdout)
        assert (t, rid) == (101, 5)
        assert struct.unpack(">I", rest[:4])[0] == 0     # OK
    finally:
        proc.stdin.close()
        proc.stdin = None           # communicate() must not flush it
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    ev = wait_transfer(world, direction="out", path=str(remote))
    assert ev["result"] == "ok" and ev["sha256"] == sha(held), ev


def test_bundle_names_no_file_request_as_a_session_request(cast, tmp_path):
    """The evidence bundle's approval.json lists the session requests that
    let the session in: file export requests are numbered apart (their
    own list), so file request 1 of alice's sftp session must not pull in
    gina's session request 1."""
    world, p = cast
    world.vendors["globex"]["approval"] = {"required": True}
    world, p = start(cast, files={"approve": "out"})
    assert approved_session(world, p, "ticket-1") == "1"
    held, remote, local, proc, ev = held_download(world, p, tmp_path,
                                                  "bundle.bin", 5000)
    assert ev["request"] == "1", ev
    a = p["bob"].ssh("file-approve", "1")
    assert a.returncode == 0, a.stderr
    rc, out, err = finish(proc)
    assert rc == 0 and local.read_bytes() == held, err
    t = wait_transfer(world, direction="out", path=str(remote))
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=t["session"])
    world.bastion.wait_audit(event="recording.sealed",
                             session=rec["recording"])
    b = p["carol"].ssh("export", rec["recording"], binary=True)
    assert b.returncode == 0, b.stderr
    with tarfile.open(fileobj=io.BytesIO(b.stdout)) as tar:
        m = {x.name.rsplit("/", 1)[-1]: tar.extractfile(x).read()
             for x in tar.getmembers() if x.isfile()}
    appr = json.loads(m["approval.json"])
    assert appr["requests"] == [], (appr, m["audit.log"].decode())
    assert appr["admission"] == "not required", appr
    # the file request is in the session's own audit lines all the same
    assert b"event=file.export_requested" in m["audit.log"]
