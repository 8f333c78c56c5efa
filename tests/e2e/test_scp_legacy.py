"""Legacy scp (issue 18, docs/FILES.md "Legacy scp"): real OpenSSH `scp -O`
and PuTTY `pscp -scp` through the real bastiond to a real sshd device, the
rcp protocol read file by file in the session child (proto/scp.c,
bastion/relay_scp.c).

Every file is a `file.transfer` audit event and an EVENT frame in the
recording, with the SHA-256 of its bytes, as over SFTP; bastion-replay
--extract-files gives each file back byte for byte; a C line announcing a
file over the files: limits is refused before any of its bytes reach the
other side; a closed direction, the import airlock (scan: clamd) and export
approval (approve: out) refuse scp -O with a message naming why; a
malformed stream ends only its channel.
"""

import io
import os
import re
import tarfile

import pytest

from harness import util
from test_putty import putty  # noqa: F401  (the fixture)
from test_sftp_airlock import (clamd, replay, scp, sha,  # noqa: F401
                               start, transfers, wait_transfer)

MIB = 1024 * 1024


def recording(world, session):
    """The sealed recording of session (its audit event)."""
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=session)
    world.bastion.wait_audit(event="session.end", session=session)
    world.bastion.wait_audit(event="recording.sealed",
                             session=rec["recording"])
    return rec


def extract(world, build_dir, rec, out):
    x = replay(world, build_dir, rec["path"], "--extract-files", str(out))
    return x, {n: (out / n).read_bytes() for n in sorted(os.listdir(out))}


def test_upload_and_download_recorded_with_hashes(cast, tmp_path,
                                                  build_dir):
    world, p = start(cast)
    up = os.urandom(3 * MIB + 12345)
    src = tmp_path / "firmware.bin"
    src.write_bytes(up)
    remote = tmp_path / "on-device.bin"
    r = scp(p["alice"], "-O", str(src), "alice+ct-scanner@bastion:%s" % remote)
    assert r.returncode == 0, r.stderr
    assert remote.read_bytes() == up
    ein = wait_transfer(world, direction="in", path=str(remote))
    assert ein["sha256"] == sha(up) and ein["result"] == "ok", ein
    assert ein["bytes"] == ein["size"] == str(len(up))
    assert ein["user"] == "alice" and ein["device"] == "ct-scanner"

    back = tmp_path / "back.bin"
    r = scp(p["alice"], "-O", "alice+ct-scanner@bastion:%s" % remote,
            str(back))
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == up
    eout = wait_transfer(world, direction="out", path=str(remote))
    assert eout["sha256"] == sha(up) and eout["result"] == "ok", eout
    assert eout["session"] != ein["session"]

    # the recording: --text shows the record, --extract-files writes the
    # bytes and finds them matching the record
    for ev, direction in ((ein, "in"), (eout, "out")):
        rec = recording(world, ev["session"])
        t = replay(world, build_dir, rec["path"], "--text")
        assert t.returncode == 0, t.stderr
        assert "file.transfer" in t.stdout and sha(up) in t.stdout, t.stdout
        # the channel as the protocol's lines, the 3 MiB as one line
        src, snk = (">", "<") if direction == "in" else ("<", ">")
        lines = [ln.split("event scp: ", 1)[1] for ln in
                 t.stdout.splitlines() if "event scp: " in ln]
        name = "firmware.bin" if direction == "in" else "on-device.bin"
        assert lines == [
            "%s ok" % snk,
            "%s C0%o %d %s (file 1: %s)" % (src, remote.stat().st_mode &
                                            0o777, len(up), name, remote),
            "%s ok" % snk,
            "%s data of file 1: %d bytes" % (src, len(up)),
            "%s end of file 1" % src,
            "%s ok" % snk], t.stdout
        assert not re.search(r"^\[[0-9:.]+\] [|+>] ", t.stdout, re.M), \
            t.stdout
        x, files = extract(world, build_dir, rec, tmp_path / direction)
        assert x.returncode == 0, x.stdout + x.stderr
        assert list(files.values()) == [up], list(files)
        assert list(files)[0].startswith("0001-%s-" % direction)
        assert "1 files, every hash matches" in x.stdout, x.stdout

    # the evidence bundle carries the record among the session's lines
    rec = recording(world, ein["session"])
    b = p["carol"].ssh("export", rec["recording"], binary=True)
    assert b.returncode == 0, b.stderr
    with tarfile.open(fileobj=io.BytesIO(b.stdout)) as tar:
        audit = [tar.extractfile(m).read().decode() for m in tar.getmembers()
                 if m.name.endswith("audit.log")]
    lines = [l for l in audit[0].splitlines() if "event=file.transfer" in l]
    assert len(lines) == 1 and sha(up) in lines[0], audit[0]


