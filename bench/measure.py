"""Measuring primitives for bench.py: streams, ptys, CPU time, PSS.

Nothing here knows about the bastion; scene.py builds the command lines.
"""

import fcntl
import os
import pty
import resource
import select
import signal
import statistics
import struct
import subprocess
import termios
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
MARKER_CMD = 'printf "%s%s\\n" @@BENCH- START@@'   # prints the marker,
MARKER = b"@@BENCH-START@@"                       # is not the marker


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# CPU time from /proc (clock ticks, 10 ms)

def proc_times(pid):
    """(utime+stime, cutime+cstime) of pid in seconds, or (0, 0)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    # fields[0] is state (field 3): utime is field 14 -> index 11
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    kids = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return own, kids


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def become_subreaper():
    """Orphans of our children (ssh's ProxyJump `ssh -W` process, which
    ssh leaves behind with a SIGHUP) are reparented to us instead of
    init, so reap_orphans() can add their CPU time to RUSAGE_CHILDREN."""
    import ctypes
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def reap_orphans(known=()):
    """Reap our direct children that are zombies and not in `known`
    (pids a Popen object still owns). Returns how many."""
    me = os.getpid()
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in known:
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if rest[0] == "Z" and int(rest[1]) == me:
            try:
                os.waitpid(int(d), os.WNOHANG)
                n += 1
            except ChildProcessError:
                pass
    return n


class CpuMeter:
    """CPU seconds used per component between start() and stop().

    Server processes are accounted through their long-lived parent: the
    kernel adds a child's CPU time to its parent's cutime/cstime when it
    is reaped, and sshd's listener reaps its per-connection processes
    (which reaped theirs), bastiond reaps its workers. So once every
    per-connection process is gone, the listener's cutime delta is the
    whole connection's CPU. The recorder lives on: its own utime/stime.
    The clients (ssh, ssh -W, ssh-sk-helper, askpass) are reaped by us:
    RUSAGE_CHILDREN."""

    def __init__(self, parts, known=()):
        # parts: {name: (pid, "kids"|"own")}; known: pids of children a
        # Popen still owns (never reaped behind its back)
        self.parts = parts
        self.known = set(known)
        self.t0 = None

    def _read(self):
        reap_orphans(self.known)
        out = {"client": children_cpu()}
        for name, (pid, kind) in self.parts.items():
            own, kids = proc_times(pid)
            out[name] = kids if kind == "kids" else own
        return out

    def start(self):
        self.t0 = self._read()

    def stop(self):
        t1 = self._read()
        return {k: t1[k] - self.t0[k] for k in t1}


class TreeSampler:
    """Own CPU time of each process below a long-lived parent, sampled.

    The kernel folds a reaped child's CPU into its parent's cutime, so
    the listener's cutime gives a whole connection's CPU (monitor plus
    confined child) but not the split. A thread reads the descendants'
    own utime+stime from /proc every `period` seconds (children found
    through /proc/PID/task/PID/children, so a sample costs a few reads,
    not a scan of /proc) and keeps the last value seen per pid, grouped
    by depth below `root`: depth 1 (bastiond's monitors, sshd's
    per-connection [priv]) and depth 2 and deeper (the confined child;
    sshd's [net]/user process). CPU spent after the last sample (a
    process's exit) is missed: at most `period` per process."""

    def __init__(self, root, skip=(), period=0.05):
        import threading
        self.root, self.skip, self.period = root, set(skip), period
        self.seen = {}          # pid -> (depth, last own seconds)
        self.base = {}          # pid -> own seconds at the first sample
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _kids(pid):
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def _sample(self, first=False):
        stack = [(k, 1) for k in self._kids(self.root) if k not in self.skip]
        while stack:
            pid, depth = stack.pop()
            own, _ = proc_times(pid)
            if first:
                self.base[pid] = own
            if own or pid not in self.seen:
                self.seen[pid] = (depth, own)
            stack += [(k, depth + 1) for k in self._kids(pid)]

    def _run(self):
        while not self.stop_ev.wait(self.period):
            self._sample()

    def start(self):
        self._sample(first=True)
        self.th.start()

    def stop(self):
        """{depth 1: seconds, 2: seconds (2 and deeper)} since start."""
        self.stop_ev.set()
        self.th.join()
        out = {1: 0.0, 2: 0.0}
        for pid, (depth, own) in self.seen.items():
            out[min(depth, 2)] += own - self.base.get(pid, 0.0)
        return out


def wait_no_children(pids_fn, timeout=30.0):
    """Wait until pids_fn() returns nothing (per-connection server
    processes have exited and been reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pids_fn():
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------
# memory

def pss_kib(pid):
    """Proportional set size of pid in KiB (smaps_rollup), 0 if gone."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0



def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


# --------------------------------------------------------------------------
# streams

def stream(argv, env, expect=None, timeout=600, stdin=subprocess.DEVNULL):
    """Run argv, read its stdout to EOF. Returns dict: bytes, t_first
    (spawn to first byte), t_data (first byte to EOF), rc, stderr tail."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env,
                         start_new_session=True)
    n = 0
    t_first = None
    fd = p.stdout.fileno()
    deadline = t0 + timeout
    try:
        while True:
            r, _, _ = select.select([fd], [], [], max(0.1, deadline -
                                                       time.monotonic()))
            if not r:
                if time.monotonic() > deadline:
                    raise BenchError("timed out: %s" % " ".join(argv))
                continue
            b = os.read(fd, 1 << 20)
            if not b:
                break
            if t_first is None:
                t_first = time.monotonic()
            n += len(b)
        t_end = time.monotonic()
        err = p.stderr.read().decode(errors="replace")
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if expect is not None and n != expect:
        raise BenchError("%s: got %d bytes, expected %d (exit %s)\n%s"
                         % (" ".join(argv[:4]), n, expect, rc, err[-2000:]))
    return {"bytes": n, "t_first": (t_first or t_end) - t0,
            "t_data": t_end - (t_first or t_end), "rc": rc,
            "stderr": err[-2000:]}


def read_socket(sock, nbytes, timeout=600):
    """Send the request line, read nbytes from a connected socket.
    Returns (bytes, seconds from first byte to last)."""
    sock.settimeout(timeout)
    sock.sendall(b"%d\n" % nbytes)
    buf = bytearray(1 << 20)
    n = 0
    t_first = None
    while n < nbytes:
        try:
            k = sock.recv_into(buf)
        except ConnectionResetError:
            k = 0
        if k == 0:
            break
        if t_first is None:
            t_first = time.monotonic()
        n += k
    t_end = time.monotonic()
    return n, t_end - (t_first or t_end)


# --------------------------------------------------------------------------
# ptys: the engineer's terminal

def _ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def spawn_pty(argv, env, rows=50, cols=200, stdin_tty=True):
    """Start argv on a fresh pty, its controlling terminal, in the default
    (cooked) modes of a terminal emulator: ssh, script(1) and tlog-rec put
    it in raw mode themselves, as they do for a person. stdin_tty=False:
    stdin is /dev/null (tlog-rec then skips its utmp record, which needs
    /run/utmp). Returns (Popen, master fd)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", rows, cols, 0, 0))
    try:
        p = subprocess.Popen(argv,
                             stdin=slave if stdin_tty else subprocess.DEVNULL,
                             stdout=slave, stderr=slave,
                             env=env, start_new_session=True,
                             preexec_fn=_ctty if stdin_tty else None,
                             close_fds=True)
    finally:
        os.close(slave)
    return p, master


def pty_drain(master, p, timeout):
    """Read master until the child has exited and the pty is empty.
    Yields chunks."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError("pty session timed out")
        r, _, _ = select.select([master], [], [], min(left, 0.5))
        if r:
            try:
                b = os.read(master, 1 << 16)
            except OSError:         # EIO: every slave fd closed
                return
            if not b:
                return
            yield b
        elif p.poll() is not None:
            return


def pty_stream(argv, env, timeout=900, stdin_tty=True):
    """Run argv on a pty; count the bytes after MARKER. Returns dict:
    bytes (after the marker), t_data (marker to end), rc, head (the bytes
    before the marker, for error messages)."""
    p, master = spawn_pty(argv, env, stdin_tty=stdin_tty)
    head = b""
    n = 0
    t_mark = None
    try:
        for b in pty_drain(master, p, timeout):
            if t_mark is None:
                head += b
                i = head.find(MARKER)
                if i >= 0:
                    t_mark = time.monotonic()
                    rest = head[i + len(MARKER):]
                    head = head[:i]
                    n += len(rest)
                elif len(head) > 1 << 16:
                    head = head[-4096:]
            else:
                n += len(b)
        t_end = time.monotonic()
        rc = p.wait(timeout=60)
    finally:
        os.close(master)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if t_mark is None:
        raise BenchError("no start marker from %s (exit %s):\n%s"
                         % (" ".join(argv[:3]), p.returncode,
                            head[-2000:].decode(errors="replace")))
    # the marker line ends with CR LF (or LF): not payload
    return {"bytes": n - 2, "t_data": t_end - t_mark, "rc": rc,
            "head": head[-500:]}


def _wait_marker(master, p, what, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while MARKER not in buf:
        if time.monotonic() > deadline or p.poll() is not None:
            raise BenchError("%s: echo program did not start:\n%s"
                             % (what, buf[-2000:].decode(errors="replace")))
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            buf += os.read(master, 4096)
    time.sleep(0.2)
    # drop the line end (and, with output flowing, whatever came since)
    stop = time.monotonic() + 0.3
    while time.monotonic() < stop and \
            select.select([master], [], [], 0.05)[0]:
        os.read(master, 4096)


def _echo_once(master, what, i):
    t0 = time.perf_counter()
    os.write(master, b"x")
    got = b""
    while b"x" not in got:
        left = 10 - (time.perf_counter() - t0)
        r, _, _ = select.select([master], [], [], max(0, left))
        if not r:
            raise BenchError("%s: keystroke %d not echoed in 10 s" % (what, i))
        got += os.read(master, 4096)
    return time.perf_counter() - t0


def keystrokes(sessions, count, gap_s, warmup=50, timeout=60):
    """Echo latency through ptys. sessions: {name: (argv, env)}, each
    running `stty raw -echo; <marker>; exec cat` on the device behind a
    pty, all open at once. Keystrokes go round robin (one byte to one
    session, wait for its echo, then the next session), so noise on this
    shared machine hits every path alike. Returns {name: [seconds]}."""
    procs = {}
    out = {name: [] for name in sessions}
    try:
        for name, (argv, env) in sessions.items():
            procs[name] = spawn_pty(argv, env)
            _wait_marker(procs[name][1], procs[name][0], name, timeout)
        names = list(sessions)
        for i in range(warmup + count):
            k = i % len(names)
            for name in names[k:] + names[:k]:      # rotate the order too
                dt = _echo_once(procs[name][1], name, i)
                if i >= warmup:
                    out[name].append(dt)
                if gap_s:
                    time.sleep(gap_s)
    finally:
        for name, (p, master) in procs.items():
            os.close(master)
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, (p, master) in procs.items():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    return out


# --------------------------------------------------------------------------
# statistics

def percentile(values, q):
    """q in [0, 100], linear interpolation (numpy's default)."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100.0
    f = int(k)
    c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)


def median(values):
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------
# the whole machine

def machine_cpu():
    """(busy, steal, total) CPU seconds of the whole machine so far, from
    /proc/stat (busy excludes idle and iowait; steal is time the
    hypervisor gave to someone else)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    busy = user + nice + system + irq + softirq
    total = busy + idle + iowait + steal
    return busy / CLK_TCK, steal / CLK_TCK, total / CLK_TCK
