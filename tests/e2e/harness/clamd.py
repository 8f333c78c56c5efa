"""ClamAV's clamd for the import airlock (docs/FILES.md), offline: the
end-to-end tests, `make demo` (scripts/demo_airlock.py) and `make bench`
(bench/sftpbench.py) all start it through this module. It runs
unprivileged (as the user clamav when started by root, else as the
caller) with a config of its own (LocalSocket in a fresh directory under
/tmp, Foreground), on a signature database built offline with sigtool
from the EICAR test file (an MD5 signature named Eicar-Test-Signature).
No freshclam, no network."""

import functools
import os
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import time

CLAMD = "/usr/sbin/clamd"
SIGTOOL = "/usr/bin/sigtool"
SIGNATURE = "Eicar-Test-Signature"

# The EICAR anti-virus test file: harmless, detected by every scanner.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
         b"$H+H*")


def write_test_db(db, workdir):
    """db/test.hdb: the MD5 signature of the EICAR file, made by
    `sigtool --md5` on a copy of it written in workdir."""
    eicar = os.path.join(workdir, "eicar.com")
    with open(eicar, "wb") as f:
        f.write(EICAR)
    sig = subprocess.run([SIGTOOL, "--md5", eicar], check=True,
                         stdout=subprocess.PIPE, text=True,
                         cwd=workdir).stdout.strip()
    md5, size, _ = sig.split(":", 2)
    with open(os.path.join(db, "test.hdb"), "w") as f:
        f.write("%s:%s:%s\n" % (md5, size, SIGNATURE))


class Clamd:
    """One clamd. stream_max: its StreamMaxLength (an upload larger than
    that is refused by the airlock as a failed scan); prefix: of its
    directory's name under /tmp (the demo finds its own by it)."""

    def __init__(self, stream_max="20M", prefix="bastion-clamd."):
        # under /tmp, not a 0700 tree: clamd may run as clamav
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.socket = os.path.join(self.dir, "clamd.sock")
        self.log = os.path.join(self.dir, "clamd.log")
        self.proc = None
        db = os.path.join(self.dir, "db")
        os.mkdir(db)
        write_test_db(db, self.dir)
        self.conf = os.path.join(self.dir, "clamd.conf")
        with open(self.conf, "w") as f:
            f.write("LocalSocket %s\nDatabaseDirectory %s\nForeground yes\n"
                    "LogFile %s\nTemporaryDirectory %s\n"
                    "StreamMaxLength %s\nLogClean yes\n"
                    % (self.socket, db, self.log, self.dir, stream_max))
        self.user = None
        if os.geteuid() == 0:
            self.user = "clamav"
            pw = pwd.getpwnam("clamav")
            for root, dirs, files in os.walk(self.dir):
                for n in [root] + [os.path.join(root, x)
                                   for x in dirs + files]:
                    os.chown(n, pw.pw_uid, pw.pw_gid)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout=30):
        kw = {}
        if self.user is not None:
            kw = {"user": self.user, "group": self.user, "extra_groups": []}
        self.proc = subprocess.Popen(
            [CLAMD, "-c", self.conf], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, **kw)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("clamd exited: %s" % self.log_text())
            if ping(self.socket):
                return self
            time.sleep(0.1)
        raise RuntimeError("clamd did not start: %s" % self.log_text())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def scans(self):
        """The streams clamd scanned, one log line each."""
        return [l for l in self.log_text().splitlines()
                if l.startswith("instream(")]

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def instream(self, path, chunk=64 << 10):
        """Scan the file at path as the airlock does (INSTREAM, chunks of
        at most 64 KiB, each after its 4-byte length; a zero length
        ends it). Returns (seconds to the reply, the reply without its
        NUL, e.g. "stream: OK")."""
        t0 = time.monotonic()
        with socket.socket(socket.AF_UNIX) as s, open(path, "rb") as f:
            s.settimeout(600)
            s.connect(self.socket)
            s.sendall(b"zINSTREAM\0")
            for b in iter(functools.partial(f.read, chunk), b""):
                s.sendall(struct.pack(">I", len(b)) + b)
            s.sendall(struct.pack(">I", 0))
            # clamd closes the connection after its one reply
            reply = b"".join(iter(functools.partial(s.recv, 1024), b""))
        return time.monotonic() - t0, reply.rstrip(b"\0").decode(
            errors="replace")


def ping(sock):
    """True if a clamd answers PONG on the Unix socket sock."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(sock)
            s.sendall(b"zPING\0")
            return s.recv(16).startswith(b"PONG")
    except OSError:
        return False
