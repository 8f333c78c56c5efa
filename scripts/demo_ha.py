#!/usr/bin/python3
"""demo_ha.py - make demo's bastion as two nodes behind a load balancer.

    /usr/bin/python3 scripts/demo_ha.py start   set up, start, print what to
                                                try; Ctrl-C stops it all
    /usr/bin/python3 scripts/demo_ha.py stop    stop what a killed run left

Called by `make demo-ha` (`make demo-ha-stop` for `stop`) with Debian's
Python (docs/SCALE-OUT.md, "Trying it: make demo-ha"). It runs in the
foreground, on this machine:

    ssh ──► HAProxy 127.0.0.1:2200 ──► node a 127.0.0.1:2201 ┐
            (balance first, checks      node b 127.0.0.1:2202 ┤─► devices
             each node's readiness      (readiness 2203, 2204) │   (sshd)
             port: `UP a` / `DOWN a`)   │                │     │
                  PostgreSQL (a private cluster)         │ each node's
                                                         │ bastion-ship
                                 object store (s3rver, 127.0.0.1:2207)

with make demo's people (alice and gina, engineers; bob, admin; carol,
auditor), vendors and devices, built by scripts/demo.py's own functions
(imported, pointed at var/demo-ha/ instead of var/demo/); the
PostgreSQL cluster is the end-to-end tests' (tests/e2e/harness/pg.py:
initdb as an unprivileged user in a temporary directory, a Unix socket
only, a password file), the balancer the failover test's
(tests/e2e/harness/haproxy.py), the object store for recordings the
shipping test's (scripts/s3-server.sh: s3rver on Debian's nodejs), with
one bastion-ship per node beside its bastiond (policies/demo-ha.yaml,
`recordings:`; docs/RECORDING-STORE.md). The nodes share one recording
key (node a's, copied to node b before it starts), so each node's
console verifies and replays the other's recordings from the store.

The database is new on every start (so are the nodes' state and
recordings, and the object store's bucket: session numbers come from
the database); the people's keys and secrets are kept in var/demo-ha/.
Every server runs in a session of its own under a child of this script,
so a Ctrl-C reaches only this script, which then stops them in order
(balancer, nodes, shippers, agents, devices, object store, database)
and removes the database.

DEMO_HA_DIR (default var/demo-ha) and DEMO_HA_PORT (default 2200: the
balancer; nodes +1 and +2, readiness +3 and +4, devices' sshd +5, the CT
scanner's web page +6, the object store +7) let a test run it beside a
running demo.
"""

import hashlib
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import demo  # noqa: E402  (scripts/demo.py; it puts the harness on the path)
from demo import DemoError, rel, say  # noqa: E402
from harness import util  # noqa: E402

HA = pathlib.Path(os.environ.get("DEMO_HA_DIR") or REPO / "var" / "demo-ha")
PORT = int(os.environ.get("DEMO_HA_PORT") or 2200)
ADDR = "127.0.0.1"
# node name -> (ssh port, readiness port)
NODES = {"a": (PORT + 1, PORT + 3), "b": (PORT + 2, PORT + 4)}
TEMPLATE = REPO / "policies" / "demo-ha.yaml"
# HAProxy connects to the nodes from this address, with a PROXY protocol
# v2 header (policies/demo-ha.yaml, proxy_protocol:); direct connections
# to a node (bastion-a, bastion-b) come from 127.0.0.1 and carry none
LB_SOURCE = "127.0.0.5"
S3_SCRIPT = REPO / "scripts" / "s3-server.sh"
S3_DIR = HA / "s3"
S3_PORT = PORT + 7
HAPROXY_PID = HA / "haproxy.pid"
PG_PID = HA / "postgres.pid"
PG_BASE = HA / "postgres.base"
READY = "demo-ha: ready"
ALIAS = "bastion"       # the host key's name in known_hosts, for all three


class Stop(Exception):
    """SIGTERM (the parent's answer to a Ctrl-C): stop everything."""


