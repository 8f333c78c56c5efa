"""End-to-end tests of the session recorder: the real bastion-recorder, fed
by rec_feed (a stand-in session worker using rec_client) or by a raw
protocol client written here, checked with the real bastion-verify,
bastion-replay and asciinema.

Run: BASTION_BUILD=$PWD/build /usr/bin/python3 -m pytest -q \
         -p no:cacheprovider tests/e2e/test_recorder.py
"""

import fcntl
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

import pytest

from harness import util

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BASTION_BUILD", REPO / "build"))
SAN = os.environ.get("BASTION_SAN", "0") == "1"
RECORDER = BUILD / "bastion-recorder"
VERIFY = BUILD / "bastion-verify"
REPLAY = BUILD / "bastion-replay"
FEED = BUILD / "tests" / "rec_feed"

MAGIC = b"bastion-rec v1\n"
MAX_PAYLOAD = 1024 * 1024
MSG_MAX = MAX_PAYLOAD + 10
T_HEADER, T_OUTPUT, T_CHECKPOINT, T_SEAL = 1, 7, 17, 18

pytestmark = pytest.mark.skipif(
    not RECORDER.exists() or not FEED.exists(),
    reason=f"recorder not built in {BUILD}")


def run(cmd, timeout=60, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True,
                          timeout=timeout, **kw)


class Recorder:
    """A bastion-recorder in its own directory, like OpenSSH's
    regress/test-exec.sh: own key, own socket, logs to a file."""

    def __init__(self, root, extra=(), name="r"):
        self.root = Path(root)
        self.dir = self.root / name
        self.dir.mkdir()
        self.dir.chmod(0o755)
        self.key = self.dir / "rec.key"
        self.pub = self.dir / "rec.key.pub"
        self.recdir = self.dir / "rec"
        self.recdir.mkdir()
        self.sock = self.dir / "rec.sock"
        self.log = self.dir / "recorder.log"
        r = run([RECORDER, "--init", "-k", self.key])
        assert r.returncode == 0, r.stderr
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(RECORDER), "-D", "-v", "-k", str(self.key), "-d",
             str(self.recdir), "-s", str(self.sock)] + self.extra,
            stdout=self.logf, stderr=self.logf)

        def listening():
            assert self.proc.poll() is None, self.log.read_text()
            return self.sock.exists()
        util.wait_until(listening, 10, interval=0.02, what=lambda:
                        "recorder listening: " + self.log.read_text())
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.logf.close()
        return self.proc.returncode if self.proc else None

    def feed(self, *cmds, user=None, timeout=60):
        return run([FEED, "-s", self.sock] + list(cmds), timeout=timeout,
                   user=user)

    def session(self, *cmds, **kw):
        """Feed a session; returns (session id, Path) of its recording."""
        r = self.feed(*cmds, **kw)
        assert r.returncode == 0, r.stderr.decode()
        return parse_session(r.stdout)

    def recordings(self):
        return sorted(self.recdir.rglob("*.brec"))

    def verify(self, path):
        r = run([VERIFY, "-k", self.pub, path])
        return r.returncode, r.stdout.decode(), r.stderr.decode()


def parse_session(out):
    for line in out.decode().splitlines():
        if line.startswith("session "):
            _, sid, path = line.split(" ", 2)
            return sid, Path(path)
    raise AssertionError("rec_feed printed no session line: %r" % out)


def opened(feed):
    """(session id, Path) of a running rec_feed (a Popen, stdout piped)
    once the recorder has answered its OPEN (rec_feed prints the line
    then)."""
    return parse_session(feed.stdout.readline())


@pytest.fixture
def tmproot():
    # /tmp, world-traversable: the setuid test's child must reach the
    # socket, so a refusal comes from SO_PEERCRED and not from the mode
    d = tempfile.mkdtemp(prefix="bastion-rec-e2e-", dir="/tmp")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def rec(tmproot):
    r = Recorder(tmproot).start()
    yield r
    rc = r.stop()
    # a clean shutdown is part of the contract (and, under ASan, no leaks)
    assert rc == 0, r.log.read_text()


