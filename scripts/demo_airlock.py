"""demo_airlock.py - the file airlock's part of `make demo` (docs/DEMO.md,
"Files through the airlock"; docs/FILES.md).

scripts/demo.py calls this module to

- start ClamAV's clamd, unprivileged, with its own config and the offline
  test signature (the EICAR file's, built with sigtool: no freshclam, no
  network), through the harness module the end-to-end tests use
  (tests/e2e/harness/clamd.py); its pidfile is var/demo/clamd.pid, its
  directory (socket, database, log) /tmp/bastion-demo-clamd.RANDOM, named
  in var/demo/clamd.dir; `make demo-stop` stops it and removes that;
- put acme's uploads through the import airlock (`files:` with
  `scan: clamd` on the vendor acme, pointing at that clamd);
- write the sample files: var/demo/files/firmware-2.4.img (random bytes,
  the clean upload) and var/demo/files/eicar.com (the EICAR test file),
  the CT scanner's upload directory var/demo/devices/ct-scanner/incoming/
  and a log on the PACS for globex's export
  (var/demo/devices/pacs/export/pacs-service.log);
- check, before printing anything, that an sftp upload of the firmware
  arrives (file.transfer result=ok) and that the EICAR upload is refused
  and absent from the device;
- give print_commands() its rows for the upload, the EICAR refusal and
  globex's approved export.
"""

import hashlib
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness import util  # noqa: E402
from harness.clamd import CLAMD, EICAR, SIGNATURE, Clamd  # noqa: E402

DEMO = REPO / "var" / "demo"
CLAMD_PIDFILE = DEMO / "clamd.pid"
CLAMD_DIRFILE = DEMO / "clamd.dir"
CLAMD_PREFIX = "bastion-demo-clamd."    # of its directory under /tmp
FILES = DEMO / "files"                  # the engineers' side
FIRMWARE = FILES / "firmware-2.4.img"
EICAR_FILE = FILES / "eicar.com"
INCOMING = DEMO / "devices" / "ct-scanner" / "incoming"
PACS_LOG = DEMO / "devices" / "pacs" / "export" / "pacs-service.log"
MAX_FILE = "100M"                       # files: max_file_size, and clamd's


def component():
    """(label, pidfile, must_contain) for demo.components()."""
    return ("clamd, the airlock's virus scanner", CLAMD_PIDFILE,
            CLAMD_PREFIX)


def clamd_dir():
    """The running (or last) demo clamd's directory, or None."""
    try:
        d = CLAMD_DIRFILE.read_text().strip()
    except OSError:
        return None
    # only ever one of ours: a directory under /tmp with our prefix
    if os.path.dirname(d) != "/tmp" or \
            not os.path.basename(d).startswith(CLAMD_PREFIX):
        return None
    return d


def cleanup():
    """After demo.stop() killed clamd: remove its directory."""
    d = clamd_dir()
    if d is not None:
        shutil.rmtree(d, ignore_errors=True)
    CLAMD_DIRFILE.unlink(missing_ok=True)


def start_clamd():
    """Start the demo's clamd; returns it (a harness Clamd)."""
    if not os.access(CLAMD, os.X_OK):
        raise RuntimeError("clamd not found: run `make deps` (Debian "
                           "packages clamav-daemon, clamav)")
    c = Clamd(stream_max=MAX_FILE, prefix=CLAMD_PREFIX)
    CLAMD_DIRFILE.write_text(c.dir + "\n")
    c.start()
    CLAMD_PIDFILE.write_text("%d\n" % c.pid)
    return c


def apply_policy(vendors, clamd_socket):
    """acme's uploads through the import airlock (docs/FILES.md)."""
    for v in vendors:
        if v["name"] == "acme":
            v["files"] = {"directions": "both", "max_file_size": MAX_FILE,
                          "scan": "clamd", "clamd_socket": clamd_socket}


def write_samples():
    FILES.mkdir(parents=True, exist_ok=True)
    INCOMING.mkdir(parents=True, exist_ok=True)
    PACS_LOG.parent.mkdir(parents=True, exist_ok=True)
    if not FIRMWARE.exists():
        FIRMWARE.write_bytes(os.urandom(2 << 20))
    EICAR_FILE.write_bytes(EICAR)
    if not PACS_LOG.exists():
        PACS_LOG.write_text("".join(
            "2026-12-%02d 03:00:00 pacs: nightly archive check ok, "
            "%d studies\n" % (day, 4000 + 37 * day) for day in range(1, 29)))