def point_demo_at(root):
    """Make scripts/demo.py's functions work in root instead of var/demo:
    every path it keeps under var/demo is moved to root, and its ports
    are this demo's."""
    old = demo.DEMO
    for name, val in list(vars(demo).items()):
        if isinstance(val, pathlib.PurePath) and val != demo.REPO:
            try:
                setattr(demo, name, root / val.relative_to(old))
            except ValueError:
                pass            # not under var/demo (the build, the repo)
    # Unix socket names must stay short (as in demo.py); one directory
    # per root, so two demos (a test's and yours) never share one
    demo.AGENT_DIR = (root if len(str(root / ("agent-%08d.sock" % 0))) <= 100
                      else pathlib.Path("/tmp/bastion-demo-ha-%d-%s" % (
                          os.getuid(), hashlib.sha256(
                              os.fsencode(root)).hexdigest()[:8])))
    demo.LISTEN = (ADDR, PORT)          # `Host bastion`: the balancer
    demo.DEVICE_PORT = PORT + 5
    demo.WEB_PORT = PORT + 6
    for d in demo.DEVICES:
        if d["forward_ports"]:
            d["forward_ports"] = [demo.WEB_PORT]


def node_dir(name):
    return HA / ("node-" + name)


def node_policy_path(name):
    return node_dir(name) / "policy.yaml"


def node_pidfile(name):
    return node_dir(name) / "bastiond.pid"


def ship_pidfile(name):
    return node_dir(name) / "bastion-ship.pid"


# --------------------------------------------------------------------------
# stopping

def stop_leftovers(quiet=False):
    """Stop whatever a run that could not clean up left (by pidfile, each
    checked against its command line), and remove its database."""
    stopped = []
    for label, pf, mc in ([("bastiond node " + n, node_pidfile(n),
                            str(node_policy_path(n))) for n in NODES] +
                          [("bastion-ship node " + n, ship_pidfile(n),
                            str(node_policy_path(n))) for n in NODES] +
                          [("haproxy", HAPROXY_PID, "haproxy.cfg"),
                           ("postgres", PG_PID, "bastion-pg.")]):
        pid = util.kill_pidfile(pf, must_contain=mc)
        if pid:
            stopped.append((label, pid))
        pf.unlink(missing_ok=True)
    stopped += demo.stop(quiet=True)
    s3_stop()
    try:
        base = pathlib.Path(PG_BASE.read_text().strip())
        if base.name.startswith("bastion-pg."):
            shutil.rmtree(base, ignore_errors=True)
        PG_BASE.unlink()
    except FileNotFoundError:
        pass
    if not quiet:
        for label, pid in stopped:
            say("demo-ha: stopped %s (pid %d)" % (label, pid))
        if not stopped:
            say("demo-ha: nothing was running")


# --------------------------------------------------------------------------
# the shared object store and each node's bastion-ship

def recordings_section():
    """policies/demo-ha.yaml's `recordings:` section, as written there."""
    import yaml
    return yaml.safe_load(TEMPLATE.read_text())["recordings"]


def s3_start():
    """Start the object store (s3rver) with scripts/s3-server.sh, on a
    new bucket (the nodes' spools are new too); its endpoint."""
    s3_stop()
    shutil.rmtree(S3_DIR, ignore_errors=True)
    S3_DIR.mkdir(mode=0o700)
    bucket = recordings_section()["s3"]["bucket"]
    r = util.run([S3_SCRIPT, "start", S3_DIR, str(S3_PORT)], timeout=120,
                 check=False, env=dict(os.environ, S3_BUCKET=bucket))
    if r.returncode != 0:
        raise DemoError("%s start failed (%d): %s%s" % (
            rel(S3_SCRIPT), r.returncode, r.stdout, r.stderr))
    return r.stdout.strip().splitlines()[-1]


def s3_stop():
    if S3_DIR.is_dir():
        util.run([S3_SCRIPT, "stop", S3_DIR], timeout=60, check=False)


