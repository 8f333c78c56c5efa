#!/usr/bin/python3
"""bench.py - the bastion against OpenSSH, script(1) and tlog, side by side.

Run by `make bench` through bench/run.sh (Debian's /usr/bin/python3). Sets
up its own devices, OpenSSH jump host and bastion on loopback with the
end-to-end harness (bench/scene.py), measures, and prints one table
(Markdown) with the machine, the cipher ceiling, every measurement and its
ratio to the reference (ssh -J, or script(1) for pty recording). The
table and the raw numbers are also written to bench/out/. docs/BENCHMARKS.md
says what each number means and how it is taken.

Environment (defaults in brackets; BENCH_FULL=1 switches to the sizes the
issue asks for):
    BENCH_FULL=1          2 GiB transfers, 1 GiB pty output, 1000 OpenSSH
                          idle sessions, 20 MiB per streaming session
    BENCH_SIZE_MB         bytes per throughput run [512; full 2048]
    BENCH_REPS            runs per path, median reported [3]
    BENCH_PTY_MB          output through a pty [256; full 1024]
    BENCH_SETUP_N         connections timed per path [50]
    BENCH_KEYS_N          keystrokes per path [2000]
    BENCH_KEYS_BUSY_N     keystrokes per path with output flowing [500]
    BENCH_KEY_GAP_MS      pause between keystrokes [2]
    BENCH_IDLE            idle sessions through the bastion [1000]
    BENCH_IDLE_OPENSSH    idle sessions through ssh -J [200; full 1000]
    BENCH_STREAMS         sessions streaming at once [100]
    BENCH_STREAM_MB       bytes per streaming session [8; full 20]
    BENCH_INFLIGHT        logins in flight while opening many sessions [16]
    BENCH_FLOOD           silent or junk connections held open from
                          BENCH_FLOOD_SOURCES other addresses [1000, 50]
    BENCH_BURST           engineers logging in at once from one vendor
                          source address [50]
    BENCH_SFTP_MB         file size of the sftp runs [256; full 1024]
    BENCH_ONLY            comma list of sections to run: cipher,throughput,
                          forward,pty,setup,keys,idle,stream,preauth,sftp,
                          store [all]; store: SQLite against PostgreSQL
                          (bench/store.py)
    BENCH_PTY_CASES       comma list of pty rows besides script(1): tlog,
                          jump,jump+script,jump+tlog,bastion [all]
    BENCH_DIR             where the work directory goes [/tmp]
    BENCH_KEEP=1          keep the work directory (logs, recordings)
    BENCH_ENCRYPT=1       recordings in format 2, encrypted to one age
                          recipient (the policy's recordings: recipients)
Experiments (not the product; the table says when one is on):
    BENCH_BASTION_PRELOAD=bench/shims/nodelay.c|nosync.c  LD_PRELOAD a shim
                          into bastiond (compiled on the fly)
    BENCH_RECORDINGS_DIR  recordings elsewhere (e.g. a tmpfs)
    BENCH_NOFILE=1024     soft open-files limit of bastiond and the recorder
                          (systemd's default for a service)
"""

import json
import os
import pathlib
import platform
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import measure  # noqa: E402
import scene  # noqa: E402
from measure import BenchError, percentile, median  # noqa: E402
from scene import util  # noqa: E402  (the harness's util)
from common import (CFG, GiB, MiB, ONLY, OUT, PATH_NAMES,  # noqa: E402
                    PTY_CASES, REPO, SECTIONS, log, ratio, verdict)
from load import (last_session_end, section_idle,  # noqa: E402
                  section_preauth, section_stream)
from sftpbench import section_sftp  # noqa: E402
from store import section_store  # noqa: E402


# --------------------------------------------------------------------------
# the report

class Report:
    def __init__(self):
        self.header = []        # (key, value)
        self.rows = []          # dicts
        self.notes = []
        self.raw = {"config": CFG}

    def head(self, key, value):
        self.header.append((key, value))

    def row(self, n, what, path, value, ratio="", target="", verdict=""):
        self.rows.append({"n": n, "what": what, "path": path,
                          "value": value, "ratio": ratio,
                          "target": ("%s: %s" % (target, verdict)
                                     if verdict else target)})

    def note(self, text):
        self.notes.append(text)

    def markdown(self):
        out = []
        for k, v in self.header:
            out.append("- **%s**: %s" % (k, v))
        out.append("")
        out.append("| # | measurement | path | result | ratio | target |")
        out.append("|---|---|---|---:|---:|---|")
        last = None
        for r in self.rows:
            what = r["what"] if (r["n"], r["what"]) != last else ""
            last = (r["n"], r["what"])
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                r["n"] if what else "", what, r["path"], r["value"],
                r["ratio"], r["target"]))
        if self.notes:
            out.append("")
            for t in self.notes:
                out.append("- " + t)
        return "\n".join(out) + "\n"



