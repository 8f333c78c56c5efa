"""Run the bastion under test, and build the world around it.

Bastion launches $BASTION_BUILD/bastiond in the foreground with a policy
the test wrote, using the test PAM stack (harness.pam), and offers what
tests need to observe it: its log, its audit events, and an ssh client
config that reaches it with a pinned host key.

World (make_world / the `world` fixture) is the standard scene: two vendors
on their own segments, each with one device (a real sshd), a PAM stack,
and a bastion that is not started until the test has added people:

    acme    segment 1  127.0.1.0/24   ct-scanner  127.0.1.10
    globex  segment 2  127.0.2.0/24   pacs        127.0.2.10

    w = world
    w.add_engineer("acme", "alice", [alice_pub], secret="alice-pin")
    b = w.start_bastion()            # writes policy.yaml, starts bastiond
    cfg = b.ssh_config(tmp_path / "ssh_config", alice_key, provider)
"""

import os
import pathlib
import re
import signal
import subprocess
import time

import yaml

from . import util
from .devices import Device
from .pam import PamFixture
from .util import HarnessError

_SANITIZER = re.compile(r"(==\d+==ERROR: \w+Sanitizer|: runtime error: |"
                        r"==\d+==WARNING: \w+Sanitizer)")


def parse_hostport(s):
    """"127.0.0.1:2222" or "[::1]:2222" -> (host, port)."""
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("listen address %r is not HOST:PORT" % s)
    return host.strip("[]"), int(port)


