"""The SFTP airlock (issue 18, docs/FILES.md): real OpenSSH sftp, scp (its
SFTP mode) and scp -O through the real bastiond to a real sshd device.

Every file read or written is a `file.transfer` audit event (and an EVENT
frame in the recording) with its direction, path, size and the SHA-256 of
the bytes that crossed; the files: policy refuses a direction at OPEN and
an upload over a size limit in the middle of the transfer, removing the
partial file from the device; bastion-replay --extract-files gives back
the exact bytes of each file.
"""

import hashlib
import io
import os
import re
import struct
import subprocess
import tarfile

import pytest

from harness import util

SCP = "/usr/bin/scp"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def start(cast, files=None, vendor_files=None):
    """The standard site; files: on ct-scanner and/or on acme."""
    world, p = cast
    pol = world.policy()
    for d in pol["devices"]:
        if d["name"] == "ct-scanner" and files is not None:
            d["files"] = files
    for v in pol["vendors"]:
        if v["name"] == "acme" and vendor_files is not None:
            v["files"] = vendor_files
    world.start_bastion(pol)
    return world, p


def scp(person, *args, timeout=60):
    """OpenSSH scp as person (SFTP mode unless -O is among args)."""
    argv = [SCP, "-F", str(person.config()), "-A"] + list(args)
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          env=person.env(True), timeout=timeout,
                          start_new_session=True)


def transfers(world, **match):
    return world.bastion.audit_events(event="file.transfer", **match)


def wait_transfer(world, **match):
    return world.bastion.wait_audit(event="file.transfer", **match)


def replay(world, build_dir, path, *args):
    return subprocess.run(
        [str(build_dir / "bastion-replay"), "-k",
         str(world.bastion.state_dir / "recorder.key.pub")] + list(args) +
        [path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60)


def test_upload_and_download_recorded_with_hashes(cast, tmp_path,
                                                  build_dir):
    world, p = start(cast)
    up = os.urandom(300000)
    src = tmp_path / "up.bin"
    src.write_bytes(up)
    back = tmp_path / "back.bin"
    remote = tmp_path / "remote.bin"
    r = p["alice"].sftp("put %s %s\nget %s %s\nbye\n"
                        % (src, remote, remote, back), "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == up == remote.read_bytes()
    ein = wait_transfer(world, direction="in")
    eout = wait_transfer(world, direction="out")
    for ev in (ein, eout):
        assert ev["path"] == str(remote)
        assert ev["sha256"] == sha(up), ev
        assert ev["bytes"] == ev["size"] == str(len(up))
        assert ev["sequential"] == "yes" and ev["result"] == "ok"
        assert ev["user"] == "alice" and ev["device"] == "ct-scanner"
    assert ein["session"] == eout["session"]

    # the recording holds the same records, and the bytes: --text shows
    # the records, --extract-files writes each file, byte for byte
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=ein["session"])
    world.bastion.wait_audit(event="session.end", session=ein["session"])
    world.bastion.wait_audit(event="recording.sealed")
    t = replay(world, build_dir, rec["path"], "--text")
    assert t.returncode == 0, t.stderr
    assert "file.transfer" in t.stdout and sha(up) in t.stdout
    # the packets as lines, not as bytes
    assert re.search(r"event sftp: > OPEN #\d+ %s write create truncate"
                     % re.escape(str(remote)), t.stdout), t.stdout
    assert re.search(r"event sftp: > OPEN #\d+ %s read\n"
                     % re.escape(str(remote)), t.stdout), t.stdout
    assert "\\x" not in t.stdout, t.stdout
    out = tmp_path / "extracted"
    x = replay(world, build_dir, rec["path"], "--extract-files", str(out))
    assert x.returncode == 0, x.stdout + x.stderr
    got = sorted(os.listdir(out))
    assert len(got) == 2, got
    for name in got:
        assert (out / name).read_bytes() == up, name
    assert "in" in got[0] + got[1] and "out" in got[0] + got[1]
    assert "2 files, every hash matches" in x.stdout, x.stdout

    # the evidence bundle carries the records among the session's lines
    b = p["carol"].ssh("export", rec["recording"], binary=True)
    assert b.returncode == 0, b.stderr
    with tarfile.open(fileobj=io.BytesIO(b.stdout)) as tar:
        audit = [tar.extractfile(m).read().decode() for m in tar.getmembers()
                 if m.name.endswith("audit.log")]
    assert len(audit) == 1
    lines = [l for l in audit[0].splitlines() if "event=file.transfer" in l]
    assert len(lines) == 2 and all(sha(up) in l for l in lines), audit[0]


def test_scp_sftp_mode_recorded(cast, tmp_path):
    world, p = start(cast)
    data = os.urandom(70000)
    src = tmp_path / "fw.img"
    src.write_bytes(data)
    dest = tmp_path / "on-device.img"
    r = scp(p["alice"], str(src), "alice+ct-scanner@bastion:%s" % dest)
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == data
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["sha256"] == sha(data) and ev["result"] == "ok"
    back = tmp_path / "back.img"
    r = scp(p["alice"], "alice+ct-scanner@bastion:%s" % dest, str(back))
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == data
    ev = wait_transfer(world, direction="out", path=str(dest))
    assert ev["sha256"] == sha(data) and ev["bytes"] == str(len(data))


def test_upload_over_file_limit_refused_and_removed(cast, tmp_path):
    world, p = start(cast, files={"max_file_size": "100K"})
    small = os.urandom(50000)
    (tmp_path / "small.bin").write_bytes(small)
    big = os.urandom(400000)
    (tmp_path / "big.bin").write_bytes(big)
    dest_small = tmp_path / "dev-small.bin"
    dest_big = tmp_path / "dev-big.bin"
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "small.bin",
                                             dest_small), "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert dest_small.read_bytes() == small
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "big.bin",
                                             dest_big), "ct-scanner")
    assert r.returncode != 0 or "Failure" in r.stderr, r.stderr
    assert "larger than the limit of 102400 bytes" in r.stderr, r.stderr
    ev = wait_transfer(world, direction="in", path=str(dest_big))
    assert ev["result"] == "refused", ev
    assert int(ev["bytes"]) <= 102400
    assert "limit of 102400 bytes" in ev["reason"]
    # nothing of it is left on the device
    util.wait_until(lambda: not dest_big.exists(), 10,
                    what="the refused partial upload removed")
    assert world.bastion.audit_events(event="sftp.refused", kind="WRITE")


