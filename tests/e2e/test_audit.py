"""The hash-chained audit log, the evidence bundle and the monthly report
(issue 6, items 4 and 6; docs/AUDIT.md), with real ssh clients.

- every audit event of a real session lands in STATE_DIR/audit.log, which
  `bastion-verify --audit` proves intact, and which fails after one byte
  is changed, a line is dropped or the last line is torn;
- a session is refused when its start cannot be written to the chain
  (fail closed), and goes again once the chain is set aside;
- `ssh carol@bastion export ID > bundle.tar` verifies offline, and fails
  after the recording, the MANIFEST or an audit line inside it is
  tampered with, or when another recorder key is expected; its MANIFEST is
  signed by the recorder, which signs only what matches its own files; a
  recording cut back to a checkpoint is caught by the recorder's
  recording.sealed line (issue 13, item 7); without the expected key the
  verdict says so and exits 4;
- `bastionctl report --month` lists the session with who, from where, to
  where, approval, work record and recording status, as a table and as
  JSON, and warns when the chain is broken.
"""

import fcntl
import hashlib
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import tarfile
import time

import pytest

from harness import util

DOMAIN = b"bastion-audit-v1\n"


# -- helpers ------------------------------------------------------------------

@pytest.fixture
def verify_bin(build_dir):
    p = build_dir / "bastion-verify"
    if not os.access(p, os.X_OK):
        pytest.fail("bastion-verify not found at %s" % p)

    def run(*args, timeout=60):
        return subprocess.run([str(p)] + [str(a) for a in args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)
    return run


def chain_path(world):
    return world.bastion.state_dir / "audit.log"


def chain_lines(world):
    return chain_path(world).read_bytes().splitlines()


def line_hash(text):
    """The hash a chain line (bytes, no newline) must carry."""
    return hashlib.sha256(DOMAIN + text[:-70]).hexdigest()


def fields(line):
    """A chain line's fields (bytes -> dict of str)."""
    return util.parse_logfmt(line.decode("utf-8", "replace"))


def append_chain(world, body):
    """Append one event to the live chain as bastiond would: under the
    flock, after the last line (an independent implementation of the
    format in docs/AUDIT.md)."""
    with open(chain_path(world), "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        data = f.read()
        last = data.splitlines()[-1]
        lf = fields(last)
        text = ("seq=%d prev=%s %s" % (int(lf["seq"]) + 1, lf["hash"],
                                       body)).encode()
        h = hashlib.sha256(DOMAIN + text).hexdigest()
        f.seek(0, os.SEEK_END)
        f.write(text + b" hash=" + h.encode() + b"\n")
        f.flush()
        fcntl.flock(f, fcntl.LOCK_UN)


def finished_session(world, person, device, command):
    """Run command on device through the bastion; return (session number,
    recording id) once the session has ended."""
    n = len(world.bastion.audit_events(event="session.end",
                                       user=person.name))
    r = person.ssh(device, command)
    assert r.returncode == 0, r.stderr
    end = world.bastion.wait_audit(event="session.end", user=person.name,
                                   after=n, timeout=15)
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=end["session"])
    return end["session"], rec["recording"]


def approved_session(world, p, reason):
    """gina runs `true` on pacs giving reason, and waits; bob approves her
    request. Returns the request id once her session has run."""
    proc = p["gina"].popen("pacs", "--reason", reason, "true",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    req = world.bastion.wait_audit(event="approval.requested", user="gina",
                                   timeout=20)
    a = p["bob"].ssh("approve", req["request"], "1h")
    assert a.returncode == 0, a.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return req["request"]


def wait_sealed(world, rec_id):
    world.bastion.wait_audit(event="recording.sealed", session=rec_id)


# -- the chain --------------------------------------------------------------

def test_chain_keeps_every_event_and_detects_edits(site, verify_bin,
                                                   tmp_path):
    world, p = site
    sid, rec_id = finished_session(world, p["alice"], "ct-scanner",
                                   "echo chained-$((6*7))")
    chain = chain_path(world)
    assert oct(chain.stat().st_mode & 0o777) == "0o640"
    lines = chain_lines(world)
    evs = [fields(x) for x in lines]
    # each line is self-describing: seq, prev, the event, its own hash
    assert [int(e["seq"]) for e in evs] == list(range(1, len(evs) + 1))
    assert evs[0]["prev"] == "0" * 64
    for a, b, raw in zip(evs, evs[1:], lines[1:]):
        assert b["prev"] == a["hash"]
        assert line_hash(raw) == b["hash"]
    names = [e["event"] for e in evs]
    assert "bastion.start" in names
    start = [e for e in evs if e["event"] == "session.start"
             and e.get("session") == sid]
    assert len(start) == 1, names
    s = start[0]
    assert s["user"] == "alice" and s["vendor"] == "acme"
    assert s["device"] == "ct-scanner"
    assert s["to"] == "127.0.1.10:%d" % world.devices["ct-scanner"].port
    assert s["recording"] == rec_id and s["kind"] == "exec"
    for ev in ("auth.result", "session.recording", "device.connect",
               "session.end"):
        assert any(e["event"] == ev and e.get("session") == sid
                   for e in evs), ev
    # the journal/stderr line of each event carries its chain witness
    end = world.bastion.wait_audit(event="session.end", session=sid)
    seq, h = end["chain"].split(":")
    assert evs[int(seq) - 1]["hash"] == h
    assert evs[int(seq) - 1]["event"] == "session.end"

    ok = verify_bin("--audit", chain)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact: %d lines" % len(lines) in ok.stdout
    # found by content too
    assert verify_bin(chain).returncode == 0

    # one byte changed in the session.start line
    i = names.index("session.start")
    edited = list(lines)
    edited[i] = edited[i].replace(b"user=alice", b"user=alicf")
    bad = tmp_path / "edited.log"
    bad.write_bytes(b"\n".join(edited) + b"\n")
    r = verify_bin("--audit", bad)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "ALTERED: line %d:" % (i + 1) in r.stderr
    assert "edited" in r.stderr

    # a line dropped
    dropped = tmp_path / "dropped.log"
    dropped.write_bytes(b"\n".join(lines[:i] + lines[i + 1:]) + b"\n")
    r = verify_bin("--audit", dropped)
    assert r.returncode == 1 and "line %d" % (i + 1) in r.stderr

    # the last line torn: everything before it still verifies
    torn = tmp_path / "torn.log"
    torn.write_bytes(b"\n".join(lines)[:-30])
    r = verify_bin("--audit", torn)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "TORN" in r.stdout and "line %d" % len(lines) in r.stdout


def test_session_refused_when_chain_cannot_be_written(site):
    world, p = site
    chain = chain_path(world)
    with open(chain, "ab") as f:      # the chain cannot go on after this
        f.write(b"this is not an audit chain line\n")
    n = len(world.bastion.audit_events(event="device.connect"))
    r = p["alice"].ssh("ct-scanner", "echo must-not-run")
    assert r.returncode != 0
    assert "must-not-run" not in r.stdout
    assert "cannot be written to the audit log" in r.stderr, r.stderr
    world.bastion.wait_log(r"audit chain: this event is NOT in")
    assert len(world.bastion.audit_events(event="device.connect")) == n
    unwritten = world.bastion.audit_events(event="session.start",
                                           user="alice")
    assert unwritten and unwritten[-1]["chain"] == "unwritten"

    # the operator sets the broken chain aside: a new one starts
    os.rename(chain, str(chain) + ".broken")
    r = p["alice"].ssh("ct-scanner", "echo runs-again")
    assert r.returncode == 0 and r.stdout == "runs-again\n", r.stderr
    first = fields(chain_lines(world)[0])
    assert first["seq"] == "1" and first["prev"] == "0" * 64


def test_reading_recordings_refused_when_chain_cannot_be_written(site):
    """Replaying or exporting a recording and watching a session are
    audited before they happen; without the chain they do not happen."""
    world, p = site
    r = p["alice"].ssh("ct-scanner", "echo recorded")
    assert r.returncode == 0, r.stderr
    rec = world.bastion.wait_audit(event="session.recording", user="alice")
    proc = p["alice"].popen("ct-scanner", "echo live; sleep 30",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"live\n"
        live = world.bastion.wait_audit(event="session.start",
                                        user="alice", command="echo live; "
                                        "sleep 30")
        world.bastion.wait_log(r"session %s: \S+ \(\S+\) on \S+ "
                               r"registered" % live["session"])
        with open(chain_path(world), "ab") as f:
            f.write(b"this is not an audit chain line\n")
        for verb in ("replay", "export"):
            r = p["carol"].ssh(verb, rec["recording"], binary=True)
            assert r.returncode == 1
            assert b"audit log cannot be written" in r.stderr, r.stderr
            assert b"recorded" not in r.stdout
        w = p["bob"].ssh("watch", live["session"])
        assert w.returncode == 1 and "audit log cannot be written" in \
            w.stderr, w.stderr
    finally:
        proc.kill()
        proc.wait()


def test_recorder_events_are_chained(site, verify_bin):
    """The recorder bastiond starts appends recording.start and
    recording.sealed to the same chain."""
    world, p = site
    r = p["alice"].ssh("ct-scanner", "echo sealed-and-chained")
    assert r.returncode == 0, r.stderr
    rec = world.bastion.wait_audit(event="session.recording", user="alice")
    sealed = world.bastion.wait_audit(event="recording.sealed",
                                      session=rec["recording"])
    assert ":" in sealed["chain"], sealed
    text = chain_path(world).read_text()
    assert "event=recording.sealed " in text and rec["recording"] in text
    v = verify_bin("--audit", chain_path(world))
    assert v.returncode == 0, v.stdout + v.stderr


# -- the evidence bundle ----------------------------------------------------

def read_bundle(data):
    """{member name: bytes} and the directory of a bundle."""
    out, top = {}, None
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            top, name = m.name.split("/")
            out[name] = t.extractfile(m).read()
    return top, out


LISTED = ("recording.brec", "recorder.pub", "approval.json", "audit.log",
          "export.txt")
SIG_CONTEXT = b"bastion-evidence-v2 manifest\0"   # recbundle.h


def manifest_of(members):
    return "".join("%s  %s\n" % (hashlib.sha256(members[n]).hexdigest(), n)
                   for n in LISTED).encode()


def sign_manifest(world, manifest, tmp_path):
    """What only the recorder can do: sign with its private key (here the
    test reads the key file, as nobody else on a bastion can)."""
    msg, sig = tmp_path / "to-sign", tmp_path / "sig"
    msg.write_bytes(SIG_CONTEXT + manifest)
    subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey",
                    str(world.bastion.state_dir / "recorder.key"), "-rawin",
                    "-in", str(msg), "-out", str(sig)], check=True,
                   capture_output=True)
    return sig.read_bytes()


def write_bundle(path, top, members, fix_manifest=True, resign=None):
    """Write members (in bastion order) as a tar; recompute MANIFEST unless
    told not to (a forger would). The MANIFEST.sig is kept as it is (a
    forger has no key) unless resign is (world, tmp_path): then it is
    signed again with the recorder's own key, to reach the checks behind
    the signature."""
    members = dict(members)
    if fix_manifest:
        members["MANIFEST"] = manifest_of(members)
    if resign is not None and "MANIFEST.sig" in members:
        members["MANIFEST.sig"] = sign_manifest(resign[0],
                                                members["MANIFEST"],
                                                resign[1])
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members.items():
            ti = tarfile.TarInfo("%s/%s" % (top, name))
            ti.size = len(data)
            ti.mode = 0o444
            t.addfile(ti, io.BytesIO(data))
    return path


def rec_frames(rec):
    """(seq, type, start, end) of each frame of a recording
    (docs/RECORDING-FORMAT.md section 1)."""
    out, off = [], 15
    while off < len(rec):
        length, = struct.unpack(">I", rec[off:off + 4])
        seq, = struct.unpack(">Q", rec[off + 5:off + 13])
        end = off + 4 + length + 32
        out.append((seq, rec[off + 4], off, end))
        off = end
    return out


CHECKPOINT, SEAL = 17, 18


def test_export_bundle_verifies_offline_and_detects_tampering(
        site, verify_bin, tmp_path):
    world, p = site
    sid, rec_id = finished_session(world, p["alice"], "ct-scanner",
                                   "echo evidence-$((6*7))")
    gsid, _ = finished_session(world, p["gina"], "pacs", "true")
    wait_sealed(world, rec_id)

    r = p["carol"].ssh("export", rec_id, binary=True)
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "bundle.tar"
    bundle.write_bytes(r.stdout)
    ev = world.bastion.wait_audit(event="console.verb", user="carol",
                                  verb="export")
    assert ev["status"] == "ok"

    # offline: nothing but the file and the expected key
    pub = world.bastion.state_dir / "recorder.key.pub"
    ok = verify_bin("-k", pub, bundle)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: the bundle is intact" in ok.stdout
    assert "sealed: session %s" % rec_id in ok.stdout
    assert "exported by carol" in ok.stdout
    assert "the expected key" in ok.stdout
    assert "the MANIFEST is signed by the recorder key" in ok.stdout
    assert "seal: the recording is the one the recorder sealed" in ok.stdout
    assert ok.stderr == ""
    fp = util.parse_logfmt(read_bundle(r.stdout)[1]["export.txt"]
                           .decode())["recorder_key"]
    byfp = verify_bin("--fingerprint", fp, bundle)
    assert byfp.returncode == 0, byfp.stdout + byfp.stderr

    # without the expected key: consistent with the key it carries, which
    # proves nothing: said on every run, -q too, with its own exit status
    for quiet in ((), ("-q",)):
        un = verify_bin(*quiet, bundle)
        assert un.returncode == 4, un.stdout + un.stderr
        assert "UNVERIFIED KEY" in un.stderr and fp in un.stderr
        assert "taken from the bundle itself" in un.stderr
    assert "OK:" not in verify_bin(bundle).stdout
    assert verify_bin("-q", bundle).stdout == ""

    top, m = read_bundle(r.stdout)
    assert top == "bastion-evidence-" + rec_id
    assert sorted(m) == sorted(["recording.brec", "recorder.pub",
                                "approval.json", "audit.log", "export.txt",
                                "MANIFEST", "MANIFEST.sig"])
    assert m["recorder.pub"] == pub.read_bytes()
    # MANIFEST is sha256sum's format: the auditor can check it by hand
    ex = tmp_path / "x"
    ex.mkdir()
    with tarfile.open(bundle) as t:
        t.extractall(ex)
    chk = subprocess.run(["sha256sum", "-c", "MANIFEST"], cwd=ex / top,
                         stdout=subprocess.PIPE, text=True)
    assert chk.returncode == 0, chk.stdout
    # the session's own lines, exactly as in the chain
    live = set(chain_lines(world))
    audit = m["audit.log"].splitlines()
    assert audit and all(x in live for x in audit)
    aevs = [fields(x) for x in audit]
    assert {e["event"] for e in aevs} >= {"session.recording",
                                          "session.start", "session.end"}
    assert all(e.get("session") in (sid, rec_id) for e in aevs)
    appr = json.loads(m["approval.json"])
    assert appr["session"] == sid and appr["recording"] == rec_id
    assert appr["admission"] == "not required"
    exp = util.parse_logfmt(m["export.txt"].decode())
    assert exp["exported_by"] == "carol" and exp["chain"] == "intact"
    # by the session number too
    again = p["carol"].ssh("export", sid, binary=True)
    assert again.returncode == 0 and read_bundle(again.stdout)[0] == top

    def tampered(name, fix=True, resign=True, **changes):
        members = dict(m)
        members.update(changes)
        return verify_bin("-k", pub, write_bundle(
            tmp_path / name, top, members, fix_manifest=fix,
            resign=(world, tmp_path) if resign else None))

    # the rebuilt bundle itself still verifies (the test tool is sound)
    same = tampered("same.tar")
    assert same.returncode == 0, same.stdout + same.stderr

    # 0. a forger without the recorder's key: MANIFEST recomputed, the
    # signature cannot be; or the signature dropped
    rec = bytearray(m["recording.brec"])
    i = rec.find(b"evidence-42")
    assert i > 0
    rec[i] ^= 1
    r0 = tampered("nokey.tar", resign=False,
                  **{"recording.brec": bytes(rec)})
    assert r0.returncode == 1, r0.stdout + r0.stderr
    assert "MANIFEST.sig does not verify" in r0.stderr
    unsigned = {k: v for k, v in m.items() if k != "MANIFEST.sig"}
    r0b = verify_bin("-k", pub, write_bundle(tmp_path / "unsigned.tar", top,
                                             unsigned))
    assert r0b.returncode == 1 and "MANIFEST.sig is missing" in r0b.stderr

    # 1. the recording: one byte of the output, MANIFEST recomputed and
    # signed again: the recording's own signatures still catch it
    r1 = tampered("rec.tar", **{"recording.brec": bytes(rec)})
    assert r1.returncode == 1, r1.stdout + r1.stderr
    assert "ALTERED: frame seq" in r1.stderr

    # 2. the recording changed, MANIFEST left as it was
    r2 = tampered("rec-nofix.tar", fix=False,
                  **{"recording.brec": bytes(rec)})
    assert r2.returncode == 1
    assert "recording.brec does not match its SHA-256 in MANIFEST" in \
        r2.stderr

    # 3. the MANIFEST itself
    man = bytearray(m["MANIFEST"])
    man[0] = ord("0") if man[0] != ord("0") else ord("1")
    r3 = tampered("manifest.tar", fix=False, MANIFEST=bytes(man))
    assert r3.returncode == 1 and "MANIFEST" in r3.stderr

    # 4. an audit line edited (MANIFEST recomputed)
    edited = m["audit.log"].replace(b"user=alice", b"user=mallory", 1)
    assert edited != m["audit.log"]
    r4 = tampered("audit.tar", **{"audit.log": edited})
    assert r4.returncode == 1, r4.stdout + r4.stderr
    assert "audit.log line" in r4.stderr and "edited" in r4.stderr

    # 5. a genuine line of another session slipped in (its hash is fine)
    other = [x for x in chain_lines(world)
             if fields(x).get("session") == gsid and
             fields(x).get("event") == "session.end"][0]
    mixed = sorted(audit + [other], key=lambda x: int(fields(x)["seq"]))
    r5 = tampered("mixed.tar", **{"audit.log": b"\n".join(mixed) + b"\n"})
    assert r5.returncode == 1, r5.stdout + r5.stderr
    assert "is not about this session" in r5.stderr

    # 6. every audit line removed (signed again): proven by nothing, said
    # loudly
    r6 = tampered("empty.tar", **{"audit.log": b""})
    assert r6.returncode == 0 and "WARNING: the bundle holds no audit" \
        in r6.stdout

    # 7. signed by another recorder key than the one expected
    other_key = tmp_path / "other.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    str(other_key)], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(other_key), "-pubout",
                    "-out", str(other_key) + ".pub"], check=True,
                   capture_output=True)
    r7 = verify_bin("-k", str(other_key) + ".pub", bundle)
    assert r7.returncode == 1 and "not the expected" in r7.stderr

    # 8. a member that has no place in a bundle
    r8 = tampered("extra.tar", **{"../../etc/cron.d/x": b"* * * * * x\n"})
    assert r8.returncode == 1

    # not a bundle at all
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\0" * 1024)
    assert verify_bin("--bundle", junk).returncode in (1, 3)