def recordings_store(endpoint):
    """Each node's `recordings:` section: policies/demo-ha.yaml's, with
    the endpoint scripts/s3-server.sh printed and the credentials file it
    wrote (S3_DIR/credentials)."""
    rec = recordings_section()
    return dict(rec, s3=dict(rec["s3"], endpoint=endpoint,
                             credentials_file=str(S3_DIR / "credentials")))


class Shipper:
    """bastion-ship beside node name's bastiond (b, a harness Bastion):
    every `interval` it ships the node's sealed recordings to the store
    and appends recording.shipped to the node's audit chain (-a), as
    tests/e2e/test_recording_ship.py runs it; the ledger is the default
    (STATE_DIR/shipped), the key the recorder's public one in STATE_DIR.
    Its log: node-NAME/bastion-ship.log."""

    def __init__(self, name, b):
        self.name = name
        self.log = node_dir(name) / "bastion-ship.log"
        self.argv = [str(demo.BUILD / "bastion-ship"), "-f",
                     str(b.policy_path), "-a", str(b.state_dir)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, start_new_session=True)
        self.pid = self.proc.pid
        ship_pidfile(name).write_text("%d\n" % self.pid)
        try:
            util.wait_until(lambda: self.proc.poll() is not None or
                            "shipping " in self.log.read_text(), 10,
                            what="bastion-ship of node %s starting" % name)
        except util.HarnessError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            ship_pidfile(name).unlink(missing_ok=True)
            raise DemoError("bastion-ship of node %s exited (%d):\n%s" % (
                name, self.proc.returncode, util.tail(self.log, 10)))

    def stop(self):
        """SIGTERM, as systemd stops it; it finishes its pass and exits
        0 (anything else is said)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        ship_pidfile(self.name).unlink(missing_ok=True)
        if self.proc.returncode != 0:
            raise DemoError("bastion-ship of node %s exited %d (see %s)" % (
                self.name, self.proc.returncode, rel(self.log)))


def chain_events(state_dir, event):
    """The events named event in a node's audit chain (STATE_DIR/
    audit.log: bastiond's and its bastion-ship's), oldest first."""
    try:
        text = (state_dir / "audit.log").read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [ev for ev in map(util.parse_logfmt, text.splitlines())
            if ev.get("event") == event]


def wait_shipped(state_dir, rec, timeout=30):
    """The recording.shipped event for recording rec in the audit chain
    of the node whose state is in state_dir (bastion-ship -a), once it is
    there; DemoError after timeout, with the last failure's reason."""
    def shipped():
        return next((ev for ev in chain_events(state_dir,
                                               "recording.shipped")
                     if ev.get("session") == rec), None)
    try:
        return util.wait_until(shipped, timeout, what="recording %s in the "
                               "object store" % rec)
    except util.HarnessError:
        failed = [ev.get("reason") for ev in
                  chain_events(state_dir, "recording.ship_failed")
                  if ev.get("session") == rec]
        raise DemoError("recording %s did not reach the object store in "
                        "%d s%s" % (rec, timeout, (": " + failed[-1])
                                    if failed else "")) from None


# --------------------------------------------------------------------------
# setting up

def check_free():
    wanted = [(ADDR, PORT)] + [(ADDR, p) for pair in NODES.values()
                               for p in pair]
    wanted += [(d["addr"], demo.DEVICE_PORT) for d in demo.DEVICES]
    wanted += [(d["addr"], demo.WEB_PORT) for d in demo.DEVICES if d["web"]]
    busy = ["%s:%d" % a for a in wanted if demo.listening(*a)]
    if busy:
        raise DemoError("in use by another program: %s (see `ss -ltnp`; "
                        "DEMO_HA_PORT=N picks other ports)" % ", ".join(busy))