def test_refused_direction_at_open(cast, tmp_path):
    world, p = start(cast, vendor_files={"directions": "out"})
    data = b"patch\n" * 100
    (tmp_path / "patch.bin").write_bytes(data)
    (tmp_path / "log.txt").write_bytes(b"device log\n")
    dest = tmp_path / "dev-patch.bin"
    r = p["alice"].sftp("put %s %s\nget %s %s\nbye\n"
                        % (tmp_path / "patch.bin", dest,
                           tmp_path / "log.txt", tmp_path / "got.txt"),
                        "ct-scanner")
    assert "may not be copied to this device" in r.stderr, r.stderr
    assert not dest.exists()
    assert (tmp_path / "got.txt").read_bytes() == b"device log\n"
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "refused" and ev["bytes"] == "0"
    ev = wait_transfer(world, direction="out",
                       path=str(tmp_path / "log.txt"))
    assert ev["result"] == "ok" and ev["sha256"] == sha(b"device log\n")


def legacy_scp(cast, tmp_path, files):
    """scp -O of 1000 bytes to ct-scanner under files:; (world, result,
    the file on the device, the bytes sent)."""
    world, p = start(cast, files=files)
    data = os.urandom(1000)
    (tmp_path / "a.bin").write_bytes(data)
    dest = tmp_path / "legacy.bin"
    r = scp(p["alice"], "-O", str(tmp_path / "a.bin"),
            "alice+ct-scanner@bastion:%s" % dest)
    return world, r, dest, data


def test_legacy_scp_refused_with_a_files_policy(cast, tmp_path):
    # parsed and recorded by default (test_scp_legacy.py); refuse refuses
    world, r, dest, _ = legacy_scp(cast, tmp_path, {"legacy_scp": "refuse"})
    assert r.returncode != 0
    assert "scp -O" in r.stderr and "legacy_scp: refuse" in r.stderr, \
        r.stderr
    assert not dest.exists()
    assert world.bastion.audit_events(event="sftp.refused", kind="scp")


def test_legacy_scp_opaque_when_the_policy_says_so(cast, tmp_path):
    world, r, dest, data = legacy_scp(cast, tmp_path,
                                      {"legacy_scp": "opaque"})
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == data
    world.bastion.wait_audit(event="session.end")
    assert not transfers(world)     # opaque: no per-file record