def esc(data: bytes) -> str:
    """Bytes -> a rec_feed text argument (its C escapes)."""
    out = []
    for b in data:
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == " ":
            out.append("\\s")
        elif 0x21 <= b < 0x7f:
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def frames(data: bytes):
    """Independent parser of the file format (docs/RECORDING-FORMAT.md):
    yields (offset, end, type, seq, time, channel, payload)."""
    assert data[:len(MAGIC)] == MAGIC
    off = len(MAGIC)
    while off < len(data):
        (ln,) = struct.unpack(">I", data[off:off + 4])
        typ = data[off + 4]
        seq, t, ch, plen = struct.unpack(">QQII", data[off + 5:off + 29])
        assert plen + 25 == ln
        end = off + 4 + ln + 32
        yield off, end, typ, seq, t, ch, data[off + 29:off + 29 + plen]
        off = end


SESSION = [
    "open engineer=alice vendor=acme source=192.0.2.10:50000 device=ct-1 "
    "device_addr=198.51.100.5:22 approval=42 policy_sha256=" + "ab" * 32,
    "pty xterm-256color 80 24", "shell", "out $\\s", "in id\\r",
    "out id\\r\\nuid=1000(alice)\\r\\n$\\s", "exec uname -a",
    "exit 0", "close",
]


# ---- recording and verifying --------------------------------------------

def test_session_records_and_verifies(rec):
    sid, path = rec.session(*SESSION)
    assert path.exists() and path.parent.parent.parent.parent == rec.recdir
    # RECDIR/YYYY/MM/DD/SESSIONID.brec
    assert path.name == sid + ".brec"
    assert len(path.parent.name) == 2 and len(path.parent.parent.parent.name) == 4
    # sealed recordings are read-only
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    rc, out, err = rec.verify(path)
    assert rc == 0, err
    assert out.startswith("sealed: session " + sid)
    assert "engineer alice" in out and "device ct-1" in out
    assert "frames " in out and "duration " in out and "bytes " in out
    # the seal's chain head went to the audit log as an outside witness
    log = rec.log.read_text()
    assert "event=recording.start" in log and sid in log
    assert "event=recording.sealed" in log


def test_independent_format_check(rec):
    """Walk the chain with hashlib and check the signatures with the
    `cryptography` package: a second implementation of the spec."""
    _, path = rec.session(*SESSION)
    data = path.read_bytes()
    fr = list(frames(data))
    hdr = fr[0][6]
    (n,) = struct.unpack(">I", hdr[:4])
    fields, o = {}, 4
    for _ in range(n):
        (kl,) = struct.unpack(">I", hdr[o:o + 4]); k = hdr[o + 4:o + 4 + kl]
        o += 4 + kl
        (vl,) = struct.unpack(">I", hdr[o:o + 4]); v = hdr[o + 4:o + 4 + vl]
        o += 4 + vl
        fields[k.decode()] = v.decode()
    assert fields["engineer"] == "alice" and fields["approval"] == "42"
    h = hashlib.sha256(b"bastion-rec-v1\0" + fields["session"].encode()).digest()
    signed = []
    for i, (off, end, typ, seq, t, ch, pl) in enumerate(fr):
        assert seq == i
        canon = data[off:end - 32]
        if typ in (T_CHECKPOINT, T_SEAL):
            assert pl[-96:-64] == h  # the head it signs
            ctx = b"bastion-rec-v1 checkpoint\0" if typ == T_CHECKPOINT \
                else b"bastion-rec-v1 seal\0"
            signed.append((ctx + canon[:-64], pl[-64:]))
        h = hashlib.sha256(h + canon).digest()
        assert data[end - 32:end] == h
    assert fr[-1][2] == T_SEAL
    try:
        from cryptography.hazmat.primitives.serialization import \
            load_pem_public_key
    except ImportError:
        pytest.skip("python3-cryptography not installed")
    key = load_pem_public_key(rec.pub.read_bytes())
    for msg, sig in signed:
        key.verify(sig, msg)  # raises if invalid


def test_every_byte_flip_is_detected(rec):
    _, path = rec.session("open engineer=a device=d", "out hi", "close")
    data = path.read_bytes()
    work = rec.dir / "flip.brec"
    assert len(data) < 2000
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x01 if i % 2 else 0x80
        work.write_bytes(bytes(bad))
        rc, out, err = rec.verify(work)
        assert rc == 1, f"flip at {i}: rc {rc} {out} {err}"
        assert "ALTERED" in err and "offset" in err
        if i >= len(MAGIC):
            assert "frame seq" in err, err


