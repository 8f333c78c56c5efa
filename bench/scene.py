"""The benchmark's scene, built from the end-to-end harness.

Everything runs on loopback on this machine, in one process tree:

    device      a real sshd on 127.0.1.10 (harness Device), plus a TCP
                source on a forward port of the same address
    jump        a real sshd on 127.0.0.1 (harness Device) used as a plain
                OpenSSH jump host: ed25519 key, AllowTcpForwarding yes
    bastion     the real bastiond (harness World/Bastion), recording on
                (recording cannot be switched off: it is fail-closed)
    alice       an engineer (harness Person): softsk security key, the PAM
                secret through SSH_ASKPASS, and `ssh -A` with her own
                ssh-agent for the touch, exactly like the e2e tests

The sshd configs are the harness's, with one change: LogLevel INFO on the
jump host and DEBUG1 on the device instead of DEBUG3 (DEBUG3 would charge
log writes to the paths; DEBUG1 on the device logs the negotiated cipher
once per connection, and the device is on every path alike).

Three ways to run a command on the device, all with the stock ssh client:

    direct   ssh straight to the device (Device.ssh_argv)
    jump     ssh -J through the OpenSSH jump host (ProxyJump, config file)
    bastion  ssh alice@bastion ct-scanner CMD (Person.argv)
"""

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness import util  # noqa: E402
from harness.bastion import World  # noqa: E402
from harness.client import Person  # noqa: E402
from harness.devices import Device, TcpService  # noqa: E402
from harness.softsk import SoftSK  # noqa: E402

SOURCE_PY = REPO / "bench" / "tcpsource.py"


class BenchHost(Device):
    """A harness Device with production-like logging: LogLevel INFO, or
    DEBUG1 for the device (one kex line per connection tells which cipher
    the bastion's libssh client negotiated; nothing is logged per
    packet)."""

    def __init__(self, *args, log_level="INFO", **kw):
        self.log_level = log_level
        super().__init__(*args, **kw)

    def _write_config(self):
        super()._write_config()
        text = self.config.read_text().replace(
            "LogLevel DEBUG3", "LogLevel %s" % self.log_level)
        self.config.write_text(text)


