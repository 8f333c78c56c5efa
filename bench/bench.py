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
    BENCH_ONLY            comma list of sections to run: cipher,throughput,
                          forward,pty,setup,keys,idle,stream,preauth [all]
    BENCH_PTY_CASES       comma list of pty rows besides script(1): tlog,
                          jump,jump+script,jump+tlog,bastion [all]
    BENCH_DIR             where the work directory goes [/tmp]
    BENCH_KEEP=1          keep the work directory (logs, recordings)
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

REPO = scene.REPO
OUT = REPO / "bench" / "out"
MiB = 1 << 20
GiB = 1 << 30


def env_int(name, default, full=None):
    if name in os.environ:
        return int(os.environ[name])
    if full is not None and os.environ.get("BENCH_FULL") == "1":
        return full
    return default


CFG = {
    "size_mb": env_int("BENCH_SIZE_MB", 512, 2048),
    "reps": env_int("BENCH_REPS", 3),
    "pty_mb": env_int("BENCH_PTY_MB", 256, 1024),
    "setup_n": env_int("BENCH_SETUP_N", 50),
    "keys_n": env_int("BENCH_KEYS_N", 2000),
    "keys_busy_n": env_int("BENCH_KEYS_BUSY_N", 500),
    "key_gap_ms": env_int("BENCH_KEY_GAP_MS", 2),
    "idle": env_int("BENCH_IDLE", 1000),
    "idle_openssh": env_int("BENCH_IDLE_OPENSSH", 200, 1000),
    "streams": env_int("BENCH_STREAMS", 100),
    "stream_mb": env_int("BENCH_STREAM_MB", 8, 20),
    "inflight": env_int("BENCH_INFLIGHT", 16),
    "flood": env_int("BENCH_FLOOD", 1000),
    "flood_sources": env_int("BENCH_FLOOD_SOURCES", 50),
    "burst": env_int("BENCH_BURST", 50),
}
SECTIONS = ["cipher", "throughput", "forward", "pty", "setup", "keys",
            "idle", "stream", "preauth"]
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s] or \
    SECTIONS
PTY_CASES = [s for s in os.environ.get("BENCH_PTY_CASES", "").split(",")
             if s]
PATH_NAMES = {"direct": "direct ssh", "jump": "ssh -J (OpenSSH jump host)",
              "onehop": "ssh -L via the jump host (1 SSH hop)",
              "bastion": "bastion, recorded"}


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


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


def ratio(a, b):
    if not a or not b:
        return "n/a"
    return "%.2fx" % (a / b)


