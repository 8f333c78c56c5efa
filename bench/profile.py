#!/usr/bin/python3
"""profile.py - where the bastion's time goes, for bench/RESULTS.md.

    /usr/bin/python3 bench/profile.py [session|forward|pty|keys] [MiB]

Builds the same scene as bench.py, runs one transfer through the bastion
(or a burst of keystrokes) and, while it runs, samples the session worker
and bastion-recorder with `perf record -e cpu-clock -g` (a software clock:
this VM has no hardware counters, `perf stat -e instructions true` says
"not supported"). Prints how busy each process was (CPU seconds / wall
seconds) and `perf report` summaries by shared object and by symbol.
The perf data stays in the work directory (printed) for closer looks.

BENCH_PROFILE_STRACE=1 counts system calls (strace -c) instead.

BENCH_PROFILE_TRACE=1 sums the time each process spent in each system
call (perf trace -s): where it waits (epoll_wait: for its sockets;
sendmsg: for the recorder) against where it works.
BENCH_PROFILE_TRACE=sendmsg,epoll_wait traces only those calls, which
slows the processes far less than tracing libssh's many reads.

BENCH_PROFILE_CG=dwarf records call chains through libc and libssh
(which have no frame pointers), e.g. who calls memmove.

BENCH_PROFILE_ALL=1 samples the whole machine instead (perf record -a):
every process of the path (ssh client, device sshd, the benchmark's own
pty reader), and anything else running, which the report names by command.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench  # noqa: E402
import measure  # noqa: E402
import scene  # noqa: E402
from scene import util  # noqa: E402

MiB = 1 << 20


def perf_report(data, sort, limit=25):
    p = subprocess.run(["perf", "report", "-i", data, "--no-children",
                        "-g", "none", "--percent-limit", "0.7",
                        "--sort", sort, "--stdio"], capture_output=True,
                       text=True, timeout=300)
    lines = [ln for ln in p.stdout.splitlines()
             if ln.strip() and not ln.startswith("#")]
    return "\n".join(lines[:limit])


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "session"
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 512
    if shutil.which("perf") is None:
        sys.exit("perf is not installed (Debian package linux-perf)")
    measure.become_subreaper()
    wd = tempfile.mkdtemp(prefix="bench-prof-", dir="/tmp")
    wd = __import__("pathlib").Path(wd)
    payload = scene.make_payload(wd / "payload.bin", 64)
    text = scene.make_text_payload(wd / "text.txt", min(mib, 256)) \
        if what == "pty" else None
    S = scene.Scene(wd, util.build_dir(), payload)
    data = str(wd / "perf.data")
    res = {}
    try:
        if what == "session":
            loops = max(1, mib // 64)
            cmd = "sleep 1; for i in $(seq %d); do cat %s; done" % (
                loops, payload)

            def run():
                res["r"] = measure.stream(S.argv("bastion", cmd),
                                          S.env("bastion"),
                                          expect=loops * 64 * MiB)
        elif what == "pty":
            cmd = "sleep 1; %s; cat %s" % (measure.MARKER_CMD, text)

            def run():
                res["r"] = measure.pty_stream(
                    S.argv("bastion", cmd, tty=True), S.env("bastion"))
        elif what == "forward":
            lport = util.free_port("127.0.0.1")

            def run():
                p = subprocess.Popen(
                    S.forward_argv("bastion", lport, "echo ready; sleep 3600"),
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=S.env("bastion"),
                    start_new_session=True)
                try:
                    bench.wait_ready(p)
                    time.sleep(1.5)
                    with socket.create_connection(("127.0.0.1", lport)) as s:
                        n, dt = measure.read_socket(s, mib * MiB)
                    res["r"] = {"bytes": n, "t_data": dt}
                finally:
                    p.terminate()
                    p.wait(15)
        elif what == "keys":
            cmd = "sleep 1; stty raw -echo; %s; exec cat" % \
                measure.MARKER_CMD

            def run():
                v = measure.keystrokes({"bastion": (
                    S.argv("bastion", cmd, tty=True), S.env("bastion"))},
                    2000, 0.002)["bastion"]
                res["r"] = {"p50": measure.percentile(v, 50),
                            "p99": measure.percentile(v, 99)}
        else:
            sys.exit("what: session, forward, pty or keys")
        th = threading.Thread(target=run)
        th.start()
        while not S.worker_pids() and th.is_alive():
            time.sleep(0.05)
        time.sleep(0.7)
        pids = S.worker_pids() + [S.recorder_pid()]
        cpu0 = {p: measure.proc_times(p)[0] for p in pids}
        t0 = time.monotonic()
        target = ["-a"] if os.environ.get("BENCH_PROFILE_ALL") == "1" \
            else ["-p", ",".join(str(p) for p in pids)]
        # BENCH_PROFILE_CG=dwarf: call chains through libc and libssh
        # (built without frame pointers), at a larger perf.data
        cg = os.environ.get("BENCH_PROFILE_CG")
        cg = ["--call-graph", cg] if cg else ["-g"]
        if os.environ.get("BENCH_PROFILE_STRACE") == "1":
            # syscall counts instead of samples (strace slows the
            # processes down: counts per byte, not times, are the point)
            # one strace per process, so each is counted on its own
            argvs = [["strace", "-c", "-S", "calls", "-o",
                      "%s.%d.strace" % (data, p), "-p", str(p)]
                     for p in pids]
        elif os.environ.get("BENCH_PROFILE_TRACE"):
            ev = os.environ["BENCH_PROFILE_TRACE"]
            ev = ["-e", ev] if ev != "1" else []
            argvs = [["perf", "trace", "-s"] + ev + ["-o",
                      "%s.%d.strace" % (data, p), "-p", str(p)]
                     for p in pids]
        else:
            argvs = [["perf", "record", "-e", "cpu-clock"] + cg +
                     ["-o", data] + target]
        tracers = [subprocess.Popen(a, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
                   for a in argvs]
        busy = {}
        while th.is_alive():
            for p in pids:
                t = measure.proc_times(p)[0]
                if t:
                    busy[p] = t
            time.sleep(0.1)
        th.join()
        wall = time.monotonic() - t0
        for t in tracers:
            t.send_signal(2)
        for t in tracers:
            t.wait(60)
        print("result: %s" % {k: v for k, v in res.get("r", {}).items()
                              if k in ("bytes", "t_data", "p50", "p99")})
        if "bytes" in res.get("r", {}):
            r = res["r"]
            print("throughput: %.1f MB/s" % (r["bytes"] / r["t_data"] / 1e6))
        for p in pids:
            print("%-40s %.2f CPU-s in %.2f s wall: %.0f%% busy" % (
                util.pid_cmdline(p)[:40] or "pid %d" % p,
                busy.get(p, 0) - cpu0[p], wall,
                100 * (busy.get(p, 0) - cpu0[p]) / wall))
        if os.environ.get("BENCH_PROFILE_STRACE") == "1" or \
                os.environ.get("BENCH_PROFILE_TRACE"):
            time.sleep(1)
            for p in pids:
                f = "%s.%d.strace" % (data, p)
                if os.path.exists(f):
                    print("\n== system calls of %s" % (
                        "the recorder" if p == S.recorder_pid() else
                        "pid %d" % p))
                    print(open(f).read())
            return
        print("\n== by process and shared object")
        print(perf_report(data, "comm,dso"))
        print("\n== by symbol")
        print(perf_report(data, "comm,dso,sym", 40))
        print("\nperf data: %s (perf report -i %s)" % (data, data))
    finally:
        S.close()
        S.clear_recordings()
        for f in (payload, text):
            if f is not None:
                f.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