def test_bundle_cut_back_at_a_checkpoint_is_altered(site, verify_bin,
                                                   tmp_path):
    """Issue 13, item 7: a recording cut back at a checkpoint verifies up to
    it by itself ("never sealed", exit 2), but not inside its bundle: the
    MANIFEST is signed, and even with the MANIFEST signed again (what only
    the recorder's key can do) the recorder's own recording.sealed line in
    audit.log says how many frames the sealed file had and its head."""
    world, p = site
    sid, rec_id = finished_session(world, p["alice"], "ct-scanner",
                                   "echo cut-$((6*7)); sleep 1.5; "
                                   "echo never-$((6*7))-seen")
    wait_sealed(world, rec_id)
    r = p["carol"].ssh("export", rec_id, binary=True)
    assert r.returncode == 0, r.stderr
    top, m = read_bundle(r.stdout)
    pub = world.bastion.state_dir / "recorder.key.pub"
    sealed = [fields(x) for x in m["audit.log"].splitlines()
              if fields(x)["event"] == "recording.sealed"]
    assert len(sealed) == 1 and sealed[0]["session"] == rec_id

    rec = m["recording.brec"]
    fr = rec_frames(rec)
    assert fr[-1][1] == SEAL and int(sealed[0]["frames"]) == len(fr)
    ckpts = [f for f in fr if f[1] == CHECKPOINT]
    assert ckpts, "the session ran over a second: it has a checkpoint"
    cut = rec[:ckpts[-1][3]]
    assert b"never-42-seen" in rec and b"never-42-seen" not in cut
    assert b"cut-42" in cut
    # the cut file alone: consistent, "never sealed"
    alone = tmp_path / "cut.brec"
    alone.write_bytes(cut)
    a = verify_bin("-k", pub, alone)
    assert a.returncode == 2 and "NOT SEALED" in a.stdout, a.stdout

    members = dict(m)
    members["recording.brec"] = cut
    # a forger without the key: the MANIFEST cannot be signed again
    f1 = verify_bin("-k", pub, write_bundle(tmp_path / "cut1.tar", top,
                                            members))
    assert f1.returncode == 1, f1.stdout + f1.stderr
    assert "MANIFEST.sig does not verify" in f1.stderr
    # ... nor dropped
    f2 = verify_bin("-k", pub, write_bundle(
        tmp_path / "cut2.tar", top,
        {k: v for k, v in members.items() if k != "MANIFEST.sig"}))
    assert f2.returncode == 1 and "MANIFEST.sig is missing" in f2.stderr
    # signed again with the recorder's key: the witness still catches it,
    # with the key pinned or not (-q too)
    cut3 = write_bundle(tmp_path / "cut3.tar", top, members,
                        resign=(world, tmp_path))
    for args in (("-k", pub), (), ("-q",)):
        f3 = verify_bin(*args, cut3)
        assert f3.returncode == 1, (args, f3.stdout + f3.stderr)
        assert "ALTERED: the recording was cut short" in f3.stderr
        assert "sealed this recording with %d frames" % len(fr) in f3.stderr
        assert "UNVERIFIED" not in f3.stderr
    # a different sealed recording in its place: not the one sealed
    other_sid, other_rec = finished_session(world, p["alice"], "ct-scanner",
                                            "echo other")
    wait_sealed(world, other_rec)
    o = p["carol"].ssh("export", other_rec, binary=True)
    assert o.returncode == 0, o.stderr
    members["recording.brec"] = read_bundle(o.stdout)[1]["recording.brec"]
    f4 = verify_bin("-k", pub, write_bundle(tmp_path / "cut4.tar", top,
                                            members,
                                            resign=(world, tmp_path)))
    assert f4.returncode == 1, f4.stdout + f4.stderr