def start_postgresql(run):
    from harness.pg import PgCluster, PgMissing
    try:
        pg = run["postgres"] = PgCluster()
    except PgMissing as e:
        raise DemoError("%s" % e) from None
    PG_BASE.write_text("%s\n" % pg.base)
    pg.start()
    pid = (pg.data / "postmaster.pid").read_text().split()[0]
    PG_PID.write_text(pid + "\n")
    say("demo-ha: PostgreSQL 15, a private cluster in %s (pid %s), socket "
        "only" % (pg.base, pid))
    return pg


def node_policy(name, base, pg, conninfo, endpoint, keys):
    """Node name's policy: make demo's (base) on its own port and paths,
    with the store: and recordings: of policies/demo-ha.yaml; keys: every
    node's audit key (base64), of which the others' are pinned."""
    import yaml
    tmpl = yaml.safe_load(TEMPLATE.read_text())
    ssh_port, health_port = NODES[name]
    store = dict(tmpl["store"], conninfo=conninfo + " connect_timeout=2",
                 password_file=str(pg.password_file), node=name,
                 health="%s:%d" % (ADDR, health_port),
                 nodes={n: k for n, k in keys.items() if n != name})
    if set(store) != set(tmpl["store"]):
        raise DemoError("%s: store: has keys this script does not fill "
                        "in: %s" % (TEMPLATE, sorted(set(store) ^
                                                     set(tmpl["store"]))))
    # the balancer's PROXY protocol header names each engineer's address
    # (docs/PROXY-PROTOCOL.md): trusted from the balancer's address only
    policy = dict(base, listen=["%s:%d" % (ADDR, ssh_port)], store=store,
                  proxy_protocol=tmpl["proxy_protocol"])
    policy.pop("web", None)     # no web console in this demo
    policy["recordings"] = dict(policy.get("recordings") or {},
                                **recordings_store(endpoint))
    return policy


def write_ssh_config(keys, provider, host_key_pub):
    """make demo's ssh_config, with `bastion` the balancer and
    `bastion-a`, `bastion-b` the nodes themselves; one host key (every
    node has it), pinned under the name "bastion" for all three."""
    demo.write_ssh_config(keys, provider)
    text = demo.SSH_CONFIG.read_text()
    names = ["bastion"] + ["bastion-" + n for n in NODES]
    head = "".join("Host bastion-%s\n    Port %d\n" % (n, p)
                   for n, (p, _) in NODES.items())
    head += "Host %s\n    HostKeyAlias %s\n" % (" ".join(names), ALIAS)
    new = text.replace("Host bastion\n", head, 1).replace(
        "Match originalhost bastion ", "Match originalhost %s "
        % ",".join(names))
    if new.count(",".join(names)) != len(demo.PEOPLE) or head not in new:
        raise DemoError("scripts/demo.py's ssh_config changed shape: "
                        "update write_ssh_config() in %s" % __file__)
    demo.SSH_CONFIG.write_text(new)
    demo.KNOWN_HOSTS.write_text("%s %s\n" % (ALIAS, host_key_pub))