def make_tree(root):
    """A small tree of binary files, two levels deep; {relpath: bytes}."""
    want = {}
    for rel, n in (("a.bin", 100000), ("sub/b.bin", 1), ("sub/empty", 0),
                   ("sub/deeper/c.bin", 70000)):
        data = os.urandom(n)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        want[rel] = data
    return want


def test_recursive_tree_recorded_with_full_paths(cast, tmp_path, build_dir):
    world, p = start(cast)
    tree = tmp_path / "tree"
    want = make_tree(tree)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = scp(p["alice"], "-O", "-r", str(tree),
            "alice+ct-scanner@bastion:%s/" % inbox)
    assert r.returncode == 0, r.stderr
    for rel, data in want.items():
        assert (inbox / "tree" / rel).read_bytes() == data, rel
        ev = wait_transfer(world, direction="in",
                           path=str(inbox / "tree" / rel))
        assert ev["sha256"] == sha(data) and ev["result"] == "ok", ev
    session = ev["session"]
    assert len(transfers(world, session=session)) == len(want)

    got = tmp_path / "got"
    got.mkdir()
    r = scp(p["alice"], "-O", "-r", "alice+ct-scanner@bastion:%s"
            % (inbox / "tree"), str(got))
    assert r.returncode == 0, r.stderr
    for rel, data in want.items():
        assert (got / "tree" / rel).read_bytes() == data, rel
        ev = wait_transfer(world, direction="out",
                           path=str(inbox / "tree" / rel))
        assert ev["sha256"] == sha(data), ev

    rec = recording(world, session)
    x, files = extract(world, build_dir, rec, tmp_path / "x")
    assert x.returncode == 0, x.stdout + x.stderr
    assert "4 files, every hash matches" in x.stdout, x.stdout
    assert sorted(files.values()) == sorted(d for d in want.values() if d)


def test_file_over_the_limit_refused_before_any_byte(cast, tmp_path,
                                                     build_dir):
    world, p = start(cast, files={"max_file_size": "1M"})
    small = os.urandom(300000)
    big = os.urandom(2 * MIB)
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "small.bin").write_bytes(small)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # one command, the big file first: refused, the small one still goes
    r = scp(p["alice"], "-O", str(tmp_path / "big.bin"),
            str(tmp_path / "small.bin"), "alice+ct-scanner@bastion:%s"
            % inbox)
    assert r.returncode != 0
    assert "larger than the limit of 1048576 bytes for one file" in \
        r.stderr, r.stderr
    assert "before any of its bytes reach the device" in r.stderr
    assert not (inbox / "big.bin").exists()     # nothing on the device
    assert (inbox / "small.bin").read_bytes() == small
    ev = wait_transfer(world, direction="in", path=str(inbox / "big.bin"))
    assert ev["result"] == "refused" and ev["bytes"] == "0", ev
    assert ev["size"] == str(len(big))
    assert "limit of 1048576 bytes" in ev["reason"]
    assert world.bastion.audit_events(event="sftp.refused", kind="scp")
    ok = wait_transfer(world, direction="in", path=str(inbox / "small.bin"))
    assert ok["sha256"] == sha(small) and ok["result"] == "ok"
    rec = recording(world, ev["session"])
    x, files = extract(world, build_dir, rec, tmp_path / "x")
    assert x.returncode == 0, x.stdout + x.stderr
    assert list(files.values()) == [small], list(files)
    assert "refused" in x.stdout

    # a download over the limit: the device's C line goes no further
    (tmp_path / "dev-big.bin").write_bytes(big)
    r = scp(p["alice"], "-O", "alice+ct-scanner@bastion:%s"
            % (tmp_path / "dev-big.bin"), str(tmp_path / "got.bin"))
    assert r.returncode != 0
    assert "larger than the limit" in r.stderr, r.stderr
    assert not (tmp_path / "got.bin").exists()
    ev = wait_transfer(world, direction="out",
                       path=str(tmp_path / "dev-big.bin"))
    assert ev["result"] == "refused" and ev["bytes"] == "0", ev


def test_session_limit_refuses_the_file_that_would_pass_it(cast, tmp_path):
    world, p = start(cast, files={"max_session_bytes": "500K"})
    a, b = os.urandom(300000), os.urandom(300000)
    (tmp_path / "a.bin").write_bytes(a)
    (tmp_path / "b.bin").write_bytes(b)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = scp(p["alice"], "-O", str(tmp_path / "a.bin"),
            str(tmp_path / "b.bin"), "alice+ct-scanner@bastion:%s" % inbox)
    assert r.returncode != 0
    assert "past its limit of 512000 bytes" in r.stderr, r.stderr
    assert (inbox / "a.bin").read_bytes() == a
    assert not (inbox / "b.bin").exists()
    ev = wait_transfer(world, direction="in", path=str(inbox / "b.bin"))
    assert ev["result"] == "refused", ev