def sftp_line(login, command):
    """The printed one-line sftp: command on stdin (not -b, whose batch
    mode would forbid the Password prompt; ssh asks on the terminal);
    -A: sftp forwards the agent for the touch check only when told."""
    return "echo %s | sftp -A -F %s %s@bastion" % (
        shlex.quote(command), rel(DEMO / "ssh_config"), login)


def rel(path):
    """path relative to the repository (for printed commands)."""
    try:
        return str(pathlib.Path(path).relative_to(REPO))
    except ValueError:
        return str(path)


def sftp_put(d, local, remote):
    """alice's sftp upload of local to remote on ct-scanner, through the
    bastion as the printed command does it (d: the demo module)."""
    argv = [util.SFTP, "-A", "-F", str(d.SSH_CONFIG),
            "alice+ct-scanner@bastion"]
    try:
        return subprocess.run(
            argv, input="put %s %s\n" % (local, remote),
            env=d.client_env(d.PEOPLE_DIR / "alice" / "askpass"),
            capture_output=True, text=True, timeout=90,
            start_new_session=True)
    except subprocess.TimeoutExpired:
        return None


def self_test(d):
    """The clean upload arrives, byte for byte, recorded result=ok; the
    EICAR upload is refused by clamd's signature and never lands."""
    for f in (FIRMWARE, EICAR_FILE):
        (INCOMING / f.name).unlink(missing_ok=True)
    data = FIRMWARE.read_bytes()
    offset = d.log_size()
    p = sftp_put(d, FIRMWARE, INCOMING / FIRMWARE.name)
    ev = d.audit_since(offset, "file.transfer", "alice", timeout=15)
    placed = INCOMING / FIRMWARE.name
    if p is None or p.returncode != 0 or ev is None or \
            ev.get("result") != "ok" or \
            ev.get("sha256") != hashlib.sha256(data).hexdigest() or \
            not placed.exists() or placed.read_bytes() != data:
        raise d.log_error("airlock self-test: the clean upload did not "
                          "arrive whole (record %s)\n%s" % (ev, d.outcome(p)))
    offset = d.log_size()
    p = sftp_put(d, EICAR_FILE, INCOMING / EICAR_FILE.name)
    ev = d.audit_since(offset, "file.transfer", "alice", timeout=15)
    found = "the virus scanner found %s" % SIGNATURE
    if p is None or found not in p.stderr or ev is None or \
            ev.get("result") != "refused" or \
            (INCOMING / EICAR_FILE.name).exists():
        raise d.log_error("airlock self-test: the EICAR upload was not "
                          "refused (record %s)\n%s" % (ev, d.outcome(p)))
    placed.unlink()


def upload_rows():
    """print_commands() rows: the upload, its records, EICAR refused."""
    inc = shlex.quote(str(INCOMING) + "/")
    return [
        ("the import airlock (acme): an upload waits in a quarantine on the "
         "bastion,\nis scanned by clamd (offline test signatures), placed on "
         "the CT scanner\nand read back; it arrives",
         sftp_line("alice+ct-scanner", "put %s %s" % (rel(FIRMWARE), inc))),
        ("on the device, and its record: audit trail, recording "
         "(replay --text)",
         "ls -l %s; grep event=file.transfer %s | tail -1\n  %s -k %s --text "
         "$(ls -t %s/*/*/*/*.brec | head -1) | "
         "grep -E 'file.transfer|airlock.(scan|placed)'"
         % (rel(INCOMING), rel(DEMO / "bastiond.log"),
            rel(util.build_dir() / "bastion-replay"),
            rel(DEMO / "state" / "recorder.key.pub"),
            rel(DEMO / "recordings"))),
        ("the EICAR test file: refused (\"the virus scanner found "
         "%s.UNOFFICIAL\":\nclamd's suffix for a signature of the site's "
         "own), never on the CT scanner\n(its record says result=refused)"
         % SIGNATURE,
         "%s; ls %s" % (sftp_line("alice+ct-scanner", "put %s %s"
                                  % (rel(EICAR_FILE), inc)),
                        rel(INCOMING))),
    ]


def export_rows(ssh):
    """print_commands() rows: globex's export, held until bob approves.
    ssh: the printed `ssh -F var/demo/ssh_config`."""
    return [
        ("globex's exports need an admin's approval: gina (with the grant "
         "bob gave\nabove) gets the PACS's log; her sftp waits, with a "
         "request number",
         sftp_line("gina+pacs", "get %s %s/" % (shlex.quote(str(PACS_LOG)),
                                               rel(FILES)))),
        ("bob sees the file's name, size and SHA-256 and approves it; "
         "gina's get\ncompletes with exactly those bytes",
         "%s bob@bastion file-requests; %s bob@bastion file-approve ID"
         % (ssh, ssh)),
    ]