def setup(run):
    """Start everything; run: {what: object} of what to stop."""
    from harness.bastion import Bastion
    from harness.haproxy import HAProxy, available
    for f in (demo.BASTIOND, demo.SOFTSK_SO):
        if not os.access(f, os.R_OK):
            raise DemoError("%s is missing: run `make tests` (or `make "
                            "demo-ha`)" % f)
    for t in ("ssh", "ssh-agent", "ssh-add", "ssh-keygen"):
        if not shutil.which(t):
            raise DemoError("%s not found: run `make deps` (Debian package "
                            "openssh-client)" % t)
    if not available():
        raise DemoError("haproxy is not installed: run `make deps`")
    check_free()
    HA.mkdir(parents=True, exist_ok=True)
    os.chmod(HA, 0o700)
    say("demo-ha: setting up in %s" % rel(HA))
    for n in NODES:     # the database is new: so are the nodes' state
        shutil.rmtree(node_dir(n), ignore_errors=True)

    pg = start_postgresql(run)
    conninfo = pg.create_database()
    run["s3"] = True
    endpoint = s3_start()
    say("demo-ha: object store (s3rver, scripts/s3-server.sh) at %s, "
        "bucket %s, its files in %s" % (
            endpoint, recordings_section()["s3"]["bucket"],
            rel(S3_DIR / "data")))
    pam, provider, keys = demo.prepare_people()
    run["devices"] = demo.start_devices()
    if not demo.HOST_KEY.exists():
        util.keygen(demo.HOST_KEY, "ed25519", "bastion-demo-ha")
    host_key_pub = util.read_pub(str(demo.HOST_KEY) + ".pub")

    nodes = run["nodes"] = {}
    ships = run["ships"] = {}
    made = {n: Bastion(node_dir(n), demo.BUILD, pam) for n in NODES}
    # each node's audit key first, so that each policy pins the other's
    audit_keys = {n: util.audit_key(made[n].state_dir) for n in NODES}
    for n in NODES:
        b = made[n]
        if nodes:   # one recording key, as one host key (bastiond --init
            for f in ("recorder.key", "recorder.key.pub"):  # keeps it)
                shutil.copy2(nodes["a"].state_dir / f, b.state_dir / f)
        paths = b.default_paths()
        paths["host_keys"] = [str(demo.HOST_KEY)]
        b.write_policy(node_policy(n, demo.demo_policy(keys, run["devices"],
                                                       paths),
                                   pg, conninfo, endpoint, audit_keys))
        chk = b.check_policy()
        if chk.returncode != 0:
            raise DemoError("bastiond --check refused %s:\n%s%s" % (
                b.policy_path, chk.stdout, chk.stderr))
        b.start()
        nodes[n] = b
        node_pidfile(n).write_text("%d\n" % b.pid)
        say("demo-ha: node %s: bastiond on %s:%d (pid %d), readiness "
            "%s:%d, log %s" % (n, ADDR, NODES[n][0], b.pid, ADDR,
                               NODES[n][1], rel(b.logfile)))
        ships[n] = Shipper(n, b)
        say("demo-ha: node %s: bastion-ship (pid %d), log %s" % (
            n, ships[n].pid, rel(ships[n].log)))

    lb = run["haproxy"] = HAProxy([(n, p, h) for n, (p, h) in NODES.items()],
                                  port=PORT, send_proxy=True,
                                  source=LB_SOURCE)
    HAPROXY_PID.write_text("%d\n" % lb.pid)
    say("demo-ha: HAProxy on %s:%d (pid %d), log %s" % (ADDR, PORT, lb.pid,
                                                        lb.log))
    write_ssh_config(keys, provider, host_key_pub)
    demo.start_agents(keys, provider)

    # one login through the balancer: `balance first` sends it to node a
    demo.LOG = nodes["a"].logfile
    ev = demo.self_test("alice", demo.PEOPLE_DIR / "alice" / "askpass")
    say("demo-ha: self-test passed: alice ran `echo demo-ok` on ct-scanner "
        "through HAProxy and node a (touch.ok, counter %s)"
        % ev.get("counter", "?"))
    # its recording, sealed at the session's end, shipped by node a's
    # bastion-ship: read back from the store and compared
    rec = nodes["a"].wait_audit(event="session.recording",
                                timeout=10)["recording"]
    shipped = wait_shipped(nodes["a"].state_dir, rec)
    run["shipped"] = (rec, shipped)
    say("demo-ha: self-test's recording %s is in the object store: %s "
        "(sha256 %s...)" % (rec, shipped.get("key"),
                            shipped.get("sha256", "")[:16]))


