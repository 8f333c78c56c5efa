#!/usr/bin/python3
"""demo.py - run the bastion with demo vendors, engineers and devices.

    /usr/bin/python3 scripts/demo.py start     set up and start (idempotent)
    /usr/bin/python3 scripts/demo.py stop      stop everything (by pidfile)
    /usr/bin/python3 scripts/demo.py status    what is running
    /usr/bin/python3 scripts/demo.py restart   stop, then start

Called by `make demo` / `make demo-stop` through scripts/demo.sh. Everything
lives under var/demo/ (see docs/DEMO.md). The scene is built with the
end-to-end test harness (tests/e2e/harness): real sshd devices
(harness.devices), the pam_wrapper + pam_matrix PAM stack (harness.pam),
bastiond (harness.bastion) and the software security key (harness.softsk).
The harness stops what it started when its Python process exits; the demo
unregisters those cleanups so the processes outlive this script, and writes
a pidfile for each of them instead. The processes run in a session of
their own (setsid), detached from the terminal.

Each engineer gets a long-lived ssh-agent holding their security key
(var/demo/agent-NAME.sock), which var/demo/ssh_config names with
IdentityAgent and forwards (ForwardAgent yes): the bastion's touch check
(docs/FIDO2.md) asks that agent to sign a challenge before it reaches a
device.

The file airlock's part (clamd with the offline test signature, acme's
`files: scan: clamd`, the sample files, its self-test and printed
commands) is scripts/demo_airlock.py.
"""

import http.client
import os
import pwd
import pathlib
import secrets as secrets_mod
import selectors
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness import util  # noqa: E402  (after the sys.path insert)
import demo_airlock  # noqa: E402  (clamd, the airlock's files and rows)

DEMO = REPO / "var" / "demo"
BUILD = util.build_dir()            # $BASTION_BUILD, else <repo>/build
BASTIOND = BUILD / "bastiond"
SOFTSK_SO = BUILD / "tests" / "softsk.so"
SSH_AGENT = shutil.which("ssh-agent") or "/usr/bin/ssh-agent"
SSH_ADD = shutil.which("ssh-add") or "/usr/bin/ssh-add"

LISTEN = ("127.0.0.1", 2222)
DEVICE_PORT = 2022                  # port 22 may be a system sshd on 0.0.0.0
WEB_PORT = 8080

POLICY = DEMO / "policy.yaml"
LOG = DEMO / "bastiond.log"
PIDFILE = DEMO / "bastiond.pid"
SECRETS = DEMO / "secrets"
SSH_CONFIG = DEMO / "ssh_config"
KNOWN_HOSTS = DEMO / "known_hosts"
HOST_KEY = DEMO / "hostkeys" / "ssh_host_ed25519_key"
SOFTSK_DIR = DEMO / "softsk"
PEOPLE_DIR = DEMO / "people"
DEVICES_DIR = DEMO / "devices"
# A provider that sets SOFTSK_DIR itself (see write_provider_shim), so the
# printed commands work in any shell without an `export`.
SHIM_SRC = DEMO / "softsk-demo.c"
SHIM_SO = DEMO / "softsk-demo.so"
FORWARD_LOG = DEMO / "forward-test.log"   # ssh's stderr in the forward test
OLD_FORWARD_MODE = DEMO / "forward-mode"  # written by older demos; removed
# Each engineer's ssh-agent: socket, pidfile and log. Unix socket names must
# stay short (108 bytes); a long checkout puts the sockets under /tmp.
AGENT_DIR = (DEMO if len(str(DEMO / ("agent-%08d.sock" % 0))) <= 100
             else pathlib.Path("/tmp/bastion-demo-%d" % os.getuid()))

VENDORS = [
    {"name": "acme", "description": "Acme Medical (CT, MRI)",
     "segments": ["127.0.1.0/24"], "sources": ["127.0.0.0/8"]},
    # globex's PACS holds patient images: bob approves every session (4 h
    # at most) and every download (file-approve); acme's CT needs neither
    {"name": "globex", "description": "Globex Imaging IT (PACS)",
     "segments": ["127.0.2.0/24"], "sources": ["127.0.0.0/8"],
     "approval": {"required": True, "max_grant": "4h"},
     "files": {"approve": "out"}},
]
DEVICES = [
    {"name": "ct-scanner", "vendor": "acme", "addr": "127.0.1.10",
     "description": "CT scanner — Radiology, CT room 2",
     "forward_ports": [WEB_PORT], "web": True},
    {"name": "pacs", "vendor": "globex", "addr": "127.0.2.10",
     "description": "PACS archive — server room B",
     "forward_ports": [], "web": False},
]
# name, role, vendor, full name
PEOPLE = [
    ("alice", "engineer", "acme", "Alice Example (Acme Medical)"),
    ("gina", "engineer", "globex", "Gina Garcia (Globex Imaging IT)"),
    ("bob", "admin", None, "Bob Brown, Medical IT"),
    ("carol", "auditor", None, "Carol Clark, Data Protection Officer"),
]
# Everyone has an ssh-agent for the touch check: engineers before they
# reach a device, admins and auditors before their console's first verb
# (touch.c).
WITH_AGENT = [name for name, _, _, _ in PEOPLE]


