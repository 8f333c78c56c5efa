"""Stand-ins for hospital devices: real OpenSSH servers on loopback.

A Device is a real /usr/sbin/sshd listening on one address of the address
plan (segment N is 127.0.N.0/24; Linux routes all of 127/8 to lo), with a
host key generated at test time and a client key pair, "the bastion's
credential", whose public key is the only one in its AuthorizedKeysFile.
The login is the user running the tests (root gets PermitRootLogin
prohibit-password), so no accounts need to exist.

The way it is driven follows OpenSSH's regress/test-exec.sh: write an
sshd_config, check it with `sshd -t`, start with `-E logfile`, wait for the
pidfile and the SSH banner, and stop by pid even when the test failed.

A TcpService is any extra server bound to a device's address (for port
forwarding tests); Device.serve_http() starts Python's http.server with a
known page.
"""

import os
import pathlib
import subprocess
import sys
import time

from . import util
from .util import HarnessError


class TcpService(util.Server):
    """One background server process bound to addr:port.

    argv is the command; it must bind addr:port itself. start() waits until
    the port accepts; stop() ends it (and its children). The output goes to
    workdir/<name>.log."""

    def __init__(self, name, argv, addr, port, workdir):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.addr = addr
        self.port = port
        self.workdir = pathlib.Path(workdir)
        self.logfile = self.workdir / ("%s.log" % name)
        self.proc = None
        self.pid = None

    def start(self, timeout=15.0):
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         cwd=str(self.workdir))
        self.pid = self.proc.pid
        self.registered()
        try:
            util.wait_tcp(self.addr, self.port, timeout=timeout,
                          alive=lambda: self.proc.poll() is None,
                          what=self.name, log=self.logfile)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        if self.proc is not None:
            util.kill_tree(self.proc.pid, self.proc, term_timeout=5.0)
            self.proc = None
        self.unregistered()


class HttpService(TcpService):
    """python3 -m http.server on addr:port serving one known page at "/"
    (index.html, whose text is .body) and any files put in .root."""

    def __init__(self, addr, port, workdir, body, name="http"):
        self.root = pathlib.Path(workdir) / ("%s-root" % name)
        self.root.mkdir(parents=True, exist_ok=True)
        self.body = body
        (self.root / "index.html").write_text(body)
        super().__init__(name, [sys.executable, "-m", "http.server",
                                "--bind", addr, "--directory", self.root,
                                str(port)], addr, port, workdir)

    @property
    def url(self):
        return "http://%s:%d/" % (self.addr, self.port)


