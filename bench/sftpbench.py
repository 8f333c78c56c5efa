"""sftpbench.py - the benchmark's file-transfer section (BENCH_ONLY=sftp;
bench.py runs it): OpenSSH `sftp` uploads and downloads of one random file
straight to the device, through the OpenSSH jump host (`sftp -J`, i.e.
ProxyJump), through the bastion (recorded, every file hashed: the SFTP
airlock of docs/FILES.md), and, for uploads, through the bastion's import
airlock (quarantine, clamd scan, placement on the device, read-back). The
clamd is the one the tests and the demo run (tests/e2e/harness/clamd.py:
offline test signatures); its own CPU time, and a scan of the same file
sent to it alone, are reported apart. docs/BENCHMARKS.md, section 7, says
how each number is taken."""

import copy
import filecmp
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import measure  # noqa: E402
import scene  # noqa: E402
from measure import BenchError, median  # noqa: E402
from scene import util  # noqa: E402  (the harness's util)
from harness.clamd import Clamd  # noqa: E402  (scene put it on the path)
from common import CFG, GiB, MiB, env_int, log, ratio  # noqa: E402

SFTP_MB = env_int("BENCH_SFTP_MB", 256, 1024)
AIRLOCK_DEVICE = "ct-airlock"       # ct-scanner's sshd, files: scan: clamd
LABELS = {"direct": "direct sftp",
          "jump": "sftp -J (OpenSSH jump host)",
          "bastion": "bastion, recorded (per-file record and SHA-256)",
          "airlock": "bastion + import airlock (quarantine, clamd scan, "
                     "placement, read-back)"}
# the processes of each path, in the order of the by-process rows
PARTS = {"direct": ("client", None, None, "device"),
         "jump": ("client", "jump", None, "device"),
         "bastion": ("client", "worker", "recorder", "device"),
         "airlock": ("client", "worker", "recorder", "device")}
UP_PATHS = ("jump", "direct", "bastion", "airlock")
DOWN_PATHS = ("jump", "direct", "bastion")


def sftp_argv(S, path):
    """OpenSSH sftp to the device along path; its commands come on stdin
    (not -b: batch mode would forbid the bastion's keyboard-interactive
    factor; the OpenSSH paths are key-only and BatchMode anyway)."""
    if path == "direct":
        a = S.device.ssh_argv()     # ssh -F none -i KEY -p PORT -o ... -T U@H
        opts = ["-P" if x == "-p" else x for x in a[1:-2]]
        return [util.SFTP] + opts + [a[-1]]
    if path == "jump":
        return [util.SFTP, "-F", str(S.jump_config), "device"]
    device = "ct-scanner" if path == "bastion" else AIRLOCK_DEVICE
    # -A: sftp forwards the agent for the touch check only when told
    return [util.SFTP, "-F", str(S.alice.config()), "-A",
            "alice+%s@bastion" % device]


def transfer(S, path, command, stamps):
    """Run one sftp command between two local `date` stamps (sftp's `!`
    escape) and return the seconds between them: the transfer alone,
    without the login."""
    t0, t1 = stamps / "t0", stamps / "t1"
    for t in (t0, t1):
        t.unlink(missing_ok=True)
    script = "!date +%%s.%%N > %s\n%s\n!date +%%s.%%N > %s\nbye\n" % (
        t0, command, t1)
    env = S.env("bastion" if path == "airlock" else path)
    p = subprocess.run(sftp_argv(S, path), input=script, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=900, start_new_session=True)
    try:
        return float(t1.read_text()) - float(t0.read_text())
    except (OSError, ValueError):
        raise BenchError("sftp %s: %r did not finish (exit %d): %s"
                         % (path, command, p.returncode, p.stderr[-2000:]))


def with_airlock_device(S, clamd, bastion_env):
    """Restart bastiond with a second device entry for the same sshd,
    ct-airlock, whose uploads go through the import airlock."""
    w = S.world
    pol = w.policy()
    # a deep copy: yaml.safe_dump writes shared lists as anchors, which
    # the policy loader refuses
    entry = copy.deepcopy(w.device_entries["ct-scanner"])
    entry.update(name=AIRLOCK_DEVICE, description="CT scanner through the "
                 "import airlock (benchmark)")
    entry["files"] = {"scan": "clamd", "clamd_socket": clamd.socket,
                      "max_file_size": "%dM" % (SFTP_MB + 1)}
    pol["devices"].append(entry)
    w.bastion.stop()
    w.start_bastion(pol, extra_env=bastion_env)