def notarize(world, recid, manifest, chain_seq):
    """Ask the recorder for a MANIFEST signature as the exporter does
    (recproto NOTARIZE); (reply type, its string)."""
    def sstr(b):
        return struct.pack(">I", len(b)) + b

    body = bytes([5]) + sstr(recid.encode()) + sstr(manifest) + \
        struct.pack(">Q", chain_seq)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(world.bastion.run_dir / "recorder.sock"))
        s.sendall(struct.pack(">I", len(body)) + body)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(
                ">I", data[:4])[0]:
            chunk = s.recv(4096)
            assert chunk, "the recorder closed without an answer"
            data += chunk
    n, = struct.unpack(">I", data[4 + 1:4 + 5])
    return data[4], data[4 + 5:4 + 5 + n]


def test_recorder_signs_only_what_it_checked(site, verify_bin, tmp_path):
    """The exporter never holds the key; the recorder is no blind signing
    oracle either: it signs a MANIFEST only when the recording, its own
    key and the session's audit lines hash as the MANIFEST says. The
    signature can be checked by hand with openssl as documented."""
    world, p = site
    sid, rec_id = finished_session(world, p["alice"], "ct-scanner",
                                   "echo notarized; sleep 1.2; echo end")
    wait_sealed(world, rec_id)
    r = p["carol"].ssh("export", rec_id, binary=True)
    assert r.returncode == 0, r.stderr
    top, m = read_bundle(r.stdout)
    assert len(m["MANIFEST.sig"]) == 64
    ev = world.bastion.wait_audit(event="recording.notarized",
                                  recording=rec_id)
    assert ev["chain"] != "unwritten"

    # by hand, as docs/AUDIT.md says
    ex = tmp_path / "x"
    ex.mkdir()
    for name, data in m.items():
        (ex / name).write_bytes(data)
    (ex / "m").write_bytes(SIG_CONTEXT + m["MANIFEST"])
    chk = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin",
                          "-inkey", "recorder.pub", "-rawin", "-in", "m",
                          "-sigfile", "MANIFEST.sig"], cwd=ex,
                         capture_output=True, text=True)
    assert chk.returncode == 0 and "Success" in chk.stdout, chk.stdout + \
        chk.stderr

    last = max(int(fields(x)["seq"]) for x in m["audit.log"].splitlines())
    # the true MANIFEST: signed (Ed25519 is deterministic: the same bytes)
    t, sig = notarize(world, rec_id, m["MANIFEST"], last)
    assert t == 0x83 and sig == m["MANIFEST.sig"]

    def refused(members, why, seq=last):
        t, text = notarize(world, rec_id, manifest_of(members), seq)
        assert t == 0x82, (t, text)
        assert why in text.decode(), text
    fr = rec_frames(m["recording.brec"])
    cut = m["recording.brec"][:[f for f in fr if f[1] == CHECKPOINT][-1][3]]
    refused(dict(m, **{"recording.brec": cut}),
            "recording.brec is not the recording this recorder has")
    no_seal = b"".join(x + b"\n" for x in m["audit.log"].splitlines()
                       if b"event=recording.sealed" not in x)
    refused(dict(m, **{"audit.log": no_seal}),
            "audit.log is not the session's lines")
    refused(dict(m, **{"recorder.pub": m["recorder.pub"] + b"\n"}),
            "recorder.pub is not this recorder's public key")
    t, text = notarize(world, "../../etc/passwd", m["MANIFEST"], last)
    assert t == 0x82 and b"not a recording id" in text
    t, text = notarize(world, rec_id, b"junk\n", last)
    assert t == 0x82 and b"not the five lines" in text
    refusals = world.bastion.audit_events(event="recording.notarize_refused")
    assert len(refusals) >= 5