def agent_sock(name):
    return AGENT_DIR / ("agent-%s.sock" % name)


def agent_pidfile(name):
    return DEMO / ("agent-%s.pid" % name)


def agent_log(name):
    return DEMO / ("agent-%s.log" % name)


WEB_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CT scanner — service page</title></head>
<body>
<h1>CT scanner — service page</h1>
<p>This is the service web page of the CT scanner <b>ct-scanner</b>
(Radiology, CT room 2, 127.0.1.10:8080), reached through the bastion's
port forward. (Demo page served by scripts/demo.py.)</p>
</body>
</html>
"""

# the provider shim's C source, a %-template (see write_provider_shim)
SHIM_C = (REPO / "scripts" / "softsk-demo.c.in").read_text()


class DemoError(RuntimeError):
    pass


def say(msg=""):
    try:
        print(msg, flush=True)
    except BrokenPipeError:     # `make demo | head`: keep going quietly
        pass


rel = demo_airlock.rel     # path relative to the repository, for printing


def c_string(s):
    out = ['"']
    for b in os.fsencode(str(s)):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------
# what runs, by pidfile

def components():
    """(label, pidfile, string its command line must contain) of every
    process the demo starts, bastiond first."""
    out = [("bastiond", PIDFILE, str(POLICY))]
    for d in DEVICES:
        wd = DEVICES_DIR / d["name"]
        out.append(("sshd of %s (%s:%d)" % (d["name"], d["addr"],
                                           DEVICE_PORT),
                    wd / "sshd.pid", str(wd / "sshd_config")))
        if d["web"]:
            out.append(("web page of %s (%s:%d)" % (d["name"], d["addr"],
                                                   WEB_PORT),
                        wd / "web.pid", str(wd / "web-root")))
    for name in WITH_AGENT:
        out.append(("ssh-agent of %s (%s)" % (name, rel(agent_sock(name))),
                    agent_pidfile(name), str(agent_sock(name))))
    out.append(demo_airlock.component())
    return out


def read_pid(pidfile):
    try:
        return int(pathlib.Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def live_pid(pidfile, must_contain):
    pid = read_pid(pidfile)
    if pid and util.pid_alive(pid) and must_contain in util.pid_cmdline(pid):
        return pid
    return None


def running():
    """{label: pid or None} for every component."""
    return {label: live_pid(pf, mc) for label, pf, mc in components()}


def stop(quiet=False):
    """Stop every component named by a pidfile (bastiond first, so sessions
    end before their devices go). Harmless when nothing runs."""
    stopped = []
    for label, pf, mc in components():
        pid = util.kill_pidfile(pf, must_contain=mc)
        if pid:
            stopped.append((label, pid))
        pathlib.Path(pf).unlink(missing_ok=True)
    # Anything else a pidfile under var/demo names and that runs from there.
    if DEMO.is_dir():
        for pid in util.kill_leftover_pidfiles(DEMO):
            stopped.append(("leftover", pid))
    # ssh-agent removes its socket when it stops; one killed hard does not.
    for name in WITH_AGENT:
        remove_stale_socket(agent_sock(name))
    demo_airlock.cleanup()
    OLD_FORWARD_MODE.unlink(missing_ok=True)
    if not quiet:
        if stopped:
            for label, pid in stopped:
                say("demo: stopped %s (pid %d)" % (label, pid))
        else:
            say("demo: nothing was running")
    return stopped


def remove_stale_socket(path):
    """Remove a Unix socket nobody answers on (left by a killed agent)."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return
    except FileNotFoundError:
        return
    if not agent_answers(path):
        os.unlink(path)