def test_drop_duplicate_reorder_truncate(rec):
    _, path = rec.session(*SESSION)
    data = path.read_bytes()
    fr = list(frames(data))
    work = rec.dir / "bad.brec"

    def check(blob, rc_want, seq=None):
        work.write_bytes(blob)
        rc, out, err = rec.verify(work)
        assert rc == rc_want, (rc, out, err)
        if seq is not None:
            assert f"frame seq {seq} at offset" in err, err
        return out, err

    # drop frame 3
    o3, e3 = fr[3][0], fr[3][1]
    check(data[:o3] + data[e3:], 1, seq=3)
    # duplicate frame 3
    check(data[:e3] + data[o3:e3] + data[e3:], 1, seq=4)
    # swap frames 3 and 4
    o4, e4 = fr[4][0], fr[4][1]
    check(data[:o3] + data[o4:e4] + data[o3:e3] + data[e4:], 1, seq=3)
    # truncate inside the seal, inside a middle frame
    check(data[:-10], 1, seq=len(fr) - 1)
    check(data[:fr[2][0] + 7], 1, seq=2)
    # cut exactly between frames: no seal, so "unsealed" (2), never "ok"
    out, _ = check(data[:fr[-1][0]], 2)
    assert "NOT SEALED" in out
    # bytes appended after the seal
    check(data + b"\0" * 40, 1)
    # a different public key
    other = Recorder(rec.root, name="other")
    r = run([VERIFY, "-k", other.pub, path])
    assert r.returncode == 1 and b"key" in r.stderr


def test_frame_swapped_in_from_another_recording(rec):
    """A frame lifted from another recording of the same recorder (same
    key, same type, same sequence number) does not fit the chain."""
    _, a = rec.session(*SESSION)
    _, b = rec.session(*SESSION)
    da, db = a.read_bytes(), b.read_bytes()
    fa, fb = list(frames(da)), list(frames(db))
    work = rec.dir / "swapped.brec"
    for i in (2, 3, len(fa) - 2):
        (oa, ea), (ob, eb) = fa[i][:2], fb[i][:2]
        assert db[ob:eb] != da[oa:ea]
        work.write_bytes(da[:oa] + db[ob:eb] + da[ea:])
        rc, out, err = rec.verify(work)
        assert rc == 1, (i, rc, out, err)
        assert "frame seq %d at offset" % i in err, err


def test_verify_usage_and_io_errors(rec):
    _, path = rec.session("open engineer=a device=d", "close")
    assert run([VERIFY, path]).returncode == 3
    assert run([VERIFY, "-k", rec.pub]).returncode == 3
    assert run([VERIFY, "-k", rec.pub, rec.dir / "nope"]).returncode == 3
    assert run([VERIFY, "-k", rec.dir / "nokey", path]).returncode == 3
    junk = rec.dir / "junk"
    junk.write_bytes(b"not a recording\n")
    r = run([VERIFY, "-k", rec.pub, junk])
    assert r.returncode == 1 and b"not a bastion recording" in r.stderr


# ---- replay ---------------------------------------------------------------

def text_output(transcript: str) -> str:
    """Output bytes back from a --text transcript: '| ' starts a line,
    '+ ' continues one that an event cut."""
    out = []
    for line in transcript.splitlines():
        if len(line) < 17 or line[0] != "[":
            continue
        tag, rest = line[15:17], line[17:]
        if tag == "| ":
            if out:
                out.append("\n")
            out.append(rest)
        elif tag == "+ ":
            out.append(rest)
    return "".join(out) + "\n"


CONTENT = ("plain line\n" + "x" * 300 + "\nr\u00e9sum\u00e9 \u75c5\u9662 "
           "\U0001f600\n\ttabbed\n" + "".join(f"row {i}\n" for i in range(40)))


def test_text_transcript(rec):
    data = CONTENT.encode()
    chunks = [data[i:i + 37] for i in range(0, len(data), 37)]
    sid, path = rec.session(
        "open engineer=alice device=ct-1", "pty xterm 80 24", "shell",
        *["out " + esc(c) for c in chunks],
        "in ls\\s-la\\r", "exec uname -a",
        "fwd-open 10.0.0.5 104 127.0.0.1 50000", "ch 3",
        "fwd-data 1 hello", "fwd-close", "ch 0",
        "event idle-warning 5\\sminutes\\swithout\\sinput",
        "signal TERM 0 bye", "exit 3", "close")
    r = run([REPLAY, "--text", "-k", rec.pub, path])
    assert r.returncode == 0, r.stderr
    t = r.stdout.decode()
    assert text_output(t) == CONTENT
    assert f"# bastion session recording {sid}" in t
    assert "] exec: uname -a\n" in t
    assert "] input: ls -la\\r\n" in t
    assert "] pty-req: xterm 80x24\n" in t
    assert "] forward-open: to 10.0.0.5:104 from 127.0.0.1:50000" in t
    assert "] forward-close: 5 bytes to the device, 0 bytes from it " \
           "[channel 3]" in t
    assert "] event idle-warning: 5 minutes without input\n" in t
    assert "] exit-signal: TERM bye\n" in t
    assert "] exit-status: 3\n" in t
    assert "] end (normal): worker closed the session\n" in t
    assert b"verified: sealed" in r.stderr


