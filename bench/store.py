"""store.py - the state store's two backends side by side (section 8,
`BENCH_ONLY=store`; docs/BENCHMARKS.md, docs/SCALE-OUT.md).

Two scenes at once (bench/scene.py), identical but for the policy's
`store:`: one bastion on SQLite in its state directory (the embedded
default), one on PostgreSQL 15, a private cluster started here with the
end-to-end harness (tests/e2e/harness/pg.py), reached over its Unix
socket, with PostgreSQL's default durability (fsync on, every commit
flushed) rather than the tests' fsync=off. Measured, through the bastion
only (the OpenSSH paths do not touch the store):

  setup      BENCH_SETUP_N logins to the first byte from the device,
             alternating the backends login by login, so load from
             elsewhere falls on both alike;
  streaming  BENCH_STREAMS sessions up at once, then BENCH_STREAM_MB
             each (section 5's measurement), SQLite then PostgreSQL,
             twice; the table gives the better of the two runs per
             backend, the raw numbers both; and how long the logins of
             those sessions took, BENCH_INFLIGHT at a time (concurrent
             writes to the store). With all the PostgreSQL
             sessions up, the server's connections are counted
             (pg_stat_activity), which is what its max_connections
             must allow for (docs/SCALE-OUT.md, "Sizing").
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import measure  # noqa: E402
import scene  # noqa: E402
from common import CFG, log, ratio  # noqa: E402
from load import stream_cell, stream_sessions  # noqa: E402
from measure import median, percentile  # noqa: E402

NAMES = {"sqlite": "bastion, SQLite (state directory)",
         "postgresql": "bastion, PostgreSQL 15 (local, Unix socket)"}


def pg_connections(cluster):
    """Connections the server holds now, psql's own left out."""
    return int(cluster.psql("SELECT count(*) - 1 FROM pg_stat_activity "
                            "WHERE backend_type = 'client backend'"))


def section_store(R, build, wd, payload, bastion_env=None):
    from harness.pg import PgCluster, PgMissing, store_section
    try:
        cluster = PgCluster(fsync=True)
    except PgMissing as e:
        R.row(7, "state store: PostgreSQL against SQLite", "", "not run: "
              "%s" % e)
        return
    scenes = {}
    try:
        cluster.start()
        log("store: PostgreSQL in %s (fsync on)" % cluster.base)
        for name in ("sqlite", "postgresql"):
            store = (store_section(cluster.create_database(), cluster)
                     if name == "postgresql" else None)
            scenes[name] = scene.Scene(wd / ("store-" + name), build,
                                       payload, store=store,
                                       bastion_env=bastion_env)
        setup = login_times(scenes, CFG["setup_n"])
        streams = {name: [] for name in scenes}
        for _ in range(2):
            for name, S in scenes.items():
                log("store: %s" % NAMES[name])
                streams[name].append(stream_sessions(
                    S, "bastion", CFG["streams"], CFG["stream_mb"], payload,
                    when_up=(lambda: pg_connections(cluster))
                    if name == "postgresql" else None))
    finally:
        for S in scenes.values():
            S.close()
        cluster.stop()
    R.raw["store"] = {"setup": setup, "stream": streams}
    report(R, setup, streams)


def login_times(scenes, n):
    """{backend: [seconds from spawning ssh to the device's first byte]},
    n logins each, the backends alternating."""
    log("store: setup, %d logins per backend, alternating" % n)
    out = {name: [] for name in scenes}
    for _ in range(n):
        for name, S in scenes.items():
            r = measure.stream(S.argv("bastion", "echo first-byte"),
                               S.env("bastion"), expect=len("first-byte\n"),
                               timeout=60)
            out[name].append(r["t_first"])
    return out


def best(runs):
    """The run with the highest aggregate rate (a run that failed counts
    only if every one did)."""
    ok = [d for d in runs if "mbps" in d]
    return max(ok, key=lambda d: d["mbps"]) if ok else runs[-1]


def report(R, setup, streams):
    what = "setup with the state store on each backend: connect to first " \
        "byte (%d each, alternating)" % len(setup["sqlite"])
    ref = median(setup["sqlite"])
    for name, v in setup.items():
        R.row(7, what, NAMES[name], "median %.0f ms, p95 %.0f ms" % (
            median(v) * 1e3, percentile(v, 95) * 1e3), ratio(median(v), ref))
    what = "%d sessions streaming at once, %d MiB each, on each backend " \
        "(better of 2 runs)" % (CFG["streams"], CFG["stream_mb"])
    top = {name: best(runs) for name, runs in streams.items()}
    for name, d in top.items():
        R.row(7, what, NAMES[name], stream_cell(d),
              ratio(d.get("mbps"), top["sqlite"].get("mbps"))
              if "mbps" in d else "")
    what = "the same %d sessions: all logged in (%d at a time), fastest " \
        "of 2 runs" % (CFG["streams"], CFG["inflight"])
    fast = {name: min((d["open_s"] for d in runs if "open_s" in d),
                      default=None) for name, runs in streams.items()}
    for name, t in fast.items():
        R.row(7, what, NAMES[name], "%.1f s" % t if t else "n/a",
              ratio(t, fast["sqlite"]))
    conns = [d.get("when_up") for d in streams["postgresql"]
             if d.get("when_up") is not None]
    if conns:
        R.row(7, "PostgreSQL connections held with every session up",
              NAMES["postgresql"], "%d for %d sessions" % (max(conns),
                                                          CFG["streams"]))