def test_refused_direction(cast, tmp_path):
    world, p = start(cast, vendor_files={"directions": "out"})
    (tmp_path / "patch.bin").write_bytes(b"patch\n")
    dest = tmp_path / "dev-patch.bin"
    r = scp(p["alice"], "-O", str(tmp_path / "patch.bin"),
            "alice+ct-scanner@bastion:%s" % dest)
    assert r.returncode != 0
    assert "files may not be copied to this device (policy: files: " \
        "directions)" in r.stderr, r.stderr
    assert not dest.exists()
    ev = world.bastion.wait_audit(event="sftp.refused", kind="scp")
    assert "directions" in ev["reason"] and ev["path"] == str(dest)
    # the open direction is parsed and recorded
    (tmp_path / "log.txt").write_bytes(b"device log\n")
    r = scp(p["alice"], "-O", "alice+ct-scanner@bastion:%s"
            % (tmp_path / "log.txt"), str(tmp_path / "got.txt"))
    assert r.returncode == 0, r.stderr
    ev = wait_transfer(world, direction="out", path=str(tmp_path / "log.txt"))
    assert ev["result"] == "ok" and ev["sha256"] == sha(b"device log\n")


EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
         b"$H+H*")


def test_airlock_and_export_approval_refuse_scp_with_the_reason(
        cast, clamd, tmp_path):  # noqa: F811
    world, p = start(cast, files={"scan": "clamd",
                                  "clamd_socket": clamd.socket,
                                  "approve": "out"})
    (tmp_path / "eicar.com").write_bytes(EICAR)
    dest = tmp_path / "dev-eicar.com"
    r = scp(p["alice"], "-O", str(tmp_path / "eicar.com"),
            "alice+ct-scanner@bastion:%s" % dest)
    assert r.returncode != 0
    assert "cannot go through the import airlock (policy: files: scan: " \
        "clamd)" in r.stderr and "without -O" in r.stderr, r.stderr
    assert not dest.exists() and not clamd.scans()
    (tmp_path / "log.txt").write_bytes(b"device log\n")
    r = scp(p["alice"], "-O", "alice+ct-scanner@bastion:%s"
            % (tmp_path / "log.txt"), str(tmp_path / "got.txt"))
    assert r.returncode != 0
    assert "cannot wait for export approval (policy: files: approve: " \
        "out)" in r.stderr, r.stderr
    assert not (tmp_path / "got.txt").exists()
    assert len(world.bastion.audit_events(event="sftp.refused",
                                          kind="scp")) == 2
    assert not transfers(world)


@pytest.mark.parametrize("garbage,why", [
    (b"Xnot a control line\n", "not C, D, E, T"),
    (b"C0644 12 ../../etc/passwd\n", "a name with '/'"),
    (b"C06x4 12 a\n", "the mode is not four octal digits"),
    (b"E\n", "E line without its D line"),
    (b"C0644 99999999999999999999 a\n", "a size of at most"),
    (b"C0644 1 " + b"a" * 5000 + b"\n", "a line longer than"),
    # OpenSSH's scp reads 2047 bytes of a line and the rest as the next:
    # a C line hidden behind a long warning, its data as more warnings,
    # would be a file on the device the bastion never saw
    (b"\x01" + b"x" * 2046 + b"C0644 7 evil\n\x01abcde\n\x01end\n",
     "a line longer than 2047 bytes"),
])
def test_malformed_stream_ends_only_that_channel(cast, tmp_path, garbage,
                                                 why):
    world, p = start(cast)
    dest = tmp_path / "dev-x"
    r = p["alice"].ssh("scp -t %s" % dest, login="alice+ct-scanner",
                       input=garbage, binary=True)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "scp: a malformed stream from the client" in err, err
    assert why in err, err
    ev = world.bastion.wait_audit(event="sftp.malformed")
    assert ev["reason"].startswith("scp: from the client") and \
        why in ev["reason"], ev
    assert not dest.exists()
    # the bastion goes on serving: the next scp -O works
    (tmp_path / "ok.bin").write_bytes(b"fine\n")
    r = scp(p["alice"], "-O", str(tmp_path / "ok.bin"),
            "alice+ct-scanner@bastion:%s" % dest)
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == b"fine\n"