def packet(body):
    return struct.pack(">I", len(body)) + body


@pytest.mark.parametrize("bad,why", [
    # CLOSE with a byte left over after its handle
    (packet(b"\x04" + struct.pack(">I", 9) + struct.pack(">I", 1) + b"h" +
            b"\x00"), "CLOSE (request 9): malformed fields"),
    # a declared length over 256 KiB
    (struct.pack(">I", 300000) + b"\x03", "longer than 262144 bytes"),
])
def test_malformed_packet_ends_only_that_channel(cast, tmp_path, bad, why):
    world, p = start(cast)
    init = packet(b"\x01" + struct.pack(">I", 3))
    r = p["alice"].ssh("sftp", login="alice+ct-scanner", options=["-s"],
                       input=init + bad, binary=True)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "malformed packet from your client" in err and why in err, err
    ev = world.bastion.wait_audit(event="sftp.malformed")
    assert why in ev["reason"]
    # the bastion goes on: the next transfer works
    (tmp_path / "ok.txt").write_bytes(b"fine\n")
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "ok.txt",
                                             tmp_path / "ok-dev.txt"),
                        "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ok-dev.txt").read_bytes() == b"fine\n"


N_MANY = 1050


def test_many_files_recorded_without_an_audit_flood(cast, tmp_path):
    """More files than the monitor takes audit lines in one window (1000
    per 10 s): the child records at most 400 per window, the engineer's
    requests wait, every file is recorded, and the session is not killed
    for a flood. (About 25 s.)"""
    world, p = start(cast)
    src = tmp_path / "many"
    src.mkdir()
    for i in range(N_MANY):
        (src / ("f%03d.txt" % i)).write_bytes(b"file %d\n" % i)
    dest = tmp_path / "on-device"
    dest.mkdir()
    r = p["alice"].sftp("put -r %s %s\nbye\n" % (src, dest), "ct-scanner",
                        timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(os.listdir(dest / "many")) == N_MANY
    world.bastion.wait_audit(event="session.end", timeout=30)
    recs = transfers(world, direction="in", result="ok")
    assert len(recs) == N_MANY
    assert {e["sha256"] for e in recs} == {
        sha(b"file %d\n" % i) for i in range(N_MANY)}
    assert not world.bastion.audit_events(event="monitor.audit_refused")


def test_download_and_session_limits(cast, tmp_path):
    """A download past max_file_size is kept from the client; past
    max_session_bytes the next upload is refused and removed."""
    world, p = start(cast, files={"max_file_size": "100K",
                                  "max_session_bytes": "150K"})
    big = tmp_path / "dev-big.log"          # already on the device
    big.write_bytes(os.urandom(300000))
    got = tmp_path / "got.log"
    r = p["alice"].sftp("get %s %s\nbye\n" % (big, got), "ct-scanner")
    assert "over the limit of 102400 bytes for one file" in r.stderr, \
        r.stderr
    ev = wait_transfer(world, direction="out", path=str(big))
    assert ev["result"] == "refused" and int(ev["bytes"]) <= 102400
    # 80 KB + 80 KB in one session: the second crosses 150 KiB
    a = os.urandom(80000)
    (tmp_path / "a.bin").write_bytes(a)
    r = p["alice"].sftp("put %s %s\nput %s %s\nbye\n" % (
        tmp_path / "a.bin", tmp_path / "dev-a1.bin",
        tmp_path / "a.bin", tmp_path / "dev-a2.bin"), "ct-scanner")
    assert "moved its limit of 153600 bytes" in r.stderr, r.stderr
    assert (tmp_path / "dev-a1.bin").read_bytes() == a
    util.wait_until(lambda: not (tmp_path / "dev-a2.bin").exists(), 10,
                    what="the refused second upload removed")
    ev = wait_transfer(world, direction="in",
                       path=str(tmp_path / "dev-a2.bin"))
    assert ev["result"] == "refused"


def test_directions_none_and_changes_refused(cast, tmp_path):
    world, p = start(cast, files={"directions": "none"})
    (tmp_path / "x.txt").write_bytes(b"x\n")
    r = p["alice"].sftp("get %s %s\nmkdir %s\nls %s\nbye\n" % (
        tmp_path / "x.txt", tmp_path / "y.txt", tmp_path / "newdir",
        tmp_path), "ct-scanner")
    assert "may not be copied from this device" in r.stderr, r.stderr
    assert "MKDIR changes the device" in r.stderr, r.stderr
    assert not (tmp_path / "y.txt").exists()
    assert not (tmp_path / "newdir").exists()
    assert "x.txt" in r.stdout          # listing is not a transfer
    world.bastion.wait_audit(event="sftp.refused", kind="MKDIR")


def test_resumed_upload_is_not_sequential(cast, tmp_path, build_dir):
    """sftp reput writes from where the device's copy ends: the record
    says so (sequential=no) and its hash is of the bytes that crossed."""
    world, p = start(cast)
    data = os.urandom(200000)
    (tmp_path / "full.bin").write_bytes(data)
    dest = tmp_path / "dev-full.bin"
    dest.write_bytes(data[:70000])          # an earlier, cut upload
    r = p["alice"].sftp("reput %s %s\nbye\n" % (tmp_path / "full.bin",
                                               dest), "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == data
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["sequential"] == "no" and ev["result"] == "ok"
    assert ev["bytes"] == str(200000 - 70000)
    assert ev["size"] == str(200000)
    assert ev["sha256"] == sha(data[70000:])
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=ev["session"])
    world.bastion.wait_audit(event="recording.sealed")
    out = tmp_path / "x"
    x = replay(world, build_dir, rec["path"], "--extract-files", str(out))
    assert x.returncode == 0, x.stdout + x.stderr
    assert "not sequential" in x.stdout
    (name,) = os.listdir(out)
    assert (out / name).read_bytes()[70000:] == data[70000:]


# ---- the import airlock (files: scan: clamd) -------------------------------

@pytest.fixture
def clamd():
    from harness.clamd import Clamd
    c = Clamd().start()
    yield c
    c.close()


def airlock(cast, clamd, **extra):
    files = {"scan": "clamd", "clamd_socket": clamd.socket}
    files.update(extra)
    return start(cast, files=files)


def recorded_text(world, build_dir, session):
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=session)
    world.bastion.wait_audit(event="session.end", session=session)
    world.bastion.wait_audit(event="recording.sealed")
    t = replay(world, build_dir, rec["path"], "--text")
    assert t.returncode == 0, t.stderr
    return rec, t.stdout