def one_run(S, Meter, path, command, result, size, clamd):
    """One sftp transfer along path: (MB/s, CPU parts; with "clamd", its
    own CPU seconds, for the airlock). result: the file that must then be
    there, whole."""
    result.unlink(missing_ok=True)
    S.clear_recordings()
    m = Meter(S)
    c0 = measure.proc_times(clamd.pid)[0]
    m.start()
    dt = transfer(S, path, command, result.parent)
    c = m.stop()
    c["clamd"] = measure.proc_times(clamd.pid)[0] - c0
    if not result.exists() or result.stat().st_size != size:
        raise BenchError("sftp %s: %r did not give the whole file"
                         % (path, command))
    log("  %s %s: %.1f MB/s" % (command.split()[0], path, size / dt / 1e6))
    return size / dt / 1e6, c


def section_sftp(S, R, Meter, bastion_env=None):
    size = SFTP_MB * MiB
    reps = CFG["reps"]
    d = S.workdir / "sftp"
    d.mkdir(exist_ok=True)
    src = scene.make_payload(d / "up.bin", SFTP_MB)
    remote = d / "on-device.bin"        # the device is this machine
    remote_src = d / "device-file.bin"  # what the downloads fetch
    back = d / "back.bin"
    shutil.copyfile(src, remote_src)
    runs = [("put", p, "put %s %s" % (src, remote), remote)
            for p in UP_PATHS] + \
        [("get", p, "get %s %s" % (remote_src, back), back)
         for p in DOWN_PATHS]
    res = {(k, p): [] for k, p, _, _ in runs}      # (MB/s, CPU parts)
    scans = []
    clamd = Clamd(stream_max="%dM" % (SFTP_MB + 1)).start()
    try:
        with_airlock_device(S, clamd, bastion_env)
        log("sftp: %d MiB up and down x %d runs per path" % (SFTP_MB, reps))
        for rep in range(reps):
            for kind, path, command, result in runs:
                res[kind, path].append(one_run(S, Meter, path, command,
                                               result, size, clamd))
            t, reply = clamd.instream(src)
            if reply != "stream: OK":
                raise BenchError("clamd on its own: %r" % reply)
            scans.append(t)
            log("  clamd alone: %.2f s" % t)
        # the last upload through the airlock is the file, byte for byte
        if not filecmp.cmp(src, remote, shallow=False):
            raise BenchError("sftp airlock: the placed file differs")
    finally:
        S.clear_recordings()
        clamd.close()
        shutil.rmtree(d, ignore_errors=True)
    R.raw["sftp"] = {"size": size, "scan_alone_s": scans, "runs": {
        "%s %s" % k: v for k, v in res.items()}}
    report(R, size, reps, res, scans)


def report(R, size, reps, res, scans):
    gib = size / GiB
    for kind, what in (("put", "upload, engineer -> device"),
                       ("get", "download, device -> engineer")):
        mbps = {p: median([r[0] for r in v]) for (k, p), v in res.items()
                if k == kind}
        w = "sftp %s (%d MiB file, median of %d)" % (what, SFTP_MB, reps)
        for path in ("direct", "jump", "bastion", "airlock"):
            if path in mbps:
                R.row(7, w, LABELS[path], "%.0f MB/s" % mbps[path],
                      ratio(mbps[path], mbps["jump"]))
    def per_gib(runs, part):
        return "%.2f" % (median([r[1][part] for r in runs]) / gib) \
            if part else "-"

    cpu_rows = (
        ("CPU per GiB %s: every process of the path (sftp + ssh client(s), "
         "jump sshd or bastion worker + recorder, device sshd; clamd apart)",
         lambda path, runs: per_gib(runs, "paths") + " CPU-s"),
        ("CPU per GiB by process, %s: sftp + ssh client(s) / jump sshd or "
         "bastion worker (monitor + child) / recorder / device sshd",
         lambda path, runs: " / ".join(per_gib(runs, part)
                                       for part in PARTS[path]) + " CPU-s"))
    for title, cell in cpu_rows:
        for kind, what in (("put", "uploaded"), ("get", "downloaded")):
            for path in ("direct", "jump", "bastion", "airlock"):
                if (kind, path) in res:
                    R.row(7, title % what, LABELS[path],
                          cell(path, res[kind, path]))
    t = median(scans)
    clamd = median([r[1]["clamd"] for r in res["put", "airlock"]])
    R.row(7, "import airlock: the scan, apart", "clamd's own CPU during "
          "the airlock uploads / a scan of the same file sent to clamd "
          "alone (INSTREAM, 64 KiB chunks)", "%.2f CPU-s/GiB / %.2f s "
          "(%.0f MB/s)" % (clamd / gib, t, size / t / 1e6))