def run_with_tty(cmd, timeout=60):
    """Run with a pty as controlling terminal and stdin (asciinema opens
    /dev/tty) but stdout on a pipe, so we get the exact bytes."""
    master, slave = pty.openpty()

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = dict(os.environ, PYTHONIOENCODING="utf-8", LANG="C.UTF-8")
    try:
        return subprocess.run([str(c) for c in cmd], stdin=slave,
                              capture_output=True, timeout=timeout,
                              start_new_session=True, preexec_fn=ctty,
                              env=env)
    finally:
        os.close(master)
        os.close(slave)


def test_asciicast_with_real_asciinema(rec):
    if shutil.which("asciinema") is None:
        pytest.skip("asciinema not installed")
    content = ("\x1b[1;32malice@ct-1\x1b[0m:~$ ls\r\nfile1  \u75c5\u9662\r\n"
               + "".join(f"line {i} \u00e9\r\n" for i in range(30))
               + "\x1b[31mred\x1b[0m $ ").encode()
    chunks = [content[i:i + 23] for i in range(0, len(content), 23)]
    _, path = rec.session(
        "open engineer=alice device=ct-1", "pty xterm-256color 100 30",
        "shell", *["out " + esc(c) for c in chunks[:10]], "winch 120 40",
        *["out " + esc(c) for c in chunks[10:]], "in secret", "close")
    cast = rec.dir / "s.cast"
    r = run([REPLAY, "--asciicast", "--input", path])
    assert r.returncode == 0, r.stderr
    cast.write_bytes(r.stdout)
    lines = r.stdout.decode("utf-8").splitlines()
    head = json.loads(lines[0])
    assert head["version"] == 2 and head["width"] == 100
    assert head["height"] == 30 and head["env"]["TERM"] == "xterm-256color"
    events = [json.loads(x) for x in lines[1:]]
    assert all(len(e) == 3 and isinstance(e[0], float) for e in events)
    assert ["r", "120x40"] in [e[1:] for e in events]
    assert ["i", "secret"] in [e[1:] for e in events]
    times = [e[0] for e in events]
    assert times == sorted(times)
    r = run_with_tty(["asciinema", "cat", cast])
    assert r.returncode == 0, r.stderr
    assert r.stdout == content
    r = run_with_tty(["asciinema", "play", "-s", "100", cast])
    assert r.returncode == 0, r.stderr
    assert r.stdout == content


DANGEROUS = (b"A\x1b]52;c;aGVsbG8=\x07B\x1b]0;pwned\x07C\x1b]8;;http://x/\x1b\\"
             b"link\x1b]8;;\x1b\\D\x1b[6nE\x1b[cF\x1b[>cG\x1bP$qm\x1b\\H"
             b"\x1b_apc\x1b\\I\x9b6nJ\xc2\x9d0;t\x07K\x05L\x1b[21tM"
             b"\x1b[?1000hN\x1bZO\x1b[1;31mred\x1b[0m\r\n")
SAFE = b"ABClinkDEFGHIJKLMNO\x1b[1;31mred\x1b[0m\r\n"
BAD_PATTERNS = [b"\x1b]", b"\x1bP", b"\x1b_", b"\x1b[6n", b"\x1b[c",
                b"\x1b[>c", b"\x9b", b"\xc2\x9d", b"\x05", b"\x1b[21t",
                b"\x1b[?1000h", b"\x1bZ", b"52;", b"pwned"]