def verdict(ok):
    return "**met**" if ok else "**missed**"


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

    def start(self):
        self.m.start()
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
        parts["machine"] = c1[0] - self.c0[0]
        parts["steal"] = c1[1] - self.c0[1]
        parts["paths"] = sum(v for k, v in parts.items()
                             if k in ("client", "device", "jump", "worker",
                                      "recorder", "source"))
        return parts


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
    for path in ("direct", "jump", "bastion"):
        ok = med["bastion"] / med["jump"] >= 1.2
        R.row(1, what, PATH_NAMES[path], "%.0f MB/s" % med[path],
              ratio(med[path], med["jump"]),
              "bastion >= 1.2x ssh -J" if path == "bastion" else "",
              verdict(ok) if path == "bastion" else "")
    what = "CPU per GiB moved: every process of the path (ssh client(s), " \
        "jump sshd or bastion worker + recorder, device sshd)"
    for path in ("direct", "jump", "bastion"):
        per = median([c["paths"] for c in cpu[path]]) / (size / GiB)
        R.row(1, what, PATH_NAMES[path], "%.2f CPU-s" % per)
    gib = size / GiB
    w = median([c["worker"] for c in cpu["bastion"]]) / gib
    rc = median([c["recorder"] for c in cpu["bastion"]]) / gib
    tot = median([c["paths"] for c in cpu["bastion"]]) / gib
    j = median([c["jump"] for c in cpu["jump"]]) / gib
    R.row(1, "recording on/off: off does not exist (recording is "
          "mandatory, fail-closed); its cost isolated by CPU time",
          "bastion: session worker / bastion-recorder",
          "%.2f / %.2f CPU-s/GiB" % (w, rc),
          "%.0f%% recorder" % (100 * rc / tot) if tot else "")
    R.row(1, "recording on/off: off does not exist (recording is "
          "mandatory, fail-closed); its cost isolated by CPU time",
          "ssh -J: jump host sshd", "%.2f CPU-s/GiB" % j)
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
    log("pty recording: %d MiB of text x %d runs" % (CFG["pty_mb"], reps))
    for rep in range(reps):
        for key, label, argv, env, stdin_tty, files in cases:
            for f in (ts, tl):
                if f.exists():
                    f.unlink()
            S.clear_recordings()
            r = measure.pty_stream(argv, env or dict(os.environ),
                                   stdin_tty=stdin_tty)
            res[key].append((r["bytes"], r["t_data"]))
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
    R.raw["pty"] = {"runs": res, "disk_per_byte": disk}
    mbps = {k: median([b / t / 1e6 for b, t in v]) for k, v in res.items()}
    what = "recording through a pty: %d MiB of text output (median of %d)" \
        % (CFG["pty_mb"], reps)
    for key, label, *_ in cases:
        d = median(disk[key])
        val = "%.1f MB/s" % mbps[key] + (", %.3f B on disk/B" % d
                                          if d else "")
        is_b = key == "bastion"
        R.row(2, what, label, val, ratio(mbps[key], mbps["script"]) +
              " of script(1)", "bastion >= 0.95x script(1)" if is_b else "",
              verdict(mbps["bastion"] / mbps["script"] >= 0.95)
              if is_b else "")
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


# --------------------------------------------------------------------------
# 5. concurrency and memory

class Sessions:
    """Many long-lived ssh clients, opened at most `inflight` at a time.
    Each runs `echo ready; ...` and counts as up when "ready" arrives."""

    def __init__(self, S, path, cmd, tty, per_session_stdin=False):
        self.S, self.path, self.cmd, self.tty = S, path, cmd, tty
        self.procs = []
        self.stdin_w = []
        self.errlog = open(S.workdir / ("clients-%s.log" % path), "ab")
        self.shared_r, self.shared_w = (None, None) if per_session_stdin \
            else os.pipe()
        self.per_session_stdin = per_session_stdin
        self.failure = None

    def _spawn(self):
        if self.per_session_stdin:
            r, w = os.pipe()
            self.stdin_w.append(w)
        else:
            r = self.shared_r
        p = subprocess.Popen(self.S.argv(self.path, self.cmd, tty=self.tty),
                             stdin=r, stdout=subprocess.PIPE,
                             stderr=self.errlog, env=self.S.env(self.path),
                             start_new_session=True)
        if self.per_session_stdin:
            os.close(r)
        self.procs.append(p)
        return p

    def open(self, n, inflight, deadline_s):
        """Open up to n sessions; stop at the first that fails. Returns
        the number up."""
        pending = {}
        buf = {}
        up = 0
        t_end = time.monotonic() + deadline_s
        while up < n:
            while len(pending) < inflight and len(self.procs) < n:
                p = self._spawn()
                pending[p.stdout.fileno()] = p
                buf[p.stdout.fileno()] = b""
            if time.monotonic() > t_end:
                self.failure = "time limit (%ds) reached" % deadline_s
                break
            r, _, _ = select.select(list(pending), [], [], 30)
            if not r:
                self.failure = "no session came up within 30 s"
                break
            for fd in r:
                b = os.read(fd, 4096)
                buf[fd] += b
                if b"ready" in buf[fd]:
                    pending.pop(fd)
                    up += 1
                elif not b:
                    p = pending.pop(fd)
                    self.failure = "client %d exited %s: %s" % (
                        self.procs.index(p) + 1, p.wait(),
                        util.tail(self.errlog.name, 3))
            if self.failure:
                break
        return up

    def close(self):
        if self.shared_w is not None:
            os.close(self.shared_w)
            self.shared_w = None
        for w in self.stdin_w:
            try:
                os.close(w)
            except OSError:
                pass
        self.stdin_w = []
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            if p.stdout:
                p.stdout.close()
        if self.shared_r is not None:
            os.close(self.shared_r)
            self.shared_r = None
        self.errlog.close()


