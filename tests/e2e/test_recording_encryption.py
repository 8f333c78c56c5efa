"""Recordings encrypted to the auditors, verifiable by anyone (issue 19).

With `recordings: recipients:` in the policy the recorder writes format 2
(docs/RECORDING-FORMAT.md, section 13): a marker typed in a real ssh
session reaches no file in clear (recordings, state directory, an exported
bundle); bastion-verify checks the recording and the bundle with the
public signing key alone; bastion-replay needs an auditor's age key (or the
escrow key put back together from k of n shares) and Debian's `age` opens
a payload too; the console's replay obeys server_unlock and audits it;
rewrapping removes a recipient without touching a signed byte; tampering
with ciphertext or with the key header is reported."""

import hashlib
import io
import os
import pathlib
import re
import struct
import subprocess
import tarfile
import tempfile

import pexpect
import pytest

from harness import util

MARKER = "PATIENT-7c1e-DOE-JANE"


def keygen(path):
    subprocess.run(["age-keygen", "-o", str(path)], check=True,
                   stderr=subprocess.DEVNULL)
    return subprocess.run(["age-keygen", "-y", str(path)], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def tool(build_dir, name, *args, **kw):
    return subprocess.run([str(build_dir / name)] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, **kw)


@pytest.fixture
def keys(tmp_path):
    d = tmp_path / "keys"
    d.mkdir()
    k = {}
    for who in ("auditor", "escrow", "other"):
        k[who] = (d / (who + ".key"), keygen(d / (who + ".key")))
    return k


def start(world, keys, **extra):
    pol = world.policy()
    pol["recordings"] = dict({"recipients": [keys["auditor"][1],
                                             keys["escrow"][1]]}, **extra)
    world.start_bastion(pol)


def server_identity(tmp_path, keys, mode):
    """The escrow key as the bastion's server identity file, with mode."""
    ident = tmp_path / "server.agekey"
    ident.write_bytes(keys["escrow"][0].read_bytes())
    os.chmod(ident, mode)
    return ident


def typed_session(world, person):
    """An interactive session in which the marker is typed and shown."""
    n = len(world.bastion.audit_events(event="session.end",
                                       user=person.name))
    child = person.spawn("ct-scanner")
    child.expect(r"session \d+: ct-scanner")
    child.sendline("echo %s-seen-$((40+2))" % MARKER)
    child.expect("%s-seen-42" % MARKER)
    child.sendline("exit")
    child.expect(pexpect.EOF)
    end = world.bastion.wait_audit(event="session.end", user=person.name,
                                   after=n, timeout=15)
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=end["session"])["recording"]
    world.bastion.wait_audit(event="recording.sealed", session=rec)
    [path] = [p for p in (world.bastion.workdir / "recordings").rglob(
        "*.brec") if p.name == rec + ".brec"]
    return rec, path


def files_holding(root, needle):
    hits = []
    for p in pathlib.Path(root).rglob("*"):
        if p.is_file() and not p.is_symlink():
            try:
                if needle in p.read_bytes():
                    hits.append(str(p))
            except OSError:
                pass
    return hits


def parse_v2(data):
    """(age header, [(type, seq, payload)]) of a format 2 recording, read
    here independently of the C reader."""
    assert data[:15] == b"bastion-rec v2\n"
    kblen, = struct.unpack(">I", data[15:19])
    kb = data[19:19 + kblen]
    alen, = struct.unpack(">I", kb[:4])
    age_hdr = kb[4:4 + alen]
    off, frames = 19 + kblen, []
    while off < len(data):
        ln, typ, seq = struct.unpack(">IBQ", data[off:off + 13])
        plen, = struct.unpack(">I", data[off + 25:off + 29])
        frames.append((typ, seq, data[off + 29:off + 29 + plen], off + 29))
        off += 4 + ln + 32
    return age_hdr, frames