def agent_answers(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def status():
    st = running()
    for label, pid in st.items():
        say("  %-52s %s" % (label, "running, pid %d" % pid if pid
                             else "not running"))
    return st


# --------------------------------------------------------------------------
# setting up

def read_secrets():
    """name -> secret from var/demo/secrets ({} if there is none)."""
    out = {}
    try:
        for line in SECRETS.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = parts[1]
    except FileNotFoundError:
        pass
    return out


def load_secrets():
    """name -> secret for every person, keeping the ones in
    var/demo/secrets and making up the missing ones."""
    found = read_secrets()
    out = {name: found.get(name) or secrets_mod.token_urlsafe(9)
           for name, _, _, _ in PEOPLE}
    tmp = SECRETS.with_suffix(".tmp")
    tmp.write_text("".join("%s %s\n" % kv for kv in out.items()))
    os.chmod(tmp, 0o600)
    os.replace(tmp, SECRETS)
    return out


def write_provider_shim():
    """Compile var/demo/softsk-demo.so: softsk.so with SOFTSK_DIR preset."""
    src = SHIM_C % {"real": c_string(SOFTSK_SO.resolve()),
                    "state": c_string(SOFTSK_DIR)}
    if (SHIM_SO.exists() and SHIM_SRC.exists()
            and SHIM_SRC.read_text() == src
            and SHIM_SO.stat().st_mtime >= SOFTSK_SO.stat().st_mtime):
        return SHIM_SO
    SHIM_SRC.write_text(src)
    cc = os.environ.get("CC") or "cc"
    util.run([cc, "-std=c11", "-D_GNU_SOURCE", "-fPIC", "-shared", "-O2",
              "-Wall", "-Werror", "-I", REPO / "tests" / "softsk",
              "-o", SHIM_SO, SHIM_SRC, "-ldl"], timeout=120)
    return SHIM_SO


def enroll_people(sk):
    """An ed25519-sk key per person on the demo's software key; kept across
    restarts while the key state (master.key) that seals it exists."""
    keys = {}
    sealed = (SOFTSK_DIR / "master.key").exists()
    for name, _, _, _ in PEOPLE:
        d = PEOPLE_DIR / name
        d.mkdir(parents=True, exist_ok=True)
        key = d / "id_ed25519_sk"
        pub = d / "id_ed25519_sk.pub"
        if not (sealed and key.exists() and pub.exists()):
            for p in (key, pub):
                if p.exists():
                    p.unlink()
            sk.enroll(key, type="ed25519-sk", comment="%s@demo" % name)
        keys[name] = (key, util.read_pub(pub))
        askpass = d / "askpass"
        askpass.write_text("#!/bin/sh\n# prints %s's secret (for scripts)\n"
                           "exec sed -n 's/^%s //p' %s\n"
                           % (name, name, shlex.quote(str(SECRETS))))
        os.chmod(askpass, 0o700)
    return keys


def write_ssh_config(keys, provider):
    lines = [
        "# written by scripts/demo.py: the demo's ssh client config.",
        "# ssh -F %s alice@bastion ct-scanner" % SSH_CONFIG,
        "Host bastion",
        "    HostName %s" % LISTEN[0],
        "    Port %d" % LISTEN[1],
        "    UserKnownHostsFile %s" % KNOWN_HOSTS,
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    UpdateHostKeys no",
        "    SecurityKeyProvider %s" % provider,
        "    IdentitiesOnly yes",
        "    PreferredAuthentications publickey,keyboard-interactive",
        "    PasswordAuthentication no",
        "    ControlMaster no",
        "    ControlPath none",
        "    ConnectTimeout 10",
        "",
        "# Each person's security key, chosen by the user name given to ssh",
        "# (alice@bastion, alice+ct-scanner@bastion, ...). Each key is also",
        "# in the ssh-agent the demo started for that person: IdentityAgent",
        "# names it (whatever SSH_AUTH_SOCK says) and ForwardAgent forwards it,",
        "# so the bastion can ask it for the touch check (docs/FIDO2.md).",
        "# sftp and scp forward an agent only when given -A.",
    ]
    for name, role, _, _ in PEOPLE:
        lines += ["Match originalhost bastion user %s,%s+*" % (name, name),
                  "    IdentityFile %s" % keys[name][0]]
        if name in WITH_AGENT:
            lines += ["    IdentityAgent %s" % agent_sock(name),
                      "    ForwardAgent yes"]
        else:
            # reaches no device: no touch check, no agent of anybody's
            lines += ["    IdentityAgent none"]
        lines.append("")
    SSH_CONFIG.write_text("\n".join(lines))


def start_agent(name, key, pub, provider):
    """Start `ssh-agent -D -a var/demo/agent-NAME.sock -P PROVIDER` for
    name (long-lived, pidfile var/demo/agent-NAME.pid, log
    var/demo/agent-NAME.log) and add name's key to it. The agent runs the
    provider in an ssh-sk-helper per signature; the demo provider sets
    SOFTSK_DIR itself, and the agent gets it too. Returns the socket."""
    sock = agent_sock(name)
    sock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.path.lexists(sock):
        os.unlink(sock)     # stop() ran: nothing of ours answers there
    # ssh-agent -P matches the realpath of the provider ssh-add names
    provider = os.path.realpath(provider)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID")}
    env.update(SOFTSK_DIR=str(SOFTSK_DIR), SSH_SK_PROVIDER=provider,
               SSH_ASKPASS_REQUIRE="never")
    with open(agent_log(name), "w") as err:
        proc = subprocess.Popen(
            [SSH_AGENT, "-D", "-a", str(sock), "-P", provider], env=env,
            cwd=str(DEMO), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    agent_pidfile(name).write_text("%d\n" % proc.pid)
    deadline = time.monotonic() + 10
    while not agent_answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise DemoError("ssh-agent for %s did not open %s\n--- %s ---\n"
                            "%s" % (name, sock, agent_log(name),
                                    util.tail(agent_log(name), 20)))
        time.sleep(0.05)
    aenv = dict(env, SSH_AUTH_SOCK=str(sock))
    add = util.run([SSH_ADD, "-S", provider, key], env=aenv, check=False,
                   timeout=30)
    listed = util.run([SSH_ADD, "-L"], env=aenv, check=False, timeout=30)
    if add.returncode != 0 or pub not in listed.stdout:
        raise DemoError("ssh-add %s to %s failed (exit %d): %s%s"
                        % (key, sock, add.returncode, add.stdout,
                           add.stderr))
    return sock


def agent_holds(name, pub):
    """True if name's running agent holds the public key pub."""
    env = dict(os.environ, SSH_AUTH_SOCK=str(agent_sock(name)))
    try:
        r = subprocess.run([SSH_ADD, "-L"], env=env, capture_output=True,
                           text=True, timeout=15, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and pub in r.stdout


def listening(addr, port):
    """True if something listens on addr:port. (Binding with SO_REUSEADDR,
    as the servers do, so connections in TIME-WAIT do not count.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, port))
        except OSError:
            return True
        return False


def check_ports():
    wanted = [LISTEN] + [(d["addr"], DEVICE_PORT) for d in DEVICES] + \
        [(d["addr"], WEB_PORT) for d in DEVICES if d["web"]]
    busy = ["%s:%d" % a for a in wanted if listening(*a)]
    if busy:
        raise DemoError("these addresses are in use by another program: %s "
                        "(see `ss -ltnp`); stop it and run `make demo` again"
                        % ", ".join(busy))


def client_env(askpass):
    """Environment for a non-interactive ssh through the bastion: the
    second factor comes from an SSH_ASKPASS script. SOFTSK_DIR and
    SSH_AUTH_SOCK are removed to prove that var/demo/ssh_config alone
    finds the key state (the demo provider) and the agent (IdentityAgent),
    as it must for the commands pasted in a fresh shell."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOFTSK_DIR", "SSH_AUTH_SOCK", "SSH_SK_PROVIDER")}
    env.update(SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    return env


def log_size():
    try:
        return LOG.stat().st_size
    except FileNotFoundError:
        return 0


def audit_since(offset, event, user, timeout=5.0):
    """The first AUDIT line of bastiond.log after byte offset with this
    event and user (waiting up to timeout for it), as a dict, or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(LOG, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            if not line.startswith("AUDIT "):
                continue
            ev = util.parse_logfmt(line[len("AUDIT "):])
            if ev.get("event") == event and ev.get("user") == user:
                return ev
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def log_error(what):
    """A DemoError saying what, with the tail of bastiond's log."""
    return DemoError("%s\n--- %s (tail) ---\n%s"
                     % (what, LOG, util.tail(LOG, 40)))


def outcome(p):
    """What a client run_client() ran gave, for a message."""
    return "timed out" if p is None else "exit %d\nstdout: %s\nstderr: %s" \
        % (p.returncode, p.stdout, p.stderr)


def run_client(argv, askpass):
    """Run one ssh command as a person of the demo (their agent, their
    askpass); None if it did not end within 90 s."""
    try:
        return subprocess.run(argv, env=client_env(askpass),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=90, start_new_session=True)
    except subprocess.TimeoutExpired:
        return None


def self_test(name, askpass, device="ct-scanner"):
    """Run one real command through the bastion as `name`, with the agent
    and the touch check; raise with the log tail unless it prints demo-ok
    and bastiond logged touch.ok for it."""
    argv = [util.SSH, "-F", str(SSH_CONFIG), "-T", "%s@bastion" % name,
            device, "echo", "demo-ok"]
    offset = log_size()
    p = run_client(argv, askpass)
    if p is None:
        raise log_error("self-test timed out: %s" % " ".join(argv))
    if p.returncode != 0 or p.stdout.strip() != "demo-ok":
        raise log_error("self-test failed: %s\n%s"
                        % (" ".join(argv), outcome(p)))
    ev = audit_since(offset, "touch.ok", name)
    if ev is None:
        raise log_error("self-test: %s reached %s but bastiond logged no "
                        "touch.ok for it (the touch check did not run?)"
                        % (name, device))
    return ev


def console_test(name, verb, want):
    """Run a console verb as admin or auditor `name` (with the agent the
    demo started for them: the console asks for a touch too); raise with
    the log tail unless it succeeds, prints want and bastiond logged
    touch.ok."""
    askpass = PEOPLE_DIR / name / "askpass"
    argv = [util.SSH, "-F", str(SSH_CONFIG), "-T", "%s@bastion" % name, verb]
    offset = log_size()
    p = run_client(argv, askpass)
    if p is None or p.returncode != 0 or want not in p.stdout or \
            audit_since(offset, "touch.ok", name) is None:
        raise log_error("console self-test failed: %s\n%s"
                        % (" ".join(argv), outcome(p)))


def forward_test(askpass, name="alice", device="ct-scanner"):
    """The port forward as engineers must use it, riding on a session:
    ssh -L PORT:DEVICE:8080 NAME@bastion DEVICE 'echo READY; sleep 60'.
    Once the session is on the device (touch done) fetch the web page
    through the forward. Raises DemoError unless the page comes back."""
    port = util.free_port("127.0.0.1")
    ready = "demo-forward-ready"
    argv = [util.SSH, "-F", str(SSH_CONFIG), "-T",
            "-o", "ExitOnForwardFailure=yes",
            "-L", "%d:%s:%d" % (port, device, WEB_PORT),
            "%s@bastion" % name, device, "echo %s; exec sleep 60" % ready]
    offset = log_size()

    def fail(why):
        return log_error("forward self-test: %s\n%s\n--- %s ---\n%s"
                         % (why, " ".join(argv), FORWARD_LOG,
                            util.tail(FORWARD_LOG, 20)))

    with open(FORWARD_LOG, "w") as err:
        proc = subprocess.Popen(argv, env=client_env(askpass),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
    try:
        # Wait for the session's first output: by then the touch check has
        # passed and the session runs on the device. (A connection to the
        # forward before that could race the session's agent request.)
        out = b""
        deadline = time.monotonic() + 90
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while ready.encode() not in out:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise fail("no %r from the session within 90s" % ready)
                if sel.select(timeout=min(left, 1.0)):
                    chunk = os.read(proc.stdout.fileno(), 4096)
                    if not chunk:
                        proc.wait(timeout=10)
                        raise fail("ssh exited (%s) before the session "
                                   "started" % proc.returncode)
                    out += chunk
        url = "http://127.0.0.1:%d/" % port
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=15) as r:
                body = r.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            raise fail("fetching %s through the forward: %s" % (url, e))
        if "CT scanner" not in body:
            raise fail("%s did not return the CT scanner's page" % url)
        if audit_since(offset, "touch.ok", name) is None:
            raise fail("bastiond logged no touch.ok for the session")
        if audit_since(offset, "forward.open", name) is None:
            raise fail("bastiond logged no forward.open")
    finally:
        util.kill_tree(proc.pid, proc, term_timeout=3.0)
        proc.stdout.close()


def detach(obj):
    """Keep a harness-started process running after we exit."""
    tok = getattr(obj, "_token", None)
    if tok is not None:
        util.unregister_cleanup(tok)
        obj._token = None


def prepare_people():
    """Everyone's secret (var/demo/secrets, PAM), the provider shim and
    their security keys: (PamFixture, provider path, {name: (key file,
    public key)})."""
    from harness.pam import PamFixture
    from harness.softsk import SoftSK
    secrets = load_secrets()
    pam = PamFixture(DEMO / "pam")
    for name, secret in secrets.items():
        pam.add_user(name, secret)
    provider = write_provider_shim()
    sk = SoftSK(SOFTSK_DIR, SOFTSK_SO)
    return pam, provider, enroll_people(sk)


def start_agents(keys, provider):
    """An ssh-agent per person, holding their key, for the touch check."""
    for name in WITH_AGENT:
        sock = start_agent(name, keys[name][0], keys[name][1], provider)
        say("demo: ssh-agent of %-6s %s (pid %d), holds %s"
            % (name, rel(sock), read_pid(agent_pidfile(name)),
               rel(keys[name][0])))


def start_devices():
    """The devices: real sshd on fixed ports (DEVICE_PORT); ct-scanner
    also serves a web page (WEB_PORT). Returns {name: Device}."""
    from harness.devices import Device
    devices = {}
    for d in DEVICES:
        dev = Device(d["name"], d["addr"], port=DEVICE_PORT,
                     workdir=DEVICES_DIR / d["name"])
        dev.start()
        detach(dev)
        devices[d["name"]] = dev
        say("demo: device %-10s sshd on %s:%d (pid %d)"
            % (d["name"], d["addr"], DEVICE_PORT, dev.pid))
        if d["web"]:
            svc = dev.serve_http(port=WEB_PORT, body=WEB_PAGE, name="web")
            detach(svc)
            (dev.workdir / "web.pid").write_text("%d\n" % svc.pid)
            say("demo: device %-10s web page on %s" % (d["name"], svc.url))
    return devices


def demo_policy(keys, devices, paths, clamd_socket=None):
    """The demo's policy (a dict): VENDORS with their engineers, DEVICES
    (devices: {name: Device}), the admins and auditors of PEOPLE with
    their keys ({name: (key file, public key)}), listening on LISTEN with
    paths (the policy's paths: section); with clamd_socket, the file
    airlock scans through that clamd (scripts/demo_airlock.py)."""
    vendors = []
    for v in VENDORS:
        v = dict(v, engineers=[])
        for name, role, vendor, full in PEOPLE:
            if role == "engineer" and vendor == v["name"]:
                v["engineers"].append({"name": name, "full_name": full,
                                       "keys": [keys[name][1]]})
        vendors.append(v)
    if clamd_socket:
        demo_airlock.apply_policy(vendors, clamd_socket)
    return {
        "version": 1,
        "listen": ["%s:%d" % LISTEN],
        "paths": paths,
        # at the end of a shell session the engineer says whether patient
        # data was touched (MHLW's work record)
        "work_record": True,
        "vendors": vendors,
        "devices": [devices[d["name"]].policy_entry(
            d["vendor"], forward_ports=d["forward_ports"],
            description=d["description"]) for d in DEVICES],
        "admins": [{"name": n, "full_name": f, "keys": [keys[n][1]]}
                   for n, r, _, f in PEOPLE if r == "admin"],
        "auditors": [{"name": n, "full_name": f, "keys": [keys[n][1]]}
                     for n, r, _, f in PEOPLE if r == "auditor"],
        # the web console (docs/WEB.md); webd runs as the demo's user
        "web": {"origin": "https://localhost:8443",
                "daemon_user": pwd.getpwuid(os.getuid()).pw_name},
    }


def setup():
    # Imported here so `stop` and `status` need nothing but the standard
    # library (harness.bastion needs PyYAML).
    from harness.bastion import Bastion

    for f in (BASTIOND, SOFTSK_SO):
        if not os.access(f, os.R_OK):
            raise DemoError("%s is missing: run `make tests` (or `make demo`)"
                            % f)
    check_ports()
    DEMO.mkdir(parents=True, exist_ok=True)
    os.chmod(DEMO, 0o700)
    say("demo: setting up in %s" % DEMO)

    pam, provider, keys = prepare_people()
    devices = start_devices()
    clamd = demo_airlock.start_clamd()
    demo_airlock.write_samples()
    say("demo: clamd (the airlock's scanner) on %s (pid %d)"
        % (clamd.socket, clamd.pid))

    # The policy.
    b = Bastion(DEMO, BUILD, pam)
    # Bastion() made a throwaway host key; the demo's is made by --init.
    for p in (b.host_key, pathlib.Path(str(b.host_key) + ".pub")):
        if p.exists():
            p.unlink()
    run_dir = DEMO / "run"
    if len(str(run_dir)) > 60:      # Unix socket names must stay short
        run_dir = pathlib.Path("/tmp/bastion-demo-%d" % os.getuid())
        run_dir.mkdir(mode=0o700, exist_ok=True)
    # The harness's paths (state, recordings and, as the harness runs
    # bastiond, the PAM fixture's service directory: pam_service_dir), with
    # the demo's host key and run directory.
    paths = b.default_paths()
    paths.update(host_keys=[str(HOST_KEY)], run_dir=str(run_dir))
    policy = demo_policy(keys, devices, paths, clamd.socket)
    b.write_policy(policy)
    util.run([BASTIOND, "-f", POLICY, "--init"], timeout=30)
    b.host_key = HOST_KEY
    b.host_key_pub = util.read_pub(str(HOST_KEY) + ".pub")
    chk = b.check_policy()
    if chk.returncode != 0:
        raise DemoError("bastiond --check refused %s:\n%s%s"
                        % (POLICY, chk.stdout, chk.stderr))
    say("demo: %s" % chk.stdout.strip())
    b.write_known_hosts(KNOWN_HOSTS)
    write_ssh_config(keys, provider)

    start_agents(keys, provider)

    b.start()
    detach(b)
    PIDFILE.write_text("%d\n" % b.pid)
    say("demo: bastiond listening on %s:%d (pid %d), log %s"
        % (LISTEN[0], LISTEN[1], b.pid, rel(LOG)))

    askpass = PEOPLE_DIR / "alice" / "askpass"
    ev = self_test("alice", askpass)
    say("demo: self-test passed: alice ran `echo demo-ok` on ct-scanner "
        "through the bastion;")
    say("      her agent signed the touch challenge (touch.ok, counter %s)"
        % ev.get("counter", "?"))
    forward_test(askpass)
    say("demo: port forward self-test passed: the CT scanner's page through "
        "ssh -L inside a session")
    console_test("bob", "vendors", "vendor acme")
    console_test("carol", "recordings", "SESSION")   # alice's, just made
    say("demo: console self-test passed: bob's `vendors` and carol's "
        "`recordings`, each after a touch")
    demo_airlock.self_test(sys.modules[__name__])
    say("demo: airlock self-test passed: alice's sftp upload scanned clean "
        "and placed;\n      the EICAR test file refused and not on the "
        "device")


def say_secrets(secrets):
    """Each person's role and secret, a line each."""
    for name, role, vendor, _ in PEOPLE:
        say("  %-6s %-19s %s" % (name, role + (" of " + vendor if vendor
                                                else ""),
                                  secrets.get(name, "?")))


def say_rows(rows):
    """Commands to paste: [(note, command)], each note as # lines."""
    for note, cmd in rows:
        for line in note.splitlines():
            say("  # " + line)
        say("  " + cmd)


def print_commands():
    secrets = read_secrets()
    F = "ssh -F %s" % rel(SSH_CONFIG)
    rows = [
        ("the commands use paths relative to the repository", "cd %s"
         % shlex.quote(str(REPO))),
        ("interactive shell on the CT scanner (-t: a terminal)",
         "%s -t alice@bastion ct-scanner" % F),
        ("one command", "%s alice@bastion ct-scanner uname -a" % F),
        ("menu of acme's devices", "%s -t alice@bastion" % F),
        ("port forward to the CT scanner's web page, inside a shell on it\n"
         "(the touch check needs a session: a forward-only `ssh -N` is "
         "refused);\nkeep it open, then in another shell run the curl below",
         "%s -t -L 8080:ct-scanner:8080 alice@bastion ct-scanner" % F),
        ("the CT scanner's service page, through the forward",
         "curl http://127.0.0.1:8080/"),
        ("file transfer (ls, get, put, bye); sftp forwards the agent only "
         "with -A",
         "sftp -A -F %s alice+ct-scanner@bastion" % rel(SSH_CONFIG)),
        *demo_airlock.upload_rows(),
        ("gina (globex) asks for her PACS, which needs an admin's approval;\n"
         "she waits with a request number (her secret: %s)"
         % secrets.get("gina", "?"),
         "%s -t gina@bastion pacs --reason ticket-4711" % F),
        ("in another terminal, bob (admin) sees the request and approves it\n"
         "for 2 hours (his secret: %s); gina's shell opens"
         % secrets.get("bob", "?"),
         "%s bob@bastion requests; %s bob@bastion approve 1 2h" % (F, F)),
        *demo_airlock.export_rows(F),
        ("bob lists live sessions, then watches gina's (read-only; ^C "
         "stops)", "%s bob@bastion sessions; %s -t bob@bastion watch N"
         % (F, F)),
        ("bob ends it, with a reason gina sees",
         "%s bob@bastion kill N \"'maintenance window over'\"" % F),
        ("the same verbs on the bastion host itself (control socket)",
         "%s -f %s sessions" % (rel(BUILD / "bastionctl"), rel(POLICY))),
        ("refused: the CT scanner belongs to another vendor",
         "%s gina@bastion ct-scanner" % F),
        ("what alice's agent holds: her security key",
         "SSH_AUTH_SOCK=%s ssh-add -l" % rel(agent_sock("alice"))),
        ("the touch checks so far",
         "grep event=touch %s" % rel(LOG)),
        ("bob: the grants given so far", "%s bob@bastion grants" % F),
        ("carol, the auditor: the recordings so far (secret: %s)"
         % secrets.get("carol", "?"), "%s carol@bastion recordings" % F),
        ("verify and replay one (ID: its SESSION number, or the recording id "
         "that `recordings --wide` shows)",
         "%s carol@bastion verify ID; %s carol@bastion replay ID" % (F, F)),
        ("export it as an evidence bundle and check it offline",
         "%s carol@bastion export ID > evidence.tar && %s evidence.tar"
         % (F, rel(BUILD / "bastion-verify"))),
        ("the hash-chained audit log, and this month's report",
         "%s --audit %s; %s -f %s report --month %s"
         % (rel(BUILD / "bastion-verify"), rel(DEMO / "state" / "audit.log"),
            rel(BUILD / "bastionctl"), rel(POLICY),
            time.strftime("%Y-%m"))),
        ("the audit trail (when, who, from where, to where)",
         "tail -f %s | grep AUDIT" % rel(LOG)),
        ("stop the demo", "make demo-stop"),
    ]
    say("")
    say("The demo bastion is running on %s:%d. Two factors: the software "
        "security key" % LISTEN)
    say("(nothing to touch) and a secret typed at the \"Password:\" prompt:")
    say_secrets(secrets)
    say("(also in %s)" % rel(SECRETS))
    say("")
    say("Before it reaches a device, the bastion asks the engineer's "
        "ssh-agent to sign")
    say("a challenge with the security key (\"bastion: touch your security "
        "key ...\").")
    say("The demo runs one agent per person, holding their key:")
    say("  %s" % "  ".join(rel(agent_sock(n)) for n in WITH_AGENT))
    say("%s names it (IdentityAgent) and forwards it (ForwardAgent"
        % rel(SSH_CONFIG))
    say("yes), so ssh needs neither -A nor SSH_AUTH_SOCK; sftp and scp need "
        "-A.")
    say("")
    say("Paste these; alice's secret is %s" % secrets.get("alice", "?"))
    say("")
    say_rows(rows)
    say("")
    say("bob (admin) approves with `approve ID 2h` or refuses with `deny ID "
        "reason`;")
    say("carol (auditor) lists, verifies and replays recordings "
        "(docs/APPROVALS.md).")
    say("The devices are sshd on this machine, logged in as %s:"
        % util.current_user())
    say("what you do on them happens here. More in docs/DEMO.md.")


def refill_agents():
    """When the demo already runs: put a person's key back into their
    agent if it was removed (ssh-add -d/-D)."""
    for name in WITH_AGENT:
        key = PEOPLE_DIR / name / "id_ed25519_sk"
        try:
            pub = util.read_pub(str(key) + ".pub")
        except (OSError, util.HarnessError):
            continue
        if agent_holds(name, pub):
            continue
        env = dict(os.environ, SSH_AUTH_SOCK=str(agent_sock(name)))
        r = util.run([SSH_ADD, "-S", os.path.realpath(SHIM_SO), key],
                     env=env, check=False, timeout=30)
        say("demo: %s's agent had lost the key: ssh-add %s"
            % (name, "ok" if r.returncode == 0 else
               "FAILED: " + (r.stderr or r.stdout).strip()))


def start():
    st = running()
    if all(st.values()):
        say("demo: already running (bastiond pid %d); `make demo-stop` "
            "stops it, `scripts/demo.sh restart` restarts it (e.g. after a "
            "rebuild)" % st["bastiond"])
        refill_agents()
        print_commands()
        return 0
    if any(st.values()):
        say("demo: partly running; stopping the rest first")
    stop(quiet=True)
    try:
        setup()
    except Exception as e:  # noqa: BLE001 - report it, then clean up
        say("demo: FAILED: %s" % e)
        say("demo: stopping what was started; logs stay in %s/" % rel(DEMO))
        util.cleanup_all()
        stop(quiet=True)
        return 1
    util.cleanup_all()      # nothing of ours is registered any more
    print_commands()
    return 0


def fork_session(fn):
    """Run fn() in a child that is the leader of a new session (exiting
    with what fn returns), so the servers it starts have no controlling
    terminal and are not in the caller's process group. Returns its pid."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        rc = 1
        try:
            rc = fn()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
    return pid


def start_detached():
    """Run start() in a child of its own session (fork_session). A ^C here
    stops the half-built demo."""
    pid = fork_session(start)
    try:
        _, st = os.waitpid(pid, 0)
    except KeyboardInterrupt:
        say("\ndemo: interrupted; stopping")
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        stop(quiet=True)
        return 130
    return os.waitstatus_to_exitcode(st)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "start":
        return start_detached()
    if cmd == "stop":
        stop()
        return 0
    if cmd == "restart":
        stop()
        return start_detached()
    if cmd == "status":
        st = status()
        return 0 if all(st.values()) else 3
    sys.stderr.write("usage: %s start|stop|restart|status\n" % argv[0])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