class Bastion(util.Server):
    """bastiond under test.

    workdir holds policy.yaml, bastiond.log, the host key
    (host_ed25519_key, public part in .host_key_pub), and the default
    state/recordings/run directories (run/ moves to a short /tmp path when
    workdir is too long for Unix socket names)."""

    def __init__(self, workdir, build_dir=None, pam=None, pam_mode="confdir"):
        """pam_mode: how bastiond reaches the PAM fixture's service.
        "confdir" (default): the policy's paths.pam_service_dir, i.e. the
        real libpam with pam_start_confdir() loading pam_matrix from the
        fixture's directory. "wrapper": LD_PRELOAD pam_wrapper redirects
        pam_start(); it keeps a /tmp/pam.X directory per process and has
        only 62 of them, so it cannot serve many concurrent workers."""
        self.pam_mode = pam_mode
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.build_dir = pathlib.Path(build_dir or util.build_dir())
        self.binary = self.build_dir / "bastiond"
        self.pam = pam
        self.policy_path = self.workdir / "policy.yaml"
        self.logfile = self.workdir / "bastiond.log"
        self.known_hosts = self.workdir / "known_hosts"
        self.host_key = self.workdir / "host_ed25519_key"
        self.host_key_pub = util.keygen(self.host_key, "ed25519",
                                        "bastion-host")
        self.state_dir = self.workdir / "state"
        self.recordings_dir = self.workdir / "recordings"
        run_dir = self.workdir / "run"
        self.run_dir = (run_dir if len(str(run_dir)) <= 60
                        else util.short_tmpdir("bst-run-"))
        for d in (self.state_dir, self.recordings_dir, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.policy = None
        self.proc = None
        self.pid = None
        self.returncode = None
        self.leftover_pids = []

    # -- policy --------------------------------------------------------------

    def default_paths(self):
        paths = {
            "host_keys": [str(self.host_key)],
            "state_dir": str(self.state_dir),
            "recordings_dir": str(self.recordings_dir),
            "run_dir": str(self.run_dir),
        }
        if self.pam is not None and self.pam_mode == "confdir":
            paths["pam_service_dir"] = str(self.pam.service_dir)
        return paths

    def write_policy(self, policy, path=None):
        """Dump policy (a dict) as YAML to workdir/policy.yaml (or path).
        Returns the path. Only the default path is what start() runs."""
        path = pathlib.Path(path or self.policy_path)
        path.write_text(yaml.safe_dump(policy, sort_keys=False,
                                       default_flow_style=False))
        if path == self.policy_path:
            self.policy = policy
        return path

    @property
    def listen(self):
        """[(host, port)] from the policy's listen list."""
        if not self.policy:
            raise HarnessError("write_policy() first")
        return [parse_hostport(s) for s in self.policy.get("listen", [])]

    @property
    def addr(self):
        return self.listen[0][0]

    @property
    def port(self):
        return self.listen[0][1]

    def _env(self, extra_env=None):
        env = dict(os.environ)
        if self.pam is not None and self.pam_mode == "wrapper":
            env.update(self.pam.env(env))
        env.update(extra_env or {})
        return env

    def _require_binary(self):
        if not os.access(self.binary, os.X_OK):
            raise HarnessError("%s is not built: run `make B=%s tests`"
                               % (self.binary, self.build_dir))

    def check_policy(self, path=None, extra_env=None, timeout=30):
        """Run `bastiond --check -f POLICY`; returns the CompletedProcess
        (never raises on a non-zero exit)."""
        self._require_binary()
        return util.run([self.binary, "--check", "-f",
                         path or self.policy_path],
                        env=self._env(extra_env), check=False,
                        timeout=timeout)

    # -- lifecycle ----------------------------------------------------------

    def start(self, extra_env=None, args=(), timeout=15.0):
        """Start `bastiond -f policy.yaml -D` (stdout+stderr to the log) and
        wait until every listen address answers with "SSH-2.0-". Raises
        HarnessError with the log tail if bastiond exits or is not ready in
        timeout seconds.

        Note: the readiness probe is one TCP connection per listen address
        that closes after the banner; bastiond may log it."""
        self._require_binary()
        if self.policy is None:
            raise HarnessError("write_policy() before start()")
        if self.proc is not None:
            raise HarnessError("bastiond is already running (pid %d)"
                               % self.pid)
        with open(self.logfile, "ab") as log:
            # --init creates what is missing (the recording signing key;
            # the host key exists already) and never overwrites
            log.write(b"=== harness: bastiond --init\n")
            log.flush()
            init = subprocess.run(
                [str(self.binary), "-f", str(self.policy_path), "--init"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self._env(extra_env), cwd=str(self.workdir),
                timeout=30)
            if init.returncode != 0:
                raise HarnessError("bastiond --init failed (%d)\n%s" % (
                    init.returncode, util.tail(self.logfile, 20)))
            log.write(b"=== harness: starting bastiond\n")
            log.flush()
            self.proc = subprocess.Popen(
                [str(self.binary), "-f", str(self.policy_path), "-D"]
                + [str(a) for a in args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self._env(extra_env), cwd=str(self.workdir))
        self.pid = self.proc.pid
        self.returncode = None
        self.registered()
        deadline = time.monotonic() + timeout
        try:
            for host, port in self.listen:
                util.wait_tcp(host, port,
                              timeout=max(0.5, deadline - time.monotonic()),
                              banner=b"SSH-2.0-",
                              alive=lambda: self.proc.poll() is None,
                              what="bastiond (pid %d)" % self.pid,
                              log=self.logfile)
        except HarnessError as e:
            self.stop(check_sanitizers=False)
            raise HarnessError("%s\n(bastiond exit status: %s)"
                               % (e, self.returncode)) from None
        except BaseException:
            self.stop(check_sanitizers=False)
            raise
        return self

    def stop(self, timeout=10.0, check_sanitizers=True):
        """SIGTERM bastiond, wait up to timeout, then SIGKILL. Processes it
        left behind (workers, recorder) get 2 s more, then SIGKILL; their
        pids are kept in .leftover_pids. Returns bastiond's exit status
        (negative: killed by that signal), or None if it was not running.
        Raises HarnessError afterwards if the log holds sanitizer reports."""
        if self.proc is None:
            return self.returncode
        proc, self.proc = self.proc, None
        kids = util.children_of(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.returncode = proc.returncode
        # Orphans of bastiond were reparented; we remembered their pids.
        live = [p for p in kids if util.pid_alive(p)]
        if live and not util.wait_gone(live, 2.0):
            for p in live:
                if util.pid_alive(p):
                    util.kill_tree(p, term_timeout=1.0)
        self.leftover_pids = live
        self.unregistered()
        if check_sanitizers:
            errs = self.sanitizer_errors()
            if errs:
                raise HarnessError("sanitizer reports in %s:\n%s\n--- tail "
                                   "---\n%s" % (self.logfile,
                                                "\n".join(errs[:10]),
                                                util.tail(self.logfile, 80)))
        return self.returncode

    def restart(self, extra_env=None, timeout=15.0):
        self.stop()
        return self.start(extra_env=extra_env, timeout=timeout)

    def __exit__(self, *exc):
        self.stop(check_sanitizers=exc[0] is None)

    # -- observation --------------------------------------------------------

    def log(self):
        """The whole log so far (bastiond's stdout and stderr)."""
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def sanitizer_errors(self):
        return [line for line in self.log().splitlines()
                if _SANITIZER.search(line)]

    def audit_events(self, **match):
        """Every "AUDIT k=v ..." log line as a dict (logfmt; quoted values
        unescaped), oldest first. Keyword arguments filter: only events
        whose fields equal all of them (e.g. event="login")."""
        out = []
        for line in self.log().splitlines():
            i = line.find("AUDIT ")
            if i < 0:
                continue
            ev = util.parse_logfmt(line[i + len("AUDIT "):])
            if all(str(ev.get(k)) == str(v) for k, v in match.items()):
                out.append(ev)
        return out

    def wait_audit(self, timeout=10.0, after=0, alive=None, **match):
        """Wait for an audit event matching **match and return it: the
        first one, or with after=N the one after the N already seen
        (after=len(audit_events(...)) taken before acting: the event
        this action causes). alive: a Popen (e.g. the client whose action
        is awaited) whose exit fails the wait at once, with its output.
        Raises WaitTimeout with the log tail after timeout."""
        def found():
            evs = self.audit_events(**match)
            if len(evs) > after:
                return evs[after]
            if alive is not None and alive.poll() is not None:
                raise util.HarnessError(
                    "the client exited %s before audit event %r:\n%r\n%s"
                    % (alive.returncode, match, alive.communicate(),
                       util.tail(self.logfile, 60)))
            return None
        return util.wait_until(found, timeout, what=lambda: (
            "audit event %r (after %d)\n%s"
            % (match, after, util.tail(self.logfile, 60))))

    def wait_log(self, pattern, timeout=10.0):
        """Wait until a log line matches regex pattern; return the match."""
        rx = re.compile(pattern)
        return util.wait_until(lambda: rx.search(self.log()), timeout,
                               what=lambda: "log line matching %r\n%s" % (
                                   pattern, util.tail(self.logfile, 60)))

    def wait_no_workers(self, timeout=20.0):
        """Wait until no session worker of this bastion is left (e.g. the
        readiness probe's, or failed logins' whose exit counts a
        penalty)."""
        if util.sanitized():
            timeout *= 3
        util.wait_until(lambda: not util.worker_pids(self), timeout,
                        interval=0.1, what=lambda: "workers %r still there"
                        % util.worker_pids(self))

    # -- clients ------------------------------------------------------------

    def write_known_hosts(self, path=None):
        """known_hosts pinning the bastion's host key on every listen
        address. Returns the path."""
        path = pathlib.Path(path or self.known_hosts)
        lines = []
        for host, port in self.listen:
            spec = host if port == 22 else "[%s]:%d" % (host, port)
            lines.append("%s %s\n" % (spec, self.host_key_pub))
        tmp = path.with_name(path.name + ".tmp%d" % os.getpid())
        tmp.write_text("".join(lines))
        os.replace(tmp, path)   # atomic: clients may be reading it
        return path

    def ssh_config(self, path, user_key, provider=None, user=None,
                   forward_agent=False, extra=None):
        """Write an ssh client config for `Host bastion` (first listen
        address), using user_key (a private key or sk key handle file) and
        the security key provider library. Returns path; use it as
        `ssh -F path alice@bastion ...` or `alice+ct-scanner@bastion`.
        extra: further {Option: value} lines."""
        path = pathlib.Path(path)
        kh = self.write_known_hosts()
        opts = [("HostName", self.addr), ("Port", self.port)]
        if user:
            opts.append(("User", user))
        opts += [("IdentityFile", user_key),
                 ("IdentitiesOnly", "yes")]
        if provider:
            opts.append(("SecurityKeyProvider", provider))
        opts += [("UserKnownHostsFile", kh),
                 ("GlobalKnownHostsFile", "/dev/null"),
                 ("StrictHostKeyChecking", "yes"),
                 ("UpdateHostKeys", "no"),
                 ("PreferredAuthentications",
                  "publickey,keyboard-interactive"),
                 ("PasswordAuthentication", "no"),
                 ("ForwardAgent", "yes" if forward_agent else "no"),
                 ("ControlMaster", "no"),
                 ("ControlPath", "none"),
                 ("ConnectTimeout", "10")]
        for k, v in (extra or {}).items():
            opts.append((k, v))
        path.write_text("Host bastion\n" + "".join(
            "    %s %s\n" % (k, v) for k, v in opts))
        return path

    def ssh_argv(self, config, user, *args, agent=False, tty=None):
        """argv for the real ssh client: ssh -F config [-A] [-tt|-T]
        user@bastion args..."""
        argv = [util.SSH, "-F", str(config)]
        if agent:
            argv.append("-A")
        if tty is True:
            argv.append("-tt")
        elif tty is False:
            argv.append("-T")
        argv.append("%s@bastion" % user)
        return argv + [str(a) for a in args]


# ------------------------------------------------------------------------
# the world: vendors, devices, people, PAM, bastion

class World:
    """Vendors, devices, people and a bastion, to build a policy from.

    Everything is created under dir. Devices start at once (a real sshd
    each); the bastion starts in start_bastion(). close() stops it all."""

    def __init__(self, dir, build_dir=None, standard=True, listen_port=None):
        self.dir = pathlib.Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pam = PamFixture(self.dir / "pam")
        self.bastion = Bastion(self.dir / "bastion", build_dir, self.pam)
        self.listen = ["127.0.0.1:%d" % (listen_port or
                                         util.free_port("127.0.0.1"))]
        self.vendors = {}       # name -> policy entry (dict)
        self.devices = {}       # name -> Device
        self.device_entries = {}  # name -> policy entry (dict)
        self.admins = []
        self.auditors = []
        self.limits = {}
        self.top = {}           # further top-level policy keys
        self._segments = {}     # vendor -> segment number
        if standard:
            try:
                self.add_vendor("acme", segment=1)
                self.add_device("acme", "ct-scanner", host=10,
                                description="CT scanner, radiology room 2")
                self.add_vendor("globex", segment=2)
                self.add_device("globex", "pacs", host=10,
                                description="PACS archive, server room B")
            except Exception:
                self.close()
                raise

    # -- building -------------------------------------------------------------

    def add_vendor(self, name, segment, sources=("127.0.0.1/32",), **extra):
        """A vendor owning 127.0.<segment>.0/24. extra: more policy keys
        (approval, touch, description...). Returns the policy entry."""
        entry = {"name": name, "segments": [util.segment_cidr(segment)],
                 "sources": list(sources), "engineers": []}
        entry.update(extra)
        self.vendors[name] = entry
        self._segments[name] = segment
        return entry

    def add_device(self, vendor, name, host=None, addr=None,
                   forward_ports=(), start=True, **extra):
        """A device of vendor at 127.0.<vendor segment>.<host> (or addr),
        running a real sshd. extra: more policy keys for its entry.
        Returns the Device (its entry is .device_entries[name])."""
        if addr is None:
            if host is None:
                host = 10 + sum(1 for d in self.device_entries.values()
                                if d["vendor"] == vendor)
            addr = util.segment_addr(self._segments[vendor], host)
        dev = Device(name, addr, workdir=self.dir / "devices" / name)
        if start:
            dev.start()
        self.devices[name] = dev
        self.device_entries[name] = dev.policy_entry(
            vendor, forward_ports=forward_ports, **extra)
        return dev

    def _person(self, people, name, keys, secret, extra):
        """Append a person's entry to people (a list of the policy) and,
        if secret is given, give them a PAM secret. Returns the entry."""
        if isinstance(keys, str):
            keys = [keys]
        entry = {"name": name, "keys": list(keys)}
        entry.update(extra)
        people.append(entry)
        if secret is not None:
            self.pam.add_user(name, secret)
        return entry

    def add_engineer(self, vendor, name, keys, secret=None, **extra):
        """An engineer of vendor with public keys ("type base64 ..."),
        and, if secret is given, a PAM secret. Returns the entry."""
        return self._person(self.vendors[vendor]["engineers"], name, keys,
                            secret, extra)

    def add_admin(self, name, keys, secret=None, **extra):
        return self._person(self.admins, name, keys, secret, extra)

    def add_auditor(self, name, keys, secret=None, **extra):
        return self._person(self.auditors, name, keys, secret, extra)

    def policy(self):
        """The policy as a fresh dict (edit it freely before writing)."""
        p = {"version": 1,
             "listen": list(self.listen),
             "paths": self.bastion.default_paths()}
        if self.limits:
            p["limits"] = dict(self.limits)
        p.update(self.top)
        p["vendors"] = [dict(v, engineers=[dict(e) for e in v["engineers"]])
                        for v in self.vendors.values()]
        p["devices"] = [dict(d) for d in self.device_entries.values()]
        p["admins"] = [dict(a) for a in self.admins]
        p["auditors"] = [dict(a) for a in self.auditors]
        return p

    def write_policy(self, policy=None):
        return self.bastion.write_policy(policy or self.policy())

    def start_bastion(self, policy=None, extra_env=None, timeout=15.0):
        """Write the policy (default: self.policy()) and start bastiond."""
        self.write_policy(policy)
        return self.bastion.start(extra_env=extra_env, timeout=timeout)

    def close(self):
        """Stop the bastion and every device. Raises the bastion's
        sanitizer report, if any, after everything is stopped."""
        err = None
        try:
            self.bastion.stop()
        except HarnessError as e:
            err = e
        for d in self.devices.values():
            d.stop()
        if err is not None:
            raise err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_world(tmp_path, **kw):
    """A World under tmp_path/"world" (see World)."""
    return World(pathlib.Path(tmp_path) / "world", **kw)