class Scene:
    """Devices, jump host, bastion and engineer for one benchmark run."""

    def __init__(self, workdir, build_dir, payload, max_unauth=200,
                 bastion_env=None, recordings_dir=None, store=None):
        """store: the policy's store: section (default: none, SQLite in
        the state directory; bench/store.py gives PostgreSQL's)."""
        self.workdir = pathlib.Path(workdir)
        self.build_dir = pathlib.Path(build_dir)
        self.payload = pathlib.Path(payload)      # random file, cat'ed
        self.world = World(self.workdir / "world", build_dir=self.build_dir,
                           standard=False)
        w = self.world
        w.add_vendor("acme", segment=1)
        # the device: a harness sshd with INFO logging
        self.device = BenchHost("ct-scanner", util.segment_addr(1, 10),
                                workdir=w.dir / "devices" / "ct-scanner",
                                log_level="DEBUG1")
        self.device.start()
        w.devices["ct-scanner"] = self.device
        # a TCP source on the device's address for the forward benchmark
        self.source_port = util.free_port(self.device.addr)
        self.source = TcpService(
            "tcpsource", ["/usr/bin/python3", SOURCE_PY, self.device.addr,
                          str(self.source_port), str(self.payload)],
            self.device.addr, self.source_port, self.device.workdir)
        self.source.start()
        self.device.services.append(self.source)
        w.device_entries["ct-scanner"] = self.device.policy_entry(
            "acme", forward_ports=[self.source_port],
            description="CT scanner (benchmark)")
        # the OpenSSH jump host
        self.jump = BenchHost("jump", "127.0.0.1",
                              workdir=w.dir / "devices" / "jump")
        self.jump.start()
        w.devices["jump"] = self.jump
        # the engineer and the bastion
        self.softsk = SoftSK(self.workdir / "softsk",
                             self.build_dir / "tests" / "softsk.so")
        w.limits["max_unauthenticated"] = max_unauth
        w.limits["idle_timeout"] = 3600
        w.limits["idle_warning"] = 60
        w.limits["max_session"] = 4 * 3600
        if store:
            w.top["store"] = store
        if recordings_dir:          # an experiment: e.g. a tmpfs
            w.bastion.recordings_dir = pathlib.Path(recordings_dir)
            w.bastion.recordings_dir.mkdir(parents=True, exist_ok=True)
        self.alice = Person(w, self.softsk, "alice", "bench-s3cret")
        w.add_engineer("acme", "alice", self.alice.public_key(),
                       secret="bench-s3cret")
        pol = w.policy()
        if os.environ.get("BENCH_ENCRYPT") == "1":
            # format 2: every payload encrypted to an age recipient before
            # it is written (docs/RECORDING-FORMAT.md section 13)
            key = self.workdir / "auditor.agekey"
            subprocess.run(["age-keygen", "-o", str(key)], check=True,
                           stderr=subprocess.DEVNULL)
            pol["recordings"] = {"recipients": [subprocess.run(
                ["age-keygen", "-y", str(key)], check=True, text=True,
                stdout=subprocess.PIPE).stdout.strip()]}
        self.bastion = w.start_bastion(pol, extra_env=bastion_env)
        self.jump_config = self._write_jump_config()

    # -- client command lines ----------------------------------------------

    def _write_jump_config(self):
        d, j = self.device, self.jump
        common = ["BatchMode yes", "IdentitiesOnly yes", "IdentityAgent none",
                  "GlobalKnownHostsFile /dev/null",
                  "StrictHostKeyChecking yes", "UpdateHostKeys no",
                  "PasswordAuthentication no",
                  "KbdInteractiveAuthentication no", "ControlMaster no",
                  "ControlPath none", "ConnectTimeout 20"]
        text = ("Host jump\n    HostName %s\n    Port %d\n    User %s\n"
                "    IdentityFile %s\n    UserKnownHostsFile %s\n"
                % (j.addr, j.port, j.login, j.credential, j.known_hosts))
        text += ("Host device\n    HostName %s\n    Port %d\n    User %s\n"
                 "    IdentityFile %s\n    UserKnownHostsFile %s\n"
                 "    ProxyJump jump\n"
                 % (d.addr, d.port, d.login, d.credential, d.known_hosts))
        text += "Host *\n" + "".join("    %s\n" % c for c in common)
        path = self.workdir / "ssh_config.jump"
        path.write_text(text)
        return path

    def argv(self, path, cmd=None, tty=False, options=()):
        """ssh command line running cmd on the device along `path`
        ("direct", "jump" or "bastion"); cmd None: no command (-N)."""
        options = list(options)
        if path == "direct":
            argv = self.device.ssh_argv(None, tty=tty)
            # ssh_argv ends with user@host; options go before it
            argv = argv[:-1] + options + argv[-1:]
            return argv + (["--", cmd] if cmd is not None else [])
        if path == "jump":
            argv = [util.SSH, "-F", str(self.jump_config),
                    "-tt" if tty else "-T"] + options + ["device"]
            return argv + ([cmd] if cmd is not None else [])
        if path == "bastion":
            if cmd is None:
                return self.alice.argv(options=options,
                                       login="alice+ct-scanner", tty=tty)
            return self.alice.argv("ct-scanner", cmd, options=options,
                                   tty=tty)
        raise ValueError(path)

    def env(self, path):
        """The environment the client needs along `path`."""
        if path == "bastion":
            return self.alice.env()
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        return env

    def forward_argv(self, path, lport, cmd):
        """ssh -L lport:<device's TCP source> along `path`, with a session
        running cmd beside it. The bastion needs that session: with
        `touch: required` a forward-only connection (-N) has no session
        channel to carry the agent request for the touch, so it is
        refused (docs/FIDO2.md); the OpenSSH paths get the same session
        for symmetry. Paths: "direct" (the device's sshd forwards),
        "jump" (ssh -J ... -L, the device's sshd forwards: two SSH hops,
        what `ssh -J` users run), "onehop" (ssh -L to the jump host, which
        connects to the device's port itself: one SSH hop, like the
        bastion), "bastion"."""
        # -tt: the session gets a pty, so its command is hung up when the
        # connection ends (without one sshd leaves it running)
        opts = ["-o", "ExitOnForwardFailure=yes"]
        if path == "bastion":
            return self.argv("bastion", cmd, tty=True, options=opts + [
                "-L", "127.0.0.1:%d:ct-scanner:%d" % (lport,
                                                      self.source_port)])
        fwd = ["-L", "127.0.0.1:%d:%s:%d" % (lport, self.device.addr,
                                             self.source_port)]
        if path == "onehop":
            return [util.SSH, "-F", str(self.jump_config), "-tt"] + opts + \
                fwd + ["jump", cmd]
        return self.argv(path, cmd, tty=True, options=opts + fwd)

    # -- processes -----------------------------------------------------------

    def recorder_pid(self):
        for pid in util.children_of(self.bastion.pid):
            if "bastion-recorder" in util.pid_cmdline(pid):
                return pid
        return None

    def worker_pids(self):
        return util.worker_pids(self.bastion)

    def long_lived_pids(self):
        """Our own children that live through the run (servers)."""
        return [p for p in (self.device.pid, self.jump.pid, self.bastion.pid,
                            self.source.pid) if p]

    def device_service_pids(self):
        """Servers on the device's address that are not sshd sessions."""
        return [s.pid for s in self.device.services if s.pid]

    def recordings(self):
        return sorted(self.bastion.recordings_dir.rglob("*.brec"))

    def clear_recordings(self):
        """Delete finished recordings (keeps the disk from filling up
        over many large transfers)."""
        for p in self.recordings():
            try:
                p.unlink()
            except OSError:
                pass

    def close(self):
        errors = []
        for fn in (self.softsk.stop_agent, self.world.close):
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))
        return errors


def make_payload(path, mib):
    """A file of `mib` MiB of random bytes (incompressible), made once."""
    path = pathlib.Path(path)
    if path.exists() and path.stat().st_size == mib << 20:
        return path
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    return path


def make_text_payload(path, mib):
    """`mib` MiB of terminal-like text: base64 lines of random bytes
    (76 columns), the kind of output a log dump or `find` produces."""
    import base64
    path = pathlib.Path(path)
    if path.exists() and path.stat().st_size >= mib << 20:
        return path
    with open(path, "wb") as f:
        written = 0
        while written < mib << 20:
            chunk = base64.encodebytes(os.urandom(57 * 4096))
            f.write(chunk)
            written += len(chunk)
    return path