def test_export_needs_no_terminal_and_an_existing_recording(site):
    world, p = site
    r = p["carol"].ssh("export", "no-such-recording")
    assert r.returncode == 1 and "no recording" in r.stderr
    # an engineer cannot export
    e = p["alice"].ssh("export", "1")
    assert e.returncode != 0 and "may not reach" in e.stderr


# -- the monthly report -----------------------------------------------------

def approval_site(cast):
    world, p = cast
    world.vendors["globex"]["approval"] = {"required": True}
    world.start_bastion()
    return world, p


def test_monthly_report(cast, bastionctl, verify_bin):
    world, p = approval_site(cast)
    month = time.strftime("%Y-%m", time.gmtime())
    sid, rec_id = finished_session(world, p["alice"], "ct-scanner",
                                   "echo reported")

    # gina waits for bob's approval
    rid = approved_session(world, p, "ticket-4711")
    gend = world.bastion.wait_audit(event="session.end", user="gina")
    gsid = gend["session"]
    grec = world.bastion.wait_audit(event="session.recording",
                                    session=gsid)["recording"]
    wait_sealed(world, rec_id)
    wait_sealed(world, grec)

    # a work record, as the relay will write it (session.work_record)
    start = world.bastion.audit_events(event="session.start", session=sid)[0]
    # a note with an encoded C1 CSI (U+009B): shown inert (item 6)
    append_chain(world, "ts=%s event=session.work_record pid=%s session=%s "
                 "user=alice personal_info=yes records=\"P-100, P-200\" "
                 "note=\"\u009b31mred\""
                 % (start["ts"], start["pid"], sid))
    assert verify_bin("--audit", chain_path(world)).returncode == 0

    r = bastionctl(world, "report", "--month", month)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verified intact" in r.stdout
    assert "\u009b" not in r.stdout and "\ufffd" not in r.stdout
    # the table: one row per session, newest first, work record in words
    rows = [ln for ln in r.stdout.split("Each session")[0].splitlines()
            if len(ln.split()) > 5 and ln.split()[0].isdigit()
            and ln.split()[1][2:3] == "-"]
    assert [ln.split()[0] for ln in rows] == [gsid, sid], r.stdout
    assert "yes: P-100," in rows[1], r.stdout     # cut at a blank
    assert "personal_info=" not in r.stdout
    # each session in full (wrapped at blanks: compare words)
    detail = r.stdout.split("Each session (newest first):", 1)[1]
    blocks = {b.split()[0]: " ".join(b.split())
              for b in detail.strip().split("\n\n")}
    alice = blocks[sid]
    ct_to = "127.0.1.10:%d" % world.devices["ct-scanner"].port
    pacs_to = "127.0.2.10:%d" % world.devices["pacs"].port
    for want in ("alice (acme)", "from 127.0.0.1:", "ct-scanner",
                 ct_to, "approval: not required",
                 "work record: patient data accessed; records: P-100, "
                 "P-200; note: ?31mred", "sealed"):
        assert want in alice, (want, r.stdout)
    gina = blocks[gsid]
    for want in ("gina (globex)", "pacs", pacs_to,
                 "request %s: bob" % rid, "sealed"):
        assert want in gina, (want, r.stdout)

    j = bastionctl(world, "report", "--month", month, "--json")
    assert j.returncode == 0, j.stderr
    doc = json.loads(j.stdout)
    assert doc["month"] == month and doc["audit_chain"]["status"] == "intact"
    byid = {s["session"]: s for s in doc["sessions"]}
    s = byid[sid]
    assert s["engineer"] == "alice" and s["vendor"] == "acme"
    assert s["from"] == "127.0.0.1" and s["source"].startswith("127.0.0.1:")
    assert s["device"] == "ct-scanner" and s["to"] == ct_to
    assert s["recording"] == rec_id and s["seconds"] is not None
    assert s["approval"]["kind"] == "not required"
    assert s["work_record"] == {"personal_info": "yes",
                                "records": "P-100, P-200",
                                "note": "\u009b31mred"}
    assert "\u009b" not in j.stdout and "\\u009b31mred" in j.stdout
    assert s["recording_status"]["status"] == "sealed"
    g = byid[gsid]
    assert g["approval"]["kind"] == "request"
    assert g["approval"]["request"] == rid
    assert g["approval"]["approvers"] == "bob"
    assert g["approval"]["grant"]
    assert g["work_record"] is None

    # another month: nothing
    none = bastionctl(world, "report", "--month", "1999-01")
    assert none.returncode == 0 and "No sessions" in none.stdout
    assert bastionctl(world, "report", "--month", "2026-13").returncode == 2

    # a recording gone, then the chain broken: the report says so
    rec_path = s["recording_status"]["path"]
    shutil.move(rec_path, rec_path + ".moved")
    r = bastionctl(world, "report", "--month", month)
    assert r.returncode == 1 and "MISSING" in r.stdout
    shutil.move(rec_path + ".moved", rec_path)
    data = chain_path(world).read_bytes()
    chain_path(world).write_bytes(data.replace(b"user=gina", b"user=gino",
                                               1))
    r = bastionctl(world, "report", "--month", month)
    assert r.returncode == 1
    assert "WARNING: THE AUDIT CHAIN IS BROKEN" in r.stdout
    jb = json.loads(bastionctl(world, "report", "--month", month,
                               "--json").stdout)
    assert jb["audit_chain"]["status"] == "altered"
