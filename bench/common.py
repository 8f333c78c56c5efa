"""common.py - what every part of the benchmark shares: the sizes and
knobs from the environment (bench.py's docstring lists them), the section
names, logging and the ratio and verdict cells of the report."""

import os
import sys
import time

import scene

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
            "idle", "stream", "preauth", "sftp", "store"]
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


def ratio(a, b):
    if not a or not b:
        return "n/a"
    return "%.2fx" % (a / b)


def verdict(ok):
    return "**met**" if ok else "**missed**"