def test_sanitised_everywhere(rec):
    # split the dangerous bytes across frames at odd places
    chunks = [DANGEROUS[i:i + 5] for i in range(0, len(DANGEROUS), 5)]
    _, path = rec.session("open engineer=mallory device=ct-1", "shell",
                          *["out " + esc(c) for c in chunks], "close")
    # playback (to a pipe: no keys, real-time at high speed)
    r = run([REPLAY, "--speed", "1000", path],
            stdin=subprocess.DEVNULL, env=dict(os.environ, LANG="C.UTF-8",
                                               LC_ALL="C.UTF-8"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(SAFE)
    assert b"neutralised" in r.stderr
    for bad in BAD_PATTERNS:
        assert bad not in r.stdout, bad
    # asciicast
    r = run([REPLAY, "--asciicast", path])
    data = "".join(json.loads(x)[2] for x in
                   r.stdout.decode().splitlines()[1:]).encode()
    assert data == SAFE
    # transcript: no escapes at all
    r = run([REPLAY, "--text", path])
    t = r.stdout
    assert b"\x1b" not in t and b"\x07" not in t and b"\x9b" not in t
    assert text_output(t.decode()) == "ABClinkDEFGHIJKLMNOred\n"
    # a non-UTF-8 terminal gets ASCII only
    r = run([REPLAY, "--speed", "1000", path], stdin=subprocess.DEVNULL,
            env=dict(os.environ, LANG="C", LC_ALL="C"))
    assert all(b < 0x80 for b in r.stdout)


def test_replay_warns_when_not_verified(rec):
    _, path = rec.session(*SESSION)
    bad = rec.dir / "bad.brec"
    data = bytearray(path.read_bytes())
    i = data.find(b"uid=1000")
    data[i + 4] = ord("0")
    bad.write_bytes(bytes(data))
    r = run([REPLAY, "--text", "-k", rec.pub, bad])
    assert b"WARNING" in r.stderr and b"ALTERED" in r.stderr
    assert b"uid=0000" in r.stdout  # still shown, but flagged
    r = run([REPLAY, "--text", "-k", rec.pub, path])
    assert b"WARNING" not in r.stderr


def test_replay_terminal_keys(rec):
    """Real-time playback on a pty: -> jumps 10 s ahead, <- replays from the
    start into a cleared screen, space pauses, . steps, q quits, and the
    terminal settings are restored afterwards."""
    _, path = rec.session("open engineer=a device=d", "shell", "out one\\r\\n",
                          "sleep 1200", "out two\\r\\n", "sleep 1200",
                          "out three\\r\\n", "close")
    # stretch the pauses: replay --speed 0.1 makes them 12 s
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([str(REPLAY), "--speed", "0.1", str(path)],
                         stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY,
                                                        0))
    got = b""

    def expect(what, within):
        nonlocal got
        deadline = time.time() + within
        while what not in got:
            left = deadline - time.time()
            assert left > 0, (what, got)
            r, _, _ = select.select([master], [], [], left)
            if r:
                got += os.read(master, 4096)
        i = got.index(what) + len(what)
        got = got[i:]

    expect(b"one", 10)
    util.wait_until(lambda: not termios.tcgetattr(slave)[3] &
                    termios.ICANON, 5, what="the replay's raw terminal")
    os.write(master, b" ")                # pause
    # it reads one key at a time: the next once it waits, paused
    util.wait_until(lambda: util.polls_forever(p.pid), 5, interval=0.01,
                    what="the replay paused")
    os.write(master, b".")                # step: the next frame at once
    expect(b"two", 3)
    os.write(master, b"\x1b[D")          # <- : clear, replay from start
    expect(b"\x1b[2J", 3)
    os.write(master, b" ")                # resume: "one" is due at once
    expect(b"one", 3)
    os.write(master, b"\x1b[C")          # -> : 10 s ahead, past the end
    expect(b"two", 3)
    expect(b"three", 3)
    assert p.wait(timeout=10) == 0
    assert termios.tcgetattr(slave) == before
    p.stderr.close()
    # q quits mid-way, and the terminal is restored again
    p = subprocess.Popen([str(REPLAY), "--speed", "0.1", str(path)],
                         stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY,
                                                        0))
    expect(b"one", 10)
    os.write(master, b"q")
    assert p.wait(timeout=5) == 0

    def restored():         # the reset is the last thing it writes
        nonlocal got
        if select.select([master], [], [], 0)[0]:
            got += os.read(master, 4096)
        return b"\x1b[?25h" in got
    util.wait_until(restored, 5, interval=0.01, what=lambda:
                    "the terminal reset in %r" % got)
    assert b"two" not in got
    assert termios.tcgetattr(slave) == before
    os.close(master)
    os.close(slave)
    p.stderr.close()


# ---- failure modes ---------------------------------------------------------