def print_commands(run):
    secrets = demo.read_secrets()
    F = "ssh -F %s" % rel(demo.SSH_CONFIG)
    ctl = {n: "%s -f %s" % (rel(demo.BUILD / "bastionctl"),
                            rel(node_policy_path(n))) for n in NODES}
    a = run["nodes"]["a"]
    rec = run["shipped"][0]
    rows = [
        ("the commands use paths relative to the repository",
         "cd %s" % shlex.quote(str(REPO))),
        ("1. alice logs in through the balancer (`bastion`); while node a "
         "is up\n   everything goes there (`balance first`)",
         "%s -t alice@bastion ct-scanner" % F),
        ("2. gina asks for the PACS on node a itself (`bastion-a`) and "
         "waits\n   with a request number (her secret: %s)"
         % secrets.get("gina", "?"),
         "%s -t gina@bastion-a pacs --reason ticket-4711" % F),
        ("3. in another terminal bob approves it on node b (his secret: "
         "%s);\n   gina's shell on node a opens at once (PostgreSQL "
         "LISTEN/NOTIFY)" % secrets.get("bob", "?"),
         "%s bob@bastion-b requests; %s bob@bastion-b approve 1 2h"
         % (F, F)),
        ("   or the same on node b's host, with bastionctl",
         "%s approve 1 2h" % ctl["b"]),
        ("4. a session on node b too, then `sessions` on either node "
         "lists both,\n   each with its node (NODE a, b)",
         "%s -t alice@bastion-b ct-scanner" % F),
        ("", "%s sessions; %s sessions" % (ctl["a"], ctl["b"])),
        ("5. every sealed recording goes to the object store: each "
         "node's bastion-ship\n   ships it within seconds of the session's "
         "end (this window says `node a\n   shipped recording ID`); "
         "s3rver keeps the objects as files",
         "find %s -name '*.brec._S3rver_object'" % rel(S3_DIR / "data")),
        ("6. carol replays node a's self-test session on node b, whose "
         "spool does not\n   have it: node b fetches it from the store and "
         "verifies it with the\n   recording key the nodes share (her "
         "secret: %s)" % secrets.get("carol", "?"),
         "%s carol@bastion-b verify %s; %s carol@bastion-b replay %s"
         % (F, rec, F, rec)),
        ("   or offline, as an auditor: fetch it by id, verify it with "
         "node a's public key",
         "d=$(mktemp -d) && %s -f %s fetch %s \"$d\" && %s -k %s "
         "\"$d/%s.brec\"" % (rel(demo.BUILD / "bastion-ship"),
                             rel(node_policy_path("b")), rec,
                             rel(demo.BUILD / "bastion-verify"),
                             rel(a.state_dir / "recorder.key.pub"), rec)),
        ("7. stop node a: its sessions end (their recordings sealed; node "
         "a's bastion-ship,\n   still running, ships them), its readiness "
         "port closes, HAProxy takes\n   it out (`Server bastions/a is "
         "DOWN`)",
         "kill %d" % a.pid),
        ("8. log in again through the balancer: node b takes it; gina's "
         "grant\n   survives (no new request), bob sees node b's sessions",
         "%s -t gina@bastion pacs; %s bob@bastion sessions" % (F, F)),
        ("9. carol replays through the balancer (node b) the session the "
         "stop ended: ID\n   is what this window said (`node a shipped "
         "recording ID`); node b's\n   `recordings` lists only its own "
         "spool",
         "%s carol@bastion replay ID" % F),
        ("the balancer's view, and each node's audit trail",
         "grep -a Server %s; grep AUDIT %s"
         % (run["haproxy"].log, rel(a.logfile))),
        ("the nodes' readiness lines (what HAProxy checks)",
         "bash -c '%s'" % "; ".join("cat </dev/tcp/%s/%d" % (ADDR, h)
                                    for _, h in NODES.values())),
    ]
    say("")
    say("The HA demo runs: HAProxy on %s:%d in front of bastiond nodes a "
        "(%d) and b (%d)," % (ADDR, PORT, NODES["a"][0], NODES["b"][0]))
    say("one PostgreSQL database, make demo's people and devices. The "
        "secrets (also in %s):" % rel(demo.SECRETS))
    demo.say_secrets(secrets)
    say("")
    demo.say_rows(rows)
    say("")
    say("Ctrl-C here stops everything (the database is removed). "
        "docs/SCALE-OUT.md says more.")
    say(READY)