def last_session_end(S):
    """The bastion's newest session.end: its reason and byte counts."""
    evs = S.bastion.audit_events(event="session.end")
    if not evs:
        return ""
    e = evs[-1]
    return "bastion: session.end reason=\"%s\" bytes_out=%s" % (
        e.get("reason"), e.get("bytes_out"))


def last_refusal(S):
    """The newest audit event that refused or broke a session, as text."""
    bad = [e for e in S.bastion.audit_events()
           if e.get("event") in ("session.refused", "conn.refused",
                                 "session.recording_failed",
                                 "device.refused") or
           e.get("result") in ("fail", "refused")]
    if not bad:
        return None
    e = bad[-1]
    return "%s: %s%s" % (e.get("event"), e.get("reason"),
                         " (%s)" % e["detail"] if e.get("detail") else "")


def pss_sum(pids, match=None):
    return sum(measure.pss_kib(p) for p in pids
               if match is None or match in util.pid_cmdline(p))


def section_idle(S, R):
    cmd = "echo ready; exec sleep 100000"
    out = {}
    for path, n in (("bastion", CFG["idle"]),
                    ("jump", CFG["idle_openssh"])):
        if n <= 0:
            continue
        log("idle: opening %d sessions through %s" % (n, path))
        rec0 = measure.pss_kib(S.recorder_pid())
        lis0 = measure.pss_kib(S.bastion.pid)
        t0 = time.monotonic()
        ss = Sessions(S, path, cmd, tty=True)
        try:
            up = ss.open(n, CFG["inflight"], deadline_s=600)
            t_open = time.monotonic() - t0
            time.sleep(2)
            alive = sum(1 for p in ss.procs if p.poll() is None)
            if ss.failure and path == "bastion":
                why = last_refusal(S)
                if why:
                    ss.failure += "; bastion says: " + why
            d = {"n": n, "up": up, "alive": alive, "seconds": t_open,
                 "failure": ss.failure and " / ".join(
                     ss.failure.split("\n"))}
            dev = [p for p in util.children_of(S.device.pid)
                   if util.pid_cmdline(p).startswith("sshd")]
            d["device_pss_kib"] = pss_sum(dev) / max(up, 1)
            d["client_pss_kib"] = pss_sum([p.pid for p in ss.procs]) / \
                max(up, 1)
            if path == "bastion":
                workers = S.worker_pids()
                rp = S.recorder_pid()
                d["workers"] = len(workers)
                # a connection is a monitor (root) and its confined child
                # (bastion/privsep.h): both count, and each is shown
                inside = {str(w) for w in workers}
                kids = [w for w in workers
                        if util.proc_status(w).get("PPid") in inside]
                mons = [w for w in workers if w not in kids]
                d["monitors"] = len(mons)
                d["monitor_pss_kib"] = pss_sum(mons) / max(up, 1)
                d["child_pss_kib"] = pss_sum(kids) / max(up, 1)
                d["worker_pss_kib"] = pss_sum(workers) / max(up, 1)
                d["recorder_pss_delta_kib"] = (measure.pss_kib(rp) - rec0) \
                    / max(up, 1)
                d["listener_pss_delta_kib"] = (measure.pss_kib(S.bastion.pid)
                                               - lis0) / max(up, 1)
                d["listener_fds"] = measure.fd_count(S.bastion.pid)
                d["recorder_fds"] = measure.fd_count(rp)
                d["per_session_kib"] = d["worker_pss_kib"] + max(
                    0, d["recorder_pss_delta_kib"]) + max(
                    0, d["listener_pss_delta_kib"])
            else:
                kids = util.children_of(S.jump.pid)
                d["jump_procs"] = len(kids)
                d["per_session_kib"] = pss_sum(kids) / max(up, 1)
            out[path] = d
            log("  %d/%d up in %.0f s, %.0f KiB PSS per session%s" % (
                up, n, t_open, d["per_session_kib"],
                "; stopped: " + ss.failure if ss.failure else ""))
        finally:
            t1 = time.monotonic()
            ss.close()
            measure.wait_no_children(S.worker_pids, 300)
            measure.wait_no_children(
                lambda: util.children_of(S.jump.pid), 300)
            measure.wait_no_children(
                lambda: [p for p in util.children_of(S.device.pid)
                         if p not in S.device_service_pids()], 300)
            if path in out:
                out[path]["teardown_s"] = time.monotonic() - t1
            S.clear_recordings()
    R.raw["idle"] = out
    if "bastion" in out:
        b = out["bastion"]
        what = "idle interactive sessions held at once (ssh -tt, a pty on " \
            "the device)"
        R.row(5, what, "bastion", "%d of %d up in %.0f s%s" % (
            b["up"], b["n"], b["seconds"],
            " (stopped: %s)" % b["failure"] if b["failure"] else ""), "",
            "1000 held", verdict(b["up"] >= 1000 and b["alive"] >= 1000))
        if "jump" in out:
            j = out["jump"]
            R.row(5, what, "ssh -J", "%d of %d up in %.0f s%s" % (
                j["up"], j["n"], j["seconds"],
                " (stopped: %s)" % j["failure"] if j["failure"] else ""))
        what = "memory per idle session (PSS, /proc/PID/smaps_rollup)"
        R.row(5, what, "bastion: monitor + child + recorder growth + "
              "listener growth",
              "%.0f KiB (%.0f + %.0f + %.0f + %.0f)" % (
                  b["per_session_kib"], b["monitor_pss_kib"],
                  b["child_pss_kib"], b["recorder_pss_delta_kib"],
                  b["listener_pss_delta_kib"]),
              ratio(b["per_session_kib"], out.get("jump", {}).get(
                  "per_session_kib")) if "jump" in out else "",
              "<= 2.5 MiB", verdict(b["per_session_kib"] <= 2560))
        if "jump" in out:
            j = out["jump"]
            R.row(5, what, "ssh -J: jump host sshd per connection "
                  "(%d processes for %d)" % (j["jump_procs"], j["up"]),
                  "%.0f KiB" % j["per_session_kib"], "1.00x")
        R.row(5, what, "(same on both paths: device sshd per connection / "
              "ssh client)", "%.0f KiB / %.0f KiB" % (
                  b["device_pss_kib"], b["client_pss_kib"]))