class Device(util.Server):
    """A hospital device: real sshd on addr:port.

    Attributes after start():
      host_key_pub    "ssh-ed25519 AAAA..." (pin this in the policy)
      credential      path of the private key the bastion uses to log in
      credential_pub  its public key, "ssh-ed25519 AAAA..."
      login           the user name to log in as (the current user)
      known_hosts     a known_hosts file pinning host_key_pub
      pid, logfile, pidfile, config

    port=None picks a free port (retrying if another run takes it first).
    workdir=None uses a fresh short directory under /tmp.
    """

    START_ATTEMPTS = 5

    def __init__(self, name, addr, port=None, workdir=None, login=None):
        self.name = name
        self.addr = addr
        self._fixed_port = port is not None
        self.port = port
        self.workdir = pathlib.Path(workdir) if workdir else util.short_tmpdir()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.login = login or util.current_user()
        self.host_key = self.workdir / "ssh_host_ed25519_key"
        self.credential = self.workdir / "credential"
        self.authorized_keys = self.workdir / "authorized_keys"
        self.known_hosts = self.workdir / "known_hosts"
        self.config = self.workdir / "sshd_config"
        self.pidfile = self.workdir / "sshd.pid"
        self.logfile = self.workdir / "sshd.log"
        self.host_key_pub = None
        self.credential_pub = None
        self.proc = None
        self.pid = None
        self.services = []
        self._keys()

    # -- keys and config ---------------------------------------------------

    def _keys(self):
        self.host_key_pub = util.keygen(self.host_key, "ed25519",
                                        "host-%s" % self.name)
        self.credential_pub = util.keygen(self.credential, "ed25519",
                                          "bastion-credential-%s" % self.name)
        self.authorized_keys.write_text(self.credential_pub + "\n")
        os.chmod(self.authorized_keys, 0o600)

    def add_authorized_key(self, pub, options=None):
        """Also accept pub ("type base64"), with authorized_keys options."""
        line = ("%s %s" % (options, pub)) if options else pub
        with open(self.authorized_keys, "a") as f:
            f.write(line + "\n")

    @property
    def host_spec(self):
        """The host as known_hosts writes it: addr, or [addr]:port."""
        return self.addr if self.port == 22 else "[%s]:%d" % (self.addr,
                                                             self.port)

    def _write_config(self):
        lines = [
            "# written by tests/e2e/harness/devices.py for device %s"
            % self.name,
            "ListenAddress %s:%d" % (self.addr, self.port),
            "HostKey %s" % self.host_key,
            "PidFile %s" % self.pidfile,
            "AuthorizedKeysFile %s" % self.authorized_keys,
            "StrictModes no",
            "UsePAM no",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no",
            "PermitRootLogin %s" % ("prohibit-password" if util.is_root()
                                    else "no"),
            "LogLevel DEBUG3",
            "Subsystem sftp internal-sftp",
            "AllowTcpForwarding yes",
            "AllowAgentForwarding no",
            "X11Forwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "AcceptEnv LANG LC_*",
            "LoginGraceTime 30",
            # Benchmarks open many connections at once.
            "MaxStartups 200:30:400",
            "MaxSessions 100",
        ]
        self.config.write_text("\n".join(lines) + "\n")

    def known_hosts_line(self, key=None):
        return "%s %s\n" % (self.host_spec, key or self.host_key_pub)

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout=15.0):
        """Start sshd and wait until it answers with an SSH banner.
        Raises HarnessError with the log tail if it does not."""
        if util.is_root() and not os.path.isdir("/run/sshd"):
            # Privilege separation directory, normally made by systemd.
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
            os.chmod("/run/sshd", 0o755)
        attempts = 1 if self._fixed_port else self.START_ATTEMPTS
        last = None
        for _ in range(attempts):
            if not self._fixed_port:
                self.port = util.free_port(self.addr)
            try:
                self._start_once(timeout)
                return self
            except HarnessError as e:
                last = e
                if "Address already in use" not in util.tail(self.logfile):
                    raise
        raise last

    def _start_once(self, timeout):
        self._write_config()
        self.known_hosts.write_text(self.known_hosts_line())
        util.run([util.SSHD, "-t", "-f", self.config], timeout=30)
        if self.pidfile.exists():
            self.pidfile.unlink()
        if self.logfile.exists():
            self.logfile.rename(self.logfile.with_suffix(".log.old"))
        with open(self.workdir / "sshd.stderr", "ab") as err:
            self.proc = subprocess.Popen(
                [util.SSHD, "-D", "-f", str(self.config),
                 "-E", str(self.logfile)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        self.pid = self.proc.pid
        self.registered()
        try:
            deadline = time.monotonic() + timeout

            def pidfile_written():
                if self.proc.poll() is not None:
                    raise HarnessError(
                        "sshd for device %s exited with %s before writing "
                        "its pidfile\n--- %s ---\n%s"
                        % (self.name, self.proc.returncode, self.logfile,
                           util.tail(self.logfile)))
                return self.pidfile.exists()
            util.wait_until(pidfile_written, timeout, interval=0.02,
                            what=lambda: "sshd for device %s wrote no "
                            "pidfile\n%s" % (self.name,
                                             util.tail(self.logfile)))
            util.wait_tcp(self.addr, self.port,
                          timeout=max(1.0, deadline - time.monotonic()),
                          banner=b"SSH-2.0-",
                          alive=lambda: self.proc.poll() is None,
                          what="sshd for device %s" % self.name,
                          log=self.logfile)
        except Exception:
            self.stop()
            raise

    def stop(self):
        """Stop the services, then sshd and every session it forked.
        Safe to call twice and after a failed start."""
        for s in self.services:
            s.stop()
        if self.proc is not None:
            util.kill_tree(self.proc.pid, self.proc, term_timeout=5.0)
            self.proc = None
        # Belt and braces: anything the pidfile still names and that runs
        # our config (e.g. if the Popen handle was lost).
        util.kill_pidfile(self.pidfile, must_contain=str(self.config))
        self.unregistered()

    def __enter__(self):
        return self.start()

    def session_pid(self, prefix, timeout=10):
        """The pid of a process under this device's sshd whose command
        line begins with prefix (e.g. the command of a session)."""
        def find():
            for pid in util.children_of(self.proc.pid):
                if util.pid_cmdline(pid).startswith(prefix):
                    return pid
            return None
        return util.wait_until(find, timeout, what="a process %r on %s"
                               % (prefix, self.name))

    # -- services on the device's address ----------------------------------

    def serve_http(self, port=None, body=None, name=None):
        """Start http.server on this device's address (port None: a free
        one) serving body at "/". Stopped with the device. Returns the
        HttpService (.url, .port, .body)."""
        name = name or "http-%d" % (len(self.services) + 1)
        body = body if body is not None else (
            "hello from %s on %s\n" % (self.name, self.addr))
        svc = HttpService(self.addr, port or util.free_port(self.addr),
                          self.workdir, body, name=name)
        self.services.append(svc)
        return svc.start()

    def serve(self, name, argv, port):
        """Start any server argv that binds this device's address on
        port. Stopped with the device."""
        svc = TcpService(name, argv, self.addr, port, self.workdir)
        self.services.append(svc)
        return svc.start()

    # -- direct access (no bastion) ----------------------------------------

    def ssh_argv(self, cmd=None, key=None, known_hosts=None, tty=False,
                 extra_opts=()):
        """argv for the real ssh client straight to this device with the
        credential (or key), pinned host key, BatchMode, no agent and no
        user config."""
        argv = [util.SSH, "-F", "none",
                "-i", str(key or self.credential),
                "-p", str(self.port),
                "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none",
                "-o", "UserKnownHostsFile=%s" % (known_hosts
                                                 or self.known_hosts),
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "UpdateHostKeys=no",
                "-o", "ConnectTimeout=10",
                "-o", "PasswordAuthentication=no",
                "-o", "KbdInteractiveAuthentication=no",
                "-tt" if tty else "-T"]
        for o in extra_opts:
            argv += ["-o", o]
        argv.append("%s@%s" % (self.login, self.addr))
        if cmd is not None:
            argv += ["--", cmd]
        return argv

    def ssh_direct(self, cmd, key=None, known_hosts=None, input=None,
                   timeout=30, extra_opts=()):
        """Run cmd on the device with the real ssh client. Returns the
        CompletedProcess (returncode, stdout, stderr as text); never raises
        on a non-zero exit."""
        return util.run(self.ssh_argv(cmd, key=key, known_hosts=known_hosts,
                                      extra_opts=extra_opts),
                        timeout=timeout, check=False, input=input)

    # -- policy -------------------------------------------------------------

    def policy_entry(self, vendor, forward_ports=(), description=None,
                     **extra):
        """This device as an entry of the policy's devices: list."""
        d = {
            "name": self.name,
            "vendor": vendor,
            "description": description or "test device %s" % self.name,
            "address": self.addr,
            "port": self.port,
            "login": self.login,
            "credential": str(self.credential),
            "host_key": self.host_key_pub,
            "forward_ports": list(forward_ports),
        }
        d.update(extra)
        return d

    def __repr__(self):
        return "<Device %s %s:%s pid=%s>" % (self.name, self.addr, self.port,
                                             self.pid)