def extracted(world, build_dir, rec, tmp_path):
    """The files bastion-replay --extract-files gives back (it must say
    every hash matches)."""
    out = tmp_path / "extracted"
    x = replay(world, build_dir, rec["path"], "--extract-files", str(out))
    assert x.returncode == 0, x.stdout + x.stderr
    return [(out / n).read_bytes() for n in sorted(os.listdir(out))]


def test_airlock_clean_upload_scanned_placed_and_read_back(
        cast, clamd, tmp_path, build_dir):
    world, p = airlock(cast, clamd)
    data = os.urandom(200000)
    (tmp_path / "fw.img").write_bytes(data)
    dest = tmp_path / "dev-fw.img"
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "fw.img", dest),
                        "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == data
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "ok" and ev["sha256"] == sha(data), ev
    assert len(clamd.scans()) == 1 and "OK" in clamd.scans()[0]
    # the recording: scanned clean, placed, the read-back's hash the same
    rec, text = recorded_text(world, build_dir, ev["session"])
    assert re.search(r"airlock\.scan.*bytes=200000 sha256=%s result=clean"
                     % sha(data), text), text
    assert re.search(r"airlock\.placed.*sha256=%s read_back=%s"
                     % (sha(data), sha(data)), text), text
    # and --extract-files follows the file through the airlock's answers
    assert extracted(world, build_dir, rec, tmp_path) == [data]


def test_airlock_scp_clean_upload(cast, clamd, tmp_path):
    world, p = airlock(cast, clamd)
    data = os.urandom(70000)
    (tmp_path / "patch.bin").write_bytes(data)
    dest = tmp_path / "dev-patch.bin"
    r = scp(p["alice"], str(tmp_path / "patch.bin"),
            "alice+ct-scanner@bastion:%s" % dest)
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == data
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "ok" and ev["sha256"] == sha(data)