def section_stream(S, R, payload):
    n, mb = CFG["streams"], CFG["stream_mb"]
    cmd = "echo ready; read go; head -c %d %s" % (mb * MiB, payload)
    out = {}
    for path in ("jump", "bastion"):
        log("streaming: %d sessions x %d MiB through %s" % (n, mb, path))
        ss = Sessions(S, path, cmd, tty=False, per_session_stdin=True)
        try:
            up = ss.open(n, CFG["inflight"], deadline_s=600)
            if up < n:
                out[path] = {"up": up, "failure": ss.failure}
                continue
            fds = {p.stdout.fileno(): p for p in ss.procs}
            got = {fd: 0 for fd in fds}
            done = []
            t0 = time.monotonic()
            for w in ss.stdin_w:
                os.write(w, b"go\n")
            open_fds = set(fds)
            while open_fds:
                r, _, _ = select.select(list(open_fds), [], [], 120)
                if not r:
                    raise BenchError("streaming stalled")
                for fd in r:
                    b = os.read(fd, 1 << 20)
                    if not b:
                        open_fds.discard(fd)
                        done.append(time.monotonic() - t0)
                    else:
                        got[fd] += len(b)
            t1 = time.monotonic()
            total = sum(got.values())
            short = sum(1 for v in got.values() if v < mb * MiB)
            out[path] = {"up": up, "bytes": total, "seconds": t1 - t0,
                         "mbps": total / (t1 - t0) / 1e6, "short": short,
                         "finish_s": sorted(done)}
            log("  %.0f MB/s aggregate" % out[path]["mbps"])
        finally:
            ss.close()
            measure.wait_no_children(S.worker_pids, 120)
            S.clear_recordings()
    R.raw["stream"] = out
    what = "%d sessions streaming at once, %d MiB each: aggregate" % (n, mb)
    for path in ("jump", "bastion"):
        d = out.get(path, {})
        if "mbps" not in d:
            R.row(5, what, PATH_NAMES[path], "only %s up: %s" % (
                d.get("up"), d.get("failure")))
            continue
        R.row(5, what, PATH_NAMES[path], "%.0f MB/s; sessions done after "
              "%.1f s (median) / %.1f s (last)%s" % (
                  d["mbps"], median(d["finish_s"]), d["finish_s"][-1],
                  " (%d short)" % d["short"] if d["short"] else ""),
              ratio(d["mbps"], out.get("jump", {}).get("mbps")))


# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# 6. pre-authentication limits under a flood

class Flood:
    """n connections to the bastion from `sources` addresses 127.0.9.1...
    (outside every vendor's sources), kept open from a thread of their
    own: every other one sends junk (an HTTP request) first, the rest stay
    silent. What the bastion closes is opened again, each slot at most
    once a second, so the pressure stays while the engineers log in."""

    JUNK = b"GET / HTTP/1.1\r\nHost: bastion\r\n\r\n"

    def __init__(self, addr, port, n, sources):
        import selectors
        import threading
        self.addr, self.port, self.n, self.sources = addr, port, n, sources
        self.sel = selectors.DefaultSelector()
        self.stop_ev = threading.Event()
        self.opened = self.closed = self.failed = 0
        self.open_now = 0
        self.retry = {}         # slot -> monotonic time to reopen
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.9.%d" % (1 + i % self.sources), 0))
            s.settimeout(2)
            s.connect((self.addr, self.port))
            if i % 2 == 0:
                s.sendall(self.JUNK)
            s.setblocking(False)
        except OSError:
            s.close()
            self.failed += 1
            self.retry[i] = time.monotonic() + 1
            return
        self.sel.register(s, __import__("selectors").EVENT_READ, i)
        self.opened += 1
        self.open_now += 1

    def start(self):
        self.t0 = time.monotonic()
        for i in range(self.n):
            self._open(i)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop_ev.is_set():
            for key, _ in self.sel.select(0.05):
                s, i = key.fileobj, key.data
                try:
                    b = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    b = b""
                if b:
                    continue        # a banner or a refusal line
                self.sel.unregister(s)
                s.close()
                self.closed += 1
                self.open_now -= 1
                self.retry[i] = time.monotonic() + 1
            now = time.monotonic()
            for i, t in list(self.retry.items()):
                if t <= now and not self.stop_ev.is_set():
                    del self.retry[i]
                    self._open(i)

    def stop(self):
        self.stop_ev.set()
        self.thread.join(10)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