# --------------------------------------------------------------------------
# machine and cipher ceiling

def machine_info(R):
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0))
    R.head("CPU", "%s, %d cores (os.sched_getaffinity), %s" % (
        model, cores, platform.machine()))
    R.head("kernel", platform.release())
    ssh_v = subprocess.run([util.SSH, "-V"], capture_output=True,
                           text=True).stderr.strip()
    libssh = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                             "libssh-4"], capture_output=True,
                            text=True).stdout.strip()
    ossl = subprocess.run(["openssl", "version"], capture_output=True,
                          text=True).stdout.strip()
    R.head("software", "%s; libssh %s (bastion); %s" % (ssh_v, libssh, ossl))
    mem = open("/proc/meminfo").readline().split()[1]
    R.head("memory", "%d MiB; ulimit -n %d" % (
        int(mem) // 1024, resource.getrlimit(resource.RLIMIT_NOFILE)[0]))
    R.raw["machine"] = {"model": model, "cores": cores}


def cipher_ceiling(R):
    res = {}
    for alg in ("aes-256-gcm", "chacha20-poly1305"):
        p = subprocess.run(["openssl", "speed", "-seconds", "2", "-bytes",
                            "16384", "-evp", alg], capture_output=True,
                           text=True, timeout=120)
        m = None
        for line in p.stdout.splitlines():
            if re.match(r"^(AES-256-GCM|aes-256-gcm|ChaCha20-Poly1305|"
                        r"chacha20-poly1305)\s", line, re.I):
                m = line.split()[-1]
        if m and m.endswith("k"):
            res[alg] = float(m[:-1]) * 1000 / 1e6      # MB/s
    R.raw["cipher"] = res
    R.head("cipher ceiling (openssl speed -evp, 16 KiB blocks, 1 core)",
           ", ".join("%s %.0f MB/s" % (k, v) for k, v in res.items()))
    return res


def negotiated(S, R):
    """Which cipher each leg uses (ssh -v on the client side; the device's
    DEBUG1 log for the bastion's libssh client)."""
    legs = {}
    for path in ("direct", "jump", "bastion"):
        argv = S.argv(path, "true")
        argv.insert(1, "-v")
        p = subprocess.run(argv, capture_output=True, text=True,
                           env=S.env(path), timeout=60)
        found = re.findall(r"kex: server->client cipher: (\S+)", p.stderr)
        legs[path] = found
    dev = re.findall(r"kex: server->client cipher: (\S+)",
                     S.device.logfile.read_text(errors="replace"))
    legs["bastion->device"] = dev[-1:]
    R.raw["negotiated"] = legs
    R.head("negotiated ciphers", "direct %s; ssh -J %s (outer, inner); "
           "engineer->bastion %s; bastion->device (libssh) %s" % (
               "/".join(legs["direct"]), " + ".join(legs["jump"]),
               "/".join(legs["bastion"]),
               "/".join(legs["bastion->device"])))


# --------------------------------------------------------------------------
# CPU accounting around one measurement

class Meter:
    """Machine CPU (/proc/stat) plus the components we can attribute:
    jump sshd and bastiond (their reaped children: per-connection sshd,
    session workers), the recorder (its own time), the device sshd."""

    def __init__(self, S):
        self.S = S
        self.parts = {"device": (S.device.pid, "kids"),
                      "jump": (S.jump.pid, "kids"),
                      "worker": (S.bastion.pid, "kids"),
                      "recorder": (S.recorder_pid(), "own"),
                      "source": (S.source.pid, "own")}
        self.m = measure.CpuMeter(self.parts, known=S.long_lived_pids())
        # the split of a connection's CPU: bastiond's monitor (depth 1)
        # and its confined child (depth 2), the recorder skipped
        self.tree = measure.TreeSampler(S.bastion.pid,
                                        skip=[self.parts["recorder"][0]])

    def start(self):
        self.m.start()
        self.tree.start()
        self.c0 = measure.machine_cpu()

    def settle(self):
        """Wait for per-connection server processes to exit and be reaped
        (their CPU then shows in the listener's cutime)."""
        S = self.S
        measure.wait_no_children(
            lambda: [p for p in util.children_of(S.device.pid)
                     if p not in S.device_service_pids()], 30)
        measure.wait_no_children(S.worker_pids, 30)
        measure.wait_no_children(lambda: util.children_of(S.jump.pid), 30)

    def stop(self):
        self.settle()
        time.sleep(0.2)         # let ssh's orphaned ProxyJump child exit
        c1 = measure.machine_cpu()
        parts = self.m.stop()
        split = self.tree.stop()
        # the listener's cutime is exact; the child's share is sampled
        parts["child"] = min(split[2], parts["worker"])
        parts["monitor"] = parts["worker"] - parts["child"]
        parts["machine"] = c1[0] - self.c0[0]
        parts["steal"] = c1[1] - self.c0[1]
        parts["paths"] = sum(v for k, v in parts.items()
                             if k in ("client", "device", "jump", "worker",
                                      "recorder", "source"))
        return parts


# --------------------------------------------------------------------------
# issue 19 item 5: the targets, and CPU per GiB of each process

TARGET_SESSION = 1.0    # recorded session throughput / ssh -J unrecorded
TARGET_PTY = 1.2        # bastion -tt recorded / ssh -J -tt + script(1)


def per_process_rows(R, n, what, cpu, size, ref):
    """Rows of CPU-s per GiB of each process: the bastion's session child,
    its monitor and the recorder against the jump host's sshd (all its
    per-connection processes) on path `ref`; medians over the runs."""
    gib = size / GiB

    def per(path, key):
        v = [c[key] for c in cpu.get(path, [])]
        return median(v) / gib if v else 0.0
    ch, mo = per("bastion", "child"), per("bastion", "monitor")
    rc, j = per("bastion", "recorder"), per(ref, "jump")
    R.raw.setdefault("cpu_per_gib", {})[what] = {
        "child": ch, "monitor": mo, "recorder": rc, "jump_sshd": j}
    R.row(n, what, "bastion: session child / monitor / bastion-recorder "
          "(sum)", "%.2f / %.2f / %.2f (%.2f) CPU-s/GiB" % (
              ch, mo, rc, ch + mo + rc),
          ratio(ch + mo + rc, j) if j else "")
    R.row(n, what, "ssh -J: jump host sshd (all its processes)",
          "%.2f CPU-s/GiB" % j, "1.00x" if j else "")


# --------------------------------------------------------------------------
# 1. throughput

def section_throughput(S, R, payload):
    size = CFG["size_mb"] * MiB
    reps = CFG["reps"]
    loops = CFG["size_mb"] // (payload.stat().st_size // MiB)
    cmd = "for i in $(seq %d); do cat %s; done" % (loops, payload)
    results = {p: [] for p in ("direct", "jump", "bastion")}
    cpu = {p: [] for p in results}
    rec_sizes = []
    log("throughput: %d MiB x %d runs per path" % (CFG["size_mb"], reps))
    for rep in range(reps):
        for path in ("jump", "direct", "bastion"):
            S.clear_recordings()
            m = Meter(S)
            m.start()
            r = measure.stream(S.argv(path, cmd), S.env(path), expect=size)
            c = m.stop()
            results[path].append(size / r["t_data"] / 1e6)
            cpu[path].append(c)
            if path == "bastion":
                time.sleep(0.3)
                rec_sizes.append(sum(p.stat().st_size
                                     for p in S.recordings()))
            log("  %s: %.1f MB/s" % (path, results[path][-1]))
    S.clear_recordings()
    R.raw["throughput"] = {"mbps": results, "cpu": cpu,
                           "recording_bytes": rec_sizes, "size": size}
    med = {p: median(v) for p, v in results.items()}
    what = "session throughput, device -> engineer (%d MiB, median of %d)" \
        % (CFG["size_mb"], reps)
    ok = med["bastion"] / med["jump"] >= TARGET_SESSION
    R.raw["targets"] = dict(R.raw.get("targets", {}), session=(
        med["bastion"] / med["jump"], ok))
    for path in ("direct", "jump", "bastion"):
        R.row(1, what, PATH_NAMES[path], "%.0f MB/s" % med[path],
              ratio(med[path], med["jump"]),
              "recorded session >= %.1fx ssh -J" % TARGET_SESSION
              if path == "bastion" else "",
              verdict(ok) if path == "bastion" else "")
    what = "CPU per GiB moved: every process of the path (ssh client(s), " \
        "jump sshd or bastion worker + recorder, device sshd)"
    for path in ("direct", "jump", "bastion"):
        per = median([c["paths"] for c in cpu[path]]) / (size / GiB)
        R.row(1, what, PATH_NAMES[path], "%.2f CPU-s" % per)
    per_process_rows(R, 1, "CPU per GiB of each process (median of %d; "
                     "recording is mandatory, so its cost shows as the "
                     "recorder's CPU)" % reps, cpu, size, "jump")
    if rec_sizes:
        R.row(1, "recording size", "bastion", "%.4f bytes on disk per "
              "byte" % (median(rec_sizes) / size))


# --------------------------------------------------------------------------
# 1b. port forward

def wait_ready(p, timeout=60):
    """Read p.stdout until "ready" (the session beside a forward is up)."""
    buf = b""
    deadline = time.monotonic() + timeout
    fd = p.stdout.fileno()
    while b"ready" not in buf:
        left = deadline - time.monotonic()
        r, _, _ = select.select([fd], [], [], max(0, left))
        if not r:
            raise BenchError("no session within %ds" % timeout)
        b = os.read(fd, 4096)
        if not b:
            raise BenchError("ssh exited %s before its session was up: %s"
                             % (p.wait(), p.stderr.read().decode(
                                 errors="replace")[-1000:]))
        buf += b


def forward_once(S, path, size):
    lport = util.free_port("127.0.0.1")
    argv = S.forward_argv(path, lport, "echo ready; exec sleep 3600")
    m = Meter(S)
    m.start()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=S.env("bastion" if path == "bastion" else
                                   "direct"), start_new_session=True)
    err = ""
    try:
        wait_ready(p)
        with socket.create_connection(("127.0.0.1", lport), timeout=30) as s:
            n, dt = measure.read_socket(s, size)
        if n != size:
            raise BenchError("forward %s: %d of %d bytes" % (path, n, size),
                             n)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        p.stdout.close()
    c = m.stop()
    return size / dt / 1e6, c, err


def section_forward(S, R):
    size = CFG["size_mb"] * MiB
    reps = CFG["reps"]
    paths = ("jump", "onehop", "direct", "bastion")
    results = {p: [] for p in paths}
    cpu = {p: [] for p in paths}
    log("port forward: %d MiB x %d runs per path" % (CFG["size_mb"], reps))
    failures = {p: [] for p in paths}
    for rep in range(reps):
        for path in paths:
            S.clear_recordings()
            try:
                mbps, c, err = forward_once(S, path, size)
            except BenchError as e:
                # a forward cut short is a result, not a crash of the bench
                got = e.args[1] if len(e.args) > 1 else 0
                why = last_session_end(S) if path == "bastion" else ""
                failures[path].append("cut after %d of %d MiB%s" % (
                    got >> 20, size >> 20, "; " + why if why else ""))
                log("  %s: %s" % (path, failures[path][-1]))
                measure.wait_no_children(S.worker_pids, 30)
                continue
            results[path].append(mbps)
            cpu[path].append(c)
            log("  %s: %.1f MB/s" % (path, mbps))
    S.clear_recordings()
    R.raw["forward"] = {"mbps": results, "cpu": cpu, "size": size,
                        "failures": failures}
    med = {p: median(v) if v else 0 for p, v in results.items()}
    what = "port forward -L, device port -> engineer (%d MiB, median of " \
        "%d)" % (CFG["size_mb"], reps)
    for path in ("direct", "jump", "onehop", "bastion"):
        ok = (med["jump"] and med["bastion"] / med["jump"] >= 1.2 and
              not failures["bastion"])
        val = "%.0f MB/s" % med[path] if results[path] else "no run finished"
        if failures[path]:
            val += "; %d of %d runs failed: %s" % (
                len(failures[path]), reps, failures[path][0])
        R.row(1, what, PATH_NAMES[path] if path != "jump" else
              "ssh -J ... -L (through the device's sshd)",
              val, ratio(med[path], med["jump"]),
              "bastion >= 1.2x ssh -J" if path == "bastion" else "",
              verdict(ok) if path == "bastion" else "")
    gib = size / GiB
    R.row(1, "CPU per GiB forwarded: every process of the path",
          "ssh -J / 1 hop / bastion", " / ".join(
              "%.2f" % (median([c["paths"] for c in cpu[p]]) / gib)
              if cpu[p] else "n/a"
              for p in ("jump", "onehop", "bastion")) + " CPU-s")


# --------------------------------------------------------------------------
# 2. recording through a pty

def section_pty(S, R, text):
    reps = max(1, CFG["reps"] - 1)
    wd = S.workdir / "pty"
    wd.mkdir(exist_ok=True)
    ts, tl = wd / "typescript", wd / "tlog.json"
    inner = "%s; cat %s" % (measure.MARKER_CMD, text)
    tlog_limits = "--limit-rate=1000000000000 --limit-burst=1000000000000"
    have_tlog = shutil.which("tlog-rec") is not None
    cases = [
        ("script", "script(1) -q, local", ["script", "-q", "-c", inner,
                                           str(ts)], None, True, [ts]),
    ]
    if have_tlog:
        cases.append(("tlog", "tlog-rec (file writer), local",
                      ["tlog-rec", "-w", "file", "-o", str(tl)] +
                      tlog_limits.split() + ["/bin/sh", "-c", inner],
                      None, False, [tl]))
    cases += [
        ("jump", "ssh -J -tt, not recorded", S.argv("jump", inner, tty=True),
         S.env("jump"), True, []),
        ("jump+script", "ssh -J -tt + script(1) on the device",
         S.argv("jump", "script -q -c '%s' %s" % (inner, ts), tty=True),
         S.env("jump"), True, [ts]),
    ]
    if have_tlog:
        cases.append(("jump+tlog", "ssh -J -tt + tlog-rec on the device",
                      S.argv("jump", "tlog-rec -w file -o %s %s /bin/sh -c "
                             "'%s' </dev/null" % (tl, tlog_limits, inner),
                             tty=True), S.env("jump"), True, [tl]))
    cases.append(("bastion", "bastion -tt, recorded",
                  S.argv("bastion", inner, tty=True), S.env("bastion"),
                  True, None))
    if PTY_CASES:
        # script(1) stays: it is the reference of every ratio
        cases = [c for c in cases if c[0] in PTY_CASES or c[0] == "script"]
    res = {c[0]: [] for c in cases}
    disk = {c[0]: [] for c in cases}
    cpu = {}
    log("pty recording: %d MiB of text x %d runs" % (CFG["pty_mb"], reps))
    for rep in range(reps):
        for key, label, argv, env, stdin_tty, files in cases:
            for f in (ts, tl):
                if f.exists():
                    f.unlink()
            S.clear_recordings()
            m = Meter(S) if key in ("jump+script", "bastion") else None
            if m:
                m.start()
            r = measure.pty_stream(argv, env or dict(os.environ),
                                   stdin_tty=stdin_tty)
            res[key].append((r["bytes"], r["t_data"]))
            if m:
                # jump+script's path is the jump host's: the Meter's
                # "jump" part; the bastion's: child, monitor, recorder
                cpu.setdefault(key, []).append(m.stop())
            if files is None:
                # the worker seals the recording (and waits for the
                # recorder's answer) before it exits
                measure.wait_no_children(S.worker_pids, 30)
                d = sum(p.stat().st_size for p in S.recordings())
            else:
                d = sum(f.stat().st_size for f in files if f.exists())
            disk[key].append(d / r["bytes"] if r["bytes"] else 0)
            log("  %s: %.1f MB/s, %.3f B/B" % (
                key, r["bytes"] / r["t_data"] / 1e6, disk[key][-1]))
    S.clear_recordings()
    R.raw["pty"] = {"runs": res, "disk_per_byte": disk, "cpu": cpu}
    mbps = {k: median([b / t / 1e6 for b, t in v]) for k, v in res.items()}
    what = "recording through a pty: %d MiB of text output (median of %d)" \
        % (CFG["pty_mb"], reps)
    ref = mbps.get("jump+script")
    for key, label, *_ in cases:
        d = median(disk[key])
        val = "%.1f MB/s" % mbps[key] + (", %.3f B on disk/B" % d
                                          if d else "")
        is_b = key == "bastion" and ref
        if is_b:
            R.raw["targets"] = dict(R.raw.get("targets", {}), pty=(
                mbps["bastion"] / ref, mbps["bastion"] / ref >= TARGET_PTY))
        R.row(2, what, label, val, ratio(mbps[key], mbps["script"]) +
              " of script(1)" + ("; %s of ssh -J + script(1)" % ratio(
                  mbps[key], ref) if ref and key.startswith(("jump+s",
                                                              "bastion"))
                  else ""),
              "pty recording >= %.1fx ssh -J + script(1)" % TARGET_PTY
              if is_b else "",
              verdict(mbps["bastion"] / ref >= TARGET_PTY) if is_b else "")
    if "bastion" in cpu and "jump+script" in cpu:
        nbytes = median([b for b, _ in res["bastion"]])
        per_process_rows(R, 2, "CPU per GiB through the pty, each process "
                         "(median of %d)" % reps, cpu, nbytes,
                         "jump+script")
    if not have_tlog:
        R.note("tlog is not installed (bench/run.sh installs the Debian "
               "package tlog when missing): compared with script(1) only.")


# --------------------------------------------------------------------------
# 3. setup time

def audit_ts(ev):
    """An audit event's ts (ISO 8601, UTC, ms) as a Unix time."""
    import datetime
    t = ev.get("ts", "")
    try:
        return datetime.datetime.strptime(
            t.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def setup_phases(S, starts):
    """Where a bastion login spends its time, from the audit events of the
    last len(starts) sessions and the client's spawn/first-byte times
    (wall clock, same machine). Returns {phase: [seconds]}."""
    by = {}
    for ev in S.bastion.audit_events():
        sid = ev.get("session")
        if sid and sid.isdigit():
            by.setdefault(int(sid), {}).setdefault(ev.get("event"), ev)
    sids = sorted(k for k, v in by.items() if "device.connect" in v)
    sids = sids[-len(starts):]
    order = [("auth.factor", "TCP, key exchange, security-key signature"),
             ("auth.result", "second factor (keyboard-interactive, PAM)"),
             ("touch.ok", "touch: signature through the forwarded agent"),
             ("session.recording", "recording opened"),
             ("device.connect", "device: TCP, key exchange, login, channel"),
             (None, "first byte back to the engineer")]
    out = {label: [] for _, label in order}
    if len(sids) != len(starts):
        return {}
    for sid, (t_spawn, t_first) in zip(sids, starts):
        evs = by[sid]
        prev = t_spawn
        for name, label in order:
            t = t_first if name is None else (
                audit_ts(evs[name]) if name in evs else None)
            if t is None:
                continue
            out[label].append(t - prev)
            prev = t
    return {k: v for k, v in out.items() if v}


def section_setup(S, R):
    n = CFG["setup_n"]
    paths = ("direct", "jump", "bastion")
    res = {p: [] for p in paths}
    starts = []
    log("setup: %d connections per path, interleaved" % n)
    for i in range(n):
        for path in paths:
            t_wall = time.time()
            r = measure.stream(S.argv(path, "echo first-byte"), S.env(path),
                               expect=len("first-byte\n"), timeout=60)
            res[path].append(r["t_first"])
            if path == "bastion":
                starts.append((t_wall, t_wall + r["t_first"]))
    phases = setup_phases(S, starts)
    R.raw["setup"] = res
    R.raw["setup_phases"] = phases
    what = "setup: connect to first byte from the device (%d, interleaved)" \
        % n
    for path in paths:
        m, p95 = median(res[path]), percentile(res[path], 95)
        is_b = path == "bastion"
        R.row(3, what, PATH_NAMES[path], "median %.0f ms, p95 %.0f ms" % (
            m * 1e3, p95 * 1e3), ratio(m, median(res["jump"])),
            "bastion median <= ssh -J" if is_b else "",
            verdict(m <= median(res["jump"])) if is_b else "")
    if phases:
        R.row(3, "bastion setup by phase (median ms, from its audit "
              "events' timestamps)", "bastion", "; ".join(
                  "%s %.0f" % (k, median(v) * 1e3)
                  for k, v in phases.items()))


# --------------------------------------------------------------------------
# 4. keystroke latency

def section_keys(S, R):
    n, gap = CFG["keys_n"], CFG["key_gap_ms"] / 1000.0
    cmd = "stty raw -echo; %s; exec cat" % measure.MARKER_CMD
    paths = ("direct", "jump", "bastion")
    log("keystrokes: %d per path, round robin, %g ms apart"
        % (n, CFG["key_gap_ms"]))
    sessions = {p: (S.argv(p, cmd, tty=True), S.env(p)) for p in paths}
    res = measure.keystrokes(sessions, n, gap)
    measure.wait_no_children(S.worker_pids, 30)
    R.raw["keys"] = res
    what = "keystroke echo through a pty, round trip (%d each, " \
        "round robin)" % n
    p50 = {p: percentile(res[p], 50) for p in paths}
    p99 = {p: percentile(res[p], 99) for p in paths}
    for path in paths:
        R.row(4, what, PATH_NAMES[path], "p50 %.3f ms, p99 %.3f ms" % (
            p50[path] * 1e3, p99[path] * 1e3), ratio(p50[path], p50["jump"])
            + " (p50)")
    add50 = (p50["bastion"] - p50["jump"]) * 1e3
    add99 = (p99["bastion"] - p99["jump"]) * 1e3
    R.row(4, "latency added by the bastion (bastion minus ssh -J)",
          "bastion", "p50 %+.3f ms, p99 %+.3f ms" % (add50, add99), "",
          "added p99 < 1 ms", verdict(add99 < 1.0))
    R.row(4, "latency added by the bastion (bastion minus ssh -J)",
          "(for scale: bastion minus direct ssh)",
          "p50 %+.3f ms, p99 %+.3f ms" % (
              (p50["bastion"] - p50["direct"]) * 1e3,
              (p99["bastion"] - p99["direct"]) * 1e3))
    # the same while the device prints a little every 5 ms (a log tail,
    # a progress bar): an echo then often follows an unacknowledged
    # output segment, which is where Nagle's algorithm shows
    nb = CFG["keys_busy_n"]
    if nb <= 0:
        return
    cmd = ("stty raw -echo; (while sleep 0.005; do printf tick; done) & "
           "%s; exec cat" % measure.MARKER_CMD)
    log("keystrokes with output flowing: %d per path" % nb)
    sessions = {p: (S.argv(p, cmd, tty=True), S.env(p)) for p in paths}
    res = measure.keystrokes(sessions, nb, gap)
    measure.wait_no_children(S.worker_pids, 30)
    R.raw["keys_busy"] = res
    what = "keystroke echo while the device prints every 5 ms (%d each)" % nb
    for path in paths:
        v = res[path]
        R.row(4, what, PATH_NAMES[path], "p50 %.3f ms, p99 %.3f ms; %d%% "
              "over 20 ms" % (percentile(v, 50) * 1e3,
                              percentile(v, 99) * 1e3,
                              100 * sum(1 for x in v if x > 0.02) / len(v)),
              ratio(percentile(v, 50), percentile(res["jump"], 50)) +
              " (p50)")


def bastion_env(wd):
    """Experiments only (never the default): BENCH_BASTION_PRELOAD=LIB
    runs bastiond (and so its workers and recorder) with LD_PRELOAD=LIB,
    e.g. a shim that sets TCP_NODELAY (bench/shims/nodelay.c) or turns
    fdatasync into a no-op (bench/shims/nosync.c), to measure what a
    change would give before anyone makes it. The table says so."""
    lib = os.environ.get("BENCH_BASTION_PRELOAD")
    if not lib:
        return None
    if lib.endswith(".c"):
        so = wd / (pathlib.Path(lib).stem + ".so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-o",
                        str(so), str(REPO / lib) if not os.path.isabs(lib)
                        else lib, "-ldl"], check=True, timeout=60)
        lib = str(so)
    return {"LD_PRELOAD": lib}


class NoScene(Exception):
    """No section needs the main scene (BENCH_ONLY=store, cipher)."""


def background_load(seconds=3.0):
    """Cores kept busy by other processes while we do nothing."""
    c0 = measure.machine_cpu()
    time.sleep(seconds)
    c1 = measure.machine_cpu()
    return (c1[0] - c0[0]) / seconds


def main():
    t_start = time.monotonic()
    unknown = sorted(set(ONLY) - set(SECTIONS))
    if unknown:
        sys.exit("bench: BENCH_ONLY: unknown section(s) %s; the sections are "
                 "%s" % (", ".join(unknown), ",".join(SECTIONS)))
    measure.become_subreaper()
    build = util.build_dir()
    for f in (build / "bastiond", build / "tests" / "softsk.so"):
        if not f.exists():
            sys.exit("bench: %s is missing: run `make tests` (make bench "
                     "does)" % f)
    R = Report()
    machine_info(R)
    R.head("sizes", "throughput %d MiB x %d runs, pty %d MiB, setup %d, "
           "keystrokes %d, idle %d bastion / %d ssh -J, streaming %d x %d "
           "MiB%s" % (CFG["size_mb"], CFG["reps"], CFG["pty_mb"],
                      CFG["setup_n"], CFG["keys_n"], CFG["idle"],
                      CFG["idle_openssh"], CFG["streams"], CFG["stream_mb"],
                      " (BENCH_FULL=1)" if os.environ.get("BENCH_FULL") ==
                      "1" else " (defaults; BENCH_FULL=1 for the issue's "
                      "2 GiB)"))
    log("sizes: %s" % R.header[-1][1])
    if "cipher" in ONLY:
        log("openssl speed")
        cipher_ceiling(R)
    base = pathlib.Path(os.environ.get("BENCH_DIR", "/tmp"))
    wd = pathlib.Path(__import__("tempfile").mkdtemp(prefix="bench-",
                                                     dir=str(base)))
    log("work directory %s" % wd)
    R.head("recordings", "format 2, encrypted to one age recipient "
           "(BENCH_ENCRYPT=1)" if os.environ.get("BENCH_ENCRYPT") == "1"
           else "format 1 (no recipients in the policy)")
    for var, what in (("BENCH_BASTION_PRELOAD", "bastiond runs with "
                       "LD_PRELOAD of %s"),
                      ("BENCH_RECORDINGS_DIR", "recordings go to %s")):
        if os.environ.get(var):
            R.head("EXPERIMENT, not the product", what % os.environ[var])
    payload = scene.make_payload(wd / "payload.bin", 64)
    text = scene.make_text_payload(wd / "text.txt", CFG["pty_mb"])
    bg0 = background_load()
    log("background load: %.2f cores busy" % bg0)
    steal0 = measure.machine_cpu()
    S = None
    # the sections that run against one scene (store builds its own)
    on_scene = [n for n in ONLY if n not in ("cipher", "store")]
    try:
        if not on_scene:
            raise NoScene()
        S = scene.Scene(wd, build, payload,
                        recordings_dir=os.environ.get("BENCH_RECORDINGS_DIR"),
                        bastion_env=bastion_env(wd))
        if os.environ.get("BENCH_NOFILE"):
            # what systemd gives a service unless the unit says otherwise
            # (DefaultLimitNOFILE=1024:524288 in systemd 252)
            soft = int(os.environ["BENCH_NOFILE"])
            for pid in (S.bastion.pid, S.recorder_pid()):
                hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)[1]
                resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
            R.head("EXPERIMENT, not the product", "bastiond and "
                   "bastion-recorder run with a soft RLIMIT_NOFILE of %d"
                   % soft)
        negotiated(S, R)
        # the sections against the running scene, in SECTIONS' order
        sections = {
            "throughput": lambda: section_throughput(S, R, payload),
            "forward": lambda: section_forward(S, R),
            "pty": lambda: section_pty(S, R, text),
            "setup": lambda: section_setup(S, R),
            "keys": lambda: section_keys(S, R),
            "idle": lambda: section_idle(S, R),
            "stream": lambda: section_stream(S, R, payload),
            "preauth": lambda: section_preauth(S, R),
            "sftp": lambda: section_sftp(S, R, Meter, bastion_env(wd)),
        }
        for name in SECTIONS:
            if name in ONLY and name in sections:
                sections[name]()
    except NoScene:
        pass
    except BaseException:
        log("failed: logs kept in %s" % wd)
        raise
    finally:
        if S is not None:
            errors = S.close()
            if errors:
                log("cleanup: %s" % "; ".join(errors))
            S.clear_recordings()
        text.unlink(missing_ok=True)
    try:
        if "store" in ONLY:
            section_store(R, build, wd, payload, bastion_env(wd))
    except BaseException:
        log("failed: logs kept in %s" % wd)
        raise
    finally:
        payload.unlink(missing_ok=True)
    steal1 = measure.machine_cpu()
    bg1 = background_load()
    R.head("background load (other processes, 3 s idle samples before / "
           "after the run)", "%.2f / %.2f cores busy%s" % (
               bg0, bg1, " -- the machine was shared: expect noise"
               if max(bg0, bg1) > 0.15 else ""))
    dt = steal1[2] - steal0[2]
    R.head("CPU steal during the run", "%.1f%% of all CPU time (hypervisor)"
           % (100 * (steal1[1] - steal0[1]) / dt if dt else 0))
    R.head("run time", "%.0f s" % (time.monotonic() - t_start))
    tg = R.raw.get("targets", {})
    names = {"session": "recorded session >= %.1fx ssh -J" % TARGET_SESSION,
             "pty": "pty recording >= %.1fx ssh -J + script(1)" % TARGET_PTY}
    for k in ("session", "pty"):
        if k in tg:
            R.note("target %s: %.2fx, %s" % (names[k], tg[k][0],
                                             verdict(tg[k][1])))
    table = R.markdown()
    sys.stdout.write("\n" + table)
    OUT.mkdir(exist_ok=True)
    (OUT / "last-table.md").write_text(table)
    (OUT / "last-results.json").write_text(json.dumps(R.raw, indent=1,
                                                      default=str))
    log("table and raw numbers in %s/" % OUT)
    if os.environ.get("BENCH_KEEP") == "1":
        log("kept %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