def test_sigkill_leaves_verifiable_unsealed_recording(tmproot):
    rec = Recorder(tmproot).start()
    p = subprocess.Popen(
        [str(FEED), "-s", str(rec.sock), "open engineer=a device=d",
         "out before", "sleep 1600", "out after", "sleep 6000", "close"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, path = opened(p)
    # "after" written behind the checkpoint that signs "before"
    util.wait_until(lambda: re.search(
        r"\(signed by checkpoint .* the [1-9]\d* frame\(s\) after it are "
        r"NOT verified", rec.verify(path)[1]), 10, interval=0.02,
        what="a frame after the first checkpoint")
    rec.stop(signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == 1  # the worker learns: the session ends
    (path,) = rec.recordings()
    rc, out, err = rec.verify(path)
    assert rc == 2, (out, err)
    assert "NOT SEALED" in out and "frames 0.." in out
    assert "NOT verified" in out
    # everything up to the last checkpoint verifies; cut there, it still
    # says 2, with nothing unverified
    data = path.read_bytes()
    fr = list(frames(data))
    last_ck = max(i for i, f in enumerate(fr) if f[2] == T_CHECKPOINT)
    cut = rec.dir / "cut.brec"
    cut.write_bytes(data[:fr[last_ck][1]])
    rc, out, err = rec.verify(cut)
    assert rc == 2 and "the 0 frame(s) after it" in out, out


def test_sigterm_seals_open_recordings(tmproot):
    rec = Recorder(tmproot).start()
    p = subprocess.Popen(
        [str(FEED), "-s", str(rec.sock), "open engineer=a device=d",
         "out hello", "sleep 3000", "out more", "close"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, path = opened(p)
    util.wait_until(lambda: b"hello" in path.read_bytes(), 10,
                    what="hello in the recording")
    assert rec.stop(signal.SIGTERM) == 0
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1
    assert b"shutting down" in err
    (path,) = rec.recordings()
    rc, vout, verr = rec.verify(path)
    assert rc == 0, verr
    assert "abnormally" in vout and "recorder stopped" in vout
    assert not rec.sock.exists()


def test_peer_with_disallowed_uid_is_refused(tmproot):
    if os.geteuid() != 0:
        pytest.skip("needs root to run a client as another uid")
    if not os.access(FEED, os.X_OK) or any(
            not (p.stat().st_mode & stat.S_IXOTH) for p in FEED.parents
            if p != Path("/")):
        pytest.skip("rec_feed not reachable by uid 65534")
    rec = Recorder(tmproot).start()
    try:
        r = rec.feed("open engineer=a device=d", "close", user=65534)
        assert r.returncode == 1
        assert b"uid 65534 is not allowed" in r.stderr, r.stderr
        assert rec.recordings() == []
        assert "event=recording.peer_refused" in rec.log.read_text()
    finally:
        assert rec.stop() == 0
    ok = Recorder(tmproot, extra=["-u", "65534"], name="ok").start()
    try:
        sid, path = ok.session("open engineer=a device=d", "close",
                               user=65534)
        assert ok.verify(path)[0] == 0
        # and now root, not listed, is refused
        r = ok.feed("open engineer=a device=d", "close")
        assert b"uid 0 is not allowed" in r.stderr
    finally:
        assert ok.stop() == 0


def test_stuck_recorder_fails_closed_by_timeout(tmproot):
    rec = Recorder(tmproot).start()
    big = rec.dir / "big"
    big.write_bytes(os.urandom(16 << 20))
    try:
        p = subprocess.Popen(
            [str(FEED), "-s", str(rec.sock), "open engineer=a device=d",
             "sleep 300", f"outfile {big} 65536", "close"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        opened(p)
        rec.proc.send_signal(signal.SIGSTOP)
        t0 = time.time()
        out, err = p.communicate(timeout=60)
        took = time.time() - t0
        assert p.returncode == 1
        assert b"did not accept data for 5 seconds" in err, err
        assert 4 < took < 30
    finally:
        rec.proc.send_signal(signal.SIGCONT)
        assert rec.stop() == 0
    (path,) = rec.recordings()
    assert rec.verify(path)[0] == 0  # sealed as "worker disconnected"


def test_open_refused_without_free_space(tmproot):
    rec = Recorder(tmproot, extra=["-m", str(1 << 40)]).start()
    try:
        r = rec.feed("open engineer=a device=d", "close")
        assert r.returncode == 1
        assert b"recording refused: only" in r.stderr
        assert b"MiB free on the recording disk" in r.stderr
        assert rec.recordings() == []
    finally:
        assert rec.stop() == 0


def test_connections_cannot_touch_each_other(rec):
    a = subprocess.Popen(
        [str(FEED), "-s", str(rec.sock), "open engineer=alice device=d1",
         "out AAAA1", "sleep 400", "out AAAA2", "sleep 400", "close"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b = subprocess.Popen(
        [str(FEED), "-s", str(rec.sock), "open engineer=bob device=d2",
         "sleep 200", "out BBBB1", "sleep 400", "out BBBB2", "close"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    oa, ea = a.communicate(timeout=30)
    ob, eb = b.communicate(timeout=30)
    assert a.returncode == 0 and b.returncode == 0, (ea, eb)
    (sa, pa), (sb, pb) = parse_session(oa), parse_session(ob)
    assert sa != sb and pa != pb
    ta = run([REPLAY, "--text", pa]).stdout
    tb = run([REPLAY, "--text", pb]).stdout
    assert b"AAAA1AAAA2" in ta and b"BBBB" not in ta
    assert b"BBBB1BBBB2" in tb and b"AAAA" not in tb
    # a connection cannot name a session: no such fact exists
    c = Proto(rec.sock)
    c.send(open_msg({"engineer": "x", "device": "y", "session": sa}))
    t, f = c.reply()
    assert t == 0x82 and b'unknown session fact "session"' in f[0]
    # nor write before OPEN
    c = Proto(rec.sock)
    c.send(frame_msg(T_OUTPUT, 0, b"sneaky"))
    t, f = c.reply()
    assert t == 0x82 and b"FRAME before OPEN" in f[0]
    assert b"sneaky" not in pa.read_bytes() + pb.read_bytes()
    assert rec.verify(pa)[0] == 0 and rec.verify(pb)[0] == 0


def test_oversized_or_malformed_message_closes_only_that_connection(rec):
    good = subprocess.Popen(
        [str(FEED), "-s", str(rec.sock), "open engineer=alice device=d1",
         "out first", "sleep 800", "out second", "close"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, path = opened(good)
    # a frame over the cap: the length alone is refused
    c = Proto(rec.sock)
    c.send(open_msg({"engineer": "mallory", "device": "d2"}))
    t, f = c.reply()
    assert t == 0x81
    bad_path = Path(f[1].decode())
    c.send(struct.pack(">I", MSG_MAX + 1) + b"\x02")
    t, f = c.reply()
    assert t == 0x82 and b"over the size limit" in f[0]
    assert c.closed()
    # a payload that is malformed for its type
    c = Proto(rec.sock)
    c.send(open_msg({"engineer": "mallory", "device": "d3"}))
    assert c.reply()[0] == 0x81
    c.send(frame_msg(2, 0, b"\x00\x00\x00\x05ab"))  # PTY_REQ, bad string
    t, f = c.reply()
    assert t == 0x82 and b"malformed PTY_REQ" in f[0]
    # the recorder's own frame types are not for workers
    c = Proto(rec.sock)
    c.send(open_msg({"engineer": "mallory", "device": "d4"}))
    assert c.reply()[0] == 0x81
    c.send(frame_msg(T_SEAL, 0, b""))
    assert b"may not send frame type 18" in c.reply()[1][0]
    # before OPEN a peer gets far less room
    c = Proto(rec.sock)
    c.send(struct.pack(">I", 64 * 1024 + 1))
    assert c.reply()[0] == 0x82
    # the good session is unaffected
    out, err = good.communicate(timeout=30)
    assert good.returncode == 0, err
    assert rec.verify(path)[0] == 0
    assert b"firstsecond" in run([REPLAY, "--text", path]).stdout
    # the refused one is sealed, abnormally, with the reason
    rc, vout, _ = rec.verify(bad_path)
    assert rc == 0 and "message over the size limit" in vout


def test_malformed_frame_structure_is_refused(rec):
    """FRAME bodies are parsed in place where the socket's bytes landed
    (issue 19 item 5, docs/PERFORMANCE.md): a body too short for its
    type, channel and length, or whose payload length disagrees with the
    body in either direction, ends that connection; frames split across
    many small writes and many frames in one write still record
    byte for byte."""
    bad = [
        msg(2, b"\x07\x00\x00"),                       # no channel, no length
        msg(2, bytes([T_OUTPUT]) + struct.pack(">I", 0) + b"\x00\x00"),
        msg(2, bytes([T_OUTPUT]) + struct.pack(">II", 0, 5) + b"abcd"),
        msg(2, bytes([T_OUTPUT]) + struct.pack(">II", 0, 3) + b"abcd"),
        msg(2, bytes([T_OUTPUT]) + struct.pack(">II", 0, 0xffffffff)),
    ]
    for i, m in enumerate(bad):
        c = Proto(rec.sock)
        c.send(open_msg({"engineer": "mallory", "device": "m%d" % i}))
        assert c.reply()[0] == 0x81
        c.send(m)
        t, f = c.reply()
        assert t == 0x82 and b"malformed FRAME" in f[0], (i, f)
        assert c.closed()
    # good frames, dribbled a few bytes per write, then a burst of many
    # frames in one write: the bytes land at every offset of the reads
    c = Proto(rec.sock)
    c.send(open_msg({"engineer": "alice", "device": "ok"}))
    t, f = c.reply()
    assert t == 0x81
    path = Path(f[1].decode())
    want = b""
    for k in range(20):
        m = frame_msg(T_OUTPUT, 0, b"<%d>" % k * (k + 1))
        want += b"<%d>" % k * (k + 1)
        for j in range(0, len(m), 3):
            c.send(m[j:j + 3])
    burst = b""
    for k in range(500):
        burst += frame_msg(T_OUTPUT, 0, b"[%d]" % k)
        want += b"[%d]" % k
    c.send(burst)
    c.send(msg(4, b""))                             # CLOSE
    assert c.reply()[0] == 0x81
    assert rec.verify(path)[0] == 0
    assert want in run([REPLAY, "--text", path]).stdout


def test_worker_disconnect_seals_abnormally(rec):
    sid, path = rec.session("open engineer=a device=d", "out x", "drop")
    util.wait_until(lambda: rec.verify(path)[0] == 0, 5, what="sealed")
    rc, out, err = rec.verify(path)
    assert rc == 0 and "worker disconnected" in out
    t = run([REPLAY, "--text", path]).stdout.decode()
    assert "event worker-disconnected:" in t
    assert "end (abnormal): worker disconnected" in t


def test_recordings_are_never_overwritten(rec):
    seen = {}
    for i in range(12):
        sid, path = rec.session("open engineer=a device=d", f"out n{i}",
                                "close")
        assert path not in seen
        seen[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    for path, digest in seen.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert stat.S_IMODE(path.stat().st_mode) == 0o440
    assert len(rec.recordings()) == 12
    # the key is never overwritten either
    before = rec.key.read_bytes()
    r = run([RECORDER, "--init", "-k", rec.key])
    assert r.returncode == 1 and b"refusing to overwrite" in r.stderr
    assert rec.key.read_bytes() == before
    assert stat.S_IMODE(rec.key.stat().st_mode) == 0o600


def test_checkpoint_every_second(rec):
    sid, path = rec.session("open engineer=a device=d", "out a",
                            "sleep 1300", "out b", "sleep 1300", "out c",
                            "close")
    fr = list(frames(path.read_bytes()))
    kinds = [f[2] for f in fr]
    assert kinds.count(T_CHECKPOINT) >= 2
    # no unsigned run spans a second
    first = None
    for f in fr:
        if f[2] in (T_CHECKPOINT, T_SEAL):
            first = None
        elif first is None:
            first = f[4]
        else:
            assert f[4] - first < 1_000_000


# ---- a raw protocol client -------------------------------------------------

def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def msg(t, body=b""):
    return struct.pack(">I", 1 + len(body)) + bytes([t]) + body


def open_msg(facts):
    body = struct.pack(">II", 1, len(facts))
    for k, v in facts.items():
        body += sstr(k) + sstr(v)
    return msg(1, body)


def frame_msg(typ, ch, payload):
    return msg(2, bytes([typ]) + struct.pack(">I", ch) + sstr(payload))


class Proto:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(str(path))

    def send(self, data):
        self.s.sendall(data)

    def _exact(self, n):
        b = b""
        while len(b) < n:
            chunk = self.s.recv(n - len(b))
            if not chunk:
                raise EOFError
            b += chunk
        return b

    def reply(self):
        (n,) = struct.unpack(">I", self._exact(4))
        body = self._exact(n)
        t, rest, fields = body[0], body[1:], []
        while len(rest) >= 4:
            (ln,) = struct.unpack(">I", rest[:4])
            if ln > len(rest) - 4:
                break
            fields.append(rest[4:4 + ln])
            rest = rest[4 + ln:]
        return t, fields

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
