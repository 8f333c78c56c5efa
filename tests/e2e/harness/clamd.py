"""ClamAV's clamd for the import airlock's tests (docs/FILES.md): started
as the unprivileged user clamav with a config of its own (LocalSocket in a
temporary directory, Foreground), on a signature database built offline
with sigtool from the EICAR test file (an MD5 signature named
Eicar-Test-Signature). No freshclam, no network."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

CLAMD = "/usr/sbin/clamd"
SIGTOOL = "/usr/bin/sigtool"

# The EICAR anti-virus test file: harmless, detected by every scanner.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
         b"$H+H*")


class Clamd:
    def __init__(self):
        # under /tmp, not pytest's 0700 tree: clamd runs as clamav
        self.dir = tempfile.mkdtemp(prefix="bastion-clamd.")
        self.socket = os.path.join(self.dir, "clamd.sock")
        self.log = os.path.join(self.dir, "clamd.log")
        self.proc = None
        db = os.path.join(self.dir, "db")
        os.mkdir(db)
        eicar = os.path.join(self.dir, "eicar.com")
        with open(eicar, "wb") as f:
            f.write(EICAR)
        sig = subprocess.run([SIGTOOL, "--md5", eicar], check=True,
                             stdout=subprocess.PIPE, text=True,
                             cwd=self.dir).stdout.strip()
        md5, size, _ = sig.split(":", 2)
        with open(os.path.join(db, "test.hdb"), "w") as f:
            f.write("%s:%s:Eicar-Test-Signature\n" % (md5, size))
        self.conf = os.path.join(self.dir, "clamd.conf")
        with open(self.conf, "w") as f:
            f.write("LocalSocket %s\nDatabaseDirectory %s\nForeground yes\n"
                    "LogFile %s\nTemporaryDirectory %s\n"
                    "StreamMaxLength 20M\nLogClean yes\n" % (self.socket, db, self.log,
                                               self.dir))
        pw = pwd.getpwnam("clamav")
        for root, dirs, files in os.walk(self.dir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)

    def start(self, timeout=30):
        self.proc = subprocess.Popen(
            [CLAMD, "-c", self.conf], user="clamav", group="clamav",
            extra_groups=[], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("clamd exited: %s" % self.log_text())
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket)
                    s.sendall(b"zPING\0")
                    if s.recv(16).startswith(b"PONG"):
                        return self
            except OSError:
                pass
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