def test_pscp_scp_mode_recorded(putty, tmp_path, build_dir):  # noqa: F811
    world, target, run = putty
    data = os.urandom(MIB + 7)
    (tmp_path / "fw.bin").write_bytes(data)
    dest = tmp_path / "dev-fw.bin"
    r, _ = run("pscp", "-scp", "-q", str(tmp_path / "fw.bin"),
               "%s:%s" % (target, dest))
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == data
    ein = wait_transfer(world, direction="in", path=str(dest))
    assert ein["sha256"] == sha(data) and ein["result"] == "ok", ein
    r, _ = run("pscp", "-scp", "-q", "%s:%s" % (target, dest),
               str(tmp_path / "back.bin"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back.bin").read_bytes() == data
    eout = wait_transfer(world, direction="out", path=str(dest))
    assert eout["sha256"] == sha(data) and eout["result"] == "ok", eout
    rec = recording(world, eout["session"])
    x, files = extract(world, build_dir, rec, tmp_path / "x")
    assert x.returncode == 0, x.stdout + x.stderr
    assert list(files.values()) == [data]
    assert re.search(r"0001-out-dev-fw\.bin", x.stdout), x.stdout


def test_pscp_scp_mode_over_the_limit_refused(putty, tmp_path):  # noqa: F811
    world, target, run = putty
    world.vendors["initech"]["files"] = {"max_file_size": "512K"}
    world.write_policy()
    world.bastion.restart()
    big = os.urandom(MIB)
    (tmp_path / "big.bin").write_bytes(big)
    dest = tmp_path / "dev-big.bin"
    r, _ = run("pscp", "-scp", "-q", str(tmp_path / "big.bin"),
               "%s:%s" % (target, dest))
    err = r.stderr.decode(errors="replace")
    assert r.returncode != 0
    assert "larger than the limit of 524288 bytes for one file" in err, err
    assert not dest.exists()
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "refused" and ev["bytes"] == "0", ev


def test_many_files_wait_for_the_next_audit_window(cast, tmp_path):
    """Past 400 records in 10 s the source waits for the next window (the
    monitor kills a child that hands it over 1000 audit lines in 10 s)."""
    from datetime import datetime
    world, p = start(cast)
    tree = tmp_path / "many"
    tree.mkdir()
    for i in range(420):
        (tree / ("f%03d" % i)).write_bytes(b"%d\n" % i)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = scp(p["alice"], "-O", "-r", str(tree),
            "alice+ct-scanner@bastion:%s/" % inbox, timeout=90)
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(inbox / "many")) == 420
    evs = util.wait_until(lambda: (lambda e: e if len(e) == 420 else None)(
        transfers(world, direction="in")), 20, what="420 records")
    assert all(e["result"] == "ok" for e in evs)

    def when(e):
        return datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    waited = (when(evs[400]) - when(evs[0])).total_seconds()
    assert waited >= 8, "the 401st file came %.1f s after the first" % waited


def test_the_devices_refusals_pass_through_and_are_recorded(cast, tmp_path):
    world, p = start(cast)
    (tmp_path / "a.bin").write_bytes(b"a" * 100)
    (tmp_path / "b.bin").write_bytes(b"b" * 100)
    nowhere = tmp_path / "no" / "such" / "dir"
    # one file into a folder that is not there: the device refuses its C
    # line; recorded failed with the device's words
    r = scp(p["alice"], "-O", str(tmp_path / "a.bin"),
            "alice+ct-scanner@bastion:%s/a.bin" % nowhere, timeout=30)
    assert r.returncode != 0
    assert "No such file or directory" in r.stderr, r.stderr
    assert "malformed" not in r.stderr
    ev = wait_transfer(world, direction="in", path="%s/a.bin" % nowhere)
    assert ev["result"] == "failed" and ev["bytes"] == "0", ev
    assert "the device answered" in ev["reason"], ev
    # two files (-d): the device refuses before its first \0
    r = scp(p["alice"], "-O", str(tmp_path / "a.bin"),
            str(tmp_path / "b.bin"),
            "alice+ct-scanner@bastion:%s" % nowhere, timeout=30)
    assert r.returncode != 0 and "malformed" not in r.stderr, r.stderr
    assert not world.bastion.audit_events(event="sftp.malformed")
    # a download of a file that is not there
    r = scp(p["alice"], "-O", "alice+ct-scanner@bastion:%s/x" % nowhere,
            str(tmp_path / "x"), timeout=30)
    assert r.returncode != 0 and "No such file" in r.stderr, r.stderr
    assert not world.bastion.audit_events(event="sftp.malformed")