def section_preauth(S, R):
    """The bastion with the default limits (the scene's other sections run
    with max_unauthenticated 200): an engineer's login while strangers hold
    BENCH_FLOOD silent or junk connections from BENCH_FLOOD_SOURCES other
    addresses, then BENCH_BURST engineers of one vendor at once from the
    vendor's one source address (a NAT)."""
    from scene import Person
    w = S.world
    n_burst = CFG["burst"]
    people = [S.alice]
    log("preauth: %d more engineers, bastion restarted with the default "
        "limits" % (n_burst - 1))
    for i in range(1, n_burst):
        name = "eng%02d" % i
        person = Person(w, S.softsk, name, "bench-s3cret-%d" % i)
        w.add_engineer("acme", name, person.public_key(),
                       secret="bench-s3cret-%d" % i)
        people.append(person)
    saved = dict(w.limits)
    w.limits.pop("max_unauthenticated", None)
    S.bastion.stop()
    w.start_bastion()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = CFG["flood"] + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    out = {}
    try:
        lis0 = measure.pss_kib(S.bastion.pid)
        log("preauth: %d silent or junk connections from %d addresses" % (
            CFG["flood"], CFG["flood_sources"]))
        flood = Flood(S.bastion.addr, S.bastion.port, CFG["flood"],
                      CFG["flood_sources"]).start()
        try:
            time.sleep(2)
            logins, workers, fds, pss = [], [], [], []
            refused = ""
            for _ in range(5):
                workers.append(len(S.worker_pids()))
                fds.append(measure.fd_count(S.bastion.pid))
                pss.append(measure.pss_kib(S.bastion.pid))
                r = measure.stream(S.argv("bastion", "echo first-byte",
                                          tty=True), S.env("bastion"),
                                   timeout=60)
                logins.append(r["t_first"] if r["rc"] == 0 and
                              r["bytes"] > 0 else None)
                if logins[-1] is None:
                    refused = " / ".join(r["stderr"].split("\n")[:2])
                time.sleep(0.5)
            out["flood"] = {
                "logins_s": logins, "workers": workers,
                "listener_pss_kib": [lis0] + pss, "listener_fds": fds,
                "refused": refused,
                "opened": flood.opened, "closed_by_bastion": flood.closed,
                "connect_failed": flood.failed, "open_at_end":
                flood.open_now, "seconds": time.monotonic() - flood.t0}
        finally:
            flood.stop()
        measure.wait_no_children(S.worker_pids, 120)
        log("preauth: %d engineers at once from 127.0.0.1" % n_burst)
        # each one's ssh-agent is up before the first ssh starts
        runs = [(pp.argv("ct-scanner", "echo in"), pp.env())
                for pp in people]
        t0 = time.monotonic()
        procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  start_new_session=True)
                 for argv, env in runs]
        ins, errs = 0, []
        for pr in procs:
            o, e = pr.communicate(timeout=300)
            if pr.returncode == 0 and o == b"in\n":
                ins += 1
            else:
                errs.append(" / ".join(e.decode(errors="replace").strip()
                                       .splitlines()[:2]))
        out["burst"] = {"n": n_burst, "in": ins, "seconds":
                        time.monotonic() - t0, "errors": errs[:3]}
        measure.wait_no_children(S.worker_pids, 120)
    finally:
        S.bastion.stop()
        w.limits.clear()
        w.limits.update(saved)
        w.start_bastion()
        S.clear_recordings()
    R.raw["preauth"] = out
    f, b = out["flood"], out["burst"]
    ok = [t for t in f["logins_s"] if t is not None]
    what = "pre-auth: engineer's login (pty, first byte from the device) " \
        "while %d silent or junk connections from %d other addresses are " \
        "held open (reopened when closed)" % (CFG["flood"],
                                              CFG["flood_sources"])
    R.row(6, what, "bastion, default limits", "%d of %d in%s%s" % (
        len(ok), len(f["logins_s"]), "; median %.0f ms, max %.0f ms" % (
            median(ok) * 1e3, max(ok) * 1e3) if ok else "",
        "; refused: %s" % f["refused"] if f["refused"] else ""), "",
        "every login < 5 s", verdict(len(ok) == len(f["logins_s"]) and
                                     max(ok) < 5))
    R.row(6, what, "cost of the flood (sampled at each login)",
          "%d to %d worker processes; listener PSS %d KiB before, at most %d "
          "during, at most %d descriptors; %d connections opened in %.0f s, "
          "%d closed by the bastion" % (
              min(f["workers"]), max(f["workers"]), f["listener_pss_kib"][0],
              max(f["listener_pss_kib"][1:]), max(f["listener_fds"]),
              f["opened"], f["seconds"], f["closed_by_bastion"]))
    R.row(6, "pre-auth: %d engineers log in at once from one vendor source "
          "address" % b["n"], "bastion, default limits", "%d of %d in, all "
          "done after %.1f s%s" % (b["in"], b["n"], b["seconds"],
                                   "; refused: %s" % b["errors"][0]
                                   if b["errors"] else ""), "",
          "all in", verdict(b["in"] == b["n"]))


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
    try:
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
        }
        for name in SECTIONS:
            if name in ONLY and name in sections:
                sections[name]()
    except BaseException:
        log("failed: logs kept in %s" % wd)
        raise
    finally:
        if S is not None:
            errors = S.close()
            if errors:
                log("cleanup: %s" % "; ".join(errors))
            S.clear_recordings()
        for f in (payload, text):
            f.unlink(missing_ok=True)
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