def test_airlock_eicar_refused_never_on_the_device(cast, clamd, tmp_path,
                                                   build_dir):
    from harness.clamd import EICAR
    world, p = airlock(cast, clamd)
    (tmp_path / "eicar.com").write_bytes(EICAR)
    dest = tmp_path / "dev-eicar.com"
    # an existing file of that name is left as it was
    dest.write_bytes(b"the device's own file\n")
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "eicar.com", dest),
                        "ct-scanner")
    assert "refused by the airlock: the virus scanner found " \
        "Eicar-Test-Signature" in r.stderr, r.stderr
    assert dest.read_bytes() == b"the device's own file\n"
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "refused", ev
    assert "Eicar-Test-Signature" in ev["reason"], ev
    assert ev["sha256"] == sha(EICAR)
    # the recording keeps the evidence: what was refused, byte for byte
    rec, text = recorded_text(world, build_dir, ev["session"])
    assert "result=found reason=Eicar-Test-Signature" in text, text
    assert extracted(world, build_dir, rec, tmp_path) == [EICAR]


def test_airlock_clamd_down_refuses(cast, clamd, tmp_path):
    world, p = airlock(cast, clamd)
    clamd.stop()
    (tmp_path / "clean.txt").write_bytes(b"a clean file\n" * 100)
    dest = tmp_path / "dev-clean.txt"
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "clean.txt", dest),
                        "ct-scanner")
    assert "refused by the airlock: the virus scanner (clamd at %s) " \
        "cannot be reached" % clamd.socket in r.stderr, r.stderr
    assert not dest.exists()
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "refused" and "cannot be reached" in ev["reason"]


def test_airlock_over_the_limit_refused_before_scanning(cast, clamd,
                                                        tmp_path):
    world, p = airlock(cast, clamd, max_file_size="100K")
    (tmp_path / "big.bin").write_bytes(os.urandom(300000))
    dest = tmp_path / "dev-big.bin"
    r = p["alice"].sftp("put %s %s\nbye\n" % (tmp_path / "big.bin", dest),
                        "ct-scanner")
    assert "refused by the airlock: %s is larger than the limit of 102400 " \
        "bytes" % dest in r.stderr, r.stderr
    assert not dest.exists()
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "refused" and "102400" in ev["reason"], ev
    assert int(ev["bytes"]) <= 102400
    assert clamd.scans() == []          # never scanned


def test_airlock_types_by_content(cast, clamd, tmp_path):
    world, p = airlock(cast, clamd, types=["text/plain"])
    (tmp_path / "notes.bin").write_bytes(b"maintenance notes\n" * 50)
    (tmp_path / "fw.txt").write_bytes(b"\x7fELF\x02\x01\x01" +
                                      os.urandom(5000))
    ok = tmp_path / "dev-notes.bin"
    bad = tmp_path / "dev-fw.txt"
    r = p["alice"].sftp("put %s %s\nput %s %s\nbye\n"
                        % (tmp_path / "notes.bin", ok, tmp_path / "fw.txt",
                           bad), "ct-scanner")
    # by content, not by name: the .bin of text passes, the .txt not
    assert ok.read_bytes() == b"maintenance notes\n" * 50
    assert "refused by the airlock: its type by content, " \
        "application/octet-stream" in r.stderr, r.stderr
    assert "is not one this device takes (files: types)" in r.stderr
    assert not bad.exists()
    ev = wait_transfer(world, direction="in", path=str(bad))
    assert ev["result"] == "refused" and "files: types" in ev["reason"]
    assert wait_transfer(world, direction="in", path=str(ok))["result"] \
        == "ok"


def test_airlock_refuses_a_resumed_upload(cast, clamd, tmp_path):
    """reput opens with APPEND, to write from where the device's copy
    ends: the airlock scans whole files only, so it refuses at OPEN, and
    the device's part stays as it was."""
    world, p = airlock(cast, clamd)
    data = os.urandom(100000)
    (tmp_path / "fw.img").write_bytes(data)
    dest = tmp_path / "dev-fw.img"
    dest.write_bytes(data[:40000])
    r = p["alice"].sftp("reput %s %s\nbye\n" % (tmp_path / "fw.img", dest),
                        "ct-scanner")
    assert "refused by the airlock: an upload is scanned whole, so it " \
        "cannot resume" in r.stderr, r.stderr
    assert dest.read_bytes() == data[:40000]
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "refused" and ev["bytes"] == "0", ev
    assert clamd.scans() == []