def age_open_any(age_hdr, frames, keyfile, tmp_path):
    """Clear text of every encrypted payload `age -d -i keyfile` opens."""
    out = b""
    for typ, seq, payload, _ in frames:
        if typ in (1, 17, 18):
            continue
        f = tmp_path / "frame.age"
        f.write_bytes(age_hdr + payload)
        r = subprocess.run(["age", "-d", "-i", str(keyfile), str(f)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert r.returncode == 0, r.stderr
        out += r.stdout
    return out


def test_marker_nowhere_in_clear_verify_without_key_replay_with_it(
        cast, keys, build_dir, tmp_path):
    world, p = cast
    start(world, keys)
    rec, path = typed_session(world, p["alice"])
    marker = MARKER.encode()
    data = path.read_bytes()
    assert data.startswith(b"bastion-rec v2\n")

    # nowhere on disk in clear: recordings, the state directory
    wd = world.bastion.workdir
    assert files_holding(wd / "recordings", marker) == []
    assert files_holding(world.bastion.state_dir, marker) == []

    # an exported bundle carries the encrypted recording only
    r = p["carol"].ssh("export", rec, binary=True)
    assert r.returncode == 0, r.stderr
    assert marker not in r.stdout
    bundle = tmp_path / "bundle.tar"
    bundle.write_bytes(r.stdout)
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as t:
        for m in t.getmembers():
            assert marker not in t.extractfile(m).read(), m.name

    # integrity with the public key alone: recording and bundle
    pub = world.bastion.state_dir / "recorder.key.pub"
    v = tool(build_dir, "bastion-verify", "-k", pub, path)
    assert v.returncode == 0, v.stdout + v.stderr
    assert b"encrypted: format 2" in v.stdout
    assert b"2 recipient(s)" in v.stdout
    vb = tool(build_dir, "bastion-verify", "-k", pub, bundle)
    assert vb.returncode == 0, vb.stdout + vb.stderr
    assert b"OK: the bundle is intact" in vb.stdout

    # replay needs a recipient's key
    no = tool(build_dir, "bastion-replay", "--text", path)
    assert no.returncode != 0 and b"--identity" in no.stderr
    wrong = tool(build_dir, "bastion-replay", "--text", "--identity",
                 keys["other"][0], path)
    assert wrong.returncode != 0
    assert b"not a recipient" in wrong.stderr or \
        b"is a recipient" in wrong.stderr
    assert marker not in wrong.stdout
    for who in ("auditor", "escrow"):
        t = tool(build_dir, "bastion-replay", "--text", "-k", pub,
                 "--identity", keys[who][0], path)
        assert t.returncode == 0, t.stderr
        assert b"echo " + marker + b"-seen-$((40+2))" in t.stdout
        assert marker + b"-seen-42" in t.stdout

    # Debian's age opens the payloads with the auditor's key alone
    age_hdr, frames = parse_v2(data)
    clear = age_open_any(age_hdr, frames, keys["auditor"][0], tmp_path)
    assert marker + b"-seen-42" in clear
    # and bastion-replay --age hands age one frame, without any key
    seq = next(f[1] for f in frames if f[0] == 7 and b"-seen-42" in
               subprocess.run(["age", "-d", "-i", str(keys["escrow"][0])],
                              input=age_hdr + f[2],
                              stdout=subprocess.PIPE).stdout)
    one = tool(build_dir, "bastion-replay", "--age", seq, path)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith(b"age-encryption.org/v1\n")
    assert marker not in one.stdout
    opened = subprocess.run(["age", "-d", "-i", str(keys["auditor"][0])],
                            input=one.stdout, stdout=subprocess.PIPE)
    assert opened.returncode == 0 and marker + b"-seen-42" in opened.stdout


def test_console_replay_obeys_server_unlock(cast, keys, build_dir,
                                            tmp_path):
    world, p = cast
    start(world, keys)          # server_unlock defaults to forbid
    rec, _ = typed_session(world, p["alice"])
    t = p["carol"].ssh("replay", rec)
    assert t.returncode != 0
    assert MARKER not in t.stdout
    assert "server_unlock: forbid" in t.stderr
    ev = world.bastion.wait_audit(event="recording.unlock", user="carol")
    assert ev["result"] == "refused" and ev["recording"] == rec
    # listed as sealed (its seal found past the key block), and verified
    lst = p["carol"].ssh("recordings", "--wide")
    [row] = [ln for ln in lst.stdout.splitlines() if rec in ln]
    assert " sealed " in " %s " % row and "unsealed" not in row, row
    v = p["carol"].ssh("verify", rec)
    assert v.returncode == 0 and "encrypted: format 2" in v.stdout, v


def test_console_replay_with_audited_unlock(cast, keys, build_dir,
                                            tmp_path):
    world, p = cast
    ident = server_identity(tmp_path, keys, 0o644)
    start(world, keys, server_unlock="allow", server_identity=str(ident))
    rec, _ = typed_session(world, p["alice"])
    # a key file others may read is refused, audited
    t = p["carol"].ssh("replay", rec)
    assert t.returncode != 0 and MARKER not in t.stdout
    assert "readable by others" in t.stderr
    os.chmod(ident, 0o600)
    t = p["carol"].ssh("replay", rec)
    assert t.returncode == 0, t.stderr
    assert "%s-seen-42" % MARKER in t.stdout
    evs = world.bastion.audit_events(event="recording.unlock", user="carol")
    assert [e["result"] for e in evs] == ["refused", "unlocked"]


def test_tampering_with_ciphertext_or_key_header_is_reported(
        cast, keys, build_dir, tmp_path):
    world, p = cast
    start(world, keys)
    rec, path = typed_session(world, p["alice"])
    pub = world.bastion.state_dir / "recorder.key.pub"
    data = path.read_bytes()
    age_hdr, frames = parse_v2(data)

    # one bit of an OUTPUT payload's ciphertext
    typ, seq, payload, at = next(f for f in frames if f[0] == 7)
    bad = bytearray(data)
    bad[at + 20] ^= 0x01
    f = tmp_path / "ct.brec"
    f.write_bytes(bytes(bad))
    v = tool(build_dir, "bastion-verify", "-k", pub, f)
    assert v.returncode == 1, v.stdout + v.stderr
    assert b"ALTERED" in v.stderr and (b"seq %d" % seq) in v.stderr

    # a stanza of the key header, still well-formed base64 of a key:
    # another recipient's share swapped in
    m = re.search(rb"-> X25519 ([A-Za-z0-9+/]{43})\n", age_hdr)
    share = m.group(1)
    other = share[:-2] + (b"A" if share[-2:-1] != b"A" else b"B") + \
        share[-1:]
    f2 = tmp_path / "hdr.brec"
    f2.write_bytes(data.replace(share, other, 1))
    v = tool(build_dir, "bastion-verify", "-k", pub, f2)
    assert v.returncode == 1, v.stdout + v.stderr
    assert b"key header" in v.stderr and b"altered" in v.stderr

    # the magic line turned back to format 1
    f3 = tmp_path / "v1.brec"
    f3.write_bytes(b"bastion-rec v1\n" + data[15:])
    v = tool(build_dir, "bastion-verify", "-k", pub, f3)
    assert v.returncode == 1, v.stdout + v.stderr


def test_rewrap_removes_a_recipient_and_escrow_shares_recover(
        cast, keys, build_dir, tmp_path):
    world, p = cast
    start(world, keys)
    rec, path = typed_session(world, p["alice"])
    state = world.bastion.state_dir
    pub = state / "recorder.key.pub"
    before = path.read_bytes()
    age_hdr, frames = parse_v2(before)

    # the auditor leaves, a new one comes: escrow + other
    r = tool(build_dir, "bastion-rekey", "-k", state / "recorder.key",
             "-i", keys["auditor"][0], "-r", keys["escrow"][1],
             "-r", keys["other"][1], "-a", state, path)
    assert r.returncode == 0, r.stderr
    after = path.read_bytes()
    new_hdr, new_frames = parse_v2(after)
    # only the key block changed: every frame byte for byte
    assert [f[:3] for f in new_frames] == [f[:3] for f in frames]
    assert new_hdr != age_hdr
    # in the audit chain (the tool appends to it; bastiond never sees it)
    [ev] = [util.parse_logfmt(ln) for ln in
            (state / "audit.log").read_text().splitlines()
            if "event=recording.rewrap " in ln]
    assert ev["recording"] == rec and ev["path"] == str(path)
    assert ev["old_keys"] == hashlib.sha256(age_hdr).hexdigest()
    assert ev["new_keys"] == hashlib.sha256(new_hdr).hexdigest()
    assert ev["recipients"] == "2"

    v = tool(build_dir, "bastion-verify", "-k", pub, path)
    assert v.returncode == 0, v.stdout + v.stderr
    assert b"1 signed rewrap(s)" in v.stdout

    # the removed auditor can no longer decrypt, by either tool
    gone = tool(build_dir, "bastion-replay", "--text", "--identity",
                keys["auditor"][0], path)
    assert gone.returncode != 0 and MARKER.encode() not in gone.stdout
    f = tmp_path / "one.age"
    typ, seq, payload, _ = next(x for x in new_frames if x[0] == 7)
    f.write_bytes(new_hdr + payload)
    assert subprocess.run(["age", "-d", "-i", str(keys["auditor"][0]),
                           str(f)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE).returncode != 0
    new = tool(build_dir, "bastion-replay", "--text", "--identity",
               keys["other"][0], path)
    assert new.returncode == 0 and (MARKER + "-seen-42").encode() in \
        new.stdout

    # a rewrap not signed by the recorder key is refused by verify
    forged = bytearray(after)
    i = after.index(new_hdr) + len(new_hdr) + 4 + 32 + 32 + 8 + 10
    forged[i] ^= 1                  # inside the rewrap's signature
    f2 = tmp_path / "forged.brec"
    f2.write_bytes(bytes(forged))
    v = tool(build_dir, "bastion-verify", "-k", pub, f2)
    assert v.returncode == 1 and b"not signed by the recorder" in v.stderr

    # the escrow key, split 3-of-5 for the safe, recovers from 3 shares
    sp = tool(build_dir, "bastion-escrow", "split", "-k", "3", "-n", "5",
              keys["escrow"][0])
    assert sp.returncode == 0, sp.stderr
    shares = [ln for ln in sp.stdout.decode().splitlines()
              if ln.startswith("BASTION-SHARE-1")]
    assert len(shares) == 5
    two = tool(build_dir, "bastion-escrow", "combine",
               input="\n".join(shares[:2]).encode())
    assert two.returncode != 0 and b"3 are needed" in two.stderr
    three = tool(build_dir, "bastion-escrow", "combine",
                 input="\n".join([shares[4], shares[1], shares[2]]).encode())
    assert three.returncode == 0, three.stderr
    rebuilt = tmp_path / "escrow-rebuilt.key"
    rebuilt.write_bytes(three.stdout)
    assert keys["escrow"][1].encode() in three.stdout
    t = tool(build_dir, "bastion-replay", "--text", "--identity", rebuilt,
             path)
    assert t.returncode == 0, t.stderr
    assert (MARKER + "-seen-42").encode() in t.stdout


def test_live_watch_of_an_encrypted_session_comes_from_memory(
        cast, keys, build_dir):
    world, p = cast
    start(world, keys)
    alice = p["alice"].spawn("ct-scanner", timeout=20)
    alice.expect(r"session (\d+): ct-scanner")
    sid = alice.match.group(1)
    world.bastion.wait_audit(event="session.start", session=sid)
    alice.sendline("echo before-$((2+3))")
    alice.expect("before-5")
    # bob (an admin) watches: the screen so far, from the recorder's
    # memory, then the live output; no key anywhere in the bastion
    bob = p["bob"].spawn("watch", sid, timeout=20)
    bob.expect("before-5")
    alice.sendline("echo %s-live-$((6*7))" % MARKER)
    alice.expect("%s-live-42" % MARKER)
    bob.expect("%s-live-42" % MARKER)
    bob.send("\x03")
    bob.expect("stopped watching session %s" % sid)
    bob.expect(pexpect.EOF)
    # a watch that stays to the end is told the session ended
    bob2 = p["bob"].spawn("watch", sid, timeout=20)
    bob2.expect("live-42")
    alice.sendline("exit")
    alice.expect(pexpect.EOF)
    bob2.expect("session %s ended" % sid)
    bob2.expect(pexpect.EOF)
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=sid)["recording"]
    world.bastion.wait_audit(event="recording.sealed", session=rec)
    # the watch wrote nothing in clear anywhere
    assert files_holding(world.bastion.workdir / "recordings",
                         MARKER.encode()) == []
    assert files_holding(world.bastion.state_dir, MARKER.encode()) == []


def _watch(sock, recid, user=None):
    """WATCH recid on the recorder at sock (as user); the messages it
    answers with until it closes or goes quiet: [(type, body)]."""
    code = (
        "import socket, struct, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "rid = sys.argv[2].encode()\n"
        "body = bytes([6]) + struct.pack('>I', len(rid)) + rid\n"
        "s.sendall(struct.pack('>I', len(body)) + body)\n"
        "s.settimeout(2)\n"
        "data = b''\n"
        "try:\n"
        "    while True:\n"
        "        d = s.recv(65536)\n"
        "        if not d:\n"
        "            break\n"
        "        data += d\n"
        "except socket.timeout:\n"
        "    pass\n"
        "sys.stdout.buffer.write(data)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code, str(sock), recid],
                       stdout=subprocess.PIPE, timeout=30, user=user)
    out, msgs = r.stdout, []
    while len(out) >= 4:
        n, = struct.unpack(">I", out[:4])
        msgs.append((out[4], out[5:4 + n]))
        out = out[4 + n:]
    return msgs


def test_recorder_watch_is_for_root_only_and_from_memory(keys, build_dir,
                                                         tmp_path):
    d = pathlib.Path(tempfile.mkdtemp(prefix="bastion-watch-", dir="/tmp"))
    os.chmod(d, 0o755)
    (d / "rec").mkdir()
    key = d / "rec.key"
    assert tool(build_dir, "bastion-recorder", "--init", "-k",
                key).returncode == 0
    sock = d / "rec.sock"
    rec = subprocess.Popen(
        [str(build_dir / "bastion-recorder"), "-D", "-k", str(key), "-d",
         str(d / "rec"), "-s", str(sock), "-u", "root", "-u", "nobody",
         "-r", keys["auditor"][1]], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    feed = None
    try:
        util.wait_until(lambda: sock.exists(), 10, interval=0.05,
                        what="recorder socket")
        feed = subprocess.Popen(
            [str(build_dir / "tests" / "rec_feed"), "-s", str(sock)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        feed.stdin.write(("open engineer=alice device=pacs\nshell\n"
                          "out %s-in-memory\\r\\n\nsync\n" % MARKER).encode())
        feed.stdin.flush()
        _, sid, path = feed.stdout.readline().decode().split()
        util.wait_until(lambda: os.path.getsize(path) > 300, 10,
                        interval=0.05, what="frames written")
        # a session whose policy names other recipients is not recorded
        # (fail closed): the recorder must encrypt to exactly those
        bad = subprocess.run(
            [str(build_dir / "tests" / "rec_feed"), "-s", str(sock),
             "open engineer=a device=d recipients=" + "0" * 64, "close"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert bad.returncode != 0
        assert b"other recipients than the policy" in bad.stderr
        # another uid allowed to record may not watch
        msgs = _watch(sock, sid, user="nobody")
        assert msgs and msgs[0][0] == 0x82 and b"only root" in msgs[0][1]
        # root gets the screen so far as LIVE OUTPUT, which the file
        # does not hold in clear
        msgs = _watch(sock, sid)
        assert msgs and msgs[0][0] == 0x84 and msgs[0][1][0] == 7
        assert (MARKER + "-in-memory").encode() in msgs[0][1]
        assert MARKER.encode() not in pathlib.Path(path).read_bytes()
        # no such live recording
        msgs = _watch(sock, "20990101T000000Z-0000000000000000")
        assert msgs[0][0] == 0x82 and b"no live recording" in msgs[0][1]
        feed.stdin.write(b"close\n")
        feed.stdin.close()
        assert feed.wait(timeout=20) == 0
        # sealed: nothing live any more
        msgs = _watch(sock, sid)
        assert msgs[0][0] == 0x82
    finally:
        if feed is not None and feed.poll() is None:
            feed.kill()
        rec.terminate()
        rec.wait(timeout=20)
        subprocess.run(["rm", "-rf", str(d)])
