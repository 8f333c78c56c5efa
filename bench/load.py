"""load.py - the benchmark's load sections (bench.py runs them): many
idle sessions and their memory (idle), many sessions streaming at once
(stream), and logins under a flood of silent or junk connections
(preauth). docs/BENCHMARKS.md says what each number means."""

import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import measure  # noqa: E402
from measure import BenchError, median  # noqa: E402
from scene import util  # noqa: E402  (the harness's util)
from common import CFG, MiB, PATH_NAMES, log, ratio, verdict  # noqa: E402


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


def stream_sessions(S, path, n, mb, payload, when_up=None):
    """n sessions along path, each `head -c MB payload` once all are up
    (at one `go`): {"up", "failure"} if not all came up, else {"up",
    "bytes", "seconds", "mbps", "short", "finish_s", "open_s": how long
    the n logins took, BENCH_INFLIGHT at a time}. when_up(), if
    given, is called with every session up, before the go (e.g. to count
    database connections); its result is "when_up"."""
    cmd = "echo ready; read go; head -c %d %s" % (mb * MiB, payload)
    log("streaming: %d sessions x %d MiB through %s" % (n, mb, path))
    ss = Sessions(S, path, cmd, tty=False, per_session_stdin=True)
    try:
        t_open = time.monotonic()
        up = ss.open(n, CFG["inflight"], deadline_s=600)
        if up < n:
            return {"up": up, "failure": ss.failure}
        t_open = time.monotonic() - t_open
        seen = when_up() if when_up is not None else None
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
        out = {"up": up, "bytes": total, "seconds": t1 - t0,
               "mbps": total / (t1 - t0) / 1e6,
               "short": sum(1 for v in got.values() if v < mb * MiB),
               "finish_s": sorted(done), "when_up": seen,
               "open_s": t_open}
        log("  %.0f MB/s aggregate" % out["mbps"])
        return out
    finally:
        ss.close()
        measure.wait_no_children(S.worker_pids, 120)
        S.clear_recordings()


def stream_cell(d):
    """A streaming result as the table's cell."""
    if "mbps" not in d:
        return "only %s up: %s" % (d.get("up"), d.get("failure"))
    return "%.0f MB/s; sessions done after %.1f s (median) / %.1f s " \
        "(last)%s" % (d["mbps"], median(d["finish_s"]), d["finish_s"][-1],
                      " (%d short)" % d["short"] if d["short"] else "")


def section_stream(S, R, payload):
    n, mb = CFG["streams"], CFG["stream_mb"]
    out = {path: stream_sessions(S, path, n, mb, payload)
           for path in ("jump", "bastion")}
    R.raw["stream"] = out
    what = "%d sessions streaming at once, %d MiB each: aggregate" % (n, mb)
    for path in ("jump", "bastion"):
        d = out.get(path, {})
        R.row(5, what, PATH_NAMES[path], stream_cell(d),
              ratio(d.get("mbps"), out.get("jump", {}).get("mbps"))
              if "mbps" in d else "")


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