def watch(run):
    """Until SIGTERM: say when a node's bastiond stops (after step 7),
    and each recording its bastion-ship puts in the object store."""
    told = set()
    seen = {n: len(chain_events(b.state_dir, "recording.shipped"))
            for n, b in run["nodes"].items()}
    while True:
        for n, b in run["nodes"].items():
            if n not in told and b.proc is not None and \
                    b.proc.poll() is not None:
                told.add(n)
                say("demo-ha: node %s stopped (exit %s); HAProxy sends new "
                    "logins to the other" % (n, b.proc.returncode))
            evs = chain_events(b.state_dir, "recording.shipped")
            for ev in evs[seen[n]:]:
                say("demo-ha: node %s shipped recording %s to the object "
                    "store (%s bytes)" % (n, ev.get("session"),
                                          ev.get("bytes")))
            seen[n] = len(evs)
        for n, s in run["ships"].items():
            if ("ship", n) not in told and s.proc.poll() is not None:
                told.add(("ship", n))
                say("demo-ha: node %s's bastion-ship exited (%s), see %s"
                    % (n, s.proc.returncode, rel(s.log)))
        time.sleep(1)


def teardown(run):
    """Stop what setup() started, balancer first, database last."""
    errors = []
    steps = ([run.get("haproxy")] + list(run.get("nodes", {}).values()) +
             list(run.get("ships", {}).values()))
    for obj in steps:
        if obj is not None:
            try:
                obj.stop()
            except Exception as e:  # noqa: BLE001 - keep stopping
                errors.append(str(e))
    for n in NODES:
        node_pidfile(n).unlink(missing_ok=True)
        ship_pidfile(n).unlink(missing_ok=True)
    HAPROXY_PID.unlink(missing_ok=True)
    demo.stop(quiet=True)           # agents, devices (by pidfile)
    if run.get("s3"):
        s3_stop()
    pg = run.get("postgres")
    if pg is not None:
        try:
            pg.stop()
        except Exception as e:  # noqa: BLE001
            errors.append(str(e))
    PG_PID.unlink(missing_ok=True)
    PG_BASE.unlink(missing_ok=True)
    util.cleanup_all()
    for e in errors:
        say("demo-ha: while stopping: %s" % e)
    say("demo-ha: stopped")


def serve():
    """The child: start, print, wait; stop on SIGTERM or failure."""
    def on_term(signum, frame):
        raise Stop()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    live = [pid for pid in (demo.live_pid(node_pidfile(n),
                                          str(node_policy_path(n)))
                            for n in NODES) if pid]
    if live:
        say("demo-ha: already running in %s (bastiond pid %s): Ctrl-C it "
            "where it runs, or `make demo-ha-stop`"
            % (rel(HA), ", ".join(map(str, live))))
        return 1
    stop_leftovers(quiet=True)
    run = {}
    rc = 0
    try:
        setup(run)
        print_commands(run)
        watch(run)
    except Stop:
        say("demo-ha: stopping")
    except Exception as e:  # noqa: BLE001 - report it, then clean up
        say("demo-ha: FAILED: %s" % e)
        say("demo-ha: stopping what was started; logs stay in %s/"
            % rel(HA))
        rc = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        teardown(run)
    return rc


def start():
    """Run serve() in a child that leads a new session, so the servers
    it starts never see the terminal's Ctrl-C; this process turns a
    Ctrl-C into a SIGTERM to the child and waits for it to clean up."""
    pid = demo.fork_session(serve)

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    # also when started with SIGINT ignored (a script's `cmd &`)
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    while True:
        try:
            _, st = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(st)
        except KeyboardInterrupt:
            say("\ndemo-ha: interrupted")
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    point_demo_at(HA)
    if cmd == "start":
        return start()
    if cmd == "stop":
        stop_leftovers()
        return 0
    sys.stderr.write("usage: %s start|stop\n" % argv[0])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
